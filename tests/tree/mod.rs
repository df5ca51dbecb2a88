//! Copies of fixture folders for tests that check them elsewhere (a temporary
//! directory, a git repository).

use std::path::Path;

/// Copies `from` into `to`, folders included; `.keep` files (which only keep an
/// empty folder in git) are left out.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else if path.file_name().is_some_and(|n| n != ".keep") {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
