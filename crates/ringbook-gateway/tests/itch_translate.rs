//! The translation of events to ITCH, without sockets: after every command of a flow the
//! books rebuilt from the messages equal the engine's, and each kind of event makes the
//! messages `docs/ITCH.md` lists.

mod feed_common;

use feed_common::{assert_same_books, flow, step, translator};
use ringbook::{Command, DirectEngine, Order, Side, Uuid};
use ringbook_gateway::feed::{FeedInstrument, RebuiltBooks, Translator};
use ringbook_wire::itch::{ItchMessage, Stock};

/// Instrument 1 alone (symbol `S0`, tick 1): its id, an engine and a translator.
fn one_book() -> (Uuid, DirectEngine, Translator) {
    let instrument = Uuid::from_u128(1);
    let ids = [instrument];
    (instrument, DirectEngine::new(ids), translator(&ids))
}

#[test]
fn after_every_command_the_rebuilt_books_equal_the_engines() {
    let (ids, commands) = flow(21, 3, 6_000);
    let mut engine = DirectEngine::new(ids.iter().copied());
    let mut translator = translator(&ids);
    let mut books = RebuiltBooks::new();
    let mut out = Vec::new();
    translator.start(0, &mut out);
    let mut msg_seq = 0u64;
    for message in &out {
        msg_seq += 1;
        books.apply(msg_seq, message).unwrap();
    }
    let mut seq = 0;
    let mut kinds = std::collections::BTreeMap::new();
    for (i, command) in commands.iter().enumerate() {
        for message in step(&mut engine, &mut translator, command, &mut seq) {
            msg_seq += 1;
            *kinds.entry(message.kind() as char).or_insert(0u64) += 1;
            books
                .apply(msg_seq, &message)
                .unwrap_or_else(|e| panic!("command {i} {command:?}: {e}"));
        }
        if i % 97 == 0 || i + 1 == commands.len() {
            assert_same_books(&ids, &books, engine.books());
        }
    }
    for kind in ['A', 'E', 'X', 'D', 'U', 'H'] {
        assert!(
            kinds.get(&kind).copied().unwrap_or(0) > 0,
            "no '{kind}' in {kinds:?}"
        );
    }
    assert_eq!(translator.unpublishable(), 0);
}

#[test]
fn each_event_makes_the_documented_messages() {
    let (instrument, mut engine, mut translator) = one_book();
    let mut seq = 0;
    let id = Uuid::from_u128;
    let mut run = |command: Command| {
        step(&mut engine, &mut translator, &command, &mut seq)
            .iter()
            .map(|m| m.kind() as char)
            .collect::<String>()
    };
    let limit =
        |n, side, price, qty| Command::Add(Order::limit(id(n), instrument, side, price, qty));
    let modify = |n, price, qty| Command::Modify {
        instrument_id: instrument,
        order_id: id(n),
        price,
        qty,
    };
    assert_eq!(run(limit(1, Side::Sell, 105, 10)), "A");
    assert_eq!(run(limit(2, Side::Sell, 106, 10)), "A");
    // Reduce at the same price: a partial cancel.
    assert_eq!(run(modify(2, 106, 4)), "X");
    // Same quantity, same price: nothing changes.
    assert_eq!(run(modify(2, 106, 4)), "");
    // A new price that does not cross: a replace.
    assert_eq!(run(modify(2, 107, 4)), "U");
    // A buy through two levels: two executions, and its rest is added.
    assert_eq!(run(limit(3, Side::Buy, 107, 20)), "EEA");
    // A sell that crosses after a modify: the old order is deleted, executes, rests.
    assert_eq!(run(limit(4, Side::Sell, 110, 3)), "A");
    assert_eq!(run(modify(4, 100, 10)), "DEA");
    // A market order: executions only, its rest expires silently.
    assert_eq!(
        run(Command::Add(Order::market(
            id(5),
            instrument,
            Side::Buy,
            100
        ))),
        "E"
    );
    // Cancel: a delete.
    assert_eq!(run(limit(6, Side::Buy, 90, 1)), "A");
    assert_eq!(
        run(Command::Cancel {
            instrument_id: instrument,
            order_id: id(6)
        }),
        "D"
    );
    assert_eq!(
        run(Command::Halt {
            instrument_id: instrument
        }),
        "H"
    );
    assert_eq!(run(limit(7, Side::Buy, 90, 1)), "", "rejected while halted");
    assert_eq!(
        run(Command::Resume {
            instrument_id: instrument
        }),
        "H"
    );
    assert_eq!(
        run(Command::Status {
            instrument_id: instrument
        }),
        ""
    );
}

#[test]
fn orders_itch_cannot_carry_are_not_published() {
    let (instrument, mut engine, mut translator) = one_book();
    let mut seq = 0;
    let id = Uuid::from_u128;
    let add = |n, price, qty| Command::Add(Order::limit(id(n), instrument, Side::Buy, price, qty));
    assert!(step(&mut engine, &mut translator, &add(1, -5, 1), &mut seq).is_empty());
    assert!(step(&mut engine, &mut translator, &add(2, 5, 1 << 33), &mut seq).is_empty());
    assert_eq!(translator.unpublishable(), 2);
    // A sell that trades with the hidden orders publishes no execution for them.
    let sell = Command::Add(Order::limit(id(3), instrument, Side::Sell, 5, 1));
    let out = step(&mut engine, &mut translator, &sell, &mut seq);
    assert!(
        out.iter()
            .all(|m| !matches!(m, ItchMessage::OrderExecuted(_))),
        "{out:?}"
    );
    // Moving a hidden order into range publishes it.
    let modify = Command::Modify {
        instrument_id: instrument,
        order_id: id(1),
        price: 3,
        qty: 2,
    };
    let out = step(&mut engine, &mut translator, &modify, &mut seq);
    assert!(
        matches!(out.as_slice(), [ItchMessage::AddOrder(a)] if a.price == 3 && a.shares == 2),
        "{out:?}"
    );
}

#[test]
fn prices_are_ticks_times_the_tick_size_and_must_fit() {
    let instrument = Uuid::from_u128(1);
    let mut engine = DirectEngine::new([instrument]);
    let mut translator = Translator::new(
        vec![FeedInstrument {
            id: instrument,
            stock: Stock::new("TICK").unwrap(),
            tick: 100,
        }],
        0,
    );
    let mut seq = 0;
    let add = |n: u128, price| {
        Command::Add(Order::limit(
            Uuid::from_u128(n),
            instrument,
            Side::Sell,
            price,
            5,
        ))
    };
    let out = step(&mut engine, &mut translator, &add(1, 250), &mut seq);
    assert!(
        matches!(out.as_slice(), [ItchMessage::AddOrder(a)] if a.price == 25_000),
        "{out:?}"
    );
    // 42,949,673 ticks of 100 units are past u32::MAX units: not published.
    let out = step(&mut engine, &mut translator, &add(2, 42_949_673), &mut seq);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(translator.unpublishable(), 1);
    let out = step(&mut engine, &mut translator, &add(3, 42_949_672), &mut seq);
    assert!(
        matches!(out.as_slice(), [ItchMessage::AddOrder(a)] if a.price == 4_294_967_200),
        "{out:?}"
    );
}

#[test]
fn a_snapshot_of_a_book_the_feed_has_not_seen_publishes_its_orders() {
    // An engine with history the translator never saw (as after recovery from a journal).
    let (ids, commands) = flow(22, 2, 3_000);
    let mut engine = DirectEngine::new(ids.iter().copied());
    // Half the flow: the books hold orders then (the generator drains them at its end).
    for command in &commands[..commands.len() / 2] {
        engine.apply(command, &mut |_| {});
    }
    engine.apply(
        &Command::Halt {
            instrument_id: ids[1],
        },
        &mut |_| {},
    );
    let mut translator = translator(&ids);
    let mut books = RebuiltBooks::new();
    let mut out = Vec::new();
    translator.start(0, &mut out);
    let mut seq = 0u64;
    let mut msg_seq = 0u64;
    for command in ids
        .iter()
        .map(|&instrument_id| Command::Snapshot { instrument_id })
    {
        out.extend(step(&mut engine, &mut translator, &command, &mut seq));
    }
    for message in &out {
        msg_seq += 1;
        books.apply(msg_seq, message).unwrap();
    }
    assert_same_books(&ids, &books, engine.books());
    let resting: usize = engine.books().iter().map(|b| b.len()).sum();
    assert!(resting > 10, "the seeded books hold orders: {resting}");
    // A second snapshot changes nothing; trading goes on from the seeded books.
    let again = step(
        &mut engine,
        &mut translator,
        &Command::Snapshot {
            instrument_id: ids[0],
        },
        &mut seq,
    );
    assert!(again.is_empty(), "{again:?}");
    let (_, more) = flow(23, 2, 500);
    for command in more
        .iter()
        .map(|c| ringbook::flow::with_instrument(*c, ids[0]))
    {
        for message in step(&mut engine, &mut translator, &command, &mut seq) {
            msg_seq += 1;
            books.apply(msg_seq, &message).unwrap();
        }
    }
    assert_same_books(&ids, &books, engine.books());
}
