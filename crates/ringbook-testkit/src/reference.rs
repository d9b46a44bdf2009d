//! A deliberately naive reference order book, written straight from
//! `docs/FLOW-FORMAT.md` (the long form included) and sharing no code with `src/book`.
//!
//! Resting orders live in one `Vec`, each stamped with an arrival number (its time
//! priority) and an acceptance number (the order its add was accepted in, for mass
//! cancels); parked stop orders live in another. Every question is answered by a linear
//! scan; the next maker is found by sorting candidates by price (best first) then arrival.
//! Sums are `u128`. It is slow on purpose: it is easy to check by eye against the text.

use std::num::NonZeroU64;

use ringbook::Uuid;
use ringbook::{
    BookSnapshot, BookStatus, Command, EndReason, Op, Order, OrderKind, OrderbookResult,
    RejectReason, Side, SnapshotLevel, SnapshotOrder, SnapshotStop, StpMode,
};

/// One resting order.
#[derive(Clone, Debug)]
struct Resting {
    id: Uuid,
    side: Side,
    price: i64,
    /// The whole open quantity (an iceberg's hidden part included).
    open: u64,
    /// The quantity shown in the level: `open`, or an iceberg's current slice.
    shown: u64,
    /// An iceberg's display quantity.
    display: Option<u64>,
    /// Time priority: smaller arrived earlier. A refilled slice or a re-entry gets a new one.
    arrival: u64,
    /// When its add was accepted: mass cancels go in this order.
    accepted: u64,
    post_only: bool,
    owner: Option<u64>,
    stp: Option<StpMode>,
}

/// One parked stop order.
#[derive(Clone, Debug)]
struct Parked {
    id: Uuid,
    side: Side,
    kind: OrderKind,
    trigger: i64,
    /// The limit price of a stop-limit order; `None` for a stop-market order.
    price: Option<i64>,
    qty: u64,
    owner: Option<u64>,
    stp: Option<StpMode>,
    display: Option<u64>,
    accepted: u64,
}

impl Parked {
    /// Whether the last trade price `last` activates it.
    fn triggered_by(&self, last: Option<i64>) -> bool {
        match (self.side, last) {
            (_, None) => false,
            (Side::Buy, Some(last)) => last >= self.trigger,
            (Side::Sell, Some(last)) => last <= self.trigger,
        }
    }
}

/// A taker about to match: an add, an activated stop, or a modified order re-entering.
#[derive(Clone, Copy, Debug)]
struct Taker {
    id: Uuid,
    side: Side,
    /// The kind it matches as (an activated stop as market or limit).
    kind: OrderKind,
    /// Its limit; `None` for market.
    limit: Option<i64>,
    qty: u64,
    owner: Option<u64>,
    stp: Option<StpMode>,
    display: Option<u64>,
    accepted: u64,
    /// A modified order: self-trade prevention ends it with `cancelled`, not `expired`.
    modified: bool,
}

/// The naive book: resting orders, parked stops, the last trade price and a halt flag.
#[derive(Clone, Debug)]
pub struct NaiveBook {
    instrument: Uuid,
    halted: bool,
    resting: Vec<Resting>,
    parked: Vec<Parked>,
    last_trade_price: Option<i64>,
    next_arrival: u64,
    next_accepted: u64,
}

/// Whether a taker on `taker_side` with `limit` (None: market) may trade with a maker
/// resting at `maker_price`.
fn reaches(taker_side: Side, limit: Option<i64>, maker_price: i64) -> bool {
    match (taker_side, limit) {
        (_, None) => true,
        (Side::Buy, Some(limit)) => maker_price <= limit,
        (Side::Sell, Some(limit)) => maker_price >= limit,
    }
}

/// Whether price `a` is better than price `b` for orders resting on `side`.
fn better(side: Side, a: i64, b: i64) -> bool {
    match side {
        Side::Buy => a > b,
        Side::Sell => a < b,
    }
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

impl NaiveBook {
    /// An empty, running book.
    #[must_use]
    pub fn new(instrument_id: Uuid) -> NaiveBook {
        NaiveBook {
            instrument: instrument_id,
            halted: false,
            resting: Vec::new(),
            parked: Vec::new(),
            last_trade_price: None,
            next_arrival: 0,
            next_accepted: 0,
        }
    }

    /// Applies one command, returning its events in order.
    pub fn apply(&mut self, command: &Command) -> Vec<OrderbookResult> {
        let mut out = Vec::new();
        match *command {
            Command::Add(order) => self.add(&order, &mut out),
            Command::Cancel { order_id, .. } => self.cancel(order_id, &mut out),
            Command::Modify {
                order_id,
                price,
                qty,
                ..
            } => self.modify(order_id, price, qty, &mut out),
            Command::Halt { .. } => {
                self.halted = true;
                out.push(OrderbookResult::Halted {
                    instrument_id: self.instrument,
                });
            }
            Command::Resume { .. } => {
                self.halted = false;
                out.push(OrderbookResult::Resumed {
                    instrument_id: self.instrument,
                });
            }
            Command::Status { .. } => out.push(OrderbookResult::Status {
                instrument_id: self.instrument,
                status: Box::new(self.status()),
            }),
            Command::Snapshot { .. } => out.push(OrderbookResult::Snapshot {
                instrument_id: self.instrument,
                snapshot: Box::new(self.snapshot()),
            }),
            Command::MassCancel { owner, side, .. } => self.mass_cancel(owner, side, &mut out),
        }
        out
    }

    fn reject(&self, op: Op, order_id: Uuid, reason: RejectReason) -> OrderbookResult {
        OrderbookResult::Rejected {
            instrument_id: self.instrument,
            op,
            order_id: Some(order_id),
            reason,
        }
    }

    fn position(&self, order_id: Uuid) -> Option<usize> {
        self.resting.iter().position(|r| r.id == order_id)
    }

    fn parked_position(&self, order_id: Uuid) -> Option<usize> {
        self.parked.iter().position(|p| p.id == order_id)
    }

    /// Whether any order on the side opposite `side` can be reached by `limit`.
    fn would_match(&self, side: Side, limit: Option<i64>) -> bool {
        self.resting
            .iter()
            .any(|r| r.side == opposite(side) && reaches(side, limit, r.price))
    }

    /// The index in `resting` of the next maker for a taker on `side` with `limit`:
    /// best price first, then earliest arrival.
    fn next_maker(&self, side: Side, limit: Option<i64>) -> Option<usize> {
        let maker_side = opposite(side);
        let mut candidates: Vec<usize> = (0..self.resting.len())
            .filter(|&i| {
                let r = &self.resting[i];
                r.side == maker_side && reaches(side, limit, r.price)
            })
            .collect();
        candidates.sort_by(|&a, &b| {
            let (ra, rb) = (&self.resting[a], &self.resting[b]);
            let price_order = if ra.price == rb.price {
                std::cmp::Ordering::Equal
            } else if better(maker_side, ra.price, rb.price) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            };
            price_order.then(ra.arrival.cmp(&rb.arrival))
        });
        candidates.first().copied()
    }

    fn stamp_arrival(&mut self) -> u64 {
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        arrival
    }

    /// Trades `taker` against the book until it is filled, nothing reachable is left, or
    /// self-trade prevention stops it. Returns its open quantity and whether self-trade
    /// prevention stopped it.
    fn take(&mut self, taker: &Taker, out: &mut Vec<OrderbookResult>) -> (u64, bool) {
        let mut remaining = taker.qty;
        while remaining > 0 {
            let Some(i) = self.next_maker(taker.side, taker.limit) else {
                break;
            };
            // Self-trade prevention: only a taker with an owner and a mode, against a
            // maker of the same owner.
            if let (Some(owner), Some(mode)) = (taker.owner, taker.stp)
                && self.resting[i].owner == Some(owner)
            {
                if mode == StpMode::CancelOldest || mode == StpMode::CancelBoth {
                    let maker = self.resting.remove(i);
                    out.push(OrderbookResult::Cancelled {
                        instrument_id: self.instrument,
                        order_id: maker.id,
                        side: maker.side,
                        price: Some(maker.price),
                        remaining_qty: maker.open,
                        reason: EndReason::SelfTradePrevention,
                    });
                }
                if mode == StpMode::CancelNewest || mode == StpMode::CancelBoth {
                    return (remaining, true);
                }
                continue;
            }
            let fill = remaining.min(self.resting[i].shown);
            remaining -= fill;
            self.resting[i].shown -= fill;
            self.resting[i].open -= fill;
            self.last_trade_price = Some(self.resting[i].price);
            let maker = self.resting[i].clone();
            out.push(OrderbookResult::Trade {
                instrument_id: self.instrument,
                taker_order_id: taker.id,
                maker_order_id: maker.id,
                taker_side: taker.side,
                price: maker.price,
                qty: fill,
                taker_remaining: remaining,
                maker_remaining: maker.open,
            });
            if maker.open == 0 {
                self.resting.remove(i);
            } else if maker.shown == 0 {
                // An iceberg's slice is used up: a new one shows at the back of its
                // level at once, even if this fill completed the taker.
                let arrival = self.stamp_arrival();
                let r = &mut self.resting[i];
                r.shown = r.open.min(r.display.unwrap_or(r.open));
                r.arrival = arrival;
            }
        }
        (remaining, false)
    }

    /// Matches `taker` (already accepted, modified or triggered) and settles its rest: it
    /// rests, expires, or (self-trade prevention) ends with a reason.
    fn execute(&mut self, taker: &Taker, out: &mut Vec<OrderbookResult>) {
        // A fok trades only if the matching, run as an ioc with its mode, would fill it
        // whole: tried on a copy of the book (this counts hidden quantity, which refills
        // would reach, and walks same-owner makers as its stp mode would).
        if taker.kind == OrderKind::Fok {
            let mut trial = self.clone();
            let (left, _) = trial.take(taker, &mut Vec::new());
            if left > 0 {
                out.push(OrderbookResult::Expired {
                    instrument_id: self.instrument,
                    order_id: taker.id,
                    side: taker.side,
                    price: taker.limit,
                    remaining_qty: taker.qty,
                    reason: EndReason::Plain,
                });
                return;
            }
        }
        let (remaining, stopped) = self.take(taker, out);
        if remaining == 0 {
            return;
        }
        if stopped {
            out.push(if taker.modified {
                OrderbookResult::Cancelled {
                    instrument_id: self.instrument,
                    order_id: taker.id,
                    side: taker.side,
                    price: taker.limit,
                    remaining_qty: remaining,
                    reason: EndReason::SelfTradePrevention,
                }
            } else {
                OrderbookResult::Expired {
                    instrument_id: self.instrument,
                    order_id: taker.id,
                    side: taker.side,
                    price: taker.limit,
                    remaining_qty: remaining,
                    reason: EndReason::SelfTradePrevention,
                }
            });
            return;
        }
        match taker.kind {
            OrderKind::Limit | OrderKind::PostOnly => {
                let arrival = self.stamp_arrival();
                self.resting.push(Resting {
                    id: taker.id,
                    side: taker.side,
                    price: taker.limit.expect("a resting kind has a price"),
                    open: remaining,
                    shown: remaining.min(taker.display.unwrap_or(remaining)),
                    display: taker.display,
                    arrival,
                    accepted: taker.accepted,
                    post_only: taker.kind == OrderKind::PostOnly,
                    owner: taker.owner,
                    stp: taker.stp,
                });
            }
            _ => out.push(OrderbookResult::Expired {
                instrument_id: self.instrument,
                order_id: taker.id,
                side: taker.side,
                price: taker.limit,
                remaining_qty: remaining,
                reason: EndReason::Plain,
            }),
        }
    }

    /// While any parked stop's condition holds, activates the one accepted earliest: a
    /// `triggered` event, then it matches as an add of market (stop) or limit
    /// (stop-limit) would, without `accepted`.
    fn activate_stops(&mut self, out: &mut Vec<OrderbookResult>) {
        loop {
            let last = self.last_trade_price;
            let Some(i) = (0..self.parked.len())
                .filter(|&i| self.parked[i].triggered_by(last))
                .min_by_key(|&i| self.parked[i].accepted)
            else {
                return;
            };
            let stop = self.parked.remove(i);
            out.push(OrderbookResult::Triggered {
                instrument_id: self.instrument,
                order_id: stop.id,
                side: stop.side,
                kind: stop.kind,
                trigger: stop.trigger,
            });
            let kind = if stop.kind == OrderKind::Stop {
                OrderKind::Market
            } else {
                OrderKind::Limit
            };
            let taker = Taker {
                id: stop.id,
                side: stop.side,
                kind,
                limit: stop.price,
                qty: stop.qty,
                owner: stop.owner,
                stp: stop.stp,
                display: stop.display,
                accepted: stop.accepted,
                modified: false,
            };
            self.execute(&taker, out);
        }
    }

    fn add(&mut self, order: &Order, out: &mut Vec<OrderbookResult>) {
        let id = order.order_id;
        let limit = order.limit_price();
        if self.halted {
            return out.push(self.reject(Op::Add, id, RejectReason::OrderbookHalted));
        }
        if order.quantity == 0 || order.display() == Some(0) {
            return out.push(self.reject(Op::Add, id, RejectReason::InvalidQuantity));
        }
        if self.position(id).is_some() || self.parked_position(id).is_some() {
            return out.push(self.reject(Op::Add, id, RejectReason::DuplicateOrderId));
        }
        if order.kind == OrderKind::PostOnly && self.would_match(order.side, limit) {
            return out.push(self.reject(Op::Add, id, RejectReason::PostOnlyWouldCross));
        }
        out.push(OrderbookResult::Accepted {
            instrument_id: self.instrument,
            order_id: id,
            side: order.side,
            kind: order.kind,
            price: limit,
            qty: order.quantity,
            trigger: order.trigger(),
            display: order.display().and_then(NonZeroU64::new),
        });
        let accepted = self.next_accepted;
        self.next_accepted += 1;
        if let Some(trigger) = order.trigger() {
            self.parked.push(Parked {
                id,
                side: order.side,
                kind: order.kind,
                trigger,
                price: limit,
                qty: order.quantity,
                owner: order.owner(),
                stp: order.stp(),
                display: order.display(),
                accepted,
            });
        } else {
            let taker = Taker {
                id,
                side: order.side,
                kind: order.kind,
                limit,
                qty: order.quantity,
                owner: order.owner(),
                stp: order.stp(),
                display: order.display(),
                accepted,
                modified: false,
            };
            self.execute(&taker, out);
        }
        self.activate_stops(out);
    }

    fn cancel(&mut self, order_id: Uuid, out: &mut Vec<OrderbookResult>) {
        if let Some(i) = self.position(order_id) {
            let gone = self.resting.remove(i);
            out.push(OrderbookResult::Cancelled {
                instrument_id: self.instrument,
                order_id,
                side: gone.side,
                price: Some(gone.price),
                remaining_qty: gone.open,
                reason: EndReason::Plain,
            });
        } else if let Some(i) = self.parked_position(order_id) {
            let gone = self.parked.remove(i);
            out.push(OrderbookResult::Cancelled {
                instrument_id: self.instrument,
                order_id,
                side: gone.side,
                price: gone.price,
                remaining_qty: gone.qty,
                reason: EndReason::Plain,
            });
        } else {
            out.push(self.reject(Op::Cancel, order_id, RejectReason::UnknownOrder));
        }
    }

    fn modify(&mut self, order_id: Uuid, price: i64, qty: u64, out: &mut Vec<OrderbookResult>) {
        if self.halted {
            return out.push(self.reject(Op::Modify, order_id, RejectReason::OrderbookHalted));
        }
        if qty == 0 {
            return out.push(self.reject(Op::Modify, order_id, RejectReason::InvalidQuantity));
        }
        let Some(i) = self.position(order_id) else {
            let reason = if self.parked_position(order_id).is_some() {
                RejectReason::NotModifiable
            } else {
                RejectReason::UnknownOrder
            };
            return out.push(self.reject(Op::Modify, order_id, reason));
        };
        let old = self.resting[i].clone();
        if old.post_only && self.would_match(old.side, Some(price)) {
            return out.push(self.reject(Op::Modify, order_id, RejectReason::PostOnlyWouldCross));
        }
        let priority_kept = price == old.price && qty <= old.open;
        out.push(OrderbookResult::Modified {
            instrument_id: self.instrument,
            order_id,
            side: old.side,
            price,
            qty,
            old_price: old.price,
            old_qty: old.open,
            priority_kept,
            display: old.display.and_then(NonZeroU64::new),
        });
        if priority_kept {
            let r = &mut self.resting[i];
            r.open = qty;
            r.shown = r.shown.min(qty);
            return;
        }
        // Leave the queue, trade as a taker if it now crosses, and re-enter behind
        // everything already at the new price.
        self.resting.remove(i);
        let taker = Taker {
            id: order_id,
            side: old.side,
            kind: if old.post_only {
                OrderKind::PostOnly
            } else {
                OrderKind::Limit
            },
            limit: Some(price),
            qty,
            owner: old.owner,
            stp: old.stp,
            display: old.display,
            accepted: old.accepted,
            modified: true,
        };
        self.execute(&taker, out);
        self.activate_stops(out);
    }

    fn mass_cancel(
        &mut self,
        owner: Option<u64>,
        side: Option<Side>,
        out: &mut Vec<OrderbookResult>,
    ) {
        let selected = |order_owner: Option<u64>, order_side: Side| {
            (owner.is_none() || order_owner == owner) && side.is_none_or(|s| s == order_side)
        };
        // (acceptance number, event) for every order removed, then sorted.
        let mut gone: Vec<(u64, OrderbookResult)> = Vec::new();
        let instrument_id = self.instrument;
        self.resting.retain(|r| {
            if !selected(r.owner, r.side) {
                return true;
            }
            gone.push((
                r.accepted,
                OrderbookResult::Cancelled {
                    instrument_id,
                    order_id: r.id,
                    side: r.side,
                    price: Some(r.price),
                    remaining_qty: r.open,
                    reason: EndReason::MassCancel,
                },
            ));
            false
        });
        self.parked.retain(|p| {
            if !selected(p.owner, p.side) {
                return true;
            }
            gone.push((
                p.accepted,
                OrderbookResult::Cancelled {
                    instrument_id,
                    order_id: p.id,
                    side: p.side,
                    price: p.price,
                    remaining_qty: p.qty,
                    reason: EndReason::MassCancel,
                },
            ));
            false
        });
        gone.sort_by_key(|(accepted, _)| *accepted);
        let count = gone.len() as u64;
        out.extend(gone.into_iter().map(|(_, event)| event));
        out.push(OrderbookResult::MassCancelled {
            instrument_id,
            owner,
            count,
        });
    }

    /// The distinct prices on `side`, best first.
    fn prices(&self, side: Side) -> Vec<i64> {
        let mut prices: Vec<i64> = self
            .resting
            .iter()
            .filter(|r| r.side == side)
            .map(|r| r.price)
            .collect();
        prices.sort();
        prices.dedup();
        if side == Side::Buy {
            prices.reverse();
        }
        prices
    }

    /// The best price on `side` and the total quantity shown there.
    #[must_use]
    pub fn best(&self, side: Side) -> Option<(i64, u128)> {
        self.prices(side)
            .first()
            .map(|&p| (p, self.depth_at(side, p)))
    }

    /// The best bid and its total shown quantity.
    #[must_use]
    pub fn best_bid(&self) -> Option<(i64, u128)> {
        self.best(Side::Buy)
    }

    /// The best ask and its total shown quantity.
    #[must_use]
    pub fn best_ask(&self) -> Option<(i64, u128)> {
        self.best(Side::Sell)
    }

    /// The total quantity shown at `price` on `side` (icebergs count their slice).
    #[must_use]
    pub fn depth_at(&self, side: Side, price: i64) -> u128 {
        self.resting
            .iter()
            .filter(|r| r.side == side && r.price == price)
            .map(|r| u128::from(r.shown))
            .sum()
    }

    /// The whole open quantity of a resting order (an iceberg's hidden part included).
    #[must_use]
    pub fn order_qty(&self, order_id: &Uuid) -> Option<u64> {
        self.resting
            .iter()
            .find(|r| r.id == *order_id)
            .map(|r| r.open)
    }

    /// The side, price and whole open quantity of a resting order.
    #[must_use]
    pub fn resting_order(&self, order_id: &Uuid) -> Option<(Side, i64, u64)> {
        self.resting
            .iter()
            .find(|r| r.id == *order_id)
            .map(|r| (r.side, r.price, r.open))
    }

    /// How many orders rest (parked stops not counted).
    #[must_use]
    pub fn len(&self) -> usize {
        self.resting.len()
    }

    /// Whether nothing rests.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.resting.is_empty()
    }

    /// How many stop orders are parked.
    #[must_use]
    pub fn parked_len(&self) -> usize {
        self.parked.len()
    }

    /// The price of the most recent trade, `None` before the first.
    #[must_use]
    pub fn last_trade_price(&self) -> Option<i64> {
        self.last_trade_price
    }

    /// How many price levels `side` has.
    #[must_use]
    pub fn levels(&self, side: Side) -> usize {
        self.prices(side).len()
    }

    /// Every price with at least one resting order on `side`.
    #[must_use]
    pub fn level_prices(&self, side: Side) -> Vec<i64> {
        self.prices(side)
    }

    /// Whether the book is halted.
    #[must_use]
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// The status a `status` op would publish now.
    #[must_use]
    pub fn status(&self) -> BookStatus {
        let bid = self.best_bid();
        let ask = self.best_ask();
        BookStatus {
            halted: self.halted,
            best_bid: bid.map(|(p, _)| p),
            best_bid_qty: bid.map_or(0, |(_, q)| q),
            best_ask: ask.map(|(p, _)| p),
            best_ask_qty: ask.map_or(0, |(_, q)| q),
            bid_levels: self.levels(Side::Buy) as u64,
            ask_levels: self.levels(Side::Sell) as u64,
            orders: self.resting.len() as u64,
            stops: self.parked.len() as u64,
            last_trade_price: self.last_trade_price,
        }
    }

    fn side_snapshot(&self, side: Side) -> Vec<SnapshotLevel> {
        self.prices(side)
            .into_iter()
            .map(|price| {
                let mut here: Vec<&Resting> = self
                    .resting
                    .iter()
                    .filter(|r| r.side == side && r.price == price)
                    .collect();
                here.sort_by_key(|r| r.arrival);
                SnapshotLevel {
                    price,
                    orders: here
                        .into_iter()
                        .map(|r| SnapshotOrder {
                            order_id: r.id,
                            qty: r.shown,
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// The snapshot a `snapshot` op would publish now.
    #[must_use]
    pub fn snapshot(&self) -> BookSnapshot {
        let mut parked: Vec<&Parked> = self.parked.iter().collect();
        parked.sort_by_key(|p| p.accepted);
        BookSnapshot {
            halted: self.halted,
            bids: self.side_snapshot(Side::Buy),
            asks: self.side_snapshot(Side::Sell),
            stops: parked
                .into_iter()
                .map(|p| SnapshotStop {
                    order_id: p.id,
                    side: p.side,
                    kind: p.kind,
                    trigger: p.trigger,
                    price: p.price,
                    qty: p.qty,
                })
                .collect(),
        }
    }
}
