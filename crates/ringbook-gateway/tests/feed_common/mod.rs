//! Shared by the feed tests: an engine with a feed on 127.0.0.1, a flow, and the
//! comparison of rebuilt books with the engine's.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use ringbook::{
    Command, DirectEngine, OrderBook, OrderbookManagerServiceImpl, PublishedEvent, Side,
    Subscriber, Uuid,
};
use ringbook_gateway::feed::{
    Feed, FeedConfig, FeedInstrument, RebuiltBooks, Translator, snapshot_levels,
};
use ringbook_testkit::feed_engine;
use ringbook_wire::itch::{ItchMessage, Stock};

pub const LOCAL: &str = "127.0.0.1:0";

#[allow(unused_imports)] // not every feed test uses it
pub use feed_engine::local;

#[allow(unused_imports)] // not every feed test uses it
pub use feed_engine::flow;

/// An engine publishing on a feed to `destination` (session `TEST1`, symbols `SYM0`...),
/// with both servers.
pub fn engine_with_feed(
    ids: &[Uuid],
    destination: SocketAddr,
    tune: impl FnOnce(&mut FeedConfig),
) -> (OrderbookManagerServiceImpl, Feed) {
    feed_engine::engine_with_feed("TEST1", "SYM", ids, destination, tune)
}

/// Sends every command (refusals are the engine's business: they publish rejects).
pub fn submit_all(manager: &OrderbookManagerServiceImpl, commands: &[Command]) {
    for command in commands {
        let _ = manager.submit(*command);
    }
}

/// Asserts the rebuilt books equal the engine's final books level by level (prices and
/// every order's quantity in time priority) and in trading state.
pub fn assert_same_books(ids: &[Uuid], rebuilt: &RebuiltBooks, engine: &[OrderBook]) {
    assert_eq!(engine.len(), ids.len());
    for (i, book) in engine.iter().enumerate() {
        let locate = u16::try_from(i + 1).unwrap();
        assert_eq!(book.instrument_id(), ids[i]);
        let mine = rebuilt
            .book(locate)
            .unwrap_or_else(|| panic!("no rebuilt book for locate {locate}"));
        let snapshot = book.snapshot();
        for side in [Side::Buy, Side::Sell] {
            assert_eq!(
                mine.levels(side),
                snapshot_levels(&snapshot, side),
                "locate {locate} {side} levels differ"
            );
        }
        assert_eq!(
            mine.halted,
            book.is_halted(),
            "locate {locate} halted state"
        );
    }
}

/// A translator over `ids` (locates from 1, symbols `S0`, `S1`, ..., tick 1), for the tests
/// that translate without sockets.
pub fn translator(ids: &[Uuid]) -> Translator {
    let instruments = ids
        .iter()
        .enumerate()
        .map(|(i, id)| FeedInstrument {
            id: *id,
            stock: Stock::new(&format!("S{i}")).unwrap(),
            tick: 1,
        })
        .collect();
    Translator::new(instruments, 1_000)
}

/// Applies one command to the engine and its events to the translator; returns the
/// messages, after checking each decodes back to itself.
pub fn step(
    engine: &mut DirectEngine,
    translator: &mut Translator,
    command: &Command,
    seq: &mut u64,
) -> Vec<ItchMessage> {
    let mut events = Vec::new();
    engine.apply(command, &mut |e| events.push(e));
    let mut out = Vec::new();
    for result in &events {
        *seq += 1;
        let event = PublishedEvent {
            seq: *seq,
            input_seq: *seq,
            timestamp_ns: *seq * 10,
            result,
        };
        translator.translate(&event, &mut out);
    }
    for message in &out {
        assert_eq!(
            ItchMessage::decode(&message.to_bytes()).as_ref(),
            Ok(message)
        );
    }
    out
}

/// Applies `command` to `engine` and hands each of its events, numbered on from `seq` and
/// stamped `seq` microseconds, to `subscriber` (the feed, as the engine's event manager
/// would) and to `translator`, whose messages (what the feed must publish) are appended
/// to `messages`.
pub fn publish_one(
    engine: &mut DirectEngine,
    subscriber: &mut impl Subscriber,
    translator: &mut Translator,
    command: &Command,
    seq: &mut u64,
    messages: &mut Vec<ItchMessage>,
) {
    let mut events = Vec::new();
    engine.apply(command, &mut |e| events.push(e));
    for result in &events {
        *seq += 1;
        let event = PublishedEvent {
            seq: *seq,
            input_seq: *seq,
            timestamp_ns: *seq * 1_000,
            result,
        };
        subscriber.on_event(&event);
        translator.translate(&event, messages);
    }
}
