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
pub mod suggest;
pub mod suppress;
pub mod value;

/// The allocator crate, for [`binary_allocator!`].
#[cfg(all(
    feature = "jemalloc",
    unix,
    not(target_os = "openbsd"),
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[doc(hidden)]
pub use tikv_jemallocator;

/// Declares the binaries' global allocator: jemalloc where the `jemalloc` feature
/// (default) and the platform allow, else the system's (see `Cargo.toml`). One line
/// in each binary; the library itself never picks an allocator for its users.
#[macro_export]
macro_rules! binary_allocator {
    () => {
        #[cfg(all(
            feature = "jemalloc",
            unix,
            not(target_os = "openbsd"),
            any(target_arch = "x86_64", target_arch = "aarch64")
        ))]
        #[global_allocator]
        static ALLOCATOR: $crate::tikv_jemallocator::Jemalloc = $crate::tikv_jemallocator::Jemalloc;
    };
}
