//! Read-only questions a book answers from its own state.

use std::ops::ControlFlow;

use uuid::Uuid;

use super::ids::{Ids, Own};
use super::slab::NIL;
use super::{OrderBook, RawId, Slot};
use crate::result::{BookSnapshot, BookStatus, SnapshotLevel, SnapshotOrder};
use crate::types::{Price, Qty, Side};

impl OrderBook {
    /// The best bid price and the total quantity resting there.
    #[inline]
    #[must_use]
    pub fn best_bid(&self) -> Option<(Price, u128)> {
        self.top(Side::Buy)
    }

    /// The best ask price and the total quantity resting there.
    #[inline]
    #[must_use]
    pub fn best_ask(&self) -> Option<(Price, u128)> {
        self.top(Side::Sell)
    }

    #[inline]
    fn top(&self, side: Side) -> Option<(Price, u128)> {
        let ladder = self.ladder(side);
        ladder
            .best_price()
            .and_then(|price| Some((price, ladder.get(price)?.total())))
    }

    /// The total quantity resting at `price` on `side` (0 where no order rests).
    #[must_use]
    pub fn depth_at(&self, side: Side, price: Price) -> u128 {
        self.ladder(side)
            .get(price)
            .map_or(0, |level| level.total())
    }

    /// The open quantity of the resting order `order_id`, if it rests here.
    #[must_use]
    pub fn order_qty(&self, order_id: &Uuid) -> Option<Qty> {
        self.find(order_id).map(|slot| self.orders[slot].qty)
    }

    /// The side, price and open quantity of the resting order `order_id`.
    #[must_use]
    pub fn resting_order(&self, order_id: &Uuid) -> Option<(Side, Price, Qty)> {
        self.find(order_id).map(|slot| {
            let s = &self.orders[slot];
            (s.side(), s.price, s.qty)
        })
    }

    /// The slot of `order_id`. While the book's ids are in a shared index (a consumer's
    /// or a [`super::BookGroup`]'s, which do not answer queries by id) a scan of its
    /// levels and parked stops, O(orders), in the slots lent to it (see
    /// `shared_slots.rs`; none found when none are).
    pub(super) fn find(&self, order_id: &Uuid) -> Option<u32> {
        if self.ids_shared {
            return self.find_shared(order_id);
        }
        self.index
            .find(order_id, |s| self.orders[s].order_id.uuid())
    }

    /// How many orders rest in the book, both sides.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        if self.ids_shared {
            // Counted on the levels: O(levels).
            return [Side::Buy, Side::Sell]
                .iter()
                .map(|&side| {
                    let mut count = 0;
                    self.ladder(side).walk_best_first(|_, level| {
                        count += level.count as usize;
                        std::ops::ControlFlow::Continue(())
                    });
                    count
                })
                .sum();
        }
        // Parked stops' ids are indexed with the resting orders'.
        self.index.len() - self.long.stops.len()
    }

    /// Whether no order rests in the book.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many price levels `side` has.
    #[inline]
    #[must_use]
    pub fn levels(&self, side: Side) -> usize {
        self.ladder(side).len()
    }

    /// The book's top of book and counts, as a `status` op publishes them.
    #[must_use]
    pub fn status(&self) -> BookStatus {
        self.status_of(self.len())
    }

    /// [`Self::status`] of a book with `orders` resting (its id index counts them in
    /// O(1), whichever index it is).
    pub(super) fn status_of(&self, orders: usize) -> BookStatus {
        let bid = self.best_bid();
        let ask = self.best_ask();
        BookStatus {
            halted: self.halted,
            best_bid: bid.map(|(p, _)| p),
            best_bid_qty: bid.map_or(0, |(_, q)| q),
            best_ask: ask.map(|(p, _)| p),
            best_ask_qty: ask.map_or(0, |(_, q)| q),
            bid_levels: self.bids.len() as u64,
            ask_levels: self.asks.len() as u64,
            orders: orders as u64,
            stops: self.long.stops.len() as u64,
            last_trade_price: self.last_trade_price,
        }
    }

    /// An L3 snapshot: every level best first, every order in time priority.
    #[must_use]
    pub fn snapshot(&self) -> BookSnapshot {
        self.snapshot_with(&Own)
    }

    /// [`Self::snapshot`] of the book's orders in `ix`'s slots (see `ids.rs`). Out of
    /// line: a snapshot is rare.
    #[inline(never)]
    pub(super) fn snapshot_with<X: Ids>(&self, ix: &X) -> BookSnapshot {
        BookSnapshot {
            halted: self.halted,
            bids: self.side_snapshot(ix, Side::Buy),
            asks: self.side_snapshot(ix, Side::Sell),
            stops: self
                .long
                .stops
                .iter()
                .map(|(_, o)| crate::result::SnapshotStop {
                    order_id: o.order_id,
                    side: o.side,
                    kind: o.kind,
                    trigger: o.trigger().expect("a parked order is a stop"),
                    price: o.limit_price(),
                    qty: o.quantity,
                })
                .collect(),
        }
    }

    fn side_snapshot<X: Ids>(&self, ix: &X, side: Side) -> Vec<SnapshotLevel> {
        let ladder = self.ladder(side);
        let mut out = Vec::with_capacity(ladder.len());
        ladder.walk_best_first(|price, lvl| {
            let mut orders = Vec::with_capacity(lvl.count as usize);
            let mut slot = lvl.head;
            while slot != NIL {
                let s = &ix.slots(&self.orders)[slot];
                orders.push(SnapshotOrder {
                    order_id: s.order_id.uuid(),
                    qty: s.qty,
                });
                slot = s.next;
            }
            out.push(SnapshotLevel { price, orders });
            ControlFlow::Continue(())
        });
        out
    }

    /// Bytes of heap the book holds: its order slab, id index, and each side's tick window
    /// of levels and tree of outlying levels (B-tree nodes estimated from their entry
    /// count). Used to report memory per order.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let ladders = self.bids.heap_bytes() + self.asks.heap_bytes();
        self.orders.heap_bytes() + self.index.heap_bytes() + ladders
    }

    /// Calls `f` with every resting order of `side` and its slot, best level first, each
    /// level in time priority: the book's orders, along its levels (never the slab's
    /// range, which may hold other books' orders: see `shared_slots.rs`).
    pub(super) fn for_each_slot<X: Ids>(&self, ix: &X, side: Side, mut f: impl FnMut(u32, &Slot)) {
        let orders = ix.slots(&self.orders);
        self.ladder(side).walk_best_first(|_, level| {
            let mut slot = level.head;
            while slot != NIL {
                let order = &orders[slot];
                f(slot, order);
                slot = order.next;
            }
            ControlFlow::Continue(())
        });
    }

    /// [`Self::find`] in a book whose ids are shared: walks its levels and its parked
    /// stops' homes, each slot read checked (the book holds slots only while they are lent
    /// to it).
    fn find_shared(&self, order_id: &Uuid) -> Option<u32> {
        let id = RawId::from(order_id);
        let mut found = None;
        for side in [Side::Buy, Side::Sell] {
            self.ladder(side).walk_best_first(|_, level| {
                let mut slot = level.head;
                while let Some(order) = self.orders.get(slot) {
                    if order.order_id == id {
                        found = Some(slot);
                        return ControlFlow::Break(());
                    }
                    slot = order.next;
                }
                ControlFlow::Continue(())
            });
        }
        found.or_else(|| {
            self.long.stops.iter_refs().find_map(|(_, stop, order)| {
                let (_, home) = self.long.stops.parked_at(stop)?;
                (order.order_id == *order_id).then_some(home)
            })
        })
    }
}
