//! Reading the journal back: validation, and what each recovery mode does with damage.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::closed::{CleanShutdown, read_marker, remove_marker};
use super::error::{JournalError, SALVAGE_HINT};
use super::mode::RecoveryMode;
use super::record::{JournalEntry, RecordError};
use super::repair::{save_tail, truncate, unused_name};
pub use super::report::{RecoveryReport, RecoveryWarning};
pub(crate) use super::scan::{
    Scan, SegmentFile, SegmentScanner, Tail, list_segments, segment_name, trailing_seal,
};
use super::writer::sync_dir;

/// Reads a journal directory in seq order, validating every record, streaming: one
/// segment's window in memory at a time.
///
/// Use it as an iterator of `Result<JournalEntry, JournalError>` (it stops after the first
/// error), or call [`JournalReader::next_entry`]; then take the [`RecoveryReport`].
///
/// Validation:
///
/// - every segment's header, every record's length and CRC, every seal;
/// - seqs strictly consecutive (+1) across records and segments, and each segment's first
///   record carries the seq in its file name: a missing segment is a
///   [`JournalError::SeqGap`] naming the segments around the gap, an overlapping one a
///   [`JournalError::SegmentOverlap`];
/// - a last segment that is sealed (its writer moved on) must have its successor: a
///   [`JournalError::MissingSegment`] otherwise;
/// - a clean-shutdown marker ([`CLOSED_FILE`](super::CLOSED_FILE)) names the last seq:
///   a journal that ends before it is a [`JournalError::RecordsMissing`];
/// - an incomplete record at the very end of the last segment, with nothing valid after
///   it, is a torn tail: it is truncated from the file (with [`JournalReader::open`]; not
///   with [`JournalReader::open_read_only`]) and reported as a
///   [`RecoveryWarning::TornTail`];
/// - any other damaged record (a complete record failing its CRC, valid records after it,
///   or in an earlier segment, or its CRC right but its content not) is a
///   [`JournalError::Corrupt`] naming the file and byte offset: recovery must refuse to
///   start.
///
/// What happens then depends on the [`RecoveryMode`] (the default,
/// [`RecoveryMode::TolerateTornTail`], is as above).
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
    dir: PathBuf,
    after_seq: u64,
    repair: bool,
    mode: RecoveryMode,
    warn_behind: bool,
    segments: Vec<SegmentFile>,
    /// The next segment to open.
    next_segment: usize,
    /// The segment being read, and its index.
    scanner: Option<(SegmentScanner, usize)>,
    /// The seq the next record must carry, once a segment has been opened.
    expected: Option<u64>,
    /// The last segment finished, if it ended in a seal: its file, the seal's offset and
    /// the next segment it names.
    sealed: Option<(PathBuf, u64, u64)>,
    /// The clean-shutdown marker, or why it could not be read.
    marker: Result<Option<CleanShutdown>, Option<JournalError>>,
    report: RecoveryReport,
    finished: bool,
}

/// Where a point-in-time recovery cuts the journal.
struct Cut {
    /// The segment to truncate and the offset to cut it at.
    truncate: Option<(PathBuf, u64)>,
    /// The index of the first segment to set aside whole.
    discard_from: usize,
}

impl JournalReader {
    /// Opens the journal in `dir` for recovery in the default mode
    /// ([`RecoveryMode::TolerateTornTail`]): entries after `after_seq` are delivered, and
    /// a torn tail is truncated. A missing directory is an empty journal.
    ///
    /// Run it before any [`JournalWriter`](super::JournalWriter) writes to `dir`: a record
    /// half-written by a live writer looks like a torn tail. Use
    /// [`JournalReader::open_read_only`] to look at a journal in use.
    ///
    /// # Errors
    ///
    /// [`JournalError::Io`] if the directory cannot be listed. Damage is reported by
    /// [`JournalReader::next_entry`].
    pub fn open(dir: &Path, after_seq: u64) -> Result<JournalReader, JournalError> {
        JournalReader::new(dir, after_seq, RecoveryMode::default(), true)
    }

    /// Like [`JournalReader::open`], but never modifies a file: a torn tail is reported
    /// (`truncated: false`) and left in place.
    ///
    /// # Errors
    ///
    /// As [`JournalReader::open`].
    pub fn open_read_only(dir: &Path, after_seq: u64) -> Result<JournalReader, JournalError> {
        JournalReader::new(dir, after_seq, RecoveryMode::default(), false)
    }

    /// Opens the journal in `dir` for recovery in `mode`; with `repair: false` nothing is
    /// modified (what would be truncated or set aside is only reported).
    ///
    /// # Errors
    ///
    /// As [`JournalReader::open`].
    pub fn open_in_mode(
        dir: &Path,
        after_seq: u64,
        mode: RecoveryMode,
        repair: bool,
    ) -> Result<JournalReader, JournalError> {
        JournalReader::new(dir, after_seq, mode, repair)
    }

    fn new(
        dir: &Path,
        after_seq: u64,
        mode: RecoveryMode,
        repair: bool,
    ) -> Result<JournalReader, JournalError> {
        let (segments, warnings) = list_segments(dir)?;
        let marker = match read_marker(dir) {
            Ok(marker) => Ok(marker),
            Err(e @ JournalError::BadCleanShutdownMarker { .. }) => Err(Some(e)),
            Err(e) => return Err(e),
        };
        let (first, expected) = match segments
            .iter()
            .rposition(|s| s.first_seq <= after_seq.saturating_add(1))
        {
            Some(first) => (first, None),
            None if segments.is_empty() => (0, None),
            // Records are missing before the first segment: opening it reports the gap.
            None => (0, Some(after_seq + 1)),
        };
        Ok(JournalReader {
            dir: dir.to_path_buf(),
            after_seq,
            repair,
            mode,
            warn_behind: true,
            next_segment: first,
            scanner: None,
            expected,
            sealed: None,
            report: RecoveryReport {
                segments_skipped: first,
                clean_shutdown: marker
                    .as_ref()
                    .ok()
                    .and_then(|m| m.as_ref().map(|m| m.last_seq)),
                warnings,
                ..RecoveryReport::default()
            },
            marker,
            segments,
            finished: false,
        })
    }

    /// A reader of the last segment only, delivering nothing: what the writer runs to find
    /// where to continue.
    pub(crate) fn last_segment(
        dir: &Path,
    ) -> Result<(JournalReader, Option<SegmentFile>), JournalError> {
        let mut reader = JournalReader::new(dir, u64::MAX, RecoveryMode::default(), true)?;
        reader.warn_behind = false;
        reader.expected = None;
        reader.next_segment = reader.segments.len().saturating_sub(1);
        reader.report.segments_skipped = reader.next_segment;
        let last = reader.segments.last().cloned();
        Ok((reader, last))
    }

    /// The next entry after `after_seq`, `Ok(None)` at the end of the journal.
    ///
    /// # Errors
    ///
    /// The first problem found that the [`RecoveryMode`] does not work around; see
    /// [`JournalReader`]. After an error the reader delivers nothing more.
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
                        let error = JournalError::SeqMismatch {
                            file: scanner.path.clone(),
                            offset,
                            expected,
                            found: entry.seq,
                        };
                        let cut = self.cut_at(index, offset);
                        self.problem(error, cut)?;
                        continue;
                    }
                    // Seqs run up to u64::MAX - 1: a record at u64::MAX would leave the
                    // engine no seq to number its next command with (the writer never
                    // writes one).
                    let Some(next) = expected.checked_add(1) else {
                        let error = JournalError::Corrupt {
                            file: scanner.path.clone(),
                            offset,
                            reason: format!("seq {expected} leaves no seq for a next record"),
                        };
                        let cut = self.cut_at(index, offset);
                        self.problem(error, cut)?;
                        continue;
                    };
                    self.expected = Some(next);
                    self.report.records_read += 1;
                    self.report.last_seq = entry.seq;
                    if entry.seq > self.after_seq {
                        self.report.entries_delivered += 1;
                        return Ok(Some(entry));
                    }
                }
                Scan::Seal(seal, offset) => {
                    let file = scanner.path.clone();
                    let trailing = scanner.file_len - scanner.pos;
                    let reason = if seal.last_seq != expected.saturating_sub(1) {
                        Some(format!(
                            "the segment's seal names seq {} as its last record, but its last \
                             record is seq {}",
                            seal.last_seq,
                            expected.saturating_sub(1)
                        ))
                    } else if seal.next_seq < expected {
                        Some(format!(
                            "the segment's seal names seq {} as the next segment's first, \
                             before its own last record (seq {})",
                            seal.next_seq,
                            expected.saturating_sub(1)
                        ))
                    } else if trailing > 0 {
                        Some(format!("{trailing} bytes follow the segment's seal"))
                    } else {
                        None
                    };
                    if let Some(reason) = reason {
                        let cut = self.cut_at(index, offset);
                        self.problem(
                            JournalError::Corrupt {
                                file,
                                offset,
                                reason,
                            },
                            cut,
                        )?;
                        continue;
                    }
                    self.scanner = None;
                    self.sealed = Some((file, offset, seal.next_seq));
                }
                Scan::End => {
                    self.scanner = None;
                    self.sealed = None;
                }
                Scan::Bad(offset, error) => self.bad_record(index, offset, error)?,
            }
        }
    }

    /// A bad record at `offset` of segment `index`: a torn tail, or a problem.
    fn bad_record(
        &mut self,
        index: usize,
        offset: u64,
        error: RecordError,
    ) -> Result<(), JournalError> {
        let expected = self.expected.expect("set when the segment opened");
        let (scanner, _) = self.scanner.as_mut().expect("a segment is being read");
        let file = scanner.path.clone();
        let reason = error.reason().to_string();
        let last = index + 1 == self.segments.len();
        // A crash while the writer rotated: the next segment was created (header only) but
        // this one's seal was not completely written.
        let rotating = index + 2 == self.segments.len()
            && fs::metadata(&self.segments[index + 1].path)
                .is_ok_and(|m| m.len() == super::segment::SEGMENT_HEADER_LEN as u64);
        let corrupt = |reason: String| JournalError::Corrupt {
            file: file.clone(),
            offset,
            reason,
        };
        let closed_at = match &self.marker {
            Ok(Some(marker)) if marker.last_seq >= expected => Some(marker.last_seq),
            _ => None,
        };
        let problem = if let RecordError::Invalid(_) = error {
            Some(corrupt(format!(
                "{reason} (its CRC is valid: not a torn write)"
            )))
        } else if !last && !rotating {
            Some(corrupt(format!(
                "{reason}; the segment is not the last, so this is not a torn tail"
            )))
        } else if let Some(closed_at) = closed_at {
            Some(corrupt(format!(
                "{reason}; the journal was closed cleanly at seq {closed_at}, so record seq \
                 {expected} was complete: it was damaged or cut after it was written, so this \
                 is not a torn tail"
            )))
        } else if scanner.classify_tail(expected)? == Tail::Damaged {
            Some(corrupt(format!(
                "{reason}; a complete record (seq {expected} expected here) that fails its \
                 check was damaged after it was written, so this is not a torn tail"
            )))
        } else if let Some((at, seq)) = scanner.find_valid_after()? {
            Some(corrupt(format!(
                "{reason}; a valid record (seq {seq}) follows at byte offset {at}, so this is \
                 not a torn tail"
            )))
        } else {
            None
        };
        if let Some(problem) = problem {
            let cut = self.cut_at(index, offset);
            return self.problem(problem, cut);
        }
        let (scanner, _) = self.scanner.take().expect("a segment is being read");
        let dropped_bytes = scanner.file_len - offset;
        drop(scanner);
        let reason = format!(
            "{reason}; an incomplete write of the record after seq {} (a crash mid-write)",
            expected.saturating_sub(1)
        );
        if self.mode == RecoveryMode::AbsoluteConsistency {
            return Err(JournalError::TornTail {
                file,
                offset,
                dropped_bytes,
                reason,
            });
        }
        if self.repair {
            truncate(&file, offset)?;
        }
        self.sealed = None;
        self.report.warnings.push(RecoveryWarning::TornTail {
            file,
            offset,
            dropped_bytes,
            reason,
            truncated: self.repair,
        });
        Ok(())
    }

    /// The cut for a problem at `offset` in segment `index`: truncate it there, set aside
    /// the segments after it.
    fn cut_at(&self, index: usize, offset: u64) -> Cut {
        Cut {
            truncate: Some((self.segments[index].path.clone(), offset)),
            discard_from: index + 1,
        }
    }

    /// The cut for a problem with segment `index` itself (or, `index` past the last, with
    /// the end of the journal): set it and the later ones aside, and remove the seal of the
    /// segment before so the journal ends there.
    fn cut_before(&self, index: usize) -> Result<Cut, JournalError> {
        let truncate = match &self.sealed {
            Some((file, offset, _)) => Some((file.clone(), *offset)),
            // The segment before was not read (a snapshot covers it): look at its end.
            None if index > 0 && self.report.segments_read == 0 => {
                let before = &self.segments[index - 1].path;
                trailing_seal(before)?.map(|offset| (before.clone(), offset))
            }
            None => None,
        };
        Ok(Cut {
            truncate,
            discard_from: index,
        })
    }

    /// Returns `error`, unless the mode is point-in-time: then cuts the journal at `cut`
    /// (when repairing), reports it, and ends the journal there.
    fn problem(&mut self, error: JournalError, cut: Cut) -> Result<(), JournalError> {
        if self.mode != RecoveryMode::PointInTime {
            return Err(error);
        }
        self.scanner = None;
        let mut set_aside = Vec::new();
        if let Some((file, offset)) = &cut.truncate {
            let len = fs::metadata(file)
                .map_err(JournalError::io("stat", file))?
                .len();
            if len > *offset {
                let saved = unused_name(&PathBuf::from(format!(
                    "{}.cut-at-{offset}",
                    file.display()
                )));
                if self.repair {
                    save_tail(file, *offset, &saved)?;
                    truncate(file, *offset)?;
                }
                set_aside.push(saved);
            }
        }
        for segment in self.segments.get(cut.discard_from..).unwrap_or_default() {
            let to = unused_name(&PathBuf::from(format!(
                "{}.discarded",
                segment.path.display()
            )));
            if self.repair {
                fs::rename(&segment.path, &to)
                    .map_err(JournalError::io("rename", &segment.path))?;
            }
            set_aside.push(to);
        }
        if self.repair {
            // The journal ends elsewhere now: a marker naming the old end would be wrong.
            remove_marker(&self.dir)?;
            sync_dir(&self.dir)?;
        }
        self.marker = Ok(None);
        self.report.clean_shutdown = None;
        self.report.warnings.push(RecoveryWarning::PointInTimeCut {
            problem: error
                .to_string()
                .trim_end_matches(SALVAGE_HINT)
                .trim_end_matches("; ")
                .to_string(),
            last_seq: self.report.last_seq,
            cut: cut.truncate,
            set_aside,
            applied: self.repair,
        });
        self.sealed = None;
        self.next_segment = self.segments.len();
        self.finish_checks()?;
        self.finished = true;
        Ok(())
    }

    fn open_next_segment(&mut self) -> Result<(), JournalError> {
        if self.expected.is_none()
            && self.next_segment > 0
            && let Some(segment) = self.segments.get(self.next_segment)
        {
            // The segments before this first one read hold the seqs before its name's.
            self.report.last_seq = segment.first_seq.saturating_sub(1);
        }
        let Some(segment) = self.segments.get(self.next_segment).cloned() else {
            if let Some((sealed, offset, next_seq)) = self.sealed.clone() {
                let error = JournalError::MissingSegment {
                    sealed,
                    offset,
                    next_seq,
                    closed_last_seq: self.report.clean_shutdown,
                };
                let cut = self.cut_before(self.segments.len())?;
                return self.problem(error, cut);
            }
            self.finish_checks()?;
            self.finished = true;
            return Ok(());
        };
        if let Some(expected) = self.expected
            && segment.first_seq != expected
        {
            let before = self
                .next_segment
                .checked_sub(1)
                .map(|i| self.segments[i].path.clone());
            let error = match before {
                Some(before) if segment.first_seq < expected => JournalError::SegmentOverlap {
                    before,
                    after: segment.path.clone(),
                    expected,
                    found: segment.first_seq,
                },
                before => JournalError::SeqGap {
                    before,
                    after: segment.path.clone(),
                    expected,
                    found: segment.first_seq,
                },
            };
            let cut = self.cut_before(self.next_segment)?;
            return self.problem(error, cut);
        }
        let mut scanner = SegmentScanner::open(&segment.path)?;
        if let Err(problem) = scanner.read_header(segment.first_seq)? {
            let error = JournalError::BadSegmentHeader {
                file: segment.path.clone(),
                problem,
            };
            let cut = self.cut_before(self.next_segment)?;
            return self.problem(error, cut);
        }
        self.expected = Some(segment.first_seq);
        self.report.last_seq = segment.first_seq.saturating_sub(1);
        self.scanner = Some((scanner, self.next_segment));
        self.report.segments_read += 1;
        self.next_segment += 1;
        Ok(())
    }

    /// The checks at the end of the journal: its clean-shutdown marker, the snapshot it
    /// must reach.
    fn finish_checks(&mut self) -> Result<(), JournalError> {
        let last_seq = self.report.last_seq;
        match std::mem::replace(&mut self.marker, Ok(None)) {
            Err(Some(error)) => self.problem(
                error,
                Cut {
                    truncate: None,
                    discard_from: usize::MAX,
                },
            )?,
            Ok(Some(marker)) if marker.last_seq != last_seq => {
                let error = if last_seq < marker.last_seq {
                    JournalError::RecordsMissing {
                        closed_last_seq: marker.last_seq,
                        closed_segment: marker.segment.clone(),
                        journal_last_seq: last_seq,
                        marker: marker.file,
                    }
                } else {
                    JournalError::RecordsAfterShutdown {
                        marker: marker.file,
                        closed_last_seq: marker.last_seq,
                        journal_last_seq: last_seq,
                    }
                };
                self.problem(
                    error,
                    Cut {
                        truncate: None,
                        discard_from: usize::MAX,
                    },
                )?;
            }
            _ => {}
        }
        if self.warn_behind && self.report.last_seq < self.after_seq {
            if self.mode == RecoveryMode::AbsoluteConsistency {
                return Err(JournalError::JournalBehindSnapshot {
                    journal_last_seq: self.report.last_seq,
                    snapshot_seq: self.after_seq,
                });
            }
            self.warn_behind = false;
            self.report
                .warnings
                .push(RecoveryWarning::JournalBehindSnapshot {
                    journal_last_seq: self.report.last_seq,
                    snapshot_seq: self.after_seq,
                });
        }
        Ok(())
    }

    /// What has been found so far; complete once [`JournalReader::next_entry`] returned
    /// `Ok(None)`.
    #[must_use]
    pub fn report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The report, consuming the reader.
    #[must_use]
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
            .field("mode", &self.mode)
            .field("repair", &self.repair)
            .field("segments", &self.segments.len())
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
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
