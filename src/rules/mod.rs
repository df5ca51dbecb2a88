//! The rule registry. Each rule is one module whose `//!` documentation has the
//! sections What it does / Why is this bad? / Example / Use instead / Configuration /
//! Known limitations (`gatelint explain RULE` prints it), plus a `rules/<id>.toml`
//! with its summary, default severity and default parameters, embedded here so the
//! binary works from any directory.

pub mod direct_provisioner_call;
pub mod insert_allowlist;
pub mod invalid_suppression;
pub mod non_idempotent_insert;
pub mod parse_error;
pub mod unused_suppression;
pub mod wildcard_listen_default;

use crate::config::RuleSettings;
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::CheckContext;

/// A rule as the engine runs it; per-file facts are gathered in [`crate::facts`].
pub trait Rule: Sync {
    fn id(&self) -> &'static str;
    /// Reports findings from the whole crate's facts. `Err` is a configuration
    /// problem (for example parameters that do not fit the rule), reported with exit 2.
    fn check(&self, ctx: &CheckContext, settings: &RuleSettings) -> Result<Vec<Diagnostic>, String>;
}

/// The embedded sources of one rule: its defaults file and its module (for the docs).
pub struct RuleSource {
    pub id: &'static str,
    pub defaults_toml: &'static str,
    pub module_source: &'static str,
}

/// `rule_source!(module, "rule-id", "module/file.rs")`: a rule's embedded sources.
macro_rules! rule_source {
    ($module:ident, $id:literal, $file:literal) => {
        RuleSource {
            id: $module::ID,
            defaults_toml: include_str!(concat!("../../rules/", $id, ".toml")),
            module_source: include_str!($file),
        }
    };
}

pub const RULE_SOURCES: &[RuleSource] = &[
    rule_source!(parse_error, "parse-error", "parse_error.rs"),
    rule_source!(direct_provisioner_call, "direct-provisioner-call", "direct_provisioner_call/mod.rs"),
    rule_source!(insert_allowlist, "insert-allowlist", "insert_allowlist.rs"),
    rule_source!(invalid_suppression, "invalid-suppression", "invalid_suppression.rs"),
    rule_source!(non_idempotent_insert, "non-idempotent-insert", "non_idempotent_insert/mod.rs"),
    rule_source!(unused_suppression, "unused-suppression", "unused_suppression.rs"),
    rule_source!(wildcard_listen_default, "wildcard-listen-default", "wildcard_listen_default/mod.rs"),
];

/// The rules that inspect code (`parse-error` and the suppression rules are emitted
/// by the engine itself).
pub fn checkers() -> Vec<&'static dyn Rule> {
    vec![
        &direct_provisioner_call::DirectProvisionerCall,
        &insert_allowlist::InsertAllowlist,
        &non_idempotent_insert::NonIdempotentInsert,
        &wildcard_listen_default::WildcardListenDefault,
    ]
}

/// A rule's metadata, read from its embedded defaults file.
#[derive(Clone, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub summary: String,
    /// `None` means the rule is off unless a project turns it on.
    pub default_severity: Option<Severity>,
    /// Whether a project may change the severity or turn the rule off.
    pub configurable: bool,
    pub parameters: toml::Table,
    pub documentation: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsFile {
    summary: String,
    severity: String,
    #[serde(default = "yes")]
    configurable: bool,
    #[serde(default)]
    parameters: toml::Table,
}

fn yes() -> bool {
    true
}

/// Metadata of every rule, in registry order. The defaults files are part of the
/// binary, so an error here is a bug caught by the test suite.
pub fn all_meta() -> Vec<RuleMeta> {
    RULE_SOURCES
        .iter()
        .map(|src| {
            let file: DefaultsFile =
                toml::from_str(src.defaults_toml).unwrap_or_else(|e| panic!("rules/{}.toml is invalid: {e}", src.id));
            RuleMeta {
                id: src.id,
                summary: file.summary,
                default_severity: crate::config::parse_severity(&file.severity)
                    .unwrap_or_else(|| panic!("rules/{}.toml: bad severity", src.id)),
                configurable: file.configurable,
                parameters: file.parameters,
                documentation: documentation(src.module_source),
            }
        })
        .collect()
}

pub fn meta(id: &str) -> Option<RuleMeta> {
    all_meta().into_iter().find(|m| m.id == id)
}

/// The leading `//!` block of a module, without the markers.
pub fn documentation(module_source: &str) -> String {
    let mut out = String::new();
    for line in module_source.lines() {
        let Some(rest) = line.strip_prefix("//!") else {
            break;
        };
        out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        out.push('\n');
    }
    out
}

/// The sections every rule's documentation must have, in order.
pub const DOC_SECTIONS: &[&str] = &[
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Configuration",
    "## Known limitations",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_documents_every_section_in_order() {
        for meta in all_meta() {
            let mut at = 0;
            for section in DOC_SECTIONS {
                let found = meta.documentation[at..].find(section);
                assert!(found.is_some(), "{} lacks `{section}` (or has it out of order)", meta.id);
                at += found.unwrap() + section.len();
            }
        }
    }

    #[test]
    fn ids_match_defaults_files_and_checkers_are_registered() {
        let metas = all_meta();
        assert_eq!(metas.len(), RULE_SOURCES.len());
        for checker in checkers() {
            assert!(metas.iter().any(|m| m.id == checker.id()), "{} has no defaults", checker.id());
        }
        let ids: Vec<_> = metas.iter().map(|m| m.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids.len(), sorted.len(), "duplicate rule ids");
    }

    #[test]
    fn documentation_stops_at_the_first_non_doc_line() {
        assert_eq!(documentation("//! a\n//!\n//! b\nuse x;\n//! c"), "a\n\nb\n");
    }
}
