//! Order Delete Message, type `D` (ITCH 5.0 section 4.4.4): 19 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::codec::ItchCodec;
use super::error::ItchDecodeError;
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

impl ItchCodec for OrderDelete {
    const TYPE: u8 = b'D';
    const LEN: usize = HEADER_LEN + 8;

    fn header(&self) -> &Header {
        &self.header
    }

    #[inline(always)]
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        out[11..19].copy_from_slice(&self.order_ref.to_be_bytes());
    }

    fn read_fields(header: Header, buf: &[u8]) -> Result<OrderDelete, ItchDecodeError> {
        Ok(OrderDelete {
            header,
            order_ref: u64_at(buf, 11),
        })
    }
}
