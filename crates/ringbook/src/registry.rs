//! Instrument registration: each instrument gets a dense slot number, 0..n, so every
//! hot-path lookup after routing is an array index.

use uuid::Uuid;

use crate::id_hash::IdHasher;

/// An empty cell of the lookup table.
const EMPTY: u32 = u32::MAX;
/// Cells in the smallest table.
const MIN_CELLS: usize = 16;
/// Cells per instrument a small registry may grow to, so that every id sits in its home
/// cell (the one its hash names) and a lookup never probes a second.
const SPREAD_CELLS_PER_INSTRUMENT: usize = 64;
/// The largest table grown for that (4 KiB of cells); larger registries keep the usual
/// at-most-half-full table.
const SPREAD_MAX_CELLS: usize = 1024;

/// The registered instruments and their slots. Built once; lookups need no lock.
///
/// # Examples
///
/// ```
/// use ringbook::InstrumentRegistry;
/// use uuid::Uuid;
///
/// let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(20));
/// let registry = InstrumentRegistry::new([a, b, a]);
/// assert_eq!(registry.len(), 2, "a repeated instrument is registered once");
/// assert_eq!(registry.slot(&b), Some(1));
/// assert_eq!(registry.instrument(1), b);
/// assert_eq!(registry.slot(&Uuid::from_u128(30)), None);
/// ```
///
/// Every caller's command is routed through [`InstrumentRegistry::slot`], so the lookup is
/// a table made for it: open addressing over a power-of-two table of slot numbers, at most
/// half full, probed linearly from a keyed hash of the id. A lookup hashes once (one
/// multiply), reads a cell or two and compares one id; a general hash map took about twice
/// the instructions.
///
/// The hash is keyed per process with secret random keys (the order-id index's hash), so
/// no id set chosen in advance piles up on one cell: with the fixed multiplicative hash it
/// had, every id with the same `high ^ low.rotate_left(32)` hashed alike and a registry
/// of n of them took n^2 / 2 probes to build. The keys decide only which cell an id sits
/// in; slots are numbered in registration order and nothing iterates the cells, so slots,
/// events and state hashes are the same under any keys.
///
/// A small registry grows its table (to at most 64 cells an instrument and 1,024 cells in
/// all) until no two ids share a home cell: then every lookup reads one cell, and whether
/// it needs a second never depends on which instrument a command names (a branch the
/// processor would mispredict in a random mix of instruments).
#[derive(Clone, Debug)]
pub struct InstrumentRegistry {
    instruments: Vec<Uuid>,
    /// Slot numbers by hash, [`EMPTY`] where none; a power of two long (or empty).
    cells: Vec<u32>,
    /// How many ids sit away from their home cell.
    displaced: usize,
    /// The keyed hash that picks an id's home cell.
    hasher: IdHasher,
}

impl Default for InstrumentRegistry {
    /// An empty registry, hashing with the process's keys.
    fn default() -> InstrumentRegistry {
        InstrumentRegistry::with_hasher(IdHasher::per_process())
    }
}

impl InstrumentRegistry {
    /// An empty registry hashing with `hasher`.
    fn with_hasher(hasher: IdHasher) -> InstrumentRegistry {
        InstrumentRegistry {
            instruments: Vec::new(),
            cells: Vec::new(),
            displaced: 0,
            hasher,
        }
    }

    /// Registers `instruments` in order; a repeated id keeps its first slot.
    ///
    /// # Panics
    ///
    /// Panics with more than `u32::MAX` instruments.
    pub fn new(instruments: impl IntoIterator<Item = Uuid>) -> InstrumentRegistry {
        let mut registry = InstrumentRegistry::default();
        for id in instruments {
            registry.register(id);
        }
        registry
    }

    /// Registers `instrument` if it is new and returns its slot.
    ///
    /// # Panics
    ///
    /// Panics with more than `u32::MAX` instruments.
    pub fn register(&mut self, instrument: Uuid) -> u32 {
        if let Some(slot) = self.slot(&instrument) {
            return slot;
        }
        let next = u32::try_from(self.instruments.len())
            .ok()
            .filter(|&next| next != EMPTY)
            .expect("more than u32::MAX instruments");
        self.instruments.push(instrument);
        if self.instruments.len() * 2 > self.cells.len() {
            self.rehash(
                (self.instruments.len() * 2)
                    .next_power_of_two()
                    .max(MIN_CELLS),
            );
        } else {
            self.place(next);
        }
        self.spread();
        next
    }

    /// Doubles a small table while an id sits away from its home cell, up to
    /// [`SPREAD_CELLS_PER_INSTRUMENT`] cells an instrument and [`SPREAD_MAX_CELLS`].
    fn spread(&mut self) {
        let limit = (self.instruments.len() * SPREAD_CELLS_PER_INSTRUMENT).min(SPREAD_MAX_CELLS);
        while self.displaced > 0 && self.cells.len() * 2 <= limit {
            self.rehash(self.cells.len() * 2);
        }
    }

    /// The slot of `instrument`, if registered.
    #[inline]
    #[must_use]
    pub fn slot(&self, instrument: &Uuid) -> Option<u32> {
        let mask = self.cells.len().checked_sub(1)?;
        let mut cell = self.hash(instrument) & mask;
        loop {
            let slot = self.cells[cell];
            if slot == EMPTY {
                return None;
            }
            if self.instruments[slot as usize] == *instrument {
                return Some(slot);
            }
            cell = (cell + 1) & mask;
        }
    }

    /// Where `instrument`'s probe starts, before masking: the keyed hash of the id (every
    /// bit of the id reaches the low bits, and sequential ids spread).
    #[inline]
    fn hash(&self, instrument: &Uuid) -> usize {
        self.hasher.hash(instrument) as usize
    }

    /// Puts `slot` in the first empty cell of its instrument's probe, counting it as
    /// displaced if that is not its home cell.
    fn place(&mut self, slot: u32) {
        let mask = self.cells.len() - 1;
        let home = self.hash(&self.instruments[slot as usize]) & mask;
        let mut cell = home;
        while self.cells[cell] != EMPTY {
            cell = (cell + 1) & mask;
        }
        self.cells[cell] = slot;
        self.displaced += usize::from(cell != home);
    }

    /// Rebuilds the table with `cells` cells (a power of two).
    fn rehash(&mut self, cells: usize) {
        self.cells = vec![EMPTY; cells];
        self.displaced = 0;
        for slot in 0..self.instruments.len() as u32 {
            self.place(slot);
        }
    }

    /// The instrument in `slot`.
    ///
    /// # Panics
    ///
    /// Panics if `slot` is out of range.
    #[inline]
    #[must_use]
    pub fn instrument(&self, slot: u32) -> Uuid {
        self.instruments[slot as usize]
    }

    /// How many instruments are registered.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// Whether none is.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// The instruments in slot order.
    #[must_use]
    pub fn instruments(&self) -> &[Uuid] {
        &self.instruments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys for the tests that count outcomes over many random sets.
    const KEYS: IdHasher = IdHasher::with_keys(
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
    );

    /// How many cells a lookup of `instrument` reads.
    fn probes(registry: &InstrumentRegistry, instrument: &Uuid) -> usize {
        let mask = registry.cells.len() - 1;
        let mut cell = registry.hash(instrument) & mask;
        let mut probes = 1;
        while registry.instruments[registry.cells[cell] as usize] != *instrument {
            cell = (cell + 1) & mask;
            probes += 1;
        }
        probes
    }

    /// Ids the old fixed hash `(high ^ low.rotate_left(32)) * phi` sent to one cell: the
    /// same `high ^ low.rotate_left(32)` (here 0x5a67b4dfae0123c2), any low half.
    fn colliding_under_the_old_hash(n: u64) -> Vec<Uuid> {
        (1..=n)
            .map(|low| Uuid::from_u64_pair(0x5a67_b4df_ae01_23c2 ^ low.rotate_left(32), low))
            .collect()
    }

    /// The old hash's attack set no longer piles up: in a registry of 2,000 such ids, at
    /// most half full, no lookup reads more than 128 cells (a random function gives a
    /// longest probe of about 15 to 45 here; with the fixed hash all 2,000 shared one home
    /// and the last one registered read 2,000), and every id is found.
    #[test]
    fn ids_colliding_under_the_old_fixed_hash_spread_over_the_cells() {
        let ids = colliding_under_the_old_hash(2_000);
        let registry = InstrumentRegistry::new(ids.iter().copied());
        let longest = ids.iter().map(|id| probes(&registry, id)).max().unwrap();
        assert!(longest <= 128, "a lookup reads {longest} cells");
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(registry.slot(id), Some(n as u32));
        }
    }

    /// An attack needs the keys: ids built against known keys (low half equal to the low
    /// key, so they all hash to 0) pile up under those keys and spread under the
    /// process's.
    #[test]
    fn an_id_set_built_against_known_keys_does_not_carry_over() {
        let ids: Vec<Uuid> = (1..=1_000u64)
            .map(|high| Uuid::from_u64_pair(high, 0x243f_6a88_85a3_08d3))
            .collect();
        let mut attacked = InstrumentRegistry::with_hasher(KEYS);
        let mut defended = InstrumentRegistry::default();
        for id in &ids {
            attacked.register(*id);
            defended.register(*id);
        }
        let longest = |registry: &InstrumentRegistry| {
            ids.iter().map(|id| probes(registry, id)).max().unwrap()
        };
        assert_eq!(
            longest(&attacked),
            ids.len(),
            "one home cell under known keys"
        );
        assert!(longest(&defended) <= 128, "{}", longest(&defended));
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(attacked.slot(id), Some(n as u32));
            assert_eq!(defended.slot(id), Some(n as u32));
        }
    }

    /// Pseudo-random 128-bit ids from a xorshift generator seeded with `seed`: its state in
    /// the high half, the state rotated by `rotate` in the low half.
    fn xorshift(seed: u64, rotate: u32) -> impl FnMut() -> u128 {
        let mut state = seed;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            u128::from(state) << 64 | u128::from(state.rotate_left(rotate))
        }
    }

    /// Sequential ids, ids apart in the high half only, and pseudo-random ones: each finds
    /// its own slot through every table growth, and ids never registered are not found.
    #[test]
    fn every_registered_id_finds_its_slot_and_no_other_id_does() {
        let mut random = xorshift(0x2545_f491_4f6c_dd1d, 29);
        let ids: Vec<Uuid> = (0..3_000u128)
            .map(Uuid::from_u128)
            .chain((1..=3_000u128).map(|n| Uuid::from_u128(n << 64)))
            .chain((0..3_000).map(|_| Uuid::from_u128(random())))
            .collect();
        let mut registry = InstrumentRegistry::default();
        assert_eq!(
            registry.slot(&ids[0]),
            None,
            "an empty registry finds nothing"
        );
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(registry.register(*id), n as u32);
            // Registering again keeps the first slot.
            assert_eq!(registry.register(*id), n as u32);
        }
        assert_eq!(registry.len(), ids.len());
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(registry.slot(id), Some(n as u32), "{id}");
            assert_eq!(registry.instrument(n as u32), *id);
        }
        for n in 0..3_000u128 {
            let unknown = Uuid::from_u128((n << 64) | (1 << 40));
            assert_eq!(registry.slot(&unknown), None, "{unknown}");
        }
        assert!(
            registry.cells.len() >= 2 * registry.len(),
            "at most half full"
        );
        assert!(
            registry.cells.len() <= 4 * registry.len(),
            "a large registry is not spread: {} cells",
            registry.cells.len()
        );
    }

    /// Small registries of random ids (eight, like the benchmark's) almost always end
    /// with every id in its home cell, within the spreading limit, and still find every
    /// id; without spreading, most sets of eight would share a home cell somewhere. (Fixed
    /// keys keep the counts the same on every run.)
    #[test]
    fn a_small_registry_spreads_its_ids_into_cells_of_their_own() {
        let mut random = xorshift(0x9e37_79b9_7f4a_7c15, 17);
        let (sets, mut spread, mut crowded_at_16) = (500, 0, 0);
        for _ in 0..sets {
            let ids: Vec<Uuid> = (0..8).map(|_| Uuid::from_u128(random())).collect();
            let mut registry = InstrumentRegistry::with_hasher(KEYS);
            for id in &ids {
                registry.register(*id);
            }
            for (n, id) in ids.iter().enumerate() {
                assert_eq!(registry.slot(id), Some(n as u32));
            }
            assert!(registry.cells.len() <= 8 * SPREAD_CELLS_PER_INSTRUMENT);
            let homes = |cells: usize| -> std::collections::HashSet<usize> {
                ids.iter()
                    .map(|id| registry.hash(id) & (cells - 1))
                    .collect()
            };
            if registry.displaced == 0 {
                spread += 1;
                assert_eq!(homes(registry.cells.len()).len(), 8);
                for (n, id) in ids.iter().enumerate() {
                    let home = registry.hash(id) & (registry.cells.len() - 1);
                    assert_eq!(registry.cells[home], n as u32, "in its home cell");
                }
            } else {
                assert_eq!(registry.cells.len(), 8 * SPREAD_CELLS_PER_INSTRUMENT);
            }
            crowded_at_16 += usize::from(homes(16).len() < 8);
        }
        assert!(spread * 100 >= sets * 90, "{spread} of {sets} sets spread");
        assert!(
            crowded_at_16 * 100 >= sets * 70,
            "{crowded_at_16} of {sets} sets share a home cell in 16 cells"
        );
    }
}
