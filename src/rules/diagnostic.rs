//! What a rule reports, independent of how it is rendered.

use crate::input::source::{Loc, SourceDb};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// A severity as written in configuration: `Some(None)` is "off", `None` a mistake.
    pub fn from_setting(s: &str) -> Option<Option<Severity>> {
        match s {
            "error" => Some(Some(Severity::Error)),
            "warning" => Some(Some(Severity::Warning)),
            "off" => Some(None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary location with its message ("the constant is used here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub loc: Loc,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    /// Where the problem is; its file is the file the finding belongs to.
    pub loc: Loc,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Text under the primary location.
    pub label: String,
    pub secondary: Vec<Label>,
    /// Why it matters: the rule's incident note, one fixed text per rule. Human
    /// output prints it on the rule's first finding and a pointer to it on the
    /// others; JSON keeps it on every finding (first among its notes).
    pub why: Option<Cow<'static, str>>,
    /// What applies to this finding (which escape hatches, what the entry claims),
    /// printed on every finding. Mostly fixed texts: borrowed, not copied per finding.
    pub notes: Vec<Cow<'static, str>>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// The message followed by `help: …` on its own line, for formats that have
    /// a single text field (SARIF, GitHub annotations).
    pub fn message_with_help(&self) -> String {
        match &self.help {
            Some(help) => format!("{}\nhelp: {help}", self.message),
            None => self.message.clone(),
        }
    }

    /// The incident note followed by the finding's own notes: every note, for
    /// formats that show them on every finding (JSON).
    pub fn all_notes(&self) -> impl Iterator<Item = &str> {
        self.why.iter().chain(&self.notes).map(|n| &**n)
    }

    /// The stable output order: path, line, column, rule, then message.
    pub fn sort(diags: &mut [Diagnostic], db: &SourceDb) {
        diags.sort_by(|a, b| {
            let ka = (&db.get(a.loc.file).display, a.loc.start, a.rule, &a.message, a.loc.end);
            let kb = (&db.get(b.loc.file).display, b.loc.start, b.rule, &b.message, b.loc.end);
            ka.cmp(&kb)
        });
    }
}
