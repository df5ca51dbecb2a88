//! Per-file facts and the visitor that extracts them ([`Extractor`]): every place in
//! a file where a listen default can hide (bind calls, env-var fallbacks, clap and
//! config defaults, `Default` impls, listen-named bindings and fields), with the
//! value found there. Field attributes are read in [`attributes`]. Whether a value
//! is a wildcard is decided crate-wide, in `analysis`, once constants and functions
//! of other files are known.

mod attributes;
pub(super) mod config_keys;
mod embedded;
pub(super) mod env_vars;
mod field_reads;
pub(super) mod runtime;

use super::ListenParams;
use super::address::may_hold_wildcard;
use super::config_text::Format;
use crate::facts::lower::{Lowerer, segments};
use crate::facts::value::Value;
use crate::input::source::{FileId, Loc, SourceFile};
use serde::{Deserialize, Serialize};
use syn::visit::Visit;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SiteKind {
    /// A key of a configuration embedded in the program: a string in code, or a
    /// file compiled in with `include_str!`.
    EmbeddedConfig { key: String, holder: String },
    /// A key of a configuration file in the repository that the program reads at
    /// run time, by the path as written in the code.
    RunTimeConfig { key: String, path: String },
    /// A variable of an environment file in the repository (`.env.example`) that
    /// the program reads, by its name or by a `prefix` of the variables it reads.
    EnvFile { key: String, path: String, prefix: Option<String> },
    /// A key of a configuration file of the repository that no code names (a
    /// packaged, mounted or example configuration), read into `field`.
    RepoConfig { key: String, path: String, field: String },
    /// A long flag the program takes (`field`), given in a configuration file of
    /// the repository: a compose file's `command:`, a chart's `args:`.
    ConfigFlag { flag: String, path: String, field: String },
    /// An env-var read with a fallback: `env::var("X").unwrap_or(…)`, or a `match`.
    EnvFallback { var: Option<String>, method: String },
    /// A clap default: `#[arg(default_value = …)]` or `Arg::default_value(…)`.
    ClapDefault { field: String, attr: String },
    /// A field attribute default: `#[default(…)]`, `#[config(default = …)]`.
    DefaultAttr { field: String, attr: String },
    /// A function named in `#[serde(default = "…")]`.
    SerdeDefaultFn { function: String, field: String },
    /// `impl Default for T`: a field of the returned struct, or the returned value.
    DefaultImpl { ty: String, field: Option<String> },
    /// A constant or static whose name marks a listen setting.
    ListenConst { name: String },
    /// A function whose name marks a listen setting, by its return value.
    ListenFn { name: String },
    /// A function named as a default (`fn sidecar_default() -> SocketAddr`), by its
    /// return value: a socket address with a wildcard host is a listen default.
    DefaultFn { name: String },
    /// The address argument of a bind call: `TcpListener::bind(…)`, `.bind(…)`.
    BindCall { callee: String },
    /// A configuration library's default: `set_default("server.host", …)`,
    /// figment's `Serialized::default("address", …)`.
    ConfigDefault { key: String, function: String },
    /// A setter named like a listen setting: `.with_http_listener(…)`, `.listen_addr(…)`.
    ListenSetter { method: String },
    /// A fallback (`unwrap_or`, …) on something that is not an env var.
    Fallback { method: String },
    /// A struct field named like a listen setting, set outside a `Default` impl.
    ListenField { ty: String, field: String },
    /// `let listen_addr = …`
    ListenBinding { name: String },
}

/// One place where a listen default may be set, and the value set there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub kind: SiteKind,
    /// The construct that makes it a default (method name, attribute key, field).
    pub at: Loc,
    pub value: Value,
    /// The names around the site mark it as a listen setting.
    pub listen_named: bool,
    /// The struct field whose value it is (`host: env::var("HOST").unwrap_or(..)` in
    /// a struct literal): a default only when code reads that field.
    #[serde(default)]
    pub into_field: Option<String>,
    /// The path of that struct literal's type, as written (`Self`, `config::Http`).
    #[serde(default)]
    pub into_struct: Vec<String>,
}

/// `#[serde(default = "function")]` on field `field`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerdeDefault {
    pub function: String,
    pub field: String,
}

/// A configuration file the program reads: compiled in with
/// `include_str!("config.default.toml")`, or named by a path it reads at run time
/// (`"config/default.toml"`). Read when the rule runs (its content is not this file's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Included {
    /// The path as written: relative to the including file's directory, or for a file
    /// read at run time to the directory the program runs in (the pieces of a
    /// `.join(…)` chain joined).
    pub path: String,
    /// The path literal (the last piece of a `.join(…)` chain).
    pub at: Loc,
    /// What holds the text (`include_str!`).
    pub holder: String,
    /// How the program finds the file at run time; `None` for a file compiled in.
    pub run_time: Option<RunTimeRead>,
    /// An environment file (`.env.example`): only the variables the program reads
    /// are its settings ([`ListenFacts::env_vars`]).
    #[serde(default)]
    pub env_file: bool,
}

/// An environment variable a file reads: by name, or every one that starts with
/// `name` (`prefix`), from a struct (`envy::prefixed("APP_")`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub prefix: bool,
    /// The name as written.
    pub at: Loc,
}

/// A configuration file read at run time: the paths tried in turn, as the reader
/// does (config-rs's `File::with_name("config/default")` tries
/// `config/default.toml`, `.json`, …), and the format the reader names for a file
/// whose name has no extension (figment's `Toml::file("App")`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTimeRead {
    pub candidates: Vec<String>,
    pub format: Option<Format>,
}

impl Included {
    /// The file as the engine looks for it.
    pub fn named(&self) -> crate::rules::NamedFile {
        match &self.run_time {
            Some(read) => crate::rules::NamedFile::RunTime(read.candidates.clone()),
            None => crate::rules::NamedFile::Beside(self.path.clone()),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListenFacts {
    pub sites: Vec<Site>,
    pub serde_defaults: Vec<SerdeDefault>,
    pub included: Vec<Included>,
    /// Where the functions about multicast are named (see `in_multicast_fn`): what
    /// they return is no listen default either.
    pub multicast_fns: Vec<Loc>,
    /// The environment variables the file reads, outside test code.
    pub env_vars: Vec<EnvVar>,
    /// The configuration keys and command-line flags the file declares.
    #[serde(default)]
    pub config_keys: Vec<ConfigKey>,
    /// The struct fields the file reads outside log lines ([`field_reads`]), and where
    /// the file is (its start), to tell which code can see a struct.
    #[serde(default)]
    pub field_reads: Vec<String>,
    #[serde(default)]
    pub file_start: Option<Loc>,
}

/// A setting the program reads: a field of a `Deserialize` struct by the name serde
/// reads (`flag: false`), or a long command-line flag without its dashes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigKey {
    pub name: String,
    pub flag: bool,
    /// The field that holds it (`Http.listen_host`), or the flag as written.
    pub field: String,
    /// The field's name (or the flag's string) where it is declared.
    pub at: Loc,
}

pub fn extract(
    file: FileId,
    path: &std::path::Path,
    source: &SourceFile,
    syntax: &syn::File,
    params: &ListenParams,
) -> ListenFacts {
    let mut v = Extractor {
        path,
        lowerer: Lowerer::new(file, source),
        params,
        facts: ListenFacts::default(),
        default_impl: None,
        claimed: Default::default(),
        test_support: None,
        in_wildcard_branch: 0,
        probes: Vec::new(),
        in_multicast_fn: false,
        logged_only: std::collections::HashSet::new(),
    };
    v.visit_file(syntax);
    v.facts.env_vars = env_vars::read(syntax, &v.lowerer, params);
    v.facts.config_keys = config_keys::read(syntax, &v.lowerer);
    v.facts.field_reads = field_reads::read(syntax);
    v.facts.file_start = Some(Loc::new(file, 0, 0));
    let env_files = env_vars::env_files(&v.facts.env_vars);
    v.facts.included.extend(env_files);
    v.facts.sites.shrink_to_fit();
    v.facts
}

struct Extractor<'a> {
    /// The file's path, for `include_str!` paths relative to its package.
    path: &'a std::path::Path,
    lowerer: Lowerer<'a>,
    params: &'a ListenParams,
    facts: ListenFacts,
    /// The type of the `impl Default for T` we are inside, if any.
    default_impl: Option<String>,
    /// String literals already read as (part of) the path of a configuration file
    /// read at run time, by their start offset: not read again on their own.
    claimed: std::collections::HashSet<u32>,
    /// The file is test support by its name (`test.rs`, `src/test/mod.rs`,
    /// `test_utils.rs`): the files it names are test data. Found when first needed.
    test_support: Option<bool>,
    /// Inside the branch of an `if` that runs only for a wildcard already configured
    /// (`if ip == Ipv6Addr::UNSPECIFIED { … }`): what it binds is the operator's
    /// choice spelt out, not a default.
    in_wildcard_branch: u32,
    /// Bind calls that only probe whether a port is free, by the start of their
    /// callee's name: their listener is dropped unnamed (`match bind(a).await { Ok(_) =>
    /// break, Err(_) => wait() }`, `bind(a).is_ok()`, `if let Ok(_) = bind(a)`).
    probes: Vec<u32>,
    /// Inside a function about multicast (`fn bind_multicast(..)`, a `multicast_addr`
    /// parameter): a multicast receiver binds the unspecified address by protocol, and
    /// its client socket a random local one; neither is a listen default.
    in_multicast_fn: bool,
    /// Listen-named locals that the rest of their block reads only in log lines
    /// (`let bind_addr = format!("0.0.0.0:{port}"); info!("on {}", bind_addr)`), by
    /// where their name is written: text for people, no setting.
    logged_only: std::collections::HashSet<u32>,
}

/// Whether statements read `name` only in log lines (and read it at all): a log
/// macro's tokens may name it, nothing else may.
fn read_only_in_logs(stmts: &[syn::Stmt], name: &str) -> bool {
    struct Reads<'n> {
        name: &'n str,
        logged: bool,
        other: bool,
    }
    fn names(tokens: proc_macro2::TokenStream, name: &str) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == name,
            // `info!("on {bind_addr}")`: a name captured by a format string.
            proc_macro2::TokenTree::Literal(l) => l.to_string().contains(&format!("{{{name}")),
            proc_macro2::TokenTree::Group(g) => names(g.stream(), name),
            proc_macro2::TokenTree::Punct(_) => false,
        })
    }
    impl<'ast> Visit<'ast> for Reads<'_> {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            self.other |= p.path.is_ident(self.name);
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            let log = m.path.segments.last().is_some_and(|s| crate::facts::LOG_MACROS.contains(&s.ident.to_string().as_str()));
            if names(m.tokens.clone(), self.name) {
                if log { self.logged = true } else { self.other = true }
            }
        }
    }
    let mut reads = Reads { name, logged: false, other: false };
    for stmt in stmts {
        reads.visit_stmt(stmt);
    }
    reads.logged && !reads.other
}

const CLAP_DEFAULT_KEYS: &[&str] = &["default_value", "default_value_t", "default_values_t", "default_missing_value"];

/// Macros whose arguments are ordinary code: list and map literals
/// (`vec![PortBinding { host_ip: … }]`, `hashmap! { port => … }`) and futures
/// joined (`tokio::try_join!(serve(TcpListener::bind(…)), …)`). Text and logging
/// macros are not read: an address in a message is no default.
const CODE_MACROS: &[&str] = &[
    "vec", "join", "try_join", "hashmap", "hmap", "btreemap", "hashset", "btreeset", "indexmap", "indexset", "convert_args",
];

impl Extractor<'_> {
    fn push(&mut self, kind: SiteKind, at: Loc, value: Value, listen_named: bool) {
        let bind = matches!(kind, SiteKind::BindCall { .. });
        if (bind && (self.in_wildcard_branch > 0 || self.probes.contains(&at.start))) || self.in_multicast_fn {
            return;
        }
        // Most sites hold nothing that could become a wildcard (a loopback literal, an
        // env read): keep only those that might, so facts stay small.
        if may_hold_wildcard(&value, self.params) {
            self.facts.sites.push(Site { kind, at, value, listen_named, into_field: None, into_struct: Vec::new() });
        }
    }

    /// Records the bind call `expr` is (through `.await`, `?`, parentheses) as a probe.
    fn note_probe(&mut self, expr: &syn::Expr) {
        let callee = match strip_await(expr) {
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(p) => p.path.segments.last().map(|s| &s.ident),
                _ => None,
            },
            syn::Expr::MethodCall(m) => Some(&m.method),
            _ => None,
        };
        if let Some(ident) = callee.filter(|i| self.params.bind_functions.contains(&i.to_string())) {
            let at = self.lowerer.span_loc(ident.span());
            self.probes.push(at.start);
        }
    }

    fn names_listen(&self, value: &Value) -> bool {
        let mut names = Vec::new();
        value.names(&mut names);
        names.iter().any(|n| self.params.is_listen_name(n))
    }

    /// The variable name of an env read in `value`'s receiver chain, if it reads one.
    fn env_read(&self, value: &Value) -> Option<Option<String>> {
        if let (Some(path), Value::Call { args, .. } | Value::Macro { args, .. }) = (call_path(value), value)
            && self.params.is_env_reader(&path)
        {
            return Some(args.iter().find_map(|a| match a {
                Value::Str { text, .. } => Some(text.clone()),
                _ => None,
            }));
        }
        match value {
            Value::Method { receiver, args, .. } => {
                self.env_read(receiver).or_else(|| args.iter().find_map(|a| self.env_read(a)))
            }
            Value::Local { value, .. } => self.env_read(value),
            Value::Call { args, .. } | Value::Macro { args, .. } => args.iter().find_map(|a| self.env_read(a)),
            _ => None,
        }
    }

    fn fallback_site(&mut self, receiver: &Value, method: &str, at: Loc, fallback: Value) {
        let listen_named = self.names_listen(receiver);
        let kind = match self.env_read(receiver) {
            Some(var) => SiteKind::EnvFallback { var, method: method.to_string() },
            None => SiteKind::Fallback { method: method.to_string() },
        };
        self.push(kind, at, fallback, listen_named);
    }

    /// `set_default("server.host", value)`: the key says what the value is for.
    fn config_default(&mut self, function: &str, at: Loc, args: Vec<&syn::Expr>) {
        let [key, value] = args.as_slice() else { return };
        let Value::Str { text: key, .. } = self.lowerer.lower(key) else { return };
        let listen_named = self.params.is_listen_name(&key);
        let value = self.lowerer.lower(value);
        self.push(SiteKind::ConfigDefault { key, function: function.to_string() }, at, value, listen_named);
    }

    fn in_fn_scope(&mut self, sig: &syn::Signature, f: impl FnOnce(&mut Self)) {
        let saved = std::mem::take(&mut self.lowerer.scope);
        let about_multicast = |name: &str| {
            let name = name.to_ascii_lowercase();
            name.contains("multicast") || name.contains("mdns")
        };
        let multicast = about_multicast(&sig.ident.to_string())
            || sig.inputs.iter().any(|a| match a {
                syn::FnArg::Typed(t) => crate::facts::lower::pat_ident(&t.pat).is_some_and(|i| about_multicast(&i.to_string())),
                syn::FnArg::Receiver(_) => false,
            });
        if multicast {
            self.facts.multicast_fns.push(self.lowerer.span_loc(sig.ident.span()));
        }
        let outer = self.in_multicast_fn;
        self.in_multicast_fn |= multicast;
        f(self);
        self.in_multicast_fn = outer;
        self.lowerer.scope = saved;
    }
}

/// The expressions of a code macro's body: `a, b, c` (`vec![x; n]` too), or the keys
/// and values of `k => v, …`; none when it is neither.
fn macro_exprs(m: &syn::Macro) -> Vec<syn::Expr> {
    use syn::punctuated::Punctuated;
    if let Ok(list) = m.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) {
        return list.into_iter().collect();
    }
    if let Ok(syn::Expr::Repeat(r)) = m.parse_body_with(|input: syn::parse::ParseStream| {
        let elem: syn::Expr = input.parse()?;
        let semi: syn::Token![;] = input.parse()?;
        let len: syn::Expr = input.parse()?;
        Ok(syn::Expr::Repeat(syn::ExprRepeat {
            attrs: Vec::new(),
            bracket_token: Default::default(),
            expr: Box::new(elem),
            semi_token: semi,
            len: Box::new(len),
        }))
    }) {
        return vec![*r.expr, *r.len];
    }
    let pair = |input: syn::parse::ParseStream| -> syn::Result<[syn::Expr; 2]> {
        let key: syn::Expr = input.parse()?;
        input.parse::<syn::Token![=>]>()?;
        Ok([key, input.parse()?])
    };
    m.parse_body_with(|input: syn::parse::ParseStream| Punctuated::<[syn::Expr; 2], syn::Token![,]>::parse_terminated_with(input, pair))
        .map(|pairs| pairs.into_iter().flatten().collect())
        .unwrap_or_default()
}

/// The callee path joined with `::`, or a macro's name with `!`.
fn call_path(value: &Value) -> Option<String> {
    match value {
        Value::Call { callee, .. } => Some(callee.join("::")),
        Value::Macro { name, .. } => Some(format!("{name}!")),
        _ => None,
    }
}

impl<'ast> Visit<'ast> for Extractor<'_> {
    // Types and attributes hold nothing these facts come from: not walked.
    fn visit_type(&mut self, _: &'ast syn::Type) {}
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        self.run_time_literal(s);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.included(m);
        for item in crate::facts::lower::lazy_static_items(m) {
            self.visit_item(&item);
        }
        if m.path.segments.last().is_some_and(|s| CODE_MACROS.iter().any(|c| s.ident == c)) {
            for expr in macro_exprs(m) {
                self.visit_expr(&expr);
            }
        }
    }

    fn visit_item_const(&mut self, i: &'ast syn::ItemConst) {
        self.embedded_item("constant", &i.ident, &i.expr);
        syn::visit::visit_item_const(self, i);
    }

    fn visit_item_static(&mut self, i: &'ast syn::ItemStatic) {
        self.embedded_item("static", &i.ident, &i.expr);
        syn::visit::visit_item_static(self, i);
    }

    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        let outer = self.default_impl.take();
        self.in_fn_scope(&i.sig, |s| syn::visit::visit_item_fn(s, i));
        self.default_impl = outer;
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let is_default =
            i.trait_.as_ref().is_some_and(|(_, path, _)| path.segments.last().is_some_and(|s| s.ident == "Default"));
        let outer = self.default_impl.take();
        if is_default {
            self.default_impl = crate::facts::type_name(&i.self_ty);
        }
        syn::visit::visit_item_impl(self, i);
        self.default_impl = outer;
    }

    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        self.in_fn_scope(&i.sig, |s| {
            if let (Some(ty), true) = (s.default_impl.clone(), i.sig.ident == "default") {
                let value = s.lowerer.lower_block(&i.block, 0);
                // A struct literal's fields are sites of their own (visit_expr_struct).
                if !matches!(i.block.stmts.last(), Some(syn::Stmt::Expr(syn::Expr::Struct(_), None))) {
                    let at = s.lowerer.span_loc(i.sig.ident.span());
                    s.push(SiteKind::DefaultImpl { ty, field: None }, at, value, false);
                }
            }
            syn::visit::visit_impl_item_fn(s, i);
        });
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        for (i, stmt) in b.stmts.iter().enumerate() {
            if let syn::Stmt::Local(local) = stmt
                && let Some(ident) = crate::facts::lower::pat_ident(&local.pat)
                && self.params.is_listen_name(&ident.to_string())
                && read_only_in_logs(&b.stmts[i + 1..], &ident.to_string())
            {
                self.logged_only.insert(self.lowerer.span_loc(ident.span()).start);
            }
        }
        let saved = self.lowerer.scope.len();
        syn::visit::visit_block(self, b);
        self.lowerer.scope.truncate(saved);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        syn::visit::visit_local(self, local);
        let Some(init) = &local.init else { return };
        let value = self.lowerer.lower(&init.expr);
        if let Some(ident) = crate::facts::lower::pat_ident(&local.pat) {
            let name = ident.to_string();
            let at = self.lowerer.span_loc(ident.span());
            if self.params.is_listen_name(&name) && !self.logged_only.contains(&at.start) {
                self.push(SiteKind::ListenBinding { name }, at, value.clone(), true);
            }
        }
        self.lowerer.bind(&local.pat, value);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if (m.method == "is_ok" || m.method == "is_err") && m.args.is_empty() {
            self.note_probe(&m.receiver);
        }
        self.claim_written(&m.method, &m.args);
        if m.method == "join" {
            self.run_time_join(m);
        }
        syn::visit::visit_expr_method_call(self, m);
        let method = m.method.to_string();
        // `if listen_addrs.is_empty() { listen_addrs.push(IpAddr::V4(Ipv4Addr::UNSPECIFIED)) }`:
        // an address added to a listen-named list is one it listens on.
        if matches!(method.as_str(), "push" | "push_back" | "push_front" | "insert")
            && m.args.len() == 1
            && let syn::Expr::Path(p) = &*m.receiver
            && let Some(list) = p.path.get_ident().map(|i| i.to_string()).filter(|n| self.params.is_listen_name(n))
        {
            let at = self.lowerer.span_loc(m.method.span());
            let value = self.lowerer.lower(&m.args[0]);
            self.push(SiteKind::ListenBinding { name: list }, at, value, true);
        }
        let is_bind = self.params.bind_functions.contains(&method);
        let is_fallback = self.params.fallback_methods.contains(&method);
        let is_setter =
            !is_bind && !is_fallback && self.params.is_listen_name(&method) && !names_source_address(&method);
        let is_config = self.params.config_default_functions.contains(&method);
        let is_clap = CLAP_DEFAULT_KEYS.contains(&method.as_str());
        // Most method calls are none of these: no location, no lowering.
        if !(is_bind || is_fallback || is_setter || is_config || is_clap) {
            return;
        }
        let at = self.lowerer.span_loc(m.method.span());
        if is_bind || is_setter {
            // sqlx's `query(…).bind(value)` binds a SQL parameter, not a socket.
            let sql_bind = builds_query(&m.receiver).unwrap_or_else(|local| {
                // A chain on a local: what the local holds.
                let mut names = Vec::new();
                self.lowerer.lower(local).names(&mut names);
                names.iter().any(|n| n.starts_with("query") || n.contains("QueryBuilder"))
            });
            if !sql_bind {
                for arg in &m.args {
                    let value = self.lowerer.lower(arg);
                    let kind = if is_bind {
                        SiteKind::BindCall { callee: format!(".{method}()") }
                    } else {
                        SiteKind::ListenSetter { method: method.clone() }
                    };
                    self.push(kind, at, value, is_setter);
                }
            }
        }
        if self.params.config_default_functions.contains(&method) {
            self.config_default(&method, at, m.args.iter().collect());
        }
        if self.params.fallback_methods.contains(&method)
            && let Some(first) = m.args.first()
        {
            let receiver = self.lowerer.lower(&m.receiver);
            let fallback = self.lowerer.lower(first);
            self.fallback_site(&receiver, &method, at, fallback);
        }
        if CLAP_DEFAULT_KEYS.contains(&method.as_str())
            && let Some(first) = m.args.first()
        {
            let receiver = self.lowerer.lower(&m.receiver);
            let listen_named = self.names_listen(&receiver);
            let field = first_str(&receiver).unwrap_or_else(|| "argument".to_string());
            let value = self.lowerer.lower(first);
            self.push(SiteKind::ClapDefault { field, attr: method }, at, value, listen_named);
        }
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func
            && let Some(last) = p.path.segments.last()
        {
            self.claim_written(&last.ident, &c.args);
        }
        self.run_time_reader(c);
        syn::visit::visit_expr_call(self, c);
        let syn::Expr::Path(p) = &*c.func else { return };
        let Some(last_ident) = p.path.segments.last().map(|s| &s.ident) else { return };
        if last_ident == "string" || last_ident == "from_str" {
            self.embedded_call(&segments(&p.path).join("::"), &c.args);
        }
        // Most calls are neither: compare the last segment before building any string.
        let may_config = self.params.config_default_functions.iter().any(|f| {
            let f_last = f.rsplit("::").next().unwrap_or(f);
            last_ident == f_last
        });
        let may_bind = self.params.bind_functions.iter().any(|f| last_ident == f) || constructs_server(&p.path);
        if !may_config && !may_bind {
            return;
        }
        let segs = segments(&p.path);
        let Some(last) = segs.last() else { return };
        let joined = segs.join("::");
        if self.params.config_default_functions.iter().any(|f| joined == *f || joined.ends_with(&format!("::{f}"))) {
            let ident = &p.path.segments.last().expect("non-empty").ident;
            let at = self.lowerer.span_loc(ident.span());
            self.config_default(&joined, at, c.args.iter().collect());
        }
        if self.params.bind_functions.contains(last) || constructs_server(&p.path) {
            let ident = &p.path.segments.last().expect("non-empty").ident;
            let at = self.lowerer.span_loc(ident.span());
            for arg in &c.args {
                let value = self.lowerer.lower(arg);
                self.push(SiteKind::BindCall { callee: segs.join("::") }, at, value, false);
            }
        }
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        if m.arms.iter().all(|a| binds_no_listener(&a.pat)) {
            self.note_probe(&m.expr);
        }
        syn::visit::visit_expr_match(self, m);
        let scrutinee = self.lowerer.lower(&m.expr);
        let Some(var) = self.env_read(&scrutinee) else {
            return;
        };
        let listen_named = self.names_listen(&scrutinee);
        for arm in &m.arms {
            if is_fallback_pattern(&arm.pat) {
                let value = self.lowerer.lower(&arm.body);
                let at = self.lowerer.span_loc(m.match_token.span);
                let kind = SiteKind::EnvFallback { var: var.clone(), method: "match".to_string() };
                self.push(kind, at, value, listen_named);
            }
        }
    }

    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        if binds_no_listener(&l.pat) {
            self.note_probe(&l.expr);
        }
        syn::visit::visit_expr_let(self, l);
    }

    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        if crate::facts::lower::tests_for_wildcard(&i.cond) {
            self.visit_expr(&i.cond);
            self.in_wildcard_branch += 1;
            self.visit_block(&i.then_branch);
            self.in_wildcard_branch -= 1;
            if let Some((_, other)) = &i.else_branch {
                self.visit_expr(other);
            }
            return;
        }
        syn::visit::visit_expr_if(self, i);
        let syn::Expr::Let(cond) = &*i.cond else {
            return;
        };
        let Some((_, other)) = &i.else_branch else {
            return;
        };
        let scrutinee = self.lowerer.lower(&cond.expr);
        let Some(var) = self.env_read(&scrutinee) else {
            return;
        };
        let listen_named = self.names_listen(&scrutinee);
        let value = self.lowerer.lower(other);
        let at = self.lowerer.span_loc(i.if_token.span);
        self.push(SiteKind::EnvFallback { var, method: "if let".to_string() }, at, value, listen_named);
    }

    /// `store.http.listen = ListenEndpoint::from(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port))`:
    /// a listen setting written into a configuration (a setup command writing the file
    /// the service then runs with). Only an address written in the assignment itself:
    /// a local chosen earlier (`cfg.listen = answer`) is the operator's.
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        syn::visit::visit_expr_assign(self, a);
        // `listen_addr = Multiaddr::empty().with(Protocol::from(Ipv4Addr::UNSPECIFIED))…`:
        // a listen-named local given another address (a fallback when the first is taken).
        if let syn::Expr::Path(p) = &*a.left
            && let Some(ident) = p.path.get_ident()
            && self.params.is_listen_name(&ident.to_string())
            && !matches!(&*a.right, syn::Expr::Path(_))
        {
            let at = self.lowerer.span_loc(ident.span());
            let value = self.lowerer.lower(&a.right);
            self.lowerer.reassign(ident, value.clone());
            self.push(SiteKind::ListenBinding { name: ident.to_string() }, at, value, true);
            return;
        }
        let syn::Expr::Field(field) = &*a.left else { return };
        let syn::Member::Named(ident) = &field.member else { return };
        let name = ident.to_string();
        if !self.params.is_listen_name(&name) || matches!(&*a.right, syn::Expr::Path(_)) {
            return;
        }
        let holder = quote::ToTokens::to_token_stream(&*field.base).to_string().replace(' ', "");
        // `event.ip_address = event.ip_address.map(mask_ip)`: a value made from the
        // field's own value transforms it; it is no default.
        let own = quote::ToTokens::to_token_stream(&*a.left).to_string().replace(' ', "");
        if quote::ToTokens::to_token_stream(&*a.right).to_string().replace(' ', "").contains(&own) {
            return;
        }
        let at = self.lowerer.span_loc(ident.span());
        let value = self.lowerer.lower(&a.right);
        self.push(SiteKind::ListenField { ty: holder, field: name }, at, value, true);
    }

    fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
        // Each field's value, noting the field on the fallbacks found in it (an inner
        // literal's fields are noted first). (An address written in the literal is a
        // setting of its own: `ServerAddr { ip: Ipv4Addr::UNSPECIFIED.into(), port }`.)
        let struct_path: Vec<String> = s.path.segments.iter().map(|x| x.ident.to_string()).collect();
        let mut fallback_fields = Vec::new();
        for field in &s.fields {
            let before = self.facts.sites.len();
            self.visit_expr(&field.expr);
            if let syn::Member::Named(ident) = &field.member {
                for site in &mut self.facts.sites[before..] {
                    let fallback = matches!(site.kind, SiteKind::EnvFallback { .. } | SiteKind::Fallback { .. });
                    if fallback && site.into_field.is_none() {
                        site.into_field = Some(ident.to_string());
                        site.into_struct = struct_path.clone();
                        fallback_fields.push(ident.to_string());
                    }
                }
            }
        }
        if let Some(rest) = &s.rest {
            self.visit_expr(rest);
        }
        let ty = s.path.segments.last().map(|x| x.ident.to_string()).unwrap_or_default();
        // `ServerAddr { ip: …, port }`: the IP beside a port is the address it listens on.
        let has_port = s.fields.iter().any(|f| matches!(&f.member, syn::Member::Named(n) if n == "port"));
        let ty_named = if ty == "Self" { self.default_impl.clone().unwrap_or_default() } else { ty.clone() };
        for field in &s.fields {
            let syn::Member::Named(ident) = &field.member else {
                continue;
            };
            let name = ident.to_string();
            // (Outside a `Default` impl, only an address written in the literal itself: a
            // local chosen earlier, `Self { ip, port }`, may be an opt-in per platform.)
            let written_here = self.default_impl.is_some() || !matches!(&field.expr, syn::Expr::Path(_));
            // (A struct named for the other end or a message, `AnnounceRequest`, holds
            // an address sent or reached, not one bound.)
            let listen_named = (self.params.is_listen_name(&name) && !self.params.is_remote_name(&ty_named))
                || (has_port && written_here && self.params.is_ip_beside_port(&name, &ty_named));
            if self.default_impl.is_none() && !listen_named {
                continue;
            }
            let at = self.lowerer.span_loc(ident.span());
            let value = self.lowerer.lower(&field.expr);
            match &self.default_impl {
                Some(default_ty) => {
                    let ty = if ty == "Self" { default_ty.clone() } else { ty.clone() };
                    self.push(SiteKind::DefaultImpl { ty, field: Some(name) }, at, value, listen_named);
                }
                None if listen_named => {
                    let before = self.facts.sites.len();
                    let fallback = fallback_fields.contains(&name);
                    self.push(SiteKind::ListenField { ty: ty.clone(), field: name.clone() }, at, value, true);
                    // (The field set to a fallback: read or not, as the fallback is.)
                    if let Some(site) = self.facts.sites.get_mut(before).filter(|_| fallback) {
                        site.into_field = Some(name);
                        site.into_struct = struct_path.clone();
                    }
                }
                None => {}
            }
        }
    }

    fn visit_field(&mut self, f: &'ast syn::Field) {
        self.field_attrs(f);
        syn::visit::visit_field(self, f);
    }
}

/// `Err(_)`, `Err(e)`, `None`, `_`: the arm taken when the variable is unset.
fn is_fallback_pattern(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Wild(_) => true,
        syn::Pat::Ident(i) => i.ident == "None",
        syn::Pat::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "None"),
        syn::Pat::TupleStruct(t) => t.path.segments.last().is_some_and(|s| s.ident == "Err"),
        syn::Pat::Or(o) => o.cases.iter().any(is_fallback_pattern),
        _ => false,
    }
}

/// The first string literal in a receiver chain (`Arg::new("listen")` → `listen`).
fn first_str(value: &Value) -> Option<String> {
    match value {
        Value::Str { text, .. } => Some(text.clone()),
        Value::Call { args, .. } => args.iter().find_map(first_str),
        Value::Method { receiver, args, .. } => first_str(receiver).or_else(|| args.iter().find_map(first_str)),
        _ => None,
    }
}

/// An expression through `.await`, `?` and parentheses.
fn strip_await(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Await(a) => strip_await(&a.base),
        syn::Expr::Try(t) => strip_await(&t.expr),
        syn::Expr::Paren(p) => strip_await(&p.expr),
        other => other,
    }
}

/// Whether the chain a method is called on starts from or passes through a SQL
/// query (`sqlx::query(…)`, `query_as::<_, T>(…)`, `QueryBuilder::new(…)`, a local
/// named `query…`): the names along the chain, not those of its arguments
/// (`.add_service(query_cache_svc)` builds a server). `Err(local)` when the chain
/// starts from a local not so named: what it holds decides.
fn builds_query(mut expr: &syn::Expr) -> Result<bool, &syn::Expr> {
    let sql = |name: &str| name.starts_with("query") || name.contains("QueryBuilder");
    loop {
        match expr {
            syn::Expr::MethodCall(m) => {
                if sql(&m.method.to_string()) {
                    return Ok(true);
                }
                expr = &m.receiver;
            }
            syn::Expr::Call(c) => {
                return Ok(
                    matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.iter().any(|s| sql(&s.ident.to_string()))),
                );
            }
            syn::Expr::Path(p) if p.path.segments.iter().any(|s| sql(&s.ident.to_string())) => return Ok(true),
            syn::Expr::Path(p) if p.path.get_ident().is_some() => return Err(expr),
            syn::Expr::Macro(m) => return Ok(m.mac.path.segments.iter().any(|s| sql(&s.ident.to_string()))),
            syn::Expr::Await(a) => expr = &a.base,
            syn::Expr::Try(t) => expr = &t.expr,
            syn::Expr::Paren(p) => expr = &p.expr,
            syn::Expr::Reference(r) => expr = &r.expr,
            _ => return Ok(false),
        }
    }
}

/// Whether a call builds a server or a listener from what it is given
/// (`SCServer::new(SocketAddr::new(Ipv4Addr::UNSPECIFIED, port))`,
/// `MetricsListener::new(addr)`): the address it takes is the one it binds.
fn constructs_server(path: &syn::Path) -> bool {
    let n = path.segments.len();
    n >= 2 && path.segments[n - 1].ident == "new" && {
        let ty = path.segments[n - 2].ident.to_string();
        ty.ends_with("Server") || ty.ends_with("Listener")
    }
}

/// Whether a pattern on a bind call's result keeps no listener: `Ok(_)`, `Ok(..)`,
/// `Err(e)`, `_` (a probe of whether the port is free, the socket dropped at once).
fn binds_no_listener(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Wild(_) => true,
        syn::Pat::TupleStruct(t) => match t.path.segments.last().map(|s| s.ident.to_string()).as_deref() {
            Some("Ok") => t.elems.iter().all(|e| matches!(e, syn::Pat::Wild(_) | syn::Pat::Rest(_))),
            Some("Err") => true,
            _ => false,
        },
        syn::Pat::Or(o) => o.cases.iter().all(binds_no_listener),
        _ => false,
    }
}

/// Whether a setter sets an address that is not where the service listens: where
/// outgoing connections leave from (reqwest's `local_address`, hyper's
/// `set_local_address`, `source_addr`), or the address a node tells its peers to
/// reach it at (`add_public_address`, `set_advertise_addr`, `announce_address`) —
/// unless the name also says bind or listen (`local_bind_address`).
fn names_source_address(method: &str) -> bool {
    let words: Vec<String> = super::word_slices(method).map(str::to_ascii_lowercase).collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    has(&["local", "source", "outbound", "outgoing", "public", "advertise", "advertised", "announce", "announced"])
        && !has(&["bind", "listen", "listener"])
}
