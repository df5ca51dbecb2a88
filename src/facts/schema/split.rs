//! One migration file as a list of statements: tokenized once with sqlparser's
//! tokenizer, cut at the `;` that end statements.

use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};
use std::ops::Range;

/// Turns sqlparser's 1-based line/column locations (columns count characters)
/// into byte offsets.
pub(super) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)).collect();
        LineIndex { text, starts }
    }

    /// `None` for the empty location (line 0) sqlparser gives nodes without a span.
    pub(super) fn offset(&self, at: Location) -> Option<usize> {
        let line = usize::try_from(at.line).ok()?.checked_sub(1)?;
        let Some(&start) = self.starts.get(line) else { return Some(self.text.len()) };
        let column = usize::try_from(at.column).unwrap_or(usize::MAX).saturating_sub(1);
        let end = self.starts.get(line + 1).copied().unwrap_or(self.text.len());
        let line_text = &self.text[start..end];
        // ASCII lines (nearly all SQL) need no character walk.
        if line_text.is_ascii() {
            return Some(start + column.min(line_text.len()));
        }
        Some(start + line_text.char_indices().nth(column).map_or(line_text.len(), |(b, _)| b))
    }
}

/// A piece of a file: a statement's tokens (its `;` not included), or the rest of
/// the file after a tokenizer error.
pub(super) enum Piece {
    Statement(Range<usize>),
    /// Byte range and the tokenizer's message.
    Broken(Range<usize>, String),
}

/// The file's tokens (whitespace and comments included, as the parser expects)
/// and its pieces in order. Pieces holding only comments are left out.
pub(super) fn split(text: &str, dialect: &dyn Dialect) -> (Vec<TokenWithSpan>, Vec<Piece>) {
    let mut tokens = Vec::new();
    let error = Tokenizer::new(dialect, text).tokenize_with_location_into_buf(&mut tokens).err();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut body = BodyTracker::default();
    for i in 0..tokens.len() {
        match &tokens[i].token {
            Token::SemiColon if body.depth == 0 => {
                if significant(&tokens[start..i]).is_some() {
                    pieces.push(Piece::Statement(start..i));
                }
                start = i + 1;
                body = BodyTracker::default();
            }
            Token::Word(w) if w.quote_style.is_none() => {
                let next = tokens[i + 1..].iter().find(|t| !matches!(t.token, Token::Whitespace(_)));
                body.word(w.keyword, next.map(|t| &t.token));
            }
            _ => {}
        }
    }
    match error {
        None => {
            if significant(&tokens[start..]).is_some() {
                pieces.push(Piece::Statement(start..tokens.len()));
            }
        }
        Some(error) => {
            // Where the broken statement ends cannot be known (an unterminated
            // string runs to the end of the file): the rest is one piece.
            let lines = LineIndex::new(text);
            let from = significant(&tokens[start..]).map(|(first, _)| first.span.start).unwrap_or(error.location);
            let from = lines.offset(from).unwrap_or(0).min(text.len());
            let end = from + text[from..].trim_end().len();
            pieces.push(Piece::Broken(from..end, error.message));
        }
    }
    (tokens, pieces)
}

/// The first and last tokens that are neither whitespace nor comments.
pub(super) fn significant(tokens: &[TokenWithSpan]) -> Option<(&TokenWithSpan, &TokenWithSpan)> {
    let mut it = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_)));
    let first = it.next()?;
    Some((first, it.next_back().unwrap_or(first)))
}

/// Tracks the `BEGIN … END` body of a `CREATE TRIGGER` / `FUNCTION` /
/// `PROCEDURE` (SQLite triggers, SQL-standard function bodies, MySQL routines), so
/// that the `;` inside it do not end the statement. Only in such statements: a
/// `BEGIN;` elsewhere starts a transaction.
#[derive(Default)]
struct BodyTracker {
    words: u32,
    creates: bool,
    routine: bool,
    depth: u32,
}

impl BodyTracker {
    fn word(&mut self, keyword: Keyword, next: Option<&Token>) {
        self.words += 1;
        if self.words == 1 {
            self.creates = keyword == Keyword::CREATE;
            return;
        }
        if !self.creates {
            return;
        }
        match keyword {
            Keyword::TRIGGER | Keyword::FUNCTION | Keyword::PROCEDURE => self.routine = true,
            Keyword::BEGIN | Keyword::CASE if self.routine => self.depth += 1,
            Keyword::END if self.routine => {
                // `END IF`, `END LOOP`, … close blocks that `BEGIN` did not open.
                let closes_other = matches!(next, Some(Token::Word(w))
                    if ["IF", "LOOP", "WHILE", "REPEAT", "FOR"].iter().any(|k| w.value.eq_ignore_ascii_case(k)));
                if !closes_other {
                    self.depth = self.depth.saturating_sub(1);
                }
            }
            _ => {}
        }
    }
}
