//! The findings' text: a direct call on a backend (with the dispatcher verb to call
//! instead) or a presence check of a backend field, the labels of where the
//! backend came from, and the incident note.

use super::{DirectProvisionerCall, ID, ProvisionerParams, ProvisionerSite, ProvisionerSiteKind};
use crate::rules::CheckCx;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};

const SAAS_LEAK: &str = "on SaaS only the control-plane backend is set: a handler that calls one backend directly \
                         silently does nothing there (the row said paused while the EC2 instance kept running)";

/// The diagnostics of every file's sites, in file order, with one presence-check
/// finding per line (`a.is_none() && b.is_none()` is one check).
pub(super) fn diagnostics(cx: &CheckCx, params: &ProvisionerParams, severity: Severity) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut presence_lines = std::collections::BTreeSet::new();
    for p in cx.facts::<DirectProvisionerCall>() {
        for site in &p.sites {
            if site.kind == ProvisionerSiteKind::PresenceCheck {
                let line = cx.db.get(site.loc.file).line_col(site.loc.start as usize).line;
                if !presence_lines.insert((site.loc.file, line)) {
                    continue;
                }
            }
            out.push(diagnostic(site, params, severity));
        }
        for call in &p.typed_calls {
            if let Some(site) = backend_by_another_name(cx, params, call) {
                out.push(diagnostic(&site, params, severity));
            }
        }
    }
    out
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
    let secondary: Vec<Label> = site
        .origin
        .iter()
        .filter(|o| o.loc != site.loc)
        .map(|o| Label { loc: o.loc, message: o.what.clone() })
        .collect();
    let (message, label, help) = match &site.kind {
        ProvisionerSiteKind::MethodCall { method } | ProvisionerSiteKind::AssociatedCall { method, .. } => {
            call_text(site, method, params)
        }
        ProvisionerSiteKind::Command { program } => (
            format!("`{program}` run directly in `{}`, outside the backend modules", site.function),
            format!("runs `{program}` itself"),
            "call a dispatcher verb (`stop_workspace_auto`, `provision_workspace_auto`, …): the backends own \
             their command line"
                .to_string(),
        ),
        ProvisionerSiteKind::PresenceCheck => (
            format!("presence check of a provisioner backend field in `{}`", site.function),
            "checks a backend field directly".to_string(),
            "use `has_provisioner()` (or call a dispatcher verb, which handles \"no backend\")".to_string(),
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
        notes: Vec::new(),
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
