//! Where a file's items live, as Rust names them: its module scopes (the file and
//! its inline `mod`s), the `mod x;` declarations that bring in other files, `use`
//! declarations, `impl` blocks, types (with their fields' types) and the functions and
//! constants in each. The crate-wide [`super::defs`] joins the files' trees into
//! modules and resolves paths with them. Syntax only: macro-generated items are not
//! seen.

use crate::input::source::{FileId, Loc, SourceFile};
use serde::{Deserialize, Serialize};

/// A module scope of the file: the file itself (index 0) or an inline `mod`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ScopeFact {
    pub name: String,
    pub parent: Option<u32>,
    /// Byte range of the inline module's body (the whole file for index 0).
    pub start: u32,
    pub end: u32,
    pub uses: Vec<UseFact>,
    /// `mod x;` (another file) and `mod x { … }` (`inline`: its scope index).
    pub mods: Vec<ModDecl>,
    /// The module's directory for `mod x;` inside it, when `#[path]` moves it.
    pub path_attr: Option<String>,
    /// A function body that declares items or `use`s: a scope of its own whose names
    /// shadow the enclosing module's, and which sees the module's names.
    pub block: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModDecl {
    pub name: String,
    /// `#[path = "…"]`.
    pub path_attr: Option<String>,
    pub inline: Option<u32>,
    /// `#[cfg(test)]`: the module is test code.
    pub test: bool,
}

/// One name a `use` brings in: `use a::b as c;` → alias `c`, path `[a, b]`; a glob
/// `use a::*;` has no alias; `use a::Trait as _;` has the alias `_`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseFact {
    pub alias: Option<String>,
    pub path: Vec<String>,
}

/// A type as written, with references and the wrappers a method call sees through
/// (`&`, `Arc`, `Box`, `Option`, extractors such as `State`) removed: its path.
pub type TypePath = Vec<String>;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImplFact {
    pub start: u32,
    pub end: u32,
    pub scope: u32,
    pub self_ty: Option<TypePath>,
    /// `impl Trait for Type`: the trait's path.
    pub trait_path: Option<TypePath>,
    /// The first trait bound of each generic parameter (`impl<S: Store> …`, `where S: Store`).
    pub bounds: Vec<(String, TypePath)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypeKind {
    Struct,
    Enum,
    Trait,
    Alias,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TypeFact {
    pub name: String,
    pub loc: Loc,
    pub scope: u32,
    pub kind: TypeKind,
    /// Fields and their types (structs: by name, a tuple struct's by position `"0"`;
    /// enums: their variants' as `Variant.name`, `Variant.0`); the aliased type (`type
    /// A = B;`, one entry named ""); a trait's supertraits (entries named "").
    pub fields: Vec<(String, TypePath)>,
    /// The fields that hold values of another type (`Option<Repo>`, `Vec<Job>`): that type.
    pub held: Vec<(String, TypePath)>,
}

/// Who a function belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owner {
    /// A free function of its scope.
    Module,
    /// A method or associated function of `impls[i]`.
    Impl(u32),
    /// A method of the trait `types[i]` (`has_body`: a default method).
    Trait { ty: u32, has_body: bool },
    /// A function inside another function's body: an item of that body's block scope,
    /// named only there.
    Local,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FnDef {
    pub name: Box<str>,
    pub loc: Loc,
    pub scope: u32,
    pub owner: Owner,
    pub has_self: bool,
    /// Parameters, not counting `self`.
    pub params: u16,
    /// The type it returns, as a method call on the result sees it (see
    /// [`type_path`]), and what that `Option`/`Result` holds (see [`held_type`]).
    pub returns: Option<TypePath>,
    pub returns_held: Option<TypePath>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConstDef {
    pub name: Box<str>,
    pub loc: Loc,
    pub scope: u32,
    /// An associated constant: its `impl`.
    pub impl_of: Option<u32>,
    /// Its value, when it is written as `true` or `false` (a per-type switch a trait's
    /// default method branches on: `const DEDUPLICATED: bool = true;`).
    pub flag: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileNames {
    pub scopes: Vec<ScopeFact>,
    pub impls: Vec<ImplFact>,
    /// Trait definitions' byte ranges and type indexes: `Self` inside one is the trait.
    pub traits: Vec<(u32, u32, u32)>,
    pub types: Vec<TypeFact>,
    pub fns: Vec<FnDef>,
    pub consts: Vec<ConstDef>,
}

impl FileNames {
    /// The innermost scope holding byte `offset`.
    pub fn scope_at(&self, offset: u32) -> u32 {
        let mut best = 0;
        for (i, s) in self.scopes.iter().enumerate().skip(1) {
            if s.start <= offset && offset < s.end && s.end - s.start <= self.scopes[best].end - self.scopes[best].start
            {
                best = i;
            }
        }
        best as u32
    }

    /// The trait definition holding byte `offset` (its type index).
    pub fn trait_at(&self, offset: u32) -> Option<u32> {
        self.traits.iter().find(|(start, end, _)| *start <= offset && offset < *end).map(|&(_, _, ty)| ty)
    }

    /// The innermost `impl` block holding byte `offset`.
    pub fn impl_at(&self, offset: u32) -> Option<u32> {
        let holding = self.impls.iter().enumerate().filter(|(_, i)| i.start <= offset && offset < i.end);
        holding.min_by_key(|(_, i)| i.end - i.start).map(|(k, _)| k as u32)
    }
}

/// Reads a file's item tree.
pub fn collect(file: FileId, source: &SourceFile, syntax: &syn::File) -> FileNames {
    let mut c = Collector { file, source, out: FileNames::default() };
    let len = u32::try_from(source.text().len()).unwrap_or(u32::MAX);
    c.out.scopes.push(ScopeFact { end: len, ..Default::default() });
    c.items(&syntax.items, 0, false);
    // Kept for the whole run, for every file: no growth slack.
    let out = &mut c.out;
    out.scopes.iter_mut().for_each(|s| {
        s.uses.shrink_to_fit();
        s.mods.shrink_to_fit();
    });
    out.scopes.shrink_to_fit();
    out.impls.shrink_to_fit();
    out.traits.shrink_to_fit();
    out.types.shrink_to_fit();
    out.fns.shrink_to_fit();
    out.consts.shrink_to_fit();
    c.out
}

struct Collector<'a> {
    file: FileId,
    source: &'a SourceFile,
    out: FileNames,
}

impl Collector<'_> {
    fn loc(&self, span: proc_macro2::Span) -> Loc {
        self.source.span_loc(self.file, span, span)
    }

    fn range(&self, open: proc_macro2::Span, close: proc_macro2::Span) -> (u32, u32) {
        let loc = self.source.span_loc(self.file, open, close);
        (loc.start, loc.end)
    }

    /// The items of scope `scope`; `local`: inside a function body.
    fn items(&mut self, items: &[syn::Item], scope: u32, local: bool) {
        for item in items {
            self.item(item, scope, local);
        }
    }

    fn item(&mut self, item: &syn::Item, scope: u32, local: bool) {
        match item {
            syn::Item::Fn(f) => {
                let owner = if local { Owner::Local } else { Owner::Module };
                self.push_fn(&f.sig, scope, owner);
                self.block_items(&f.block, scope);
            }
            syn::Item::Const(c) => self.push_const(&c.ident, scope, None, None),
            syn::Item::Static(s) => self.push_const(&s.ident, scope, None, None),
            syn::Item::Mod(m) => self.module(m, scope),
            syn::Item::Use(u) => self.out.scopes[scope as usize].uses.extend(use_facts(u)),
            syn::Item::Struct(s) => {
                // Named fields by name, a tuple struct's by position (`"0"`).
                let named =
                    |f: (usize, &syn::Field)| f.1.ident.as_ref().map_or_else(|| f.0.to_string(), |i| i.to_string());
                let held: Vec<(String, TypePath)> =
                    s.fields.iter().enumerate().filter_map(|f| Some((named(f), held_type(&f.1.ty)?))).collect();
                let fields =
                    s.fields.iter().enumerate().filter_map(|f| Some((named(f), type_path(&f.1.ty)?))).collect();
                let at = self.push_type(&s.ident, scope, TypeKind::Struct, fields);
                self.out.types[at as usize].held = held;
            }
            syn::Item::Enum(e) => {
                // What the variants hold, by `Variant.field` (`Variant.0` by position): a
                // payload whose type has no path (a tuple, an array) as `_`, which names nothing.
                let payload: Vec<(String, &syn::Type)> = e
                    .variants
                    .iter()
                    .flat_map(|v| {
                        v.fields.iter().enumerate().map(move |(i, f)| {
                            let field = f.ident.as_ref().map_or_else(|| i.to_string(), ToString::to_string);
                            (format!("{}.{field}", v.ident), &f.ty)
                        })
                    })
                    .collect();
                let held = payload.iter().filter_map(|(n, ty)| Some((n.clone(), held_type(ty)?))).collect();
                let fields = payload
                    .into_iter()
                    .map(|(n, ty)| (n, type_path(ty).unwrap_or_else(|| vec!["_".to_string()])))
                    .collect();
                let at = self.push_type(&e.ident, scope, TypeKind::Enum, fields);
                self.out.types[at as usize].held = held;
            }
            syn::Item::Type(t) => {
                let fields = type_path(&t.ty).map(|p| vec![(String::new(), p)]).unwrap_or_default();
                self.push_type(&t.ident, scope, TypeKind::Alias, fields);
            }
            syn::Item::Trait(t) => {
                // (Its supertraits, entries named "": a `dyn Repo` receiver has their methods.)
                let supertraits = t
                    .supertraits
                    .iter()
                    .filter_map(|b| match b {
                        syn::TypeParamBound::Trait(t) => Some((String::new(), crate::facts::lower::segments(&t.path))),
                        _ => None,
                    })
                    .collect();
                let ty = self.push_type(&t.ident, scope, TypeKind::Trait, supertraits);
                let (start, end) = self.range(t.trait_token.span, t.brace_token.span.close());
                self.out.traits.push((start, end, ty));
                for ti in &t.items {
                    if let syn::TraitItem::Fn(f) = ti {
                        self.push_fn(&f.sig, scope, Owner::Trait { ty, has_body: f.default.is_some() });
                        if let Some(b) = &f.default {
                            self.block_items(b, scope);
                        }
                    }
                }
            }
            syn::Item::Impl(i) => self.impl_block(i, scope),
            syn::Item::Macro(m) => {
                for inner in crate::facts::lower::lazy_static_items(&m.mac) {
                    self.item(&inner, scope, local);
                }
            }
            _ => {}
        }
    }

    fn module(&mut self, m: &syn::ItemMod, scope: u32) {
        let path_attr = m.attrs.iter().find(|a| a.path().is_ident("path")).and_then(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        });
        let name = m.ident.to_string();
        let inline = m.content.as_ref().map(|(brace, items)| {
            let (start, end) = self.range(brace.span.open(), brace.span.close());
            let child = self.out.scopes.len() as u32;
            self.out.scopes.push(ScopeFact {
                name: name.clone(),
                parent: Some(scope),
                start,
                end,
                path_attr: path_attr.clone(),
                ..Default::default()
            });
            self.items(items, child, false);
            child
        });
        let test = m.attrs.iter().any(crate::input::parse::is_cfg_test);
        self.out.scopes[scope as usize].mods.push(ModDecl { name, path_attr, inline, test });
    }

    fn impl_block(&mut self, i: &syn::ItemImpl, scope: u32) {
        let (start, end) = self.range(i.impl_token.span, i.brace_token.span.close());
        let at = self.out.impls.len() as u32;
        // A blanket `impl<T> Trait for T` names no type: its methods belong to the trait.
        let generic = |p: &TypePath| p.len() == 1 && i.generics.type_params().any(|g| g.ident == p[0]);
        let self_ty = type_path(&i.self_ty).filter(|p| !generic(p));
        let trait_path = i.trait_.as_ref().map(|(_, path, _)| crate::facts::lower::segments(path));
        self.out.impls.push(ImplFact { start, end, scope, self_ty, trait_path, bounds: trait_bounds(&i.generics) });
        for item in &i.items {
            match item {
                syn::ImplItem::Fn(f) => {
                    self.push_fn(&f.sig, scope, Owner::Impl(at));
                    self.block_items(&f.block, scope);
                }
                syn::ImplItem::Const(c) => self.push_const(&c.ident, scope, Some(at), bool_literal(&c.expr)),
                _ => {}
            }
        }
    }

    /// Items declared inside a function body (local functions, `use`s, constants,
    /// impls of local types): a block scope of their own (see [`ScopeFact::block`]).
    fn block_items(&mut self, block: &syn::Block, scope: u32) {
        let mut items = block.stmts.iter().filter_map(|s| match s {
            syn::Stmt::Item(item) => Some(item),
            _ => None,
        });
        let Some(first) = items.next() else { return };
        let (start, end) = self.range(block.brace_token.span.open(), block.brace_token.span.close());
        let inner = self.out.scopes.len() as u32;
        self.out.scopes.push(ScopeFact { parent: Some(scope), start, end, block: true, ..Default::default() });
        for item in std::iter::once(first).chain(items) {
            self.item(item, inner, true);
        }
    }

    fn push_fn(&mut self, sig: &syn::Signature, scope: u32, owner: Owner) {
        let has_self = sig.inputs.iter().any(|a| matches!(a, syn::FnArg::Receiver(_)));
        let params = sig.inputs.iter().filter(|a| matches!(a, syn::FnArg::Typed(_))).count();
        let loc = self.loc(sig.ident.span());
        let params = u16::try_from(params).unwrap_or(u16::MAX);
        let (returns, returns_held) = match &sig.output {
            syn::ReturnType::Type(_, ty) => (type_path(ty), held_type(ty)),
            syn::ReturnType::Default => (None, None),
        };
        self.out.fns.push(FnDef {
            name: sig.ident.to_string().into(),
            loc,
            scope,
            owner,
            has_self,
            params,
            returns,
            returns_held,
        });
    }

    fn push_const(&mut self, ident: &syn::Ident, scope: u32, impl_of: Option<u32>, flag: Option<bool>) {
        let loc = self.loc(ident.span());
        self.out.consts.push(ConstDef { name: ident.to_string().into(), loc, scope, impl_of, flag });
    }

    fn push_type(&mut self, ident: &syn::Ident, scope: u32, kind: TypeKind, fields: Vec<(String, TypePath)>) -> u32 {
        let loc = self.loc(ident.span());
        self.out.types.push(TypeFact { name: ident.to_string(), loc, scope, kind, fields, held: Vec::new() });
        self.out.types.len() as u32 - 1
    }
}

/// `true` or `false` written as such.
fn bool_literal(expr: &syn::Expr) -> Option<bool> {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) => Some(b.value),
        _ => None,
    }
}

/// The names a `use` item brings in, one [`UseFact`] each (see [`use_tree`]).
pub fn use_facts(u: &syn::ItemUse) -> Vec<UseFact> {
    let mut uses = Vec::new();
    // `use ::store::x;`: a crate (an empty first segment).
    let mut prefix = u.leading_colon.map(|_| vec![String::new()]).unwrap_or_default();
    use_tree(&u.tree, &mut prefix, &mut uses);
    uses
}

/// Flattens a `use` tree into one [`UseFact`] per name it brings in. `use a::{self}`
/// brings in `a`; `use a::b as _` brings in nothing nameable.
fn use_tree(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseFact>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_tree(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                if let Some(last) = prefix.last() {
                    out.push(UseFact { alias: Some(last.clone()), path: prefix.clone() });
                }
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                out.push(UseFact { alias: Some(name), path });
            }
        }
        syn::UseTree::Rename(r) => {
            // (`as _` brings a trait's methods into scope under no name: kept as `_`.)
            let alias = r.rename.to_string();
            let mut path = prefix.clone();
            let name = r.ident.to_string();
            if name != "self" {
                path.push(name);
            }
            out.push(UseFact { alias: Some(alias), path });
        }
        syn::UseTree::Glob(_) => out.push(UseFact { alias: None, path: prefix.clone() }),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_tree(t, prefix, out);
            }
        }
    }
}

/// Wrappers a method call sees through (they dereference to what they hold):
/// `Arc<Repo>` calls `Repo`'s methods, and so do the web frameworks' extractors
/// (`State<AppState>`, `web::Data<Db>`), locks and their guards (`Mutex<Repo>`: a
/// receiver's `.lock()`, `.read()`, `.write()` are seen through too). `Option<Repo>` does not: its methods are
/// `Option`'s (`slot.insert(repo)`).
const TRANSPARENT: &[&str] = &[
    "Arc",
    "Rc",
    "Box",
    "State",
    "Data",
    "Extension",
    "Json",
    "ManuallyDrop",
    "Pin",
    "Mutex",
    "RwLock",
    "MutexGuard",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    "RefCell",
    "Ref",
    "RefMut",
];

/// The path of a type as a method call sees it (see [`TRANSPARENT`]); `dyn Trait` and
/// `impl Trait` give the trait's path. `None` for tuples, slices, arrays, functions.
pub fn type_path(ty: &syn::Type) -> Option<TypePath> {
    match ty {
        syn::Type::Reference(r) => type_path(&r.elem),
        syn::Type::Paren(p) => type_path(&p.elem),
        syn::Type::Group(g) => type_path(&g.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if TRANSPARENT.contains(&last.ident.to_string().as_str())
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) =
                    args.args.iter().find(|a| matches!(a, syn::GenericArgument::Type(_)))
            {
                return type_path(inner);
            }
            // `::store::Repo`: a crate, never a module (an empty first segment).
            let root = p.path.leading_colon.map(|_| String::new());
            Some(root.into_iter().chain(crate::facts::lower::segments(&p.path)).collect())
        }
        syn::Type::TraitObject(t) => bound_path(&t.bounds),
        syn::Type::ImplTrait(t) => bound_path(&t.bounds),
        _ => None,
    }
}

/// Types whose first type argument is what they hold (`Some(x)`, `Ok(x)`,
/// `.unwrap()`, `?` and a `for` loop take it out).
const HOLDERS: &[&str] =
    &["Option", "Result", "Vec", "VecDeque", "LinkedList", "HashSet", "BTreeSet", "BinaryHeap", "IntoIter"];

/// Maps, which hold their second type argument (`HashMap<String, Arc<dyn Repo>>`).
const MAPS: &[&str] = &["HashMap", "BTreeMap", "IndexMap", "DashMap", "FxHashMap", "AHashMap"];

/// What a value of type `ty` holds: a slice's or array's element, the first type
/// argument of an `Option`, `Result` or collection (see [`HOLDERS`]), a map's value,
/// through `&`.
pub fn held_type(ty: &syn::Type) -> Option<TypePath> {
    match ty {
        syn::Type::Reference(r) => held_type(&r.elem),
        syn::Type::Paren(p) => held_type(&p.elem),
        syn::Type::Slice(s) => type_path(&s.elem),
        syn::Type::Array(a) => type_path(&a.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let map = MAPS.iter().any(|m| last.ident == m);
            if !map && !HOLDERS.iter().any(|h| last.ident == h) {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
            let mut types = args.args.iter().filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            });
            types.nth(usize::from(map)).and_then(type_path)
        }
        _ => None,
    }
}

/// The first trait bound of each generic type parameter (`<S: Store>`, `where S: Store`).
pub fn trait_bounds(generics: &syn::Generics) -> Vec<(String, TypePath)> {
    let first_trait = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => Some(crate::facts::lower::segments(&t.path)),
            _ => None,
        })
    };
    let mut out: Vec<(String, TypePath)> =
        generics.type_params().filter_map(|p| Some((p.ident.to_string(), first_trait(&p.bounds)?))).collect();
    for predicate in generics.where_clause.iter().flat_map(|w| &w.predicates) {
        if let syn::WherePredicate::Type(t) = predicate
            && let syn::Type::Path(p) = &t.bounded_ty
            && let Some(ident) = p.path.get_ident()
            && let Some(bound) = first_trait(&t.bounds)
        {
            out.push((ident.to_string(), bound));
        }
    }
    out
}

fn bound_path(bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>) -> Option<TypePath> {
    bounds.iter().find_map(|b| match b {
        syn::TypeParamBound::Trait(t) => Some(crate::facts::lower::segments(&t.path)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> FileNames {
        let source = SourceFile::new("t.rs".into(), src.into());
        let syntax = syn::parse_file(src).unwrap();
        collect(0, &source, &syntax)
    }

    #[test]
    fn held_types_are_elements_options_and_map_values() {
        let held = |ty: &str| held_type(&syn::parse_str::<syn::Type>(ty).unwrap()).map(|p| p.join("::"));
        assert_eq!(held("Option<Arc<Repo>>").as_deref(), Some("Repo"));
        assert_eq!(held("&[Job]").as_deref(), Some("Job"));
        assert_eq!(held("HashMap<String, Arc<dyn store::Repo>>").as_deref(), Some("store::Repo"));
        assert_eq!(held("BTreeMap<Kind, Backend>").as_deref(), Some("Backend"));
        assert_eq!(held("Arc<Repo>"), None);
    }

    #[test]
    fn use_trees_flatten_to_one_name_each() {
        let n = names("use a::{b::{self, c as d}, e::*, f}; use g::T as _; use crate::h;");
        let uses: Vec<(Option<&str>, String)> =
            n.scopes[0].uses.iter().map(|u| (u.alias.as_deref(), u.path.join("::"))).collect();
        assert_eq!(
            uses,
            [
                (Some("b"), "a::b".to_string()),
                (Some("d"), "a::b::c".to_string()),
                (None, "a::e".to_string()),
                (Some("f"), "a::f".to_string()),
                (Some("_"), "g::T".to_string()),
                (Some("h"), "crate::h".to_string()),
            ]
        );
    }

    #[test]
    fn scopes_impls_and_owners() {
        let src = "mod inner { pub fn f() {} struct S { repo: Arc<Repo>, n: u32 } impl S { fn g(&self, x: u8) {} } }\n\
                   #[path = \"x/y.rs\"] mod other;\ntrait T { fn d(&self) { fn local() {} } fn r(&self); }\n\
                   impl<Q> T for Q {}";
        let n = names(src);
        assert_eq!(n.scopes.len(), 3, "the file, `inner`, and `d`'s body, which declares `local`");
        assert!(n.scopes[2].block && !n.scopes[1].block);
        assert!(n.fns.windows(2).all(|w| w[0].loc.start < w[1].loc.start), "functions in source order");
        assert_eq!(n.scopes[0].mods.len(), 2);
        assert_eq!(n.scopes[0].mods[1].path_attr.as_deref(), Some("x/y.rs"));
        let f = &n.fns[0];
        assert_eq!((&*f.name, f.scope, f.owner), ("f", 1, Owner::Module));
        let g = &n.fns[1];
        assert_eq!((g.owner, g.has_self, g.params), (Owner::Impl(0), true, 1));
        assert_eq!(n.scope_at(g.loc.start), 1);
        assert_eq!(n.impl_at(g.loc.start), Some(0));
        assert_eq!(
            n.types[0].fields,
            [("repo".to_string(), vec!["Repo".to_string()]), ("n".into(), vec!["u32".into()])]
        );
        let owners: Vec<(&str, Owner)> = n.fns[2..].iter().map(|f| (&*f.name, f.owner)).collect();
        assert_eq!(
            owners,
            [
                ("d", Owner::Trait { ty: 1, has_body: true }),
                ("local", Owner::Local),
                ("r", Owner::Trait { ty: 1, has_body: false })
            ]
        );
        assert_eq!(n.impls[1].self_ty, None, "a blanket impl names no type");
    }

    #[test]
    fn enum_variants_record_what_they_hold() {
        let n = names("enum E { A, B(Option<Arc<Docker>>, u8), C { name: String, pair: (u8, u8) } }");
        let fields: Vec<(&str, Vec<&str>)> =
            n.types[0].fields.iter().map(|(f, p)| (f.as_str(), p.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            fields,
            [("B.0", vec!["Option"]), ("B.1", vec!["u8"]), ("C.name", vec!["String"]), ("C.pair", vec!["_"])]
        );
        assert_eq!(n.types[0].held, [("B.0".to_string(), vec!["Docker".to_string()])]);
    }

    #[test]
    fn type_paths_see_through_wrappers() {
        let ty = |s: &str| type_path(&syn::parse_str::<syn::Type>(s).unwrap()).map(|p| p.join("::"));
        assert_eq!(ty("&Arc<store::Repo>").as_deref(), Some("store::Repo"));
        assert_eq!(ty("State<AppState>").as_deref(), Some("AppState"));
        assert_eq!(ty("Box<dyn Store + Send>").as_deref(), Some("Store"));
        assert_eq!(ty("Option<Repo>").as_deref(), Some("Option"), "Option's methods are its own");
        assert_eq!(ty("(A, B)"), None);
    }
}
