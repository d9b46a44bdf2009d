//! The book's hot and cold state (issue 21): a book starts a cache line, what a plain
//! add, cancel or modify reads is in its first 7 lines (which the prefetch walk fetches),
//! and the cold state (the long form's rest, the book's own id index) after them.

use std::mem::{align_of, offset_of, size_of};

use super::OrderBook;
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

#[test]
fn a_plain_commands_fields_are_in_the_first_seven_lines() {
    const HOT: usize = 7 * 64;
    assert_eq!(HOT_LINES, 7, "the prefetch walk fetches the hot lines");
    let ends = [
        ("instrument_id", end_of!(instrument_id: uuid::Uuid)),
        ("halted", end_of!(halted: bool)),
        ("next_accepted", end_of!(next_accepted: u64)),
        ("last_trade_price", end_of!(last_trade_price: Option<i64>)),
        ("orders", end_of!(orders: super::Slab<super::Slot>)),
        ("bids", end_of!(bids: super::Ladder)),
        ("asks", end_of!(asks: super::Ladder)),
        ("long.owners", end_of!(long.owners: Vec<u64>)),
        ("long.icebergs", end_of!(long.icebergs: [u32; 2])),
        (
            "long.stops' count",
            offset_of!(OrderBook, long) + LongForm::HOT_BYTES,
        ),
    ];
    for (field, end) in ends {
        assert!(end <= HOT, "{field} ends at byte {end}, past the hot {HOT}");
    }
}

#[test]
fn the_cold_state_is_the_books_end_past_the_hot_lines() {
    let hot = HOT_LINES * 64;
    // The long form's head ends the hot state, its tail and the own id index follow to
    // the book's end: no field a plain command reads comes after them.
    let long = offset_of!(OrderBook, long);
    assert!(long + LongForm::HOT_BYTES <= hot);
    assert_eq!(offset_of!(OrderBook, index), long + size_of::<LongForm>());
    let index_end = offset_of!(OrderBook, index) + size_of::<super::IdIndex>();
    assert!(
        index_end <= size_of::<OrderBook>() && size_of::<OrderBook>() - index_end < 64,
        "the own id index ends the book (only the alignment's padding after it): it ends at \
         byte {index_end} of {}",
        size_of::<OrderBook>()
    );
    assert!(
        offset_of!(OrderBook, index) >= hot,
        "the own id index is cold"
    );
    assert!(
        offset_of!(OrderBook, long.ices) >= hot,
        "the icebergs' table is cold"
    );
    // The hot lines are half the book: the other half is never fetched for a plain
    // command.
    assert!(size_of::<OrderBook>() >= 2 * hot);
}

#[test]
fn print_layout_tmp() {
    eprintln!("book {} ladder {} window {} outside {} slab {} long {} longhot {} index {}",
        size_of::<OrderBook>(), size_of::<super::Ladder>(), size_of::<super::tick_window::TickWindow>(),
        0, size_of::<super::Slab<super::Slot>>(), size_of::<LongForm>(), LongForm::HOT_BYTES, size_of::<super::IdIndex>());
    eprintln!("instr {} halted {} ids_shared {} next {} ltp {} orders {} bids {} asks {} long {} index {}",
        offset_of!(OrderBook, instrument_id), offset_of!(OrderBook, halted), offset_of!(OrderBook, ids_shared),
        offset_of!(OrderBook, next_accepted), offset_of!(OrderBook, last_trade_price), offset_of!(OrderBook, orders),
        offset_of!(OrderBook, bids), offset_of!(OrderBook, asks), offset_of!(OrderBook, long), offset_of!(OrderBook, index));
}

#[test]
fn print_ladder_tmp() {
    super::ladder::print_offsets();
}
