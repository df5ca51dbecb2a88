//! Source files as gatelint sees them: a display path, the text, and a line index
//! to turn byte offsets into 1-based line/column pairs (columns count characters).
//! Texts read from disk are released once their facts are extracted and read again
//! only for the files a finding points into.

use serde::{Deserialize, Serialize};

/// Index of a file in the [`SourceDb`]; stable for one run (files are sorted by path).
pub type FileId = usize;

/// A byte range in one file. Kept instead of syntax-tree spans so that facts outlive
/// the tree they were read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Loc {
    /// Not stored in the facts cache: file ids change from run to run, and every
    /// location in a file's facts is in that file (see [`loading_file`]).
    #[serde(skip, default = "loading_file")]
    pub file: FileId,
    /// Byte offsets (`u32`: facts hold millions of locations; files over 4 GiB are
    /// refused before parsing).
    pub start: u32,
    pub end: u32,
}

impl Loc {
    /// A location from byte offsets (clamped to `u32`; see [`MAX_FILE_SIZE`]).
    pub fn new(file: FileId, start: usize, end: usize) -> Loc {
        let clamp = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Loc { file, start: clamp(start), end: clamp(end) }
    }

    /// The byte range, for slicing the file's text.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The largest file gatelint parses: locations are 32-bit byte offsets.
pub const MAX_FILE_SIZE: usize = u32::MAX as usize;

thread_local! {
    static LOADING_FILE: std::cell::Cell<FileId> = const { std::cell::Cell::new(0) };
}

/// The file whose cached facts are being read on this thread.
pub fn loading_file() -> FileId {
    LOADING_FILE.with(|f| f.get())
}

/// Runs `f` with cached locations read as belonging to `file`.
pub fn while_loading<T>(file: FileId, f: impl FnOnce() -> T) -> T {
    let previous = LOADING_FILE.with(|c| c.replace(file));
    let out = f();
    LOADING_FILE.with(|c| c.set(previous));
    out
}

/// A 1-based line and column; the column counts Unicode scalar values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

pub struct SourceFile {
    /// Path as shown to users: relative to the working directory when below it,
    /// always with `/` separators.
    pub display: String,
    /// The text, while it is needed: dropped by [`SourceFile::release`] once the file's
    /// facts are extracted (a large crate's sources would otherwise stay in memory
    /// for the whole run) and read again on first use, for the few files whose
    /// findings are shown with their source.
    text: std::sync::OnceLock<String>,
    index: std::sync::OnceLock<LineIndex>,
    /// Where the text can be read again, with the length and checksum of the text
    /// that was checked; `None` for texts that are never released.
    reload: Option<Reload>,
    /// The text read again differs from the one checked (the file changed meanwhile).
    changed: std::sync::atomic::AtomicBool,
}

struct Reload {
    path: std::path::PathBuf,
    checked: (usize, u64),
}

/// Where lines start, kept after the text is released: line/column positions of
/// findings need no text on ASCII lines.
struct LineIndex {
    line_starts: Vec<u32>,
    /// 0-based indexes of the lines with a non-ASCII byte, ascending. On every
    /// other line a character column is a byte column: span conversion stays O(1) on
    /// the long generated lines where it is called most.
    non_ascii: Vec<u32>,
    len: usize,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let offset = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let bytes = text.as_bytes();
        let mut line_starts = Vec::with_capacity(bytes.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| offset(i + 1)));
        // Most files are ASCII throughout: one fast check, then line by line.
        let non_ascii = if bytes.is_ascii() {
            Vec::new()
        } else {
            (0..line_starts.len())
                .filter(|&i| {
                    let start = line_starts[i] as usize;
                    let end = line_starts.get(i + 1).map_or(bytes.len(), |&e| e as usize);
                    !bytes[start..end].is_ascii()
                })
                .map(offset)
                .collect()
        };
        LineIndex { line_starts, non_ascii, len: text.len() }
    }

    fn is_ascii(&self, line_idx: usize) -> bool {
        self.non_ascii.binary_search(&(line_idx as u32)).is_err()
    }

    fn start(&self, line_idx: usize) -> Option<usize> {
        self.line_starts.get(line_idx).map(|&s| s as usize)
    }
}

/// Length and checksum of a text (not cryptographic: it tells whether a file read
/// again is the one that was checked).
pub fn checksum(bytes: &[u8]) -> (usize, u64) {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(bytes);
    (bytes.len(), h.finish())
}

impl SourceFile {
    /// A source whose text stays in memory.
    pub fn new(display: String, text: String) -> Self {
        SourceFile {
            display,
            text: std::sync::OnceLock::from(text),
            index: std::sync::OnceLock::new(),
            reload: None,
            changed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A source read from `path` (`checked`: the [`checksum`] of its bytes), whose
    /// text can be released and read again.
    pub fn from_disk(display: String, path: std::path::PathBuf, text: String, checked: (usize, u64)) -> Self {
        SourceFile { reload: Some(Reload { path, checked }), ..SourceFile::new(display, text) }
    }

    /// A source on disk whose text is read on first use.
    pub fn released(display: String, path: std::path::PathBuf, checked: (usize, u64)) -> Self {
        SourceFile {
            display,
            text: std::sync::OnceLock::new(),
            index: std::sync::OnceLock::new(),
            reload: Some(Reload { path, checked }),
            changed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Drops the text (keeping the line index) if it can be read again.
    pub fn release(&mut self) {
        if self.reload.is_some() {
            self.index();
            self.text = std::sync::OnceLock::new();
        }
    }

    /// The text (read again from disk if it was released).
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let Some(reload) = &self.reload else { return String::new() };
            let bytes = std::fs::read(&reload.path).unwrap_or_default();
            if checksum(&bytes) == reload.checked {
                return crate::input::problem::decode(bytes).0;
            }
            self.changed.store(true, std::sync::atomic::Ordering::Relaxed);
            // Not the text that was checked: positions into it would be wrong, so the
            // findings are shown over blank lines of the checked text's shape.
            match self.index.get() {
                Some(index) => {
                    let mut blank = vec![b' '; index.len];
                    index.line_starts.iter().skip(1).for_each(|&s| blank[s as usize - 1] = b'\n');
                    String::from_utf8(blank).unwrap_or_default()
                }
                None => crate::input::problem::decode(bytes).0,
            }
        })
    }

    /// Whether positions can be computed without the text (a line index of the
    /// checked text is kept).
    pub fn has_line_index(&self) -> bool {
        self.index.get().is_some()
    }

    /// Whether the text was read again and is not the one checked.
    pub fn changed_since_checked(&self) -> bool {
        self.changed.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn index(&self) -> &LineIndex {
        self.index.get_or_init(|| LineIndex::new(self.text()))
    }

    /// Byte offset of a 1-based line and 0-based character column (proc-macro2's
    /// `LineColumn` convention), clamped to the text.
    pub fn offset_of(&self, line: usize, char_col: usize) -> usize {
        // Line 0 is proc-macro2's "no location" (synthetic spans; every span when
        // built with `cfg(fuzzing)`): the start of the file, never a panic.
        if line == 0 {
            return 0;
        }
        let index = self.index();
        let Some(start) = index.start(line - 1) else {
            return index.len;
        };
        let end = index.start(line).map_or(index.len, |next| next - 1);
        if index.is_ascii(line - 1) {
            return (start + char_col).min(end);
        }
        let line_text = &self.text()[start..end];
        let within = line_text.char_indices().nth(char_col).map_or(line_text.len(), |(i, _)| i);
        start + within
    }

    /// The location of a proc-macro2 span range (from `start`'s start to `end`'s end).
    pub fn span_loc(&self, file: FileId, start: proc_macro2::Span, end: proc_macro2::Span) -> Loc {
        let s = start.start();
        let e = end.end();
        Loc::new(file, self.offset_of(s.line, s.column), self.offset_of(e.line, e.column))
    }

    /// 1-based line/column of a byte offset (clamped; snapped to a char boundary).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let index = self.index();
        let offset = offset.min(index.len);
        let line_idx = match index.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = index.start(line_idx).unwrap_or(0);
        if index.is_ascii(line_idx) {
            return LineCol { line: line_idx + 1, column: offset - start + 1 };
        }
        let text = self.text();
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let column = text.get(start..offset).map_or(0, |t| t.chars().count()) + 1;
        LineCol { line: line_idx + 1, column }
    }

    /// The text of the 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(start) = self.index().start(line.saturating_sub(1)) else {
            return "";
        };
        self.text().get(start..).unwrap_or("").split('\n').next().unwrap_or("").trim_end_matches('\r')
    }
}

/// Every file of one run, in path order.
#[derive(Default)]
pub struct SourceDb {
    pub files: Vec<SourceFile>,
}

impl SourceDb {
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id]
    }

    /// Start and (exclusive) end of a location as 1-based line/column pairs.
    pub fn range(&self, loc: &Loc) -> (LineCol, LineCol) {
        let file = self.get(loc.file);
        (file.line_col(loc.start as usize), file.line_col(loc.end as usize))
    }
}

impl<'a> codespan_reporting::files::Files<'a> for SourceDb {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.files.get(id).map(|f| f.display.as_str()).ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.files.get(id).map(SourceFile::text).ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte: usize) -> Result<usize, codespan_reporting::files::Error> {
        let file = self.files.get(id).ok_or(codespan_reporting::files::Error::FileMissing)?;
        Ok(file.line_col(byte).line - 1)
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, codespan_reporting::files::Error> {
        let file = self.files.get(id).ok_or(codespan_reporting::files::Error::FileMissing)?;
        let index = file.index();
        let start = index.start(line_index).ok_or(codespan_reporting::files::Error::LineTooLarge {
            given: line_index,
            max: index.line_starts.len() - 1,
        })?;
        let end = index.start(line_index + 1).unwrap_or(index.len);
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_line_columns_round_trip_with_multibyte_text() {
        let f = SourceFile::new("a.rs".into(), "ab\n\u{e9}x = 1;\nlast".into());
        assert_eq!(f.offset_of(2, 1), 5); // 'x' after the 2-byte 'é'
        assert_eq!(f.line_col(5), LineCol { line: 2, column: 2 });
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_text(3), "last");
        assert_eq!(f.offset_of(9, 0), f.text().len());
        // Found by the fuzz target (proc-macro2 reports line 0 under cfg(fuzzing)).
        assert_eq!(f.offset_of(0, 5), 0);
    }
}
