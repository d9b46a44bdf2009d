//! SoupBinTCP 4.0 (NASDAQ, "SoupBinTCP 4.0", 2009 and later revisions): a framed,
//! sequenced session protocol over TCP.
//!
//! Every packet is a 2-byte big-endian Packet Length (the bytes that follow it: the type
//! byte and the payload), a 1-byte Packet Type, then the payload (spec section 2). The
//! packet types are in [`PacketType`]; the login packets' fixed layouts in [`login`];
//! framing a byte stream into packets in [`frame`]; writing packets in [`encode`].
//!
//! Alphanumeric fields are ASCII; the spec pads Username and Password with spaces on the
//! right, Session and Sequence Number with spaces on the left (section 1.3), helpers in
//! [`text`].

pub mod encode;
mod error;
pub mod frame;
pub mod login;
mod packet_type;
pub mod text;

pub use error::SoupError;
pub use packet_type::PacketType;

/// The largest Packet Length a 2-byte field can state (type byte plus payload).
pub const MAX_PACKET_LENGTH: usize = u16::MAX as usize;

/// The largest payload a packet can carry: [`MAX_PACKET_LENGTH`] less the type byte.
pub const MAX_PAYLOAD: usize = MAX_PACKET_LENGTH - 1;

/// The bytes before a packet's payload: the 2-byte length and the type byte.
pub const HEADER_LEN: usize = 3;
