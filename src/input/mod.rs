//! Reading the input: which files ([`discover`], or the git index: [`staged`]; [`git`] runs git), their
//! text and positions ([`source`]), and each file parsed once ([`parse`], bounded by
//! [`nesting`], with its [`comments`] read by the compiler's own lexer); a file that
//! cannot be checked is a [`problem`]. The project's SQL [`migrations`] are found
//! beside the code. Parsing deep input recurses: it runs on
//! threads with [`WORKER_STACK`] bytes of stack.

pub mod comments;
pub mod config_files;
pub mod discover;
pub mod git;
pub mod macros;
pub mod migrations;
pub mod nesting;
pub mod packages;
pub mod parse;
pub mod problem;
pub mod source;
pub mod staged;

/// Worker threads get a large stack: syn and the visitors recurse per nesting level,
/// and [`nesting::MAX_DEPTH`] bounds the depth well inside it.
pub const WORKER_STACK: usize = 256 << 20;
