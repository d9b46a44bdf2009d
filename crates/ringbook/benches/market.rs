//! The book as the book consumer runs it, on market-shaped flow (issue 17, part 2): one
//! thread applies a regime's flow to one `OrderBook` and hands every result across a
//! single-producer `disruptor` ring to a drainer thread, which reads each one; the timed
//! window runs from the first command to the drainer's last read. When the machine has
//! two cores or more, the book thread runs on the first and the drainer on the last.
//!
//! One benchmark per [`MarketRegime`]: the flow of [`MarketGenerator`] (seed 1, 1,000,000
//! new orders, about 2 M commands), generated before the timed window. Throughput is in
//! messages (commands), so criterion reports messages per second.
//!
//! Two threads that hand over every result are at the mercy of whatever else runs on
//! the machine: on a shared machine the figure moves several-fold between runs. The
//! book's instructions per message (`examples/market_replay.rs` under callgrind, see
//! perf/README.md) are the repeatable figure.
//!
//! ```text
//! cargo bench --bench market -- --warm-up-time 1 --measurement-time 3
//! ```

// criterion_group! and criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use disruptor::{BusySpin, Polling, Producer, build_single_producer};
use ringbook::flow::MarketRegime;
use ringbook::{Command, OrderBook, OrderbookResult, Side, Uuid};

mod common;

use common::{fold, market_flow};

/// New orders per flow.
const ORDERS: u64 = 1_000_000;

/// New orders per flow when the bench runs as a test (`cargo test --benches`).
const TEST_ORDERS: u64 = 5_000;

/// Slots in the ring: as the pipeline's outbound ring.
const RING: usize = 1 << 13;

/// One slot of the ring: a result and the number of the command that caused it.
struct Slot {
    seq: u64,
    event: Option<OrderbookResult>,
}

/// Waits politely: the machine may have fewer free cores than spinning threads.
fn idle(rounds: &mut u32) {
    *rounds += 1;
    if *rounds < 64 {
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}

/// The regime's flow, and how many events it causes.
fn flow(regime: MarketRegime, orders: u64) -> (Uuid, Vec<Command>, u64) {
    let (instrument, commands) = market_flow(regime, orders);
    let mut book = OrderBook::new(instrument);
    let mut mix: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut max_resting = 0;
    for command in &commands {
        book.apply(command, &mut |event: OrderbookResult| {
            *mix.entry(event.type_name()).or_default() += 1;
        });
        max_resting = max_resting.max(book.len());
    }
    let events = mix.values().sum();
    let mix: Vec<String> = mix.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "market/{regime}: {} commands, {events} events ({}); resting at the end {} (max \
         {max_resting}), levels {}/{}",
        commands.len(),
        mix.join(" "),
        book.len(),
        book.levels(Side::Buy),
        book.levels(Side::Sell),
    );
    (instrument, commands, events)
}

/// The cores of the book thread and of the drainer, if there are two.
fn cores() -> Option<(usize, usize)> {
    let cores = ringbook::available_cores();
    match cores[..] {
        [first, .., last] => Some((first, last)),
        _ => None,
    }
}

fn pin(core: Option<usize>) {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
}

/// One pass: the flow through a fresh book, every result across the ring.
fn pass(instrument: Uuid, commands: &[Command], events: u64) -> Duration {
    let placement = cores();
    let factory = || Slot {
        seq: 0,
        event: None,
    };
    let (mut poller, builder) = build_single_producer(RING, factory, BusySpin).new_event_poller();
    let mut producer = builder.build();
    let drainer = thread::spawn(move || {
        pin(placement.map(|(_, drainer)| drainer));
        let mut seen = 0u64;
        let mut acc = 0u64;
        let mut rounds = 0;
        while seen < events {
            match poller.poll() {
                Ok(mut batch) => {
                    rounds = 0;
                    for slot in &mut batch {
                        if let Some(event) = &slot.event {
                            acc = acc.wrapping_add(fold(event) ^ slot.seq);
                        }
                        seen += 1;
                    }
                }
                Err(Polling::NoEvents) => idle(&mut rounds),
                Err(Polling::Shutdown) => break,
            }
        }
        black_box(acc);
        seen
    });
    pin(placement.map(|(book, _)| book));
    let mut book = OrderBook::new(instrument);
    let started = Instant::now();
    for (seq, command) in commands.iter().enumerate() {
        let seq = seq as u64;
        book.apply(black_box(command), &mut |event: OrderbookResult| {
            let mut event = Some(event);
            let mut rounds = 0;
            while producer
                .try_publish(|slot| {
                    slot.seq = seq;
                    slot.event = event.take();
                })
                .is_err()
            {
                idle(&mut rounds);
            }
        });
    }
    let seen = drainer.join().expect("the drainer");
    let elapsed = started.elapsed();
    assert_eq!(seen, events, "the drainer read every result");
    drop(producer);
    black_box(book);
    elapsed
}

fn market(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; without it criterion runs each benchmark once.
    let benching = std::env::args().any(|arg| arg == "--bench");
    let orders = if benching { ORDERS } else { TEST_ORDERS };
    let mut group = c.benchmark_group("market");
    group.sample_size(10);
    for regime in MarketRegime::ALL {
        let (instrument, commands, events) = flow(regime, orders);
        group.throughput(Throughput::Elements(commands.len() as u64));
        group.bench_function(BenchmarkId::new("book+ring", regime), |b| {
            b.iter_custom(|iterations| {
                (0..iterations)
                    .map(|_| pass(instrument, &commands, events))
                    .sum()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, market);
criterion_main!(benches);
