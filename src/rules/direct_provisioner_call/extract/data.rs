//! Presence used as data: a presence check whose value only feeds a log line, JSON,
//! formatted text, a metric or a field of a struct literal chooses nothing. The
//! sinks (the arguments of a data macro ([`is_data_macro`]), of a metric handle's [`METRIC_METHODS`],
//! a struct literal's fields) are visited as data; a `let` bound to a presence check
//! is a [`Flag`], whose checks are reported when it is read anywhere else (a
//! condition, a `return`, an argument of another function) or never read.

use super::{Extractor, ProvisionerSite, strip};
use crate::input::source::Loc;

/// Macros whose arguments are data besides log lines ([`crate::facts::LOG_MACROS`]):
/// formatted text, JSON, metrics. A presence check there is recorded, not acted on.
const DATA_MACROS: &[&str] = &["format", "format_args", "write", "writeln", "json", "gauge", "counter", "histogram"];

/// Whether a macro's arguments are data (a log line, formatted text, JSON, a metric).
pub(super) fn is_data_macro(name: &str) -> bool {
    crate::facts::LOG_MACROS.contains(&name) || DATA_MACROS.contains(&name)
}

/// Macros that make a metric handle (`metrics::gauge!("docker_backend")`).
const METRIC_MACROS: &[&str] = &["gauge", "counter", "histogram"];

/// A metric handle's methods that record a value: their arguments are data.
pub(super) const METRIC_METHODS: &[&str] = &[
    "set", "inc", "inc_by", "dec", "dec_by", "add", "sub", "increment", "decrement", "absolute", "record", "observe",
];

/// Words that name a metric in a handle's path (`state.metrics.backends`, `docker_gauge`).
const METRIC_WORDS: &[&str] = &["metric", "gauge", "counter", "histogram"];

/// Presence checks whose value only passes on: `is_some()` and the like.
pub(super) const PRESENCE_METHODS: &[&str] = &["is_some", "is_none", "is_some_and", "is_none_or"];

/// Methods that turn a flag into another value (`.then(|| "docker")`, `.to_string()`).
const CONVERSIONS: &[&str] = &["then", "then_some", "to_string", "into", "not", "eq", "ne"];

/// A `let` bound to a presence check (`let has_docker = state.provisioner.is_some()`).
pub(super) struct Flag {
    /// The binding's index in the scope.
    pub index: usize,
    /// The presence checks of its value, reported once the flag decides something.
    pub sites: Vec<ProvisionerSite>,
    /// How often it was read as data.
    pub data_uses: u32,
}

/// The presence checks of a `let`'s value being collected (see [`Flag`]).
#[derive(Default)]
pub(super) struct Deferring {
    /// Where the checks in the value's own positions are (not in a closure or block).
    pub locs: Vec<Loc>,
    pub sites: Vec<ProvisionerSite>,
}

/// An `if` whose branches are literals only (`if cp.is_some() { 1.0 } else { 0.0 }`):
/// it converts its condition into a value. Text literals name something instead
/// (see [`names_by_presence`]).
fn literal_branches(i: &syn::ExprIf) -> bool {
    branches_all(i, &|l| !matches!(l, syn::Lit::Str(_)))
}

/// An `if` whose branches are text literals (`if cp.is_some() { "control-plane" }
/// else { "docker" }`): it names the backend in use from what is present, the
/// dispatcher's choice made by hand, wherever its value goes.
pub(super) fn names_by_presence(i: &syn::ExprIf) -> bool {
    branches_all(i, &|l| matches!(l, syn::Lit::Str(_)))
}

fn branches_all(i: &syn::ExprIf, ok: &dyn Fn(&syn::Lit) -> bool) -> bool {
    let lit = |b: &syn::Block| matches!(&b.stmts[..], [syn::Stmt::Expr(syn::Expr::Lit(l), None)] if ok(&l.lit));
    lit(&i.then_branch)
        && match i.else_branch.as_ref().map(|(_, e)| &**e) {
            Some(syn::Expr::Block(b)) => lit(&b.block),
            Some(syn::Expr::If(next)) => branches_all(next, ok),
            _ => false,
        }
}

/// A value that runs nothing: a literal, a name, a field, a presence check, and
/// negations, comparisons and combinations of such.
fn plain(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Lit(_) | syn::Expr::Path(_) | syn::Expr::Field(_) => true,
        syn::Expr::Paren(p) => plain(&p.expr),
        syn::Expr::Unary(u) => plain(&u.expr),
        syn::Expr::Binary(b) => plain(&b.left) && plain(&b.right),
        syn::Expr::Cast(c) => plain(&c.expr),
        syn::Expr::MethodCall(m) => PRESENCE_METHODS.contains(&m.method.to_string().as_str()) && m.args.is_empty(),
        syn::Expr::Macro(m) => m.mac.path.segments.last().is_some_and(|s| s.ident == "matches"),
        _ => false,
    }
}

/// Whether a name is written in capitals (a static: `BACKEND_GAUGE`).
fn is_static_name(name: &str) -> bool {
    name.len() > 1 && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Whether an expression is a metric macro's value (`metrics::gauge!("cp")`).
fn is_metric_macro(expr: &syn::Expr) -> bool {
    matches!(strip(expr), syn::Expr::Macro(m)
        if m.mac.path.segments.last().is_some_and(|s| METRIC_MACROS.iter().any(|n| s.ident == n)))
}

impl Extractor<'_> {
    /// Where the presence checks are that a `let`'s value is made of: the check
    /// itself, negated, combined (`&&`, `||`, `==`), cast, converted (`u8::from`,
    /// `.then(…)`, `.to_string()`) or turned into literals by an `if`.
    pub(super) fn value_checks(&self, expr: &syn::Expr, out: &mut Vec<Loc>) {
        match expr {
            syn::Expr::Paren(p) => self.value_checks(&p.expr, out),
            syn::Expr::Group(g) => self.value_checks(&g.expr, out),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => self.value_checks(&u.expr, out),
            // `a.is_some() && b.is_none()`; not `cp.is_some() && self.stop_cp()`, which
            // runs the call only when the backend is there.
            syn::Expr::Binary(b)
                if !matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) || (plain(&b.left) && plain(&b.right)) =>
            {
                self.value_checks(&b.left, out);
                self.value_checks(&b.right, out);
            }
            syn::Expr::Cast(c) => self.value_checks(&c.expr, out),
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                if PRESENCE_METHODS.contains(&method.as_str()) {
                    out.push(self.loc(m.method.span()));
                } else if CONVERSIONS.contains(&method.as_str()) {
                    self.value_checks(&m.receiver, out);
                }
            }
            syn::Expr::Call(c) if c.args.len() == 1 => {
                if let syn::Expr::Path(p) = &*c.func
                    && p.path.segments.last().is_some_and(|s| s.ident == "from")
                {
                    self.value_checks(&c.args[0], out);
                }
            }
            syn::Expr::If(i) if literal_branches(i) => self.value_checks(&i.cond, out),
            syn::Expr::Macro(m) => {
                if let Some(last) = m.mac.path.segments.last()
                    && last.ident == "matches"
                {
                    out.push(self.loc(last.ident.span()));
                }
            }
            _ => {}
        }
    }

    /// Whether a receiver is a metric handle: a metric macro's value, a static
    /// (`BACKEND_GAUGE`), a local bound to a metric macro, or a path naming a metric
    /// (`state.metrics.backends`), through calls (`.with_label_values(&[…])`).
    pub(super) fn is_metric_handle(&self, expr: &syn::Expr) -> bool {
        let mut base = strip(expr);
        loop {
            match base {
                syn::Expr::MethodCall(m) => base = strip(&m.receiver),
                syn::Expr::Field(f) => {
                    if let syn::Member::Named(name) = &f.member
                        && METRIC_WORDS.iter().any(|w| name.to_string().to_ascii_lowercase().contains(w))
                    {
                        return true;
                    }
                    base = strip(&f.base);
                }
                syn::Expr::Path(p) => {
                    let Some(last) = p.path.segments.last() else { return false };
                    let name = last.ident.to_string();
                    let lower = name.to_ascii_lowercase();
                    return is_static_name(&name)
                        || METRIC_WORDS.iter().any(|w| lower.contains(w))
                        || p.path.get_ident().is_some_and(|i| self.metric_locals.iter().any(|l| i == l));
                }
                other => return is_metric_macro(other),
            }
        }
    }

    /// `let g = metrics::gauge!("cp")`: `g` is a metric handle.
    pub(super) fn note_metric_local(&mut self, pat: &syn::Pat, init: &syn::Expr) {
        let mut root = strip(init);
        while let syn::Expr::MethodCall(m) = root {
            root = strip(&m.receiver);
        }
        if is_metric_macro(root)
            && let Some(ident) = crate::facts::lower::pat_ident(pat)
        {
            self.metric_locals.push(ident.to_string());
        }
    }

    /// A name read: a flag read as data counts, read otherwise it decides something,
    /// and its presence checks are reported.
    pub(super) fn read_name(&mut self, name: &str) {
        if self.flags.is_empty() {
            return;
        }
        let Some(index) = self.scope.iter().rposition(|(n, _)| n == name) else { return };
        let Some(at) = self.flags.iter().position(|f| f.index == index) else { return };
        if self.as_data {
            self.flags[at].data_uses += 1;
        } else {
            let flag = self.flags.swap_remove(at);
            self.out.sites.extend(flag.sites);
        }
    }

    /// The names a macro's tokens read, where they do not parse as expressions.
    pub(super) fn read_names(&mut self, tokens: proc_macro2::TokenStream) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(i) => self.read_name(&i.to_string()),
                proc_macro2::TokenTree::Group(g) => self.read_names(g.stream()),
                _ => {}
            }
        }
    }

    /// The names a format string captures (`"saas: {saas}"`, `{saas:?}`), in a
    /// macro's tokens.
    pub(super) fn read_captures(&mut self, tokens: proc_macro2::TokenStream) {
        for token in tokens {
            let proc_macro2::TokenTree::Literal(lit) = token else { continue };
            let text = lit.to_string();
            if !text.ends_with('"') {
                continue;
            }
            let mut rest = text.as_str();
            while let Some(open) = rest.find('{') {
                rest = &rest[open + 1..];
                if let Some(escaped) = rest.strip_prefix('{') {
                    rest = escaped;
                    continue;
                }
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let ident = name.starts_with(|c: char| c.is_alphabetic() || c == '_');
                if ident && rest[name.len()..].starts_with(['}', ':']) {
                    self.read_name(&name);
                }
            }
        }
    }

    /// A flag leaves the scope: never read, it is reported (as if it decided).
    pub(super) fn close_flag(&mut self, flag: Flag) {
        if flag.data_uses == 0 {
            self.out.sites.extend(flag.sites);
        }
    }
}
