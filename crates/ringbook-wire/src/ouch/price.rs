//! OUCH prices (spec section 2, "Price"): 8-byte unsigned integers with 4 implied
//! decimal places, so 1 on the wire is $0.0001. Ringbook prices are integer ticks; a
//! [`PriceScale`] converts with the instrument's tick size in wire units.

/// Wire units per currency unit: 4 implied decimal places.
pub const PRICE_SCALE: u64 = 10_000;

/// The tick size of one instrument in OUCH price units (1 = $0.0001).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PriceScale {
    tick: u64,
}

impl Default for PriceScale {
    fn default() -> PriceScale {
        PriceScale { tick: 1 }
    }
}

impl PriceScale {
    /// A scale of `tick` wire units per tick; `None` for 0.
    #[must_use]
    pub const fn new(tick: u64) -> Option<PriceScale> {
        if tick == 0 {
            None
        } else {
            Some(PriceScale { tick })
        }
    }

    /// The tick size in wire units.
    #[must_use]
    pub const fn tick(self) -> u64 {
        self.tick
    }

    /// The ticks a wire price names; `None` when it is not a whole number of ticks or
    /// past `i64::MAX` ticks.
    #[must_use]
    pub const fn to_ticks(self, wire: u64) -> Option<i64> {
        if !wire.is_multiple_of(self.tick) {
            return None;
        }
        let ticks = wire / self.tick;
        if ticks > i64::MAX as u64 {
            return None;
        }
        Some(ticks as i64)
    }

    /// The wire price of `ticks`; `None` for a negative price (OUCH prices are
    /// unsigned) or one past `u64::MAX` wire units.
    #[must_use]
    pub const fn to_wire(self, ticks: i64) -> Option<u64> {
        if ticks < 0 {
            return None;
        }
        (ticks as u64).checked_mul(self.tick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_convert_in_whole_ticks_and_refuse_the_rest() {
        let cent = PriceScale::new(100).unwrap();
        assert_eq!(cent.to_ticks(1_234_500), Some(12_345));
        assert_eq!(cent.to_ticks(1_234_501), None);
        assert_eq!(cent.to_wire(12_345), Some(1_234_500));
        assert_eq!(cent.to_wire(-1), None);
        assert_eq!(cent.to_wire(i64::MAX), None);
        let unit = PriceScale::default();
        assert_eq!(unit.to_ticks(u64::MAX), None);
        assert_eq!(unit.to_ticks(i64::MAX as u64), Some(i64::MAX));
        assert_eq!(PriceScale::new(0), None);
    }
}
