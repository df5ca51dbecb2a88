//! The git index as a source of files: `gatelint check --staged` checks what is
//! about to be committed, not the working tree. Every staged `.rs` file provides
//! crate-wide facts; findings are reported for the files the commit changes.

use crate::input::discover::{Discovered, display_path, in_test_tree};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use crate::input::git::GitError as StagedError;
use crate::input::git::git;

/// All `.rs` files of the index (with their staged content) under `roots`, and the
/// display paths of the ones the commit adds or changes.
pub fn staged_files(
    roots: &[PathBuf],
    include_tests: bool,
    exclude: &ignore::overrides::Override,
) -> Result<(Vec<Discovered>, BTreeSet<String>), StagedError> {
    let cwd = std::env::current_dir().map_err(StagedError::Io)?;
    let top = crate::input::git::top_level(&cwd)?;
    let listing = git(&["ls-files", "-s", "-z"], &top)?;
    let changed = git(&["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"], &top)?;
    let changed: BTreeSet<&[u8]> = changed.split(|b| *b == 0).filter(|p| !p.is_empty()).collect();
    let roots: Vec<PathBuf> = roots.iter().map(|r| std::fs::canonicalize(r).unwrap_or_else(|_| cwd.join(r))).collect();

    let mut wanted = Vec::new();
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        // `<mode> <object> <stage>\t<path>`
        let Some(tab) = entry.iter().position(|b| *b == b'\t') else { continue };
        let (meta, path) = (&entry[..tab], &entry[tab + 1..]);
        let mut fields = meta.split(|b| *b == b' ');
        let (Some(_mode), Some(object), Some(stage)) = (fields.next(), fields.next(), fields.next()) else { continue };
        let rel = String::from_utf8_lossy(path).into_owned();
        if stage != b"0" || !rel.ends_with(".rs") {
            continue;
        }
        let rel_path = Path::new(&rel);
        let hidden_or_target = rel_path.components().any(|c| {
            let s = c.as_os_str().to_string_lossy();
            s == "target" || (s.starts_with('.') && s.len() > 1)
        });
        let absolute = top.join(rel_path);
        let under_root = roots.iter().any(|r| absolute.starts_with(r));
        if hidden_or_target || !under_root || (!include_tests && in_test_tree(rel_path)) {
            continue;
        }
        if exclude.matched(&absolute, false).is_ignore() {
            continue;
        }
        wanted.push((String::from_utf8_lossy(object).into_owned(), absolute, changed.contains(path)));
    }
    let contents = crate::input::git::cat_files(&top, wanted.iter().map(|w| w.0.as_str()))?;
    let mut files = Vec::new();
    let mut report = BTreeSet::new();
    for ((object, absolute, is_changed), bytes) in wanted.into_iter().zip(contents) {
        let bytes = bytes.ok_or(StagedError::Missing(object))?;
        let display = display_path(&absolute, &cwd);
        if is_changed {
            report.insert(display.clone());
        }
        files.push(Discovered { display, path: absolute, content: Some(bytes) });
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    Ok((files, report))
}
