//! The database schema a project's migrations build: its tables, their columns and
//! the unique keys (primary keys, unique constraints, unique indexes) on them, as
//! they stand after the last migration.
//!
//! Reads the migration files' texts in the order they are applied and replays their
//! schema changes with sqlparser's full parser, in the project's SQL dialect:
//! `CREATE TABLE` (columns, column and table constraints), `ALTER TABLE` (`ADD` /
//! `DROP` / `RENAME COLUMN`, `RENAME TO`, `ADD` / `DROP` / `RENAME CONSTRAINT`,
//! MySQL's `CHANGE COLUMN`, `ADD` / `DROP INDEX`, `DROP PRIMARY KEY`),
//! `CREATE [UNIQUE] INDEX`, `ALTER INDEX … RENAME TO`, `DROP INDEX`, `DROP TABLE`
//! and MySQL's `RENAME TABLE`. Every other statement (seed data, functions,
//! triggers, grants, …) is parsed and ignored; one that does not parse is recorded
//! in [`Schema::unparsed`] like any other (sqlparser reads no `DO` block, and
//! schema changes inside one are not seen).
//!
//! Each file is tokenized once and split into statements at top-level `;` (the
//! tokenizer keeps strings, quoted names and dollar-quoted bodies whole; the
//! `BEGIN … END` body of a `CREATE TRIGGER` / `FUNCTION` / `PROCEDURE` stays in its
//! statement), and each statement is parsed on its own: one the parser does not
//! understand is recorded in [`Schema::unparsed`] and the rest of the file still
//! counts. A `CREATE TABLE` that does not parse is read again without the clause
//! the parser stopped at (a column option or table option sqlparser does not
//! know), so that one clause does not lose the table; the clause is recorded. A
//! tokenizer error (an unterminated string or comment) leaves the rest of that file
//! as one unparsed piece, since where the broken statement ends cannot be known.
//!
//! What the migrations took away is kept too: the tables dropped
//! ([`Schema::dropped`]) or renamed ([`Schema::renamed`]), and each table's columns
//! dropped or renamed ([`Table::changed_columns`]), with where, so that SQL naming
//! the old name can be told why it fails.
//!
//! Names are compared as the database compares them ([`table_key`], [`ident_key`]):
//! Postgres folds unquoted names to lower case and keeps quoted ones as written;
//! SQLite and MySQL are read case-insensitively throughout (MySQL table names are
//! case-sensitive on some file systems; a lint should not guess). The default schema
//! (`public`, SQLite's `main`) is dropped from table names; other schemas are kept
//! (`audit.events`). The lookups take the key ([`Schema::table`],
//! [`Table::column`]: what [`queries`] gives), or a name as written in SQL
//! ([`Schema::table_named`], [`Table::column_named`]).
//!
//! Known limitations: a view (or materialized view) is a name whose columns are not
//! read from its query ([`Table::view`]); sequences and types are not modelled;
//! `CREATE TABLE … AS SELECT` (and `LIKE`, `INHERITS` or `PARTITION OF` a
//! table the migrations do not create) makes a table whose columns are not known
//! ([`Table::complete`]); Postgres `LIKE … INCLUDING INDEXES` copies no keys;
//! temporary tables are left out (they do not outlive the migration); schema
//! changes made inside functions, `DO` blocks or dynamic SQL are not seen;
//! `search_path` and `USE` are not followed; non-unique indexes are kept by name
//! only, so dropping a column does not drop them; an unnamed key's name is the one
//! the dialect would choose ([`UniqueKey::name`]) as far as its rules are simple;
//! column types, defaults, `NOT NULL` and foreign keys are not kept.

mod build;
mod model;
mod names;
pub mod queries;
mod split;
#[cfg(test)]
mod tests;

pub use model::{
    Column, ColumnChange, DroppedTable, KeyKind, KeyPart, RenamedTable, Schema, Table, UniqueKey, Unparsed,
};
pub use names::{ident_key, normalize_expr, quote, table_key};

use crate::input::source::FileId;

/// The SQL dialect the migrations are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[default]
    Postgres,
    Sqlite,
    Mysql,
}

impl Dialect {
    /// The dialect named as in `gatelint.toml` (`postgres`, `sqlite`, `mysql`).
    pub fn named(name: &str) -> Option<Dialect> {
        match name {
            "postgres" => Some(Dialect::Postgres),
            "sqlite" => Some(Dialect::Sqlite),
            "mysql" => Some(Dialect::Mysql),
            _ => None,
        }
    }

    /// sqlparser's dialect for tokenizing and parsing.
    pub fn parser(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        match self {
            Dialect::Postgres => Box::new(sqlparser::dialect::PostgreSqlDialect {}),
            Dialect::Sqlite => Box::new(sqlparser::dialect::SQLiteDialect {}),
            Dialect::Mysql => Box::new(sqlparser::dialect::MySqlDialect {}),
        }
    }
}

/// One migration file's text.
#[derive(Clone, Copy, Debug)]
pub struct MigrationText<'a> {
    pub file: FileId,
    pub text: &'a str,
}

/// The schema after applying `migrations` in order. Never fails: what cannot be
/// read is listed in [`Schema::unparsed`].
pub fn build_schema(migrations: &[MigrationText], dialect: Dialect) -> Schema {
    let mut builder = build::Builder::new(dialect);
    for migration in migrations {
        builder.apply_file(migration.file, migration.text);
    }
    builder.finish()
}
