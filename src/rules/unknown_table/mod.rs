//! # unknown-table
//!
//! ## What it does
//! Reads the SQL statements written out in the code (string literals and query
//! macros: `sqlx::query!`, `query_as`, consts, `concat!`; a statement sqlx's
//! `QueryBuilder` writes from literal pieces; `.sql` files compiled in with
//! `include_str!` or `query_file!`, where findings point) against the schema the
//! project's migrations build, and flags a table that no migration creates, or one
//! a migration dropped or renamed (the message names the migration, the secondary
//! label shows where). In Postgres, a name the migrations quote keeps its case
//! (`"UserAccounts"`) and an unquoted one is folded to lower case: a table named in
//! the other spelling is flagged, and the help says how to quote it.
//!
//! ## Why is this bad?
//! SQL against a table that does not exist passes every unit test that mocks the
//! database and fails only on a real one: in production, at the first request
//! that runs it. A table dropped by a later migration leaves its readers failing
//! the same way.
//!
//! ## Example
//! ```rust
//! // migrations create `workspaces`, not `workspace`
//! sqlx::query("SELECT id FROM workspace WHERE name = $1")
//! ```
//!
//! ## Use instead
//! ```rust
//! sqlx::query("SELECT id FROM workspaces WHERE name = $1")
//! ```
//!
//! ## Configuration
//! No parameters. Migrations are found in `migrations/` folders (or set with
//! `migrations = [...]`), read in `dialect` (`postgres`, `sqlite`, `mysql`): see the
//! configuration page.
//!
//! ## Known limitations
//! - Only SQL written out in full is read: a statement built with `format!` is not,
//!   nor a `QueryBuilder` one with a piece that is not a literal, pushed under a
//!   condition or in a loop, or a builder handed to other code, nor a statement that
//!   does not parse in the dialect (say nothing rather than guess).
//! - A file with no migration set (no `migrations/` folder holding it and more than
//!   one set in the run) is not checked; a note with the run's summary names it.
//!   Tables created outside the migrations (by the application at start-up, by
//!   another service) are unknown to the rule.
//! - Views (`CREATE [MATERIALIZED] VIEW`, `DROP VIEW`) are known by name, and their
//!   columns are not checked. Tables made inside functions or `DO` blocks are not
//!   seen: SQL naming them is flagged (suppress it with a reason).
//! - Tables of the database itself (`pg_catalog`, `information_schema`,
//!   `sqlite_master`, the migration runners' own, names ending in `_seq`, which
//!   are sequences), tables another migration set of the run creates and tables the
//!   code creates or drops itself (`CREATE TEMPORARY TABLE`, `DROP TABLE` of a legacy
//!   table) are never flagged.
//! - A query (one that only reads) naming two tables or more that no migration
//!   creates, none a near miss of a known name, is taken for SQL against another
//!   database (an importer reading another program's file): only a near miss or a
//!   dropped table is reported there. An importer reading one foreign table is
//!   reported: suppress it with a reason.

use crate::rules::diagnostic::{Diagnostic, Label, Severity};
use crate::rules::sql_in_code::{case_mismatch, code_queries, migration_name};
use crate::rules::{CheckCx, NoParams, Rule};

pub const ID: &str = "unknown-table";

pub struct UnknownTable;

impl Rule for UnknownTable {
    crate::rules::migration_rule_items!();

    fn check(cx: &CheckCx, _: &NoParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let mut out = Vec::new();
        let sql = code_queries(cx);
        for q in &sql.queries {
            // A query joining several tables no migration creates reads another
            // database (an importer reading another program's file): only a near
            // miss of a known name, or a dropped table, is reported there.
            let foreign = q.reads_foreign_database(&sql);
            for t in &q.refs.tables {
                if sql.is_known(q.schema, &t.key) {
                    continue;
                }
                let names = || q.schema.tables.keys().map(String::as_str);
                let case = case_mismatch(q.schema.dialect, &t.key, names());
                let near = case.is_some() || crate::messages::did_you_mean(&t.key, names()).is_some();
                let dropped = q.schema.dropped_table(&t.key);
                let renamed = q.schema.renamed_table(&t.key);
                if foreign && !near && dropped.is_none() && renamed.is_none() {
                    continue;
                }
                let set = &cx.migrations.sets[q.set];
                let (message, secondary, help) = if let Some(d) = dropped {
                    (
                        format!("table `{}` was dropped by migration `{}`", t.written, migration_name(cx, d.dropped.file)),
                        vec![
                            Label { loc: d.dropped, message: "dropped here".into() },
                            Label { loc: d.created, message: "created here".into() },
                        ],
                        "remove the statement, or point it at the table that replaced this one".to_string(),
                    )
                } else if let Some(r) = renamed {
                    let help = match q.schema.table_now(r) {
                        Some(now) => format!("use the table's new name, `{}`", now.name),
                        None => "the table was dropped since: remove the statement, or point it at the table that \
                                 replaced it"
                            .to_string(),
                    };
                    (
                        format!(
                            "table `{}` was renamed to `{}` by migration `{}`",
                            t.written,
                            r.to_written,
                            migration_name(cx, r.at.file)
                        ),
                        vec![Label { loc: r.at, message: format!("renamed to `{}` here", r.to_written) }],
                        help,
                    )
                } else if let Some((hint, help)) = case {
                    (format!("table `{}` is not created by any migration{hint}", t.written), Vec::new(), help)
                } else {
                    let hint = crate::messages::hint(&t.key, names());
                    (
                        format!("table `{}` is not created by any migration{hint}", t.written),
                        Vec::new(),
                        format!(
                            "name a table the migrations in `{}` create, or add the migration that creates `{}`",
                            set.shown, t.written
                        ),
                    )
                };
                out.push(Diagnostic {
                    rule: ID,
                    severity,
                    loc: q.text.loc_of(t.range.as_ref()),
                    message,
                    label: "no such table at the latest migration".into(),
                    secondary,
                    why: Some(
                        "SQL against a table that does not exist passes unit tests that mock the database and \
                         fails on a real one, at the first request that runs it"
                            .into(),
                    ),
                    notes: Vec::new(),
                    help: Some(help),
                });
            }
        }
        Ok(out)
    }

    /// The fixtures' escape hatch is the migration that creates the table: made a
    /// comment, it creates nothing.
    fn remove_escape_hatch(line: &str) -> String {
        line.replace("CREATE TABLE", "-- CREATE TABLE")
    }
}
