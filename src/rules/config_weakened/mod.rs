//! # config-weakened
//!
//! ## What it does
//! With `gatelint check --against REV` (the pull request's base: `origin/main`, a
//! merge base), reads `gatelint.toml` as it is at REV (`git show`, no checkout) and
//! compares it with the working tree's. Every change that weakens a gate is a finding
//! at the changed line:
//! - a rule turned off or lowered in severity;
//! - an added `exclude` glob (naming how many checked files it removes);
//! - `include-tests` turned off;
//! - a parameter changed the way that narrows its gate: a guarded table removed, a
//!   preflight helper, dispatcher, backend or construct path added, an auth layer or
//!   admin extractor added, a listen name removed… (each rule's `weakened-by` table,
//!   listed under "Configuration" below);
//! - an added allowlist entry, with its mechanism and reason for the reviewer to read
//!   (a reworded `reason` alone is the same entry), and every entry removed (the
//!   allowlist is off while it lists nothing).
//!
//! New exemptions in the code are listed the same way, by comparing each file's
//! suppressions with the file at REV: a new `allow-file` (it exempts a whole file, as
//! an `exclude` glob does) is an error; a new line suppression of an error-severity
//! gate is a warning, so the reviewer sees every new exemption and its reason in one
//! place without a second comment being demanded for a one-line exemption that sits,
//! with its reason, in the diff.
//!
//! A change that strengthens a gate (a table added, a path removed, a severity
//! raised), and edits that change nothing checked, are not findings. With no
//! `gatelint.toml` at REV the comparison is with the built-in defaults (the summary
//! says so); a configuration at REV that does not parse is one finding that names
//! it, and nothing else of the configuration is compared.
//!
//! ## Why is this bad?
//! gatelint runs as a required check, but its configuration lives in the repository
//! it checks: a pull request could add `exclude = ["src/handlers/**"]`, set a gate to
//! `off`, register a preflight helper that does nothing or add an allowlist entry,
//! and the check would go green. The allowlist exists so that "what makes this
//! idempotent?" is asked in review; a weakening hidden in a configuration diff skips
//! that question.
//!
//! ## Example
//! ```toml
//! # gatelint.toml on the branch; origin/main has no `exclude`.
//! exclude = ["src/handlers/**"]
//! ```
//!
//! ## Use instead
//! Revert the change, or accept it explicitly where it is, with a reason the reviewer
//! reads (a TOML comment on the changed line or the line above):
//! ```toml
//! # gatelint: allow(config-weakened) -- generated handlers, checked by their generator's tests
//! exclude = ["src/handlers/generated/**"]
//! ```
//! An acceptance counts only when its text is new compared with REV: a comment
//! already at REV (on that line or any other) accepts nothing new, so write the reason
//! for this change. Acceptances stay as the record of
//! the decision and are never reported as unused. SARIF carries an accepted change
//! as a suppressed result with the reason as its justification.
//!
//! ## Configuration
//! ```toml
//! [rules.config-weakened]
//! severity = "error"   # or "warning", "off": read from the configuration at REV
//! ```
//! Which change of a rule's key weakens it is declared in the rule's defaults
//! (`weakened-by`): "adding" an element, "removing" one, "changing" the value, or
//! "none". `migrations` and `dialect` say where the schema is, not what is checked:
//! changing them is not a finding.
//!
//! ## Known limitations
//! Runs only with `--against` (not with `--no-config`). A glob replaced by a narrower
//! one (`**/provisioner.rs` by `src/provisioner.rs`) is reported as added: globs are
//! compared as text, and a `!` pattern added to `exclude` is reported like any glob.
//! Keys that weaken a gate in both directions (`constructors`, `validator-prefixes`)
//! report what they gain and what they lose. With `--staged`,
//! the configuration is the working tree's, as for the rest of the run. Suppressions are compared by their comment's text per
//! file: a renamed file's suppressions all count as new, and a suppression moved
//! within its file does not. Parameters of a rule that is off in the working tree
//! are not compared (turning it off is the finding). A removed key or element has no
//! line of its own in the working tree: it is reported at its parameter, its rule's
//! table, or the start of the file, whichever is still there.

pub mod exemptions;
pub mod settings;

pub const ID: &str = "config-weakened";

/// Its findings are made by the engine's `--against` stage ([`crate::engine`]), which
/// reads the base revision; the rule's check has nothing to read without it.
pub struct ConfigWeakened;

// A clean fixture's escape hatch is its acceptance comment: replaced by a plain
// comment, so the lines keep their numbers.
crate::rules::rule_made_by_the_engine!(ConfigWeakened, |line| match line.find("gatelint: allow(config-weakened)") {
    Some(at) => format!("{}(acceptance removed)\n", &line[..at]),
    None => line.to_string(),
});

/// Why a weakened gate matters, printed with the rule's first finding.
pub const WHY: &str = "gatelint is a required check whose configuration lives in the repository it checks: a change \
                       that weakens it turns the check green without the question the gate exists to ask being asked \
                       in review";

/// How to accept a change in the configuration file.
pub const HELP_ACCEPT: &str = "revert it, or accept it where it is with a reason the reviewer reads: \
                               `# gatelint: allow(config-weakened) -- why` on this line or the line above";
