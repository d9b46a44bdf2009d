//! Which id index and order slots a book's command uses: its own ([`Own`]), or the ones
//! its consumer thread shares among its books ([`InShared`]: the shared index, and the
//! shared slab of `shared_slots.rs`, issue 21).
//!
//! The book's paths take the choice as a type parameter and each call passes the book's
//! own index, slab or side table along: [`Own`] is a zero-sized type whose calls go
//! straight to it (the single-book path is the code it was), [`InShared`] ignores it and
//! uses the shared one (asking the index for its book's number).

use uuid::Uuid;

use super::Slot;
use super::index::{IdIndex, Probe, Vacancy};
use super::long_form::Ice;
use super::shared_index::SharedIdIndex;
use super::slab::Slab;

/// An id index and order slots as the book's paths use them. `own` is the book's own
/// index (slab, side table); `id_of` reads the id stored in one of the book's own slots
/// (the shared index keeps ids itself).
pub(super) trait Ids {
    /// The slot of `id` as the window alone tells it (see [`IdIndex::find_in_window`]).
    fn find_in_window(&self, own: &IdIndex, id: &Uuid) -> Probe;

    /// The slot of `id` where the window could not tell.
    fn find_outside(&self, own: &IdIndex, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32>;

    /// `Err` with the slot of `id` if it is indexed, else where it will go.
    fn vacancy(
        &self,
        own: &IdIndex,
        id: &Uuid,
        id_of: impl Fn(u32) -> Uuid,
    ) -> Result<Vacancy, u32>;

    /// Indexes `slot` for `id` at `vacancy` (no change since [`Ids::vacancy`] but
    /// removals).
    fn insert_at(
        &mut self,
        own: &mut IdIndex,
        vacancy: Vacancy,
        id: &Uuid,
        slot: u32,
        id_of: impl Fn(u32) -> Uuid,
    );

    /// The slot of `id` taken from the window, or what the window tells of it.
    fn take_in_window(&mut self, own: &mut IdIndex, id: &Uuid) -> Probe;

    /// The slot of `id` taken from where the window could not tell.
    fn take_outside(
        &mut self,
        own: &mut IdIndex,
        id: &Uuid,
        id_of: impl Fn(u32) -> Uuid,
    ) -> Option<u32>;

    /// Drops `slot`, indexed for `id`.
    fn remove(&mut self, own: &mut IdIndex, id: &Uuid, slot: u32);

    /// Keeps the table half empty (the long form's parked stops come and go).
    fn keep_room(&mut self, own: &mut IdIndex, id_of: impl Fn(u32) -> Uuid);

    /// How many ids the book has indexed (its resting orders and parked stops).
    fn count(&self, own: &IdIndex) -> usize;

    /// The slab the book's orders are in: `own`, the book's, or its group's (issue 21:
    /// see `shared_slots.rs`).
    fn slots<'s>(&'s self, own: &'s Slab<Slot>) -> &'s Slab<Slot>;

    /// [`Ids::slots`], to change.
    fn slots_mut<'s>(&'s mut self, own: &'s mut Slab<Slot>) -> &'s mut Slab<Slot>;

    /// The owners' side table by slot of [`Ids::slots`] (`own`: the book's).
    fn owners<'s>(&'s self, own: &'s [u64]) -> &'s [u64];

    /// [`Ids::owners`], to change.
    fn owners_mut<'s>(&'s mut self, own: &'s mut Vec<u64>) -> &'s mut Vec<u64>;

    /// The icebergs' side table by slot of [`Ids::slots`] (`own`: the book's).
    fn ices<'s>(&'s self, own: &'s [Ice]) -> &'s [Ice];

    /// [`Ids::ices`], to change.
    fn ices_mut<'s>(&'s mut self, own: &'s mut Vec<Ice>) -> &'s mut Vec<Ice>;
}

/// The book's own index.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Own;

impl Ids for Own {
    #[inline(always)]
    fn find_in_window(&self, own: &IdIndex, id: &Uuid) -> Probe {
        own.find_in_window(id)
    }

    #[inline(always)]
    fn find_outside(&self, own: &IdIndex, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        own.find_outside(id, id_of)
    }

    #[inline(always)]
    fn vacancy(
        &self,
        own: &IdIndex,
        id: &Uuid,
        id_of: impl Fn(u32) -> Uuid,
    ) -> Result<Vacancy, u32> {
        own.vacancy(id, id_of)
    }

    #[inline(always)]
    fn insert_at(
        &mut self,
        own: &mut IdIndex,
        vacancy: Vacancy,
        id: &Uuid,
        slot: u32,
        id_of: impl Fn(u32) -> Uuid,
    ) {
        own.insert_at(vacancy, id, slot, id_of);
    }

    #[inline(always)]
    fn take_in_window(&mut self, own: &mut IdIndex, id: &Uuid) -> Probe {
        own.take_in_window(id)
    }

    #[inline(always)]
    fn take_outside(
        &mut self,
        own: &mut IdIndex,
        id: &Uuid,
        id_of: impl Fn(u32) -> Uuid,
    ) -> Option<u32> {
        own.take_outside(id, id_of)
    }

    #[inline(always)]
    fn remove(&mut self, own: &mut IdIndex, id: &Uuid, slot: u32) {
        own.remove(id, slot);
    }

    #[inline(always)]
    fn keep_room(&mut self, own: &mut IdIndex, id_of: impl Fn(u32) -> Uuid) {
        own.keep_room(id_of);
    }

    #[inline(always)]
    fn count(&self, own: &IdIndex) -> usize {
        own.len()
    }

    #[inline(always)]
    fn slots<'s>(&'s self, own: &'s Slab<Slot>) -> &'s Slab<Slot> {
        own
    }

    #[inline(always)]
    fn slots_mut<'s>(&'s mut self, own: &'s mut Slab<Slot>) -> &'s mut Slab<Slot> {
        own
    }

    #[inline(always)]
    fn owners<'s>(&'s self, own: &'s [u64]) -> &'s [u64] {
        own
    }

    #[inline(always)]
    fn owners_mut<'s>(&'s mut self, own: &'s mut Vec<u64>) -> &'s mut Vec<u64> {
        own
    }

    #[inline(always)]
    fn ices<'s>(&'s self, own: &'s [Ice]) -> &'s [Ice] {
        own
    }

    #[inline(always)]
    fn ices_mut<'s>(&'s mut self, own: &'s mut Vec<Ice>) -> &'s mut Vec<Ice> {
        own
    }
}

/// A consumer's shared index and slots, for the book numbered `book` in it.
#[derive(Debug)]
pub(crate) struct InShared<'a> {
    /// The shared index.
    pub(crate) ids: &'a mut SharedIdIndex,
    /// The book's number in it.
    pub(crate) book: u32,
}

impl Ids for InShared<'_> {
    #[inline(always)]
    fn find_in_window(&self, _own: &IdIndex, id: &Uuid) -> Probe {
        self.ids.find_in_window(self.book, id)
    }

    #[inline(always)]
    fn find_outside(&self, _own: &IdIndex, id: &Uuid, _id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        self.ids.find_outside(self.book, id)
    }

    #[inline(always)]
    fn vacancy(
        &self,
        _own: &IdIndex,
        id: &Uuid,
        _id_of: impl Fn(u32) -> Uuid,
    ) -> Result<Vacancy, u32> {
        self.ids.vacancy(self.book, id)
    }

    #[inline(always)]
    fn insert_at(
        &mut self,
        _own: &mut IdIndex,
        vacancy: Vacancy,
        id: &Uuid,
        slot: u32,
        _id_of: impl Fn(u32) -> Uuid,
    ) {
        self.ids.insert_at(vacancy, self.book, id, slot);
    }

    #[inline(always)]
    fn take_in_window(&mut self, _own: &mut IdIndex, id: &Uuid) -> Probe {
        self.ids.take_in_window(self.book, id)
    }

    #[inline(always)]
    fn take_outside(
        &mut self,
        _own: &mut IdIndex,
        id: &Uuid,
        _id_of: impl Fn(u32) -> Uuid,
    ) -> Option<u32> {
        self.ids.take_outside(self.book, id)
    }

    #[inline(always)]
    fn remove(&mut self, _own: &mut IdIndex, id: &Uuid, slot: u32) {
        self.ids.remove(self.book, id, slot);
    }

    #[inline(always)]
    fn keep_room(&mut self, _own: &mut IdIndex, _id_of: impl Fn(u32) -> Uuid) {
        self.ids.keep_room();
    }

    #[inline(always)]
    fn count(&self, _own: &IdIndex) -> usize {
        self.ids.count(self.book)
    }

    #[inline(always)]
    fn slots<'s>(&'s self, _own: &'s Slab<Slot>) -> &'s Slab<Slot> {
        &self.ids.slots.slots
    }

    #[inline(always)]
    fn slots_mut<'s>(&'s mut self, _own: &'s mut Slab<Slot>) -> &'s mut Slab<Slot> {
        &mut self.ids.slots.slots
    }

    #[inline(always)]
    fn owners<'s>(&'s self, _own: &'s [u64]) -> &'s [u64] {
        &self.ids.slots.owners
    }

    #[inline(always)]
    fn owners_mut<'s>(&'s mut self, _own: &'s mut Vec<u64>) -> &'s mut Vec<u64> {
        &mut self.ids.slots.owners
    }

    #[inline(always)]
    fn ices<'s>(&'s self, _own: &'s [Ice]) -> &'s [Ice] {
        &self.ids.slots.ices
    }

    #[inline(always)]
    fn ices_mut<'s>(&'s mut self, _own: &'s mut Vec<Ice>) -> &'s mut Vec<Ice> {
        &mut self.ids.slots.ices
    }
}
