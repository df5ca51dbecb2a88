//! The `gatelint` binary: a thin shell around [`gatelint::cli::run`].
use std::process::ExitCode;

/// jemalloc, where available (see `Cargo.toml`).
#[cfg(all(
    feature = "jemalloc",
    unix,
    not(target_os = "openbsd"),
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    gatelint::cli::main_with_big_stack()
}
