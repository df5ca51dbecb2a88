//! Names and expressions in the one spelling the schema keeps them in, so that a
//! rule reading SQL elsewhere finds them whatever case, quoting or spacing it uses.

use super::Dialect;
use super::split::LineIndex;
use sqlparser::ast::{Expr, Ident, ObjectName, ObjectNamePart};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// A column, constraint or index name as the database compares it: Postgres folds
/// unquoted names to lower case and keeps quoted ones as written; SQLite and MySQL
/// compare column and index names without regard to case, quoted or not.
pub fn ident_key(ident: &Ident, dialect: Dialect) -> String {
    part_key(&ident.value, ident.quote_style.is_some(), dialect)
}

/// A table name as [`super::Schema::tables`] keys it: each part by [`ident_key`],
/// the default schema (`public`, SQLite's `main`) dropped, another one kept
/// (`audit.events`).
pub fn table_key(name: &ObjectName, dialect: Dialect) -> String {
    let parts = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => ident_key(ident, dialect),
            ObjectNamePart::Function(f) => f.to_string().to_lowercase(),
        })
        .collect();
    join_parts(parts, dialect)
}

/// [`table_key`] of a name written as text (`public."Users"`).
pub(super) fn key_of_text(text: &str, dialect: Dialect) -> String {
    let parts = split_name(text).into_iter().map(|(value, quoted)| part_key(&value, quoted, dialect)).collect();
    join_parts(parts, dialect)
}

/// [`ident_key`] of a name written as text (`"Email"`).
pub(super) fn ident_of_text(text: &str, dialect: Dialect) -> String {
    match split_name(text).pop() {
        Some((value, quoted)) => part_key(&value, quoted, dialect),
        None => String::new(),
    }
}

fn part_key(value: &str, quoted: bool, dialect: Dialect) -> String {
    if quoted && dialect == Dialect::Postgres { value.to_string() } else { value.to_lowercase() }
}

fn default_schema(dialect: Dialect) -> Option<&'static str> {
    match dialect {
        Dialect::Postgres => Some("public"),
        Dialect::Sqlite => Some("main"),
        // The database a MySQL connection uses is not in the migrations.
        Dialect::Mysql => None,
    }
}

fn join_parts(mut parts: Vec<String>, dialect: Dialect) -> String {
    // `catalog.public.t` and `public.t` are `t`.
    if parts.len() >= 2 && default_schema(dialect) == Some(parts[parts.len() - 2].as_str()) {
        parts.drain(..parts.len() - 1);
    }
    parts.join(".")
}

/// The dotted parts of a name and whether each was quoted (`"`, `` ` `` or `[…]`,
/// a doubled closing quote standing for itself).
fn split_name(text: &str) -> Vec<(String, bool)> {
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let close = match chars.peek() {
            Some('"') => Some('"'),
            Some('`') => Some('`'),
            Some('[') => Some(']'),
            Some(_) => None,
            None => break,
        };
        let mut value = String::new();
        if let Some(close) = close {
            chars.next();
            while let Some(c) = chars.next() {
                if c == close && chars.next_if_eq(&close).is_none() {
                    break;
                }
                value.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|&c| c != '.' && !c.is_whitespace()) {
                value.push(c);
            }
        }
        parts.push((value, close.is_some()));
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'.').is_none() {
            break;
        }
    }
    parts
}

/// Words that stay upper case in a normalized expression (besides function names):
/// the operators and clauses sqlparser prints. Every other unquoted word is a
/// name or a type, and is lower-cased.
const UPPER_WORDS: &[&str] = &[
    "ALL", "AND", "ANY", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "COLLATE", "DESC", "DISTINCT", "ELSE", "END",
    "ESCAPE", "EXISTS", "FALSE", "FROM", "ILIKE", "IN", "INTERVAL", "IS", "LIKE", "NOT", "NULL", "NULLS", "OR",
    "SELECT", "SIMILAR", "SOME", "THEN", "TO", "TRUE", "UNKNOWN", "WHEN", "WHERE",
];

/// An expression as one text whatever its spelling: sqlparser's rendering (one
/// space between words, redundant outer parentheses dropped), function names and
/// SQL words in upper case, other unquoted words (names, types) in lower case, a
/// quoted name as [`ident_key`] reads it (bare when it can be); strings as written.
/// `coalesce( parent_id ,'0')` and `(COALESCE(Parent_Id, '0'))` are both
/// `COALESCE(parent_id, '0')`. Rules comparing an expression from a query with a
/// key's use this on both.
pub fn normalize_expr(expr: &Expr, dialect: Dialect) -> String {
    let mut expr = expr;
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    normalize_text(&expr.to_string(), dialect)
}

/// The word tokens of `text` with their byte ranges and whether a `(` follows
/// (a function name); `None` when it does not tokenize.
fn words(text: &str, dialect: Dialect) -> Option<Vec<(std::ops::Range<usize>, Ident, bool)>> {
    let parser = dialect.parser();
    let mut tokens: Vec<TokenWithSpan> = Vec::new();
    Tokenizer::new(&*parser, text).tokenize_with_location_into_buf(&mut tokens).ok()?;
    tokens.retain(|t| !matches!(t.token, Token::Whitespace(_)));
    let lines = LineIndex::new(text);
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if let Token::Word(w) = &t.token {
            let start = lines.offset(t.span.start)?;
            let end = lines.offset(t.span.end)?;
            let call = matches!(tokens.get(i + 1).map(|t| &t.token), Some(Token::LParen));
            out.push((start..end, Ident { value: w.value.clone(), quote_style: w.quote_style, span: t.span }, call));
        }
    }
    Some(out)
}

/// `text` with each word replaced by what `f` makes of it (`None`: kept).
fn map_words(text: &str, dialect: Dialect, mut f: impl FnMut(&str, &Ident, bool) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (range, ident, call) in words(text, dialect)? {
        if let Some(new) = text.get(range.clone()).and_then(|written| f(written, &ident, call)) {
            out.push_str(&text[copied..range.start]);
            out.push_str(&new);
            copied = range.end;
        }
    }
    out.push_str(&text[copied..]);
    Some(out)
}

fn normalize_text(text: &str, dialect: Dialect) -> String {
    map_words(text, dialect, |written, ident, call| {
        if ident.quote_style.is_some() {
            // `"parent_id"` is `parent_id`; MySQL's `` `Parent_Id` `` too.
            Some(quote(&ident_key(ident, dialect), dialect))
        } else if call || UPPER_WORDS.contains(&ident.value.to_uppercase().as_str()) {
            Some(written.to_uppercase())
        } else {
            Some(written.to_lowercase())
        }
    })
    .unwrap_or_else(|| text.to_string())
}

/// Whether a normalized expression names `column` (an [`ident_key`]).
pub(super) fn mentions(text: &str, column: &str, dialect: Dialect) -> bool {
    words(text, dialect).unwrap_or_default().iter().any(|(_, ident, call)| !call && ident_key(ident, dialect) == column)
}

/// A normalized expression with the column `old` renamed to `new` (both
/// [`ident_key`]s).
pub(super) fn rename_in(text: &str, old: &str, new: &str, dialect: Dialect) -> String {
    map_words(text, dialect, |_, ident, call| (!call && ident_key(ident, dialect) == old).then(|| quote(new, dialect)))
        .unwrap_or_else(|| text.to_string())
}

/// An [`ident_key`] as SQL text: bare when that reads back the same.
pub fn quote(name: &str, dialect: Dialect) -> String {
    let bare = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !UPPER_WORDS.contains(&name.to_uppercase().as_str());
    match dialect {
        _ if bare => name.to_string(),
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}
