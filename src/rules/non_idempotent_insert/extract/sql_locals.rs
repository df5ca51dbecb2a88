//! SQL bound to locals: a `let` whose initialiser defines INSERT SQL (a literal,
//! `format!`/`concat!` of literals, a conversion, a prepared statement) or names a
//! constant runs where the local is used, not where it is bound; a `QueryBuilder`
//! started with an INSERT is completed by a later `push(" ON CONFLICT …")`. A DuckDB
//! `Appender` (`let mut app = conn.appender("events")?`) is an INSERT statement
//! prepared for its table: each `app.append_row(..)` adds a row.

use super::{EventKind, Extractor, FnBuilder, InsertEvent, SqlInsert, is_screaming, strip};
use crate::facts::sql;
use crate::facts::lower::pat_ident;
use crate::facts::value::{COMPILE_TIME_STRING_MACROS, Value};
use crate::input::source::Loc;

/// Methods that prepare a statement for later execution (execution is at the uses).
pub(super) const PREPARE_METHODS: &[&str] = &["prepare", "prepare_cached", "prepare_typed", "prepare_typed_cached"];
/// DuckDB's constructors of an `Appender`, the table their first argument: it adds
/// rows to that table with `append_row(..)` / `append_rows(..)`, with no SQL text.
const APPENDER_METHODS: &[&str] = &["appender", "appender_to_db", "appender_with_columns", "appender_with_columns_to_db"];
/// Conversions that keep a string a string (`"…".to_string()`).
const STRING_CONVERSIONS: &[&str] = &["to_string", "to_owned", "into", "as_str", "clone", "from"];

/// Error plumbing a prepared statement passes through unchanged (`.map_err(..)?`,
/// `.context(..)?`, `.expect(..)`; `?` and `.await` are seen through anyway).
pub(super) const ERROR_PLUMBING: &[&str] =
    &["unwrap", "expect", "map_err", "context", "with_context", "wrap_err", "wrap_err_with", "change_context"];

/// Methods that run a statement: a statement prepared in their receiver chain
/// (`conn.prepare(sql)?.execute(params)`) runs there, not where it was bound.
pub(super) const EXECUTE_METHODS: &[&str] = &[
    "execute", "execute_batch", "query", "query_row", "query_map", "query_and_then", "query_one", "query_opt",
    "insert", "run", "exec", "exec_drop", "exec_first", "fetch", "fetch_one", "fetch_all", "fetch_optional",
    "raw_query", "raw_execute",
];

/// Methods that bind to or inspect a prepared statement (or a SQL string) without
/// running it, or add to the string: a local used so is not executed there
/// (rusqlite's `raw_bind_parameter` before `raw_query`, `sql.push_str(", ($1)")`).
pub(super) const INSPECT_METHODS: &[&str] = &[
    "raw_bind_parameter", "column_count", "column_names", "column_name", "parameter_count", "parameter_index",
    "clear_bindings", "expanded_sql", "len", "is_empty", "push_str", "push", "flush",
];

/// A local bound to SQL that inserts: executed where it is used.
#[derive(Clone)]
pub(super) struct SqlLocal {
    pub(super) name: String,
    pub(super) binding: Loc,
    /// The literal the SQL is written in, when known.
    pub(super) literal: Option<Loc>,
    /// The innermost loop open where it was bound.
    pub(super) innermost: Option<u32>,
    pub(super) sqls: Vec<SqlInsert>,
    /// The tables it deletes from (`let del = conn.prepare("DELETE FROM t …")?`):
    /// emptied where the local is executed.
    pub(super) deletes: Vec<String>,
    /// The SQL is resolved crate-wide, where the local is used: a constant (`let stmt =
    /// client.prepare(INSERT_WORKSPACE)`), or assembled from constants at compile time
    /// (`let sql = concatcp!(INSERT_PREFIX, COLS)`).
    pub(super) deferred: Option<EventKind>,
    /// It is a DuckDB `Appender`, not SQL text (said so in the label at its binding).
    pub(super) appender: bool,
}

impl Extractor<'_> {
    /// A `let`: a SQL local is remembered (its INSERTs run where it is used), a
    /// `QueryBuilder` started with an INSERT too; any other initialiser is visited.
    pub(super) fn visit_let(&mut self, local: &syn::Local) {
        let Some(init) = &local.init else { return syn::visit::visit_local(self, local) };
        // Lowered once, without substituting other locals: only literal SQL, constants
        // and prepared statements are followed into a local (and only initialisers of
        // that shape are lowered at all).
        // `let stmt = conn.prepare_cached(include_str!("add.sql"))?`: the file's SQL.
        if let Some(ident) = pat_ident(&local.pat)
            && let Some((lit, span)) = included_sql_path(&init.expr)
        {
            let literal = self.lowerer.span_loc(span);
            if let Some(text) = self.included_sql(&lit.value()) {
                let (sqls, deletes) = (self.guarded(&text), deleted_by(&text));
                if !sqls.is_empty() || !deletes.is_empty() {
                    self.sql_locals.push(SqlLocal {
                        name: ident.to_string(),
                        binding: self.lowerer.span_loc(ident.span()),
                        literal: Some(literal),
                        innermost: self.stack.last().and_then(FnBuilder::innermost),
                        sqls,
                        deletes,
                        deferred: None,
                        appender: false,
                    });
                    return;
                }
            }
        }
        let value = if may_define_sql(&init.expr) { self.lowerer.lower(&init.expr) } else { Value::Opaque };
        if let Some(sql_local) = pat_ident(&local.pat).and_then(|ident| self.sql_local(ident, &value)) {
            self.sql_locals.push(sql_local);
            return;
        }
        let before = self.stack.last().map_or(0, |f| f.facts.events.len());
        syn::visit::visit_local(self, local);
        let after = self.stack.last().map_or(0, |f| f.facts.events.len());
        // `let edit = insert_into(t).values(..).get_result(conn);`: its result may be
        // tested for a conflict later (a hand-written upsert).
        if let Some(ident) = pat_ident(&local.pat) {
            let inserts: Vec<usize> = (before..after)
                .filter(|&i| self.stack.last().is_some_and(|f| f.facts.events[i].kind.is_insert()))
                .collect();
            if let (false, Some(f)) = (inserts.is_empty(), self.stack.last()) {
                self.insert_results.push((ident.to_string(), f.facts.name_loc, inserts));
            }
        }
        if let (Some(ident), true) = (pat_ident(&local.pat), is_query_builder(&init.expr)) {
            let inserts = (before..after)
                .filter(|&i| {
                    self.stack.last().is_some_and(|f| matches!(f.facts.events[i].kind, EventKind::Insert { .. }))
                })
                .collect();
            self.builders.push((ident.to_string(), inserts));
        }
    }

    /// The SQL local `let ident = value` binds: `value` names a constant
    /// (`let sql = INSERT_WORKSPACE;`, `let stmt = client.prepare(sql::INSERT_WORKSPACE)`),
    /// resolved crate-wide, or defines INSERT SQL. Either runs where the local is used.
    fn sql_local(&mut self, ident: &syn::Ident, value: &Value) -> Option<SqlLocal> {
        if let Some(table) = appender_table(value) {
            if !self.params.tables.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(&table)) {
                return None;
            }
            let sql = SqlInsert { table, on_conflict: false, from_select: false, selects_from: None };
            return Some(SqlLocal {
                name: ident.to_string(),
                binding: self.lowerer.span_loc(ident.span()),
                literal: None,
                innermost: self.stack.last().and_then(FnBuilder::innermost),
                sqls: vec![sql],
                deletes: Vec::new(),
                deferred: None,
                appender: true,
            });
        }
        let (sqls, literal, deletes, deferred) = match definition_deferred(value) {
            Some(deferred) => (Vec::new(), first_literal(value), Vec::new(), Some(deferred)),
            None => {
                let text = definition_text(value)?;
                let (sqls, deletes) = (self.guarded(&text), deleted_by(&text));
                if sqls.is_empty() && deletes.is_empty() {
                    return None;
                }
                (sqls, first_literal(value), deletes, None)
            }
        };
        Some(SqlLocal {
            name: ident.to_string(),
            binding: self.lowerer.span_loc(ident.span()),
            literal,
            innermost: self.stack.last().and_then(FnBuilder::innermost),
            sqls,
            deletes,
            deferred,
            appender: false,
        })
    }

    /// A use of the SQL local `name`, if it is one: its INSERTs run here (at the
    /// literal itself when it was bound in the same iteration).
    pub(super) fn sql_local_use(&mut self, name: &str, loc: Loc) -> bool {
        let Some(local) = self.sql_locals.iter().rev().find(|l| l.name == name).cloned() else { return false };
        // (`.map_err(|e| report(&e, &stmt))`: the statement named in its error, not run.)
        if self.in_error_handler {
            return true;
        }
        for table in local.deletes {
            self.push_delete(loc, table);
        }
        let open = self.stack.last().and_then(FnBuilder::innermost);
        // Bound inside a loop that is still open here (prepared per chunk, run per row):
        // the statement as written is in a loop too, and is reported there.
        let bound_in_open_loop = local.innermost.is_some_and(|l| {
            self.stack.last().is_some_and(|f| f.open_loops.iter().any(|&o| o as u32 == l))
        });
        let at_literal = open == local.innermost || bound_in_open_loop;
        if let Some(deferred) = local.deferred {
            // Bound in the same iteration (or, outside loops, the same run of the
            // function): the statement is where it is written.
            let at = match local.literal {
                Some(lit) if at_literal => lit,
                _ => loc,
            };
            self.push_event(deferred, at);
            return true;
        }
        for sql in local.sqls {
            // Bound in the same iteration (or run): the statement is the literal itself.
            let (at, via) = match local.literal {
                Some(lit) if at_literal => (lit, None),
                _ if local.appender => (loc, Some((local.binding, format!("`{name}` is an appender of rows to `{}`", sql.table)))),
                _ => (loc, Some((local.binding, format!("the SQL is bound to `{name}` here")))),
            };
            self.push_event(EventKind::Insert(Box::new(InsertEvent { sql, via })), at);
        }
        true
    }

    /// `if is_conflict(&edit) { update(t)…set(..) }` after `let edit = INSERT …`: an
    /// insert that updates the row it collided with is a hand-written upsert.
    pub(super) fn conflict_updates(&mut self, cond: &syn::Expr, then: &syn::Block) {
        let Some(name) = conflict_tested(cond) else { return };
        let then = syn::Expr::Block(syn::ExprBlock { attrs: Vec::new(), label: None, block: then.clone() });
        if super::hoisted::updates(&then) {
            self.mark_upsert(&name);
        }
    }

    /// `match edit { Err(DatabaseError(UniqueViolation, _)) => update(t)…set(..), .. }`
    /// after `let edit = INSERT …` (the collision's arm also inside a nested `match
    /// kind`): a hand-written upsert, as [`Self::conflict_updates`].
    pub(super) fn conflict_arm_updates(&mut self, m: &syn::ExprMatch) {
        let syn::Expr::Path(p) = strip(&m.expr) else { return };
        let Some(name) = p.path.get_ident().map(|i| i.to_string()) else { return };
        if m.arms.iter().any(collision_arm_updates) {
            self.mark_upsert(&name);
        }
    }

    /// The INSERTs bound to local `name` of the current function are upserts.
    fn mark_upsert(&mut self, name: &str) {
        // (Positions are among the current function's events: a local of this function.)
        let Some(current) = self.stack.last().map(|f| f.facts.name_loc) else { return };
        let Some((_, _, events)) = self.insert_results.iter().rev().find(|(n, at, _)| *n == name && *at == current) else {
            return;
        };
        let events = events.clone();
        let Some(f) = self.stack.last_mut() else { return };
        for i in events {
            let Some(event) = f.facts.events.get_mut(i) else { continue };
            match &mut event.kind {
                EventKind::Insert(insert) => insert.sql.on_conflict = true,
                EventKind::DieselInsert { on_conflict, .. } | EventKind::EntityInsert { on_conflict, .. } => {
                    *on_conflict = true
                }
                _ => {}
            }
        }
    }

    /// `qb.push(" ON CONFLICT (id) DO NOTHING")` on a builder started with an INSERT,
    /// `sql.push_str(" ON CONFLICT …")` on a string that holds one.
    pub(super) fn builder_push(&mut self, m: &syn::ExprMethodCall) {
        let syn::Expr::Path(p) = strip(&m.receiver) else { return };
        let Some(ident) = p.path.get_ident() else { return };
        let Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) = m.args.first() else { return };
        if !sql::has_on_conflict(&s.value()) {
            return;
        }
        let name = ident.to_string();
        // `sql.push_str(" ON CONFLICT … DO NOTHING")` on a string started as an INSERT
        // (the rows' `VALUES` pushed in a loop before it).
        if let Some(local) = self.sql_locals.iter_mut().rev().find(|l| l.name == name) {
            local.sqls.iter_mut().for_each(|sql| sql.on_conflict = true);
            return;
        }
        let Some((_, events)) = self.builders.iter().rev().find(|(n, _)| *n == name).cloned() else { return };
        let Some(f) = self.stack.last_mut() else { return };
        for i in events {
            if let EventKind::Insert(insert) = &mut f.facts.events[i].kind {
                insert.sql.on_conflict = true;
            }
        }
    }
}

/// The tables a statement empties of some rows: a `DELETE` (`TRUNCATE`, `DROP`), a
/// soft delete (`UPDATE t SET deleted_at = …`).
pub(super) fn deleted_by(text: &str) -> Vec<String> {
    let word = |w: &[u8]| text.as_bytes().windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
    let mut out = Vec::new();
    if word(b"delete") || word(b"truncate") || word(b"drop") {
        out.extend(sql::deleted_tables(text));
    }
    if word(b"update") && (word(b"delete") || word(b"remove")) {
        out.extend(sql::soft_deleted_tables(text));
    }
    out
}

/// The SQL text a definition stands for, without executing it: a string literal,
/// `format!`/`concat!` of literals (placeholders kept), a conversion of one, or
/// `prepare("…")`.
fn definition_text(value: &Value) -> Option<String> {
    match value {
        Value::Str { text, .. } => Some(text.clone()),
        Value::Macro { name, args, .. } if name == "format" || name == "format_args" => match args.first() {
            Some(Value::Str { text, .. }) => Some(text.clone()),
            _ => None,
        },
        Value::Macro { name, .. } if COMPILE_TIME_STRING_MACROS.contains(&name.as_str()) => {
            value.compile_time_text(&mut |_| None)
        }
        Value::Method { receiver, method, args, .. } => {
            if STRING_CONVERSIONS.contains(&method.as_str()) || ERROR_PLUMBING.contains(&method.as_str()) {
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

/// The table a DuckDB `Appender` adds rows to: `conn.appender("events")`, through
/// error plumbing (`.context(..)?`).
fn appender_table(value: &Value) -> Option<String> {
    let Value::Method { receiver, method, args, .. } = value else { return None };
    if ERROR_PLUMBING.contains(&method.as_str()) {
        return appender_table(receiver);
    }
    match args.first() {
        Some(Value::Str { text, .. }) if APPENDER_METHODS.contains(&method.as_str()) => Some(text.clone()),
        _ => None,
    }
}

/// The `.sql` file an initialiser compiles in, and where its path is written:
/// `include_str!("add.sql")`, prepared (`conn.prepare_cached(include_str!("add.sql"))?`)
/// or converted.
fn included_sql_path(expr: &syn::Expr) -> Option<(syn::LitStr, proc_macro2::Span)> {
    match strip(expr) {
        syn::Expr::Macro(m) if m.mac.path.is_ident("include_str") => {
            let lit = m.mac.parse_body::<syn::LitStr>().ok()?;
            let span = lit.span();
            Some((lit, span))
        }
        syn::Expr::Try(t) => included_sql_path(&t.expr),
        syn::Expr::Await(a) => included_sql_path(&a.base),
        syn::Expr::MethodCall(m) => {
            let method = m.method.to_string();
            if STRING_CONVERSIONS.contains(&method.as_str()) || ERROR_PLUMBING.contains(&method.as_str()) {
                included_sql_path(&m.receiver)
            } else if PREPARE_METHODS.contains(&method.as_str()) {
                m.args.first().and_then(included_sql_path)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Whether an initialiser has the shape [`definition_text`] or [`definition_deferred`]
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
            .is_some_and(|s| {
                s.ident == "format" || s.ident == "format_args" || COMPILE_TIME_STRING_MACROS.iter().any(|m| s.ident == m)
            }),
        E::Path(p) => p.path.segments.last().is_some_and(|s| is_screaming(&s.ident.to_string())),
        E::MethodCall(m) => {
            let method = m.method.to_string();
            if STRING_CONVERSIONS.contains(&method.as_str()) || ERROR_PLUMBING.contains(&method.as_str()) {
                may_define_sql(&m.receiver)
            } else if PREPARE_METHODS.contains(&method.as_str()) {
                m.args.first().is_some_and(may_define_sql)
            } else if APPENDER_METHODS.contains(&method.as_str()) {
                matches!(m.args.first(), Some(E::Lit(l)) if matches!(l.lit, syn::Lit::Str(_)))
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

/// The SQL a definition stands for that is resolved crate-wide: a constant (`CONST`,
/// `path::CONST`, a conversion of one, or `prepare(CONST)`), or a statement assembled
/// at compile time from constants (`concatcp!(INSERT_PREFIX, COLS)`).
fn definition_deferred(value: &Value) -> Option<EventKind> {
    match value {
        Value::Path { segments, .. } => segments
            .last()
            .filter(|s| is_screaming(s))
            .map(|_| EventKind::ConstUse { path: segments.iter().map(|s| s.clone().into_boxed_str()).collect() }),
        Value::Macro { name, .. }
            if COMPILE_TIME_STRING_MACROS.contains(&name.as_str()) && value.compile_time_text(&mut |_| None).is_none() =>
        {
            Some(EventKind::Assembled { value: Box::new(value.clone()) })
        }
        // `format!("INSERT INTO {} …", WORKSPACES_TABLE)`: the table is a constant.
        Value::Macro { .. } if with_run_time_table(value).is_some() => {
            with_run_time_table(value).map(|named| EventKind::Assembled { value: Box::new(named) })
        }
        Value::Macro { .. } if formats_a_constant(value) => Some(EventKind::Assembled { value: Box::new(value.clone()) }),
        Value::Method { receiver, method, args, .. } => {
            if STRING_CONVERSIONS.contains(&method.as_str()) || ERROR_PLUMBING.contains(&method.as_str()) {
                definition_deferred(receiver)
            } else if PREPARE_METHODS.contains(&method.as_str()) {
                args.first().and_then(definition_deferred)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Whether a value is a `format!` of an INSERT whose template takes a constant
/// (`format!("INSERT INTO {} …", WORKSPACES_TABLE)`, `format!("INSERT INTO
/// {WORKSPACES_TABLE} …")`): the statement is read with the constant's text resolved
/// crate-wide (the other holes are placeholders).
pub(super) fn formats_a_constant(value: &Value) -> bool {
    let Value::Macro { name, args, .. } = value else { return false };
    let Some((Value::Str { text, .. }, rest)) = args.split_first() else { return false };
    let constant = |v: &Value| matches!(v, Value::Path { segments, .. } if segments.last().is_some_and(|s| is_screaming(s)));
    (name == "format" || name == "format_args")
        && text.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"insert"))
        && rest.iter().any(|a| match a {
            Value::Local { value, .. } => constant(value),
            other => constant(other),
        })
}

/// A `format!` of an INSERT whose table is filled in at run time (`format!("INSERT
/// INTO {table} …")`, `format!("INSERT INTO {} …", self.table)`): the statement with
/// that hole written as a quoted name starting with [`RUN_TIME_TABLE`], which
/// findings show as `{table}` (guarded by `tables = ["*"]`, never equal to a named
/// table). `None` when the
/// table is not such a hole, or is a constant (read by [`formats_a_constant`]).
pub(super) fn with_run_time_table(value: &Value) -> Option<Value> {
    let Value::Macro { name, args, loc } = value else { return None };
    let Some((Value::Str { text: template, .. }, rest)) = args.split_first() else { return None };
    if !(name == "format" || name == "format_args") || !template.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"insert")) {
        return None;
    }
    let positional: Vec<&Value> = rest.iter().filter(|a| !matches!(a, Value::Local { .. })).collect();
    let mut next = 0;
    let mut after_into = false;
    for piece in crate::facts::value::format_pieces(template) {
        match piece {
            crate::facts::value::FormatPiece::Text(t) => {
                let words: Vec<&str> = t.split_whitespace().collect();
                after_into = t.ends_with(char::is_whitespace) && words.last().is_some_and(|w| w.eq_ignore_ascii_case("into"));
            }
            crate::facts::value::FormatPiece::Placeholder(key) => {
                // (Which argument, by position among `rest`: the one `format_arg` takes.)
                let taken = crate::facts::value::format_arg(key.as_deref(), &positional, rest, &mut next);
                let at = taken.and_then(|v| rest.iter().position(|a| std::ptr::eq(a, v)));
                if !after_into {
                    continue;
                }
                let at = at?;
                let hole = match &rest[at] {
                    Value::Local { value, .. } => &**value,
                    other => other,
                };
                if matches!(hole, Value::Path { segments, .. } if segments.last().is_some_and(|s| is_screaming(s))) {
                    return None;
                }
                let named = run_time_name(&rest[at]);
                let mut args = args.clone();
                let quoted = Value::Str { text: format!("\"{RUN_TIME_TABLE}{named}\""), loc: *loc };
                args[at + 1] = match &rest[at] {
                    Value::Local { name, loc, .. } => Value::Local { name: name.clone(), loc: *loc, value: Box::new(quoted) },
                    _ => quoted,
                };
                return Some(Value::Macro { name: name.clone(), args, loc: *loc });
            }
        }
    }
    None
}

/// How a table named at run time starts in the SQL text read (a `{…}` would be read
/// as a hole): [`run_time_table_shown`] turns it back into `{name}`.
pub const RUN_TIME_TABLE: &str = "gatelint:run-time-table:";

/// A table's name as findings show it: `{table}` for one named at run time.
pub fn run_time_table_shown(table: &str) -> Option<String> {
    table.strip_prefix(RUN_TIME_TABLE).map(|name| format!("{{{name}}}"))
}

/// What a run-time table name is called in a message: the local, field or method it
/// comes from.
fn run_time_name(value: &Value) -> String {
    match value {
        Value::Local { name, .. } => name.clone(),
        Value::Path { segments, .. } => segments.last().cloned().unwrap_or_default(),
        Value::Field { name, .. } => name.clone(),
        Value::Method { method, .. } => format!("{method}()"),
        Value::Call { callee, .. } => format!("{}()", callee.last().map_or("", String::as_str)),
        _ => "table".to_string(),
    }
}

/// The local a condition tests for a unique-key collision: `is_conflict(&edit)`,
/// `is_unique_violation(&r)`, `r.is_duplicate()` (a name saying conflict, unique or
/// duplicate, given the local).
fn conflict_tested(cond: &syn::Expr) -> Option<String> {
    let says = |name: &str| ["conflict", "unique", "duplicate"].iter().any(|w| name.contains(w));
    let local = |e: &syn::Expr| match strip(e) {
        syn::Expr::Reference(r) => match strip(&r.expr) {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        },
        syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    };
    match strip(cond) {
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| says(&s.ident.to_string())) => {
                c.args.first().and_then(local)
            }
            _ => None,
        },
        syn::Expr::MethodCall(m) if says(&m.method.to_string()) => local(&m.receiver),
        _ => None,
    }
}

/// Whether a `match` arm handles a key collision (its pattern names a unique
/// violation, a conflict or a duplicate) by updating, or holds a `match` with such an arm.
fn collision_arm_updates(arm: &syn::Arm) -> bool {
    use quote::ToTokens;
    let pattern = arm.pat.to_token_stream().to_string().to_ascii_lowercase();
    if ["unique", "conflict", "duplicate"].iter().any(|w| pattern.contains(w)) && super::hoisted::updates(&arm.body) {
        return true;
    }
    let body = match strip(&arm.body) {
        syn::Expr::Block(b) => match b.block.stmts.last() {
            Some(syn::Stmt::Expr(e, None)) => e,
            _ => return false,
        },
        other => other,
    };
    matches!(strip(body), syn::Expr::Match(inner) if inner.arms.iter().any(collision_arm_updates))
}

/// Where the first string literal of a value is written.
pub(super) fn first_literal(value: &Value) -> Option<Loc> {
    match value {
        Value::Str { loc, .. } => Some(*loc),
        Value::Macro { args, .. } | Value::Call { args, .. } => args.iter().find_map(first_literal),
        Value::Method { receiver, args, .. } => first_literal(receiver).or_else(|| args.iter().find_map(first_literal)),
        _ => None,
    }
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
