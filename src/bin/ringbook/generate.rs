//! `ringbook gen`: write a seeded synthetic flow file.

use std::path::PathBuf;

use clap::Args;
use ringbook::flow::{FlowGenerator, GenConfig, write_flow_header, write_flow_line};

use crate::{Failure, output};

/// Arguments of `ringbook gen`.
#[derive(Args, Debug)]
pub(crate) struct GenArgs {
    /// The seed: the same seed (and options) gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many instruments the flow trades.
    #[arg(long, default_value_t = 8)]
    instruments: u32,
    /// How many new orders (adds) to generate; cancels, modifies and the rest come on top.
    #[arg(long, default_value_t = 100_000)]
    orders: u64,
    /// Write the flow here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: GenArgs) -> Result<(), Failure> {
    if args.instruments == 0 {
        return Err(Failure::other("--instruments must be at least 1"));
    }
    let config = GenConfig {
        seed: args.seed,
        instruments: args.instruments,
        orders: args.orders,
        ..GenConfig::default()
    };
    let mut out = output::open(args.output.as_deref())?;
    let written = write_flow_header(&mut out).and_then(|()| {
        FlowGenerator::new(config).try_for_each(|command| write_flow_line(&mut out, &command))
    });
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => output::write_failure("the flow", e),
    }
}
