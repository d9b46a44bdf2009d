//! Downstream and request packets: layouts, round trips, and refusals with positions.

use super::*;

fn session() -> Session {
    Session::new("RB1").unwrap()
}

#[test]
fn a_data_packet_is_header_then_length_prefixed_blocks() {
    let mut builder = PacketBuilder::new(session(), 64);
    assert!(builder.push(b"abc"));
    assert!(builder.push(b"de"));
    let packet = builder.finish(42).to_vec();
    let expected: Vec<u8> = [
        &b"RB1       "[..],
        &42u64.to_be_bytes(),
        &2u16.to_be_bytes(),
        &[0, 3],
        b"abc",
        &[0, 2],
        b"de",
    ]
    .concat();
    assert_eq!(packet, expected);
    let decoded = Downstream::decode(&packet).unwrap();
    assert_eq!(
        (decoded.session, decoded.seq, decoded.kind, decoded.count),
        (session(), 42, PacketKind::Data, 2)
    );
    let messages: Vec<_> = decoded.messages().collect();
    assert_eq!(messages, vec![(42, &b"abc"[..]), (43, &b"de"[..])]);
    // The builder starts again empty.
    assert!(builder.push(b"f"));
    let next = Downstream::decode(builder.finish(44)).unwrap();
    assert_eq!(next.messages().collect::<Vec<_>>(), vec![(44, &b"f"[..])]);
}

#[test]
fn the_packet_size_bounds_what_is_pushed() {
    let mut builder = PacketBuilder::new(session(), DOWNSTREAM_HEADER_LEN + 2 + 10);
    assert!(builder.push(&[1; 6]));
    assert!(!builder.push(&[1; 3]), "6 + 2 + 3 + 2 > 12");
    assert!(builder.push(&[1; 2]));
    assert_eq!(builder.count(), 2);
    assert!(!PacketBuilder::new(session(), 30).push(&[0; 9]));
}

#[test]
fn a_fixed_size_block_packs_as_its_first_len_bytes_only() {
    // A packet with room for exactly the blocks "abc" and "de" (2 + 3 + 2 + 2).
    let max = DOWNSTREAM_HEADER_LEN + 9;
    let mut by_block = PacketBuilder::new(session(), max);
    let mut by_slice = PacketBuilder::new(session(), max);
    // The block's tail past `len` is junk that must never reach the packet.
    assert!(by_block.push_block(b"abcXXXXX", 3));
    assert!(by_block.push_block(b"deYYYYYY", 2));
    assert!(by_slice.push(b"abc"));
    assert!(by_slice.push(b"de"));
    assert_eq!(by_block.count(), 2);
    assert!(!by_block.push_block(b"fZZZZZZZ", 1), "the packet is full");
    assert!(!by_block.push_block(b"ab", 3), "len past the block");
    let packet = by_block.finish(7).to_vec();
    assert_eq!(packet, by_slice.finish(7));
    assert_eq!(packet.len(), max);
    let decoded = Downstream::decode(&packet).unwrap();
    assert_eq!(
        decoded.messages().collect::<Vec<_>>(),
        vec![(7, &b"abc"[..]), (8, &b"de"[..])]
    );
    // The next packet starts empty, without the junk left in the slack.
    assert!(by_block.push_block(&[b'q'; BLOCK_SLACK], 1));
    let next = by_block.finish(9).to_vec();
    assert_eq!(next.len(), DOWNSTREAM_HEADER_LEN + 3);
    assert_eq!(
        Downstream::decode(&next)
            .unwrap()
            .messages()
            .collect::<Vec<_>>(),
        vec![(9, &b"q"[..])]
    );
}

#[test]
fn heartbeats_and_end_of_session() {
    let hb = control_packet(session(), 7, PacketKind::Heartbeat);
    let d = Downstream::decode(&hb).unwrap();
    assert_eq!((d.kind, d.seq, d.count), (PacketKind::Heartbeat, 7, 0));
    let end = control_packet(session(), 9, PacketKind::EndOfSession);
    assert_eq!(&end[18..], &[0xff, 0xff]);
    let d = Downstream::decode(&end).unwrap();
    assert_eq!((d.kind, d.seq), (PacketKind::EndOfSession, 9));
    let mut bad = end.to_vec();
    bad.push(0);
    assert_eq!(
        Downstream::decode(&bad),
        Err(MoldDecodeError::ControlWithData {
            kind: "end of session",
            extra: 1
        })
    );
}

#[test]
fn malformed_downstream_packets_name_their_offset() {
    assert_eq!(
        Downstream::decode(&[0; 19]),
        Err(MoldDecodeError::ShortHeader {
            needed: 20,
            got: 19
        })
    );
    let mut builder = PacketBuilder::new(session(), 100);
    builder.push(b"abcd");
    let packet = builder.finish(1).to_vec();
    assert_eq!(
        Downstream::decode(&packet[..packet.len() - 1]),
        Err(MoldDecodeError::TruncatedBlock {
            index: 0,
            offset: 20,
            needed: 6,
            left: 5
        })
    );
    let mut long = packet.clone();
    long.extend_from_slice(&[9, 9]);
    assert_eq!(
        Downstream::decode(&long),
        Err(MoldDecodeError::TrailingBytes {
            count: 1,
            offset: 26,
            extra: 2
        })
    );
    let mut bad_session = packet;
    bad_session[3] = 0;
    assert_eq!(
        Downstream::decode(&bad_session),
        Err(MoldDecodeError::BadSession { offset: 3, byte: 0 })
    );
}

#[test]
fn requests_round_trip_and_are_twenty_bytes() {
    let request = Request {
        session: session(),
        seq: 1 << 40,
        count: 300,
    };
    let bytes = request.encode();
    assert_eq!(bytes.len(), 20);
    assert_eq!(Request::decode(&bytes), Ok(request));
    assert_eq!(
        Request::decode(&bytes[..19]),
        Err(MoldDecodeError::RequestLength { got: 19 })
    );
}

#[test]
fn session_names_are_checked() {
    assert_eq!(Session::new("ABCDEFGHIJ").unwrap().as_str(), "ABCDEFGHIJ");
    assert!(Session::new("ABCDEFGHIJK").is_none());
    assert!(Session::new("").is_none());
    assert!(Session::new("a b").is_none());
}
