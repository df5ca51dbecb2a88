//! The current function's bindings and what the syntax tells of their types: a call
//! of a local closure is not a call of an item, and a method called on a binding of
//! evident type (`repo: &WorkspaceRepo`, `let repo = WorkspaceRepo::new(…)`) is that
//! type's method.

use super::{Extractor, PathText, Receiver, strip};
use crate::facts::names::type_path;

fn boxed(path: Vec<String>) -> PathText {
    path.into_iter().map(String::into_boxed_str).collect()
}

/// Associated functions that return their type (`Repo::new(…)`, `Repo::default()`,
/// `Repo::with_pool(…)`, `Repo::new_in(…)`).
fn is_constructor(name: &str) -> bool {
    name == "new" || name == "default" || name.starts_with("new_") || name.starts_with("with_")
}

/// Single-field wrappers that dereference to the value they hold: `State(state):
/// State<AppState>` binds `state` to an `AppState`.
const EXTRACTORS: &[&str] = &["State", "Data", "Extension", "Json", "Arc"];

impl Extractor<'_> {
    /// Whether `name` is bound in the current function (a parameter, `let`, closure
    /// parameter or loop variable).
    pub(super) fn is_local(&self, name: &str) -> bool {
        self.locals.iter().any(|(n, _)| n == name)
    }

    /// Binds every name of `pat`; a lone name gets type `ty`.
    pub(super) fn bind_pattern(&mut self, pat: &syn::Pat, ty: Option<PathText>) {
        match pat {
            syn::Pat::Ident(p) => {
                self.locals.push((p.ident.to_string(), ty));
                if let Some((_, sub)) = &p.subpat {
                    self.bind_pattern(sub, None);
                }
            }
            syn::Pat::Type(t) => self.bind_typed(&t.pat, &t.ty),
            syn::Pat::Reference(r) => self.bind_pattern(&r.pat, ty),
            syn::Pat::Paren(p) => self.bind_pattern(&p.pat, ty),
            syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            syn::Pat::TupleStruct(t) => t.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            syn::Pat::Slice(t) => t.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            syn::Pat::Or(o) => o.cases.iter().for_each(|p| self.bind_pattern(p, None)),
            syn::Pat::Struct(s) => s.fields.iter().for_each(|f| self.bind_pattern(&f.pat, None)),
            _ => {}
        }
    }

    /// `pat: ty`: the annotation types a lone name, or an extractor's field
    /// (`State(state): State<AppState>`).
    fn bind_typed(&mut self, pat: &syn::Pat, ty: &syn::Type) {
        let ty = type_path(ty).map(boxed);
        if let syn::Pat::TupleStruct(ts) = pat
            && ts.elems.len() == 1
            && ts.path.segments.last().is_some_and(|s| EXTRACTORS.iter().any(|e| s.ident == e))
        {
            return self.bind_pattern(&ts.elems[0], ty);
        }
        self.bind_pattern(pat, ty);
    }

    pub(super) fn bind_params(&mut self, sig: &syn::Signature) {
        let bounds = trait_bounds(&sig.generics);
        for input in &sig.inputs {
            if let syn::FnArg::Typed(t) = input {
                let before = self.locals.len();
                self.bind_typed(&t.pat, &t.ty);
                // `repo: &R` with `R: Store`: the trait's methods (every implementation).
                for (_, ty) in &mut self.locals[before..] {
                    if let Some(path) = ty
                        && let [one] = &path[..]
                        && let Some((_, bound)) = bounds.iter().find(|(g, _)| **g == **one)
                    {
                        *ty = Some(bound.clone());
                    }
                }
            }
        }
    }

    /// `let pat (: ty)? = init;`: its names, typed by the annotation or by an
    /// initialiser of evident type.
    pub(super) fn bind_let(&mut self, local: &syn::Local) {
        let ty = match &local.pat {
            syn::Pat::Type(_) => None,
            _ => local.init.as_ref().and_then(|i| expr_type(&i.expr)),
        };
        self.bind_pattern(&local.pat, ty);
    }

    /// What a method call's receiver is.
    pub(super) fn receiver(&self, expr: &syn::Expr) -> Receiver {
        match strip(expr) {
            syn::Expr::Path(p) if p.path.is_ident("self") => Receiver::SelfValue,
            syn::Expr::Path(p) if p.qself.is_none() => match p.path.get_ident() {
                Some(ident) => {
                    let name = ident.to_string();
                    match self.locals.iter().rev().find(|(n, _)| *n == name) {
                        Some((_, Some(ty))) => Receiver::Typed(ty.clone()),
                        Some((_, None)) => Receiver::Unknown,
                        // A unit struct's value (`SqlStore.insert(…)`).
                        None if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
                            Receiver::Typed(boxed(vec![name]))
                        }
                        None => Receiver::Unknown,
                    }
                }
                None => Receiver::Unknown,
            },
            syn::Expr::Field(f) => match &f.member {
                syn::Member::Named(name) => match self.receiver(&f.base) {
                    Receiver::Unknown => Receiver::Unknown,
                    base => Receiver::Field(Box::new((base, name.to_string().into_boxed_str()))),
                },
                syn::Member::Unnamed(_) => Receiver::Unknown,
            },
            // `.clone()`, `.as_ref()` and the like keep the receiver's type.
            syn::Expr::MethodCall(m) if matches!(m.method.to_string().as_str(), "clone" | "as_ref" | "borrow") => {
                self.receiver(&m.receiver)
            }
            other => expr_type(other).map_or(Receiver::Unknown, Receiver::Typed),
        }
    }
}

/// The first trait bound of each generic type parameter (`<R: Store>`, `where R: Store`).
fn trait_bounds(generics: &syn::Generics) -> Vec<(String, PathText)> {
    let first_trait = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => Some(boxed(crate::facts::lower::segments(&t.path))),
            _ => None,
        })
    };
    let mut out: Vec<(String, PathText)> =
        generics.type_params().filter_map(|p| Some((p.ident.to_string(), first_trait(&p.bounds)?))).collect();
    for predicate in generics.where_clause.iter().flat_map(|w| &w.predicates) {
        if let syn::WherePredicate::Type(t) = predicate
            && let syn::Type::Path(p) = &t.bounded_ty
            && let Some(ident) = p.path.get_ident()
            && let Some(bound) = first_trait(&t.bounds)
        {
            out.push((ident.to_string(), bound));
        }
    }
    out
}

/// The type of an expression when the syntax says it: `Type { … }`, `Type::new(…)`
/// (see [`is_constructor`]), `Arc::new(<that>)`, through `?` and `.await`.
fn expr_type(expr: &syn::Expr) -> Option<PathText> {
    match strip(expr) {
        syn::Expr::Struct(s) if s.qself.is_none() => Some(boxed(crate::facts::lower::segments(&s.path))),
        syn::Expr::Try(t) => expr_type(&t.expr),
        syn::Expr::Await(a) => expr_type(&a.base),
        syn::Expr::Call(c) => {
            let syn::Expr::Path(p) = strip(&c.func) else { return None };
            if p.qself.is_some() || p.path.segments.len() < 2 {
                return None;
            }
            let segments = crate::facts::lower::segments(&p.path);
            let (last, prefix) = segments.split_last()?;
            if !is_constructor(last) {
                return None;
            }
            let ty = prefix.last()?;
            if matches!(ty.as_str(), "Arc" | "Rc" | "Box" | "Mutex" | "RwLock") {
                return c.args.first().and_then(expr_type);
            }
            ty.starts_with(|c: char| c.is_ascii_uppercase()).then(|| boxed(prefix.to_vec()))
        }
        _ => None,
    }
}
