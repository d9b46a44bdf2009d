//! The publisher's copy of each book, kept from the event stream: which orders rest, under
//! which ITCH reference number, at which price and quantity, and which price levels are
//! occupied (to know whether an incoming order still crosses, and so whether its rest is
//! about to rest or more trades follow).

use std::collections::{BTreeMap, HashMap};

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
    /// Its open quantity.
    pub(crate) qty: Qty,
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
}

/// One book's published state.
#[derive(Debug, Default)]
pub(crate) struct BookMirror {
    /// Resting orders by id.
    pub(crate) orders: HashMap<Uuid, Resting, RandomState>,
    /// Bid levels: price to order count.
    bids: BTreeMap<Price, u32>,
    /// Ask levels: price to order count.
    asks: BTreeMap<Price, u32>,
    /// The incoming order between its first trade and its rest, if any.
    pub(crate) taker: Option<Taker>,
    /// Whether the book is halted.
    pub(crate) halted: bool,
}

impl BookMirror {
    /// Whether an order of `side` at `price` would match the opposite side now.
    pub(crate) fn crosses(&self, side: Side, price: Price) -> bool {
        match side {
            Side::Buy => self.asks.keys().next().is_some_and(|&ask| ask <= price),
            Side::Sell => self
                .bids
                .keys()
                .next_back()
                .is_some_and(|&bid| bid >= price),
        }
    }

    /// Records a resting order.
    pub(crate) fn insert(&mut self, order_id: Uuid, resting: Resting) {
        *self.levels(resting.side).entry(resting.price).or_insert(0) += 1;
        self.orders.insert(order_id, resting);
    }

    /// Forgets a resting order, returning it.
    pub(crate) fn remove(&mut self, order_id: &Uuid) -> Option<Resting> {
        let resting = self.orders.remove(order_id)?;
        let levels = self.levels(resting.side);
        if let Some(count) = levels.get_mut(&resting.price) {
            *count -= 1;
            if *count == 0 {
                levels.remove(&resting.price);
            }
        }
        Some(resting)
    }

    fn levels(&mut self, side: Side) -> &mut BTreeMap<Price, u32> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }
}
