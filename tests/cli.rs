//! End-to-end tests of the `gatelint` binary: exit codes, output formats, parse
//! errors, configuration discovery and overrides, file discovery, determinism.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn gatelint(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_gatelint"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("binary runs");
    Output {
        code: out.status.code().expect("exited normally, not by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const BUGGY: &str = "pub const DEFAULT_LISTEN_ADDR: &str = \":9100\";\n";
const CLEAN: &str = "pub const DEFAULT_LISTEN_ADDR: &str = \"127.0.0.1:9100\";\n";

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{}", out.stdout))
}

/// Asserts the (path, severity) of each finding in a JSON report.
fn assert_severities(out: &Output, expected: &[(&str, &str)]) {
    let doc = json(out);
    let found: Vec<(&str, &str)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(found, expected);
}

fn findings(out: &Output) -> Vec<(String, String, u64)> {
    json(out)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["path"].as_str().unwrap().to_string(),
                d["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn exit_0_when_clean_and_1_on_error_findings() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", CLEAN);
    let out = gatelint(tmp.path(), &["check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "0 errors, 0 warnings in 1 file\n");

    write(tmp.path(), "src/sidecar.rs", BUGGY);
    let out = gatelint(tmp.path(), &["check"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("error[wildcard-listen-default]"), "{}", out.stdout);
    assert!(out.stdout.contains("src/sidecar.rs:1:39"), "{}", out.stdout);
    assert!(out.stdout.ends_with("1 error, 0 warnings in 2 files\n"), "{}", out.stdout);
}

#[test]
fn exit_2_on_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = gatelint(tmp.path(), &["check", "does-not-exist"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("does-not-exist"), "{}", out.stderr);
    assert_eq!(gatelint(tmp.path(), &["check", "--format", "xml"]).code, 2);
    assert_eq!(gatelint(tmp.path(), &["frobnicate"]).code, 2);
    let out = gatelint(tmp.path(), &["explain", "no-such-rule"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("wildcard-listen-default"), "lists known rules: {}", out.stderr);
}

#[test]
fn parse_errors_name_file_and_position_and_the_rest_is_still_checked() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/a_broken.rs", "fn ok() {}\nfn broken( {\n");
    write(tmp.path(), "src/b_sidecar.rs", BUGGY);
    std::fs::write(tmp.path().join("src/c_latin1.rs"), b"// caf\xe9\nfn f() {}\n").unwrap();
    write(tmp.path(), "src/d_empty.rs", "");
    std::fs::create_dir_all(tmp.path().join("src/e_dir.rs")).unwrap();
    // Nesting is checked in files over 16 KiB (4 KiB in debug builds); smaller ones
    // cannot exhaust a worker's stack and are parsed as they are.
    let deep = format!("fn f() {{ let x = {}1{}; }}\n", "(".repeat(9000), ")".repeat(9000));
    write(tmp.path(), "src/f_deep.rs", &deep);
    let small_deep = format!("fn f() {{ let x = {}1{}; }}\n", "(".repeat(1500), ")".repeat(1500));
    assert!(small_deep.len() < gatelint::input::parse::UNCHECKED_NESTING_MAX_BYTES);
    write(tmp.path(), "src/g_small_deep.rs", &small_deep);
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let found = findings(&out);
    assert_eq!(
        found,
        vec![
            ("parse-error".into(), "src/a_broken.rs".into(), 2),
            ("wildcard-listen-default".into(), "src/b_sidecar.rs".into(), 1),
            ("parse-error".into(), "src/c_latin1.rs".into(), 1),
            ("parse-error".into(), "src/f_deep.rs".into(), 1),
        ]
    );
    let doc = json(&out);
    let latin1 = &doc["diagnostics"][2];
    assert_eq!(latin1["start"]["column"], 7, "points at the bad byte");
    assert!(latin1["message"].as_str().unwrap().contains("not valid UTF-8"));
    assert!(doc["diagnostics"][3]["message"].as_str().unwrap().contains("nested too deeply"));
    assert_eq!(doc["summary"]["files"], 6, "the empty file is checked; the directory is not a file");
    let human = gatelint(tmp.path(), &["check"]);
    assert!(human.stdout.contains("error[parse-error]: cannot parse Rust"), "{}", human.stdout);
    assert!(human.stdout.contains("src/a_broken.rs:2:"), "{}", human.stdout);
}

#[test]
fn delimiter_errors_point_where_rustc_points() {
    let tmp = tempfile::tempdir().unwrap();
    // A brace missing in the middle of a function: the unclosed `{` of the impl, and
    // the block whose closing brace is indented unlike its opening one.
    write(
        tmp.path(),
        "src/a_unclosed.rs",
        "impl S {\n    fn a(&self) {\n        if x {\n            y();\n    }\n\n    fn b(&self) {}\n}\n",
    );
    // A `(` closed by a `}`: reported at the closer, with the `(` it leaves unclosed.
    write(tmp.path(), "src/b_mismatched.rs", "fn f() {\n    let x = (1;\n}\n\nfn g() {}\n");
    write(tmp.path(), "src/c_unexpected.rs", "fn f() {}\n}\n");
    write(tmp.path(), "src/d_string.rs", "fn f() {\n    let s = \"open;\n}\n");
    let doc = json(&gatelint(tmp.path(), &["check", "--format", "json"]));
    let found: Vec<(String, String, String, Vec<String>)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let at = |v: &Value| format!("{}:{}", v["start"]["line"], v["start"]["column"]);
            let labels =
                d["labels"].as_array().unwrap().iter().map(|l| format!("{} {}", at(l), l["message"])).collect();
            (d["path"].as_str().unwrap().to_string(), at(d), d["message"].as_str().unwrap().to_string(), labels)
        })
        .collect();
    let expected = [
        (
            "src/a_unclosed.rs",
            "1:8",
            "cannot parse Rust: unclosed delimiter `{`",
            vec![
                "3:14 \"this delimiter might not be properly closed...\"",
                "5:5 \"...as it matches this but it has different indentation\"",
            ],
        ),
        (
            "src/b_mismatched.rs",
            "3:1",
            "cannot parse Rust: mismatched closing delimiter `}`",
            vec!["2:13 \"unclosed delimiter\"", "1:8 \"closing delimiter possibly meant for this\""],
        ),
        ("src/c_unexpected.rs", "2:1", "cannot parse Rust: unexpected closing delimiter `}`", vec![]),
        ("src/d_string.rs", "2:13", "cannot parse Rust: unterminated double quote string", vec![]),
    ];
    let expected: Vec<(String, String, String, Vec<String>)> = expected
        .into_iter()
        .map(|(p, at, m, l)| (p.into(), at.into(), m.into(), l.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(found, expected);
    let human = gatelint(tmp.path(), &["check", "--color", "never"]).stdout;
    assert!(human.contains("closing delimiter does not match"), "{human}");
}

#[test]
fn hostile_shapes_are_checked_or_reported_never_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("chain.rs", format!("fn f() {{ let x = a{}; }}\n", ".b()".repeat(20_000))),
        ("binary.rs", format!("fn f() {{ let x = 1{}; }}\n", " + 1".repeat(50_000))),
        (
            "else_if.rs",
            format!(
                "fn f(x: u32) {{ {}{{}} }}\n",
                (0..3000).map(|i| format!("if x == {i} {{}} else ")).collect::<String>()
            ),
        ),
        ("unary.rs", format!("fn f() {{ let x = {}1; }}\n", "- ".repeat(3000))),
        ("refs.rs", format!("fn f() {{ let x: {}u8 = 1; }}\n", "&".repeat(3000))),
        ("generics.rs", format!("type T = {}u8{};\n", "Vec<".repeat(3000), ">".repeat(3000))),
        ("nul.rs", "fn f() {}\0\n".to_string()),
        // Megabytes deep: without the nesting bound, each shape would overflow the worker stacks.
        ("big_closures.rs", format!("fn f() {{ let x = {}1; }}\n", "|| ".repeat(400_000))),
        ("big_closures2.rs", format!("fn f() {{ let x = {}1; }}\n", "|a, b| ".repeat(200_000))),
        ("big_returns.rs", format!("fn f() {{ {}1; }}\n", "return ".repeat(200_000))),
        ("big_generics.rs", format!("type T = {}u8{};\n", "HashMap<u8, ".repeat(100_000), ">".repeat(100_000))),
        ("big_chain.rs", format!("fn f() {{ let x = a{}; }}\n", ".b()".repeat(500_000))),
        ("big_binary.rs", format!("fn f() {{ let x = {{1}}{}; }}\n", " + {1}".repeat(500_000))),
    ];
    for (name, text) in &cases {
        write(tmp.path(), &format!("src/{name}"), text);
    }
    write(tmp.path(), "src/z_sidecar.rs", BUGGY);
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let found = findings(&out);
    assert!(found.contains(&("wildcard-listen-default".into(), "src/z_sidecar.rs".into(), 1)), "{found:?}");
    for (rule, path, _) in &found {
        assert!(rule == "parse-error" || path == "src/z_sidecar.rs", "unexpected {rule} in {path}");
    }
    assert_eq!(json(&out)["summary"]["files"], cases.len() + 1);
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_symlinks_are_reported_not_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", BUGGY);
    std::os::unix::fs::symlink("missing.rs", tmp.path().join("src/dangling.rs")).unwrap();
    std::os::unix::fs::symlink("loop_b.rs", tmp.path().join("src/loop_a.rs")).unwrap();
    std::os::unix::fs::symlink("loop_a.rs", tmp.path().join("src/loop_b.rs")).unwrap();
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1);
    let doc = json(&out);
    let found: Vec<(String, String)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap().to_string(), d["message"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(found[0].0, "src/dangling.rs");
    assert!(found[0].1.starts_with("cannot read file"), "{found:?}");
    assert_eq!(found[1].0, "src/lib.rs", "the rest of the tree is still checked");
    assert!(found[2].1.starts_with("cannot read file") && found[3].1.starts_with("cannot read file"), "{found:?}");
}

#[test]
fn config_is_found_walking_up_and_overrides_severity_and_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "crate/src/lib.rs", BUGGY);
    write(tmp.path(), "gatelint.toml", "[rules.wildcard-listen-default]\nseverity = \"warning\"\n");
    let out = gatelint(&tmp.path().join("crate"), &["check", "src"]);
    assert_eq!(out.code, 0, "warnings do not fail the run: {}", out.stdout);
    assert!(out.stdout.contains("warning[wildcard-listen-default]"), "{}", out.stdout);
    assert!(out.stdout.ends_with("0 errors, 1 warning in 1 file\n"), "{}", out.stdout);

    write(tmp.path(), "off.toml", "[rules.wildcard-listen-default]\nenabled = false\n");
    let out = gatelint(tmp.path(), &["check", "--config", "off.toml"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "0 errors, 0 warnings in 1 file\n"));

    // A parameter override: with no listen words, the constant's name no longer marks it.
    write(tmp.path(), "names.toml", "[rules.wildcard-listen-default]\nlisten-names = [\"nothing\"]\n");
    let out = gatelint(tmp.path(), &["check", "--config", "names.toml"]);
    assert_eq!(out.code, 0, "{}", out.stdout);

    let out = gatelint(tmp.path(), &["check", "--no-config"]);
    assert_eq!(out.code, 1, "--no-config ignores gatelint.toml");
}

#[test]
fn a_diesel_table_with_a_sql_name_is_guarded_by_either_name() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    write(
        tmp.path(),
        "src/schema.rs",
        "diesel::table! {\n    #[sql_name = \"audit_events\"]\n    audit (id) {\n        id -> Int4,\n    }\n}\n",
    );
    write(
        tmp.path(),
        "src/lib.rs",
        "pub mod schema;\nuse diesel::prelude::*;\n\npub fn record(conn: &mut PgConnection, n: usize) -> QueryResult<()> {\n    \
         use crate::schema::audit as a;\n    for _ in 0..n {\n        diesel::insert_into(a::table).default_values().execute(conn)?;\n    }\n    Ok(())\n}\n",
    );
    for tables in ["[\"audit_events\"]", "[\"audit\"]"] {
        write(tmp.path(), "gatelint.toml", &format!("[rules.non-idempotent-insert]\ntables = {tables}\n"));
        let out = gatelint(tmp.path(), &["check", "--no-cache", "--format", "json"]);
        assert_eq!(findings(&out), [("non-idempotent-insert".to_string(), "src/lib.rs".to_string(), 7)], "{tables}");
        assert!(out.stdout.contains("INSERT INTO `audit_events`"), "{tables}: {}", out.stdout);
    }
    write(tmp.path(), "gatelint.toml", "[rules.non-idempotent-insert]\ntables = [\"audit_log\"]\n");
    let out = gatelint(tmp.path(), &["check", "--no-cache", "--format", "json"]);
    assert!(findings(&out).is_empty(), "{}", out.stdout);
}

#[test]
fn unknown_config_key_is_exit_2_naming_file_position_and_allowed_keys() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", CLEAN);
    write(tmp.path(), "gatelint.toml", "include-tests = false\n\n[rules.wildcard-listen-default]\nlisten-nams = []\n");
    let out = gatelint(tmp.path(), &["check"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("gatelint.toml:4:1: unknown key `listen-nams`"), "{}", out.stderr);
    assert!(out.stderr.contains("allowed keys: severity, enabled,"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "no findings are printed after a configuration error");

    write(tmp.path(), "gatelint.toml", "[rules.wildcard-listen-default]\nseverity = \"loud\"\n");
    let out = gatelint(tmp.path(), &["check"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("gatelint.toml:2:12"), "{}", out.stderr);
}

#[test]
fn discovery_skips_ignored_hidden_target_and_test_trees_but_not_named_files() {
    let tmp = tempfile::tempdir().unwrap();
    for rel in
        ["src/lib.rs", "target/gen.rs", ".hidden/x.rs", "tests/it.rs", "examples/demo.rs", "gen/out.rs", "vendor/v.rs"]
    {
        write(tmp.path(), rel, BUGGY);
    }
    write(tmp.path(), ".gitignore", "gen/\n");
    write(tmp.path(), "gatelint.toml", "exclude = [\"vendor/**\"]\n");
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    let paths: Vec<String> = findings(&out).into_iter().map(|f| f.1).collect();
    assert_eq!(paths, vec!["src/lib.rs"]);

    let out = gatelint(tmp.path(), &["check", "--format", "json", "src", "tests/it.rs"]);
    let paths: Vec<String> = findings(&out).into_iter().map(|f| f.1).collect();
    assert_eq!(paths, vec!["src/lib.rs", "tests/it.rs"], "a file named explicitly is always checked");

    // Included, tests are checked too (a listen default in a test reports nothing:
    // a provisioner call there does).
    write(
        tmp.path(),
        "tests/it.rs",
        "pub async fn reset(state: &AppState, id: Uuid) { state.provisioner.stop(id).await; }\n",
    );
    write(tmp.path(), "gatelint.toml", "include-tests = true\nexclude = [\"vendor/**\"]\n");
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    let paths: Vec<String> = findings(&out).into_iter().map(|f| f.1).collect();
    assert_eq!(paths, vec!["examples/demo.rs", "src/lib.rs", "tests/it.rs"]);
}

#[test]
fn test_code_is_skipped_unless_included() {
    let tmp = tempfile::tempdir().unwrap();
    // A provisioner call, a wildcard bind and a fixture loop inserting, in test code.
    let provision = "pub async fn reset(state: &AppState, id: Uuid) { state.provisioner.stop(id).await; }\n";
    let fixture = "pub async fn seed(pool: &PgPool, names: &[&str]) {\n    for n in names {\n        \
                   sqlx::query(\"INSERT INTO workspaces (name) VALUES ($1)\").bind(n).execute(pool).await.ok();\n    }\n}\n";
    write(
        tmp.path(),
        "src/lib.rs",
        &format!(
            "#[cfg(test)]\nmod tests {{\n    const LISTEN_ADDR: &str = \"0.0.0.0:8080\";\n    {provision}\n    {fixture}}}\n\
             #[tokio::test]\nasync fn t() {{ let _ = tokio::net::TcpListener::bind(\"0.0.0.0:8080\").await; }}\n"
        ),
    );
    write(
        tmp.path(),
        "tests/it.rs",
        &format!("fn setup() {{ let _ = std::net::TcpListener::bind(\"0.0.0.0:8080\"); }}\n{fixture}"),
    );
    write(tmp.path(), "examples/demo.rs", "fn main() { let _ = std::net::TcpListener::bind(\"0.0.0.0:8080\"); }\n");
    assert_eq!(gatelint(tmp.path(), &["check", "--no-cache"]).code, 0);

    // Included, a gate's finding in test code is a warning: shown, without failing the
    // check — a fixture loop's repeated inserts too. A test server bound to every
    // interface is not reported; an example program's is.
    write(tmp.path(), "gatelint.toml", "include-tests = true\n");
    let out = gatelint(tmp.path(), &["check", "--no-cache", "--format", "json"]);
    let expected = [
        ("wildcard-listen-default", "examples/demo.rs", 1),
        ("direct-provisioner-call", "src/lib.rs", 4),
        ("non-idempotent-insert", "src/lib.rs", 8),
        ("non-idempotent-insert", "tests/it.rs", 4),
    ];
    assert_eq!(findings(&out), expected.map(|(r, p, l)| (r.to_string(), p.to_string(), l)));
    let severities = [
        ("examples/demo.rs", "warning"),
        ("src/lib.rs", "warning"),
        ("src/lib.rs", "warning"),
        ("tests/it.rs", "warning"),
    ];
    assert_severities(&out, &severities);
    assert_eq!(out.code, 0);

    // The same code outside test code keeps its severity.
    write(
        tmp.path(),
        "src/main.rs",
        &format!("fn main() {{ let _ = std::net::TcpListener::bind(\"0.0.0.0:8080\"); }}\n{provision}{fixture}"),
    );
    let out = gatelint(tmp.path(), &["check", "--no-cache", "--format", "json"]);
    let rules: Vec<(String, String, u64)> = findings(&out);
    let expected = [
        ("wildcard-listen-default", "examples/demo.rs", 1),
        ("direct-provisioner-call", "src/lib.rs", 4),
        ("non-idempotent-insert", "src/lib.rs", 8),
        ("wildcard-listen-default", "src/main.rs", 1),
        ("direct-provisioner-call", "src/main.rs", 2),
        ("non-idempotent-insert", "src/main.rs", 5),
        ("non-idempotent-insert", "tests/it.rs", 4),
    ];
    assert_eq!(rules, expected.map(|(r, p, l)| (r.to_string(), p.to_string(), l)));
    let severities = [
        ("examples/demo.rs", "warning"),
        ("src/lib.rs", "warning"),
        ("src/lib.rs", "warning"),
        ("src/main.rs", "error"),
        ("src/main.rs", "error"),
        ("src/main.rs", "error"),
        ("tests/it.rs", "warning"),
    ];
    assert_severities(&out, &severities);
    assert_eq!(out.code, 1);
}

#[test]
fn a_test_loop_that_builds_its_own_database_each_time_does_not_repeat_the_insert() {
    let tmp = tempfile::tempdir().unwrap();
    // A line that should be reported ends in `// finding`; one reported only outside
    // test code, in `// finding outside tests`.
    let code = r#"use sqlx::PgPool;

pub struct TestContext { pool: PgPool }

impl TestContext {
    pub fn new() -> TestContext { TestContext { pool: PgPool::connect_lazy("postgres://test").unwrap() } }
    pub async fn add_workspace(&self, name: &str) {
        sqlx::query("INSERT INTO workspaces (name) VALUES ($1)").bind(name).execute(&self.pool).await.unwrap();
    }
}

async fn test_db() -> PgPool { PgPool::connect_lazy("postgres://test").unwrap() }

async fn create_workspace(pool: &PgPool, name: &str) {
    sqlx::query("INSERT INTO workspaces (name) VALUES ($1)").bind(name).execute(pool).await.unwrap();
}

async fn open_seeded() -> PgPool {
    let dir = tempfile::tempdir().unwrap();
    let pool = PgPool::connect_lazy(&format!("sqlite://{}/db", dir.path().display())).unwrap();
    create_workspace(&pool, "first").await;
    pool
}

#[tokio::test]
async fn each_case_on_a_database_of_its_own() {
    for name in ["a", "b"] {
        let db = test_db().await;
        create_workspace(&db, name).await; // finding outside tests
        let ctx = TestContext::new();
        ctx.add_workspace(name).await; // finding outside tests
        let _seeded = open_seeded().await; // finding outside tests
    }
}

#[tokio::test]
async fn every_case_on_one_database() {
    let db = test_db().await;
    for name in ["a", "b"] {
        create_workspace(&db, name).await; // finding
    }
}

#[tokio::test]
async fn a_database_per_case_filled_in_a_loop() {
    for name in ["a", "b"] {
        let db = test_db().await;
        for _ in 0..2 {
            create_workspace(&db, name).await; // finding
        }
    }
}

#[tokio::test]
async fn the_database_replaced_by_one_shared() {
    let shared = test_db().await;
    for name in ["a", "b"] {
        let db = test_db().await;
        let db = &shared;
        create_workspace(db, name).await; // finding
    }
}
"#;
    let reported = |text: &str, outside_tests: bool| -> Vec<u64> {
        (text.lines().enumerate())
            .filter(|(_, l)| l.ends_with("// finding") || (outside_tests && l.ends_with("// finding outside tests")))
            .map(|(i, _)| i as u64 + 1)
            .collect()
    };
    write(tmp.path(), "tests/it.rs", code);
    write(tmp.path(), "gatelint.toml", "include-tests = true\n");
    let out = gatelint(tmp.path(), &["check", "--no-cache", "--format", "json"]);
    let found: Vec<u64> = findings(&out).into_iter().filter(|f| f.0 == "non-idempotent-insert").map(|f| f.2).collect();
    assert_eq!(found, reported(code, false));
    assert_eq!(found.len(), 3);

    // Outside test code a store built in the loop is the same database each time,
    // and a temporary directory holds files, not the database written.
    std::fs::remove_file(tmp.path().join("tests/it.rs")).unwrap();
    let lib = code.replace("#[tokio::test]\n", "");
    write(tmp.path(), "src/lib.rs", &lib);
    let out = gatelint(tmp.path(), &["check", "--no-cache", "--format", "json"]);
    let found: Vec<u64> = findings(&out).into_iter().filter(|f| f.0 == "non-idempotent-insert").map(|f| f.2).collect();
    assert_eq!(found, reported(&lib, true));
    assert_eq!(found.len(), 6);
}

#[test]
fn json_schema_fields() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "src/lib.rs",
        "fn listen() -> String {\n    std::env::var(\"LISTEN_ADDR\").unwrap_or(\"0.0.0.0:80\".into())\n}\n",
    );
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    let doc = json(&out);
    assert_eq!(doc["version"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["rule"], "wildcard-listen-default");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "src/lib.rs");
    assert_eq!(d["start"], serde_json::json!({"line": 2, "column": 44}));
    assert_eq!(d["end"], serde_json::json!({"line": 2, "column": 56}));
    assert!(d["message"].as_str().unwrap().contains("`LISTEN_ADDR`"));
    assert_eq!(d["labels"][0]["message"], "used when `LISTEN_ADDR` is not set");
    assert_eq!(d["labels"][0]["start"]["column"], 34);
    assert!(d["help"].as_str().unwrap().contains("127.0.0.1:80"));
    assert_eq!(d["fingerprint"].as_str().unwrap().len(), 32);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"errors": 1, "warnings": 0, "files": 1, "suppressed": 0, "notes": []})
    );
    assert_eq!(d["suppressed"], serde_json::Value::Null);
}

#[test]
fn the_incident_note_is_printed_once_per_run_and_kept_on_every_finding_in_json_and_sarif() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/a.rs", BUGGY);
    write(tmp.path(), "src/b.rs", "pub const LISTEN: &str = \"0.0.0.0:8080\";\n");
    let incident = "the memory-plugin sidecar shipped `:9100` this way";
    let pointer = "= note: see the first `wildcard-listen-default` finding above, or `gatelint explain \
                   wildcard-listen-default`, for why this matters";
    let human = gatelint(tmp.path(), &["check", "--color", "never"]).stdout;
    assert_eq!(human.matches(incident).count(), 1, "{human}");
    assert_eq!(human.matches(pointer).count(), 1, "{human}");
    assert!(human.find(incident) < human.find(pointer), "the first finding has the note: {human}");
    // The finding's own help stays on every finding.
    assert_eq!(human.matches("= help: default to loopback").count(), 2, "{human}");

    let doc = json(&gatelint(tmp.path(), &["check", "--format", "json"]));
    let diagnostics = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 2);
    for d in diagnostics {
        assert!(d["notes"][0].as_str().unwrap().contains(incident), "{d}");
    }
    // SARIF carries the story in the rule's help (its documentation), for every result.
    let sarif = json(&gatelint(tmp.path(), &["check", "--format", "sarif"]));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules.iter().find(|r| r["id"] == "wildcard-listen-default").unwrap();
    assert!(rule["help"]["text"].as_str().unwrap().contains("memory-plugin"), "{rule}");
}

#[test]
fn sarif_is_structurally_valid_with_stable_fingerprints() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", BUGGY);
    let first = json(&gatelint(tmp.path(), &["check", "--format", "sarif"]));
    assert_eq!(first["version"], "2.1.0");
    assert!(first["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &first["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "gatelint");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for rule in rules {
        for key in ["id", "shortDescription", "fullDescription", "help"] {
            assert!(!rule[key].is_null(), "rule lacks {key}: {rule}");
        }
        assert!(!rule["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(rule["help"]["text"].as_str().unwrap().contains("## Why is this bad?"));
    }
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "wildcard-listen-default");
    assert_eq!(rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"], "wildcard-listen-default");
    assert_eq!(result["level"], "error");
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/lib.rs");
    assert_eq!(loc["region"], serde_json::json!({"startLine": 1, "startColumn": 39, "endLine": 1, "endColumn": 46}));
    let print = result["partialFingerprints"]["gatelint/v1"].as_str().unwrap().to_string();

    // Unrelated edits above the finding move it down but keep its fingerprint.
    write(tmp.path(), "src/lib.rs", &format!("//! Sidecar settings.\n\nuse std::net::SocketAddr;\n\n{BUGGY}"));
    let moved = json(&gatelint(tmp.path(), &["check", "--format", "sarif"]));
    let result = &moved["runs"][0]["results"][0];
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 5);
    assert_eq!(result["partialFingerprints"]["gatelint/v1"].as_str().unwrap(), print);
}

#[test]
fn github_annotations() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", BUGGY);
    let out = gatelint(tmp.path(), &["check", "--format", "github"]);
    assert_eq!(out.code, 1);
    let line = out.stdout.lines().next().unwrap();
    assert!(
        line.starts_with("::error file=src/lib.rs,line=1,col=39,endLine=1,endColumn=46,title=gatelint wildcard-listen-default::listen default"),
        "{line}"
    );
    assert!(line.contains("%0Ahelp: default to loopback"), "multi-line message is escaped: {line}");
    assert_eq!(out.stdout.lines().count(), 1);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", BUGGY);
    assert!(!gatelint(tmp.path(), &["check"]).stdout.contains('\u{1b}'), "a pipe is not a terminal");
    assert!(gatelint(tmp.path(), &["check", "--color", "always"]).stdout.contains('\u{1b}'));
    assert!(!gatelint(tmp.path(), &["check", "--color", "never"]).stdout.contains('\u{1b}'));
}

#[test]
fn output_is_identical_across_thread_counts_and_runs() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"));
    for format in ["human", "json", "sarif", "github"] {
        let one = gatelint(fixtures, &["check", "fixtures", "--format", format, "-j", "1"]);
        let two = gatelint(fixtures, &["check", "fixtures", "--format", format, "-j", "2"]);
        let again = gatelint(fixtures, &["check", "fixtures", "--format", format, "-j", "2"]);
        assert_eq!(one.stdout, two.stdout, "{format}: output depends on thread count");
        assert_eq!(two.stdout, again.stdout, "{format}: output differs between runs");
        assert_eq!(one.code, 1);
    }
}

#[test]
fn rules_and_explain() {
    let tmp = tempfile::tempdir().unwrap();
    let out = gatelint(tmp.path(), &["rules"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.lines().any(|l| l.starts_with("wildcard-listen-default") && l.contains("error")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.lines().any(|l| l.starts_with("parse-error")), "{}", out.stdout);
    let out = gatelint(tmp.path(), &["explain", "wildcard-listen-default"]);
    assert_eq!(out.code, 0);
    for section in gatelint::rules::DOC_SECTIONS {
        assert!(out.stdout.contains(section), "explain lacks {section}");
    }
    assert!(out.stdout.contains("listen-names = ["), "explain shows default parameters");
}

#[test]
fn allowlist_entries_are_validated_with_positions() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", CLEAN);
    write(
        tmp.path(),
        "gatelint.toml",
        "[[rules.insert-allowlist.functions]]\nname = \"import\"\nmechanism = \"hope\"\nreason = \"x\"\n",
    );
    let out = gatelint(tmp.path(), &["check"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("gatelint.toml:3:13"), "{}", out.stderr);
    assert!(out.stderr.contains("unknown variant `hope`"), "{}", out.stderr);

    write(
        tmp.path(),
        "gatelint.toml",
        "[[rules.insert-allowlist.functions]]\nname = \"import\"\nmechanism = \"preflight\"\nreason = \"\"\n",
    );
    let out = gatelint(tmp.path(), &["check"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("needs a reason"), "{}", out.stderr);
}

#[test]
fn a_new_inserting_function_fails_until_allowlisted() {
    let tmp = tempfile::tempdir().unwrap();
    let code = "pub async fn create(pool: &PgPool) {\n    sqlx::query(\"INSERT INTO workspaces (id) VALUES ($1)\").execute(pool).await;\n}\n";
    write(tmp.path(), "src/handlers.rs", code);
    write(
        tmp.path(),
        "gatelint.toml",
        "[[rules.insert-allowlist.functions]]\nname = \"register\"\nmechanism = \"on-conflict\"\nreason = \"upsert\"\n",
    );
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1);
    let found = findings(&out);
    assert_eq!(
        found,
        vec![
            ("insert-allowlist".into(), "gatelint.toml".into(), 2),
            ("insert-allowlist".into(), "src/handlers.rs".into(), 1),
        ],
        "a stale entry and an unlisted function"
    );
    write(
        tmp.path(),
        "gatelint.toml",
        "[[rules.insert-allowlist.functions]]\nname = \"handlers::create\"\nmechanism = \"single-create\"\nreason = \"one row per request\"\n",
    );
    let out = gatelint(tmp.path(), &["check"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn suppressions_are_kept_in_sarif_and_json_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let code = "// gatelint: allow(wildcard-listen-default) -- overlay network only\npub const LISTEN_ADDR: &str = \"0.0.0.0:9100\";\n\
                pub const BIND_HOST: &str = \"0.0.0.0\"; // gatelint: allow(wildcard-listen-default)\n\
                // gatelint: allow(wildcard-listen-default) -- nothing here any more\npub const OK: &str = \"127.0.0.1:1\";\n";
    write(tmp.path(), "src/lib.rs", code);
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "the reasonless suppression suppresses nothing");
    let doc = json(&out);
    let rows: Vec<(String, u64, bool)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (d["rule"].as_str().unwrap().to_string(), d["start"]["line"].as_u64().unwrap(), !d["suppressed"].is_null())
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("wildcard-listen-default".into(), 2, true),
            ("wildcard-listen-default".into(), 3, false),
            ("invalid-suppression".into(), 3, false),
            ("unused-suppression".into(), 4, false),
        ]
    );
    assert_eq!(doc["diagnostics"][0]["suppressed"]["reason"], "overlay network only");
    assert_eq!(doc["summary"]["suppressed"], 1);

    let sarif = json(&gatelint(tmp.path(), &["check", "--format", "sarif"]));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["suppressions"][0]["kind"], "inSource");
    assert_eq!(results[0]["suppressions"][0]["justification"], "overlay network only");
    assert!(results[1]["suppressions"].is_null());

    let human = gatelint(tmp.path(), &["check"]);
    assert!(human.stdout.ends_with("2 errors, 1 warning in 1 file (1 suppressed)\n"), "{}", human.stdout);
    assert!(!human.stdout.contains("lib.rs:2:"), "a suppressed finding is not printed: {}", human.stdout);
}

#[test]
fn cold_and_warm_cache_give_the_same_bytes_and_a_changed_file_is_re_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let cache = tmp.path().join("cache");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gatelint"))
            .args(args)
            .current_dir(fixtures.parent().unwrap())
            .env("GATELINT_CACHE_DIR", &cache)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let cold = run(&["check", "fixtures", "--format", "sarif"]);
    assert!(cache.join("facts-v3.bin").is_file(), "the cold run writes the cache");
    let warm = run(&["check", "fixtures", "--format", "sarif"]);
    let uncached = run(&["check", "fixtures", "--format", "sarif", "--no-cache"]);
    // The run's findings are stored, the files it read besides the checked ones
    // (included configuration, migrations) with the bytes they had.
    assert!(cache.join("run-v3.bin").is_file(), "the run's findings are stored for an identical run");
    assert_eq!(cold, warm, "warm output differs from cold");
    assert_eq!(cold, uncached, "cached output differs from an uncached run");
    // The human renderer reads the texts again (they are released after extraction).
    let human_uncached = run(&["check", "fixtures", "--color", "never", "--no-cache"]);
    let human_warm = run(&["check", "fixtures", "--color", "never"]);
    assert!(human_warm.contains("┌─ fixtures/"), "{human_warm}");
    assert_eq!(human_uncached, human_warm, "human output differs between an uncached and an identical run");

    // A changed file is never served stale facts.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/lib.rs", CLEAN);
    let check = || {
        Command::new(env!("CARGO_BIN_EXE_gatelint"))
            .args(["check", "--format", "concise", "--quiet"])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    assert!(check().stdout.is_empty());
    write(dir.path(), "src/lib.rs", BUGGY);
    let out = String::from_utf8_lossy(&check().stdout).into_owned();
    assert!(out.starts_with("src/lib.rs:1:39: error[wildcard-listen-default]"), "{out}");
    assert!(dir.path().join("target/gatelint-cache/facts-v3.bin").is_file(), "default cache location");
}

/// `check --format concise --quiet` in `dir`, with the default cache: its output,
/// and whether it replayed a stored run (`GATELINT_TIMINGS` names the phases).
fn quiet_run_with_cache(dir: &Path) -> (String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatelint"))
        .args(["check", "--format", "concise", "--quiet"])
        .current_dir(dir)
        .env("GATELINT_TIMINGS", "1")
        .output()
        .unwrap();
    let replayed = String::from_utf8_lossy(&out.stderr).contains("identical run");
    (String::from_utf8_lossy(&out.stdout).into_owned(), replayed)
}

#[test]
fn a_configuration_file_added_after_a_stored_run_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n");
    write(
        dir.path(),
        "src/main.rs",
        "const CONFIG: &str = \"config/default.toml\";\nfn main() { let _ = std::fs::read_to_string(CONFIG); }\n",
    );
    let check = || quiet_run_with_cache(dir.path()).0;
    assert_eq!(check(), "");
    // Stored, and replayed while the file the code names is missing.
    assert!(dir.path().join("target/gatelint-cache/run-v3.bin").is_file(), "the run is stored");
    assert_eq!(check(), "");
    write(dir.path(), "config/default.toml", "[server]\nhost = \"0.0.0.0\"\nport = 8080\n");
    let out = check();
    assert!(out.starts_with("config/default.toml:2:8: error[wildcard-listen-default]"), "{out}");
    assert_eq!(check(), out, "a run that read the file is not replayed stale");
    write(dir.path(), "config/default.toml", "[server]\nhost = \"127.0.0.1\"\nport = 8080\n");
    assert_eq!(check(), "");
}

#[test]
fn a_deployment_file_added_after_a_stored_run_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Cargo.toml", "[package]\nname = \"meshd\"\nversion = \"0.1.0\"\n");
    write(
        dir.path(),
        "src/main.rs",
        "#[derive(serde::Deserialize)]\nstruct Settings { mesh: Mesh }\n#[derive(serde::Deserialize)]\nstruct Mesh { gossip_host: String }\nfn main() {}\n",
    );
    let check = || quiet_run_with_cache(dir.path());
    assert_eq!(check(), (String::new(), false));
    assert_eq!(check(), (String::new(), true), "an identical run is replayed");
    // A file no code names, found in the repository: the run is checked again.
    write(dir.path(), "deploy/meshd.toml", "[mesh]\ngossip_host = \"0.0.0.0\"\n");
    let (out, replayed) = check();
    assert!(!replayed);
    assert!(out.starts_with("deploy/meshd.toml:2:15: error[wildcard-listen-default]"), "{out}");
    assert_eq!(check(), (out, true));
    write(dir.path(), "deploy/meshd.toml", "[mesh]\ngossip_host = \"127.0.0.1\"\n");
    assert_eq!(check(), (String::new(), false));
    // Removed: not read again.
    std::fs::remove_file(dir.path().join("deploy/meshd.toml")).unwrap();
    assert_eq!(check(), (String::new(), false));
}

#[test]
fn a_run_that_read_migrations_is_replayed_until_a_migration_changes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n");
    write(dir.path(), "migrations/0001_init.sql", "CREATE TABLE users (id uuid PRIMARY KEY, email text);\n");
    write(dir.path(), "src/queries.sql", "SELECT id, email FROM users\n");
    write(
        dir.path(),
        "src/lib.rs",
        "pub const BY_ID: &str = \"SELECT email FROM users WHERE id = $1\";\npub const ALL: &str = include_str!(\"queries.sql\");\npub const ADD: &str = \"INSERT INTO users (id, email) VALUES ($1, $2)\";\n",
    );
    let check = || quiet_run_with_cache(dir.path());
    assert_eq!(check(), (String::new(), false));
    assert_eq!(check(), (String::new(), true), "an identical run is replayed");
    // A migration edited: the run is checked again, and sees it.
    write(dir.path(), "migrations/0001_init.sql", "CREATE TABLE users (id uuid PRIMARY KEY, mail text);\n");
    let (out, replayed) = check();
    assert!(!replayed);
    assert!(out.starts_with("src/lib.rs:1:33: error[unknown-column]"), "{out}");
    assert_eq!(check(), (out.clone(), true));
    // A migration added.
    write(dir.path(), "migrations/0002_email.sql", "ALTER TABLE users RENAME COLUMN mail TO email;\n");
    assert_eq!(check(), (String::new(), false));
    // A SQL file the code compiles in, edited.
    write(dir.path(), "src/queries.sql", "SELECT id, emial FROM users\n");
    let (out, replayed) = check();
    assert!(!replayed);
    assert!(out.starts_with("src/queries.sql:1:12: error[unknown-column]"), "{out}");
    assert_eq!(check(), (out, true));
}

#[test]
fn sql_no_migration_set_checks_is_a_note_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[workspace]\nmembers = [\"tools\"]\n",
    );
    write(dir.path(), "gatelint.toml", "migrations = [\"db/pg/migrations\", \"db/lite/migrations\"]\n");
    write(dir.path(), "db/pg/migrations/0001_init.sql", "CREATE TABLE users (id uuid PRIMARY KEY);\n");
    write(dir.path(), "db/lite/migrations/0001_init.sql", "CREATE TABLE users (id integer PRIMARY KEY);\n");
    // Under no set's folder: its SQL is checked against neither.
    write(dir.path(), "src/lib.rs", "pub const Q: &str = \"SELECT nmae FROM userz\";\n");
    // Prose that starts like a statement is no SQL; a crate with no migrations of
    // its own talks to a database whose schema is not here.
    write(dir.path(), "src/help.rs", "pub const HINT: &str = \"Select a user to continue\";\n");
    write(dir.path(), "tools/Cargo.toml", "[package]\nname = \"tools\"\nversion = \"0.1.0\"\n");
    write(dir.path(), "tools/src/lib.rs", "pub const Q: &str = \"SELECT id FROM jobs\";\n");
    let human = gatelint(dir.path(), &["check", "--color", "never"]);
    assert_eq!(human.code, 0, "a note fails nothing: {}", human.stdout);
    let note = "note: the SQL of `src/lib.rs` is checked against no migrations: the run reads 2 migration sets \
                (`db/lite/migrations`, `db/pg/migrations`) and none is in a folder above it";
    assert!(human.stdout.starts_with(note), "{}", human.stdout);
    assert!(human.stdout.ends_with("\n0 errors, 0 warnings in 5 files\n"), "{}", human.stdout);
    assert_eq!(human.stdout.lines().count(), 2, "{}", human.stdout);
    let doc = json(&gatelint(dir.path(), &["check", "--format", "json"]));
    assert!(doc["summary"]["notes"][0].as_str().unwrap().starts_with("the SQL of `src/lib.rs`"), "{doc}");
    let sarif = json(&gatelint(dir.path(), &["check", "--format", "sarif"]));
    let notification = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "note");
    let github = gatelint(dir.path(), &["check", "--format", "github"]);
    assert!(github.stdout.starts_with("::notice title=gatelint::the SQL of `src/lib.rs`"), "{}", github.stdout);
    assert_eq!(gatelint(dir.path(), &["check", "--quiet"]).stdout, "");
    // One set: every file's SQL is checked against it, and nothing is noted.
    write(dir.path(), "gatelint.toml", "migrations = [\"db/pg/migrations\"]\n");
    let out = gatelint(dir.path(), &["check", "--format", "concise"]);
    assert!(!out.stdout.contains("note:"), "{}", out.stdout);
    assert!(out.stdout.contains("error[unknown-table]"), "{}", out.stdout);
}

#[test]
fn a_docker_command_line_bypasses_backends_only_where_there_are_backends() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "src/deploy.rs",
        "pub fn stop(id: &str) { let _ = std::process::Command::new(\"docker\").args([\"stop\", id]).status(); }\n",
    );
    // A developer tool that runs docker, with no provisioner backends: its job.
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out), vec![]);
    // Once the code has a backend module, the same command line bypasses it.
    write(tmp.path(), "src/provisioner.rs", "pub struct DockerProvisioner;\n");
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out), vec![("direct-provisioner-call".to_string(), "src/deploy.rs".to_string(), 1)]);
}

#[test]
fn test_support_code_named_as_such_is_test_code() {
    let tmp = tempfile::tempdir().unwrap();
    let stop = "pub async fn reset(state: &AppState, id: Uuid) { state.provisioner.stop(id).await; }\n";
    write(tmp.path(), "crates/app_test_utils/src/lib.rs", stop);
    write(tmp.path(), "src/db/test_utils.rs", stop);
    write(tmp.path(), "src/lib.rs", &format!("#[cfg(feature = \"testing\")]\n{stop}"));
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out), vec![]);
    write(tmp.path(), "gatelint.toml", "include-tests = true\n");
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    let expected = [
        ("crates/app_test_utils/src/lib.rs", "warning"),
        ("src/db/test_utils.rs", "warning"),
        ("src/lib.rs", "warning"),
    ];
    assert_severities(&out, &expected);
}

#[test]
fn inserts_into_a_temporary_table_are_not_repeated_inserts() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "gatelint.toml", "[rules.non-idempotent-insert]\ntables = [\"*\"]\n");
    write(
        tmp.path(),
        "src/lib.rs",
        "mod schema;\npub async fn fill(pool: &PgPool, names: &[String]) {\n    for name in names {\n        sqlx::query(\"INSERT INTO staged (name) VALUES ($1)\").bind(name).execute(pool).await.ok();\n    }\n}\n",
    );
    // Created as temporary elsewhere in the crate: rows of one transaction.
    write(
        tmp.path(),
        "src/schema.rs",
        "pub const STAGED: &str = \"CREATE TEMPORARY TABLE staged (name TEXT) ON COMMIT DROP\";\n",
    );
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out), vec![]);
    // A lasting table: the loop's rows are repeated inserts.
    write(tmp.path(), "src/schema.rs", "pub const STAGED: &str = \"CREATE TABLE IF NOT EXISTS staged (name TEXT)\";\n");
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out), vec![("non-idempotent-insert".to_string(), "src/lib.rs".to_string(), 4)]);
}

#[test]
fn a_table_named_at_run_time_is_a_table_of_its_own_when_every_table_is_guarded() {
    let tmp = tempfile::tempdir().unwrap();
    let code = r#"pub async fn batch(pool: &PgPool, table: &str, files: &[File], t: &Target) -> Result<()> {
    for chunk in files.chunks(100) {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!("INSERT INTO {table} (a, b) ").as_str());
        qb.push_values(chunk, |mut b, f| { b.push_bind(&f.a).push_bind(&f.b); });
        qb.build().execute(pool).await?;
    }
    for f in files {
        sqlx::query(&format!("INSERT INTO {} (a) VALUES ($1)", t.table_name)).bind(f).execute(pool).await?;
        let sql = format!("INSERT INTO {} (a) VALUES ($1) ON CONFLICT DO NOTHING", table);
        sqlx::query(&sql).bind(f).execute(pool).await?;
        let sql = format!("INSERT INTO {table} (a) VALUES ($1)");
        sqlx::query(&sql).bind(f).execute(pool).await?;
    }
    Ok(())
}
"#;
    write(tmp.path(), "src/lib.rs", code);
    // Under the default tables, a table named at run time is none of them.
    assert_eq!(findings(&gatelint(tmp.path(), &["check", "--format", "json"])), vec![]);
    write(tmp.path(), "gatelint.toml", "[rules.non-idempotent-insert]\ntables = [\"*\"]\n");
    let out = gatelint(tmp.path(), &["check", "--format", "json"]);
    let rule = |line| ("non-idempotent-insert".to_string(), "src/lib.rs".to_string(), line);
    // The upsert (line 10) is guarded; the others name the variable they take the table from.
    assert_eq!(findings(&out), vec![rule(3), rule(8), rule(11)]);
    let messages: Vec<String> = json(&out)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    assert!(messages[0].starts_with("INSERT INTO `{table}` runs"), "{messages:?}");
    assert!(messages[1].starts_with("INSERT INTO `{table_name}` runs"), "{messages:?}");
}

#[test]
fn test_code_is_told_by_the_path_within_the_project_not_from_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    // A service whose folder name holds a test word: its own code is not test code.
    write(tmp.path(), "load-test-service/Cargo.toml", "[package]\nname = \"load-test-service\"\nversion = \"0.1.0\"\n");
    write(
        tmp.path(),
        "load-test-service/src/main.rs",
        "fn main() { let _ = std::net::TcpListener::bind(\"0.0.0.0:8080\"); }\n",
    );
    let from_parent = findings(&gatelint(tmp.path(), &["check", "--format", "json", "load-test-service"]));
    let from_inside = findings(&gatelint(&tmp.path().join("load-test-service"), &["check", "--format", "json"]));
    assert_eq!(from_parent.len(), 1, "{from_parent:?}");
    assert_eq!(from_inside.len(), 1, "{from_inside:?}");
}

#[test]
fn a_test_loop_that_drives_the_system_is_not_a_fixture_loop() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "gatelint.toml", "include-tests = true\n");
    write(tmp.path(), "Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n");
    // Production code: a request handler that reaches an INSERT through three calls.
    write(
        tmp.path(),
        "src/lib.rs",
        "pub async fn handle(pool: &PgPool, name: &str) { route(pool, name).await }\n\
         async fn route(pool: &PgPool, name: &str) { create(pool, name).await }\n\
         async fn create(pool: &PgPool, name: &str) { store(pool, name).await }\n\
         async fn store(pool: &PgPool, name: &str) {\n    \
         sqlx::query(\"INSERT INTO workspaces (name) VALUES ($1)\").bind(name).execute(pool).await.ok();\n}\n",
    );
    // A test that seeds through a helper (fixture set-up: reported), and one that runs
    // the handler once per case (four calls to the INSERT: the code under test).
    write(
        tmp.path(),
        "tests/it.rs",
        "async fn seed(pool: &PgPool, names: &[&str]) {\n    for n in names {\n        store_row(pool, n).await;\n    }\n}\n\
         async fn store_row(pool: &PgPool, n: &str) { app::store(pool, n).await }\n\
         async fn cases(pool: &PgPool) {\n    for n in [\"a\", \"b\"] {\n        app::handle(pool, n).await;\n    }\n}\n",
    );
    let out = gatelint(tmp.path(), &["check", "--no-cache", "--format", "json"]);
    assert_eq!(findings(&out), vec![("non-idempotent-insert".to_string(), "tests/it.rs".to_string(), 3)]);
    // The same loop outside test code is reported, however deep the chain.
    write(
        tmp.path(),
        "src/main.rs",
        "async fn main_loop(pool: &PgPool) {\n    for n in [\"a\", \"b\"] {\n        app::handle(pool, n).await;\n    }\n}\n",
    );
    let out = gatelint(tmp.path(), &["check", "--no-cache", "--format", "json"]);
    let expected = [("non-idempotent-insert", "src/main.rs", 3), ("non-idempotent-insert", "tests/it.rs", 3)];
    assert_eq!(findings(&out), expected.map(|(r, p, l)| (r.to_string(), p.to_string(), l)));
}
