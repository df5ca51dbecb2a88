//! `cargo gatelint …`: cargo runs `cargo-gatelint gatelint …`, which
//! [`gatelint::cli::main`] understands.
use std::process::ExitCode;

gatelint::binary_allocator!();

fn main() -> ExitCode {
    gatelint::cli::main()
}
