//! Instrument registration: each instrument gets a dense slot number, 0..n, so every
//! hot-path lookup after routing is an array index.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use uuid::Uuid;

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
#[derive(Clone, Debug, Default)]
pub struct InstrumentRegistry {
    instruments: Vec<Uuid>,
    slots: HashMap<Uuid, u32, FixedState>,
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
        let next = u32::try_from(self.instruments.len()).expect("more than u32::MAX instruments");
        let slot = *self.slots.entry(instrument).or_insert(next);
        if slot == next {
            self.instruments.push(instrument);
        }
        slot
    }

    /// The slot of `instrument`, if registered.
    #[inline]
    pub fn slot(&self, instrument: &Uuid) -> Option<u32> {
        self.slots.get(instrument).copied()
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
