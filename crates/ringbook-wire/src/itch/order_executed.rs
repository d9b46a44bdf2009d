//! Order Executed Message, type `E` (ITCH 5.0 section 4.4.1): 31 bytes. Checked against
//! the NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::fields::{put_u32, put_u64, u32_at, u64_at};
use super::header::{HEADER_LEN, Header};

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
        self.header.put(out, Self::TYPE);
        put_u64(out, self.order_ref);
        put_u32(out, self.executed_shares);
        put_u64(out, self.match_number);
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
