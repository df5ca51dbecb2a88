//! Renderers: the same sorted diagnostics as human text, JSON, SARIF or GitHub
//! workflow commands. Each renderer is a pure function of the report.

pub mod concise;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use crate::input::source::SourceDb;
use crate::report::Report;
use crate::rules::diagnostic::{Diagnostic, Severity};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    /// One line per finding: `path:line:col: severity[rule]: message`.
    Concise,
}

/// How human-facing formats are printed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
    /// Findings only: no summary line.
    pub quiet: bool,
}

pub fn render(format: Format, report: &Report, style: Style) -> String {
    match format {
        Format::Human => human::render(report, style),
        Format::Concise => concise::render(report, style),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    }
}

pub fn count(report: &Report, severity: Severity) -> usize {
    report.diagnostics.iter().filter(|d| d.severity == severity).count()
}

/// Every finding, active or suppressed (with its reason), in output order, with
/// its fingerprint: what JSON and SARIF list.
pub fn all_findings(report: &Report) -> Vec<(&Diagnostic, Option<&str>, String)> {
    let mut all: Vec<(&Diagnostic, Option<&str>)> = report.diagnostics.iter().map(|d| (d, None)).collect();
    all.extend(report.suppressed.iter().map(|s| (&s.diagnostic, Some(s.reason.as_str()))));
    let key = |d: &Diagnostic| (report.db.get(d.loc.file).display.clone(), d.loc.start, d.rule, d.message.clone());
    all.sort_by(|a, b| key(a.0).cmp(&key(b.0)));
    let diags: Vec<Diagnostic> = all.iter().map(|(d, _)| (*d).clone()).collect();
    let prints = fingerprints(&diags, &report.db);
    all.into_iter().zip(prints).map(|((d, r), p)| (d, r, p)).collect()
}

/// A fingerprint per diagnostic that survives edits elsewhere in the file: it
/// hashes the rule, the path, the offending line's text (whitespace-normalised) and
/// the code under the primary label — never a line number — plus an occurrence
/// counter for identical findings in one file.
pub fn fingerprints(diags: &[Diagnostic], db: &SourceDb) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    diags
        .iter()
        .map(|d| {
            let file = db.get(d.loc.file);
            let line = file.line_text(file.line_col(d.loc.start as usize).line);
            let normalised: Vec<&str> = line.split_whitespace().collect();
            let snippet = file.text().get(d.loc.range()).unwrap_or("");
            let key = format!("{}\u{0}{}\u{0}{}\u{0}{}", d.rule, file.display, normalised.join(" "), snippet);
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            let digest = Sha256::digest(format!("{key}\u{0}{n}").as_bytes());
            digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

/// The run's notes, a `note:` line each, to print before the summary line.
pub fn note_lines(report: &Report) -> String {
    report.notes.iter().map(|n| format!("note: {n}\n")).collect()
}

/// "2 errors, 1 warning in 14 files"
pub fn summary_line(report: &Report) -> String {
    fn plural(n: usize, word: &str) -> String {
        if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
    }
    let mut line = format!(
        "{}, {} in {}",
        plural(count(report, Severity::Error), "error"),
        plural(count(report, Severity::Warning), "warning"),
        plural(report.files_checked, "file")
    );
    let mut hidden = Vec::new();
    if !report.suppressed.is_empty() {
        hidden.push(format!("{} suppressed", report.suppressed.len()));
    }
    if report.baselined > 0 {
        hidden.push(format!("{} baselined", report.baselined));
    }
    if !hidden.is_empty() {
        line.push_str(&format!(" ({})", hidden.join(", ")));
    }
    line
}
