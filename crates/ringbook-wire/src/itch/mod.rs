//! NASDAQ TotalView-ITCH 5.0: the market-by-order messages Ringbook publishes, each laid
//! out exactly as the specification's section 4 gives it (big-endian integers, 6-byte
//! nanoseconds-since-midnight timestamps, alpha fields left-justified and space-padded,
//! Price (4) as an unsigned 32-bit integer with 4 implied decimals).
//!
//! Every layout was checked against two public sources: the NASDAQ TotalView-ITCH 5.0
//! specification and the `itchy` crate's decoder (which the gateway's tests also run on
//! Ringbook's output).
//!
//! [`ItchMessage::decode`] decodes one message; every message type implements [`ItchCodec`]
//! (its type byte, length and field layout; `put` to encode, `read` to decode).

mod add_order;
mod codec;
mod error;
mod fields;
mod header;
mod message;
mod order_cancel;
mod order_delete;
mod order_executed;
mod order_replace;
mod price_band;
mod stock_directory;
mod system_event;
mod trading_action;

pub use add_order::{AddOrder, ItchSide};
pub use codec::ItchCodec;
pub use error::ItchDecodeError;
pub use fields::{Stock, TIMESTAMP_MAX};
pub use header::{HEADER_LEN, Header};
pub use message::ItchMessage;
pub use order_cancel::OrderCancel;
pub use order_delete::OrderDelete;
pub use order_executed::OrderExecuted;
pub use order_replace::OrderReplace;
pub use price_band::{BandError, PriceBand, itch_price};
pub use stock_directory::StockDirectory;
pub use system_event::{SystemEvent, SystemEventCode};
pub use trading_action::{StockTradingAction, TradingState};

#[cfg(test)]
mod tests;
