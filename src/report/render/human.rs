//! rustc-like text via codespan-reporting: severity and rule id, message, primary
//! and secondary labels, notes and help, then a one-line summary. A rule's incident
//! note (why it matters) is printed on its first finding; later findings of the
//! rule point back to it, so a run with many findings stays readable.

use super::summary_line;
use crate::report::Report;
use crate::rules::diagnostic::Severity;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel};
use codespan_reporting::term::{self, termcolor::Buffer};
use std::collections::HashSet;

pub fn render(report: &Report, style: super::Style) -> String {
    let mut buffer = if style.color { Buffer::ansi() } else { Buffer::no_color() };
    let config = term::Config::default();
    // Rules whose incident note was printed already.
    let mut why_shown: HashSet<&str> = HashSet::new();
    for d in &report.diagnostics {
        let base = match d.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        };
        let mut labels = vec![CsLabel::primary(d.loc.file, d.loc.range()).with_message(&d.label)];
        labels
            .extend(d.secondary.iter().map(|l| CsLabel::secondary(l.loc.file, l.loc.range()).with_message(&l.message)));
        let mut notes = Vec::new();
        if let Some(why) = &d.why {
            notes.push(if why_shown.insert(d.rule) {
                format!("note: {why}")
            } else {
                format!(
                    "note: see the first `{0}` finding above, or `gatelint explain {0}`, for why this matters",
                    d.rule
                )
            });
        }
        notes.extend(d.notes.iter().map(|n| format!("note: {n}")));
        if let Some(help) = &d.help {
            notes.push(format!("help: {help}"));
        }
        notes.push(format!("more: gatelint explain {}", d.rule));
        let diagnostic = base.with_code(d.rule).with_message(&d.message).with_labels(labels).with_notes(notes);
        // The database holds every labelled file, so rendering cannot fail on lookups.
        let _ = term::emit_to_write_style(&mut buffer, &config, &report.db, &diagnostic);
    }
    // codespan pads the connector lines of multi-line labels with spaces: trimmed, so
    // output written to a file or pasted into a review has no trailing whitespace.
    let mut out: String = String::from_utf8_lossy(buffer.as_slice())
        .split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(body) => format!("{}\n", body.trim_end_matches(' ')),
            None => line.trim_end_matches(' ').to_string(),
        })
        .collect();
    if !style.quiet {
        out.push_str(&super::note_lines(report));
        out.push_str(&summary_line(report));
        out.push('\n');
    }
    out
}
