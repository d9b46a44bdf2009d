//! Stock Trading Action Message, type `H` (ITCH 5.0 section 4.2.2): 25 bytes. Checked
//! against the NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::codec::ItchCodec;
use super::error::ItchDecodeError;
use super::fields::{Stock, alpha_at, stock_at};
use super::header::{HEADER_LEN, Header};
use super::message::ItchMessage;

/// A change of an instrument's trading state: Ringbook publishes a halt as `H` and a
/// resume as `T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StockTradingAction {
    /// The header.
    pub header: Header,
    /// The symbol.
    pub stock: Stock,
    /// The new state.
    pub state: TradingState,
    /// The Reserved byte (sent as space).
    pub reserved: u8,
    /// The Reason field, 4 alpha (Ringbook: spaces).
    pub reason: [u8; 4],
}

/// The Trading State field's values (section 4.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TradingState {
    /// `H`: halted across all U.S. equity markets / SROs; for Ringbook, the book is halted.
    Halted,
    /// `P`: paused.
    Paused,
    /// `Q`: quotation only period.
    QuotationOnly,
    /// `T`: trading.
    Trading,
}

impl TradingState {
    /// The state's byte.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            TradingState::Halted => b'H',
            TradingState::Paused => b'P',
            TradingState::QuotationOnly => b'Q',
            TradingState::Trading => b'T',
        }
    }

    /// The state a byte stands for.
    #[must_use]
    pub const fn from_byte(byte: u8) -> Option<TradingState> {
        Some(match byte {
            b'H' => TradingState::Halted,
            b'P' => TradingState::Paused,
            b'Q' => TradingState::QuotationOnly,
            b'T' => TradingState::Trading,
            _ => return None,
        })
    }
}

impl StockTradingAction {
    /// A trading action with a blank reserved byte and reason.
    #[must_use]
    pub fn new(header: Header, stock: Stock, state: TradingState) -> StockTradingAction {
        StockTradingAction {
            header,
            stock,
            state,
            reserved: b' ',
            reason: *b"    ",
        }
    }
}

impl ItchCodec for StockTradingAction {
    const TYPE: u8 = b'H';
    const LEN: usize = HEADER_LEN + 14;

    fn header(&self) -> &Header {
        &self.header
    }

    #[inline(always)]
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        out[11..19].copy_from_slice(&self.stock.0);
        out[19] = self.state.byte();
        out[20] = self.reserved;
        out[21..25].copy_from_slice(&self.reason);
    }

    fn read_fields(header: Header, buf: &[u8]) -> Result<StockTradingAction, ItchDecodeError> {
        let byte = buf[19];
        let state = TradingState::from_byte(byte).ok_or(ItchDecodeError::BadCode {
            kind: Self::TYPE,
            field: "Trading State",
            offset: 19,
            byte,
        })?;
        Ok(StockTradingAction {
            header,
            stock: stock_at(buf, 11, Self::TYPE)?,
            state,
            reserved: buf[20],
            reason: alpha_at::<4>(buf, 21, Self::TYPE, "Reason")?,
        })
    }
}
