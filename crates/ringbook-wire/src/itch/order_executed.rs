//! Order Executed Message, type `E` (ITCH 5.0 section 4.4.1): 31 bytes. Checked against
//! the NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::codec::ItchCodec;
use super::error::ItchDecodeError;
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

impl ItchCodec for OrderExecuted {
    const TYPE: u8 = b'E';
    const LEN: usize = HEADER_LEN + 20;

    fn header(&self) -> &Header {
        &self.header
    }

    #[inline(always)]
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        out[11..19].copy_from_slice(&self.order_ref.to_be_bytes());
        out[19..23].copy_from_slice(&self.executed_shares.to_be_bytes());
        out[23..31].copy_from_slice(&self.match_number.to_be_bytes());
    }

    fn read_fields(header: Header, buf: &[u8]) -> Result<OrderExecuted, ItchDecodeError> {
        Ok(OrderExecuted {
            header,
            order_ref: u64_at(buf, 11),
            executed_shares: u32_at(buf, 19),
            match_number: u64_at(buf, 23),
        })
    }
}
