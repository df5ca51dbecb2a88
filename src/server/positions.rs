//! LSP positions and document addresses: columns in the negotiated encoding (UTF-16
//! code units unless the client offers UTF-8 or UTF-32), byte offsets, and `file:`
//! URIs to paths and back.

use lsp_types as lsp;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How LSP positions count columns, negotiated at initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    /// The client's most preferred of utf-8 and utf-32 (its list is in order of
    /// preference), else utf-16, which every client supports.
    pub fn negotiate(offered: &[&str]) -> Encoding {
        offered
            .iter()
            .find_map(|e| match *e {
                "utf-8" => Some(Encoding::Utf8),
                "utf-32" => Some(Encoding::Utf32),
                _ => None,
            })
            .unwrap_or(Encoding::Utf16)
    }

    pub fn kind(self) -> lsp::PositionEncodingKind {
        match self {
            Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
            Encoding::Utf32 => lsp::PositionEncodingKind::UTF32,
        }
    }

    /// How many columns `c` takes.
    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf32 => 1,
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The LSP position of byte `offset` of `text` (clamped to the text and moved back to
/// a character boundary). Lines end at `\n`, as gatelint's own positions do.
pub fn position(text: &str, offset: usize, encoding: Encoding) -> lsp::Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = memchr::memchr_iter(b'\n', before.as_bytes()).count();
    let character: usize = before[line_start..].chars().map(|c| encoding.width(c)).sum();
    lsp::Position::new(to_u32(line), to_u32(character))
}

/// The byte offset of an LSP position in `text`: a line past the end is the end of the
/// text, a column past the end of its line is the end of the line (before its `\n`),
/// and a column inside a character (half a surrogate pair) is that character's start.
pub fn offset(text: &str, position: lsp::Position, encoding: Encoding) -> usize {
    let mut start = 0;
    for _ in 0..position.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut column = 0;
    for (i, c) in text[start..end].char_indices() {
        let next = column + encoding.width(c);
        if next > position.character as usize {
            return start + i;
        }
        column = next;
    }
    end
}

/// The path of a `file:` URI (`None` for other schemes and for hosts other than
/// `localhost`).
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let (scheme, rest) = uri.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("file") {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let path = match rest.strip_prefix("//") {
        Some(authority_and_path) => {
            let slash = authority_and_path.find('/').unwrap_or(authority_and_path.len());
            let (authority, path) = authority_and_path.split_at(slash);
            if !(authority.is_empty() || authority.eq_ignore_ascii_case("localhost")) {
                return None;
            }
            path
        }
        None => rest,
    };
    if !path.starts_with('/') {
        return None;
    }
    let bytes = percent_decode(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        let path = String::from_utf8(bytes).ok()?;
        // `/C:/dir/file.rs` names `C:/dir/file.rs`.
        let drive = path.len() >= 3 && path.as_bytes()[2] == b':';
        Some(PathBuf::from(if drive { &path[1..] } else { &path[..] }))
    }
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The `file:` URI of an absolute path, every byte but unreserved ones and `/`
/// percent-encoded.
pub fn path_to_uri(path: &Path) -> Option<lsp::Uri> {
    if !path.is_absolute() {
        return None;
    }
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = {
        let text = path.to_str()?.replace('\\', "/");
        if text.starts_with('/') { text } else { format!("/{text}") }.into_bytes()
    };
    let mut uri = String::from("file://");
    for b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    lsp::Uri::from_str(&uri).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "let é = 1;\nlet 𝄞x = \"ü\";\n\nlast";

    #[test]
    fn positions_count_columns_in_the_negotiated_encoding() {
        // `x` follows a 4-byte character (2 UTF-16 code units, 1 scalar value).
        let x = TEXT.find('x').unwrap();
        assert_eq!(position(TEXT, x, Encoding::Utf8), lsp::Position::new(1, 8));
        assert_eq!(position(TEXT, x, Encoding::Utf16), lsp::Position::new(1, 6));
        assert_eq!(position(TEXT, x, Encoding::Utf32), lsp::Position::new(1, 5));
        // `=` after a 2-byte `é` on the first line.
        let eq = TEXT.find('=').unwrap();
        assert_eq!(position(TEXT, eq, Encoding::Utf8), lsp::Position::new(0, 7));
        assert_eq!(position(TEXT, eq, Encoding::Utf16), lsp::Position::new(0, 6));
        // Start of a line, an empty line, the end, past the end, inside a character.
        assert_eq!(position(TEXT, 0, Encoding::Utf16), lsp::Position::new(0, 0));
        let empty = TEXT.find("\n\n").unwrap() + 1;
        assert_eq!(position(TEXT, empty, Encoding::Utf16), lsp::Position::new(2, 0));
        assert_eq!(position(TEXT, TEXT.len(), Encoding::Utf16), lsp::Position::new(3, 4));
        assert_eq!(position(TEXT, TEXT.len() + 10, Encoding::Utf16), lsp::Position::new(3, 4));
        assert_eq!(position(TEXT, x - 1, Encoding::Utf16), lsp::Position::new(1, 4));
    }

    #[test]
    fn offsets_invert_positions_in_every_encoding() {
        for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            for (i, _) in TEXT.char_indices().chain([(TEXT.len(), ' ')]) {
                assert_eq!(offset(TEXT, position(TEXT, i, encoding), encoding), i, "{encoding:?} at {i}");
            }
        }
        let line1 = TEXT.find('\n').unwrap() + 1;
        // Half of the surrogate pair of `𝄞`: the character's start.
        assert_eq!(offset(TEXT, lsp::Position::new(1, 5), Encoding::Utf16), line1 + 4);
        // Past the end of a line: its end; past the last line: the end of the text.
        assert_eq!(offset(TEXT, lsp::Position::new(0, 99), Encoding::Utf16), line1 - 1);
        assert_eq!(offset(TEXT, lsp::Position::new(9, 0), Encoding::Utf16), TEXT.len());
    }

    #[test]
    fn encoding_negotiation_prefers_the_clients_choice_of_utf8_or_utf32() {
        assert_eq!(Encoding::negotiate(&[]), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(&["utf-16"]), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(&["utf-16", "utf-8"]), Encoding::Utf8);
        assert_eq!(Encoding::negotiate(&["utf-32", "utf-8", "utf-16"]), Encoding::Utf32);
        assert_eq!(Encoding::negotiate(&["utf-8", "utf-32"]), Encoding::Utf8);
    }

    #[cfg(unix)]
    #[test]
    fn file_uris_and_paths_round_trip() {
        let path = Path::new("/home/a b/crate/src/é#1.rs");
        let uri = path_to_uri(path).unwrap();
        assert_eq!(uri.as_str(), "file:///home/a%20b/crate/src/%C3%A9%231.rs");
        assert_eq!(uri_to_path(uri.as_str()).as_deref(), Some(path));
        assert_eq!(uri_to_path("file://localhost/x/y.rs").as_deref(), Some(Path::new("/x/y.rs")));
        assert_eq!(uri_to_path("FILE:///x/%7e.rs?q#f").as_deref(), Some(Path::new("/x/~.rs")));
        assert_eq!(uri_to_path("untitled:Untitled-1"), None);
        assert_eq!(uri_to_path("file://host/x.rs"), None);
        assert_eq!(uri_to_path("file:///x/%zz.rs"), None);
        assert_eq!(path_to_uri(Path::new("relative.rs")), None);
    }
}
