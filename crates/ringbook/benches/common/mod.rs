//! What the book's benches share: the market flows they replay and the fold that keeps the
//! optimiser from discarding events. (A subdirectory of `benches/`, so not a bench target
//! of its own.)

use ringbook::flow::{MarketConfig, MarketGenerator, MarketRegime};
use ringbook::{Command, OrderbookResult, Uuid};

/// A cheap fold of an event that the optimiser cannot see through.
#[inline]
pub(crate) fn fold(event: &OrderbookResult) -> u64 {
    match *event {
        OrderbookResult::Trade { qty, .. } => qty,
        OrderbookResult::Accepted { qty, .. } => qty << 1,
        _ => 1,
    }
}

/// The instrument and commands of `regime`'s market flow: seed 1, `orders` new orders.
pub(crate) fn market_flow(regime: MarketRegime, orders: u64) -> (Uuid, Vec<Command>) {
    let config = MarketConfig {
        seed: 1,
        regime,
        orders,
        ..MarketConfig::default()
    };
    (config.instrument, MarketGenerator::new(config).collect())
}
