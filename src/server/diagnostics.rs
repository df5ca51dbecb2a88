//! gatelint's findings as LSP diagnostics: the text every editor shows, related
//! information for secondary labels, the link to the rule's page, and the range of a
//! configuration error.

use super::positions::{Encoding, path_to_uri, position};
use crate::input::source::SourceDb;
use crate::rules::diagnostic::{Diagnostic, Severity};
use lsp_types as lsp;
use std::path::Path;

/// Where a rule's documentation is linked from its diagnostics: its page
/// `docs/rules/<rule>.md` in the gatelint source tree this binary was built from, while
/// that file exists (the repository has no public address to link to).
pub fn rule_doc_link(rule: &str) -> Option<lsp::Uri> {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join("rules").join(format!("{rule}.md"));
    if page.is_file() { path_to_uri(&page) } else { None }
}

/// The diagnostic's text: the message, then the primary label when the message does
/// not already say it, then every note (`note: …`) and the help (`help: …`), each on a
/// line of its own. Notes and help are part of the message rather than related
/// information because the message is what every editor shows (in the hover, the
/// problems list, Neovim's float and virtual text), while related information is shown
/// by some editors only (VS Code) and, without a location of its own, would point back
/// at the finding itself. Secondary labels, which have locations, are related
/// information.
pub fn message(d: &Diagnostic) -> String {
    let mut text = d.message.clone();
    let label = d.label.trim();
    if !label.is_empty() && !d.message.contains(label) {
        text.push('\n');
        text.push_str(label);
    }
    // Each editor diagnostic stands alone: the rule's incident note goes on every one.
    for note in d.why.iter().chain(&d.notes) {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    text
}

fn range(text: &str, loc: &crate::input::source::Loc, encoding: Encoding) -> lsp::Range {
    lsp::Range::new(position(text, loc.start as usize, encoding), position(text, loc.end as usize, encoding))
}

/// The `code` of a diagnostic on a configuration file that cannot be used.
pub const CONFIGURATION_CODE: &str = "configuration";

/// The bytes of a configuration file's `text` to underline for an error at `span`: the
/// span, or where only its start is known the token there (a quoted string, a key or
/// value) else the rest of the line; without a span, the first line. The range ends on
/// the line it starts on, and is at least one character wide unless the text has none
/// (an error at the end of a line or on an empty one moves back to the last character
/// before it).
pub fn config_error_span(text: &str, span: Option<std::ops::Range<usize>>) -> std::ops::Range<usize> {
    let boundary_before = |mut at: usize| {
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let start = boundary_before(span.as_ref().map_or(0, |s| s.start).min(text.len()));
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_end = if text[..line_end].ends_with('\r') { line_end - 1 } else { line_end };
    if start >= line_end {
        // At the end of a line: its last character, or the last one before it.
        let before = text[..start.min(line_end)].trim_end_matches(['\n', '\r']);
        return match before.chars().next_back() {
            Some(last) => before.len() - last.len_utf8()..before.len(),
            None => start..start,
        };
    }
    let rest = &text[start..line_end];
    let token = match rest.chars().next() {
        _ if span.is_none() => rest.len(),
        Some(quote @ ('"' | '\'')) => rest[1..].find(quote).map_or(rest.len(), |i| i + 2),
        Some(c) if c.is_alphanumeric() || c == '-' || c == '_' => {
            rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(rest.len())
        }
        _ => rest.len(),
    };
    let end = match span {
        Some(s) if s.end > start => boundary_before(s.end.min(line_end)),
        _ => start + token,
    };
    let first = rest.chars().next().map_or(0, char::len_utf8);
    start..end.max(start + first)
}

/// One gatelint finding as an LSP diagnostic. `uri_of` names the file of a file id.
pub(super) fn to_lsp(
    d: &Diagnostic,
    db: &SourceDb,
    encoding: Encoding,
    uri_of: &dyn Fn(usize) -> Option<lsp::Uri>,
) -> lsp::Diagnostic {
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|label| {
            let uri = uri_of(label.loc.file)?;
            let range = range(db.get(label.loc.file).text(), &label.loc, encoding);
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(uri, range),
                message: label.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(db.get(d.loc.file).text(), &d.loc, encoding),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.rule.to_string())),
        code_description: rule_doc_link(d.rule).map(|href| lsp::CodeDescription { href }),
        source: Some("gatelint".to_string()),
        message: message(d),
        related_information: (!related.is_empty()).then_some(related),
        // An unused suppression is dead text: editors fade it.
        tags: (d.rule == crate::rules::unused_suppression::ID).then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_errors_underline_their_span_or_token_within_one_line() {
        let text = "[rules.x]\nname = \"a b\" # c\nlist = [\n  1,\n]\n\nk = v\r\n";
        let at = |s: &str| text.find(s).unwrap();
        let shown = |span| &text[config_error_span(text, span)];
        // A known span, cut at the end of its first line.
        assert_eq!(shown(Some(at("name")..at("name") + 4)), "name");
        assert_eq!(shown(Some(at("[\n")..at("]\n") + 1)), "[");
        // Only the start known: the quoted string, the key, else the rest of the line.
        assert_eq!(shown(Some(at("\"a")..at("\"a"))), "\"a b\"");
        assert_eq!(shown(Some(at("list")..at("list"))), "list");
        assert_eq!(shown(Some(at("= [")..at("= ["))), "= [");
        // At the end of a line or on an empty one: the last character before it.
        assert_eq!(shown(Some(at(",\n") + 1..at(",\n") + 1)), ",");
        assert_eq!(shown(Some(at("\n\nk") + 1..at("\n\nk") + 1)), "]");
        assert_eq!(shown(Some(at("\r")..at("\r"))), "v");
        assert_eq!(shown(Some(text.len()..text.len() + 5)), "v");
        // No position: the first line. Nothing to underline: empty.
        assert_eq!(shown(None), "[rules.x]");
        assert_eq!(config_error_span("\n\n", Some(1..1)), 1..1);
        // Never inside a character.
        assert_eq!(&"é = 1"[config_error_span("é = 1", Some(1..1))], "é");
    }

    #[test]
    fn messages_carry_label_notes_and_help_on_lines_of_their_own() {
        let d = Diagnostic {
            rule: "wildcard-listen-default",
            severity: Severity::Error,
            loc: crate::input::source::Loc::new(0, 0, 1),
            message: "listens on every interface".into(),
            label: "this default".into(),
            secondary: Vec::new(),
            why: Some("incident".into()),
            notes: vec!["what applies".into()],
            help: Some("bind 127.0.0.1".into()),
        };
        assert_eq!(
            message(&d),
            "listens on every interface\nthis default\nnote: incident\nnote: what applies\nhelp: bind 127.0.0.1"
        );
        let same = Diagnostic { label: "every interface".into(), why: None, notes: Vec::new(), help: None, ..d };
        assert_eq!(message(&same), "listens on every interface");
    }
}
