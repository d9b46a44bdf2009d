//! The book alone on the generated flow, plain and with the long form's standard mix
//! (issue 22: 10% stops, 10% icebergs, owners with self-trade prevention on half the
//! orders, rare mass cancels): commands per second of each, best of N passes on a fresh
//! book, and their ratio.
//!
//! ```sh
//! cargo run --release -p ringbook --example long_form_replay -- [COMMANDS [PASSES [ONLY]]]
//! ```
//!
//! Under callgrind, `--toggle-collect='long_form_replay::replay'` counts the book's
//! instructions only.

use std::hint::black_box;
use std::time::Instant;

use ringbook::flow::{FlowGenerator, GenConfig, LongFormMix};
use ringbook::{Command, OrderBook, OrderbookResult, Uuid};

/// One instrument's flow of `commands` commands (seed 42, as the book bench), with `mix`.
fn flow(commands: usize, mix: Option<LongFormMix>) -> (Uuid, Vec<Command>) {
    let generator = FlowGenerator::new(GenConfig::new(42, 1, 600_000).with_long_form(mix));
    let instrument = generator.instruments()[0];
    (instrument, generator.take(commands).collect())
}

/// Applies `commands` to a fresh book; returns the events and a fold of them.
#[inline(never)]
fn replay(instrument: Uuid, commands: &[Command]) -> (u64, u64) {
    let mut book = OrderBook::new(instrument);
    let mut events = 0u64;
    let mut fold = 0u64;
    let mut sink = |e: OrderbookResult| {
        events += 1;
        fold = fold.wrapping_add(match e {
            OrderbookResult::Trade { qty, .. } => qty,
            other => other.type_name().len() as u64,
        });
    };
    for command in commands {
        book.apply(black_box(command), &mut sink);
    }
    black_box(&book);
    (events, fold)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let commands: usize = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("COMMANDS"));
    let passes: usize = args.next().map_or(5, |a| a.parse().expect("PASSES"));
    // `plain` or `long-form` runs that flow alone (to count one under callgrind).
    let only = args.next();
    let mut rates = Vec::new();
    for (name, mix) in [
        ("plain", None),
        ("long-form", Some(LongFormMix::standard())),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let (instrument, commands) = flow(commands, mix);
        let mut best = f64::MAX;
        let mut result = (0, 0);
        for _ in 0..passes {
            let started = Instant::now();
            result = replay(instrument, &commands);
            best = best.min(started.elapsed().as_secs_f64());
        }
        let rate = commands.len() as f64 / best;
        println!(
            "{name}: {} commands, {} events (fold {}), best of {passes}: {:.2} M commands/s",
            commands.len(),
            result.0,
            result.1,
            rate / 1e6
        );
        rates.push(rate);
    }
    if let [plain, long] = rates[..] {
        println!("long-form / plain: {:.0}%", long / plain * 100.0);
    }
}
