//! Property tests: random command sequences applied to `ringbook::OrderBook` and to the
//! naive reference book in `tests/common/reference.rs` must produce identical events after
//! every command, the book must pass `check_integrity` after every command, and its
//! read-only queries must agree with the reference book's state.
//!
//! Failing seeds are written to `proptest-regressions/book_proptest.txt` (committed, so
//! they replay first on every run).

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use ringbook::{Command, Order, OrderBook, OrderKind, OrderbookResult, Side};
use ringbook_testkit::reference::NaiveBook;
use uuid::Uuid;

const INSTRUMENT: Uuid = Uuid::from_u128(0xB00C);

/// Weights and ranges for one flavour of random flow.
#[derive(Clone, Copy, Debug)]
struct Profile {
    /// How many distinct order ids the flow draws from.
    ids: u128,
    /// The usual price range (inclusive low, exclusive high).
    prices: (i64, i64),
    /// Largest "small" quantity.
    small_qty: u64,
    /// Weights of small, medium, huge (near 2^62), near-u64::MAX and zero quantities.
    qty_weights: [u32; 5],
    /// Weights of add, cancel, modify, halt, resume, status, snapshot.
    op_weights: [u32; 7],
}

/// A general mix of everything.
const MIXED: Profile = Profile {
    ids: 12,
    prices: (90, 110),
    small_qty: 10,
    qty_weights: [70, 12, 6, 6, 3],
    op_weights: [50, 12, 16, 1, 3, 3, 2],
};

/// A narrow book with deep queues: time priority, modifies and partial fills dominate.
const DENSE: Profile = Profile {
    ids: 24,
    prices: (98, 103),
    small_qty: 5,
    qty_weights: [90, 6, 0, 0, 2],
    op_weights: [50, 10, 25, 1, 3, 2, 2],
};

/// Mostly enormous quantities: level totals and fok sums beyond u64::MAX.
const HUGE: Profile = Profile {
    ids: 10,
    prices: (95, 105),
    small_qty: 3,
    qty_weights: [20, 5, 35, 35, 2],
    op_weights: [60, 8, 15, 1, 3, 3, 2],
};

/// Many halts and resumes, and few ids: rejects of every kind and id reuse.
const CHOPPY: Profile = Profile {
    ids: 5,
    prices: (97, 104),
    small_qty: 8,
    qty_weights: [70, 10, 5, 5, 10],
    op_weights: [40, 15, 20, 8, 10, 4, 3],
};

fn id(profile: Profile) -> impl Strategy<Value = Uuid> {
    (1..=profile.ids).prop_map(Uuid::from_u128)
}

fn price(profile: Profile) -> impl Strategy<Value = i64> {
    let (low, high) = profile.prices;
    prop_oneof![
        88 => low..high,
        6 => -3i64..=3,
        3 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1, -1_000_000]),
        3 => any::<i64>(),
    ]
}

fn qty(profile: Profile) -> impl Strategy<Value = u64> {
    let [small, medium, huge, max, zero] = profile.qty_weights;
    prop_oneof![
        small => 1..=profile.small_qty,
        medium => 11u64..1_000,
        huge => ((1u64 << 62) - 3)..=((1u64 << 62) + 3),
        max => (u64::MAX - 3)..=u64::MAX,
        zero => Just(0u64),
    ]
}

fn kind() -> impl Strategy<Value = OrderKind> {
    prop_oneof![
        40 => Just(OrderKind::Limit),
        12 => Just(OrderKind::Market),
        15 => Just(OrderKind::Ioc),
        15 => Just(OrderKind::Fok),
        18 => Just(OrderKind::PostOnly),
    ]
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn command(profile: Profile) -> impl Strategy<Value = Command> {
    let [add, cancel, modify, halt, resume, status, snapshot] = profile.op_weights;
    let instrument_id = INSTRUMENT;
    prop_oneof![
        add => (id(profile), side(), kind(), price(profile), qty(profile)).prop_map(
            move |(order_id, side, kind, price, qty)| {
                Command::Add(Order::new(order_id, instrument_id, side, kind, price, qty))
            }
        ),
        cancel => id(profile).prop_map(move |order_id| Command::Cancel {
            instrument_id,
            order_id,
        }),
        modify => (id(profile), price(profile), qty(profile)).prop_map(
            move |(order_id, price, qty)| Command::Modify {
                instrument_id,
                order_id,
                price,
                qty,
            }
        ),
        halt => Just(Command::Halt { instrument_id }),
        resume => Just(Command::Resume { instrument_id }),
        status => Just(Command::Status { instrument_id }),
        snapshot => Just(Command::Snapshot { instrument_id }),
    ]
}

fn flow(profile: Profile) -> impl Strategy<Value = Vec<Command>> {
    prop::collection::vec(command(profile), 200..500)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/book_proptest.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Applies `flow` to both books, checking events, integrity and queries after each command.
fn check_flow(profile: Profile, flow: &[Command]) -> Result<(), TestCaseError> {
    // Start from different preallocations: growth from any capacity must not matter.
    let mut book = OrderBook::with_capacity(INSTRUMENT, flow.len() % 8);
    let mut naive = NaiveBook::new(INSTRUMENT);
    let mut events: Vec<OrderbookResult> = Vec::new();
    for (step, command) in flow.iter().enumerate() {
        events.clear();
        let before = command.order_id().and_then(|id| book.resting_order(&id));
        book.apply(command, &mut |e| events.push(e));
        check_order_fields(command, before, &events)?;
        let expected = naive.apply(command);
        prop_assert_eq!(
            &events,
            &expected,
            "events differ at step {} for {:?}",
            step,
            command
        );
        prop_assert!(!events.is_empty(), "step {step}: no event for {command:?}");
        if let Err(e) = book.check_integrity() {
            return Err(TestCaseError::fail(format!(
                "step {step}: integrity broken after {command:?}: {e}"
            )));
        }
        check_queries(profile, &book, &naive, step)?;
    }
    Ok(())
}

/// The order fields of `cancelled`, `expired` and `modified` against what the command and
/// the book said before it, independently of the reference book: a cancel reports the
/// side, price and open quantity the order rested with; a modify its side, the command's
/// price and quantity, and the order's price and open quantity before it; an expiry the
/// add's side and limit (none for a market order). `before` is the book's
/// `resting_order` of the command's id before the command.
fn check_order_fields(
    command: &Command,
    before: Option<(Side, i64, u64)>,
    events: &[OrderbookResult],
) -> Result<(), TestCaseError> {
    for event in events {
        match (command, event) {
            (
                Command::Cancel { .. },
                OrderbookResult::Cancelled {
                    side,
                    price,
                    remaining_qty,
                    ..
                },
            ) => {
                prop_assert_eq!(
                    Some((
                        *side,
                        (*price).expect("a resting order's price"),
                        *remaining_qty
                    )),
                    before,
                    "{:?}",
                    command
                );
            }
            (
                Command::Modify {
                    price: new_price,
                    qty: new_qty,
                    ..
                },
                OrderbookResult::Modified {
                    side,
                    price,
                    qty,
                    old_price,
                    old_qty,
                    ..
                },
            ) => {
                prop_assert_eq!(Some((*side, *old_price, *old_qty)), before, "{:?}", command);
                prop_assert_eq!((*price, *qty), (*new_price, *new_qty), "{:?}", command);
            }
            (
                Command::Add(order),
                OrderbookResult::Expired {
                    order_id,
                    side,
                    price,
                    ..
                },
            ) => {
                prop_assert_eq!(*order_id, order.order_id);
                prop_assert_eq!(*side, order.side, "{:?}", command);
                prop_assert_eq!(*price, order.limit_price(), "{:?}", command);
                prop_assert_eq!(price.is_none(), order.kind == OrderKind::Market);
            }
            (_, OrderbookResult::Cancelled { .. } | OrderbookResult::Modified { .. }) => {
                return Err(TestCaseError::fail(format!("{event:?} from {command:?}")));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The book's read-only queries against the reference book's state.
fn check_queries(
    profile: Profile,
    book: &OrderBook,
    naive: &NaiveBook,
    step: usize,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(book.best_bid(), naive.best_bid(), "best_bid, step {}", step);
    prop_assert_eq!(book.best_ask(), naive.best_ask(), "best_ask, step {}", step);
    prop_assert_eq!(book.len(), naive.len(), "len, step {}", step);
    prop_assert_eq!(book.is_empty(), naive.is_empty(), "is_empty, step {}", step);
    prop_assert_eq!(book.is_halted(), naive.is_halted(), "halted, step {}", step);
    for side in [Side::Buy, Side::Sell] {
        prop_assert_eq!(
            book.levels(side),
            naive.levels(side),
            "levels, step {}",
            step
        );
        for price in naive.level_prices(side) {
            prop_assert_eq!(
                book.depth_at(side, price),
                naive.depth_at(side, price),
                "depth_at({:?}, {}), step {}",
                side,
                price,
                step
            );
        }
        // Prices where nothing may rest, including the extremes.
        for price in [i64::MIN, -1, 0, 89, 100, 110, i64::MAX] {
            prop_assert_eq!(
                book.depth_at(side, price),
                naive.depth_at(side, price),
                "depth_at({:?}, {}), step {}",
                side,
                price,
                step
            );
        }
    }
    for n in 1..=profile.ids + 1 {
        let order_id = Uuid::from_u128(n);
        prop_assert_eq!(
            book.order_qty(&order_id),
            naive.order_qty(&order_id),
            "order_qty({}), step {}",
            n,
            step
        );
        prop_assert_eq!(
            book.resting_order(&order_id),
            naive.resting_order(&order_id),
            "resting_order({}), step {}",
            n,
            step
        );
    }
    prop_assert_eq!(book.status(), naive.status(), "status, step {}", step);
    Ok(())
}

proptest! {
    #![proptest_config(config(100))]

    #[test]
    fn mixed_flow_matches_reference(flow in flow(MIXED)) {
        check_flow(MIXED, &flow)?;
    }

    #[test]
    fn dense_flow_matches_reference(flow in flow(DENSE)) {
        check_flow(DENSE, &flow)?;
    }

    #[test]
    fn huge_quantity_flow_matches_reference(flow in flow(HUGE)) {
        check_flow(HUGE, &flow)?;
    }

    #[test]
    fn choppy_flow_matches_reference(flow in flow(CHOPPY)) {
        check_flow(CHOPPY, &flow)?;
    }
}

/// A cheap xorshift generator for the long deterministic flows below.
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// The side bit 48 of the random word `r` picks.
fn side_from(r: u64) -> Side {
    if (r >> 48).is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    }
}

/// From the random word `r`: an add of `kind` (six in ten), a modify to `price` and `qty`
/// (two in ten) or a cancel of `order_id`.
fn add_modify_or_cancel(r: u64, order_id: Uuid, side: Side, price: i64, qty: u64) -> Command {
    match (r >> 32) % 10 {
        0..=5 => {
            let kind = OrderKind::ALL[((r >> 40) % 5) as usize];
            Command::Add(Order::new(order_id, INSTRUMENT, side, kind, price, qty))
        }
        6 | 7 => Command::Modify {
            instrument_id: INSTRUMENT,
            order_id,
            price,
            qty,
        },
        _ => Command::Cancel {
            instrument_id: INSTRUMENT,
            order_id,
        },
    }
}

/// Applies `commands` to a book and to the reference: the same events at every step, the
/// same snapshot (and a sound book) every `check_every` steps and at the end. Returns how
/// many trades there were.
fn agrees_with_reference(commands: impl IntoIterator<Item = Command>, check_every: usize) -> usize {
    let mut book = OrderBook::new(INSTRUMENT);
    let mut naive = NaiveBook::new(INSTRUMENT);
    let mut events = Vec::new();
    let mut trades = 0usize;
    for (step, command) in commands.into_iter().enumerate() {
        events.clear();
        let before = command.order_id().and_then(|id| book.resting_order(&id));
        book.apply(&command, &mut |e| events.push(e));
        check_order_fields(&command, before, &events).unwrap();
        assert_eq!(events, naive.apply(&command), "step {step}: {command:?}");
        trades += events
            .iter()
            .filter(|e| matches!(e, OrderbookResult::Trade { .. }))
            .count();
        if step % check_every == 0 {
            book.check_integrity().unwrap();
            assert_eq!(book.snapshot(), naive.snapshot(), "step {step}");
        }
    }
    book.check_integrity().unwrap();
    assert_eq!(book.snapshot(), naive.snapshot());
    trades
}

/// A snapshot taken by the book and one built by the reference agree at the end of a long
/// deterministic flow too (a cheap pseudo-random walk, much longer than the proptest cases).
#[test]
fn long_deterministic_flow_matches_reference() {
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let commands = (0..20_000).map(|_| {
        let r = next();
        let order_id = Uuid::from_u128(u128::from(r % 64) + 1);
        let side = side_from(r);
        let price = 95 + (r >> 8) as i64 % 11;
        let qty = 1 + (r >> 16) % 20;
        add_modify_or_cancel(r, order_id, side, price, qty)
    });
    let trades = agrees_with_reference(commands, 997);
    assert!(
        trades > 1_000,
        "the walk should trade a lot, traded {trades}"
    );
}

/// A long flow whose mid drifts thousands of ticks, with orders resting far from it and a
/// few at the ends of `i64`: the book's price-level window is outgrown, left behind and
/// re-placed many times, and the book still agrees with the reference at every step.
#[test]
fn drifting_wide_flow_matches_reference() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut mid: i64 = 0;
    let (mut lowest, mut highest) = (0i64, 0i64);
    let commands: Vec<Command> = (0..30_000)
        .map(|_| {
            let r = next();
            if r.is_multiple_of(16) {
                mid += (r >> 8) as i64 % 161 - 80;
                lowest = lowest.min(mid);
                highest = highest.max(mid);
            }
            let order_id = Uuid::from_u128(u128::from((r >> 4) % 400) + 1);
            let side = side_from(r);
            // Mostly near the mid, on the order's own side; some far out, a few at the ends.
            let distance = match (r >> 12) % 100 {
                0..=69 => (r >> 20) as i64 % 8,
                70..=94 => (r >> 20) as i64 % 5_000,
                _ => 0,
            };
            let price = match ((r >> 12) % 100, side) {
                (95..=97, _) => [i64::MIN + 1, i64::MAX - 1][(r >> 24) as usize % 2],
                (98..=99, _) => mid + (r >> 24) as i64 % 3 - 1,
                (_, Side::Buy) => mid - distance,
                (_, Side::Sell) => mid + 1 + distance,
            };
            add_modify_or_cancel(r, order_id, side, price, 1 + (r >> 56) % 30)
        })
        .collect();
    assert!(
        highest - lowest > 2_000,
        "the mid should wander further than a small window spans: {lowest}..{highest}"
    );
    let trades = agrees_with_reference(commands, 1_009);
    assert!(trades > 1_000, "the flow should trade, traded {trades}");
}

/// The generators reach every rule: every reject reason a single book can emit, every
/// event type, modifies that keep and lose priority, fok orders killed whole, level totals
/// beyond `u64::MAX`, and rejects from a halted book. Without this, a generator that drifted
/// into trivial flows would let the properties above pass vacuously.
#[test]
fn generators_cover_every_rule() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use ringbook::RejectReason;
    use std::collections::HashSet;

    let mut seen: HashSet<String> = HashSet::new();
    for profile in [MIXED, DENSE, HUGE, CHOPPY] {
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        );
        for _ in 0..8 {
            let flow = flow(profile).new_tree(&mut runner).unwrap().current();
            let mut naive = NaiveBook::new(INSTRUMENT);
            for command in &flow {
                let events = naive.apply(command);
                for e in &events {
                    let label = match e {
                        OrderbookResult::Rejected { reason, .. } => format!("rejected {reason}"),
                        OrderbookResult::Modified { priority_kept, .. } => {
                            format!("modified kept={priority_kept}")
                        }
                        OrderbookResult::Trade { qty, .. } if *qty > 1 << 61 => {
                            "huge trade".to_string()
                        }
                        OrderbookResult::Expired { price: None, .. } => {
                            "expired market".to_string()
                        }
                        other => other.type_name().to_string(),
                    };
                    seen.insert(label);
                }
                if let [
                    OrderbookResult::Accepted {
                        kind: OrderKind::Fok,
                        qty,
                        ..
                    },
                    OrderbookResult::Expired { remaining_qty, .. },
                ] = events.as_slice()
                {
                    assert_eq!(qty, remaining_qty);
                    seen.insert("fok killed whole".into());
                }
                if matches!(command, Command::Modify { .. })
                    && events
                        .iter()
                        .any(|e| matches!(e, OrderbookResult::Trade { .. }))
                {
                    seen.insert("modify trades".into());
                }
                for side in [Side::Buy, Side::Sell] {
                    if naive
                        .best(side)
                        .is_some_and(|(_, q)| q > u128::from(u64::MAX))
                    {
                        seen.insert("level beyond u64".into());
                    }
                }
                if naive.best_bid().is_some_and(|(p, _)| p < 0) {
                    seen.insert("negative bid rests".into());
                }
            }
        }
    }
    let mut wanted: Vec<String> = [
        "accepted",
        "trade",
        "huge trade",
        "cancelled",
        "expired",
        "expired market",
        "halted",
        "resumed",
        "status",
        "snapshot",
        "modified kept=true",
        "modified kept=false",
        "modify trades",
        "fok killed whole",
        "level beyond u64",
        "negative bid rests",
    ]
    .map(String::from)
    .to_vec();
    for reason in [
        RejectReason::OrderbookHalted,
        RejectReason::InvalidQuantity,
        RejectReason::DuplicateOrderId,
        RejectReason::UnknownOrder,
        RejectReason::PostOnlyWouldCross,
    ] {
        wanted.push(format!("rejected {reason}"));
    }
    let missing: Vec<&String> = wanted.iter().filter(|w| !seen.contains(*w)).collect();
    assert!(missing.is_empty(), "generators never produced {missing:?}");
}
