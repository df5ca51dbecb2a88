//! Suppression comments, read per file: `// gatelint: allow(rule-id, …) -- reason`
//! and `// gatelint: allow-file(rule-id, …) -- reason`, each with the statement it
//! sits above (see [`crate::report::suppress`] for what a suppression covers).

use crate::input::comments::Comment;
use crate::input::source::{FileId, Loc, SourceFile};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use syn::visit::Visit;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The comment.
    pub loc: Loc,
    /// 1-based line of the comment's end.
    pub line: usize,
    pub file_level: bool,
    pub rules: Vec<String>,
    pub reason: Option<String>,
    /// Why the directive could not be read, if it could not.
    pub malformed: Option<String>,
    /// The statement a line suppression sits on or directly above, when one starts
    /// there (see [`statements`]).
    pub statement: Option<Statement>,
}

/// The 1-based lines of the statement (or item, match arm, field) a line
/// suppression sits on or directly above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub first: usize,
    /// The line of its first `{` (its last line when it has none): the head.
    pub head_end: usize,
    pub last: usize,
}

impl Statement {
    pub fn head_has(&self, line: usize) -> bool {
        (self.first..=self.head_end).contains(&line)
    }

    pub fn has(&self, line: usize) -> bool {
        (self.first..=self.last).contains(&line)
    }
}

/// The directives among a file's comments. `first_item_line` is the line of the
/// file's first item: `allow-file` must come before it.
pub fn directives(file: FileId, source: &SourceFile, comments: &[Comment], first_item_line: usize) -> Vec<Suppression> {
    let mut out = Vec::new();
    for c in comments {
        let body = c.body.trim();
        let Some(rest) = body.strip_prefix("gatelint:") else { continue };
        let loc = Loc::new(file, c.start, c.end);
        let line = source.line_col(c.end.saturating_sub(1)).line;
        let rest = rest.trim();
        let (file_level, rest) = if let Some(r) = rest.strip_prefix("allow-file") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("allow") {
            (false, r)
        } else {
            out.push(malformed(loc, line, "expected `allow(rule-id) -- reason` or `allow-file(rule-id) -- reason`"));
            continue;
        };
        let Some(inner) = rest.trim_start().strip_prefix('(') else {
            out.push(malformed(loc, line, "expected `(` and the rule ids"));
            continue;
        };
        let Some((ids, after)) = inner.split_once(')') else {
            out.push(malformed(loc, line, "missing `)` after the rule ids"));
            continue;
        };
        let rules: Vec<String> = ids.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let reason = after.trim().strip_prefix("--").map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        let misplaced = file_level && line >= first_item_line;
        out.push(Suppression {
            loc,
            line,
            file_level,
            rules,
            reason,
            malformed: misplaced.then(|| "`allow-file` must come before the first item of the file".to_string()),
            statement: None,
        });
    }
    out
}

fn malformed(loc: Loc, line: usize, why: &str) -> Suppression {
    Suppression {
        loc,
        line,
        file_level: false,
        rules: Vec::new(),
        reason: None,
        malformed: Some(why.to_string()),
        statement: None,
    }
}

/// Finds the statement each line suppression of `source` sits on or directly above:
/// for a comment on a line of its own, the statement starting at the next code
/// (past blank lines and other comments); for a comment after code, the statement
/// starting on its line. The outermost syntax node starting on that line counts.
pub fn statements(suppressions: &mut [Suppression], source: &SourceFile, comments: &[Comment], syntax: &syn::File) {
    let text = source.text();
    let mut targets: Vec<(usize, usize)> = Vec::new();
    for (k, s) in suppressions.iter().enumerate() {
        if s.file_level || s.malformed.is_some() {
            continue;
        }
        let (start, end) = (s.loc.start as usize, s.loc.end as usize);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let code_at = if text[line_start..start].trim().is_empty() {
            // The next code: past whitespace and comments.
            let mut pos = end;
            loop {
                pos += text[pos..].len() - text[pos..].trim_start().len();
                match comments.iter().find(|c| c.start == pos) {
                    Some(c) => pos = c.end,
                    None => break,
                }
            }
            if pos >= text.len() {
                continue;
            }
            pos
        } else {
            start
        };
        targets.push((source.line_col(code_at).line, k));
    }
    if targets.is_empty() {
        return;
    }
    let mut finder = StatementFinder { lines: targets.iter().map(|t| t.0).collect(), found: BTreeMap::new() };
    finder.visit_file(syntax);
    for (line, k) in targets {
        suppressions[k].statement = finder.found.get(&line).copied();
    }
}

/// Records the outermost statement-like node starting on each of `lines`.
struct StatementFinder {
    lines: BTreeSet<usize>,
    /// By first line.
    found: BTreeMap<usize, Statement>,
}

impl StatementFinder {
    fn node(&mut self, node: &(impl quote::ToTokens + syn::spanned::Spanned)) {
        let span = node.span();
        let first = span.start().line;
        // Pre-order: an enclosing node starting on the same line was recorded first.
        if !self.lines.contains(&first) || self.found.contains_key(&first) {
            return;
        }
        let last = span.end().line.max(first);
        let head_end = first_brace_line(node.to_token_stream()).unwrap_or(last).clamp(first, last);
        self.found.insert(first, Statement { first, head_end, last });
    }
}

/// The line of the first `{` among `tokens`, at any depth.
fn first_brace_line(tokens: proc_macro2::TokenStream) -> Option<usize> {
    tokens.into_iter().find_map(|tt| match tt {
        proc_macro2::TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => {
            Some(g.span_open().start().line)
        }
        proc_macro2::TokenTree::Group(g) => first_brace_line(g.stream()),
        _ => None,
    })
}

impl<'ast> Visit<'ast> for StatementFinder {
    fn visit_item(&mut self, i: &'ast syn::Item) {
        self.node(i);
        syn::visit::visit_item(self, i);
    }
    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        self.node(s);
        syn::visit::visit_stmt(self, s);
    }
    fn visit_impl_item(&mut self, i: &'ast syn::ImplItem) {
        self.node(i);
        syn::visit::visit_impl_item(self, i);
    }
    fn visit_trait_item(&mut self, i: &'ast syn::TraitItem) {
        self.node(i);
        syn::visit::visit_trait_item(self, i);
    }
    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        self.node(a);
        syn::visit::visit_arm(self, a);
    }
    fn visit_field(&mut self, f: &'ast syn::Field) {
        self.node(f);
        syn::visit::visit_field(self, f);
    }
    fn visit_field_value(&mut self, f: &'ast syn::FieldValue) {
        self.node(f);
        syn::visit::visit_field_value(self, f);
    }
}
