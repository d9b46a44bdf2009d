//! Appending to the journal: batched writes, the sync policy, segment rotation.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::closed::{remove_marker, write_marker};
use super::error::{JournalError, NextSeqProblem};
use super::reader::{JournalReader, RecoveryReport, segment_name};
use super::record::{JournalEntry, MAX_RECORD_LEN, encode_record};
use super::segment::{SEAL_LEN, SEGMENT_HEADER_LEN, Seal, encode_header, encode_seal};
use super::{DirLock, JournalConfig, SyncPolicy};

/// The buffer's starting capacity: a few hundred records.
const INITIAL_BUFFER: usize = 64 * 1024;

/// Counters of what a writer has done, for tests and monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// Records appended.
    pub records: u64,
    /// Commits that wrote at least one record.
    pub batches: u64,
    /// `write` calls of records made to segment files: one per batch, one more per segment
    /// a batch runs into. (Each new segment also costs one write of its header and one of
    /// the previous segment's seal, not counted here.)
    pub write_calls: u64,
    /// Bytes written to segment files.
    pub bytes: u64,
    /// `fdatasync` calls on segment files.
    pub syncs: u64,
    /// Segment files created.
    pub segments_created: u64,
}

/// The segment being written.
#[derive(Debug)]
struct Segment {
    file: File,
    path: PathBuf,
    /// Bytes in the file.
    len: u64,
}

/// Appends sequenced commands to the journal in `dir`.
///
/// [`JournalWriter::append`] encodes a record into an in-memory buffer (no system call;
/// no allocation once the buffer has grown to the largest batch);
/// [`JournalWriter::commit_batch`] writes the whole buffer with one `write` call (one per
/// segment it touches) and applies the [`SyncPolicy`]. Records never straddle segments: a
/// record that would take the current segment past
/// [`segment_bytes`](JournalConfig::segment_bytes) starts a new one, named by its seq.
///
/// Seqs must be consecutive: the first record of a new journal is seq 1 (or what
/// [`JournalWriter::set_next_seq`] says), then +1 each.
///
/// Rotating to a new segment, whatever the policy (once per segment): the new segment is
/// created under a temporary name with its header, `fdatasync`ed and renamed into place,
/// the directory `fsync`ed; then the finished segment gets its seal (naming the new
/// segment's first seq) and is `fdatasync`ed. So only the last segment can ever end in a
/// torn record, a segment file always has its header, and the loss of a whole last
/// segment shows as a seal naming a segment that is not there.
///
/// [`JournalWriter::close`] syncs everything and leaves a clean-shutdown marker
/// ([`CLOSED_FILE`](super::CLOSED_FILE)) naming the last seq; opening the journal removes
/// it. Dropping the writer does the same, best effort (errors logged); call
/// [`JournalWriter::close`] to see errors.
///
/// # Examples
///
/// ```
/// use ringbook::journal::{JournalConfig, JournalEntry, JournalWriter, SyncPolicy, read_journal};
/// use ringbook::{Command, Order, Side, Uuid};
///
/// let dir = std::env::temp_dir().join(format!("ringbook-doc-writer-{}", std::process::id()));
/// let config = JournalConfig::default().with_sync(SyncPolicy::EveryBatch);
/// let mut journal = JournalWriter::open(&dir, config)?;
/// assert_eq!(journal.last_seq(), 0);
/// let order = Order::limit(Uuid::from_u128(7), Uuid::from_u128(1), Side::Buy, 100, 5);
/// journal.append(&JournalEntry::apply(1, 1_000, ringbook::Command::Add(order)))?;
/// journal.append(&JournalEntry::apply(2, 1_000, Command::Halt { instrument_id: Uuid::from_u128(1) }))?;
/// journal.commit_batch()?; // one write, one fdatasync
/// drop(journal);
///
/// let (entries, report) = read_journal(&dir, 0)?;
/// assert_eq!(entries.len(), 2);
/// assert_eq!(report.last_seq, 2);
/// assert!(report.warnings.is_empty());
///
/// let journal = JournalWriter::open(&dir, config)?; // continues after seq 2
/// assert_eq!(journal.last_seq(), 2);
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), ringbook::journal::JournalError>(())
/// ```
#[derive(Debug)]
pub struct JournalWriter {
    dir: PathBuf,
    config: JournalConfig,
    segment: Option<Segment>,
    /// Encoded records not yet written.
    buf: Vec<u8>,
    /// Where in `buf` a record starts a new segment, and its seq.
    splits: Vec<(usize, u64)>,
    /// The size the last segment will have once `buf` is written; `None` when there is no
    /// segment to continue (the next record starts one).
    tail: Option<u64>,
    /// The seq the next record must carry.
    next_seq: u64,
    /// The last seq handed to the operating system.
    committed_seq: u64,
    /// The last seq known durable (fdatasync'd).
    synced_seq: u64,
    last_sync: Instant,
    stats: JournalStats,
    poisoned: bool,
    /// Closed cleanly: the marker is written.
    closed: bool,
    opening: RecoveryReport,
    /// The directory's lock, held as long as the writer lives.
    lock: Option<DirLock>,
    /// Whether opening created the directory.
    created_dir: bool,
}

impl JournalWriter {
    /// Opens (creating it if needed) the journal in `dir` for appending. If segments exist,
    /// the last one is validated and writing continues after its last valid record: a torn
    /// tail is truncated and reported in [`JournalWriter::opening_report`]. The next
    /// record must be [`last_seq()`](JournalWriter::last_seq) `+ 1` unless
    /// [`JournalWriter::set_next_seq`] says otherwise.
    ///
    /// Only the last segment is read: run recovery ([`JournalReader`]) first to validate
    /// the whole journal. A clean-shutdown marker is checked against it, then removed.
    ///
    /// # Errors
    ///
    /// [`JournalError::Config`] for a zero `segment_bytes`; [`JournalError::Locked`] if
    /// another writer holds the directory (the writer keeps its lock until dropped);
    /// [`JournalError::Io`] if the directory or segment cannot be created or opened;
    /// [`JournalError::Corrupt`], [`JournalError::SeqMismatch`],
    /// [`JournalError::BadSegmentHeader`], [`JournalError::MissingSegment`] or
    /// [`JournalError::RecordsMissing`] if the last segment is damaged other than by a torn
    /// tail.
    pub fn open(dir: &Path, config: JournalConfig) -> Result<JournalWriter, JournalError> {
        if config.segment_bytes == 0 {
            return Err(JournalError::Config {
                setting: "segment_bytes",
                value: 0,
                min: 1,
            });
        }
        let created_dir = !dir.exists();
        fs::create_dir_all(dir).map_err(JournalError::io("create directory", dir))?;
        let lock = DirLock::acquire(dir)?;
        let (mut reader, last) = JournalReader::last_segment(dir)?;
        while reader.next_entry()?.is_some() {}
        let opening = reader.into_report();
        remove_marker(dir)?;
        let last_seq = opening.last_seq;
        let segment = match last {
            Some(last) => {
                let file = OpenOptions::new()
                    .append(true)
                    .open(&last.path)
                    .map_err(JournalError::io("open", &last.path))?;
                let len = file
                    .metadata()
                    .map_err(JournalError::io("stat", &last.path))?
                    .len();
                Some(Segment {
                    file,
                    path: last.path,
                    len,
                })
            }
            None => None,
        };
        Ok(JournalWriter {
            dir: dir.to_path_buf(),
            config,
            tail: segment.as_ref().map(|s| s.len),
            segment,
            buf: Vec::with_capacity(INITIAL_BUFFER.max(MAX_RECORD_LEN)),
            splits: Vec::new(),
            next_seq: last_seq + 1,
            committed_seq: last_seq,
            synced_seq: last_seq,
            last_sync: Instant::now(),
            stats: JournalStats::default(),
            poisoned: false,
            closed: false,
            opening,
            lock: Some(lock),
            created_dir,
        })
    }

    /// What opening found in the last segment: its torn tail, if it had one.
    #[must_use]
    pub fn opening_report(&self) -> &RecoveryReport {
        &self.opening
    }

    /// Makes `next_seq` the seq of the next record. For recovery when the journal ends
    /// before the snapshot (see [`RecoveryWarning::JournalBehindSnapshot`]): the writer
    /// starts a new segment named `next_seq`, so the journal's seqs stay consecutive from
    /// the snapshot on. A no-op when `next_seq` is already next.
    ///
    /// [`RecoveryWarning::JournalBehindSnapshot`]: super::RecoveryWarning::JournalBehindSnapshot
    ///
    /// # Errors
    ///
    /// [`JournalError::BadNextSeq`] if records are buffered or `next_seq` is not after the
    /// last seq already journaled; [`JournalError::Io`] if finishing the current segment
    /// fails.
    pub fn set_next_seq(&mut self, next_seq: u64) -> Result<(), JournalError> {
        self.check_poisoned()?;
        let bad = |reason: NextSeqProblem| JournalError::BadNextSeq {
            dir: self.dir.clone(),
            requested: next_seq,
            reason,
        };
        if !self.buf.is_empty() {
            return Err(bad(NextSeqProblem::Buffered));
        }
        if next_seq == self.next_seq {
            return Ok(());
        }
        if next_seq == u64::MAX {
            return Err(bad(NextSeqProblem::NoSeqAfter));
        }
        if next_seq < self.next_seq || next_seq == 0 {
            return Err(bad(NextSeqProblem::AlreadyHeld {
                last_seq: self.last_seq(),
            }));
        }
        // Seal the current segment naming the new one, created now: the journal says
        // where it goes on, and a crash here leaves nothing that looks like lost records.
        let result = self.rotate(next_seq);
        if result.is_err() {
            self.poisoned = true;
        }
        result?;
        self.tail = Some(SEGMENT_HEADER_LEN as u64);
        self.next_seq = next_seq;
        self.committed_seq = next_seq - 1;
        self.synced_seq = next_seq - 1;
        Ok(())
    }

    /// Encodes `entry` into the batch buffer: no system call, and no allocation once the
    /// buffer has grown to the largest batch. Nothing reaches the file before
    /// [`JournalWriter::commit_batch`].
    ///
    /// # Errors
    ///
    /// [`JournalError::OutOfOrder`] if `entry.seq` is not [`last_seq()`](Self::last_seq)
    /// `+ 1` (nothing is buffered then); [`JournalError::BadNextSeq`] for seq `u64::MAX`,
    /// which would leave no seq for a next record; [`JournalError::Poisoned`] after a
    /// failed write.
    #[inline]
    pub fn append(&mut self, entry: &JournalEntry) -> Result<(), JournalError> {
        if entry.seq != self.next_seq {
            return Err(JournalError::OutOfOrder {
                expected: self.next_seq,
                found: entry.seq,
            });
        }
        if entry.seq == u64::MAX {
            return Err(JournalError::BadNextSeq {
                dir: self.dir.clone(),
                requested: entry.seq,
                reason: NextSeqProblem::NoSeqAfter,
            });
        }
        self.check_poisoned()?;
        let len = entry.record_len() as u64;
        let tail = match self.tail {
            Some(tail)
                if tail <= SEGMENT_HEADER_LEN as u64
                    || tail + len + SEAL_LEN as u64 <= self.config.segment_bytes =>
            {
                tail
            }
            _ => {
                self.splits.push((self.buf.len(), entry.seq));
                SEGMENT_HEADER_LEN as u64
            }
        };
        encode_record(entry, &mut self.buf);
        self.tail = Some(tail + len);
        self.next_seq += 1;
        self.stats.records += 1;
        Ok(())
    }

    /// Writes the buffered records (one `write` call per segment they go to, usually one)
    /// and applies the sync policy: [`SyncPolicy::EveryBatch`] `fdatasync`s now;
    /// [`SyncPolicy::Interval`] if the interval has passed since the last sync;
    /// [`SyncPolicy::None`] never.
    ///
    /// With nothing buffered it only applies the interval policy: an idle caller should
    /// call it now and then so the last records written become durable.
    ///
    /// # Errors
    ///
    /// [`JournalError::Io`] if a write, segment creation or sync fails; the writer is then
    /// poisoned (what reached the file is unknown) and every later call returns
    /// [`JournalError::Poisoned`]. Reopen the journal to recover.
    pub fn commit_batch(&mut self) -> Result<(), JournalError> {
        self.check_poisoned()?;
        let result = self.write_buffer().and_then(|()| self.apply_policy());
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }

    /// Commits what is buffered, then `fdatasync`s whatever is not yet durable, whatever
    /// the policy.
    ///
    /// # Errors
    ///
    /// As [`JournalWriter::commit_batch`].
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.commit_batch()?;
        let result = self.sync_now();
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }

    /// Commits and syncs everything, then closes the journal, leaving the clean-shutdown
    /// marker ([`CLOSED_FILE`](super::CLOSED_FILE)) that names its last seq, its last
    /// segment and that segment's length: recovery then knows which records must be there.
    ///
    /// # Errors
    ///
    /// As [`JournalWriter::sync`], and [`JournalError::Io`] if the marker cannot be written.
    pub fn close(mut self) -> Result<(), JournalError> {
        self.close_cleanly()
    }

    fn close_cleanly(&mut self) -> Result<(), JournalError> {
        self.sync()?;
        if self.segment.is_none() {
            // No segment was ever written: there is no journal here to vouch for.
            self.closed = true;
            return Ok(());
        }
        let (name, bytes) = match &self.segment {
            Some(segment) => (
                segment
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                segment.len,
            ),
            None => (String::new(), 0),
        };
        write_marker(&self.dir, self.last_seq(), &name, bytes)?;
        self.closed = true;
        Ok(())
    }

    /// The seq of the last record appended (buffered or written); 0 for an empty journal.
    #[inline]
    #[must_use]
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The seq of the last record written to the operating system (survives a crash of
    /// the process, not of the machine).
    #[inline]
    #[must_use]
    pub fn committed_seq(&self) -> u64 {
        self.committed_seq
    }

    /// The seq of the last record known durable (`fdatasync`'d).
    #[inline]
    #[must_use]
    pub fn synced_seq(&self) -> u64 {
        self.synced_seq
    }

    /// The journal directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &JournalConfig {
        &self.config
    }

    /// The segment file being written, if one is open.
    #[must_use]
    pub fn current_segment(&self) -> Option<&Path> {
        self.segment.as_ref().map(|s| s.path.as_path())
    }

    /// What the writer has done since it was opened.
    #[must_use]
    pub fn stats(&self) -> JournalStats {
        self.stats
    }

    fn check_poisoned(&self) -> Result<(), JournalError> {
        if self.poisoned {
            Err(JournalError::Poisoned {
                dir: self.dir.clone(),
            })
        } else {
            Ok(())
        }
    }

    fn write_buffer(&mut self) -> Result<(), JournalError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let splits = std::mem::take(&mut self.splits);
        let mut result = Ok(());
        let mut at = 0;
        let mut next_split = 0;
        while at < self.buf.len() {
            if let Some(&(offset, seq)) = splits.get(next_split)
                && offset == at
            {
                next_split += 1;
                if let Err(e) = self.rotate(seq) {
                    result = Err(e);
                    break;
                }
            }
            let end = splits.get(next_split).map_or(self.buf.len(), |&(o, _)| o);
            let segment = self
                .segment
                .as_mut()
                .expect("a split precedes the first record of a new segment");
            if let Err(e) = segment.file.write_all(&self.buf[at..end]) {
                result = Err(JournalError::io("write", &segment.path)(e));
                break;
            }
            segment.len += (end - at) as u64;
            self.stats.write_calls += 1;
            self.stats.bytes += (end - at) as u64;
            at = end;
        }
        self.splits = splits;
        self.splits.clear();
        result?;
        self.buf.clear();
        self.stats.batches += 1;
        self.committed_seq = self.next_seq - 1;
        Ok(())
    }

    /// Creates the segment starting at `first_seq` (header written and synced under a
    /// temporary name, then renamed), then seals the current one naming it, durably.
    fn rotate(&mut self, first_seq: u64) -> Result<(), JournalError> {
        let path = self.dir.join(segment_name(first_seq));
        let tmp = self.dir.join(format!("{}.tmp", segment_name(first_seq)));
        if path.exists() {
            // Never replace a segment: its records would be lost.
            return Err(JournalError::io("create segment", &path)(
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a segment of that name already exists",
                ),
            ));
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(JournalError::io("create segment", &tmp))?;
        file.write_all(&encode_header(first_seq))
            .map_err(JournalError::io("write", &tmp))?;
        file.sync_data()
            .map_err(JournalError::io("fdatasync", &tmp))?;
        self.stats.syncs += 1;
        fs::rename(&tmp, &path).map_err(JournalError::io("rename", &tmp))?;
        drop(file);
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(JournalError::io("open", &path))?;
        sync_dir(&self.dir)?;
        self.stats.segments_created += 1;
        if let Some(mut old) = self.segment.take() {
            let seal = encode_seal(Seal {
                next_seq: first_seq,
                last_seq: first_seq.min(self.next_seq) - 1,
            });
            old.file
                .write_all(&seal)
                .map_err(JournalError::io("write", &old.path))?;
            old.file
                .sync_data()
                .map_err(JournalError::io("fdatasync", &old.path))?;
            self.stats.syncs += 1;
            // Everything before the new segment's first record is in the old one, now
            // durable.
            self.synced_seq = self.synced_seq.max(first_seq.min(self.next_seq) - 1);
            self.last_sync = Instant::now();
        }
        self.segment = Some(Segment {
            file,
            path,
            len: SEGMENT_HEADER_LEN as u64,
        });
        Ok(())
    }

    fn apply_policy(&mut self) -> Result<(), JournalError> {
        if self.committed_seq <= self.synced_seq {
            return Ok(());
        }
        match self.config.sync {
            SyncPolicy::None => Ok(()),
            SyncPolicy::EveryBatch => self.sync_now(),
            SyncPolicy::Interval(interval) => {
                if self.last_sync.elapsed() >= interval {
                    self.sync_now()
                } else {
                    Ok(())
                }
            }
        }
    }

    fn sync_now(&mut self) -> Result<(), JournalError> {
        if self.committed_seq <= self.synced_seq {
            return Ok(());
        }
        if let Some(segment) = &self.segment {
            segment
                .file
                .sync_data()
                .map_err(JournalError::io("fdatasync", &segment.path))?;
            self.stats.syncs += 1;
        }
        self.synced_seq = self.committed_seq;
        self.last_sync = Instant::now();
        Ok(())
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        if !self.closed
            && !self.poisoned
            && let Err(e) = self.close_cleanly()
        {
            tracing::error!(error = %e, "journal: closing on drop failed");
        }
        // A writer that never had a segment leaves nothing behind: not its lock file, not
        // the directory it created.
        if let Some(lock) = self.lock.take() {
            if self.segment.is_none() {
                lock.release_and_remove_if_created();
                if self.created_dir {
                    let _ = fs::remove_dir(&self.dir);
                }
            } else {
                drop(lock);
            }
        }
    }
}

/// `fsync`s a directory, so the names created or removed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(JournalError::io("fsync directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
