//! `check --against REV`: the configuration and the suppressions as they are at a
//! base revision (read with git, no checkout), compared with the working tree's.
//! What weakens a gate is a `config-weakened` finding
//! ([`crate::rules::config_weakened`]).

use super::RunOptions;
use super::crate_check::Gathered;
use crate::config::{CONFIG_FILE_NAME, Config};
use crate::input::git::Revision;
use crate::input::source::{Loc, SourceFile};
use crate::rules::config_weakened::{self as rule, exemptions, settings};
use crate::rules::diagnostic::{Diagnostic, Severity};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The base revision and its configuration file.
pub(super) struct Base {
    rev: Revision,
    /// The configuration file's path relative to the work tree's top, and its text at
    /// the revision (`None`: no configuration there).
    config: Option<(String, String)>,
}

/// Resolves the revision and reads its configuration: the same file as the working
/// tree's, else the `gatelint.toml` nearest above the first path at the revision.
pub(super) fn base(name: &str, config: &Config, options: &RunOptions) -> Result<Base, super::RunError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let start = match &config.file {
        // (`--config gatelint.toml`: its parent is the empty path, the working directory.)
        Some(file) => cwd.join(file.parent().unwrap_or(Path::new(""))),
        None => {
            let first = options.paths.first().map_or(cwd.clone(), |p| cwd.join(p));
            if first.is_dir() { first } else { first.parent().map_or(cwd.clone(), Path::to_path_buf) }
        }
    };
    let against = |message: String| super::RunError::Against(message);
    let rev = Revision::resolve(name, &start).map_err(against)?;
    let candidates: Vec<String> = match &config.file {
        Some(file) => rev.relative(file).into_iter().collect(),
        None => {
            let top = std::fs::canonicalize(&rev.top).unwrap_or_else(|_| rev.top.clone());
            let mut dir = std::fs::canonicalize(&start).ok();
            let mut out = Vec::new();
            while let Some(d) = dir {
                if !d.starts_with(&top) {
                    break;
                }
                out.extend(rev.relative(&d.join(CONFIG_FILE_NAME)));
                dir = d.parent().map(Path::to_path_buf);
            }
            out
        }
    };
    let texts = rev.read(&candidates).map_err(|e| against(format!("--against {name}: {e}")))?;
    let config = candidates
        .into_iter()
        .zip(texts)
        .find_map(|(path, text)| Some((path, String::from_utf8_lossy(&text?).into_owned())));
    Ok(Base { rev, config })
}

/// The `config-weakened` findings, and the run's notes about the comparison.
/// Acceptances in the configuration file whose line is already at the base revision
/// are dropped first: they accept nothing new.
pub(super) fn compare(
    base: &Base,
    gathered: &mut Gathered,
    config: &Config,
    options: &RunOptions,
    exclude_root: &Path,
    paths: &[PathBuf],
) -> (Vec<Diagnostic>, Vec<String>) {
    let rev = base.rev.name.as_str();
    let mut notes = Vec::new();
    let base_config = match &base.config {
        None => {
            notes.push(format!(
                "no {CONFIG_FILE_NAME} at {rev}: the configuration is compared with the built-in defaults"
            ));
            Ok(Config::defaults())
        }
        Some((path, text)) => Config::from_toml(text, &format!("{rev}:{path}")),
    };
    let severity = match &base_config {
        Ok(c) => c.settings(rule::ID).and_then(|s| s.severity),
        Err(_) => Some(Severity::Error),
    };
    let Some(severity) = severity else { return (Vec::new(), notes) };
    if let (None, Some((path, _))) = (gathered.config_file, &base.config) {
        notes.push(format!("{path} (at {rev}) is gone: the built-in defaults are compared with it"));
    }
    let config_file = config_file_id(base, gathered, config);
    let mut out = Vec::new();
    let finding = |file: usize, span: std::ops::Range<usize>, severity, message: String, label: String| Diagnostic {
        rule: rule::ID,
        severity,
        loc: Loc::new(file, span.start, span.end),
        message,
        label,
        secondary: Vec::new(),
        why: Some(Cow::Borrowed(rule::WHY)),
        notes: Vec::new(),
        help: Some(rule::HELP_ACCEPT.to_string()),
    };
    match (&base_config, config_file) {
        (Err(e), Some(file)) => {
            let mut d = finding(
                file,
                0..0,
                severity,
                format!("the configuration at {rev} does not parse, so nothing was compared with it: {e}"),
                "compared with nothing".into(),
            );
            d.help = Some(format!("compare with a revision whose {CONFIG_FILE_NAME} parses, or fix it there"));
            out.push(d);
        }
        (Ok(base_config), Some(file)) => {
            drop_old_acceptances(gathered, file, base.config.as_ref().map(|(_, t)| t.as_str()));
            let current_text = gathered.db.get(file).text().to_string();
            let removed_by = |glob: &str| removed_by(glob, config, options, exclude_root);
            let base_settings = settings_of(base_config, base.config.as_ref().map(|(_, t)| t.as_str()));
            let current_settings = settings_of(config, config.text.as_ref().map(|_| current_text.as_str()));
            let sides = settings::Sides { base: &base_settings, rev, current: &current_settings };
            for w in settings::weakenings(&sides, &removed_by) {
                let mut d = finding(file, w.span, severity, w.message, w.label);
                d.notes.extend(w.note.map(Cow::Owned));
                out.push(d);
            }
        }
        (_, None) => {}
    }
    let base_severity = |id: &str| match &base_config {
        Ok(c) => c.settings(id).and_then(|s| s.severity),
        Err(_) => crate::rules::meta(id).and_then(|m| m.default_severity),
    };
    out.extend(new_exemptions(base, gathered, config_file, paths, severity, &base_severity));
    (out, notes)
}

/// A configuration as the comparison reads it.
fn settings_of<'a>(config: &'a Config, text: Option<&'a str>) -> settings::Settings<'a> {
    settings::Settings {
        include_tests: config.include_tests,
        exclude: &config.exclude,
        rules: config.rules.iter().map(|(id, s)| (*id, (s.severity, &s.params))).collect(),
        text,
    }
}

/// The working tree's configuration file in the sources; when it is gone but the
/// base revision has one, an empty stand-in where it was, for findings to point at.
fn config_file_id(base: &Base, gathered: &mut Gathered, config: &Config) -> Option<usize> {
    if let Some(id) = gathered.config_file {
        return Some(id);
    }
    let (path, _) = base.config.as_ref()?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = crate::input::discover::display_path(&base.rev.top.join(path), &cwd);
    gathered.db.files.push(SourceFile::new(shown, String::new()));
    gathered.facts.push(Default::default());
    debug_assert!(config.text.is_none());
    let id = gathered.db.files.len() - 1;
    gathered.config_file = Some(id);
    Some(id)
}

/// Keeps the configuration file's `config-weakened` acceptances whose text is new: one
/// already at the base revision (on its line or any other) accepts nothing new, so an
/// old acceptance left beside a line edited later does not accept the edit.
fn drop_old_acceptances(gathered: &mut Gathered, file: usize, base_text: Option<&str>) {
    let base_text = base_text.unwrap_or("");
    let text = gathered.db.get(file).text();
    let old: Vec<bool> = gathered.facts[file]
        .suppressions
        .iter()
        .map(|s| {
            let comment = text.get(s.loc.start as usize..s.loc.end as usize).unwrap_or("").trim();
            s.rules.iter().all(|r| r == rule::ID) && !comment.is_empty() && base_text.contains(comment)
        })
        .collect();
    let mut keep = old.iter().map(|o| !o);
    gathered.facts[file].suppressions.retain(|_| keep.next().unwrap_or(true));
}

/// How many files the run checks without `glob` among the `exclude` globs that it
/// does not check with it.
fn removed_by(glob: &str, config: &Config, options: &RunOptions, exclude_root: &Path) -> usize {
    let count = |exclude: &[String]| {
        let mut c = config.clone();
        c.exclude = exclude.to_vec();
        super::files::find_files(options, &c, exclude_root).map_or(0, |d| d.files.len())
    };
    let without: Vec<String> = config.exclude.iter().filter(|g| *g != glob).cloned().collect();
    count(&without).saturating_sub(count(&config.exclude))
}

/// The suppressions the base revision's files lack: a new `allow-file` at the rule's
/// severity, a new line suppression of an error-severity gate as a warning.
fn new_exemptions(
    base: &Base,
    gathered: &Gathered,
    config_file: Option<usize>,
    paths: &[PathBuf],
    severity: Severity,
    base_severity: &dyn Fn(&str) -> Option<Severity>,
) -> Vec<Diagnostic> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let files: Vec<usize> = (0..gathered.facts.len())
        .filter(|&f| Some(f) != config_file && !gathered.facts[f].suppressions.is_empty())
        .collect();
    let rel: Vec<Option<String>> = files
        .iter()
        .map(|&f| {
            let path = paths.get(f).cloned().unwrap_or_else(|| cwd.join(&gathered.db.get(f).display));
            base.rev.relative(&path)
        })
        .collect();
    let wanted: Vec<String> = rel.iter().flatten().cloned().collect();
    let mut texts = base.rev.read(&wanted).unwrap_or_default().into_iter();
    let mut out = Vec::new();
    for (&f, rel) in files.iter().zip(&rel) {
        let base_text =
            rel.as_ref().and_then(|_| texts.next().flatten()).map(|b| String::from_utf8_lossy(&b).into_owned());
        let source = gathered.db.get(f);
        for s in exemptions::new_suppressions(&gathered.facts[f].suppressions, source.text(), base_text.as_deref()) {
            if s.rules.iter().all(|r| r == rule::ID) {
                continue;
            }
            let reason = s.reason.as_deref().unwrap_or_default();
            let rules = s.rules.join("`, `");
            let (severity, message, help) = if s.file_level {
                (
                    severity,
                    format!(
                        "a new `allow-file` (not at {}) exempts this whole file from `{rules}`: {reason}",
                        base.rev.name
                    ),
                    "narrow it to the lines it excuses (`// gatelint: allow(rule-id) -- why` above each), or accept \
                     it with `// gatelint: allow(config-weakened) -- why` on the line above"
                        .to_string(),
                )
            } else if s.rules.iter().any(|r| base_severity(r) == Some(Severity::Error)) {
                (
                    Severity::Warning,
                    format!("a new suppression of `{rules}` (not at {}): {reason}", base.rev.name),
                    "read its reason: it is the whole of the case for the exemption".to_string(),
                )
            } else {
                continue;
            };
            out.push(Diagnostic {
                rule: rule::ID,
                severity,
                loc: s.loc,
                message,
                label: "new exemption".into(),
                secondary: Vec::new(),
                why: Some(Cow::Borrowed(rule::WHY)),
                notes: Vec::new(),
                help: Some(help),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(base: &str, current: &str) -> Vec<String> {
        let base_config = Config::from_toml(base, "base.toml").unwrap();
        let current_config = Config::from_toml(current, "gatelint.toml").unwrap();
        let (b, c) = (settings_of(&base_config, Some(base)), settings_of(&current_config, Some(current)));
        let sides = settings::Sides { base: &b, rev: "main", current: &c };
        settings::weakenings(&sides, &|_| 3)
            .into_iter()
            .map(|w| format!("{}: {}", &current[w.span.clone()], w.message))
            .collect()
    }

    #[test]
    fn strengthening_and_neutral_edits_are_not_weakenings() {
        let base = "[rules.non-idempotent-insert]\ntables = [\"workspaces\"]\n[rules.direct-provisioner-call]\nseverity = \"warning\"\n";
        let current = "# a comment\ndialect = \"postgres\"\ninclude-tests = true\n[rules.non-idempotent-insert]\ntables = [\"members\", \"workspaces\"]\nmarker = \"class1-gate: idempotent-by-design\"\n[rules.direct-provisioner-call]\nseverity = \"error\"\n";
        assert_eq!(compare(base, current), Vec::<String>::new());
    }

    #[test]
    fn table_keys_and_removed_rule_tables_are_located() {
        // A verb removed from a table parameter; a raised severity's table deleted.
        let base = "[rules.dead-table]\nseverity = \"error\"\n";
        let current =
            "[rules.direct-provisioner-call.verbs]\nstop = \"stop_workspace_auto\"\nkill = \"stop_workspace_auto\"\n";
        let found = compare(base, current);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[1].starts_with(": `dead-table` is lowered to warning here (error at main)"), "{found:#?}");
        assert!(found[0].starts_with("[rules.direct-provisioner-call.verbs]: `[rules.direct-provisioner-call] verbs` no longer has `create`, `destroy`, "), "{found:#?}");
        assert!(!found[0].contains("`stop`") && !found[0].contains("`kill`"), "kept verbs are not named: {found:#?}");
        // Going back to the defaults adds the verbs again: not a weakening.
        assert_eq!(compare(current, ""), Vec::<String>::new());
    }

    #[test]
    fn every_table_covers_the_tables_it_replaces() {
        let base = "[rules.non-idempotent-insert]\ntables = [\"workspaces\", \"members\"]\n";
        assert_eq!(compare(base, "[rules.non-idempotent-insert]\ntables = [\"*\"]\n"), Vec::<String>::new());
        let found = compare("[rules.non-idempotent-insert]\ntables = [\"*\"]\n", base);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].ends_with("`[rules.non-idempotent-insert] tables` no longer has `*` (at main)"), "{found:#?}");
    }
}
