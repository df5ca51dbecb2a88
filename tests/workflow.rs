//! End-to-end tests of the team workflow in temporary repositories: staged versus
//! working-tree content, baselines, output files and formats, init, the cargo
//! subcommand, and crate-wide facts when only some files are named.

use std::path::Path;
use std::process::Command;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(bin: &str, dir: &Path, args: &[&str]) -> Output {
    run_env(bin, dir, args, &[])
}

/// [`run`] with extra environment variables.
fn run_env(bin: &str, dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    Output {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn gatelint(dir: &Path, args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_gatelint"), dir, args)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn lines_of(out: &Output) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["suppressed"].is_null())
        .map(|d| format!("{}:{}:{}", d["path"].as_str().unwrap(), d["start"]["line"], d["rule"].as_str().unwrap()))
        .collect()
}

const BUGGY: &str = "pub const DEFAULT_LISTEN_ADDR: &str = \":9100\";\n";
const CLEAN: &str = "pub const DEFAULT_LISTEN_ADDR: &str = \"127.0.0.1:9100\";\n";

#[test]
fn staged_content_is_checked_not_the_working_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    write(dir, "Cargo.toml", "[package]\nname = \"x\"\n");
    write(dir, "src/lib.rs", CLEAN);
    write(dir, "src/other.rs", BUGGY);
    git(dir, &["add", "src/lib.rs", "Cargo.toml"]);
    git(dir, &["commit", "-q", "-m", "init"]);

    // Stage a buggy version, then fix it only in the working tree.
    write(dir, "src/lib.rs", BUGGY);
    git(dir, &["add", "src/lib.rs"]);
    write(dir, "src/lib.rs", CLEAN);
    let staged = gatelint(dir, &["check", "--staged", "--format", "json"]);
    assert_eq!(staged.code, 1, "{}", staged.stderr);
    assert_eq!(lines_of(&staged), vec!["src/lib.rs:1:wildcard-listen-default"], "untracked other.rs is not staged");
    let tree = gatelint(dir, &["check", "src/lib.rs"]);
    assert_eq!(tree.code, 0, "the working tree is clean: {}", tree.stdout);

    // The reverse: a clean index and a buggy working tree passes the hook.
    git(dir, &["add", "src/lib.rs"]);
    write(dir, "src/lib.rs", BUGGY);
    assert_eq!(gatelint(dir, &["check", "--staged"]).code, 0);

    // install-hook writes a hook that runs the staged check.
    let hook = gatelint(dir, &["install-hook"]);
    assert_eq!(hook.code, 0, "{}", hook.stderr);
    let script = std::fs::read_to_string(dir.join(".git/hooks/pre-commit")).unwrap();
    assert!(script.contains("check --staged"), "{script}");
}

#[test]
fn named_files_still_see_constants_from_the_rest_of_the_crate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "Cargo.toml", "[package]\nname = \"x\"\n");
    write(dir, "src/consts.rs", "pub const EVERYWHERE: &str = \"0.0.0.0:8080\";\n");
    write(dir, "src/server.rs", "pub fn serve() { let _ = std::net::TcpListener::bind(crate::consts::EVERYWHERE); }\n");
    let full = gatelint(dir, &["check", "--format", "json"]);
    assert_eq!(lines_of(&full), vec!["src/consts.rs:1:wildcard-listen-default"]);
    // Naming only server.rs: the constant lives elsewhere, so nothing is reported in server.rs…
    let server = gatelint(dir, &["check", "src/server.rs", "--format", "json"]);
    assert_eq!(lines_of(&server), Vec::<String>::new());
    // …and naming consts.rs reports what a full run reports there, because server.rs was read.
    let consts = gatelint(dir, &["check", "src/consts.rs", "--format", "json"]);
    assert_eq!(lines_of(&consts), vec!["src/consts.rs:1:wildcard-listen-default"]);
    let human = gatelint(dir, &["check", "src/consts.rs"]);
    assert!(human.stdout.ends_with("1 error, 0 warnings in 1 file\n"), "{}", human.stdout);
}

#[test]
fn baseline_round_trip_survives_moves_and_reports_new_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "src/lib.rs", BUGGY);
    let wrote = gatelint(dir, &["check", "--write-baseline", "gatelint-baseline.json"]);
    assert_eq!(wrote.code, 0, "{}", wrote.stderr);
    assert!(wrote.stderr.contains("wrote 1 baseline entries"), "{}", wrote.stderr);

    let hidden = gatelint(dir, &["check", "--baseline", "gatelint-baseline.json"]);
    assert_eq!(hidden.code, 0, "{}", hidden.stdout);
    assert!(hidden.stdout.ends_with("0 errors, 0 warnings in 1 file (1 baselined)\n"), "{}", hidden.stdout);

    // Code moved down the file: still baselined.
    write(dir, "src/lib.rs", &format!("//! Settings.\n\nuse std::net::SocketAddr;\n\n{BUGGY}"));
    assert_eq!(gatelint(dir, &["check", "--baseline", "gatelint-baseline.json"]).code, 0);

    // A new finding of the same rule next to the baselined one is reported.
    write(dir, "src/lib.rs", &format!("{BUGGY}pub const ADMIN_LISTEN_ADDR: &str = \"0.0.0.0:9443\";\n"));
    let new = gatelint(dir, &["check", "--baseline", "gatelint-baseline.json", "--format", "json"]);
    assert_eq!(new.code, 1);
    assert_eq!(lines_of(&new), vec!["src/lib.rs:2:wildcard-listen-default"]);

    // Fixed code: the entry is stale, listed, and pruned on request (never added).
    write(dir, "src/lib.rs", CLEAN);
    let stale = gatelint(dir, &["check", "--baseline", "gatelint-baseline.json"]);
    assert_eq!(stale.code, 0);
    assert!(stale.stderr.contains("1 baseline entries no longer match"), "{}", stale.stderr);
    let pruned = gatelint(dir, &["check", "--baseline", "gatelint-baseline.json", "--prune-baseline"]);
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    let left: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("gatelint-baseline.json")).unwrap()).unwrap();
    assert_eq!(left["entries"].as_array().unwrap().len(), 0);
}

#[test]
fn one_run_prints_human_and_writes_sarif_and_formats_are_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "src/lib.rs", BUGGY);
    let out = gatelint(dir, &["check", "--format", "human", "--format", "sarif", "--output", "gatelint.sarif"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("error[wildcard-listen-default]"), "{}", out.stdout);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("gatelint.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "wildcard-listen-default");

    let concise = gatelint(dir, &["check", "--format", "concise", "--quiet"]);
    assert_eq!(
        concise.stdout,
        "src/lib.rs:1:39: error[wildcard-listen-default]: listen default `\":9100\"` binds every network interface (listen constant `DEFAULT_LISTEN_ADDR`)\n"
    );
    let quiet = gatelint(dir, &["check", "--quiet", "--color", "never"]);
    assert!(!quiet.stdout.contains("errors,"), "no summary with --quiet: {}", quiet.stdout);

    assert_eq!(gatelint(dir, &["check", "--format", "json", "--format", "sarif"]).code, 2, "two formats on stdout");
}

#[test]
fn deny_warnings_makes_warnings_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "src/lib.rs", BUGGY);
    write(dir, "gatelint.toml", "[rules.wildcard-listen-default]\nseverity = \"warning\"\n");
    assert_eq!(gatelint(dir, &["check"]).code, 0);
    assert_eq!(gatelint(dir, &["check", "--deny-warnings"]).code, 1);
}

#[test]
fn init_writes_a_config_that_loads_back_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "src/lib.rs", CLEAN);
    assert_eq!(gatelint(dir, &["init"]).code, 0);
    let text = std::fs::read_to_string(dir.join("gatelint.toml")).unwrap();
    assert!(text.contains("[rules.non-idempotent-insert]") && text.contains("[rules.direct-provisioner-call.verbs]"));
    let out = gatelint(dir, &["check"]);
    assert_eq!(out.code, 0, "the generated config loads: {}", out.stderr);
    assert_eq!(gatelint(dir, &["init"]).code, 2, "an existing file is kept");
}

#[test]
fn cargo_subcommand_accepts_the_repeated_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "src/lib.rs", BUGGY);
    let out = run(env!("CARGO_BIN_EXE_cargo-gatelint"), dir, &["gatelint", "check", "--format", "concise", "--quiet"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.starts_with("src/lib.rs:1:39: error[wildcard-listen-default]"), "{}", out.stdout);
}

#[test]
fn a_partial_run_neither_reports_nor_prunes_other_files_baseline_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "src/a.rs", BUGGY);
    write(dir, "other/b.rs", BUGGY);
    assert_eq!(gatelint(dir, &["check", "--write-baseline", "bl.json"]).code, 0);
    let partial = gatelint(dir, &["check", "--baseline", "bl.json", "--prune-baseline", "src"]);
    assert_eq!(partial.code, 0, "{}", partial.stderr);
    assert!(!partial.stderr.contains("no longer match") && !partial.stderr.contains("pruned"), "{}", partial.stderr);
    let left: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("bl.json")).unwrap()).unwrap();
    assert_eq!(left["entries"].as_array().unwrap().len(), 2, "other/b.rs was not checked, so its entry stays");
}

#[test]
fn exclude_globs_apply_from_a_subdirectory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "gatelint.toml", "exclude = [\"src/gen/**\"]\n");
    write(dir, "src/gen/g.rs", BUGGY);
    write(dir, "src/a.rs", CLEAN);
    assert_eq!(gatelint(dir, &["check"]).code, 0);
    let from_src = gatelint(&dir.join("src"), &["check"]);
    assert_eq!(from_src.code, 0, "{}", from_src.stdout);
    assert!(from_src.stdout.ends_with("in 1 file\n"), "{}", from_src.stdout);
}

/// A handler folder whose INSERT helper lives elsewhere in the crate.
fn crate_with_handler_folder(dir: &Path) {
    write(dir, "Cargo.toml", "[package]\nname = \"x\"\n");
    write(dir, "src/lib.rs", "pub mod db;\npub mod handlers;\n");
    write(
        dir,
        "src/db.rs",
        "pub async fn create_child(pool: &PgPool, name: &str) {\n    \
         sqlx::query(\"INSERT INTO workspaces (name) VALUES ($1)\").bind(name).execute(pool).await;\n}\n",
    );
    write(
        dir,
        "src/handlers/team.rs",
        "pub async fn expand(pool: &PgPool, names: &[String]) {\n    \
         for name in names {\n        crate::db::create_child(pool, name).await;\n    }\n}\n",
    );
}

#[test]
fn a_folder_inside_src_is_checked_with_the_facts_of_its_whole_crate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    crate_with_handler_folder(dir);
    let full = gatelint(dir, &["check", "--format", "json"]);
    assert_eq!(lines_of(&full), vec!["src/handlers/team.rs:3:non-idempotent-insert"]);
    // Naming the folder: the helper in src/db.rs is still read, and only the folder reported.
    let folder = gatelint(dir, &["check", "src/handlers", "--format", "json"]);
    assert_eq!(lines_of(&folder), vec!["src/handlers/team.rs:3:non-idempotent-insert"]);
    let human = gatelint(dir, &["check", "src/handlers"]);
    assert!(human.stdout.ends_with("1 error, 0 warnings in 1 file\n"), "{}", human.stdout);
    // Run from the folder itself.
    let inside = gatelint(&dir.join("src/handlers"), &["check", "--format", "json"]);
    assert_eq!(lines_of(&inside), vec!["team.rs:3:non-idempotent-insert"]);
    // A folder outside src/ is its own scope: its files are all that is read.
    write(dir, "fixtures/a.rs", BUGGY);
    let fixtures = gatelint(dir, &["check", "fixtures", "--format", "json"]);
    assert_eq!(lines_of(&fixtures), vec!["fixtures/a.rs:1:wildcard-listen-default"]);
}

#[test]
fn a_run_from_a_subfolder_caches_in_the_crates_target_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    crate_with_handler_folder(dir);
    assert_eq!(gatelint(&dir.join("src/handlers"), &["check"]).code, 1);
    assert!(dir.join("target/gatelint-cache").is_dir(), "the cache is in the crate's target/");
    assert!(!dir.join("src/handlers/target").exists(), "no target/ inside the source tree");
}

#[test]
fn an_output_file_for_human_text_is_written_instead_of_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "src/lib.rs", BUGGY);
    for args in [&["check", "-o", "out.txt"][..], &["check", "--format", "human", "--output", "out.txt"]] {
        let out = gatelint(dir, args);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}: the file only");
        assert_eq!(out.stderr, "gatelint: 1 error, 0 warnings in 1 file; wrote out.txt\n", "{args:?}");
        let text = std::fs::read_to_string(dir.join("out.txt")).unwrap();
        assert!(text.starts_with("error[wildcard-listen-default]"), "{text}");
        assert!(text.ends_with("1 error, 0 warnings in 1 file\n"), "{text}");
    }
    let quiet = gatelint(dir, &["check", "-q", "-o", "out.txt"]);
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));
    // Human text still goes to the terminal when only another format has a file.
    let sarif = gatelint(dir, &["check", "-o", "out.sarif"]);
    assert!(sarif.stdout.starts_with("error[wildcard-listen-default]"), "{}", sarif.stdout);
    assert!(std::fs::read_to_string(dir.join("out.sarif")).unwrap().contains("\"ruleId\""));
}

#[test]
fn a_named_file_run_never_prunes_baseline_entries_of_the_files_it_only_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "Cargo.toml", "[package]\nname = \"x\"\n");
    write(dir, "src/a.rs", BUGGY);
    write(dir, "src/b.rs", BUGGY);
    assert_eq!(gatelint(dir, &["check", "--write-baseline", "bl.json"]).code, 0);
    // b.rs is read for crate-wide facts only: its entry is neither stale nor pruned.
    let partial = gatelint(dir, &["check", "--baseline", "bl.json", "--prune-baseline", "src/a.rs"]);
    assert_eq!(partial.code, 0, "{}", partial.stderr);
    assert!(!partial.stderr.contains("pruned"), "{}", partial.stderr);
    let left: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("bl.json")).unwrap()).unwrap();
    assert_eq!(left["entries"].as_array().unwrap().len(), 2);
    // Fixed in a.rs: its entry, and only it, is stale.
    write(dir, "src/a.rs", CLEAN);
    let fixed = gatelint(dir, &["check", "--baseline", "bl.json", "--prune-baseline", "src/a.rs"]);
    assert!(fixed.stderr.contains("pruned 1 stale entries"), "{}", fixed.stderr);
    let left: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("bl.json")).unwrap()).unwrap();
    assert_eq!(left["entries"][0]["path"], "src/b.rs");
}

#[test]
fn help_and_errors_name_the_command_as_typed_and_suggest_rule_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let help = run(env!("CARGO_BIN_EXE_cargo-gatelint"), dir, &["gatelint", "check", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Usage: cargo gatelint check"), "{}", help.stdout);
    let explain = gatelint(dir, &["explain", "direct-provisioner-cal"]);
    assert_eq!(explain.code, 2);
    assert!(explain.stderr.contains("(did you mean `direct-provisioner-call`?)"), "{}", explain.stderr);
}

#[test]
fn human_output_has_no_trailing_whitespace() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let out = gatelint(fixtures.parent().unwrap(), &["check", "fixtures", "--color", "never", "--no-cache"]);
    assert_eq!(out.code, 1);
    // Multi-line labels draw connector lines, which codespan pads with spaces.
    assert!(out.stdout.lines().filter(|l| l.contains('│')).count() > 100);
    let padded: Vec<&str> = out.stdout.lines().filter(|l| l.ends_with(' ')).collect();
    assert!(padded.is_empty(), "{padded:#?}");
}

/// A package whose `create_child` inserts, and one whose loop calls `store::create_child`
/// (imported: a dependency when its manifest names one, else a crate outside the checked files).
fn two_packages(dir: &Path, dependency: &str) {
    write(dir, "store/Cargo.toml", "[package]\nname = \"store\"\n");
    write(
        dir,
        "store/src/lib.rs",
        "pub async fn create_child(pool: &PgPool, name: &str) {\n    \
         sqlx::query(\"INSERT INTO workspaces (name) VALUES ($1)\").bind(name).execute(pool).await;\n}\n",
    );
    write(dir, "api/Cargo.toml", &format!("[package]\nname = \"api\"\n{dependency}"));
    write(
        dir,
        "api/src/lib.rs",
        "use store::create_child;\npub async fn expand(pool: &PgPool, names: &[String]) {\n    \
         for name in names {\n        create_child(pool, name).await;\n    }\n}\n",
    );
}

#[test]
fn a_package_reaches_only_into_the_packages_it_depends_on() {
    let unrelated = tempfile::tempdir().unwrap();
    two_packages(unrelated.path(), "");
    let out = gatelint(unrelated.path(), &["check", "--format", "json"]);
    assert_eq!(lines_of(&out), Vec::<String>::new(), "api does not depend on store: its create_child is another");
    let dependent = tempfile::tempdir().unwrap();
    two_packages(dependent.path(), "[dependencies]\nstore = { path = \"../store\" }\n");
    let out = gatelint(dependent.path(), &["check", "--format", "json"]);
    assert_eq!(lines_of(&out), vec!["api/src/lib.rs:4:non-idempotent-insert"]);
    // Naming the file (a pre-commit run) reads the package it depends on too.
    let named = gatelint(dependent.path(), &["check", "api/src/lib.rs", "--format", "json"]);
    assert_eq!(lines_of(&named), vec!["api/src/lib.rs:4:non-idempotent-insert"]);
    let inside = gatelint(&dependent.path().join("api/src"), &["check", "--format", "json"]);
    assert_eq!(lines_of(&inside), vec!["lib.rs:4:non-idempotent-insert"], "run from inside the package");
    let package = gatelint(dependent.path(), &["check", "api", "--format", "json"]);
    assert_eq!(lines_of(&package), vec!["api/src/lib.rs:4:non-idempotent-insert"], "naming the package");
    let human = gatelint(dependent.path(), &["check", "api"]);
    assert!(human.stdout.ends_with("1 error, 0 warnings in 1 file\n"), "only api is reported: {}", human.stdout);
}

#[test]
fn a_constant_is_followed_only_into_packages_the_code_depends_on() {
    for (dependency, expected) in
        [("", vec![]), ("[dependencies]\nconsts = { path = \"../consts\" }\n", vec!["consts/src/lib.rs:1"])]
    {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(dir, "consts/Cargo.toml", "[package]\nname = \"consts\"\n");
        write(dir, "consts/src/lib.rs", "pub const EVERYWHERE: &str = \"0.0.0.0:8080\";\n");
        write(dir, "server/Cargo.toml", &format!("[package]\nname = \"server\"\n{dependency}"));
        write(dir, "server/src/lib.rs", "pub fn serve() { let _ = std::net::TcpListener::bind(EVERYWHERE); }\n");
        let out = gatelint(dir, &["check", "--format", "json"]);
        let found: Vec<String> =
            lines_of(&out).into_iter().map(|l| l.rsplit_once(':').unwrap().0.to_string()).collect();
        assert_eq!(found, expected, "with {dependency:?}");
    }
}

/// `gatelint` in `dir` with the facts cache in `cache`.
fn gatelint_cached(dir: &Path, cache: &Path, args: &[&str]) -> Output {
    run_env(env!("CARGO_BIN_EXE_gatelint"), dir, args, &[("GATELINT_CACHE_DIR", cache)])
}

#[test]
fn a_manifest_edit_is_seen_by_the_next_run_whatever_the_cache_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, cache) = (tmp.path().join("ws"), tmp.path().join("cache"));
    two_packages(&dir, "");
    let json = ["check", "--format", "json"];
    assert_eq!(lines_of(&gatelint_cached(&dir, &cache, &json)), Vec::<String>::new());
    assert_eq!(lines_of(&gatelint_cached(&dir, &cache, &json)), Vec::<String>::new(), "an identical run");
    // api now depends on store: the stored run must not be replayed.
    write(&dir, "api/Cargo.toml", "[package]\nname = \"api\"\n[dependencies]\nstore = { path = \"../store\" }\n");
    assert_eq!(lines_of(&gatelint_cached(&dir, &cache, &json)), vec!["api/src/lib.rs:4:non-idempotent-insert"]);
}

#[test]
fn named_files_of_several_packages_read_each_package_and_a_file_is_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Two packages, each with a loop reaching an INSERT in another file of its own.
    for name in ["a", "b"] {
        write(dir, &format!("{name}/Cargo.toml"), &format!("[package]\nname = \"{name}\"\n"));
        write(dir, &format!("{name}/src/lib.rs"), "pub mod db;\npub mod handlers;\n");
        write(
            dir,
            &format!("{name}/src/db.rs"),
            &format!(
                "pub async fn create_{name}(pool: &PgPool, x: &str) {{\n    \
                 sqlx::query(\"INSERT INTO workspaces (name) VALUES ($1)\").bind(x).execute(pool).await;\n}}\n"
            ),
        );
        write(
            dir,
            &format!("{name}/src/handlers.rs"),
            &format!(
                "pub async fn expand(pool: &PgPool, xs: &[String]) {{\n    \
                 for x in xs {{\n        crate::db::create_{name}(pool, x).await;\n    }}\n}}\n"
            ),
        );
    }
    let both = gatelint(dir, &["check", "a/src/handlers.rs", "b/src/handlers.rs", "--format", "json"]);
    assert_eq!(
        lines_of(&both),
        vec!["a/src/handlers.rs:3:non-idempotent-insert", "b/src/handlers.rs:3:non-idempotent-insert"]
    );
    // Named by a bare name from inside the folder, and by `../` from a sibling: the
    // same finding, and the file is read once (not as a second copy of itself).
    let bare = gatelint(&dir.join("b/src"), &["check", "handlers.rs", "--format", "json"]);
    assert_eq!(lines_of(&bare), vec!["handlers.rs:3:non-idempotent-insert"]);
    let sibling = gatelint(&dir.join("a"), &["check", "../b/src/handlers.rs"]);
    assert!(sibling.stdout.ends_with("1 error, 0 warnings in 1 file\n"), "{}", sibling.stdout);
}

#[test]
fn sql_constants_are_followed_only_into_visible_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "a/Cargo.toml", "[package]\nname = \"a\"\n");
    write(dir, "a/src/lib.rs", "pub const Q: &str = \"INSERT INTO workspaces (name) VALUES ($1)\";\n");
    write(dir, "b/Cargo.toml", "[package]\nname = \"b\"\n");
    write(
        dir,
        "b/src/lib.rs",
        "const Q: &str = \"UPDATE workspaces SET seen = true WHERE name = $1\";\n\
         pub async fn touch(pool: &PgPool, xs: &[String]) {\n    \
         for x in xs {\n        sqlx::query(Q).bind(x).execute(pool).await;\n    }\n}\n",
    );
    assert_eq!(lines_of(&gatelint(dir, &["check", "--format", "json"])), Vec::<String>::new());
}
