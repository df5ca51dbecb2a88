//! The settings a program reads from its configuration files and its command line:
//! the fields of its `Deserialize` structs, by the name serde reads (`rename`,
//! `alias`; the case of `rename_all` is left to the comparison, which ignores case,
//! `_` and `-`), and its long command-line flags (clap or structopt fields with
//! `long`, `long = "listen-http"`, the builder's `.long("listen-http")`). A wildcard
//! in a configuration file of the repository is a listen default only under a key
//! the program reads, or after a flag it takes.

use super::ConfigKey;
use crate::facts::lower::Lowerer;
use syn::punctuated::Punctuated;
use syn::visit::Visit;

/// The keys and flags `syntax` declares.
pub fn read(syntax: &syn::File, lowerer: &Lowerer) -> Vec<ConfigKey> {
    let mut finder = Finder { lowerer, found: Vec::new() };
    finder.visit_file(syntax);
    finder.found
}

/// A key as compared: lowercase, without `_` and `-` (`listenHost`, `listen-host`
/// and `LISTEN_HOST` are one key).
pub fn key_word(key: &str) -> String {
    key.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect()
}

struct Finder<'a> {
    lowerer: &'a Lowerer<'a>,
    found: Vec<ConfigKey>,
}

/// The derives of an item, by their last segment (`serde::Deserialize` →
/// `Deserialize`).
fn derives(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        if let Ok(paths) = attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated) {
            out.extend(paths.iter().filter_map(|p| p.segments.last().map(|s| s.ident.to_string())));
        }
    }
    out
}

/// The items of `#[name(…)]` attributes (`serde`, `arg`, …).
fn metas(attrs: &[syn::Attribute], names: &[&str]) -> Vec<syn::Meta> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| names.iter().any(|n| a.path().is_ident(n))) {
        if let Ok(items) = attr.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated) {
            out.extend(items);
        }
    }
    out
}

fn str_value(expr: &syn::Expr) -> Option<&syn::LitStr> {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s),
        _ => None,
    }
}

/// The names serde reads a field by: its own (or `rename`, `rename(deserialize =
/// …)`) and its `alias`es; none for a field serde skips or flattens.
fn serde_names(field: &syn::Field, ident: &syn::Ident) -> Vec<String> {
    let mut own = ident.to_string().trim_start_matches("r#").to_string();
    let mut aliases = Vec::new();
    for meta in metas(&field.attrs, &["serde"]) {
        match &meta {
            syn::Meta::Path(p) if p.is_ident("skip") || p.is_ident("skip_deserializing") || p.is_ident("flatten") => {
                return Vec::new();
            }
            syn::Meta::NameValue(nv) if nv.path.is_ident("rename") => {
                if let Some(s) = str_value(&nv.value) {
                    own = s.value();
                }
            }
            syn::Meta::NameValue(nv) if nv.path.is_ident("alias") => {
                aliases.extend(str_value(&nv.value).map(syn::LitStr::value));
            }
            syn::Meta::List(list) if list.path.is_ident("rename") => {
                let inner = list.parse_args_with(Punctuated::<syn::MetaNameValue, syn::Token![,]>::parse_terminated);
                for nv in inner.into_iter().flatten() {
                    if nv.path.is_ident("deserialize")
                        && let Some(s) = str_value(&nv.value)
                    {
                        own = s.value();
                    }
                }
            }
            _ => {}
        }
    }
    std::iter::once(own).chain(aliases).collect()
}

/// The long flag of a command-line field (`#[arg(long)]` → the field's name in
/// kebab case, `#[arg(long = "listen-http")]` → that), if it has one.
fn long_flag(field: &syn::Field, ident: &syn::Ident) -> Option<String> {
    metas(&field.attrs, &["arg", "clap", "structopt"]).into_iter().find_map(|meta| match meta {
        syn::Meta::Path(p) if p.is_ident("long") => Some(ident.to_string().trim_start_matches("r#").replace('_', "-")),
        syn::Meta::NameValue(nv) if nv.path.is_ident("long") => str_value(&nv.value).map(syn::LitStr::value),
        _ => None,
    })
}

impl Finder<'_> {
    fn push(&mut self, name: String, flag: bool, field: String, span: proc_macro2::Span) {
        if !name.is_empty() && name.len() <= 128 {
            self.found.push(ConfigKey { name, flag, field, at: self.lowerer.span_loc(span) });
        }
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        let derives = derives(&item.attrs);
        let deserialized = derives.iter().any(|d| d == "Deserialize");
        let command_line = derives.iter().any(|d| matches!(d.as_str(), "Parser" | "Args" | "StructOpt"));
        if deserialized || command_line {
            for field in &item.fields {
                let Some(ident) = &field.ident else { continue };
                let owned = format!("{}.{}", item.ident, ident.to_string().trim_start_matches("r#"));
                if deserialized {
                    for name in serde_names(field, ident) {
                        self.push(name, false, owned.clone(), ident.span());
                    }
                }
                if command_line && let Some(flag) = long_flag(field, ident) {
                    self.push(flag, true, owned.clone(), ident.span());
                }
            }
        }
        syn::visit::visit_item_struct(self, item);
    }

    /// The builder's `Arg::new("listen").long("listen-http")`.
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if m.method == "long"
            && m.args.len() == 1
            && let Some(s) = m.args.first().and_then(str_value)
        {
            self.push(s.value(), true, format!("--{}", s.value()), s.span());
        }
        syn::visit::visit_expr_method_call(self, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(src: &str) -> Vec<(String, bool, String)> {
        let syntax = syn::parse_file(src).unwrap();
        let source = crate::input::source::SourceFile::new("x.rs".into(), src.into());
        let lowerer = Lowerer::new(0, &source);
        read(&syntax, &lowerer).into_iter().map(|k| (k.name, k.flag, k.field)).collect()
    }

    #[test]
    fn serde_fields_by_the_names_serde_reads() {
        let found = keys(
            r#"
            #[derive(Debug, serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Http {
                listen_host: String,
                #[serde(rename = "bind", alias = "address")]
                addr: String,
                #[serde(rename(serialize = "p", deserialize = "port_number"))]
                port: u16,
                #[serde(flatten)]
                extra: Extra,
                #[serde(skip)]
                cache: u8,
            }
            #[derive(Debug)]
            struct NotRead { host: String }
            "#,
        );
        let names: Vec<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["listen_host", "bind", "address", "port_number"]);
        assert!(found.iter().all(|(_, flag, field)| !flag && field.starts_with("Http.")));
    }

    #[test]
    fn long_flags_of_derived_and_built_commands() {
        let found = keys(
            r#"
            #[derive(Parser)]
            struct Cli {
                #[arg(long, default_value = "127.0.0.1:7676")]
                listen_http: String,
                #[clap(long = "addr", env = "ADDR")]
                address: String,
                #[arg(short)]
                verbose: bool,
            }
            fn cmd() { Command::new("x").arg(Arg::new("pg").long("listen-pg")); }
            "#,
        );
        let flags: Vec<&str> = found.iter().filter(|(_, f, _)| *f).map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(flags, ["listen-http", "addr", "listen-pg"]);
        assert_eq!(key_word("listen-http"), key_word("listenHttp"));
        assert_eq!(key_word("LISTEN_HTTP"), "listenhttp");
    }
}
