//! The length rules shared by every message: a fixed part, then (always, or for the
//! shorter messages optionally) a 2-byte Appendage Length and that many appendage bytes.

use super::cursor::Put;
use super::{Appendage, AppendageError, OuchError};

/// Whether a message must carry the Appendage Length field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tail {
    /// The field is part of the message in every revision (Enter Order, ...).
    Required,
    /// The field came with a later revision; a message may end before it.
    Optional,
    /// The message has no appendage (System Event).
    None,
}

/// Checks `msg`'s length against a fixed part of `fixed` bytes (type byte included) and
/// the tail rule; returns the appendage.
pub(crate) fn appendage_of(
    msg: &[u8],
    fixed: usize,
    tail: Tail,
) -> Result<Appendage<'_>, OuchError> {
    let message_type = msg.first().copied().unwrap_or(0);
    let bad = |expected| OuchError::BadLength {
        message_type,
        expected,
        actual: msg.len(),
    };
    match tail {
        Tail::None => {
            return if msg.len() == fixed {
                Ok(Appendage::EMPTY)
            } else {
                Err(bad(fixed))
            };
        }
        Tail::Optional if msg.len() == fixed => return Ok(Appendage::EMPTY),
        _ => {}
    }
    if msg.len() < fixed + 2 {
        return Err(bad(fixed + 2));
    }
    let stated = usize::from(u16::from_be_bytes([msg[fixed], msg[fixed + 1]]));
    let rest = &msg[fixed + 2..];
    let wrap = |source| OuchError::Appendage {
        message_type,
        source,
    };
    if stated > rest.len() {
        return Err(wrap(AppendageError::LengthPastMessage {
            stated,
            available: rest.len(),
        }));
    }
    if stated < rest.len() {
        return Err(wrap(AppendageError::TrailingBytes {
            stated,
            extra: rest.len() - stated,
        }));
    }
    Appendage::parse(rest).map_err(wrap)
}

/// Writes the Appendage Length and the appendage.
pub(crate) fn put_appendage(out: &mut Vec<u8>, appendage: &Appendage<'_>) {
    let bytes = appendage.bytes();
    out.put_u16(u16::try_from(bytes.len()).unwrap_or(u16::MAX));
    out.put(&bytes[..bytes.len().min(usize::from(u16::MAX))]);
}
