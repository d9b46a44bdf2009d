//! A slab: a growable arena of slots addressed by `u32` index, with a free list.
//!
//! Slots freed by one order are reused by the next, so a book in steady state allocates
//! nothing per order: the backing vector only grows when more orders rest at once than
//! ever before.
//!
//! Indexing does not check bounds in release builds. Every index a book stores (in an
//! order's links and level, a level's head and tail, the id index, the ladders) was
//! returned by [`Slab::insert`] of the same slab, and a slab never shrinks, so every such
//! index stays below its length. The checks were about 15 instructions a message, 10% of
//! the matching core on the market regimes (callgrind, `market_replay`), so this module
//! allows `unsafe` for the two accessors; debug builds (every test) still check, and
//! [`Slab::get`] checks always, for code that follows links it does not trust (the
//! integrity checks).

#![allow(unsafe_code)]

/// The index no slot has: used as the null link in intrusive lists.
pub(crate) const NIL: u32 = u32::MAX;

/// A growable arena with a free list of vacated slots.
#[derive(Clone, Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<T>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    /// An empty slab with room for `capacity` slots before it reallocates.
    pub(crate) fn with_capacity(capacity: usize) -> Slab<T> {
        Slab {
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
        }
    }

    /// Stores `value` in a free slot (reusing a vacated one first) and returns its index.
    ///
    /// # Panics
    ///
    /// Panics if more than `u32::MAX - 1` slots would be live at once.
    #[inline]
    pub(crate) fn insert(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = value;
                index
            }
            None => {
                let index = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&i| i != NIL)
                    .expect("slab full: more than u32::MAX - 1 live slots");
                self.slots.push(value);
                index
            }
        }
    }

    /// Marks slot `index` vacant. The caller guarantees it is live and marks the value
    /// itself as vacant if it needs to tell (the slab does not track liveness).
    #[inline]
    pub(crate) fn remove(&mut self, index: u32) {
        self.free.push(index);
    }

    /// Slot `index`, if the slab has it (live or vacant): the checked access, for code
    /// that follows links it does not trust.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<&T> {
        self.slots.get(index as usize)
    }

    /// How many slots are live.
    #[inline]
    pub(crate) fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Every slot, live or vacant, with its index.
    pub(crate) fn iter_all(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots.iter().enumerate().map(|(i, v)| (i as u32, v))
    }

    /// Bytes held by the slab's buffers.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<T>()
            + self.free.capacity() * std::mem::size_of::<u32>()
    }
}

impl<T> std::ops::Index<u32> for Slab<T> {
    type Output = T;

    #[inline]
    fn index(&self, index: u32) -> &T {
        debug_assert!(
            (index as usize) < self.slots.len(),
            "slot {index} out of bounds"
        );
        // SAFETY: `index` was returned by `insert` on this slab (the module's invariant:
        // the book stores no other index), and the slab never shrinks, so it is below
        // `slots.len()`.
        unsafe { self.slots.get_unchecked(index as usize) }
    }
}

impl<T> std::ops::IndexMut<u32> for Slab<T> {
    #[inline]
    fn index_mut(&mut self, index: u32) -> &mut T {
        debug_assert!(
            (index as usize) < self.slots.len(),
            "slot {index} out of bounds"
        );
        // SAFETY: as for `index`: every index the book holds came from `insert` on this
        // slab, which never shrinks.
        unsafe { self.slots.get_unchecked_mut(index as usize) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_freed_slots_before_growing() {
        let mut slab = Slab::with_capacity(2);
        let a = slab.insert(10);
        let b = slab.insert(20);
        assert_eq!((a, b), (0, 1));
        slab.remove(a);
        assert_eq!(slab.live(), 1);
        let c = slab.insert(30);
        assert_eq!(c, a, "a vacated slot is reused");
        assert_eq!(slab[c], 30);
        assert_eq!(slab.live(), 2);
        assert_eq!(slab.insert(40), 2);
    }
}
