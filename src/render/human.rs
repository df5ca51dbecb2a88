//! rustc-like text via codespan-reporting: severity and rule id, message, primary
//! and secondary labels, notes and help, then a one-line summary.

use super::summary_line;
use crate::diagnostic::Severity;
use crate::engine::Report;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel};
use codespan_reporting::term::{self, termcolor::Buffer};

pub fn render(report: &Report, style: super::Style) -> String {
    let mut buffer = if style.color { Buffer::ansi() } else { Buffer::no_color() };
    let config = term::Config::default();
    for d in &report.diagnostics {
        let base = match d.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        };
        let mut labels = vec![CsLabel::primary(d.loc.file, d.loc.range()).with_message(&d.label)];
        labels
            .extend(d.secondary.iter().map(|l| CsLabel::secondary(l.loc.file, l.loc.range()).with_message(&l.message)));
        let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
        if let Some(help) = &d.help {
            notes.push(format!("help: {help}"));
        }
        notes.push(format!("more: gatelint explain {}", d.rule));
        let diagnostic = base.with_code(d.rule).with_message(&d.message).with_labels(labels).with_notes(notes);
        // The database holds every labelled file, so rendering cannot fail on lookups.
        let _ = term::emit_to_write_style(&mut buffer, &config, &report.db, &diagnostic);
    }
    let mut out = String::from_utf8_lossy(buffer.as_slice()).into_owned();
    if !style.quiet {
        out.push_str(&summary_line(report));
        out.push('\n');
    }
    out
}
