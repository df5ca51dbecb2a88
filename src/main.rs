//! The `gatelint` binary: a thin shell around [`gatelint::cli::main`].
use std::process::ExitCode;

gatelint::binary_allocator!();

fn main() -> ExitCode {
    gatelint::cli::main()
}
