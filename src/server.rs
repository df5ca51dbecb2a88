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

use crate::config::Config;
use crate::engine::{self, Report, RunOptions};
use crate::input::source::SourceDb;
use crate::rules::diagnostic::{Diagnostic, Severity};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

/// How LSP positions count columns, negotiated at initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    /// The client's most preferred of utf-8 and utf-32 (its list is in order of
    /// preference), else utf-16, which every client supports.
    pub fn negotiate(offered: &[&str]) -> Encoding {
        offered
            .iter()
            .find_map(|e| match *e {
                "utf-8" => Some(Encoding::Utf8),
                "utf-32" => Some(Encoding::Utf32),
                _ => None,
            })
            .unwrap_or(Encoding::Utf16)
    }

    fn kind(self) -> lsp::PositionEncodingKind {
        match self {
            Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
            Encoding::Utf32 => lsp::PositionEncodingKind::UTF32,
        }
    }

    /// How many columns `c` takes.
    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf32 => 1,
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The LSP position of byte `offset` of `text` (clamped to the text and moved back to
/// a character boundary). Lines end at `\n`, as gatelint's own positions do.
pub fn position(text: &str, offset: usize, encoding: Encoding) -> lsp::Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = memchr::memchr_iter(b'\n', before.as_bytes()).count();
    let character: usize = before[line_start..].chars().map(|c| encoding.width(c)).sum();
    lsp::Position::new(to_u32(line), to_u32(character))
}

/// The byte offset of an LSP position in `text`: a line past the end is the end of the
/// text, a column past the end of its line is the end of the line (before its `\n`),
/// and a column inside a character (half a surrogate pair) is that character's start.
pub fn offset(text: &str, position: lsp::Position, encoding: Encoding) -> usize {
    let mut start = 0;
    for _ in 0..position.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut column = 0;
    for (i, c) in text[start..end].char_indices() {
        let next = column + encoding.width(c);
        if next > position.character as usize {
            return start + i;
        }
        column = next;
    }
    end
}

/// The path of a `file:` URI (`None` for other schemes and for hosts other than
/// `localhost`).
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let (scheme, rest) = uri.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("file") {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let path = match rest.strip_prefix("//") {
        Some(authority_and_path) => {
            let slash = authority_and_path.find('/').unwrap_or(authority_and_path.len());
            let (authority, path) = authority_and_path.split_at(slash);
            if !(authority.is_empty() || authority.eq_ignore_ascii_case("localhost")) {
                return None;
            }
            path
        }
        None => rest,
    };
    if !path.starts_with('/') {
        return None;
    }
    let bytes = percent_decode(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        let path = String::from_utf8(bytes).ok()?;
        // `/C:/dir/file.rs` names `C:/dir/file.rs`.
        let drive = path.len() >= 3 && path.as_bytes()[2] == b':';
        Some(PathBuf::from(if drive { &path[1..] } else { &path[..] }))
    }
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The `file:` URI of an absolute path, every byte but unreserved ones and `/`
/// percent-encoded.
pub fn path_to_uri(path: &Path) -> Option<lsp::Uri> {
    if !path.is_absolute() {
        return None;
    }
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = {
        let text = path.to_str()?.replace('\\', "/");
        if text.starts_with('/') { text } else { format!("/{text}") }.into_bytes()
    };
    let mut uri = String::from("file://");
    for b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    lsp::Uri::from_str(&uri).ok()
}

/// Where a rule's documentation is linked from its diagnostics: its page
/// `docs/rules/<rule>.md` in the gatelint source tree this binary was built from, while
/// that file exists (the repository has no public address to link to).
pub fn rule_doc_link(rule: &str) -> Option<lsp::Uri> {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join("rules").join(format!("{rule}.md"));
    if page.is_file() { path_to_uri(&page) } else { None }
}

/// The diagnostic's text: the message, then the primary label when the message does
/// not already say it, then every note (`note: …`) and the help (`help: …`), each on a
/// line of its own. Notes and help are part of the message rather than related
/// information because the message is what every editor shows (in the hover, the
/// problems list, Neovim's float and virtual text), while related information is shown
/// by some editors only (VS Code) and, without a location of its own, would point back
/// at the finding itself. Secondary labels, which have locations, are related
/// information.
pub fn message(d: &Diagnostic) -> String {
    let mut text = d.message.clone();
    let label = d.label.trim();
    if !label.is_empty() && !d.message.contains(label) {
        text.push('\n');
        text.push_str(label);
    }
    // Each editor diagnostic stands alone: the rule's incident note goes on every one.
    for note in d.why.iter().chain(&d.notes) {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    text
}

fn range(text: &str, loc: &crate::input::source::Loc, encoding: Encoding) -> lsp::Range {
    lsp::Range::new(position(text, loc.start as usize, encoding), position(text, loc.end as usize, encoding))
}

/// The `code` of a diagnostic on a configuration file that cannot be used.
pub const CONFIGURATION_CODE: &str = "configuration";

/// The bytes of a configuration file's `text` to underline for an error at `span`: the
/// span, or where only its start is known the token there (a quoted string, a key or
/// value) else the rest of the line; without a span, the first line. The range ends on
/// the line it starts on, and is at least one character wide unless the text has none
/// (an error at the end of a line or on an empty one moves back to the last character
/// before it).
pub fn config_error_span(text: &str, span: Option<std::ops::Range<usize>>) -> std::ops::Range<usize> {
    let boundary_before = |mut at: usize| {
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let start = boundary_before(span.as_ref().map_or(0, |s| s.start).min(text.len()));
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_end = if text[..line_end].ends_with('\r') { line_end - 1 } else { line_end };
    if start >= line_end {
        // At the end of a line: its last character, or the last one before it.
        let before = text[..start.min(line_end)].trim_end_matches(['\n', '\r']);
        return match before.chars().next_back() {
            Some(last) => before.len() - last.len_utf8()..before.len(),
            None => start..start,
        };
    }
    let rest = &text[start..line_end];
    let token = match rest.chars().next() {
        _ if span.is_none() => rest.len(),
        Some(quote @ ('"' | '\'')) => rest[1..].find(quote).map_or(rest.len(), |i| i + 2),
        Some(c) if c.is_alphanumeric() || c == '-' || c == '_' => {
            rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(rest.len())
        }
        _ => rest.len(),
    };
    let end = match span {
        Some(s) if s.end > start => boundary_before(s.end.min(line_end)),
        _ => start + token,
    };
    let first = rest.chars().next().map_or(0, char::len_utf8);
    start..end.max(start + first)
}

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

/// One gatelint finding as an LSP diagnostic. `uri_of` names the file of a file id.
fn to_lsp(
    d: &Diagnostic,
    db: &SourceDb,
    encoding: Encoding,
    uri_of: &dyn Fn(usize) -> Option<lsp::Uri>,
) -> lsp::Diagnostic {
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|label| {
            let uri = uri_of(label.loc.file)?;
            let range = range(db.get(label.loc.file).text(), &label.loc, encoding);
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(uri, range),
                message: label.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(db.get(d.loc.file).text(), &d.loc, encoding),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.rule.to_string())),
        code_description: rule_doc_link(d.rule).map(|href| lsp::CodeDescription { href }),
        source: Some("gatelint".to_string()),
        message: message(d),
        related_information: (!related.is_empty()).then_some(related),
        // An unused suppression is dead text: editors fade it.
        tags: (d.rule == crate::rules::unused_suppression::ID).then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        data: None,
    }
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

/// What the reader thread passes on.
enum Incoming {
    Message(Message),
    /// A frame that is not a JSON-RPC message: answered with this error (`id` is the
    /// message's id where it has a usable one, else null).
    Invalid {
        id: serde_json::Value,
        code: ErrorCode,
        message: String,
    },
}

/// Reads framed messages from standard input until it ends or `exit` arrives.
/// lsp-server's own stdio transport is not used: it stops reading at the first
/// malformed message and allocates whatever a `Content-Length` header claims before
/// reading it, so one bad frame would end or abort the server; this one answers it with
/// an error and reads on.
fn spawn_reader() -> std::sync::mpsc::Receiver<Incoming> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("gatelint-lsp-reader".into()).spawn(move || {
        let stdin = std::io::stdin();
        let mut input = std::io::BufReader::new(stdin.lock());
        loop {
            let incoming = match read_frame(&mut input) {
                Frame::End => return,
                Frame::Malformed(message) => {
                    Incoming::Invalid { id: serde_json::Value::Null, code: ErrorCode::ParseError, message }
                }
                Frame::Body(body) => parse_message(&body),
            };
            let exit = matches!(&incoming, Incoming::Message(Message::Notification(n)) if n.method == "exit");
            if sender.send(incoming).is_err() || exit {
                return;
            }
        }
    });
    if let Err(e) = spawned {
        // The receiver sees a closed connection and the server stops.
        eprintln!("gatelint server: cannot start the reader thread: {e}");
    }
    receiver
}

fn parse_message(body: &[u8]) -> Incoming {
    match serde_json::from_slice::<Message>(body) {
        Ok(message) => Incoming::Message(message),
        Err(e) => match serde_json::from_slice::<serde_json::Value>(body) {
            Err(_) => Incoming::Invalid {
                id: serde_json::Value::Null,
                code: ErrorCode::ParseError,
                message: format!("malformed JSON: {e}"),
            },
            Ok(value) => {
                let id = match value.get("id") {
                    Some(id @ (serde_json::Value::Number(_) | serde_json::Value::String(_))) => id.clone(),
                    _ => serde_json::Value::Null,
                };
                Incoming::Invalid {
                    id,
                    code: ErrorCode::InvalidRequest,
                    message: format!("not a JSON-RPC message: {e}"),
                }
            }
        },
    }
}

enum Frame {
    Body(Vec<u8>),
    /// A bad header; the reader goes on with the next frame.
    Malformed(String),
    /// The input ended (possibly inside a frame).
    End,
}

/// A header line longer than this is not LSP.
const MAX_HEADER_LINE: u64 = 8 << 10;

/// Reads one `Content-Length`-framed message body.
fn read_frame(input: &mut impl BufRead) -> Frame {
    let mut length: Option<Result<u64, String>> = None;
    let mut malformed = None;
    loop {
        let mut line = Vec::new();
        match input.by_ref().take(MAX_HEADER_LINE).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return Frame::End,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') {
            if line.len() as u64 >= MAX_HEADER_LINE {
                malformed.get_or_insert_with(|| "header line too long".to_string());
                continue;
            }
            return Frame::End;
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        match line.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("Content-Length") => {
                let value = value.trim();
                length = Some(value.parse::<u64>().map_err(|_| format!("bad Content-Length `{value}`")));
            }
            Some(_) => {}
            None => {
                malformed.get_or_insert_with(|| format!("malformed header `{line}`"));
            }
        }
    }
    let length = match (length, malformed) {
        (_, Some(message)) | (Some(Err(message)), _) => return Frame::Malformed(message),
        (None, None) => return Frame::Malformed("no Content-Length header".to_string()),
        (Some(Ok(length)), None) => length,
    };
    // Read as it arrives: the header's claim is not allocated up front.
    let mut body = Vec::new();
    match input.by_ref().take(length).read_to_end(&mut body) {
        Ok(n) if n as u64 == length => Frame::Body(body),
        _ => Frame::End,
    }
}

/// Standard output, where only LSP messages go.
struct Output {
    stdout: std::io::Stdout,
    /// A write failed: the client is gone.
    broken: bool,
}

impl Output {
    fn send(&mut self, message: impl Into<Message>) {
        let mut out = self.stdout.lock();
        if message.into().write(&mut out).is_err() {
            self.broken = true;
        }
    }

    fn notify(&mut self, method: &str, params: impl serde::Serialize) {
        self.send(Notification::new(method.to_string(), params));
    }

    /// An error response to a message without a usable id (which lsp-server's
    /// `Response` cannot express).
    fn send_error(&mut self, id: serde_json::Value, code: ErrorCode, message: &str) {
        let text = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": code as i32, "message": message },
        })
        .to_string();
        let mut out = self.stdout.lock();
        let written = write!(out, "Content-Length: {}\r\n\r\n{text}", text.len()).and_then(|_| out.flush());
        if written.is_err() {
            self.broken = true;
        }
    }

    fn show_error(&mut self, message: String) {
        self.notify("window/showMessage", lsp::ShowMessageParams { typ: lsp::MessageType::ERROR, message });
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

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "let é = 1;\nlet 𝄞x = \"ü\";\n\nlast";

    #[test]
    fn positions_count_columns_in_the_negotiated_encoding() {
        // `x` follows a 4-byte character (2 UTF-16 code units, 1 scalar value).
        let x = TEXT.find('x').unwrap();
        assert_eq!(position(TEXT, x, Encoding::Utf8), lsp::Position::new(1, 8));
        assert_eq!(position(TEXT, x, Encoding::Utf16), lsp::Position::new(1, 6));
        assert_eq!(position(TEXT, x, Encoding::Utf32), lsp::Position::new(1, 5));
        // `=` after a 2-byte `é` on the first line.
        let eq = TEXT.find('=').unwrap();
        assert_eq!(position(TEXT, eq, Encoding::Utf8), lsp::Position::new(0, 7));
        assert_eq!(position(TEXT, eq, Encoding::Utf16), lsp::Position::new(0, 6));
        // Start of a line, an empty line, the end, past the end, inside a character.
        assert_eq!(position(TEXT, 0, Encoding::Utf16), lsp::Position::new(0, 0));
        let empty = TEXT.find("\n\n").unwrap() + 1;
        assert_eq!(position(TEXT, empty, Encoding::Utf16), lsp::Position::new(2, 0));
        assert_eq!(position(TEXT, TEXT.len(), Encoding::Utf16), lsp::Position::new(3, 4));
        assert_eq!(position(TEXT, TEXT.len() + 10, Encoding::Utf16), lsp::Position::new(3, 4));
        assert_eq!(position(TEXT, x - 1, Encoding::Utf16), lsp::Position::new(1, 4));
    }

    #[test]
    fn offsets_invert_positions_in_every_encoding() {
        for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            for (i, _) in TEXT.char_indices().chain([(TEXT.len(), ' ')]) {
                assert_eq!(offset(TEXT, position(TEXT, i, encoding), encoding), i, "{encoding:?} at {i}");
            }
        }
        let line1 = TEXT.find('\n').unwrap() + 1;
        // Half of the surrogate pair of `𝄞`: the character's start.
        assert_eq!(offset(TEXT, lsp::Position::new(1, 5), Encoding::Utf16), line1 + 4);
        // Past the end of a line: its end; past the last line: the end of the text.
        assert_eq!(offset(TEXT, lsp::Position::new(0, 99), Encoding::Utf16), line1 - 1);
        assert_eq!(offset(TEXT, lsp::Position::new(9, 0), Encoding::Utf16), TEXT.len());
    }

    #[test]
    fn configuration_errors_underline_their_span_or_token_within_one_line() {
        let text = "[rules.x]\nname = \"a b\" # c\nlist = [\n  1,\n]\n\nk = v\r\n";
        let at = |s: &str| text.find(s).unwrap();
        let shown = |span| &text[config_error_span(text, span)];
        // A known span, cut at the end of its first line.
        assert_eq!(shown(Some(at("name")..at("name") + 4)), "name");
        assert_eq!(shown(Some(at("[\n")..at("]\n") + 1)), "[");
        // Only the start known: the quoted string, the key, else the rest of the line.
        assert_eq!(shown(Some(at("\"a")..at("\"a"))), "\"a b\"");
        assert_eq!(shown(Some(at("list")..at("list"))), "list");
        assert_eq!(shown(Some(at("= [")..at("= ["))), "= [");
        // At the end of a line or on an empty one: the last character before it.
        assert_eq!(shown(Some(at(",\n") + 1..at(",\n") + 1)), ",");
        assert_eq!(shown(Some(at("\n\nk") + 1..at("\n\nk") + 1)), "]");
        assert_eq!(shown(Some(at("\r")..at("\r"))), "v");
        assert_eq!(shown(Some(text.len()..text.len() + 5)), "v");
        // No position: the first line. Nothing to underline: empty.
        assert_eq!(shown(None), "[rules.x]");
        assert_eq!(config_error_span("\n\n", Some(1..1)), 1..1);
        // Never inside a character.
        assert_eq!(&"é = 1"[config_error_span("é = 1", Some(1..1))], "é");
    }

    #[test]
    fn encoding_negotiation_prefers_the_clients_choice_of_utf8_or_utf32() {
        assert_eq!(Encoding::negotiate(&[]), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(&["utf-16"]), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(&["utf-16", "utf-8"]), Encoding::Utf8);
        assert_eq!(Encoding::negotiate(&["utf-32", "utf-8", "utf-16"]), Encoding::Utf32);
        assert_eq!(Encoding::negotiate(&["utf-8", "utf-32"]), Encoding::Utf8);
    }

    #[cfg(unix)]
    #[test]
    fn file_uris_and_paths_round_trip() {
        let path = Path::new("/home/a b/crate/src/é#1.rs");
        let uri = path_to_uri(path).unwrap();
        assert_eq!(uri.as_str(), "file:///home/a%20b/crate/src/%C3%A9%231.rs");
        assert_eq!(uri_to_path(uri.as_str()).as_deref(), Some(path));
        assert_eq!(uri_to_path("file://localhost/x/y.rs").as_deref(), Some(Path::new("/x/y.rs")));
        assert_eq!(uri_to_path("FILE:///x/%7e.rs?q#f").as_deref(), Some(Path::new("/x/~.rs")));
        assert_eq!(uri_to_path("untitled:Untitled-1"), None);
        assert_eq!(uri_to_path("file://host/x.rs"), None);
        assert_eq!(uri_to_path("file:///x/%zz.rs"), None);
        assert_eq!(path_to_uri(Path::new("relative.rs")), None);
    }

    #[test]
    fn frames_are_read_one_by_one_and_bad_ones_are_skipped() {
        let input = b"Content-Length: 2\r\n\r\n{}content-length:3\nX-Other: y\r\n\r\nabcNo header\r\n\r\nContent-Length: 99\r\n\r\nshort";
        let mut reader = std::io::BufReader::new(&input[..]);
        assert!(matches!(read_frame(&mut reader), Frame::Body(b) if b == b"{}"));
        assert!(matches!(read_frame(&mut reader), Frame::Body(b) if b == b"abc"));
        assert!(matches!(read_frame(&mut reader), Frame::Malformed(m) if m.contains("No header")));
        // A length the input does not have: the input ended.
        assert!(matches!(read_frame(&mut reader), Frame::End));
        let huge = b"Content-Length: 99999999999999999\r\n\r\n{}";
        assert!(matches!(read_frame(&mut std::io::BufReader::new(&huge[..])), Frame::End));
    }

    #[test]
    fn messages_carry_label_notes_and_help_on_lines_of_their_own() {
        let d = Diagnostic {
            rule: "wildcard-listen-default",
            severity: Severity::Error,
            loc: crate::input::source::Loc::new(0, 0, 1),
            message: "listens on every interface".into(),
            label: "this default".into(),
            secondary: Vec::new(),
            why: Some("incident".into()),
            notes: vec!["what applies".into()],
            help: Some("bind 127.0.0.1".into()),
        };
        assert_eq!(
            message(&d),
            "listens on every interface\nthis default\nnote: incident\nnote: what applies\nhelp: bind 127.0.0.1"
        );
        let same = Diagnostic { label: "every interface".into(), why: None, notes: Vec::new(), help: None, ..d };
        assert_eq!(message(&same), "listens on every interface");
    }
}
