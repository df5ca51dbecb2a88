//! A small, tree-free model of the expressions rules reason about: literals, paths,
//! calls, method chains, macros like `format!`, with locals already substituted
//! ([`crate::facts::lower`] builds them from syntax). Facts hold `Value`s instead of
//! syntax trees so that trees can be dropped once a file is read, and so a rule can
//! resolve constants and functions across the crate.

use crate::input::source::Loc;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    Str {
        text: String,
        loc: Loc,
    },
    Int {
        value: u128,
        loc: Loc,
    },
    /// A path such as `Ipv4Addr::UNSPECIFIED` or `DEFAULT_LISTEN_ADDR`.
    Path {
        segments: Vec<String>,
        loc: Loc,
    },
    /// `base.name`
    Field {
        base: Box<Value>,
        name: String,
        loc: Loc,
    },
    /// A call of a path (`SocketAddr::from(x)`); `loc` covers the whole call.
    Call {
        callee: Vec<String>,
        args: Vec<Value>,
        loc: Loc,
    },
    /// `receiver.method(args)`; `loc` is the method name.
    Method {
        receiver: Box<Value>,
        method: String,
        args: Vec<Value>,
        loc: Loc,
    },
    /// `format!`, `concat!`, `env!`, `option_env!` with their parsed arguments; named
    /// arguments and captured identifiers appear as [`Value::Local`]s.
    Macro {
        name: String,
        args: Vec<Value>,
        loc: Loc,
    },
    Tuple {
        elems: Vec<Value>,
        loc: Loc,
    },
    Array {
        elems: Vec<Value>,
        loc: Loc,
    },
    /// A closure; only its body's value matters here.
    Closure {
        body: Box<Value>,
    },
    /// A local binding (or a named macro argument) resolved to its initializer;
    /// `loc` is the binding's name.
    Local {
        name: String,
        loc: Loc,
        value: Box<Value>,
    },
    /// One of several values (`if`/`match` arms).
    Branches {
        arms: Vec<Value>,
    },
    Opaque,
}

impl Value {
    /// The callee's last path segment, or the method name.
    pub fn call_name(&self) -> Option<&str> {
        match self {
            Value::Call { callee, .. } => callee.last().map(String::as_str),
            Value::Method { method, .. } => Some(method),
            Value::Macro { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Whether this tree has more than `limit` nodes (stops counting past it).
    pub fn size_exceeds(&self, limit: usize) -> bool {
        fn count(v: &Value, budget: &mut usize) -> bool {
            if *budget == 0 {
                return true;
            }
            *budget -= 1;
            let children: Vec<&Value> = match v {
                Value::Field { base, .. } => vec![base],
                Value::Call { args, .. } | Value::Macro { args, .. } => args.iter().collect(),
                Value::Method { receiver, args, .. } => std::iter::once(&**receiver).chain(args).collect(),
                Value::Tuple { elems, .. } | Value::Array { elems, .. } | Value::Branches { arms: elems } => {
                    elems.iter().collect()
                }
                Value::Closure { body } => vec![body],
                Value::Local { value, .. } => vec![value],
                Value::Str { .. } | Value::Int { .. } | Value::Path { .. } | Value::Opaque => vec![],
            };
            children.into_iter().any(|c| count(c, budget))
        }
        let mut budget = limit;
        count(self, &mut budget)
    }

    /// Every identifier, method, field and string literal along a receiver chain:
    /// the words that tell what a value is about (`env::var("LISTEN_ADDR")` →
    /// `env`, `var`, `LISTEN_ADDR`).
    pub fn names(&self, out: &mut Vec<String>) {
        match self {
            Value::Str { text, .. } => out.push(text.clone()),
            Value::Path { segments, .. } => out.extend(segments.iter().cloned()),
            Value::Field { base, name, .. } => {
                base.names(out);
                out.push(name.clone());
            }
            Value::Call { callee, args, .. } => {
                out.extend(callee.iter().cloned());
                args.iter().for_each(|a| a.names(out));
            }
            Value::Method { receiver, method, args, .. } => {
                receiver.names(out);
                out.push(method.clone());
                args.iter().for_each(|a| a.names(out));
            }
            Value::Macro { name, args, .. } => {
                out.push(name.clone());
                args.iter().for_each(|a| a.names(out));
            }
            Value::Local { name, value, .. } => {
                out.push(name.clone());
                value.names(out);
            }
            Value::Tuple { elems, .. } | Value::Array { elems, .. } | Value::Branches { arms: elems } => {
                elems.iter().for_each(|a| a.names(out))
            }
            Value::Closure { body } => body.names(out),
            Value::Int { .. } | Value::Opaque => {}
        }
    }
}

/// Macros that make one string at compile time, from literals and constants:
/// `concat!`, and const_format's `concatcp!` and `formatcp!` (a `format!` template
/// filled with constants). (`stringify!` is lowered to the text of its tokens.)
pub const COMPILE_TIME_STRING_MACROS: &[&str] = &["concat", "concatcp", "formatcp"];

/// How deep [`Value::compile_time_text`] follows pieces (a constant made of
/// constants made of constants…).
const MAX_TEXT_DEPTH: usize = 8;

impl Value {
    /// The text a string known at compile time is: a literal, or a
    /// [`COMPILE_TIME_STRING_MACROS`] call of such pieces, joined (nested calls
    /// included). A piece of another kind (a constant's path) is read by `piece`;
    /// `None` when a piece is not known.
    pub fn compile_time_text(&self, piece: &mut dyn FnMut(&Value) -> Option<String>) -> Option<String> {
        self.compile_time_text_at(piece, 0)
    }

    fn compile_time_text_at(&self, piece: &mut dyn FnMut(&Value) -> Option<String>, depth: usize) -> Option<String> {
        if depth > MAX_TEXT_DEPTH {
            return None;
        }
        match self {
            Value::Str { text, .. } => Some(text.clone()),
            Value::Int { value, .. } => Some(value.to_string()),
            Value::Macro { name, args, .. } if name == "concat" || name == "concatcp" => {
                args.iter().map(|a| a.compile_time_text_at(piece, depth + 1)).collect()
            }
            // (`format!` too: its holes that are not constants are read by `piece`.)
            Value::Macro { name, args, .. } if name == "formatcp" || name == "format" || name == "format_args" => {
                let (Value::Str { text: template, .. }, rest) = args.split_first()? else { return None };
                let positional: Vec<&Value> = rest.iter().filter(|a| !matches!(a, Value::Local { .. })).collect();
                let mut next = 0;
                let mut out = String::new();
                for p in format_pieces(template) {
                    match p {
                        FormatPiece::Text(t) => out.push_str(&t),
                        FormatPiece::Placeholder(key) => {
                            let arg = format_arg(key.as_deref(), &positional, rest, &mut next)?;
                            out.push_str(&arg.compile_time_text_at(piece, depth + 1)?);
                        }
                    }
                }
                Some(out)
            }
            Value::Local { value, .. } => value.compile_time_text_at(piece, depth + 1),
            other => piece(other),
        }
    }
}

/// The argument a `{…}` of a `format!`-like template takes (`key`: what the braces
/// name, `None` for the next positional one): the next of `positional`, one of them
/// by position (`{0}`), or the named one among `args` (`name = value`, or a captured
/// local: [`Value::Local`]s). `next` counts the positional ones taken so far.
pub fn format_arg<'v>(
    key: Option<&str>,
    positional: &[&'v Value],
    args: &'v [Value],
    next: &mut usize,
) -> Option<&'v Value> {
    match key {
        None => {
            *next += 1;
            positional.get(*next - 1).copied()
        }
        Some(key) => match key.parse::<usize>() {
            Ok(i) => positional.get(i).copied(),
            Err(_) => args.iter().find(|a| matches!(a, Value::Local { name, .. } if name == key)),
        },
    }
}

/// Identifiers named inside `{…}` placeholders of a format string.
pub fn captured_names(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in format_pieces(template) {
        if let FormatPiece::Placeholder(Some(arg)) = piece
            && arg.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && !out.contains(&arg)
        {
            out.push(arg);
        }
    }
    out
}

#[derive(Debug, PartialEq, Eq)]
pub enum FormatPiece {
    Text(String),
    /// The argument named or numbered in `{…}`; `None` for the next positional.
    Placeholder(Option<String>),
}

/// Splits a `format!` template into text and placeholders (`{{`/`}}` are text).
pub fn format_pieces(template: &str) -> Vec<FormatPiece> {
    format_pieces_at(template).into_iter().map(|(piece, _)| piece).collect()
}

/// [`format_pieces`], each with the byte offset in the template where it starts (a
/// text's `{`/`}` are written doubled there).
pub fn format_pieces_at(template: &str) -> Vec<(FormatPiece, usize)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut text_start = 0;
    let mut chars = template.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if text.is_empty() {
            text_start = at;
        }
        match c {
            '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut inner = String::new();
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    inner.push(c);
                }
                if !text.is_empty() {
                    out.push((FormatPiece::Text(std::mem::take(&mut text)), text_start));
                }
                let arg = inner.split(':').next().unwrap_or("").trim().to_string();
                out.push((FormatPiece::Placeholder(if arg.is_empty() { None } else { Some(arg) }), at));
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push((FormatPiece::Text(text), text_start));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_time_texts_join_their_pieces() {
        let src = crate::input::source::SourceFile::new("a.rs".into(), String::new());
        let mut lowerer = crate::facts::lower::Lowerer::new(0, &src);
        let mut text = |mac: &str, piece: &mut dyn FnMut(&Value) -> Option<String>| {
            let mac: syn::Macro = syn::parse_str(mac).unwrap();
            lowerer.lower_macro(&mac, 0).compile_time_text(piece)
        };
        let constant = &mut |v: &Value| match v {
            Value::Path { segments, .. } if segments == &["GUARD"] => Some(" ON CONFLICT DO NOTHING".to_string()),
            _ => None,
        };
        assert_eq!(
            text(r#"concat!("INSERT INTO ", stringify!(workspaces), " (id) VALUES (", 1, ")")"#, constant).as_deref(),
            Some("INSERT INTO workspaces (id) VALUES (1)")
        );
        assert_eq!(
            text(r#"const_format::concatcp!("INSERT INTO t (id) VALUES ($1)", GUARD)"#, constant).as_deref(),
            Some("INSERT INTO t (id) VALUES ($1) ON CONFLICT DO NOTHING")
        );
        assert_eq!(
            text(r#"formatcp!("INSERT INTO {} (id) VALUES ($1){GUARD}", "t")"#, constant).as_deref(),
            Some("INSERT INTO t (id) VALUES ($1) ON CONFLICT DO NOTHING")
        );
        // A piece not known, and a macro that is not a compile-time string.
        assert_eq!(text(r#"concatcp!("INSERT INTO ", TABLE)"#, constant), None);
        assert_eq!(text(r#"format!("INSERT INTO {}", table)"#, constant), None);
    }

    #[test]
    fn format_templates_split_into_text_and_placeholders() {
        use FormatPiece::*;
        assert_eq!(
            format_pieces("{{x}}{}:{port:>5}{0}"),
            vec![
                Text("{x}".into()),
                Placeholder(None),
                Text(":".into()),
                Placeholder(Some("port".into())),
                Placeholder(Some("0".into()))
            ]
        );
        assert_eq!(captured_names("{host}:{port} {0} {}"), vec!["host", "port"]);
        let starts: Vec<usize> = format_pieces_at("{{x}}{}:{port:>5}é{0}").into_iter().map(|(_, at)| at).collect();
        assert_eq!(starts, [0, 5, 7, 8, 17, 19]);
    }
}
