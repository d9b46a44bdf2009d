//! Fuzz body: ITCH 5.0 and GLIMPSE 5.0 message decoding ([`ringbook_wire::itch`],
//! [`ringbook_wire::glimpse`]) and the receiver's books ([`ringbook_gateway::feed::RebuiltBooks`]).
//!
//! The input is cut into messages, each behind a 1-byte length (the layout of an ITCH
//! file, shortened). Decoding must never panic; a message that decodes must encode back
//! to exactly its bytes; an error must name an offset inside the message. Every decoded
//! message is applied to one set of books, which must refuse contradictions with an error,
//! never a panic, and leave the books unchanged when it does.

use ringbook_gateway::feed::{ApplyError, RebuiltBooks};
use ringbook_wire::glimpse::{GlimpseDecodeError, GlimpseMessage};
use ringbook_wire::itch::ItchDecodeError;

/// What one input did, for the corpus replay.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Messages that decoded.
    pub(crate) decoded: usize,
    /// Messages the books applied.
    pub(crate) applied: usize,
    /// Messages the books refused.
    pub(crate) refused: usize,
}

fn check_offset(error: &ItchDecodeError, len: usize) {
    match error {
        ItchDecodeError::BadCode { offset, .. } | ItchDecodeError::BadAlpha { offset, .. } => {
            assert!(
                *offset < len,
                "offset {offset} outside a {len}-byte message"
            );
        }
        ItchDecodeError::Length { expected, got, .. } => assert_ne!(expected, got),
        ItchDecodeError::Empty => assert_eq!(len, 0),
        ItchDecodeError::UnknownType { .. } => {}
    }
}

/// Runs one input; panics (a finding) if a property breaks.
pub(crate) fn run(data: &[u8]) -> Outcome {
    let mut outcome = Outcome::default();
    let mut books = RebuiltBooks::new();
    let mut rest = data;
    let mut seq = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (message, after) = tail.split_at(len);
        rest = after;
        seq += 1;
        match GlimpseMessage::decode(message) {
            Ok(GlimpseMessage::EndOfSnapshot(end)) => {
                let mut out = Vec::new();
                end.put(&mut out);
                assert_eq!(
                    GlimpseMessage::decode(&out).unwrap(),
                    GlimpseMessage::EndOfSnapshot(end)
                );
            }
            Ok(GlimpseMessage::Itch(decoded)) => {
                outcome.decoded += 1;
                assert_eq!(decoded.to_bytes(), message, "re-encoding differs");
                let before = format!("{books:?}");
                match books.apply(seq, &decoded) {
                    Ok(()) => outcome.applied += 1,
                    Err(error) => {
                        outcome.refused += 1;
                        let (ApplyError::UnknownOrder { seq: s, .. }
                        | ApplyError::DuplicateOrder { seq: s, .. }
                        | ApplyError::TooManyShares { seq: s, .. }
                        | ApplyError::UnknownLocate { seq: s, .. }) = error;
                        assert_eq!(s, seq);
                        assert_eq!(format!("{books:?}"), before, "a refusal changed the books");
                    }
                }
            }
            Err(GlimpseDecodeError::Itch(error)) => check_offset(&error, message.len()),
            Err(GlimpseDecodeError::EndOfSnapshot(_)) => {}
        }
    }
    outcome
}
