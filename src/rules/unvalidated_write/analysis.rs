//! The crate-wide reasoning: which validator each column is paired with (learned
//! from the create paths, or configured), and which writes of a paired column run
//! without it — in the writing function, through a crate helper it calls, or in
//! every caller before the call.

use super::extract::{At, Call, EntityTable, FnWrites, Kind, Marker, ValuePath, Write, WriteFacts, Written};
use super::{Params, UnvalidatedWrite};
use crate::input::source::{FileId, Loc};
use crate::rules::CheckCx;
use rustc_hash::FxHashMap as HashMap;

/// A column and the validator every write of it must call.
#[derive(Clone, Debug)]
pub struct Pairing {
    pub table: String,
    pub column: String,
    pub validator: String,
    pub origin: Origin,
    /// The table is a sea-orm entity's module, whose table is not known: it may be
    /// named in the plural (`workspace` for `workspaces`).
    pub fuzzy: bool,
    /// The file of the insert it was learned from (an entity not known pairs only
    /// with one of its file).
    pub file: Option<FileId>,
}

#[derive(Clone, Debug)]
pub enum Origin {
    /// Learned: `function` calls the validator at `call` on the value function
    /// `writer` inserts.
    Create { function: String, call: Loc, writer: usize },
    /// `[[rules.unvalidated-write.fields]]`, at its `validator` line when known.
    Configured(Option<(usize, usize)>),
}

/// A write of a paired column that the validator does not cover.
pub struct Unvalidated<'a> {
    pub function: &'a FnWrites,
    pub write: &'a Write,
    pub pairing: &'a Pairing,
    /// Calls of the validator in the function that do not cover the write, and why.
    pub misses: Vec<(Loc, Miss)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Miss {
    After,
    OtherValue,
    SomePaths,
}

pub struct Model<'a> {
    cx: &'a CheckCx<'a>,
    params: &'a Params,
    fns: Vec<&'a FnWrites>,
    by_loc: HashMap<Loc, usize>,
    /// For each function, its calls resolved to the crate's functions.
    callees: Vec<Vec<Vec<usize>>>,
    /// For each function, (caller, call index, certain) of every call of it: a
    /// method called on another receiver than `self` is matched by its name only,
    /// which teaches no pairing (`map.insert(k, v)` is no call of the crate's `insert`).
    callers: Vec<Vec<(usize, usize, bool)>>,
    /// The sea-orm entities of the crates checked, by their module's name.
    entities: HashMap<&'a str, Vec<&'a EntityTable>>,
}

impl<'a> Model<'a> {
    pub fn new(cx: &'a CheckCx<'a>, params: &'a Params) -> Self {
        let fns: Vec<&FnWrites> = cx.facts::<UnvalidatedWrite>().flat_map(|f: &WriteFacts| &f.fns).collect();
        let by_loc: HashMap<Loc, usize> = fns.iter().enumerate().map(|(i, f)| (f.name_loc, i)).collect();
        let mut entities: HashMap<&str, Vec<&EntityTable>> = HashMap::default();
        for e in cx.facts::<UnvalidatedWrite>().flat_map(|f: &WriteFacts| &f.entities) {
            entities.entry(e.module.as_str()).or_default().push(e);
        }
        let mut model = Model { cx, params, fns, by_loc, callees: Vec::new(), callers: Vec::new(), entities };
        model.callees = model.fns.iter().map(|f| f.calls.iter().map(|c| model.resolve(c)).collect()).collect();
        model.callers = vec![Vec::new(); model.fns.len()];
        for (i, calls) in model.callees.iter().enumerate() {
            for (k, targets) in calls.iter().enumerate() {
                let certain = {
                    let call = &model.fns[i].calls[k];
                    !call.method || call.args.first().is_some_and(|r| r.as_deref() == Some(&["self".to_string()][..]))
                };
                for &j in targets {
                    model.callers[j].push((i, k, certain));
                }
            }
        }
        model
    }

    /// The crate's functions a call names: a path as Rust resolves it, a method by
    /// its name among the crate's methods.
    fn resolve(&self, call: &Call) -> Vec<usize> {
        let locs: Vec<Loc> = if call.method {
            let name = call.name();
            self.cx
                .index
                .fns_named(name)
                .filter(|f| f.self_type.is_some() && self.cx.defs.sees(call.loc, f.name_loc))
                .map(|f| f.name_loc)
                .collect()
        } else {
            self.cx.fns_at(call.loc, &call.path).into_iter().map(|f| f.name_loc).collect()
        };
        let mut out: Vec<usize> = locs.iter().filter_map(|l| self.by_loc.get(l).copied()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    pub fn is_validator(&self, name: &str) -> bool {
        self.params.validator_prefixes.iter().any(|p| {
            name.strip_prefix(p.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
        })
    }

    /// Every pairing: learned from the create paths, then the configured ones.
    pub fn pairings(&self) -> Vec<Pairing> {
        let mut out: Vec<Pairing> = Vec::new();
        // (One pairing per create path: those of unrelated crates hold apart.)
        let writer = |p: &Pairing| match p.origin {
            Origin::Create { writer, .. } => Some(writer),
            Origin::Configured(_) => None,
        };
        let mut add = |p: Pairing| {
            if !out.iter().any(|o| {
                o.table == p.table && o.column == p.column && o.validator == p.validator && writer(o) == writer(&p)
            }) {
                out.push(p);
            }
        };
        for (i, f) in self.fns.iter().enumerate() {
            for w in f.writes.iter().filter(|w| w.kind == Kind::Insert) {
                let (table, fuzzy) = self.table_of(w);
                let create = |call: &Call| Pairing {
                    table: table.clone(),
                    column: w.column.clone(),
                    validator: call.name().to_string(),
                    origin: Origin::Create { function: f.name.clone(), call: call.loc, writer: i },
                    fuzzy,
                    file: Some(w.loc.file),
                };
                // In the inserting function, on the value it inserts…
                for call in &f.calls {
                    if self.is_validator(call.name()) && call.args.iter().flatten().any(|a| receives(a, w)) {
                        add(create(call));
                    }
                }
                // …or in a caller, on the value it passes for it.
                let Written::Value(value) = &w.value else { continue };
                for &(k, c, _) in self.callers[i].iter().filter(|(_, _, certain)| *certain) {
                    let Some(passed) = self.passed(i, value, &self.fns[k].calls[c]) else { continue };
                    let caller = self.fns[k];
                    for call in &caller.calls {
                        if self.is_validator(call.name())
                            && call.at.runs_before(&caller.calls[c].at)
                            && call.args.iter().flatten().any(|a| *a == passed)
                        {
                            add(Pairing {
                                table: table.clone(),
                                column: w.column.clone(),
                                validator: call.name().to_string(),
                                origin: Origin::Create {
                                    function: caller.name.clone(),
                                    call: call.loc,
                                    writer: i,
                                },
                                fuzzy,
                                file: Some(w.loc.file),
                            });
                        }
                    }
                }
            }
        }
        for field in &self.params.fields {
            add(Pairing {
                table: field.table.to_lowercase(),
                column: field.column.to_lowercase(),
                validator: field.validator.clone(),
                origin: Origin::Configured(field.at),
                fuzzy: false,
                file: None,
            });
        }
        out
    }

    /// The writes of paired columns (other than their create paths' own) that their
    /// validator does not cover.
    pub fn unvalidated(&self, pairings: &'a [Pairing]) -> Vec<Unvalidated<'a>> {
        let mut out = Vec::new();
        for (i, f) in self.fns.iter().enumerate() {
            for w in f.writes.iter().filter(|w| w.kind != Kind::Insert) {
                if matches!(w.marker, Marker::Reason(_)) {
                    continue;
                }
                let (table, fuzzy) = self.table_of(w);
                let holding: Vec<&Pairing> = pairings
                    .iter()
                    .filter(|p| p.column == w.column && tables_match(p, &table, fuzzy, w.loc.file))
                    // A pairing holds in the program of its create path.
                    .filter(|p| !matches!(p.origin, Origin::Create { call, .. } if !self.cx.defs.related(w.loc, call)))
                    .collect();
                let mut reported: Vec<&str> = Vec::new();
                for &p in &holding {
                    // A create path's own writes, and a validator reported already.
                    let own = |q: &&Pairing| q.validator == p.validator && matches!(q.origin, Origin::Create { writer, .. } if writer == i);
                    if holding.iter().any(own) || reported.contains(&p.validator.as_str()) {
                        continue;
                    }
                    reported.push(&p.validator);
                    if self.covered(i, w, &p.validator) {
                        continue;
                    }
                    let misses = self.misses(f, w, &p.validator);
                    out.push(Unvalidated { function: f, write: w, pairing: p, misses });
                }
            }
        }
        out
    }

    /// The table a write names, and whether it is a sea-orm entity's module whose
    /// table is not known (`fuzzy`). A sea-orm entity's table is the `table_name` its
    /// module declares: in the write's file, else in the crates related to it when they
    /// agree on it.
    fn table_of(&self, w: &Write) -> (String, bool) {
        if !w.entity || w.table.is_empty() {
            return (w.table.clone(), false);
        }
        let declared: Vec<&EntityTable> = self
            .entities
            .get(w.table.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|e| self.cx.defs.related(w.loc, e.loc))
            .collect();
        if let Some(e) = declared.iter().find(|e| e.loc.file == w.loc.file) {
            return (e.table.clone(), false);
        }
        match declared.split_first() {
            Some((first, rest)) if rest.iter().all(|e| e.table == first.table) => (first.table.clone(), false),
            _ => (w.table.clone(), true),
        }
    }

    /// Whether `validator` runs on the written value before write `w` of function `i`.
    fn covered(&self, i: usize, w: &Write, validator: &str) -> bool {
        let value = match &w.value {
            Written::Value(v) => Some(v.clone()),
            Written::Unknown => None,
        };
        if self.validated_before(i, &w.at, value.as_ref(), validator) {
            return true;
        }
        if let Some(v) = &value
            && self.returned_validated(i, &w.at, v, validator)
        {
            return true;
        }
        // Every caller validates before it calls the function.
        let callers = &self.callers[i];
        !callers.is_empty()
            && callers.iter().all(|&(k, c, _)| {
                let call = &self.fns[k].calls[c];
                let passed = value.as_ref().and_then(|v| self.passed(i, v, call));
                self.validated_before(k, &call.at, passed.as_ref(), validator)
                    || call.args.iter().flatten().any(|a| self.validated_before(k, &call.at, Some(a), validator))
            })
    }

    /// In function `i`, before `at` on every path: a call of `validator` on `value`
    /// (or on what holds it; any call of it when the value is not known), or of a crate helper given the value (or what holds it) that calls it.
    fn validated_before(&self, i: usize, at: &At, value: Option<&ValuePath>, validator: &str) -> bool {
        let f = self.fns[i];
        f.calls.iter().enumerate().any(|(k, call)| {
            if !runs_before(f, call, at) {
                return false;
            }
            let given = |strict: bool| match value {
                None => true,
                Some(v) => call.args.iter().flatten().any(|a| v.starts_with(a) || (!strict && a.starts_with(v))),
            };
            if call.name() == validator {
                return given(true);
            }
            given(false) && self.callees[i][k].iter().any(|&j| self.calls_inside(j, validator, 2))
        })
    }

    /// Whether `value` is (a field of) a local that a `let` binds to what a crate
    /// function returns (`let pct = checked_pct(v, body.pct)?`), when every function
    /// the call may be returns one parameter (or a field of it) and validates it
    /// before each of its returns.
    fn returned_validated(&self, i: usize, at: &At, value: &ValuePath, validator: &str) -> bool {
        let f = self.fns[i];
        let Some(head) = value.first() else { return false };
        // The `let` of the local that the write sees: the last one before it.
        let Some(bound) = f.lets.iter().filter(|(name, pos)| name == head && *pos < at.pos).map(|(_, pos)| *pos).max()
        else {
            return false;
        };
        let Some(k) = f.calls.iter().position(|c| c.result.as_ref().is_some_and(|(n, pos)| n == head && *pos == bound))
        else {
            return false;
        };
        if !f.calls[k].at.runs_before(at) {
            return false;
        }
        let targets = &self.callees[i][k];
        !targets.is_empty()
            && targets.iter().all(|&j| {
                let Some(returned) = returned_param(self.fns[j]) else { return false };
                let mut inner = returned.clone();
                inner.extend(value[1..].iter().cloned());
                self.fns[j].returns.iter().all(|(_, ret)| self.validated_before(j, ret, Some(&inner), validator))
            })
    }

    /// Whether function `j` calls `validator`, itself or through crate functions
    /// `depth` levels down.
    fn calls_inside(&self, j: usize, validator: &str, depth: usize) -> bool {
        let f = self.fns[j];
        f.calls.iter().any(|c| c.name() == validator)
            || (depth > 1 && self.callees[j].iter().flatten().any(|&k| k != j && self.calls_inside(k, validator, depth - 1)))
    }

    /// The value a caller passes for `value` of function `callee` (a parameter and
    /// its fields), at `call`.
    fn passed(&self, callee: usize, value: &ValuePath, call: &Call) -> Option<ValuePath> {
        let head = value.first()?;
        let params = &self.fns[callee].params;
        let p = params.iter().position(|p| p.as_deref() == Some(head.as_str()))?;
        // (A method's receiver is its first argument, as `self` is its first parameter.)
        let mut arg = call.args.get(p)?.clone()?;
        arg.extend(value[1..].iter().cloned());
        Some(arg)
    }

    /// The validator's calls in the writing function that do not cover the write.
    fn misses(&self, f: &FnWrites, w: &Write, validator: &str) -> Vec<(Loc, Miss)> {
        f.calls
            .iter()
            .filter(|c| c.name() == validator)
            .map(|c| {
                let on_value = match &w.value {
                    Written::Value(v) => c.args.iter().flatten().any(|a| v.starts_with(a)),
                    Written::Unknown => true,
                };
                let miss = if c.at.pos > w.at.pos {
                    Miss::After
                } else if !on_value {
                    Miss::OtherValue
                } else {
                    Miss::SomePaths
                };
                (c.loc, miss)
            })
            .collect()
    }
}

/// Whether `call` runs before `later` on every path that reaches it: earlier in a
/// block enclosing it; or, when its failure leaves the function, in the body of an
/// `if let`, a `match` arm or a `for` loop (decided by its pattern alone) followed in
/// the same block by another with the same pattern and value, which holds `later`:
/// `if let Some(p) = req.pct { validate(p)?; } … if let Some(p) = req.pct { write }`.
fn runs_before(f: &FnWrites, call: &Call, later: &At) -> bool {
    if call.at.runs_before(later) {
        return true;
    }
    if !call.checked || call.at.pos >= later.pos {
        return false;
    }
    let blocks = &call.at.blocks;
    let Some(&body) = blocks.last() else { return false };
    // (A `match` arm's block is pushed twice: as the arm and as the block.)
    let outer = blocks.iter().rposition(|&b| b != body).map_or(0, |p| p + 1);
    let Some(guard) = f.guards.iter().find(|g| g.block == body && g.sole) else { return false };
    later.blocks.starts_with(&blocks[..outer])
        && later
            .blocks
            .get(outer)
            .is_some_and(|&b| b != body && f.guards.iter().any(|g| g.block == b && g.key == guard.key))
}

/// The parameter (or a field of it) a function returns on every return, if any.
fn returned_param(f: &FnWrites) -> Option<&ValuePath> {
    let (first, rest) = f.returns.split_first()?;
    let value = first.0.as_ref()?;
    let head = value.first()?;
    (f.params.iter().any(|p| p.as_ref() == Some(head)) && rest.iter().all(|(v, _)| v.as_ref() == Some(value)))
        .then_some(value)
}

/// Whether a validator's argument is the value an insert writes (a field named like
/// the column, when the value is not known).
fn receives(arg: &ValuePath, w: &Write) -> bool {
    match &w.value {
        Written::Value(v) => arg == v,
        Written::Unknown => arg.len() > 1 && arg.last().is_some_and(|l| *l == w.column),
    }
}

/// Whether a pairing's table is the one written. A sea-orm entity's module whose
/// table is not known may name the table in the singular (`workspace` for
/// `workspaces`); an entity not known at all (an empty table) is matched only by
/// another of the same file, never by a table.
fn tables_match(p: &Pairing, table: &str, fuzzy: bool, file: FileId) -> bool {
    let (a, b) = (p.table.as_str(), table);
    if a.is_empty() || b.is_empty() {
        return a == b && p.file == Some(file);
    }
    a == b || ((p.fuzzy || fuzzy) && (format!("{a}s") == b || format!("{b}s") == a))
}
