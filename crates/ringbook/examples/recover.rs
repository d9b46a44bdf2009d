//! Durability: run a manager that journals every command to a directory, stop it, then
//! build a new manager on the same directory. It recovers the books (from the newest
//! snapshot and the journal after it), goes on numbering commands and events where the
//! first one stopped, and trades on the recovered books.
//!
//! Run it with `cargo run --example recover`.

use std::error::Error;

use ringbook::{
    CountingSubscriber, JournalOptions, Order, OrderbookManagerService,
    OrderbookManagerServiceImpl, Side, Uuid,
};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("ringbook-example-{}", std::process::id()));
    let instrument = Uuid::from_u128(1);

    // First run: rest some orders, snapshot every 50 commands.
    let mut options = JournalOptions::new(&dir);
    options.snapshot_every = Some(50);
    let first = OrderbookManagerServiceImpl::builder([instrument])
        .journal(options.clone())
        .build()?;
    first.start()?;
    for i in 0..120u128 {
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let price = if side == Side::Buy {
            90 + (i % 5) as i64
        } else {
            110 + (i % 5) as i64
        };
        first.add_order(Order::limit(
            Uuid::from_u128(1_000 + i),
            instrument,
            side,
            price,
            3,
        ))?;
    }
    first.stop()?;
    let hash_before = first.state_hash().expect("stopped");
    drop(first);

    // Second run on the same directory: recovered before it starts.
    let counting = CountingSubscriber::new();
    let counters = counting.counters();
    let second = OrderbookManagerServiceImpl::builder([instrument])
        .journal(options)
        .subscriber(counting)
        .build()?;
    let info = second.recovery().expect("built on a journal");
    println!(
        "recovered: last seq {}, {} events before, {} journal records replayed, snapshot {:?}",
        info.last_seq,
        info.events,
        info.replayed,
        info.snapshot.as_ref().map(|(seq, _)| seq)
    );
    assert_eq!(
        info.state_hash, hash_before,
        "the recovered books are the books that stopped"
    );
    second.start()?;
    // Crosses the best ask (110) recovered from the first run.
    second.add_order(Order::limit(
        Uuid::from_u128(9_999),
        instrument,
        Side::Buy,
        110,
        3,
    ))?;
    second.stop()?;
    println!("second run: {:?}", counters.snapshot());

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
