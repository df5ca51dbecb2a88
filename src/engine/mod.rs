//! Runs the pipeline, one named stage per module: [`files`] (which files to read and
//! report) → [`scan`] (pass 1: size and key each file) → [`replay`] (an identical
//! earlier run's findings, when there is one) → [`file`] (pass 2: read, parse and
//! extract each file once, in parallel) → [`crate_check`] (the crate-wide index and
//! the rules, with the files the facts name read by [`included`], the migrations by
//! [`migrations`] and the configuration files of the checked folders by
//! [`repo_configs`]) → [`finish`] (suppressions, what is reported, order, the run
//! cache).

mod against;
pub mod cache;
mod crate_check;
mod file;
mod files;
mod finish;
mod included;
pub mod migrations;
mod replay;
mod repo_configs;
mod scan;

pub use file::extract_facts;

use crate::config::Config;
use crate::engine::cache::Cache;
use crate::input::discover::Discovered;
use crate::input::macros::MacroTable;
use std::path::PathBuf;

pub use crate::input::WORKER_STACK;

pub use crate::report::Report;

/// An error that stops the run before anything is reported (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The paths or the git index could not be read, or an `exclude` glob is invalid.
    #[error(transparent)]
    Files(#[from] crate::input::discover::DiscoverError),
    /// `--staged`: the git index could not be read.
    #[error(transparent)]
    Staged(#[from] crate::input::staged::StagedError),
    /// `--against`: the revision could not be resolved or read.
    #[error("{0}")]
    Against(String),
    #[error("cannot start worker threads: {0}")]
    Threads(#[from] rayon::ThreadPoolBuildError),
    /// A rule's parameters do not fit it, or the rule failed.
    #[error("rule `{rule}`: {message}")]
    Rule { rule: &'static str, message: String },
}

#[derive(Clone)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    pub jobs: Option<usize>,
    /// Check the git index instead of the working tree.
    pub staged: bool,
    /// Where the facts cache lives; `None` turns it off.
    pub cache_dir: Option<PathBuf>,
    /// The output shows findings with their source (human, JSON and SARIF
    /// fingerprints, baselines): the texts of the files they point into are read
    /// again and checked for changes since the run checked them. Without it,
    /// positions come from the line index kept for every file.
    pub snippets: bool,
    /// `--against REV`: compare the configuration and the suppressions with the
    /// base revision's (`config-weakened`).
    pub against: Option<String>,
}

pub fn run(options: &RunOptions, config: &Config) -> Result<Report, RunError> {
    run_with_overlays(options, config, &[])
}

/// [`run`] with some files' contents given in memory, `(path, bytes)`: the unsaved
/// texts an editor holds. A discovered file whose canonical path is an overlay's is
/// checked with the overlay's bytes, which then supply its facts and findings (with
/// only files named, the rest of their crate is read from disk as usual). A named file
/// that does not exist on disk but has an overlay (a new file not saved yet) is checked
/// with the overlay's bytes as if it were on disk: with the rest of its crate (the
/// directory of the nearest `Cargo.toml` above it), and reported on like any named
/// file. Otherwise discovery decides which files there are: an overlay for a path it
/// does not find, and not named, is ignored.
pub fn run_with_overlays(
    options: &RunOptions,
    config: &Config,
    overlays: &[(PathBuf, Vec<u8>)],
) -> Result<Report, RunError> {
    let exclude_root = exclude_root(config);
    let timings = Timings::from_env();
    let overlays: Vec<(PathBuf, &Vec<u8>)> =
        overlays.iter().map(|(p, bytes)| (crate::input::discover::canonical_as_far_as_exists(p), bytes)).collect();
    // Named files only an overlay holds (new files not saved yet), and the others.
    let (mut unsaved, mut on_disk) = (Vec::new(), Vec::new());
    for path in &options.paths {
        let overlay = (!overlays.is_empty() && !path.exists())
            .then(|| crate::input::discover::canonical_as_far_as_exists(path))
            .and_then(|path| overlays.iter().find(|(p, _)| *p == path));
        match overlay {
            Some(overlay) => unsaved.push(overlay.clone()),
            None => on_disk.push(path.clone()),
        }
    }
    let mut discovery = if unsaved.is_empty() {
        files::find_files(options, config, &exclude_root)
    } else {
        files::unsaved_files_discovery(
            &unsaved,
            RunOptions { paths: on_disk, ..options.clone() },
            config,
            &exclude_root,
        )
    }?;
    if !overlays.is_empty() {
        for file in &mut discovery.files {
            // The crate walk yields canonical paths; a named file keeps the path it was
            // named by (canonicalised only when its file name matches an overlay's).
            let overlay = overlays.iter().find(|(p, _)| {
                *p == file.path
                    || (p.file_name() == file.path.file_name()
                        && std::fs::canonicalize(&file.path).is_ok_and(|c| c == *p))
            });
            if let Some((_, bytes)) = overlay {
                file.content = Some((*bytes).clone());
            }
        }
    }
    timings.mark("discover");
    check_discovered(discovery, options, config, timings)
}

/// The directory the `exclude` globs are relative to: the configuration file's.
fn exclude_root(config: &Config) -> PathBuf {
    config
        .file
        .as_ref()
        .and_then(|f| f.parent().map(PathBuf::from))
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default())
}

/// Checks in-memory sources, `(path, bytes)`, as one crate: the whole per-file
/// pipeline without the file system (used by the fuzz target and robustness tests).
pub fn run_in_memory(files: Vec<(String, Vec<u8>)>, config: &Config) -> Result<Report, RunError> {
    let mut files: Vec<Discovered> = files
        .into_iter()
        .map(|(display, bytes)| Discovered { path: PathBuf::from(&display), display, content: Some(bytes) })
        .collect();
    files.sort();
    let discovery = crate::input::discover::Discovery { files, errors: Vec::new(), report_only: None };
    let options =
        RunOptions { paths: Vec::new(), jobs: Some(1), staged: false, cache_dir: None, snippets: false, against: None };
    check_discovered(discovery, &options, config, Timings { last: None })
}

/// The `macro_rules!` definitions of the files to check (read once more: only files
/// that define a macro are parsed for it).
fn macro_table(files: &[crate::input::discover::Discovered], pool: &rayon::ThreadPool) -> MacroTable {
    use rayon::prelude::*;
    let texts: Vec<String> = pool.install(|| {
        files
            .par_iter()
            .filter_map(|f| {
                let bytes = match &f.content {
                    Some(bytes) => bytes.clone(),
                    None => std::fs::read(&f.path).ok()?,
                };
                memchr::memmem::find(&bytes, b"macro_rules!")?;
                String::from_utf8(bytes).ok()
            })
            .collect()
    });
    MacroTable::of_texts(texts.iter().map(String::as_str))
}

fn check_discovered(
    discovery: crate::input::discover::Discovery,
    options: &RunOptions,
    config: &Config,
    timings: Timings,
) -> Result<Report, RunError> {
    let active = &config.active;
    // A revision that cannot be read stops the run before any work.
    let against_base = options.against.as_deref().map(|rev| against::base(rev, config, options)).transpose()?;
    let exclude_root = exclude_root(config);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .stack_size(WORKER_STACK)
        .thread_name(|i| format!("gatelint-{i}"))
        .build()?;
    // The crates' own `macro_rules!` item macros are expanded before facts are read:
    // the facts depend on their definitions.
    let macros = macro_table(&discovery.files, &pool);
    let cache = options.cache_dir.clone().map(|dir| {
        Cache::open(dir, &format!("{}|{}", active.facts_fingerprint(), macros.fingerprint()), config.include_tests)
    });

    // Pass 1 keys the files only when a stored run could be reused; with no stored run
    // (a cold cache), pass 2 makes the keys.
    // A comparison with a base revision reads what the run key does not hold.
    let keyed = cache.as_ref().filter(|c| c.has_stored_run() && options.against.is_none());
    let scans = scan::scan_files(&discovery.files, keyed, &pool);
    // The packages decide which names reach where: their manifests key the run too.
    let paths: Vec<&std::path::Path> = discovery.files.iter().map(|f| f.path.as_path()).collect();
    let packages = crate::input::packages::Packages::of_files(&paths);
    // The migrations' texts are checked by a stored run itself, as the other files it
    // read; which sets there are, their files and dialects key it.
    let migrations = active
        .reads_migrations()
        .then(|| migrations::Found::find(&options.paths, &config.migrations, config.dialect.as_deref()));
    // The configuration files of the checked trees, for the rules that read them:
    // which there are keys the run, their texts are checked as the other files read.
    let repo_configs = active.reads_repo_configs().then(|| repo_configs::Found::find(&options.paths));
    let run_extra = format!(
        "{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}",
        config.rules,
        active.fingerprint(),
        discovery.errors,
        discovery.report_only,
        config.include_tests,
        packages.0.fingerprint(),
        migrations.as_ref().map(migrations::Found::fingerprint).unwrap_or_default(),
        repo_configs.as_ref().map(repo_configs::Found::fingerprint).unwrap_or_default()
    );
    let keys: Vec<Option<cache::Key>> = scans.iter().map(|s| s.key).collect();
    let run_key = keyed.map(|c| c.run_key(&keys, &run_extra));
    timings.mark("cache load, read");
    if let (Some(c), Some(rk)) = (&cache, &run_key)
        && let Some(stored) = c.run_result(rk)
    {
        let report = replay::replay(stored, discovery, &scans, config, &pool, options.snippets);
        timings.mark("identical run: findings reused");
        return Ok(report);
    }

    let mut outcomes =
        file::check_files(&discovery.files, &scans, config.include_tests, active, cache.as_ref(), &macros, &pool);
    timings.mark("read, parse, facts");
    // Pass 1 made no keys: the run's key comes from pass 2's.
    let run_key = match (&cache, run_key) {
        (Some(c), None) => Some(c.run_key(&outcomes.iter().map(|o| o.key).collect::<Vec<_>>(), &run_extra)),
        (_, key) => key,
    };
    // Written while the rules run; joined before returning.
    let facts_saved = JoinOnDrop(
        cache
            .as_ref()
            .and_then(|c| c.save_in_background(outcomes.iter_mut().filter_map(|o| o.cache_entry.take()).collect())),
    );
    let mut gathered = crate_check::gather(outcomes, discovery.errors, config);
    let first_read = gathered.db.files.len();
    let mut read = included::add_included(&mut gathered, &paths, active);
    if let Some(found) = migrations {
        read.extend(migrations::add_migrations(&mut gathered, found, &paths));
    }
    if let Some(found) = repo_configs {
        let added = repo_configs::add_repo_configs(&mut gathered, found, &read);
        read.extend(added);
    }
    let mut report_only = discovery.report_only;
    if let (false, Some(report)) = (options.staged, &mut report_only) {
        included::report_below_named(&read, &options.paths, &gathered.db, report);
    }
    let read_files = read_files(&gathered, read, first_read, report_only.as_ref());
    let canonical = crate_check::canonical_paths(&paths);
    let mut diagnostics =
        crate_check::run_rules(&gathered, active, &packages, &canonical, config.include_tests, &pool, &timings)?;
    timings.mark("rules");
    let mut against_notes = Vec::new();
    if let Some(base) = &against_base {
        let (found, notes) = against::compare(base, &mut gathered, config, options, &exclude_root, &canonical);
        diagnostics.extend(found);
        against_notes = notes;
        if let (Some(report), Some(file)) = (&mut report_only, gathered.config_file) {
            report.insert(gathered.db.get(file).display.clone());
        }
        timings.mark("compared with the base revision");
    }
    let looked_for = cache::LookedFor {
        cwd: crate::input::discover::working_dir().unwrap_or_default(),
        missing: std::mem::take(&mut gathered.looked_for),
        read: read_files.unwrap_or_default(),
    };
    let storable = gathered.storable && looked_for.read.len() == gathered.db.files.len() - first_read;
    let notes = migrations::unchecked_note(&gathered, report_only.as_ref()).into_iter().chain(against_notes).collect();
    let finished = finish::finish(gathered, diagnostics, report_only, notes, config, &pool, options.snippets);
    if let (Some(c), Some(rk), true, None) = (&cache, &run_key, finished.storable && storable, &options.against) {
        c.save_run(rk, &finished.report, &looked_for);
    }
    drop(facts_saved);
    timings.mark("suppressions, sort, run save, facts saved");
    Ok(finished.report)
}

/// The files read beside the checked ones (`read`, ids from `first` on), in id
/// order, with the bytes they were read with: a stored run is replayed only while
/// they are unchanged. `None` when one of them cannot be told (not all ids read).
fn read_files(
    gathered: &crate_check::Gathered,
    mut read: Vec<(crate::input::source::FileId, PathBuf)>,
    first: usize,
    report_only: Option<&std::collections::BTreeSet<String>>,
) -> Option<Vec<cache::ReadFile>> {
    read.sort_by_key(|(id, _)| *id);
    read.dedup_by_key(|(id, _)| *id);
    let ids_in_order = read.iter().enumerate().all(|(i, (id, _))| *id == first + i);
    if !ids_in_order || first + read.len() != gathered.db.files.len() {
        return None;
    }
    let files = read.into_iter().map(|(id, path)| {
        let source = gathered.db.get(id);
        let shown = source.display.clone();
        cache::ReadFile {
            path,
            checksum: crate::input::source::checksum(source.text().as_bytes()),
            reported: report_only.is_some_and(|r| r.contains(&shown)),
            shown,
        }
    });
    Some(files.collect())
}

/// Waits for a background thread when dropped, on every way out of a function
/// (an error return included): the process must not end while it writes.
pub(crate) struct JoinOnDrop(Option<std::thread::JoinHandle<()>>);

impl Drop for JoinOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

/// `GATELINT_TIMINGS=1` prints how long each phase took to stderr (for profiling).
pub(crate) struct Timings {
    last: Option<std::cell::Cell<std::time::Instant>>,
}

impl Timings {
    fn from_env() -> Self {
        Timings { last: std::env::var_os("GATELINT_TIMINGS").map(|_| std::cell::Cell::new(std::time::Instant::now())) }
    }

    pub(crate) fn mark(&self, phase: &str) {
        if let Some(last) = &self.last {
            let now = std::time::Instant::now();
            eprintln!("gatelint: {phase:<32} {:>8.1} ms", (now - last.get()).as_secs_f64() * 1000.0);
            last.set(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::file::check_file;
    use super::scan::Scan;
    use super::*;
    use crate::input::source::SourceFile;
    use crate::rules::{self, parse_error};

    fn options() -> rules::ActiveRules {
        Config::defaults().active
    }

    /// A file `name` holding `fn f() {}` in a temporary directory, after pass 1 with a cache.
    fn scanned(dir: &std::path::Path, name: &str) -> (Discovered, Cache, Scan) {
        let path = dir.join(name);
        std::fs::write(&path, "fn f() {}\n").unwrap();
        let file = Discovered { display: name.into(), path, content: None };
        let cache = Cache::open(dir.join("cache"), &options().facts_fingerprint(), false);
        let scan = Scan::of(&file, Some(&cache));
        (file, cache, scan)
    }

    #[test]
    fn a_named_file_only_an_overlay_holds_is_checked_with_its_crate() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"demo\"\n").unwrap();
        let helper = "pub async fn create_child(pool: &sqlx::PgPool) -> sqlx::Result<()> {\n    sqlx::query(\"INSERT INTO workspaces (id, name) VALUES (gen_random_uuid(), 1)\").execute(pool).await?;\n    Ok(())\n}\n";
        std::fs::write(root.join("src/db.rs"), helper).unwrap();
        let new = root.join("src/new/import.rs");
        let caller = "pub async fn f(pool: &sqlx::PgPool, names: &[String]) -> sqlx::Result<()> {\n    for _ in names {\n        crate::db::create_child(pool).await?;\n    }\n    Ok(())\n}\n";
        let overlays = [(new.clone(), caller.as_bytes().to_vec())];
        let options = |paths: Vec<PathBuf>| RunOptions {
            paths,
            jobs: Some(1),
            staged: false,
            cache_dir: None,
            snippets: false,
            against: None,
        };
        let findings = |report: &Report| -> Vec<(String, &str)> {
            report.diagnostics.iter().map(|d| (report.db.get(d.loc.file).display.clone(), d.rule)).collect()
        };
        let shown = crate::input::discover::display_path(&new, &std::env::current_dir().unwrap());
        let expected = [(shown.clone(), crate::rules::non_idempotent_insert::ID)];
        // Named alone, and beside a file on disk: the helper's facts come from the crate.
        for paths in [vec![new.clone()], vec![root.join("src/db.rs"), new.clone()]] {
            let report = run_with_overlays(&options(paths.clone()), &Config::defaults(), &overlays).unwrap();
            assert_eq!(findings(&report), expected, "{paths:?}");
            assert!(report.reports_on(&shown));
            assert_eq!(report.files_checked, paths.len());
        }
        // Without its overlay, a named file that does not exist is an error.
        assert!(run(&options(vec![new]), &Config::defaults()).is_err());
    }

    #[test]
    fn a_file_that_disappears_between_the_passes_is_a_read_error() {
        let dir = tempfile::tempdir().unwrap();
        let (file, cache, scan) = scanned(dir.path(), "gone.rs");
        assert_eq!(scan.size, 10);
        std::fs::remove_file(&file.path).unwrap();
        let outcome = check_file(0, &file, &scan, false, &options(), Some(&cache), &MacroTable::default());
        let problem = outcome.problem.expect("reported");
        assert_eq!(problem.rule, parse_error::ID);
        assert!(problem.message.starts_with("cannot read file"), "{}", problem.message);
        // Pass 1 read it: the run must not be stored under pass 1's keys, or an
        // identical later run would replay the read error.
        assert!(outcome.changed);
        assert!(outcome.cache_entry.is_none());
    }

    #[test]
    fn a_file_that_changes_between_the_passes_is_checked_as_read_and_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let (file, cache, scan) = scanned(dir.path(), "moving.rs");
        std::fs::write(&file.path, "fn g( {}\n").unwrap();
        let outcome = check_file(0, &file, &scan, false, &options(), Some(&cache), &MacroTable::default());
        assert!(outcome.changed);
        assert!(outcome.cache_entry.is_none(), "a stale key must not be stored");
        assert!(outcome.problem.is_some(), "the new content is what was parsed");
    }

    #[test]
    fn without_a_stored_run_pass_2_keys_the_file_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (file, cache, _) = scanned(dir.path(), "cold.rs");
        assert!(!cache.has_stored_run());
        let scan = Scan::of(&file, None);
        assert!(!scan.keyed && scan.key.is_none());
        let outcome = check_file(0, &file, &scan, false, &options(), Some(&cache), &MacroTable::default());
        assert!(!outcome.changed);
        let expected = cache.key("cold.rs", b"fn f() {}\n");
        assert_eq!(outcome.key, Some(expected));
        assert_eq!(outcome.cache_entry.map(|(k, _)| k), Some(expected), "its facts are stored under that key");
    }

    #[test]
    fn a_file_over_the_size_limit_is_reported_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.rs");
        // Sparse: no disk space, and nothing may read it (it would take 5 GiB of memory).
        std::fs::File::create(&path).unwrap().set_len(5 << 30).unwrap();
        let file = Discovered { display: "huge.rs".into(), path, content: None };
        let cache = Cache::open(dir.path().join("cache"), &options().facts_fingerprint(), false);
        for scan in [Scan::of(&file, Some(&cache)), Scan::of(&file, None)] {
            assert!(scan.key.is_none(), "unkeyed in pass 1 as in pass 2");
            let outcome = check_file(0, &file, &scan, false, &options(), Some(&cache), &MacroTable::default());
            assert!(outcome.problem.expect("reported").message.starts_with("file is larger than"));
            assert!(outcome.key.is_none() && !outcome.changed);
        }
    }

    #[test]
    fn released_texts_are_read_again_and_changes_are_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        std::fs::write(&path, "let a = 1;\nlet b = 2;\n").unwrap();
        let checked = crate::input::source::checksum(b"let a = 1;\nlet b = 2;\n");
        let mut same = SourceFile::from_disk("a.rs".into(), path.clone(), "let a = 1;\nlet b = 2;\n".into(), checked);
        same.release();
        assert_eq!(same.line_text(2), "let b = 2;");
        assert!(!same.changed_since_checked());
        std::fs::write(&path, "changed\n").unwrap();
        let moved = SourceFile::released("a.rs".into(), path.clone(), checked);
        assert_eq!(moved.text(), "changed\n", "nothing known of the checked text: the new one");
        assert!(moved.changed_since_checked());
        // With the checked text's line index: positions stay valid over blank lines.
        let mut indexed = SourceFile::from_disk("a.rs".into(), path, "let a = 1;\nlet b = 2;\n".into(), checked);
        indexed.release();
        assert_eq!(indexed.line_col(13), crate::input::source::LineCol { line: 2, column: 3 });
        assert_eq!(indexed.text(), "          \n          \n");
        assert!(indexed.changed_since_checked());
    }
}
