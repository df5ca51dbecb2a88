//! # admin-route-without-auth
//!
//! ## What it does
//! Reads the crate's axum routers and flags an admin route that neither an
//! admin-auth layer nor an admin extractor protects:
//! - the routers: `Router::new().route(path, get(h).post(h2))`, `.nest(prefix,
//!   router)`, `.merge(router)`, `.layer(..)` and `.route_layer(..)`; aide's
//!   `ApiRouter` (`.api_route(path, get_with(h, docs))`, `.api_route_with`) and
//!   utoipa-axum's `OpenApiRouter` (`.routes(routes!(h1, h2))`, whose path and
//!   methods are those of the handlers' `#[utoipa::path(get, path = "..")]`
//!   attributes, found crate-wide); routers built
//!   in helper functions and returned (`fn admin_routes() -> Router<AppState>` used
//!   as `.nest("/admin", admin_routes())`), through `let` bindings (`let app =
//!   app.route(..)`, `app = app.merge(..)`), through `.await`, `?` and `Ok(..)`, and
//!   across the crate's modules and files (helper calls are resolved as Rust
//!   resolves the path, renaming imports and re-exports included). A router passed
//!   to a crate function that returns it with layers added (`fn with_admin_auth(r:
//!   Router) -> Router { r.layer(..) }`) is read there. A helper whose router
//!   nothing in the crate mounts is read on its own;
//! - an admin route: its full path, nest prefixes included, is one of
//!   `admin-prefixes` or lies below one at a `/` (`/admin`, `/admin/users`; not
//!   `/administer` nor `/administrators-guide`), or its handler is defined in a file
//!   matching `admin-modules` (`**/handlers/admin.rs`, `**/admin/**`). Path
//!   constants (`.nest(ADMIN_PREFIX, ..)`) are resolved crate-wide;
//! - what protects it: a layer added after it on its router or on a router it is
//!   nested or merged into (axum applies a layer to the routes already added), or on
//!   its method router (`get(h).layer(..)`), whose expression names one of
//!   `auth-layers` or `admin-extractors` (a snake_case name also names a longer
//!   function name it begins at a `_`: `require_admin_with_audit`, not
//!   `require_administrator`; a type name only itself): `from_fn(require_admin)`,
//!   `from_fn_with_state(state, require_admin)`, `ServiceBuilder::new()
//!   .layer(from_fn(require_admin))`, `from_extractor::<AdminUser>()`, a local bound
//!   to one, a function of the crate whose body builds one; or a handler taking an
//!   admin extractor (`_admin: AdminUser`, `Extension<AdminUser>`; a closure too).
//!
//! The finding is at the `.route(` call, with the full path and the unprotected
//! methods, and where its router is mounted when that is in another function. An
//! admin-auth layer added to the same router *before* the route (above it in the
//! chain) is named as such: it covers only the routes added before it.
//!
//! ## Why is this bad?
//! Admin endpoints serve operator data across tenants. A router refactor that
//! silently dropped the admin-auth middleware from a new admin route exposed the
//! operator dashboard's delegation data — caller and callee ids and task previews of
//! every tenant — to unauthenticated callers. axum makes the slip easy: `.layer(..)`
//! wraps only the routes added before it, so a route appended below the layer, or a
//! router nested after the layer was applied, is public.
//!
//! ## Example
//! ```rust
//! pub fn admin_routes() -> Router<AppState> {
//!     Router::new()
//!         .route("/delegations", get(list_delegations))
//!         .layer(from_fn(require_admin))
//!         .route("/delegations/stats", get(delegation_stats)) // after the layer: public
//! }
//! ```
//!
//! ## Use instead
//! ```rust
//! pub fn admin_routes() -> Router<AppState> {
//!     Router::new()
//!         .route("/delegations", get(list_delegations))
//!         .route("/delegations/stats", get(delegation_stats))
//!         .layer(from_fn(require_admin))
//! }
//! // or: async fn delegation_stats(_admin: AdminUser, ..) -> ..
//! ```
//!
//! ## Configuration
//! ```toml
//! [rules.admin-route-without-auth]
//! admin-prefixes = ["/admin"]
//! admin-modules = ["**/handlers/admin.rs", "**/admin/**"]
//! auth-layers = ["require_admin", "admin_auth", "require_admin_auth", "AdminAuth", "AdminAuthLayer", "RequireAdmin", "RequireAdminLayer"]
//! admin-extractors = ["AdminUser", "RequireAdmin", "AdminAuth"]
//! ```
//!
//! ## Known limitations
//! - syn sees syntax, not types: a layer is admin auth by the names written in its
//!   expression (or in a local it names, or in the body of a crate function it
//!   calls), an extractor by the name of a parameter's type. A layer whose auth is
//!   hidden behind a name from another crate (`.layer(platform::guard())`), a
//!   middleware function named otherwise (`from_fn(check_operator)`: add it to
//!   `auth-layers`) or a type alias of an extractor is not recognised, and a route
//!   under it is reported. The other way round, a function named like a configured
//!   one with more words (`require_admin_optional`) is taken for admin auth.
//! - Routers are followed through method chains, `let` bindings in statement order
//!   (not control flow: a route merged in one branch of an `if` counts as merged)
//!   and functions returning their router as their tail expression (or `Ok(..)` of
//!   it). A path from a loop variable or a collection, a path built at run time
//!   (`format!`), a router returned with `return`, held in a struct field or
//!   mounted with `nest_service` is not read: its routes are not reported. A
//!   utoipa-axum handler without a `#[utoipa::path]` attribute of the crate with a
//!   literal `path` is not read either.
//! - A helper called as a method (`state.admin_router()`) is not followed: its
//!   router is checked on its own, with the paths it writes and no prefix (as is any
//!   helper router nothing in the crate mounts). A router passed to a layering
//!   function is followed when the function's parameter has a router type and the
//!   call's result is used as a router; one bound first (`let r =
//!   with_admin_auth(admin_routes()); app.merge(r)`), or layered by a function
//!   not of the crate, is checked without that layer: its admin routes are
//!   reported (suppress them, saying which layer covers them). Renaming imports
//!   are read file-wide, not per scope. A router mounted in several places is
//!   reported once.

mod analysis;
mod diagnostics;
mod extract;

pub use extract::{AdminFacts, Base, Handler, Layer, Method, Op, PathArg, Route, RouterExpr, RouterFn};

use crate::rules::diagnostic::{Diagnostic, Severity};
use crate::rules::{CheckCx, ConfigSource, FileInput, ParamsError, Rule};

pub const ID: &str = "admin-route-without-auth";

pub struct AdminRouteWithoutAuth;

#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AdminParams {
    pub admin_prefixes: Vec<String>,
    pub admin_modules: Vec<String>,
    pub auth_layers: Vec<String>,
    pub admin_extractors: Vec<String>,
    #[serde(skip)]
    modules: Option<globset::GlobSet>,
}

impl AdminParams {
    /// Compiles the module globs; an invalid glob is a configuration error.
    fn compile(mut self) -> Result<Self, String> {
        let mut builder = globset::GlobSetBuilder::new();
        for glob in &self.admin_modules {
            let g = globset::GlobBuilder::new(glob)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("invalid path glob `{glob}`: {e}"))?;
            builder.add(g);
        }
        self.modules = Some(builder.build().map_err(|e| e.to_string())?);
        if let Some(bad) = self.admin_prefixes.iter().find(|p| !p.starts_with('/')) {
            return Err(format!("admin prefix `{bad}` must start with `/`"));
        }
        Ok(self)
    }

    /// Whether a file (its path as shown) is an admin module.
    pub fn is_admin_module(&self, display: &str) -> bool {
        self.modules.as_ref().is_some_and(|set| set.is_match(display))
    }

    /// The configured prefix `path` is or lies below, at a `/`.
    pub fn admin_prefix(&self, path: &str) -> Option<&str> {
        self.admin_prefixes.iter().map(String::as_str).find(|prefix| {
            let prefix = prefix.trim_end_matches('/');
            prefix.is_empty()
                || path == prefix
                || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

impl Rule for AdminRouteWithoutAuth {
    const ID: &'static str = ID;
    type Params = AdminParams;
    type Facts = AdminFacts;

    fn params(table: &toml::Table, _: Option<&ConfigSource>) -> Result<AdminParams, ParamsError> {
        Ok(crate::rules::params_from_table::<AdminParams>(table)?.compile()?)
    }

    fn extract(input: &FileInput, params: &AdminParams) -> Option<AdminFacts> {
        let facts = extract::extract(input.file, input.source, input.syntax, params);
        let empty = facts.fns.is_empty()
            && facts.extractor_fns.is_empty()
            && facts.layer_fns.is_empty()
            && facts.utoipa.is_empty();
        (!empty).then_some(facts)
    }

    fn check(cx: &CheckCx, params: &AdminParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        Ok(diagnostics::diagnostics(cx, params, severity))
    }

    /// The fixtures' escape hatch (`//~ hatch: admin-route-without-auth`): the
    /// admin-auth layer or extractor, renamed to one that authenticates nobody.
    fn remove_escape_hatch(line: &str) -> String {
        const RENAMES: &[(&str, &str)] = &[
            ("require_admin_auth", "trace_request"),
            ("require_admin", "trace_request"),
            ("admin_auth", "trace_request"),
            ("AdminAuthLayer", "TraceLayer"),
            ("RequireAdminLayer", "TraceLayer"),
            ("AdminAuth", "CurrentUser"),
            ("RequireAdmin", "CurrentUser"),
            ("AdminUser", "CurrentUser"),
        ];
        RENAMES.iter().fold(line.to_string(), |line, (from, to)| line.replace(from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> AdminParams {
        AdminParams {
            admin_prefixes: vec!["/admin".into(), "/ops/".into()],
            admin_modules: vec!["**/admin/**".into()],
            auth_layers: Vec::new(),
            admin_extractors: Vec::new(),
            modules: None,
        }
        .compile()
        .unwrap()
    }

    #[test]
    fn prefixes_match_at_a_segment_boundary() {
        let p = params();
        assert_eq!(p.admin_prefix("/admin"), Some("/admin"));
        assert_eq!(p.admin_prefix("/admin/users"), Some("/admin"));
        assert_eq!(p.admin_prefix("/ops/queue"), Some("/ops/"));
        assert_eq!(p.admin_prefix("/ops"), Some("/ops/"));
        assert_eq!(p.admin_prefix("/administer"), None);
        assert_eq!(p.admin_prefix("/administrators-guide"), None);
        assert_eq!(p.admin_prefix("/api/admin"), None);
        assert!(p.is_admin_module("server/src/admin/users.rs"));
        assert!(!p.is_admin_module("server/src/admin-tools/users.rs"));
    }
}
