//! The pipeline: discover → read and parse each file once (in parallel, largest
//! first) → per-file facts → crate-wide index → rules → sorted diagnostics.

use crate::cache::Cache;
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover::{Discovered, discover};
use crate::facts::{ExtractOptions, FileFacts, extract};
use crate::index::CrateIndex;
use crate::parse::{ParseProblem, decode, parse};
use crate::rules::{self, parse_error};
use crate::source::{Loc, SourceDb, SourceFile};
use rayon::prelude::*;
use std::path::PathBuf;

/// Worker threads get a large stack: syn and the visitors recurse per nesting
/// level, and [`crate::parse::MAX_NESTING`] bounds the depth well inside it.
pub const WORKER_STACK: usize = 256 << 20;

/// What the rules see: every file's facts and the crate-wide index.
pub struct CheckContext<'a> {
    pub db: &'a SourceDb,
    /// The project's insert allowlist and the id of its configuration file in `db`.
    pub allowlist: Option<&'a crate::allowlist::Allowlist>,
    pub config_file: Option<usize>,
    /// The INSERT gates' shared parameters, when either gate is on.
    pub insert_params: Option<rules::non_idempotent_insert::InsertParams>,
    /// Indexed by file id; a file that failed to parse has empty facts.
    pub facts: &'a [FileFacts],
    pub index: CrateIndex<'a>,
}

pub struct Report {
    pub db: SourceDb,
    /// The active findings, sorted by path, line, column, rule.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings hidden by an in-source suppression, sorted the same way.
    pub suppressed: Vec<crate::suppress::Suppressed>,
    /// Findings hidden by `--baseline`.
    pub baselined: usize,
    pub files_checked: usize,
}

/// An error that stops the run before any file is checked (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    pub jobs: Option<usize>,
    /// Check the git index instead of the working tree.
    pub staged: bool,
    /// Where the facts cache lives; `None` turns it off.
    pub cache_dir: Option<PathBuf>,
}

pub fn run(options: &RunOptions, config: &Config) -> Result<Report, UsageError> {
    let exclude_root = config
        .file
        .as_ref()
        .and_then(|f| f.parent().map(PathBuf::from))
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let timings = Timings::from_env();
    let discovery = find_files(options, config, &exclude_root).map_err(UsageError)?;
    timings.mark("discover");
    check_discovered(discovery, options, config, timings)
}

/// Checks in-memory sources, `(path, bytes)`, as one crate: the whole per-file
/// pipeline without the file system (used by the fuzz target and robustness tests).
pub fn run_in_memory(files: Vec<(String, Vec<u8>)>, config: &Config) -> Result<Report, UsageError> {
    let mut files: Vec<Discovered> = files
        .into_iter()
        .map(|(display, bytes)| Discovered { path: PathBuf::from(&display), display, content: Some(bytes) })
        .collect();
    files.sort();
    let discovery = crate::discover::Discovery { files, errors: Vec::new(), report_only: None };
    let options = RunOptions { paths: Vec::new(), jobs: Some(1), staged: false, cache_dir: None };
    check_discovered(discovery, &options, config, Timings { last: None })
}

fn check_discovered(
    discovery: crate::discover::Discovery,
    options: &RunOptions,
    config: &Config,
    timings: Timings,
) -> Result<Report, UsageError> {
    let extract_options = ExtractOptions {
        listen: listen_params(config)?,
        inserts: insert_params(config)?,
        provisioner: provisioner_params(config)?,
    };

    let cache = options.cache_dir.clone().map(|dir| Cache::open(dir, &extract_options, config.include_tests));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .stack_size(WORKER_STACK)
        .thread_name(|i| format!("gatelint-{i}"))
        .build()
        .map_err(|e| UsageError(format!("cannot start worker threads: {e}")))?;

    // Read and hash every file first (in parallel): the contents key the caches.
    let (reads, keys): (Vec<FileRead>, Vec<Option<crate::cache::Key>>) = pool.install(|| {
        discovery
            .files
            .par_iter()
            .map(|f| {
                let read = match &f.content {
                    Some(bytes) => Ok(bytes.clone()),
                    None => std::fs::read(&f.path).map_err(|e| format!("cannot read file: {e}")),
                };
                let key = cache.as_ref().zip(read.as_ref().ok()).map(|(c, b)| c.key(&f.display, b));
                (read, key)
            })
            .unzip()
    });
    let run_key = cache.as_ref().map(|c| {
        let extra = format!(
            "{:?}|{:?}|{:?}|{:?}|{}",
            config.rules, config.allowlist, discovery.errors, discovery.report_only, config.include_tests
        );
        c.run_key(&keys, &extra)
    });
    timings.mark("cache load, read");
    // An identical earlier run: its findings stand; only the texts are needed.
    if let (Some(c), Some(rk)) = (&cache, &run_key)
        && let Some(stored) = c.run_result(rk)
    {
        let mut db = SourceDb::default();
        for (f, read) in discovery.files.iter().zip(reads) {
            let text = read.map(|b| decode(b).0).unwrap_or_default();
            db.files.push(SourceFile::new(f.display.clone(), text));
        }
        for err in &discovery.errors {
            db.files.push(SourceFile::new(err.display.clone(), String::new()));
        }
        if let Some(list) = &config.allowlist {
            db.files.push(SourceFile::new(list.file_display.clone(), list.text.clone()));
        }
        let diagnostics = stored.diagnostics.into_iter().filter_map(|d| d.restore()).collect();
        let suppressed = stored
            .suppressed
            .into_iter()
            .filter_map(|(d, reason)| Some(crate::suppress::Suppressed { diagnostic: d.restore()?, reason }))
            .collect();
        timings.mark("identical run: findings reused");
        return Ok(Report { db, diagnostics, suppressed, baselined: 0, files_checked: stored.files_checked });
    }

    // Largest files first, so one big file does not leave a core idle at the end.
    let mut order: Vec<(usize, usize)> =
        reads.iter().enumerate().map(|(i, r)| (r.as_ref().map_or(0, Vec::len), i)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // Each task takes its file's bytes out (no copy).
    let reads: Vec<std::sync::Mutex<Option<FileRead>>> =
        reads.into_iter().map(|r| std::sync::Mutex::new(Some(r))).collect();
    let mut outcomes: Vec<(usize, FileOutcome)> = pool.install(|| {
        order
            .par_iter()
            // One file per task: with the default splitting, one thread ended up with
            // most of the big files (1.06 cores used on the cargo registry; 1.7 with this).
            .with_max_len(1)
            .map(|&(_, id)| {
                let file = &discovery.files[id];
                let read =
                    reads[id].lock().map(|mut r| r.take()).ok().flatten().unwrap_or_else(|| Err("read twice".into()));
                // A bug in gatelint must not take the whole run down: report it on the file.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    check_file(id, file, read, keys[id], config.include_tests, &extract_options, cache.as_ref())
                }))
                .unwrap_or_else(|payload| internal_error_outcome(file, payload));
                (id, outcome)
            })
            .collect()
    });
    outcomes.sort_by_key(|(id, _)| *id);

    let mut db = SourceDb::default();
    let mut all_facts = Vec::with_capacity(outcomes.len());
    let mut diagnostics = Vec::new();
    if let Some(cache) = &cache {
        cache.save(outcomes.iter_mut().filter_map(|(_, o)| o.cache_entry.take()).collect());
    }
    for (id, outcome) in outcomes {
        if let Some(problem) = outcome.problem {
            diagnostics.push(parse_error_diagnostic(id, &outcome.source, problem));
        }
        db.files.push(outcome.source);
        all_facts.push(outcome.facts);
    }
    let files_checked = db.files.len();
    for err in discovery.errors {
        let id = db.files.len();
        db.files.push(SourceFile::new(err.display, String::new()));
        all_facts.push(FileFacts::default());
        diagnostics.push(parse_error_diagnostic(id, db.get(id), ParseProblem { offset: 0, message: err.message }));
    }

    // The configuration file joins the sources so findings can point into it.
    let config_file = config.allowlist.as_ref().map(|list| {
        db.files.push(SourceFile::new(list.file_display.clone(), list.text.clone()));
        all_facts.push(FileFacts::default());
        db.files.len() - 1
    });
    timings.mark("read, parse, facts, cache save");
    let ctx = CheckContext {
        db: &db,
        allowlist: config.allowlist.as_ref(),
        config_file,
        insert_params: extract_options.inserts.clone(),
        facts: &all_facts,
        index: CrateIndex::build(&all_facts),
    };
    // The rules are independent: run them side by side, then collect in registry order.
    let enabled: Vec<_> = rules::checkers()
        .into_iter()
        .filter_map(|rule| config.settings(rule.id()).filter(|s| s.severity.is_some()).map(|s| (rule, s)))
        .collect();
    let results: Vec<Result<Vec<Diagnostic>, UsageError>> = pool.install(|| {
        enabled
            .par_iter()
            .map(|(rule, settings)| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rule.check(&ctx, settings)))
                    .unwrap_or_else(|payload| Err(format!("internal error: {}", panic_message(&payload))))
                    .map_err(|e| UsageError(format!("rule `{}`: {e}", rule.id())))
            })
            .collect()
    });
    for found in results {
        diagnostics.extend(found?);
    }
    timings.mark("rules");
    drop(ctx);
    let per_file: Vec<Vec<crate::suppress::Suppression>> = all_facts.iter().map(|f| f.suppressions.clone()).collect();
    let known: Vec<&str> = rules::all_meta().iter().map(|m| m.id).collect();
    let (mut diagnostics, mut suppressed) = crate::suppress::apply(diagnostics, &per_file, &db, &known, |rule| {
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
    Diagnostic::sort(&mut diagnostics, &db);
    diagnostics.dedup();
    suppressed.sort_by(|a, b| {
        let key = |d: &Diagnostic| (db.get(d.loc.file).display.clone(), d.loc.start, d.rule);
        key(&a.diagnostic).cmp(&key(&b.diagnostic))
    });
    if let (Some(c), Some(rk)) = (&cache, &run_key) {
        let run = crate::cache::StoredRun {
            diagnostics: diagnostics.iter().map(crate::cache::StoredDiagnostic::store).collect(),
            suppressed: suppressed
                .iter()
                .map(|s| (crate::cache::StoredDiagnostic::store(&s.diagnostic), s.reason.clone()))
                .collect(),
            files_checked,
        };
        c.save_run(rk, &run);
    }
    timings.mark("suppressions, sort, run save");
    Ok(Report { db, diagnostics, suppressed, baselined: 0, files_checked })
}

/// The files to read and which of them to report on: the named paths, the whole
/// crate of named files, or the staged files of the git index.
fn find_files(
    options: &RunOptions,
    config: &Config,
    exclude_root: &std::path::Path,
) -> Result<crate::discover::Discovery, String> {
    if options.staged {
        let exclude = crate::discover::exclude_overrides(&config.exclude, exclude_root)?;
        let (files, report) = crate::staged::staged_files(&options.paths, config.include_tests, &exclude)?;
        return Ok(crate::discover::Discovery { files, errors: Vec::new(), report_only: Some(report) });
    }
    if let Some(root) = crate::discover::crate_scope(&options.paths) {
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

/// The INSERT gates share their parameters (tables, preflight helpers, marker).
fn insert_params(config: &Config) -> Result<Option<rules::non_idempotent_insert::InsertParams>, UsageError> {
    let id = rules::non_idempotent_insert::ID;
    let on = |rule: &str| config.settings(rule).is_some_and(|s| s.severity.is_some());
    if !on(id) && !on("insert-allowlist") {
        return Ok(None);
    }
    let settings = config.settings(id).expect("every rule has settings");
    settings.params().map(Some).map_err(|e| UsageError(format!("rule `{id}`: bad parameters: {e}")))
}

fn provisioner_params(
    config: &Config,
) -> Result<Option<rules::direct_provisioner_call::ProvisionerParams>, UsageError> {
    let id = rules::direct_provisioner_call::ID;
    match config.settings(id) {
        Some(s) if s.severity.is_some() => s
            .params::<rules::direct_provisioner_call::ProvisionerParams>()
            .and_then(|p| p.compile())
            .map(Some)
            .map_err(|e| UsageError(format!("rule `{id}`: bad parameters: {e}"))),
        _ => Ok(None),
    }
}

fn listen_params(config: &Config) -> Result<Option<rules::wildcard_listen_default::ListenParams>, UsageError> {
    let id = rules::wildcard_listen_default::ID;
    match config.settings(id) {
        Some(s) if s.severity.is_some() => {
            s.params().map(Some).map_err(|e| UsageError(format!("rule `{id}`: bad parameters: {e}")))
        }
        _ => Ok(None),
    }
}

/// A file's bytes, or why they could not be read.
type FileRead = Result<Vec<u8>, String>;

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
    problem: Option<ParseProblem>,
    /// What to store in the facts cache for this file.
    cache_entry: Option<(crate::cache::Key, Vec<u8>)>,
}

/// Decode → (cache or parse → facts) for one file; the tree is dropped on return.
fn check_file(
    id: usize,
    file: &Discovered,
    read: Result<Vec<u8>, String>,
    key: Option<crate::cache::Key>,
    include_tests: bool,
    options: &ExtractOptions,
    cache: Option<&Cache>,
) -> FileOutcome {
    let bytes = match read {
        Ok(b) => b,
        Err(message) => {
            return FileOutcome {
                source: SourceFile::new(file.display.clone(), String::new()),
                facts: FileFacts::default(),
                problem: Some(ParseProblem { offset: 0, message }),
                cache_entry: None,
            };
        }
    };
    let (text, problem) = decode(bytes);
    let source = SourceFile::new(file.display.clone(), text);
    if let (Some(cache), Some(key)) = (cache, &key)
        && let Some((facts, problem)) = cache.get(key, id)
    {
        let cache_entry = cache.raw(key).map(|raw| (*key, raw));
        return FileOutcome { source, facts, problem, cache_entry };
    }
    let (facts, problem) = match problem {
        Some(p) => (FileFacts::default(), Some(p)),
        None => {
            let result = match parse(&source.text, include_tests) {
                Ok(parsed) => (extract(id, &file.path, &source, &parsed, options), None),
                Err(problem) => (FileFacts::default(), Some(problem)),
            };
            // Spans of this file are no longer needed; free proc-macro2's per-thread table.
            proc_macro2::extra::invalidate_current_thread_spans();
            result
        }
    };
    let cache_entry = key.and_then(|k| Cache::encode(&facts, &problem).map(|bytes| (k, bytes)));
    FileOutcome { source, facts, problem, cache_entry }
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

fn internal_error_outcome(file: &Discovered, payload: Box<dyn std::any::Any + Send>) -> FileOutcome {
    let text = std::fs::read(&file.path).map(|b| decode(b).0).unwrap_or_default();
    FileOutcome {
        source: SourceFile::new(file.display.clone(), text),
        facts: FileFacts::default(),
        cache_entry: None,
        problem: Some(ParseProblem {
            offset: 0,
            message: format!(
                "internal error while checking this file ({}); this is a gatelint bug, please report it with the file",
                panic_message(&payload)
            ),
        }),
    }
}

fn parse_error_diagnostic(id: usize, source: &SourceFile, problem: ParseProblem) -> Diagnostic {
    let start = problem.offset.min(source.text.len());
    let end = source.text[start..].chars().next().map_or(start, |c| start + c.len_utf8());
    Diagnostic {
        rule: parse_error::ID,
        severity: Severity::Error,
        loc: Loc { file: id, start, end },
        message: problem.message,
        label: "gatelint stopped here".to_string(),
        secondary: Vec::new(),
        notes: vec!["this file was not checked by any gate; every other file was".to_string()],
        help: Some("fix the file (rustc reports the same problem) or exclude it in gatelint.toml".to_string()),
    }
}
