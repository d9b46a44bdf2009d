//! The order slots of the books that share an id index (issue 21): one slab, with the long
//! form's side tables indexed by its slots, for all the books of a consumer thread (or a
//! [`super::BookGroup`]).
//!
//! With a slab per book, at 10,000 books an add took its own book's free slot or pushed at
//! its slab's end (a cold line), and every young book grew its slab by reallocation. With
//! one slab, an add takes the slot the last cancel or fill freed in any book (last freed,
//! first taken: still warm) and no book allocates slots of its own.
//!
//! A book in a group holds no slots: its `orders` slab and its side tables are empty. Its
//! paths reach the shared ones through the context they already take for the ids
//! (`ids.rs`: [`super::ids::Ids::slots`], `InShared` yields these, `Own` the book's own),
//! so the standalone book's code is what it was. The few read-only walks that take no
//! context (an image) run with the shared slots *lent* to the book ([`Lent`]: moved into
//! its fields and back when the guard drops, also on a panic).
//!
//! A book joins with its orders moved into the shared slots and leaves with them moved
//! back into a slab of its own ([`OrderBook::move_orders`]): each order to a new slot,
//! its level's links rebuilt, walking its levels and parked stops (never the slab's
//! range, which holds the other books' orders too). O(orders).

use std::ops::ControlFlow;

use uuid::Uuid;

use super::long_form::{ICEBERG, Ice, grow_to};
use super::shared_index::SharedIdIndex;
use super::slab::{NIL, Slab};
use super::stops::StopRef;
use super::{OrderBook, Slot, free_in};
use crate::types::Side;

/// The slots and side tables of a group's books: what a [`Lent`] book uses.
#[derive(Clone, Debug)]
pub(crate) struct SharedSlots {
    /// Every order slot of the group's books (and their parked stops' homes).
    pub(super) slots: Slab<Slot>,
    /// Owners by slot (see `LongForm::owners`); empty until an order with extras rests.
    pub(super) owners: Vec<u64>,
    /// Icebergs' display and hidden quantities by slot (see `LongForm::ices`).
    pub(super) ices: Vec<Ice>,
}

impl Default for SharedSlots {
    fn default() -> SharedSlots {
        SharedSlots {
            slots: Slab::populating(),
            owners: Vec::new(),
            ices: Vec::new(),
        }
    }
}

impl SharedSlots {
    /// Gives `book` (which holds none) the shared slots, and the side tables if any order
    /// of the group has had extras.
    fn lend(&mut self, book: &mut OrderBook) {
        book.orders = std::mem::replace(&mut self.slots, Slab::with_capacity(0));
        if !self.owners.is_empty() {
            std::mem::swap(&mut self.owners, &mut book.long.owners);
            std::mem::swap(&mut self.ices, &mut book.long.ices);
        }
    }

    /// Takes the slots lent by [`Self::lend`] back from `book`, and the side tables if it
    /// has them (lent, or grown by its command's first order with extras: the owners'
    /// table grows with every order that has extras, the icebergs' only with them).
    fn take_back(&mut self, book: &mut OrderBook) {
        self.slots = std::mem::replace(&mut book.orders, Slab::with_capacity(0));
        if !book.long.owners.is_empty() {
            std::mem::swap(&mut self.owners, &mut book.long.owners);
            std::mem::swap(&mut self.ices, &mut book.long.ices);
        }
    }

    /// Starts loading slot `slot`, if there is one (see `book::prefetch`).
    #[inline(always)]
    pub(super) fn prefetch_slot(&self, slot: u32) {
        self.slots.prefetch_slot(slot);
    }

    /// Starts loading the slot the next add takes, if one is vacant.
    #[inline(always)]
    pub(super) fn prefetch_free(&self) {
        self.slots.prefetch_free();
    }

    /// Slot `slot`, if there is one (checked: for prefetch hints).
    #[inline(always)]
    pub(super) fn get(&self, slot: u32) -> Option<&Slot> {
        self.slots.get(slot)
    }

    /// How many slots are live (the group's resting orders and parked stops).
    #[cfg(test)]
    pub(super) fn live(&self) -> usize {
        self.slots.live()
    }

    /// Bytes of heap the slab and side tables hold.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.heap_bytes()
            + self.owners.capacity() * std::mem::size_of::<u64>()
            + self.ices.capacity() * std::mem::size_of::<Ice>()
    }
}

/// A book with its group's slots lent to it (see [`SharedSlots::lend`]), and the rest of
/// its group's index: the slots go back when this is dropped, also on a panic.
pub(super) struct Lent<'a> {
    pub(super) book: &'a mut OrderBook,
    pub(super) ids: &'a mut SharedIdIndex,
}

impl<'a> Lent<'a> {
    /// Lends `ids`' slots to `book` until the result is dropped.
    pub(super) fn new(book: &'a mut OrderBook, ids: &'a mut SharedIdIndex) -> Lent<'a> {
        debug_assert!(
            book.ids_shared,
            "a book with its own ids holds its own slots"
        );
        ids.slots.lend(book);
        Lent { book, ids }
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        self.ids.slots.take_back(self.book);
    }
}

/// Where [`OrderBook::move_orders`] takes orders from or puts them: a slab and its side
/// tables.
pub(super) struct Slots<'s> {
    pub(super) slots: &'s mut Slab<Slot>,
    pub(super) owners: &'s mut Vec<u64>,
    pub(super) ices: &'s mut Vec<Ice>,
}

impl<'s> Slots<'s> {
    /// The shared slots of `ids`.
    pub(super) fn shared(ids: &'s mut SharedIdIndex) -> Slots<'s> {
        let SharedSlots {
            slots,
            owners,
            ices,
        } = &mut ids.slots;
        Slots {
            slots,
            owners,
            ices,
        }
    }

    /// Moves slot `from` of `source` (a live order or home) into a new slot of `self`,
    /// with its side tables' entries if it has extras, and frees it in `source`. Returns
    /// the new slot.
    fn take_from(&mut self, source: &mut Slots<'_>, from: u32) -> u32 {
        let slot = self.slots.take_vacant();
        let order = source.slots[from].clone();
        let extra = order.extra();
        self.slots[slot] = order;
        if extra != 0 {
            let (at, old) = (slot as usize, from as usize);
            grow_to(self.owners, at);
            self.owners[at] = source.owners.get(old).copied().unwrap_or(0);
            if extra & ICEBERG != 0 {
                grow_to(self.ices, at);
                self.ices[at] = source.ices.get(old).copied().unwrap_or_default();
            }
        }
        free_in(source.slots, from);
        slot
    }
}

impl OrderBook {
    /// Moves every order of the book (its resting orders, level by level in time
    /// priority, and its parked stops' homes) from `source`'s slots into new slots of
    /// `target`, relinking its levels' queues and its stops' homes, and frees them in
    /// `source`. Returns each moved id with its slot before and after. O(orders): walks
    /// the book's levels and stops, never `source`'s range.
    pub(super) fn move_orders(
        &mut self,
        source: &mut Slots<'_>,
        target: &mut Slots<'_>,
    ) -> Vec<(Uuid, u32, u32)> {
        let mut moved = Vec::with_capacity(self.long.stops.len());
        for side in [Side::Buy, Side::Sell] {
            let mut prices = Vec::new();
            self.ladder(side).walk_best_first(|price, _| {
                prices.push(price);
                ControlFlow::Continue(())
            });
            for price in prices {
                let level = self.ladder_mut(side).level_mut(price);
                let (mut old, mut prev) = (level.head, NIL);
                while old != NIL {
                    let next = source.slots[old].next;
                    let id = source.slots[old].order_id.uuid();
                    let slot = target.take_from(source, old);
                    target.slots[slot].prev = prev;
                    target.slots[slot].next = NIL;
                    if prev == NIL {
                        level.head = slot;
                    } else {
                        target.slots[prev].next = slot;
                    }
                    moved.push((id, old, slot));
                    (prev, old) = (slot, next);
                }
                level.tail = prev;
            }
        }
        let stops: Vec<StopRef> = self.long.stops.iter_refs().map(|(_, s, _)| s).collect();
        for stop in stops {
            let Some((_, home)) = self.long.stops.parked_at(stop) else {
                continue;
            };
            let id = source.slots[home].order_id.uuid();
            let slot = target.take_from(source, home);
            self.long.stops.set_home(stop, slot);
            moved.push((id, home, slot));
        }
        moved
    }
}
