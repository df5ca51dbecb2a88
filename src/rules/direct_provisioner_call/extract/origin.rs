//! Where backend values come from: a backend field of any receiver, a binding in
//! scope, through wrappers and pass-through methods (`as_ref()`, `clone()`, `?`,
//! `ok_or(…)`), blocks and branches; and the bindings patterns make (`Some(p)`,
//! tuples, struct fields), which hold a backend or shadow one.

use super::types::quote_type;
use super::{Extractor, FieldOwner, Origin, strip, strip_refs};

/// Methods that hand the backend on (`state.cp_prov.clone().ok_or(Error)?`).
pub(super) const PASS_THROUGH: &[&str] = &[
    "ok_or",
    "ok_or_else",
    "filter",
    "unwrap_or_else",
    "unwrap_or",
    "or",
    "or_else",
    "context",
    "with_context",
    "cloned",
    "copied",
    "into",
];

/// `|x| x as Arc<dyn Provisioner>` (or `|x| x`): the closure hands its argument on.
fn upcasts_its_argument(c: &syn::ExprClosure) -> bool {
    let [syn::Pat::Ident(arg)] = c.inputs.iter().collect::<Vec<_>>()[..] else { return false };
    let mut body = &*c.body;
    while let syn::Expr::Cast(cast) = body {
        body = &cast.expr;
    }
    matches!(strip(body), syn::Expr::Path(p) if p.path.is_ident(&arg.ident))
}

/// The tail expression of a block.
pub(super) fn block_tail(block: &syn::Block) -> Option<&syn::Expr> {
    match block.stmts.last() {
        Some(syn::Stmt::Expr(e, None)) => Some(e),
        _ => None,
    }
}

/// Every name a pattern binds.
fn all_names(pat: &syn::Pat) -> Vec<syn::Ident> {
    match pat {
        syn::Pat::Ident(i) => {
            let mut v = vec![i.ident.clone()];
            if let Some((_, sub)) = &i.subpat {
                v.extend(all_names(sub));
            }
            v
        }
        syn::Pat::Type(t) => all_names(&t.pat),
        syn::Pat::Reference(r) => all_names(&r.pat),
        syn::Pat::Paren(p) => all_names(&p.pat),
        syn::Pat::Tuple(t) => t.elems.iter().flat_map(all_names).collect(),
        syn::Pat::TupleStruct(t) => t.elems.iter().flat_map(all_names).collect(),
        syn::Pat::Slice(s) => s.elems.iter().flat_map(all_names).collect(),
        syn::Pat::Struct(s) => s.fields.iter().flat_map(|f| all_names(&f.pat)).collect(),
        syn::Pat::Or(o) => o.cases.first().map(all_names).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Methods that copy or borrow an `Option` as a whole: a binding of what they give
/// is the field itself (`let p = state.provisioner.clone()`).
const COPIES: &[&str] = &["clone", "as_ref", "as_deref", "as_mut", "borrow", "to_owned", "cloned"];

/// Types whose `new` wraps its argument: `Arc::new(DockerProvisioner::new())` is a backend.
const WRAPPING: &[&str] = &["Arc", "Rc", "Box", "Mutex", "RwLock", "RefCell", "Cell"];

/// A bare name a pattern binds the whole value to: `p`, `mut p`, `p: T`.
pub(super) fn plain_ident(pat: &syn::Pat) -> Option<&syn::Ident> {
    match pat {
        syn::Pat::Ident(i) if i.subpat.is_none() && i.ident != "None" => Some(&i.ident),
        syn::Pat::Type(t) => plain_ident(&t.pat),
        _ => None,
    }
}

/// Methods that borrow or copy a value: the value is named without them in messages.
const BORROWS: &[&str] = &["clone", "as_ref", "as_deref", "borrow", "lock", "read", "write", "unwrap", "deref", "to_owned"];

/// `self.cp_prov` → "self.cp_prov"; other bases by their last identifier.
fn render_base(expr: &syn::Expr) -> String {
    match strip(expr) {
        syn::Expr::Path(p) => p.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::"),
        syn::Expr::Field(f) => match &f.member {
            syn::Member::Named(i) => format!("{}.{i}", render_base(&f.base)),
            syn::Member::Unnamed(i) => format!("{}.{}", render_base(&f.base), i.index),
        },
        // `state.clone().provisioner` is `state.provisioner`.
        syn::Expr::MethodCall(m) if m.args.is_empty() && BORROWS.contains(&m.method.to_string().as_str()) => {
            render_base(&m.receiver)
        }
        syn::Expr::MethodCall(m) => format!("{}.{}()", render_base(&m.receiver), m.method),
        _ => "…".to_string(),
    }
}

impl Extractor<'_> {
    /// The backend a value is, through wrappers (`as_ref()`, `unwrap()`, `?`, `&`,
    /// `Arc::clone(&…)`): a backend field of any receiver, or a backend binding.
    pub(super) fn origin(&self, expr: &syn::Expr) -> Option<Origin> {
        match strip(expr) {
            syn::Expr::Field(f) => {
                let syn::Member::Named(ident) = &f.member else { return None };
                let name = ident.to_string();
                let source = format!("{}.{name}", render_base(&f.base));
                (self.fields.contains(&name) || self.params.names_typed_field(&name)).then(|| Origin {
                    loc: self.loc(ident.span()),
                    what: format!("`{source}` is a provisioner backend field"),
                    is_field: true,
                    source,
                    param: None,
                    owner: Some(FieldOwner::of_field(self.field_base(&f.base), name.clone())),
                })
            }
            syn::Expr::Path(p) => match p.path.get_ident() {
                Some(ident) if self.scope.iter().any(|(n, _)| ident == n) => {
                    self.scope.iter().rev().find(|(n, _)| ident == n).and_then(|(_, o)| o.clone())
                }
                _ => self.unit_backend(p),
            },
            // `cp as Arc<dyn Provisioner>`: the upcast that lets two backend types meet.
            syn::Expr::Cast(c) => self.origin(&c.expr),
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                // `map(Arc::clone)` keeps the backend, and so does a closure that only
                // upcasts it (`map(|cp| cp as Arc<dyn Provisioner>)`); other maps make
                // something else.
                let clones = method == "map"
                    && match m.args.first() {
                        Some(syn::Expr::Path(p)) => p.path.segments.last().is_some_and(|s| s.ident == "clone"),
                        Some(syn::Expr::Closure(c)) => upcasts_its_argument(c),
                        _ => false,
                    };
                if self.params.wrapper_methods.contains(&method) || PASS_THROUGH.contains(&method.as_str()) || clones {
                    self.origin(&m.receiver)
                } else if method == "build" {
                    self.built_by_builder(m)
                } else if let Some((name, returned)) = self.backend_methods.iter().find(|(n, _)| *n == method) {
                    // `state.docker_backend()`: a method of this file whose value is a backend.
                    let loc = self.loc(m.method.span());
                    let what = format!("`{name}()` returns `{}`, a provisioner backend", returned.source);
                    let source = format!("{}.{name}()", render_base(&m.receiver));
                    Some(Origin { loc, what, is_field: false, param: None, source, ..returned.clone() })
                } else if m.args.is_empty() && self.params.names_accessor(&method) {
                    // `state.docker()`: a method of another file, a backend where the
                    // method of the receiver's type returns one (decided crate-wide).
                    let source = format!("{}.{method}()", render_base(&m.receiver));
                    Some(Origin {
                        loc: self.loc(m.method.span()),
                        what: format!("`{source}` returns a provisioner backend"),
                        is_field: true,
                        source,
                        param: None,
                        owner: Some(FieldOwner {
                            base: self.field_base(&m.receiver),
                            field: method,
                            accessor: true,
                            function: None,
                        }),
                    })
                } else {
                    None
                }
            }
            // `if saas { self.cp_prov.clone() } else { None }`, blocks and matches.
            syn::Expr::If(i) => block_tail(&i.then_branch)
                .and_then(|e| self.origin(e))
                .or_else(|| i.else_branch.as_ref().and_then(|(_, e)| self.origin(e))),
            syn::Expr::Block(b) => block_tail(&b.block).and_then(|e| self.origin(e)),
            // (An arm may return what its pattern bound: `(Some(cp), _) => cp.clone()`
            // on `match (&self.cp_prov, &self.provisioner)`.)
            syn::Expr::Match(m) => m
                .arms
                .iter()
                .find_map(|a| self.origin(&a.body).or_else(|| self.bound_by_arm(&m.expr, &a.pat, &a.body))),
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else { return None };
                let segs = &p.path.segments;
                let last = segs.last()?.ident.to_string();
                // `Arc::new(DockerProvisioner::new())`, `Some(…)`, `Ok(…)`, `Arc::clone(&…)`.
                let wraps = last == "new"
                    && segs.len() >= 2
                    && p.qself.is_none()
                    && WRAPPING.iter().any(|w| segs[segs.len() - 2].ident == w);
                if last == "clone" || last == "Some" || last == "Ok" || wraps {
                    c.args.first().and_then(|a| self.origin(a))
                } else if let Some((name, returned)) =
                    self.backend_fns.iter().find(|(n, _)| segs.len() == 1 && p.qself.is_none() && segs[0].ident == n)
                {
                    // `backend_for(state)`: a function of this file whose value is a backend.
                    let loc = self.loc(segs[0].ident.span());
                    let what = format!("`{name}(..)` returns `{}`, a provisioner backend", returned.source);
                    Some(Origin { loc, what, is_field: false, param: None, ..returned.clone() })
                } else if let Some(built) = self.built(c) {
                    Some(built)
                } else if p.qself.is_none() && self.params.names_accessor(&last) && !last.starts_with("new") {
                    // `pick_backend(&state)`: a function of another file, a backend where
                    // it returns one (decided crate-wide).
                    let path: Vec<String> = segs.iter().map(|s| s.ident.to_string()).collect();
                    let source = format!("{}(..)", path.join("::"));
                    Some(Origin {
                        loc: self.loc(segs.last()?.ident.span()),
                        what: format!("`{source}` returns a provisioner backend"),
                        is_field: true,
                        source,
                        param: None,
                        owner: Some(FieldOwner {
                            base: super::Receiver::Unknown,
                            field: last,
                            accessor: true,
                            function: Some(path),
                        }),
                    })
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The file's free functions whose value (their body's tail) is a backend value.
    pub(super) fn fns_returning_backends(&self, items: &[syn::Item]) -> Vec<(String, Origin)> {
        items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Fn(f) => {
                    let tail = block_tail(&f.block)?;
                    self.backend_origin(tail).map(|o| (f.sig.ident.to_string(), o))
                }
                _ => None,
            })
            .collect()
    }

    /// The file's methods (of an inherent or a trait impl) whose value, the tail of
    /// their body, is a backend: `fn docker_backend(&self) -> Option<&Arc<dyn
    /// Provisioner>> { self.provisioner.as_ref() }`.
    pub(super) fn methods_returning_backends(&self, items: &[syn::Item]) -> Vec<(String, Origin)> {
        let mut out = Vec::new();
        for item in items {
            let syn::Item::Impl(i) = item else { continue };
            for it in &i.items {
                if let syn::ImplItem::Fn(f) = it
                    && f.sig.receiver().is_some()
                    && let Some(tail) = block_tail(&f.block)
                    && let Some(o) = self.backend_origin(tail)
                {
                    out.push((f.sig.ident.to_string(), o));
                }
            }
        }
        out
    }

    /// The backend an arm's body returns when it is (a copy of) a name the arm's
    /// pattern binds to a backend part of the scrutinee.
    fn bound_by_arm(&self, scrutinee: &syn::Expr, pat: &syn::Pat, body: &syn::Expr) -> Option<Origin> {
        let mut at = strip(body);
        loop {
            match at {
                syn::Expr::MethodCall(m) if self.params.wrapper_methods.contains(&m.method.to_string()) => {
                    at = strip(&m.receiver);
                }
                // `Arc::clone(&cp)`, `Some(cp)`.
                syn::Expr::Call(c)
                    if c.args.len() == 1
                        && matches!(strip(&c.func), syn::Expr::Path(f) if f.path.segments.last().is_some_and(|s| matches!(s.ident.to_string().as_str(), "clone" | "Some" | "Ok"))) =>
                {
                    at = strip(&c.args[0])
                }
                _ => break,
            }
        }
        let syn::Expr::Path(p) = at else { return None };
        let name = p.path.get_ident()?.to_string();
        self.part_bound(scrutinee, pat, &name)
    }

    /// The backend the part of `value` that `pat` binds to `name` is.
    fn part_bound(&self, value: &syn::Expr, pat: &syn::Pat, name: &str) -> Option<Origin> {
        match pat {
            syn::Pat::Ident(i) if i.ident == name => self.origin(value),
            syn::Pat::Ident(i) => i.subpat.as_ref().and_then(|(_, p)| self.part_bound(value, p, name)),
            syn::Pat::Reference(r) => self.part_bound(value, &r.pat, name),
            syn::Pat::TupleStruct(t) if t.elems.len() == 1 => self.part_bound(value, &t.elems[0], name),
            syn::Pat::Tuple(t) => match strip(value) {
                syn::Expr::Tuple(v) if v.elems.len() == t.elems.len() => {
                    t.elems.iter().zip(&v.elems).find_map(|(p, e)| self.part_bound(e, p, name))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// A unit struct's value of a backend type (`CpProvisioner`,
    /// `provisioner::CpProvisioner`): a backend built on the spot.
    pub(super) fn unit_backend(&self, p: &syn::ExprPath) -> Option<Origin> {
        let segs = &p.path.segments;
        let last = segs.last()?;
        let lower = |s: &syn::PathSegment| s.ident.to_string().starts_with(|c: char| c.is_ascii_lowercase());
        let module_path = segs.iter().rev().skip(1).all(lower);
        if p.qself.is_some() || !module_path || !self.types.contains(&last.ident.to_string()) {
            return None;
        }
        let source = last.ident.to_string();
        let what = format!("`{source}` builds a backend here");
        Some(Origin { loc: self.loc(last.ident.span()), what, is_field: false, source, param: None, owner: None })
    }

    /// A backend a call builds on the spot: `DockerProvisioner::new(cfg)` (any of
    /// `constructors` but a builder's), `<DockerProvisioner as Default>::default()`.
    fn built(&self, c: &syn::ExprCall) -> Option<Origin> {
        let syn::Expr::Path(p) = &*c.func else { return None };
        let segs = &p.path.segments;
        let method = segs.last()?.ident.to_string();
        if !self.params.constructors.contains(&method) || method.contains("builder") {
            return None;
        }
        let (ty, span) = match &p.qself {
            Some(q) if self.type_is_backend(&q.ty) => (quote_type(&q.ty), segs.last()?.ident.span()),
            Some(_) => return None,
            None if segs.len() >= 2 && self.types.contains(&segs[segs.len() - 2].ident.to_string()) => {
                let ty = &segs[segs.len() - 2].ident;
                (ty.to_string(), ty.span())
            }
            None => return None,
        };
        let args = if c.args.is_empty() { "()" } else { "(…)" };
        let source = format!("{ty}::{method}{args}");
        let what = format!("`{source}` builds a backend here");
        Some(Origin { loc: self.loc(span), what, is_field: false, source, param: None, owner: None })
    }

    /// `DockerProvisioner::builder().socket(…).build()`: what a backend's builder builds.
    fn built_by_builder(&self, build: &syn::ExprMethodCall) -> Option<Origin> {
        let mut receiver = strip(&build.receiver);
        while let syn::Expr::MethodCall(m) = receiver {
            receiver = strip(&m.receiver);
        }
        let syn::Expr::Call(c) = receiver else { return None };
        let syn::Expr::Path(p) = &*c.func else { return None };
        let [.., ty, method] = p.path.segments.iter().collect::<Vec<_>>()[..] else { return None };
        if !method.ident.to_string().contains("builder") || !self.types.contains(&ty.ident.to_string()) {
            return None;
        }
        let source = format!("{}::{}()…build()", ty.ident, method.ident);
        let what = format!("`{source}` builds a backend here");
        Some(Origin { loc: self.loc(ty.ident.span()), what, is_field: false, source, param: None, owner: None })
    }

    /// The backend field a value is a copy of, `Option` and all (`self.cp_prov.clone()`,
    /// `&state.provisioner`, `.as_ref().cloned()`, `.as_ref().map(Arc::clone)`, a copy of
    /// a copy): checking the value checks the field.
    pub(super) fn field_copy(&self, expr: &syn::Expr) -> Option<Origin> {
        match strip_refs(expr) {
            e @ (syn::Expr::Field(_) | syn::Expr::Path(_)) => self.origin(e).filter(|o| o.is_field),
            syn::Expr::MethodCall(m) if m.args.is_empty() && COPIES.contains(&m.method.to_string().as_str()) => {
                self.field_copy(&m.receiver)
            }
            syn::Expr::MethodCall(m)
                if m.method == "map"
                    && matches!(m.args.first(), Some(syn::Expr::Path(p)) if p.path.segments.last().is_some_and(|s| s.ident == "clone")) =>
            {
                self.field_copy(&m.receiver)
            }
            syn::Expr::Call(c) if c.args.len() == 1 => match &*c.func {
                syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "clone") => {
                    self.field_copy(&c.args[0])
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Names a pattern binds to the backend itself: `p`, `Some(p)`, `Ok(p)`, `Some(ref p)`.
    pub(super) fn bound_names(pat: &syn::Pat) -> Vec<syn::Ident> {
        match pat {
            syn::Pat::Ident(i) if i.ident != "None" => vec![i.ident.clone()],
            syn::Pat::Type(t) => Self::bound_names(&t.pat),
            syn::Pat::Reference(r) => Self::bound_names(&r.pat),
            syn::Pat::TupleStruct(t) if t.elems.len() == 1 => Self::bound_names(&t.elems[0]),
            syn::Pat::Or(o) => o.cases.iter().flat_map(Self::bound_names).collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn bind_pattern(&mut self, pat: &syn::Pat, origin: &Origin) {
        for ident in Self::bound_names(pat) {
            let what = format!("`{ident}` is bound to `{}` here", origin.source);
            let loc = self.loc(ident.span());
            let (source, param, owner) = (origin.source.clone(), origin.param, origin.owner.clone());
            let o = Origin { loc, what, is_field: false, source, param, owner };
            self.scope.push((ident.to_string(), Some(o)));
        }
    }

    /// Every name a pattern introduces shadows outer bindings of that name.
    pub(super) fn shadow(&mut self, pat: &syn::Pat) {
        for ident in all_names(pat) {
            self.scope.push((ident.to_string(), None));
        }
    }

    /// Binds what `pat` introduces when matched against `expr`: names that receive a
    /// backend get its origin (through `Some(…)`, tuples and struct fields), every
    /// other name shadows.
    pub(super) fn bind_match(&mut self, pat: &syn::Pat, expr: &syn::Expr) {
        // `let p = state.provisioner.clone()`: a copy of a backend field is the field, in
        // a task it moves into too (checking it chooses a backend).
        if let Some(ident) = plain_ident(pat)
            && let Some(field) = self.field_copy(expr)
        {
            let what = format!("`{ident}` is a copy of `{}`", field.source);
            let o = Origin { loc: self.loc(ident.span()), what, is_field: true, ..field };
            self.scope.push((ident.to_string(), Some(o)));
            return;
        }
        let origin = self.origin(expr);
        let tuple: Vec<(Option<Origin>, String)> = match strip(expr) {
            syn::Expr::Tuple(t) => t.elems.iter().map(|e| (self.origin(e), render_base(e))).collect(),
            _ => Vec::new(),
        };
        let base = render_base(expr);
        self.bind_pat(pat, origin.as_ref(), &tuple, &base);
    }

    /// `tuple`: the origin and rendering of each element of a tuple matched.
    pub(super) fn bind_pat(
        &mut self,
        pat: &syn::Pat,
        origin: Option<&Origin>,
        tuple: &[(Option<Origin>, String)],
        base: &str,
    ) {
        // A value that holds no backend itself (or a parameter that may) can still
        // hold backend fields.
        let not_backend = origin.is_none_or(|o| o.param.is_some());
        match pat {
            syn::Pat::Tuple(p) if !tuple.is_empty() => {
                for (elem, (o, base)) in p.elems.iter().zip(tuple) {
                    self.bind_pat(elem, o.as_ref(), &[], base);
                }
            }
            // `let WorkspaceHandler { cp_prov, .. } = self;`, `State(AppState { provisioner, .. })`.
            syn::Pat::Struct(s) if not_backend => self.bind_fields(s, base),
            // Through to a struct pattern inside: `State(Ctx { .. })`, `&Ctx { .. }`, `(Ctx { .. }, id)`.
            syn::Pat::TupleStruct(t) if not_backend && t.elems.len() == 1 => self.bind_pat(&t.elems[0], origin, &[], base),
            syn::Pat::Reference(r) if not_backend => self.bind_pat(&r.pat, origin, &[], base),
            syn::Pat::Paren(p) if not_backend => self.bind_pat(&p.pat, origin, &[], base),
            syn::Pat::Type(t) if not_backend => self.bind_pat(&t.pat, origin, &[], base),
            syn::Pat::Tuple(p) if not_backend => {
                for elem in &p.elems {
                    self.bind_pat(elem, None, &[], base);
                }
            }
            _ => match origin {
                Some(o) => {
                    let backend = Self::bound_names(pat);
                    for ident in all_names(pat).into_iter().filter(|i| !backend.contains(i)) {
                        self.scope.push((ident.to_string(), None));
                    }
                    self.bind_pattern(pat, o);
                }
                None => self.shadow(pat),
            },
        }
    }

    /// The fields a struct pattern binds: a backend field's binding is the field
    /// itself (`provisioner`) or derived from it (`provisioner: Some(p)`); other fields
    /// may be structs holding backend fields (`inner: Inner { cp_prov, .. }`).
    fn bind_fields(&mut self, s: &syn::PatStruct, base: &str) {
        // A parameter's pattern has no expression: the struct's name stands for it.
        let base = match base {
            "" => s.path.segments.last().map_or(String::new(), |seg| seg.ident.to_string()),
            _ => base.to_string(),
        };
        for field in &s.fields {
            let syn::Member::Named(name) = &field.member else {
                self.shadow(&field.pat);
                continue;
            };
            let source = format!("{base}.{name}");
            if !self.fields.contains(&name.to_string()) && !self.params.names_typed_field(&name.to_string()) {
                self.bind_pat(&field.pat, None, &[], &source);
                continue;
            }
            let what = format!("`{source}` is a provisioner backend field");
            let owner =
                FieldOwner::of_field(super::Receiver::Typed(crate::facts::lower::segments(&s.path), Vec::new()), name.to_string());
            let (loc, owner) = (self.loc(name.span()), Some(owner));
            let o = Origin { loc, what, is_field: true, source, param: None, owner };
            match &*field.pat {
                syn::Pat::Ident(i) if i.subpat.is_none() => self.scope.push((i.ident.to_string(), Some(o))),
                other => self.bind_pat(other, Some(&o), &[], &base),
            }
        }
    }
}
