//! The subscriber, and the hand-off from the engine's event manager thread to the feed's
//! own thread when publishing there ([`PublishOn::FeedThread`]).
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
}

/// The engine subscriber that publishes every event on the feed: on the event manager
/// thread itself ([`PublishOn::EventManager`]) or through the feed's own thread
/// ([`PublishOn::FeedThread`]).
#[derive(Debug)]
pub struct FeedSubscriber {
    work: Sender<Work>,
    spare: Receiver<Batch>,
    batch: Batch,
    /// The core, when publishing on the event manager thread.
    inline: Option<Arc<Mutex<FeedCore>>>,
    /// When the current batch's first publishable event arrived (publishing inline).
    batch_started: Option<Instant>,
}

/// Which thread translates, packs and sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublishOn {
    /// The engine's event manager thread, inline (the default): no extra thread to wake
    /// and the fewest CPU cycles per event in all, so the lowest latency from fill to
    /// receiver at every load; but the engine spends the whole publishing time
    /// (translation, and the kernel's work per datagram), so flat out it matches more
    /// slowly.
    #[default]
    EventManager,
    /// The feed's own thread: the event manager only copies each event into a batch and
    /// hands whole batches over; translation, packing and sending run beside the engine,
    /// in the time its closed loop leaves a core idle. Faster for the engine flat out (at
    /// 1,400-byte packets 72-90% of its rate with the feed off, against 59% inline), but
    /// one more thread to wake: where cores are short (on the 2-core machine at 100 k
    /// commands/s) fills reach a receiver milliseconds later at p90 and p99, against
    /// tens of microseconds inline (BENCHMARKS.md, "Market data"). For a deployment with
    /// a core to spare for it.
    FeedThread,
}

/// Both ends of the hand-off.
pub(crate) fn channel(
    inline: Option<Arc<Mutex<FeedCore>>>,
) -> (FeedSubscriber, Sender<Work>, Receiver<Work>, Sender<Batch>) {
    let (work, work_rx) = crossbeam_channel::bounded(QUEUE_BATCHES);
    let (spare_tx, spare) = crossbeam_channel::bounded(QUEUE_BATCHES + 2);
    let subscriber = FeedSubscriber {
        work: work.clone(),
        spare,
        batch: Batch::default(),
        inline,
        batch_started: None,
    };
    (subscriber, work, work_rx, spare_tx)
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
        if self.work.send(Work::Batch(batch)).is_err() {
            tracing::error!("the feed thread is gone; events are no longer published");
        }
    }

    /// Publishes one event at once (publishing on the event manager thread): one match
    /// on the event (translating it straight from the engine's result), the lock taken
    /// only for events that can make a message. Out of line: the hand-off path stays a
    /// small function.
    #[inline(never)]
    fn publish_now(&mut self, event: &PublishedEvent<'_>) {
        let Some(core) = &self.inline else {
            return;
        };
        if !publishable(event.result) {
            return;
        }
        if self.batch_started.is_none() {
            self.batch_started = Some(Instant::now());
        }
        lock(core).on_event(event);
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
        if self.inline.is_some() {
            self.publish_now(event);
            return;
        }
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

    fn on_batch_end(&mut self) {
        if let Some(core) = &self.inline {
            let mut core = lock(core);
            core.flush();
            if let Some(started) = self.batch_started.take() {
                core.out.stats.publish_ns += elapsed_ns(started);
            }
            return;
        }
        self.send_batch();
    }

    fn finish(&mut self) -> Result<(), Box<dyn Error + Send + Sync>> {
        if let Some(core) = &self.inline {
            lock(core).end();
            return Ok(());
        }
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
/// end-of-session packets in their place once the session has ended, until `stop`.
pub(crate) fn run(
    core: &Mutex<FeedCore>,
    work: &Receiver<Work>,
    spare: &Sender<Batch>,
    stop: &Arc<AtomicBool>,
    interval: Duration,
) {
    let tick = interval.min(Duration::from_millis(50));
    while !stop.load(Ordering::Acquire) {
        match work.recv_timeout(tick) {
            Ok(Work::Batch(mut batch)) => {
                {
                    let started = Instant::now();
                    let mut core = lock(core);
                    batch.publish(&mut core);
                    core.flush();
                    core.out.stats.publish_ns += elapsed_ns(started);
                }
                batch.clear();
                let _ = spare.try_send(batch);
            }
            Ok(Work::End(ack)) => {
                lock(core).end();
                let _ = ack.send(());
            }
            Err(RecvTimeoutError::Timeout) => {
                let mut core = lock(core);
                if core.out.last_send.elapsed() >= interval {
                    core.control();
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}
