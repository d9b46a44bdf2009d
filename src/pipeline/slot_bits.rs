//! Slot bitsets: one atomic bit per instrument slot (halted books, failed books), set and cleared without locks.

use std::sync::atomic::{AtomicU64, Ordering};

/// One atomic bit per instrument slot.
///
/// Callers read it on every add and modify (the fast reject); halt and resume flip it.
/// The book's own halted flag, changed in sequence, stays the authoritative check.
#[derive(Debug)]
pub(crate) struct SlotBits {
    words: Box<[AtomicU64]>,
}

impl SlotBits {
    /// A bitset for `slots` slots, all clear.
    pub(crate) fn new(slots: usize) -> SlotBits {
        SlotBits {
            words: (0..slots.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    #[inline]
    fn locate(slot: u32) -> (usize, u64) {
        ((slot / 64) as usize, 1u64 << (slot % 64))
    }

    /// Sets the bit of `slot`.
    #[inline]
    pub(crate) fn set(&self, slot: u32) {
        let (word, bit) = Self::locate(slot);
        self.words[word].fetch_or(bit, Ordering::Release);
    }

    /// Clears the bit of `slot`.
    #[inline]
    pub(crate) fn clear(&self, slot: u32) {
        let (word, bit) = Self::locate(slot);
        self.words[word].fetch_and(!bit, Ordering::Release);
    }

    /// Whether the bit of `slot` is set.
    #[inline]
    pub(crate) fn is_set(&self, slot: u32) -> bool {
        let (word, bit) = Self::locate(slot);
        self.words[word].load(Ordering::Acquire) & bit != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_independent_across_words() {
        let bits = SlotBits::new(130);
        for slot in [0, 63, 64, 129] {
            assert!(!bits.is_set(slot));
            bits.set(slot);
        }
        assert!(bits.is_set(63) && bits.is_set(64) && bits.is_set(129));
        assert!(!bits.is_set(1) && !bits.is_set(65) && !bits.is_set(128));
        bits.clear(64);
        assert!(!bits.is_set(64) && bits.is_set(63));
    }
}
