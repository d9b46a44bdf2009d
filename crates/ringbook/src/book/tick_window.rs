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

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use super::ladder::Level;
use crate::types::Price;

/// How many `u64` words a level takes in the window's allocation.
const WORDS_A_LEVEL: usize = std::mem::size_of::<Level>() / std::mem::size_of::<u64>();

const _: () = assert!(
    std::mem::size_of::<Level>() == WORDS_A_LEVEL * 8
        && std::mem::align_of::<Level>() == std::mem::align_of::<u64>(),
    "levels are stored among the words of the window's allocation"
);

/// The bit words of a window of `ticks` ticks: the occupied words (one per 64 ticks,
/// rounded up), then the summary words (one per 64 occupied words, rounded up).
#[inline]
fn bit_words(ticks: usize) -> (usize, usize) {
    let words = ticks.div_ceil(64);
    (words, words + words.div_ceil(64))
}

/// A window of consecutive ticks starting at `base`. It holds no prices past `i64::MAX`:
/// `base + ticks` never overflows, so [`TickWindow::offset`] is one subtraction and one
/// compare.
///
/// Every tick holds a level, [`Level::EMPTY`] where none rests. Re-placing a window of
/// the same length empties only the ticks that held levels (found by the occupied bits)
/// instead of writing every tick again: a window of 65,536 ticks holding 300 levels is
/// re-placed for 300 writes and its bits, not 65,536 writes. A new allocation is filled
/// by a plain store loop.
///
/// The bits and the levels are one allocation, the bits first: a new window is one
/// `malloc`, not two, and a small window's bits sit in the line before its first levels,
/// on the same page. The window owns it through raw pointers to the bits (the
/// allocation's start), the summary words and the levels, so each is one load away. A
/// window's length may be any multiple of 16 ticks: a side of a few levels gets 32 (768
/// bytes of levels), which `malloc` serves from its small per-thread caches.
///
/// The fields are plain `usize`s and the summary words have their own pointer: with
/// `u32` counts, or the summary found from the bits' pointer and the word count, the
/// market regimes' hot paths compiled to 0.6-2.6% more instructions (perf/LOG.md, issue
/// 21, h-ladder2).
#[derive(Debug)]
pub(super) struct TickWindow {
    /// The price of tick 0.
    base: Price,
    /// The level at each tick (`ticks` of them), [`Level::EMPTY`] where none rests: the
    /// allocation's words after the bits (dangling before the first reset).
    levels: NonNull<Level>,
    /// The allocation's first word: the occupied words, then the summary words. Bit
    /// `i % 64` of occupied word `i / 64` is set when tick `i` holds a level, and bit
    /// `w % 64` of summary word `w / 64` when occupied word `w` is not 0. Owned: a
    /// `Box<[u64]>` of [`TickWindow::allocated`] words turned into a raw pointer
    /// (dangling before the first reset).
    bits: NonNull<u64>,
    /// The first summary word: `bits` plus the number of occupied words.
    summary: NonNull<u64>,
    /// How many ticks the window spans (a multiple of 16, at most 2^30; 0 before the
    /// first reset).
    ticks: usize,
    /// How many ticks hold a level.
    len: usize,
    /// How many occupied words the window has: `ticks` over 64, rounded up.
    words: usize,
}

// SAFETY: the window owns its allocation as the `Box<[u64]>` it came from (no pointer
// into it is kept anywhere else), and hands out references to it only through `&self`
// and `&mut self`.
unsafe impl Send for TickWindow {}
// SAFETY: as for `Send`: shared access only reads.
unsafe impl Sync for TickWindow {}

impl Default for TickWindow {
    fn default() -> TickWindow {
        TickWindow {
            base: 0,
            levels: NonNull::dangling(),
            bits: NonNull::dangling(),
            summary: NonNull::dangling(),
            ticks: 0,
            len: 0,
            words: 0,
        }
    }
}

impl Clone for TickWindow {
    fn clone(&self) -> TickWindow {
        if self.ticks == 0 {
            return TickWindow {
                base: self.base,
                ..TickWindow::default()
            };
        }
        let copy: Box<[u64]> = self.all_words().into();
        let mut window = TickWindow {
            base: self.base,
            len: self.len,
            ..TickWindow::default()
        };
        window.adopt(copy, self.ticks);
        window
    }
}

impl Drop for TickWindow {
    fn drop(&mut self) {
        self.release();
    }
}

impl TickWindow {
    /// How many words the allocation of a window of `ticks` ticks holds: its bit words,
    /// then its levels' (0 for no ticks: no allocation).
    fn allocated(ticks: usize) -> usize {
        bit_words(ticks).1 + ticks * WORDS_A_LEVEL
    }

    /// Every word of the allocation (the bits, then the levels as words).
    fn all_words(&self) -> &[u64] {
        // SAFETY: `bits` is valid for the allocation's initialised words (or dangling
        // with none): the bits are words, and a level is `WORDS_A_LEVEL` words with no
        // padding.
        unsafe { std::slice::from_raw_parts(self.bits.as_ptr(), Self::allocated(self.ticks)) }
    }

    /// Takes ownership of `words` as the allocation of a window of `ticks` ticks (not
    /// 0), freeing the one it had.
    fn adopt(&mut self, words: Box<[u64]>, ticks: usize) {
        debug_assert!(ticks > 0 && words.len() == Self::allocated(ticks));
        self.release();
        let (occupied, bits) = bit_words(ticks);
        self.ticks = ticks;
        self.words = occupied;
        let first = Box::into_raw(words).cast::<u64>();
        // SAFETY: `Box::into_raw` never returns null; the summary words start `occupied`
        // words in and the levels `bits` words in, inside the allocation, aligned as a
        // `u64` is, which is a level's alignment.
        unsafe {
            self.bits = NonNull::new_unchecked(first);
            self.summary = NonNull::new_unchecked(first.add(occupied));
            self.levels = NonNull::new_unchecked(first.add(bits).cast::<Level>());
        }
    }

    /// Frees the allocation (leaving none).
    fn release(&mut self) {
        if self.ticks > 0 {
            let words =
                std::ptr::slice_from_raw_parts_mut(self.bits.as_ptr(), Self::allocated(self.ticks));
            // SAFETY: `bits` and the length came from `Box::into_raw` in `adopt` (the
            // length from the same tick count), and are forgotten just below.
            drop(unsafe { Box::from_raw(words) });
        }
        self.ticks = 0;
        self.words = 0;
        self.bits = NonNull::dangling();
        self.summary = NonNull::dangling();
        self.levels = NonNull::dangling();
    }

    /// Empties the window and makes it `ticks` ticks long (a multiple of 16), starting at
    /// `base`, or lower if the window would run past `i64::MAX`. Keeps the allocation
    /// when the length is unchanged, and then writes [`Level::EMPTY`] only at the ticks
    /// that held a level (the caller has copied them out) and zeroes the bits; a new
    /// allocation is filled whole.
    pub(super) fn reset(&mut self, base: Price, ticks: usize) {
        debug_assert!(ticks.is_multiple_of(16) && ticks > 0 && ticks <= 1 << 30);
        self.base = base.min(i64::MAX - ticks as i64);
        if self.ticks == ticks {
            self.empty_occupied();
            self.bits_mut().fill(0);
        } else {
            let (_, bits) = bit_words(ticks);
            let mut fresh: Box<[MaybeUninit<u64>]> = Box::new_uninit_slice(Self::allocated(ticks));
            let (zeroes, levels) = fresh.split_at_mut(bits);
            for word in zeroes {
                word.write(0);
            }
            for level in levels.chunks_exact_mut(WORDS_A_LEVEL) {
                // SAFETY: the chunk is `WORDS_A_LEVEL` words, a level's size, aligned as
                // a `u64` is, which is a level's alignment.
                unsafe { level.as_mut_ptr().cast::<Level>().write(Level::EMPTY) };
            }
            // SAFETY: the two loops wrote every word (a level has no padding).
            self.adopt(unsafe { fresh.assume_init() }, ticks);
        }
        self.len = 0;
    }

    /// The bits: the occupied words, then the summary words.
    fn bits(&self) -> &[u64] {
        let (_, words) = bit_words(self.ticks());
        // SAFETY: the allocation starts with `words` bit words, borrowed with `self`.
        unsafe { std::slice::from_raw_parts(self.bits.as_ptr(), words) }
    }

    /// The bits, to change.
    fn bits_mut(&mut self) -> &mut [u64] {
        let (_, words) = bit_words(self.ticks());
        // SAFETY: as for `bits`, borrowed mutably with `self`.
        unsafe { std::slice::from_raw_parts_mut(self.bits.as_ptr(), words) }
    }

    /// The levels, one a tick.
    fn levels(&self) -> &[Level] {
        // SAFETY: the allocation holds `ticks` initialised levels after the bits (none,
        // and a dangling pointer, before the first reset).
        unsafe { std::slice::from_raw_parts(self.levels.as_ptr(), self.ticks()) }
    }

    /// Writes [`Level::EMPTY`] at every occupied tick (the bits are left as they are).
    fn empty_occupied(&mut self) {
        for word in 0..self.words() {
            let mut bits = self.occupied_word(word);
            while bits != 0 {
                let tick = word * 64 + bits.trailing_zeros() as usize;
                *self.get_mut(tick) = Level::EMPTY;
                bits &= bits - 1;
            }
        }
    }

    /// How many ticks the window spans (0 before the first [`TickWindow::reset`]).
    #[inline]
    pub(super) fn ticks(&self) -> usize {
        self.ticks
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
        (offset < self.ticks as u64).then_some(offset as usize)
    }

    /// The price of tick `tick`.
    #[inline]
    pub(super) fn price(&self, tick: usize) -> Price {
        self.base + tick as i64
    }

    /// How many occupied words the window has (a word per 64 ticks, rounded up: a
    /// window shorter than 64 ticks uses the low bits of its one word).
    #[inline(always)]
    fn words(&self) -> usize {
        self.words
    }

    /// How many summary words the window has (a word per 64 occupied words).
    #[inline(always)]
    fn summaries(&self) -> usize {
        self.words().div_ceil(64)
    }

    /// The occupied word `word`, which must be below [`Self::words`].
    #[inline(always)]
    fn occupied_word(&self, word: usize) -> u64 {
        debug_assert!(word < self.words(), "occupied word {word} past the window");
        // SAFETY: `word < words()`, the occupied words at the allocation's start:
        // every word comes from a tick below `ticks` (64 ticks a word) or from the
        // summary bits, which span the words.
        unsafe { *self.bits.as_ptr().add(word) }
    }

    /// The occupied word `word`, to change (as for [`Self::occupied_word`]).
    #[inline(always)]
    fn occupied_word_mut(&mut self, word: usize) -> &mut u64 {
        debug_assert!(word < self.words(), "occupied word {word} past the window");
        // SAFETY: as for `occupied_word`.
        unsafe { &mut *self.bits.as_ptr().add(word) }
    }

    /// The summary word `at`, which must be below [`Self::summaries`].
    #[inline(always)]
    fn summary_word(&self, at: usize) -> u64 {
        debug_assert!(at < self.summaries(), "summary word {at} past the window");
        // SAFETY: `summary` is the first summary word, and `at` is below their count: `at`
        // is an occupied word's number over 64, and there is a summary word per 64
        // occupied words (rounded up).
        unsafe { *self.summary.as_ptr().add(at) }
    }

    /// The summary word `at`, to change (as for [`Self::summary_word`]).
    #[inline(always)]
    fn summary_word_mut(&mut self, at: usize) -> &mut u64 {
        debug_assert!(at < self.summaries(), "summary word {at} past the window");
        // SAFETY: as for `summary_word`.
        unsafe { &mut *self.summary.as_ptr().add(at) }
    }

    /// The level at tick `tick` ([`Level::EMPTY`] if none rests there). `tick` must be
    /// below [`TickWindow::ticks`], as every tick [`TickWindow::offset`] returns is.
    #[inline(always)]
    pub(super) fn get(&self, tick: usize) -> &Level {
        debug_assert!(tick < self.ticks(), "tick {tick} outside the window");
        // SAFETY: callers pass a tick from `offset` (below `ticks`, checked there) or
        // from the occupied bits (which span `ticks` ticks); the window has not been
        // reset since.
        unsafe { &*self.levels.as_ptr().add(tick) }
    }

    /// Starts loading the level at tick `tick` and the word of its occupied bit. `tick`
    /// must be below [`TickWindow::ticks`].
    #[inline(always)]
    pub(super) fn prefetch(&self, tick: usize) {
        super::prefetch::prefetch(self.get(tick));
        debug_assert!(tick / 64 < self.words());
        // SAFETY: `tick < ticks`, so its occupied word is among the bits.
        super::prefetch::prefetch(unsafe { &*self.bits.as_ptr().add(tick / 64) });
    }

    /// The level at tick `tick`, to change. `tick` must be below [`TickWindow::ticks`].
    #[inline(always)]
    pub(super) fn get_mut(&mut self, tick: usize) -> &mut Level {
        debug_assert!(tick < self.ticks(), "tick {tick} outside the window");
        // SAFETY: as for `get`: the tick came from `offset` or the occupied bits of this
        // window, unchanged since.
        unsafe { &mut *self.levels.as_ptr().add(tick) }
    }

    /// Puts `level` (not empty) at the empty tick `tick` and marks it occupied.
    #[inline(always)]
    pub(super) fn put(&mut self, tick: usize, level: Level) {
        *self.get_mut(tick) = level;
        self.occupy(tick);
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
    /// last order leaves it as [`Level::EMPTY`]).
    #[inline]
    pub(super) fn clear(&mut self, tick: usize) {
        debug_assert_eq!(
            *self.get(tick),
            Level::EMPTY,
            "tick {tick} cleared but busy"
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
    /// bit is set exactly when its level is not [`Level::EMPTY`] (the book's integrity
    /// check walks each set tick's FIFO), the count is the number of set bits, and a
    /// summary bit is set exactly when its word is not 0.
    pub(super) fn consistent(&self) -> bool {
        let (words, bit_words) = bit_words(self.ticks());
        let first = self.bits.as_ptr();
        let laid_out = self.words == words
            && (self.ticks == 0
                || self.summary.as_ptr() == first.wrapping_add(words)
                    && self.levels.as_ptr().cast::<u64>() == first.wrapping_add(bit_words));
        if !laid_out {
            return false;
        }
        let occupied = &self.bits()[..self.words()];
        let count: usize = occupied.iter().map(|w| w.count_ones() as usize).sum();
        let levels_hold_orders = self.levels().iter().enumerate().all(|(tick, level)| {
            let bit = self.occupied_word(tick / 64) >> (tick % 64) & 1 == 1;
            bit == (*level != Level::EMPTY)
        });
        let summary_agrees = occupied.iter().enumerate().all(|(word, &bits)| {
            let bit = self.summary_word(word / 64) >> (word % 64) & 1 == 1;
            bit == (bits != 0)
        });
        levels_hold_orders && summary_agrees && count == self.len()
    }

    /// Bytes the window holds on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        Self::allocated(self.ticks) * std::mem::size_of::<u64>()
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
        let allocation = window.bits.as_ptr();
        window.reset(70_000, 4_096);
        assert_eq!(
            window.bits.as_ptr(),
            allocation,
            "same length: allocation kept"
        );
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
    /// A window shorter than a word (32 ticks) spans exactly its ticks: the bits past
    /// them are never set, and the searches, the bounds and the consistency check hold
    /// as for a whole word.
    #[test]
    fn a_window_shorter_than_a_word_spans_its_ticks() {
        let mut window = TickWindow::default();
        window.reset(100, 32);
        assert_eq!(window.bounds(), (100, 132));
        assert_eq!(window.offset(131), Some(31));
        assert_eq!((window.offset(132), window.offset(99)), (None, None));
        assert!(window.consistent());
        assert_eq!((window.lowest(), window.highest()), (None, None));
        window.put(0, Level::holding(1));
        window.put(31, Level::holding(2));
        assert_eq!(window.highest(), Some(31));
        assert_eq!(window.lowest_at_or_above(1), Some(31));
        assert_eq!(window.highest_at_or_below(30), Some(0));
        assert_eq!(window.lowest_at_or_above(32), None);
        assert!(window.consistent());
        window.reset(500, 32);
        assert_eq!(window.len(), 0);
        assert!((0..32).all(|tick| *window.get(tick) == Level::EMPTY));
        assert!(window.consistent());
    }
    /// A window is one allocation, its bit words first and its levels right after them
    /// (a 32-tick window: 16 bytes of bits, then 768 of levels); a clone copies it into
    /// an allocation of its own, and the two then change apart.
    #[test]
    fn a_window_is_one_allocation_with_its_bits_first() {
        let mut window = TickWindow::default();
        assert_eq!(window.heap_bytes(), 0);
        window.reset(0, 32);
        assert_eq!(window.heap_bytes(), 2 * 8 + 32 * 24);
        let start = window.bits.as_ptr() as usize;
        assert_eq!(std::ptr::from_ref(window.get(0)) as usize, start + 2 * 8);
        window.reset(0, 4_096);
        assert_eq!(window.heap_bytes(), (64 + 1) * 8 + 4_096 * 24);
        let start = window.bits.as_ptr() as usize;
        assert_eq!(std::ptr::from_ref(window.get(0)) as usize, start + 65 * 8);
        window.put(7, Level::holding(3));
        let mut copy = window.clone();
        assert!(copy.consistent());
        assert_ne!(copy.bits.as_ptr(), window.bits.as_ptr());
        *copy.get_mut(7) = Level::EMPTY;
        copy.clear(7);
        copy.put(4_000, Level::holding(4));
        assert_eq!((window.lowest(), window.highest()), (Some(7), Some(7)));
        assert_eq!((copy.lowest(), copy.highest()), (Some(4_000), Some(4_000)));
        assert!(window.consistent() && copy.consistent());
        assert_eq!(TickWindow::default().clone().ticks(), 0);
    }
}
