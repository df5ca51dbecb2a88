//! Files the rules' facts name: compiled in (`include_str!("config.default.toml")`)
//! or read by the program at run time (`"config/default.toml"`). They are read when
//! the rules run, not when the naming file's facts are made (so cached facts never
//! hold another file's content, nor whether it exists), and added to the sources, so
//! findings can point into them, with the suppressions written in their `#` comments.

use super::crate_check::Gathered;
use crate::facts::FileFacts;
use crate::input::comments::lex_hash_comments;
use crate::input::source::{FileId, SourceFile};
use crate::rules::{ActiveRules, NamedFile};
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

/// Included files larger than this are not read (a configuration is far smaller).
const MAX_INCLUDED_SIZE: u64 = 4 << 20;

/// Reads the files the active rules' facts name (`paths`: the naming files, by file
/// id) into `gathered`. A file that cannot be read is left out: the compiler reports
/// a missing `include_str!` file, and a program reading a configuration that is not
/// in the repository gets it from elsewhere. Returns the files read, with their paths.
pub(super) fn add_included(gathered: &mut Gathered, paths: &[&Path], active: &ActiveRules) -> Vec<(FileId, PathBuf)> {
    let mut by_path: BTreeMap<PathBuf, Option<FileId>> = BTreeMap::new();
    let mut run_dirs = RunDirs::new();
    let reads_sql_files = active.reads_migrations();
    for (from, naming) in paths.iter().enumerate().take(gathered.facts.len()) {
        let mut named: Vec<NamedFile> = active
            .iter()
            .flat_map(|(slot, rule, _)| {
                gathered.facts[from].rules.get(slot).and_then(Option::as_ref).map(|f| rule.included_files(f))
            })
            .flatten()
            .collect();
        // The SQL files the code compiles in, for the rules that check SQL against
        // the migrations (`include_str!("queries/open.sql")`, `query_file!`).
        if reads_sql_files {
            named.extend(gathered.facts[from].sql.sql_files.iter().map(|(path, kind)| match kind {
                crate::facts::sql_texts::SqlFileKind::Beside => NamedFile::Beside(path.clone()),
                crate::facts::sql_texts::SqlFileKind::PackageRoot => NamedFile::RunTime(vec![path.clone()]),
            }));
        }
        for name in named {
            let found = match &name {
                NamedFile::Beside(rel) => naming.parent().map(|dir| {
                    let display = &gathered.db.get(from).display;
                    let shown = match Path::new(display).parent() {
                        Some(d) => normalize(&d.join(rel)).to_string_lossy().replace('\\', "/"),
                        None => rel.clone(),
                    };
                    (normalize(&dir.join(rel)), shown)
                }),
                NamedFile::RunTime(candidates) => run_dirs.resolve(naming, candidates),
            };
            let Some((path, shown)) = found else { continue };
            let id = *by_path.entry(path.clone()).or_insert_with(|| {
                let id = add(gathered, &path, shown);
                // Too large or not text: a stored run is not replayed while it is there.
                if id.is_none() {
                    run_dirs.missing.push(path.clone());
                }
                id
            });
            if let Some(id) = id {
                gathered.included.insert((from, name), id);
            }
        }
    }
    // A stored run is keyed on the checked files only: it is replayed only while the
    // files read here are unchanged, and those looked for and not found still missing.
    run_dirs.missing.sort();
    run_dirs.missing.dedup();
    gathered.looked_for = run_dirs.missing;
    by_path.into_iter().filter_map(|(path, id)| Some((id?, path))).collect()
}

/// A run that reports on the named paths only (a package named with the packages it
/// depends on read for facts) also reports on the files read for the rules that lie
/// below a named folder: `check .` reports `config/default.toml`.
pub(super) fn report_below_named(
    read: &[(FileId, PathBuf)],
    named: &[PathBuf],
    db: &crate::input::source::SourceDb,
    report: &mut std::collections::BTreeSet<String>,
) {
    let folders: Vec<PathBuf> =
        named.iter().filter(|p| p.is_dir()).filter_map(|p| std::fs::canonicalize(p).ok()).collect();
    for (id, path) in read {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if folders.iter().any(|f| path.starts_with(f)) {
            report.insert(db.get(*id).display.clone());
        }
    }
}

/// Where a program may run from, for the files it reads by relative paths: the
/// package root of the naming file, its workspace root, and the directory gatelint
/// runs in when that holds the package (a repository root that is no workspace).
struct RunDirs {
    /// The directory gatelint runs in, canonical.
    cwd: Option<PathBuf>,
    /// The directories to try, by the naming file's directory as given.
    by_dir: HashMap<PathBuf, Vec<PathBuf>>,
    /// The paths tried that were not files.
    missing: Vec<PathBuf>,
}

impl RunDirs {
    fn new() -> Self {
        RunDirs { cwd: crate::input::discover::working_dir(), by_dir: HashMap::new(), missing: Vec::new() }
    }

    fn dirs(&mut self, naming: &Path) -> &[PathBuf] {
        let dir = naming.parent().unwrap_or(Path::new("")).to_path_buf();
        let cwd = self.cwd.clone();
        self.by_dir.entry(dir).or_insert_with_key(|dir| {
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir.as_path() };
            let Ok(dir) = std::fs::canonicalize(dir) else { return Vec::new() };
            let mut dirs = match crate::input::packages::package_roots(&dir) {
                Some((package, workspace)) => std::iter::once(package).chain(workspace).collect(),
                None => vec![dir.clone()],
            };
            if let Some(cwd) = cwd
                && dir.starts_with(&cwd)
                && !dirs.contains(&cwd)
            {
                dirs.push(cwd);
            }
            dirs
        })
    }

    /// The first of `candidates` that is a file below one of the directories the
    /// program named by `naming` may run from (in order), with its path as shown.
    fn resolve(&mut self, naming: &Path, candidates: &[String]) -> Option<(PathBuf, String)> {
        let cwd = self.cwd.clone().unwrap_or_default();
        let dirs = self.dirs(naming).to_vec();
        for dir in &dirs {
            for candidate in candidates {
                let path = normalize(&dir.join(candidate));
                if !dirs.iter().any(|d| path.starts_with(d)) {
                    continue;
                }
                if path.is_file() {
                    let shown = crate::input::discover::display_path(&path, &cwd);
                    return Some((path, shown));
                }
                self.missing.push(path);
            }
        }
        None
    }
}

/// Adds the file at `path`, shown as `shown`, to the sources; `None` when it cannot
/// be read as text.
fn add(gathered: &mut Gathered, path: &Path, shown: String) -> Option<FileId> {
    if path.extension().is_some_and(|e| e == "sql") {
        return add_text_file(gathered, path, shown, MAX_INCLUDED_SIZE, crate::input::comments::lex_sql_comments, "--");
    }
    add_text_file(gathered, path, shown, MAX_INCLUDED_SIZE, lex_hash_comments, "#")
}

/// Adds a file that is not Rust (a configuration, a migration) to the sources, with
/// the suppressions its comments hold (`lex` reads them; `allow-file` comes before
/// the first line that is not blank or a `line_comment`); `None` when it is larger
/// than `max_size` or cannot be read as text.
pub(super) fn add_text_file(
    gathered: &mut Gathered,
    path: &Path,
    shown: String,
    max_size: u64,
    lex: fn(&str) -> Vec<crate::input::comments::Comment>,
    line_comment: &str,
) -> Option<FileId> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > max_size {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let id = gathered.db.files.len();
    let source = SourceFile::new(shown, text);
    let comments = lex(source.text());
    let first_item_line = source
        .text()
        .lines()
        .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with(line_comment))
        .map_or(usize::MAX, |i| i + 1);
    let facts = FileFacts {
        suppressions: crate::facts::suppressions::directives(id, &source, &comments, first_item_line),
        ..FileFacts::default()
    };
    gathered.db.files.push(source);
    gathered.facts.push(facts);
    Some(id)
}

/// `a/src/../config.toml` as `a/config.toml` (as the compiler opens it; symbolic
/// links are not resolved).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn parent_directories_fold() {
        assert_eq!(normalize(Path::new("a/src/../config.toml")), Path::new("a/config.toml"));
        assert_eq!(normalize(Path::new("./x/./y.toml")), Path::new("x/y.toml"));
        assert_eq!(normalize(Path::new("../up.toml")), Path::new("../up.toml"));
    }
}
