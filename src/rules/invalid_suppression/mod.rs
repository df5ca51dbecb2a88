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

/// The rule id (findings are made by [`crate::report::suppress::apply`]).
pub const ID: &str = crate::report::suppress::INVALID;
