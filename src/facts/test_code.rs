//! Where a file's test code is, when tests are checked (`include-tests = true`):
//! the byte ranges of its `#[cfg(test)]` items and test functions (`#[test]`,
//! `#[tokio::test]`, …), at any module depth, and of its `#[cfg(test)]` match arms
//! and statements; inline modules named as test support (`mod test_utils { … }`); the
//! whole file under `#![cfg(test)]`.
//! Findings there are reported at warning severity (see `engine::crate_check`).

use crate::facts::lower::Lowerer;
use crate::input::discover::is_test_support_name;
use crate::input::parse::{is_cfg_test, is_test_fn_attr};
use crate::input::source::{FileId, SourceFile};
use syn::spanned::Spanned;

/// The byte ranges of the test items of `syntax` (the whole file under
/// `#![cfg(test)]`; none left in a tree whose test items were stripped).
pub fn ranges(file: FileId, source: &SourceFile, syntax: &syn::File) -> Vec<(u32, u32)> {
    let lowerer = Lowerer::new(file, source);
    if syntax.attrs.iter().any(is_cfg_test) {
        return vec![(0, source.text().len() as u32)];
    }
    let mut out = Vec::new();
    collect(&lowerer, &syntax.items, &mut out);
    let mut inside = InsideBodies { lowerer: &lowerer, out: &mut out };
    syn::visit::Visit::visit_file(&mut inside, syntax);
    out.sort_unstable();
    out
}

/// `#[cfg(test)]` match arms and statements inside bodies.
struct InsideBodies<'l, 'o> {
    lowerer: &'l Lowerer<'l>,
    out: &'o mut Vec<(u32, u32)>,
}

impl InsideBodies<'_, '_> {
    fn push(&mut self, span: proc_macro2::Span) {
        let loc = self.lowerer.span_loc(span);
        self.out.push((loc.start, loc.end));
    }
}

impl<'ast> syn::visit::Visit<'ast> for InsideBodies<'_, '_> {
    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        if a.attrs.iter().any(is_cfg_test) {
            self.push(a.span());
        }
        syn::visit::visit_arm(self, a);
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        if crate::input::parse::stmt_attrs(s).iter().any(is_cfg_test) {
            self.push(s.span());
        }
        syn::visit::visit_stmt(self, s);
    }
}

fn collect(lowerer: &Lowerer, items: &[syn::Item], out: &mut Vec<(u32, u32)>) {
    let test = |attrs: &[syn::Attribute]| attrs.iter().any(|a| is_cfg_test(a) || is_test_fn_attr(a));
    let range = |span: proc_macro2::Span| {
        let loc = lowerer.span_loc(span);
        (loc.start, loc.end)
    };
    for item in items {
        match item {
            // (An inline `pub mod test_utils { … }` is test support, as such a file is.)
            syn::Item::Mod(m)
                if test(&m.attrs) || (m.content.is_some() && is_test_support_name(&m.ident.to_string())) =>
            {
                out.push(range(m.span()))
            }
            syn::Item::Fn(f) if test(&f.attrs) => out.push(range(f.span())),
            syn::Item::Impl(i) if test(&i.attrs) => out.push(range(i.span())),
            syn::Item::Mod(m) => {
                if let Some((_, content)) = &m.content {
                    collect(lowerer, content, out);
                }
            }
            syn::Item::Impl(i) => {
                for f in &i.items {
                    if let syn::ImplItem::Fn(f) = f
                        && test(&f.attrs)
                    {
                        out.push(range(f.span()));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_items_are_found_at_any_depth() {
        let text =
            "fn a() {}\n#[cfg(test)]\nmod t { fn b() {} }\nmod m {\n    #[tokio::test]\n    async fn c() {}\n}\n";
        let source = SourceFile::new("x.rs".into(), text.into());
        let syntax = syn::parse_file(text).unwrap();
        let got: Vec<&str> = ranges(0, &source, &syntax).iter().map(|&(s, e)| &text[s as usize..e as usize]).collect();
        assert_eq!(got, ["#[cfg(test)]\nmod t { fn b() {} }", "#[tokio::test]\n    async fn c() {}"]);
        let arms = "fn r(c: C) {\n    match c {\n        C::A => a(),\n        #[cfg(test)]\n        C::T => t(),\n    }\n    #[cfg(test)]\n    probe();\n}\n";
        let syntax = syn::parse_file(arms).unwrap();
        let source = SourceFile::new("z.rs".into(), arms.into());
        let got: Vec<&str> = ranges(0, &source, &syntax).iter().map(|&(s, e)| &arms[s as usize..e as usize]).collect();
        assert_eq!(got, ["#[cfg(test)]\n        C::T => t(),", "#[cfg(test)]\n    probe();"]);
        let whole = "#![cfg(test)]\nfn a() {}\n";
        let all = ranges(0, &SourceFile::new("y.rs".into(), whole.into()), &syn::parse_file(whole).unwrap());
        assert_eq!(all, [(0, whole.len() as u32)]);
    }
}
