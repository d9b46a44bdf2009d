//! The bounds of a benchmark's settings, and the check of a run's options against its
//! workload: a run that would measure nothing, or that could not fit in memory, is refused
//! before it starts.

use super::run::RunOptions;

/// The most instruments a generated workload may have: 65,536, as many books as the
/// default inbound rings fit in their budget
/// ([`ManagerConfig::MAX_INBOUND_SLOTS`](ringbook::ManagerConfig::MAX_INBOUND_SLOTS)).
pub const MAX_INSTRUMENTS: u32 = 1 << 16;

/// The most new orders a generated workload may have: 10,000,000. The workload is held in
/// memory, about 1.9 commands per order at about 64 bytes each: some 1.2 GB at the bound.
pub const MAX_ORDERS: u64 = 10_000_000;

/// The highest offered load, in commands per second: 100,000,000 (one every 10 ns, far
/// past what one sender thread can hold to a schedule).
pub const MAX_RATE: f64 = 1e8;

/// Why a benchmark's settings were refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BenchSettingsError {
    /// A count outside its inclusive range.
    #[error("{field} {value} is out of range: it must be at least {min} and at most {max}")]
    OutOfRange {
        /// The setting (`instruments`, `orders`).
        field: &'static str,
        /// The value given.
        value: u64,
        /// The smallest allowed.
        min: u64,
        /// The largest allowed.
        max: u64,
    },
    /// An offered load that is not a positive number up to [`MAX_RATE`].
    #[error("rate {value} must be a positive number of commands per second, at most {max}")]
    Rate {
        /// The rate given.
        value: f64,
        /// [`MAX_RATE`].
        max: f64,
    },
    /// The warm-up would take the whole workload, leaving nothing to measure.
    #[error(
        "a warm-up of {warmup} commands leaves nothing to measure in a workload of {commands} commands: the warm-up must be smaller than the workload"
    )]
    WarmupTooLarge {
        /// Commands in the warm-up.
        warmup: usize,
        /// Commands in the whole workload.
        commands: usize,
    },
}

/// Checks the size of a workload to generate: 1 to [`MAX_INSTRUMENTS`] instruments, 1 to
/// [`MAX_ORDERS`] orders.
///
/// # Errors
///
/// [`BenchSettingsError::OutOfRange`] for the first out of range.
pub fn check_workload(instruments: u32, orders: u64) -> Result<(), BenchSettingsError> {
    in_range(
        "instruments",
        u64::from(instruments),
        u64::from(MAX_INSTRUMENTS),
    )?;
    in_range("orders", orders, MAX_ORDERS)
}

fn in_range(field: &'static str, value: u64, max: u64) -> Result<(), BenchSettingsError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(BenchSettingsError::OutOfRange {
            field,
            value,
            min: 1,
            max,
        })
    }
}

impl RunOptions {
    /// Checks these options for a workload of `commands` commands: the rate (if any) is
    /// positive, finite and at most [`MAX_RATE`]; the warm-up is smaller than the
    /// workload, so something is measured.
    ///
    /// # Errors
    ///
    /// [`BenchSettingsError::Rate`] or [`BenchSettingsError::WarmupTooLarge`].
    pub fn check(&self, commands: usize) -> Result<(), BenchSettingsError> {
        if let Some(rate) = self.rate
            && !(rate > 0.0 && rate <= MAX_RATE)
        {
            return Err(BenchSettingsError::Rate {
                value: rate,
                max: MAX_RATE,
            });
        }
        if self.warmup >= commands {
            return Err(BenchSettingsError::WarmupTooLarge {
                warmup: self.warmup,
                commands,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_sizes_are_bounded() {
        check_workload(1, 1).unwrap();
        check_workload(MAX_INSTRUMENTS, MAX_ORDERS).unwrap();
        assert_eq!(
            check_workload(0, 10),
            Err(BenchSettingsError::OutOfRange {
                field: "instruments",
                value: 0,
                min: 1,
                max: 65_536
            })
        );
        assert_eq!(
            check_workload(8, MAX_ORDERS + 1).unwrap_err().to_string(),
            "orders 10000001 is out of range: it must be at least 1 and at most 10000000"
        );
    }

    #[test]
    fn the_warm_up_must_leave_something_to_measure() {
        let options = RunOptions {
            warmup: 50_000,
            ..RunOptions::default()
        };
        let error = options.check(1_893).unwrap_err();
        assert_eq!(
            error,
            BenchSettingsError::WarmupTooLarge {
                warmup: 50_000,
                commands: 1_893
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("50000") && message.contains("1893"),
            "{message}"
        );
        assert!(options.check(50_000).is_err(), "equal leaves nothing");
        options.check(50_001).unwrap();
    }

    #[test]
    fn the_rate_is_positive_finite_and_bounded() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e8] {
            let options = RunOptions {
                rate: Some(rate),
                ..RunOptions::default()
            };
            assert!(
                matches!(options.check(10), Err(BenchSettingsError::Rate { .. })),
                "{rate}"
            );
        }
        let options = RunOptions {
            rate: Some(MAX_RATE),
            ..RunOptions::default()
        };
        options.check(10).unwrap();
    }
}
