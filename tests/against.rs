//! `gatelint check --against REV` in temporary git repositories: the fixtures of
//! `config-weakened` (`fixtures/config-weakened/<case>/base` is committed as REV,
//! `<case>/head` is the working tree), checked exactly against their inline
//! annotations (`#~ rule` in TOML, `//~ rule` in Rust; the same marks as
//! `tests/fixtures.rs`), rendered into snapshots, and mutated (each acceptance
//! removed: the weakening it accepted must be reported); then the errors: a missing
//! revision, a malformed configuration at REV, no git at all.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod marks;
mod tree;
use marks::{Mark, file_annotations};
use tree::copy_tree;

const RULE: &str = "config-weakened";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A repository whose only commit (`HEAD`) is `base` and whose work tree is `head`.
fn repository(base: &Path, head: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    git(tmp.path(), &["init", "-q"]);
    copy_tree(base, tmp.path());
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "--allow-empty", "-m", "base"]);
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != ".git") {
            if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) }.unwrap();
        }
    }
    copy_tree(head, tmp.path());
    tmp
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn gatelint(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_gatelint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("binary runs");
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// (path, line, rule) of every active finding of a JSON report (suppressed ones
/// are listed too, marked).
fn findings(run: &Run) -> BTreeSet<(String, usize, String)> {
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}{}", run.stdout, run.stderr));
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["suppressed"].is_null())
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["start"]["line"].as_u64().unwrap() as usize,
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The files of a case's work tree, relative to it.
fn files(head: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, top: &Path, out: &mut Vec<PathBuf>) {
        for path in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            if path.is_dir() {
                walk(&path, top, out);
            } else if path.file_name().is_some_and(|n| n != ".keep") {
                out.push(path.strip_prefix(top).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(head, head, &mut out);
    out.sort();
    out
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(RULE);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.iter().all(|c| c.join("base").is_dir() && c.join("head").is_dir()), "a case is base/ and head/");
    cases
}

fn name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

/// The expected (path, line, rule) of a case's work tree with the given marks.
fn expected(head: &Path, marks: &[Mark]) -> BTreeSet<(String, usize, String)> {
    let mut out = BTreeSet::new();
    for file in files(head) {
        let text = std::fs::read_to_string(head.join(&file)).unwrap();
        for (line, mark, rule) in file_annotations(&file, &text) {
            if marks.contains(&mark) {
                out.insert((file.to_string_lossy().replace('\\', "/"), line, rule));
            }
        }
    }
    out
}

fn check_against_base(repo: &Path) -> Run {
    gatelint(repo, &["check", ".", "--against", "HEAD", "--no-cache", "--format", "json"])
}

#[test]
fn fixtures_match_their_annotations_exactly() {
    let mut failures = Vec::new();
    let mut total = 0;
    for case in cases() {
        let repo = repository(&case.join("base"), &case.join("head"));
        let found = findings(&check_against_base(repo.path()));
        let want = expected(&case.join("head"), &[Mark::Expect]);
        total += want.len();
        for miss in want.difference(&found) {
            failures.push(format!("{}: expected {miss:?}, not reported", name(&case)));
        }
        for extra in found.difference(&want) {
            failures.push(format!("{}: unexpected {extra:?}", name(&case)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total >= 12, "the fixtures expect {total} findings: the check would prove little");
}

#[test]
fn removing_each_acceptance_reports_what_it_accepted() {
    let rule = gatelint::rules::registry()[gatelint::rules::slot(RULE).unwrap()];
    let mut mutants = 0;
    for case in cases() {
        let head = case.join("head");
        if expected(&head, &[Mark::Mutant]).is_empty() {
            continue;
        }
        let mutated = tempfile::tempdir().unwrap();
        copy_tree(&head, mutated.path());
        for file in files(&head) {
            let text = std::fs::read_to_string(head.join(&file)).unwrap();
            // Hatch lines must change; a mutant line may hold its own hatch (as in
            // `tests/fixtures.rs`).
            let marks = file_annotations(&file, &text);
            let hatches: Vec<usize> = marks.iter().filter(|m| m.1 == Mark::Hatch).map(|m| m.0).collect();
            let mutants: Vec<usize> = marks.iter().filter(|m| m.1 == Mark::Mutant).map(|m| m.0).collect();
            let out: String = text
                .split_inclusive('\n')
                .enumerate()
                .map(|(i, l)| {
                    if !hatches.contains(&(i + 1)) && !mutants.contains(&(i + 1)) {
                        return l.to_string();
                    }
                    let m = rule.remove_escape_hatch(l);
                    if hatches.contains(&(i + 1)) {
                        assert_ne!(m, l, "{}:{}: the mutation changed nothing", file.display(), i + 1);
                    }
                    m
                })
                .collect();
            std::fs::write(mutated.path().join(&file), out).unwrap();
        }
        let repo = repository(&case.join("base"), mutated.path());
        let found = findings(&check_against_base(repo.path()));
        let want = expected(&head, &[Mark::Expect, Mark::Mutant]);
        mutants += want.len();
        assert_eq!(found, want, "{}: with its acceptances removed", name(&case));
    }
    assert!(mutants >= 3, "only {mutants} mutants: the check would prove little");
}

#[test]
fn rendered_findings_match_snapshots() {
    for case in cases() {
        let repo = repository(&case.join("base"), &case.join("head"));
        let run = gatelint(repo.path(), &["check", ".", "--against", "HEAD", "--no-cache", "--color", "never"]);
        let text = format!("{}{}", run.stdout, run.stderr);
        insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("against__{}", name(&case)), text);
        });
    }
}

#[test]
fn accepted_weakenings_are_sarif_suppressions_with_their_reason() {
    let case = cases().into_iter().find(|c| name(c) == "clean_changes").unwrap();
    let repo = repository(&case.join("base"), &case.join("head"));
    let run = gatelint(repo.path(), &["check", ".", "--against", "HEAD", "--no-cache", "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let justifications: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == RULE)
        .map(|r| r["suppressions"][0]["justification"].as_str().unwrap())
        .collect();
    assert_eq!(
        justifications,
        [
            "vendored protobuf code, checked upstream #~ hatch: config-weakened",
            "require_staff checks the admin role too #~ mutant: config-weakened"
        ]
    );
}

#[test]
fn an_acceptance_already_at_the_base_accepts_nothing_new() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "# gatelint: allow(config-weakened) -- generated\nexclude = [\"gen/**\"]\n";
    std::fs::write(tmp.path().join("gatelint.toml"), base).unwrap();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "base"]);
    // The acceptance line unchanged above a line that now adds a glob.
    let head = "# gatelint: allow(config-weakened) -- generated\nexclude = [\"gen/**\", \"src/**\"]\n";
    std::fs::write(tmp.path().join("gatelint.toml"), head).unwrap();
    let found = findings(&check_against_base(tmp.path()));
    assert_eq!(found, BTreeSet::from([("gatelint.toml".to_string(), 2, RULE.to_string())]));
    // Without --against the acceptance is no unused suppression.
    let run = gatelint(tmp.path(), &["check", ".", "--no-cache", "--format", "json"]);
    assert_eq!(findings(&run), BTreeSet::new());
    // Nor does an old acceptance on the line it sat on, the line edited since.
    let head = "exclude = [\"gen/**\", \"src/**\"] # gatelint: allow(config-weakened) -- generated\n";
    std::fs::write(tmp.path().join("gatelint.toml"), head).unwrap();
    let found = findings(&check_against_base(tmp.path()));
    assert_eq!(found, BTreeSet::from([("gatelint.toml".to_string(), 1, RULE.to_string())]));
    // A new acceptance, in words of its own, does.
    let head = "exclude = [\"gen/**\", \"src/**\"] # gatelint: allow(config-weakened) -- src is checked by the monorepo gate\n";
    std::fs::write(tmp.path().join("gatelint.toml"), head).unwrap();
    assert_eq!(findings(&check_against_base(tmp.path())), BTreeSet::new());
}

#[test]
fn a_configuration_named_by_its_bare_file_name_is_read_at_the_base() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("gatelint.toml"), "include-tests = true\n").unwrap();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "base"]);
    std::fs::write(tmp.path().join("gatelint.toml"), "include-tests = false\n").unwrap();
    let run = gatelint(
        tmp.path(),
        &["check", ".", "--config", "gatelint.toml", "--against", "HEAD", "--no-cache", "--format", "json"],
    );
    assert_eq!(findings(&run), BTreeSet::from([("gatelint.toml".to_string(), 1, RULE.to_string())]), "{}", run.stderr);
    // Without a configuration there is nothing to compare: refused.
    let run = gatelint(tmp.path(), &["check", ".", "--no-config", "--against", "HEAD"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

#[test]
fn a_missing_revision_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["commit", "-q", "--allow-empty", "-m", "base"]);
    let run = gatelint(tmp.path(), &["check", ".", "--against", "origin/no-such-branch", "--no-cache"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--against origin/no-such-branch: no such commit in this repository"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    let outside = tempfile::tempdir().unwrap();
    let run = gatelint(outside.path(), &["check", ".", "--against", "HEAD", "--no-cache"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is not in a git work tree"), "{}", run.stderr);
}

#[test]
fn a_malformed_configuration_at_the_base_is_one_finding_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("gatelint.toml"), "[rules.non-idempotent-insert\ntables = 1\n").unwrap();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "base"]);
    std::fs::write(tmp.path().join("gatelint.toml"), "[rules.non-idempotent-insert]\ntables = [\"workspaces\"]\n")
        .unwrap();
    let run = gatelint(tmp.path(), &["check", ".", "--against", "HEAD", "--no-cache", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let messages: Vec<&str> =
        doc["diagnostics"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].starts_with("the configuration at HEAD does not parse"), "{}", messages[0]);
    assert!(messages[0].contains("HEAD:gatelint.toml:1:"), "names the file and position: {}", messages[0]);
}

#[test]
fn no_stray_against_snapshots() {
    let names: BTreeSet<String> = cases().iter().map(|c| format!("against__{}.snap", name(c))).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if file.starts_with("against__") && file.ends_with(".snap") {
            assert!(names.contains(&file), "{file}: no fixture case of that name");
        }
    }
}
