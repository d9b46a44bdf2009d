//! Order Executed Message, type `E` (ITCH 5.0 section 4.4.1): 31 bytes. Checked against
//! the NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::fields::{u32_at, u64_at};
use super::header::{HEADER_LEN, Header};
use super::message::ItchMessage;

/// A resting order traded, in whole or in part, at its own price. The shares leave the
/// order; it leaves the book when none remain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderExecuted {
    /// The header.
    pub header: Header,
    /// The resting order.
    pub order_ref: u64,
    /// The quantity executed.
    pub executed_shares: u32,
    /// The Match Number: one per fill, unique for the day.
    pub match_number: u64,
}

impl OrderExecuted {
    /// The message type byte.
    pub const TYPE: u8 = b'E';
    /// The message's length.
    pub const LEN: usize = HEADER_LEN + 20;

    /// Appends the message.
    pub fn put(&self, out: &mut Vec<u8>) {
        let mut bytes = [0u8; ItchMessage::MAX_LEN];
        self.write(&mut bytes);
        out.extend_from_slice(&bytes[..Self::LEN]);
    }

    /// Writes the message at the start of `out` (its first [`Self::LEN`] bytes).
    pub(crate) fn write(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        self.header.write(out, Self::TYPE);
        out[11..19].copy_from_slice(&self.order_ref.to_be_bytes());
        out[19..23].copy_from_slice(&self.executed_shares.to_be_bytes());
        out[23..31].copy_from_slice(&self.match_number.to_be_bytes());
    }

    /// Reads a message of exactly [`Self::LEN`] bytes (checked by the caller).
    pub(crate) fn read(buf: &[u8]) -> OrderExecuted {
        OrderExecuted {
            header: Header::at(buf),
            order_ref: u64_at(buf, 11),
            executed_shares: u32_at(buf, 19),
            match_number: u64_at(buf, 23),
        }
    }
}
