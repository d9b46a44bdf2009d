//! Fuzz body: MoldUDP64 downstream and request packets ([`ringbook_wire::mold`]).
//!
//! The input is one datagram. Decoding must never panic; a downstream packet that decodes
//! must carry exactly its message count of blocks, numbered from its sequence number,
//! each inside the datagram, and rebuilding it with `PacketBuilder` (or `control_packet`)
//! must give back the same bytes; a request that decodes must encode to the same bytes;
//! an error's offset must lie inside the datagram (or at its end, for a
//! missing block).

use ringbook_wire::mold::{
    DOWNSTREAM_HEADER_LEN, Downstream, MoldDecodeError, PacketBuilder, PacketKind, Request,
    control_packet,
};

/// What one input did, for the corpus replay.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Whether it decoded as a data packet.
    pub(crate) data: bool,
    /// Whether it decoded as a heartbeat or end of session.
    pub(crate) control: bool,
    /// Whether it decoded as a request.
    pub(crate) request: bool,
}

/// Runs one input; panics (a finding) if a property breaks.
pub(crate) fn run(data: &[u8]) -> Outcome {
    let mut outcome = Outcome::default();
    match Downstream::decode(data) {
        Ok(packet) => {
            let messages: Vec<(u64, &[u8])> = packet.messages().collect();
            assert_eq!(messages.len(), usize::from(packet.count));
            match packet.kind {
                PacketKind::Data => {
                    outcome.data = true;
                    let mut builder = PacketBuilder::new(packet.session, data.len());
                    for (i, (seq, message)) in messages.iter().enumerate() {
                        assert_eq!(*seq, packet.seq.wrapping_add(i as u64));
                        assert!(
                            builder.push(message),
                            "a decoded packet's block must fit again"
                        );
                    }
                    assert_eq!(builder.finish(packet.seq), data);
                }
                kind => {
                    outcome.control = true;
                    assert_eq!(&control_packet(packet.session, packet.seq, kind)[..], data);
                }
            }
        }
        // A missing block's length field starts where the datagram ends, at the latest.
        Err(MoldDecodeError::TruncatedBlock { offset, .. }) => {
            assert!(offset >= DOWNSTREAM_HEADER_LEN && offset <= data.len());
        }
        Err(MoldDecodeError::TrailingBytes { offset, .. }) => {
            assert!(offset >= DOWNSTREAM_HEADER_LEN && offset < data.len());
        }
        Err(MoldDecodeError::BadSession { offset, .. }) => assert!(offset < 10),
        Err(_) => {}
    }
    if let Ok(request) = Request::decode(data) {
        outcome.request = true;
        assert_eq!(&request.encode()[..], data);
    }
    outcome
}
