//! The datagrams a receiver sees, byte for byte, for a fixed flow at the default packet
//! size: the publisher's internals (translation, packing, the retransmission buffer) may
//! change for speed, the wire may not. The digest was taken from the publisher before the
//! per-command cost work of issue 20 (commit 0b7b83c), which packed each message through
//! a zeroed stack array, a growing `Vec` and a `HashMap<Uuid, _>` mirror.

mod feed_common;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use feed_common::{flow, publish_one};
use ringbook::{DirectEngine, Subscriber};
use ringbook_gateway::feed::{Feed, FeedConfig, FeedInstrument, PublishOn, Translator};
use ringbook_wire::itch::Stock;
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

/// Reads every datagram up to and including the first end-of-session packet, counting
/// the data packets read in `read` so that the sender can wait for them; returns them.
/// Read on its own thread as they come, with nothing else done per datagram, so the
/// socket's buffer does not overflow whichever thread publishes.
fn read_all(reader: &UdpSocket, read: &AtomicU64) -> Vec<Vec<u8>> {
    let mut datagrams = Vec::new();
    let mut packets = 0;
    let mut buf = [0u8; 65_536];
    loop {
        let len = reader.recv(&mut buf).unwrap_or_else(|e| {
            panic!(
                "datagram {} did not arrive (no end of session yet): {e}",
                datagrams.len()
            )
        });
        let datagram = buf[..len].to_vec();
        let kind = Downstream::decode(&datagram).unwrap().kind;
        datagrams.push(datagram);
        match kind {
            PacketKind::Data => {
                packets += 1;
                read.store(packets, Ordering::Release);
            }
            PacketKind::EndOfSession => return datagrams,
            PacketKind::Heartbeat => panic!("no heartbeat is due (600 s)"),
        }
    }
}

/// The data packets, the messages they carry, and a digest of every datagram (length,
/// then bytes).
fn digest(datagrams: &[Vec<u8>]) -> (u64, u64, u64) {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let (mut packets, mut messages) = (0u64, 0u64);
    for datagram in datagrams {
        fnv(&mut hash, &(datagram.len() as u64).to_be_bytes());
        fnv(&mut hash, datagram);
        let packet = Downstream::decode(datagram).unwrap();
        if packet.kind == PacketKind::Data {
            packets += 1;
            messages += u64::from(packet.count);
        }
    }
    (packets, messages, hash)
}

/// The datagrams of the fixed flow published on `publish_on`: the data packets, their
/// messages and the digest, checked against the feed's own counts.
fn datagrams_of_the_fixed_flow(
    publish_on: PublishOn,
    auto_inline_events: usize,
) -> (u64, u64, u64) {
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
    config.publish_on = publish_on;
    config.auto_inline_events = auto_inline_events;
    // The test waits for the reader after each batch: count every batch as busy.
    config.auto_busy_gap = Duration::from_secs(3600);
    let read = Arc::new(AtomicU64::new(0));
    let reading = std::thread::spawn({
        let read = Arc::clone(&read);
        move || read_all(&reader, &read)
    });
    let (feed, mut subscriber) = Feed::start(&config).unwrap();
    // The same translation beside the feed, to know how many messages each batch makes:
    // each batch is published and read before the next is handed over, whichever thread
    // publishes (never a backlog the reader's socket could overflow with).
    let instruments = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let mut stock = *b"        ";
            stock[..2].copy_from_slice(format!("G{i}").as_bytes());
            FeedInstrument {
                id,
                stock: Stock(stock),
                tick: 1,
            }
        })
        .collect();
    let mut translator = Translator::new(instruments, 0);
    let mut expected = feed.stats().messages;
    let mut messages = Vec::new();

    let mut engine = DirectEngine::new(ids.iter().copied());
    let mut seq = 0u64;
    for chunk in commands.chunks(BATCH) {
        for command in chunk {
            publish_one(
                &mut engine,
                &mut subscriber,
                &mut translator,
                command,
                &mut seq,
                &mut messages,
            );
        }
        subscriber.on_batch_end();
        expected += messages.len() as u64;
        messages.clear();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stats = feed.stats();
            let done = stats.messages >= expected && read.load(Ordering::Acquire) >= stats.packets;
            if done || reading.is_finished() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    // End of Messages, then the first end-of-session packet.
    subscriber.finish().unwrap();
    let (packets, messages, hash) = digest(&reading.join().unwrap());
    let stats = feed.shutdown();
    assert_eq!((packets, messages), (stats.packets, stats.messages));
    let batches = commands.len().div_ceil(BATCH) as u64;
    match publish_on {
        PublishOn::EventManager => assert_eq!(stats.batches_handed_over, 0),
        PublishOn::FeedThread => assert_eq!(stats.batches_inline, 0),
        // Every batch makes messages: each goes one way or the other (with a limit of 1,
        // every batch after the first two is split: the first follows no batch, so it
        // is not known to be busy, and the second follows a batch not known busy).
        PublishOn::Auto if auto_inline_events == 1 => {
            assert_eq!(
                (stats.batches_inline, stats.batches_handed_over),
                (2, batches - 2)
            );
        }
        PublishOn::Auto => assert_eq!(stats.batches_inline + stats.batches_handed_over, batches),
    }
    (packets, messages, hash)
}

#[test]
fn the_default_datagrams_of_a_fixed_flow_are_unchanged() {
    let config = FeedConfig::new("DEFAULT", "127.0.0.1:9".parse().unwrap(), Vec::new());
    assert_eq!(
        datagrams_of_the_fixed_flow(PublishOn::default(), config.auto_inline_events),
        (GOLDEN_PACKETS, GOLDEN_MESSAGES, GOLDEN_HASH),
        "the datagrams changed"
    );
}

#[test]
fn the_datagrams_are_the_same_published_inline_on_the_event_manager_thread() {
    assert_eq!(
        datagrams_of_the_fixed_flow(PublishOn::EventManager, 0),
        (GOLDEN_PACKETS, GOLDEN_MESSAGES, GOLDEN_HASH),
        "the datagrams changed"
    );
}

#[test]
fn the_datagrams_are_the_same_published_on_the_feed_thread() {
    assert_eq!(
        datagrams_of_the_fixed_flow(PublishOn::FeedThread, 0),
        (GOLDEN_PACKETS, GOLDEN_MESSAGES, GOLDEN_HASH),
        "the datagrams changed"
    );
}

#[test]
fn the_datagrams_are_the_same_when_auto_splits_every_batch_between_the_threads() {
    // One event inline, the rest of each batch through the feed thread: every packet that
    // spans the split is begun on one thread and finished on the other.
    assert_eq!(
        datagrams_of_the_fixed_flow(PublishOn::Auto, 1),
        (GOLDEN_PACKETS, GOLDEN_MESSAGES, GOLDEN_HASH),
        "the datagrams changed"
    );
}

#[test]
fn the_datagrams_are_the_same_when_auto_publishes_every_batch_inline() {
    assert_eq!(
        datagrams_of_the_fixed_flow(PublishOn::Auto, usize::MAX),
        (GOLDEN_PACKETS, GOLDEN_MESSAGES, GOLDEN_HASH),
        "the datagrams changed"
    );
}

/// Taken at 0b7b83c: data packets (the opening one and End of Messages' included; the
/// end-of-session packet is read and hashed but not counted), messages, digest.
const GOLDEN_PACKETS: u64 = 397;
const GOLDEN_MESSAGES: u64 = 10_643;
const GOLDEN_HASH: u64 = 1_659_570_285_079_299_144;
