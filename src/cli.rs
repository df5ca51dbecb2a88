//! The command line: `check`, `rules`, `explain`. Exit codes: 0 no error-severity
//! findings; 1 error findings or files that could not be read or parsed; 2 usage,
//! configuration or internal error.

use crate::config::Config;
use crate::diagnostic::Severity;
use crate::engine::{self, RunOptions};
use crate::render::{self, Format};
use crate::rules;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "gatelint", version, about = "Structural gates for a Rust web-handler codebase")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check every `.rs` file under the given paths (default: the current directory).
    Check(CheckArgs),
    /// List every rule with its default severity and summary.
    Rules,
    /// Print a rule's documentation.
    Explain {
        /// A rule id, as printed by `gatelint rules`.
        rule: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Configuration file (default: the nearest `gatelint.toml` at or above the first path).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore any `gatelint.toml` and use the built-in defaults.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Runs the CLI on a thread with a large stack: deeply nested input is bounded by
/// the parser's limits, and this keeps the main thread's walks inside them too.
pub fn main_with_big_stack() -> ExitCode {
    let worker = std::thread::Builder::new().stack_size(engine::WORKER_STACK).spawn(run);
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("gatelint: internal error (this is a bug in gatelint; please report it with the input)");
            ExitCode::from(2)
        }
    }
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rules => {
            let mut out = String::new();
            for m in rules::all_meta() {
                let severity = m.default_severity.map_or("off", Severity::as_str);
                out.push_str(&format!("{:<26} {:<8} {}\n", m.id, severity, m.summary));
            }
            print(&out)
        }
        Command::Explain { rule } => match rules::meta(&rule) {
            Some(m) => {
                let mut out = m.documentation.clone();
                out.push_str(&format!("\nDefault severity: {}\n", m.default_severity.map_or("off", Severity::as_str)));
                if !m.parameters.is_empty() {
                    out.push_str(&format!(
                        "\nDefault parameters:\n{}",
                        toml::to_string(&m.parameters).unwrap_or_default()
                    ));
                }
                print(&out)
            }
            None => {
                let ids: Vec<_> = rules::all_meta().into_iter().map(|m| m.id).collect();
                eprintln!("gatelint: unknown rule `{rule}`; known rules: {}", ids.join(", "));
                ExitCode::from(2)
            }
        },
    }
}

fn print(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`gatelint … | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatelint: cannot write output: {e}");
            ExitCode::from(2)
        }
    }
}

fn check(args: CheckArgs) -> ExitCode {
    let config = if args.no_config {
        Ok(Config::defaults())
    } else {
        let file = args.config.clone().or_else(|| Config::discover(args.paths.first().map_or(".".as_ref(), |p| p)));
        match file {
            Some(path) => Config::load(&path),
            None => Ok(Config::defaults()),
        }
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gatelint: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let options = RunOptions { paths: args.paths, jobs: args.jobs };
    let report = match engine::run(&options, &config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gatelint: {}", e.0);
            return ExitCode::from(2);
        }
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let code = print(&render::render(args.format, &report, color));
    if code != ExitCode::SUCCESS {
        return code;
    }
    if report.diagnostics.iter().any(|d| d.severity == Severity::Error) { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
