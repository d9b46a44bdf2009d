//! The subscriber, and the hand-off from the engine's event manager thread to the feed's
//! own thread when publishing there ([`PublishOn::FeedThread`]).
//!
//! The subscriber only copies each event that can make an ITCH message (with its
//! timestamp) into a batch, and hands the batch over at the end of the event manager's
//! batch (or when it reaches [`MAX_BATCH`]); the feed thread translates, packs, numbers,
//! stores and sends. Batches travel on a bounded channel: when the feed thread falls
//! [`QUEUE_BATCHES`] batches behind, the event manager waits (backpressure, never loss).
//! Emptied batches come back on a second channel, so the steady state allocates nothing.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;
use ringbook::{OrderbookResult, PublishedEvent, Subscriber};

use super::core::{FeedCore, lock};

/// The most events in one batch.
pub(crate) const MAX_BATCH: usize = 4096;
/// The most batches waiting for the feed thread.
pub(crate) const QUEUE_BATCHES: usize = 256;
/// How long `finish` waits for the feed thread to end the session.
const END_WAIT: Duration = Duration::from_secs(10);

/// An event as the feed thread needs it.
pub(crate) type Item = (u64, OrderbookResult);

/// What the feed thread is sent.
#[derive(Debug)]
pub(crate) enum Work {
    /// Events to publish.
    Batch(Vec<Item>),
    /// End the session, then acknowledge.
    End(Sender<()>),
}

/// The engine subscriber that publishes every event on the feed: on the event manager
/// thread itself ([`PublishOn::EventManager`]) or through the feed's own thread
/// ([`PublishOn::FeedThread`]).
#[derive(Debug)]
pub struct FeedSubscriber {
    work: Sender<Work>,
    spare: Receiver<Vec<Item>>,
    batch: Vec<Item>,
    /// The core, when publishing on the event manager thread.
    inline: Option<Arc<Mutex<FeedCore>>>,
    /// When the current batch's first publishable event arrived (publishing inline).
    batch_started: Option<Instant>,
}

/// Which thread translates, packs and sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublishOn {
    /// The engine's event manager thread, inline: no extra thread to wake, the fewest
    /// CPU cycles per event, and the lowest latency; the event manager spends the
    /// publishing time (a send per packet). The default: it measured faster on a machine
    /// with fewer cores than busy threads.
    #[default]
    EventManager,
    /// The feed's own thread: the event manager only copies events into batches; the
    /// publishing runs beside it on another core (for machines with a core to spare).
    FeedThread,
}

/// Both ends of the hand-off.
pub(crate) fn channel(
    inline: Option<Arc<Mutex<FeedCore>>>,
) -> (
    FeedSubscriber,
    Sender<Work>,
    Receiver<Work>,
    Sender<Vec<Item>>,
) {
    let (work, work_rx) = crossbeam_channel::bounded(QUEUE_BATCHES);
    let (spare_tx, spare) = crossbeam_channel::bounded(QUEUE_BATCHES + 2);
    let subscriber = FeedSubscriber {
        work: work.clone(),
        spare,
        batch: Vec::new(),
        inline,
        batch_started: None,
    };
    (subscriber, work, work_rx, spare_tx)
}

/// Whether an event can make an ITCH message (rejects and statuses cannot).
fn publishable(result: &OrderbookResult) -> bool {
    !matches!(
        result,
        OrderbookResult::Rejected { .. } | OrderbookResult::Status { .. }
    )
}

impl FeedSubscriber {
    fn send_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(MAX_BATCH));
        let batch = std::mem::replace(&mut self.batch, next);
        if self.work.send(Work::Batch(batch)).is_err() {
            tracing::error!("the feed thread is gone; events are no longer published");
        }
    }
}

impl Subscriber for FeedSubscriber {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        if !publishable(event.result) {
            return;
        }
        if let Some(core) = &self.inline {
            if self.batch_started.is_none() {
                self.batch_started = Some(Instant::now());
            }
            lock(core).on_event(event);
            return;
        }
        self.batch.push((event.timestamp_ns, event.result.clone()));
        if self.batch.len() >= MAX_BATCH {
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
    spare: &Sender<Vec<Item>>,
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
                    for (timestamp_ns, result) in &batch {
                        let event = PublishedEvent {
                            seq: 0,
                            input_seq: 0,
                            timestamp_ns: *timestamp_ns,
                            result,
                        };
                        core.on_event(&event);
                    }
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
