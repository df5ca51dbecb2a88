//! The cargo packages the checked files belong to, read from their `Cargo.toml` files
//! without running cargo, and which packages each may see: itself and the workspace
//! packages it depends on by path (`path = …`, or `workspace = true` naming a path
//! dependency of its workspace's `[workspace.dependencies]`: the workspace whose
//! `members` include the package, or that has it as a path dependency, and whose
//! `exclude` does not), transitively. Rules
//! that follow names across files (a helper called in a loop, a constant) follow them
//! only where the caller's package can see: two unrelated projects checked in one run
//! never share facts, and a package never reaches into one it does not depend on.
//!
//! A file belongs to the package of the nearest `Cargo.toml` above it that has a
//! `[package]` table (its library, binaries, tests and examples alike; which of them
//! is a crate root is [`Packages::target_of`]). Each file under no package is a unit of
//! its own. A manifest that cannot be read or parsed is treated as absent (the files
//! under it join the package above, if any).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// A unit of files that see each other: a cargo package, or the files under none.
pub type UnitId = u32;

#[derive(Debug, Default)]
pub struct Packages {
    /// Each unit's package directory (`None` for the files under no package).
    dirs: Vec<Option<PathBuf>>,
    /// Each unit's visible units (itself included), sorted.
    sees: Vec<Vec<UnitId>>,
    /// Each unit's crate names for the units it names directly: its own library
    /// (`[lib] name`, else the package name) and its path dependencies (as renamed in
    /// its manifest), `-` read as `_`.
    crate_names: Vec<HashMap<String, (UnitId, bool)>>,
    /// Each unit's visible units through normal dependencies only (what its library
    /// and binaries see), sorted.
    sees_normal: Vec<Vec<UnitId>>,
    /// Every manifest looked for, and a hash of its text (`None`: absent): what the
    /// units depend on, for the key of a stored run.
    manifests: std::collections::BTreeMap<PathBuf, Option<u64>>,
    /// Each unit's targets named by path in its manifest (`[lib] path`, `[[bin]] path`,
    /// …), each with its kind; the conventional ones
    /// (`src/lib.rs`, `src/main.rs`, `src/bin/*`, …) are found by [`Packages::target_of`].
    explicit_targets: Vec<Vec<(PathBuf, Target)>>,
    /// Each unit's library crate name.
    lib_names: Vec<Option<String>>,
    /// The names the packages' programs may be started by: package names, `[[bin]]`
    /// names and the files and folders of `src/bin/`; sorted, each once.
    program_names: Vec<String>,
}

/// What a file is to its package's crates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The library's root.
    Lib,
    /// The root of a binary or the build script.
    Other,
    /// The root of a test, example or bench, which also sees the dev-dependencies.
    Dev,
}

impl Packages {
    /// The units of `files` (paths as discovered), one per file, and their graph.
    pub fn of_files(files: &[&Path]) -> (Packages, Vec<UnitId>) {
        let mut packages = Packages::default();
        let mut by_dir: HashMap<Option<PathBuf>, UnitId> = HashMap::new();
        let mut manifests = ManifestCache::default();
        let mut units = Vec::with_capacity(files.len());
        // Canonical directories: a file named on the command line keeps the path it was
        // named by, a walked one is canonical, and both must land in one unit.
        let mut canonical: HashMap<PathBuf, PathBuf> = HashMap::new();
        for file in files {
            // (`it.rs` has the parent `""`: the working directory.)
            // Files under no package are one unit each: nothing says they belong together.
            let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let parent = canonical
                .entry(parent.to_path_buf())
                .or_insert_with(|| {
                    // (Walked paths are canonical already: no system call for them.)
                    let plain = parent.is_absolute()
                        && parent.components().all(|c| matches!(c, Component::Normal(_) | Component::RootDir));
                    if plain {
                        parent.to_path_buf()
                    } else {
                        std::fs::canonicalize(parent).unwrap_or(parent.to_path_buf())
                    }
                })
                .clone();
            let dir = manifests.package_dir(&parent);
            let unit = match &dir {
                Some(_) => {
                    let next = packages.dirs.len() as UnitId;
                    *by_dir.entry(dir.clone()).or_insert_with(|| {
                        packages.dirs.push(dir);
                        next
                    })
                }
                None => {
                    packages.dirs.push(None);
                    packages.dirs.len() as UnitId - 1
                }
            };
            units.push(unit);
        }
        let unit_of_dir: HashMap<PathBuf, UnitId> =
            (packages.dirs.iter().enumerate()).filter_map(|(u, d)| Some((d.clone()?, u as UnitId))).collect();
        packages.sees = (0..packages.dirs.len())
            .map(|u| packages.visible_from(u as UnitId, &unit_of_dir, &mut manifests, true))
            .collect();
        packages.sees_normal = (0..packages.dirs.len())
            .map(|u| packages.visible_from(u as UnitId, &unit_of_dir, &mut manifests, false))
            .collect();
        packages.crate_names =
            (0..packages.dirs.len()).map(|u| packages.names_from(u as UnitId, &unit_of_dir, &mut manifests)).collect();
        packages.explicit_targets = (packages.dirs.iter())
            .map(|d| d.as_ref().map(|d| manifests.explicit_targets(d)).unwrap_or_default())
            .collect();
        packages.lib_names = packages.dirs.iter().map(|d| d.as_ref().and_then(|d| manifests.lib_name(d))).collect();
        let mut programs: Vec<String> =
            packages.dirs.iter().flatten().flat_map(|d| manifests.program_names(d)).collect();
        programs.sort();
        programs.dedup();
        packages.program_names = programs;
        packages.manifests = std::mem::take(&mut manifests.hashes);
        (packages, units)
    }

    /// The names the packages' programs may be started by (see `program_names`).
    pub fn program_names(&self) -> &[String] {
        &self.program_names
    }

    /// Unit `unit`'s library crate name (`-` as `_`), when it is a package.
    pub fn lib_name(&self, unit: UnitId) -> Option<&str> {
        self.lib_names.get(unit as usize)?.as_deref()
    }

    /// Whether `path` (canonical) is a crate root of unit `unit`'s package: named in its
    /// manifest, or by cargo's conventions (`src/lib.rs`, `src/main.rs`,
    /// `src/bin/*.rs`, `src/bin/*/main.rs`, `tests/*.rs`, `examples/*.rs`,
    /// `examples/*/main.rs`, `benches/*.rs`, `build.rs`).
    pub fn target_of(&self, unit: UnitId, path: &Path) -> Option<Target> {
        let dir = self.dirs.get(unit as usize)?.as_ref()?;
        let explicit = &self.explicit_targets[unit as usize];
        if let Some((_, target)) = explicit.iter().find(|(p, _)| p == path) {
            return Some(*target);
        }
        let rel = path.strip_prefix(dir).ok()?;
        let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
        let rs = |p: &str| p.ends_with(".rs");
        let lib_moved = explicit.iter().any(|(_, t)| *t == Target::Lib);
        match parts[..] {
            ["src", "lib.rs"] if !lib_moved => Some(Target::Lib),
            ["src", "main.rs"] | ["build.rs"] => Some(Target::Other),
            ["src", "bin", f] if rs(f) => Some(Target::Other),
            ["src", "bin", _, "main.rs"] => Some(Target::Other),
            ["tests", f] | ["examples", f] | ["benches", f] if rs(f) => Some(Target::Dev),
            ["examples", _, "main.rs"] => Some(Target::Dev),
            _ => None,
        }
    }

    /// A text that changes whenever a manifest the units were read from changes (or
    /// appears, or goes): a stored run is reused only when it is unchanged.
    pub fn fingerprint(&self) -> String {
        format!("{:?}", self.manifests)
    }

    /// The unit code of unit `from` means by the crate name `name` (`store` in
    /// `store::insert(…)`): its own library, or a path dependency by its name there
    /// (a dev-dependency only for code that sees them: `dev`).
    pub fn crate_named(&self, from: UnitId, name: &str) -> Option<UnitId> {
        self.crate_named_from(from, name, true)
    }

    /// [`Packages::crate_named`], for a library or binary (`dev` false) or for tests,
    /// examples and benches (`dev` true).
    pub fn crate_named_from(&self, from: UnitId, name: &str, dev: bool) -> Option<UnitId> {
        let &(unit, is_dev) = self.crate_names.get(from as usize)?.get(name)?;
        (dev || !is_dev).then_some(unit)
    }

    /// Whether code of unit `from` can name items of unit `to` through its normal
    /// dependencies (its library and binaries; see [`Packages::sees`]).
    pub fn sees_normally(&self, from: UnitId, to: UnitId) -> bool {
        from == to || self.sees_normal.get(from as usize).is_some_and(|s| s.binary_search(&to).is_ok())
    }

    /// Crate names as unit `unit`'s code writes them.
    fn names_from(
        &self,
        unit: UnitId,
        unit_of_dir: &HashMap<PathBuf, UnitId>,
        manifests: &mut ManifestCache,
    ) -> HashMap<String, (UnitId, bool)> {
        let mut names = HashMap::new();
        let Some(dir) = &self.dirs[unit as usize] else { return names };
        if let Some(own) = manifests.lib_name(dir) {
            names.insert(own, (unit, false));
        }
        for dep in manifests.named_path_dependencies(dir) {
            if let Some(&u) = unit_of_dir.get(&dep.dir) {
                // A dependency listed as both normal and dev is a normal one.
                let entry = names.entry(dep.name.replace('-', "_")).or_insert((u, dep.dev));
                entry.1 &= dep.dev;
            }
        }
        names
    }

    /// Whether code of unit `from` can name items of unit `to`.
    pub fn sees(&self, from: UnitId, to: UnitId) -> bool {
        from == to || self.sees.get(from as usize).is_some_and(|s| s.binary_search(&to).is_ok())
    }

    /// The units `unit` sees: itself and its path dependencies among the units,
    /// transitively (its own dev-dependencies too with `dev`; a dependency's
    /// dev-dependencies never).
    fn visible_from(
        &self,
        unit: UnitId,
        unit_of_dir: &HashMap<PathBuf, UnitId>,
        manifests: &mut ManifestCache,
        dev: bool,
    ) -> Vec<UnitId> {
        let mut seen = vec![unit];
        let start = self.dirs[unit as usize].clone();
        let mut stack: Vec<PathBuf> = start.iter().cloned().collect();
        let mut visited: std::collections::HashSet<PathBuf> = stack.iter().cloned().collect();
        while let Some(dir) = stack.pop() {
            let own = start.as_ref() == Some(&dir);
            let deps = manifests.named_path_dependencies(&dir);
            for dep in deps.into_iter().filter(|d| !d.dev || (dev && own)).map(|d| d.dir) {
                if !visited.insert(dep.clone()) {
                    continue;
                }
                if let Some(&u) = unit_of_dir.get(&dep) {
                    seen.push(u);
                }
                // A dependency outside the checked files can still lead back into them.
                stack.push(dep);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        seen
    }
}

/// The package directories the package in `dir` depends on by path, transitively
/// (without `dir` itself): what a run naming files of that package reads besides it,
/// so names that lead into its dependencies are followed as in a full run.
pub fn dependency_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut manifests = ManifestCache::default();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for dep in manifests.path_dependencies(&at) {
            if dep != dir && !seen.contains(&dep) && dep.join("Cargo.toml").is_file() {
                seen.push(dep.clone());
                stack.push(dep);
            }
        }
    }
    seen.sort();
    seen
}

/// Where the program built from a package may run, read from the manifests: the
/// package's directory (the nearest manifest above `dir` with a `[package]`) and the
/// root of the workspace it belongs to, as cargo finds it (`None` for a package in no
/// workspace, or a workspace of its own). `dir` must be canonical.
pub fn package_roots(dir: &Path) -> Option<(PathBuf, Option<PathBuf>)> {
    let mut manifests = ManifestCache::default();
    let package = manifests.package_dir(dir)?;
    let workspace = manifests.workspace_root(&package).filter(|w| *w != package);
    Some((package, workspace))
}

/// When `paths` is one whole package (its directory, or its `src/`) that depends on
/// other packages by path: that package's directory, so a run naming it reads those
/// packages for facts too (and reports on the named path only).
pub fn whole_package_with_dependencies(paths: &[PathBuf]) -> Option<PathBuf> {
    let [path] = paths else { return None };
    let dir = std::fs::canonicalize(path).ok()?;
    let mut manifests = ManifestCache::default();
    let is_package = |d: &Path, m: &mut ManifestCache| m.manifest(d).is_some_and(|t| t.contains_key("package"));
    let package = if is_package(&dir, &mut manifests) {
        dir
    } else {
        let parent = dir.parent().filter(|_| dir.file_name().is_some_and(|n| n == "src"))?.to_path_buf();
        is_package(&parent, &mut manifests).then_some(parent)?
    };
    (!dependency_dirs(&package).is_empty()).then_some(package)
}

/// A path dependency, by the name the package's code uses for it.
#[derive(Clone, Debug)]
struct Dependency {
    name: String,
    dir: PathBuf,
    /// A `[dev-dependencies]` entry: seen by the package's tests, examples and benches
    /// only.
    dev: bool,
}

/// Manifests read once each.
#[derive(Default)]
struct ManifestCache {
    parsed: HashMap<PathBuf, Option<toml::Table>>,
    package_dirs: HashMap<PathBuf, Option<PathBuf>>,
    dependencies: HashMap<PathBuf, Vec<Dependency>>,
    hashes: std::collections::BTreeMap<PathBuf, Option<u64>>,
}

impl ManifestCache {
    fn manifest(&mut self, dir: &Path) -> Option<&toml::Table> {
        let hashes = &mut self.hashes;
        self.parsed
            .entry(dir.to_path_buf())
            .or_insert_with(|| {
                let path = dir.join("Cargo.toml");
                let text = std::fs::read_to_string(&path).ok();
                use std::hash::BuildHasher;
                hashes.insert(path, text.as_ref().map(|t| rustc_hash::FxBuildHasher.hash_one(t)));
                text?.parse::<toml::Table>().ok()
            })
            .as_ref()
    }

    /// The nearest directory at or above `dir` whose manifest has a `[package]`.
    fn package_dir(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(known) = self.package_dirs.get(dir) {
            return known.clone();
        }
        let found = if self.manifest(dir).is_some_and(|m| m.contains_key("package")) {
            Some(dir.to_path_buf())
        } else {
            dir.parent().and_then(|parent| self.package_dir(parent))
        };
        self.package_dirs.insert(dir.to_path_buf(), found.clone());
        found
    }

    /// The package directories the package in `dir` depends on by path, normal and
    /// dev dependencies (dev dependencies are seen by its tests and examples).
    fn path_dependencies(&mut self, dir: &Path) -> Vec<PathBuf> {
        self.named_path_dependencies(dir).into_iter().map(|d| d.dir).collect()
    }

    /// The library crate name of the package in `dir`: `[lib] name`, else the
    /// package name, with `-` as `_`.
    fn lib_name(&mut self, dir: &Path) -> Option<String> {
        let manifest = self.manifest(dir)?;
        let lib = manifest.get("lib").and_then(|l| l.get("name")).and_then(toml::Value::as_str);
        let package = manifest.get("package").and_then(|p| p.get("name")).and_then(toml::Value::as_str);
        lib.or(package).map(|n| n.replace('-', "_"))
    }

    /// The names the programs of the package in `dir` may be started by: the package
    /// name, its `[[bin]]` names, and the binaries of `src/bin/` (`local_proxy.rs`,
    /// `server/main.rs`).
    fn program_names(&mut self, dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(manifest) = self.manifest(dir) {
            out.extend(
                manifest.get("package").and_then(|p| p.get("name")).and_then(toml::Value::as_str).map(String::from),
            );
            let bins = manifest.get("bin").and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();
            out.extend(bins.iter().filter_map(|b| b.get("name")?.as_str()).map(String::from));
        }
        if let Ok(entries) = std::fs::read_dir(dir.join("src").join("bin")) {
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                let name = if path.is_dir() {
                    path.file_name()
                } else {
                    path.extension().is_some_and(|e| e == "rs").then(|| path.file_stem()).flatten()
                };
                out.extend(name.and_then(|n| n.to_str()).map(String::from));
            }
        }
        out
    }

    /// The targets the manifest in `dir` names by path: `[lib] path` (the library),
    /// `[[bin]]`, `[[test]]`, `[[example]]`, `[[bench]]` paths, `package.build`.
    fn explicit_targets(&mut self, dir: &Path) -> Vec<(PathBuf, Target)> {
        let Some(manifest) = self.manifest(dir) else { return Vec::new() };
        let mut out = Vec::new();
        let at = |p: &str| resolve(&dir.join(p));
        if let Some(path) = manifest.get("lib").and_then(|l| l.get("path")).and_then(toml::Value::as_str) {
            out.push((at(path), Target::Lib));
        }
        for (kind, target) in
            [("bin", Target::Other), ("test", Target::Dev), ("example", Target::Dev), ("bench", Target::Dev)]
        {
            let targets = manifest.get(kind).and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();
            for path in targets.iter().filter_map(|t| t.get("path")?.as_str()) {
                out.push((at(path), target));
            }
        }
        if let Some(build) = manifest.get("package").and_then(|p| p.get("build")).and_then(toml::Value::as_str) {
            out.push((at(build), Target::Other));
        }
        out
    }

    /// The path dependencies of the package in `dir`, each with the name its code
    /// uses for it (the dependency's key: a rename's new name).
    fn named_path_dependencies(&mut self, dir: &Path) -> Vec<Dependency> {
        if let Some(known) = self.dependencies.get(dir) {
            return known.clone();
        }
        let found = self.read_path_dependencies(dir);
        self.dependencies.insert(dir.to_path_buf(), found.clone());
        found
    }

    fn read_path_dependencies(&mut self, dir: &Path) -> Vec<Dependency> {
        let Some(manifest) = self.manifest(dir).cloned() else { return Vec::new() };
        let mut out = Vec::new();
        let mut tables: Vec<(&toml::Table, bool)> = Vec::new();
        for (key, dev) in [("dependencies", false), ("dev-dependencies", true)] {
            tables.extend(manifest.get(key).and_then(toml::Value::as_table).map(|t| (t, dev)));
        }
        if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
            for target in targets.values().filter_map(toml::Value::as_table) {
                for (key, dev) in [("dependencies", false), ("dev-dependencies", true)] {
                    tables.extend(target.get(key).and_then(toml::Value::as_table).map(|t| (t, dev)));
                }
            }
        }
        for (deps, dev) in tables {
            for (name, spec) in deps {
                let Some(spec) = spec.as_table() else { continue };
                if let Some(path) = spec.get("path").and_then(toml::Value::as_str) {
                    out.push(Dependency { name: name.clone(), dir: resolve(&dir.join(path)), dev });
                } else if spec.get("workspace").and_then(toml::Value::as_bool) == Some(true)
                    && let Some(path) = self.workspace_dependency_path(dir, name)
                {
                    out.push(Dependency { name: name.clone(), dir: path, dev });
                }
            }
        }
        out
    }

    /// The path of dependency `name` in the `[workspace.dependencies]` of the
    /// workspace the package in `dir` belongs to (see [`ManifestCache::workspace_root`]).
    fn workspace_dependency_path(&mut self, dir: &Path, name: &str) -> Option<PathBuf> {
        let root = self.workspace_root(dir)?;
        let workspace = self.manifest(&root)?.get("workspace")?.as_table()?;
        let spec = workspace.get("dependencies")?.as_table()?.get(name)?.as_table()?;
        Some(resolve(&root.join(spec.get("path")?.as_str()?)))
    }

    /// The root of the workspace the package in `dir` belongs to, as cargo finds it:
    /// `package.workspace` when set, else the nearest manifest above (or at) `dir` with a
    /// `[workspace]` whose `members` globs match the package (or that is the package's
    /// own) and whose `exclude` does not. An excluded package belongs to none.
    fn workspace_root(&mut self, dir: &Path) -> Option<PathBuf> {
        let explicit = self.manifest(dir)?.get("package")?.get("workspace").and_then(toml::Value::as_str);
        if let Some(path) = explicit {
            return Some(resolve(&dir.join(path)));
        }
        for root in dir.ancestors() {
            let Some(workspace) = self.manifest(root).and_then(|m| m.get("workspace")?.as_table().cloned()) else {
                continue;
            };
            if root == dir {
                return Some(root.to_path_buf());
            }
            let rel = dir.strip_prefix(root).ok()?;
            let matches = |key: &str| {
                let globs = workspace.get(key).and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();
                globs.iter().filter_map(toml::Value::as_str).any(|g| {
                    globset::Glob::new(g.trim_end_matches('/')).is_ok_and(|g| g.compile_matcher().is_match(rel))
                })
            };
            // The nearest workspace decides: a package it does not include has none.
            if matches("exclude") {
                return None;
            }
            let member = matches("members") || self.implied_member(root, &workspace, dir);
            return member.then(|| root.to_path_buf());
        }
        None
    }

    /// Whether the package in `dir`, below the workspace `root` but matched by none of
    /// its `members`, is a member all the same: cargo makes every path dependency
    /// inside the workspace directory a member. Read here as the paths of
    /// `[workspace.dependencies]` and the path dependencies of the members named
    /// without a glob.
    fn implied_member(&mut self, root: &Path, workspace: &toml::Table, dir: &Path) -> bool {
        let paths_of = |deps: Option<&toml::Value>| -> Vec<String> {
            let Some(deps) = deps.and_then(toml::Value::as_table) else { return Vec::new() };
            deps.values().filter_map(|d| d.get("path")?.as_str().map(str::to_string)).collect()
        };
        if paths_of(workspace.get("dependencies")).iter().any(|p| resolve(&root.join(p)) == dir) {
            return true;
        }
        let members = workspace.get("members").and_then(toml::Value::as_array).cloned().unwrap_or_default();
        for member in members.iter().filter_map(toml::Value::as_str).filter(|m| !m.contains(['*', '?', '['])) {
            let member_dir = resolve(&root.join(member));
            let Some(manifest) = self.manifest(&member_dir) else { continue };
            let deps: Vec<String> = ["dependencies", "dev-dependencies", "build-dependencies"]
                .iter()
                .flat_map(|k| paths_of(manifest.get(*k)))
                .collect();
            if deps.iter().any(|p| resolve(&member_dir.join(p)) == dir) {
                return true;
            }
        }
        false
    }
}

/// A dependency's directory as units know directories: canonical (through symbolic
/// links) when it exists, else with `..` resolved by its text.
fn resolve(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
}

/// `a/b/../c` → `a/c`, without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `path` relative to `base` (both absolute), with `..` where needed.
    fn pathdiff(path: &Path, base: &Path) -> PathBuf {
        let base = std::fs::canonicalize(base).unwrap();
        let common = path.components().zip(base.components()).take_while(|(a, b)| a == b).count();
        let mut out = PathBuf::new();
        for _ in base.components().skip(common) {
            out.push("..");
        }
        out.extend(path.components().skip(common));
        out
    }

    fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn packages_see_themselves_and_their_path_dependencies_only() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        write(
            &root,
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\n[workspace.dependencies]\nstore = { path = \"crates/store\" }\n",
        );
        write(&root, "crates/store/Cargo.toml", "[package]\nname = \"store\"\n");
        write(
            &root,
            "crates/api/Cargo.toml",
            "[package]\nname = \"api\"\n[dependencies]\nstore = { workspace = true }\n",
        );
        write(
            &root,
            "crates/cli/Cargo.toml",
            "[package]\nname = \"cli\"\n[dependencies]\napi = { path = \"../api\" }\n",
        );
        write(&root, "other/Cargo.toml", "[package]\nname = \"other\"\n");
        let files: Vec<PathBuf> = [
            "crates/store/src/lib.rs",
            "crates/api/src/handlers/team.rs",
            "crates/cli/src/main.rs",
            "other/src/lib.rs",
            "loose/a.rs",
            "crates/store/src/db.rs",
        ]
        .iter()
        .map(|f| write(&root, f, ""))
        .collect();
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let (packages, units) = Packages::of_files(&refs);
        let [store, api, cli, other, loose, store_db] = units[..] else { panic!("{units:?}") };
        assert_eq!(store, store_db, "one package, one unit");
        // A path as named on the command line (relative, with `..`) lands in the same unit.
        let cwd = std::env::current_dir().unwrap();
        let relative = pathdiff(&root.join("crates/store/src/db.rs"), &cwd);
        let (_, again) = Packages::of_files(&[files[0].as_path(), relative.as_path()]);
        assert_eq!(again[0], again[1], "{}", relative.display());
        assert!(packages.sees(api, store), "workspace = true names a path dependency");
        assert!(packages.sees(cli, api) && packages.sees(cli, store), "transitively");
        assert!(!packages.sees(store, api), "a dependency does not see its dependents");
        assert!(!packages.sees(other, store) && !packages.sees(api, other), "unrelated packages");
        assert!(!packages.sees(loose, store) && !packages.sees(store, loose));
        assert!(packages.sees(loose, loose));
    }

    #[test]
    fn workspace_dependencies_belong_to_the_members_of_the_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        write(
            &root,
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\", \"tools/cli\"]\nexclude = [\"crates/legacy\"]\n\
             [workspace.dependencies]\nstore = { path = \"crates/store\" }\n",
        );
        let uses_store = "[dependencies]\nstore = { workspace = true }\n";
        write(&root, "crates/store/Cargo.toml", "[package]\nname = \"store\"\n");
        write(&root, "crates/api/Cargo.toml", &format!("[package]\nname = \"api\"\n{uses_store}"));
        write(&root, "crates/legacy/Cargo.toml", &format!("[package]\nname = \"legacy\"\n{uses_store}"));
        write(&root, "tools/cli/Cargo.toml", &format!("[package]\nname = \"cli\"\n{uses_store}"));
        write(&root, "tools/other/Cargo.toml", &format!("[package]\nname = \"other\"\n{uses_store}"));
        write(&root, "far/away/Cargo.toml", &format!("[package]\nname = \"far\"\nworkspace = \"../..\"\n{uses_store}"));
        let files: Vec<PathBuf> = [
            "crates/store/src/lib.rs",
            "crates/api/src/lib.rs",
            "crates/legacy/src/lib.rs",
            "tools/cli/src/main.rs",
            "tools/other/src/main.rs",
            "far/away/src/lib.rs",
        ]
        .iter()
        .map(|f| write(&root, f, ""))
        .collect();
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let (packages, units) = Packages::of_files(&refs);
        let [store, api, legacy, cli, other, far] = units[..] else { panic!("{units:?}") };
        assert!(packages.sees(api, store), "a member by glob");
        assert!(packages.sees(cli, store), "a member by path");
        assert!(!packages.sees(legacy, store), "an excluded package has no workspace");
        assert!(!packages.sees(other, store), "not a member");
        assert!(packages.sees(far, store), "package.workspace names the root");
    }

    #[test]
    fn path_dependencies_inside_the_workspace_are_members() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        write(
            &root,
            "Cargo.toml",
            "[workspace]\nmembers = [\"apps/backend\"]\n\
             [workspace.dependencies]\nprogress = { path = \"crates/progress\" }\nimport = { path = \"crates/import\" }\n",
        );
        let import = "[package]\nname = \"import\"\n[dependencies]\nprogress = { workspace = true }\n";
        write(&root, "crates/import/Cargo.toml", import);
        write(&root, "crates/progress/Cargo.toml", "[package]\nname = \"progress\"\n");
        write(
            &root,
            "apps/backend/Cargo.toml",
            "[package]\nname = \"backend\"\n[dependencies]\nimport = { workspace = true }\nlocal = { path = \"../local\" }\n",
        );
        write(
            &root,
            "apps/local/Cargo.toml",
            "[package]\nname = \"local\"\n[dependencies]\nprogress = { workspace = true }\n",
        );
        write(
            &root,
            "apps/stray/Cargo.toml",
            "[package]\nname = \"stray\"\n[dependencies]\nprogress = { workspace = true }\n",
        );
        let files: Vec<PathBuf> = [
            "crates/import/src/lib.rs",
            "crates/progress/src/lib.rs",
            "apps/local/src/lib.rs",
            "apps/stray/src/lib.rs",
        ]
        .iter()
        .map(|f| write(&root, f, ""))
        .collect();
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let (packages, units) = Packages::of_files(&refs);
        let [import, progress, local, stray] = units[..] else { panic!("{units:?}") };
        assert!(packages.sees(import, progress), "a path of [workspace.dependencies] is a member");
        assert!(packages.sees(local, progress), "a member's path dependency is a member");
        assert!(!packages.sees(stray, progress), "a package nothing depends on is not");
    }

    #[test]
    fn platform_and_dev_dependencies_count_and_a_broken_manifest_is_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        write(&root, "base/Cargo.toml", "[package]\nname = \"base\"\n");
        write(&root, "fixtures/Cargo.toml", "[package]\nname = \"fixtures\"\n");
        write(
            &root,
            "app/Cargo.toml",
            "[package]\nname = \"app\"\n[target.'cfg(unix)'.dependencies]\nbase = { path = \"../base\" }\n\
             [dev-dependencies]\nfix = { path = \"../fixtures\", package = \"fixtures\" }\n\
             base = { path = \"../base\" }\n",
        );
        write(&root, "app/broken/Cargo.toml", "[package\nname = ");
        let files: Vec<PathBuf> = ["app/src/lib.rs", "base/src/lib.rs", "fixtures/src/lib.rs", "app/broken/src/x.rs"]
            .iter()
            .map(|f| write(&root, f, ""))
            .collect();
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let (packages, units) = Packages::of_files(&refs);
        let [app, base, fixtures, broken] = units[..] else { panic!("{units:?}") };
        assert!(packages.sees(app, base), "a platform-specific dependency");
        assert!(packages.sees(app, fixtures), "a renamed dev dependency");
        assert_eq!(broken, app, "a manifest that does not parse is absent: the package above");
        assert_eq!(packages.crate_named(app, "fix"), Some(fixtures), "a renamed dependency by its new name");
        assert_eq!(packages.crate_named(app, "base"), Some(base));
        assert_eq!(packages.crate_named_from(app, "base", false), Some(base), "normal and dev: normal");
        assert_eq!(packages.crate_named_from(app, "fix", false), None, "dev only: not for the library");
        assert!(packages.sees_normally(app, base) && !packages.sees_normally(app, fixtures));
        assert_eq!(packages.crate_named(app, "app"), Some(app), "its own library");
        assert_eq!(packages.crate_named(base, "app"), None, "a dependent is not named");
        assert_eq!(dependency_dirs(&root.join("app")), [root.join("base"), root.join("fixtures")]);
        assert_eq!(dependency_dirs(&root.join("base")), Vec::<PathBuf>::new());
    }
}
