//! `ringbook gen`: write a seeded synthetic flow file.

use std::path::{Path, PathBuf};

use clap::Args;
use std::collections::HashMap;

use ringbook::flow::{
    FlowGenerator, GenConfig, LongFormMix, MarketConfig, MarketGenerator, MarketRegime,
    with_instrument, write_flow_header, write_flow_line, write_long_flow_header,
    write_long_flow_line,
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
    /// Write the long form (eleven columns): stop and stop-limit orders, icebergs, owners
    /// with self-trade prevention, and mass cancels. By default 10% of the adds are stops,
    /// 10% of the passive orders icebergs, half the orders have one of 16 owners, all of
    /// those with a self-trade-prevention mode, and 50 in a million commands are a mass
    /// cancel; the options below change the shares. Every book is emptied by a mass cancel
    /// at the end. Not with --market.
    #[arg(long, conflicts_with = "market")]
    long_form: bool,
    /// With --long-form: the percentage of adds that are stop or stop-limit orders.
    #[arg(long, requires = "long_form", value_parser = clap::value_parser!(u32).range(0..=100))]
    stop_percent: Option<u32>,
    /// With --long-form: the percentage of passive limit and post-only orders that are
    /// icebergs (showing a third to a fifth of their quantity).
    #[arg(long, requires = "long_form", value_parser = clap::value_parser!(u32).range(0..=100))]
    iceberg_percent: Option<u32>,
    /// With --long-form: the percentage of orders with an owner.
    #[arg(long, requires = "long_form", value_parser = clap::value_parser!(u32).range(0..=100))]
    owner_percent: Option<u32>,
    /// With --long-form: the percentage of owned orders with a self-trade-prevention mode
    /// (cancel_newest, cancel_oldest or cancel_both, equally often).
    #[arg(long, requires = "long_form", value_parser = clap::value_parser!(u32).range(0..=100))]
    stp_percent: Option<u32>,
    /// With --long-form: how many accounts own orders.
    #[arg(long, requires = "long_form", value_parser = clap::value_parser!(u32).range(1..))]
    owners: Option<u32>,
    /// With --long-form: mass cancels of one owner's orders per million commands.
    #[arg(long, requires = "long_form", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    mass_cancel_per_million: Option<u32>,
    /// Write the flow here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

impl GenArgs {
    /// The long-form mix the options ask for, `None` without --long-form.
    fn long_form(&self) -> Option<LongFormMix> {
        if !self.long_form {
            return None;
        }
        let standard = LongFormMix::standard();
        let permille = |percent: Option<u32>, default: u32| percent.map_or(default, |p| p * 10);
        Some(LongFormMix {
            stop_permille: permille(self.stop_percent, standard.stop_permille),
            iceberg_permille: permille(self.iceberg_percent, standard.iceberg_permille),
            owner_permille: permille(self.owner_percent, standard.owner_permille),
            stp_permille: permille(self.stp_percent, standard.stp_permille),
            owners: self.owners.unwrap_or(standard.owners),
            mass_cancel_per_million: self
                .mass_cancel_per_million
                .unwrap_or(standard.mass_cancel_per_million),
        })
    }
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
        return write(args.output.as_deref(), false, MarketGenerator::new(config));
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
    let long_form = args.long_form();
    let config = GenConfig::new(args.seed, instruments, args.orders.unwrap_or(100_000))
        .with_long_form(long_form);
    let generator = FlowGenerator::new(config);
    let rename: Option<HashMap<Uuid, Uuid>> =
        named.map(|ids| generator.instruments().iter().copied().zip(ids).collect());
    let commands = generator.into_iter().map(|command| match &rename {
        Some(rename) => with_instrument(command, rename[&command.instrument_id()]),
        None => command,
    });
    write(args.output.as_deref(), long_form.is_some(), commands)
}

/// Writes a flow file of `commands` to `path` (stdout without one), in the long form when
/// `long`.
fn write(
    path: Option<&Path>,
    long: bool,
    mut commands: impl Iterator<Item = Command>,
) -> Result<(), Failure> {
    let mut out = output::open(path)?;
    let written = if long {
        write_long_flow_header(&mut out).and_then(|()| {
            commands.try_for_each(|command| write_long_flow_line(&mut out, &command))
        })
    } else {
        write_flow_header(&mut out)
            .and_then(|()| commands.try_for_each(|command| write_flow_line(&mut out, &command)))
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => output::write_failure("the flow", e),
    }
}
