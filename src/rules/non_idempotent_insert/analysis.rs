//! Crate-wide analysis shared by `non-idempotent-insert` and `insert-allowlist`:
//! resolves constants holding SQL, decides which inserts are protected, and which
//! functions reach an unprotected insert through calls (a fixpoint over the call
//! graph by name, so recursion is handled); and the [`Finding`]s of
//! `non-idempotent-insert`, one per location.

use super::InsertParams;
use super::extract::{Event, EventKind, FnInsertFacts, InsertEvent, SqlInsert};
use crate::rules::CheckCx;
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

/// How an unprotected insert is reached from a function: the insert, and the
/// function called next on the way (`None` when the function holds the insert). The
/// chain is followed only for what is reported ([`Analysis::chain`]): copying it into
/// every function's witness would be quadratic in the depth of a call chain.
#[derive(Clone, Debug)]
pub struct Witness {
    pub insert: Loc,
    pub table: String,
    pub next: Option<usize>,
}

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
    /// The callee calls back into `f` (or is `f`).
    pub recursive: bool,
}

impl Finding<'_> {
    /// Where it is reported: the INSERT, or the call.
    pub fn loc(&self) -> Loc {
        match self {
            Finding::Direct { occ, .. } => occ.loc,
            Finding::Call(call) => call.event.loc,
        }
    }
}

/// A call event (its position among the function's events) and the crate
/// functions it may call.
pub type Edge = (usize, Vec<usize>);

pub struct Analysis<'a> {
    pub fns: Vec<&'a FnInsertFacts>,
    /// Per function (same index as `fns`): its module path.
    pub modules: Vec<&'a str>,
    /// Per function (same index as `fns`): the guarded inserts it executes itself.
    pub inserts: Vec<Vec<InsertOcc>>,
    /// Per function: an unprotected insert it reaches, itself or through calls.
    pub reaches: Vec<Option<Witness>>,
    /// Per function: its call events that may reach crate functions, as
    /// (event position, candidate callees). Computed on first use: most functions
    /// of a crate never need theirs.
    edges: Vec<std::cell::OnceCell<Vec<Edge>>>,
    /// The recursion cycles among the functions, found as they are asked for.
    cycles: super::cycles::Cycles,
    /// Which files' functions a function may call: its package's and its dependencies'.
    packages: crate::rules::PackageView<'a>,
    by_name: HashMap<&'a str, Vec<usize>>,
    /// The names of the functions that reach an unprotected insert.
    reaching_names: FxHashSet<&'a str>,
    ambiguous: FxHashSet<String>,
}

impl<'a> Analysis<'a> {
    pub fn new(ctx: &CheckCx<'a>, params: &InsertParams) -> Self {
        let (fns, modules): (Vec<&FnInsertFacts>, Vec<&str>) = ctx
            .facts::<super::NonIdempotentInsert>()
            .flat_map(|file| {
                file.fns.iter().map(|f| (f, file.modules.get(f.module as usize).map_or("", String::as_str)))
            })
            .unzip();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::default();
        for (i, f) in fns.iter().enumerate() {
            by_name.entry(f.name.as_str()).or_default().push(i);
        }
        let inserts: Vec<Vec<InsertOcc>> = fns.iter().map(|f| resolve_inserts(f, ctx, params)).collect();
        let ambiguous = params.ambiguous_methods.iter().cloned().collect();
        let edges = fns.iter().map(|_| std::cell::OnceCell::new()).collect();
        let cycles = super::cycles::Cycles::new(fns.len());
        let mut analysis = Analysis {
            cycles,
            packages: ctx.packages,
            fns,
            modules,
            inserts,
            reaches: Vec::new(),
            edges,
            by_name,
            reaching_names: FxHashSet::default(),
            ambiguous,
        };
        analysis.reaches = analysis.fixpoint();
        let reaching_names = (analysis.fns.iter().zip(&analysis.reaches))
            .filter(|(_, r)| r.is_some())
            .map(|(f, _)| f.name.as_str())
            .collect();
        analysis.reaching_names = reaching_names;
        analysis
    }

    /// Function `i`'s call events that may reach crate functions, as (event
    /// position, candidate callees).
    pub fn edges(&self, i: usize) -> &[Edge] {
        self.edges[i].get_or_init(|| {
            let f = self.fns[i];
            f.events
                .iter()
                .enumerate()
                .filter_map(|(order, e)| {
                    let callees = self.callees(f, e);
                    (!callees.is_empty()).then_some((order, callees))
                })
                .collect()
        })
    }

    /// [`Analysis::edges`] of function `i` when one of its calls is named like a
    /// function that reaches an unprotected insert; empty otherwise (no call of it
    /// can lead to one).
    pub fn edges_if_reaching(&self, i: usize) -> &[Edge] {
        let names_one = self.fns[i].events.iter().any(|e| match &e.kind {
            EventKind::Call { name, .. } => self.reaching_names.contains(&**name),
            _ => false,
        });
        if names_one { self.edges(i) } else { &[] }
    }

    /// Whether `event` (at position `order`) is preceded by a preflight call in the
    /// same iteration: inside the event's innermost loop, or anywhere earlier when
    /// the event is in no loop of this function.
    pub fn preflight_before(f: &FnInsertFacts, innermost: Option<u32>, order: usize) -> bool {
        f.preflights.iter().take_while(|&&p| p < order).any(|&p| same_iteration(f, &f.events[p], innermost))
    }

    /// A preflight call in the same iteration but after `order`: protects nothing.
    pub fn preflight_after(f: &FnInsertFacts, innermost: Option<u32>, order: usize) -> Option<Loc> {
        f.preflights
            .iter()
            .filter(|&&p| p > order)
            .map(|&p| &f.events[p])
            .find(|e| same_iteration(f, e, innermost))
            .map(|e| e.loc)
    }

    pub fn protected(f: &FnInsertFacts, occ: &InsertOcc) -> bool {
        occ.sql.on_conflict || f.marker || Self::preflight_before(f, occ.innermost, occ.order)
    }

    /// Crate functions a call may reach: same name, same number of arguments,
    /// methods for method calls, and the named type when the call names one.
    pub fn callees(&self, caller: &FnInsertFacts, event: &Event) -> Vec<usize> {
        let EventKind::Call { name, .. } = &event.kind else { return Vec::new() };
        let Some(candidates) = self.by_name.get(&**name) else { return Vec::new() };
        candidates.iter().copied().filter(|&g| self.may_call(caller, event, g)).collect()
    }

    /// Whether `event` (a call in `caller`) may call function `g`: same name, same
    /// number of arguments, a method for a method call, the named type when the
    /// call names one.
    fn may_call(&self, caller: &FnInsertFacts, event: &Event, g: usize) -> bool {
        let EventKind::Call { name, qualifier, args, method, on_self, on_field, awaited } = &event.kind else {
            return false;
        };
        let f = self.fns[g];
        if *f.name != **name || !self.packages.sees(caller.name_loc.file, f.name_loc.file) {
            return false;
        }
        // `map.insert(k, v)`, `vec.push(x)`: on anything but `self`, a standard-library
        // name is the collection's method, unless the call is awaited (`repo.insert(…).await`)
        // and then only an async function of the crate can be meant.
        let ambiguous = *method && !*on_self && self.ambiguous.contains(&**name);
        if ambiguous && !*awaited {
            return false;
        }
        // `x.f(a)`: a method; `f(a)`: a free function; `Type::f(&x, a)`: either.
        let arity = if *method {
            f.has_self && f.params == *args
        } else if qualifier.is_none() {
            !f.has_self && f.params == *args
        } else {
            f.params + usize::from(f.has_self) == *args || (!f.has_self && f.params == *args)
        };
        let qualifier_type = match qualifier.as_deref() {
            Some("Self") => caller.self_type.as_deref(),
            q => q,
        };
        let typed = match qualifier_type {
            // A type, a module, or a crate (`store::insert(…)`: a function of that package).
            Some(ty) => {
                f.self_type.as_deref() == Some(ty)
                    || self.modules[g] == ty
                    || self.modules[g].ends_with(&format!("::{ty}"))
                    || self.packages.names_crate_of(caller.name_loc.file, ty, f.name_loc.file)
            }
            // `Self::f` outside an impl names no type.
            None => true,
        };
        let same_impl = !*on_self || f.self_type == caller.self_type;
        // `self.store.save()`: the field's method, not one of the caller's own type
        // (a wrapper delegating to its inner value is not recursion).
        let other_impl = !*on_field || caller.self_type.is_none() || f.self_type != caller.self_type;
        arity && typed && same_impl && other_impl && (!ambiguous || f.is_async)
    }

    /// Which functions reach an unprotected insert: a worklist from the inserting
    /// functions back through their callers (linear in the call graph).
    fn fixpoint(&self) -> Vec<Option<Witness>> {
        let mut reaches: Vec<Option<Witness>> = self
            .fns
            .iter()
            .zip(&self.inserts)
            .map(|(f, occs)| {
                occs.iter().find(|o| !Self::protected(f, o)).map(|o| Witness {
                    insert: o.loc,
                    table: o.sql.table.clone(),
                    next: None,
                })
            })
            .collect();
        // Call events by the name they call, in (function, position) order; only
        // names of crate functions can lead anywhere.
        let mut calls_named: HashMap<&str, Vec<(usize, usize)>> = HashMap::default();
        for (i, f) in self.fns.iter().enumerate() {
            for (order, e) in f.events.iter().enumerate() {
                if let EventKind::Call { name, .. } = &e.kind
                    && self.by_name.contains_key(&**name)
                {
                    calls_named.entry(&**name).or_default().push((i, order));
                }
            }
        }
        let mut queue: std::collections::VecDeque<usize> =
            (0..self.fns.len()).filter(|&i| reaches[i].is_some()).collect();
        while let Some(g) = queue.pop_front() {
            let callers = calls_named.get(self.fns[g].name.as_str()).map_or(&[][..], Vec::as_slice);
            for &(i, order) in callers {
                let f = self.fns[i];
                if reaches[i].is_some() || !self.may_call(f, &f.events[order], g) {
                    continue;
                }
                if f.marker || Self::preflight_before(f, f.events[order].innermost, order) {
                    continue;
                }
                let w = reaches[g].as_ref().expect("queued functions reach");
                reaches[i] = Some(Witness { insert: w.insert, table: w.table.clone(), next: Some(g) });
                queue.push_back(i);
            }
        }
        reaches
    }

    /// The findings of `non-idempotent-insert`, by location (the first one found at
    /// a location): unguarded INSERTs in loops, and calls in loops (or recursive
    /// calls) that reach one. Functions with the marker comment report nothing.
    pub fn findings(&self) -> Vec<Finding<'_>> {
        let mut found: BTreeMap<Loc, Finding> = BTreeMap::new();
        for (i, &f) in self.fns.iter().enumerate() {
            if f.marker {
                continue;
            }
            for occ in &self.inserts[i] {
                if occ.innermost.is_none() || Analysis::protected(f, occ) {
                    continue;
                }
                found.entry(occ.loc).or_insert(Finding::Direct { f, occ });
            }
            for finding in self.call_findings(i) {
                found.entry(finding.loc()).or_insert(finding);
            }
        }
        found.into_values().collect()
    }

    /// Function `i`'s calls that reach an unguarded INSERT: in a loop (the first
    /// callee that reaches one), and outside loops one recursive call, at the first
    /// call of the first function of its recursion cycle.
    fn call_findings(&self, i: usize) -> Vec<Finding<'_>> {
        let f = self.fns[i];
        let mut out = Vec::new();
        let mut reported_recursion = false;
        for (order, callees) in self.edges_if_reaching(i) {
            let (order, e) = (*order, &f.events[*order]);
            if Analysis::preflight_before(f, e.innermost, order) {
                continue;
            }
            for &g in callees {
                let Some(witness) = &self.reaches[g] else { continue };
                let recursive = g == i || self.same_cycle(g, i);
                if e.innermost.is_none() && !recursive {
                    continue;
                }
                // Outside loops, one report per recursion cycle: at the first call of its first function.
                if e.innermost.is_none() {
                    if reported_recursion || !self.first_in_cycle(i) {
                        continue;
                    }
                    reported_recursion = true;
                }
                let through = self.chain(g);
                let callee = self.fns[g];
                out.push(Finding::Call(CallFinding { f, event: e, order, callee, witness, through, recursive }));
                break;
            }
        }
        out
    }

    /// The functions function `g` reaches its INSERT through (name, name location), in
    /// call order; empty when `g` holds the INSERT itself.
    pub fn chain(&self, g: usize) -> Vec<(String, Loc)> {
        let mut through = Vec::new();
        let mut at = self.reaches[g].as_ref().and_then(|w| w.next);
        while let Some(k) = at {
            through.push((self.fns[k].name.clone(), self.fns[k].name_loc));
            at = self.reaches[k].as_ref().and_then(|w| w.next);
        }
        through
    }

    /// The recursion cycle of function `i` (its strongly connected component).
    fn cycle_of(&self, i: usize) -> u32 {
        self.cycles.component(i, |k| self.edges(k).iter().flat_map(|(_, callees)| callees.iter().copied()))
    }

    /// Whether functions `a` and `b` call each other (directly or through others).
    pub fn same_cycle(&self, a: usize, b: usize) -> bool {
        self.cycle_of(a) == self.cycle_of(b)
    }

    /// Whether `i` comes first (by location) among the functions of its recursion
    /// cycle, so a cycle is reported once.
    pub fn first_in_cycle(&self, i: usize) -> bool {
        let members = self.cycles.members(self.cycle_of(i));
        members.iter().all(|&j| j == i || self.fns[i].name_loc <= self.fns[j].name_loc)
    }
}

/// Whether event `e` runs in every iteration of the loop `innermost` names
/// (anywhere in the function when there is none).
fn same_iteration(f: &FnInsertFacts, e: &Event, innermost: Option<u32>) -> bool {
    match innermost {
        Some(l) => f.within(e.innermost, l),
        None => true,
    }
}

/// The guarded inserts a function executes: its own SQL, and constants it uses.
fn resolve_inserts(f: &FnInsertFacts, ctx: &CheckCx, params: &InsertParams) -> Vec<InsertOcc> {
    let mut out = Vec::new();
    for (order, e) in f.events.iter().enumerate() {
        match &e.kind {
            EventKind::Insert(insert) => {
                let InsertEvent { sql, via } = &**insert;
                out.push(InsertOcc { sql: sql.clone(), loc: e.loc, via: via.clone(), innermost: e.innermost, order })
            }
            EventKind::ConstUse { name } => {
                for c in ctx.index.consts_named(name).filter(|c| ctx.packages.sees(f.name_loc.file, c.name_loc.file)) {
                    let Some(text) = const_text(&c.value) else { continue };
                    for i in crate::facts::sql::inserts(&text) {
                        if params.tables.iter().any(|t| i.targets(t)) {
                            let sql =
                                SqlInsert { table: i.table, on_conflict: i.on_conflict, from_select: i.from_select };
                            let via = Some((c.name_loc, format!("the SQL is the constant `{}`", c.name)));
                            out.push(InsertOcc { sql, loc: e.loc, via, innermost: e.innermost, order });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn const_text(value: &Value) -> Option<String> {
    match value {
        Value::Str { text, .. } => Some(text.clone()),
        Value::Macro { name, args, .. } if name == "concat" => {
            args.iter().map(|a| if let Value::Str { text, .. } = a { Some(text.as_str()) } else { None }).collect()
        }
        _ => None,
    }
}
