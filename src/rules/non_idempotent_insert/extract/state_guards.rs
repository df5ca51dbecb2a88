//! Guards kept in state rather than in the database, which make code that can
//! run again insert only once per row:
//! - a once-flag: `if !self.persisted { …INSERT…; self.persisted = true; }`,
//!   `if self.id.is_none() { …INSERT…; self.id = Some(id); }`, or `if guid.is_empty()
//!   { …INSERT…; peer.guid = guid; }` — the body records that it ran (in the value
//!   tested, or the field of that name it was read from);
//! - a cursor: `for e in &events[self.persisted_count..] { …INSERT…;
//!   self.persisted_count += 1; }` (or `.skip(n)`) — the loop covers only the items
//!   past a position it advances.
//!
//! Each is a preflight by position (a `Preflight` event where the guarded code
//! starts), like the named preflight helpers.

use super::{EventKind, Extractor, FlagBranch, strip};
use crate::input::source::Loc;
use quote::ToTokens;
use syn::visit::Visit;

/// An expression as comparable text (`self . persisted`).
fn text(expr: &syn::Expr) -> String {
    strip(expr).to_token_stream().to_string()
}

/// Whether `block` assigns `target` (`target = …`, `target += …`) anywhere in it.
fn assigns(block: &syn::Block, target: &str, value: impl Fn(&syn::Expr) -> bool) -> bool {
    struct Finder<'t, F> {
        target: &'t str,
        value: F,
        found: bool,
    }
    impl<'ast, F: Fn(&syn::Expr) -> bool> Visit<'ast> for Finder<'_, F> {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            // `guid` tested, `peer.write().await.guid = guid` stored: the field the
            // local was copied from.
            let field = matches!(strip(&a.left), syn::Expr::Field(f)
                if matches!(&f.member, syn::Member::Named(n) if *n == self.target));
            self.found |= (text(&a.left) == self.target || field) && (self.value)(&a.right);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            // `count += 1`: an advancing cursor.
            let compound = matches!(b.op, syn::BinOp::AddAssign(_) | syn::BinOp::SubAssign(_));
            self.found |= compound && text(&b.left) == self.target;
            syn::visit::visit_expr_binary(self, b);
        }
    }
    let mut finder = Finder { target, value, found: false };
    finder.visit_block(block);
    finder.found
}

fn is_true(expr: &syn::Expr) -> bool {
    matches!(strip(expr), syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) if b.value)
}

fn is_some(expr: &syn::Expr) -> bool {
    match strip(expr) {
        syn::Expr::Call(c) => matches!(strip(&c.func), syn::Expr::Path(p) if p.path.is_ident("Some")),
        _ => false,
    }
}

/// The flag an `if` condition tests before doing something once: `!flag` (the body
/// sets it `true`), `x.is_none()` (the body sets it `Some(..)`).
fn once_flag(cond: &syn::Expr, then: &syn::Block) -> bool {
    match strip(cond) {
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            let flag = text(&u.expr);
            assigns(then, &flag, is_true)
        }
        syn::Expr::MethodCall(m) if m.method == "is_none" && m.args.is_empty() => {
            let option = text(&m.receiver);
            assigns(then, &option, is_some)
        }
        // `if guid.is_empty() { …INSERT…; peer.guid = new_guid; }`.
        syn::Expr::MethodCall(m) if m.method == "is_empty" && m.args.is_empty() => {
            let value = text(&m.receiver);
            assigns(then, &value, |_| true)
        }
        _ => false,
    }
}

/// Whether a `match` in a `loop` ends the loop when its scrutinee succeeds and
/// loops again only on a specific error (`Ok(_) => break, Err(Taken) => continue,
/// Err(e) => return Err(e)`): retrying a collision with a fresh key, which commits at
/// most once. A catch-all error arm that loops again is a retry of any failure
/// (a timeout after the commit included), which is not this.
pub(super) fn runs_until_success(m: &syn::ExprMatch) -> bool {
    let ok_leaves = m.arms.iter().any(|a| {
        matches!(&a.pat, syn::Pat::TupleStruct(t) if t.path.segments.last().is_some_and(|s| s.ident == "Ok"))
            && expr_returns(&a.body)
    });
    // (`Err(e) if is_unique_violation(&e)`: a guard that tests the error makes an arm
    // specific; `Err(e) if tries < 5` retries any error.)
    let catch_all = |arm: &syn::Arm| {
        let mut bound = Vec::new();
        super::hoisted::bound_names(&arm.pat, &mut bound);
        !arm.guard.as_ref().is_some_and(|(_, g)| super::hoisted::mentions(g, &bound))
            && match &arm.pat {
                syn::Pat::Wild(_) | syn::Pat::Ident(_) => true,
                syn::Pat::TupleStruct(t) => {
                    t.path.segments.last().is_some_and(|s| s.ident == "Err")
                        && t.elems.iter().all(|e| matches!(e, syn::Pat::Wild(_) | syn::Pat::Ident(_)))
                }
                _ => false,
            }
    };
    // A specific error arm that loops again (falls through, or `continue`s).
    let retries = |a: &&syn::Arm| !catch_all(a) && !expr_returns(&a.body);
    let specific_retry = m.arms.iter().any(|a| retries(&a));
    ok_leaves
        && specific_retry
        && !m.arms.iter().filter(retries).any(names_uncertain_outcome)
        && m.arms.iter().filter(|a| catch_all(a)).all(|a| expr_returns(&a.body))
}

/// Whether an arm's pattern or guard names a failure after which the INSERT may have
/// committed (`Err(sqlx::Error::Io(_))`, a timeout, a dropped connection): retrying
/// it inserts the row again, unlike a key collision retried with a fresh key.
fn names_uncertain_outcome(arm: &syn::Arm) -> bool {
    let mut tokens = arm.pat.to_token_stream();
    if let Some((_, guard)) = &arm.guard {
        tokens.extend(guard.to_token_stream());
    }
    let mut found = false;
    visit_idents(tokens, &mut |ident| {
        let name = ident.to_string().to_ascii_lowercase();
        found |= name == "io"
            || ["timeout", "timedout", "timed_out", "elapsed", "connection", "disconnect", "network", "transient", "unavailable"]
                .iter()
                .any(|w| name.contains(w));
    });
    found
}

fn visit_idents(tokens: proc_macro2::TokenStream, f: &mut impl FnMut(&proc_macro2::Ident)) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(i) => f(&i),
            proc_macro2::TokenTree::Group(g) => visit_idents(g.stream(), f),
            _ => {}
        }
    }
}

/// The associated constant an `if` tests, and the value that takes its first branch:
/// `Self::DEDUPLICATED` (true), `!Self::DEDUPLICATED` (false).
fn self_flag(cond: &syn::Expr) -> Option<(Box<str>, bool)> {
    match strip(cond) {
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => self_flag(&u.expr).map(|(n, w)| (n, !w)),
        syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 2 && p.path.segments[0].ident == "Self" => {
            Some((p.path.segments[1].ident.to_string().into_boxed_str(), true))
        }
        _ => None,
    }
}

/// Whether an expression always leaves the loop or the function: it is, or ends in,
/// `return`/`break` (also `continue` when `continues`), or every branch of its
/// `if`/`match` does. What a nested loop, closure or `async` block does is its own.
fn always_leaves(expr: &syn::Expr, continues: bool) -> bool {
    match strip(expr) {
        syn::Expr::Return(_) | syn::Expr::Break(_) => true,
        syn::Expr::Continue(_) => continues,
        syn::Expr::Block(b) => block_always_leaves(&b.block, continues),
        syn::Expr::If(i) => {
            block_always_leaves(&i.then_branch, continues)
                && i.else_branch.as_ref().is_some_and(|(_, x)| always_leaves(x, continues))
        }
        syn::Expr::Match(m) => !m.arms.is_empty() && m.arms.iter().all(|a| always_leaves(&a.body, continues)),
        syn::Expr::Macro(m) => diverges(&m.mac),
        _ => false,
    }
}

/// Whether a macro never returns to the code after it: anyhow's and eyre's `bail!`,
/// `panic!`, `unreachable!`, `todo!`, `unimplemented!`. (Other macros could be
/// anything.)
fn diverges(mac: &syn::Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| matches!(s.ident.to_string().as_str(), "bail" | "panic" | "unreachable" | "todo" | "unimplemented"))
}

/// Whether a block always leaves: one of its statements does.
fn block_always_leaves(block: &syn::Block, continues: bool) -> bool {
    block.stmts.iter().any(|stmt| match stmt {
        syn::Stmt::Expr(e, _) => always_leaves(e, continues),
        syn::Stmt::Macro(m) => diverges(&m.mac),
        _ => false,
    })
}

/// Whether a block only decides, by the state of the row it found, whether to leave:
/// nothing but `if <test of the row> { … return … }` (`if job.is_pending() { return
/// Ok(job.id) }`). A branch that also works on the row (`if row.stale { continue }
/// touch(row)`) and then goes on to insert is an update followed by an INSERT.
fn leaves_by_row(block: &syn::Block, row: &[String], continues: bool) -> bool {
    !block.stmts.is_empty()
        && block.stmts.iter().all(|stmt| match stmt {
            syn::Stmt::Expr(syn::Expr::If(i), _) => {
                super::hoisted::mentions(&i.cond, row) && block_always_leaves(&i.then_branch, continues)
            }
            _ => false,
        })
}

/// The local a loop condition tests for zero (`inserted == 0`, `0 == n`, `n < 1`).
pub(super) fn zero_count_tested(cond: &syn::Expr) -> Option<String> {
    let syn::Expr::Binary(b) = strip(cond) else { return None };
    let int = |e: &syn::Expr, v: u64| {
        matches!(strip(e), syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) if i.base10_parse::<u64>().ok() == Some(v))
    };
    let local = |e: &syn::Expr| match strip(e) {
        syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    };
    match b.op {
        syn::BinOp::Eq(_) if int(&b.right, 0) => local(&b.left),
        syn::BinOp::Eq(_) if int(&b.left, 0) => local(&b.right),
        syn::BinOp::Lt(_) if int(&b.right, 1) => local(&b.left),
        _ => None,
    }
}

/// Whether an arm always leaves the loop or the function (`return Err(e)`, `break`).
pub(super) fn expr_returns(expr: &syn::Expr) -> bool {
    always_leaves(expr, false)
}

/// Whether a branch always leaves the iteration, the loop or the function
/// (`continue`, `return`, `break`): a check that skips the rest guards the code after it.
pub(super) fn block_leaves(block: &syn::Block) -> bool {
    block_always_leaves(block, true)
}

/// [`block_leaves`] of an expression (a `match` arm, an `else` branch).
pub(super) fn expr_leaves(expr: &syn::Expr) -> bool {
    always_leaves(expr, true)
}

/// A pattern for a lookup that found nothing: `None`, `Err(..)`, `false`, `Ok(None)`.
fn missing_pattern(pat: &syn::Pat) -> bool {
    let word = |path: &syn::Path, w: &str| path.segments.last().is_some_and(|s| s.ident == w);
    match pat {
        syn::Pat::Ident(i) => i.ident == "None",
        syn::Pat::Path(p) => word(&p.path, "None"),
        syn::Pat::TupleStruct(t) => word(&t.path, "Err") || (word(&t.path, "Ok") && t.elems.iter().any(missing_pattern)),
        syn::Pat::Lit(l) => matches!(&l.lit, syn::Lit::Bool(b) if !b.value),
        _ => false,
    }
}

/// Whether a presence test is true when the lookup found something: `let
/// Some(_)`/`let Ok(_)`, `is_some()`, `exists(..)`, `count > 0`; false for `let
/// None`, `is_none()`, `is_empty()`, `is_err()`, `count == 0`, and negations flip it.
pub(super) fn found_when_true(cond: &syn::Expr) -> bool {
    match strip(cond) {
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => !found_when_true(&u.expr),
        // (`m.should_apply().await?`: the answer of the call awaited.)
        syn::Expr::Try(t) => found_when_true(&t.expr),
        syn::Expr::Await(a) => found_when_true(&a.base),
        syn::Expr::Let(l) => found_pattern(&l.pat),
        syn::Expr::MethodCall(m) => {
            let name = m.method.to_string();
            !matches!(name.as_str(), "is_none" | "is_empty" | "is_err") && !super::hoisted::asks_whether_missing(&name)
        }
        // `count == 0`, `count < 1`: nothing found; `0 < count` reads the other way.
        syn::Expr::Binary(b) if matches!(strip(&b.left), syn::Expr::Lit(_)) => {
            !matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ge(_) | syn::BinOp::Gt(_))
        }
        syn::Expr::Binary(b) => !matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Le(_) | syn::BinOp::Lt(_)),
        _ => true,
    }
}

/// A pattern that matches a lookup that found something: `Some(..)`, `Ok(..)`, `true`
/// (also inside a tuple).
pub(super) fn found_pattern(pat: &syn::Pat) -> bool {
    let word = |path: &syn::Path| path.segments.last().is_some_and(|s| s.ident == "Some" || s.ident == "Ok");
    match pat {
        // An outcome that says the row was there (`CreateOutcome::Exists(doc)`,
        // `Outcome::AlreadyExists`, `Upsert::Found { .. }`).
        syn::Pat::TupleStruct(t) if existence_variant(&t.path) => true,
        syn::Pat::Path(p) if existence_variant(&p.path) => true,
        syn::Pat::Struct(s) if existence_variant(&s.path) => true,
        // `Ok(None)` found nothing; `Ok(row)`, `Some(_)`, `Ok(Some(_))` found a row.
        syn::Pat::TupleStruct(t) => word(&t.path) && t.elems.iter().all(|e| !missing_pattern(e)),
        syn::Pat::Lit(l) => matches!(&l.lit, syn::Lit::Bool(b) if b.value),
        syn::Pat::Tuple(t) => t.elems.iter().any(found_pattern),
        syn::Pat::Or(o) => o.cases.iter().any(found_pattern),
        _ => false,
    }
}

/// Where a loop's iterator takes its items out of the state that holds them (the
/// name of the call): `pending.take()` on a field, `self.queue.drain(..)`,
/// `quote.take_changes()`, `std::mem::take(&mut self.events)` — each item is handed
/// out once, so a second run finds it gone.
pub(super) fn drained(header: &syn::Expr) -> Option<proc_macro2::Span> {
    let mut at = strip(header);
    loop {
        match at {
            syn::Expr::MethodCall(m) => {
                let name = m.method.to_string();
                let on_field = matches!(strip(&m.receiver), syn::Expr::Field(_));
                if (name == "take" && m.args.is_empty() && on_field)
                    || (name == "drain" && on_field)
                    || (name.starts_with("take_") && m.args.is_empty())
                    || name.starts_with("drain_")
                {
                    return Some(m.method.span());
                }
                at = strip(&m.receiver);
            }
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = strip(&c.func) else { return None };
                let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                let n = segments.len();
                let mem = n >= 2 && segments[n - 2] == "mem" && matches!(segments[n - 1].as_str(), "take" | "replace");
                return mem.then(|| p.path.segments[n - 1].ident.span());
            }
            syn::Expr::Try(t) => at = strip(&t.expr),
            syn::Expr::Await(a) => at = strip(&a.base),
            syn::Expr::Reference(r) => at = strip(&r.expr),
            _ => return None,
        }
    }
}

/// Whether a variant's name says the row was already there: `Exists`, `Existed`,
/// `AlreadyExists`, `Found`, `Duplicate` (not `NotFound`, `Missing`).
pub(super) fn existence_variant(path: &syn::Path) -> bool {
    path.segments.len() >= 2
        && path.segments.last().is_some_and(|s| {
            let name = s.ident.to_string();
            name.starts_with("Exist") || name.starts_with("AlreadyExist") || matches!(name.as_str(), "Found" | "Duplicate" | "AlreadyPresent")
        })
}

/// The positions a loop's iterator starts from: range starts (`&xs[n..]`, `n..len`)
/// and `.skip(n)` arguments in its header.
fn cursors(header: &syn::Expr) -> Vec<&syn::Expr> {
    struct Finder<'a>(Vec<&'a syn::Expr>);
    impl<'a> Visit<'a> for Finder<'a> {
        fn visit_expr_range(&mut self, r: &'a syn::ExprRange) {
            if let Some(start) = &r.start {
                self.0.push(start);
            }
            syn::visit::visit_expr_range(self, r);
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            if m.method == "skip"
                && let Some(n) = m.args.first()
            {
                self.0.push(n);
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut finder = Finder(Vec::new());
    finder.visit_expr(header);
    finder.0
}

impl Extractor<'_> {
    /// An `if` whose body runs once, guarded by a flag it sets: its code starts with a
    /// preflight.
    pub(super) fn visit_if_with_state_guard(&mut self, e: &syn::ExprIf) {
        let first = self.stack.last().map_or(0, |f| f.facts.preflights.len());
        self.visit_expr(&e.cond);
        // `if existing.is_none() { INSERT }`, `if let Some(row) = existing { continue; }`.
        // `if prev.owner == new_owner { return Ok(()) }` on the row looked up: the new
        // version is inserted only when it differs from the stored one.
        let same_as_stored = self.compares_existing_row(&e.cond) && block_leaves(&e.then_branch);
        // (A lookup by an id generated just before, `Uuid::new_v4()`, never finds a row.)
        let by_fresh_id = self.looks_up_fresh_id(&e.cond);
        if by_fresh_id && let Some(f) = self.stack.last_mut() {
            f.facts.preflights.truncate(first);
        }
        let presence = !by_fresh_id
            && (same_as_stored
            || self.tests_presence(&e.cond, e.else_branch.is_some())
            // `if let Some(ep) = &found { update(ep); continue; }` on what a `get…` returned.
            || (self.finds_fetched(&e.cond) && block_leaves(&e.then_branch))
            || matches!(&*e.cond, syn::Expr::Let(l) if super::hoisted::block_returns_found(&l.pat, &e.then_branch))
            || (e.else_branch.is_some()
                && matches!(&*e.cond, syn::Expr::Let(l) if super::hoisted::block_yields_found(&l.pat, &e.then_branch))));
        if presence {
            self.push_existence_check(self.lowerer.span_loc(e.if_token.span));
        }
        let flag = once_flag(&e.cond, &e.then_branch);
        if flag {
            let at = self.lowerer.span_loc(e.if_token.span);
            self.push_event(EventKind::Preflight { name: "once flag".into() }, at);
            self.mark_branch_check();
        }
        let before_then = self.event_count();
        if self.picks_one_item(&e.cond) {
            // `for p in pastas { if p.id == id { insert(p) } }`: a search, whose branch
            // runs for the one item with that id, not once per item.
            let l = self.stack.last_mut().and_then(|f| f.open_loops.pop());
            self.visit_block(&e.then_branch);
            if let (Some(l), Some(f)) = (l, self.stack.last_mut()) {
                f.open_loops.push(l);
            }
        } else {
            self.visit_block(&e.then_branch);
        }
        // `if let Some(label) = label { INSERT … }`: runs only when the parameter holds one.
        if let syn::Expr::Let(l) = &*e.cond
            && matches!(&*l.pat, syn::Pat::TupleStruct(t) if t.path.is_ident("Some"))
        {
            let gate = self.param_held(&l.expr);
            self.push_param_gate(gate, before_then);
        }
        // `if !stale.is_empty() { DELETE … WHERE id IN (…) }`: with nothing to delete
        // there is nothing to make room for, so the DELETE is as good as unconditional.
        let clears_what_exists = e.else_branch.is_none() && tests_non_empty(&e.cond) && self.deletes_since(before_then);
        if !clears_what_exists {
            self.push_branch(before_then);
        }
        let before_else = self.event_count();
        let before_else_guards = self.stack.last().map_or(0, |f| f.facts.preflights.len());
        // `if post { … } else if let Some(_) = exists(..) { return }`: the lookup of the
        // `else if` decides for itself whether what follows runs (its branches are
        // branches of their own), unless the first branch inserted already.
        let else_if = e.else_branch.as_ref().is_some_and(|(_, x)| matches!(&**x, syn::Expr::If(_)))
            && self.stack.last().is_some_and(|f| !f.facts.events[before_then as usize..].iter().any(|ev| ev.kind.is_insert()));
        if let Some((_, other)) = &e.else_branch {
            self.visit_expr(other);
            if !else_if {
                self.push_branch(before_else);
            }
        }
        if let Some((name, when)) = self_flag(&e.cond)
            && let Some(f) = self.stack.last_mut()
        {
            let end = f.facts.events.len() as u32;
            for (when, from, to) in [(when, before_then, before_else), (!when, before_else, end)] {
                if from < to {
                    f.facts.flag_branches.push(FlagBranch { name: name.clone(), when, from, to });
                }
            }
        }
        // The check guards the code after the `if` when the branch taken for a row
        // that exists leaves (`if found.is_some() { continue; }`); leaving when none
        // is found (`let Some(p) = … else { return }`-like) is error handling.
        let else_leaves = e.else_branch.as_ref().is_some_and(|(_, x)| expr_leaves(x));
        // (`if inserted == 0 { return }` after an `INSERT OR IGNORE`: none inserted
        // means the row existed.)
        let found_when_then = found_when_true(&e.cond) != self.mentions_absence_flag(&e.cond);
        // `if let Some(job) = latest_run(..).await { if job.is_pending() { return Ok(job.id) } }`:
        // the row found decides, by its state, whether the code goes on to insert.
        let row = match &*e.cond {
            syn::Expr::Let(l) if found_when_then => {
                let mut names = Vec::new();
                super::hoisted::bound_names(&l.pat, &mut names);
                names
            }
            _ => Vec::new(),
        };
        // (`if exists && primary { bail!(..) }` leaves for some rows that exist only.)
        let conjunction = matches!(strip(&e.cond), syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)));
        let found_leaves = same_as_stored
            || (presence
                && !conjunction
                && if found_when_then {
                    block_leaves(&e.then_branch) || leaves_by_row(&e.then_branch, &row, true)
                } else {
                    else_leaves
                });
        let flag_leaves = flag && (block_leaves(&e.then_branch) || else_leaves);
        if !(found_leaves || flag_leaves) {
            if else_if {
                self.end_guards_between(first, before_else_guards);
            } else {
                self.end_guards_from(first);
            }
            return;
        }
        // At the function's top level, returning when the row exists guards the rest of
        // the function, its loops included (a parent checked before its children).
        let found_returns = if found_when_then {
            block_always_leaves(&e.then_branch, false) || leaves_by_row(&e.then_branch, &row, false)
        } else {
            e.else_branch.as_ref().is_some_and(|(_, x)| expr_returns(x))
        };
        // Only before the function's first INSERT: a check after rows were inserted
        // (`if !invalid.is_empty() { return Err(..) }` between two loops of link rows)
        // is validation, since a rerun has duplicated those rows already.
        if presence && found_returns && self.stack.last().is_some_and(|f| f.innermost().is_none() && !f.inserted_yet()) {
            self.whole_fn_guards_from(first);
        }
    }

    /// Whether a condition looks a row up by an id generated just before (`if
    /// Entity::find_by_id(id).one(db).await?.is_some()` after `let id =
    /// Uuid::new_v4()`): an argument of one of its calls is such a local.
    fn looks_up_fresh_id(&self, cond: &syn::Expr) -> bool {
        struct Args<'s> {
            fresh: &'s [String],
            found: bool,
        }
        impl<'ast> Visit<'ast> for Args<'_> {
            fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
                self.found |= c.args.iter().any(|a| self.is_fresh(a));
                syn::visit::visit_expr_call(self, c);
            }
            fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
                self.found |= m.args.iter().any(|a| self.is_fresh(a));
                syn::visit::visit_expr_method_call(self, m);
            }
        }
        impl Args<'_> {
            fn is_fresh(&self, arg: &syn::Expr) -> bool {
                let arg = match strip(arg) {
                    syn::Expr::Reference(r) => strip(&r.expr),
                    syn::Expr::MethodCall(m) if m.args.is_empty() && matches!(m.method.to_string().as_str(), "clone" | "to_string" | "as_str") => strip(&m.receiver),
                    other => other,
                };
                matches!(arg, syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.fresh.iter().any(|f| i == f)))
            }
        }
        if self.fresh_ids.is_empty() {
            return false;
        }
        let mut args = Args { fresh: &self.fresh_ids, found: false };
        args.visit_expr(cond);
        args.found
    }

    /// Whether a condition compares the innermost loop's item by its id with a value
    /// the loop does not change (`p.id == id`, `item.uuid == req.uuid`, `*id == target`
    /// with `id` bound by the loop's pattern).
    fn picks_one_item(&self, cond: &syn::Expr) -> bool {
        let syn::Expr::Binary(b) = strip(cond) else { return false };
        if !matches!(b.op, syn::BinOp::Eq(_)) {
            return false;
        }
        let id_like = |n: &str| n == "id" || n == "uuid";
        let item_id = |e: &syn::Expr| match strip(e) {
            syn::Expr::Field(f) => matches!(&f.member, syn::Member::Named(n) if id_like(&n.to_string())) && self.on_loop_item(&f.base),
            // `for (id, name) in &rows { if *id == target { … } }`: the item's id, bound
            // by the loop's pattern.
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                matches!(strip(&u.expr), syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| id_like(&i.to_string())))
                    && self.on_loop_item(&u.expr)
            }
            syn::Expr::Path(p) => p.path.get_ident().is_some_and(|i| id_like(&i.to_string())) && self.on_loop_item(e),
            _ => false,
        };
        // A local, a parameter or another value's field: not a literal or a constant.
        let invariant = |e: &syn::Expr| match strip(e) {
            syn::Expr::Path(p) => p.path.get_ident().is_some_and(|i| i.to_string().starts_with(|c: char| c.is_lowercase())),
            syn::Expr::Field(f) => !self.on_loop_item(&f.base),
            _ => false,
        };
        (item_id(&b.left) && invariant(&b.right)) || (item_id(&b.right) && invariant(&b.left))
    }

    /// The guards recorded since preflight `first` protect the rest of the function.
    pub(super) fn whole_fn_guards_from(&mut self, first: usize) {
        let Some(f) = self.stack.last_mut() else { return };
        // (Only the checks of this branch: a named helper inside it stays positional.)
        for p in f.facts.preflights.iter_mut().skip(first).filter(|p| p.branch) {
            p.whole_fn = true;
        }
    }

    /// The guards recorded since preflight `first` protect only what was visited
    /// since: a check whose branches all rejoin the code after it (get or create,
    /// then insert a link row) does not guard that code.
    pub(super) fn end_guards_from(&mut self, first: usize) {
        self.end_guards_between(first, usize::MAX);
    }

    /// [`Self::end_guards_from`] for the guards recorded from `first` up to `last`.
    fn end_guards_between(&mut self, first: usize, last: usize) {
        let Some(f) = self.stack.last_mut() else { return };
        let end = f.facts.events.len() as u32;
        let count = last.saturating_sub(first);
        for p in f.facts.preflights.iter_mut().skip(first).take(count).filter(|p| p.branch) {
            p.end = p.end.min(end);
        }
    }

    /// Where a `for` loop's iterator starts from a cursor the loop advances, or from
    /// rows read before it (a version: `.skip(version)` after `SELECT max(id) …`).
    pub(super) fn loop_cursor(&self, header: &syn::Expr, body: &syn::Block) -> Option<Loc> {
        let cursor = cursors(header).into_iter().find(|start| {
            let advanced = match strip(start) {
                syn::Expr::Path(_) | syn::Expr::Field(_) => assigns(body, &text(start), |_| true),
                _ => false,
            };
            advanced || self.mentions_existing(start)
        })?;
        Some(self.lowerer.span_loc(syn::spanned::Spanned::span(cursor)))
    }
}

/// Whether an expression generates a new id (`Uuid::new_v4()`, `Uuid::now_v7()`,
/// `Ulid::new()`, also `.to_string()` of one).
pub(super) fn generates_id(expr: &syn::Expr) -> bool {
    const GENERATORS: &[&str] = &["new_v4", "new_v7", "now_v7", "now_v6", "new_v6", "new_random"];
    match strip(expr) {
        syn::Expr::MethodCall(m) if m.args.is_empty() && matches!(m.method.to_string().as_str(), "to_string" | "into" | "simple" | "hyphenated") => {
            generates_id(&m.receiver)
        }
        syn::Expr::Call(c) if c.args.is_empty() => match &*c.func {
            syn::Expr::Path(p) => {
                let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                let last = segments.last().map(String::as_str).unwrap_or_default();
                GENERATORS.contains(&last)
                    || (segments.len() >= 2 && segments[segments.len() - 2] == "Ulid" && matches!(last, "new" | "generate"))
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether a condition holds when a collection has something in it: `!x.is_empty()`,
/// `x.len() > 0`.
fn tests_non_empty(cond: &syn::Expr) -> bool {
    match cond {
        syn::Expr::Paren(p) => tests_non_empty(&p.expr),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            matches!(&*u.expr, syn::Expr::MethodCall(m) if m.method == "is_empty" && m.args.is_empty())
        }
        syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::Gt(_)) => {
            matches!(&*b.left, syn::Expr::MethodCall(m) if m.method == "len" && m.args.is_empty())
                && matches!(&*b.right, syn::Expr::Lit(l) if matches!(&l.lit, syn::Lit::Int(i) if i.base10_digits() == "0"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::tests_non_empty;

    #[test]
    fn a_condition_that_holds_when_something_is_there() {
        for yes in ["!stale.is_empty()", "(!self.gap_deletes.is_empty())", "ids.len() > 0"] {
            assert!(tests_non_empty(&syn::parse_str(yes).unwrap()), "{yes}");
        }
        for no in ["stale.is_empty()", "reset", "ids.len() > 1", "!exists(&id)"] {
            assert!(!tests_non_empty(&syn::parse_str(no).unwrap()), "{no}");
        }
    }
}
