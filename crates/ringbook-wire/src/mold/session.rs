//! The Session field of MoldUDP64 (specification "Downstream Packet Header"): 10 bytes of
//! alpha, left-justified and padded with spaces.

use super::error::MoldDecodeError;

/// The length of the Session field.
pub const SESSION_LEN: usize = 10;

/// A MoldUDP64 session name.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session(pub [u8; SESSION_LEN]);

impl Session {
    /// `name` padded to 10 bytes, or `None` when it is empty, longer than 10 bytes or holds
    /// anything but printable ASCII without spaces.
    #[must_use]
    pub fn new(name: &str) -> Option<Session> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() > SESSION_LEN || !bytes.iter().all(u8::is_ascii_graphic)
        {
            return None;
        }
        let mut out = [b' '; SESSION_LEN];
        out[..bytes.len()].copy_from_slice(bytes);
        Some(Session(out))
    }

    /// The name without its padding.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
        std::str::from_utf8(&self.0[..end]).unwrap_or("")
    }

    /// Reads the field at the start of `buf` (at least 10 bytes, checked by the caller).
    pub(crate) fn at(buf: &[u8]) -> Result<Session, MoldDecodeError> {
        let mut out = [0u8; SESSION_LEN];
        out.copy_from_slice(&buf[..SESSION_LEN]);
        if let Some(offset) = out
            .iter()
            .position(|&b| !(b.is_ascii_graphic() || b == b' '))
        {
            return Err(MoldDecodeError::BadSession {
                offset,
                byte: out[offset],
            });
        }
        Ok(Session(out))
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({:?})", self.as_str())
    }
}

impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
