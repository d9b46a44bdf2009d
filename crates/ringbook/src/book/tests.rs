//! Unit tests of the book's internals: the slab free list, the ladder's cached best, the
//! level FIFOs, the id index, and `check_integrity` against deliberately corrupted state.

use uuid::Uuid;

use super::ids::Own;
use super::index::IdIndex;
use super::ladder::Ladder;
use super::slab::NIL;
use super::{IntegrityError, OrderBook};
use crate::command::Command;
use crate::result::OrderbookResult;
use crate::types::{Order, OrderKind, Side};

const INSTRUMENT: Uuid = Uuid::from_u128(0xAB);

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x5000 + n)
}

/// Applies `command`, returning its events.
fn apply(book: &mut OrderBook, command: Command) -> Vec<OrderbookResult> {
    let mut events = Vec::new();
    book.apply(&command, &mut |e| events.push(e));
    events
}

fn limit(book: &mut OrderBook, n: u128, side: Side, price: i64, qty: u64) {
    let events = apply(
        book,
        Command::Add(Order::limit(id(n), INSTRUMENT, side, price, qty)),
    );
    assert!(
        matches!(events.as_slice(), [OrderbookResult::Accepted { .. }]),
        "order {n} should rest untouched, got {events:?}"
    );
}

fn cancel(book: &mut OrderBook, n: u128) {
    let events = apply(
        book,
        Command::Cancel {
            instrument_id: INSTRUMENT,
            order_id: id(n),
        },
    );
    assert!(
        matches!(events.as_slice(), [OrderbookResult::Cancelled { .. }]),
        "cancel {n}: {events:?}"
    );
}

/// How many slots (live or vacant) a slab's backing vector holds.
fn slot_count<T>(slab: &super::slab::Slab<T>) -> usize {
    slab.iter_all().count()
}

/// The slot of resting order `n`.
fn slot_of(book: &OrderBook, n: u128) -> u32 {
    book.find(&id(n)).expect("order rests")
}

/// The order ids of the level at `price` on `side`, walked head to tail, and checked
/// against the walk tail to head.
fn fifo(book: &OrderBook, side: Side, price: i64) -> Vec<Uuid> {
    let Some(lvl) = book.ladder(side).get(price) else {
        return Vec::new();
    };
    let mut forward = Vec::new();
    let mut slot = lvl.head;
    while slot != NIL {
        forward.push(book.orders[slot].order_id.uuid());
        slot = book.orders[slot].next;
    }
    let mut backward = Vec::new();
    let mut slot = lvl.tail;
    while slot != NIL {
        backward.push(book.orders[slot].order_id.uuid());
        slot = book.orders[slot].prev;
    }
    backward.reverse();
    assert_eq!(forward, backward, "forward and back links disagree");
    assert_eq!(forward.len(), lvl.count as usize, "level count");
    forward
}

// ---------------------------------------------------------------------------------------
// Slab free list
// ---------------------------------------------------------------------------------------

/// One add and one cancel per round, at new and existing levels on both sides.
fn churn(book: &mut OrderBook, rounds: std::ops::Range<u128>) {
    for round in rounds {
        let n = 2_000 + round;
        let (side, price) = match round % 4 {
            0 => (Side::Buy, 80 - (round % 7) as i64),
            1 => (Side::Sell, 120 + (round % 7) as i64),
            2 => (Side::Buy, 95),
            _ => (Side::Sell, 105),
        };
        limit(book, n, side, price, 3);
        cancel(book, n);
    }
}

#[test]
fn add_cancel_in_steady_state_does_not_grow_the_slabs() {
    let mut book = OrderBook::new(INSTRUMENT);
    // A standing book of 50 bids over 10 levels and 50 asks over 10 levels.
    for n in 0..50 {
        limit(&mut book, n, Side::Buy, 90 + (n as i64 % 10), 1 + n as u64);
        limit(
            &mut book,
            100 + n,
            Side::Sell,
            101 + (n as i64 % 10),
            1 + n as u64,
        );
    }
    // One order in flight at a time: the peak is the standing book plus one.
    limit(&mut book, 1_000, Side::Buy, 50, 1);
    cancel(&mut book, 1_000);
    let order_slots = slot_count(&book.orders);
    let index_bytes = book.index.heap_bytes();
    assert_eq!(order_slots, 101);

    churn(&mut book, 0..10_000);
    assert_eq!(slot_count(&book.orders), order_slots, "order slab grew");
    // The hash table may double once when its tombstones first fill it up (hashbrown
    // grows rather than rehashing in place while more than half full), then never again.
    let warm_index_bytes = book.index.heap_bytes();
    assert!(
        warm_index_bytes <= 2 * index_bytes,
        "id index grew from {index_bytes} to {warm_index_bytes} bytes"
    );
    let heap = book.heap_bytes();

    churn(&mut book, 10_000..20_000);
    assert_eq!(slot_count(&book.orders), order_slots, "order slab grew");
    assert_eq!(book.index.heap_bytes(), warm_index_bytes, "id index grew");
    assert_eq!(book.heap_bytes(), heap, "the book grew in steady state");
    assert_eq!(book.len(), 100);
    book.check_integrity().unwrap();
}

#[test]
fn filled_makers_free_their_slots_for_the_next_orders() {
    let mut book = OrderBook::new(INSTRUMENT);
    for round in 0..5_000u128 {
        // A maker rests, a taker fills it exactly: nothing stays.
        limit(
            &mut book,
            2 * round,
            Side::Sell,
            100 + (round % 3) as i64,
            4,
        );
        let events = apply(
            &mut book,
            Command::Add(Order::market(id(2 * round + 1), INSTRUMENT, Side::Buy, 4)),
        );
        assert_eq!(events.len(), 2, "accepted and one trade: {events:?}");
        assert!(book.is_empty());
    }
    assert_eq!(slot_count(&book.orders), 1);
    assert_eq!(book.orders.live(), 0);
    assert_eq!(book.levels(Side::Sell), 0);
    book.check_integrity().unwrap();
}

#[test]
fn freed_slots_are_reused_last_freed_first() {
    let mut book = OrderBook::new(INSTRUMENT);
    for n in 0..4 {
        limit(&mut book, n, Side::Buy, 100, 1);
    }
    let (s1, s2) = (slot_of(&book, 1), slot_of(&book, 2));
    cancel(&mut book, 1);
    cancel(&mut book, 2);
    assert_eq!(book.orders[s1].qty, 0, "a freed slot is marked vacant");
    limit(&mut book, 10, Side::Buy, 100, 1);
    limit(&mut book, 11, Side::Buy, 100, 1);
    assert_eq!(slot_of(&book, 10), s2);
    assert_eq!(slot_of(&book, 11), s1);
    assert_eq!(slot_count(&book.orders), 4);
    assert_eq!(
        fifo(&book, Side::Buy, 100),
        vec![id(0), id(3), id(10), id(11)]
    );
    book.check_integrity().unwrap();
}

// ---------------------------------------------------------------------------------------
// Ladder
// ---------------------------------------------------------------------------------------

#[test]
fn bid_ladder_recomputes_its_best_after_the_best_level_goes() {
    let mut ladder = Ladder::new(Side::Buy);
    assert_eq!(ladder.best_head(), NIL);
    assert_eq!(ladder.best_price(), None);
    ladder.insert(100, 0);
    ladder.insert(102, 1);
    ladder.insert(101, 2);
    ladder.insert(-5, 3);
    assert_eq!((ladder.best_price(), ladder.best_head()), (Some(102), 1));
    ladder.drop_level(102);
    assert_eq!((ladder.best_price(), ladder.best_head()), (Some(101), 2));
    assert_eq!(ladder.head_at(102), None);
    // Removing a level that is not the best leaves the cache alone.
    ladder.drop_level(100);
    assert_eq!((ladder.best_price(), ladder.best_head()), (Some(101), 2));
    ladder.drop_level(101);
    assert_eq!((ladder.best_price(), ladder.best_head()), (Some(-5), 3));
    ladder.drop_level(-5);
    assert_eq!((ladder.best_price(), ladder.best_head()), (None, NIL));
    // The stale cached price must not answer lookups once the side is empty.
    assert_eq!(ladder.head_at(-5), None);
    assert_eq!(ladder.len(), 0);
    assert!(!ladder.crossed_by(None));
    assert!(!ladder.crossed_by(Some(i64::MIN)));
}

#[test]
fn ask_ladder_recomputes_its_best_after_the_best_level_goes() {
    let mut ladder = Ladder::new(Side::Sell);
    ladder.insert(101, 7);
    ladder.insert(99, 8);
    ladder.insert(i64::MAX, 9);
    assert_eq!((ladder.best_price(), ladder.best_head()), (Some(99), 8));
    // A buy at 99 crosses, at 98 it does not; a market buy always crosses.
    assert!(ladder.crossed_by(Some(99)));
    assert!(!ladder.crossed_by(Some(98)));
    assert!(ladder.crossed_by(None));
    ladder.drop_level(99);
    assert_eq!((ladder.best_price(), ladder.best_head()), (Some(101), 7));
    assert_eq!(ladder.head_at(99), None);
    assert_eq!(ladder.head_at(i64::MAX), Some(9));
    ladder.drop_level(101);
    assert_eq!(
        (ladder.best_price(), ladder.best_head()),
        (Some(i64::MAX), 9)
    );
    ladder.insert(100, 4);
    assert_eq!((ladder.best_price(), ladder.best_head()), (Some(100), 4));
    let mut walked = Vec::new();
    ladder.walk_best_first(|p, l| {
        walked.push((p, l.head));
        std::ops::ControlFlow::Continue(())
    });
    assert_eq!(walked, vec![(100, 4), (i64::MAX, 9)]);
}

/// The best level of `side` in a plain ordered map of levels: price and slot.
fn model_best(side: Side, model: &std::collections::BTreeMap<i64, u32>) -> Option<(i64, u32)> {
    match side {
        Side::Buy => model.last_key_value(),
        Side::Sell => model.first_key_value(),
    }
    .map(|(&price, &level)| (price, level))
}

/// A ladder's observable state against a plain ordered map of the same levels.
fn assert_ladder_matches(
    ladder: &Ladder,
    side: Side,
    model: &std::collections::BTreeMap<i64, u32>,
) {
    let best = model_best(side, model);
    assert_eq!(ladder.best_price(), best.map(|(p, _)| p));
    assert_eq!(ladder.best_head(), best.map_or(NIL, |(_, l)| l));
    assert_eq!(ladder.len(), model.len());
    assert!(ladder.window_consistent());
    let ascending: Vec<(i64, u32)> = model.iter().map(|(&p, &l)| (p, l)).collect();
    assert_eq!(
        ladder
            .iter_ascending()
            .map(|(p, l)| (p, l.head))
            .collect::<Vec<_>>(),
        ascending
    );
    let mut walked = Vec::new();
    ladder.walk_best_first(|p, l| {
        walked.push((p, l.head));
        std::ops::ControlFlow::Continue(())
    });
    let mut best_first = ascending;
    if side == Side::Buy {
        best_first.reverse();
    }
    assert_eq!(walked, best_first);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Inserts and removes of levels priced near a drifting mid, over a wide range and at
    /// the ends of `i64`: the window is placed, outgrown, left behind by the market, shrunk
    /// and re-placed, and the ladder always agrees with an ordered map.
    #[test]
    fn ladder_agrees_with_an_ordered_map(
        buy in proptest::bool::ANY,
        ops in proptest::collection::vec((0u8..100, proptest::num::u64::ANY), 1..3_000),
    ) {
        let side = if buy { Side::Buy } else { Side::Sell };
        let mut ladder = Ladder::new(side);
        let mut model = std::collections::BTreeMap::new();
        let mut mid: i64 = 1_000;
        for (step, (op, r)) in ops.into_iter().enumerate() {
            match op {
                // The mid walks, faster at times, so the touch leaves the window behind.
                0..=9 => mid = mid.saturating_add((r % 401) as i64 - 200),
                10..=59 => {
                    let price = match r % 100 {
                        0..=79 => mid + (r >> 8) as i64 % 64 - 32,
                        80..=94 => mid + (r >> 8) as i64 % 200_000 - 100_000,
                        _ => [i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX][(r >> 8) as usize % 4],
                    };
                    if let std::collections::btree_map::Entry::Vacant(v) = model.entry(price) {
                        v.insert(step as u32);
                        ladder.insert(price, step as u32);
                    }
                }
                _ => {
                    // Remove the best level half the time (trades eat the touch), else any.
                    let pick = if r % 2 == 0 {
                        model_best(side, &model).map(|(price, _)| price)
                    } else {
                        model.keys().nth((r >> 8) as usize % model.len().max(1)).copied()
                    };
                    if let Some(price) = pick {
                        model.remove(&price);
                        ladder.drop_level(price);
                    }
                }
            }
            let expected = model_best(side, &model).map(|(price, _)| price);
            proptest::prop_assert_eq!(ladder.best_price(), expected, "step {}", step);
            for probe in [mid - 40, mid, mid + 40, i64::MIN, i64::MAX] {
                proptest::prop_assert_eq!(ladder.head_at(probe), model.get(&probe).copied());
            }
            if step % 97 == 0 {
                assert_ladder_matches(&ladder, side, &model);
            }
        }
        assert_ladder_matches(&ladder, side, &model);
    }
}

/// Thousands of levels: the window grows to hold them, the touch runs far off, and the
/// side drains to one level, each moving the window; every step agrees with a plain map.
#[test]
fn ladder_window_follows_growth_drift_and_drain() {
    for side in [Side::Buy, Side::Sell] {
        let mut ladder = Ladder::new(side);
        let mut model = std::collections::BTreeMap::new();
        let mut slot = 0u32;
        let mut insert =
            |ladder: &mut Ladder, model: &mut std::collections::BTreeMap<i64, u32>, price| {
                slot += 1;
                ladder.insert(price, slot);
                model.insert(price, slot);
            };
        // Growth: 5,000 levels one tick apart, more than the first window spans.
        for price in 0..5_000 {
            insert(&mut ladder, &mut model, price);
        }
        assert_ladder_matches(&ladder, side, &model);
        // Drift: the touch runs a million ticks away, level by level.
        for price in (1_000_000..1_002_000).step_by(3) {
            insert(&mut ladder, &mut model, price);
        }
        assert_ladder_matches(&ladder, side, &model);
        // Drain from the touch down to a single level, checking on the way.
        while model.len() > 1 {
            let (best, _) = model_best(side, &model).unwrap();
            model.remove(&best);
            ladder.drop_level(best);
            if model.len() % 503 == 0 {
                assert_ladder_matches(&ladder, side, &model);
            }
        }
        assert_ladder_matches(&ladder, side, &model);
        // At most 128 ticks of 24-byte levels and their bits (the window shrinks by 4 or
        // more at a time, and keeps its buffers while they are within twice its need).
        assert!(
            ladder.heap_bytes() <= 4096,
            "a one-level side keeps a small window: {} bytes",
            ladder.heap_bytes()
        );
    }
}

#[test]
fn book_best_follows_when_the_best_level_is_emptied() {
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Buy, 100, 5);
    limit(&mut book, 2, Side::Buy, 99, 6);
    limit(&mut book, 3, Side::Buy, 101, 7);
    assert_eq!(book.best_bid(), Some((101, 7)));
    cancel(&mut book, 3);
    assert_eq!(book.best_bid(), Some((100, 5)));
    assert_eq!(book.bids.best_head(), book.bids.head_at(100).unwrap());
    let events = apply(
        &mut book,
        Command::Add(Order::market(id(4), INSTRUMENT, Side::Sell, 5)),
    );
    assert_eq!(events.len(), 2);
    assert_eq!(book.best_bid(), Some((99, 6)));
    assert_eq!(book.levels(Side::Buy), 1);
    book.check_integrity().unwrap();
}

// ---------------------------------------------------------------------------------------
// Level FIFOs
// ---------------------------------------------------------------------------------------

#[test]
fn unlinking_middle_head_and_tail_keeps_the_fifo_linked() {
    let mut book = OrderBook::new(INSTRUMENT);
    for n in 1..=5 {
        limit(&mut book, n, Side::Sell, 100, n as u64);
    }
    let level = |book: &OrderBook| *book.asks.get(100).unwrap();
    assert_eq!(
        fifo(&book, Side::Sell, 100),
        (1..=5).map(id).collect::<Vec<_>>()
    );

    // Middle.
    let s3 = slot_of(&book, 3);
    book.unlink(&mut Own, s3);
    book.release(&mut Own, s3);
    assert_eq!(
        fifo(&book, Side::Sell, 100),
        vec![id(1), id(2), id(4), id(5)]
    );
    assert_eq!(book.orders[slot_of(&book, 2)].next, slot_of(&book, 4));
    assert_eq!(book.orders[slot_of(&book, 4)].prev, slot_of(&book, 2));
    assert_eq!(level(&book).total(), 1 + 2 + 4 + 5);
    book.check_integrity().unwrap();

    // Head.
    let s1 = slot_of(&book, 1);
    book.unlink(&mut Own, s1);
    book.release(&mut Own, s1);
    assert_eq!(level(&book).head, slot_of(&book, 2));
    assert_eq!(book.orders[slot_of(&book, 2)].prev, NIL);
    assert_eq!(fifo(&book, Side::Sell, 100), vec![id(2), id(4), id(5)]);
    book.check_integrity().unwrap();

    // Tail.
    let s5 = slot_of(&book, 5);
    book.unlink(&mut Own, s5);
    book.release(&mut Own, s5);
    assert_eq!(level(&book).tail, slot_of(&book, 4));
    assert_eq!(book.orders[slot_of(&book, 4)].next, NIL);
    assert_eq!(fifo(&book, Side::Sell, 100), vec![id(2), id(4)]);
    assert_eq!(level(&book).count, 2);
    assert_eq!(level(&book).total(), 6);
    book.check_integrity().unwrap();

    // A new order goes behind the new tail.
    limit(&mut book, 6, Side::Sell, 100, 1);
    assert_eq!(fifo(&book, Side::Sell, 100), vec![id(2), id(4), id(6)]);

    // Emptying the level removes it from the ladder.
    for n in [4, 2, 6] {
        cancel(&mut book, n);
    }
    assert_eq!(book.asks.get(100), None);
    assert_eq!(book.asks.best_price(), None);
    assert_eq!(book.levels(Side::Sell), 0);
    book.check_integrity().unwrap();
}

#[test]
fn unlinking_the_only_order_removes_its_level() {
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Buy, 100, 5);
    limit(&mut book, 2, Side::Buy, 99, 5);
    let s1 = slot_of(&book, 1);
    book.unlink(&mut Own, s1);
    assert_eq!(book.bids.get(100), None);
    assert_eq!(book.best_bid(), Some((99, 5)));
    // Relinking the same slot elsewhere, as a modify does.
    book.orders[s1].qty = 3;
    book.link_tail(&mut Own, s1, Side::Buy, 99);
    assert_eq!(fifo(&book, Side::Buy, 99), vec![id(2), id(1)]);
    assert_eq!(book.best_bid(), Some((99, 8)));
    book.check_integrity().unwrap();
}

/// Applies a modify of order `n` to `price` and `qty` and returns its events, the book's
/// invariants checked after it.
fn modify_events(book: &mut OrderBook, n: u128, price: i64, qty: u64) -> Vec<OrderbookResult> {
    let events = apply(
        book,
        Command::Modify {
            instrument_id: INSTRUMENT,
            order_id: id(n),
            price,
            qty,
        },
    );
    book.check_integrity().unwrap();
    events
}

/// Modifies order `n` to `price` and `qty`, asserting it took effect without a trade.
fn modify(book: &mut OrderBook, n: u128, price: i64, qty: u64) {
    let events = modify_events(book, n, price, qty);
    assert!(
        matches!(events.as_slice(), [OrderbookResult::Modified { price: p, qty: q, .. }] if *p == price && *q == qty),
        "modify {n} to {qty} at {price}: {events:?}"
    );
}

#[test]
fn a_lone_orders_modify_moves_its_level_and_keeps_the_best() {
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Buy, 100, 5);
    limit(&mut book, 2, Side::Buy, 97, 5);
    // The best, alone, one tick worse: its level moves, and it is still the best.
    modify(&mut book, 1, 99, 6);
    assert_eq!(book.bids.get(100), None);
    assert_eq!(book.best_bid(), Some((99, 6)));
    // The best, two ticks worse: past the next level (97), which becomes the best.
    modify(&mut book, 1, 96, 7);
    assert_eq!(book.best_bid(), Some((97, 5)));
    assert_eq!(fifo(&book, Side::Buy, 96), vec![id(1)]);
    // Not the best, past it: the new best.
    modify(&mut book, 1, 101, 8);
    assert_eq!(book.best_bid(), Some((101, 8)));
    assert_eq!(book.bids.get(96), None);
    // Not the best, still below it.
    limit(&mut book, 3, Side::Buy, 90, 1);
    modify(&mut book, 3, 91, 2);
    assert_eq!(book.best_bid(), Some((101, 8)));
    assert_eq!(fifo(&book, Side::Buy, 91), vec![id(3)]);
    // Onto a level that has an order: it joins its tail.
    modify(&mut book, 1, 97, 9);
    assert_eq!(fifo(&book, Side::Buy, 97), vec![id(2), id(1)]);
    assert_eq!(book.best_bid(), Some((97, 14)));
    // Asks: the best one tick better, then one tick worse.
    limit(&mut book, 4, Side::Sell, 105, 5);
    limit(&mut book, 5, Side::Sell, 108, 5);
    modify(&mut book, 4, 104, 6);
    assert_eq!(book.best_ask(), Some((104, 6)));
    modify(&mut book, 4, 105, 7);
    assert_eq!(book.best_ask(), Some((105, 7)));
    assert_eq!(book.asks.get(104), None);
    // Then it leaves: the other ask is the best.
    cancel(&mut book, 4);
    assert_eq!(book.best_ask(), Some((108, 5)));
    book.check_integrity().unwrap();
}

// ---------------------------------------------------------------------------------------
// Id index
// ---------------------------------------------------------------------------------------

/// `n` scattered ids, and an index where slot number i holds ids[i] (the index stores only
/// slot numbers).
fn indexed_ids(n: u128) -> (Vec<Uuid>, IdIndex) {
    let ids: Vec<Uuid> = (0..n)
        .map(|n| Uuid::from_u128(n.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)))
        .collect();
    let mut index = IdIndex::with_capacity(0);
    for slot in 0..ids.len() as u32 {
        index.insert(&ids[slot as usize], slot, |s| ids[s as usize]);
    }
    (ids, index)
}

#[test]
fn id_index_finds_every_live_id_after_many_inserts_and_removes() {
    let (mut ids, mut index) = indexed_ids(10_000);
    assert_eq!(index.len(), 10_000);
    // Remove every third slot.
    for slot in (0..ids.len() as u32).step_by(3) {
        index.remove(&ids[slot as usize], slot);
    }
    assert_eq!(index.len(), 10_000 - 3_334);
    for (slot, uid) in ids.iter().enumerate() {
        let found = index.find(uid, |s| ids[s as usize]);
        let expected = (slot % 3 != 0).then_some(slot as u32);
        assert_eq!(found, expected, "slot {slot}");
    }
    // Reuse the freed slot numbers for new ids, as the slab does.
    for slot in (0..ids.len() as u32).step_by(3) {
        ids[slot as usize] = Uuid::from_u128(0xFFFF_0000 + u128::from(slot));
        index.insert(&ids[slot as usize], slot, |s| ids[s as usize]);
    }
    assert_eq!(index.len(), 10_000);
    for (slot, uid) in ids.iter().enumerate() {
        assert_eq!(index.find(uid, |s| ids[s as usize]), Some(slot as u32));
    }
    // The removed ids are gone for good.
    let gone = Uuid::from_u128(0);
    assert_eq!(index.find(&gone, |s| ids[s as usize]), None);
    let mut slots: Vec<u32> = index.slots().collect();
    slots.sort_unstable();
    assert_eq!(slots, (0..10_000).collect::<Vec<u32>>());
}

#[test]
fn id_index_take_finds_and_drops_an_id_in_one_call() {
    let (ids, mut index) = indexed_ids(1_000);
    // Take every other id: each comes back with its own slot, once.
    for slot in (0..ids.len() as u32).step_by(2) {
        let uid = ids[slot as usize];
        assert_eq!(index.take(&uid, |s| ids[s as usize]), Some(slot));
        assert_eq!(index.take(&uid, |s| ids[s as usize]), None, "taken twice");
    }
    assert_eq!(index.len(), 500);
    // An id never indexed is not found and takes nothing.
    let stranger = Uuid::from_u128(7);
    assert_eq!(index.take(&stranger, |s| ids[s as usize]), None);
    assert_eq!(index.len(), 500);
    for (slot, uid) in ids.iter().enumerate() {
        let found = index.find(uid, |s| ids[s as usize]);
        assert_eq!(found, (slot % 2 == 1).then_some(slot as u32), "slot {slot}");
    }
}

#[test]
fn book_index_agrees_with_levels_after_churn() {
    let mut book = OrderBook::new(INSTRUMENT);
    for n in 0..2_000u128 {
        limit(&mut book, n, Side::Buy, 50 + (n % 40) as i64, 1);
    }
    for n in (0..2_000u128).filter(|n| n % 5 != 0) {
        cancel(&mut book, n);
    }
    assert_eq!(book.index.len(), 400);
    for n in 0..2_000u128 {
        let expected = (n % 5 == 0).then_some(1);
        assert_eq!(book.order_qty(&id(n)), expected, "order {n}");
    }
    book.check_integrity().unwrap();
}

// ---------------------------------------------------------------------------------------
// check_integrity on corrupted state
// ---------------------------------------------------------------------------------------

/// A small valid book: bids 99 [1, 2] and 98 [3]; asks 101 [4, 5, 6].
fn sample_book() -> OrderBook {
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Buy, 99, 10);
    limit(&mut book, 2, Side::Buy, 99, 20);
    limit(&mut book, 3, Side::Buy, 98, 30);
    limit(&mut book, 4, Side::Sell, 101, 40);
    limit(&mut book, 5, Side::Sell, 101, 50);
    limit(&mut book, 6, Side::Sell, 101, 60);
    book.check_integrity().unwrap();
    book
}

fn queue_error(book: &OrderBook) -> (Side, i64, String) {
    match book.check_integrity() {
        Err(IntegrityError::LevelQueue {
            instrument,
            side,
            price,
            what,
        }) => {
            assert_eq!(instrument, INSTRUMENT);
            (side, price, what)
        }
        other => panic!("expected a LevelQueue error, got {other:?}"),
    }
}

#[test]
fn integrity_detects_a_wrong_level_total() {
    let mut book = sample_book();
    let level = book.bids.level_mut(99);
    level.set_total(level.total() + 1);
    assert_eq!(
        book.check_integrity(),
        Err(IntegrityError::LevelTotal {
            instrument: INSTRUMENT,
            side: Side::Buy,
            price: 99,
            cached: 31,
            summed: 30,
        })
    );
}

#[test]
fn integrity_detects_a_wrong_order_quantity_against_its_total() {
    let mut book = sample_book();
    let s5 = slot_of(&book, 5);
    book.orders[s5].qty = 49;
    assert_eq!(
        book.check_integrity(),
        Err(IntegrityError::LevelTotal {
            instrument: INSTRUMENT,
            side: Side::Sell,
            price: 101,
            cached: 150,
            summed: 149,
        })
    );
}

#[test]
fn integrity_detects_a_broken_back_link() {
    let mut book = sample_book();
    let s6 = slot_of(&book, 6);
    book.orders[s6].prev = slot_of(&book, 4);
    let (side, price, what) = queue_error(&book);
    assert_eq!((side, price), (Side::Sell, 101));
    assert!(what.contains("back link"), "{what}");
}

#[test]
fn integrity_detects_a_cycle_in_a_level() {
    let mut book = sample_book();
    let (s4, s6) = (slot_of(&book, 4), slot_of(&book, 6));
    book.orders[s6].next = s4;
    let (side, price, what) = queue_error(&book);
    assert_eq!((side, price), (Side::Sell, 101));
    assert!(what.contains("linked twice"), "{what}");
}

/// A link past the end of the slab is reported, not followed (the slab's accessors do not
/// check bounds in release builds; the integrity checks use the checked one).
#[test]
fn integrity_detects_a_link_outside_the_slab() {
    let mut book = sample_book();
    let s6 = slot_of(&book, 6);
    book.orders[s6].next = 1_000_000;
    let (side, price, what) = queue_error(&book);
    assert_eq!((side, price), (Side::Sell, 101));
    assert!(
        what.contains("order slot 1000000 is outside the slab"),
        "{what}"
    );
}

#[test]
fn integrity_detects_a_wrong_tail() {
    let mut book = sample_book();
    let s5 = slot_of(&book, 5);
    book.asks.level_mut(101).tail = s5;
    let (_, price, what) = queue_error(&book);
    assert_eq!(price, 101);
    assert!(what.contains("tail"), "{what}");
}

#[test]
fn integrity_detects_a_wrong_count() {
    let mut book = sample_book();
    book.bids.level_mut(98).count = 2;
    let (side, price, what) = queue_error(&book);
    assert_eq!((side, price), (Side::Buy, 98));
    assert!(what.contains("count"), "{what}");
}

#[test]
fn integrity_detects_an_order_pointing_at_another_level() {
    let mut book = sample_book();
    let s2 = slot_of(&book, 2);
    book.orders[s2].price = 98;
    let (side, price, what) = queue_error(&book);
    assert_eq!((side, price), (Side::Buy, 99));
    assert!(what.contains(&id(2).to_string()), "{what}");
}

#[test]
fn integrity_detects_an_order_on_the_wrong_side() {
    let mut book = sample_book();
    let s3 = slot_of(&book, 3);
    book.orders[s3].tag |= super::SELL;
    let (side, price, _) = queue_error(&book);
    assert_eq!((side, price), (Side::Buy, 98));
}

#[test]
fn integrity_detects_an_empty_level_left_listed() {
    let mut book = sample_book();
    book.bids.level_mut(98).head = NIL;
    let (side, price, what) = queue_error(&book);
    assert_eq!((side, price), (Side::Buy, 98));
    assert!(what.contains("empty level"), "{what}");
}

#[test]
fn integrity_detects_an_order_that_names_another_price() {
    let mut book = sample_book();
    let s3 = slot_of(&book, 3);
    book.orders[s3].price = 97;
    let (side, price, what) = queue_error(&book);
    assert_eq!((side, price), (Side::Buy, 98));
    assert!(what.contains("97"), "{what}");
}

#[test]
fn integrity_detects_a_resting_order_with_zero_quantity() {
    let mut book = sample_book();
    let s1 = slot_of(&book, 1);
    let (side, price) = (book.orders[s1].side(), book.orders[s1].price);
    book.orders[s1].qty = 0;
    let level = book.ladder_mut(side).level_mut(price);
    level.set_total(level.total() - 10);
    assert_eq!(
        book.check_integrity(),
        Err(IntegrityError::ZeroQuantity {
            instrument: INSTRUMENT,
            order_id: id(1),
        })
    );
}

#[test]
fn integrity_detects_a_crossed_book() {
    let mut book = sample_book();
    // Rest a bid through the asks without matching.
    book.rest(&mut Own, id(7), Side::Buy, 102, 1, false);
    assert_eq!(
        book.check_integrity(),
        Err(IntegrityError::Crossed {
            instrument: INSTRUMENT,
            bid: 102,
            ask: 101,
        })
    );
}

#[test]
fn integrity_detects_a_locked_book() {
    let mut book = sample_book();
    book.rest(&mut Own, id(7), Side::Sell, 99, 1, false);
    assert_eq!(
        book.check_integrity(),
        Err(IntegrityError::Crossed {
            instrument: INSTRUMENT,
            bid: 99,
            ask: 99,
        })
    );
}

#[test]
fn integrity_detects_an_order_missing_from_the_index() {
    let mut book = sample_book();
    let s4 = slot_of(&book, 4);
    book.index.remove(&id(4), s4);
    match book.check_integrity() {
        Err(IntegrityError::Index { instrument, what }) => {
            assert_eq!(instrument, INSTRUMENT);
            assert!(what.contains("5 ids indexed, 6 orders on levels"), "{what}");
        }
        other => panic!("expected an Index error, got {other:?}"),
    }
}

#[test]
fn integrity_detects_an_indexed_order_on_no_level() {
    let mut book = sample_book();
    // Unlink order 5 but leave it allocated and indexed.
    let s5 = slot_of(&book, 5);
    book.unlink(&mut Own, s5);
    match book.check_integrity() {
        Err(IntegrityError::Index { what, .. }) => {
            assert!(what.contains("6 ids indexed, 5 orders on levels"), "{what}");
        }
        other => panic!("expected an Index error, got {other:?}"),
    }
}

#[test]
fn integrity_detects_an_index_entry_under_the_wrong_id() {
    let mut book = sample_book();
    // Rename the order in its slot: the index still holds the slot, under the old hash.
    let s2 = slot_of(&book, 2);
    book.orders[s2].order_id = super::RawId::from(&id(99));
    match book.check_integrity() {
        Err(IntegrityError::Index { what, .. }) => {
            assert!(what.contains("does not look up"), "{what}");
        }
        other => panic!("expected an Index error, got {other:?}"),
    }
}

#[test]
fn integrity_detects_a_vacant_slot_still_holding_quantity() {
    let mut book = sample_book();
    let s3 = slot_of(&book, 3);
    cancel(&mut book, 3);
    book.check_integrity().unwrap();
    book.orders[s3].qty = 30;
    match book.check_integrity() {
        Err(IntegrityError::Index { what, .. }) => {
            assert!(what.contains("6 slots hold quantity"), "{what}");
        }
        other => panic!("expected an Index error, got {other:?}"),
    }
}

#[test]
fn integrity_holds_through_every_order_kind() {
    let mut book = sample_book();
    let instrument_id = INSTRUMENT;
    let flow = [
        Command::Add(Order::new(
            id(10),
            instrument_id,
            Side::Buy,
            OrderKind::Fok,
            101,
            200,
        )),
        Command::Add(Order::new(
            id(11),
            instrument_id,
            Side::Buy,
            OrderKind::Ioc,
            101,
            45,
        )),
        Command::Add(Order::new(
            id(12),
            instrument_id,
            Side::Sell,
            OrderKind::PostOnly,
            100,
            5,
        )),
        Command::Modify {
            instrument_id,
            order_id: id(12),
            price: 99,
            qty: 5,
        },
        Command::Modify {
            instrument_id,
            order_id: id(3),
            price: 101,
            qty: 500,
        },
        Command::Add(Order::market(id(13), instrument_id, Side::Sell, 1_000)),
    ];
    // (best bid, best ask) after each command.
    let tops = [
        (Some((99, 30)), Some((101, 150))), // fok killed: 150 < 200
        (Some((99, 30)), Some((101, 105))), // ioc took 45
        (Some((99, 30)), Some((100, 5))),   // post-only rests at 100
        (Some((99, 30)), Some((100, 5))),   // moving it to 99 would cross: rejected
        (Some((101, 390)), None),           // 3 swept 5 + 105 and rests 390 at 101
        (None, None),                       // the market sell took every bid
    ];
    for (step, (command, top)) in flow.into_iter().zip(tops).enumerate() {
        apply(&mut book, command);
        book.check_integrity().unwrap();
        assert_eq!((book.best_bid(), book.best_ask()), top, "step {step}");
    }
    assert!(book.is_empty());
}

#[test]
fn integrity_catches_a_cached_best_slot_that_disagrees_with_the_tree() {
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Buy, 100, 5);
    limit(&mut book, 2, Side::Buy, 99, 5);
    book.bids.corrupt_cached_best(99);
    assert_eq!(
        book.check_integrity(),
        Err(IntegrityError::BestLevel {
            instrument: INSTRUMENT,
            side: Side::Buy,
            cached: Some(99),
            actual: Some(100),
        })
    );
}

/// A modify raising the quantity at the same price moves the order to the back of its own
/// level: from the head, the middle and the tail, and as the only order (whose level is
/// kept, not removed and created again); the level's total and the links follow.
#[test]
fn a_larger_modify_at_the_same_price_goes_to_the_back_of_its_level() {
    let mut book = OrderBook::new(INSTRUMENT);
    for n in 1..=4 {
        limit(&mut book, n, Side::Sell, 100, 10);
    }
    let modify = |book: &mut OrderBook, n: u128, price: i64, qty: u64| {
        let events = modify_events(book, n, price, qty);
        assert!(
            matches!(
                events.as_slice(),
                [OrderbookResult::Modified {
                    priority_kept: false,
                    ..
                }]
            ),
            "{events:?}"
        );
    };
    modify(&mut book, 1, 100, 11);
    assert_eq!(
        fifo(&book, Side::Sell, 100),
        vec![id(2), id(3), id(4), id(1)]
    );
    modify(&mut book, 3, 100, 12);
    assert_eq!(
        fifo(&book, Side::Sell, 100),
        vec![id(2), id(4), id(1), id(3)]
    );
    modify(&mut book, 3, 100, 13);
    assert_eq!(
        fifo(&book, Side::Sell, 100),
        vec![id(2), id(4), id(1), id(3)]
    );
    assert_eq!(book.best_ask(), Some((100, 10 + 10 + 11 + 13)));

    let mut alone = OrderBook::new(INSTRUMENT);
    limit(&mut alone, 9, Side::Buy, 90, 5);
    let head = alone.bids.get(90).unwrap().head;
    modify(&mut alone, 9, 90, 6);
    assert_eq!(alone.bids.head_at(90), Some(head), "the level is kept");
    assert_eq!(alone.levels(Side::Buy), 1);
    assert_eq!(alone.best_bid(), Some((90, 6)));
}

/// A slot's raw id gives back the same `Uuid`, byte for byte, and two ids differing in
/// any byte stay different.
#[test]
fn a_raw_id_round_trips_every_byte() {
    let ids = [
        Uuid::nil(),
        Uuid::max(),
        Uuid::from_u128(1),
        Uuid::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10),
        Uuid::from_u128(1 << 64),
    ];
    for id in ids {
        assert_eq!(super::RawId::from(&id).uuid(), id);
    }
    for (a, b) in ids.iter().zip(ids.iter().skip(1)) {
        assert_ne!(super::RawId::from(a), super::RawId::from(b));
    }
}

/// A slot stays at 48 bytes (a resting order at most 64 bytes with the id index's table),
/// and its packed fields read back what was written: the side, post-only, the long
/// form's bits and a 56-bit acceptance number, each untouched by the others.
#[test]
fn a_slot_is_48_bytes_and_its_packed_fields_round_trip() {
    assert_eq!(std::mem::size_of::<super::Slot>(), 48);
    let id = Uuid::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
    for side in [Side::Buy, Side::Sell] {
        for post_only in [false, true] {
            for accepted in [0, 1, u64::from(u32::MAX) + 1, (1 << 48) + 5, (1 << 56) - 1] {
                let mut slot = super::Slot::new(&id, 7, -3, 9, side, post_only, accepted);
                assert_eq!(slot.side(), side);
                assert_eq!(slot.post_only(), post_only);
                assert_eq!(slot.accepted(), accepted);
                assert_eq!(slot.extra(), 0);
                let both = super::long_form::OWNED | super::long_form::ICEBERG;
                slot.set_extra(both);
                assert_eq!(slot.extra(), both);
                assert_eq!((slot.side(), slot.post_only()), (side, post_only));
                slot.set_accepted(accepted ^ 1);
                assert_eq!(slot.accepted(), accepted ^ 1);
                assert_eq!(slot.extra(), both);
                slot.set_extra(0);
                assert_eq!(
                    (slot.side(), slot.post_only(), slot.extra()),
                    (side, post_only, 0)
                );
                assert_eq!(
                    (slot.order_id.uuid(), slot.qty, slot.price, slot.prev),
                    (id, 7, -3, 9)
                );
            }
        }
    }
}

#[test]
fn the_largest_order_id_rests_and_is_cancelled_like_any_other() {
    // The id index's table bound is one past its largest id: for `u128::MAX` that
    // overflowed (a panic in debug builds; in release the order could no longer be found,
    // and its cancel was an unknown order).
    let max = Uuid::from_u128(u128::MAX);
    let mut book = OrderBook::new(INSTRUMENT);
    let mut events = Vec::new();
    for command in [
        Command::Add(Order::limit(id(1), INSTRUMENT, Side::Buy, 99, 1)),
        Command::Add(Order::limit(max, INSTRUMENT, Side::Buy, 100, 4)),
        Command::Add(Order::limit(max, INSTRUMENT, Side::Buy, 100, 4)),
        Command::Cancel {
            order_id: max,
            instrument_id: INSTRUMENT,
        },
    ] {
        book.apply(&command, &mut |e| events.push(e));
    }
    assert!(
        matches!(
            events[2],
            OrderbookResult::Rejected {
                reason: crate::result::RejectReason::DuplicateOrderId,
                ..
            }
        ),
        "{:?}",
        events[2]
    );
    assert!(
        matches!(events[3], OrderbookResult::Cancelled { order_id, remaining_qty: 4, .. } if order_id == max),
        "{:?}",
        events[3]
    );
    book.check_integrity().unwrap();
}

/// The trades among `events` as (maker number, price, quantity, taker's and maker's
/// remaining quantities), the maker numbered as [`id`] numbers it.
fn trades_of(events: &[OrderbookResult]) -> Vec<(u128, i64, u64, u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            OrderbookResult::Trade {
                maker_order_id,
                price,
                qty,
                taker_remaining,
                maker_remaining,
                ..
            } => Some((
                maker_order_id.as_u128() - 0x5000,
                *price,
                *qty,
                *taker_remaining,
                *maker_remaining,
            )),
            _ => None,
        })
        .collect()
}

/// The open quantity the last event of `events` expires, if it is an `expired`.
fn expired_qty(events: &[OrderbookResult]) -> Option<u64> {
    match events.last() {
        Some(OrderbookResult::Expired { remaining_qty, .. }) => Some(*remaining_qty),
        _ => None,
    }
}

fn market(book: &mut OrderBook, n: u128, side: Side, qty: u64) -> Vec<OrderbookResult> {
    let order = Order::new(id(n), INSTRUMENT, side, OrderKind::Market, 0, qty);
    apply(book, Command::Add(order))
}

#[test]
fn a_market_buy_matches_an_ask_at_the_largest_price() {
    // A market taker matches at any price: the matching loop's bound for a buy is the
    // largest price, which an ask may rest at.
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Sell, 100, 2);
    limit(&mut book, 2, Side::Sell, i64::MAX, 3);
    let events = market(&mut book, 3, Side::Buy, 10);
    assert_eq!(
        trades_of(&events),
        vec![(1, 100, 2, 8, 0), (2, i64::MAX, 3, 5, 0)],
        "{events:?}"
    );
    assert_eq!(expired_qty(&events), Some(5), "{events:?}");
    assert!(book.is_empty());
    assert_eq!(book.ladder(Side::Sell).best_price(), None);
    book.check_integrity().unwrap();
}

#[test]
fn a_market_sell_matches_a_bid_at_the_smallest_price() {
    // The sell taker's bound is the smallest price; the bid there is filled in part and
    // stays at the head of its level.
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Buy, 100, 2);
    limit(&mut book, 2, Side::Buy, i64::MIN, 3);
    let events = market(&mut book, 3, Side::Sell, 4);
    assert_eq!(
        trades_of(&events),
        vec![(1, 100, 2, 2, 0), (2, i64::MIN, 2, 0, 1)],
        "{events:?}"
    );
    assert_eq!(expired_qty(&events), None, "{events:?}");
    assert_eq!(book.ladder(Side::Buy).best_price(), Some(i64::MIN));
    assert_eq!(fifo(&book, Side::Buy, i64::MIN), vec![id(2)]);
    assert_eq!(
        book.ladder(Side::Buy).get(i64::MIN).map(|l| l.total()),
        Some(1)
    );
    book.check_integrity().unwrap();
}

#[test]
fn a_sell_sweeps_bids_down_to_its_limit_and_rests_the_rest() {
    // Two makers of the best level filled whole (the level emptied and dropped), the
    // next level's only maker at the limit too, the level below the limit untouched,
    // and the rest of the taker resting at its limit on the ask side.
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Buy, 101, 2);
    limit(&mut book, 2, Side::Buy, 101, 2);
    limit(&mut book, 3, Side::Buy, 100, 1);
    limit(&mut book, 4, Side::Buy, 99, 5);
    let events = apply(
        &mut book,
        Command::Add(Order::limit(id(5), INSTRUMENT, Side::Sell, 100, 7)),
    );
    assert_eq!(
        trades_of(&events),
        vec![(1, 101, 2, 5, 0), (2, 101, 2, 3, 0), (3, 100, 1, 2, 0)],
        "{events:?}"
    );
    assert_eq!(book.ladder(Side::Buy).best_price(), Some(99));
    assert_eq!(book.ladder(Side::Buy).get(101), None);
    assert_eq!(book.ladder(Side::Buy).get(100), None);
    assert_eq!(fifo(&book, Side::Buy, 99), vec![id(4)]);
    assert_eq!(book.ladder(Side::Sell).best_price(), Some(100));
    assert_eq!(fifo(&book, Side::Sell, 100), vec![id(5)]);
    assert_eq!(book.ladder(Side::Sell).get(100).map(|l| l.total()), Some(2));
    book.check_integrity().unwrap();
}

#[test]
fn a_buy_fills_part_of_a_level_and_leaves_its_fifo_and_total_right() {
    // The taker ends inside a level: the maker it fills whole leaves the head, the one
    // it fills in part becomes the head with its rest, the one behind is untouched, and
    // the level's count and total are those of the two left.
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Sell, 105, 3);
    limit(&mut book, 2, Side::Sell, 105, 4);
    limit(&mut book, 3, Side::Sell, 105, 5);
    let events = apply(
        &mut book,
        Command::Add(Order::limit(id(4), INSTRUMENT, Side::Buy, 105, 5)),
    );
    assert_eq!(
        trades_of(&events),
        vec![(1, 105, 3, 2, 0), (2, 105, 2, 0, 2)],
        "{events:?}"
    );
    assert_eq!(fifo(&book, Side::Sell, 105), vec![id(2), id(3)]);
    let level = book.ladder(Side::Sell).get(105).expect("the level stays");
    assert_eq!((level.count, level.total()), (2, 7));
    assert_eq!(book.ladder(Side::Buy).best_price(), None);
    book.check_integrity().unwrap();
}

#[test]
fn a_buy_modify_that_crosses_trades_then_rests_at_its_new_price() {
    // A repricing modify re-enters as a taker (matched on the buy side's loop): it fills
    // the ask it reaches and its rest rests at the new price, the ask side emptied.
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Sell, 105, 3);
    limit(&mut book, 2, Side::Buy, 100, 5);
    let events = modify_events(&mut book, 2, 105, 5);
    assert!(
        matches!(events.first(), Some(OrderbookResult::Modified { .. })),
        "{events:?}"
    );
    assert_eq!(trades_of(&events), vec![(1, 105, 3, 2, 0)], "{events:?}");
    assert_eq!(book.ladder(Side::Sell).best_price(), None);
    assert_eq!(book.ladder(Side::Buy).best_price(), Some(105));
    assert_eq!(fifo(&book, Side::Buy, 105), vec![id(2)]);
    assert_eq!(book.ladder(Side::Buy).get(100), None);
    book.check_integrity().unwrap();
}

#[test]
fn repricing_modifies_move_the_head_middle_and_tail_behind_a_busy_level() {
    // Three asks at 101 and one at 100: the middle, the head and then the tail of 101 move
    // to 100 with new quantities; each joins 100's tail, 101's FIFO, count and total
    // follow, and the last one to leave removes 101 (the best, 100, unchanged).
    let mut book = OrderBook::new(INSTRUMENT);
    limit(&mut book, 1, Side::Sell, 101, 1);
    limit(&mut book, 2, Side::Sell, 101, 2);
    limit(&mut book, 3, Side::Sell, 101, 3);
    limit(&mut book, 4, Side::Sell, 100, 4);
    let totals = |book: &OrderBook, price| {
        book.asks
            .get(price)
            .map(|l| (l.count, l.total()))
            .unwrap_or((0, 0))
    };
    modify(&mut book, 2, 100, 20);
    assert_eq!(fifo(&book, Side::Sell, 101), vec![id(1), id(3)]);
    assert_eq!(fifo(&book, Side::Sell, 100), vec![id(4), id(2)]);
    assert_eq!((totals(&book, 101), totals(&book, 100)), ((2, 4), (2, 24)));
    modify(&mut book, 1, 100, 10);
    assert_eq!(fifo(&book, Side::Sell, 101), vec![id(3)]);
    assert_eq!(fifo(&book, Side::Sell, 100), vec![id(4), id(2), id(1)]);
    assert_eq!((totals(&book, 101), totals(&book, 100)), ((1, 3), (3, 34)));
    modify(&mut book, 3, 100, 30);
    assert_eq!(book.asks.get(101), None);
    assert_eq!(
        fifo(&book, Side::Sell, 100),
        vec![id(4), id(2), id(1), id(3)]
    );
    assert_eq!(totals(&book, 100), (4, 64));
    assert_eq!(book.best_ask(), Some((100, 64)));
    assert_eq!(book.levels(Side::Sell), 1);
    // A bid leaving the best level for a worse one: the best follows it down.
    limit(&mut book, 5, Side::Buy, 90, 5);
    limit(&mut book, 6, Side::Buy, 89, 6);
    modify(&mut book, 5, 88, 7);
    assert_eq!(book.best_bid(), Some((89, 6)));
    assert_eq!(fifo(&book, Side::Buy, 88), vec![id(5)]);
    book.check_integrity().unwrap();
}

#[test]
fn cancels_of_the_middle_head_and_tail_keep_the_fifo_and_free_the_slot() {
    // Each cancel relinks the neighbours, fixes the level's head or tail, count and
    // total, frees the slot (reused by the next add) and reports the order's side, price
    // and open quantity; the best level's last cancel moves the best.
    let mut book = OrderBook::new(INSTRUMENT);
    for n in 1..=4 {
        limit(&mut book, n, Side::Buy, 100, n as u64);
    }
    limit(&mut book, 5, Side::Buy, 98, 5);
    let totals = |book: &OrderBook| {
        book.bids
            .get(100)
            .map(|l| (l.count, l.total()))
            .unwrap_or((0, 0))
    };
    for (n, left, count_total) in [
        (2, vec![id(1), id(3), id(4)], (3, 8)),
        (1, vec![id(3), id(4)], (2, 7)),
        (4, vec![id(3)], (1, 3)),
    ] {
        let freed = slot_of(&book, n);
        let events = apply(
            &mut book,
            Command::Cancel {
                instrument_id: INSTRUMENT,
                order_id: id(n),
            },
        );
        assert!(
            matches!(
                events.as_slice(),
                [OrderbookResult::Cancelled { side: Side::Buy, price: Some(100), remaining_qty, .. }]
                    if *remaining_qty == n as u64
            ),
            "cancel {n}: {events:?}"
        );
        assert_eq!(fifo(&book, Side::Buy, 100), left, "after cancel {n}");
        assert_eq!(totals(&book), count_total, "after cancel {n}");
        book.check_integrity().unwrap();
        // The next order takes the freed slot.
        limit(&mut book, 10 + n, Side::Sell, 200, 1);
        assert_eq!(slot_of(&book, 10 + n), freed);
        cancel(&mut book, 10 + n);
    }
    cancel(&mut book, 3);
    assert_eq!(book.bids.get(100), None);
    assert_eq!(book.best_bid(), Some((98, 5)));
    assert_eq!(book.levels(Side::Buy), 1);
    book.check_integrity().unwrap();
}
