//! # parse-error
//!
//! ## What it does
//! Reports a `.rs` file that gatelint could not check: it could not be read, it is
//! not valid UTF-8, it does not parse as Rust, it is over 4 GiB, or (over 16 KiB, 4 KiB in
//! debug builds) it may nest too deeply to parse safely (`src/nesting.rs`: more than
//! 16 384 tokens of unfinished brackets, operators or chains; 4 096 in debug builds);
//! also a file that changed while it was being checked. The diagnostic names the file and the position of the problem.
//! Lexical problems are reported as rustc reports them, read with rustc's own lexer:
//! an unclosed delimiter at the opening delimiter, a mismatched closing delimiter at
//! the closer with the opening delimiter it leaves unclosed, an unexpected closing
//! delimiter, an unterminated string, character or block comment where it starts.
//!
//! ## Why is this bad?
//! A gate that silently skips a file it cannot parse passes code nobody checked.
//! Every other file is still checked, but the run fails (exit code 1) so the gap is
//! seen.
//!
//! ## Example
//! ```rust
//! fn broken( {
//! ```
//!
//! ## Use instead
//! Fix the syntax error (the compiler will say the same), convert the file to
//! UTF-8, or split an expression nested hundreds of levels deep.
//!
//! ## Configuration
//! None. This diagnostic is always an error and cannot be turned off; exclude a file
//! with the top-level `exclude` globs in `gatelint.toml` if it is not Rust source.
//!
//! ## Known limitations
//! gatelint parses with `syn`, which accepts some code that `rustc` rejects later
//! (type errors, unresolved names); those files are checked, not reported.

/// The rule id of this diagnostic.
pub const ID: &str = "parse-error";
