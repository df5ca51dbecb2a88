//! Repeated contexts: a function's loops (`for`, `while`, `loop`, opened by the
//! visitor) and the closures an iterator adapter runs once per item (`.map(…)` on
//! an iterator chain, `.for_each(…)`).

use super::{CLOSURE_ARG, Extractor, LoopFact, strip};

/// Iterator methods that end the iteration in one value.
const ITERATION_ENDS: &[&str] = &[
    "find", "find_map", "next", "next_back", "last", "nth", "position", "rposition", "max", "min", "max_by",
    "min_by", "max_by_key", "min_by_key", "count", "sum", "product", "reduce", "collect", "any", "all", "first",
    "get", "ok", "err", "try_fold", "fold",
];

/// `Option`/`Result`/future combinators: their closures run at most once.
const COMBINATORS: &[&str] = &[
    "map_err", "map_or", "map_or_else", "unwrap_or_else", "ok_or_else", "or_else", "and_then", "is_some_and",
    "is_ok_and", "is_none_or", "inspect_err", "with_context", "context", "get_or_insert_with", "or_insert_with",
    "entry", "then_some", "sort_by", "sort_by_key", "retain", "spawn", "spawn_blocking",
];
use crate::facts::lower::Lowerer;
use crate::facts::value::Value;
use crate::input::source::Loc;
use syn::visit::Visit;

/// How a block or an expression leaves the loops around it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Exit {
    /// `return`: every loop of the function (or of the closure it is in).
    Return,
    /// `break` without a label: the innermost `for`, `while` or `loop`.
    Break,
}

impl Exit {
    /// How a statement leaves, if it always does: a `return` or an unlabelled `break`
    /// itself, a block holding one, an `if … else` or a `match` every branch of which
    /// leaves (the nearer exit of the two when they differ). An `if` without `else`
    /// may fall through, and does not leave.
    pub(super) fn of(expr: &syn::Expr) -> Option<Exit> {
        match expr {
            syn::Expr::Return(_) => Some(Exit::Return),
            syn::Expr::Break(b) if b.label.is_none() => Some(Exit::Break),
            syn::Expr::Block(b) if b.label.is_none() => Exit::of_block(&b.block),
            syn::Expr::Paren(p) => Exit::of(&p.expr),
            syn::Expr::Macro(m) => Exit::of_macro(&m.mac),
            syn::Expr::If(i) => {
                let (_, other) = i.else_branch.as_ref()?;
                Exit::nearer(Exit::of_block(&i.then_branch)?, Exit::of(other)?)
            }
            syn::Expr::Match(m) if !m.arms.is_empty() => {
                m.arms.iter().try_fold(Exit::Return, |acc, arm| Exit::nearer(acc, Exit::of(&arm.body)?))
            }
            _ => None,
        }
    }

    /// How a block leaves, if one of its statements always does.
    pub(super) fn of_block(block: &syn::Block) -> Option<Exit> {
        block.stmts.iter().find_map(|s| match s {
            syn::Stmt::Expr(e, _) => Exit::of(e),
            syn::Stmt::Macro(m) => Exit::of_macro(&m.mac),
            _ => None,
        })
    }

    /// `bail!(..)` returns an error; `panic!`, `unreachable!`, `todo!` and
    /// `unimplemented!` end the function too.
    fn of_macro(mac: &syn::Macro) -> Option<Exit> {
        const DIVERGING: &[&str] = &["bail", "panic", "unreachable", "todo", "unimplemented"];
        let name = mac.path.segments.last()?.ident.to_string();
        DIVERGING.contains(&name.as_str()).then_some(Exit::Return)
    }

    fn nearer(a: Exit, b: Exit) -> Option<Exit> {
        Some(if a == Exit::Break || b == Exit::Break { Exit::Break } else { Exit::Return })
    }
}

impl Extractor<'_> {
    /// Runs `body` (code that ends in `exit`) outside the loops `exit` leaves: it runs
    /// at most once per entry of what is left open (`for e in entries { if ok(e) {
    /// return insert(e); } }` inserts once per call).
    pub(super) fn leaving(&mut self, exit: Exit, body: impl FnOnce(&mut Self)) {
        let Some(f) = self.stack.last_mut() else {
            body(self);
            return;
        };
        let floor = f.floors.last().copied().unwrap_or(0);
        let keep = match exit {
            Exit::Return => floor,
            Exit::Break => match f.open_loops.last() {
                Some(&l) if f.open_loops.len() > floor && matches!(f.facts.loops[l].kind.as_str(), "for" | "while" | "loop") => {
                    f.open_loops.len() - 1
                }
                _ => f.open_loops.len(),
            },
        };
        if keep >= f.open_loops.len() {
            body(self);
            return;
        }
        let saved = f.open_loops.clone();
        f.open_loops.truncate(keep);
        body(self);
        if let Some(f) = self.stack.last_mut() {
            f.open_loops = saved;
        }
    }

    /// Runs `body` (a closure or an `async` block) as a scope a `return` leaves.
    pub(super) fn with_floor(&mut self, body: impl FnOnce(&mut Self)) {
        if let Some(f) = self.stack.last_mut() {
            f.floors.push(f.open_loops.len());
        }
        body(self);
        if let Some(f) = self.stack.last_mut() {
            f.floors.pop();
        }
    }

    /// Runs `body` inside a new repeated context of the current function.
    pub(super) fn with_loop(&mut self, header: Loc, kind: &str, body: impl FnOnce(&mut Self)) {
        let Some(f) = self.stack.last_mut() else {
            body(self);
            return;
        };
        let parent = f.innermost();
        f.facts.loops.push(LoopFact { header, kind: kind.to_string(), parent, arg_of: None, repeated_at: None });
        let id = f.facts.loops.len() - 1;
        f.open_loops.push(id);
        body(self);
        if let Some(f) = self.stack.last_mut() {
            f.open_loops.pop();
        }
    }

    /// A call's arguments; each closure among them is a context of its own
    /// ([`CLOSURE_ARG`]), which repeats if the function called calls it in a loop.
    /// Returns the closures' contexts with their argument positions.
    pub(super) fn visit_call_args<'e>(
        &mut self,
        args: impl Iterator<Item = &'e syn::Expr>,
        loc: Loc,
    ) -> Vec<(usize, u32)> {
        let mut closures = Vec::new();
        for (k, arg) in args.enumerate() {
            if matches!(strip(arg), syn::Expr::Closure(_)) && !self.stack.is_empty() {
                self.with_loop(loc, CLOSURE_ARG, |s| s.visit_expr(arg));
                let id = self.stack.last().map_or(0, |f| f.facts.loops.len() - 1);
                closures.push((id, k as u32));
            } else {
                self.visit_expr(arg);
            }
        }
        closures
    }

    /// Pushes a call event and links the closures passed to it (see [`Self::visit_call_args`]).
    pub(super) fn push_call_event(&mut self, kind: super::EventKind, loc: Loc, closures: Vec<(usize, u32)>) {
        let before = self.stack.last().map_or(0, |f| f.facts.events.len());
        self.push_event(kind, loc);
        let Some(f) = self.stack.last_mut() else { return };
        if f.facts.events.len() > before {
            for (id, k) in closures {
                f.facts.loops[id].arg_of = Some((before as u32, k));
            }
        }
    }

    /// A local called by name: a parameter called inside a loop of the function makes
    /// it a retry function for that parameter.
    pub(super) fn local_called(&mut self, name: &str) {
        let Some(f) = self.stack.last_mut() else { return };
        // Only the function's own loops count (not a closure context it passes on).
        let own_loop = f.open_loops.iter().rev().find(|&&l| f.facts.loops[l].kind != CLOSURE_ARG);
        if let Some(k) = f.param_names.iter().position(|p| p == name)
            && let Some(&l) = own_loop
            && !f.facts.repeats_params.iter().any(|(p, _)| *p == k as u32)
        {
            let header = f.facts.loops[l].header;
            f.facts.repeats_params.push((k as u32, header));
        }
    }

    /// Whether a call path (`with_retry`, `tokio_retry::Retry::spawn`) names a retry
    /// wrapper: an entry of `retry-wrappers` ends it, whole segments.
    pub(super) fn is_retry_wrapper(&self, path: &[String]) -> bool {
        let named = |path: &[String]| {
            self.params.retry_wrappers.iter().any(|w| {
                let mut have = path.iter().rev();
                w.rsplit("::").all(|want| have.next().is_some_and(|h| h == want))
            })
        };
        // Also under another name: `use backoff::future::retry as bretry;`.
        named(path) || self.imported(path).is_some_and(|full| named(&full))
    }

    /// A retry wrapper's arguments: its closures run again until one succeeds, a
    /// repeated context of their own (an INSERT committed before a timeout fires runs
    /// again).
    pub(super) fn visit_retried_args<'e>(&mut self, args: impl Iterator<Item = &'e syn::Expr>, name: &str, loc: Loc) {
        for arg in args {
            if matches!(strip(arg), syn::Expr::Closure(_)) {
                self.with_loop(loc, &format!("retry {name}"), |s| s.visit_expr(arg));
            } else {
                self.visit_expr(arg);
            }
        }
    }

    /// Whether a receiver chain shows an iterator or stream (a range, `iter()`,
    /// `stream::iter`, … from `iterator-sources`). Only the chain's own spine counts,
    /// outermost call first: `xs.iter().find(..).and_then(..)` ended in one value (an
    /// Option or a Result) whose adapters run at most once, and a source inside a
    /// closure argument (`.and_then(|v| v.iter().next())`) is that closure's business.
    fn is_iterator_chain(&self, receiver: &syn::Expr) -> bool {
        let is_source = |name: &str| self.params.iterator_sources.iter().any(|s| s == name);
        let mut at = strip(receiver);
        loop {
            match at {
                syn::Expr::MethodCall(m) => {
                    let method = m.method.to_string();
                    if ITERATION_ENDS.contains(&method.as_str()) {
                        return false;
                    }
                    if is_source(&method) {
                        return true;
                    }
                    at = strip(&m.receiver);
                }
                syn::Expr::Range(_) => return true,
                syn::Expr::Field(f) => at = strip(&f.base),
                syn::Expr::Try(t) => at = strip(&t.expr),
                syn::Expr::Await(a) => at = strip(&a.base),
                // A local declared an iterator or a stream (`rows: impl Stream<..>`).
                syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.is_iterator_local(&i.to_string())) => {
                    return true;
                }
                other => {
                    let mut names = Vec::new();
                    self.lowerer_lower_quiet(other).names(&mut names);
                    return names.iter().any(|n| is_source(n));
                }
            }
        }
    }

    fn lowerer_lower_quiet(&self, expr: &syn::Expr) -> Value {
        let mut l = Lowerer::new(self.lowerer.file, self.lowerer.source);
        l.lower(expr)
    }

    /// A method call's arguments: inside a repeated context when the method is an
    /// iterator adapter on an iterator chain (its closure runs once per item).
    pub(super) fn visit_method_args(&mut self, m: &syn::ExprMethodCall, method: &str, loc: Loc) -> Vec<(usize, u32)> {
        if self.is_retry_wrapper(&[method.to_string()]) {
            self.visit_retried_args(m.args.iter(), method, loc);
            return Vec::new();
        }
        let repeated = self.params.iterator_adapters.iter().any(|a| a == method)
            && (self.params.iterator_only_adapters.iter().any(|a| a == method) || self.is_iterator_chain(&m.receiver));
        if repeated {
            let kind = format!(".{method}()");
            // `.filter(|x| !existing.contains(..)).map(|x| insert(x))`: checked first.
            let hoisted = self.filtered_by_existing(&m.receiver);
            self.with_loop(loc, &kind, |s| {
                if let Some(at) = hoisted {
                    s.push_hoisted_preflight(at);
                }
                for arg in &m.args {
                    s.visit_expr(arg);
                }
            });
            Vec::new()
        } else if self.params.iterator_adapters.iter().any(|a| a == method) || COMBINATORS.contains(&method) {
            // `Option::map(|x| …)`, `.map_err(|e| …)`: run once, never a retry.
            let outer = self.in_error_handler;
            self.in_error_handler = outer || super::sql_locals::ERROR_PLUMBING.contains(&method);
            for arg in &m.args {
                self.visit_expr(arg);
            }
            self.in_error_handler = outer;
            Vec::new()
        } else {
            self.visit_call_args(m.args.iter(), loc)
        }
    }
}
