//! # wildcard-listen-default
//!
//! ## What it does
//! Flags a default listen or bind address that is a wildcard — every network
//! interface — instead of loopback: `0.0.0.0`, Go-style `:9100`, `[::]` or `::`,
//! `Ipv4Addr::UNSPECIFIED`, `Ipv6Addr::UNSPECIFIED`, `Ipv4Addr::new(0, 0, 0, 0)`, and
//! `[0, 0, 0, 0]` or `(0, 0, 0, 0)` turned into a socket address.
//!
//! It looks where defaults hide: constants and statics named like a listen setting
//! or used as one; the fallback of an environment variable (`unwrap_or`,
//! `unwrap_or_else`, `map_or`, a `match` or `if let` on `env::var`); clap
//! `default_value`/`default_value_t` (attribute or builder); functions named in
//! `#[serde(default = "…")]`; `impl Default` bodies and `#[default(…)]` attributes;
//! configuration-library defaults (config-rs `set_default`, figment
//! `Serialized::default`); setters named like a listen setting
//! (`.with_http_listener(…)`); `Lazy`/`LazyLock`/`lazy_static!` statics;
//! `format!` building a wildcard address; and a wildcard hard-coded into a bind call
//! (`TcpListener::bind`, `UdpSocket::bind`, `axum_server::bind`, `Server::bind`,
//! `HttpServer::bind`, warp's `run`, tonic's `serve`, …). Values are followed through
//! locals, constants (crate-wide, by name) and functions.
//!
//! Each default is reported once, at the wildcard itself, naming what kind of
//! default it is.
//!
//! ## Why is this bad?
//! A wildcard default exposes the service on every interface of the host or
//! container. It looks harmless while nothing publishes the port, and becomes an
//! open, often unauthenticated endpoint the day a Dockerfile publishes it or the
//! network topology changes. This happened: the memory-plugin sidecar defaulted to
//! `:9100` for an unauthenticated memory store. Loopback is the safe baseline;
//! operators who need another interface set it explicitly (for example
//! `MEMORY_PLUGIN_LISTEN_ADDR`), and that override keeps working.
//!
//! ## Example
//! ```rust
//! const DEFAULT_LISTEN_ADDR: &str = ":9100";
//!
//! fn listen_addr() -> String {
//!     std::env::var("MEMORY_PLUGIN_LISTEN_ADDR").unwrap_or_else(|_| "0.0.0.0:9100".to_string())
//! }
//!
//! let addr = SocketAddr::from(([0, 0, 0, 0], 3000));
//! let listener = TcpListener::bind(addr).await?;
//! ```
//!
//! ## Use instead
//! ```rust
//! const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:9100";
//!
//! fn listen_addr() -> String {
//!     std::env::var("MEMORY_PLUGIN_LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:9100".to_string())
//! }
//!
//! let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 3000));
//! let listener = TcpListener::bind(addr).await?;
//! ```
//! An address read from explicit configuration with no wildcard fallback
//! (`env::var("LISTEN_ADDR")?`) is not flagged: choosing `0.0.0.0` there is a
//! deliberate act by an operator.
//!
//! ## Configuration
//! Abridged; `gatelint explain` lists every default in full after this text.
//! ```toml
//! [rules.wildcard-listen-default]
//! severity = "error"        # or "warning", "off"
//! # Words that mark a listen setting (identifiers are split into words).
//! listen-names = ["listen", "listener", "bind", "addr", "address", "host", "hostname", "interface", "iface", "socket"]
//! # Words that name the other end of a connection; they veto a listen word.
//! remote-names = ["remote", "peer", "client", "forwarded", "upstream", "target", "dest", "destination", "proxy", "origin", "url", "uri", "dial", "connect"]
//! # Functions and methods whose arguments are the address being bound.
//! bind-functions = ["bind", "try_bind", "bind_rustls", "serve", "run", "listen", "listen_on"]
//! # Methods whose argument is the value used when a setting is missing.
//! fallback-methods = ["unwrap_or", "unwrap_or_else", "map_or", "map_or_else", "or", "or_else"]
//! # Calls that read the environment, matched against the end of the call path.
//! env-readers = ["env::var", "env::var_os", "dotenvy::var", "env!", "option_env!"]
//! # Configuration-library calls `(key, default)`: a method name or the end of a path.
//! config-default-functions = ["set_default", "Serialized::default"]
//! # Extra host spellings meaning "every interface", e.g. ["*"].
//! extra-wildcards = []
//! ```
//!
//! ## Known limitations
//! - syn sees syntax, not types: constants and functions are resolved by name across
//!   the crate, so two items with the same name are both followed, and a value that
//!   arrives through a trait method, a field of another struct or a macro other than
//!   `format!`/`concat!` is not followed.
//! - Ambiguous spellings (`"::"`, Go-style `":9100"`) are reported only where a name
//!   or a bind call says "listen address", since `"::"` is also Rust's path separator.
//!   A bare `"0.0.0.0"` fallback of something that is not an environment variable and
//!   not named like a listen setting is not reported (it is often a placeholder IP in
//!   logs).
//! - Wildcards outside Rust (Dockerfiles, shell entrypoints, `.env` files) are out of
//!   reach; so is `unwrap_or_default()` of a type whose `Default` lives in another crate.
//! - A wildcard with port 0 (`"0.0.0.0:0"`, `(Ipv4Addr::UNSPECIFIED, 0)`) asks for an
//!   ephemeral port, which is how outgoing (client) sockets bind; it is not reported,
//!   so neither is a listener on a random port.
//! - Only a function's tail expression and top-level `return` count as its return value.
//!   Functions whose declared return type cannot hold an address (`()`, numbers,
//!   `bool`, `Result<()>`) are not followed at all.

mod address;
mod extract;

pub use extract::{ListenFacts, Site, SiteKind, extract, may_hold_wildcard};


use crate::facts::value::{FormatPiece, Value, format_pieces};
use crate::input::source::Loc;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};
use crate::rules::{CheckCx, ConfigSource, FileInput, ParamsError, Rule};
use address::{Strength, classify_str};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const ID: &str = "wildcard-listen-default";

pub struct WildcardListenDefault;

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ListenParams {
    pub listen_names: Vec<String>,
    pub remote_names: Vec<String>,
    pub bind_functions: Vec<String>,
    pub fallback_methods: Vec<String>,
    pub env_readers: Vec<String>,
    pub config_default_functions: Vec<String>,
    pub extra_wildcards: Vec<String>,
}

impl ListenParams {
    /// Whether any word of `name` is a listen word (`DEFAULT_LISTEN_ADDR`, `bindHost`).
    /// A word from `remote-names` vetoes it: `peer_addr`, `client_host`, `upstream_addr`
    /// name the other end of a connection, not where this service listens.
    pub fn is_listen_name(&self, name: &str) -> bool {
        let has = |list: &[String]| word_slices(name).any(|w| list.iter().any(|l| l.eq_ignore_ascii_case(w)));
        has(&self.listen_names) && !has(&self.remote_names)
    }

    /// Whether a call path (`std::env::var`, `option_env!`) reads the environment.
    pub fn is_env_reader(&self, path: &str) -> bool {
        self.env_readers
            .iter()
            .any(|r| path.strip_suffix(r.as_str()).is_some_and(|head| head.is_empty() || head.ends_with("::")))
    }
}

/// Splits an identifier or text into words at `_`, punctuation and case changes
/// (`bindHost` → `bind`, `Host`), without allocating: names are checked by the
/// hundred thousand on a large crate.
fn word_slices(name: &str) -> impl Iterator<Item = &str> {
    let mut rest = name.char_indices().peekable();
    std::iter::from_fn(move || {
        // Skip separators.
        let (start, first) = loop {
            let (i, c) = rest.next()?;
            if c.is_alphanumeric() {
                break (i, c);
            }
        };
        let mut prev_lower = first.is_lowercase() || first.is_ascii_digit();
        let mut end = start + first.len_utf8();
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() || (c.is_uppercase() && prev_lower) {
                break;
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            end = i + c.len_utf8();
            rest.next();
        }
        Some(&name[start..end])
    })
}

#[cfg(test)]
fn words(name: &str) -> Vec<String> {
    word_slices(name).map(str::to_lowercase).collect()
}

/// A wildcard reached from a site: where it is written and how it got there.
#[derive(Clone, Debug)]
struct Hit {
    loc: Loc,
    strength: Strength,
    go_style: bool,
    /// The loopback spelling to suggest in place of the wildcard.
    loopback: String,
    /// The constants, locals and functions the value travelled through.
    via: Vec<Label>,
    /// One of them is named like a listen setting.
    via_listen_named: bool,
}

/// One step of the way from a site to a wildcard: a local or constant (`through`)
/// or a function (`returned by`). Turned into a [`Label`] only when a hit is found:
/// most walks find nothing.
#[derive(Clone, Copy)]
struct Step<'v> {
    loc: Loc,
    name: &'v str,
    returned: bool,
}

impl Step<'_> {
    fn label(&self) -> Label {
        let how = if self.returned { "returned by" } else { "through" };
        Label { loc: self.loc, message: format!("{how} `{}`", self.name) }
    }
}

struct Evaluator<'c, 'a> {
    ctx: &'c CheckCx<'a>,
    params: &'c ListenParams,
    /// Hits of each followed constant or function, keyed by its name's location.
    memo: std::cell::RefCell<rustc_hash::FxHashMap<Loc, Vec<Hit>>>,
}

/// Conversions that keep an address an address (`"…".parse()`, `.into()`, `?`…).
const TRANSPARENT_METHODS: &[&str] = &[
    "into",
    "to_string",
    "to_owned",
    "parse",
    "unwrap",
    "expect",
    "clone",
    "as_str",
    "as_ref",
    "to_socket_addrs",
    "try_into",
    "into_owned",
    "borrow",
    "deref",
    "ok",
    "context",
    "with_context",
];
/// Methods whose closure argument produces the resulting value.
const MAPPING_METHODS: &[&str] = &["map", "and_then", "then", "get_or_init", "get_or_try_init", "map_err"];
/// Lazily initialised statics: `Lazy::new(|| …)`, `LazyLock::new(|| …)`.
const LAZY_TYPES: &[&str] = &["Lazy", "LazyLock", "LazyCell", "OnceLock", "OnceCell"];
pub(super) const TRANSPARENT_CALLS: &[&str] =
    &["from", "from_str", "parse", "to_string", "to_owned", "into", "V4", "V6", "Some", "Ok"];
const MAX_FOLLOW: usize = 12;

impl<'c> Evaluator<'c, '_> {
    fn eval<'v>(&self, value: &'v Value, depth: usize, via: &mut Vec<Step<'v>>, out: &mut Vec<Hit>)
    where
        'c: 'v,
    {
        if depth > MAX_FOLLOW {
            return;
        }
        let d = depth + 1;
        match value {
            Value::Str { text, loc } => {
                if let Some(c) = classify_str(text, &self.params.extra_wildcards) {
                    out.push(self.hit(*loc, c.strength, c.go_style, c.loopback, via));
                }
            }
            Value::Path { segments, loc } => {
                let last = segments.last().map(String::as_str).unwrap_or("");
                if last == "UNSPECIFIED" {
                    let v6 = segments.iter().any(|s| s == "Ipv6Addr");
                    let loopback = if v6 { "Ipv6Addr::LOCALHOST" } else { "Ipv4Addr::LOCALHOST" };
                    out.push(self.hit(*loc, Strength::Host, false, loopback.to_string(), via));
                    return;
                }
                let ctx: &'c CheckCx = self.ctx;
                for c in ctx.index.consts_named(last) {
                    let step = Step { loc: c.name_loc, name: &c.name, returned: false };
                    self.follow(step, &c.value, d, via, out);
                }
            }
            Value::Local { name, loc, value } => {
                via.push(Step { loc: *loc, name, returned: false });
                self.eval(value, d, via, out);
                via.pop();
            }
            Value::Call { callee, args, loc } => self.eval_call(callee, args, *loc, d, via, out),
            Value::Method { receiver, method, args, .. } => {
                if TRANSPARENT_METHODS.contains(&method.as_str()) {
                    self.eval(receiver, d, via, out);
                } else if self.params.fallback_methods.contains(method) {
                    // Either the value itself or its fallback.
                    self.eval(receiver, d, via, out);
                    args.iter().for_each(|a| self.eval(a, d, via, out));
                } else if MAPPING_METHODS.contains(&method.as_str()) {
                    // `env::var("PORT").map(|p| format!("0.0.0.0:{p}"))`: the closure makes the value.
                    args.iter().for_each(|a| self.eval(a, d, via, out));
                }
            }
            Value::Macro { name, args, loc } => self.eval_macro(name, args, *loc, d, via, out),
            Value::Tuple { elems, loc } => {
                if let Some(octets) = zero_octets(elems) {
                    out.push(self.hit(*loc, Strength::Host, false, format!("({octets})"), via));
                } else if let [_, Value::Int { value: 0, .. }] = elems.as_slice() {
                    // `(host, 0)`: an ephemeral port, a client socket.
                } else if let [host, _port] = elems.as_slice() {
                    let mut inner = Vec::new();
                    self.eval(host, d, via, &mut inner);
                    out.extend(inner.into_iter().map(|mut h| {
                        h.strength = h.strength.max(Strength::Socket);
                        h
                    }));
                }
            }
            Value::Array { elems, loc } => {
                if let Some(octets) = zero_octets(elems) {
                    out.push(self.hit(*loc, Strength::Host, false, format!("[{octets}]"), via));
                }
            }
            Value::Closure { body } => self.eval(body, d, via, out),
            Value::Branches { arms } => arms.iter().for_each(|a| self.eval(a, d, via, out)),
            Value::Field { .. } | Value::Int { .. } | Value::Opaque => {}
        }
    }

    fn eval_call<'v>(
        &self,
        callee: &[String],
        args: &'v [Value],
        loc: Loc,
        d: usize,
        via: &mut Vec<Step<'v>>,
        out: &mut Vec<Hit>,
    ) where
        'c: 'v,
    {
        let last = callee.last().map(String::as_str).unwrap_or("");
        let owner = callee.len().checked_sub(2).and_then(|i| callee.get(i)).map(String::as_str).unwrap_or("");
        if last == "new" && (owner == "Ipv4Addr" || owner == "Ipv6Addr") {
            let all_zero = !args.is_empty() && args.iter().all(|a| matches!(a, Value::Int { value: 0, .. }));
            if all_zero {
                let loopback = if owner == "Ipv4Addr" { "Ipv4Addr::new(127, 0, 0, 1)" } else { "Ipv6Addr::LOCALHOST" };
                out.push(self.hit(loc, Strength::Host, false, loopback.to_string(), via));
            }
            return;
        }
        if last == "new" && LAZY_TYPES.contains(&owner) {
            args.iter().for_each(|a| self.eval(a, d, via, out));
            return;
        }
        if last == "new" && owner.starts_with("SocketAddr") {
            if matches!(args.get(1), Some(Value::Int { value: 0, .. })) {
                return; // an ephemeral port: a client socket
            }
            if let Some(ip) = args.first() {
                let mut inner = Vec::new();
                self.eval(ip, d, via, &mut inner);
                out.extend(inner.into_iter().map(|mut h| {
                    h.strength = Strength::Socket;
                    h
                }));
            }
            return;
        }
        if last == "from" && matches!(owner, "Ipv4Addr" | "Ipv6Addr") && matches!(args, [Value::Int { value: 0, .. }]) {
            let loopback = if owner == "Ipv4Addr" { "Ipv4Addr::LOCALHOST" } else { "Ipv6Addr::LOCALHOST" };
            out.push(self.hit(loc, Strength::Host, false, loopback.to_string(), via));
            return;
        }
        // Conversions and tuple-struct/variant constructors pass their argument on.
        let constructor = last.chars().next().is_some_and(char::is_uppercase);
        if TRANSPARENT_CALLS.contains(&last) || constructor {
            args.iter().for_each(|a| self.eval(a, d, via, out));
            return;
        }
        if self.params.is_env_reader(&callee.join("::")) {
            return;
        }
        let ctx: &'c CheckCx = self.ctx;
        for f in ctx.index.fns_named(last) {
            let step = Step { loc: f.name_loc, name: &f.name, returned: true };
            self.follow(step, f.returns(), d, via, out);
        }
    }

    /// Follows a constant or function (identified by its name's location) to its
    /// value. Each item is evaluated once per run and its hits reused: without the
    /// memo, same-named functions calling each other make the walk exponential.
    fn follow(&self, step: Step, value: &Value, d: usize, via: &[Step], out: &mut Vec<Hit>) {
        let key = step.loc;
        // Most items lead nowhere: answer those without copying anything.
        if self.memo.borrow().get(&key).is_some_and(Vec::is_empty) {
            return;
        }
        let cached = self.memo.borrow().get(&key).cloned();
        let hits = match cached {
            Some(hits) => hits,
            None => {
                // Mark in progress: a cycle back to this item finds nothing more.
                self.memo.borrow_mut().insert(key, Vec::new());
                let mut inner = Vec::new();
                self.eval(value, d, &mut Vec::new(), &mut inner);
                self.memo.borrow_mut().insert(key, inner.clone());
                inner
            }
        };
        for hit in hits {
            let mut trail: Vec<Label> = via.iter().map(Step::label).collect();
            trail.push(step.label());
            trail.extend(hit.via);
            let via_listen_named =
                hit.via_listen_named || std::iter::once(&step).chain(via).any(|s| self.params.is_listen_name(s.name));
            out.push(Hit { via: trail, via_listen_named, ..hit });
        }
    }

    /// `format!`/`concat!`: a wildcard argument is a hit where it is written; a
    /// template that becomes a wildcard once its arguments are filled in is a hit
    /// at the macro.
    fn eval_macro<'v>(
        &self,
        name: &str,
        args: &'v [Value],
        loc: Loc,
        d: usize,
        via: &mut Vec<Step<'v>>,
        out: &mut Vec<Hit>,
    ) where
        'c: 'v,
    {
        let (template, rest) = match (name, args.split_first()) {
            ("format" | "format_args", Some((Value::Str { text, .. }, rest))) => (format_pieces(text), rest),
            ("concat", _) => (args.iter().map(|_| FormatPiece::Placeholder(None)).collect(), args),
            _ => return,
        };
        let positional: Vec<&Value> =
            rest.iter().filter(|a| !matches!(a, Value::Local { .. }) || name == "concat").collect();
        let named = |n: &str| rest.iter().find(|a| matches!(a, Value::Local { name, .. } if name == n));
        let mut next = 0;
        let mut text = String::new();
        let before = out.len();
        for piece in template {
            let arg = match piece {
                FormatPiece::Text(t) => {
                    text.push_str(&t);
                    continue;
                }
                FormatPiece::Placeholder(None) => {
                    next += 1;
                    positional.get(next - 1).copied()
                }
                FormatPiece::Placeholder(Some(key)) => match key.parse::<usize>() {
                    Ok(i) => positional.get(i).copied(),
                    Err(_) => named(&key),
                },
            };
            let Some(arg) = arg else {
                text.push_str("{}");
                continue;
            };
            self.eval(arg, d, via, out);
            match literal_text(arg, self.ctx) {
                Some(t) => text.push_str(&t),
                None => text.push_str("{}"),
            }
        }
        if out.len() == before
            && let Some(c) = classify_str(&text, &self.params.extra_wildcards)
        {
            // Suggest the template itself with a loopback host: `format!("127.0.0.1:{port}")`.
            let loopback = match (name, args.first()) {
                ("format", Some(Value::Str { text: raw, .. })) => classify_str(raw, &self.params.extra_wildcards)
                    .map_or(c.loopback, |t| {
                        let more = if positional.is_empty() { "" } else { ", …" };
                        format!("format!(\"{}\"{more})", t.loopback)
                    }),
                _ => c.loopback,
            };
            out.push(self.hit(loc, c.strength, c.go_style, loopback, via));
        }
    }

    fn hit(&self, loc: Loc, strength: Strength, go_style: bool, loopback: String, via: &[Step]) -> Hit {
        let via_listen_named = via.iter().any(|s| self.params.is_listen_name(s.name));
        Hit { loc, strength, go_style, loopback, via: via.iter().map(Step::label).collect(), via_listen_named }
    }
}

/// `0, 0, 0, 0` when all four elements are the integer zero.
fn zero_octets(elems: &[Value]) -> Option<&'static str> {
    (elems.len() == 4 && elems.iter().all(|e| matches!(e, Value::Int { value: 0, .. }))).then_some("127, 0, 0, 1")
}

/// The literal text a value stands for, through locals and constants.
fn literal_text(value: &Value, ctx: &CheckCx) -> Option<String> {
    match value {
        Value::Str { text, .. } => Some(text.clone()),
        Value::Int { value, .. } => Some(value.to_string()),
        Value::Local { value, .. } => literal_text(value, ctx),
        Value::Path { segments, .. } => {
            let mut consts = ctx.index.consts_named(segments.last()?);
            match (consts.next(), consts.next()) {
                (Some(only), None) if !matches!(only.value, Value::Path { .. }) => literal_text(&only.value, ctx),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The weakest wildcard a site reports: ambiguous spellings only where names or a
/// bind call say "listen address".
fn required_strength(site: &SiteRef) -> Strength {
    if site.listen_named {
        return Strength::Weak;
    }
    match *site.kind {
        SiteKind::BindCall { .. }
        | SiteKind::ListenBinding { .. }
        | SiteKind::ListenField { .. }
        | SiteKind::ListenConst { .. }
        | SiteKind::ListenFn { .. }
        | SiteKind::ListenSetter { .. } => Strength::Weak,
        SiteKind::EnvFallback { .. }
        | SiteKind::ClapDefault { .. }
        | SiteKind::DefaultAttr { .. }
        | SiteKind::SerdeDefaultFn { .. }
        | SiteKind::ConfigDefault { .. } => Strength::Host,
        SiteKind::Fallback { .. } | SiteKind::DefaultImpl { .. } => Strength::Socket,
    }
}

impl Rule for WildcardListenDefault {
    const ID: &'static str = ID;
    /// Functions named like a listen address, or named by `#[serde(default = "…")]`,
    /// are sites through the value they return.
    const READS_FN_RETURNS: bool = true;
    type Params = ListenParams;
    type Facts = ListenFacts;

    fn params(table: &toml::Table, _: Option<&ConfigSource>) -> Result<ListenParams, ParamsError> {
        crate::rules::params_from_table(table)
    }

    fn extract(input: &FileInput, params: &ListenParams) -> Option<ListenFacts> {
        Some(extract(input.file, input.source, input.syntax, params))
    }

    fn keeps_fn_return(params: &ListenParams, value: &Value) -> bool {
        may_hold_wildcard(value, params)
    }

    /// The escape hatch of the listen gate is loopback: made a wildcard.
    fn remove_escape_hatch(line: &str) -> String {
        line.replace("127.0.0.1", "0.0.0.0")
            .replace("[::1]", "[::]")
            .replace("LOCALHOST", "UNSPECIFIED")
            .replace("127, 0, 0, 1", "0, 0, 0, 0")
            .replace("\"localhost\"", "\"0.0.0.0\"")
    }

    fn check(ctx: &CheckCx, params: &ListenParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let sites = crate_sites(ctx, params);
        let evaluator = Evaluator { ctx, params, memo: Default::default() };
        // One finding per wildcard: the most specific site wins (SiteKind order).
        let mut found: BTreeMap<Loc, (&SiteRef, Hit)> = BTreeMap::new();
        for site in &sites {
            let mut hits = Vec::new();
            evaluator.eval(site.value, 0, &mut Vec::new(), &mut hits);
            let required = required_strength(site);
            for hit in hits {
                if hit.strength < required && !hit.via_listen_named {
                    continue;
                }
                let better = found.get(&hit.loc).is_none_or(|(s, _)| (&site.kind, site.at) < (&s.kind, s.at));
                if better {
                    found.insert(hit.loc, (site, hit));
                }
            }
        }
        Ok(found.into_values().map(|(site, hit)| diagnostic(ctx, site, hit, severity)).collect())
    }
}

/// A site as the check sees it: borrowed from the facts where it can be.
struct SiteRef<'a> {
    kind: std::borrow::Cow<'a, SiteKind>,
    at: Loc,
    value: &'a Value,
    listen_named: bool,
}

/// The sites of every file, plus those that need the whole crate: listen-named
/// constants and functions, and functions named in `#[serde(default = "…")]`.
fn crate_sites<'a>(ctx: &CheckCx<'a>, params: &ListenParams) -> Vec<SiteRef<'a>> {
    let mut sites = Vec::new();
    let mut serde_defaults = BTreeMap::new();
    for listen in ctx.facts::<WildcardListenDefault>() {
        sites.extend(listen.sites.iter().map(|s| SiteRef {
            kind: std::borrow::Cow::Borrowed(&s.kind),
            at: s.at,
            value: &s.value,
            listen_named: s.listen_named,
        }));
        for d in &listen.serde_defaults {
            serde_defaults.entry(d.function.as_str()).or_insert_with(|| d.field.as_str());
        }
    }
    let files: &'a [crate::facts::FileFacts] = ctx.files;
    for facts in files {
        for c in &facts.consts {
            // (Most constants are numbers: rule those out before splitting names.)
            if extract::may_hold_wildcard(&c.value, params) && params.is_listen_name(&c.name) {
                let kind = std::borrow::Cow::Owned(SiteKind::ListenConst { name: c.name.clone() });
                sites.push(SiteRef { kind, at: c.name_loc, value: &c.value, listen_named: true });
            }
        }
        for f in &facts.fns {
            // Return values that cannot hold a wildcard were dropped at extraction.
            if matches!(f.returns(), Value::Opaque) {
                continue;
            }
            let serde_field = serde_defaults.get(f.name.as_str()).copied();
            let listen_named = params.is_listen_name(&f.name) || serde_field.is_some_and(|x| params.is_listen_name(x));
            let kind = match serde_field {
                Some(field) => SiteKind::SerdeDefaultFn { function: f.name.clone(), field: field.to_string() },
                None if params.is_listen_name(&f.name) => SiteKind::ListenFn { name: f.name.clone() },
                None => continue,
            };
            sites.push(SiteRef {
                kind: std::borrow::Cow::Owned(kind),
                at: f.name_loc,
                value: f.returns(),
                listen_named,
            });
        }
    }
    sites
}

/// What kind of default this is, for the message.
fn describe(kind: &SiteKind) -> String {
    match kind {
        SiteKind::EnvFallback { var: Some(var), .. } => {
            format!("the fallback when environment variable `{var}` is unset")
        }
        SiteKind::EnvFallback { var: None, method } => {
            format!("the fallback of an environment read (`{method}`)")
        }
        SiteKind::ClapDefault { field, attr } => {
            format!("the command-line default of `{field}` (`{attr}`)")
        }
        SiteKind::DefaultAttr { field, attr } => {
            format!("the `#[{attr}]` default of field `{field}`")
        }
        SiteKind::SerdeDefaultFn { function, field } => {
            format!("returned by serde default function `{function}` of field `{field}`")
        }
        SiteKind::DefaultImpl { ty, field: Some(field) } => format!("field `{field}` in `impl Default for {ty}`"),
        SiteKind::DefaultImpl { ty, field: None } => {
            format!("the value of `impl Default for {ty}`")
        }
        SiteKind::ListenConst { name } => format!("listen constant `{name}`"),
        SiteKind::ListenFn { name } => format!("returned by listen function `{name}`"),
        SiteKind::Fallback { method } => format!("the fallback value of `{method}`"),
        SiteKind::ConfigDefault { key, function } => format!("the configuration default of `{key}` (`{function}`)"),
        SiteKind::ListenSetter { method } => format!("passed to listen setting `{method}`"),
        SiteKind::ListenField { ty, field } => format!("listen setting `{ty}.{field}`"),
        SiteKind::ListenBinding { name } => format!("listen setting `{name}`"),
        SiteKind::BindCall { callee } => format!("hard-coded in bind call `{callee}`"),
    }
}

fn site_label(kind: &SiteKind) -> String {
    match kind {
        SiteKind::EnvFallback { var: Some(var), .. } => format!("used when `{var}` is not set"),
        SiteKind::BindCall { .. } => "the service binds this address".to_string(),
        SiteKind::ClapDefault { .. } | SiteKind::DefaultAttr { .. } | SiteKind::ConfigDefault { .. } => {
            "the default is declared here".to_string()
        }
        _ => "the default is set here".to_string(),
    }
}

/// Why a wildcard default matters (the incident note of every finding).
const WHY: &str = "a wildcard default exposes the service on every interface as soon as a port is published or the \
                   network topology changes (the memory-plugin sidecar shipped `:9100` this way)";

fn diagnostic(
    ctx: &CheckCx,
    site: &SiteRef,
    hit: Hit,
    severity: crate::rules::diagnostic::Severity,
) -> Diagnostic {
    let file = ctx.db.get(hit.loc.file);
    let written = file.text().get(hit.loc.range()).unwrap_or("").trim();
    let shown: String = if written.chars().count() > 60 {
        format!("{}…", written.chars().take(60).collect::<String>())
    } else {
        written.to_string()
    };
    let label = if hit.go_style {
        "no host before the port: every interface".to_string()
    } else {
        "wildcard address: every interface".to_string()
    };
    let mut secondary: Vec<Label> = hit.via.into_iter().filter(|l| l.loc != hit.loc).collect();
    if site.at != hit.loc && !secondary.iter().any(|l| l.loc == site.at) {
        secondary.push(Label { loc: site.at, message: site_label(&site.kind) });
    }
    secondary.sort_by_key(|l| (l.loc.file, l.loc.start));
    let override_hint = match &*site.kind {
        SiteKind::EnvFallback { var: Some(var), .. } => {
            format!("; operators who need another interface set `{var}` explicitly")
        }
        SiteKind::ClapDefault { .. } => "; operators who need another interface pass the flag explicitly".to_string(),
        _ => "; operators who need another interface set it explicitly through configuration".to_string(),
    };
    Diagnostic {
        rule: ID,
        severity,
        loc: hit.loc,
        message: format!("listen default `{shown}` binds every network interface ({})", describe(&site.kind)),
        label,
        secondary,
        why: Some(WHY.into()),
        notes: Vec::new(),
        help: Some(format!("default to loopback: `{}`{override_hint}", hit.loopback)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(words("DEFAULT_LISTEN_ADDR"), vec!["default", "listen", "addr"]);
        assert_eq!(words("bindHost"), vec!["bind", "host"]);
        assert_eq!(words("server.bind_addr"), vec!["server", "bind", "addr"]);
        assert_eq!(words("IMPORT_SEP"), vec!["import", "sep"]);
        assert_eq!(words("__x__yZ"), vec!["x", "y", "z"]);
        assert_eq!(words("HTTPServer listen2Addr"), vec!["httpserver", "listen2", "addr"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn env_readers_match_whole_path_segments() {
        let params = ListenParams {
            listen_names: Vec::new(),
            remote_names: Vec::new(),
            bind_functions: Vec::new(),
            fallback_methods: Vec::new(),
            env_readers: vec!["env::var".into()],
            config_default_functions: Vec::new(),
            extra_wildcards: Vec::new(),
        };
        assert!(params.is_env_reader("env::var"));
        assert!(params.is_env_reader("std::env::var"));
        assert!(!params.is_env_reader("myenv::var"));
        assert!(!params.is_env_reader("env::var_os"));
    }
}
