//! The settings of a generated flow ([`GenConfig`]), built from the defaults with
//! `with_*` setters.

use super::activity::Activity;
use crate::types::{Price, Qty};

/// Settings of a generated flow.
///
/// Shares are given per mille (of adds, or of resting orders, as documented per field);
/// the order-kind shares must not add up to more than 1000.
///
/// # Examples
///
/// ```
/// use ringbook::flow::GenConfig;
///
/// let config = GenConfig::new(7, 3, 10_000).with_depth(50);
/// assert_eq!(config.max_qty, GenConfig::default().max_qty);
/// assert_eq!((config.seed, config.instruments, config.orders, config.depth), (7, 3, 10_000, 50));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GenConfig {
    /// The seed: the same seed (and other settings) gives the same flow.
    pub seed: u64,
    /// How many instruments the flow trades (at least 1). Each op picks one as
    /// [`activity`](GenConfig::activity) says (uniformly by default).
    pub instruments: u32,
    /// How ops spread over the instruments: uniformly (the default) or by Zipf's law.
    pub activity: Activity,
    /// How many add commands the flow has. The other commands come on top (about 0.9
    /// per add with the defaults).
    pub orders: u64,
    /// Every instrument's mid price at the start, in ticks.
    pub start_price: Price,
    /// About how many orders rest per instrument in steady state. Sets the lifetimes of
    /// resting orders, and so the generator's memory.
    pub depth: u32,
    /// The farthest a passive order is placed from the mid, in ticks (at least 1).
    pub max_distance: u32,
    /// The largest quantity of an order, in lots (at least 1).
    pub max_qty: Qty,
    /// Per mille of adds before which the instrument's mid moves half a tick up or down.
    pub drift_permille: u32,
    /// Per mille of adds that are market orders.
    pub market_permille: u32,
    /// Per mille of adds that are ioc orders, priced at or through the opposite best.
    pub ioc_permille: u32,
    /// Per mille of adds that are fok orders, priced at or through the opposite best.
    pub fok_permille: u32,
    /// Per mille of adds that are limit orders priced at or through the opposite best.
    pub aggressive_permille: u32,
    /// Per mille of adds that are post-only orders, placed passively. The rest of the
    /// adds are passive limit orders.
    pub post_only_permille: u32,
    /// Per mille of resting orders that are fleeting: cancelled within 8 of their
    /// instrument's adds.
    pub fleeting_permille: u32,
    /// Per mille of resting orders modified once before their cancel.
    pub modify_permille: u32,
    /// Per mille of orders filled before their scheduled cancel or modify that get the op
    /// anyway (and `unknown_order`).
    pub late_permille: u32,
    /// Status ops per thousand adds.
    pub status_permille: u32,
    /// Snapshot ops per thousand adds. Zero by default: a snapshot allocates.
    pub snapshot_permille: u32,
    /// Halts per million adds. A halt is followed, 20 to 200 of the instrument's adds
    /// later, by a resume.
    pub halt_per_million: u32,
    /// The long form's order types ([`LongFormMix`]); `None` (the default) for a
    /// seven-column flow, exactly as without it.
    pub long_form: Option<LongFormMix>,
}

/// The share of a generated flow that uses the long form's order types. Draws for them
/// are made only when the mix is set, so a flow without it is unchanged.
///
/// Stop orders are priced off the mid (a buy stop triggers a few ticks above it, a sell
/// stop below; half of them stop-limits with a limit a tick or two through the trigger)
/// and are not cancelled; icebergs show a third to a fifth of their quantity; owners come
/// from a pool of [`LongFormMix::owners`] accounts. The generator's shadow books follow
/// plain orders only, so some of its later cancels and modifies find their order filled,
/// cancelled by self-trade prevention or a mass cancel, and get `unknown_order`; the flow
/// still ends with every book empty: a `mass_cancel` of everything per instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongFormMix {
    /// Adds that are stop or stop-limit orders, per mille.
    pub stop_permille: u32,
    /// Passive limit and post-only adds that are icebergs, per mille.
    pub iceberg_permille: u32,
    /// Adds with an owner, per mille.
    pub owner_permille: u32,
    /// Owned adds that also carry a self-trade-prevention mode, per mille (the three
    /// modes equally often).
    pub stp_permille: u32,
    /// How many accounts own orders (at least 1).
    pub owners: u32,
    /// Commands that are a mass cancel of one owner's orders (on one side half the
    /// time), per million.
    pub mass_cancel_per_million: u32,
}

impl LongFormMix {
    /// The mix the issue benchmarks: 10% stops, 10% icebergs, owners with self-trade
    /// prevention on half the orders (16 accounts), and a mass cancel per 20,000
    /// commands.
    #[must_use]
    pub const fn standard() -> LongFormMix {
        LongFormMix {
            stop_permille: 100,
            iceberg_permille: 100,
            owner_permille: 500,
            stp_permille: 1000,
            owners: 16,
            mass_cancel_per_million: 50,
        }
    }
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            seed: 1,
            instruments: 1,
            activity: Activity::Uniform,
            orders: 1_000_000,
            start_price: 10_000,
            depth: 2_000,
            max_distance: 1_000,
            max_qty: 1_000,
            drift_permille: 100,
            market_permille: 15,
            ioc_permille: 40,
            fok_permille: 15,
            aggressive_permille: 40,
            post_only_permille: 60,
            fleeting_permille: 300,
            modify_permille: 100,
            late_permille: 100,
            status_permille: 10,
            snapshot_permille: 0,
            halt_per_million: 10,
            long_form: None,
        }
    }
}

impl GenConfig {
    /// The default flow with this seed, instrument count and number of adds.
    #[must_use]
    pub fn new(seed: u64, instruments: u32, orders: u64) -> GenConfig {
        GenConfig {
            seed,
            instruments,
            orders,
            ..GenConfig::default()
        }
    }

    /// Sets [`seed`](GenConfig::seed).
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> GenConfig {
        self.seed = seed;
        self
    }

    /// Sets [`instruments`](GenConfig::instruments).
    #[must_use]
    pub fn with_instruments(mut self, instruments: u32) -> GenConfig {
        self.instruments = instruments;
        self
    }

    /// Sets [`activity`](GenConfig::activity).
    #[must_use]
    pub fn with_activity(mut self, activity: Activity) -> GenConfig {
        self.activity = activity;
        self
    }

    /// Sets [`orders`](GenConfig::orders).
    #[must_use]
    pub fn with_orders(mut self, orders: u64) -> GenConfig {
        self.orders = orders;
        self
    }

    /// Sets [`start_price`](GenConfig::start_price).
    #[must_use]
    pub fn with_start_price(mut self, start_price: Price) -> GenConfig {
        self.start_price = start_price;
        self
    }

    /// Sets [`depth`](GenConfig::depth).
    #[must_use]
    pub fn with_depth(mut self, depth: u32) -> GenConfig {
        self.depth = depth;
        self
    }

    /// Sets [`max_distance`](GenConfig::max_distance).
    #[must_use]
    pub fn with_max_distance(mut self, max_distance: u32) -> GenConfig {
        self.max_distance = max_distance;
        self
    }

    /// Sets [`max_qty`](GenConfig::max_qty).
    #[must_use]
    pub fn with_max_qty(mut self, max_qty: Qty) -> GenConfig {
        self.max_qty = max_qty;
        self
    }

    /// Sets [`drift_permille`](GenConfig::drift_permille).
    #[must_use]
    pub fn with_drift_permille(mut self, drift_permille: u32) -> GenConfig {
        self.drift_permille = drift_permille;
        self
    }

    /// Sets [`market_permille`](GenConfig::market_permille).
    #[must_use]
    pub fn with_market_permille(mut self, market_permille: u32) -> GenConfig {
        self.market_permille = market_permille;
        self
    }

    /// Sets [`ioc_permille`](GenConfig::ioc_permille).
    #[must_use]
    pub fn with_ioc_permille(mut self, ioc_permille: u32) -> GenConfig {
        self.ioc_permille = ioc_permille;
        self
    }

    /// Sets [`fok_permille`](GenConfig::fok_permille).
    #[must_use]
    pub fn with_fok_permille(mut self, fok_permille: u32) -> GenConfig {
        self.fok_permille = fok_permille;
        self
    }

    /// Sets [`aggressive_permille`](GenConfig::aggressive_permille).
    #[must_use]
    pub fn with_aggressive_permille(mut self, aggressive_permille: u32) -> GenConfig {
        self.aggressive_permille = aggressive_permille;
        self
    }

    /// Sets [`post_only_permille`](GenConfig::post_only_permille).
    #[must_use]
    pub fn with_post_only_permille(mut self, post_only_permille: u32) -> GenConfig {
        self.post_only_permille = post_only_permille;
        self
    }

    /// Sets [`fleeting_permille`](GenConfig::fleeting_permille).
    #[must_use]
    pub fn with_fleeting_permille(mut self, fleeting_permille: u32) -> GenConfig {
        self.fleeting_permille = fleeting_permille;
        self
    }

    /// Sets [`modify_permille`](GenConfig::modify_permille).
    #[must_use]
    pub fn with_modify_permille(mut self, modify_permille: u32) -> GenConfig {
        self.modify_permille = modify_permille;
        self
    }

    /// Sets [`late_permille`](GenConfig::late_permille).
    #[must_use]
    pub fn with_late_permille(mut self, late_permille: u32) -> GenConfig {
        self.late_permille = late_permille;
        self
    }

    /// Sets [`status_permille`](GenConfig::status_permille).
    #[must_use]
    pub fn with_status_permille(mut self, status_permille: u32) -> GenConfig {
        self.status_permille = status_permille;
        self
    }

    /// Sets [`snapshot_permille`](GenConfig::snapshot_permille).
    #[must_use]
    pub fn with_snapshot_permille(mut self, snapshot_permille: u32) -> GenConfig {
        self.snapshot_permille = snapshot_permille;
        self
    }

    /// Sets [`long_form`](GenConfig::long_form).
    #[must_use]
    pub fn with_long_form(mut self, long_form: Option<LongFormMix>) -> GenConfig {
        self.long_form = long_form;
        self
    }

    /// Sets [`halt_per_million`](GenConfig::halt_per_million).
    #[must_use]
    pub fn with_halt_per_million(mut self, halt_per_million: u32) -> GenConfig {
        self.halt_per_million = halt_per_million;
        self
    }
}
