//! A dense run of price ticks: each tick's level held inline (its FIFO's head and tail,
//! its total and count), one bit per occupied tick and one summary bit per non-empty word
//! of those, so finding, adding and removing a level in the run is an index, and the next
//! occupied tick is at most a few word scans away even across a wide empty stretch
//! (65,536 ticks have 16 summary words).
//!
//! The two level accessors do not check bounds in release builds (`unsafe`, each with its
//! SAFETY note): every tick they get comes from [`TickWindow::offset`], which compares it
//! with the window's length, or from the occupied bits, which span that length. Debug
//! builds (every test) still check.

#![allow(unsafe_code)]

use super::ladder::Level;
use crate::types::Price;

/// A window of consecutive ticks starting at `base`. It holds no prices past `i64::MAX`:
/// `base + ticks` never overflows, so [`TickWindow::offset`] is one subtraction and one
/// compare.
#[derive(Clone, Debug, Default)]
pub(super) struct TickWindow {
    /// The price of tick 0.
    base: Price,
    /// The level at each tick ([`Level::EMPTY`] where none rests).
    levels: Vec<Level>,
    /// Bit `i % 64` of word `i / 64` is set when tick `i` holds a level.
    occupied: Vec<u64>,
    /// Bit `w % 64` of word `w / 64` is set when `occupied[w]` is not 0.
    summary: Vec<u64>,
    /// How many ticks hold a level.
    len: usize,
}

impl TickWindow {
    /// Empties the window and makes it `ticks` ticks long (a multiple of 64), starting at
    /// `base`, or lower if the window would run past `i64::MAX`. Keeps the allocations
    /// when they fit, and gives back what a much smaller window leaves unused.
    pub(super) fn reset(&mut self, base: Price, ticks: usize) {
        debug_assert!(ticks.is_multiple_of(64) && ticks <= 1 << 30);
        self.base = base.min(i64::MAX - ticks as i64);
        if self.levels.capacity() < ticks {
            // A fresh buffer: growing the old one in place would copy its stale levels.
            self.levels = Vec::with_capacity(ticks);
        }
        self.levels.clear();
        self.levels.resize(ticks, Level::EMPTY);
        self.occupied.clear();
        self.occupied.resize(ticks / 64, 0);
        self.summary.clear();
        self.summary.resize(ticks.div_ceil(64 * 64), 0);
        if self.levels.capacity() > 2 * ticks {
            self.levels.shrink_to_fit();
            self.occupied.shrink_to_fit();
            self.summary.shrink_to_fit();
        }
        self.len = 0;
    }

    /// How many ticks the window spans (0 before the first [`TickWindow::reset`]).
    #[inline]
    pub(super) fn ticks(&self) -> usize {
        self.levels.len()
    }

    /// How many ticks hold a level.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The window's prices: `base..end`.
    #[inline]
    pub(super) fn bounds(&self) -> (Price, Price) {
        (self.base, self.base + self.ticks() as i64)
    }

    /// The tick of `price`, if the window spans it.
    #[inline]
    pub(super) fn offset(&self, price: Price) -> Option<usize> {
        // `base + ticks <= i64::MAX`, so the wrapped difference is below `ticks` exactly
        // when `base <= price < base + ticks`.
        let offset = price.wrapping_sub(self.base) as u64;
        (offset < self.levels.len() as u64).then_some(offset as usize)
    }

    /// The price of tick `tick`.
    #[inline]
    pub(super) fn price(&self, tick: usize) -> Price {
        self.base + tick as i64
    }

    /// The level at tick `tick` ([`Level::EMPTY`] if none rests there). `tick` must be
    /// below [`TickWindow::ticks`], as every tick [`TickWindow::offset`] returns is.
    #[inline(always)]
    pub(super) fn get(&self, tick: usize) -> &Level {
        debug_assert!(tick < self.levels.len(), "tick {tick} outside the window");
        // SAFETY: callers pass a tick from `offset` (below `levels.len()`, checked there)
        // or from the occupied bits (which span `levels.len()` ticks); the window has not
        // been reset since.
        unsafe { self.levels.get_unchecked(tick) }
    }

    /// The level at tick `tick`, to change. `tick` must be below [`TickWindow::ticks`].
    #[inline(always)]
    pub(super) fn get_mut(&mut self, tick: usize) -> &mut Level {
        debug_assert!(tick < self.levels.len(), "tick {tick} outside the window");
        // SAFETY: as for `get`: the tick came from `offset` or the occupied bits of this
        // window, unchanged since.
        unsafe { self.levels.get_unchecked_mut(tick) }
    }

    /// Puts `level` (not empty) at the empty tick `tick`.
    pub(super) fn put(&mut self, tick: usize, level: Level) {
        self.levels[tick] = level;
        self.occupy(tick);
    }

    /// Marks the empty tick `tick` occupied: its level (empty until the caller links an
    /// order into it) now counts as present.
    #[inline(always)]
    pub(super) fn occupy(&mut self, tick: usize) {
        debug_assert!(
            self.occupied[tick / 64] >> (tick % 64) & 1 == 0,
            "tick {tick} occupied twice"
        );
        let word = tick / 64;
        self.occupied[word] |= 1 << (tick % 64);
        self.summary[word / 64] |= 1 << (word % 64);
        self.len += 1;
    }

    /// Marks the occupied tick `tick` empty. Its level has already emptied (a level's
    /// last order leaves it as [`Level::EMPTY`]).
    #[inline]
    pub(super) fn clear(&mut self, tick: usize) {
        debug_assert_eq!(
            self.levels[tick],
            Level::EMPTY,
            "tick {tick} cleared but busy"
        );
        let word = tick / 64;
        self.occupied[word] &= !(1 << (tick % 64));
        if self.occupied[word] == 0 {
            self.summary[word / 64] &= !(1 << (word % 64));
        }
        self.len -= 1;
    }

    /// The highest occupied tick at or below `tick`.
    #[inline]
    pub(super) fn highest_at_or_below(&self, tick: usize) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let word = tick / 64;
        // Keep bits 0..=tick % 64 of the first word.
        let bits = self.occupied[word] & (u64::MAX >> (63 - tick % 64));
        if bits != 0 {
            return Some(word * 64 + 63 - bits.leading_zeros() as usize);
        }
        let word = self.highest_word_below(word)?;
        Some(word * 64 + 63 - self.occupied[word].leading_zeros() as usize)
    }

    /// The highest non-empty word below word `word`, by the summary.
    #[inline]
    fn highest_word_below(&self, word: usize) -> Option<usize> {
        if word == 0 {
            return None;
        }
        let below = word - 1;
        let mut at = below / 64;
        let mut bits = self.summary[at] & (u64::MAX >> (63 - below % 64));
        loop {
            if bits != 0 {
                return Some(at * 64 + 63 - bits.leading_zeros() as usize);
            }
            if at == 0 {
                return None;
            }
            at -= 1;
            bits = self.summary[at];
        }
    }

    /// The lowest occupied tick at or above `tick`.
    #[inline]
    pub(super) fn lowest_at_or_above(&self, tick: usize) -> Option<usize> {
        if self.len == 0 || tick >= self.ticks() {
            return None;
        }
        let word = tick / 64;
        // Keep bits tick % 64..64 of the first word.
        let bits = self.occupied[word] & (u64::MAX << (tick % 64));
        if bits != 0 {
            return Some(word * 64 + bits.trailing_zeros() as usize);
        }
        let word = self.lowest_word_above(word)?;
        Some(word * 64 + self.occupied[word].trailing_zeros() as usize)
    }

    /// The lowest non-empty word above word `word`, by the summary.
    #[inline]
    fn lowest_word_above(&self, word: usize) -> Option<usize> {
        let above = word + 1;
        if above >= self.occupied.len() {
            return None;
        }
        let mut at = above / 64;
        let mut bits = self.summary[at] & (u64::MAX << (above % 64));
        loop {
            if bits != 0 {
                return Some(at * 64 + bits.trailing_zeros() as usize);
            }
            at += 1;
            if at == self.summary.len() {
                return None;
            }
            bits = self.summary[at];
        }
    }

    /// The highest occupied tick.
    #[inline]
    pub(super) fn highest(&self) -> Option<usize> {
        self.ticks()
            .checked_sub(1)
            .and_then(|top| self.highest_at_or_below(top))
    }

    /// The lowest occupied tick.
    #[inline]
    pub(super) fn lowest(&self) -> Option<usize> {
        self.lowest_at_or_above(0)
    }

    /// Every level with its price, ascending.
    pub(super) fn ascending(&self) -> impl Iterator<Item = (Price, &Level)> + '_ {
        std::iter::successors(self.lowest(), |&tick| self.lowest_at_or_above(tick + 1))
            .map(|tick| (self.price(tick), &self.levels[tick]))
    }

    /// Every level with its price, descending.
    pub(super) fn descending(&self) -> impl Iterator<Item = (Price, &Level)> + '_ {
        std::iter::successors(self.highest(), |&tick| {
            tick.checked_sub(1)
                .and_then(|below| self.highest_at_or_below(below))
        })
        .map(|tick| (self.price(tick), &self.levels[tick]))
    }

    /// Whether the levels, the bits and the count agree (for integrity checks): a tick's
    /// bit is set exactly when its level is not [`Level::EMPTY`] (the book's integrity
    /// check walks each set tick's FIFO).
    pub(super) fn consistent(&self) -> bool {
        let mut count = 0;
        let slots_agree = self.levels.iter().enumerate().all(|(tick, level)| {
            let busy = *level != Level::EMPTY;
            count += usize::from(busy);
            let bit = self.occupied[tick / 64] >> (tick % 64) & 1 == 1;
            bit == busy
        });
        let summary_agrees = self.occupied.iter().enumerate().all(|(word, &bits)| {
            let bit = self.summary[word / 64] >> (word % 64) & 1 == 1;
            bit == (bits != 0)
        });
        slots_agree
            && summary_agrees
            && count == self.len
            && self.occupied.len() * 64 == self.levels.len()
            && self.summary.len() == self.occupied.len().div_ceil(64)
    }

    /// Bytes the window holds on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        self.levels.capacity() * std::mem::size_of::<Level>()
            + (self.occupied.capacity() + self.summary.capacity()) * std::mem::size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The next occupied tick is found across a wide empty stretch in either direction,
    /// through the summary bits, and the summary follows sets and clears.
    #[test]
    fn the_next_level_is_found_across_a_wide_empty_stretch() {
        let mut window = TickWindow::default();
        window.reset(1_000, 1 << 16);
        window.put(5, Level::holding(1));
        window.put(65_000, Level::holding(2));
        window.put(40_000, Level::holding(3));
        assert!(window.consistent());
        assert_eq!(window.lowest_at_or_above(6), Some(40_000));
        assert_eq!(window.lowest_at_or_above(40_001), Some(65_000));
        assert_eq!(window.highest_at_or_below(64_999), Some(40_000));
        assert_eq!(window.highest_at_or_below(39_999), Some(5));
        *window.get_mut(40_000) = Level::EMPTY;
        window.clear(40_000);
        assert!(window.consistent());
        assert_eq!(window.lowest_at_or_above(6), Some(65_000));
        assert_eq!(window.highest_at_or_below(64_999), Some(5));
        assert_eq!(window.highest_at_or_below(4), None);
        assert_eq!(window.lowest_at_or_above(65_001), None);
        assert_eq!(window.highest(), Some(65_000));
        assert_eq!(window.lowest(), Some(5));
        let ascending: Vec<(Price, u32)> = window.ascending().map(|(p, l)| (p, l.head)).collect();
        assert_eq!(ascending, vec![(1_005, 1), (66_000, 2)]);
    }
}
