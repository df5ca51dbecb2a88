//! Crate-wide analysis shared by `non-idempotent-insert` and `insert-allowlist`:
//! resolves constants holding SQL, decides which inserts are protected, and which
//! functions reach an unprotected insert through calls (a fixpoint over the call
//! graph by name, so recursion is handled); and the [`Finding`]s of
//! `non-idempotent-insert`, one per location.

use super::InsertParams;
use super::extract::{
    CLOSURE_ARG, Event, EventKind, FRESH_IN_MEMORY, FRESH_TEMP_DIR, FnInsertFacts, InsertEvent, Preflight, Receiver,
    SqlInsert, guarded_inserts,
};
use std::borrow::Cow;
use crate::facts::defs::{Context, DefMap, Resolved, TypeKey};
use crate::rules::CheckCx;
use crate::facts::sql;
use crate::facts::value::Value;
use crate::input::source::Loc;
use rustc_hash::{FxHashMap as HashMap, FxHashSet};
use std::collections::BTreeMap;

/// An INSERT into a guarded table, as executed in one function.
#[derive(Clone, Debug)]
pub struct InsertOcc {
    pub sql: SqlInsert,
    /// Where it runs (the literal, or the use of a local or constant).
    pub loc: Loc,
    /// Where the SQL was written, when elsewhere (a local or constant).
    pub via: Option<(Loc, String)>,
    /// The innermost loop it runs in (see [`FnInsertFacts::within`]).
    pub innermost: Option<u32>,
    /// Position among the function's events.
    pub order: usize,
}

/// How an unprotected insert (of one table) is reached from a function: the insert, and the
/// function called next on the way (`None` when the function holds the insert). The
/// chain is followed only for what is reported ([`Analysis::chain`]): copying it into
/// every function's witness would be quadratic in the depth of a call chain.
#[derive(Clone, Debug)]
pub struct Witness {
    pub insert: Loc,
    pub table: String,
    pub next: Option<usize>,
    /// The function that holds the INSERT, and how many calls away it is.
    pub holder: usize,
    pub depth: u32,
}

/// The most functions a message lists on the way to an INSERT (the first ones, then
/// the one holding it): a chain thousands of calls deep is shown in a line, and
/// listing it whole for every call on it would be quadratic.
const SHOWN_CHAIN: usize = 4;

/// How many calls deep a store a function opens fresh is seen from its callers.
const FRESH_STORE_DEPTH: usize = 2;

/// How many calls deep what a function deletes is seen from its callers.
const DELETE_DEPTH: usize = 2;

/// How many callers up a function's entry guards are looked for ([`Analysis::entry_guarded`]).
const ENTRY_DEPTH: u32 = 2;

/// An INSERT that runs repeatedly without a guard, as `non-idempotent-insert` reports it.
pub enum Finding<'s> {
    /// An INSERT the function executes itself, inside a loop.
    Direct { f: &'s FnInsertFacts, occ: &'s InsertOcc },
    /// A call that reaches an unguarded INSERT, in a loop or through recursion.
    Call(CallFinding<'s>),
}

/// A call (event `order` of `f`) that reaches an unguarded INSERT of `callee` or
/// beyond (`witness`).
#[derive(Clone)]
pub struct CallFinding<'s> {
    pub f: &'s FnInsertFacts,
    pub event: &'s Event,
    pub order: usize,
    pub callee: &'s FnInsertFacts,
    pub witness: &'s Witness,
    /// The functions the callee's INSERT is reached through (name, name location),
    /// the callee's own callee first; empty when the callee holds the INSERT.
    pub through: Vec<(String, Loc)>,
    /// Functions of the chain left out of `through` (before its last).
    pub omitted: usize,
    /// The callee calls back into `f` (or is `f`).
    pub recursive: bool,
}

impl Finding<'_> {
    /// Where it is reported: the INSERT, or the call (the INSERT of a recursive walk
    /// that holds it, see [`CallFinding::walks_own_insert`]).
    pub fn loc(&self) -> Loc {
        match self {
            Finding::Direct { occ, .. } => occ.loc,
            Finding::Call(call) if call.walks_own_insert() => call.witness.insert,
            Finding::Call(call) => call.event.loc,
        }
    }

    /// The function it is in, the table it names and the loop that repeats it.
    fn scope(&self) -> (&FnInsertFacts, &str, Option<u32>) {
        match self {
            Finding::Direct { f, occ } => (f, &occ.sql.table, occ.innermost),
            Finding::Call(call) => (call.f, &call.witness.table, call.event.innermost),
        }
    }
}

impl CallFinding<'_> {
    /// A recursive walk whose own body holds the INSERT (`fn seed(node) { INSERT …;
    /// for c in children { seed(c) } }`): the INSERT is what runs once per node, and is
    /// reported there.
    pub fn walks_own_insert(&self) -> bool {
        self.recursive && std::ptr::eq(self.f, self.callee) && self.through.is_empty()
    }
}

/// A call event (its position among the function's events) and the crate
/// functions it may call.
pub struct Edge {
    pub order: usize,
    pub callees: Vec<usize>,
    /// The call was resolved by its path or its receiver's type, not matched by name:
    /// only such calls make a recursion cycle (a method of unknown receiver matched
    /// to a namesake of another type is not the caller calling itself).
    pub resolved: bool,
}

/// The fewest types implementing one trait method for a call of it to be dispatched
/// among unrelated implementations ([`Analysis::polymorphic`]): two are a pair of
/// backends as often as not.
const POLYMORPHIC_TYPES: usize = 3;

/// The most functions a recursion outside loops may go through and be reported: a
/// walk of a tree or a list recurses in one function, or in two that call each
/// other (`import_subtree` ↔ `import_level`). Longer cycles are how an event
/// dispatcher re-enters itself (a handler that pumps the events of a nested
/// exchange, a dialog that opens another) and how calls resolved by name or through
/// a trait close cycles the program never runs; on the labelled real code every one
/// reported was false.
const MAX_RECURSION_CYCLE: usize = 2;

pub struct Analysis<'a> {
    /// The functions of the crates checked; a function passing closures to calls is
    /// copied with those closures settled ([`Analysis::settle_closure_args`]).
    pub fns: Vec<Cow<'a, FnInsertFacts>>,
    /// Per function (same index as `fns`): the guarded inserts it executes itself.
    pub inserts: Vec<Vec<InsertOcc>>,
    /// Per function: the unprotected inserts it reaches, itself or through calls, one
    /// per table (in the order they were found).
    pub reaches: Vec<Vec<Witness>>,
    /// Per function: its call events that may reach crate functions, as
    /// (event position, candidate callees). Computed on first use: most functions
    /// of a crate never need theirs.
    edges: Vec<std::cell::OnceCell<Vec<Edge>>>,
    /// The recursion cycles among the functions, found as they are asked for.
    cycles: super::cycles::Cycles,
    by_name: HashMap<&'a str, Vec<usize>>,
    /// The functions by the location of their name.
    by_loc: HashMap<Loc, usize>,
    /// Per function: its module and `Self`, where its calls resolve.
    contexts: Vec<Context>,
    defs: &'a DefMap<'a>,
    index: &'a crate::facts::index::CrateIndex<'a>,
    /// The names of the functions that reach an unprotected insert.
    reaching_names: FxHashSet<&'a str>,
    ambiguous: FxHashSet<String>,
    /// Call events by the name they call, as (function, position); built on first use.
    calls_by_name: std::cell::OnceCell<HashMap<String, Vec<(usize, usize)>>>,
    /// Per function: it is test code ([`CheckCx::in_test_code`]).
    in_test: Vec<bool>,
}

impl<'a> Analysis<'a> {
    pub fn new(ctx: &'a CheckCx<'a>, params: &InsertParams) -> Self {
        let fns: Vec<&FnInsertFacts> = ctx.facts::<super::NonIdempotentInsert>().flat_map(|file| &file.fns).collect();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::default();
        for (i, f) in fns.iter().enumerate() {
            by_name.entry(f.name.as_str()).or_default().push(i);
        }
        let ambiguous = params.ambiguous_methods.iter().cloned().collect();
        let edges = fns.iter().map(|_| std::cell::OnceCell::new()).collect();
        let cycles = super::cycles::Cycles::new(fns.len());
        let by_loc = fns.iter().enumerate().map(|(i, f)| (f.name_loc, i)).collect();
        // (Whether a file is test code as a whole is looked up once per file.)
        let mut test_files: HashMap<crate::input::source::FileId, bool> = HashMap::default();
        let in_test = fns
            .iter()
            .map(|f| {
                let file = f.name_loc.file;
                let whole = *test_files.entry(file).or_insert_with(|| ctx.in_test_code(&Loc::new(file, 0, 0)));
                let loc = f.name_loc;
                whole
                    || ctx.files.get(file).is_some_and(|facts| {
                        facts.test_items.iter().any(|&(start, end)| start <= loc.start && loc.end <= end)
                    })
            })
            .collect();
        let contexts = fns
            .iter()
            .map(|f| ctx.defs.fn_context(f.name_loc).unwrap_or_else(|| ctx.defs.context(f.name_loc)))
            .collect();
        let mut analysis = Analysis {
            by_loc,
            contexts,
            defs: &ctx.defs,
            index: &ctx.index,
            cycles,
            fns: fns.into_iter().map(Cow::Borrowed).collect(),
            inserts: Vec::new(),
            reaches: Vec::new(),
            edges,
            by_name,
            reaching_names: FxHashSet::default(),
            ambiguous,
            calls_by_name: std::cell::OnceCell::new(),
            in_test,
        };
        analysis.fixtures_per_iteration();
        analysis.settle_closure_args();
        analysis.calls_that_open_fresh_stores();
        let entity_tables = EntityTables::new(ctx);
        analysis.entity_module_tables(&entity_tables);
        analysis.calls_that_delete();
        analysis.calls_that_claim();
        // Constants that compile a `.sql` file in, by where they are named.
        let included: HashMap<Loc, &str> = (ctx.facts::<super::NonIdempotentInsert>())
            .flat_map(|file| &file.included_consts)
            .map(|(at, text)| (*at, &**text))
            .collect();
        analysis.inserts = analysis.fns.iter().map(|f| resolve_inserts(f, ctx, params, &entity_tables, &included)).collect();
        analysis.tables_passed_in(ctx, params);
        for i in 0..analysis.fns.len() {
            let found = analysis.active_model_fields(i, params, &entity_tables);
            if !found.is_empty() {
                analysis.inserts[i].extend(found);
                analysis.inserts[i].sort_by_key(|o| o.order);
            }
        }
        // Temporary tables (created so anywhere in the crate) hold rows of one run.
        let temporary: FxHashSet<String> = (ctx.facts::<super::NonIdempotentInsert>())
            .flat_map(|file| &file.temp_tables)
            .map(|t| t.to_ascii_lowercase())
            .collect();
        if !temporary.is_empty() {
            for occs in &mut analysis.inserts {
                occs.retain(|o| !temporary.contains(&o.sql.table.to_ascii_lowercase()));
            }
        }
        // Tables whose key resolves conflicts (SQLite `ON CONFLICT REPLACE` in the
        // CREATE TABLE): a plain INSERT into one, from the same program, is an upsert.
        let upserting: Vec<&(Box<str>, Loc)> =
            (ctx.facts::<super::NonIdempotentInsert>()).flat_map(|file| &file.upsert_tables).collect();
        if !upserting.is_empty() {
            for occ in analysis.inserts.iter_mut().flatten() {
                occ.sql.on_conflict |= upserting
                    .iter()
                    .any(|(table, at)| table.eq_ignore_ascii_case(&occ.sql.table) && ctx.defs.related(*at, occ.loc));
            }
        }

        analysis.reaches = analysis.fixpoint();
        let reaching_names = (analysis.by_name.iter())
            .filter(|(_, fns)| fns.iter().any(|&i| !analysis.reaches[i].is_empty()))
            .map(|(name, _)| *name)
            .collect();
        analysis.reaching_names = reaching_names;
        analysis
    }

    /// In test code, a call on a fixture its loop's iteration builds for itself
    /// (`for case in cases { let db = test_db().await; create(&db, ..) }`) writes a
    /// store of its own each time: that loop does not repeat it.
    fn fixtures_per_iteration(&mut self) {
        for i in 0..self.fns.len() {
            if !self.in_test[i] || self.fns[i].fixture_calls.is_empty() {
                continue;
            }
            let f = self.fns[i].to_mut();
            for (l, from, to) in std::mem::take(&mut f.fixture_calls) {
                let parent = f.loops[l as usize].parent;
                for e in &mut f.events[from as usize..to as usize] {
                    if e.innermost == Some(l) {
                        e.innermost = parent;
                    }
                }
            }
        }
    }

    /// A store opened fresh ([`FRESH_IN_MEMORY`]; in test code also a temporary
    /// directory, [`FRESH_TEMP_DIR`], where a test's database lives) guards what the
    /// function inserts after it in the same iteration. A function that opens one on every run (outside
    /// its loops and branches) opens it for its callers too, up to
    /// [`FRESH_STORE_DEPTH`] calls deep: `TestContext::new_internal()` makes the
    /// directory, and the builder that calls it fills the new database.
    fn calls_that_open_fresh_stores(&mut self) {
        for i in 0..self.fns.len() {
            if self.in_test[i] {
                continue;
            }
            let temp_dir = |f: &FnInsertFacts, p: &Preflight| {
                matches!(&f.events[p.at].kind, EventKind::Preflight { name } if &**name == FRESH_TEMP_DIR)
            };
            if self.fns[i].preflights.iter().any(|p| temp_dir(&self.fns[i], p)) {
                let f = self.fns[i].to_mut();
                let kept: Vec<Preflight> = f.preflights.iter().filter(|p| !temp_dir(f, p)).cloned().collect();
                f.preflights = kept;
            }
        }
        let unbranched = |f: &FnInsertFacts, at: usize| {
            f.events[at].innermost.is_none() && !f.branches.iter().any(|&(from, to)| from as usize <= at && at < to as usize)
        };
        let opens = |f: &FnInsertFacts| {
            f.preflights.iter().any(|p| {
                matches!(&f.events[p.at].kind, EventKind::Preflight { name } if &**name == FRESH_IN_MEMORY || &**name == FRESH_TEMP_DIR)
                    && unbranched(f, p.at)
            })
        };
        let mut openers: Vec<bool> = self.fns.iter().map(|f| opens(f)).collect();
        for _ in 0..FRESH_STORE_DEPTH {
            if !openers.contains(&true) {
                return;
            }
            let mut opening: Vec<(usize, usize)> = Vec::new();
            for (i, f) in self.fns.iter().enumerate() {
                for (order, e) in f.events.iter().enumerate() {
                    if !matches!(e.kind, EventKind::Call { .. }) {
                        continue;
                    }
                    let callees = self.callees(i, e);
                    if !callees.is_empty() && callees.iter().all(|&g| g != i && openers[g]) {
                        opening.push((i, order));
                    }
                }
            }
            let mut grown = openers.clone();
            for (i, order) in opening {
                let f = self.fns[i].to_mut();
                if f.preflights.iter().any(|p| p.at == order) {
                    continue;
                }
                let at = f.preflights.partition_point(|p| p.at <= order);
                f.preflights.insert(at, Preflight::at(order));
                grown[i] |= unbranched(f, order);
            }
            openers = grown;
        }
    }

    /// Closures passed to calls ([`CLOSURE_ARG`] contexts): one that the function
    /// called calls inside a loop of its own (a project's retry function) repeats, and
    /// is shown as retried by it; any other runs where it is passed, so its context is
    /// dropped (what it holds belongs to the surrounding code).
    fn settle_closure_args(&mut self) {
        for i in 0..self.fns.len() {
            if !self.fns[i].loops.iter().any(|l| l.kind == CLOSURE_ARG) {
                continue;
            }
            let settled: Vec<(usize, Option<(String, Loc)>)> = (self.fns[i].loops.iter().enumerate())
                .filter(|(_, l)| l.kind == CLOSURE_ARG)
                .map(|(id, l)| (id, l.arg_of.and_then(|(order, k)| self.retried_by(i, order as usize, k))))
                .collect();
            let f = self.fns[i].to_mut();
            for (id, retried_by) in settled {
                match retried_by {
                    Some((name, at)) => {
                        f.loops[id].kind = format!("retry {name}");
                        f.loops[id].repeated_at = Some(at);
                    }
                    None => f.dissolve_loop(id as u32),
                }
            }
        }
    }

    /// sea-orm inserts on a field declared as an entity's `ActiveModel`
    /// (`SuccessfulDispatch(attempt): SuccessfulDispatch` with `struct
    /// SuccessfulDispatch(messageattempt::ActiveModel)`, then `attempt.insert(db)`):
    /// the type is known from the struct's declaration, crate-wide.
    fn active_model_fields(&self, i: usize, params: &InsertParams, entities: &EntityTables) -> Vec<InsertOcc> {
        let f = &self.fns[i];
        let mut out = Vec::new();
        for (order, e) in f.events.iter().enumerate() {
            let EventKind::Call { name, receiver: Some(Receiver::Field(field)), args: 1, .. } = &e.kind else { continue };
            if &**name != "insert" {
                continue;
            }
            let (base, member) = &**field;
            let Some(base_ty) = self.receiver_type(i, &self.contexts[i], base) else { continue };
            let Some(path) = self.defs.field_path(&base_ty, member) else { continue };
            if path.last().map(String::as_str) != Some("ActiveModel") {
                continue;
            }
            let path: Vec<Box<str>> = path.iter().map(|s| s.clone().into_boxed_str()).collect();
            let Some(table) = entities.table(&path) else { continue };
            if params.tables.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(&table)) {
                let sql = SqlInsert { table: table.to_string(), on_conflict: false, from_select: false, selects_from: None };
                out.push(InsertOcc { sql, loc: e.loc, via: None, innermost: e.innermost, order });
            }
        }
        out
    }

    /// A sea-orm entity's `delete_many()` and a migration's `create_table_from_entity`
    /// name the entity's module (`public_key_credential`): the table is the one its
    /// `table_name` declares. (And a diesel delete names the table's Rust name: the
    /// table is its `sql_name`.)
    fn entity_module_tables(&mut self, entities: &EntityTables) {
        for i in 0..self.fns.len() {
            let renamed = |t: &str| entities.renamed(t);
            let f = &self.fns[i];
            let any = f.deletes.iter().any(|t| renamed(t).is_some())
                || f.preflights.iter().any(|p| p.table.as_deref().and_then(renamed).is_some());
            if !any {
                continue;
            }
            let f = self.fns[i].to_mut();
            for t in &mut f.deletes {
                if let Some(table) = renamed(t) {
                    *t = table.into_boxed_str();
                }
            }
            for p in &mut f.preflights {
                if let Some(table) = p.table.as_deref().and_then(renamed) {
                    p.table = Some(table.into_boxed_str());
                }
            }
        }
    }

    /// A call whose failure ends the function, of a function that takes a claim on
    /// every run before anything else can fail it (`self.initialize_melt(id).await?`,
    /// whose body begins `reserve_melt_quote(id, op).await?`), is a claim itself: a
    /// second run for the same item fails there, so the INSERTs after it run once
    /// per claim. One call deep.
    /// A call that passes a guarded table's name to a function that assembles its
    /// INSERT's table from that parameter (`insert_row(client, "workspaces", ..)` of
    /// `format!("INSERT INTO {table} …")`) inserts into that table where the call is,
    /// the helper's statement shown as where it is written. (With `tables = ["*"]`
    /// the helper's own `{table}` INSERT is reached through the call already.)
    fn tables_passed_in(&mut self, ctx: &CheckCx, params: &InsertParams) {
        if params.tables.iter().any(|t| t == "*") || !self.fns.iter().any(|f| !f.table_params.is_empty()) {
            return;
        }
        let mut found: Vec<(usize, InsertOcc)> = Vec::new();
        for (i, f) in self.fns.iter().enumerate() {
            for (at, k, text) in &f.literal_args {
                if !params.tables.iter().any(|t| t.eq_ignore_ascii_case(text)) {
                    continue;
                }
                let Some((order, e)) =
                    f.events.iter().enumerate().find(|(_, e)| e.loc.start == *at && matches!(e.kind, EventKind::Call { .. }))
                else {
                    continue;
                };
                for g in self.callees(i, e) {
                    let helper = &self.fns[g];
                    let Some((_, name)) = helper.table_params.iter().find(|(p, _)| p == k) else { continue };
                    for (written, template) in helper.events.iter().filter_map(|h| match &h.kind {
                        EventKind::Assembled { value } => Some((h.loc, compile_time_text(value, ctx)?)),
                        _ => None,
                    }) {
                        let hole = format!("{}{name}", super::extract::RUN_TIME_TABLE);
                        for insert in crate::facts::sql::inserts(&template).into_iter().filter(|x| x.table == hole) {
                            let sql = SqlInsert {
                                table: text.to_string(),
                                on_conflict: insert.on_conflict,
                                from_select: insert.from_select,
                                selects_from: insert.selects_from.map(String::into_boxed_str),
                            };
                            let via = format!("the INSERT INTO `{{{name}}}` of `{}`, given `\"{text}\"`", helper.name);
                            found.push((i, InsertOcc { sql, loc: e.loc, via: Some((written, via)), innermost: e.innermost, order }));
                        }
                    }
                }
            }
        }
        for (i, occ) in found {
            self.inserts[i].push(occ);
            self.inserts[i].sort_by_key(|o| o.order);
        }
    }

    fn calls_that_claim(&mut self) {
        let claims = |f: &FnInsertFacts| {
            f.events.iter().enumerate().any(|(at, e)| {
                matches!(&e.kind, EventKind::Preflight { name } if super::extract::is_claim(name))
                    && e.innermost.is_none()
                    && !f.branches.iter().any(|&(from, to)| from as usize <= at && at < to as usize)
            })
        };
        let claimers: Vec<bool> = self.fns.iter().map(|f| claims(f)).collect();
        if !claimers.contains(&true) {
            return;
        }
        let mut claiming: Vec<(usize, usize)> = Vec::new();
        for (i, f) in self.fns.iter().enumerate() {
            for (order, e) in f.events.iter().enumerate() {
                if !matches!(e.kind, EventKind::Call { .. }) || !f.tried_calls.contains(&e.loc.start) {
                    continue;
                }
                let callees = self.callees(i, e);
                if !callees.is_empty() && callees.iter().all(|&g| g != i && claimers[g]) {
                    claiming.push((i, order));
                }
            }
        }
        for (i, order) in claiming {
            let f = self.fns[i].to_mut();
            let at = f.preflights.partition_point(|p| p.at <= order);
            f.preflights.insert(at, Preflight::at(order));
        }
    }

    /// A call to a function that runs a `DELETE` (`delete_traffic_pattern(..)`
    /// before `add_traffic_pattern(..)`) replaces rows: like a `DELETE` written in
    /// place, it guards the INSERTs after it in the same iteration. What a function
    /// deletes includes what the functions it calls outside branches delete outside
    /// branches, up to [`DELETE_DEPTH`] calls deep (`upgrade` →
    /// `truncate_target_database` → `delete_all_rows`).
    fn calls_that_delete(&mut self) {
        // What each function deletes on every run: its DELETEs outside branches, and
        // (grown round by round) what the functions it calls outside branches delete so.
        let unbranched = |f: &FnInsertFacts, at: usize| !f.branches.iter().any(|&(from, to)| from as usize <= at && at < to as usize);
        let mut always: Vec<Vec<Box<str>>> = (self.fns.iter())
            .map(|f| {
                let mut tables: Vec<Box<str>> = Vec::new();
                for p in f.preflights.iter().filter(|p| p.replaces && unbranched(f, p.at)) {
                    if let Some(t) = &p.table
                        && f.deletes.contains(t)
                        && !tables.contains(t)
                    {
                        tables.push(t.clone());
                    }
                }
                tables
            })
            .collect();
        let mut calls: Vec<(usize, usize, usize)> = Vec::new();
        for round in 0..DELETE_DEPTH {
            let names: FxHashSet<&str> = (self.fns.iter().enumerate())
                .filter(|&(i, f)| !f.deletes.is_empty() || !always[i].is_empty())
                .map(|(_, f)| f.name.as_str())
                .collect();
            if names.is_empty() {
                return;
            }
            calls.clear();
            for (i, f) in self.fns.iter().enumerate() {
                for (order, e) in f.events.iter().enumerate() {
                    if matches!(&e.kind, EventKind::Call { name, .. } if names.contains(&**name)) {
                        calls.extend(self.callees(i, e).into_iter().filter(|&g| g != i).map(|g| (i, order, g)));
                    }
                }
            }
            if round + 1 == DELETE_DEPTH {
                break;
            }
            let mut grown = always.clone();
            for &(i, order, g) in &calls {
                if !unbranched(&self.fns[i], order) {
                    continue;
                }
                for t in &always[g] {
                    if !grown[i].iter().any(|d| d.eq_ignore_ascii_case(t)) {
                        grown[i].push(t.clone());
                    }
                }
            }
            always = grown;
        }
        // (A call that deletes the table on every run, made before a loop, empties it
        // for the whole loop, like a DELETE written there: `clear_env_vars(tx, id)`
        // then the set inserted again.)
        let mut deleting: Vec<Vec<(usize, Box<str>, bool)>> = vec![Vec::new(); self.fns.len()];
        for &(i, order, g) in &calls {
            for t in self.fns[g].deletes.iter().chain(&always[g]) {
                let every_run = always[g].iter().any(|a| a.eq_ignore_ascii_case(t));
                match deleting[i].iter_mut().find(|(o, d, _)| *o == order && d == t) {
                    Some(found) => found.2 |= every_run,
                    None => deleting[i].push((order, t.clone(), every_run)),
                }
            }
        }
        for (i, deleting) in deleting.into_iter().enumerate() {
            if deleting.is_empty() {
                continue;
            }
            let f = self.fns[i].to_mut();
            for (order, table, replaces) in deleting {
                let at = f.preflights.partition_point(|p| p.at <= order);
                f.preflights.insert(at, Preflight { table: Some(table), replaces, ..Preflight::at(order) });
            }
        }
    }

    /// The function (name, and its loop) that call `order` of `caller` reaches and that
    /// calls its argument `k` inside a loop.
    fn retried_by(&self, caller: usize, order: usize, k: u32) -> Option<(String, Loc)> {
        let event = self.fns[caller].events.get(order)?;
        let path_call = matches!(event.kind, EventKind::Call { receiver: None, .. });
        self.callees(caller, event).into_iter().find_map(|g| {
            let callee = &self.fns[g];
            // `Type::f(&x, a)` passes the receiver first.
            let param = if path_call && callee.has_self { k.checked_sub(1)? } else { k };
            let (_, at) = callee.repeats_params.iter().find(|(p, _)| *p == param)?;
            Some((callee.name.clone(), *at))
        })
    }

    /// The candidates of a method call of unknown receiver matched by name to the
    /// methods of several unrelated types or traits (`builder.insert(conn)` to every
    /// type's own `insert`; `repo.links().add(..)` to the `add` of every repository
    /// trait): it reaches a table only when each of them does, since syntax cannot
    /// tell which one runs. Implementations of one trait stay alternatives of one
    /// operation (a database backend per engine): any of them reaching is enough for
    /// that trait. `None` for any other call.
    fn matched_among_types(&self, i: usize, order: usize) -> Option<Vec<Vec<usize>>> {
        let edges = self.edges(i);
        let edge = &edges[edges.binary_search_by_key(&order, |e| e.order).ok()?];
        let method = matches!(self.fns[i].events[order].kind, EventKind::Call { receiver: Some(_), .. });
        if edge.resolved || !method {
            return None;
        }
        // One group per trait, and one per type for inherent methods.
        let mut groups: Vec<(Option<&str>, Option<&String>, Vec<usize>)> = Vec::new();
        for &c in &edge.callees {
            let f = &self.fns[c];
            let key = match self.defs.trait_name_of(f.name_loc) {
                Some(t) => (Some(t), None),
                None => (None, f.self_type.as_ref()),
            };
            match groups.iter_mut().find(|g| (g.0, g.1) == key) {
                Some(g) => g.2.push(c),
                None => groups.push((key.0, key.1, vec![c])),
            }
        }
        // A trait's method is called where the trait is in scope: when some of the
        // traits are, the others are not what runs (a `dyn Trait` needs no import, so
        // with none in scope every trait stays a candidate).
        let at = self.fns[i].events[order].loc;
        let in_scope = |g: &(Option<&str>, Option<&String>, Vec<usize>)| {
            g.0.is_none() || self.defs.trait_in_scope_at(at, self.fns[g.2[0]].name_loc) != Some(false)
        };
        let before = groups.len();
        if groups.iter().any(|g| g.0.is_some() && in_scope(g)) {
            groups.retain(in_scope);
        }
        (groups.len() > 1 || groups.len() < before).then(|| groups.into_iter().map(|g| g.2).collect())
    }

    /// The candidates of `Self::f()` / `self.f()` in a trait's default method, which
    /// resolve to every implementation's `f`: which one runs depends on the type the
    /// default method is called on (`User::from_id` runs `User::from_activity`), so
    /// the call reaches a table only when every implementation does.
    fn every_implementation(&self, i: usize, order: usize) -> Option<(&[usize], bool)> {
        let event = &self.fns[i].events[order];
        let on_self = match &event.kind {
            EventKind::Call { receiver: Some(Receiver::SelfValue), .. } => true,
            EventKind::Call { receiver: None, qualifier: Some(q), .. } => &**q == "Self",
            _ => false,
        };
        if !on_self || !self.defs.is_trait_default(self.fns[i].name_loc) {
            return None;
        }
        let edges = self.edges(i);
        let edge = &edges[edges.binary_search_by_key(&order, |e| e.order).ok()?];
        // (An implementation that runs no SQL and calls nothing is not among the
        // functions: then not every implementation reaches anything.)
        let implementations = match self.resolve_call(i, event) {
            Callees::Exactly(locs) => locs.iter().filter(|&&l| self.defs.has_body(l)).count(),
            Callees::ByName => edge.callees.len(),
        };
        (implementations > 1).then_some((&edge.callees[..], implementations == edge.callees.len()))
    }

    /// A call on the item of the only loop around it, dispatched to a trait's
    /// implementations (`for sink in &self.sinks { sink.send(event) }`): the items are
    /// trait objects, each iteration calls another implementation, so the loop repeats
    /// none of them.
    fn fans_out(&self, i: usize, order: usize) -> bool {
        let f = &self.fns[i];
        let Some(l) = f.events[order].innermost else { return false };
        if !f.item_calls.contains(&(order as u32)) || f.loops[l as usize].parent.is_some() {
            return false;
        }
        let edges = self.edges(i);
        let Ok(at) = edges.binary_search_by_key(&order, |e| e.order) else { return false };
        let edge = &edges[at];
        if edge.callees.is_empty() || !edge.callees.iter().all(|&c| self.defs.is_trait_method(self.fns[c].name_loc)) {
            return false;
        }
        // The item's type is unknown, or it is a trait object with several
        // implementations (counted among all functions: one that inserts nothing and
        // calls nothing is not among the functions analysed).
        match self.resolve_call(i, &f.events[order]) {
            Callees::Exactly(locs) => locs.iter().filter(|&&l| self.defs.has_body(l)).count() > 1,
            Callees::ByName => true,
        }
    }

    /// The candidates of a call dispatched to one trait method implemented for several
    /// types (`event_store.save_events(..)` on a generic store, one implementation per
    /// aggregate): which runs depends on the value, which syntax does not see. `None`
    /// for any other call.
    fn polymorphic(&self, i: usize, order: usize) -> Option<&[usize]> {
        let edges = self.edges(i);
        let edge = &edges[edges.binary_search_by_key(&order, |e| e.order).ok()?];
        let first = self.defs.trait_name_of(self.fns[*edge.callees.first()?].name_loc)?;
        let mut types: Vec<&str> = Vec::new();
        for &c in &edge.callees {
            let f = &self.fns[c];
            if self.defs.trait_name_of(f.name_loc) != Some(first) {
                return None;
            }
            if let Some(ty) = f.self_type.as_deref()
                && !types.contains(&ty)
            {
                types.push(ty);
            }
        }
        (types.len() >= POLYMORPHIC_TYPES).then_some(&edge.callees[..])
    }

    /// Whether `table` is written by at least half of the `candidates` that reach
    /// one of the tables guarded ([`Self::polymorphic`]): the backends of one
    /// repository (postgres, sqlite) all write the same table, the stores of
    /// different aggregates each their own.
    fn reached_by_most(candidates: &[usize], table: &str, reaches: &[Vec<Witness>]) -> bool {
        let reaching: Vec<usize> = candidates.iter().copied().filter(|&c| !reaches[c].is_empty()).collect();
        let with_table = reaching.iter().filter(|&&c| reaches[c].iter().any(|r| r.table == table)).count();
        2 * with_table >= reaching.len()
    }

    /// Calls whose candidates must all reach a table for the call to reach it
    /// ([`Self::matched_among_types`], [`Self::every_implementation`]): the
    /// candidates among the functions in groups, each of which must reach it (any
    /// member of a group will do), and whether they are all of them.
    fn all_must_reach(&self, i: usize, order: usize) -> Option<(Vec<Vec<usize>>, bool)> {
        self.matched_among_types(i, order).map(|groups| (groups, true)).or_else(|| {
            self.every_implementation(i, order)
                .map(|(candidates, complete)| (candidates.iter().map(|&c| vec![c]).collect(), complete))
        })
    }

    /// Whether call `order` of function `i` reaches `table`, when all its candidates
    /// must ([`Self::all_must_reach`]); `None` for other calls.
    fn reaches_through_all(&self, i: usize, order: usize, reaches: &[Vec<Witness>], table: &str) -> Option<bool> {
        let (groups, complete) = self.all_must_reach(i, order)?;
        Some(complete && groups.iter().all(|g| g.iter().any(|&c| reaches[c].iter().any(|r| r.table == table))))
    }

    /// Function `i`'s call events that may reach crate functions, as (event
    /// position, candidate callees).
    pub fn edges(&self, i: usize) -> &[Edge] {
        self.edges[i].get_or_init(|| {
            let f = &*self.fns[i];
            f.events
                .iter()
                .enumerate()
                .filter_map(|(order, e)| {
                    let (callees, resolved) = self.callees_and_how(i, e);
                    (!callees.is_empty()).then_some(Edge { order, callees, resolved })
                })
                .collect()
        })
    }

    /// [`Analysis::edges`] of function `i` when one of its calls is named like a
    /// function that reaches an unprotected insert; empty otherwise (no call of it
    /// can lead to one).
    pub fn edges_if_reaching(&self, i: usize) -> &[Edge] {
        let names_one = self.fns[i].events.iter().any(|e| match &e.kind {
            EventKind::Call { name, .. } => self.reaching_names.contains(&**name) || self.defs.is_alias(name),
            _ => false,
        });
        if names_one { self.edges(i) } else { &[] }
    }

    /// Whether `event` (at position `order`) is preceded by a preflight call in the
    /// same iteration: inside the event's innermost loop, or anywhere earlier when
    /// the event is in no loop of this function.
    pub fn preflight_before(f: &FnInsertFacts, innermost: Option<u32>, order: usize, table: &str) -> bool {
        f.preflights.iter().take_while(|p| p.at < order).any(|p| {
            order < p.end as usize
                && guards_table(p, table)
                // (A DELETE in one branch does not make room for an INSERT in another,
                // nor does a return in one `match` arm guard another arm.)
                && ((p.table.is_none() && !p.whole_fn) || same_branch(f, p.at, order))
                && (p.whole_fn
                    || same_iteration(f, &f.events[p.at], innermost)
                    || (p.replaces && encloses(f, &f.events[p.at], innermost)))
        })
    }

    /// Whether `table` is emptied, created or read for its missing rows before
    /// `order`, around it ([`Analysis::preflight_before`] of those guards alone).
    fn room_made_before(f: &FnInsertFacts, innermost: Option<u32>, order: usize, table: &str) -> bool {
        f.preflights.iter().take_while(|p| p.at < order).any(|p| {
            // (Only guards of one table name one: a DELETE, a call that deletes, a
            // fresh table, an anti-join read.)
            p.table.is_some()
                && guards_table(p, table)
                && same_branch(f, p.at, order)
                && (p.whole_fn || same_iteration(f, &f.events[p.at], innermost) || encloses(f, &f.events[p.at], innermost))
        })
    }

    /// Whether the function returned before `order` when a lookup found something
    /// (`if !jwks.is_empty() { return Ok(()) }` at its top, before any INSERT): what
    /// it calls after runs once, for a store that lacked those rows.
    fn returned_if_found_before(f: &FnInsertFacts, order: usize) -> bool {
        (f.preflights.iter().take_while(|p| p.at < order))
            .any(|p| p.whole_fn && p.table.is_none() && order < p.end as usize && same_branch(f, p.at, order))
    }

    /// A preflight call in the same iteration but after `order`: protects nothing.
    pub fn preflight_after(f: &FnInsertFacts, innermost: Option<u32>, order: usize, table: &str) -> Option<Loc> {
        (f.preflights.iter())
            .filter(|p| p.at > order && guards_table(p, table))
            .map(|p| &f.events[p.at])
            .find(|e| same_iteration(f, e, innermost))
            .map(|e| e.loc)
    }

    pub fn protected(f: &FnInsertFacts, occ: &InsertOcc) -> bool {
        occ.sql.on_conflict
            || f.marker
            || Self::preflight_before(f, occ.innermost, occ.order, &occ.sql.table)
            || Self::moves_rows(f, occ)
    }

    /// An `INSERT … SELECT … FROM t` in a function that deletes from `t`: the rows
    /// move (to an archive, a garbage list), and a repeat finds none to move.
    fn moves_rows(f: &FnInsertFacts, occ: &InsertOcc) -> bool {
        occ.sql.selects_from.as_deref().is_some_and(|from| f.deletes.iter().any(|d| d.eq_ignore_ascii_case(from)))
    }

    /// The functions a call of `caller` may reach, in index order: what it resolves to
    /// ([`Analysis::resolve_call`]), with the number of arguments it passes.
    pub fn callees(&self, caller: usize, event: &Event) -> Vec<usize> {
        self.callees_and_how(caller, event).0
    }

    /// [`Analysis::callees`], and whether the call was resolved (not matched by name).
    fn callees_and_how(&self, caller: usize, event: &Event) -> (Vec<usize>, bool) {
        let EventKind::Call { name, .. } = &event.kind else { return (Vec::new(), true) };
        // (Most calls name no crate function, and a renamed import is the only way
        // to call one by another name.)
        let candidates = self.by_name.get(&**name);
        if candidates.is_none() && !self.defs.is_alias(name) {
            return (Vec::new(), true);
        }
        // Code that is not test code does not call test code (a `#[cfg(test)]` item, a
        // test-support module): a namesake there is not a callee.
        let callable = |g: &usize| self.in_test[caller] || !self.in_test[*g];
        match self.resolve_call(caller, event) {
            Callees::Exactly(locs) => {
                let mut out: Vec<usize> = locs
                    .iter()
                    .filter_map(|l| self.by_loc.get(l).copied())
                    .filter(|&g| arity_fits(&self.fns[g], event))
                    .filter(callable)
                    .collect();
                out.sort_unstable();
                (out, true)
            }
            Callees::ByName => {
                let matched = candidates.into_iter().flatten().copied();
                (matched.filter(|&g| self.fallback_may_call(caller, event, g)).filter(callable).collect(), false)
            }
        }
    }

    /// What a call names, resolved the way Rust does ([`crate::facts::defs`]): a path
    /// from the caller's module, a method by its receiver's type (`self`, an annotated
    /// binding, a field whose struct declares its type). Unresolvable ones are matched
    /// by name ([`Analysis::fallback_may_call`]).
    fn resolve_call(&self, caller: usize, event: &Event) -> Callees {
        let EventKind::Call { name, qualifier, receiver, .. } = &event.kind else {
            return Callees::Exactly(Vec::new());
        };
        let cx = &*self.call_context(caller, event);
        match receiver {
            None => {
                let path: Vec<String> =
                    qualifier.iter().flat_map(|q| q.split("::")).chain(std::iter::once(&**name)).map(str::to_string).collect();
                match self.defs.resolve(cx, &path) {
                    Resolved::Items(locs) => Callees::Exactly(locs),
                    Resolved::External => Callees::Exactly(Vec::new()),
                    Resolved::Unknown => Callees::ByName,
                }
            }
            Some(r) if self.made_outside(cx, r) => Callees::Exactly(Vec::new()),
            Some(r) => match self.receiver_type(caller, cx, r) {
                Some(ty) => {
                    let mut found = self.defs.methods_seen_from(&ty, name, Some(cx.module));
                    // `self.inner.insert()` in `impl<S: Store> Store for Audited<S>`:
                    // another value's implementation, not this one calling itself.
                    if *r != Receiver::SelfValue && self.defs.is_trait(&ty) {
                        found.retain(|loc| *loc != self.fns[caller].name_loc);
                    }
                    Callees::Exactly(found)
                }
                None => Callees::ByName,
            },
        }
    }

    /// Where a call of `caller` resolves: the function's module and `Self`, or the
    /// block scope around the call.
    fn call_context(&self, caller: usize, event: &Event) -> std::borrow::Cow<'_, Context> {
        if self.defs.has_block_scopes(event.loc.file) {
            // A `use` or `fn` in the function's body shadows the module's names.
            let module = self.defs.context(event.loc).module;
            std::borrow::Cow::Owned(Context { module, self_ty: self.contexts[caller].self_ty.clone() })
        } else {
            std::borrow::Cow::Borrowed(&self.contexts[caller])
        }
    }

    /// The events of callee `g` that call `order` of `caller` does not run, as event
    /// ranges: what runs only when a parameter the call passes empty holds something
    /// (`create(&project, &[])` skips the loop over the second parameter), and, in a
    /// trait's default method, the branches on `Self::FLAG` that the receiver's type
    /// sets the other way (`job.enqueue()` with `const DEDUPLICATED: bool = true` in
    /// `job`'s impl skips the `else` of `if Self::DEDUPLICATED`).
    fn dead_branches(&self, caller: usize, order: usize, g: usize) -> Vec<(u32, u32)> {
        let mut dead = self.empty_param_gates(caller, order, g);
        dead.extend(self.flag_dead_branches(caller, order, g));
        dead
    }

    /// The events of callee `g` gated by a parameter that call `order` passes empty
    /// (`None`, `&[]`, `vec![]`): see [`FnInsertFacts::param_gates`].
    fn empty_param_gates(&self, caller: usize, order: usize, g: usize) -> Vec<(u32, u32)> {
        let callee = &*self.fns[g];
        let EventKind::Call { empty_args, receiver, .. } = &self.fns[caller].events[order].kind else {
            return Vec::new();
        };
        if *empty_args == 0 || callee.param_gates.is_empty() {
            return Vec::new();
        }
        // A path call of a method (`Type::method(&value, ..)`) passes `self` first.
        let shift = u32::from(receiver.is_none() && callee.has_self);
        let empty = |param: u32| (param + shift) < 32 && empty_args & (1 << (param + shift)) != 0;
        callee.param_gates.iter().filter(|&&(param, ..)| empty(param)).map(|&(_, from, to)| (from, to)).collect()
    }

    fn flag_dead_branches(&self, caller: usize, order: usize, g: usize) -> Vec<(u32, u32)> {
        let callee = &*self.fns[g];
        if callee.flag_branches.is_empty() || !self.defs.is_trait_default(callee.name_loc) {
            return Vec::new();
        }
        let event = &self.fns[caller].events[order];
        let EventKind::Call { receiver: Some(r), .. } = &event.kind else { return Vec::new() };
        let cx = self.call_context(caller, event);
        let Some(ty) = self.receiver_type(caller, &cx, r).filter(|ty| !self.defs.is_trait(ty)) else {
            return Vec::new();
        };
        callee
            .flag_branches
            .iter()
            .filter(|b| self.defs.assoc_flag(&ty, &b.name).is_some_and(|v| v != b.when))
            .map(|b| (b.from, b.to))
            .collect()
    }

    /// Whether function `g` reaches an unprotected INSERT into `table` through an
    /// event outside the ranges `dead` (see [`Self::dead_branches`]).
    fn reaches_outside(&self, g: usize, table: &str, dead: &[(u32, u32)], reaches: &[Vec<Witness>]) -> bool {
        let live = |order: usize| !dead.iter().any(|&(from, to)| (from as usize..to as usize).contains(&order));
        let f = &*self.fns[g];
        self.inserts[g].iter().any(|o| o.sql.table == table && live(o.order) && !Self::protected(f, o))
            || self.edges(g).iter().any(|e| {
                live(e.order)
                    && !Self::preflight_before(f, f.events[e.order].innermost, e.order, table)
                    && e.callees.iter().any(|&c| reaches[c].iter().any(|w| w.table == table))
            })
    }

    /// Whether a receiver is a value a function of another crate made (`let mut
    /// interval = tokio::time::interval(..)`, `let rx = std::sync::mpsc::channel()`):
    /// its type is that crate's, and its methods (`interval.tick()`) none of the
    /// workspace's. Not a constructor of a type (`Arc::new(repo)`) nor a function
    /// that hands back what it is given or parses into any type.
    fn made_outside(&self, cx: &Context, r: &Receiver) -> bool {
        const ANY_TYPE: &[&str] =
            &["take", "replace", "identity", "from_str", "from_slice", "from_value", "from_reader", "deserialize", "ready", "once", "leak"];
        let Receiver::Returned(call) = r else { return false };
        let (path, _) = &**call;
        let lower = |s: &str| s.chars().next().is_some_and(|c| c.is_lowercase());
        let Some(last) = path.last() else { return false };
        let module_fn = path.iter().all(|s| lower(s)) && !ANY_TYPE.contains(&&**last);
        module_fn && {
            let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            matches!(self.defs.resolve(cx, &path), Resolved::External)
        }
    }

    /// The type of a receiver, when the syntax says it.
    fn receiver_type(&self, caller: usize, cx: &Context, r: &Receiver) -> Option<TypeKey> {
        match r {
            Receiver::SelfValue => cx.self_ty.clone(),
            Receiver::Typed(path) => {
                let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                self.defs.type_key(cx.module, &path, cx.self_ty.as_ref())
            }
            Receiver::Field(field) => {
                let (base, name) = &**field;
                let base = self.receiver_type(caller, cx, base)?;
                self.defs.field_type(&base, name).or_else(|| {
                    // `inner: S` in `impl<S: Store> Audited<S>`: the bound's methods.
                    let [generic] = &self.defs.field_path(&base, name)?[..] else { return None };
                    self.defs.impl_bound(self.fns[caller].name_loc, generic)
                })
            }
            Receiver::Held(field) => {
                let (base, name) = &**field;
                self.defs.field_held_type(&self.receiver_type(caller, cx, base)?, name)
            }
            Receiver::Returned(call) => {
                let (path, held) = &**call;
                let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                match self.defs.resolve(cx, &path) {
                    Resolved::Items(locs) => self.one_return_type(&locs, *held),
                    _ => None,
                }
            }
            Receiver::MethodReturned(call) => {
                let (base, name, held) = &**call;
                match self.receiver_type(caller, cx, base) {
                    Some(ty) => self.one_return_type(&self.defs.methods_seen_from(&ty, name, Some(cx.module)), *held),
                    // `repo.user_email().add(..)` on a `repo` of unknown type: the type
                    // every workspace method of that name declares it returns (each
                    // repository's accessor returns its own trait object).
                    None => {
                        let at = self.fns[caller].name_loc;
                        let locs: Vec<Loc> = self
                            .index
                            .fns_named(name)
                            .filter(|f| f.self_type.is_some() && self.defs.sees(at, f.name_loc))
                            .map(|f| f.name_loc)
                            .collect();
                        self.one_return_type(&locs, *held)
                    }
                }
            }
            Receiver::Unknown => None,
        }
    }

    /// The workspace type every one of the functions at `locs` returns (or holds).
    fn one_return_type(&self, locs: &[Loc], held: bool) -> Option<TypeKey> {
        let mut types = locs.iter().map(|&loc| self.defs.return_type(loc, held));
        let first = types.next()??;
        // (A guard that dereferences to another type has that type's methods too:
        // matched by name, as before its type was known.)
        let derefs = self.defs.trait_names(&first).iter().any(|t| t == "Deref");
        (!derefs && types.all(|t| t.as_ref() == Some(&first))).then_some(first)
    }

    /// A call that could not be resolved, matched by name: same name and number of
    /// arguments, in a crate the caller sees; a method call only to methods and never
    /// to the caller itself (recursion is only claimed through a resolved call); a
    /// path to a function of the caller's own crate (of its package, from a file no
    /// crate root reaches), of the type or module a qualified path names; a
    /// standard-library method name
    /// (`map.insert(k, v)`) only when awaited, and then to an async function.
    fn fallback_may_call(&self, caller: usize, event: &Event, g: usize) -> bool {
        let EventKind::Call { name, receiver, awaited, qualifier, .. } = &event.kind else { return false };
        let (f, callee) = (&*self.fns[caller], &*self.fns[g]);
        if *callee.name != **name || !self.defs.sees(f.name_loc, callee.name_loc) {
            return false;
        }
        if !arity_fits(callee, event) {
            return false;
        }
        match receiver {
            Some(r) => {
                let ambiguous = self.ambiguous.contains(&**name);
                // `self.store.save()` on a field of unknown type: the field's method,
                // not one of the caller's own type.
                let on_field = matches!(r, Receiver::Field(field) if field.0 == Receiver::SelfValue);
                let own_type = on_field && self.contexts[caller].self_ty.is_some()
                    && self.contexts[g].self_ty == self.contexts[caller].self_ty;
                g != caller && (!ambiguous || (*awaited && callee.is_async)) && !own_type
            }
            // `Type::f` / `module::f` that could not be followed: only a function of a
            // type or module of that name (not every `new` of the crate).
            None => {
                let named_owner = qualifier.as_deref().and_then(|q| q.rsplit("::").next()).is_none_or(|owner| {
                    callee.self_type.as_deref() == Some(owner)
                        || self.defs.module_path(callee.name_loc).is_some_and(|m| m.rsplit("::").next() == Some(owner))
                });
                named_owner && self.defs.may_name_unresolved(f.name_loc, callee.name_loc)
            }
        }
    }

    /// Which functions reach an unprotected insert, per table: a worklist from the
    /// inserting functions back through their callers (linear in the call graph, times
    /// the tables a function reaches).
    fn fixpoint(&self) -> Vec<Vec<Witness>> {
        let mut reaches: Vec<Vec<Witness>> = self
            .fns
            .iter()
            .zip(&self.inserts)
            .enumerate()
            .map(|(i, (f, occs))| {
                let mut found: Vec<Witness> = Vec::new();
                for o in occs.iter().filter(|o| !Self::protected(f, o)) {
                    if !found.iter().any(|w| w.table == o.sql.table) {
                        found.push(Witness { insert: o.loc, table: o.sql.table.clone(), next: None, holder: i, depth: 0 });
                    }
                }
                found
            })
            .collect();
        // Call events by the name they call, in (function, position) order; only
        // names of crate functions can lead anywhere.
        let mut calls_named: HashMap<&str, Vec<(usize, usize)>> = HashMap::default();
        // The calls that may reach each function: filled for all functions of a name
        // when the first of them is reached (each call is resolved once, and a name
        // shared by thousands of methods costs its calls' edges, not their product),
        // and up front for calls by a name a `use … as` gave (`insert_workspace` for
        // `insert`).
        let mut callers: HashMap<usize, Vec<(usize, usize)>> = HashMap::default();
        for (i, f) in self.fns.iter().enumerate() {
            for (order, e) in f.events.iter().enumerate() {
                let EventKind::Call { name, .. } = &e.kind else { continue };
                if self.by_name.contains_key(&**name) {
                    calls_named.entry(&**name).or_default().push((i, order));
                }
                if self.defs.is_alias(name) {
                    for g in self.callees(i, e) {
                        if *self.fns[g].name != **name {
                            callers.entry(g).or_default().push((i, order));
                        }
                    }
                }
            }
        }
        let mut names_resolved: FxHashSet<&str> = FxHashSet::default();
        // (function, index of the table among its witnesses)
        let mut queue: std::collections::VecDeque<(usize, usize)> =
            (0..self.fns.len()).flat_map(|i| (0..reaches[i].len()).map(move |t| (i, t))).collect();
        // Calls of a default method whose table came through a branch the receiver's
        // type skips ([`Self::dead_branches`]): asked again once every table is in,
        // since another branch may reach it later.
        let mut deferred: Vec<(usize, usize, usize, Witness)> = Vec::new();
        loop {
            self.propagate(&mut reaches, &mut queue, &mut callers, &calls_named, &mut names_resolved, &mut deferred);
            let before = queue.len();
            for (i, order, g, w) in std::mem::take(&mut deferred) {
                let dead = self.dead_branches(i, order, g);
                if reaches[i].iter().any(|r| r.table == w.table) {
                    continue;
                }
                if let Some(candidates) = self.polymorphic(i, order)
                    && !Self::reached_by_most(candidates, &w.table, &reaches)
                {
                    continue;
                }
                if dead.is_empty() || self.reaches_outside(g, &w.table, &dead, &reaches) {
                    reaches[i].push(Witness { next: Some(g), depth: w.depth + 1, ..w });
                    queue.push_back((i, reaches[i].len() - 1));
                }
            }
            if queue.len() == before {
                break;
            }
        }
        reaches
    }

    /// The worklist of [`Self::fixpoint`]: each table a function reaches goes to its callers.
    #[allow(clippy::type_complexity)]
    fn propagate<'n>(
        &'n self,
        reaches: &mut [Vec<Witness>],
        queue: &mut std::collections::VecDeque<(usize, usize)>,
        callers: &mut HashMap<usize, Vec<(usize, usize)>>,
        calls_named: &HashMap<&'n str, Vec<(usize, usize)>>,
        names_resolved: &mut FxHashSet<&'n str>,
        deferred: &mut Vec<(usize, usize, usize, Witness)>,
    ) {
        while let Some((g, t)) = queue.pop_front() {
            let name = self.fns[g].name.as_str();
            if names_resolved.insert(name) {
                for &(i, order) in calls_named.get(name).map_or(&[][..], Vec::as_slice) {
                    for callee in self.callees(i, &self.fns[i].events[order]) {
                        if *self.fns[callee].name == *name {
                            callers.entry(callee).or_default().push((i, order));
                        }
                    }
                }
            }
            let w = reaches[g][t].clone();
            for &(i, order) in callers.get(&g).map_or(&[][..], Vec::as_slice) {
                let f = &*self.fns[i];
                if reaches[i].iter().any(|r| r.table == w.table) {
                    continue;
                }
                if f.marker || Self::preflight_before(f, f.events[order].innermost, order, &w.table) {
                    continue;
                }
                if self.reaches_through_all(i, order, reaches, &w.table) == Some(false) {
                    continue;
                }
                let dead = self.dead_branches(i, order, g);
                if (!dead.is_empty() && !self.reaches_outside(g, &w.table, &dead, reaches))
                    || self.polymorphic(i, order).is_some()
                {
                    deferred.push((i, order, g, w.clone()));
                    continue;
                }
                reaches[i].push(Witness {
                    insert: w.insert,
                    table: w.table.clone(),
                    next: Some(g),
                    holder: w.holder,
                    depth: w.depth + 1,
                });
                queue.push_back((i, reaches[i].len() - 1));
            }
        }
    }

    /// The findings of `non-idempotent-insert`, by location (the first one found at
    /// a location): unguarded INSERTs in loops, and calls in loops (or recursive
    /// calls) that reach one. Functions with the marker comment report nothing.
    pub fn findings(&self) -> Vec<Finding<'_>> {
        // One finding per location and table: a call reaching two tables' INSERTs is
        // two findings, each naming its table and chain.
        let mut found: BTreeMap<(Loc, &str), Finding> = BTreeMap::new();
        for (i, f) in self.fns.iter().map(|f| &**f).enumerate() {
            if f.marker {
                continue;
            }
            for occ in &self.inserts[i] {
                if occ.innermost.is_none()
                    || Analysis::protected(f, occ)
                    || self.entry_guarded(i, &occ.sql.table, ENTRY_DEPTH)
                {
                    continue;
                }
                found.entry((occ.loc, occ.sql.table.as_str())).or_insert(Finding::Direct { f, occ });
            }
            for finding in self.call_findings(i) {
                let Finding::Call(call) = &finding else { continue };
                found.entry((finding.loc(), call.witness.table.as_str())).or_insert(finding);
            }
        }
        let findings: Vec<Finding> = found.into_values().collect();
        // A recursive call in a loop that already reports a call or an INSERT of the same
        // table (`for node in nodes { create_child(..); walk(node.children) }`) says
        // again what that finding says.
        let said_in_loop = |l: u32, of: &Finding| {
            let (f, table, _) = of.scope();
            findings.iter().any(|other| {
                let (g, t, innermost) = other.scope();
                let recursive = matches!(other, Finding::Call(c) if c.recursive);
                !recursive && std::ptr::eq(f, g) && t == table && f.within(innermost, l)
            })
        };
        let redundant: Vec<bool> = findings
            .iter()
            .map(|finding| match finding {
                Finding::Call(c) if c.recursive && !c.walks_own_insert() => {
                    c.event.innermost.is_some_and(|l| said_in_loop(l, finding))
                }
                _ => false,
            })
            .collect();
        findings.into_iter().zip(redundant).filter(|(_, r)| !r).map(|(f, _)| f).collect()
    }

    /// Function `i`'s calls that reach an unguarded INSERT: in a loop (per table, the
    /// first callee that reaches one of it), and outside loops one recursive call, at
    /// the first call of the first function of its recursion cycle.
    fn call_findings(&self, i: usize) -> Vec<Finding<'_>> {
        let f = &*self.fns[i];
        let mut out = Vec::new();
        let mut reported_recursion = false;
        for Edge { order, callees, .. } in self.edges_if_reaching(i) {
            let (order, e) = (*order, &f.events[*order]);
            let mut tables: Vec<&str> = Vec::new();

            for &g in callees {
                for witness in &self.reaches[g] {
                    if tables.contains(&witness.table.as_str())
                        || Analysis::preflight_before(f, e.innermost, order, &witness.table)
                    {
                        continue;
                    }
                    if self.reaches_through_all(i, order, &self.reaches, &witness.table) == Some(false) {
                        continue;
                    }
                    if let Some(candidates) = self.polymorphic(i, order)
                        && !Self::reached_by_most(candidates, &witness.table, &self.reaches)
                    {
                        continue;
                    }
                    let dead = self.dead_branches(i, order, g);
                    if !dead.is_empty() && !self.reaches_outside(g, &witness.table, &dead, &self.reaches) {
                        continue;
                    }
                    let recursive = if g == i { !delegates(f, e) } else { self.same_cycle(g, i) };
                    if e.innermost.is_none() && !recursive {
                        continue;
                    }
                    if self.entry_guarded(i, &witness.table, ENTRY_DEPTH) {
                        continue;
                    }
                    if !recursive && self.fans_out(i, order) {
                        continue;
                    }
                    // Outside loops, one report per recursion cycle: at the first call of its first function.
                    if e.innermost.is_none() {
                        if reported_recursion || !self.first_in_cycle(i) || self.cycle_len(i) > MAX_RECURSION_CYCLE {
                            continue;
                        }
                        reported_recursion = true;
                    }
                    tables.push(&witness.table);
                    let (through, omitted) = self.chain(g, &witness.table);
                    let callee = &*self.fns[g];
                    out.push(Finding::Call(CallFinding {
                        f,
                        event: e,
                        order,
                        callee,
                        witness,
                        through,
                        omitted,
                        recursive,
                    }));
                }
            }
        }
        out
    }

    /// Whether every call of function `i` (one at least) comes after its caller made
    /// room in `table` — emptied it (`truncate_all(..)` then `transfer_users(..)`),
    /// created it, read the rows it lacks — or from a caller so guarded itself, up to
    /// `depth` callers up, or returned before the call when a lookup found something
    /// (the whole function runs once). The rows `i` inserts in its loops fill that
    /// room. (A lookup deciding only a branch of the caller is not enough: it says
    /// whether a parent exists, not the rows `i` adds under it.)
    fn entry_guarded(&self, i: usize, table: &str, depth: u32) -> bool {
        if depth == 0 {
            return false;
        }
        let sites = self.calls_by_name().get(self.fns[i].name.as_str()).map_or(&[][..], Vec::as_slice);
        let mut callers = sites
            .iter()
            .filter(|&&(c, order)| self.callees(c, &self.fns[c].events[order]).contains(&i))
            .peekable();
        callers.peek().is_some()
            && callers.all(|&(c, order)| {
                let f = &*self.fns[c];
                c != i
                    && (Self::room_made_before(f, f.events[order].innermost, order, table)
                        || Self::returned_if_found_before(f, order)
                        || self.entry_guarded(c, table, depth - 1))
            })
    }

    fn calls_by_name(&self) -> &HashMap<String, Vec<(usize, usize)>> {
        self.calls_by_name.get_or_init(|| {
            let mut map: HashMap<String, Vec<(usize, usize)>> = HashMap::default();
            for (i, f) in self.fns.iter().enumerate() {
                for (order, e) in f.events.iter().enumerate() {
                    if let EventKind::Call { name, .. } = &e.kind
                        && self.by_name.contains_key(&**name)
                    {
                        map.entry(name.to_string()).or_default().push((i, order));
                    }
                }
            }
            map
        })
    }

    /// The functions function `g` reaches its INSERT through (name, name location), in
    /// call order, and how many of them are left out: at most [`SHOWN_CHAIN`] are
    /// listed, the last being the one that holds the INSERT. Empty when `g` holds the
    /// INSERT itself.
    pub fn chain(&self, g: usize, table: &str) -> (Vec<(String, Loc)>, usize) {
        let witness_of = |k: usize| self.reaches[k].iter().find(|w| w.table == table);
        let Some(w) = witness_of(g) else { return (Vec::new(), 0) };
        let total = w.depth as usize;
        let mut through = Vec::new();
        let mut at = w.next;
        while let Some(k) = at {
            if through.len() + 1 == SHOWN_CHAIN && total > SHOWN_CHAIN + 1 {
                through.push((self.fns[w.holder].name.clone(), self.fns[w.holder].name_loc));
                break;
            }
            through.push((self.fns[k].name.clone(), self.fns[k].name_loc));
            at = witness_of(k).and_then(|w| w.next);
        }
        let omitted = total - through.len();
        (through, omitted)
    }

    /// The recursion cycle of function `i` (its strongly connected component).
    fn cycle_of(&self, i: usize) -> u32 {
        self.cycles.component(i, |k| {
            (self.edges(k).iter())
                .filter(move |e| e.resolved && !delegates(&self.fns[k], &self.fns[k].events[e.order]))
                .flat_map(|e| e.callees.iter().copied())
        })
    }

    /// Whether functions `a` and `b` call each other (directly or through others).
    pub fn same_cycle(&self, a: usize, b: usize) -> bool {
        self.cycle_of(a) == self.cycle_of(b)
    }

    /// How many functions the recursion cycle of `i` has.
    fn cycle_len(&self, i: usize) -> usize {
        self.cycles.members(self.cycle_of(i)).len()
    }

    /// Whether `i` comes first (by location) among the functions of its recursion
    /// cycle, so a cycle is reported once.
    pub fn first_in_cycle(&self, i: usize) -> bool {
        let members = self.cycles.members(self.cycle_of(i));
        members.iter().all(|&j| j == i || self.fns[i].name_loc <= self.fns[j].name_loc)
    }
}

/// Whether preflight `p` guards INSERTs into `table` (a `DELETE` guards only
/// its own table; `workspace` deleted through an entity named in the singular guards
/// `workspaces`).
fn guards_table(p: &Preflight, table: &str) -> bool {
    match p.table.as_deref() {
        None | Some(sql::ANY_TABLE) => true,
        Some(deleted) => {
            deleted.eq_ignore_ascii_case(table)
                || table.len() == deleted.len() + 1
                    && table.ends_with(['s', 'S'])
                    && table[..deleted.len()].eq_ignore_ascii_case(deleted)
        }
    }
}


/// Whether event `e` runs in every iteration of the loop `innermost` names
/// (anywhere in the function when there is none).
/// Whether event `e` runs around the loop `innermost`: outside every loop, or in a
/// loop that holds it (`for post in posts { DELETE …; for tag in tags { INSERT … } }`).
fn encloses(f: &FnInsertFacts, e: &Event, innermost: Option<u32>) -> bool {
    match (e.innermost, innermost) {
        (None, _) => true,
        (Some(outer), Some(inner)) => f.within(Some(inner), outer),
        (Some(_), None) => false,
    }
}

/// Whether event `later` runs in every branch event `earlier` is in (so `earlier`
/// runs first whenever `later` runs, as far as branches go).
/// Whether a call of method `f` hands the work to a value `self` holds, by the same
/// name (`self.inner.add_key(..)` in `fn add_key`): an adapter or decorator
/// delegating, which the types may let lead back to `f` (a bridge wrapping a trait
/// object that a wrapper of the bridge implements) but which runs once per call, not
/// once per node.
fn delegates(f: &FnInsertFacts, event: &Event) -> bool {
    let EventKind::Call { name, receiver, held_first, .. } = &event.kind else { return false };
    let held_by_self = match receiver {
        Some(Receiver::Field(b) | Receiver::Held(b)) => matches!(b.0, Receiver::SelfValue),
        Some(Receiver::MethodReturned(b)) => matches!(b.0, Receiver::SelfValue),
        Some(_) => false,
        // `WalletTrait::receive(self.inner().as_ref(), ..)`.
        None => *held_first,
    };
    held_by_self && **name == *f.name
}

fn same_branch(f: &FnInsertFacts, earlier: usize, later: usize) -> bool {
    let (a, b) = (earlier as u32, later as u32);
    f.branches.iter().all(|&(from, to)| !(from <= a && a < to) || (from <= b && b < to))
}

fn same_iteration(f: &FnInsertFacts, e: &Event, innermost: Option<u32>) -> bool {
    match innermost {
        Some(l) => f.within(e.innermost, l),
        None => true,
    }
}

/// The tables of the sea-orm entities of the crates checked, by their module's name
/// (`#[sea_orm(table_name = "users")]` in `user.rs` or `mod user`).
/// (And the tables of the active-record models, by their type's name; and the SQL
/// names of the diesel tables declared under another, by their Rust name.)
struct EntityTables<'a>(HashMap<&'a str, &'a str>, HashMap<&'a str, &'a str>, HashMap<&'a str, &'a str>);

impl<'a> EntityTables<'a> {
    fn new(ctx: &'a CheckCx<'a>) -> Self {
        let mut map = HashMap::default();
        let mut models = HashMap::default();
        let mut diesel = HashMap::default();
        for file in ctx.facts::<super::NonIdempotentInsert>() {
            for (rust, sql) in &file.diesel_tables {
                diesel.insert(&**rust, &**sql);
            }
            for (module, table) in &file.entity_tables {
                map.insert(&**module, &**table);
            }
            for (ty, table) in &file.model_tables {
                models.insert(&**ty, &**table);
            }
        }
        EntityTables(map, models, diesel)
    }

    /// The SQL name of the diesel table declared as `rust` (`#[sql_name = "…"]`), when
    /// it is declared under another.
    fn diesel_sql_name(&self, rust: &str) -> Option<&'a str> {
        self.2.get(rust).copied()
    }

    /// The table a name written for an ORM's table stands for: a sea-orm entity's
    /// module → its `table_name`, a diesel table's Rust name → its `sql_name`.
    fn renamed(&self, name: &str) -> Option<String> {
        (self.0.get(name).filter(|table| **table != name))
            .or_else(|| self.2.get(name))
            .map(|table| table.to_string())
    }

    /// The table of the active-record model named `ty`, when the crates declare one.
    fn model_table(&self, ty: &str) -> Option<&'a str> {
        self.1.get(ty).copied()
    }

    /// The table of the entity at `path`; its module's name when no entity declares one.
    fn table(&self, path: &[Box<str>]) -> Option<String> {
        let module = super::extract::entity_module(path)?;
        Some(self.0.get(&*module).map_or_else(|| module.into_owned(), |t| t.to_string()))
    }
}

/// The guarded inserts a function executes: its own SQL and ORM inserts, and constants it uses.
fn resolve_inserts(
    f: &FnInsertFacts,
    ctx: &CheckCx,
    params: &InsertParams,
    entities: &EntityTables,
    included: &HashMap<Loc, &str>,
) -> Vec<InsertOcc> {
    let mut out = Vec::new();
    for (order, e) in f.events.iter().enumerate() {
        match &e.kind {
            EventKind::ModelInsert { ty } => {
                let Some(table) = entities.model_table(ty) else { continue };
                if params.tables.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(table)) {
                    let sql = SqlInsert { table: table.to_string(), on_conflict: false, from_select: false, selects_from: None };
                    out.push(InsertOcc { sql, loc: e.loc, via: None, innermost: e.innermost, order });
                }
            }
            EventKind::EntityInsert { entity, on_conflict } => {
                let Some(table) = entities.table(entity) else { continue };
                if params.tables.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(&table)) {
                    let sql = SqlInsert { table: table.to_string(), on_conflict: *on_conflict, from_select: false, selects_from: None };
                    out.push(InsertOcc { sql, loc: e.loc, via: None, innermost: e.innermost, order });
                }
            }
            EventKind::DieselInsert { table, on_conflict } => {
                // Named by either of its names in `tables`; reported by its SQL name.
                let sql_name = entities.diesel_sql_name(table);
                let named = |t: &String| {
                    t == "*" || t.eq_ignore_ascii_case(table) || sql_name.is_some_and(|s| t.eq_ignore_ascii_case(s))
                };
                if params.tables.iter().any(named) {
                    let table = sql_name.unwrap_or(table).to_string();
                    let sql = SqlInsert { table, on_conflict: *on_conflict, from_select: false, selects_from: None };
                    out.push(InsertOcc { sql, loc: e.loc, via: None, innermost: e.innermost, order });
                }
            }
            EventKind::Insert(insert) => {
                let InsertEvent { sql, via } = &**insert;
                out.push(InsertOcc { sql: sql.clone(), loc: e.loc, via: via.clone(), innermost: e.innermost, order })
            }
            EventKind::ConstUse { path } => {
                let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                for c in ctx.consts_at(e.loc, &path) {
                    let text = (included.get(&c.name_loc).map(|t| t.to_string())).or_else(|| compile_time_text(&c.value, ctx));
                    let Some(text) = text else { continue };
                    let via = Some((c.name_loc, format!("the SQL is the constant `{}`", c.name)));
                    out.extend(guarded_inserts(&text, params).map(|sql| InsertOcc {
                        sql,
                        loc: e.loc,
                        via: via.clone(),
                        innermost: e.innermost,
                        order,
                    }));
                }
            }
            EventKind::Assembled { value } => {
                let Some(text) = compile_time_text(value, ctx) else { continue };
                out.extend(guarded_inserts(&text, params).map(|mut sql| {
                    if let Some(shown) = super::extract::run_time_table_shown(&sql.table) {
                        sql.table = shown;
                    }
                    sql
                }).map(|sql| InsertOcc {
                    sql,
                    loc: e.loc,
                    via: None,
                    innermost: e.innermost,
                    order,
                }));
            }
            _ => {}
        }
    }
    out
}

/// Whether a call passes as many arguments as `f` takes: `x.f(a)` a method;
/// `f(a)` a free function; `Type::f(&x, a)` either.
fn arity_fits(f: &FnInsertFacts, event: &Event) -> bool {
    let EventKind::Call { qualifier, receiver, args, .. } = &event.kind else { return false };
    let args = &(*args as usize);
    if receiver.is_some() {
        f.has_self && f.params == *args
    } else if qualifier.is_none() {
        !f.has_self && f.params == *args
    } else {
        f.params + usize::from(f.has_self) == *args || (!f.has_self && f.params == *args)
    }
}

/// What a call resolves to.
enum Callees {
    /// These functions (by name location), and no other.
    Exactly(Vec<Loc>),
    /// Unresolvable: matched by name.
    ByName,
}

/// The SQL text a constant's value (or a statement assembled at compile time) is:
/// its constants resolved crate-wide, as they are written at their own place; a
/// constant that cannot be read is a hole, as in a `format!` template.
fn compile_time_text(value: &Value, ctx: &CheckCx) -> Option<String> {
    fn piece(value: &Value, ctx: &CheckCx, depth: usize) -> Option<String> {
        let Value::Path { segments, loc } = value else { return Some(HOLE.to_string()) };
        let found = (depth < MAX_CONST_DEPTH)
            .then(|| ctx.consts_at(*loc, segments).into_iter().find_map(|c| read(&c.value, ctx, depth + 1)))
            .flatten();
        Some(found.unwrap_or_else(|| HOLE.to_string()))
    }
    fn read(value: &Value, ctx: &CheckCx, depth: usize) -> Option<String> {
        value.compile_time_text(&mut |p| piece(p, ctx, depth))
    }
    /// A value not known (a placeholder, as `format!` holes are read).
    const HOLE: &str = "$0";
    /// Constants made of constants, this deep.
    const MAX_CONST_DEPTH: usize = 6;
    // A constant that is a path of its own is an alias of another: read through it.
    match value {
        Value::Path { .. } => piece(value, ctx, 0).filter(|t| t != HOLE),
        _ => read(value, ctx, 0),
    }
}

