//! # unused-suppression
//!
//! ## What it does
//! Reports a `// gatelint: allow(rule-id) -- reason` (or `allow-file`) comment that
//! suppresses no finding: the code it excused was fixed or moved, or the rule id is
//! wrong for the line.
//!
//! ## Why is this bad?
//! A stale suppression silently hides the next finding that lands on that line or
//! file. Suppressions should only exist where a reviewer accepted a real finding.
//!
//! ## Example
//! ```rust
//! // gatelint: allow(wildcard-listen-default) -- sidecar runs in its own network namespace
//! pub const LISTEN_ADDR: &str = "127.0.0.1:9100";
//! ```
//!
//! ## Use instead
//! ```rust
//! pub const LISTEN_ADDR: &str = "127.0.0.1:9100";
//! ```
//!
//! ## Configuration
//! ```toml
//! [rules.unused-suppression]
//! severity = "warning"   # or "error", "off"
//! ```
//!
//! ## Known limitations
//! A suppression counts as used if it suppresses any finding of one of its rules: one
//! reported on its line or the next, in the head of the statement it sits above (up
//! to the statement's first `{`), or inside that statement with a secondary label in
//! its head (a loop header); anywhere in the file for `allow-file`. It does not check
//! that every listed rule was needed.

pub const ID: &str = "unused-suppression";

/// Its findings are made with the suppressions themselves ([`crate::report::suppress::apply`]).
pub struct UnusedSuppression;

// A used suppression's escape hatch is the finding it hides: the fixtures' wildcard
// address made loopback, so the suppression hides nothing.
crate::rules::rule_made_by_the_engine!(UnusedSuppression, |line| line.replace("0.0.0.0", "127.0.0.1"));
