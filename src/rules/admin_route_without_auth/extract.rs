//! Per-file facts for `admin-route-without-auth` and the visitor that extracts them
//! ([`Extractor`]): the axum routers each function builds, as chains of operations
//! on a base (`Router::new()`, a helper's router, a `let` binding inlined), the
//! router a function returns, the functions whose parameters take an admin extractor
//! and the functions that build an admin-auth layer. Whether a route is covered is
//! decided crate-wide, in `analysis`, once helpers of other files are known.

use super::AdminParams;
use crate::input::source::{FileId, Loc, SourceFile};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};
use syn::spanned::Spanned;
use syn::visit::Visit;

/// A path argument (`"/admin"`, a constant naming one), as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathArg {
    Lit(String),
    /// A constant, resolved crate-wide.
    Const(Vec<String>, Loc),
    Unknown,
}

/// What a router chain starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Base {
    /// `Router::new()`, `Router::default()`: no routes yet.
    New,
    /// A function's call (`admin_routes()`, `routes::admin(state)`): the router it
    /// returns, when it is one of the crate's. `args`: the routers among its
    /// arguments (`with_admin_auth(admin_routes(), &state)`), by position.
    Call { path: Vec<String>, loc: Loc, args: Vec<Option<RouterExpr>> },
    /// The function's router parameter of that position (`fn with_admin_auth(r:
    /// Router) -> Router { r.layer(..) }`): the router its caller passes.
    Param(usize),
    /// Anything else (a parameter, a method's result): routes unknown.
    Unknown,
}

/// A router as a base and the operations applied to it, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterExpr {
    pub base: Base,
    pub ops: Vec<Op>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Route(Route),
    /// `.nest(prefix, router)` at `loc`.
    Nest { prefix: PathArg, inner: RouterExpr, loc: Loc },
    /// `.merge(router)` at `loc`.
    Merge { inner: RouterExpr, loc: Loc },
    /// `.layer(..)` / `.route_layer(..)` at `loc`.
    Layer(Layer),
    /// utoipa-axum's `.routes(routes!(h1, h2))` at `loc`: the handlers, whose
    /// `#[utoipa::path(..)]` attributes give the path and the methods.
    Routes { handlers: Vec<(Vec<String>, Loc)>, loc: Loc },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    pub loc: Loc,
    /// The expression names an admin-auth layer or extractor (or a local bound to one).
    pub auth: bool,
    /// Functions called in it (`admin_layer()`): admin auth when one of them builds
    /// an admin-auth layer.
    pub calls: Vec<(Vec<String>, Loc)>,
    /// The method, as written (`layer`, `route_layer`).
    pub method: String,
}

/// `.route(path, method_router)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub path: PathArg,
    /// From the method's name to the call's closing parenthesis.
    pub loc: Loc,
    pub methods: Vec<Method>,
    /// The method router was read (`get(h).post(h2)`); otherwise `methods` is empty
    /// and what the route serves is unknown.
    pub known: bool,
}

/// One method of a method router: `get(list_users)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    /// `GET`, `POST`, … (`ANY` for `any`, `ON` for `on`).
    pub name: String,
    pub handler: Handler,
    /// An admin-auth layer of the method router covers it (`get(h).layer(..)`).
    pub layered: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Handler {
    /// A function, by its path: protected when it takes an admin extractor.
    Fn(Vec<String>, Loc),
    /// A closure taking an admin extractor, or a handler with an admin-auth layer.
    Protected,
    /// A closure without one, a service, anything else.
    Other,
}

/// The routers one function builds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterFn {
    /// The function's name (`None`: code outside a function).
    pub name_loc: Option<Loc>,
    /// The router it returns (its tail expression).
    pub returns: Option<RouterExpr>,
    /// Routers it builds and uses otherwise (serves, passes on).
    pub roots: Vec<RouterExpr>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminFacts {
    pub fns: Vec<RouterFn>,
    /// Functions (by their name) with a parameter of an admin extractor type.
    pub extractor_fns: Vec<Loc>,
    /// Functions (by their name) whose body names an admin-auth layer: a layer built
    /// by calling one is admin auth.
    pub layer_fns: Vec<Loc>,
    /// Handlers with a `#[utoipa::path(get, path = "..")]` attribute (by their name):
    /// the route it declares, at the attribute.
    pub utoipa: Vec<(Loc, Route)>,
}

const METHODS: &[&str] = &["get", "post", "put", "delete", "patch", "head", "options", "trace", "connect", "any"];
/// Router operations that only a router has: a chain with one of them is a router.
const ROUTER_OPS: &[&str] =
    &["route", "route_service", "nest", "merge", "route_layer", "nest_service", "api_route", "api_route_with"];
/// Router types (axum's, aide's `ApiRouter`, utoipa-axum's `OpenApiRouter`).
const ROUTER_TYPES: &[&str] = &["Router", "ApiRouter", "OpenApiRouter"];

/// utoipa-axum's `routes!(h1, h2)`, as the argument of `.routes(..)`.
fn routes_macro(expr: &syn::Expr) -> Option<&syn::Macro> {
    match strip(expr) {
        syn::Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "routes") => Some(&m.mac),
        _ => None,
    }
}

/// A router operation: one only routers have, or utoipa-axum's `.routes(routes!(..))`.
fn is_router_op(m: &syn::ExprMethodCall) -> bool {
    ROUTER_OPS.contains(&m.method.to_string().as_str())
        || (m.method == "routes" && m.args.len() == 1 && routes_macro(&m.args[0]).is_some())
}

/// The method and path of a `#[utoipa::path(get, path = "/admin/users", ..)]`
/// attribute (`method(get, head)` for several methods).
fn utoipa_path(attr: &syn::Attribute) -> Option<(Vec<String>, String)> {
    let segments: Vec<String> = attr.path().segments.iter().map(|s| s.ident.to_string()).collect();
    if segments != ["utoipa", "path"] {
        return None;
    }
    let syn::Meta::List(list) = &attr.meta else { return None };
    let mut methods = Vec::new();
    let mut path = None;
    let tokens: Vec<proc_macro2::TokenTree> = list.tokens.clone().into_iter().collect();
    // Top-level entries, split at commas.
    for entry in tokens.split(|t| matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == ',')) {
        match entry {
            [proc_macro2::TokenTree::Ident(i)] if METHODS.contains(&i.to_string().as_str()) => {
                methods.push(i.to_string().to_uppercase());
            }
            [proc_macro2::TokenTree::Ident(i), proc_macro2::TokenTree::Group(g)] if i == "method" => {
                for t in g.stream() {
                    if let proc_macro2::TokenTree::Ident(m) = t {
                        methods.push(m.to_string().to_uppercase());
                    }
                }
            }
            [proc_macro2::TokenTree::Ident(i), proc_macro2::TokenTree::Punct(eq), proc_macro2::TokenTree::Literal(lit)]
                if i == "path" && eq.as_char() == '=' =>
            {
                if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string()) {
                    path = Some(s.value());
                }
            }
            _ => {}
        }
    }
    Some((methods, path?))
}

pub fn extract(file: FileId, source: &SourceFile, syntax: &syn::File, params: &AdminParams) -> AdminFacts {
    let mut aliases = Aliases::default();
    aliases.visit_file(syntax);
    let mut x = Extractor { file, source, params, aliases: aliases.map, facts: AdminFacts::default() };
    x.visit_file(syntax);
    x.facts
}

/// The file-level visitor: every function (free, in an `impl`, in a trait, nested).
struct Extractor<'a> {
    file: FileId,
    source: &'a SourceFile,
    params: &'a AdminParams,
    /// The file's renaming imports, by alias: `use axum::routing::get as axum_get`
    /// gives `axum_get` → `get`.
    aliases: HashMap<String, String>,
    facts: AdminFacts,
}

/// The renaming imports of a file (`use a::b as c`), wherever they are written.
#[derive(Default)]
struct Aliases {
    map: HashMap<String, String>,
}

impl<'ast> Visit<'ast> for Aliases {
    fn visit_use_rename(&mut self, r: &'ast syn::UseRename) {
        self.map.insert(r.rename.to_string(), r.ident.to_string());
    }
}

impl Extractor<'_> {
    fn loc(&self, span: proc_macro2::Span) -> Loc {
        self.source.span_loc(self.file, span, span)
    }

    fn function(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let name_loc = self.loc(sig.ident.span());
        let names = self.names();
        if sig.inputs.iter().any(|arg| matches!(arg, syn::FnArg::Typed(t) if type_names(&t.ty, &names.extractors))) {
            self.facts.extractor_fns.push(name_loc);
        }
        if names_any(block, &names.layers) {
            self.facts.layer_fns.push(name_loc);
        }
        // `Router<S>`, and a fallible builder's `Result<Router, E>`.
        let returns_router = matches!(&sig.output, syn::ReturnType::Type(_, ty) if names_any(&**ty, &router_types()));
        let router_params = (sig.inputs.iter().filter_map(|arg| match arg {
            syn::FnArg::Typed(t) => Some(t),
            syn::FnArg::Receiver(_) => None,
        }))
        .enumerate()
        .filter(|(_, t)| type_names(&t.ty, &router_types()))
        .filter_map(|(i, t)| Some((pat_name(&t.pat)?, i)))
        .collect();
        let mut body = Body {
            x: self,
            bindings: Vec::new(),
            router_params,
            calls: HashMap::default(),
            auth_locals: HashSet::default(),
            roots: Vec::new(),
        };
        let (tail, rest) = match block.stmts.split_last() {
            Some((syn::Stmt::Expr(e, None), rest)) => (Some(e), rest),
            _ => (None, &block.stmts[..]),
        };
        for stmt in rest {
            body.visit_stmt(stmt);
        }
        let mut returns = None;
        if let Some(tail) = tail {
            match body.router(tail, returns_router) {
                Some(r) => returns = Some(r),
                None => body.visit_expr(tail),
            }
        }
        let mut roots = std::mem::take(&mut body.roots);
        roots.extend(body.bindings.drain(..).filter(|b| !b.consumed).map(|b| b.router));
        roots.retain(|r| !r.ops.is_empty() || matches!(r.base, Base::Call { .. }));
        if returns.is_some() || !roots.is_empty() {
            self.facts.fns.push(RouterFn { name_loc: Some(name_loc), returns, roots });
        }
    }

    fn names(&self) -> Names {
        // A name imported under an alias (`use crate::auth::require_admin as guard`)
        // is written as the alias.
        let with_aliases = |names: Vec<String>| {
            let mut out = names.clone();
            out.extend(self.aliases.iter().filter(|(_, original)| names.contains(original)).map(|(alias, _)| alias.clone()));
            out
        };
        Names {
            layers: with_aliases(self.params.auth_layers.iter().chain(&self.params.admin_extractors).cloned().collect()),
            extractors: with_aliases(self.params.admin_extractors.clone()),
        }
    }

    /// The name an identifier stands for: the imported item's own name when it is
    /// an alias of the file's `use`s.
    fn unaliased<'s>(&'s self, name: &'s str) -> &'s str {
        self.aliases.get(name).map_or(name, String::as_str)
    }
}

struct Names {
    /// Names that make a layer expression admin auth.
    layers: Vec<String>,
    extractors: Vec<String>,
}

impl<'ast> Visit<'ast> for Extractor<'_> {
    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        if let Some(attr) = i.attrs.iter().find(|a| utoipa_path(a).is_some())
            && let Some((methods, path)) = utoipa_path(attr)
        {
            let name_loc = self.loc(i.sig.ident.span());
            let handler = Handler::Fn(vec![i.sig.ident.to_string()], name_loc);
            let methods = methods.into_iter().map(|name| Method { name, handler: handler.clone(), layered: false }).collect();
            let route = Route { path: PathArg::Lit(path), loc: self.loc(attr.span()), methods, known: true };
            self.facts.utoipa.push((name_loc, route));
        }
        self.function(&i.sig, &i.block);
        // Functions nested in the body.
        syn::visit::visit_block(self, &i.block);
    }

    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        self.function(&i.sig, &i.block);
        syn::visit::visit_block(self, &i.block);
    }

    fn visit_trait_item_fn(&mut self, i: &'ast syn::TraitItemFn) {
        if let Some(block) = &i.default {
            self.function(&i.sig, block);
            syn::visit::visit_block(self, block);
        }
    }

    // Expressions are read by the function that holds them; only items nested in
    // blocks are looked for here.
    fn visit_expr(&mut self, _: &'ast syn::Expr) {}
}

/// A `let` bound to a router: inlined where the name is used next.
struct Binding {
    name: String,
    router: RouterExpr,
    consumed: bool,
}

/// One function body, statement by statement.
struct Body<'x, 'a> {
    x: &'x mut Extractor<'a>,
    bindings: Vec<Binding>,
    /// The function's parameters of a router type, with their positions.
    router_params: HashMap<String, usize>,
    /// Locals bound to a plain call (`let admin = admin_routes();`): a router base
    /// when used as one.
    calls: HashMap<String, (Vec<String>, Loc)>,
    /// Locals bound to an admin-auth layer (`let auth = from_fn(require_admin);`).
    auth_locals: HashSet<String>,
    roots: Vec<RouterExpr>,
}

fn pat_name(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::Type(t) => pat_name(&t.pat),
        _ => None,
    }
}

/// The expression a value comes from, through parentheses, references, `.await`,
/// `?` and `Ok(..)`: `admin_router(state).await?` is the router `admin_router`
/// returns, `Ok(router)` the router of a fallible builder.
fn strip(mut e: &syn::Expr) -> &syn::Expr {
    loop {
        match e {
            syn::Expr::Paren(p) => e = &p.expr,
            syn::Expr::Group(g) => e = &g.expr,
            syn::Expr::Reference(r) => e = &r.expr,
            syn::Expr::Await(a) => e = &a.base,
            syn::Expr::Try(t) => e = &t.expr,
            syn::Expr::Call(c) if c.args.len() == 1 && is_ok(&c.func) => e = &c.args[0],
            _ => return e,
        }
    }
}

/// `Ok`, `Result::Ok`.
fn is_ok(func: &syn::Expr) -> bool {
    matches!(func, syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Ok"))
}

fn path_segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// The method calls of a chain, innermost first, and the expression they start from.
fn peel(expr: &syn::Expr) -> (&syn::Expr, Vec<&syn::ExprMethodCall>) {
    let mut calls = Vec::new();
    let mut e = strip(expr);
    while let syn::Expr::MethodCall(m) = e {
        calls.push(m);
        e = strip(&m.receiver);
    }
    calls.reverse();
    (e, calls)
}

impl Body<'_, '_> {
    fn loc(&self, span: proc_macro2::Span) -> Loc {
        self.x.loc(span)
    }

    /// The binding a name refers to, consumed.
    fn take_binding(&mut self, name: &str) -> Option<RouterExpr> {
        let b = self.bindings.iter_mut().rev().find(|b| b.name == name)?;
        b.consumed = true;
        Some(b.router.clone())
    }

    /// A router chain, when `expr` is one: it starts from `Router::new()` or a
    /// router binding, or applies an operation only routers have; with `relaxed`
    /// (where a router is expected: a nest or merge argument, a function returning
    /// a `Router`), a call or a call binding with any operations is one too.
    fn router(&mut self, expr: &syn::Expr, relaxed: bool) -> Option<RouterExpr> {
        let (base_expr, calls) = peel(expr);
        let router_ops = calls.iter().any(|m| is_router_op(m));
        let (base, mut ops) = match base_expr {
            syn::Expr::Call(call) => match strip(&call.func) {
                syn::Expr::Path(p) => {
                    let path = path_segments(&p.path);
                    let is_new = path.len() >= 2
                        && ROUTER_TYPES.contains(&self.x.unaliased(&path[path.len() - 2]))
                        && matches!(path.last().map(String::as_str), Some("new" | "default" | "with_openapi"));
                    if is_new {
                        (Base::New, Vec::new())
                    } else {
                        // Routers passed to it: any call where a router is expected,
                        // or a router where one is not.
                        let args: Vec<Option<RouterExpr>> =
                            call.args.iter().map(|a| self.router(a, router_ops || relaxed)).collect();
                        if !(router_ops || relaxed || args.iter().any(Option::is_some)) {
                            return None;
                        }
                        (Base::Call { path, loc: self.loc(call.span()), args }, Vec::new())
                    }
                }
                _ if router_ops => (Base::Unknown, Vec::new()),
                _ => return None,
            },
            syn::Expr::Path(p) if p.path.segments.len() == 1 && p.qself.is_none() => {
                let name = p.path.segments[0].ident.to_string();
                if self.bindings.iter().any(|b| b.name == name) {
                    let r = self.take_binding(&name)?;
                    (r.base, r.ops)
                } else if let Some((path, loc)) = self.calls.get(&name).cloned() {
                    (Base::Call { path, loc, args: Vec::new() }, Vec::new())
                } else if let Some(i) = self.router_params.get(&name) {
                    (Base::Param(*i), Vec::new())
                } else if router_ops {
                    (Base::Unknown, Vec::new())
                } else {
                    return None;
                }
            }
            _ if router_ops => (Base::Unknown, Vec::new()),
            _ => return None,
        };
        for m in calls {
            if let Some(op) = self.op(m) {
                ops.push(op);
            } else {
                // Arguments of other methods (`.fallback(..)`, `.with_state(..)`) may
                // build routers of their own.
                for arg in &m.args {
                    self.visit_expr(arg);
                }
            }
        }
        if let Base::Call { args, .. } = &base
            && let syn::Expr::Call(call) = base_expr
        {
            for (arg, router) in call.args.iter().zip(args) {
                if router.is_none() {
                    self.visit_expr(arg);
                }
            }
        }
        Some(RouterExpr { base, ops })
    }

    fn op(&mut self, m: &syn::ExprMethodCall) -> Option<Op> {
        let method = m.method.to_string();
        let loc = self.x.source.span_loc(self.x.file, m.method.span(), m.paren_token.span.close());
        let args: Vec<&syn::Expr> = m.args.iter().collect();
        match (method.as_str(), args.as_slice()) {
            // aide's `api_route(path, get_with(h, docs))`, `api_route_with(path, .., transform)`.
            ("route" | "api_route", [path, method_router]) | ("api_route_with", [path, method_router, _]) => {
                let path = self.path_arg(path);
                let (methods, known) = self.method_router(method_router);
                Some(Op::Route(Route { path, loc, methods, known }))
            }
            ("route_service", [path, _]) => {
                Some(Op::Route(Route { path: self.path_arg(path), loc, methods: Vec::new(), known: false }))
            }
            ("nest", [prefix, inner]) => {
                let prefix = self.path_arg(prefix);
                let inner = self.router(inner, true).unwrap_or(RouterExpr { base: Base::Unknown, ops: Vec::new() });
                Some(Op::Nest { prefix, inner, loc })
            }
            ("merge", [inner]) => {
                let inner = self.router(inner, true).unwrap_or(RouterExpr { base: Base::Unknown, ops: Vec::new() });
                Some(Op::Merge { inner, loc })
            }
            ("layer" | "route_layer", [layer]) => Some(Op::Layer(self.layer(layer, loc, method))),
            ("routes", [arg]) => {
                let mac = routes_macro(arg)?;
                let paths = mac
                    .parse_body_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                    .ok()?;
                let handlers = paths.iter().map(|p| (path_segments(p), self.loc(p.span()))).collect();
                Some(Op::Routes { handlers, loc })
            }
            _ => None,
        }
    }

    fn layer(&self, expr: &syn::Expr, loc: Loc, method: String) -> Layer {
        let names = self.x.names();
        let auth = names_any(expr, &names.layers) || names_any(expr, &self.auth_locals.iter().cloned().collect::<Vec<_>>());
        let mut calls = Vec::new();
        if !auth {
            let mut found = Calls { out: Vec::new() };
            found.visit_expr(expr);
            calls = found.out.into_iter().map(|(path, span)| (path, self.loc(span))).collect();
        }
        Layer { loc, auth, calls, method }
    }

    fn path_arg(&self, expr: &syn::Expr) -> PathArg {
        match strip(expr) {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => PathArg::Lit(s.value()),
            syn::Expr::Path(p) if p.qself.is_none() => PathArg::Const(path_segments(&p.path), self.loc(p.span())),
            _ => PathArg::Unknown,
        }
    }

    /// The methods of a method router (`get(h).post(h2).layer(..)`), and whether it
    /// could be read.
    fn method_router(&self, expr: &syn::Expr) -> (Vec<Method>, bool) {
        let (base, calls) = peel(expr);
        let mut methods = Vec::new();
        let syn::Expr::Call(call) = base else { return (methods, false) };
        let syn::Expr::Path(p) = strip(&call.func) else { return (methods, false) };
        let Some(first) = p.path.segments.last().map(|s| self.x.unaliased(&s.ident.to_string()).to_string()) else {
            return (methods, false);
        };
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        match self.method(&first, &args) {
            Some(m) => methods.push(m),
            None => return (methods, false),
        }
        let names = self.x.names();
        for m in calls {
            let name = m.method.to_string();
            let args: Vec<&syn::Expr> = m.args.iter().collect();
            if let Some(method) = self.method(&name, &args) {
                methods.push(method);
            } else if (name == "layer" || name == "route_layer") && args.first().is_some_and(|a| names_any(*a, &names.layers)) {
                for method in &mut methods {
                    method.layered = true;
                }
            }
        }
        (methods, true)
    }

    /// `get(h)`, `on(filter, h)`, `get_service(svc)`, aide's `get_with(h, docs)`.
    fn method(&self, name: &str, args: &[&syn::Expr]) -> Option<Method> {
        let base = name.strip_suffix("_service").unwrap_or(name);
        let with = base.strip_suffix("_with");
        let base = with.unwrap_or(base);
        let handler = match (base, args) {
            ("on", [_, h]) if with.is_none() => *h,
            ("on", [_, h, _]) => *h,
            (m, [h, _]) if with.is_some() && METHODS.contains(&m) => *h,
            (m, [h]) if with.is_none() && METHODS.contains(&m) => *h,
            _ => return None,
        };
        Some(Method { name: base.to_uppercase(), handler: self.handler(handler), layered: false })
    }

    fn handler(&self, expr: &syn::Expr) -> Handler {
        let names = self.x.names();
        let (base, calls) = peel(expr);
        let layered = calls.iter().any(|m| {
            (m.method == "layer" || m.method == "route_layer") && m.args.first().is_some_and(|a| names_any(a, &names.layers))
        });
        if layered {
            return Handler::Protected;
        }
        match base {
            syn::Expr::Path(p) if p.qself.is_none() => Handler::Fn(path_segments(&p.path), self.loc(p.span())),
            syn::Expr::Closure(c) => {
                let takes = c.inputs.iter().any(|i| matches!(i, syn::Pat::Type(t) if type_names(&t.ty, &names.extractors)));
                if takes { Handler::Protected } else { Handler::Other }
            }
            _ => Handler::Other,
        }
    }
}

impl<'ast> Visit<'ast> for Body<'_, '_> {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init
            && init.diverge.is_none()
            && let Some(name) = pat_name(&l.pat)
        {
            let typed_router = matches!(&l.pat, syn::Pat::Type(t) if type_names(&t.ty, &router_types()));
            if let Some(router) = self.router(&init.expr, typed_router) {
                self.bindings.push(Binding { name, router, consumed: false });
                return;
            }
            if let syn::Expr::Call(call) = strip(&init.expr)
                && let syn::Expr::Path(p) = strip(&call.func)
            {
                let loc = self.loc(call.span());
                self.calls.insert(name.clone(), (path_segments(&p.path), loc));
            }
            if names_any(&*init.expr, &self.x.names().layers) {
                self.auth_locals.insert(name);
            }
        }
        syn::visit::visit_local(self, l);
    }

    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        if let syn::Expr::Path(p) = strip(&a.left)
            && let Some(name) = p.path.get_ident().map(ToString::to_string)
            && self.bindings.iter().any(|b| b.name == name)
            && let Some(router) = self.router(&a.right, true)
        {
            self.bindings.push(Binding { name, router, consumed: false });
            return;
        }
        syn::visit::visit_expr_assign(self, a);
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if let Some(router) = self.router(e, false) {
            self.roots.push(router);
            return;
        }
        syn::visit::visit_expr(self, e);
    }

    // Nested functions are read on their own.
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Function calls by path in a layer expression.
struct Calls {
    out: Vec<(Vec<String>, proc_macro2::Span)>,
}

impl<'ast> Visit<'ast> for Calls {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = strip(&c.func) {
            self.out.push((path_segments(&p.path), c.span()));
        }
        syn::visit::visit_expr_call(self, c);
    }
}

/// Whether any identifier of `node` is one of `names`.
fn names_any<T: NodeVisit>(node: &T, names: &[String]) -> bool {
    struct Find<'s> {
        names: &'s [String],
        found: bool,
    }
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            if !self.found && self.names.iter().any(|n| names_layer(&i.to_string(), n)) {
                self.found = true;
            }
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            // Tokens of a macro call (`tower::ServiceBuilder` in a macro).
            for tt in m.tokens.clone() {
                if let proc_macro2::TokenTree::Ident(i) = tt {
                    self.visit_ident(&i);
                }
            }
            syn::visit::visit_macro(self, m);
        }
    }
    if names.is_empty() {
        return false;
    }
    let mut f = Find { names, found: false };
    node.visit_with(&mut f);
    f.found
}

/// The router types a function returning one is recognised by.
fn router_types() -> Vec<String> {
    ROUTER_TYPES.iter().map(ToString::to_string).collect()
}

/// Whether an identifier is the configured name `name`, or, for a snake_case
/// (function) name, a longer function name it begins at a `_`: `require_admin`
/// names `require_admin_with_audit` and `require_admin_or_service`, not
/// `require_administrator`. A type's name (`AdminUser`) matches only itself.
fn names_layer(ident: &str, name: &str) -> bool {
    ident == name
        || (!name.is_empty()
            && !name.chars().any(char::is_uppercase)
            && ident.strip_prefix(name).is_some_and(|rest| rest.starts_with('_')))
}

/// Nodes [`names_any`] reads.
trait NodeVisit {
    fn visit_with<'ast>(&'ast self, v: &mut impl Visit<'ast>);
}

impl NodeVisit for syn::Expr {
    fn visit_with<'ast>(&'ast self, v: &mut impl Visit<'ast>) {
        v.visit_expr(self);
    }
}

impl NodeVisit for syn::Type {
    fn visit_with<'ast>(&'ast self, v: &mut impl Visit<'ast>) {
        v.visit_type(self);
    }
}

impl NodeVisit for syn::Block {
    fn visit_with<'ast>(&'ast self, v: &mut impl Visit<'ast>) {
        v.visit_block(self);
    }
}

/// Whether a type names one of `names` (`AdminUser`, `Extension<AdminUser>`,
/// `axum::Extension<auth::AdminUser>`), outside an `Option` or `Result` (an
/// optional extractor rejects nobody).
fn type_names(ty: &syn::Type, names: &[String]) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.iter().any(|s| {
            if s.ident == "Option" || s.ident == "Result" {
                return false;
            }
            names.iter().any(|n| s.ident == n)
                || match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|g| match g {
                        syn::GenericArgument::Type(t) => type_names(t, names),
                        _ => false,
                    }),
                    _ => false,
                }
        }),
        syn::Type::Reference(r) => type_names(&r.elem, names),
        syn::Type::Paren(p) => type_names(&p.elem, names),
        syn::Type::Group(g) => type_names(&g.elem, names),
        syn::Type::Tuple(t) => t.elems.iter().any(|t| type_names(t, names)),
        _ => false,
    }
}
