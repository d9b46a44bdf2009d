//! What an order must satisfy to be published on the ITCH feed: its price must fit ITCH's
//! Price (4) field (an unsigned 32-bit integer, 4 implied decimal places, so one unit is
//! $0.0001; a price of `n` ticks is sent as `n` times the instrument's tick size in those
//! units) within the instrument's configured band, and its quantity the 32-bit Shares
//! field.
//!
//! The order-entry path calls [`PriceBand::check`] before it hands an order to the engine,
//! and refuses the order with the [`BandError`] as the reason: nothing is ever published
//! wrong, because nothing that cannot be published rests.

use thiserror::Error;

/// A per-instrument band of prices accepted for an instrument published on the feed.
///
/// The default band is everything ITCH can carry: `0..=u32::MAX` ticks.
///
/// # Examples
///
/// ```
/// use ringbook_wire::itch::{BandError, PriceBand};
///
/// let band = PriceBand::new(1, 1_000_000).unwrap();
/// assert_eq!(band.check(Some(500), 10), Ok(()));
/// assert!(matches!(band.check(Some(0), 10), Err(BandError::PriceOutside { .. })));
/// assert!(matches!(band.check(None, 1 << 32), Err(BandError::QtyTooLarge { .. })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PriceBand {
    min: i64,
    max: i64,
}

/// Why an order cannot be published on the feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum BandError {
    /// The price lies outside the instrument's band.
    #[error("price {price} ticks is outside the instrument's feed price band {min}..={max}")]
    PriceOutside {
        /// The order's price.
        price: i64,
        /// The band's lowest price.
        min: i64,
        /// The band's highest price.
        max: i64,
    },
    /// The quantity does not fit ITCH's 32-bit Shares field.
    #[error("quantity {qty} lots exceeds the feed's largest quantity {max}")]
    QtyTooLarge {
        /// The order's quantity.
        qty: u64,
        /// The largest quantity the feed carries (`u32::MAX`).
        max: u64,
    },
    /// A band asked for that ITCH cannot carry or that is empty.
    #[error("price band {min}..={max} is empty or outside ITCH's 0..={}", u32::MAX)]
    BadBand {
        /// The band's lowest price.
        min: i64,
        /// The band's highest price.
        max: i64,
    },
}

impl Default for PriceBand {
    fn default() -> PriceBand {
        PriceBand {
            min: 0,
            max: i64::from(u32::MAX),
        }
    }
}

impl PriceBand {
    /// The band `min..=max` ticks.
    ///
    /// # Errors
    ///
    /// [`BandError::BadBand`] when `min > max` or either end lies outside `0..=u32::MAX`.
    pub fn new(min: i64, max: i64) -> Result<PriceBand, BandError> {
        if min > max || min < 0 || max > i64::from(u32::MAX) {
            return Err(BandError::BadBand { min, max });
        }
        Ok(PriceBand { min, max })
    }

    /// Everything ITCH can carry for an instrument whose tick is `tick` Price (4) units:
    /// `0..=u32::MAX / tick` ticks (`None` for a tick of 0).
    #[must_use]
    pub fn for_tick(tick: u64) -> Option<PriceBand> {
        let max = u64::from(u32::MAX).checked_div(tick)?;
        Some(PriceBand {
            min: 0,
            max: i64::try_from(max).unwrap_or(i64::MAX),
        })
    }

    /// This band narrowed to what ITCH can carry at `tick` Price (4) units per tick.
    ///
    /// # Errors
    ///
    /// [`BandError::BadBand`] when nothing of the band is left (or the tick is 0).
    pub fn within_tick(self, tick: u64) -> Result<PriceBand, BandError> {
        let itch = PriceBand::for_tick(tick).ok_or(BandError::BadBand {
            min: self.min,
            max: self.max,
        })?;
        let (min, max) = (self.min.max(itch.min), self.max.min(itch.max));
        if min > max {
            return Err(BandError::BadBand {
                min: self.min,
                max: self.max,
            });
        }
        Ok(PriceBand { min, max })
    }

    /// The lowest price accepted.
    #[must_use]
    pub const fn min(&self) -> i64 {
        self.min
    }

    /// The highest price accepted.
    #[must_use]
    pub const fn max(&self) -> i64 {
        self.max
    }

    /// Checks an order's price (`None` for a market order, which carries none) and
    /// quantity (an add's, or a modify's new one).
    ///
    /// # Errors
    ///
    /// [`BandError::PriceOutside`] or [`BandError::QtyTooLarge`].
    pub fn check(&self, price: Option<i64>, qty: u64) -> Result<(), BandError> {
        if let Some(price) = price
            && (price < self.min || price > self.max)
        {
            return Err(BandError::PriceOutside {
                price,
                min: self.min,
                max: self.max,
            });
        }
        if qty > u64::from(u32::MAX) {
            return Err(BandError::QtyTooLarge {
                qty,
                max: u64::from(u32::MAX),
            });
        }
        Ok(())
    }
}

/// A price in ticks as ITCH's Price (4) field, `None` when it does not fit.
#[must_use]
pub fn itch_price(ticks: i64) -> Option<u32> {
    u32::try_from(ticks).ok()
}
