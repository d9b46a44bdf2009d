//! Applies the `bench` workload (the generator's default flow, order ids renumbered
//! 1, 2, 3, ... as `ringbook bench` does) to many `OrderBook`s on one thread: the book
//! side of issue 21 (the cost of a command must not grow with the number of books),
//! without the pipeline around it. The books share one id index in a [`BookGroup`], as a
//! book consumer thread's do.
//!
//! ```text
//! cargo build --release --example many_books
//! target/release/examples/many_books 10000 500000 uniform 3
//! valgrind --tool=callgrind --cache-sim=yes --collect-atstart=no \
//!     --toggle-collect='many_books::replay' target/release/examples/many_books 10000 200000
//! ```
//!
//! Arguments: `INSTRUMENTS [ORDERS [ACTIVITY [PASSES]]]` (8 instruments, 500,000 new orders,
//! `uniform`, 3 passes by default). Each pass replays the whole flow into fresh books; the
//! program prints the best pass's commands/s, an event digest (equal on two builds: the
//! same events), and the process's resident memory after the last pass, per book.
//! Only [`replay`] is worth collecting under callgrind.

use std::collections::HashMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use ringbook::flow::{Activity, FlowGenerator, GenConfig, IdRenumbering};
use ringbook::{BookGroup, Command, OrderBook, OrderbookResult, Uuid};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: many_books INSTRUMENTS [ORDERS [uniform|zipf [PASSES]]]";
    let number = |at: usize, default: u64| match args.get(at) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|e| format!("argument {} ({text:?}): {e}\n{usage}", at + 1)),
    };
    let (instruments, orders, passes) = match (number(0, 8), number(1, 500_000), number(3, 3)) {
        (Ok(i), Ok(o), Ok(p)) if i >= 1 && i <= u64::from(u32::MAX) => (i as u32, o, p.max(1)),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let activity = match args.get(2).map(String::as_str) {
        None | Some("uniform") => Activity::Uniform,
        Some("zipf") => Activity::Zipf,
        Some(other) => {
            eprintln!("activity {other:?}\n{usage}");
            return ExitCode::from(2);
        }
    };
    let (ids, flow) = workload(instruments, orders, activity);
    let mut best = f64::MAX;
    let mut digest = 0;
    for _ in 0..passes {
        let mut books = BookGroup::new(ids.iter().map(|&id| OrderBook::new(id)).collect());
        let start = Instant::now();
        digest = replay(&mut books, black_box(&flow));
        best = best.min(start.elapsed().as_secs_f64());
        black_box(&books);
    }
    println!(
        "instruments {instruments} orders {orders} {activity:?}: commands {} best {:.2} M/s \
         ({:.1} ns a command) event-digest {digest:016x} rss {} KiB ({:.0} B a book)",
        flow.len(),
        flow.len() as f64 / best / 1e6,
        best * 1e9 / flow.len() as f64,
        rss_kib(),
        rss_kib() as f64 * 1024.0 / f64::from(instruments),
    );
    ExitCode::SUCCESS
}

/// The flow, each command with its book's index; new orders numbered 1, 2, 3, ...
fn workload(instruments: u32, orders: u64, activity: Activity) -> (Vec<Uuid>, Vec<(u32, Command)>) {
    let generator =
        FlowGenerator::new(GenConfig::new(1, instruments, orders).with_activity(activity));
    let ids = generator.instruments().to_vec();
    let slot: HashMap<Uuid, u32> = ids.iter().zip(0..).map(|(&id, n)| (id, n)).collect();
    let mut renumbering = IdRenumbering::new();
    let mut flow = Vec::new();
    for command in generator {
        let book = slot[&command.instrument_id()];
        let command = renumbering.renumber(command);
        flow.push((book, command));
    }
    (ids, flow)
}

/// Applies `flow` to `books` ([`BookGroup::apply_all`]: with many books, each command's
/// lines fetched a few commands ahead): the part callgrind collects. Returns a digest of
/// the events.
#[inline(never)]
fn replay(books: &mut BookGroup, flow: &[(u32, Command)]) -> u64 {
    let mut acc = 0u64;
    let commands = flow.iter().map(|(book, command)| (*book as usize, command));
    books
        .apply_all(commands, &mut |event: OrderbookResult| {
            acc = acc.rotate_left(5)
                ^ match event {
                    OrderbookResult::Trade { qty, price, .. } => qty ^ price as u64,
                    OrderbookResult::Accepted { qty, .. } => qty << 1,
                    OrderbookResult::Cancelled { .. } => 3,
                    _ => 1,
                };
        })
        .expect("the workload names only the group's books");
    acc
}

/// The resident set of this process in KiB (0 where /proc is missing).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
