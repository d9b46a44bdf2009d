//! `ringbook gen`: write a seeded synthetic flow file.

use std::path::{Path, PathBuf};

use clap::Args;
use std::collections::HashMap;

use ringbook::flow::{
    FlowGenerator, GenConfig, MarketConfig, MarketGenerator, MarketRegime, with_instrument,
    write_flow_header, write_flow_line,
};
use ringbook::{Command, Uuid};

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
    /// Default 100,000; with --market, 1,000,000 (about 2 M commands).
    #[arg(long)]
    orders: Option<u64>,
    /// Write one instrument's market-shaped flow instead, in this regime: static, normal,
    /// swing-25, swing-40 or flash-crash (see `MarketGenerator`). Its instrument is
    /// 00000000-0000-4000-8000-000000033504. Not with --instruments or --instruments-file.
    #[arg(long, value_name = "REGIME", conflicts_with_all = ["instruments", "instruments_file"])]
    market: Option<MarketRegime>,
    /// Write the flow here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// The most instruments `gen` spreads a flow over: 1,048,576.
const MAX_GEN_INSTRUMENTS: u32 = 1 << 20;

pub(crate) fn run(args: GenArgs) -> Result<(), Failure> {
    if let Some(regime) = args.market {
        let config = MarketConfig {
            seed: args.seed,
            regime,
            orders: args.orders.unwrap_or(MarketConfig::default().orders),
            ..MarketConfig::default()
        };
        return write(args.output.as_deref(), MarketGenerator::new(config));
    }
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
    let config = GenConfig::new(args.seed, instruments, args.orders.unwrap_or(100_000));
    let generator = FlowGenerator::new(config);
    let rename: Option<HashMap<Uuid, Uuid>> =
        named.map(|ids| generator.instruments().iter().copied().zip(ids).collect());
    let commands = generator.into_iter().map(|command| match &rename {
        Some(rename) => with_instrument(command, rename[&command.instrument_id()]),
        None => command,
    });
    write(args.output.as_deref(), commands)
}

/// Writes a flow file of `commands` to `path` (stdout without one).
fn write(path: Option<&Path>, mut commands: impl Iterator<Item = Command>) -> Result<(), Failure> {
    let mut out = output::open(path)?;
    let written = write_flow_header(&mut out)
        .and_then(|()| commands.try_for_each(|command| write_flow_line(&mut out, &command)));
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => output::write_failure("the flow", e),
    }
}
