//! The insert allowlist: `[[rules.insert-allowlist.functions]]` entries of a
//! project's `gatelint.toml`, read with their positions so that a stale entry can be
//! reported where it is written.

use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// What makes a listed function's INSERT idempotent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// A registered preflight helper runs before the INSERT.
    Preflight,
    /// The statement is an upsert (`ON CONFLICT …`, a dialect's equivalent, or a
    /// `MERGE … WHEN NOT MATCHED THEN INSERT`: see [`crate::facts::sql::Insert::on_conflict`]).
    OnConflict,
    /// One INSERT per call, of a row with a server-generated id, never repeated.
    SingleCreate,
    /// The function carries the idempotency marker comment (a reviewer agreed it is
    /// idempotent by design).
    Marker,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Preflight => "preflight",
            Mechanism::OnConflict => "on-conflict",
            Mechanism::SingleCreate => "single-create",
            Mechanism::Marker => "marker",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The end of a function's canonical path: `function`, `Type::method`,
    /// `module::function`, `crate::module::Type::method`.
    pub name: String,
    pub mechanism: Mechanism,
    pub reason: String,
    /// Byte range of the entry's `name = "…"` line (or of its header) in the file.
    pub span: Range<usize>,
}

impl Entry {
    /// Whether the entry names the function whose canonical path is `path`
    /// (`store::repo::WorkspaceRepo::save`): its segments end the path's
    /// (`save`, `WorkspaceRepo::save`, `repo::WorkspaceRepo::save`; `<WorkspaceRepo>::save`
    /// is read as `WorkspaceRepo::save`).
    pub fn matches(&self, path: &str) -> bool {
        let mut path = path.rsplit("::");
        self.name.rsplit("::").all(|want| path.next() == Some(want.trim().trim_start_matches('<').trim_end_matches('>')))
    }
}

/// The allowlist and the file it came from (shown in diagnostics on its entries).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Allowlist {
    pub file_display: String,
    pub text: String,
    pub entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    rules: Rules,
}

#[derive(Deserialize, Default)]
struct Rules {
    #[serde(rename = "insert-allowlist")]
    allowlist: Option<Section>,
}

#[derive(Deserialize)]
struct Section {
    functions: Option<Vec<Spanned<RawEntry>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    mechanism: Mechanism,
    reason: String,
}

/// Reads the allowlist from a configuration file's text; `Ok(None)` when the file
/// configures none. Errors carry a byte offset into `text`.
pub fn parse(text: &str, file_display: &str) -> Result<Option<Allowlist>, (Option<usize>, String)> {
    let doc: Doc = toml::from_str(text).map_err(|e| {
        (
            e.span().map(|s| s.start),
            format!("[[rules.insert-allowlist.functions]]: {}", crate::messages::tidy_message(e.message())),
        )
    })?;
    let Some(functions) = doc.rules.allowlist.and_then(|s| s.functions) else { return Ok(None) };
    let mut entries = Vec::new();
    for raw in functions {
        let span = raw.span();
        let raw = raw.into_inner();
        if raw.reason.trim().is_empty() {
            return Err((
                Some(span.start),
                format!("allowlist entry `{}` needs a reason: what makes its INSERT idempotent?", raw.name),
            ));
        }
        if raw.name.trim().is_empty() {
            return Err((Some(span.start), "allowlist entry needs a function `name`".to_string()));
        }
        let span = name_line(text, span);
        entries.push(Entry { name: raw.name, mechanism: raw.mechanism, reason: raw.reason, span });
    }
    Ok(Some(Allowlist { file_display: file_display.to_string(), text: text.to_string(), entries }))
}

/// The `name = …` line of the entry starting at `header` (an `[[…]]` header or an
/// inline table), so findings point at the name; the header when there is none.
fn name_line(text: &str, header: Range<usize>) -> Range<usize> {
    let mut offset = header.start;
    for (i, line) in text[header.start..].split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if i > 0 && trimmed.starts_with('[') {
            break;
        }
        if let Some(at) = line.find("name")
            && (i > 0 || !trimmed.starts_with("[["))
        {
            let start = offset + at;
            return start..offset + line.trim_end().len();
        }
        offset += line.len();
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_with_positions() {
        let text = "[rules.insert-allowlist]\n[[rules.insert-allowlist.functions]]\nname = \"OrgHandler::import\"\nmechanism = \"preflight\"\nreason = \"lookup first\"\n";
        let list = parse(text, "gatelint.toml").unwrap().unwrap();
        assert_eq!(list.entries.len(), 1);
        let e = &list.entries[0];
        assert_eq!(e.mechanism, Mechanism::Preflight);
        assert_eq!(&text[e.span.clone()], "name = \"OrgHandler::import\"");
        assert!(e.matches("api::handlers::org::OrgHandler::import"));
        assert!(e.matches("OrgHandler::import"));
        assert!(!e.matches("api::handlers::team::TeamHandler::import"));
        assert!(!e.matches("api::handlers::org::OrgHandler::export"));
        assert!(!e.matches("import"), "an entry longer than the path");
        let entry = |name: &str| Entry { name: name.into(), mechanism: Mechanism::Preflight, reason: String::new(), span: 0..0 };
        assert!(entry("<OrgHandler>::import").matches("api::OrgHandler::import"));
        assert!(entry("org::OrgHandler::import").matches("api::handlers::org::OrgHandler::import"));
        assert!(!entry("rg::OrgHandler::import").matches("api::handlers::org::OrgHandler::import"), "whole segments");
    }

    #[test]
    fn bad_entries_are_errors_with_positions() {
        let bad = "[[rules.insert-allowlist.functions]]\nname = \"f\"\nmechanism = \"hope\"\nreason = \"x\"\n";
        let (at, msg) = parse(bad, "g.toml").unwrap_err();
        assert!(at.is_some());
        assert!(msg.contains("unknown variant `hope`"), "{msg}");
        let no_reason =
            "[[rules.insert-allowlist.functions]]\nname = \"f\"\nmechanism = \"on-conflict\"\nreason = \" \"\n";
        assert!(parse(no_reason, "g.toml").unwrap_err().1.contains("needs a reason"));
        assert_eq!(parse("", "g.toml").unwrap(), None);
        let (_, msg) = parse("[rules.insert-allowlist]\nfunctions = 1\n", "g.toml").unwrap_err();
        assert!(msg.ends_with("expected an array"), "{msg}");
    }
}
