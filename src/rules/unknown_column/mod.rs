//! # unknown-column
//!
//! ## What it does
//! Reads the SQL statements written out in the code against the schema the
//! project's migrations build, and flags a column the table does not have after
//! the last migration: in an `INSERT`'s column list, `ON CONFLICT` target, `DO
//! UPDATE SET` and `RETURNING`; in an `UPDATE`'s `SET` and `WHERE`; in the select
//! list and `WHERE` of a query on one table, or of a join where the column is
//! qualified (`w.name`). The help lists the table's columns, with a "did you mean";
//! for a column a migration dropped or renamed, the message names that migration
//! (and the help the column's name now). In Postgres, a column the migrations quote
//! keeps its case (`"ActorId"`) and an unquoted one is folded to lower case: a
//! column named in the other spelling is flagged, with how to quote it.
//!
//! ## Why is this bad?
//! The team shipped an `INSERT` naming `created_at, updated_at` on a table that had
//! neither: it passed unit tests with mocked SQL and failed only against the real
//! database. A column renamed or dropped by a later migration breaks its readers
//! the same way, silently until they run.
//!
//! ## Example
//! ```rust
//! // `workspaces` has no `created_at`
//! sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, now())")
//! ```
//!
//! ## Use instead
//! ```rust
//! sqlx::query("INSERT INTO workspaces (id, name) VALUES ($1, $2)")
//! // or add the column in a migration:
//! // ALTER TABLE workspaces ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
//! ```
//!
//! ## Configuration
//! No parameters. Migrations and `dialect` as for `unknown-table`.
//!
//! ## Known limitations
//! - In SQLite, a double-quoted word that names no column is read as a string
//!   (`DATETIME("now")`), so it is not reported there.
//! - A column is only checked where its table is certain: an unqualified column of
//!   a join is not (nor one beside a `FROM` item that is not a table: a subquery, a
//!   function, a `VALUES` list, a `WITH` name), and one in a subquery that an outer table has (or an outer table
//!   the migrations do not show) is taken for that table's; a clause holding a
//!   subquery is read in the subquery's own scope only. Nor are `ORDER
//!   BY`, `GROUP BY` and `HAVING`, which may name the select list's aliases.
//! - A table whose columns the migrations do not fully show (`CREATE TABLE … AS
//!   SELECT`, `LIKE` or `INHERITS` of a table they do not create, a clause the
//!   parser skipped) is not checked.
//! - A query (one that only reads) naming more unknown columns of a table than
//!   known ones, none a near miss of a real column, is taken for SQL against another
//!   database's table of that name (an importer) and not reported: `SELECT
//!   start_time FROM history` alone is not flagged, `SELECT id, title FROM
//!   workspaces` and `SELECT * FROM workspaces WHERE nmae = $1` are, and so is every
//!   `INSERT`, `UPDATE` and `DELETE`. So is a query joining two tables or more no
//!   migration creates. System columns (`rowid`, `ctid`, …) are columns.
//! - A select-list name that is not a column (a function without parentheses the
//!   parser reads as a name) would be flagged: suppress it with a reason.
//! - Only SQL written out in full and parsing in the dialect is read (see
//!   `unknown-table`).

use crate::rules::diagnostic::{Diagnostic, Label, Severity};
use crate::rules::sql_in_code::{case_mismatch, code_queries, migration_name};
use crate::rules::{CheckCx, NoParams, Rule};

pub const ID: &str = "unknown-column";

pub struct UnknownColumn;

/// Columns every table has without a migration creating them: SQLite's row id,
/// Postgres's system columns.
fn is_system_column(name: &str) -> bool {
    matches!(name, "rowid" | "oid" | "_rowid_" | "ctid" | "xmin" | "xmax" | "cmin" | "cmax" | "tableoid")
}

/// Columns listed in the help, at most.
const LISTED: usize = 12;

impl Rule for UnknownColumn {
    crate::rules::migration_rule_items!();

    fn check(cx: &CheckCx, _: &NoParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let mut out = Vec::new();
        let sql = code_queries(cx);
        for q in &sql.queries {
            if q.reads_foreign_database(&sql) {
                continue;
            }
            for c in &q.refs.columns {
                // (A table the code creates itself under a migration table's name, in
                // another database, is not that table.)
                if sql.created_in_code.contains(&c.table) {
                    continue;
                }
                let Some(table) = sql.table(q.schema, &c.table) else { continue };
                if !table.complete || table.column(&c.column).is_some() || is_system_column(&c.column) {
                    continue;
                }
                // SQLite reads `"now"` as the string 'now' when no column has the name.
                if c.double_quoted && q.schema.dialect == crate::facts::schema::Dialect::Sqlite {
                    continue;
                }
                // An outer table's column, named from a subquery (correlated).
                if c.or_outer.iter().any(|t| sql.table(q.schema, t).is_none_or(|t| t.column(&c.column).is_some())) {
                    continue;
                }
                let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                let case = case_mismatch(q.schema.dialect, &c.column, names.iter().copied());
                let change = table.column_change(&c.column);
                let near = case.is_some()
                    || change.is_some()
                    || crate::messages::did_you_mean(&c.column, names.iter().copied()).is_some();
                // A query that names more unknown columns of a table than known ones
                // reads another database's table of that name (an importer); a
                // statement that changes rows changes the project's own.
                let of_table = q.refs.columns.iter().filter(|o| o.table == c.table);
                let (known, unknown) =
                    of_table.fold((0, 0), |(k, u), o| if table.column(&o.column).is_some() { (k + 1, u) } else { (k, u + 1) });
                // (A single near miss is a typo, whatever the rest of the query names.)
                if unknown > known && !q.refs.modifies && !(near && unknown == 1) {
                    continue;
                }
                let mut listed = names.iter().take(LISTED).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
                if names.len() > LISTED {
                    listed.push_str(&format!(", and {} more", names.len() - LISTED));
                }
                let created = Label { loc: table.created, message: format!("`{}` is created here", table.name) };
                let (message, secondary, help) = match (change, case) {
                    (Some(change), _) => {
                        let migration = migration_name(cx, change.at.file);
                        match &change.renamed_to {
                            Some(to) => (
                                format!("column `{}` of `{}` was renamed to `{to}` by migration `{migration}`", c.written, table.name),
                                Label { loc: change.at, message: format!("renamed to `{to}` here") },
                                match table.column_now(change) {
                                    Some(now) => format!("use the column's new name, `{}`", now.name),
                                    None => format!(
                                        "the column was dropped since: remove `{}` from the statement, or add it \
                                         back in a migration",
                                        c.written
                                    ),
                                },
                            ),
                            None => (
                                format!("column `{}` of `{}` was dropped by migration `{migration}`", c.written, table.name),
                                Label { loc: change.at, message: "dropped here".into() },
                                format!(
                                    "remove `{}` from the statement, or add the column back in a new migration",
                                    c.written
                                ),
                            ),
                        }
                    }
                    (None, Some((hint, help))) => {
                        (format!("table `{}` has no column `{}`{hint}", table.name, c.written), created.clone(), help)
                    }
                    (None, None) => {
                        let hint = crate::messages::hint(&c.column, names.iter().copied());
                        (
                            format!("table `{}` has no column `{}`{hint}", table.name, c.written),
                            created.clone(),
                            format!(
                                "name one of the columns of `{}`, or add `{}` in a migration (ALTER TABLE {} ADD \
                                 COLUMN …)",
                                table.name, c.written, table.name
                            ),
                        )
                    }
                };
                let mut secondary = vec![secondary];
                if change.is_some() {
                    secondary.push(created);
                }
                out.push(Diagnostic {
                    rule: ID,
                    severity,
                    loc: q.text.loc_of(c.range.as_ref()),
                    message,
                    label: format!("not a column of `{}` ({})", table.name, c.clause),
                    secondary,
                    why: Some(
                        "SQL naming a column the table does not have passes unit tests that mock the database \
                         and fails on a real one: the team shipped an INSERT of `created_at, updated_at` into a \
                         table that had neither"
                            .into(),
                    ),
                    // (The help names a renamed column's new name.)
                    notes: if change.is_some_and(|c| c.renamed_to.is_some()) {
                        Vec::new()
                    } else {
                        vec![format!("`{}` has the columns {listed}", table.name).into()]
                    },
                    help: Some(help),
                });
            }
        }
        Ok(out)
    }

    /// The fixtures' escape hatch is the migration line that adds the column: made a
    /// comment, the column is gone.
    fn remove_escape_hatch(line: &str) -> String {
        line.replace("ALTER TABLE", "-- ALTER TABLE")
    }
}
