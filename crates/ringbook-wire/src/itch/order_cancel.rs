//! Order Cancel Message, type `X` (ITCH 5.0 section 4.4.3): 23 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::fields::{u32_at, u64_at};
use super::header::{HEADER_LEN, Header};
use super::message::ItchMessage;

/// Part of a resting order's quantity is cancelled; the order keeps its place. Ringbook
/// sends it for a modify that reduces the quantity at the same price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderCancel {
    /// The header.
    pub header: Header,
    /// The order.
    pub order_ref: u64,
    /// The quantity removed.
    pub cancelled_shares: u32,
}

impl OrderCancel {
    /// The message type byte.
    pub const TYPE: u8 = b'X';
    /// The message's length.
    pub const LEN: usize = HEADER_LEN + 12;

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
        out[19..23].copy_from_slice(&self.cancelled_shares.to_be_bytes());
    }

    /// Reads a message of exactly [`Self::LEN`] bytes (checked by the caller).
    pub(crate) fn read(buf: &[u8]) -> OrderCancel {
        OrderCancel {
            header: Header::at(buf),
            order_ref: u64_at(buf, 11),
            cancelled_shares: u32_at(buf, 19),
        }
    }
}
