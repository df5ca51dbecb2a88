//! An identical earlier run (same files, same bytes, same configuration): its stored
//! findings stand, and the texts are read again only where the output needs them.

use super::cache::StoredRun;
use super::scan::Scan;
use crate::config::Config;
use crate::input::discover::Discovery;
use crate::input::parse::decode;
use crate::input::source::{SourceDb, SourceFile};
use crate::report::Report;
use crate::report::suppress::Suppressed;
use crate::rules::diagnostic::Diagnostic;

/// The report of the stored run, over the same sources as a fresh run would see.
pub(super) fn replay(
    (stored, read_texts): (StoredRun, Vec<String>),
    discovery: Discovery,
    scans: &[Scan],
    config: &Config,
    pool: &rayon::ThreadPool,
    snippets: bool,
) -> Report {
    let mut db = SourceDb::default();
    for (f, scan) in discovery.files.iter().zip(scans) {
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
    // The files the run read beside the checked ones, as they still are.
    let mut reported = discovery.report_only;
    for (file, text) in stored.looked_for.read.iter().zip(read_texts) {
        if let (Some(reported), true) = (&mut reported, file.reported) {
            reported.insert(file.shown.clone());
        }
        db.files.push(SourceFile::new(file.shown.clone(), text));
    }
    let diagnostics = stored.diagnostics.into_iter().filter_map(|d| d.restore()).collect();
    let suppressed = stored
        .suppressed
        .into_iter()
        .filter_map(|(d, reason)| Some(Suppressed { diagnostic: d.restore()?, reason }))
        .collect();
    let mut report = Report {
        db,
        diagnostics,
        suppressed,
        baselined: 0,
        files_checked: stored.files_checked,
        reported,
        notes: stored.notes,
    };
    if super::finish::report_changed_files(&mut report, pool, snippets) {
        Diagnostic::sort(&mut report.diagnostics, &report.db);
    }
    report
}
