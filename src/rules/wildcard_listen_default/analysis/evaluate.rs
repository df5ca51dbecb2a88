//! The evaluator: follows a value through locals, constants and functions (by
//! name, crate-wide) to the wildcards it can be, each a [`Hit`] with the way it got
//! there.

use super::Hit;
use crate::facts::value::{FormatPiece, Value, format_arg, format_pieces};
use crate::input::source::Loc;
use crate::rules::CheckCx;
use crate::rules::diagnostic::Label;
use crate::rules::wildcard_listen_default::ListenParams;
use crate::rules::wildcard_listen_default::address::{Strength, TRANSPARENT_CALLS, classify_str};

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

pub(super) struct Evaluator<'c, 'a> {
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
const MAX_FOLLOW: usize = 12;

impl<'c, 'a> Evaluator<'c, 'a> {
    pub(super) fn new(ctx: &'c CheckCx<'a>, params: &'c ListenParams) -> Self {
        Evaluator { ctx, params, memo: Default::default() }
    }

    /// The wildcards `value` can be.
    pub(super) fn hits(&self, value: &Value) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.eval(value, 0, &mut Vec::new(), &mut hits);
        hits
    }

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
            Value::Path { segments, loc } => self.eval_path(segments, *loc, d, via, out),
            Value::Local { name, loc, value } => {
                via.push(Step { loc: *loc, name, returned: false });
                self.eval(value, d, via, out);
                via.pop();
            }
            Value::Call { callee, args, loc } => self.eval_call(callee, args, *loc, d, via, out),
            Value::Method { receiver, method, args, loc } => {
                if !self.eval_method(receiver, method, args, d, via, out) && args.is_empty() {
                    self.eval_named_method(method, *loc, d, via, out);
                }
            }
            Value::Macro { name, args, loc } => self.eval_macro(name, args, *loc, d, via, out),
            Value::Tuple { elems, loc } => self.eval_tuple(elems, *loc, d, via, out),
            // An IP written as octets is `[0, 0, 0, 0]`; `[0; 4]` initialises a byte
            // buffer (`let mut dev_addr: [u8; 4] = [0; 4];`), whatever it is named.
            Value::Array { elems, loc } if !self.is_repeat(*loc) => {
                if let Some(octets) = zero_octets(elems) {
                    out.push(self.hit(*loc, Strength::Host, false, format!("[{octets}]"), via));
                } else {
                    // A list of addresses (`vec![v6_any, v4_any]` given to one bind).
                    elems.iter().for_each(|e| self.eval(e, d, via, out));
                }
            }
            Value::Closure { body } => self.eval(body, d, via, out),
            Value::Branches { arms } => arms.iter().for_each(|a| self.eval(a, d, via, out)),
            Value::Field { base, name, .. } => {
                if let Some(elem) = name.parse().ok().and_then(|i: usize| tuple_elem(base, i, self.ctx)) {
                    self.eval(elem, d, via, out);
                }
            }
            Value::Array { .. } | Value::Int { .. } | Value::Opaque => {}
        }
    }

    /// Whether the array at `loc` is written `[x; n]`.
    fn is_repeat(&self, loc: Loc) -> bool {
        let text = self.ctx.db.get(loc.file).text();
        text.get(loc.range()).is_some_and(|t| t.contains(';'))
    }

    /// `Ipv4Addr::UNSPECIFIED`, or a constant followed by name.
    fn eval_path<'v>(&self, segments: &'v [String], loc: Loc, d: usize, via: &mut Vec<Step<'v>>, out: &mut Vec<Hit>)
    where
        'c: 'v,
    {
        let last = segments.last().map(String::as_str).unwrap_or("");
        if last == "UNSPECIFIED" {
            let v6 = segments.iter().any(|s| s == "Ipv6Addr");
            let loopback = if v6 { "Ipv6Addr::LOCALHOST" } else { "Ipv4Addr::LOCALHOST" };
            out.push(self.hit(loc, Strength::Host, false, loopback.to_string(), via));
            return;
        }
        let ctx: &'c CheckCx = self.ctx;
        // Only constants the naming code's package can see.
        for c in ctx.consts_at(loc, segments) {
            let step = Step { loc: c.name_loc, name: &c.name, returned: false };
            self.follow(step, &c.value, d, via, out);
        }
    }

    /// A method call: conversions pass their receiver on, fallbacks add their
    /// argument, mapping methods' closures make the value. False for any other method.
    fn eval_method<'v>(
        &self,
        receiver: &'v Value,
        method: &str,
        args: &'v [Value],
        d: usize,
        via: &mut Vec<Step<'v>>,
        out: &mut Vec<Hit>,
    ) -> bool
    where
        'c: 'v,
    {
        if method == "with"
            && let Some(protocols) = multiaddr_protocols(receiver, args)
        {
            self.eval_multiaddr(&protocols, d, via, out);
        } else if TRANSPARENT_METHODS.contains(&method) {
            self.eval(receiver, d, via, out);
        } else if self.params.fallback_methods.iter().any(|m| m == method) {
            // Either the value itself or its fallback.
            self.eval(receiver, d, via, out);
            args.iter().for_each(|a| self.eval(a, d, via, out));
        } else if MAPPING_METHODS.contains(&method) {
            // `env::var("PORT").map(|p| format!("0.0.0.0:{p}"))`: the closure makes the value.
            args.iter().for_each(|a| self.eval(a, d, via, out));
        } else {
            return false;
        }
        true
    }

    /// `listen.socket_addr()`: a method of the workspace that makes an address from
    /// its value (`ListenAt::Port(p) => SocketAddr::from(([0, 0, 0, 0], *p))`), found
    /// by its name (the receiver's type is not written).
    fn eval_named_method(&self, method: &str, loc: Loc, d: usize, via: &mut Vec<Step>, out: &mut Vec<Hit>) {
        let ctx: &'c CheckCx = self.ctx;
        let methods = ctx.index.fns_named(method).filter(|f| f.self_type.is_some() && ctx.defs.sees(loc, f.name_loc));
        for f in methods {
            let step = Step { loc: f.name_loc, name: &f.name, returned: true };
            self.follow(step, f.returns(), d, via, out);
        }
    }

    /// `(0, 0, 0, 0)` is a host; `(host, port)` a socket address, unless the port is 0.
    fn eval_tuple<'v>(&self, elems: &'v [Value], loc: Loc, d: usize, via: &mut Vec<Step<'v>>, out: &mut Vec<Hit>)
    where
        'c: 'v,
    {
        if let Some(octets) = zero_octets(elems) {
            out.push(self.hit(loc, Strength::Host, false, format!("({octets})"), via));
        } else if let [host, Value::Int { value: 0, .. }] = elems {
            // `(host, 0)`: an ephemeral port, a client socket's unless a listener binds it.
            self.eval_ephemeral(host, d, via, out);
        } else if let [Value::Array { elems: octets, loc }, _port] = elems
            && let Some(octets) = zero_octets(octets)
        {
            // `([0u8; 4], port)`: beside a port, even `[0; 4]` is the host.
            out.push(self.hit(*loc, Strength::Socket, false, format!("[{octets}]"), via));
        } else if let [host, _port] = elems {
            let mut inner = Vec::new();
            self.eval(host, d, via, &mut inner);
            out.extend(inner.into_iter().map(|mut h| {
                h.strength = h.strength.max(Strength::Socket);
                h
            }));
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
                // An ephemeral port: a client socket's, unless a listener binds it.
                if let Some(ip) = args.first() {
                    self.eval_ephemeral(ip, d, via, out);
                }
                return;
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
        // `IpAddr::from([0u8; 4])`: converted to an address, even a repeat is one.
        if last == "from"
            && matches!(owner, "IpAddr" | "Ipv4Addr" | "Ipv6Addr")
            && let [Value::Array { elems, loc: at }] = args
            && let Some(octets) = zero_octets(elems)
        {
            out.push(self.hit(*at, Strength::Host, false, format!("[{octets}]"), via));
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
        for f in ctx.fns_at(loc, callee) {
            // A project's environment helper (`get_or_default("HOST", "0.0.0.0")`, whose
            // body reads the variable): the call's other arguments are its fallback.
            if reads_env(f.returns(), self.params) {
                via.push(Step { loc: f.name_loc, name: &f.name, returned: false });
                args.iter().skip(1).for_each(|a| self.eval(a, d, via, out));
                via.pop();
                continue;
            }
            // A converter of its argument (`normalize_addr(&a)` returning `a` or its
            // expansion): what it returns is what it is given.
            if super::returns_its_input(f.returns()) {
                args.iter().for_each(|a| self.eval(a, d, via, out));
                continue;
            }
            let step = Step { loc: f.name_loc, name: &f.name, returned: true };
            if args.is_empty() && names_the_wildcard(&f.name) {
                // `in6addr_any_init()`: a function named for the wildcard is a spelling
                // of it, as `Ipv6Addr::UNSPECIFIED` is: each setting that calls it is a
                // default of its own, reported at the call.
                let mut inner = Vec::new();
                self.follow(step, f.returns(), d, via, &mut inner);
                out.extend(inner.into_iter().map(|mut h| {
                    h.loc = loc;
                    h
                }));
                continue;
            }
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
        // The positional arguments come first (named and captured ones follow): as
        // many as the template's `{}`s and `{0}`s use.
        let used = template.iter().filter(|p| matches!(p, FormatPiece::Placeholder(None))).count();
        let numbered = template
            .iter()
            .filter_map(|p| match p {
                FormatPiece::Placeholder(Some(k)) => k.parse::<usize>().ok().map(|i| i + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let count = if name == "concat" { rest.len() } else { used.max(numbered).min(rest.len()) };
        let positional: Vec<&Value> = rest[..count].iter().collect();
        let mut next = 0;
        let mut text = String::new();
        let before = out.len();
        for piece in template {
            let arg = match piece {
                FormatPiece::Text(t) => {
                    text.push_str(&t);
                    continue;
                }
                FormatPiece::Placeholder(key) => format_arg(key.as_deref(), &positional, rest, &mut next),
            };
            let Some(arg) = arg else {
                text.push_str("{}");
                continue;
            };
            let mut hits = Vec::new();
            self.eval(arg, d, via, &mut hits);
            // `format!("0.0.0.0{port}")` with `port = ":9300"`: after a host the
            // port-only value is a port, and the template is the wildcard.
            let port_after_host = !text.is_empty() && hits.iter().any(|h| h.go_style);
            out.extend(hits.into_iter().filter(|h| !(port_after_host && h.go_style)));
            match literal_text(arg, self.ctx) {
                Some(t) => text.push_str(&t),
                None if port_after_host => text.push_str(":{}"),
                None => text.push_str("{}"),
            }
        }
        if out.len() == before
            && let Some(c) = classify_str(&text, &self.params.extra_wildcards)
        {
            let loopback = template_loopback(name, args, !positional.is_empty(), c.loopback, self.params);
            out.push(self.hit(loc, c.strength, c.go_style, loopback, via));
        }
    }

    /// A libp2p multiaddress built protocol by protocol (`Multiaddr::empty()
    /// .with(Protocol::from(Ipv4Addr::UNSPECIFIED)).with(Protocol::Tcp(port))`): its
    /// host, a socket address when a port follows (port 0 is ephemeral: none).
    fn eval_multiaddr<'v>(&self, protocols: &[&'v Value], d: usize, via: &mut Vec<Step<'v>>, out: &mut Vec<Hit>)
    where
        'c: 'v,
    {
        let mut hosts = Vec::new();
        let (mut port, mut ephemeral) = (false, false);
        for p in protocols {
            let Value::Call { callee, args, .. } = p else { continue };
            match (callee.len().checked_sub(2).map(|i| callee[i].as_str()), callee.last().map(String::as_str), args.first()) {
                (Some("Protocol"), Some("Tcp" | "Udp"), Some(Value::Int { value: 0, .. })) => ephemeral = true,
                (Some("Protocol"), Some("Tcp" | "Udp"), _) => port = true,
                (Some("Protocol"), Some("from" | "Ip4" | "Ip6"), Some(host)) => hosts.push(host),
                _ => {}
            }
        }
        for host in hosts {
            if ephemeral {
                self.eval_ephemeral(host, d, via, out);
                continue;
            }
            let mut inner = Vec::new();
            self.eval(host, d, via, &mut inner);
            out.extend(inner.into_iter().map(|mut h| {
                if port {
                    h.strength = h.strength.max(Strength::Socket);
                }
                h
            }));
        }
    }

    /// The wildcards a host bound on port 0 can be: socket addresses on an
    /// ephemeral port ([`Hit::ephemeral_port`]).
    fn eval_ephemeral<'v>(&self, host: &'v Value, d: usize, via: &mut Vec<Step<'v>>, out: &mut Vec<Hit>)
    where
        'c: 'v,
    {
        let mut inner = Vec::new();
        self.eval(host, d, via, &mut inner);
        out.extend(inner.into_iter().map(|mut h| {
            h.strength = h.strength.max(Strength::Socket);
            h.ephemeral_port = true;
            h
        }));
    }

    fn hit(&self, loc: Loc, strength: Strength, go_style: bool, loopback: String, via: &[Step]) -> Hit {
        let via_listen_named = via.iter().any(|s| self.params.is_listen_name(s.name));
        Hit {
            loc,
            strength,
            go_style,
            loopback,
            via: via.iter().map(Step::label).collect(),
            via_listen_named,
            ephemeral_port: false,
        }
    }
}

/// Whether a function's name says it is the wildcard (`inaddr_any`,
/// `in6addr_any_init`, `unspecified_ip`), not a setting.
fn names_the_wildcard(name: &str) -> bool {
    super::super::word_slices(name).any(|w| ["any", "unspecified", "wildcard"].iter().any(|x| w.eq_ignore_ascii_case(x)))
}

/// The protocols of a multiaddress built with `.with(..)` from `Multiaddr::empty()`
/// (the outermost call's first), when `receiver.with(args)` is one.
fn multiaddr_protocols<'v>(receiver: &'v Value, args: &'v [Value]) -> Option<Vec<&'v Value>> {
    let mut out: Vec<&Value> = args.iter().collect();
    let mut at = receiver;
    loop {
        match at {
            Value::Method { receiver, method, args, .. } if method == "with" => {
                out.extend(args);
                at = receiver;
            }
            Value::Call { callee, .. } if callee.ends_with(&["Multiaddr".to_string(), "empty".to_string()]) => return Some(out),
            _ => return None,
        }
    }
}

/// The loopback to suggest for a template that becomes a wildcard once filled in:
/// the template itself with a loopback host (`format!("127.0.0.1:{port}")`), or
/// `filled`, the loopback of the filled-in text.
fn template_loopback(name: &str, args: &[Value], has_positional: bool, filled: String, params: &ListenParams) -> String {
    match (name, args.first()) {
        ("format", Some(Value::Str { text: raw, .. })) => {
            let more = if has_positional { ", …" } else { "" };
            // The whole template (`"0.0.0.0:{port}"`), or the host it starts with
            // (`"0.0.0.0{listen}"`).
            let host = raw.split('{').next().unwrap_or_default();
            let rewritten = classify_str(raw, &params.extra_wildcards).map(|t| t.loopback).or_else(|| {
                let t = classify_str(host, &params.extra_wildcards).filter(|t| !t.go_style)?;
                Some(format!("{}{}", t.loopback, &raw[host.len()..]))
            });
            rewritten.map_or(filled, |t| format!("format!(\"{t}\"{more})"))
        }
        _ => filled,
    }
}

/// Whether a function's returned value is read from the environment
/// (`std::env::var(key).unwrap_or_else(|_| default.to_string())`).
fn reads_env(value: &Value, params: &ListenParams) -> bool {
    match value {
        Value::Call { callee, .. } => params.is_env_reader(&callee.join("::")),
        Value::Method { receiver, .. } => reads_env(receiver, params),
        Value::Local { value, .. } => reads_env(value, params),
        Value::Branches { arms } => arms.iter().any(|a| reads_env(a, params)),
        _ => false,
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
        Value::Field { base, name, .. } => {
            name.parse().ok().and_then(|i: usize| tuple_elem(base, i, ctx)).and_then(|e| literal_text(e, ctx))
        }
        Value::Path { segments, loc } => {
            let consts = ctx.consts_at(*loc, segments);
            let mut consts = consts.into_iter();
            match (consts.next(), consts.next()) {
                (Some(only), None) if !matches!(only.value, Value::Path { .. }) => literal_text(&only.value, ctx),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Element `i` of the tuple `base` is, through locals and the one constant a path
/// names (`DEBUG_FALLBACK.0` with `const DEBUG_FALLBACK: (&str, u16) = ("0.0.0.0", 9100)`).
fn tuple_elem<'v>(base: &'v Value, i: usize, ctx: &'v CheckCx) -> Option<&'v Value> {
    match base {
        Value::Tuple { elems, .. } => elems.get(i),
        Value::Local { value, .. } => tuple_elem(value, i, ctx),
        Value::Path { segments, loc } => {
            let consts = ctx.consts_at(*loc, segments);
            let mut consts = consts.into_iter();
            match (consts.next(), consts.next()) {
                (Some(only), None) => tuple_elem(&only.value, i, ctx),
                _ => None,
            }
        }
        _ => None,
    }
}
