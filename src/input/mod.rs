//! Reading the input: which files ([`discover`], or the git index: [`staged`]), their
//! text and positions ([`source`]), and each file parsed once ([`parse`], bounded by
//! [`nesting`], with its [`comments`] read by the compiler's own lexer).

pub mod comments;
pub mod discover;
pub mod nesting;
pub mod parse;
pub mod source;
pub mod staged;
