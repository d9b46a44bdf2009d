//! OUCH 5.0's reserve orders (MaxFloor) and Mass Cancel over 127.0.0.1, with the ITCH feed
//! on: the owner sees every execution, the feed (read by the independent `itchy` decoder)
//! only the displayed slices, and a user's Mass Cancel reaches that user's orders only.

mod feed_common;
mod ouch_common;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use feed_common::{assert_same_books, local};
use itchy::{Body, MessageStream};
use ouch_common::{Ouch, SYMBOLS, enter, enter_with, instruments, login, session_config};
use ringbook::{OrderbookManagerService, OrderbookManagerServiceImpl};
use ringbook_gateway::feed::{Feed, FeedConfig, FeedReceiver, ReceiverConfig};
use ringbook_gateway::order_entry::{
    OrderEntryConfig, OuchApp, OuchResponder, Registry, SymbolTable,
};
use ringbook_gateway::soup::{SoupServer, Users};
use ringbook_wire::ouch::appendage::write_option;
use ringbook_wire::ouch::inbound::{Inbound, MassCancel};
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::ouch::reasons::RejectCode;
use ringbook_wire::ouch::{Appendage, OptionTag, symbol};

const DEADLINE: Duration = Duration::from_secs(60);

struct Both {
    engine: Arc<OrderbookManagerServiceImpl>,
    server: SoupServer,
    feed: Feed,
    receiver: std::thread::JoinHandle<FeedReceiver>,
}

/// An engine with the OUCH server and the ITCH feed (to a recording receiver).
fn start() -> (Both, std::net::SocketAddr) {
    let ids = instruments();
    let mut receiver = FeedReceiver::bind({
        let mut c = ReceiverConfig::new(local());
        c.record_raw = true;
        c
    })
    .unwrap();
    let symbols = ids
        .iter()
        .zip(["AAPL", "MSFT"])
        .map(|(id, s)| (*id, Some(s.to_string())))
        .collect();
    let mut config = FeedConfig::new("LONG1", receiver.local_addr(), symbols);
    config.rerequest = Some(local());
    config.heartbeat = Duration::from_millis(100);
    let (feed, feed_subscriber) = Feed::start(&config).unwrap();
    receiver.set_rerequest(feed.rerequest_addr());
    let receiver = std::thread::spawn(move || {
        let mut receiver = receiver;
        let complete = receiver
            .run_until_complete(Instant::now() + DEADLINE)
            .unwrap();
        assert!(complete, "feed session incomplete");
        receiver
    });
    let registry =
        Arc::new(Registry::new(SymbolTable::parse(SYMBOLS, "symbols").unwrap(), None).unwrap());
    let engine = Arc::new(
        OrderbookManagerServiceImpl::builder(ids)
            .subscriber(OuchResponder::new(Arc::clone(&registry)))
            .subscriber(feed_subscriber)
            .build()
            .unwrap(),
    );
    engine.start().unwrap();
    let app = OuchApp::new(
        Arc::clone(&engine) as Arc<dyn OrderbookManagerService>,
        registry,
        OrderEntryConfig {
            cancel_on_disconnect: false,
        },
    );
    let server = SoupServer::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        Arc::new(app),
        Arc::new(Users::AnyLogin),
        session_config(),
    )
    .unwrap();
    let addr = server.local_addr();
    (
        Both {
            engine,
            server,
            feed,
            receiver,
        },
        addr,
    )
}

fn max_floor(shares: u32) -> Vec<u8> {
    let mut v = Vec::new();
    write_option(&mut v, OptionTag::MaxFloor as u8, &shares.to_be_bytes());
    v
}

fn mass_cancel(urn: u32, sym: &str, appendage: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Inbound::MassCancel(MassCancel {
        user_ref_num: urn,
        firm: *b"    ",
        symbol: if sym.is_empty() {
            [b' '; 8]
        } else {
            symbol(sym).unwrap()
        },
        appendage: Appendage::parse(appendage).unwrap(),
    })
    .encode(&mut out);
    out
}

/// A message in short: type, UserRefNum, shares (and a reason where there is one).
fn brief(c: &mut Ouch) -> String {
    c.next(|m| match m {
        Outbound::OrderAccepted {
            user_ref_num,
            order,
            ..
        } => format!("A{user_ref_num}:{}", order.quantity),
        Outbound::OrderExecuted {
            user_ref_num,
            quantity,
            ..
        } => format!("E{user_ref_num}:{quantity}"),
        Outbound::OrderCanceled {
            user_ref_num,
            quantity,
            reason,
            ..
        } => format!("C{user_ref_num}:{quantity}:{}", reason as char),
        Outbound::MassCancelResponse { user_ref_num, .. } => format!("X{user_ref_num}"),
        Outbound::Rejected {
            user_ref_num,
            reason,
            ..
        } => format!("J{user_ref_num}:{reason:#x}"),
        other => format!("{}", other.message_type() as char),
    })
}

fn briefs(c: &mut Ouch, n: usize) -> Vec<String> {
    (0..n).map(|_| brief(c)).collect()
}

/// Every Add Order `itchy` reads (reference -> shares), and the final books it rebuilds:
/// locate -> side (0 buy) -> price -> shares of each order in reference (time) order.
type Books = BTreeMap<u16, [BTreeMap<u32, Vec<u32>>; 2]>;

fn read_with_itchy(raw: &[u8]) -> (Vec<(u64, u32)>, Books) {
    let mut adds = Vec::new();
    let mut open: BTreeMap<u64, (u16, usize, u32, u32)> = BTreeMap::new();
    let take = |open: &mut BTreeMap<u64, (u16, usize, u32, u32)>, r: u64, n: Option<u32>| {
        let entry = open.get_mut(&r).expect("a known reference");
        entry.3 -= n.unwrap_or(entry.3);
        let left = *entry;
        if left.3 == 0 {
            open.remove(&r);
        }
        left
    };
    for message in MessageStream::from_reader(Cursor::new(raw.to_vec())) {
        let message = message.expect("itchy decodes every message");
        let locate = message.stock_locate;
        match message.body {
            Body::AddOrder(add) => {
                adds.push((add.reference, add.shares));
                let side = usize::from(add.side == itchy::Side::Sell);
                open.insert(add.reference, (locate, side, add.price.raw(), add.shares));
            }
            Body::OrderExecuted {
                reference,
                executed,
                ..
            } => {
                take(&mut open, reference, Some(executed));
            }
            Body::OrderCancelled {
                reference,
                cancelled,
            } => {
                take(&mut open, reference, Some(cancelled));
            }
            Body::DeleteOrder { reference } => {
                take(&mut open, reference, None);
            }
            Body::ReplaceOrder(replace) => {
                let (locate, side, _, _) = take(&mut open, replace.old_reference, None);
                adds.push((replace.new_reference, replace.shares));
                open.insert(
                    replace.new_reference,
                    (locate, side, replace.price.raw(), replace.shares),
                );
            }
            _ => {}
        }
    }
    let mut books = Books::new();
    for (locate, side, price, shares) in open.values() {
        books.entry(*locate).or_default()[*side]
            .entry(*price)
            .or_default()
            .push(*shares);
    }
    (adds, books)
}

#[test]
fn a_reserve_order_executes_in_full_to_its_owner_and_shows_only_slices_on_the_feed() {
    let (both, addr) = start();
    let mut alice = login(addr, "alice", 1);
    let mut bob = login(addr, "bob", 1);
    assert_eq!(brief(&mut alice), "S");
    assert_eq!(brief(&mut bob), "S");
    // Alice: a reserve sell of 500 showing 100 (MaxFloor), and a plain sell behind it.
    alice.send(&enter_with(
        1,
        b'S',
        500,
        "AAPL",
        100,
        b'0',
        &max_floor(100),
    ));
    // Order Accepted: the whole quantity, and the MaxFloor option echoed.
    let (quantity, options) = alice.next(|m| match m {
        Outbound::OrderAccepted {
            order, appendage, ..
        } => (order.quantity, appendage.bytes().to_vec()),
        other => panic!("expected Order Accepted, got {other:?}"),
    });
    assert_eq!((quantity, options), (500, max_floor(100)));
    alice.send(&enter(2, b'S', 30, "AAPL", 100, b'0'));
    assert_eq!(brief(&mut alice), "A2:30");
    // Bob buys 150: the slice of 100, then the plain 30 ahead of the refill, then 20
    // of the refilled slice.
    bob.send(&enter(1, b'B', 150, "AAPL", 100, b'3'));
    assert_eq!(briefs(&mut bob, 4), ["A1:150", "E1:100", "E1:30", "E1:20"]);
    assert_eq!(briefs(&mut alice, 3), ["E1:100", "E2:30", "E1:20"]);
    // Alice's MaxFloor 100 on an IOC order: rejected, Invalid Max Floor.
    alice.send(&enter_with(3, b'B', 10, "AAPL", 90, b'3', &max_floor(5)));
    assert_eq!(
        brief(&mut alice),
        format!("J3:{:#x}", RejectCode::InvalidMaxFloor.code())
    );
    both.engine.stop().unwrap();
    let stats = both.feed.shutdown();
    let receiver = both.receiver.join().unwrap();
    both.server.shutdown();
    assert_eq!(stats.messages + 1, receiver.next_seq());
    let (adds, books) = read_with_itchy(receiver.raw());
    // The feed: slices of 100, the plain 30, then the refill's slice; never the 500.
    assert_eq!(adds.iter().map(|a| a.1).collect::<Vec<_>>(), [100, 30, 100]);
    // What rests: the refilled slice less its 20, and nothing of the hidden 300.
    assert_eq!(books[&1][1][&100], [80]);
    both.engine
        .with_final_books(|b| assert_same_books(&instruments(), receiver.books(), b))
        .unwrap();
}

#[test]
fn a_mass_cancel_removes_only_its_users_orders() {
    let (both, addr) = start();
    let mut alice = login(addr, "alice", 1);
    let mut bob = login(addr, "bob", 1);
    assert_eq!(brief(&mut alice), "S");
    assert_eq!(brief(&mut bob), "S");
    alice.send(&enter_with(1, b'B', 400, "AAPL", 90, b'0', &max_floor(50)));
    alice.send(&enter(2, b'S', 10, "AAPL", 110, b'0'));
    alice.send(&enter(3, b'B', 7, "MSFT", 500, b'0'));
    assert_eq!(briefs(&mut alice, 3), ["A1:400", "A2:10", "A3:7"]);
    bob.send(&enter(1, b'B', 20, "AAPL", 90, b'0'));
    bob.send(&enter(2, b'S', 20, "AAPL", 111, b'0'));
    assert_eq!(briefs(&mut bob, 2), ["A1:20", "A2:20"]);
    // A criterion Ringbook has no notion of (GroupID): rejected, nothing canceled.
    let mut group = Vec::new();
    write_option(&mut group, OptionTag::GroupId as u8, &1u16.to_be_bytes());
    alice.send(&mass_cancel(4, "AAPL", &group));
    assert_eq!(
        brief(&mut alice),
        format!("J4:{:#x}", RejectCode::Other.code())
    );
    // Alice's buys on AAPL only (Side option): her reserve order goes whole (400).
    let mut buys = Vec::new();
    write_option(&mut buys, OptionTag::Side as u8, b"B");
    alice.send(&mass_cancel(5, "AAPL", &buys));
    assert_eq!(briefs(&mut alice, 2), ["X5", "C1:400:U"]);
    // Every symbol: her AAPL sell and her MSFT buy, in some order of books.
    alice.send(&mass_cancel(6, "", &[]));
    assert_eq!(brief(&mut alice), "X6");
    let mut rest = briefs(&mut alice, 2);
    rest.sort();
    assert_eq!(rest, ["C2:10:U", "C3:7:U"]);
    alice.expect_silence(Duration::from_millis(200));
    bob.expect_silence(Duration::from_millis(200));
    // Bob's orders still trade: a sell hits his buy at 90.
    alice.send(&enter(7, b'S', 5, "AAPL", 90, b'3'));
    assert_eq!(briefs(&mut alice, 2), ["A7:5", "E7:5"]);
    assert_eq!(brief(&mut bob), "E1:5");
    both.engine.stop().unwrap();
    let stats = both.feed.shutdown();
    let receiver = both.receiver.join().unwrap();
    both.server.shutdown();
    assert_eq!(stats.messages + 1, receiver.next_seq());
    let (adds, books) = read_with_itchy(receiver.raw());
    // Alice's reserve order showed 50 of its 400.
    assert_eq!(adds[0].1, 50);
    let expected: Books = [
        (
            1,
            [
                BTreeMap::from([(90, vec![15])]),
                BTreeMap::from([(111, vec![20])]),
            ],
        ),
        (2, [BTreeMap::new(), BTreeMap::new()]),
    ]
    .into_iter()
    .filter(|(_, sides)| sides.iter().any(|s| !s.is_empty()))
    .collect();
    assert_eq!(books, expected);
    both.engine
        .with_final_books(|b| assert_same_books(&instruments(), receiver.books(), b))
        .unwrap();
}
