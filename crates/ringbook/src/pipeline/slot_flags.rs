//! Slot flags: a halted bit and a failed bit per instrument slot, in one atomic bitset,
//! set and cleared without locks.

use std::sync::atomic::Ordering;

use crate::sync::AtomicU64;

/// Slots per word: each word holds the halted bits of 32 slots in its low half and their
/// failed bits in its high half.
const SLOTS_PER_WORD: u32 = 32;

/// One flag of a slot, or several together (to test them in one load).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotFlag(u64);

impl SlotFlag {
    /// The book is halted (the callers' view: flipped by halt and resume).
    pub(crate) const HALTED: SlotFlag = SlotFlag(1);
    /// The book's thread panicked and the book is closed.
    pub(crate) const FAILED: SlotFlag = SlotFlag(1 << SLOTS_PER_WORD);
    /// Halted or failed.
    pub(crate) const HALTED_OR_FAILED: SlotFlag = SlotFlag(Self::HALTED.0 | Self::FAILED.0);
}

/// The halted and failed bits of every instrument slot.
///
/// Callers test both in one load on every command (the fast reject); halt and resume flip
/// the halted bit, and a book consumer sets the failed bit of a book that panicked. The
/// book's own halted flag, changed in sequence, stays the authoritative check.
#[derive(Debug)]
pub(crate) struct SlotFlags {
    words: Box<[AtomicU64]>,
}

impl SlotFlags {
    /// Flags for `slots` slots, all clear.
    pub(crate) fn new(slots: usize) -> SlotFlags {
        SlotFlags {
            words: (0..slots.div_ceil(SLOTS_PER_WORD as usize))
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    /// The word holding `slot`'s flags, and `flag` shifted to `slot`'s place in it.
    #[inline]
    fn locate(slot: u32, flag: SlotFlag) -> (usize, u64) {
        (
            (slot / SLOTS_PER_WORD) as usize,
            flag.0 << (slot % SLOTS_PER_WORD),
        )
    }

    /// Sets `flag` on `slot`.
    #[inline]
    pub(crate) fn set(&self, slot: u32, flag: SlotFlag) {
        let (word, bits) = Self::locate(slot, flag);
        self.words[word].fetch_or(bits, Ordering::Release);
    }

    /// Clears `flag` on `slot`.
    #[inline]
    pub(crate) fn clear(&self, slot: u32, flag: SlotFlag) {
        let (word, bits) = Self::locate(slot, flag);
        self.words[word].fetch_and(!bits, Ordering::Release);
    }

    /// Whether `slot` has any of `flags` set.
    #[inline]
    pub(crate) fn any(&self, slot: u32, flags: SlotFlag) -> bool {
        let (word, bits) = Self::locate(slot, flags);
        self.words[word].load(Ordering::Acquire) & bits != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_independent_across_slots_flags_and_words() {
        let flags = SlotFlags::new(70);
        for slot in [0, 31, 32, 63, 64, 69] {
            assert!(!flags.any(slot, SlotFlag::HALTED_OR_FAILED));
        }
        flags.set(31, SlotFlag::HALTED);
        flags.set(32, SlotFlag::FAILED);
        flags.set(69, SlotFlag::HALTED);
        flags.set(69, SlotFlag::FAILED);
        assert!(flags.any(31, SlotFlag::HALTED) && !flags.any(31, SlotFlag::FAILED));
        assert!(flags.any(32, SlotFlag::FAILED) && !flags.any(32, SlotFlag::HALTED));
        assert!(flags.any(31, SlotFlag::HALTED_OR_FAILED));
        assert!(flags.any(32, SlotFlag::HALTED_OR_FAILED));
        // A slot's halted bit and the failed bit of the slot 32 below it are apart.
        assert!(!flags.any(0, SlotFlag::HALTED_OR_FAILED));
        assert!(!flags.any(63, SlotFlag::HALTED_OR_FAILED));
        assert!(!flags.any(64, SlotFlag::HALTED_OR_FAILED));
        flags.clear(69, SlotFlag::HALTED);
        assert!(!flags.any(69, SlotFlag::HALTED) && flags.any(69, SlotFlag::FAILED));
        flags.clear(31, SlotFlag::HALTED);
        assert!(!flags.any(31, SlotFlag::HALTED_OR_FAILED));
    }
}
