//! Machine-readable output. The schema (version 1) is documented in docs/output-formats.md and
//! only grows: fields are never renamed or removed within a version.

use super::{all_findings, count};
use crate::input::source::{Loc, SourceDb};
use crate::report::Report;
use crate::rules::diagnostic::Severity;
use serde_json::{Value, json};

fn span(loc: &Loc, db: &SourceDb) -> (Value, Value) {
    let (s, e) = db.range(loc);
    (json!({"line": s.line, "column": s.column}), json!({"line": e.line, "column": e.column}))
}

pub fn render(report: &Report) -> String {
    let diagnostics: Vec<Value> = all_findings(report)
        .into_iter()
        .map(|(d, suppressed, fingerprint)| {
            let (start, end) = span(&d.loc, &report.db);
            let labels: Vec<Value> = d
                .secondary
                .iter()
                .map(|l| {
                    let (start, end) = span(&l.loc, &report.db);
                    json!({"path": report.db.get(l.loc.file).display, "start": start, "end": end, "message": l.message})
                })
                .collect();
            json!({
                "rule": d.rule,
                "severity": d.severity.as_str(),
                "path": report.db.get(d.loc.file).display,
                "start": start,
                "end": end,
                "message": d.message,
                "label": d.label,
                "labels": labels,
                "notes": d.all_notes().collect::<Vec<_>>(),
                "help": d.help,
                "fingerprint": fingerprint,
                "suppressed": suppressed.map(|reason| json!({"kind": "inSource", "reason": reason})),
            })
        })
        .collect();
    let doc = json!({
        "version": 1,
        "diagnostics": diagnostics,
        "summary": {
            "errors": count(report, Severity::Error),
            "warnings": count(report, Severity::Warning),
            "files": report.files_checked,
            "suppressed": report.suppressed.len(),
            "notes": report.notes,
        },
    });
    let mut out = serde_json::to_string_pretty(&doc).expect("JSON values always serialise");
    out.push('\n');
    out
}
