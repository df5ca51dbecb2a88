//! In-source suppressions that stay accountable:
//! `// gatelint: allow(rule-id, …) -- reason` on the reported line or the line
//! above, and `// gatelint: allow-file(rule-id, …) -- reason` before the first item
//! of a file. The reason is mandatory; a suppression without one, or naming an
//! unknown rule, suppresses nothing and is an `invalid-suppression` finding. One
//! that suppresses nothing is an `unused-suppression` finding.
//!
//! A line suppression also covers the statement (or item, match arm, field) it
//! sits on or directly above, the way a user writes it above the statement:
//! - a finding of a named rule reported anywhere in the statement's head (its lines
//!   up to its first `{`): above `let row = sqlx::query(` for the SQL literal on a
//!   later line;
//! - a finding of a named rule reported inside the statement whose secondary label
//!   points into that head: above a `for` line for the INSERTs its loop label
//!   names. A finding elsewhere is not covered, whatever its labels point at: a
//!   suppression above a helper's `fn` does not hide the loops that call it, nor
//!   one above an outer loop the findings of an inner loop.

use crate::facts::suppressions::Suppression;
use crate::input::source::{Loc, SourceDb};
use crate::rules::diagnostic::{Diagnostic, Severity};

/// A finding hidden by a suppression, kept for SARIF/JSON and the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub diagnostic: Diagnostic,
    pub reason: String,
}

use crate::rules::config_weakened::ID as CONFIG_WEAKENED;
use crate::rules::invalid_suppression::ID as INVALID;
use crate::rules::unused_suppression::ID as UNUSED;

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
    let mut uncovered: Vec<Uncovered> = Vec::new();
    for d in diagnostics {
        let line_of = |loc: &Loc| db.get(loc.file).line_col(loc.start as usize).line;
        let line = line_of(&d.loc);
        // Secondary labels in the finding's own file (a loop header, the call).
        let secondary: Vec<usize> =
            d.secondary.iter().filter(|l| l.loc.file == d.loc.file).map(|l| line_of(&l.loc)).collect();
        let covers = |s: &Suppression| {
            s.file_level
                || s.line == line
                || s.line + 1 == line
                || s.statement
                    .is_some_and(|st| st.head_has(line) || (st.has(line) && secondary.iter().any(|&l| st.head_has(l))))
        };
        let found = per_file
            .get(d.loc.file)
            .and_then(|list| list.iter().position(|s| valid(s) && s.rules.iter().any(|r| r == d.rule) && covers(s)));
        match found {
            Some(k) => {
                used[d.loc.file][k] = true;
                let reason = per_file[d.loc.file][k].reason.clone().unwrap_or_default();
                suppressed.push(Suppressed { diagnostic: d, reason });
            }
            None => {
                uncovered.push((d.loc.file, d.rule, line, d.loc, secondary));
                active.push(d);
            }
        }
    }
    active.extend(accountability(per_file, &used, &uncovered, known_rules, severity_of));
    (active, suppressed)
}

/// A finding no suppression covers: (file, rule, line, location, secondary lines).
type Uncovered = (usize, &'static str, usize, Loc, Vec<usize>);

/// The findings about the suppressions themselves: malformed ones, ones without a
/// reason or naming an unknown rule (`invalid-suppression`), and ones that covered
/// nothing (`unused-suppression`, saying where to go when an uncovered finding of its
/// rules is inside the statement below it).
fn accountability(
    per_file: &[Vec<Suppression>],
    used: &[Vec<bool>],
    uncovered: &[Uncovered],
    known_rules: &[&str],
    severity_of: impl Fn(&str) -> Option<Severity>,
) -> Vec<Diagnostic> {
    let mut active = Vec::new();
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
                        crate::messages::hint(unknown, known_rules.iter().copied())
                    ),
                ))
            } else if s.reason.is_none() {
                Some((INVALID, "gatelint suppression without a reason suppresses nothing".to_string()))
            } else if !used[file][k] && !s.rules.iter().all(|r| r == CONFIG_WEAKENED) {
                // (An accepted weakening of the configuration stays as the record of the
                // decision: findings of `config-weakened` exist only with `--against`.)
                Some((UNUSED, format!("unused suppression: no `{}` finding here", s.rules.join("`, `"))))
            } else {
                None
            };
            let Some((rule, message)) = problem else { continue };
            let Some(severity) = severity_of(rule) else { continue };
            let unknown = s.rules.iter().find(|r| !known_rules.contains(&r.as_str()));
            let suggestion =
                unknown.and_then(|u| Some((u, crate::messages::did_you_mean(u, known_rules.iter().copied())?)));
            // An unused suppression above a statement holding an uncovered finding of its
            // rules was most likely meant for it: say where it must go.
            let missed = (rule == UNUSED)
                .then(|| {
                    let st = s.statement?;
                    uncovered.iter().find(|(f, r, line, _, _)| {
                        *f == file && s.rules.iter().any(|x| x == r) && st.has(*line) && *line > s.line
                    })
                })
                .flatten();
            let (message, secondary) = match missed {
                Some((_, r, line, loc, _)) => (
                    format!(
                        "unused suppression: the `{r}` finding at line {line} is inside the statement below it, \
                         but not in what a suppression covers"
                    ),
                    vec![crate::rules::diagnostic::Label {
                        loc: *loc,
                        message: format!("the `{r}` finding this suppression does not cover"),
                    }],
                ),
                None => (message, Vec::new()),
            };
            let help = if let Some((_, _, line, _, labels)) = missed {
                // The nearest secondary label above the finding: the loop that repeats it.
                match labels.iter().filter(|&&l| l < *line && l > s.line).max() {
                    Some(l) => format!(
                        "a suppression covers its own line, the line below and the head of the statement below it: \
                         move it above line {l} (what repeats the finding) or above line {line} (the finding)"
                    ),
                    None => format!(
                        "a suppression covers its own line, the line below and the head of the statement below it: \
                         move it above line {line} (the finding)"
                    ),
                }
            } else if rule == UNUSED {
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
                secondary,
                why: Some(
                    "suppressions must stay accountable: a reason, a known rule, and a finding to suppress".into(),
                ),
                notes: Vec::new(),
                help: Some(help),
            });
        }
    }
    active
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::suppressions::{Statement, directives, statements};
    use crate::input::comments::lex_comments;
    use crate::input::source::SourceFile;

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

    /// Applies the suppressions of `src` (one file) to `findings` (rule, line,
    /// secondary label lines): the active findings as (rule, line, message, help)
    /// and the number suppressed.
    fn applied(
        src: &str,
        findings: &[(&'static str, usize, &[usize])],
    ) -> (Vec<(String, usize, String, String)>, usize) {
        let file = SourceFile::new("a.rs".into(), src.to_string());
        let at = |line: usize| {
            let at = file.offset_of(line, 1);
            Loc::new(0, at, at + 1)
        };
        let diagnostics = findings
            .iter()
            .map(|&(rule, line, secondary)| Diagnostic {
                rule,
                severity: Severity::Error,
                loc: at(line),
                message: format!("{rule} finding"),
                label: String::new(),
                secondary: secondary
                    .iter()
                    .map(|&l| crate::rules::diagnostic::Label { loc: at(l), message: String::new() })
                    .collect(),
                why: None,
                notes: Vec::new(),
                help: None,
            })
            .collect();
        let mut suppressions = parse(src);
        let parsed = crate::input::parse::parse(src, false).expect("test sources parse");
        statements(&mut suppressions, &file, &parsed.comments, &parsed.syntax);
        let suppressions = vec![suppressions];
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
            &[("non-idempotent-insert", 2, &[])],
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

    /// A loop with an INSERT finding reported at the SQL literal (line 5), the loop
    /// header as its secondary label (line 3), and the statement's call on line 4.
    const LOOP: &str = "async fn f(pool: &PgPool, names: &[String]) {
    SUPPRESSION_A
    for name in names {
        SUPPRESSION_B
        let row = sqlx::query(
            \"INSERT INTO workspaces (name) VALUES ($1) RETURNING id\",
        )
        .bind(name);
        for tag in tags {
            sqlx::query(\"INSERT INTO workspaces (name) VALUES ($1)\").bind(tag);
        }
    }
}
";

    fn in_loop(a: &str, b: &str) -> (Vec<(String, usize, String, String)>, usize) {
        let src = LOOP.replace("SUPPRESSION_A", a).replace("SUPPRESSION_B", b);
        // The literal on line 6 (its loop on line 3), the inner loop's on line 10 (its loop on line 9).
        applied(&src, &[("non-idempotent-insert", 6, &[3]), ("non-idempotent-insert", 10, &[9])])
    }

    const ALLOW: &str = "// gatelint: allow(non-idempotent-insert) -- names are unique per import";

    #[test]
    fn a_suppression_above_the_loop_covers_the_findings_its_loop_label_names_only() {
        let (active, suppressed) = in_loop(ALLOW, "");
        assert_eq!(suppressed, 1, "{active:?}");
        // The inner loop's finding is not the outer loop's: still reported.
        assert_eq!(active.iter().map(|a| (a.0.as_str(), a.1)).collect::<Vec<_>>(), vec![("non-idempotent-insert", 10)]);
        // Another rule's suppression covers nothing, and says so.
        let (active, suppressed) = in_loop("// gatelint: allow(wildcard-listen-default) -- wrong rule", "");
        assert_eq!(suppressed, 0);
        assert!(active.iter().any(|a| a.0 == UNUSED), "{active:?}");
    }

    #[test]
    fn a_suppression_above_the_call_line_covers_the_sql_literal_below_it() {
        let (active, suppressed) = in_loop("", ALLOW);
        assert_eq!(suppressed, 1, "{active:?}");
        assert_eq!(active.iter().map(|a| a.1).collect::<Vec<_>>(), vec![10]);
        // After code, on the loop's own line.
        let src = LOOP
            .replace("SUPPRESSION_A", "")
            .replace("SUPPRESSION_B", "")
            .replace("    for name in names {", &format!("    for name in names {{ {ALLOW}"));
        let (_, suppressed) = applied(&src, &[("non-idempotent-insert", 6, &[3])]);
        assert_eq!(suppressed, 1);
    }

    #[test]
    fn a_suppression_above_a_function_does_not_cover_its_callers() {
        let src = "// gatelint: allow(non-idempotent-insert) -- reviewed
async fn create(pool: &PgPool) {
    sqlx::query(\"INSERT INTO workspaces (id) VALUES (1)\");
}

async fn expand(pool: &PgPool) {
    for _ in 0..3 {
        create(pool).await;
    }
}
";
        // The call in the loop (line 8), with the callee's name (line 2) and its INSERT (line 3) as labels.
        let (active, suppressed) = applied(src, &[("non-idempotent-insert", 8, &[7, 2, 3])]);
        assert_eq!(suppressed, 0);
        let rules: Vec<_> = active.iter().map(|a| (a.0.as_str(), a.1)).collect();
        assert_eq!(rules, vec![("non-idempotent-insert", 8), (UNUSED, 1)]);
        // Recursion inside the function is the function's own: covered.
        let (_, suppressed) = applied(src, &[("non-idempotent-insert", 3, &[2])]);
        assert_eq!(suppressed, 1);
    }

    #[test]
    fn statements_are_found_past_comments_and_blank_lines() {
        let src = "// gatelint: allow(a) -- x\n// gatelint: allow(b) -- y\n\n/// doc\nfn f() {\n    let x = 1;\n}\n";
        let mut s = parse(src);
        let parsed = crate::input::parse::parse(src, false).unwrap();
        statements(&mut s, &SourceFile::new("a.rs".into(), src.to_string()), &parsed.comments, &parsed.syntax);
        let item = Some(Statement { first: 4, head_end: 5, last: 7 });
        assert_eq!((s[0].statement, s[1].statement), (item, item));
    }
}
