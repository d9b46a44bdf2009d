//! Order Delete Message, type `D` (ITCH 5.0 section 4.4.4): 19 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::fields::u64_at;
use super::header::{HEADER_LEN, Header};
use super::message::ItchMessage;

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
        let mut bytes = [0u8; ItchMessage::MAX_LEN];
        self.write(&mut bytes);
        out.extend_from_slice(&bytes[..Self::LEN]);
    }

    /// Writes the message at the start of `out` (its first [`Self::LEN`] bytes).
    pub(crate) fn write(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        self.header.write(out, Self::TYPE);
        out[11..19].copy_from_slice(&self.order_ref.to_be_bytes());
    }

    /// Reads a message of exactly [`Self::LEN`] bytes (checked by the caller).
    pub(crate) fn read(buf: &[u8]) -> OrderDelete {
        OrderDelete {
            header: Header::at(buf),
            order_ref: u64_at(buf, 11),
        }
    }
}
