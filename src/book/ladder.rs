//! One side of a book: its price levels in price order, with the best one cached.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use super::slab::NIL;
use crate::types::{Price, Side};

/// One price level: a FIFO of resting orders linked through their slots.
#[derive(Clone, Debug)]
pub(crate) struct Level {
    /// The level's price.
    pub(crate) price: Price,
    /// The sum of the open quantities at this level. `u128`: a level may hold more than
    /// `u64::MAX` lots in total, and this sum never overflows (2^32 orders of 2^64 lots).
    pub(crate) total: u128,
    /// The earliest order (next to match), or [`NIL`].
    pub(crate) head: u32,
    /// The latest order, or [`NIL`].
    pub(crate) tail: u32,
    /// How many orders rest here.
    pub(crate) count: u32,
}

impl Level {
    /// An empty level at `price`.
    pub(crate) fn new(price: Price) -> Level {
        Level {
            price,
            total: 0,
            head: NIL,
            tail: NIL,
            count: 0,
        }
    }
}

/// The seed of the price index hasher (fixed, like the id index's).
const SEED: u64 = 0x4c41_4444_4552_0001;

/// The price levels of one side, ordered by price, with the best level cached so the top
/// of book is O(1). Finding an existing level is O(1) (a hash index beside the tree);
/// inserting or removing a level is O(log levels).
#[derive(Clone, Debug)]
pub(crate) struct Ladder {
    side: Side,
    /// Price order: for the next best level and for walks.
    levels: BTreeMap<Price, u32>,
    /// Price to level slot: for adds at a level that exists, the common case.
    index: HashMap<Price, u32, FixedState>,
    best: u32,
    best_price: Price,
}

impl Ladder {
    /// An empty ladder for `side`.
    pub(crate) fn new(side: Side) -> Ladder {
        Ladder {
            side,
            levels: BTreeMap::new(),
            index: HashMap::with_hasher(FixedState::with_seed(SEED)),
            best: NIL,
            best_price: 0,
        }
    }

    /// Whether price `a` is strictly better than `b` on this side.
    #[inline]
    pub(crate) fn better(&self, a: Price, b: Price) -> bool {
        match self.side {
            Side::Buy => a > b,
            Side::Sell => a < b,
        }
    }

    /// The best level's slot index, or [`NIL`] when the side is empty.
    #[inline]
    pub(crate) fn best(&self) -> u32 {
        self.best
    }

    /// The best price, if the side has one.
    #[inline]
    pub(crate) fn best_price(&self) -> Option<Price> {
        (self.best != NIL).then_some(self.best_price)
    }

    /// Whether a taker of the opposite side with this limit (`None`: market) would match
    /// the best level here.
    #[inline]
    pub(crate) fn crossed_by(&self, limit: Option<Price>) -> bool {
        self.best != NIL
            && match limit {
                None => true,
                Some(limit) => match self.side {
                    // Resting asks: a buy limit matches asks priced at or below it.
                    Side::Sell => self.best_price <= limit,
                    // Resting bids: a sell limit matches bids priced at or above it.
                    Side::Buy => self.best_price >= limit,
                },
            }
    }

    /// The level slot at `price`, if the side has one.
    #[inline]
    pub(crate) fn get(&self, price: Price) -> Option<u32> {
        if self.best != NIL && self.best_price == price {
            return Some(self.best);
        }
        self.index.get(&price).copied()
    }

    /// The level slot the tree holds at `price`, bypassing the cached best (for integrity
    /// checks: the cache must agree with the tree).
    pub(crate) fn get_uncached(&self, price: Price) -> Option<u32> {
        self.levels.get(&price).copied()
    }

    /// Whether the price index holds exactly the tree's levels (for integrity checks).
    pub(crate) fn index_agrees(&self) -> bool {
        self.index.len() == self.levels.len()
            && self
                .levels
                .iter()
                .all(|(price, level)| self.index.get(price) == Some(level))
    }

    /// Points the cached best at another level slot (tests corrupt the cache with it).
    #[cfg(test)]
    pub(crate) fn corrupt_cached_best(&mut self, level: u32) {
        self.best = level;
    }

    /// Adds the level slot `level` at `price`, which must not be present yet.
    #[inline]
    pub(crate) fn insert(&mut self, price: Price, level: u32) {
        let previous = self.levels.insert(price, level);
        debug_assert!(previous.is_none(), "level {price} inserted twice");
        self.index.insert(price, level);
        if self.best == NIL || self.better(price, self.best_price) {
            self.best = level;
            self.best_price = price;
        }
    }

    /// Removes the level at `price`, which must be present.
    #[inline]
    pub(crate) fn remove(&mut self, price: Price) {
        let removed = self.levels.remove(&price);
        debug_assert!(removed.is_some(), "level {price} removed but absent");
        self.index.remove(&price);
        if self.best != NIL && self.best_price == price {
            let next = match self.side {
                Side::Buy => self.levels.last_key_value(),
                Side::Sell => self.levels.first_key_value(),
            };
            match next {
                Some((&price, &level)) => {
                    self.best = level;
                    self.best_price = price;
                }
                None => self.best = NIL,
            }
        }
    }

    /// How many levels the side has.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.levels.len()
    }

    /// Calls `f` with each level's price and slot, best first, until it breaks.
    #[inline]
    pub(crate) fn walk_best_first(&self, mut f: impl FnMut(Price, u32) -> ControlFlow<()>) {
        let _ = match self.side {
            Side::Buy => self.levels.iter().rev().try_for_each(|(&p, &l)| f(p, l)),
            Side::Sell => self.levels.iter().try_for_each(|(&p, &l)| f(p, l)),
        };
    }

    /// Bytes held by the price index and (estimated: a node per eight entries) the tree.
    pub(crate) fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Price, u32)>();
        self.index.allocation_size() + self.levels.len() * entry * 11 / 8
    }

    /// Every level's price and slot in ascending price order (for integrity checks).
    pub(crate) fn iter_ascending(&self) -> impl Iterator<Item = (Price, u32)> + '_ {
        self.levels.iter().map(|(&p, &l)| (p, l))
    }
}
