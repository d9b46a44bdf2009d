//! The counting subscriber: events by type, readable from any thread while running.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{PublishedEvent, Subscriber};
use crate::result::OrderbookResult;

/// Event counts by type, shared between the subscriber and its readers.
#[derive(Debug, Default)]
pub struct EventCounters {
    counts: [AtomicU64; 12],
}

/// A copy of the counts at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// `accepted` events.
    pub accepted: u64,
    /// `rejected` events.
    pub rejected: u64,
    /// `trade` events.
    pub trades: u64,
    /// `cancelled` events.
    pub cancelled: u64,
    /// `expired` events.
    pub expired: u64,
    /// `modified` events.
    pub modified: u64,
    /// `halted` events.
    pub halted: u64,
    /// `resumed` events.
    pub resumed: u64,
    /// `status` events.
    pub status: u64,
    /// `snapshot` events.
    pub snapshots: u64,
    /// `triggered` events (long form).
    pub triggered: u64,
    /// `mass_cancelled` events (long form).
    pub mass_cancelled: u64,
}

impl CounterSnapshot {
    /// Every event counted.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.accepted
            + self.rejected
            + self.trades
            + self.cancelled
            + self.expired
            + self.modified
            + self.halted
            + self.resumed
            + self.status
            + self.snapshots
            + self.triggered
            + self.mass_cancelled
    }

    /// The non-zero counts as `(type, count)` pairs, in the flow format's order.
    #[must_use]
    pub fn by_type(&self) -> Vec<(&'static str, u64)> {
        [
            ("accepted", self.accepted),
            ("rejected", self.rejected),
            ("trade", self.trades),
            ("cancelled", self.cancelled),
            ("expired", self.expired),
            ("modified", self.modified),
            ("halted", self.halted),
            ("resumed", self.resumed),
            ("status", self.status),
            ("snapshot", self.snapshots),
            ("triggered", self.triggered),
            ("mass_cancelled", self.mass_cancelled),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

impl EventCounters {
    fn index(result: &OrderbookResult) -> usize {
        match result {
            OrderbookResult::Accepted { .. } => 0,
            OrderbookResult::Rejected { .. } => 1,
            OrderbookResult::Trade { .. } => 2,
            OrderbookResult::Cancelled { .. } => 3,
            OrderbookResult::Expired { .. } => 4,
            OrderbookResult::Modified { .. } => 5,
            OrderbookResult::Halted { .. } => 6,
            OrderbookResult::Resumed { .. } => 7,
            OrderbookResult::Status { .. } => 8,
            OrderbookResult::Snapshot { .. } => 9,
            OrderbookResult::Triggered { .. } => 10,
            OrderbookResult::MassCancelled { .. } => 11,
        }
    }

    /// The counts now.
    pub fn snapshot(&self) -> CounterSnapshot {
        let c = |i: usize| self.counts[i].load(Ordering::Relaxed);
        CounterSnapshot {
            accepted: c(0),
            rejected: c(1),
            trades: c(2),
            cancelled: c(3),
            expired: c(4),
            modified: c(5),
            halted: c(6),
            resumed: c(7),
            status: c(8),
            snapshots: c(9),
            triggered: c(10),
            mass_cancelled: c(11),
        }
    }
}

/// Counts every event by type into shared [`EventCounters`].
///
/// # Examples
///
/// ```
/// use ringbook::CountingSubscriber;
///
/// let subscriber = CountingSubscriber::new();
/// let counters = subscriber.counters(); // keep this to read while the engine runs
/// assert_eq!(counters.snapshot().total(), 0);
/// ```
#[derive(Debug, Default)]
pub struct CountingSubscriber {
    counters: Arc<EventCounters>,
}

impl CountingSubscriber {
    /// A subscriber with fresh counters.
    #[must_use]
    pub fn new() -> CountingSubscriber {
        CountingSubscriber::default()
    }

    /// The shared counters, to read from any thread.
    #[must_use]
    pub fn counters(&self) -> Arc<EventCounters> {
        Arc::clone(&self.counters)
    }
}

impl Subscriber for CountingSubscriber {
    #[inline]
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        // Only the event manager thread writes: a relaxed load and store is enough and
        // avoids a locked read-modify-write per event.
        let counter = &self.counters.counts[EventCounters::index(event.result)];
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    fn name(&self) -> &str {
        "counters"
    }
}
