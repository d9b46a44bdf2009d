//! The feed on 127.0.0.1, end to end: an engine publishes, receivers rebuild every book,
//! an independent ITCH decoder (the `itchy` crate) reads the same bytes.

mod feed_common;

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use feed_common::{assert_same_books, engine_with_feed, flow, local, submit_all};
use itchy::{Body, MessageStream};
use ringbook::{Command, Order, OrderbookManagerService, Side, Uuid};
use ringbook_gateway::feed::{FeedReceiver, PublishOn, ReceiverConfig};

const DEADLINE: Duration = Duration::from_secs(60);

/// Runs a receiver on its own thread until the session completes.
fn spawn_receiver(receiver: FeedReceiver) -> std::thread::JoinHandle<FeedReceiver> {
    std::thread::spawn(move || {
        let mut receiver = receiver;
        let complete = receiver
            .run_until_complete(Instant::now() + DEADLINE)
            .unwrap_or_else(|e| panic!("receiver failed: {e}"));
        assert!(complete, "session incomplete at {}", receiver.next_seq());
        receiver
    })
}

/// Books rebuilt from `itchy`'s decoding, sharing no code with the project's receiver:
/// locate -> side -> price -> reference -> shares.
type IndependentBooks = BTreeMap<u16, [BTreeMap<u32, BTreeMap<u64, u32>>; 2]>;

fn rebuild_with_itchy(raw: &[u8]) -> (IndependentBooks, HashMap<u16, bool>, usize, u64) {
    let mut books: IndependentBooks = BTreeMap::new();
    let mut halted = HashMap::new();
    let mut where_is: HashMap<u64, (u16, usize, u32)> = HashMap::new();
    let mut count = 0;
    let mut last_match = 0;
    // An order resting at (locate, side, price).
    let rest = |books: &mut IndependentBooks,
                where_is: &mut HashMap<u64, (u16, usize, u32)>,
                (locate, side, price): (u16, usize, u32),
                reference: u64,
                shares: u32| {
        books.get_mut(&locate).unwrap()[side]
            .entry(price)
            .or_default()
            .insert(reference, shares);
        where_is.insert(reference, (locate, side, price));
    };
    let take = |books: &mut IndependentBooks,
                where_is: &mut HashMap<u64, (u16, usize, u32)>,
                reference: u64,
                shares: Option<u32>| {
        let (locate, side, price) = where_is[&reference];
        let level = books.get_mut(&locate).unwrap()[side]
            .get_mut(&price)
            .unwrap();
        let open = level[&reference];
        let left = open - shares.unwrap_or(open);
        if left == 0 {
            level.remove(&reference);
            if level.is_empty() {
                books.get_mut(&locate).unwrap()[side].remove(&price);
            }
            where_is.remove(&reference);
        } else {
            level.insert(reference, left);
        }
        (locate, side)
    };
    for message in MessageStream::from_reader(Cursor::new(raw.to_vec())) {
        let message = message.expect("itchy decodes every message");
        count += 1;
        let locate = message.stock_locate;
        match message.body {
            Body::StockDirectory(_) => {
                books.entry(locate).or_default();
            }
            Body::TradingAction { trading_state, .. } => {
                halted.insert(locate, trading_state == itchy::TradingState::Halted);
            }
            Body::AddOrder(add) => {
                let side = usize::from(add.side == itchy::Side::Sell);
                let at = (locate, side, add.price.raw());
                rest(&mut books, &mut where_is, at, add.reference, add.shares);
            }
            Body::OrderExecuted {
                reference,
                executed,
                match_number,
            } => {
                assert!(match_number > last_match, "match numbers increase");
                last_match = match_number;
                take(&mut books, &mut where_is, reference, Some(executed));
            }
            Body::OrderCancelled {
                reference,
                cancelled,
            } => {
                take(&mut books, &mut where_is, reference, Some(cancelled));
            }
            Body::DeleteOrder { reference } => {
                take(&mut books, &mut where_is, reference, None);
            }
            Body::ReplaceOrder(replace) => {
                let (locate, side) = take(&mut books, &mut where_is, replace.old_reference, None);
                let at = (locate, side, replace.price.raw());
                rest(
                    &mut books,
                    &mut where_is,
                    at,
                    replace.new_reference,
                    replace.shares,
                );
            }
            Body::SystemEvent { .. } => {}
            other => panic!("unexpected message {other:?}"),
        }
    }
    (books, halted, count, last_match)
}

/// A receiver on 127.0.0.1 that knows the feed's servers once it has started.
fn receiver(tune: impl FnOnce(&mut ReceiverConfig)) -> FeedReceiver {
    let mut config = ReceiverConfig::new(local());
    tune(&mut config);
    FeedReceiver::bind(config).unwrap()
}

#[test]
fn itchy_decodes_the_feed_and_rebuilds_every_book() {
    let (ids, commands) = flow(11, 4, 20_000);
    let mut receiver = receiver(|c| c.record_raw = true);
    let (manager, feed) = engine_with_feed(&ids, receiver.local_addr(), |_| {});
    receiver.set_rerequest(feed.rerequest_addr());
    let handle = spawn_receiver(receiver);
    submit_all(&manager, &commands);
    manager.stop().unwrap();
    let receiver = handle.join().unwrap();
    let stats = feed.shutdown();
    assert_eq!(stats.unpublishable, 0);
    assert_eq!(stats.messages + 1, receiver.next_seq());

    manager
        .with_final_books(|books| assert_same_books(&ids, receiver.books(), books))
        .unwrap();

    let (independent, halted, count, last_match) = rebuild_with_itchy(receiver.raw());
    assert_eq!(count as u64, stats.messages, "itchy read every message");
    assert!(last_match > 1000, "the flow trades: {last_match} matches");
    assert!(halted.values().any(|&h| h) || receiver.books().trading_actions() > ids.len() as u64);
    for (locate, book) in receiver.books().iter() {
        let mine = [&book.bids, &book.asks];
        let theirs = &independent[&locate];
        assert_eq!(mine[0], &theirs[0], "locate {locate} bids");
        assert_eq!(mine[1], &theirs[1], "locate {locate} asks");
        assert_eq!(halted.get(&locate).copied(), Some(book.halted));
    }
}

#[test]
fn a_receiver_dropping_every_100th_packet_recovers_everything() {
    let (ids, commands) = flow(12, 3, 15_000);
    let mut receiver = receiver(|c| c.drop_every = Some(100));
    // Small packets: more of them, so more are dropped. Published inline on the event
    // manager thread (the other tests publish from the feed's own thread, the default).
    let (manager, feed) = engine_with_feed(&ids, receiver.local_addr(), |c| {
        c.max_packet = 200;
        c.publish_on = PublishOn::EventManager;
    });
    receiver.set_rerequest(feed.rerequest_addr());
    let handle = spawn_receiver(receiver);
    submit_all(&manager, &commands);
    manager.stop().unwrap();
    let receiver = handle.join().unwrap();
    let stats = feed.shutdown();
    let seen = receiver.stats();
    assert!(seen.dropped >= 10, "{seen:?}");
    assert!(seen.requests >= seen.dropped.min(10), "{seen:?}");
    assert!(stats.retransmitted > 0, "{stats:?}");
    assert!(
        stats.publish_ns > 0,
        "the publishing time is counted: {stats:?}"
    );
    assert_eq!(stats.messages + 1, receiver.next_seq());
    manager
        .with_final_books(|books| assert_same_books(&ids, receiver.books(), books))
        .unwrap();
}

#[test]
fn a_late_joiner_via_glimpse_ends_with_the_same_books() {
    let (ids, commands) = flow(13, 3, 12_000);
    // The first receiver gets the feed from the start; the late one only from its join.
    let early = receiver(|_| {});
    let (manager, feed) = engine_with_feed(&ids, early.local_addr(), |_| {});
    let (first, second) = commands.split_at(commands.len() / 2);
    submit_all(&manager, first);
    let started = Instant::now();
    while feed.next_seq() < 1000 && started.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Let the first half go through, then join: a receiver on the same address would need
    // the port; instead the late joiner takes the feed's packets from the early socket's
    // destination by replacing it: the feed sends to one destination, so the late joiner
    // reads through a forwarder that starts now.
    let mut late = receiver(|_| {});
    late.set_glimpse(feed.glimpse_addr());
    late.set_rerequest(feed.rerequest_addr());
    let forward_to = late.local_addr();
    let done = Arc::new(AtomicBool::new(false));
    let forwarder = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || forward(early, forward_to, &done))
    };
    late.snapshot().unwrap();
    assert!(late.next_seq() > 1000, "the snapshot covers the first half");
    assert!(late.books().iter().any(|(_, b)| b.orders() > 0));
    let handle = spawn_receiver(late);
    submit_all(&manager, second);
    manager.stop().unwrap();
    let late = handle.join().unwrap();
    done.store(true, Ordering::Release);
    let _ = forwarder.join();
    let stats = feed.shutdown();
    assert_eq!(stats.snapshots, 1);
    assert_eq!(late.stats().snapshots, 1);
    manager
        .with_final_books(|books| assert_same_books(&ids, late.books(), books))
        .unwrap();
}

/// Forwards every datagram the early receiver's socket gets to `to` (end-of-session
/// packets included: they repeat, in case one is lost) until `done`.
fn forward(early: FeedReceiver, to: std::net::SocketAddr, done: &AtomicBool) {
    let socket = early.into_socket();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = vec![0u8; 65_536];
    let started = Instant::now();
    while started.elapsed() < DEADLINE && !done.load(Ordering::Acquire) {
        let Ok(len) = socket.recv(&mut buf) else {
            continue;
        };
        let _ = socket.send_to(&buf[..len], to);
    }
}

#[test]
fn halts_show_as_trading_actions() {
    let instrument = Uuid::from_u128(7);
    let ids = vec![instrument];
    let mut receiver = receiver(|c| c.record_raw = true);
    let (manager, feed) = engine_with_feed(&ids, receiver.local_addr(), |_| {});
    receiver.set_rerequest(feed.rerequest_addr());
    let handle = spawn_receiver(receiver);
    let order = |id: u128, side, price| {
        Command::Add(Order::limit(
            Uuid::from_u128(id),
            instrument,
            side,
            price,
            10,
        ))
    };
    let commands = [
        order(1, Side::Buy, 100),
        Command::Halt {
            instrument_id: instrument,
        },
        order(2, Side::Sell, 100), // rejected: halted
        Command::Resume {
            instrument_id: instrument,
        },
        order(3, Side::Sell, 101),
        Command::Halt {
            instrument_id: instrument,
        },
    ];
    submit_all(&manager, &commands);
    manager.stop().unwrap();
    let receiver = handle.join().unwrap();
    let _ = feed.shutdown();
    let states: Vec<itchy::TradingState> =
        MessageStream::from_reader(Cursor::new(receiver.raw().to_vec()))
            .filter_map(|m| match m.unwrap().body {
                Body::TradingAction { trading_state, .. } => Some(trading_state),
                _ => None,
            })
            .collect();
    use itchy::TradingState::{Halted, Trading};
    assert_eq!(states, vec![Trading, Halted, Trading, Halted]);
    let book = receiver.books().book(1).unwrap();
    assert!(book.halted);
    assert_eq!(book.best_bid(), Some((100, 10)));
    assert_eq!(book.best_ask(), Some((101, 10)));
    manager
        .with_final_books(|books| assert_same_books(&ids, receiver.books(), books))
        .unwrap();
}
