//! The field types of ITCH 5.0 (specification section 3, "Data Types"): big-endian
//! integers, 6-byte timestamps, and alpha fields left-justified and padded on the right
//! with spaces.

use super::error::ItchDecodeError;

/// Nanoseconds since midnight fit in 48 bits (a day is about 8.64e13 ns < 2^48).
pub const TIMESTAMP_MAX: u64 = (1 << 48) - 1;

/// An 8-byte alpha stock symbol (the "Stock" field): printable ASCII, left-justified,
/// padded with spaces.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stock(pub [u8; 8]);

impl Stock {
    /// `symbol` padded to 8 bytes, or `None` when it is empty, longer than 8 bytes, or holds
    /// anything but printable ASCII without spaces.
    #[must_use]
    pub fn new(symbol: &str) -> Option<Stock> {
        let bytes = symbol.as_bytes();
        if bytes.is_empty() || bytes.len() > 8 || !bytes.iter().all(u8::is_ascii_graphic) {
            return None;
        }
        let mut out = [b' '; 8];
        out[..bytes.len()].copy_from_slice(bytes);
        Some(Stock(out))
    }

    /// The symbol without its padding.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
        // Decoding checks every byte is printable ASCII, and `new` builds only such bytes.
        std::str::from_utf8(&self.0[..end]).unwrap_or("")
    }
}

impl std::fmt::Debug for Stock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stock({:?})", self.as_str())
    }
}

/// Reads a big-endian 48-bit integer at `at` (the caller checked the length).
pub(crate) fn u48_at(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b[2..].copy_from_slice(&buf[at..at + 6]);
    u64::from_be_bytes(b)
}

/// Reads a big-endian u16 at `at` (the caller checked the length).
pub(crate) fn u16_at(buf: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([buf[at], buf[at + 1]])
}

/// Reads a big-endian u32 at `at` (the caller checked the length).
pub(crate) fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_be_bytes(b)
}

/// Reads a big-endian u64 at `at` (the caller checked the length).
pub(crate) fn u64_at(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_be_bytes(b)
}

/// Reads an alpha field of `N` bytes at `at`, refusing bytes outside printable ASCII.
pub(crate) fn alpha_at<const N: usize>(
    buf: &[u8],
    at: usize,
    kind: u8,
    field: &'static str,
) -> Result<[u8; N], ItchDecodeError> {
    let mut out = [0u8; N];
    out.copy_from_slice(&buf[at..at + N]);
    if let Some(i) = out
        .iter()
        .position(|&b| !(b.is_ascii_graphic() || b == b' '))
    {
        return Err(ItchDecodeError::BadAlpha {
            kind,
            field,
            offset: at + i,
            byte: out[i],
        });
    }
    Ok(out)
}

/// Reads the 8-byte Stock field at `at`.
pub(crate) fn stock_at(buf: &[u8], at: usize, kind: u8) -> Result<Stock, ItchDecodeError> {
    alpha_at::<8>(buf, at, kind, "Stock").map(Stock)
}
