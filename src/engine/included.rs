//! Files the rules' facts name (`include_str!("config.default.toml")`): read when the
//! rules run, not when the naming file's facts are made (so cached facts never hold
//! another file's content), and added to the sources, so findings can point into
//! them, with the suppressions written in their `#` comments.

use super::crate_check::Gathered;
use crate::facts::FileFacts;
use crate::input::comments::lex_hash_comments;
use crate::input::source::{FileId, SourceFile};
use crate::rules::ActiveRules;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Included files larger than this are not read (a configuration is far smaller).
const MAX_INCLUDED_SIZE: u64 = 4 << 20;

/// Reads the files the active rules' facts name, relative to the directory of each
/// naming file (`paths`, by file id), into `gathered`. A file that cannot be read is
/// left out: the compiler reports a missing `include_str!` file.
pub(super) fn add_included(gathered: &mut Gathered, paths: &[&Path], active: &ActiveRules) {
    let mut by_path: BTreeMap<PathBuf, Option<FileId>> = BTreeMap::new();
    for (from, naming) in paths.iter().enumerate().take(gathered.facts.len()) {
        let named: Vec<String> = active
            .iter()
            .flat_map(|(slot, rule, _)| {
                gathered.facts[from].rules.get(slot).and_then(Option::as_ref).map(|f| rule.included_files(f))
            })
            .flatten()
            .collect();
        for rel in named {
            let Some(dir) = naming.parent() else { continue };
            let path = normalize(&dir.join(&rel));
            let id = *by_path.entry(path.clone()).or_insert_with(|| {
                let display = gathered.db.get(from).display.clone();
                let shown = match Path::new(&display).parent() {
                    Some(d) => normalize(&d.join(&rel)).to_string_lossy().replace('\\', "/"),
                    None => rel.clone(),
                };
                add(gathered, &path, shown)
            });
            if let Some(id) = id {
                gathered.included.insert((from, rel), id);
            }
        }
    }
    // A stored run is keyed on the checked files only: one whose findings depend on
    // an included file must not be replayed after that file changes.
    if !gathered.included.is_empty() {
        gathered.storable = false;
    }
}

/// Adds the file at `path`, shown as `shown`, to the sources; `None` when it cannot
/// be read as text.
fn add(gathered: &mut Gathered, path: &Path, shown: String) -> Option<FileId> {
    add_text_file(gathered, path, shown, MAX_INCLUDED_SIZE, lex_hash_comments, "#")
}

/// Adds a file that is not Rust (a configuration, a migration) to the sources, with
/// the suppressions its comments hold (`lex` reads them; `allow-file` comes before
/// the first line that is not blank or a `line_comment`); `None` when it is larger
/// than `max_size` or cannot be read as text.
pub(super) fn add_text_file(
    gathered: &mut Gathered,
    path: &Path,
    shown: String,
    max_size: u64,
    lex: fn(&str) -> Vec<crate::input::comments::Comment>,
    line_comment: &str,
) -> Option<FileId> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > max_size {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let id = gathered.db.files.len();
    let source = SourceFile::new(shown, text);
    let comments = lex(source.text());
    let first_item_line = source
        .text()
        .lines()
        .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with(line_comment))
        .map_or(usize::MAX, |i| i + 1);
    let facts = FileFacts {
        suppressions: crate::facts::suppressions::directives(id, &source, &comments, first_item_line),
        ..FileFacts::default()
    };
    gathered.db.files.push(source);
    gathered.facts.push(facts);
    Some(id)
}

/// `a/src/../config.toml` as `a/config.toml` (as the compiler opens it; symbolic
/// links are not resolved).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn parent_directories_fold() {
        assert_eq!(normalize(Path::new("a/src/../config.toml")), Path::new("a/config.toml"));
        assert_eq!(normalize(Path::new("./x/./y.toml")), Path::new("x/y.toml"));
        assert_eq!(normalize(Path::new("../up.toml")), Path::new("../up.toml"));
    }
}
