//! When the feed last sent a datagram, readable without the core's lock.
//!
//! The feed thread sends a heartbeat after a silence of the configured interval. It used
//! to wake every 50 ms and take the core's lock to read the time of the last send; with the
//! event manager publishing inline under the same lock, each of those wakes could meet the
//! lock held and spin and yield for it, and a thread woken on a machine whose cores are all
//! busy takes one from the engine. Measured at 100 k commands/s with the engine and the
//! receiver each on a core: the feed thread was switched in 73 times a second, each time
//! preempting the engine or the receiver for up to 300 us (perf/LOG.md, "Issue 20: the
//! fill-to-receiver tail"). Now every send stores its time here, and the feed thread sleeps
//! until the interval after it, taking the lock only when a heartbeat is due.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The time of the last send, in nanoseconds since the clock was made.
#[derive(Debug)]
pub(crate) struct SendClock {
    base: Instant,
    last_ns: AtomicU64,
}

impl SendClock {
    /// A clock whose last send is now.
    pub(crate) fn new() -> SendClock {
        SendClock {
            base: Instant::now(),
            last_ns: AtomicU64::new(0),
        }
    }

    /// Records a send, now.
    #[inline]
    pub(crate) fn sent(&self) {
        // Relaxed: the value is a time read on its own, guarding no other data (the feed
        // thread takes the core's lock before it sends on the strength of it).
        self.last_ns.store(self.now_ns(), Ordering::Relaxed);
    }

    /// How long since the last send.
    pub(crate) fn silent_for(&self) -> Duration {
        let last = self.last_ns.load(Ordering::Relaxed);
        Duration::from_nanos(self.now_ns().saturating_sub(last))
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// How long the feed thread may sleep before a heartbeat is due: the rest of `interval`
/// after a silence of `silent`, or the whole interval when one is due now (it is sent
/// before the thread sleeps again).
pub(crate) fn until_heartbeat(interval: Duration, silent: Duration) -> Duration {
    interval
        .checked_sub(silent)
        .filter(|d| !d.is_zero())
        .unwrap_or(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_restarts_the_silence() {
        let clock = SendClock::new();
        std::thread::sleep(Duration::from_millis(20));
        assert!(clock.silent_for() >= Duration::from_millis(20));
        clock.sent();
        assert!(clock.silent_for() < Duration::from_millis(20));
    }

    #[test]
    fn the_thread_sleeps_the_rest_of_the_interval() {
        let second = Duration::from_secs(1);
        assert_eq!(
            until_heartbeat(second, Duration::from_millis(300)),
            Duration::from_millis(700)
        );
        assert_eq!(until_heartbeat(second, Duration::ZERO), second);
        // Due (or overdue): the heartbeat goes first, then a whole interval.
        assert_eq!(until_heartbeat(second, second), second);
        assert_eq!(until_heartbeat(second, 3 * second), second);
    }
}
