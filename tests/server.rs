//! End-to-end tests of `gatelint server`: the real binary driven over its standard
//! input and output as an editor drives it (Content-Length framed JSON-RPC).

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long any one message may take to arrive before the test fails.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A minimal LSP client over the server process's pipes.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Messages from the server, read by a thread (`None`: its output ended).
    incoming: Receiver<Option<Value>>,
    /// What the server wrote to standard error, as it arrives.
    stderr: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    next_id: i64,
}

impl Client {
    fn start(cwd: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatelint"))
            .arg("server")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, incoming) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            loop {
                let message = read_message(&mut stdout);
                let end = message.is_none();
                if sender.send(message).is_err() || end {
                    return;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut pipe, log) = (child.stderr.take().unwrap(), stderr.clone());
        std::thread::spawn(move || {
            let mut chunk = [0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                log.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        let stdin = child.stdin.take();
        Client { child, stdin, incoming, stderr, next_id: 1 }
    }

    /// Starts the server and initialises it (offering `encodings`, when given).
    fn initialized(cwd: &Path, encodings: Option<&[&str]>) -> (Client, Value) {
        let mut client = Client::start(cwd);
        let mut capabilities = json!({});
        if let Some(list) = encodings {
            capabilities = json!({ "general": { "positionEncodings": list } });
        }
        let result =
            client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": capabilities }));
        client.notify("initialized", json!({}));
        (client, result["result"].clone())
    }

    fn write_raw(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("input open");
        stdin.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).unwrap();
        stdin.write_all(body).unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, message: Value) {
        self.write_raw(message.to_string().as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its response (notifications before it are dropped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.wait_for(|m| m["id"] == json!(id) && m.get("method").is_none())
    }

    /// The next message from the server.
    fn recv(&mut self) -> Value {
        match self.incoming.recv_timeout(TIMEOUT) {
            Ok(Some(message)) => message,
            Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                panic!("the server closed its output\nstderr:\n{}", self.stderr())
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no message from the server in {TIMEOUT:?}\nstderr:\n{}", self.stderr())
            }
        }
    }

    /// The first message that satisfies `want`; the others are dropped.
    fn wait_for(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self.recv();
            if want(&message) {
                return message;
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        self.until_diagnostics(uri).1
    }

    /// The messages that arrive before the next diagnostics published for `uri`, and
    /// those diagnostics.
    fn until_diagnostics(&mut self, uri: &str) -> (Vec<Value>, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let message = self.recv();
            if message["method"] == "textDocument/publishDiagnostics" && message["params"]["uri"] == json!(uri) {
                return (before, message["params"]["diagnostics"].as_array().unwrap().clone());
            }
            before.push(message);
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        let document = json!({ "uri": uri, "languageId": "rust", "version": 1, "text": text });
        self.notify("textDocument/didOpen", json!({ "textDocument": document }));
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| String::from_utf8_lossy(&s).into_owned()).unwrap_or_default()
    }

    /// Standard error once it contains `text`.
    fn stderr_with(&self, text: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let stderr = self.stderr();
            if stderr.contains(text) || Instant::now() > deadline {
                return stderr;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes the input after `exit` and returns the exit code.
    fn exit(mut self) -> i32 {
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("exited normally, not by a signal");
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit after `exit`");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `shutdown` then `exit`: returns the exit code.
    fn shutdown(mut self) -> i32 {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response["result"], Value::Null, "{response}");
        assert!(response.get("error").is_none(), "{response}");
        self.exit()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A failed test must not leave the server running.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One framed message, or `None` when the output ends.
fn read_message(input: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(": ").unwrap_or_else(|| panic!("not an LSP header: {line:?}"));
        if name.eq_ignore_ascii_case("Content-Length") {
            length = Some(value.parse::<usize>().unwrap());
        }
    }
    let mut body = vec![0; length.expect("Content-Length")];
    input.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body))))
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A crate in a temporary directory (canonical path: the server canonicalises too).
fn crate_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    write(&root, "Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    write(&root, "src/lib.rs", "pub mod handlers;\n");
    (tmp, root)
}

fn uri(path: &Path) -> String {
    let text = path.to_str().unwrap();
    assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-._".contains(&b)), "plain path: {text}");
    format!("file://{text}")
}

/// (rule, 0-based start line, start column) of each diagnostic.
fn codes(diagnostics: &[Value]) -> Vec<(String, u64, u64)> {
    diagnostics
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["range"]["start"]["character"].as_u64().unwrap(),
            )
        })
        .collect()
}

const BUGGY: &str = r#"//! Workspace import handlers.
use sqlx::PgPool;

pub const DEFAULT_LISTEN_ADDR: &str = ":9100";

pub async fn import(pool: &PgPool, names: &[String]) -> sqlx::Result<()> {
    for name in names {
        sqlx::query("INSERT INTO workspaces (id, name) VALUES (gen_random_uuid(), $1)").bind(name).execute(pool).await?;
    }
    Ok(())
}
"#;

const FIXED: &str = r#"//! Workspace import handlers.
use sqlx::PgPool;

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:9100";

pub async fn import(pool: &PgPool, names: &[String]) -> sqlx::Result<()> {
    for name in names {
        sqlx::query("INSERT INTO workspaces (id, name) VALUES (gen_random_uuid(), $1) ON CONFLICT DO NOTHING")
            .bind(name)
            .execute(pool)
            .await?;
    }
    Ok(())
}
"#;

/// The rule documentation link: present exactly when the page exists in this tree.
fn expected_doc_link(rule: &str) -> Value {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules").join(format!("{rule}.md"));
    if page.is_file() { json!({ "href": uri(&page) }) } else { Value::Null }
}

#[test]
fn open_publishes_findings_and_an_unsaved_fix_clears_them() {
    let (_tmp, root) = crate_dir();
    write(&root, "src/handlers.rs", BUGGY);
    let doc = uri(&root.join("src/handlers.rs"));
    let (mut client, init) = Client::initialized(&root, None);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16", "{init}");
    assert_eq!(init["capabilities"]["textDocumentSync"]["change"], 1, "full sync: {init}");
    assert_eq!(init["serverInfo"]["name"], "gatelint");

    client.open(&doc, BUGGY);
    let found = client.diagnostics(&doc);
    assert_eq!(
        codes(&found),
        [("wildcard-listen-default".into(), 3, 38), ("non-idempotent-insert".into(), 7, 20)],
        "{found:#?}"
    );
    let listen = &found[0];
    assert_eq!(listen["severity"], 1);
    assert_eq!(listen["source"], "gatelint");
    assert_eq!(listen["range"]["end"], json!({ "line": 3, "character": 45 }));
    let message = listen["message"].as_str().unwrap();
    assert!(message.starts_with("listen default `\":9100\"` binds every network interface"), "{message}");
    assert!(message.contains("\nhelp: "), "help is part of the message: {message}");
    assert_eq!(
        listen.get("codeDescription").cloned().unwrap_or(Value::Null),
        expected_doc_link("wildcard-listen-default")
    );
    // The insert's secondary label: the loop that repeats it, in the same document.
    let related = found[1]["relatedInformation"].as_array().expect("related information");
    let the_loop = related.iter().find(|r| r["message"] == "this `for` loop repeats it").expect("the loop label");
    assert_eq!(the_loop["location"]["uri"], json!(doc));
    assert_eq!(the_loop["location"]["range"]["start"], json!({ "line": 6, "character": 4 }));

    // The fix is not saved: the file on disk is still buggy.
    client.change(&doc, 2, FIXED);
    let message = client.wait_for(|m| m["method"] == "textDocument/publishDiagnostics");
    assert_eq!(message["params"]["uri"], json!(doc));
    assert_eq!(message["params"]["version"], 2);
    assert_eq!(message["params"]["diagnostics"], json!([]));

    // Back to the buggy text, then closed: the diagnostics are cleared.
    client.change(&doc, 3, BUGGY);
    assert_eq!(client.diagnostics(&doc).len(), 2);
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": doc } }));
    assert_eq!(client.diagnostics(&doc), Vec::<Value>::new());
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn facts_come_from_the_rest_of_the_crate_and_its_other_open_documents() {
    let (_tmp, root) = crate_dir();
    let helper = "use sqlx::PgPool;\n\npub async fn create_child(pool: &PgPool, name: &str) -> sqlx::Result<()> {\n    sqlx::query(\"INSERT INTO workspaces (id, name) VALUES (gen_random_uuid(), $1)\").bind(name).execute(pool).await?;\n    Ok(())\n}\n";
    let caller = "use sqlx::PgPool;\n\npub async fn import_all(pool: &PgPool, names: &[String]) -> sqlx::Result<()> {\n    for name in names {\n        crate::db::create_child(pool, name).await?;\n    }\n    Ok(())\n}\n";
    write(&root, "src/db.rs", helper);
    write(&root, "src/import.rs", caller);
    let (db, import) = (uri(&root.join("src/db.rs")), uri(&root.join("src/import.rs")));
    // Started elsewhere, as an editor may: the crate's paths are not below the working directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let (mut client, _) = Client::initialized(elsewhere.path(), None);

    client.open(&import, caller);
    let found = client.diagnostics(&import);
    assert_eq!(codes(&found), [("non-idempotent-insert".into(), 4, 19)], "{found:#?}");
    let related = found[0]["relatedInformation"].as_array().expect("related information");
    let in_db: Vec<(&str, &Value)> = related
        .iter()
        .filter(|r| r["location"]["uri"] == json!(db))
        .map(|r| (r["message"].as_str().unwrap(), &r["location"]["range"]["start"]))
        .collect();
    assert_eq!(
        in_db,
        [
            ("`create_child` does not guard the INSERT it runs", &json!({ "line": 2, "character": 13 })),
            ("the INSERT INTO `workspaces` it reaches", &json!({ "line": 3, "character": 16 })),
        ],
        "labels in the helper's file: {related:#?}"
    );

    // The helper, opened and guarded without saving: the caller is checked again with it.
    client.open(&db, helper);
    assert_eq!(client.diagnostics(&db), Vec::<Value>::new(), "findings of other files are not the helper's");
    let guarded = helper.replace("$1)\")", "$1) ON CONFLICT DO NOTHING\")");
    assert_ne!(guarded, helper);
    client.change(&db, 2, &guarded);
    assert_eq!(client.diagnostics(&import), Vec::<Value>::new());
    // Closed unsaved: the helper on disk inserts again.
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": db } }));
    assert_eq!(codes(&client.diagnostics(&import)), [("non-idempotent-insert".into(), 4, 19)]);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_new_file_not_saved_yet_is_checked_with_the_rest_of_its_crate() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    write(&root, "Cargo.toml", "[workspace]\nmembers = [\"crates/handlers\"]\n");
    let handlers = root.join("crates/handlers");
    write(&handlers, "Cargo.toml", "[package]\nname = \"handlers\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    write(&handlers, "src/lib.rs", "pub mod db;\npub mod handlers;\n");
    let helper = "use sqlx::PgPool;\n\npub async fn create_child(pool: &PgPool, name: &str) -> sqlx::Result<()> {\n    sqlx::query(\"INSERT INTO workspaces (id, name) VALUES (gen_random_uuid(), $1)\").bind(name).execute(pool).await?;\n    Ok(())\n}\n";
    write(&handlers, "src/db.rs", helper);
    // Neither the file nor its folder exists yet.
    let new_file = handlers.join("src/handlers/import_v2.rs");
    assert!(!new_file.parent().unwrap().exists());
    let text = "use sqlx::PgPool;\n\npub const DEFAULT_LISTEN_ADDR: &str = \":9100\";\n\npub async fn import_all(pool: &PgPool, names: &[String]) -> sqlx::Result<()> {\n    for name in names {\n        crate::db::create_child(pool, name).await?;\n    }\n    Ok(())\n}\n";
    let (doc, db) = (uri(&new_file), uri(&handlers.join("src/db.rs")));
    let (mut client, _) = Client::initialized(&root, None);

    client.open(&doc, text);
    let found = client.diagnostics(&doc);
    assert_eq!(
        codes(&found),
        [("wildcard-listen-default".into(), 2, 38), ("non-idempotent-insert".into(), 6, 19)],
        "the helper in another file of the crate counts: {found:#?}"
    );
    let related = found[1]["relatedInformation"].as_array().expect("related information");
    assert!(related.iter().any(|r| r["location"]["uri"] == json!(db)), "labels in the helper's file: {related:#?}");

    // The crate's other open documents count with it: guarding the helper unsaved
    // clears the finding in the new file.
    client.open(&db, helper);
    assert_eq!(client.diagnostics(&db), Vec::<Value>::new());
    client.change(&db, 2, &helper.replace("$1)\")", "$1) ON CONFLICT DO NOTHING\")"));
    assert_eq!(codes(&client.diagnostics(&doc)), [("wildcard-listen-default".into(), 2, 38)]);
    assert!(!new_file.exists(), "the server writes nothing");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn columns_count_utf16_code_units_unless_the_client_offers_utf8_or_utf32() {
    let (_tmp, root) = crate_dir();
    // A non-ASCII line before the finding, and non-ASCII text before it on its line:
    // `é` is 2 UTF-8 bytes and 1 UTF-16 unit, `𝄞` 4 bytes and 2 units.
    let text = "// Ünïcödé line before the finding.\n/* é𝄞 */ pub const LISTEN_ADDR: &str = \"0.0.0.0:9100\";\n";
    write(&root, "src/handlers.rs", text);
    let doc = uri(&root.join("src/handlers.rs"));
    for (offered, encoding, column) in [
        (None, "utf-16", 40),
        (Some(&["utf-16", "utf-8"][..]), "utf-8", 43),
        (Some(&["utf-32", "utf-16"][..]), "utf-32", 39),
    ] {
        let (mut client, init) = Client::initialized(&root, offered);
        assert_eq!(init["capabilities"]["positionEncoding"], encoding);
        client.open(&doc, text);
        let found = client.diagnostics(&doc);
        assert_eq!(codes(&found), [("wildcard-listen-default".into(), 1, column)], "{encoding}: {found:#?}");
        assert_eq!(client.shutdown(), 0);
    }
}

#[test]
fn a_document_that_does_not_parse_gets_its_parse_error() {
    let (_tmp, root) = crate_dir();
    let text = "pub fn ok() {}\n\npub fn broken( {\n";
    write(&root, "src/handlers.rs", "pub fn ok() {}\n");
    let doc = uri(&root.join("src/handlers.rs"));
    let (mut client, _) = Client::initialized(&root, None);
    client.open(&doc, text);
    let found = client.diagnostics(&doc);
    // At the unclosed `(`, as rustc reports it; the `{` left open too is related.
    assert_eq!(codes(&found), [("parse-error".into(), 2, 13)], "{found:#?}");
    assert!(found[0]["message"].as_str().unwrap().starts_with("cannot parse Rust: unclosed delimiter `(`"));
    assert_eq!(found[0]["relatedInformation"][0]["location"]["range"]["start"]["character"], 15);
    assert_eq!(found[0]["severity"], 1);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn documents_outside_a_crate_and_not_saved_yet_are_checked_on_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(tmp.path()).unwrap();
    assert!(!dir.ancestors().any(|d| d.join("Cargo.toml").is_file()), "no crate above the temporary directory");
    let text = "pub const LISTEN_ADDR: &str = \"0.0.0.0:9100\";\n";
    write(&dir, "script.rs", text);
    let (mut client, _) = Client::initialized(&dir, None);
    for doc in [uri(&dir.join("script.rs")), uri(&dir.join("never_saved.rs")), "untitled:Untitled-1".to_string()] {
        client.open(&doc, text);
        assert_eq!(codes(&client.diagnostics(&doc)), [("wildcard-listen-default".into(), 0, 30)], "{doc}");
    }
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_configuration_error_is_shown_and_not_a_crash() {
    let (_tmp, root) = crate_dir();
    write(&root, "gatelint.toml", "[rules.wildcard-listen-default]\nlisten-nams = [\"addr\"]\n");
    write(&root, "src/handlers.rs", BUGGY);
    let doc = uri(&root.join("src/handlers.rs"));
    let config = uri(&root.join("gatelint.toml"));
    let (mut client, _) = Client::initialized(&root, None);
    client.open(&doc, BUGGY);
    let (before, found) = client.until_diagnostics(&doc);
    assert_eq!(found, Vec::<Value>::new(), "nothing is checked with a broken configuration");
    let shown: Vec<&Value> = before.iter().filter(|m| m["method"] == "window/showMessage").collect();
    assert_eq!(shown.len(), 1, "{before:#?}");
    assert_eq!(shown[0]["params"]["type"], 1, "an error: {shown:?}");
    // No workspace root given: the file's absolute path.
    let text = shown[0]["params"]["message"].as_str().unwrap();
    let expected = format!(
        "gatelint: configuration error: {}:2:1: unknown key `listen-nams`",
        root.join("gatelint.toml").display()
    );
    assert!(text.starts_with(&expected), "{text}");
    // Standard error says it too, with the server's prefix alone.
    let stderr = client.stderr_with("configuration error");
    assert!(stderr.contains(&format!("gatelint server: {}", &expected["gatelint: ".len()..])), "{stderr}");
    let at_config: Vec<&Value> = before.iter().filter(|m| m["params"]["uri"] == json!(config)).collect();
    assert_eq!(at_config.len(), 1, "{before:#?}");
    let diagnostic = &at_config[0]["params"]["diagnostics"][0];
    // The key, with a code and a source as every gatelint diagnostic.
    let key = json!({ "start": { "line": 1, "character": 0 }, "end": { "line": 1, "character": 11 } });
    assert_eq!(diagnostic["range"], key, "{diagnostic}");
    assert_eq!((&diagnostic["code"], &diagnostic["source"]), (&json!("configuration"), &json!("gatelint")));
    assert!(diagnostic["message"].as_str().unwrap().starts_with("unknown key `listen-nams`"), "{diagnostic}");
    // The same error again: not shown again.
    client.change(&doc, 2, FIXED);
    let (before, _) = client.until_diagnostics(&doc);
    assert!(before.iter().all(|m| m["method"] != "window/showMessage"), "{before:#?}");

    // Fixed: the next check clears the configuration's diagnostic and finds the bugs.
    write(&root, "gatelint.toml", "[rules.wildcard-listen-default]\nlisten-names = [\"addr\"]\n");
    client.change(&doc, 3, BUGGY);
    client.notify("textDocument/didSave", json!({ "textDocument": { "uri": doc } }));
    assert_eq!(client.diagnostics(&config), Vec::<Value>::new());
    assert_eq!(codes(&client.diagnostics(&doc)).len(), 2);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_configuration_error_names_the_file_from_the_workspace_root_and_underlines_the_token() {
    let tmp = tempfile::tempdir().unwrap();
    let workspace = std::fs::canonicalize(tmp.path()).unwrap();
    let team = workspace.join("team");
    write(&team, "Cargo.toml", "[package]\nname = \"team\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    write(&team, "src/lib.rs", "pub fn f() {}\n");
    let entry = "[[rules.insert-allowlist.functions]]\nname = \"import\"\nmechanism = \"preflite\"\nreason = \"x\"\n";
    write(&team, "gatelint.toml", entry);
    let (doc, config) = (uri(&team.join("src/lib.rs")), uri(&team.join("gatelint.toml")));
    // Started elsewhere, as an editor may; the workspace is given as a folder.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut client = Client::start(elsewhere.path());
    let folders = json!([{ "uri": uri(&workspace), "name": "workspace" }]);
    client.request("initialize", json!({ "processId": null, "workspaceFolders": folders, "capabilities": {} }));
    client.notify("initialized", json!({}));
    client.open(&doc, "pub fn f() {}\n");
    let (before, _) = client.until_diagnostics(&doc);
    let shown = before.iter().find(|m| m["method"] == "window/showMessage").expect("shown");
    let text = shown["params"]["message"].as_str().unwrap();
    assert!(text.starts_with("gatelint: configuration error: team/gatelint.toml:3:13: "), "{text}");
    let published = before.iter().find(|m| m["params"]["uri"] == json!(config)).expect("published");
    // Only where the error starts is known: the quoted value there.
    let value = json!({ "start": { "line": 2, "character": 12 }, "end": { "line": 2, "character": 22 } });
    assert_eq!(published["params"]["diagnostics"][0]["range"], value, "{published}");
    assert_eq!(published["params"]["diagnostics"][0]["code"], "configuration");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn protocol_errors_are_answered_and_the_server_keeps_running() {
    let (_tmp, root) = crate_dir();
    let mut client = Client::start(&root);
    // Before `initialize`: requests are refused, the server waits.
    let early = client.request("textDocument/hover", json!({}));
    assert_eq!(early["error"]["code"], -32002, "{early}");
    client.request("initialize", json!({ "capabilities": {} }));
    client.notify("initialized", json!({}));

    // Not JSON; JSON but not a message; no Content-Length at all.
    client.write_raw(b"{ this is not json");
    let reply = client.recv();
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (Value::Null, json!(-32700)), "{reply}");
    client.send(json!({ "jsonrpc": "2.0", "id": 7, "method": 42 }));
    let reply = client.recv();
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (json!(7), json!(-32600)), "{reply}");
    client.stdin.as_mut().unwrap().write_all(b"Content-Type: x\r\n\r\n").unwrap();
    assert_eq!(client.recv()["error"]["code"], -32700);

    // An unknown request, unknown notifications, bad parameters, a document never opened.
    let unknown = client.request("textDocument/hover", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    client.notify("$/unknownNotification", json!({ "x": 1 }));
    client.notify("textDocument/didOpen", json!({ "textDocument": 5 }));
    client.change("file:///nowhere/never_opened.rs", 2, "fn f() {}");
    // Still answering, and checking.
    let doc = uri(&root.join("src/handlers.rs"));
    write(&root, "src/handlers.rs", BUGGY);
    client.open(&doc, BUGGY);
    assert_eq!(client.diagnostics(&doc).len(), 2);

    let response = client.request("shutdown", Value::Null);
    assert!(response.get("error").is_none(), "{response}");
    let after = client.request("textDocument/hover", json!({}));
    assert_eq!(after["error"]["code"], -32600, "requests after shutdown are invalid: {after}");
    assert_eq!(client.exit(), 0);
}

#[test]
fn exit_without_shutdown_exits_1() {
    let (_tmp, root) = crate_dir();
    let (client, _) = Client::initialized(&root, None);
    assert_eq!(client.exit(), 1);
}
