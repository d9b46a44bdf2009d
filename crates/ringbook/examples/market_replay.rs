//! Generates one market regime's flow and applies it to one `OrderBook`: the program to
//! count the book's instructions per message under callgrind (issue 17, part 2).
//!
//! ```text
//! cargo build --release --example market_replay
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --collect-atstart=no --toggle-collect='market_replay::replay' \
//!     target/release/examples/market_replay swing-40
//! ```
//!
//! The flow is generated into memory first; only [`replay`] (the book applying every
//! command, its events folded into a counter) is collected, so callgrind's `Collected`
//! figure divided by the printed message count is the book's instructions per message.
//! The program prints a digest of the flow: the same digest on two builds means they
//! replayed the same flow.
//!
//! Arguments: `REGIME [ORDERS [SEED]]` (1,000,000 new orders and seed 1 by default).
//! With `MARKET_REPLAY_FLOOR=1`, [`floor`] also runs: the same loop and event fold with no
//! book (one event a command, built from the command): collect it with
//! `--toggle-collect='market_replay::floor'` to see what the loop itself costs.
//! With `MARKET_REPLAY_EVENTS=1` in the environment, the flow is replayed a second time
//! (outside [`replay`]) into a fresh book and a digest of every event's `Debug` text is
//! printed: the same digest on two builds means they published the same events.

use std::hint::black_box;
use std::process::ExitCode;

use ringbook::flow::{MarketConfig, MarketGenerator, MarketRegime};
use ringbook::{Command, OrderBook, OrderbookResult};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: market_replay REGIME [ORDERS [SEED]] \
                 (REGIME: static, normal, swing-25, swing-40 or flash-crash)";
    let Some(regime) = args.first() else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let regime: MarketRegime = match regime.parse() {
        Ok(regime) => regime,
        Err(e) => {
            eprintln!("{e}\n{usage}");
            return ExitCode::from(2);
        }
    };
    let number = |at: usize, default: u64| match args.get(at) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|e| format!("argument {} ({text:?}): {e}\n{usage}", at + 1)),
    };
    let (orders, seed) = match (number(1, 1_000_000), number(2, 1)) {
        (Ok(orders), Ok(seed)) => (orders, seed),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let config = MarketConfig {
        seed,
        regime,
        orders,
        ..MarketConfig::default()
    };
    let flow: Vec<Command> = MarketGenerator::new(config).collect();
    let mut book = OrderBook::new(config.instrument);
    let (events, fold) = replay(&mut book, black_box(&flow));
    println!(
        "regime {regime} seed {seed} orders {orders}: messages {} events {events} \
         flow-digest {:016x} fold {fold} resting {}",
        flow.len(),
        digest(&flow),
        book.len()
    );
    #[cfg(not(ringbook_old_book))]
    if std::env::var_os("MARKET_REPLAY_FLOOR").is_some() {
        let (events, fold) = floor(config.instrument, black_box(&flow));
        println!("floor events {events} fold {fold}");
    }
    if std::env::var_os("MARKET_REPLAY_EVENTS").is_some() {
        println!(
            "event-digest {:016x}",
            event_digest(config.instrument, &flow)
        );
    }
    ExitCode::SUCCESS
}

/// Applies `flow` to `book`: the part callgrind collects. Returns the number of events
/// and a fold of them.
#[inline(never)]
fn replay(book: &mut OrderBook, flow: &[Command]) -> (u64, u64) {
    let mut events = 0u64;
    let mut acc = 0u64;
    let mut sink = |event: OrderbookResult| {
        events += 1;
        acc = acc.wrapping_add(match event {
            OrderbookResult::Trade { qty, .. } => qty,
            OrderbookResult::Accepted { qty, .. } => qty << 1,
            _ => 1,
        });
    };
    for command in flow {
        book.apply(command, &mut sink);
    }
    (events, acc)
}

/// The loop of [`replay`] with no book: each command yields one event built from it
/// (`accepted` for an add, `cancelled` otherwise), folded the same way. Its instructions
/// per message are the floor under the book's. Left out of builds with `--cfg
/// ringbook_old_book`: `scripts/bench-report.sh` builds this example against the book at an
/// older commit, whose events have fewer fields.
#[cfg(not(ringbook_old_book))]
#[inline(never)]
fn floor(instrument: ringbook::Uuid, flow: &[Command]) -> (u64, u64) {
    let mut events = 0u64;
    let mut acc = 0u64;
    let mut sink = |event: OrderbookResult| {
        events += 1;
        acc = acc.wrapping_add(match event {
            OrderbookResult::Trade { qty, .. } => qty,
            OrderbookResult::Accepted { qty, .. } => qty << 1,
            _ => 1,
        });
    };
    for command in flow {
        let event = match *command {
            Command::Add(ref order) => OrderbookResult::Accepted {
                instrument_id: instrument,
                order_id: order.order_id,
                side: order.side,
                kind: order.kind,
                price: order.limit_price(),
                qty: order.quantity,
                trigger: None,
                display: None,
            },
            ref other => OrderbookResult::Cancelled {
                instrument_id: instrument,
                order_id: other.order_id().unwrap_or_default(),
                side: ringbook::Side::Buy,
                price: Some(0),
                remaining_qty: 0,
                reason: ringbook::EndReason::Plain,
            },
        };
        ringbook::EventSink::publish(&mut sink, event);
    }
    (events, acc)
}

/// FNV-1a 64 over the `Debug` text of every event a fresh book publishes for `flow`.
fn event_digest(instrument: ringbook::Uuid, flow: &[Command]) -> u64 {
    let mut book = OrderBook::new(instrument);
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut sink = |event: OrderbookResult| {
        for byte in format!("{event:?}").bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for command in flow {
        book.apply(command, &mut sink);
    }
    hash
}

/// FNV-1a 64 over every command's fields (not its `Debug` text, which may change).
fn digest(flow: &[Command]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |value: u128| {
        for byte in value.to_le_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for command in flow {
        match command {
            Command::Add(order) => {
                eat(0);
                eat(order.order_id.as_u128());
                eat(order.instrument_id.as_u128());
                eat(u128::from(order.side.as_str().len() as u8));
                eat(u128::from(order.kind.as_str().as_bytes()[0]));
                eat(order.price as u128);
                eat(u128::from(order.quantity));
            }
            Command::Cancel {
                instrument_id,
                order_id,
            } => {
                eat(1);
                eat(instrument_id.as_u128());
                eat(order_id.as_u128());
            }
            Command::Modify {
                instrument_id,
                order_id,
                price,
                qty,
            } => {
                eat(2);
                eat(instrument_id.as_u128());
                eat(order_id.as_u128());
                eat(*price as u128);
                eat(u128::from(*qty));
            }
            other => eat(3 + other.op().as_str().len() as u128),
        }
    }
    hash
}
