//! The subscriber, and the hand-off from the engine's event manager thread to the feed's
//! own thread when publishing there ([`PublishOn::FeedThread`], and the larger batches of
//! [`PublishOn::Auto`]).
//!
//! The subscriber only turns each event that can make an ITCH message into a small
//! `Copy` [`FeedItem`] (one match, no heap: a rare book snapshot travels beside the items)
//! in a batch, and hands the batch over at the end of the event manager's batch (or when
//! it reaches [`MAX_BATCH`]); the feed thread translates, packs, numbers, stores and
//! sends. Batches travel on a bounded channel: when the feed thread falls
//! [`QUEUE_BATCHES`] batches behind, the event manager waits (backpressure, never loss).
//! Emptied batches come back on a second channel, so the steady state allocates nothing.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;
use ringbook::{BookSnapshot, OrderbookResult, PublishedEvent, Subscriber};

use super::core::{FeedCore, lock};
use super::event::{FeedEvent, FeedItem};
use super::publish_on::{AutoSwitch, Pending, PublishOn, Route};
use super::send_clock::until_heartbeat;

/// The most events in one batch.
pub(crate) const MAX_BATCH: usize = 4096;
/// The most batches waiting for the feed thread.
pub(crate) const QUEUE_BATCHES: usize = 256;
/// How long `finish` waits for the feed thread to end the session.
const END_WAIT: Duration = Duration::from_secs(10);

/// A book snapshot in a batch: it comes before the item at `before`.
#[derive(Debug)]
pub(crate) struct SnapshotItem {
    /// The position in the batch's items it comes before.
    before: usize,
    /// The engine's timestamp.
    timestamp_ns: u64,
    /// The book's instrument id.
    book: u128,
    /// The snapshot.
    snapshot: Box<BookSnapshot>,
}

/// Events to publish, in order.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    items: Vec<FeedItem>,
    /// Book snapshots (rare), by their place among the items.
    snapshots: Vec<SnapshotItem>,
}

impl Batch {
    fn with_capacity(capacity: usize) -> Batch {
        Batch {
            items: Vec::with_capacity(capacity),
            snapshots: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.items.len() + self.snapshots.len()
    }

    fn clear(&mut self) {
        self.items.clear();
        self.snapshots.clear();
    }

    /// Publishes every event in order.
    fn publish(&self, core: &mut FeedCore) {
        let mut snapshots = self.snapshots.iter().peekable();
        for (i, item) in self.items.iter().enumerate() {
            while let Some(s) = snapshots.next_if(|s| s.before == i) {
                core.on_snapshot(s.timestamp_ns, s.book, &s.snapshot);
            }
            core.on_item(item);
        }
        for s in snapshots {
            core.on_snapshot(s.timestamp_ns, s.book, &s.snapshot);
        }
    }
}

/// What the feed thread is sent.
#[derive(Debug)]
pub(crate) enum Work {
    /// Events to publish.
    Batch(Batch),
    /// End the session, then acknowledge.
    End(Sender<()>),
    /// Stop: the feed is shutting down (wakes the thread from its wait for a heartbeat).
    Stop,
}

/// The engine subscriber that publishes every event on the feed: on the event manager
/// thread itself, through the feed's own thread, or batch by batch either way
/// ([`PublishOn`]).
#[derive(Debug)]
pub struct FeedSubscriber {
    work: Sender<Work>,
    spare: Receiver<Batch>,
    batch: Batch,
    /// The core, for publishing on the event manager thread.
    core: Arc<Mutex<FeedCore>>,
    publish_on: PublishOn,
    /// Batches handed over and not yet published.
    pending: Pending,
    /// [`PublishOn::Auto`]'s choice for the current batch.
    switch: AutoSwitch,
    /// When the current batch's first event was published inline.
    batch_started: Option<Instant>,
    /// When the last batch ended ([`PublishOn::Auto`]: how busy the event manager is).
    last_batch_end: Option<Instant>,
}

/// The subscriber's end of the hand-off, and the feed thread's.
pub(crate) struct Ends {
    pub(crate) subscriber: FeedSubscriber,
    pub(crate) work: Sender<Work>,
    pub(crate) work_rx: Receiver<Work>,
    pub(crate) spare: Sender<Batch>,
    pub(crate) pending: Pending,
}

/// Both ends of the hand-off.
pub(crate) fn channel(
    core: Arc<Mutex<FeedCore>>,
    publish_on: PublishOn,
    auto_inline_events: usize,
    auto_busy_gap: Duration,
) -> Ends {
    let (work, work_rx) = crossbeam_channel::bounded(QUEUE_BATCHES);
    let (spare_tx, spare) = crossbeam_channel::bounded(QUEUE_BATCHES + 2);
    let pending = Pending::default();
    let subscriber = FeedSubscriber {
        work: work.clone(),
        spare,
        batch: Batch::default(),
        core,
        publish_on,
        pending: pending.clone(),
        switch: AutoSwitch::new(auto_inline_events, auto_busy_gap),
        batch_started: None,
        last_batch_end: None,
    };
    Ends {
        subscriber,
        work,
        work_rx,
        spare: spare_tx,
        pending,
    }
}

/// Whether an event can make an ITCH message (rejects and statuses cannot; the
/// translator drops the rest of those that cannot).
fn publishable(result: &OrderbookResult) -> bool {
    !matches!(
        result,
        OrderbookResult::Rejected { .. } | OrderbookResult::Status { .. }
    )
}

impl FeedSubscriber {
    fn send_batch(&mut self) {
        if self.batch.len() == 0 {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Batch::with_capacity(MAX_BATCH));
        let batch = std::mem::replace(&mut self.batch, next);
        self.pending.handing_over();
        if self.work.send(Work::Batch(batch)).is_err() {
            tracing::error!("the feed thread is gone; events are no longer published");
        }
    }

    /// Publishes one event at once, on the event manager thread: one match on the event
    /// (translating it straight from the engine's result), the lock taken only for events
    /// that can make a message. Out of line: the hand-off path stays a small function.
    #[inline(never)]
    fn publish_now(&mut self, event: &PublishedEvent<'_>) {
        if !publishable(event.result) {
            return;
        }
        if self.batch_started.is_none() {
            self.batch_started = Some(Instant::now());
        }
        lock(&self.core).on_event(event);
    }

    /// Sends the packets of what this batch published inline.
    fn flush_inline(&mut self) {
        let mut core = lock(&self.core);
        core.flush();
        if let Some(started) = self.batch_started.take() {
            core.out.stats.publish_ns += elapsed_ns(started);
            core.out.stats.batches_inline += 1;
        }
    }

    /// Copies one event into the batch for the feed thread, handing the batch over when
    /// it is full.
    #[inline]
    fn batch_event(&mut self, event: &PublishedEvent<'_>) {
        let Some((book, feed_event)) = FeedEvent::of(event.result) else {
            if let OrderbookResult::Snapshot {
                instrument_id,
                snapshot,
            } = event.result
            {
                self.batch_snapshot(event.timestamp_ns, instrument_id.as_u128(), snapshot);
            }
            return;
        };
        self.batch.items.push(FeedItem {
            timestamp_ns: event.timestamp_ns,
            book,
            event: feed_event,
        });
        if self.batch.items.len() >= MAX_BATCH {
            self.send_batch();
        }
    }

    /// A book snapshot, put in the batch beside the items.
    #[cold]
    fn batch_snapshot(&mut self, timestamp_ns: u64, book: u128, snapshot: &BookSnapshot) {
        self.batch.snapshots.push(SnapshotItem {
            before: self.batch.items.len(),
            timestamp_ns,
            book,
            snapshot: Box::new(snapshot.clone()),
        });
    }
}

impl Subscriber for FeedSubscriber {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        match self.publish_on {
            PublishOn::EventManager => self.publish_now(event),
            PublishOn::FeedThread => self.batch_event(event),
            PublishOn::Auto => {
                if !publishable(event.result) {
                    return;
                }
                if self.switch.at_batch_start() {
                    let gap = self.last_batch_end.map(|end| end.elapsed());
                    self.switch.start(gap);
                }
                match self.switch.route(&self.pending) {
                    Route::Inline => self.publish_now(event),
                    Route::HandOver => self.batch_event(event),
                }
            }
        }
    }

    fn on_batch_end(&mut self) {
        match self.publish_on {
            PublishOn::EventManager => self.flush_inline(),
            PublishOn::FeedThread => self.send_batch(),
            PublishOn::Auto => {
                if self.switch.handed_over() {
                    // The feed thread sends the packet the inline part began, after the rest.
                    self.batch_started = None;
                    self.send_batch();
                } else if self.switch.published_inline() {
                    self.flush_inline();
                }
                self.switch.batch_end();
                self.last_batch_end = Some(Instant::now());
            }
        }
    }

    fn finish(&mut self) -> Result<(), Box<dyn Error + Send + Sync>> {
        if self.publish_on == PublishOn::EventManager {
            lock(&self.core).end();
            return Ok(());
        }
        // After every batch handed over.
        self.send_batch();
        let (ack, done) = crossbeam_channel::bounded(1);
        self.work
            .send(Work::End(ack))
            .map_err(|_| "the feed thread is gone: the session was not ended")?;
        done.recv_timeout(END_WAIT)
            .map_err(|_| "the feed thread did not end the session within 10 s")?;
        Ok(())
    }

    fn name(&self) -> &str {
        "itch-feed"
    }
}

/// The nanoseconds since `started`.
fn elapsed_ns(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The feed thread: publishes batches, sends a heartbeat after `interval` of silence, and
/// end-of-session packets in their place once the session has ended, until `stop` (or
/// [`Work::Stop`]). Between batches it sleeps until the next heartbeat is due, so a busy
/// feed never wakes it.
pub(crate) fn run(
    core: &Mutex<FeedCore>,
    work: &Receiver<Work>,
    spare: &Sender<Batch>,
    pending: &Pending,
    stop: &Arc<AtomicBool>,
    interval: Duration,
) {
    let clock = Arc::clone(&lock(core).out.clock);
    let mut wait = interval;
    while !stop.load(Ordering::Acquire) {
        match work.recv_timeout(wait) {
            Ok(Work::Batch(mut batch)) => {
                {
                    let started = Instant::now();
                    let mut core = lock(core);
                    batch.publish(&mut core);
                    core.flush();
                    core.out.stats.publish_ns += elapsed_ns(started);
                    core.out.stats.batches_handed_over += 1;
                    // Under the lock, after the packets left: the event manager may publish
                    // inline again, after all of this batch.
                    pending.published();
                }
                batch.clear();
                let _ = spare.try_send(batch);
            }
            Ok(Work::End(ack)) => {
                lock(core).end();
                let _ = ack.send(());
            }
            Ok(Work::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        // The lock only when a heartbeat is due: never while the feed is busy.
        let silent = clock.silent_for();
        if silent >= interval {
            let mut core = lock(core);
            if core.out.clock.silent_for() >= interval {
                core.control();
            }
        }
        wait = until_heartbeat(interval, silent);
    }
}
