//! The engine flags every subcommand that runs the pipeline shares.

use clap::Args;
use ringbook::{ManagerConfig, Stages, WaitStrategy, parse_core_list};

/// Pipeline settings: consumer threads, wait strategy, pinning, ring sizes.
#[derive(Args, Debug, Clone)]
pub(crate) struct EngineArgs {
    /// Book consumer threads (each owns a share of the books), 1 to 64.
    #[arg(long, global = true, default_value_t = 1, value_name = "N", value_parser = parse_consumers)]
    pub(crate) consumers: usize,
    /// How idle pipeline threads wait: auto (the default: block when the sequencer, the
    /// book consumers, the event manager and the caller outnumber the cores they may use,
    /// i.e. --cores or all this process may run on, busy-spin when each has a core of its
    /// own), block (spin briefly, yield twice, then park until work arrives;
    /// block:SPINS:YIELDS to tune it), busy-spin (needs a core per thread), yield (spin,
    /// yield, then sleep) or sleep.
    #[arg(long, global = true, default_value = "auto", value_name = "STRATEGY")]
    pub(crate) wait: WaitStrategy,
    /// How the stages map onto threads: auto (the default: one thread runs the sequencer,
    /// the book consumer and the event manager, batch by batch, when with one consumer
    /// they would share cores; a thread each otherwise), pipelined (a thread per stage)
    /// or fused (one engine thread; takes one consumer).
    #[arg(long, global = true, default_value = "auto", value_name = "LAYOUT")]
    pub(crate) stages: Stages,
    /// Pin the sequencer, the book consumers and the event manager to these cores, in
    /// that order (e.g. `0,1` or `0-3`).
    #[arg(long, global = true, value_parser = parse_cores, value_name = "LIST")]
    pub(crate) cores: Option<CoreList>,
    /// Slots in every ring: a power of two from 64 to 4,194,304 (and all books' inbound
    /// rings together at most 16,777,216 slots); default: 8,192 for ingress and outbound,
    /// and a per-book size that shrinks as instruments grow (8,192 to 256).
    #[arg(long, global = true, value_name = "N", value_parser = parse_ring_size)]
    pub(crate) ring_size: Option<usize>,
}

/// A parsed `--cores` list (a newtype: clap takes a bare `Vec` for a repeated flag).
#[derive(Clone, Debug)]
pub(crate) struct CoreList(pub(crate) Vec<usize>);

fn parse_cores(text: &str) -> Result<CoreList, String> {
    parse_core_list(text)
        .map(CoreList)
        .map_err(|e| e.to_string())
}

/// `--consumers`: a count from 1 to [`ManagerConfig::MAX_CONSUMERS`].
fn parse_consumers(text: &str) -> Result<usize, String> {
    let max = ManagerConfig::MAX_CONSUMERS;
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a number of threads from 1 to {max}",)),
    }
}

/// `--ring-size`: a power of two from [`ManagerConfig::MIN_RING_SIZE`] to
/// [`ManagerConfig::MAX_RING_SIZE`].
fn parse_ring_size(text: &str) -> Result<usize, String> {
    let (min, max) = (ManagerConfig::MIN_RING_SIZE, ManagerConfig::MAX_RING_SIZE);
    match text.parse::<u64>() {
        Ok(n) if n.is_power_of_two() && (min as u64..=max as u64).contains(&n) => Ok(n as usize),
        _ => Err(format!("expected a power of two from {min} to {max} slots",)),
    }
}

impl EngineArgs {
    /// The manager configuration these flags describe.
    pub(crate) fn config(&self) -> ManagerConfig {
        let config = ManagerConfig::default()
            .with_consumers(self.consumers)
            .with_wait_strategy(self.wait)
            .with_stages(self.stages)
            .with_cores(self.cores.as_ref().map(|c| c.0.clone()));
        match self.ring_size {
            Some(size) => config.with_ring_size(size),
            None => config,
        }
    }
}
