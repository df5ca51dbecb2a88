//! Which files a run reads, and which it reports on: the named paths; the whole crate
//! of named files (or of folders inside its `src/`), reporting only what was named;
//! or the staged files of the git index.

use super::RunOptions;
use crate::config::Config;
use crate::input::discover::discover;

/// The files to read and which of them to report on: the named paths, the whole
/// crate of named files, or the staged files of the git index.
pub(super) fn find_files(
    options: &RunOptions,
    config: &Config,
    exclude_root: &std::path::Path,
) -> Result<crate::input::discover::Discovery, String> {
    if options.staged {
        let exclude = crate::input::discover::exclude_overrides(&config.exclude, exclude_root)?;
        let (files, report) = crate::input::staged::staged_files(&options.paths, config.include_tests, &exclude)?;
        return Ok(crate::input::discover::Discovery { files, errors: Vec::new(), report_only: Some(report) });
    }
    // Named files, or folders inside a crate's `src/`: the whole crate is read for its
    // facts; findings are reported for what was named.
    if let Some(root) = crate::input::discover::crate_scope(&options.paths) {
        let named = discover(&options.paths, config.include_tests, &config.exclude, exclude_root)?;
        let mut all = discover(&[root], config.include_tests, &config.exclude, exclude_root)?;
        let report: std::collections::BTreeSet<String> = named.files.iter().map(|f| f.display.clone()).collect();
        // A named file is always checked, even where discovery would skip it.
        for f in named.files {
            if !all.files.iter().any(|g| g.display == f.display) {
                all.files.push(f);
            }
        }
        all.files.sort();
        all.report_only = Some(report);
        return Ok(all);
    }
    discover(&options.paths, config.include_tests, &config.exclude, exclude_root)
}
