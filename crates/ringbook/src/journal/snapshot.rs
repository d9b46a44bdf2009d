//! Engine snapshots: every book's image at one sequence number, written atomically.
//!
//! File `snapshot-{last_seq:020}.snap`, integers little-endian:
//!
//! ```text
//! offset size  field
//!      0    8  magic "RINGSNAP"
//!      8    4  crc32: CRC-32 (IEEE) of every byte from offset 12 to the end of the file
//!     12    4  format version (3; version 2 files are read too)
//!     16    8  body length in bytes
//!     24       body:
//!                last_seq u64: the last command applied to every book
//!                events u64: events published for the commands up to last_seq
//!                book count u32
//!                per book: instrument id (16), halted u8 (0/1),
//!                  [v3] last trade price: u8 (0 none, 1 some) and i64,
//!                  order count u64,
//!                  then per order, in image order (bids best first, then asks best
//!                  first, each level in time priority): order id (16), side u8 (0 buy,
//!                  1 sell), post_only u8 (0/1), price i64, qty u64      (34 bytes)
//!                  [v3] then shown u64, extras u8 (bit 0 owner, bits 1-2 stp 0 none
//!                  1 cancel_newest 2 cancel_oldest 3 cancel_both, bit 3 display),
//!                  owner u64, display u64 (0 when absent), accepted u64 (+33 bytes)
//!                  [v3] stop count u64, then per parked stop in acceptance order:
//!                  order id (16), side u8, kind u8 (0 stop, 1 stop_limit), trigger i64,
//!                  price u8 (0 none, 1 some) and i64, qty u64, extras u8, owner u64,
//!                  display u64, accepted u64                           (68 bytes)
//!                state hash u64: `state_hash_of_images` of the books, checked on load
//! ```
//!
//! A version 2 file (before the long form) has none of the `[v3]` fields: its books have
//! no last trade price and no stops, its orders show their whole quantity, and their
//! acceptance numbers are their places in the file.
//!
//! Written to `snapshot-{last_seq:020}.snap.tmp` in the same directory, `fsync`ed, renamed
//! over the final name, and the directory `fsync`ed: a reader sees either no snapshot or a
//! whole one under the final name. A temporary file left by a crash is never taken for a
//! snapshot.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::error::JournalError;
use super::reader::RecoveryWarning;
use super::record::{side_code, side_of};
use super::snapshot_problem::SnapshotProblem;
use super::writer::sync_dir;
use crate::book::{
    BookImage, ParkedStopImage, RestingOrderImage, extras_flags, state_hash_of_images, stp_of_flags,
};
use crate::types::OrderKind;

/// The magic bytes a snapshot file starts with.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"RINGSNAP";

/// The snapshot format version this build writes (it reads version 2 too).
pub const SNAPSHOT_VERSION: u32 = 3;

/// The version before the long form, still read.
const SNAPSHOT_VERSION_2: u32 = 2;

const HEADER_LEN: u64 = 24;
const BOOK_HEADER_LEN: u64 = 16 + 1 + 8;
const ORDER_LEN: u64 = 16 + 1 + 1 + 8 + 8;
/// What version 3 adds to a book: the last trade price and the stop count.
const BOOK_LONG_LEN: u64 = 9 + 8;
/// What version 3 adds to an order.
const ORDER_LONG_LEN: u64 = 8 + 1 + 8 + 8 + 8;
const STOP_LEN: u64 = 16 + 1 + 1 + 8 + 9 + 8 + 1 + 8 + 8 + 8;
const PREFIX: &str = "snapshot-";
const SUFFIX: &str = ".snap";
const TEMP_SUFFIX: &str = ".tmp";

/// A consistent image of every book at one point of the sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineSnapshot {
    /// The format version ([`SNAPSHOT_VERSION`] for snapshots this build writes).
    pub version: u32,
    /// The last seq applied to every book: recovery replays the journal after it.
    pub last_seq: u64,
    /// How many events the engine published for the commands up to `last_seq`: after
    /// recovery, event numbering goes on from there (plus the events of the journal
    /// records replayed after the snapshot), so a subscriber can resume where it stopped.
    pub events: u64,
    /// Every book's image.
    pub books: Vec<BookImage>,
}

impl EngineSnapshot {
    /// A snapshot of `books` after seq `last_seq`, in the current format version, with
    /// no events counted before it (see [`EngineSnapshot::with_events`]).
    #[must_use]
    pub fn new(last_seq: u64, books: Vec<BookImage>) -> EngineSnapshot {
        EngineSnapshot {
            version: SNAPSHOT_VERSION,
            last_seq,
            events: 0,
            books,
        }
    }

    /// The same snapshot, recording that `events` events were published for the
    /// commands up to its `last_seq`.
    #[must_use]
    pub fn with_events(mut self, events: u64) -> EngineSnapshot {
        self.events = events;
        self
    }

    /// The state hash of the books: equal to [`state_hash_of`](crate::state_hash_of) of
    /// the books rebuilt from it.
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        state_hash_of_images(&self.books)
    }

    /// How many orders rest in all the books.
    #[must_use]
    pub fn order_count(&self) -> usize {
        self.books.iter().map(|b| b.orders.len()).sum()
    }

    fn body_len(&self) -> u64 {
        8 + 8
            + 4
            + self
                .books
                .iter()
                .map(|b| {
                    BOOK_HEADER_LEN
                        + BOOK_LONG_LEN
                        + (ORDER_LEN + ORDER_LONG_LEN) * b.orders.len() as u64
                        + STOP_LEN * b.stops.len() as u64
                })
                .sum::<u64>()
            + 8
    }
}

/// The file name of the snapshot after seq `last_seq`.
#[must_use]
pub fn snapshot_file_name(last_seq: u64) -> String {
    format!("{PREFIX}{last_seq:020}{SUFFIX}")
}

fn parse_snapshot_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A writer that feeds a CRC with every byte it writes.
struct CrcWriter<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> CrcWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc.update(bytes);
        self.inner.write_all(bytes)
    }
}

/// Writes `snapshot` into `dir` (created if needed) as
/// `snapshot-{last_seq:020}.snap`, atomically: a temporary file in the same directory,
/// written, `fsync`ed, renamed over the final name, then the directory `fsync`ed. An
/// existing snapshot of the same seq is replaced. Returns the final path.
///
/// # Errors
///
/// [`JournalError::Snapshot`] if `snapshot.version` is not [`SNAPSHOT_VERSION`];
/// [`JournalError::Io`] if any step fails (the final name is then untouched).
pub fn write_snapshot(dir: &Path, snapshot: &EngineSnapshot) -> Result<PathBuf, JournalError> {
    let path = dir.join(snapshot_file_name(snapshot.last_seq));
    if snapshot.version != SNAPSHOT_VERSION {
        return Err(JournalError::Snapshot {
            file: path,
            problem: SnapshotProblem::WriteVersion {
                found: snapshot.version,
                supported: SNAPSHOT_VERSION,
            },
        });
    }
    fs::create_dir_all(dir).map_err(JournalError::io("create directory", dir))?;
    let temp = dir.join(format!(
        "{}{TEMP_SUFFIX}",
        snapshot_file_name(snapshot.last_seq)
    ));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)
        .map_err(JournalError::io("create", &temp))?;
    let durable = write_body(file, snapshot)
        .map_err(JournalError::io("write", &temp))
        .and_then(|file| file.sync_all().map_err(JournalError::io("fsync", &temp)))
        .and_then(|()| {
            fs::rename(&temp, &path).map_err(JournalError::io("rename into place", &path))
        });
    if let Err(e) = durable {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir)?;
    Ok(path)
}

/// Writes the header (with a placeholder CRC) and body, then the CRC.
fn write_body(file: File, snapshot: &EngineSnapshot) -> io::Result<File> {
    let mut out = CrcWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        crc: crc32fast::Hasher::new(),
    };
    out.inner.write_all(&SNAPSHOT_MAGIC)?;
    out.inner.write_all(&[0; 4])?;
    out.put(&SNAPSHOT_VERSION.to_le_bytes())?;
    out.put(&snapshot.body_len().to_le_bytes())?;
    out.put(&snapshot.last_seq.to_le_bytes())?;
    out.put(&snapshot.events.to_le_bytes())?;
    let books = u32::try_from(snapshot.books.len())
        .map_err(|_| io::Error::other("more than u32::MAX books"))?;
    out.put(&books.to_le_bytes())?;
    let opt = |out: &mut CrcWriter<_>, value: Option<i64>| -> io::Result<()> {
        out.put(&[u8::from(value.is_some())])?;
        out.put(&value.unwrap_or(0).to_le_bytes())
    };
    for book in &snapshot.books {
        out.put(book.instrument_id.as_bytes())?;
        out.put(&[u8::from(book.halted)])?;
        opt(&mut out, book.last_trade_price)?;
        out.put(&(book.orders.len() as u64).to_le_bytes())?;
        for order in &book.orders {
            out.put(order.order_id.as_bytes())?;
            out.put(&[side_code(order.side), u8::from(order.post_only)])?;
            out.put(&order.price.to_le_bytes())?;
            out.put(&order.qty.to_le_bytes())?;
            out.put(&order.shown.to_le_bytes())?;
            out.put(&[extras_flags(order.owner, order.stp, order.display)])?;
            out.put(&order.owner.unwrap_or(0).to_le_bytes())?;
            out.put(&order.display.unwrap_or(0).to_le_bytes())?;
            out.put(&order.accepted.to_le_bytes())?;
        }
        out.put(&(book.stops.len() as u64).to_le_bytes())?;
        for stop in &book.stops {
            out.put(stop.order_id.as_bytes())?;
            out.put(&[
                side_code(stop.side),
                u8::from(stop.kind == OrderKind::StopLimit),
            ])?;
            out.put(&stop.trigger.to_le_bytes())?;
            opt(&mut out, stop.price)?;
            out.put(&stop.qty.to_le_bytes())?;
            out.put(&[extras_flags(stop.owner, stop.stp, stop.display)])?;
            out.put(&stop.owner.unwrap_or(0).to_le_bytes())?;
            out.put(&stop.display.unwrap_or(0).to_le_bytes())?;
            out.put(&stop.accepted.to_le_bytes())?;
        }
    }
    out.put(&snapshot.state_hash().to_le_bytes())?;
    let crc = out.crc.finalize();
    let mut file = out.inner.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(8))?;
    file.write_all(&crc.to_le_bytes())?;
    Ok(file)
}

/// Reads and verifies one snapshot file: magic, version, length, checksum (verified before
/// anything is decoded), field values and the stored state hash.
///
/// # Errors
///
/// [`JournalError::Snapshot`] naming the file and what is wrong; [`JournalError::Io`] if
/// it cannot be read.
pub fn read_snapshot(path: &Path) -> Result<EngineSnapshot, JournalError> {
    let bad = |problem: SnapshotProblem| JournalError::Snapshot {
        file: path.to_path_buf(),
        problem,
    };
    let mut file = File::open(path).map_err(JournalError::io("open", path))?;
    let file_len = file
        .metadata()
        .map_err(JournalError::io("stat", path))?
        .len();
    if file_len < HEADER_LEN {
        return Err(bad(SnapshotProblem::Short {
            len: file_len,
            header: HEADER_LEN,
        }));
    }
    let mut header = [0u8; HEADER_LEN as usize];
    file.read_exact(&mut header)
        .map_err(JournalError::io("read", path))?;
    if header[..8] != SNAPSHOT_MAGIC {
        return Err(bad(SnapshotProblem::BadMagic));
    }
    let stored_crc = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
    let version = u32::from_le_bytes(header[12..16].try_into().expect("4 bytes"));
    let body_len = u64::from_le_bytes(header[16..24].try_into().expect("8 bytes"));
    if HEADER_LEN.checked_add(body_len) != Some(file_len) {
        return Err(bad(SnapshotProblem::BodyLength {
            declared: body_len,
            held: file_len - HEADER_LEN,
        }));
    }
    // Pass 1: the checksum, before believing any field.
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[12..]);
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let read = reader
            .read(&mut chunk)
            .map_err(JournalError::io("read", path))?;
        if read == 0 {
            break;
        }
        crc.update(&chunk[..read]);
    }
    let computed = crc.finalize();
    if computed != stored_crc {
        return Err(bad(SnapshotProblem::Checksum {
            stored: stored_crc,
            computed,
        }));
    }
    if version != SNAPSHOT_VERSION && version != SNAPSHOT_VERSION_2 {
        return Err(bad(SnapshotProblem::Version {
            found: version,
            supported: SNAPSHOT_VERSION,
        }));
    }
    // Pass 2: decode.
    let mut file = reader.into_inner();
    file.seek(SeekFrom::Start(HEADER_LEN))
        .map_err(JournalError::io("seek", path))?;
    let mut body = Body {
        inner: BufReader::with_capacity(1 << 20, file),
        remaining: body_len,
        end: HEADER_LEN + body_len,
        path,
    };
    let last_seq = body.u64()?;
    let events = body.u64()?;
    let book_count = body.u32()?;
    if u64::from(book_count) * BOOK_HEADER_LEN > body.remaining {
        return Err(bad(SnapshotProblem::TooManyBooks { books: book_count }));
    }
    let long = version == SNAPSHOT_VERSION;
    let order_len = if long {
        ORDER_LEN + ORDER_LONG_LEN
    } else {
        ORDER_LEN
    };
    let mut books = Vec::with_capacity(book_count as usize);
    for b in 0..book_count {
        let instrument_id = body.id()?;
        let halted = body.flag(|value| SnapshotProblem::HaltedFlag { book: b, value })?;
        let last_trade_price = if long {
            body.opt_i64(instrument_id, "last trade price", 0)?
        } else {
            None
        };
        let order_count = body.u64()?;
        if order_count.saturating_mul(order_len) > body.remaining {
            return Err(bad(SnapshotProblem::TooManyOrders {
                instrument_id,
                orders: order_count,
            }));
        }
        let mut orders = Vec::with_capacity(order_count as usize);
        for o in 0..order_count {
            let order_id = body.id()?;
            let side_byte = body.u8()?;
            let side = side_of(side_byte).ok_or_else(|| {
                bad(SnapshotProblem::UnknownSide {
                    instrument_id,
                    order: o,
                    code: side_byte,
                })
            })?;
            let post_only = body.flag(|value| SnapshotProblem::PostOnlyFlag {
                instrument_id,
                order: o,
                value,
            })?;
            let price = body.u64()? as i64;
            let qty = body.u64()?;
            let mut order = RestingOrderImage::plain(order_id, side, price, qty, post_only, o);
            if long {
                order.shown = body.u64()?;
                let (owner, stp, display) = body.extras(instrument_id, o)?;
                (order.owner, order.stp, order.display) = (owner, stp, display);
                order.accepted = body.u64()?;
            }
            orders.push(order);
        }
        let mut stops = Vec::new();
        if long {
            let stop_count = body.u64()?;
            if stop_count.saturating_mul(STOP_LEN) > body.remaining {
                return Err(bad(SnapshotProblem::TooManyStops {
                    instrument_id,
                    stops: stop_count,
                }));
            }
            for s in 0..stop_count {
                let order_id = body.id()?;
                let side_byte = body.u8()?;
                let side = side_of(side_byte).ok_or_else(|| {
                    bad(SnapshotProblem::UnknownSide {
                        instrument_id,
                        order: s,
                        code: side_byte,
                    })
                })?;
                let kind = match body.u8()? {
                    0 => OrderKind::Stop,
                    1 => OrderKind::StopLimit,
                    code => {
                        return Err(bad(SnapshotProblem::StopKind {
                            instrument_id,
                            stop: s,
                            code,
                        }));
                    }
                };
                let trigger = body.u64()? as i64;
                let price = body.opt_i64(instrument_id, "stop price", s)?;
                let qty = body.u64()?;
                let (owner, stp, display) = body.extras(instrument_id, s)?;
                let accepted = body.u64()?;
                stops.push(ParkedStopImage {
                    order_id,
                    side,
                    kind,
                    trigger,
                    price,
                    qty,
                    owner,
                    stp,
                    display,
                    accepted,
                });
            }
        }
        books.push(BookImage {
            instrument_id,
            halted,
            orders,
            last_trade_price,
            stops,
        });
    }
    let stored_hash = body.u64()?;
    if body.remaining != 0 {
        return Err(bad(SnapshotProblem::LeftOver {
            bytes: body.remaining,
        }));
    }
    let snapshot = EngineSnapshot {
        version,
        last_seq,
        events,
        books,
    };
    let hash = snapshot.state_hash();
    if hash != stored_hash {
        return Err(bad(SnapshotProblem::StateHash {
            stored: stored_hash,
            computed: hash,
        }));
    }
    Ok(snapshot)
}

/// Reads a snapshot body field by field, never past its declared length.
struct Body<'a, R: Read> {
    inner: R,
    remaining: u64,
    /// The file offset the body ends at: the offset of the next field is
    /// `end - remaining`.
    end: u64,
    path: &'a Path,
}

impl<R: Read> Body<'_, R> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], JournalError> {
        if self.remaining < N as u64 {
            return Err(JournalError::Snapshot {
                file: self.path.to_path_buf(),
                problem: SnapshotProblem::FieldCut {
                    offset: self.end - self.remaining,
                },
            });
        }
        let mut out = [0u8; N];
        self.inner
            .read_exact(&mut out)
            .map_err(JournalError::io("read", self.path))?;
        self.remaining -= N as u64;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, JournalError> {
        Ok(self.bytes::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, JournalError> {
        self.bytes().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, JournalError> {
        self.bytes().map(u64::from_le_bytes)
    }

    fn id(&mut self) -> Result<Uuid, JournalError> {
        self.bytes().map(Uuid::from_bytes)
    }

    /// An optional `i64`: a presence byte (0 or 1) and the value.
    fn opt_i64(
        &mut self,
        instrument_id: Uuid,
        field: &'static str,
        entry: u64,
    ) -> Result<Option<i64>, JournalError> {
        let present = self.flag(|value| SnapshotProblem::FlagByte {
            instrument_id,
            field,
            entry,
            value,
        })?;
        let value = self.u64()? as i64;
        Ok(present.then_some(value))
    }

    /// An order's extras: the flag byte, the owner and the display.
    #[allow(clippy::type_complexity)]
    fn extras(
        &mut self,
        instrument_id: Uuid,
        entry: u64,
    ) -> Result<(Option<u64>, Option<crate::types::StpMode>, Option<u64>), JournalError> {
        let flags = self.u8()?;
        let owner = self.u64()?;
        let display = self.u64()?;
        let stp = stp_of_flags(flags);
        if flags & !0b1111 != 0 || (flags & 1 == 0 && stp.is_some()) {
            return Err(JournalError::Snapshot {
                file: self.path.to_path_buf(),
                problem: SnapshotProblem::FlagByte {
                    instrument_id,
                    field: "extras",
                    entry,
                    value: flags,
                },
            });
        }
        Ok((
            (flags & 1 != 0).then_some(owner),
            stp,
            (flags & 0b1000 != 0).then_some(display),
        ))
    }

    /// A 0 or 1 byte; `problem` describes any other value.
    fn flag(&mut self, problem: impl FnOnce(u8) -> SnapshotProblem) -> Result<bool, JournalError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(JournalError::Snapshot {
                file: self.path.to_path_buf(),
                problem: problem(other),
            }),
        }
    }
}

/// A snapshot file's seq (from its name) and path.
pub(crate) type SnapshotFile = (u64, PathBuf);

/// The snapshots of `dir`, newest first, and warnings about files that look like
/// snapshots but are not (a temporary file left by an interrupted write, a bad name). A
/// missing directory has none.
pub(crate) fn list_snapshots(
    dir: &Path,
) -> Result<(Vec<SnapshotFile>, Vec<RecoveryWarning>), JournalError> {
    let mut snapshots = Vec::new();
    let mut warnings = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((snapshots, warnings)),
        Err(e) => return Err(JournalError::io("list", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(JournalError::io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(PREFIX) {
            continue;
        }
        if let Some(seq) = parse_snapshot_name(name) {
            snapshots.push((seq, entry.path()));
        } else if name.ends_with(TEMP_SUFFIX) {
            warnings.push(RecoveryWarning::IgnoredFile {
                file: entry.path(),
                reason: "temporary file of an interrupted snapshot write".into(),
            });
        } else {
            warnings.push(RecoveryWarning::IgnoredFile {
                file: entry.path(),
                reason: "not a snapshot name (snapshot-, 20 digits, .snap)".into(),
            });
        }
    }
    snapshots.sort_by_key(|&(seq, _)| std::cmp::Reverse(seq));
    Ok((snapshots, warnings))
}

/// What [`load_latest_snapshot`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotLoad {
    /// The newest snapshot that verified, and its file; `None` if there is none.
    pub found: Option<(EngineSnapshot, PathBuf)>,
    /// Every snapshot skipped (newer than the one found, and damaged) and every file
    /// ignored, with the reason.
    pub warnings: Vec<RecoveryWarning>,
}

/// Loads the newest snapshot in `dir` that verifies (see [`read_snapshot`]). A newer one
/// that does not verify is skipped with a [`RecoveryWarning::SnapshotSkipped`], never
/// silently, and the next older one is tried. With no valid snapshot, `found` is `None`
/// and recovery replays the journal from the start (which fails with a gap error if the
/// journal no longer starts at seq 1).
///
/// # Errors
///
/// [`JournalError::Io`] if the directory cannot be listed. Unreadable snapshot files are
/// warnings, not errors.
pub fn load_latest_snapshot(dir: &Path) -> Result<SnapshotLoad, JournalError> {
    let (snapshots, mut warnings) = list_snapshots(dir)?;
    for (seq, path) in snapshots {
        match read_snapshot(&path) {
            Ok(snapshot) if snapshot.last_seq == seq => {
                return Ok(SnapshotLoad {
                    found: Some((snapshot, path)),
                    warnings,
                });
            }
            Ok(snapshot) => warnings.push(RecoveryWarning::SnapshotSkipped {
                file: path,
                reason: format!(
                    "its name says seq {seq} but it holds seq {}",
                    snapshot.last_seq
                ),
            }),
            Err(e) => warnings.push(RecoveryWarning::SnapshotSkipped {
                file: path,
                reason: e.to_string(),
            }),
        }
    }
    Ok(SnapshotLoad {
        found: None,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_and_parse() {
        assert_eq!(snapshot_file_name(5), "snapshot-00000000000000000005.snap");
        assert_eq!(parse_snapshot_name(&snapshot_file_name(77)), Some(77));
        assert_eq!(parse_snapshot_name("snapshot-5.snap"), None);
        assert_eq!(
            parse_snapshot_name("snapshot-00000000000000000005.snap.tmp"),
            None
        );
    }

    /// A snapshot file of `body` under a valid header and checksum, so decoding reaches it.
    fn crafted(dir: &Path, body: &[u8]) -> PathBuf {
        let mut header = [0u8; HEADER_LEN as usize];
        header[..8].copy_from_slice(&SNAPSHOT_MAGIC);
        header[12..16].copy_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        header[16..24].copy_from_slice(&(body.len() as u64).to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header[12..]);
        crc.update(body);
        header[8..12].copy_from_slice(&crc.finalize().to_le_bytes());
        let path = dir.join(snapshot_file_name(1));
        fs::write(&path, [&header[..], body].concat()).unwrap();
        path
    }

    fn problem(path: &Path) -> SnapshotProblem {
        match read_snapshot(path) {
            Err(JournalError::Snapshot { file, problem }) => {
                assert_eq!(file, path);
                problem
            }
            other => panic!("expected a snapshot problem, got {other:?}"),
        }
    }

    #[test]
    fn a_body_cut_mid_field_names_the_fields_offset() {
        let dir = std::env::temp_dir().join(format!("rb-snap-cut-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        // last_seq and events, then 2 of the book count's 4 bytes.
        let mut body = [1u64.to_le_bytes(), 0u64.to_le_bytes()].concat();
        body.extend_from_slice(&[0, 0]);
        let path = crafted(&dir, &body);
        assert_eq!(
            problem(&path),
            SnapshotProblem::FieldCut {
                offset: HEADER_LEN + 16
            }
        );
        let message = read_snapshot(&path).unwrap_err().to_string();
        assert!(
            message.ends_with("the body ends in the middle of a field at byte offset 40"),
            "{message}"
        );

        // One book whose halted flag is 7.
        let mut body = [1u64.to_le_bytes(), 0u64.to_le_bytes()].concat();
        body.extend_from_slice(&1u32.to_le_bytes());
        body.extend_from_slice(&[0xab; 16]);
        body.push(7);
        body.extend_from_slice(&0u64.to_le_bytes());
        body.extend_from_slice(&0u64.to_le_bytes());
        let path = crafted(&dir, &body);
        assert_eq!(
            problem(&path),
            SnapshotProblem::HaltedFlag { book: 0, value: 7 }
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
