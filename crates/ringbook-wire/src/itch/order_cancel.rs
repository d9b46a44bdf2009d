//! Order Cancel Message, type `X` (ITCH 5.0 section 4.4.3): 23 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::codec::ItchCodec;
use super::error::ItchDecodeError;
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

impl ItchCodec for OrderCancel {
    const TYPE: u8 = b'X';
    const LEN: usize = HEADER_LEN + 12;

    fn header(&self) -> &Header {
        &self.header
    }

    #[inline(always)]
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        out[11..19].copy_from_slice(&self.order_ref.to_be_bytes());
        out[19..23].copy_from_slice(&self.cancelled_shares.to_be_bytes());
    }

    fn read_fields(header: Header, buf: &[u8]) -> Result<OrderCancel, ItchDecodeError> {
        Ok(OrderCancel {
            header,
            order_ref: u64_at(buf, 11),
            cancelled_shares: u32_at(buf, 19),
        })
    }
}
