//! The id index: order id to slot, O(1), storing only the 4-byte slot number.
//!
//! The table holds slot numbers, not ids: a lookup compares the id stored in the slot.
//! That keeps the index at about 5 bytes per order (plus load-factor slack) instead of
//! the 20 to 32 a `HashMap<Uuid, u32>` entry costs.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use uuid::Uuid;

/// The seed of the index hasher: fixed, so a run's memory layout and timing repeat.
/// The index is never iterated to produce output, so the seed cannot change events.
const SEED: u64 = 0x5249_4e47_424f_4f4b; // "RINGBOOK"

/// Maps order ids to slot numbers.
#[derive(Clone, Debug)]
pub(crate) struct IdIndex {
    table: HashTable<u32>,
    hasher: FixedState,
}

impl IdIndex {
    /// An empty index with room for `capacity` ids.
    pub(crate) fn with_capacity(capacity: usize) -> IdIndex {
        IdIndex {
            table: HashTable::with_capacity(capacity),
            hasher: FixedState::with_seed(SEED),
        }
    }

    /// The hash of `id` in this index.
    #[inline]
    pub(crate) fn hash(&self, id: &Uuid) -> u64 {
        self.hasher.hash_one(id.as_u128())
    }

    /// The slot holding `id`; `id_of` reads the id stored in a slot.
    #[inline]
    pub(crate) fn find(&self, hash: u64, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        self.table.find(hash, |&slot| id_of(slot) == *id).copied()
    }

    /// Indexes `slot`, whose id hashes to `hash` and is not present yet.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, slot: u32, id_of: impl Fn(u32) -> Uuid) {
        let hasher = &self.hasher;
        self.table
            .insert_unique(hash, slot, |&s| hasher.hash_one(id_of(s).as_u128()));
    }

    /// Finds `id` and drops it from the index in one probe, returning its slot; `id_of`
    /// reads the id stored in a slot. A cancel looked the id up and then probed again to
    /// remove the slot it had found (about 20 instructions a cancel).
    #[inline]
    pub(crate) fn take(
        &mut self,
        hash: u64,
        id: &Uuid,
        id_of: impl Fn(u32) -> Uuid,
    ) -> Option<u32> {
        let entry = self
            .table
            .find_entry(hash, |&slot| id_of(slot) == *id)
            .ok()?;
        let (slot, _) = entry.remove();
        Some(slot)
    }

    /// Drops `slot`, whose id hashes to `hash`, from the index.
    #[inline]
    pub(crate) fn remove(&mut self, hash: u64, slot: u32) {
        match self.table.find_entry(hash, |&s| s == slot) {
            Ok(entry) => {
                entry.remove();
            }
            Err(_) => debug_assert!(false, "slot {slot} was not indexed"),
        }
    }

    /// How many ids are indexed.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Every indexed slot, in table order (never used to produce output).
    pub(crate) fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.table.iter().copied()
    }

    /// Bytes held by the table.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.allocation_size()
    }
}
