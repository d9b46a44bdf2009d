//! Instrument registration: each instrument gets a dense slot number, 0..n, so every
//! hot-path lookup after routing is an array index.

use uuid::Uuid;

/// An empty cell of the lookup table.
const EMPTY: u32 = u32::MAX;
/// Cells in the smallest table.
const MIN_CELLS: usize = 16;

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
#[derive(Clone, Debug, Default)]
pub struct InstrumentRegistry {
    instruments: Vec<Uuid>,
    /// Slot numbers by hash, [`EMPTY`] where none; a power of two long (or empty).
    cells: Vec<u32>,
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
        next
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

    /// Puts `slot` in the first empty cell of its instrument's probe.
    fn place(&mut self, slot: u32) {
        let mask = self.cells.len() - 1;
        let mut cell = Self::hash(&self.instruments[slot as usize]) & mask;
        while self.cells[cell] != EMPTY {
            cell = (cell + 1) & mask;
        }
        self.cells[cell] = slot;
    }

    /// Rebuilds the table with `cells` cells (a power of two).
    fn rehash(&mut self, cells: usize) {
        self.cells = vec![EMPTY; cells];
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

    /// Sequential ids, ids apart in the high half only, and pseudo-random ones: each finds
    /// its own slot through every table growth, and ids never registered are not found.
    #[test]
    fn every_registered_id_finds_its_slot_and_no_other_id_does() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            u128::from(state) << 64 | u128::from(state.rotate_left(29))
        };
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
    }
}
