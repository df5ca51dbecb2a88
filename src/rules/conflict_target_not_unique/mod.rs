//! # conflict-target-not-unique
//!
//! ## What it does
//! Reads each upsert written out in the code (`INSERT … ON CONFLICT (cols) …`,
//! `ON CONFLICT ON CONSTRAINT name`) against the schema the migrations build, and
//! flags a conflict target that matches no primary key, unique constraint or unique
//! index of the table — or matches a partial unique index without repeating its
//! `WHERE`.
//!
//! ## Why is this bad?
//! Postgres (and SQLite) reject the statement: "there is no unique or exclusion
//! constraint matching the ON CONFLICT specification". The upsert that was meant to
//! make a retried request harmless fails on every run, and only against a real
//! database — a mocked one accepts it.
//!
//! ## Example
//! ```rust
//! // the unique index is on (parent_id, name), not on name alone
//! "INSERT INTO workspaces (id, parent_id, name) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING"
//! ```
//!
//! ## Use instead
//! ```rust
//! "INSERT INTO workspaces (id, parent_id, name) VALUES ($1, $2, $3) ON CONFLICT (parent_id, name) DO NOTHING"
//! ```
//!
//! ## Configuration
//! No parameters. Migrations and `dialect` as for `unknown-table`.
//!
//! ## Known limitations
//! - A target is matched by its set of columns, and a partial index by its
//!   predicate written the same way (after normalising case and spacing), not by
//!   logical implication.
//! - A table with an expression index is not judged when no plain key matches (the
//!   target may mean it).
//! - Only SQL written out in full and parsing in the dialect is read (see
//!   `unknown-table`).

use crate::facts::schema::queries::Target;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};
use crate::rules::sql_in_code::{TargetMatch, code_queries, key_parts, migration_name, target_match};
use crate::rules::{CheckCx, NoParams, Rule};

pub const ID: &str = "conflict-target-not-unique";

pub struct ConflictTargetNotUnique;

impl Rule for ConflictTargetNotUnique {
    crate::rules::migration_rule_items!();

    fn check(cx: &CheckCx, _: &NoParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let mut out = Vec::new();
        for q in &code_queries(cx).queries {
            for u in &q.refs.upserts {
                let Some(table) = q.schema.table(&u.table) else { continue };
                let keys: Vec<String> = table
                    .keys
                    .iter()
                    .map(|k| {
                        let name = k.name.as_deref().unwrap_or("unnamed");
                        match &k.predicate {
                            Some(p) => format!("{name} {} WHERE {p}", key_parts(k)),
                            None => format!("{name} {}", key_parts(k)),
                        }
                    })
                    .collect();
                let (message, secondary, help) = match target_match(table, &u.target) {
                    TargetMatch::Any | TargetMatch::Key(_) | TargetMatch::Unsure => continue,
                    TargetMatch::PartialWithoutWhere(k) => (
                        format!(
                            "the conflict target matches only the partial unique index `{}`, whose `WHERE` it does not repeat",
                            k.name.as_deref().unwrap_or("unnamed")
                        ),
                        vec![Label {
                            loc: k.at,
                            message: format!("partial unique index, in `{}`", migration_name(cx, k.at.file)),
                        }],
                        format!(
                            "repeat the index's condition after the target: `ON CONFLICT {} WHERE {}`",
                            key_parts(k),
                            k.predicate.as_deref().unwrap_or_default()
                        ),
                    ),
                    TargetMatch::Nothing => (
                        match &u.target {
                            Target::Constraint(name) => format!("`{}` has no constraint named `{name}`", table.name),
                            _ => format!("no unique key of `{}` matches this `ON CONFLICT` target", table.name),
                        },
                        vec![Label { loc: table.created, message: format!("`{}` is created here", table.name) }],
                        if keys.is_empty() {
                            format!("add a unique constraint or index on the target's columns to `{}`", table.name)
                        } else {
                            format!(
                                "use the columns of one of its keys ({}), or add a unique index on the target's columns",
                                keys.join("; ")
                            )
                        },
                    ),
                };
                out.push(Diagnostic {
                    rule: ID,
                    severity,
                    loc: q.text.loc_of(u.range.as_ref()),
                    message,
                    label: "Postgres rejects this target at run time".into(),
                    secondary,
                    why: Some(
                        "an ON CONFLICT target must match a primary key, unique constraint or unique index: \
                         otherwise the database rejects the statement on every run, and the upsert meant to \
                         make a retry harmless fails instead"
                            .into(),
                    ),
                    notes: Vec::new(),
                    help: Some(help),
                });
            }
        }
        Ok(out)
    }

    /// The fixtures' escape hatch is the unique index the target matches: made a
    /// plain index, nothing matches.
    fn remove_escape_hatch(line: &str) -> String {
        line.replace("CREATE UNIQUE INDEX", "CREATE INDEX").replace(" UNIQUE (", " CHECK (true) --(")
    }
}
