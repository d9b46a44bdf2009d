//! Fuzz body: SoupBinTCP framing and the login payloads ([`ringbook_wire::soup`]).
//!
//! The first byte picks the sender (client or server) and the payload bound; the rest is
//! a byte stream cut into packets until it runs out or an error. Framing must never
//! panic; every packet taken must lie inside the stream and re-encode to the same bytes;
//! a login request or accepted payload that decodes must encode back to bytes that
//! decode equal.

use ringbook_wire::soup::frame::{Sender, next_packet};
use ringbook_wire::soup::login::{LoginAccepted, LoginRequest};
use ringbook_wire::soup::{PacketType, encode};

/// What one input did, for the corpus replay.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Packets taken.
    pub(crate) packets: usize,
    /// Whether framing stopped at an error.
    pub(crate) error: bool,
}

/// Runs one input; panics (a finding) if a property breaks.
pub(crate) fn run(data: &[u8]) -> Outcome {
    let mut outcome = Outcome::default();
    let Some((&flags, stream)) = data.split_first() else {
        return outcome;
    };
    let sender = if flags & 1 == 0 {
        Sender::Client
    } else {
        Sender::Server
    };
    let bound = if flags & 2 == 0 { 64 } else { 65_534 };
    let mut at = 0usize;
    loop {
        match next_packet(&stream[at..], at as u64, bound, sender) {
            Ok(None) => break,
            Err(_) => {
                outcome.error = true;
                break;
            }
            Ok(Some(packet)) => {
                assert!(packet.wire_len >= 3 && at + packet.wire_len <= stream.len());
                assert!(packet.payload.len() <= bound);
                let mut again = Vec::new();
                let start = encode::begin_packet(&mut again, packet.packet_type);
                again.extend_from_slice(packet.payload);
                encode::finish_packet(&mut again, start).expect("a framed payload fits");
                assert_eq!(again, &stream[at..at + packet.wire_len]);
                match packet.packet_type {
                    PacketType::LoginRequest => {
                        if let Ok(request) = LoginRequest::decode(packet.payload) {
                            let mut bytes = [0u8; 46];
                            request.encode(&mut bytes);
                            assert_eq!(LoginRequest::decode(&bytes), Ok(request));
                        }
                    }
                    PacketType::LoginAccepted => {
                        if let Ok(accepted) = LoginAccepted::decode(packet.payload) {
                            let mut bytes = [0u8; 30];
                            accepted.encode(&mut bytes);
                            assert_eq!(LoginAccepted::decode(&bytes), Ok(accepted));
                        }
                    }
                    _ => {}
                }
                outcome.packets += 1;
                at += packet.wire_len;
            }
        }
    }
    outcome
}
