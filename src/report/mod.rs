//! From findings to output: the [`Report`] of a run, in-source suppressions
//! ([`suppress`]), baselines ([`baseline`]) and the renderers ([`render`]).

pub mod baseline;
pub mod render;
pub mod suppress;

use crate::input::source::SourceDb;
use crate::rules::diagnostic::Diagnostic;

/// What a run found, with the sources its findings point into.
pub struct Report {
    pub db: SourceDb,
    /// The active findings, sorted by path, line, column, rule.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings hidden by an in-source suppression, sorted the same way.
    pub suppressed: Vec<suppress::Suppressed>,
    /// Findings hidden by `--baseline`.
    pub baselined: usize,
    pub files_checked: usize,
    /// When set, the files findings are reported for; the other files in `db` were
    /// read only for crate-wide facts (named files, a folder inside `src/`, `--staged`).
    pub reported: Option<std::collections::BTreeSet<String>>,
    /// What the run says about itself rather than about the code (SQL it checked
    /// against no migrations): shown with the summary.
    pub notes: Vec<String>,
}

impl Report {
    /// Whether findings of the file shown as `display` are part of this report.
    pub fn reports_on(&self, display: &str) -> bool {
        self.reported.as_ref().is_none_or(|r| r.contains(display))
    }
}
