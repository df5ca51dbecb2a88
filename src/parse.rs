//! Reading and parsing one file, once. Produces the syntax tree with test code
//! removed (unless tests are included) and the file's comments, or a problem with a
//! position that becomes a `parse-error` diagnostic.

use crate::comments::Comment;
use proc_macro2::{TokenStream, TokenTree};

/// Files up to this size are parsed without the nesting check ([`crate::nesting`]):
/// a file this small cannot nest deeply enough to exhaust a worker's stack
/// ([`crate::engine::WORKER_STACK`]), even nesting from end to end in the deepest
/// shapes measured (braces, generic types, prefix operators, loops; see
/// `tests/robustness.rs`). Those shapes fit up to >64 KiB in release builds and
/// ~20 KiB in debug builds (larger frames): both limits keep 4× headroom.
pub const UNCHECKED_NESTING_MAX_BYTES: usize = if cfg!(debug_assertions) { 4 << 10 } else { 16 << 10 };

pub struct ParsedFile {
    pub syntax: syn::File,
    pub comments: Vec<Comment>,
}

/// Why a file could not be checked, and where.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParseProblem {
    /// Byte offset in the (lossily decoded) text.
    pub offset: usize,
    pub message: String,
}

/// Decodes a file's bytes; invalid UTF-8 is a problem at the first bad byte. The
/// returned text (lossy when invalid) is what diagnostics are rendered against.
pub fn decode(bytes: Vec<u8>) -> (String, Option<ParseProblem>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let problem = ParseProblem {
                offset,
                message: format!("file is not valid UTF-8 (invalid byte 0x{:02x})", err.as_bytes()[offset]),
            };
            (text, Some(problem))
        }
    }
}

/// Parses `text`, with all its comments. Must run on a thread with a large stack
/// (see `engine`).
pub fn parse(text: &str, include_tests: bool) -> Result<ParsedFile, ParseProblem> {
    parse_with(text, include_tests, &[""])
}

/// Parses `text`; its comments are collected only when the text contains one of
/// `comment_needles` (the texts a comment must hold to matter: `gatelint:`, the
/// marker). Must run on a thread with a large stack (see `engine`).
pub fn parse_with(text: &str, include_tests: bool, comment_needles: &[&str]) -> Result<ParsedFile, ParseProblem> {
    if text.len() > UNCHECKED_NESTING_MAX_BYTES {
        crate::nesting::check(text)?;
    }
    let wants_comments = comment_needles.iter().any(|n| memchr::memmem::find(text.as_bytes(), n.as_bytes()).is_some());
    let comments = if wants_comments { crate::comments::lex_comments(text) } else { Vec::new() };
    let mut syntax = syn::parse_file(text).map_err(|err| {
        let start = err.span().start();
        ParseProblem {
            offset: crate::source::SourceFile::new(String::new(), text.to_string()).offset_of(start.line, start.column),
            message: format!("cannot parse Rust: {err}"),
        }
    })?;
    if !include_tests {
        if syntax.attrs.iter().any(is_cfg_test) {
            syntax.items.clear();
        }
        strip_test_items(&mut syntax.items);
    }
    Ok(ParsedFile { syntax, comments })
}

/// Removes `#[cfg(test)]` items and test functions, at any module depth.
fn strip_test_items(items: &mut Vec<syn::Item>) {
    items.retain(|item| !item_attrs(item).iter().any(|a| is_cfg_test(a) || is_test_fn_attr(a)));
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, content)) = &mut m.content {
                    strip_test_items(content);
                }
            }
            syn::Item::Impl(imp) => imp.items.retain(|i| {
                let attrs: &[syn::Attribute] = match i {
                    syn::ImplItem::Fn(f) => &f.attrs,
                    syn::ImplItem::Const(c) => &c.attrs,
                    syn::ImplItem::Type(t) => &t.attrs,
                    syn::ImplItem::Macro(m) => &m.attrs,
                    _ => &[],
                };
                !attrs.iter().any(|a| is_cfg_test(a) || is_test_fn_attr(a))
            }),
            _ => {}
        }
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item::*;
    match item {
        Const(i) => &i.attrs,
        Enum(i) => &i.attrs,
        ExternCrate(i) => &i.attrs,
        Fn(i) => &i.attrs,
        ForeignMod(i) => &i.attrs,
        Impl(i) => &i.attrs,
        Macro(i) => &i.attrs,
        Mod(i) => &i.attrs,
        Static(i) => &i.attrs,
        Struct(i) => &i.attrs,
        Trait(i) => &i.attrs,
        TraitAlias(i) => &i.attrs,
        Type(i) => &i.attrs,
        Union(i) => &i.attrs,
        Use(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[test]`, `#[tokio::test]`, `#[sqlx::test]`, `#[rstest]`, `#[test_case(..)]`, …
pub fn is_test_fn_attr(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    let last = path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
    last == "test" || last == "rstest" || last == "test_case"
}

/// `#[cfg(test)]`, `#[cfg(all(test, …))]`, `#[cfg(any(test, …))]` but not `not(test)`.
pub fn is_cfg_test(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("cfg") {
        return false;
    }
    match &attr.meta {
        syn::Meta::List(list) => mentions_test(list.tokens.clone()),
        _ => false,
    }
}

fn mentions_test(tokens: TokenStream) -> bool {
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        if let TokenTree::Ident(ident) = &tt {
            let negated = ident == "not";
            if ident == "test" && !matches!(iter.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '=') {
                return true;
            }
            if let Some(TokenTree::Group(g)) = iter.peek() {
                let inner = g.stream();
                iter.next();
                if !negated && mentions_test(inner) {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed_item_names(src: &str) -> Vec<String> {
        let file = parse(src, false).unwrap().syntax;
        let mut names = Vec::new();
        fn walk(items: &[syn::Item], names: &mut Vec<String>) {
            for item in items {
                match item {
                    syn::Item::Fn(f) => names.push(f.sig.ident.to_string()),
                    syn::Item::Mod(m) => {
                        names.push(m.ident.to_string());
                        if let Some((_, c)) = &m.content {
                            walk(c, names);
                        }
                    }
                    syn::Item::Impl(i) => {
                        for ii in &i.items {
                            if let syn::ImplItem::Fn(f) = ii {
                                names.push(f.sig.ident.to_string());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        walk(&file.items, &mut names);
        names
    }

    #[test]
    fn test_code_is_stripped_and_production_code_kept() {
        let src = r#"
            fn prod() {}
            #[cfg(test)] mod tests { fn helper() {} }
            #[cfg(all(test, feature = "x"))] fn only_tests() {}
            #[cfg(not(test))] fn not_test() {}
            #[test] fn t() {}
            #[tokio::test] async fn t2() {}
            mod inner { #[sqlx::test] async fn t3() {} fn kept() {} }
            struct S; impl S { #[test] fn m() {} fn n() {} }
        "#;
        assert_eq!(parsed_item_names(src), vec!["prod", "not_test", "inner", "kept", "n"]);
    }

    #[test]
    fn file_level_cfg_test_empties_the_file() {
        assert!(parsed_item_names("#![cfg(test)]\nfn a() {}").is_empty());
    }

    /// Pads `src` with a trailing comment to just over the size where nesting is checked.
    fn large(src: String) -> String {
        let pad = (UNCHECKED_NESTING_MAX_BYTES + 1).saturating_sub(src.len() + 3);
        format!("{src}\n//{}", "x".repeat(pad))
    }

    #[test]
    fn deep_nesting_in_a_large_file_is_a_problem_not_a_crash() {
        let deep = large(format!("fn f() {{ let x = {}1{}; }}", "(".repeat(3000), ")".repeat(3000)));
        let err = parse(&deep, false).err().expect("must be rejected");
        assert!(err.message.contains("nested too deeply"), "{}", err.message);
        let unary = large(format!("fn f() {{ let x = {}1; }}", "!".repeat(5000)));
        assert!(parse(&unary, false).is_err());
        let closures = large(format!("fn f() {{ let x = {}1; }}", "|a, b| ".repeat(5000)));
        assert!(parse(&closures, false).is_err());
        // Within the bound: parsed and checked (on a worker-sized stack).
        let unary = large(format!("fn f() {{ let x = {}1; }}", "!".repeat(1500)));
        let worker = std::thread::Builder::new().stack_size(crate::engine::WORKER_STACK);
        assert!(worker.spawn(move || parse(&unary, false).is_ok()).unwrap().join().unwrap());
        let fine = large(format!("fn f() {{ let x = {}1{}; }}", "(".repeat(100), ")".repeat(100)));
        assert!(parse(&fine, false).is_ok());
    }

    #[test]
    fn comments_are_lexed_only_when_they_could_matter() {
        let src = "// gatelint: allow(x) -- y\nfn f() {} // plain\n";
        assert_eq!(parse_with(src, false, &["gatelint:"]).unwrap().comments.len(), 2);
        assert!(parse_with(src, false, &["class1-gate"]).unwrap().comments.is_empty());
    }

    #[test]
    fn syntax_errors_and_bad_utf8_have_positions() {
        let err = parse("fn ok() {}\nfn broken( {\n", false).err().unwrap();
        assert!(err.offset >= 11, "{err:?}");
        let (_, problem) = decode(b"fn a() {}\n\xff".to_vec());
        assert_eq!(problem.unwrap().offset, 10);
    }
}
