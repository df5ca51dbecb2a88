//! The configuration files of the checked trees, read when a rule that needs them
//! is on ([`crate::input::config_files`] finds them): each joins the sources, with
//! the suppressions its `#` comments hold, so findings can point into it. A file
//! the rules' facts named is already there and is not read twice.

use super::crate_check::Gathered;
use super::included::add_text_file;
use crate::input::comments::lex_hash_comments;
use crate::input::config_files::{self, MAX_CONFIG_SIZE};
use crate::input::source::FileId;
use std::path::PathBuf;

/// The configuration files of a run, found before anything is read: which files
/// there are keys the run (their texts are checked as the other files read are).
pub(super) struct Found {
    files: Vec<PathBuf>,
}

impl Found {
    /// The configuration files below the checked folders `roots`.
    pub(super) fn find(roots: &[PathBuf]) -> Found {
        Found { files: config_files::find(roots) }
    }

    pub(super) fn fingerprint(&self) -> String {
        self.files.iter().map(|f| format!("{f:?}\n")).collect()
    }
}

/// Adds the files `found` to `gathered` (those in `read`, the files read already,
/// keep their ids) and lists them all in `gathered.repo_configs`. Returns the files
/// read here, with their paths.
pub(super) fn add_repo_configs(
    gathered: &mut Gathered,
    found: Found,
    read: &[(FileId, PathBuf)],
) -> Vec<(FileId, PathBuf)> {
    let canonical = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
    let known: std::collections::HashMap<PathBuf, FileId> = read.iter().map(|(id, p)| (canonical(p), *id)).collect();
    let cwd = crate::input::discover::working_dir().unwrap_or_default();
    let mut added = Vec::new();
    for path in found.files {
        if let Some(&id) = known.get(&path) {
            gathered.repo_configs.push(id);
            continue;
        }
        let shown = crate::input::discover::display_path(&path, &cwd);
        match add_text_file(gathered, &path, shown, MAX_CONFIG_SIZE, lex_hash_comments, "#") {
            Some(id) => {
                gathered.repo_configs.push(id);
                added.push((id, path));
            }
            // Too large or not text: a stored run is not replayed while it is there.
            None => gathered.looked_for.push(path),
        }
    }
    gathered.repo_configs.sort_unstable();
    gathered.repo_configs.dedup();
    added
}
