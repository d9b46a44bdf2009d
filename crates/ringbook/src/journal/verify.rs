//! `journal verify`: everything about a journal directory, read without changing
//! anything.

use std::fmt;
use std::path::{Path, PathBuf};

use super::closed::{CleanShutdown, read_marker};
use super::error::JournalError;
use super::mode::RecoveryMode;
use super::reader::{JournalReader, RecoveryReport, RecoveryWarning, Scan, SegmentScanner};
use super::record::RecordError;
use super::scan::list_segments;
use super::segment::SegmentHeaderProblem;
use super::snapshot::{list_snapshots, load_latest_snapshot, read_snapshot};

/// What is wrong inside one segment file, found by scanning it alone.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentProblem {
    /// The segment header is missing or damaged.
    Header(SegmentHeaderProblem),
    /// The bytes at `offset` are not a valid record (the scan of the segment stops there).
    BadRecord {
        /// The byte offset.
        offset: u64,
        /// The seq the record there should carry.
        expected_seq: u64,
        /// The bytes from `offset` to the end of the file.
        bytes_left: u64,
        /// What is wrong.
        reason: String,
    },
    /// A valid record carries the wrong seq.
    SeqMismatch {
        /// The byte offset.
        offset: u64,
        /// The seq expected there.
        expected: u64,
        /// The seq found.
        found: u64,
    },
}

impl fmt::Display for SegmentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SegmentProblem::Header(problem) => write!(f, "byte offset 0: {problem}"),
            SegmentProblem::BadRecord {
                offset,
                expected_seq,
                bytes_left,
                reason,
            } => write!(
                f,
                "byte offset {offset} (seq {expected_seq} expected): {reason} ({bytes_left} \
                 bytes from there to the end of the file)"
            ),
            SegmentProblem::SeqMismatch {
                offset,
                expected,
                found,
            } => write!(
                f,
                "byte offset {offset}: a record with seq {found}, expected {expected}"
            ),
        }
    }
}

/// One segment file, scanned alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentSummary {
    /// The file.
    pub file: PathBuf,
    /// Its length in bytes.
    pub bytes: u64,
    /// The first seq its name stands for.
    pub first_seq: u64,
    /// Valid records read before the first problem.
    pub records: u64,
    /// The seq of the last valid record, if any.
    pub last_seq: Option<u64>,
    /// The next segment's first seq, if the segment is sealed.
    pub sealed_next: Option<u64>,
    /// The first problem in the file, if any.
    pub problem: Option<SegmentProblem>,
}

/// One snapshot file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// The file.
    pub file: PathBuf,
    /// The seq its name stands for.
    pub last_seq: u64,
    /// Why it is invalid, if it is.
    pub problem: Option<String>,
}

/// What [`verify`] found.
#[derive(Debug)]
pub struct VerifyReport {
    /// Every segment, in seq order.
    pub segments: Vec<SegmentSummary>,
    /// Every snapshot, newest first.
    pub snapshots: Vec<SnapshotSummary>,
    /// The clean-shutdown marker, if there is one (`Err`: it does not parse).
    pub clean_shutdown: Result<Option<CleanShutdown>, JournalError>,
    /// Files ignored, snapshots skipped.
    pub warnings: Vec<RecoveryWarning>,
    /// The seq recovery would start after (the newest valid snapshot's; 0 without one).
    pub start_seq: u64,
    /// What recovery in the default mode ([`RecoveryMode::TolerateTornTail`]) would do:
    /// its report (warnings included: a torn tail it would truncate) or the error it
    /// would refuse to start with.
    pub default_mode: Result<RecoveryReport, JournalError>,
    /// When the default mode would refuse: what [`RecoveryMode::PointInTime`] would keep
    /// and set aside.
    pub point_in_time: Option<Result<RecoveryReport, JournalError>>,
}

impl VerifyReport {
    /// Whether recovery in the default mode would start without refusing and without
    /// dropping anything but an incomplete final record.
    #[must_use]
    pub fn recoverable(&self) -> bool {
        self.default_mode.is_ok()
    }
}

/// Examines the journal in `dir` without modifying, creating or locking anything: every
/// segment scanned alone, every snapshot checked, the clean-shutdown marker, and a dry run
/// of recovery in the default mode (and, when that would refuse, in point-in-time mode).
///
/// # Errors
///
/// [`JournalError::Io`] if `dir` is not a readable directory or a file cannot be read.
pub fn verify(dir: &Path) -> Result<VerifyReport, JournalError> {
    if !dir.is_dir() {
        return Err(JournalError::Io {
            op: "open directory",
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let (files, mut warnings) = list_segments(dir)?;
    let mut segments = Vec::with_capacity(files.len());
    for file in &files {
        segments.push(scan_segment(&file.path, file.first_seq)?);
    }
    let (listed, snapshot_warnings) = list_snapshots(dir)?;
    warnings.extend(snapshot_warnings);
    let snapshots = listed
        .into_iter()
        .map(|(last_seq, file)| SnapshotSummary {
            problem: read_snapshot(&file).err().map(|e| e.to_string()),
            file,
            last_seq,
        })
        .collect();
    let start_seq = load_latest_snapshot(dir)?
        .found
        .map_or(0, |(snapshot, _)| snapshot.last_seq);
    let dry_run = |mode| -> Result<RecoveryReport, JournalError> {
        let mut reader = JournalReader::open_in_mode(dir, start_seq, mode, false)?;
        while reader.next_entry()?.is_some() {}
        Ok(reader.into_report())
    };
    let default_mode = dry_run(RecoveryMode::TolerateTornTail);
    let point_in_time = default_mode
        .is_err()
        .then(|| dry_run(RecoveryMode::PointInTime));
    Ok(VerifyReport {
        segments,
        snapshots,
        clean_shutdown: read_marker(dir),
        warnings,
        start_seq,
        default_mode,
        point_in_time,
    })
}

/// Scans one segment alone, up to its first problem.
fn scan_segment(path: &Path, first_seq: u64) -> Result<SegmentSummary, JournalError> {
    let mut scanner = SegmentScanner::open(path)?;
    let mut summary = SegmentSummary {
        file: path.to_path_buf(),
        bytes: scanner.file_len,
        first_seq,
        records: 0,
        last_seq: None,
        sealed_next: None,
        problem: None,
    };
    if let Err(problem) = scanner.read_header(first_seq)? {
        summary.problem = Some(SegmentProblem::Header(problem));
        return Ok(summary);
    }
    let mut expected = first_seq;
    loop {
        match scanner.next()? {
            Scan::Record(entry, offset) => {
                if entry.seq != expected {
                    summary.problem = Some(SegmentProblem::SeqMismatch {
                        offset,
                        expected,
                        found: entry.seq,
                    });
                    break;
                }
                summary.records += 1;
                summary.last_seq = Some(entry.seq);
                expected = expected.saturating_add(1);
            }
            Scan::Seal(seal, _) => {
                summary.sealed_next = Some(seal.next_seq);
                if scanner.pos < scanner.file_len {
                    summary.problem = Some(SegmentProblem::BadRecord {
                        offset: scanner.pos,
                        expected_seq: expected,
                        bytes_left: scanner.file_len - scanner.pos,
                        reason: "bytes after the segment's seal".into(),
                    });
                }
                break;
            }
            Scan::End => break,
            Scan::Bad(offset, error) => {
                let reason = match &error {
                    RecordError::Truncated(r)
                    | RecordError::Damaged(r)
                    | RecordError::Invalid(r) => r.clone(),
                };
                summary.problem = Some(SegmentProblem::BadRecord {
                    offset,
                    expected_seq: expected,
                    bytes_left: scanner.file_len - offset,
                    reason,
                });
                break;
            }
        }
    }
    Ok(summary)
}
