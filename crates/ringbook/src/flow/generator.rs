//! A seeded, realistic synthetic order flow: [`FlowGenerator`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::iter::FusedIterator;

use uuid::Uuid;

use super::activity::InstrumentPicker;
use super::gen_config::GenConfig;
use super::rng::{Rng, splitmix64};
use crate::command::Command;
use crate::types::{Order, OrderKind, Price, Qty, Side, StpMode};

/// A seeded, realistic synthetic order flow: an iterator of [`Command`]s, the same for
/// the same [`GenConfig`].
///
/// The flow is shaped like what a busy venue sees:
///
/// - **Prices drift.** Every instrument has a fair mid price that takes a random walk in
///   half-tick steps, so the spread at the touch is one or two ticks and the book's
///   stale orders get picked off as the mid moves.
/// - **Passive orders crowd the touch, with a heavy tail.** A resting order is placed on
///   its own side of the mid at a distance `d >= 1` ticks with `P(d >= k) = k^-1/2`: a
///   power law like the one measured in real books (Bouchaud, Mézard and Potters, 2002).
///   About 30% of them sit on the first tick past the mid, half within 4 ticks, 7% beyond
///   100 (none beyond [`GenConfig::max_distance`]). A passive limit whose price would
///   cross a book the mid has run past is placed a tick inside the opposite best instead.
/// - **Most resting orders are cancelled.** Each one gets a lifetime when it rests: a
///   share are fleeting (cancelled within a few of its instrument's adds), the rest live
///   a Pareto-distributed time. About 10% are modified first: mostly reduced in place
///   (priority kept), some moved in price or increased (priority lost). Whatever is still
///   resting when its time comes is cancelled; 85 to 90% of resting orders end that way,
///   the rest are filled.
/// - **Some flow takes liquidity.** Market, ioc and fok orders and crossing limit orders
///   are priced against the opposite best (a tick or two through it, now and then), and
///   mostly pick off the quotes the mid has moved past, so trades happen and the book
///   follows the mid; some fok orders are too large and expire whole. Post-only orders
///   rest like limits; a few are priced off the mid alone and rejected because they
///   would cross.
/// - **Quantities are skewed integer lots**: `P(q >= k) = 3 / (k + 2)` up to a cap (a
///   quarter are 1 lot, the median is 4, 3% are 100 or more), half of them rounded down
///   to the 1-2-5 series (1, 2, 5, 10, 20, 50, ...), as people round.
/// - **Other ops**: status queries, and rare halts each followed by a resume a little
///   later (adds and modifies in between are rejected with `orderbook_halted`). Snapshots
///   only on request ([`GenConfig::snapshot_permille`]): they allocate.
///
/// The generator keeps a shadow of every book (which of its orders rest, at what price,
/// in what queue position, with what open quantity) and applies the flow-format matching
/// rules to it, so its cancels and modifies name orders that really rest. A small share
/// ([`GenConfig::late_permille`] of the orders filled before their cancel or modify)
/// still sends the op, as a trader racing a fill does, and gets `unknown_order`.
///
/// # Size of the flow
///
/// [`GenConfig::orders`] counts the adds. With the default settings every add comes with
/// about 0.9 other commands (0.78 cancels, 0.08 modifies, 0.01 status ops, 0.01 late
/// cancels and modifies), so a flow has about **1.9 commands per add** (a million adds
/// make about 1.88 million commands). The flow ends after the last add by cancelling
/// every order still resting and resuming every halted instrument: replayed from empty
/// books, it leaves them empty and running.
///
/// # Determinism
///
/// The same [`GenConfig`] gives the same commands on every platform, forever: the random
/// numbers come from a xoshiro256** generator seeded through splitmix64, bounded integers
/// from Lemire's multiply-and-reject method, and power laws from an exact integer inverse
/// transform. No floating point and no hash maps; ordered collections have unique keys.
///
/// # Memory
///
/// The generator streams: it holds the orders that rest or have a cancel pending (about
/// 1.6 times [`GenConfig::depth`] per instrument, each about 100 bytes with its schedule
/// and shadow-book entries), never the flow. A hundred million commands take the same
/// memory as a million.
///
/// # Examples
///
/// ```
/// use ringbook::flow::{FlowGenerator, GenConfig};
/// use ringbook::{Command, OrderBook};
///
/// let config = GenConfig::default().with_seed(42).with_orders(5_000);
/// let generator = FlowGenerator::new(config.clone());
/// let instrument = generator.instruments()[0];
/// let mut book = OrderBook::new(instrument);
/// let mut events = 0u64;
/// let mut commands = 0u64;
/// for command in generator {
///     book.apply(&command, &mut |_| events += 1);
///     commands += 1;
/// }
/// assert!(commands > 5_000 && events >= commands);
/// assert!(book.is_empty(), "the flow cancels what still rests at its end");
/// assert_eq!(FlowGenerator::new(config).count() as u64, commands);
/// ```
#[derive(Clone, Debug)]
pub struct FlowGenerator {
    config: GenConfig,
    rng: Rng,
    /// Picks each op's instrument under the configured activity profile.
    picker: InstrumentPicker,
    /// Keys of the order-id permutation.
    id_keys: [u64; 2],
    instrument_ids: Vec<Uuid>,
    books: Vec<ShadowBook>,
    /// Orders that rest, or rested and still have a scheduled op.
    orders: Vec<Resting>,
    /// Vacant entries of `orders`.
    free: Vec<u32>,
    /// Scheduled cancels and modifies, earliest first. Keys are unique.
    schedule: BinaryHeap<Reverse<Scheduled>>,
    /// Pending resumes: (due time, instrument). Keys are unique.
    resumes: Vec<(u64, u32)>,
    /// The clock: adds generated so far.
    now: u64,
    /// The next order counter (order ids are a permutation of it).
    next_order: u64,
    /// The next queue-position stamp of the shadow books.
    next_stamp: u64,
    /// The next schedule entry's tie-breaker.
    next_scheduled: u64,
    /// Minimum lifetime of a long-lived resting order, in its instrument's adds.
    lifetime_min: u64,
    /// Long form: how many instruments have had their closing mass cancel.
    closed: u32,
    stats: Stats,
}

/// What the generator predicts the flow does to the books: checked against a real book in
/// the tests.
#[derive(Clone, Debug, Default)]
#[cfg_attr(not(test), allow(dead_code))]
struct Stats {
    /// Adds and modifies sent to a halted book.
    halted_rejects: u64,
    /// Post-only adds and modifies that would cross.
    post_only_rejects: u64,
    /// Cancels and modifies of orders that no longer rest.
    late_ops: u64,
    /// Orders that came to rest.
    rested: u64,
    /// Cancels of resting orders.
    cancels: u64,
    /// Modifies of resting orders that take effect.
    modifies: u64,
    /// Fills.
    trades: u64,
}

/// One shadow book: the generator's view of one instrument.
#[derive(Clone, Debug)]
struct ShadowBook {
    /// Twice the mid price, so the mid moves in half ticks.
    mid2: i64,
    halted: bool,
    /// Bids best first: keyed by (!price, stamp), so the highest price, then the earliest
    /// stamp, comes first.
    bids: BTreeMap<(i64, u64), u32>,
    /// Asks best first: keyed by (price, stamp).
    asks: BTreeMap<(i64, u64), u32>,
}

/// An order of the flow that rests, or rested and has a scheduled op left.
#[derive(Clone, Copy, Debug)]
struct Resting {
    counter: u64,
    price: Price,
    /// Open quantity; 0 once filled.
    qty: Qty,
    /// Queue-position stamp: its key in the shadow book is (price, stamp).
    stamp: u64,
    instrument: u32,
    side: Side,
    post_only: bool,
    /// Whether it rests in the shadow book now.
    live: bool,
}

/// A scheduled op: (due time, tie-breaker, order slot, action). Ordered by time, then by
/// scheduling order.
type Scheduled = (u64, u64, u32, Action);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Modify,
    Cancel,
}

/// How many orders a long-lived resting order contributes to the depth, per unit of its
/// minimum lifetime, times 1000. Its mean lifetime is `1 + ln 256 = 6.545` units (the
/// mean of `min(x / U, 256 x)`, in units of `x`); fills and the passive adds that do not
/// come to rest bring the depth it adds down to about 4.2 units (measured).
const DEPTH_PER_LIFETIME_PERMILLE: u64 = 4_200;

/// Lifetimes of long-lived orders are capped at this many times their minimum.
const LIFETIME_SPREAD: u64 = 256;

impl FlowGenerator {
    /// A generator of the flow `config` describes.
    ///
    /// # Panics
    ///
    /// Panics if `config.instruments`, `config.max_distance` or `config.max_qty` is 0, if
    /// the order-kind shares add up to more than 1000, or if status, snapshot and halt
    /// ops would take every draw (`status_permille + snapshot_permille` of 1000 or more).
    #[must_use]
    pub fn new(config: GenConfig) -> FlowGenerator {
        assert!(
            config.instruments > 0,
            "a flow needs at least one instrument"
        );
        assert!(config.max_distance > 0, "max_distance must be at least 1");
        assert!(config.max_qty > 0, "max_qty must be at least 1");
        let taking = u64::from(config.market_permille)
            + u64::from(config.ioc_permille)
            + u64::from(config.fok_permille);
        let kinds =
            taking + u64::from(config.aggressive_permille) + u64::from(config.post_only_permille);
        assert!(
            kinds <= 1000,
            "the order-kind shares add up to {kinds} per mille, more than 1000"
        );
        let others = u64::from(config.halt_per_million)
            + 1000 * u64::from(config.status_permille)
            + 1000 * u64::from(config.snapshot_permille);
        assert!(
            others < 1_000_000,
            "status, snapshot and halt ops leave no room for adds"
        );
        let mut keys = config.seed ^ 0x6f72_6465_7266_6c6f; // "orderflo"
        let mut key = || splitmix64(&mut keys);
        let id_keys = [key(), key()];
        let instrument_keys = [key(), key()];
        let instrument_ids = (0..u64::from(config.instruments))
            .map(|i| v4_like(i, instrument_keys))
            .collect();
        let mid2 = config.start_price.saturating_mul(2);
        let books = (0..config.instruments)
            .map(|_| ShadowBook {
                mid2,
                halted: false,
                bids: BTreeMap::new(),
                asks: BTreeMap::new(),
            })
            .collect();
        // Depth = passive adds x long-lived share x what each adds to the depth per unit
        // of minimum lifetime. Fleeting lifetimes are short enough to leave out.
        let resting_permille = u128::from(1000 - taking).max(1);
        let long_permille = u128::from(1000 - config.fleeting_permille.min(999));
        let lifetime_min = (u128::from(config.depth) * 1_000_000_000
            / (resting_permille * long_permille * u128::from(DEPTH_PER_LIFETIME_PERMILLE)))
        .max(1) as u64;
        FlowGenerator {
            rng: Rng::new(config.seed),
            id_keys,
            instrument_ids,
            books,
            orders: Vec::new(),
            free: Vec::new(),
            schedule: BinaryHeap::new(),
            resumes: Vec::new(),
            now: 0,
            next_order: 0,
            next_stamp: 0,
            next_scheduled: 0,
            lifetime_min,
            closed: 0,
            stats: Stats::default(),
            picker: InstrumentPicker::new(config.activity, config.instruments),
            config,
        }
    }

    /// The flow's instruments: random-looking (version 4 form) UUIDs derived from the
    /// seed. Every command names one of them.
    #[must_use]
    pub fn instruments(&self) -> &[Uuid] {
        &self.instrument_ids
    }

    /// The order id of order number `counter`: unique per counter.
    fn order_id(&self, counter: u64) -> Uuid {
        v4_like(counter, self.id_keys)
    }

    /// The next command, or `None` at the end of the flow.
    fn next_command(&mut self) -> Option<Command> {
        let adding = self.now < self.config.orders;
        loop {
            if let Some(command) = self.due_resume(!adding) {
                return Some(command);
            }
            if let Some(&Reverse((due, _, slot, action))) = self.schedule.peek()
                && (due <= self.now || !adding)
            {
                self.schedule.pop();
                self.now = self.now.max(due);
                match self.fire(slot, action) {
                    Some(command) => return Some(command),
                    None => continue,
                }
            }
            if !adding {
                // Long form: the shadow books follow plain orders only, so every book is
                // cleared with one mass cancel at the end (before the last resumes).
                if self.config.long_form.is_some() && self.closed < self.config.instruments {
                    let instrument_id = self.instrument_ids[self.closed as usize];
                    self.closed += 1;
                    return Some(Command::MassCancel {
                        instrument_id,
                        owner: None,
                        side: None,
                    });
                }
                // Resumes due later than the last scheduled op come out above.
                return self.due_resume(true);
            }
            return Some(self.activity());
        }
    }

    /// A resume that is due (any pending one when `all`), earliest first.
    fn due_resume(&mut self, all: bool) -> Option<Command> {
        let (at, &(due, instrument)) = self
            .resumes
            .iter()
            .enumerate()
            .min_by_key(|&(_, &key)| key)?;
        if !all && due > self.now {
            return None;
        }
        self.resumes.swap_remove(at);
        self.books[instrument as usize].halted = false;
        Some(Command::Resume {
            instrument_id: self.instrument_ids[instrument as usize],
        })
    }

    /// The next unscheduled command: an add, or now and then a status, snapshot or halt.
    fn activity(&mut self) -> Command {
        let instrument = self.picker.pick(&mut self.rng);
        let instrument_id = self.instrument_ids[instrument as usize];
        let halt = u64::from(self.config.halt_per_million);
        let status = halt + u64::from(self.config.status_permille) * 1000;
        let snapshot = status + u64::from(self.config.snapshot_permille) * 1000;
        let draw = self.rng.below(1_000_000);
        if draw < halt && !self.books[instrument as usize].halted {
            self.books[instrument as usize].halted = true;
            let later = (20 + self.rng.below(181)) * u64::from(self.config.instruments);
            self.resumes.push((self.now + later, instrument));
            return Command::Halt { instrument_id };
        }
        if (halt..status).contains(&draw) {
            return Command::Status { instrument_id };
        }
        if (status..snapshot).contains(&draw) {
            return Command::Snapshot { instrument_id };
        }
        if let Some(mix) = self.config.long_form {
            let mass = snapshot + u64::from(mix.mass_cancel_per_million);
            if (snapshot..mass).contains(&draw) {
                let owner = 1 + self.rng.below(u64::from(mix.owners.max(1)));
                let side = match self.rng.below(4) {
                    0 => Some(Side::Buy),
                    1 => Some(Side::Sell),
                    _ => None,
                };
                return Command::MassCancel {
                    instrument_id,
                    owner: Some(owner),
                    side,
                };
            }
            let draw = self.rng.below(1000);
            if draw < u64::from(mix.stop_permille) {
                return Command::Add(self.stop(instrument));
            }
        }
        Command::Add(self.add(instrument))
    }

    /// Long form: a stop or stop-limit order for `instrument`, a few ticks past the mid
    /// (buy stops above it, sell stops below), parked: not in the shadow book.
    fn stop(&mut self, instrument: u32) -> Order {
        self.now += 1;
        let mid = self.books[instrument as usize].mid2 / 2;
        let side = if self.rng.below(2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let away = 1 + self
            .rng
            .pareto_half(u64::from(self.config.max_distance).min(50)) as i64;
        let trigger = match side {
            Side::Buy => mid.saturating_add(away),
            Side::Sell => mid.saturating_sub(away),
        };
        let qty = self.quantity();
        let counter = self.next_order;
        self.next_order += 1;
        let id = self.order_id(counter);
        let instrument_id = self.instrument_ids[instrument as usize];
        let order = if self.rng.below(2) == 0 {
            Order::stop(id, instrument_id, side, trigger, qty)
        } else {
            let through = self.rng.below(3) as i64;
            let price = match side {
                Side::Buy => trigger.saturating_add(through),
                Side::Sell => trigger.saturating_sub(through),
            };
            Order::stop_limit(id, instrument_id, side, price, trigger, qty)
        };
        self.decorate(order)
    }

    /// Long form: an owner (and maybe a self-trade-prevention mode) for `order`, and an
    /// iceberg's display for a passive limit or post-only order, per the mix.
    fn decorate(&mut self, mut order: Order) -> Order {
        let Some(mix) = self.config.long_form else {
            return order;
        };
        if order.kind.may_display()
            && order.kind != OrderKind::StopLimit
            && self.rng.below(1000) < u64::from(mix.iceberg_permille)
        {
            let display = (order.quantity / (3 + self.rng.below(3))).max(1);
            order = order.with_display(display);
        }
        if self.rng.below(1000) < u64::from(mix.owner_permille) {
            let owner = 1 + self.rng.below(u64::from(mix.owners.max(1)));
            let stp = (self.rng.below(1000) < u64::from(mix.stp_permille))
                .then(|| StpMode::ALL[self.rng.below(3) as usize]);
            order = order.with_owner(owner, stp);
        }
        order
    }

    /// A new order for `instrument`, applied to its shadow book.
    fn add(&mut self, instrument: u32) -> Order {
        self.now += 1;
        let c = &self.config;
        let (drift, market, ioc, fok, aggressive, post_only) = (
            u64::from(c.drift_permille),
            u64::from(c.market_permille),
            u64::from(c.ioc_permille),
            u64::from(c.fok_permille),
            u64::from(c.aggressive_permille),
            u64::from(c.post_only_permille),
        );
        let book = instrument as usize;
        if self.rng.below(1000) < drift {
            let step = if self.rng.below(2) == 0 { -1 } else { 1 };
            self.books[book].mid2 = self.books[book].mid2.saturating_add(step);
        }
        // Cumulative per-mille bounds of the kinds; the rest are passive limits.
        let kinds = [
            (OrderKind::Market, true, market),
            (OrderKind::Ioc, true, ioc),
            (OrderKind::Fok, true, fok),
            (OrderKind::Limit, true, aggressive),
            (OrderKind::PostOnly, false, post_only),
        ];
        let draw = self.rng.below(1000);
        let mut bound = 0;
        let (kind, takes) = kinds
            .into_iter()
            .find(|&(_, _, share)| {
                bound += share;
                draw < bound
            })
            .map_or((OrderKind::Limit, false), |(kind, takes, _)| (kind, takes));
        let shadow = &self.books[book];
        // Takers mostly pick off quotes the mid has moved past; otherwise either side.
        let buy_permille = match (shadow.best(Side::Buy), shadow.best(Side::Sell)) {
            (_, Some(ask)) if takes && ask.saturating_mul(2) <= shadow.mid2 => 850,
            (Some(bid), _) if takes && bid.saturating_mul(2) >= shadow.mid2 => 150,
            _ => 500,
        };
        let side = if self.rng.below(1000) < buy_permille {
            Side::Buy
        } else {
            Side::Sell
        };
        let qty = self.quantity();
        let price = match kind {
            OrderKind::Market => 0,
            _ if takes => self.aggressive_price(book, side),
            _ => {
                let distance = self.rng.pareto_half(u64::from(self.config.max_distance));
                let price = passive_price(self.books[book].mid2, side, distance);
                // A passive order stays passive: it is placed a tick inside the opposite
                // best if the mid has run past the book. A quarter of post-only orders
                // are priced off the mid alone, and rejected if that would cross.
                let clip = kind == OrderKind::Limit || self.rng.below(4) != 0;
                match (clip, self.books[book].best(side.opposite())) {
                    (true, Some(best)) => match side {
                        Side::Buy => price.min(best.saturating_sub(1)),
                        Side::Sell => price.max(best.saturating_add(1)),
                    },
                    _ => price,
                }
            }
        };
        let counter = self.next_order;
        self.next_order += 1;
        let order = Order::new(
            self.order_id(counter),
            self.instrument_ids[book],
            side,
            kind,
            price,
            qty,
        );
        let order = self.decorate(order);
        self.shadow_add(instrument, counter, &order);
        order
    }

    /// A quantity: `P(q >= k) = 3 / (k + 2)` up to `max_qty` (a shifted Pareto: a
    /// quarter are 1 lot, the median is 4, 3% are 100 or more), half of them rounded down
    /// to the 1-2-5 series.
    fn quantity(&mut self) -> Qty {
        let q = self
            .rng
            .pareto_one(3, self.config.max_qty.saturating_add(2))
            - 2;
        if self.rng.below(2) == 0 {
            round_down_125(q)
        } else {
            q
        }
    }

    /// A price at or through the opposite best (or the far side of the mid when the
    /// opposite side is empty).
    fn aggressive_price(&mut self, book: usize, side: Side) -> Price {
        let through = self.rng.pareto_two(5) as i64 - 1;
        let shadow = &self.books[book];
        match side {
            Side::Buy => shadow
                .best(Side::Sell)
                .unwrap_or_else(|| passive_price(shadow.mid2, Side::Sell, 1))
                .saturating_add(through),
            Side::Sell => shadow
                .best(Side::Buy)
                .unwrap_or_else(|| passive_price(shadow.mid2, Side::Buy, 1))
                .saturating_sub(through),
        }
    }

    /// Applies a new order to its shadow book as the matching rules do.
    fn shadow_add(&mut self, instrument: u32, counter: u64, order: &Order) {
        let book = &self.books[instrument as usize];
        if book.halted {
            self.stats.halted_rejects += 1;
            return;
        }
        let limit = order.limit_price();
        if order.kind == OrderKind::PostOnly && book.crosses(order.side, limit) {
            self.stats.post_only_rejects += 1;
            return;
        }
        if order.kind == OrderKind::Fok
            && !book.covers(order.side, order.price, order.quantity, &self.orders)
        {
            return;
        }
        let remaining = self.take(instrument, order.side, limit, order.quantity);
        if remaining == 0 || !order.kind.rests() {
            return;
        }
        let resting = Resting {
            counter,
            price: order.price,
            qty: remaining,
            stamp: 0,
            instrument,
            side: order.side,
            post_only: order.kind == OrderKind::PostOnly,
            live: false,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.orders[slot as usize] = resting;
                slot
            }
            None => {
                self.orders.push(resting);
                (self.orders.len() - 1) as u32
            }
        };
        self.rest(slot);
        self.stats.rested += 1;
        self.schedule_lifecycle(slot);
    }

    /// Puts order `slot` at the tail of its price's queue in its shadow book.
    fn rest(&mut self, slot: u32) {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        let order = &mut self.orders[slot as usize];
        order.stamp = stamp;
        order.live = true;
        let key = ShadowBook::key(order.side, order.price, stamp);
        let book = &mut self.books[order.instrument as usize];
        book.side_mut(order.side).insert(key, slot);
    }

    /// Takes order `slot` out of its shadow book's queue.
    fn unrest(&mut self, slot: u32) {
        let order = &mut self.orders[slot as usize];
        order.live = false;
        let key = ShadowBook::key(order.side, order.price, order.stamp);
        let removed = self.books[order.instrument as usize]
            .side_mut(order.side)
            .remove(&key);
        debug_assert_eq!(removed, Some(slot));
    }

    /// Matches a taker against the shadow book of `instrument` and returns its rest.
    fn take(&mut self, instrument: u32, side: Side, limit: Option<Price>, mut qty: Qty) -> Qty {
        let book = &mut self.books[instrument as usize];
        let makers = book.side_mut(side.opposite());
        while qty > 0 {
            let Some(entry) = makers.first_entry() else {
                break;
            };
            let &(key, _) = entry.key();
            let price = ShadowBook::price(side.opposite(), key);
            let crosses = match (side, limit) {
                (_, None) => true,
                (Side::Buy, Some(limit)) => price <= limit,
                (Side::Sell, Some(limit)) => price >= limit,
            };
            if !crosses {
                break;
            }
            let maker = &mut self.orders[*entry.get() as usize];
            let fill = qty.min(maker.qty);
            maker.qty -= fill;
            qty -= fill;
            self.stats.trades += 1;
            if maker.qty == 0 {
                maker.live = false;
                entry.remove();
            }
        }
        qty
    }

    /// Schedules the cancel (and maybe a modify before it) of the newly resting `slot`.
    fn schedule_lifecycle(&mut self, slot: u32) {
        let spread = u64::from(self.config.instruments);
        let lifetime = if self.rng.below(1000) < u64::from(self.config.fleeting_permille) {
            1 + self.rng.below(8)
        } else {
            self.rng.pareto_one(
                self.lifetime_min,
                self.lifetime_min.saturating_mul(LIFETIME_SPREAD),
            )
        };
        let span = lifetime.saturating_mul(spread);
        if self.rng.below(1000) < u64::from(self.config.modify_permille) {
            let at = self.now.saturating_add(self.rng.below(span));
            self.push_scheduled(at, slot, Action::Modify);
        }
        self.push_scheduled(self.now.saturating_add(span), slot, Action::Cancel);
    }

    fn push_scheduled(&mut self, due: u64, slot: u32, action: Action) {
        let tie = self.next_scheduled;
        self.next_scheduled += 1;
        self.schedule.push(Reverse((due, tie, slot, action)));
    }

    /// Carries out a scheduled op on order `slot`; `None` when the order no longer rests
    /// and the op is dropped.
    fn fire(&mut self, slot: u32, action: Action) -> Option<Command> {
        let order = self.orders[slot as usize];
        let instrument_id = self.instrument_ids[order.instrument as usize];
        let order_id = self.order_id(order.counter);
        let late = !order.live && self.rng.below(1000) < u64::from(self.config.late_permille);
        if late {
            // A book that is halted rejects a modify for that before it looks for the order.
            if action == Action::Modify && self.books[order.instrument as usize].halted {
                self.stats.halted_rejects += 1;
            } else {
                self.stats.late_ops += 1;
            }
        }
        match action {
            Action::Cancel => {
                // The cancel is the order's last scheduled op: free its slot.
                if order.live {
                    self.unrest(slot);
                    self.stats.cancels += 1;
                }
                self.free.push(slot);
                (order.live || late).then_some(Command::Cancel {
                    instrument_id,
                    order_id,
                })
            }
            Action::Modify if order.live => {
                let (price, qty) = self.modification(&order);
                self.shadow_modify(slot, price, qty);
                Some(Command::Modify {
                    instrument_id,
                    order_id,
                    price,
                    qty,
                })
            }
            Action::Modify => late.then(|| Command::Modify {
                instrument_id,
                order_id,
                price: order.price,
                qty: self.quantity(),
            }),
        }
    }

    /// The new price and quantity of a modify of the resting `order`: mostly a reduce in
    /// place, otherwise a price move (toward or away from the other side) or an increase.
    fn modification(&mut self, order: &Resting) -> (Price, Qty) {
        let draw = self.rng.below(1000);
        if draw < 850 && order.qty >= 2 {
            return (order.price, 1 + self.rng.below(order.qty - 1));
        }
        if draw < 950 {
            let step = self.rng.pareto_two(10) as i64;
            let toward = self.rng.below(2) == 0;
            let up = toward == (order.side == Side::Buy);
            let price = if up {
                order.price.saturating_add(step)
            } else {
                order.price.saturating_sub(step)
            };
            return (price, order.qty);
        }
        (order.price, order.qty.saturating_add(self.quantity()))
    }

    /// Applies a modify of the resting order `slot` to its shadow book as the matching
    /// rules do.
    fn shadow_modify(&mut self, slot: u32, price: Price, qty: Qty) {
        let order = self.orders[slot as usize];
        let book = &self.books[order.instrument as usize];
        if book.halted {
            self.stats.halted_rejects += 1;
            return;
        }
        if order.post_only && book.crosses(order.side, Some(price)) {
            self.stats.post_only_rejects += 1;
            return;
        }
        self.stats.modifies += 1;
        if price == order.price && qty <= order.qty {
            self.orders[slot as usize].qty = qty;
            return;
        }
        self.unrest(slot);
        let remaining = self.take(order.instrument, order.side, Some(price), qty);
        if remaining > 0 {
            let resting = &mut self.orders[slot as usize];
            resting.price = price;
            resting.qty = remaining;
            self.rest(slot);
        }
    }
}

impl Iterator for FlowGenerator {
    type Item = Command;

    fn next(&mut self) -> Option<Command> {
        self.next_command()
    }
}

impl FusedIterator for FlowGenerator {}

impl ShadowBook {
    /// The map key of an order of `side` at `price` with queue stamp `stamp`.
    fn key(side: Side, price: Price, stamp: u64) -> (i64, u64) {
        match side {
            Side::Buy => (!price, stamp),
            Side::Sell => (price, stamp),
        }
    }

    /// The price of a map key of `side`.
    fn price(side: Side, key: i64) -> Price {
        match side {
            Side::Buy => !key,
            Side::Sell => key,
        }
    }

    fn side(&self, side: Side) -> &BTreeMap<(i64, u64), u32> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<(i64, u64), u32> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// The best price of `side`.
    fn best(&self, side: Side) -> Option<Price> {
        let (&(key, _), _) = self.side(side).first_key_value()?;
        Some(ShadowBook::price(side, key))
    }

    /// Whether a taker of `side` with `limit` (`None`: market) would match on arrival.
    fn crosses(&self, side: Side, limit: Option<Price>) -> bool {
        match (self.best(side.opposite()), limit) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(best), Some(limit)) => match side {
                Side::Buy => best <= limit,
                Side::Sell => best >= limit,
            },
        }
    }

    /// Whether the opposite liquidity at `limit` or better covers `qty` (the fok check).
    fn covers(&self, side: Side, limit: Price, qty: Qty, orders: &[Resting]) -> bool {
        let need = u128::from(qty);
        let mut have = 0u128;
        for (&(key, _), &slot) in self.side(side.opposite()) {
            let price = ShadowBook::price(side.opposite(), key);
            let reachable = match side {
                Side::Buy => price <= limit,
                Side::Sell => price >= limit,
            };
            if !reachable {
                break;
            }
            have += u128::from(orders[slot as usize].qty);
            if have >= need {
                return true;
            }
        }
        false
    }
}

/// The price of a passive order of `side` `distance` ticks from the mid `mid2 / 2`: the
/// first tick strictly on its side of the mid is distance 1.
fn passive_price(mid2: i64, side: Side, distance: u64) -> Price {
    let away = i64::try_from(distance - 1).unwrap_or(i64::MAX);
    match side {
        Side::Buy => (mid2 - 1).div_euclid(2).saturating_sub(away),
        Side::Sell => (mid2 + 2).div_euclid(2).saturating_add(away),
    }
}

/// `q` rounded down to the 1-2-5 series: 1, 2, 5, 10, 20, 50, 100, ...
fn round_down_125(q: u64) -> u64 {
    let mut best = 1;
    let mut decade = 1u64;
    loop {
        for step in [1, 2, 5] {
            match decade.checked_mul(step) {
                Some(v) if v <= q => best = v,
                _ => return best,
            }
        }
        match decade.checked_mul(10) {
            Some(next) => decade = next,
            None => return best,
        }
    }
}

/// A random-looking UUID in version 4 form, distinct for distinct `counter`s (below
/// 2^62): the low 62 bits are a keyed permutation of the counter.
fn v4_like(counter: u64, keys: [u64; 2]) -> Uuid {
    const LOW62: u64 = (1 << 62) - 1;
    let mut low = (counter ^ keys[1]) & LOW62;
    low = low.wrapping_mul(0x9e37_79b9_7f4a_7c15) & LOW62;
    low ^= low >> 31;
    low = low.wrapping_mul(0xd6e8_feb8_6659_fd93) & LOW62;
    low ^= low >> 29;
    low = low.wrapping_add(keys[1] >> 2) & LOW62;
    let mut state = counter ^ keys[0];
    let high = splitmix64(&mut state);
    let high = (high & !0xf000) | 0x4000; // version 4
    let low = low | (0b10 << 62); // RFC 4122 variant
    Uuid::from_u64_pair(high, low)
}

impl Rng {
    /// `m` uniform in `1..=2^53`: `U = m / 2^53` is uniform in (0, 1].
    fn unit_numerator(&mut self) -> u64 {
        (self.next_u64() >> 11) + 1
    }

    /// `floor(x / U)` capped at `cap`: Pareto with tail index 1, `P(v >= k) = x / k`.
    fn pareto_one(&mut self, x: u64, cap: u64) -> u64 {
        let m = self.unit_numerator();
        let v = (u128::from(x) << 53) / u128::from(m);
        v.min(u128::from(cap)) as u64
    }

    /// `floor(1 / U^2)`, drawn again while above `cap`: tail index 1/2,
    /// `P(v >= k) = k^-1/2` (before the cap).
    fn pareto_half(&mut self, cap: u64) -> u64 {
        loop {
            let m = u128::from(self.unit_numerator());
            let v = (1u128 << 106) / (m * m);
            if v <= u128::from(cap) {
                return v as u64;
            }
        }
    }

    /// `floor(1 / sqrt(U))`, drawn again while above `cap`: tail index 2,
    /// `P(v >= k) = k^-2`.
    fn pareto_two(&mut self, cap: u64) -> u64 {
        loop {
            let m = self.unit_numerator();
            let v = ((1u64 << 53) / m).isqrt();
            if v <= cap {
                return v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap, HashSet};

    use super::*;
    use crate::flow::{FlowReader, write_flow_header, write_flow_line};
    use crate::{OrderBook, OrderbookResult, RejectReason};

    fn config(seed: u64, instruments: u32, orders: u64) -> GenConfig {
        GenConfig {
            seed,
            instruments,
            orders,
            ..GenConfig::default()
        }
    }

    /// Event counts of a flow run through one book per instrument.
    #[derive(Debug, Default)]
    struct Run {
        commands: u64,
        ops: BTreeMap<&'static str, u64>,
        accepted_kinds: BTreeMap<&'static str, u64>,
        events: BTreeMap<&'static str, u64>,
        rejects: BTreeMap<&'static str, u64>,
        priority_kept: [u64; 2],
        max_resting: usize,
    }

    fn run(generator: FlowGenerator, check_every: u64) -> (Run, FlowGenerator) {
        let mut books: HashMap<Uuid, OrderBook> = generator
            .instruments()
            .iter()
            .map(|&id| (id, OrderBook::new(id)))
            .collect();
        let mut out = Run::default();
        let mut generator = generator;
        let mut events = Vec::new();
        for command in generator.by_ref() {
            out.commands += 1;
            *out.ops.entry(command.op().as_str()).or_default() += 1;
            let book = books
                .get_mut(&command.instrument_id())
                .expect("known instrument");
            book.apply(&command, &mut |e| events.push(e));
            for event in events.drain(..) {
                *out.events.entry(event.type_name()).or_default() += 1;
                match event {
                    OrderbookResult::Accepted { kind, .. } => {
                        *out.accepted_kinds.entry(kind.as_str()).or_default() += 1
                    }
                    OrderbookResult::Rejected { reason, .. } => {
                        *out.rejects.entry(reason.as_str()).or_default() += 1
                    }
                    OrderbookResult::Modified { priority_kept, .. } => {
                        out.priority_kept[usize::from(priority_kept)] += 1
                    }
                    _ => {}
                }
            }
            out.max_resting = out.max_resting.max(book.len());
            if check_every > 0 && out.commands % check_every == 0 {
                book.check_integrity().unwrap();
            }
        }
        for book in books.values() {
            book.check_integrity().unwrap();
            assert!(book.is_empty(), "the flow ends with empty books");
            assert!(!book.is_halted(), "the flow ends with running books");
        }
        (out, generator)
    }

    #[test]
    fn same_seed_same_flow() {
        let a: Vec<Command> = FlowGenerator::new(config(9, 3, 20_000)).collect();
        let b: Vec<Command> = FlowGenerator::new(config(9, 3, 20_000)).collect();
        assert_eq!(a, b);
        let adds = a.iter().filter(|c| c.op() == crate::Op::Add).count();
        assert_eq!(adds, 20_000, "orders counts the adds");
    }

    #[test]
    fn different_seeds_differ() {
        let a: Vec<Command> = FlowGenerator::new(config(1, 1, 2_000)).collect();
        let b: Vec<Command> = FlowGenerator::new(config(2, 1, 2_000)).collect();
        assert_ne!(a, b);
        assert_ne!(
            FlowGenerator::new(config(1, 1, 0)).instruments(),
            FlowGenerator::new(config(2, 1, 0)).instruments()
        );
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert_eq!(same, 0, "no command of one seed equals its counterpart");
    }

    /// The flow is fixed forever: this digest of the first commands of a seed must never
    /// change (a change breaks every recorded flow and benchmark baseline).
    #[test]
    fn flow_is_stable_across_versions() {
        let mut text = Vec::new();
        for command in FlowGenerator::new(config(2024, 4, 5_000)) {
            write_flow_line(&mut text, &command).unwrap();
        }
        // FNV-1a 64.
        let digest = text.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        assert_eq!(digest, 0x9ce0_1860_05df_6e62, "digest {digest:#018x}");
    }

    #[test]
    fn flow_exercises_every_event_and_kind() {
        let generator = FlowGenerator::new(GenConfig {
            halt_per_million: 2_000,
            snapshot_permille: 1,
            ..config(5, 1, 200_000)
        });
        let (run, generator) = run(generator, 997);
        for event in [
            "accepted",
            "rejected",
            "trade",
            "cancelled",
            "expired",
            "modified",
            "halted",
            "resumed",
            "status",
            "snapshot",
        ] {
            assert!(
                run.events.get(event).copied().unwrap_or(0) > 0,
                "no {event}: {run:?}"
            );
        }
        for kind in OrderKind::ALL {
            assert!(
                run.accepted_kinds.get(kind.as_str()).copied().unwrap_or(0) > 0,
                "no accepted {kind}: {run:?}"
            );
        }
        assert!(run.priority_kept[0] > 0 && run.priority_kept[1] > run.priority_kept[0]);
        for reason in [
            RejectReason::OrderbookHalted,
            RejectReason::UnknownOrder,
            RejectReason::PostOnlyWouldCross,
        ] {
            assert!(
                run.rejects.contains_key(reason.as_str()),
                "no {reason}: {run:?}"
            );
        }
        assert!(!run.rejects.contains_key("duplicate_order_id"));
        assert!(!run.rejects.contains_key("invalid_quantity"));
        // The shadow books predict the real ones exactly.
        let stats = &generator.stats;
        let rejects = |reason: RejectReason| run.rejects.get(reason.as_str()).copied().unwrap_or(0);
        assert_eq!(rejects(RejectReason::UnknownOrder), stats.late_ops);
        assert_eq!(rejects(RejectReason::OrderbookHalted), stats.halted_rejects);
        assert_eq!(
            rejects(RejectReason::PostOnlyWouldCross),
            stats.post_only_rejects
        );
        assert_eq!(run.events["cancelled"], stats.cancels);
        assert_eq!(run.events["modified"], stats.modifies);
        assert_eq!(run.events["trade"], stats.trades);
    }

    #[test]
    fn most_resting_orders_are_cancelled() {
        let (run, generator) = run(FlowGenerator::new(config(11, 2, 200_000)), 0);
        let stats = &generator.stats;
        let cancelled = run.events["cancelled"];
        let share = cancelled * 1000 / stats.rested;
        assert!(
            (780..=920).contains(&share),
            "{share} per mille cancelled: {run:?}"
        );
        let unknown = run.rejects.get("unknown_order").copied().unwrap_or(0);
        assert!(
            unknown * 100 < cancelled * 3,
            "unknown_order is a small share: {run:?}"
        );
        let modified = run.events["modified"] * 1000 / stats.rested;
        assert!(
            (60..=140).contains(&modified),
            "{modified} per mille modified"
        );
        let per_add = run.commands * 100 / 200_000;
        assert!(
            (160..=200).contains(&per_add),
            "{per_add} commands per 100 adds"
        );
        assert!(
            run.max_resting > 1_000 && run.max_resting < 6_000,
            "{run:?}"
        );
    }

    #[test]
    fn every_command_names_a_flow_instrument_and_ids_are_unique() {
        let generator = FlowGenerator::new(config(3, 7, 30_000));
        let instruments: HashSet<Uuid> = generator.instruments().iter().copied().collect();
        assert_eq!(instruments.len(), 7);
        for id in &instruments {
            assert_eq!(id.get_version_num(), 4);
        }
        let mut ids = HashSet::new();
        let mut seen = HashSet::new();
        for command in generator {
            assert!(
                instruments.contains(&command.instrument_id()),
                "{command:?}"
            );
            seen.insert(command.instrument_id());
            if let Command::Add(order) = command {
                assert!(ids.insert(order.order_id), "order id reused: {order:?}");
                assert_eq!(order.order_id.get_version_num(), 4);
            }
        }
        assert_eq!(seen, instruments);
    }

    #[test]
    fn flow_file_round_trips() {
        let commands: Vec<Command> = FlowGenerator::new(GenConfig {
            halt_per_million: 2_000,
            snapshot_permille: 5,
            ..config(17, 3, 20_000)
        })
        .collect();
        let mut text = Vec::new();
        write_flow_header(&mut text).unwrap();
        for command in &commands {
            write_flow_line(&mut text, command).unwrap();
        }
        let back: Vec<Command> = FlowReader::new(&text[..]).map(|r| r.unwrap().1).collect();
        assert_eq!(back, commands);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut generator = FlowGenerator::new(config(23, 1, u64::MAX));
        let mut peak = 0;
        for i in 0..2_000_000u64 {
            generator.next().unwrap();
            if i % 1024 == 0 {
                peak = peak
                    .max(generator.orders.len())
                    .max(generator.schedule.len());
            }
        }
        let at_half = peak;
        for _ in 0..2_000_000u64 {
            generator.next().unwrap();
            peak = peak
                .max(generator.orders.len())
                .max(generator.schedule.len());
        }
        assert!(peak < 10_000, "peak {peak}");
        assert!(
            peak <= at_half + at_half / 4,
            "still growing: {at_half} then {peak}"
        );
    }

    #[test]
    fn power_laws_have_their_tails() {
        let mut rng = Rng::new(1);
        let n = 200_000u64;
        let draws: Vec<u64> = (0..n).map(|_| rng.pareto_half(u64::MAX)).collect();
        let at_least = |k: u64| draws.iter().filter(|&&d| d >= k).count() as u64 * 1000 / n;
        // P(d >= k) = k^-1/2: 1000, 500, 100 per mille at 1, 4, 100.
        assert_eq!(at_least(1), 1000);
        assert!((490..=510).contains(&at_least(4)), "{}", at_least(4));
        assert!((95..=105).contains(&at_least(100)), "{}", at_least(100));
        let draws: Vec<u64> = (0..n).map(|_| rng.pareto_one(1, u64::MAX)).collect();
        let at_least = |k: u64| draws.iter().filter(|&&d| d >= k).count() as u64 * 1000 / n;
        assert!((95..=105).contains(&at_least(10)), "{}", at_least(10));
        assert_eq!(round_down_125(1), 1);
        assert_eq!(round_down_125(4), 2);
        assert_eq!(round_down_125(499), 200);
        assert_eq!(round_down_125(u64::MAX), 10_000_000_000_000_000_000);
        for (mid2, bid, ask) in [
            (20_001, 10_000, 10_001),
            (20_000, 9_999, 10_001),
            (-3, -2, -1),
        ] {
            assert_eq!(passive_price(mid2, Side::Buy, 1), bid);
            assert_eq!(passive_price(mid2, Side::Sell, 1), ask);
        }
    }
}
