//! System Event Message, type `S` (ITCH 5.0 section 4.1): 12 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

use super::codec::ItchCodec;
use super::error::ItchDecodeError;
use super::header::{HEADER_LEN, Header};
use super::message::ItchMessage;

/// A market-wide event: start and end of messages, system hours, market hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SystemEvent {
    /// The header (Stock Locate 0: no instrument).
    pub header: Header,
    /// The event.
    pub event: SystemEventCode,
}

/// The Event Code field's values (section 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SystemEventCode {
    /// `O`: start of messages, the first message of the day.
    StartOfMessages,
    /// `S`: start of system hours.
    StartOfSystemHours,
    /// `Q`: start of market hours.
    StartOfMarketHours,
    /// `M`: end of market hours.
    EndOfMarketHours,
    /// `E`: end of system hours.
    EndOfSystemHours,
    /// `C`: end of messages, the last message of the day.
    EndOfMessages,
}

impl SystemEventCode {
    /// The code's byte.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            SystemEventCode::StartOfMessages => b'O',
            SystemEventCode::StartOfSystemHours => b'S',
            SystemEventCode::StartOfMarketHours => b'Q',
            SystemEventCode::EndOfMarketHours => b'M',
            SystemEventCode::EndOfSystemHours => b'E',
            SystemEventCode::EndOfMessages => b'C',
        }
    }

    /// The code a byte stands for.
    #[must_use]
    pub const fn from_byte(byte: u8) -> Option<SystemEventCode> {
        Some(match byte {
            b'O' => SystemEventCode::StartOfMessages,
            b'S' => SystemEventCode::StartOfSystemHours,
            b'Q' => SystemEventCode::StartOfMarketHours,
            b'M' => SystemEventCode::EndOfMarketHours,
            b'E' => SystemEventCode::EndOfSystemHours,
            b'C' => SystemEventCode::EndOfMessages,
            _ => return None,
        })
    }
}

impl ItchCodec for SystemEvent {
    const TYPE: u8 = b'S';
    const LEN: usize = HEADER_LEN + 1;

    fn header(&self) -> &Header {
        &self.header
    }

    #[inline(always)]
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        out[11] = self.event.byte();
    }

    fn read_fields(header: Header, buf: &[u8]) -> Result<SystemEvent, ItchDecodeError> {
        let byte = buf[HEADER_LEN];
        let event = SystemEventCode::from_byte(byte).ok_or(ItchDecodeError::BadCode {
            kind: Self::TYPE,
            field: "Event Code",
            offset: HEADER_LEN,
            byte,
        })?;
        Ok(SystemEvent { header, event })
    }
}
