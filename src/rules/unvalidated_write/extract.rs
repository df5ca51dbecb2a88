//! Per-file facts for `unvalidated-write` and the visitor that extracts them
//! ([`Extractor`]): for each function, the columns it writes (SQL it runs with the
//! arguments bound to it, a `SET` built from pieces, diesel's `insert_into`/`update`
//! and upserts, sea-orm's `ActiveModel` and `update_many`), the value written to each,
//! and the calls it makes, with their arguments, where they run and in which block;
//! and the sea-orm entities the file declares, with their tables. Which write a validator
//! covers is decided crate-wide, in `analysis`, once every function is known.

pub mod sql;

use crate::facts::sea_orm::{EntityImports, EntityPath};
use crate::input::comments::Comment;
use crate::input::source::{FileId, Loc, SourceFile};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};
pub use sql::Kind;
use std::path::Path;
use syn::spanned::Spanned;
use syn::visit::Visit;

/// The marker comment that says why a write needs no validator call.
pub const MARKER: &str = "validated-by:";

/// A value as a path of a local and its fields (`patch.runtime`), locals bound to
/// another value replaced by it (`rt` of `if let Some(rt) = &patch.runtime`).
pub type ValuePath = Vec<String>;

/// Where an event runs: its byte offset, and the blocks it is in (outermost first).
/// An event runs before another on every path when it comes first and its blocks
/// enclose the other's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct At {
    pub pos: u32,
    pub blocks: Vec<u32>,
}

impl At {
    pub fn runs_before(&self, later: &At) -> bool {
        self.pos < later.pos && later.blocks.starts_with(&self.blocks)
    }
}

/// A call: a function by its path, or a method by its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub path: Vec<String>,
    pub method: bool,
    /// Its arguments as values (a method's receiver first); `None`: not a plain value.
    pub args: Vec<Option<ValuePath>>,
    /// The function's name (or the method's), for resolving it and for labels.
    pub loc: Loc,
    pub at: At,
    /// Its failure leaves the function: the call is under a `?` (through
    /// `.map_err(..)`, `.await`), or tested by an `if` that returns
    /// (`if let Err(e) = validate(..) { return .. }`).
    pub checked: bool,
    /// The local a `let` binds to its result (`let pct = checked_pct(v, pct)?`), and
    /// where that `let` is.
    pub result: Option<(String, u32)>,
}

impl Call {
    pub fn name(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }
}

/// The value a write stores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Written {
    /// A value of the code: the argument bound to its placeholder, an ORM field's.
    Value(ValuePath),
    /// An argument that is not a plain value (`body.runtime.trim()`), or one whose
    /// binding is not read.
    Unknown,
}

/// A `// validated-by: <reason>` comment on a write's line or the line above.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Marker {
    None,
    Reason(String),
    /// The marker without a reason: it does not count.
    Empty(Loc),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    /// Lowercased; for sea-orm (`entity`), the entity's module (`workspace` of
    /// `workspace::ActiveModel`), empty when the entity is not known.
    pub table: String,
    pub column: String,
    pub kind: Kind,
    pub value: Written,
    /// The column as written (in the SQL, the diesel column, the sea-orm field).
    pub loc: Loc,
    pub at: At,
    pub marker: Marker,
    /// An ORM write (diesel's, sea-orm's).
    pub orm: bool,
    /// A sea-orm write: `table` is the entity's module, whose table its
    /// `#[sea_orm(table_name = "…")]` names crate-wide.
    pub entity: bool,
}

/// One function: its parameters, writes and calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnWrites {
    pub name: String,
    pub name_loc: Loc,
    /// Each parameter's binding (`self` for the receiver); `None` for a pattern.
    pub params: Vec<Option<String>>,
    pub calls: Vec<Call>,
    pub writes: Vec<Write>,
    /// The bodies that run only for a value matching a pattern: `if let`, `match`
    /// arms, `for` loops.
    pub guards: Vec<Guard>,
    /// Where the function returns a value, and the value when it is a plain one
    /// (`Ok(pct)`, `Some(pct)`, `pct`); an error (`Err(..)`, `None`) is no return.
    pub returns: Vec<(Option<ValuePath>, At)>,
    /// Every local a `let` binds by name, and where.
    pub lets: Vec<(String, u32)>,
}

/// A body run only for a value matching a pattern, by its block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guard {
    pub block: u32,
    /// The pattern and the value it matches (`Some(pct) = req.pct`, `for s in slugs`):
    /// two guards with the same key run for the same values.
    pub key: String,
    /// Nothing else decides whether the body runs (no `&&` in the `if`, no arm guard).
    pub sole: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteFacts {
    pub fns: Vec<FnWrites>,
    /// The sea-orm entities the file declares.
    pub entities: Vec<EntityTable>,
}

/// A sea-orm entity: the module it is declared in, and the table it names
/// (`#[sea_orm(table_name = "subscriptions")]`, lowercased) at `loc`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityTable {
    pub module: String,
    pub table: String,
    pub loc: Loc,
}

pub fn extract(file: FileId, path: &Path, source: &SourceFile, syntax: &syn::File, comments: &[Comment]) -> WriteFacts {
    let markers = comments
        .iter()
        .filter_map(|c| {
            let (_, reason) = c.body.split_once(MARKER)?;
            // Another comment's text after it (`// validated-by: why //~ …`) is not the reason.
            let reason = reason.split("//").next().unwrap_or("").trim().to_string();
            let line = source.line_col(c.start).line;
            Some((line, reason, Loc::new(file, c.start, c.end)))
        })
        .collect();
    let mut consts = SqlConsts::default();
    consts.visit_file(syntax);
    let mut x = Extractor {
        file,
        path,
        source,
        markers,
        consts: consts.0,
        imports: EntityImports::all(syntax),
        modules: Vec::new(),
        fns: Vec::new(),
        entities: Vec::new(),
        stack: Vec::new(),
    };
    x.visit_file(syntax);
    WriteFacts { fns: x.fns, entities: x.entities }
}

/// The file's `const X: &str = "UPDATE …"`.
#[derive(Default)]
struct SqlConsts(HashMap<String, syn::LitStr>);

impl<'ast> Visit<'ast> for SqlConsts {
    fn visit_item_const(&mut self, i: &'ast syn::ItemConst) {
        if let Some(lit) = str_lit(&i.expr) {
            self.0.insert(i.ident.to_string(), lit.clone());
        }
    }
    fn visit_impl_item_const(&mut self, i: &'ast syn::ImplItemConst) {
        if let Some(lit) = str_lit(&i.expr) {
            self.0.insert(i.ident.to_string(), lit.clone());
        }
    }
}

fn str_lit(e: &syn::Expr) -> Option<&syn::LitStr> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s),
        syn::Expr::Reference(r) => str_lit(&r.expr),
        syn::Expr::Paren(p) => str_lit(&p.expr),
        syn::Expr::Group(g) => str_lit(&g.expr),
        _ => None,
    }
}

/// A statement's text and the literal it is written in.
#[derive(Clone)]
struct SqlSource {
    text: String,
    lit: Loc,
    /// Where the text's first byte is in the file, and where the two drift apart
    /// (escapes), as [`crate::facts::sql_texts::SqlText`] keeps them.
    text_start: Option<u32>,
    shifts: Vec<(u32, u32)>,
}

/// A sea-orm `ActiveModel` (or a diesel changeset) held in a local: its entity and
/// the fields set on it.
#[derive(Clone, Default)]
struct Model {
    /// The entity's module (empty when not known, and for a diesel changeset).
    table: String,
    fields: Vec<(String, Written, Loc)>,
    /// A sea-orm `ActiveModel` (its type or its `Set(..)` fields say so): saved by
    /// its own `insert`/`update`/`save`; otherwise only a diesel changeset.
    active: bool,
}

/// A `col = ` piece of a `SET` built at run time.
struct Fragment {
    column: String,
    value: Written,
    loc: Loc,
    at: At,
}

struct FnState {
    facts: FnWrites,
    blocks: Vec<u32>,
    aliases: HashMap<String, ValuePath>,
    sql_locals: HashMap<String, SqlSource>,
    /// Literals held in `sql_locals` (by their start), and where their `let` is: read
    /// where the local runs, or there when it is not run in a way that is read.
    held: HashMap<u32, At>,
    /// Literals read as a statement already (by their start).
    consumed: HashSet<u32>,
    /// Method-call chains read already (by their root's start).
    chains: HashSet<u32>,
    models: HashMap<String, Model>,
    /// Locals and parameters typed as a sea-orm entity's `Model` or `ActiveModel`:
    /// the entity's module.
    entity_values: HashMap<String, String>,
    fragments: Vec<Fragment>,
    update_tables: Vec<String>,
    /// The calls (by their name's start) whose failure leaves the function.
    checked: HashSet<u32>,
    /// Closures and async blocks around the current expression (a `return` there is
    /// not the function's).
    closures: usize,
}

pub struct Extractor<'a> {
    file: FileId,
    path: &'a Path,
    source: &'a SourceFile,
    markers: Vec<(usize, String, Loc)>,
    consts: HashMap<String, syn::LitStr>,
    /// The file's imports of sea-orm entity types.
    imports: EntityImports,
    /// The inline modules around the current item, innermost last.
    modules: Vec<String>,
    fns: Vec<FnWrites>,
    entities: Vec<EntityTable>,
    stack: Vec<FnState>,
}

const QUERY_FNS: &[&str] = &["query", "query_as", "query_scalar", "query_with", "query_as_with", "query_scalar_with"];
const CLIENT_METHODS: &[&str] =
    &["execute", "query", "query_one", "query_opt", "query_raw", "execute_raw", "batch_execute"];
const BIND_METHODS: &[&str] = &["bind", "push_bind", "push_bind_unseparated"];
/// Methods and wrappers that hand on the value they are given.
const TRANSPARENT_METHODS: &[&str] = &[
    "clone",
    "as_ref",
    "as_deref",
    "as_str",
    "to_string",
    "to_owned",
    "into",
    "unwrap",
    "expect",
    "unwrap_or_default",
    "borrow",
    "deref",
    "as_slice",
    "to_vec",
];
const TRANSPARENT_CALLS: &[&str] = &["Some", "Set", "Json", "Box", "Arc", "Rc", "Cow", "String", "ActiveValue"];

impl Extractor<'_> {
    fn loc(&self, span: proc_macro2::Span) -> Loc {
        self.source.span_loc(self.file, span, span)
    }

    fn at(&self, span: proc_macro2::Span) -> At {
        let blocks = self.stack.last().map(|f| f.blocks.clone()).unwrap_or_default();
        At { pos: self.loc(span).start, blocks }
    }

    fn line(&self, loc: Loc) -> usize {
        self.source.line_col(loc.start as usize).line
    }

    fn marker(&self, locs: &[Loc]) -> Marker {
        let lines: Vec<usize> = locs.iter().map(|l| self.line(*l)).collect();
        let found = self.markers.iter().find(|(line, _, _)| lines.iter().any(|l| line == l || line + 1 == *l));
        match found {
            Some((_, reason, _)) if !reason.is_empty() => Marker::Reason(reason.clone()),
            Some((_, _, loc)) => Marker::Empty(*loc),
            None => Marker::None,
        }
    }

    fn function(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let params = sig
            .inputs
            .iter()
            .map(|arg| match arg {
                syn::FnArg::Receiver(_) => Some("self".to_string()),
                syn::FnArg::Typed(t) => binding(&t.pat),
            })
            .collect();
        // `found: user::Model`, `mut am: ActiveModel`
        let mut entity_values = HashMap::default();
        let mut models = HashMap::default();
        for arg in &sig.inputs {
            if let syn::FnArg::Typed(t) = arg
                && let Some(name) = binding(&t.pat)
                && let Some((entity, active)) = type_path(&t.ty).and_then(|ty| self.entity_type(&ty))
            {
                if active {
                    models.insert(name.clone(), Model { table: entity.clone(), fields: Vec::new(), active: true });
                }
                entity_values.insert(name, entity);
            }
        }
        let facts = FnWrites {
            name: sig.ident.to_string(),
            name_loc: self.loc(sig.ident.span()),
            params,
            calls: Vec::new(),
            writes: Vec::new(),
            guards: Vec::new(),
            returns: Vec::new(),
            lets: Vec::new(),
        };
        self.stack.push(FnState {
            facts,
            blocks: Vec::new(),
            aliases: HashMap::default(),
            sql_locals: HashMap::default(),
            held: HashMap::default(),
            consumed: HashSet::default(),
            chains: HashSet::default(),
            models,
            entity_values,
            fragments: Vec::new(),
            update_tables: Vec::new(),
            checked: HashSet::default(),
            closures: 0,
        });
        self.visit_block(block);
        // The tail expression is a return.
        if let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last()
            && let Some(value) = self.returned(tail)
        {
            let at = At { pos: self.loc(tail.span()).start, blocks: vec![self.loc(block.brace_token.span.open()).start] };
            if let Some(state) = self.state() {
                state.facts.returns.push((value, at));
            }
        }
        let Some(mut state) = self.stack.pop() else { return };
        // A statement kept in a local and never run in a way that was read (handed to
        // a helper): its writes all the same, where its `let` is, with values unknown.
        let mut unused: Vec<(String, SqlSource)> = state.sql_locals.drain().collect();
        unused.sort_by_key(|(_, s)| s.lit.start);
        for (_, sql) in unused {
            if !state.consumed.contains(&sql.lit.start) {
                let at = state.held.get(&sql.lit.start).cloned().unwrap_or_default();
                self.stack.push(state);
                self.statement(&sql, None, at, &[]);
                state = self.stack.pop().expect("pushed above");
            }
        }
        if let Some(table) = state.update_tables.first() {
            for f in std::mem::take(&mut state.fragments) {
                let marker = self.marker(&[f.loc]);
                state.facts.writes.push(Write {
                    table: table.clone(),
                    column: f.column,
                    kind: Kind::Update,
                    value: f.value,
                    loc: f.loc,
                    at: f.at,
                    marker,
                    orm: false,
                    entity: false,
                });
            }
        }
        if !state.facts.writes.is_empty() || !state.facts.calls.is_empty() {
            state.facts.writes.sort_by_key(|w| w.at.pos);
            self.fns.push(state.facts);
        }
    }

    fn state(&mut self) -> Option<&mut FnState> {
        self.stack.last_mut()
    }

    /// A value expression as a path, through the function's aliases.
    fn value(&self, e: &syn::Expr) -> Option<ValuePath> {
        let mut path = plain_path(e)?;
        if let Some(state) = self.stack.last()
            && let Some(alias) = state.aliases.get(&path[0])
        {
            path.splice(0..1, alias.iter().cloned());
        }
        Some(path)
    }

    fn written(&self, e: &syn::Expr) -> Written {
        self.value(e).map_or(Written::Unknown, Written::Value)
    }

    /// Binds the names of a pattern matched against `value` as aliases of its parts.
    fn bind(&mut self, pat: &syn::Pat, value: Option<ValuePath>) {
        let Some(value) = value else { return };
        let mut pairs = Vec::new();
        pattern_parts(pat, value, &mut pairs);
        if let Some(state) = self.state() {
            for (name, path) in pairs {
                if path != [name.clone()] {
                    state.aliases.insert(name, path);
                }
            }
        }
    }

    /// The SQL text an expression names: a literal, a local holding one (or a
    /// `format!` template), a constant of this file.
    fn sql_of(&self, e: &syn::Expr) -> Option<SqlSource> {
        if let Some(lit) = str_lit(e) {
            return Some(self.sql_source(lit));
        }
        let e = strip(e);
        match e {
            syn::Expr::Path(p) if p.qself.is_none() => {
                let name = p.path.segments.last()?.ident.to_string();
                if p.path.segments.len() == 1
                    && let Some(sql) = self.stack.last().and_then(|s| s.sql_locals.get(&name))
                {
                    return Some(sql.clone());
                }
                self.consts.get(&name).map(|lit| self.sql_source(lit))
            }
            syn::Expr::Macro(m) => self.format_template(&m.mac),
            syn::Expr::MethodCall(m) if TRANSPARENT_METHODS.contains(&m.method.to_string().as_str()) => {
                self.sql_of(&m.receiver)
            }
            _ => None,
        }
    }

    fn sql_source(&self, lit: &syn::LitStr) -> SqlSource {
        let at = self.loc(lit.span());
        let written = self.source.text().get(at.range()).unwrap_or_default();
        let (text_start, shifts) = match written.find('"') {
            Some(q) if written.starts_with('r') || !written[q + 1..].contains('\\') => {
                (Some(at.start + q as u32 + 1), Vec::new())
            }
            Some(q) => {
                let inner = written[q + 1..].strip_suffix('"').unwrap_or(&written[q + 1..]);
                match crate::facts::sql_texts::escape_shifts(inner, at.start + q as u32 + 1) {
                    Some(shifts) => (Some(at.start + q as u32 + 1), shifts),
                    None => (None, Vec::new()),
                }
            }
            None => (None, Vec::new()),
        };
        SqlSource { text: lit.value(), lit: at, text_start, shifts }
    }

    /// `format!("UPDATE t SET {} WHERE …", …)`: the template, read as SQL with holes.
    fn format_template(&self, mac: &syn::Macro) -> Option<SqlSource> {
        let name = mac.path.segments.last()?.ident.to_string();
        if name != "format" {
            return None;
        }
        let args = mac.parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated).ok()?;
        let lit = str_lit(args.first()?)?;
        Some(self.sql_source(lit))
    }

    /// Reads one statement and records the columns it writes. `binds` are the
    /// arguments bound to it, in order, when they were read.
    fn statement(&mut self, sql: &SqlSource, binds: Option<&[Option<ValuePath>]>, at: At, around: &[Loc]) {
        if let Some(state) = self.state() {
            state.consumed.insert(sql.lit.start);
        }
        let Some(read) = sql::writes(&sql.text) else {
            if let Some((table, rest)) = sql::update_prefix(&sql.text) {
                let pieces: Vec<&str> = rest.split(',').collect();
                let value_of_last = binds.and_then(|b| b.first().cloned().flatten());
                for (i, piece) in pieces.iter().enumerate() {
                    if let Some(column) = sql::set_piece(piece) {
                        let value = match (&value_of_last, i + 1 == pieces.len() && piece.trim().ends_with('=')) {
                            (Some(v), true) => Written::Value(v.clone()),
                            _ => Written::Unknown,
                        };
                        let fragment = Fragment { column, value, loc: sql.lit, at: at.clone() };
                        if let Some(state) = self.state() {
                            state.fragments.push(fragment);
                        }
                    }
                }
                if let Some(state) = self.state() {
                    state.update_tables.push(table);
                }
            }
            return;
        };
        // A start that is a whole assignment list (`UPDATE t SET updated_at = now()`):
        // pieces pushed after it continue the list.
        if let Some(table) = read.open_update
            && let Some(state) = self.state()
        {
            state.update_tables.push(table);
        }
        for w in read.writes {
            let value = match (&w.source, binds) {
                (sql::Source::Constant, _) => continue,
                (sql::Source::Binds(idx), Some(binds)) => {
                    idx.iter().find_map(|&i| binds.get(i - 1).cloned().flatten()).map_or(Written::Unknown, Written::Value)
                }
                _ => Written::Unknown,
            };
            let placed = crate::facts::sql_texts::SqlText {
                text: sql.text.clone(),
                at: sql.lit,
                text_start: sql.text_start,
                shifts: sql.shifts.clone(),
            };
            let loc = placed.loc_of(w.range.as_ref());
            let mut lines = vec![loc, sql.lit];
            lines.extend_from_slice(around);
            let marker = self.marker(&lines);
            let write =
                Write { table: w.table, column: w.column, kind: w.kind, value, loc, at: at.clone(), marker, orm: false, entity: false };
            if let Some(state) = self.state() {
                state.facts.writes.push(write);
            }
        }
    }

    /// A method-call chain: a query with its binds, a query builder's pieces, a
    /// diesel update or insert, a sea-orm model saved.
    fn chain(&mut self, outer: &syn::ExprMethodCall) {
        let mut calls = vec![outer];
        let mut root = &*outer.receiver;
        while let syn::Expr::MethodCall(m) = strip(root) {
            calls.push(m);
            root = &m.receiver;
        }
        calls.reverse();
        let root_start = self.loc(root.span()).start;
        if self.stack.last().is_none_or(|s| s.chains.contains(&root_start)) {
            return;
        }
        if let Some(state) = self.state() {
            state.chains.insert(root_start);
        }
        let around = [self.loc(outer.span())];
        // `sqlx::query("…").bind(a).bind(b)`
        if let syn::Expr::Call(call) = strip(root)
            && let syn::Expr::Path(p) = &*call.func
            && let Some(last) = p.path.segments.last()
        {
            let name = last.ident.to_string();
            if QUERY_FNS.contains(&name.as_str())
                && let Some(sql) = call.args.first().and_then(|a| self.sql_of(a))
            {
                let binds: Vec<Option<ValuePath>> = calls
                    .iter()
                    .filter(|c| c.method == "bind")
                    .map(|c| c.args.first().and_then(|a| self.value(a)))
                    .collect();
                let at = self.at(call.span());
                self.statement(&sql, Some(&binds), at, &around);
            } else if name == "new"
                && p.path.segments.iter().any(|s| s.ident == "QueryBuilder")
                && let Some(sql) = call.args.first().and_then(|a| self.sql_of(a))
            {
                // `QueryBuilder::new("UPDATE t SET runtime = ").push_bind(v)`
                let first_bind = calls
                    .first()
                    .filter(|c| BIND_METHODS.contains(&c.method.to_string().as_str()))
                    .map(|c| c.args.first().and_then(|a| self.value(a)));
                let at = self.at(call.span());
                let binds = first_bind.map(|b| vec![b]);
                self.statement(&sql, binds.as_deref(), at, &around);
            } else if name == "update" && calls.first().is_some_and(|c| c.method == "set") {
                self.diesel(call, calls[0], Kind::Update, None);
            } else if name == "insert_into" && calls.first().is_some_and(|c| c.method == "values") {
                // `.on_conflict(..).do_update().set(..)`
                let upsert = calls
                    .iter()
                    .position(|c| c.method == "do_update")
                    .and_then(|k| calls[k + 1..].iter().find(|c| c.method == "set"))
                    .copied();
                self.diesel(call, calls[0], Kind::Insert, upsert);
            } else if name == "update_many" && p.path.segments.len() >= 2 {
                // sea-orm: `subscription::Entity::update_many().col_expr(..)`
                let path: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                let entity = self.entity(&path[..path.len() - 1]);
                self.update_many(entity, call, &calls);
            }
        }
        for (i, c) in calls.iter().enumerate() {
            let method = c.method.to_string();
            // tokio-postgres: `client.execute("…", &[&a, &b])`
            if CLIENT_METHODS.contains(&method.as_str())
                && let Some(sql) = c.args.first().and_then(|a| self.sql_of(a))
            {
                let binds: Option<Vec<Option<ValuePath>>> = match c.args.iter().nth(1).map(strip) {
                    Some(syn::Expr::Array(a)) => Some(a.elems.iter().map(|e| self.value(e)).collect()),
                    Some(syn::Expr::Reference(r)) => match strip(&r.expr) {
                        syn::Expr::Array(a) => Some(a.elems.iter().map(|e| self.value(e)).collect()),
                        _ => None,
                    },
                    _ => None,
                };
                let at = self.at(c.method.span());
                self.statement(&sql, binds.as_deref(), at, &around);
            }
            // A query builder's `.push("runtime = ").push_bind(v)`
            if method == "push"
                && let Some(lit) = c.args.first().and_then(str_lit)
                && let Some(column) = sql::set_piece(&lit.value())
            {
                let value = calls
                    .get(i + 1)
                    .filter(|n| BIND_METHODS.contains(&n.method.to_string().as_str()))
                    .and_then(|n| n.args.first())
                    .map_or(Written::Unknown, |a| self.written(a));
                let fragment = Fragment { column, value, loc: self.loc(lit.span()), at: self.at(c.method.span()) };
                let start = self.loc(lit.span()).start;
                if let Some(state) = self.state() {
                    state.consumed.insert(start);
                    state.fragments.push(fragment);
                }
            }
            // sea-orm: `model.update(db)`, `ActiveModel { .. }.insert(db)`
            if matches!(method.as_str(), "insert" | "update" | "save") && c.args.len() <= 1 {
                let kind = if method == "insert" { Kind::Insert } else { Kind::Update };
                let receiver = if i == 0 { root } else { &*c.receiver };
                let model = match strip(receiver) {
                    syn::Expr::Struct(s) => self.active_model(s),
                    syn::Expr::Path(p) if p.path.segments.len() == 1 => {
                        let name = p.path.segments[0].ident.to_string();
                        self.stack.last().and_then(|s| s.models.get(&name)).filter(|m| m.active).cloned()
                    }
                    _ => None,
                };
                if let Some(model) = model {
                    let at = self.at(c.method.span());
                    self.model_writes(model, kind, at, self.loc(c.method.span()));
                }
            }
        }
    }

    /// sea-orm's `Entity::update_many()` with its columns set: `.col_expr(Column::Seats,
    /// Expr::value(v))`, `.set(ActiveModel { seats: Set(v), .. })`.
    fn update_many(&mut self, entity: String, call: &syn::ExprCall, calls: &[&syn::ExprMethodCall]) {
        let call_loc = self.loc(call.span());
        for c in calls {
            let found: Vec<(String, Written, Loc)> = match (c.method.to_string().as_str(), c.args.len()) {
                ("col_expr", 2) => {
                    let syn::Expr::Path(column) = strip(&c.args[0]) else { continue };
                    let Some(name) = column.path.segments.last() else { continue };
                    let Some(value) = self.column_value(&c.args[1]) else { continue };
                    let name = crate::facts::sea_orm::snake_case(&name.ident.to_string());
                    vec![(name, value, self.loc(column.span()))]
                }
                ("set", 1) => match strip(&c.args[0]) {
                    syn::Expr::Struct(s) => self.active_model(s).map(|m| m.fields).unwrap_or_default(),
                    syn::Expr::Path(p) if p.path.segments.len() == 1 => {
                        let name = p.path.segments[0].ident.to_string();
                        self.stack.last().and_then(|s| s.models.get(&name)).map(|m| m.fields.clone()).unwrap_or_default()
                    }
                    _ => Vec::new(),
                },
                _ => continue,
            };
            let at = self.at(c.method.span());
            for (column, value, loc) in found {
                let marker = self.marker(&[loc, call_loc]);
                let table = entity.clone();
                let write = Write { table, column, kind: Kind::Update, value, loc, at: at.clone(), marker, orm: true, entity: true };
                if let Some(state) = self.state() {
                    state.facts.writes.push(write);
                }
            }
        }
    }

    /// The value a sea-query column expression writes: `Expr::value(v)`,
    /// `Expr::val(v)`, `v.into()`; `None` for a constant of the code or the SQL
    /// (`Expr::value(0)`, `Expr::current_timestamp()`, `Expr::cust("now()")`).
    fn column_value(&self, e: &syn::Expr) -> Option<Written> {
        let literal = |e: &syn::Expr| matches!(strip(e), syn::Expr::Lit(_));
        match strip(e) {
            syn::Expr::MethodCall(m) if TRANSPARENT_METHODS.contains(&m.method.to_string().as_str()) => {
                self.column_value(&m.receiver)
            }
            syn::Expr::Call(c) if let syn::Expr::Path(f) = &*c.func
                && f.path.segments.len() >= 2
                && f.path.segments[f.path.segments.len() - 2].ident == "Expr" =>
            {
                let function = f.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                match function.as_str() {
                    "value" | "val" if c.args.len() == 1 => (!literal(&c.args[0])).then(|| self.written(&c.args[0])),
                    "cust" if c.args.iter().all(literal) => None,
                    f if f.starts_with("current_") => None,
                    _ => Some(Written::Unknown),
                }
            }
            e if literal(e) => None,
            e => Some(self.written(e)),
        }
    }

    /// A sea-orm `ActiveModel { col: Set(v), .. }` literal.
    fn active_model(&self, s: &syn::ExprStruct) -> Option<Model> {
        let segments: Vec<String> = s.path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.last()? != "ActiveModel" {
            return None;
        }
        Some(Model { table: self.entity(&segments), fields: self.set_fields(s), active: true })
    }

    /// The `field: Set(v)` of a struct literal.
    fn set_fields(&self, s: &syn::ExprStruct) -> Vec<(String, Written, Loc)> {
        s.fields
            .iter()
            .filter_map(|f| {
                let syn::Member::Named(name) = &f.member else { return None };
                let inner = set_value(&f.expr)?;
                Some((name.to_string(), self.written(inner), self.loc(name.span())))
            })
            .collect()
    }

    /// The module of the sea-orm entity a path names (`subscription::ActiveModel`,
    /// `Subscription`, an imported `ActiveModel`); a bare entity type is the current
    /// module's. Empty when not known (`super::…` at a file's top).
    fn entity(&self, path: &[String]) -> String {
        let path: EntityPath = path.iter().map(|s| s.as_str().into()).collect();
        let path = self.imports.expand(path);
        let current = |up: usize| {
            (up <= self.modules.len())
                .then(|| crate::facts::sea_orm::module_name(self.path, &self.modules[..self.modules.len() - up]))
        };
        let module = match crate::facts::sea_orm::entity_module(&path).as_deref() {
            None | Some("self") => current(0),
            Some("super") => current(1),
            Some("crate") => None,
            Some(m) => Some(m.to_string()),
        };
        module.unwrap_or_default().to_lowercase()
    }

    /// A type naming a sea-orm entity's `ActiveModel` (`true`) or `Model` (`false`):
    /// the entity's module.
    fn entity_type(&self, ty: &[String]) -> Option<(String, bool)> {
        match ty.last()?.as_str() {
            "ActiveModel" => Some((self.entity(ty), true)),
            "Model" => Some((self.entity(ty), false)),
            _ => None,
        }
    }

    /// The entity of a local or parameter typed as a sea-orm `Model` or `ActiveModel`.
    fn entity_of_value(&self, e: &syn::Expr) -> Option<String> {
        let path = plain_path(e)?;
        let state = self.stack.last()?;
        let [name] = path.as_slice() else { return None };
        state.entity_values.get(name).or_else(|| state.models.get(name).filter(|m| m.active).map(|m| &m.table)).cloned()
    }

    fn model_writes(&mut self, model: Model, kind: Kind, at: At, call: Loc) {
        for (column, value, loc) in model.fields {
            let marker = self.marker(&[loc, call]);
            let write =
                Write { table: model.table.clone(), column, kind, value, loc, at: at.clone(), marker, orm: true, entity: true };
            if let Some(state) = self.state() {
                state.facts.writes.push(write);
            }
        }
    }

    /// diesel's `update(target).set(assignments)` / `insert_into(table).values(..)`, and
    /// an insert's `.on_conflict(..).do_update().set(assignments)` (`upsert`), where
    /// `excluded(col)` is the value the insert gives `col`.
    fn diesel(&mut self, call: &syn::ExprCall, with: &syn::ExprMethodCall, kind: Kind, upsert: Option<&syn::ExprMethodCall>) {
        let Some(table) = call.args.first().and_then(diesel_table) else { return };
        let inserted = self.diesel_assignments(with, &[]);
        let upserted = upsert.map(|set| self.diesel_assignments(set, &inserted)).unwrap_or_default();
        let call_loc = self.loc(call.span());
        let writes = [(with, kind, inserted)].into_iter().chain(upsert.map(|set| (set, Kind::Upsert, upserted)));
        for (method, kind, found) in writes {
            let at = self.at(method.method.span());
            for (column, value, loc) in found {
                let marker = self.marker(&[loc, call_loc]);
                let write =
                    Write { table: table.clone(), column, kind, value, loc, at: at.clone(), marker, orm: true, entity: false };
                if let Some(state) = self.state() {
                    state.facts.writes.push(write);
                }
            }
        }
    }

    /// The columns a diesel `.set(..)` or `.values(..)` assigns, and their values;
    /// `excluded(col)` is the value of `col` in `inserted`.
    fn diesel_assignments(&self, with: &syn::ExprMethodCall, inserted: &[(String, Written, Loc)]) -> Vec<(String, Written, Loc)> {
        let Some(arg) = with.args.first() else { return Vec::new() };
        let mut found: Vec<(String, Written, Loc)> = Vec::new();
        let items: Vec<&syn::Expr> = match strip(arg) {
            syn::Expr::Tuple(t) => t.elems.iter().collect(),
            other => vec![other],
        };
        for item in items {
            match strip(item) {
                syn::Expr::MethodCall(m) if m.method == "eq" => {
                    if let syn::Expr::Path(p) = strip(&m.receiver)
                        && let Some(column) = p.path.segments.last()
                    {
                        let value = match m.args.first().map(strip) {
                            Some(syn::Expr::Call(c)) if is_excluded(c) => {
                                let of = c.args.first().and_then(|a| match strip(a) {
                                    syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                                    _ => None,
                                });
                                inserted.iter().find(|(c, _, _)| Some(c) == of.as_ref()).map_or(Written::Unknown, |i| i.1.clone())
                            }
                            Some(a) => self.written(a),
                            None => Written::Unknown,
                        };
                        found.push((column.ident.to_string(), value, self.loc(p.span())));
                    }
                }
                // A changeset or insertable struct, written here or bound to a local.
                syn::Expr::Struct(s) => found.extend(self.struct_fields(s)),
                syn::Expr::Path(p) if p.path.segments.len() == 1 => {
                    let name = p.path.segments[0].ident.to_string();
                    if let Some(model) = self.stack.last().and_then(|s| s.models.get(&name)) {
                        found.extend(model.fields.iter().cloned());
                    }
                }
                _ => {}
            }
        }
        found
    }

    /// Every `field: value` of a struct literal (a diesel changeset or insertable).
    fn struct_fields(&self, s: &syn::ExprStruct) -> Vec<(String, Written, Loc)> {
        s.fields
            .iter()
            .filter_map(|f| {
                let syn::Member::Named(name) = &f.member else { return None };
                Some((name.to_string(), self.written(&f.expr), self.loc(name.span())))
            })
            .collect()
    }

    fn record_call(&mut self, path: Vec<String>, method: bool, args: Vec<Option<ValuePath>>, span: proc_macro2::Span) {
        let (loc, at) = (self.loc(span), self.at(span));
        if let Some(state) = self.state() {
            let checked = state.checked.contains(&loc.start);
            state.facts.calls.push(Call { path, method, args, loc, at, checked, result: None });
        }
    }

    /// The call whose result an expression hands on, by its name's start:
    /// `validate(x)`, `v.ensure(x).map_err(..).await`.
    fn call_of(&self, e: &syn::Expr) -> Option<u32> {
        match e {
            syn::Expr::Paren(p) => self.call_of(&p.expr),
            syn::Expr::Group(g) => self.call_of(&g.expr),
            syn::Expr::Await(a) => self.call_of(&a.base),
            syn::Expr::Try(t) => self.call_of(&t.expr),
            syn::Expr::MethodCall(m) if ERROR_ADAPTERS.contains(&m.method.to_string().as_str()) => self.call_of(&m.receiver),
            syn::Expr::MethodCall(m) => Some(self.loc(m.method.span()).start),
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| self.loc(s.ident.span()).start),
                _ => None,
            },
            _ => None,
        }
    }

    fn mark_checked(&mut self, e: &syn::Expr) {
        if let Some(pos) = self.call_of(e)
            && let Some(state) = self.state()
        {
            state.checked.insert(pos);
        }
    }

    /// What a `return` or a tail expression returns: `None` for an error (`Err(..)`,
    /// `None`), else the value when it is a plain one.
    fn returned(&self, e: &syn::Expr) -> Option<Option<ValuePath>> {
        match strip(e) {
            syn::Expr::Call(c) if c.args.len() == 1 => match &*c.func {
                syn::Expr::Path(p) if p.path.is_ident("Err") => None,
                syn::Expr::Path(p) if p.path.is_ident("Ok") => Some(self.value(&c.args[0])),
                _ => Some(self.value(e)),
            },
            syn::Expr::Path(p) if p.path.is_ident("None") => None,
            _ => Some(self.value(e)),
        }
    }

    /// A guard's key: the pattern and the value it is matched against.
    fn guard_key(&self, pat: &syn::Pat, value: &syn::Expr, word: &str) -> Option<String> {
        use quote::ToTokens;
        let value = self.value(value)?;
        Some(format!("{word}{} = {}", pat.to_token_stream(), value.join(".")))
    }

    fn push_guard(&mut self, block: proc_macro2::Span, key: Option<String>, sole: bool) {
        let block = self.loc(block).start;
        if let Some(key) = key
            && let Some(state) = self.state()
        {
            state.facts.guards.push(Guard { block, key, sole });
        }
    }

    fn push_block(&mut self, span: proc_macro2::Span) {
        let id = self.loc(span).start;
        if let Some(state) = self.state() {
            state.blocks.push(id);
        }
    }

    fn pop_block(&mut self) {
        if let Some(state) = self.state() {
            state.blocks.pop();
        }
    }
}

impl<'ast> Visit<'ast> for Extractor<'_> {
    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        self.function(&i.sig, &i.block);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.modules.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.modules.pop();
    }

    /// A sea-orm entity: `#[sea_orm(table_name = "…")] pub struct Model { .. }`.
    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        if let Some(table) = crate::facts::sea_orm::table_name(&s.attrs) {
            let module = crate::facts::sea_orm::module_name(self.path, &self.modules);
            self.entities.push(EntityTable { module: module.to_lowercase(), table: table.to_lowercase(), loc: self.loc(s.ident.span()) });
        }
    }

    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        self.function(&i.sig, &i.block);
    }

    fn visit_trait_item_fn(&mut self, i: &'ast syn::TraitItemFn) {
        if let Some(block) = &i.default {
            self.function(&i.sig, block);
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.push_block(b.brace_token.span.open());
        syn::visit::visit_block(self, b);
        self.pop_block();
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.push_block(c.body.span());
        if let Some(state) = self.state() {
            state.closures += 1;
        }
        syn::visit::visit_expr_closure(self, c);
        if let Some(state) = self.state() {
            state.closures -= 1;
        }
        self.pop_block();
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        if let Some(state) = self.state() {
            state.closures += 1;
        }
        syn::visit::visit_expr_async(self, a);
        if let Some(state) = self.state() {
            state.closures -= 1;
        }
    }

    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        syn::visit::visit_expr_return(self, r);
        if self.stack.last().is_some_and(|s| s.closures == 0) {
            let value = match &r.expr {
                Some(e) => self.returned(e),
                None => Some(None),
            };
            if let Some(value) = value {
                let at = self.at(r.span());
                if let Some(state) = self.state() {
                    state.facts.returns.push((value, at));
                }
            }
        }
    }

    fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
        self.mark_checked(&t.expr);
        syn::visit::visit_expr_try(self, t);
    }

    /// `if let Some(pct) = req.pct { .. }`: a guard; `if let Err(e) = validate(..) {
    /// return .. }` / `if validate(..).is_err() { return .. }`: a checked call.
    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        if self.stack.is_empty() {
            return syn::visit::visit_expr_if(self, i);
        }
        if returns(&i.then_branch) {
            match strip(&i.cond) {
                syn::Expr::Let(l) if is_err_pattern(&l.pat) => self.mark_checked(&l.expr),
                syn::Expr::MethodCall(m) if m.method == "is_err" => self.mark_checked(&m.receiver),
                syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
                    if let syn::Expr::MethodCall(m) = strip(&u.expr)
                        && m.method == "is_ok"
                    {
                        self.mark_checked(&m.receiver);
                    }
                }
                _ => {}
            }
        }
        let mut conds = Vec::new();
        conjuncts(&i.cond, &mut conds);
        let guard = match conds.iter().find_map(|c| match c {
            syn::Expr::Let(l) => Some(l),
            _ => None,
        }) {
            Some(l) => self.guard_key(&l.pat, &l.expr, ""),
            None => None,
        };
        self.visit_expr(&i.cond);
        self.push_guard(i.then_branch.brace_token.span.open(), guard, conds.len() == 1);
        self.visit_block(&i.then_branch);
        if let Some((_, e)) = &i.else_branch {
            self.visit_expr(e);
        }
    }

    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        if self.stack.is_empty() {
            return syn::visit::visit_expr_for_loop(self, f);
        }
        self.visit_expr(&f.expr);
        // `for s in &slugs`, `for s in slugs.iter()`
        let iterated = match strip(&f.expr) {
            syn::Expr::MethodCall(m) if m.args.is_empty() && matches!(m.method.to_string().as_str(), "iter" | "iter_mut" | "into_iter") => &m.receiver,
            e => e,
        };
        let key = self.guard_key(&f.pat, iterated, "for ");
        self.push_guard(f.body.brace_token.span.open(), key, true);
        self.visit_block(&f.body);
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.push_block(arm.body.span());
        syn::visit::visit_arm(self, arm);
        self.pop_block();
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        self.visit_expr(&m.expr);
        let value = self.value(&m.expr);
        for arm in &m.arms {
            let key = self.guard_key(&arm.pat, &m.expr, "");
            self.push_guard(arm.body.span(), key, arm.guard.is_none());
            self.bind(&arm.pat, value.clone());
            self.visit_arm(arm);
        }
    }

    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        self.visit_expr(&l.expr);
        let value = self.value(&l.expr);
        self.bind(&l.pat, value);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if self.stack.is_empty() {
            return syn::visit::visit_local(self, local);
        }
        let Some(init) = &local.init else { return };
        let name = binding(&local.pat);
        let let_pos = self.loc(local.let_token.span).start;
        if let Some(name) = &name {
            self.state().expect("in a function").facts.lets.push((name.clone(), let_pos));
        }
        // `let sql = "UPDATE …";` / `format!(…)`: read where it runs.
        if let Some(name) = &name
            && let Some(sql) = match strip(&init.expr) {
                syn::Expr::Macro(m) => self.format_template(&m.mac),
                e => str_lit(e).map(|lit| self.sql_source(lit)),
            }
            && (crate::facts::sql_texts::looks_like_statement(&sql.text) || sql::update_prefix(&sql.text).is_some())
        {
            let (start, at) = (sql.lit.start, self.at(local.let_token.span));
            let state = self.state().expect("in a function");
            state.held.insert(start, at);
            state.sql_locals.insert(name.clone(), sql);
            return syn::visit::visit_local_init(self, init);
        }
        syn::visit::visit_local_init(self, init);
        // `let mut am: workspace::ActiveModel = …` / `let am = ActiveModel { .. }` /
        // `let changes = WorkspaceChanges { .. }` / `let am = found.into_active_model()`
        let typed = match &local.pat {
            syn::Pat::Type(t) => type_path(&t.ty).and_then(|ty| self.entity_type(&ty)),
            _ => None,
        };
        let typed_model = match typed {
            Some((entity, true)) => Some(entity),
            Some((entity, false)) => {
                if let Some(name) = &name {
                    self.state().expect("in a function").entity_values.insert(name.clone(), entity);
                }
                None
            }
            None => None,
        };
        let model = match strip(&init.expr) {
            syn::Expr::Struct(s) => self
                .active_model(s)
                .or_else(|| Some(Model { table: String::new(), fields: self.struct_fields(s), active: false }))
                .filter(|m| !m.fields.is_empty() || typed_model.is_some()),
            syn::Expr::MethodCall(m) if m.method == "into_active_model" => {
                Some(Model { table: self.entity_of_value(&m.receiver).unwrap_or_default(), fields: Vec::new(), active: true })
            }
            _ => None,
        };
        let model = match (model, typed_model) {
            (Some(mut m), Some(entity)) => {
                m.active = true;
                m.table = entity;
                Some(m)
            }
            (None, Some(entity)) => Some(Model { table: entity, fields: Vec::new(), active: true }),
            (m, None) => m,
        };
        if let (Some(name), Some(model)) = (&name, model) {
            self.state().expect("in a function").models.insert(name.clone(), model);
            return;
        }
        // `let pct = checked_pct(v, body.pct)?`: the local is the call's result.
        if let Some(name) = &name
            && matches!(strip(&init.expr), syn::Expr::Call(_) | syn::Expr::MethodCall(_))
            && let Some(pos) = self.call_of(&init.expr)
        {
            let state = self.state().expect("in a function");
            if let Some(call) = state.facts.calls.iter_mut().rev().find(|c| c.loc.start == pos) {
                call.result = Some((name.clone(), let_pos));
                state.aliases.remove(name);
                return;
            }
        }
        let value = self.value(&init.expr);
        self.bind(&local.pat, value);
    }

    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        syn::visit::visit_expr_assign(self, a);
        // `am.runtime = Set(v);`
        if let syn::Expr::Field(f) = strip(&a.left)
            && let syn::Member::Named(column) = &f.member
            && let syn::Expr::Path(p) = strip(&f.base)
            && p.path.segments.len() == 1
            && let Some(inner) = set_value(&a.right)
        {
            let local = p.path.segments[0].ident.to_string();
            let field = (column.to_string(), self.written(inner), self.loc(column.span()));
            if let Some(state) = self.state() {
                let model = state.models.entry(local).or_default();
                model.active = true;
                model.fields.push(field);
            }
        }
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if !self.stack.is_empty() {
            let mut args = vec![self.value(&m.receiver)];
            args.extend(m.args.iter().map(|a| self.value(a)));
            self.record_call(vec![m.method.to_string()], true, args, m.method.span());
            self.chain(m);
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if !self.stack.is_empty()
            && let syn::Expr::Path(p) = &*c.func
            && p.qself.is_none()
        {
            let path: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let args = c.args.iter().map(|a| self.value(a)).collect();
            let span = p.path.segments.last().map_or(p.span(), |s| s.ident.span());
            // sea-orm: `workspace::Entity::update(am).exec(db)`
            if path.len() >= 2
                && matches!(path.last().map(String::as_str), Some("update" | "insert"))
                && let Some(syn::Expr::Path(arg)) = c.args.first().map(strip)
                && arg.path.segments.len() == 1
                && let Some(model) =
                    self.stack.last().and_then(|s| s.models.get(&arg.path.segments[0].ident.to_string())).filter(|m| m.active).cloned()
            {
                let kind = if path.last().is_some_and(|l| l == "insert") { Kind::Insert } else { Kind::Update };
                let at = self.at(span);
                let mut model = model;
                if model.table.is_empty() {
                    model.table = self.entity(&path[..path.len() - 1]);
                }
                self.model_writes(model, kind, at, self.loc(span));
            }
            self.record_call(path, false, args, span);
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if self.stack.is_empty() {
            return;
        }
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        let Ok(args) = mac.parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        else {
            return;
        };
        if name.starts_with("query") {
            // `sqlx::query!("…", a, b)`, `query_as!(Row, "…", a)`
            if let Some(k) = args.iter().position(|a| str_lit(a).is_some()) {
                let lit = str_lit(&args[k]).expect("found above");
                let sql = self.sql_source(lit);
                let binds: Vec<Option<ValuePath>> = args.iter().skip(k + 1).map(|a| self.value(a)).collect();
                let at = self.at(mac.path.span());
                self.statement(&sql, Some(&binds), at, &[self.loc(mac.path.span())]);
            }
        } else if name == "format"
            && let Some(lit) = args.first().and_then(str_lit)
        {
            // A template used where it is made: its pieces, or a statement with holes.
            self.visit_lit_str(lit);
        }
        for arg in args.iter().skip(1) {
            self.visit_expr(arg);
        }
    }

    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        let Some(state) = self.stack.last() else { return };
        let start = self.loc(lit.span()).start;
        if state.consumed.contains(&start) || state.held.contains_key(&start) {
            return;
        }
        let text = lit.value();
        if crate::facts::sql_texts::looks_like_statement(&text) {
            let sql = self.sql_source(lit);
            let at = self.at(lit.span());
            self.statement(&sql, None, at, &[]);
        } else if let Some(column) = sql::set_piece(&text) {
            let fragment = Fragment { column, value: Written::Unknown, loc: self.loc(lit.span()), at: self.at(lit.span()) };
            if let Some(state) = self.state() {
                state.fragments.push(fragment);
            }
        }
    }
}

/// Methods that hand on a call's result with its error mapped.
const ERROR_ADAPTERS: &[&str] =
    &["map_err", "context", "with_context", "wrap_err", "wrap_err_with", "change_context", "into_report", "ok_or", "ok_or_else"];

/// Whether a block leaves the function: a `return` among its statements, or a
/// macro that does (`bail!`).
fn returns(b: &syn::Block) -> bool {
    b.stmts.iter().any(|s| match s {
        syn::Stmt::Expr(syn::Expr::Return(_), _) => true,
        syn::Stmt::Expr(syn::Expr::Macro(m), _) => m.mac.path.is_ident("bail"),
        syn::Stmt::Macro(m) => m.mac.path.is_ident("bail"),
        _ => false,
    })
}

/// `Err(..)`, `Err(_)`.
fn is_err_pattern(pat: &syn::Pat) -> bool {
    matches!(pat, syn::Pat::TupleStruct(t) if t.path.is_ident("Err"))
}

/// The operands of a chain of `&&`.
fn conjuncts<'e>(e: &'e syn::Expr, out: &mut Vec<&'e syn::Expr>) {
    match e {
        syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            conjuncts(&b.left, out);
            conjuncts(&b.right, out);
        }
        syn::Expr::Paren(p) => conjuncts(&p.expr, out),
        _ => out.push(e),
    }
}

/// Wrappers that do not change what an expression is.
fn strip(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Reference(r) => strip(&r.expr),
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        syn::Expr::Await(a) => strip(&a.base),
        syn::Expr::Try(t) => strip(&t.expr),
        _ => e,
    }
}

/// A value expression as a local and its fields: `&patch.runtime`,
/// `body.runtime.clone()`, `Some(rt.to_string())`.
fn plain_path(e: &syn::Expr) -> Option<ValuePath> {
    match strip(e) {
        syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            Some(vec![p.path.segments[0].ident.to_string()])
        }
        syn::Expr::Field(f) => {
            let mut base = plain_path(&f.base)?;
            base.push(match &f.member {
                syn::Member::Named(n) => n.to_string(),
                syn::Member::Unnamed(i) => i.index.to_string(),
            });
            Some(base)
        }
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => plain_path(&u.expr),
        syn::Expr::MethodCall(m) if TRANSPARENT_METHODS.contains(&m.method.to_string().as_str()) => {
            plain_path(&m.receiver)
        }
        syn::Expr::Call(c) if c.args.len() == 1 => match &*c.func {
            syn::Expr::Path(p)
                if p.path.segments.iter().any(|s| TRANSPARENT_CALLS.contains(&s.ident.to_string().as_str())) =>
            {
                plain_path(&c.args[0])
            }
            _ => None,
        },
        _ => None,
    }
}

/// The value in `Set(v)` / `ActiveValue::Set(v)`.
fn set_value(e: &syn::Expr) -> Option<&syn::Expr> {
    match strip(e) {
        syn::Expr::Call(c)
            if c.args.len() == 1
                && matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Set")) =>
        {
            c.args.first()
        }
        _ => None,
    }
}

/// The name a parameter or `let` binds as a whole (`body`, `Json(body)`, `mut am: T`).
fn binding(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::Type(t) => binding(&t.pat),
        syn::Pat::Reference(r) => binding(&r.pat),
        syn::Pat::TupleStruct(t) if t.elems.len() == 1 => binding(&t.elems[0]),
        _ => None,
    }
}

/// The names a pattern binds and the part of `value` each gets.
fn pattern_parts(pat: &syn::Pat, value: ValuePath, out: &mut Vec<(String, ValuePath)>) {
    match pat {
        syn::Pat::Ident(i) if i.subpat.is_none() => out.push((i.ident.to_string(), value)),
        syn::Pat::Type(t) => pattern_parts(&t.pat, value, out),
        syn::Pat::Reference(r) => pattern_parts(&r.pat, value, out),
        // `Some(rt)`, `Json(body)`: the wrapped value.
        syn::Pat::TupleStruct(t) if t.elems.len() == 1 => pattern_parts(&t.elems[0], value, out),
        syn::Pat::Struct(s) => {
            for f in &s.fields {
                if let syn::Member::Named(name) = &f.member {
                    let mut part = value.clone();
                    part.push(name.to_string());
                    pattern_parts(&f.pat, part, out);
                }
            }
        }
        _ => {}
    }
}

fn type_path(ty: &syn::Type) -> Option<Vec<String>> {
    match ty {
        syn::Type::Path(p) => Some(p.path.segments.iter().map(|s| s.ident.to_string()).collect()),
        syn::Type::Reference(r) => type_path(&r.elem),
        _ => None,
    }
}

/// diesel's `excluded(col)`: the value an upsert's insert gives `col`.
fn is_excluded(c: &syn::ExprCall) -> bool {
    c.args.len() == 1 && matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "excluded"))
}

/// The table a diesel target names: `workspaces::table`, `workspaces.find(id)`,
/// `dsl::workspaces.filter(..)`, `workspaces::table.filter(..)`.
fn diesel_table(e: &syn::Expr) -> Option<String> {
    match strip(e) {
        syn::Expr::MethodCall(m) => diesel_table(&m.receiver),
        syn::Expr::Path(p) => {
            let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            match segs.as_slice() {
                [.., t, last] if last == "table" => Some(t.to_lowercase()),
                [.., last] => Some(last.to_lowercase()),
                [] => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(src: &str) -> WriteFacts {
        let source = SourceFile::new("t.rs".into(), src.to_string());
        let syntax = syn::parse_file(src).unwrap();
        let comments = crate::input::comments::lex_comments(src);
        extract(0, Path::new("src/t.rs"), &source, &syntax, &comments)
    }

    fn writes(src: &str) -> Vec<(String, String, Kind, Written)> {
        let f = facts(src);
        f.fns.iter().flat_map(|f| &f.writes).map(|w| (w.table.clone(), w.column.clone(), w.kind, w.value.clone())).collect()
    }

    fn v(s: &str) -> Written {
        Written::Value(s.split('.').map(String::from).collect())
    }

    #[test]
    fn binds_give_the_values_written() {
        let got = writes(
            r#"async fn f(pool: &PgPool, Json(patch): Json<Patch>, id: Uuid) {
                if let Some(rt) = &patch.runtime {
                    sqlx::query("UPDATE workspaces SET runtime = $2 WHERE id = $1").bind(id).bind(rt).execute(pool).await?;
                }
                sqlx::query!("UPDATE workspaces SET name = $1 WHERE id = $2", patch.name.clone(), id);
                client.execute("UPDATE teams SET runtime = $1", &[&patch.team_runtime]).await?;
            }"#,
        );
        assert_eq!(
            got,
            [
                ("workspaces".into(), "runtime".into(), Kind::Update, v("patch.runtime")),
                ("workspaces".into(), "name".into(), Kind::Update, v("patch.name")),
                ("teams".into(), "runtime".into(), Kind::Update, v("patch.team_runtime")),
            ]
        );
    }

    #[test]
    fn orm_writes() {
        let got = writes(
            r#"fn f(conn: &mut PgConnection, patch: Patch) {
                diesel::update(workspaces::table.find(id)).set((workspaces::runtime.eq(&patch.runtime), name.eq("x"))).execute(conn)?;
                let mut am: workspace::ActiveModel = found.into();
                am.runtime = Set(patch.runtime.clone());
                am.update(db).await?;
            }"#,
        );
        assert_eq!(got[0], ("workspaces".into(), "runtime".into(), Kind::Update, v("patch.runtime")));
        assert_eq!(got[2], ("workspace".into(), "runtime".into(), Kind::Update, v("patch.runtime")));
    }

    #[test]
    fn diesel_upserts_and_sea_orm_update_many() {
        let got = writes(
            r#"fn f(conn: &mut PgConnection, e: Entry) {
                diesel::insert_into(models::table)
                    .values((models::name.eq(&e.name), models::window.eq(e.window)))
                    .on_conflict(models::name)
                    .do_update()
                    .set((models::window.eq(excluded(models::window)), models::note.eq(excluded(models::note))))
                    .execute(conn)?;
                subscription::Entity::update_many()
                    .col_expr(subscription::Column::MaxSeats, Expr::value(e.seats))
                    .col_expr(subscription::Column::Plan, Expr::value("free"))
                    .col_expr(subscription::Column::Seats, Expr::col(subscription::Column::Seats).add(1))
                    .exec(db).await?;
            }"#,
        );
        let got: Vec<_> = got.into_iter().filter(|w| w.2 != Kind::Insert).collect();
        assert_eq!(
            got,
            [
                ("models".into(), "window".into(), Kind::Upsert, v("e.window")),
                ("models".into(), "note".into(), Kind::Upsert, Written::Unknown),
                ("subscription".into(), "max_seats".into(), Kind::Update, v("e.seats")),
                ("subscription".into(), "seats".into(), Kind::Update, Written::Unknown),
            ]
        );
    }

    #[test]
    fn sea_orm_entities_by_module() {
        let src = r#"use crate::entities::plan::ActiveModel;
            use crate::entities::seat::Entity as Seat;
            mod billing {
                #[derive(DeriveEntityModel)]
                #[sea_orm(table_name = "Billing_Plans")]
                pub struct Model { pub id: i32 }
                fn f(db: &Db, found: Model, n: i32) {
                    let mut am = found.into_active_model();
                    am.limit = Set(n);
                    am.update(db);
                }
            }
            fn g(db: &Db, n: i32, loaded: Loaded) {
                ActiveModel { limit: Set(n), ..Default::default() }.insert(db);
                Seat::update_many().col_expr(Column::Count, Expr::value(n)).exec(db);
                let mut am = loaded.into_active_model();
                am.limit = Set(n);
                am.save(db);
            }"#;
        let f = facts(src);
        assert_eq!(f.entities.iter().map(|e| (e.module.as_str(), e.table.as_str())).collect::<Vec<_>>(), [("billing", "billing_plans")]);
        let tables: Vec<(&str, &str, bool)> =
            f.fns.iter().flat_map(|f| &f.writes).map(|w| (w.table.as_str(), w.column.as_str(), w.entity)).collect();
        assert_eq!(tables, [("billing", "limit", true), ("plan", "limit", true), ("seat", "count", true), ("", "limit", true)]);
    }

    #[test]
    fn a_set_built_from_pieces() {
        let got = writes(
            r#"async fn f(patch: Patch) {
                let mut qb = QueryBuilder::new("UPDATE workspaces SET ");
                let mut sep = qb.separated(", ");
                if let Some(rt) = &patch.runtime { sep.push("runtime = ").push_bind_unseparated(rt); }
                qb.push(" WHERE id = ").push_bind(id);
            }"#,
        );
        assert_eq!(got, [("workspaces".into(), "runtime".into(), Kind::Update, v("patch.runtime"))]);
    }
}
