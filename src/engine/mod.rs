//! The pipeline: discover → read and parse each file once (in parallel, largest
//! first) → per-file facts → crate-wide index → rules → sorted diagnostics.

pub mod cache;

use crate::config::Config;
use crate::engine::cache::Cache;
use crate::facts::FileFacts;
use crate::facts::index::CrateIndex;
use crate::input::discover::{Discovered, discover};
use crate::input::parse::{ParseProblem, decode};
use crate::input::source::{FileId, SourceDb, SourceFile};
use crate::rules::diagnostic::Diagnostic;
use crate::rules::{self, parse_error};
use rayon::prelude::*;
use std::path::PathBuf;

/// Worker threads get a large stack: syn and the visitors recurse per nesting
/// level, and [`crate::input::nesting::MAX_DEPTH`] bounds the depth well inside it.
pub const WORKER_STACK: usize = 256 << 20;

pub struct Report {
    pub db: SourceDb,
    /// The active findings, sorted by path, line, column, rule.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings hidden by an in-source suppression, sorted the same way.
    pub suppressed: Vec<crate::report::suppress::Suppressed>,
    /// Findings hidden by `--baseline`.
    pub baselined: usize,
    pub files_checked: usize,
    /// When set, the files findings are reported for; the other files in `db` were
    /// read only for crate-wide facts (named files, a folder inside `src/`, `--staged`).
    pub reported: Option<std::collections::BTreeSet<String>>,
}

impl Report {
    /// Whether findings of the file shown as `display` are part of this report.
    pub fn reports_on(&self, display: &str) -> bool {
        self.reported.as_ref().is_none_or(|r| r.contains(display))
    }
}

/// An error that stops the run before any file is checked (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

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
}

pub fn run(options: &RunOptions, config: &Config) -> Result<Report, UsageError> {
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
) -> Result<Report, UsageError> {
    let exclude_root = config
        .file
        .as_ref()
        .and_then(|f| f.parent().map(PathBuf::from))
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
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
        find_files(options, config, &exclude_root)
    } else {
        unsaved_files_discovery(&unsaved, RunOptions { paths: on_disk, ..options.clone() }, config, &exclude_root)
    }
    .map_err(UsageError)?;
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

/// Discovery for a run naming files that only overlays hold, `unsaved` (canonical
/// path, bytes), beside the paths of `on_disk`: what [`find_files`] finds for those (or,
/// when there are none, the whole crate of the first unsaved file), plus the unsaved
/// files, which are reported on.
fn unsaved_files_discovery(
    unsaved: &[(PathBuf, &Vec<u8>)],
    on_disk: RunOptions,
    config: &Config,
    exclude_root: &std::path::Path,
) -> Result<crate::input::discover::Discovery, String> {
    let mut discovery = if on_disk.paths.is_empty() {
        let dir = unsaved[0].0.parent().unwrap_or(&unsaved[0].0);
        let root = crate::input::discover::manifest_dir(dir).or_else(|| dir.is_dir().then(|| dir.to_path_buf()));
        let mut all = match root {
            Some(root) => discover(&[root], config.include_tests, &config.exclude, exclude_root)?,
            None => crate::input::discover::Discovery { files: Vec::new(), errors: Vec::new(), report_only: None },
        };
        all.report_only = Some(Default::default());
        all
    } else {
        find_files(&on_disk, config, exclude_root)?
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    for (path, bytes) in unsaved {
        let display = crate::input::discover::display_path(path, &cwd);
        if let Some(report) = &mut discovery.report_only {
            report.insert(display.clone());
        }
        if !discovery.files.iter().any(|f| f.display == display) {
            discovery.files.push(Discovered { display, path: path.clone(), content: Some((*bytes).clone()) });
        }
    }
    discovery.files.sort();
    Ok(discovery)
}

/// Checks in-memory sources, `(path, bytes)`, as one crate: the whole per-file
/// pipeline without the file system (used by the fuzz target and robustness tests).
pub fn run_in_memory(files: Vec<(String, Vec<u8>)>, config: &Config) -> Result<Report, UsageError> {
    let mut files: Vec<Discovered> = files
        .into_iter()
        .map(|(display, bytes)| Discovered { path: PathBuf::from(&display), display, content: Some(bytes) })
        .collect();
    files.sort();
    let discovery = crate::input::discover::Discovery { files, errors: Vec::new(), report_only: None };
    let options = RunOptions { paths: Vec::new(), jobs: Some(1), staged: false, cache_dir: None, snippets: false };
    check_discovered(discovery, &options, config, Timings { last: None })
}

fn check_discovered(
    discovery: crate::input::discover::Discovery,
    options: &RunOptions,
    config: &Config,
    timings: Timings,
) -> Result<Report, UsageError> {
    let active = &config.active;
    let cache = options.cache_dir.clone().map(|dir| Cache::open(dir, &active.fingerprint(), config.include_tests));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .stack_size(WORKER_STACK)
        .thread_name(|i| format!("gatelint-{i}"))
        .build()
        .map_err(|e| UsageError(format!("cannot start worker threads: {e}")))?;

    // Pass 1 (in parallel): each file's size, checksum and cache key, to tell whether
    // this run is identical to the stored one. The texts are not kept: holding a
    // large crate's sources for the whole run would dominate its memory. Pass 2 reads
    // each file again when it parses it. With no stored run (a cold cache), pass 1
    // only sizes the files and pass 2 makes the keys.
    let keyed = cache.as_ref().filter(|c| c.has_stored_run());
    let scans: Vec<Scan> = pool.install(|| discovery.files.par_iter().map(|f| Scan::of(f, keyed)).collect());
    let run_extra = format!(
        "{:?}|{:?}|{:?}|{:?}|{}",
        config.rules,
        active.fingerprint(),
        discovery.errors,
        discovery.report_only,
        config.include_tests
    );
    let keys: Vec<Option<crate::engine::cache::Key>> = scans.iter().map(|s| s.key).collect();
    let run_key = keyed.map(|c| c.run_key(&keys, &run_extra));
    timings.mark("cache load, read");
    // An identical earlier run: its findings stand; texts are read on first use.
    if let (Some(c), Some(rk)) = (&cache, &run_key)
        && let Some(stored) = c.run_result(rk)
    {
        let mut db = SourceDb::default();
        for (f, scan) in discovery.files.iter().zip(&scans) {
            db.files.push(match (&f.content, scan.checked) {
                (Some(bytes), _) => SourceFile::new(f.display.clone(), decode(bytes.clone()).0),
                (None, Some(checked)) => SourceFile::released(f.display.clone(), f.path.clone(), checked),
                (None, None) => SourceFile::new(f.display.clone(), String::new()),
            });
        }
        for err in &discovery.errors {
            db.files.push(SourceFile::new(err.display.clone(), String::new()));
        }
        if let Some(t) = &config.text {
            db.files.push(SourceFile::new(t.shown.clone(), t.text.clone()));
        }
        let diagnostics = stored.diagnostics.into_iter().filter_map(|d| d.restore()).collect();
        let suppressed = stored
            .suppressed
            .into_iter()
            .filter_map(|(d, reason)| Some(crate::report::suppress::Suppressed { diagnostic: d.restore()?, reason }))
            .collect();
        timings.mark("identical run: findings reused");
        let mut report = Report {
            db,
            diagnostics,
            suppressed,
            baselined: 0,
            files_checked: stored.files_checked,
            reported: discovery.report_only,
        };
        if report_changed_files(&mut report, &pool, options.snippets) {
            Diagnostic::sort(&mut report.diagnostics, &report.db);
        }
        return Ok(report);
    }

    // Largest files first, so one big file does not leave a core idle at the end.
    let mut order: Vec<(u64, usize)> = scans.iter().enumerate().map(|(i, s)| (s.size, i)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut outcomes: Vec<(usize, FileOutcome)> = pool.install(|| {
        order
            .par_iter()
            // One file per task: with the default splitting, one thread ended up with
            // most of the big files (1.06 cores used on the cargo registry; 1.7 with this).
            .with_max_len(1)
            .map(|&(_, id)| {
                let file = &discovery.files[id];
                // A bug in gatelint must not take the whole run down: report it on the file.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    check_file(id, file, &scans[id], config.include_tests, active, cache.as_ref())
                }))
                .unwrap_or_else(|payload| internal_error_outcome(id, file, payload));
                (id, outcome)
            })
            .collect()
    });
    outcomes.sort_by_key(|(id, _)| *id);
    timings.mark("read, parse, facts");
    // Pass 1 made no keys: the run's key comes from pass 2's.
    let run_key = match (&cache, run_key) {
        (Some(c), None) => Some(c.run_key(&outcomes.iter().map(|(_, o)| o.key).collect::<Vec<_>>(), &run_extra)),
        (_, key) => key,
    };

    let mut db = SourceDb::default();
    let mut all_facts = Vec::with_capacity(outcomes.len());
    let mut diagnostics = Vec::new();
    // Written while the rules run; joined before returning.
    let facts_saved =
        JoinOnDrop(cache.as_ref().and_then(|c| {
            c.save_in_background(outcomes.iter_mut().filter_map(|(_, o)| o.cache_entry.take()).collect())
        }));
    // A file that changed between the two passes: this run's findings are not stored.
    let mut run_storable = true;
    for (_, outcome) in outcomes {
        diagnostics.extend(outcome.problem);
        run_storable &= !outcome.changed;
        db.files.push(outcome.source);
        all_facts.push(outcome.facts);
    }
    let files_checked = db.files.len();
    for err in discovery.errors {
        let id = db.files.len();
        db.files.push(SourceFile::new(err.display, String::new()));
        all_facts.push(FileFacts::default());
        diagnostics.push(parse_error::diagnostic(id, "", ParseProblem::new(0, err.message)));
    }

    // The configuration file joins the sources so findings can point into it.
    let config_file = config.text.as_ref().map(|t| {
        db.files.push(SourceFile::new(t.shown.clone(), t.text.clone()));
        all_facts.push(FileFacts::default());
        db.files.len() - 1
    });
    let cx = rules::CheckCx {
        db: &db,
        files: &all_facts,
        index: pool.install(|| CrateIndex::build(&all_facts)),
        config_file,
        active,
    };
    timings.mark("crate index");
    // The rules are independent: run them side by side, then collect in registry order.
    let enabled: Vec<_> = active.iter().filter_map(|(_, rule, a)| Some((rule, a.severity?, &a.params))).collect();
    let results: Vec<Result<Vec<Diagnostic>, UsageError>> = pool.install(|| {
        enabled
            .par_iter()
            .map(|(rule, severity, params)| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rule.check(&cx, params, *severity)))
                    .unwrap_or_else(|payload| Err(format!("internal error: {}", panic_message(&payload))))
                    .map_err(|e| UsageError(format!("rule `{}`: {e}", rule.id())))
            })
            .collect()
    });
    for found in results {
        diagnostics.extend(found?);
    }
    timings.mark("rules");
    drop(cx);
    let per_file: Vec<Vec<crate::facts::suppressions::Suppression>> =
        all_facts.iter().map(|f| f.suppressions.clone()).collect();
    let known: Vec<&str> = rules::all_meta().iter().map(|m| m.id).collect();
    let (mut diagnostics, mut suppressed) =
        crate::report::suppress::apply(diagnostics, &per_file, &db, &known, |rule| {
            config.settings(rule).and_then(|s| s.severity)
        });
    // Named files or staged files: the rest of the crate only provided facts.
    let mut files_checked = files_checked;
    if let Some(report) = &discovery.report_only {
        let keep = |d: &Diagnostic| report.contains(&db.get(d.loc.file).display);
        diagnostics.retain(keep);
        suppressed.retain(|s| keep(&s.diagnostic));
        files_checked = report.len();
    }
    let mut report = Report { db, diagnostics, suppressed, baselined: 0, files_checked, reported: None };
    run_storable &= !report_changed_files(&mut report, &pool, options.snippets);
    let Report { db, mut diagnostics, mut suppressed, .. } = report;
    Diagnostic::sort(&mut diagnostics, &db);
    diagnostics.dedup();
    suppressed.sort_by(|a, b| {
        let key = |d: &Diagnostic| (db.get(d.loc.file).display.clone(), d.loc.start, d.rule);
        key(&a.diagnostic).cmp(&key(&b.diagnostic))
    });
    if let (Some(c), Some(rk), true) = (&cache, &run_key, run_storable) {
        c.save_run(rk, &diagnostics, &suppressed, files_checked);
    }
    drop(facts_saved);
    timings.mark("suppressions, sort, run save, facts saved");
    // Freeing every file's facts takes a while on a large crate and nothing waits
    // for it: off the critical path (the process may exit first).
    if all_facts.len() > 1000 {
        // (Where no thread can be started, the facts are simply freed here.)
        let _ = std::thread::Builder::new().spawn(move || drop(all_facts));
    }
    Ok(Report { db, diagnostics, suppressed, baselined: 0, files_checked, reported: discovery.report_only })
}

/// The files to read and which of them to report on: the named paths, the whole
/// crate of named files, or the staged files of the git index.
fn find_files(
    options: &RunOptions,
    config: &Config,
    exclude_root: &std::path::Path,
) -> Result<crate::input::discover::Discovery, String> {
    if options.staged {
        let exclude = crate::input::discover::exclude_overrides(&config.exclude, exclude_root)?;
        let (files, report) = crate::input::staged::staged_files(&options.paths, config.include_tests, &exclude)?;
        return Ok(crate::input::discover::Discovery { files, errors: Vec::new(), report_only: Some(report) });
    }
    // Named files, or folders inside a crate's `src/`: the whole crate is read for its
    // facts; findings are reported for what was named.
    if let Some(root) = crate::input::discover::crate_scope(&options.paths) {
        let named = discover(&options.paths, config.include_tests, &config.exclude, exclude_root)?;
        let mut all = discover(&[root], config.include_tests, &config.exclude, exclude_root)?;
        let report: std::collections::BTreeSet<String> = named.files.iter().map(|f| f.display.clone()).collect();
        // A named file is always checked, even where discovery would skip it.
        for f in named.files {
            if !all.files.iter().any(|g| g.display == f.display) {
                all.files.push(f);
            }
        }
        all.files.sort();
        all.report_only = Some(report);
        return Ok(all);
    }
    discover(&options.paths, config.include_tests, &config.exclude, exclude_root)
}

/// Waits for a background thread when dropped, on every way out of a function
/// (an error return included): the process must not end while it writes.
struct JoinOnDrop(Option<std::thread::JoinHandle<()>>);

impl Drop for JoinOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

/// `GATELINT_TIMINGS=1` prints how long each phase took to stderr (for profiling).
struct Timings {
    last: Option<std::cell::Cell<std::time::Instant>>,
}

impl Timings {
    fn from_env() -> Self {
        Timings { last: std::env::var_os("GATELINT_TIMINGS").map(|_| std::cell::Cell::new(std::time::Instant::now())) }
    }

    fn mark(&self, phase: &str) {
        if let Some(last) = &self.last {
            let now = std::time::Instant::now();
            eprintln!("gatelint: {phase:<32} {:>8.1} ms", (now - last.get()).as_secs_f64() * 1000.0);
            last.set(now);
        }
    }
}

struct FileOutcome {
    source: SourceFile,
    facts: FileFacts,
    /// The file could not be read, decoded or parsed.
    problem: Option<Diagnostic>,
    /// What to store in the facts cache for this file.
    cache_entry: Option<(crate::engine::cache::Key, Vec<u8>)>,
    /// The file's cache key, when it has one.
    key: Option<crate::engine::cache::Key>,
    /// The file changed between the two passes over it.
    changed: bool,
}

/// Pass 1 over one file: its size, and with a cache its key and checksum.
struct Scan {
    size: u64,
    /// Pass 1 read the file to key it (it may have failed to).
    keyed: bool,
    key: Option<crate::engine::cache::Key>,
    /// [`crate::input::source::checksum`] of the bytes the key was made from.
    checked: Option<(usize, u64)>,
}

impl Scan {
    fn of(file: &Discovered, cache: Option<&Cache>) -> Scan {
        let of_bytes = |bytes: &[u8]| Scan {
            size: bytes.len() as u64,
            keyed: cache.is_some(),
            key: cache.map(|c| c.key(&file.display, bytes)),
            checked: Some(crate::input::source::checksum(bytes)),
        };
        match (&file.content, cache) {
            (Some(bytes), _) => of_bytes(bytes),
            (None, Some(_)) => match read_unless_too_large(&file.path) {
                Ok(Some(bytes)) => of_bytes(&bytes),
                // Too large to check (pass 2 reports it): not read, unkeyed as in pass 2.
                Ok(None) => Scan { size: u64::MAX, keyed: true, key: None, checked: None },
                // Unreadable now: pass 2 reports it.
                Err(_) => Scan { size: 0, keyed: true, key: None, checked: None },
            },
            (None, None) => Scan {
                size: std::fs::metadata(&file.path).map_or(0, |m| m.len()),
                keyed: false,
                key: None,
                checked: None,
            },
        }
    }
}

/// A file's bytes, or `None` when it is larger than gatelint checks (without
/// reading it): the same calls as `std::fs::read`.
fn read_unless_too_large(path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > crate::input::source::MAX_FILE_SIZE as u64 {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Pass 2 over one file: its facts from the cache, or read → decode → parse →
/// facts. The syntax tree is dropped on return, the text released.
fn check_file(
    id: usize,
    file: &Discovered,
    scan: &Scan,
    include_tests: bool,
    active: &rules::ActiveRules,
    cache: Option<&Cache>,
) -> FileOutcome {
    let display = file.display.clone();
    if let (Some(cache), Some(key), Some(checked)) = (cache, &scan.key, scan.checked)
        && let Some((facts, problem)) = cache.get(key, id)
    {
        let source = match &file.content {
            // Staged content is in memory already.
            Some(bytes) => SourceFile::new(display, decode(bytes.clone()).0),
            None => SourceFile::released(display, file.path.clone(), checked),
        };
        let problem = problem.map(|p| parse_error::diagnostic(id, source.text(), p));
        let cache_entry = cache.raw(key).map(|raw| (*key, raw));
        return FileOutcome { source, facts, problem, cache_entry, key: Some(*key), changed: false };
    }
    let too_large =
        || format!("file is larger than {} bytes: gatelint does not check it", crate::input::source::MAX_FILE_SIZE);
    let read = match &file.content {
        _ if scan.size > crate::input::source::MAX_FILE_SIZE as u64 => Err(too_large()),
        Some(bytes) => Ok(bytes.clone()),
        None => std::fs::read(&file.path).map_err(|e| format!("cannot read file: {e}")),
    };
    let read = read.and_then(|b| if b.len() > crate::input::source::MAX_FILE_SIZE { Err(too_large()) } else { Ok(b) });
    let bytes = match read {
        Ok(b) => b,
        Err(message) => {
            let problem = parse_error::diagnostic(id, "", ParseProblem::new(0, message));
            let source = SourceFile::new(display, String::new());
            // Readable in pass 1, not now: this run's findings must not be stored
            // under pass 1's keys (they would replay the read error).
            let changed = scan.checked.is_some();
            return FileOutcome {
                source,
                facts: FileFacts::default(),
                problem: Some(problem),
                cache_entry: None,
                key: None,
                changed,
            };
        }
    };
    let checked = crate::input::source::checksum(&bytes);
    let (key, changed) = match cache {
        // Pass 1 did not key the file (no stored run): key these bytes.
        Some(cache) if !scan.keyed => (Some(cache.key(&file.display, &bytes)), false),
        // Not what pass 1 read (changed, or unreadable then): its key is stale, so
        // neither the file's facts nor the run's findings are stored.
        Some(_) => {
            let changed = scan.checked != Some(checked);
            (scan.key.filter(|_| !changed), changed)
        }
        None => (None, false),
    };
    let (text, problem) = decode(bytes);
    let mut source = match &file.content {
        Some(_) => SourceFile::new(display, text),
        None => SourceFile::from_disk(display, file.path.clone(), text, checked),
    };
    // Keyed only now: its facts may be stored all the same.
    if let (Some(cache), Some(key), false) = (cache, key, scan.keyed)
        && let Some((facts, problem)) = cache.get(&key, id)
    {
        let problem = problem.map(|p| parse_error::diagnostic(id, source.text(), p));
        source.release();
        let cache_entry = cache.raw(&key).map(|raw| (key, raw));
        return FileOutcome { source, facts, problem, cache_entry, key: Some(key), changed: false };
    }
    let (facts, problem) = match problem {
        Some(p) => (FileFacts::default(), Some(p)),
        None => {
            let needles = comment_needles(active);
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            let result = match crate::input::parse::parse_with(source.text(), include_tests, &needles) {
                Ok(parsed) => (extract_facts(id, &file.path, &source, &parsed, active), None),
                Err(problem) => (FileFacts::default(), Some(problem)),
            };
            // Spans of this file are no longer needed; free proc-macro2's per-thread table.
            proc_macro2::extra::invalidate_current_thread_spans();
            result
        }
    };
    let cache_entry = key.and_then(|k| Cache::encode(&facts, &problem).map(|bytes| (k, bytes)));
    let problem = problem.map(|p| parse_error::diagnostic(id, source.text(), p));
    source.release();
    FileOutcome { source, facts, problem, cache_entry, key, changed }
}

/// The texts a comment must contain to matter: suppressions, and the markers the
/// active rules read.
fn comment_needles(active: &rules::ActiveRules) -> Vec<String> {
    let mut needles = vec!["gatelint:".to_string()];
    needles.extend(active.comment_needles());
    needles
}

/// One parsed file's facts: the shared ones, and each active rule's.
pub fn extract_facts(
    id: FileId,
    path: &std::path::Path,
    source: &SourceFile,
    parsed: &crate::input::parse::ParsedFile,
    active: &rules::ActiveRules,
) -> FileFacts {
    // Function bodies are lowered only when a rule reads return values, and a value is
    // kept when some such rule could use it.
    let reads_returns = active.iter().any(|(_, rule, _)| rule.reads_fn_returns());
    let keep = |value: &crate::facts::value::Value| {
        active.iter().any(|(_, rule, a)| rule.reads_fn_returns() && rule.keeps_fn_return(&a.params, value))
    };
    let shared = crate::facts::extract(id, source, parsed, reads_returns.then_some(&keep as _));
    let mut rules: Vec<Option<rules::ErasedFacts>> = Vec::new();
    rules.resize_with(active.len(), || None);
    let input = rules::FileInput { file: id, path, source, syntax: &parsed.syntax, comments: &parsed.comments };
    for (slot, rule, a) in active.iter() {
        rules[slot] = rule.extract(&input, &a.params);
    }
    FileFacts::new(shared, rules)
}

/// Reads the texts the output needs (in parallel) and reports the files that
/// changed since they were checked: their positions may be off. The texts needed are
/// those of the files the findings point into when the output shows source
/// (`snippets`), and otherwise those without a line index of the checked text (files
/// whose facts came from the cache); a text a rule read is checked too.
/// Returns whether any file changed.
fn report_changed_files(report: &mut Report, pool: &rayon::ThreadPool, snippets: bool) -> bool {
    let mut ids: Vec<usize> = report
        .diagnostics
        .iter()
        .chain(report.suppressed.iter().map(|s| &s.diagnostic))
        .flat_map(|d| std::iter::once(d.loc.file).chain(d.secondary.iter().map(|l| l.loc.file)))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let db = &report.db;
    pool.install(|| {
        ids.par_iter().for_each(|&id| {
            let file = db.get(id);
            if snippets || !file.has_line_index() {
                file.text();
            }
        })
    });
    let changed: Vec<usize> = ids.into_iter().filter(|&id| db.get(id).changed_since_checked()).collect();
    for &id in &changed {
        report.diagnostics.push(parse_error::diagnostic(
            id,
            "",
            ParseProblem::new(
                0,
                "file changed while gatelint was checking it: the positions of its findings may be off; run gatelint again".to_string(),
            ),
        ));
    }
    !changed.is_empty()
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

fn internal_error_outcome(id: usize, file: &Discovered, payload: Box<dyn std::any::Any + Send>) -> FileOutcome {
    let problem = ParseProblem::new(
        0,
        format!(
            "internal error while checking this file ({}); this is a gatelint bug, please report it with the file",
            panic_message(&payload)
        ),
    );
    let text = std::fs::read(&file.path).map(|b| decode(b).0).unwrap_or_default();
    FileOutcome {
        source: SourceFile::new(file.display.clone(), text),
        facts: FileFacts::default(),
        cache_entry: None,
        key: None,
        problem: Some(parse_error::diagnostic(id, "", problem)),
        changed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> rules::ActiveRules {
        Config::defaults().active
    }

    /// A file `name` holding `fn f() {}` in a temporary directory, after pass 1 with a cache.
    fn scanned(dir: &std::path::Path, name: &str) -> (Discovered, Cache, Scan) {
        let path = dir.join(name);
        std::fs::write(&path, "fn f() {}\n").unwrap();
        let file = Discovered { display: name.into(), path, content: None };
        let cache = Cache::open(dir.join("cache"), &options().fingerprint(), false);
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
        let options =
            |paths: Vec<PathBuf>| RunOptions { paths, jobs: Some(1), staged: false, cache_dir: None, snippets: false };
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
        let outcome = check_file(0, &file, &scan, false, &options(), Some(&cache));
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
        let outcome = check_file(0, &file, &scan, false, &options(), Some(&cache));
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
        let outcome = check_file(0, &file, &scan, false, &options(), Some(&cache));
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
        let cache = Cache::open(dir.path().join("cache"), &options().fingerprint(), false);
        for scan in [Scan::of(&file, Some(&cache)), Scan::of(&file, None)] {
            assert!(scan.key.is_none(), "unkeyed in pass 1 as in pass 2");
            let outcome = check_file(0, &file, &scan, false, &options(), Some(&cache));
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
