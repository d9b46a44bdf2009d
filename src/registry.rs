//! Instrument registration: each instrument gets a dense slot number, 0..n, so every
//! hot-path lookup after routing is an array index.

use uuid::Uuid;

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
/// half full, probed linearly from a multiplicative hash of the id. A lookup hashes once,
/// reads a cell or two and compares one id; a general hash map took about twice the
/// instructions.
///
/// A small registry grows its table (to at most 64 cells an instrument and 1,024 cells in
/// all) until no two ids share a home cell: then every lookup reads one cell, and whether
/// it needs a second never depends on which instrument a command names (a branch the
/// processor would mispredict in a random mix of instruments).
#[derive(Clone, Debug, Default)]
pub struct InstrumentRegistry {
    instruments: Vec<Uuid>,
    /// Slot numbers by hash, [`EMPTY`] where none; a power of two long (or empty).
    cells: Vec<u32>,
    /// How many ids sit away from their home cell.
    displaced: usize,
}

impl InstrumentRegistry {
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
    pub fn slot(&self, instrument: &Uuid) -> Option<u32> {
        let mask = self.cells.len().checked_sub(1)?;
        let mut cell = Self::hash(instrument) & mask;
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

    /// Where `instrument`'s probe starts, before masking: the id's two halves folded and
    /// multiplied by 2^64 / phi, then the high bits brought down (they mix every bit of
    /// the id, and sequential ids spread).
    #[inline]
    fn hash(instrument: &Uuid) -> usize {
        let (high, low) = instrument.as_u64_pair();
        let mixed = (high ^ low.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed ^ (mixed >> 32)) as usize
    }

    /// Puts `slot` in the first empty cell of its instrument's probe, counting it as
    /// displaced if that is not its home cell.
    fn place(&mut self, slot: u32) {
        let mask = self.cells.len() - 1;
        let home = Self::hash(&self.instruments[slot as usize]) & mask;
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
    pub fn instrument(&self, slot: u32) -> Uuid {
        self.instruments[slot as usize]
    }

    /// How many instruments are registered.
    #[inline]
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// Whether none is.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// The instruments in slot order.
    pub fn instruments(&self) -> &[Uuid] {
        &self.instruments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    /// id; without spreading, most sets of eight would share a home cell somewhere.
    #[test]
    fn a_small_registry_spreads_its_ids_into_cells_of_their_own() {
        let mut random = xorshift(0x9e37_79b9_7f4a_7c15, 17);
        let (sets, mut spread, mut crowded_at_16) = (500, 0, 0);
        for _ in 0..sets {
            let ids: Vec<Uuid> = (0..8).map(|_| Uuid::from_u128(random())).collect();
            let registry = InstrumentRegistry::new(ids.iter().copied());
            for (n, id) in ids.iter().enumerate() {
                assert_eq!(registry.slot(id), Some(n as u32));
            }
            assert!(registry.cells.len() <= 8 * SPREAD_CELLS_PER_INSTRUMENT);
            let homes = |cells: usize| -> std::collections::HashSet<usize> {
                ids.iter()
                    .map(|id| InstrumentRegistry::hash(id) & (cells - 1))
                    .collect()
            };
            if registry.displaced == 0 {
                spread += 1;
                assert_eq!(homes(registry.cells.len()).len(), 8);
                for (n, id) in ids.iter().enumerate() {
                    let home = InstrumentRegistry::hash(id) & (registry.cells.len() - 1);
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
