//! The errors of the journal and snapshot store.

use std::io;
use std::path::PathBuf;

use super::segment::SegmentHeaderProblem;
use super::snapshot_problem::SnapshotProblem;

/// How to keep the valid records before a problem: appended to every error that means
/// complete records are damaged or lost.
pub const SALVAGE_HINT: &str = "to keep the valid records before it and cut the journal there, \
     recover in point-in-time mode (`ringbook recover --mode point-in-time`, \
     `--journal-recovery point-in-time`, or `RecoveryMode::PointInTime`); \
     `ringbook journal verify DIR` lists every problem without changing anything";

/// Why a journal or snapshot operation failed. Every variant names the file and, where
/// there is one, the byte offset and the sequence numbers concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    #[error(
        "corrupt journal record in {} at byte offset {offset}: {reason}; {SALVAGE_HINT}",
        file.display()
    )]
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
        "journal record in {} at byte offset {offset} has seq {found}, expected {expected}; \
         {SALVAGE_HINT}",
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
         (previous segment: {}); records {expected}..={} are missing; {SALVAGE_HINT}",
        after.display(),
        before.as_ref().map_or_else(|| "none".into(), |p| p.display().to_string()),
        found - 1
    )]
    SeqGap {
        /// The segment before the gap, `None` when the gap is before the first segment.
        before: Option<PathBuf>,
        /// The segment after the gap.
        after: PathBuf,
        /// The seq that should have come next.
        expected: u64,
        /// The first seq of `after` (greater than `expected`).
        found: u64,
    },
    /// A segment starts at a seq the segment before it already holds: two segments
    /// overlap (a segment copied in from another journal, or renamed).
    #[error(
        "overlapping journal segments: {} starts at seq {found}, but the previous segment {} \
         already holds seqs up to {}: seqs {found}..={} appear twice; {SALVAGE_HINT}",
        after.display(),
        before.display(),
        expected - 1,
        expected - 1
    )]
    SegmentOverlap {
        /// The segment before.
        before: PathBuf,
        /// The segment that starts too early.
        after: PathBuf,
        /// The seq that should have come next (one past `before`'s last record).
        expected: u64,
        /// The first seq of `after` (less than `expected`).
        found: u64,
    },
    /// The last segment was sealed (the writer moved on to a next segment), but that next
    /// segment is not there: it was deleted or lost whole, with every record in it.
    #[error(
        "journal segment {:020}.journal (seq {next_seq} on) is missing: {} was sealed at byte \
         offset {offset} naming it as the next segment, so records from seq {next_seq} on{} \
         are lost; {SALVAGE_HINT}",
        next_seq,
        sealed.display(),
        closed_last_seq.map_or_else(String::new, |last| format!(
            " (records {next_seq}..={last}: the journal was closed cleanly at seq {last})"
        ))
    )]
    MissingSegment {
        /// The sealed segment naming the missing one.
        sealed: PathBuf,
        /// The seal's byte offset in `sealed`.
        offset: u64,
        /// The first seq of the missing segment.
        next_seq: u64,
        /// The last seq of the journal, if a clean-shutdown marker says it.
        closed_last_seq: Option<u64>,
    },
    /// A segment file's header is missing or damaged (an emptied or overwritten file, a
    /// journal of another format): its records cannot be trusted or are gone.
    #[error("bad journal segment {}: {problem}; {SALVAGE_HINT}", file.display())]
    BadSegmentHeader {
        /// The segment file.
        file: PathBuf,
        /// What is wrong.
        problem: SegmentHeaderProblem,
    },
    /// The journal was closed cleanly at `closed_last_seq`, but ends before it: its last
    /// segment lost records (cut at a record boundary, emptied) after the shutdown.
    #[error(
        "the journal was closed cleanly at seq {closed_last_seq} (marker {}, last segment \
         {closed_segment}), but it ends at seq {journal_last_seq}: records \
         {}..={closed_last_seq} are missing; {SALVAGE_HINT}",
        marker.display(),
        journal_last_seq + 1
    )]
    RecordsMissing {
        /// The clean-shutdown marker file.
        marker: PathBuf,
        /// The last seq the marker says the journal held.
        closed_last_seq: u64,
        /// The last segment's name the marker gives.
        closed_segment: String,
        /// The last seq the journal holds.
        journal_last_seq: u64,
    },
    /// The journal holds records after the seq its clean-shutdown marker names: they were
    /// added by something other than this journal's writer.
    #[error(
        "the journal was closed cleanly at seq {closed_last_seq} (marker {}), but holds \
         records up to seq {journal_last_seq}: records {}..={journal_last_seq} were added \
         after it closed; {SALVAGE_HINT}",
        marker.display(),
        closed_last_seq + 1
    )]
    RecordsAfterShutdown {
        /// The clean-shutdown marker file.
        marker: PathBuf,
        /// The last seq the marker names.
        closed_last_seq: u64,
        /// The last seq the journal holds.
        journal_last_seq: u64,
    },
    /// The clean-shutdown marker does not parse.
    #[error(
        "bad clean-shutdown marker {}: line {line} does not parse; {SALVAGE_HINT}",
        file.display()
    )]
    BadCleanShutdownMarker {
        /// The marker file.
        file: PathBuf,
        /// The first line (from 1) that is wrong.
        line: usize,
    },
    /// [`RecoveryMode::AbsoluteConsistency`](super::RecoveryMode::AbsoluteConsistency):
    /// the last segment ends in an incomplete record, which the default mode would
    /// truncate.
    #[error(
        "torn tail in {} at byte offset {offset}: {reason} ({dropped_bytes} bytes); refused \
         in absolute-consistency mode, nothing changed (the default mode, \
         tolerate-torn-tail, truncates it)",
        file.display()
    )]
    TornTail {
        /// The segment file.
        file: PathBuf,
        /// Where the incomplete record starts.
        offset: u64,
        /// The bytes from there to the end of the file.
        dropped_bytes: u64,
        /// What is incomplete.
        reason: String,
    },
    /// [`RecoveryMode::AbsoluteConsistency`](super::RecoveryMode::AbsoluteConsistency):
    /// the journal ends before the snapshot recovery starts from.
    #[error(
        "the journal ends at seq {journal_last_seq}, before the snapshot at seq \
         {snapshot_seq}: records {}..={snapshot_seq} are missing from the journal; refused in \
         absolute-consistency mode (the other modes start from the snapshot)",
        journal_last_seq + 1
    )]
    JournalBehindSnapshot {
        /// The last seq the journal holds (0: none).
        journal_last_seq: u64,
        /// The snapshot's seq.
        snapshot_seq: u64,
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
        reason: NextSeqProblem,
    },
    /// A snapshot file is damaged or unreadable (a bad magic, version, length or checksum).
    #[error("bad snapshot {}: {problem}", file.display())]
    Snapshot {
        /// The snapshot file.
        file: PathBuf,
        /// What is wrong.
        problem: SnapshotProblem,
    },
    /// A write failed earlier, so what is on disk after the last good commit is unknown:
    /// the writer refuses further work. Reopen the journal to recover.
    #[error("journal writer for {} failed earlier and accepts no more records", dir.display())]
    Poisoned {
        /// The journal directory.
        dir: PathBuf,
    },
    /// A configuration value the journal cannot work with: the setting, the value given
    /// and the least it may be.
    #[error("invalid journal configuration: {setting} {value} is less than {min}")]
    Config {
        /// The setting (`segment_bytes`, or prune's `keep`).
        setting: &'static str,
        /// The value given.
        value: u64,
        /// The least allowed.
        min: u64,
    },
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

/// Why [`JournalWriter::set_next_seq`](super::JournalWriter::set_next_seq) cannot continue
/// the journal at the seq asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum NextSeqProblem {
    /// Records are buffered and not committed yet.
    #[error("records are buffered: commit them first")]
    Buffered,
    /// The seq asked for is the last there is: no record could follow it.
    #[error("seq {} leaves no seq after it", u64::MAX)]
    NoSeqAfter,
    /// The journal already holds the seq asked for (or it is 0).
    #[error("the journal already holds seqs up to {last_seq}")]
    AlreadyHeld {
        /// The last seq the journal holds.
        last_seq: u64,
    },
}

impl JournalError {
    /// An [`JournalError::Io`] for `op` on `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| JournalError::Io { op, path, source }
    }
}
