//! Reading and parsing one file, once. Produces the syntax tree with test code
//! removed (unless tests are included) and the file's comments, or a problem with a
//! position that becomes a `parse-error` diagnostic.

use crate::input::comments::Comment;
pub use crate::input::problem::{ParseProblem, decode};
use proc_macro2::{TokenStream, TokenTree};

/// Files up to this size are parsed without the nesting check ([`crate::input::nesting`]):
/// a file this small cannot nest deeply enough to exhaust a worker's stack
/// ([`crate::input::WORKER_STACK`]), even nesting from end to end in the deepest
/// shapes measured (braces, generic types, prefix operators, loops; see
/// `tests/robustness.rs`). Those shapes fit up to >64 KiB in release builds and
/// ~20 KiB in debug builds (larger frames): both limits keep 4× headroom.
pub const UNCHECKED_NESTING_MAX_BYTES: usize = if cfg!(debug_assertions) { 4 << 10 } else { 16 << 10 };

pub struct ParsedFile {
    pub syntax: syn::File,
    pub comments: Vec<Comment>,
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
        crate::input::nesting::check(text)?;
    }
    let wants_comments = comment_needles.iter().any(|n| memchr::memmem::find(text.as_bytes(), n.as_bytes()).is_some());
    let comments = if wants_comments { crate::input::comments::lex_comments(text) } else { Vec::new() };
    let mut syntax = syn::parse_file(text).map_err(|err| {
        // proc-macro2 could not lex the file (an unbalanced delimiter, an unterminated
        // string or comment): syn then points past the problem. Point where rustc does.
        if let Some(problem) = lex_problem(text) {
            return problem;
        }
        let start = err.span().start();
        ParseProblem::new(
            crate::input::source::SourceFile::new(String::new(), text.to_string()).offset_of(start.line, start.column),
            format!("cannot parse Rust: {err}"),
        )
    })?;
    if !include_tests {
        if syntax.attrs.iter().any(is_cfg_test) {
            syntax.items.clear();
        }
        strip_test_items(&mut syntax.items);
        syn::visit_mut::VisitMut::visit_file_mut(&mut StripTestCode, &mut syntax);
    }
    Ok(ParsedFile { syntax, comments })
}

/// Why `text` cannot be lexed, as rustc reports it, when proc-macro2 cannot lex it
/// either: an unterminated string, character or block comment at its start, a
/// closing delimiter that matches no opening one, or an opening one never closed.
/// `None` when the tokens are fine (the syntax is not) or the lexers disagree.
fn lex_problem(text: &str) -> Option<ParseProblem> {
    if text.parse::<TokenStream>().is_ok() {
        return None;
    }
    delimiter_problem(text)
}

/// The first lexical problem of `text` in rustc's terms, read with rustc's own lexer
/// (`ra-ap-rustc_lexer`, which knows strings, raw strings, characters, lifetimes and
/// comments): the first unterminated literal or comment, the first closing
/// delimiter that matches no opening one, or else the outermost opening delimiter
/// left unclosed at the end of the file. As rustc does, a mismatch names the
/// opening delimiter it leaves unclosed (and an opening one at the closer's
/// indentation, which it was probably meant for), and an unclosed or unexpected
/// delimiter points at the innermost block whose closing brace is indented
/// differently from its opening one (where a brace is most likely missing).
/// Offsets are bytes of `text`.
pub fn delimiter_problem(text: &str) -> Option<ParseProblem> {
    use ra_ap_rustc_lexer::{FrontmatterAllowed, LiteralKind as L, TokenKind as T, strip_shebang, tokenize};
    let mut pos = usize::from(text.starts_with('\u{feff}')) * '\u{feff}'.len_utf8();
    pos += strip_shebang(&text[pos..]).unwrap_or(0);
    // Open delimiters (character, offset), innermost last.
    let mut open: Vec<(char, usize)> = Vec::new();
    // Matched braces, (open, close) offsets.
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let margin = |offset: usize| {
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..];
        &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
    };
    // The innermost block after `after` indented differently at its two ends, unless
    // a block indented alike at both ends contains it.
    let suspicious_block = |blocks: &[(usize, usize)], after: usize| {
        let odd = |b: &(usize, usize)| margin(b.0) != margin(b.1);
        let covered = |b: &(usize, usize)| blocks.iter().any(|o| o.0 < b.0 && b.1 < o.1 && !odd(o));
        blocks.iter().filter(|b| b.0 > after && odd(b) && !covered(b)).max_by_key(|b| b.0).map(|&(o, c)| {
            vec![
                (o, "this delimiter might not be properly closed...".to_string()),
                (c, "...as it matches this but it has different indentation".to_string()),
            ]
        })
    };
    let problem = |offset: usize, message: String, label: &str, secondary: Vec<(usize, String)>| ParseProblem {
        offset,
        message: format!("cannot parse Rust: {message}"),
        label: Some(label.to_string()),
        secondary,
    };
    for token in tokenize(&text[pos..], FrontmatterAllowed::No) {
        let at = pos;
        pos += token.len as usize;
        let unterminated = match token.kind {
            T::BlockComment { terminated: false, .. } => Some("block comment"),
            T::Literal { kind, .. } => match kind {
                L::Str { terminated: false } => Some("double quote string"),
                L::ByteStr { terminated: false } => Some("double quote byte string"),
                L::CStr { terminated: false } => Some("C string"),
                L::Char { terminated: false } => Some("character literal"),
                L::Byte { terminated: false } => Some("byte constant"),
                L::RawStr { n_hashes: None } | L::RawByteStr { n_hashes: None } | L::RawCStr { n_hashes: None } => {
                    Some("raw string")
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(what) = unterminated {
            return Some(problem(at, format!("unterminated {what}"), &format!("unterminated {what}"), Vec::new()));
        }
        let (opening, closing) = match token.kind {
            T::OpenParen => (Some('('), None),
            T::OpenBracket => (Some('['), None),
            T::OpenBrace => (Some('{'), None),
            T::CloseParen => (None, Some(('(', ')'))),
            T::CloseBracket => (None, Some(('[', ']'))),
            T::CloseBrace => (None, Some(('{', '}'))),
            _ => (None, None),
        };
        if let Some(c) = opening {
            open.push((c, at));
        }
        let Some((wanted, close)) = closing else { continue };
        match open.last() {
            Some(&(c, o)) if c == wanted => {
                open.pop();
                if c == '{' {
                    blocks.push((o, at));
                }
            }
            Some(&(_, o)) => {
                let mut secondary = vec![(o, "unclosed delimiter".to_string())];
                // An opening delimiter of this kind at the closer's indentation.
                if let Some(&(_, candidate)) = open.iter().rev().find(|&&(d, p)| d == wanted && margin(p) == margin(at))
                {
                    secondary.push((candidate, "closing delimiter possibly meant for this".to_string()));
                }
                return Some(problem(
                    at,
                    format!("mismatched closing delimiter `{close}`"),
                    "closing delimiter does not match",
                    secondary,
                ));
            }
            None => {
                let secondary = suspicious_block(&blocks, 0).unwrap_or_default();
                return Some(problem(
                    at,
                    format!("unexpected closing delimiter `{close}`"),
                    "unexpected closing delimiter",
                    secondary,
                ));
            }
        }
    }
    // The outermost unclosed delimiter, the innermost one too, and where a brace is
    // most likely missing.
    let &(c, o) = open.first()?;
    let mut secondary: Vec<(usize, String)> =
        open.iter().skip(1).last().map(|&(_, p)| (p, "unclosed delimiter".to_string())).into_iter().collect();
    secondary.extend(suspicious_block(&blocks, o).unwrap_or_default());
    Some(problem(o, format!("unclosed delimiter `{c}`"), "unclosed delimiter", secondary))
}

/// Removes `#[cfg(test)]` items and test functions, at any module depth. A
/// `#[cfg(test)] mod tests;` declaration stays (it holds no code): it tells the crate's
/// module tree that the file it names is test code. So does an inline `#[cfg(test)]
/// mod x { … }`, emptied but for the `mod y;` declarations in it (at any depth).
fn strip_test_items(items: &mut Vec<syn::Item>) {
    items.retain(|item| {
        matches!(item, syn::Item::Mod(_)) || !item_attrs(item).iter().any(|a| is_cfg_test(a) || is_test_fn_attr(a))
    });
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(m) => {
                let test = m.attrs.iter().any(is_cfg_test);
                if let Some((_, content)) = &mut m.content {
                    if test {
                        keep_module_declarations(content);
                    } else {
                        strip_test_items(content);
                    }
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

/// Removes the code inside bodies that only test builds compile: `#[cfg(test)]`
/// match arms (`#[cfg(test)] Command::Tick => …`) and statements.
struct StripTestCode;

impl syn::visit_mut::VisitMut for StripTestCode {
    fn visit_expr_match_mut(&mut self, m: &mut syn::ExprMatch) {
        m.arms.retain(|a| !a.attrs.iter().any(is_cfg_test));
        syn::visit_mut::visit_expr_match_mut(self, m);
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        b.stmts.retain(|s| !stmt_attrs(s).iter().any(is_cfg_test));
        syn::visit_mut::visit_block_mut(self, b);
    }
}

/// The attributes of a statement (of the expressions that take them as statements).
pub fn stmt_attrs(stmt: &syn::Stmt) -> &[syn::Attribute] {
    use syn::Expr;
    match stmt {
        syn::Stmt::Local(l) => &l.attrs,
        syn::Stmt::Item(i) => item_attrs(i),
        syn::Stmt::Macro(m) => &m.attrs,
        syn::Stmt::Expr(e, _) => match e {
            Expr::Call(x) => &x.attrs,
            Expr::MethodCall(x) => &x.attrs,
            Expr::Macro(x) => &x.attrs,
            Expr::Block(x) => &x.attrs,
            Expr::If(x) => &x.attrs,
            Expr::Match(x) => &x.attrs,
            Expr::ForLoop(x) => &x.attrs,
            Expr::While(x) => &x.attrs,
            Expr::Loop(x) => &x.attrs,
            Expr::Await(x) => &x.attrs,
            Expr::Try(x) => &x.attrs,
            Expr::Assign(x) => &x.attrs,
            _ => &[],
        },
    }
}

/// Keeps only the module declarations of a test module's items (and of the inline
/// modules among them): the files they bring in are test code.
fn keep_module_declarations(items: &mut Vec<syn::Item>) {
    items.retain(|item| matches!(item, syn::Item::Mod(_)));
    for item in items.iter_mut() {
        if let syn::Item::Mod(m) = item
            && let Some((_, content)) = &mut m.content
        {
            keep_module_declarations(content);
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

/// `#[cfg(test)]`, `#[cfg(all(test, …))]`, `#[cfg(any(test, feature = "testing"))]`,
/// and a feature only tests turn on (`#[cfg(feature = "testing")]`, `"test-utils"`),
/// but not `not(test)` nor `any(debug_assertions, test)` (debug builds have it too).
pub fn is_cfg_test(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("cfg") {
        return false;
    }
    match &attr.meta {
        syn::Meta::List(list) => mentions_test(list.tokens.clone()),
        _ => false,
    }
}

/// Whether a `cfg` predicate holds only in test builds: `test`, a feature only tests
/// turn on (`feature = "test-utils"`), `all(…)` with one such part, `any(…)` whose
/// every part is one. (`any(debug_assertions, test)` is compiled in debug builds too.)
fn mentions_test(tokens: TokenStream) -> bool {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    implies_test(&tokens)
}

fn implies_test(pred: &[TokenTree]) -> bool {
    let is_eq = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == '=');
    let parts = |t: Option<&TokenTree>| match t {
        Some(TokenTree::Group(g)) => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            inner
                .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                .filter(|p| !p.is_empty())
                .map(<[TokenTree]>::to_vec)
                .collect::<Vec<_>>()
        }
        _ => Vec::new(),
    };
    let Some(TokenTree::Ident(ident)) = pred.first() else { return false };
    if ident == "test" {
        return !is_eq(pred.get(1));
    }
    // `feature = "test"`, `feature = "testing"`, `feature = "test-utils"`: a feature
    // only tests turn on.
    if ident == "feature" && is_eq(pred.get(1)) {
        return matches!(pred.get(2), Some(TokenTree::Literal(lit)) if lit.to_string().trim_matches('"').split(['-', '_']).any(|w| matches!(w, "test" | "tests" | "testing")));
    }
    if ident == "all" {
        return parts(pred.get(1)).iter().any(|p| implies_test(p));
    }
    if ident == "any" {
        let parts = parts(pred.get(1));
        return !parts.is_empty() && parts.iter().all(|p| implies_test(p));
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
        // (An inline test module stays, emptied: it may declare files of test code.)
        assert_eq!(parsed_item_names(src), vec!["prod", "tests", "not_test", "inner", "kept", "n"]);
        let nested = "#[cfg(test)] mod support { mod fake_server; fn helper() {} mod deep { mod more; fn h() {} } }";
        assert_eq!(parsed_item_names(nested), vec!["support", "fake_server", "deep", "more"]);
    }

    #[test]
    fn cfg_test_arms_and_statements_are_stripped_and_the_rest_kept() {
        let src = "fn run(c: Cmd) {\n    #[cfg(test)]\n    let probe = 1;\n    match c {\n        Cmd::Go => go(),\n        #[cfg(test)]\n        Cmd::Tick => tick(),\n        #[cfg(not(test))]\n        Cmd::Stop => stop(),\n    }\n}\n";
        let kept = quote::ToTokens::to_token_stream(&parse(src, false).unwrap().syntax).to_string();
        for gone in ["probe", "tick"] {
            assert!(!kept.contains(gone), "{gone} left in: {kept}");
        }
        for left in ["go ()", "stop ()"] {
            assert!(kept.contains(left), "{left} lost: {kept}");
        }
        let all = quote::ToTokens::to_token_stream(&parse(src, true).unwrap().syntax).to_string();
        assert!(all.contains("tick") && all.contains("probe"), "{all}");
    }

    #[test]
    fn file_level_cfg_test_empties_the_file() {
        assert!(parsed_item_names("#![cfg(test)]\nfn a() {}").is_empty());
        // (A module declaration stays: it marks the file it names as test code.)
        let names = parsed_item_names(
            "#[cfg(feature = \"test-utils\")]\npub mod tests;\n#[cfg(any(test, feature = \"testing\"))]\nfn b() {}",
        );
        assert_eq!(names, ["tests"]);
        assert_eq!(parsed_item_names("#[cfg(feature = \"attest\")]\nfn c() {}"), ["c"]);
        // Compiled outside tests too: a debug build's seed command.
        assert_eq!(parsed_item_names("#[cfg(any(debug_assertions, test))]\nfn seed() {}"), ["seed"]);
        assert!(parsed_item_names("#[cfg(all(debug_assertions, test))]\nfn t() {}").is_empty());
    }

    /// Pads `src` with a trailing comment to just over the size where nesting is checked.
    fn large(src: String) -> String {
        let pad = (UNCHECKED_NESTING_MAX_BYTES + 1).saturating_sub(src.len() + 3);
        format!("{src}\n//{}", "x".repeat(pad))
    }

    #[test]
    fn deep_nesting_in_a_large_file_is_a_problem_not_a_crash() {
        // (Past the bound of this build's profile: a release build allows deeper.)
        let past = crate::input::nesting::MAX_DEPTH as usize + 1000;
        let deep = large(format!("fn f() {{ let x = {}1{}; }}", "(".repeat(past), ")".repeat(past)));
        let err = parse(&deep, false).err().expect("must be rejected");
        assert!(err.message.contains("nested too deeply"), "{}", err.message);
        let unary = large(format!("fn f() {{ let x = {}1; }}", "!".repeat(past)));
        assert!(parse(&unary, false).is_err());
        let closures = large(format!("fn f() {{ let x = {}1; }}", "|a, b| ".repeat(past)));
        assert!(parse(&closures, false).is_err());
        // Within the bound: parsed and checked (on a worker-sized stack).
        let unary = large(format!("fn f() {{ let x = {}1; }}", "!".repeat(1500)));
        let worker = std::thread::Builder::new().stack_size(crate::input::WORKER_STACK);
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

    /// A line, a 1-based byte column and a text.
    type At = (usize, usize, String);

    /// The problem of `src`: its position and message, and each secondary place with its text.
    fn lexed(src: &str) -> (At, Vec<At>) {
        let at = |offset: usize| {
            let line = src[..offset].matches('\n').count() + 1;
            (line, offset - src[..offset].rfind('\n').map_or(0, |i| i + 1) + 1)
        };
        let p = parse(src, false).err().expect("a problem");
        let secondary = p.secondary.iter().map(|(o, text)| (at(*o).0, at(*o).1, text.clone())).collect();
        ((at(p.offset).0, at(p.offset).1, p.message), secondary)
    }

    #[test]
    fn an_unclosed_delimiter_is_reported_at_the_opening_delimiter() {
        let (at, secondary) = lexed("fn ok() {}\nfn broken( {\n}\n\nfn later() {}\n");
        assert_eq!(at, (2, 10, "cannot parse Rust: unclosed delimiter `(`".to_string()));
        assert!(secondary.is_empty(), "{secondary:?}");
        // Delimiters in strings, raw strings, characters, comments and after lifetimes do not count.
        let src = "fn f<'a>(x: &'a str) -> char {\n    let s = \"{(\"; let r = r#\"}\"]\"#; let c = '{';\n    /* ( */ // )\n    let l: &'a [u8] = b\"[\"; 'outer: loop { break 'outer; }\n    '}'\n}\nfn g(x: u8 {}\n";
        assert_eq!(lexed(src).0, (7, 5, "cannot parse Rust: unclosed delimiter `(`".to_string()));
        // A brace missing in the middle: the outermost unclosed brace, and the block
        // whose closing brace is indented unlike its opening one.
        let src = "impl S {\n    fn a(&self) {\n        if x {\n            y();\n    }\n\n    fn b(&self) {}\n}\n";
        let (at, secondary) = lexed(src);
        assert_eq!(at, (1, 8, "cannot parse Rust: unclosed delimiter `{`".to_string()));
        assert_eq!(
            secondary,
            vec![
                (3, 14, "this delimiter might not be properly closed...".to_string()),
                (5, 5, "...as it matches this but it has different indentation".to_string()),
            ]
        );
        // A truncated file: the outermost and the innermost unclosed delimiters.
        let (at, secondary) = lexed("fn f() {\n    let v = vec![g(1,\n");
        assert_eq!((at.0, at.1), (1, 8));
        assert_eq!(secondary, vec![(2, 19, "unclosed delimiter".to_string())]);
    }

    #[test]
    fn a_mismatched_closing_delimiter_is_reported_with_the_delimiter_it_leaves_open() {
        let src = "fn f() {\n    foo(a, {b);\n}\nfn g() {}\n";
        let (at, secondary) = lexed(src);
        assert_eq!(at, (2, 14, "cannot parse Rust: mismatched closing delimiter `)`".to_string()));
        assert_eq!(
            secondary,
            vec![
                (2, 12, "unclosed delimiter".to_string()),
                (2, 8, "closing delimiter possibly meant for this".to_string())
            ]
        );
        let p = parse(src, false).err().unwrap();
        assert_eq!(p.label.as_deref(), Some("closing delimiter does not match"));
        // An opening delimiter at the closer's indentation is what it was probably meant for.
        let src = "fn f() {\n    let v = [\n        g(1,\n    ];\n}\n";
        let (at, secondary) = lexed(src);
        assert_eq!(at, (4, 5, "cannot parse Rust: mismatched closing delimiter `]`".to_string()));
        assert_eq!(
            secondary,
            vec![
                (3, 10, "unclosed delimiter".to_string()),
                (2, 13, "closing delimiter possibly meant for this".to_string())
            ]
        );
    }

    #[test]
    fn unexpected_closers_and_unterminated_literals_are_reported_where_they_start() {
        let (at, _) = lexed("fn f() {}\n}\nfn g() {}\n");
        assert_eq!(at, (2, 1, "cannot parse Rust: unexpected closing delimiter `}`".to_string()));
        let (at, _) = lexed("fn f() {\n    let s = \"open;\n}\n");
        assert_eq!(at, (2, 13, "cannot parse Rust: unterminated double quote string".to_string()));
        let (at, _) = lexed("fn f() {}\n/* open\nfn g() {}\n");
        assert_eq!(at, (2, 1, "cannot parse Rust: unterminated block comment".to_string()));
        let (at, _) = lexed("fn f() {\n    let s = r#\"open\"\n}\n");
        assert_eq!(at, (2, 13, "cannot parse Rust: unterminated raw string".to_string()));
        // Balanced tokens, bad syntax: syn's message and position stand.
        let (at, _) = lexed("fn f() {\n    let = 1;\n}\n");
        assert_eq!((at.0, at.1), (2, 9), "{at:?}");
        assert!(!at.2.contains("delimiter"), "{at:?}");
        // A shebang and a byte-order mark are not code.
        let (at, _) = lexed("\u{feff}#!/usr/bin/env run-cargo-script\nfn f() {\n");
        assert_eq!((at.0, at.1), (2, 8));
    }

    #[test]
    fn syntax_errors_and_bad_utf8_have_positions() {
        let err = parse("fn ok() {}\nfn broken( {\n", false).err().unwrap();
        assert!(err.offset >= 11, "{err:?}");
        let (_, problem) = decode(b"fn a() {}\n\xff".to_vec());
        assert_eq!(problem.unwrap().offset, 10);
    }
}
