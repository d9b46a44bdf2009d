//! `ringbook`: replay order flow through the engine, generate flows, benchmark.

mod bench;
mod client;
mod engine_args;
mod feed;
mod feed_view;
mod generate;
mod journal_args;
mod output;
mod recover;
mod replay;
mod serve;
mod serve_feed;
mod serve_signals;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Ringbook: a multi-instrument order-book manager for latency-critical engines.
#[derive(Parser, Debug)]
#[command(name = "ringbook", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
    /// Log level for stderr: off, error, warn, info, debug or trace, or a list of
    /// `target=level` directives (`warn,ringbook=debug`); RUST_LOG overrides it.
    #[arg(long, global = true, default_value = "warn", value_name = "LEVEL",
          value_parser = parse_log_level)]
    log_level: String,
    #[command(flatten)]
    engine: engine_args::EngineArgs,
}

#[derive(Subcommand, Debug)]
enum Commands {
    /// Run an order-flow file through the engine and write the event stream (JSON Lines).
    Replay(replay::ReplayArgs),
    /// Benchmark the engine on an embedded generated workload: throughput and latency
    /// percentiles, optionally against the original design (--baseline).
    Bench(bench::BenchArgs),
    /// Write a seeded synthetic order-flow file.
    Gen(generate::GenArgs),
    /// Rebuild the engine from a journal directory (newest valid snapshot, then the
    /// journal after it) and print the state hash and every book's status.
    Recover(recover::RecoverArgs),
    /// Join an ITCH 5.0 market-data feed (MoldUDP64), rebuild and show every book,
    /// recover gaps by re-requests, start from a GLIMPSE snapshot, verify at the end.
    Feed(feed::FeedArgs),
    /// Inspect a journal directory.
    #[command(subcommand)]
    Journal(journal_args::JournalCommand),
    /// Run the engine behind OUCH 5.0 order entry over SoupBinTCP 4.0 until SIGINT or
    /// SIGTERM.
    Serve(serve::ServeArgs),
    /// Load an OUCH server: N sessions send a generated flow open loop at a rate;
    /// wire-to-wire latency percentiles.
    Client(client::ClientArgs),
}

/// How a command failed: the message for stderr and the exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) status: u8,
}

impl Failure {
    /// A malformed input (exit status 2).
    pub(crate) fn malformed(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 2,
        }
    }

    /// Any other failure (exit status 1).
    pub(crate) fn other(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 1,
        }
    }
}

/// The level names `--log-level` takes.
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// `--log-level`: a level name, or comma-separated directives each a level name or
/// `target=level`. (A bare word is a valid filter directive, a target at any level, so
/// `bogus` would silently log everything of a target that does not exist.)
fn parse_log_level(text: &str) -> Result<String, String> {
    let is_level = |word: &str| LOG_LEVELS.contains(&word.to_ascii_lowercase().as_str());
    let valid = !text.is_empty()
        && text
            .split(',')
            .all(|directive| match directive.split_once('=') {
                None => is_level(directive),
                Some((target, level)) => !target.is_empty() && is_level(level),
            })
        && EnvFilter::try_new(text).is_ok();
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!(
            "expected one of {} or target=level directives",
            LOG_LEVELS.join(", ")
        ))
    }
}

fn init_logging(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_thread_names(true)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_level);
    let result = match cli.command {
        Commands::Replay(args) => replay::run(args, &cli.engine),
        Commands::Gen(args) => generate::run(args),
        Commands::Recover(args) => recover::run(args),
        Commands::Journal(command) => journal_args::run(command),
        Commands::Bench(args) => bench::run_bench(args, &cli.engine),
        Commands::Feed(args) => feed::run(args),
        Commands::Serve(args) => serve::run(args, &cli.engine),
        Commands::Client(args) => client::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}
