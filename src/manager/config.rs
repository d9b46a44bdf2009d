//! The manager's configuration.

use std::path::PathBuf;
use std::time::Duration;

use super::error::OrderbookManagerError;
use crate::journal::{JournalConfig, RecoveryMode};
use crate::pipeline::WaitStrategy;

/// Where and how the engine journals its input and takes snapshots.
#[derive(Clone, Debug)]
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
    pub fn new(dir: impl Into<PathBuf>) -> JournalOptions {
        JournalOptions {
            dir: dir.into(),
            config: JournalConfig::default(),
            snapshot_every: None,
            keep_snapshots: None,
            recovery: RecoveryMode::default(),
        }
    }
}

/// How the pipeline is laid out and how its threads wait.
///
/// # Examples
///
/// ```
/// use ringbook::{ManagerConfig, WaitStrategy};
///
/// let config = ManagerConfig {
///     consumers: 2,
///     wait_strategy: WaitStrategy::BusySpin,
///     cores: Some(vec![0, 1]),
///     ..ManagerConfig::default()
/// };
/// assert_eq!(config.inbound_ring_size_for(8), 8192);
/// assert_eq!(config.inbound_ring_size_for(1000), 256);
/// ```
#[derive(Clone, Debug)]
pub struct ManagerConfig {
    /// How idle pipeline threads wait. The default spins, yields, then sleeps.
    pub wait_strategy: WaitStrategy,
    /// How many book consumer threads; each owns a share of the books. Clamped to the
    /// number of instruments.
    pub consumers: usize,
    /// Cores to pin pipeline threads to, in the order sequencer, book consumers, event
    /// manager; the list is reused from its start when there are more threads than cores.
    /// `None`: no pinning.
    pub cores: Option<Vec<usize>>,
    /// Slots in the ingress ring (callers to sequencer). A power of two, at least 64.
    pub ingress_ring_size: usize,
    /// Slots in each book's inbound ring; `None` picks one from the instrument count
    /// (see [`ManagerConfig::inbound_ring_size_for`]). A power of two.
    pub inbound_ring_size: Option<usize>,
    /// Slots in the outbound ring (books to event manager). A power of two, at least 64.
    pub outbound_ring_size: usize,
    /// How long a caller waits for room in a full ingress ring before
    /// [`OrderbookManagerError::Timeout`]; `None` waits as long as it takes.
    pub publish_timeout: Option<Duration>,
    /// The most commands a consumer takes from one book's ring before it looks at its
    /// next book: the fairness bound between books sharing a thread.
    pub batch_size: usize,
    /// Journal every sequenced command (and take snapshots) here; `None`: no durability.
    pub journal: Option<JournalOptions>,
}

impl Default for ManagerConfig {
    fn default() -> ManagerConfig {
        ManagerConfig {
            wait_strategy: WaitStrategy::default(),
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
    pub fn inbound_ring_size_for(&self, instruments: usize) -> usize {
        self.inbound_ring_size.unwrap_or_else(|| {
            let share = (1usize << 16) / instruments.max(1);
            // The power of two at or below the share, so the total stays within budget.
            (1usize << (usize::BITS - 1 - share.max(1).leading_zeros())).clamp(256, 1 << 13)
        })
    }

    /// Sets every ring (ingress, each inbound, outbound) to `size` slots.
    pub fn with_ring_size(mut self, size: usize) -> ManagerConfig {
        self.ingress_ring_size = size;
        self.inbound_ring_size = Some(size);
        self.outbound_ring_size = size;
        self
    }

    /// Checks that the configuration can work.
    ///
    /// # Errors
    ///
    /// [`OrderbookManagerError::InvalidConfig`] naming the first problem found.
    pub fn validate(&self, instruments: usize) -> Result<(), OrderbookManagerError> {
        let bad = |msg: String| Err(OrderbookManagerError::InvalidConfig(msg));
        for (name, size, min) in [
            ("ingress ring size", self.ingress_ring_size, 64),
            ("outbound ring size", self.outbound_ring_size, 64),
            (
                "inbound ring size",
                self.inbound_ring_size_for(instruments),
                2,
            ),
        ] {
            if !size.is_power_of_two() || size < min {
                return bad(format!(
                    "{name} {size} must be a power of two, at least {min}"
                ));
            }
        }
        if self.consumers == 0 && instruments > 0 {
            return bad("at least one book consumer thread is needed".into());
        }
        if self.batch_size == 0 {
            return bad("batch size must be at least 1".into());
        }
        if let Some(keep) = self.journal.as_ref().and_then(|j| j.keep_snapshots)
            && keep < 2
        {
            return bad(format!(
                "keep_snapshots {keep}: keep at least 2 snapshots, so a damaged newest one leaves a fallback"
            ));
        }
        if let Some(cores) = &self.cores {
            if cores.is_empty() {
                return bad("the core list is empty".into());
            }
            crate::pipeline::validate_cores(cores)?;
        }
        Ok(())
    }
}
