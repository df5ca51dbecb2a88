//! A small, tree-free model of the expressions rules reason about: literals, paths,
//! calls, method chains, macros like `format!`, with locals already substituted
//! ([`crate::facts::lower`] builds them from syntax). Facts hold `Value`s instead of
//! syntax trees so that trees can be dropped once a file is read, and so a rule can
//! resolve constants and functions across the crate.

use crate::input::source::Loc;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
