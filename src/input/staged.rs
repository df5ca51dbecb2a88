//! The git index as a source of files: `gatelint check --staged` checks what is
//! about to be committed, not the working tree. Every staged `.rs` file provides
//! crate-wide facts; findings are reported for the files the commit changes.

use crate::input::discover::{Discovered, display_path, in_test_tree};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why the git index could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StagedError {
    #[error("cannot run git: {0}")]
    Run(std::io::Error),
    #[error("git {command} failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("cannot run git cat-file: {0}")]
    CatFile(std::io::Error),
    #[error("unexpected git cat-file header `{0}`")]
    CatFileHeader(String),
    #[error("truncated git cat-file output")]
    CatFileTruncated,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn git(args: &[&str], cwd: &Path) -> Result<Vec<u8>, StagedError> {
    let out = Command::new("git").args(args).current_dir(cwd).output().map_err(StagedError::Run)?;
    if !out.status.success() {
        return Err(StagedError::Failed {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// All `.rs` files of the index (with their staged content) under `roots`, and the
/// display paths of the ones the commit adds or changes.
pub fn staged_files(
    roots: &[PathBuf],
    include_tests: bool,
    exclude: &ignore::overrides::Override,
) -> Result<(Vec<Discovered>, BTreeSet<String>), StagedError> {
    let cwd = std::env::current_dir().map_err(StagedError::Io)?;
    let top = String::from_utf8_lossy(&git(&["rev-parse", "--show-toplevel"], &cwd)?).trim().to_string();
    let top = PathBuf::from(top);
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
    let contents = cat_files(&top, wanted.iter().map(|w| w.0.as_str()))?;
    let mut files = Vec::new();
    let mut report = BTreeSet::new();
    for ((_, absolute, is_changed), bytes) in wanted.into_iter().zip(contents) {
        let display = display_path(&absolute, &cwd);
        if is_changed {
            report.insert(display.clone());
        }
        files.push(Discovered { display, path: absolute, content: Some(bytes) });
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    Ok((files, report))
}

/// The blobs' contents, in order, with one `git cat-file --batch`.
fn cat_files<'a>(top: &Path, objects: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, StagedError> {
    let objects: Vec<&str> = objects.collect();
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(StagedError::CatFile)?;
    let mut stdin = child.stdin.take().expect("piped");
    let request: String = objects.iter().map(|o| format!("{o}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut out = Vec::new();
    child.stdout.take().expect("piped").read_to_end(&mut out)?;
    let _ = writer.join();
    let _ = child.wait();
    let mut contents = Vec::with_capacity(objects.len());
    let mut at = 0;
    for _ in &objects {
        let header_end = out[at..].iter().position(|b| *b == b'\n').ok_or(StagedError::CatFileTruncated)? + at;
        let header = String::from_utf8_lossy(&out[at..header_end]).into_owned();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| StagedError::CatFileHeader(header.to_string()))?;
        let start = header_end + 1;
        contents.push(out.get(start..start + size).ok_or(StagedError::CatFileTruncated)?.to_vec());
        at = start + size + 1;
    }
    Ok(contents)
}
