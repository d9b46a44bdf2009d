//! One ITCH 5.0 message of the types Ringbook publishes, and its decoder.

use super::add_order::AddOrder;
use super::codec::ItchCodec;
use super::error::ItchDecodeError;
use super::header::Header;
use super::order_cancel::OrderCancel;
use super::order_delete::OrderDelete;
use super::order_executed::OrderExecuted;
use super::order_replace::OrderReplace;
use super::stock_directory::StockDirectory;
use super::system_event::SystemEvent;
use super::trading_action::StockTradingAction;

/// Any message this codec writes or reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItchMessage {
    /// `S` (section 4.1).
    SystemEvent(SystemEvent),
    /// `R` (section 4.2.1).
    StockDirectory(StockDirectory),
    /// `H` (section 4.2.2).
    StockTradingAction(StockTradingAction),
    /// `A` (section 4.3.1).
    AddOrder(AddOrder),
    /// `E` (section 4.4.1).
    OrderExecuted(OrderExecuted),
    /// `X` (section 4.4.3).
    OrderCancel(OrderCancel),
    /// `D` (section 4.4.4).
    OrderDelete(OrderDelete),
    /// `U` (section 4.4.5).
    OrderReplace(OrderReplace),
}

impl ItchMessage {
    /// The longest message this codec writes (a Stock Directory).
    pub const MAX_LEN: usize = StockDirectory::LEN;

    /// The fixed length of messages of type `kind`, `None` for a type this codec does not
    /// know.
    #[must_use]
    pub const fn len_of(kind: u8) -> Option<usize> {
        Some(match kind {
            SystemEvent::TYPE => SystemEvent::LEN,
            StockDirectory::TYPE => StockDirectory::LEN,
            StockTradingAction::TYPE => StockTradingAction::LEN,
            AddOrder::TYPE => AddOrder::LEN,
            OrderExecuted::TYPE => OrderExecuted::LEN,
            OrderCancel::TYPE => OrderCancel::LEN,
            OrderDelete::TYPE => OrderDelete::LEN,
            OrderReplace::TYPE => OrderReplace::LEN,
            _ => return None,
        })
    }

    /// The message's length in bytes (the bytes [`Self::encode`] writes).
    #[inline(always)]
    #[must_use]
    #[allow(clippy::len_without_is_empty)] // A message is never empty.
    pub const fn len(&self) -> usize {
        match self {
            ItchMessage::SystemEvent(_) => SystemEvent::LEN,
            ItchMessage::StockDirectory(_) => StockDirectory::LEN,
            ItchMessage::StockTradingAction(_) => StockTradingAction::LEN,
            ItchMessage::AddOrder(_) => AddOrder::LEN,
            ItchMessage::OrderExecuted(_) => OrderExecuted::LEN,
            ItchMessage::OrderCancel(_) => OrderCancel::LEN,
            ItchMessage::OrderDelete(_) => OrderDelete::LEN,
            ItchMessage::OrderReplace(_) => OrderReplace::LEN,
        }
    }

    /// The message's header.
    #[must_use]
    pub const fn header(&self) -> &Header {
        match self {
            ItchMessage::SystemEvent(m) => &m.header,
            ItchMessage::StockDirectory(m) => &m.header,
            ItchMessage::StockTradingAction(m) => &m.header,
            ItchMessage::AddOrder(m) => &m.header,
            ItchMessage::OrderExecuted(m) => &m.header,
            ItchMessage::OrderCancel(m) => &m.header,
            ItchMessage::OrderDelete(m) => &m.header,
            ItchMessage::OrderReplace(m) => &m.header,
        }
    }

    /// The message's type byte.
    #[must_use]
    pub const fn kind(&self) -> u8 {
        match self {
            ItchMessage::SystemEvent(_) => SystemEvent::TYPE,
            ItchMessage::StockDirectory(_) => StockDirectory::TYPE,
            ItchMessage::StockTradingAction(_) => StockTradingAction::TYPE,
            ItchMessage::AddOrder(_) => AddOrder::TYPE,
            ItchMessage::OrderExecuted(_) => OrderExecuted::TYPE,
            ItchMessage::OrderCancel(_) => OrderCancel::TYPE,
            ItchMessage::OrderDelete(_) => OrderDelete::TYPE,
            ItchMessage::OrderReplace(_) => OrderReplace::TYPE,
        }
    }

    /// Appends the message's bytes (without a MoldUDP64 length prefix).
    pub fn put(&self, out: &mut Vec<u8>) {
        match self {
            ItchMessage::SystemEvent(m) => m.put(out),
            ItchMessage::StockDirectory(m) => m.put(out),
            ItchMessage::StockTradingAction(m) => m.put(out),
            ItchMessage::AddOrder(m) => m.put(out),
            ItchMessage::OrderExecuted(m) => m.put(out),
            ItchMessage::OrderCancel(m) => m.put(out),
            ItchMessage::OrderDelete(m) => m.put(out),
            ItchMessage::OrderReplace(m) => m.put(out),
        }
    }

    /// Writes the message at the start of `out` without allocating; returns its length
    /// (the bytes [`Self::put`] appends). Inlined: where the kind is known, the match goes.
    #[inline(always)]
    pub fn encode(&self, out: &mut [u8; Self::MAX_LEN]) -> usize {
        match self {
            ItchMessage::SystemEvent(m) => m.write(out),
            ItchMessage::StockDirectory(m) => m.write(out),
            ItchMessage::StockTradingAction(m) => m.write(out),
            ItchMessage::AddOrder(m) => m.write(out),
            ItchMessage::OrderExecuted(m) => m.write(out),
            ItchMessage::OrderCancel(m) => m.write(out),
            ItchMessage::OrderDelete(m) => m.write(out),
            ItchMessage::OrderReplace(m) => m.write(out),
        }
    }

    /// The message's bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::MAX_LEN);
        self.put(&mut out);
        out
    }

    /// Decodes one whole message: `buf` must hold exactly one message of a known type.
    ///
    /// # Errors
    ///
    /// [`ItchDecodeError`] naming the type, field and offset that is wrong.
    pub fn decode(buf: &[u8]) -> Result<ItchMessage, ItchDecodeError> {
        let &kind = buf.first().ok_or(ItchDecodeError::Empty)?;
        let expected = Self::len_of(kind).ok_or(ItchDecodeError::UnknownType { byte: kind })?;
        if buf.len() != expected {
            return Err(ItchDecodeError::Length {
                kind,
                expected,
                got: buf.len(),
            });
        }
        Ok(match kind {
            SystemEvent::TYPE => ItchMessage::SystemEvent(SystemEvent::read(buf)?),
            StockDirectory::TYPE => ItchMessage::StockDirectory(StockDirectory::read(buf)?),
            StockTradingAction::TYPE => {
                ItchMessage::StockTradingAction(StockTradingAction::read(buf)?)
            }
            AddOrder::TYPE => ItchMessage::AddOrder(AddOrder::read(buf)?),
            OrderExecuted::TYPE => ItchMessage::OrderExecuted(OrderExecuted::read(buf)?),
            OrderCancel::TYPE => ItchMessage::OrderCancel(OrderCancel::read(buf)?),
            OrderDelete::TYPE => ItchMessage::OrderDelete(OrderDelete::read(buf)?),
            _ => ItchMessage::OrderReplace(OrderReplace::read(buf)?),
        })
    }
}
