//! The feed with the long form's order types, without sockets: icebergs publish only their
//! shown slice (refills are new Add Orders at the back), parked stops never appear, mass
//! cancels delete, and after a random long-form flow the books rebuilt from the messages
//! equal the engine's displayed books.

mod feed_common;

use feed_common::{assert_same_books, step, translator};
use ringbook::flow::{FlowGenerator, GenConfig, LongFormMix};
use ringbook::{Command, DirectEngine, Order, Side, Uuid};
use ringbook_gateway::feed::RebuiltBooks;
use ringbook_wire::itch::ItchMessage;

/// A message in short: its kind, reference number(s) and shares.
fn brief(message: &ItchMessage) -> String {
    match message {
        ItchMessage::AddOrder(m) => format!("A{}:{}@{}", m.order_ref, m.shares, m.price),
        ItchMessage::OrderExecuted(m) => format!("E{}:{}", m.order_ref, m.executed_shares),
        ItchMessage::OrderCancel(m) => format!("X{}:{}", m.order_ref, m.cancelled_shares),
        ItchMessage::OrderDelete(m) => format!("D{}", m.order_ref),
        ItchMessage::OrderReplace(m) => {
            format!("U{}>{}:{}@{}", m.original_ref, m.new_ref, m.shares, m.price)
        }
        other => format!("{}", other.kind() as char),
    }
}

#[test]
fn icebergs_show_slices_stops_stay_hidden_and_mass_cancels_delete() {
    let instrument = Uuid::from_u128(1);
    let ids = [instrument];
    let mut engine = DirectEngine::new(ids);
    let mut translator = translator(&ids);
    let mut seq = 0;
    let id = Uuid::from_u128;
    let mut run = |command: Command| {
        step(&mut engine, &mut translator, &command, &mut seq)
            .iter()
            .map(brief)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let limit = |n, side, price, qty| Order::limit(id(n), instrument, side, price, qty);
    // An iceberg of 25 showing 10 rests as an Add Order of 10: the hidden 15 never shows.
    assert_eq!(
        run(Command::Add(
            limit(1, Side::Sell, 100, 25)
                .with_display(10)
                .with_owner(7, None)
        )),
        "A1:10@100"
    );
    assert_eq!(run(Command::Add(limit(2, Side::Sell, 100, 5))), "A2:5@100");
    // A buy of 12: the slice of 10 executes, the refill of 10 joins the back as a new
    // order (ref 3), then the plain order ahead of it executes 2.
    assert_eq!(
        run(Command::Add(limit(3, Side::Buy, 100, 12))),
        "E1:10 A3:10@100 E2:2"
    );
    // Partly through the second slice: executions of the slice only.
    assert_eq!(run(Command::Add(limit(4, Side::Buy, 100, 7))), "E2:3 E3:4");
    // The last slice is min(display, remaining) = 5.
    assert_eq!(
        run(Command::Add(limit(5, Side::Buy, 100, 6))),
        "E3:6 A4:5@100"
    );
    // A same-price reduction keeps its place: only the shown slice shrinks.
    assert_eq!(
        run(Command::Modify {
            instrument_id: instrument,
            order_id: id(1),
            price: 100,
            qty: 3
        }),
        "X4:2"
    );
    // A parked stop-limit never appears...
    assert_eq!(
        run(Command::Add(
            Order::stop_limit(id(6), instrument, Side::Buy, 90, 101, 8).with_display(4)
        )),
        ""
    );
    assert_eq!(run(Command::Add(limit(10, Side::Sell, 101, 1))), "A5:1@101");
    // ...until a trade at 101 triggers it: it rests as an Add Order of its slice.
    assert_eq!(
        run(Command::Add(limit(7, Side::Buy, 101, 4))),
        "E4:3 E5:1 A6:4@90"
    );
    // A parked stop-market never appears, and its cancel deletes nothing.
    assert_eq!(
        run(Command::Add(Order::stop(
            id(8),
            instrument,
            Side::Sell,
            50,
            3
        ))),
        ""
    );
    assert_eq!(
        run(Command::Cancel {
            instrument_id: instrument,
            order_id: id(8)
        }),
        ""
    );
    // A mass cancel of owner 7 deletes its order; the rest stays.
    assert_eq!(
        run(Command::Add(
            limit(9, Side::Sell, 120, 2).with_owner(7, None)
        )),
        "A7:2@120"
    );
    assert_eq!(
        run(Command::Add(limit(11, Side::Sell, 121, 9).with_display(3))),
        "A8:3@121"
    );
    assert_eq!(
        run(Command::MassCancel {
            instrument_id: instrument,
            owner: Some(7),
            side: None
        }),
        "D7"
    );
    // A mass cancel of every order: a delete of each shown slice, in acceptance order.
    assert_eq!(
        run(Command::MassCancel {
            instrument_id: instrument,
            owner: None,
            side: None
        }),
        "D6 D8"
    );
}

#[test]
fn a_glimpse_snapshot_shows_only_the_slices() {
    let instrument = Uuid::from_u128(1);
    let ids = [instrument];
    let mut engine = DirectEngine::new(ids);
    let mut translator = translator(&ids);
    let mut seq = 0;
    let add = Command::Add(
        Order::limit(Uuid::from_u128(1), instrument, Side::Buy, 99, 1_000).with_display(30),
    );
    step(&mut engine, &mut translator, &add, &mut seq);
    let mut out = Vec::new();
    translator.snapshot(5, &mut out);
    let adds: Vec<String> = out
        .iter()
        .filter(|m| matches!(m, ItchMessage::AddOrder(_)))
        .map(brief)
        .collect();
    assert_eq!(adds, ["A1:30@99"]);
}

#[test]
fn after_a_random_long_form_flow_the_rebuilt_books_equal_the_displayed_books() {
    let config = GenConfig::new(22, 3, 12_000)
        .with_halt_per_million(3_000)
        .with_modify_permille(150)
        .with_depth(200)
        .with_max_distance(60)
        .with_long_form(Some(LongFormMix::standard()));
    let generator = FlowGenerator::new(config);
    let ids = generator.instruments().to_vec();
    let commands: Vec<Command> = generator.collect();
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
    let mut ops = std::collections::BTreeMap::new();
    for (i, command) in commands.iter().enumerate() {
        *ops.entry(command.op().as_str()).or_insert(0u64) += 1;
        if let Command::Add(order) = command {
            if order.display().is_some() {
                *ops.entry("iceberg").or_insert(0) += 1;
            }
            if order.trigger().is_some() {
                *ops.entry("stop").or_insert(0) += 1;
            }
        }
        for message in step(&mut engine, &mut translator, command, &mut seq) {
            msg_seq += 1;
            books
                .apply(msg_seq, &message)
                .unwrap_or_else(|e| panic!("command {i} {command:?}: {e}"));
        }
        if i % 89 == 0 || i + 1 == commands.len() {
            assert_same_books(&ids, &books, engine.books());
        }
    }
    for op in ["iceberg", "stop", "mass_cancel", "modify", "cancel"] {
        assert!(ops.get(op).copied().unwrap_or(0) > 0, "no {op} in {ops:?}");
    }
    assert_eq!(translator.unpublishable(), 0);
}
