//! Field attributes that declare a default: clap's `#[arg(default_value = …)]`,
//! serde's `#[serde(default = "function")]`, smart-default's `#[default(…)]`,
//! derive-builder's `#[builder(default = "expression")]` (code in a string) and
//! other `#[…(default = …)]` keys.

use super::{CLAP_DEFAULT_KEYS, Extractor, SerdeDefault, SiteKind};
use crate::facts::lower::Lowerer;
use crate::facts::value::Value;
use syn::punctuated::Punctuated;

const CLAP_ATTRS: &[&str] = &["arg", "clap", "structopt", "command", "option"];

impl Extractor<'_> {
    /// Lowers an attribute's expression (no locals are in scope there).
    fn lower_const(&self, expr: &syn::Expr) -> Value {
        Lowerer::new(self.lowerer.file, self.lowerer.source).lower(expr)
    }

    /// The defaults declared by a field's attributes, and its serde default function.
    pub(super) fn field_attrs(&mut self, field: &syn::Field) {
        let field_name = field.ident.as_ref().map_or_else(|| "0".to_string(), |i| i.to_string());
        for attr in &field.attrs {
            let Some(attr_name) = attr.path().segments.last().map(|s| s.ident.to_string()) else {
                continue;
            };
            if attr_name == "default" {
                self.default_attr(attr, &field_name);
                continue;
            }
            let Ok(metas) = attr.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated) else {
                continue;
            };
            let long_is_listen = metas.iter().any(|m| match m {
                syn::Meta::NameValue(nv) if nv.path.is_ident("long") || nv.path.is_ident("env") => {
                    self.names_listen(&self.lower_const(&nv.value))
                }
                _ => false,
            });
            let listen_named = self.params.is_listen_name(&field_name) || long_is_listen;
            for meta in &metas {
                let syn::Meta::NameValue(nv) = meta else {
                    continue;
                };
                let Some(key) = nv.path.get_ident() else {
                    continue;
                };
                let key_name = key.to_string();
                let at = self.lowerer.span_loc(key.span());
                if attr_name == "serde" {
                    if key_name == "default"
                        && let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value
                    {
                        let function = s.value().rsplit("::").next().unwrap_or_default().to_string();
                        self.facts.serde_defaults.push(SerdeDefault { function, field: field_name.clone() });
                    }
                } else if CLAP_ATTRS.contains(&attr_name.as_str()) && CLAP_DEFAULT_KEYS.contains(&key_name.as_str()) {
                    // `default_value = "config.toml"`: the configuration file read by default.
                    if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value {
                        self.run_time_literal(s);
                    }
                    let value = self.lower_const(&nv.value);
                    let kind = SiteKind::ClapDefault { field: field_name.clone(), attr: key_name };
                    self.push(kind, at, value, listen_named);
                } else if key_name == "default" {
                    let value = match (&nv.value, attr_name.as_str()) {
                        (syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }), "builder") => {
                            self.lower_code_string(s)
                        }
                        (expr, _) => self.lower_const(expr),
                    };
                    let kind =
                        SiteKind::DefaultAttr { field: field_name.clone(), attr: format!("{attr_name}(default)") };
                    self.push(kind, at, value, listen_named);
                }
            }
        }
    }

    /// derive-builder's `default = "expr"`: the string is Rust code. Its value is
    /// lowered with every location at the literal (`LitStr::parse` gives the parsed
    /// tokens the literal's span); text that is not an expression is opaque.
    fn lower_code_string(&self, s: &syn::LitStr) -> Value {
        match s.parse::<syn::Expr>() {
            Ok(expr) => self.lower_const(&expr),
            Err(_) => Value::Opaque,
        }
    }

    /// smart-default style: `#[default = "…"]`, `#[default("…")]`, `#[default(expr)]`,
    /// `#[default(_code = "expr")]`.
    fn default_attr(&mut self, attr: &syn::Attribute, field_name: &str) {
        let expr = match &attr.meta {
            syn::Meta::NameValue(nv) => Some(nv.value.clone()),
            syn::Meta::List(_) => attr.parse_args::<syn::Expr>().ok(),
            syn::Meta::Path(_) => None,
        };
        let Some(expr) = expr else { return };
        let at = self.lowerer.span_loc(attr.pound_token.span);
        // `#[default(_code = "expression")]`: code in a string, as derive-builder's.
        let value = match code_string(&expr) {
            Some(code) => self.lower_code_string(code),
            None => self.lower_const(&expr),
        };
        let listen_named = self.params.is_listen_name(field_name);
        let kind = SiteKind::DefaultAttr { field: field_name.to_string(), attr: "default".to_string() };
        self.push(kind, at, value, listen_named);
    }
}

/// smart-default's `_code = "expression"`: the string.
fn code_string(expr: &syn::Expr) -> Option<&syn::LitStr> {
    let syn::Expr::Assign(a) = expr else { return None };
    let syn::Expr::Path(p) = &*a.left else { return None };
    match &*a.right {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(code), .. }) if p.path.is_ident("_code") => Some(code),
        _ => None,
    }
}
