//! The Snapshot (End of Snapshot) Message, type `G` (NASDAQ GLIMPSE 5.0 section 1.7):
//! Message Type (1) and Sequence Number (20, alpha), 21 bytes. It ends the order spin and
//! tells where to begin processing the real-time TotalView-ITCH feed: Ringbook sends the
//! MoldUDP64 sequence number of the first live message the snapshot does not reflect.
//!
//! The alpha digits are written right-justified and padded on the left with spaces (the
//! convention of the SoupBinTCP numeric fields that carry it); the decoder also accepts
//! them left-justified. Checked against the GLIMPSE 5.0 specification's Snapshot Message
//! and its 3.x predecessor's data-type rules.

use thiserror::Error;

/// The End of Snapshot message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EndOfSnapshot {
    /// The live feed's sequence number to start applying at.
    pub next_seq: u64,
}

/// Why a buffer is not an End of Snapshot message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EndOfSnapshotError {
    /// Not 21 bytes starting with `G`.
    #[error(
        "GLIMPSE End of Snapshot must be 21 bytes starting with 'G', got {len} bytes starting with {first:?}"
    )]
    Shape {
        /// The buffer's length.
        len: usize,
        /// Its first byte, if any.
        first: Option<u8>,
    },
    /// The sequence number field is not digits padded with spaces, or overflows u64.
    #[error("GLIMPSE End of Snapshot sequence number {text:?} (offset 1) is not a decimal u64")]
    BadNumber {
        /// The field as received (lossily decoded).
        text: String,
    },
}

impl EndOfSnapshot {
    /// The message type byte.
    pub const TYPE: u8 = b'G';
    /// The message's length.
    pub const LEN: usize = 21;

    /// Appends the message.
    pub fn put(&self, out: &mut Vec<u8>) {
        out.push(Self::TYPE);
        out.extend_from_slice(format!("{:>20}", self.next_seq).as_bytes());
    }

    /// Decodes a whole message.
    ///
    /// # Errors
    ///
    /// [`EndOfSnapshotError`].
    pub fn decode(buf: &[u8]) -> Result<EndOfSnapshot, EndOfSnapshotError> {
        if buf.len() != Self::LEN || buf[0] != Self::TYPE {
            return Err(EndOfSnapshotError::Shape {
                len: buf.len(),
                first: buf.first().copied(),
            });
        }
        let field = &buf[1..];
        let bad = || EndOfSnapshotError::BadNumber {
            text: String::from_utf8_lossy(field).into_owned(),
        };
        let text = std::str::from_utf8(field)
            .map_err(|_| bad())?
            .trim_matches(' ');
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let next_seq = text.parse().map_err(|_| bad())?;
        Ok(EndOfSnapshot { next_seq })
    }
}
