//! # parse-error
//!
//! ## What it does
//! Reports a `.rs` file that gatelint could not check: it could not be read, it is
//! not valid UTF-8, it does not parse as Rust, it is over 4 GiB, or (over 16 KiB, 4 KiB in
//! debug builds) it may nest too deeply to parse safely (`src/nesting.rs`: more than
//! 16 384 tokens of unfinished brackets, operators or chains; 4 096 in debug builds);
//! also a file that changed while it was being checked. The diagnostic names the file and the position of the problem.
//! Lexical problems are read with rustc's own lexer and worded as rustc words them,
//! with rustc's labels: an unclosed delimiter is reported at the opening delimiter
//! left open (rustc's header points at the end of the file; the opener is where the
//! fix goes), a mismatched closing delimiter at the closer, with the opening
//! delimiter it leaves unclosed as a secondary label (rustc's header points at that
//! opener), an unexpected closing delimiter, an unterminated string, character or
//! block comment where it starts.
//!
//! ## Why is this bad?
//! A gate that silently skips a file it cannot parse passes code nobody checked.
//! Every other file is still checked, but the run fails (exit code 1) so the gap is
//! seen.
//!
//! ## Example
//! ```rust
//! fn broken( {
//! ```
//!
//! ## Use instead
//! Fix the syntax error (the compiler will say the same), convert the file to
//! UTF-8, or split an expression nested hundreds of levels deep.
//!
//! ## Configuration
//! None. This diagnostic is always an error and cannot be turned off; exclude a file
//! with the top-level `exclude` globs in `gatelint.toml` if it is not Rust source.
//!
//! ## Known limitations
//! gatelint parses with `syn`, which accepts some code that `rustc` rejects later
//! (type errors, unresolved names); those files are checked, not reported.

use crate::input::parse::ParseProblem;
use crate::input::source::{FileId, Loc};
use crate::rules::diagnostic::{Diagnostic, Label, Severity};

pub const ID: &str = "parse-error";

/// Emitted by the engine for each file it could not check ([`diagnostic`]).
pub struct ParseError;

// A file that parses has no escape hatch to remove.
crate::rules::rule_made_by_the_engine!(ParseError, |line| line.to_string());

/// The finding for file `id` (text `text`) that could not be read or parsed.
pub fn diagnostic(id: FileId, text: &str, problem: ParseProblem) -> Diagnostic {
    let at = |offset: usize| {
        let mut start = offset.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let end = text[start..].chars().next().map_or(start, |c| start + c.len_utf8());
        Loc::new(id, start, end)
    };
    Diagnostic {
        rule: ID,
        severity: Severity::Error,
        loc: at(problem.offset),
        message: problem.message,
        label: problem.label.unwrap_or_else(|| "gatelint stopped here".to_string()),
        secondary: problem.secondary.into_iter().map(|(o, message)| Label { loc: at(o), message }).collect(),
        why: Some("this file was not checked by any gate; every other file was".into()),
        notes: Vec::new(),
        help: Some("fix the file (rustc reports the same problem) or exclude it in gatelint.toml".to_string()),
    }
}
