//! NASDAQ GLIMPSE 5.0: a snapshot of every book sent over SoupBinTCP as ITCH 5.0 messages
//! (Stock Directory, Stock Trading Action, Add Order), ended by [`EndOfSnapshot`], which
//! names the live feed's sequence number to continue from.

mod end_of_snapshot;

pub use end_of_snapshot::{EndOfSnapshot, EndOfSnapshotError};

use crate::itch::{ItchDecodeError, ItchMessage};

/// One message of a GLIMPSE snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GlimpseMessage {
    /// An ITCH 5.0 message.
    Itch(ItchMessage),
    /// The end of the snapshot.
    EndOfSnapshot(EndOfSnapshot),
}

/// Why a buffer is not a GLIMPSE message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GlimpseDecodeError {
    /// A bad ITCH message.
    #[error(transparent)]
    Itch(#[from] ItchDecodeError),
    /// A bad End of Snapshot.
    #[error(transparent)]
    EndOfSnapshot(#[from] EndOfSnapshotError),
}

impl GlimpseMessage {
    /// Decodes one whole message.
    ///
    /// # Errors
    ///
    /// [`GlimpseDecodeError`] naming what is wrong and where.
    pub fn decode(buf: &[u8]) -> Result<GlimpseMessage, GlimpseDecodeError> {
        if buf.first() == Some(&EndOfSnapshot::TYPE) {
            return Ok(GlimpseMessage::EndOfSnapshot(EndOfSnapshot::decode(buf)?));
        }
        Ok(GlimpseMessage::Itch(ItchMessage::decode(buf)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_snapshot_round_trips_right_justified() {
        let mut out = Vec::new();
        EndOfSnapshot { next_seq: 1234 }.put(&mut out);
        assert_eq!(out.len(), 21);
        assert_eq!(&out, b"G                1234");
        assert_eq!(
            GlimpseMessage::decode(&out),
            Ok(GlimpseMessage::EndOfSnapshot(EndOfSnapshot {
                next_seq: 1234
            }))
        );
        let left = b"G1234                ";
        assert_eq!(
            EndOfSnapshot::decode(left),
            Ok(EndOfSnapshot { next_seq: 1234 })
        );
        let max = format!("G{:>20}", u64::MAX);
        assert_eq!(
            EndOfSnapshot::decode(max.as_bytes()),
            Ok(EndOfSnapshot { next_seq: u64::MAX })
        );
    }

    #[test]
    fn bad_end_of_snapshots_are_refused() {
        assert!(matches!(
            EndOfSnapshot::decode(b"G12"),
            Err(EndOfSnapshotError::Shape { len: 3, .. })
        ));
        assert!(matches!(
            EndOfSnapshot::decode(b"G               12 34"),
            Err(EndOfSnapshotError::BadNumber { .. })
        ));
        assert!(matches!(
            EndOfSnapshot::decode(b"G                    "),
            Err(EndOfSnapshotError::BadNumber { .. })
        ));
        assert!(matches!(
            EndOfSnapshot::decode(b"G99999999999999999999"),
            Err(EndOfSnapshotError::BadNumber { .. })
        ));
        assert!(matches!(
            GlimpseMessage::decode(b"Q"),
            Err(GlimpseDecodeError::Itch(ItchDecodeError::UnknownType {
                byte: b'Q'
            }))
        ));
    }
}
