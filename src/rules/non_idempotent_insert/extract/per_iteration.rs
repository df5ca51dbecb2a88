//! Calls whose target changes with each iteration of the loop around them, so that
//! the loop does not repeat them on one store: a call on an item of a literal list
//! of distinct values (`for a in [&alice, &bob] { a.set_config(..) }`: the loop is
//! the two calls written out), and a call on a fixture the iteration builds for
//! itself (`let db = test_db().await; create(&db, ..)`, `let t = tcm.alice().await;
//! t.send(..)`), which in test code is a store of its own each time.

use super::{Extractor, FnBuilder, strip};

impl Extractor<'_> {
    /// After a `let`: the local is a fixture of the innermost loop when the iteration
    /// builds it from nothing — a path call with no arguments (`test_db()`,
    /// `TestContext::new_alice()`, `Connection::open_in_memory()`), or a method of
    /// another such fixture (`tcm.alice()`); a later `let` of the name is not.
    pub(super) fn note_fixture(&mut self, local: &syn::Local) {
        let Some(ident) = crate::facts::lower::pat_ident(&local.pat) else { return };
        let Some(l) = self.stack.last().and_then(FnBuilder::innermost) else { return };
        let name = ident.to_string();
        self.fixtures.retain(|(n, _)| *n != name);
        if let Some(init) = &local.init
            && self.builds_fixture(&init.expr, l)
        {
            self.fixtures.push((name, l));
        }
    }

    fn builds_fixture(&self, expr: &syn::Expr, l: u32) -> bool {
        match peel(expr) {
            syn::Expr::Call(c) => c.args.is_empty() && matches!(strip(&c.func), syn::Expr::Path(_)),
            syn::Expr::MethodCall(m) => root(&m.receiver).is_some_and(|r| self.is_fixture(&r.to_string(), l)),
            _ => false,
        }
    }

    fn is_fixture(&self, name: &str, l: u32) -> bool {
        self.fixtures.iter().any(|(n, at)| n == name && *at == l)
    }

    /// After a call is read (its events are `from..`): a method called on an item of a
    /// literal list of distinct values is taken out of that loop (a path call given
    /// the item is not: `create(u)` for each of `[&alice, &bob]` inserts rows, one
    /// each); a call on a fixture of its loop (a method's receiver, a path call's
    /// first argument) is noted, for test code ([`super::FnInsertFacts::fixture_calls`]).
    pub(super) fn per_iteration_call(&mut self, target: Option<&syn::Expr>, receiver: bool, from: u32) {
        let Some(name) = target.and_then(root).map(|r| r.to_string()) else { return };
        let Some(f) = self.stack.last() else { return };
        let Some(l) = f.innermost() else { return };
        let to = f.facts.events.len() as u32;
        if to == from {
            return;
        }
        let item = self.loop_items.iter().rev().any(|(item, at)| *item == name && *at as u32 == l);
        if item && receiver && self.distinct_item_loops.contains(&l) {
            let f = self.stack.last_mut().expect("checked above");
            let parent = f.facts.loops[l as usize].parent;
            for e in &mut f.facts.events[from as usize..] {
                if e.innermost == Some(l) {
                    e.innermost = parent;
                }
            }
        } else if self.is_fixture(&name, l) {
            let f = self.stack.last_mut().expect("checked above");
            f.facts.fixture_calls.push((l, from, to));
        }
    }
}

/// A `for` loop's iterable that is a literal list of two or more distinct locals:
/// `[&alice0, &alice1]`, `&[a, b]`, `vec![a, b]`, `[a, b].iter()`.
pub(super) fn distinct_locals(expr: &syn::Expr) -> bool {
    let expr = match strip(expr) {
        syn::Expr::MethodCall(m) if m.args.is_empty() && (m.method == "iter" || m.method == "into_iter") => strip(&m.receiver),
        other => other,
    };
    let items: Vec<syn::Expr> = match expr {
        syn::Expr::Array(a) => a.elems.iter().cloned().collect(),
        syn::Expr::Macro(m) if m.mac.path.is_ident("vec") => m
            .mac
            .parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            .map(|items| items.into_iter().collect())
            .unwrap_or_default(),
        _ => return false,
    };
    let mut names = Vec::new();
    for item in &items {
        match strip(item) {
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident().map(ToString::to_string).unwrap_or_default();
                if names.contains(&name) {
                    return false;
                }
                names.push(name);
            }
            _ => return false,
        }
    }
    names.len() >= 2
}

/// The local a chain of fields and method calls starts from (`t` in
/// `&t.ctx.sql.execute(..)`).
fn root(expr: &syn::Expr) -> Option<&syn::Ident> {
    match peel(expr) {
        syn::Expr::Path(p) => p.path.get_ident(),
        syn::Expr::Field(f) => root(&f.base),
        syn::Expr::MethodCall(m) => root(&m.receiver),
        syn::Expr::Index(x) => root(&x.expr),
        syn::Expr::Unary(u) => root(&u.expr),
        _ => None,
    }
}

/// An expression without what does not change the value it names: parentheses,
/// references, `.await`, `?`, `.unwrap()`, `.expect(..)`.
fn peel(expr: &syn::Expr) -> &syn::Expr {
    match strip(expr) {
        syn::Expr::Await(a) => peel(&a.base),
        syn::Expr::Try(t) => peel(&t.expr),
        syn::Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => peel(&m.receiver),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::distinct_locals;

    #[test]
    fn a_literal_list_of_two_or_more_distinct_locals() {
        for yes in ["[&alice0, &alice1]", "&[a, b]", "vec![a, b, c]", "[primary, replica].iter()"] {
            assert!(distinct_locals(&syn::parse_str(yes).unwrap()), "{yes}");
        }
        for no in ["[a]", "[a, a]", "[a.b, c]", "items", "[1, 2]", "[(a, b), (b, a)]"] {
            assert!(!distinct_locals(&syn::parse_str(no).unwrap()), "{no}");
        }
    }
}
