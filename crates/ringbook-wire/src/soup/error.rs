//! What can be wrong with SoupBinTCP bytes.

use thiserror::Error;

/// A SoupBinTCP packet that breaks the spec, with the facts that locate it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SoupError {
    /// A Packet Length of zero: every packet has at least its type byte.
    #[error("packet at stream offset {offset}: packet length 0 (every packet has a type byte)")]
    ZeroLength {
        /// Where the packet starts in the stream.
        offset: u64,
    },
    /// A type byte the spec does not define.
    #[error("packet at stream offset {offset}: unknown packet type 0x{byte:02x}")]
    UnknownType {
        /// Where the packet starts in the stream.
        offset: u64,
        /// The byte.
        byte: u8,
    },
    /// A packet type that is not sent in this direction (a client sending Login Accepted).
    #[error("packet at stream offset {offset}: type '{}' is not sent by a {sender}", char::from(*.byte))]
    WrongDirection {
        /// Where the packet starts in the stream.
        offset: u64,
        /// The type byte.
        byte: u8,
        /// Who sent it: `client` or `server`.
        sender: &'static str,
    },
    /// A fixed-size packet whose payload is not the spec's size.
    #[error("packet at stream offset {offset}: type '{}' has a {actual}-byte payload, the spec fixes {expected}", char::from(*.byte))]
    BadLength {
        /// Where the packet starts in the stream.
        offset: u64,
        /// The type byte.
        byte: u8,
        /// The spec's payload size.
        expected: usize,
        /// The payload size the Packet Length states.
        actual: usize,
    },
    /// A payload larger than the receiver's bound.
    #[error(
        "packet at stream offset {offset}: {length}-byte packet exceeds the bound of {bound} bytes"
    )]
    TooLong {
        /// Where the packet starts in the stream.
        offset: u64,
        /// The Packet Length stated.
        length: usize,
        /// The receiver's bound.
        bound: usize,
    },
    /// A numeric field (a sequence number) that is not spaces then ASCII digits, or that
    /// overflows a u64.
    #[error("{field}: {text:?} is not a space-padded decimal number that fits 64 bits")]
    BadNumber {
        /// The field's name in the spec.
        field: &'static str,
        /// The field's bytes, lossily as text.
        text: String,
    },
    /// An alphanumeric field with a byte outside printable ASCII.
    #[error("{field}: byte 0x{byte:02x} at position {position} is not printable ASCII")]
    BadAlpha {
        /// The field's name in the spec.
        field: &'static str,
        /// The byte.
        byte: u8,
        /// Its position within the field.
        position: usize,
    },
    /// A value too long for its fixed-width field when encoding.
    #[error("{field}: {length} bytes do not fit the {width}-byte field")]
    FieldTooLong {
        /// The field's name in the spec.
        field: &'static str,
        /// The value's length.
        length: usize,
        /// The field's width.
        width: usize,
    },
}
