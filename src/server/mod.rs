//! `gatelint server`: a language server (LSP) over standard input and output, so
//! editors show gatelint's findings as the code is typed.
//!
//! Each open Rust document is checked on open, change (full-text sync) and save, with
//! its unsaved text. A document in a crate (the directory of the nearest `Cargo.toml`
//! above its path, whether or not the file itself is on disk yet) is checked as
//! `gatelint check FILE` checks a named file: the rest of its crate is read for
//! crate-wide facts (through the facts cache), findings are published for the document
//! only, and the crate's other open documents supply their unsaved texts too. All open
//! documents of one crate are checked in one run, so a change to a helper in one of
//! them updates the findings of the others. A document in no crate, or not a file
//! (`untitled:`), is checked on its own. The configuration is the `gatelint.toml`
//! nearest the document; an error in it is shown as a message and as a diagnostic on
//! the configuration file.
//!
//! Messages are read on a thread of their own and handled in order on the calling
//! thread; the documents changed by everything that arrived meanwhile are checked
//! together, so a burst of edits costs one check. Only LSP is written to standard
//! output; problems of the server itself go to standard error.

mod diagnostics;
mod positions;
mod transport;

use diagnostics::to_lsp;
pub use diagnostics::{CONFIGURATION_CODE, config_error_span, message, rule_doc_link};
pub use positions::{Encoding, offset, path_to_uri, position, uri_to_path};
use transport::{Incoming, Output, spawn_reader};

use crate::config::Config;
use crate::engine::{self, Report, RunOptions};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The client's workspace folders, else its root (`rootUri`, `rootPath`), canonical.
fn workspace_roots(params: &serde_json::Value) -> Vec<PathBuf> {
    let folders: Vec<PathBuf> = params
        .get("workspaceFolders")
        .and_then(|f| f.as_array())
        .map(|list| list.iter().filter_map(|f| uri_to_path(f.get("uri")?.as_str()?)).collect())
        .unwrap_or_default();
    let roots = if folders.is_empty() {
        let root_uri = params.get("rootUri").and_then(|u| uri_to_path(u.as_str()?));
        let root_path = params.get("rootPath").and_then(|p| Some(PathBuf::from(p.as_str()?)));
        root_uri.or(root_path).filter(|p| p.is_absolute()).into_iter().collect()
    } else {
        folders
    };
    roots.into_iter().map(|root| std::fs::canonicalize(&root).unwrap_or(root)).collect()
}

/// Runs the server until the client's `exit`: 0 after a `shutdown`, else 1 (as the
/// protocol asks); 1 too when the client closes the input without `exit`.
pub fn run() -> ExitCode {
    let incoming = spawn_reader();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut server = Server {
        out: Output { stdout: std::io::stdout(), broken: false },
        state: State::Uninitialized,
        encoding: Encoding::Utf16,
        cwd: std::fs::canonicalize(&cwd).unwrap_or(cwd),
        workspace_roots: Vec::new(),
        docs: BTreeMap::new(),
        dirty: BTreeSet::new(),
        published: HashMap::new(),
        shown_errors: HashMap::new(),
        config_diagnosed: BTreeSet::new(),
    };
    loop {
        let Ok(first) = incoming.recv() else {
            eprintln!("gatelint server: the client closed the connection without `exit`");
            return ExitCode::from(1);
        };
        // Everything that arrived meanwhile, then one check of the changed documents.
        for message in std::iter::once(first).chain(incoming.try_iter()) {
            if let Some(code) = server.handle(message) {
                return code;
            }
        }
        if server.state == State::Running {
            server.check_dirty();
        }
        if server.out.broken {
            eprintln!("gatelint server: cannot write to the client; stopping");
            return ExitCode::from(1);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Uninitialized,
    Running,
    /// `shutdown` was answered; only `exit` is expected.
    ShutDown,
}

struct Document {
    uri: lsp::Uri,
    /// The file of a `file:` URI (canonical as far as it exists: it may not be saved yet).
    path: Option<PathBuf>,
    version: i32,
    text: String,
}

/// How a document is checked, and with which documents together.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Scope {
    /// A file in a crate, on disk or not yet: named-file mode over the crate at `root`.
    Crate { root: PathBuf, config: Option<PathBuf> },
    /// On its own, in memory: in no crate, or not a file.
    Alone { uri: String, config: Option<PathBuf> },
}

impl Scope {
    fn config(&self) -> Option<&Path> {
        match self {
            Scope::Crate { config, .. } | Scope::Alone { config, .. } => config.as_deref(),
        }
    }
}

struct Server {
    out: Output,
    state: State,
    encoding: Encoding,
    /// The working directory, canonical: file paths in reports are relative to it.
    cwd: PathBuf,
    /// The client's workspace folders (or root), canonical: paths in messages are
    /// relative to the one they lie in.
    workspace_roots: Vec<PathBuf>,
    /// Open Rust documents by URI.
    docs: BTreeMap<String, Document>,
    /// Documents to check once the messages that arrived are handled.
    dirty: BTreeSet<String>,
    /// What was last published for each document.
    published: HashMap<String, Vec<lsp::Diagnostic>>,
    /// The error last shown for a scope (shown again only when it changes).
    shown_errors: HashMap<Scope, String>,
    /// Configuration files with a published error diagnostic.
    config_diagnosed: BTreeSet<PathBuf>,
}

impl Server {
    /// Handles one message; `Some(exit code)` when the server is to stop.
    fn handle(&mut self, incoming: Incoming) -> Option<ExitCode> {
        match incoming {
            Incoming::Invalid { id, code, message } => {
                eprintln!("gatelint server: {message}");
                self.out.send_error(id, code, &message);
                None
            }
            Incoming::Message(Message::Request(request)) => {
                self.request(request);
                None
            }
            Incoming::Message(Message::Notification(n)) if n.method == "exit" => {
                Some(if self.state == State::ShutDown { ExitCode::SUCCESS } else { ExitCode::from(1) })
            }
            Incoming::Message(Message::Notification(n)) => {
                if self.state == State::Running {
                    self.notification(n);
                }
                None
            }
            // The server sends no requests; a response is unexpected but harmless.
            Incoming::Message(Message::Response(_)) => None,
        }
    }

    fn request(&mut self, request: Request) {
        let Request { id, method, params } = request;
        let error = |id: RequestId, code: ErrorCode, message: String| Response::new_err(id, code as i32, message);
        let response = match (self.state, method.as_str()) {
            (State::Uninitialized, "initialize") => {
                let offered: Vec<&str> = params
                    .pointer("/capabilities/general/positionEncodings")
                    .and_then(|v| v.as_array())
                    .map(|list| list.iter().filter_map(|e| e.as_str()).collect())
                    .unwrap_or_default();
                self.encoding = Encoding::negotiate(&offered);
                self.workspace_roots = workspace_roots(&params);
                self.state = State::Running;
                Response::new_ok(id, self.capabilities())
            }
            (State::Uninitialized, _) => {
                error(id, ErrorCode::ServerNotInitialized, format!("`{method}` before `initialize`"))
            }
            (State::Running, "initialize") => error(id, ErrorCode::InvalidRequest, "initialized already".into()),
            (State::Running, "shutdown") => {
                self.state = State::ShutDown;
                Response::new_ok(id, ())
            }
            (State::Running, _) => {
                error(id, ErrorCode::MethodNotFound, format!("gatelint server does not handle `{method}`"))
            }
            (State::ShutDown, _) => error(id, ErrorCode::InvalidRequest, format!("`{method}` after `shutdown`")),
        };
        self.out.send(response);
    }

    fn capabilities(&self) -> lsp::InitializeResult {
        lsp::InitializeResult {
            capabilities: lsp::ServerCapabilities {
                position_encoding: Some(self.encoding.kind()),
                text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(lsp::TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(lsp::TextDocumentSyncKind::FULL),
                    save: Some(lsp::TextDocumentSyncSaveOptions::SaveOptions(lsp::SaveOptions {
                        include_text: Some(false),
                    })),
                    ..Default::default()
                })),
                ..Default::default()
            },
            server_info: Some(lsp::ServerInfo {
                name: "gatelint".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
        }
    }

    fn notification(&mut self, n: Notification) {
        fn params<T: serde::de::DeserializeOwned>(n: Notification) -> Option<T> {
            let method = n.method.clone();
            serde_json::from_value(n.params)
                .map_err(|e| eprintln!("gatelint server: ignoring `{method}` with bad parameters: {e}"))
                .ok()
        }
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Some(p) = params::<lsp::DidOpenTextDocumentParams>(n) else { return };
                let doc = p.text_document;
                let path = uri_to_path(doc.uri.as_str());
                let is_rust = doc.language_id == "rust"
                    || path.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e == "rs"));
                if !is_rust {
                    return;
                }
                let path = path.map(|p| crate::input::discover::canonical_as_far_as_exists(&p));
                let key = doc.uri.as_str().to_string();
                self.docs.insert(key.clone(), Document { uri: doc.uri, path, version: doc.version, text: doc.text });
                self.dirty.insert(key);
            }
            "textDocument/didChange" => {
                let Some(p) = params::<lsp::DidChangeTextDocumentParams>(n) else { return };
                let key = p.text_document.uri.as_str().to_string();
                let encoding = self.encoding;
                let Some(doc) = self.docs.get_mut(&key) else { return };
                for change in p.content_changes {
                    match change.range {
                        // Full sync, as announced.
                        None => doc.text = change.text,
                        // A client that sends ranges anyway.
                        Some(range) => {
                            let start = offset(&doc.text, range.start, encoding);
                            let end = offset(&doc.text, range.end, encoding).max(start);
                            doc.text.replace_range(start..end, &change.text);
                        }
                    }
                }
                doc.version = p.text_document.version;
                self.dirty.insert(key);
            }
            "textDocument/didSave" => {
                let Some(p) = params::<lsp::DidSaveTextDocumentParams>(n) else { return };
                let key = p.text_document.uri.as_str().to_string();
                if let Some(doc) = self.docs.get_mut(&key) {
                    if let Some(text) = p.text {
                        doc.text = text;
                    }
                    self.dirty.insert(key);
                }
            }
            "textDocument/didClose" => {
                let Some(p) = params::<lsp::DidCloseTextDocumentParams>(n) else { return };
                let key = p.text_document.uri.as_str().to_string();
                let Some(doc) = self.docs.remove(&key) else { return };
                self.dirty.remove(&key);
                self.published.remove(&key);
                self.publish(&doc.uri, Vec::new(), None);
                // The crate's other open documents now see the file as it is on disk.
                let scope = self.scope(&doc);
                if matches!(scope, Scope::Crate { .. }) {
                    let same: Vec<String> =
                        self.docs.iter().filter(|(_, d)| self.scope(d) == scope).map(|(k, _)| k.clone()).collect();
                    self.dirty.extend(same);
                }
            }
            // Anything else (`initialized`, `$/cancelRequest`, `$/setTrace`,
            // configuration and workspace notifications) needs nothing.
            _ => {}
        }
    }

    fn scope(&self, doc: &Document) -> Scope {
        let Some(path) = &doc.path else {
            return Scope::Alone { uri: doc.uri.as_str().to_string(), config: Config::discover(&self.cwd) };
        };
        let config = Config::discover(path);
        // A file not saved yet belongs to the crate its path lies in.
        let root = if path.is_file() || !path.exists() {
            path.parent().and_then(crate::input::discover::manifest_dir)
        } else {
            None
        };
        match root {
            Some(root) => Scope::Crate { root, config },
            None => Scope::Alone { uri: doc.uri.as_str().to_string(), config },
        }
    }

    /// Checks the changed documents, each scope once, and publishes the results.
    fn check_dirty(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        let mut scopes: BTreeMap<Scope, BTreeSet<String>> = BTreeMap::new();
        for key in dirty {
            if let Some(doc) = self.docs.get(&key) {
                scopes.entry(self.scope(doc)).or_default().insert(key);
            }
        }
        for (scope, changed) in scopes {
            let members: Vec<String> = match &scope {
                Scope::Crate { .. } => {
                    self.docs.iter().filter(|(_, d)| self.scope(d) == scope).map(|(k, _)| k.clone()).collect()
                }
                Scope::Alone { .. } => changed.iter().cloned().collect(),
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.check(&scope, &members)))
                .unwrap_or_else(|_| {
                    Err(Failure::Run(
                        "internal error while checking (this is a bug in gatelint; please report it with the file)"
                            .into(),
                    ))
                });
            let mut results = match outcome {
                Ok(results) => {
                    self.shown_errors.remove(&scope);
                    if let Some(config) = scope.config().filter(|c| self.config_diagnosed.remove(*c)) {
                        self.publish_config(config, Vec::new());
                    }
                    results
                }
                Err(failure) => {
                    self.report_failure(&scope, failure);
                    BTreeMap::new()
                }
            };
            for key in members {
                let diagnostics = results.remove(&key).unwrap_or_default();
                if !changed.contains(&key) && self.published.get(&key) == Some(&diagnostics) {
                    continue;
                }
                let Some(doc) = self.docs.get(&key) else { continue };
                let (uri, version) = (doc.uri.clone(), doc.version);
                self.published.insert(key, diagnostics.clone());
                self.publish(&uri, diagnostics, Some(version));
            }
        }
    }

    fn publish(&mut self, uri: &lsp::Uri, diagnostics: Vec<lsp::Diagnostic>, version: Option<i32>) {
        let params = lsp::PublishDiagnosticsParams { uri: uri.clone(), diagnostics, version };
        self.out.notify("textDocument/publishDiagnostics", params);
    }

    fn publish_config(&mut self, config: &Path, diagnostics: Vec<lsp::Diagnostic>) {
        if let Some(uri) = path_to_uri(config) {
            self.publish(&uri, diagnostics, None);
        }
    }

    /// Shows why a scope could not be checked (once per distinct problem).
    fn report_failure(&mut self, scope: &Scope, failure: Failure) {
        let problem = match (&failure, scope.config()) {
            (Failure::Config(e), Some(config)) => {
                let shown = crate::config::ConfigError {
                    file: self.shown_path(config),
                    position: e.position,
                    span: e.span.clone(),
                    message: e.message.clone(),
                };
                format!("configuration error: {shown}")
            }
            (Failure::Config(e), None) => format!("configuration error: {e}"),
            (Failure::Run(message), _) => message.clone(),
        };
        eprintln!("gatelint server: {problem}");
        let text = format!("gatelint: {problem}");
        if let (Failure::Config(e), Some(config)) = (&failure, scope.config()) {
            let text_of_config = std::fs::read_to_string(config).unwrap_or_default();
            let at = config_error_span(&text_of_config, e.span.clone());
            let diagnostic = lsp::Diagnostic {
                range: lsp::Range::new(
                    position(&text_of_config, at.start, self.encoding),
                    position(&text_of_config, at.end, self.encoding),
                ),
                severity: Some(lsp::DiagnosticSeverity::ERROR),
                code: Some(lsp::NumberOrString::String(CONFIGURATION_CODE.to_string())),
                source: Some("gatelint".to_string()),
                message: e.message.clone(),
                ..Default::default()
            };
            self.config_diagnosed.insert(config.to_path_buf());
            self.publish_config(config, vec![diagnostic]);
        }
        if self.shown_errors.get(scope) != Some(&text) {
            self.shown_errors.insert(scope.clone(), text.clone());
            self.out.show_error(text);
        }
    }

    /// How a path is named in messages: relative to the workspace folder it lies in
    /// (the innermost), else absolute.
    fn shown_path(&self, path: &Path) -> String {
        match self
            .workspace_roots
            .iter()
            .filter(|root| path.starts_with(root))
            .max_by_key(|root| root.as_os_str().len())
        {
            Some(root) => crate::input::discover::display_path(path, root),
            None => path.display().to_string(),
        }
    }

    /// Checks the documents `members` of `scope`: their diagnostics by URI.
    fn check(&self, scope: &Scope, members: &[String]) -> Result<BTreeMap<String, Vec<lsp::Diagnostic>>, Failure> {
        let config = match scope.config() {
            Some(file) => Config::load(file).map_err(Failure::Config)?,
            None => Config::defaults(),
        };
        let docs: Vec<&Document> = members.iter().filter_map(|k| self.docs.get(k)).collect();
        match scope {
            Scope::Crate { root, .. } => {
                let paths: Vec<PathBuf> = docs.iter().filter_map(|d| d.path.clone()).collect();
                // The facts cache `gatelint check` uses for this crate.
                let options = RunOptions {
                    paths,
                    jobs: None,
                    staged: false,
                    cache_dir: Some(crate::engine::cache::Cache::project_dir(config.file.as_deref(), root)),
                    snippets: false,
                    against: None,
                };
                let overlays: Vec<(PathBuf, Vec<u8>)> = self
                    .docs
                    .values()
                    .filter_map(|d| {
                        Some((d.path.clone().filter(|p| p.starts_with(root))?, d.text.clone().into_bytes()))
                    })
                    .collect();
                let report =
                    engine::run_with_overlays(&options, &config, &overlays).map_err(|e| Failure::Run(e.to_string()))?;
                let by_display: HashMap<String, &Document> = docs
                    .iter()
                    .filter_map(|d| Some((crate::input::discover::display_path(d.path.as_ref()?, &self.cwd), *d)))
                    .collect();
                Ok(self.convert(&report, &by_display))
            }
            Scope::Alone { .. } => {
                let mut results = BTreeMap::new();
                for doc in docs {
                    let display = match &doc.path {
                        Some(path) => path.to_string_lossy().into_owned(),
                        None => doc.uri.as_str().to_string(),
                    };
                    let report = engine::run_in_memory(vec![(display.clone(), doc.text.clone().into_bytes())], &config)
                        .map_err(|e| Failure::Run(e.to_string()))?;
                    results.extend(self.convert(&report, &HashMap::from([(display, doc)])));
                }
                Ok(results)
            }
        }
    }

    /// The report's findings in the documents (by the display path the engine gave
    /// them), as LSP diagnostics by document URI. Findings elsewhere are left out.
    fn convert(&self, report: &Report, docs: &HashMap<String, &Document>) -> BTreeMap<String, Vec<lsp::Diagnostic>> {
        let doc_of = |file: usize| docs.get(&report.db.get(file).display).copied();
        let uri_of = |file: usize| match doc_of(file) {
            Some(doc) => Some(doc.uri.clone()),
            None => {
                let display = Path::new(&report.db.get(file).display);
                path_to_uri(&if display.is_absolute() { display.to_path_buf() } else { self.cwd.join(display) })
            }
        };
        let mut results: BTreeMap<String, Vec<lsp::Diagnostic>> =
            docs.values().map(|d| (d.uri.as_str().to_string(), Vec::new())).collect();
        for d in &report.diagnostics {
            if let Some(doc) = doc_of(d.loc.file) {
                let diagnostic = to_lsp(d, &report.db, self.encoding, &uri_of);
                results.entry(doc.uri.as_str().to_string()).or_default().push(diagnostic);
            }
        }
        results
    }
}

/// Why a scope could not be checked.
enum Failure {
    Config(crate::config::ConfigError),
    Run(String),
}
