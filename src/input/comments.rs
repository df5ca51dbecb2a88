//! A file's comments with positions, from the compiler's own lexer
//! (`ra-ap-rustc_lexer`). syn drops ordinary comments, yet markers and
//! suppressions live in them; a `//` inside `"http://…"` or a raw string is a
//! string, not a comment, and only a real lexer knows the difference.

use ra_ap_rustc_lexer::{FrontmatterAllowed, TokenKind, strip_shebang, tokenize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentKind {
    Line,
    Block,
}

/// A plain comment. Documentation comments (`///`, `//!`, `/** */`, `/*! */`) are
/// documentation, not comments: no marker or suppression lives in them, and they
/// are not collected (a large crate has hundreds of thousands).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub kind: CommentKind,
    /// Byte range of the whole comment, delimiters included.
    pub start: usize,
    pub end: usize,
    /// The comment's text without its delimiters (`//`, `/*`, `*/`), untrimmed.
    pub body: String,
}

/// Every plain comment of `text`, in source order.
pub fn lex_comments(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut pos = strip_shebang(text).unwrap_or(0);
    for token in tokenize(&text[pos..], FrontmatterAllowed::No) {
        let start = pos;
        pos += token.len as usize;
        let raw = &text[start..pos];
        let (kind, body) = match token.kind {
            TokenKind::LineComment { doc_style: None } => (CommentKind::Line, raw.strip_prefix("//").unwrap_or(raw)),
            TokenKind::BlockComment { doc_style: None, terminated } => {
                let body = raw.strip_prefix("/*").unwrap_or(raw);
                let body = if terminated { body.strip_suffix("*/").unwrap_or(body) } else { body };
                (CommentKind::Block, body)
            }
            _ => continue,
        };
        out.push(Comment { kind, start, end: pos, body: body.to_string() });
    }
    out
}

/// The `#` comments of a configuration file (TOML, YAML, `.env`, INI): from a `#`
/// outside quotes to the end of its line. Enough for suppressions; a `#` inside a
/// multi-line string is taken for a comment.
pub fn lex_hash_comments(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let mut quote: Option<char> = None;
        for (i, c) in line.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => {
                    let body = line[i + 1..].trim_end_matches(['\n', '\r']);
                    let start = line_start + i;
                    out.push(Comment {
                        kind: CommentKind::Line,
                        start,
                        end: start + 1 + body.len(),
                        body: body.to_string(),
                    });
                    break;
                }
                _ => {}
            }
        }
        line_start += line.len();
    }
    out
}

/// The `--` and `/* */` comments of a SQL file (a migration), read with sqlparser's
/// tokenizer so that a `--` inside a string or a dollar-quoted function body is not
/// one. Where the tokenizer stops (an unterminated string), the comments before it
/// are kept.
pub fn lex_sql_comments(text: &str) -> Vec<Comment> {
    use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let mut tokens = Vec::new();
    let _ = Tokenizer::new(&dialect, text).tokenize_with_location_into_buf(&mut tokens);
    let line_starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let offset = |loc: sqlparser::tokenizer::Location| {
        let start = line_starts.get((loc.line as usize).saturating_sub(1)).copied().unwrap_or(text.len());
        let line = &text[start..];
        start + line.char_indices().nth((loc.column as usize).saturating_sub(1)).map_or(line.len(), |(i, _)| i)
    };
    let mut out = Vec::new();
    for t in tokens {
        let (kind, body) = match &t.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                (CommentKind::Line, comment.trim_end_matches(['\n', '\r']).to_string())
            }
            Token::Whitespace(Whitespace::MultiLineComment(c)) => (CommentKind::Block, c.clone()),
            _ => continue,
        };
        let start = offset(t.span.start);
        let end = match kind {
            CommentKind::Line => text[start..].find('\n').map_or(text.len(), |e| start + e),
            CommentKind::Block => offset(t.span.end).min(text.len()),
        };
        let end = text[..end].trim_end_matches('\r').len().max(start);
        out.push(Comment { kind, start, end, body });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_comments_outside_strings_and_bodies() {
        let sql = "-- gatelint: allow(dead-table) -- kept\nCREATE TABLE t (x text DEFAULT '-- no');\n\
                   CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 -- inside $$ LANGUAGE sql; /* blöck */\n";
        let found = lex_sql_comments(sql);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].body, " gatelint: allow(dead-table) -- kept");
        assert_eq!(&sql[found[0].start..found[0].end], "-- gatelint: allow(dead-table) -- kept");
        assert_eq!(&sql[found[1].start..found[1].end], "/* blöck */");
        // An unterminated string ends the tokens, not the comments before it.
        assert_eq!(lex_sql_comments("-- a\nSELECT 'open").len(), 1);
    }

    #[test]
    fn strings_that_look_like_comments_are_not_comments() {
        let src = concat!(
            "let url = \"http://0.0.0.0:9100\"; // real comment\n",
            "let raw = r#\"// not a comment /* nor this */\"#;\n",
            "/* block /* nested */ still */ let c = '/';\n",
            "/// doc comment\n",
            "/** doc block */ //! inner doc\n",
        );
        let comments = lex_comments(src);
        let bodies: Vec<_> = comments.iter().map(|c| (c.kind, c.body.as_str())).collect();
        assert_eq!(
            bodies,
            vec![(CommentKind::Line, " real comment"), (CommentKind::Block, " block /* nested */ still ")]
        );
        assert_eq!(&src[comments[0].start..comments[0].end], "// real comment");
    }

    #[test]
    fn shebang_is_skipped_and_unterminated_block_is_kept() {
        let comments = lex_comments("#!/usr/bin/env run\nfn f() {} /* open");
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0].body, " open");
    }

    #[test]
    fn hash_comments_outside_quotes() {
        let text = "a = \"x#y\" # one\n# two\nb: 'c#d'\n";
        let bodies: Vec<String> = super::lex_hash_comments(text).into_iter().map(|c| c.body).collect();
        assert_eq!(bodies, vec![" one".to_string(), " two".to_string()]);
    }
}
