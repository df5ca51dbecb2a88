//! What a rule reports, independent of how it is rendered.

use crate::source::{Loc, SourceDb};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
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
    /// Why it matters (mostly fixed texts: borrowed, not copied per finding).
    pub notes: Vec<std::borrow::Cow<'static, str>>,
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

    /// The stable output order: path, line, column, rule, then message.
    pub fn sort(diags: &mut [Diagnostic], db: &SourceDb) {
        diags.sort_by(|a, b| {
            let ka = (&db.get(a.loc.file).display, a.loc.start, a.rule, &a.message, a.loc.end);
            let kb = (&db.get(b.loc.file).display, b.loc.start, b.rule, &b.message, b.loc.end);
            ka.cmp(&kb)
        });
    }
}
