//! `ringbook replay`: a flow file in, the event stream out, through the pipeline (or, with
//! `--engine direct`, every book on this thread).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::{Args, ValueEnum};
use parking_lot::Mutex;
use ringbook::flow::{
    FLOW_HEADER, FlowError, FlowReader, InstrumentsError, InstrumentsFileError, JsonlWriter,
    LONG_FLOW_HEADER, UTF8_BOM, parse_id, read_instruments_file,
};
use ringbook::{
    Command, CounterSnapshot, CountingSubscriber, DirectEngine, OrderbookManagerService,
    OrderbookManagerServiceImpl, OrderbookResult, PublishedEvent, Subscriber, Uuid,
};

use crate::engine_args::EngineArgs;
use crate::journal_args::JournalArgs;
use crate::{Failure, output};

/// Which engine runs the flow.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Engine {
    /// The ring pipeline (sequencer, book consumers, event manager).
    Pipeline,
    /// Every book on the reading thread, strictly in input order (the reference).
    Direct,
}

/// Arguments of `ringbook replay`.
#[derive(Args, Debug)]
pub(crate) struct ReplayArgs {
    /// The order-flow file (CSV, see docs/FLOW-FORMAT.md); `-` reads stdin.
    flow: PathBuf,
    /// Register exactly these instruments (comma-separated UUIDs or decimal integers);
    /// ops on any other are rejected. By default every instrument named in the file is
    /// registered.
    #[arg(long, value_delimiter = ',', value_parser = parse_id)]
    instruments: Option<Vec<Uuid>>,
    /// Register exactly the instruments listed in this file, one per line (`id` or
    /// `id,symbol`; blank lines, `#` comments and an `id,symbol` header allowed): for
    /// lists too long for a command line. Not with --instruments.
    #[arg(long, value_name = "PATH", conflicts_with = "instruments")]
    instruments_file: Option<PathBuf>,
    /// Write the event stream here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Print a summary (commands, events by type, throughput; with the pipeline, its
    /// full-ring waits) to stderr at the end.
    #[arg(long)]
    summary: bool,
    /// The engine that runs the flow.
    #[arg(long, value_enum, default_value = "pipeline")]
    engine: Engine,
    #[command(flatten)]
    journal: JournalArgs,
}

/// The event stream writer, shared by both engines: it writes numbered events and keeps
/// the first write error (after which it writes nothing more).
struct StreamOut {
    writer: JsonlWriter<Box<dyn Write + Send>>,
    error: Arc<Mutex<Option<io::Error>>>,
    /// Set by the reader once it has read a long-form header (before the first command):
    /// `status` and `snapshot` then carry the long form's fields.
    long_form: Arc<AtomicBool>,
}

impl StreamOut {
    fn write(&mut self, seq: u64, event: &OrderbookResult) {
        if matches!(
            event,
            OrderbookResult::Status { .. } | OrderbookResult::Snapshot { .. }
        ) {
            self.writer
                .set_long_form(self.long_form.load(Ordering::Relaxed));
        }
        let mut error = self.error.lock();
        if error.is_none()
            && let Err(e) = self.writer.write_event(seq, event)
        {
            *error = Some(e);
        }
    }

    fn flush(&mut self) {
        let mut error = self.error.lock();
        if error.is_none()
            && let Err(e) = self.writer.flush()
        {
            *error = Some(e);
        }
    }
}

impl Subscriber for StreamOut {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        self.write(event.seq, event.result);
    }

    fn finish(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.flush();
        Ok(())
    }

    fn name(&self) -> &str {
        "jsonl"
    }
}

/// A temporary copy of stdin, removed when dropped.
struct Spooled(PathBuf);

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub(crate) fn run(mut args: ReplayArgs, engine_args: &EngineArgs) -> Result<(), Failure> {
    if let Some(path) = &args.instruments_file {
        args.instruments = Some(instruments_of_file(path)?);
    }
    let journal = args.journal.options();
    if journal.is_some() && matches!(args.engine, Engine::Direct) {
        return Err(Failure::other("--journal needs the pipeline engine"));
    }
    let stdin = args.flow.as_os_str() == "-";
    let needs_scan = args.instruments.is_none() && matches!(args.engine, Engine::Pipeline);
    // The pipeline registers instruments up front; to find them, stdin is spooled to disk
    // so the flow still streams and may be larger than memory.
    let spooled = if stdin && needs_scan {
        Some(spool_stdin()?)
    } else {
        None
    };
    let path: &Path = spooled
        .as_ref()
        .map_or(args.flow.as_path(), |s| s.0.as_path());
    let open = |path: &Path| -> Result<Box<dyn BufRead>, Failure> {
        if stdin && spooled.is_none() {
            return Ok(Box::new(BufReader::with_capacity(1 << 16, io::stdin())));
        }
        let file = File::open(path)
            .map_err(|e| Failure::other(format!("cannot open {}: {e}", args.flow.display())))?;
        Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
    };
    let error = Arc::new(Mutex::new(None));
    let long_form = Arc::new(AtomicBool::new(false));
    let mut out = StreamOut {
        writer: JsonlWriter::new(output::open(args.output.as_deref())?),
        error: Arc::clone(&error),
        long_form: Arc::clone(&long_form),
    };
    let started = Instant::now();
    let (commands, malformed, counts, instruments) = match args.engine {
        Engine::Direct => {
            let mut engine = match args.instruments {
                Some(list) => DirectEngine::new(list),
                None => DirectEngine::auto_registering(),
            };
            let mut counting = CountingSubscriber::new();
            let counters = counting.counters();
            let mut seq = 0u64;
            let (commands, malformed) = feed(open(path)?, &error, &long_form, |command| {
                engine.apply(&command, &mut |event| {
                    seq += 1;
                    let published = PublishedEvent {
                        seq,
                        input_seq: 0,
                        timestamp_ns: 0,
                        result: &event,
                    };
                    counting.on_event(&published);
                    out.write(seq, &event);
                });
                Ok(())
            })?;
            out.flush();
            if args.summary {
                eprintln!("state hash: {:016x}", engine.state_hash());
            }
            (
                commands,
                malformed,
                counters.snapshot(),
                engine.registry().len(),
            )
        }
        Engine::Pipeline => {
            let instruments = match args.instruments {
                Some(list) => list,
                None => scan_instruments(open(path)?),
            };
            let counting = CountingSubscriber::new();
            let counters = counting.counters();
            let mut config = engine_args.config();
            config.publish_timeout = None;
            config.journal = journal;
            let manager = OrderbookManagerServiceImpl::builder(instruments)
                .config(config)
                .subscriber(out)
                .subscriber(counting)
                .build()
                .map_err(|e| Failure::other(e.to_string()))?;
            manager.start().map_err(|e| Failure::other(e.to_string()))?;
            let fed = feed(open(path)?, &error, &long_form, |command| {
                match manager.submit(command) {
                    // Refused by the caller's checks: the reject is in the stream already.
                    Err(e) if !e.is_rejected_command() => Err(Failure::other(e.to_string())),
                    _ => Ok(()),
                }
            });
            let stopped = manager.stop();
            let (commands, malformed) = fed?;
            stopped.map_err(|e| Failure::other(e.to_string()))?;
            let registered = manager.registry().len();
            if args.summary {
                if let Some(info) = manager.recovery().filter(|info| info.last_seq > 0) {
                    eprintln!(
                        "recovered: last seq {}, {} journal records replayed, state hash {:016x}",
                        info.last_seq, info.replayed, info.state_hash
                    );
                }
                if let Some(hash) = manager.state_hash() {
                    eprintln!("state hash: {hash:016x}");
                }
                eprintln!("{}", manager.backpressure());
            }
            (commands, malformed, counters.snapshot(), registered)
        }
    };
    if let Some(e) = error.lock().take() {
        output::write_failure("events", e)?;
    }
    if args.summary {
        print_summary(
            commands,
            &counts,
            started.elapsed().as_secs_f64(),
            instruments,
        );
    }
    match malformed {
        None => Ok(()),
        Some(e @ FlowError::Malformed { .. }) => Err(Failure::malformed(e.to_string())),
        Some(e) => Err(Failure::other(e.to_string())),
    }
}

/// The instruments listed in an instruments file; a file that breaks the format is a
/// malformed input.
pub(crate) fn instruments_of_file(path: &Path) -> Result<Vec<Uuid>, Failure> {
    match read_instruments_file(path) {
        Ok(entries) => Ok(entries.into_iter().map(|entry| entry.id).collect()),
        Err(e @ InstrumentsFileError::Open { .. })
        | Err(
            e @ InstrumentsFileError::Content {
                source: InstrumentsError::Io { .. },
                ..
            },
        ) => Err(Failure::other(e.to_string())),
        Err(e) => Err(Failure::malformed(e.to_string())),
    }
}

/// Reads commands and hands each to `apply` until the end, a malformed line, or a write
/// error; sets `long_form` before the first command of a long-form file. Returns the
/// number of commands and the flow error that ended it, if any.
fn feed(
    input: Box<dyn BufRead>,
    write_error: &Mutex<Option<io::Error>>,
    long_form: &AtomicBool,
    mut apply: impl FnMut(Command) -> Result<(), Failure>,
) -> Result<(u64, Option<FlowError>), Failure> {
    let mut commands = 0u64;
    let mut reader = FlowReader::new(input);
    loop {
        let item = reader.next_command().transpose();
        let Some(item) = item else { break };
        match item {
            Ok((_, command)) => {
                if commands == 0 {
                    long_form.store(reader.is_long_form(), Ordering::Relaxed);
                }
                commands += 1;
                apply(command)?;
                // A closed output ends the run; checked now and then, not per line.
                if commands.is_multiple_of(4096) && write_error.lock().is_some() {
                    break;
                }
            }
            Err(e) => return Ok((commands, Some(e))),
        }
    }
    Ok((commands, None))
}

/// The instruments a flow names, in order of first appearance. Lines that do not parse
/// are skipped here: the replay itself reports them.
fn scan_instruments(input: Box<dyn BufRead>) -> Vec<Uuid> {
    let mut seen = std::collections::HashSet::new();
    let mut instruments = Vec::new();
    let mut header_seen = false;
    for (index, line) in input.split(b'\n').enumerate() {
        let Ok(line) = line else { break };
        let line = match line.strip_prefix(UTF8_BOM) {
            Some(rest) if index == 0 => rest,
            _ => &line[..],
        };
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() || text.starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = text == FLOW_HEADER || text == LONG_FLOW_HEADER;
            if !header_seen {
                break;
            }
            continue;
        }
        if let Some(Ok(id)) = text.split(',').nth(1).map(parse_id)
            && seen.insert(id)
        {
            instruments.push(id);
        }
    }
    instruments
}

fn spool_stdin() -> Result<Spooled, Failure> {
    let path = std::env::temp_dir().join(format!(
        "ringbook-stdin-{}-{}.csv",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let spooled = Spooled(path);
    let mut file = File::create(&spooled.0).map_err(|e| {
        Failure::other(format!(
            "cannot spool stdin to {}: {e}",
            spooled.0.display()
        ))
    })?;
    io::copy(&mut io::stdin().lock(), &mut file)
        .map_err(|e| Failure::other(format!("cannot spool stdin: {e}")))?;
    Ok(spooled)
}

fn print_summary(commands: u64, counts: &CounterSnapshot, seconds: f64, instruments: usize) {
    let rate = if seconds > 0.0 {
        commands as f64 / seconds
    } else {
        0.0
    };
    eprintln!(
        "replayed {commands} commands on {instruments} instruments in {seconds:.3} s ({:.2} M commands/s), {} events",
        rate / 1e6,
        counts.total()
    );
    let parts: Vec<String> = counts
        .by_type()
        .into_iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    eprintln!("events: {}", parts.join(", "));
}
