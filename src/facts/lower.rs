//! Lowering syntax to [`Value`]s: expressions, blocks and the locals in scope, with
//! the bounds that keep every later walk shallow, and the syntax helpers extractors
//! share (`lazy_static!` items, path segments, binding names).

use crate::facts::value::{Value, captured_names};
use crate::input::source::{FileId, Loc, SourceFile};
use syn::punctuated::Punctuated;

/// Deeper expressions are modelled as [`Value::Opaque`]; keeps every later walk shallow.
const MAX_DEPTH: usize = 48;
/// Arrays and tuples longer than this are modelled as [`Value::Opaque`].
const MAX_ELEMS: usize = 16;
/// Locals larger than this many nodes are not substituted into their uses.
const MAX_LOCAL_NODES: usize = 256;

/// Turns syn expressions into [`Value`]s, substituting the locals in scope.
pub struct Lowerer<'a> {
    pub file: FileId,
    pub source: &'a SourceFile,
    /// Locals bound so far in the current function, innermost last.
    pub scope: Vec<(String, Loc, Value)>,
}

impl<'a> Lowerer<'a> {
    pub fn new(file: FileId, source: &'a SourceFile) -> Self {
        Lowerer { file, source, scope: Vec::new() }
    }

    pub fn loc(&self, start: proc_macro2::Span, end: proc_macro2::Span) -> Loc {
        self.source.span_loc(self.file, start, end)
    }

    pub fn span_loc(&self, span: proc_macro2::Span) -> Loc {
        self.loc(span, span)
    }

    pub fn lookup(&self, name: &str) -> Option<(Loc, &Value)> {
        self.scope.iter().rev().find(|(n, _, _)| n == name).map(|(_, l, v)| (*l, v))
    }

    /// Records `let NAME = init;` (only simple identifier patterns bind). A value too
    /// large to copy into every use (`let v = f(v, v)` doubles each time) is opaque.
    pub fn bind(&mut self, pat: &syn::Pat, value: Value) {
        let value = if value.size_exceeds(MAX_LOCAL_NODES) { Value::Opaque } else { value };
        if let Some(ident) = pat_ident(pat) {
            let loc = self.span_loc(ident.span());
            self.scope.push((ident.to_string(), loc, value));
        }
    }

    /// `name = value` after its `let` (in a branch, a block, or not): later reads see
    /// either value.
    pub fn reassign(&mut self, ident: &syn::Ident, value: Value) {
        let name = ident.to_string();
        let Some((_, _, old)) = self.scope.iter_mut().rev().find(|(n, ..)| *n == name) else { return };
        let both = Value::Branches { arms: vec![std::mem::replace(old, Value::Opaque), value] };
        *old = if both.size_exceeds(MAX_LOCAL_NODES) { Value::Opaque } else { both };
    }

    pub fn lower(&mut self, expr: &syn::Expr) -> Value {
        self.lower_at(expr, 0)
    }

    fn lower_at(&mut self, expr: &syn::Expr, depth: usize) -> Value {
        use syn::Expr as E;
        if depth > MAX_DEPTH {
            return Value::Opaque;
        }
        let d = depth + 1;
        match expr {
            E::Lit(lit) => self.lower_lit(&lit.lit),
            E::Path(p) if p.qself.is_none() => {
                let path = &p.path;
                if let (Some(ident), true) = (path.get_ident(), path.leading_colon.is_none())
                    && let Some((loc, value)) = self.lookup(&ident.to_string())
                {
                    return Value::Local { name: ident.to_string(), loc, value: Box::new(value.clone()) };
                }
                let last = path.segments.last().map(|s| s.ident.span());
                let first = path.segments.first().map(|s| s.ident.span());
                match (first, last) {
                    (Some(f), Some(l)) => Value::Path { segments: segments(path), loc: self.loc(f, l) },
                    _ => Value::Opaque,
                }
            }
            E::Field(f) => {
                let (name, span) = match &f.member {
                    syn::Member::Named(i) => (i.to_string(), i.span()),
                    syn::Member::Unnamed(i) => (i.index.to_string(), i.span),
                };
                Value::Field { base: Box::new(self.lower_at(&f.base, d)), name, loc: self.span_loc(span) }
            }
            E::Call(c) => {
                let E::Path(p) = &*c.func else {
                    return Value::Opaque;
                };
                let Some(first) = p.path.segments.first() else {
                    return Value::Opaque;
                };
                let loc = self.loc(first.ident.span(), c.paren_token.span.close());
                let args = c.args.iter().map(|a| self.lower_at(a, d)).collect();
                Value::Call { callee: segments(&p.path), args, loc }
            }
            E::MethodCall(m) => {
                let receiver = self.lower_at(&m.receiver, d);
                // `"0.0.0.0".parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 9181))`: the
                // closure of a combinator is given what the receiver holds.
                let args = match (m.method.to_string().as_str(), m.args.first().map(strip_parens)) {
                    ("map" | "and_then" | "inspect", Some(E::Closure(c)))
                        if m.args.len() == 1 && c.inputs.len() == 1 =>
                    {
                        let saved = self.scope.len();
                        self.bind(&c.inputs[0], receiver.clone());
                        let body = self.lower_at(&c.body, d);
                        self.scope.truncate(saved);
                        vec![Value::Closure { body: Box::new(body) }]
                    }
                    _ => m.args.iter().map(|a| self.lower_at(a, d)).collect(),
                };
                Value::Method {
                    receiver: Box::new(receiver),
                    method: m.method.to_string(),
                    args,
                    loc: self.span_loc(m.method.span()),
                }
            }
            E::Macro(m) => self.lower_macro(&m.mac, d),
            E::Tuple(t) if t.elems.len() > MAX_ELEMS => Value::Opaque,
            E::Tuple(t) => Value::Tuple {
                elems: t.elems.iter().map(|a| self.lower_at(a, d)).collect(),
                loc: self.loc(t.paren_token.span.open(), t.paren_token.span.close()),
            },
            // Large literal tables matter to no rule; their values would only take memory.
            E::Array(a) if a.elems.len() > MAX_ELEMS => Value::Opaque,
            E::Array(a) => Value::Array {
                elems: a.elems.iter().map(|x| self.lower_at(x, d)).collect(),
                loc: self.loc(a.bracket_token.span.open(), a.bracket_token.span.close()),
            },
            E::Repeat(r) => {
                // `[0u8; 4]` is the array `[0, 0, 0, 0]`.
                let count = match &*r.len {
                    E::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) => n.base10_parse::<usize>().ok(),
                    _ => None,
                };
                match count {
                    Some(n) if n <= 16 => Value::Array {
                        elems: vec![self.lower_at(&r.expr, d); n],
                        loc: self.loc(r.bracket_token.span.open(), r.bracket_token.span.close()),
                    },
                    _ => Value::Opaque,
                }
            }
            E::Reference(r) => self.lower_at(&r.expr, d),
            // `&addrs[..]`, `addrs[0]`: what the list holds.
            E::Index(i) => self.lower_at(&i.expr, d),
            E::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.lower_at(&u.expr, d),
            E::Paren(p) => self.lower_at(&p.expr, d),
            E::Group(g) => self.lower_at(&g.expr, d),
            E::Cast(c) => self.lower_at(&c.expr, d),
            E::Try(t) => self.lower_at(&t.expr, d),
            E::Await(a) => self.lower_at(&a.base, d),
            E::Closure(c) => Value::Closure { body: Box::new(self.lower_at(&c.body, d)) },
            E::Block(b) => self.lower_block(&b.block, d),
            // `if args.bind_all { wildcard } else { loopback }`: the first branch runs
            // only when an operator opts in; the value by default is the other one.
            E::If(syn::ExprIf { cond, else_branch: Some((_, other)), .. }) if is_opt_in_flag(cond) => {
                self.lower_at(other, d)
            }
            // `if ip == Ipv6Addr::UNSPECIFIED { both stacks }`: the operator's wildcard
            // spelt out, not a value of its own.
            E::If(i) if tests_for_wildcard(&i.cond) => match &i.else_branch {
                Some((_, other)) => self.lower_at(other, d),
                None => Value::Opaque,
            },
            E::If(i) => {
                let mut arms = vec![self.lower_block(&i.then_branch, d)];
                if let Some((_, other)) = &i.else_branch {
                    arms.push(self.lower_at(other, d));
                }
                Value::Branches { arms }
            }
            E::Match(m) => Value::Branches { arms: m.arms.iter().map(|a| self.lower_at(&a.body, d)).collect() },
            _ => Value::Opaque,
        }
    }

    /// The value of a block: its tail expression, with its own `let`s in scope.
    pub fn lower_block(&mut self, block: &syn::Block, depth: usize) -> Value {
        let saved = self.scope.len();
        let mut tail = Value::Opaque;
        for stmt in &block.stmts {
            match stmt {
                syn::Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        let v = self.lower_at(&init.expr, depth + 1);
                        self.bind(&local.pat, v);
                    }
                }
                syn::Stmt::Expr(e, None) => tail = self.lower_at(e, depth + 1),
                // `cfg_if::cfg_if! { if #[cfg(..)] { a } else { b } }` as the block's value.
                syn::Stmt::Macro(m) if m.semi_token.is_none() => tail = self.lower_macro(&m.mac, depth + 1),
                syn::Stmt::Expr(syn::Expr::Return(r), Some(_)) => {
                    if let Some(e) = &r.expr {
                        tail = self.lower_at(e, depth + 1);
                    }
                }
                _ => {}
            }
        }
        self.scope.truncate(saved);
        tail
    }

    fn lower_lit(&self, lit: &syn::Lit) -> Value {
        match lit {
            syn::Lit::Str(s) => Value::Str { text: s.value(), loc: self.span_loc(s.span()) },
            syn::Lit::Int(i) => match i.base10_parse::<u128>() {
                Ok(value) => Value::Int { value, loc: self.span_loc(i.span()) },
                Err(_) => Value::Opaque,
            },
            _ => Value::Opaque,
        }
    }

    /// Lowers the macros whose arguments are expressions that carry values.
    pub fn lower_macro(&mut self, mac: &syn::Macro, depth: usize) -> Value {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        // `stringify!(workspaces)`: the text of its tokens, as the compiler writes it.
        if name == "stringify" {
            let span = mac.tokens.clone().into_iter().next().map_or(mac.delimiter.span().open(), |t| t.span());
            return Value::Str { text: mac.tokens.to_string(), loc: self.span_loc(span) };
        }
        // `cfg_if! { if #[cfg(debug_assertions)] { a } else { b } }`: one of its blocks,
        // chosen when the program is built.
        // `vec![a, b]`: a list of its elements (`vec![x; n]`: of `x`).
        if name == "vec" {
            let loc = self.span_loc(mac.delimiter.span().open());
            if let Ok(elems) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) {
                return Value::Array { elems: elems.iter().map(|e| self.lower_at(e, depth + 1)).collect(), loc };
            }
            if let Ok(syn::Expr::Repeat(r)) =
                syn::parse2::<syn::Expr>(proc_macro2::TokenStream::from(proc_macro2::TokenTree::Group(
                    proc_macro2::Group::new(proc_macro2::Delimiter::Bracket, mac.tokens.clone()),
                )))
            {
                return Value::Array { elems: vec![self.lower_at(&r.expr, depth + 1)], loc };
            }
            return Value::Opaque;
        }
        if name == "cfg_if" {
            let arms: Vec<Value> = mac
                .tokens
                .clone()
                .into_iter()
                .filter_map(|tt| match tt {
                    proc_macro2::TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => {
                        syn::parse2::<syn::Block>(proc_macro2::TokenStream::from(proc_macro2::TokenTree::Group(g))).ok()
                    }
                    _ => None,
                })
                .map(|block| self.lower_block(&block, depth + 1))
                .collect();
            return if arms.is_empty() { Value::Opaque } else { Value::Branches { arms } };
        }
        if !matches!(name.as_str(), "format" | "format_args" | "env" | "option_env")
            && !crate::facts::value::COMPILE_TIME_STRING_MACROS.contains(&name.as_str())
        {
            return Value::Opaque;
        }
        let Some(first) = mac.path.segments.first() else {
            return Value::Opaque;
        };
        let close = match &mac.delimiter {
            syn::MacroDelimiter::Paren(p) => p.span.close(),
            syn::MacroDelimiter::Brace(b) => b.span.close(),
            syn::MacroDelimiter::Bracket(b) => b.span.close(),
        };
        let loc = self.loc(first.ident.span(), close);
        let Ok(exprs) = mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated) else {
            return Value::Opaque;
        };
        let mut args = Vec::new();
        for e in &exprs {
            match e {
                syn::Expr::Assign(a) => {
                    let name = match &*a.left {
                        syn::Expr::Path(p) => p.path.get_ident().map(|i| (i.to_string(), i.span())),
                        _ => None,
                    };
                    let value = self.lower_at(&a.right, depth + 1);
                    if let Some((name, span)) = name {
                        args.push(Value::Local { name, loc: self.span_loc(span), value: Box::new(value) });
                    }
                }
                other => args.push(self.lower_at(other, depth + 1)),
            }
        }
        // `format!("{host}:{port}")` captures locals by name: bind them as named arguments.
        if let Some(Value::Str { text, .. }) = args.first() {
            let captured: Vec<String> = captured_names(text)
                .into_iter()
                .filter(|n| !args.iter().any(|a| matches!(a, Value::Local { name, .. } if name == n)))
                .collect();
            for n in captured {
                let value = match self.lookup(&n) {
                    Some((loc, v)) => Value::Local { name: n.clone(), loc, value: Box::new(v.clone()) },
                    None => Value::Local {
                        name: n.clone(),
                        loc,
                        value: Box::new(Value::Path { segments: vec![n.clone()], loc }),
                    },
                };
                args.push(value);
            }
        }
        Value::Macro { name, args, loc }
    }
}

/// The items inside `lazy_static! { static ref NAME: T = expr; }`, parsed with
/// their original spans (the `ref` is dropped so the body parses as statics).
pub fn lazy_static_items(mac: &syn::Macro) -> Vec<syn::Item> {
    if mac.path.segments.last().is_none_or(|s| s.ident != "lazy_static") {
        return Vec::new();
    }
    let mut tokens = Vec::new();
    let mut after_static = false;
    for tt in mac.tokens.clone() {
        let is_ref = matches!(&tt, proc_macro2::TokenTree::Ident(i) if i == "ref");
        if !(after_static && is_ref) {
            tokens.push(tt.clone());
        }
        after_static = matches!(&tt, proc_macro2::TokenTree::Ident(i) if i == "static");
    }
    syn::parse2::<syn::File>(tokens.into_iter().collect()).map(|f| f.items).unwrap_or_default()
}

pub fn segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

pub fn pat_ident(pat: &syn::Pat) -> Option<&syn::Ident> {
    match pat {
        syn::Pat::Ident(p) => Some(&p.ident),
        syn::Pat::Type(t) => pat_ident(&t.pat),
        _ => None,
    }
}

/// Whether a condition is a flag an operator sets to ask for more exposure
/// (`args.bind_all`, `cfg.listen_public`, `expose`): a field or a variable whose name
/// says so, not a computed test (`cfg!(..)`, `in_container()`), which picks a default.
fn is_opt_in_flag(cond: &syn::Expr) -> bool {
    let name = match cond {
        syn::Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => n.to_string(),
            syn::Member::Unnamed(_) => return false,
        },
        syn::Expr::Path(p) => match p.path.get_ident() {
            Some(i) => i.to_string(),
            None => return false,
        },
        _ => return false,
    };
    const OPT_IN: &[&str] =
        &["all", "public", "expose", "exposed", "external", "wildcard", "everywhere", "anywhere", "remote", "lan"];
    name.split('_').any(|w| OPT_IN.iter().any(|o| w.eq_ignore_ascii_case(o)))
}

/// Whether an `if` condition holds only for a wildcard: `ip == Ipv6Addr::UNSPECIFIED`,
/// `host == "0.0.0.0"`, `addr.ip().is_unspecified()`.
pub fn tests_for_wildcard(cond: &syn::Expr) -> bool {
    let wildcard = |e: &syn::Expr| match e {
        syn::Expr::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "UNSPECIFIED"),
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
            matches!(s.value().as_str(), "0.0.0.0" | "::" | "[::]")
        }
        _ => false,
    };
    match cond {
        syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::Eq(_)) => wildcard(&b.left) || wildcard(&b.right),
        syn::Expr::MethodCall(m) => m.method == "is_unspecified",
        syn::Expr::Paren(p) => tests_for_wildcard(&p.expr),
        _ => false,
    }
}

/// An expression without the parentheses around it.
fn strip_parens(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locals_are_substituted_and_chains_lowered() {
        let src = SourceFile::new("a.rs".into(), String::new());
        let mut l = Lowerer::new(0, &src);
        let block: syn::Block =
            syn::parse_str(r#"{ let host = "0.0.0.0"; let port = 80; format!("{host}:{}", port) }"#).unwrap();
        let v = l.lower_block(&block, 0);
        let Value::Macro { name, args, .. } = v else { panic!("{v:?}") };
        assert_eq!(name, "format");
        assert!(
            matches!(&args[1], Value::Local { name, value, .. } if name == "port" && matches!(**value, Value::Int { value: 80, .. }))
        );
        assert!(
            matches!(&args[2], Value::Local { name, value, .. } if name == "host" && matches!(&**value, Value::Str { text, .. } if text == "0.0.0.0"))
        );
        assert!(l.scope.is_empty(), "block scope must be popped");
    }
}
