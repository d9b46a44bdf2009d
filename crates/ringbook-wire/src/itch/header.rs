//! The header every ITCH 5.0 message begins with (specification section 1.3 and each
//! message's first four fields): Message Type (1), Stock Locate (2), Tracking Number (2),
//! Timestamp (6, nanoseconds since midnight).

use super::fields::{TIMESTAMP_MAX, u16_at, u48_at};
use super::message::ItchMessage;

/// The length of the common header, the message type included.
pub const HEADER_LEN: usize = 11;

/// The fields every message shares after its type byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Header {
    /// The instrument's locate code (0 for messages about no instrument).
    pub stock_locate: u16,
    /// An internal tracking number (Ringbook writes 0).
    pub tracking_number: u16,
    /// Nanoseconds since midnight; only the low 48 bits are sent.
    pub timestamp: u64,
}

impl Header {
    /// Writes the type byte and the header.
    #[inline(always)]
    pub(crate) fn write(&self, out: &mut [u8; ItchMessage::MAX_LEN], kind: u8) {
        out[0] = kind;
        out[1..3].copy_from_slice(&self.stock_locate.to_be_bytes());
        out[3..5].copy_from_slice(&self.tracking_number.to_be_bytes());
        out[5..11].copy_from_slice(&(self.timestamp & TIMESTAMP_MAX).to_be_bytes()[2..]);
    }

    /// Reads the header of a message whose length the caller checked.
    pub(crate) fn at(buf: &[u8]) -> Header {
        Header {
            stock_locate: u16_at(buf, 1),
            tracking_number: u16_at(buf, 3),
            timestamp: u48_at(buf, 5),
        }
    }
}
