//! The one-byte enumerated fields of OUCH 5.0 (section 2 and the message sections), as
//! the byte values the spec assigns. Messages keep these fields as raw bytes so that a
//! value the spec does not define decodes and is answered with a Rejected of the right
//! reason, rather than failing the whole message.

/// Side (Enter Order, Order Accepted, Modify Order, ...).
pub mod side {
    /// `B` buy.
    pub const BUY: u8 = b'B';
    /// `S` sell.
    pub const SELL: u8 = b'S';
    /// `T` sell short.
    pub const SELL_SHORT: u8 = b'T';
    /// `E` sell short exempt.
    pub const SELL_SHORT_EXEMPT: u8 = b'E';
}

/// Time In Force.
pub mod time_in_force {
    /// `0` day: market hours.
    pub const DAY: u8 = b'0';
    /// `3` immediate or cancel.
    pub const IOC: u8 = b'3';
    /// `5` good till extended hours (GTX).
    pub const GTX: u8 = b'5';
    /// `6` good till triple (GTT): needs an Expire Time option.
    pub const GTT: u8 = b'6';
    /// `E` after hours.
    pub const AFTER_HOURS: u8 = b'E';
}

/// Display.
pub mod display {
    /// `Y` visible.
    pub const VISIBLE: u8 = b'Y';
    /// `N` hidden.
    pub const HIDDEN: u8 = b'N';
    /// `A` attributable.
    pub const ATTRIBUTABLE: u8 = b'A';
    /// `Z` conformant.
    pub const CONFORMANT: u8 = b'Z';
}

/// Capacity.
pub mod capacity {
    /// `A` agency.
    pub const AGENCY: u8 = b'A';
    /// `P` principal.
    pub const PRINCIPAL: u8 = b'P';
    /// `R` riskless principal.
    pub const RISKLESS: u8 = b'R';
    /// `O` other.
    pub const OTHER: u8 = b'O';
    /// Every value the spec defines.
    pub const ALL: [u8; 4] = [AGENCY, PRINCIPAL, RISKLESS, OTHER];
}

/// InterMarket Sweep Eligibility.
pub mod intermarket_sweep {
    /// `Y` eligible.
    pub const ELIGIBLE: u8 = b'Y';
    /// `N` not eligible.
    pub const NOT_ELIGIBLE: u8 = b'N';
}

/// CrossType.
pub mod cross_type {
    /// `N` continuous market (no cross).
    pub const CONTINUOUS: u8 = b'N';
    /// `O` opening cross.
    pub const OPENING: u8 = b'O';
    /// `C` closing cross.
    pub const CLOSING: u8 = b'C';
    /// `H` halt/IPO cross.
    pub const HALT_IPO: u8 = b'H';
    /// `S` supplemental.
    pub const SUPPLEMENTAL: u8 = b'S';
    /// `R` retail.
    pub const RETAIL: u8 = b'R';
    /// `E` extended life.
    pub const EXTENDED_LIFE: u8 = b'E';
    /// `A` after-hours close.
    pub const AFTER_HOURS_CLOSE: u8 = b'A';
}

/// Order State (Order Accepted, Order Replaced).
pub mod order_state {
    /// `L` the order is live.
    pub const LIVE: u8 = b'L';
    /// `D` the order is dead (it did not rest).
    pub const DEAD: u8 = b'D';
}

/// System Event codes.
pub mod event_code {
    /// `S` start of day.
    pub const START_OF_DAY: u8 = b'S';
    /// `E` end of day.
    pub const END_OF_DAY: u8 = b'E';
}

/// Liquidity Flag (Order Executed): the two this venue reports.
pub mod liquidity {
    /// `A` added liquidity (the resting order).
    pub const ADDED: u8 = b'A';
    /// `R` removed liquidity (the incoming order).
    pub const REMOVED: u8 = b'R';
}
