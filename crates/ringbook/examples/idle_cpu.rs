//! What an idle engine costs: starts a manager over 8 instruments with the default
//! configuration (or the wait strategy named on the command line), sends nothing, and
//! prints the process's CPU time over 5 seconds (after a second to settle) as a share of
//! one core, with the wait strategy its threads use. Linux only (it reads
//! `/proc/self/stat`).
//!
//! Run it with `cargo run --release --example idle_cpu [auto|block|yield|sleep|busy-spin]`.

use std::time::Duration;

use ringbook::{
    ManagerConfig, OrderbookManagerError, OrderbookManagerService, OrderbookManagerServiceImpl,
    Uuid, WaitStrategy,
};

/// This process's user and system CPU time in clock ticks (`/proc/self/stat` fields 14
/// and 15; 100 ticks a second on Linux).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

fn main() -> Result<(), OrderbookManagerError> {
    let wait = match std::env::args()
        .nth(1)
        .map(|name| name.parse::<WaitStrategy>())
    {
        None => WaitStrategy::default(),
        Some(Ok(wait)) => wait,
        Some(Err(error)) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    };
    let config = ManagerConfig::default().with_wait_strategy(wait);
    let used: Vec<String> = config
        .effective_wait_strategies(8)
        .iter()
        .map(ToString::to_string)
        .collect();
    let threads = if config.fuses_stages(8) {
        "the engine thread (stages fused) uses"
    } else {
        "the threads (sequencer, book consumer, event manager) use"
    };
    println!("wait {wait}: {threads} {}", used.join(", "));
    let manager = OrderbookManagerServiceImpl::builder((1..=8).map(Uuid::from_u128))
        .config(config)
        .build()?;
    manager.start()?;
    std::thread::sleep(Duration::from_secs(1));
    let Some(before) = cpu_ticks() else {
        eprintln!("cannot read /proc/self/stat: this example needs Linux");
        return manager.stop();
    };
    std::thread::sleep(Duration::from_secs(5));
    let used_ms = (cpu_ticks().unwrap_or(before) - before) * 10;
    println!(
        "idle engine: {used_ms} ms of CPU over 5 s, {:.2}% of a core (10 ms resolution)",
        used_ms as f64 / 50.0
    );
    manager.stop()
}
