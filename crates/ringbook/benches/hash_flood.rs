//! Hash flooding: one book replays 40,000 resting orders (then cancels them all) under
//! ordinary ids and under id sets built to collide in the order-id index, in the same run.
//!
//! * `ordinary`: ids 1..=40,000.
//! * `low64`: ids sharing the low 64 bits `0x5a67b4dfae0123c2` (the per-hasher seed the
//!   index used when its seed was fixed: every such id hashed to 0).
//! * `crafted`: ids built against the old fixed seed so that every hash had its low 20
//!   bits (and top 7) equal: low half `0x5a67b4dfae0123c2 ^ 1`, high half
//!   `0xc0ac29b7c97c50dd ^ (n << 20)`, which the old hash mapped to exactly `n << 20`.
//!
//! With a per-process seed the three take about the same time; with the old fixed seed
//! the adversarial sets were quadratic. Each iteration replays the whole set on a fresh
//! book; throughput is in commands (40,000 adds and 40,000 cancels).

// criterion_group! and criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ringbook::{Command, Order, OrderBook, OrderbookResult, Side, Uuid};

/// Resting orders per set when benching.
const ORDERS: u128 = 40_000;

/// Resting orders per set when the bench runs as a test (`cargo test --benches`): the
/// unoptimised old code would take minutes on 40,000 colliding ids.
const TEST_ORDERS: u128 = 2_000;

/// The old index's per-hasher seed: `b"RINGBOOK"` xor foldhash's `ARBITRARY3`.
const OLD_SEED: u64 = 0x5a67_b4df_ae01_23c2;

/// foldhash's fixed shared seed `ARBITRARY6`, xored into the high half of a u128.
const OLD_SHARED: u64 = 0xc0ac_29b7_c97c_50dd;

/// The instrument of the book.
const INSTRUMENT: Uuid = Uuid::from_u128(0xb00c);

/// Adds of `ids` as buys resting on 100 price levels, then a cancel of each.
fn replay(ids: impl Iterator<Item = Uuid> + Clone) -> Vec<Command> {
    let adds = ids.clone().enumerate().map(|(n, id)| {
        Command::Add(Order::limit(
            id,
            INSTRUMENT,
            Side::Buy,
            1_000 + (n % 100) as i64,
            1 + (n % 7) as u64,
        ))
    });
    let cancels = ids.map(|order_id| Command::Cancel {
        instrument_id: INSTRUMENT,
        order_id,
    });
    adds.chain(cancels).collect()
}

/// The three id sets of `orders` ids each, named.
fn sets(orders: u128) -> [(&'static str, Vec<Command>); 3] {
    [
        ("ordinary", replay((1..=orders).map(Uuid::from_u128))),
        (
            "low64",
            replay((1..=orders).map(|n| Uuid::from_u64_pair(n as u64, OLD_SEED))),
        ),
        (
            "crafted",
            replay(
                (1..=orders)
                    .map(|n| Uuid::from_u64_pair(OLD_SHARED ^ ((n as u64) << 20), OLD_SEED ^ 1)),
            ),
        ),
    ]
}

fn hash_flood(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; without it criterion runs each benchmark once.
    let benching = std::env::args().any(|arg| arg == "--bench");
    let orders = if benching { ORDERS } else { TEST_ORDERS };
    let mut group = c.benchmark_group("hash_flood");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, commands) in sets(orders) {
        group.throughput(Throughput::Elements(commands.len() as u64));
        group.bench_function(format!("{name}/{orders}-resting"), |b| {
            b.iter_batched(
                || OrderBook::new(INSTRUMENT),
                |mut book| {
                    let mut accepted = 0u64;
                    let mut sink = |event: OrderbookResult| {
                        accepted += u64::from(matches!(event, OrderbookResult::Accepted { .. }));
                    };
                    for command in &commands {
                        book.apply(black_box(command), &mut sink);
                    }
                    assert_eq!(accepted, orders as u64, "every add rests");
                    assert_eq!(book.len(), 0, "every cancel found its order");
                    book
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, hash_flood);
criterion_main!(benches);
