//! The book's hot and cold state (issue 21): a book starts a cache line, what a plain
//! add, cancel or modify of a grouped book reads is in its first 4 lines (which the
//! prefetch walk fetches: 7 before h-hdr), and the cold state (the long form's tables, the
//! book's own slab and id index, both empty while the book's orders are in its consumer's
//! shared ones) after them.

use std::mem::{align_of, offset_of, size_of};

use super::OrderBook;
use super::ladder::Ladder;
use super::long_form::LongForm;
use super::prefetch::HOT_LINES;

/// The end of field `$field` (a path, as `offset_of!` takes) of `OrderBook`.
macro_rules! end_of {
    ($($field:tt).+ : $ty:ty) => {
        offset_of!(OrderBook, $($field).+) + size_of::<$ty>()
    };
}

#[test]
fn a_book_starts_a_cache_line() {
    assert_eq!(align_of::<OrderBook>(), 64);
    assert_eq!(size_of::<OrderBook>() % 64, 0);
}

/// Every field a plain command of a grouped book reads ends within the hot lines, and
/// they are 4: the ladders' outside stores and re-placement triggers are boxed (a ladder
/// is 88 bytes: its side, cached best, window and the box's pointer), the long form's
/// head is only the stops' count.
#[test]
fn a_plain_commands_fields_are_in_the_first_four_lines() {
    const HOT: usize = 4 * 64;
    assert_eq!(HOT_LINES, 4, "the prefetch walk fetches the hot lines");
    assert!(size_of::<Ladder>() <= 88, "{} bytes", size_of::<Ladder>());
    let ends = [
        ("instrument_id", end_of!(instrument_id: uuid::Uuid)),
        ("halted", end_of!(halted: bool)),
        ("ids_shared", end_of!(ids_shared: bool)),
        ("next_accepted", end_of!(next_accepted: u64)),
        ("icebergs", end_of!(icebergs: [u32; 2])),
        ("last_trade_price", end_of!(last_trade_price: Option<i64>)),
        ("bids", end_of!(bids: Ladder)),
        ("asks", end_of!(asks: Ladder)),
        (
            "long.stops' count",
            offset_of!(OrderBook, long) + LongForm::HOT_BYTES,
        ),
    ];
    for (field, end) in ends {
        assert!(end <= HOT, "{field} ends at byte {end}, past the hot {HOT}");
    }
}

/// The fields every plain command reads (the instrument for its events, the halted flag,
/// the acceptance counter, the iceberg counts a removal writes) share the book's first
/// line.
#[test]
fn the_fields_every_command_reads_share_the_first_line() {
    for (field, end) in [
        ("instrument_id", end_of!(instrument_id: uuid::Uuid)),
        ("halted", end_of!(halted: bool)),
        ("next_accepted", end_of!(next_accepted: u64)),
        ("icebergs", end_of!(icebergs: [u32; 2])),
    ] {
        assert!(end <= 64, "{field} ends at byte {end}, past the first line");
    }
}

#[test]
fn the_cold_state_is_the_books_end_past_the_hot_lines() {
    let hot = HOT_LINES * 64;
    // The long form's head ends the hot state; its tables, the own slab and the own id
    // index follow to the book's end: no field a grouped book's plain command reads comes
    // after them.
    let long = offset_of!(OrderBook, long);
    assert!(long + LongForm::HOT_BYTES <= hot);
    assert_eq!(offset_of!(OrderBook, orders), long + size_of::<LongForm>());
    let index_end = offset_of!(OrderBook, index) + size_of::<super::IdIndex>();
    assert!(
        index_end <= size_of::<OrderBook>() && size_of::<OrderBook>() - index_end < 64,
        "the own id index ends the book (only the alignment's padding after it): it ends at \
         byte {index_end} of {}",
        size_of::<OrderBook>()
    );
    for (field, at) in [
        ("the own id index", offset_of!(OrderBook, index)),
        ("the own slab", offset_of!(OrderBook, orders)),
        ("the owners' table", offset_of!(OrderBook, long.owners)),
        ("the icebergs' table", offset_of!(OrderBook, long.ices)),
    ] {
        assert!(at >= hot, "{field} is cold: at byte {at}");
    }
    // The hot lines are under a third of the book: the rest is never fetched for a plain
    // command.
    assert!(size_of::<OrderBook>() >= 3 * hot);
}
