//! System Event Message, type `S` (ITCH 5.0 section 4.1): 12 bytes. Checked against the
//! NASDAQ TotalView-ITCH 5.0 specification and the `itchy` crate's decoder.

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

impl SystemEvent {
    /// The message type byte.
    pub const TYPE: u8 = b'S';
    /// The message's length.
    pub const LEN: usize = HEADER_LEN + 1;

    /// Appends the message.
    pub fn put(&self, out: &mut Vec<u8>) {
        let mut bytes = [0u8; ItchMessage::MAX_LEN];
        self.write(&mut bytes);
        out.extend_from_slice(&bytes[..Self::LEN]);
    }

    /// Writes the message at the start of `out` (its first [`Self::LEN`] bytes).
    pub(crate) fn write(&self, out: &mut [u8; ItchMessage::MAX_LEN]) {
        self.header.write(out, Self::TYPE);
        out[11] = self.event.byte();
    }

    /// Reads a message of exactly [`Self::LEN`] bytes (checked by the caller).
    pub(crate) fn read(buf: &[u8]) -> Result<SystemEvent, ItchDecodeError> {
        let byte = buf[HEADER_LEN];
        let event = SystemEventCode::from_byte(byte).ok_or(ItchDecodeError::BadCode {
            kind: Self::TYPE,
            field: "Event Code",
            offset: HEADER_LEN,
            byte,
        })?;
        Ok(SystemEvent {
            header: Header::at(buf),
            event,
        })
    }
}
