//! Price levels kept as a sorted vector: the fallback of [`super::levels::Levels`] for
//! prices outside its tick window.

use ringbook::{Price, Side};

/// One side's occupied price levels outside the tick window of [`super::levels::Levels`]
/// (or all of them, for prices too far apart for one), with their order counts, sorted
/// so that the best level is last: the levels that come and go are mostly near the best, at the end of the
/// vectors (little to move, no node allocation). Prices are kept as [`level_key`]s, in
/// which ascending order is worst first on either side, so a search is a plain
/// comparison of integers (no side test per step); the best level is tried before any
/// search.
#[derive(Debug, Default)]
pub(crate) struct FarLevels {
    /// The levels' keys, ascending (worst first).
    keys: Vec<u64>,
    /// Each level's order count, by position in `keys`.
    counts: Vec<u32>,
}

/// A price as a key in which ascending order is worst first on `side`: the price with
/// its sign bit flipped (signed order as unsigned) for bids, its complement for asks.
fn level_key(side: Side, price: Price) -> u64 {
    let ascending = price.cast_unsigned() ^ (1 << 63);
    match side {
        Side::Buy => ascending,
        Side::Sell => !ascending,
    }
}

/// The price of a [`level_key`].
fn level_price(side: Side, key: u64) -> Price {
    let ascending = match side {
        Side::Buy => key,
        Side::Sell => !key,
    };
    (ascending ^ (1 << 63)).cast_signed()
}

impl FarLevels {
    /// The best price, if any level is occupied.
    #[inline]
    pub(crate) fn best(&self, side: Side) -> Option<Price> {
        self.keys.last().map(|&key| level_price(side, key))
    }

    /// One more order at `price`: the best level's count at once (the usual case: orders
    /// join near the best), else [`Self::add_inside`].
    #[inline]
    pub(crate) fn add(&mut self, side: Side, price: Price) {
        let key = level_key(side, price);
        if let (Some(&best), Some(count)) = (self.keys.last(), self.counts.last_mut()) {
            if best == key {
                *count += 1;
                return;
            }
            if best < key {
                self.keys.push(key);
                self.counts.push(1);
                return;
            }
        }
        self.add_inside(key);
    }

    /// One more order at a level behind the best (or in an empty side).
    #[inline(never)]
    fn add_inside(&mut self, key: u64) {
        match self.keys.binary_search(&key) {
            Ok(i) => self.counts[i] += 1,
            Err(i) => {
                self.keys.insert(i, key);
                self.counts.insert(i, 1);
            }
        }
    }

    /// One order fewer at `price`; the level goes when it has none left: the best level
    /// at once, else [`Self::remove_inside`].
    #[inline]
    pub(crate) fn remove(&mut self, side: Side, price: Price) {
        let key = level_key(side, price);
        if let (Some(&best), Some(count)) = (self.keys.last(), self.counts.last_mut())
            && best == key
        {
            *count -= 1;
            if *count == 0 {
                self.keys.pop();
                self.counts.pop();
            }
            return;
        }
        self.remove_inside(key);
    }

    /// One order fewer at a level behind the best.
    #[inline(never)]
    fn remove_inside(&mut self, key: u64) {
        if let Ok(i) = self.keys.binary_search(&key) {
            self.counts[i] -= 1;
            if self.counts[i] == 0 {
                self.keys.remove(i);
                self.counts.remove(i);
            }
        }
    }

    /// Whether no level is occupied.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Takes out every level priced in `low..=high`, handing each price and order count
    /// to `take`.
    pub(crate) fn take_range(
        &mut self,
        side: Side,
        low: Price,
        high: Price,
        mut take: impl FnMut(Price, u32),
    ) {
        let mut i = 0;
        while i < self.keys.len() {
            let price = level_price(side, self.keys[i]);
            if (low..=high).contains(&price) {
                take(price, self.counts[i]);
                self.keys.remove(i);
                self.counts.remove(i);
            } else {
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_keys_sort_worst_first_on_both_sides_and_give_back_their_price() {
        let prices = [i64::MIN, -5, -1, 0, 1, 99, i64::MAX];
        for side in [Side::Buy, Side::Sell] {
            let keys: Vec<u64> = prices.iter().map(|&p| level_key(side, p)).collect();
            for (&price, &key) in prices.iter().zip(&keys) {
                assert_eq!(level_price(side, key), price, "{side:?}");
            }
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            // Worst first: bids ascending in price, asks descending.
            let expected: Vec<u64> = match side {
                Side::Buy => keys.clone(),
                Side::Sell => keys.iter().rev().copied().collect(),
            };
            assert_eq!(sorted, expected, "{side:?}");
        }
    }
}
