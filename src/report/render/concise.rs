//! One line per finding, for logs and editors: `path:line:col: severity[rule]: message`.

use super::summary_line;
use crate::report::Report;

pub fn render(report: &Report, style: super::Style) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let (s, _) = report.db.range(&d.loc);
        let path = &report.db.get(d.loc.file).display;
        out.push_str(&format!("{path}:{}:{}: {}[{}]: {}\n", s.line, s.column, d.severity.as_str(), d.rule, d.message));
    }
    if !style.quiet {
        out.push_str(&super::note_lines(report));
        out.push_str(&summary_line(report));
        out.push('\n');
    }
    out
}
