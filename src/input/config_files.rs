//! The configuration files of the checked trees: every `.toml`, `.yaml`/`.yml` and
//! `.json` file and every Dockerfile a program of the repository may be started with — its packaged
//! `/etc` configuration, the files a compose stack or a chart mounts, the examples
//! operators copy. What configures tools rather than programs (`Cargo.toml`,
//! `package.json`, CI workflows, the folders of editors and build output), test
//! data and documentation are left out, by the names below. Whether a file is the
//! program's (the keys it reads) is the rules' to decide.

use std::path::{Path, PathBuf};

/// Files named like a configuration that configure tools, not a program (compared
/// without case).
pub const TOOLING_FILES: &[&str] = &[
    // Rust and cargo.
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain.toml",
    "clippy.toml",
    ".clippy.toml",
    "rustfmt.toml",
    ".rustfmt.toml",
    "deny.toml",
    "about.toml",
    "Cross.toml",
    "Makefile.toml",
    "Trunk.toml",
    "Dioxus.toml",
    "book.toml",
    "typos.toml",
    "_typos.toml",
    ".typos.toml",
    "cliff.toml",
    "release.toml",
    "release-plz.toml",
    "dist-workspace.toml",
    "taplo.toml",
    ".taplo.toml",
    "tarpaulin.toml",
    ".tarpaulin.toml",
    "nextest.toml",
    "sqlx-data.json",
    // JavaScript and other ecosystems.
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "jsconfig.json",
    "deno.json",
    "composer.json",
    "bower.json",
    "lerna.json",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    ".yarnrc.yml",
    ".eslintrc.json",
    ".eslintrc.yml",
    ".prettierrc.json",
    ".babelrc.json",
    "pyproject.toml",
    // CI, hosting and repository tooling.
    ".gitlab-ci.yml",
    ".travis.yml",
    "appveyor.yml",
    "azure-pipelines.yml",
    "codecov.yml",
    ".codecov.yml",
    "dependabot.yml",
    "renovate.json",
    ".renovaterc.json",
    ".pre-commit-config.yaml",
    ".golangci.yml",
    ".markdownlint.json",
    "mkdocs.yml",
    "netlify.toml",
    "vercel.json",
    "fly.toml",
    "app.json",
    "Chart.yaml",
];

/// Folders whose files configure tools or are build output.
pub const TOOLING_DIRS: &[&str] = &[
    ".cargo",
    ".config",
    ".github",
    ".gitlab",
    ".circleci",
    ".devcontainer",
    ".vscode",
    ".idea",
    ".git",
    "node_modules",
    "target",
];

/// Words of a folder or file name that mark test or benchmark data.
pub const TEST_WORDS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "testdata",
    "fixture",
    "fixtures",
    "e2e",
    "bench",
    "benches",
    "benchmark",
    "benchmarks",
    "benchmarking",
];

/// Folders never searched: besides the tooling folders, vendored code, hidden
/// folders, documentation (a generated schema, an example in a guide) and
/// integration-test setups.
const SKIPPED_DIRS: &[&str] =
    &["vendor", "third_party", "docs", "doc", "book", "site", "website", "benches", "integration", "e2e"];

/// Extensions of the configuration files searched for.
const EXTENSIONS: &[&str] = &["toml", "yaml", "yml", "json"];

/// Files larger than this are data, not a configuration.
pub const MAX_CONFIG_SIZE: u64 = 1 << 20;

/// How deep below a checked folder the search goes.
const MAX_DEPTH: usize = 10;

/// Whether a file name is a tooling file's ([`TOOLING_FILES`]).
pub fn is_tooling_file(name: &str) -> bool {
    TOOLING_FILES.iter().any(|t| t.eq_ignore_ascii_case(name)) || name.eq_ignore_ascii_case("rust-toolchain")
}

/// Whether a folder or file name says test data ([`TEST_WORDS`], word by word:
/// `test-config.toml`, `integration_tests/`).
pub fn names_test_data(part: &str) -> bool {
    part.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .any(|w| TEST_WORDS.iter().any(|t| t.eq_ignore_ascii_case(w)))
}

/// The configuration files below the checked folders `roots` (files named as
/// roots are Rust files: none), in path order, each once.
pub fn find(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in roots.iter().filter(|r| r.is_dir()) {
        walk(root, 0, &mut out);
    }
    let canonical = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
    let mut found: Vec<PathBuf> = out.iter().map(canonical).collect();
    found.sort();
    found.dedup();
    found
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let kind = e.file_type().ok()?;
            (kind.is_dir() || kind.is_file()).then(|| (e.path(), kind.is_dir()))
        })
        .collect();
    entries.sort();
    for (path, is_dir) in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if is_dir {
            let skipped = name.starts_with('.')
                || TOOLING_DIRS.contains(&name)
                || SKIPPED_DIRS.iter().any(|d| d.eq_ignore_ascii_case(name))
                || names_test_data(name);
            if !skipped && depth < MAX_DEPTH {
                walk(&path, depth + 1, out);
            }
        } else if is_config_file(name) {
            out.push(path);
        }
    }
}

/// Whether a file name is a Dockerfile's (`Dockerfile`, `Dockerfile.debian`,
/// `server.Dockerfile`, `Containerfile`).
pub fn is_dockerfile(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["dockerfile", "containerfile"]
        .iter()
        .any(|d| lower == *d || lower.starts_with(&format!("{d}.")) || lower.ends_with(&format!(".{d}")))
}

/// Whether a file name is a configuration file searched for.
fn is_config_file(name: &str) -> bool {
    if is_dockerfile(name) {
        return !names_test_data(name);
    }
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    EXTENSIONS.contains(&ext)
        && !is_tooling_file(name)
        && !names_test_data(name.rsplit_once('.').map_or(name, |(s, _)| s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "a = 1\n").unwrap();
    }

    #[test]
    fn deployment_files_are_found_and_tooling_tests_and_docs_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for found in [
            "pgcat.toml",
            "docker/compose.yml",
            "docker/Dockerfile.debian",
            "charts/app/values.yaml",
            "pkg/meshd.json",
            "examples/x/app.toml",
            "Dockerfile",
        ] {
            touch(&root.join(found));
        }
        for skipped in [
            "Cargo.toml",
            "crates/a/Cargo.toml",
            "package.json",
            "tests/config.toml",
            "config/test.toml",
            "fixtures/app.yaml",
            "docs/schema.yaml",
            ".github/workflows/ci.yml",
            "target/debug/x.json",
            "node_modules/x/config.json",
            "src/main.rs",
            "README.md",
            "Dockerfile.test",
        ] {
            touch(&root.join(skipped));
        }
        let found: Vec<String> = find(&[root.to_path_buf()])
            .iter()
            .map(|p| p.strip_prefix(std::fs::canonicalize(root).unwrap()).unwrap().to_string_lossy().replace('\\', "/"))
            .collect();
        assert_eq!(
            found,
            [
                "Dockerfile",
                "charts/app/values.yaml",
                "docker/Dockerfile.debian",
                "docker/compose.yml",
                "examples/x/app.toml",
                "pgcat.toml",
                "pkg/meshd.json"
            ]
        );
    }
}
