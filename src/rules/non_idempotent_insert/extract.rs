//! Per-function facts for the INSERT gates: where SQL that inserts is executed,
//! which calls and preflight calls happen, in what order, and inside which loops.
//! Which functions a call reaches, and whether a constant holds an INSERT, is
//! decided crate-wide in `analysis`.

use super::InsertParams;
use crate::facts::sql;
use crate::facts::value::{Lowerer, Value};
use crate::input::comments::Comment;
use crate::input::source::{FileId, Loc, SourceFile};
use serde::{Deserialize, Serialize};
use syn::punctuated::Punctuated;
use syn::visit::Visit;

/// A repeated context: a loop body or a closure run once per item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopFact {
    /// The loop keyword or the adapter method's name.
    pub header: Loc,
    /// `for`, `while`, `loop`, or `.map()` and the like.
    pub kind: String,
    /// The loop this one is nested in, if any (an index into `FnInsertFacts::loops`).
    pub parent: Option<u32>,
}

/// An INSERT statement executed here (`loc`), with its SQL possibly written elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlInsert {
    pub table: String,
    pub on_conflict: bool,
    pub from_select: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Kept per call of every function of the crate: compact (`Box<str>`, the rare
// INSERT boxed) so that a large crate's facts stay small.
pub enum EventKind {
    /// SQL written at `loc` or brought there from a local (`via`).
    Insert(Box<InsertEvent>),
    /// A use of a constant or static that may hold SQL (resolved crate-wide).
    ConstUse { name: Box<str> },
    /// A call of a function or method (resolved crate-wide by name).
    /// `qualifier` is the path segment before the name (`Type` in `Type::f`), if any.
    Call { name: Box<str>, qualifier: Option<Box<str>>, args: usize, method: bool, on_self: bool, awaited: bool },
    /// A call of a registered preflight helper.
    Preflight { name: Box<str> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsertEvent {
    pub sql: SqlInsert,
    pub via: Option<(Loc, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub loc: Loc,
    /// The innermost enclosing repeated context (an index into `FnInsertFacts::loops`,
    /// whose `parent` links lead to the outer ones).
    pub innermost: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnInsertFacts {
    pub name: String,
    pub name_loc: Loc,
    pub self_type: Option<String>,
    /// The module path by name (`handlers::org`), for `module::function` entries: an
    /// index into [`InsertFacts::modules`] (one string per module, not per function).
    pub module: u32,
    /// Parameters, not counting `self`.
    pub params: usize,
    pub is_async: bool,
    pub has_self: bool,
    /// The marker comment is in the body or on the line directly above the `fn`.
    pub marker: bool,
    pub loops: Vec<LoopFact>,
    /// In source order.
    pub events: Vec<Event>,
    /// Indexes of the preflight calls among `events`.
    pub preflights: Vec<usize>,
}

impl FnInsertFacts {
    /// Whether a position whose innermost loop is `innermost` is inside loop `l`.
    pub fn within(&self, innermost: Option<u32>, l: u32) -> bool {
        let mut at = innermost;
        while let Some(i) = at {
            if i == l {
                return true;
            }
            at = self.loops.get(i as usize).and_then(|x| x.parent);
        }
        false
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsertFacts {
    pub fns: Vec<FnInsertFacts>,
    /// The module paths of the file's functions (the file's own, and inline `mod`s).
    pub modules: Vec<String>,
    /// SQL was read from a `query_file!` file.
    pub reads_other_files: bool,
}

/// Macros whose arguments are text for people, not SQL to run.
const PROSE_MACROS: &[&str] = &[
    "println",
    "eprintln",
    "print",
    "eprint",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "event",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
    "todo",
    "unimplemented",
    "anyhow",
    "bail",
    "ensure",
    "format_err",
    "write",
    "writeln",
    "log",
    "span",
    "info_span",
    "error_span",
    "warn_span",
    "debug_span",
    "trace_span",
    "instrument",
    "context",
];
/// Macros whose body is code for somewhere else (a macro definition, code a
/// procedural macro generates), not code this function runs.
const NOT_RUN_HERE_MACROS: &[&str] = &["macro_rules", "quote", "quote_spanned", "parse_quote", "parse_quote_spanned"];
/// Methods that prepare a statement for later execution (execution is at the uses).
const PREPARE_METHODS: &[&str] = &["prepare", "prepare_cached", "prepare_typed", "prepare_typed_cached"];
/// Conversions that keep a string a string (`"…".to_string()`).
const STRING_CONVERSIONS: &[&str] = &["to_string", "to_owned", "into", "as_str", "clone", "from"];
/// `sqlx::query_file!("…")` and friends read their SQL from a file.
const QUERY_FILE_MACROS: &[&str] =
    &["query_file", "query_file_as", "query_file_scalar", "query_file_unchecked", "query_file_as_unchecked"];

pub struct ExtractInput<'a> {
    pub file: FileId,
    pub source: &'a SourceFile,
    pub path: &'a std::path::Path,
    pub comments: &'a [Comment],
    pub module: String,
}

pub fn extract(input: &ExtractInput, syntax: &syn::File, params: &InsertParams) -> InsertFacts {
    let mut v = FnCollector {
        lowerer: Lowerer::new(input.file, input.source),
        input,
        params,
        out: InsertFacts::default(),
        stack: Vec::new(),
        self_types: Vec::new(),
        sql_locals: Vec::new(),
        builders: Vec::new(),
        inline_modules: Vec::new(),
        awaiting: false,
        markers: Vec::new(),
    };
    // The marker's exact text, optionally followed by a reason; never a doc comment.
    let marker = params.marker.trim();
    v.markers = input
        .comments
        .iter()
        .filter(|c| {
            let body = c.body.trim();
            body.strip_prefix(marker).is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
        })
        .map(|c| (c.start, c.end, input.source.line_col(c.end.saturating_sub(1)).line))
        .collect();
    v.visit_file(syntax);
    v.out
}

/// A local bound to SQL that inserts: executed where it is used.
#[derive(Clone)]
struct SqlLocal {
    name: String,
    binding: Loc,
    /// The literal the SQL is written in, when known.
    literal: Option<Loc>,
    /// The innermost loop open where it was bound.
    innermost: Option<u32>,
    sqls: Vec<SqlInsert>,
    /// The SQL is a constant (`let stmt = client.prepare(INSERT_WORKSPACE)`), resolved crate-wide.
    constant: Option<String>,
}

/// A function being collected, with its open loops.
struct FnBuilder {
    facts: FnInsertFacts,
    open_loops: Vec<usize>,
}

impl FnBuilder {
    fn innermost(&self) -> Option<u32> {
        self.open_loops.last().map(|&l| l as u32)
    }
}

struct FnCollector<'a> {
    lowerer: Lowerer<'a>,
    input: &'a ExtractInput<'a>,
    params: &'a InsertParams,
    out: InsertFacts,
    stack: Vec<FnBuilder>,
    self_types: Vec<Option<String>>,
    /// Locals holding INSERT SQL (`let sql = "INSERT …"`).
    sql_locals: Vec<SqlLocal>,
    /// The next call visited is the operand of `.await`.
    awaiting: bool,
    /// `let qb = QueryBuilder::new("INSERT …")`: the builder's name and its INSERT events,
    /// so a later `qb.push(" ON CONFLICT …")` completes the same statement.
    builders: Vec<(String, Vec<usize>)>,
    /// Inline `mod name { … }` blocks around the current item.
    inline_modules: Vec<String>,
    /// The file's marker comments: (start, end, line of the end).
    markers: Vec<(usize, usize, usize)>,
}

impl FnCollector<'_> {
    fn guarded(&self, sql_text: &str) -> Vec<SqlInsert> {
        // Most string literals are not SQL: skip the tokenizer unless one could be.
        if !sql_text.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"insert")) {
            return Vec::new();
        }
        sql::inserts(sql_text)
            .into_iter()
            .filter(|i| self.params.tables.iter().any(|t| i.targets(t)))
            .map(|i| SqlInsert { table: i.table, on_conflict: i.on_conflict, from_select: i.from_select })
            .collect()
    }

    fn push_event(&mut self, kind: EventKind, loc: Loc) {
        // Calls that can never resolve to a crate function are not kept (they are most
        // calls): constructors and variants (`Some(…)`, `Uuid::new_v4` is kept), and
        // ambiguous standard-library method names that are neither awaited nor on `self`.
        if let EventKind::Call { name, method, on_self, awaited, .. } = &kind {
            let constructor = name.starts_with(|c: char| c.is_uppercase());
            let unresolvable =
                *method && !*on_self && !*awaited && self.params.ambiguous_methods.iter().any(|m| **m == **name);
            if constructor || unresolvable {
                return;
            }
        }
        let Some(f) = self.stack.last_mut() else { return };
        if matches!(kind, EventKind::Preflight { .. }) {
            f.facts.preflights.push(f.facts.events.len());
        }
        let innermost = f.innermost();
        f.facts.events.push(Event { kind, loc, innermost });
    }

    fn with_loop(&mut self, header: Loc, kind: &str, body: impl FnOnce(&mut Self)) {
        let Some(f) = self.stack.last_mut() else {
            body(self);
            return;
        };
        let parent = f.innermost();
        f.facts.loops.push(LoopFact { header, kind: kind.to_string(), parent });
        let id = f.facts.loops.len() - 1;
        f.open_loops.push(id);
        body(self);
        if let Some(f) = self.stack.last_mut() {
            f.open_loops.pop();
        }
    }

    fn enter_fn(
        &mut self,
        sig: &syn::Signature,
        attrs: &[syn::Attribute],
        block: &syn::Block,
        body: impl FnOnce(&mut Self),
    ) {
        let has_self = sig.inputs.iter().any(|a| matches!(a, syn::FnArg::Receiver(_)));
        let params = sig.inputs.iter().filter(|a| matches!(a, syn::FnArg::Typed(_))).count();
        let first = attrs.first().map_or(sig.fn_token.span, |a| a.pound_token.span);
        let marker = self.has_marker(first, sig.fn_token.span, block.brace_token.span.close());
        let facts = FnInsertFacts {
            name: sig.ident.to_string(),
            name_loc: self.lowerer.span_loc(sig.ident.span()),
            self_type: self.self_types.last().cloned().flatten(),
            module: self.module_index(),
            params,
            is_async: sig.asyncness.is_some(),
            has_self,
            marker,
            loops: Vec::new(),
            events: Vec::new(),
            preflights: Vec::new(),
        };
        self.stack.push(FnBuilder { facts, open_loops: Vec::new() });
        let saved_locals = std::mem::take(&mut self.sql_locals);
        let saved_builders = std::mem::take(&mut self.builders);
        let saved_scope = std::mem::take(&mut self.lowerer.scope);
        body(self);
        self.sql_locals = saved_locals;
        self.builders = saved_builders;
        self.lowerer.scope = saved_scope;
        let mut done = self.stack.pop().expect("pushed above");
        // Facts outlive the file: no growth slack.
        done.facts.events.shrink_to_fit();
        done.facts.loops.shrink_to_fit();
        if !done.facts.events.is_empty() || done.facts.marker {
            self.out.fns.push(done.facts);
        }
    }

    /// The index of the current module path in `out.modules`, added when new.
    fn module_index(&mut self) -> u32 {
        let path = std::iter::once(self.input.module.as_str())
            .chain(self.inline_modules.iter().map(String::as_str))
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>()
            .join("::");
        let modules = &mut self.out.modules;
        let at = modules.iter().position(|m| *m == path).unwrap_or_else(|| {
            modules.push(path);
            modules.len() - 1
        });
        at as u32
    }

    /// The marker comment inside the function, or ending on the line above it
    /// (above its attributes or above the `fn` itself).
    fn has_marker(&self, first: proc_macro2::Span, fn_token: proc_macro2::Span, close: proc_macro2::Span) -> bool {
        if self.markers.is_empty() {
            return false;
        }
        let src = self.input.source;
        let start = self.lowerer.span_loc(first).start as usize;
        let end = self.lowerer.span_loc(close).end as usize;
        let first_line = src.line_col(start).line;
        let fn_line = src.line_col(self.lowerer.span_loc(fn_token).start as usize).line;
        self.markers.iter().any(|&(c_start, c_end, line)| {
            (c_start >= start && c_end <= end) || line + 1 == first_line || line + 1 == fn_line
        })
    }

    /// The INSERT statements a string-valued expression defines, without executing it:
    /// a literal, `format!`/`concat!` of literals, conversions of those, or a prepared statement.
    fn sql_definition(&self, value: &Value) -> Option<(Vec<SqlInsert>, Option<Loc>)> {
        let text = definition_text(value)?;
        let found = self.guarded(&text);
        (!found.is_empty()).then(|| (found, first_literal(value)))
    }

    fn is_iterator_chain(&self, receiver: &syn::Expr) -> bool {
        let mut names = Vec::new();
        let value = self.lowerer_lower_quiet(receiver);
        value.names(&mut names);
        if matches!(strip(receiver), syn::Expr::Range(_)) {
            return true;
        }
        names.iter().any(|n| self.params.iterator_sources.iter().any(|s| s == n))
    }

    fn lowerer_lower_quiet(&self, expr: &syn::Expr) -> Value {
        let mut l = Lowerer::new(self.lowerer.file, self.lowerer.source);
        l.lower(expr)
    }

    fn literal_events(&mut self, text: &str, loc: Loc) {
        for sql in self.guarded(text) {
            self.push_event(EventKind::Insert(Box::new(InsertEvent { sql, via: None })), loc);
        }
    }

    /// `qb.push(" ON CONFLICT (id) DO NOTHING")` on a builder started with an INSERT.
    fn builder_push(&mut self, m: &syn::ExprMethodCall) {
        let syn::Expr::Path(p) = strip(&m.receiver) else { return };
        let Some(ident) = p.path.get_ident() else { return };
        let Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) = m.args.first() else { return };
        if !sql::has_on_conflict(&s.value()) {
            return;
        }
        let name = ident.to_string();
        let Some((_, events)) = self.builders.iter().rev().find(|(n, _)| *n == name).cloned() else { return };
        let Some(f) = self.stack.last_mut() else { return };
        for i in events {
            if let EventKind::Insert(insert) = &mut f.facts.events[i].kind {
                insert.sql.on_conflict = true;
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

/// Strips parentheses, references and `.await`/`?` around an expression.
fn strip(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Reference(r) => strip(&r.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        _ => expr,
    }
}

/// The SQL text a definition stands for: a string literal, `format!`/`concat!` of
/// literals (placeholders kept), a conversion of one, or `prepare("…")`.
fn definition_text(value: &Value) -> Option<String> {
    match value {
        Value::Str { text, .. } => Some(text.clone()),
        Value::Macro { name, args, .. } if name == "format" || name == "format_args" => match args.first() {
            Some(Value::Str { text, .. }) => Some(text.clone()),
            _ => None,
        },
        Value::Macro { name, args, .. } if name == "concat" => {
            args.iter().map(|a| if let Value::Str { text, .. } = a { Some(text.as_str()) } else { None }).collect()
        }
        Value::Method { receiver, method, args, .. } => {
            if STRING_CONVERSIONS.contains(&method.as_str()) || method == "unwrap" || method == "expect" {
                definition_text(receiver)
            } else if PREPARE_METHODS.contains(&method.as_str()) {
                args.first().and_then(definition_text)
            } else {
                None
            }
        }
        Value::Call { callee, args, .. } if callee.last().is_some_and(|l| l == "from") => {
            args.first().and_then(definition_text)
        }
        _ => None,
    }
}

/// Whether an initialiser has the shape [`definition_text`] or [`definition_const`]
/// can read (a literal, `format!`/`concat!`, a SCREAMING path, conversions or
/// `prepare` of those): a syntactic over-approximation, so that the other `let`s
/// are not lowered.
fn may_define_sql(expr: &syn::Expr) -> bool {
    use syn::Expr as E;
    match expr {
        E::Lit(l) => matches!(l.lit, syn::Lit::Str(_)),
        E::Macro(m) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "format" || s.ident == "format_args" || s.ident == "concat"),
        E::Path(p) => p.path.segments.last().is_some_and(|s| is_screaming(&s.ident.to_string())),
        E::MethodCall(m) => {
            let method = m.method.to_string();
            if STRING_CONVERSIONS.contains(&method.as_str()) || method == "unwrap" || method == "expect" {
                may_define_sql(&m.receiver)
            } else if PREPARE_METHODS.contains(&method.as_str()) {
                m.args.first().is_some_and(may_define_sql)
            } else {
                false
            }
        }
        E::Call(c) => match &*c.func {
            E::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "from") => {
                c.args.first().is_some_and(may_define_sql)
            }
            _ => false,
        },
        E::Reference(r) => may_define_sql(&r.expr),
        E::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => may_define_sql(&u.expr),
        E::Paren(p) => may_define_sql(&p.expr),
        E::Group(g) => may_define_sql(&g.expr),
        E::Cast(c) => may_define_sql(&c.expr),
        E::Try(t) => may_define_sql(&t.expr),
        E::Await(a) => may_define_sql(&a.base),
        // A block's value is its tail (and any `return`): not worth reading here.
        E::Block(_) | E::Unsafe(_) => true,
        _ => false,
    }
}

/// The constant a definition stands for: `CONST`, `path::CONST`, a conversion of
/// one, or `prepare(CONST)`.
fn definition_const(value: &Value) -> Option<String> {
    match value {
        Value::Path { segments, .. } => segments.last().filter(|s| is_screaming(s)).cloned(),
        Value::Method { receiver, method, args, .. } => {
            if STRING_CONVERSIONS.contains(&method.as_str()) || method == "unwrap" || method == "expect" {
                definition_const(receiver)
            } else if PREPARE_METHODS.contains(&method.as_str()) {
                args.first().and_then(definition_const)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Where the first string literal of a value is written.
fn first_literal(value: &Value) -> Option<Loc> {
    match value {
        Value::Str { loc, .. } => Some(*loc),
        Value::Macro { args, .. } | Value::Call { args, .. } => args.iter().find_map(first_literal),
        Value::Method { receiver, args, .. } => first_literal(receiver).or_else(|| args.iter().find_map(first_literal)),
        _ => None,
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

/// `QueryBuilder::new(…)` (with or without a turbofish or path).
fn is_query_builder(expr: &syn::Expr) -> bool {
    match strip(expr) {
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) => {
                let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                segs.len() >= 2 && segs[segs.len() - 2] == "QueryBuilder" && segs[segs.len() - 1] == "new"
            }
            _ => false,
        },
        _ => false,
    }
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
                if text.contains('\\') || text.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"insert")) {
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

/// [`is_screaming`] of an identifier, without allocating its name.
fn ident_is_screaming(ident: &proc_macro2::Ident) -> bool {
    use std::fmt::Write;
    thread_local! {
        static NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    NAME.with(|name| {
        let mut name = name.borrow_mut();
        name.clear();
        let _ = write!(name, "{ident}");
        is_screaming(&name)
    })
}

fn is_screaming(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

impl<'ast> Visit<'ast> for FnCollector<'_> {
    // Types hold nothing these facts come from; doc comments and other attributes are not SQL.
    fn visit_type(&mut self, _: &'ast syn::Type) {}
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // `mod quick { … }` inside a file extends the module path of what it holds.
        if m.content.is_some() {
            self.inline_modules.push(m.ident.to_string());
            syn::visit::visit_item_mod(self, m);
            self.inline_modules.pop();
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.self_types.push(crate::facts::type_name(&i.self_ty));
        syn::visit::visit_item_impl(self, i);
        self.self_types.pop();
    }

    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        self.self_types.push(None);
        self.enter_fn(&i.sig, &i.attrs, &i.block, |s| s.visit_block(&i.block));
        self.self_types.pop();
    }

    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        self.enter_fn(&i.sig, &i.attrs, &i.block, |s| s.visit_block(&i.block));
    }

    fn visit_trait_item_fn(&mut self, i: &'ast syn::TraitItemFn) {
        if let Some(block) = &i.default {
            self.enter_fn(&i.sig, &i.attrs, block, |s| s.visit_block(block));
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        let saved = (self.sql_locals.len(), self.lowerer.scope.len(), self.builders.len());
        syn::visit::visit_block(self, b);
        self.sql_locals.truncate(saved.0);
        self.lowerer.scope.truncate(saved.1);
        self.builders.truncate(saved.2);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        let Some(init) = &local.init else { return syn::visit::visit_local(self, local) };
        // Lowered once, without substituting other locals: only literal SQL, constants
        // and prepared statements are followed into a local (and only initialisers of
        // that shape are lowered at all).
        let value = if may_define_sql(&init.expr) { self.lowerer.lower(&init.expr) } else { Value::Opaque };
        // `let sql = INSERT_WORKSPACE;`, `let stmt = client.prepare(sql::INSERT_WORKSPACE)`:
        // the constant's SQL runs where the local is used.
        if let (Some(constant), Some(ident)) = (definition_const(&value), crate::facts::value::pat_ident(&local.pat)) {
            let binding = self.lowerer.span_loc(ident.span());
            let innermost = self.stack.last().and_then(FnBuilder::innermost);
            let name = ident.to_string();
            self.sql_locals.push(SqlLocal {
                name,
                binding,
                literal: None,
                innermost,
                sqls: Vec::new(),
                constant: Some(constant),
            });
            return;
        }
        let defined = self.sql_definition(&value);
        match (&defined, crate::facts::value::pat_ident(&local.pat)) {
            (Some((sqls, literal)), Some(ident)) => {
                // A definition: the INSERT runs where the local is used, not here.
                let binding = self.lowerer.span_loc(ident.span());
                let innermost = self.stack.last().and_then(FnBuilder::innermost);
                let local = SqlLocal {
                    name: ident.to_string(),
                    binding,
                    literal: *literal,
                    innermost,
                    sqls: sqls.clone(),
                    constant: None,
                };
                self.sql_locals.push(local);
            }
            _ => {
                let before = self.stack.last().map_or(0, |f| f.facts.events.len());
                syn::visit::visit_local(self, local);
                let after = self.stack.last().map_or(0, |f| f.facts.events.len());
                if let (Some(ident), true) = (crate::facts::value::pat_ident(&local.pat), is_query_builder(&init.expr))
                {
                    let inserts = (before..after)
                        .filter(|&i| {
                            self.stack
                                .last()
                                .is_some_and(|f| matches!(f.facts.events[i].kind, EventKind::Insert { .. }))
                        })
                        .collect();
                    self.builders.push((ident.to_string(), inserts));
                }
            }
        }
    }

    fn visit_expr_lit(&mut self, e: &'ast syn::ExprLit) {
        if let syn::Lit::Str(s) = &e.lit {
            let loc = self.lowerer.span_loc(s.span());
            // Most literals are not SQL: look at the written text before unescaping it
            // (an escape could spell INSERT, so text with one is always unescaped).
            // (No location, as in fuzzing builds: unescape.)
            let written = self.input.source.text().get(loc.range()).filter(|w| !w.is_empty()).unwrap_or("\\");
            if written.contains('\\') || written.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"insert")) {
                self.literal_events(&s.value(), loc);
            }
        }
    }

    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        let Some(last) = e.path.segments.last() else { return };
        // Only a SQL local or a SCREAMING constant makes an event: most paths are neither.
        let sql_local = !self.sql_locals.is_empty() && e.path.get_ident().is_some();
        if !sql_local && !ident_is_screaming(&last.ident) {
            return;
        }
        let loc = self.lowerer.span_loc(last.ident.span());
        if let Some(ident) = e.path.get_ident() {
            let name = ident.to_string();
            if let Some(local) = self.sql_locals.iter().rev().find(|l| l.name == name).cloned() {
                if let Some(constant) = local.constant {
                    self.push_event(EventKind::ConstUse { name: constant.into() }, loc);
                    return;
                }
                let open = self.stack.last().and_then(FnBuilder::innermost);
                for sql in local.sqls {
                    // Bound in the same iteration: the statement is the literal itself.
                    let (at, via) = match local.literal {
                        Some(lit) if open.is_some() && open == local.innermost => (lit, None),
                        _ => (loc, Some((local.binding, format!("the SQL is bound to `{name}` here")))),
                    };
                    self.push_event(EventKind::Insert(Box::new(InsertEvent { sql, via })), at);
                }
                return;
            }
        }
        if let Some(last) = e.path.segments.last() {
            let name = last.ident.to_string();
            if is_screaming(&name) {
                self.push_event(EventKind::ConstUse { name: name.into() }, loc);
            }
        }
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        let header = self.lowerer.loc(e.for_token.span, e.in_token.span);
        self.with_loop(header, "for", |s| {
            s.visit_pat(&e.pat);
            s.visit_block(&e.body);
        });
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        let header = self.lowerer.span_loc(e.while_token.span);
        self.with_loop(header, "while", |s| {
            s.visit_expr(&e.cond);
            s.visit_block(&e.body);
        });
    }

    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        let header = self.lowerer.span_loc(e.loop_token.span);
        self.with_loop(header, "loop", |s| s.visit_block(&e.body));
    }

    fn visit_expr_await(&mut self, e: &'ast syn::ExprAwait) {
        self.awaiting = matches!(strip(&e.base), syn::Expr::Call(_) | syn::Expr::MethodCall(_));
        self.visit_expr(&e.base);
        self.awaiting = false;
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        let awaited = std::mem::take(&mut self.awaiting);
        if let syn::Expr::Path(p) = &*c.func
            && let Some(last) = p.path.segments.last()
        {
            let name = last.ident.to_string();
            let loc = self.lowerer.span_loc(last.ident.span());
            let kind = if self.params.preflight_helpers.contains(&name) {
                EventKind::Preflight { name: name.into() }
            } else {
                let qualifier = p.path.segments.iter().rev().nth(1).map(|s| s.ident.to_string());
                EventKind::Call {
                    name: name.into(),
                    qualifier: qualifier.map(String::into_boxed_str),
                    args: c.args.len(),
                    method: false,
                    on_self: false,
                    awaited,
                }
            };
            // Arguments are evaluated before the call runs.
            for arg in &c.args {
                self.visit_expr(arg);
            }
            self.push_event(kind, loc);
            return;
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let awaited = std::mem::take(&mut self.awaiting);
        let method = m.method.to_string();
        let loc = self.lowerer.span_loc(m.method.span());
        self.visit_expr(&m.receiver);
        let repeated = self.params.iterator_adapters.contains(&method)
            && (self.params.iterator_only_adapters.contains(&method) || self.is_iterator_chain(&m.receiver));
        if PREPARE_METHODS.contains(&method.as_str()) {
            // The statement runs where it is executed, not where it is prepared.
        } else if repeated {
            let kind = format!(".{method}()");
            self.with_loop(loc, &kind, |s| {
                for arg in &m.args {
                    s.visit_expr(arg);
                }
            });
        } else {
            for arg in &m.args {
                self.visit_expr(arg);
            }
        }
        if method == "push" {
            self.builder_push(m);
        }
        let kind = if self.params.preflight_helpers.contains(&method) {
            EventKind::Preflight { name: method.into() }
        } else {
            let on_self = matches!(strip(&m.receiver), syn::Expr::Path(p) if p.path.is_ident("self"));
            EventKind::Call { name: method.into(), qualifier: None, args: m.args.len(), method: true, on_self, awaited }
        };
        self.push_event(kind, loc);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if PROSE_MACROS.contains(&name.as_str()) || NOT_RUN_HERE_MACROS.contains(&name.as_str()) {
            return;
        }
        if QUERY_FILE_MACROS.contains(&name.as_str()) {
            self.query_file(mac);
            return;
        }
        for item in crate::facts::value::lazy_static_items(mac) {
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
        }
    }
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
            constant: None,
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
