//! The crate-wide name model: crates and their module trees, joined from every
//! file's item tree ([`super::names`]), and path resolution over them, the way rustc
//! resolves names but from syntax alone (no macro expansion, no type inference).
//!
//! - **Crates**: every library, binary, test, example, bench and build-script root
//!   of a package ([`Packages::target_of`]) is a crate; its modules are the files its
//!   `mod x;` declarations reach (`x.rs`, `x/mod.rs`, `#[path]`) and its inline
//!   `mod`s. A file no crate root reaches is a crate of its own (its module path is
//!   empty); it sees what its package sees.
//! - **Names**: a path is resolved from the module it is written in: `crate`, `self`,
//!   `super`, `Self`; the module's items, its `use`s (renames, groups, globs, `pub use`
//!   re-exports followed through), then the crate names its package knows (its own
//!   library and its path dependencies, renames included). A first segment naming
//!   none of these is outside the workspace (`std`, `sqlx`) or not resolvable
//!   (macro-generated, a glob of an outside crate): [`Resolved::External`] and
//!   [`Resolved::Unknown`] keep the two apart so callers can choose a fallback.
//! - **Types and methods**: an `impl` attaches its functions to the type its path
//!   resolves to (a type outside the workspace is known by its last name, so an
//!   extension trait's methods on `PgPool` are found); trait impls also record that
//!   the type implements the trait, so a trait's default methods and calls through
//!   `dyn Trait`/`impl Trait` resolve.

use super::names::{FileNames, Owner, TypeKind, TypePath};
use crate::input::packages::{Packages, Target, UnitId, normalize};
use crate::input::source::{FileId, Loc};
use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

pub type ModId = u32;
pub type CrateId = u32;
pub type TypeId = u32;

/// A type, as methods are attached to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeKey {
    /// A struct, enum, trait or alias of the workspace.
    Def(TypeId),
    /// A type outside the workspace, by its last name (`PgPool`).
    Named(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Def {
    Mod(ModId),
    /// `files[file].names.fns[index]`.
    Fn(FileId, u32),
    Const(FileId, u32),
    Type(TypeId),
}

/// The first segment of a path written `<Type as Trait>::item`, followed by the
/// type's path and the item (see [`DefMap::resolve`]).
pub const QUALIFIED_SELF: &str = "<>";

/// A function or associated constant of a type, and the trait of the `impl` it comes
/// from (`None`: an inherent impl).
type Member = (Loc, Option<TypeId>);

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Functions or constants of the workspace, by the location of their name.
    Items(Vec<Loc>),
    /// Something outside the workspace, or a workspace item that is not a function
    /// or constant (a type, a variant): no item of the workspace is meant.
    External,
    /// The path could not be followed (a macro-generated item, a glob import of a
    /// crate outside the workspace, a local binding).
    Unknown,
}

struct CrateData {
    unit: Option<UnitId>,
    root: ModId,
    name: String,
    /// A file no crate root reaches.
    stray: bool,
    /// A test, example or bench (or a stray file): it sees its package's
    /// dev-dependencies.
    dev: bool,
}

struct ModData<'a> {
    krate: CrateId,
    parent: Option<ModId>,
    /// A function body's scope ([`super::names::ScopeFact::block`]): a name it does
    /// not declare is looked up in its parent.
    block: bool,
    /// The module's path in its crate (`handlers::org`; empty for the root).
    path: String,
    /// (alias or `None` for a glob, path) of each `use` of the module.
    uses: Vec<UseEntry<'a>>,
}

/// One name a `use` brings in, and what its path resolves to, worked out once (on
/// first use) however many lookups pass through it: re-resolving a `use` path on
/// every lookup multiplies along chains of glob imports.
struct UseEntry<'a> {
    /// `None` for a glob.
    alias: Option<&'a str>,
    path: &'a [String],
    resolved: std::sync::OnceLock<Option<Vec<Def>>>,
}

thread_local! {
    /// The `use` entries being resolved on this thread: a cycle of imports
    /// (`use a::x` in `b`, `use b::x` in `a`) resolves to nothing instead of recursing.
    static RESOLVING: std::cell::RefCell<Vec<(ModId, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct TypeData<'a> {
    module: ModId,
    name: &'a str,
    kind: TypeKind,
    fields: &'a [(String, TypePath)],
    held: &'a [(String, TypePath)],
}

/// Which function a location names, and where it is.
#[derive(Clone, Copy, Debug)]
pub struct FnInfo {
    pub file: FileId,
    /// Its index in the file's item tree.
    pub index: u32,
    pub module: ModId,
}

pub struct DefMap<'a> {
    crates: Vec<CrateData>,
    mods: Vec<ModData<'a>>,
    /// Every module's items by (module, name), sorted once built: one vector, not a
    /// map and a list per module (a large crate has hundreds of thousands of items).
    items: Vec<(ModId, &'a str, Def)>,
    types: Vec<TypeData<'a>>,
    /// Per file, per scope of its item tree: its module.
    file_mods: Vec<Vec<ModId>>,
    /// Per file: a `#[cfg(test)] mod x;` (of its own or an ancestor's) brings it in.
    test_files: Vec<bool>,
    /// Per file, per `impl` of its item tree: the type it attaches to.
    impl_types: Vec<Vec<Option<TypeKey>>>,
    /// The functions of each type and trait by name.
    /// With the trait of the `impl` they come from (`None`: an inherent impl).
    methods: HashMap<(TypeKey, String), Vec<Member>>,
    /// The traits each type implements (trait type ids) and the types each trait is
    /// implemented for.
    implements: HashMap<TypeKey, Vec<TypeId>>,
    implementors: HashMap<TypeId, Vec<TypeKey>>,
    /// The names of the traits each type has an `impl` of, the traits outside the
    /// workspace included (by their last name).
    trait_names: HashMap<TypeKey, Vec<String>>,
    /// Each file's item tree.
    names: Vec<&'a FileNames>,
    /// Per file: the id of its first type (its types are numbered in order).
    type_base: Vec<TypeId>,
    /// Each unit's library crate.
    libs: HashMap<UnitId, CrateId>,
    /// The crate names each unit's code uses: its library and its path dependencies.
    packages: &'a Packages,
    /// Names `use … as name` gives to something named otherwise.
    aliases: rustc_hash::FxHashSet<String>,
}

static EMPTY: Option<Vec<Def>> = Some(Vec::new());

/// Most `use` chains are one or two long; a cycle (`use a::b; use b::a`) stops here.
const MAX_DEPTH: usize = 16;

impl<'a> DefMap<'a> {
    /// Builds the map for files with item trees `names` and (canonical) `paths`
    /// (`None`: not a file on disk), of units `units` in `packages`.
    pub fn build(names: Vec<&'a FileNames>, paths: &[Option<&Path>], packages: &'a Packages, units: &[UnitId]) -> Self {
        let mut map = DefMap {
            crates: Vec::new(),
            mods: Vec::new(),
            items: Vec::new(),
            types: Vec::new(),
            file_mods: vec![Vec::new(); names.len()],
            test_files: vec![false; names.len()],
            impl_types: vec![Vec::new(); names.len()],
            methods: HashMap::default(),
            implements: HashMap::default(),
            implementors: HashMap::default(),
            trait_names: HashMap::default(),
            names: Vec::new(),
            type_base: Vec::with_capacity(names.len()),
            libs: HashMap::default(),
            packages,
            aliases: Default::default(),
        };
        let by_path: HashMap<&Path, FileId> =
            paths.iter().enumerate().filter_map(|(f, p)| Some((p.as_deref()?, f))).collect();
        // Crate roots, libraries first: a file two crates reach (`mod x;` in both
        // lib.rs and main.rs) belongs to the library.
        let mut roots: Vec<(FileId, Target)> = paths
            .iter()
            .enumerate()
            .filter_map(|(f, p)| Some((f, packages.target_of(*units.get(f)?, p.as_deref()?)?)))
            .collect();
        roots.sort_by_key(|&(f, t)| (t != Target::Lib, f));
        for (file, target) in roots {
            if !map.file_mods[file].is_empty() {
                continue;
            }
            let unit = units[file];
            let name = match target {
                Target::Lib => packages.lib_name(unit).unwrap_or_default().to_string(),
                Target::Other | Target::Dev => paths[file]
                    .and_then(|p| p.file_stem())
                    .map_or(String::new(), |s| s.to_string_lossy().replace('-', "_")),
            };
            let krate = map.new_crate(Some(unit), name, false, target == Target::Dev);
            if target == Target::Lib {
                map.libs.insert(unit, krate);
            }
            map.add_file(file, map.crates[krate as usize].root, &names, paths, &by_path, true);
        }
        // Files no crate root reaches: a crate each.
        for file in 0..names.len() {
            if map.file_mods[file].is_empty() {
                let krate = map.new_crate(units.get(file).copied(), String::new(), true, true);
                let root = map.crates[krate as usize].root;
                map.mods[root as usize].path = paths[file].map(implied_module_path).unwrap_or_default();
                map.add_file(file, map.crates[krate as usize].root, &names, paths, &by_path, true);
            }
        }
        for (f, n) in names.iter().enumerate() {
            map.add_items(f, n);
            for u in n.scopes.iter().flat_map(|s| &s.uses) {
                if let Some(alias) = &u.alias
                    && u.path.last() != Some(alias)
                    && alias != "_"
                {
                    map.aliases.insert(alias.clone());
                }
            }
        }
        // Stable: a name's items stay in file order.
        map.items.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        map.items.shrink_to_fit();
        for (f, n) in names.iter().enumerate() {
            map.add_impls(f, n);
        }
        map.names = names;
        map
    }

    fn new_crate(&mut self, unit: Option<UnitId>, name: String, stray: bool, dev: bool) -> CrateId {
        let krate = self.crates.len() as CrateId;
        let root = self.new_mod(krate, None, String::new());
        self.crates.push(CrateData { unit, root, name, stray, dev });
        krate
    }

    fn new_mod(&mut self, krate: CrateId, parent: Option<ModId>, path: String) -> ModId {
        self.mods.push(ModData { krate, parent, path, uses: Vec::new(), block: false });
        self.mods.len() as ModId - 1
    }

    /// Makes `file` the module `module` (its scopes below it) and follows its `mod x;`
    /// declarations into the files they name. `root`: the file is a crate root or a
    /// `mod.rs`, whose children live beside it.
    fn add_file(
        &mut self,
        file: FileId,
        module: ModId,
        names: &[&'a FileNames],
        paths: &[Option<&Path>],
        by_path: &HashMap<&Path, FileId>,
        root: bool,
    ) {
        let mut stack = vec![(file, module, root, false)];
        while let Some((file, module, root, test)) = stack.pop() {
            if !self.file_mods[file].is_empty() {
                continue;
            }
            self.test_files[file] = test;
            let tree = names[file];
            let mut scope_mods = vec![module; tree.scopes.len()];
            let path = paths[file];
            // The directory `mod x;` of the file's own scope looks in.
            let dir_of_file = path.and_then(Path::parent).map(Path::to_path_buf);
            let own_dir = path.map(|p| {
                let is_mod_rs = p.file_name().is_some_and(|n| n == "mod.rs");
                if root || is_mod_rs {
                    p.parent().map(Path::to_path_buf).unwrap_or_default()
                } else {
                    p.with_extension("")
                }
            });
            let mut scope_dirs: Vec<Option<PathBuf>> = vec![own_dir; tree.scopes.len()];
            // Scopes inside an inline `#[cfg(test)] mod x { … }`: the files their own
            // `mod y;` bring in are test code too.
            let mut scope_tests = vec![false; tree.scopes.len()];
            for (s, scope) in tree.scopes.iter().enumerate() {
                if let Some(parent) = scope.parent {
                    scope_tests[s] |= scope_tests[parent as usize];
                }
                if scope.block
                    && let Some(parent) = scope.parent
                {
                    let outer = scope_mods[parent as usize];
                    let (krate, path) = (self.mods[outer as usize].krate, self.mods[outer as usize].path.clone());
                    let block = self.new_mod(krate, Some(outer), path);
                    self.mods[block as usize].block = true;
                    scope_mods[s] = block;
                    scope_dirs[s] = scope_dirs[parent as usize].clone();
                }
                let here = scope_mods[s];
                self.mods[here as usize].uses.extend(scope.uses.iter().map(|u| UseEntry {
                    alias: u.alias.as_deref(),
                    path: &u.path,
                    resolved: std::sync::OnceLock::new(),
                }));
                for decl in &scope.mods {
                    let krate = self.mods[here as usize].krate;
                    let child_path = join(&self.mods[here as usize].path, &decl.name);
                    let child = self.new_mod(krate, Some(here), child_path);
                    self.item(here, &decl.name, Def::Mod(child));
                    if let Some(inline) = decl.inline {
                        scope_tests[inline as usize] |= decl.test || scope_tests[s];
                        scope_mods[inline as usize] = child;
                        scope_dirs[inline as usize] = scope_dirs[s].as_ref().map(|d| match &decl.path_attr {
                            Some(p) => d.join(p),
                            None => d.join(&decl.name),
                        });
                        continue;
                    }
                    let candidates: Vec<PathBuf> = match (&decl.path_attr, s) {
                        (Some(p), 0) => dir_of_file.iter().map(|d| d.join(p)).collect(),
                        (Some(p), _) => scope_dirs[s].iter().map(|d| d.join(p)).collect(),
                        (None, _) => scope_dirs[s]
                            .iter()
                            .flat_map(|d| [d.join(format!("{}.rs", decl.name)), d.join(&decl.name).join("mod.rs")])
                            .collect(),
                    };
                    let found = candidates.iter().find_map(|c| by_path.get(normalize(c).as_path()).copied());
                    if let Some(child_file) = found {
                        // A `#[path]` file's children live beside it, as a mod.rs's do.
                        stack.push((child_file, child, decl.path_attr.is_some(), test || decl.test || scope_tests[s]));
                    }
                }
            }
            self.file_mods[file] = scope_mods;
        }
    }

    fn add_items(&mut self, file: FileId, names: &'a FileNames) {
        let mods = self.file_mods[file].clone();
        for (i, f) in names.fns.iter().enumerate() {
            if matches!(f.owner, Owner::Module | Owner::Local) {
                self.item(mods[f.scope as usize], &f.name, Def::Fn(file, i as u32));
            }
        }
        for (i, c) in names.consts.iter().enumerate() {
            if c.impl_of.is_none() {
                self.item(mods[c.scope as usize], &c.name, Def::Const(file, i as u32));
            }
        }
        self.type_base.push(self.types.len() as TypeId);
        for t in &names.types {
            let module = mods[t.scope as usize];
            let id = self.types.len() as TypeId;
            self.types.push(TypeData { module, name: &t.name, kind: t.kind, fields: &t.fields, held: &t.held });
            self.item(module, &t.name, Def::Type(id));
        }
    }

    /// Attaches each `impl`'s functions to its type, and trait methods to their trait.
    fn add_impls(&mut self, file: FileId, names: &FileNames) {
        let mods = self.file_mods[file].clone();
        let type_base = self.type_base[file];
        let mut impl_traits: Vec<Option<TypeId>> = Vec::with_capacity(names.impls.len());
        let impl_types: Vec<Option<TypeKey>> = names
            .impls
            .iter()
            .map(|i| {
                let module = mods[i.scope as usize];
                let key = i.self_ty.as_ref().and_then(|p| self.type_key(module, p, None));
                let mut of_trait = None;
                let trait_key = i.trait_path.as_ref().and_then(|tp| self.type_key(module, tp, None));
                // A trait that names nothing here (no `use` of it): by its last name.
                let trait_name = match &trait_key {
                    Some(TypeKey::Def(t)) => Some(self.types[*t as usize].name.to_string()),
                    Some(TypeKey::Named(n)) => Some(n.clone()),
                    None => i.trait_path.as_ref().and_then(|tp| tp.last().cloned()),
                };
                if let (Some(key), Some(name)) = (&key, trait_name) {
                    self.trait_names.entry(key.clone()).or_default().push(name);
                }
                if let Some(TypeKey::Def(t)) = trait_key {
                    of_trait = Some(t);
                    if let Some(key) = &key {
                        self.implements.entry(key.clone()).or_default().push(t);
                        self.implementors.entry(t).or_default().push(key.clone());
                    }
                }
                impl_traits.push(of_trait);
                key
            })
            .collect();
        for f in &names.fns {
            let (key, of_trait) = match f.owner {
                Owner::Impl(i) => (impl_types[i as usize].clone(), impl_traits[i as usize]),
                Owner::Trait { ty, .. } => (Some(TypeKey::Def(type_base + ty)), Some(type_base + ty)),
                _ => (None, None),
            };
            if let Some(key) = key {
                self.methods.entry((key, f.name.to_string())).or_default().push((f.loc, of_trait));
            }
        }
        // Associated constants (`Self::INSERT`, `Repo::INSERT`) are found as methods are.
        for c in &names.consts {
            if let Some(i) = c.impl_of
                && let Some(key) = impl_types[i as usize].clone()
            {
                self.methods.entry((key, c.name.to_string())).or_default().push((c.loc, impl_traits[i as usize]));
            }
        }
        self.impl_types[file] = impl_types;
    }

    fn item(&mut self, module: ModId, name: &'a str, def: Def) {
        self.items.push((module, name, def));
    }

    /// The items module `module` itself declares under `name`.
    fn lookup_local(&self, module: ModId, name: &str) -> Vec<Def> {
        let start = self.items.partition_point(|&(m, n, _)| (m, n) < (module, name));
        self.items[start..].iter().take_while(|&&(m, n, _)| m == module && n == name).map(|&(_, _, d)| d).collect()
    }

    /// What `name` means in module `module`: its items, its `use`s, its globs (unless
    /// `globs` is false). `None` when the name leads outside the workspace; empty when
    /// unknown. `seen`: the modules whose globs this query followed.
    fn lookup(&self, module: ModId, name: &str, depth: usize, seen: &mut Vec<ModId>, globs: bool) -> Option<Vec<Def>> {
        let found = self.lookup_here(module, name, depth, seen, globs);
        // A function body's scope sees the names of the module around it.
        let m = &self.mods[module as usize];
        match (&found, m.block, m.parent) {
            (Some(defs), true, Some(outer)) if defs.is_empty() => self.lookup(outer, name, depth + 1, seen, globs),
            _ => found,
        }
    }

    /// [`DefMap::lookup`] in module `module` alone.
    fn lookup_here(
        &self,
        module: ModId,
        name: &str,
        depth: usize,
        seen: &mut Vec<ModId>,
        globs: bool,
    ) -> Option<Vec<Def>> {
        if depth > MAX_DEPTH {
            return Some(Vec::new());
        }
        let local = self.lookup_local(module, name);
        if !local.is_empty() {
            return Some(local);
        }
        let m = &self.mods[module as usize];
        let mut external = false;
        for (k, u) in m.uses.iter().enumerate() {
            if u.alias == Some(name) {
                match self.use_target(module, k, depth) {
                    Some(defs) if !defs.is_empty() => return Some(defs.clone()),
                    Some(_) => {}
                    None => external = true,
                }
            }
        }
        if external || !globs {
            return if external { None } else { Some(Vec::new()) };
        }
        for (k, u) in m.uses.iter().enumerate() {
            if u.alias.is_some() {
                continue;
            }
            for target in self.use_target(module, k, depth).into_iter().flatten() {
                // Each module's globs are followed once per query (`use super::*`
                // in every test module would otherwise multiply).
                if let Def::Mod(t) = *target
                    && !seen.contains(&t)
                {
                    seen.push(t);
                    if let Some(found) = self.lookup(t, name, depth + 1, seen, true)
                        && !found.is_empty()
                    {
                        return Some(found);
                    }
                }
            }
        }
        Some(Vec::new())
    }

    /// The module a function body's scope is in (`self` there); a module itself.
    fn real_module(&self, mut module: ModId) -> ModId {
        while let (true, Some(outer)) = (self.mods[module as usize].block, self.mods[module as usize].parent) {
            module = outer;
        }
        module
    }

    /// What `use` entry `k` of module `module` resolves to (see [`UseEntry`]).
    fn use_target(&self, module: ModId, k: usize, depth: usize) -> Option<&Vec<Def>> {
        let entry = &self.mods[module as usize].uses[k];
        if let Some(done) = entry.resolved.get() {
            return done.as_ref();
        }
        let key = (module, k);
        if RESOLVING.with(|r| r.borrow().contains(&key)) {
            return EMPTY.as_ref();
        }
        RESOLVING.with(|r| r.borrow_mut().push(key));
        let found = self.resolve_use(module, entry.path, depth + 1);
        RESOLVING.with(|r| r.borrow_mut().retain(|k| *k != key));
        // (Another thread may have stored it meanwhile: the same answer.)
        let _ = entry.resolved.set(found);
        entry.resolved.get().and_then(Option::as_ref)
    }

    /// The items a `use` path of module `module` names: its first segment is not looked
    /// up through the module's own globs (a glob's path through a glob would recurse
    /// without end).
    fn resolve_use(&self, module: ModId, path: &[String], depth: usize) -> Option<Vec<Def>> {
        self.resolve_path(module, path, depth, &mut Vec::new(), false)
    }

    /// The items a path names from module `module`: `None` when it leads outside the
    /// workspace, empty when it cannot be followed.
    fn resolve_defs(&self, module: ModId, path: &[String], depth: usize, seen: &mut Vec<ModId>) -> Option<Vec<Def>> {
        self.resolve_path(module, path, depth, seen, true)
    }

    fn resolve_path(
        &self,
        module: ModId,
        path: &[String],
        depth: usize,
        seen: &mut Vec<ModId>,
        globs: bool,
    ) -> Option<Vec<Def>> {
        let (first, rest) = path.split_first()?;
        let krate = self.mods[module as usize].krate;
        // `::store::f`: a crate, never a module of this one.
        let (first, rest) = if first.is_empty() {
            let (name, rest) = rest.split_first()?;
            (&format!("::{name}"), rest)
        } else {
            (first, rest)
        };
        let mut at: Vec<Def> = match first.as_str() {
            extern_only if extern_only.starts_with("::") => {
                vec![Def::Mod(self.crate_root_named(krate, &extern_only[2..])?)]
            }
            "crate" => vec![Def::Mod(self.crates[krate as usize].root)],
            "self" => vec![Def::Mod(self.real_module(module))],
            "super" => {
                let real = self.real_module(module);
                vec![Def::Mod(self.mods[real as usize].parent.unwrap_or(real))]
            }
            name => {
                let found = self.lookup(module, name, depth, seen, globs)?;
                if !found.is_empty() {
                    found
                } else if let Some(other) = self.crate_root_named(krate, name) {
                    vec![Def::Mod(other)]
                } else if self.mods[module as usize].parent.is_some() {
                    // 2015 paths in `use` are relative to the crate root.
                    let root = self.crates[krate as usize].root;
                    match self.lookup(root, name, depth, seen, globs) {
                        Some(found) if !found.is_empty() => found,
                        _ => return outside_or_unknown(name, rest),
                    }
                } else {
                    return outside_or_unknown(name, rest);
                }
            }
        };
        for seg in rest {
            let mut next = Vec::new();
            let mut saw_module = false;
            for def in &at {
                match def {
                    Def::Mod(m) => {
                        saw_module = true;
                        if seg == "super" {
                            next.push(Def::Mod(self.mods[*m as usize].parent.unwrap_or(*m)));
                        } else if seg == "self" {
                            next.push(Def::Mod(*m));
                        } else {
                            next.extend(self.lookup(*m, seg, depth + 1, seen, true).unwrap_or_default());
                        }
                    }
                    // `Type::f`: handled by the caller with the type's methods.
                    Def::Type(_) => return Some(at),
                    _ => {}
                }
            }
            if next.is_empty() && !saw_module {
                return Some(Vec::new());
            }
            at = next;
        }
        Some(at)
    }

    /// The root module of the crate that crate `krate`'s code calls `name`.
    fn crate_root_named(&self, krate: CrateId, name: &str) -> Option<ModId> {
        let unit = self.crates[krate as usize].unit?;
        let target = self.packages.crate_named_from(unit, name, self.crates[krate as usize].dev)?;
        let lib = *self.libs.get(&target)?;
        // A library does not name itself by its crate name (only `crate::`).
        (lib != krate || self.crates[krate as usize].name != name).then_some(self.crates[lib as usize].root)
    }

    /// The type a path names from module `module` (`Self` is `self_ty`).
    pub fn type_key(&self, module: ModId, path: &[String], self_ty: Option<&TypeKey>) -> Option<TypeKey> {
        if path.len() == 1 && path[0] == "Self" {
            return self_ty.cloned();
        }
        match self.resolve_defs(module, path, 0, &mut Vec::new()) {
            None => path.last().map(|n| TypeKey::Named(n.clone())),
            Some(defs) => defs.into_iter().find_map(|d| match d {
                Def::Type(id) => Some(self.through_alias(id, 0)),
                _ => None,
            }),
        }
    }

    fn through_alias(&self, id: TypeId, depth: usize) -> TypeKey {
        let t = &self.types[id as usize];
        if t.kind == TypeKind::Alias
            && depth < MAX_DEPTH
            && let Some((_, target)) = t.fields.first()
            && let Some(key) = self.type_key(t.module, target, None)
        {
            return match key {
                TypeKey::Def(next) if next != id => self.through_alias(next, depth + 1),
                other => other,
            };
        }
        TypeKey::Def(id)
    }

    /// The function whose name is at `loc`: found in its file's item tree, whose
    /// functions are in source order (an index by location for every function of the
    /// crate would cost more memory than the rest of the map).
    pub fn fn_at(&self, loc: Loc) -> Option<FnInfo> {
        let fns = &self.names.get(loc.file)?.fns;
        let index = fns.partition_point(|f| f.loc.start < loc.start);
        let f = fns.get(index).filter(|f| f.loc == loc)?;
        let module = *self.file_mods[loc.file].get(f.scope as usize)?;
        Some(FnInfo { file: loc.file, index: index as u32, module })
    }

    /// The workspace type the function at `loc` returns (`held`: what the `Option` or
    /// `Result` it returns holds, as `?` or `.unwrap()` gives it); `None` for a type
    /// outside the workspace, a generic parameter, or one not written.
    pub fn return_type(&self, loc: Loc, held: bool) -> Option<TypeKey> {
        let info = self.fn_at(loc)?;
        let def = &self.names[info.file].fns[info.index as usize];
        let path = if held { def.returns_held.as_ref()? } else { def.returns.as_ref()? };
        let self_ty = match def.owner {
            Owner::Impl(i) => self.impl_types[info.file].get(i as usize).cloned().flatten(),
            Owner::Trait { .. } => self.trait_of(&info).map(TypeKey::Def),
            _ => None,
        };
        match self.type_key(info.module, path, self_ty.as_ref())? {
            key @ TypeKey::Def(_) => Some(key),
            TypeKey::Named(_) => None,
        }
    }

    /// The trait a trait method (declared or default) belongs to.
    fn trait_of(&self, info: &FnInfo) -> Option<TypeId> {
        match self.names[info.file].fns[info.index as usize].owner {
            Owner::Trait { ty, .. } => Some(self.type_base[info.file] + ty),
            _ => None,
        }
    }

    /// The context of a location: the module it is in, and the type of the `impl`
    /// around it.
    pub fn context(&self, at: Loc) -> Context {
        let names = self.names[at.file];
        let module = self.file_mods[at.file][names.scope_at(at.start) as usize];
        let self_ty = match names.impl_at(at.start) {
            Some(i) => self.impl_types[at.file][i as usize].clone(),
            // In a trait's default method `Self` is any implementor: the trait.
            None => names.trait_at(at.start).map(|ty| TypeKey::Def(self.type_base[at.file] + ty)),
        };
        Context { module, self_ty }
    }

    /// The context of the function whose name is at `loc`: its module and `Self`.
    pub fn fn_context(&self, loc: Loc) -> Option<Context> {
        let info = self.fn_at(loc)?;
        let owner = &self.names[info.file].fns[info.index as usize].owner;
        let self_ty = match owner {
            Owner::Impl(i) => self.impl_types[info.file].get(*i as usize).cloned().flatten(),
            Owner::Trait { .. } => self.trait_of(&info).map(TypeKey::Def),
            _ => None,
        };
        Some(Context { module: info.module, self_ty })
    }

    /// What a path (a call's function, a constant's use) written in `cx` names.
    pub fn resolve(&self, cx: &Context, path: &[String]) -> Resolved {
        let Some((last, prefix)) = path.split_last() else { return Resolved::Unknown };
        // `<Type as Trait>::f` (written with [`QUALIFIED_SELF`] before the type): the
        // type's `f`, the trait named, so in scope or not.
        if let Some((marker, ty)) = prefix.split_first()
            && marker == QUALIFIED_SELF
        {
            let self_ty = if ty.len() == 1 && ty[0] == "Self" {
                cx.self_ty.clone()
            } else {
                self.type_key(cx.module, ty, cx.self_ty.as_ref())
            };
            return match self_ty {
                Some(ty) => Resolved::Items(self.methods_seen_from(&ty, last, None)),
                None => Resolved::Unknown,
            };
        }
        // `Self::f`, `Type::f`, `Trait::f`: the type's functions of that name.
        if !prefix.is_empty() {
            let ty = if prefix.len() == 1 && prefix[0] == "Self" {
                cx.self_ty.clone()
            } else {
                match self.resolve_defs(cx.module, prefix, 0, &mut Vec::new()) {
                    None => return Resolved::External,
                    Some(defs) => defs.into_iter().find_map(|d| match d {
                        Def::Type(id) => Some(self.through_alias(id, 0)),
                        _ => None,
                    }),
                }
            };
            if let Some(ty) = ty {
                return Resolved::Items(self.methods_seen_from(&ty, last, Some(cx.module)));
            }
        }
        match self.resolve_defs(cx.module, path, 0, &mut Vec::new()) {
            None => Resolved::External,
            Some(defs) if defs.is_empty() => Resolved::Unknown,
            Some(defs) => {
                let items: Vec<Loc> = defs
                    .iter()
                    .filter_map(|d| match *d {
                        Def::Fn(f, i) => Some(self.names[f].fns[i as usize].loc),
                        Def::Const(f, i) => Some(self.names[f].consts[i as usize].loc),
                        _ => None,
                    })
                    .collect();
                if items.is_empty() { Resolved::External } else { Resolved::Items(items) }
            }
        }
    }

    /// The functions (and associated constants) named `name` of type `ty`: its impls'
    /// (inherent and trait), the default methods of the traits it implements; for a
    /// trait, every implementor's.
    pub fn methods_of(&self, ty: &TypeKey, name: &str) -> Vec<Loc> {
        self.methods_seen_from(ty, name, None)
    }

    /// [`DefMap::methods_of`] as a call written in module `from` sees them: an inherent
    /// method first (it wins over any trait's), else the methods of the traits in scope
    /// there (imported by name, renamed or `as _`, by a glob, or defined there). A
    /// trait's own methods (a `dyn Trait` or bounded generic receiver) are all seen.
    pub fn methods_seen_from(&self, ty: &TypeKey, name: &str, from: Option<ModId>) -> Vec<Loc> {
        let key = (ty.clone(), name.to_string());
        let entries = self.methods.get(&key).map_or(&[][..], Vec::as_slice);
        let is_trait = matches!(ty, TypeKey::Def(id) if self.types[*id as usize].kind == TypeKind::Trait);
        let mut out: Vec<Loc> = Vec::new();
        if let (true, TypeKey::Def(trait_id)) = (is_trait, ty) {
            // The trait's own methods and its supertraits' (`dyn FullRepo` where
            // `trait FullRepo: AliasRepo + QueueRepo`), each with its implementations.
            for t in self.trait_and_supertraits(*trait_id) {
                let own = self.methods.get(&(TypeKey::Def(t), name.to_string())).map_or(&[][..], Vec::as_slice);
                out.extend(own.iter().map(|(loc, _)| *loc));
                for implementor in self.implementors.get(&t).into_iter().flatten() {
                    let key = (implementor.clone(), name.to_string());
                    let of_t = self.methods.get(&key).into_iter().flatten().filter(|(_, tr)| *tr == Some(t));
                    out.extend(of_t.map(|(loc, _)| *loc));
                }
            }
        } else {
            out.extend(entries.iter().filter(|(_, tr)| tr.is_none()).map(|(loc, _)| *loc));
            if out.is_empty() {
                let in_scope = |t: TypeId| from.is_none_or(|m| self.trait_in_scope(m, t));
                out.extend(entries.iter().filter(|(_, tr)| tr.is_some_and(in_scope)).map(|(loc, _)| *loc));
                if out.is_empty() {
                    for &t in self.implements.get(ty).into_iter().flatten().filter(|&&t| in_scope(t)) {
                        let key = (TypeKey::Def(t), name.to_string());
                        let defaults = self.methods.get(&key).into_iter().flatten().map(|(loc, _)| *loc);
                        out.extend(defaults.filter(|loc| self.has_body(*loc)));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Trait `t` and the traits it extends, transitively (each once; `t` first).
    fn trait_and_supertraits(&self, t: TypeId) -> Vec<TypeId> {
        let mut out = vec![t];
        let mut next = 0;
        while next < out.len() && out.len() < 64 {
            let info = &self.types[out[next] as usize];
            next += 1;
            for (name, path) in info.fields {
                if name.is_empty()
                    && let Some(TypeKey::Def(s)) = self.type_key(info.module, path, None)
                    && self.types[s as usize].kind == TypeKind::Trait
                    && !out.contains(&s)
                {
                    out.push(s);
                }
            }
        }
        out
    }

    /// The value of associated constant `name` of type `ty` when its impl writes it as
    /// `true` or `false` (`None` when it is not set there, or set otherwise).
    pub fn assoc_flag(&self, ty: &TypeKey, name: &str) -> Option<bool> {
        let mut values = self.methods_of(ty, name).into_iter().filter_map(|loc| {
            self.names.get(loc.file)?.consts.iter().find(|c| c.loc == loc && c.impl_of.is_some())?.flag
        });
        let first = values.next()?;
        values.all(|v| v == first).then_some(first)
    }

    /// The name of type `id` as declared.
    pub fn type_name(&self, id: TypeId) -> &'a str {
        self.types[id as usize].name
    }

    /// Whether `ty` is a trait of the workspace (a `dyn`, `impl` or bounded generic
    /// receiver's type).
    pub fn is_trait(&self, ty: &TypeKey) -> bool {
        matches!(ty, TypeKey::Def(id) if self.types[*id as usize].kind == TypeKind::Trait)
    }

    /// Whether trait `t` is in scope in module `module`: a name there resolves to it
    /// (an item, an import, a glob), or an import renames it (`as Other`, `as _`).
    fn trait_in_scope(&self, module: ModId, t: TypeId) -> bool {
        let name = self.types[t as usize].name;
        let is_t = |defs: &[Def]| defs.contains(&Def::Type(t));
        if self.lookup(module, name, 0, &mut Vec::new(), true).is_some_and(|d| is_t(&d)) {
            return true;
        }
        // (A function body's `use`s, then its module's.)
        let mut at = Some(module);
        while let Some(m) = at {
            let uses = &self.mods[m as usize].uses;
            let renamed = (0..uses.len())
                .any(|k| uses[k].alias.is_some_and(|a| a != name) && self.use_target(m, k, 0).is_some_and(|d| is_t(d)));
            if renamed {
                return true;
            }
            at = self.mods[m as usize].parent.filter(|_| self.mods[m as usize].block);
        }
        false
    }

    /// Whether file `file` has a function body with a scope of its own (its calls
    /// resolve from where they are written, not from the function's module).
    pub fn has_block_scopes(&self, file: FileId) -> bool {
        self.names.get(file).is_some_and(|n| n.scopes.iter().any(|s| s.block))
    }

    /// Whether the function at `loc` has a body (a trait's method without a default
    /// has none).
    pub fn has_body(&self, loc: Loc) -> bool {
        self.fn_at(loc).is_some_and(|info| {
            !matches!(self.names[info.file].fns[info.index as usize].owner, Owner::Trait { has_body: false, .. })
        })
    }

    /// Whether the function at `loc` is a trait's method (declared in the trait, or in
    /// an `impl Trait for Type`).
    pub fn is_trait_method(&self, loc: Loc) -> bool {
        let Some(info) = self.fn_at(loc) else { return false };
        let names = self.names[info.file];
        match names.fns[info.index as usize].owner {
            Owner::Trait { .. } => true,
            Owner::Impl(i) => names.impls[i as usize].trait_path.is_some(),
            _ => false,
        }
    }

    /// Whether the function at `loc` is a default method written in a trait (where
    /// `Self` is every implementation).
    pub fn is_trait_default(&self, loc: Loc) -> bool {
        let Some(info) = self.fn_at(loc) else { return false };
        matches!(self.names[info.file].fns[info.index as usize].owner, Owner::Trait { has_body: true, .. })
    }

    /// The trait bounding generic parameter `name` of the `impl` the function at `loc`
    /// belongs to (`S` in `impl<S: Store> Audited<S>`: `Store`).
    pub fn impl_bound(&self, loc: Loc, name: &str) -> Option<TypeKey> {
        let info = self.fn_at(loc)?;
        let Owner::Impl(i) = self.names[info.file].fns[info.index as usize].owner else { return None };
        let imp = &self.names[info.file].impls[i as usize];
        let (_, bound) = imp.bounds.iter().find(|(g, _)| g == name)?;
        self.type_key(self.file_mods[info.file][imp.scope as usize], bound, None)
    }

    /// The declared type of field `field` of struct `ty`, as written.
    pub fn field_path(&self, ty: &TypeKey, field: &str) -> Option<&'a TypePath> {
        let TypeKey::Def(id) = ty else { return None };
        let t = &self.types[*id as usize];
        t.fields.iter().find(|(n, _)| n == field).map(|(_, p)| p)
    }

    /// The kind of a workspace type (`None`: a type outside the workspace).
    pub fn type_kind(&self, ty: &TypeKey) -> Option<TypeKind> {
        let TypeKey::Def(id) = ty else { return None };
        Some(self.types[*id as usize].kind)
    }

    /// The names of the fields of struct `ty`; of an enum, its variants' fields
    /// (`Variant.name`, `Variant.0`). Fields whose type has no path are left out of a struct's.
    pub fn field_names(&self, ty: &TypeKey) -> Vec<&'a str> {
        let TypeKey::Def(id) = ty else { return Vec::new() };
        let t = &self.types[*id as usize];
        if t.kind == TypeKind::Alias { Vec::new() } else { t.fields.iter().map(|(n, _)| n.as_str()).collect() }
    }

    /// The names of the traits `ty` has an `impl` of (a trait outside the workspace by
    /// its last name).
    pub fn trait_names(&self, ty: &TypeKey) -> &[String] {
        self.trait_names.get(ty).map_or(&[], Vec::as_slice)
    }

    /// What the field `field` of struct `ty` holds, as written (`Option<Repo>`: `Repo`).
    pub fn field_held_path(&self, ty: &TypeKey, field: &str) -> Option<&'a TypePath> {
        let TypeKey::Def(id) = ty else { return None };
        let t = &self.types[*id as usize];
        t.held.iter().find(|(n, _)| n == field).map(|(_, p)| p)
    }

    /// The type the field `field` of struct `ty` holds (`Option<Repo>`, `Vec<Repo>`: `Repo`).
    pub fn field_held_type(&self, ty: &TypeKey, field: &str) -> Option<TypeKey> {
        let TypeKey::Def(id) = ty else { return None };
        let t = &self.types[*id as usize];
        let (_, path) = t.held.iter().find(|(n, _)| n == field)?;
        self.type_key(t.module, path, Some(ty))
    }

    /// The type of field `field` of struct `ty`.
    pub fn field_type(&self, ty: &TypeKey, field: &str) -> Option<TypeKey> {
        let TypeKey::Def(id) = ty else { return None };
        let t = &self.types[*id as usize];
        let (_, path) = t.fields.iter().find(|(n, _)| n == field)?;
        self.type_key(t.module, path, Some(ty))
    }

    /// The canonical path of the function at `loc`: `crate::module::f`, or
    /// `crate::module::Type::f` for a method (the crate's name is empty for a file
    /// no crate root reaches).
    pub fn canonical_path(&self, loc: Loc) -> Option<String> {
        let info = self.fn_at(loc)?;
        let module = &self.mods[info.module as usize];
        let krate = &self.crates[module.krate as usize].name;
        let def = &self.names[info.file].fns[info.index as usize];
        let name = &def.name;
        let owner = match &def.owner {
            Owner::Impl(i) => match self.impl_types[info.file].get(*i as usize).cloned().flatten() {
                Some(TypeKey::Def(id)) => Some(self.types[id as usize].name.to_string()),
                Some(TypeKey::Named(n)) => Some(n),
                None => None,
            },
            Owner::Trait { .. } => self.trait_of(&info).map(|id| self.types[id as usize].name.to_string()),
            _ => None,
        };
        let parts = [krate.as_str(), module.path.as_str(), owner.as_deref().unwrap_or(""), &**name];
        Some(parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("::"))
    }

    /// The module path (in its crate) of the function at `loc`.
    pub fn module_path(&self, loc: Loc) -> Option<&str> {
        Some(self.mods[self.fn_at(loc)?.module as usize].path.as_str())
    }

    /// Whether code at `from` may name items at `to`: its crate's package and the
    /// packages it depends on by path (dev-dependencies only from tests, examples,
    /// benches and files no crate root reaches).
    pub fn sees(&self, from: Loc, to: Loc) -> bool {
        let krate = |l: Loc| self.file_mods.get(l.file).and_then(|m| m.first()).map(|&m| self.mods[m as usize].krate);
        let (Some(a), Some(b)) = (krate(from), krate(to)) else { return true };
        let (ca, cb) = (&self.crates[a as usize], &self.crates[b as usize]);
        match (ca.unit, cb.unit) {
            (Some(ua), Some(ub)) if ca.dev => self.packages.sees(ua, ub),
            (Some(ua), Some(ub)) => self.packages.sees_normally(ua, ub),
            _ => true,
        }
    }

    /// Whether code at `a` and at `b` belong to one program: one crate, or crates of
    /// which one depends on the other (a file no crate root reaches only with itself).
    pub fn related(&self, a: Loc, b: Loc) -> bool {
        let krate = |l: Loc| self.file_mods.get(l.file).and_then(|m| m.first()).map(|&m| self.mods[m as usize].krate);
        let (Some(x), Some(y)) = (krate(a), krate(b)) else { return true };
        let stray = |k: CrateId| self.crates[k as usize].stray;
        x == y || (!stray(x) && !stray(y) && (self.sees(a, b) || self.sees(b, a)))
    }

    /// Whether some `use … as name` gives `name` to an item named otherwise.
    pub fn is_alias(&self, name: &str) -> bool {
        self.aliases.contains(name)
    }

    /// Whether file `file` is test code by its declaration: `#[cfg(test)] mod tests;`
    /// in its parent (or an ancestor) names it, though nothing inside it says so.
    pub fn is_test_file(&self, file: FileId) -> bool {
        self.test_files.get(file).copied().unwrap_or(false)
    }

    /// Whether a path written at `from` that cannot be resolved may name an item at
    /// `to` by its name: one of its own crate, or, from a file no crate root reaches
    /// (a new file not yet declared with `mod`), one of its package.
    pub fn may_name_unresolved(&self, from: Loc, to: Loc) -> bool {
        let krate = |l: Loc| self.file_mods.get(l.file).and_then(|m| m.first()).map(|&m| self.mods[m as usize].krate);
        let (Some(a), Some(b)) = (krate(from), krate(to)) else { return false };
        let (ca, cb) = (&self.crates[a as usize], &self.crates[b as usize]);
        a == b || (ca.stray && ca.unit.is_some() && ca.unit == cb.unit)
    }
}

/// Where a name is written: the module, and what `Self` is there.
#[derive(Clone, Debug)]
pub struct Context {
    pub module: ModId,
    pub self_ty: Option<TypeKey>,
}

/// A first segment that names nothing of the workspace: a crate outside it when a
/// path continues after a lower-case name (`sqlx::query`, `std::mem::take`), else
/// unknown (a glob-imported or macro-made name, a generic parameter).
fn outside_or_unknown(first: &str, rest: &[String]) -> Option<Vec<Def>> {
    if !rest.is_empty() && first.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        None
    } else {
        Some(Vec::new())
    }
}

/// The module path a stray file's location implies (`…/src/handlers/org.rs` →
/// `handlers::org`; a file outside any `src/` is named by its stem): what `mod`
/// declarations would most likely make of it.
fn implied_module_path(path: &Path) -> String {
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    let after_src = parts.iter().rposition(|p| *p == "src").map_or(parts.len().saturating_sub(1), |i| i + 1);
    let mut module: Vec<&str> = parts[after_src..].to_vec();
    if let Some(last) = module.last_mut() {
        *last = last.strip_suffix(".rs").unwrap_or(last);
    }
    if matches!(module.last(), Some(&"mod") | Some(&"lib") | Some(&"main")) {
        module.pop();
    }
    module.join("::")
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_string() } else { format!("{parent}::{name}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::source::SourceFile;

    /// A workspace written to a temporary directory, its item trees and its map.
    struct Fixture {
        _dir: tempfile::TempDir,
        paths: Vec<PathBuf>,
        trees: Vec<FileNames>,
        packages: Packages,
        units: Vec<UnitId>,
    }

    fn fixture(files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let mut paths = Vec::new();
        let mut trees = Vec::new();
        for (rel, text) in files {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            if rel.ends_with(".rs") {
                let source = SourceFile::new(rel.to_string(), text.to_string());
                trees.push(super::super::names::collect(paths.len(), &source, &syn::parse_file(text).unwrap()));
                paths.push(path);
            }
        }
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let (packages, units) = Packages::of_files(&refs);
        Fixture { _dir: dir, paths, trees, packages, units }
    }

    impl Fixture {
        fn map(&self) -> DefMap<'_> {
            let paths: Vec<Option<&Path>> = self.paths.iter().map(|p| Some(p.as_path())).collect();
            DefMap::build(self.trees.iter().collect(), &paths, &self.packages, &self.units)
        }

        /// The function `name` of file `file` (by index), by its name's location.
        fn fn_loc(&self, file: usize, name: &str) -> Loc {
            self.trees[file].fns.iter().find(|f| &*f.name == name).unwrap_or_else(|| panic!("no fn {name}")).loc
        }
    }

    fn path(p: &str) -> Vec<String> {
        p.split("::").map(str::to_string).collect()
    }

    #[test]
    fn paths_resolve_through_modules_uses_reexports_and_crate_names() {
        let fx = fixture(&[
            ("store/Cargo.toml", "[package]\nname = \"store\"\n"),
            (
                "store/src/lib.rs",
                "pub mod repo;\n#[path = \"sql/ops.rs\"] pub mod ops;\npub use repo::ws::insert as insert_ws;\npub use repo::*;\n",
            ),
            ("store/src/repo/mod.rs", "pub mod ws;\npub fn save() {}\n"),
            ("store/src/repo/ws.rs", "pub fn insert() {}\npub fn create() { super::save(); }\n"),
            ("store/src/sql/ops.rs", "pub fn bulk() {}\n"),
            (
                "api/Cargo.toml",
                "[package]\nname = \"api\"\n[dependencies]\ndb = { path = \"../store\", package = \"store\" }\n",
            ),
            (
                "api/src/lib.rs",
                "use db::{repo::{self, ws::create as make}, ops::*};\nmod inner { pub fn create() {} }\npub fn f() {}\n",
            ),
        ]);
        let map = fx.map();
        let api = map.fn_context(fx.fn_loc(4, "f")).unwrap();
        let items = |p: &str| match map.resolve(&api, &path(p)) {
            Resolved::Items(locs) => locs,
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(
            items("db::insert_ws"),
            [fx.fn_loc(2, "insert")],
            "a renamed re-export through a renamed dependency"
        );
        assert_eq!(items("db::save"), [fx.fn_loc(1, "save")], "a glob re-export");
        assert_eq!(items("make"), [fx.fn_loc(2, "create")], "a rename in a use group");
        assert_eq!(items("repo::ws::insert"), [fx.fn_loc(2, "insert")], "`self` in a use group");
        assert_eq!(items("bulk"), [fx.fn_loc(3, "bulk")], "a glob of a #[path] module");
        assert_eq!(items("inner::create"), [fx.fn_loc(4, "create")]);
        assert_eq!(items("crate::f"), [fx.fn_loc(4, "f")]);
        assert_eq!(
            map.resolve(&api, &path("store::insert")),
            Resolved::External,
            "the dependency's own name is not in scope"
        );
        assert_eq!(map.resolve(&api, &path("sqlx::query")), Resolved::External);
        assert_eq!(
            map.resolve(&api, &path("create")),
            Resolved::Unknown,
            "not imported: unknown, not another module's"
        );
        let ws = map.fn_context(fx.fn_loc(2, "create")).unwrap();
        assert_eq!(map.resolve(&ws, &path("super::save")), Resolved::Items(vec![fx.fn_loc(1, "save")]));
        assert_eq!(map.canonical_path(fx.fn_loc(2, "insert")).as_deref(), Some("store::repo::ws::insert"));
    }

    #[test]
    fn methods_attach_to_the_type_their_impl_names() {
        let fx = fixture(&[
            ("app/Cargo.toml", "[package]\nname = \"app\"\n"),
            (
                "app/src/lib.rs",
                "pub mod a { pub struct Repo { pub inner: crate::b::Inner } impl Repo { pub fn save(&self) {} } }\n\
                 pub mod b { pub struct Inner; impl Inner { pub fn save(&self) {} } }\n\
                 pub trait Store { fn put(&self); fn dflt(&self) { } }\n\
                 impl Store for a::Repo { fn put(&self) {} }\n\
                 impl Store for b::Inner { fn put(&self) {} }\n\
                 pub trait PoolExt { fn ext(&self); }\n\
                 impl PoolExt for sqlx::PgPool { fn ext(&self) {} }\n\
                 type Alias = a::Repo;\n\
                 pub fn f() {}\n",
            ),
        ]);
        let map = fx.map();
        let cx = map.fn_context(fx.fn_loc(0, "f")).unwrap();
        let repo = map.type_key(cx.module, &path("a::Repo"), None).unwrap();
        let saves: Vec<Loc> = fx.trees[0].fns.iter().filter(|f| &*f.name == "save").map(|f| f.loc).collect();
        assert_eq!(map.methods_of(&repo, "save"), [saves[0]]);
        let inner = map.field_type(&repo, "inner").unwrap();
        assert_eq!(map.methods_of(&inner, "save"), [saves[1]], "a field's declared type");
        assert_eq!(map.methods_of(&repo, "dflt").len(), 1, "a trait's default method");
        let store = map.type_key(cx.module, &path("Store"), None).unwrap();
        assert_eq!(map.methods_of(&store, "put").len(), 3, "dyn Store: the declaration and both impls");
        let pool = map.type_key(cx.module, &path("sqlx::PgPool"), None).unwrap();
        assert_eq!(pool, TypeKey::Named("PgPool".into()));
        assert_eq!(map.methods_of(&pool, "ext").len(), 1, "an extension trait on an outside type");
        assert_eq!(map.type_key(cx.module, &path("Alias"), None), Some(repo), "through a type alias");
        assert_eq!(map.type_key(cx.module, &path("T"), None), None, "a generic parameter is unknown");
    }

    #[test]
    fn glob_imports_of_each_other_resolve_once_each() {
        // A library re-exporting a module by glob whose modules glob-import and rename
        // each other's items, and a binary glob-importing the library: every name
        // resolves or is unknown, each `use` resolved once (see `UseEntry`).
        let mut files: Vec<(String, String)> = vec![
            ("s/Cargo.toml".into(), "[package]\nname = \"s\"\n".into()),
            ("s/src/main.rs".into(), "use s::{common::*, *};\nfn main() { run(); }\n".into()),
        ];
        let mut lib = String::from("mod server;\npub use server::*;\npub mod common;\n");
        let mut server = String::from("use crate::common::*;\n");
        for m in 0..10 {
            lib.push_str(&format!("mod m{m};\n"));
            server.push_str(&format!("use crate::m{m}::*;\n"));
            let mut text = String::from("use crate::common::*;\nuse crate::server::*;\nuse super::*;\n");
            for other in (0..10).filter(|o| *o != m) {
                text.push_str(&format!("use crate::m{other}::*;\nuse m{other}::f{other} as g{other};\n"));
            }
            text.push_str(&format!("pub fn f{m}() {{}}\nmod tests {{ use super::*; }}\n"));
            files.push((format!("s/src/m{m}.rs"), text));
        }
        server.push_str("pub fn run() {}\n");
        files.push(("s/src/lib.rs".into(), lib));
        files.push(("s/src/server.rs".into(), server));
        files.push(("s/src/common.rs".into(), "use super::*;\npub fn shared() {}\n".into()));
        let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let fx = fixture(&refs);
        let map = fx.map();
        let main = map.fn_context(fx.fn_loc(0, "main")).unwrap();
        for name in ["missing", "other", "absent", "nothing", "gone"] {
            assert_eq!(map.resolve(&main, &path(name)), Resolved::Unknown);
        }
        assert!(matches!(map.resolve(&main, &path("f7")), Resolved::Items(_)), "through two globs");
        assert!(matches!(map.resolve(&main, &path("run")), Resolved::Items(_)));
        let inner = map.fn_context(fx.fn_loc(1, "f0")).unwrap();
        assert_eq!(map.resolve(&inner, &path("g5")), Resolved::Items(vec![fx.fn_loc(6, "f5")]), "a rename");
        assert_eq!(map.resolve(&inner, &path("missing")), Resolved::Unknown);
        assert_eq!(map.resolve(&inner, &path("absent::y")), Resolved::External, "an outside crate's path");
    }

    #[test]
    fn crates_are_targets_and_a_stray_file_is_its_own() {
        let fx = fixture(&[
            ("tool/Cargo.toml", "[package]\nname = \"my-tool\"\n"),
            ("tool/src/lib.rs", "pub fn run() {}\n"),
            ("tool/src/main.rs", "mod cli;\nfn main() {}\n"),
            ("tool/src/cli.rs", "pub fn go() { my_tool::run(); }\n"),
            ("tool/src/bin/extra.rs", "use my_tool as t;\nfn main() {}\n"),
            ("tool/src/stray.rs", "pub fn lost() {}\n"),
        ]);
        let map = fx.map();
        let cli = map.fn_context(fx.fn_loc(2, "go")).unwrap();
        assert_eq!(
            map.resolve(&cli, &path("my_tool::run")),
            Resolved::Items(vec![fx.fn_loc(0, "run")]),
            "a bin names its library"
        );
        let extra = map.fn_context(fx.fn_loc(3, "main")).unwrap();
        assert_eq!(map.resolve(&extra, &path("t::run")), Resolved::Items(vec![fx.fn_loc(0, "run")]));
        assert_eq!(map.canonical_path(fx.fn_loc(2, "go")).as_deref(), Some("main::cli::go"));
        assert_eq!(
            map.canonical_path(fx.fn_loc(4, "lost")).as_deref(),
            Some("stray::lost"),
            "a stray file is a crate of its own, named by its location"
        );
        assert!(
            map.may_name_unresolved(fx.fn_loc(4, "lost"), fx.fn_loc(0, "run")),
            "a stray file may reach its package"
        );
        assert!(!map.may_name_unresolved(fx.fn_loc(2, "go"), fx.fn_loc(0, "run")), "a bin is not its library");
    }
}
