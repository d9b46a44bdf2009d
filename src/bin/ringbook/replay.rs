//! `ringbook replay`: a flow file in, the event stream out.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use ringbook::flow::{FlowError, FlowReader, JsonlWriter, parse_id};
use ringbook::{DirectEngine, OrderbookResult, Uuid};

use crate::{Failure, output};

/// Arguments of `ringbook replay`.
#[derive(Args, Debug)]
pub(crate) struct ReplayArgs {
    /// The order-flow file (CSV, see FLOW-FORMAT.md); `-` reads stdin.
    flow: PathBuf,
    /// Register exactly these instruments (comma-separated UUIDs or decimal integers);
    /// ops on any other are rejected. By default every instrument named in the file is
    /// registered.
    #[arg(long, value_delimiter = ',', value_parser = parse_id)]
    instruments: Option<Vec<Uuid>>,
    /// Write the event stream here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Print a summary (commands, events by type, throughput) to stderr at the end.
    #[arg(long)]
    summary: bool,
}

/// Event types in the order the summary lists them.
const TYPES: [&str; 10] = [
    "accepted",
    "rejected",
    "trade",
    "cancelled",
    "expired",
    "modified",
    "halted",
    "resumed",
    "status",
    "snapshot",
];

/// The replay's event sink: numbers events, writes them, counts them, and keeps the
/// first write error (after which it stops writing).
struct EventOut {
    writer: JsonlWriter<Box<dyn Write>>,
    seq: u64,
    counts: [u64; TYPES.len()],
    error: Option<io::Error>,
}

impl EventOut {
    fn publish(&mut self, event: OrderbookResult) {
        if self.error.is_some() {
            return;
        }
        self.seq += 1;
        let name = event.type_name();
        if let Some(i) = TYPES.iter().position(|t| *t == name) {
            self.counts[i] += 1;
        }
        if let Err(e) = self.writer.write_event(self.seq, &event) {
            self.error = Some(e);
        }
    }
}

pub(crate) fn run(args: ReplayArgs) -> Result<(), Failure> {
    let input: Box<dyn BufRead> = if args.flow.as_os_str() == "-" {
        Box::new(BufReader::with_capacity(1 << 16, io::stdin().lock()))
    } else {
        let file = File::open(&args.flow)
            .map_err(|e| Failure::other(format!("cannot open {}: {e}", args.flow.display())))?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    let mut engine = match args.instruments {
        Some(list) => DirectEngine::new(list),
        None => DirectEngine::auto_registering(),
    };
    let mut out = EventOut {
        writer: JsonlWriter::new(output::open(args.output.as_deref())?),
        seq: 0,
        counts: [0; TYPES.len()],
        error: None,
    };
    let started = Instant::now();
    let mut commands = 0u64;
    let mut malformed = None;
    for item in FlowReader::new(input) {
        match item {
            Ok((_, command)) => {
                commands += 1;
                engine.apply(&command, &mut |e| out.publish(e));
                if out.error.is_some() {
                    break;
                }
            }
            Err(e) => {
                malformed = Some(e);
                break;
            }
        }
    }
    if out.error.is_none() {
        if let Err(e) = out.writer.flush() {
            out.error = Some(e);
        }
    }
    if let Some(e) = out.error.take() {
        output::write_failure("events", e)?;
    }
    if args.summary {
        print_summary(
            commands,
            &out,
            started.elapsed().as_secs_f64(),
            engine.registry().len(),
        );
    }
    match malformed {
        None => Ok(()),
        Some(e @ FlowError::Malformed { .. }) => Err(Failure::malformed(e.to_string())),
        Some(e) => Err(Failure::other(e.to_string())),
    }
}

fn print_summary(commands: u64, out: &EventOut, seconds: f64, instruments: usize) {
    let rate = if seconds > 0.0 {
        commands as f64 / seconds
    } else {
        0.0
    };
    eprintln!(
        "replayed {commands} commands on {instruments} instruments in {seconds:.3} s ({:.2} M commands/s), {} events",
        rate / 1e6,
        out.seq
    );
    let parts: Vec<String> = TYPES
        .iter()
        .zip(out.counts)
        .filter(|(_, n)| *n > 0)
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    eprintln!("events: {}", parts.join(", "));
}
