//! docs/ci.md, run as written: a fresh cargo workspace gets the files that page shows
//! (the tool crate, the workspace manifest, the `cargo lint` alias, the pre-commit
//! hook) with the gatelint dependency pointed at this checkout, a small handler crate
//! with one bug of each incident rule, and the commands of its GitHub Actions workflow and its
//! pre-commit hook are run verbatim. Then `cargo install --path` and the installed
//! `gatelint` / `cargo gatelint`.
//!
//! Offline: everything builds from the crates `cargo test` already fetched, and the
//! builds share one target directory under this checkout's `target/`, so only the first
//! run compiles gatelint again.

use std::path::{Path, PathBuf};
use std::process::Command;

const CI_DOC: &str = include_str!("../docs/ci.md");

/// The code blocks of docs/ci.md marked with a file name: (file, text).
fn documented_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut lines = CI_DOC.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        if let Some(file) = info.split_whitespace().find_map(|w| w.strip_prefix("file=")) {
            files.push((file.to_string(), body.join("\n") + "\n"));
        }
    }
    files
}

fn documented(file: &str) -> String {
    documented_files().into_iter().find(|(f, _)| f == file).unwrap_or_else(|| panic!("docs/ci.md shows no `{file}`")).1
}

/// The value of the first `key: value` line of a YAML text whose value contains `needle`.
fn yaml_value(yaml: &str, key: &str, needle: &str) -> String {
    yaml.lines()
        .filter_map(|l| l.trim_start().trim_start_matches("- ").strip_prefix(key))
        .map(str::trim)
        .find(|v| v.contains(needle))
        .unwrap_or_else(|| panic!("no `{key}` with `{needle}` in:\n{yaml}"))
        .to_string()
}

const BUGGY_HANDLER: &str = r#"use sqlx::PgPool;

pub const LISTEN_ADDR: &str = "0.0.0.0:8080";

pub async fn import_tree(pool: &PgPool, names: &[String]) -> sqlx::Result<()> {
    for name in names {
        sqlx::query("INSERT INTO workspaces (name) VALUES ($1)").bind(name).execute(pool).await?;
    }
    Ok(())
}
"#;

const CLEAN_HANDLER: &str = r#"use sqlx::PgPool;

pub const LISTEN_ADDR: &str = "127.0.0.1:8080";

pub async fn import_tree(pool: &PgPool, names: &[String]) -> sqlx::Result<()> {
    for name in names {
        sqlx::query("INSERT INTO workspaces (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(pool)
            .await?;
    }
    Ok(())
}
"#;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A workspace laid out as docs/ci.md says, with a handler crate holding `handler`.
fn workspace(root: &Path, handler: &str) {
    let checkout = env!("CARGO_MANIFEST_DIR");
    for (file, text) in documented_files() {
        if file.starts_with(".github/") {
            continue;
        }
        let text = match file.as_str() {
            // The documented git dependency, pointed at this checkout.
            "tools/gatelint/Cargo.toml" => {
                let (dependency, rest): (Vec<&str>, Vec<&str>) =
                    text.lines().partition(|l| l.trim_start().starts_with("gatelint = "));
                assert_eq!(dependency.len(), 1, "one gatelint dependency line in:\n{text}");
                assert!(dependency[0].contains("git = "), "the documented dependency is a git one");
                format!("{}\ngatelint = {{ path = {checkout:?} }}\n", rest.join("\n"))
            }
            _ => text,
        };
        write(root, &file, &text);
    }
    write(
        root,
        "crates/handlers/Cargo.toml",
        "[package]\nname = \"handlers\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(root, "crates/handlers/src/lib.rs", "pub mod import;\n");
    write(root, "crates/handlers/src/import.rs", handler);
    // The versions this checkout is tested with, so the build needs no network.
    std::fs::copy(Path::new(checkout).join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
}

/// The target directory the builds of this test share.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("tool-crate-target")
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `command` with `sh -c` in `dir`, offline, with this test's cargo first on PATH.
fn sh(dir: &Path, command: &str, extra_path: Option<&Path>) -> Ran {
    let cargo_dir = Path::new(env!("CARGO")).parent().unwrap().to_path_buf();
    let mut path: Vec<PathBuf> = extra_path.into_iter().map(Path::to_path_buf).collect();
    path.push(cargo_dir);
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    let out = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("CARGO_TARGET_DIR", shared_target())
        .env("CARGO_NET_OFFLINE", "true")
        // Built once per run: incremental state would only double its disk.
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TERM_COLOR", "never")
        // The documented workspace sets no profile: keep its build small.
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env_remove("GATELINT_CACHE_DIR")
        .output()
        .expect("sh runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `(rule, line)` of every GitHub annotation (`::error file=…,line=N,…,title=gatelint RULE::…`).
fn annotations(stdout: &str) -> Vec<(String, usize)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::"))
        .map(|l| {
            let properties = l.split("::").next().unwrap();
            let field = |name: &str| {
                properties.split([' ', ',']).skip_while(|p| !p.starts_with(name)).collect::<Vec<_>>().join(" ")
            };
            let rule = field("title=").rsplit(' ').next().unwrap().to_string();
            let line = field("line=").trim_start_matches("line=").split(' ').next().unwrap().parse().unwrap();
            (rule, line)
        })
        .collect()
}

#[test]
fn the_documented_tool_crate_workflow_and_hook_run_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    workspace(root, BUGGY_HANDLER);

    // The GitHub Actions step, verbatim.
    let workflow = documented(".github/workflows/gatelint.yml");
    let step = yaml_value(&workflow, "run:", "check");
    let ci = sh(root, &step, None);
    assert_eq!(ci.code, 1, "a finding fails the job\nstdout:\n{}\nstderr:\n{}", ci.stdout, ci.stderr);
    let expected = [("wildcard-listen-default".to_string(), 3), ("non-idempotent-insert".to_string(), 7)];
    assert_eq!(annotations(&ci.stdout), expected, "stdout:\n{}", ci.stdout);
    assert!(ci.stdout.contains("file=crates/handlers/src/import.rs,"), "{}", ci.stdout);
    let sarif_file = yaml_value(&workflow, "sarif_file:", "sarif");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(&sarif_file)).expect("the SARIF file is written"))
            .expect("valid JSON");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let mut rules: Vec<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    rules.sort();
    assert_eq!(rules, ["non-idempotent-insert", "wildcard-listen-default"]);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "crates/handlers/src/import.rs"
    );

    // The tool crate's own build never pulls in jemalloc (it is opt-in).
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"gatelint-tool\""), "the tool crate is in the workspace");
    assert!(!lock.contains("tikv-jemalloc"), "jemalloc is not forced on the tool crate");

    // `cargo run -p … -- check .` from a crate folder, as the page shows it.
    let run = sh(&root.join("crates/handlers"), "cargo run -p gatelint-tool -- check . --format concise", None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("src/import.rs:3:31: error[wildcard-listen-default]"), "{}", run.stdout);
    assert!(run.stdout.contains("src/import.rs:7:21: error[non-idempotent-insert]"), "{}", run.stdout);

    // The pre-commit hook's entry, with a staged file's name as pre-commit passes it.
    let hook = documented(".pre-commit-config.yaml");
    let entry = yaml_value(&hook, "entry:", "gatelint");
    let commit = sh(root, &format!("{entry} crates/handlers/src/import.rs"), None);
    assert_eq!(commit.code, 1, "{}\n{}", commit.stdout, commit.stderr);
    assert!(commit.stdout.contains("error[non-idempotent-insert]"), "{}", commit.stdout);

    // `cargo lint install-hook`: the hook runs the tool crate, and fails the commit.
    let git = |args: &str| {
        let out = sh(root, &format!("git -c user.name=t -c user.email=t@example.invalid {args}"), None);
        assert_eq!(out.code, 0, "git {args}: {}", out.stderr);
    };
    git("init -q");
    git("add crates/handlers/src/import.rs");
    let install = sh(root, "cargo lint install-hook", None);
    assert_eq!(install.code, 0, "{}", install.stderr);
    let script = std::fs::read_to_string(root.join(".git/hooks/pre-commit")).unwrap();
    assert!(script.contains("exec cargo run --quiet --package gatelint-tool -- check --staged"), "{script}");
    let hook = sh(root, "sh .git/hooks/pre-commit", None);
    assert_eq!(hook.code, 1, "the staged bug fails the commit: {}\n{}", hook.stdout, hook.stderr);
    assert!(hook.stdout.contains("error[non-idempotent-insert]"), "{}", hook.stdout);

    // The fixed handler passes the same step.
    write(root, "crates/handlers/src/import.rs", CLEAN_HANDLER);
    let clean = sh(root, &step, None);
    assert_eq!(clean.code, 0, "stdout:\n{}\nstderr:\n{}", clean.stdout, clean.stderr);
    assert_eq!(annotations(&clean.stdout), []);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(&sarif_file)).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn cargo_install_gives_gatelint_and_cargo_gatelint() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    workspace(&root, BUGGY_HANDLER);
    let install_root = tmp.path().join("install");
    // As docs/ci.md says, from a clone: `cargo install --locked --path .` (a debug
    // build here, sharing the other builds' target directory).
    let install = sh(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &format!("cargo install --quiet --locked --path . --debug --root '{}'", install_root.display()),
        None,
    );
    assert_eq!(install.code, 0, "{}", install.stderr);
    let bin = install_root.join("bin");
    for command in ["gatelint check .", "cargo gatelint check ."] {
        let out = sh(&root, &format!("{command} --format concise"), Some(&bin));
        assert_eq!(out.code, 1, "{command}: {}", out.stderr);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines,
            [
                "crates/handlers/src/import.rs:3:31: error[wildcard-listen-default]: listen default \
                 `\"0.0.0.0:8080\"` binds every network interface (listen constant `LISTEN_ADDR`)",
                "crates/handlers/src/import.rs:7:21: error[non-idempotent-insert]: INSERT INTO `workspaces` runs \
                 in a `for` loop in `import_tree` without an idempotency guard",
                "2 errors, 0 warnings in 3 files",
            ],
            "{command}: {}",
            out.stdout
        );
    }
}
