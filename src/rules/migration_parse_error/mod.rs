//! # migration-parse-error
//!
//! ## What it does
//! Reports, once per migration file, the statements the schema rules could not read
//! with sqlparser in the configured `dialect`: a syntax the parser does not know, a
//! `DO` block, a statement of another dialect, an unterminated string. The rest of
//! the migrations are still applied.
//!
//! ## Why is this bad?
//! What the statement changes (a column it adds, a unique index it creates) is not
//! in the schema the code's SQL is checked against: the schema rules may then
//! report a column as unknown, or miss an index an upsert leaves uncovered. The
//! warning says where the schema is incomplete.
//!
//! ## Example
//! ```sql
//! DO $$ BEGIN
//!   ALTER TABLE workspaces ADD COLUMN runtime text;
//! END $$;
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS runtime text;
//! ```
//! or, when the statement must stay as it is (first in the file):
//! ```sql
//! -- gatelint: allow-file(migration-parse-error) -- the DO block only grants roles
//! ```
//!
//! ## Configuration
//! No parameters. `dialect` at the top of `gatelint.toml` says how migrations are
//! read (`postgres`, `sqlite`, `mysql`); without it, a migration directory whose
//! path names a database (`db-sqlx-maria/migrations`, `migrations/sqlite`) is read
//! in that dialect, any other as Postgres.
//!
//! ## Known limitations
//! - A `CREATE TABLE` the parser stops in is read again without the clause it did
//!   not understand; the clause is reported and the table kept.
//! - After a tokenizer error (an unterminated string or comment) the rest of that
//!   file is one unread piece.
//! - A `PRAGMA` the parser does not read is not reported: it sets the connection
//!   (`PRAGMA foreign_keys = ON`), never the schema.

use crate::input::source::Loc;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};
use crate::rules::{CheckCx, NoParams, Rule};

pub const ID: &str = "migration-parse-error";

pub struct MigrationParseError;

impl Rule for MigrationParseError {
    crate::rules::migration_rule_items!();

    fn check(cx: &CheckCx, _: &NoParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let mut out = Vec::new();
        for schema in cx.schemas {
            // One finding per migration file, at its first unread statement: a file
            // of another dialect is one finding, not one per statement.
            let mut by_file: std::collections::BTreeMap<usize, Vec<&crate::facts::schema::Unparsed>> =
                std::collections::BTreeMap::new();
            for u in &schema.unparsed {
                by_file.entry(u.at.file).or_default().push(u);
            }
            for unread in by_file.values() {
                let first = unread[0];
                let shown = |u: &crate::facts::schema::Unparsed| {
                    let text = cx.db.get(u.at.file).text().get(u.at.range()).unwrap_or_default();
                    let do_block = text.trim_start().get(..2).is_some_and(|w| w.eq_ignore_ascii_case("do"));
                    // The first line of the statement: a finding, not a page of SQL.
                    let end = text.find('\n').map_or(u.at.end, |n| u.at.start + n as u32);
                    let what = if do_block {
                        "a `DO` block: what it changes is not read".to_string()
                    } else {
                        format!("not read: {}", u.message)
                    };
                    (Loc { end, ..u.at }, what)
                };
                let (at, what) = shown(first);
                let message = match unread.len() {
                    1 => format!("a statement of this migration could not be read ({what})"),
                    n => format!("{n} statements of this migration could not be read (the first: {what})"),
                };
                out.push(Diagnostic {
                    rule: ID,
                    severity,
                    loc: at,
                    message,
                    label: "not applied to the schema the code's SQL is checked against".into(),
                    secondary: unread[1..]
                        .iter()
                        .take(4)
                        .map(|u| {
                            let (loc, what) = shown(u);
                            Label { loc, message: what }
                        })
                        .collect(),
                    why: Some(
                        "a schema change gatelint cannot read is missing from the schema the code's SQL is \
                         checked against: a column it adds may be reported unknown, an index it creates missed"
                            .into(),
                    ),
                    notes: Vec::new(),
                    help: Some(format!(
                        "write the change as plain DDL the {:?} dialect reads (set `dialect` in gatelint.toml if \
                         the migrations are another database's), or suppress this with \
                         `-- gatelint: allow-file({ID}) -- <what the statements do>`",
                        schema.dialect
                    )),
                });
            }
        }
        Ok(out)
    }

    /// No escape hatch: a statement either parses or does not.
    fn remove_escape_hatch(line: &str) -> String {
        line.to_string()
    }
}
