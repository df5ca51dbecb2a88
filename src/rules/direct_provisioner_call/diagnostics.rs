//! The findings' text: a direct call on a backend (with the dispatcher verb to call
//! instead), on a backend passed to a helper, a presence check of a backend field,
//! a hand-rolled choice between backends, a backend's command line (with the verb of
//! its subcommand), a backend built outside the places that wire them, the labels of
//! where the backend came from, and the incident note.

use super::analysis;
use super::declared;
use super::{DirectProvisionerCall, ID, ProvisionerParams, ProvisionerSite, ProvisionerSiteKind};
use crate::rules::CheckCx;
use crate::input::source::Loc;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};

/// The presence accessor the team's code asks instead of checking the fields: its own
/// body is the one place that checks them.
const PRESENCE_ACCESSOR: &str = "has_provisioner";

const AD_HOC_BACKEND: &str = "a backend built on the spot is not the one the dispatcher chose for this deployment: \
                              on SaaS a Docker backend reaches no Docker daemon, and calls on it silently do nothing \
                              while the EC2 instance keeps running";

const SAAS_LEAK: &str = "on SaaS only the control-plane backend is set: a handler that calls one backend directly \
                         silently does nothing there (the row said paused while the EC2 instance kept running)";

/// The secondary label of a check or choice reported with the call it serves.
const PICKED_HERE: &str = "picked here: choosing the backend is the dispatcher's job";

/// The diagnostics of every file's sites, in file order, with one presence-check
/// finding per line (`a.is_none() && b.is_none()` is one check), none on a line
/// that has a choice between backends.
pub(super) fn diagnostics(cx: &CheckCx, params: &ProvisionerParams, severity: Severity) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut calls: std::collections::HashSet<crate::input::source::Loc> = std::collections::HashSet::new();
    let line_of = |site: &ProvisionerSite| {
        (site.loc.file, cx.db.get(site.loc.file).line_col(site.loc.start as usize).line)
    };
    let mut presence_lines: std::collections::BTreeSet<_> = cx
        .facts::<DirectProvisionerCall>()
        .flat_map(|p| &p.sites)
        .filter(|s| matches!(s.kind, ProvisionerSiteKind::Choice { .. }))
        .map(line_of)
        .collect();
    // A `docker` command line bypasses the backends only where there are backends: in
    // code with no dispatcher and no backend module (a developer tool), it is the job.
    let has_backends = cx.db.files.iter().any(|f| params.is_exempt_path(&f.display));
    let commands = commands_of_consts(cx);
    let facts: Vec<_> = cx.facts::<DirectProvisionerCall>().collect();
    let reported = |site: &&ProvisionerSite| {
        // `req.provisioner` of `struct CreateReq { provisioner: Option<String> }`: a name.
        let other = match &site.kind {
            ProvisionerSiteKind::Choice { other } => Some(other),
            _ => None,
        };
        // The presence accessor's own body is where "is there a backend" is asked.
        let in_accessor = site.kind == ProvisionerSiteKind::PresenceCheck && site.function == PRESENCE_ACCESSOR;
        (!matches!(site.kind, ProvisionerSiteKind::Command { .. }) || has_backends)
            && !in_accessor
            && !site.origin.iter().chain(other).any(|o| declared::holds_no_backend(cx, params, o, site.loc))
    };
    // A check or choice that binds the backend a reported call is made on picks the
    // backend for that call (`if let Some(p) = &self.provisioner { p.stop(id) }`): a
    // finding of its own, and a secondary label of the call's.
    let is_check = |site: &ProvisionerSite| {
        matches!(site.kind, ProvisionerSiteKind::PresenceCheck | ProvisionerSiteKind::Choice { .. })
    };
    let checks: std::collections::HashSet<Loc> =
        facts.iter().flat_map(|p| &p.sites).filter(reported).filter(|s| is_check(s)).map(|s| s.loc).collect();
    let mut check_of: std::collections::HashMap<Loc, Vec<Loc>> = std::collections::HashMap::new();
    for &(bound, check) in facts.iter().flat_map(|p| &p.check_binds).filter(|(_, check)| checks.contains(check)) {
        check_of.entry(bound).or_default().push(check);
    }
    let call_checks = |site: &ProvisionerSite| match site.kind {
        ProvisionerSiteKind::MethodCall { .. } | ProvisionerSiteKind::AssociatedCall { .. } => {
            site.origin.as_ref().and_then(|o| check_of.get(&o.loc)).cloned().unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let mut picking: std::collections::HashSet<Loc> =
        facts.iter().flat_map(|p| &p.sites).filter(reported).flat_map(&call_checks).collect();
    // A backend passed to a helper that calls it: the check that bound it is part of
    // that finding too (`if let Some(cp) = &self.cp_prov { stop_with_timeout(cp, id) }`).
    let passed = analysis::passed_backend_calls(cx, params);
    let pass_checks = |p: &analysis::PassedCall| check_of.get(&p.chain[0].origin.loc).cloned().unwrap_or_default();
    picking.extend(passed.iter().flat_map(pass_checks));
    // And what those checks test was itself bound by a check or a choice (`let b =
    // cp.or_else(|| docker)`, then `if let Some(b) = b { b.restart(..) }`).
    let check_sites: Vec<&ProvisionerSite> = facts.iter().flat_map(|p| &p.sites).filter(|s| is_check(s)).collect();
    let mut grew = true;
    while grew {
        grew = false;
        let ups: Vec<Loc> = check_sites
            .iter()
            .filter(|s| picking.contains(&s.loc))
            .flat_map(|s| s.origin.as_ref().and_then(|o| check_of.get(&o.loc)).into_iter().flatten().copied())
            .collect();
        for up in ups {
            grew |= picking.insert(up);
        }
    }
    // The dispatcher verbs of the calls each check picks a backend for.
    let mut verbs_of: std::collections::HashMap<Loc, std::collections::BTreeSet<&str>> = Default::default();
    for site in facts.iter().flat_map(|p| &p.sites).filter(reported) {
        if let ProvisionerSiteKind::MethodCall { method } | ProvisionerSiteKind::AssociatedCall { method, .. } =
            &site.kind
            && let Some(verb) = params.verb_for(method)
        {
            for check in call_checks(site) {
                verbs_of.entry(check).or_default().insert(verb);
            }
        }
    }
    let sites = facts.iter().flat_map(|p| &p.sites).chain(&commands);
    for site in sites.filter(reported) {
        if site.kind == ProvisionerSiteKind::PresenceCheck && !presence_lines.insert(line_of(site)) {
            continue;
        }
        calls.insert(site.loc);
        let mut d = diagnostic(site, params, severity);
        if site.kind == ProvisionerSiteKind::PresenceCheck && picking.contains(&site.loc) {
            d.message = format!("check that picks a provisioner backend to call in `{}`", site.function);
            d.label = "picks the backend the code below calls".to_string();
            let verbs = match verbs_of.get(&site.loc) {
                Some(verbs) => verbs.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "),
                None => "for the operation".to_string(),
            };
            d.help = Some(format!(
                "call the dispatcher verb {verbs} instead of picking a backend here: it picks the backend (control \
                 plane first, Docker second, neither → mark failed)"
            ));
        }
        for check in call_checks(site) {
            d.secondary.push(Label { loc: check, message: PICKED_HERE.to_string() });
        }
        out.push(d);
    }
    for call in facts.iter().flat_map(|p| &p.typed_calls) {
        if let Some(site) = backend_by_another_name(cx, params, call) {
            calls.insert(site.loc);
            out.push(diagnostic(&site, params, severity));
        }
    }
    // One finding per call: a parameter typed as a backend is reported as such.
    for passed in &passed {
        if calls.insert(passed.call.loc) {
            let mut d = passed_diagnostic(cx, passed, params, severity);
            for check in pass_checks(passed) {
                d.secondary.push(Label { loc: check, message: PICKED_HERE.to_string() });
            }
            out.push(d);
        }
    }
    out
}

/// The command lines whose program is a constant of another module naming a
/// backend program (`Command::new(consts::DOCKER)`), resolved from where they are.
fn commands_of_consts(cx: &CheckCx) -> Vec<ProvisionerSite> {
    let programs: std::collections::HashMap<crate::input::source::Loc, &str> = cx
        .facts::<DirectProvisionerCall>()
        .flat_map(|p| &p.program_consts)
        .map(|(loc, program)| (*loc, program.as_str()))
        .collect();
    if programs.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for path in cx.facts::<DirectProvisionerCall>().flat_map(|p| &p.command_paths) {
        let at = cx.defs.context(path.site.loc);
        let crate::facts::defs::Resolved::Items(locs) = cx.defs.resolve(&at, &path.path) else { continue };
        let Some(program) = locs.iter().find_map(|l| programs.get(l)) else { continue };
        let mut site = path.site.clone();
        if let ProvisionerSiteKind::Command { program: p, .. } = &mut site.kind {
            *p = (*program).to_string();
        }
        out.push(site);
    }
    out
}

/// A verb called on a parameter that a caller passes a backend to: reported in the
/// helper, with where the backend is passed (and handed on) as secondary labels.
fn passed_diagnostic(
    cx: &CheckCx,
    passed: &analysis::PassedCall,
    params: &ProvisionerParams,
    severity: Severity,
) -> Diagnostic {
    let call = passed.call;
    let first = passed.chain[0];
    let mut secondary = vec![Label {
        loc: first.loc,
        message: format!("the backend `{}` is passed here", first.origin.source),
    }];
    for pass in &passed.chain[1..] {
        secondary.push(Label { loc: pass.loc, message: format!("and handed on here as `{}`", pass.origin.source) });
    }
    let site = ProvisionerSite {
        kind: ProvisionerSiteKind::MethodCall { method: call.method.clone() },
        loc: call.loc,
        origin: None,
        function: call.function.clone(),
    };
    let (_, label, help) = call_text(&site, &call.method, params);
    let caller = cx
        .defs
        .fn_at(first.fn_loc)
        .and_then(|f| cx.files.get(f.file)?.names.fns.get(f.index as usize))
        .map_or_else(|| "a caller".to_string(), |f| format!("`{}`", f.name));
    Diagnostic {
        rule: ID,
        severity,
        loc: call.loc,
        message: format!(
            "direct call to `{}` on `{}` in `{}`, outside the dispatcher: {caller} passes it the provisioner \
             backend `{}`",
            call.method, call.name, call.function, first.origin.source
        ),
        label,
        secondary,
        why: Some(SAAS_LEAK.into()),
        notes: Vec::new(),
        help: Some(help),
    }
}

/// A verb called on a parameter whose type, resolved from where it is written, is a
/// backend type under another name (`Backend`, an alias of `Arc<dyn Provisioner>`
/// made in another module; `Docker`, a re-export of `DockerProvisioner`).
fn backend_by_another_name(cx: &CheckCx, params: &ProvisionerParams, call: &super::TypedCall) -> Option<ProvisionerSite> {
    let at = cx.defs.context(call.site.loc);
    let name = match cx.defs.type_key(at.module, &call.ty, at.self_ty.as_ref())? {
        crate::facts::defs::TypeKey::Def(id) => cx.defs.type_name(id).to_string(),
        crate::facts::defs::TypeKey::Named(name) => name,
    };
    if !params.types.contains(&name) {
        return None;
    }
    let mut site = call.site.clone();
    if let Some(origin) = &mut site.origin {
        origin.what = format!("{}, which is `{name}`", origin.what);
    }
    Some(site)
}

/// The diagnostic of one site.
fn diagnostic(site: &ProvisionerSite, params: &ProvisionerParams, severity: Severity) -> Diagnostic {
    let other = match &site.kind {
        ProvisionerSiteKind::Choice { other } => Some(other),
        _ => None,
    };
    let secondary: Vec<Label> = site
        .origin
        .iter()
        .chain(other)
        .filter(|o| o.loc != site.loc)
        .map(|o| Label { loc: o.loc, message: o.what.clone() })
        .collect();
    let (message, label, help) = match &site.kind {
        ProvisionerSiteKind::MethodCall { method } | ProvisionerSiteKind::AssociatedCall { method, .. } => {
            call_text(site, method, params)
        }
        ProvisionerSiteKind::Command { program, subcommand } => {
            let run = match subcommand {
                Some(sub) => format!("{program} {sub}"),
                None => program.clone(),
            };
            let help = match subcommand.as_deref().and_then(|sub| params.verb_for(sub)) {
                Some(verb) => format!(
                    "call the dispatcher verb `{verb}` instead: it picks the backend (control plane first, Docker \
                     second, neither → mark failed); the backends own their command line"
                ),
                None => "route this through the dispatcher (`workspace_dispatchers`): the backends own their \
                         command line, and on SaaS the workspaces are EC2 instances it cannot reach"
                    .to_string(),
            };
            (
                format!("`{run}` run directly in `{}`, outside the backend modules", site.function),
                format!("runs `{run}` itself"),
                help,
            )
        }
        ProvisionerSiteKind::Choice { .. } => (
            format!("hand-rolled choice between provisioner backends in `{}`, outside the dispatcher", site.function),
            "picks a backend itself".to_string(),
            "route this through the dispatcher: call its verb for the operation (`stop_workspace_auto`, \
             `provision_workspace_auto`, `restart_workspace_auto`), which picks the backend in one place (control \
             plane first, Docker second, neither → mark failed)"
                .to_string(),
        ),
        ProvisionerSiteKind::Construct { ty } => (
            format!("provisioner backend `{ty}` built in `{}`, outside the places that wire the backends", site.function),
            "builds a backend here".to_string(),
            "use the backends the application state holds, through a dispatcher verb (`stop_workspace_auto`, …); \
             build them where the application is wired (`main.rs`, the dispatcher, or a file listed in \
             `construct-paths`)"
                .to_string(),
        ),
        ProvisionerSiteKind::PresenceCheck => (
            format!("presence check of a provisioner backend field in `{}`", site.function),
            "checks a backend field directly".to_string(),
            format!("use `{PRESENCE_ACCESSOR}()` (or call a dispatcher verb, which handles \"no backend\")"),
        ),
    };
    Diagnostic {
        rule: ID,
        severity,
        loc: site.loc,
        message,
        label,
        secondary,
        why: Some(SAAS_LEAK.into()),
        // The incident note is about calls: a backend built on the spot gets its own.
        notes: match site.kind {
            ProvisionerSiteKind::Construct { .. } => vec![AD_HOC_BACKEND.into()],
            _ => Vec::new(),
        },
        help: Some(help),
    }
}

/// The message, label and help of a direct call of `method` on a backend.
fn call_text(site: &ProvisionerSite, method: &str, params: &ProvisionerParams) -> (String, String, String) {
    let target = match &site.kind {
        ProvisionerSiteKind::AssociatedCall { ty, .. } => format!("`{ty}::{method}`"),
        _ => format!("`{method}`"),
    };
    let help = match params.verb_for(method) {
        Some(verb) => format!(
            "call the dispatcher verb `{verb}` instead: it picks the backend (control plane first, \
             Docker second, neither → mark failed)"
        ),
        None => "route this through the dispatcher (`workspace_dispatchers`), the only code that \
                 touches the backends"
            .to_string(),
    };
    let on = site.origin.as_ref().map_or("a provisioner backend".to_string(), |o| {
        format!("provisioner backend `{}`", o.source)
    });
    (
        format!("direct call to {target} on {on} in `{}`, outside the dispatcher", site.function),
        "calls one backend directly".to_string(),
        help,
    )
}
