//! Reading the journal back: validation, torn-tail repair, and the recovery report.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::error::JournalError;
use super::record::JournalEntry;
use super::record::{MIN_PAYLOAD_LEN, RECORD_HEADER_LEN, RecordError, RecordHeader, decode_record};

/// The suffix of segment files.
pub(crate) const SEGMENT_SUFFIX: &str = ".journal";

/// How many bytes the scanner reads at a time.
const CHUNK: usize = 256 * 1024;

/// The file name of the segment whose first record is `first_seq`: 20 zero-padded
/// digits, so names sort in seq order.
pub(crate) fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}{SEGMENT_SUFFIX}")
}

/// The first seq a segment file name stands for, if it is a segment name.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One segment file of a journal directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentFile {
    pub(crate) path: PathBuf,
    pub(crate) first_seq: u64,
}

/// The segments of `dir`, in seq order, and warnings about `*.journal` files whose names
/// are not segment names. A missing directory is an empty journal.
pub(crate) fn list_segments(
    dir: &Path,
) -> Result<(Vec<SegmentFile>, Vec<RecoveryWarning>), JournalError> {
    let mut segments = Vec::new();
    let mut warnings = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((segments, warnings)),
        Err(e) => return Err(JournalError::io("list", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(JournalError::io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.ends_with(SEGMENT_SUFFIX) {
            continue;
        }
        match parse_segment_name(name) {
            Some(first_seq) => segments.push(SegmentFile {
                path: entry.path(),
                first_seq,
            }),
            None => warnings.push(RecoveryWarning::IgnoredFile {
                file: entry.path(),
                reason: "not a segment name (20 digits, then .journal)".into(),
            }),
        }
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok((segments, warnings))
}

/// Something recovery noticed and worked around. Never silent: every warning is in the
/// [`RecoveryReport`] (or the snapshot load's warnings), and should be logged.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Everything worked around, in the order found.
    pub warnings: Vec<RecoveryWarning>,
}

/// A record scanned from a segment.
pub(crate) enum Scan {
    /// A valid record at `offset`.
    Record(JournalEntry, u64),
    /// The clean end of the file.
    End,
    /// A bad record at `offset`; the scanner stays there.
    Bad(u64, RecordError),
}

/// Reads one segment record by record through a bounded window.
pub(crate) struct SegmentScanner {
    pub(crate) path: PathBuf,
    file: File,
    pub(crate) file_len: u64,
    buf: Vec<u8>,
    /// The index in `buf` of the current position.
    start: usize,
    /// The file offset of the current position.
    pos: u64,
    eof: bool,
}

impl SegmentScanner {
    pub(crate) fn open(path: &Path) -> Result<SegmentScanner, JournalError> {
        let file = File::open(path).map_err(JournalError::io("open", path))?;
        let file_len = file
            .metadata()
            .map_err(JournalError::io("stat", path))?
            .len();
        Ok(SegmentScanner {
            path: path.to_path_buf(),
            file,
            file_len,
            buf: Vec::with_capacity(CHUNK.min(file_len as usize + 1)),
            start: 0,
            pos: 0,
            eof: false,
        })
    }

    /// Makes at least `n` bytes available from the current position, unless the file ends
    /// first; returns how many are available.
    fn fill(&mut self, n: usize) -> Result<usize, JournalError> {
        while self.buf.len() - self.start < n && !self.eof {
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let len = self.buf.len();
            self.buf.resize(len + CHUNK.max(n), 0);
            let read = loop {
                match self.file.read(&mut self.buf[len..]) {
                    Ok(read) => break read,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(len);
                        return Err(JournalError::io("read", &self.path)(e));
                    }
                }
            };
            self.buf.truncate(len + read);
            self.eof = read == 0;
        }
        Ok(self.buf.len() - self.start)
    }

    fn advance(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    /// The record at the current position; moves past it if it is valid.
    pub(crate) fn next(&mut self) -> Result<Scan, JournalError> {
        let offset = self.pos;
        let available = self.fill(RECORD_HEADER_LEN)?;
        if available == 0 {
            return Ok(Scan::End);
        }
        if available >= RECORD_HEADER_LEN {
            let header = RecordHeader::parse(&self.buf[self.start..]);
            if header.plausible_len() {
                self.fill(RECORD_HEADER_LEN + header.len as usize)?;
            }
        }
        match decode_record(&self.buf[self.start..]) {
            Ok((entry, len)) => {
                self.advance(len);
                Ok(Scan::Record(entry, offset))
            }
            Err(e) => Ok(Scan::Bad(offset, e)),
        }
    }

    /// Looks for a record with a valid CRC that starts after the current position (at a
    /// bad record): its offset and seq. Moves the scanner.
    pub(crate) fn find_valid_after(&mut self) -> Result<Option<(u64, u64)>, JournalError> {
        let min = RECORD_HEADER_LEN + MIN_PAYLOAD_LEN as usize;
        loop {
            if self.fill(1)? == 0 {
                return Ok(None);
            }
            self.advance(1);
            if self.fill(min)? < min {
                return Ok(None);
            }
            let header = RecordHeader::parse(&self.buf[self.start..]);
            if !header.plausible_len() {
                continue;
            }
            self.fill(RECORD_HEADER_LEN + header.len as usize)?;
            match decode_record(&self.buf[self.start..]) {
                Ok((entry, _)) => return Ok(Some((self.pos, entry.seq))),
                Err(RecordError::Invalid(_)) => return Ok(Some((self.pos, header.seq))),
                Err(_) => continue,
            }
        }
    }
}

/// Reads a journal directory in seq order, validating every record, streaming: one
/// segment's window in memory at a time.
///
/// Use it as an iterator of `Result<JournalEntry, JournalError>` (it stops after the first
/// error), or call [`JournalReader::next_entry`]; then take the [`RecoveryReport`].
///
/// Validation:
///
/// - every record's length and CRC;
/// - seqs strictly consecutive (+1) across records and segments, and each segment's first
///   record carries the seq in its file name: a missing segment is a
///   [`JournalError::SeqGap`] naming the segments around the gap;
/// - a damaged record at the very end of the last segment, with no valid record after it,
///   is a torn tail: it is truncated from the file (with [`JournalReader::open`]; not with
///   [`JournalReader::open_read_only`]) and reported as a [`RecoveryWarning::TornTail`];
/// - any other damaged record (valid records follow it, or it is in an earlier segment, or
///   its CRC is right but its content is not) is a [`JournalError::Corrupt`] naming the
///   file and byte offset: recovery must refuse to start.
///
/// Segments wholly at or before `after_seq` are not read (a snapshot covers them).
///
/// # Examples
///
/// ```
/// use ringbook::journal::{JournalConfig, JournalEntry, JournalReader, JournalWriter};
/// use ringbook::{Command, Uuid};
///
/// let dir = std::env::temp_dir().join(format!("ringbook-doc-reader-{}", std::process::id()));
/// let mut writer = JournalWriter::open(&dir, JournalConfig::default())?;
/// for seq in 1..=3 {
///     let command = Command::Status { instrument_id: Uuid::from_u128(1) };
///     writer.append(&JournalEntry::apply(seq, 0, command))?;
/// }
/// writer.commit_batch()?;
///
/// let mut reader = JournalReader::open(&dir, 1)?;
/// let seqs: Vec<u64> = reader.by_ref().map(|e| e.map(|e| e.seq)).collect::<Result<_, _>>()?;
/// assert_eq!(seqs, [2, 3]);
/// assert_eq!(reader.report().last_seq, 3);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), ringbook::journal::JournalError>(())
/// ```
pub struct JournalReader {
    after_seq: u64,
    repair: bool,
    warn_behind: bool,
    segments: Vec<SegmentFile>,
    /// The next segment to open.
    next_segment: usize,
    /// The segment being read, and its index.
    scanner: Option<(SegmentScanner, usize)>,
    /// The seq the next record must carry, once a segment has been opened.
    expected: Option<u64>,
    report: RecoveryReport,
    finished: bool,
}

impl JournalReader {
    /// Opens the journal in `dir` for recovery: entries after `after_seq` are delivered,
    /// and a torn tail is truncated. A missing directory is an empty journal.
    ///
    /// Run it before any [`JournalWriter`](super::JournalWriter) writes to `dir`: a record
    /// half-written by a live writer looks like a torn tail. Use
    /// [`JournalReader::open_read_only`] to look at a journal in use.
    ///
    /// # Errors
    ///
    /// [`JournalError::Io`] if the directory cannot be listed; [`JournalError::SeqGap`] if
    /// the journal's first segment starts after `after_seq + 1` (records missing before it).
    pub fn open(dir: &Path, after_seq: u64) -> Result<JournalReader, JournalError> {
        JournalReader::new(dir, after_seq, true)
    }

    /// Like [`JournalReader::open`], but never modifies a file: a torn tail is reported
    /// (`truncated: false`) and left in place.
    ///
    /// # Errors
    ///
    /// As [`JournalReader::open`].
    pub fn open_read_only(dir: &Path, after_seq: u64) -> Result<JournalReader, JournalError> {
        JournalReader::new(dir, after_seq, false)
    }

    fn new(dir: &Path, after_seq: u64, repair: bool) -> Result<JournalReader, JournalError> {
        let (segments, warnings) = list_segments(dir)?;
        let first = match segments
            .iter()
            .rposition(|s| s.first_seq <= after_seq.saturating_add(1))
        {
            Some(first) => first,
            None if segments.is_empty() => 0,
            None => {
                return Err(JournalError::SeqGap {
                    before: None,
                    after: segments[0].path.clone(),
                    expected: after_seq + 1,
                    found: segments[0].first_seq,
                });
            }
        };
        Ok(JournalReader {
            after_seq,
            repair,
            warn_behind: true,
            next_segment: first,
            scanner: None,
            expected: None,
            report: RecoveryReport {
                segments_skipped: first,
                warnings,
                ..RecoveryReport::default()
            },
            segments,
            finished: false,
        })
    }

    /// A reader of the last segment only, delivering nothing: what the writer runs to find
    /// where to continue.
    pub(crate) fn last_segment(
        dir: &Path,
    ) -> Result<(JournalReader, Option<SegmentFile>), JournalError> {
        let mut reader = JournalReader::new(dir, u64::MAX, true)?;
        reader.warn_behind = false;
        reader.next_segment = reader.segments.len().saturating_sub(1);
        reader.report.segments_skipped = reader.next_segment;
        let last = reader.segments.last().cloned();
        Ok((reader, last))
    }

    /// The next entry after `after_seq`, `Ok(None)` at the end of the journal.
    ///
    /// # Errors
    ///
    /// The first problem found that recovery cannot work around; see [`JournalReader`].
    /// After an error the reader delivers nothing more.
    pub fn next_entry(&mut self) -> Result<Option<JournalEntry>, JournalError> {
        let result = self.advance();
        if result.is_err() {
            self.finished = true;
            self.scanner = None;
        }
        result
    }

    fn advance(&mut self) -> Result<Option<JournalEntry>, JournalError> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let Some((scanner, index)) = self.scanner.as_mut() else {
                self.open_next_segment()?;
                continue;
            };
            let index = *index;
            let expected = self.expected.expect("set when the segment opened");
            match scanner.next()? {
                Scan::Record(entry, offset) => {
                    if entry.seq != expected {
                        return Err(JournalError::SeqMismatch {
                            file: scanner.path.clone(),
                            offset,
                            expected,
                            found: entry.seq,
                        });
                    }
                    self.expected = Some(expected + 1);
                    self.report.records_read += 1;
                    self.report.last_seq = entry.seq;
                    if entry.seq > self.after_seq {
                        self.report.entries_delivered += 1;
                        return Ok(Some(entry));
                    }
                }
                Scan::End => self.scanner = None,
                Scan::Bad(offset, error) => {
                    let last = index + 1 == self.segments.len();
                    let reason = error.reason().to_string();
                    if let RecordError::Invalid(_) = error {
                        return Err(JournalError::Corrupt {
                            file: scanner.path.clone(),
                            offset,
                            reason: format!("{reason} (its CRC is valid: not a torn write)"),
                        });
                    }
                    if !last {
                        return Err(JournalError::Corrupt {
                            file: scanner.path.clone(),
                            offset,
                            reason: format!(
                                "{reason}; the segment is not the last, so this is not a torn \
                                 tail"
                            ),
                        });
                    }
                    if let Some((at, seq)) = scanner.find_valid_after()? {
                        return Err(JournalError::Corrupt {
                            file: scanner.path.clone(),
                            offset,
                            reason: format!(
                                "{reason}; a valid record (seq {seq}) follows at byte offset \
                                 {at}, so this is not a torn tail"
                            ),
                        });
                    }
                    let file = scanner.path.clone();
                    let dropped_bytes = scanner.file_len - offset;
                    self.scanner = None;
                    if self.repair {
                        truncate(&file, offset)?;
                    }
                    self.report.warnings.push(RecoveryWarning::TornTail {
                        file,
                        offset,
                        dropped_bytes,
                        reason,
                        truncated: self.repair,
                    });
                }
            }
        }
    }

    fn open_next_segment(&mut self) -> Result<(), JournalError> {
        let Some(segment) = self.segments.get(self.next_segment) else {
            self.finish();
            return Ok(());
        };
        if let Some(expected) = self.expected
            && segment.first_seq != expected
        {
            return Err(JournalError::SeqGap {
                before: Some(self.segments[self.next_segment - 1].path.clone()),
                after: segment.path.clone(),
                expected,
                found: segment.first_seq,
            });
        }
        self.expected = Some(segment.first_seq);
        self.report.last_seq = segment.first_seq.saturating_sub(1);
        self.scanner = Some((SegmentScanner::open(&segment.path)?, self.next_segment));
        self.report.segments_read += 1;
        self.next_segment += 1;
        Ok(())
    }

    fn finish(&mut self) {
        self.finished = true;
        if self.warn_behind && self.report.last_seq < self.after_seq {
            self.report
                .warnings
                .push(RecoveryWarning::JournalBehindSnapshot {
                    journal_last_seq: self.report.last_seq,
                    snapshot_seq: self.after_seq,
                });
        }
    }

    /// What has been found so far; complete once [`JournalReader::next_entry`] returned
    /// `Ok(None)`.
    pub fn report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The report, consuming the reader.
    pub fn into_report(self) -> RecoveryReport {
        self.report
    }
}

impl Iterator for JournalReader {
    type Item = Result<JournalEntry, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

impl fmt::Debug for JournalReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalReader")
            .field("after_seq", &self.after_seq)
            .field("repair", &self.repair)
            .field("segments", &self.segments.len())
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// Cuts `file` to `len` bytes and makes that durable.
fn truncate(file: &Path, len: u64) -> Result<(), JournalError> {
    let handle = OpenOptions::new()
        .write(true)
        .open(file)
        .map_err(JournalError::io("open for truncation", file))?;
    handle
        .set_len(len)
        .map_err(JournalError::io("truncate", file))?;
    handle.sync_all().map_err(JournalError::io("fsync", file))
}

/// Calls `f` with every entry after `after_seq`, in seq order, streaming; truncates a torn
/// tail. See [`JournalReader`] for what is validated.
///
/// # Errors
///
/// The first problem recovery cannot work around ([`JournalError::Corrupt`],
/// [`JournalError::SeqGap`], [`JournalError::SeqMismatch`], [`JournalError::Io`]); the
/// entries before it have been given to `f`.
pub fn for_each_entry(
    dir: &Path,
    after_seq: u64,
    mut f: impl FnMut(JournalEntry),
) -> Result<RecoveryReport, JournalError> {
    let mut reader = JournalReader::open(dir, after_seq)?;
    while let Some(entry) = reader.next_entry()? {
        f(entry);
    }
    Ok(reader.into_report())
}

/// Every entry after `after_seq`, collected, and the report; truncates a torn tail. For
/// tests and small journals: recovery should stream with [`for_each_entry`] or
/// [`JournalReader`].
///
/// # Errors
///
/// As [`for_each_entry`].
pub fn read_journal(
    dir: &Path,
    after_seq: u64,
) -> Result<(Vec<JournalEntry>, RecoveryReport), JournalError> {
    let mut entries = Vec::new();
    let report = for_each_entry(dir, after_seq, |e| entries.push(e))?;
    Ok((entries, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_sort_and_parse() {
        assert_eq!(segment_name(1), "00000000000000000001.journal");
        assert_eq!(segment_name(u64::MAX), "18446744073709551615.journal");
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        assert_eq!(parse_segment_name("1.journal"), None);
        assert_eq!(parse_segment_name("0000000000000000000x.journal"), None);
        assert_eq!(parse_segment_name("00000000000000000001.snap"), None);
        assert_eq!(parse_segment_name("99999999999999999999.journal"), None);
        assert!(segment_name(9) < segment_name(10));
    }
}
