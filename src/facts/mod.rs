//! Per-file facts: what the rules need to know about one file once its syntax tree
//! is gone. Shared facts (constants, functions, suppression comments) are read here
//! and feed the crate-wide [`index`]; each rule's own facts are read by the rule's
//! extractor and kept type-erased in [`FileFacts::rules`], by registry slot.

pub mod defs;
pub mod index;
pub mod lower;
pub mod names;
pub mod schema;
pub mod sea_orm;
pub mod sql;
pub mod sql_texts;
pub mod suppressions;
pub mod test_code;
pub mod value;

use crate::facts::lower::Lowerer;
use crate::facts::value::Value;
use crate::input::parse::ParsedFile;
use crate::input::source::{FileId, Loc, SourceFile};
use serde::{Deserialize, Serialize};
use syn::visit::Visit;

/// Macros that write a log line (`tracing::info!`, `log::warn!`, `println!`): what
/// they are given is shown to people, not acted on.
pub const LOG_MACROS: &[&str] = &[
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "event",
    "span",
    "info_span",
    "warn_span",
    "error_span",
    "debug_span",
    "trace_span",
    "log",
    "println",
    "eprintln",
    "print",
    "eprint",
];

/// Macros that make a message for people out of their arguments: a panic, an
/// assertion, an error (`bail!`, `anyhow!`, `context!`).
pub const MESSAGE_MACROS: &[&str] = &[
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
    "todo",
    "unimplemented",
    "anyhow",
    "bail",
    "ensure",
    "format_err",
    "context",
];

/// A `const` or `static` and the value of its initializer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConstFact {
    pub name: String,
    pub name_loc: Loc,
    pub value: Value,
}

/// A function or method and the value it returns (its tail expression).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FnFact {
    pub name: String,
    pub name_loc: Loc,
    /// The `impl` block's type, for methods.
    pub self_type: Option<String>,
    /// `None` when nothing could come of it (most functions): see [`FnFact::returns`].
    returns: Option<Box<Value>>,
}

static OPAQUE: Value = Value::Opaque;

impl FnFact {
    /// The value the function returns, when a rule kept it (see [`ReturnFilter`]).
    pub fn returns(&self) -> &Value {
        self.returns.as_deref().unwrap_or(&OPAQUE)
    }
}

/// What the rules know of one file.
#[derive(Debug, Default)]
pub struct FileFacts {
    pub consts: Vec<ConstFact>,
    pub fns: Vec<FnFact>,
    /// `// gatelint: allow(…)` directives.
    pub suppressions: Vec<suppressions::Suppression>,
    /// Where the file's items live ([`names`]).
    pub names: names::FileNames,
    /// The byte ranges of its test items, when tests are checked ([`test_code`]).
    pub test_items: Vec<(u32, u32)>,
    /// The SQL statements it writes out, for the schema rules ([`sql_texts`]).
    pub sql: sql_texts::SqlTexts,
    /// Each rule's own facts, by registry slot (`None`: the rule is not active or
    /// recorded nothing).
    pub rules: Vec<Option<Box<dyn std::any::Any + Send + Sync>>>,
}

/// The facts every rule may read, stored as they are in the facts cache.
#[derive(Serialize, Deserialize)]
pub struct SharedFacts {
    pub consts: Vec<ConstFact>,
    pub fns: Vec<FnFact>,
    pub suppressions: Vec<suppressions::Suppression>,
    pub names: names::FileNames,
    pub test_items: Vec<(u32, u32)>,
    pub sql: sql_texts::SqlTexts,
}

/// Which function return values to keep: `None` lowers no function body; otherwise
/// a value is kept when the predicate accepts it (only rules that read return
/// values need them, and most functions return nothing they could use).
pub type ReturnFilter<'a> = Option<&'a (dyn Fn(&Value) -> bool + Sync)>;

/// Reads one parsed file's shared facts (its rules' facts are added by the engine).
/// The syntax tree is not kept.
pub fn extract(file: FileId, source: &SourceFile, parsed: &ParsedFile, returns: ReturnFilter) -> SharedFacts {
    let syntax = &parsed.syntax;
    let mut items = ItemCollector {
        lowerer: Lowerer::new(file, source),
        returns,
        consts: Vec::new(),
        fns: Vec::new(),
        self_types: Vec::new(),
    };
    items.visit_file(syntax);
    items.fns.shrink_to_fit();
    items.consts.shrink_to_fit();
    // Only `allow-file` directives need it, and it tokenises the whole first item.
    let wants_first_item = parsed.comments.iter().any(|c| c.body.contains("allow-file"));
    let first_item_line = syntax.items.first().filter(|_| wants_first_item).map_or(usize::MAX, |item| {
        use quote::ToTokens;
        item.to_token_stream().into_iter().next().map_or(usize::MAX, |t| t.span().start().line)
    });
    let mut suppressions = suppressions::directives(file, source, &parsed.comments, first_item_line);
    suppressions::statements(&mut suppressions, source, &parsed.comments, syntax);
    let names = names::collect(file, source, syntax);
    let test_items = test_code::ranges(file, source, syntax);
    let sql = sql_texts::collect(file, source, syntax);
    SharedFacts { consts: items.consts, fns: items.fns, suppressions, names, test_items, sql }
}

impl FileFacts {
    /// A file's facts from its shared facts and its rules' (by registry slot).
    pub fn new(shared: SharedFacts, rules: Vec<Option<Box<dyn std::any::Any + Send + Sync>>>) -> FileFacts {
        let SharedFacts { consts, fns, suppressions, names, test_items, sql } = shared;
        FileFacts { consts, fns, suppressions, names, test_items, sql, rules }
    }
}

struct ItemCollector<'a> {
    lowerer: Lowerer<'a>,
    returns: ReturnFilter<'a>,
    consts: Vec<ConstFact>,
    fns: Vec<FnFact>,
    self_types: Vec<Option<String>>,
}

impl ItemCollector<'_> {
    fn push_const(&mut self, ident: &syn::Ident, expr: &syn::Expr) {
        let saved = std::mem::take(&mut self.lowerer.scope);
        let value = self.lowerer.lower(expr);
        self.lowerer.scope = saved;
        let name_loc = self.lowerer.span_loc(ident.span());
        self.consts.push(ConstFact { name: ident.to_string(), name_loc, value });
    }

    fn push_fn(&mut self, sig: &syn::Signature, block: &syn::Block) {
        // A function without a return type returns `()`; otherwise only values a
        // rule could use are kept. Every function keeps its name and location (the
        // allowlist checks that names exist).
        let returns = match (self.returns, &sig.output) {
            (Some(keep), syn::ReturnType::Type(_, ty)) if !holds_no_address(ty) => {
                let saved = std::mem::take(&mut self.lowerer.scope);
                let value = self.lowerer.lower_block(block, 0);
                self.lowerer.scope = saved;
                keep(&value).then(|| Box::new(value))
            }
            _ => None,
        };
        let name_loc = self.lowerer.span_loc(sig.ident.span());
        let self_type = self.self_types.last().cloned().flatten();
        self.fns.push(FnFact { name: sig.ident.to_string(), name_loc, self_type, returns });
    }
}

impl<'ast> Visit<'ast> for ItemCollector<'_> {
    // Types and attributes hold nothing these facts come from: not walked.
    fn visit_type(&mut self, _: &'ast syn::Type) {}
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_item_const(&mut self, i: &'ast syn::ItemConst) {
        self.push_const(&i.ident, &i.expr);
        syn::visit::visit_item_const(self, i);
    }
    fn visit_item_static(&mut self, i: &'ast syn::ItemStatic) {
        self.push_const(&i.ident, &i.expr);
        syn::visit::visit_item_static(self, i);
    }
    fn visit_impl_item_const(&mut self, i: &'ast syn::ImplItemConst) {
        self.push_const(&i.ident, &i.expr);
        syn::visit::visit_impl_item_const(self, i);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        for item in crate::facts::lower::lazy_static_items(m) {
            self.visit_item(&item);
        }
    }
    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        self.push_fn(&i.sig, &i.block);
        self.self_types.push(None);
        syn::visit::visit_item_fn(self, i);
        self.self_types.pop();
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.self_types.push(type_name(&i.self_ty));
        syn::visit::visit_item_impl(self, i);
        self.self_types.pop();
    }
    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        self.push_fn(&i.sig, &i.block);
        syn::visit::visit_impl_item_fn(self, i);
    }
}

/// Whether a declared return type can never hold a listen address: `()`, `!`,
/// numbers, `bool`, `char`, `Ordering`, and `Result`/`Option`/`Poll` of those
/// (`anyhow::Result<()>`, `fmt::Result`). Such functions' bodies are not lowered.
fn holds_no_address(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Tuple(t) => t.elems.is_empty(),
        syn::Type::Never(_) => true,
        syn::Type::Paren(p) => holds_no_address(&p.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else { return false };
            let first_arg = match &last.arguments {
                syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                }),
                _ => None,
            };
            let name = last.ident.to_string();
            match name.as_str() {
                "bool" | "char" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64"
                | "i128" | "isize" | "f32" | "f64" | "Ordering" => true,
                // `fmt::Result` has no arguments: `Result<(), fmt::Error>`. Another
                // `Result` without arguments is an alias that could hold anything.
                "Result" => match first_arg {
                    Some(t) => holds_no_address(t),
                    None => p.path.segments.iter().rev().nth(1).is_some_and(|s| s.ident == "fmt"),
                },
                "Option" | "Poll" => first_arg.is_some_and(holds_no_address),
                _ => false,
            }
        }
        _ => false,
    }
}

/// The last path segment of a type (`crate::Config<T>` → `Config`).
pub fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::holds_no_address;

    #[test]
    fn return_types_that_cannot_hold_an_address() {
        let ty = |s: &str| syn::parse_str::<syn::Type>(s).unwrap();
        for no in [
            "()",
            "!",
            "bool",
            "u16",
            "anyhow::Result<()>",
            "Result<(), Error>",
            "fmt::Result",
            "Option<u16>",
            "Poll<()>",
        ] {
            assert!(holds_no_address(&ty(no)), "{no}");
        }
        for maybe in [
            "String",
            "&'static str",
            "SocketAddr",
            "Result<String>",
            "Option<SocketAddr>",
            "(String, u16)",
            "Self",
            "T",
        ] {
            assert!(!holds_no_address(&ty(maybe)), "{maybe}");
        }
    }
}
