//! Add Order – No MPID Attribution Message, type `A` (ITCH 5.0 section 4.3.1): 36 bytes.
//! Checked against the NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's
//! decoder.

use super::codec::ItchCodec;
use super::error::ItchDecodeError;
use super::fields::{Stock, stock_at, u32_at, u64_at};
use super::header::{HEADER_LEN, Header};
use super::message::ItchMessage;

/// The side of an order, the Buy/Sell Indicator field (`B` or `S`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItchSide {
    /// `B`: a bid.
    Buy,
    /// `S`: an offer.
    Sell,
}

impl ItchSide {
    /// The side's byte.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            ItchSide::Buy => b'B',
            ItchSide::Sell => b'S',
        }
    }
}

/// A new order resting in the book, at the back of its price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddOrder {
    /// The header.
    pub header: Header,
    /// The Order Reference Number, unique for the day; later messages name the order by it.
    pub order_ref: u64,
    /// The side.
    pub side: ItchSide,
    /// The displayed quantity.
    pub shares: u32,
    /// The symbol.
    pub stock: Stock,
    /// The limit price, Price (4): an unsigned integer with 4 implied decimal places.
    pub price: u32,
}

impl ItchCodec for AddOrder {
    const TYPE: u8 = b'A';
    const LEN: usize = HEADER_LEN + 25;

    fn header(&self) -> &Header {
        &self.header
    }

    #[inline(always)]
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        out[11..19].copy_from_slice(&self.order_ref.to_be_bytes());
        out[19] = self.side.byte();
        out[20..24].copy_from_slice(&self.shares.to_be_bytes());
        out[24..32].copy_from_slice(&self.stock.0);
        out[32..36].copy_from_slice(&self.price.to_be_bytes());
    }

    fn read_fields(header: Header, buf: &[u8]) -> Result<AddOrder, ItchDecodeError> {
        let side = match buf[19] {
            b'B' => ItchSide::Buy,
            b'S' => ItchSide::Sell,
            byte => {
                return Err(ItchDecodeError::BadCode {
                    kind: Self::TYPE,
                    field: "Buy/Sell Indicator",
                    offset: 19,
                    byte,
                });
            }
        };
        Ok(AddOrder {
            header,
            order_ref: u64_at(buf, 11),
            side,
            shares: u32_at(buf, 20),
            stock: stock_at(buf, 24, Self::TYPE)?,
            price: u32_at(buf, 32),
        })
    }
}
