//! The probe: a subscriber that counts outcomes and records each new order's latency from
//! its intended send time to the moment the event manager sees its first event.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use uuid::Uuid;

use crate::nanos_since;
use ringbook::Op;
use ringbook::OrderbookResult;
use ringbook::{PublishedEvent, Subscriber};

/// What the probe shares with the driving thread.
pub(crate) struct ProbeShared {
    /// Commands whose outcome (first event) has been seen.
    pub(crate) outcomes: AtomicU64,
    /// When the last batch of events was seen, in ns since the run's base instant.
    pub(crate) last_event_ns: AtomicU64,
    /// The histogram, handed back when the engine finishes the probe.
    pub(crate) histogram: Mutex<Option<Histogram<u64>>>,
}

/// Open loop's intended send times, worked out rather than written down: the sender
/// sends command `i` (after the warm-up) at `start + (i - warmup) * step`, so the probe
/// needs no per-order store from the sender. Such a store, a few adds to a cache line
/// that the probe reads right after the engine applies each add, moved the line between
/// the cores on every new order when the engine kept up, and the sender's next locked
/// instruction waited for it: on the 2-core machine an open-loop sender then stalled at
/// about 4.6 M commands/s feeding the fused engine.
pub(crate) struct Schedule {
    /// When the first measured command is due, ns since the run's base; set by the sender
    /// before it sends it (0 until then).
    pub(crate) start_ns: Arc<AtomicU64>,
    /// Nanoseconds between two commands.
    pub(crate) step_ns: f64,
    /// Commands before the measured part.
    pub(crate) warmup: usize,
    /// The command index of each add.
    pub(crate) add_command: Arc<[u32]>,
}

impl Schedule {
    /// When the add numbered `add` (a measured one) was due, as the sender computes it.
    #[inline]
    pub(crate) fn due(&self, add: usize) -> u64 {
        let start = self.start_ns.load(Ordering::Acquire);
        let index = self.add_command[add] as usize;
        due_at(start, index - self.warmup, self.step_ns)
    }
}

/// When measured command `k` (from 0) is due, `step_ns` apart from `start_ns`: the one rule
/// the sender paces by and the probe measures from.
#[inline]
pub(crate) fn due_at(start_ns: u64, k: usize, step_ns: f64) -> u64 {
    start_ns + (k as f64 * step_ns) as u64
}

/// The latency probe subscriber.
pub(crate) struct Probe {
    shared: Arc<ProbeShared>,
    histogram: Histogram<u64>,
    /// Each timed new order's intended send time, ns since `base`, at its add index
    /// shifted right by `stride_shift` (written by the sender before it sends the order).
    intended: Arc<[AtomicU64]>,
    /// Open loop: the intended send times worked out, `intended` unused.
    schedule: Option<Schedule>,
    /// How many adds the workload has (order ids `1..=adds`).
    adds: usize,
    /// Adds before this index are warm-up: not recorded.
    first_measured_add: usize,
    /// The sampling stride less one (the stride is a power of two): only adds whose index
    /// is a multiple of the stride are timed, and the others are passed over without a
    /// read of `intended` (which would miss the cache for every new order).
    stride_mask: usize,
    /// The stride's logarithm: a timed add's slot in `intended` is its index shifted by it.
    stride_shift: u32,
    base: Instant,
    outcomes: u64,
}

impl Probe {
    pub(crate) fn new(
        intended: Arc<[AtomicU64]>,
        schedule: Option<Schedule>,
        adds: usize,
        first_measured_add: usize,
        stride: usize,
        base: Instant,
    ) -> (Probe, Arc<ProbeShared>) {
        assert!(stride.is_power_of_two(), "a sampling stride of {stride}");
        let shared = Arc::new(ProbeShared {
            outcomes: AtomicU64::new(0),
            last_event_ns: AtomicU64::new(0),
            histogram: Mutex::new(None),
        });
        let probe = Probe {
            shared: Arc::clone(&shared),
            // 1 ns to 100 s at 3 significant digits.
            histogram: Histogram::new_with_bounds(1, 100_000_000_000, 3)
                .expect("valid histogram bounds"),
            intended,
            schedule,
            adds,
            first_measured_add,
            stride_mask: stride - 1,
            stride_shift: stride.trailing_zeros(),
            base,
            outcomes: 0,
        };
        (probe, shared)
    }

    #[inline]
    fn now_ns(&self) -> u64 {
        nanos_since(self.base)
    }
}

/// Whether `result` is a command's outcome (its first event) rather than a trade or
/// expiry following it.
#[inline]
fn is_outcome(result: &OrderbookResult) -> bool {
    !matches!(
        result,
        OrderbookResult::Trade { .. } | OrderbookResult::Expired { .. }
    )
}

impl Subscriber for Probe {
    #[inline]
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        // Worked out without a branch on the kind of result (a `match` that returned early
        // for each kind was mispredicted about every other event in the random mix of
        // results, in callgrind's branch simulation). The first test below is the stride,
        // which turns away all other events and seven adds in eight alike, so it is
        // predicted; the range is tested only for the adds left.
        let result = event.result;
        self.outcomes += u64::from(is_outcome(result));
        // Two references chosen, then read: each `match` is a select of addresses on its
        // own, and `black_box` keeps the compiler from merging them back into one branch
        // on the kind of result. (Rejects are rare, so a branch there would be predicted.)
        const NONE: Uuid = Uuid::max();
        let accepted: &Uuid = match result {
            OrderbookResult::Accepted { order_id, .. } => order_id,
            _ => &NONE,
        };
        let rejected_add: &Uuid = match std::hint::black_box(result) {
            OrderbookResult::Rejected {
                op: Op::Add,
                order_id: Some(order_id),
                ..
            } => order_id,
            _ => &NONE,
        };
        // Order ids are `1..=adds`. Any other event gives the all-ones id: its add index,
        // all ones but the lowest bit, fails the stride test for any stride above two and
        // the range test always.
        let add = (accepted.as_u128() & rejected_add.as_u128()).wrapping_sub(1);
        if add as usize & self.stride_mask != 0 {
            // Not timed (closed loop times one add in `CLOSED_LOOP_SAMPLE`), or not an add.
            return;
        }
        if add >= self.adds as u128 || add < self.first_measured_add as u128 {
            // Not a new order's outcome, or warm-up.
            return;
        }
        let add = add as usize;
        let sent = match &self.schedule {
            Some(schedule) => schedule.due(add).max(1),
            None => self.intended[add >> self.stride_shift].load(Ordering::Relaxed),
        };
        if sent == 0 {
            return;
        }
        let latency = self.now_ns().saturating_sub(sent).max(1);
        self.histogram.saturating_record(latency);
    }

    fn on_batch_end(&mut self) {
        self.shared.outcomes.store(self.outcomes, Ordering::Release);
        let now = self.now_ns();
        self.shared.last_event_ns.store(now, Ordering::Release);
    }

    fn finish(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.shared.outcomes.store(self.outcomes, Ordering::Release);
        *self.shared.histogram.lock() = Some(self.histogram.clone());
        Ok(())
    }

    fn name(&self) -> &str {
        "latency-probe"
    }
}
