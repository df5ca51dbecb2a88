//! `scripts/new-rule`, run as a developer runs it: in a copy of this repository it
//! creates a rule, and the copy's meta-tests (registry, docs sections, fixtures with
//! their annotations and mutation, snapshots, docs pages, import graph) pass with it,
//! after recording its new snapshot and docs page the documented way. Offline, in the
//! build directory the tool-crate test shares.

use std::path::{Path, PathBuf};
use std::process::Command;

/// This repository's files (tracked, and new ones not ignored), copied to `to`.
fn copy_repository(to: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .output()
        .expect("git runs");
    assert!(listed.status.success(), "git ls-files: {}", String::from_utf8_lossy(&listed.stderr));
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(name).into_owned());
        let from = root.join(&rel);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let target = to.join(&rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&from, &target).unwrap();
    }
}

fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("tool-crate-target"))
        .env("CARGO_NET_OFFLINE", "true")
        // Built once per run: incremental state would only double its disk.
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TERM_COLOR", "never")
        .envs(env.iter().copied())
        // Recording snapshots is what a developer does on their machine, not in CI.
        .env_remove("CI")
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn a_new_rule_from_the_scaffold_passes_the_meta_tests() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path();
    copy_repository(copy);

    let (ok, out) = run(copy, "bash", &["scripts/new-rule", "example-check"], &[]);
    assert!(ok, "{out}");
    for created in [
        "src/rules/example_check/mod.rs",
        "rules/example-check.toml",
        "fixtures/example-check/buggy_example.rs",
        "fixtures/example-check/clean_example.rs",
    ] {
        assert!(copy.join(created).is_file(), "{created} was not created");
    }
    let readme = std::fs::read_to_string(copy.join("README.md")).unwrap();
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `")).collect();
    assert!(rows.iter().any(|r| r.starts_with("| `example-check` |")), "a README row: {rows:#?}");
    assert!(
        readme.find("| `example-check` |") > readme.find("| `unused-suppression` |"),
        "the row joins the rules table"
    );
    let registry = std::fs::read_to_string(copy.join("src/rules/mod.rs")).unwrap();
    assert!(registry.contains("    \"example-check\" => example_check::ExampleCheck,\n}"), "{registry}");
    let (again, out) = run(copy, "bash", &["scripts/new-rule", "example-check"], &[]);
    assert!(!again && out.contains("exists already"), "a second run must refuse: {out}");

    let cargo = env!("CARGO");
    // (The README's demo numbers change with every new fixture: a developer updates
    // them by hand, so that check is left out here.)
    let meta_tests = [
        "test",
        "--lib",
        "--test",
        "fixtures",
        "--test",
        "docs",
        "--test",
        "architecture",
        "--",
        "--skip",
        "the_readme_shows_the_demo_run_as_it_is",
    ];
    // The snapshot and the docs page of the new rule, recorded as the script says.
    let (ok, out) = run(copy, cargo, &meta_tests, &[("INSTA_UPDATE", "always"), ("GATELINT_UPDATE_DOCS", "1")]);
    assert!(ok, "{out}");
    let snapshot = std::fs::read_to_string(copy.join("tests/snapshots/example-check__buggy_example.snap")).unwrap();
    assert!(snapshot.contains("warning[example-check]: call to `example_forbidden_call`"), "{snapshot}");
    assert!(std::fs::read_to_string(copy.join("docs/rules/example-check.md")).unwrap().starts_with("# example-check"));
    // Then as CI runs them.
    let (ok, out) = run(copy, cargo, &meta_tests, &[("INSTA_UPDATE", "no")]);
    assert!(ok, "{out}");
    assert!(out.contains("test fixtures_match_their_annotations_exactly ... ok"), "{out}");
    assert!(out.contains("test removing_each_escape_hatch_makes_the_rule_fire ... ok"), "{out}");
}
