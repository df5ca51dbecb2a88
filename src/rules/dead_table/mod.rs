//! # dead-table
//!
//! ## What it does
//! Flags a table the migrations create (and do not drop) that nothing writes: no
//! `INSERT`, `UPDATE`, `MERGE` or `COPY … FROM` written out in the code, no ORM
//! naming it (diesel's `t::table`, sea-orm's `table_name`), no statement built
//! at run time that could (a `format!` template naming it), no migration filling
//! it (seed data, a trigger). Reported at the table's `CREATE TABLE`, with the
//! code that reads it, if any — the dead reader — as a secondary label.
//!
//! ## Why is this bad?
//! The team found a table created by a migration that no code ever wrote: its
//! reader hit no rows for months and nobody noticed, and a ledger table whose
//! insert was never wired. A table nothing writes is either dead schema (drop it)
//! or a feature that silently does nothing (wire the write).
//!
//! ## Example
//! ```sql
//! CREATE TABLE usage_ledger (workspace_id uuid NOT NULL, units int NOT NULL);
//! -- read by the billing report, written by nothing
//! ```
//!
//! ## Use instead
//! ```rust
//! sqlx::query("INSERT INTO usage_ledger (workspace_id, units) VALUES ($1, $2)")
//! ```
//! or a migration that drops the table.
//!
//! ## Configuration
//! No parameters. Only migration sets that some checked Rust file runs against are
//! judged (a migrations folder with no code beside it is another program's).
//!
//! ## Known limitations
//! - A table written by another program (a second service, an ETL job, a trigger
//!   defined outside the migrations) is reported: suppress it in the migration with
//!   `-- gatelint: allow(dead-table) -- written by <who>`.
//! - Writes are found by table name in the SQL the code writes out (a statement
//!   that does not parse in the dialect counts when it says INSERT, UPDATE, COPY or
//!   MERGE and names the table): a name built at run time from pieces
//!   (`format!("{prefix}_events")`) is not matched.
//! - A migration fills a table when its text says `INSERT INTO <table>` anywhere,
//!   function bodies included.
//! - A table a migration reads (a trigger or view selecting from it) is used by the
//!   database itself; a table a function is named after (`stage_metrics_splits`),
//!   or an SQL file the code includes by a path naming it, is taken as handled.
//! - A table the code names without SQL — a type named after it (`IndexTemplates`
//!   for `index_templates`: sea-query, sea-orm), a `use` of its diesel module, a
//!   `t::table` path — counts as written: an ORM's reads and writes are not told
//!   apart.

use crate::rules::diagnostic::{Diagnostic, Label, Severity};
use crate::rules::sql_in_code::code_queries;
use crate::rules::{CheckCx, NoParams, Rule};
use std::collections::BTreeSet;

pub const ID: &str = "dead-table";

pub struct DeadTable;

impl Rule for DeadTable {
    crate::rules::migration_rule_items!();

    fn check(cx: &CheckCx, _: &NoParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let sql = code_queries(cx);
        // What the code may write, run-wide (a crate writes through another's SQL).
        let mut written: BTreeSet<String> = sql.created_in_code.clone();
        for q in &sql.queries {
            written.extend(q.refs.tables.iter().filter(|t| t.write).map(|t| t.key.clone()));
        }
        let mut named_otherwise: Vec<String> = Vec::new();
        // Names the code gives tables without SQL: a type named after one (a
        // sea-query `Iden` enum `IndexTemplates`, a sea-orm entity module), a `use` of
        // a diesel table module (`use schema::login_token::dsl::*`).
        for facts in cx.files {
            named_otherwise.extend(facts.names.types.iter().map(|t| snake_case(&t.name)));
            named_otherwise.extend(facts.names.scopes.iter().flat_map(|s| s.uses.iter()).flat_map(|u| u.path.iter().map(|p| p.to_lowercase())));
        }
        // Functions named after a table (`stage_metrics_splits`) handle it somehow.
        let fn_names: Vec<String> = cx.files.iter().flat_map(|f| f.names.fns.iter().map(|d| d.name.to_lowercase())).collect();
        // (A statement that did not parse may write what it names.)
        named_otherwise.extend(
            sql.unread
                .iter()
                .map(|t| t.text.to_lowercase())
                .filter(|t| ["insert", "update", "copy", "merge"].iter().any(|w| t.contains(w))),
        );
        for facts in cx.files {
            named_otherwise.extend(facts.sql.orm_tables.iter().cloned());
            named_otherwise.extend(facts.sql.templates.iter().map(|t| t.to_lowercase()));
        }
        let mut out = Vec::new();
        for (set_index, (set, schema)) in cx.migrations.sets.iter().zip(cx.schemas).enumerate() {
            let has_code = (0..cx.files.len()).any(|f| {
                cx.migrations.set_of.get(f).copied().flatten() == Some(set_index)
                    && !(cx.files[f].sql.texts.is_empty() && cx.files[f].sql.sql_files.is_empty())
            });
            if !has_code {
                continue;
            }
            let migrations_text: String =
                set.files.iter().map(|m| cx.db.get(m.file).text().to_lowercase()).collect::<Vec<_>>().join("\n");
            for (key, table) in schema.tables.iter().filter(|(_, t)| !t.view) {
                // (The texts below are compared in lower case; a quoted name keeps its
                // case in the key.)
                let bare = key.rsplit('.').next().unwrap_or(key).to_lowercase();
                let bare = bare.as_str();
                if written.contains(key)
                    || named_otherwise.iter().any(|n| n == bare || mentions_word(n, bare))
                    || (bare.len() >= 6 && fn_names.iter().any(|f| f.contains(bare)))
                    || fills(&migrations_text, bare)
                    || used_by_migrations(&migrations_text, bare)
                {
                    continue;
                }
                let readers: Vec<Label> = sql
                    .queries
                    .iter()
                    .filter(|q| q.set == set_index)
                    .flat_map(|q| q.refs.tables.iter().filter(|t| t.key == *key).map(move |t| q.text.loc_of(t.range.as_ref())))
                    .take(3)
                    .map(|loc| Label { loc, message: format!("`{}` is read here, and finds no rows", table.name) })
                    .collect();
                let read = !readers.is_empty();
                out.push(Diagnostic {
                    rule: ID,
                    severity,
                    loc: table.created,
                    message: if read {
                        format!("table `{}` is read but nothing writes it", table.name)
                    } else {
                        format!("table `{}` is created but nothing writes or reads it", table.name)
                    },
                    label: "no INSERT, UPDATE or COPY of this table in the code".into(),
                    secondary: readers,
                    why: Some(
                        "a table nothing writes is dead schema or a feature that silently does nothing: the \
                         team's dead reader hit no rows for months, and a ledger's insert was never wired"
                            .into(),
                    ),
                    notes: Vec::new(),
                    help: Some(if read {
                        format!("wire the write of `{}`, or drop the table and its readers", table.name)
                    } else {
                        format!("drop `{}` in a migration, or write it where its rows come from", table.name)
                    }),
                });
            }
        }
        Ok(out)
    }

    /// The fixtures' escape hatch is the write: made a read, the table is dead.
    fn remove_escape_hatch(line: &str) -> String {
        line.replace("INSERT INTO", "SELECT 1 FROM").replace(" (id, units) VALUES ($1, $2)", " WHERE id = $1")
    }
}

/// `IndexTemplates` → `index_templates`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Whether `text` (lowercased) names `word` as a whole word.
fn mentions_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        boundary(before) && boundary(after)
    })
}

/// Whether a migration reads `table` (a trigger or a view selecting from it): the
/// database itself uses it, whoever fills it.
fn used_by_migrations(migrations: &str, table: &str) -> bool {
    ["from ", "join "].iter().any(|k| {
        migrations.match_indices(k).any(|(i, m)| {
            let rest = migrations[i + m.len()..].trim_start();
            let name = rest.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ';').next().unwrap_or_default();
            name.rsplit('.').next().unwrap_or(name).trim_matches(['"', '`']) == table
        })
    })
}

/// Whether a migration's text inserts into `table` (seed data, a trigger's body).
fn fills(migrations: &str, table: &str) -> bool {
    migrations.match_indices("insert into").any(|(i, m)| {
        let rest = migrations[i + m.len()..].trim_start();
        let name = rest.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or_default();
        let name = name.rsplit('.').next().unwrap_or(name).trim_matches(['"', '`']);
        name == table
    })
}
