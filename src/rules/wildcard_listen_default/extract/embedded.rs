//! Configurations embedded in the program: a string literal holding a default
//! configuration (a constant, or the argument of a configuration reader such as
//! figment's `Toml::string`), whose wildcard listen keys are sites at their line
//! inside the literal; and `include_str!` of a configuration file, recorded as an
//! [`Included`] for the check to read.

use super::{Extractor, Included, SiteKind};
use crate::facts::value::Value;
use crate::input::source::Loc;
use crate::rules::wildcard_listen_default::config_text::{Format, listen_entries};

/// Calls that read a configuration text (matched against the end of the call path).
const CONFIG_READERS: &[&str] = &[
    "Toml::string",
    "Yaml::string",
    "Json::string",
    "File::from_str",
    "toml::from_str",
    "serde_yaml::from_str",
    "serde_yml::from_str",
    "serde_json::from_str",
];

impl Extractor<'_> {
    /// A constant's or static's value: a configuration written as a string.
    pub(super) fn embedded_item(&mut self, kind: &str, name: &syn::Ident, expr: &syn::Expr) {
        if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = expr {
            self.config_literal(s, Format::of_reader(&name.to_string()), &format!("{kind} `{name}`"));
        }
    }

    /// A configuration reader's string arguments (`Toml::string(r#"…"#)`,
    /// `File::from_str("…", FileFormat::Yaml)`).
    pub(super) fn embedded_call(&mut self, path: &str, args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) {
        let Some(reader) = CONFIG_READERS.iter().find(|r| path == **r || path.ends_with(&format!("::{r}"))) else {
            return;
        };
        // `File::from_str(text, FileFormat::Toml)` names the format in its second argument.
        let named = args.iter().skip(1).find_map(|a| match a {
            syn::Expr::Path(p) => Format::of_reader(&crate::facts::lower::segments(&p.path).join("::")),
            _ => None,
        });
        let format = named.or_else(|| Format::of_reader(reader));
        if let Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) = args.first() {
            self.config_literal(s, format, &format!("`{reader}`"));
        }
    }

    /// `include_str!("config.default.toml")` of a file whose name says it is a
    /// configuration (also `concat!(env!("CARGO_MANIFEST_DIR"), "/…")`).
    pub(super) fn included(&mut self, mac: &syn::Macro) {
        if !mac.path.is_ident("include_str") {
            return;
        }
        let Ok(arg) = mac.parse_body::<syn::Expr>() else { return };
        let Some((path, at)) = self.include_path(&arg) else { return };
        if Format::of_path(&path).is_some() {
            self.facts.included.push(Included { path, at, holder: "`include_str!`".to_string(), run_time: None, env_file: false });
        }
    }

    /// The path an `include_str!` argument names, relative to this file's directory.
    fn include_path(&self, arg: &syn::Expr) -> Option<(String, Loc)> {
        match arg {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
                Some((s.value(), self.lowerer.span_loc(s.span())))
            }
            syn::Expr::Macro(m) if m.mac.path.is_ident("concat") => {
                let parts = m.mac.parse_body_with(
                    syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
                );
                let parts = parts.ok()?;
                let [syn::Expr::Macro(env), syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(rest), .. })] =
                    parts.iter().collect::<Vec<_>>()[..]
                else {
                    return None;
                };
                let var = env.mac.parse_body::<syn::LitStr>().ok()?;
                if !env.mac.path.is_ident("env") || var.value() != "CARGO_MANIFEST_DIR" {
                    return None;
                }
                let up = dirs_below_manifest(self.path)?;
                let rel = format!("{}{}", "../".repeat(up), rest.value().trim_start_matches('/'));
                Some((rel, self.lowerer.span_loc(rest.span())))
            }
            _ => None,
        }
    }

    /// The wildcard listen keys of a configuration written as a string literal, each a
    /// site at its place inside the literal. A literal that reads as no configuration
    /// format (most strings) yields nothing.
    fn config_literal(&mut self, s: &syn::LitStr, format: Option<Format>, holder: &str) {
        let text = s.value();
        let Some(format) = format.filter(|_| text.contains('\n')).or_else(|| Format::sniff(&text)) else { return };
        let entries = listen_entries(&text, format, self.params);
        if entries.is_empty() {
            return;
        }
        let lit = self.lowerer.span_loc(s.span());
        let offsets = content_offsets(&s.token().to_string());
        for e in entries {
            let at = |i: usize| offsets.as_ref().and_then(|o| o.get(i)).map(|&o| lit.start as usize + o);
            let loc = match (at(e.range.start), at(e.range.end)) {
                (Some(start), Some(end)) => Loc::new(lit.file, start, end),
                _ => lit,
            };
            let value = Value::Str { text: e.value, loc };
            let kind = SiteKind::EmbeddedConfig { key: e.key, holder: holder.to_string() };
            self.push(kind, loc, value, true);
        }
    }
}

/// How many directories the file's directory is below its package's `Cargo.toml`.
fn dirs_below_manifest(file: &std::path::Path) -> Option<usize> {
    file.ancestors().skip(1).position(|d| d.join("Cargo.toml").is_file())
}

/// For each byte offset of a string literal's value (and one past its end), the
/// offset in the literal's source text: exact for raw strings and through escapes.
/// `None` for a literal whose escapes are not understood.
fn content_offsets(token: &str) -> Option<Vec<usize>> {
    let open = token.find('"')?;
    let raw = token.starts_with('r');
    let hashes = if raw { open - 1 } else { 0 };
    let body_end = token.len().checked_sub(1 + hashes)?;
    let body = token.get(open + 1..body_end)?;
    let base = open + 1;
    let mut out = Vec::with_capacity(body.len() + 1);
    if raw {
        out.extend((0..=body.len()).map(|i| base + i));
        return Some(out);
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(base + i);
            i += 1;
            continue;
        }
        let next = *bytes.get(i + 1)?;
        match next {
            b'n' | b't' | b'r' | b'\\' | b'"' | b'\'' | b'0' => {
                out.push(base + i);
                i += 2;
            }
            b'x' => {
                out.push(base + i);
                i += 4;
            }
            b'u' => {
                let close = body[i..].find('}')? + i;
                let c = u32::from_str_radix(&body[i + 3..close], 16).ok().and_then(char::from_u32)?;
                out.extend(std::iter::repeat_n(base + i, c.len_utf8()));
                i = close + 1;
            }
            b'\n' | b'\r' => {
                // A line continuation: the newline and the next line's indent vanish.
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    out.push(base + bytes.len());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::content_offsets;

    #[test]
    fn offsets_map_values_to_source() {
        let token = r#""a\n\"b\"""#;
        let o = content_offsets(token).unwrap();
        // value: a, \n, ", b, "
        assert_eq!(o, vec![1, 2, 4, 6, 7, 9]);
        let raw = "r#\"x = 1\"#";
        assert_eq!(content_offsets(raw).unwrap(), vec![3, 4, 5, 6, 7, 8]);
        assert_eq!(content_offsets("\"a\\\n   b\"").unwrap(), vec![1, 7, 8]);
    }
}
