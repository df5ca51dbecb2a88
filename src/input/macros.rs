//! A crate's own `macro_rules!` item macros (`insert!(follows, NewFollow);` inside an
//! `impl`, defining one function per model), expanded before facts are read, so the
//! functions they define are seen like written ones. Definitions are collected from
//! every checked file ([`MacroTable::of_texts`]); a name defined twice differently is
//! not expanded. The matcher knows literal tokens, `$x:frag` (ident, tt, literal,
//! lifetime by token; ty, expr, path, pat, block, item, stmt, vis, meta through syn)
//! and `$( … ) sep op` repetitions, matched greedily; the transcriber substitutes
//! one level of repetition. Expanded tokens take the invocation's position (each
//! generated function's name a distinct token of it, so functions stay apart).
//! Long invocations (tables of data) and huge expansions are left unexpanded.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use std::collections::HashMap;
use syn::parse::{ParseStream, Parser};

/// How deep expansions may nest (`insert!` expanding to `insert!` and `last!`).
const MAX_DEPTH: usize = 8;
/// The longest invocation expanded, in tokens: a macro that defines a function per
/// model is called with a few names; one called with a table of thousands of entries
/// (a generated lookup table, a compiler stress test) is not this, and matching it
/// fragment by fragment would cost the square of its length.
const MAX_INPUT_TOKENS: usize = 256;
/// The largest expansion kept, in tokens.
const MAX_OUTPUT_TOKENS: usize = 20_000;

#[derive(Default)]
pub struct MacroTable {
    /// By name; `None` when the name has two different definitions.
    defs: HashMap<String, Option<Vec<MacroRule>>>,
    /// The definitions' text, in a stable order: facts depend on it.
    fingerprint: String,
}

struct MacroRule {
    matcher: Vec<Matcher>,
    /// As text (token streams are not shared between threads), lexed per expansion.
    transcriber: String,
}

enum Matcher {
    Token(String),
    Var(String, String),
    Repeat(Vec<Matcher>, Option<String>, char),
    Group(Delimiter, Vec<Matcher>),
}

#[derive(Clone)]
enum Capture {
    One(TokenStream),
    Many(Vec<HashMap<String, Capture>>),
}

type Captures = HashMap<String, Capture>;

impl MacroTable {
    /// The `macro_rules!` definitions of the texts that hold one.
    pub fn of_texts<'t>(texts: impl Iterator<Item = &'t str>) -> MacroTable {
        let mut table = MacroTable::default();
        let mut bodies: HashMap<String, String> = HashMap::new();
        for text in texts {
            if memchr::memmem::find(text.as_bytes(), b"macro_rules!").is_none() {
                continue;
            }
            let mut found = Vec::new();
            for snippet in definition_snippets(text) {
                if let Ok(item) = syn::parse_str::<syn::ItemMacro>(snippet) {
                    definitions(&[syn::Item::Macro(item)], &mut found);
                }
            }
            for (name, body) in found {
                let text = body.to_string();
                // Only macros that write rows are worth their cost (a crate that
                // implements a trait for every integer type through a macro expands it
                // hundreds of times): one whose rules never mention an insert is left.
                if !text.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"insert")) {
                    continue;
                }
                match bodies.get(&name) {
                    Some(seen) if *seen != text => {
                        table.defs.insert(name.clone(), None);
                    }
                    Some(_) => {}
                    None => {
                        bodies.insert(name.clone(), text);
                        table.defs.insert(name, parse_rules(body));
                    }
                }
            }
        }
        let mut names: Vec<_> = bodies.into_iter().collect();
        names.sort();
        table.fingerprint = names.into_iter().map(|(n, b)| format!("{n}:{b}\n")).collect();
        table
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Replaces the invocations of known macros in item position (modules, `impl`
    /// blocks) by the items they expand to.
    pub fn expand(&self, file: &mut syn::File) {
        if !self.defs.is_empty() {
            self.expand_items(&mut file.items, 0);
        }
    }

    /// Expands the macro calls among `items` (module or `impl` items, see
    /// [`ItemPosition`]) and, inside the others, their nested items.
    fn expand_items<T: ItemPosition>(&self, items: &mut Vec<T>, depth: usize) {
        let mut out = Vec::with_capacity(items.len());
        for mut item in std::mem::take(items) {
            if let Some(mac) = item.macro_call()
                && depth < MAX_DEPTH
                && let Some(mut expanded) = self.expansion::<T>(mac)
            {
                self.expand_items(&mut expanded, depth + 1);
                name_fns(&mut expanded, mac);
                out.extend(expanded);
                continue;
            }
            item.expand_inside(self, depth);
            out.push(item);
        }
        *items = out;
    }

    /// The items a call of a known macro expands to, at the call's position.
    fn expansion<T: syn::parse::Parse>(&self, mac: &syn::Macro) -> Option<Vec<T>> {
        let name = mac.path.get_ident()?.to_string();
        let rules = self.defs.get(&name)?.as_ref()?;
        let input: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        if count_tokens(&mac.tokens) > MAX_INPUT_TOKENS {
            return None;
        }
        let at = mac.path.segments.last()?.ident.span();
        for rule in rules {
            let mut captures = Captures::new();
            let mut pos = 0;
            if match_seq(&rule.matcher, &input, &mut pos, &mut captures) && pos == input.len() {
                let mut tokens = Vec::new();
                transcribe(rule.transcriber.parse().ok()?, &captures, &mut tokens);
                let stream: TokenStream = tokens.into_iter().collect();
                if count_tokens(&stream) > MAX_OUTPUT_TOKENS {
                    return None;
                }
                let stream = respan(stream, at);
                return Parser::parse2(
                    |s: ParseStream| {
                        let mut items = Vec::new();
                        while !s.is_empty() {
                            items.push(s.parse()?);
                        }
                        Ok(items)
                    },
                    stream,
                )
                .ok();
            }
        }
        None
    }
}

/// The text of each `macro_rules! name { … }` of a file, found with rustc's lexer
/// (strings, characters and comments are skipped) without parsing the whole file.
fn definition_snippets(text: &str) -> Vec<&str> {
    use ra_ap_rustc_lexer::{FrontmatterAllowed, TokenKind, strip_shebang, tokenize};
    let start = strip_shebang(text).unwrap_or(0);
    // (kind, start) of each token that is not whitespace or a comment.
    let mut tokens: Vec<(TokenKind, usize, usize)> = Vec::new();
    let mut pos = start;
    for token in tokenize(&text[start..], FrontmatterAllowed::No) {
        let at = pos;
        pos += token.len as usize;
        if !matches!(token.kind, TokenKind::Whitespace | TokenKind::LineComment { .. } | TokenKind::BlockComment { .. })
        {
            tokens.push((token.kind, at, pos));
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < tokens.len() {
        let is_macro_rules = matches!(tokens[i].0, TokenKind::Ident)
            && &text[tokens[i].1..tokens[i].2] == "macro_rules"
            && matches!(tokens[i + 1].0, TokenKind::Bang)
            && matches!(tokens[i + 2].0, TokenKind::Ident);
        if !is_macro_rules {
            i += 1;
            continue;
        }
        // The body: from its opening delimiter to the one that closes it.
        let open = i + 3;
        let mut depth = 0usize;
        let mut end = None;
        for (k, (kind, _, to)) in tokens.iter().enumerate().skip(open) {
            match kind {
                TokenKind::OpenBrace | TokenKind::OpenParen | TokenKind::OpenBracket => depth += 1,
                TokenKind::CloseBrace | TokenKind::CloseParen | TokenKind::CloseBracket => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = Some((k, *to));
                        break;
                    }
                }
                _ if depth == 0 => break,
                _ => {}
            }
        }
        let Some((k, to)) = end else { break };
        // `macro_rules! m ( … );` ends with a semicolon.
        let to = match tokens.get(k + 1) {
            Some((TokenKind::Semi, _, semi)) => *semi,
            _ => to,
        };
        out.push(&text[tokens[i].1..to]);
        i = k + 1;
    }
    out
}

/// The number of tokens of `stream`, groups' contents included.
fn count_tokens(stream: &TokenStream) -> usize {
    stream
        .clone()
        .into_iter()
        .map(|t| match t {
            TokenTree::Group(g) => 1 + count_tokens(&g.stream()),
            _ => 1,
        })
        .sum()
}

/// Where an item macro can be called: a module's items and an `impl`'s.
trait ItemPosition: syn::parse::Parse + Sized {
    /// The macro this item calls, when it is a macro call (not a definition).
    fn macro_call(&self) -> Option<&syn::Macro>;
    /// The name of the function this item defines, if it is one.
    fn fn_name(&mut self) -> Option<&mut syn::Ident>;
    /// Expands the macro calls nested in this item (a module's, an `impl`'s).
    fn expand_inside(&mut self, table: &MacroTable, depth: usize);
}

impl ItemPosition for syn::Item {
    fn macro_call(&self) -> Option<&syn::Macro> {
        match self {
            syn::Item::Macro(m) if m.ident.is_none() => Some(&m.mac),
            _ => None,
        }
    }
    fn fn_name(&mut self) -> Option<&mut syn::Ident> {
        match self {
            syn::Item::Fn(f) => Some(&mut f.sig.ident),
            _ => None,
        }
    }
    fn expand_inside(&mut self, table: &MacroTable, depth: usize) {
        match self {
            syn::Item::Mod(m) => {
                if let Some((_, content)) = &mut m.content {
                    table.expand_items(content, depth);
                }
            }
            syn::Item::Impl(i) => table.expand_items(&mut i.items, depth),
            _ => {}
        }
    }
}

impl ItemPosition for syn::ImplItem {
    fn macro_call(&self) -> Option<&syn::Macro> {
        match self {
            syn::ImplItem::Macro(m) => Some(&m.mac),
            _ => None,
        }
    }
    fn fn_name(&mut self) -> Option<&mut syn::Ident> {
        match self {
            syn::ImplItem::Fn(f) => Some(&mut f.sig.ident),
            _ => None,
        }
    }
    fn expand_inside(&mut self, _: &MacroTable, _: usize) {}
}

/// The `macro_rules! name { … }` items under `items` (modules included).
fn definitions(items: &[syn::Item], out: &mut Vec<(String, TokenStream)>) {
    for item in items {
        match item {
            syn::Item::Macro(m) if m.mac.path.is_ident("macro_rules") => {
                if let Some(name) = &m.ident {
                    out.push((name.to_string(), m.mac.tokens.clone()));
                }
            }
            syn::Item::Mod(m) => definitions(m.content.as_ref().map_or(&[][..], |c| &c.1), out),
            _ => {}
        }
    }
}

/// `(matcher) => { transcriber };` rules; `None` when the body reads otherwise.
fn parse_rules(body: TokenStream) -> Option<Vec<MacroRule>> {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut rules = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (
            TokenTree::Group(matcher),
            Some(TokenTree::Punct(eq)),
            Some(TokenTree::Punct(gt)),
            Some(TokenTree::Group(t)),
        ) = (&tokens[i], tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3))
        else {
            return None;
        };
        if eq.as_char() != '=' || gt.as_char() != '>' {
            return None;
        }
        rules.push(MacroRule { matcher: parse_matcher(matcher.stream()), transcriber: t.stream().to_string() });
        i += 4;
        if matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ';') {
            i += 1;
        }
    }
    Some(rules)
}

fn parse_matcher(stream: TokenStream) -> Vec<Matcher> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (TokenTree::Punct(d), Some(TokenTree::Ident(name))) if d.as_char() == '$' => {
                match (tokens.get(i + 2), tokens.get(i + 3)) {
                    (Some(TokenTree::Punct(c)), Some(TokenTree::Ident(frag))) if c.as_char() == ':' => {
                        out.push(Matcher::Var(name.to_string(), frag.to_string()));
                        i += 4;
                    }
                    _ => {
                        out.push(Matcher::Token(tokens[i].to_string()));
                        i += 1;
                    }
                }
            }
            (TokenTree::Punct(d), Some(TokenTree::Group(g)))
                if d.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
            {
                let (sep, op, next) = repetition(&tokens, i + 2);
                out.push(Matcher::Repeat(parse_matcher(g.stream()), sep, op));
                i = next;
            }
            (TokenTree::Group(g), _) => {
                out.push(Matcher::Group(g.delimiter(), parse_matcher(g.stream())));
                i += 1;
            }
            (other, _) => {
                out.push(Matcher::Token(other.to_string()));
                i += 1;
            }
        }
    }
    out
}

/// After `$( … )`: the separator (if any), the operator, and the position after them.
fn repetition(tokens: &[TokenTree], at: usize) -> (Option<String>, char, usize) {
    let op = |t: Option<&TokenTree>| match t {
        Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+' | '?') => Some(p.as_char()),
        _ => None,
    };
    match op(tokens.get(at)) {
        Some(o) => (None, o, at + 1),
        None => (tokens.get(at).map(ToString::to_string), op(tokens.get(at + 1)).unwrap_or('*'), at + 2),
    }
}

fn match_seq(matchers: &[Matcher], input: &[TokenTree], pos: &mut usize, captures: &mut Captures) -> bool {
    for m in matchers {
        match m {
            Matcher::Token(text) => match input.get(*pos) {
                Some(t) if t.to_string() == *text => *pos += 1,
                _ => return false,
            },
            Matcher::Group(delimiter, inner) => match input.get(*pos) {
                Some(TokenTree::Group(g)) if g.delimiter() == *delimiter => {
                    let inside: Vec<TokenTree> = g.stream().into_iter().collect();
                    let mut at = 0;
                    if !match_seq(inner, &inside, &mut at, captures) || at != inside.len() {
                        return false;
                    }
                    *pos += 1;
                }
                _ => return false,
            },
            Matcher::Var(name, frag) => {
                let Some(taken) = fragment(frag, &input[*pos..]) else { return false };
                captures.insert(name.clone(), Capture::One(input[*pos..*pos + taken].iter().cloned().collect()));
                *pos += taken;
            }
            Matcher::Repeat(inner, sep, op) => {
                let mut rounds: Vec<Captures> = Vec::new();
                loop {
                    let mut at = *pos;
                    if !rounds.is_empty()
                        && let Some(sep) = sep
                    {
                        match input.get(at) {
                            Some(t) if t.to_string() == *sep => at += 1,
                            _ => break,
                        }
                    }
                    let mut round = Captures::new();
                    let exhausted = at >= input.len() && !inner.is_empty();
                    if exhausted || !match_seq(inner, input, &mut at, &mut round) || at == *pos {
                        break;
                    }
                    *pos = at;
                    rounds.push(round);
                    if *op == '?' {
                        break;
                    }
                }
                if *op == '+' && rounds.is_empty() {
                    return false;
                }
                let mut names: Vec<String> = rounds.iter().flat_map(|r| r.keys().cloned()).collect();
                names.sort();
                names.dedup();
                for name in names {
                    let each = rounds.clone();
                    captures.entry(name).or_insert(Capture::Many(each));
                }
            }
        }
    }
    true
}

/// How many tokens of `input` a fragment takes, or `None` when it does not match.
fn fragment(frag: &str, input: &[TokenTree]) -> Option<usize> {
    match frag {
        "ident" => matches!(input.first(), Some(TokenTree::Ident(_))).then_some(1),
        "tt" => input.first().map(|_| 1),
        "literal" => match input {
            [TokenTree::Literal(_), ..] => Some(1),
            [TokenTree::Punct(p), TokenTree::Literal(_), ..] if p.as_char() == '-' => Some(2),
            _ => None,
        },
        "lifetime" => match input {
            [TokenTree::Punct(p), TokenTree::Ident(_), ..] if p.as_char() == '\'' => Some(2),
            _ => None,
        },
        _ => {
            let total = input.len();
            let stream: TokenStream = input.iter().cloned().collect();
            let left = Parser::parse2(
                |s: ParseStream| {
                    match frag {
                        "ty" => drop(s.parse::<syn::Type>()?),
                        "expr" => drop(s.parse::<syn::Expr>()?),
                        "path" => drop(s.parse::<syn::Path>()?),
                        "pat" | "pat_param" => drop(syn::Pat::parse_single(s)?),
                        "block" => drop(s.parse::<syn::Block>()?),
                        "item" => drop(s.parse::<syn::Item>()?),
                        "stmt" => drop(s.parse::<syn::Stmt>()?),
                        "vis" => drop(s.parse::<syn::Visibility>()?),
                        "meta" => drop(s.parse::<syn::Meta>()?),
                        _ => return Err(s.error("unknown fragment")),
                    }
                    Ok(s.parse::<TokenStream>()?.into_iter().count())
                },
                stream,
            )
            .ok()?;
            Some(total - left)
        }
    }
}

fn transcribe(stream: TokenStream, captures: &Captures, out: &mut Vec<TokenTree>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (TokenTree::Punct(d), Some(TokenTree::Ident(name))) if d.as_char() == '$' => {
                match captures.get(&name.to_string()) {
                    Some(Capture::One(ts)) => {
                        out.extend(ts.clone());
                        i += 2;
                    }
                    _ => {
                        out.push(tokens[i].clone());
                        i += 1;
                    }
                }
            }
            (TokenTree::Punct(d), Some(TokenTree::Group(g)))
                if d.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
            {
                let (sep, _, next) = repetition(&tokens, i + 2);
                let used = vars_in(g.stream());
                let rounds = used
                    .iter()
                    .filter_map(|v| match captures.get(v) {
                        Some(Capture::Many(each)) => Some(each.len()),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(0);
                for k in 0..rounds {
                    // (The separator is the token right after the group.)
                    if k > 0
                        && sep.is_some()
                        && let Some(t) = tokens.get(i + 2)
                    {
                        out.push(t.clone());
                    }
                    let mut round = captures.clone();
                    for v in &used {
                        if let Some(Capture::Many(each)) = captures.get(v)
                            && let Some(c) = each.get(k).and_then(|r| r.get(v))
                        {
                            round.insert(v.clone(), c.clone());
                        }
                    }
                    transcribe(g.stream(), &round, out);
                }
                i = next;
            }
            (TokenTree::Group(g), _) => {
                let mut inner = Vec::new();
                transcribe(g.stream(), captures, &mut inner);
                let mut group = Group::new(g.delimiter(), inner.into_iter().collect());
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
                i += 1;
            }
            (other, _) => {
                out.push(other.clone());
                i += 1;
            }
        }
    }
}

/// The `$name`s a transcriber fragment uses.
fn vars_in(stream: TokenStream) -> Vec<String> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match (t, tokens.get(i + 1)) {
            (TokenTree::Punct(d), Some(TokenTree::Ident(name))) if d.as_char() == '$' => out.push(name.to_string()),
            (TokenTree::Group(g), _) => out.extend(vars_in(g.stream())),
            _ => {}
        }
    }
    out
}

/// Every token of `stream` at `span`.
fn respan(stream: TokenStream, span: Span) -> TokenStream {
    stream
        .into_iter()
        .map(|t| match t {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                TokenTree::Group(group)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// Gives each function an expansion defines the position of a distinct token of the
/// invocation (its name, then its arguments), so no two share a location.
fn name_fns<T: ItemPosition>(items: &mut [T], mac: &syn::Macro) {
    let mut spans: Vec<Span> = mac.path.segments.iter().map(|s| s.ident.span()).collect();
    fn leaves(stream: TokenStream, out: &mut Vec<Span>) {
        for t in stream {
            match t {
                TokenTree::Group(g) => leaves(g.stream(), out),
                other => out.push(other.span()),
            }
        }
    }
    leaves(mac.tokens.clone(), &mut spans);
    let mut k = 0;
    for item in items.iter_mut() {
        if let Some(name) = item.fn_name() {
            if let Some(&span) = spans.get(k).or(spans.last()) {
                name.set_span(span);
            }
            k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn expanded(defs: &str, code: &str) -> String {
        let table = MacroTable::of_texts([defs].into_iter());
        let mut file = syn::parse_file(code).unwrap();
        table.expand(&mut file);
        file.to_token_stream().to_string()
    }

    #[test]
    fn item_macros_in_impls_expand_recursively() {
        let defs = r#"
            macro_rules! last { ($table:ident) => { pub fn last(conn: &Conn) -> Self { $table::table.first(conn) } }; }
            macro_rules! insert {
                ($table:ident, $from:ty) => { insert!($table, $from, |x, _conn| Ok(x)); };
                ($table:ident, $from:ty, |$val:ident, $conn:ident | $( $after:tt )+) => {
                    last!($table);
                    pub fn insert(conn: &Conn, new: $from) -> Result<Self> {
                        diesel::insert_into($table::table).values(new).execute(conn)?;
                        let $val = Self::last(conn)?;
                        let $conn = conn;
                        $( $after )+
                    }
                };
            }
        "#;
        let out = expanded(defs, "impl Follow { insert!(follows, NewFollow); }");
        // `last!` writes no row: left as written.
        assert!(out.contains("last ! (follows)"), "{out}");
        assert!(out.contains("pub fn insert (conn : & Conn , new : NewFollow)"), "{out}");
        assert!(out.contains("diesel :: insert_into (follows :: table)"), "{out}");
        assert!(out.contains("let x = Self :: last (conn) ?"), "{out}");
    }

    #[test]
    fn repetitions_unknown_and_ambiguous_macros() {
        let defs = "macro_rules! fns { ($($name:ident),* $(,)?) => { $( pub fn $name() { insert_row() } )* }; }";
        let out = expanded(defs, "fns!(a, b, c,);");
        assert!(out.contains("pub fn a") && out.contains("pub fn b") && out.contains("pub fn c"), "{out}");
        // Not a known macro, or a call that matches no rule: left as written.
        assert!(expanded(defs, "other!(a);").contains("other ! (a)"));
        assert!(
            expanded("macro_rules! one { ($x:ident) => { fn $x() { insert() } }; }", "one!(1);").contains("one ! (1)")
        );
        // A macro that writes no row is not worth expanding.
        assert!(
            expanded("macro_rules! getter { ($x:ident) => { fn $x() {} }; }", "getter!(a);").contains("getter ! (a)")
        );
        // Two different definitions of one name: neither is used.
        let table = MacroTable::of_texts(
            ["macro_rules! m { () => { fn a() { insert() } }; }", "macro_rules! m { () => { fn b() { insert() } }; }"]
                .into_iter(),
        );
        let mut file = syn::parse_file("m!();").unwrap();
        table.expand(&mut file);
        assert!(file.to_token_stream().to_string().contains("m ! ()"));
    }
}
