//! The SQL the code writes out, read against the schema its migrations build: what
//! the schema rules share. Each statement of a checked file is read
//! ([`crate::facts::schema::queries`]) in the project's dialect, with the schema of
//! the migration set the file runs against; a file with no migrations has none.

use crate::facts::schema::Schema;
use crate::facts::schema::queries::{QueryRefs, read_query};
use crate::facts::sql_texts::SqlText;
use crate::rules::CheckCx;

/// A statement in the code, its references, and the schema it runs against.
pub struct CodeQuery<'a> {
    /// The text and where it is: in a Rust literal, or a `.sql` file the code
    /// compiles in.
    pub text: std::borrow::Cow<'a, SqlText>,
    pub refs: QueryRefs,
    pub schema: &'a Schema,
    /// The migration set's index in [`CheckCx::migrations`].
    pub set: usize,
}

/// The statements of the checked files, and what the run knows besides each one's
/// own schema.
pub struct CodeSql<'a> {
    pub queries: Vec<CodeQuery<'a>>,
    /// Tables the code itself creates or drops (`CREATE TEMPORARY TABLE` in a job,
    /// `DROP TABLE` of a legacy one).
    pub created_in_code: std::collections::BTreeSet<String>,
    /// Statements that did not parse in the dialect: nothing is read from them, but
    /// what they may write counts for `dead-table`.
    pub unread: Vec<std::borrow::Cow<'a, SqlText>>,
    schemas: &'a [Schema],
}

impl<'a> CodeSql<'a> {
    /// A table of `key` in `own` schema, else in another migration set of the run (a
    /// crate with two databases, whose files the sets do not tell apart).
    pub fn table(&self, own: &'a Schema, key: &str) -> Option<&'a crate::facts::schema::Table> {
        own.table(key).or_else(|| self.schemas.iter().find_map(|s| s.table(key)))
    }

    /// Whether a table named `key` exists for the code: created by a migration of
    /// the run, by the code itself, or by the database (its catalogs, a sequence).
    pub fn is_known(&self, own: &Schema, key: &str) -> bool {
        self.table(own, key).is_some()
            || self.created_in_code.contains(key)
            || is_system_table(key)
            || key.ends_with("_seq")
    }
}

impl CodeQuery<'_> {
    /// Whether a read-only statement is about another database: it names two tables
    /// or more that no migration creates, none a near miss of a known name nor a
    /// dropped or renamed table (an importer joining another program's tables).
    pub fn reads_foreign_database(&self, sql: &CodeSql) -> bool {
        if self.refs.modifies {
            return false;
        }
        let foreign = self.refs.tables.iter().filter(|t| {
            !sql.is_known(self.schema, &t.key)
                && self.schema.dropped_table(&t.key).is_none()
                && self.schema.renamed_table(&t.key).is_none()
                && crate::messages::did_you_mean(&t.key, self.schema.tables.keys().map(String::as_str)).is_none()
        });
        let mut names: Vec<&str> = foreign.map(|t| t.key.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len() >= 2
    }
}

/// Every statement of the checked files that has a schema to run against and parses.
pub fn code_queries<'a>(cx: &'a CheckCx) -> CodeSql<'a> {
    let mut out = Vec::new();
    let mut unread = Vec::new();
    for (file, facts) in cx.files.iter().enumerate() {
        if facts.sql.texts.is_empty() && facts.sql.sql_files.is_empty() {
            continue;
        }
        let Some((set, schema)) = cx.schema_for(file) else { continue };
        // An empty schema (migrations that create nothing readable) proves nothing.
        if schema.tables.is_empty() {
            continue;
        }
        // SQL files the file compiles in, read whole (positions are the file's own).
        let included = facts.sql.sql_files.iter().filter_map(|(path, kind)| {
            let named = match kind {
                crate::facts::sql_texts::SqlFileKind::Beside => crate::rules::NamedFile::Beside(path.clone()),
                crate::facts::sql_texts::SqlFileKind::PackageRoot => {
                    crate::rules::NamedFile::RunTime(vec![path.clone()])
                }
            };
            let id = cx.included_file(file, &named)?;
            let text = cx.db.get(id).text().to_string();
            let at = crate::input::source::Loc::new(id, 0, text.len());
            Some(std::borrow::Cow::Owned(SqlText { text, at, text_start: Some(0), shifts: Vec::new() }))
        });
        let texts = facts.sql.texts.iter().map(std::borrow::Cow::Borrowed).chain(included);
        for text in texts {
            // A statement of another dialect than its migrations' (a placeholder
            // `?` where the set is read as Postgres) names its tables all the same.
            let read = read_query(&text.text, schema.dialect).or_else(|| {
                use crate::facts::schema::Dialect;
                [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres]
                    .into_iter()
                    .filter(|d| *d != schema.dialect)
                    .find_map(|d| read_query(&text.text, d))
            });
            match read {
                Some(refs) => out.push(CodeQuery { text, refs, schema, set }),
                None => unread.push(text),
            }
        }
    }
    let created_in_code = out.iter().flat_map(|q| q.refs.created.iter().cloned()).collect();
    CodeSql { queries: out, created_in_code, unread, schemas: cx.schemas }
}

/// A name of the code that the schema has in another case only, in Postgres, where
/// quoting decides case (`UserAccounts` reads as `useraccounts`; `"UserAccounts"`
/// keeps its case): the words to follow the name in a message, and the help.
pub fn case_mismatch<'k>(
    dialect: crate::facts::schema::Dialect,
    key: &str,
    known: impl IntoIterator<Item = &'k str>,
) -> Option<(String, String)> {
    use crate::facts::schema::{Dialect, quote};
    if dialect != Dialect::Postgres {
        return None;
    }
    let lower = key.to_lowercase();
    let found = known.into_iter().find(|k| *k != key && k.to_lowercase() == lower)?;
    let as_sql = |key: &str| key.split('.').map(|part| quote(part, dialect)).collect::<Vec<_>>().join(".");
    let rule = "a quoted name keeps its case, an unquoted one is folded to lower case";
    Some(if found.chars().any(char::is_uppercase) {
        let said = if key == lower {
            format!(" (it reads as `{key}`; the migrations create `{}`, quoted)", as_sql(found))
        } else {
            format!(" (the migrations create `{}`, quoted: its case counts)", as_sql(found))
        };
        (said, format!("quote the name as the migration does: `{}` ({rule})", as_sql(found)))
    } else {
        (
            format!(" (quoted, it keeps its case; the migrations create `{found}`)"),
            format!("write the name unquoted, or as the migration names it: `{found}` ({rule})"),
        )
    })
}

/// The migration file a location is in, as shown (`0003_add_email.sql`).
pub fn migration_name(cx: &CheckCx, file: usize) -> String {
    let shown = &cx.db.get(file).display;
    let mut parts = shown.rsplit('/');
    match (parts.next(), parts.next()) {
        (Some(f @ ("up.sql" | "down.sql")), Some(dir)) => format!("{dir}/{f}"),
        (Some(f), _) => f.to_string(),
        _ => shown.clone(),
    }
}

/// Tables of the database itself, never created by a project's migrations.
pub fn is_system_table(key: &str) -> bool {
    let name = key.rsplit('.').next().unwrap_or(key);
    key.starts_with("pg_catalog.")
        || key.starts_with("information_schema.")
        || name.starts_with("pg_")
        || name.starts_with("sqlite_")
        || matches!(name, "_sqlx_migrations" | "__diesel_schema_migrations" | "refinery_schema_history" | "dual")
}

/// What an upsert's conflict target matches among a table's unique keys.
pub enum TargetMatch<'t> {
    /// `ON CONFLICT DO NOTHING`: any key.
    Any,
    /// The key the target names or infers.
    Key(&'t crate::facts::schema::UniqueKey),
    /// A partial unique index on those columns, whose `WHERE` the target lacks.
    PartialWithoutWhere(&'t crate::facts::schema::UniqueKey),
    /// Only an expression index on something like them (the target cannot say).
    Unsure,
    /// No key.
    Nothing,
}

/// The key an `ON CONFLICT` target names (a constraint) or infers (the same set of
/// columns, and a partial index's predicate when it has one), as Postgres and
/// SQLite infer it.
pub fn target_match<'t>(
    table: &'t crate::facts::schema::Table,
    target: &crate::facts::schema::queries::Target,
) -> TargetMatch<'t> {
    use crate::facts::schema::queries::Target;
    match target {
        Target::Any => TargetMatch::Any,
        Target::Constraint(name) => table.key(name).map_or(TargetMatch::Nothing, TargetMatch::Key),
        Target::Columns { columns, predicate } => {
            let wanted: std::collections::BTreeSet<&str> = columns.iter().map(String::as_str).collect();
            let same = |k: &&crate::facts::schema::UniqueKey| {
                k.columns().is_some_and(|c| c.into_iter().collect::<std::collections::BTreeSet<_>>() == wanted)
            };
            if let Some(k) = table.keys.iter().filter(same).find(|k| match (&k.predicate, predicate) {
                (None, _) => true,
                (Some(p), Some(q)) => p == q,
                (Some(_), None) => false,
            }) {
                return TargetMatch::Key(k);
            }
            if let Some(k) = table.keys.iter().find(same) {
                return TargetMatch::PartialWithoutWhere(k);
            }
            if table.keys.iter().any(|k| k.columns().is_none()) {
                return TargetMatch::Unsure;
            }
            TargetMatch::Nothing
        }
    }
}

/// A key's parts as written in messages: `(parent_id, name)`.
pub fn key_parts(key: &crate::facts::schema::UniqueKey) -> String {
    let parts: Vec<&str> = key
        .parts
        .iter()
        .map(|p| match p {
            crate::facts::schema::KeyPart::Column(c) | crate::facts::schema::KeyPart::Expression(c) => c.as_str(),
        })
        .collect();
    format!("({})", parts.join(", "))
}
