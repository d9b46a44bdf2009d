//! Market-shaped order flow: [`MarketGenerator`], one instrument's flow in one of five
//! [`MarketRegime`]s, following the public calibration of an outside benchmark (issue 17).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;
use std::iter::FusedIterator;
use std::str::FromStr;

use uuid::Uuid;

use super::rng::Rng;
use crate::book::OrderBook;
use crate::command::Command;
use crate::types::{Order, OrderKind, Price, Qty, Side};

/// The mid price every regime starts from, in ticks (of 0.005 USD: 167.52 USD).
pub const START_MID: Price = 33_504;

/// The instrument of a market flow unless [`MarketConfig::instrument`] says otherwise:
/// `00000000-0000-4000-8000-000000033504`.
pub const MARKET_INSTRUMENT: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0003_3504);

/// Exponent of the power law of the distance from the touch.
const ALPHA: f64 = 2.23;
/// Height of the hump on the power law, relative to it.
const HUMP_AMPLITUDE: f64 = 5.0;
/// Where the hump is centred, in ticks from the touch.
const HUMP_CENTRE: f64 = 8.0;
/// The hump's width (standard deviation of its Gaussian), in ticks.
const HUMP_WIDTH: f64 = 4.0;
/// The farthest from the touch an order is placed, in ticks.
const MAX_DISTANCE: usize = 1_000;
/// Mean time between new orders, in nanoseconds of market time.
const MEAN_ARRIVAL_NS: f64 = 1_000.0;
/// Median order lifetime, in nanoseconds of market time (0.43 ms).
const MEDIAN_LIFETIME_NS: f64 = 430_000.0;
/// Standard deviation of the logarithm of the lifetime.
const LIFETIME_SIGMA: f64 = 1.0;
/// Mean reversion of the mid's noise towards the regime's path, per new order.
const NOISE_REVERSION: f64 = 1e-3;
/// Share of new orders that are ioc.
const IOC_SHARE: f64 = 0.15;
/// Share of new orders cancelled eventually: the ioc orders (whose rest the book cancels)
/// and the limit orders sent a cancel.
const CANCEL_SHARE: f64 = 0.95;
/// Share of new orders modified.
const MODIFY_SHARE: f64 = 0.20;
/// Share of modifies that also move the price one tick.
const MOVE_SHARE: f64 = 0.80;
/// Share of cancels, and of modifies, that name an order already gone.
const GONE_SHARE: f64 = 0.02;
/// Largest quantity of a new order, in lots.
const MAX_QTY: u64 = 100;
/// Most time between an order's cancel and a late op naming it, in nanoseconds.
const LATE_NS: u64 = 50_000;

/// One of the five market regimes: how much the mid jitters and how far it swings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MarketRegime {
    /// No volatility, no swing: the deepest standing book, nothing sweeps it.
    Static,
    /// Volatility 0.15, a 2% swing.
    Normal,
    /// Volatility 0.5, a 25% swing.
    Swing25,
    /// Volatility 0.5, a 40% swing.
    Swing40,
    /// Volatility 0.5, a 60% crash and recovery.
    FlashCrash,
}

impl MarketRegime {
    /// Every regime, calmest first.
    pub const ALL: [MarketRegime; 5] = [
        MarketRegime::Static,
        MarketRegime::Normal,
        MarketRegime::Swing25,
        MarketRegime::Swing40,
        MarketRegime::FlashCrash,
    ];

    /// The regime's name: `static`, `normal`, `swing-25`, `swing-40` or `flash-crash`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MarketRegime::Static => "static",
            MarketRegime::Normal => "normal",
            MarketRegime::Swing25 => "swing-25",
            MarketRegime::Swing40 => "swing-40",
            MarketRegime::FlashCrash => "flash-crash",
        }
    }

    /// The standard deviation of the mid's random step at each new order, in ticks.
    pub const fn volatility(self) -> f64 {
        match self {
            MarketRegime::Static => 0.0,
            MarketRegime::Normal => 0.15,
            _ => 0.5,
        }
    }

    /// The target swing of the mid over the run: its highest minus its lowest point, as a
    /// share of [`START_MID`] (the noise comes on top).
    pub const fn swing(self) -> f64 {
        match self {
            MarketRegime::Static => 0.0,
            MarketRegime::Normal => 0.02,
            MarketRegime::Swing25 => 0.25,
            MarketRegime::Swing40 => 0.40,
            MarketRegime::FlashCrash => 0.60,
        }
    }

    /// The mid's path at `fraction` (0 to 1) of the run, as a share of [`START_MID`]
    /// added to 1.
    fn path(self, fraction: f64) -> f64 {
        let swing = self.swing();
        match self {
            MarketRegime::Static => 0.0,
            MarketRegime::FlashCrash => {
                // Flat, a crash over 5% of the run, a recovery over 25%, flat.
                let depth = if fraction < 0.40 {
                    0.0
                } else if fraction < 0.45 {
                    (fraction - 0.40) / 0.05
                } else if fraction < 0.70 {
                    1.0 - (fraction - 0.45) / 0.25
                } else {
                    0.0
                };
                -swing * depth
            }
            _ => swing / 2.0 * (std::f64::consts::TAU * fraction).sin(),
        }
    }
}

impl fmt::Display for MarketRegime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A market regime name that is none of the five.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown market regime {word:?}: expected static, normal, swing-25, swing-40 or flash-crash"
)]
pub struct ParseMarketRegimeError {
    /// The text given.
    pub word: String,
}

impl FromStr for MarketRegime {
    type Err = ParseMarketRegimeError;

    fn from_str(word: &str) -> Result<MarketRegime, ParseMarketRegimeError> {
        MarketRegime::ALL
            .into_iter()
            .find(|regime| regime.as_str() == word)
            .ok_or_else(|| ParseMarketRegimeError {
                word: word.to_string(),
            })
    }
}

/// Settings of a market flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketConfig {
    /// The seed: the same settings give the same flow.
    pub seed: u64,
    /// How the mid moves.
    pub regime: MarketRegime,
    /// New orders in the flow (1,000,000 by default: about 2 M commands).
    pub orders: u64,
    /// The instrument every command names.
    pub instrument: Uuid,
}

impl Default for MarketConfig {
    fn default() -> MarketConfig {
        MarketConfig {
            seed: 1,
            regime: MarketRegime::Normal,
            orders: 1_000_000,
            instrument: MARKET_INSTRUMENT,
        }
    }
}

/// What a market flow has done so far, counted as it is generated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketStats {
    /// New orders (adds).
    pub orders: u64,
    /// New orders that are ioc.
    pub ioc: u64,
    /// Cancels of orders that rest.
    pub cancels: u64,
    /// Cancels of orders already gone (they get `unknown_order`).
    pub gone_cancels: u64,
    /// Modifies of orders that rest.
    pub modifies: u64,
    /// Of those, the ones that move the price.
    pub moves: u64,
    /// Modifies of orders already gone (they get `unknown_order`).
    pub gone_modifies: u64,
    /// Cancels and modifies not sent because their order was filled first.
    pub skipped: u64,
    /// Trades.
    pub trades: u64,
}

/// A scheduled op on an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Cancel it if it still rests.
    Cancel,
    /// Modify it if it still rests.
    Modify,
    /// Cancel it, gone.
    CancelGone,
    /// Modify it, gone, to this price and quantity.
    ModifyGone(Price, Qty),
}

/// A scheduled op: due at `time`, ordered by `(time, seq)` (`seq` is unique).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Due {
    time: u64,
    seq: u64,
    order: u64,
    action: Action,
}

impl Ord for Due {
    fn cmp(&self, other: &Due) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Due) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One instrument's market-shaped order flow: an iterator of [`Command`]s, the same for
/// the same [`MarketConfig`] (on one platform: the model uses `f64` `ln`, `exp`, `sin`
/// and `cos`, whose last bit may differ between math libraries).
///
/// The calibration is the public one of issue 17; where it is not specific, the choices
/// below are ours.
///
/// - **Time.** New orders arrive as a Poisson process, one per microsecond of market time
///   on average (exponential gaps, mean 1 µs): a run of a million orders spans about a
///   second of market time.
/// - **Ids.** The `n`-th new order (from 1) has id `Uuid::from_u128(n)`: dense,
///   increasing, as an order-entry session assigns them.
/// - **The mid** (in ticks of 0.005 USD, starting at [`START_MID`] = 33,504) follows the
///   regime's path plus noise: `mid(n) = 33504 * (1 + path(n / orders)) + x(n)`, where
///   `path` is `swing / 2 * sin(2 pi f)` (up half the swing, down to minus half, back:
///   the target swing peak to trough) for `normal`, `swing-25` and `swing-40`; for
///   `flash-crash` flat until 40% of the run, down by 60% linearly until 45%, back up
///   linearly until 70%, flat after; zero for `static`. The noise is an
///   Ornstein-Uhlenbeck process `x(n+1) = (1 - 1/1000) x(n) + v * N(0, 1)` with `v` the
///   regime's [`volatility`](MarketRegime::volatility) in ticks per new order, so it
///   stays within about 3.4 ticks (0.15) or 11 ticks (0.5) of the path (one standard
///   deviation). The model's touch is `bid = floor(mid)`, `ask = bid + 1`.
/// - **Where orders rest.** A limit order is placed `d` ticks behind its side's touch
///   (`bid - d` or `ask + d`, never below 1), `d` in `0..=1000` drawn with weight
///   `w(d) = (d + 1)^-2.23 * (1 + 5 * exp(-(d - 8)^2 / (2 * 4^2)))`: the power law
///   (alpha 2.23) with a Gaussian hump of amplitude 5.0 centred 8 ticks out (width 4
///   ticks, our choice). As lifetimes do not depend on `d`, the standing depth by
///   distance follows the same profile. About 56% of limit orders go to the touch
///   and 8% to the hump (6 to 10 ticks out).
/// - **Order kinds.** 15% of new orders are ioc, priced 0, 1 or 2 ticks through the
///   opposite touch (60%, 30%, 10%); the rest are limit orders. In `static`, an ioc is
///   priced at its own touch instead, so it expires unfilled and **nothing ever trades
///   in `static`**: its book is only ever cancelled, and the limit orders never sent a
///   cancel (5% of all orders) stand to the end (the deepest book of the five).
/// - **Quantities** are uniform in 1 to 100 lots.
/// - **Cancels.** 95% of new orders are meant to be cancelled eventually: the 15% ioc
///   (the book cancels their rest) and 80% of all orders (94% of the limit orders) sent
///   a cancel after a lifetime drawn from a log-normal distribution with median 0.43 ms
///   and `sigma = 1` (mean 0.71 ms; a tenth live under 0.12 ms, a tenth over 1.6 ms).
///   An order filled before its cancel is not sent it (a trader who saw the fill), and
///   an ioc filled whole has nothing to cancel: in `normal` (seed 3, 100,000 orders)
///   76% of new orders are sent a cancel and 83% end cancelled or expired.
/// - **Passive orders stay passive.** Where the book has not followed the mid (stale
///   quotes the mid has moved past), a limit order is placed behind a tick inside the
///   book's opposite best instead of the model's touch, so only ioc orders take
///   liquidity: they sweep what the mid has left behind.
/// - **Modifies.** 20% of new orders (24% of the limit orders) are modified once, at a
///   uniform 10% to 90% of their lifetime: the open quantity raised by 1 lot, and for
///   80% of them the price moved one tick up or down (coin flip; a move that would reach
///   the opposite touch goes the other way instead).
/// - **Gone orders.** After a cancel or modify of a resting order, with probability
///   2/98 a late op follows within 50 µs naming the order cancelled last (a cancel, or a
///   modify to its old price and quantity plus 1): 2% of cancels and 2% of modifies name
///   an order already gone, and get `unknown_order`.
///
/// To know what rests, the generator applies its own flow to an [`OrderBook`] as it goes
/// (so any book following the matching rules replays it identically). The flow ends
/// once the last new order has arrived and every scheduled op has been sent; orders
/// never cancelled may still rest.
///
/// # Size
///
/// About 2 commands per new order: one add, 0.8 cancels (fewer the more trades), 0.2
/// modifies and 0.02 late ops.
///
/// # Examples
///
/// ```
/// use ringbook::flow::{MarketConfig, MarketGenerator, MarketRegime};
///
/// let config = MarketConfig { orders: 2_000, regime: MarketRegime::Swing25, ..MarketConfig::default() };
/// let flow: Vec<_> = MarketGenerator::new(config).collect();
/// assert!(flow.len() > 3_000);
/// assert_eq!(flow, MarketGenerator::new(config).collect::<Vec<_>>());
/// ```
#[derive(Clone, Debug)]
pub struct MarketGenerator {
    config: MarketConfig,
    rng: Rng,
    /// The book the flow is applied to, to know what rests.
    book: OrderBook,
    /// Cumulative weights of the distances `0..=MAX_DISTANCE`.
    depth_cdf: Vec<f64>,
    schedule: BinaryHeap<Reverse<Due>>,
    next_seq: u64,
    /// New orders so far.
    arrivals: u64,
    /// When the next new order arrives, in ns.
    next_arrival: u64,
    /// The mid, in ticks.
    mid: f64,
    /// The mid's noise around the path, in ticks.
    noise: f64,
    /// The order cancelled last, with its side, price and open quantity.
    last_cancelled: Option<(u64, Price, Qty)>,
    stats: MarketStats,
}

impl MarketGenerator {
    /// A generator of the flow `config` describes.
    pub fn new(config: MarketConfig) -> MarketGenerator {
        let mut total = 0.0;
        let depth_cdf = (0..=MAX_DISTANCE)
            .map(|d| {
                total += depth_weight(d as f64);
                total
            })
            .collect();
        MarketGenerator {
            config,
            rng: Rng::new(config.seed ^ 0x6d61_726b_6574_666c), // "marketfl"
            book: OrderBook::new(config.instrument),
            depth_cdf,
            schedule: BinaryHeap::new(),
            next_seq: 0,
            arrivals: 0,
            next_arrival: 0,
            mid: START_MID as f64,
            noise: 0.0,
            last_cancelled: None,
            stats: MarketStats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &MarketConfig {
        &self.config
    }

    /// The model's mid price now, in ticks.
    pub fn mid(&self) -> f64 {
        self.mid
    }

    /// What the flow has done so far.
    pub fn stats(&self) -> MarketStats {
        self.stats
    }

    /// The book the flow so far leaves behind.
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    /// The model's touch: `(bid, ask)`.
    fn touch(&self) -> (Price, Price) {
        let bid = self.mid.floor() as Price;
        (bid, bid + 1)
    }

    /// The touch passive orders are placed behind: the model's, or a tick inside the
    /// book's opposite best where the book has not followed the mid.
    fn passive_touch(&self) -> (Price, Price) {
        let (bid, ask) = self.touch();
        let best_ask = self.book.best_ask().map_or(Price::MAX, |(price, _)| price);
        let best_bid = self.book.best_bid().map_or(Price::MIN, |(price, _)| price);
        (bid.min(best_ask - 1), ask.max(best_bid + 1))
    }

    /// Whether an order of `side` at `price` reaches the model's or the book's
    /// opposite touch.
    fn crosses(&self, side: Side, price: Price) -> bool {
        let (bid, ask) = self.passive_touch();
        match side {
            Side::Buy => price > bid,
            Side::Sell => price < ask,
        }
    }

    fn schedule(&mut self, time: u64, order: u64, action: Action) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.schedule.push(Reverse(Due {
            time,
            seq,
            order,
            action,
        }));
    }

    /// Applies `command` to the generator's book, counting trades, and returns it.
    fn emit(&mut self, command: Command) -> Command {
        let mut trades = 0;
        self.book
            .apply(&command, &mut |event: crate::OrderbookResult| {
                trades += u64::from(matches!(event, crate::OrderbookResult::Trade { .. }));
            });
        self.stats.trades += trades;
        command
    }

    /// The next new order.
    fn arrive(&mut self) -> Command {
        let n = self.arrivals;
        self.arrivals += 1;
        let now = self.next_arrival;
        let gap = MEAN_ARRIVAL_NS * self.rng.exponential();
        self.next_arrival = now + (gap as u64).max(1);
        let regime = self.config.regime;
        let fraction = n as f64 / self.config.orders as f64;
        self.noise = self.noise * (1.0 - NOISE_REVERSION) + regime.volatility() * self.rng.normal();
        let floor = (MAX_DISTANCE + 2) as f64;
        self.mid = (START_MID as f64 * (1.0 + regime.path(fraction)) + self.noise).max(floor);
        let (bid, ask) = self.touch();
        let side = if self.rng.below(2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let qty = 1 + self.rng.below(MAX_QTY);
        let id = n + 1;
        self.stats.orders += 1;
        let kind_draw = self.rng.unit();
        let (kind, price) = if kind_draw < IOC_SHARE {
            self.stats.ioc += 1;
            let through = match self.rng.below(10) {
                0..=5 => 0,
                6..=8 => 1,
                _ => 2,
            };
            let price = match (side, regime) {
                (Side::Buy, MarketRegime::Static) => bid,
                (Side::Sell, MarketRegime::Static) => ask,
                (Side::Buy, _) => ask + through,
                (Side::Sell, _) => bid - through,
            };
            (OrderKind::Ioc, price)
        } else {
            let d = self.distance() as Price;
            let (bid, ask) = self.passive_touch();
            let price = match side {
                Side::Buy => bid - d,
                Side::Sell => ask + d,
            };
            let lifetime = (MEDIAN_LIFETIME_NS.ln() + LIFETIME_SIGMA * self.rng.normal()).exp();
            // Of the limit orders (1 - IOC_SHARE of all): the shares of all that are
            // cancelled by a cancel and modified.
            let limit = 1.0 - IOC_SHARE;
            if self.rng.unit() < (CANCEL_SHARE - IOC_SHARE) / limit {
                self.schedule(now + (lifetime as u64).max(1), id, Action::Cancel);
            }
            if self.rng.unit() < MODIFY_SHARE / limit {
                let at = lifetime * (0.1 + 0.8 * self.rng.unit());
                self.schedule(now + (at as u64).max(1), id, Action::Modify);
            }
            (OrderKind::Limit, price)
        };
        let order = Order::new(
            Uuid::from_u128(u128::from(id)),
            self.config.instrument,
            side,
            kind,
            price.max(1),
            qty,
        );
        self.emit(Command::Add(order))
    }

    /// A distance from the touch, in ticks, drawn from the depth profile.
    fn distance(&mut self) -> usize {
        let total = self.depth_cdf[MAX_DISTANCE];
        let u = self.rng.unit() * total;
        self.depth_cdf
            .partition_point(|&c| c <= u)
            .min(MAX_DISTANCE)
    }

    /// Maybe schedules a late op after a cancel or modify, so that [`GONE_SHARE`] of them
    /// name a gone order.
    fn maybe_late(&mut self, now: u64, cancel: bool) {
        if self.rng.unit() >= GONE_SHARE / (1.0 - GONE_SHARE) {
            return;
        }
        let Some((order, price, qty)) = self.last_cancelled else {
            return;
        };
        let at = now + 1 + self.rng.below(LATE_NS);
        let action = if cancel {
            Action::CancelGone
        } else {
            Action::ModifyGone(price, qty.saturating_add(1))
        };
        self.schedule(at, order, action);
    }

    /// The command of a due op, or `None` if its order was filled first.
    fn fire(&mut self, due: Due) -> Option<Command> {
        let instrument_id = self.config.instrument;
        let order_id = Uuid::from_u128(u128::from(due.order));
        match due.action {
            Action::Cancel | Action::Modify => {
                let Some((side, price, qty)) = self.book.resting_order(&order_id) else {
                    self.stats.skipped += 1;
                    return None;
                };
                if due.action == Action::Cancel {
                    self.stats.cancels += 1;
                    self.last_cancelled = Some((due.order, price, qty));
                    self.maybe_late(due.time, true);
                    return Some(Command::Cancel {
                        instrument_id,
                        order_id,
                    });
                }
                self.stats.modifies += 1;
                let mut new_price = price;
                if self.rng.unit() < MOVE_SHARE {
                    self.stats.moves += 1;
                    let up = self.rng.below(2) == 0;
                    new_price = match (side, up) {
                        (Side::Buy, true) if !self.crosses(Side::Buy, price + 1) => price + 1,
                        (Side::Sell, false) if !self.crosses(Side::Sell, price - 1) => price - 1,
                        (Side::Buy, _) => price - 1,
                        (Side::Sell, _) => price + 1,
                    };
                }
                self.maybe_late(due.time, false);
                Some(Command::Modify {
                    instrument_id,
                    order_id,
                    price: new_price.max(1),
                    qty: qty.saturating_add(1),
                })
            }
            Action::CancelGone => {
                self.stats.gone_cancels += 1;
                Some(Command::Cancel {
                    instrument_id,
                    order_id,
                })
            }
            Action::ModifyGone(price, qty) => {
                self.stats.gone_modifies += 1;
                Some(Command::Modify {
                    instrument_id,
                    order_id,
                    price,
                    qty,
                })
            }
        }
    }
}

impl Iterator for MarketGenerator {
    type Item = Command;

    fn next(&mut self) -> Option<Command> {
        loop {
            let arriving = self.arrivals < self.config.orders;
            let due = self.schedule.peek().map(|Reverse(due)| due.time);
            match due {
                Some(time) if !arriving || time <= self.next_arrival => {
                    let Some(Reverse(due)) = self.schedule.pop() else {
                        unreachable!("peeked");
                    };
                    if let Some(command) = self.fire(due) {
                        return Some(self.emit(command));
                    }
                }
                _ if arriving => return Some(self.arrive()),
                _ => return None,
            }
        }
    }
}

impl FusedIterator for MarketGenerator {}

/// The weight of placing an order `d` ticks behind the touch.
fn depth_weight(d: f64) -> f64 {
    let hump = (-(d - HUMP_CENTRE).powi(2) / (2.0 * HUMP_WIDTH * HUMP_WIDTH)).exp();
    (d + 1.0).powf(-ALPHA) * (1.0 + HUMP_AMPLITUDE * hump)
}

impl Rng {
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponential with mean 1.
    fn exponential(&mut self) -> f64 {
        -(1.0 - self.unit()).ln()
    }

    /// Standard normal (Box-Muller, one of the pair).
    fn normal(&mut self) -> f64 {
        let radius = (2.0 * self.exponential()).sqrt();
        radius * (std::f64::consts::TAU * self.unit()).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrderbookResult, RejectReason};

    fn config(regime: MarketRegime, seed: u64, orders: u64) -> MarketConfig {
        MarketConfig {
            seed,
            regime,
            orders,
            instrument: MARKET_INSTRUMENT,
        }
    }

    /// What a flow does to a real book.
    #[derive(Debug, Default)]
    struct Run {
        commands: u64,
        adds: u64,
        ioc: u64,
        cancels: u64,
        modifies: u64,
        moves: u64,
        unknown_cancels: u64,
        unknown_modifies: u64,
        cancelled: u64,
        expired: u64,
        trades: u64,
        min_mid: f64,
        max_mid: f64,
        resting_at_end: usize,
    }

    fn run(config: MarketConfig) -> (Run, MarketGenerator) {
        let mut generator = MarketGenerator::new(config);
        let mut book = OrderBook::new(config.instrument);
        let mut out = Run {
            min_mid: f64::MAX,
            max_mid: f64::MIN,
            ..Run::default()
        };
        let mut prices = std::collections::BTreeMap::new();
        while let Some(command) = generator.next() {
            out.commands += 1;
            out.min_mid = out.min_mid.min(generator.mid());
            out.max_mid = out.max_mid.max(generator.mid());
            match command {
                Command::Add(order) => {
                    out.adds += 1;
                    assert_eq!(order.order_id, Uuid::from_u128(u128::from(out.adds)));
                    assert!(order.price > 0 && (1..=100).contains(&order.quantity));
                    out.ioc += u64::from(order.kind == OrderKind::Ioc);
                    prices.insert(order.order_id, order.price);
                }
                Command::Cancel { .. } => out.cancels += 1,
                Command::Modify {
                    order_id, price, ..
                } => {
                    out.modifies += 1;
                    assert!(price > 0);
                    if let Some(old) = prices.insert(order_id, price)
                        && old != price
                    {
                        assert_eq!(old.abs_diff(price), 1, "a move is one tick");
                        out.moves += 1;
                    }
                }
                other => panic!("a market flow has only adds, cancels and modifies: {other:?}"),
            }
            let op = command.op();
            book.apply(&command, &mut |event: OrderbookResult| match event {
                OrderbookResult::Rejected { reason, .. } => {
                    assert_eq!(reason, RejectReason::UnknownOrder, "{command:?}");
                    match op {
                        crate::Op::Cancel => out.unknown_cancels += 1,
                        _ => out.unknown_modifies += 1,
                    }
                }
                OrderbookResult::Cancelled { .. } => out.cancelled += 1,
                OrderbookResult::Expired { .. } => out.expired += 1,
                OrderbookResult::Trade { .. } => out.trades += 1,
                _ => {}
            });
        }
        book.check_integrity().unwrap();
        out.resting_at_end = book.len();
        assert_eq!(book.len(), generator.book().len());
        (out, generator)
    }

    #[test]
    fn regimes_parse_and_print_their_names() {
        for regime in MarketRegime::ALL {
            assert_eq!(regime.to_string().parse::<MarketRegime>(), Ok(regime));
        }
        let names: Vec<String> = MarketRegime::ALL.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            names,
            ["static", "normal", "swing-25", "swing-40", "flash-crash"]
        );
        let error = "swing-60".parse::<MarketRegime>().unwrap_err();
        assert_eq!(error.word, "swing-60");
        assert!(error.to_string().contains("\"swing-60\""), "{error}");
    }

    #[test]
    fn same_seed_same_flow_and_seeds_differ() {
        for regime in MarketRegime::ALL {
            let a: Vec<Command> = MarketGenerator::new(config(regime, 7, 5_000)).collect();
            let b: Vec<Command> = MarketGenerator::new(config(regime, 7, 5_000)).collect();
            assert_eq!(a, b, "{regime}");
            let c: Vec<Command> = MarketGenerator::new(config(regime, 8, 5_000)).collect();
            assert_ne!(a, c, "{regime}");
            let adds = a.iter().filter(|c| matches!(c, Command::Add(_))).count();
            assert_eq!(adds, 5_000, "orders counts the adds");
        }
    }

    #[test]
    fn shares_follow_the_calibration() {
        let (run, generator) = run(config(MarketRegime::Normal, 3, 100_000));
        let stats = generator.stats();
        let share = |n: u64, of: u64| n as f64 / of as f64;
        assert_eq!(run.adds, 100_000);
        assert!((0.14..0.16).contains(&share(run.ioc, run.adds)), "{run:?}");
        // 80% of orders are sent a cancel, less those filled first.
        assert!(
            (0.74..0.81).contains(&share(run.cancels - run.unknown_cancels, run.adds)),
            "{run:?}"
        );
        // Cancelled eventually, by a cancel or (ioc) by the book: 95% less the fills.
        let ended = share(run.cancelled + run.expired, run.adds);
        assert!((0.80..0.90).contains(&ended), "{ended}: {run:?}");
        assert!(
            (0.18..0.205).contains(&share(run.modifies - run.unknown_modifies, run.adds)),
            "{run:?}"
        );
        let gone = share(run.unknown_cancels, run.cancels);
        assert!((0.016..0.024).contains(&gone), "{gone}: {run:?}");
        let gone = share(run.unknown_modifies, run.modifies);
        assert!((0.014..0.026).contains(&gone), "{gone}: {run:?}");
        let moved = share(run.moves, run.modifies - run.unknown_modifies);
        assert!((0.77..0.83).contains(&moved), "{moved}: {run:?}");
        // The generator's own counts agree with the real book's.
        assert_eq!(stats.gone_cancels, run.unknown_cancels);
        assert_eq!(stats.gone_modifies, run.unknown_modifies);
        assert_eq!(stats.cancels + stats.gone_cancels, run.cancels);
        assert_eq!(stats.modifies + stats.gone_modifies, run.modifies);
        assert_eq!(stats.trades, run.trades);
        assert!(run.trades > 1_000, "the normal regime trades: {run:?}");
        let per_order = share(run.commands, run.adds);
        assert!(
            (1.9..2.1).contains(&per_order),
            "{per_order} commands per order"
        );
    }

    #[test]
    fn each_regime_reaches_its_swing() {
        for regime in MarketRegime::ALL {
            let (run, _) = run(config(regime, 5, 20_000));
            let swing = (run.max_mid - run.min_mid) / START_MID as f64;
            let target = regime.swing();
            // The noise adds a few ticks (0.1% at most) on top of the path.
            assert!(
                swing >= target * 0.97 && swing <= target * 1.03 + 0.002,
                "{regime}: swing {swing}, target {target}"
            );
        }
    }

    #[test]
    fn static_never_trades_and_stands_deepest() {
        let (calm, generator) = run(config(MarketRegime::Static, 9, 50_000));
        assert_eq!(calm.trades, 0, "{calm:?}");
        let stats = generator.stats();
        assert_eq!(
            calm.unknown_cancels + calm.unknown_modifies,
            stats.gone_cancels + stats.gone_modifies
        );
        // Every ioc expires whole; the orders never cancelled stand (about 5%).
        assert_eq!(calm.expired, calm.ioc);
        let standing = calm.resting_at_end as f64 / 50_000.0;
        assert!((0.04..0.06).contains(&standing), "{standing}");
        for regime in &MarketRegime::ALL[1..] {
            let (run, _) = run(config(*regime, 9, 50_000));
            assert!(run.trades > 0, "{regime}");
            assert!(
                run.resting_at_end < calm.resting_at_end,
                "{regime}: {run:?}"
            );
        }
    }

    #[test]
    fn the_depth_profile_is_a_power_law_with_a_hump() {
        let total: f64 = (0..=MAX_DISTANCE).map(|d| depth_weight(d as f64)).sum();
        let p = |d: usize| depth_weight(d as f64) / total;
        // Mostly at the touch, decreasing, except for the hump around 8 ticks.
        assert!(p(0) > 0.5 && p(0) < 0.6, "{}", p(0));
        assert!(p(1) < p(0) && p(4) < p(1));
        let ratio = |d: usize| p(d) * (d as f64 + 1.0).powf(ALPHA);
        assert!(
            (ratio(8) / ratio(60) - 6.0).abs() < 1e-6,
            "a hump of 5 at 8"
        );
        assert!((ratio(4) / ratio(60) - (1.0 + 5.0 * (-0.5f64).exp())).abs() < 1e-6);
        let mut generator = MarketGenerator::new(config(MarketRegime::Static, 1, 0));
        let n = 200_000;
        let draws: Vec<usize> = (0..n).map(|_| generator.distance()).collect();
        let at = |d: usize| draws.iter().filter(|&&x| x == d).count() as f64 / n as f64;
        for d in [0, 1, 2, 8] {
            assert!((at(d) - p(d)).abs() < 0.005, "d {d}: {} vs {}", at(d), p(d));
        }
        assert!(draws.iter().all(|&d| d <= MAX_DISTANCE));
    }

    #[test]
    fn an_empty_flow_is_empty() {
        assert_eq!(
            MarketGenerator::new(config(MarketRegime::Swing40, 1, 0)).count(),
            0
        );
    }
}
