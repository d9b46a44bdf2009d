//! Fuzz body: the snapshot reader ([`ringbook::journal::read_snapshot`]) and what recovery
//! does with what it returns ([`ringbook::OrderBook::from_image`], [`ringbook::recover`]).
//!
//! The input is one flags byte, then the bytes of a snapshot file. Flags: bit 0 sets the
//! header's body length to the file's; bit 1 recomputes the stored state hash (when the
//! body parses); bit 2 recomputes the checksum. Each fix lets mutations get past one check
//! and reach the decoder behind it.
//!
//! The reader must never panic, hang or allocate beyond the file. A snapshot it accepts
//! either rebuilds into books that pass their integrity check, give back the same images
//! and hash to the stored state hash, or is refused by recovery with an error; one it
//! refuses is skipped by recovery with a warning.

use std::fs;

use crate::scratch::Scratch;

use ringbook::journal::{
    EngineSnapshot, JournalError, RecoveryWarning, SNAPSHOT_MAGIC, read_snapshot,
    snapshot_file_name,
};
use ringbook::{
    BookImage, OrderBook, RestingOrderImage, Side, Uuid, recover, state_hash_of_images,
};

/// The snapshot header (format 2): magic, checksum, version, body length. The body: the
/// last seq, the events count, the books, the state hash.
const HEADER: usize = 24;

/// What one input did: for the corpus replay to check that the corpus reaches both ends.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Whether the reader accepted the snapshot.
    pub(crate) read: bool,
    /// Whether recovery rebuilt books from it.
    pub(crate) recovered: bool,
    /// Resting orders in the snapshot read.
    pub(crate) orders: usize,
}

/// A little-endian cursor over a snapshot body, for the state-hash fix.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
}

/// The state hash of the books `body` holds (without its last 8 bytes, the stored hash),
/// if it parses as the format lays them out.
fn hash_of_body(body: &[u8]) -> Option<u64> {
    let mut c = Cursor(body.get(..body.len().checked_sub(8)?)?);
    c.u64()?; // last_seq
    c.u64()?; // events
    let books = u32::from_le_bytes(c.take()?);
    let mut images = Vec::new();
    for _ in 0..books {
        let instrument_id = Uuid::from_bytes(c.take()?);
        let halted = c.take::<1>()?[0] != 0;
        let count = c.u64()?;
        if count.checked_mul(34)? > c.0.len() as u64 {
            return None;
        }
        let mut orders = Vec::new();
        for _ in 0..count {
            let order_id = Uuid::from_bytes(c.take()?);
            let side = if c.take::<1>()?[0] == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            let post_only = c.take::<1>()?[0] != 0;
            let price = c.u64()? as i64;
            let qty = c.u64()?;
            let accepted = orders.len() as u64;
            orders.push(RestingOrderImage::plain(
                order_id, side, price, qty, post_only, accepted,
            ));
        }
        images.push(BookImage {
            instrument_id,
            halted,
            orders,
            last_trade_price: None,
            stops: Vec::new(),
        });
    }
    c.0.is_empty().then(|| state_hash_of_images(&images))
}

/// Applies the fixes `flags` asks for to the snapshot file `file`.
fn fix(flags: u8, file: &mut [u8]) {
    if file.len() < HEADER {
        return;
    }
    if flags & 1 != 0 {
        let body_len = (file.len() - HEADER) as u64;
        file[16..24].copy_from_slice(&body_len.to_le_bytes());
    }
    if flags & 2 != 0
        && let Some(hash) = hash_of_body(&file[HEADER..])
    {
        let end = file.len();
        file[end - 8..].copy_from_slice(&hash.to_le_bytes());
    }
    if flags & 4 != 0 {
        let crc = crc32fast::hash(&file[12..]);
        file[8..12].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Rebuilds every book of `snapshot`: each either fails with an error or passes its
/// integrity check and gives back its image. Whether all rebuilt.
fn rebuild(snapshot: &EngineSnapshot) -> bool {
    let mut all = true;
    for image in &snapshot.books {
        match OrderBook::from_image(image) {
            Ok(book) => {
                book.check_integrity()
                    .unwrap_or_else(|e| panic!("rebuilt book fails its check: {e}"));
                assert_eq!(
                    &book.image(),
                    image,
                    "a rebuilt book gives back another image"
                );
                assert_eq!(book.state_hash(), image.state_hash());
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                all = false;
            }
        }
    }
    all
}

/// Runs one input; panics (a finding) if a property breaks.
pub(crate) fn run(data: &[u8]) -> Outcome {
    let Some((&flags, bytes)) = data.split_first() else {
        return Outcome::default();
    };
    let mut file = bytes.to_vec();
    // Snapshots start with the magic: make that likely without hiding files that do not.
    if flags & 8 != 0 && file.len() >= 8 {
        file[..8].copy_from_slice(&SNAPSHOT_MAGIC);
    }
    fix(flags, &mut file);
    let scratch = Scratch::new("snapshot");
    let name_seq = file
        .get(HEADER..HEADER + 8)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    let path = scratch.path().join(snapshot_file_name(name_seq));
    fs::write(&path, &file).expect("write the snapshot");

    let mut outcome = Outcome::default();
    let read = read_snapshot(&path);
    let rebuilt = match &read {
        Ok(snapshot) => {
            assert_eq!(snapshot.last_seq, name_seq);
            assert_eq!(
                snapshot.state_hash(),
                u64::from_le_bytes(file[file.len() - 8..].try_into().expect("8 bytes"))
            );
            outcome.read = true;
            outcome.orders = snapshot.order_count();
            rebuild(snapshot)
        }
        Err(e) => {
            assert!(matches!(e, JournalError::Snapshot { .. }), "{e}");
            assert!(
                e.to_string().contains(&*path.to_string_lossy()),
                "names the file: {e}"
            );
            false
        }
    };

    // Recovery from a directory holding only this snapshot.
    match recover(scratch.path(), [], &mut |_| {}) {
        Ok(recovered) => {
            let snapshot = read.as_ref();
            match snapshot {
                Ok(snapshot) => {
                    assert!(
                        rebuilt,
                        "recovery used a snapshot with a book that fails to rebuild"
                    );
                    assert_eq!(recovered.last_seq, snapshot.last_seq);
                    assert_eq!(recovered.events, snapshot.events);
                    assert_eq!(recovered.replayed, 0);
                    assert_eq!(recovered.state_hash(), snapshot.state_hash());
                    assert_eq!(recovered.books.len(), snapshot.books.len());
                    outcome.recovered = true;
                }
                Err(_) => {
                    assert!(recovered.snapshot.is_none());
                    assert!(recovered.books.is_empty());
                    assert!(
                        recovered
                            .warnings
                            .iter()
                            .any(|w| matches!(w, RecoveryWarning::SnapshotSkipped { .. })),
                        "a refused snapshot is skipped with a warning: {:?}",
                        recovered.warnings
                    );
                }
            }
        }
        Err(e) => {
            // Only a snapshot that reads but cannot be rebuilt (a bad image, an
            // instrument twice) makes recovery fail.
            assert!(read.is_ok(), "recovery failed on a skipped snapshot: {e}");
            assert!(matches!(e, JournalError::Snapshot { .. }), "{e}");
        }
    }
    outcome
}
