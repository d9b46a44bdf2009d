//! Embedding the engine: a manager over three instruments, a market-data subscriber whose
//! view is read while the engine runs, and a subscriber of our own that prints every
//! trade as it happens.
//!
//! Run it with `cargo run --example embed`.

use ringbook::{
    MarketDataSubscriber, Order, OrderbookManagerError, OrderbookManagerService,
    OrderbookManagerServiceImpl, OrderbookResult, PublishedEvent, Side, Subscriber, Uuid,
};

/// Prints each trade with its output sequence number.
#[derive(Debug)]
struct TradePrinter;

impl Subscriber for TradePrinter {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        if let OrderbookResult::Trade { .. } = event.result {
            println!("event {:>3}: {:?}", event.seq, event.result);
        }
    }

    fn name(&self) -> &str {
        "trade printer"
    }
}

fn main() -> Result<(), OrderbookManagerError> {
    let instruments: Vec<Uuid> = (1..=3).map(Uuid::from_u128).collect();
    let market = MarketDataSubscriber::new();
    let view = market.view();
    let manager = OrderbookManagerServiceImpl::builder(instruments.iter().copied())
        .subscriber(market)
        .subscriber(TradePrinter)
        .build()?;
    manager.start()?;

    // A small ladder of asks on every instrument, then a buyer who lifts two levels.
    let mut next_id = 1u128;
    let mut order_id = || {
        next_id += 1;
        Uuid::from_u128(next_id)
    };
    for &instrument in &instruments {
        for (price, qty) in [(101, 5), (102, 5), (103, 5)] {
            manager.add_order(Order::limit(order_id(), instrument, Side::Sell, price, qty))?;
        }
        manager.add_order(Order::limit(order_id(), instrument, Side::Buy, 102, 7))?;
    }
    // A halted book refuses new orders; the refusal is an error here and an event there.
    manager.halt_orderbooks(vec![instruments[2]]);
    let refused = manager.add_order(Order::limit(order_id(), instruments[2], Side::Buy, 103, 1));
    println!("order on a halted book: {refused:?}");

    manager.stop()?;
    for instrument in &instruments {
        let top = view.top_of_book(instrument).expect("registered");
        println!(
            "{instrument}: best bid {:?}, best ask {:?}",
            top.best_bid, top.best_ask
        );
    }
    Ok(())
}
