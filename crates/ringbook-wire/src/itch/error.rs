//! Why a byte buffer is not an ITCH 5.0 message.

use thiserror::Error;

/// A buffer that does not decode as an ITCH 5.0 message, with where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ItchDecodeError {
    /// The buffer is empty: no message type byte.
    #[error("empty ITCH message: no message type byte")]
    Empty,
    /// The message type is not one this codec knows.
    #[error("unknown ITCH message type {byte:#04x} ({})", printable(*byte))]
    UnknownType {
        /// The type byte.
        byte: u8,
    },
    /// The buffer's length differs from the message type's fixed length.
    #[error("ITCH message type '{}' is {expected} bytes, got {got}", *kind as char)]
    Length {
        /// The message type.
        kind: u8,
        /// The length the specification gives it.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// A one-byte code field holds a value the specification does not allow.
    #[error("ITCH message type '{}': field {field} at offset {offset} holds {byte:#04x} ({})", *kind as char, printable(*byte))]
    BadCode {
        /// The message type.
        kind: u8,
        /// The field's name in the specification.
        field: &'static str,
        /// The byte offset of the field within the message.
        offset: usize,
        /// The byte found.
        byte: u8,
    },
    /// An alpha field holds a byte outside printable ASCII.
    #[error("ITCH message type '{}': alpha field {field} at offset {offset} holds non-printable byte {byte:#04x}", *kind as char)]
    BadAlpha {
        /// The message type.
        kind: u8,
        /// The field's name in the specification.
        field: &'static str,
        /// The byte offset of the offending byte within the message.
        offset: usize,
        /// The byte found.
        byte: u8,
    },
}

/// A byte as a character when it is printable ASCII, else `?`.
fn printable(byte: u8) -> char {
    if byte.is_ascii_graphic() || byte == b' ' {
        byte as char
    } else {
        '?'
    }
}
