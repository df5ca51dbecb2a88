//! Backends passed to helpers: a backend value passed as an argument makes the
//! callee's parameter a backend, and a verb called on that parameter is a backend
//! call of the helper. Callees are resolved with the crate-wide name model (a path
//! from the caller's module, a method by its receiver's type: `self`, a typed
//! parameter, their fields' declared types); an unresolvable callee is
//! followed only when one function of the crate has its name. A helper handing the
//! parameter on is followed too, up to [`MAX_DEPTH`] calls deep.

use super::{Callee, DirectProvisionerCall, ParamCall, Pass, ProvisionerParams, Receiver};
use crate::facts::defs::{Resolved, TypeKey};
use crate::input::source::Loc;
use crate::rules::CheckCx;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// How many calls deep a backend is followed from where it is passed.
const MAX_DEPTH: usize = 4;

/// A verb called on a parameter that a backend reaches, and how it gets there: the
/// backend passed first, then each helper handing it on.
pub(super) struct PassedCall<'a> {
    pub call: &'a ParamCall,
    pub chain: Vec<&'a Pass>,
}

/// Every verb call on a parameter that some caller passes a backend to, once per
/// call site, with the first chain found (callers in file order).
pub(super) fn passed_backend_calls<'a>(cx: &CheckCx<'a>, params: &ProvisionerParams) -> Vec<PassedCall<'a>> {
    let mut calls_of: HashMap<Loc, Vec<&'a ParamCall>> = HashMap::default();
    let mut handed_on: HashMap<Loc, Vec<&'a Pass>> = HashMap::default();
    let mut passed: Vec<&'a Pass> = Vec::new();
    for facts in cx.facts::<DirectProvisionerCall>() {
        for call in &facts.param_calls {
            calls_of.entry(call.fn_loc).or_default().push(call);
        }
        for pass in &facts.passes {
            match pass.origin.param {
                Some(_) => handed_on.entry(pass.fn_loc).or_default().push(pass),
                // A field declared with a type that holds no backend is not one.
                None if super::declared::holds_no_backend(cx, params, &pass.origin, pass.loc) => {}
                None => passed.push(pass),
            }
        }
    }
    if calls_of.is_empty() {
        return Vec::new();
    }
    let follow = Follow { cx, params, calls_of, handed_on };
    let mut out: Vec<PassedCall<'a>> = Vec::new();
    let mut seen: HashSet<Loc> = HashSet::default();
    for pass in passed {
        follow.walk(&mut vec![pass], &mut out, &mut seen);
    }
    out
}

struct Follow<'c, 'a> {
    cx: &'c CheckCx<'a>,
    params: &'c ProvisionerParams,
    /// Verb calls on parameters, by the function's name location.
    calls_of: HashMap<Loc, Vec<&'a ParamCall>>,
    /// Parameters passed on to other functions, by the function's name location.
    handed_on: HashMap<Loc, Vec<&'a Pass>>,
}

impl<'a> Follow<'_, 'a> {
    /// The calls the last pass of `chain` reaches.
    fn walk(&self, chain: &mut Vec<&'a Pass>, out: &mut Vec<PassedCall<'a>>, seen: &mut HashSet<Loc>) {
        let pass = *chain.last().expect("a chain starts with a pass");
        for callee in self.callees(pass) {
            // The dispatcher and the backends may hold a backend; constructors wire them.
            let file = &self.cx.db.get(callee.file).display;
            if self.params.is_exempt_path(file) {
                continue;
            }
            let Some(param) = self.param_index(callee, pass) else { continue };
            for call in self.calls_of.get(&callee).into_iter().flatten().filter(|c| c.param == param) {
                if seen.insert(call.loc) {
                    out.push(PassedCall { call, chain: chain.clone() });
                }
            }
            if chain.len() >= MAX_DEPTH {
                continue;
            }
            for next in self.handed_on.get(&callee).into_iter().flatten() {
                if next.origin.param == Some(param) && !chain.iter().any(|p| std::ptr::eq(*p, *next)) {
                    chain.push(next);
                    self.walk(chain, out, seen);
                    chain.pop();
                }
            }
        }
    }

    /// The functions a pass's call names, by the location of their name.
    fn callees(&self, pass: &Pass) -> Vec<Loc> {
        let defs = &self.cx.defs;
        let at = defs.context(pass.loc);
        let (name, method) = match &pass.callee {
            Callee::Path(path) => match defs.resolve(&at, path) {
                Resolved::Items(locs) => return locs,
                Resolved::External => return Vec::new(),
                Resolved::Unknown => (path.last().map_or("", String::as_str), false),
            },
            Callee::Method { name, receiver } => {
                let ty = match receiver {
                    Receiver::SelfValue(fields) => at.self_ty.clone().and_then(|ty| self.through_fields(ty, fields)),
                    Receiver::Typed(path, fields) => defs
                        .type_key(at.module, path, at.self_ty.as_ref())
                        .and_then(|ty| self.through_fields(ty, fields)),
                    Receiver::Unknown => None,
                };
                if let Some(ty) = ty {
                    let found = defs.methods_seen_from(&ty, name, Some(at.module));
                    if !found.is_empty() {
                        return found;
                    }
                }
                (name.as_str(), true)
            }
        };
        // Not resolvable: only a function that is the crate's one of that name.
        let mut named = self.cx.index.fns_named(name).filter(|f| {
            (f.self_type.is_some() || !method)
                && defs.sees(pass.loc, f.name_loc)
                && (method || defs.may_name_unresolved(pass.loc, f.name_loc))
        });
        match (named.next(), named.next()) {
            (Some(only), None) => vec![only.name_loc],
            _ => Vec::new(),
        }
    }

    /// The type of the field `fields` names, one after the other, from a value of `ty`.
    fn through_fields(&self, ty: TypeKey, fields: &[String]) -> Option<TypeKey> {
        fields.iter().try_fold(ty, |ty, field| self.cx.defs.field_type(&ty, field))
    }

    /// The callee's parameter an argument is (`self` not counted): a path call of a
    /// method passes `self` first (`Handler::retry(&h, p)`). A callee taking another
    /// number of arguments is not the one called.
    fn param_index(&self, callee: Loc, pass: &Pass) -> Option<u16> {
        let info = self.cx.defs.fn_at(callee)?;
        let def = self.cx.files.get(info.file)?.names.fns.get(info.index as usize)?;
        if self.params.constructors.iter().any(|c| **c == *def.name) {
            return None;
        }
        let (index, args) = match pass.callee {
            Callee::Path(_) if def.has_self => (pass.arg.checked_sub(1)?, pass.args.checked_sub(1)?),
            _ => (pass.arg, pass.args),
        };
        (args == def.params).then_some(index)
    }
}
