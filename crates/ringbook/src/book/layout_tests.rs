//! The book's hot and cold state (issue 21): a book is the six cache lines a plain add,
//! cancel or modify reads, the prefetch walk fetches them all, and the cold state (the
//! own id index, the long form) is boxed, out of them.

use std::mem::{align_of, size_of};

use uuid::Uuid;

use super::OrderBook;
use super::prefetch::HOT_LINES;
use crate::command::Command;
use crate::types::{Order, Side};

const INSTRUMENT: Uuid = Uuid::from_u128(7);

#[test]
fn a_book_starts_a_cache_line() {
    assert_eq!(align_of::<OrderBook>(), 64);
}

#[test]
fn the_cold_state_is_boxed() {
    // Six lines: the hot fields and the two ladders; the own id index and the long form
    // are pointers.
    assert_eq!(size_of::<OrderBook>(), 6 * 64);
    assert_eq!(HOT_LINES, 6);
}

#[test]
fn the_hot_flags_follow_the_long_form() {
    let mut book = OrderBook::new(INSTRUMENT);
    let mut sink = |_| {};
    for (n, side, price) in [
        (1, Side::Sell, 100),
        (2, Side::Buy, 100),
        (3, Side::Buy, 99),
    ] {
        let order = Order::limit(Uuid::from_u128(n), INSTRUMENT, side, price, 5);
        book.apply(&Command::Add(order), &mut sink);
    }
    assert!(
        !book.stops_seen && !book.owners_grown,
        "a plain book's flags are clear"
    );
    assert!(book.long.owners.is_empty() && book.long.stops.is_empty());

    let owned = Order::limit(Uuid::from_u128(4), INSTRUMENT, Side::Buy, 98, 5).with_owner(9, None);
    book.apply(&Command::Add(owned), &mut sink);
    assert!(book.owners_grown && !book.long.owners.is_empty());

    let stop = Order::stop_limit(Uuid::from_u128(5), INSTRUMENT, Side::Sell, 90, 95, 5);
    book.apply(&Command::Add(stop), &mut sink);
    assert!(book.stops_seen && !book.long.stops.is_empty());
    book.check_integrity().unwrap();
}
