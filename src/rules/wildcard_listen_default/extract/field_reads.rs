//! The struct fields a file reads: `cfg.host`, `Config { host, .. }` in a pattern, a
//! field named inside a macro that is not a log line (`format!("{}:{}", cfg.host,
//! cfg.port)`). A default given to a field that no code able to see its struct
//! reads, or reads only in log lines, is shown to people, never bound.

use syn::visit::Visit;

/// Macros that only write text for people: what they name is not used.
const LOG_MACROS: &[&str] =
    &["println", "print", "eprintln", "eprint", "trace", "debug", "info", "warn", "error", "event", "log", "span"];

/// The names of the fields `syntax` reads, sorted, once each.
pub(crate) fn read(syntax: &syn::File) -> Vec<String> {
    let mut reads = Reads(Vec::new());
    reads.visit_file(syntax);
    let mut names = reads.0;
    names.sort_unstable();
    names.dedup();
    names
}

struct Reads(Vec<String>);

impl<'ast> Visit<'ast> for Reads {
    fn visit_expr_field(&mut self, e: &'ast syn::ExprField) {
        if let syn::Member::Named(name) = &e.member {
            self.0.push(name.to_string());
        }
        syn::visit::visit_expr_field(self, e);
    }

    fn visit_pat_struct(&mut self, p: &'ast syn::PatStruct) {
        for field in &p.fields {
            if let syn::Member::Named(name) = &field.member {
                self.0.push(name.to_string());
            }
        }
        syn::visit::visit_pat_struct(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if m.path.segments.last().is_some_and(|s| LOG_MACROS.iter().any(|l| s.ident == l)) {
            return;
        }
        // Any other macro may use what it names: every `.name` in its tokens counts.
        dotted_names(m.tokens.clone(), &mut self.0);
    }
}

fn dotted_names(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
    let mut after_dot = false;
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Punct(p) => after_dot = p.as_char() == '.',
            proc_macro2::TokenTree::Ident(i) => {
                if after_dot {
                    out.push(i.to_string());
                }
                after_dot = false;
            }
            proc_macro2::TokenTree::Group(g) => {
                dotted_names(g.stream(), out);
                after_dot = false;
            }
            proc_macro2::TokenTree::Literal(_) => after_dot = false,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_read_in_code_and_non_log_macros_not_in_log_lines() {
        let syntax: syn::File = syn::parse_str(
            "fn f(cfg: Config) {
                info!(\"on {}:{}\", cfg.host, cfg.shown);
                let addr = format!(\"{}:{}\", cfg.bind, cfg.port);
                let Config { listen, .. } = cfg;
                let x = cfg.inner.addr;
                tracing::debug!(hidden = %cfg.hidden);
            }",
        )
        .unwrap();
        assert_eq!(super::read(&syntax), ["addr", "bind", "inner", "listen", "port"]);
    }
}
