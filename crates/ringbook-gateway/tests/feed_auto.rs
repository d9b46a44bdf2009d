//! `PublishOn::Auto` switching back and forth within one run: small batches published
//! inline, a large one after a small one inline whole, large ones after a large one split
//! at the inline limit and handed to the feed thread, and small ones handed over whole
//! while a large one is still unpublished. The receiver must see
//! every message once, in sequence, and rebuild exactly the engine's books.

#![allow(unsafe_code)] // setsockopt, below.

mod feed_common;

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use feed_common::{assert_same_books, flow, publish_one};
use ringbook::{DirectEngine, Subscriber};
use ringbook_gateway::feed::{
    Feed, FeedConfig, FeedInstrument, PublishOn, RebuiltBooks, Translator,
};
use ringbook_wire::itch::{ItchMessage, Stock};
use ringbook_wire::mold::{Downstream, PacketKind};

/// Events a batch publishes inline before handing its rest over.
const INLINE_LIMIT: usize = 16;
/// Commands in a small batch (a few events: inline unless a hand-off is pending) and in
/// a large one (far more events than the limit: split after another large one).
const SMALL: usize = 1;
const LARGE: usize = 60;
/// One round: a small batch, then three large ones.
const ROUND: [usize; 4] = [SMALL, LARGE, LARGE, LARGE];
/// Rounds between two waits for the reader (so its buffer cannot overflow).
const ROUNDS_PER_WAIT: usize = 2;

/// Asks for a 4 MB receive buffer (the kernel caps it at `rmem_max`).
fn large_buffer(socket: &UdpSocket) {
    let size: libc::c_int = 4 << 20;
    // SAFETY: a valid socket and a c_int option value of the length passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const size).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_RCVBUF");
}

/// Every datagram up to the end-of-session packet; `read` counts the data packets.
fn read_all(reader: &UdpSocket, read: &AtomicU64) -> Vec<Vec<u8>> {
    let mut datagrams = Vec::new();
    let mut buf = [0u8; 65_536];
    loop {
        let len = match reader.recv(&mut buf) {
            Ok(len) => len,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("datagram {} did not arrive: {e}", datagrams.len()),
        };
        let datagram = buf[..len].to_vec();
        let kind = Downstream::decode(&datagram).unwrap().kind;
        datagrams.push(datagram);
        match kind {
            PacketKind::Data => {
                read.fetch_add(1, Ordering::Release);
            }
            PacketKind::EndOfSession => return datagrams,
            PacketKind::Heartbeat => panic!("no heartbeat is due (600 s)"),
        }
    }
}

#[test]
fn auto_switches_back_and_forth_and_the_receiver_rebuilds_every_book_exactly() {
    let (ids, commands) = flow(31, 4, 8_000);
    let reader = UdpSocket::bind("127.0.0.1:0").unwrap();
    reader
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    large_buffer(&reader);
    let symbols = (0..ids.len()).map(|i| Some(format!("A{i}")));
    let mut config = FeedConfig::new(
        "AUTO",
        reader.local_addr().unwrap(),
        ids.iter().copied().zip(symbols).collect(),
    );
    config.heartbeat = Duration::from_secs(600);
    config.publish_on = PublishOn::Auto;
    config.auto_inline_events = INLINE_LIMIT;
    // Every batch counts as busy, however long the test takes between two: the switch's
    // order is under test here, not its timing.
    config.auto_busy_gap = Duration::from_secs(3600);
    let read = Arc::new(AtomicU64::new(0));
    let reading = std::thread::spawn({
        let read = Arc::clone(&read);
        move || read_all(&reader, &read)
    });
    let (feed, mut subscriber) = Feed::start(&config).unwrap();
    // The same translation beside the feed, to know how many messages each batch makes.
    let mut translator = Translator::new(
        ids.iter()
            .enumerate()
            .map(|(i, &id)| FeedInstrument {
                id,
                stock: Stock::new(&format!("A{i}")).unwrap(),
                tick: 1,
            })
            .collect(),
        0,
    );
    let mut messages = Vec::new();
    let mut expected = feed.stats().messages;

    let mut engine = DirectEngine::new(ids.iter().copied());
    let mut seq = 0u64;
    let (mut inline, mut handed, mut switches) = (0u64, 0u64, 0u64);
    let mut last_inline = None;
    let mut rest = commands.as_slice();
    let mut rounds = 0;
    let mut stalled = None;
    while !rest.is_empty() && stalled.is_none() {
        for size in ROUND {
            let (batch, after) = rest.split_at(size.min(rest.len()));
            rest = after;
            let before = feed.stats().batches_inline;
            messages.clear();
            for command in batch {
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
            if messages.is_empty() {
                continue; // Rejects only: nothing to publish either way.
            }
            // A batch published wholly inline is counted before on_batch_end returns.
            let was_inline = feed.stats().batches_inline > before;
            if was_inline {
                inline += 1;
            } else {
                handed += 1;
            }
            if last_inline.is_some_and(|last| last != was_inline) {
                switches += 1;
            }
            last_inline = Some(was_inline);
        }
        rounds += 1;
        if rounds % ROUNDS_PER_WAIT == 0 {
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                let stats = feed.stats();
                // Counted under the lock that publishing holds until its packets left.
                let caught_up =
                    stats.messages >= expected && read.load(Ordering::Acquire) >= stats.packets;
                if caught_up {
                    break;
                }
                if Instant::now() > deadline || reading.is_finished() {
                    // Fewer messages than the same translation makes: the datagrams below
                    // say where they went wrong.
                    stalled = Some((seq, stats.messages, expected));
                    break;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
            if stalled.is_some() {
                break;
            }
        }
    }
    subscriber.finish().unwrap();
    let datagrams = reading.join().unwrap();
    let stats = feed.shutdown();

    let mut rebuilt = RebuiltBooks::new();
    let (mut next, mut packets) = (1u64, 0u64);
    for datagram in &datagrams {
        let packet = Downstream::decode(datagram).unwrap();
        if packet.kind != PacketKind::Data {
            continue;
        }
        packets += 1;
        assert_eq!(packet.seq, next, "data packet {packets} out of sequence");
        for (seq, bytes) in packet.messages() {
            assert_eq!(seq, next);
            next += 1;
            let message = ItchMessage::decode(bytes)
                .unwrap_or_else(|e| panic!("message {seq} does not decode: {e:?}"));
            rebuilt
                .apply(seq, &message)
                .unwrap_or_else(|e| panic!("message {seq}: {e}"));
        }
    }
    assert_eq!((packets, next - 1), (stats.packets, stats.messages));
    assert_same_books(&ids, &rebuilt, engine.books());
    assert_eq!(
        stalled, None,
        "(event seq, messages published, messages expected) when the feed fell behind"
    );

    // The second and third large batches of a round are split (or handed over whole);
    // after each wait the next small batch goes inline, unless it makes no message (a
    // reject only, about 1 in 4 in this flow): the run switched many times.
    let waits = (rounds / ROUNDS_PER_WAIT) as u64;
    assert!(
        inline >= waits / 2 && handed >= 2 * (rounds as u64 - 1) && switches >= waits,
        "{inline} batches inline, {handed} handed over, {switches} switches in {rounds} rounds"
    );
    assert_eq!(stats.batches_handed_over, handed);
}
