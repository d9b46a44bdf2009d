//! A slab: a growable arena of slots addressed by `u32` index, with a free list.
//!
//! Slots freed by one order are reused by the next, so a book in steady state allocates
//! nothing per order: the backing vector only grows when more orders rest at once than
//! ever before. The free list is intrusive: a vacant slot holds the index of the next
//! vacant one ([`Vacant`]), so freeing a slot is two stores and taking one two loads (a
//! `Vec<u32>` of free indices cost a length, a capacity test and its own buffer: about 6
//! instructions a message more on the market regimes, issue 17).
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

/// Slots a slab created empty allocates at its first insert (issue 21): a book that
/// rests any order soon rests a dozen, and the vector's own growth from 4 slots (4, 8,
/// 16) cost three reallocations and copies a book, 43 instructions a command at 10,000
/// books of about 50 orders each (callgrind, `many_books 10000`). A book that never rests
/// an order allocates nothing.
pub(crate) const FIRST_SLOTS: usize = 16;

/// Slots from which a slab that populates ahead ([`Slab::populating`]) has its buffer's
/// pages populated before it grows into them (`crate::prefault`): at 48-byte slots 3 MiB.
/// A smaller slab's growth faults little, and a small group (a test's, a few books') maps
/// no memory it may never use.
const POPULATE_FROM: usize = 1 << 16;

/// Slots populated a request (at 48-byte slots 768 KiB), asked for when the slab's length
/// comes within half of it of what was populated.
const POPULATE_CHUNK: usize = 1 << 14;

/// Bytes from which glibc's `malloc` always maps a buffer of its own (its largest
/// threshold for doing so, 32 MiB on 64-bit systems), which `realloc` then grows with
/// `mremap`: the pages move, none is copied or faulted again. A slab that populates ahead
/// jumps to this size when it reaches [`POPULATE_FROM`] slots.
const MAPPED_BYTES: usize = 32 << 20;

/// A slot type whose vacant slots link the slab's free list through one of their fields.
pub(crate) trait Vacant {
    /// A vacant slot's value (what a grown slab holds until its caller writes it).
    fn vacant() -> Self;
    /// The next vacant slot's index ([`NIL`]: none), in a vacant slot.
    fn next_vacant(&self) -> u32;
    /// Links this (vacant) slot to the next vacant one.
    fn set_next_vacant(&mut self, next: u32);
}

/// A growable arena with a free list of vacated slots.
#[derive(Clone, Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<T>,
    /// The first vacant slot ([`NIL`]: none); each links the next ([`Vacant`]).
    free: u32,
    /// For a slab that populates ahead: the slots whose pages it has asked to populate
    /// (those below it; 0 while it has room for fewer than [`POPULATE_FROM`]); [`NIL`] for
    /// a slab that does not.
    populated: u32,
}

impl<T: Vacant> Slab<T> {
    /// An empty slab with room for `capacity` slots before it reallocates.
    pub(crate) fn with_capacity(capacity: usize) -> Slab<T> {
        Slab {
            slots: Vec::with_capacity(capacity),
            free: NIL,
            populated: NIL,
        }
    }

    /// An empty slab that, once it holds [`POPULATE_FROM`] slots, has the pages it grows
    /// into next populated on another thread before it gets there (`crate::prefault`), so
    /// its own thread does not take their page faults: a consumer's shared slab, which
    /// grows while thousands of young books build their depth (issue 21).
    pub(crate) fn populating() -> Slab<T> {
        Slab {
            populated: 0,
            ..Slab::with_capacity(0)
        }
    }

    /// Stores `value` in a free slot (reusing a vacated one first) and returns its index.
    ///
    /// # Panics
    ///
    /// Panics if more than `u32::MAX - 1` slots would be live at once.
    #[cfg(test)]
    pub(crate) fn insert(&mut self, value: T) -> u32 {
        let index = self.take_vacant();
        self[index] = value;
        index
    }

    /// Takes a vacant slot off the free list (growing the slab by one when none is) and
    /// returns its index: the caller writes its value at once, in place (a value built
    /// first and passed to [`Self::insert`] went through the stack, about 6 instructions
    /// more an add).
    ///
    /// # Panics
    ///
    /// Panics if more than `u32::MAX - 1` slots would be live at once.
    #[inline(always)]
    pub(crate) fn take_vacant(&mut self) -> u32 {
        let index = self.free;
        if index != NIL {
            // A freed index came from `insert`: in bounds (see the module doc).
            self.free = self[index].next_vacant();
            return index;
        }
        self.push_vacant()
    }

    /// [`Self::take_vacant`] with no vacant slot: the backing vector grows by one slot,
    /// its buffer by [`FIRST_SLOTS`] at first, then doubling ([`Self::reserve_more`]).
    #[cold]
    #[inline(never)]
    fn push_vacant(&mut self) -> u32 {
        let len = self.slots.len();
        let index = u32::try_from(len)
            .ok()
            .filter(|&i| i != NIL)
            .expect("slab full: more than u32::MAX - 1 live slots");
        if len == self.slots.capacity() {
            self.reserve_more();
        }
        // NIL (a slab that does not populate ahead) is never reached.
        if len + POPULATE_CHUNK / 2 >= self.populated as usize {
            self.populate_ahead(len);
        }
        self.slots.push(T::vacant());
        index
    }

    /// Makes room in a full buffer: [`FIRST_SLOTS`] slots for an empty one, else as many
    /// again as it holds; a slab that populates ahead and reaches [`POPULATE_FROM`] slots
    /// at once as many as fill [`MAPPED_BYTES`], so that its buffer is mapped on its own
    /// and grows without copies from then on.
    fn reserve_more(&mut self) {
        let capacity = self.slots.capacity();
        let mut more = capacity.max(FIRST_SLOTS);
        if self.populated != NIL && capacity + more >= POPULATE_FROM {
            let mapped = MAPPED_BYTES.div_ceil(std::mem::size_of::<T>().max(1));
            more = more.max(mapped.saturating_sub(capacity));
        }
        self.slots.reserve_exact(more);
    }

    /// For a slab that populates ahead, with `len` slots and room for one more: asks for
    /// the next [`POPULATE_CHUNK`] slots' pages beyond what it has asked for, within its
    /// buffer (nothing while it has room for fewer than [`POPULATE_FROM`]: `populated`
    /// stays 0, and the next slot pushed looks again). Out of line: a book's own slab
    /// never comes here, and its `push_vacant` keeps to a compare.
    #[cold]
    #[inline(never)]
    fn populate_ahead(&mut self, len: usize) {
        let capacity = self.slots.capacity();
        if capacity < POPULATE_FROM {
            return;
        }
        let from = (self.populated as usize).clamp(len, capacity);
        let to = (from + POPULATE_CHUNK).min(capacity);
        let spare = &self.slots.spare_capacity_mut()[from - len..to - len];
        crate::prefault::populate_later(spare.as_ptr().cast(), std::mem::size_of_val(spare));
        // A buffer that ends before the next chunk is asked for again once it has grown.
        self.populated = u32::try_from(to).unwrap_or(NIL - 1);
    }

    /// Marks slot `index` vacant, linking it into the free list through its
    /// [`Vacant`] field. The caller guarantees it is live and marks the value itself as
    /// vacant if it needs to tell (the slab does not track liveness).
    #[inline]
    pub(crate) fn remove(&mut self, index: u32) {
        let free = self.free;
        self[index].set_next_vacant(free);
        self.free = index;
    }

    /// How many slots are live: the slots less the vacant ones, counted along the free
    /// list (at most one step per slot, so a list corrupted into a cycle still ends; the
    /// integrity check compares the count with the orders on levels).
    pub(crate) fn live(&self) -> usize {
        let mut vacant = 0;
        let mut index = self.free;
        while index != NIL && vacant < self.slots.len() {
            let Some(slot) = self.get(index) else {
                break;
            };
            vacant += 1;
            index = slot.next_vacant();
        }
        self.slots.len() - vacant
    }
}

impl<T> Slab<T> {
    /// Slot `index`, if the slab has it (live or vacant): the checked access, for code
    /// that follows links it does not trust.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<&T> {
        self.slots.get(index as usize)
    }

    /// Starts loading slot `index`, if the slab has it (see `book::prefetch`).
    #[inline(always)]
    pub(crate) fn prefetch_slot(&self, index: u32) {
        if let Some(slot) = self.get(index) {
            super::prefetch::prefetch(slot);
        }
    }

    /// Starts loading the slot the next insert takes, if one is vacant.
    #[inline(always)]
    pub(crate) fn prefetch_free(&self) {
        self.prefetch_slot(self.free);
    }

    /// Every slot, live or vacant, with its index.
    pub(crate) fn iter_all(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots.iter().enumerate().map(|(i, v)| (i as u32, v))
    }

    /// Bytes held by the slab's buffers.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<T>()
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

    /// A test slot: a value and the free list's link.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Cell(u32, u32);

    impl Vacant for Cell {
        fn vacant() -> Cell {
            Cell(0, NIL)
        }
        fn next_vacant(&self) -> u32 {
            self.1
        }
        fn set_next_vacant(&mut self, next: u32) {
            self.1 = next;
        }
    }

    #[test]
    fn reuses_freed_slots_before_growing() {
        let mut slab = Slab::with_capacity(2);
        let a = slab.insert(Cell(10, 0));
        let b = slab.insert(Cell(20, 0));
        assert_eq!((a, b), (0, 1));
        slab.remove(a);
        assert_eq!(slab.live(), 1);
        let c = slab.insert(Cell(30, 0));
        assert_eq!(c, a, "a vacated slot is reused");
        assert_eq!(slab[c].0, 30);
        assert_eq!(slab.live(), 2);
        assert_eq!(slab.insert(Cell(40, 0)), 2);
    }

    #[test]
    fn an_empty_slab_allocates_first_slots_at_its_first_insert_then_doubles_keeping_slots() {
        let cell = std::mem::size_of::<Cell>();
        let mut slab = Slab::with_capacity(0);
        assert_eq!(slab.heap_bytes(), 0, "an unused slab allocates nothing");
        assert_eq!(slab.insert(Cell(100, 0)), 0);
        assert_eq!(slab.heap_bytes(), FIRST_SLOTS * cell);
        for v in 1..FIRST_SLOTS as u32 {
            assert_eq!(slab.insert(Cell(100 + v, 0)), v);
        }
        assert_eq!(slab.heap_bytes(), FIRST_SLOTS * cell, "full, not grown");
        // One past the boundary: the buffer doubles, every slot keeps its value.
        let past = slab.insert(Cell(999, 0));
        assert_eq!(past as usize, FIRST_SLOTS);
        assert_eq!(slab.heap_bytes(), 2 * FIRST_SLOTS * cell);
        for v in 0..FIRST_SLOTS as u32 {
            assert_eq!(slab[v].0, 100 + v);
        }
        assert_eq!(slab[past].0, 999);
        assert_eq!(slab.live(), FIRST_SLOTS + 1);
        // A slab made with room for more keeps it: no first allocation of its own.
        let mut sized: Slab<Cell> = Slab::with_capacity(3 * FIRST_SLOTS);
        sized.insert(Cell(1, 0));
        assert_eq!(sized.heap_bytes(), 3 * FIRST_SLOTS * cell);
    }

    #[test]
    fn a_populating_slab_maps_its_buffer_once_large_and_asks_ahead_of_its_length() {
        let cell = std::mem::size_of::<Cell>();
        let mut plain: Slab<Cell> = Slab::with_capacity(0);
        let mut ahead: Slab<Cell> = Slab::populating();
        for v in 0..POPULATE_FROM as u32 / 2 {
            assert_eq!(plain.insert(Cell(v, 0)), v);
            assert_eq!(ahead.insert(Cell(v, 0)), v);
        }
        // Small: the same buffer as a plain slab's, nothing asked for yet.
        assert_eq!(ahead.heap_bytes(), plain.heap_bytes());
        assert_eq!(ahead.populated, 0);
        assert_eq!(plain.populated, NIL);
        for v in POPULATE_FROM as u32 / 2..POPULATE_FROM as u32 + 1 {
            assert_eq!(plain.insert(Cell(v, 0)), v);
            assert_eq!(ahead.insert(Cell(v, 0)), v);
        }
        // Past POPULATE_FROM: the plain slab doubled, the populating one jumped to a buffer
        // malloc maps on its own, and asked for the chunk past its length.
        assert_eq!(plain.heap_bytes(), 2 * POPULATE_FROM * cell);
        assert_eq!(ahead.heap_bytes(), MAPPED_BYTES.div_ceil(cell) * cell);
        let len = POPULATE_FROM + 1;
        let populated = ahead.populated as usize;
        assert!(
            populated > len && populated <= len + POPULATE_CHUNK,
            "asked up to {populated} at length {len}"
        );
        assert_eq!(plain.populated, NIL, "a plain slab never asks");
        for v in 0..=POPULATE_FROM as u32 {
            assert_eq!(ahead[v], Cell(v, 0));
        }
        // Growing on: the asked-for frontier keeps ahead of the length, within the buffer.
        for v in len as u32..(len + 3 * POPULATE_CHUNK) as u32 {
            ahead.insert(Cell(v, 0));
            let populated = ahead.populated as usize;
            let len = v as usize + 1;
            assert!(
                populated >= len + POPULATE_CHUNK / 2 - 1,
                "{populated} at {len}"
            );
            assert!(populated * cell <= ahead.heap_bytes());
        }
        assert_eq!(ahead.live(), len + 3 * POPULATE_CHUNK);
    }

    #[test]
    fn reuses_freed_slots_last_freed_first() {
        let mut slab = Slab::with_capacity(0);
        let slots: Vec<u32> = (0..4).map(|v| slab.insert(Cell(v, 0))).collect();
        slab.remove(slots[1]);
        slab.remove(slots[3]);
        slab.remove(slots[0]);
        assert_eq!(slab.live(), 1);
        assert_eq!(slab.insert(Cell(7, 0)), slots[0]);
        assert_eq!(slab.insert(Cell(8, 0)), slots[3]);
        assert_eq!(slab.insert(Cell(9, 0)), slots[1]);
        assert_eq!(slab.insert(Cell(10, 0)), 4, "grows once none is vacant");
        assert_eq!(slab.live(), 5);
        assert_eq!(slab[slots[2]].0, 2, "a live slot is untouched");
    }
}
