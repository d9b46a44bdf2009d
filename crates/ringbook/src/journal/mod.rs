//! Durability: the input journal, engine snapshots and crash recovery.
//!
//! The sequencer's stream of sequenced commands is appended to the **journal** before any
//! book sees it; **snapshots** hold every book's image at one seq; **recovery** loads the
//! newest valid snapshot, rebuilds the books ([`OrderBook::from_image`]) and replays the
//! journal after it. Because a book's output depends only on its input sequence, the
//! recovered books are the books that crashed, which [`state_hash_of`] can confirm.
//!
//! [`OrderBook::from_image`]: crate::OrderBook::from_image
//! [`state_hash_of`]: crate::state_hash_of
//!
//! # On disk
//!
//! A journal is a directory of **segment files** named by the seq of their first record,
//! 20 digits zero-padded so that names sort in seq order: `00000000000000000001.journal`,
//! `00000000000000052113.journal`, ... Each segment is a 24-byte **segment header**
//! (magic `RINGJRNL`, the journal format version [`JOURNAL_FORMAT_VERSION`], the first
//! seq, a CRC), then a sequence of records, then, once the writer has moved on to the next
//! segment, a 24-byte **seal** naming that segment's first seq; it holds at most
//! [`JournalConfig::segment_bytes`] bytes (unless one record alone is larger). A record
//! never straddles two segments. Seqs are consecutive (+1) from record to record and from
//! segment to segment. When a writer closes cleanly it leaves a **clean-shutdown marker**
//! ([`CLOSED_FILE`]) naming the last seq, which the next writer removes. A segment is
//! created under a temporary name with its header synced, then renamed: a segment file
//! without a whole header was damaged, not cut by a crash.
//!
//! Format 1 journals (segments without a header, before the seals and the marker) are
//! refused with [`SegmentHeaderProblem::FormatOne`]: recover one with the release that
//! wrote it, take a snapshot, and start a new journal from it.
//!
//! A **record** (integers little-endian):
//!
//! ```text
//! offset size  field
//!      0    4  len           u32: payload length in bytes (20..=1024)
//!      4    8  seq           u64: the global sequence number
//!     12    8  timestamp_ns  u64: the sequencer's timestamp
//!     20    4  crc32         u32: CRC-32C (Castagnoli) of bytes 0..20, then the payload
//!     24  len  payload, version 1:
//!              u8 version (1), u8 disposition (0 apply, 1 reject),
//!              u8 reject reason (0 none; 1 instrument_not_registered, 2 orderbook_halted,
//!                 3 invalid_quantity, 4 duplicate_order_id, 5 unknown_order,
//!                 6 post_only_would_cross),
//!              u8 op (0 add, 1 cancel, 2 modify, 3 halt, 4 resume, 5 status, 6 snapshot),
//!              instrument id (16 bytes, RFC 4122 order), then by op:
//!                add:    order id (16), u8 side (0 buy, 1 sell),
//!                        u8 kind (0 limit, 1 market, 2 ioc, 3 fok, 4 post_only),
//!                        i64 price, u64 qty
//!                cancel: order id (16)
//!                modify: order id (16), i64 price, u64 qty
//!                others: nothing
//! ```
//!
//! Records are 44 to 78 bytes. **Snapshots** are files `snapshot-{last_seq:020}.snap`
//! (magic `RINGSNAP`, format version, body length, CRC-32 (IEEE) of everything after the CRC,
//! then every book's image and the state hash; see [`write_snapshot`]). They may share the
//! journal's directory or have their own: each kind of file is found by its name.
//!
//! A file named [`LOCK_FILE`] holds the directory's lock: a [`JournalWriter`] keeps it
//! locked while it lives, and [`recover`](crate::recover) while it runs (it may repair a
//! torn tail), so a second writer or a recovery of a live journal fails with
//! [`JournalError::Locked`]. The lock is the operating system's and ends with its process.
//! Reading without repair ([`JournalReader::open_read_only`], [`dump`]) takes none.
//!
//! Nothing is deleted unless asked: [`prune`] (and an engine with
//! [`JournalOptions::keep_snapshots`](crate::JournalOptions::keep_snapshots), after each
//! snapshot) deletes the snapshots older than the newest valid ones it keeps, and the
//! segments whose records all come before the oldest snapshot kept.
//!
//! # Guarantees
//!
//! - **Nothing reaches a book before the journal has it**, if the caller follows the
//!   protocol below: [`JournalWriter::commit_batch`] returns before the batch is
//!   published to the books.
//! - **Durability by [`SyncPolicy`]**: after `commit_batch` returns, the batch survives a
//!   crash of the process (it is in the kernel). It survives a crash of the machine once
//!   `fdatasync`ed: at once with [`SyncPolicy::EveryBatch`]; within about the interval
//!   with [`SyncPolicy::Interval`] (while commits keep coming: an idle writer should call
//!   `commit_batch` now and then); never guaranteed with [`SyncPolicy::None`].
//!   [`JournalWriter::synced_seq`] tells what is durable.
//! - **Writes are batched**: [`JournalWriter::append`] makes no system call and allocates
//!   nothing once its buffer has grown; `commit_batch` makes one `write` call per batch
//!   (one more per segment boundary in it).
//! - **Torn tails are repaired, never hidden**: an incomplete record at the very end of
//!   the last segment with nothing valid after it (a write cut short by a crash) is
//!   truncated and reported as a [`RecoveryWarning::TornTail`] (file, offset, bytes
//!   dropped).
//! - **Lost or damaged complete records refuse to start**: a complete record that fails
//!   its CRC, a damaged record with valid records after it or in any segment but the
//!   last, a missing segment ([`JournalError::SeqGap`], or [`JournalError::MissingSegment`]
//!   when the last one is gone), an overlapping one, an empty or headerless segment, or a
//!   journal that ends before its clean-shutdown marker says ([`JournalError::RecordsMissing`])
//!   is an error naming the file, offset and seqs. Nothing is skipped silently. The
//!   [`RecoveryMode`] chooses what recovery tolerates; [`verify`] reports it all without
//!   changing anything.
//! - **Snapshots are atomic**: written to a temporary file, `fsync`ed, renamed, directory
//!   `fsync`ed. A snapshot whose checksum fails is skipped with a
//!   [`RecoveryWarning::SnapshotSkipped`] and the next older one is used.
//!
//! # The protocol
//!
//! In the sequencer, for each batch taken from the ingress ring: number and stamp each
//! command, [`JournalWriter::append`] it, then [`JournalWriter::commit_batch`] once, then
//! publish the batch to the books. A snapshot at seq `S` must image every book after
//! exactly the commands up to `S`; sync the journal ([`JournalWriter::sync`]) before
//! writing it, so the journal never ends before the newest snapshot.
//!
//! # Recovery
//!
//! ```
//! use ringbook::journal::{
//!     EngineSnapshot, JournalConfig, JournalEntry, JournalWriter, for_each_entry,
//!     load_latest_snapshot, write_snapshot,
//! };
//! use ringbook::{Command, Order, OrderBook, Side, Uuid, state_hash_of};
//!
//! let dir = std::env::temp_dir().join(format!("ringbook-doc-recovery-{}", std::process::id()));
//! let instrument = Uuid::from_u128(1);
//! let add = |seq: u64, price| {
//!     let order = Order::limit(Uuid::from_u128(seq.into()), instrument, Side::Buy, price, 1);
//!     JournalEntry::apply(seq, 0, Command::Add(order))
//! };
//!
//! // Before the crash: journal, apply, snapshot at seq 2, more commands.
//! let mut book = OrderBook::new(instrument);
//! let mut journal = JournalWriter::open(&dir, JournalConfig::default())?;
//! for seq in 1..=4 {
//!     let entry = add(seq, 100 - seq as i64);
//!     journal.append(&entry)?;
//!     journal.commit_batch()?;
//!     book.apply(&entry.command, &mut |_| {});
//!     if seq == 2 {
//!         journal.sync()?;
//!         write_snapshot(&dir, &EngineSnapshot::new(2, vec![book.image()]))?;
//!     }
//! }
//! drop(journal); // the crash
//!
//! // Recovery: the newest valid snapshot, then the journal after it.
//! let loaded = load_latest_snapshot(&dir)?;
//! for warning in &loaded.warnings {
//!     eprintln!("warning: {warning}");
//! }
//! let (snapshot, _path) = loaded.found.expect("a snapshot");
//! let mut books: Vec<OrderBook> = snapshot
//!     .books
//!     .iter()
//!     .map(|image| OrderBook::from_image(image).expect("a valid image"))
//!     .collect();
//! let report = for_each_entry(&dir, snapshot.last_seq, |entry| {
//!     let book = books.iter_mut().find(|b| b.instrument_id() == entry.command.instrument_id());
//!     if let (Some(book), None) = (book, entry.reject) {
//!         book.apply(&entry.command, &mut |_| {});
//!     }
//! })?;
//! assert_eq!(report.entries_delivered, 2);
//! assert_eq!(state_hash_of(&[&books[0]]), state_hash_of(&[&book]));
//!
//! // Continue numbering after both the journal and the snapshot.
//! let mut journal = JournalWriter::open(&dir, JournalConfig::default())?;
//! journal.set_next_seq(journal.last_seq().max(snapshot.last_seq) + 1)?;
//! assert_eq!(journal.last_seq(), 4);
//! # drop(journal);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), ringbook::journal::JournalError>(())
//! ```

mod closed;
mod crc;
mod error;
mod lock;
mod mode;
mod prune;
mod reader;
mod record;
mod repair;
mod report;
mod scan;
mod segment;
mod snapshot;
mod snapshot_problem;
mod verify;
mod writer;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use closed::{CLOSED_FILE, CleanShutdown, read_marker};
pub use error::{JournalError, NextSeqProblem, SALVAGE_HINT};
pub(crate) use lock::DirLock;
pub use lock::LOCK_FILE;
pub use mode::{ParseRecoveryModeError, RecoveryMode};
pub(crate) use prune::prune_held;
pub use prune::{PruneReport, prune};
pub use reader::{JournalReader, RecoveryReport, RecoveryWarning, for_each_entry, read_journal};
pub use record::{JournalEntry, MAX_PAYLOAD_LEN, PAYLOAD_VERSION, RECORD_HEADER_LEN};
pub use segment::{
    JOURNAL_FORMAT_VERSION, SEGMENT_HEADER_LEN, SEGMENT_MAGIC, SegmentHeaderProblem,
};
pub use snapshot::{
    EngineSnapshot, SNAPSHOT_MAGIC, SNAPSHOT_VERSION, SnapshotLoad, load_latest_snapshot,
    read_snapshot, snapshot_file_name, write_snapshot,
};
pub use snapshot_problem::SnapshotProblem;
pub use verify::{SegmentProblem, SegmentSummary, SnapshotSummary, VerifyReport, verify};
pub use writer::{JournalStats, JournalWriter};

use reader::{Scan, SegmentScanner, list_segments};
use snapshot::list_snapshots;

/// Whether `dir` holds a journal: a segment, a snapshot, a clean-shutdown marker, or a
/// [`LOCK_FILE`] (a writer that has not written its first record yet). A missing
/// directory holds none.
///
/// # Errors
///
/// [`JournalError::Io`] if the directory exists but cannot be listed.
pub fn holds_journal(dir: &Path) -> Result<bool, JournalError> {
    let (segments, _) = list_segments(dir)?;
    if !segments.is_empty() || dir.join(CLOSED_FILE).exists() || dir.join(LOCK_FILE).exists() {
        return Ok(true);
    }
    let (snapshots, _) = list_snapshots(dir)?;
    Ok(!snapshots.is_empty())
}

/// When the journal `fdatasync`s its segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SyncPolicy {
    /// Never (except once when a segment is created and once when it is finished): a
    /// batch survives a crash of the process but maybe not of the machine. The fastest.
    None,
    /// At most once per interval, at a commit: a crash of the machine loses at most about
    /// the last interval of commands.
    Interval(Duration),
    /// After every batch: a committed batch survives a crash of the machine. The default.
    #[default]
    EveryBatch,
}

impl fmt::Display for SyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncPolicy::None => f.write_str("none"),
            SyncPolicy::EveryBatch => f.write_str("every-batch"),
            SyncPolicy::Interval(d) => write!(f, "interval:{}", d.as_millis()),
        }
    }
}

/// The error of parsing a [`SyncPolicy`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid sync policy {0:?}: expected none, every-batch or interval:MS (MS a whole number of milliseconds >= 1)"
)]
pub struct ParseSyncPolicyError(String);

impl FromStr for SyncPolicy {
    type Err = ParseSyncPolicyError;

    /// Parses exactly one of:
    ///
    /// - `none`: [`SyncPolicy::None`];
    /// - `every-batch`: [`SyncPolicy::EveryBatch`];
    /// - `interval:MS`, `MS` a decimal integer of milliseconds, at least 1 (as in
    ///   `interval:10`): [`SyncPolicy::Interval`].
    ///
    /// [`Display`](fmt::Display) writes the same forms.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringbook::journal::SyncPolicy;
    /// use std::time::Duration;
    ///
    /// assert_eq!("interval:10".parse(), Ok(SyncPolicy::Interval(Duration::from_millis(10))));
    /// assert_eq!("every-batch".parse(), Ok(SyncPolicy::EveryBatch));
    /// assert!("interval:0".parse::<SyncPolicy>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<SyncPolicy, ParseSyncPolicyError> {
        let error = || ParseSyncPolicyError(s.to_string());
        match s {
            "none" => Ok(SyncPolicy::None),
            "every-batch" => Ok(SyncPolicy::EveryBatch),
            _ => {
                let ms = s.strip_prefix("interval:").ok_or_else(error)?;
                if ms.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(error());
                }
                match ms.parse::<u64>() {
                    Ok(ms) if ms >= 1 => Ok(SyncPolicy::Interval(Duration::from_millis(ms))),
                    _ => Err(error()),
                }
            }
        }
    }
}

/// How the journal writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct JournalConfig {
    /// A segment is finished, and the next record starts a new one, when that record
    /// (and the seal that finishes the segment) would take it past this many bytes; its
    /// header counts too. A segment's first record is always written, however large.
    /// Default 64 MiB.
    pub segment_bytes: u64,
    /// When to `fdatasync`. Default [`SyncPolicy::EveryBatch`].
    pub sync: SyncPolicy,
}

impl JournalConfig {
    /// The default segment size: 64 MiB.
    pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

    /// Sets the size past which a new segment starts.
    #[must_use]
    pub fn with_segment_bytes(mut self, segment_bytes: u64) -> JournalConfig {
        self.segment_bytes = segment_bytes;
        self
    }

    /// Sets when to `fdatasync`.
    #[must_use]
    pub fn with_sync(mut self, sync: SyncPolicy) -> JournalConfig {
        self.sync = sync;
        self
    }
}

impl Default for JournalConfig {
    fn default() -> JournalConfig {
        JournalConfig {
            segment_bytes: JournalConfig::DEFAULT_SEGMENT_BYTES,
            sync: SyncPolicy::default(),
        }
    }
}

/// Prints the journal and snapshots in `dir` for a person, without modifying anything.
///
/// One line per segment (`segment FILE: N bytes, first seq S`), one line per record:
///
/// ```text
/// 00000000000000000001.journal:24 seq=1 ts=1000 apply add,1,7,buy,limit,100,5
/// 00000000000000000001.journal:102 seq=2 ts=1000 reject=orderbook_halted cancel,1,7,,,,
/// ```
///
/// (the command in flow-file form; the first record of a segment is at offset 24, after
/// the segment header), a `BAD` line where a segment (or its header) stops being
/// readable, a `SEAL` line for a segment's seal, a `GAP` line where seqs are not
/// consecutive, a `CLOSED` line with the clean-shutdown marker, and one line per snapshot
/// file with its header (`snapshot FILE: version 1, last seq S, B books, O orders, state
/// hash H`) or why it is invalid. Damaged files are described, not errors.
///
/// # Errors
///
/// [`JournalError::Io`] if `dir` cannot be listed or `out` cannot be written.
pub fn dump(dir: &Path, out: &mut impl Write) -> Result<(), JournalError> {
    let out_err = || JournalError::io("write", PathBuf::from("<dump output>"));
    if !dir.is_dir() {
        return Err(JournalError::Io {
            op: "open directory",
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let (segments, warnings) = list_segments(dir)?;
    for warning in &warnings {
        writeln!(out, "WARNING {warning}").map_err(out_err())?;
    }
    let mut expected: Option<u64> = None;
    for segment in &segments {
        let name = segment
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut scanner = SegmentScanner::open(&segment.path)?;
        writeln!(
            out,
            "segment {name}: {} bytes, first seq {}",
            scanner.file_len, segment.first_seq
        )
        .map_err(out_err())?;
        if let Err(problem) = scanner.read_header(segment.first_seq)? {
            writeln!(out, "{name}:0 BAD segment header: {problem}").map_err(out_err())?;
            expected = None;
            continue;
        }
        if let Some(want) = expected.filter(|&e| e != segment.first_seq) {
            writeln!(
                out,
                "GAP expected seq {want}, segment starts at {}",
                segment.first_seq
            )
            .map_err(out_err())?;
        }
        expected = Some(segment.first_seq);
        loop {
            match scanner.next()? {
                Scan::Record(entry, offset) => {
                    if let Some(want) = expected.filter(|&e| e != entry.seq) {
                        writeln!(out, "GAP expected seq {want}, found {}", entry.seq)
                            .map_err(out_err())?;
                    }
                    expected = entry.seq.checked_add(1);
                    write!(
                        out,
                        "{name}:{offset} seq={} ts={} ",
                        entry.seq, entry.timestamp_ns
                    )
                    .map_err(out_err())?;
                    match entry.reject {
                        None => write!(out, "apply "),
                        Some(reason) => write!(out, "reject={reason} "),
                    }
                    .map_err(out_err())?;
                    // A long-form command is shown with the long form's eleven columns.
                    let plain = match &entry.command {
                        crate::command::Command::Add(order) => order.is_plain(),
                        command => command.op() != crate::command::Op::MassCancel,
                    };
                    if plain {
                        crate::flow::write_flow_line(out, &entry.command)
                    } else {
                        crate::flow::write_long_flow_line(out, &entry.command)
                    }
                    .map_err(out_err())?;
                }
                Scan::End => break,
                Scan::Seal(seal, offset) => {
                    writeln!(
                        out,
                        "{name}:{offset} SEAL last seq {}, next segment starts at seq {}",
                        seal.last_seq, seal.next_seq
                    )
                    .map_err(out_err())?;
                    expected = Some(seal.next_seq);
                }
                Scan::Bad(offset, error) => {
                    writeln!(
                        out,
                        "{name}:{offset} BAD {} ({} bytes from here to the end of the file)",
                        error.reason(),
                        scanner.file_len - offset
                    )
                    .map_err(out_err())?;
                    break;
                }
            }
        }
    }
    match read_marker(dir) {
        Ok(Some(marker)) => writeln!(
            out,
            "{CLOSED_FILE}: closed cleanly at seq {}, last segment {} ({} bytes)",
            marker.last_seq, marker.segment, marker.bytes
        ),
        Ok(None) => writeln!(out, "{CLOSED_FILE}: none (open, or not closed cleanly)"),
        Err(e) => writeln!(out, "{CLOSED_FILE}: INVALID: {e}"),
    }
    .map_err(out_err())?;
    let (mut snapshots, warnings) = list_snapshots(dir)?;
    for warning in &warnings {
        writeln!(out, "WARNING {warning}").map_err(out_err())?;
    }
    snapshots.reverse();
    for (_, path) in snapshots {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        match read_snapshot(&path) {
            Ok(s) => writeln!(
                out,
                "snapshot {name}: version {}, last seq {}, {} events before, {} books, {} orders, state hash {:#018x}",
                s.version,
                s.last_seq,
                s.events,
                s.books.len(),
                s.order_count(),
                s.state_hash()
            ),
            Err(e) => writeln!(out, "snapshot {name}: INVALID: {e}"),
        }
        .map_err(out_err())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_policy_parses_and_prints() {
        for (text, policy) in [
            ("none", SyncPolicy::None),
            ("every-batch", SyncPolicy::EveryBatch),
            ("interval:1", SyncPolicy::Interval(Duration::from_millis(1))),
            (
                "interval:250",
                SyncPolicy::Interval(Duration::from_millis(250)),
            ),
        ] {
            assert_eq!(text.parse::<SyncPolicy>(), Ok(policy));
            assert_eq!(policy.to_string(), text);
        }
        for bad in [
            "",
            "None",
            "every_batch",
            "interval",
            "interval:",
            "interval:0",
            "interval:-5",
            "interval:+5",
            "interval: 5",
            "interval:5ms",
            "interval:99999999999999999999",
        ] {
            let err = bad.parse::<SyncPolicy>().unwrap_err();
            assert!(err.to_string().contains("interval:MS"), "{err}");
        }
    }

    #[test]
    fn default_config() {
        let config = JournalConfig::default();
        assert_eq!(config.segment_bytes, 64 * 1024 * 1024);
        assert_eq!(config.sync, SyncPolicy::EveryBatch);
    }
}
