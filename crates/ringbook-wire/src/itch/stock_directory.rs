//! Stock Directory Message, type `R` (ITCH 5.0 section 4.2.1): 39 bytes. Checked against
//! the NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::codec::ItchCodec;
use super::error::ItchDecodeError;
use super::fields::{Stock, alpha_at, stock_at, u32_at};
use super::header::{HEADER_LEN, Header};
use super::message::ItchMessage;

/// One instrument's directory entry: its symbol, bound to the header's Stock Locate.
///
/// Ringbook fills the NASDAQ-specific codes with their "not available" or neutral values
/// (see [`StockDirectory::ringbook`]); a decoder keeps whatever printable codes it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StockDirectory {
    /// The header; its Stock Locate is the code every later message about this stock uses.
    pub header: Header,
    /// The symbol.
    pub stock: Stock,
    /// Market Category (space: not available).
    pub market_category: u8,
    /// Financial Status Indicator (space: not available).
    pub financial_status: u8,
    /// Round Lot Size, in shares (Ringbook: 1 lot).
    pub round_lot_size: u32,
    /// Round Lots Only, `Y` or `N`.
    pub round_lots_only: u8,
    /// Issue Classification (`Q`: other securities).
    pub issue_classification: u8,
    /// Issue Sub-Type (`Z `: not applicable).
    pub issue_sub_type: [u8; 2],
    /// Authenticity, `P` (live/production) or `T` (test).
    pub authenticity: u8,
    /// Short Sale Threshold Indicator, `Y`, `N` or space.
    pub short_sale_threshold: u8,
    /// IPO Flag, `Y`, `N` or space.
    pub ipo_flag: u8,
    /// LULD Reference Price Tier, `1`, `2` or space.
    pub luld_tier: u8,
    /// ETP Flag, `Y`, `N` or space.
    pub etp_flag: u8,
    /// ETP Leverage Factor.
    pub etp_leverage_factor: u32,
    /// Inverse Indicator, `Y` or `N`.
    pub inverse_indicator: u8,
}

impl StockDirectory {
    /// The entry Ringbook publishes for an instrument: round lot 1, no NASDAQ-specific
    /// status ("not available" or "not applicable" codes), production authenticity.
    #[must_use]
    pub fn ringbook(header: Header, stock: Stock) -> StockDirectory {
        StockDirectory {
            header,
            stock,
            market_category: b' ',
            financial_status: b' ',
            round_lot_size: 1,
            round_lots_only: b'N',
            issue_classification: b'Q',
            issue_sub_type: *b"Z ",
            authenticity: b'P',
            short_sale_threshold: b' ',
            ipo_flag: b' ',
            luld_tier: b' ',
            etp_flag: b' ',
            etp_leverage_factor: 0,
            inverse_indicator: b'N',
        }
    }
}

impl ItchCodec for StockDirectory {
    const TYPE: u8 = b'R';
    const LEN: usize = HEADER_LEN + 28;

    fn header(&self) -> &Header {
        &self.header
    }

    #[inline(always)]
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        out[11..19].copy_from_slice(&self.stock.0);
        out[19] = self.market_category;
        out[20] = self.financial_status;
        out[21..25].copy_from_slice(&self.round_lot_size.to_be_bytes());
        out[25] = self.round_lots_only;
        out[26] = self.issue_classification;
        out[27..29].copy_from_slice(&self.issue_sub_type);
        out[29] = self.authenticity;
        out[30] = self.short_sale_threshold;
        out[31] = self.ipo_flag;
        out[32] = self.luld_tier;
        out[33] = self.etp_flag;
        out[34..38].copy_from_slice(&self.etp_leverage_factor.to_be_bytes());
        out[38] = self.inverse_indicator;
    }

    fn read_fields(header: Header, buf: &[u8]) -> Result<StockDirectory, ItchDecodeError> {
        let k = Self::TYPE;
        let code = |at: usize, field: &'static str| alpha_at::<1>(buf, at, k, field).map(|b| b[0]);
        Ok(StockDirectory {
            header,
            stock: stock_at(buf, 11, k)?,
            market_category: code(19, "Market Category")?,
            financial_status: code(20, "Financial Status Indicator")?,
            round_lot_size: u32_at(buf, 21),
            round_lots_only: code(25, "Round Lots Only")?,
            issue_classification: code(26, "Issue Classification")?,
            issue_sub_type: alpha_at::<2>(buf, 27, k, "Issue Sub-Type")?,
            authenticity: code(29, "Authenticity")?,
            short_sale_threshold: code(30, "Short Sale Threshold Indicator")?,
            ipo_flag: code(31, "IPO Flag")?,
            luld_tier: code(32, "LULD Reference Price Tier")?,
            etp_flag: code(33, "ETP Flag")?,
            etp_leverage_factor: u32_at(buf, 34),
            inverse_indicator: code(38, "Inverse Indicator")?,
        })
    }
}
