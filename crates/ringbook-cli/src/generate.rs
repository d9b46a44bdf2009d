//! `ringbook gen`: write a seeded synthetic flow file.

use std::path::PathBuf;

use clap::Args;
use std::collections::HashMap;

use ringbook::Uuid;
use ringbook::flow::{
    FlowGenerator, GenConfig, with_instrument, write_flow_header, write_flow_line,
};

use crate::{Failure, output};

/// Arguments of `ringbook gen`.
#[derive(Args, Debug)]
pub(crate) struct GenArgs {
    /// The seed: the same seed (and options) gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many instruments the flow trades, 1 to 1,048,576.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_GEN_INSTRUMENTS)))]
    instruments: u32,
    /// Trade the instruments listed in this file instead (one id per line, optionally
    /// `id,symbol`; see `replay --instruments-file`). Not with --instruments.
    #[arg(long, value_name = "PATH", conflicts_with = "instruments")]
    instruments_file: Option<PathBuf>,
    /// How many new orders (adds) to generate; cancels, modifies and the rest come on top.
    #[arg(long, default_value_t = 100_000)]
    orders: u64,
    /// Write the flow here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// The most instruments `gen` spreads a flow over: 1,048,576.
const MAX_GEN_INSTRUMENTS: u32 = 1 << 20;

pub(crate) fn run(args: GenArgs) -> Result<(), Failure> {
    let named = match &args.instruments_file {
        Some(path) => Some(crate::replay::instruments_of_file(path)?),
        None => None,
    };
    let instruments = match &named {
        Some(ids) => u32::try_from(ids.len())
            .ok()
            .filter(|&n| n <= MAX_GEN_INSTRUMENTS)
            .ok_or_else(|| {
                Failure::other(format!(
                    "{} lists {} instruments: at most {MAX_GEN_INSTRUMENTS}",
                    args.instruments_file
                        .as_ref()
                        .map_or("".into(), |p| p.display().to_string()),
                    ids.len()
                ))
            })?,
        None => args.instruments,
    };
    let config = GenConfig::new(args.seed, instruments, args.orders);
    let generator = FlowGenerator::new(config);
    let rename: Option<HashMap<Uuid, Uuid>> =
        named.map(|ids| generator.instruments().iter().copied().zip(ids).collect());
    let mut out = output::open(args.output.as_deref())?;
    let written = write_flow_header(&mut out).and_then(|()| {
        generator.into_iter().try_for_each(|command| {
            let command = match &rename {
                Some(rename) => {
                    let id = rename[&command.instrument_id()];
                    with_instrument(command, id)
                }
                None => command,
            };
            write_flow_line(&mut out, &command)
        })
    });
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => output::write_failure("the flow", e),
    }
}
