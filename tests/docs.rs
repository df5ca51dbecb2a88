//! The rule pages in `docs/rules/` are generated from the rules themselves: each
//! `docs/rules/<id>.md` is a title line plus exactly what `gatelint explain <id>`
//! prints ([`gatelint::rules::explain`]), and `docs/rules/README.md` is the index.
//! This test fails when a page is stale or missing or names no rule; with
//! `GATELINT_UPDATE_DOCS=1` it rewrites them instead (as `INSTA_UPDATE=always` does
//! for snapshots).

use gatelint::rules::{RuleMeta, all_meta, explain};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const UPDATE_VAR: &str = "GATELINT_UPDATE_DOCS";

fn page(meta: &RuleMeta) -> String {
    format!("# {}\n\n{}", meta.id, explain(meta))
}

fn index(metas: &[RuleMeta]) -> String {
    let mut out = String::from(
        "# Rules\n\n\
         Every rule gatelint has, with its default severity. Each page is what\n\
         `gatelint explain <rule>` prints; `gatelint rules` lists the same table.\n\n\
         | rule | default severity | summary |\n\
         | --- | --- | --- |\n",
    );
    for m in metas {
        let mut severity = m.default_severity.map_or("off", |s| s.as_str()).to_string();
        if !m.configurable {
            severity.push_str(" (always)");
        }
        let summary = m.summary.replace('|', "\\|");
        out.push_str(&format!("| [`{id}`]({id}.md) | {severity} | {summary} |\n", id = m.id));
    }
    out
}

/// Every generated file of `docs/rules/`, by file name.
fn expected() -> BTreeMap<String, String> {
    let metas = all_meta();
    let mut files: BTreeMap<String, String> = metas.iter().map(|m| (format!("{}.md", m.id), page(m))).collect();
    files.insert("README.md".into(), index(&metas));
    files
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join("rules")
}

#[test]
fn rule_pages_are_generated_from_the_rules() {
    let dir = docs_dir();
    let expected = expected();
    let mut present: BTreeMap<String, String> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.expect("a readable docs/rules entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            if path.extension().is_some_and(|e| e == "md") {
                present.insert(name, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }

    if std::env::var_os(UPDATE_VAR).is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::create_dir_all(&dir).expect("creates docs/rules");
        for name in present.keys().filter(|n| !expected.contains_key(*n)) {
            std::fs::remove_file(dir.join(name)).expect("removes a page that names no rule");
        }
        for (name, text) in &expected {
            if present.get(name) != Some(text) {
                std::fs::write(dir.join(name), text).expect("writes a rule page");
            }
        }
        return;
    }

    let mut problems = Vec::new();
    for (name, text) in &expected {
        match present.get(name) {
            None => problems.push(format!("docs/rules/{name} is missing")),
            Some(have) if have != text => problems.push(format!("docs/rules/{name} is stale")),
            Some(_) => {}
        }
    }
    for name in present.keys().filter(|n| !expected.contains_key(*n)) {
        problems.push(format!("docs/rules/{name} documents no rule"));
    }
    assert!(
        problems.is_empty(),
        "{}\nThe rule pages are generated from each rule's `//!` documentation and rules/<id>.toml; \
         regenerate them with:\n    {UPDATE_VAR}=1 cargo test --test docs\n",
        problems.join("\n")
    );
}

#[test]
fn the_readme_rule_table_lists_every_rule_with_its_page() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `")).collect();
    let mut missing = Vec::new();
    for m in all_meta() {
        let row = format!("| `{}` |", m.id);
        let link = format!("(docs/rules/{}.md)", m.id);
        if !rows.iter().any(|r| r.starts_with(&row) && r.contains(&link)) {
            missing.push(m.id);
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's rules table needs a row for each rule, linking its page (`| `id` | default | prevents | [page](docs/rules/id.md) |`): {missing:?}"
    );
}

/// The README shows the demo run (`check fixtures/`): its diagnostic, its summary line
/// and its size must be what the binary prints.
#[test]
fn the_readme_shows_the_demo_run_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatelint"))
        .args(["check", "fixtures/", "--no-cache", "--color", "never"])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let printed = String::from_utf8(out.stdout).unwrap();
    // The README's block: the first code block that starts with `error[`.
    let start = readme.find("```\nerror[").expect("a demo block in the README") + 4;
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let (diagnostic, summary) = block.trim_end().rsplit_once("\n\n").unwrap();
    assert!(printed.contains(&format!("{diagnostic}\n\n")), "the README's diagnostic is not printed:\n{diagnostic}");
    assert!(
        printed.ends_with(&format!("{summary}\n")),
        "summary: README {summary:?}, printed {:?}",
        printed.lines().last()
    );
    let lines = printed.lines().count();
    let claimed: usize = readme
        .split("prints about ")
        .nth(1)
        .and_then(|s| s.split(" lines").next())
        .map(|n| n.replace(' ', "").parse().unwrap())
        .expect("the README says how many lines");
    assert!(lines.abs_diff(claimed) * 20 <= claimed, "README says about {claimed} lines, it prints {lines}");
}
