//! One ring hop: a command crossing from one thread to another through a `disruptor`
//! single-producer ring (as from the sequencer to a book), against a bounded crossbeam
//! channel (as in the original design), with the consumer on its own thread.
//!
//! Each iteration sends a fixed number of 64-byte commands and waits until the consumer
//! has read them all; throughput is in commands.

// criterion_group! and criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use disruptor::{BusySpin, Polling, Producer, build_single_producer};
use ringbook::{Command, Order, Side, Uuid};

/// Commands per iteration.
const MESSAGES: u64 = 200_000;

/// Slots in the ring and the channel.
const CAPACITY: usize = 4096;

/// A cache-line command, as the rings carry them.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Slot {
    command: Command,
}

fn command(i: u64) -> Command {
    Command::Add(Order::limit(
        Uuid::from_u128(u128::from(i)),
        Uuid::from_u128(1),
        Side::Buy,
        i as i64,
        1,
    ))
}

/// Waits politely: the machine may have fewer cores than spinning threads.
fn idle(rounds: &mut u32) {
    *rounds += 1;
    if *rounds < 64 {
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}

fn ring(messages: u64) -> Duration {
    let factory = || Slot {
        command: command(0),
    };
    let (mut poller, builder) =
        build_single_producer(CAPACITY, factory, BusySpin).new_event_poller();
    let mut producer = builder.build();
    let consumer = thread::spawn(move || {
        let mut seen = 0u64;
        let mut sum = 0u64;
        let mut rounds = 0;
        while seen < messages {
            match poller.poll() {
                Ok(mut batch) => {
                    rounds = 0;
                    for slot in &mut batch {
                        if let Command::Add(order) = slot.command {
                            sum = sum.wrapping_add(order.price as u64);
                        }
                        seen += 1;
                    }
                }
                Err(Polling::NoEvents) => idle(&mut rounds),
                Err(Polling::Shutdown) => break,
            }
        }
        black_box(sum)
    });
    let started = Instant::now();
    let mut rounds = 0;
    for i in 0..messages {
        let c = command(i);
        while producer.try_publish(|slot| slot.command = c).is_err() {
            idle(&mut rounds);
        }
    }
    consumer.join().expect("consumer");
    started.elapsed()
}

fn channel(messages: u64) -> Duration {
    let (tx, rx) = crossbeam_channel::bounded::<Slot>(CAPACITY);
    let consumer = thread::spawn(move || {
        let mut sum = 0u64;
        for slot in rx.iter().take(messages as usize) {
            if let Command::Add(order) = slot.command {
                sum = sum.wrapping_add(order.price as u64);
            }
        }
        black_box(sum)
    });
    let started = Instant::now();
    for i in 0..messages {
        tx.send(Slot {
            command: command(i),
        })
        .expect("send");
    }
    consumer.join().expect("consumer");
    started.elapsed()
}

fn ring_hop(c: &mut Criterion) {
    let testing = std::env::args().any(|a| a == "--test");
    let messages = if testing { 2_000 } else { MESSAGES };
    let mut group = c.benchmark_group("ring_hop");
    group
        .sample_size(20)
        .throughput(Throughput::Elements(messages));
    group.bench_function(BenchmarkId::new("disruptor", CAPACITY), |b| {
        b.iter_custom(|iterations| (0..iterations).map(|_| ring(messages)).sum())
    });
    group.bench_function(BenchmarkId::new("crossbeam_channel", CAPACITY), |b| {
        b.iter_custom(|iterations| (0..iterations).map(|_| channel(messages)).sum())
    });
    group.finish();
}

criterion_group!(benches, ring_hop);
criterion_main!(benches);
