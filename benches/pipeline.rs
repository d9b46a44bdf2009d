//! End-to-end throughput, from `add_order` (and the other service calls) to the event
//! manager, for 1, 8 and 1,000 instruments: the ring pipeline against the original design
//! (a thread and a channel per book, `RwLock`ed maps) on the same generated workload, in
//! the same run.
//!
//! Each iteration builds a fresh engine, warms it up, then times from the first measured
//! send to the last event seen (`iter_custom`), so thread start-up is not counted.
//! Throughput is in commands. For latency percentiles at a fixed offered load use
//! `ringbook bench --rate R --baseline`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ringbook::ManagerConfig;
use ringbook::harness::{EngineKind, RunOptions, Workload, run};

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
    for instruments in [1u32, 8, 1000] {
        let workload = Workload::generate(7, instruments, orders);
        let options = RunOptions {
            rate: None,
            warmup: workload.commands.len() / 10,
            ..RunOptions::default()
        };
        let measured = (workload.commands.len() - options.warmup) as u64;
        group.throughput(Throughput::Elements(measured));
        for engine in [
            EngineKind::Ringbook(ManagerConfig::default()),
            EngineKind::Baseline,
        ] {
            group.bench_with_input(
                BenchmarkId::new(engine.name(), instruments),
                &workload,
                |b, workload| {
                    b.iter_custom(|iterations| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iterations {
                            let report = run(workload, &engine, &options, &mut |_| {})
                                .expect("benchmark run");
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
