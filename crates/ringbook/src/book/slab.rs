//! A slab: a growable arena of slots addressed by `u32` index, with a free list.
//!
//! Slots freed by one order are reused by the next, so a book in steady state allocates
//! nothing per order: the backing vector only grows when more orders rest at once than
//! ever before.

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
        &self.slots[index as usize]
    }
}

impl<T> std::ops::IndexMut<u32> for Slab<T> {
    #[inline]
    fn index_mut(&mut self, index: u32) -> &mut T {
        &mut self.slots[index as usize]
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
