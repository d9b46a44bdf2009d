//! The manager's configuration.

use std::path::PathBuf;
use std::time::Duration;

use super::error::OrderbookManagerError;
use crate::journal::{JournalConfig, RecoveryMode};
use crate::pipeline::{PipelineConfig, Stages, WaitStrategy};

/// Where and how the engine journals its input and takes snapshots.
///
/// # Examples
///
/// ```
/// use ringbook::JournalOptions;
/// use ringbook::journal::{JournalConfig, RecoveryMode, SyncPolicy};
///
/// let options = JournalOptions::new("/var/lib/engine/journal")
///     .with_config(JournalConfig::default().with_sync(SyncPolicy::None))
///     .with_snapshot_every(Some(100_000))
///     .with_keep_snapshots(Some(3))
///     .with_recovery(RecoveryMode::PointInTime);
/// assert_eq!(options.keep_snapshots, Some(3));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct JournalOptions {
    /// The journal directory (segments and snapshots). An existing journal there is
    /// recovered when the manager is built, and the engine continues it.
    pub dir: PathBuf,
    /// Segment size and sync policy.
    pub config: JournalConfig,
    /// Take a snapshot after this many commands; `None`: only when requested.
    pub snapshot_every: Option<u64>,
    /// After each snapshot, delete the snapshots older than this many newest valid ones
    /// and the journal segments recovery no longer needs ([`prune`]); at least 2, so a
    /// damaged newest snapshot leaves a fallback. `None`: keep everything.
    ///
    /// [`prune`]: crate::journal::prune
    pub keep_snapshots: Option<usize>,
    /// How recovery treats a damaged journal when the manager is built on it; default
    /// [`RecoveryMode::TolerateTornTail`].
    pub recovery: RecoveryMode,
}

impl JournalOptions {
    /// A journal in `dir` with the default segment size and sync policy, no automatic
    /// snapshots.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> JournalOptions {
        JournalOptions {
            dir: dir.into(),
            config: JournalConfig::default(),
            snapshot_every: None,
            keep_snapshots: None,
            recovery: RecoveryMode::default(),
        }
    }

    /// Sets the segment size and sync policy.
    #[must_use]
    pub fn with_config(mut self, config: JournalConfig) -> JournalOptions {
        self.config = config;
        self
    }

    /// Takes a snapshot after this many commands; `None`: only when requested.
    #[must_use]
    pub fn with_snapshot_every(mut self, every: Option<u64>) -> JournalOptions {
        self.snapshot_every = every;
        self
    }

    /// Keeps this many newest valid snapshots after each one (at least 2); `None`: keep
    /// everything.
    #[must_use]
    pub fn with_keep_snapshots(mut self, keep: Option<usize>) -> JournalOptions {
        self.keep_snapshots = keep;
        self
    }

    /// How recovery treats a damaged journal when the manager is built on it.
    #[must_use]
    pub fn with_recovery(mut self, recovery: RecoveryMode) -> JournalOptions {
        self.recovery = recovery;
        self
    }
}

/// How the pipeline is laid out and how its threads wait.
///
/// # Examples
///
/// ```
/// use ringbook::{ManagerConfig, WaitStrategy};
///
/// let config = ManagerConfig::default()
///     .with_consumers(2)
///     .with_wait_strategy(WaitStrategy::BusySpin)
///     .with_cores(Some(vec![0, 1]));
/// assert_eq!(config.consumers, 2);
/// assert_eq!(config.inbound_ring_size_for(8), 8192);
/// assert_eq!(config.inbound_ring_size_for(1000), 256);
/// ```
///
/// A setter returns the changed configuration: dropping it is a mistake the compiler
/// flags.
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// let config = ringbook::ManagerConfig::default();
/// config.clone().with_consumers(2); // the changed configuration is dropped
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ManagerConfig {
    /// How idle pipeline threads wait. The default, [`WaitStrategy::Auto`], blocks when
    /// the engine's busy threads outnumber its cores and spins when each has a core of its
    /// own (see [`ManagerConfig::effective_wait_strategies`]).
    pub wait_strategy: WaitStrategy,
    /// How the stages map onto threads. The default, [`Stages::Auto`], runs them on one
    /// thread when, with one book consumer, they would share cores (see
    /// [`ManagerConfig::fuses_stages`]), and a thread per stage otherwise.
    pub stages: Stages,
    /// How many book consumer threads, 1 to [`ManagerConfig::MAX_CONSUMERS`]; each owns a
    /// share of the books. Clamped to the number of instruments.
    pub consumers: usize,
    /// Cores to pin pipeline threads to, in the order sequencer, book consumers, event
    /// manager; the list is reused from its start when there are more threads than cores.
    /// `None`: no pinning.
    pub cores: Option<Vec<usize>>,
    /// Slots in the ingress ring (callers to sequencer). A power of two from
    /// [`ManagerConfig::MIN_RING_SIZE`] to [`ManagerConfig::MAX_RING_SIZE`].
    pub ingress_ring_size: usize,
    /// Slots in each book's inbound ring; `None` picks one from the instrument count
    /// (see [`ManagerConfig::inbound_ring_size_for`]). A power of two from
    /// [`ManagerConfig::MIN_RING_SIZE`] to [`ManagerConfig::MAX_RING_SIZE`], and all books'
    /// together at most [`ManagerConfig::MAX_INBOUND_SLOTS`].
    pub inbound_ring_size: Option<usize>,
    /// Slots in the outbound ring (books to event manager). A power of two from
    /// [`ManagerConfig::MIN_RING_SIZE`] to [`ManagerConfig::MAX_RING_SIZE`].
    pub outbound_ring_size: usize,
    /// How long a caller waits for room in a full ingress ring before
    /// [`OrderbookManagerError::Timeout`], at most [`ManagerConfig::MAX_PUBLISH_TIMEOUT`];
    /// `None` waits as long as it takes.
    pub publish_timeout: Option<Duration>,
    /// The most commands a consumer takes from one book's ring before it looks at its
    /// next book: the fairness bound between books sharing a thread. 1 to
    /// [`ManagerConfig::MAX_BATCH_SIZE`].
    pub batch_size: usize,
    /// Journal every sequenced command (and take snapshots) here; `None`: no durability.
    pub journal: Option<JournalOptions>,
}

impl Default for ManagerConfig {
    fn default() -> ManagerConfig {
        ManagerConfig {
            wait_strategy: WaitStrategy::default(),
            stages: Stages::default(),
            consumers: 1,
            cores: None,
            // Rings small enough to stay in cache: streaming through larger ones evicts the
            // books' own data. On the 2-core development machine, 8,192-slot rings ran the
            // bench 6 to 15% faster than 65,536 at 1, 8 and 1,000 instruments.
            ingress_ring_size: 1 << 13,
            inbound_ring_size: None,
            outbound_ring_size: 1 << 13,
            publish_timeout: Some(Duration::from_secs(1)),
            batch_size: 256,
            journal: None,
        }
    }
}

impl ManagerConfig {
    /// The inbound ring size used for `instruments` books: the configured one, or 65,536
    /// slots shared out (rounded down to a power of two), between 256 and 8,192 per book.
    #[must_use]
    pub fn inbound_ring_size_for(&self, instruments: usize) -> usize {
        self.inbound_ring_size.unwrap_or_else(|| {
            let share = (1usize << 16) / instruments.max(1);
            // The power of two at or below the share, so the total stays within budget.
            (1usize << (usize::BITS - 1 - share.max(1).leading_zeros())).clamp(256, 1 << 13)
        })
    }

    /// Sets every ring (ingress, each inbound, outbound) to `size` slots.
    #[must_use]
    pub fn with_ring_size(mut self, size: usize) -> ManagerConfig {
        self.ingress_ring_size = size;
        self.inbound_ring_size = Some(size);
        self.outbound_ring_size = size;
        self
    }

    /// Sets how idle pipeline threads wait.
    #[must_use]
    pub fn with_wait_strategy(mut self, wait: WaitStrategy) -> ManagerConfig {
        self.wait_strategy = wait;
        self
    }

    /// Sets how the stages map onto threads.
    #[must_use]
    pub fn with_stages(mut self, stages: Stages) -> ManagerConfig {
        self.stages = stages;
        self
    }

    /// Sets how many book consumer threads share the books.
    #[must_use]
    pub fn with_consumers(mut self, consumers: usize) -> ManagerConfig {
        self.consumers = consumers;
        self
    }

    /// Sets the cores to pin pipeline threads to; `None`: no pinning.
    #[must_use]
    pub fn with_cores(mut self, cores: Option<Vec<usize>>) -> ManagerConfig {
        self.cores = cores;
        self
    }

    /// Sets the ingress ring's slots.
    #[must_use]
    pub fn with_ingress_ring_size(mut self, size: usize) -> ManagerConfig {
        self.ingress_ring_size = size;
        self
    }

    /// Sets each book's inbound ring slots; `None` picks them from the instrument count.
    #[must_use]
    pub fn with_inbound_ring_size(mut self, size: Option<usize>) -> ManagerConfig {
        self.inbound_ring_size = size;
        self
    }

    /// Sets the outbound ring's slots.
    #[must_use]
    pub fn with_outbound_ring_size(mut self, size: usize) -> ManagerConfig {
        self.outbound_ring_size = size;
        self
    }

    /// Sets how long a caller waits for room in a full ingress ring; `None`: as long as it
    /// takes.
    #[must_use]
    pub fn with_publish_timeout(mut self, timeout: Option<Duration>) -> ManagerConfig {
        self.publish_timeout = timeout;
        self
    }

    /// Sets the most commands a consumer takes from one book's ring at a time.
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> ManagerConfig {
        self.batch_size = batch_size;
        self
    }

    /// Sets the journal; `None`: no durability.
    #[must_use]
    pub fn with_journal(mut self, journal: Option<JournalOptions>) -> ManagerConfig {
        self.journal = journal;
        self
    }

    /// Whether the stages run on one thread for `instruments` books: [`Stages::Fused`], or
    /// [`Stages::Auto`] with one book consumer whose threads would share cores. Pinned
    /// (`cores` set), they share when the list puts two of the sequencer, the book
    /// consumer and the event manager on one core; unpinned, when those three and the
    /// caller that feeds them outnumber [`std::thread::available_parallelism`]. So on 2
    /// cores the default fuses, pinned or not.
    #[must_use]
    pub fn fuses_stages(&self, instruments: usize) -> bool {
        self.stages.fuses(
            self.consumers.min(instruments),
            self.cores.as_deref(),
            std::thread::available_parallelism().map_or(1, usize::from),
        )
    }

    /// The wait strategy each of the pipeline's threads uses for `instruments` books, in
    /// thread order: the sequencer, each book consumer (at most one per book), the event
    /// manager; or the one engine thread's, when the stages are fused.
    /// [`WaitStrategy::Auto`] is resolved against the cores; any other strategy is every
    /// thread's.
    ///
    /// Pinned (`cores` set), each thread looks at its own core: alone on it, it spins;
    /// sharing it with another pipeline thread, it blocks. (The callers are taken to run
    /// elsewhere.) Unpinned, the pipeline's threads and the caller that feeds them, one
    /// more busy thread, share [`std::thread::available_parallelism`] cores: all block
    /// when they outnumber the cores, all spin otherwise. A fused engine blocks, pinned
    /// (to the book consumer's core) or not: spinning, it polls its ingress ring as fast as
    /// callers publish and slows them (see [`Stages`]). So on 2 cores the default is one
    /// blocking engine thread, pinned or not.
    #[must_use]
    pub fn effective_wait_strategies(&self, instruments: usize) -> Vec<WaitStrategy> {
        let layout = self.pipeline(instruments);
        if layout.fused {
            return vec![layout.fused_wait()];
        }
        let threads = 2 + self.consumers.min(instruments);
        (0..threads).map(|t| layout.wait_for(t, threads)).collect()
    }

    /// The pipeline's layout for `instruments` books (the configuration is validated).
    /// Unpinned, [`WaitStrategy::Auto`] is resolved here, for every thread alike (except
    /// a fused engine's, which [`PipelineConfig::fused_wait`] resolves); pinned, per
    /// thread, by [`PipelineConfig::wait_for`].
    pub(crate) fn pipeline(&self, instruments: usize) -> PipelineConfig {
        let fused = self.fuses_stages(instruments);
        let wait_strategy = match &self.cores {
            Some(cores) if !cores.is_empty() => self.wait_strategy,
            _ if fused => self.wait_strategy,
            _ => self.wait_strategy.resolve(
                2 + self.consumers.min(instruments) + 1,
                std::thread::available_parallelism().map_or(1, usize::from),
            ),
        };
        PipelineConfig {
            wait_strategy,
            consumers: if fused { 1 } else { self.consumers },
            cores: self.cores.clone().unwrap_or_default(),
            inbound_ring_size: self.inbound_ring_size_for(instruments),
            outbound_ring_size: self.outbound_ring_size,
            batch_size: self.batch_size,
            fused,
        }
    }

    /// The fewest slots a ring may have.
    pub const MIN_RING_SIZE: usize = 64;
    /// The most slots one ring may have: 2^22 (4,194,304). At the widest slot (an outbound
    /// entry, 104 bytes) that is 416 MiB; an ingress ring (64-byte slots) is 256 MiB, an
    /// inbound ring (80-byte slots) 320 MiB.
    pub const MAX_RING_SIZE: usize = 1 << 22;
    /// The most inbound-ring slots all books together may have: 2^24 (16,777,216), 1.25 GiB
    /// at 80 bytes a slot. The default sizes stay within it up to 65,536 books; more books
    /// need a smaller `inbound_ring_size`.
    pub const MAX_INBOUND_SLOTS: usize = 1 << 24;
    /// The most book consumer threads.
    pub const MAX_CONSUMERS: usize = 64;
    /// The largest `batch_size`: 65,536 commands.
    pub const MAX_BATCH_SIZE: usize = 1 << 16;
    /// The longest `publish_timeout`: one hour (`None` waits without limit).
    pub const MAX_PUBLISH_TIMEOUT: Duration = Duration::from_secs(3600);
    /// The most snapshots `keep_snapshots` may keep: 10,000.
    pub const MAX_KEEP_SNAPSHOTS: usize = 10_000;
    /// The fewest and the most commands between automatic snapshots: 1 to 2^40.
    pub const SNAPSHOT_EVERY_RANGE: (u64, u64) = (1, 1 << 40);
    /// The smallest and the largest journal segment: 1 KiB to 4 GiB.
    pub const SEGMENT_BYTES_RANGE: (u64, u64) = (1 << 10, 1 << 32);

    /// Checks that the configuration can work for `instruments` books, every value
    /// within its bound (the associated constants above).
    ///
    /// # Errors
    ///
    /// [`OrderbookManagerError::Config`] naming the first value out of bounds, with the
    /// bound, or a core this process may not use ([`ConfigError::CoreNotAvailable`]).
    pub fn validate(&self, instruments: usize) -> Result<(), OrderbookManagerError> {
        self.check_bounds(instruments)?;
        if let Some(cores) = &self.cores {
            crate::pipeline::validate_cores(cores).map_err(OrderbookManagerError::from)?;
        }
        Ok(())
    }

    /// Every bound of [`ManagerConfig::validate`] but the cores' availability.
    fn check_bounds(&self, instruments: usize) -> Result<(), ConfigError> {
        let inbound = self.inbound_ring_size_for(instruments);
        for (field, value) in [
            ("ingress_ring_size", self.ingress_ring_size),
            ("inbound_ring_size", inbound),
            ("outbound_ring_size", self.outbound_ring_size),
        ] {
            if !value.is_power_of_two()
                || !(Self::MIN_RING_SIZE..=Self::MAX_RING_SIZE).contains(&value)
            {
                return Err(ConfigError::RingSize {
                    field,
                    value,
                    min: Self::MIN_RING_SIZE,
                    max: Self::MAX_RING_SIZE,
                });
            }
        }
        let total = inbound.saturating_mul(instruments);
        if total > Self::MAX_INBOUND_SLOTS {
            return Err(ConfigError::InboundSlots {
                books: instruments,
                slots: inbound,
                max: Self::MAX_INBOUND_SLOTS,
            });
        }
        in_range(
            "consumers",
            self.consumers as u64,
            1,
            Self::MAX_CONSUMERS as u64,
        )?;
        if self.stages == Stages::Fused && self.consumers > 1 {
            return Err(ConfigError::FusedConsumers {
                consumers: self.consumers,
            });
        }
        in_range(
            "batch_size",
            self.batch_size as u64,
            1,
            Self::MAX_BATCH_SIZE as u64,
        )?;
        if let Some(timeout) = self.publish_timeout
            && timeout > Self::MAX_PUBLISH_TIMEOUT
        {
            return Err(ConfigError::PublishTimeout {
                value: timeout,
                max: Self::MAX_PUBLISH_TIMEOUT,
            });
        }
        if let Some(cores) = &self.cores
            && cores.is_empty()
        {
            return Err(ConfigError::NoCores);
        }
        if let Some(journal) = &self.journal {
            let (min, max) = Self::SEGMENT_BYTES_RANGE;
            in_range("segment_bytes", journal.config.segment_bytes, min, max)?;
            if let Some(every) = journal.snapshot_every {
                let (min, max) = Self::SNAPSHOT_EVERY_RANGE;
                in_range("snapshot_every", every, min, max)?;
            }
            if let Some(keep) = journal.keep_snapshots {
                in_range(
                    "keep_snapshots",
                    keep as u64,
                    2,
                    Self::MAX_KEEP_SNAPSHOTS as u64,
                )?;
            }
        }
        Ok(())
    }
}

/// `Ok` if `min <= value <= max`, else [`ConfigError::OutOfRange`].
fn in_range(field: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

/// Why a [`ManagerConfig`] cannot work: a value out of its bound (the field, the value and
/// the bound), a core this process may not use, or an operation it does not provide for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A ring size that is not a power of two within the bounds.
    #[error("{field} {value} must be a power of two from {min} to {max} slots")]
    RingSize {
        /// The field (`ingress_ring_size`, `inbound_ring_size`, `outbound_ring_size`).
        field: &'static str,
        /// The size given.
        value: usize,
        /// [`ManagerConfig::MIN_RING_SIZE`].
        min: usize,
        /// [`ManagerConfig::MAX_RING_SIZE`].
        max: usize,
    },
    /// The books' inbound rings together would take more than the budget.
    #[error(
        "{books} books of {slots} inbound slots each is more than the {max} slots allowed in all: give a smaller inbound ring size"
    )]
    InboundSlots {
        /// How many books.
        books: usize,
        /// Slots in each book's inbound ring.
        slots: usize,
        /// [`ManagerConfig::MAX_INBOUND_SLOTS`].
        max: usize,
    },
    /// A count outside its inclusive range.
    #[error("{field} {value} is out of range: it must be at least {min} and at most {max}")]
    OutOfRange {
        /// The field (`consumers`, `batch_size`, `segment_bytes`, ...).
        field: &'static str,
        /// The value given.
        value: u64,
        /// The smallest allowed.
        min: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A publish timeout longer than [`ManagerConfig::MAX_PUBLISH_TIMEOUT`].
    #[error("publish_timeout {value:?} is longer than {max:?} (no timeout waits without limit)")]
    PublishTimeout {
        /// The timeout given.
        value: Duration,
        /// [`ManagerConfig::MAX_PUBLISH_TIMEOUT`].
        max: Duration,
    },
    /// `cores` is an empty list (`None` is how to ask for no pinning).
    #[error("the core list is empty")]
    NoCores,
    /// A core in `cores` is not one this process may run on.
    #[error("core {core} is not available to this process (allowed: {allowed:?})")]
    CoreNotAvailable {
        /// The first core that is not.
        core: usize,
        /// The cores this process may run on.
        allowed: Vec<usize>,
    },
    /// [`Stages::Fused`] runs every book on the one engine thread: more than one book
    /// consumer cannot be.
    #[error(
        "fused stages run every book on one thread: consumers must be 1, not {consumers} (or use pipelined stages)"
    )]
    FusedConsumers {
        /// The consumers asked for.
        consumers: usize,
    },
    /// A snapshot was asked of a manager without a journal.
    #[error("snapshots need a journal directory")]
    SnapshotsNeedJournal,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds_error(config: &ManagerConfig, instruments: usize) -> ConfigError {
        match config.validate(instruments) {
            Err(OrderbookManagerError::Config(e)) => e,
            other => panic!("expected a bound error, got {other:?}"),
        }
    }

    #[test]
    fn the_defaults_are_within_every_bound() {
        for instruments in [0, 1, 8, 1_000, 65_536] {
            ManagerConfig::default().validate(instruments).unwrap();
        }
        let largest = ManagerConfig::default().with_ring_size(ManagerConfig::MAX_RING_SIZE);
        largest.validate(1).unwrap();
    }

    #[test]
    fn a_ring_past_the_bound_is_refused_with_the_bound() {
        let huge = ManagerConfig::default().with_ring_size(1 << 40);
        let error = bounds_error(&huge, 1);
        assert_eq!(
            error,
            ConfigError::RingSize {
                field: "ingress_ring_size",
                value: 1 << 40,
                min: 64,
                max: 1 << 22,
            }
        );
        assert_eq!(
            error.to_string(),
            "ingress_ring_size 1099511627776 must be a power of two from 64 to 4194304 slots"
        );
        let outbound = ManagerConfig {
            outbound_ring_size: 1 << 23,
            ..ManagerConfig::default()
        };
        assert!(matches!(
            bounds_error(&outbound, 1),
            ConfigError::RingSize { field: "outbound_ring_size", value, .. } if value == 1 << 23
        ));
        for size in [32, 100, 0] {
            let config = ManagerConfig::default().with_ring_size(size);
            assert!(
                matches!(bounds_error(&config, 1), ConfigError::RingSize { value, .. } if value == size),
                "{size}"
            );
        }
    }

    #[test]
    fn the_books_inbound_rings_together_have_a_budget() {
        let error = bounds_error(&ManagerConfig::default(), 100_000);
        assert_eq!(
            error,
            ConfigError::InboundSlots {
                books: 100_000,
                slots: 256,
                max: 1 << 24,
            }
        );
        assert!(error.to_string().contains("16777216"), "{error}");
        let per_book = ManagerConfig::default().with_ring_size(8192);
        assert!(matches!(
            bounds_error(&per_book, 10_000),
            ConfigError::InboundSlots { slots: 8192, .. }
        ));
        ManagerConfig::default()
            .with_ring_size(64)
            .validate(100_000)
            .unwrap();
    }

    #[test]
    fn counts_and_durations_are_bounded() {
        let out_of_range = |config: ManagerConfig| bounds_error(&config, 4).to_string();
        let base = ManagerConfig::default;
        assert_eq!(
            out_of_range(ManagerConfig {
                consumers: 0,
                ..base()
            }),
            "consumers 0 is out of range: it must be at least 1 and at most 64"
        );
        assert!(
            out_of_range(ManagerConfig {
                consumers: 65,
                ..base()
            })
            .starts_with("consumers 65 ")
        );
        assert!(
            out_of_range(ManagerConfig {
                batch_size: 0,
                ..base()
            })
            .starts_with("batch_size 0 ")
        );
        assert!(
            out_of_range(ManagerConfig {
                batch_size: 1 << 17,
                ..base()
            })
            .contains("at most 65536")
        );
        assert_eq!(
            bounds_error(
                &ManagerConfig {
                    publish_timeout: Some(Duration::from_secs(7200)),
                    ..base()
                },
                4
            ),
            ConfigError::PublishTimeout {
                value: Duration::from_secs(7200),
                max: Duration::from_secs(3600),
            }
        );
        assert_eq!(
            bounds_error(
                &ManagerConfig {
                    cores: Some(Vec::new()),
                    ..base()
                },
                4
            ),
            ConfigError::NoCores
        );
    }

    #[test]
    fn a_core_this_process_may_not_use_is_a_config_error_naming_it() {
        let config = ManagerConfig::default().with_cores(Some(vec![usize::MAX]));
        match bounds_error(&config, 1) {
            ConfigError::CoreNotAvailable { core, allowed } => {
                assert_eq!(core, usize::MAX);
                assert_eq!(allowed, crate::pipeline::available_cores());
            }
            other => panic!("expected CoreNotAvailable, got {other:?}"),
        }
    }

    #[test]
    fn the_setters_set_their_field() {
        let journal = JournalOptions::new("j")
            .with_snapshot_every(Some(9))
            .with_keep_snapshots(Some(4))
            .with_recovery(RecoveryMode::PointInTime);
        let config = ManagerConfig::default()
            .with_wait_strategy(WaitStrategy::BusySpin)
            .with_consumers(3)
            .with_cores(Some(vec![0]))
            .with_ingress_ring_size(128)
            .with_inbound_ring_size(Some(256))
            .with_outbound_ring_size(512)
            .with_publish_timeout(None)
            .with_batch_size(7)
            .with_journal(Some(journal));
        assert_eq!(config.wait_strategy, WaitStrategy::BusySpin);
        assert_eq!(config.consumers, 3);
        assert_eq!(config.cores, Some(vec![0]));
        assert_eq!(
            (
                config.ingress_ring_size,
                config.inbound_ring_size,
                config.outbound_ring_size
            ),
            (128, Some(256), 512)
        );
        assert_eq!(config.publish_timeout, None);
        assert_eq!(config.batch_size, 7);
        let journal = config.journal.as_ref().unwrap();
        assert_eq!(journal.dir, PathBuf::from("j"));
        assert_eq!(journal.snapshot_every, Some(9));
        assert_eq!(journal.keep_snapshots, Some(4));
        assert_eq!(journal.recovery, RecoveryMode::PointInTime);
        let pipeline = config.pipeline(4);
        assert_eq!(pipeline.inbound_ring_size, 256);
        assert_eq!(pipeline.cores, vec![0]);
        assert_eq!(pipeline.batch_size, 7);
    }

    /// The default blocks where threads would share cores and spins where each has its
    /// own, per thread when they are pinned; a chosen strategy is kept whatever the cores.
    #[test]
    fn the_default_wait_blocks_where_threads_share_cores_and_spins_otherwise() {
        use WaitStrategy::BusySpin;
        const BLOCK: WaitStrategy = WaitStrategy::BLOCK;
        let pinned = |cores: Vec<usize>, consumers: usize| {
            ManagerConfig::default()
                .with_stages(Stages::Pipelined)
                .with_consumers(consumers)
                .with_cores(Some(cores))
        };
        assert_eq!(ManagerConfig::default().wait_strategy, WaitStrategy::Auto);
        // Sequencer, one consumer, event manager: the consumer alone on core 1.
        let two = pinned(vec![0, 1], 1);
        assert_eq!(two.effective_wait_strategies(8), [BLOCK, BusySpin, BLOCK]);
        let layout = two.pipeline(8);
        assert_eq!(
            (0..3).map(|t| layout.wait_for(t, 3)).collect::<Vec<_>>(),
            [BLOCK, BusySpin, BLOCK]
        );
        assert_eq!(
            pinned(vec![0, 1, 2], 1).effective_wait_strategies(8),
            [BusySpin; 3]
        );
        // Everything on one core, or a core listed twice.
        assert_eq!(pinned(vec![3], 1).effective_wait_strategies(8), [BLOCK; 3]);
        assert_eq!(
            pinned(vec![0, 1, 1], 1).effective_wait_strategies(8),
            [BusySpin, BLOCK, BLOCK]
        );
        // Consumers beyond the books do not run.
        assert_eq!(
            pinned(vec![0, 1, 2, 3], 4).effective_wait_strategies(2),
            [BusySpin; 4]
        );
        // Six threads on four cores, reused from the start: 0, 1, 2, 3, 0, 1.
        assert_eq!(
            pinned(vec![0, 1, 2, 3], 4).effective_wait_strategies(8),
            [BLOCK, BLOCK, BusySpin, BusySpin, BLOCK, BLOCK]
        );
        // Unpinned: the threads and their caller against the cores this process may use.
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let expected = if 3 + 1 > cores { BLOCK } else { BusySpin };
        let pipelined = ManagerConfig::default().with_stages(Stages::Pipelined);
        assert_eq!(pipelined.effective_wait_strategies(8), [expected; 3]);
        assert_eq!(pipelined.pipeline(8).wait_strategy, expected);
        // --wait overrides.
        for chosen in [WaitStrategy::YIELD, BusySpin, BLOCK] {
            let config = pinned(vec![0], 1).with_wait_strategy(chosen);
            assert_eq!(config.effective_wait_strategies(8), [chosen; 3]);
            let config = pinned(vec![0, 1, 2, 3], 1).with_wait_strategy(chosen);
            assert_eq!(config.effective_wait_strategies(8), [chosen; 3]);
            let config = ManagerConfig::default().with_wait_strategy(chosen);
            assert_eq!(config.pipeline(8).wait_strategy, chosen);
        }
    }

    /// Where one consumer's three threads would share cores, the default runs the stages
    /// on one thread, which blocks when idle, pinned (on the consumer's core) or not.
    #[test]
    fn the_default_fuses_where_the_stages_would_share_cores() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let default = ManagerConfig::default();
        assert_eq!(default.stages, Stages::Auto);
        assert_eq!(default.fuses_stages(8), 3 + 1 > cores);
        if default.fuses_stages(8) {
            assert_eq!(default.effective_wait_strategies(8), [WaitStrategy::BLOCK]);
            assert_eq!(default.pipeline(8).consumers, 1);
        }
        // Pinned: sequencer and event manager on core 0 with the consumer on 1 share.
        let two = ManagerConfig::default().with_cores(Some(vec![0, 1]));
        assert!(two.fuses_stages(8));
        assert_eq!(two.effective_wait_strategies(8), [WaitStrategy::BLOCK]);
        let layout = two.pipeline(8);
        assert!(layout.fused);
        assert_eq!(layout.fused_core(), Some(1));
        let one = ManagerConfig::default().with_cores(Some(vec![3]));
        assert_eq!(one.pipeline(8).fused_core(), Some(3));
        // Three cores for three threads, or two consumers: a thread per stage.
        let three = ManagerConfig::default().with_cores(Some(vec![0, 1, 2]));
        assert!(!three.fuses_stages(8));
        assert!(!two.clone().with_consumers(2).fuses_stages(8));
        // One book: the consumers are clamped to it, so one consumer's rule applies.
        assert!(two.clone().with_consumers(2).fuses_stages(1));
        // A chosen wait is the engine's.
        let chosen = two.with_wait_strategy(WaitStrategy::YIELD);
        assert_eq!(chosen.effective_wait_strategies(8), [WaitStrategy::YIELD]);
        // Fused is asked for: whatever the cores; with two consumers it is refused.
        let fused = ManagerConfig::default()
            .with_stages(Stages::Fused)
            .with_cores(Some(vec![0, 1, 2]));
        assert!(fused.fuses_stages(8));
        let error = bounds_error(&fused.with_consumers(2), 8);
        assert_eq!(error, ConfigError::FusedConsumers { consumers: 2 });
        assert_eq!(
            error.to_string(),
            "fused stages run every book on one thread: consumers must be 1, not 2 (or use pipelined stages)"
        );
    }

    #[test]
    fn journal_values_are_bounded() {
        let with = |f: &dyn Fn(&mut JournalOptions)| {
            let mut journal = JournalOptions::new("unused");
            f(&mut journal);
            ManagerConfig {
                journal: Some(journal),
                ..ManagerConfig::default()
            }
        };
        with(&|_| ()).validate(1).unwrap();
        type Change = dyn Fn(&mut JournalOptions);
        let cases: [(&Change, &str); 5] = [
            (&|j| j.snapshot_every = Some(0), "snapshot_every 0 "),
            (
                &|j| j.snapshot_every = Some(1 << 41),
                "snapshot_every 2199023255552 ",
            ),
            (
                &|j| j.keep_snapshots = Some(1),
                "keep_snapshots 1 is out of range: it must be at least 2",
            ),
            (&|j| j.config.segment_bytes = 10, "segment_bytes 10 "),
            (
                &|j| j.config.segment_bytes = 1 << 33,
                "segment_bytes 8589934592 ",
            ),
        ];
        for (change, expected) in cases {
            let message = bounds_error(&with(change), 1).to_string();
            assert!(message.starts_with(expected), "{message}");
        }
    }
}
