//! The id index under the engine's flow: one session's dense ids spread over many books,
//! so each of N books sees about every Nth id (issues 18 and 21).

use std::collections::HashMap;

use uuid::Uuid;

use super::OrderBook;
use crate::flow::{FlowGenerator, GenConfig, IdRenumbering};

/// What a flow cost the books' indexes.
struct Cost {
    /// Commands applied.
    commands: u64,
    /// Index operations that reached a table (hashed).
    table_ops: u64,
    /// Bytes the indexes hold at the end.
    heap: usize,
}

/// Generates the default cancel-heavy flow of `orders` adds over `books` instruments,
/// numbers its adds 1, 2, 3, ... in flow order (as `ringbook bench` does), applies it, and
/// checks every book (the integrity check verifies each index against the levels).
fn interleaved(books: u32, orders: u64) -> Cost {
    let generator = FlowGenerator::new(GenConfig::new(7, books, orders));
    let mut book_of: HashMap<Uuid, OrderBook> = generator
        .instruments()
        .iter()
        .map(|&i| (i, OrderBook::new(i)))
        .collect();
    let mut renumbering = IdRenumbering::new();
    let mut commands = 0;
    for command in generator {
        let command = renumbering.renumber(command);
        let book = book_of
            .get_mut(&command.instrument_id())
            .expect("the generator's instrument");
        book.apply(&command, &mut |_| {});
        commands += 1;
    }
    let mut cost = Cost {
        commands,
        table_ops: 0,
        heap: 0,
    };
    for book in book_of.values() {
        book.check_integrity().expect("a consistent book");
        cost.table_ops += book.index.table_ops.get();
        cost.heap += book.index.heap_bytes();
    }
    cost
}

/// Table operations per 1,000 commands.
fn per_mille(cost: &Cost) -> u64 {
    cost.table_ops * 1_000 / cost.commands
}

/// 8 books: each sees about every 8th id. Their windows span the orders' lives and the
/// table sees about 140 operations per 1,000 commands (before: 472, a third of lookups).
#[test]
fn eight_books_sharing_a_session_keep_most_ids_out_of_the_table() {
    let cost = interleaved(8, 200_000);
    assert!(per_mille(&cost) < 200, "{} per 1,000", per_mille(&cost));
}

/// 1,000 books: each sees about every 1,000th id, and its window's cells widen to match
/// (before: every id was too far past the window and hashed, 1,507 per 1,000 commands).
#[test]
fn a_thousand_books_sharing_a_session_widen_their_cells() {
    let cost = interleaved(1_000, 200_000);
    assert!(per_mille(&cost) < 800, "{} per 1,000", per_mille(&cost));
}

/// 10,000 books: each book sees about every 10,000th id, a few dozen in all; its window
/// of wide cells is allocated at 2 KiB and spans its orders' lives (before: a 4 KiB window
/// a book that held nothing, 42 MB in all, and 1,489 hashed operations per 1,000 commands).
#[test]
fn ten_thousand_books_sharing_a_session_hold_half_the_memory_and_rarely_hash() {
    let cost = interleaved(10_000, 200_000);
    assert!(cost.heap < 24 << 20, "{} bytes", cost.heap);
    assert!(per_mille(&cost) < 300, "{} per 1,000", per_mille(&cost));
}
