//! Configuration: the embedded rule defaults (`rules/<id>.toml`) overlaid with a
//! project's `gatelint.toml`. Every mistake in a project file is an error naming
//! the file, the position, the key and what is allowed.

use crate::messages::{tidy_message, with_article};
use crate::rules::diagnostic::Severity;
use crate::rules::{self, RuleMeta};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const CONFIG_FILE_NAME: &str = "gatelint.toml";

/// How one rule runs: its severity (`None` = off) and its merged parameters.
#[derive(Clone, Debug)]
pub struct RuleSettings {
    pub severity: Option<Severity>,
    pub params: toml::Table,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The project file this came from, if any.
    pub file: Option<PathBuf>,
    /// Lint test code too (`#[cfg(test)]`, `#[test]` functions, `tests/`, `benches/`, `examples/`).
    pub include_tests: bool,
    /// Gitignore-style globs of paths never to check.
    pub exclude: Vec<String>,
    /// The migration directories (`migrations = [...]`, relative to the configuration
    /// file); empty: found by convention ([`crate::input::migrations`]).
    pub migrations: Vec<PathBuf>,
    /// The SQL dialect of the migrations and the queries (`dialect = "postgres"`,
    /// `"sqlite"` or `"mysql"`); `None`: told by each migration directory's path
    /// (`db-sqlx-maria/migrations` is MySQL), else Postgres.
    pub dialect: Option<String>,
    pub rules: BTreeMap<&'static str, RuleSettings>,
    /// The project file's text, for rules that point into it (the insert allowlist).
    pub text: Option<ConfigText>,
    /// The rules this configuration turns on (and those they use), with their
    /// parameters read once.
    pub active: rules::ActiveRules,
}

/// A project configuration file as read.
#[derive(Clone, Debug)]
pub struct ConfigText {
    /// The file as shown to users.
    pub shown: String,
    pub text: String,
}

/// A configuration problem; exit code 2.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// The bytes of the file's text the problem is at, when known (empty when only
    /// where it starts is known).
    pub span: Option<std::ops::Range<usize>>,
    pub message: String,
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl Config {
    /// The built-in defaults alone.
    pub fn defaults() -> Config {
        let rules = rules::all_meta()
            .into_iter()
            .map(|m| (m.id, RuleSettings { severity: m.default_severity, params: m.parameters }))
            .collect();
        let mut config = Config {
            file: None,
            include_tests: false,
            exclude: Vec::new(),
            migrations: Vec::new(),
            dialect: None,
            rules,
            text: None,
            active: Default::default(),
        };
        config.active = config.load_active(None).expect("the built-in defaults are valid parameters");
        config
    }

    /// Reads the parameters of the rules that are on and of those they use.
    fn load_active(
        &self,
        source: Option<&rules::ConfigSource>,
    ) -> Result<rules::ActiveRules, (&'static str, rules::ParamsError)> {
        rules::ActiveRules::load(|id| self.rules.get(id).map(|s| (s.severity, s.params.clone())), source)
    }

    /// Finds `gatelint.toml` in `start` or the nearest directory above it.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
        let mut dir = if start.is_dir() { Some(start.as_path()) } else { start.parent() };
        while let Some(d) = dir {
            let candidate = d.join(CONFIG_FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }

    /// Reads a project file and overlays it on the defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = crate::input::discover::display_path(path, &std::env::current_dir().unwrap_or_default());
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: shown.clone(),
            position: None,
            span: None,
            message: format!("cannot read configuration: {e}"),
        })?;
        let mut config = Config::from_toml(&text, &shown)?;
        config.file = Some(path.to_path_buf());
        let dir = path.parent().unwrap_or(Path::new("."));
        config.migrations = config.migrations.iter().map(|m| dir.join(m)).collect();
        Ok(config)
    }

    /// Overlays a project file's text (named `shown` in errors) on the defaults.
    pub fn from_toml(text: &str, shown: &str) -> Result<Config, ConfigError> {
        let err = |span: Option<std::ops::Range<usize>>, message: String| ConfigError {
            file: shown.to_string(),
            position: span.as_ref().map(|s| line_col(text, s.start)),
            span,
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            // serde's type errors do not name the key; the line they point at does.
            let key = e.span().and_then(|span| {
                let line_start = text[..span.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
                let line = text[line_start..].lines().next().unwrap_or("");
                line.split_once('=').map(|(k, _)| k.trim().to_string()).filter(|k| !k.is_empty() && !k.starts_with('['))
            });
            let message = tidy_message(e.message());
            match key {
                Some(k) if !message.contains(&format!("`{k}`")) => err(e.span(), format!("`{k}`: {message}")),
                _ => err(e.span(), message),
            }
        })?;
        let mut config = Config::defaults();
        if let Some(v) = raw.include_tests {
            config.include_tests = v;
        }
        config.exclude = raw.exclude;
        config.migrations = raw.migrations.into_iter().map(PathBuf::from).collect();
        if let Some(d) = raw.dialect {
            if !DIALECTS.contains(&d.get_ref().as_str()) {
                let hint = crate::messages::hint(d.get_ref(), DIALECTS.iter().copied());
                return Err(err(
                    Some(d.span()),
                    format!("unknown dialect `{}`{hint}; known dialects: {}", d.get_ref(), DIALECTS.join(", ")),
                ));
            }
            config.dialect = Some(d.into_inner());
        }
        let metas = rules::all_meta();
        for (rule_key, table) in raw.rules {
            let Some(meta) = metas.iter().find(|m| m.id == rule_key.get_ref()) else {
                let known: Vec<_> = metas.iter().filter(|m| m.configurable).map(|m| m.id).collect();
                let name = rule_key.get_ref();
                let hint = crate::messages::hint(name, known.iter().copied());
                return Err(err(
                    Some(rule_key.span()),
                    format!("unknown rule `{name}`{hint} in [rules]; known rules: {}", known.join(", ")),
                ));
            };
            if !meta.configurable {
                return Err(err(Some(rule_key.span()), format!("rule `{}` cannot be configured", meta.id)));
            }
            let settings = config.rules.get_mut(meta.id).expect("every rule has defaults");
            apply_rule_table(meta, settings, table).map_err(|(span, msg)| err(Some(span), msg))?;
        }
        let source = rules::ConfigSource { text, shown };
        config.active = config.load_active(Some(&source)).map_err(|(id, e)| ConfigError {
            file: shown.to_string(),
            position: e.offset.map(|o| line_col(text, o)),
            span: e.offset.map(|o| o..o),
            message: match e.offset {
                Some(_) => e.message,
                None => format!("rule `{id}`: bad parameters: {}", e.message),
            },
        })?;
        config.text = Some(ConfigText { shown: shown.to_string(), text: text.to_string() });
        Ok(config)
    }

    pub fn settings(&self, id: &str) -> Option<&RuleSettings> {
        self.rules.get(id)
    }
}

/// The SQL dialects migrations and queries are read in.
pub const DIALECTS: &[&str] = &["postgres", "sqlite", "mysql"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    include_tests: Option<bool>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    migrations: Vec<String>,
    dialect: Option<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
}

type SpannedError = (std::ops::Range<usize>, String);

fn apply_rule_table(
    meta: &RuleMeta,
    settings: &mut RuleSettings,
    table: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
) -> Result<(), SpannedError> {
    let id = meta.id;
    let mut enabled = None;
    let mut explicit_severity = false;
    for (key, value) in table {
        let span = value.span();
        let value = value.into_inner();
        match key.get_ref().as_str() {
            "severity" => {
                explicit_severity = true;
                let parsed = value.as_str().and_then(Severity::from_setting);
                settings.severity = parsed.ok_or_else(|| {
                    (span, format!("[rules.{id}] severity = {value}: expected \"error\", \"warning\" or \"off\""))
                })?;
            }
            "enabled" => {
                enabled = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| (span, format!("[rules.{id}] enabled = {value}: expected true or false")))?,
                );
            }
            // Keys the rule reads from the file's text itself, with their positions.
            name if source_keys(id).contains(&name) => {}
            name => {
                let Some(default) = meta.parameters.get(name) else {
                    let mut allowed = vec!["severity", "enabled"];
                    allowed.extend(source_keys(id));
                    allowed.extend(meta.parameters.keys().map(String::as_str));
                    let hint = crate::messages::hint(name, allowed.iter().copied());
                    return Err((
                        key.span(),
                        format!("unknown key `{name}`{hint} in [rules.{id}]; allowed keys: {}", allowed.join(", ")),
                    ));
                };
                check_same_shape(default, &value)
                    .map_err(|expected| (span, format!("[rules.{id}] {name} = {value}: expected {expected}")))?;
                settings.params.insert(name.to_string(), value);
            }
        }
    }
    // `enabled = false` turns a rule off; `enabled = true` turns on a rule that is off
    // by default; a `severity` in the same table says otherwise (it wins).
    match enabled {
        Some(false) if !explicit_severity => settings.severity = None,
        Some(true) if settings.severity.is_none() && !explicit_severity => {
            settings.severity = meta.default_severity.or(Some(Severity::Error));
        }
        _ => {}
    }
    Ok(())
}

/// The keys of a rule's table that the rule reads from the configuration text itself.
fn source_keys(id: &str) -> &'static [&'static str] {
    rules::slot(id).map_or(&[], |slot| rules::registry()[slot].source_keys())
}

/// A parameter must have the type of its default; for arrays, of its elements.
fn check_same_shape(default: &toml::Value, value: &toml::Value) -> Result<(), String> {
    use toml::Value as V;
    match (default, value) {
        (V::Array(d), V::Array(v)) => {
            let elem = d.first().map_or("string", |e| e.type_str());
            if v.iter().all(|x| x.type_str() == elem) { Ok(()) } else { Err(format!("an array of {elem}s")) }
        }
        (d, v) if d.type_str() == v.type_str() => Ok(()),
        (d, _) => Err(with_article(d.type_str())),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_enable_the_listen_rule_as_error() {
        let c = Config::defaults();
        assert_eq!(c.settings("wildcard-listen-default").unwrap().severity, Some(Severity::Error));
    }

    #[test]
    fn project_overrides_severity_and_parameters() {
        let c = Config::from_toml(
            "include-tests = true\n[rules.wildcard-listen-default]\nseverity = \"warning\"\nlisten-names = [\"srv\"]\n",
            "gatelint.toml",
        )
        .unwrap();
        let s = c.settings("wildcard-listen-default").unwrap();
        assert!(c.include_tests);
        assert_eq!(s.severity, Some(Severity::Warning));
        assert_eq!(s.params["listen-names"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn explicit_severity_wins_over_enabled_and_type_errors_name_the_key() {
        let c = Config::from_toml("[rules.wildcard-listen-default]\nenabled = true\nseverity = \"off\"\n", "g.toml")
            .unwrap();
        assert_eq!(c.settings("wildcard-listen-default").unwrap().severity, None);
        let e = Config::from_toml("include-tests = \"yes\"\n", "g.toml").unwrap_err();
        assert!(e.message.starts_with("`include-tests`: "), "{e}");
    }

    #[test]
    fn enabled_false_turns_a_rule_off() {
        let c = Config::from_toml("[rules.wildcard-listen-default]\nenabled = false\n", "g.toml").unwrap();
        assert_eq!(c.settings("wildcard-listen-default").unwrap().severity, None);
        // An explicit severity in the same table wins, in either order.
        for table in ["severity = \"warning\"\nenabled = false\n", "enabled = false\nseverity = \"warning\"\n"] {
            let c = Config::from_toml(&format!("[rules.wildcard-listen-default]\n{table}"), "g.toml").unwrap();
            assert_eq!(c.settings("wildcard-listen-default").unwrap().severity, Some(Severity::Warning), "{table}");
        }
    }

    #[test]
    fn unknown_parameter_names_file_position_key_and_allowed_keys() {
        let e = Config::from_toml("[rules.wildcard-listen-default]\nlisten-nams = []\n", "gatelint.toml").unwrap_err();
        assert_eq!(e.position, Some((2, 1)));
        assert_eq!(e.span, Some(32..43), "the key");
        assert!(e.message.contains("unknown key `listen-nams`"), "{e}");
        assert!(e.message.contains("listen-names"), "{e}");
        assert!(e.to_string().starts_with("gatelint.toml:2:1: "), "{e}");
    }

    #[test]
    fn messages_use_an_before_a_vowel() {
        let e = Config::from_toml("[rules.non-idempotent-insert]\ntables = \"workspaces\"\n", "g.toml").unwrap_err();
        assert!(e.message.ends_with("expected an array"), "{e}");
        let e = Config::from_toml("[rules.non-idempotent-insert]\nmarker = 1\n", "g.toml").unwrap_err();
        assert!(e.message.ends_with("expected a string"), "{e}");
        let e = Config::from_toml("include-tests = 1\n", "g.toml").unwrap_err();
        assert!(e.message.ends_with("invalid type: integer `1`, expected a boolean"), "{e}");
        // serde's words for TOML's: a sequence is an array, a map a table.
        let e = Config::from_toml("exclude = 1\n", "g.toml").unwrap_err();
        assert!(e.message.ends_with("expected an array"), "{e}");
        let e = Config::from_toml("exclude = {}\n", "g.toml").unwrap_err();
        assert!(e.message.contains("invalid type: table, expected an array"), "{e}");
        let e = Config::from_toml("[rules]\nx = 1\n", "g.toml").unwrap_err();
        assert!(e.message.ends_with("expected a table"), "{e}");
        // Passed-through texts: only articles outside quotes change.
        assert_eq!(tidy_message(" expected a array, found a integer "), "expected an array, found an integer");
        assert_eq!(
            tidy_message("a unit, a u8, a usize, a unknown key, a-b"),
            "a unit, a u8, a usize, an unknown key, a-b"
        );
        assert_eq!(
            tidy_message("value `a apple` or \"a orange\", expected a boolean"),
            "value `a apple` or \"a orange\", expected a boolean"
        );
        assert_eq!(tidy_message("data a item"), "data an item");
        assert_eq!(with_article("integer"), "an integer");
        assert_eq!(with_article("table"), "a table");
    }

    #[test]
    fn misspelt_names_get_a_suggestion() {
        let e = Config::from_toml("[rules.wildcard-listen-defualt]\n", "g.toml").unwrap_err();
        assert!(
            e.message.starts_with(
                "unknown rule `wildcard-listen-defualt` (did you mean `wildcard-listen-default`?) in [rules]; known rules: "
            ),
            "{e}"
        );
        let e = Config::from_toml("[rules.non-idempotent-insert]\npreflight-helper = []\n", "g.toml").unwrap_err();
        assert!(
            e.message
                .contains("`preflight-helper` (did you mean `preflight-helpers`?) in [rules.non-idempotent-insert]"),
            "{e}"
        );
        let e = Config::from_toml("[rules.non-idempotent-insert]\nseverty = \"off\"\n", "g.toml").unwrap_err();
        assert!(e.message.contains("(did you mean `severity`?)"), "{e}");
        // Keys serde checks: the top level and allowlist entries, and allowed values.
        let e = Config::from_toml("include_tests = true\n", "g.toml").unwrap_err();
        assert!(e.message.contains(" (did you mean `include-tests`?), expected one of"), "{e}");
        let entry = "[[rules.insert-allowlist.functions]]\nname = \"f\"\nmechanism = \"on-conflcit\"\nreason = \"x\"\n";
        let e = Config::from_toml(entry, "g.toml").unwrap_err();
        assert!(e.message.contains(" (did you mean `on-conflict`?), expected one of"), "{e}");
        let entry = "[[rules.insert-allowlist.functions]]\nname = \"f\"\nmechanism = \"preflight\"\nreasn = \"x\"\n";
        let e = Config::from_toml(entry, "g.toml").unwrap_err();
        assert!(e.message.contains(" (did you mean `reason`?), expected one of"), "{e}");
        // Nothing close: no guess.
        let e = Config::from_toml("[rules.sql-injection]\n", "g.toml").unwrap_err();
        assert!(!e.message.contains("did you mean"), "{e}");
        let e = Config::from_toml("colour = 1\n", "g.toml").unwrap_err();
        assert!(!e.message.contains("did you mean"), "{e}");
    }

    #[test]
    fn wrong_types_and_values_are_rejected() {
        let e = Config::from_toml("[rules.wildcard-listen-default]\nseverity = \"fatal\"\n", "g.toml").unwrap_err();
        assert!(e.message.contains("expected \"error\", \"warning\" or \"off\""), "{e}");
        let e = Config::from_toml("[rules.wildcard-listen-default]\nlisten-names = [1]\n", "g.toml").unwrap_err();
        assert!(e.message.contains("an array of strings"), "{e}");
        let e = Config::from_toml("[rules.no-such-rule]\n", "g.toml").unwrap_err();
        assert!(e.message.contains("unknown rule `no-such-rule`"), "{e}");
        let e = Config::from_toml("[rules.parse-error]\nseverity = \"off\"\n", "g.toml").unwrap_err();
        assert!(e.message.contains("cannot be configured"), "{e}");
        let e = Config::from_toml("colour = 1\n", "g.toml").unwrap_err();
        assert_eq!(e.position, Some((1, 1)));
        assert!(e.message.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn an_allowlist_edit_keys_the_run_not_every_files_facts() {
        let entry = "[[rules.insert-allowlist.functions]]\nname = \"f\"\nmechanism = \"preflight\"\nreason = \"x\"\n";
        let with = Config::from_toml(entry, "g.toml").unwrap();
        let without = Config::from_toml("", "g.toml").unwrap();
        assert_eq!(with.active.facts_fingerprint(), without.active.facts_fingerprint());
        assert_ne!(with.active.fingerprint(), without.active.fingerprint());
        let tables = Config::from_toml("[rules.non-idempotent-insert]\ntables = [\"*\"]\n", "g.toml").unwrap();
        assert_ne!(tables.active.facts_fingerprint(), without.active.facts_fingerprint(), "extraction parameters");
    }

    #[test]
    fn parameters_of_a_rule_that_is_off_are_checked_too() {
        let off = "[rules.direct-provisioner-call]\nseverity = \"off\"\ndispatcher-paths = [\"[bad\"]\n";
        let e = Config::from_toml(off, "g.toml").unwrap_err();
        assert!(e.message.contains("invalid path glob `[bad`"), "{e}");
    }

    #[test]
    fn dialect_and_migration_directories() {
        let c = Config::from_toml("dialect = \"sqlite\"\nmigrations = [\"db/migrations\"]\n", "g.toml").unwrap();
        assert_eq!(c.dialect.as_deref(), Some("sqlite"));
        assert_eq!(c.migrations, [PathBuf::from("db/migrations")]);
        assert_eq!(Config::defaults().dialect, None);
        let e = Config::from_toml("dialect = \"oracle\"\n", "g.toml").unwrap_err();
        assert!(e.message.starts_with("unknown dialect `oracle`"), "{}", e.message);
        assert_eq!(e.position, Some((1, 11)));
    }
}
