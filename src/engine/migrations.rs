//! The project's SQL migrations, read when a rule that needs them is on: each
//! migration file joins the sources (findings point into it, suppressions are its
//! `-- gatelint: allow(…)` comments), each migration set's schema is built
//! ([`crate::facts::schema`]), and each Rust file is matched to the set it runs
//! against.

use super::crate_check::Gathered;
use super::included::add_text_file;
use crate::facts::schema::{Dialect, MigrationText, build_schema};
use crate::input::comments::lex_sql_comments;
use crate::input::migrations::{self, Migration, MigrationDir, MigrationSet, Migrations};
use crate::input::source::FileId;
use std::path::{Path, PathBuf};

/// Migration files larger than this are not read (a schema change is far smaller;
/// a data dump is not a migration).
const MAX_MIGRATION_SIZE: u64 = 8 << 20;

/// Finds the migrations for `roots` (the checked paths) and `configured` directories,
/// adds their files to `gathered`, and matches the checked files (`paths`, by id).
/// Returns the files read, with their paths.
pub(super) fn add_migrations(
    gathered: &mut Gathered,
    roots: &[PathBuf],
    configured: &[PathBuf],
    dialect: Option<&str>,
    paths: &[&Path],
) -> Vec<(FileId, PathBuf)> {
    let search: Vec<PathBuf> = roots.iter().map(|r| search_root(r)).collect();
    let dirs = migrations::find(&search, configured);
    if dirs.is_empty() {
        return Vec::new();
    }
    let mut read = Vec::new();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut sets = Vec::new();
    for MigrationDir { dir, files } in &dirs {
        let mut set = MigrationSet { shown: crate::input::discover::display_path(dir, &cwd), files: Vec::new() };
        for f in files {
            let shown = crate::input::discover::display_path(&f.path, &cwd);
            let Some(file) = add_text_file(gathered, &f.path, shown, MAX_MIGRATION_SIZE, lex_sql_comments, "--") else {
                continue;
            };
            gathered.files_checked += 1;
            read.push((file, f.path.clone()));
            set.files.push(Migration { file, version: f.version.clone(), number: f.number(), name: f.name.clone() });
        }
        sets.push(set);
    }
    let canonical: Vec<PathBuf> =
        paths.iter().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())).collect();
    let set_of = (0..gathered.facts.len())
        .map(|f| {
            let path = canonical.get(f)?;
            let nearest = dirs
                .iter()
                .enumerate()
                .filter(|(_, d)| d.dir.parent().is_some_and(|holder| path.starts_with(holder)))
                .max_by_key(|(_, d)| d.dir.components().count())
                .map(|(i, _)| i);
            nearest.or((dirs.len() == 1).then_some(0))
        })
        .collect();
    // Each set's schema, as its migrations leave it.
    gathered.schemas = sets
        .iter()
        .zip(&dirs)
        .map(|(set, dir)| {
            let dialect = dialect.and_then(Dialect::named).unwrap_or_else(|| dialect_of_path(&dir.dir));
            let texts: Vec<MigrationText> = set
                .files
                .iter()
                .map(|m| MigrationText { file: m.file, text: gathered.db.get(m.file).text() })
                .collect();
            build_schema(&texts, dialect)
        })
        .collect();
    gathered.migrations = Migrations { sets, set_of };
    // A stored run is keyed on the checked files only: one whose findings depend on
    // the migrations must not be replayed after a migration changes.
    gathered.storable = false;
    read
}

/// The dialect a migration directory's path names (`db-sqlx-maria/migrations`,
/// `migrations/sqlite`), else Postgres: a project with a set per database.
fn dialect_of_path(dir: &Path) -> Dialect {
    let text = dir.to_string_lossy().to_ascii_lowercase();
    let parts: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    if parts.iter().any(|p| matches!(*p, "mysql" | "maria" | "mariadb")) {
        Dialect::Mysql
    } else if parts.iter().any(|p| matches!(*p, "sqlite" | "sqlite3")) {
        Dialect::Sqlite
    } else {
        Dialect::Postgres
    }
}

/// Where to look for migrations for a checked path: a directory itself; for a file,
/// the outermost package directory above it (a workspace keeps its migrations in
/// one of its crates, or at its root).
fn search_root(path: &Path) -> PathBuf {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if absolute.is_dir() {
        return absolute;
    }
    let mut best = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut dir = absolute.parent();
    while let Some(d) = dir {
        if d.join("Cargo.toml").is_file() {
            best = d.to_path_buf();
        }
        dir = d.parent();
    }
    best
}
