//! A deliberately naive reference order book, written straight from
//! `docs/FLOW-FORMAT.md` and sharing no code with `src/book`.
//!
//! Resting orders live in one `Vec`, each stamped with an arrival number. Every question is
//! answered by a linear scan; the next maker is found by sorting candidates by price (best
//! first) then arrival. Sums are `u128`. It is slow on purpose: it is easy to check by eye.

use ringbook::Uuid;
use ringbook::{
    BookSnapshot, BookStatus, Command, Op, Order, OrderKind, OrderbookResult, RejectReason, Side,
    SnapshotLevel, SnapshotOrder,
};

/// One resting order.
#[derive(Clone, Debug)]
struct Resting {
    id: Uuid,
    side: Side,
    price: i64,
    qty: u64,
    /// Time priority: smaller arrived earlier.
    arrival: u64,
    post_only: bool,
}

/// The naive book: a list of resting orders and a halt flag.
#[derive(Clone, Debug)]
pub struct NaiveBook {
    instrument: Uuid,
    halted: bool,
    resting: Vec<Resting>,
    next_arrival: u64,
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
            next_arrival: 0,
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

    /// Whether any order on the side opposite `side` can be reached by `limit`.
    fn would_match(&self, side: Side, limit: Option<i64>) -> bool {
        self.resting
            .iter()
            .any(|r| r.side == opposite(side) && reaches(side, limit, r.price))
    }

    /// Sum of everything on the side opposite `side` that `limit` reaches.
    fn reachable_liquidity(&self, side: Side, limit: Option<i64>) -> u128 {
        self.resting
            .iter()
            .filter(|r| r.side == opposite(side) && reaches(side, limit, r.price))
            .map(|r| u128::from(r.qty))
            .sum()
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

    /// Trades a taker against the book until it is filled or nothing reachable is left.
    /// Returns the taker's open quantity.
    fn take(
        &mut self,
        taker: Uuid,
        side: Side,
        limit: Option<i64>,
        mut remaining: u64,
        out: &mut Vec<OrderbookResult>,
    ) -> u64 {
        while remaining > 0 {
            let Some(i) = self.next_maker(side, limit) else {
                break;
            };
            let fill = remaining.min(self.resting[i].qty);
            remaining -= fill;
            self.resting[i].qty -= fill;
            let maker = self.resting[i].clone();
            out.push(OrderbookResult::Trade {
                instrument_id: self.instrument,
                taker_order_id: taker,
                maker_order_id: maker.id,
                taker_side: side,
                price: maker.price,
                qty: fill,
                taker_remaining: remaining,
                maker_remaining: maker.qty,
            });
            if maker.qty == 0 {
                self.resting.remove(i);
            }
        }
        remaining
    }

    fn push_resting(&mut self, id: Uuid, side: Side, price: i64, qty: u64, post_only: bool) {
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.resting.push(Resting {
            id,
            side,
            price,
            qty,
            arrival,
            post_only,
        });
    }

    fn add(&mut self, order: &Order, out: &mut Vec<OrderbookResult>) {
        let id = order.order_id;
        let limit = if order.kind == OrderKind::Market {
            None
        } else {
            Some(order.price)
        };
        if self.halted {
            return out.push(self.reject(Op::Add, id, RejectReason::OrderbookHalted));
        }
        if order.quantity == 0 {
            return out.push(self.reject(Op::Add, id, RejectReason::InvalidQuantity));
        }
        if self.position(id).is_some() {
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
        });
        let mut remaining = order.quantity;
        let fok_fails = order.kind == OrderKind::Fok
            && self.reachable_liquidity(order.side, limit) < u128::from(order.quantity);
        if !fok_fails {
            remaining = self.take(id, order.side, limit, remaining, out);
        }
        if remaining == 0 {
            return;
        }
        match order.kind {
            OrderKind::Limit | OrderKind::PostOnly => self.push_resting(
                id,
                order.side,
                order.price,
                remaining,
                order.kind == OrderKind::PostOnly,
            ),
            OrderKind::Market | OrderKind::Ioc | OrderKind::Fok => {
                out.push(OrderbookResult::Expired {
                    instrument_id: self.instrument,
                    order_id: id,
                    side: order.side,
                    price: limit,
                    remaining_qty: remaining,
                })
            }
        }
    }

    fn cancel(&mut self, order_id: Uuid, out: &mut Vec<OrderbookResult>) {
        match self.position(order_id) {
            None => out.push(self.reject(Op::Cancel, order_id, RejectReason::UnknownOrder)),
            Some(i) => {
                let gone = self.resting.remove(i);
                out.push(OrderbookResult::Cancelled {
                    instrument_id: self.instrument,
                    order_id,
                    side: gone.side,
                    price: gone.price,
                    remaining_qty: gone.qty,
                });
            }
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
            return out.push(self.reject(Op::Modify, order_id, RejectReason::UnknownOrder));
        };
        let old = self.resting[i].clone();
        if old.post_only && self.would_match(old.side, Some(price)) {
            return out.push(self.reject(Op::Modify, order_id, RejectReason::PostOnlyWouldCross));
        }
        let priority_kept = price == old.price && qty <= old.qty;
        out.push(OrderbookResult::Modified {
            instrument_id: self.instrument,
            order_id,
            side: old.side,
            price,
            qty,
            old_price: old.price,
            old_qty: old.qty,
            priority_kept,
        });
        if priority_kept {
            self.resting[i].qty = qty;
            return;
        }
        // Leave the queue, trade as a taker if it now crosses, and re-enter behind
        // everything already at the new price.
        self.resting.remove(i);
        let remaining = self.take(order_id, old.side, Some(price), qty, out);
        if remaining > 0 {
            self.push_resting(order_id, old.side, price, remaining, old.post_only);
        }
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

    /// The best price on `side` and the total quantity there.
    #[must_use]
    pub fn best(&self, side: Side) -> Option<(i64, u128)> {
        self.prices(side)
            .first()
            .map(|&p| (p, self.depth_at(side, p)))
    }

    /// The best bid and its total quantity.
    #[must_use]
    pub fn best_bid(&self) -> Option<(i64, u128)> {
        self.best(Side::Buy)
    }

    /// The best ask and its total quantity.
    #[must_use]
    pub fn best_ask(&self) -> Option<(i64, u128)> {
        self.best(Side::Sell)
    }

    /// The total quantity resting at `price` on `side`.
    #[must_use]
    pub fn depth_at(&self, side: Side, price: i64) -> u128 {
        self.resting
            .iter()
            .filter(|r| r.side == side && r.price == price)
            .map(|r| u128::from(r.qty))
            .sum()
    }

    /// The open quantity of a resting order.
    #[must_use]
    pub fn order_qty(&self, order_id: &Uuid) -> Option<u64> {
        self.resting
            .iter()
            .find(|r| r.id == *order_id)
            .map(|r| r.qty)
    }

    /// The side, price and open quantity of a resting order.
    #[must_use]
    pub fn resting_order(&self, order_id: &Uuid) -> Option<(Side, i64, u64)> {
        self.resting
            .iter()
            .find(|r| r.id == *order_id)
            .map(|r| (r.side, r.price, r.qty))
    }

    /// How many orders rest.
    #[must_use]
    pub fn len(&self) -> usize {
        self.resting.len()
    }

    /// Whether nothing rests.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.resting.is_empty()
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
                            qty: r.qty,
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// The snapshot a `snapshot` op would publish now.
    #[must_use]
    pub fn snapshot(&self) -> BookSnapshot {
        BookSnapshot {
            halted: self.halted,
            bids: self.side_snapshot(Side::Buy),
            asks: self.side_snapshot(Side::Sell),
        }
    }
}
