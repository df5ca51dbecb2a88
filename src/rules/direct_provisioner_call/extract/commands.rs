//! Backend command lines (`Command::new("docker")`, std or tokio): the program, a
//! literal or a constant or static naming one (`Command::new(DOCKER)`), and the
//! subcommand its first arguments give, in the call chain (`.args(["stop", id])`)
//! or on a local the later statements add arguments to (`let mut c =
//! Command::new("docker"); c.arg("stop")`). Where `backend-subcommands` lists the
//! subcommands that change a workspace (rather than `"*"`, every one), a command line
//! whose subcommand only reads (`docker ps`, `docker version`) is no site.

use super::{CommandPath, Extractor, ProvisionerSite, ProvisionerSiteKind, strip, strip_refs};
use crate::input::source::Loc;
use syn::punctuated::Punctuated;
use syn::visit::Visit;

/// Words that group subcommands: the subcommand is the word after them
/// (`docker container stop`, `docker compose up`, `docker volume rm`).
const GROUPS: &[&str] = &["container", "compose", "volume"];

/// What a command line's arguments say its subcommand is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Subcommand {
    /// A subcommand of `backend-subcommands` among the literal arguments (`stop`, also
    /// after a flag's value: `-H tcp://host stop`), else the first literal argument
    /// that is not a flag nor a group (`ps`, `logs`).
    Named(String),
    /// Flags only (`docker --version`), or no argument at all.
    Nothing,
    /// An argument that is not a literal comes before any subcommand, or no argument
    /// is seen.
    Unknown,
}

/// A backend program as `Command::new(…)` names it.
pub(super) enum Program {
    Known(String),
    /// A path this file does not define (`consts::DOCKER`): decided crate-wide.
    Path(Vec<String>),
}

/// A command bound to a local, whose arguments later statements add.
pub(super) struct PendingCommand {
    /// The binding's index in the scope, once bound.
    pub index: Option<usize>,
    pub program: Program,
    pub loc: Loc,
    pub function: String,
    /// `None` until a call adds its first arguments.
    pub subcommand: Option<Subcommand>,
}

/// The subcommand `args` (each a literal, or `None`) give, `changes` telling which
/// change a workspace.
pub(super) fn subcommand(args: impl IntoIterator<Item = Option<String>>, changes: impl Fn(&str) -> bool) -> Subcommand {
    let mut first: Option<String> = None;
    for arg in args {
        match arg {
            Some(a) if a.starts_with('-') || GROUPS.contains(&a.as_str()) => {}
            Some(a) if changes(&a) => return Subcommand::Named(a),
            Some(a) => {
                first.get_or_insert(a);
            }
            None => return first.map_or(Subcommand::Unknown, Subcommand::Named),
        }
    }
    first.map_or(Subcommand::Nothing, Subcommand::Named)
}

/// A string literal's value.
fn literal(expr: &syn::Expr) -> Option<String> {
    match strip_refs(expr) {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
        _ => None,
    }
}

/// The arguments an `.arg(…)` or `.args(…)` call adds, each a literal or `None`;
/// `None` for other methods.
fn added_args(m: &syn::ExprMethodCall) -> Option<Vec<Option<String>>> {
    let first = m.args.first()?;
    match m.method.to_string().as_str() {
        "arg" => Some(vec![literal(first)]),
        "args" => Some(match strip_refs(first) {
            syn::Expr::Array(a) => a.elems.iter().map(literal).collect(),
            syn::Expr::Macro(mac) if mac.mac.path.segments.last().is_some_and(|s| s.ident == "vec") => mac
                .mac
                .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
                .map_or_else(|_| vec![None], |elems| elems.iter().map(literal).collect()),
            _ => vec![None],
        }),
        _ => None,
    }
}

/// Constants and statics of a file, at any depth, whose value is one of `programs`.
pub(super) fn program_consts(file: &syn::File, programs: &[String]) -> Vec<(syn::Ident, String)> {
    struct Consts<'p> {
        programs: &'p [String],
        out: Vec<(syn::Ident, String)>,
    }
    impl Consts<'_> {
        fn add(&mut self, ident: &syn::Ident, expr: &syn::Expr) {
            if let Some(value) = literal(expr)
                && self.programs.contains(&value)
            {
                self.out.push((ident.clone(), value));
            }
        }
    }
    impl<'ast> Visit<'ast> for Consts<'_> {
        fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
            self.add(&c.ident, &c.expr);
        }
        fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
            self.add(&s.ident, &s.expr);
        }
        fn visit_impl_item_const(&mut self, c: &'ast syn::ImplItemConst) {
            self.add(&c.ident, &c.expr);
        }
    }
    let mut v = Consts { programs, out: Vec::new() };
    v.visit_file(file);
    v.out
}

impl Extractor<'_> {
    /// The program of `Command::new(…)` (std or tokio) when it is a backend's, and
    /// where it is written.
    pub(super) fn command_program(&self, c: &syn::ExprCall) -> Option<(Program, Loc)> {
        let syn::Expr::Path(p) = &*c.func else { return None };
        let segs = &p.path.segments;
        let [.., ty, new] = segs.iter().collect::<Vec<_>>()[..] else { return None };
        if ty.ident != "Command" || new.ident != "new" {
            return None;
        }
        let arg = strip_refs(c.args.first()?);
        let loc = self.loc(syn::spanned::Spanned::span(arg));
        if let Some(value) = literal(arg) {
            return self.params.backend_commands.contains(&value).then_some((Program::Known(value), loc));
        }
        let syn::Expr::Path(path) = arg else { return None };
        let last = path.path.segments.last()?.ident.to_string();
        if let Some((_, value)) = self.program_consts.iter().find(|(name, _)| *name == last) {
            return Some((Program::Known(value.clone()), loc));
        }
        // A constant of another module (`DOCKER`, `consts::DOCKER`), not a local.
        let local = path.path.get_ident().is_some_and(|i| self.scope.iter().any(|(n, _)| i == n));
        (!local && last.starts_with(|c: char| c.is_ascii_uppercase()))
            .then(|| (Program::Path(crate::facts::lower::segments(&path.path)), loc))
    }

    /// On a call chained on a command (`Command::new("docker").args([…]).status()`,
    /// `cmd.arg("stop")`): the subcommand its arguments give, recorded once, from
    /// the outermost call of the chain.
    pub(super) fn command_chain(&mut self, m: &syn::ExprMethodCall) {
        let mut calls = vec![m];
        let mut root = strip(&m.receiver);
        while let syn::Expr::MethodCall(inner) = root {
            calls.push(inner);
            root = strip(&inner.receiver);
        }
        let added: Vec<Vec<Option<String>>> = calls.iter().rev().filter_map(|c| added_args(c)).collect();
        match root {
            syn::Expr::Call(c) => {
                let Some((_, loc)) = self.command_program(c) else { return };
                if !self.command_chains.iter().any(|(l, _)| *l == loc) {
                    let sub = subcommand(added.into_iter().flatten(), |s| self.params.changes_state(s));
                    self.command_chains.push((loc, sub));
                }
            }
            syn::Expr::Path(p) if !added.is_empty() => {
                let Some(ident) = p.path.get_ident() else { return };
                let Some(index) = self.scope.iter().rposition(|(n, _)| ident == n) else { return };
                let params = self.params;
                if let Some(pending) =
                    self.pending_commands.iter_mut().find(|c| c.index == Some(index) && c.subcommand.is_none())
                {
                    pending.subcommand = Some(subcommand(added.into_iter().flatten(), |s| params.changes_state(s)));
                }
            }
            _ => {}
        }
    }

    /// `Command::new(…)` of a backend program: a site unless its subcommand only
    /// reads; bound to a local (`local`: where its program is written), decided when
    /// the local leaves the scope.
    pub(super) fn command(&mut self, c: &syn::ExprCall, local: Option<Loc>) -> bool {
        let Some((program, loc)) = self.command_program(c) else { return false };
        let Some(function) = self.function.clone() else { return true };
        match self.command_chains.iter().find(|(l, _)| *l == loc) {
            Some((_, sub)) => {
                let sub = sub.clone();
                self.command_site(program, loc, function, &sub);
            }
            None if local == Some(loc) => {
                self.pending_commands.push(PendingCommand { index: None, program, loc, function, subcommand: None });
            }
            None => self.command_site(program, loc, function, &Subcommand::Unknown),
        }
        true
    }

    /// A command bound to a local is decided: its first arguments were seen or not.
    pub(super) fn close_command(&mut self, pending: PendingCommand) {
        let sub = pending.subcommand.unwrap_or(Subcommand::Unknown);
        self.command_site(pending.program, pending.loc, pending.function, &sub);
    }

    fn command_site(&mut self, program: Program, loc: Loc, function: String, sub: &Subcommand) {
        let subcommand = match sub {
            Subcommand::Named(s) if self.params.changes_state(s) => Some(s.clone()),
            Subcommand::Unknown => None,
            Subcommand::Nothing if self.params.every_subcommand() => None,
            Subcommand::Named(_) | Subcommand::Nothing => return,
        };
        match program {
            Program::Known(program) => {
                let kind = ProvisionerSiteKind::Command { program, subcommand };
                self.out.sites.push(ProvisionerSite { kind, loc, origin: None, function });
            }
            Program::Path(path) => {
                let kind = ProvisionerSiteKind::Command { program: String::new(), subcommand };
                let site = ProvisionerSite { kind, loc, origin: None, function };
                self.out.command_paths.push(CommandPath { site, path });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(args: &[Option<&str>]) -> Subcommand {
        let changes = |s: &str| ["stop", "rm", "run"].contains(&s);
        subcommand(args.iter().map(|a| a.map(str::to_string)), changes)
    }

    #[test]
    fn the_subcommand_is_the_first_word_or_a_listed_one() {
        let named = |s: &str| Subcommand::Named(s.to_string());
        assert_eq!(sub(&[Some("stop"), None]), named("stop"));
        assert_eq!(sub(&[Some("container"), Some("stop"), Some("ws")]), named("stop"));
        assert_eq!(sub(&[Some("-H"), Some("tcp://h"), Some("rm"), None]), named("rm"));
        assert_eq!(sub(&[Some("ps"), Some("-q")]), named("ps"));
        assert_eq!(sub(&[Some("logs"), None]), named("logs"));
        assert_eq!(sub(&[Some("--version")]), Subcommand::Nothing);
        assert_eq!(sub(&[]), Subcommand::Nothing);
        assert_eq!(sub(&[None, Some("stop")]), Subcommand::Unknown);
        assert_eq!(sub(&[Some("-H"), None, Some("ps")]), Subcommand::Unknown);
    }
}
