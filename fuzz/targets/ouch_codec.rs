//! Fuzz body: the OUCH 5.0 decoders ([`ringbook_wire::ouch`]).
//!
//! The first byte picks the direction; the rest is one message. Decoding must never
//! panic; a message that decodes must encode to bytes that decode to the same message,
//! and those bytes must be the input itself or the input plus an empty Appendage Length
//! (the encoders always write the field, which older revisions leave off; an AIQ
//! Canceled of the revision before its AIQ Strategy field also gains that field).

use ringbook_wire::ouch::inbound::Inbound;
use ringbook_wire::ouch::outbound::Outbound;

/// What one input did, for the corpus replay.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Whether the message decoded.
    pub(crate) decoded: bool,
}

fn same_or_with_empty_appendage(input: &[u8], encoded: &[u8]) {
    // AIQ Canceled of the revision before its AIQ Strategy field gains a space for it.
    if input.first() == Some(&b'D') && input.len() == 31 {
        assert_eq!(&encoded[..31], input);
        assert_eq!(&encoded[31..], b" \0\0");
        return;
    }
    if encoded != input {
        assert_eq!(encoded.len(), input.len() + 2, "re-encoded length");
        assert_eq!(&encoded[..input.len()], input);
        assert_eq!(&encoded[input.len()..], &[0, 0]);
    }
}

/// Runs one input; panics (a finding) if a property breaks.
pub(crate) fn run(data: &[u8]) -> Outcome {
    let mut outcome = Outcome::default();
    let Some((&flags, msg)) = data.split_first() else {
        return outcome;
    };
    let mut encoded = Vec::new();
    if flags & 1 == 0 {
        if let Ok(message) = Inbound::decode(msg) {
            message.encode(&mut encoded);
            assert_eq!(Inbound::decode(&encoded), Ok(message));
            same_or_with_empty_appendage(msg, &encoded);
            outcome.decoded = true;
        }
    } else if let Ok(message) = Outbound::decode(msg) {
        message.encode(&mut encoded);
        assert_eq!(Outbound::decode(&encoded), Ok(message));
        same_or_with_empty_appendage(msg, &encoded);
        outcome.decoded = true;
    }
    outcome
}
