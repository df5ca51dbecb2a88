//! Finding a project's SQL migrations: the `migrations/` directories (and
//! `…-migrations/`, `…_migrations/` beside them) of the checked
//! trees and of the checked files' packages (sqlx, diesel, refinery and most
//! hand-rolled runners keep them there), or the directories `gatelint.toml` names
//! (`migrations = ["db/migrations"]`). Each directory is one migration set, applied in
//! version order; the version is the number a file or folder name starts with.
//! The engine reads the files into the sources ([`Migrations`]).

use crate::input::source::FileId;
use std::path::{Path, PathBuf};

/// One migration file of a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationFile {
    pub path: PathBuf,
    /// The version as written (`20240101120000`, `0001`, `2020-01-01-000000`).
    pub version: String,
    /// The name after the version (`create_workspaces`).
    pub name: String,
}

impl MigrationFile {
    /// The version's digits without leading zeros, for ordering and for telling
    /// two spellings of one version apart from two versions (`0001` and `1` collide).
    pub fn number(&self) -> String {
        let digits: String = self.version.chars().filter(char::is_ascii_digit).collect();
        let trimmed = digits.trim_start_matches('0');
        if trimmed.is_empty() { "0".to_string() } else { trimmed.to_string() }
    }

    fn order_key(&self) -> (usize, String, String) {
        let n = self.number();
        (n.len(), n, self.name.clone())
    }
}

/// A directory of migrations, in apply order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationDir {
    pub dir: PathBuf,
    /// The folder the migrations belong to: the parent of `migrations/` (also for a
    /// set per database below it, `migrations/sqlite/`). Code under it runs them.
    pub holder: PathBuf,
    pub files: Vec<MigrationFile>,
}

/// One migration file as checked.
#[derive(Clone, Debug)]
pub struct Migration {
    pub file: FileId,
    /// The version as written in its name.
    pub version: String,
    /// The version's number ([`MigrationFile::number`]).
    pub number: String,
    pub name: String,
}

/// One migration directory, in apply order.
#[derive(Clone, Debug)]
pub struct MigrationSet {
    /// The directory as shown to users.
    pub shown: String,
    pub files: Vec<Migration>,
}

/// The migration sets of a run, and which one each checked file runs against.
#[derive(Clone, Debug, Default)]
pub struct Migrations {
    pub sets: Vec<MigrationSet>,
    /// By file id: the index in `sets` of the set a Rust file's SQL runs against —
    /// the set whose directory sits in a folder holding the file (the nearest), else
    /// the only set of the run.
    pub set_of: Vec<Option<usize>>,
    /// Rust files whose SQL runs against none of the sets although their package
    /// holds one (the run has several, none in a folder above them): their SQL is
    /// checked against no schema.
    pub unchecked: Vec<FileId>,
}

impl Migrations {
    pub fn for_file(&self, file: FileId) -> Option<&MigrationSet> {
        self.set_of.get(file).copied().flatten().map(|i| &self.sets[i])
    }
}

/// Directories walked below a root to find `migrations/` folders (a workspace's
/// `crates/db/migrations` is three levels down).
const MAX_DEPTH: usize = 4;

/// Folders never holding a project's own migrations.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "node_modules", "vendor", ".cargo"];

/// The migration directories for a run: `configured` when the configuration names
/// some, else the `migrations/` folders found under `roots` (the checked directories
/// and the checked files' package directories).
pub fn find(roots: &[PathBuf], configured: &[PathBuf]) -> Vec<MigrationDir> {
    let mut dirs: Vec<(PathBuf, PathBuf)> = if configured.is_empty() {
        let mut found = Vec::new();
        for root in roots {
            walk_for_migrations(root, 0, &mut found);
            // A folder named inside a project sees the migrations beside its
            // ancestors (`check src/handlers` runs against `./migrations`), up to the
            // repository's root.
            for ancestor in root.ancestors().skip(1).take(6) {
                let Ok(entries) = std::fs::read_dir(ancestor) else { break };
                let mut beside: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_dir() && is_migrations_name(p))
                    .collect();
                beside.sort();
                for dir in beside {
                    walk_for_migrations(&dir, MAX_DEPTH, &mut found);
                }
                if ancestor.join(".git").exists() {
                    break;
                }
            }
        }
        found
    } else {
        let configured = configured.iter().filter(|d| d.is_dir());
        configured.map(|d| (d.clone(), d.parent().map(Path::to_path_buf).unwrap_or_default())).collect()
    };
    let canonical = |d: &PathBuf| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
    dirs.iter_mut().for_each(|(d, h)| (*d, *h) = (canonical(d), canonical(h)));
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .map(|(dir, holder)| {
            let files = files_of(&dir);
            MigrationDir { dir, holder, files }
        })
        .filter(|d| !d.files.is_empty())
        .collect()
}

/// Whether a folder's name says it holds migrations: `migrations`,
/// `record-migrations`, `migrations_postgres`.
fn is_migrations_name(dir: &Path) -> bool {
    dir.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_ascii_lowercase)
        .is_some_and(|n| n.ends_with("migrations") || n.starts_with("migrations"))
}

/// Finds migration sets below `dir`, as (set, holder): a migrations folder with
/// migration files in it, else each folder in it that has some (a set per
/// database: `migrations/postgres/`, `migrations/sqlite/`).
fn walk_for_migrations(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, PathBuf)>) {
    if is_migrations_name(dir) {
        let holder = dir.parent().map(Path::to_path_buf).unwrap_or_default();
        if !files_of(dir).is_empty() {
            out.push((dir.to_path_buf(), holder));
        } else if let Ok(entries) = std::fs::read_dir(dir) {
            let mut nested: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir() && !files_of(p).is_empty())
                .collect();
            nested.sort();
            out.extend(nested.into_iter().map(|n| (n, holder.clone())));
        }
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| !SKIPPED_DIRS.contains(&n) && !n.starts_with('.'))
        })
        .collect();
    subdirs.sort();
    for sub in subdirs {
        walk_for_migrations(&sub, depth + 1, out);
    }
}

/// The migration files of one directory, in apply order: `NNNN_name.sql` and
/// `NNNN_name.up.sql` (sqlx), `<version>_<name>/up.sql` (diesel), `V<n>__name.sql`
/// (refinery). Down migrations, repeatable ones and files with no version are not
/// part of the order.
pub fn files_of(dir: &Path) -> Vec<MigrationFile> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if path.is_dir() {
            // diesel: `2020-01-01-000000_create_users/up.sql`
            let up = path.join("up.sql");
            if up.is_file()
                && let Some((version, name)) = split_version(&file_name)
            {
                files.push(MigrationFile { path: up, version, name });
            }
            continue;
        }
        let Some(stem) = file_name.strip_suffix(".sql") else { continue };
        if stem.ends_with(".down") || stem.starts_with("U") && stem[1..].starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let stem = stem.strip_suffix(".up").unwrap_or(stem);
        // refinery: `V1__create_users`
        let stem = match stem.strip_prefix('V') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => stem,
        };
        if let Some((version, name)) = split_version(stem) {
            files.push(MigrationFile { path, version, name });
        }
    }
    files.sort_by_key(MigrationFile::order_key);
    files
}

/// `20240101_create_users` → (`20240101`, `create_users`); the version is the leading
/// digits (dashes between them allowed, as diesel writes dates).
fn split_version(stem: &str) -> Option<(String, String)> {
    let end = stem.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(stem.len());
    let version = stem[..end].trim_end_matches('-');
    if !version.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let name = stem[end..].trim_start_matches(['_', '-', '.']);
    Some((version.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "SELECT 1;").unwrap();
    }

    #[test]
    fn versions_order_numerically_and_down_migrations_are_left_out() {
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("svc/migrations");
        for f in ["10_later.sql", "2_second.sql", "0001_first.up.sql", "0001_first.down.sql", "README.md", "schema.sql"]
        {
            touch(&m.join(f));
        }
        let dirs = find(&[tmp.path().to_path_buf()], &[]);
        assert_eq!(dirs.len(), 1);
        let names: Vec<_> = dirs[0].files.iter().map(|f| (f.version.as_str(), f.name.as_str())).collect();
        assert_eq!(names, [("0001", "first"), ("2", "second"), ("10", "later")]);
    }

    #[test]
    fn diesel_and_refinery_layouts() {
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("migrations");
        touch(&m.join("2021-03-04-120000_create_posts/up.sql"));
        touch(&m.join("2021-03-04-120000_create_posts/down.sql"));
        touch(&m.join("2020-01-01-000000_create_users/up.sql"));
        let d = files_of(&m);
        assert_eq!(d.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["create_users", "create_posts"]);
        assert_eq!(d[0].number(), "20200101000000");
        let r = tmp.path().join("refinery");
        touch(&r.join("V2__add_email.sql"));
        touch(&r.join("V1__create_users.sql"));
        touch(&r.join("U1__undo.sql"));
        let names: Vec<_> = files_of(&r).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["create_users", "add_email"]);
    }

    #[test]
    fn a_folder_inside_a_project_sees_the_migrations_beside_its_ancestors() {
        let tmp = tempfile::tempdir().unwrap();
        touch(&tmp.path().join("svc/migrations/1_x.sql"));
        touch(&tmp.path().join("svc/src/handlers/a.rs"));
        let found = find(&[tmp.path().join("svc/src/handlers")], &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].holder, std::fs::canonicalize(tmp.path().join("svc")).unwrap());
    }

    #[test]
    fn build_output_and_hidden_folders_are_not_searched() {
        let tmp = tempfile::tempdir().unwrap();
        touch(&tmp.path().join("target/debug/migrations/1_x.sql"));
        touch(&tmp.path().join(".git/migrations/1_x.sql"));
        assert!(find(&[tmp.path().to_path_buf()], &[]).is_empty());
        touch(&tmp.path().join("crates/db/migrations/1_x.sql"));
        assert_eq!(find(&[tmp.path().to_path_buf()], &[]).len(), 1);
        touch(&tmp.path().join("crates/db/record-migrations/1_x.sql"));
        assert_eq!(find(&[tmp.path().to_path_buf()], &[]).len(), 2);
        // A set per database below `migrations/`, held by the folder above it.
        touch(&tmp.path().join("svc/migrations/sqlite/1_x.sql"));
        touch(&tmp.path().join("svc/migrations/mysql/1_x.sql"));
        touch(&tmp.path().join("svc/migrations_postgres/1_x.sql"));
        let svc = std::fs::canonicalize(tmp.path().join("svc")).unwrap();
        let sets: Vec<_> = find(&[tmp.path().to_path_buf()], &[]).into_iter().filter(|d| d.holder == svc).collect();
        assert_eq!(sets.len(), 3);
    }
}
