use super::*;
use crate::input::source::Loc;

fn build(dialect: Dialect, files: &[&str]) -> Schema {
    let migrations: Vec<_> = files.iter().enumerate().map(|(file, text)| MigrationText { file, text }).collect();
    build_schema(&migrations, dialect)
}

fn pg(sql: &str) -> Schema {
    build(Dialect::Postgres, &[sql])
}

fn columns<'a>(schema: &'a Schema, table: &str) -> Vec<&'a str> {
    let table = schema.table_named(table).unwrap_or_else(|| panic!("no table {table}: {:?}", schema.tables.keys()));
    table.columns.iter().map(|c| c.name.as_str()).collect()
}

/// Each key as `kind name (parts) [WHERE predicate]`.
fn keys(schema: &Schema, table: &str) -> Vec<String> {
    let table = schema.table_named(table).unwrap_or_else(|| panic!("no table {table}: {:?}", schema.tables.keys()));
    table
        .keys
        .iter()
        .map(|k| {
            let kind = match k.kind {
                KeyKind::PrimaryKey => "pk",
                KeyKind::Unique => "unique",
                KeyKind::UniqueIndex => "index",
            };
            let parts: Vec<_> = k
                .parts
                .iter()
                .map(|p| match p {
                    KeyPart::Column(c) => c.clone(),
                    KeyPart::Expression(e) => format!("expr:{e}"),
                })
                .collect();
            let name = k.name.as_deref().unwrap_or("-");
            let predicate = k.predicate.as_ref().map(|p| format!(" WHERE {p}")).unwrap_or_default();
            format!("{kind} {name} ({}){predicate}", parts.join(", "))
        })
        .collect()
}

fn text<'a>(files: &[&'a str], loc: Loc) -> &'a str {
    &files[loc.file][loc.range()]
}

fn no_unparsed(schema: &Schema) {
    assert!(schema.unparsed.is_empty(), "unparsed: {:?}", schema.unparsed);
}

#[test]
fn create_table_columns_and_keys() {
    let sql = "-- users and their teams
CREATE TABLE users (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    handle TEXT CONSTRAINT users_handle_uniq UNIQUE,
    team_id UUID REFERENCES teams (id)
);
CREATE TABLE memberships (
    team_id UUID NOT NULL,
    user_id UUID NOT NULL,
    seat INT,
    PRIMARY KEY (team_id, user_id),
    UNIQUE (team_id, seat),
    CONSTRAINT memberships_seat_uniq UNIQUE (seat, team_id),
    CHECK (seat > 0),
    FOREIGN KEY (user_id) REFERENCES users (id)
);";
    let schema = pg(sql);
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "users"), ["id", "email", "handle", "team_id"]);
    assert_eq!(
        keys(&schema, "users"),
        ["pk users_pkey (id)", "unique users_email_key (email)", "unique users_handle_uniq (handle)"]
    );
    assert_eq!(columns(&schema, "memberships"), ["team_id", "user_id", "seat"]);
    assert_eq!(
        keys(&schema, "memberships"),
        [
            "pk memberships_pkey (team_id, user_id)",
            "unique memberships_team_id_seat_key (team_id, seat)",
            "unique memberships_seat_uniq (seat, team_id)"
        ]
    );

    let users = schema.table_named("users").unwrap();
    assert_eq!(users.name, "users");
    assert_eq!(text(&[sql], users.created), "users");
    assert!(users.complete);
    assert_eq!(text(&[sql], users.column_named("email").unwrap().at), "email");
    assert_eq!(text(&[sql], users.keys[1].at), "email TEXT NOT NULL UNIQUE");
    let memberships = schema.table_named("memberships").unwrap();
    let at: Vec<_> = memberships.keys.iter().map(|k| text(&[sql], k.at)).collect();
    assert_eq!(
        at,
        [
            "PRIMARY KEY (team_id, user_id)",
            "UNIQUE (team_id, seat)",
            "CONSTRAINT memberships_seat_uniq UNIQUE (seat, team_id)"
        ]
    );
    assert_eq!(memberships.primary_key().and_then(|k| k.columns()), Some(vec!["team_id", "user_id"]));
    assert_eq!(memberships.key_named("MEMBERSHIPS_SEAT_UNIQ").map(|k| k.kind), Some(KeyKind::Unique));
    assert!(memberships.column_named("nope").is_none());
}

#[test]
fn sqlite_tables() {
    let sql = "CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    payload BLOB,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (queue, payload) ON CONFLICT REPLACE
);
CREATE TABLE \"Events\" (\"Id\" INTEGER NOT NULL, [kind] TEXT, PRIMARY KEY (\"Id\")) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_kind ON events (kind);";
    let schema = build(Dialect::Sqlite, &[sql]);
    // sqlparser does not know a table constraint's conflict clause: that is left out.
    let unparsed: Vec<_> = schema.unparsed.iter().map(|u| text(&[sql], u.at)).collect();
    assert_eq!(unparsed, ["ON CONFLICT REPLACE"]);
    assert_eq!(columns(&schema, "jobs"), ["id", "queue", "payload", "created_at"]);
    // SQLite gives unnamed keys no name a statement could use.
    assert_eq!(keys(&schema, "jobs"), ["pk - (id)", "unique - (queue, payload)"]);
    // SQLite names are case-insensitive, quoted or not.
    assert_eq!(columns(&schema, "EVENTS"), ["id", "kind"]);
    assert!(schema.table_named("\"events\"").is_some());
    assert!(schema.table_named("main.events").is_some());
    assert_eq!(keys(&schema, "events"), ["pk - (id)", "index events_kind (kind)"]);
    assert!(schema.table_named("events").unwrap().column_named("\"KIND\"").is_some());
}

#[test]
fn mysql_tables() {
    let sql = "CREATE TABLE `accounts` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `Email` VARCHAR(255) NOT NULL,
  `slug` VARCHAR(64) NOT NULL UNIQUE,
  `org_id` BIGINT NOT NULL,
  `bio` TEXT,
  PRIMARY KEY (`id`),
  UNIQUE KEY `accounts_email_unique` (`email`),
  UNIQUE INDEX (`org_id`, `slug`),
  UNIQUE KEY `bio_prefix` (`bio`(191)),
  KEY `accounts_org_id_index` (`org_id`),
  INDEX (`Email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
# a MySQL comment
CREATE TABLE tags (id INT AUTO_INCREMENT, name VARCHAR(40), CONSTRAINT pk_tags PRIMARY KEY (id));";
    let schema = build(Dialect::Mysql, &[sql]);
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "ACCOUNTS"), ["id", "email", "slug", "org_id", "bio"]);
    assert_eq!(
        keys(&schema, "accounts"),
        [
            "unique slug (slug)",
            "pk primary (id)",
            "unique accounts_email_unique (email)",
            "unique org_id (org_id, slug)",
            "unique bio_prefix (bio)"
        ]
    );
    assert_eq!(schema.table_named("accounts").unwrap().indexes, ["accounts_org_id_index", "email"]);
    assert_eq!(keys(&schema, "tags"), ["pk primary (id)"]);
    assert_eq!(schema.table_named("`tags`").unwrap().name, "tags");
}

#[test]
fn postgres_identity_and_quoting() {
    let sql = r#"CREATE TABLE public.invoices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number INT GENERATED BY DEFAULT AS IDENTITY (START WITH 1000 INCREMENT BY 1),
    "Total" NUMERIC(12, 2) NOT NULL DEFAULT 0,
    total_cents BIGINT GENERATED ALWAYS AS (("Total" * 100)::BIGINT) STORED,
    tags TEXT[] NOT NULL DEFAULT '{}'
);
CREATE TABLE "Audit"."Log Entries" (id SERIAL PRIMARY KEY, "Note" TEXT);
CREATE TABLE IF NOT EXISTS billing.plans (code TEXT PRIMARY KEY);"#;
    let schema = pg(sql);
    no_unparsed(&schema);
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["Audit.Log Entries", "billing.plans", "invoices"]);
    assert_eq!(columns(&schema, "invoices"), ["id", "number", "Total", "total_cents", "tags"]);
    assert_eq!(keys(&schema, "public.invoices"), ["pk invoices_pkey (id)"]);
    let invoices = schema.table_named("INVOICES").unwrap();
    assert_eq!(invoices.name, "public.invoices");
    assert!(invoices.column_named("\"Total\"").is_some());
    assert!(invoices.column_named("total").is_none(), "quoted names keep their case in Postgres");
    assert!(schema.table_named(r#""Audit"."Log Entries""#).is_some());
    assert!(schema.table_named("audit.\"Log Entries\"").is_none());
    assert_eq!(columns(&schema, "billing.plans"), ["code"]);
    assert!(schema.table_named("plans").is_none(), "another schema is kept");
}

#[test]
fn create_table_if_not_exists_on_an_existing_table_changes_nothing() {
    let files = [
        "CREATE TABLE users (id INT PRIMARY KEY, email TEXT);",
        "CREATE TABLE IF NOT EXISTS users (id INT, name TEXT UNIQUE);\n\
         CREATE TABLE IF NOT EXISTS public.users (other INT);",
    ];
    let schema = build(Dialect::Postgres, &files);
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "users"), ["id", "email"]);
    assert_eq!(keys(&schema, "users"), ["pk users_pkey (id)"]);
    assert_eq!(schema.table_named("users").unwrap().created.file, 0);
    // Created again without IF NOT EXISTS: the last definition holds.
    let schema = build(Dialect::Postgres, &[files[0], "CREATE TABLE users (id BIGINT, name TEXT);"]);
    assert_eq!(columns(&schema, "users"), ["id", "name"]);
    assert!(keys(&schema, "users").is_empty());
}

#[test]
fn alter_table_columns() {
    let files = [
        "CREATE TABLE docs (id INT PRIMARY KEY, title TEXT, slug TEXT UNIQUE, parent_id UUID, body TEXT);",
        "ALTER TABLE docs ADD COLUMN IF NOT EXISTS title TEXT, ADD COLUMN summary TEXT;
         ALTER TABLE public.docs ADD archived BOOLEAN NOT NULL DEFAULT false, ADD COLUMN code TEXT UNIQUE;
         ALTER TABLE docs DROP COLUMN body, DROP COLUMN IF EXISTS nothing_here;
         ALTER TABLE docs RENAME COLUMN title TO headline;
         ALTER TABLE unknown_table ADD COLUMN x INT;",
    ];
    let schema = build(Dialect::Postgres, &files);
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "docs"), ["id", "headline", "slug", "parent_id", "summary", "archived", "code"]);
    assert_eq!(
        keys(&schema, "docs"),
        ["pk docs_pkey (id)", "unique docs_slug_key (slug)", "unique docs_code_key (code)"]
    );
    let docs = schema.table_named("docs").unwrap();
    let headline = docs.column_named("headline").unwrap();
    assert_eq!((headline.at.file, text(&files, headline.at)), (1, "headline"));
    assert_eq!(text(&files, docs.keys[2].at), "ADD COLUMN code TEXT UNIQUE");
    assert!(schema.table_named("unknown_table").is_none());

    // Dropping a column drops the keys that use it; renaming one carries them along.
    let schema = pg("CREATE TABLE t (a INT, b INT, c INT, UNIQUE (a, b), UNIQUE (c));
        CREATE UNIQUE INDEX t_lower ON t (lower(c::text)) WHERE a IS NOT NULL;
        CREATE UNIQUE INDEX t_b ON t (b) WHERE c > 0;
        ALTER TABLE t DROP COLUMN a;
        ALTER TABLE t RENAME COLUMN c TO d;");
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "t"), ["b", "d"]);
    assert_eq!(keys(&schema, "t"), ["unique t_c_key (d)", "index t_b (b) WHERE d > 0"]);
}

#[test]
fn rename_column_follows_into_expressions() {
    let schema = pg("CREATE TABLE nodes (id UUID, parent_id UUID, name TEXT);
        CREATE UNIQUE INDEX nodes_parent_name ON nodes (COALESCE(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name))
            WHERE parent_id IS NOT NULL;
        ALTER TABLE nodes RENAME COLUMN parent_id TO \"Parent\";");
    no_unparsed(&schema);
    assert_eq!(
        keys(&schema, "nodes"),
        [
            "index nodes_parent_name (expr:COALESCE(\"Parent\", '00000000-0000-0000-0000-000000000000'), expr:LOWER(name)) WHERE \"Parent\" IS NOT NULL"
        ]
    );
}

#[test]
fn rename_table_keeps_its_keys() {
    let sql = "CREATE TABLE audit.events (id INT PRIMARY KEY, kind TEXT);
        CREATE UNIQUE INDEX events_kind ON audit.events (kind);
        ALTER TABLE audit.events RENAME TO event_log;
        CREATE TABLE old_name (id INT UNIQUE);
        ALTER TABLE IF EXISTS old_name RENAME TO new_name;
        DROP INDEX audit.events_kind;
        DROP INDEX old_name_id_key;";
    let schema = pg(sql);
    no_unparsed(&schema);
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["audit.event_log", "new_name"]);
    // Postgres does not rename a renamed table's constraints.
    assert_eq!(keys(&schema, "audit.event_log"), ["pk events_pkey (id)"]);
    assert!(keys(&schema, "new_name").is_empty());
    assert_eq!(text(&[sql], schema.table_named("new_name").unwrap().created), "old_name");

    let schema = build(
        Dialect::Mysql,
        &["CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT); RENAME TABLE a TO c, b TO d;"],
    );
    no_unparsed(&schema);
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["c", "d"]);
    assert_eq!(keys(&schema, "c"), ["pk primary (id)"]);
    let schema = build(Dialect::Sqlite, &["CREATE TABLE a (id INTEGER PRIMARY KEY); ALTER TABLE a RENAME TO b;"]);
    assert_eq!(keys(&schema, "b"), ["pk - (id)"]);
}

#[test]
fn constraints_added_dropped_and_renamed() {
    let sql = "CREATE TABLE users (id INT, email TEXT UNIQUE, org INT, handle TEXT);
        ALTER TABLE ONLY public.users ADD CONSTRAINT users_pk PRIMARY KEY (id);
        ALTER TABLE users ADD CONSTRAINT users_org_handle UNIQUE (org, handle), ADD UNIQUE (handle);
        ALTER TABLE users DROP CONSTRAINT users_email_key;
        ALTER TABLE users DROP CONSTRAINT IF EXISTS not_there;
        ALTER TABLE users RENAME CONSTRAINT users_org_handle TO users_org_handle_key;";
    let schema = pg(sql);
    no_unparsed(&schema);
    assert_eq!(
        keys(&schema, "users"),
        ["pk users_pk (id)", "unique users_org_handle_key (org, handle)", "unique users_handle_key (handle)"]
    );
    let users = schema.table_named("users").unwrap();
    assert_eq!(text(&[sql], users.keys[1].at), "ADD CONSTRAINT users_org_handle UNIQUE (org, handle)");
    assert_eq!(text(&[sql], users.keys[2].at), "ADD UNIQUE (handle)");

    // A unique index promoted to a constraint.
    let schema = pg("CREATE TABLE t (a INT);
        CREATE UNIQUE INDEX CONCURRENTLY t_a_idx ON t (a);
        ALTER TABLE t ADD CONSTRAINT t_a_unique UNIQUE USING INDEX t_a_idx;");
    no_unparsed(&schema);
    assert_eq!(keys(&schema, "t"), ["unique t_a_unique (a)"]);

    let schema = build(
        Dialect::Mysql,
        &["CREATE TABLE t (id INT NOT NULL, a INT, b INT, PRIMARY KEY (id), UNIQUE KEY ab (a, b));
           ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, a);
           ALTER TABLE t ADD UNIQUE KEY b_uniq (b), ADD INDEX a_idx (a);
           ALTER TABLE t DROP INDEX ab;
           ALTER TABLE t DROP INDEX a_idx;"],
    );
    no_unparsed(&schema);
    assert_eq!(keys(&schema, "t"), ["pk primary (id, a)", "unique b_uniq (b)"]);
    assert!(schema.table_named("t").unwrap().indexes.is_empty());
}

#[test]
fn unique_indexes() {
    let sql = "CREATE TABLE items (id INT, owner_id INT, name TEXT, deleted_at TIMESTAMPTZ);
CREATE UNIQUE INDEX items_owner_name ON items (owner_id, name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS items_owner_name ON items (id);
CREATE UNIQUE INDEX items_lower_name ON public.items USING btree (owner_id, (lower(name)));
CREATE UNIQUE INDEX ON items (id DESC NULLS LAST);
CREATE INDEX items_owner ON items (owner_id);
CREATE INDEX ON items (lower(name));
CREATE INDEX IF NOT EXISTS items_owner ON items (name);
CREATE UNIQUE INDEX on_unknown ON unknown_table (x);";
    let schema = pg(sql);
    no_unparsed(&schema);
    assert_eq!(
        keys(&schema, "items"),
        [
            "index items_owner_name (owner_id, name) WHERE deleted_at IS NULL",
            "index items_lower_name (owner_id, expr:LOWER(name))",
            "index items_id_idx (id)"
        ]
    );
    let items = schema.table_named("items").unwrap();
    assert_eq!(items.indexes, ["items_owner", "items_lower_idx"]);
    assert_eq!(
        text(&[sql], items.keys[0].at),
        "CREATE UNIQUE INDEX items_owner_name ON items (owner_id, name) WHERE deleted_at IS NULL"
    );

    let schema = pg(&format!(
        "{sql}\nDROP INDEX items_owner_name;\nDROP INDEX IF EXISTS public.items_lower_name, items_owner;\n\
         DROP INDEX IF EXISTS not_an_index;\nALTER INDEX items_id_idx RENAME TO items_id_uniq;"
    ));
    no_unparsed(&schema);
    assert_eq!(keys(&schema, "items"), ["index items_id_uniq (id)"]);
    assert_eq!(schema.table_named("items").unwrap().indexes, ["items_lower_idx"]);

    let schema = build(
        Dialect::Mysql,
        &["CREATE TABLE t (a INT, b INT); CREATE UNIQUE INDEX t_a ON t (a); CREATE INDEX t_b ON t (b);
           DROP INDEX t_a ON t;"],
    );
    no_unparsed(&schema);
    assert!(keys(&schema, "t").is_empty());
    assert_eq!(schema.table_named("t").unwrap().indexes, ["t_b"]);

    let schema = build(
        Dialect::Sqlite,
        &["CREATE TABLE t (a INT, b INT); CREATE UNIQUE INDEX t_a ON t (a) WHERE b IS NOT NULL; DROP INDEX IF EXISTS t_a;
           CREATE UNIQUE INDEX t_b ON t (b COLLATE NOCASE);"],
    );
    no_unparsed(&schema);
    assert_eq!(keys(&schema, "t"), ["index t_b (expr:b COLLATE nocase)"]);
}

#[test]
fn drop_table_moves_to_dropped() {
    let files = [
        "CREATE TABLE sessions (id INT);\nCREATE TABLE tokens (id INT);\nCREATE TABLE kept (id INT);",
        "DROP TABLE IF EXISTS sessions, never_created;\nDROP TABLE public.tokens CASCADE;",
        "CREATE TABLE tokens (id BIGINT, value TEXT);",
    ];
    let schema = build(Dialect::Postgres, &files);
    no_unparsed(&schema);
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["kept", "tokens"]);
    assert_eq!(schema.dropped.keys().collect::<Vec<_>>(), ["sessions"]);
    let sessions = schema.dropped_named("SESSIONS").unwrap();
    assert_eq!((sessions.created.file, text(&files, sessions.created)), (0, "sessions"));
    assert_eq!((sessions.dropped.file, text(&files, sessions.dropped)), (1, "sessions"));
    assert_eq!(columns(&schema, "tokens"), ["id", "value"]);
}

#[test]
fn drops_and_renames_are_kept_with_where_they_were_made() {
    let files = [
        "CREATE TABLE invites (id INT, token TEXT, sent_by INT, note TEXT);\nCREATE TABLE orgs (id INT);",
        "ALTER TABLE invites DROP COLUMN sent_by, DROP COLUMN note;\nALTER TABLE invites RENAME COLUMN token TO secret;\nALTER TABLE orgs RENAME TO teams;",
        "ALTER TABLE invites RENAME COLUMN secret TO code_hash;\nALTER TABLE invites ADD COLUMN note TEXT;\nALTER TABLE teams RENAME TO groups;",
    ];
    let schema = build(Dialect::Postgres, &files);
    no_unparsed(&schema);
    let invites = schema.table("invites").unwrap();
    let sent_by = invites.column_change("sent_by").unwrap();
    assert_eq!((sent_by.renamed_to.as_deref(), sent_by.at.file, text(&files, sent_by.at)), (None, 1, "sent_by"));
    // Added back: no longer a change.
    assert!(invites.column_change("note").is_none());
    let token = invites.column_change("token").unwrap();
    assert_eq!((token.renamed_to.as_deref(), text(&files, token.at)), (Some("secret"), "token TO secret"));
    assert_eq!(invites.column_now(token).map(|c| c.name.as_str()), Some("code_hash"));
    assert!(invites.column_change("code_hash").is_none(), "a column that exists has no change");
    let orgs = schema.renamed_table("orgs").unwrap();
    assert_eq!((orgs.to.as_str(), orgs.at.file, text(&files, orgs.at)), ("teams", 1, "teams"));
    assert_eq!(schema.table_now(orgs).map(|t| t.name.as_str()), Some("groups"));
    // A table created again under its old name is that table.
    let again = build(Dialect::Postgres, &[files[0], files[1], "CREATE TABLE orgs (id INT);"]);
    assert!(again.renamed_table("orgs").is_none() && again.table("orgs").is_some());
    // Renamed, then dropped: nothing to point at now.
    let gone = build(Dialect::Postgres, &[files[0], files[1], "DROP TABLE teams;"]);
    assert!(gone.table_now(gone.renamed_table("orgs").unwrap()).is_none());
}

#[test]
fn lookups_by_key_keep_a_quoted_names_case() {
    let schema = pg(r#"CREATE TABLE "UserAccounts" ("Email" TEXT, plain TEXT);"#);
    let accounts = schema.table("UserAccounts").expect("by its key");
    assert!(schema.table("useraccounts").is_none());
    assert!(accounts.column("Email").is_some() && accounts.column("email").is_none());
    assert!(accounts.column("plain").is_some());
}

#[test]
fn statements_that_change_no_table_are_ignored() {
    let sql = r#"
-- seed data and the rest
BEGIN;
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE people (id UUID PRIMARY KEY DEFAULT uuid_generate_v4(), mood mood, updated_at TIMESTAMPTZ);
INSERT INTO people (id, mood) VALUES ('0e2e9b51-7a2f-4d0c-9f3a-3f1f0a1b2c3d', 'happy') ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$
BEGIN
    NEW.updated_at = now(); -- a ; inside the body
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER people_touch BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION touch();
DO $body$ BEGIN IF NOT EXISTS (SELECT 1) THEN RAISE NOTICE 'x;y'; END IF; END $body$;
GRANT SELECT, INSERT ON people TO app_user;
COMMENT ON TABLE people IS 'everyone; really';
CREATE VIEW happy_people AS SELECT * FROM people WHERE mood = 'happy';
CREATE SEQUENCE IF NOT EXISTS people_seq;
ALTER TABLE people OWNER TO admin;
ALTER TABLE people ALTER COLUMN mood SET DEFAULT 'ok';
/* a block comment; with a semicolon */
COMMIT;
"#;
    let schema = pg(sql);
    // sqlparser does not read DO blocks: reported, as schema changes inside are not seen.
    let unparsed: Vec<_> = schema.unparsed.iter().map(|u| text(&[sql], u.at)).collect();
    assert_eq!(unparsed, ["DO $body$ BEGIN IF NOT EXISTS (SELECT 1) THEN RAISE NOTICE 'x;y'; END IF; END $body$"]);
    // (The view is a name of its own, of columns not known.)
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["happy_people", "people"]);
    assert_eq!(columns(&schema, "people"), ["id", "mood", "updated_at"]);
}

#[test]
fn sqlite_trigger_body_is_one_statement() {
    let sql = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, updated INTEGER);
CREATE TRIGGER notes_touch AFTER UPDATE ON notes
BEGIN
    UPDATE notes SET updated = CASE WHEN NEW.updated IS NULL THEN 1 ELSE NEW.updated + 1 END WHERE id = NEW.id;
    SELECT 1;
END;
CREATE TABLE tags (name TEXT UNIQUE);";
    let schema = build(Dialect::Sqlite, &[sql]);
    // Whether or not sqlparser reads the trigger, it is one statement and the
    // tables around it count.
    assert!(schema.unparsed.len() <= 1, "{:?}", schema.unparsed);
    if let Some(u) = schema.unparsed.first() {
        assert!(text(&[sql], u.at).starts_with("CREATE TRIGGER") && text(&[sql], u.at).ends_with("END"));
    }
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["notes", "tags"]);
}

#[test]
fn an_unparsable_statement_is_reported_once_and_the_rest_counts() {
    // Non-ASCII text before and on the statements' lines: locations are bytes.
    let sql = "-- Schéma de départ ✓
CREATE TABLE a (id INT PRIMARY KEY); /* é */ CREATE TABLEX oops (id INT);
CREATE TABLE b (名前 TEXT, \"ünïcode\" TEXT UNIQUE);
CREATE TABLE c (id INT,, x INT);
CREATE TABLE d (id INT)";
    let schema = pg(sql);
    let unparsed: Vec<_> = schema.unparsed.iter().map(|u| text(&[sql], u.at)).collect();
    assert_eq!(unparsed, ["CREATE TABLEX oops (id INT)", "CREATE TABLE c (id INT,, x INT)"]);
    assert!(schema.unparsed.iter().all(|u| !u.message.is_empty()));
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["a", "b", "d"]);
    let b = schema.table_named("b").unwrap();
    assert_eq!(text(&[sql], b.created), "b");
    assert_eq!(text(&[sql], b.column_named("名前").unwrap().at), "名前");
    assert_eq!(text(&[sql], b.column_named("\"ünïcode\"").unwrap().at), "\"ünïcode\"");
    assert_eq!(text(&[sql], b.keys[0].at), "\"ünïcode\" TEXT UNIQUE");
    assert_eq!(text(&[sql], schema.table_named("d").unwrap().created), "d");
}

#[test]
fn a_create_table_keeps_what_parses() {
    let sql = "CREATE TABLE t (
    id INT PRIMARY KEY,
    a INT FROBNICATE 7,
    ??? junk,
    b TEXT UNIQUE,
    UNIQUE (a) WOBBLE
) FROBNICATE = 1;
CREATE TABLE u (id INT) ALSO (1, 2);";
    let schema = pg(sql);
    let unparsed: Vec<_> = schema.unparsed.iter().map(|u| text(&[sql], u.at)).collect();
    assert_eq!(unparsed, ["FROBNICATE 7", "??? junk", "WOBBLE", "FROBNICATE = 1", "ALSO (1, 2)"]);
    assert_eq!(columns(&schema, "t"), ["id", "a", "b"]);
    assert_eq!(keys(&schema, "t"), ["pk t_pkey (id)", "unique t_b_key (b)", "unique t_a_key (a)"]);
    // `??? junk` may have been a column.
    assert!(!schema.table_named("t").unwrap().complete);
    assert!(schema.table_named("u").unwrap().complete);
    let schema = pg("CREATE TABLE v (id INT, CONSTRAINT ??? CHECK, a INT)");
    assert_eq!(schema.unparsed.len(), 1);
    assert_eq!(columns(&schema, "v"), ["id", "a"]);
    assert!(schema.table_named("v").unwrap().complete, "a constraint left out loses no column");
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "   \n\t  ",
        ";;;;",
        "-- only a comment",
        "/* unterminated block comment",
        "CREATE TABLE t (id INT); INSERT INTO t VALUES ('unterminated",
        "CREATE TABLE t (id INT); SELECT \"unterminated",
        "CREATE TABLE t (id INT); DO $$ BEGIN",
        "CREATE TABLE t (id INT); CREATE FUNCTION f() RETURNS INT BEGIN ATOMIC SELECT 1;",
        "\u{0}\u{1}\u{7f} ]]] ))) ((( ,,, ::: $1 ? @ # ` ' \" \\",
        "CREATE",
        "CREATE TABLE",
        "CREATE TABLE (",
        "ALTER TABLE t RENAME",
        "CREATE UNIQUE INDEX ON",
        "DROP TABLE",
        "DROP INDEX",
        "✓✓✓ é; 名前; ;",
        "CREATE TABLE t (id INT);\r\nCREATE TABLE u (id INT PRIMARY KEY);\r\n",
        "SELECT 'it''s'; SELECT E'\\'';",
        "CREATE TABLE t (c INT CHECK (c > 0) DEFAULT (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))",
    ];
    for dialect in [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql] {
        for input in inputs {
            let schema = build(dialect, &[input, input]);
            for u in &schema.unparsed {
                assert!(u.at.start <= u.at.end && u.at.range().end <= input.len(), "{input:?}: {u:?}");
                assert!(input.get(u.at.range()).is_some(), "{input:?}: {u:?} is not on character boundaries");
            }
            for table in schema.tables.values() {
                assert!(input.get(table.created.range()).is_some(), "{input:?}");
            }
        }
        let deep = format!("CREATE UNIQUE INDEX i ON t ({}a{});", "(".repeat(5000), ")".repeat(5000));
        let schema = build(dialect, &["CREATE TABLE t (a INT);", &deep]);
        assert_eq!(schema.unparsed.len(), 1, "{dialect:?}");
    }

    // The rest of a file after an unterminated string is one unparsed piece;
    // the file before it and the next file count.
    let files = [
        "CREATE TABLE t (id INT);\nINSERT INTO t VALUES ('oops);\nCREATE TABLE lost (id INT);\n",
        "CREATE TABLE u (id INT);",
    ];
    let schema = build(Dialect::Postgres, &files);
    assert_eq!(schema.tables.keys().collect::<Vec<_>>(), ["t", "u"]);
    assert_eq!(schema.unparsed.len(), 1);
    assert_eq!(text(&files, schema.unparsed[0].at), "INSERT INTO t VALUES ('oops);\nCREATE TABLE lost (id INT);");
}

#[test]
fn table_as_select_and_like() {
    let schema = pg("CREATE TABLE src (id INT PRIMARY KEY, name TEXT);
        CREATE TABLE snapshot AS SELECT * FROM src;
        CREATE TABLE copy (LIKE src);
        CREATE TABLE other (LIKE not_ours);
        CREATE TEMP TABLE scratch (id INT);");
    no_unparsed(&schema);
    assert!(!schema.table_named("snapshot").unwrap().complete);
    assert!(schema.table_named("copy").unwrap().complete);
    assert_eq!(columns(&schema, "copy"), ["id", "name"]);
    assert!(keys(&schema, "copy").is_empty());
    assert!(!schema.table_named("other").unwrap().complete);
    assert!(schema.table_named("scratch").is_none());

    let schema =
        build(Dialect::Mysql, &["CREATE TABLE src (id INT PRIMARY KEY, name TEXT); CREATE TABLE dst LIKE src;"]);
    no_unparsed(&schema);
    assert_eq!(keys(&schema, "dst"), ["pk primary (id)"]);
}

#[test]
fn mysql_columns_changes() {
    let schema = build(
        Dialect::Mysql,
        &["CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, UNIQUE KEY ab (a, b), UNIQUE KEY b_only (b));
           ALTER TABLE t CHANGE COLUMN a alpha INT NOT NULL, MODIFY COLUMN id BIGINT, ADD COLUMN c INT UNIQUE AFTER id;
           ALTER TABLE t DROP COLUMN b;"],
    );
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "t"), ["id", "alpha", "c"]);
    // MySQL takes a dropped column out of its indexes.
    assert_eq!(keys(&schema, "t"), ["pk primary (id)", "unique ab (alpha)", "unique c (c)"]);
}

#[test]
fn implied_names_are_unique_and_short_enough() {
    let long = "a".repeat(40);
    let schema = pg(&format!(
        "CREATE TABLE t_x_key (id INT);
         CREATE TABLE t (x INT UNIQUE, CONSTRAINT t_x_key2_check CHECK (x > 0));
         ALTER TABLE t ADD UNIQUE (x);
         CREATE TABLE {long} ({long}_column INT UNIQUE);"
    ));
    no_unparsed(&schema);
    // `t_x_key` is a table: the first unique key takes `t_x_key1`, the next `t_x_key2`.
    assert_eq!(keys(&schema, "t"), ["unique t_x_key1 (x)", "unique t_x_key2 (x)"]);
    let name = schema.table_named(&long).unwrap().keys[0].name.clone().unwrap();
    assert_eq!(name.len(), 63);
    assert_eq!(name, format!("{}_{}_key", "a".repeat(29), &format!("{long}_column")[..29]));
}

#[test]
fn expressions_are_normalized() {
    let dialect = Dialect::Postgres;
    let parse = |sql: &str| {
        let dialect = dialect.parser();
        sqlparser::parser::Parser::new(&*dialect).try_with_sql(sql).unwrap().parse_expr().unwrap()
    };
    let forms = [
        "coalesce( parent_id ,'00000000-0000-0000-0000-000000000000')",
        "(COALESCE(Parent_Id, '00000000-0000-0000-0000-000000000000'))",
        "((Coalesce(PARENT_ID,\n '00000000-0000-0000-0000-000000000000')))",
    ];
    for form in forms {
        assert_eq!(
            normalize_expr(&parse(form), dialect),
            "COALESCE(parent_id, '00000000-0000-0000-0000-000000000000')"
        );
    }
    assert_eq!(
        normalize_expr(&parse("deleted_at is null and \"Kind\" = 'A'"), dialect),
        "deleted_at IS NULL AND \"Kind\" = 'A'"
    );
    assert_eq!(normalize_expr(&parse("lower(email::TEXT)"), dialect), "LOWER(email::text)");
    assert_eq!(
        normalize_expr(&parse("\"parent_id\" + \"Parent\" + \"from\""), dialect),
        "parent_id + \"Parent\" + \"from\""
    );
    let mysql = Dialect::Mysql.parser();
    let expr =
        sqlparser::parser::Parser::new(&*mysql).try_with_sql("IFNULL(`Parent_Id`, 0)").unwrap().parse_expr().unwrap();
    assert_eq!(normalize_expr(&expr, Dialect::Mysql), "IFNULL(parent_id, 0)");
}

#[test]
fn names_as_keys() {
    let dialect = Dialect::Postgres;
    let schema = pg("CREATE TABLE \"Mixed\" (\"Id\" INT); CREATE TABLE plain (id INT);");
    assert!(schema.table_named("\"Mixed\"").is_some());
    assert!(schema.table_named("mixed").is_none());
    assert!(schema.table_named("Plain").is_some());
    assert!(schema.table_named(" public . plain ").is_some());
    assert!(schema.table_named("\"public\".\"plain\"").is_some());
    assert!(schema.table_named("\"Plain\"").is_none());
    assert!(schema.table_named("other.plain").is_none());
    let ident = sqlparser::ast::Ident::with_quote('"', "Id");
    assert_eq!(ident_key(&ident, dialect), "Id");
    assert_eq!(ident_key(&ident, Dialect::Sqlite), "id");
    let name = sqlparser::ast::ObjectName::from(vec![
        sqlparser::ast::Ident::new("PUBLIC"),
        sqlparser::ast::Ident::with_quote('"', "T"),
    ]);
    assert_eq!(table_key(&name, dialect), "T");
    let deserialized: Dialect = serde_json::from_str("\"sqlite\"").unwrap();
    assert_eq!(deserialized, Dialect::Sqlite);
    assert_eq!(Dialect::default(), Dialect::Postgres);
}

#[test]
fn partitions_and_inheritance_take_their_parents_columns() {
    let schema = pg("CREATE TABLE measurements (id BIGINT, taken_at DATE NOT NULL, PRIMARY KEY (id, taken_at))
            PARTITION BY RANGE (taken_at);
        CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE cities (name TEXT);
        CREATE TABLE capitals (state CHAR(2)) INHERITS (cities);
        CREATE TABLE orphans (x INT) INHERITS (not_ours);");
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "measurements_2024"), ["id", "taken_at"]);
    assert!(schema.table_named("measurements_2024").unwrap().complete);
    // Inherited columns come first, as in Postgres.
    assert_eq!(columns(&schema, "capitals"), ["name", "state"]);
    assert!(!schema.table_named("orphans").unwrap().complete);
}

#[test]
fn alter_table_in_each_dialect() {
    let sqlite = "CREATE TABLE `notes` (id INTEGER PRIMARY KEY, body TEXT, old TEXT UNIQUE);
        ALTER TABLE notes ADD COLUMN title TEXT NOT NULL DEFAULT '';
        ALTER TABLE notes ADD tags TEXT;
        ALTER TABLE notes RENAME COLUMN body TO content;
        ALTER TABLE notes RENAME old TO legacy;
        ALTER TABLE \"NOTES\" RENAME TO note;
        CREATE UNIQUE INDEX IF NOT EXISTS note_title ON note (title COLLATE NOCASE, legacy);
        ALTER TABLE note DROP COLUMN tags;
        DROP TABLE IF EXISTS [nothing];";
    let schema = build(Dialect::Sqlite, &[sqlite]);
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "note"), ["id", "content", "legacy", "title"]);
    assert_eq!(
        keys(&schema, "note"),
        ["pk - (id)", "unique - (legacy)", "index note_title (expr:title COLLATE nocase, legacy)"]
    );

    let mysql = "CREATE TABLE `posts` (`id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY, `Title` VARCHAR(200), `Slug` VARCHAR(200), UNIQUE KEY `slug` (`slug`));
        ALTER TABLE `posts` ADD COLUMN `body` TEXT AFTER `title`, ADD UNIQUE INDEX `title_unique` (`title`);
        ALTER TABLE posts RENAME COLUMN `SLUG` TO `handle`;
        ALTER TABLE posts RENAME TO `articles`;
        DROP TABLE IF EXISTS `old_posts`;";
    let schema = build(Dialect::Mysql, &[mysql]);
    no_unparsed(&schema);
    assert_eq!(columns(&schema, "articles"), ["id", "title", "handle", "body"]);
    assert_eq!(keys(&schema, "Articles"), ["pk primary (id)", "unique slug (handle)", "unique title_unique (title)"]);
    let articles = schema.table_named("articles").unwrap();
    assert_eq!(text(&[mysql], articles.keys[1].at), "UNIQUE KEY `slug` (`slug`)");
    assert_eq!(text(&[mysql], articles.keys[2].at), "ADD UNIQUE INDEX `title_unique` (`title`)");
    assert_eq!(text(&[mysql], articles.column_named("handle").unwrap().at), "`handle`");
    assert_eq!(articles.name, "`articles`");
}

#[test]
fn views_are_names_of_unknown_columns() {
    let schema = pg("CREATE TABLE t (id int PRIMARY KEY);
         CREATE VIEW v AS SELECT id FROM t;
         DROP VIEW v;
         CREATE OR REPLACE VIEW v AS SELECT id FROM t;
         CREATE MATERIALIZED VIEW m AS SELECT count(*) AS n FROM t;
         CREATE VIEW gone AS SELECT 1;
         DROP VIEW IF EXISTS gone;");
    no_unparsed(&schema);
    let v = schema.table("v").expect("a view is known by name");
    assert!(v.view && !v.complete && v.keys.is_empty());
    assert!(schema.table("m").is_some_and(|m| m.view), "materialized too");
    assert!(schema.table("gone").is_none() && schema.dropped.contains_key("gone"));
    assert!(schema.table("t").is_some_and(|t| !t.view && t.complete));
}

#[test]
fn pragmas_change_no_schema_and_are_not_reported() {
    let schema = build(
        Dialect::Sqlite,
        &["PRAGMA foreign_keys = OFF;\nCREATE TABLE t (id INTEGER PRIMARY KEY);\nPRAGMA foreign_keys=ON;"],
    );
    no_unparsed(&schema);
    assert!(schema.table("t").is_some());
}
