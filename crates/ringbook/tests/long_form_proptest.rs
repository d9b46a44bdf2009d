//! Property tests of the long form: random flows of stops, stop-limits, icebergs, owners
//! with every self-trade-prevention mode, mass cancels, modifies, halts and fok orders,
//! applied to `ringbook::OrderBook` and to the naive reference book
//! (`ringbook-testkit/src/reference.rs`), must produce identical events after every
//! command; the book must pass `check_integrity`, agree with the reference's status and
//! snapshot, and survive an image round trip (same state hash, same later events).
//!
//! Failing seeds are written to `proptest-regressions/long_form_proptest.txt`.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use ringbook::{Command, Order, OrderBook, OrderKind, OrderbookResult, Side, StpMode};
use ringbook_testkit::reference::NaiveBook;
use uuid::Uuid;

const INSTRUMENT: Uuid = Uuid::from_u128(0x10F6);

/// One random op, before it is made a command.
#[derive(Clone, Debug)]
enum Op {
    Add {
        id: u128,
        side: Side,
        kind: u8,
        price: i64,
        trigger: i64,
        qty: u64,
        owner: Option<u64>,
        stp: Option<u8>,
        display: Option<u64>,
    },
    Cancel(u128),
    Modify(u128, i64, u64),
    MassCancel(Option<u64>, Option<Side>),
    Halt,
    Resume,
    Status,
    Snapshot,
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn op() -> impl Strategy<Value = Op> {
    let add = (
        1u128..=14,
        side(),
        0u8..7,
        96i64..105,
        96i64..105,
        prop_oneof![8 => 1u64..8, 1 => Just(0u64), 1 => 20u64..40],
        proptest::option::weighted(0.6, 1u64..=3),
        proptest::option::weighted(0.7, 0u8..3),
        proptest::option::weighted(0.3, prop_oneof![9 => 1u64..4, 1 => Just(0u64)]),
    )
        .prop_map(
            |(id, side, kind, price, trigger, qty, owner, stp, display)| Op::Add {
                id,
                side,
                kind,
                price,
                trigger,
                qty,
                owner,
                stp,
                display,
            },
        );
    prop_oneof![
        50 => add,
        10 => (1u128..=14).prop_map(Op::Cancel),
        12 => (1u128..=14, 96i64..105, 0u64..12).prop_map(|(i, p, q)| Op::Modify(i, p, q)),
        2 => (proptest::option::of(1u64..=3), proptest::option::of(side()))
            .prop_map(|(o, s)| Op::MassCancel(o, s)),
        1 => Just(Op::Halt),
        3 => Just(Op::Resume),
        2 => Just(Op::Status),
        2 => Just(Op::Snapshot),
    ]
}

/// The command of `op`: extras only where the flow format allows them.
fn command(op: &Op) -> Command {
    let instrument_id = INSTRUMENT;
    match *op {
        Op::Add {
            id,
            side,
            kind,
            price,
            trigger,
            qty,
            owner,
            stp,
            display,
        } => {
            let kind = OrderKind::LONG_FORM[usize::from(kind)];
            let order_id = Uuid::from_u128(id);
            let mut order = match kind {
                OrderKind::Stop => Order::stop(order_id, instrument_id, side, trigger, qty),
                OrderKind::StopLimit => {
                    Order::stop_limit(order_id, instrument_id, side, price, trigger, qty)
                }
                _ => Order::new(order_id, instrument_id, side, kind, price, qty),
            };
            if let Some(owner) = owner {
                order = order.with_owner(owner, stp.map(|m| StpMode::ALL[usize::from(m)]));
            }
            if let Some(display) = display.filter(|_| kind.may_display()) {
                order = order.with_display(display);
            }
            Command::Add(order)
        }
        Op::Cancel(id) => Command::Cancel {
            instrument_id,
            order_id: Uuid::from_u128(id),
        },
        Op::Modify(id, price, qty) => Command::Modify {
            instrument_id,
            order_id: Uuid::from_u128(id),
            price,
            qty,
        },
        Op::MassCancel(owner, side) => Command::MassCancel {
            instrument_id,
            owner,
            side,
        },
        Op::Halt => Command::Halt { instrument_id },
        Op::Resume => Command::Resume { instrument_id },
        Op::Status => Command::Status { instrument_id },
        Op::Snapshot => Command::Snapshot { instrument_id },
    }
}

fn apply(book: &mut OrderBook, command: &Command) -> Vec<OrderbookResult> {
    let mut events = Vec::new();
    book.apply(command, &mut |e| events.push(e));
    events
}

fn check(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut book = OrderBook::new(INSTRUMENT);
    let mut naive = NaiveBook::new(INSTRUMENT);
    for (step, op) in ops.iter().enumerate() {
        let command = command(op);
        let got = apply(&mut book, &command);
        let want = naive.apply(&command);
        prop_assert_eq!(&got, &want, "step {}: {:?}", step, command);
        if let Err(e) = book.check_integrity() {
            return Err(TestCaseError::fail(format!("step {step}: {e}")));
        }
        prop_assert_eq!(book.status(), naive.status(), "status, step {}", step);
        if step % 7 == 6 {
            prop_assert_eq!(book.snapshot(), naive.snapshot(), "snapshot, step {}", step);
            // An image restores a book that behaves the same from here on.
            let image = book.image();
            let restored = OrderBook::from_image(&image)
                .map_err(|e| TestCaseError::fail(format!("step {step}: {e}")))?;
            prop_assert_eq!(restored.state_hash(), book.state_hash(), "step {}", step);
            prop_assert_eq!(restored.image().state_hash(), image.state_hash());
            book = restored;
        }
    }
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn long_form_flows_match_the_reference(ops in proptest::collection::vec(op(), 1..80)) {
        check(&ops)?;
    }
}
