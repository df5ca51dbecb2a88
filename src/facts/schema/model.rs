//! What the schema holds, and lookups by name as written in SQL.

use super::Dialect;
use super::names;
use crate::input::source::Loc;
use std::collections::BTreeMap;

/// The schema after the last migration.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// The dialect names are normalized for.
    pub dialect: Dialect,
    /// By [`table_key`](super::table_key): lower case unless quoted (Postgres), the
    /// default schema dropped, another schema kept as `schema.table`.
    pub tables: BTreeMap<String, Table>,
    /// Tables a migration created and a later one dropped (and none re-created), by the
    /// same key as [`Schema::tables`].
    pub dropped: BTreeMap<String, DroppedTable>,
    /// Tables a migration renamed (and none re-created under the old name), by the
    /// old name's key.
    pub renamed: BTreeMap<String, RenamedTable>,
    /// The statements that could not be read, in file order.
    pub unparsed: Vec<Unparsed>,
}

impl Schema {
    /// The table of a key as [`Schema::tables`] keys it (what the query reader gives).
    pub fn table(&self, key: &str) -> Option<&Table> {
        self.tables.get(key)
    }

    /// The table `name` names (`users`, `public.users`, `"Users"`, `` `users` ``), as
    /// the database would resolve it.
    pub fn table_named(&self, name: &str) -> Option<&Table> {
        self.table(&names::key_of_text(name, self.dialect))
    }

    /// The dropped table of a key.
    pub fn dropped_table(&self, key: &str) -> Option<&DroppedTable> {
        self.dropped.get(key)
    }

    /// The dropped table `name` names.
    pub fn dropped_named(&self, name: &str) -> Option<&DroppedTable> {
        self.dropped_table(&names::key_of_text(name, self.dialect))
    }

    /// The rename of the table the key named, if a migration renamed it.
    pub fn renamed_table(&self, key: &str) -> Option<&RenamedTable> {
        self.renamed.get(key)
    }

    /// The table a renamed one is now, following later renames; `None` when it was
    /// dropped since.
    pub fn table_now(&self, renamed: &RenamedTable) -> Option<&Table> {
        let mut key = renamed.to.as_str();
        // (Each step follows a later rename; the bound guards a cycle of names.)
        for _ in 0..=self.renamed.len() {
            if let Some(table) = self.table(key) {
                return Some(table);
            }
            key = self.renamed.get(key)?.to.as_str();
        }
        None
    }
}

/// A table that exists after the last migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The name as written in `CREATE TABLE` (or the last `RENAME TO`), quotes and
    /// schema included.
    pub name: String,
    /// The table name in its `CREATE TABLE`.
    pub created: Loc,
    /// In definition order; each name by [`ident_key`](super::ident_key).
    pub columns: Vec<Column>,
    /// Primary key, unique constraints and unique indexes, in the order they were made.
    pub keys: Vec<UniqueKey>,
    /// The names of the table's non-unique indexes (MySQL `KEY`/`INDEX` clauses
    /// included), by [`ident_key`](super::ident_key): known so that dropping one is no
    /// surprise.
    pub indexes: Vec<String>,
    /// Columns a migration dropped or renamed, and none added back under the name,
    /// in the order the changes were made.
    pub changed_columns: Vec<ColumnChange>,
    /// Whether every column is known: `false` after `CREATE TABLE … AS SELECT`, `LIKE`
    /// (or `INHERITS`, `PARTITION OF`) a table the migrations do not define, or when a
    /// clause that may have been a column could not be read.
    pub complete: bool,
    /// A view (`CREATE [MATERIALIZED] VIEW`): queries read it like a table; its
    /// columns are not read from its query (so it is never [`Table::complete`]),
    /// and it has no keys and is written by nothing.
    pub view: bool,
    /// For looking names up as the database would.
    pub(super) dialect: Dialect,
}

impl Table {
    /// The column of a key ([`ident_key`](super::ident_key)).
    pub fn column(&self, key: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == key)
    }

    /// The column `name` names (`email`, `"Email"`), as the database would resolve it.
    pub fn column_named(&self, name: &str) -> Option<&Column> {
        self.column(&names::ident_of_text(name, self.dialect))
    }

    /// The unique key of a name's key (a constraint or unique index name, or the
    /// name the dialect gave an unnamed one, by [`ident_key`](super::ident_key)).
    pub fn key(&self, key: &str) -> Option<&UniqueKey> {
        self.keys.iter().find(|k| k.name.as_deref() == Some(key))
    }

    /// The unique key named `name` as written in SQL text.
    pub fn key_named(&self, name: &str) -> Option<&UniqueKey> {
        self.key(&names::ident_of_text(name, self.dialect))
    }

    /// What became of a column of this key that the table no longer has.
    pub fn column_change(&self, key: &str) -> Option<&ColumnChange> {
        self.changed_columns.iter().rev().find(|c| c.name == key)
    }

    /// The column a renamed one is now, following later renames; `None` when it was
    /// dropped since.
    pub fn column_now(&self, change: &ColumnChange) -> Option<&Column> {
        let mut key = change.renamed_to.as_deref()?;
        for _ in 0..=self.changed_columns.len() {
            if let Some(column) = self.column(key) {
                return Some(column);
            }
            key = self.column_change(key)?.renamed_to.as_deref()?;
        }
        None
    }

    /// The primary key, if any.
    pub fn primary_key(&self) -> Option<&UniqueKey> {
        self.keys.iter().find(|k| k.kind == KeyKind::PrimaryKey)
    }
}

/// A column of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// By [`ident_key`](super::ident_key).
    pub name: String,
    /// The column name where it was defined, or in its last rename.
    pub at: Loc,
}

/// A set of columns (or expressions) no two rows may share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueKey {
    /// The constraint or index name as the database knows it, by
    /// [`ident_key`](super::ident_key): as written, or for an unnamed key the name the
    /// dialect gives it (Postgres `users_pkey`, `users_email_key`, `users_lower_idx`;
    /// MySQL `primary` and the first column's name). `None` where the dialect gives it
    /// no name a statement could use (SQLite).
    pub name: Option<String>,
    pub kind: KeyKind,
    pub parts: Vec<KeyPart>,
    /// A partial index's `WHERE` condition, by
    /// [`normalize_expr`](super::normalize_expr).
    pub predicate: Option<String>,
    /// The constraint clause (or column definition, for a column constraint), or the
    /// whole `CREATE UNIQUE INDEX` statement.
    pub at: Loc,
}

impl UniqueKey {
    /// The key's columns, when every part is a plain column.
    pub fn columns(&self) -> Option<Vec<&str>> {
        self.parts
            .iter()
            .map(|p| match p {
                KeyPart::Column(c) => Some(c.as_str()),
                KeyPart::Expression(_) => None,
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    PrimaryKey,
    /// A `UNIQUE` constraint (column or table level, or MySQL's `UNIQUE KEY`).
    Unique,
    /// `CREATE UNIQUE INDEX`.
    UniqueIndex,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPart {
    /// A column, by [`ident_key`](super::ident_key).
    Column(String),
    /// An expression, by [`normalize_expr`](super::normalize_expr)
    /// (`COALESCE(parent_id, '00000000-0000-0000-0000-000000000000')`).
    Expression(String),
}

/// A column a migration dropped or renamed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnChange {
    /// The column's name before the change, by [`ident_key`](super::ident_key).
    pub name: String,
    /// The new name (by [`ident_key`](super::ident_key)); `None`: dropped.
    pub renamed_to: Option<String>,
    /// The `DROP COLUMN` or `RENAME COLUMN` clause.
    pub at: Loc,
}

/// A table a migration renamed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenamedTable {
    /// The new name's key, as [`Schema::tables`] keys it.
    pub to: String,
    /// The new name as written.
    pub to_written: String,
    /// The new name in the rename statement.
    pub at: Loc,
}

/// A table a migration created and a later one dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedTable {
    /// As written in its `CREATE TABLE` (or last `RENAME TO`).
    pub name: String,
    pub created: Loc,
    /// The table name in the `DROP TABLE` statement.
    pub dropped: Loc,
}

/// A statement that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unparsed {
    /// The statement's text, without the `;` and surrounding comments; after a
    /// tokenizer error, the rest of the file; for a `CREATE TABLE` read without what
    /// the parser did not understand, the part left out.
    pub at: Loc,
    /// The parser's or tokenizer's message.
    pub message: String,
}
