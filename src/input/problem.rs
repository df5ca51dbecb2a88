//! Why a file could not be checked, and where: a problem reading, decoding or
//! parsing it, which becomes a `parse-error` finding.

/// Why a file could not be checked, and where.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParseProblem {
    /// Byte offset in the (lossily decoded) text.
    pub offset: usize,
    pub message: String,
    /// The text under the position, when there is more to say than "gatelint stopped here".
    pub label: Option<String>,
    /// Other places involved, as (byte offset, text): the opening delimiter a
    /// closing one does not match.
    pub secondary: Vec<(usize, String)>,
}

impl ParseProblem {
    pub fn new(offset: usize, message: String) -> ParseProblem {
        ParseProblem { offset, message, label: None, secondary: Vec::new() }
    }
}

/// Decodes a file's bytes; invalid UTF-8 is a problem at the first bad byte. The
/// returned text (lossy when invalid) is what diagnostics are rendered against.
pub fn decode(bytes: Vec<u8>) -> (String, Option<ParseProblem>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let problem = ParseProblem::new(
                offset,
                format!("file is not valid UTF-8 (invalid byte 0x{:02x})", err.as_bytes()[offset]),
            );
            (text, Some(problem))
        }
    }
}
