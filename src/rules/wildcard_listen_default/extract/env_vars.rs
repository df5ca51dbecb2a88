//! The environment variables a file reads, by name or by prefix, for the
//! environment files of the repository (`.env.example`, `.env`): a wildcard there is
//! a listen default only for a variable the program reads.
//! - by name: the string given to an env reader (`env::var("APP_LISTEN")`, the
//!   `env-readers`), clap's `#[arg(env = "APP_LISTEN")]` and `Arg::env("APP_LISTEN")`;
//! - by prefix: a struct read from the variables that start with one
//!   (`envy::prefixed("APP_")`, figment's `Env::prefixed("APP_")`, config-rs's
//!   `Environment::with_prefix("APP")`), and Rocket's `ROCKET_` settings in a
//!   Rocket application (`rocket::build()`, `#[launch]`).

use super::super::ListenParams;
use super::{EnvVar, Included, RunTimeRead};
use crate::facts::lower::Lowerer;
use syn::visit::Visit;

/// The environment files a program that reads variables may be started with, or
/// whose copy it is started with, looked for below its package and workspace roots.
pub const ENV_FILES: &[&str] = &[".env", ".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"];

/// Calls that read the variables starting with their string argument.
const PREFIX_READERS: &[&str] = &["prefixed", "with_prefix"];

/// The variables `syntax` reads.
pub fn read(syntax: &syn::File, lowerer: &Lowerer, params: &ListenParams) -> Vec<EnvVar> {
    let mut finder = Finder { lowerer, params, found: Vec::new() };
    finder.visit_file(syntax);
    finder.found
}

/// The environment files to read for a file that reads `vars` (none when it reads
/// none), each named at the first read.
pub fn env_files(vars: &[EnvVar]) -> Vec<Included> {
    let Some(first) = vars.first() else { return Vec::new() };
    ENV_FILES
        .iter()
        .map(|name| Included {
            path: name.to_string(),
            at: first.at,
            holder: String::new(),
            run_time: Some(RunTimeRead { candidates: vec![name.to_string()], format: None }),
            env_file: true,
        })
        .collect()
}

struct Finder<'a> {
    lowerer: &'a Lowerer<'a>,
    params: &'a ListenParams,
    found: Vec<EnvVar>,
}

/// Rocket reads its settings from the variables starting with this.
pub const ROCKET_PREFIX: &str = "ROCKET_";

impl Finder<'_> {
    /// A Rocket application (`rocket::build()`, `rocket::custom(..)`, `#[launch]`):
    /// Rocket reads `ROCKET_ADDRESS` and the rest of its settings from the
    /// environment.
    fn push_rocket(&mut self, span: proc_macro2::Span) {
        let at = self.lowerer.span_loc(span);
        self.found.push(EnvVar { name: ROCKET_PREFIX.to_string(), prefix: true, at });
    }

    fn push(&mut self, s: &syn::LitStr, prefix: bool) {
        let name = s.value();
        if !name.is_empty() && name.len() <= 128 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.found.push(EnvVar { name, prefix, at: self.lowerer.span_loc(s.span()) });
        }
    }

    fn first_str<'e>(args: impl IntoIterator<Item = &'e syn::Expr>) -> Option<&'e syn::LitStr> {
        match args.into_iter().next()? {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s),
            syn::Expr::Reference(r) => match &*r.expr {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let launch = |a: &syn::Attribute| a.path().segments.last().is_some_and(|s| s.ident == "launch");
        if f.attrs.iter().any(launch) {
            self.push_rocket(f.sig.ident.span());
        }
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            let names: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if let [.., krate, f] = &names[..]
                && krate == "rocket"
                && (f == "build" || f == "custom")
            {
                self.push_rocket(p.path.segments.last().map_or_else(proc_macro2::Span::call_site, |s| s.ident.span()));
            }
        }
        if let syn::Expr::Path(p) = &*c.func
            && let Some(s) = Self::first_str(&c.args)
        {
            let path: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let last = path.last().map(String::as_str).unwrap_or_default();
            if self.params.is_env_reader(&path.join("::")) {
                self.push(s, false);
            } else if PREFIX_READERS.contains(&last) {
                self.push(s, true);
            }
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if let Some(s) = Self::first_str(&m.args) {
            let method = m.method.to_string();
            // (`Arg::new("listen").env("APP_LISTEN")`; `Environment::default().prefix("APP")`.)
            if method == "env" {
                self.push(s, false);
            } else if PREFIX_READERS.contains(&method.as_str()) || method == "prefix" {
                self.push(s, true);
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // `env!("X")`, `option_env!("X")` when listed as readers.
        let name = mac.path.segments.last().map(|s| format!("{}!", s.ident)).unwrap_or_default();
        if self.params.is_env_reader(&name)
            && let Ok(s) = mac.parse_body_with(|input: syn::parse::ParseStream| {
                let s: syn::LitStr = input.parse()?;
                let _: proc_macro2::TokenStream = input.parse()?;
                Ok(s)
            })
        {
            self.push(&s, false);
        }
        syn::visit::visit_macro(self, mac);
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        use syn::punctuated::Punctuated;
        // `#[arg(long, env = "APP_LISTEN")]`, `#[clap(env = "…")]`.
        let Ok(metas) = attr.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated) else { return };
        for meta in metas {
            if let syn::Meta::NameValue(nv) = meta
                && nv.path.is_ident("env")
                && let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value
            {
                self.push(s, false);
            }
        }
    }
}

/// Whether variable `key` of an environment file is one of `vars`: read by that
/// name, or starting with a prefix read (`APP_` or config-rs's `APP`, which adds
/// the separator).
pub fn read_by<'v>(vars: &[&'v EnvVar], key: &str) -> Option<&'v EnvVar> {
    let by_prefix = |v: &&&EnvVar| {
        let Some(head) = key.get(..v.name.len()) else { return false };
        let rest = &key[v.name.len()..];
        head.eq_ignore_ascii_case(&v.name) && !rest.is_empty() && (v.name.ends_with('_') || rest.starts_with('_'))
    };
    (vars.iter().find(|v| !v.prefix && v.name == key))
        .or_else(|| vars.iter().filter(|v| v.prefix).find(by_prefix))
        .copied()
}
