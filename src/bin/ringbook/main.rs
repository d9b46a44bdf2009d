//! `ringbook`: replay order flow through the engine, generate flows, benchmark.

mod output;
mod replay;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Ringbook: a multi-instrument order-book manager for latency-critical engines.
#[derive(Parser, Debug)]
#[command(name = "ringbook", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand, Debug)]
enum Commands {
    /// Run an order-flow file through the engine and write the event stream (JSON Lines).
    Replay(replay::ReplayArgs),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Commands::Replay(args) => replay::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}
