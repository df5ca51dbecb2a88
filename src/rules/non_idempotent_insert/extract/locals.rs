//! The current function's bindings and what the syntax tells of their types: a call
//! of a local closure is not a call of an item, and a method called on a binding of
//! evident type (`repo: &WorkspaceRepo`, `let repo = WorkspaceRepo::new(…)`, `for job
//! in jobs` with `jobs: &[CleanupJob]`, `if let Some(repo) = maybe` with `maybe:
//! Option<Repo>`) is that type's method.

use super::{Extractor, PathText, Receiver, strip};
use crate::facts::names::type_path;

fn boxed(path: Vec<String>) -> PathText {
    path.into_iter().map(String::into_boxed_str).collect()
}

/// A binding of the current function.
pub(super) struct Binding {
    name: String,
    /// Its type, when evident (wrappers that dereference removed).
    ty: Option<PathText>,
    /// What it holds, for an `Option`, `Result` or collection: the type `Some(x)`,
    /// `Ok(x)`, `.unwrap()`, `?` and a `for` loop over it give.
    item: Option<PathText>,
    /// Bound from a field whose type only the crate knows (`if let Some(backup) =
    /// &self.backup`): what the receiver is, resolved crate-wide.
    from: Option<Receiver>,
}

/// Associated functions that return their type (`Repo::new(…)`, `Repo::default()`,
/// `Repo::with_pool(…)`, `Repo::new_in(…)`).
fn is_constructor(name: &str) -> bool {
    name == "new" || name == "default" || name.starts_with("new_") || name.starts_with("with_")
}

/// Single-field wrappers that dereference to the value they hold: `State(state):
/// State<AppState>` binds `state` to an `AppState`.
const EXTRACTORS: &[&str] = &["State", "Data", "Extension", "Json", "Arc"];

/// Traits and types whose values are iterators or streams.
const ITERATOR_TYPES: &[&str] = &[
    "Iterator",
    "IntoIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "Stream",
    "TryStream",
    "BoxStream",
    "LocalBoxStream",
    "ReceiverStream",
    "UnboundedReceiverStream",
    "FuturesUnordered",
    "FuturesOrdered",
];

/// Methods that give what an `Option`, `Result` or collection holds.
const UNWRAPS: &[&str] = &["unwrap", "expect", "unwrap_or_default", "unwrap_unchecked"];

/// Methods that keep the receiver as it is (or a reference to it).
const KEEPS: &[&str] = &["clone", "as_ref", "as_mut", "borrow", "borrow_mut", "as_deref", "iter", "iter_mut", "into_iter"];

/// Methods that lock what a lock holds (the lock's type is seen through, see
/// [`crate::facts::names::type_path`]): the guard, through `.unwrap()` or `.await`.
const LOCKS: &[&str] = &["lock", "read", "write", "try_lock", "blocking_lock"];

/// The type and the held type of a declared type.
fn declared(ty: &syn::Type) -> (Option<PathText>, Option<PathText>) {
    (type_path(ty).map(boxed), crate::facts::names::held_type(ty).map(boxed))
}

impl Extractor<'_> {
    /// Whether `name` is bound in the current function (a parameter, `let`, closure
    /// parameter or loop variable).
    pub(super) fn is_local(&self, name: &str) -> bool {
        self.locals.iter().any(|b| b.name == name)
    }

    /// Whether a local's declared type is an iterator or a stream (`rows: S` with
    /// `S: Stream<Item = Row>`, `impl Iterator<Item = T>`, `BoxStream<'_, T>`): its
    /// adapters' closures run once per item.
    pub(super) fn is_iterator_local(&self, name: &str) -> bool {
        self.binding(name).and_then(|b| b.ty.as_ref()).and_then(|ty| ty.last()).is_some_and(|last| ITERATOR_TYPES.contains(&&**last))
    }

    fn binding(&self, name: &str) -> Option<&Binding> {
        self.locals.iter().rev().find(|b| b.name == name)
    }

    fn push(&mut self, name: String, ty: Option<PathText>, item: Option<PathText>) {
        self.locals.push(Binding { name, ty, item, from: None });
    }

    /// Binds the lone name of `pat` (through `&` and `Some(…)`/`Ok(…)` when `held`) to
    /// what a field-based receiver is, or holds; any other pattern binds untyped.
    fn bind_from(&mut self, pat: &syn::Pat, from: Receiver, held: bool) {
        match pat {
            // (A lone name binds the scrutinee itself, held or not.)
            syn::Pat::Ident(p) if p.subpat.is_none() => {
                self.locals.push(Binding { name: p.ident.to_string(), ty: None, item: None, from: Some(from) });
            }
            syn::Pat::Reference(r) => self.bind_from(&r.pat, from, held),
            syn::Pat::TupleStruct(ts)
                if held
                    && ts.elems.len() == 1
                    && ts.path.segments.last().is_some_and(|s| s.ident == "Some" || s.ident == "Ok") =>
            {
                self.bind_from(&ts.elems[0], held_by(from), false)
            }
            _ => self.bind_pattern(pat, None),
        }
    }

    /// The field-based receiver an expression is (`self.backup`, `&state.repos`,
    /// `self.jobs.iter()`), when it is one.
    fn field_receiver(&self, expr: &syn::Expr) -> Option<Receiver> {
        match strip(expr) {
            syn::Expr::MethodCall(m) if KEEPS.contains(&m.method.to_string().as_str()) => self.field_receiver(&m.receiver),
            e @ syn::Expr::Field(_) => match self.receiver(e) {
                r @ Receiver::Field(_) => Some(r),
                _ => None,
            },
            _ => None,
        }
    }

    /// Binds `pat` matched against `expr`'s held value (`if let Some(x) = expr`, a
    /// `match` arm, `for x in expr`): typed by a binding's declared type, or by the
    /// field `expr` is.
    pub(super) fn bind_held(&mut self, pat: &syn::Pat, expr: &syn::Expr, for_loop: bool) {
        let item = self.value_type(expr).1;
        match (item, self.field_receiver(expr)) {
            (Some(item), _) if for_loop => self.bind_pattern(pat, Some(item)),
            (Some(item), _) => self.bind_unwrapped(pat, Some(item)),
            (None, Some(field)) if for_loop => self.bind_from(pat, held_by(field), false),
            (None, Some(field)) => self.bind_from(pat, field, true),
            (None, None) if for_loop => self.bind_pattern(pat, None),
            (None, None) => self.bind_unwrapped(pat, None),
        }
    }

    /// Binds every name of `pat`; a lone name gets type `ty` (holding `item`).
    fn bind_as(&mut self, pat: &syn::Pat, ty: Option<PathText>, item: Option<PathText>) {
        match pat {
            syn::Pat::Ident(p) => {
                self.push(p.ident.to_string(), ty, item);
                if let Some((_, sub)) = &p.subpat {
                    self.bind_pattern(sub, None);
                }
            }
            syn::Pat::Type(t) => self.bind_typed(&t.pat, &t.ty),
            syn::Pat::Reference(r) => self.bind_as(&r.pat, ty, item),
            syn::Pat::Paren(p) => self.bind_as(&p.pat, ty, item),
            syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            // `SuccessfulDispatch(attempt): SuccessfulDispatch`, `Ctx { repo, .. }: Ctx`:
            // each name is that field of the declared type.
            syn::Pat::TupleStruct(t) if let Some(ty) = &ty => {
                for (k, p) in t.elems.iter().enumerate() {
                    let field = Receiver::Field(Box::new((Receiver::Typed(ty.clone()), k.to_string().into_boxed_str())));
                    self.bind_from(p, field, false);
                }
            }
            syn::Pat::Struct(s) if let Some(ty) = &ty => {
                for f in &s.fields {
                    let syn::Member::Named(name) = &f.member else { continue };
                    let field = Receiver::Field(Box::new((Receiver::Typed(ty.clone()), name.to_string().into_boxed_str())));
                    self.bind_from(&f.pat, field, false);
                }
            }
            syn::Pat::TupleStruct(t) => t.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            syn::Pat::Slice(t) => t.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            syn::Pat::Or(o) => o.cases.iter().for_each(|p| self.bind_pattern(p, None)),
            syn::Pat::Struct(s) => s.fields.iter().for_each(|f| self.bind_pattern(&f.pat, None)),
            _ => {}
        }
    }

    /// Binds every name of `pat`; a lone name gets type `ty`.
    pub(super) fn bind_pattern(&mut self, pat: &syn::Pat, ty: Option<PathText>) {
        self.bind_as(pat, ty, None);
    }

    /// Binds `pat` matched against a value holding `item`: `Some(x)` / `Ok(x)` bind
    /// `x` to it; any other pattern binds its names untyped.
    pub(super) fn bind_unwrapped(&mut self, pat: &syn::Pat, item: Option<PathText>) {
        match pat {
            syn::Pat::TupleStruct(ts)
                if ts.elems.len() == 1 && ts.path.segments.last().is_some_and(|s| s.ident == "Some" || s.ident == "Ok") =>
            {
                self.bind_pattern(&ts.elems[0], item)
            }
            syn::Pat::Reference(r) => self.bind_unwrapped(&r.pat, item),
            _ => self.bind_pattern(pat, None),
        }
    }

    /// `pat: ty`: the annotation types a lone name, or an extractor's field
    /// (`State(state): State<AppState>`).
    fn bind_typed(&mut self, pat: &syn::Pat, ty: &syn::Type) {
        let (ty, item) = declared(ty);
        if let syn::Pat::TupleStruct(ts) = pat
            && ts.elems.len() == 1
            && ts.path.segments.last().is_some_and(|s| EXTRACTORS.iter().any(|e| s.ident == e))
        {
            return self.bind_as(&ts.elems[0], ty, item);
        }
        self.bind_as(pat, ty, item);
    }

    pub(super) fn bind_params(&mut self, sig: &syn::Signature) {
        let mut bounds = trait_bounds(&sig.generics);
        bounds.extend(self.impl_bounds.last().into_iter().flatten().cloned());
        for input in &sig.inputs {
            if let syn::FnArg::Typed(t) = input {
                let before = self.locals.len();
                self.bind_typed(&t.pat, &t.ty);
                // `repo: &R` with `R: Store`: the trait's methods (every implementation).
                let bound = |ty: &mut Option<PathText>| {
                    if let Some(path) = ty
                        && let [one] = &path[..]
                        && let Some((_, bound)) = bounds.iter().find(|(g, _)| **g == **one)
                    {
                        *ty = Some(bound.clone());
                    }
                };
                for b in &mut self.locals[before..] {
                    bound(&mut b.ty);
                    bound(&mut b.item);
                }
            }
        }
    }

    /// `let pat (: ty)? = init (else { … })?;`: its names, typed by the annotation or by
    /// an initialiser of evident type; `let Some(x) = maybe else { … }` unwraps.
    pub(super) fn bind_let(&mut self, local: &syn::Local) {
        let Some(init) = &local.init else { return self.bind_pattern(&local.pat, None) };
        if matches!(local.pat, syn::Pat::TupleStruct(_)) {
            let item = self.value_type(&init.expr).1;
            return self.bind_unwrapped(&local.pat, item);
        }
        match &local.pat {
            syn::Pat::Type(_) => self.bind_pattern(&local.pat, None),
            _ => {
                let (ty, item) = self.value_type(&init.expr);
                // `let svc = Self::default_service();`: what the function returns.
                if let (None, None, syn::Pat::Ident(p)) = (&ty, &item, &local.pat)
                    && p.subpat.is_none()
                    && let Some(returned) = self.returned(&init.expr, false)
                {
                    return self.bind_from(&local.pat, returned, false);
                }
                self.bind_as(&local.pat, ty, item);
            }
        }
    }

    /// The type and held type of a value: a binding, through `&`, `.clone()`,
    /// `.iter()` and the like; what an unwrap or `?` gives; a constructor's type.
    pub(super) fn value_type(&self, expr: &syn::Expr) -> (Option<PathText>, Option<PathText>) {
        match strip(expr) {
            syn::Expr::Path(p) if p.qself.is_none() => match p.path.get_ident() {
                Some(ident) => match self.binding(&ident.to_string()) {
                    Some(b) if b.from.is_some() => (None, None),
                    Some(b) => (b.ty.clone(), b.item.clone()),
                    // A unit struct's value (`let store = SqlStore;`).
                    None if ident.to_string().starts_with(|c: char| c.is_ascii_uppercase()) => {
                        (Some(boxed(vec![ident.to_string()])), None)
                    }
                    None => (None, None),
                },
                None => (None, None),
            },
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                if KEEPS.contains(&method.as_str()) {
                    self.value_type(&m.receiver)
                } else if LOCKS.contains(&method.as_str()) {
                    // `repo.lock()` is a guard of what the lock holds, or a `Result` of one.
                    let ty = self.value_type(&m.receiver).0;
                    (ty.clone(), ty)
                } else if UNWRAPS.contains(&method.as_str()) {
                    (self.value_type(&m.receiver).1, None)
                } else {
                    (None, None)
                }
            }
            syn::Expr::Await(a) => self.value_type(&a.base),
            syn::Expr::Try(t) => match self.value_type(&t.expr) {
                (_, Some(item)) => (Some(item), None),
                (ty, None) => (expr_type(&t.expr).or(ty), None),
            },
            other => (expr_type(other), None),
        }
    }

    /// A field-based receiver reached through a lock and its guard: `.lock()`,
    /// `.read()`, `.write()`, then `.unwrap()`, `.expect(…)`, `?` or `.await`.
    fn through_lock(&self, expr: &syn::Expr) -> Option<Receiver> {
        match strip(expr) {
            syn::Expr::Await(a) => self.through_lock(&a.base),
            syn::Expr::Try(t) => self.through_lock(&t.expr),
            syn::Expr::MethodCall(m) if UNWRAPS.contains(&m.method.to_string().as_str()) => self.through_lock(&m.receiver),
            syn::Expr::MethodCall(m) if LOCKS.contains(&m.method.to_string().as_str()) => match self.receiver(&m.receiver) {
                r @ (Receiver::Field(_) | Receiver::SelfValue | Receiver::Typed(_)) => Some(r),
                _ => None,
            },
            _ => None,
        }
    }

    /// What a method call's receiver is.
    pub(super) fn receiver(&self, expr: &syn::Expr) -> Receiver {
        match strip(expr) {
            syn::Expr::Path(p) if p.path.is_ident("self") => Receiver::SelfValue,
            syn::Expr::Path(p) if let Some(from) = p.path.get_ident().and_then(|i| self.binding(&i.to_string())?.from.clone()) => from,
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
            other => match self.value_type(other).0 {
                Some(ty) => Receiver::Typed(ty),
                // `self.repo.lock().unwrap()`, `data.repo.lock().await`: the field's type
                // (its lock seen through), resolved crate-wide.
                None => self.through_lock(other).or_else(|| self.returned(other, false)).unwrap_or(Receiver::Unknown),
            },
        }
    }

    /// What a call gives, resolved crate-wide by the function's declared return type:
    /// `Self::default_service()`, `state.repo()`, through `.await`, and what its
    /// `Option`/`Result` holds through `?`, `.unwrap()`, `.expect(..)` (`held`).
    fn returned(&self, expr: &syn::Expr, held: bool) -> Option<Receiver> {
        match strip(expr) {
            syn::Expr::Await(a) => self.returned(&a.base, held),
            syn::Expr::Try(t) => self.returned(&t.expr, true),
            syn::Expr::MethodCall(m) if UNWRAPS.contains(&m.method.to_string().as_str()) => self.returned(&m.receiver, true),
            // (`.map_err(..)`, `.context(..)`: the same `Result`, its error changed.)
            syn::Expr::MethodCall(m) if super::sql_locals::ERROR_PLUMBING.contains(&m.method.to_string().as_str()) => {
                self.returned(&m.receiver, held)
            }
            syn::Expr::Call(c) => match strip(&c.func) {
                syn::Expr::Path(p) if p.qself.is_none() => {
                    Some(Receiver::Returned(Box::new((boxed(crate::facts::lower::segments(&p.path)), held))))
                }
                _ => None,
            },
            syn::Expr::MethodCall(m) => match self.receiver(&m.receiver) {
                Receiver::Unknown => None,
                base => Some(Receiver::MethodReturned(Box::new((base, m.method.to_string().into_boxed_str(), held)))),
            },
            _ => None,
        }
    }
}

/// What a field-based receiver holds (a field chain is all [`Extractor::bind_from`]
/// and [`Extractor::field_receiver`] give it).
fn held_by(field: Receiver) -> Receiver {
    match field {
        Receiver::Field(f) => Receiver::Held(f),
        other => other,
    }
}

/// The first trait bound of each generic type parameter (`<R: Store>`, `where R: Store`).
pub(super) fn trait_bounds(generics: &syn::Generics) -> Vec<(String, PathText)> {
    crate::facts::names::trait_bounds(generics).into_iter().map(|(g, b)| (g, boxed(b))).collect()
}

/// The type of an expression when the syntax says it: `Type { … }`, `Type::new(…)`
/// (see [`is_constructor`]), a tuple struct's or variant's constructor `Type(…)`,
/// `Arc::new(<that>)`, through `?` and `.await`.
fn expr_type(expr: &syn::Expr) -> Option<PathText> {
    match strip(expr) {
        syn::Expr::Struct(s) if s.qself.is_none() => Some(boxed(crate::facts::lower::segments(&s.path))),
        syn::Expr::Try(t) => expr_type(&t.expr),
        syn::Expr::Await(a) => expr_type(&a.base),
        syn::Expr::Call(c) => {
            let syn::Expr::Path(p) = strip(&c.func) else { return None };
            if p.qself.is_some() {
                return None;
            }
            let segments = crate::facts::lower::segments(&p.path);
            let (last, prefix) = segments.split_last()?;
            // `ReadOnly(svc)`: a tuple struct (`Some(x)`, `Ok(x)` name no type of the
            // workspace and resolve to nothing).
            if last.starts_with(|c: char| c.is_ascii_uppercase()) {
                return Some(boxed(segments.clone()));
            }
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
