//! Running git for the input: the repository's top directory, a revision's commit,
//! and many blobs read with one `git cat-file --batch` (the staged files of
//! [`super::staged`], a base revision's files for `check --against`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why git could not tell what was asked.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
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
    #[error("git object `{0}` is missing")]
    Missing(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs `git args` in `cwd`; its standard output when it succeeds.
pub fn git(args: &[&str], cwd: &Path) -> Result<Vec<u8>, GitError> {
    let out = Command::new("git").args(args).current_dir(cwd).output().map_err(GitError::Run)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// The top directory of the work tree `dir` is in.
pub fn top_level(dir: &Path) -> Result<PathBuf, GitError> {
    let top = git(&["rev-parse", "--show-toplevel"], dir)?;
    Ok(PathBuf::from(String::from_utf8_lossy(&top).trim()))
}

/// The objects' contents, in order, with one `git cat-file --batch` run in `top`; an
/// object git does not have (`REV:path` of a file not at REV) is `None`.
pub fn cat_files<'a>(top: &Path, objects: impl Iterator<Item = &'a str>) -> Result<Vec<Option<Vec<u8>>>, GitError> {
    let objects: Vec<&str> = objects.collect();
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(GitError::CatFile)?;
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
        let header_end = out[at..].iter().position(|b| *b == b'\n').ok_or(GitError::CatFileTruncated)? + at;
        let header = String::from_utf8_lossy(&out[at..header_end]).into_owned();
        // `<name> missing` (or `ambiguous`): no such object; else `<sha> <type> <size>`.
        if header.ends_with(" missing") || header.ends_with(" ambiguous") {
            contents.push(None);
            at = header_end + 1;
            continue;
        }
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| GitError::CatFileHeader(header.to_string()))?;
        let start = header_end + 1;
        contents.push(Some(out.get(start..start + size).ok_or(GitError::CatFileTruncated)?.to_vec()));
        at = start + size + 1;
    }
    Ok(contents)
}

/// A commit to read files at, named by the user (`origin/main`, a merge base).
#[derive(Clone, Debug)]
pub struct Revision {
    /// The name as given.
    pub name: String,
    /// Its commit id.
    pub commit: String,
    /// The work tree's top directory.
    pub top: PathBuf,
}

impl Revision {
    /// Resolves `name` in the repository of `dir`; a clear error when `dir` is not in
    /// a git work tree or `name` is not a commit there.
    pub fn resolve(name: &str, dir: &Path) -> Result<Revision, String> {
        let top = top_level(dir)
            .map_err(|e| format!("--against {name}: {} is not in a git work tree ({e})", dir.display()))?;
        let spec = format!("{name}^{{commit}}");
        let commit = git(&["rev-parse", "--verify", "--quiet", &spec], &top)
            .ok()
            .map(|out| String::from_utf8_lossy(&out).trim().to_string())
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                format!(
                    "--against {name}: no such commit in this repository (a shallow clone may not have it: \
                     fetch it, e.g. `git fetch origin {name_tail}`, or check out with `fetch-depth: 0`)",
                    name_tail = name.rsplit('/').next().unwrap_or(name)
                )
            })?;
        Ok(Revision { name: name.to_string(), commit, top })
    }

    /// The files' texts at this revision, by path relative to the top directory (`/`
    /// separated); `None` for a file the revision does not have.
    pub fn read(&self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, GitError> {
        let objects: Vec<String> = paths.iter().map(|p| format!("{}:{p}", self.commit)).collect();
        cat_files(&self.top, objects.iter().map(String::as_str))
    }

    /// `path` relative to the top directory, `/` separated; `None` outside it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let top = std::fs::canonicalize(&self.top).unwrap_or_else(|_| self.top.clone());
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let rel = path.strip_prefix(&top).ok()?;
        Some(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
    }
}
