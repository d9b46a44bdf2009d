//! What can be wrong with an OUCH message's bytes.

use thiserror::Error;

use super::AppendageError;

/// An OUCH message that does not follow the spec's layout.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OuchError {
    /// A message of no bytes (no type).
    #[error("empty OUCH message (no message type)")]
    Empty,
    /// A message type the spec does not define in this direction.
    #[error("unknown {direction} OUCH message type 0x{byte:02x}")]
    UnknownType {
        /// The type byte.
        byte: u8,
        /// `inbound` (client to server) or `outbound`.
        direction: &'static str,
    },
    /// A message whose length is not the spec's fixed length (plus, where the message
    /// has one, its Appendage Length and appendage).
    #[error("OUCH message '{}' is {actual} bytes; the spec's layout takes {expected}", char::from(*.message_type))]
    BadLength {
        /// The type byte.
        message_type: u8,
        /// What the layout takes (the fixed part, or fixed part plus stated appendage).
        expected: usize,
        /// What the message has.
        actual: usize,
    },
    /// A malformed Optional Appendage.
    #[error("OUCH message '{}': {source}", char::from(*.message_type))]
    Appendage {
        /// The type byte.
        message_type: u8,
        /// What is wrong with it.
        source: AppendageError,
    },
}
