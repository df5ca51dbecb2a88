//! Per-function facts for the INSERT rules (`non-idempotent-insert` and
//! `insert-allowlist`) and the visitor that extracts them ([`Extractor`]): where SQL
//! that inserts is executed, which calls and preflight calls happen, in what order,
//! and inside which loops. Entering a function is in [`functions`], loops and
//! iterator adapters in [`loops`], SQL bound to locals in [`sql_locals`], macro
//! bodies in [`macros`]. Which functions a call reaches, and whether a constant
//! holds an INSERT, is decided crate-wide in `analysis`.

mod functions;
mod hoisted;
mod locals;
mod loops;
mod macros;
mod orm;
mod per_iteration;
mod sql_locals;
mod state_guards;

use super::InsertParams;
use crate::facts::sql;
use crate::facts::lower::Lowerer;
use crate::input::comments::Comment;
use crate::input::source::{FileId, Loc, SourceFile};
use serde::{Deserialize, Serialize};
pub use crate::facts::sea_orm::entity_module;
pub use sql_locals::{RUN_TIME_TABLE, run_time_table_shown};
use loops::Exit;
use sql_locals::{PREPARE_METHODS, SqlLocal};
use syn::visit::Visit;

/// A repeated context: a loop body or a closure run once per item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopFact {
    /// The loop keyword or the adapter method's name.
    pub header: Loc,
    /// `for`, `while`, `loop`, or `.map()` and the like.
    pub kind: String,
    /// The loop this one is nested in, if any (an index into `FnInsertFacts::loops`).
    pub parent: Option<u32>,
    /// A closure passed to a call (kind `closure`), as (the call's position among the
    /// events, the argument's position): it repeats only when the function called
    /// calls that parameter in a loop (a project's own retry function), which is
    /// decided crate-wide.
    pub arg_of: Option<(u32, u32)>,
    /// For such a closure that repeats: the loop of the function called that calls it.
    pub repeated_at: Option<Loc>,
}

/// What guards the INSERTs after it: a preflight call, an existence check, a state
/// guard, a `DELETE`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preflight {
    /// Its position among the function's events.
    pub at: usize,
    /// The position among `events` where its protection ends (an existence check
    /// that guards only its own branches), `u32::MAX` for none.
    pub end: u32,
    /// The only table it guards (a `DELETE FROM t` replaces rows of `t` alone),
    /// `None` for every table.
    pub table: Option<Box<str>>,
    /// It guards the rest of the function, loops included: the function returns when
    /// the row exists (`if exists(..) { return Ok(()) }` before a loop of inserts).
    pub whole_fn: bool,
    /// A check read from a branch (an existence or membership check, a once-flag):
    /// it guards the branches it tests, and what follows only when the branch for a
    /// row that exists leaves. A named preflight helper guards by position.
    pub branch: bool,
    /// A `DELETE` of [`Preflight::table`] written here: the INSERTs after it into that
    /// table replace what it deleted, in its own iteration and in every loop it
    /// encloses (`DELETE FROM tags WHERE post = $1` then a loop inserting the post's
    /// tags). So does a read of the rows missing from the table (an anti-join: `SELECT
    /// … WHERE id NOT IN (SELECT … FROM t)`): the loop over them fills only the gaps.
    /// So does a call to a function that deletes the table on every run
    /// (`clear_env_vars(tx, id)` before the loop that inserts them again); one that
    /// deletes only in some branch of its own guards its own iteration only.
    pub replaces: bool,
}

impl FnInsertFacts {
    /// Removes loop `id`: what it held is held by its parent.
    pub fn dissolve_loop(&mut self, id: u32) {
        let parent = self.loops[id as usize].parent;
        for e in &mut self.events {
            if e.innermost == Some(id) {
                e.innermost = parent;
            }
        }
        for l in &mut self.loops {
            if l.parent == Some(id) {
                l.parent = parent;
            }
        }
    }
}

impl Preflight {
    pub fn at(at: usize) -> Self {
        Preflight { at, end: u32::MAX, table: None, whole_fn: false, branch: false, replaces: false }
    }
}

/// A store opened in memory (`Connection::open_in_memory()`, `"sqlite::memory:"`): no
/// other run sees its rows.
pub const FRESH_IN_MEMORY: &str = "in-memory database";
/// A temporary directory made (`tempdir()`, `TempDir::new()`): in test code, where
/// the database a test opens lives.
pub const FRESH_TEMP_DIR: &str = "temporary directory";

/// The store a call opens fresh, by the call's path (`tempfile::tempdir`,
/// `TempDir::new`) or method name.
fn fresh_store_call(path: &[String]) -> Option<&'static str> {
    match path {
        [.., name] if name == "open_in_memory" || name == "new_in_memory" => Some(FRESH_IN_MEMORY),
        [.., name] if name == "tempdir" || name == "tempdir_in" => Some(FRESH_TEMP_DIR),
        [.., ty, new] if new == "new" && (ty == "TempDir" || ty == "NamedTempFile") => Some(FRESH_TEMP_DIR),
        _ => None,
    }
}

/// The kind of a [`LoopFact`] that is a closure passed to a call.
pub const CLOSURE_ARG: &str = "closure";

/// An INSERT statement executed here (`loc`), with its SQL possibly written elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlInsert {
    pub table: String,
    pub on_conflict: bool,
    pub from_select: bool,
    /// The table an `INSERT … SELECT` reads from ([`sql::Insert::selects_from`]).
    pub selects_from: Option<Box<str>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Kept per call of every function of the crate: compact (`Box<str>`, the rare
// INSERT boxed) so that a large crate's facts stay small.
pub enum EventKind {
    /// SQL written at `loc` or brought there from a local (`via`).
    Insert(Box<InsertEvent>),
    /// A use of a constant or static that may hold SQL (resolved crate-wide), by its
    /// path as written (`SQL`, `queries::INSERT_WORKSPACE`).
    ConstUse { path: PathText },
    /// SQL assembled at compile time from literals and constants
    /// (`concatcp!(INSERT_PREFIX, COLS, GUARD)`): the constants are resolved
    /// crate-wide and the pieces read as one statement.
    Assembled { value: Box<crate::facts::value::Value> },
    /// A call of a function or method, resolved crate-wide ([`crate::facts::defs`]):
    /// a path call by its path as written (`qualifier` is the path before the name:
    /// `Type` in `Type::f`, `store` in `store::insert`, empty for `f`), a method call by
    /// what its receiver is. (Kept per call of every function: the common shapes, a
    /// bare name and a receiver of unknown type, allocate nothing beyond the name.)
    /// (The qualifier's segments are joined by `::` in one string: one allocation.)
    /// (`empty_args`: the arguments, by position, that are written empty — `None`,
    /// `&[]`, `vec![]`, `Vec::new()` — one bit each.)
    /// (`held_first`: a path call whose first argument is a value `self` holds,
    /// `Trait::f(self.inner(), ..)`: a method called on it.)
    Call {
        name: Box<str>,
        qualifier: Option<Box<str>>,
        receiver: Option<Receiver>,
        args: u32,
        awaited: bool,
        empty_args: u32,
        held_first: bool,
    },
    /// A call of a registered preflight helper.
    Preflight { name: Box<str> },
    /// A sea-orm insert of an entity, by the entity's path (`user::Entity`,
    /// `user::ActiveModel`): its table is resolved crate-wide.
    EntityInsert { entity: PathText, on_conflict: bool },
    /// A new value of a crate type saved (`AclRule::new(..).save(tx)`): an INSERT into
    /// its table when the type derives an active-record `Model`, resolved crate-wide.
    ModelInsert { ty: Box<str> },
    /// A diesel insert into the table declared with this Rust name (`insert_into(
    /// users::table)`): its SQL name (a `table!`'s `#[sql_name]`) is resolved crate-wide.
    DieselInsert { table: Box<str>, on_conflict: bool },
}

/// A path as written (`store::insert`, `Type`), one string per segment.
pub type PathText = Box<[Box<str>]>;

/// What a method is called on, as far as the syntax tells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Receiver {
    /// `self`.
    SelfValue,
    /// A value whose type is evident: an annotated parameter or `let`, `Type::new(…)`,
    /// `Type { … }` (the type's path as written, wrappers removed).
    Typed(PathText),
    /// A field of another receiver (`self.store`, `state.repo`).
    Field(Box<(Receiver, Box<str>)>),
    /// What a field of type `Option<T>`, `Vec<T>`, … holds (`if let Some(b) =
    /// &self.backup`, `for job in &self.jobs`): the field as in [`Receiver::Field`].
    Held(Box<(Receiver, Box<str>)>),
    /// What a call of a path returns (`Self::default_service()`, `repo()`), or what its
    /// `Option`/`Result` holds (`true`: through `?`, `.unwrap()`, `.expect(..)`).
    Returned(Box<(PathText, bool)>),
    /// What a method of another receiver returns (`self.store().users()`), or holds.
    MethodReturned(Box<(Receiver, Box<str>, bool)>),
    /// Anything else.
    Unknown,
}

impl EventKind {
    /// Whether it is an INSERT written here (SQL text, or an ORM's).
    pub(super) fn is_insert(&self) -> bool {
        matches!(self, EventKind::Insert(_) | EventKind::DieselInsert { .. } | EventKind::EntityInsert { .. })
    }

    /// A method call on `self`.
    pub fn on_self(&self) -> bool {
        matches!(self, EventKind::Call { receiver: Some(Receiver::SelfValue), .. })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsertEvent {
    pub sql: SqlInsert,
    pub via: Option<(Loc, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub loc: Loc,
    /// The innermost enclosing repeated context (an index into `FnInsertFacts::loops`,
    /// whose `parent` links lead to the outer ones).
    pub innermost: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnInsertFacts {
    pub name: String,
    pub name_loc: Loc,
    pub self_type: Option<String>,
    /// Parameters, not counting `self`.
    pub params: usize,
    pub is_async: bool,
    pub has_self: bool,
    /// The marker comment is in the body or on the line directly above the `fn`.
    pub marker: bool,
    pub loops: Vec<LoopFact>,
    /// In source order.
    pub events: Vec<Event>,
    /// The preflights (calls, checks, state guards) among `events`, in order.
    pub preflights: Vec<Preflight>,
    /// The tables the function runs a `DELETE` on (SQL, or an ORM's delete): a call
    /// to it before an INSERT into one of them replaces rows rather than adding them.
    pub deletes: Vec<Box<str>>,
    /// Method calls (positions among `events`) on the item of the `for` loop they are
    /// in (`for sink in sinks { sink.send(..) }`): when the item is a trait object,
    /// each iteration calls another implementation.
    pub item_calls: Vec<u32>,
    /// Calls on a fixture their innermost loop's iteration builds for itself (`let db =
    /// test_db().await; create(&db, ..)`), as (the loop, events `from..to` the call
    /// made): in test code each iteration writes a store of its own, so that loop
    /// does not repeat them.
    #[serde(default)]
    pub fixture_calls: Vec<(u32, u32, u32)>,
    /// Calls whose failure ends the function (`initialize_melt(id).await?`), by the
    /// start of their callee's name: a call of a function that begins with a claim
    /// is one ([`crate::rules::non_idempotent_insert`]'s claims).
    #[serde(default)]
    pub tried_calls: Vec<u32>,
    /// Parameters (by position, not counting `self`) that name the table of an INSERT
    /// the function assembles (`format!("INSERT INTO {table} …")` with `table: &str`):
    /// a call that passes a table's name there inserts into that table.
    #[serde(default)]
    pub table_params: Vec<(u32, Box<str>)>,
    /// String literals passed to calls that could name a table (`insert_row(c,
    /// "workspaces", ..)`), as (start of the callee's name, argument position, text).
    #[serde(default)]
    pub literal_args: Vec<(u32, u32, Box<str>)>,
    /// The parameters (by position, not counting `self`) the function calls inside a
    /// loop of its own: a closure passed there runs repeatedly (a retry function).
    pub repeats_params: Vec<(u32, Loc)>,
    /// The branches of `if Self::FLAG { … } else { … }`: in a trait's default method,
    /// which one runs depends on the constant the implementation sets.
    pub flag_branches: Vec<FlagBranch>,
    /// Events `from..to` of each branch (an `if`'s blocks, a `match`'s arms): what
    /// one branch runs first may not run before what the next one runs.
    pub branches: Vec<(u32, u32)>,
    /// Events `from..to` that run only when parameter `param` (by position, not
    /// counting `self`) holds something, as (param, from, to): the body of a `for`
    /// over it, the branch of `if let Some(x) = param`. A call that passes `None` or
    /// an empty list there does not run them.
    pub param_gates: Vec<(u32, u32, u32)>,
}

/// Events `from..to` (positions among `events`) run only when associated constant
/// `name` of `Self` is `when`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagBranch {
    pub name: Box<str>,
    pub when: bool,
    pub from: u32,
    pub to: u32,
}

impl FnInsertFacts {
    /// Whether a position whose innermost loop is `innermost` is inside loop `l`.
    pub fn within(&self, innermost: Option<u32>, l: u32) -> bool {
        let mut at = innermost;
        while let Some(i) = at {
            if i == l {
                return true;
            }
            at = self.loops.get(i as usize).and_then(|x| x.parent);
        }
        false
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsertFacts {
    pub fns: Vec<FnInsertFacts>,
    /// Constants whose value is a `.sql` file compiled in (`const ADD: &str =
    /// include_str!("../sql/add.sql")`), by where the constant is named, with the
    /// file's text: a use of one runs that SQL.
    #[serde(default)]
    pub included_consts: Vec<(Loc, Box<str>)>,
    /// SQL was read from a `query_file!` file.
    pub reads_other_files: bool,
    /// The sea-orm entities this file declares, as (module name, table name).
    pub entity_tables: Vec<(Box<str>, Box<str>)>,
    /// The active-record models this file declares (`#[derive(Model)]`), as (type
    /// name, table name).
    pub model_tables: Vec<(Box<str>, Box<str>)>,
    /// Tables this file creates as temporary (`CREATE TEMPORARY TABLE t`): rows for
    /// one session or transaction, never duplicated across runs.
    pub temp_tables: Vec<Box<str>>,
    /// Tables this file creates with a key that resolves its own conflicts (SQLite
    /// `PRIMARY KEY (..) ON CONFLICT REPLACE`), and where: every INSERT into them from
    /// the same program is an upsert.
    pub upsert_tables: Vec<(Box<str>, Loc)>,
    /// The diesel tables this file declares under another SQL name (`table! {
    /// #[sql_name = "audit_events"] audit (id) { … } }`), as (Rust name, SQL name).
    pub diesel_tables: Vec<(Box<str>, Box<str>)>,
}

pub struct ExtractInput<'a> {
    pub file: FileId,
    pub source: &'a SourceFile,
    pub path: &'a std::path::Path,
    pub comments: &'a [Comment],
}

pub fn extract(input: &ExtractInput, syntax: &syn::File, params: &InsertParams) -> InsertFacts {
    let mut v = Extractor {
        lowerer: Lowerer::new(input.file, input.source),
        input,
        params,
        out: InsertFacts::default(),
        stack: Vec::new(),
        self_types: Vec::new(),
        sql_locals: Vec::new(),
        unread_preflights: Default::default(),
        tried_claims: Default::default(),
        builders: Vec::new(),
        locals: Vec::new(),
        impl_bounds: Vec::new(),
        awaiting: false,
        once_init: 0,
        in_executed_chain: false,
        in_error_handler: false,
        markers: functions::marker_comments(input, params),
        orm_seen: Vec::new(),
        loop_items: Vec::new(),
        distinct_item_loops: Vec::new(),
        fixtures: Vec::new(),
        existing: Vec::new(),
        fetched: Vec::new(),
        absent_when_true: Vec::new(),
        absent_selects: Vec::new(),
        filtered_locals: Vec::new(),
        fresh_values: Vec::new(),
        fresh_ids: Vec::new(),
        consuming_loops: Vec::new(),
        deleting_loops: Vec::new(),
        let_events: Vec::new(),
        local_closures: Vec::new(),
        closure_call: None,
        included_const: None,
        until_inserted: None,
        entity_aliases: crate::facts::sea_orm::EntityImports::renames(syntax),
        active_model_fns: orm::active_model_fns(syntax),
        insert_results: Vec::new(),
        modules: Vec::new(),
        imports: vec![(uses_of(syntax.items.iter()), true)],
    };
    v.visit_file(syntax);
    // Kept for the whole run: no growth slack.
    v.out.fns.shrink_to_fit();
    v.out
}

/// A function being collected, with its open loops.
struct FnBuilder {
    facts: FnInsertFacts,
    open_loops: Vec<usize>,
    /// For each closure or `async` block being visited, how many loops were open at
    /// its start: a `return` inside it leaves it, not the loops around it.
    floors: Vec<usize>,
    /// The names of its parameters (not counting `self`; empty for a pattern).
    param_names: Vec<String>,
    /// Collections passed in that the function adds to (`known.insert(k, v)`): a
    /// record of what was written that outlives the call, whose membership check
    /// skips what a run before inserted ([`hoisted`]).
    memos: Vec<String>,
    /// Its `for` loops over a range of numbers (`for attempt in 1..=MAX_RETRIES`): a
    /// counter, which a loop that retries only a collision uses like a `loop`.
    counted_loops: Vec<u32>,
}

impl FnBuilder {
    fn innermost(&self) -> Option<u32> {
        self.open_loops.last().map(|&l| l as u32)
    }

    /// Whether the function has inserted before this point in a way a rerun repeats
    /// (an INSERT without a conflict clause, an ORM insert).
    fn inserted_yet(&self) -> bool {
        self.facts.events.iter().any(|e| match &e.kind {
            EventKind::Insert(i) => !i.sql.on_conflict,
            EventKind::EntityInsert { on_conflict, .. } | EventKind::DieselInsert { on_conflict, .. } => !on_conflict,
            EventKind::ModelInsert { .. } => true,
            _ => false,
        })
    }
}

struct Extractor<'a> {
    lowerer: Lowerer<'a>,
    input: &'a ExtractInput<'a>,
    params: &'a InsertParams,
    out: InsertFacts,
    stack: Vec<FnBuilder>,
    self_types: Vec<Option<String>>,
    /// Locals holding INSERT SQL (`let sql = "INSERT …"`).
    sql_locals: Vec<SqlLocal>,
    /// Where a registered preflight helper is called whose result nothing reads
    /// (`let existing = lookup_existing_child(..)?;` then only logged): not a preflight.
    unread_preflights: std::collections::HashSet<u32>,
    /// The next call visited is the operand of `.await`.
    awaiting: bool,
    /// Claims whose failure ends the function (`reserve_quote(..).await?`), by the
    /// start of their name: see [`is_claim`].
    tried_claims: std::collections::HashSet<u32>,
    /// Inside a one-time initializer (`cell.get_or_init(|| …)`, `Lazy::new(|| …)`,
    /// `ONCE.call_once(|| …)`): what it runs, it runs once per process, however often
    /// the function around it is called — its events are not kept.
    once_init: u32,
    /// The next method call visited is in the receiver chain of a call that runs a
    /// statement (see `visit_expr_method_call`).
    in_executed_chain: bool,
    /// Inside the closure of error plumbing (`.map_err(|e| …)`): a SQL local named
    /// there is described, not run.
    in_error_handler: bool,
    /// `let qb = QueryBuilder::new("INSERT …")`: the builder's name and its INSERT events,
    /// so a later `qb.push(" ON CONFLICT …")` completes the same statement.
    builders: Vec<(String, Vec<usize>)>,
    /// The current function's bindings (parameters, `let`s, closure parameters),
    /// innermost last, with their type when it is evident.
    locals: Vec<locals::Binding>,
    /// The trait bounds of the generic parameters of the `impl` blocks around the
    /// current item (`impl<S: Store> Audited<S>`), innermost last.
    impl_bounds: Vec<Vec<(String, PathText)>>,
    /// The file's marker comments: (start, end, line of the end).
    markers: Vec<(usize, usize, usize)>,
    /// Where the ORM inserts read so far start: a chain is read once, at its outermost call.
    orm_seen: Vec<Loc>,
    /// The names a `for` loop's pattern binds, with the loop (innermost last).
    loop_items: Vec<(String, usize)>,
    /// `for` loops (ids in the current function) over a literal list of distinct
    /// locals (`for a in [&alice, &bob]`).
    distinct_item_loops: Vec<u32>,
    /// Locals a loop's iteration builds from nothing, with the loop ([`per_iteration`]).
    fixtures: Vec<(String, u32)>,
    /// Locals holding the rows that exist, read before a loop ([`hoisted`]).
    existing: Vec<String>,
    /// Locals holding what a `get…` round trip returned (`let row =
    /// get_membership(..).await?`): a lookup once tested for presence, data otherwise.
    fetched: Vec<String>,
    /// Locals whose truth says the row was absent: the count of an INSERT that does
    /// nothing when the row exists, a flag set from a lookup (`let missing =
    /// rows.is_empty()`, `match lookup { Ok(rows) => rows.is_empty(), Err(_) => true }`).
    absent_when_true: Vec<String>,
    /// Locals holding a diesel select of rows only when absent (`not(exists(..))`).
    absent_selects: Vec<String>,
    /// Locals built by filtering with a membership check of the rows that exist, and
    /// where that check is.
    filtered_locals: Vec<(String, Loc)>,
    /// Locals bound to a new value of a type (`let rule = AclRule::new(..)`), for an
    /// active-record save of it.
    fresh_values: Vec<(String, PathText)>,
    /// Locals bound to an id generated on the spot (`let id = Uuid::new_v4()`): a
    /// lookup by one finds nothing, and guards nothing.
    fresh_ids: Vec<String>,
    /// Loops (ids in the current function) whose body deletes the item it works on
    /// (`old.delete(db)`): the loop consumes its source, and a second run finds nothing
    /// to redo.
    consuming_loops: Vec<u32>,
    /// Loops whose body passes the item it works on to a function named for a delete
    /// (`self.delete(&m, src)`, `delete_folder(conn, &f.id)`): consumed when they
    /// iterate rows just read (a second run reads none).
    deleting_loops: Vec<u32>,
    /// The events each `let` initializer made (`let res = INSERT….await`), by local.
    let_events: Vec<(String, u32, u32)>,
    /// The count a `while` loop being read tests for zero (`while inserted == 0`):
    /// an INSERT assigned to it runs until it adds a row.
    until_inserted: Option<String>,
    /// Closures bound to a local (`let write = |k, v| sqlx::query("INSERT …")…`): a
    /// call of one in a loop runs its body there.
    local_closures: Vec<(String, syn::ExprClosure)>,
    /// While a local closure's body is read again at its call in a loop: the call and
    /// the closure's name. Its INSERTs are reported at the call, like a helper's.
    closure_call: Option<(Loc, Box<str>)>,
    /// While the value of a constant that is `include_str!(..)` is read: where the
    /// constant is named.
    included_const: Option<Loc>,
    entity_aliases: crate::facts::sea_orm::EntityImports,
    /// Locals bound to the result of an INSERT, with its events (see
    /// [`Extractor::conflict_updates`]).
    insert_results: Vec<(String, Loc, Vec<usize>)>,
    /// The file's functions that return an `ActiveModel` ([`orm::active_model_fns`]).
    active_model_fns: Vec<(String, PathText)>,
    /// The inline modules around the current item, innermost last.
    modules: Vec<String>,
    /// The `use`s in scope, innermost last: a module's (`true`: names outside it are
    /// not seen), and those of the blocks inside it that declare some.
    imports: Vec<(Vec<crate::facts::names::UseFact>, bool)>,
}

impl Extractor<'_> {
    fn guarded(&self, sql_text: &str) -> Vec<SqlInsert> {
        // Most string literals are not SQL: skip the tokenizer unless one could be.
        if !sql_text.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"insert")) {
            return Vec::new();
        }
        guarded_inserts(sql_text, self.params).collect()
    }

    /// Whether the innermost repeated context is a `loop`, a `while` or a `for` over a
    /// counter of the function (not a `for` over items, an iterator closure or a retry
    /// wrapper).
    fn in_plain_loop(&self) -> bool {
        let Some(f) = self.stack.last() else { return false };
        f.innermost()
            .is_some_and(|l| matches!(f.facts.loops[l as usize].kind.as_str(), "loop" | "while") || f.counted_loops.contains(&l))
    }

    /// How many events the current function has.
    pub(super) fn event_count(&self) -> u32 {
        self.stack.last().map_or(0, |f| f.facts.events.len() as u32)
    }

    /// The parameter (by position) a loop's or an `if let`'s expression takes its
    /// items from: `names`, `&names`, `names.iter().enumerate()`, `label.as_deref()`.
    pub(super) fn param_held(&self, expr: &syn::Expr) -> Option<u32> {
        const THROUGH: &[&str] =
            &["iter", "into_iter", "iter_mut", "as_ref", "as_deref", "as_slice", "clone", "cloned", "copied", "enumerate"];
        let mut at = strip(expr);
        loop {
            at = match at {
                syn::Expr::Reference(r) => strip(&r.expr),
                syn::Expr::MethodCall(m) if m.args.is_empty() && THROUGH.contains(&m.method.to_string().as_str()) => {
                    strip(&m.receiver)
                }
                _ => break,
            };
        }
        let syn::Expr::Path(p) = at else { return None };
        let ident = p.path.get_ident()?;
        let f = self.stack.last()?;
        f.param_names.iter().position(|n| ident == n).map(|k| k as u32)
    }

    /// Events since `from` run only when parameter `gate` holds something.
    pub(super) fn push_param_gate(&mut self, gate: Option<u32>, from: u32) {
        let to = self.event_count();
        if let (Some(param), Some(f)) = (gate, self.stack.last_mut())
            && from < to
        {
            f.facts.param_gates.push((param, from, to));
        }
    }

    /// The events since `from` are one branch ([`FnInsertFacts::branches`]).
    pub(super) fn push_branch(&mut self, from: u32) {
        if let Some(f) = self.stack.last_mut() {
            let to = f.facts.events.len() as u32;
            if from < to {
                f.facts.branches.push((from, to));
            }
        }
    }

    /// The preflight just recorded is a check read from a branch ([`Preflight::branch`]).
    /// Keeps the string literals among a call's arguments that could name a table
    /// (`insert_row(c, "workspaces", ..)`): a word, not a sentence or a statement.
    fn note_literal_args<'e>(&mut self, at: u32, args: impl Iterator<Item = &'e syn::Expr>) {
        for (k, arg) in args.enumerate() {
            let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = strip(arg) else { continue };
            let text = s.value();
            let word = text.len() <= 64
                && text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if word && let Some(f) = self.stack.last_mut() {
                f.facts.literal_args.push((at, k as u32, text.into_boxed_str()));
            }
        }
    }

    fn mark_branch_check(&mut self) {
        if let Some(p) = self.stack.last_mut().and_then(|f| f.facts.preflights.last_mut()) {
            p.branch = true;
        }
    }

    /// A table is created here: INSERTs into it later in the function fill a fresh table.
    fn push_fresh_table(&mut self, loc: Loc, table: String) {
        self.push_event(EventKind::Preflight { name: "CREATE TABLE".into() }, loc);
        if let Some(last) = self.stack.last_mut().and_then(|f| f.facts.preflights.last_mut()) {
            last.table = Some(table.into_boxed_str());
            last.whole_fn = true;
        }
    }

    /// A store of its own is opened here (an in-memory database, a temporary
    /// directory to hold one): what the function inserts after it in the same
    /// iteration, it inserts there once (a loop after it still repeats its INSERT
    /// into the new store). `kind` is [`FRESH_IN_MEMORY`] or [`FRESH_TEMP_DIR`].
    fn push_fresh_store(&mut self, loc: Loc, kind: &str) {
        if self.stack.is_empty() {
            return;
        }
        // (A preflight of every table, by position: not room made for a table, which
        // would count for the loops of the functions called after it too.)
        self.push_event(EventKind::Preflight { name: kind.into() }, loc);
    }

    /// A `DELETE` of `table` runs here: an INSERT into it that follows in the same
    /// iteration, or in a loop after it, replaces rows.
    fn push_delete(&mut self, loc: Loc, table: String) {
        if let Some(f) = self.stack.last_mut()
            && !f.facts.deletes.iter().any(|t| t.eq_ignore_ascii_case(&table))
        {
            f.facts.deletes.push(table.clone().into_boxed_str());
        }
        self.push_replacing(loc, "DELETE", table);
    }

    /// Whether the events since `from` hold a `DELETE` and no INSERT written here.
    pub(super) fn deletes_since(&self, from: u32) -> bool {
        let Some(f) = self.stack.last() else { return false };
        let events = &f.facts.events[(from as usize).min(f.facts.events.len())..];
        events.iter().any(|e| matches!(&e.kind, EventKind::Preflight { name } if &**name == "DELETE"))
            && !events.iter().any(|e| e.kind.is_insert())
    }

    /// The tables a `DELETE` recorded since event `from` deletes from.
    fn deleted_since(&self, from: u32) -> Vec<Box<str>> {
        let Some(f) = self.stack.last() else { return Vec::new() };
        (f.facts.preflights.iter().rev().take_while(|p| p.at >= from as usize))
            .filter(|p| p.replaces && matches!(&f.facts.events[p.at].kind, EventKind::Preflight { name } if &**name == "DELETE"))
            .filter_map(|p| p.table.clone())
            .collect()
    }

    /// A statement after which INSERTs into `table` add only rows it lacks (a `DELETE`,
    /// an anti-join read): [`Preflight::replaces`].
    fn push_replacing(&mut self, loc: Loc, name: &str, table: String) {
        self.push_event(EventKind::Preflight { name: name.into() }, loc);
        if let Some(last) = self.stack.last_mut().and_then(|f| f.facts.preflights.last_mut()) {
            last.table = Some(table.into_boxed_str());
            last.replaces = true;
        }
    }

    /// Whether `receiver` is the item of the innermost loop: a `for` loop's variable,
    /// or the element its index picks (`for (i, _) in xs.iter().enumerate() { xs[i].f() }`).
    /// Records that the innermost loop hands its item to a function named for a
    /// delete (`delete`, `delete_folder`; an argument that is the item, a reference to
    /// it or one of its fields).
    fn note_item_deleted<'e>(&mut self, name: &str, mut args: impl Iterator<Item = &'e syn::Expr>) {
        if !name.trim_start_matches('_').starts_with("delete") {
            return;
        }
        let item = |a: &syn::Expr| match strip(a) {
            syn::Expr::Reference(r) => match strip(&r.expr) {
                syn::Expr::Field(f) => self.on_loop_item(&f.base),
                other => self.on_loop_item(other),
            },
            syn::Expr::Field(f) => self.on_loop_item(&f.base),
            other => self.on_loop_item(other),
        };
        if args.any(item)
            && let Some(l) = self.stack.last().and_then(FnBuilder::innermost)
        {
            self.deleting_loops.push(l);
        }
    }

    pub(super) fn on_loop_item(&self, receiver: &syn::Expr) -> bool {
        let name = match strip(receiver) {
            syn::Expr::Path(p) => p.path.get_ident(),
            syn::Expr::Index(x) => match strip(&x.index) {
                syn::Expr::Path(p) => p.path.get_ident(),
                _ => None,
            },
            _ => None,
        };
        let innermost = self.stack.last().and_then(FnBuilder::innermost);
        name.is_some_and(|n| self.loop_items.iter().rev().any(|(item, l)| n == item && innermost == Some(*l as u32)))
    }

    fn push_event(&mut self, kind: EventKind, loc: Loc) {
        // Calls that can never resolve to a crate function are not kept (they are most
        // calls): constructors and variants (`Some(…)`, `Uuid::new_v4` is kept), and
        // ambiguous standard-library method names that are neither awaited nor on `self`.
        if let EventKind::Call { name, receiver, awaited, .. } = &kind {
            let constructor = name.starts_with(|c: char| c.is_uppercase());
            // (A receiver of evident type resolves exactly: kept.)
            let unknown = matches!(receiver, Some(Receiver::Unknown));
            let unresolvable =
                unknown && !*awaited && self.params.ambiguous_methods.iter().any(|m| **m == **name);
            if constructor || unresolvable {
                return;
            }
        }
        let Some(f) = self.stack.last_mut() else { return };
        if self.once_init > 0 {
            return;
        }
        if matches!(kind, EventKind::Preflight { .. }) {
            f.facts.preflights.push(Preflight::at(f.facts.events.len()));
        }
        let innermost = f.innermost();
        // An INSERT of a local closure called in a loop: reported at the call, the
        // statement in the closure as where it is written.
        let (kind, loc) = match (kind, &self.closure_call) {
            (EventKind::Insert(mut ev), Some((call, name))) if ev.via.is_none() => {
                ev.via = Some((loc, format!("the INSERT INTO `{}` in the closure `{name}`", ev.sql.table)));
                (EventKind::Insert(ev), *call)
            }
            (kind, _) => (kind, loc),
        };
        f.facts.events.push(Event { kind, loc, innermost });
    }

    fn literal_events(&mut self, text: &str, loc: Loc) {
        // `CREATE TABLE t` (it fails if `t` exists) or a temporary table: the rows
        // inserted into `t` afterwards go into a fresh table.
        if text.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"create")) {
            for created in sql::created_tables(text) {
                if created.temporary {
                    self.out.temp_tables.push(created.table.clone().into_boxed_str());
                }
                if created.key_resolves_conflicts {
                    self.out.upsert_tables.push((created.table.clone().into_boxed_str(), loc));
                }
                if created.temporary || !created.if_not_exists {
                    self.push_fresh_table(loc, created.table);
                }
            }
        }
        // `DELETE FROM …` (or `TRUNCATE`, `DROP TABLE`, a soft delete `UPDATE t SET
        // deleted_at = now()`) before an INSERT makes it a replacement.
        let wiped = sql::wiped_tables(text);
        for table in sql_locals::deleted_by(text) {
            let whole = wiped.iter().any(|w| w.eq_ignore_ascii_case(&table));
            self.push_delete(loc, table);
            // A table emptied whole (`TRUNCATE`, `DROP TABLE`, `DELETE` with no `WHERE`)
            // holds no row afterwards wherever the INSERTs after it run: in a later loop
            // too, as a table created here does.
            if whole && let Some(last) = self.stack.last_mut().and_then(|f| f.facts.preflights.last_mut()) {
                last.whole_fn = true;
            }
        }
        let word = |w: &[u8]| text.as_bytes().windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
        // Rows read as missing from a table (`NOT IN (SELECT … FROM t)`, `NOT EXISTS`,
        // `LEFT JOIN t … IS NULL`): an INSERT into `t` after it adds only those.
        if word(b"select") && (word(b"not") || word(b"null")) {
            for table in sql::anti_joined_tables(text) {
                self.push_replacing(loc, "anti-join", table);
            }
        }
        for sql in self.guarded(text) {
            let at = self.insert_line_of(loc, &sql.table);
            self.push_event(EventKind::Insert(Box::new(InsertEvent { sql, via: None })), at);
        }
    }

    /// The line of a literal spanning several lines where its `INSERT` into `table`
    /// is written (`r#"` on one line, `INSERT INTO t …` on the next): what a finding
    /// points at. The whole literal when the source does not show it plainly.
    fn insert_line_of(&self, literal: Loc, table: &str) -> Loc {
        let text = self.input.source.text();
        let Some(source) = text.get(literal.start as usize..literal.end as usize) else { return literal };
        if !source.contains('\n') {
            return literal;
        }
        let lower = source.to_ascii_lowercase();
        let table = table.to_ascii_lowercase();
        let short = table.rsplit('.').next().unwrap_or(&table);
        let found = lower.match_indices("insert").map(|(at, _)| at).find(|&at| {
            let before = lower[..at].chars().next_back();
            let after = &lower[at + "insert".len()..];
            before.is_none_or(|c| !c.is_alphanumeric() && c != '_')
                && after.starts_with(|c: char| c.is_whitespace())
                && after.get(..after.len().min(80)).is_some_and(|near| near.contains(short))
        });
        let Some(at) = found else { return literal };
        // (Up to the line's end, or the literal's closing `"`/`"#`.)
        let closing = 1 + source.bytes().rev().take_while(|&b| b == b'#').count();
        let body_end = source.len().saturating_sub(closing).max(at);
        let line_end = source[at..body_end].find('\n').map_or(body_end, |e| at + e);
        let trimmed = source[at..line_end].trim_end().len();
        Loc { file: literal.file, start: literal.start + at as u32, end: literal.start + (at + trimmed) as u32 }
    }
}

impl Extractor<'_> {
    /// The registered preflight helpers called in a `let` of this block whose binding
    /// no later statement reads (only a log macro names it, or nothing does; `let _ =`):
    /// their result decides nothing ([`Extractor::unread_preflights`]).
    fn note_unread_preflights(&mut self, b: &syn::Block) {
        for (i, stmt) in b.stmts.iter().enumerate() {
            let syn::Stmt::Local(local) = stmt else { continue };
            let Some(init) = &local.init else { continue };
            let Some(at) = self.preflight_helper_call(&init.expr) else { continue };
            let mut names = Vec::new();
            hoisted::bound_names(&local.pat, &mut names);
            names.retain(|n| !n.starts_with('_'));
            let read_later = b.stmts[i + 1..].iter().any(|later| hoisted::stmt_mentions(later, &names));
            if names.is_empty() || !read_later {
                self.unread_preflights.insert(at);
            }
        }
    }

    /// Where `expr` (a `?` operand) calls a function or method, through `.await`, and
    /// whether that is a claim ([`is_claim`]).
    fn tried_call(&self, expr: &syn::Expr) -> Option<(u32, bool)> {
        let ident = match strip(expr) {
            syn::Expr::Await(a) => return self.tried_call(&a.base),
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(p) => &p.path.segments.last()?.ident,
                _ => return None,
            },
            syn::Expr::MethodCall(m) => &m.method,
            _ => return None,
        };
        Some((self.lowerer.span_loc(ident.span()).start, is_claim(&ident.to_string())))
    }

    /// Where `expr` calls a registered preflight helper (`lookup_existing_child(..)`,
    /// `repo.lookup_existing_child(..)`), through `.await`, `?` and wrappers.
    fn preflight_helper_call(&self, expr: &syn::Expr) -> Option<u32> {
        match strip(expr) {
            syn::Expr::Await(a) => self.preflight_helper_call(&a.base),
            syn::Expr::Try(t) => self.preflight_helper_call(&t.expr),
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(p) => {
                    let last = p.path.segments.last()?;
                    let name = last.ident.to_string();
                    self.params.preflight_helpers.contains(&name).then(|| self.lowerer.span_loc(last.ident.span()).start)
                }
                _ => None,
            },
            syn::Expr::MethodCall(m) => {
                let name = m.method.to_string();
                if self.params.preflight_helpers.contains(&name) {
                    Some(self.lowerer.span_loc(m.method.span()).start)
                } else {
                    self.preflight_helper_call(&m.receiver)
                }
            }
            _ => None,
        }
    }

    /// A block with the bindings and locals it declares dropped at its end.
    fn visit_block_scoped(&mut self, b: &syn::Block) {
        self.note_unread_preflights(b);
        let imports = self.imports.len();
        let uses = uses_of(b.stmts.iter().filter_map(|s| match s {
            syn::Stmt::Item(item) => Some(item),
            _ => None,
        }));
        if !uses.is_empty() {
            self.imports.push((uses, false));
        }
        let saved = (self.sql_locals.len(), self.lowerer.scope.len(), self.builders.len(), self.locals.len());
        let existing = (self.existing.len(), self.absent_when_true.len(), self.absent_selects.len(), self.fetched.len());
        let filtered = (self.filtered_locals.len(), self.fresh_values.len(), self.fresh_ids.len());
        syn::visit::visit_block(self, b);
        self.filtered_locals.truncate(filtered.0);
        self.fresh_values.truncate(filtered.1);
        self.fresh_ids.truncate(filtered.2);
        self.existing.truncate(existing.0);
        self.fetched.truncate(existing.3);
        self.absent_when_true.truncate(existing.1);
        self.absent_selects.truncate(existing.2);
        self.sql_locals.truncate(saved.0);
        self.lowerer.scope.truncate(saved.1);
        self.builders.truncate(saved.2);
        self.locals.truncate(saved.3);
        self.imports.truncate(imports);
    }

    /// A path whose first segment a `use` in scope names (`bretry` after `use
    /// backoff::future::retry as bretry;`, `n::table` after `use
    /// crate::schema::notifications as n;`), written out in full.
    fn imported(&self, path: &[String]) -> Option<Vec<String>> {
        let (first, rest) = path.split_first()?;
        for (uses, module) in self.imports.iter().rev() {
            if let Some(u) = uses.iter().find(|u| u.alias.as_deref() == Some(first.as_str())) {
                return Some(u.path.iter().chain(rest).cloned().collect());
            }
            if *module {
                break;
            }
        }
        None
    }

    /// A closure with its parameters bound.
    /// A closure bound to a local, called in a loop of the function: its body runs
    /// on every iteration, so it is read again there (an INSERT in it is reported at
    /// the call, like a helper's, with this loop repeating it).
    fn run_local_closure(&mut self, name: &str, call: Loc) {
        let in_own_loop = self.stack.last().is_some_and(|f| f.open_loops.iter().any(|&l| f.facts.loops[l].kind != CLOSURE_ARG));
        if !in_own_loop {
            return;
        }
        let Some(at) = self.local_closures.iter().rposition(|(n, _)| n == name) else { return };
        // (Taken out while it is read: a closure cannot call itself.)
        let (n, closure) = self.local_closures.remove(at);
        let seen = std::mem::take(&mut self.orm_seen);
        let outer = self.closure_call.replace((call, n.as_str().into()));
        self.visit_closure(&closure);
        self.closure_call = outer;
        self.orm_seen = seen;
        self.local_closures.insert(at, (n, closure));
    }

    fn visit_closure(&mut self, c: &syn::ExprClosure) {
        let saved = self.locals.len();
        for input in &c.inputs {
            self.bind_pattern(input, None);
        }
        self.visit_expr(&c.body);
        self.locals.truncate(saved);
    }
}

/// The names the `use` items among `items` bring in.
fn uses_of<'i>(items: impl Iterator<Item = &'i syn::Item>) -> Vec<crate::facts::names::UseFact> {
    items
        .filter_map(|item| match item {
            syn::Item::Use(u) => Some(crate::facts::names::use_facts(u)),
            _ => None,
        })
        .flatten()
        .filter(|u| u.alias.as_ref().is_some_and(|a| a != "_"))
        .collect()
}

/// The INSERTs into guarded tables of a SQL text.
pub fn guarded_inserts<'t>(text: &'t str, params: &'t InsertParams) -> impl Iterator<Item = SqlInsert> + 't {
    sql::inserts(text)
        .into_iter()
        .filter(|i| params.tables.iter().any(|t| i.targets(t)))
        .map(|i| SqlInsert {
            table: i.table,
            on_conflict: i.on_conflict,
            from_select: i.from_select,
            selects_from: i.selects_from.map(String::into_boxed_str),
        })
}

/// Whether text could hold SQL that makes an event: it names `INSERT`, `DELETE`,
/// `CREATE`, `TRUNCATE` or `DROP`, or is a `SELECT` that says `NOT` or `NULL` (an
/// anti-join), in any case. Most string literals do not, and are not tokenized.
fn has_sql_verb(text: &str) -> bool {
    let has = |word: &[u8]| text.as_bytes().windows(word.len()).any(|w| w.eq_ignore_ascii_case(word));
    text.as_bytes().windows(6).any(|w| {
        w.eq_ignore_ascii_case(b"insert")
            || w.eq_ignore_ascii_case(b"delete")
            || w.eq_ignore_ascii_case(b"create")
            || w.eq_ignore_ascii_case(b"trunca")
            || w[..4].eq_ignore_ascii_case(b"drop")
    }) || (has(b"select") && (has(b"not") || has(b"null")))
}

/// Strips parentheses, references and `.await`/`?` around an expression.
/// A `for` loop's iterable that holds exactly one item as written: `[x]`, `&[x]`,
/// `vec![x]`, `std::iter::once(x)`, `Some(x)`.
fn iterates_one_item(expr: &syn::Expr) -> bool {
    match strip(expr) {
        syn::Expr::Array(a) => a.elems.len() == 1,
        syn::Expr::Macro(m) if m.mac.path.is_ident("vec") => m
            .mac
            .parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            .is_ok_and(|items| items.len() == 1),
        syn::Expr::Call(c) if c.args.len() == 1 => matches!(strip(&c.func), syn::Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == "once" || (s.ident == "Some" && p.path.segments.len() == 1))),
        _ => false,
    }
}

/// Methods that run their closure at most once per cell (`OnceCell`, `OnceLock`,
/// `std::sync::Once`, tokio's `OnceCell`).
const ONCE_INIT_METHODS: &[&str] = &["get_or_init", "get_or_try_init", "call_once", "call_once_force"];

/// `Lazy::new(|| …)`, `LazyLock::new`, `LazyCell::new`: the closure runs on first use only.
fn is_lazy_constructor(path: &[String]) -> bool {
    matches!(path, [.., ty, new] if new == "new" && matches!(ty.as_str(), "Lazy" | "LazyLock" | "LazyCell"))
}

/// Whether a function's name says it claims the row or resource an operation works
/// on (`reserve_mint_quote`, `claim_job`): it fails when another run holds it, so
/// what follows a claim whose failure ends the function runs once per claim. A
/// buffer's `reserve`/`reserve_exact` and a capacity are not claims.
pub(super) fn is_claim(name: &str) -> bool {
    let mut words = name.split('_').filter(|w| !w.is_empty());
    let first = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    matches!(first, "reserve" | "claim")
        && !rest.is_empty()
        && !rest.iter().any(|w| matches!(*w, "exact" | "capacity" | "space" | "bytes" | "memory"))
}

fn strip(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Reference(r) => strip(&r.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        _ => expr,
    }
}

/// [`is_screaming`] of an identifier, without allocating its name.
fn ident_is_screaming(ident: &proc_macro2::Ident) -> bool {
    use std::fmt::Write;
    thread_local! {
        static NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    NAME.with(|name| {
        let mut name = name.borrow_mut();
        name.clear();
        let _ = write!(name, "{ident}");
        is_screaming(&name)
    })
}

fn is_screaming(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

impl<'ast> Visit<'ast> for Extractor<'_> {
    // Types hold nothing these facts come from; doc comments and other attributes are not SQL.
    fn visit_type(&mut self, _: &'ast syn::Type) {}
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.self_types.push(crate::facts::type_name(&i.self_ty));
        self.impl_bounds.push(locals::trait_bounds(&i.generics));
        syn::visit::visit_item_impl(self, i);
        self.impl_bounds.pop();
        self.self_types.pop();
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.modules.push(m.ident.to_string());
        self.imports.push((uses_of(m.content.iter().flat_map(|(_, items)| items)), true));
        syn::visit::visit_item_mod(self, m);
        self.imports.pop();
        self.modules.pop();
    }

    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        if let Some(table) = crate::facts::sea_orm::table_name(&s.attrs) {
            let module = self.module_name().into_boxed_str();
            self.out.entity_tables.push((module, table.into_boxed_str()));
        }
        if let Some(table) = orm::model_derive_table(&s.attrs, &s.ident) {
            self.out.model_tables.push((s.ident.to_string().into_boxed_str(), table.into_boxed_str()));
        }
    }

    fn visit_item_const(&mut self, i: &'ast syn::ItemConst) {
        let included = matches!(&*i.expr, syn::Expr::Macro(m) if m.mac.path.is_ident("include_str"));
        self.included_const = included.then(|| self.lowerer.span_loc(i.ident.span()));
        syn::visit::visit_item_const(self, i);
        self.included_const = None;
    }

    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        self.self_types.push(None);
        self.impl_bounds.push(Vec::new());
        self.enter_fn(&i.sig, &i.attrs, &i.block, |s| s.visit_block(&i.block));
        self.impl_bounds.pop();
        self.self_types.pop();
    }

    /// `if let Some(repo) = maybe { … }`: `repo` is what `maybe` holds.
    fn visit_expr_let(&mut self, e: &'ast syn::ExprLet) {
        self.visit_expr(&e.expr);
        self.bind_held(&e.pat, &e.expr, false);
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        let first = self.stack.last().map_or(0, |f| f.facts.preflights.len());
        // `loop { match insert(fresh_key()).await { Ok(_) => break, Err(Taken) => continue, .. } }`:
        // the scrutinee succeeds once, so the loop does not repeat it (its INSERT still
        // runs once per call, as callers see).
        if self.in_plain_loop() && state_guards::runs_until_success(m) {
            let l = self.stack.last_mut().and_then(|f| f.open_loops.pop());
            self.visit_expr(&m.expr);
            if let (Some(l), Some(f)) = (l, self.stack.last_mut()) {
                f.open_loops.push(l);
            }
            // `let res = INSERT….await; match res { .. }`: the statement bound just before
            // is the scrutinee.
            if let syn::Expr::Path(p) = strip(&m.expr)
                && let Some(ident) = p.path.get_ident()
                && let Some(&(_, from, to)) = self.let_events.iter().rev().find(|(n, ..)| ident == n)
                && let Some(f) = self.stack.last_mut()
                && let Some(l) = f.innermost()
            {
                let parent = f.facts.loops[l as usize].parent;
                for e in &mut f.facts.events[from as usize..to as usize] {
                    if e.innermost == Some(l) {
                        e.innermost = parent;
                    }
                }
            }
        } else {
            self.visit_expr(&m.expr);
        }
        self.conflict_arm_updates(m);
        // `match existing { None => INSERT, Some(row) => … }` on rows just read.
        // (`match create_doc(..).await? { CreateOutcome::Exists(d) => return Ok(d), Created(id)
        // => id }`: an outcome that says the row was there.)
        let checks = self.matches_presence(m)
            || m.arms.iter().any(|a| {
                matches!(&a.pat, syn::Pat::TupleStruct(syn::PatTupleStruct { path, .. }) | syn::Pat::Path(syn::PatPath { path, .. }) | syn::Pat::Struct(syn::PatStruct { path, .. }) if state_guards::existence_variant(path))
                    && state_guards::expr_leaves(&a.body)
            });
        if checks {
            self.push_existence_check(self.lowerer.span_loc(m.match_token.span));
        }
        // The tables every arm deletes from (`Some(room) => delete(.. room ..), None =>
        // delete(.. is_null ..)`): emptied of the rows whichever arm runs.
        let mut deleted_by_every_arm: Option<Vec<Box<str>>> = None;
        for arm in &m.arms {
            let saved = self.locals.len();
            let from = self.event_count();
            self.bind_held(&arm.pat, &m.expr, false);
            if let Some((_, guard)) = &arm.guard {
                self.visit_expr(guard);
            }
            self.visit_expr(&arm.body);
            self.locals.truncate(saved);
            let deleted = self.deleted_since(from);
            deleted_by_every_arm = Some(match deleted_by_every_arm {
                None => deleted,
                Some(common) => common.into_iter().filter(|t| deleted.iter().any(|d| d.eq_ignore_ascii_case(t))).collect(),
            });
            self.push_branch(from);
        }
        let match_loc = self.lowerer.span_loc(m.match_token.span);
        for table in deleted_by_every_arm.unwrap_or_default() {
            self.push_delete(match_loc, table.into());
        }
        // (`Some(_) => continue`: the check guards the code after the match too;
        // `Err(e) => return Err(e)` is error handling.)
        if !checks || !m.arms.iter().any(|a| state_guards::found_pattern(&a.pat) && state_guards::expr_leaves(&a.body)) {
            self.end_guards_from(first);
        } else if checks
            && self.stack.last().is_some_and(|f| f.innermost().is_none())
            && m.arms.iter().any(|a| state_guards::found_pattern(&a.pat) && state_guards::expr_returns(&a.body))
        {
            // `match existing { Some(_) => return Ok(()), None => {} }` at the top level:
            // the rest of the function runs only for a new row.
            self.whole_fn_guards_from(first);
        }
    }

    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        self.enter_fn(&i.sig, &i.attrs, &i.block, |s| s.visit_block(&i.block));
    }

    fn visit_trait_item_fn(&mut self, i: &'ast syn::TraitItemFn) {
        if let Some(block) = &i.default {
            self.enter_fn(&i.sig, &i.attrs, block, |s| s.visit_block(block));
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        // `if found { insert(x); return Ok(()); }` in a loop: the block runs at most once.
        match Exit::of_block(b) {
            Some(exit) => self.leaving(exit, |s| s.visit_block_scoped(b)),
            None => self.visit_block_scoped(b),
        }
    }

    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        if let Some(e) = &r.expr {
            self.leaving(Exit::Return, |s| s.visit_expr(e));
        }
    }

    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        if let Some(e) = &b.expr {
            match b.label {
                None => self.leaving(Exit::Break, |s| s.visit_expr(e)),
                Some(_) => self.visit_expr(e),
            }
        }
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        self.with_floor(|s| syn::visit::visit_expr_async(s, a));
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.with_floor(|s| s.visit_closure(c));
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        let from = self.event_count();
        self.visit_let(local);
        if let Some(ident) = crate::facts::lower::pat_ident(&local.pat) {
            self.let_events.push((ident.to_string(), from, self.event_count()));
            if let Some(syn::Expr::Closure(c)) = local.init.as_ref().map(|i| strip(&i.expr)) {
                self.local_closures.push((ident.to_string(), c.clone()));
            }
        }
        self.bind_let(local);
        self.note_existing(local);
        if let (Some(init), Some(ident)) = (&local.init, crate::facts::lower::pat_ident(&local.pat))
            && orm::selects_if_absent(&init.expr)
        {
            self.absent_selects.push(ident.to_string());
        }
        if let (Some(init), Some(ident)) = (&local.init, crate::facts::lower::pat_ident(&local.pat))
            && let Some(ty) = orm::fresh_value_type(&init.expr)
        {
            self.fresh_values.push((ident.to_string(), ty));
        }
        if let (Some(init), Some(ident)) = (&local.init, crate::facts::lower::pat_ident(&local.pat))
            && state_guards::generates_id(&init.expr)
        {
            self.fresh_ids.push(ident.to_string());
        }
        self.note_fixture(local);
    }

    fn visit_expr_lit(&mut self, e: &'ast syn::ExprLit) {
        if let syn::Lit::Str(s) = &e.lit {
            let loc = self.lowerer.span_loc(s.span());
            // Most literals are not SQL: look at the written text before unescaping it
            // (an escape could spell INSERT, so text with one is always unescaped).
            // (No location, as in fuzzing builds: unescape.)
            let written = self.input.source.text().get(loc.range()).filter(|w| !w.is_empty()).unwrap_or("\\");
            if written.contains('\\') || has_sql_verb(written) {
                self.literal_events(&s.value(), loc);
            }
            if written.contains(":memory:") {
                self.push_fresh_store(loc, FRESH_IN_MEMORY);
            }
        }
    }

    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        let Some(last) = e.path.segments.last() else { return };
        // Only a SQL local or a SCREAMING constant makes an event: most paths are neither.
        let sql_local = !self.sql_locals.is_empty() && e.path.get_ident().is_some();
        if !sql_local && !ident_is_screaming(&last.ident) {
            return;
        }
        let loc = self.lowerer.span_loc(last.ident.span());
        if let Some(ident) = e.path.get_ident()
            && self.sql_local_use(&ident.to_string(), loc)
        {
            return;
        }
        if ident_is_screaming(&last.ident) {
            // `<Label as Table>::INSERT`: the type's constant (the trait named).
            let qualified = e.qself.as_ref().and_then(|q| crate::facts::names::type_path(&q.ty));
            let path = match qualified {
                Some(ty) => std::iter::once(crate::facts::defs::QUALIFIED_SELF.to_string())
                    .chain(ty)
                    .chain(std::iter::once(last.ident.to_string()))
                    .map(String::into_boxed_str)
                    .collect(),
                None => e.path.segments.iter().map(|s| s.ident.to_string().into_boxed_str()).collect(),
            };
            self.push_event(EventKind::ConstUse { path }, loc);
        }
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        // `for rule in [&only_rule]`: one item, one run — not a repeat.
        if iterates_one_item(&e.expr) {
            let saved = self.locals.len();
            self.bind_held(&e.pat, &e.expr, true);
            self.visit_pat(&e.pat);
            self.visit_block(&e.body);
            self.locals.truncate(saved);
            return;
        }
        let header = self.lowerer.loc(e.for_token.span, e.in_token.span);
        let saved = self.locals.len();
        // `for job in &jobs` with `jobs: Vec<CleanupJob>`: each `job` is a `CleanupJob`.
        self.bind_held(&e.pat, &e.expr, true);
        let hoisted = (self.filtered_by_existing(&e.expr))
            .or_else(|| self.iterates_filtered_local(&e.expr))
            .or_else(|| self.loop_cursor(&e.expr, &e.body))
            .or_else(|| state_guards::drained(&e.expr).map(|at| self.lowerer.span_loc(at)));
        let mut items = Vec::new();
        hoisted::bound_names(&e.pat, &mut items);
        let id = self.stack.last().map(|f| f.facts.loops.len() as u32);
        if let Some(id) = id
            && per_iteration::distinct_locals(&e.expr)
        {
            self.distinct_item_loops.push(id);
        }
        if let (Some(id), syn::Expr::Range(_)) = (id, strip(&e.expr))
            && let Some(f) = self.stack.last_mut()
        {
            f.counted_loops.push(id);
        }
        let gate = self.param_held(&e.expr);
        let from = self.event_count();
        self.with_loop(header, "for", |s| {
            if let Some(at) = hoisted {
                s.push_hoisted_preflight(at);
            }
            let saved = s.loop_items.len();
            if let Some(l) = s.stack.last().and_then(FnBuilder::innermost) {
                s.loop_items.extend(items.iter().map(|item| (item.clone(), l as usize)));
            }
            s.visit_pat(&e.pat);
            s.visit_block(&e.body);
            s.loop_items.truncate(saved);
        });
        self.push_param_gate(gate, from);
        self.locals.truncate(saved);
        // `for name in existing { wanted.remove(&name); }`: what is left in `wanted` is
        // what the table lacks (an anti-join in memory), so a loop over it is filtered.
        if self.mentions_existing(&e.expr) {
            for set in hoisted::removed_from(&e.body) {
                self.filtered_locals.push((set, header));
            }
        }
        // (A loop that deletes each item it works on consumes its source; one that hands
        // each item of rows just read to a delete does too.)
        let consumed = id.is_some_and(|id| {
            self.consuming_loops.contains(&id)
                || (self.deleting_loops.contains(&id)
                    && (self.mentions_existing(&e.expr)
                        || hoisted::mentions(&e.expr, &self.fetched)
                        || hoisted::reads_rows_now(&e.expr)))
        });
        if let Some(id) = id
            && consumed
            && let Some(f) = self.stack.last_mut()
        {
            f.facts.dissolve_loop(id);
        }
    }

    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        self.conflict_updates(&e.cond, &e.then_branch);
        self.visit_if_with_state_guard(e);
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        let header = self.lowerer.span_loc(e.while_token.span);
        // `while inserted == 0 { …; inserted = INSERT ….execute(..)?; }`: the loop goes
        // round again only when the INSERT added nothing (a fresh random name each
        // time), so the count's assignment does not repeat it.
        let count = state_guards::zero_count_tested(&e.cond);
        let saved = std::mem::replace(&mut self.until_inserted, count);
        self.with_loop(header, "while", |s| {
            s.visit_expr(&e.cond);
            s.visit_block(&e.body);
        });
        self.until_inserted = saved;
    }

    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        let assigns_count = matches!((strip(&a.left), &self.until_inserted), (syn::Expr::Path(p), Some(n)) if p.path.is_ident(n));
        if !assigns_count || !self.in_plain_loop() {
            return syn::visit::visit_expr_assign(self, a);
        }
        self.visit_expr(&a.left);
        let l = self.stack.last_mut().and_then(|f| f.open_loops.pop());
        self.visit_expr(&a.right);
        if let (Some(l), Some(f)) = (l, self.stack.last_mut()) {
            f.open_loops.push(l);
        }
    }

    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        let header = self.lowerer.span_loc(e.loop_token.span);
        self.with_loop(header, "loop", |s| s.visit_block(&e.body));
    }

    fn visit_expr_await(&mut self, e: &'ast syn::ExprAwait) {
        self.awaiting = matches!(strip(&e.base), syn::Expr::Call(_) | syn::Expr::MethodCall(_));
        self.visit_expr(&e.base);
        self.awaiting = false;
    }

    fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
        if let Some((at, claim)) = self.tried_call(&t.expr) {
            if claim {
                self.tried_claims.insert(at);
            }
            if let Some(f) = self.stack.last_mut() {
                f.facts.tried_calls.push(at);
            }
        }
        syn::visit::visit_expr_try(self, t);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        let awaited = std::mem::take(&mut self.awaiting);
        let from = self.event_count();
        if let syn::Expr::Path(p) = &*c.func
            && let Some(last) = p.path.segments.last()
        {
            let name = last.ident.to_string();
            let loc = self.lowerer.span_loc(last.ident.span());
            self.note_literal_args(loc.start, c.args.iter());
            if let Some(table) = self.orm_delete(&p.path, c.args.first()) {
                self.push_delete(loc, table);
            }
            // A local closure or function value: not an item.
            let local = p.path.segments.len() == 1 && p.qself.is_none() && self.is_local(&name);
            let kind = if (self.params.preflight_helpers.contains(&name) && !self.unread_preflights.contains(&loc.start))
                || self.tried_claims.contains(&loc.start)
            {
                EventKind::Preflight { name: name.into() }
            } else if local {
                self.local_called(&name);
                for arg in &c.args {
                    self.visit_expr(arg);
                }
                self.run_local_closure(&name, loc);
                return;
            } else {
                // `<Type as Trait>::f`: the type's `f` (the trait named).
                let segments: Vec<String> = match p.qself.as_ref().and_then(|q| crate::facts::names::type_path(&q.ty)) {
                    Some(ty) => std::iter::once(crate::facts::defs::QUALIFIED_SELF.to_string()).chain(ty).collect(),
                    None => {
                        // `::store::f` (a crate, never a module): an empty first segment.
                        let before = p.path.segments.len() - 1;
                        let root = p.path.leading_colon.map(|_| String::new());
                        root.into_iter().chain(p.path.segments.iter().take(before).map(|s| s.ident.to_string())).collect()
                    }
                };
                // The standard library's functions are none of the workspace's.
                if matches!(segments.first().map(String::as_str), Some("std" | "core" | "alloc")) {
                    for arg in &c.args {
                        self.visit_expr(arg);
                    }
                    return;
                }
                let qualifier = (!segments.is_empty()).then(|| segments.join("::").into_boxed_str());
                let empty_args = empty_args(c.args.iter());
                let held_first = c.args.first().is_some_and(held_by_self);
                EventKind::Call {
                    name: name.into(),
                    qualifier,
                    receiver: None,
                    args: c.args.len() as u32,
                    awaited,
                    empty_args,
                    held_first,
                }
            };
            // Arguments are evaluated before the call runs; a retry wrapper runs its
            // closure again.
            let path: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if let Some(fresh) = fresh_store_call(&path) {
                self.push_fresh_store(loc, fresh);
            }
            self.note_item_deleted(path.last().map_or("", String::as_str), c.args.iter());
            if self.is_retry_wrapper(&path) {
                self.visit_retried_args(c.args.iter(), &path.join("::"), loc);
                self.push_event(kind, loc);
            } else {
                let once = is_lazy_constructor(&path);
                self.once_init += u32::from(once);
                let closures = self.visit_call_args(c.args.iter(), loc);
                self.once_init -= u32::from(once);
                self.push_call_event(kind, loc, closures);
            }
            self.per_iteration_call(c.args.first(), false, from);
            return;
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let awaited = std::mem::take(&mut self.awaiting);
        let from = self.event_count();
        self.orm_insert(m);
        // A soft delete (`update_many().col_expr(Column::DeletedAt, ..)`) replaces rows
        // like a DELETE.
        if let Some(table) = self.orm_soft_delete(m) {
            self.push_delete(self.lowerer.span_loc(m.method.span()), table);
        }
        if let Some(table) = orm::sea_orm_created_table(m) {
            self.push_fresh_table(self.lowerer.span_loc(m.method.span()), table);
        }
        let method = m.method.to_string();
        let loc = self.lowerer.span_loc(m.method.span());
        self.note_literal_args(loc.start, m.args.iter());
        if let Some(fresh) = fresh_store_call(std::slice::from_ref(&method)) {
            self.push_fresh_store(loc, fresh);
        }
        // This call is in the receiver chain of a call that runs a statement
        // (`conn.prepare(sql)?.bind(n).execute()`): a statement prepared in it runs here.
        let executed_here = std::mem::take(&mut self.in_executed_chain);
        let prepares = PREPARE_METHODS.contains(&method.as_str());
        self.in_executed_chain = sql_locals::EXECUTE_METHODS.contains(&method.as_str()) || (executed_here && !prepares);
        // (`stmt.raw_bind_parameter(1, id)?` on a prepared statement binds, it does not run it.)
        let inspects_local = sql_locals::INSPECT_METHODS.contains(&method.as_str())
            && matches!(strip(&m.receiver), syn::Expr::Path(p) if p.path.get_ident().is_some());
        if !inspects_local {
            self.visit_expr(&m.receiver);
        }
        self.in_executed_chain = false;
        // A prepared statement runs where it is executed, not where it is prepared.
        let once = ONCE_INIT_METHODS.contains(&method.as_str());
        self.once_init += u32::from(once);
        let closures = if !prepares || executed_here { self.visit_method_args(m, &method, loc) } else { Vec::new() };
        self.once_init -= u32::from(once);
        if method == "push" || method == "push_str" {
            self.builder_push(m);
        }
        let helper = self.params.preflight_helpers.contains(&method);
        let membership = !helper && self.membership_preflight(m);
        let claim = self.tried_claims.contains(&loc.start);
        let kind = if (helper && !self.unread_preflights.contains(&loc.start)) || membership || claim {
            EventKind::Preflight { name: method.into() }
        } else {
            let receiver = Some(self.receiver(&m.receiver));
            let args = m.args.len() as u32;
            let empty_args = empty_args(m.args.iter());
            EventKind::Call { name: method.into(), qualifier: None, receiver, args, awaited, empty_args, held_first: false }
        };
        let on_item = self.on_loop_item(&m.receiver);
        if on_item
            && m.method == "delete"
            && let Some(l) = self.stack.last().and_then(FnBuilder::innermost)
        {
            self.consuming_loops.push(l);
        }
        self.note_item_deleted(&m.method.to_string(), m.args.iter());
        let before = self.stack.last().map_or(0, |f| f.facts.events.len());
        self.push_call_event(kind, loc, closures);
        if membership {
            self.mark_branch_check();
        }
        if let Some(f) = self.stack.last_mut()
            && on_item
            && f.facts.events.len() > before
        {
            f.facts.item_calls.push(before as u32);
        }
        self.per_iteration_call(Some(&m.receiver), true, from);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_macro_call(mac);
    }
}

/// The arguments written empty (`None`, `&[]`, `[]`, `vec![]`, `Vec::new()`), one bit
/// per position (the first 32).
/// Whether an expression is a value `self` holds: `self.inner`, `&self.db`,
/// `self.inner().as_ref()`, `&*self.store`.
fn held_by_self(expr: &syn::Expr) -> bool {
    match strip(expr) {
        syn::Expr::Reference(r) => held_by_self(&r.expr),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => held_by_self(&u.expr),
        syn::Expr::Field(f) => matches!(strip(&f.base), syn::Expr::Path(p) if p.path.is_ident("self")) || held_by_self(&f.base),
        syn::Expr::MethodCall(m) if m.args.is_empty() => {
            matches!(strip(&m.receiver), syn::Expr::Path(p) if p.path.is_ident("self")) || held_by_self(&m.receiver)
        }
        _ => false,
    }
}

fn empty_args<'e>(args: impl Iterator<Item = &'e syn::Expr>) -> u32 {
    fn empty(e: &syn::Expr) -> bool {
        match strip(e) {
            syn::Expr::Reference(r) => empty(&r.expr),
            syn::Expr::Array(a) => a.elems.is_empty(),
            syn::Expr::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "None"),
            syn::Expr::Macro(m) => m.mac.path.is_ident("vec") && m.mac.tokens.is_empty(),
            syn::Expr::Call(c) => {
                c.args.is_empty()
                    && matches!(&*c.func, syn::Expr::Path(p) if {
                        let names: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                        names.len() == 2 && names[0] == "Vec" && names[1] == "new"
                    })
            }
            _ => false,
        }
    }
    args.take(32).enumerate().filter(|(_, a)| empty(a)).fold(0, |mask, (k, _)| mask | (1 << k))
}
