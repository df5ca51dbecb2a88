//! # invalid-suppression
//!
//! ## What it does
//! Reports a gatelint suppression comment that cannot suppress anything: it has no
//! reason (`// gatelint: allow(rule-id)` without `-- why`), names a rule that does
//! not exist (a misspelt id gets "did you mean" the closest known one), is
//! malformed, or is an `allow-file` placed after the first item.
//!
//! ## Why is this bad?
//! The reason is what keeps a suppression accountable: the next reviewer sees why
//! the finding was accepted. A suppression without one suppresses nothing, so the
//! finding it meant to hide is still reported, and this finding says why.
//!
//! ## Example
//! ```rust
//! // gatelint: allow(wildcard-listen-default)
//! pub const LISTEN_ADDR: &str = "0.0.0.0:9100";
//! ```
//!
//! ## Use instead
//! ```rust
//! // gatelint: allow(wildcard-listen-default) -- published only on the internal overlay network
//! pub const LISTEN_ADDR: &str = "0.0.0.0:9100";
//! ```
//!
//! ## Configuration
//! ```toml
//! [rules.invalid-suppression]
//! severity = "error"   # or "warning", "off"
//! ```
//!
//! ## Known limitations
//! Only comments starting with `gatelint:` are read; a typo in that prefix makes the
//! comment an ordinary comment.

pub const ID: &str = "invalid-suppression";

/// Its findings are made with the suppressions themselves ([`crate::report::suppress::apply`]).
pub struct InvalidSuppression;

// A valid suppression's escape hatch is its reason: dropped.
crate::rules::rule_made_by_the_engine!(InvalidSuppression, |line| match line.find(" -- ") {
    Some(at) => {
        let end = line[at..].find("*/").map_or(line.trim_end().len(), |e| at + e);
        format!("{}{}", &line[..at], &line[end..])
    }
    None => line.to_string(),
});
