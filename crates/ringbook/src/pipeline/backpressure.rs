//! Backpressure: how often a producer found its ring full, and how long it waited.
//!
//! A full ring under load is the pipeline working as designed (the producer waits for its
//! consumer, nothing is dropped), so it is counted, not warned about: each wait is logged
//! at debug and counted per ring, and only a wait that lasts past [`STALL`] (a consumer
//! that has stopped keeping up at all) is a warning. The counters are touched only when a
//! publish finds its ring full, never on the path of a publish that fits.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long one wait on a full ring may last before it is logged as a stall (a warning).
pub(crate) const STALL: Duration = Duration::from_secs(1);

/// The rings a producer can find full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ring {
    /// The callers' ring into the sequencer.
    Ingress,
    /// A book's ring from the sequencer to its consumer.
    Inbound,
    /// The ring from the book consumers to the event manager.
    Outbound,
}

impl Ring {
    const ALL: [Ring; 3] = [Ring::Ingress, Ring::Inbound, Ring::Outbound];

    /// The ring's name in logs and summaries.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ring::Ingress => "ingress",
            Ring::Inbound => "inbound",
            Ring::Outbound => "outbound",
        }
    }
}

/// One ring's counters.
#[derive(Default)]
struct RingCounters {
    waits: AtomicU64,
    longest_ns: AtomicU64,
}

/// The full-ring counters of one pipeline, shared by every producer (callers included).
#[derive(Default)]
pub(crate) struct BackpressureCounters {
    rings: [RingCounters; Ring::ALL.len()],
}

impl BackpressureCounters {
    fn ring(&self, ring: Ring) -> &RingCounters {
        &self.rings[ring as usize]
    }

    /// The counters as they stand.
    pub(crate) fn snapshot(&self) -> Backpressure {
        let read = |ring: Ring| {
            let counters = self.ring(ring);
            RingWaits {
                waits: counters.waits.load(Ordering::Relaxed),
                longest: Duration::from_nanos(counters.longest_ns.load(Ordering::Relaxed)),
            }
        };
        Backpressure {
            ingress: read(Ring::Ingress),
            inbound: read(Ring::Inbound),
            outbound: read(Ring::Outbound),
        }
    }
}

/// Full-ring waits of one ring (for the inbound rings, of every book's together).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingWaits {
    /// Publishes that found the ring full and waited for room.
    pub waits: u64,
    /// The longest of those waits (a wait still going on is not in it yet).
    pub longest: Duration,
}

/// Backpressure in a pipeline: how often each ring's producers found it full, and the
/// longest wait, since the manager was built. Expected under a load the consumers cannot
/// keep up with (a benchmark, a replay); a single wait past a second is also logged as a
/// warning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backpressure {
    /// The callers' ring into the sequencer.
    pub ingress: RingWaits,
    /// The books' rings from the sequencer to their consumers.
    pub inbound: RingWaits,
    /// The ring from the book consumers to the event manager.
    pub outbound: RingWaits,
}

impl Backpressure {
    /// Full-ring waits on every ring together.
    #[must_use]
    pub fn total_waits(&self) -> u64 {
        self.ingress.waits + self.inbound.waits + self.outbound.waits
    }
}

impl fmt::Display for Backpressure {
    /// `full-ring waits: ingress 12 (longest 1.2ms), inbound 0, outbound 3 (longest 40µs)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("full-ring waits:")?;
        let rings = [
            (Ring::Ingress, self.ingress),
            (Ring::Inbound, self.inbound),
            (Ring::Outbound, self.outbound),
        ];
        for (i, (ring, counts)) in rings.into_iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{} {}", ring.name(), counts.waits)?;
            if counts.waits > 0 {
                write!(f, " (longest {:.1?})", counts.longest)?;
            }
        }
        Ok(())
    }
}

/// One wait on a full ring, from the publish that found it full to the one that found
/// room: counted when it begins, its length recorded when it ends, and reported as a
/// stall once if it goes on past [`STALL`].
pub(crate) struct FullRingWait<'c> {
    counters: &'c BackpressureCounters,
    ring: Ring,
    started: Instant,
    stalled: bool,
}

impl<'c> FullRingWait<'c> {
    /// A wait on `ring` beginning now.
    #[cold]
    pub(crate) fn begin(counters: &'c BackpressureCounters, ring: Ring) -> FullRingWait<'c> {
        FullRingWait::begin_at(counters, ring, Instant::now())
    }

    fn begin_at(counters: &'c BackpressureCounters, ring: Ring, now: Instant) -> FullRingWait<'c> {
        counters.ring(ring).waits.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(ring = ring.name(), "ring full: waiting for room");
        FullRingWait {
            counters,
            ring,
            started: now,
            stalled: false,
        }
    }

    /// How long the wait has lasted, the first time it is past [`STALL`]; `None` before
    /// and after that (a stall is reported once).
    pub(crate) fn stalled(&mut self) -> Option<Duration> {
        self.stalled_at(Instant::now())
    }

    fn stalled_at(&mut self, now: Instant) -> Option<Duration> {
        let waited = now.saturating_duration_since(self.started);
        if self.stalled || waited <= STALL {
            return None;
        }
        self.stalled = true;
        Some(waited)
    }

    /// The ring found room: records the wait's length.
    pub(crate) fn end(self) {
        self.end_at(Instant::now());
    }

    fn end_at(self, now: Instant) {
        let waited = now.saturating_duration_since(self.started);
        let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.counters
            .ring(self.ring)
            .longest_ns
            .fetch_max(nanos, Ordering::Relaxed);
        tracing::debug!(ring = self.ring.name(), ?waited, "ring full: room found");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_counted_when_it_begins_and_its_length_when_it_ends() {
        let counters = BackpressureCounters::default();
        let t0 = Instant::now();
        let wait = FullRingWait::begin_at(&counters, Ring::Outbound, t0);
        assert_eq!(counters.snapshot().outbound.waits, 1);
        assert_eq!(counters.snapshot().outbound.longest, Duration::ZERO);
        wait.end_at(t0 + Duration::from_millis(30));
        FullRingWait::begin_at(&counters, Ring::Outbound, t0).end_at(t0 + Duration::from_millis(5));
        FullRingWait::begin_at(&counters, Ring::Inbound, t0).end_at(t0 + Duration::from_millis(7));
        let snapshot = counters.snapshot();
        assert_eq!(
            snapshot.outbound,
            RingWaits {
                waits: 2,
                longest: Duration::from_millis(30)
            }
        );
        assert_eq!(
            snapshot.inbound,
            RingWaits {
                waits: 1,
                longest: Duration::from_millis(7)
            }
        );
        assert_eq!(snapshot.ingress, RingWaits::default());
        assert_eq!(snapshot.total_waits(), 3);
    }

    #[test]
    fn a_stall_is_reported_once_past_a_second_and_not_before() {
        let counters = BackpressureCounters::default();
        let t0 = Instant::now();
        let mut wait = FullRingWait::begin_at(&counters, Ring::Inbound, t0);
        assert_eq!(wait.stalled_at(t0 + Duration::from_millis(10)), None);
        assert_eq!(wait.stalled_at(t0 + STALL), None, "exactly the threshold");
        let past = STALL + Duration::from_millis(1);
        assert_eq!(wait.stalled_at(t0 + past), Some(past));
        assert_eq!(wait.stalled_at(t0 + 3 * STALL), None, "reported once");
    }

    #[test]
    fn the_summary_line_names_each_ring_and_the_longest_wait() {
        let backpressure = Backpressure {
            ingress: RingWaits {
                waits: 12,
                longest: Duration::from_micros(1200),
            },
            inbound: RingWaits::default(),
            outbound: RingWaits {
                waits: 3,
                longest: Duration::from_micros(40),
            },
        };
        assert_eq!(
            backpressure.to_string(),
            "full-ring waits: ingress 12 (longest 1.2ms), inbound 0, outbound 3 (longest 40.0µs)"
        );
    }
}
