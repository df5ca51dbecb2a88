//! The rules, and the one list that registers them.
//!
//! A rule is a folder `src/rules/<module>/` whose `mod.rs` documents it (the `//!`
//! comment with What it does / Why is this bad? / Example / Use instead /
//! Configuration / Known limitations, which `gatelint explain` prints) and implements
//! [`Rule`]; `rules/<id>.toml` holds its summary, default severity and default
//! parameters; `fixtures/<id>/` its buggy and clean fixtures. One line in
//! `declare_rules!` below registers it: everything else (the module, the embedded
//! defaults and docs, `gatelint rules`/`explain`, configuration, extraction, the facts
//! cache key, comment markers, the fixture harness's mutations) follows from it.
//! `scripts/new-rule` writes those files for a new rule.

pub mod diagnostic;
pub mod meta;
pub mod rule;
pub mod sql_in_code;

pub use meta::{DOC_SECTIONS, RuleMeta, all_meta, documentation, explain, meta};
pub use rule::{
    Active, ActiveRules, AnyRule, CheckCx, ConfigSource, ErasedFacts, ErasedParams, FileInput, InTestCode, NamedFile,
    ParamsError, Registered, Rule,
};

/// The items of a rule with no parameters and no facts of its own, in its `impl
/// Rule` block (its module's `ID` is the rule id).
macro_rules! no_params_items {
    () => {
        const ID: &'static str = ID;
        type Params = crate::rules::NoParams;
        type Facts = ();

        fn params(
            table: &toml::Table,
            _: Option<&crate::rules::ConfigSource>,
        ) -> Result<crate::rules::NoParams, crate::rules::ParamsError> {
            crate::rules::params_from_table(table)
        }
    };
}
pub(crate) use no_params_items;

/// `impl Rule` for a rule whose findings the engine makes itself (parse errors, the
/// suppressions' own findings): no parameters, no facts, nothing to check crate-wide;
/// only its escape-hatch mutation for the fixture harness.
macro_rules! rule_made_by_the_engine {
    ($rule:ident, $remove_escape_hatch:expr) => {
        impl crate::rules::Rule for $rule {
            crate::rules::no_params_items!();

            fn check(
                _: &crate::rules::CheckCx,
                _: &crate::rules::NoParams,
                _: crate::rules::diagnostic::Severity,
            ) -> Result<Vec<crate::rules::diagnostic::Diagnostic>, String> {
                Ok(Vec::new())
            }

            fn remove_escape_hatch(line: &str) -> String {
                let remove: fn(&str) -> String = $remove_escape_hatch;
                remove(line)
            }
        }
    };
}
pub(crate) use rule_made_by_the_engine;

/// The items every rule that reads the migrations and has no parameters or facts
/// of its own declares (the schema rules), in its `impl Rule` block.
macro_rules! migration_rule_items {
    () => {
        crate::rules::no_params_items!();
        const READS_MIGRATIONS: bool = true;
    };
}
pub(crate) use migration_rule_items;

/// `declare_rules! { "rule-id" => module::Type, … }`: declares each rule's module and
/// registers the rule with its embedded `rules/<id>.toml` and `<module>/mod.rs`.
macro_rules! declare_rules {
    ($($id:literal => $module:ident :: $rule:ident,)*) => {
        $(pub mod $module;)*

        static REGISTRY: &[&dyn AnyRule] = &[$(
            &Registered::<$module::$rule> {
                defaults_toml: include_str!(concat!("../../rules/", $id, ".toml")),
                module_source: include_str!(concat!(stringify!($module), "/mod.rs")),
                rule: std::marker::PhantomData,
            },
        )*];

        /// The ids as written in the registry (a test checks each is its rule's `ID`).
        #[cfg(test)]
        const DECLARED_IDS: &[&str] = &[$($id),*];
    };
}

declare_rules! {
    "parse-error" => parse_error::ParseError,
    "direct-provisioner-call" => direct_provisioner_call::DirectProvisionerCall,
    "insert-allowlist" => insert_allowlist::InsertAllowlist,
    "invalid-suppression" => invalid_suppression::InvalidSuppression,
    "non-idempotent-insert" => non_idempotent_insert::NonIdempotentInsert,
    "unused-suppression" => unused_suppression::UnusedSuppression,
    "wildcard-listen-default" => wildcard_listen_default::WildcardListenDefault,
    "migration-version-collision" => migration_version_collision::MigrationVersionCollision,
    "unknown-table" => unknown_table::UnknownTable,
    "unknown-column" => unknown_column::UnknownColumn,
    "conflict-target-not-unique" => conflict_target_not_unique::ConflictTargetNotUnique,
    "upsert-misses-unique-index" => upsert_misses_unique_index::UpsertMissesUniqueIndex,
    "dead-table" => dead_table::DeadTable,
    "migration-parse-error" => migration_parse_error::MigrationParseError,
    "admin-route-without-auth" => admin_route_without_auth::AdminRouteWithoutAuth,
    "unvalidated-write" => unvalidated_write::UnvalidatedWrite,
    "config-weakened" => config_weakened::ConfigWeakened,
}

/// Every registered rule, in registry order.
pub fn registry() -> &'static [&'static dyn AnyRule] {
    REGISTRY
}

/// A rule's position in the registry (its slot in per-file facts).
pub fn slot(id: &str) -> Option<usize> {
    REGISTRY.iter().position(|r| r.id() == id)
}

/// Parameters from a rule's merged table, for rules whose parameters are a plain
/// struct; errors read as the configuration's own.
pub fn params_from_table<T: serde::de::DeserializeOwned>(table: &toml::Table) -> Result<T, ParamsError> {
    table.clone().try_into().map_err(|e: toml::de::Error| ParamsError::from(crate::messages::tidy_message(e.message())))
}

/// The parameters of a rule that has none.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_ids_are_the_rules_ids_and_unique() {
        let ids: Vec<&str> = registry().iter().map(|r| r.id()).collect();
        assert_eq!(ids, DECLARED_IDS, "each `declare_rules!` id must be its rule's `ID`");
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids.len(), sorted.len(), "duplicate rule ids");
        assert_eq!(all_meta().len(), ids.len());
    }

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
    fn uses_name_registered_rules() {
        for rule in registry() {
            for used in rule.uses() {
                assert!(slot(used).is_some(), "{} uses unknown rule {used}", rule.id());
            }
        }
    }
}
