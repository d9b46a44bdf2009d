//! The publisher sends the packets of one event-manager batch together at the batch's
//! end (one `sendmmsg` on Linux), and a receiver sees exactly the datagrams it would with
//! one send per packet: MoldUDP64 packets of at most the configured size, in sequence.

use std::net::UdpSocket;
use std::time::Duration;

use ringbook::{OrderKind, OrderbookResult, PublishedEvent, Side, Subscriber, Uuid};
use ringbook_gateway::feed::{DEFAULT_AUTO_INLINE_EVENTS, Feed, FeedConfig, FeedStats, PublishOn};
use ringbook_wire::itch::ItchMessage;
use ringbook_wire::mold::Downstream;

const MAX_PACKET: usize = 200;
const ORDERS: u64 = 50;

fn reader() -> UdpSocket {
    let reader = UdpSocket::bind("127.0.0.1:0").unwrap();
    reader
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    reader
}

/// Every datagram that arrives before the reader's timeout.
fn drain(reader: &UdpSocket) -> Vec<Vec<u8>> {
    let mut buf = [0u8; 65_536];
    let mut out = Vec::new();
    while let Ok(len) = reader.recv(&mut buf) {
        out.push(buf[..len].to_vec());
    }
    out
}

fn buy(instrument_id: Uuid, i: u64) -> OrderbookResult {
    OrderbookResult::Accepted {
        instrument_id,
        order_id: Uuid::from_u128(1000 + u128::from(i)),
        side: Side::Buy,
        kind: OrderKind::Limit,
        price: Some(100 + i64::try_from(i).unwrap()),
        qty: 10 + i,
        trigger: None,
        display: None,
    }
}

#[test]
fn the_feed_chooses_its_publishing_thread_batch_by_batch_by_default() {
    // Inline latency at a light load, the feed thread's throughput flat out
    // (BENCHMARKS.md, "Market data").
    let config = FeedConfig::new("DEFAULT", "127.0.0.1:9".parse().unwrap(), Vec::new());
    assert_eq!(config.publish_on, PublishOn::Auto);
    assert_eq!(config.auto_inline_events, DEFAULT_AUTO_INLINE_EVENTS);
}

#[test]
fn a_batchs_packets_leave_at_its_end_unchanged_and_in_sequence_from_the_feed_thread() {
    a_batchs_packets_leave_at_its_end(PublishOn::FeedThread, 0, 0);
}

#[test]
fn a_batchs_packets_leave_at_its_end_unchanged_and_in_sequence_inline() {
    a_batchs_packets_leave_at_its_end(PublishOn::EventManager, 0, 0);
}

#[test]
fn a_batch_after_a_short_one_is_published_inline_whole_by_auto() {
    let stats = a_batchs_packets_leave_at_its_end(PublishOn::Auto, 10, 9);
    assert_eq!((stats.batches_inline, stats.batches_handed_over), (1, 0));
}

#[test]
fn a_batch_auto_splits_at_its_inline_limit_continues_the_packet_and_leaves_in_one_burst() {
    // After a long batch: 10 Add Orders inline (2 full packets and half the third), the
    // other 40 through the feed thread, which finishes the third packet and sends all 13
    // together.
    let stats = a_batchs_packets_leave_at_its_end(PublishOn::Auto, 10, 10);
    assert_eq!((stats.batches_inline, stats.batches_handed_over), (0, 1));
}

/// Publishes two batches of `earlier` Add Orders, then one of `ORDERS` and checks its
/// packets; returns that batch's counts.
fn a_batchs_packets_leave_at_its_end(
    publish_on: PublishOn,
    auto_inline_events: usize,
    earlier: u64,
) -> FeedStats {
    let reader = reader();
    let instrument = Uuid::from_u128(7);
    let mut config = FeedConfig::new(
        "BATCH",
        reader.local_addr().unwrap(),
        vec![(instrument, Some("B0".to_string()))],
    );
    config.max_packet = MAX_PACKET;
    config.heartbeat = Duration::from_secs(600);
    config.publish_on = publish_on;
    config.auto_inline_events = auto_inline_events;
    config.auto_busy_gap = Duration::from_secs(5);
    let (feed, mut subscriber) = Feed::start(&config).unwrap();
    let opening = drain(&reader);
    assert!(
        !opening.is_empty(),
        "the opening messages are sent at start"
    );
    // Two batches of `earlier` orders, back to back (an event manager busy with them).
    for i in 0..2 * earlier {
        let result = buy(instrument, ORDERS + i);
        subscriber.on_event(&PublishedEvent {
            seq: ORDERS + i + 1,
            input_seq: ORDERS + i + 1,
            timestamp_ns: 500 + i,
            result: &result,
        });
        if i + 1 == earlier {
            subscriber.on_batch_end();
        }
    }
    subscriber.on_batch_end();
    if earlier > 0 {
        assert_eq!(drain(&reader).len() as u64, 2 * earlier.div_ceil(4));
    }
    let before = feed.stats();

    for i in 0..ORDERS {
        let result = buy(instrument, i);
        subscriber.on_event(&PublishedEvent {
            seq: i + 1,
            input_seq: i + 1,
            timestamp_ns: 1_000 + i,
            result: &result,
        });
    }
    let early = drain(&reader);
    assert!(
        early.is_empty(),
        "{} packets left before the batch ended",
        early.len()
    );
    subscriber.on_batch_end();
    let packets = drain(&reader);
    let after = feed.stats();

    // Each Add Order block is 2 + 36 bytes: 4 fit a 200-byte packet.
    let expected_packets = ORDERS.div_ceil(4);
    assert_eq!(packets.len() as u64, expected_packets);
    assert_eq!(after.packets - before.packets, expected_packets);
    assert_eq!(after.messages - before.messages, ORDERS);
    assert!(
        after.publish_ns > before.publish_ns,
        "the batch's publishing time is counted"
    );
    let calls = after.send_calls - before.send_calls;
    if cfg!(target_os = "linux") {
        assert_eq!(
            calls, 1,
            "one sendmmsg for the batch's {expected_packets} packets"
        );
    } else {
        assert_eq!(calls, expected_packets);
    }

    let mut next_seq = before.messages + 1;
    let mut added = 0u64;
    for datagram in &packets {
        assert!(datagram.len() <= MAX_PACKET, "{} bytes", datagram.len());
        let packet = Downstream::decode(datagram).unwrap();
        assert_eq!(packet.seq, next_seq, "packets in sequence, none lost");
        for (seq, bytes) in packet.messages() {
            assert_eq!(seq, next_seq);
            next_seq += 1;
            let ItchMessage::AddOrder(add) = ItchMessage::decode(bytes).unwrap() else {
                panic!("message {seq} is not an Add Order");
            };
            assert_eq!(u64::from(add.price), 100 + added);
            assert_eq!(u64::from(add.shares), 10 + added);
            added += 1;
        }
        // Full packets except the last.
        if added < ORDERS {
            assert_eq!(packet.count, 4);
        }
    }
    assert_eq!(added, ORDERS);
    drop(subscriber);
    feed.shutdown();
    FeedStats {
        batches_inline: after.batches_inline - before.batches_inline,
        batches_handed_over: after.batches_handed_over - before.batches_handed_over,
        ..after
    }
}
