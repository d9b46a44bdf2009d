//! One test per rule of `docs/FLOW-FORMAT.md`, through the public API.
//!
//! Every command goes to both `ringbook::OrderBook` and the naive reference book; the two
//! must agree, the book must pass `check_integrity`, and each test asserts the exact
//! event vector the contract prescribes.

use ringbook::{
    BookSnapshot, BookStatus, Command, Op, Order, OrderBook, OrderKind, OrderbookResult,
    RejectReason, Side, SnapshotLevel, SnapshotOrder,
};
use ringbook_testkit::reference::NaiveBook;
use uuid::Uuid;

use OrderKind::{Fok, Ioc, Limit, Market, PostOnly};
use RejectReason::{
    DuplicateOrderId, InvalidQuantity, OrderbookHalted, PostOnlyWouldCross, UnknownOrder,
};
use Side::{Buy, Sell};

const INSTRUMENT: Uuid = Uuid::from_u128(0x1);
const MAX: u64 = u64::MAX;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x1000 + n)
}

/// The book under test and the reference book, driven in lock step.
struct Books {
    book: OrderBook,
    naive: NaiveBook,
}

impl Books {
    fn new() -> Books {
        Books {
            book: OrderBook::new(INSTRUMENT),
            naive: NaiveBook::new(INSTRUMENT),
        }
    }

    fn apply(&mut self, command: Command) -> Vec<OrderbookResult> {
        let mut events = Vec::new();
        self.book.apply(&command, &mut |e| events.push(e));
        assert_eq!(
            events,
            self.naive.apply(&command),
            "book and reference disagree on {command:?}"
        );
        assert!(!events.is_empty(), "{command:?} yielded no event");
        if let Err(e) = self.book.check_integrity() {
            panic!("integrity broken after {command:?}: {e}");
        }
        events
    }

    fn add(
        &mut self,
        n: u128,
        side: Side,
        kind: OrderKind,
        price: i64,
        qty: u64,
    ) -> Vec<OrderbookResult> {
        self.apply(Command::Add(Order::new(
            id(n),
            INSTRUMENT,
            side,
            kind,
            price,
            qty,
        )))
    }

    fn limit(&mut self, n: u128, side: Side, price: i64, qty: u64) -> Vec<OrderbookResult> {
        self.add(n, side, Limit, price, qty)
    }

    fn market(&mut self, n: u128, side: Side, qty: u64) -> Vec<OrderbookResult> {
        self.apply(Command::Add(Order::market(id(n), INSTRUMENT, side, qty)))
    }

    fn cancel(&mut self, n: u128) -> Vec<OrderbookResult> {
        self.apply(Command::Cancel {
            instrument_id: INSTRUMENT,
            order_id: id(n),
        })
    }

    fn modify(&mut self, n: u128, price: i64, qty: u64) -> Vec<OrderbookResult> {
        self.apply(Command::Modify {
            instrument_id: INSTRUMENT,
            order_id: id(n),
            price,
            qty,
        })
    }

    fn halt(&mut self) -> Vec<OrderbookResult> {
        self.apply(Command::Halt {
            instrument_id: INSTRUMENT,
        })
    }

    fn resume(&mut self) -> Vec<OrderbookResult> {
        self.apply(Command::Resume {
            instrument_id: INSTRUMENT,
        })
    }

    fn status(&mut self) -> BookStatus {
        match self
            .apply(Command::Status {
                instrument_id: INSTRUMENT,
            })
            .as_slice()
        {
            [
                OrderbookResult::Status {
                    instrument_id,
                    status,
                },
            ] => {
                assert_eq!(*instrument_id, INSTRUMENT);
                **status
            }
            other => panic!("status op published {other:?}"),
        }
    }

    fn snapshot(&mut self) -> BookSnapshot {
        match self
            .apply(Command::Snapshot {
                instrument_id: INSTRUMENT,
            })
            .as_slice()
        {
            [
                OrderbookResult::Snapshot {
                    instrument_id,
                    snapshot,
                },
            ] => {
                assert_eq!(*instrument_id, INSTRUMENT);
                (**snapshot).clone()
            }
            other => panic!("snapshot op published {other:?}"),
        }
    }
}

fn accepted(n: u128, side: Side, kind: OrderKind, price: Option<i64>, qty: u64) -> OrderbookResult {
    OrderbookResult::Accepted {
        instrument_id: INSTRUMENT,
        order_id: id(n),
        side,
        kind,
        price,
        qty,
        display: None,
        trigger: None,
    }
}

fn rejected(op: Op, n: u128, reason: RejectReason) -> OrderbookResult {
    OrderbookResult::Rejected {
        instrument_id: INSTRUMENT,
        op,
        order_id: Some(id(n)),
        reason,
    }
}

#[allow(clippy::too_many_arguments)]
fn trade(
    taker: u128,
    maker: u128,
    taker_side: Side,
    price: i64,
    qty: u64,
    taker_remaining: u64,
    maker_remaining: u64,
) -> OrderbookResult {
    OrderbookResult::Trade {
        instrument_id: INSTRUMENT,
        taker_order_id: id(taker),
        maker_order_id: id(maker),
        taker_side,
        price,
        qty,
        taker_remaining,
        maker_remaining,
    }
}

fn cancelled(n: u128, side: Side, price: i64, remaining_qty: u64) -> OrderbookResult {
    OrderbookResult::Cancelled {
        instrument_id: INSTRUMENT,
        order_id: id(n),
        side,
        price: Some(price),
        remaining_qty,
        reason: ringbook::EndReason::Plain,
    }
}

fn expired(n: u128, side: Side, price: Option<i64>, remaining_qty: u64) -> OrderbookResult {
    OrderbookResult::Expired {
        instrument_id: INSTRUMENT,
        order_id: id(n),
        side,
        price,
        remaining_qty,
        reason: ringbook::EndReason::Plain,
    }
}

/// A `modified` event, its fields in the flow format's order: the new price and open
/// quantity, then the old ones.
fn modified(
    n: u128,
    side: Side,
    price: i64,
    qty: u64,
    old_price: i64,
    old_qty: u64,
    priority_kept: bool,
) -> OrderbookResult {
    OrderbookResult::Modified {
        instrument_id: INSTRUMENT,
        order_id: id(n),
        side,
        price,
        qty,
        old_price,
        old_qty,
        priority_kept,
        display: None,
    }
}

fn level(price: i64, orders: &[(u128, u64)]) -> SnapshotLevel {
    SnapshotLevel {
        price,
        orders: orders
            .iter()
            .map(|&(n, qty)| SnapshotOrder {
                order_id: id(n),
                qty,
            })
            .collect(),
    }
}

/// A limit order that rests untouched: `accepted` only.
fn rests(books: &mut Books, n: u128, side: Side, price: i64, qty: u64) {
    assert_eq!(
        books.limit(n, side, price, qty),
        vec![accepted(n, side, Limit, Some(price), qty)]
    );
}

// ---------------------------------------------------------------------------------------
// Reject reasons
// ---------------------------------------------------------------------------------------

#[test]
fn halted_book_rejects_add_with_orderbook_halted() {
    let mut b = Books::new();
    assert_eq!(
        b.halt(),
        vec![OrderbookResult::Halted {
            instrument_id: INSTRUMENT
        }]
    );
    for kind in OrderKind::ALL {
        assert_eq!(
            b.add(1, Buy, kind, 100, 5),
            vec![rejected(Op::Add, 1, OrderbookHalted)],
            "{kind:?}"
        );
    }
    assert!(b.book.is_empty());
}

#[test]
fn halted_book_rejects_modify_with_orderbook_halted() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    b.halt();
    assert_eq!(
        b.modify(1, 100, 3),
        vec![rejected(Op::Modify, 1, OrderbookHalted)]
    );
    assert_eq!(
        b.modify(1, 101, 9),
        vec![rejected(Op::Modify, 1, OrderbookHalted)]
    );
    assert_eq!(b.book.resting_order(&id(1)), Some((Buy, 100, 5)));
}

#[test]
fn add_with_zero_quantity_is_invalid_quantity_for_every_kind() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    for kind in OrderKind::ALL {
        assert_eq!(
            b.add(2, Buy, kind, 100, 0),
            vec![rejected(Op::Add, 2, InvalidQuantity)],
            "{kind:?}"
        );
    }
    assert_eq!(b.book.best_ask(), Some((100, 5)));
}

#[test]
fn modify_to_zero_quantity_is_invalid_quantity_and_order_stays() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    assert_eq!(
        b.modify(1, 100, 0),
        vec![rejected(Op::Modify, 1, InvalidQuantity)]
    );
    assert_eq!(b.book.resting_order(&id(1)), Some((Buy, 100, 5)));
}

#[test]
fn add_of_a_resting_id_is_duplicate_order_id() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    // Same side, other side, other kinds: the id rests, so every add with it is refused.
    assert_eq!(
        b.limit(1, Buy, 99, 2),
        vec![rejected(Op::Add, 1, DuplicateOrderId)]
    );
    assert_eq!(
        b.limit(1, Sell, 100, 2),
        vec![rejected(Op::Add, 1, DuplicateOrderId)]
    );
    assert_eq!(
        b.market(1, Sell, 2),
        vec![rejected(Op::Add, 1, DuplicateOrderId)]
    );
    assert_eq!(b.book.resting_order(&id(1)), Some((Buy, 100, 5)));
    assert_eq!(b.book.len(), 1);
}

#[test]
fn cancel_and_modify_of_an_unknown_id_are_unknown_order() {
    let mut b = Books::new();
    assert_eq!(b.cancel(7), vec![rejected(Op::Cancel, 7, UnknownOrder)]);
    assert_eq!(
        b.modify(7, 100, 1),
        vec![rejected(Op::Modify, 7, UnknownOrder)]
    );
}

#[test]
fn cancel_of_a_cancelled_or_filled_order_is_unknown_order() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    rests(&mut b, 2, Buy, 100, 5);
    assert_eq!(b.cancel(1), vec![cancelled(1, Buy, 100, 5)]);
    assert_eq!(b.cancel(1), vec![rejected(Op::Cancel, 1, UnknownOrder)]);
    b.market(3, Sell, 5);
    assert_eq!(b.cancel(2), vec![rejected(Op::Cancel, 2, UnknownOrder)]);
    assert_eq!(
        b.modify(2, 100, 1),
        vec![rejected(Op::Modify, 2, UnknownOrder)]
    );
}

#[test]
fn modify_of_an_order_that_never_rested_is_unknown_order() {
    let mut b = Books::new();
    // An ioc id is accepted but never rests.
    assert_eq!(
        b.add(1, Buy, Ioc, 100, 5),
        vec![
            accepted(1, Buy, Ioc, Some(100), 5),
            expired(1, Buy, Some(100), 5)
        ]
    );
    assert_eq!(
        b.modify(1, 100, 5),
        vec![rejected(Op::Modify, 1, UnknownOrder)]
    );
    assert_eq!(b.cancel(1), vec![rejected(Op::Cancel, 1, UnknownOrder)]);
}

#[test]
fn post_only_that_would_cross_is_rejected() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    rests(&mut b, 2, Buy, 98, 5);
    // At the opposite best, and through it.
    assert_eq!(
        b.add(3, Buy, PostOnly, 100, 1),
        vec![rejected(Op::Add, 3, PostOnlyWouldCross)]
    );
    assert_eq!(
        b.add(3, Buy, PostOnly, 150, 1),
        vec![rejected(Op::Add, 3, PostOnlyWouldCross)]
    );
    assert_eq!(
        b.add(4, Sell, PostOnly, 98, 1),
        vec![rejected(Op::Add, 4, PostOnlyWouldCross)]
    );
    assert_eq!(
        b.add(4, Sell, PostOnly, i64::MIN, 1),
        vec![rejected(Op::Add, 4, PostOnlyWouldCross)]
    );
    assert_eq!(b.book.len(), 2);
    assert_eq!(b.book.best_ask(), Some((100, 5)));
    assert_eq!(b.book.best_bid(), Some((98, 5)));
}

// ---------------------------------------------------------------------------------------
// Reject order: the first reason that applies is reported
// ---------------------------------------------------------------------------------------

#[test]
fn halted_beats_invalid_quantity() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    b.halt();
    assert_eq!(
        b.limit(2, Buy, 100, 0),
        vec![rejected(Op::Add, 2, OrderbookHalted)]
    );
    assert_eq!(
        b.modify(1, 100, 0),
        vec![rejected(Op::Modify, 1, OrderbookHalted)]
    );
}

#[test]
fn halted_beats_duplicate_and_unknown() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    b.halt();
    assert_eq!(
        b.limit(1, Buy, 100, 5),
        vec![rejected(Op::Add, 1, OrderbookHalted)]
    );
    assert_eq!(
        b.modify(9, 100, 5),
        vec![rejected(Op::Modify, 9, OrderbookHalted)]
    );
}

#[test]
fn halted_beats_post_only_would_cross() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    b.halt();
    assert_eq!(
        b.add(2, Buy, PostOnly, 100, 5),
        vec![rejected(Op::Add, 2, OrderbookHalted)]
    );
}

#[test]
fn invalid_quantity_beats_duplicate_order_id() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    assert_eq!(
        b.limit(1, Buy, 100, 0),
        vec![rejected(Op::Add, 1, InvalidQuantity)]
    );
}

#[test]
fn invalid_quantity_beats_unknown_order_on_modify() {
    let mut b = Books::new();
    assert_eq!(
        b.modify(9, 100, 0),
        vec![rejected(Op::Modify, 9, InvalidQuantity)]
    );
}

#[test]
fn invalid_quantity_beats_post_only_would_cross() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    assert_eq!(
        b.add(2, Buy, PostOnly, 101, 0),
        vec![rejected(Op::Add, 2, InvalidQuantity)]
    );
}

#[test]
fn duplicate_beats_post_only_would_cross() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    rests(&mut b, 2, Buy, 99, 5);
    assert_eq!(
        b.add(2, Buy, PostOnly, 100, 5),
        vec![rejected(Op::Add, 2, DuplicateOrderId)]
    );
}

#[test]
fn cancel_on_a_halted_book_still_reports_unknown_order() {
    let mut b = Books::new();
    b.halt();
    assert_eq!(b.cancel(3), vec![rejected(Op::Cancel, 3, UnknownOrder)]);
}

// ---------------------------------------------------------------------------------------
// Order kinds
// ---------------------------------------------------------------------------------------

#[test]
fn limit_that_does_not_cross_rests_at_its_price() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 99, 5);
    rests(&mut b, 2, Sell, 101, 7);
    assert_eq!(b.book.best_bid(), Some((99, 5)));
    assert_eq!(b.book.best_ask(), Some((101, 7)));
    assert_eq!(b.book.resting_order(&id(2)), Some((Sell, 101, 7)));
}

#[test]
fn limit_matches_then_its_rest_rests() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 3);
    assert_eq!(
        b.limit(2, Buy, 101, 5),
        vec![
            accepted(2, Buy, Limit, Some(101), 5),
            trade(2, 1, Buy, 100, 3, 2, 0),
        ]
    );
    assert_eq!(b.book.best_bid(), Some((101, 2)));
    assert_eq!(b.book.best_ask(), None);
}

#[test]
fn market_matches_at_any_price_and_its_rest_expires() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 2);
    rests(&mut b, 2, Sell, 5_000, 2);
    rests(&mut b, 3, Sell, i64::MAX, 2);
    assert_eq!(
        b.market(4, Buy, 10),
        vec![
            accepted(4, Buy, Market, None, 10),
            trade(4, 1, Buy, 100, 2, 8, 0),
            trade(4, 2, Buy, 5_000, 2, 6, 0),
            trade(4, 3, Buy, i64::MAX, 2, 4, 0),
            expired(4, Buy, None, 4),
        ]
    );
    assert!(b.book.is_empty());
    assert_eq!(b.book.order_qty(&id(4)), None, "a market rest never rests");
}

#[test]
fn market_on_an_empty_side_expires_whole() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 2);
    assert_eq!(
        b.market(2, Buy, 10),
        vec![
            accepted(2, Buy, Market, None, 10),
            expired(2, Buy, None, 10)
        ]
    );
    assert_eq!(
        b.market(3, Sell, 1),
        vec![
            accepted(3, Sell, Market, None, 1),
            trade(3, 1, Sell, 100, 1, 0, 1)
        ]
    );
}

#[test]
fn ioc_matches_up_to_its_limit_and_its_rest_expires() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 102, 3);
    rests(&mut b, 2, Buy, 101, 3);
    rests(&mut b, 3, Buy, 100, 3);
    assert_eq!(
        b.add(4, Sell, Ioc, 101, 10),
        vec![
            accepted(4, Sell, Ioc, Some(101), 10),
            trade(4, 1, Sell, 102, 3, 7, 0),
            trade(4, 2, Sell, 101, 3, 4, 0),
            expired(4, Sell, Some(101), 4),
        ]
    );
    assert_eq!(b.book.best_bid(), Some((100, 3)));
    assert_eq!(b.book.best_ask(), None);
}

#[test]
fn ioc_filled_whole_has_no_expired_event() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    assert_eq!(
        b.add(2, Buy, Ioc, 100, 5),
        vec![
            accepted(2, Buy, Ioc, Some(100), 5),
            trade(2, 1, Buy, 100, 5, 0, 0)
        ]
    );
    assert!(b.book.is_empty());
}

#[test]
fn fok_with_exactly_enough_liquidity_fills_across_levels() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 2);
    rests(&mut b, 2, Sell, 101, 3);
    rests(&mut b, 3, Sell, 102, 100);
    assert_eq!(
        b.add(4, Buy, Fok, 101, 5),
        vec![
            accepted(4, Buy, Fok, Some(101), 5),
            trade(4, 1, Buy, 100, 2, 3, 0),
            trade(4, 2, Buy, 101, 3, 0, 0),
        ]
    );
    assert_eq!(b.book.best_ask(), Some((102, 100)));
}

#[test]
fn fok_short_by_one_lot_expires_whole_and_trades_nothing() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 2);
    rests(&mut b, 2, Sell, 101, 3);
    // Plenty beyond the limit does not count.
    rests(&mut b, 3, Sell, 102, 100);
    let before = b.snapshot();
    assert_eq!(
        b.add(4, Buy, Fok, 101, 6),
        vec![
            accepted(4, Buy, Fok, Some(101), 6),
            expired(4, Buy, Some(101), 6)
        ]
    );
    assert_eq!(
        b.snapshot(),
        before,
        "a killed fok leaves the book as it was"
    );
}

#[test]
fn fok_sell_mirrors_buy() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 4);
    rests(&mut b, 2, Buy, 99, 4);
    assert_eq!(
        b.add(3, Sell, Fok, 100, 5),
        vec![
            accepted(3, Sell, Fok, Some(100), 5),
            expired(3, Sell, Some(100), 5)
        ]
    );
    assert_eq!(
        b.add(3, Sell, Fok, 99, 5),
        vec![
            accepted(3, Sell, Fok, Some(99), 5),
            trade(3, 1, Sell, 100, 4, 1, 0),
            trade(3, 2, Sell, 99, 1, 0, 3),
        ]
    );
}

#[test]
fn fok_on_an_empty_book_expires_whole() {
    let mut b = Books::new();
    assert_eq!(
        b.add(1, Buy, Fok, 100, 1),
        vec![
            accepted(1, Buy, Fok, Some(100), 1),
            expired(1, Buy, Some(100), 1)
        ]
    );
}

#[test]
fn post_only_that_does_not_cross_rests_like_a_limit() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    assert_eq!(
        b.add(2, Buy, PostOnly, 99, 4),
        vec![accepted(2, Buy, PostOnly, Some(99), 4)]
    );
    assert_eq!(
        b.add(3, Sell, PostOnly, 100, 6),
        vec![accepted(3, Sell, PostOnly, Some(100), 6)]
    );
    assert_eq!(b.book.best_bid(), Some((99, 4)));
    assert_eq!(b.book.best_ask(), Some((100, 11)));
    // A resting post_only is an ordinary maker.
    assert_eq!(
        b.market(4, Sell, 1),
        vec![
            accepted(4, Sell, Market, None, 1),
            trade(4, 2, Sell, 99, 1, 0, 3)
        ]
    );
}

#[test]
fn post_only_on_an_empty_book_rests() {
    let mut b = Books::new();
    assert_eq!(
        b.add(1, Sell, PostOnly, 100, 4),
        vec![accepted(1, Sell, PostOnly, Some(100), 4)]
    );
    assert_eq!(b.book.best_ask(), Some((100, 4)));
}

// ---------------------------------------------------------------------------------------
// Matching: resting price, price then time priority
// ---------------------------------------------------------------------------------------

#[test]
fn fills_trade_at_the_resting_price() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    rests(&mut b, 2, Buy, 90, 5);
    assert_eq!(
        b.limit(3, Buy, 110, 2),
        vec![
            accepted(3, Buy, Limit, Some(110), 2),
            trade(3, 1, Buy, 100, 2, 0, 3)
        ]
    );
    assert_eq!(
        b.add(4, Sell, Ioc, 50, 2),
        vec![
            accepted(4, Sell, Ioc, Some(50), 2),
            trade(4, 2, Sell, 90, 2, 0, 3)
        ]
    );
}

#[test]
fn price_priority_then_time_priority() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 101, 1);
    rests(&mut b, 2, Sell, 100, 1);
    rests(&mut b, 3, Sell, 101, 1);
    rests(&mut b, 4, Sell, 100, 1);
    rests(&mut b, 5, Sell, 99, 1);
    assert_eq!(
        b.market(6, Buy, 5),
        vec![
            accepted(6, Buy, Market, None, 5),
            trade(6, 5, Buy, 99, 1, 4, 0),
            trade(6, 2, Buy, 100, 1, 3, 0),
            trade(6, 4, Buy, 100, 1, 2, 0),
            trade(6, 1, Buy, 101, 1, 1, 0),
            trade(6, 3, Buy, 101, 1, 0, 0),
        ]
    );
}

#[test]
fn bids_match_highest_first_then_earliest() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 99, 2);
    rests(&mut b, 2, Buy, 100, 2);
    rests(&mut b, 3, Buy, 100, 2);
    assert_eq!(
        b.limit(4, Sell, 99, 5),
        vec![
            accepted(4, Sell, Limit, Some(99), 5),
            trade(4, 2, Sell, 100, 2, 3, 0),
            trade(4, 3, Sell, 100, 2, 1, 0),
            trade(4, 1, Sell, 99, 1, 0, 1),
        ]
    );
    assert_eq!(b.book.best_bid(), Some((99, 1)));
}

#[test]
fn a_partially_filled_maker_keeps_its_place() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    rests(&mut b, 2, Sell, 100, 5);
    b.market(3, Buy, 2);
    assert_eq!(
        b.market(4, Buy, 4),
        vec![
            accepted(4, Buy, Market, None, 4),
            trade(4, 1, Buy, 100, 3, 1, 0),
            trade(4, 2, Buy, 100, 1, 0, 4),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Cancel
// ---------------------------------------------------------------------------------------

#[test]
fn cancel_removes_a_resting_order_with_its_open_quantity() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    rests(&mut b, 2, Sell, 100, 6);
    b.market(3, Buy, 2);
    assert_eq!(b.cancel(1), vec![cancelled(1, Sell, 100, 3)]);
    assert_eq!(b.book.best_ask(), Some((100, 6)));
    assert_eq!(b.cancel(2), vec![cancelled(2, Sell, 100, 6)]);
    assert_eq!(b.book.best_ask(), None);
    assert!(b.book.is_empty());
}

// ---------------------------------------------------------------------------------------
// Modify
// ---------------------------------------------------------------------------------------

#[test]
fn modify_reducing_at_the_same_price_keeps_priority() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    rests(&mut b, 2, Buy, 100, 5);
    assert_eq!(
        b.modify(1, 100, 3),
        vec![modified(1, Buy, 100, 3, 100, 5, true)]
    );
    assert_eq!(b.book.depth_at(Buy, 100), 8);
    assert_eq!(
        b.market(3, Sell, 4),
        vec![
            accepted(3, Sell, Market, None, 4),
            trade(3, 1, Sell, 100, 3, 1, 0),
            trade(3, 2, Sell, 100, 1, 0, 4),
        ]
    );
}

#[test]
fn modify_to_the_same_price_and_quantity_keeps_priority() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    rests(&mut b, 2, Sell, 100, 5);
    assert_eq!(
        b.modify(1, 100, 5),
        vec![modified(1, Sell, 100, 5, 100, 5, true)]
    );
    assert_eq!(b.snapshot().asks, vec![level(100, &[(1, 5), (2, 5)])]);
}

#[test]
fn modify_increasing_quantity_loses_priority() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    rests(&mut b, 2, Buy, 100, 5);
    assert_eq!(
        b.modify(1, 100, 6),
        vec![modified(1, Buy, 100, 6, 100, 5, false)]
    );
    assert_eq!(b.snapshot().bids, vec![level(100, &[(2, 5), (1, 6)])]);
    assert_eq!(
        b.market(3, Sell, 6),
        vec![
            accepted(3, Sell, Market, None, 6),
            trade(3, 2, Sell, 100, 5, 1, 0),
            trade(3, 1, Sell, 100, 1, 0, 5),
        ]
    );
}

#[test]
fn modify_compares_with_the_open_quantity_not_the_original() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    rests(&mut b, 2, Sell, 100, 5);
    b.market(3, Buy, 2);
    // Open quantity is 3 now: 4 is an increase although it is below the original 5.
    assert_eq!(
        b.modify(1, 100, 4),
        vec![modified(1, Sell, 100, 4, 100, 3, false)]
    );
    assert_eq!(b.snapshot().asks, vec![level(100, &[(2, 5), (1, 4)])]);
    // Equal to the open quantity keeps the place the order has now.
    assert_eq!(
        b.modify(1, 100, 4),
        vec![modified(1, Sell, 100, 4, 100, 4, true)]
    );
    assert_eq!(
        b.modify(2, 100, 5),
        vec![modified(2, Sell, 100, 5, 100, 5, true)]
    );
    assert_eq!(b.snapshot().asks, vec![level(100, &[(2, 5), (1, 4)])]);
}

#[test]
fn modify_changing_price_loses_priority_even_when_it_comes_back() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    rests(&mut b, 2, Buy, 100, 5);
    rests(&mut b, 3, Buy, 99, 5);
    assert_eq!(
        b.modify(1, 99, 5),
        vec![modified(1, Buy, 99, 5, 100, 5, false)]
    );
    assert_eq!(
        b.snapshot().bids,
        vec![level(100, &[(2, 5)]), level(99, &[(3, 5), (1, 5)])]
    );
    // Back to 100 with less: a price change, so still behind order 2.
    assert_eq!(
        b.modify(1, 100, 4),
        vec![modified(1, Buy, 100, 4, 99, 5, false)]
    );
    assert_eq!(
        b.snapshot().bids,
        vec![level(100, &[(2, 5), (1, 4)]), level(99, &[(3, 5)])]
    );
}

#[test]
fn modify_that_crosses_trades_as_taker_and_rests_the_rest() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 101, 2);
    rests(&mut b, 2, Sell, 102, 2);
    rests(&mut b, 3, Sell, 104, 2);
    rests(&mut b, 4, Buy, 100, 1);
    rests(&mut b, 5, Buy, 100, 9);
    assert_eq!(
        b.modify(5, 103, 6),
        vec![
            modified(5, Buy, 103, 6, 100, 9, false),
            trade(5, 1, Buy, 101, 2, 4, 0),
            trade(5, 2, Buy, 102, 2, 2, 0),
        ]
    );
    assert_eq!(b.book.resting_order(&id(5)), Some((Buy, 103, 2)));
    assert_eq!(b.book.best_bid(), Some((103, 2)));
    assert_eq!(b.book.depth_at(Buy, 100), 1);
    assert_eq!(b.book.best_ask(), Some((104, 2)));
}

#[test]
fn modify_that_crosses_and_fills_whole_leaves_the_book() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    rests(&mut b, 2, Sell, 103, 5);
    assert_eq!(
        b.modify(2, 99, 3),
        vec![
            modified(2, Sell, 99, 3, 103, 5, false),
            trade(2, 1, Sell, 100, 3, 0, 2)
        ]
    );
    assert_eq!(b.book.order_qty(&id(2)), None);
    assert_eq!(b.book.best_ask(), None);
    assert_eq!(b.cancel(2), vec![rejected(Op::Cancel, 2, UnknownOrder)]);
}

#[test]
fn post_only_modify_that_would_cross_is_rejected_and_the_order_stays() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    assert_eq!(
        b.add(2, Buy, PostOnly, 98, 4),
        vec![accepted(2, Buy, PostOnly, Some(98), 4)]
    );
    rests(&mut b, 3, Buy, 98, 4);
    assert_eq!(
        b.modify(2, 100, 4),
        vec![rejected(Op::Modify, 2, PostOnlyWouldCross)]
    );
    assert_eq!(
        b.modify(2, 100, 1),
        vec![rejected(Op::Modify, 2, PostOnlyWouldCross)]
    );
    assert_eq!(b.book.resting_order(&id(2)), Some((Buy, 98, 4)));
    assert_eq!(b.snapshot().bids, vec![level(98, &[(2, 4), (3, 4)])]);
    // A move that does not cross is fine, and the order is still post-only afterwards.
    assert_eq!(
        b.modify(2, 99, 4),
        vec![modified(2, Buy, 99, 4, 98, 4, false)]
    );
    assert_eq!(
        b.modify(2, 101, 4),
        vec![rejected(Op::Modify, 2, PostOnlyWouldCross)]
    );
    assert_eq!(b.book.resting_order(&id(2)), Some((Buy, 99, 4)));
}

#[test]
fn limit_order_modify_may_cross_where_post_only_may_not() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 5);
    rests(&mut b, 2, Buy, 98, 4);
    assert_eq!(
        b.modify(2, 100, 4),
        vec![
            modified(2, Buy, 100, 4, 98, 4, false),
            trade(2, 1, Buy, 100, 4, 0, 1)
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Halt and resume
// ---------------------------------------------------------------------------------------

#[test]
fn halted_book_accepts_cancel_status_and_snapshot() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    rests(&mut b, 2, Sell, 101, 6);
    b.halt();
    assert_eq!(b.cancel(1), vec![cancelled(1, Buy, 100, 5)]);
    assert_eq!(
        b.status(),
        BookStatus {
            halted: true,
            best_bid: None,
            best_bid_qty: 0,
            best_ask: Some(101),
            best_ask_qty: 6,
            bid_levels: 0,
            ask_levels: 1,
            orders: 1,
            last_trade_price: None,
            stops: Default::default(),
        }
    );
    assert_eq!(
        b.snapshot(),
        BookSnapshot {
            halted: true,
            bids: vec![],
            asks: vec![level(101, &[(2, 6)])],
            stops: Default::default(),
        }
    );
    assert!(b.book.is_halted());
}

#[test]
fn resume_lets_adds_and_modifies_through_again() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    b.halt();
    assert_eq!(
        b.limit(2, Buy, 100, 1),
        vec![rejected(Op::Add, 2, OrderbookHalted)]
    );
    assert_eq!(
        b.resume(),
        vec![OrderbookResult::Resumed {
            instrument_id: INSTRUMENT
        }]
    );
    assert!(!b.book.is_halted());
    rests(&mut b, 2, Buy, 100, 1);
    assert_eq!(
        b.modify(1, 100, 4),
        vec![modified(1, Buy, 100, 4, 100, 5, true)]
    );
}

#[test]
fn halt_and_resume_emit_an_event_every_time() {
    let mut b = Books::new();
    let halted = vec![OrderbookResult::Halted {
        instrument_id: INSTRUMENT,
    }];
    let resumed = vec![OrderbookResult::Resumed {
        instrument_id: INSTRUMENT,
    }];
    assert_eq!(b.resume(), resumed, "resume of a running book");
    assert_eq!(b.halt(), halted);
    assert_eq!(b.halt(), halted, "halt of a halted book");
    assert!(b.book.is_halted());
    assert_eq!(b.resume(), resumed);
    assert_eq!(b.resume(), resumed);
    assert!(!b.book.is_halted());
}

// ---------------------------------------------------------------------------------------
// Status and snapshot
// ---------------------------------------------------------------------------------------

#[test]
fn status_of_an_empty_book_has_null_bests_and_zero_quantities() {
    let mut b = Books::new();
    assert_eq!(
        b.status(),
        BookStatus {
            halted: false,
            best_bid: None,
            best_bid_qty: 0,
            best_ask: None,
            best_ask_qty: 0,
            bid_levels: 0,
            ask_levels: 0,
            orders: 0,
            last_trade_price: None,
            stops: Default::default(),
        }
    );
}

#[test]
fn status_counts_levels_and_orders() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, 5);
    rests(&mut b, 2, Buy, 100, 6);
    rests(&mut b, 3, Buy, 98, 1);
    rests(&mut b, 4, Sell, 103, 2);
    rests(&mut b, 5, Sell, 102, 3);
    rests(&mut b, 6, Sell, 104, 4);
    rests(&mut b, 7, Sell, 102, 9);
    assert_eq!(
        b.status(),
        BookStatus {
            halted: false,
            best_bid: Some(100),
            best_bid_qty: 11,
            best_ask: Some(102),
            best_ask_qty: 12,
            bid_levels: 2,
            ask_levels: 3,
            orders: 7,
            last_trade_price: None,
            stops: Default::default(),
        }
    );
    b.cancel(3);
    b.market(8, Buy, 12);
    let status = b.status();
    assert_eq!(
        (status.bid_levels, status.ask_levels, status.orders),
        (1, 2, 4)
    );
    assert_eq!((status.best_ask, status.best_ask_qty), (Some(103), 2));
}

#[test]
fn snapshot_lists_levels_best_first_and_orders_in_time_priority() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 98, 1);
    rests(&mut b, 2, Buy, 100, 2);
    rests(&mut b, 3, Buy, 99, 3);
    rests(&mut b, 4, Buy, 100, 4);
    rests(&mut b, 5, Sell, 103, 5);
    rests(&mut b, 6, Sell, 101, 6);
    rests(&mut b, 7, Sell, 103, 7);
    rests(&mut b, 8, Sell, 102, 8);
    rests(&mut b, 9, Buy, 100, 9);
    assert_eq!(
        b.snapshot(),
        BookSnapshot {
            halted: false,
            bids: vec![
                level(100, &[(2, 2), (4, 4), (9, 9)]),
                level(99, &[(3, 3)]),
                level(98, &[(1, 1)]),
            ],
            asks: vec![
                level(101, &[(6, 6)]),
                level(102, &[(8, 8)]),
                level(103, &[(5, 5), (7, 7)]),
            ],
            stops: Default::default(),
        }
    );
}

#[test]
fn snapshot_of_an_empty_book_is_empty() {
    let mut b = Books::new();
    assert_eq!(b.snapshot(), BookSnapshot::default());
}

// ---------------------------------------------------------------------------------------
// Huge quantities and extreme prices
// ---------------------------------------------------------------------------------------

#[test]
fn a_level_total_may_exceed_u64_max() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, MAX);
    rests(&mut b, 2, Sell, 100, MAX);
    rests(&mut b, 3, Sell, 100, 5);
    let total = 2 * u128::from(MAX) + 5;
    assert_eq!(b.book.best_ask(), Some((100, total)));
    assert_eq!(b.book.depth_at(Sell, 100), total);
    let status = b.status();
    assert_eq!((status.best_ask, status.best_ask_qty), (Some(100), total));
    assert_eq!(
        b.market(4, Buy, MAX),
        vec![
            accepted(4, Buy, Market, None, MAX),
            trade(4, 1, Buy, 100, MAX, 0, 0)
        ]
    );
    assert_eq!(b.book.best_ask(), Some((100, u128::from(MAX) + 5)));
    assert_eq!(
        b.modify(2, 100, 1),
        vec![modified(2, Sell, 100, 1, 100, MAX, true)]
    );
    assert_eq!(b.book.best_ask(), Some((100, 6)));
}

#[test]
fn fok_liquidity_is_summed_beyond_u64_max() {
    let mut b = Books::new();
    let half = 1u64 << 63;
    rests(&mut b, 1, Sell, 100, half);
    rests(&mut b, 2, Sell, 101, half);
    rests(&mut b, 3, Sell, 101, half);
    // 1.5 * 2^64 lots reachable: a u64 sum would wrap to 2^63 and kill this fok.
    assert_eq!(
        b.add(4, Buy, Fok, 101, MAX),
        vec![
            accepted(4, Buy, Fok, Some(101), MAX),
            trade(4, 1, Buy, 100, half, half - 1, 0),
            trade(4, 2, Buy, 101, half - 1, 0, 1),
        ]
    );
    assert_eq!(b.book.best_ask(), Some((101, u128::from(half) + 1)));
}

#[test]
fn fok_one_lot_short_of_u64_max_expires_whole() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 100, MAX - 1);
    rests(&mut b, 2, Buy, 99, MAX);
    assert_eq!(
        b.add(3, Sell, Fok, 100, MAX),
        vec![
            accepted(3, Sell, Fok, Some(100), MAX),
            expired(3, Sell, Some(100), MAX)
        ]
    );
    assert_eq!(b.book.best_bid(), Some((100, u128::from(MAX - 1))));
}

#[test]
fn huge_quantities_across_levels_sum_in_status_and_trades() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, 10, MAX);
    rests(&mut b, 2, Buy, 10, MAX);
    rests(&mut b, 3, Buy, 10, MAX);
    assert_eq!(b.book.best_bid(), Some((10, 3 * u128::from(MAX))));
    assert_eq!(
        b.limit(4, Sell, 10, MAX),
        vec![
            accepted(4, Sell, Limit, Some(10), MAX),
            trade(4, 1, Sell, 10, MAX, 0, 0)
        ]
    );
    assert_eq!(b.cancel(3), vec![cancelled(3, Buy, 10, MAX)]);
    assert_eq!(b.book.best_bid(), Some((10, u128::from(MAX))));
}

#[test]
fn negative_prices_rest_match_and_order_correctly() {
    let mut b = Books::new();
    rests(&mut b, 1, Sell, -3, 1);
    rests(&mut b, 2, Sell, -5, 1);
    rests(&mut b, 3, Buy, -10, 1);
    rests(&mut b, 4, Buy, -7, 1);
    assert_eq!(b.book.best_ask(), Some((-5, 1)));
    assert_eq!(b.book.best_bid(), Some((-7, 1)));
    assert_eq!(
        b.snapshot(),
        BookSnapshot {
            halted: false,
            bids: vec![level(-7, &[(4, 1)]), level(-10, &[(3, 1)])],
            asks: vec![level(-5, &[(2, 1)]), level(-3, &[(1, 1)])],
            stops: Default::default(),
        }
    );
    assert_eq!(
        b.limit(5, Buy, -4, 3),
        vec![
            accepted(5, Buy, Limit, Some(-4), 3),
            trade(5, 2, Buy, -5, 1, 2, 0),
        ]
    );
    assert_eq!(b.book.best_bid(), Some((-4, 2)));
    assert_eq!(
        b.add(6, Sell, PostOnly, -4, 1),
        vec![rejected(Op::Add, 6, PostOnlyWouldCross)]
    );
}

#[test]
fn extreme_prices_are_ordinary_levels() {
    let mut b = Books::new();
    rests(&mut b, 1, Buy, i64::MIN, 1);
    rests(&mut b, 2, Sell, i64::MAX, 1);
    assert_eq!(b.book.best_bid(), Some((i64::MIN, 1)));
    assert_eq!(b.book.best_ask(), Some((i64::MAX, 1)));
    assert_eq!(
        b.add(3, Buy, Ioc, i64::MAX, 2),
        vec![
            accepted(3, Buy, Ioc, Some(i64::MAX), 2),
            trade(3, 2, Buy, i64::MAX, 1, 1, 0),
            expired(3, Buy, Some(i64::MAX), 1),
        ]
    );
    assert_eq!(
        b.add(4, Sell, Fok, i64::MIN, 1),
        vec![
            accepted(4, Sell, Fok, Some(i64::MIN), 1),
            trade(4, 1, Sell, i64::MIN, 1, 0, 0)
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Order id reuse
// ---------------------------------------------------------------------------------------

#[test]
fn ids_of_finished_orders_may_be_reused() {
    let mut b = Books::new();
    // Filled.
    rests(&mut b, 1, Sell, 100, 2);
    b.market(2, Buy, 2);
    rests(&mut b, 1, Buy, 90, 3);
    // Cancelled.
    assert_eq!(b.cancel(1), vec![cancelled(1, Buy, 90, 3)]);
    rests(&mut b, 1, Sell, 105, 4);
    // An expired market id (order 2) and an id being reused on the other side.
    assert_eq!(
        b.market(2, Buy, 5),
        vec![
            accepted(2, Buy, Market, None, 5),
            trade(2, 1, Buy, 105, 4, 1, 0),
            expired(2, Buy, None, 1),
        ]
    );
    rests(&mut b, 2, Buy, 100, 1);
    rests(&mut b, 1, Buy, 100, 1);
    assert_eq!(b.snapshot().bids, vec![level(100, &[(2, 1), (1, 1)])]);
}

#[test]
fn an_id_is_a_duplicate_only_while_it_rests() {
    // An add reusing a resting id is refused even if it would fill that very order; once
    // the order has gone, the id is free.
    let mut b = Books::new();
    rests(&mut b, 1, Sell, 100, 2);
    assert_eq!(
        b.limit(1, Buy, 100, 2),
        vec![rejected(Op::Add, 1, DuplicateOrderId)]
    );
    assert_eq!(b.cancel(1), vec![cancelled(1, Sell, 100, 2)]);
    rests(&mut b, 1, Buy, 100, 2);
}

#[test]
fn every_op_yields_at_least_one_event() {
    let mut b = Books::new();
    let commands = [
        Command::Add(Order::limit(id(1), INSTRUMENT, Buy, 100, 1)),
        Command::Add(Order::limit(id(1), INSTRUMENT, Buy, 100, 1)),
        Command::Cancel {
            instrument_id: INSTRUMENT,
            order_id: id(2),
        },
        Command::Modify {
            instrument_id: INSTRUMENT,
            order_id: id(1),
            price: 100,
            qty: 1,
        },
        Command::Halt {
            instrument_id: INSTRUMENT,
        },
        Command::Resume {
            instrument_id: INSTRUMENT,
        },
        Command::Status {
            instrument_id: INSTRUMENT,
        },
        Command::Snapshot {
            instrument_id: INSTRUMENT,
        },
    ];
    for command in commands {
        let events = b.apply(command);
        assert_eq!(events.len(), 1, "{command:?}: {events:?}");
        assert!(events.iter().all(|e| e.instrument_id() == INSTRUMENT));
    }
}
