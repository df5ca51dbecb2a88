//! The routers of the crate, evaluated: each router a function builds (and each
//! helper's router nothing mounts) is flattened into its routes with their full
//! paths, following nested and merged routers and helper calls (resolved with the
//! crate-wide name model), with which admin-auth layers cover each route. A layer
//! covers the routes its router holds when it is added; one added before a route of
//! the same router is remembered for the finding.

use super::{AdminParams, AdminRouteWithoutAuth, Base, Handler, Layer, Op, PathArg, Route, RouterExpr};
use crate::facts::defs::Resolved;
use crate::facts::value::Value;
use crate::input::source::Loc;
use crate::rules::CheckCx;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;

/// How many helper routers deep a router is followed.
const MAX_DEPTH: usize = 8;

/// Where a router from another function is mounted.
#[derive(Clone, Debug)]
pub(super) struct Mount {
    pub loc: Loc,
    pub kind: MountKind,
}

#[derive(Clone, Debug)]
pub(super) enum MountKind {
    /// `.nest(prefix, ..)`, with the prefix when it is known.
    Nest(Option<String>),
    Merge,
    /// The helper's call, with nothing around it (`admin_routes().layer(..)`).
    Call(String),
}

/// One route of an evaluated router.
#[derive(Clone, Debug)]
pub(super) struct Flat<'a> {
    /// The `.route(..)`, or the route a utoipa-axum `.routes(routes!(..))` makes of
    /// its handlers' `#[utoipa::path]` attributes.
    pub route: Cow<'a, Route>,
    /// The full path (`None`: some part of it is unknown).
    pub path: Option<String>,
    /// An admin-auth layer of a router holding it covers it.
    pub covered: bool,
    /// Where the router holding it is mounted, when that is in another function.
    pub mount: Option<Mount>,
    /// An admin-auth layer added to a router before the route was.
    pub layer_above: Option<Loc>,
}

/// An admin route no layer or extractor protects.
pub(super) struct Unprotected<'a> {
    pub flat: Flat<'a>,
    /// The methods left unprotected (empty: the route's methods are unknown).
    pub methods: Vec<String>,
    /// Why it is an admin route: the prefix its path has, or the admin module of a
    /// handler (its name and file).
    pub prefix: Option<String>,
    pub module: Option<(String, String)>,
}

pub(super) struct Model<'c, 'a> {
    cx: &'c CheckCx<'a>,
    params: &'c AdminParams,
    /// The router each function returns, by the function's name.
    returns: HashMap<Loc, &'a RouterExpr>,
    extractor_fns: HashSet<Loc>,
    layer_fns: HashSet<Loc>,
    /// The route of each handler with a `#[utoipa::path]` attribute, by its name.
    utoipa: HashMap<Loc, &'a Route>,
}

impl<'c, 'a> Model<'c, 'a> {
    pub(super) fn new(cx: &'c CheckCx<'a>, params: &'c AdminParams) -> Self {
        let mut model =
            Model {
            cx,
            params,
            returns: HashMap::default(),
            extractor_fns: HashSet::default(),
            layer_fns: HashSet::default(),
            utoipa: HashMap::default(),
        };
        for facts in cx.facts::<AdminRouteWithoutAuth>() {
            model.extractor_fns.extend(facts.extractor_fns.iter().copied());
            model.layer_fns.extend(facts.layer_fns.iter().copied());
            model.utoipa.extend(facts.utoipa.iter().map(|(name, route)| (*name, route)));
            for f in &facts.fns {
                if let (Some(name), Some(r)) = (f.name_loc, &f.returns) {
                    model.returns.insert(name, r);
                }
            }
        }
        model
    }

    /// Every admin route of the crate that nothing protects, once per `.route(`
    /// call, in file order of the routers that hold them.
    pub(super) fn unprotected(&self) -> Vec<Unprotected<'a>> {
        // Helpers whose router some router of the crate uses.
        let mut mounted: HashSet<Loc> = HashSet::default();
        let mut top: Vec<&'a RouterExpr> = Vec::new();
        let mut helpers: Vec<(Loc, &'a RouterExpr)> = Vec::new();
        for facts in self.cx.facts::<AdminRouteWithoutAuth>() {
            for f in &facts.fns {
                for r in f.roots.iter().chain(&f.returns) {
                    self.calls_in(r, &mut mounted);
                }
                top.extend(&f.roots);
                for r in f.roots.iter().chain(&f.returns) {
                    self.orphans(r, &mut top);
                }
                if let (Some(name), Some(r)) = (f.name_loc, &f.returns) {
                    helpers.push((name, r));
                }
            }
        }
        // A route once, wherever its router is mounted (a `routes!` call makes a route
        // per path its handlers declare).
        let mut seen: HashSet<(Loc, PathArg)> = HashSet::default();
        let mut out = Vec::new();
        let unmounted = helpers.iter().filter(|(name, _)| !mounted.contains(name));
        let mut evaluate = |flats: Vec<Flat<'a>>, out: &mut Vec<Unprotected<'a>>| {
            for flat in flats {
                if let Some(u) = self.judge(flat)
                    && seen.insert((u.flat.route.loc, u.flat.route.path.clone()))
                {
                    out.push(u);
                }
            }
        };
        for r in top {
            evaluate(self.eval(r, None, &mut Vec::new(), &Frame::TOP), &mut out);
        }
        for (name, r) in unmounted {
            evaluate(self.eval(r, None, &mut vec![*name], &Frame::TOP), &mut out);
        }
        out
    }

    /// The router parameters the function a call names uses in the router it
    /// returns (`None`: the call is not to a helper of the crate).
    fn uses(&self, path: &[String], at: Loc) -> Option<HashSet<usize>> {
        let helper = self.helpers(path, at).into_iter().next()?;
        let mut used = HashSet::default();
        params_in(self.returns.get(&helper)?, &mut used);
        Some(used)
    }

    /// The routers passed to a function that does not return them (`serve(app)`,
    /// a helper not of the crate), in `r` and the routers it holds: read on their
    /// own, as routers of their own. A bare call (`foo(admin_routes())`) is not one:
    /// its helper is read on its own as not mounted.
    fn orphans(&self, r: &'a RouterExpr, into: &mut Vec<&'a RouterExpr>) {
        if let Base::Call { path, loc, args } = &r.base {
            let used = self.uses(path, *loc).unwrap_or_default();
            for (i, arg) in args.iter().enumerate() {
                let Some(arg) = arg else { continue };
                if !used.contains(&i) && !is_bare_call(arg) {
                    into.push(arg);
                }
                self.orphans(arg, into);
            }
        }
        for op in &r.ops {
            if let Op::Nest { inner, .. } | Op::Merge { inner, .. } = op {
                self.orphans(inner, into);
            }
        }
    }

    /// The helpers a router's calls resolve to, added to `into`.
    fn calls_in(&self, r: &RouterExpr, into: &mut HashSet<Loc>) {
        if let Base::Call { path, loc, args } = &r.base {
            into.extend(self.helpers(path, *loc));
            let used = self.uses(path, *loc).unwrap_or_default();
            for (i, arg) in args.iter().enumerate() {
                if let Some(arg) = arg
                    && (used.contains(&i) || !is_bare_call(arg))
                {
                    self.calls_in(arg, into);
                }
            }
        }
        for op in &r.ops {
            match op {
                Op::Nest { inner, .. } | Op::Merge { inner, .. } => self.calls_in(inner, into),
                _ => {}
            }
        }
    }

    /// The functions returning a router that a call names.
    fn helpers(&self, path: &[String], at: Loc) -> Vec<Loc> {
        let mut found: Vec<Loc> = self.cx.fns_at(at, path).into_iter().map(|f| f.name_loc).collect();
        found.retain(|l| self.returns.contains_key(l));
        found.sort();
        found.dedup();
        found
    }

    /// The routes of a router, with paths relative to it. `site` is the nest or
    /// merge it is the argument of; `stack` the helpers being evaluated; `frame` the
    /// routers passed to the helper `r` is the router of.
    fn eval(&self, r: &'a RouterExpr, site: Option<&Mount>, stack: &mut Vec<Loc>, frame: &Frame<'_, 'a>) -> Vec<Flat<'a>> {
        let mut out: Vec<Flat<'a>> = Vec::new();
        if let Base::Call { path, loc, args } = &r.base
            && stack.len() < MAX_DEPTH
            && let Some(helper) = self.helpers(path, *loc).into_iter().find(|h| !stack.contains(h))
            && let Some(inner) = self.returns.get(&helper)
        {
            stack.push(helper);
            let mount = site.cloned().unwrap_or(Mount { loc: *loc, kind: MountKind::Call(path.join("::")) });
            let called = Frame { args, caller: Some(frame) };
            for mut flat in self.eval(inner, None, stack, &called) {
                flat.mount.get_or_insert_with(|| mount.clone());
                out.push(flat);
            }
            stack.pop();
        }
        // The router the caller passed (`fn with_admin_auth(r: Router) -> Router {
        // r.layer(..) }`), read where the caller wrote it.
        if let Base::Param(i) = r.base
            && let Some(Some(arg)) = frame.args.get(i)
            && stack.len() < MAX_DEPTH
        {
            out.extend(self.eval(arg, None, stack, frame.caller.unwrap_or(&Frame::TOP)));
        }
        let mut layer_above: Option<Loc> = None;
        for op in &r.ops {
            match op {
                Op::Route(route) => out.push(Flat {
                    route: Cow::Borrowed(route),
                    path: self.path(&route.path),
                    covered: false,
                    mount: None,
                    layer_above,
                }),
                Op::Nest { prefix, inner, loc } => {
                    let prefix = self.path(prefix);
                    let mount = Mount { loc: *loc, kind: MountKind::Nest(prefix.clone()) };
                    for mut flat in self.eval(inner, Some(&mount), stack, frame) {
                        flat.path = match (&prefix, &flat.path) {
                            (Some(p), Some(path)) => Some(join(p, path)),
                            _ => None,
                        };
                        flat.layer_above = flat.layer_above.or(layer_above);
                        out.push(flat);
                    }
                }
                Op::Merge { inner, loc } => {
                    let mount = Mount { loc: *loc, kind: MountKind::Merge };
                    for mut flat in self.eval(inner, Some(&mount), stack, frame) {
                        flat.layer_above = flat.layer_above.or(layer_above);
                        out.push(flat);
                    }
                }
                Op::Routes { handlers, loc } => {
                    for route in self.utoipa_routes(handlers, *loc) {
                        out.push(Flat { path: self.path(&route.path), route: Cow::Owned(route), covered: false, mount: None, layer_above });
                    }
                }
                Op::Layer(layer) => {
                    if self.is_auth(layer) {
                        for flat in &mut out {
                            flat.covered = true;
                        }
                        layer_above = Some(layer.loc);
                    }
                }
            }
        }
        out
    }

    /// The routes of utoipa-axum's `routes!(h1, h2)` at `loc`: one per path of the
    /// handlers' `#[utoipa::path]` attributes, with their methods. A handler without
    /// one (not of the crate, a path built otherwise) is left out.
    fn utoipa_routes(&self, handlers: &[(Vec<String>, Loc)], loc: Loc) -> Vec<Route> {
        let mut routes: Vec<Route> = Vec::new();
        for (path, at) in handlers {
            let Some(declared) = self.cx.fns_at(*at, path).iter().find_map(|f| self.utoipa.get(&f.name_loc)) else {
                continue;
            };
            match routes.iter_mut().find(|r| r.path == declared.path) {
                Some(r) => r.methods.extend(declared.methods.iter().cloned()),
                None => routes.push(Route { loc, ..(*declared).clone() }),
            }
        }
        routes
    }

    /// Whether a layer is admin auth: by the names in it, or by a function of the
    /// crate it calls that builds one.
    fn is_auth(&self, layer: &Layer) -> bool {
        layer.auth
            || layer.calls.iter().any(|(path, at)| {
                self.cx.fns_at(*at, path).iter().any(|f| self.layer_fns.contains(&f.name_loc))
            })
    }

    /// The admin module defining the handler a path names, with the handler's name:
    /// only a function the path resolves to, or one of its own crate when it cannot
    /// be resolved (a handler of the same name elsewhere is not it).
    fn admin_module(&self, path: &[String], at: Loc) -> Option<(String, String)> {
        let defs = &self.cx.defs;
        let name = path.last()?;
        let locs: Vec<Loc> = match defs.resolve(&defs.context(at), path) {
            Resolved::Items(locs) => locs,
            Resolved::External => return None,
            Resolved::Unknown => self
                .cx
                .index
                .fns_named(name)
                .map(|f| f.name_loc)
                .filter(|l| defs.may_name_unresolved(at, *l))
                .collect(),
        };
        locs.into_iter().find_map(|l| {
            let file = &self.cx.db.get(l.file).display;
            self.params.is_admin_module(file).then(|| (name.clone(), file.clone()))
        })
    }

    /// A path argument's text: a literal, or a string constant of the crate.
    fn path(&self, arg: &PathArg) -> Option<String> {
        match arg {
            PathArg::Lit(s) => Some(s.clone()),
            PathArg::Const(path, at) => self.cx.consts_at(*at, path).into_iter().find_map(|c| match &c.value {
                Value::Str { text, .. } => Some(text.clone()),
                _ => None,
            }),
            PathArg::Unknown => None,
        }
    }

    /// The finding a route makes, if it is an admin route nothing protects.
    fn judge(&self, flat: Flat<'a>) -> Option<Unprotected<'a>> {
        if flat.covered {
            return None;
        }
        let prefix = flat.path.as_deref().and_then(|p| self.params.admin_prefix(p)).map(str::to_string);
        let mut module = None;
        let mut methods = Vec::new();
        for m in &flat.route.methods {
            if m.layered {
                continue;
            }
            let handler_module = match &m.handler {
                Handler::Protected => continue,
                Handler::Other => None,
                Handler::Fn(path, at) => {
                    let fns = self.cx.fns_at(*at, path);
                    if fns.iter().any(|f| self.extractor_fns.contains(&f.name_loc)) {
                        continue;
                    }
                    self.admin_module(path, *at)
                }
            };
            if prefix.is_some() || handler_module.is_some() {
                methods.push(m.name.clone());
                module = module.or(handler_module);
            }
        }
        let unknown = !flat.route.known && prefix.is_some();
        if methods.is_empty() && !unknown {
            return None;
        }
        Some(Unprotected { flat, methods, prefix, module })
    }
}

/// The routers passed to a helper being evaluated, and its caller's.
pub(super) struct Frame<'f, 'a> {
    args: &'a [Option<RouterExpr>],
    caller: Option<&'f Frame<'f, 'a>>,
}

impl Frame<'_, '_> {
    /// A router built outside any call.
    const TOP: Frame<'static, 'static> = Frame { args: &[], caller: None };
}

/// A call with no routers around it or passed to it (`admin_routes()`).
fn is_bare_call(r: &RouterExpr) -> bool {
    r.ops.is_empty() && matches!(&r.base, Base::Call { args, .. } if args.iter().all(Option::is_none))
}

/// The router parameters a function's router uses, anywhere in it.
fn params_in(r: &RouterExpr, into: &mut HashSet<usize>) {
    match &r.base {
        Base::Param(i) => {
            into.insert(*i);
        }
        Base::Call { args, .. } => args.iter().flatten().for_each(|a| params_in(a, into)),
        _ => {}
    }
    for op in &r.ops {
        if let Op::Nest { inner, .. } | Op::Merge { inner, .. } = op {
            params_in(inner, into);
        }
    }
}

/// A nested route's path: axum's `nest("/admin", ..)` serves the inner `/` at
/// `/admin` and `/users` at `/admin/users`.
fn join(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    match path {
        "" | "/" if !prefix.is_empty() => prefix.to_string(),
        _ if path.starts_with('/') => format!("{prefix}{path}"),
        _ => format!("{prefix}/{path}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nested_paths_join_at_one_slash() {
        assert_eq!(super::join("/admin", "/users"), "/admin/users");
        assert_eq!(super::join("/admin/", "/users"), "/admin/users");
        assert_eq!(super::join("/admin", "/"), "/admin");
        assert_eq!(super::join("/", "/admin"), "/admin");
    }
}
