//! Fixture self-tests, clippy-UI style. Every finding in `fixtures/<rule>/` must be
//! annotated on its line and every annotation must be found:
//!
//! - `//~ RULE`          expected finding on this line
//! - `//~ todo: RULE`    known miss (semgrep's `todoruleid`): must NOT be found yet;
//!   when the rule learns it, the test fails until the marker is upgraded
//! - `//~ mutant: RULE`  clean now; must be found once the file's escape hatches are
//!   removed (see `mutate`)
//! - `//~ hatch: RULE`   this line holds an escape hatch that `mutate` removes; when a
//!   file has no hatch lines for a rule, its mutant lines hold the hatch themselves
//!
//! Each fixture's rendered human output is also an insta snapshot.

use gatelint::config::Config;
use gatelint::engine::{Report, RunOptions, run};
use gatelint::report::render::{Format, render};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod marks;
mod tree;
use marks::{Mark, annotations, file_annotations, is_config_file};
use tree::copy_tree;

/// Files other than Rust that findings may point into: configuration files and
/// SQL migrations.
fn is_annotated_other(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "sql") || is_config_file(path)
}

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Rules whose fixtures are a base revision and a work tree, checked by
/// `tests/against.rs` in temporary git repositories.
const CHECKED_AGAINST_A_BASE: &[&str] = &["config-weakened"];

/// The fixture folders this harness checks.
fn rule_dirs() -> Vec<(String, PathBuf)> {
    every_rule_dir().into_iter().filter(|(id, _)| !CHECKED_AGAINST_A_BASE.contains(&id.as_str())).collect()
}

fn every_rule_dir() -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<_> = std::fs::read_dir(fixture_root())
        .expect("fixtures/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    dirs.sort();
    dirs
}

/// A rule's fixture files: its `.rs` files at any depth (a fixture may be a cargo
/// workspace of its own) and its top-level `gatelint.toml`.
fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, top: bool, out: &mut Vec<PathBuf>) {
        for path in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            if path.is_dir() {
                walk(&path, false, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                || (top && path.file_name().is_some_and(|n| n == "gatelint.toml"))
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, true, &mut files);
    files.sort();
    files
}

/// The fixture files plus the configuration files and migrations at any depth (an
/// included `config.default.toml`, YAML, `.env`, `migrations/*.sql`): findings may
/// point into those too.
fn annotated_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for path in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            if path.is_dir() {
                walk(&path, out);
            } else if is_annotated_other(&path) {
                out.push(path);
            }
        }
    }
    let mut files = fixture_files(dir);
    walk(dir, &mut files);
    files.sort();
    files.dedup();
    files
}

/// The files with a snapshot: the annotated files but the packages' manifests.
fn snapshot_files(dir: &Path) -> Vec<PathBuf> {
    annotated_files(dir).into_iter().filter(|f| f.file_name().is_none_or(|n| n != "Cargo.toml")).collect()
}

/// Checks `paths` with the built-in defaults, or with the `gatelint.toml` of the
/// first path's directory when it has one.
fn check(paths: Vec<PathBuf>) -> Report {
    let dir = if paths[0].is_dir() { paths[0].clone() } else { paths[0].parent().unwrap().to_path_buf() };
    let config_file = dir.join("gatelint.toml");
    let config = if config_file.is_file() {
        Config::load(&config_file).expect("fixture config loads")
    } else {
        Config::defaults()
    };
    run(&RunOptions { paths, jobs: Some(2), staged: false, cache_dir: None, snippets: true, against: None }, &config)
        .expect("fixture run succeeds")
}

fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// Findings of `report` in the file shown as `display`, as (line, rule).
fn found_in(report: &Report, display: &str) -> BTreeSet<(usize, String)> {
    report
        .diagnostics
        .iter()
        .filter(|d| report.db.get(d.loc.file).display == display)
        .map(|d| (report.db.get(d.loc.file).line_col(d.loc.start as usize).line, d.rule.to_string()))
        .collect()
}

#[test]
fn every_rule_has_buggy_and_clean_fixtures() {
    let dirs = every_rule_dir();
    for rule in gatelint::rules::registry() {
        let Some((_, dir)) = dirs.iter().find(|(id, _)| id == rule.id()) else {
            panic!("rule `{}` has no fixtures/{}/ directory", rule.id(), rule.id());
        };
        // A file or a folder of the fixture is named `buggy…` or `clean…` (a rule about
        // migrations has folders of them).
        let names: Vec<String> = annotated_files(dir)
            .iter()
            .flat_map(|p| {
                p.strip_prefix(dir).unwrap().components().map(|c| c.as_os_str().to_string_lossy().into_owned())
            })
            .collect();
        assert!(names.iter().any(|n| n.starts_with("buggy")), "{}: no buggy_* fixture", rule.id());
        assert!(names.iter().any(|n| n.starts_with("clean")), "{}: no clean_* fixture", rule.id());
    }
    for (id, _) in &dirs {
        assert!(gatelint::rules::meta(id).is_some(), "fixtures/{id}/ names no rule");
    }
}

#[test]
fn fixtures_match_their_annotations_exactly() {
    let mut failures = Vec::new();
    let mut expected_total = 0;
    for (_, dir) in rule_dirs() {
        let report = check(vec![dir.clone()]);
        // Findings in files the annotation check does not read (subdirectories) are unexpected.
        let annotated: BTreeSet<String> = annotated_files(&dir).iter().map(|f| relative(f)).collect();
        for d in &report.diagnostics {
            let shown = &report.db.get(d.loc.file).display;
            if !annotated.contains(shown) {
                failures.push(format!("{shown}: `{}` reported in a file without annotations", d.rule));
            }
        }
        for file in annotated_files(&dir) {
            let display = relative(&file);
            let text = std::fs::read_to_string(&file).unwrap();
            let marks = file_annotations(&file, &text);
            let expected: BTreeSet<(usize, String)> =
                marks.iter().filter(|m| m.1 == Mark::Expect).map(|m| (m.0, m.2.clone())).collect();
            expected_total += expected.len();
            let found = found_in(&report, &display);
            for (line, rule) in expected.difference(&found) {
                failures.push(format!("{display}:{line}: expected `{rule}`, not reported"));
            }
            for (line, rule) in found.difference(&expected) {
                let why = match marks.iter().find(|m| m.0 == *line && &m.2 == rule).map(|m| m.1) {
                    Some(Mark::Todo) => "a known miss (`todo:`) is now found: make it an expectation",
                    Some(Mark::Mutant) | Some(Mark::Hatch) => "reported before mutation",
                    _ => "unexpected finding (annotate it or fix the rule)",
                };
                failures.push(format!("{display}:{line}: `{rule}` {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "fixture mismatches:\n{}", failures.join("\n"));
    assert!(expected_total > 0, "fixtures expect nothing: the harness would prove nothing");
}

/// The registered rule `id` (each rule declares its own escape-hatch mutation).
fn rule(id: &str) -> &'static dyn gatelint::rules::AnyRule {
    let slot = gatelint::rules::slot(id).unwrap_or_else(|| panic!("no rule `{id}`"));
    gatelint::rules::registry()[slot]
}

/// Removes a line's escape hatch, as its rule declares.
fn mutate(rule_id: &str, line: &str) -> String {
    rule(rule_id).remove_escape_hatch(line)
}

/// Rules whose escape hatch is the file's name: the mutant copy gets this name.
fn mutant_file_name(rule_id: &str) -> Option<&'static str> {
    rule(rule_id).mutant_file_name()
}

/// Whether a fixture file is a configuration file a Rust file names (an included or
/// run-time `config.default.toml`), not a Rust file or the rule folder's `gatelint.toml`.
fn is_named_config(dir: &Path, file: &Path) -> bool {
    (is_config_file(file) || file.extension().is_some_and(|e| e != "rs")) && file.parent() != Some(dir)
}

/// The fixture package holding `file`: the nearest folder with a `Cargo.toml` between
/// it and the rule's folder.
fn fixture_package(dir: &Path, file: &Path) -> PathBuf {
    let found = file.ancestors().skip(1).take_while(|d| d.starts_with(dir)).find(|d| d.join("Cargo.toml").is_file());
    found.unwrap_or(dir).to_path_buf()
}

#[test]
fn removing_each_escape_hatch_makes_the_rule_fire() {
    let mut failures = Vec::new();
    let mut mutants = 0;
    for (_, dir) in rule_dirs() {
        for file in annotated_files(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            // (A rule that reads the migrations is mutated folder by folder, below.)
            let all: Vec<_> =
                file_annotations(&file, &text).into_iter().filter(|m| !rule(&m.2).reads_migrations()).collect();
            let marks: Vec<_> = all.iter().filter(|m| m.1 == Mark::Mutant).cloned().collect();
            if marks.is_empty() {
                continue;
            }
            // Hatch and mutant lines are mutated; a hatch line must change, and so must
            // a mutant line of a rule with no hatch lines (it holds its own hatch).
            let has_hatch = |rule: &str| all.iter().any(|m| m.1 == Mark::Hatch && m.2 == rule);
            let targets: Vec<_> = all.iter().filter(|m| m.1 == Mark::Hatch || m.1 == Mark::Mutant).cloned().collect();
            let mutated: String = text
                .split_inclusive('\n')
                .enumerate()
                .map(|(i, l)| match targets.iter().find(|m| m.0 == i + 1) {
                    Some(m) => {
                        let out = mutate(&m.2, l);
                        if m.1 == Mark::Hatch || (!has_hatch(&m.2) && mutant_file_name(&m.2).is_none()) {
                            assert_ne!(out, l, "{}:{}: mutation changed nothing", file.display(), i + 1);
                        }
                        out
                    }
                    None => l.to_string(),
                })
                .collect();
            let tmp = tempfile::tempdir().unwrap();
            // A Rust file is checked alone; a configuration file with the package that
            // names it, which is copied whole.
            let (checked, target) = if is_named_config(&dir, &file) {
                let package = fixture_package(&dir, &file);
                let copy = tmp.path().join("package");
                copy_tree(&package, &copy);
                (copy.clone(), copy.join(file.strip_prefix(&package).unwrap()))
            } else {
                let name = marks.iter().find_map(|m| mutant_file_name(&m.2)).map(std::ffi::OsStr::new);
                let target = tmp.path().join(name.unwrap_or_else(|| file.file_name().unwrap()));
                (target.clone(), target)
            };
            std::fs::write(&target, mutated).unwrap();
            let report = check(vec![checked]);
            let target = std::fs::canonicalize(&target).unwrap();
            let Some(display) = report
                .db
                .files
                .iter()
                .map(|f| f.display.clone())
                .find(|d| std::fs::canonicalize(d).is_ok_and(|d| d == target))
            else {
                failures.push(format!("{}: the mutant copy was not read", file.display()));
                continue;
            };
            // Only the mutated rules are compared: removing a suppression's reason also
            // brings back the finding it suppressed, which is another rule's business.
            let mutated_rules: BTreeSet<&str> = marks.iter().map(|m| m.2.as_str()).collect();
            let found: BTreeSet<(usize, String)> =
                found_in(&report, &display).into_iter().filter(|(_, r)| mutated_rules.contains(r.as_str())).collect();
            let expected: BTreeSet<(usize, String)> = marks.iter().map(|m| (m.0, m.2.clone())).collect();
            mutants += expected.len();
            for (line, rule) in expected.difference(&found) {
                failures.push(format!("{}:{line}: mutant survived: `{rule}` did not fire", file.display()));
            }
            for (line, rule) in found.difference(&expected) {
                failures.push(format!("{}:{line}: mutation made `{rule}` fire on an unmarked line", file.display()));
            }
        }
    }
    for (_, dir) in rule_dirs() {
        mutants += mutate_folder(&dir, &mut failures);
    }
    assert!(failures.is_empty(), "mutation check:\n{}", failures.join("\n"));
    assert!(mutants > 0, "no mutant lines: the mutation check would prove nothing");
}

/// The mutation check of the rules that read the migrations, whose escape hatch is
/// often in another file than the code it protects (the unique index a clean upsert
/// needs): per rule, a copy of the fixture folder with every hatch line of the rule
/// mutated, in every file, must report the rule on exactly its expected and mutant
/// lines. Returns the number of mutant lines checked.
fn mutate_folder(dir: &Path, failures: &mut Vec<String>) -> usize {
    let files: Vec<(PathBuf, String)> =
        annotated_files(dir).into_iter().map(|f| (f.clone(), std::fs::read_to_string(&f).unwrap())).collect();
    let marks: Vec<(PathBuf, (usize, Mark, String))> = files
        .iter()
        .flat_map(|(f, text)| file_annotations(f, text).into_iter().map(move |m| (f.clone(), m)))
        .filter(|(_, m)| rule(&m.2).reads_migrations())
        .collect();
    let rules: BTreeSet<&str> = marks.iter().filter(|(_, m)| m.1 == Mark::Mutant).map(|(_, m)| m.2.as_str()).collect();
    let mut checked = 0;
    for id in rules {
        let has_hatch = marks.iter().any(|(_, m)| m.1 == Mark::Hatch && m.2 == id);
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("fixture");
        copy_tree(dir, &copy);
        for (file, text) in &files {
            let targets: Vec<_> = marks
                .iter()
                .filter(|(f, m)| f == file && m.2 == id && (m.1 == Mark::Hatch || (!has_hatch && m.1 == Mark::Mutant)))
                .map(|(_, m)| m.clone())
                .collect();
            if targets.is_empty() {
                continue;
            }
            let mutated: String = text
                .split_inclusive('\n')
                .enumerate()
                .map(|(i, l)| match targets.iter().find(|m| m.0 == i + 1) {
                    Some(m) => {
                        let out = mutate(&m.2, l);
                        if out == l {
                            failures.push(format!("{}:{}: mutation changed nothing", file.display(), i + 1));
                        }
                        out
                    }
                    None => l.to_string(),
                })
                .collect();
            std::fs::write(copy.join(file.strip_prefix(dir).unwrap()), mutated).unwrap();
        }
        let report = check(vec![copy.clone()]);
        for (file, text) in &files {
            let target = std::fs::canonicalize(copy.join(file.strip_prefix(dir).unwrap())).unwrap();
            let display = report
                .db
                .files
                .iter()
                .map(|f| f.display.clone())
                .find(|d| std::fs::canonicalize(d).is_ok_and(|d| d == target));
            let found: BTreeSet<usize> = display
                .map(|d| found_in(&report, &d).into_iter().filter(|(_, r)| r == id).map(|(l, _)| l).collect())
                .unwrap_or_default();
            let expected: BTreeSet<usize> = file_annotations(file, text)
                .into_iter()
                .filter(|m| m.2 == id && matches!(m.1, Mark::Expect | Mark::Mutant))
                .map(|m| m.0)
                .collect();
            checked += file_annotations(file, text).iter().filter(|m| m.2 == id && m.1 == Mark::Mutant).count();
            for line in expected.difference(&found) {
                failures.push(format!("{}:{line}: `{id}` did not fire once its hatches were removed", file.display()));
            }
            for line in found.difference(&expected) {
                failures.push(format!("{}:{line}: mutation made `{id}` fire on an unmarked line", file.display()));
            }
        }
    }
    checked
}

/// `<rule>__<path below the rule's folder, `/` as `__`, no extension>` (a dot file,
/// `.env.example`, keeps its name but the leading dot).
fn snapshot_name(file: &Path) -> String {
    let rule_dir = fixture_root().join(file.strip_prefix(fixture_root()).unwrap().components().next().unwrap());
    let rule = rule_dir.file_name().unwrap().to_string_lossy();
    let below = file.strip_prefix(&rule_dir).unwrap();
    let dot_file = below.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
    let below = if dot_file {
        below.with_file_name(below.file_name().unwrap().to_string_lossy().trim_start_matches('.'))
    } else {
        below.with_extension("")
    };
    let parts: Vec<String> = below.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    format!("{rule}__{}", parts.join("__"))
}

#[test]
fn rendered_diagnostics_match_snapshots() {
    for (_, dir) in rule_dirs() {
        let mut report = check(vec![dir.clone()]);
        let all = std::mem::take(&mut report.diagnostics);
        for file in snapshot_files(&dir) {
            let display = relative(&file);
            report.diagnostics = all.iter().filter(|d| report.db.get(d.loc.file).display == display).cloned().collect();
            report.files_checked = 1;
            let output = render(Format::Human, &report, gatelint::report::render::Style::default());
            insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(snapshot_name(&file), output);
            });
        }
    }
}

/// Snapshots whose fixture is gone must be deleted, not left to rot.
#[test]
fn no_unreferenced_snapshots() {
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for (_, dir) in rule_dirs() {
        for file in snapshot_files(&dir) {
            expected.insert(format!("{}.snap", snapshot_name(&file)));
        }
    }
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut stray = Vec::new();
    for entry in std::fs::read_dir(&snapshots).into_iter().flatten() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        // (`tests/cli.rs` and `tests/against.rs` check their own.)
        let cli_snapshot = name.starts_with("cli__") || name.starts_with("against__");
        if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            stray.push(format!("{name} (pending: review it with `cargo insta review` or delete it)"));
        } else if !cli_snapshot && !expected.contains(&name) {
            stray.push(format!("{name} (no fixture produces it)"));
        }
    }
    assert!(stray.is_empty(), "stray snapshots in tests/snapshots:\n{}", stray.join("\n"));
}

#[test]
fn annotation_parser_reads_all_three_marks() {
    let text = "a(); //~ r1\nb(); //~ todo: r2\nc(); //~ mutant: r1, r3\n// ~ not a mark? it is\nlet s = \"//~ r9\";\n// marker //~ hatch: r4\n";
    let marks = annotations(text);
    assert_eq!(
        marks,
        vec![
            (1, Mark::Expect, "r1".to_string()),
            (2, Mark::Todo, "r2".to_string()),
            (3, Mark::Mutant, "r1".to_string()),
            (3, Mark::Mutant, "r3".to_string()),
            (4, Mark::Expect, "not a mark? it is".to_string()),
            (6, Mark::Hatch, "r4".to_string()),
        ]
    );
}

/// The allowlist's escape hatch is the entry itself: removing one makes its
/// function a finding at its name.
#[test]
fn removing_an_allowlist_entry_makes_its_function_fire() {
    let dir = fixture_root().join("insert-allowlist");
    let toml = std::fs::read_to_string(dir.join("gatelint.toml")).unwrap();
    let blocks: Vec<&str> = toml.split("\n\n").collect();
    let clean = ["OrgHandler::import_node", "register_agent", "create_workspace"];
    for name in clean {
        let tmp = tempfile::tempdir().unwrap();
        for file in fixture_files(&dir).iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
            std::fs::copy(file, tmp.path().join(file.file_name().unwrap())).unwrap();
        }
        let kept: Vec<&str> = blocks.iter().copied().filter(|b| !b.contains(&format!("name = \"{name}\""))).collect();
        assert_eq!(kept.len() + 1, blocks.len(), "exactly one entry names {name}");
        std::fs::write(tmp.path().join("gatelint.toml"), kept.join("\n\n")).unwrap();
        let report = check(vec![tmp.path().to_path_buf()]);
        let function = name.rsplit("::").next().unwrap();
        let fired = report.diagnostics.iter().any(|d| {
            d.rule == "insert-allowlist"
                && d.message.contains("is not in the insert allowlist")
                && d.message.contains(function)
        });
        assert!(fired, "removing the entry for `{name}` did not make insert-allowlist fire");
    }
}
