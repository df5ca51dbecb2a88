//! Baselines for adopting gatelint on existing code: `--write-baseline FILE`
//! records today's findings, `--baseline FILE` hides exactly those. Entries are
//! keyed by rule, path and a fingerprint of the offending code — not line numbers —
//! so edits elsewhere in the file keep them, while a new finding of the same rule in
//! the same file is still reported.

use crate::input::source::SourceDb;
use crate::report::render::fingerprints;
use crate::rules::diagnostic::Diagnostic;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A baseline file that could not be read or written (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{}: cannot read baseline: {source}", path.display())]
    Read { path: std::path::PathBuf, source: std::io::Error },
    #[error("{}: not a gatelint baseline: {source}", path.display())]
    NotABaseline { path: std::path::PathBuf, source: serde_json::Error },
    #[error("{}: baseline version {version} is not supported (expected 1)", path.display())]
    Version { path: std::path::PathBuf, version: u32 },
    #[error("{}: cannot write baseline: {source}", path.display())]
    Write { path: std::path::PathBuf, source: std::io::Error },
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub rule: String,
    pub fingerprint: String,
    /// For people reading the file; not used for matching.
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub entries: Vec<Entry>,
}

impl Baseline {
    pub fn of(diags: &[Diagnostic], db: &SourceDb) -> Baseline {
        let mut entries: Vec<Entry> = diags
            .iter()
            .zip(fingerprints(diags, db))
            .map(|(d, fingerprint)| Entry {
                path: db.get(d.loc.file).display.clone(),
                rule: d.rule.to_string(),
                fingerprint,
                message: d.message.clone(),
            })
            .collect();
        entries.sort();
        Baseline { version: 1, entries }
    }

    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let at = || path.to_path_buf();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read { path: at(), source })?;
        let baseline: Baseline =
            serde_json::from_str(&text).map_err(|source| BaselineError::NotABaseline { path: at(), source })?;
        if baseline.version != 1 {
            return Err(BaselineError::Version { path: at(), version: baseline.version });
        }
        Ok(baseline)
    }

    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let mut text = serde_json::to_string_pretty(self).expect("a baseline always serialises");
        text.push('\n');
        std::fs::write(path, text).map_err(|source| BaselineError::Write { path: path.to_path_buf(), source })
    }

    /// Splits findings into the new ones and the count of baselined ones; returns
    /// the entries that matched nothing (stale) among the files `checked` says this
    /// run reported on.
    pub fn apply(
        &self,
        diags: Vec<Diagnostic>,
        db: &SourceDb,
        checked: impl Fn(&str) -> bool,
    ) -> (Vec<Diagnostic>, usize, Vec<Entry>) {
        let prints = fingerprints(&diags, db);
        let mut unused: Vec<bool> = vec![true; self.entries.len()];
        let mut kept = Vec::new();
        let mut hidden = 0;
        for (d, print) in diags.into_iter().zip(prints) {
            let path = &db.get(d.loc.file).display;
            let hit = self
                .entries
                .iter()
                .enumerate()
                .position(|(i, e)| unused[i] && e.rule == d.rule && &e.path == path && e.fingerprint == print);
            match hit {
                Some(i) => {
                    unused[i] = false;
                    hidden += 1;
                }
                None => kept.push(d),
            }
        }
        // Only entries of files this run checked can be stale: a partial run says
        // nothing about the others.
        let read: std::collections::HashSet<&str> = db.files.iter().map(|f| f.display.as_str()).collect();
        let stale = self
            .entries
            .iter()
            .zip(&unused)
            .filter(|(e, u)| **u && read.contains(e.path.as_str()) && checked(&e.path))
            .map(|(e, _)| e.clone())
            .collect();
        (kept, hidden, stale)
    }

    /// The baseline without `stale` entries (pruning never adds).
    pub fn pruned(&self, stale: &[Entry]) -> Baseline {
        Baseline { version: 1, entries: self.entries.iter().filter(|e| !stale.contains(e)).cloned().collect() }
    }
}
