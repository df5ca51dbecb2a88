//! `cargo gatelint …`: cargo runs `cargo-gatelint gatelint …`; drop the repeated
//! subcommand name and run the ordinary command line.
use std::process::ExitCode;

gatelint::binary_allocator!();

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "gatelint") {
        args.remove(1);
    }
    let worker = std::thread::Builder::new()
        .stack_size(gatelint::engine::WORKER_STACK)
        .spawn(move || gatelint::cli::run_with(args));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("gatelint: internal error (this is a bug in gatelint; please report it with the input)");
            ExitCode::from(2)
        }
    }
}
