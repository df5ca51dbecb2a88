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
