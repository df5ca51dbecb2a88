//! Repeated contexts: a function's loops (`for`, `while`, `loop`, opened by the
//! visitor) and the closures an iterator adapter runs once per item (`.map(…)` on
//! an iterator chain, `.for_each(…)`).

use super::{Extractor, LoopFact, strip};
use crate::facts::lower::Lowerer;
use crate::facts::value::Value;
use crate::input::source::Loc;
use syn::visit::Visit;

impl Extractor<'_> {
    /// Runs `body` inside a new repeated context of the current function.
    pub(super) fn with_loop(&mut self, header: Loc, kind: &str, body: impl FnOnce(&mut Self)) {
        let Some(f) = self.stack.last_mut() else {
            body(self);
            return;
        };
        let parent = f.innermost();
        f.facts.loops.push(LoopFact { header, kind: kind.to_string(), parent });
        let id = f.facts.loops.len() - 1;
        f.open_loops.push(id);
        body(self);
        if let Some(f) = self.stack.last_mut() {
            f.open_loops.pop();
        }
    }

    /// Whether a call path (`with_retry`, `tokio_retry::Retry::spawn`) names a retry
    /// wrapper: an entry of `retry-wrappers` ends it, whole segments.
    pub(super) fn is_retry_wrapper(&self, path: &[String]) -> bool {
        self.params.retry_wrappers.iter().any(|w| {
            let mut have = path.iter().rev();
            w.rsplit("::").all(|want| have.next().is_some_and(|h| h == want))
        })
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
    /// `stream::iter`, … from `iterator-sources`).
    fn is_iterator_chain(&self, receiver: &syn::Expr) -> bool {
        let mut names = Vec::new();
        let value = self.lowerer_lower_quiet(receiver);
        value.names(&mut names);
        if matches!(strip(receiver), syn::Expr::Range(_)) {
            return true;
        }
        names.iter().any(|n| self.params.iterator_sources.iter().any(|s| s == n))
    }

    fn lowerer_lower_quiet(&self, expr: &syn::Expr) -> Value {
        let mut l = Lowerer::new(self.lowerer.file, self.lowerer.source);
        l.lower(expr)
    }

    /// A method call's arguments: inside a repeated context when the method is an
    /// iterator adapter on an iterator chain (its closure runs once per item).
    pub(super) fn visit_method_args(&mut self, m: &syn::ExprMethodCall, method: &str, loc: Loc) {
        if self.is_retry_wrapper(&[method.to_string()]) {
            return self.visit_retried_args(m.args.iter(), method, loc);
        }
        let repeated = self.params.iterator_adapters.iter().any(|a| a == method)
            && (self.params.iterator_only_adapters.iter().any(|a| a == method) || self.is_iterator_chain(&m.receiver));
        if repeated {
            let kind = format!(".{method}()");
            self.with_loop(loc, &kind, |s| {
                for arg in &m.args {
                    s.visit_expr(arg);
                }
            });
        } else {
            for arg in &m.args {
                self.visit_expr(arg);
            }
        }
    }
}
