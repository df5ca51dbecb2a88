//! Where each output format goes: `--format F --output FILE` pairs write F to FILE;
//! the one format left unpaired goes to standard output. With no format left over,
//! standard output gets human output unless a file gets it (`-o report.txt` writes
//! the file only; `-o report.json` writes the file and prints human text).

use crate::report::render::Format;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// What goes to standard output, if anything.
    pub stdout: Option<Format>,
    pub files: Vec<(Format, PathBuf)>,
}

/// The format a file name implies (`gatelint.sarif`, `report.json`), if any.
fn by_extension(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "sarif" => Some(Format::Sarif),
        "json" => Some(Format::Json),
        "txt" | "log" => Some(Format::Human),
        _ => None,
    }
}

/// Pairs each `--output` with the nearest `--format` before it on the command line
/// (by clap's argument indices); an `--output` with none takes its extension's format.
/// An `--output` that no format can go to, or more than one format for standard output.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("--output {}: put a --format before it (or use a .sarif/.json extension)", .0.display())]
    NoFormat(PathBuf),
    #[error("only one --format can go to standard output; give the others an --output FILE")]
    SeveralToStdout,
}

pub fn plan(
    formats: &[Format],
    format_at: &[usize],
    outputs: &[PathBuf],
    output_at: &[usize],
) -> Result<Plan, PlanError> {
    let mut paired = vec![false; formats.len()];
    let mut files = Vec::new();
    for (path, &at) in outputs.iter().zip(output_at) {
        let unpaired_before = || (0..formats.len()).filter(|&i| format_at[i] < at && !paired[i]);
        // The nearest unpaired format before it, unless one of them is the format its
        // extension names (`--format json --format sarif -o a.json -o b.sarif`).
        let named = by_extension(path).and_then(|f| unpaired_before().rfind(|&i| formats[i] == f));
        let before = named.or_else(|| unpaired_before().max_by_key(|&i| format_at[i]));
        // A format already used by a later output cannot pair again.
        let format = match before {
            Some(i) => {
                paired[i] = true;
                formats[i]
            }
            None => by_extension(path).ok_or_else(|| PlanError::NoFormat(path.clone()))?,
        };
        files.push((format, path.clone()));
    }
    let unpaired: Vec<Format> = formats.iter().zip(&paired).filter(|(_, p)| !**p).map(|(f, _)| *f).collect();
    let stdout = match unpaired.as_slice() {
        [] if files.iter().any(|(f, _)| *f == Format::Human) => None,
        [] => Some(Format::Human),
        [one] => Some(*one),
        _ => return Err(PlanError::SeveralToStdout),
    };
    Ok(Plan { stdout, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_pair_with_the_preceding_format() {
        let p = plan(&[Format::Human, Format::Sarif], &[2, 4], &["g.sarif".into()], &[6]).unwrap();
        assert_eq!(p, Plan { stdout: Some(Format::Human), files: vec![(Format::Sarif, "g.sarif".into())] });
        let p = plan(&[], &[], &["g.sarif".into()], &[2]).unwrap();
        assert_eq!(p, Plan { stdout: Some(Format::Human), files: vec![(Format::Sarif, "g.sarif".into())] });
        let p = plan(&[Format::Sarif], &[2], &["g.sarif".into()], &[4]).unwrap();
        assert_eq!(p.stdout, Some(Format::Human));
        // Human output paired with a file goes to the file only.
        let p = plan(&[Format::Human], &[2], &["out.txt".into()], &[4]).unwrap();
        assert_eq!(p, Plan { stdout: None, files: vec![(Format::Human, "out.txt".into())] });
        let p = plan(&[], &[], &["out.txt".into()], &[2]).unwrap();
        assert_eq!(p, Plan { stdout: None, files: vec![(Format::Human, "out.txt".into())] });
        assert_eq!(plan(&[], &[], &[], &[]).unwrap(), Plan { stdout: Some(Format::Human), files: vec![] });
        assert!(plan(&[Format::Json, Format::Sarif], &[2, 4], &[], &[]).is_err());
        assert!(plan(&[], &[], &["out.bin".into()], &[2]).is_err());
        // Two formats then two files: each file takes the format its extension names.
        let p = plan(&[Format::Json, Format::Sarif], &[2, 4], &["a.json".into(), "b.sarif".into()], &[6, 8]).unwrap();
        assert_eq!(p.files, vec![(Format::Json, "a.json".into()), (Format::Sarif, "b.sarif".into())]);
        let p = plan(&[Format::Github], &[2], &[], &[]).unwrap();
        assert_eq!(p.stdout, Some(Format::Github));
    }
}
