//! The datagrams a receiver sees, byte for byte, for a fixed flow at the default packet
//! size: the publisher's internals (translation, packing, the retransmission buffer) may
//! change for speed, the wire may not. The digest was taken from the publisher before the
//! per-command cost work of issue 20 (commit 0b7b83c), which packed each message through
//! a zeroed stack array, a growing `Vec` and a `HashMap<Uuid, _>` mirror.

mod feed_common;

use std::net::UdpSocket;
use std::time::Duration;

use feed_common::flow;
use ringbook::{DirectEngine, PublishedEvent, Subscriber};
use ringbook_gateway::feed::{Feed, FeedConfig};
use ringbook_wire::mold::{Downstream, PacketKind};

/// Commands applied between two batch ends.
const BATCH: usize = 40;

/// FNV-1a, 64 bits: enough to tell two byte streams apart in a test.
fn fnv(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// Reads `n` datagrams, folding each (length, then bytes) into `hash`; returns how many
/// messages they carried.
fn read(reader: &UdpSocket, n: u64, hash: &mut u64) -> u64 {
    let mut buf = [0u8; 65_536];
    let mut messages = 0;
    for i in 0..n {
        let len = reader
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("datagram {i} of {n} did not arrive: {e}"));
        fnv(hash, &(len as u64).to_be_bytes());
        fnv(hash, &buf[..len]);
        let packet = Downstream::decode(&buf[..len]).unwrap();
        if packet.kind == PacketKind::Data {
            messages += u64::from(packet.count);
        }
    }
    messages
}

#[test]
fn the_default_datagrams_of_a_fixed_flow_are_unchanged() {
    let (ids, commands) = flow(20, 4, 10_000);
    let reader = UdpSocket::bind("127.0.0.1:0").unwrap();
    reader
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let symbols: Vec<_> = (0..ids.len()).map(|i| Some(format!("G{i}"))).collect();
    let mut config = FeedConfig::new(
        "GOLDEN",
        reader.local_addr().unwrap(),
        ids.iter().copied().zip(symbols).collect(),
    );
    config.origin_ns = Some(34_200_000_000_000);
    config.heartbeat = Duration::from_secs(600);
    let (feed, mut subscriber) = Feed::start(&config).unwrap();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut sent = feed.stats().packets;
    let mut messages = read(&reader, sent, &mut hash);

    let mut engine = DirectEngine::new(ids.iter().copied());
    let mut seq = 0u64;
    let mut events = Vec::new();
    for chunk in commands.chunks(BATCH) {
        for command in chunk {
            events.clear();
            engine.apply(command, &mut |e| events.push(e));
            for result in &events {
                seq += 1;
                subscriber.on_event(&PublishedEvent {
                    seq,
                    input_seq: seq,
                    timestamp_ns: seq * 1_000,
                    result,
                });
            }
        }
        subscriber.on_batch_end();
        let now = feed.stats().packets;
        messages += read(&reader, now - sent, &mut hash);
        sent = now;
    }
    subscriber.finish().unwrap();
    // End of Messages, then the first end-of-session packet.
    let now = feed.stats().packets;
    messages += read(&reader, now - sent + 1, &mut hash);
    let stats = feed.shutdown();

    assert_eq!(messages, stats.messages);
    assert_eq!(
        (stats.packets, stats.messages, hash),
        (GOLDEN_PACKETS, GOLDEN_MESSAGES, GOLDEN_HASH),
        "the datagrams changed"
    );
}

/// Taken at 0b7b83c: data packets (the opening one and End of Messages' included; the
/// end-of-session packet is read and hashed but not counted), messages, digest.
const GOLDEN_PACKETS: u64 = 397;
const GOLDEN_MESSAGES: u64 = 10_643;
const GOLDEN_HASH: u64 = 1_659_570_285_079_299_144;
