//! The publisher's copy of each book, kept from the event stream: which orders rest, under
//! which ITCH reference number, at which price and quantity, and which price levels are
//! occupied (to know whether an incoming order still crosses, and so whether its rest is
//! about to rest or more trades follow).

use std::cmp::Ordering;
use std::collections::HashMap;

use foldhash::fast::RandomState;

use ringbook::{Price, Qty, Side, Uuid};

/// One resting order as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resting {
    /// The ITCH Order Reference Number it was published under.
    pub(crate) order_ref: u64,
    /// Its side.
    pub(crate) side: Side,
    /// Its price in ticks.
    pub(crate) price: Price,
    /// Its whole open quantity (an iceberg's hidden part included).
    pub(crate) qty: Qty,
    /// The quantity published for it: its open quantity, or an iceberg's current slice.
    pub(crate) shown: Qty,
    /// An iceberg's display quantity, the size of each slice; `None` for other orders.
    pub(crate) display: Option<Qty>,
}

impl Resting {
    /// The slice an order of open quantity `qty` shows: min(display, qty), or all of it.
    pub(crate) fn slice(display: Option<Qty>, qty: Qty) -> Qty {
        display.map_or(qty, |d| d.min(qty))
    }
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
    pub(crate) display: Option<Qty>,
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
    pub(crate) display: Option<Qty>,
}

/// One book's published state.
#[derive(Debug, Default)]
pub(crate) struct BookMirror {
    /// Resting orders by id.
    pub(crate) orders: HashMap<Uuid, Resting, RandomState>,
    /// Bid levels and their order counts.
    bids: Levels,
    /// Ask levels and their order counts.
    asks: Levels,
    /// The incoming order between its first trade and its rest, if any.
    pub(crate) taker: Option<Taker>,
    /// Whether the book is halted.
    pub(crate) halted: bool,
    /// Parked stop-limit orders by id (never published until activated and resting).
    pub(crate) parked: HashMap<Uuid, Parked, RandomState>,
}

impl BookMirror {
    /// Whether an order of `side` at `price` would match the opposite side now.
    pub(crate) fn crosses(&self, side: Side, price: Price) -> bool {
        match side {
            Side::Buy => self.asks.best().is_some_and(|ask| ask <= price),
            Side::Sell => self.bids.best().is_some_and(|bid| bid >= price),
        }
    }

    /// Records a resting order.
    pub(crate) fn insert(&mut self, order_id: Uuid, resting: Resting) {
        let side = resting.side;
        self.levels(side).add(side, resting.price);
        self.orders.insert(order_id, resting);
    }

    /// Forgets a resting order, returning it.
    pub(crate) fn remove(&mut self, order_id: &Uuid) -> Option<Resting> {
        let resting = self.orders.remove(order_id)?;
        let side = resting.side;
        self.levels(side).remove(side, resting.price);
        Some(resting)
    }

    fn levels(&mut self, side: Side) -> &mut Levels {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }
}

/// One side's occupied price levels with their order counts, sorted so that the best
/// level is last: a binary search finds a level, and the levels that come and go are
/// mostly near the best, at the end of the vector (little to move, no node allocation).
#[derive(Debug, Default)]
struct Levels(Vec<(Price, u32)>);

/// The order of levels on `side`, worst first.
fn worst_first(side: Side, level: Price, price: Price) -> Ordering {
    match side {
        Side::Buy => level.cmp(&price),
        Side::Sell => price.cmp(&level),
    }
}

impl Levels {
    /// The best price, if any level is occupied.
    fn best(&self) -> Option<Price> {
        self.0.last().map(|&(price, _)| price)
    }

    /// One more order at `price`.
    fn add(&mut self, side: Side, price: Price) {
        match self
            .0
            .binary_search_by(|&(level, _)| worst_first(side, level, price))
        {
            Ok(i) => self.0[i].1 += 1,
            Err(i) => self.0.insert(i, (price, 1)),
        }
    }

    /// One order fewer at `price`; the level goes when it has none left.
    fn remove(&mut self, side: Side, price: Price) {
        if let Ok(i) = self
            .0
            .binary_search_by(|&(level, _)| worst_first(side, level, price))
        {
            self.0[i].1 -= 1;
            if self.0[i].1 == 0 {
                self.0.remove(i);
            }
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
            qty: 1,
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
        assert!(book.bids.0.is_empty() && book.asks.0.is_empty());
    }
}
