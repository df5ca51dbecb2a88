//! The findings' text: what kind of default each site is, the labels along the way
//! from the site to the wildcard, the incident note and the loopback to use instead.

use super::ID;
use super::SiteKind;
use super::analysis::{Hit, SiteRef};
use crate::rules::CheckCx;
use crate::rules::diagnostic::{Diagnostic, Label, Severity};

/// What kind of default this is, for the message.
fn describe(kind: &SiteKind) -> String {
    match kind {
        SiteKind::EmbeddedConfig { key, holder } => {
            format!("key `{key}` of the default configuration embedded by {holder}")
        }
        SiteKind::RunTimeConfig { key, path } => {
            format!("key `{key}` of the default configuration the program reads at run time from `{path}`")
        }
        SiteKind::EnvFile { key, path, .. } => {
            format!("variable `{key}` set in `{path}`, which the program reads")
        }
        SiteKind::RepoConfig { key, path, .. } => {
            format!("key `{key}` of configuration file `{path}`, a setting the program reads")
        }
        SiteKind::ConfigFlag { flag, path, .. } => {
            format!("flag `--{flag}` given in `{path}`, a flag the program takes")
        }
        SiteKind::EnvFallback { var: Some(var), .. } => {
            format!("the fallback when environment variable `{var}` is unset")
        }
        SiteKind::EnvFallback { var: None, method } => {
            format!("the fallback of an environment read (`{method}`)")
        }
        SiteKind::ClapDefault { field, attr } => {
            format!("the command-line default of `{field}` (`{attr}`)")
        }
        SiteKind::DefaultAttr { field, attr } => {
            format!("the `#[{attr}]` default of field `{field}`")
        }
        SiteKind::SerdeDefaultFn { function, field } => {
            format!("returned by serde default function `{function}` of field `{field}`")
        }
        SiteKind::DefaultImpl { ty, field: Some(field) } => format!("field `{field}` in `impl Default for {ty}`"),
        SiteKind::DefaultImpl { ty, field: None } => {
            format!("the value of `impl Default for {ty}`")
        }
        SiteKind::ListenConst { name } => format!("listen constant `{name}`"),
        SiteKind::ListenFn { name } => format!("returned by listen function `{name}`"),
        SiteKind::DefaultFn { name } => format!("returned by default function `{name}`"),
        SiteKind::Fallback { method } => format!("the fallback value of `{method}`"),
        SiteKind::ConfigDefault { key, function } => format!("the configuration default of `{key}` (`{function}`)"),
        SiteKind::ListenSetter { method } => format!("passed to listen setting `{method}`"),
        SiteKind::ListenField { ty, field } => format!("listen setting `{ty}.{field}`"),
        SiteKind::ListenBinding { name } => format!("listen setting `{name}`"),
        SiteKind::BindCall { callee } => format!("hard-coded in bind call `{callee}`"),
    }
}

/// The secondary label at the site, when the wildcard is written elsewhere.
fn site_label(kind: &SiteKind) -> String {
    match kind {
        SiteKind::EnvFallback { var: Some(var), .. } => format!("used when `{var}` is not set"),
        SiteKind::BindCall { .. } => "the service binds this address".to_string(),
        SiteKind::EmbeddedConfig { .. } => "the configuration is compiled into the program here".to_string(),
        SiteKind::RunTimeConfig { .. } => "the program reads the configuration file named here".to_string(),
        SiteKind::EnvFile { key, prefix: None, .. } => format!("the program reads `{key}` here"),
        SiteKind::RepoConfig { field, .. } => format!("the program reads the setting into `{field}`"),
        SiteKind::ConfigFlag { field, .. } => format!("the program takes the flag as `{field}`"),
        SiteKind::EnvFile { prefix: Some(prefix), .. } => format!("the program reads the variables starting with `{prefix}` here"),
        SiteKind::ClapDefault { .. } | SiteKind::DefaultAttr { .. } | SiteKind::ConfigDefault { .. } => {
            "the default is declared here".to_string()
        }
        _ => "the default is set here".to_string(),
    }
}

/// Why a wildcard default matters (the incident note of every finding).
const WHY: &str = "a wildcard default exposes the service on every interface as soon as a port is published or the \
                   network topology changes (the memory-plugin sidecar shipped `:9100` this way)";

/// The finding of a wildcard `hit`, reported by `site`.
pub(super) fn diagnostic(ctx: &CheckCx, site: &SiteRef, hit: Hit, severity: Severity) -> Diagnostic {
    let file = ctx.db.get(hit.loc.file);
    let written = file.text().get(hit.loc.range()).unwrap_or("").trim();
    let shown: String = if written.chars().count() > 60 {
        format!("{}…", written.chars().take(60).collect::<String>())
    } else {
        written.to_string()
    };
    let label = if hit.go_style {
        "no host before the port: every interface".to_string()
    } else {
        "wildcard address: every interface".to_string()
    };
    let mut secondary: Vec<Label> = hit.via.into_iter().filter(|l| l.loc != hit.loc).collect();
    if site.at != hit.loc && !secondary.iter().any(|l| l.loc == site.at) {
        secondary.push(Label { loc: site.at, message: site_label(&site.kind) });
    }
    secondary.sort_by_key(|l| (l.loc.file, l.loc.start));
    let override_hint = match &*site.kind {
        SiteKind::EnvFallback { var: Some(var), .. } => {
            format!("; operators who need another interface set `{var}` explicitly")
        }
        SiteKind::ClapDefault { .. } => "; operators who need another interface pass the flag explicitly".to_string(),
        SiteKind::ConfigFlag { .. } => {
            "; deployments that need another interface (a container's) pass it in their own configuration".to_string()
        }
        SiteKind::EnvFile { key, .. } => {
            format!("; operators who need another interface set `{key}` in their own environment")
        }
        SiteKind::EmbeddedConfig { .. } | SiteKind::RunTimeConfig { .. } | SiteKind::RepoConfig { .. } => {
            "; operators who need another interface set it in their own configuration or environment".to_string()
        }
        _ => "; operators who need another interface set it explicitly through configuration".to_string(),
    };
    Diagnostic {
        rule: ID,
        severity,
        loc: hit.loc,
        message: format!("listen default `{shown}` binds every network interface ({})", describe(&site.kind)),
        label,
        secondary,
        why: Some(WHY.into()),
        notes: match &*site.kind {
            SiteKind::RepoConfig { .. } | SiteKind::ConfigFlag { .. } => vec![CONTAINER_NOTE.into()],
            SiteKind::EnvFile { path, .. } if is_deployment_file(path) => vec![CONTAINER_NOTE.into()],
            _ => Vec::new(),
        },
        help: Some(format!("default to loopback: `{}`{override_hint}", hit.loopback)),
    }
}

/// Whether a file that sets variables is a deployment's (a Dockerfile, a compose
/// file) rather than an environment file (`.env.example`).
fn is_deployment_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    crate::input::config_files::is_dockerfile(name) || name.ends_with(".yml") || name.ends_with(".yaml")
}

/// The note of a finding in a deployment file: a container may need the wildcard.
const CONTAINER_NOTE: &str = "a file that configures a container, whose published ports are its only way in, may need \
                              every interface: say so with a `# gatelint: allow(wildcard-listen-default) -- <reason>` \
                              comment";

