//! Why a datagram is not a MoldUDP64 packet.

use thiserror::Error;

/// A datagram that does not decode as a MoldUDP64 downstream or request packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoldDecodeError {
    /// Shorter than the fixed header.
    #[error("MoldUDP64 packet of {got} bytes is shorter than its {needed}-byte header")]
    ShortHeader {
        /// The header's length.
        needed: usize,
        /// The datagram's length.
        got: usize,
    },
    /// The session field holds a byte outside printable ASCII.
    #[error("MoldUDP64 session field holds non-printable byte {byte:#04x} at offset {offset}")]
    BadSession {
        /// The offset of the byte in the packet.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A message block's length runs past the end of the datagram.
    #[error(
        "MoldUDP64 message block {index} at offset {offset} needs {needed} bytes, {left} left in the packet"
    )]
    TruncatedBlock {
        /// The block's index in the packet, from 0.
        index: u16,
        /// The offset of its length field.
        offset: usize,
        /// The bytes it needs (length field and message).
        needed: usize,
        /// The bytes left.
        left: usize,
    },
    /// Bytes left after the header's message count of blocks.
    #[error(
        "MoldUDP64 packet has {extra} bytes after its {count} message blocks (offset {offset})"
    )]
    TrailingBytes {
        /// The header's message count.
        count: u16,
        /// Where the extra bytes start.
        offset: usize,
        /// How many there are.
        extra: usize,
    },
    /// A heartbeat or end-of-session packet carrying message blocks.
    #[error("MoldUDP64 {kind} packet carries {extra} bytes of message blocks")]
    ControlWithData {
        /// `heartbeat` or `end of session`.
        kind: &'static str,
        /// The bytes after the header.
        extra: usize,
    },
    /// A request packet whose length is not the specification's 20 bytes.
    #[error("MoldUDP64 request packet is {got} bytes, expected 20")]
    RequestLength {
        /// The datagram's length.
        got: usize,
    },
}
