//! One side's occupied price levels with their order counts, as the publisher's mirror
//! needs them: the best price (is an incoming order still crossing?) and a count per level
//! (does the best level go when an order leaves it?).
//!
//! Counts sit in a tick window, one `u32` a tick, from `base` up: joining or leaving a
//! level is an index, whatever level it is (a sorted vector moved the levels behind it
//! at every new or emptied level off the best). The window is placed at the first price,
//! moved when it is empty, and grows (doubling, at most [`MAX_SPAN`] ticks: 16 KiB a
//! side) to take a price just outside it; prices further away go to [`FarLevels`], the
//! sorted vector, which is empty in an ordinary book. When the best level empties, the
//! next one is found by scanning the window toward worse prices.

use ringbook::{Price, Side};

use super::far_levels::FarLevels;

/// A new window's span, in ticks.
const FIRST_SPAN: usize = 64;
/// The widest window, in ticks.
pub(crate) const MAX_SPAN: usize = 4096;

/// One side's levels.
#[derive(Debug, Default)]
pub(crate) struct Levels {
    /// Order counts of the prices `base..base + counts.len()`, by offset; empty until the
    /// first order.
    counts: Vec<u32>,
    /// The price at offset 0.
    base: Price,
    /// How many offsets of `counts` are occupied (count above 0).
    occupied: usize,
    /// The best occupied offset, when `occupied > 0`.
    best: usize,
    /// Occupied levels outside the window (no price is in both).
    far: FarLevels,
}

/// Whether offset `a` is a better price than offset `b` on `side`.
#[inline]
fn better(side: Side, a: usize, b: usize) -> bool {
    match side {
        Side::Buy => a > b,
        Side::Sell => a < b,
    }
}

impl Levels {
    /// The offset of `price` in the window, if it is in it.
    #[inline]
    fn offset(&self, price: Price) -> Option<usize> {
        let d = i128::from(price) - i128::from(self.base);
        usize::try_from(d).ok().filter(|&d| d < self.counts.len())
    }

    /// The price of an offset.
    #[inline]
    fn price_at(&self, offset: usize) -> Price {
        // Every offset of the window is a valid price: `place` checked its last one.
        self.base + offset as Price
    }

    /// The best price, if any level is occupied.
    #[inline]
    pub(crate) fn best(&self, side: Side) -> Option<Price> {
        let window = (self.occupied > 0).then(|| self.price_at(self.best));
        if self.far.is_empty() {
            return window;
        }
        match (window, self.far.best(side)) {
            (Some(w), Some(f)) => Some(match side {
                Side::Buy => w.max(f),
                Side::Sell => w.min(f),
            }),
            (w, f) => w.or(f),
        }
    }

    /// One more order at `price`.
    #[inline]
    pub(crate) fn add(&mut self, side: Side, price: Price) {
        match self.offset(price) {
            Some(i) => self.add_at(side, i, 1),
            None => self.add_outside(side, price),
        }
    }

    /// `n` more orders at offset `i`.
    #[inline]
    fn add_at(&mut self, side: Side, i: usize, n: u32) {
        let count = &mut self.counts[i];
        if *count == 0 {
            self.occupied += 1;
            if self.occupied == 1 || better(side, i, self.best) {
                self.best = i;
            }
        }
        *count += n;
    }

    /// One more order at a price outside the window: the window is placed there if it is
    /// empty, grown to take it if the span allows, else the level is a far one.
    #[cold]
    fn add_outside(&mut self, side: Side, price: Price) {
        if self.occupied == 0 {
            let span = self.counts.len().max(FIRST_SPAN);
            let base = i128::from(price) - (span / 2) as i128;
            if !self.place(side, base, span) {
                self.far.add(side, price);
                return;
            }
        } else {
            let low = i128::from(self.base).min(i128::from(price));
            let high = (i128::from(self.base) + self.counts.len() as i128 - 1).max(price.into());
            let needed = high - low + 1;
            let span = (self.counts.len() * 2).max(FIRST_SPAN);
            let span = usize::try_from(needed)
                .ok()
                .filter(|&n| n <= MAX_SPAN)
                .map(|n| n.next_power_of_two().max(span).min(MAX_SPAN));
            let base = if i128::from(price) < i128::from(self.base) {
                span.map(|s| high - s as i128 + 1)
            } else {
                Some(low)
            };
            let placed = match (base, span) {
                (Some(base), Some(span)) => self.place(side, base, span),
                _ => false,
            };
            if !placed {
                self.far.add(side, price);
                return;
            }
        }
        match self.offset(price) {
            Some(i) => self.add_at(side, i, 1),
            None => self.far.add(side, price),
        }
    }

    /// Moves the window to `base..base + span` (its occupied levels, which must fit,
    /// with it), then takes in the far levels it now covers; `false` (and nothing moved)
    /// when a price of the new window would not be a valid price.
    fn place(&mut self, side: Side, base: i128, span: usize) -> bool {
        let (Ok(new_base), Ok(_)) = (
            Price::try_from(base),
            Price::try_from(base + span as i128 - 1),
        ) else {
            return false;
        };
        let mut counts = vec![0u32; span];
        if self.occupied > 0 {
            // The old window's occupied offsets lie inside the new one (the caller
            // chose it to cover them).
            let shift = usize::try_from(i128::from(self.base) - base).unwrap_or(0);
            for (i, &count) in self.counts.iter().enumerate() {
                if count > 0 {
                    counts[i + shift] = count;
                }
            }
            self.best += shift;
        }
        self.counts = counts;
        self.base = new_base;
        let high = new_base + (span - 1) as Price;
        let mut taken = Vec::new();
        self.far
            .take_range(side, new_base, high, |price, n| taken.push((price, n)));
        for (price, n) in taken {
            if let Some(i) = self.offset(price) {
                self.add_at(side, i, n);
            }
        }
        true
    }

    /// One order fewer at `price`; the level goes when it has none left.
    #[inline]
    pub(crate) fn remove(&mut self, side: Side, price: Price) {
        let Some(i) = self.offset(price).filter(|&i| self.counts[i] > 0) else {
            self.far.remove(side, price);
            return;
        };
        self.counts[i] -= 1;
        if self.counts[i] == 0 {
            self.occupied -= 1;
            if i == self.best && self.occupied > 0 {
                self.best = self.next_best(side, i);
            }
        }
    }

    /// The best occupied offset after offset `from` emptied (one is occupied).
    fn next_best(&self, side: Side, from: usize) -> usize {
        let found = match side {
            Side::Buy => self.counts[..from].iter().rposition(|&c| c != 0),
            Side::Sell => self.counts[from + 1..]
                .iter()
                .position(|&c| c != 0)
                .map(|p| p + from + 1),
        };
        found.unwrap_or(from)
    }

    /// Whether no level is occupied.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.occupied == 0 && self.far.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The best price of a reference model: price -> count.
    fn model_best(side: Side, model: &BTreeMap<Price, u32>) -> Option<Price> {
        match side {
            Side::Buy => model.keys().next_back().copied(),
            Side::Sell => model.keys().next().copied(),
        }
    }

    #[test]
    fn the_best_level_follows_a_reference_model_through_moves_growth_and_far_prices() {
        // A fixed pseudo-random walk of adds and removes near a drifting mid, with
        // occasional prices thousands of ticks away and at the ends of the price range.
        for side in [Side::Buy, Side::Sell] {
            let mut levels = Levels::default();
            let mut model: BTreeMap<Price, u32> = BTreeMap::new();
            let mut resting: Vec<Price> = Vec::new();
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            for step in 0..20_000i64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let mid = 1_000 + step / 10;
                let price = match x % 100 {
                    0 => mid + 9_000,
                    1 => mid - 9_000,
                    2 => i64::MAX - (x >> 60) as i64,
                    3 => i64::MIN + (x >> 60) as i64,
                    _ => mid + (x >> 40) as i64 % 40 - 20,
                };
                if x % 7 < 4 || resting.is_empty() {
                    levels.add(side, price);
                    *model.entry(price).or_default() += 1;
                    resting.push(price);
                } else {
                    let at = (x >> 20) as usize % resting.len();
                    let gone = resting.swap_remove(at);
                    levels.remove(side, gone);
                    let count = model.get_mut(&gone).unwrap();
                    *count -= 1;
                    if *count == 0 {
                        model.remove(&gone);
                    }
                }
                assert_eq!(
                    levels.best(side),
                    model_best(side, &model),
                    "{side:?} step {step}"
                );
            }
            for price in resting.drain(..) {
                levels.remove(side, price);
            }
            assert!(levels.is_empty(), "{side:?}");
            assert_eq!(levels.best(side), None);
            assert!(levels.counts.len() <= MAX_SPAN, "the window stays bounded");
        }
    }
}
