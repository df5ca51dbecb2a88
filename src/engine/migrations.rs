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

/// The migration sets of a run, found before anything is read: which files they
/// hold and the dialect each is read in key the run.
pub(super) struct Found {
    dirs: Vec<MigrationDir>,
    dialects: Vec<Dialect>,
}

impl Found {
    /// Finds the migrations for `roots` (the checked paths) and `configured`
    /// directories, and the dialect of each set: `dialect` (the configuration's),
    /// else the one its path or the manifests above it name.
    pub(super) fn find(roots: &[PathBuf], configured: &[PathBuf], dialect: Option<&str>) -> Found {
        let search: Vec<PathBuf> = roots.iter().map(|r| search_root(r)).collect();
        let dirs = migrations::find(&search, configured);
        let dialects = dirs
            .iter()
            .map(|dir| {
                dialect
                    .and_then(Dialect::named)
                    .or_else(|| dialect_named_by(&dir.dir))
                    .or_else(|| dialect_of_manifests(&dir.holder))
                    .unwrap_or_default()
            })
            .collect();
        Found { dirs, dialects }
    }

    /// What the run's findings depend on besides the migrations' texts (which a
    /// stored run checks itself): the sets, their files in order, their dialects.
    pub(super) fn fingerprint(&self) -> String {
        let mut out = String::new();
        for (dir, dialect) in self.dirs.iter().zip(&self.dialects) {
            out.push_str(&format!("{:?}|{:?}|{dialect:?}", dir.dir, dir.holder));
            for f in &dir.files {
                out.push_str(&format!("|{:?}", f.path));
            }
            out.push('\n');
        }
        out
    }
}

/// Adds the files of the migrations `found` to `gathered`, builds each set's schema
/// and matches the checked files (`paths`, by id) to the sets. Returns the files
/// read, with their paths.
pub(super) fn add_migrations(gathered: &mut Gathered, found: Found, paths: &[&Path]) -> Vec<(FileId, PathBuf)> {
    let Found { dirs, dialects } = found;
    if dirs.is_empty() {
        return Vec::new();
    }
    let mut read = Vec::new();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut sets = Vec::new();
    for MigrationDir { dir, files, .. } in &dirs {
        let mut set = MigrationSet { shown: crate::input::discover::display_path(dir, &cwd), files: Vec::new() };
        for f in files {
            let shown = crate::input::discover::display_path(&f.path, &cwd);
            let Some(file) = add_text_file(gathered, &f.path, shown, MAX_MIGRATION_SIZE, lex_sql_comments, "--") else {
                // Too large or not text: a stored run is not replayed while it is there.
                gathered.looked_for.push(f.path.clone());
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
    let set_of: Vec<Option<usize>> = (0..gathered.facts.len())
        .map(|f| {
            let path = canonical.get(f)?;
            // The sets held by the nearest folder above the file; of several (a set
            // per database), the one whose path names the database the file's path
            // names (`src/databases/sqlite.rs` runs `migrations/sqlite`).
            let deepest =
                dirs.iter().filter(|d| path.starts_with(&d.holder)).map(|d| d.holder.components().count()).max();
            let Some(depth) = deepest else { return (dirs.len() == 1).then_some(0) };
            let held: Vec<usize> = (0..dirs.len())
                .filter(|&i| path.starts_with(&dirs[i].holder) && dirs[i].holder.components().count() == depth)
                .collect();
            let named = dialect_named_by(path);
            held.iter()
                .copied()
                .find(|&i| named.is_some() && dialect_named_by(&dirs[i].dir) == named)
                .or(held.first().copied())
        })
        .collect();
    // Each set's schema, as its migrations leave it.
    gathered.schemas = sets
        .iter()
        .zip(dialects)
        .map(|(set, dialect)| {
            let texts: Vec<MigrationText> = set
                .files
                .iter()
                .map(|m| MigrationText { file: m.file, text: gathered.db.get(m.file).text() })
                .collect();
            build_schema(&texts, dialect)
        })
        .collect();
    let unchecked = unchecked_files(gathered, &set_of, &canonical, &dirs);
    gathered.migrations = Migrations { sets, set_of, unchecked };
    read
}

/// The Rust files that hold SQL (a statement that parses, or a `.sql` file compiled
/// in) and match no set, in a package that holds migrations. A package with no
/// migrations of its own (a tool crate, a client of another service's database)
/// says nothing; without manifests the checked tree is one project.
fn unchecked_files(
    gathered: &Gathered,
    set_of: &[Option<usize>],
    canonical: &[PathBuf],
    dirs: &[MigrationDir],
) -> Vec<FileId> {
    use crate::facts::schema::queries::read_query;
    let set_dirs: Vec<PathBuf> =
        dirs.iter().map(|d| std::fs::canonicalize(&d.dir).unwrap_or_else(|_| d.dir.clone())).collect();
    let parses = |text: &str| {
        [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql].into_iter().any(|d| read_query(text, d).is_some())
    };
    (0..canonical.len())
        .filter(|&f| set_of.get(f).copied().flatten().is_none())
        .filter(|&f| {
            let sql = &gathered.facts[f].sql;
            !sql.sql_files.is_empty() || sql.texts.iter().any(|t| parses(&t.text))
        })
        .filter(|&f| {
            let package = canonical[f].ancestors().skip(1).find(|d| d.join("Cargo.toml").is_file());
            package.is_none_or(|p| set_dirs.iter().any(|d| d.starts_with(p)))
        })
        .collect()
}

/// The run's note about the files whose SQL no migration set checks (those the run
/// reports on), if any.
pub(super) fn unchecked_note(
    gathered: &Gathered,
    report_only: Option<&std::collections::BTreeSet<String>>,
) -> Option<String> {
    let files: Vec<&str> = gathered
        .migrations
        .unchecked
        .iter()
        .map(|&f| gathered.db.get(f).display.as_str())
        .filter(|shown| report_only.is_none_or(|r| r.contains(*shown)))
        .collect();
    let first = files.first()?;
    let (which, them) = match files.len() {
        1 => (format!("`{first}`"), "it"),
        n => (format!("{n} files (the first: `{first}`)"), "them"),
    };
    let sets = &gathered.migrations.sets;
    let mut named: Vec<String> = sets.iter().take(3).map(|s| format!("`{}`", s.shown)).collect();
    if sets.len() > 3 {
        named.push(format!("and {} more", sets.len() - 3));
    }
    Some(format!(
        "the SQL of {which} is checked against no migrations: the run reads {} migration sets ({}) and none is \
         in a folder above {them}; name the set this code runs against in gatelint.toml (`migrations = \
         [\"…\"]`), or keep each set in a folder above its code",
        sets.len(),
        named.join(", ")
    ))
}

/// The one database the manifests above `holder` use (sqlx's `sqlite`, `mysql` or
/// `postgres` feature, rusqlite, tokio-postgres, mysql_async), if only one.
fn dialect_of_manifests(holder: &Path) -> Option<Dialect> {
    let mut found: Vec<Dialect> = Vec::new();
    for dir in holder.ancestors().take(4) {
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let text = text.to_ascii_lowercase();
        // (Features are read from the whole manifest: `sqlx = { …, features = [ "sqlite" ] }`
        // often spans lines.)
        let sqlx = text.contains("sqlx");
        let mut add = |d: Dialect| {
            if !found.contains(&d) {
                found.push(d);
            }
        };
        if text.contains("rusqlite") || sqlx && (text.contains("\"sqlite\"") || text.contains("\"runtime-tokio-sqlite"))
        {
            add(Dialect::Sqlite);
        }
        if text.contains("mysql_async") || sqlx && text.contains("\"mysql\"") {
            add(Dialect::Mysql);
        }
        if text.contains("tokio-postgres") || sqlx && text.contains("\"postgres\"") {
            add(Dialect::Postgres);
        }
        if text.contains("[workspace]") {
            break;
        }
    }
    match found[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// The database a path names in one of its words (`sqlite`, `mysql`, `maria`,
/// `postgres`, `pg`).
fn dialect_named_by(path: &Path) -> Option<Dialect> {
    let text = path.to_string_lossy().to_ascii_lowercase();
    let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let any = |names: &[&str]| words.iter().any(|w| names.contains(w));
    if any(&["mysql", "maria", "mariadb"]) {
        Some(Dialect::Mysql)
    } else if any(&["sqlite", "sqlite3"]) {
        Some(Dialect::Sqlite)
    } else if any(&["postgres", "postgresql", "pg"]) {
        Some(Dialect::Postgres)
    } else {
        None
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
