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
use super::zeroed::ZeroedLevels;
use crate::types::Price;

/// A window of consecutive ticks starting at `base`. It holds no prices past `i64::MAX`:
/// `base + ticks` never overflows, so [`TickWindow::offset`] is one subtraction and one
/// compare.
///
/// Every tick holds a level, of no orders where none rests (see [`Level`]: zero bytes in
/// a new buffer). Re-placing a window of the same length empties only the ticks that held
/// levels (found by the occupied bits) instead of writing every tick again: a window of
/// 65,536 ticks holding 300 levels is re-placed for 300 writes and its bits, not 65,536
/// writes. A window of another length takes a buffer of that length that the thread's
/// windows left behind, or a new one, zeroed ([`ZeroedLevels`]): either way nothing is
/// written to it, and a new large one's pages are mapped only where levels rest. The
/// levels and the bits are two allocations.
#[derive(Clone, Debug, Default)]
pub(super) struct TickWindow {
    /// The price of tick 0.
    base: Price,
    /// The level at each tick (as many as the window spans), a level of no orders where
    /// none rests.
    slots: ZeroedLevels,
    /// The occupied words, then the summary words (one allocation for both): bit
    /// `i % 64` of occupied word `i / 64` is set when tick `i` holds a level, and bit
    /// `w % 64` of summary word `w / 64` when occupied word `w` is not 0.
    bits: Vec<u64>,
    /// Where the summary words start in `bits`: the number of occupied words.
    summary_at: usize,
    /// How many ticks hold a level.
    len: usize,
}

impl TickWindow {
    /// Empties the window and makes it `ticks` ticks long (a multiple of 64), starting at
    /// `base`, or lower if the window would run past `i64::MAX`. Writes [`Level::EMPTY`]
    /// only at the ticks that held a level (the caller has copied them out), then keeps
    /// the buffer if the length is unchanged, or else gives it to the thread's spares and
    /// takes one of the new length (see [`ZeroedLevels`]).
    pub(super) fn reset(&mut self, base: Price, ticks: usize) {
        debug_assert!(ticks.is_multiple_of(64) && ticks <= 1 << 30);
        self.base = base.min(i64::MAX - ticks as i64);
        // Emptied at its occupied ticks, the buffer holds no orders: it serves this window
        // again, or another of its length.
        self.empty_occupied();
        if self.slots.len() != ticks {
            std::mem::replace(&mut self.slots, ZeroedLevels::take(ticks)).recycle();
        }
        let words = ticks / 64;
        let bits = words + words.div_ceil(64);
        if self.bits.capacity() < bits || self.bits.capacity() > 2 * bits {
            // A zeroed allocation (`calloc`), not a vector grown from empty.
            self.bits = vec![0; bits];
        } else {
            self.bits.clear();
            self.bits.resize(bits, 0);
        }
        self.summary_at = words;
        self.len = 0;
    }

    /// Writes [`Level::EMPTY`] at every occupied tick (the bits are left as they are).
    fn empty_occupied(&mut self) {
        for word in 0..self.words() {
            let mut bits = self.occupied_word(word);
            while bits != 0 {
                let tick = word * 64 + bits.trailing_zeros() as usize;
                self.slots[tick] = Level::EMPTY;
                bits &= bits - 1;
            }
        }
    }

    /// How many ticks the window spans (0 before the first [`TickWindow::reset`]).
    #[inline]
    pub(super) fn ticks(&self) -> usize {
        self.slots.len()
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
        (offset < self.slots.len() as u64).then_some(offset as usize)
    }

    /// The price of tick `tick`.
    #[inline]
    pub(super) fn price(&self, tick: usize) -> Price {
        self.base + tick as i64
    }

    /// How many occupied words the window has (a word per 64 ticks).
    #[inline(always)]
    fn words(&self) -> usize {
        self.summary_at
    }

    /// How many summary words the window has (a word per 64 occupied words).
    #[inline(always)]
    fn summaries(&self) -> usize {
        self.bits.len() - self.summary_at
    }

    /// The occupied word `word`, which must be below [`Self::words`].
    #[inline(always)]
    fn occupied_word(&self, word: usize) -> u64 {
        debug_assert!(word < self.words(), "occupied word {word} past the window");
        // SAFETY: `word < summary_at <= bits.len()`: every word comes from a tick below
        // `slots.len()` (64 ticks a word) or from the summary bits, which span the words.
        unsafe { *self.bits.get_unchecked(word) }
    }

    /// The occupied word `word`, to change (as for [`Self::occupied_word`]).
    #[inline(always)]
    fn occupied_word_mut(&mut self, word: usize) -> &mut u64 {
        debug_assert!(word < self.words(), "occupied word {word} past the window");
        // SAFETY: as for `occupied_word`.
        unsafe { self.bits.get_unchecked_mut(word) }
    }

    /// The summary word `at`, which must be below [`Self::summaries`].
    #[inline(always)]
    fn summary_word(&self, at: usize) -> u64 {
        debug_assert!(at < self.summaries(), "summary word {at} past the window");
        // SAFETY: `summary_at + at < bits.len()`: `at` is an occupied word's number over
        // 64, and there is a summary word per 64 occupied words (rounded up).
        unsafe { *self.bits.get_unchecked(self.summary_at + at) }
    }

    /// The summary word `at`, to change (as for [`Self::summary_word`]).
    #[inline(always)]
    fn summary_word_mut(&mut self, at: usize) -> &mut u64 {
        debug_assert!(at < self.summaries(), "summary word {at} past the window");
        // SAFETY: as for `summary_word`.
        unsafe { self.bits.get_unchecked_mut(self.summary_at + at) }
    }

    /// The level at tick `tick` (of no orders if none rests there). `tick` must be
    /// below [`TickWindow::ticks`], as every tick [`TickWindow::offset`] returns is.
    #[inline(always)]
    pub(super) fn get(&self, tick: usize) -> &Level {
        debug_assert!(tick < self.slots.len(), "tick {tick} outside the window");
        // SAFETY: callers pass a tick from `offset` (below `slots.len()`, checked there)
        // or from the occupied bits (which span `slots.len()` ticks); the window has not
        // been reset since.
        unsafe { self.slots.get_unchecked(tick) }
    }

    /// Starts loading the level at tick `tick` and the word of its occupied bit. `tick`
    /// must be below [`TickWindow::ticks`].
    #[inline(always)]
    pub(super) fn prefetch(&self, tick: usize) {
        super::prefetch::prefetch(self.get(tick));
        if let Some(word) = self.bits.get(tick / 64) {
            super::prefetch::prefetch(word);
        }
    }

    /// The level at tick `tick`, to change. `tick` must be below [`TickWindow::ticks`].
    #[inline(always)]
    pub(super) fn get_mut(&mut self, tick: usize) -> &mut Level {
        debug_assert!(tick < self.slots.len(), "tick {tick} outside the window");
        // SAFETY: as for `get`: the tick came from `offset` or the occupied bits of this
        // window, unchanged since.
        unsafe { self.slots.get_unchecked_mut(tick) }
    }

    /// Puts `level` (not empty) at the empty tick `tick` and marks it occupied.
    #[inline(always)]
    pub(super) fn put(&mut self, tick: usize, level: Level) {
        self.slots[tick] = level;
        self.occupy(tick);
    }

    /// Opens a level at the empty tick `tick` for its first order: marks the tick occupied
    /// and gives its level [`NIL`](super::slab::NIL) links ([`Level::OPENED`]; an empty
    /// tick may hold zero bytes).
    #[inline(always)]
    pub(super) fn open(&mut self, tick: usize) {
        self.occupy(tick);
        let level = self.get_mut(tick);
        level.head = super::slab::NIL;
        level.tail = super::slab::NIL;
    }

    /// Marks the empty tick `tick` occupied: its level (empty until the caller links an
    /// order into it) now counts as present.
    #[inline(always)]
    pub(super) fn occupy(&mut self, tick: usize) {
        debug_assert!(
            self.occupied_word(tick / 64) >> (tick % 64) & 1 == 0,
            "tick {tick} occupied twice"
        );
        let word = tick / 64;
        *self.occupied_word_mut(word) |= 1 << (tick % 64);
        *self.summary_word_mut(word / 64) |= 1 << (word % 64);
        self.len += 1;
    }

    /// Marks the occupied tick `tick` empty. Its level has already emptied (a level's
    /// last order leaves it with no orders, no quantity and [`NIL`](super::slab::NIL)
    /// links).
    #[inline]
    pub(super) fn clear(&mut self, tick: usize) {
        debug_assert!(
            self.get(tick).holds_nothing(),
            "tick {tick} cleared but busy: {:?}",
            self.get(tick)
        );
        let word = tick / 64;
        let bits = self.occupied_word_mut(word);
        *bits &= !(1 << (tick % 64));
        if *bits == 0 {
            *self.summary_word_mut(word / 64) &= !(1 << (word % 64));
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
        let bits = self.occupied_word(word) & (u64::MAX >> (63 - tick % 64));
        if bits != 0 {
            return Some(word * 64 + 63 - bits.leading_zeros() as usize);
        }
        let word = self.highest_word_below(word)?;
        Some(word * 64 + 63 - self.occupied_word(word).leading_zeros() as usize)
    }

    /// The highest non-empty word below word `word`, by the summary.
    #[inline]
    fn highest_word_below(&self, word: usize) -> Option<usize> {
        if word == 0 {
            return None;
        }
        let below = word - 1;
        let mut at = below / 64;
        let mut bits = self.summary_word(at) & (u64::MAX >> (63 - below % 64));
        loop {
            if bits != 0 {
                return Some(at * 64 + 63 - bits.leading_zeros() as usize);
            }
            if at == 0 {
                return None;
            }
            at -= 1;
            bits = self.summary_word(at);
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
        let bits = self.occupied_word(word) & (u64::MAX << (tick % 64));
        if bits != 0 {
            return Some(word * 64 + bits.trailing_zeros() as usize);
        }
        let word = self.lowest_word_above(word)?;
        Some(word * 64 + self.occupied_word(word).trailing_zeros() as usize)
    }

    /// The lowest non-empty word above word `word`, by the summary.
    #[inline]
    fn lowest_word_above(&self, word: usize) -> Option<usize> {
        let above = word + 1;
        if above >= self.words() {
            return None;
        }
        let mut at = above / 64;
        let mut bits = self.summary_word(at) & (u64::MAX << (above % 64));
        loop {
            if bits != 0 {
                return Some(at * 64 + bits.trailing_zeros() as usize);
            }
            at += 1;
            if at == self.summaries() {
                return None;
            }
            bits = self.summary_word(at);
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
            .map(|tick| (self.price(tick), self.get(tick)))
    }

    /// Every level with its price, descending.
    pub(super) fn descending(&self) -> impl Iterator<Item = (Price, &Level)> + '_ {
        std::iter::successors(self.highest(), |&tick| {
            tick.checked_sub(1)
                .and_then(|below| self.highest_at_or_below(below))
        })
        .map(|tick| (self.price(tick), self.get(tick)))
    }

    /// Whether the levels, the bits and the count agree (for integrity checks): a tick's
    /// bit is set exactly when its level holds orders, and a tick without one holds no
    /// quantity (the book's integrity check walks each set tick's FIFO); the count is the
    /// number of set bits; and a summary bit is set exactly when its word is not 0.
    pub(super) fn consistent(&self) -> bool {
        if self.words() * 64 != self.slots.len() || self.summaries() != self.words().div_ceil(64) {
            return false;
        }
        let occupied = &self.bits[..self.words()];
        let count: usize = occupied.iter().map(|w| w.count_ones() as usize).sum();
        let levels_hold_orders = self.slots.iter().enumerate().all(|(tick, level)| {
            let bit = self.occupied_word(tick / 64) >> (tick % 64) & 1 == 1;
            bit == (level.count != 0) && (bit || level.total() == 0)
        });
        let summary_agrees = occupied.iter().enumerate().all(|(word, &bits)| {
            let bit = self.summary_word(word / 64) >> (word % 64) & 1 == 1;
            bit == (bits != 0)
        });
        levels_hold_orders && summary_agrees && count == self.len
    }

    /// Bytes the window holds on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Level>()
            + self.bits.capacity() * std::mem::size_of::<u64>()
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

    /// Re-placing a window of the same length empties exactly the ticks that held
    /// levels (the others were already empty) and keeps the allocation; a window of
    /// another length is a new, empty one. Levels near `i64::MAX` clamp the base so the
    /// window never runs past it.
    #[test]
    fn a_reset_empties_the_levels_it_held() {
        let mut window = TickWindow::default();
        window.reset(-5_000, 4_096);
        for tick in [0, 63, 64, 1_000, 4_095] {
            window.put(tick, Level::holding(tick as u32));
        }
        let slots = window.slots.as_ptr();
        window.reset(70_000, 4_096);
        assert_eq!(window.slots.as_ptr(), slots, "same length: allocation kept");
        assert_eq!(window.len(), 0);
        assert!(window.consistent());
        assert!((0..4_096).all(|tick| *window.get(tick) == Level::EMPTY));
        assert_eq!((window.lowest(), window.highest()), (None, None));
        assert_eq!(window.bounds(), (70_000, 74_096));

        window.put(7, Level::holding(9));
        window.reset(i64::MAX - 10, 64);
        assert_eq!(window.ticks(), 64);
        assert_eq!(window.bounds(), (i64::MAX - 64, i64::MAX));
        assert!(window.consistent());
        assert_eq!(window.offset(i64::MAX - 1), Some(63));
        assert_eq!(window.offset(i64::MAX), None);
        assert_eq!(window.offset(i64::MIN), None);
        window.put(63, Level::holding(1));
        assert_eq!(window.highest(), Some(63));
        assert_eq!(window.price(63), i64::MAX - 1);
    }
}
