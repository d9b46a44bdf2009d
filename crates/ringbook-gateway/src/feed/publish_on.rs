//! Which thread publishes, and the rule by which [`PublishOn::Auto`] chooses, batch by
//! batch, between publishing inline and handing the batch to the feed's thread.
//!
//! Order stays exact across switches: a batch (or its rest) is handed over only as a
//! whole, the feed thread publishes and flushes batches in the order they were handed
//! over, and the event manager publishes inline only while no batch it handed over is
//! still unpublished (a counter it raises before each hand-off and the feed thread lowers
//! under the core's lock after publishing and flushing one). So a batch is never
//! published after a later one, and an inline event never lands in the middle of a
//! handed-over batch's packets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The default for [`FeedConfig::auto_inline_events`](super::FeedConfig::auto_inline_events):
/// at 100,000 commands/s a batch holds a few events, and one of 256 means the engine
/// stalled for a millisecond or more; flat out the feed thread stays behind, so batches
/// are handed over whole and the limit costs the engine nothing measurable (64, 256 and
/// 1,024 measured alike; 4,096 kept 96% of batches inline: BENCHMARKS.md, "Market data").
pub const DEFAULT_AUTO_INLINE_EVENTS: usize = 256;

/// Which thread translates, packs and sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublishOn {
    /// Chosen batch by batch (the default), with the event manager's batches as the
    /// load signal: a batch is published inline unless a batch handed over is still
    /// unpublished (then it is handed over whole), or the batch before it was long (at
    /// least [`FeedConfig::auto_inline_events`] events that make messages) and followed
    /// its own predecessor within [`FeedConfig::auto_busy_gap`], the event manager busy
    /// (then it publishes that many inline and hands its rest over). At a light load
    /// batches are short, and a long one comes after an idle wait (a stall), so
    /// everything is inline; flat out long batches follow each other and the feed thread
    /// publishes nearly everything beside the engine. The datagrams are the same as
    /// either way.
    ///
    /// [`FeedConfig::auto_inline_events`]: super::FeedConfig::auto_inline_events
    /// [`FeedConfig::auto_busy_gap`]: super::FeedConfig::auto_busy_gap
    #[default]
    Auto,
    /// Always the engine's event manager thread, inline: no extra thread to wake and the
    /// fewest CPU cycles per event in all, so the lowest latency from fill to receiver;
    /// but the engine spends the whole publishing time (translation, and the kernel's work
    /// per datagram), so flat out it matches more slowly (59% of its feed-off rate at
    /// 1,400-byte packets on the 2-core machine, BENCHMARKS.md, "Market data").
    EventManager,
    /// Always the feed's own thread: the event manager only copies each event into a batch
    /// and hands whole batches over; translation, packing and sending run beside the
    /// engine. Fast for the engine flat out, but one more thread to wake per batch: where
    /// cores are short fills reach a receiver milliseconds later at p90 and p99.
    FeedThread,
}

/// The hand-offs not yet published, shared by the event manager (which raises it) and the
/// feed thread (which lowers it under the core's lock, after publishing and flushing).
#[derive(Clone, Debug, Default)]
pub(crate) struct Pending(Arc<AtomicUsize>);

impl Pending {
    /// A batch is about to be handed over.
    pub(crate) fn handing_over(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// A handed-over batch was published and its packets sent (call under the core's lock).
    pub(crate) fn published(&self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether every handed-over batch was published: what is published next goes after
    /// all of it.
    pub(crate) fn none(&self) -> bool {
        self.0.load(Ordering::Acquire) == 0
    }
}

/// Where the current batch's next event goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Published at once, on the event manager thread.
    Inline,
    /// Put in the batch for the feed thread.
    HandOver,
}

/// The default for [`FeedConfig::auto_busy_gap`](super::FeedConfig::auto_busy_gap): how
/// soon after the previous batch a batch must start for the event manager to count as
/// busy. Flat out it goes from one batch to the next at once (or after a park and a wake,
/// tens of microseconds); at a light load a long batch comes after an idle wait of a
/// millisecond or more (a batch of 256 events at 100,000 commands/s gathers for about
/// that long).
pub const DEFAULT_AUTO_BUSY_GAP: Duration = Duration::from_micros(200);

/// [`PublishOn::Auto`]'s rule, one batch at a time.
///
/// A batch of at least `limit` events is a sign of load only when the event manager went
/// to it straight from the batch before (within the busy gap): flat out every batch is
/// long and follows the last at once, while at a light load a long batch is a stall (the
/// engine descheduled, or the machine's other work) after an idle wait, followed by short
/// ones. So only after a long batch that began within the busy gap is the next inline up
/// to the limit and its rest handed over; otherwise a batch is published inline whole
/// (handing it over would wake the feed thread just when the scheduler is slow, and every
/// batch after it would wait for that thread).
#[derive(Debug)]
pub(crate) struct AutoSwitch {
    /// The most events a batch publishes inline after a long batch.
    limit: usize,
    /// Events that make messages published inline in this batch.
    inline: usize,
    /// Events that make messages in this batch, wherever they went.
    events: usize,
    /// Whether the rest of this batch is handed over.
    handing: bool,
    /// Whether the batch before this one had at least `limit` events and followed its
    /// own predecessor at once.
    long_before: bool,
    /// The longest wait between two batches of a busy event manager.
    busy_gap: Duration,
    /// Whether this batch followed the one before at once (within `busy_gap`).
    busy: bool,
}

impl AutoSwitch {
    pub(crate) fn new(limit: usize, busy_gap: Duration) -> AutoSwitch {
        AutoSwitch {
            limit,
            inline: 0,
            events: 0,
            handing: false,
            long_before: false,
            busy_gap,
            busy: false,
        }
    }

    /// Whether the next event is the batch's first.
    #[inline]
    pub(crate) fn at_batch_start(&self) -> bool {
        self.events == 0
    }

    /// The batch's first event came `gap` after the previous batch ended (`None`: there
    /// was none).
    pub(crate) fn start(&mut self, gap: Option<Duration>) {
        self.busy = gap.is_some_and(|gap| gap <= self.busy_gap);
    }

    /// Where the next event of the batch that makes messages goes: handed over if,
    /// at the batch's first event, a batch handed over is unpublished (only this thread
    /// hands over, so nothing can be handed over later in the batch behind its back), or
    /// once the batch published the limit inline after a long batch; inline otherwise.
    #[inline]
    pub(crate) fn route(&mut self, pending: &Pending) -> Route {
        self.events += 1;
        if self.handing {
            return Route::HandOver;
        }
        let first = self.events == 1;
        if (first && !pending.none()) || (self.long_before && self.inline >= self.limit) {
            self.handing = true;
            return Route::HandOver;
        }
        self.inline += 1;
        Route::Inline
    }

    /// Whether this batch published anything inline.
    pub(crate) fn published_inline(&self) -> bool {
        self.inline > 0
    }

    /// Whether this batch handed anything over.
    pub(crate) fn handed_over(&self) -> bool {
        self.handing
    }

    /// The batch ended: the next starts inline again (if nothing is pending then), and
    /// splits at the limit if this one was long.
    pub(crate) fn batch_end(&mut self) {
        self.long_before = self.busy && self.events >= self.limit && self.events > 0;
        self.inline = 0;
        self.events = 0;
        self.handing = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUSY_GAP: Duration = DEFAULT_AUTO_BUSY_GAP;

    /// Routes a batch of `events` events, started right after the one before (the event
    /// manager busy); returns how many went inline.
    fn batch(switch: &mut AutoSwitch, pending: &Pending, events: usize) -> usize {
        switch.start(Some(Duration::ZERO));
        let inline = (0..events)
            .filter(|_| switch.route(pending) == Route::Inline)
            .count();
        switch.batch_end();
        inline
    }

    #[test]
    fn a_long_batch_after_a_short_one_is_published_inline_whole() {
        let pending = Pending::default();
        let mut switch = AutoSwitch::new(3, BUSY_GAP);
        assert_eq!(batch(&mut switch, &pending, 2), 2);
        assert_eq!(batch(&mut switch, &pending, 10), 10);
    }

    #[test]
    fn after_a_long_batch_the_next_goes_inline_up_to_the_limit_then_hands_over_its_rest() {
        let pending = Pending::default();
        let mut switch = AutoSwitch::new(3, BUSY_GAP);
        assert_eq!(batch(&mut switch, &pending, 3), 3);
        switch.start(Some(BUSY_GAP));
        let routes: Vec<_> = (0..5).map(|_| switch.route(&pending)).collect();
        assert_eq!(
            routes,
            [
                Route::Inline,
                Route::Inline,
                Route::Inline,
                Route::HandOver,
                Route::HandOver
            ]
        );
        assert!(switch.published_inline() && switch.handed_over());
        switch.batch_end();
        // Long again: the next splits too; a short one ends the run of long batches.
        assert_eq!(batch(&mut switch, &pending, 5), 3);
        assert_eq!(batch(&mut switch, &pending, 1), 1);
        assert_eq!(batch(&mut switch, &pending, 5), 5);
    }

    #[test]
    fn a_long_batch_after_an_idle_wait_is_a_stall_not_load() {
        let pending = Pending::default();
        let mut switch = AutoSwitch::new(3, BUSY_GAP);
        for gap in [None, Some(BUSY_GAP + Duration::from_nanos(1))] {
            assert_eq!(batch(&mut switch, &pending, 1), 1);
            switch.start(gap);
            for _ in 0..10 {
                assert_eq!(switch.route(&pending), Route::Inline);
            }
            switch.batch_end();
            // The next is published inline whole too.
            assert_eq!(batch(&mut switch, &pending, 5), 5);
        }
    }

    #[test]
    fn a_batch_is_handed_over_whole_while_an_earlier_hand_off_is_unpublished() {
        let pending = Pending::default();
        let mut switch = AutoSwitch::new(3, BUSY_GAP);
        pending.handing_over();
        assert_eq!(switch.route(&pending), Route::HandOver);
        // Published meanwhile: the rest of this batch still follows the first part.
        pending.published();
        assert_eq!(switch.route(&pending), Route::HandOver);
        assert!(!switch.published_inline());
        switch.batch_end();
        assert_eq!(switch.route(&pending), Route::Inline);
    }

    #[test]
    fn a_limit_of_zero_hands_every_batch_after_the_first_over() {
        let pending = Pending::default();
        let mut switch = AutoSwitch::new(0, BUSY_GAP);
        assert_eq!(batch(&mut switch, &pending, 2), 2);
        assert_eq!(batch(&mut switch, &pending, 2), 0);
        assert_eq!(batch(&mut switch, &pending, 1), 0);
    }
}
