//! In-source suppressions that stay accountable:
//! `// gatelint: allow(rule-id, …) -- reason` on the reported line or the line
//! above, and `// gatelint: allow-file(rule-id, …) -- reason` before the first item
//! of a file. The reason is mandatory; a suppression without one, or naming an
//! unknown rule, suppresses nothing and is an `invalid-suppression` finding. One
//! that suppresses nothing is an `unused-suppression` finding.

use crate::comments::Comment;
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, Loc, SourceDb, SourceFile};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The comment.
    pub loc: Loc,
    /// 1-based line of the comment's end.
    pub line: usize,
    pub file_level: bool,
    pub rules: Vec<String>,
    pub reason: Option<String>,
    /// Why the directive could not be read, if it could not.
    pub malformed: Option<String>,
}

/// The directives among a file's comments. `first_item_line` is the line of the
/// file's first item: `allow-file` must come before it.
pub fn directives(file: FileId, source: &SourceFile, comments: &[Comment], first_item_line: usize) -> Vec<Suppression> {
    let mut out = Vec::new();
    for c in comments {
        let body = c.body.trim();
        let Some(rest) = body.strip_prefix("gatelint:") else { continue };
        let loc = Loc::new(file, c.start, c.end);
        let line = source.line_col(c.end.saturating_sub(1)).line;
        let rest = rest.trim();
        let (file_level, rest) = if let Some(r) = rest.strip_prefix("allow-file") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("allow") {
            (false, r)
        } else {
            out.push(malformed(loc, line, "expected `allow(rule-id) -- reason` or `allow-file(rule-id) -- reason`"));
            continue;
        };
        let Some(inner) = rest.trim_start().strip_prefix('(') else {
            out.push(malformed(loc, line, "expected `(` and the rule ids"));
            continue;
        };
        let Some((ids, after)) = inner.split_once(')') else {
            out.push(malformed(loc, line, "missing `)` after the rule ids"));
            continue;
        };
        let rules: Vec<String> = ids.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let reason = after.trim().strip_prefix("--").map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        let misplaced = file_level && line >= first_item_line;
        out.push(Suppression {
            loc,
            line,
            file_level,
            rules,
            reason,
            malformed: misplaced.then(|| "`allow-file` must come before the first item of the file".to_string()),
        });
    }
    out
}

fn malformed(loc: Loc, line: usize, why: &str) -> Suppression {
    Suppression { loc, line, file_level: false, rules: Vec::new(), reason: None, malformed: Some(why.to_string()) }
}

/// A finding hidden by a suppression, kept for SARIF/JSON and the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub diagnostic: Diagnostic,
    pub reason: String,
}

pub const UNUSED: &str = "unused-suppression";
pub const INVALID: &str = "invalid-suppression";

/// Applies every file's suppressions: returns the findings still active, the
/// suppressed ones, and the findings about the suppressions themselves.
pub fn apply(
    diagnostics: Vec<Diagnostic>,
    per_file: &[Vec<Suppression>],
    db: &SourceDb,
    known_rules: &[&str],
    severity_of: impl Fn(&str) -> Option<Severity>,
) -> (Vec<Diagnostic>, Vec<Suppressed>) {
    let mut used: Vec<Vec<bool>> = per_file.iter().map(|s| vec![false; s.len()]).collect();
    let valid = |s: &Suppression| {
        s.malformed.is_none()
            && s.reason.is_some()
            && !s.rules.is_empty()
            && s.rules.iter().all(|r| known_rules.contains(&r.as_str()))
    };
    let mut active = Vec::new();
    let mut suppressed = Vec::new();
    for d in diagnostics {
        let line = db.get(d.loc.file).line_col(d.loc.start as usize).line;
        let found = per_file.get(d.loc.file).and_then(|list| {
            list.iter().position(|s| {
                valid(s)
                    && s.rules.iter().any(|r| r == d.rule)
                    && (s.file_level || s.line == line || s.line + 1 == line)
            })
        });
        match found {
            Some(k) => {
                used[d.loc.file][k] = true;
                let reason = per_file[d.loc.file][k].reason.clone().unwrap_or_default();
                suppressed.push(Suppressed { diagnostic: d, reason });
            }
            None => active.push(d),
        }
    }
    for (file, list) in per_file.iter().enumerate() {
        for (k, s) in list.iter().enumerate() {
            let problem = if let Some(why) = &s.malformed {
                Some((INVALID, format!("malformed gatelint suppression: {why}")))
            } else if s.rules.is_empty() {
                Some((INVALID, "gatelint suppression names no rule".to_string()))
            } else if let Some(unknown) = s.rules.iter().find(|r| !known_rules.contains(&r.as_str())) {
                Some((
                    INVALID,
                    format!(
                        "gatelint suppression names unknown rule `{unknown}`{}; it suppresses nothing",
                        crate::suggest::hint(unknown, known_rules.iter().copied())
                    ),
                ))
            } else if s.reason.is_none() {
                Some((INVALID, "gatelint suppression without a reason suppresses nothing".to_string()))
            } else if !used[file][k] {
                Some((UNUSED, format!("unused suppression: no `{}` finding here", s.rules.join("`, `"))))
            } else {
                None
            };
            let Some((rule, message)) = problem else { continue };
            let Some(severity) = severity_of(rule) else { continue };
            let unknown = s.rules.iter().find(|r| !known_rules.contains(&r.as_str()));
            let suggestion =
                unknown.and_then(|u| Some((u, crate::suggest::did_you_mean(u, known_rules.iter().copied())?)));
            let help = if rule == UNUSED {
                "remove the suppression; it would silently hide a future finding".to_string()
            } else if let (None, Some((unknown, id))) = (&s.malformed, suggestion) {
                format!("replace `{unknown}` with `{id}`")
            } else {
                "write `// gatelint: allow(rule-id) -- why this is safe` (see `gatelint rules` for ids)".to_string()
            };
            active.push(Diagnostic {
                rule: if rule == UNUSED { UNUSED } else { INVALID },
                severity,
                loc: s.loc,
                message,
                label: "this suppression".to_string(),
                secondary: Vec::new(),
                why: Some(
                    "suppressions must stay accountable: a reason, a known rule, and a finding to suppress".into(),
                ),
                notes: Vec::new(),
                help: Some(help),
            });
        }
    }
    (active, suppressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::lex_comments;

    fn parse(src: &str) -> Vec<Suppression> {
        let source = SourceFile::new("a.rs".into(), src.to_string());
        let first_item = src.lines().position(|l| l.starts_with("fn")).map_or(usize::MAX, |i| i + 1);
        directives(0, &source, &lex_comments(src), first_item)
    }

    #[test]
    fn directives_with_reasons_ids_and_file_scope() {
        let s = parse(
            "// gatelint: allow-file(a, b) -- generated\nfn f() {} // gatelint: allow(c) -- reviewed\n/* gatelint: allow(d) */\n",
        );
        assert_eq!(s.len(), 3);
        assert!(s[0].file_level && s[0].malformed.is_none());
        assert_eq!(s[0].rules, vec!["a", "b"]);
        assert_eq!(s[0].reason.as_deref(), Some("generated"));
        assert_eq!((s[1].line, s[1].reason.as_deref()), (2, Some("reviewed")));
        assert_eq!(s[2].reason, None);
    }

    #[test]
    fn malformed_and_misplaced_directives() {
        let s =
            parse("fn f() {}\n// gatelint: allow-file(a) -- too late\n// gatelint: deny(a)\n// gatelint: allow a\n");
        assert!(s.iter().all(|x| x.malformed.is_some()), "{s:?}");
        assert!(parse("// gatelint is great").is_empty());
    }

    /// Applies the suppressions of `src` (one file) to `findings` (rule, line) with
    /// the given known rules: the active findings as (rule, line, message, help).
    fn applied(src: &str, findings: &[(&'static str, usize)]) -> (Vec<(String, usize, String, String)>, usize) {
        let file = SourceFile::new("a.rs".into(), src.to_string());
        let diagnostics = findings
            .iter()
            .map(|&(rule, line)| {
                let at = file.offset_of(line, 1);
                Diagnostic {
                    rule,
                    severity: Severity::Error,
                    loc: Loc::new(0, at, at + 1),
                    message: format!("{rule} finding"),
                    label: String::new(),
                    secondary: Vec::new(),
                    why: None,
                    notes: Vec::new(),
                    help: None,
                }
            })
            .collect();
        let suppressions = vec![parse(src)];
        let db = SourceDb { files: vec![file] };
        let known = ["non-idempotent-insert", "wildcard-listen-default", INVALID, UNUSED];
        let (active, suppressed) = apply(diagnostics, &suppressions, &db, &known, |_| Some(Severity::Error));
        let active = active
            .into_iter()
            .map(|d| {
                let line = db.get(0).line_col(d.loc.start as usize).line;
                (d.rule.to_string(), line, d.message, d.help.unwrap_or_default())
            })
            .collect();
        (active, suppressed.len())
    }

    #[test]
    fn a_misspelt_rule_id_gets_a_suggestion() {
        let (active, suppressed) = applied(
            "// gatelint: allow(non-idempotent-inserts) -- reviewed\nfn f() {}\n",
            &[("non-idempotent-insert", 2)],
        );
        assert_eq!(suppressed, 0);
        let invalid = active.iter().find(|a| a.0 == INVALID).expect("reported");
        assert_eq!(
            invalid.2,
            "gatelint suppression names unknown rule `non-idempotent-inserts` (did you mean `non-idempotent-insert`?); \
             it suppresses nothing"
        );
        assert_eq!(invalid.3, "replace `non-idempotent-inserts` with `non-idempotent-insert`");
        // Nothing close: no guess.
        let (active, _) = applied("// gatelint: allow(sql-injection) -- reviewed\nfn f() {}\n", &[]);
        assert_eq!(active[0].2, "gatelint suppression names unknown rule `sql-injection`; it suppresses nothing");
        assert!(active[0].3.starts_with("write `// gatelint: allow(rule-id)"), "{active:?}");
    }
}
