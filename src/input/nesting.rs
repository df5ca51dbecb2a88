//! A bound on how deep a file's syntax tree can get, computed from its bytes before
//! syn sees them. syn parses, visits and drops recursively: a tree a million levels
//! deep exhausts any stack and aborts the process, and that is a few megabytes of
//! `(((…`, `|| || …`, `Vec<Vec<…`, `return return …` or `a.b().b()…`.
//!
//! Nesting grows one token at a time along any chain that no separator ends, so the
//! bound adds up, for every open bracket, the tokens since the last point where a
//! new sibling starts:
//! - `;`, `=>`, and `,` (statements, match arms, list elements), except a `,` after
//!   a single `|` in the same chain (closure parameters: `|a, b| |a, b| …` nests; a
//!   `|` is not told apart from a binary one, which only counts more) or inside
//!   unclosed generic arguments (`HashMap<u8, HashMap<u8, …` nests);
//! - a `}` followed by an identifier (other than `else` and `as`), an attribute or a
//!   label: the next item or statement.
//!
//! A file whose bound exceeds [`MAX_DEPTH`] is rejected with a position. The scan only
//! needs to tell code from strings, characters and comments; it is a byte loop, much
//! cheaper than a full lexer, and it errs towards counting more.

use crate::input::problem::ParseProblem;

/// The most tokens of unfinished nesting a file may hold. Every shape measured fits
/// the worker stacks ([`crate::input::WORKER_STACK`]) at 4× this bound: release
/// builds fit ~65 k (braces, `&` types: the deepest per token), debug builds ~20 k
/// (larger frames; `tests/robustness.rs` runs every shape at the bound through the
/// whole pipeline). Real code stays far below it (the deepest file of a 2.4 M-line
/// registry corpus reaches a few hundred); long macro bodies without separators (a
/// large `view!` template) come closest.
pub const MAX_DEPTH: u32 = if cfg!(debug_assertions) { 4096 } else { 16384 };

/// An open bracket's unfinished chain.
#[derive(Clone, Copy)]
struct Level {
    /// Tokens since this level's chain last ended.
    chain: u32,
    /// Unclosed `<` since then: a `,` separates generic arguments, not siblings.
    angles: u32,
    /// A single `|` since then: a `,` may separate a closure's parameters.
    pipe: bool,
}

impl Level {
    const NEW: Level = Level { chain: 0, angles: 0, pipe: false };
}

/// The previous token, for `<` (generics or comparison?) and after `}` (next sibling?).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// An identifier, keyword or label, at this byte range.
    Word(usize, usize),
    /// A number, string or character literal.
    Literal,
    CloseBrace,
    Other,
}

const WS: u8 = 0;
const WORD: u8 = 1;
const PUNCT: u8 = 2;
/// Byte classes: whitespace, identifier or number bytes (non-ASCII bytes included:
/// identifiers may be Unicode), everything else.
static CLASS: [u8; 256] = {
    let mut class = [PUNCT; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            class[b] = WORD;
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c') {
            class[b] = WS;
        }
        b += 1;
    }
    class
};

/// Checks that `text` cannot nest deeper than [`MAX_DEPTH`]; the problem names where
/// the bound was first exceeded.
pub fn check(text: &str) -> Result<(), ParseProblem> {
    match deepest(text, MAX_DEPTH) {
        Ok(_) => Ok(()),
        Err(offset) => Err(ParseProblem::new(
            offset,
            format!(
                "code nested too deeply for gatelint to check safely (more than {MAX_DEPTH} tokens of unfinished brackets, operators or chained calls); gatelint does not check this file"
            ),
        )),
    }
}

/// The highest bound reached in `text`, or the offset of the token where it first
/// exceeded `limit`.
pub fn deepest(text: &str, limit: u32) -> Result<u32, usize> {
    let bytes = text.as_bytes();
    // The open brackets' levels, but the innermost, which is `level`.
    let mut outer: Vec<Level> = Vec::new();
    let mut level = Level::NEW;
    // Σ chain over all levels + the number of open brackets.
    let mut depth: u32 = 0;
    let mut highest = 0;
    let mut prev = Prev::Other;
    let mut i = code_start(text);
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        if b >= 0xc0
            && let Some(len) = unicode_whitespace(bytes, i)
        {
            i += len;
            continue;
        }
        let kind = match CLASS[b as usize] {
            WS => {
                // (Indentation comes in runs.)
                i += 1;
                while i < bytes.len() && CLASS[bytes[i] as usize] == WS {
                    i += 1;
                }
                continue;
            }
            WORD => {
                i = skip_word(bytes, i);
                if b.is_ascii_digit() {
                    Prev::Literal
                } else {
                    match bytes.get(i) {
                        // Raw strings: r"…", r#"…"#, br"…", cr##"…"##.
                        Some(b'"' | b'#')
                            if matches!(&bytes[start..i], b"r" | b"br" | b"cr") && raw_string_opens(bytes, i) =>
                        {
                            i = skip_suffix(bytes, skip_raw_string(bytes, i));
                            Prev::Literal
                        }
                        // A raw identifier: r#type.
                        Some(b'#') if &bytes[start..i] == b"r" => {
                            i = skip_word(bytes, i + 1);
                            Prev::Word(start, i)
                        }
                        _ => Prev::Word(start, i),
                    }
                }
            }
            _ => match b {
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                    continue;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i = skip_block_comment(bytes, i);
                    continue;
                }
                // Chain ends: statements, match arms, list elements.
                b';' => {
                    depth -= level.chain;
                    level = Level::NEW;
                    prev = Prev::Other;
                    i += 1;
                    continue;
                }
                b'=' if bytes.get(i + 1) == Some(&b'>') => {
                    depth -= level.chain;
                    level = Level::NEW;
                    prev = Prev::Other;
                    i += 2;
                    continue;
                }
                b',' if level.angles == 0 && !level.pipe => {
                    depth -= level.chain;
                    level = Level::NEW;
                    prev = Prev::Other;
                    i += 1;
                    continue;
                }
                b')' | b']' | b'}' => {
                    if let Some(up) = outer.pop() {
                        depth -= level.chain + 1;
                        level = up;
                    }
                    prev = if b == b'}' { Prev::CloseBrace } else { Prev::Other };
                    i += 1;
                    continue;
                }
                b'"' => {
                    i = skip_suffix(bytes, skip_string(bytes, i + 1));
                    Prev::Literal
                }
                b'\'' => {
                    let (end, is_char) = skip_quote(bytes, i);
                    if is_char {
                        i = skip_suffix(bytes, end);
                        Prev::Literal
                    } else {
                        // After `}`, a label starts a labelled statement.
                        i = end;
                        Prev::Word(start, start)
                    }
                }
                _ => {
                    i += 1;
                    Prev::Other
                }
            },
        };
        // After `}`, an identifier (but `else`, `as`), an attribute or a label starts
        // the next item or statement.
        if prev == Prev::CloseBrace {
            let next_sibling = match kind {
                Prev::Word(s, e) => !matches!(&bytes[s..e], b"else" | b"as"),
                _ => b == b'#',
            };
            if next_sibling {
                depth -= level.chain;
                level = Level::NEW;
            }
        }
        match b {
            // `||`: a logical or, or a closure without parameters; one token.
            b'|' if bytes.get(i) == Some(&b'|') => i += 1,
            b'|' => level.pipe = true,
            // After a literal (`1 << n`, `2 < x`) a comparison or shift; `<=` compares.
            b'<' if prev == Prev::Literal => {
                if matches!(bytes.get(i), Some(b'<' | b'=')) {
                    i += 1;
                }
            }
            b'<' if bytes.get(i) == Some(&b'=') => i += 1,
            b'<' => level.angles += 1,
            // (`->` closes nothing; `>=` may close one, which only counts more.)
            b'>' if start > 0 && bytes[start - 1] == b'-' => {}
            b'>' if bytes.get(i) == Some(&b'=') => {}
            b'>' => level.angles = level.angles.saturating_sub(1),
            _ => {}
        }
        level.chain += 1;
        depth += 1;
        prev = kind;
        if matches!(b, b'(' | b'[' | b'{') {
            outer.push(level);
            level = Level::NEW;
            depth += 1;
        }
        if depth > highest {
            if depth > limit {
                return Err(start);
            }
            highest = depth;
        }
    }
    Ok(highest)
}

/// How deep `file`'s tree really is: the deepest nesting of expressions, types,
/// patterns, items, blocks and statements. What the bound must keep up with
/// (`depth ≤ 2 × bound + 8`), checked by `tests/robustness.rs` and the fuzz target.
pub fn syntax_depth(file: &syn::File) -> usize {
    #[derive(Default)]
    struct Depth {
        now: usize,
        max: usize,
    }
    macro_rules! nest {
        ($($visit:ident($ty:ty) => $walk:path;)*) => {
            impl<'ast> syn::visit::Visit<'ast> for Depth {
                $(fn $visit(&mut self, node: &'ast $ty) {
                    self.now += 1;
                    self.max = self.max.max(self.now);
                    $walk(self, node);
                    self.now -= 1;
                })*
            }
        };
    }
    nest! {
        visit_expr(syn::Expr) => syn::visit::visit_expr;
        visit_type(syn::Type) => syn::visit::visit_type;
        visit_pat(syn::Pat) => syn::visit::visit_pat;
        visit_item(syn::Item) => syn::visit::visit_item;
        visit_block(syn::Block) => syn::visit::visit_block;
        visit_stmt(syn::Stmt) => syn::visit::visit_stmt;
    }
    let mut depth = Depth::default();
    syn::visit::Visit::visit_file(&mut depth, file);
    depth.max
}

/// Where syn starts reading `text` as code, as `syn::parse_file` decides: after a
/// byte-order mark, and after a first line starting `#!` unless what follows the `#!`
/// (past whitespace and plain comments) is `[`, an inner attribute. (Deciding this
/// differently from syn would scan a line syn skips, or skip one it parses.)
fn code_start(text: &str) -> usize {
    let bom = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let content = &text[bom..];
    if !content.starts_with("#!") || skip_trivia(&content[2..]).starts_with('[') {
        return bom;
    }
    bom + content.find('\n').unwrap_or(content.len())
}

/// `s` past its leading whitespace (Rust's: `char::is_whitespace` and the
/// direction marks U+200E/U+200F) and plain (not doc) comments.
fn skip_trivia(mut s: &str) -> &str {
    loop {
        let doc_line = (s.starts_with("///") && !s.starts_with("////")) || s.starts_with("//!");
        let doc_block =
            (s.starts_with("/**") && !s.starts_with("/***") && !s.starts_with("/**/")) || s.starts_with("/*!");
        if s.starts_with("//") && !doc_line {
            s = s.find('\n').map_or("", |n| &s[n + 1..]);
        } else if s.starts_with("/*") && !doc_block {
            s = s.get(skip_block_comment(s.as_bytes(), 0)..).unwrap_or("");
        } else if let Some(c) = s.chars().next().filter(|&c| c.is_whitespace() || c == '\u{200e}' || c == '\u{200f}') {
            s = &s[c.len_utf8()..];
        } else {
            return s;
        }
    }
}

/// A literal's suffix (`"…"suffix`, `'c'suffix`): an identifier right after it is
/// part of it, never the prefix of a raw string (`"a"r"…` is `"a"` + `r`, then `"…`).
fn skip_suffix(bytes: &[u8], i: usize) -> usize {
    if bytes.get(i).is_some_and(|&b| CLASS[b as usize] == WORD) { skip_word(bytes, i) } else { i }
}

/// An identifier, keyword or number (with its suffix): ASCII alphanumerics, `_`
/// and any non-ASCII byte.
fn skip_word(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && CLASS[bytes[i] as usize] == WORD {
        if bytes[i] >= 0xc0 && unicode_whitespace(bytes, i).is_some() {
            break;
        }
        i += 1;
    }
    i
}

/// The length of the whitespace character at `i` if it is a non-ASCII one (U+2028,
/// U+00A0, the marks U+200E/U+200F…: whitespace to Rust's lexer, which separates
/// tokens with them).
fn unicode_whitespace(bytes: &[u8], i: usize) -> Option<usize> {
    let lead = *bytes.get(i)?;
    let len = match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    let c = std::str::from_utf8(bytes.get(i..i + len)?).ok()?.chars().next()?;
    (c.is_whitespace() || c == '\u{200e}' || c == '\u{200f}').then_some(len)
}

/// `i` is just after the opening `"`; returns the index after the closing one.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while let Some(n) = memchr::memchr2(b'"', b'\\', &bytes[i..]) {
        i += n;
        if bytes[i] == b'\\' {
            i += 2;
        } else {
            return i + 1;
        }
    }
    bytes.len()
}

/// A `'`: a character literal (`'a'`, `'\n'`, `'\u{1F600}'`, `'é'`) or a
/// lifetime/label (`'a`). Returns the end and whether it was a character.
fn skip_quote(bytes: &[u8], i: usize) -> (usize, bool) {
    if bytes.get(i + 1) == Some(&b'\\') {
        // An escape: the closing quote comes after the escaped character.
        return match memchr::memchr(b'\'', bytes.get(i + 3..).unwrap_or(&[])) {
            Some(n) => (i + 3 + n + 1, true),
            None => (bytes.len(), true),
        };
    }
    let char_len = match bytes.get(i + 1) {
        Some(&c) if c < 0x80 => 1,
        Some(&c) if c >= 0xf0 => 4,
        Some(&c) if c >= 0xe0 => 3,
        Some(_) => 2,
        None => return (bytes.len(), false),
    };
    if bytes.get(i + 1 + char_len) == Some(&b'\'') {
        return (i + 2 + char_len, true);
    }
    // A lifetime or label: the `'` alone, as proc-macro2 lexes it; its name is read
    // as any word (`'r"…"` is `'` + the raw string `r"…"`).
    (i + 1, false)
}

/// `i` is after `r`/`br`/`cr`: whether `#…#"` or `"` follows.
fn raw_string_opens(bytes: &[u8], mut i: usize) -> bool {
    while bytes.get(i) == Some(&b'#') {
        i += 1;
    }
    bytes.get(i) == Some(&b'"')
}

/// `i` is after `r`/`br`/`cr`, at the hashes or quote; returns the index after the
/// closing quote and hashes.
fn skip_raw_string(bytes: &[u8], mut i: usize) -> usize {
    let hashes_start = i;
    while bytes.get(i) == Some(&b'#') {
        i += 1;
    }
    let hashes = i - hashes_start;
    i += 1;
    while let Some(n) = memchr::memchr(b'"', &bytes[i.min(bytes.len())..]) {
        i += n + 1;
        let closing = bytes[i..].iter().take(hashes).take_while(|&&c| c == b'#').count();
        if closing == hashes {
            return i + hashes;
        }
    }
    bytes.len()
}

/// `i` is at `/*`; returns the index after the matching `*/` (block comments nest).
fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut open = 0usize;
    while i < bytes.len() {
        match memchr::memchr2(b'/', b'*', &bytes[i..]) {
            None => return bytes.len(),
            Some(n) => i += n,
        }
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            open += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            open -= 1;
            i += 2;
            if open == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(src: &str) -> u32 {
        deepest(src, u32::MAX).expect("no limit")
    }

    /// Long flat code (items, statements, arms, list elements) stays shallow, however long.
    #[test]
    fn siblings_do_not_add_up() {
        let cases = [
            "fn f() { a(); }\n".repeat(2000),
            format!("fn f() {{ {} }}", "let x = a.b(c, d)?;".repeat(2000)),
            format!("fn f() {{ {} }}", "if a {} for x in y {} ".repeat(2000)),
            format!("#[derive(Debug)] struct S {{}} {}", "#[derive(Debug)] struct S {} impl T for S {} ".repeat(2000)),
            format!("fn f() {{ match x {{ {} }} }}", "A => {} (b, c) => {} D | E => 1, ".repeat(2000)),
            format!("const T: &[(u32, u32)] = &[{}];", "(0x41, 0x5a), ".repeat(5000)),
            format!("struct S {{ {} }}", "a: Vec<u8>, b: HashMap<K, V>, c: fn() -> u8, ".repeat(2000)),
            format!("fn f() {{ {} }}", "g(|a, b| a + b, |c| c); h(a || b, a < b, x > y);".repeat(2000)),
            format!("fn f() {{ let s = \"{}\"; }}", "((((|| ,".repeat(2000)),
            format!("fn f() {{ let s = r#\"{}\"#; }} // (((((\n/* ((((( /* ((( */ */", "\"(((((".repeat(2000)),
            format!("fn f() {{ {} }}", "let c = ['(', '\\'', b'[', '{']; let l: &'a str = x;".repeat(2000)),
            format!("enum E {{ {} }}", (0..2000).map(|n| format!("V{n} = 1 << {n}, ")).collect::<String>()),
            format!("const T: &[u64] = &[{}];", (0..2000).map(|n| format!("1 << {n}, x <= {n}, ")).collect::<String>()),
        ];
        for (i, src) in cases.iter().enumerate() {
            let d = depth(src);
            assert!(d < 40, "case {i}: {d}");
        }
    }

    /// The price of not telling a binary `|` from a closure's: after one, a `,` ends
    /// no chain, so a table of or-ed flags counts as one chain (within the bound up
    /// to ~1 000 entries).
    #[test]
    fn binary_pipes_keep_a_list_in_one_chain() {
        let table = |n: usize| format!("const T: &[u32] = &[{}];", "A | B, ".repeat(n));
        assert!(depth(&table(1000)) <= 4096);
        assert!(depth(&table(1000)) > depth(&table(10)) * 50);
        // Without a `|`, the same list is shallow.
        assert!(depth(&format!("const T: &[u32] = &[{}];", "A + B, ".repeat(1000))) < 20);
    }

    /// Every nesting shape grows the bound at least one per level, so a file deep
    /// enough to exhaust a stack cannot pass.
    #[test]
    fn nesting_chains_add_up() {
        let k = 1000;
        let shapes = [
            format!("fn f() {{ {}1{} }}", "{".repeat(k), "}".repeat(k)),
            format!("fn f() {{ let x = {}1{}; }}", "(".repeat(k), ")".repeat(k)),
            format!("type T = {}u8{};", "Vec<".repeat(k), ">".repeat(k)),
            format!("type T = {}u8{};", "HashMap<u8, ".repeat(k), ">".repeat(k)),
            format!("type T = {}u8{};", "HashMap<u8, fn() -> ".repeat(k), ">".repeat(k)),
            format!("fn f() {{ let x = {}1; }}", "!".repeat(k)),
            format!("fn f() {{ let x = {}1; }}", "|| ".repeat(k)),
            format!("fn f() {{ let x = {}1; }}", "|a, b| ".repeat(k)),
            format!("fn f() {{ let x = a | {}1; }}", "|a, b| ".repeat(k)),
            format!("fn f() {{ g(x, {}1); }}", "|a, b| ".repeat(k)),
            format!("fn f() {{ {}1; }}", "return ".repeat(k)),
            format!("fn f() {{ let x = 1{}; }}", " + {1}".repeat(k)),
            format!("fn f() {{ let x = a{}; }}", ".b()".repeat(k)),
            format!("fn f() {{ let x = a{}; }}", "?".repeat(k)),
            format!("fn f() {{ let x = a{}; }}", " as u8".repeat(k)),
            format!("fn f() {{ if a {{}}{} }}", " else if a {}".repeat(k)),
            format!("fn f() {{ let x = {{1}}{}; }}", ".f() + {1}".repeat(k)),
            // Closures after keywords and operators, in and out of phase with binary `|`s.
            format!("fn f() {{ let x = {}1; }}", "&mut |a, b| ".repeat(k)),
            format!("fn f() {{ let x = {}1; }}", "&raw mut |a, b| ".repeat(k)),
            format!("fn f() {{ let x = {}1; }}", "const |a, b| ".repeat(k)),
            format!("fn f() {{ let x = {}1; }}", "|a, b| S::<u8> | ".repeat(k)),
            format!("fn f() {{ let x = {}1; }}", "|a, b| x as A<B> | ".repeat(k)),
            // Tokens separated by non-ASCII whitespace.
            format!("fn f() {{ {}1; }}", "return\u{200E}".repeat(k)),
            format!("fn f() {{ let x = a{}; }}", "\u{2028}as\u{2028}u8".repeat(k)),
            // A shebang line is not code: its quote opens no string.
            format!("#!x\"\nfn f() {{ let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k)),
            // … after a byte-order mark too; but `#!` + Unicode space + `[` is an attribute.
            format!("\u{feff}#!x\"\nfn f() {{ let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k)),
            format!("#!\u{a0}[allow(unused)] fn f() {{ let x = {}1{}; }}\n", "(".repeat(k), ")".repeat(k)),
            format!("#! /* c */ [allow(unused)] fn f() {{ let x = {}1{}; }}\n", "(".repeat(k), ")".repeat(k)),
            // A label's name may begin a raw string or raw identifier.
            format!("fn f() {{ m!('r\"\\\"); let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k)),
            format!("fn f() {{ m!('cr\"\\\"); let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k)),
            format!("fn f() {{ m!('r#br\"\\\" \"); let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k)),
            format!("#[a('r\"\\\")]\nfn f() {{ let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k)),
            // A literal's suffix is not a raw string's prefix.
            format!("#[a(\"a\"r\"\\\" \")]\nfn f() {{ let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k)),
            format!("fn f() {{ m!('a'br\"\\\" \"); let x = {}1{}; }}\n// \"\n", "(".repeat(k), ")".repeat(k)),
            format!("fn f() {{ let x = r#a{}; }}", ".r#b".repeat(k)),
            format!("fn f() {{ {}1{} }}", "'a: loop { ".repeat(k), " }".repeat(k)),
        ];
        for (i, src) in shapes.iter().enumerate() {
            let d = depth(src);
            assert!(d >= k as u32, "shape {i}: {d}");
        }
    }

    #[test]
    fn too_deep_is_a_problem_at_the_token_that_crossed_the_bound() {
        let src = format!("fn f() {{ let x = {}1; }}", "!".repeat(MAX_DEPTH as usize + 1000));
        let problem = check(&src).unwrap_err();
        let open = "fn f() { let x = ".len();
        assert!(problem.offset > open && problem.offset < open + MAX_DEPTH as usize, "{}", problem.offset);
        assert!(problem.message.contains("nested too deeply"), "{}", problem.message);
        assert!(check(&format!("fn f() {{ let x = {}1; }}", "!".repeat(1000))).is_ok());
    }

    #[test]
    fn unbalanced_and_unterminated_input_does_not_panic() {
        for src in ["}}}) fn", "\"open", "r##\"open\"#", "'", "'\\", "/* /* */", "b'", "r#", "|", "<>>", "é'é"] {
            let _ = deepest(src, 10);
        }
    }
}
