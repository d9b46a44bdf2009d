//! Order Replace Message, type `U` (ITCH 5.0 section 4.4.5): 35 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::codec::ItchCodec;
use super::error::ItchDecodeError;
use super::fields::{u32_at, u64_at};
use super::header::{HEADER_LEN, Header};
use super::message::ItchMessage;

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

impl ItchCodec for OrderReplace {
    const TYPE: u8 = b'U';
    const LEN: usize = HEADER_LEN + 24;

    fn header(&self) -> &Header {
        &self.header
    }

    #[inline(always)]
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        out[11..19].copy_from_slice(&self.original_ref.to_be_bytes());
        out[19..27].copy_from_slice(&self.new_ref.to_be_bytes());
        out[27..31].copy_from_slice(&self.shares.to_be_bytes());
        out[31..35].copy_from_slice(&self.price.to_be_bytes());
    }

    fn read_fields(header: Header, buf: &[u8]) -> Result<OrderReplace, ItchDecodeError> {
        Ok(OrderReplace {
            header,
            original_ref: u64_at(buf, 11),
            new_ref: u64_at(buf, 19),
            shares: u32_at(buf, 27),
            price: u32_at(buf, 31),
        })
    }
}
