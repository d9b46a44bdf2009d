//! A dense run of price ticks: one level slot per tick and one bit per occupied tick, so
//! finding, adding and removing a level in the run is an index, and the next occupied
//! tick is a few word scans away.

use super::slab::NIL;
use crate::types::Price;

/// A window of consecutive ticks starting at `base`. It holds no prices past `i64::MAX`:
/// `base + ticks` never overflows, so [`TickWindow::offset`] is one subtraction and one
/// compare.
#[derive(Clone, Debug, Default)]
pub(super) struct TickWindow {
    /// The price of tick 0.
    base: Price,
    /// The level slot at each tick, or [`NIL`].
    slots: Vec<u32>,
    /// Bit `i % 64` of word `i / 64` is set when tick `i` holds a level.
    occupied: Vec<u64>,
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
        self.slots.clear();
        self.slots.resize(ticks, NIL);
        self.occupied.clear();
        self.occupied.resize(ticks / 64, 0);
        if self.slots.capacity() > 2 * ticks {
            self.slots.shrink_to_fit();
            self.occupied.shrink_to_fit();
        }
        self.len = 0;
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

    /// The level slot at tick `tick`, or [`NIL`].
    #[inline]
    pub(super) fn get(&self, tick: usize) -> u32 {
        self.slots[tick]
    }

    /// Puts the level slot `level` at the empty tick `tick`.
    #[inline]
    pub(super) fn set(&mut self, tick: usize, level: u32) {
        debug_assert_eq!(self.slots[tick], NIL, "tick {tick} set twice");
        self.slots[tick] = level;
        self.occupied[tick / 64] |= 1 << (tick % 64);
        self.len += 1;
    }

    /// Empties the occupied tick `tick`.
    #[inline]
    pub(super) fn clear(&mut self, tick: usize) {
        debug_assert_ne!(self.slots[tick], NIL, "tick {tick} cleared but empty");
        self.slots[tick] = NIL;
        self.occupied[tick / 64] &= !(1 << (tick % 64));
        self.len -= 1;
    }

    /// The highest occupied tick at or below `tick`.
    #[inline]
    pub(super) fn highest_at_or_below(&self, tick: usize) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mut word = tick / 64;
        // Keep bits 0..=tick % 64 of the first word.
        let mut bits = self.occupied[word] & (u64::MAX >> (63 - tick % 64));
        loop {
            if bits != 0 {
                return Some(word * 64 + 63 - bits.leading_zeros() as usize);
            }
            if word == 0 {
                return None;
            }
            word -= 1;
            bits = self.occupied[word];
        }
    }

    /// The lowest occupied tick at or above `tick`.
    #[inline]
    pub(super) fn lowest_at_or_above(&self, tick: usize) -> Option<usize> {
        if self.len == 0 || tick >= self.ticks() {
            return None;
        }
        let mut word = tick / 64;
        // Keep bits tick % 64..64 of the first word.
        let mut bits = self.occupied[word] & (u64::MAX << (tick % 64));
        loop {
            if bits != 0 {
                return Some(word * 64 + bits.trailing_zeros() as usize);
            }
            word += 1;
            if word == self.occupied.len() {
                return None;
            }
            bits = self.occupied[word];
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

    /// Every level's price and slot, ascending.
    pub(super) fn ascending(&self) -> impl Iterator<Item = (Price, u32)> + '_ {
        std::iter::successors(self.lowest(), |&tick| self.lowest_at_or_above(tick + 1))
            .map(|tick| (self.price(tick), self.slots[tick]))
    }

    /// Every level's price and slot, descending.
    pub(super) fn descending(&self) -> impl Iterator<Item = (Price, u32)> + '_ {
        std::iter::successors(self.highest(), |&tick| {
            tick.checked_sub(1)
                .and_then(|below| self.highest_at_or_below(below))
        })
        .map(|tick| (self.price(tick), self.slots[tick]))
    }

    /// Whether the slots, the bits and the count agree (for integrity checks).
    pub(super) fn consistent(&self) -> bool {
        let mut count = 0;
        let slots_agree = self.slots.iter().enumerate().all(|(tick, &level)| {
            count += usize::from(level != NIL);
            let bit = self.occupied[tick / 64] >> (tick % 64) & 1 == 1;
            bit == (level != NIL)
        });
        slots_agree && count == self.len && self.occupied.len() * 64 == self.slots.len()
    }

    /// Bytes the window holds on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<u32>()
            + self.occupied.capacity() * std::mem::size_of::<u64>()
    }
}
