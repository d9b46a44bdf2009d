//! The file operations of a repair: truncating a segment, saving what is cut, finding a
//! free name to set a file aside under.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::error::JournalError;

/// `path`, or `path.1`, `path.2`, ... : the first that does not exist.
pub(crate) fn unused_name(path: &Path) -> PathBuf {
    let mut candidate = path.to_path_buf();
    let mut n = 0;
    while candidate.exists() {
        n += 1;
        candidate = PathBuf::from(format!("{}.{n}", path.display()));
    }
    candidate
}

/// Copies `file`'s bytes from `offset` on into the new file `to`, durably.
pub(crate) fn save_tail(file: &Path, offset: u64, to: &Path) -> Result<(), JournalError> {
    use std::io::{Seek, SeekFrom};
    let mut from = fs::File::open(file).map_err(JournalError::io("open", file))?;
    from.seek(SeekFrom::Start(offset))
        .map_err(JournalError::io("seek", file))?;
    let mut bytes = Vec::new();
    from.read_to_end(&mut bytes)
        .map_err(JournalError::io("read", file))?;
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(JournalError::io("create", to))?;
    out.write_all(&bytes)
        .map_err(JournalError::io("write", to))?;
    out.sync_all().map_err(JournalError::io("fsync", to))
}

/// Cuts `file` to `len` bytes and makes that durable.
pub(crate) fn truncate(file: &Path, len: u64) -> Result<(), JournalError> {
    let handle = OpenOptions::new()
        .write(true)
        .open(file)
        .map_err(JournalError::io("open for truncation", file))?;
    handle
        .set_len(len)
        .map_err(JournalError::io("truncate", file))?;
    handle.sync_all().map_err(JournalError::io("fsync", file))
}
