//! What recovery found: the report, and the warnings about what it worked around.

use std::fmt;
use std::path::PathBuf;

/// Something recovery noticed and worked around. Never silent: every warning is in the
/// [`RecoveryReport`] (or the snapshot load's warnings), and should be logged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryWarning {
    /// The last segment ended in a damaged record with nothing valid after it: a write cut
    /// short by a crash. Everything from `offset` on was dropped.
    TornTail {
        /// The segment file.
        file: PathBuf,
        /// Where the damaged record starts: the file's new length.
        offset: u64,
        /// How many bytes were dropped.
        dropped_bytes: u64,
        /// What was wrong with the record.
        reason: String,
        /// Whether the file was truncated (`false` when read without repair).
        truncated: bool,
    },
    /// The journal ends before the snapshot recovery starts from: records after the
    /// journal's end were lost (not yet written to disk at the crash) but the snapshot
    /// holds their effect. The writer must continue at `snapshot_seq + 1`
    /// ([`JournalWriter::set_next_seq`](super::JournalWriter::set_next_seq)).
    JournalBehindSnapshot {
        /// The last seq the journal holds (0: none).
        journal_last_seq: u64,
        /// The seq recovery starts after.
        snapshot_seq: u64,
    },
    /// A snapshot file could not be used; an older one (or none) was used instead.
    SnapshotSkipped {
        /// The snapshot file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// [`RecoveryMode::PointInTime`](super::RecoveryMode::PointInTime): recovery stopped at `problem` and kept the journal
    /// up to `last_seq`; the bytes and segments after the cut were set aside.
    PointInTimeCut {
        /// What was found (the error the default mode would have returned).
        problem: String,
        /// The last seq kept.
        last_seq: u64,
        /// Where the journal now ends: the segment cut and the offset it was cut at, if one
        /// was cut.
        cut: Option<(PathBuf, u64)>,
        /// The files the cut bytes and the later segments were moved to (or, read-only,
        /// the files that would be set aside).
        set_aside: Vec<PathBuf>,
        /// Whether the files were changed (`false` when read without repair).
        applied: bool,
    },
    /// A file that looks like the store's but is not one it reads.
    IgnoredFile {
        /// The file.
        file: PathBuf,
        /// Why it was ignored.
        reason: String,
    },
}

impl fmt::Display for RecoveryWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryWarning::TornTail {
                file,
                offset,
                dropped_bytes,
                reason,
                truncated,
            } => write!(
                f,
                "torn tail in {} at byte offset {offset}: {reason}; {dropped_bytes} bytes {}",
                file.display(),
                if *truncated {
                    "truncated"
                } else {
                    "would be truncated"
                }
            ),
            RecoveryWarning::JournalBehindSnapshot {
                journal_last_seq,
                snapshot_seq,
            } => write!(
                f,
                "the journal ends at seq {journal_last_seq}, before the snapshot at seq \
                 {snapshot_seq}: records {}..={snapshot_seq} are only in the snapshot",
                journal_last_seq + 1
            ),
            RecoveryWarning::SnapshotSkipped { file, reason } => {
                write!(f, "snapshot {} skipped: {reason}", file.display())
            }
            RecoveryWarning::PointInTimeCut {
                problem,
                last_seq,
                cut,
                set_aside,
                applied,
            } => {
                write!(
                    f,
                    "point-in-time recovery {} the journal after seq {last_seq}",
                    if *applied { "cut" } else { "would cut" }
                )?;
                if let Some((file, offset)) = cut {
                    write!(f, " ({} at byte offset {offset})", file.display())?;
                }
                write!(f, " because: {problem}")?;
                for file in set_aside {
                    write!(
                        f,
                        "; {} {}",
                        if *applied {
                            "set aside"
                        } else {
                            "would set aside"
                        },
                        file.display()
                    )?;
                }
                Ok(())
            }
            RecoveryWarning::IgnoredFile { file, reason } => {
                write!(f, "ignored {}: {reason}", file.display())
            }
        }
    }
}

/// What reading the journal found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments read (validated).
    pub segments_read: usize,
    /// Segments not read because every record in them is at or before `after_seq` (the
    /// next segment starts at or before `after_seq + 1`).
    pub segments_skipped: usize,
    /// Valid records read, delivered or not.
    pub records_read: u64,
    /// Records delivered (seq after `after_seq`).
    pub entries_delivered: u64,
    /// The last seq the journal holds once read (0 for an empty journal): the writer
    /// continues at `last_seq + 1`. An empty last segment counts as holding the seqs
    /// before its name's.
    pub last_seq: u64,
    /// The last seq the clean-shutdown marker names, if the journal has one (its last
    /// writer closed it cleanly and no writer has opened it since).
    pub clean_shutdown: Option<u64>,
    /// Everything worked around, in the order found.
    pub warnings: Vec<RecoveryWarning>,
}
