//! Order Replace Message, type `U` (ITCH 5.0 section 4.4.5): 35 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::fields::{put_u32, put_u64, u32_at, u64_at};
use super::header::{HEADER_LEN, Header};

/// A resting order is replaced: the original leaves the book and a new order (same side
/// and stock, new reference number) rests at the back of its price level. Ringbook sends
/// it for a modify that loses priority without crossing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderReplace {
    /// The header.
    pub header: Header,
    /// The order replaced.
    pub original_ref: u64,
    /// The replacement's reference number.
    pub new_ref: u64,
    /// The replacement's quantity.
    pub shares: u32,
    /// The replacement's price, Price (4).
    pub price: u32,
}

impl OrderReplace {
    /// The message type byte.
    pub const TYPE: u8 = b'U';
    /// The message's length.
    pub const LEN: usize = HEADER_LEN + 24;

    /// Appends the message.
    pub fn put(&self, out: &mut Vec<u8>) {
        self.header.put(out, Self::TYPE);
        put_u64(out, self.original_ref);
        put_u64(out, self.new_ref);
        put_u32(out, self.shares);
        put_u32(out, self.price);
    }

    /// Reads a message of exactly [`Self::LEN`] bytes (checked by the caller).
    pub(crate) fn read(buf: &[u8]) -> OrderReplace {
        OrderReplace {
            header: Header::at(buf),
            original_ref: u64_at(buf, 11),
            new_ref: u64_at(buf, 19),
            shares: u32_at(buf, 27),
            price: u32_at(buf, 31),
        }
    }
}
