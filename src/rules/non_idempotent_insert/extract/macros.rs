//! Macro calls inside functions: which macros are prose or code for elsewhere (not
//! read), `query_file!` (SQL read from a file), and every other macro's body, read
//! as expressions or statements (or, for a syntax of its own, its braced blocks)
//! when a token scan says it could make an event.

use super::ident_is_screaming;
use super::{EventKind, Extractor};
use crate::facts::value::{COMPILE_TIME_STRING_MACROS, Value};
use super::sql_locals::{SqlLocal, first_literal};
use syn::punctuated::Punctuated;
use syn::visit::Visit;

/// Whether a macro's arguments are text for people, not SQL to run: a log line
/// ([`crate::facts::LOG_MACROS`]), a message ([`crate::facts::MESSAGE_MACROS`]),
/// `write!` to a formatter, `#[instrument]`'s fields. (`format!` builds SQL too.)
fn is_prose_macro(name: &str) -> bool {
    crate::facts::LOG_MACROS.contains(&name)
        || crate::facts::MESSAGE_MACROS.contains(&name)
        || matches!(name, "write" | "writeln" | "instrument")
}
/// Macros whose body is code for somewhere else (a macro definition, code a
/// procedural macro generates), not code this function runs.
const NOT_RUN_HERE_MACROS: &[&str] = &["macro_rules", "quote", "quote_spanned", "parse_quote", "parse_quote_spanned"];
/// `sqlx::query_file!("…")` and friends read their SQL from a file.
const QUERY_FILE_MACROS: &[&str] =
    &["query_file", "query_file_as", "query_file_scalar", "query_file_unchecked", "query_file_as_unchecked"];

impl Extractor<'_> {
    /// `concat!("INSERT …", " ON DUPLICATE KEY UPDATE …")`, `concatcp!(INSERT_PREFIX,
    /// COLS, GUARD)`, `formatcp!(…)`: one statement assembled at compile time, its
    /// pieces joined (a guard in a later piece counts). Literals only (`stringify!`
    /// included) are read here; constants among the pieces are resolved crate-wide.
    /// `false` when the body does not read as such a call.
    fn concatenated(&mut self, mac: &syn::Macro) -> bool {
        let value = self.lowerer.lower_macro(mac, 0);
        let Value::Macro { loc, .. } = &value else { return false };
        // Where the statement is shown: its first literal, else the macro.
        let at = first_literal(&value).unwrap_or(*loc);
        match value.compile_time_text(&mut |_| None) {
            Some(text) => self.literal_events(&text, at),
            None => self.push_event(EventKind::Assembled { value: Box::new(value) }, at),
        }
        true
    }

    /// `format!("INSERT INTO {} …", WORKSPACES_TABLE)`: one statement whose constant
    /// pieces are resolved crate-wide (see [`super::sql_locals::formats_a_constant`]);
    /// its other arguments are visited as code. `false` when it is not such a call.
    fn formatted_with_constant(&mut self, mac: &syn::Macro) -> bool {
        if !may_make_events(mac.tokens.clone(), &self.sql_locals) {
            return false;
        }
        let value = self.lowerer.lower_macro(mac, 0);
        let value = match super::sql_locals::with_run_time_table(&value) {
            Some(named) => named,
            None if super::sql_locals::formats_a_constant(&value) => value,
            None => return false,
        };
        let Value::Macro { loc, .. } = &value else { return false };
        let at = first_literal(&value).unwrap_or(*loc);
        self.push_event(EventKind::Assembled { value: Box::new(value) }, at);
        if let Ok(args) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) {
            for arg in args.iter().skip(1) {
                self.visit_expr(arg);
            }
        }
        true
    }

    /// A macro call in a function: its body is visited when it is code that runs here
    /// and could make an event; `query_file!` reads its file.
    pub(super) fn visit_macro_call(&mut self, mac: &syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if is_prose_macro(&name) || NOT_RUN_HERE_MACROS.contains(&name.as_str()) {
            return;
        }
        if QUERY_FILE_MACROS.contains(&name.as_str()) {
            self.query_file(mac);
            return;
        }
        // `include_str!("add_card.sql")`: the SQL compiled in, read as written here.
        if name == "include_str" {
            if let Ok(lit) = mac.parse_body::<syn::LitStr>()
                && let Some(text) = self.included_sql(&lit.value())
            {
                let loc = self.lowerer.span_loc(lit.span());
                if let Some(at) = self.included_const.take() {
                    self.out.included_consts.push((at, text.into_boxed_str()));
                    return;
                }
                self.literal_events(&text, loc);
            }
            return;
        }
        // diesel's `table!`: a table declared under another SQL name.
        if name == "table" {
            let names = super::orm::diesel_sql_names(mac.tokens.clone());
            self.out.diesel_tables.extend(names.into_iter().map(|(rust, sql)| (rust.into(), sql.into())));
        }
        if COMPILE_TIME_STRING_MACROS.contains(&name.as_str()) && self.concatenated(mac) {
            return;
        }
        if (name == "format" || name == "format_args") && self.formatted_with_constant(mac) {
            return;
        }
        for item in crate::facts::lower::lazy_static_items(mac) {
            self.visit_item(&item);
        }
        // Parsing a macro's body costs about as much as parsing it the first time:
        // only when its tokens could make an event.
        if !may_make_events(mac.tokens.clone(), &self.sql_locals) {
            return;
        }
        // Any other macro: its arguments, where they parse as expressions (`query!`, `vec!`, …).
        if let Ok(args) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) {
            for arg in &args {
                self.visit_expr(arg);
            }
        } else if let Ok(block) = syn::parse2::<syn::Block>(proc_macro2::TokenStream::from(
            proc_macro2::TokenTree::Group(proc_macro2::Group::new(proc_macro2::Delimiter::Brace, mac.tokens.clone())),
        )) {
            // `tokio::select! { … }`, `join! { … }`: statements inside braces.
            self.visit_block(&block);
        } else {
            // A macro of its own syntax wrapping code (`db_run! { conn: sqlite { … }
            // postgresql { … } }`): each braced group that reads as a block; and each
            // comma-separated part that reads as an expression (`ok_or!(record(t), why
            // => error!(..))`: the call, not the arm after it).
            self.visit_braced_blocks(mac.tokens.clone());
            self.visit_expression_parts(mac.tokens.clone());
        }
    }

    fn visit_braced_blocks(&mut self, tokens: proc_macro2::TokenStream) {
        for tt in tokens {
            let proc_macro2::TokenTree::Group(g) = tt else { continue };
            if g.delimiter() != proc_macro2::Delimiter::Brace {
                continue;
            }
            match syn::parse2::<syn::Block>(proc_macro2::TokenStream::from(proc_macro2::TokenTree::Group(g.clone()))) {
                Ok(block) => self.visit_block(&block),
                Err(_) => self.visit_braced_blocks(g.stream()),
            }
        }
    }

    /// The parts of a macro body between top-level commas that parse as expressions.
    fn visit_expression_parts(&mut self, tokens: proc_macro2::TokenStream) {
        let mut part = proc_macro2::TokenStream::new();
        let mut parts = Vec::new();
        for tt in tokens {
            if matches!(&tt, proc_macro2::TokenTree::Punct(p) if p.as_char() == ',') {
                parts.push(std::mem::take(&mut part));
            } else {
                part.extend(std::iter::once(tt));
            }
        }
        parts.push(part);
        for part in parts {
            // (A braced block was read above as a block.)
            let braced = matches!(part.clone().into_iter().next(), Some(proc_macro2::TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Brace);
            if !part.is_empty() && !braced && let Ok(expr) = syn::parse2::<syn::Expr>(part) {
                self.visit_expr(&expr);
            }
        }
    }

    fn query_file(&mut self, mac: &syn::Macro) {
        let Ok(args) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) else { return };
        for arg in &args {
            let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = arg else { continue };
            let Some(root) = crate_root(self.input.path) else { continue };
            self.out.reads_other_files = true;
            if let Ok(text) = std::fs::read_to_string(root.join(s.value())) {
                let loc = self.lowerer.span_loc(s.span());
                self.literal_events(&text, loc);
            }
        }
    }
}

/// The largest `.sql` file read for an `include_str!` (a schema dump is far smaller).
const MAX_INCLUDED_SQL: u64 = 1 << 20;

impl Extractor<'_> {
    /// The text of a `.sql` file compiled in with `include_str!(path)`, relative to
    /// the including file's folder as the compiler reads it. The facts then depend on
    /// that file, and are not cached.
    pub(super) fn included_sql(&mut self, path: &str) -> Option<String> {
        if !path.ends_with(".sql") {
            return None;
        }
        let file = self.input.path.parent()?.join(path);
        self.out.reads_other_files = true;
        if std::fs::metadata(&file).ok()?.len() > MAX_INCLUDED_SQL {
            return None;
        }
        std::fs::read_to_string(file).ok()
    }
}

/// The directory of the nearest `Cargo.toml` above `file`.
fn crate_root(file: &std::path::Path) -> Option<std::path::PathBuf> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d.join("Cargo.toml").is_file() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    file.parent().map(std::path::Path::to_path_buf)
}

/// Whether a macro body could hold something that makes an event: a call or
/// method call (turbofish included), a nested macro, a SCREAMING constant, a use of
/// one of `sql_locals`, or a string literal that mentions INSERT (or has an escape
/// that could spell it). A token scan, far cheaper than parsing the body.
fn may_make_events(tokens: proc_macro2::TokenStream, sql_locals: &[SqlLocal]) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    // The previous token could end a callee: an identifier, or the `>` of `f::<T>`.
    let mut prev_callee = false;
    let mut prev_ident = false;
    for tt in tokens {
        let (callee, ident) = match &tt {
            TokenTree::Group(g) => {
                if prev_callee && g.delimiter() == Delimiter::Parenthesis {
                    return true;
                }
                if may_make_events(g.stream(), sql_locals) {
                    return true;
                }
                (false, false)
            }
            TokenTree::Ident(i) => {
                if ident_is_screaming(i) || sql_locals.iter().any(|l| *i == l.name) {
                    return true;
                }
                (true, true)
            }
            TokenTree::Punct(p) => {
                if prev_ident && p.as_char() == '!' {
                    return true;
                }
                (p.as_char() == '>', false)
            }
            TokenTree::Literal(l) => {
                let text = l.to_string();
                if text.contains('\\') || super::has_sql_verb(&text) {
                    return true;
                }
                (false, false)
            }
        };
        prev_callee = callee;
        prev_ident = ident;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::may_make_events;

    fn body(src: &str) -> proc_macro2::TokenStream {
        src.parse().expect("tokens")
    }

    fn sql_local(name: &str) -> super::SqlLocal {
        let loc = crate::input::source::Loc::new(0, 0, 0);
        super::SqlLocal {
            name: name.into(),
            binding: loc,
            literal: None,
            innermost: None,
            sqls: Vec::new(),
            deletes: Vec::new(),
            deferred: None,
            appender: false,
        }
    }

    #[test]
    fn macro_bodies_are_parsed_only_when_they_could_make_events() {
        for yes in [
            "create_workspace(pool, id)",
            "a, b.insert_row(x)",
            "[inner!(x)]",
            "INSERT_WORKSPACE",
            "\"insert into workspaces (id) values ($1)\", id",
            "{ let x = 1; { helper(x) } }",
            "create_ws::<PgPool>(pool, id)",
            "\"\\x49NSERT INTO workspaces (id) VALUES ($1)\"",
        ] {
            assert!(may_make_events(body(yes), &[]), "{yes}");
        }
        for no in ["x, y", "Foo::Bar, 1", "\"SELECT 1\"", "a + b * c", "[1, 2, 3]", "pool, sql, id"] {
            assert!(!may_make_events(body(no), &[]), "{no}");
        }
        assert!(may_make_events(body("pool, sql, id"), &[sql_local("sql")]), "a SQL local used in the body");
    }
}
