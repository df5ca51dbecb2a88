//! The command line: `check`, `rules`, `explain`. Exit codes: 0 no error-severity
//! findings; 1 error findings or files that could not be read or parsed; 2 usage,
//! configuration or internal error.

pub mod init;
pub mod outputs;

use crate::config::Config;
use crate::engine::{self, RunOptions};
use crate::report::render::{self, Format};
use crate::rules;
use crate::rules::diagnostic::Severity;
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
    /// Write a commented `gatelint.toml` with every rule's defaults.
    Init {
        /// Where to write it.
        #[arg(default_value = "gatelint.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Install a git pre-commit hook that runs `gatelint check --staged`.
    InstallHook {
        /// Overwrite an existing pre-commit hook.
        #[arg(long)]
        force: bool,
    },
    /// Run a language server (LSP) over standard input and output, for editors.
    Server,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check. When only files are named, the rest of their
    /// crate still provides crate-wide facts; findings are reported for the named files.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format; repeat it, each followed by `--output FILE`, to write several.
    #[arg(long, value_enum, action = clap::ArgAction::Append)]
    pub format: Vec<Format>,
    /// Write the preceding `--format` (or the format the extension names) to FILE.
    #[arg(long, short = 'o', value_name = "FILE", action = clap::ArgAction::Append)]
    pub output: Vec<PathBuf>,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only findings (no summary line).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Configuration file (default: the nearest `gatelint.toml` at or above the first path).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore any `gatelint.toml` and use the built-in defaults.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Hide the findings recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in FILE (and report none).
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,
    /// With `--baseline`: remove the entries that no longer match (never adds).
    #[arg(long, requires = "baseline")]
    pub prune_baseline: bool,
    /// Check the staged content (the git index), not the working tree.
    #[arg(long)]
    pub staged: bool,
    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Compare the configuration and the suppressions with those at REV (a branch,
    /// tag or commit: the pull request's base); every change that weakens a gate is a
    /// `config-weakened` finding.
    #[arg(long, value_name = "REV", conflicts_with = "no_config")]
    pub against: Option<String>,
    /// Do not read or write the facts cache (`target/gatelint-cache`, or `$GATELINT_CACHE_DIR`).
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The whole command line as one library call: parses the process's arguments, runs
/// the command and returns its exit code (0 no error-severity findings, 1 findings
/// that fail the check, 2 usage, configuration or internal error). This is the stable
/// entry point for a tool crate in your own workspace:
///
/// ```ignore
/// fn main() -> std::process::ExitCode {
///     gatelint::cli::main()
/// }
/// ```
///
/// `cargo gatelint …` (cargo passes the subcommand's name again) works too.
pub fn main() -> ExitCode {
    main_with_args(std::env::args_os())
}

/// [`main`] with the given arguments (the first is the program name). Runs on a
/// thread with a large stack: deeply nested input is bounded by the parser's limits,
/// and this keeps the walks of the main thread inside them too.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = args.into_iter().collect();
    // `cargo gatelint check` runs `cargo-gatelint gatelint check`; help and usage
    // then name the command as it was typed.
    if args.get(1).is_some_and(|a| a == "gatelint") {
        args.remove(1);
        args[0] = "cargo gatelint".into();
    }
    let worker = std::thread::Builder::new().stack_size(engine::WORKER_STACK).spawn(move || run_with(args));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("gatelint: internal error (this is a bug in gatelint; please report it with the input)");
            ExitCode::from(2)
        }
    }
}

/// Runs the command line given as `args` (the first is the program name) on the
/// current thread; [`main_with_args`] gives it the stack it needs.
pub fn run_with(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Check(args) => {
            let sub = matches.subcommand_matches("check").expect("the check subcommand matched");
            let index = |id: &str| sub.indices_of(id).map(|i| i.collect::<Vec<_>>()).unwrap_or_default();
            match crate::cli::outputs::plan(&args.format, &index("format"), &args.output, &index("output")) {
                Ok(plan) => check(args, plan),
                Err(e) => {
                    eprintln!("gatelint: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Init { path, force } => crate::cli::init::write(&path, force),
        Command::InstallHook { force } => crate::cli::init::install_hook(force),
        Command::Server => crate::server::run(),
        Command::Rules => {
            let mut out = String::new();
            for m in rules::all_meta() {
                let severity = m.default_severity.map_or("off", Severity::as_str);
                out.push_str(&format!("{:<26} {:<8} {}\n", m.id, severity, m.summary));
            }
            print(&out)
        }
        Command::Explain { rule } => match rules::meta(&rule) {
            Some(m) => print(&rules::explain(&m)),
            None => {
                let ids: Vec<_> = rules::all_meta().into_iter().map(|m| m.id).collect();
                let hint = crate::messages::hint(&rule, ids.iter().copied());
                eprintln!("gatelint: unknown rule `{rule}`{hint}; known rules: {}", ids.join(", "));
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

fn check(args: CheckArgs, plan: crate::cli::outputs::Plan) -> ExitCode {
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
    let first = args.paths.first().map_or(".".as_ref(), |p| p.as_path());
    let cache_dir = (!args.no_cache).then(|| crate::engine::cache::Cache::project_dir(config.file.as_deref(), first));
    use crate::report::render::Format;
    let snippets = args.baseline.is_some()
        || args.write_baseline.is_some()
        || plan
            .stdout
            .into_iter()
            .chain(plan.files.iter().map(|(f, _)| *f))
            .any(|f| matches!(f, Format::Human | Format::Json | Format::Sarif));
    let options = RunOptions {
        paths: args.paths.clone(),
        jobs: args.jobs,
        staged: args.staged,
        cache_dir,
        snippets,
        against: args.against.clone(),
    };
    let mut report = match engine::run(&options, &config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gatelint: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = apply_baseline(&args, &mut report) {
        eprintln!("gatelint: {e}");
        return ExitCode::from(2);
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    for (format, file) in &plan.files {
        let text = render::render(*format, &report, render::Style { color: false, quiet: args.quiet });
        if let Err(e) = std::fs::write(file, text) {
            eprintln!("gatelint: cannot write {}: {e}", file.display());
            return ExitCode::from(2);
        }
    }
    match plan.stdout {
        Some(format) => {
            let code = print(&render::render(format, &report, render::Style { color, quiet: args.quiet }));
            if code != ExitCode::SUCCESS {
                return code;
            }
        }
        // Everything went to files: say where, and the summary, on stderr.
        None if !args.quiet => {
            let written: Vec<String> = plan.files.iter().map(|(_, f)| f.display().to_string()).collect();
            for note in &report.notes {
                eprintln!("gatelint: note: {note}");
            }
            eprintln!("gatelint: {}; wrote {}", render::summary_line(&report), written.join(", "));
        }
        None => {}
    }
    let fails = |d: &crate::rules::diagnostic::Diagnostic| d.severity == Severity::Error || args.deny_warnings;
    if report.diagnostics.iter().any(fails) { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// `--write-baseline`, `--baseline` and `--prune-baseline`.
fn apply_baseline(args: &CheckArgs, report: &mut engine::Report) -> Result<(), crate::report::baseline::BaselineError> {
    use crate::report::baseline::Baseline;
    if let Some(path) = &args.write_baseline {
        let baseline = Baseline::of(&report.diagnostics, &report.db);
        baseline.write(path)?;
        eprintln!("gatelint: wrote {} baseline entries to {}", baseline.entries.len(), path.display());
        report.baselined = report.diagnostics.len();
        report.diagnostics.clear();
        return Ok(());
    }
    let Some(path) = &args.baseline else { return Ok(()) };
    let baseline = Baseline::read(path)?;
    let diagnostics = std::mem::take(&mut report.diagnostics);
    let (kept, hidden, stale) = baseline.apply(diagnostics, &report.db, |path| report.reports_on(path));
    report.diagnostics = kept;
    report.baselined = hidden;
    if !stale.is_empty() {
        if args.prune_baseline {
            baseline.pruned(&stale).write(path)?;
            eprintln!("gatelint: pruned {} stale entries from {}", stale.len(), path.display());
        } else {
            eprintln!(
                "gatelint: {} baseline entries no longer match (remove them with --prune-baseline):",
                stale.len()
            );
            for e in &stale {
                eprintln!("  {} [{}] {}", e.path, e.rule, e.message);
            }
        }
    }
    Ok(())
}
