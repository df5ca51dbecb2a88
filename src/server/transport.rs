//! Messages in and out: `Content-Length`-framed JSON-RPC read on a thread of its own,
//! and standard output, where only LSP goes.

use lsp_server::{ErrorCode, Message, Notification};
use lsp_types as lsp;
use std::io::{BufRead, Read, Write};

/// What the reader thread passes on.
pub(super) enum Incoming {
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
pub(super) fn spawn_reader() -> std::sync::mpsc::Receiver<Incoming> {
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
pub(super) struct Output {
    pub(super) stdout: std::io::Stdout,
    /// A write failed: the client is gone.
    pub(super) broken: bool,
}

impl Output {
    pub(super) fn send(&mut self, message: impl Into<Message>) {
        let mut out = self.stdout.lock();
        if message.into().write(&mut out).is_err() {
            self.broken = true;
        }
    }

    pub(super) fn notify(&mut self, method: &str, params: impl serde::Serialize) {
        self.send(Notification::new(method.to_string(), params));
    }

    /// An error response to a message without a usable id (which lsp-server's
    /// `Response` cannot express).
    pub(super) fn send_error(&mut self, id: serde_json::Value, code: ErrorCode, message: &str) {
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

    pub(super) fn show_error(&mut self, message: String) {
        self.notify("window/showMessage", lsp::ShowMessageParams { typ: lsp::MessageType::ERROR, message });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
