//! Instructions per operation kind (issue 17, part 3): one micro-flow per kind, each
//! applied in its own function so callgrind's inclusive cost of `op_costs::kind_*` divided
//! by the commands printed for it is that kind's cost on the book.
//!
//! ```text
//! cargo build --release -p ringbook --example op_costs
//! valgrind --tool=callgrind --callgrind-out-file=ops.out --collect-atstart=no \
//!     --toggle-collect='op_costs::kind_*' target/release/examples/op_costs
//! callgrind_annotate --inclusive=yes ops.out | grep kind_
//! ```
//!
//! The flows, in order on one book (ids dense from 1, 20 bid and 20 ask levels, 10 lots
//! an order): `warm` adds and cancels a first round unmeasured, so the slab, the id index
//! and the ladders have grown; then `rest` plain limit adds that rest, `reduce` modifies
//! that keep priority, `move` modifies one tick away (into a level that has orders),
//! `requeue` modifies that raise the quantity at the same price, `ioc` IOC adds that do
//! not cross (accepted, expired), `cross` limit adds that fill one maker whole, `cancel`
//! cancels of resting orders. perf/LOG.md (issue 17, pass 3) has the figures.

use std::hint::black_box;

use ringbook::{Command, Order, OrderBook, OrderKind, OrderbookResult, Side, Uuid};

/// Resting orders the `rest` flow adds.
const RESTING: u64 = 100_000;
/// Commands in each of the other flows.
const EACH: u64 = 20_000;

fn main() {
    let instrument = Uuid::from_u128(7);
    let add = |id: u64, side, kind, price, qty| {
        Command::Add(Order::new(
            Uuid::from_u128(u128::from(id)),
            instrument,
            side,
            kind,
            price,
            qty,
        ))
    };
    let modify = |id: u64, price, qty| Command::Modify {
        instrument_id: instrument,
        order_id: Uuid::from_u128(u128::from(id)),
        price,
        qty,
    };
    // Bids at 1000..1020 (odd ids), asks at 1030..1050 (even ids), 10 lots each.
    let price_of = |id: u64| {
        if id % 2 == 1 {
            1000 + (id / 2 % 20) as i64
        } else {
            1030 + (id / 2 % 20) as i64
        }
    };
    let side_of = |id: u64| if id % 2 == 1 { Side::Buy } else { Side::Sell };
    // A first round added and cancelled unmeasured grows the slab, the id index and the
    // ladders to their size; the measured flows use the ids after it.
    let warm: Vec<Command> = (1..=RESTING)
        .map(|id| add(id, side_of(id), OrderKind::Limit, price_of(id), 10))
        .chain((1..=RESTING).map(|id| Command::Cancel {
            instrument_id: instrument,
            order_id: Uuid::from_u128(u128::from(id)),
        }))
        .collect();
    let first = RESTING + 1;
    let rest: Vec<Command> = (first..first + RESTING)
        .map(|id| add(id, side_of(id), OrderKind::Limit, price_of(id), 10))
        .collect();
    // Bids only, so moving one tick up never crosses (the asks start at 1030).
    let bids = || (first..first + RESTING).step_by(2);
    let reduce: Vec<Command> = bids()
        .take(EACH as usize)
        .map(|id| modify(id, price_of(id), 9))
        .collect();
    let moved: Vec<Command> = bids()
        .take(EACH as usize)
        .map(|id| modify(id, price_of(id) + 1, 10))
        .collect();
    let requeue: Vec<Command> = bids()
        .take(EACH as usize)
        .map(|id| modify(id, price_of(id) + 1, 11))
        .collect();
    let next = first + RESTING;
    let ioc: Vec<Command> = (next..next + EACH)
        .map(|id| add(id, Side::Buy, OrderKind::Ioc, 990, 10))
        .collect();
    // Each buy at 1049 fills the oldest ask (10 lots) whole.
    let next = next + EACH;
    let cross: Vec<Command> = (next..next + EACH)
        .map(|id| add(id, Side::Buy, OrderKind::Limit, 1049, 10))
        .collect();
    // The bids the other flows left resting (ids past the first EACH bids).
    let cancel: Vec<Command> = bids()
        .skip(EACH as usize)
        .take(EACH as usize)
        .map(|id| Command::Cancel {
            instrument_id: instrument,
            order_id: Uuid::from_u128(u128::from(id)),
        })
        .collect();
    let mut book = OrderBook::new(instrument);
    let report = |name: &str, (events, fold): (u64, u64), commands: usize| {
        println!("{name}: commands {commands} events {events} fold {fold}");
    };
    report("warm", kind_warm(&mut book, black_box(&warm)), warm.len());
    report("rest", kind_rest(&mut book, black_box(&rest)), rest.len());
    report(
        "reduce",
        kind_reduce(&mut book, black_box(&reduce)),
        reduce.len(),
    );
    report("move", kind_move(&mut book, black_box(&moved)), moved.len());
    report(
        "requeue",
        kind_requeue(&mut book, black_box(&requeue)),
        requeue.len(),
    );
    report("ioc", kind_ioc(&mut book, black_box(&ioc)), ioc.len());
    report(
        "cross",
        kind_cross(&mut book, black_box(&cross)),
        cross.len(),
    );
    report(
        "cancel",
        kind_cancel(&mut book, black_box(&cancel)),
        cancel.len(),
    );
    println!("resting {}", book.len());
}

/// Defines `kind_NAME`: applies a flow with the fold of `market_replay`'s `replay`, its
/// own sink type each (folding other events as its own number, so that no two are
/// merged), so that each inlines `OrderBook::apply` as `replay` does.
macro_rules! kind {
    ($name:ident, $tag:literal) => {
        #[inline(never)]
        fn $name(book: &mut OrderBook, flow: &[Command]) -> (u64, u64) {
            let mut events = 0u64;
            let mut acc = 0u64;
            let mut sink = |event: OrderbookResult| {
                events += 1;
                acc = acc.wrapping_add(match event {
                    OrderbookResult::Trade { qty, .. } => qty,
                    OrderbookResult::Accepted { qty, .. } => qty << 1,
                    _ => $tag,
                });
            };
            for command in flow {
                book.apply(command, &mut sink);
            }
            (events, acc)
        }
    };
}

kind!(kind_warm, 1);
kind!(kind_rest, 2);
kind!(kind_reduce, 3);
kind!(kind_move, 4);
kind!(kind_requeue, 5);
kind!(kind_ioc, 6);
kind!(kind_cross, 7);
kind!(kind_cancel, 8);
