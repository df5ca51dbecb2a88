//! Which files a run reads, and which it reports on: the named paths; the whole crate
//! of named files (or of folders inside its `src/`) and the packages it depends on by
//! path, reporting only what was named; or the staged files of the git index.

use super::RunOptions;
use crate::config::Config;
use crate::input::discover::{Discovered, discover};
use std::path::PathBuf;

/// The files to read and which of them to report on: the named paths, the whole
/// crate of named files, or the staged files of the git index.
pub(super) fn find_files(
    options: &RunOptions,
    config: &Config,
    exclude_root: &std::path::Path,
) -> Result<crate::input::discover::Discovery, super::RunError> {
    if options.staged {
        let exclude = crate::input::discover::exclude_overrides(&config.exclude, exclude_root)?;
        let (files, report) = crate::input::staged::staged_files(&options.paths, config.include_tests, &exclude)?;
        return Ok(crate::input::discover::Discovery { files, errors: Vec::new(), report_only: Some(report) });
    }
    // Named files, or folders inside a crate's `src/`: the whole crate, and the
    // workspace packages it depends on, are read for their facts; findings are
    // reported for what was named.
    let scope = crate::input::discover::crate_scope(&options.paths)
        .or_else(|| crate::input::packages::whole_package_with_dependencies(&options.paths));
    if scope.is_some() {
        let named = discover(&options.paths, config.include_tests, &config.exclude, exclude_root)?;
        let mut all = discover(&scope_roots(&options.paths), config.include_tests, &config.exclude, exclude_root)?;
        // A named file is always checked, even where discovery would skip it; one the
        // crate walk found already (by another path: `../x.rs`) is read once, and
        // reported as the walk shows it.
        let walked: std::collections::HashMap<PathBuf, String> =
            all.files.iter().map(|f| (canonical(&f.path), f.display.clone())).collect();
        let mut report = std::collections::BTreeSet::new();
        for f in named.files {
            match walked.get(&canonical(&f.path)) {
                Some(display) => {
                    report.insert(display.clone());
                }
                None if all.files.iter().any(|g| g.display == f.display) => {
                    report.insert(f.display.clone());
                }
                None => {
                    report.insert(f.display.clone());
                    all.files.push(f);
                }
            }
        }
        all.files.sort();
        all.report_only = Some(report);
        return Ok(all);
    }
    Ok(discover(&options.paths, config.include_tests, &config.exclude, exclude_root)?)
}

/// The directories a run naming `paths` reads: the crate of each named path (files
/// of several packages, as a pre-commit hook names them, read each package) and the
/// packages those depend on by path.
fn scope_roots(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    for path in paths {
        let one = std::slice::from_ref(path);
        let root = crate::input::discover::crate_scope(one)
            .or_else(|| crate::input::packages::whole_package_with_dependencies(one));
        if let Some(root) = root {
            roots.extend(crate::input::packages::dependency_dirs(&root));
            roots.push(root);
        }
    }
    roots.sort();
    roots.dedup();
    // A root inside another is walked with it.
    let outer = roots.clone();
    roots.retain(|r| !outer.iter().any(|o| o != r && r.starts_with(o)));
    roots
}

fn canonical(path: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Discovery for a run naming files that only overlays hold, `unsaved` (canonical
/// path, bytes), beside the paths of `on_disk`: what [`find_files`] finds for those (or,
/// when there are none, the whole crate of the first unsaved file), plus the unsaved
/// files, which are reported on.
pub(super) fn unsaved_files_discovery(
    unsaved: &[(PathBuf, &Vec<u8>)],
    on_disk: RunOptions,
    config: &Config,
    exclude_root: &std::path::Path,
) -> Result<crate::input::discover::Discovery, super::RunError> {
    let mut discovery = if on_disk.paths.is_empty() {
        let dir = unsaved[0].0.parent().unwrap_or(&unsaved[0].0);
        let root = crate::input::discover::manifest_dir(dir).or_else(|| dir.is_dir().then(|| dir.to_path_buf()));
        let mut all = match root {
            Some(root) => {
                // The crate and the packages it depends on by path, as for a named file.
                let mut roots = crate::input::packages::dependency_dirs(&root);
                roots.push(root);
                discover(&roots, config.include_tests, &config.exclude, exclude_root)?
            }
            None => crate::input::discover::Discovery { files: Vec::new(), errors: Vec::new(), report_only: None },
        };
        all.report_only = Some(Default::default());
        all
    } else {
        find_files(&on_disk, config, exclude_root)?
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    for (path, bytes) in unsaved {
        let display = crate::input::discover::display_path(path, &cwd);
        if let Some(report) = &mut discovery.report_only {
            report.insert(display.clone());
        }
        if !discovery.files.iter().any(|f| f.display == display) {
            discovery.files.push(Discovered { display, path: path.clone(), content: Some((*bytes).clone()) });
        }
    }
    discovery.files.sort();
    Ok(discovery)
}
