//! sqlx's `QueryBuilder`: a statement written piece by piece. The text given to
//! `new` and the literal pieces pushed on the same builder, in order, are the
//! statement, with what sqlx writes for the rest: a placeholder for `push_bind`, a
//! `VALUES` list for `push_values`, a tuple list for `push_tuples`. A builder is
//! read only when every piece is known: started by a `let` (or in one chain of calls
//! on `QueryBuilder::new`), changed by plain statements of the same block, and used
//! otherwise only to build the query. A piece that is not a literal, a push made
//! under a condition or in a loop, a builder passed to another function or
//! returned: the text is not all there, and it is only a template.

use syn::visit::Visit;

/// A piece of a builder's text.
pub(super) enum Piece<'a> {
    /// A literal written in the code.
    Literal(&'a syn::LitStr),
    /// What sqlx writes itself, at the call that writes it.
    Made(String, proc_macro2::Span),
}

/// A builder's text as far as it is known.
pub(super) struct Built<'a> {
    pub pieces: Vec<Piece<'a>>,
    /// Every literal the builder was given (its pieces, or what is known of them).
    pub literals: Vec<&'a syn::LitStr>,
    /// A piece is not known: the text is a template.
    pub dynamic: bool,
}

/// [`Built`] while it is read, with the number of placeholders so far.
struct Reading<'a> {
    built: Built<'a>,
    binds: u32,
    /// `build()` (or `sql()`) was called: later pushes start another text.
    ended: bool,
}

impl<'a> Reading<'a> {
    fn new(first: &'a syn::LitStr) -> Self {
        let built = Built { pieces: vec![Piece::Literal(first)], literals: vec![first], dynamic: false };
        Reading { built, binds: 0, ended: false }
    }

    fn placeholder(&mut self) -> String {
        self.binds += 1;
        // sqlx's Postgres placeholder; the schema rules read the other dialects'
        // statements with it all the same.
        format!("${}", self.binds)
    }

    /// The method calls of one chain on the builder, in order: those after the
    /// one that builds act on the query built.
    fn chain(&mut self, calls: &[&'a syn::ExprMethodCall]) {
        // Used again after building (`reset()`, more pushes): two statements in one.
        if self.ended && calls.first().is_some_and(|c| !is_build(&c.method.to_string())) {
            self.built.dynamic = true;
        }
        let mut building = !self.ended;
        for &call in calls {
            if building {
                self.step(call);
                building = !is_build(&call.method.to_string());
            }
        }
    }

    /// One method called on the builder.
    fn step(&mut self, call: &'a syn::ExprMethodCall) {
        let name = call.method.to_string();
        let span = call.method.span();
        match name.as_str() {
            "push" => match call.args.first() {
                Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) if call.args.len() == 1 => {
                    self.built.pieces.push(Piece::Literal(s));
                    self.built.literals.push(s);
                }
                _ => self.built.dynamic = true,
            },
            "push_bind" => {
                let made = self.placeholder();
                self.built.pieces.push(Piece::Made(made, span));
            }
            // sqlx writes `VALUES ` and a tuple per row.
            "push_values" => {
                let made = format!("VALUES ({})", self.placeholder());
                self.built.pieces.push(Piece::Made(made, span));
            }
            // ` (` then the tuples, then `) `.
            "push_tuples" => {
                let made = format!(" (({})) ", self.placeholder());
                self.built.pieces.push(Piece::Made(made, span));
            }
            name if is_build(name) => self.ended = true,
            // `separated`, `reset`, anything else: not known here.
            _ => self.built.dynamic = true,
        }
    }
}

/// Whether a builder method makes the query (or its text): the builder's text is
/// complete there.
fn is_build(method: &str) -> bool {
    matches!(method, "build" | "build_query_as" | "build_query_scalar" | "sql" | "into_sql" | "into_string")
}

/// The string literal `QueryBuilder::new("…")` (or `with_arguments`) starts with,
/// with or without a path or turbofish.
pub(super) fn started_with(expr: &syn::Expr) -> Option<&syn::LitStr> {
    match strip(expr) {
        syn::Expr::Call(call) => started_by(call),
        _ => None,
    }
}

/// [`started_with`] of a call.
pub(super) fn started_by(call: &syn::ExprCall) -> Option<&syn::LitStr> {
    let syn::Expr::Path(path) = &*call.func else { return None };
    let segments: Vec<&syn::PathSegment> = path.path.segments.iter().collect();
    let [.., ty, method] = segments[..] else { return None };
    if ty.ident != "QueryBuilder" || !(method.ident == "new" || method.ident == "with_arguments") {
        return None;
    }
    match call.args.first().map(strip) {
        Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) => Some(s),
        _ => None,
    }
}

fn strip(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        other => other,
    }
}

/// The method calls of a chain, innermost first, and what they are called on. A
/// visitor reads a chain whole from its outermost call (and visits the calls'
/// arguments and the root itself), so a long chain is walked once.
pub(super) fn chain(call: &syn::ExprMethodCall) -> (&syn::Expr, Vec<&syn::ExprMethodCall>) {
    let mut calls = vec![call];
    let mut receiver = &*call.receiver;
    while let syn::Expr::MethodCall(inner) = strip(receiver) {
        calls.push(inner);
        receiver = &*inner.receiver;
    }
    calls.reverse();
    (strip(receiver), calls)
}

/// A chain of calls on `QueryBuilder::new("…")` in one expression
/// (`QueryBuilder::new("INSERT …").push_values(…).build()`): its root and calls, as
/// [`chain`] gives them.
pub(super) fn chained<'a>(root: &'a syn::Expr, calls: &[&'a syn::ExprMethodCall]) -> Option<Built<'a>> {
    let first = started_with(root)?;
    let mut reading = Reading::new(first);
    reading.chain(calls);
    // What a chain that does not build leaves (a builder handed on) is not known.
    reading.built.dynamic |= !reading.ended;
    Some(reading.built)
}

/// The builders a block's `let` statements start (`let mut qb = QueryBuilder::new(…)`),
/// each read through the statements after it.
pub(super) fn let_builders(stmts: &[syn::Stmt]) -> Vec<Built<'_>> {
    let mut out = Vec::new();
    for (i, stmt) in stmts.iter().enumerate() {
        let syn::Stmt::Local(local) = stmt else { continue };
        let Some(first) = local.init.as_ref().and_then(|init| started_with(&init.expr)) else { continue };
        let Some(name) = bound_name(&local.pat) else { continue };
        let mut reading = Reading::new(first);
        for later in &stmts[i + 1..] {
            let mut uses = Uses { name, reading: &mut reading, depth: 0 };
            uses.visit_stmt(later);
            // `let qb = …` again: another binding from here on.
            if matches!(later, syn::Stmt::Local(l) if bound_name(&l.pat) == Some(name)) {
                break;
            }
        }
        out.push(reading.built);
    }
    out
}

/// The name a `let` binds, when it binds one name (`mut qb`, `qb: QueryBuilder<_>`).
fn bound_name(pat: &syn::Pat) -> Option<&syn::Ident> {
    match pat {
        syn::Pat::Ident(p) if p.subpat.is_none() => Some(&p.ident),
        syn::Pat::Type(t) => bound_name(&t.pat),
        _ => None,
    }
}

/// The uses of a builder in one statement: method chains on it are read in order;
/// any other mention of it, or a push made under a condition, in a loop or in a
/// closure, makes its text unknown.
struct Uses<'r, 'a> {
    name: &'a syn::Ident,
    reading: &'r mut Reading<'a>,
    /// Inside a condition, loop, closure or block of the statement.
    depth: u32,
}

impl<'a> Visit<'a> for Uses<'_, 'a> {
    fn visit_expr_method_call(&mut self, call: &'a syn::ExprMethodCall) {
        let (root, calls) = chain(call);
        let on_builder = matches!(root, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name));
        if on_builder {
            let before = (self.reading.built.pieces.len(), self.reading.built.dynamic);
            self.reading.chain(&calls);
            if self.depth > 0 && (self.reading.built.pieces.len(), self.reading.built.dynamic) != before {
                self.reading.built.dynamic = true;
            }
        } else {
            self.visit_expr(root);
        }
        for call in calls {
            for arg in &call.args {
                self.visit_expr(arg);
            }
        }
    }
    fn visit_expr_path(&mut self, path: &'a syn::ExprPath) {
        if path.path.is_ident(self.name) {
            self.reading.built.dynamic = true;
        }
    }
    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        let mentions = mac.tokens.clone().into_iter().any(|t| mentions(&t, self.name));
        if mentions {
            self.reading.built.dynamic = true;
        }
    }
    fn visit_expr(&mut self, expr: &'a syn::Expr) {
        use syn::Expr as E;
        let nests = matches!(
            expr,
            E::If(_)
                | E::Match(_)
                | E::ForLoop(_)
                | E::While(_)
                | E::Loop(_)
                | E::Closure(_)
                | E::Block(_)
                | E::Async(_)
        );
        self.depth += u32::from(nests);
        syn::visit::visit_expr(self, expr);
        self.depth -= u32::from(nests);
    }
    // An item inside the block has its own names.
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

fn mentions(token: &proc_macro2::TokenTree, name: &syn::Ident) -> bool {
    match token {
        proc_macro2::TokenTree::Ident(i) => i == name,
        proc_macro2::TokenTree::Group(g) => g.stream().into_iter().any(|t| mentions(&t, name)),
        _ => false,
    }
}
