//! A preflight hoisted before the loop: the rows that exist are read once, in one
//! query (`SELECT … WHERE name = ANY($1)`, `… IN (…)`), into a local, and each
//! iteration checks the local before it inserts — `if existing.contains(&x) {
//! continue; }` in the body, or `.filter(|x| !existing.contains(..))` in the loop's
//! iterator chain. Such a membership check is a preflight call, by position like
//! the named preflight helpers; so is a branch on a row just read (`match existing
//! { None => INSERT, .. }`, `if existing.is_some() { continue; }`), or on an awaited
//! lookup (`if Self::is_member(..).await? { return .. }`, `let found =
//! repo.find_by_name(..).await?`), or on what an awaited `get…` returned (`let row =
//! get_membership(..).await?; match row { Some(..) => update, None => INSERT }`).

use super::{EventKind, Extractor, strip};
use crate::input::source::Loc;
use syn::visit::Visit;

/// Methods that ask a collection whether it holds a value.
const MEMBERSHIP: &[&str] = &["contains", "contains_key", "get", "any"];

/// Whether a string literal under `expr` reads rows (`SELECT … FROM …`), or a SQL
/// constant named for a read (`SELECT_CHILD_NAMES`, `FIND_BY_NAME`).
fn selects(expr: &syn::Expr) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
            let text = s.value().to_ascii_lowercase();
            let word = |w: &str| text.match_indices(w).any(|(i, _)| i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric());
            self.0 |= word("select") && word("from");
        }
        // `query_scalar(sql::SELECT_CHILD_NAMES)`: a SQL constant named for a read.
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            let screaming = name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            self.0 |= screaming
                && ["SELECT", "FIND_", "LIST_", "FETCH_", "LOOKUP_"].iter().any(|w| name.starts_with(w));
        }
        // (What a closure or an `async` block reads runs elsewhere, later.)
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            // `sqlx::query_scalar!("SELECT …", ids)`: the first argument.
            macro_args_now(m, |a| self.visit_expr(a));
        }
    }
    let mut finder = Finder(false);
    finder.visit_expr(expr);
    finder.0
}

/// Whether `expr` runs an `UPDATE` (SQL text, diesel's `update(..).set(..)`, sea-orm's
/// `update_many().col_expr(..)`): its
/// result — the rows it changed, or an error when none matched — says whether the
/// row exists, so an INSERT run only when it changed nothing fills the gap (update,
/// else insert).
pub(super) fn updates(expr: &syn::Expr) -> bool {
    #[derive(Default)]
    struct Finder {
        text: bool,
        call: bool,
        set: bool,
    }
    impl<'ast> Visit<'ast> for Finder {
        fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
            let text = s.value().trim_start().to_ascii_lowercase();
            self.text |= text.starts_with("update ") && text.contains(" set ");
        }
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            // (sea-orm: `t::Entity::update_many()` … `.col_expr(..)`.)
            self.call |= matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "update" || s.ident == "update_many"));
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            self.set |= m.method == "set" || m.method == "col_expr";
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            macro_args_now(m, |a| self.visit_expr(a));
        }
    }
    let mut finder = Finder::default();
    finder.visit_expr(expr);
    finder.text || (finder.call && finder.set)
}

/// Runs `visit` on each argument of a macro call written like a function call, and
/// on the body of each closure argument: a closure handed to a macro runs in it
/// (`with_connection!(pool, |conn| users::table.find(id).first(conn).await)`).
fn macro_args_now(m: &syn::Macro, mut visit: impl FnMut(&syn::Expr)) {
    let Ok(args) = m.parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) else {
        return;
    };
    for arg in &args {
        match arg {
            syn::Expr::Closure(c) => visit(&c.body),
            other => visit(other),
        }
    }
}

/// Whether a function name says it looks rows up, whatever runs it (`exists`,
/// `find_by_name`, `lookup_…`, `get_by_…`, `fetch_by_…`, `includes_…`).
fn strong_lookup(name: &str) -> bool {
    ["find", "lookup", "get_by", "fetch_by", "includes"].iter().any(|p| name.starts_with(p))
        || name.contains("exist")
        // `get_episode_by_guid`, `fetch_user_by_email`: a row looked up by a key.
        || ((name.starts_with("get_") || name.starts_with("fetch_")) && name.contains("_by_"))
}

/// A crate's own macro named like a lookup (`diesel_exists!(users::table.filter(..), conn)`).
fn is_lookup_macro(mac: &syn::Macro) -> bool {
    mac.path.segments.last().is_some_and(|s| strong_lookup(&s.ident.to_string()))
}

/// First words of a name that writes what it counts (`bump_member_count`).
const WRITE_VERBS: &[&str] =
    &["bump_", "inc_", "incr_", "increment_", "decrement_", "decr_", "add_", "set_", "reset_", "update_", "store_", "save_", "record_"];

/// Whether a name reads like a lookup when it is a round trip (awaited or `?`-tried):
/// `is_member(..).await?`, `has_access(..)?`, `count_rows(..).await`, diesel's
/// `.first(conn).optional()?` and `.load(conn)?`, sea-orm's `.one(db).await?`, a
/// model's rows of a parent (`Tag::for_post(conn, id)?`).
fn weak_lookup(name: &str) -> bool {
    ["is_", "has_", "count", "contains", "list", "load", "select_"].iter().any(|p| name.starts_with(p))
        || asks_whether_missing(name)
        || (name.ends_with("_count") && !WRITE_VERBS.iter().any(|v| name.starts_with(v)))
        // (`fetch_allowed_groups(..).await?`; sqlx's own `fetch_one`/`fetch_all` run
        // whatever statement they are given.)
        || (name.starts_with("fetch_") && !matches!(name, "fetch_one" | "fetch_all" | "fetch_many"))
        || (name.starts_with("for_") && !name.starts_with("for_each"))
        || matches!(name, "first" | "optional" | "one" | "fetch_optional" | "get_results")
        || reads_what_was_applied(name)
}

/// Whether a name reads what was applied already (`applied_migrations(tx)?`,
/// `get_applied_versions(..).await?`): the record a migrator skips by. (`mark_applied`
/// writes it.)
fn reads_what_was_applied(name: &str) -> bool {
    let rest = ["get_", "fetch_", "load_", "read_", "list_", "query_", "select_", "all_"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    rest.starts_with("applied")
}

/// Whether a name asks whether the write is still to be done, a lookup whose `true`
/// means absent: `migration.should_apply().await?`, `needs_backfill(..)?`.
pub(super) fn asks_whether_missing(name: &str) -> bool {
    name.starts_with("should_") || name.starts_with("needs_")
}

/// Whether a call chain names a lookup anywhere (`Entity::find().filter(..).one(db)`).
fn chain_looks_up(expr: &syn::Expr, weak: bool, get: bool) -> bool {
    // (`_get_collection_id`: a private helper's leading underscore says nothing.)
    let ok = |name: &str| {
        let name = name.trim_start_matches('_');
        strong_lookup(name) || (weak && weak_lookup(name)) || (get && name.starts_with("get"))
    };
    match strip(expr) {
        syn::Expr::MethodCall(m) => ok(&m.method.to_string()) || chain_looks_up(&m.receiver, weak, get),
        syn::Expr::Call(c) => match strip(&c.func) {
            syn::Expr::Path(p) => p.path.segments.last().is_some_and(|s| ok(&s.ident.to_string())),
            _ => false,
        },
        syn::Expr::Await(a) => chain_looks_up(&a.base, weak, get),
        syn::Expr::Try(t) => chain_looks_up(&t.expr, weak, get),
        // A crate's own lookup macro (`diesel_exists!(users::table.filter(..), conn)`).
        syn::Expr::Macro(m) => is_lookup_macro(&m.mac),
        _ => false,
    }
}

/// Whether `expr` is a `get_…` call given what to look for, its answer tested
/// right where it runs (`if self.get_imported_key(&public_key).is_ok() { return
/// Ok(()) }`): a synchronous lookup, with no `.await` or `?` to show the round trip.
/// (A bare `get` is a map's.)
fn gets_by_argument(expr: &syn::Expr) -> bool {
    let named = |name: &str| name.trim_start_matches('_').strip_prefix("get_").is_some_and(|rest| !rest.is_empty());
    match strip(expr) {
        syn::Expr::MethodCall(m) => !m.args.is_empty() && named(&m.method.to_string()),
        syn::Expr::Call(c) => {
            !c.args.is_empty()
                && matches!(strip(&c.func), syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| named(&s.ident.to_string())))
        }
        _ => false,
    }
}

/// Whether `expr` runs a synchronous query builder's read of rows by key or filter
/// (diesel: `t::table.find(id).get_result::<Row>(conn)`, `.filter(..).first(conn)`),
/// whose answer is tested right there (`.is_ok()`), with no `?` to show the round trip.
/// Whether `expr` reads rows where it runs: a lookup awaited or tried (`for m in
/// self.list_connections(id)?`), a `SELECT`, a diesel read.
pub(super) fn reads_rows_now(expr: &syn::Expr) -> bool {
    let mut at = strip(expr);
    while let syn::Expr::MethodCall(m) = at
        && matches!(m.method.to_string().as_str(), "iter" | "into_iter" | "iter_mut" | "enumerate" | "rev")
    {
        at = strip(&m.receiver);
    }
    awaits_lookup(at, true) || selects(at) || reads_rows(at)
}

fn reads_rows(expr: &syn::Expr) -> bool {
    let syn::Expr::MethodCall(run) = strip(expr) else { return false };
    if !matches!(run.method.to_string().as_str(), "get_result" | "first" | "get_results" | "load") {
        return false;
    }
    let mut at = strip(&run.receiver);
    let mut selects = false;
    loop {
        match at {
            syn::Expr::MethodCall(m) => {
                selects |= matches!(m.method.to_string().as_str(), "find" | "filter");
                at = strip(&m.receiver);
            }
            // The table the chain starts from (`issuecomment::table`), not a write
            // (`insert_into(..)`, `update(..)`, `delete(..)`).
            syn::Expr::Path(p) => return selects && p.path.segments.last().is_some_and(|s| s.ident == "table"),
            _ => return false,
        }
    }
}

/// Whether `expr` runs a lookup of what exists: a call named like one, awaited or
/// `?`-tried when the name alone is not enough (`Self::is_favorite(..).await`,
/// `self.includes_post(..)?`, `Post::exists(conn, id)`).
fn awaits_lookup(expr: &syn::Expr, get: bool) -> bool {
    struct Finder(bool, bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
            self.0 |= chain_looks_up(&a.base, true, self.1);
            syn::visit::visit_expr_await(self, a);
        }
        fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
            self.0 |= chain_looks_up(&t.expr, true, self.1);
            syn::visit::visit_expr_try(self, t);
        }
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let syn::Expr::Path(p) = strip(&c.func) {
                self.0 |= p.path.segments.last().is_some_and(|s| strong_lookup(&s.ident.to_string()));
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
            self.0 |= is_lookup_macro(&m.mac);
            syn::visit::visit_expr_macro(self, m);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            // (`iter().find(..)` searches values in hand, not the database.)
            let name = m.method.to_string();
            self.0 |= strong_lookup(&name) && !matches!(name.as_str(), "find" | "find_map");
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            macro_args_now(m, |a| self.visit_expr(a));
        }
    }
    let mut finder = Finder(false, get);
    finder.visit_expr(expr);
    finder.0
}

/// What a condition tests the presence of: `x` in `x.is_none()`, `!x.is_empty()`,
/// `let Some(_) = x`, `x == 0`, or a boolean `x` itself (`!exists`, `is_member(..).await?`).
fn presence_subject(cond: &syn::Expr) -> Option<&syn::Expr> {
    match strip(cond) {
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => presence_subject(&u.expr),
        syn::Expr::MethodCall(m)
            if matches!(m.method.to_string().as_str(), "is_none" | "is_some" | "is_empty" | "is_ok" | "is_err") =>
        {
            Some(&m.receiver)
        }
        syn::Expr::Let(l) if presence_pattern(&l.pat) => Some(&l.expr),
        // `!username_exists(..).await?.exists`: the lookup's answer, as a field.
        syn::Expr::Field(f) if matches!(&f.member, syn::Member::Named(n) if presence_field(&n.to_string())) => {
            Some(&f.base)
        }
        syn::Expr::Binary(b) => match (&*b.left, &*b.right) {
            (other, syn::Expr::Lit(_)) | (syn::Expr::Lit(_), other) => Some(other),
            _ => None,
        },
        other @ (syn::Expr::Path(_)
        | syn::Expr::Await(_)
        | syn::Expr::Try(_)
        | syn::Expr::Call(_)
        | syn::Expr::MethodCall(_)) => Some(other),
        _ => None,
    }
}

/// Whether a condition holds when the value is absent: `x.is_none()`, `!x.is_some()`.
fn tests_absence(cond: &syn::Expr) -> bool {
    match strip(cond) {
        syn::Expr::MethodCall(m) => m.method == "is_none",
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            matches!(strip(&u.expr), syn::Expr::MethodCall(m) if m.method == "is_some")
        }
        _ => false,
    }
}

/// `None` (a match arm for a value that is absent).
fn absence_pattern(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Ident(i) => i.ident == "None",
        syn::Pat::Path(p) => p.path.is_ident("None"),
        _ => false,
    }
}

/// A boolean field that answers whether something exists (`exists`, `found`).
fn presence_field(name: &str) -> bool {
    name.contains("exist") || matches!(name, "found" | "present" | "is_present")
}

/// `Some(..)`, `None`, `Ok(..)`, `Err(..)`, `true`, `false`, or a tuple holding one.
fn presence_pattern(pat: &syn::Pat) -> bool {
    let word = |path: &syn::Path| path.segments.last().is_some_and(|s| matches!(s.ident.to_string().as_str(), "Some" | "None" | "Ok" | "Err"));
    match pat {
        syn::Pat::TupleStruct(t) => word(&t.path),
        syn::Pat::Ident(i) => i.ident == "None",
        syn::Pat::Path(p) => word(&p.path),
        syn::Pat::Lit(l) => matches!(l.lit, syn::Lit::Bool(_)),
        syn::Pat::Tuple(t) => t.elems.iter().any(presence_pattern),
        syn::Pat::Or(o) => o.cases.iter().any(presence_pattern),
        _ => false,
    }
}

/// Whether a branch returns what a lookup found (`Ok(row) => return Ok(row)`, `if let
/// Some(id) = cached { return Ok(id) }`): get-or-create, whatever the lookup is called.
pub(super) fn returns_found(pat: &syn::Pat, body: &syn::Expr) -> bool {
    match strip(body) {
        syn::Expr::Block(b) => block_returns_found(pat, &b.block),
        other => found_names(pat).is_some_and(|names| returns_one_of(other, &names)),
    }
}

/// [`returns_found`] of an `if let`'s block.
pub(super) fn block_returns_found(pat: &syn::Pat, block: &syn::Block) -> bool {
    found_names(pat).is_some_and(|names| {
        block.stmts.iter().any(|st| matches!(st, syn::Stmt::Expr(e, _) if returns_one_of(e, &names)))
    })
}

/// The names `Some(x)` / `Ok(x)` binds (none for other patterns, or `Some(_)`).
fn found_names(pat: &syn::Pat) -> Option<Vec<String>> {
    let syn::Pat::TupleStruct(t) = pat else { return None };
    if !t.path.segments.last().is_some_and(|s| s.ident == "Some" || s.ident == "Ok") {
        return None;
    }
    let mut names = Vec::new();
    bound_names(pat, &mut names);
    names.retain(|n| n != "_");
    (!names.is_empty()).then_some(names)
}

/// Whether an `if let`'s block ends in the value it found (`if let Some(d) = details
/// { Ok(d) } else { …create… }`): with an `else`, the `if` is get or create.
pub(super) fn block_yields_found(pat: &syn::Pat, block: &syn::Block) -> bool {
    let Some(names) = found_names(pat) else { return false };
    let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last() else { return false };
    let mut at = strip(tail);
    loop {
        match at {
            syn::Expr::Call(c) if c.args.len() == 1 && matches!(strip(&c.func), syn::Expr::Path(p) if p.path.is_ident("Ok") || p.path.is_ident("Some")) => {
                at = strip(&c.args[0]);
            }
            syn::Expr::MethodCall(m) if m.args.is_empty() && matches!(m.method.to_string().as_str(), "clone" | "into" | "to_owned") => {
                at = strip(&m.receiver);
            }
            syn::Expr::Path(p) => return p.path.get_ident().is_some_and(|i| names.iter().any(|n| i == n)),
            _ => return false,
        }
    }
}

/// `return <a value made with one of names>`.
fn returns_one_of(expr: &syn::Expr, names: &[String]) -> bool {
    matches!(strip(expr), syn::Expr::Return(r) if r.expr.as_deref().is_some_and(|v| made_from(v, names)))
}

/// Whether a value is one of `names`, or built from one: its fields, methods called
/// on it (`row.id.clone()`, `user.into()`), a tuple, a struct or a constructor
/// (`Ok(..)`, `Json(..)`, `Response::from(..)`) holding it. A function of the crate given it
/// (`return handle_command(config, cmd)`) does work with what was found, and is not
/// the found value returned.
fn made_from(expr: &syn::Expr, names: &[String]) -> bool {
    let constructor = |func: &syn::Expr| match strip(func) {
        syn::Expr::Path(p) => {
            let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let upper = |s: &String| s.starts_with(|c: char| c.is_uppercase());
            segs.last().is_some_and(upper) || (segs.len() >= 2 && upper(&segs[segs.len() - 2]))
        }
        _ => false,
    };
    match strip(expr) {
        syn::Expr::Path(p) => p.path.get_ident().is_some_and(|i| names.iter().any(|n| i == n)),
        syn::Expr::Field(f) => made_from(&f.base, names),
        syn::Expr::MethodCall(m) => made_from(&m.receiver, names),
        syn::Expr::Call(c) => constructor(&c.func) && c.args.iter().any(|a| made_from(a, names)),
        syn::Expr::Struct(s) => s.fields.iter().any(|f| made_from(&f.expr, names)),
        syn::Expr::Tuple(t) => t.elems.iter().any(|e| made_from(e, names)),
        syn::Expr::Reference(r) => made_from(&r.expr, names),
        syn::Expr::Cast(c) => made_from(&c.expr, names),
        _ => false,
    }
}

/// Finds a read of one of the locals it names (macro arguments are not walked: a name
/// only a log macro shows is not read by the code).
struct Reads<'n>(&'n [String], bool);

impl<'ast> Visit<'ast> for Reads<'_> {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        self.1 |= p.path.get_ident().is_some_and(|i| self.0.iter().any(|n| i == n));
    }
}

/// Whether `expr` uses one of the locals `names`.
pub(super) fn mentions(expr: &syn::Expr, names: &[String]) -> bool {
    if names.is_empty() {
        return false;
    }
    let mut reads = Reads(names, false);
    reads.visit_expr(expr);
    reads.1
}

/// Whether `expr` runs an INSERT that does nothing when the row exists (`ON CONFLICT
/// DO NOTHING`, `INSERT OR IGNORE`): its count of rows says whether it existed.
fn inserts_if_absent(expr: &syn::Expr) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
            let text = s.value();
            if text.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"insert")) {
                self.0 |= crate::facts::sql::inserts(&text).iter().any(|i| i.on_conflict);
            }
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut finder = Finder(false);
    finder.visit_expr(expr);
    finder.0
}

/// Whether a statement reads one of `names` outside macros (a name only a log macro
/// shows is not read by the code).
pub(super) fn stmt_mentions(stmt: &syn::Stmt, names: &[String]) -> bool {
    let mut reads = Reads(names, false);
    reads.visit_stmt(stmt);
    reads.1
}

/// The names a pattern binds (`row`, `(old, new)`, `Some(found)`).
pub(super) fn bound_names(pat: &syn::Pat, out: &mut Vec<String>) {
    match pat {
        syn::Pat::Ident(i) => out.push(i.ident.to_string()),
        syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| bound_names(p, out)),
        syn::Pat::TupleStruct(t) => t.elems.iter().for_each(|p| bound_names(p, out)),
        syn::Pat::Reference(r) => bound_names(&r.pat, out),
        syn::Pat::Type(t) => bound_names(&t.pat, out),
        _ => {}
    }
}

/// The collections a function body adds to by name (`added.push(id)`,
/// `hashes.insert(id, h)`, `seen.extend(..)`).
pub(super) fn collections_added_to(block: &syn::Block) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if matches!(m.method.to_string().as_str(), "push" | "push_back" | "insert" | "extend")
                && let syn::Expr::Path(p) = strip(&m.receiver)
                && let Some(name) = p.path.get_ident().map(|i| i.to_string())
                && !self.0.contains(&name)
            {
                self.0.push(name);
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder(Vec::new());
    finder.visit_block(block);
    finder.0
}

/// The local a membership check asks (`existing` in `existing.contains(&x)`,
/// `existing.iter().any(..)`).
fn asked(m: &syn::ExprMethodCall) -> Option<String> {
    if !MEMBERSHIP.iter().any(|n| m.method == n) {
        return None;
    }
    let mut at = strip(&m.receiver);
    while let syn::Expr::MethodCall(inner) = at
        && matches!(inner.method.to_string().as_str(), "iter" | "keys" | "values" | "borrow" | "read" | "lock")
    {
        at = strip(&inner.receiver);
    }
    match at {
        syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

/// The locals a block removes items from (`wanted.remove(&name)`, `.swap_remove`,
/// `.shift_remove`), closures left out.
pub(super) fn removed_from(block: &syn::Block) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if matches!(m.method.to_string().as_str(), "remove" | "swap_remove" | "shift_remove")
                && let syn::Expr::Path(p) = strip(&m.receiver)
                && let Some(ident) = p.path.get_ident()
            {
                self.0.push(ident.to_string());
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut finder = Finder(Vec::new());
    finder.visit_block(block);
    finder.0
}

impl Extractor<'_> {
    /// `let existing = … "SELECT …" …;` (or built from such a local): its rows are
    /// what exists.
    pub(super) fn note_existing(&mut self, local: &syn::Local) {
        let Some(init) = &local.init else { return };
        if inserts_if_absent(&init.expr) {
            bound_names(&local.pat, &mut self.absent_when_true);
            return;
        }
        // `let needs_init = match lookup.await { Ok(rows) => rows.is_empty(), Err(_) => true };`
        match self.presence_answer(&init.expr) {
            Some(true) => return bound_names(&local.pat, &mut self.existing),
            Some(false) => return bound_names(&local.pat, &mut self.absent_when_true),
            None => {}
        }
        if selects(&init.expr) || updates(&init.expr) || awaits_lookup(&init.expr, false) || self.mentions_existing(&init.expr)
        {
            bound_names(&local.pat, &mut self.existing);
        } else if awaits_lookup(&init.expr, true) || mentions(&init.expr, &self.fetched) {
            bound_names(&local.pat, &mut self.fetched);
        }
        // `let pending: Vec<_> = all.iter().filter(|m| !applied.contains(..)).collect();`:
        // a loop over `pending` is filtered by what exists.
        if let Some(at) = self.filtered_by_existing(&init.expr)
            && let Some(ident) = crate::facts::lower::pat_ident(&local.pat)
        {
            self.filtered_locals.push((ident.to_string(), at));
        }
    }

    /// The membership check that filtered the local a loop iterates (`for m in pending`).
    pub(super) fn iterates_filtered_local(&self, expr: &syn::Expr) -> Option<Loc> {
        let mut at = strip(expr);
        while let syn::Expr::MethodCall(m) = at
            && matches!(m.method.to_string().as_str(), "iter" | "into_iter" | "iter_mut" | "enumerate")
        {
            at = strip(&m.receiver);
        }
        let syn::Expr::Path(p) = at else { return None };
        let name = p.path.get_ident()?.to_string();
        self.filtered_locals.iter().rev().find(|(n, _)| *n == name).map(|(_, at)| *at)
    }

    /// Whether `expr` uses a local whose truth says the row was absent: the count an
    /// `INSERT … ON CONFLICT DO NOTHING` (or `OR IGNORE`) returned (zero means the row
    /// existed), or a flag set from a lookup's answer.
    pub(super) fn mentions_absence_flag(&self, expr: &syn::Expr) -> bool {
        mentions(expr, &self.absent_when_true)
    }

    /// Whether an `if` condition tests whether a lookup found something: the
    /// presence of rows just read (`row.is_none()`, `let Some(r) = found`, `!exists`,
    /// `count == 0`) or a lookup run in the condition itself (a lookup by name, a
    /// `SELECT`: `if let Ok(row) = query!("SELECT …").fetch_one(..).await`). A condition on what a
    /// lookup returned (`if device.enabled`) is not one.
    pub(super) fn tests_presence(&self, cond: &syn::Expr, has_else: bool) -> bool {
        // `if remote && !user_exists(..).await? { create }`: the branch runs only when
        // every part holds, the lookup's answer among them. (An `else` would run when
        // any part fails, the row found or not.)
        if let syn::Expr::Binary(b) = strip(cond)
            && matches!(b.op, syn::BinOp::And(_))
        {
            // (Only a lookup of the row: `is_admin(..).await? && !force` tests a property.)
            let of_the_row = |e: &syn::Expr| {
                self.tests_presence(e, false)
                    && presence_subject(e).is_some_and(|s| {
                        self.mentions_existing(s) || mentions(s, &self.fetched) || selects(s) || chain_looks_up(s, false, false)
                    })
            };
            return !has_else && (of_the_row(&b.left) || of_the_row(&b.right));
        }
        // (`if let Ok(found) = get_gateway(..).await`: a `get` tested for presence
        // right where it runs is a lookup. A value `get` returned earlier is a lookup
        // only when the code also says what to do without it — `if row.is_none()`,
        // or an `else` — since `if let Some(row) = fetched { INSERT row }` copies data.)
        presence_subject(cond).is_some_and(|subject| {
            self.mentions_existing(subject)
                || (mentions(subject, &self.fetched) && (has_else || tests_absence(cond)))
                || self.mentions_absence_flag(subject)
                || awaits_lookup(subject, true)
                || gets_by_argument(subject)
                || selects(subject)
                || reads_rows(subject)
                || matches!(strip(subject), syn::Expr::MethodCall(m) if self.membership_preflight(m) || self.memo_check(m))
        })
    }

    /// Whether a condition holds when rows a `get…` round trip returned are there
    /// (`if let Some(ep) = &found`, `found.is_some()`): with a branch that leaves, what
    /// follows runs only for a row not found.
    pub(super) fn finds_fetched(&self, cond: &syn::Expr) -> bool {
        let fetched_itself = |s: &syn::Expr| {
            matches!(strip(s), syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.fetched.iter().any(|f| i == f)))
        };
        super::state_guards::found_when_true(cond) && presence_subject(cond).is_some_and(fetched_itself)
    }

    /// The answer a value gives to "did the lookup find it?", when it is one:
    /// `Some(true)` when true means found (`row.is_some()`), `Some(false)` when true
    /// means absent (`rows.is_empty()`, `match lookup { Ok(rows) => rows.is_empty(),
    /// Err(_) => true }`, either branch of an `if` giving the same answer).
    fn presence_answer(&self, expr: &syn::Expr) -> Option<bool> {
        let tail = |b: &syn::Block| match b.stmts.last() {
            Some(syn::Stmt::Expr(e, None)) => Some(e.clone()),
            _ => None,
        };
        match strip(expr) {
            syn::Expr::Block(b) => self.presence_answer(&tail(&b.block)?),
            syn::Expr::If(i) => {
                let (_, other) = i.else_branch.as_ref()?;
                let then = self.presence_answer(&tail(&i.then_branch)?)?;
                (self.presence_answer(other)? == then).then_some(then)
            }
            syn::Expr::Match(m) if self.matches_presence(m) => m.arms.iter().find_map(|arm| {
                let found = super::state_guards::found_pattern(&arm.pat);
                if !found && !absence_pattern(&arm.pat) {
                    return None;
                }
                let body = match strip(&arm.body) {
                    syn::Expr::Block(b) => tail(&b.block)?,
                    other => other.clone(),
                };
                match strip(&body) {
                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) => Some(b.value == found),
                    // `Ok(rows) => rows.is_empty()`: the rows the arm holds.
                    answer if found => {
                        let mut rows = Vec::new();
                        bound_names(&arm.pat, &mut rows);
                        (!rows.is_empty() && presence_subject(answer).is_some_and(|s| mentions(s, &rows)))
                            .then(|| super::state_guards::found_when_true(answer))
                    }
                    _ => None,
                }
            }),
            // `prev.as_ref().map(|p| p.hash != next).unwrap_or(true)`: the value for a
            // row not found given as a default.
            syn::Expr::MethodCall(m) if let Some(default) = self.default_when_absent(m) => Some(!default),
            // (A test of the value, not the value: `rows.is_empty()`, `count == 0`.)
            e @ (syn::Expr::MethodCall(_) | syn::Expr::Unary(_) | syn::Expr::Binary(_) | syn::Expr::Field(_))
                if presence_subject(e).is_some_and(|s| !std::ptr::eq(s, e)) && self.tests_presence(e, false) =>
            {
                Some(super::state_guards::found_when_true(e) != self.mentions_absence_flag(e))
            }
            _ => None,
        }
    }

    /// The value a test of a looked-up row gives when no row was found, where it says
    /// so: `found.map(..).unwrap_or(true)`, `found.map_or(false, ..)`,
    /// `found.is_none_or(..)`, `found.is_some_and(..)`.
    fn default_when_absent(&self, m: &syn::ExprMethodCall) -> Option<bool> {
        let default = match (m.method.to_string().as_str(), m.args.first().map(strip)) {
            ("unwrap_or" | "map_or", Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }))) => b.value,
            ("is_none_or", _) => true,
            ("is_some_and", _) => false,
            _ => return None,
        };
        let mut base = strip(&m.receiver);
        while let syn::Expr::MethodCall(inner) = base {
            base = strip(&inner.receiver);
        }
        let syn::Expr::Path(p) = base else { return None };
        let name = p.path.get_ident()?.to_string();
        (self.existing.contains(&name) || self.fetched.contains(&name)).then_some(default)
    }

    /// Whether a condition compares a field of a row looked up with another value
    /// (`prev.owner.as_deref() == Some(owner)`, `stored.hash != next_hash`).
    pub(super) fn compares_existing_row(&self, cond: &syn::Expr) -> bool {
        let syn::Expr::Binary(b) = strip(cond) else { return false };
        if !matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_)) {
            return false;
        }
        let row_field = |e: &syn::Expr| {
            let mut at = strip(e);
            let mut through_field = false;
            loop {
                match at {
                    syn::Expr::MethodCall(m) => at = strip(&m.receiver),
                    syn::Expr::Field(f) => {
                        through_field = true;
                        at = strip(&f.base);
                    }
                    syn::Expr::Path(p) => {
                        return through_field && p.path.get_ident().is_some_and(|i| self.existing.iter().any(|x| i == x));
                    }
                    _ => return false,
                }
            }
        };
        row_field(&b.left) || row_field(&b.right)
    }

    /// Whether a `match` branches on whether a lookup found something: its arms
    /// match `Some`/`None`, `Ok`/`Err` or `true`/`false` (also inside a tuple).
    pub(super) fn matches_presence(&self, m: &syn::ExprMatch) -> bool {
        // (`match res { Ok(id) => return Ok(id), … }` on what an INSERT returned: its
        // outcome, not a lookup.)
        if self.holds_insert_result(&m.expr) {
            return false;
        }
        let absent_arm = m.arms.iter().any(|a| matches!(&a.pat, syn::Pat::Wild(_)) || absence_pattern(&a.pat));
        m.arms.iter().any(|a| presence_pattern(&a.pat))
            && (self.mentions_existing(&m.expr)
                || (absent_arm && mentions(&m.expr, &self.fetched))
                || awaits_lookup(&m.expr, true)
                || selects(&m.expr)
                || m.arms.iter().any(|a| returns_found(&a.pat, &a.body)))
    }

    /// Whether `expr` is a local of this function bound to what an INSERT returned.
    fn holds_insert_result(&self, expr: &syn::Expr) -> bool {
        let Some(current) = self.stack.last().map(|f| f.facts.name_loc) else { return false };
        matches!(strip(expr), syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| {
            self.insert_results.iter().any(|(n, at, _)| i == n && *at == current)
        }))
    }

    /// Whether `expr` uses a local holding the rows that exist.
    pub(super) fn mentions_existing(&self, expr: &syn::Expr) -> bool {
        mentions(expr, &self.existing)
    }

    /// A membership check of a local holding the rows that exist (or rows a `get…`
    /// round trip returned, or a set built from them): a preflight.
    pub(super) fn membership_preflight(&self, m: &syn::ExprMethodCall) -> bool {
        (!self.existing.is_empty() || !self.fetched.is_empty())
            && asked(m).is_some_and(|name| self.existing.contains(&name) || self.fetched.contains(&name))
    }

    /// A membership check of a collection passed in that the function adds to (`if
    /// known.get(&id).is_none() { …INSERT…; known.insert(id, h) }`): what a run before
    /// wrote is skipped. Only as a condition: `blocks.get(&cid)` passed on is data.
    fn memo_check(&self, m: &syn::ExprMethodCall) -> bool {
        let memos = self.stack.last().map_or(&[][..], |f| &f.memos[..]);
        !memos.is_empty() && asked(m).is_some_and(|name| memos.contains(&name))
    }

    /// The first membership check of such a local in `expr` (a loop's iterator chain).
    pub(super) fn filtered_by_existing(&self, expr: &syn::Expr) -> Option<Loc> {
        if self.existing.is_empty() && self.fetched.is_empty() {
            return None;
        }
        struct Finder<'e, 'x>(&'e Extractor<'x>, Option<proc_macro2::Span>);
        impl<'ast> Visit<'ast> for Finder<'_, '_> {
            fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
                if self.1.is_none() && self.0.membership_preflight(m) {
                    self.1 = Some(m.method.span());
                }
                syn::visit::visit_expr_method_call(self, m);
            }
        }
        let mut finder = Finder(self, None);
        finder.visit_expr(expr);
        finder.1.map(|span| self.lowerer.span_loc(span))
    }

    /// Records the hoisted preflight of a loop whose iterator chain filters by what exists.
    pub(super) fn push_hoisted_preflight(&mut self, at: Loc) {
        self.push_event(EventKind::Preflight { name: "rows read before the loop".into() }, at);
    }

    /// Records a branch on rows just read (`match existing { None => INSERT, .. }`).
    pub(super) fn push_existence_check(&mut self, at: Loc) {
        self.push_event(EventKind::Preflight { name: "existence check".into() }, at);
        self.mark_branch_check();
    }
}

#[cfg(test)]
mod tests {
    use super::reads_what_was_applied;

    #[test]
    fn what_was_applied_is_read_by_name_not_written() {
        for yes in ["applied_migrations", "get_applied_versions", "fetch_applied", "all_applied_migrations"] {
            assert!(reads_what_was_applied(yes), "{yes}");
        }
        for no in ["mark_applied", "apply_migrations", "record_applied_migration", "get_migrations"] {
            assert!(!reads_what_was_applied(no), "{no}");
        }
    }
}
