//! The order book alone, single-threaded: how many commands per second it applies.
//!
//! The workload is one instrument's synthetic flow from [`FlowGenerator`] (seed 42, the
//! default mix: about 1.9 commands per add, 85 to 90% of resting orders cancelled, about
//! 2,000 orders resting), generated up front; each iteration applies all of it to a fresh
//! book. The naive reference book of the tests runs the same workload as the baseline.
//! Then the five market regimes of issue 17 (`orderbook/market-REGIME`): each one's flow
//! of `MarketGenerator` (seed 1, a million new orders, about 2 M commands), the book alone
//! with its events folded into a counter. Then the long form (issue 22,
//! `orderbook/long-form-*`): the same generator and seed with `LongFormMix::standard()`
//! (10% stops, 10% icebergs, owners with self-trade prevention on half the orders, rare
//! mass cancels), against `orderbook/{size}-commands`. Throughput is in commands, so
//! criterion reports commands per second.

// criterion_group! and criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ringbook::flow::{FlowGenerator, GenConfig, LongFormMix, MarketRegime};
use ringbook::{Command, OrderBook, OrderbookResult, Uuid};

use ringbook_testkit::reference::NaiveBook;

mod common;

use common::{fold, market_flow};

/// Commands in the workload.
const COMMANDS: usize = 1_000_000;

/// Commands in the workload when the bench runs as a test (`cargo test --benches`, an
/// unoptimised build in which criterion runs each benchmark once): enough to exercise it.
const TEST_COMMANDS: usize = 20_000;

/// One instrument's flow of exactly `commands` commands.
fn workload(commands: usize) -> (Uuid, Vec<Command>) {
    workload_of(commands, None)
}

/// One instrument's flow of exactly `commands` commands, with the long form's `mix`.
fn workload_of(commands: usize, mix: Option<LongFormMix>) -> (Uuid, Vec<Command>) {
    // About 1.13 million commands; the flow is cut at `commands`.
    let generator = FlowGenerator::new(GenConfig::new(42, 1, 600_000).with_long_form(mix));
    let instrument = generator.instruments()[0];
    let flow: Vec<Command> = generator.take(commands).collect();
    assert_eq!(flow.len(), commands);
    (instrument, flow)
}

/// Prints the workload's event mix once, from a run through the book.
fn describe(instrument: Uuid, commands: &[Command]) {
    let mut book = OrderBook::new(instrument);
    let mut mix: BTreeMap<String, u64> = BTreeMap::new();
    let mut max_resting = 0;
    for command in commands {
        book.apply(command, &mut |event: OrderbookResult| {
            let key = match &event {
                OrderbookResult::Rejected { reason, .. } => format!("rejected:{reason}"),
                OrderbookResult::Modified { priority_kept, .. } => {
                    format!("modified:priority_kept={priority_kept}")
                }
                _ => event.type_name().to_string(),
            };
            *mix.entry(key).or_default() += 1;
        });
        max_resting = max_resting.max(book.len());
    }
    let mix: Vec<String> = mix.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "workload: {} commands, one instrument; events: {}; resting at the end {} \
         (max {max_resting}), levels {}/{}",
        commands.len(),
        mix.join(" "),
        book.len(),
        book.levels(ringbook::Side::Buy),
        book.levels(ringbook::Side::Sell),
    );
}

fn book(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; without it criterion runs each benchmark once.
    let benching = std::env::args().any(|arg| arg == "--bench");
    let (instrument, commands) = workload(if benching { COMMANDS } else { TEST_COMMANDS });
    describe(instrument, &commands);
    let size = if benching { "1M" } else { "20k" };
    let mut group = c.benchmark_group("book");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(commands.len() as u64));
    group.bench_function(format!("orderbook/{size}-commands"), |b| {
        b.iter_batched(
            || OrderBook::new(instrument),
            |book| apply_all(book, &commands),
            BatchSize::LargeInput,
        )
    });
    // The long form (issue 22): the same flow with the standard mix.
    let (long_instrument, long_commands) = workload_of(
        if benching { COMMANDS } else { TEST_COMMANDS },
        Some(LongFormMix::standard()),
    );
    describe(long_instrument, &long_commands);
    group.bench_function(format!("orderbook/long-form-{size}-commands"), |b| {
        b.iter_batched(
            || OrderBook::new(long_instrument),
            |book| apply_all(book, &long_commands),
            BatchSize::LargeInput,
        )
    });
    // The five market regimes (issue 17): each regime's flow of MarketGenerator (seed 1,
    // a million new orders, about 2 M commands; 5,000 orders as a test), the book alone.
    let orders = if benching { 1_000_000 } else { 5_000 };
    for regime in MarketRegime::ALL {
        let (instrument, flow) = market_flow(regime, orders);
        describe(instrument, &flow);
        group.throughput(Throughput::Elements(flow.len() as u64));
        group.bench_function(format!("orderbook/market-{regime}"), |b| {
            b.iter_batched(
                || OrderBook::new(instrument),
                |book| apply_all(book, &flow),
                BatchSize::LargeInput,
            )
        });
    }
    group.throughput(Throughput::Elements(commands.len() as u64));
    // The naive book takes seconds per pass: give its 10 samples the time they need.
    group.measurement_time(Duration::from_secs(60));
    group.bench_function(format!("naive-reference/{size}-commands"), |b| {
        b.iter_batched(
            || NaiveBook::new(instrument),
            |mut book| {
                let mut events = 0u64;
                let mut acc = 0u64;
                for command in &commands {
                    for event in book.apply(black_box(command)) {
                        events += 1;
                        acc = acc.wrapping_add(fold(&event));
                    }
                }
                black_box((events, acc));
                book
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// Applies `flow` to `book`, folding every event so the optimiser keeps them all.
fn apply_all(mut book: OrderBook, flow: &[Command]) -> OrderBook {
    let mut events = 0u64;
    let mut acc = 0u64;
    let mut sink = |event: OrderbookResult| {
        events += 1;
        acc = acc.wrapping_add(fold(&event));
    };
    for command in flow {
        book.apply(black_box(command), &mut sink);
    }
    black_box((events, acc));
    book
}

criterion_group!(benches, book);
criterion_main!(benches);
