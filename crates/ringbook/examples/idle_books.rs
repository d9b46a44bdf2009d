//! What a registered book costs while it is idle: starts a manager over N instruments
//! (10,000 by default, or the first argument) with the default configuration, sends
//! nothing, and prints the process's resident memory (`VmRSS`) before the manager was
//! built and once it runs, divided by the number of books. Linux only (it reads
//! `/proc/self/status`).
//!
//! Run it with `cargo run --release --example idle_books -- 10000`.

use std::process::ExitCode;
use std::time::Duration;

use ringbook::{OrderbookManagerService, OrderbookManagerServiceImpl, Uuid};

/// This process's resident set in bytes (`VmRSS` of `/proc/self/status`).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() -> ExitCode {
    let books: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 10_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: idle_books [BOOKS]: BOOKS a number of books, at least 1");
            return ExitCode::FAILURE;
        }
    };
    let Some(before) = rss_bytes() else {
        eprintln!("cannot read /proc/self/status: this example needs Linux");
        return ExitCode::FAILURE;
    };
    let manager =
        OrderbookManagerServiceImpl::new((1..=u128::from(books)).map(|n| Uuid::from_u128(n << 64)));
    if let Err(error) = manager.start() {
        eprintln!("cannot start the manager: {error}");
        return ExitCode::FAILURE;
    }
    std::thread::sleep(Duration::from_millis(500));
    let running = rss_bytes().unwrap_or(before);
    println!(
        "{books} idle books: process RSS {:.1} MB ({} bytes a book); the manager added {:.1} MB ({} bytes a book)",
        running as f64 / 1e6,
        running / books,
        running.saturating_sub(before) as f64 / 1e6,
        running.saturating_sub(before) / books,
    );
    match manager.stop() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cannot stop the manager: {error}");
            ExitCode::FAILURE
        }
    }
}
