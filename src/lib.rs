//! gatelint: structural gates for a Rust web-handler codebase.
//!
//! The data flow, one folder per stage (docs/architecture.md draws it):
//! [`input`] (discover files, read and parse each once) → per-file [`facts`] and the
//! crate-wide index → [`rules`] (each rule's extract and check; their findings are
//! [`rules::diagnostic`]s) → [`report`] (suppressions, baseline, renderers).
//! [`engine`] runs the stages; [`config`] reads `gatelint.toml`; [`cli`] is the command
//! line and [`server`] the language server editors run.

pub mod cli;
pub mod config;
pub mod engine;
pub mod facts;
pub mod input;
pub mod messages;
pub mod report;
pub mod rules;
pub mod server;

/// The allocator crate, for [`binary_allocator!`].
#[cfg(all(
    feature = "jemalloc",
    unix,
    not(target_os = "openbsd"),
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[doc(hidden)]
pub use tikv_jemallocator;

/// Declares a binary's global allocator: jemalloc when gatelint is built with the
/// `jemalloc` feature on a platform where it is well tried (see `Cargo.toml`), else
/// nothing (the system allocator). The feature is decided where gatelint is built, so
/// a tool crate opts in with `gatelint = { …, features = ["jemalloc"] }` and this one
/// line in its `main.rs`; the library itself never picks an allocator for its users.
#[cfg(all(
    feature = "jemalloc",
    unix,
    not(target_os = "openbsd"),
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[macro_export]
macro_rules! binary_allocator {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::tikv_jemallocator::Jemalloc = $crate::tikv_jemallocator::Jemalloc;
    };
}

/// Declares a binary's global allocator: without the `jemalloc` feature (or where it
/// is not supported), the system allocator, so this expands to nothing.
#[cfg(not(all(
    feature = "jemalloc",
    unix,
    not(target_os = "openbsd"),
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
#[macro_export]
macro_rules! binary_allocator {
    () => {};
}
