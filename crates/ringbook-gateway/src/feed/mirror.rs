//! The publisher's copy of each book, kept from the event stream: which orders rest, under
//! which ITCH reference number, at which price and quantity, and which price levels are
//! occupied (to know whether an incoming order still crosses, and so whether its rest is
//! about to rest or more trades follow).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::num::NonZeroU64;

use foldhash::fast::RandomState;

use ringbook::{Price, Qty, Side, Uuid};

use super::levels::Levels;

/// One resting order as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resting {
    /// The ITCH Order Reference Number it was published under.
    pub(crate) order_ref: u64,
    /// Its side.
    pub(crate) side: Side,
    /// Its price in ticks.
    pub(crate) price: Price,
    /// The quantity published for it: its open quantity, or an iceberg's current slice.
    pub(crate) shown: Qty,
    /// An iceberg's display quantity, the size of each slice; `None` for other orders.
    pub(crate) display: Option<NonZeroU64>,
}

impl Resting {
    /// The slice an order of open quantity `qty` shows: min(display, qty), or all of it.
    pub(crate) fn slice(display: Option<NonZeroU64>, qty: Qty) -> Qty {
        display.map_or(qty, |d| d.get().min(qty))
    }
}

/// What a fill did to the resting order ([`BookMirror::fill`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fill {
    /// The reference number it was published under (0: never published).
    pub(crate) order_ref: u64,
    /// The order as it was, when its shown slice is exhausted with hidden quantity left:
    /// it has left the mirror, and its next slice rests as a new order.
    pub(crate) refill: Option<Resting>,
}

/// A parked stop-limit order: what its activation rests as if it does not fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Parked {
    /// Its side.
    pub(crate) side: Side,
    /// Its limit price.
    pub(crate) price: Price,
    /// Its quantity.
    pub(crate) qty: Qty,
    /// Its display quantity, if an iceberg.
    pub(crate) display: Option<NonZeroU64>,
}

/// An incoming order that has matched and may still match, whose rest is published as an
/// Add Order once it stops crossing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Taker {
    /// The order.
    pub(crate) order_id: Uuid,
    /// Its side.
    pub(crate) side: Side,
    /// Its limit price.
    pub(crate) price: Price,
    /// Its open quantity.
    pub(crate) qty: Qty,
    /// Its display quantity, if an iceberg: it rests showing slices of this size.
    pub(crate) display: Option<NonZeroU64>,
}

/// One book's published state.
#[derive(Debug, Default)]
pub(crate) struct BookMirror {
    /// Resting orders by id (as a `u128`: one multiply-fold to hash, where a `Uuid`'s
    /// hash goes through the byte-slice path with its length prefix).
    orders: HashMap<u128, Resting, RandomState>,
    /// Bid levels and their order counts.
    bids: Levels,
    /// Ask levels and their order counts.
    asks: Levels,
    /// The incoming order between its first trade and its rest, if any.
    pub(crate) taker: Option<Taker>,
    /// Whether the book is halted.
    pub(crate) halted: bool,
    /// Parked stop-limit orders by id (never published until activated and resting).
    /// By id as a `u128`; usually empty, and then never hashed into.
    parked: HashMap<u128, Parked, RandomState>,
}

impl BookMirror {
    /// Whether an order of `side` at `price` would match the opposite side now.
    #[inline]
    pub(crate) fn crosses(&self, side: Side, price: Price) -> bool {
        match side {
            Side::Buy => self.asks.best(Side::Sell).is_some_and(|ask| ask <= price),
            Side::Sell => self.bids.best(Side::Buy).is_some_and(|bid| bid >= price),
        }
    }

    /// Records a resting order.
    #[inline]
    pub(crate) fn insert(&mut self, order_id: Uuid, resting: Resting) {
        let side = resting.side;
        self.levels(side).add(side, resting.price);
        self.orders.insert(order_id.as_u128(), resting);
    }

    /// A resting order, to update in place.
    #[inline]
    pub(crate) fn get_mut(&mut self, order_id: &Uuid) -> Option<&mut Resting> {
        self.orders.get_mut(&order_id.as_u128())
    }

    /// Every resting order, in no particular order.
    pub(crate) fn resting(&self) -> impl Iterator<Item = &Resting> {
        self.orders.values()
    }

    /// Whether no order rests.
    pub(crate) fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// Records a parked stop-limit order.
    pub(crate) fn park(&mut self, order_id: Uuid, parked: Parked) {
        self.parked.insert(order_id.as_u128(), parked);
    }

    /// Takes a parked stop-limit order out, if it is one: a book with none parked
    /// (the usual case) answers without hashing.
    #[inline]
    pub(crate) fn unpark(&mut self, order_id: &Uuid) -> Option<Parked> {
        if self.parked.is_empty() {
            return None;
        }
        self.parked.remove(&order_id.as_u128())
    }

    /// A fill of `qty` against the resting order `order_id`, which has `remaining` open
    /// after it, with one lookup: its shown slice shrinks, and it goes when it has nothing
    /// open or its slice is exhausted with hidden quantity left (then it is returned as
    /// [`Fill::refill`], to rest again as a new slice). `None` when it does not rest here.
    #[inline]
    pub(crate) fn fill(&mut self, order_id: &Uuid, qty: Qty, remaining: Qty) -> Option<Fill> {
        let Entry::Occupied(mut entry) = self.orders.entry(order_id.as_u128()) else {
            return None;
        };
        let maker = entry.get_mut();
        maker.shown = maker.shown.saturating_sub(qty);
        let maker = *maker;
        let refill = (maker.shown == 0 && remaining > 0).then_some(maker);
        if remaining == 0 || refill.is_some() {
            entry.remove();
            self.leave_level(&maker);
        }
        Some(Fill {
            order_ref: maker.order_ref,
            refill,
        })
    }

    /// Forgets a resting order, returning it.
    #[inline]
    pub(crate) fn remove(&mut self, order_id: &Uuid) -> Option<Resting> {
        let resting = self.orders.remove(&order_id.as_u128())?;
        self.leave_level(&resting);
        Some(resting)
    }

    /// Takes `resting`, just forgotten, off the count of its price level.
    #[inline]
    fn leave_level(&mut self, resting: &Resting) {
        let side = resting.side;
        self.levels(side).remove(side, resting.price);
    }

    #[inline]
    fn levels(&mut self, side: Side) -> &mut Levels {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resting(order_ref: u64, side: Side, price: Price) -> Resting {
        Resting {
            order_ref,
            side,
            price,
            shown: 1,
            display: None,
        }
    }

    #[test]
    fn crossing_follows_the_best_level_as_orders_come_and_go() {
        let mut book = BookMirror::default();
        assert!(!book.crosses(Side::Buy, i64::MAX));
        assert!(!book.crosses(Side::Sell, i64::MIN));
        let ids: Vec<Uuid> = (1..=6).map(Uuid::from_u128).collect();
        book.insert(ids[0], resting(1, Side::Sell, 105));
        book.insert(ids[1], resting(2, Side::Sell, 103));
        book.insert(ids[2], resting(3, Side::Sell, 103));
        book.insert(ids[3], resting(4, Side::Buy, 99));
        book.insert(ids[4], resting(5, Side::Buy, 101));
        book.insert(ids[5], resting(6, Side::Buy, -5));
        assert!(book.crosses(Side::Buy, 103) && !book.crosses(Side::Buy, 102));
        assert!(book.crosses(Side::Sell, 101) && !book.crosses(Side::Sell, 102));
        // The best ask level holds two orders: it stays until both go.
        book.remove(&ids[1]);
        assert!(book.crosses(Side::Buy, 103));
        book.remove(&ids[2]);
        assert!(!book.crosses(Side::Buy, 104) && book.crosses(Side::Buy, 105));
        book.remove(&ids[4]);
        assert!(!book.crosses(Side::Sell, 100) && book.crosses(Side::Sell, 99));
        book.remove(&ids[3]);
        assert!(book.crosses(Side::Sell, -5) && !book.crosses(Side::Sell, -4));
        assert_eq!(book.remove(&ids[3]), None, "an order is removed once");
        book.remove(&ids[5]);
        book.remove(&ids[0]);
        assert!(!book.crosses(Side::Buy, i64::MAX) && !book.crosses(Side::Sell, i64::MIN));
        assert!(book.bids.is_empty() && book.asks.is_empty());
    }

    #[test]
    fn a_fill_shrinks_the_slice_and_removes_the_order_when_done_or_exhausted() {
        let mut book = BookMirror::default();
        let (plain, iceberg, gone) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        book.insert(plain, resting(7, Side::Sell, 101));
        let mut slice = resting(8, Side::Sell, 102);
        slice.shown = 5;
        slice.display = NonZeroU64::new(5);
        book.insert(iceberg, slice);
        assert_eq!(book.fill(&gone, 1, 0), None, "an order that does not rest");
        // A partial fill of a slice: the order stays, showing less.
        let partial = book.fill(&iceberg, 2, 10).unwrap();
        assert_eq!((partial.order_ref, partial.refill), (8, None));
        assert_eq!(book.get_mut(&iceberg).map(|r| r.shown), Some(3));
        // The slice exhausted with hidden quantity left: it leaves, returned for a refill.
        let exhausted = book.fill(&iceberg, 3, 7).unwrap();
        assert_eq!(exhausted.order_ref, 8);
        assert_eq!(exhausted.refill.map(|r| (r.shown, r.price)), Some((0, 102)));
        assert_eq!(book.get_mut(&iceberg), None);
        assert!(book.crosses(Side::Buy, 101) && !book.crosses(Side::Buy, 100));
        // Filled in full: it leaves, and so does its level.
        let full = book.fill(&plain, 1, 0).unwrap();
        assert_eq!((full.order_ref, full.refill), (7, None));
        assert!(book.is_empty() && !book.crosses(Side::Buy, i64::MAX));
    }

    #[test]
    fn crossing_holds_at_the_ends_of_the_price_range() {
        let mut book = BookMirror::default();
        let ids: Vec<Uuid> = (1..=4).map(Uuid::from_u128).collect();
        book.insert(ids[0], resting(1, Side::Buy, i64::MIN));
        book.insert(ids[1], resting(2, Side::Sell, i64::MAX));
        assert!(book.crosses(Side::Buy, i64::MAX) && !book.crosses(Side::Buy, i64::MAX - 1));
        assert!(book.crosses(Side::Sell, i64::MIN) && !book.crosses(Side::Sell, i64::MIN + 1));
        book.insert(ids[2], resting(3, Side::Buy, 100));
        book.insert(ids[3], resting(4, Side::Sell, 103));
        assert!(book.crosses(Side::Sell, 100) && !book.crosses(Side::Sell, 101));
        assert!(book.crosses(Side::Buy, 103) && !book.crosses(Side::Buy, 102));
        book.remove(&ids[2]);
        book.remove(&ids[3]);
        assert!(book.crosses(Side::Buy, i64::MAX) && !book.crosses(Side::Buy, i64::MAX - 1));
        assert!(book.crosses(Side::Sell, i64::MIN) && !book.crosses(Side::Sell, i64::MIN + 1));
    }
}
