//! The clean-shutdown marker: a small file a writer leaves when it closes, naming where
//! the journal ends, and removes when a writer opens the journal again.
//!
//! ```text
//! ringbook journal closed cleanly
//! last_seq 9022
//! segment 00000000000000000001.journal
//! bytes 702044
//! ```
//!
//! With the marker, a journal cut short after a clean shutdown (its last segment deleted,
//! emptied, or truncated exactly at a record boundary) is told from one that ended where a
//! crash stopped it: recovery knows which records must be there.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::error::JournalError;
use super::writer::sync_dir;

/// The clean-shutdown marker's file name in a journal directory.
pub const CLOSED_FILE: &str = "CLOSED";

/// What the clean-shutdown marker says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanShutdown {
    /// The marker file.
    pub file: PathBuf,
    /// The last seq the journal held when it was closed (0: none).
    pub last_seq: u64,
    /// The file name of the last segment then (empty when there was none).
    pub segment: String,
    /// That segment's length in bytes then.
    pub bytes: u64,
}

const FIRST_LINE: &str = "ringbook journal closed cleanly";

/// Writes the marker durably (temporary file, `fsync`, rename, directory `fsync`).
pub(crate) fn write_marker(
    dir: &Path,
    last_seq: u64,
    segment: &str,
    bytes: u64,
) -> Result<(), JournalError> {
    let path = dir.join(CLOSED_FILE);
    let tmp = dir.join(format!("{CLOSED_FILE}.tmp"));
    let text = format!("{FIRST_LINE}\nlast_seq {last_seq}\nsegment {segment}\nbytes {bytes}\n");
    let mut file = File::create(&tmp).map_err(JournalError::io("create", &tmp))?;
    file.write_all(text.as_bytes())
        .map_err(JournalError::io("write", &tmp))?;
    file.sync_all().map_err(JournalError::io("fsync", &tmp))?;
    fs::rename(&tmp, &path).map_err(JournalError::io("rename", &tmp))?;
    sync_dir(dir)
}

/// Removes the marker, durably, if there is one: the journal is open for writing.
pub(crate) fn remove_marker(dir: &Path) -> Result<(), JournalError> {
    let path = dir.join(CLOSED_FILE);
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JournalError::io("remove", &path)(e)),
    }
}

/// Reads the marker in `dir`: `None` when there is none (the last writer did not close
/// cleanly, or the journal is open).
///
/// # Errors
///
/// [`JournalError::BadCleanShutdownMarker`] naming the line that does not parse;
/// [`JournalError::Io`] if it cannot be read.
pub fn read_marker(dir: &Path) -> Result<Option<CleanShutdown>, JournalError> {
    let path = dir.join(CLOSED_FILE);
    let text = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(JournalError::io("read", &path)(e)),
    };
    let bad = |line: usize| JournalError::BadCleanShutdownMarker {
        file: path.clone(),
        line,
    };
    let text = String::from_utf8(text).map_err(|_| bad(1))?;
    let mut lines = text.lines();
    if lines.next() != Some(FIRST_LINE) {
        return Err(bad(1));
    }
    let mut field = |line: usize, key: &str| -> Result<String, JournalError> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(key))
            .and_then(|l| l.strip_prefix(' '))
            .map(str::to_string)
            .ok_or_else(|| bad(line))
    };
    let last_seq = field(2, "last_seq")?.parse().map_err(|_| bad(2))?;
    let segment = field(3, "segment")?;
    let bytes = field(4, "bytes")?.parse().map_err(|_| bad(4))?;
    if lines.next().is_some() {
        return Err(bad(5));
    }
    Ok(Some(CleanShutdown {
        file: path,
        last_seq,
        segment,
        bytes,
    }))
}
