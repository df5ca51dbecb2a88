//! Pass 2 over one file: its facts from the cache, or read → decode → parse → facts
//! (shared facts and each active rule's); a file that cannot be checked is a
//! `parse-error` finding, and a panic while checking it is reported on the file.

use super::cache::{Cache, Key};
use super::scan::Scan;
use crate::facts::FileFacts;
use crate::input::discover::Discovered;
use crate::input::macros::MacroTable;
use crate::input::parse::{ParseProblem, decode};
use crate::input::source::{FileId, SourceFile};
use crate::rules::diagnostic::Diagnostic;
use crate::rules::{self, parse_error};
use rayon::prelude::*;

pub(super) struct FileOutcome {
    pub source: SourceFile,
    pub facts: FileFacts,
    /// The file could not be read, decoded or parsed.
    pub problem: Option<Diagnostic>,
    /// What to store in the facts cache for this file.
    pub cache_entry: Option<(Key, Vec<u8>)>,
    /// The file's cache key, when it has one.
    pub key: Option<Key>,
    /// The file changed between the two passes over it.
    pub changed: bool,
}

/// Pass 2 over every file, largest first (so one big file does not leave a core idle
/// at the end), one file per task; outcomes in file order.
pub(super) fn check_files(
    files: &[Discovered],
    scans: &[Scan],
    include_tests: bool,
    active: &rules::ActiveRules,
    cache: Option<&Cache>,
    macros: &MacroTable,
    pool: &rayon::ThreadPool,
) -> Vec<FileOutcome> {
    let mut order: Vec<(u64, usize)> = scans.iter().enumerate().map(|(i, s)| (s.size, i)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut outcomes: Vec<(usize, FileOutcome)> = pool.install(|| {
        order
            .par_iter()
            // One file per task: with the default splitting, one thread ended up with
            // most of the big files (1.06 cores used on the cargo registry; 1.7 with this).
            .with_max_len(1)
            .map(|&(_, id)| {
                let file = &files[id];
                // A bug in gatelint must not take the whole run down: report it on the file.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    check_file(id, file, &scans[id], include_tests, active, cache, macros)
                }))
                .unwrap_or_else(|payload| internal_error_outcome(id, file, payload));
                (id, outcome)
            })
            .collect()
    });
    outcomes.sort_by_key(|(id, _)| *id);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

/// Pass 2 over one file: its facts from the cache, or read → decode → parse →
/// facts. The syntax tree is dropped on return, the text released.
pub(super) fn check_file(
    id: usize,
    file: &Discovered,
    scan: &Scan,
    include_tests: bool,
    active: &rules::ActiveRules,
    cache: Option<&Cache>,
    macros: &MacroTable,
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
                Ok(mut parsed) => {
                    macros.expand(&mut parsed.syntax);
                    (extract_facts(id, &file.path, &source, &parsed, active), None)
                }
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

pub(super) fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
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
