//! The levels of one side priced outside its tick window, in price order: a small sorted
//! array while there are few (a new book's stragglers: a binary search and a short move,
//! no node to allocate), a B-tree once there are many (a market that moved far and left
//! thousands of levels behind).

use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};

use super::Level;
use crate::types::Price;

/// Levels the sorted array holds before they move into the tree.
const ARRAY_MAX: usize = 32;
/// The most levels' room an empty array keeps.
const SMALL_KEPT: usize = 8;
/// Levels the tree holds when it empties back into the array (well below
/// [`ARRAY_MAX`], so a count going up and down near it does not move them each time).
const TREE_MIN: usize = ARRAY_MAX / 4;

/// Levels by price: all in `array` (sorted by price, at most [`ARRAY_MAX`]) or all in
/// `tree`; never some in each.
#[derive(Clone, Debug, Default)]
pub(super) struct Outside {
    /// The levels, ascending by price, while they are few.
    array: Vec<(Price, Level)>,
    /// The levels once they are many.
    tree: BTreeMap<Price, Level>,
}

impl Outside {
    /// How many levels it holds.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.array.len() + self.tree.len()
    }

    /// Whether it holds no level.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.array.is_empty() && self.tree.is_empty()
    }

    /// Where `price` is in the array: `Ok(index)` if present, else `Err(insertion point)`.
    #[inline]
    fn find(&self, price: Price) -> Result<usize, usize> {
        self.array.binary_search_by_key(&price, |&(p, _)| p)
    }

    /// Starts loading the lines a lookup reads first: the array's middle, where its binary
    /// search starts, and its quarters (see `book::prefetch`). The tree is not prefetched:
    /// it holds levels only once a side has many outside its window.
    #[inline(always)]
    pub(super) fn prefetch(&self) {
        let len = self.array.len();
        if len == 0 {
            return;
        }
        crate::book::prefetch::prefetch(&self.array[len / 2]);
        if len > 4 {
            crate::book::prefetch::prefetch(&self.array[len / 4]);
            crate::book::prefetch::prefetch(&self.array[len / 2 + len / 4]);
        }
    }

    /// The level at `price`, if any.
    #[inline]
    pub(super) fn get(&self, price: Price) -> Option<&Level> {
        if self.tree.is_empty() {
            self.find(price).ok().map(|at| &self.array[at].1)
        } else {
            self.tree.get(&price)
        }
    }

    /// The level at `price`, if any, to change.
    #[inline]
    pub(super) fn get_mut(&mut self, price: Price) -> Option<&mut Level> {
        if self.tree.is_empty() {
            self.find(price).ok().map(|at| &mut self.array[at].1)
        } else {
            self.tree.get_mut(&price)
        }
    }

    /// Adds `level` at `price`, which must hold none, and returns it.
    pub(super) fn insert(&mut self, price: Price, level: Level) -> &mut Level {
        if self.tree.is_empty() {
            match self.find(price) {
                Ok(_) => debug_assert!(false, "level {price} inserted twice"),
                Err(at) if self.array.len() < ARRAY_MAX => {
                    if self.array.capacity() == 0 {
                        // One allocation for a side's first stragglers, not 4, then 8.
                        self.array.reserve_exact(SMALL_KEPT);
                    }
                    self.array.insert(at, (price, level));
                    return &mut self.array[at].1;
                }
                Err(_) => self.tree.extend(std::mem::take(&mut self.array)),
            }
        }
        let entry = self.tree.entry(price);
        debug_assert!(
            matches!(entry, std::collections::btree_map::Entry::Vacant(_)),
            "level {price} inserted twice"
        );
        entry.or_insert(level)
    }

    /// Removes the level at `price` and returns it (`None` if there is none).
    pub(super) fn remove(&mut self, price: Price) -> Option<Level> {
        if self.tree.is_empty() {
            let at = self.find(price).ok()?;
            let (_, level) = self.array.remove(at);
            if self.array.is_empty() && self.array.capacity() > SMALL_KEPT {
                // A side's stragglers are gone: give back the room a crowd of them took.
                self.array = Vec::new();
            }
            return Some(level);
        }
        let level = self.tree.remove(&price)?;
        if self.tree.len() <= TREE_MIN {
            self.array.extend(std::mem::take(&mut self.tree));
        }
        Some(level)
    }

    /// The lowest price held.
    #[inline]
    pub(super) fn lowest(&self) -> Option<Price> {
        match self.array.first() {
            Some(&(price, _)) => Some(price),
            None => self.tree.first_key_value().map(|(&price, _)| price),
        }
    }

    /// The highest price held.
    #[inline]
    pub(super) fn highest(&self) -> Option<Price> {
        match self.array.last() {
            Some(&(price, _)) => Some(price),
            None => self.tree.last_key_value().map(|(&price, _)| price),
        }
    }

    /// Whether it holds a price in `low..high`.
    pub(super) fn any_in(&self, low: Price, high: Price) -> bool {
        low < high && self.range(low..high).next().is_some()
    }

    /// Moves the levels priced in `low..high` out, ascending, onto the end of `into`.
    pub(super) fn take_in(&mut self, low: Price, high: Price, into: &mut Vec<(Price, Level)>) {
        if low >= high {
            return;
        }
        if self.tree.is_empty() {
            let (from, to) = self.array_span(&(low..high));
            into.extend(self.array.drain(from..to));
            return;
        }
        let start = into.len();
        into.extend(self.tree.range(low..high).map(|(&p, &l)| (p, l)));
        for &(price, _) in &into[start..] {
            self.tree.remove(&price);
        }
        if self.tree.len() <= TREE_MIN {
            self.array.extend(std::mem::take(&mut self.tree));
        }
    }

    /// The levels priced below `low`, ascending; reversible.
    pub(super) fn below(
        &self,
        low: Price,
    ) -> impl DoubleEndedIterator<Item = (Price, &Level)> + '_ {
        self.range(..low)
    }

    /// The levels priced at or above `high`, ascending; reversible.
    pub(super) fn at_or_above(
        &self,
        high: Price,
    ) -> impl DoubleEndedIterator<Item = (Price, &Level)> + '_ {
        self.range(high..)
    }

    /// The indices `from..to` of the array's levels priced in `range`.
    fn array_span(&self, range: &impl RangeBounds<Price>) -> (usize, usize) {
        let from = self
            .array
            .partition_point(|(p, _)| match range.start_bound() {
                Bound::Included(start) => p < start,
                Bound::Excluded(start) => p <= start,
                Bound::Unbounded => false,
            });
        let to = self
            .array
            .partition_point(|(p, _)| match range.end_bound() {
                Bound::Included(end) => p <= end,
                Bound::Excluded(end) => p < end,
                Bound::Unbounded => true,
            });
        (from, to.max(from))
    }

    /// The levels priced in `range` (whose start is not past its end), ascending;
    /// reversible.
    fn range(
        &self,
        range: impl RangeBounds<Price>,
    ) -> impl DoubleEndedIterator<Item = (Price, &Level)> + '_ {
        let (from, to) = self.array_span(&range);
        let tree = (!self.tree.is_empty()).then(|| self.tree.range(range));
        self.array[from..to]
            .iter()
            .map(|(p, l)| (*p, l))
            .chain(tree.into_iter().flatten().map(|(&p, l)| (p, l)))
    }

    /// Bytes held on the heap (the tree estimated at a node per eight entries).
    pub(super) fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Price, Level)>();
        self.array.capacity() * entry + self.tree.len() * entry * 11 / 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A level whose head names it, to tell levels apart.
    fn level(n: u32) -> Level {
        Level::holding(n)
    }

    /// Every query of `outside` agrees with the plain map `model`.
    fn assert_matches(outside: &Outside, model: &BTreeMap<Price, u32>, probes: &[Price]) {
        assert_eq!(outside.len(), model.len());
        assert_eq!(outside.is_empty(), model.is_empty());
        assert!(outside.array.is_empty() || outside.tree.is_empty());
        assert!(outside.array.len() <= ARRAY_MAX);
        assert_eq!(outside.lowest(), model.keys().next().copied());
        assert_eq!(outside.highest(), model.keys().next_back().copied());
        let heads = |it: &mut dyn Iterator<Item = (Price, &Level)>| -> Vec<(Price, u32)> {
            it.map(|(p, l)| (p, l.head)).collect()
        };
        for &probe in probes {
            assert_eq!(
                outside.get(probe).map(|l| l.head),
                model.get(&probe).copied()
            );
            let below: Vec<(Price, u32)> = model.range(..probe).map(|(&p, &h)| (p, h)).collect();
            assert_eq!(heads(&mut outside.below(probe)), below, "below {probe}");
            let rev: Vec<(Price, u32)> = below.iter().rev().copied().collect();
            assert_eq!(heads(&mut outside.below(probe).rev()), rev);
            let above: Vec<(Price, u32)> = model.range(probe..).map(|(&p, &h)| (p, h)).collect();
            assert_eq!(
                heads(&mut outside.at_or_above(probe)),
                above,
                "at or above {probe}"
            );
            let rev: Vec<(Price, u32)> = above.iter().rev().copied().collect();
            assert_eq!(heads(&mut outside.at_or_above(probe).rev()), rev);
            for &high in probes {
                let want = probe < high && model.range(probe..high).next().is_some();
                assert_eq!(outside.any_in(probe, high), want, "any in {probe}..{high}");
            }
        }
    }

    /// Inserts and removes, at prices that include `i64::MIN` and `i64::MAX`, agree with
    /// a plain ordered map at every step while the levels spill from the array into the
    /// tree (past 32) and come back (at 8), and back and forth again.
    #[test]
    fn inserts_and_removes_agree_with_a_map_across_array_and_tree() {
        let mut outside = Outside::default();
        let mut model = BTreeMap::new();
        let extremes = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        let probes: Vec<Price> = extremes.iter().copied().chain([-40, 17, 1_000]).collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut was_tree = false;
        let mut back_to_array = false;
        for round in 0..6 {
            // Grow to 40-ish levels (the tree), then shrink to a few (the array).
            let target = if round % 2 == 0 { 45 } else { 3 };
            let mut steps = 0;
            while model.len() != target && steps < 10_000 {
                steps += 1;
                let price = match next() % 4 {
                    0 => extremes[(next() % extremes.len() as u64) as usize],
                    _ => (next() % 120) as i64 - 60,
                };
                let grow = model.len() < target;
                match (grow, model.contains_key(&price)) {
                    (true, false) => {
                        let head = (next() % 1_000) as u32;
                        assert_eq!(outside.insert(price, level(head)).head, head);
                        model.insert(price, head);
                    }
                    (false, true) => {
                        let head = model.remove(&price).unwrap();
                        assert_eq!(outside.remove(price).map(|l| l.head), Some(head));
                    }
                    (false, false) => assert_eq!(outside.remove(price), None),
                    (true, true) => {}
                }
                was_tree |= !outside.tree.is_empty();
                back_to_array |= was_tree && outside.tree.is_empty() && !model.is_empty();
                if steps % 7 == 0 {
                    assert_matches(&outside, &model, &probes);
                }
            }
            assert_eq!(model.len(), target);
            assert_matches(&outside, &model, &probes);
        }
        assert!(was_tree && back_to_array, "both stores were used");
    }

    /// `take_in` moves exactly the levels of a range out, ascending, from the array and
    /// from the tree, including ranges that reach the ends of the price scale.
    #[test]
    fn take_in_moves_out_a_range() {
        for count in [5_i64, 40] {
            let mut outside = Outside::default();
            let mut model = BTreeMap::new();
            let prices = (0..count)
                .map(|n| n * 10)
                .chain([i64::MIN, i64::MAX])
                .collect::<Vec<_>>();
            for (n, &price) in prices.iter().enumerate() {
                outside.insert(price, level(n as u32));
                model.insert(price, n as u32);
            }
            assert_eq!(outside.tree.is_empty(), count < 32);
            for (low, high) in [(15, 35), (i64::MIN, 1), (100, 100), (300, i64::MAX)] {
                let mut taken = vec![(1, Level::EMPTY)];
                outside.take_in(low, high, &mut taken);
                let want: Vec<(Price, u32)> = model
                    .range(low..high.max(low))
                    .map(|(&p, &h)| (p, h))
                    .collect();
                for (price, _) in &want {
                    model.remove(price);
                }
                let got: Vec<(Price, u32)> = taken[1..].iter().map(|(p, l)| (*p, l.head)).collect();
                assert_eq!(got, want, "{low}..{high} of {count}");
                assert_matches(&outside, &model, &[i64::MIN, 0, 25, i64::MAX]);
            }
            assert_eq!(
                outside.get(i64::MAX).map(|l| l.head),
                model.get(&i64::MAX).copied()
            );
        }
    }

    /// An array emptied after a crowd of levels gives its room back, so a side whose
    /// stragglers are gone keeps no buffer sized for them.
    #[test]
    fn an_emptied_array_gives_back_its_room() {
        let mut outside = Outside::default();
        for price in 0..30 {
            outside.insert(price, level(price as u32));
        }
        assert!(outside.heap_bytes() >= 30 * std::mem::size_of::<(Price, Level)>());
        for price in 0..30 {
            assert!(outside.remove(price).is_some());
        }
        assert_eq!(outside.heap_bytes(), 0);
    }
}
