//! The id index: order id to slot, O(1), storing only the 4-byte slot number.
//!
//! The table holds slot numbers, not ids: a lookup compares the id stored in the slot.
//! That keeps the index at about 5 bytes per order (plus load-factor slack) instead of
//! the 20 to 32 a `HashMap<Uuid, u32>` entry costs.
//!
//! Order ids come from callers, so the hash is keyed per process ([`IdHasher`]): with the
//! fixed seed it had, 40,000 ids sharing their low 64 bits all hashed to 0 and a book
//! took about a thousand times longer to rest and cancel them than ids 1..40,000 (see
//! `benches/hash_flood.rs`); now both take the same time. The keys decide only where ids
//! sit in the table; the index is never iterated to produce output, so events and state
//! hashes do not depend on them. The worst case is still a full probe of the table, but
//! reaching it takes knowing the keys, which never leave the process.

use hashbrown::HashTable;
use uuid::Uuid;

use crate::id_hash::IdHasher;

/// Maps order ids to slot numbers.
#[derive(Clone, Debug)]
pub(crate) struct IdIndex {
    table: HashTable<u32>,
    hasher: IdHasher,
}

impl IdIndex {
    /// An empty index with room for `capacity` ids, hashing with the process's keys.
    pub(crate) fn with_capacity(capacity: usize) -> IdIndex {
        IdIndex::with_hasher(capacity, IdHasher::per_process())
    }

    /// An empty index with room for `capacity` ids, hashing with `hasher`.
    pub(crate) fn with_hasher(capacity: usize, hasher: IdHasher) -> IdIndex {
        IdIndex {
            table: HashTable::with_capacity(capacity),
            hasher,
        }
    }

    /// The hash of `id` in this index.
    #[inline]
    pub(crate) fn hash(&self, id: &Uuid) -> u64 {
        self.hasher.hash(id)
    }

    /// The slot holding `id`; `id_of` reads the id stored in a slot.
    #[inline]
    pub(crate) fn find(&self, hash: u64, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        self.table.find(hash, |&slot| id_of(slot) == *id).copied()
    }

    /// Indexes `slot`, whose id hashes to `hash` and is not present yet.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, slot: u32, id_of: impl Fn(u32) -> Uuid) {
        let hasher = self.hasher;
        self.table
            .insert_unique(hash, slot, |&s| hasher.hash(&id_of(s)));
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

    /// Every indexed slot, in table order: that order depends on the process's hash keys,
    /// so it must never be used to produce output.
    pub(crate) fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.table.iter().copied()
    }

    /// Bytes held by the table.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The old index's per-hasher seed (`b"RINGBOOK"` xor foldhash's `ARBITRARY3`): ids
    /// whose low 64 bits are this all hashed to 0.
    const OLD_SEED: u64 = 0x5a67_b4df_ae01_23c2;
    /// foldhash's fixed shared seed `ARBITRARY6`, xored into the high half under the old
    /// seed.
    const OLD_SHARED: u64 = 0xc0ac_29b7_c97c_50dd;
    /// Ids per adversarial set: the old code took quadratic time on them.
    const IDS: u64 = 4_096;

    /// Ids sharing the low 64 bits that zeroed the old hash.
    fn sharing_the_old_seed() -> Vec<Uuid> {
        (1..=IDS)
            .map(|n| Uuid::from_u64_pair(n, OLD_SEED))
            .collect()
    }

    /// Ids the old hash mapped to exactly `n << 20`: the same low 20 bits (one home group
    /// in any table of up to a million buckets) and the same top 7 (hashbrown's tag).
    fn crafted_against_the_old_seed() -> Vec<Uuid> {
        (1..=IDS)
            .map(|n| Uuid::from_u64_pair(OLD_SHARED ^ (n << 20), OLD_SEED ^ 1))
            .collect()
    }

    /// The most ids of `ids` whose hashes share the low `bits` bits (a home bucket in a
    /// table of 2^bits buckets), and how many distinct hashes there are.
    fn crowding(index: &IdIndex, ids: &[Uuid], bits: u32) -> (usize, usize) {
        let mut homes: HashMap<u64, usize> = HashMap::new();
        let mut hashes: HashMap<u64, usize> = HashMap::new();
        for id in ids {
            let hash = index.hash(id);
            *homes.entry(hash & ((1 << bits) - 1)).or_default() += 1;
            *hashes.entry(hash).or_default() += 1;
        }
        (homes.values().copied().max().unwrap_or(0), hashes.len())
    }

    /// Indexes `ids` (slot n holds `ids[n]`), checks each is found, then takes each.
    fn index_find_and_take(mut index: IdIndex, ids: &[Uuid]) {
        for slot in 0..ids.len() as u32 {
            let hash = index.hash(&ids[slot as usize]);
            index.insert(hash, slot, |s| ids[s as usize]);
        }
        assert_eq!(index.len(), ids.len());
        for (slot, id) in ids.iter().enumerate() {
            let found = index.find(index.hash(id), id, |s| ids[s as usize]);
            assert_eq!(found, Some(slot as u32), "{id}");
        }
        for (slot, id) in ids.iter().enumerate() {
            let hash = index.hash(id);
            assert_eq!(index.take(hash, id, |s| ids[s as usize]), Some(slot as u32));
        }
        assert_eq!(index.len(), 0);
    }

    /// The attack: ids sharing the low 64 bits `0x5a67b4dfae0123c2` all hashed to
    /// 0 under the fixed seed. Under the process's keys they hash apart and spread over
    /// 4,096 homes like random ids (the most in one home is about 7; the bound is 16).
    #[test]
    fn ids_sharing_the_old_seed_as_low_half_spread_over_the_table() {
        let ids = sharing_the_old_seed();
        let index = IdIndex::with_capacity(ids.len());
        let (crowded, distinct) = crowding(&index, &ids, 12);
        assert_eq!(distinct, ids.len(), "every id has a hash of its own");
        assert!(crowded <= 16, "{crowded} ids share one home of 4,096");
        index_find_and_take(index, &ids);
    }

    /// Ids whose old hashes shared their low 20 bits and their tag spread too.
    #[test]
    fn ids_crafted_against_the_old_fixed_seed_spread_over_the_table() {
        let ids = crafted_against_the_old_seed();
        let index = IdIndex::with_capacity(ids.len());
        let (crowded, distinct) = crowding(&index, &ids, 12);
        assert_eq!(distinct, ids.len(), "every id has a hash of its own");
        assert!(crowded <= 16, "{crowded} ids share one home of 4,096");
        index_find_and_take(index, &ids);
    }

    /// An attack needs the keys: ids built against known keys all collide under them
    /// (the index still finds each, slowly), and spread under another index's keys.
    #[test]
    fn an_id_set_built_against_known_keys_does_not_carry_over() {
        let known = IdHasher::with_keys(0x0123_4567_89ab_cdef, 0xfeed_f00d, 0xc0ff_ee11);
        let ids: Vec<Uuid> = (1..=IDS)
            .map(|n| Uuid::from_u64_pair(n, 0x0123_4567_89ab_cdef))
            .collect();
        let attacked = IdIndex::with_hasher(ids.len(), known);
        assert_eq!(
            crowding(&attacked, &ids, 12),
            (ids.len(), 1),
            "all hash to 0"
        );
        index_find_and_take(attacked, &ids[..256]);

        let other = IdIndex::with_hasher(ids.len(), IdHasher::random());
        let (crowded, distinct) = crowding(&other, &ids, 12);
        assert_eq!(distinct, ids.len());
        assert!(crowded <= 16, "{crowded} ids share one home of 4,096");
    }
}
