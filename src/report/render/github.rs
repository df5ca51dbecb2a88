//! GitHub Actions workflow commands: one `::error`/`::warning` annotation per
//! finding, shown inline on the pull request diff.

use crate::report::Report;
use crate::rules::diagnostic::Severity;

/// Escapes the message part of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value (`file=…`, `title=…`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let file = report.db.get(d.loc.file);
        let (s, e) = report.db.range(&d.loc);
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let message = d.message_with_help();
        out.push_str(&format!(
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&file.display),
            s.line,
            s.column,
            e.line,
            e.column,
            escape_property(&format!("gatelint {}", d.rule)),
            escape_data(&message)
        ));
    }
    // The run's notes name no line: plain notices.
    for note in &report.notes {
        out.push_str(&format!("::notice title=gatelint::{}\n", escape_data(note)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
