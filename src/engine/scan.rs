//! Pass 1: each file's size, and with a stored run to compare against, its cache key
//! and checksum (reading it once, without keeping the text).

use super::cache::{Cache, Key};
use crate::input::discover::Discovered;
use rayon::prelude::*;

/// Pass 1 over one file: its size, and with a cache its key and checksum.
pub(super) struct Scan {
    pub size: u64,
    /// Pass 1 read the file to key it (it may have failed to).
    pub keyed: bool,
    pub key: Option<Key>,
    /// [`crate::input::source::checksum`] of the bytes the key was made from.
    pub checked: Option<(usize, u64)>,
}

impl Scan {
    pub fn of(file: &Discovered, cache: Option<&Cache>) -> Scan {
        let of_bytes = |bytes: &[u8]| Scan {
            size: bytes.len() as u64,
            keyed: cache.is_some(),
            key: cache.map(|c| c.key(&file.display, bytes)),
            checked: Some(crate::input::source::checksum(bytes)),
        };
        match (&file.content, cache) {
            (Some(bytes), _) => of_bytes(bytes),
            (None, Some(_)) => match read_unless_too_large(&file.path) {
                Ok(Some(bytes)) => of_bytes(&bytes),
                // Too large to check (pass 2 reports it): not read, unkeyed as in pass 2.
                Ok(None) => Scan { size: u64::MAX, keyed: true, key: None, checked: None },
                // Unreadable now: pass 2 reports it.
                Err(_) => Scan { size: 0, keyed: true, key: None, checked: None },
            },
            (None, None) => Scan {
                size: std::fs::metadata(&file.path).map_or(0, |m| m.len()),
                keyed: false,
                key: None,
                checked: None,
            },
        }
    }
}

/// A file's bytes, or `None` when it is larger than gatelint checks (without
/// reading it): the same calls as `std::fs::read`.
fn read_unless_too_large(path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > crate::input::source::MAX_FILE_SIZE as u64 {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Pass 1 over every file, in parallel. The texts are not kept: holding a large
/// crate's sources for the whole run would dominate its memory; pass 2 reads each
/// file again when it parses it. `keyed` is the cache when a stored run could be
/// reused (only then are the files read and keyed now).
pub(super) fn scan_files(files: &[Discovered], keyed: Option<&Cache>, pool: &rayon::ThreadPool) -> Vec<Scan> {
    pool.install(|| files.par_iter().map(|f| Scan::of(f, keyed)).collect())
}
