//! The `gatelint` binary: a thin shell around [`gatelint::cli::run`].
use std::process::ExitCode;

gatelint::binary_allocator!();

fn main() -> ExitCode {
    gatelint::cli::main_with_big_stack()
}
