//! The last stage: suppressions applied, findings kept for the files the run reports
//! on, files that changed while checked reported, findings sorted, and the facts
//! freed off the critical path.

use super::crate_check::Gathered;
use crate::config::Config;
use crate::input::parse::ParseProblem;
use crate::report::Report;
use crate::rules::diagnostic::Diagnostic;
use crate::rules::{self, parse_error};
use rayon::prelude::*;
use std::collections::BTreeSet;

pub(super) struct Finished {
    pub report: Report,
    /// Whether the run's findings may be stored for an identical later run.
    pub storable: bool,
}

pub(super) fn finish(
    gathered: Gathered,
    diagnostics: Vec<Diagnostic>,
    report_only: Option<BTreeSet<String>>,
    notes: Vec<String>,
    config: &Config,
    pool: &rayon::ThreadPool,
    snippets: bool,
) -> Finished {
    let Gathered { db, facts, files_checked, storable, .. } = gathered;
    let per_file: Vec<Vec<crate::facts::suppressions::Suppression>> =
        facts.iter().map(|f| f.suppressions.clone()).collect();
    let known: Vec<&str> = rules::all_meta().iter().map(|m| m.id).collect();
    let (mut diagnostics, mut suppressed) =
        crate::report::suppress::apply(diagnostics, &per_file, &db, &known, |rule| {
            config.settings(rule).and_then(|s| s.severity)
        });
    // Named files or staged files: the rest of the crate only provided facts.
    let mut files_checked = files_checked;
    if let Some(report) = &report_only {
        let keep = |d: &Diagnostic| report.contains(&db.get(d.loc.file).display);
        diagnostics.retain(keep);
        suppressed.retain(|s| keep(&s.diagnostic));
        files_checked = report.len();
    }
    let mut report = Report { db, diagnostics, suppressed, baselined: 0, files_checked, reported: None, notes };
    let storable = storable && !report_changed_files(&mut report, pool, snippets);
    Diagnostic::sort(&mut report.diagnostics, &report.db);
    report.diagnostics.dedup();
    let db = &report.db;
    report.suppressed.sort_by(|a, b| {
        let key = |d: &Diagnostic| (db.get(d.loc.file).display.clone(), d.loc.start, d.rule);
        key(&a.diagnostic).cmp(&key(&b.diagnostic))
    });
    report.reported = report_only;
    // Freeing every file's facts takes a while on a large crate and nothing waits
    // for it: off the critical path (the process may exit first).
    if facts.len() > 1000 {
        // (Where no thread can be started, the facts are simply freed here.)
        let _ = std::thread::Builder::new().spawn(move || drop(facts));
    }
    Finished { report, storable }
}

/// Reads the texts the output needs (in parallel) and reports the files that
/// changed since they were checked: their positions may be off. The texts needed are
/// those of the files the findings point into when the output shows source
/// (`snippets`), and otherwise those without a line index of the checked text (files
/// whose facts came from the cache); a text a rule read is checked too.
/// Returns whether any file changed.
pub(super) fn report_changed_files(report: &mut Report, pool: &rayon::ThreadPool, snippets: bool) -> bool {
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
