//! Books sharing one id index (a consumer thread's, a [`BookGroup`]) against books with
//! their own: the same events, byte for byte, and whole books handed back.

use proptest::prelude::*;
use uuid::Uuid;

use super::{BookGroup, OrderBook, state_hash_of};
use crate::command::Command;
use crate::flow::{FlowGenerator, GenConfig, IdRenumbering, LongFormMix, with_instrument};
use crate::result::{OrderbookResult, RejectReason};
use crate::types::{Order, OrderKind, Side, StpMode};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn instrument(book: usize) -> Uuid {
    Uuid::from_u128(0xB00C_0000 + book as u128)
}

/// `flow` (book number, command) applied to `books` books sharing an index and to as many
/// books of their own: asserts the same events for every command, and that the group's
/// books, handed back, are whole (integrity) and equal to the others (state hash).
fn same_events(books: usize, flow: &[(usize, Command)]) {
    let mut own: Vec<OrderBook> = (0..books).map(|b| OrderBook::new(instrument(b))).collect();
    let mut group = BookGroup::new((0..books).map(|b| OrderBook::new(instrument(b))).collect());
    for (at, (book, command)) in flow.iter().enumerate() {
        let (mut want, mut got) = (Vec::new(), Vec::new());
        own[*book].apply(command, &mut |e| want.push(e));
        group.apply(*book, command, &mut |e| got.push(e)).unwrap();
        assert_eq!(got, want, "command {at} to book {book}: {command:?}");
    }
    let shared = group.into_books();
    for (b, book) in shared.iter().enumerate() {
        book.check_integrity()
            .unwrap_or_else(|e| panic!("book {b} handed back: {e}"));
        assert_eq!(book.image(), own[b].image(), "book {b}'s image");
    }
    let refs = |v: &[OrderBook]| -> u64 { state_hash_of(&v.iter().collect::<Vec<_>>()) };
    assert_eq!(refs(&shared), refs(&own));
    // A book handed back goes on as its twin does.
    let mut shared = shared;
    for (b, book) in shared.iter_mut().enumerate() {
        let cancel = Command::Cancel {
            order_id: id(1),
            instrument_id: instrument(b),
        };
        let (mut want, mut got) = (Vec::new(), Vec::new());
        own[b].apply(&cancel, &mut |e| want.push(e));
        book.apply(&cancel, &mut |e| got.push(e));
        assert_eq!(got, want, "book {b} after it was handed back");
    }
}

fn add(book: usize, order_id: u128, side: Side, price: i64, qty: u64) -> (usize, Command) {
    (
        book,
        Command::Add(Order::limit(
            id(order_id),
            instrument(book),
            side,
            price,
            qty,
        )),
    )
}

fn cancel(book: usize, order_id: u128) -> (usize, Command) {
    (
        book,
        Command::Cancel {
            order_id: id(order_id),
            instrument_id: instrument(book),
        },
    )
}

#[test]
fn the_same_id_rests_in_two_books_sharing_an_index_and_each_cancel_finds_its_own() {
    let mut group = BookGroup::new(vec![
        OrderBook::new(instrument(0)),
        OrderBook::new(instrument(1)),
    ]);
    let mut events = Vec::new();
    for (book, command) in [
        add(0, 7, Side::Buy, 100, 5),
        add(1, 7, Side::Sell, 120, 3),
        cancel(1, 7),
        cancel(0, 7),
    ] {
        group
            .apply(book, &command, &mut |e| events.push(e))
            .unwrap();
    }
    assert!(matches!(events[0], OrderbookResult::Accepted { .. }));
    assert!(
        matches!(events[1], OrderbookResult::Accepted { .. }),
        "the same id in another book is no duplicate: {:?}",
        events[1]
    );
    assert!(
        matches!(events[2], OrderbookResult::Cancelled { instrument_id, remaining_qty: 3, side: Side::Sell, .. } if instrument_id == instrument(1)),
        "{:?}",
        events[2]
    );
    assert!(
        matches!(events[3], OrderbookResult::Cancelled { instrument_id, remaining_qty: 5, side: Side::Buy, .. } if instrument_id == instrument(0)),
        "{:?}",
        events[3]
    );
    let books = group.into_books();
    assert!(books.iter().all(OrderBook::is_empty));
}

#[test]
fn a_cancel_or_modify_naming_another_books_order_is_an_unknown_order() {
    let mut group = BookGroup::new(vec![
        OrderBook::new(instrument(0)),
        OrderBook::new(instrument(1)),
    ]);
    let mut events = Vec::new();
    let modify = (
        1,
        Command::Modify {
            order_id: id(9),
            instrument_id: instrument(1),
            price: 101,
            qty: 2,
        },
    );
    for (book, command) in [add(0, 9, Side::Buy, 100, 5), cancel(1, 9), modify] {
        group
            .apply(book, &command, &mut |e| events.push(e))
            .unwrap();
    }
    for (at, event) in events[1..].iter().enumerate() {
        assert!(
            matches!(
                event,
                OrderbookResult::Rejected {
                    reason: RejectReason::UnknownOrder,
                    ..
                }
            ),
            "event {at}: {event:?}"
        );
    }
    let books = group.into_books();
    assert_eq!(
        books[0].order_qty(&id(9)),
        Some(5),
        "book 0's order untouched"
    );
    books[0].check_integrity().unwrap();
}

#[test]
fn a_parked_stop_is_found_through_the_shared_index_and_triggers_in_its_own_book() {
    let stop = |book: usize| {
        (
            book,
            Command::Add(Order::stop(id(5), instrument(book), Side::Buy, 105, 2)),
        )
    };
    // Book 0 parks stop 5 and book 1 rests a limit 5; a cancel of 5 in book 1 takes the
    // limit, book 0's stop stays parked, fires at a trade at 105 and is cancelled never.
    let flow = vec![
        stop(0),
        add(1, 5, Side::Sell, 110, 4),
        cancel(1, 5),
        add(0, 1, Side::Sell, 105, 3),
        add(0, 2, Side::Buy, 105, 1),
        cancel(0, 5),
        stop(1),
        cancel(1, 5),
    ];
    same_events(2, &flow);
}

#[test]
fn a_book_that_joins_with_orders_and_stops_keeps_them_all() {
    let mut book = OrderBook::new(instrument(0));
    let mut twin = OrderBook::new(instrument(0));
    for command in [
        add(0, 1, Side::Buy, 99, 5).1,
        add(0, 2, Side::Sell, 101, 5).1,
        Command::Add(Order::stop(id(3), instrument(0), Side::Buy, 105, 2)),
    ] {
        book.apply(&command, &mut |_| {});
        twin.apply(&command, &mut |_| {});
    }
    let mut group = BookGroup::new(vec![book]);
    let (mut got, mut want) = (Vec::new(), Vec::new());
    for command in [cancel(0, 3).1, cancel(0, 2).1, cancel(0, 1).1] {
        group.apply(0, &command, &mut |e| got.push(e)).unwrap();
        twin.apply(&command, &mut |e| want.push(e));
    }
    assert_eq!(got, want);
    assert!(
        got.iter()
            .all(|e| matches!(e, OrderbookResult::Cancelled { .. })),
        "{got:?}"
    );
}

#[test]
fn the_generators_flows_over_many_books_give_the_same_events_shared_or_not() {
    for (instruments, long_form) in [(8, None), (3, Some(LongFormMix::standard())), (40, None)] {
        let generator =
            FlowGenerator::new(GenConfig::new(7, instruments, 3_000).with_long_form(long_form));
        let ids = generator.instruments().to_vec();
        let mut renumbering = IdRenumbering::new();
        let flow: Vec<(usize, Command)> = generator
            .map(|command| {
                let book = ids
                    .iter()
                    .position(|&i| i == command.instrument_id())
                    .expect("a generated instrument");
                (book, renumbering.renumber(command))
            })
            .map(|(book, command)| (book, with_instrument(command, instrument(book))))
            .collect();
        same_events(instruments as usize, &flow);
    }
}

/// One random command to one of `books` books, from a few ids shared by all of them (so
/// the same id often rests in several books at once), far ids too.
fn command_strategy(books: usize) -> impl Strategy<Value = (usize, Command)> {
    let order_id = prop_oneof![
        8 => 1u128..24,
        1 => (1u128 << 100)..(1u128 << 100) + 4,
        1 => Just(u128::MAX),
    ];
    (
        0..books,
        0u8..11,
        order_id,
        any::<bool>(),
        95i64..106,
        0u64..8,
        0u8..4,
    )
        .prop_map(|(book, op, raw, buy, price, qty, extra)| {
            let instrument_id = instrument(book);
            let order_id = Uuid::from_u128(raw);
            let side = if buy { Side::Buy } else { Side::Sell };
            let command = match op {
                0..=3 => {
                    let kind = [
                        OrderKind::Limit,
                        OrderKind::Ioc,
                        OrderKind::PostOnly,
                        OrderKind::Fok,
                    ][usize::from(extra)];
                    Command::Add(Order::new(order_id, instrument_id, side, kind, price, qty))
                }
                4 => Command::Add(match extra {
                    0 => Order::stop(order_id, instrument_id, side, price, qty),
                    1 => Order::stop_limit(order_id, instrument_id, side, price, price, qty),
                    2 => {
                        Order::limit(order_id, instrument_id, side, price, qty + 3).with_display(2)
                    }
                    _ => Order::limit(order_id, instrument_id, side, price, qty)
                        .with_owner(u64::from(buy), Some(StpMode::CancelOldest)),
                }),
                5 | 6 => Command::Cancel {
                    order_id,
                    instrument_id,
                },
                7 | 8 => Command::Modify {
                    order_id,
                    instrument_id,
                    price,
                    qty,
                },
                9 => Command::MassCancel {
                    instrument_id,
                    owner: (extra < 2).then_some(u64::from(buy)),
                    side: (extra % 2 == 0).then_some(side),
                },
                _ => Command::Status { instrument_id },
            };
            (book, command)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_flows_over_books_sharing_an_index_give_the_events_of_books_of_their_own(
        flow in (1usize..5).prop_flat_map(|books| {
            (Just(books), prop::collection::vec(command_strategy(books), 1..300))
        })
    ) {
        let (books, flow) = flow;
        same_events(books, &flow);
    }
}

/// Bytes of heap the group's order slots take: its shared slab and side tables, and the
/// books' own slabs.
fn slot_bytes(group: &BookGroup) -> usize {
    let own: usize = group.books.iter().map(|b| b.orders.heap_bytes()).sum();
    group.ids.slots.heap_bytes() + own
}

/// How many slots (live or vacant) `book`'s own slab holds.
fn own_slots(book: &OrderBook) -> usize {
    book.orders.iter_all().count()
}

#[test]
fn a_slot_freed_in_one_book_is_taken_by_the_next_add_in_another() {
    let mut group = BookGroup::new((0..2).map(|b| OrderBook::new(instrument(b))).collect());
    let mut sink = |_| {};
    for (book, command) in [add(0, 1, Side::Buy, 100, 5), cancel(0, 1)] {
        group.apply(book, &command, &mut sink).unwrap();
    }
    let heap = slot_bytes(&group);
    // Book 1's first order: no slab of its own, the slot book 0's cancel freed.
    let (book, command) = add(1, 2, Side::Sell, 110, 3);
    group.apply(book, &command, &mut sink).unwrap();
    assert_eq!(
        slot_bytes(&group),
        heap,
        "book 1 allocated slots of its own"
    );
    assert_eq!(group.ids.slots.live(), 1);
    assert!(
        group.books.iter().all(|b| own_slots(b) == 0),
        "a book in a group holds slots"
    );
    // A freed slot goes to whichever book adds next, last freed first.
    for (book, command) in [
        add(0, 3, Side::Buy, 99, 1),
        add(1, 4, Side::Sell, 111, 1),
        cancel(1, 2),
        cancel(0, 3),
        add(1, 5, Side::Sell, 112, 1),
        add(0, 6, Side::Buy, 98, 1),
    ] {
        group.apply(book, &command, &mut sink).unwrap();
    }
    assert_eq!(group.ids.slots.live(), 3);
    assert_eq!(
        slot_bytes(&group),
        heap,
        "the group's slab grew while slots were free"
    );
    let books = group.into_books();
    assert_eq!(books[0].best_bid(), Some((98, 1)));
    assert_eq!(books[1].best_ask(), Some((111, 1)));
    assert_eq!(books[1].depth_at(Side::Sell, 112), 1);
}

#[test]
fn breaking_a_group_back_gives_each_book_exactly_its_orders_in_a_slab_of_its_own() {
    let books = 3;
    let mut flow = Vec::new();
    for n in 0..60u128 {
        let book = (n % books as u128) as usize;
        let price = 100 + (n % 7) as i64;
        flow.push(add(book, 10 + n, Side::Buy, price, 1 + (n % 3) as u64));
        if n % 4 == 1 && n >= 3 {
            flow.push(cancel(book, 10 + n - 3));
        }
    }
    // The last orders leave: each book's peak is past what it holds at the end.
    for n in 54..60u128 {
        flow.push(cancel((n % books as u128) as usize, 10 + n));
    }
    let stop = Order::stop(id(900), instrument(1), Side::Sell, 90, 2);
    let iceberg = Order::limit(id(901), instrument(2), Side::Sell, 130, 9)
        .with_display(2)
        .with_owner(7, Some(StpMode::CancelOldest));
    flow.push((1, Command::Add(stop)));
    flow.push((2, Command::Add(iceberg)));
    same_events(books, &flow);
    let mut group = BookGroup::new((0..books).map(|b| OrderBook::new(instrument(b))).collect());
    let mut sink = |_| {};
    for (book, command) in &flow {
        group.apply(*book, command, &mut sink).unwrap();
    }
    let images: Vec<_> = (0..books).map(|b| group.image(b).unwrap()).collect();
    for (b, book) in group.into_books().iter().enumerate() {
        book.check_integrity().unwrap();
        let parked = book.long.stops.len();
        // Its orders and stops' homes, and no other slot: none of the other books', none
        // its cancels freed.
        assert_eq!(own_slots(book), book.len() + parked, "book {b}'s slab");
        assert_eq!(
            book.orders.live(),
            book.len() + parked,
            "book {b}'s live slots"
        );
        assert_eq!(book.image(), images[b], "book {b}'s image");
    }
}
