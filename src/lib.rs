//! gatelint: structural gates for a Rust web-handler codebase.
//!
//! The data flow, one module per step:
//! [`discover`] files → [`parse`] each once (with [`comments`] from a real lexer) →
//! per-file [`facts`] → crate-wide [`index`] → [`rules`] → [`diagnostic`]s →
//! [`render`]ers. [`engine`] wires the steps together; [`cli`] is the command line.

pub mod allowlist;
pub mod baseline;
pub mod cache;
pub mod cli;
pub mod comments;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod facts;
pub mod index;
pub mod init;
pub mod nesting;
pub mod outputs;
pub mod parse;
pub mod render;
pub mod rules;
pub mod source;
pub mod sql;
pub mod staged;
pub mod suppress;
pub mod value;
