//! A rule's metadata and documentation: its summary, default severity and
//! parameters (from `rules/<id>.toml`), its `//!` documentation, and the text
//! `gatelint explain` prints (and `docs/rules/<id>.md` holds).

use crate::rules::diagnostic::Severity;

/// A rule's metadata, read from its embedded defaults file.
#[derive(Clone, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub summary: String,
    /// `None` means the rule is off unless a project turns it on.
    pub default_severity: Option<Severity>,
    /// Whether a project may change the severity or turn the rule off.
    pub configurable: bool,
    pub parameters: toml::Table,
    /// How a project's change to each parameter (and each key the rule reads from the
    /// configuration text) weakens the rule, for `check --against`.
    pub weakened_by: std::collections::BTreeMap<String, Weakening>,
    /// A key the rule reads from the configuration text while which lists nothing the
    /// rule is off (the allowlist's `functions`).
    pub off_while_empty: Option<String>,
    pub documentation: String,
}

/// Which change of a rule's key weakens it: adding an element (a key, for a table),
/// removing one, any change of the value, or none (tuning).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weakening {
    Adding,
    Removing,
    Changing,
    None,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsFile {
    summary: String,
    severity: String,
    #[serde(default = "yes")]
    configurable: bool,
    #[serde(default)]
    parameters: toml::Table,
    #[serde(default, rename = "weakened-by")]
    weakened_by: std::collections::BTreeMap<String, Weakening>,
    #[serde(default, rename = "off-while-empty")]
    off_while_empty: Option<String>,
}

fn yes() -> bool {
    true
}

/// Metadata of every rule, in registry order. The defaults files are part of the
/// binary, so an error here is a bug caught by the test suite.
pub fn all_meta() -> Vec<RuleMeta> {
    super::registry()
        .iter()
        .map(|rule| {
            let file: DefaultsFile = toml::from_str(rule.defaults_toml())
                .unwrap_or_else(|e| panic!("rules/{}.toml is invalid: {e}", rule.id()));
            RuleMeta {
                id: rule.id(),
                summary: file.summary,
                default_severity: Severity::from_setting(&file.severity)
                    .unwrap_or_else(|| panic!("rules/{}.toml: bad severity", rule.id())),
                configurable: file.configurable,
                parameters: file.parameters,
                weakened_by: file.weakened_by,
                off_while_empty: file.off_while_empty,
                documentation: documentation(rule.module_source()),
            }
        })
        .collect()
}

pub fn meta(id: &str) -> Option<RuleMeta> {
    all_meta().into_iter().find(|m| m.id == id)
}

/// The leading `//!` block of a module, without the markers.
pub fn documentation(module_source: &str) -> String {
    let mut out = String::new();
    for line in module_source.lines() {
        let Some(rest) = line.strip_prefix("//!") else {
            break;
        };
        out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        out.push('\n');
    }
    out
}

/// What `gatelint explain RULE` prints, and the body of `docs/rules/<id>.md` under its
/// title: the summary, the rule's documentation (without its `# id` title line), the
/// default severity and, for a configurable rule, every default as a `gatelint.toml`
/// fragment ready to paste, nested tables under their full paths
/// (`[rules.direct-provisioner-call.verbs]`).
pub fn explain(meta: &RuleMeta) -> String {
    let mut out = format!("{}.\n\n", meta.summary.trim_end_matches('.'));
    out.push_str(without_title(&meta.documentation));
    let severity = meta.default_severity.map_or("off", Severity::as_str);
    out.push_str("\n## Defaults\n");
    if !meta.configurable {
        out.push_str(&format!("Default severity: {severity}. It cannot be changed or turned off.\n"));
        return out;
    }
    out.push_str(&format!(
        "Default severity: {severity}. Every default as a `gatelint.toml` fragment \
         (paste it, then keep only the keys you change):\n\n```toml\n"
    ));
    push_table(
        &mut out,
        &format!("rules.{}", toml_key(meta.id)),
        &meta.parameters,
        &format!("severity = \"{severity}\"\n"),
    );
    out.push_str("```\n");
    out
}

/// A documentation text without its leading `# title` line and the blank lines after it.
fn without_title(doc: &str) -> &str {
    match doc.strip_prefix("# ") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body.trim_start_matches('\n')),
        None => doc,
    }
}

/// Writes `[path]`, then `first` (lines that belong to the table itself), the table's
/// values, and each nested table under its own full path.
fn push_table(out: &mut String, path: &str, table: &toml::Table, first: &str) {
    out.push_str(&format!("[{path}]\n{first}"));
    for (key, value) in table {
        if !value.is_table() {
            push_value(out, &toml_key(key), value);
        }
    }
    for (key, value) in table {
        if let toml::Value::Table(nested) = value {
            out.push('\n');
            push_table(out, &format!("{path}.{}", toml_key(key)), nested, "");
        }
    }
}

/// `key = value`; an array too long for one line is written one line per few items.
fn push_value(out: &mut String, key: &str, value: &toml::Value) {
    const WIDTH: usize = 100;
    let line = format!("{key} = {value}");
    let toml::Value::Array(items) = value else {
        out.push_str(&line);
        out.push('\n');
        return;
    };
    if line.chars().count() <= WIDTH {
        out.push_str(&line);
        out.push('\n');
        return;
    }
    out.push_str(&format!("{key} = [\n"));
    let mut row = String::new();
    for item in items {
        let item = format!("{item},");
        if !row.is_empty() && 4 + row.chars().count() + 1 + item.chars().count() > WIDTH {
            out.push_str(&format!("    {row}\n"));
            row.clear();
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(&item);
    }
    if !row.is_empty() {
        out.push_str(&format!("    {row}\n"));
    }
    out.push_str("]\n");
}

/// A TOML key: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare { key.to_string() } else { toml::Value::String(key.to_string()).to_string() }
}

/// The sections every rule's documentation must have, in order.
pub const DOC_SECTIONS: &[&str] = &[
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Configuration",
    "## Known limitations",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The ` ```toml ` fragment at the end of `explain`'s text.
    fn toml_fragment(text: &str) -> &str {
        let start = text.rfind("```toml\n").expect("a toml fragment") + "```toml\n".len();
        &text[start..start + text[start..].find("```").expect("a closed fragment")]
    }

    #[test]
    fn explain_writes_nested_tables_under_their_full_path() {
        let text = explain(&meta("direct-provisioner-call").unwrap());
        let fragment = toml_fragment(&text);
        assert!(fragment.starts_with("[rules.direct-provisioner-call]\nseverity = \"error\"\n"), "{fragment}");
        assert!(
            fragment.contains("\n\n[rules.direct-provisioner-call.verbs]\ncreate = \"provision_workspace_auto\"\n")
        );
        assert!(!fragment.lines().any(|l| l == "[verbs]"), "{fragment}");
        // Values of the rule's own table come before the nested table's header.
        assert!(fragment.find("fields = ").unwrap() < fragment.find(".verbs]").unwrap(), "{fragment}");

        let mut parameters = toml::Table::new();
        let mut inner = toml::Table::new();
        inner.insert("depth".into(), 2.into());
        let mut outer = toml::Table::new();
        outer.insert("inner".into(), inner.into());
        outer.insert("flag".into(), true.into());
        parameters.insert("outer".into(), outer.into());
        parameters.insert("odd key".into(), toml::Table::new().into());
        parameters.insert("names".into(), toml::Value::Array((0..40).map(|i| format!("name{i}").into()).collect()));
        let synthetic = RuleMeta {
            id: "some-rule",
            summary: "A summary.".into(),
            default_severity: Some(Severity::Warning),
            configurable: true,
            parameters: parameters.clone(),
            weakened_by: Default::default(),
            off_while_empty: None,
            documentation: "# some-rule\n\n## What it does\nThings.\n".into(),
        };
        let text = explain(&synthetic);
        assert!(text.starts_with("A summary.\n\n## What it does\nThings.\n"), "{text}");
        let fragment = toml_fragment(&text);
        assert!(
            fragment.contains("\n[rules.some-rule.outer]\nflag = true\n\n[rules.some-rule.outer.inner]\ndepth = 2\n")
        );
        assert!(fragment.contains("\n[rules.some-rule.\"odd key\"]\n"), "{fragment}");
        assert!(fragment.lines().all(|l| l.chars().count() <= 100), "{fragment}");
        let back: toml::Table = toml::from_str(fragment).expect("the fragment is TOML");
        let rule = back["rules"]["some-rule"].as_table().unwrap();
        assert_eq!(rule["severity"].as_str(), Some("warning"));
        let mut rule = rule.clone();
        rule.remove("severity");
        assert_eq!(rule, parameters);
    }

    #[test]
    fn documentation_stops_at_the_first_non_doc_line() {
        assert_eq!(documentation("//! a\n//!\n//! b\nuse x;\n//! c"), "a\n\nb\n");
    }

    #[test]
    fn explain_fragments_load_back_as_the_defaults() {
        let defaults = crate::config::Config::defaults();
        for meta in all_meta() {
            let text = explain(&meta);
            assert!(!text.starts_with('#'), "{}: the title belongs to the docs page", meta.id);
            if !meta.configurable {
                assert!(!text.contains("```toml\n[rules."), "{}", meta.id);
                continue;
            }
            let loaded = crate::config::Config::from_toml(toml_fragment(&text), "gatelint.toml")
                .unwrap_or_else(|e| panic!("{}: {e}", meta.id));
            let (got, want) = (loaded.settings(meta.id).unwrap(), defaults.settings(meta.id).unwrap());
            assert_eq!((got.severity, &got.params), (want.severity, &want.params), "{}", meta.id);
        }
    }
}
