//! What is wrong with a snapshot file ([`JournalError::Snapshot`]), with the numbers that
//! show it.
//!
//! [`JournalError::Snapshot`]: super::JournalError::Snapshot

use uuid::Uuid;

use crate::book::ImageError;

/// What is wrong with a snapshot file, or with a snapshot asked to be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotProblem {
    /// The file is shorter than a snapshot header.
    #[error("{len} bytes, shorter than the {header}-byte header")]
    Short {
        /// The file's length in bytes.
        len: u64,
        /// The header's length in bytes.
        header: u64,
    },
    /// The file does not start with the snapshot magic.
    #[error("bad magic: not a ringbook snapshot")]
    BadMagic,
    /// The header's body length disagrees with the file's.
    #[error("the header gives a body of {declared} bytes, the file holds {held}")]
    BodyLength {
        /// The body length in the header.
        declared: u64,
        /// The bytes after the header.
        held: u64,
    },
    /// The stored checksum does not match the file's content.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the content.
        computed: u32,
    },
    /// A format version this build does not read.
    #[error("format version {found}: this build reads {supported}")]
    Version {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A snapshot of a format version this build does not write.
    #[error("cannot write format version {found}: this build writes {supported}")]
    WriteVersion {
        /// The snapshot's version.
        found: u32,
        /// The version this build writes.
        supported: u32,
    },
    /// The body ends in the middle of a field.
    #[error("the body ends in the middle of a field at byte offset {offset}")]
    FieldCut {
        /// The byte offset in the file where the field starts.
        offset: u64,
    },
    /// More books than the body can hold.
    #[error("{books} books cannot fit in the body")]
    TooManyBooks {
        /// The book count in the body.
        books: u32,
    },
    /// More orders than the body can hold.
    #[error("book {instrument_id}: {orders} orders cannot fit in the body")]
    TooManyOrders {
        /// The book's instrument.
        instrument_id: Uuid,
        /// The order count in the body.
        orders: u64,
    },
    /// A book's halted flag is neither 0 nor 1.
    #[error("book {book}: halted flag: {value} is not 0 or 1")]
    HaltedFlag {
        /// The book's index in the snapshot.
        book: u32,
        /// The byte found.
        value: u8,
    },
    /// An order's post-only flag is neither 0 nor 1.
    #[error("book {instrument_id}, order {order}: post_only: {value} is not 0 or 1")]
    PostOnlyFlag {
        /// The book's instrument.
        instrument_id: Uuid,
        /// The order's index in its book.
        order: u64,
        /// The byte found.
        value: u8,
    },
    /// An order's side code is unknown.
    #[error("book {instrument_id}, order {order}: unknown side code {code}")]
    UnknownSide {
        /// The book's instrument.
        instrument_id: Uuid,
        /// The order's index in its book.
        order: u64,
        /// The code found.
        code: u8,
    },
    /// A flag byte (a long-form option's presence, or an order's extras) with bits this
    /// build does not know.
    #[error("book {instrument_id}: {field} of entry {entry}: unknown flag byte {value:#04x}")]
    FlagByte {
        /// The book.
        instrument_id: Uuid,
        /// Which field.
        field: &'static str,
        /// The order's or stop's index in its book (0 for a book's own field).
        entry: u64,
        /// The byte found.
        value: u8,
    },
    /// A parked stop of an unknown kind.
    #[error("book {instrument_id}, stop {stop}: unknown stop kind code {code}")]
    StopKind {
        /// The book.
        instrument_id: Uuid,
        /// The stop's index in its book.
        stop: u64,
        /// The code found.
        code: u8,
    },
    /// More parked stops than the body can hold.
    #[error("book {instrument_id}: {stops} parked stops cannot fit in the body")]
    TooManyStops {
        /// The book.
        instrument_id: Uuid,
        /// The count found.
        stops: u64,
    },
    /// Bytes follow the last field.
    #[error("{bytes} bytes left over after the last field")]
    LeftOver {
        /// How many.
        bytes: u64,
    },
    /// The stored state hash does not match the decoded books'.
    #[error("state hash mismatch: stored {stored:#018x}, computed {computed:#018x}")]
    StateHash {
        /// The hash in the file.
        stored: u64,
        /// The hash of the books decoded.
        computed: u64,
    },
    /// A book's image does not make a valid book (boxed: it is the largest problem, and
    /// every journal and manager error would grow to its size).
    #[error("{0}")]
    Image(Box<ImageError>),
    /// Two books for one instrument.
    #[error("instrument {instrument_id} has two books")]
    DuplicateBook {
        /// The instrument.
        instrument_id: Uuid,
    },
}
