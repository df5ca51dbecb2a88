//! The SQL statements a file writes out in full: string literals (and `concat!` of
//! literals) that start like a statement (`SELECT`, `INSERT`, `UPDATE`, `DELETE`,
//! `WITH`, `MERGE`, `CREATE`, `DROP`, `COPY`), in code and in the arguments of query macros (`sqlx::query!`,
//! `query_as!`, …). The schema rules parse them against the migrations; a text that
//! is a template (`format!`, `write!`) is kept apart, as a template; one that does
//! not parse is left out by the rules.
//! Also kept: the tables an ORM names (`users::table` for diesel, sea-orm's
//! `#[sea_orm(table_name = "…")]`), which the code reads or writes without SQL text.

use crate::input::source::{FileId, Loc, SourceFile};
use serde::{Deserialize, Serialize};
use syn::punctuated::Punctuated;
use syn::visit::Visit;

/// A statement written in the code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlText {
    pub text: String,
    /// The literal (the first one, for a `concat!`).
    pub at: Loc,
    /// The byte offset in the file of the text's first byte, when the literal's
    /// characters are the text's (no escapes, one literal): positions inside the
    /// text map onto the source.
    pub text_start: Option<u32>,
}

impl SqlText {
    /// Where a byte range of the text is in the file: inside the literal when its
    /// characters are the text's, else the literal.
    pub fn loc_of(&self, range: Option<&std::ops::Range<usize>>) -> Loc {
        match (self.text_start, range) {
            (Some(start), Some(r)) if r.end <= self.text.len() => {
                Loc { file: self.at.file, start: start + r.start as u32, end: start + r.end as u32 }
            }
            _ => self.at,
        }
    }
}

/// What one file holds for the schema rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlTexts {
    pub texts: Vec<SqlText>,
    /// Tables an ORM names, lowercased (`users` of `users::table`).
    pub orm_tables: Vec<String>,
    /// Statements built at run time (`format!("INSERT INTO {} …", …)`): their
    /// template texts, which no rule reads as SQL but which may write a table; and
    /// the paths of SQL files the code reads (`include_str!("queries/x.sql")`).
    pub templates: Vec<String>,
}

/// Macros whose string arguments are messages or templates, not statements.
const TEMPLATE_MACROS: &[&str] = &[
    "format",
    "format_args",
    "write",
    "writeln",
    "print",
    "println",
    "eprint",
    "eprintln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "unreachable",
    "todo",
    "unimplemented",
    "anyhow",
    "bail",
    "ensure",
    "format_err",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "event",
    "log",
    "span",
    "context",
];

/// Macros whose body is code for somewhere else.
const NOT_RUN_HERE_MACROS: &[&str] = &["macro_rules", "quote", "quote_spanned", "parse_quote"];

const STATEMENT_WORDS: &[&str] = &["select", "insert", "update", "delete", "with", "merge", "create", "drop", "copy"];

/// Whether a text starts like a SQL statement: a statement word, then a space.
pub fn looks_like_statement(text: &str) -> bool {
    let t = text.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    STATEMENT_WORDS.iter().any(|w| {
        t.len() > w.len() && t.is_char_boundary(w.len()) && t[..w.len()].eq_ignore_ascii_case(w) && {
            let next = t[w.len()..].chars().next().unwrap_or(' ');
            next.is_whitespace()
        }
    })
}

pub fn collect(file: FileId, source: &SourceFile, syntax: &syn::File) -> SqlTexts {
    let mut c = Collector { file, source, out: SqlTexts::default() };
    c.visit_file(syntax);
    c.out.orm_tables.sort();
    c.out.orm_tables.dedup();
    c.out
}

struct Collector<'a> {
    file: FileId,
    source: &'a SourceFile,
    out: SqlTexts,
}

impl Collector<'_> {
    fn literal(&mut self, s: &syn::LitStr) {
        // Most literals are not SQL: look at the text first.
        let value = s.value();
        if !looks_like_statement(&value) {
            return;
        }
        let at = self.source.span_loc(self.file, s.span(), s.span());
        let written = self.source.text().get(at.range()).unwrap_or_default();
        // `"…"` or `r#"…"#`: the characters between the quotes are the text when
        // nothing is escaped.
        let text_start = written.find('"').and_then(|q| {
            let raw = written.starts_with('r');
            let inner = &written[q + 1..];
            (raw || !inner.contains('\\')).then_some(at.start + q as u32 + 1)
        });
        self.out.texts.push(SqlText { text: value, at, text_start });
    }

    /// `concat!("INSERT …", " ON CONFLICT …")`: one text, at the first literal.
    fn concatenated(&mut self, mac: &syn::Macro) {
        let Ok(args) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) else { return };
        let mut text = String::new();
        let mut first = None;
        for arg in &args {
            let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = arg else { return };
            first.get_or_insert_with(|| s.span());
            text.push_str(&s.value());
        }
        if let Some(span) = first
            && looks_like_statement(&text)
        {
            let at = self.source.span_loc(self.file, span, span);
            self.out.texts.push(SqlText { text, at, text_start: None });
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        self.literal(s);
    }

    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        // `#[sea_orm(table_name = "users")]`
        if a.path().is_ident("sea_orm") {
            let _ = a.parse_nested_meta(|m| {
                if m.path.is_ident("table_name") {
                    let s: syn::LitStr = m.value()?.parse()?;
                    self.out.orm_tables.push(s.value().to_lowercase());
                } else if m.input.peek(syn::Token![=]) {
                    let _: syn::Expr = m.value()?.parse()?;
                }
                Ok(())
            });
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        // diesel's `users::table`, `users::dsl::users`
        let segs: Vec<_> = p.segments.iter().collect();
        for w in segs.windows(2) {
            if w[1].ident == "table" || w[1].ident == "dsl" {
                self.out.orm_tables.push(w[0].ident.to_string().to_lowercase());
            }
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if NOT_RUN_HERE_MACROS.contains(&name.as_str()) {
            return;
        }
        if TEMPLATE_MACROS.contains(&name.as_str()) {
            // `format!("INSERT INTO {table} …")`: kept as a template only.
            if let Ok(args) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
                && let Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) =
                    args.iter().find(|a| matches!(a, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(_), .. })))
                && looks_like_statement(&s.value())
            {
                self.out.templates.push(s.value());
            }
            return;
        }
        if name == "concat" || name == "concatcp" {
            self.concatenated(mac);
            return;
        }
        // `include_str!("queries/index_templates/insert.sql")`, `query_file!(…)`: SQL in
        // a file of its own; its path (which often names the table) is kept as a
        // template.
        if name == "include_str" || name.starts_with("query_file") {
            if let Ok(args) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
                && let Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) =
                    args.iter().find(|a| matches!(a, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(_), .. })))
                && s.value().ends_with(".sql")
            {
                self.out.templates.push(s.value());
            }
            return;
        }
        // `sqlx::query!("…", a, b)`, `query_as!(Row, "…")`, `vec![…]`: the arguments.
        if let Ok(args) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> SqlTexts {
        let source = SourceFile::new("t.rs".into(), src.into());
        collect(0, &source, &syn::parse_file(src).unwrap())
    }

    #[test]
    fn statements_in_code_and_query_macros() {
        let src = r##"
            const Q: &str = "SELECT id FROM users";
            fn f() {
                sqlx::query!("INSERT INTO users (id) VALUES ($1)", id);
                let s = r#"update users set name = $1"#;
                let msg = "Select a user";
                let t = format!("SELECT * FROM {}", table);
                let c = concat!("DELETE FROM users ", "WHERE id = $1");
                let e = "SELECT \"id\" FROM users";
            }
        "##;
        let found = texts(src);
        let got: Vec<(&str, bool)> = found.texts.iter().map(|t| (t.text.as_str(), t.text_start.is_some())).collect();
        assert_eq!(
            got,
            [
                ("SELECT id FROM users", true),
                ("INSERT INTO users (id) VALUES ($1)", true),
                ("update users set name = $1", true),
                // Prose that starts like a statement: the rules parse it, and it does not.
                ("Select a user", true),
                ("DELETE FROM users WHERE id = $1", false),
                ("SELECT \"id\" FROM users", false),
            ]
        );
        let first = &found.texts[0];
        let start = first.text_start.unwrap() as usize;
        assert_eq!(&src[start..start + first.text.len()], first.text);
    }

    #[test]
    fn orm_tables() {
        let src = r#"
            #[sea_orm(table_name = "Audit_Log", schema_name = "x")]
            struct Model;
            fn f() { diesel::insert_into(users::table); posts::dsl::posts.filter(x); }
        "#;
        assert_eq!(texts(src).orm_tables, ["audit_log", "posts", "users"]);
    }
}
