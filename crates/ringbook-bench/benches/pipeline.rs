//! End-to-end throughput, from `add_order` (and the other service calls) to the event
//! manager, for 1, 8 and 1,000 instruments: the ring pipeline against the original design
//! (a thread and a channel per book, `RwLock`ed maps) on the same generated workload, in
//! the same run.
//!
//! Each iteration builds a fresh engine, warms it up, then times from the first measured
//! send to the last event seen (`iter_custom`), so thread start-up is not counted.
//! Throughput is in commands. For latency percentiles at a fixed offered load use
//! `ringbook bench --rate R --baseline`.
//!
//! Three engines per instrument count:
//! - `ringbook`: the engine's default configuration, no thread pinned;
//! - `ringbook-pinned`: the deployment `docs/ARCHITECTURE.md` describes, book consumer
//!   pinned to a core of its own (`cores` = the first two allowed cores: the sequencer and
//!   event manager on the first, the book consumer on the second, and the sending thread on
//!   the first); only on a machine with two or more allowed cores;
//! - `baseline`: the original design as it was built, its threads left to the scheduler.

// criterion_group! and criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ringbook::{ManagerConfig, available_cores};
use ringbook_bench::harness::{EngineKind, RunOptions, Workload, run};

/// New orders per workload (about 1.9 commands each).
const ORDERS: u64 = 200_000;

/// The same when the bench runs as a test (`cargo test --benches`, unoptimised).
const TEST_ORDERS: u64 = 5_000;

fn pipeline(c: &mut Criterion) {
    let testing = std::env::args().any(|a| a == "--test");
    let orders = if testing { TEST_ORDERS } else { ORDERS };
    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let cores = available_cores();
    for instruments in [1u32, 8, 1000] {
        let workload = Workload::generate(7, instruments, orders);
        let options = RunOptions::default().with_warmup(workload.commands.len() / 10);
        let measured = (workload.commands.len() - options.warmup) as u64;
        group.throughput(Throughput::Elements(measured));
        let mut engines = vec![(
            "ringbook",
            EngineKind::Ringbook(ManagerConfig::default()),
            options.clone(),
        )];
        if let [first, second, ..] = cores[..] {
            let config = ManagerConfig::default().with_cores(Some(vec![first, second]));
            let pinned = options.clone().with_sender_core(Some(first));
            engines.push(("ringbook-pinned", EngineKind::Ringbook(config), pinned));
        }
        engines.push(("baseline", EngineKind::Baseline, options));
        for (label, engine, options) in &engines {
            group.bench_with_input(
                BenchmarkId::new(*label, instruments),
                &workload,
                |b, workload| {
                    b.iter_custom(|iterations| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iterations {
                            let report =
                                run(workload, engine, options, &mut |_| {}).expect("benchmark run");
                            total += report.elapsed;
                        }
                        total
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
