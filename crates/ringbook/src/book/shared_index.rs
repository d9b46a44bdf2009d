//! One id index for every book of a consumer thread (issues 18 and 21).
//!
//! The engine's books share one sequence of order ids: with N books each book's own
//! [`super::index::IdIndex`] sees about every Nth id, so its window is mostly empty and
//! most ids go to its hash table. A consumer's books together see every id of the
//! sequence, so one index over all of them stays dense: its window holds one cell an id,
//! and a cell holds the book's number and the slot, 8 bytes.
//!
//! An order id is unique only within one book (the same id may rest in two books at
//! once): a lookup hits only a cell of its own book. An id whose cell another book's
//! order holds goes to the table, keyed by (book, id), as do the ids the window has left
//! behind and ids far from it (random UUIDs). The table holds the id beside the cell's
//! value, so it never reads another book's slots (the index is used while one book is
//! borrowed).
//!
//! - **The window** spans the ids `base..base + cap`, the id `i` at cell `i & (cap - 1)`.
//!   An id just past its end slides it forward a sixteenth of its length or more at a
//!   time (the ids it leaves behind that still rest move to the table); it doubles, up to
//!   [`MAX_CAP`] cells, when a quarter of it or more rests. An id more than [`SLIDE`]
//!   window lengths past its end, or behind it, goes to the table; a window that holds
//!   nothing is placed at the next id that misses it.
//! - **The table** is keyed per process ([`IdHasher`]) with the book's number mixed into
//!   the hash, so ids crafted to collide in one book or across books spread all the same.
//!   One past its largest id (`shadow_end`) bounds it: a window id at or above it whose
//!   cell does not hold it is absent, so the adds of a session (new, growing ids) and its
//!   cancels never hash.
//!
//! Like the book's own index it decides only where ids sit and is never iterated to
//! produce output: events do not depend on it.

use hashbrown::HashTable;
use uuid::Uuid;

use super::index::{OUTSIDE, Probe, Vacancy};
use super::shared_slots::SharedSlots;
use crate::id_hash::IdHasher;

/// Cells in the first window (32 KiB).
const MIN_CAP: usize = 1 << 12;
/// Cells in the largest window (32 MiB): past it, the oldest ids go to the table.
const MAX_CAP: usize = 1 << 22;
/// The window moves by blocks of this many ids (its base is a multiple of a block).
const BLOCK: u128 = 16;
/// How many window lengths past its end an id may be and still slide the window.
const SLIDE: u128 = 64;
/// Ids at or above this are never placed in the window (so `base + cap` never wraps).
const TOP: u128 = u128::MAX - (1 << 63);
/// An empty cell: the book number `u32::MAX` is never a book's.
const EMPTY: u64 = u64::MAX;
/// Mixes the book's number into an id's keyed hash (an odd constant: distinct books,
/// distinct offsets).
const BOOK_MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// A cell's or an entry's value: the book's number above the slot.
#[inline(always)]
fn key(book: u32, slot: u32) -> u64 {
    u64::from(book) << 32 | u64::from(slot)
}

/// The book of a cell's value.
#[inline(always)]
fn book_of(value: u64) -> u32 {
    (value >> 32) as u32
}

/// A table entry: an id of one book and its value ([`key`]).
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The id's 128 bits as two words (8-byte aligned: 16 bytes, not the 32 a `u128`
    /// field makes the entry).
    id: [u64; 2],
    value: u64,
}

impl Entry {
    /// The entry's id.
    #[inline]
    fn id(&self) -> u128 {
        u128::from(self.id[0]) << 64 | u128::from(self.id[1])
    }
}

/// Maps (book number, order id) to slot numbers for the books of one consumer.
#[derive(Clone, Debug)]
pub(crate) struct SharedIdIndex {
    /// The value ([`key`]) of id `i` at `i & mask`, or [`EMPTY`]; a power of two long (or
    /// empty until the first id is placed).
    window: Vec<u64>,
    /// The window's first id, a multiple of [`BLOCK`].
    base: u128,
    /// `window.len()` as an id count (0 while empty: no id is in the window).
    cap: u128,
    /// `window.len() - 1` (0 while empty).
    mask: usize,
    /// Ids the window holds.
    in_window: usize,
    /// Every other (book, id).
    table: HashTable<Entry>,
    /// One past the largest id the table has held since it was last empty (0: none).
    shadow_end: u128,
    /// Ids indexed, by book (a status counts a book's orders in O(1)).
    counts: Vec<u32>,
    hasher: IdHasher,
    /// The order slots of the books whose ids are here (issue 21: see `shared_slots.rs`),
    /// lent to one book at a time.
    pub(super) slots: SharedSlots,
}

impl Default for SharedIdIndex {
    fn default() -> SharedIdIndex {
        SharedIdIndex::with_hasher(IdHasher::per_process())
    }
}

impl SharedIdIndex {
    /// An empty index hashing with `hasher`; the window is allocated by the first id.
    pub(crate) fn with_hasher(hasher: IdHasher) -> SharedIdIndex {
        SharedIdIndex {
            window: Vec::new(),
            base: 0,
            cap: 0,
            mask: 0,
            in_window: 0,
            table: HashTable::new(),
            shadow_end: 0,
            counts: Vec::new(),
            hasher,
            slots: SharedSlots::default(),
        }
    }

    /// The table's hash of (`book`, `id`).
    #[inline]
    fn hash(&self, book: u32, id: u128) -> u64 {
        self.hasher
            .hash(&Uuid::from_u128(id))
            .wrapping_add(u64::from(book).wrapping_mul(BOOK_MIX))
    }

    /// Whether the table cannot hold `raw`: it is at or above the table's bound, unless
    /// the bound is `u128::MAX` (the table held that id: one past it does not fit).
    #[inline(always)]
    fn past_table(&self, raw: u128) -> bool {
        raw >= self.shadow_end && self.shadow_end != u128::MAX
    }

    /// The window cell of `id`, if the window spans it.
    #[inline(always)]
    fn cell(&self, id: u128) -> Option<usize> {
        (id.wrapping_sub(self.base) < self.cap).then_some(id as usize & self.mask)
    }

    /// Cell `cell`'s value, for a cell found by [`Self::cell`].
    #[inline(always)]
    #[allow(unsafe_code)]
    fn at(&self, cell: usize) -> u64 {
        debug_assert!(cell < self.window.len(), "cell {cell} past the window");
        // SAFETY: `cell` is an id's bits masked with `mask`, `window.len() - 1` of a
        // power-of-two length, found by `cell` only while `cap` (the length) is non-zero:
        // it is in bounds.
        unsafe { *self.window.get_unchecked(cell) }
    }

    /// Sets cell `cell` (as for [`Self::at`]) to `value`.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn set_at(&mut self, cell: usize, value: u64) {
        debug_assert!(cell < self.window.len(), "cell {cell} past the window");
        // SAFETY: as for `at`.
        unsafe {
            *self.window.get_unchecked_mut(cell) = value;
        }
    }

    /// Makes room for the ids of book `book` (a book joining the index).
    pub(crate) fn join(&mut self, book: u32) {
        let at = book as usize;
        if self.counts.len() <= at {
            self.counts.resize(at + 1, 0);
        }
    }

    /// How many ids book `book` has indexed.
    #[inline]
    pub(crate) fn count(&self, book: u32) -> usize {
        self.counts.get(book as usize).map_or(0, |&n| n as usize)
    }

    /// Book `book`'s slot for `id` as the window alone tells it: the slot, the id's
    /// absence, or [`Probe::Elsewhere`] (then [`Self::find_outside`] decides).
    #[inline(always)]
    pub(crate) fn find_in_window(&self, book: u32, id: &Uuid) -> Probe {
        let raw = id.as_u128();
        if let Some(cell) = self.cell(raw) {
            let value = self.at(cell);
            if book_of(value) == book {
                return Probe::Hit(value as u32);
            }
            if raw >= self.shadow_end {
                return Probe::Absent;
            }
        }
        Probe::Elsewhere
    }

    /// Starts loading the window cell of `id`, if the window spans it (see
    /// `book::prefetch`).
    #[inline(always)]
    pub(crate) fn prefetch_cell(&self, id: &Uuid) {
        if let Some(cell) = self.cell(id.as_u128()) {
            super::prefetch::prefetch(&self.window[cell]);
        }
    }

    /// Book `book`'s slot for `id` if the window's cell holds it (a hint for prefetching:
    /// `None` says nothing of the table).
    #[inline(always)]
    pub(crate) fn in_cell(&self, book: u32, id: &Uuid) -> Option<u32> {
        let value = *self.window.get(self.cell(id.as_u128())?)?;
        (book_of(value) == book).then_some(value as u32)
    }

    /// Book `book`'s slot for `id` in the table.
    #[inline(never)]
    pub(crate) fn find_outside(&self, book: u32, id: &Uuid) -> Option<u32> {
        let raw = id.as_u128();
        if self.table.is_empty() || self.past_table(raw) {
            return None;
        }
        let want = u64::from(book);
        self.table
            .find(self.hash(book, raw), |e| {
                e.id() == raw && e.value >> 32 == want
            })
            .map(|e| e.value as u32)
    }

    /// Book `book`'s slot for `id`.
    #[cfg(test)]
    pub(crate) fn find(&self, book: u32, id: &Uuid) -> Option<u32> {
        match self.find_in_window(book, id) {
            Probe::Hit(slot) => Some(slot),
            Probe::Absent => None,
            Probe::Elsewhere => self.find_outside(book, id),
        }
    }

    /// Looks `id` up in book `book` for an insert: `Err` with its slot if it is indexed,
    /// else where it will go, for [`Self::insert_at`].
    #[inline]
    pub(crate) fn vacancy(&self, book: u32, id: &Uuid) -> Result<Vacancy, u32> {
        let raw = id.as_u128();
        if let Some(cell) = self.cell(raw) {
            let value = self.at(cell);
            if book_of(value) == book {
                return Err(value as u32);
            }
            if raw >= self.shadow_end {
                return Ok(Vacancy(if value == EMPTY { cell } else { OUTSIDE }));
            }
        }
        self.vacancy_outside(book, id)
    }

    /// [`Self::vacancy`] of an id the table may hold.
    #[inline(never)]
    fn vacancy_outside(&self, book: u32, id: &Uuid) -> Result<Vacancy, u32> {
        if let Some(slot) = self.find_outside(book, id) {
            return Err(slot);
        }
        Ok(Vacancy(match self.cell(id.as_u128()) {
            Some(cell) if self.at(cell) == EMPTY => cell,
            _ => OUTSIDE,
        }))
    }

    /// Indexes `slot` for book `book`'s `id` where [`Self::vacancy`] found room, with no
    /// index change since but removals.
    #[inline]
    pub(crate) fn insert_at(&mut self, vacancy: Vacancy, book: u32, id: &Uuid, slot: u32) {
        self.counts[book as usize] += 1;
        if vacancy.0 != OUTSIDE {
            debug_assert_eq!(self.cell(id.as_u128()), Some(vacancy.0));
            self.set_at(vacancy.0, key(book, slot));
            self.in_window += 1;
            return;
        }
        self.insert_outside(book, id.as_u128(), slot);
    }

    /// Indexes `slot` for book `book`'s `id`, which it does not index yet.
    pub(crate) fn insert(&mut self, book: u32, id: &Uuid, slot: u32) {
        match self.vacancy(book, id) {
            Ok(vacancy) => self.insert_at(vacancy, book, id, slot),
            Err(held) => debug_assert!(false, "id {id} of book {book} already at slot {held}"),
        }
    }

    /// [`Self::insert_at`] of an id with no free cell: slide or grow the window to it if
    /// it is just past its end, place the window at it if the window holds nothing, else
    /// the table.
    #[inline(never)]
    fn insert_outside(&mut self, book: u32, raw: u128, slot: u32) {
        if raw < TOP {
            if self.in_window == 0 && self.cell(raw).is_none() {
                self.place(raw);
            } else {
                let end = self.base + self.cap;
                if raw >= end && raw - end < SLIDE * self.cap {
                    self.advance(raw);
                }
            }
            if let Some(cell) = self.cell(raw)
                && self.at(cell) == EMPTY
            {
                self.set_at(cell, key(book, slot));
                self.in_window += 1;
                return;
            }
        }
        self.spill(book, raw, key(book, slot));
    }

    /// Puts (`book`, `raw`) with `value` in the table.
    fn spill(&mut self, book: u32, raw: u128, value: u64) {
        let hasher = self.hasher;
        let hash = self.hash(book, raw);
        self.table.insert_unique(
            hash,
            Entry {
                id: [(raw >> 64) as u64, raw as u64],
                value,
            },
            |e| {
                hasher
                    .hash(&Uuid::from_u128(e.id()))
                    .wrapping_add((e.value >> 32).wrapping_mul(BOOK_MIX))
            },
        );
        // Saturating: the id `u128::MAX` leaves the bound at `u128::MAX`, which bounds
        // nothing (see `Self::past_table`).
        self.shadow_end = self.shadow_end.max(raw.saturating_add(1));
    }

    /// Places the empty window (allocating it if need be) so that it starts at `raw`'s
    /// block.
    fn place(&mut self, raw: u128) {
        debug_assert_eq!(self.in_window, 0);
        if self.window.is_empty() {
            self.window = vec![EMPTY; MIN_CAP];
            self.cap = MIN_CAP as u128;
            self.mask = MIN_CAP - 1;
        }
        self.base = raw - raw % BLOCK;
    }

    /// Moves the window forward so that it ends past `raw`, a sixteenth of its length
    /// (and a block) or more at a time, doubling it first while a quarter of it or more
    /// rests; the ids it leaves behind go to the table.
    fn advance(&mut self, raw: u128) {
        while self.in_window * 4 >= self.window.len() && self.window.len() < MAX_CAP {
            self.grow();
        }
        // A step of a sixteenth of the window: one slide every `cap / 16` new ids, not
        // every block (each id leaves once whatever the step; the calls are fewer).
        let step = (self.cap / 16).max(BLOCK);
        let end = raw - raw % step + step;
        let Some(new_base) = end.checked_sub(self.cap).filter(|&b| b > self.base) else {
            return;
        };
        // The ids from `base` to `new_base` leave (all of them if the window moves past
        // its length): at most `cap` cells visited, each at most once a window length of
        // ids, a block of 16 at a time (the base and the steps are multiples of one).
        let leaving = (new_base - self.base).min(self.cap) as usize;
        let start = self.base as usize & self.mask;
        let mut offset = 0;
        while offset < leaving && self.in_window > 0 {
            let cell = (start + offset) & self.mask;
            let block = &self.window[cell..cell + BLOCK as usize];
            if block.iter().any(|&v| v != EMPTY) {
                for k in 0..BLOCK as usize {
                    let value = self.window[cell + k];
                    if value != EMPTY {
                        self.window[cell + k] = EMPTY;
                        self.in_window -= 1;
                        self.spill(book_of(value), self.base + (offset + k) as u128, value);
                    }
                }
            }
            offset += BLOCK as usize;
        }
        self.base = new_base;
    }

    /// Doubles the window, at the same base.
    ///
    /// The new window is written once, cell by cell in order: the ids `base..base + len`
    /// as runs of the old window's cells (a run ends where either window wraps: at most
    /// three runs) and empty cells around them. A loop over the ids one at a time was 18
    /// instructions a command at 10,000 books (issue 21), and filling the new window
    /// before copying wrote each copied cell twice.
    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.window);
        let len = old.len();
        let cap = len * 2;
        let base = self.base as usize;
        // The ids from `base + from`, `count` of them, from the old window's cells.
        let push_ids = |window: &mut Vec<u64>, from: usize, count: usize| {
            let cell = base.wrapping_add(from) & (len - 1);
            let first = count.min(len - cell);
            window.extend_from_slice(&old[cell..cell + first]);
            window.extend_from_slice(&old[..count - first]);
        };
        let start = base & (cap - 1);
        let mut window = Vec::with_capacity(cap);
        if start + len <= cap {
            window.resize(start, EMPTY);
            push_ids(&mut window, 0, len);
            window.resize(cap, EMPTY);
        } else {
            // The last ids wrap to the new window's first cells.
            let wrapped = start + len - cap;
            push_ids(&mut window, len - wrapped, wrapped);
            window.resize(start, EMPTY);
            push_ids(&mut window, 0, len - wrapped);
        }
        debug_assert_eq!(window.len(), cap);
        self.window = window;
        self.cap = cap as u128;
        self.mask = cap - 1;
    }

    /// Book `book`'s slot for `id`, dropped from the window if it is there, else
    /// [`Probe::Absent`] or [`Probe::Elsewhere`] as for [`Self::find_in_window`].
    #[inline(always)]
    pub(crate) fn take_in_window(&mut self, book: u32, id: &Uuid) -> Probe {
        let raw = id.as_u128();
        if let Some(cell) = self.cell(raw) {
            let value = self.at(cell);
            if book_of(value) == book {
                self.set_at(cell, EMPTY);
                self.in_window -= 1;
                self.counts[book as usize] -= 1;
                return Probe::Hit(value as u32);
            }
            if raw >= self.shadow_end {
                return Probe::Absent;
            }
        }
        Probe::Elsewhere
    }

    /// Book `book`'s slot for `id`, taken from the table.
    #[inline(never)]
    pub(crate) fn take_outside(&mut self, book: u32, id: &Uuid) -> Option<u32> {
        let raw = id.as_u128();
        if self.table.is_empty() || self.past_table(raw) {
            return None;
        }
        let want = u64::from(book);
        let hash = self.hash(book, raw);
        let entry = self
            .table
            .find_entry(hash, |e| e.id() == raw && e.value >> 32 == want)
            .ok()?;
        let (e, _) = entry.remove();
        self.emptied();
        self.counts[book as usize] -= 1;
        Some(e.value as u32)
    }

    /// Drops `slot`, indexed for book `book`'s `id`.
    #[inline]
    pub(crate) fn remove(&mut self, book: u32, id: &Uuid, slot: u32) {
        self.counts[book as usize] -= 1;
        if let Some(cell) = self.cell(id.as_u128())
            && self.at(cell) == key(book, slot)
        {
            self.set_at(cell, EMPTY);
            self.in_window -= 1;
            return;
        }
        self.remove_from_table(book, id, slot);
    }

    /// [`Self::remove`] from the table.
    #[inline(never)]
    fn remove_from_table(&mut self, book: u32, id: &Uuid, slot: u32) {
        let value = key(book, slot);
        let hash = self.hash(book, id.as_u128());
        match self.table.find_entry(hash, |e| e.value == value) {
            Ok(entry) => {
                entry.remove();
                self.emptied();
            }
            Err(_) => debug_assert!(false, "slot {slot} of book {book} was not indexed"),
        }
    }

    /// Resets the table's bound once the table is empty.
    #[inline]
    fn emptied(&mut self) {
        if self.table.is_empty() {
            self.shadow_end = 0;
        }
    }

    /// Keeps the table at most half full, so that erased entries' tombstones do not
    /// lengthen the probes of absent ids (see the book's own index, `keep_room`).
    #[inline]
    pub(crate) fn keep_room(&mut self) {
        let held = self.table.len();
        if self.table.capacity() < 2 * held {
            let hasher = self.hasher;
            self.table.reserve(held, |e| {
                hasher
                    .hash(&Uuid::from_u128(e.id()))
                    .wrapping_add((e.value >> 32).wrapping_mul(BOOK_MIX))
            });
        }
    }

    /// How many (book, id) pairs are indexed.
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.in_window + self.table.len()
    }

    /// Every (book, slot) indexed, window first, then in table order (which depends on
    /// the process's hash keys: never used to produce output).
    #[cfg(test)]
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.window
            .iter()
            .copied()
            .filter(|&v| v != EMPTY)
            .chain(self.table.iter().map(|e| e.value))
            .map(|v| (book_of(v), v as u32))
    }

    /// Drops every id of book `book` (a book that leaves the index: O(window + table)).
    pub(crate) fn forget_book(&mut self, book: u32) {
        for cell in &mut self.window {
            if *cell != EMPTY && book_of(*cell) == book {
                *cell = EMPTY;
                self.in_window -= 1;
            }
        }
        self.table.retain(|e| book_of(e.value) != book);
        self.emptied();
        if let Some(n) = self.counts.get_mut(book as usize) {
            *n = 0;
        }
    }

    /// Bytes held by the window, the table and the books' shared slots.
    #[must_use]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.window.capacity() * std::mem::size_of::<u64>()
            + self.table.allocation_size()
            + self.slots.heap_bytes()
    }

    /// Checks the index's bookkeeping: the window's count, and that no table id is at or
    /// above the table's bound. Returns what disagrees.
    #[cfg(test)]
    pub(crate) fn check(&self) -> Result<(), String> {
        let held = self.window.iter().filter(|&&v| v != EMPTY).count();
        let counted: usize = self.counts.iter().map(|&n| n as usize).sum();
        if counted != self.len() {
            return Err(format!("books count {counted} ids, {} indexed", self.len()));
        }
        if held != self.in_window {
            return Err(format!(
                "window counts {} ids, holds {held}",
                self.in_window
            ));
        }
        if let Some(e) = self.table.iter().find(|e| self.past_table(e.id())) {
            return Err(format!(
                "table id {} is at or above the table's bound {}",
                e.id(),
                self.shadow_end
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn the_same_id_in_two_books_is_two_entries_and_each_book_finds_only_its_own() {
        let mut ix = SharedIdIndex::default();
        (0..8).for_each(|b| ix.join(b));
        ix.insert(0, &id(7), 3);
        ix.insert(1, &id(7), 9);
        assert_eq!(ix.len(), 2);
        assert_eq!(ix.find(0, &id(7)), Some(3));
        assert_eq!(ix.find(1, &id(7)), Some(9));
        assert_eq!(ix.find(2, &id(7)), None, "a third book never sees them");
        assert_eq!(ix.vacancy(1, &id(7)), Err(9));
        ix.check().unwrap();
        // Taking one book's leaves the other's.
        assert_eq!(
            ix.take_in_window(0, &id(7)),
            Probe::Hit(3),
            "book 0 took the cell"
        );
        assert_eq!(ix.find(0, &id(7)), None);
        assert_eq!(ix.find(1, &id(7)), Some(9));
        assert_eq!(ix.take_outside(1, &id(7)), Some(9));
        assert_eq!(ix.len(), 0);
        ix.check().unwrap();
    }

    #[test]
    fn a_session_of_ids_spread_over_books_stays_in_the_window_and_never_hashes() {
        let mut ix = SharedIdIndex::default();
        (0..8).for_each(|b| ix.join(b));
        // 100,000 ids over 8 books, each cancelled 1,000 ids later.
        for n in 1..=100_000u128 {
            let book = (n % 8) as u32;
            ix.insert(book, &id(n), n as u32);
            if n > 1_000 {
                let old = n - 1_000;
                assert_eq!(
                    ix.take_in_window((old % 8) as u32, &id(old)),
                    Probe::Hit(old as u32)
                );
            }
        }
        assert_eq!(ix.table.len(), 0, "every id stayed in the window");
        assert_eq!(ix.len(), 1_000);
        assert!(ix.window.len() <= 1 << 13, "window of {}", ix.window.len());
        ix.check().unwrap();
    }

    #[test]
    fn ids_the_window_leaves_behind_and_far_ids_are_found_in_the_table() {
        let mut ix = SharedIdIndex::default();
        (0..8).for_each(|b| ix.join(b));
        let far = u128::MAX - 5;
        ix.insert(3, &id(far), 1);
        ix.insert(3, &id(1), 2);
        // Slide far past id 1 (it must not grow: one id rests).
        for n in 2..200_000u128 {
            ix.insert(0, &id(n), 5);
            ix.remove(0, &id(n), 5);
        }
        assert_eq!(ix.find(3, &id(1)), Some(2));
        assert_eq!(ix.find(3, &id(far)), Some(1));
        assert_eq!(ix.find(0, &id(far)), None);
        ix.check().unwrap();
        ix.remove(3, &id(1), 2);
        assert_eq!(ix.take_outside(3, &id(far)), Some(1));
        assert_eq!(ix.len(), 0);
        assert_eq!(ix.shadow_end, 0, "an empty table bounds nothing");
        ix.check().unwrap();
    }

    #[test]
    fn growing_a_window_that_wraps_keeps_every_id_in_its_cell() {
        let mut ix = SharedIdIndex::default();
        (0..3).for_each(|b| ix.join(b));
        // The window is placed at the first id, 48 ids before its cells wrap (24,528 is
        // cell 4,048 of the first 4,096), then doubles six times as every id rests (to more
        // than four cells an id): the ids wrap in the old window at each growth, and in the
        // new one at the first (cell 8,144 of 8,192).
        let first = 6 * MIN_CAP as u128 - 48;
        let last = first + 40_000;
        for n in first..last {
            ix.insert((n % 3) as u32, &id(n), n as u32);
        }
        assert_eq!(ix.window.len(), 1 << 18, "grown six times");
        assert_eq!(ix.table.len(), 0, "no id left the window");
        for n in first..last {
            let book = (n % 3) as u32;
            assert_eq!(ix.find(book, &id(n)), Some(n as u32), "id {n}");
            assert_eq!(
                ix.find((book + 1) % 3, &id(n)),
                None,
                "id {n} in another book"
            );
        }
        assert_eq!(ix.find(0, &id(first - 3)), None, "before the first id");
        assert_eq!(ix.find(0, &id(last + 2)), None, "after the last id");
        ix.check().unwrap();
    }

    #[test]
    fn forget_book_drops_one_books_ids_only() {
        let mut ix = SharedIdIndex::default();
        (0..8).for_each(|b| ix.join(b));
        for n in 1..=50u128 {
            ix.insert(0, &id(n), n as u32);
            ix.insert(1, &id(n), n as u32 + 100);
        }
        ix.forget_book(0);
        assert_eq!(ix.len(), 50);
        assert!(ix.entries().all(|(book, _)| book == 1));
        for n in 1..=50u128 {
            assert_eq!(ix.find(0, &id(n)), None);
            assert_eq!(ix.find(1, &id(n)), Some(n as u32 + 100));
        }
        ix.check().unwrap();
    }
}
