//! # upsert-misses-unique-index
//!
//! ## What it does
//! For each upsert written out in the code (`INSERT … ON CONFLICT (target) …`) whose
//! target matches a unique key of the table, flags every *other* unique key
//! (primary key, unique constraint, unique index, partial or not) whose columns the
//! `INSERT` writes: a row can collide on that key, and `ON CONFLICT` does not
//! catch it. The secondary label shows the key and the migration that made it.
//!
//! ## Why is this bad?
//! An upsert promises "insert, or update the row that is there". The team's
//! `ON CONFLICT (id)` on `workspaces` still failed with a unique violation (23505):
//! the table also had unique indexes on `(parent_id, name)` and "one platform root",
//! and the conflict target did not cover the invariant the code relied on. The
//! "idempotent" insert was not.
//!
//! ## Example
//! ```rust
//! // workspaces: PRIMARY KEY (id), UNIQUE INDEX (parent_id, name)
//! "INSERT INTO workspaces (id, parent_id, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING"
//! ```
//!
//! ## Use instead
//! ```rust
//! // the key the code means: a sibling of that name is the same workspace
//! "INSERT INTO workspaces (id, parent_id, name) VALUES ($1, $2, $3) ON CONFLICT (parent_id, name) DO NOTHING"
//! // or `ON CONFLICT DO NOTHING` (no target), which covers every key
//! ```
//!
//! ## Configuration
//! No parameters. Migrations and `dialect` as for `unknown-table`.
//!
//! ## Known limitations
//! - A key counts when the `INSERT` writes all of its columns (an `INSERT` without
//!   a column list writes them all); a key on a column filled by a default (a
//!   generated id) is not one the statement can collide on. An expression key
//!   counts when every column it names is written.
//! - A key on the target's columns and more (`(a, b)` with target `(a)`) is
//!   covered: a collision on it is one on the target.
//! - `DO UPDATE` that changes another key's columns is not followed.
//! - Only SQL written out in full and parsing in the dialect is read (see
//!   `unknown-table`).

use crate::facts::schema::{KeyPart, Table, UniqueKey};
use crate::rules::diagnostic::{Diagnostic, Label, Severity};
use crate::rules::sql_in_code::{TargetMatch, code_queries, key_parts, migration_name, target_match};
use crate::rules::{CheckCx, NoParams, Rule};

pub const ID: &str = "upsert-misses-unique-index";

pub struct UpsertMissesUniqueIndex;

impl Rule for UpsertMissesUniqueIndex {
    crate::rules::migration_rule_items!();

    fn check(cx: &CheckCx, _: &NoParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let mut out = Vec::new();
        for q in &code_queries(cx).queries {
            for u in &q.refs.upserts {
                let Some(table) = q.schema.table(&u.table) else { continue };
                let TargetMatch::Key(matched) = target_match(table, &u.target) else { continue };
                let writes = |column: &str| u.columns.is_empty() || u.columns.iter().any(|c| c == column);
                let target: Vec<&str> = matched.columns().unwrap_or_default();
                for other in table.keys.iter().filter(|k| !std::ptr::eq(*k, matched)) {
                    // A key on the target's columns and more: a collision on it is one
                    // on the target, which the upsert catches.
                    let covers_target =
                        !target.is_empty() && other.columns().is_some_and(|c| target.iter().all(|t| c.contains(t)));
                    if covers_target || !written(other, table, writes) {
                        continue;
                    }
                    let name = other.name.as_deref().unwrap_or("unnamed");
                    let partial = other.predicate.as_ref().map_or(String::new(), |p| format!(" WHERE {p}"));
                    out.push(Diagnostic {
                        rule: ID,
                        severity,
                        loc: q.text.loc_of(u.range.as_ref()),
                        message: format!(
                            "this upsert on {} does not cover the unique key `{name}` {}{partial} of `{}`",
                            key_parts(matched),
                            key_parts(other),
                            table.name
                        ),
                        label: format!("a row that collides on `{name}` still fails"),
                        secondary: vec![Label {
                            loc: other.at,
                            message: format!("`{name}`, in `{}`", migration_name(cx, other.at.file)),
                        }],
                        why: Some(
                            "ON CONFLICT catches a collision on its target only: the team's `ON CONFLICT (id)` on \
                             `workspaces` still failed with a unique violation (23505) on its `(parent_id, name)` \
                             index, so the \"idempotent\" insert was not"
                                .into(),
                        ),
                        notes: Vec::new(),
                        help: Some(format!(
                            "make the target the key the code relies on (`ON CONFLICT {}{partial}`), or use \
                             `ON CONFLICT DO NOTHING` with no target, which covers every key",
                            key_parts(other)
                        )),
                    });
                }
            }
        }
        Ok(out)
    }

    /// The fixtures' escape hatch is the target that covers the other key (a
    /// composite target): made the primary key, the other key is uncovered.
    fn remove_escape_hatch(line: &str) -> String {
        line.replace("ON CONFLICT (parent_id, name)", "ON CONFLICT (id)")
    }
}

/// Whether the `INSERT` fills every column of `key` (`writes`): an expression key by
/// the columns of `table` its text names.
fn written(key: &UniqueKey, table: &Table, writes: impl Fn(&str) -> bool) -> bool {
    key.parts.iter().all(|p| match p {
        KeyPart::Column(c) => writes(c),
        KeyPart::Expression(e) => {
            let mut named = e
                .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .filter(|w| table.column(w).is_some())
                .peekable();
            named.peek().is_some() && named.all(&writes)
        }
    })
}
