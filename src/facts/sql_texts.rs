//! The SQL statements a file writes out in full: string literals (and `concat!`,
//! `concatcp!` or `formatcp!` of literals, `stringify!` pieces included) that start like a statement (`SELECT`, `INSERT`, `UPDATE`, `DELETE`,
//! `WITH`, `MERGE`, `CREATE`, `DROP`, `COPY`), in code and in the arguments of query macros (`sqlx::query!`,
//! `query_as!`, …). The schema rules parse them against the migrations; a text that
//! is a template (`format!`, `write!`) is kept apart, as a template; one that does
//! not parse is left out by the rules.
//! Also kept: the `.sql` files the code compiles in (`include_str!`, `query_file!`),
//! which the engine reads for the schema rules, and the tables an ORM names (`users::table` for diesel, sea-orm's
//! `#[sea_orm(table_name = "…")]`), which the code reads or writes without SQL text.
//! A statement sqlx's `QueryBuilder` writes piece by piece is one text when every
//! piece is known ([`builder`]), and a template when one is not.

mod builder;

use crate::facts::value::{COMPILE_TIME_STRING_MACROS, Value};
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
    /// For a literal with escapes (`\n`, a `\` line continuation): pairs of (offset
    /// in the text, offset in the file) where the two drift apart, in order.
    pub shifts: Vec<(u32, u32)>,
}

impl SqlText {
    /// Where a byte range of the text is in the file: inside the literal when its
    /// characters map onto the text's, else the literal.
    pub fn loc_of(&self, range: Option<&std::ops::Range<usize>>) -> Loc {
        match (self.text_start, range) {
            (Some(start), Some(r)) if r.end <= self.text.len() => {
                let at = |offset: usize| {
                    let offset = offset as u32;
                    // The last shift at or before the offset says where it is.
                    match self.shifts.iter().rev().find(|(text, _)| *text <= offset) {
                        Some((text, file)) => file + (offset - text),
                        None => start + offset,
                    }
                };
                let (start, end) = (at(r.start), at(r.end));
                // (A range across the pieces of a built statement maps onto no one
                // place of the source.)
                if start <= end { Loc { file: self.at.file, start, end } } else { self.at }
            }
            _ => self.at,
        }
    }
}

/// For a cooked literal's source (between its quotes) and its value: where value
/// offsets and source offsets drift apart, as (value offset, source offset relative
/// to `base`); `None` when an escape is not understood.
pub fn escape_shifts(written: &str, base: u32) -> Option<Vec<(u32, u32)>> {
    let mut shifts = Vec::new();
    let (mut value, mut i) = (0u32, 0usize);
    let bytes = written.as_bytes();
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            let len = written[i..].chars().next().map_or(1, char::len_utf8);
            value += len as u32;
            i += len;
            continue;
        }
        match bytes.get(i + 1) {
            // A line continuation: the newline and the next line's leading blanks go.
            Some(b'\n') => {
                i += 2;
                while i < bytes.len() && (bytes[i] as char).is_ascii_whitespace() {
                    i += 1;
                }
            }
            Some(b'n' | b't' | b'r' | b'0' | b'\\' | b'"' | b'\'') => {
                value += 1;
                i += 2;
            }
            _ => return None,
        }
        shifts.push((value, base + i as u32));
    }
    Some(shifts)
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
    /// SQL files the code compiles in: (path as written, relative to the file's
    /// folder for `include_str!` or to the package root for `query_file!`, and which).
    pub sql_files: Vec<(String, SqlFileKind)>,
}

/// How a SQL file's path is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SqlFileKind {
    /// `include_str!`: relative to the including file's folder.
    Beside,
    /// sqlx's `query_file!`: relative to the package root.
    PackageRoot,
}

/// Whether a macro's string arguments are messages or templates, not statements: a
/// log line, a message, formatted text.
fn is_template_macro(name: &str) -> bool {
    crate::facts::LOG_MACROS.contains(&name)
        || crate::facts::MESSAGE_MACROS.contains(&name)
        || matches!(name, "format" | "format_args" | "write" | "writeln")
}

/// Macros whose body is code for somewhere else.
const NOT_RUN_HERE_MACROS: &[&str] = &["macro_rules", "quote", "quote_spanned", "parse_quote"];

const STATEMENT_WORDS: &[&str] = &["select", "insert", "update", "delete", "with", "merge", "create", "drop", "copy"];

/// Whether a text starts like a SQL statement: a statement word, then a space
/// (after blanks, `(` and leading `--` or `/* */` comments).
pub fn looks_like_statement(text: &str) -> bool {
    let mut t = text;
    loop {
        t = t.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(rest) = t.strip_prefix("--") {
            t = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = t.strip_prefix("/*") {
            t = rest.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    STATEMENT_WORDS.iter().any(|w| {
        t.len() > w.len() && t.is_char_boundary(w.len()) && t[..w.len()].eq_ignore_ascii_case(w) && {
            let next = t[w.len()..].chars().next().unwrap_or(' ');
            next.is_whitespace()
        }
    })
}

pub fn collect(file: FileId, source: &SourceFile, syntax: &syn::File) -> SqlTexts {
    let mut c = Collector { file, source, out: SqlTexts::default(), in_builders: Default::default() };
    c.visit_file(syntax);
    c.out.orm_tables.sort();
    c.out.orm_tables.dedup();
    c.out
}

struct Collector<'a> {
    file: FileId,
    source: &'a SourceFile,
    out: SqlTexts,
    /// Where the literals a `QueryBuilder` was given start: read as its pieces, not
    /// on their own.
    in_builders: std::collections::HashSet<u32>,
}

impl Collector<'_> {
    fn literal(&mut self, s: &syn::LitStr) {
        // Most literals are not SQL: look at the text first.
        let value = s.value();
        if !looks_like_statement(&value) || self.in_builders.contains(&self.lit_loc(s).start) {
            return;
        }
        let text = self.literal_text(s, value);
        self.out.texts.push(text);
    }

    fn lit_loc(&self, s: &syn::LitStr) -> Loc {
        self.source.span_loc(self.file, s.span(), s.span())
    }

    /// A literal's text, placed in the source.
    fn literal_text(&self, s: &syn::LitStr, value: String) -> SqlText {
        let at = self.lit_loc(s);
        let written = self.source.text().get(at.range()).unwrap_or_default();
        // `"…"` or `r#"…"#`: the characters between the quotes are the text when
        // nothing is escaped.
        let raw = written.starts_with('r');
        let (text_start, shifts) = match written.find('"') {
            Some(q) if raw || !written[q + 1..].contains('\\') => (Some(at.start + q as u32 + 1), Vec::new()),
            // Escapes: where the value's offsets land in the source.
            Some(q) => {
                let inner = written[q + 1..].strip_suffix('"').unwrap_or(&written[q + 1..]);
                match escape_shifts(inner, at.start + q as u32 + 1) {
                    Some(shifts) => (Some(at.start + q as u32 + 1), shifts),
                    None => (None, Vec::new()),
                }
            }
            None => (None, Vec::new()),
        };
        SqlText { text: value, at, text_start, shifts }
    }

    /// A `QueryBuilder`'s statement: one text of its pieces when all are known (each
    /// literal piece placed in the source), else a template.
    fn built(&mut self, built: builder::Built) {
        let starts: Vec<u32> = built.literals.iter().map(|s| self.lit_loc(s).start).collect();
        if starts.first().is_some_and(|start| self.in_builders.contains(start)) {
            return;
        }
        self.in_builders.extend(starts);
        if built.dynamic {
            let known: String = built.literals.iter().map(|s| s.value()).collect();
            if looks_like_statement(&known) {
                self.out.templates.push(known);
            }
            return;
        }
        let mut text = String::new();
        let mut at = None;
        let mut shifts = Vec::new();
        let mut placed = true;
        for piece in &built.pieces {
            let offset = text.len() as u32;
            match piece {
                builder::Piece::Literal(s) => {
                    let piece = self.literal_text(s, s.value());
                    match piece.text_start {
                        Some(start) => {
                            shifts.push((offset, start));
                            shifts.extend(piece.shifts.iter().map(|&(value, file)| (value + offset, file)));
                        }
                        None => placed = false,
                    }
                    if at.is_none() && !piece.text.trim().is_empty() {
                        at = Some(piece.at);
                    }
                    text.push_str(&piece.text);
                }
                builder::Piece::Made(made, span) => {
                    shifts.push((offset, self.source.span_loc(self.file, *span, *span).start));
                    text.push_str(made);
                }
            }
        }
        let Some(at) = at else { return };
        if !looks_like_statement(&text) {
            return;
        }
        // Each piece's start is a shift; the first one is where the text starts.
        let text_start = placed.then(|| shifts.first().map_or(at.start, |&(_, file)| file));
        let shifts = if placed { shifts } else { Vec::new() };
        self.out.texts.push(SqlText { text, at, text_start, shifts });
    }

    /// `concat!("INSERT …", " ON CONFLICT …")` (or `concatcp!`, `formatcp!`, with
    /// `stringify!` pieces) of literals: one text, at the first literal.
    fn concatenated(&mut self, mac: &syn::Macro) {
        let value = crate::facts::lower::Lowerer::new(self.file, self.source).lower_macro(mac, 0);
        let Value::Macro { args, .. } = &value else { return };
        let Some(at) = args.iter().find_map(|a| match a {
            Value::Str { loc, .. } => Some(*loc),
            _ => None,
        }) else {
            return;
        };
        if let Some(text) = value.compile_time_text(&mut |_| None)
            && looks_like_statement(&text)
        {
            self.out.texts.push(SqlText { text, at, text_start: None, shifts: Vec::new() });
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        self.literal(s);
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        for built in builder::let_builders(&block.stmts) {
            self.built(built);
        }
        syn::visit::visit_block(self, block);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let (root, calls) = builder::chain(call);
        if let Some(built) = builder::chained(root, &calls) {
            self.built(built);
        }
        self.visit_expr(root);
        for call in calls {
            if let Some(turbofish) = &call.turbofish {
                self.visit_angle_bracketed_generic_arguments(turbofish);
            }
            for arg in &call.args {
                self.visit_expr(arg);
            }
        }
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        // A builder neither bound by a `let` nor built in one chain is handed on
        // (returned, passed): what is pushed on it is not known here.
        if let Some(first) = builder::started_by(call) {
            self.built(builder::Built { pieces: Vec::new(), literals: vec![first], dynamic: true });
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        // `#[sea_orm(table_name = "users")]`
        if let Some(table) = super::sea_orm::table_name(std::slice::from_ref(a)) {
            self.out.orm_tables.push(table.to_lowercase());
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
        if is_template_macro(&name) {
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
        if COMPILE_TIME_STRING_MACROS.contains(&name.as_str()) {
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
                let kind = if name == "include_str" { SqlFileKind::Beside } else { SqlFileKind::PackageRoot };
                self.out.sql_files.push((s.value(), kind));
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
                let d = concat!("INSERT INTO ", stringify!(users), " (id) VALUES ($1)");
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
                ("SELECT \"id\" FROM users", true),
                ("INSERT INTO users (id) VALUES ($1)", false),
            ]
        );
        let first = &found.texts[0];
        let start = first.text_start.unwrap() as usize;
        assert_eq!(&src[start..start + first.text.len()], first.text);
    }

    #[test]
    fn escaped_literals_map_onto_the_source() {
        let src = "fn f() { q(\"SELECT id, \\\n        nmae FROM \\\"users\\\"\"); q(\"-- list\\nSELECT 1\"); }";
        let found = texts(src);
        let t = &found.texts[0];
        assert_eq!(t.text, "SELECT id, nmae FROM \"users\"");
        let at = |word: &str| {
            let i = t.text.find(word).unwrap();
            let loc = t.loc_of(Some(&(i..i + word.len())));
            &src[loc.range()]
        };
        assert_eq!(at("nmae"), "nmae");
        assert_eq!(at("users"), "users");
        // A statement after a leading comment is one.
        assert_eq!(found.texts[1].text, "-- list\nSELECT 1");
    }

    #[test]
    fn query_builders_read_when_every_piece_is_known() {
        let src = r#"
            async fn f(pool: &PgPool, rows: &[Row], id: i64, col: &str, flag: bool) {
                let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("INSERT INTO t (a, b) ");
                qb.push_values(rows, |mut b, r| { b.push_bind(r.a).push_bind(r.b); });
                qb.push(" ON CONFLICT (a) DO NOTHING");
                qb.build().execute(pool).await?;
                QueryBuilder::<Postgres>::new("UPDATE t SET b = ").push_bind(1).push(" WHERE a = ").push_bind(id).build();
                let mut dynamic = QueryBuilder::new("SELECT a FROM t WHERE ");
                dynamic.push(col);
                let mut conditional = QueryBuilder::new("DELETE FROM t");
                if flag { conditional.push(" WHERE a = 1"); }
                let mut passed = QueryBuilder::new("SELECT b FROM t");
                helper(&mut passed);
                let mut reused = QueryBuilder::new("SELECT a FROM t");
                reused.build();
                reused.reset();
            }
            fn base() -> QueryBuilder<'static, Postgres> { QueryBuilder::new("SELECT a FROM t WHERE ") }
        "#;
        let found = texts(src);
        let got: Vec<&str> = found.texts.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            got,
            ["INSERT INTO t (a, b) VALUES ($1) ON CONFLICT (a) DO NOTHING", "UPDATE t SET b = $1 WHERE a = $2"]
        );
        assert_eq!(
            found.templates,
            [
                "SELECT a FROM t WHERE ",
                "DELETE FROM t WHERE a = 1",
                "SELECT b FROM t",
                "SELECT a FROM t",
                "SELECT a FROM t WHERE "
            ]
        );
        // Each literal piece maps onto its place in the source.
        let insert = &found.texts[0];
        let at = |word: &str| {
            let i = insert.text.find(word).unwrap();
            &src[insert.loc_of(Some(&(i..i + word.len()))).range()]
        };
        assert_eq!(at("b)"), "b)");
        assert_eq!(at("CONFLICT (a)"), "CONFLICT (a)");
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
