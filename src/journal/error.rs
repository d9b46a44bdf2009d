//! The errors of the journal and snapshot store.

use std::io;
use std::path::PathBuf;

/// Why a journal or snapshot operation failed. Every variant names the file and, where
/// there is one, the byte offset and the sequence numbers concerned.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// An I/O operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"create"`, `"write"`, `"fdatasync"`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A damaged record that recovery cannot drop: valid records follow it, or it is in a
    /// segment other than the last, or its checksum is right but its content is not.
    /// Recovery refuses to start.
    #[error("corrupt journal record in {} at byte offset {offset}: {reason}", file.display())]
    Corrupt {
        /// The segment file.
        file: PathBuf,
        /// The byte offset of the record within the file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A record with a valid checksum carries the wrong sequence number: records must be
    /// numbered +1 each, and a segment's first record must carry the seq in its name.
    #[error(
        "journal record in {} at byte offset {offset} has seq {found}, expected {expected}",
        file.display()
    )]
    SeqMismatch {
        /// The segment file.
        file: PathBuf,
        /// The byte offset of the record.
        offset: u64,
        /// The seq that should come next.
        expected: u64,
        /// The seq the record carries.
        found: u64,
    },
    /// Records are missing between two segments (a deleted or lost segment), or before the
    /// first segment the journal still has.
    #[error(
        "journal gap: expected seq {expected}, but the next segment {} starts at seq {found} \
         (previous segment: {}); records {expected}..{found} are missing",
        after.display(),
        before.as_ref().map_or_else(|| "none".into(), |p| p.display().to_string())
    )]
    SeqGap {
        /// The segment before the gap, `None` when the gap is before the first segment.
        before: Option<PathBuf>,
        /// The segment after the gap.
        after: PathBuf,
        /// The seq that should have come next.
        expected: u64,
        /// The first seq of `after`.
        found: u64,
    },
    /// [`JournalWriter::append`](super::JournalWriter::append) was given an entry whose seq
    /// does not follow the last one.
    #[error("journal append out of order: expected seq {expected}, got {found}")]
    OutOfOrder {
        /// The seq that must come next.
        expected: u64,
        /// The seq given.
        found: u64,
    },
    /// [`JournalWriter::set_next_seq`](super::JournalWriter::set_next_seq) would number a
    /// record again, or was called with records still buffered.
    #[error("journal in {} cannot continue at seq {requested}: {reason}", dir.display())]
    BadNextSeq {
        /// The journal directory.
        dir: PathBuf,
        /// The seq asked for.
        requested: u64,
        /// Why not.
        reason: String,
    },
    /// A snapshot file is damaged or unreadable (a bad magic, version, length or checksum).
    #[error("bad snapshot {}: {reason}", file.display())]
    Snapshot {
        /// The snapshot file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A write failed earlier, so what is on disk after the last good commit is unknown:
    /// the writer refuses further work. Reopen the journal to recover.
    #[error("journal writer for {} failed earlier and accepts no more records", dir.display())]
    Poisoned {
        /// The journal directory.
        dir: PathBuf,
    },
    /// A configuration the journal cannot work with.
    #[error("invalid journal configuration: {0}")]
    Config(String),
    /// Another writer (or a recovery) holds the journal directory's lock: two writers
    /// would corrupt it.
    #[error(
        "journal directory {} is in use: another process holds its LOCK file (a journal has one writer at a time)",
        dir.display()
    )]
    Locked {
        /// The journal directory.
        dir: PathBuf,
    },
}

impl JournalError {
    /// An [`JournalError::Io`] for `op` on `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| JournalError::Io { op, path, source }
    }
}
