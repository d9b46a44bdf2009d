//! The id index: order id to slot, O(1), storing only the 4-byte slot number.
//!
//! Two parts:
//!
//! - **A direct window** for the dense ids an order-entry session assigns (1, 2, 3, ...):
//!   a power-of-two array of slot numbers covering the ids `base..base + cap`, the id
//!   `base + k` at `window[(base + k) & (cap - 1)]`. A lookup there is a subtraction, a
//!   compare and a load: no hash, no probe, no id compare. The window slides forward as
//!   ids grow, a few words at a time (the ids it leaves behind that still rest move to the
//!   table); it doubles while more than half of it rests; and after a run of ids that
//!   missed it but fell near one another (a session that started elsewhere) it is placed
//!   at them again.
//! - **A keyed hash table** for every other id (random UUIDs, ids the window has left
//!   behind, ids far ahead of it). It holds slot numbers, not ids: a lookup compares the id
//!   stored in the slot, about 5 bytes per order instead of the 20 to 32 a
//!   `HashMap<Uuid, u32>` entry costs.
//!
//! Every id sits in exactly one part. The table's largest id bounds where it may overlap
//! the window's range (a far id the window later slid over stays in the table): a window
//! id above that bound is decided by the window alone, so the dense session's adds,
//! cancels and late cancels never hash.
//!
//! Order ids come from callers, so the table's hash is keyed per process ([`IdHasher`]):
//! with the fixed seed it had, 40,000 ids sharing their low 64 bits all hashed to 0 and a
//! book took about a thousand times longer to rest and cancel them than ids 1..40,000 (see
//! `benches/hash_flood.rs`); now both take the same time. The window cannot collide (one
//! cell per id in its range), and its work is bounded per insert: a slide moves it at most
//! [`SLIDE`] + 63 ids (an id further ahead goes to the table), and doubling or re-placing
//! it (O(cap)) comes only after O(cap) inserts. The keys decide only where ids sit in the
//! table; the index is never iterated to produce output, so events and state hashes do not
//! depend on them or on the window.

use hashbrown::HashTable;
use uuid::Uuid;

use super::slab::NIL;
use crate::id_hash::IdHasher;

/// Cells in the smallest window (4 KiB).
const MIN_CAP: usize = 1 << 10;
/// Cells in the largest window (16 MiB): past it, a dense book's oldest ids go to the table.
const MAX_CAP: usize = 1 << 22;
/// How far past its end an insert may be and still slide the window (further: the table).
pub(crate) const SLIDE: u128 = 64;

/// The [`Vacancy`] of an id outside the window.
const OUTSIDE: usize = usize::MAX;

/// Where an absent id will be indexed: its window cell, or [`OUTSIDE`]. Valid until the
/// index next inserts (removals do not move the window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Vacancy(usize);

/// Maps order ids to slot numbers.
#[derive(Clone, Debug)]
pub(crate) struct IdIndex {
    /// The slot of id `base + k` at `(base + k) & (cap - 1)`, or [`NIL`]; `cap` is the
    /// length, a power of two.
    window: Vec<u32>,
    /// The window's first id. `base + cap <= u128::MAX`.
    base: u128,
    /// How many ids the window holds.
    in_window: usize,
    /// Every other id.
    table: HashTable<u32>,
    /// One past the largest id the table has held since it was last empty (0: none).
    /// Window ids at or above it are never in the table.
    shadow_end: u128,
    /// The last id an insert sent to the table.
    last_miss: u128,
    /// Inserts sent to the table in a row, each near the one before.
    near_misses: usize,
    /// Ids the window has slid past since it last grew or was placed.
    slid: u128,
    /// Takes and removes from the table, since then, of ids the window had left less
    /// than four times its length before: orders that outlived the window, not by much.
    late: usize,
    hasher: IdHasher,
}

impl IdIndex {
    /// An empty index with room for `capacity` ids, hashing with the process's keys.
    pub(crate) fn with_capacity(capacity: usize) -> IdIndex {
        IdIndex::with_hasher(capacity, IdHasher::per_process())
    }

    /// An empty index with room for `capacity` ids in its table, hashing with `hasher`.
    /// The window starts small at id 0 and grows with the dense ids it sees.
    pub(crate) fn with_hasher(capacity: usize, hasher: IdHasher) -> IdIndex {
        IdIndex {
            window: vec![NIL; MIN_CAP],
            base: 0,
            in_window: 0,
            table: HashTable::with_capacity(capacity),
            shadow_end: 0,
            last_miss: 0,
            near_misses: 0,
            slid: 0,
            late: 0,
            hasher,
        }
    }

    /// The table's hash of `id`.
    #[cfg(test)]
    pub(crate) fn hash(&self, id: &Uuid) -> u64 {
        self.hasher.hash(id)
    }

    /// The window cell of `id`, if the window spans it.
    #[inline(always)]
    fn cell(&self, id: u128) -> Option<usize> {
        let off = id.wrapping_sub(self.base);
        (off < self.window.len() as u128).then(|| id as usize & (self.window.len() - 1))
    }

    /// The slot holding `id`; `id_of` reads the id stored in a slot.
    #[inline]
    pub(crate) fn find(&self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        let raw = id.as_u128();
        if let Some(cell) = self.cell(raw) {
            let slot = self.window[cell];
            if slot != NIL {
                return Some(slot);
            }
            if raw >= self.shadow_end {
                return None;
            }
        }
        self.find_in_table(id, id_of)
    }

    /// [`Self::find`] in the table.
    #[inline(never)]
    fn find_in_table(&self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        self.table
            .find(self.hasher.hash(id), |&slot| id_of(slot) == *id)
            .copied()
    }

    /// Looks `id` up for an insert: `Err` with its slot if it is indexed, else where it
    /// will go, for [`Self::insert_at`] (one window computation for the duplicate check and
    /// the insert of an add).
    #[inline]
    pub(crate) fn vacancy(&self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Result<Vacancy, u32> {
        let raw = id.as_u128();
        if let Some(cell) = self.cell(raw) {
            let slot = self.window[cell];
            if slot != NIL {
                return Err(slot);
            }
            if raw >= self.shadow_end {
                return Ok(Vacancy(cell));
            }
        }
        match self.find_in_table(id, id_of) {
            Some(slot) => Err(slot),
            None => Ok(Vacancy(OUTSIDE)),
        }
    }

    /// Indexes `slot` for `id`, which is not present yet; `id_of` reads the id stored in
    /// a slot.
    #[cfg(test)]
    pub(crate) fn insert(&mut self, id: &Uuid, slot: u32, id_of: impl Fn(u32) -> Uuid) {
        let raw = id.as_u128();
        if let Some(cell) = self.cell(raw) {
            self.window[cell] = slot;
            self.in_window += 1;
            return;
        }
        self.insert_outside(raw, slot, id_of);
    }

    /// Indexes `slot` for `id` where [`Self::vacancy`] found room, with no index change
    /// since but removals.
    #[inline]
    pub(crate) fn insert_at(
        &mut self,
        vacancy: Vacancy,
        id: &Uuid,
        slot: u32,
        id_of: impl Fn(u32) -> Uuid,
    ) {
        if vacancy.0 != OUTSIDE {
            debug_assert_eq!(self.cell(id.as_u128()), Some(vacancy.0));
            self.window[vacancy.0] = slot;
            self.in_window += 1;
            return;
        }
        self.insert_outside(id.as_u128(), slot, id_of);
    }

    /// [`Self::insert`] of an id outside the window: slide or grow the window to it if it
    /// is just past the end, else put it in the table (and re-place the window after a
    /// run of such ids near one another).
    #[inline(never)]
    fn insert_outside(&mut self, raw: u128, slot: u32, id_of: impl Fn(u32) -> Uuid) {
        let end = self.base + self.window.len() as u128;
        if raw >= end && raw - end < SLIDE && raw < u128::MAX - MAX_CAP as u128 {
            if self.in_window * 2 > self.window.len() && self.window.len() < MAX_CAP {
                self.grow();
            }
            let end = self.base + self.window.len() as u128;
            if raw >= end {
                let step = (raw - end + 1).next_multiple_of(64);
                self.slide(step, &id_of);
            }
            let cell = self.cell(raw).expect("the window now spans the id");
            self.window[cell] = slot;
            self.in_window += 1;
            return;
        }
        if raw.abs_diff(self.last_miss) < self.window.len() as u128 {
            self.near_misses += 1;
        } else {
            self.near_misses = 0;
        }
        self.last_miss = raw;
        self.spill(raw, slot, &id_of);
        if self.near_misses >= self.window.len() / 4 && raw < u128::MAX - MAX_CAP as u128 {
            let base = raw.saturating_sub(self.window.len() as u128 / 2) & !63;
            self.place(base, &id_of);
        }
    }

    /// Puts `raw` (at `slot`) in the table.
    fn spill(&mut self, raw: u128, slot: u32, id_of: &impl Fn(u32) -> Uuid) {
        let hasher = self.hasher;
        self.table
            .insert_unique(hasher.hash(&Uuid::from_u128(raw)), slot, |&s| {
                hasher.hash(&id_of(s))
            });
        self.shadow_end = self.shadow_end.max(raw + 1);
    }

    /// Doubles the window, keeping its base.
    #[cold]
    fn grow(&mut self) {
        let cap = self.window.len();
        let mut window = vec![NIL; cap * 2];
        for k in 0..cap as u128 {
            let id = self.base + k;
            window[id as usize & (2 * cap - 1)] = self.window[id as usize & (cap - 1)];
        }
        self.window = window;
        self.slid = 0;
        self.late = 0;
    }

    /// Moves the window `step` ids (a multiple of 64) forward: the ids it leaves that
    /// still rest go to the table. The base stays a multiple of 64, so the cells left are
    /// runs that never wrap, and a run of 8 with no resting id (the common case: most
    /// orders are gone before the window leaves them) costs one vector AND. Once
    /// the window has slid its own length, it doubles if more than 1 in 64 of its length
    /// were taken from the table soon after it left them: orders live longer than it
    /// spans. (Orders that rest for good never count: counting what a slide moves would
    /// double the window up to its largest for a book whose every 20th order stays.)
    #[inline(never)]
    fn slide(&mut self, step: u128, id_of: &impl Fn(u32) -> Uuid) {
        debug_assert!(step.is_multiple_of(64) && self.base.is_multiple_of(64));
        let cap = self.window.len();
        for run in 0..(step.min(cap as u128) / 8) {
            let first = self.base + run * 8;
            let cell = first as usize & (cap - 1);
            let cells = &mut self.window[cell..cell + 8];
            if cells.iter().fold(NIL, |all, &slot| all & slot) == NIL {
                continue;
            }
            for k in 0..8 {
                let slot = std::mem::replace(&mut self.window[cell + k], NIL);
                if slot != NIL {
                    self.in_window -= 1;
                    self.spill(first + k as u128, slot, id_of);
                }
            }
        }
        self.base += step;
        self.slid += step;
        if self.slid >= cap as u128 {
            if self.late * 64 > cap && cap < MAX_CAP {
                self.grow();
            }
            self.slid = 0;
            self.late = 0;
        }
    }

    /// Places the window at `base`: every id it holds goes to the table.
    #[cold]
    fn place(&mut self, base: u128, id_of: &impl Fn(u32) -> Uuid) {
        let cap = self.window.len();
        for k in 0..cap as u128 {
            let id = self.base + k;
            let slot = std::mem::replace(&mut self.window[id as usize & (cap - 1)], NIL);
            if slot != NIL {
                self.spill(id, slot, id_of);
            }
        }
        self.in_window = 0;
        self.base = base;
        self.near_misses = 0;
        self.slid = 0;
        self.late = 0;
    }

    /// Finds `id` and drops it from the index, returning its slot; `id_of` reads the id
    /// stored in a slot.
    #[inline]
    pub(crate) fn take(&mut self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        let raw = id.as_u128();
        if let Some(cell) = self.cell(raw) {
            let slot = self.window[cell];
            if slot != NIL {
                self.window[cell] = NIL;
                self.in_window -= 1;
                return Some(slot);
            }
            if raw >= self.shadow_end {
                return None;
            }
        }
        self.take_from_table(id, id_of)
    }

    /// [`Self::take`] from the table.
    #[inline(never)]
    fn take_from_table(&mut self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        let entry = self
            .table
            .find_entry(self.hasher.hash(id), |&slot| id_of(slot) == *id)
            .ok()?;
        let (slot, _) = entry.remove();
        self.count_late(id.as_u128());
        if self.table.is_empty() {
            self.shadow_end = 0;
        }
        Some(slot)
    }

    /// Drops `slot`, indexed for `id`, from the index.
    #[inline]
    pub(crate) fn remove(&mut self, id: &Uuid, slot: u32) {
        let raw = id.as_u128();
        if let Some(cell) = self.cell(raw)
            && self.window[cell] == slot
        {
            self.window[cell] = NIL;
            self.in_window -= 1;
            return;
        }
        self.remove_from_table(id, slot);
    }

    /// [`Self::remove`] from the table.
    #[inline(never)]
    fn remove_from_table(&mut self, id: &Uuid, slot: u32) {
        match self.table.find_entry(self.hasher.hash(id), |&s| s == slot) {
            Ok(entry) => {
                entry.remove();
                self.count_late(id.as_u128());
                if self.table.is_empty() {
                    self.shadow_end = 0;
                }
            }
            Err(_) => debug_assert!(false, "slot {slot} was not indexed"),
        }
    }

    /// Counts a table id the window left less than four times its length ago.
    #[inline]
    fn count_late(&mut self, raw: u128) {
        if raw < self.base && self.base - raw <= 4 * self.window.len() as u128 {
            self.late += 1;
        }
    }

    /// How many ids are indexed.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.in_window + self.table.len()
    }

    /// Every indexed slot, window first, then in table order: that order depends on the
    /// process's hash keys, so it must never be used to produce output.
    pub(crate) fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.window
            .iter()
            .copied()
            .filter(|&s| s != NIL)
            .chain(self.table.iter().copied())
    }

    /// Checks the window's own bookkeeping: its count, that each id it holds is the id
    /// stored in its slot, and that no table id lies at or above the table's bound.
    /// Returns what disagrees.
    pub(crate) fn check(&self, id_of: impl Fn(u32) -> Uuid) -> Result<(), String> {
        let cap = self.window.len();
        if !cap.is_power_of_two() || self.base.checked_add(cap as u128).is_none() {
            return Err(format!("window of {cap} cells at id {}", self.base));
        }
        let mut held = 0;
        for k in 0..cap as u128 {
            let id = self.base + k;
            let slot = self.window[id as usize & (cap - 1)];
            if slot == NIL {
                continue;
            }
            held += 1;
            let stored = id_of(slot).as_u128();
            if stored != id {
                return Err(format!(
                    "window cell of id {id} holds slot {slot}, which holds id {stored}"
                ));
            }
        }
        if held != self.in_window {
            return Err(format!(
                "window counts {} ids, holds {held}",
                self.in_window
            ));
        }
        if let Some(&slot) = self
            .table
            .iter()
            .find(|&&s| id_of(s).as_u128() >= self.shadow_end)
        {
            return Err(format!(
                "table id {} of slot {slot} is at or above the table's bound {}",
                id_of(slot).as_u128(),
                self.shadow_end
            ));
        }
        Ok(())
    }

    /// Bytes held by the window and the table.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.window.capacity() * std::mem::size_of::<u32>() + self.table.allocation_size()
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
            index.insert(&ids[slot as usize], slot, |s| ids[s as usize]);
        }
        assert_eq!(index.len(), ids.len());
        for (slot, id) in ids.iter().enumerate() {
            let found = index.find(id, |s| ids[s as usize]);
            assert_eq!(found, Some(slot as u32), "{id}");
        }
        for (slot, id) in ids.iter().enumerate() {
            assert_eq!(index.take(id, |s| ids[s as usize]), Some(slot as u32));
        }
        assert_eq!(index.len(), 0);
    }

    /// A book's slots as the index sees them: slot n holds `ids[n]`.
    struct Slots(Vec<Uuid>);

    impl Slots {
        /// Rests `id` in a new slot and indexes it.
        fn add(&mut self, index: &mut IdIndex, id: u128) -> u32 {
            let slot = self.0.len() as u32;
            self.0.push(Uuid::from_u128(id));
            let ids = &self.0;
            assert_eq!(index.find(&ids[slot as usize], |s| ids[s as usize]), None);
            index.insert(&ids[slot as usize], slot, |s| ids[s as usize]);
            slot
        }

        /// Looks `id` up.
        fn find(&self, index: &IdIndex, id: u128) -> Option<u32> {
            index.find(&Uuid::from_u128(id), |s| self.0[s as usize])
        }

        /// Takes `id` out.
        fn take(&self, index: &mut IdIndex, id: u128) -> Option<u32> {
            index.take(&Uuid::from_u128(id), |s| self.0[s as usize])
        }
    }

    /// A session's dense ids, each cancelled 300 ids later except every 50th (which rests
    /// on): the window follows the ids, the ones it leaves behind move to the table, and
    /// every id is found where it is.
    #[test]
    fn dense_ids_are_held_by_the_window_and_stragglers_move_to_the_table() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let mut slot_of = HashMap::new();
        for id in 1..=20_000u128 {
            slot_of.insert(id, slots.add(&mut index, id));
            if id > 300 && (id - 300) % 50 != 0 {
                assert_eq!(slots.take(&mut index, id - 300), Some(slot_of[&(id - 300)]));
            }
        }
        // 300 in flight at the end, and the 394 stragglers before them.
        assert_eq!(index.len(), 300 + 19_700 / 50);
        let behind = (1..=19_700u128)
            .filter(|&id| id % 50 == 0 && id < index.base)
            .count();
        assert!(behind >= 370, "the window left {behind} stragglers behind");
        assert_eq!(index.table.len(), behind, "only the stragglers behind it");
        assert_eq!(index.window.len(), MIN_CAP, "never more than 300 in flight");
        for id in 1..=20_000u128 {
            let rests = id > 19_700 || id % 50 == 0;
            assert_eq!(slots.find(&index, id), rests.then(|| slot_of[&id]), "{id}");
        }
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
        // A late cancel of a gone id finds nothing, in the window or behind it.
        assert_eq!(slots.take(&mut index, 19_699), None);
        assert_eq!(slots.take(&mut index, 1), None);
        assert_eq!(slots.take(&mut index, 100), Some(slot_of[&100]));
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// An id far ahead of the window goes to the table; when the window later slides over
    /// it, it is still found (and still refused as a duplicate), and taking it works.
    #[test]
    fn an_id_the_window_slides_over_is_still_found_in_the_table() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let far = slots.add(&mut index, 5_000);
        assert_eq!(index.table.len(), 1);
        for id in 1..=6_000u128 {
            if id != 5_000 {
                slots.add(&mut index, id);
            }
        }
        assert!(index.cell(5_000).is_some(), "the window spans 5,000 now");
        assert_eq!(slots.find(&index, 5_000), Some(far));
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
        assert_eq!(slots.take(&mut index, 5_000), Some(far));
        assert_eq!(slots.find(&index, 5_000), None);
        assert_eq!(index.len(), 5_999);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// More than half the window resting makes it double instead of sliding: a deep book of
    /// dense ids stays out of the table.
    #[test]
    fn the_window_doubles_while_more_than_half_of_it_rests() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for id in 1..=100_000u128 {
            slots.add(&mut index, id);
        }
        assert_eq!(index.table.len(), 0);
        assert_eq!(index.window.len(), 1 << 17);
        assert_eq!(slots.find(&index, 1), Some(1));
        assert_eq!(slots.find(&index, 100_000), Some(100_000));
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// Every 10th order living 3,000 ids, longer than the smallest window spans (the
    /// others 100): the window is far from half full, but the long ones go to the table
    /// and are taken from it soon after, so the window doubles until it spans their lives,
    /// and the table empties.
    #[test]
    fn the_window_doubles_when_orders_outlive_it() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for id in 1..=40_000u128 {
            slots.add(&mut index, id);
            if id > 100 && (id - 100) % 10 != 0 {
                assert!(slots.take(&mut index, id - 100).is_some());
            }
            if id > 3_000 && (id - 3_000) % 10 == 0 {
                assert!(slots.take(&mut index, id - 3_000).is_some());
            }
        }
        assert!(index.window.len() >= 4_096, "{} cells", index.window.len());
        assert_eq!(index.table.len(), 0);
        assert_eq!(index.len(), 100 - 10 + 300);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// Every 20th order resting for good (a static book's orders that are never
    /// cancelled) does not grow the window: they move to the table and stay there.
    #[test]
    fn orders_that_rest_for_good_do_not_grow_the_window() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for id in 1..=100_000u128 {
            slots.add(&mut index, id);
            if id > 200 && (id - 200) % 20 != 0 {
                assert!(slots.take(&mut index, id - 200).is_some());
            }
        }
        assert_eq!(index.window.len(), MIN_CAP);
        assert!(
            index.table.len() >= 4_900,
            "{} in the table",
            index.table.len()
        );
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// An add probes once: `vacancy` refuses an indexed id with its slot, and `insert_at`
    /// puts a new one where `vacancy` found room, in the window or (outside it) the table.
    #[test]
    fn vacancy_then_insert_at_indexes_in_one_probe() {
        let mut index = IdIndex::with_capacity(0);
        let ids = [Uuid::from_u128(7), Uuid::from_u128(1 << 90)];
        let id_of = |s: u32| ids[s as usize];
        for (slot, id) in ids.iter().enumerate() {
            let vacancy = index.vacancy(id, id_of).expect("new");
            index.insert_at(vacancy, id, slot as u32, id_of);
            assert_eq!(index.vacancy(id, id_of), Err(slot as u32));
            assert_eq!(index.find(id, id_of), Some(slot as u32));
        }
        assert_eq!((index.in_window, index.table.len()), (1, 1));
        assert_eq!(index.check(id_of), Ok(()));
    }

    /// A session whose ids start far from the window (here above 2^100) goes to the table
    /// at first; after a run of ids near one another the window is placed at them, and
    /// later ids of the session are held by it.
    #[test]
    fn the_window_moves_to_a_session_that_started_elsewhere() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let start = 1u128 << 100;
        for k in 0..2_000u128 {
            slots.add(&mut index, start + k);
            if k >= 100 {
                assert!(slots.take(&mut index, start + k - 100).is_some());
            }
        }
        assert!(index.cell(start + 1_999).is_some(), "the window moved");
        assert!(index.in_window >= 90, "{} in the window", index.in_window);
        assert!(
            index.table.len() <= 10,
            "{} in the table",
            index.table.len()
        );
        for k in 1_900..2_000u128 {
            assert!(slots.find(&index, start + k).is_some());
        }
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// Random ids never move the window (they are not near one another) and all live in the
    /// table.
    #[test]
    fn random_ids_live_in_the_table() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for n in 1..=5_000u128 {
            slots.add(
                &mut index,
                n.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
            );
        }
        assert_eq!(index.table.len(), 5_000);
        assert_eq!(index.base, 0);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
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
