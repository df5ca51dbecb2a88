//! The findings' text: the admin route with its full path and unprotected methods,
//! where its router is mounted, an admin-auth layer above it, and the incident note.

use super::analysis::{Model, MountKind, Unprotected};
use super::{AdminParams, ID};
use crate::rules::CheckCx;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};

const INCIDENT: &str = "an admin route that slipped past the admin-auth middleware exposed the operator dashboard's \
                        delegation data (caller and callee ids and task previews of every tenant) to unauthenticated \
                        callers";

pub(super) fn diagnostics(cx: &CheckCx, params: &AdminParams, severity: Severity) -> Vec<Diagnostic> {
    Model::new(cx, params).unprotected().into_iter().map(|u| diagnostic(&u, params, severity)).collect()
}

fn diagnostic(u: &Unprotected, params: &AdminParams, severity: Severity) -> Diagnostic {
    let flat = &u.flat;
    let path = flat.path.as_deref().unwrap_or("(a path not known before run time)");
    let route = match u.methods.as_slice() {
        [] => format!("`{path}`"),
        methods => format!("`{} {path}`", methods.join(", ")),
    };
    let mut secondary = Vec::new();
    if let Some(layer) = flat.layer_above {
        secondary.push(Label {
            loc: layer,
            message: "this admin-auth layer is above the route: axum applies a layer only to the routes added \
                      before it"
                .to_string(),
        });
    }
    if let Some(mount) = &flat.mount {
        let message = match &mount.kind {
            MountKind::Nest(Some(prefix)) => format!("its router is nested here, under `{prefix}`"),
            MountKind::Nest(None) => "its router is nested here".to_string(),
            MountKind::Merge => "its router is merged here".to_string(),
            MountKind::Call(helper) => format!("its router is built by `{helper}()`, used here"),
        };
        secondary.push(Label { loc: mount.loc, message });
    }
    let (message, label) = match flat.layer_above {
        Some(_) => (
            format!("admin route {route} is added after the admin-auth layer meant to cover it: the layer is above it"),
            "added after the admin-auth layer, so not covered by it".to_string(),
        ),
        None if !u.methods.is_empty() && u.methods.len() < flat.route.methods.len() => (
            format!("admin route {route} is not behind the admin-auth middleware"),
            format!(
                "only its other methods are protected: no admin-auth layer covers {}, nor does its handler take an \
                 admin extractor",
                u.methods.join(", ")
            ),
        ),
        None => (
            format!("admin route {route} is not behind the admin-auth middleware"),
            "no admin-auth layer covers this route and its handler takes no admin extractor".to_string(),
        ),
    };
    let mut notes = Vec::new();
    match (&u.prefix, &u.module) {
        (Some(prefix), _) => notes.push(format!("an admin route: its path is under `{prefix}` (`admin-prefixes`)").into()),
        (None, Some((handler, file))) => notes.push(
            format!("an admin route: its handler `{handler}` is defined in `{file}` (`admin-modules`)").into(),
        ),
        (None, None) => {}
    }
    let layer = params.auth_layers.first().map_or("require_admin", String::as_str);
    let extractor = params.admin_extractors.first().map_or("AdminUser", String::as_str);
    let help = match (flat.layer_above, &flat.mount) {
        (Some(_), Some(_)) => format!(
            "mount its router before the `.layer(from_fn({layer}))` (or give it an admin-auth layer of its own), \
             or take the `{extractor}` extractor in its handler"
        ),
        (Some(_), None) => {
            format!("add the route before the `.layer(from_fn({layer}))`, or take the `{extractor}` extractor in its handler")
        }
        (None, _) => format!(
            "add the route to a router before its `.layer(from_fn({layer}))`, or take the `{extractor}` extractor \
             in its handler"
        ),
    };
    Diagnostic {
        rule: ID,
        severity,
        loc: flat.route.loc,
        message,
        label,
        secondary,
        why: Some(INCIDENT.into()),
        notes,
        help: Some(help),
    }
}
