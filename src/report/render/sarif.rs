//! SARIF 2.1.0 as GitHub code scanning accepts it: the rules with their
//! descriptions and help, results with repo-relative locations, related locations
//! for secondary labels, and `partialFingerprints` that do not depend on line numbers.

use super::all_findings;
use crate::input::source::Loc;
use crate::report::Report;
use crate::rules::diagnostic::Severity;
use crate::rules::{RuleMeta, all_meta};
use serde_json::{Value, json};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const FINGERPRINT_KEY: &str = "gatelint/v1";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The first paragraph under "## What it does".
fn what_it_does(meta: &RuleMeta) -> String {
    let doc = &meta.documentation;
    let Some(start) = doc.find("## What it does") else {
        return meta.summary.clone();
    };
    let body = doc[start + "## What it does".len()..].trim_start();
    body.split("\n\n").next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A repo-relative path as a URI reference: every byte but unreserved characters
/// and `/` percent-encoded (`a,b%c.rs` → `a%2Cb%25c.rs`).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(report: &Report, loc: &Loc) -> Value {
    let file = report.db.get(loc.file);
    let (s, e) = report.db.range(loc);
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri(&file.display), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": s.line, "startColumn": s.column, "endLine": e.line, "endColumn": e.column},
        }
    })
}

pub fn render(report: &Report) -> String {
    let metas = all_meta();
    let rules: Vec<Value> = metas
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": what_it_does(m)},
                "help": {"text": m.documentation, "markdown": m.documentation},
                "defaultConfiguration": {"level": m.default_severity.map_or("none", level)},
            })
        })
        .collect();
    let results: Vec<Value> = all_findings(report)
        .into_iter()
        .map(|(d, suppressed, fingerprint)| {
            let text = d.message_with_help();
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut loc = location(report, &l.loc);
                    loc["id"] = json!(i + 1);
                    loc["message"] = json!({"text": l.message});
                    loc
                })
                .collect();
            let mut result = json!({
                "ruleId": d.rule,
                "ruleIndex": metas.iter().position(|m| m.id == d.rule).unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [location(report, &d.loc)],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            });
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            if let Some(reason) = suppressed {
                result["suppressions"] = json!([{"kind": "inSource", "justification": reason}]);
            }
            result
        })
        .collect();
    let mut doc = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gatelint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the directory gatelint ran in"}}},
            "results": results,
        }],
    });
    // The run's notes: notifications of the invocation (only when there are some, so
    // a run without them keeps its bytes).
    if !report.notes.is_empty() {
        let notes: Vec<serde_json::Value> =
            report.notes.iter().map(|n| json!({"level": "note", "message": {"text": n}})).collect();
        doc["runs"][0]["invocations"] = json!([{"executionSuccessful": true, "toolExecutionNotifications": notes}]);
    }
    let mut out = serde_json::to_string_pretty(&doc).expect("JSON values always serialise");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(super::uri("src/a,b%c.rs"), "src/a%2Cb%25c.rs");
        assert_eq!(super::uri("src/handlers/org_import.rs"), "src/handlers/org_import.rs");
        assert_eq!(super::uri("src/caf\u{e9}.rs"), "src/caf%C3%A9.rs");
    }
}
