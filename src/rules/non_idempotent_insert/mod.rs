//! # non-idempotent-insert
//!
//! ## What it does
//! Flags an `INSERT` into a guarded table (default `workspaces`) that can run
//! repeatedly without an idempotency guard: in the body of a `for`, `while` or
//! `loop`; in a closure given to an iterator or stream adapter (`map`, `for_each`,
//! `then`, `fold`, … feeding `join_all` or `FuturesUnordered`; also on a parameter or
//! local declared an iterator or a stream, `rows: S` with `S: Stream<Item = Row>`,
//! `impl Iterator<Item = T>`); in a closure given to
//! a retry wrapper (`with_retry(|| async { … })`, `backoff::future::retry`,
//! `tokio_retry::Retry::spawn`: `retry-wrappers`, also imported under another name,
//! `use backoff::future::retry as again;`; or a function of the workspace
//! that calls its closure parameter inside a loop of its own, such as a hand-written
//! `for attempt in 0..n { f().await }`), which runs it again when an attempt
//! fails after its INSERT committed; through a call, inside such a loop, to a function
//! of the workspace that inserts (directly or through further calls: a call that
//! reaches several guarded tables' INSERTs is reported once per table); or through
//! recursion (a function that calls itself, or two that call each other: a cycle
//! through three or more functions is how an event dispatcher re-enters itself, and
//! is not reported outside a loop; a walk whose own body holds the INSERT is reported
//! at the INSERT, the recursive call as what repeats it, and a recursive call in a
//! loop that already reports a call or an INSERT of the same table is not reported
//! again). Calls are resolved the way Rust
//! resolves them (see Known limitations for how far syntax goes). The SQL is found
//! in string literals, raw strings, SQL assembled at compile time (`concat!` with
//! `stringify!` pieces, const_format's `concatcp!` and `formatcp!`, written in place,
//! in a constant or in a local: their pieces, literals and constants resolved across
//! the crate, are read as one statement, so a guard in a later piece counts),
//! `format!` templates, the arguments of any macro (`sqlx::query!`, `query_as!`, …),
//! constants and statics (by path, across the crate and its dependencies), locals
//! bound before the loop (`let sql = "…"`, `client.prepare("…")`, through
//! `.map_err(..)?`, `.context(..)?`, `.expect(..)`, `.await`), a statement prepared
//! and run in one chain (`conn.prepare(sql)?.execute(..)`),
//! `QueryBuilder::new("INSERT …")`, `sqlx::query_file!` files and `.sql` files
//! compiled in with `include_str!("add.sql")` (beside the source; in a call,
//! prepared into a local, `conn.prepare_cached(include_str!("add.sql"))?`, or held
//! by a constant, `const ADD: &str = include_str!("../sql/add.sql");`; its guards
//! and temporary tables read too). Inserts written
//! without SQL text count too: diesel `insert_into(t::table).values(..)` (also
//! `row.insert_into(t::table)`; the table is the path's `t`, read through a `use`
//! that renames it, `use schema::users as u;` then `u::table`, and known by its SQL
//! name when its `table!` declares `#[sql_name = "…"]`: a `tables` entry naming
//! either name guards it, and findings name the SQL one), sea-orm
//! `Entity::insert(..)` / `insert_many(..)` and `ActiveModel::insert(db)` on a value
//! typed `user::ActiveModel` (the table is the entity's
//! `#[sea_orm(table_name = "…")]`), sea-orm's `save(db)` on an `ActiveModel` built
//! with its key unset, an active-record model saved as a new value
//! (`AclRule::new(..).save(tx)`, `Event { .. }.save(tx)` or a local bound to one,
//! where the type derives `Model`; the table is its `#[table(name)]`, else its name in
//! lower case), sea-query `Query::insert().into_table(..)`, and a DuckDB `Appender`
//! (`let mut a = conn.appender("events")?`, `appender_to_db`, `appender_with_columns`:
//! each `a.append_row(..)` / `append_rows(..)` inserts into its table);
//! the chain's `.on_conflict(..)` (and diesel's `insert_or_ignore_into` /
//! `replace_into`) makes them upserts, and diesel's `.values(select)` of a select
//! filtered by `not(exists(..))` is `INSERT … SELECT … WHERE NOT EXISTS`. Matching uses a
//! real SQL tokenizer: any case or whitespace, `public.workspaces`,
//! `"workspaces"`, `WITH … INSERT`, an INSERT inside a `WITH x AS (INSERT … RETURNING
//! id) SELECT …` (a data-modifying CTE: its own clauses guard it, not the outer
//! statement's); `workspaces_audit` is another table; SQL comments and Rust comments
//! are not SQL.
//!
//! Any one of three escape hatches silences it:
//! 1. a call to a registered preflight helper (default `lookup_existing_child`) that
//!    runs before the INSERT in the same iteration — earlier in the loop body, or in
//!    the called function before its INSERT (a preflight after the INSERT protects
//!    nothing, and the message says so; so does one whose result nothing reads:
//!    `let _ = lookup_existing_child(..)`, or a binding only a log macro names). So
//!    does a claim whose failure ends the function, taken before the INSERT: a call
//!    named `reserve_*` or `claim_*` under `?` (`store.reserve_quote(id).await?`; a
//!    second run for the same item fails at the claim; a buffer's `reserve_exact` is
//!    no claim, and neither is one whose result is dropped), and so does a call under
//!    `?` of a function that takes such a claim on every run
//!    (`self.initialize_melt(id).await?`; one call deep). A preflight hoisted before the loop counts
//!    too: a local read by a `SELECT … FROM …` (`… = ANY($1)`, `… IN (…)`; or by a
//!    helper named for a lookup or for what was applied, `let applied =
//!    applied_migrations(tx)?`; or built from such a local) whose membership is checked (`contains`, `contains_key`,
//!    `get`, `.iter().any(..)`) before the INSERT in the iteration — `if
//!    existing.contains(&x) { continue; }`, or a `.filter(..)` in the loop's
//!    iterator chain; and so does state that makes the INSERT run once: an `if
//!    !flag` / `if x.is_none()` whose body sets `flag = true` / `x = Some(..)`, a
//!    collection passed in that the function adds to, checked before the INSERT (`if
//!    known.get(&id).is_none() { …INSERT…; known.insert(id, h) }`: a record of what was
//!    written that outlives the call; a set local to the function dedupes one batch
//!    and is no guard), a
//!    `for` loop over `&items[cursor..]` (or `.skip(cursor)`) whose body advances
//!    the cursor, or over items taken out of the state that holds them
//!    (`self.pending.drain(..)`, `quote.take_changes()`, `changes.payments.take()`,
//!    `std::mem::take(&mut self.events)`: each is handed out once), or one that skips past a version read by a `SELECT`, or one whose
//!    body deletes the item it works on (`old.delete(db)`: the loop moves rows and a
//!    second run finds nothing left), or over rows just read that it hands, each, to
//!    a function named for a delete (`for m in self.list_connections(id)? {
//!    self.delete(&m)?; }`, where the delete also logs a change row: a second run
//!    reads none), and a branch of a loop that picks one item by its
//!    id (`if p.id == id { … }`, `for (id, name) in rows { if *id == target { … } }`: a
//!    search runs the branch once); a call made on each item of a literal list of
//!    distinct values (`for store in [primary, replica] {
//!    store.create_default_workspace().await? }`: the calls written out, one per
//!    store; rows listed and handed to one store, `for name in [a, b] {
//!    store.add(name) }`, are a repeat), and in test code a call on a fixture the
//!    iteration builds for itself (`let db = test_db().await; create(&db, ..)`, `let
//!    ctx = TestContext::new(); ctx.add(..)`: a database of its own each time); and a `DELETE`
//!    of the same table earlier in the iteration (written there, or in a function
//!    called there), or written before a loop that holds the INSERT, or made there by
//!    a call of a function that deletes the table on every run, or written in an `if
//!    !stale.is_empty()` that deletes and inserts nothing — with nothing to delete
//!    there is nothing to make room for (the set is
//!    deleted, then inserted again; `TRUNCATE` and `DROP TABLE` count too, and a
//!    `DELETE FROM {table}` with no `WHERE` empties whatever table it is given; a
//!    table emptied whole — `TRUNCATE`, `DROP TABLE`, a `DELETE` with no `WHERE` —
//!    guards the INSERTs after it wherever they are, a later loop included; so
//!    do diesel's `delete(t::table.filter(..))`, a `DELETE` prepared into a local and
//!    run, and a `DELETE` in every arm of a `match`); rows moved rather than added —
//!    an `INSERT … SELECT … FROM s` in a function that also deletes from `s` (to an
//!    archive, a garbage list), or one whose `WITH` clause is a `DELETE … RETURNING`
//!    it selects from — leave nothing for a repeat to move,
//!    which makes the INSERT a replacement (so does a soft delete: `UPDATE t SET
//!    deleted_at = now() …`, sea-orm `t::Entity::update_many().col_expr(t::Column::DeletedAt,
//!    ..)`, diesel `update(t::table..).set(t::deleted_at.eq(..))`, with `is_deleted`,
//!    `deleted`, `removed_at` alike); a read of the rows the table lacks
//!    before the loop (an anti-join: `… WHERE id NOT IN (SELECT … FROM t)`, `NOT
//!    EXISTS (SELECT … FROM t …)`, `LEFT JOIN t … WHERE t.col IS NULL`), whose rows
//!    fill only the gaps; an `UPDATE` whose result decides the INSERT (`if
//!    changed == 0 { INSERT … }` after its `rows_affected()`, sea-orm's
//!    `update_many()…exec(db)` and `if updated.rows_affected == 0`, or its `Err` arm:
//!    update, else insert), or an INSERT whose result is tested for a key collision
//!    in a branch that updates the row it collided with (`let r = insert_into(t)…;
//!    if is_conflict(&r) { update(t)….set(..) }`: a hand-written upsert; the test
//!    named with `conflict`, `unique` or `duplicate`; also a `match r` arm so named,
//!    `Err(DatabaseError(UniqueViolation, _)) => update(..)`, nested matches included); the same guards in every caller before it calls the
//!    function (a command that empties the tables, then calls the functions that
//!    fill them), or a caller that returned at its top when a lookup found rows
//!    (`if !present.is_empty() { return Ok(()) }`: it seeds a store once; also through a
//!    flag that holds the lookup's answer, `let needs_seed = match lookup { Ok(rows) =>
//!    rows.is_empty(), Err(_) => true }; if !needs_seed { return Ok(()) }`); a table the function has
//!    just created (`CREATE TABLE t`, which fails if `t` exists, or a sea-orm migration's
//!    `manager.create_table(..)` without `if_not_exists`), and a temporary
//!    table (`CREATE TEMPORARY TABLE`, anywhere in the crate), which hold fresh rows;
//!    a store of its own opened earlier in the same iteration — an in-memory database
//!    (`Connection::open_in_memory()`, `"sqlite::memory:"`), in test code also a
//!    temporary directory (`tempdir()`, `TempDir::new()`) where a test keeps its
//!    database — or a call of a function that opens one on every run (two calls
//!    deep: `TestContext::new_internal()` makes the directory, the builder that calls
//!    it fills the new database): what follows goes once into the new store (a loop
//!    after it still repeats its INSERT there). A `loop`/`while` (or a `for` over a counter,
//!    `for attempt in 1..=MAX`) that
//!    ends when the INSERT succeeds and loops again only on a specific error
//!    (`Ok(_) => break, Err(Taken) => continue, Err(e) => return Err(e)`, also with
//!    the statement bound just before the `match` and the collision told by a match
//!    guard, `Err(e) if is_unique_violation(&e) => continue`: a
//!    collision retried with a fresh key; not an error after which the INSERT may have
//!    committed, `Err(sqlx::Error::Io(_))`, a timeout, a dropped connection: that is a
//!    retry) does not repeat it, nor does a `while inserted ==
//!    0 { …; inserted = INSERT … }` that goes round again only when nothing was added;
//! 2. an `ON CONFLICT` clause in the same statement, or a dialect's equivalent: SQLite
//!    `INSERT OR IGNORE` / `INSERT OR REPLACE`, Spanner `INSERT OR UPDATE`, MySQL `INSERT IGNORE` / `ON DUPLICATE
//!    KEY UPDATE`, or `INSERT … SELECT … WHERE NOT EXISTS (SELECT … FROM <the same
//!    table> …)`; a `MERGE INTO t … WHEN NOT MATCHED THEN INSERT` inserts only the rows
//!    its condition does not match, and is its own guard; so is every INSERT into a
//!    SQLite table whose key resolves its own conflicts (`PRIMARY KEY (a, b) ON
//!    CONFLICT REPLACE`, `UNIQUE ON CONFLICT IGNORE` in its `CREATE TABLE`, written in
//!    a string of the same crate or one it is linked with; migration files are not read for this);
//!    the clause pushed later onto the same statement counts (`qb.push(" ON CONFLICT
//!    …")`, `sql.push_str(" ON CONFLICT … DO NOTHING")` after a loop that pushed its
//!    `VALUES`);
//! 3. the comment `// class1-gate: idempotent-by-design` in the function body or on
//!    the line directly above the `fn`.
//!
//! Test code is skipped by default. With `include-tests = true` a repeated INSERT in
//! test code (a fixture loop, a test-support crate's seeding helper) is reported as a
//! warning: it is a repeated insert like any other, usually harmless in a test's own
//! fresh database, and worth a look where the same helper also seeds a shared one.
//! A test's loop that reaches the INSERT through more than three calls is not
//! reported: it drives the code under test (a request handler, a whole pipeline) once
//! per case rather than setting up rows, and that code's INSERTs are reported where
//! production code repeats them.
//!
//! Code that runs once however often its function is called is not a repeat: the
//! closure of a one-time initializer (`cell.get_or_init(|| …)`, `get_or_try_init`,
//! `Once::call_once`, `Lazy::new(|| …)`/`LazyLock::new`), and a `for` loop over one
//! item written out (`for x in [only]`, `vec![only]`, `std::iter::once(only)`).
//!
//! ## Why is this bad?
//! Handlers are retried and re-run. An INSERT that runs once per item, without a
//! guard, inserts fresh rows on every call. The org-template import did exactly
//! that: re-importing duplicated whole trees, one tenant accumulated 72 stale child
//! workspaces in 4 days, ~14 EC2 instances leaked, 50 of 64 vCPU were consumed and
//! every E2E retry failed on the instance limit. A team "expand" handler had the
//! same bug.
//!
//! ## Example
//! ```rust
//! async fn import_children(tx: &mut PgConnection, parent: Uuid, children: &[Node]) -> Result<()> {
//!     for child in children {
//!         sqlx::query("INSERT INTO workspaces (id, parent_id, name) VALUES ($1, $2, $3)")
//!             .bind(Uuid::new_v4()).bind(parent).bind(&child.name)
//!             .execute(&mut *tx).await?;
//!     }
//!     Ok(())
//! }
//! ```
//!
//! ## Use instead
//! ```rust
//! async fn import_children(tx: &mut PgConnection, parent: Uuid, children: &[Node]) -> Result<()> {
//!     for child in children {
//!         if lookup_existing_child(tx, parent, &child.name).await?.is_some() {
//!             continue;
//!         }
//!         sqlx::query("INSERT INTO workspaces (id, parent_id, name) VALUES ($1, $2, $3)")
//!             .bind(Uuid::new_v4()).bind(parent).bind(&child.name)
//!             .execute(&mut *tx).await?;
//!     }
//!     Ok(())
//! }
//! ```
//! or an upsert (`… ON CONFLICT (parent_id, name) DO NOTHING`), or — after a
//! reviewer agrees — the marker comment `// class1-gate: idempotent-by-design`.
//!
//! ## Configuration
//! Abridged; `gatelint explain` lists every default in full after this text.
//! ```toml
//! [rules.non-idempotent-insert]
//! tables = ["workspaces"]                      # "*" guards every table
//! preflight-helpers = ["lookup_existing_child"]
//! marker = "class1-gate: idempotent-by-design"
//! iterator-adapters = ["map", "for_each", "then", "fold", …]
//! iterator-only-adapters = ["for_each", "fold", …]
//! iterator-sources = ["iter", "into_iter", "stream", "FuturesUnordered", …]
//! # Functions that run the closure they are given again until it succeeds.
//! retry-wrappers = ["retry", "with_retry", "retry_notify", "Retry::spawn", …]
//! # Method names not matched by name when the receiver's type is unknown
//! # (`map.insert(k, v)` is the map's).
//! ambiguous-methods = ["insert", "push", "get", "remove", "extend", …]
//! ```
//!
//! ## Known limitations
//! - A store opened fresh guards by position, not by data flow: an in-memory scratch
//!   database opened before an INSERT into the shared one is taken for where the
//!   INSERT goes.
//! - A fixture built per iteration of a test loop is told by how it is built, not
//!   by what it is: a call with no arguments (`test_db()`, `TestContext::new()`), or
//!   a method of such a fixture (`tcm.alice()` when `tcm` is one). A helper with no
//!   arguments that connects to one shared database (`establish_connection()`) is
//!   taken for a fresh store there, and a method of a value made before the loop
//!   that builds a fresh one (`tcm.alice()` on an outer `tcm`) is not. Outside test
//!   code nothing built in a loop counts as a store of its own.
//! - A call dispatched to a trait method that three or more types implement (a
//!   generic `S: EventStore`, a `dyn Store` with an implementation per aggregate)
//!   reaches only the guarded tables that at least half of the implementations
//!   reaching a guarded table write: which implementation runs is the value's type,
//!   which syntax does not see, and the implementations of one repository's backends
//!   (postgres, sqlite) write the same tables while the stores of different
//!   aggregates each write their own. A repeated call whose every implementation
//!   inserts into a table of its own is not reported.
//! - Calls are resolved from syntax, the way rustc resolves names but without macro
//!   expansion or type inference. An inherent method wins over a trait's of the same
//!   name, also a trait generated outside the checked files (`impl
//!   services::NoteService for Collection { fn add_note(..) { self.add_note(..) } }`
//!   calls the inherent `add_note`); code that is not test code never reaches test
//!   code (a `#[cfg(test)]` item, a test-support module such as `mod test_utils`), so
//!   a trait's test-only implementation is no callee of production code. Crates come from the `Cargo.toml` files (every
//!   library, binary, test, example and bench target; path dependencies, renames,
//!   `workspace = true`; dev-dependencies only for tests, examples and benches; a
//!   package inside a workspace's folder that it has as a path dependency is a
//!   member, as cargo makes it one),
//!   modules from `mod` declarations (`x.rs`, `x/mod.rs`, `#[path]`, inline), names
//!   from `use` trees (renames, groups, globs, `self`/`super`/`crate`, `::crate`,
//!   `pub use` re-exports), and a function body's own `use`s and items shadow its
//!   module's. A path call (`f()`, `m::f()`, `crate::a::f()`, `store::f()`,
//!   `Self::f()`, `Type::f()`, `<Type as Trait>::f()`) reaches exactly what it names;
//!   a call into a crate outside the checked workspace reaches nothing. A method call
//!   reaches the methods of its receiver's type when the syntax shows it: `self`, a
//!   parameter or `let` with a type annotation, `let x = Type::new(…)` /
//!   `Type::default()` / `Type { … }` / `Type(…)` / a unit struct's value, a field
//!   whose struct declares its type (`self.store`, `state.repo`), an extractor's field
//!   (`State(state): State<AppState>`), the item of a `for` loop over a typed slice
//!   or collection (or a field declared as one: `for job in &self.jobs`), what `if let
//!   Some(x)`, `match`, `let … else`, `.unwrap()` and `?` take out of a typed `Option`
//!   or `Result` (or such a field), what a workspace function's declared return type
//!   says its call gives (`Self::default_service().create(..)`, `state.store()?.save()`,
//!   `let svc = Service::open(..)?;`; a type that implements `Deref` is still matched
//!   by name); seen through `&`, `Arc`, `Rc`, `Box`, locks and their guards
//!   (`self.repo.lock().unwrap()`, `Mutex<Repo>`).
//!   An inherent method wins over a trait's, and a trait's methods count only where
//!   the trait is in scope (imported, renamed, `as _`, by a glob, or defined there).
//!   `dyn Trait`, `impl Trait` and a generic parameter bounded by a trait (on the
//!   function or on its `impl`: a field `inner: S` of `impl<S: Store>`; the trait
//!   named through a type alias, `type ArcRepo = Arc<dyn Repo>`) reach every
//!   implementation in the workspace, of the trait and of the traits it extends
//!   (`trait Repo: AliasRepo + QueueRepo`) (another value's: a wrapper delegating to the
//!   value it wraps is not recursion, though every implementation is a candidate —
//!   `Audited<MemStore>` is not told from `Audited<SqlStore>`; nor are two adapters
//!   that each hand a method to a value they hold by the same name,
//!   `self.inner.add_key(..)` or `Store::add_key(self.inner(), ..)` in `fn add_key`,
//!   though each may wrap the other); a type without the
//!   method reaches its traits' default methods. Associated constants resolve like
//!   methods (`Self::INSERT`; in a trait's default method, `Self` is every
//!   implementation, so a call there on `Self` or `self` reaches an INSERT only when
//!   every implementation's does: `User::from_id` runs `User`'s `from_activity`, not
//!   `Post`'s). `<Type as Trait>::f` names its trait, in scope or not.
//! - Not resolved: generic parameters without a trait bound (or bounded under another
//!   name than the struct's), values returned by other calls (`self.repo().save()`),
//!   `use`s and items in nested blocks (only a function body's own), closures and
//!   function pointers, items made by macros. Such calls fall back to matching by
//!   name and number of arguments among the crates the caller sees (its own package
//!   and the workspace packages it depends on): a path only to functions of the
//!   caller's own crate, a method only to methods and never to the caller itself;
//!   a method matched to the methods of several types or traits reaches a table
//!   only when each type does, and each trait through any of its implementations
//!   (which one runs is not known, and guessing the unguarded one was wrong more
//!   often than right on real code); where some of those traits are in scope at the
//!   call (imported or declared there), only they count, as a trait's method is
//!   only called where the trait is in scope (`repo.members().add(..)` with
//!   `MemberRepository` imported adds members, not the rows of every repository's
//!   `add`). A method called on what another method returns, on a receiver of
//!   unknown type, has the type every workspace method of that name declares.
//!   Recursion is only claimed along resolved calls: two types' `handle` methods
//!   matched to each other by name are not one function calling itself. A file that
//!   no crate root reaches (not declared with `mod`) is a crate of its own, named by
//!   its location, whose unresolved names may reach its package.
//! - A trait implemented in a crate that depends on the checked one (a default method
//!   calling `self.insert()`, implemented downstream) is only followed when that crate
//!   is part of the run: naming the upstream crate alone does not read its dependents.
//! - A receiver made by a function of a crate outside the workspace (`let mut
//!   interval = tokio::time::interval(..)`) has that crate's type: its methods
//!   (`interval.tick()`) are none of the workspace's. A constructor (`Arc::new(repo)`)
//!   and a function that returns whatever it is given or asked for
//!   (`std::mem::take`, `serde_json::from_str`) do not say the type.
//! - A method call whose receiver's type is unknown and whose name is in
//!   `ambiguous-methods` (`insert`, `push`, `get`, …) is matched only when it is
//!   awaited, and then only to async functions: `map.insert(k, v)` is the map's,
//!   while `repo.insert(…).await` is the repository's.
//! - A project's own retry function is recognised when it calls the parameter by
//!   name (`f()`, `op().await`) inside a `for`/`while`/`loop` of its own body; a
//!   closure it stores or hands on to another function is not followed (list such a
//!   function in `retry-wrappers`).
//! - A table name filled into a `format!` template from a run-time value (not a
//!   constant: `format!("INSERT INTO {table} …")`) is not followed to its value: the
//!   INSERT is into a table of its own, shown as `{table}`, which only `tables =
//!   ["*"]` guards — except a parameter of the function given a table's name as a
//!   string literal by a call (`insert_row(client, "workspaces", ..)` of
//!   `format!("INSERT INTO {table} …")`): that call inserts into the table it names,
//!   reported at the call with the helper's statement shown; a name held in a
//!   variable or passed on through another function is not followed. A closure stored in a local is read again where a loop
//!   of the same function calls it, and its INSERT reported at that call, as a
//!   helper's; one handed to another function is followed only when that function is
//!   a retry wrapper (above), and one passed by name to an adapter (`.map(create)`)
//!   is not.
//! - `map`, `then`, `and_then` and the like count as iteration only when the receiver
//!   chain shows an iterator or stream (`iter()`, `into_iter()`, a range,
//!   `stream::iter`, a value declared `impl Stream`/`impl Iterator` or a generic
//!   bounded by one, …) that has not ended in one value (`.find(..)`, `.next()`,
//!   `.collect()`, …); `Option::map` is not a loop. Only the chain itself is read:
//!   `.and_then(|v| v.iter().next())` is a closure's business.
//! - A block that ends in `return` (or an unlabelled `break`) runs at most once per
//!   entry of what it leaves: `for e in entries { if ok(e) { insert(e); return } }`
//!   inserts once per call. A statement that always leaves counts: a `return` or
//!   `break`, `bail!`/`panic!`, an `if … else` or a `match` every branch of which
//!   leaves; a branch that leaves only sometimes does not, a `return` inside a
//!   closure or an `async` block leaves only that, and a labelled `break` is not
//!   followed.
//! - A trait's default method that branches on an associated constant (`if
//!   Self::DEDUPLICATED { upsert } else { insert }`), called on a value whose type
//!   the syntax tells (`SyncIndex::new(..).enqueue(..)`, an annotated binding, a loop
//!   over a typed `Vec`), runs only the branch that the type's impl selects when the
//!   impl writes the constant as `true` or `false`; a type that leaves it at the
//!   trait's default, or a generic receiver, runs either branch.
//! - A call that passes a parameter empty (`None`, `&[]`, `[]`, `vec![]`,
//!   `Vec::new()`) does not run what its callee runs only when that parameter holds
//!   something: the body of a `for` over it, the branch of `if let Some(x) = x`. Only
//!   the callee's own code is read so; an empty value passed on further down, or one
//!   held in a local, is not followed.
//! - A loop whose item is a trait object of several implementations, calling a trait
//!   method on it (`for sink in &sinks { sink.send(e) }`, `xs[i].send(e)`), is a
//!   fan-out: each iteration runs another implementation, so the loop does not repeat
//!   the one that inserts. A `Vec<Box<dyn Trait>>` holding the same implementation
//!   twice is not told apart.
//! - A lookup is told by its name: `…exist…`, `find_…`, `lookup…`, `get_by…`,
//!   `fetch_by…`, `get_…_by_…`, `fetch_…_by_…`, `includes…` anywhere (a crate's own
//!   macro so named too: `diesel_exists!(q, conn)`); a parameter named for what
//!   exists (`existing: Option<Row>`) is the caller's lookup; `is_…`, `has_…`, `count…`,
//!   `…_count` (not `bump_…_count` and other writes), `contains…`,
//!   `list…`, `load…`, `select_…`, `fetch_…` (not sqlx's `fetch_one`/`fetch_all`,
//!   which run whatever they are given), `for_…` (a parent's rows: `Tag::for_post(conn, id)?`),
//!   `first`, `one`, `optional`, `fetch_optional`, `get_results`, and `should_…`,
//!   `needs_…` (true while the write is still to be done: `if
//!   !m.should_apply().await? { continue }`) only awaited or
//!   `?`-tried (a round trip to the database), also inside a closure handed to a
//!   macro (`with_connection!(pool, |c| t.filter(..).first(c).await.optional())`);
//!   a diesel read run right in the test (`if t::table.find(id).get_result::<Row>(conn)
//!   .is_ok() { update } else { INSERT }`, also `.filter(..).first(conn)`);
//!   a `SELECT` run right in the test (`if let Ok(row) = query_as!(.., "SELECT …")
//!   .fetch_one(..).await { return .. }`); `get…` where its result is tested
//!   for presence right where it runs (`if let Ok(gw) = get_gateway(..).await`; a
//!   synchronous `get_…` given what to look for too: `if self.get_imported_key(&key)
//!   .is_ok() { return Ok(()) }`), or
//!   bound to a local that a later test branches on with a way for the absent row
//!   (`match row { Some(r) => update(r), None => INSERT }`, `if row.is_none()`, an
//!   `else`, or a branch for the row found that leaves: `if let Some(ep) = &found {
//!   update(ep); continue }`): `if let Some(row) = get_row(..)? { INSERT row }` copies
//!   data. A test of the row found with a default for none (`prev.map(|p| p.hash !=
//!   h).unwrap_or(true)`, `map_or`, `is_none_or`), and a comparison of its field with
//!   the new value in a branch that leaves (`if prev.owner == owner { continue }`: a
//!   new version only when it differs), answer the lookup too. In `a && b`, a lookup of
//!   the row guards the branch (not an `else`); `is_admin(..) && !force` does not.
//!   A set of wanted items from which a loop over the rows read removes each one
//!   (`wanted.remove(&name)`) holds what the table lacks: a loop over it is filtered.
//!   The rows such a lookup returned (or a set built from them) checked for an item
//!   (`if !current.contains(g)`), or used to filter the list a loop runs over (`let
//!   pending: Vec<_> = all.filter(|m| !applied.contains(..)).collect(); for m in
//!   pending`), are a hoisted preflight; a set filled in the loop itself dedupes one
//!   batch only and is not.
//!   A boolean field of its answer named like `exists` or `found` is a presence
//!   test too (`if !username_exists(..).await?.exists`).
//!   It guards only when the code tests whether it found something, and only the
//!   branches of that test, unless the branch for a row that exists leaves the
//!   iteration (`Some(_) => continue`; every branch of it leaving counts, and `bail!`,
//!   `panic!`, `unreachable!` leave), or does nothing but leave when the row's
//!   state says so (`if let Some(run) = latest_run(..)? { if run.is_pending() {
//!   return .. } }`: a run still pending is not inserted again); error handling (`Err(e) => return Err(e)`)
//!   guards nothing. A branch that returns what a call found (`Ok(row) => return
//!   Ok(row)`, `if let Some(id) = cache.get(..) { return Ok(id) }`, or an `if let …
//!   else` whose first branch ends in it: `if let Some(d) = details { Ok(d) } else {
//!   …create… }`) is a lookup,
//!   whatever the call is named: get or create. So is a `match` with an arm for an
//!   outcome that says the row was there, which leaves (`CreateOutcome::Exists(doc) =>
//!   return Ok(doc)`; a variant named `Exists…`, `AlreadyExists…`, `Found`,
//!   `Duplicate`), whatever the call is named. At a function's top level, returning when the row exists
//!   (`if exists(..)? { return Ok(()) }`, or `if inserted == 0 { return }` after an
//!   `INSERT OR IGNORE` of the parent) guards the rest of the function, its loops
//!   included: the children of a parent checked first. So does the lookup of an
//!   `else if` whose earlier branches insert nothing (`if post { … } else if let
//!   Some(_) = mid_exists(..)? { return Ok(()) }`). A project's check named otherwise is not seen unless listed in
//!   `preflight-helpers`; one named like a lookup that checks something else counts
//!   as one.
//! - A preflight counts by position, not by data flow: gatelint does not check that
//!   its result is used to skip the INSERT, nor that a hoisted `SELECT` reads the
//!   table the loop inserts into. A `DELETE` (or a call that deletes) guards only
//!   the code in the same branch after it (not another arm of a `match`); what a
//!   called function deletes counts two calls deep, and past the first call only
//!   when it deletes outside its branches. A caller's guard counts for the loops of
//!   the function it calls when every call of that function (two callers up) comes
//!   after one; a lookup in the caller does not (it checks a parent, not the rows
//!   added under it).
//! - Macro bodies are read where they parse as expressions or statements (or, for a
//!   syntax of their own, as braced blocks); `macro_rules!` definitions are read where
//!   they are expanded (see above), and `quote!`-style templates are code that runs
//!   elsewhere and are not read.
//! - SQL assembled at run time from non-literal pieces is not seen, except a
//!   `format!` template (a table name in a variable is its own table, above); a
//!   `format!` whose pieces are constants is (`format!("INSERT INTO {}
//!   …", WORKSPACES_TABLE)`, `{WORKSPACES_TABLE}`: the constant resolved crate-wide,
//!   the other holes read as placeholders). In SQL assembled at compile time, a constant that cannot be read
//!   (a crate outside the checked ones, a value that is not a string) is a
//!   placeholder, as a `format!` hole is: a guard written in it is not seen.
//! - ORM inserts are recognised by their spelling, not their types: a sea-orm
//!   entity's table is found by its module's name (`user::Entity` → the
//!   `table_name` declared in a module `user` of the crates checked, else `user`;
//!   a prelude's alias names its module in CamelCase: `CakeFilling` → `cake_filling`);
//!   `ActiveModel::insert` only on a value whose type the syntax shows (annotated,
//!   built as `user::ActiveModel { .. }`, a field declared as one, or what a function
//!   of the same file declared to return one gives); `save`
//!   (insert or update, decided at run time) counts only on a value built in place
//!   with its key unset (an `ActiveModel` literal without `id`, or with `NotSet` in
//!   it; a constructor `T::new(..)` of a `#[derive(Model)]` type); a diesel
//!   `table!`'s `sql_name`, like a sea-orm `table_name`, is looked up by its Rust
//!   name among every crate of the run (two crates that declare one name
//!   differently are not told apart). A `use` that renames a diesel table or a retry
//!   wrapper is read in the file that writes it (its modules and function bodies),
//!   not through another module's `pub use`. Functions that a crate's own
//!   `macro_rules!` defines in item position (one inserting function per model, in
//!   a module or an `impl`, the table written as `$table:literal` or
//!   `stringify!($table)`) are expanded and seen; macros from other crates (such as
//!   `paste!`, which makes a function's name out of pieces), and macros used in
//!   expressions, are not expanded.

mod analysis;
mod cycles;
mod diagnostics;
mod extract;

pub use analysis::{Analysis, CallFinding, Finding, InsertOcc, Witness};
pub use extract::{EventKind, ExtractInput, FnInsertFacts, InsertFacts, extract};

use crate::rules::diagnostic::{Diagnostic, Severity};
use crate::rules::{CheckCx, ConfigSource, FileInput, ParamsError, Rule};
use serde::Deserialize;

pub const ID: &str = "non-idempotent-insert";

pub struct NonIdempotentInsert;

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InsertParams {
    pub tables: Vec<String>,
    pub preflight_helpers: Vec<String>,
    pub marker: String,
    pub iterator_adapters: Vec<String>,
    pub iterator_only_adapters: Vec<String>,
    pub iterator_sources: Vec<String>,
    pub ambiguous_methods: Vec<String>,
    pub retry_wrappers: Vec<String>,
}

impl InsertParams {
    pub fn escape_hatches(&self) -> String {
        format!(
            "an INSERT that can run repeatedly needs one of: a preflight call ({}) before it in the same iteration, \
             an `ON CONFLICT` clause in the same statement, or the comment `// {}` in the function",
            self.helpers(),
            self.marker
        )
    }

    pub fn helpers(&self) -> String {
        self.preflight_helpers.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
    }
}

/// How many calls a test's loop may go through to the INSERT it repeats and still be
/// setting up fixtures (`for _ in 0..3 { create_user(&pool).await }`, a builder's
/// `build()` → `insert_user`).
const TEST_SETUP_CALLS: usize = 3;

/// A test's loop that reaches an INSERT through more calls than a fixture set-up
/// does: it drives the code under test (a request handler, a whole pipeline) once per
/// case, and what that code inserts is reported where production code repeats it.
fn drives_the_system(ctx: &CheckCx, finding: &analysis::Finding) -> bool {
    match finding {
        analysis::Finding::Call(c) => {
            1 + c.through.len() + c.omitted > TEST_SETUP_CALLS && ctx.in_test_code(&c.event.loc)
        }
        analysis::Finding::Direct { .. } => false,
    }
}

impl Rule for NonIdempotentInsert {
    const ID: &'static str = ID;
    const IN_TEST_CODE: crate::rules::InTestCode = crate::rules::InTestCode::Warning;
    type Params = InsertParams;
    type Facts = InsertFacts;

    fn params(table: &toml::Table, _: Option<&ConfigSource>) -> Result<InsertParams, ParamsError> {
        crate::rules::params_from_table(table)
    }

    fn extract(input: &FileInput, params: &InsertParams) -> Option<InsertFacts> {
        let extract_input = ExtractInput {
            file: input.file,
            source: input.source,
            path: input.path,
            comments: input.comments,
        };
        Some(extract(&extract_input, input.syntax, params))
    }

    fn reads_other_files(facts: &InsertFacts) -> bool {
        facts.reads_other_files
    }

    /// The marker comment (an empty marker matches every comment, as the marker check does).
    fn comment_needles(params: &InsertParams) -> Vec<String> {
        vec![params.marker.trim().to_string()]
    }

    /// The INSERT rule's escape hatches: the preflight call, ON CONFLICT, the marker.
    fn remove_escape_hatch(line: &str) -> String {
        let mut out = line.replace("lookup_existing_child", "unrelated_helper");
        out = out.replace("class1-gate: idempotent-by-design", "class1-gate: (removed)");
        // A statement's own guard, cut to the end of its string literal: ON CONFLICT and
        // the dialects' equivalents.
        for clause in [" ON CONFLICT", " ON DUPLICATE KEY UPDATE", " WHERE NOT EXISTS"] {
            if let Some(at) = out.find(clause) {
                let end = out[at..].find('"').map_or(out.len(), |e| at + e);
                out.replace_range(at..end, "");
            }
        }
        // An ORM's upsert: the chain's `.on_conflict(..)` (diesel, sea-orm) and diesel's
        // `insert_or_ignore_into`.
        out = out.replace(".on_conflict", ".returning").replace("insert_or_ignore_into(", "insert_into(");
        out = out.replace("not(exists(", "not(present(");
        // An UPDATE whose result decides the INSERT (update, else insert): made a
        // statement that reports nothing.
        out = out.replace("(\"UPDATE ", "(\"NOTIFY ").replace("diesel::update(", "diesel::touch(");
        out = out.replace("::update_many()", "::find()");
        // A key collision matched: another error.
        out = out.replace("UniqueViolation", "SerializationFailure");
        // State guards: the once-flag set, the id recorded, the cursor advanced, the
        // version skipped.
        out = out.replace(" = true;", " = false;").replace(" = Some(", " = Option::from(").replace(".is_empty()", ".is_ascii()");
        out = out.replace(" += 1;", " + 1;").replace(".skip(", ".step_by(").replace("Ok(_) => break", "Ok(_) => {}");
        // The exit that makes a loop run once: a `return`/`break` after the INSERT, an
        // iterator ended in one item.
        // The row found, returned before the INSERT (get or create).
        out = out.replace("return Ok(found)", "drop(found)").replace("{ Ok(found) }", "{ Ok(fallback()) }");
        // A claim taken first: made its release.
        out = out.replace(".reserve_", ".release_");
        // The loop's item deleted once it is copied (a move).
        out = out.replace("old.delete(", "old.touch(");
        // The stored row's field compared: another value's.
        out = out.replace("if prev.", "if next.");
        // The default for a row not found: a value that says nothing of it.
        out = out.replace(".unwrap_or(true)", ".unwrap_or(strict)");
        // The rows read removed from the wanted set: looked at instead.
        out = out.replace(".remove(&", ".get(&");
        // A search by id: made a filter.
        out = out.replace(".id == id", ".id != id").replace("*id == ", "*id != ");
        // A loop that runs until the INSERT added a row: made one that runs on.
        out = out.replace("while inserted == 0", "while inserted < 100");
        // A SQL constant named for the read.
        out = out.replace("::SELECT_", "::UPDATE_");
        out = out.replace("return Ok(());", "let _ = ();").replace("break;", "let _ = ();").replace(".next()", ".skip(0)");
        // A one-time initializer made a plain call; a loop over one item, over two.
        out = out.replace(".get_or_init(", ".map_or_init(").replace("Lazy::new(", "Lazy::fresh(");
        // What was applied, read by a helper named for it: a helper named otherwise.
        out = out.replace("= applied_versions(", "= bundled_versions(");
        // A store opened in memory: one on disk.
        out = out.replace("sqlite::memory:", "sqlite://workspaces.db");
        out = out.replace(" in [only]", " in [only, other]").replace(" in [primary, replica]", " in [primary, primary]");
        // A call handed to the value `self` wraps: made on one got elsewhere.
        out = out.replace("self.inner.", "Self::inner_of(self).").replace("(self.inner(), ", "(Self::inner_of(self), ");
        // State drained as the loop runs: read in place.
        out = out.replace(".drain(", ".iter(").replace(".take_", ".peek_");
        // An outcome that says the row was there: one that says nothing of it.
        out = out.replace("::Exists(", "::Fetched(");
        // An empty argument: one that holds something.
        out = out.replace("None,", "Some(\"team\"),");
        // The row a caller looked up, passed in and tested: another value tested.
        out = out.replace("= existing {", "= supplied {");
        // A lookup awaited before the INSERT (`repo.is_member(..).await`).
        out = out.replace(".should_", ".shall_").replace(" needs_", " wants_");
        out = out.replace(".is_", ".as_").replace(".has_", ".had_").replace(".includes_", ".adds_").replace(".list_", ".make_");
        out = out.replace(" get_", " make_").replace(".get_", ".make_").replace("._get_", "._make_").replace("_exists(", "_named(").replace("_exists!(", "_named!(")
            .replace("::find()", "::all()").replace(".one(", ".each(").replace(".fetch_optional(", ".fetch_one(")
            .replace("::for_", "::of_").replace(".load(", ".take(").replace(".first::<", ".only::<").replace(".optional()", ".ok()");
        // A table created just before (it fails if the table exists).
        out = out.replace("\"CREATE TABLE ", "\"CREATE TABLE IF NOT EXISTS ").replace(".create_table(", ".drop_table(");
        // A DELETE before the INSERT (in place, or a function that deletes).
        out = out.replace("\"DELETE FROM", "\"SELECT 1 FROM").replace("delete_", "keep_").replace("diesel::delete(", "diesel::update(");
        // Rows moved by a DELETE … RETURNING in the statement's WITH clause: copied instead.
        out = out.replace("(DELETE FROM", "(SELECT * FROM");
        // A diesel read by key run in place: made a write returning the row.
        out = out.replace(".get_result::<", ".execute_returning::<");
        // A count of the rows left read into a local, a run stopped while there are any.
        if let Some(at) = out.find(" = ") {
            let counted = out[at..].replace("_count(", "_total(");
            out.replace_range(at.., &counted);
        }
        // A soft delete: the column it sets made another one.
        out = out.replace("deleted_at", "updated_at").replace("DeletedAt", "UpdatedAt");
        out = out.replace("\"TRUNCATE TABLE ", "\"ANALYZE ").replace("\"DROP TABLE IF EXISTS ", "\"ANALYZE ");
        // A row read before the INSERT: the SELECT itself.
        out = out.replace("\"SELECT ", "\"VALUES ");
        // A preflight hoisted before the loop: the membership check of the rows read.
        out = out.replace("fetch_allowed_", "make_allowed_");
        out = out.replace(".contains(", ".excludes(").replace(".contains_key(", ".excludes_key(").replace(".any(", ".all(");
        out.replace("INSERT OR IGNORE INTO", "INSERT INTO")
            .replace("INSERT OR UPDATE INTO", "INSERT INTO")
            .replace("INSERT OR REPLACE INTO", "INSERT INTO")
            .replace("INSERT IGNORE INTO", "INSERT INTO")
    }

    fn check(ctx: &CheckCx, params: &InsertParams, severity: Severity) -> Result<Vec<Diagnostic>, String> {
        let analysis = Analysis::new(ctx, params);
        Ok(analysis
            .findings()
            .iter()
            .filter(|finding| !drives_the_system(ctx, finding))
            .map(|finding| diagnostics::diagnostic(finding, params, severity))
            .collect())
    }
}
