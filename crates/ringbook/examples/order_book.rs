//! The order book on its own, without threads: apply commands, receive their events in a
//! closure, check the book's invariants, and look at its state.
//!
//! Run it with `cargo run --example order_book`.

use ringbook::{Command, Order, OrderBook, OrderKind, OrderbookResult, Side, Uuid};

fn main() {
    let instrument = Uuid::from_u128(1);
    let mut book = OrderBook::new(instrument);
    let mut events: Vec<OrderbookResult> = Vec::new();
    let id = Uuid::from_u128;

    let commands = [
        Command::Add(Order::limit(id(10), instrument, Side::Sell, 101, 5)),
        Command::Add(Order::limit(id(11), instrument, Side::Sell, 102, 5)),
        Command::Add(Order::limit(id(12), instrument, Side::Buy, 99, 4)),
        // A market buy sweeps 101 and part of 102.
        Command::Add(Order::new(
            id(13),
            instrument,
            Side::Buy,
            OrderKind::Market,
            0,
            7,
        )),
        // Reduce the resting bid: it keeps its place in the queue.
        Command::Modify {
            instrument_id: instrument,
            order_id: id(12),
            price: 99,
            qty: 2,
        },
        Command::Cancel {
            instrument_id: instrument,
            order_id: id(11),
        },
        Command::Status {
            instrument_id: instrument,
        },
    ];
    for command in &commands {
        events.clear();
        book.apply(command, &mut |event| events.push(event));
        book.check_integrity()
            .expect("the book's invariants hold after every command");
        println!("{:?}", command.op());
        for event in &events {
            println!("    {event:?}");
        }
    }
    println!("state hash {:#018x}", ringbook::state_hash_of(&[&book]));
}
