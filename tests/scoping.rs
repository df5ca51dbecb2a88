//! Naming a folder or a file reports what a run over the whole tree reports there: the
//! crates that contain the named paths (and their workspace dependencies) are read for
//! facts, and only the named paths are reported.

use gatelint::config::Config;
use gatelint::engine::{Report, RunOptions, run};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn check(paths: Vec<PathBuf>, config: &Config) -> Report {
    run(&RunOptions { paths, jobs: Some(2), staged: false, cache_dir: None, snippets: false, against: None }, config)
        .expect("the run succeeds")
}

/// (file, line, rule, message) of every finding in a checked file (the configuration
/// file's findings are the same whatever is named).
fn findings(report: &Report) -> BTreeSet<(String, usize, String, String)> {
    report
        .diagnostics
        .iter()
        .filter(|d| !report.db.get(d.loc.file).display.ends_with("gatelint.toml"))
        .map(|d| {
            let file = report.db.get(d.loc.file);
            (file.display.clone(), file.line_col(d.loc.start as usize).line, d.rule.to_string(), d.message.clone())
        })
        .collect()
}

/// Every folder and `.rs` file under `dir` (itself excluded).
fn paths_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.push(path.clone());
            paths_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// For every folder and file under `tree`: the run naming it equals the whole run's
/// findings under it.
fn assert_subsets(tree: &Path, config: &Config) -> usize {
    let whole = findings(&check(vec![tree.to_path_buf()], config));
    assert!(!whole.is_empty(), "{}: the tree has findings to compare", tree.display());
    let mut named = Vec::new();
    paths_under(tree, &mut named);
    let mut failures = Vec::new();
    for path in &named {
        let shown = relative(path);
        let expected: BTreeSet<_> = whole
            .iter()
            .filter(|(file, ..)| *file == shown || file.starts_with(&format!("{shown}/")))
            .cloned()
            .collect();
        let mut found = findings(&check(vec![path.clone()], config));
        // A named folder also reports the configuration files its code compiles in
        // (`include_str!("../config.default.toml")`), wherever they are.
        found.retain(|(file, ..)| file.ends_with(".rs") || *file == shown || file.starts_with(&format!("{shown}/")));
        if found != expected {
            let missing: Vec<_> = expected.difference(&found).collect();
            let extra: Vec<_> = found.difference(&expected).collect();
            failures.push(format!("{shown}:\n  missing {missing:#?}\n  extra {extra:#?}"));
        }
    }
    assert!(failures.is_empty(), "named runs differ from the whole run:\n{}", failures.join("\n"));
    named.len()
}

#[test]
fn a_named_folder_or_file_of_a_multi_crate_workspace_reports_what_the_whole_run_reports_there() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/non-idempotent-insert/crates");
    let compared = assert_subsets(&root, &Config::defaults());
    assert!(compared > 30, "{compared} paths compared");
}

#[test]
fn a_named_fixture_folder_or_file_reports_what_the_whole_run_reports_there() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let dir = entry.unwrap().path();
        // (A base revision and a work tree, checked by `tests/against.rs`.)
        if dir.ends_with("config-weakened") {
            continue;
        }
        let config_file = dir.join("gatelint.toml");
        let config = if config_file.is_file() {
            Config::load(&config_file).expect("fixture config")
        } else {
            Config::defaults()
        };
        assert_subsets(&dir, &config);
    }
}
