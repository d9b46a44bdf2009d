//! Order Delete Message, type `D` (ITCH 5.0 section 4.4.4): 19 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::fields::{put_u64, u64_at};
use super::header::{HEADER_LEN, Header};

/// A resting order leaves the book whole (a cancel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderDelete {
    /// The header.
    pub header: Header,
    /// The order.
    pub order_ref: u64,
}

impl OrderDelete {
    /// The message type byte.
    pub const TYPE: u8 = b'D';
    /// The message's length.
    pub const LEN: usize = HEADER_LEN + 8;

    /// Appends the message.
    pub fn put(&self, out: &mut Vec<u8>) {
        self.header.put(out, Self::TYPE);
        put_u64(out, self.order_ref);
    }

    /// Reads a message of exactly [`Self::LEN`] bytes (checked by the caller).
    pub(crate) fn read(buf: &[u8]) -> OrderDelete {
        OrderDelete {
            header: Header::at(buf),
            order_ref: u64_at(buf, 11),
        }
    }
}
