//! Crate-wide analysis shared by `non-idempotent-insert` and `insert-allowlist`:
//! resolves constants holding SQL, decides which inserts are protected, and which
//! functions reach an unprotected insert through calls (a fixpoint over the call
//! graph by name, so recursion is handled).

use super::InsertParams;
use super::extract::{Event, EventKind, FnInsertFacts, SqlInsert};
use crate::engine::CheckContext;
use crate::source::Loc;
use crate::value::Value;
use rustc_hash::{FxHashMap as HashMap, FxHashSet};

/// An INSERT into a guarded table, as executed in one function.
#[derive(Clone, Debug)]
pub struct InsertOcc {
    pub sql: SqlInsert,
    /// Where it runs (the literal, or the use of a local or constant).
    pub loc: Loc,
    /// Where the SQL was written, when elsewhere (a local or constant).
    pub via: Option<(Loc, String)>,
    pub loops: Vec<usize>,
    /// Position among the function's events.
    pub order: usize,
}

/// How an unprotected insert is reached from a function: the chain of calls and the insert.
#[derive(Clone, Debug)]
pub struct Witness {
    pub insert: Loc,
    pub table: String,
    /// Functions along the way (name, name location), callee first.
    pub through: Vec<(String, Loc)>,
}

pub struct Analysis<'a> {
    pub fns: Vec<&'a FnInsertFacts>,
    /// Per function (same index as `fns`): the guarded inserts it executes itself.
    pub inserts: Vec<Vec<InsertOcc>>,
    /// Per function: an unprotected insert it reaches, itself or through calls.
    pub reaches: Vec<Option<Witness>>,
    /// Per function: its call events that may reach crate functions, as
    /// (event position, candidate callees). Computed once.
    pub edges: Vec<Vec<(usize, Vec<usize>)>>,
    by_name: HashMap<&'a str, Vec<usize>>,
    ambiguous: FxHashSet<String>,
}

impl<'a> Analysis<'a> {
    pub fn new(ctx: &'a CheckContext, params: &InsertParams) -> Self {
        let fns: Vec<&FnInsertFacts> =
            ctx.facts.iter().filter_map(|f| f.inserts.as_ref()).flat_map(|f| f.fns.iter()).collect();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::default();
        for (i, f) in fns.iter().enumerate() {
            by_name.entry(f.name.as_str()).or_default().push(i);
        }
        let inserts: Vec<Vec<InsertOcc>> = fns.iter().map(|f| resolve_inserts(f, ctx, params)).collect();
        let ambiguous = params.ambiguous_methods.iter().cloned().collect();
        let mut analysis = Analysis { fns, inserts, reaches: Vec::new(), edges: Vec::new(), by_name, ambiguous };
        analysis.edges = analysis
            .fns
            .iter()
            .map(|f| {
                f.events
                    .iter()
                    .enumerate()
                    .filter_map(|(order, e)| {
                        let callees = analysis.callees(f, e);
                        (!callees.is_empty()).then_some((order, callees))
                    })
                    .collect()
            })
            .collect();
        analysis.reaches = analysis.fixpoint();
        analysis
    }

    /// Whether `event` (at position `order`) is preceded by a preflight call in the
    /// same iteration: inside the event's innermost loop, or anywhere earlier when
    /// the event is in no loop of this function.
    pub fn preflight_before(f: &FnInsertFacts, loops: &[usize], order: usize) -> bool {
        f.preflights.iter().take_while(|&&p| p < order).any(|&p| same_iteration(&f.events[p], loops))
    }

    /// A preflight call in the same iteration but after `order`: protects nothing.
    pub fn preflight_after(f: &FnInsertFacts, loops: &[usize], order: usize) -> Option<Loc> {
        f.preflights
            .iter()
            .filter(|&&p| p > order)
            .map(|&p| &f.events[p])
            .find(|e| same_iteration(e, loops))
            .map(|e| e.loc)
    }

    pub fn protected(f: &FnInsertFacts, occ: &InsertOcc) -> bool {
        occ.sql.on_conflict || f.marker || Self::preflight_before(f, &occ.loops, occ.order)
    }

    /// Crate functions a call may reach: same name, same number of arguments,
    /// methods for method calls, and the named type when the call names one.
    pub fn callees(&self, caller: &FnInsertFacts, event: &Event) -> Vec<usize> {
        let EventKind::Call { name, qualifier, args, method, on_self, awaited } = &event.kind else {
            return Vec::new();
        };
        let Some(candidates) = self.by_name.get(name.as_str()) else { return Vec::new() };
        // `map.insert(k, v)`, `vec.push(x)`: on anything but `self`, a standard-library
        // name is the collection's method, unless the call is awaited (`repo.insert(…).await`)
        // and then only an async function of the crate can be meant.
        let ambiguous = *method && !*on_self && self.ambiguous.contains(name.as_str());
        if ambiguous && !*awaited {
            return Vec::new();
        }
        let qualifier_type =
            qualifier.as_ref().map(|q| if q == "Self" { caller.self_type.clone() } else { Some(q.clone()) });
        candidates
            .iter()
            .copied()
            .filter(|&i| {
                let f = self.fns[i];
                // `x.f(a)`: a method; `f(a)`: a free function; `Type::f(&x, a)`: either.
                let arity = if *method {
                    f.has_self && f.params == *args
                } else if qualifier.is_none() {
                    !f.has_self && f.params == *args
                } else {
                    f.params + usize::from(f.has_self) == *args || (!f.has_self && f.params == *args)
                };
                let typed = match &qualifier_type {
                    Some(Some(ty)) => f.self_type.as_deref() == Some(ty.as_str()) || f.module.ends_with(ty.as_str()),
                    _ => true,
                };
                let same_impl = !*on_self || f.self_type == caller.self_type;
                arity && typed && same_impl && (!ambiguous || f.is_async)
            })
            .collect()
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
                    through: Vec::new(),
                })
            })
            .collect();
        let mut callers: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.fns.len()];
        for (i, edges) in self.edges.iter().enumerate() {
            for (order, callees) in edges {
                for &g in callees {
                    callers[g].push((i, *order));
                }
            }
        }
        let mut queue: std::collections::VecDeque<usize> =
            (0..self.fns.len()).filter(|&i| reaches[i].is_some()).collect();
        while let Some(g) = queue.pop_front() {
            for &(i, order) in &callers[g] {
                let f = self.fns[i];
                if reaches[i].is_some() || f.marker || Self::preflight_before(f, &f.events[order].loops, order) {
                    continue;
                }
                let w = reaches[g].as_ref().expect("queued functions reach");
                let mut through = vec![(self.fns[g].name.clone(), self.fns[g].name_loc)];
                through.extend(w.through.iter().cloned());
                reaches[i] = Some(Witness { insert: w.insert, table: w.table.clone(), through });
                queue.push_back(i);
            }
        }
        reaches
    }

    /// Whether function `from` can call function `to` (directly or through others).
    pub fn calls_into(&self, from: usize, to: usize) -> bool {
        let mut seen = vec![false; self.fns.len()];
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            for (_, callees) in &self.edges[i] {
                for &g in callees {
                    if g == to {
                        return true;
                    }
                    if !seen[g] {
                        seen[g] = true;
                        stack.push(g);
                    }
                }
            }
        }
        false
    }

    /// Whether `i` comes first (by location) among the functions of its recursion
    /// cycle, so a cycle is reported once.
    pub fn first_in_cycle(&self, i: usize) -> bool {
        (0..self.fns.len()).all(|j| {
            j == i || !(self.calls_into(i, j) && self.calls_into(j, i)) || self.fns[i].name_loc <= self.fns[j].name_loc
        })
    }
}

fn same_iteration(e: &Event, loops: &[usize]) -> bool {
    match loops.last() {
        Some(innermost) => e.loops.contains(innermost),
        None => true,
    }
}

/// The guarded inserts a function executes: its own SQL, and constants it uses.
fn resolve_inserts(f: &FnInsertFacts, ctx: &CheckContext, params: &InsertParams) -> Vec<InsertOcc> {
    let mut out = Vec::new();
    for (order, e) in f.events.iter().enumerate() {
        match &e.kind {
            EventKind::Insert { sql, via } => {
                out.push(InsertOcc { sql: sql.clone(), loc: e.loc, via: via.clone(), loops: e.loops.clone(), order })
            }
            EventKind::ConstUse { name } => {
                for c in ctx.index.consts_named(name) {
                    let Some(text) = const_text(&c.value) else { continue };
                    for i in crate::sql::inserts(&text) {
                        if params.tables.iter().any(|t| i.targets(t)) {
                            let sql =
                                SqlInsert { table: i.table, on_conflict: i.on_conflict, from_select: i.from_select };
                            let via = Some((c.name_loc, format!("the SQL is the constant `{}`", c.name)));
                            out.push(InsertOcc { sql, loc: e.loc, via, loops: e.loops.clone(), order });
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
