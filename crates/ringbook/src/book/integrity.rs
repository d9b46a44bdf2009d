//! `check_integrity`: the book's invariants, verified from scratch.

use std::collections::HashSet;

use uuid::Uuid;

use super::OrderBook;
use super::ids::Own;
use super::ladder::Level;
use super::slab::NIL;
use crate::types::{Price, Side};

/// A broken book invariant, with the facts that locate it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// The best bid is at or above the best ask.
    #[error("book {instrument} is crossed: best bid {bid} >= best ask {ask}")]
    Crossed {
        /// The book.
        instrument: Uuid,
        /// Best bid price.
        bid: Price,
        /// Best ask price.
        ask: Price,
    },
    /// A level's cached total differs from the sum of its orders.
    #[error("book {instrument}: {side} level {price} total {cached} != sum of orders {summed}")]
    LevelTotal {
        /// The book.
        instrument: Uuid,
        /// The side.
        side: Side,
        /// The level.
        price: Price,
        /// The total the level holds.
        cached: u128,
        /// The sum of its orders' quantities.
        summed: u128,
    },
    /// A level's FIFO is malformed: broken links, wrong count, an empty level, or an
    /// order that points at another level or side.
    #[error("book {instrument}: {side} level {price}: {what}")]
    LevelQueue {
        /// The book.
        instrument: Uuid,
        /// The side.
        side: Side,
        /// The level.
        price: Price,
        /// What is wrong.
        what: String,
    },
    /// The cached best level is not the best level of the side.
    #[error("book {instrument}: cached best {side} {cached:?} but the best level is {actual:?}")]
    BestLevel {
        /// The book.
        instrument: Uuid,
        /// The side.
        side: Side,
        /// The cached best price.
        cached: Option<Price>,
        /// The best price of the side's levels.
        actual: Option<Price>,
    },
    /// A resting order has open quantity zero.
    #[error("book {instrument}: order {order_id} rests with quantity 0")]
    ZeroQuantity {
        /// The book.
        instrument: Uuid,
        /// The order.
        order_id: Uuid,
    },
    /// The id index and the levels disagree.
    #[error("book {instrument}: id index disagrees with levels: {what}")]
    Index {
        /// The book.
        instrument: Uuid,
        /// What is wrong.
        what: String,
    },
}

impl OrderBook {
    /// Verifies every invariant of the book: not crossed, each level's total equals the
    /// sum of its orders, each level's FIFO is well linked and non-empty, the cached best
    /// levels are the best, no resting order has quantity zero, and the id index holds
    /// exactly the orders on the levels.
    ///
    /// Runs in O(orders); meant for tests and audits, not the hot path.
    ///
    /// # Errors
    ///
    /// The first broken invariant found, with the book, side, price or order concerned.
    pub fn check_integrity(&self) -> Result<(), IntegrityError> {
        let instrument = self.instrument_id;
        if let (Some((bid, _)), Some((ask, _))) = (self.best_bid(), self.best_ask())
            && bid >= ask
        {
            return Err(IntegrityError::Crossed {
                instrument,
                bid,
                ask,
            });
        }
        let mut on_levels: HashSet<u32> = HashSet::with_capacity(self.len());
        for side in [Side::Buy, Side::Sell] {
            let ladder = self.ladder(side);
            let prices: Vec<(Price, &Level)> = ladder.iter_ascending().collect();
            let actual_best = match side {
                Side::Buy => prices.last(),
                Side::Sell => prices.first(),
            }
            .map(|&(p, _)| p);
            if !ladder.window_consistent() {
                return Err(IntegrityError::LevelQueue {
                    instrument,
                    side,
                    price: actual_best.unwrap_or_default(),
                    what: "the tick window disagrees with its bits, or the tree holds a price the window spans".into(),
                });
            }
            if actual_best != ladder.best_price() {
                return Err(IntegrityError::BestLevel {
                    instrument,
                    side,
                    cached: ladder.best_price(),
                    actual: actual_best,
                });
            }
            for (price, level) in prices {
                self.check_level(side, price, level, &mut on_levels)?;
            }
        }
        let index_err = |what: String| IntegrityError::Index { instrument, what };
        // Parked stops' ids are indexed too, each at its home slot.
        let parked = self.long.stops.len();
        // While shared, the book's ids are in its consumer's index, checked there.
        if !self.ids_shared && self.index.len() != on_levels.len() + parked {
            return Err(index_err(format!(
                "{} ids indexed, {} orders on levels and {parked} parked stops",
                self.index.len(),
                on_levels.len()
            )));
        }
        for slot in self.index.slots() {
            if !on_levels.contains(&slot) && !self.is_home(&Own, slot) {
                return Err(index_err(format!(
                    "indexed slot {slot} is on no level and no parked stop's home"
                )));
            }
            let id = self.orders[slot].order_id.uuid();
            if self.find(&id) != Some(slot) {
                return Err(index_err(format!(
                    "order {id} does not look up to its slot {slot}"
                )));
            }
        }
        self.index
            .check(|s| self.orders[s].order_id.uuid())
            .map_err(index_err)?;
        if self.orders.live() != on_levels.len() + parked {
            return Err(index_err(format!(
                "{} live slots, {} orders on levels and {parked} parked stops",
                self.orders.live(),
                on_levels.len()
            )));
        }
        let live_marked = self.orders.iter_all().filter(|(_, s)| s.qty > 0).count();
        if live_marked != on_levels.len() {
            return Err(index_err(format!(
                "{live_marked} slots hold quantity, {} orders on levels",
                on_levels.len()
            )));
        }
        Ok(())
    }

    fn check_level(
        &self,
        side: Side,
        price: Price,
        lvl: &Level,
        seen: &mut HashSet<u32>,
    ) -> Result<(), IntegrityError> {
        let instrument = self.instrument_id;
        let queue_err = |what: String| IntegrityError::LevelQueue {
            instrument,
            side,
            price,
            what,
        };
        if lvl.count == 0 || lvl.head == NIL {
            return Err(queue_err("empty level is still listed".into()));
        }
        let mut summed = 0u128;
        let mut count = 0u32;
        let mut prev = NIL;
        let mut slot = lvl.head;
        while slot != NIL {
            let Some(s) = self.orders.get(slot) else {
                return Err(queue_err(format!("order slot {slot} is outside the slab")));
            };
            if !seen.insert(slot) {
                return Err(queue_err(format!("slot {slot} is linked twice")));
            }
            if s.qty == 0 {
                return Err(IntegrityError::ZeroQuantity {
                    instrument,
                    order_id: s.order_id.uuid(),
                });
            }
            if s.price != price || s.side() != side {
                return Err(queue_err(format!(
                    "order {} says it rests at {} {}",
                    s.order_id.uuid(),
                    s.side(),
                    s.price
                )));
            }
            if s.prev != prev {
                return Err(queue_err(format!(
                    "order {} has a wrong back link",
                    s.order_id.uuid()
                )));
            }
            summed += u128::from(s.qty);
            count += 1;
            prev = slot;
            slot = s.next;
        }
        if prev != lvl.tail {
            return Err(queue_err("tail is not the last order".into()));
        }
        if count != lvl.count {
            return Err(queue_err(format!(
                "count {} but {count} orders linked",
                lvl.count
            )));
        }
        if summed != lvl.total() {
            return Err(IntegrityError::LevelTotal {
                instrument,
                side,
                price,
                cached: lvl.total(),
                summed,
            });
        }
        Ok(())
    }
}
