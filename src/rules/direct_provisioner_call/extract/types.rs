//! Backend types: which types name a provisioner backend (a configured type, a
//! generic parameter bounded by one, `Arc<dyn Provisioner>`, `impl Provisioner`), and
//! how a type is shown in messages.

use super::Extractor;
use syn::punctuated::Punctuated;

/// `types` and the names this file gives them: `use provisioner::DockerProvisioner as
/// Docker;` and `type Backend = Arc<dyn Provisioner>;` (at any module depth of the
/// file). Names given in other files are not seen.
pub(super) fn with_local_names(items: &[syn::Item], types: &[String]) -> Vec<String> {
    let mut out = types.to_vec();
    // An alias of an alias: repeat until nothing is added (bounded by the items).
    loop {
        let before = out.len();
        collect_local_names(items, &mut out);
        if out.len() == before {
            return out;
        }
    }
}

fn collect_local_names(items: &[syn::Item], out: &mut Vec<String>) {
    fn renames(tree: &syn::UseTree, out: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => renames(&p.tree, out),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| renames(t, out)),
            syn::UseTree::Rename(r) if out.contains(&r.ident.to_string()) => {
                let alias = r.rename.to_string();
                if !out.contains(&alias) {
                    out.push(alias);
                }
            }
            _ => {}
        }
    }
    for item in items {
        match item {
            syn::Item::Use(u) => renames(&u.tree, out),
            syn::Item::Type(t) => {
                let alias = t.ident.to_string();
                if !out.contains(&alias) && names_any(&t.ty, out) {
                    out.push(alias);
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect_local_names(inner, out);
                }
            }
            _ => {}
        }
    }
}

/// `fields` and the fields this file's structs declare with a backend type
/// (`docker: Option<Arc<dyn Provisioner>>`, at any module depth): a backend whatever
/// it is named. Fields declared in other files are known by the configured names only.
pub(super) fn with_typed_fields(items: &[syn::Item], fields: &[String], types: &[String]) -> Vec<String> {
    fn collect(items: &[syn::Item], types: &[String], out: &mut Vec<String>) {
        for item in items {
            match item {
                syn::Item::Struct(s) => {
                    for field in &s.fields {
                        if let Some(ident) = &field.ident
                            && names_any(&field.ty, types)
                            && !out.contains(&ident.to_string())
                        {
                            out.push(ident.to_string());
                        }
                    }
                }
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        collect(inner, types, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = fields.to_vec();
    collect(items, types, &mut out);
    out
}

/// Whether a type's tokens name one of `types` (`Arc<dyn Provisioner + Send>`).
fn names_any(ty: &syn::Type, types: &[String]) -> bool {
    use quote::ToTokens;
    fn walk(tokens: proc_macro2::TokenStream, types: &[String]) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => types.iter().any(|n| i == n),
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), types),
            _ => false,
        })
    }
    walk(ty.to_token_stream(), types)
}

/// Types whose `default()` builds what they hold (`Arc::<DockerProvisioner>::default()`).
const HOLDERS: &[&str] = &["Arc", "Rc", "Box"];

/// The values a function returns: its body's tail and each `return` (not those of
/// closures, async blocks or nested items), through blocks, `if` and `match`.
fn returned(block: &syn::Block) -> Vec<&syn::Expr> {
    struct Returns<'e>(Vec<&'e syn::Expr>);
    impl<'e> syn::visit::Visit<'e> for Returns<'e> {
        fn visit_expr_return(&mut self, r: &'e syn::ExprReturn) {
            if let Some(e) = &r.expr {
                self.0.push(e);
                syn::visit::visit_expr(self, e);
            }
        }
        fn visit_expr_closure(&mut self, _: &'e syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'e syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'e syn::Item) {}
    }
    fn tails<'e>(e: &'e syn::Expr, out: &mut Vec<&'e syn::Expr>) {
        match e {
            syn::Expr::Block(b) => block_tails(&b.block, out),
            syn::Expr::Paren(p) => tails(&p.expr, out),
            syn::Expr::If(i) => {
                block_tails(&i.then_branch, out);
                if let Some((_, e)) = &i.else_branch {
                    tails(e, out);
                }
            }
            syn::Expr::Match(m) => m.arms.iter().for_each(|a| tails(&a.body, out)),
            _ => out.push(e),
        }
    }
    fn block_tails<'e>(b: &'e syn::Block, out: &mut Vec<&'e syn::Expr>) {
        if let Some(syn::Stmt::Expr(e, None)) = b.stmts.last() {
            tails(e, out);
        }
    }
    let mut returns = Returns(Vec::new());
    syn::visit::Visit::visit_block(&mut returns, block);
    let mut out = Vec::new();
    block_tails(block, &mut out);
    for e in returns.0 {
        tails(e, &mut out);
    }
    out
}

impl Extractor<'_> {
    /// A backend type a `Default::default()` of this type builds: the type itself
    /// (`DockerProvisioner`), or held by an `Arc`, `Rc` or `Box`.
    fn defaults_to_backend(&self, ty: &syn::Type) -> bool {
        let syn::Type::Path(p) = ty else { return false };
        let Some(last) = p.path.segments.last() else { return false };
        if self.types.contains(&last.ident.to_string()) {
            return true;
        }
        HOLDERS.iter().any(|h| last.ident == h)
            && matches!(&last.arguments, syn::PathArguments::AngleBracketed(a)
                if matches!(a.args.first(), Some(syn::GenericArgument::Type(t)) if self.defaults_to_backend(t)))
    }

    /// `fn docker() -> DockerProvisioner { Default::default() }`: a function returning
    /// a backend type builds one where it returns `Default::default()`.
    pub(super) fn returned_defaults(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let syn::ReturnType::Type(_, ty) = &sig.output else { return };
        if !self.defaults_to_backend(ty) {
            return;
        }
        let ty = quote_type(ty);
        for e in returned(block) {
            if let syn::Expr::Call(c) = e
                && c.args.is_empty()
                && let syn::Expr::Path(p) = &*c.func
                && p.qself.is_none()
                && p.path.segments.iter().rev().take(2).map(|s| s.ident.to_string()).eq(["default", "Default"])
            {
                let loc = self.loc(p.path.segments[p.path.segments.len() - 2].ident.span());
                self.push(super::ProvisionerSiteKind::Construct { ty: ty.clone() }, loc, None);
            }
        }
    }

    pub(super) fn type_is_backend(&self, ty: &syn::Type) -> bool {
        match ty {
            syn::Type::Path(p) => p.path.segments.iter().any(|seg| {
                self.types.contains(&seg.ident.to_string())
                    || self.generic_backends.contains(&seg.ident.to_string())
                    || match &seg.arguments {
                        syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|arg| match arg {
                            syn::GenericArgument::Type(t) => self.type_is_backend(t),
                            _ => false,
                        }),
                        _ => false,
                    }
            }),
            syn::Type::Reference(r) => self.type_is_backend(&r.elem),
            syn::Type::Paren(p) => self.type_is_backend(&p.elem),
            syn::Type::Group(g) => self.type_is_backend(&g.elem),
            syn::Type::TraitObject(t) => t.bounds.iter().any(|b| match b {
                syn::TypeParamBound::Trait(tb) => {
                    tb.path.segments.iter().any(|s| self.types.contains(&s.ident.to_string()))
                }
                _ => false,
            }),
            syn::Type::ImplTrait(t) => t.bounds.iter().any(|b| match b {
                syn::TypeParamBound::Trait(tb) => {
                    tb.path.segments.iter().any(|s| self.types.contains(&s.ident.to_string()))
                }
                _ => false,
            }),
            _ => false,
        }
    }
}

/// The generic parameters bounded by a backend type: `fn f<P: Provisioner>(p: &P)`
/// and `where P: Provisioner`.
pub(super) fn backend_generics(generics: &syn::Generics, types: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let bounded = |bounds: &Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().any(|b| match b {
            syn::TypeParamBound::Trait(t) => t.path.segments.iter().any(|s| types.contains(&s.ident.to_string())),
            _ => false,
        })
    };
    for param in &generics.params {
        if let syn::GenericParam::Type(t) = param
            && bounded(&t.bounds)
        {
            out.push(t.ident.to_string());
        }
    }
    if let Some(where_clause) = &generics.where_clause {
        for predicate in &where_clause.predicates {
            if let syn::WherePredicate::Type(t) = predicate
                && bounded(&t.bounds)
                && let syn::Type::Path(p) = &t.bounded_ty
                && let Some(ident) = p.path.get_ident()
            {
                out.push(ident.to_string());
            }
        }
    }
    out
}

/// A short rendering of a type for messages (`&CpProvisioner`, `Arc<dyn Provisioner>`).
pub(super) fn quote_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Reference(r) => format!("&{}", quote_type(&r.elem)),
        syn::Type::Path(p) => p
            .path
            .segments
            .iter()
            .map(|s| {
                let args = match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => {
                        let inner: Vec<String> = a
                            .args
                            .iter()
                            .filter_map(|x| match x {
                                syn::GenericArgument::Type(t) => Some(quote_type(t)),
                                _ => None,
                            })
                            .collect();
                        format!("<{}>", inner.join(", "))
                    }
                    _ => String::new(),
                };
                format!("{}{args}", s.ident)
            })
            .collect::<Vec<_>>()
            .join("::"),
        syn::Type::TraitObject(t) => {
            let bounds: Vec<String> = t
                .bounds
                .iter()
                .filter_map(|b| match b {
                    syn::TypeParamBound::Trait(tb) => tb.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                })
                .collect();
            format!("dyn {}", bounds.join(" + "))
        }
        _ => "backend".to_string(),
    }
}

/// The inputs a callable parameter's type says it is called with: `F` bounded by
/// `FnOnce(Arc<dyn Provisioner>) -> Fut` (inline or in the `where` clause), `impl
/// Fn(&DockerProvisioner)`, `&dyn Fn(..)`, `Box<dyn FnMut(..)>`.
fn callable_inputs<'t>(ty: &'t syn::Type, generics: &'t syn::Generics) -> Option<&'t Punctuated<syn::Type, syn::Token![,]>> {
    let from_bounds = |bounds: &'t Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => match &t.path.segments.last()?.arguments {
                syn::PathArguments::Parenthesized(args) => Some(&args.inputs),
                _ => None,
            },
            _ => None,
        })
    };
    match ty {
        syn::Type::Reference(r) => callable_inputs(&r.elem, generics),
        syn::Type::Paren(p) => callable_inputs(&p.elem, generics),
        syn::Type::ImplTrait(t) => from_bounds(&t.bounds),
        syn::Type::TraitObject(t) => from_bounds(&t.bounds),
        syn::Type::Path(p) => {
            let last = p.path.segments.last()?;
            if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                // `Box<dyn Fn(..)>`, `Arc<dyn Fn(..)>`.
                return a.args.iter().find_map(|arg| match arg {
                    syn::GenericArgument::Type(t) => callable_inputs(t, generics),
                    _ => None,
                });
            }
            let name = &last.ident;
            let inline = generics.params.iter().find_map(|g| match g {
                syn::GenericParam::Type(t) if t.ident == *name => from_bounds(&t.bounds),
                _ => None,
            });
            inline.or_else(|| {
                generics.where_clause.as_ref()?.predicates.iter().find_map(|w| match w {
                    syn::WherePredicate::Type(t) => match &t.bounded_ty {
                        syn::Type::Path(b) if b.path.is_ident(name) => from_bounds(&t.bounds),
                        _ => None,
                    },
                    _ => None,
                })
            })
        }
        _ => None,
    }
}

impl super::Extractor<'_> {
    /// The file's functions and methods that call a closure parameter with a backend:
    /// by name, each such parameter's position (self not counted) and the closure's
    /// inputs that are backends, with the type written for them (`fn with_backend<F:
    /// FnOnce(Arc<dyn Provisioner>) -> Fut>(b: &Option<..>, f: F)`: the closure
    /// passed second gets a backend as its first input).
    pub(super) fn closure_backend_inputs(&self, items: &[syn::Item]) -> Vec<super::ClosureInputs> {
        let mut out = Vec::new();
        let mut add = |sig: &syn::Signature, outer: Option<&syn::Generics>| {
            let typed = sig.inputs.iter().filter_map(|i| match i {
                syn::FnArg::Typed(t) => Some(t),
                syn::FnArg::Receiver(_) => None,
            });
            for (position, param) in typed.enumerate() {
                let inputs = callable_inputs(&param.ty, &sig.generics)
                    .or_else(|| outer.and_then(|g| callable_inputs(&param.ty, g)));
                let backends: Vec<(usize, String)> = inputs
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .filter(|(_, t)| self.type_is_backend(t))
                    .map(|(k, t)| (k, quote_type(t)))
                    .collect();
                if !backends.is_empty() {
                    out.push(super::ClosureInputs { callee: sig.ident.to_string(), position, backends });
                }
            }
        };
        for item in items {
            match item {
                syn::Item::Fn(f) => add(&f.sig, None),
                syn::Item::Impl(i) => {
                    for it in &i.items {
                        if let syn::ImplItem::Fn(f) = it {
                            add(&f.sig, Some(&i.generics));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }
}
