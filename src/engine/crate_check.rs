//! The crate-wide stage: every file's sources and facts in one place (walk errors
//! and the configuration file join them, so findings can point there), the crate
//! index, and the active rules run side by side over them.

use super::file::{FileOutcome, panic_message};
use super::{RunError, Timings};
use crate::config::Config;
use crate::facts::FileFacts;
use crate::facts::defs::DefMap;
use crate::facts::index::CrateIndex;
use crate::input::discover::WalkError;
use crate::input::packages::{Packages, UnitId};
use crate::input::parse::ParseProblem;
use crate::input::source::{SourceDb, SourceFile};
use crate::rules::InTestCode;
use crate::rules::diagnostic::Diagnostic;
use crate::rules::diagnostic::Severity;
use crate::rules::{self, parse_error};
use rayon::prelude::*;

/// Every file's source and facts, by file id, and the findings made so far.
pub(super) struct Gathered {
    pub db: SourceDb,
    pub facts: Vec<FileFacts>,
    /// Files that could not be read or parsed, or could not be walked.
    pub problems: Vec<Diagnostic>,
    /// The configuration file's id in `db`, when there is one.
    pub config_file: Option<usize>,
    /// The number of files checked (walk errors and the configuration not counted).
    pub files_checked: usize,
    /// No file changed between the two passes: the run's findings may be stored.
    pub storable: bool,
    /// Files the rules' facts name, by naming file and name (see [`super::included`]).
    pub included: std::collections::BTreeMap<(usize, rules::NamedFile), usize>,
    /// Paths looked for as files the rules' facts name that were not there.
    pub looked_for: Vec<std::path::PathBuf>,
    /// The project's SQL migrations (read by [`super::migrations`]).
    pub migrations: crate::input::migrations::Migrations,
    /// Each migration set's schema, by the set's index.
    pub schemas: Vec<crate::facts::schema::Schema>,
    /// The configuration files of the checked trees (read by [`super::repo_configs`]).
    pub repo_configs: Vec<usize>,
}

pub(super) fn gather(outcomes: Vec<FileOutcome>, errors: Vec<WalkError>, config: &Config) -> Gathered {
    let mut db = SourceDb::default();
    let mut facts = Vec::with_capacity(outcomes.len());
    let mut problems = Vec::new();
    let mut storable = true;
    for outcome in outcomes {
        problems.extend(outcome.problem);
        storable &= !outcome.changed;
        db.files.push(outcome.source);
        facts.push(outcome.facts);
    }
    let files_checked = db.files.len();
    for err in errors {
        let id = db.files.len();
        db.files.push(SourceFile::new(err.display, String::new()));
        facts.push(FileFacts::default());
        problems.push(parse_error::diagnostic(id, "", ParseProblem::new(0, err.message)));
    }
    // The configuration file's `#` suppressions accept `config-weakened` findings.
    let config_file = config.text.as_ref().map(|t| {
        let id = db.files.len();
        let source = SourceFile::new(t.shown.clone(), t.text.clone());
        let comments = crate::input::comments::lex_hash_comments(&t.text);
        let suppressions = crate::facts::suppressions::directives(id, &source, &comments, usize::MAX);
        db.files.push(source);
        facts.push(FileFacts { suppressions, ..FileFacts::default() });
        id
    });
    Gathered {
        db,
        facts,
        problems,
        config_file,
        files_checked,
        storable,
        included: Default::default(),
        looked_for: Vec::new(),
        migrations: Default::default(),
        schemas: Vec::new(),
        repo_configs: Vec::new(),
    }
}

/// Builds the crate index and runs every rule that is on; the rules are independent,
/// so they run side by side and are collected in registry order.
pub(super) fn run_rules(
    gathered: &Gathered,
    active: &rules::ActiveRules,
    (packages, units): &(Packages, Vec<UnitId>),
    paths: &[std::path::PathBuf],
    include_tests: bool,
    pool: &rayon::ThreadPool,
    timings: &Timings,
) -> Result<Vec<Diagnostic>, RunError> {
    let (index, defs) = pool.install(|| {
        rayon::join(
            || CrateIndex::build(&gathered.facts),
            || {
                let names = gathered.facts.iter().map(|f| &f.names).collect();
                let paths: Vec<Option<&std::path::Path>> =
                    (0..gathered.facts.len()).map(|f| paths.get(f).map(std::path::PathBuf::as_path)).collect();
                DefMap::build(names, &paths, packages, units)
            },
        )
    });
    let cx = rules::CheckCx {
        db: &gathered.db,
        files: &gathered.facts,
        index,
        defs,
        config_file: gathered.config_file,
        included: &gathered.included,
        migrations: &gathered.migrations,
        schemas: &gathered.schemas,
        repo_configs: &gathered.repo_configs,
        program_names: packages.program_names(),
        active,
        paths,
    };
    timings.mark("crate index");
    let enabled: Vec<_> = active.iter().filter_map(|(_, rule, a)| Some((rule, a.severity?, &a.params))).collect();
    let results: Vec<Result<Vec<Diagnostic>, RunError>> = pool.install(|| {
        enabled
            .par_iter()
            .map(|(rule, severity, params)| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rule.check(&cx, params, *severity)))
                    .unwrap_or_else(|payload| Err(format!("internal error: {}", panic_message(&payload))))
                    .map_err(|message| RunError::Rule { rule: rule.id(), message })
            })
            .collect()
    });
    let mut diagnostics = gathered.problems.clone();
    let test = TestCode { cx: &cx };
    for ((rule, _, _), found) in enabled.iter().zip(results) {
        let found = found?;
        if include_tests {
            let in_tests = rule.in_test_code();
            diagnostics.extend(found.into_iter().filter_map(|d| test.checked(d, in_tests)));
        } else {
            // A file that `#[cfg(test)] mod tests;` brings in is test code, though nothing
            // in it says so: skipped with the rest of the tests (its parse problems stay).
            // So is test-support code named as such (`test_utils.rs`, `*_test_fakes/`).
            diagnostics.extend(found.into_iter().filter(|d| !cx.defs.is_test_file(d.loc.file) && !test.support(d)));
        }
    }
    Ok(diagnostics)
}

/// Whether a finding is in test code ([`rules::CheckCx::in_test_code`]), and what
/// that makes of it.
struct TestCode<'c, 'a> {
    cx: &'c rules::CheckCx<'a>,
}

impl TestCode<'_, '_> {
    /// The rules about gatelint's own input (unparsable files, suppressions) report
    /// on test code like any other.
    fn about_input(d: &Diagnostic) -> bool {
        use crate::rules::{invalid_suppression, parse_error, unused_suppression};
        [parse_error::ID, invalid_suppression::ID, unused_suppression::ID].contains(&d.rule)
    }

    /// In test-support code ([`crate::input::discover::is_test_support`]).
    fn support(&self, d: &Diagnostic) -> bool {
        !Self::about_input(d) && crate::input::discover::is_test_support(&self.cx.project_path(d.loc.file))
    }

    /// A finding, checked because `include-tests = true`, as it is reported: in test
    /// code a gate's finding is a warning (fixture set-up and test helpers bind and
    /// provision by design, so it is shown to the reviewer without failing the check),
    /// or, for a rule whose subject test harnesses do by design, reported in example
    /// programs only ([`InTestCode`]).
    fn checked(&self, mut d: Diagnostic, in_tests: InTestCode) -> Option<Diagnostic> {
        if Self::about_input(&d) || !self.cx.in_test_code(&d.loc) {
            return Some(d);
        }
        let example = || crate::input::discover::in_examples(&self.cx.project_path(d.loc.file));
        match in_tests {
            InTestCode::InExamplesOnly if !example() => None,
            _ if d.severity == Severity::Warning => Some(d),
            InTestCode::Warning | InTestCode::InExamplesOnly => {
                d.severity = Severity::Warning;
                d.notes.push("in test code (`include-tests = true`): reported as a warning".into());
                Some(d)
            }
        }
    }
}

/// The files' paths with symbolic links and `..` resolved, as the module tree finds
/// them (`mod x;` names `x.rs` beside its file). Walked paths are canonical already:
/// only the others cost a system call.
pub(super) fn canonical_paths(paths: &[&std::path::Path]) -> Vec<std::path::PathBuf> {
    use std::path::Component;
    paths
        .iter()
        .map(|p| {
            let plain =
                p.is_absolute() && p.components().all(|c| matches!(c, Component::Normal(_) | Component::RootDir));
            if plain { p.to_path_buf() } else { std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()) }
        })
        .collect()
}
