//! The event manager: the outbound ring's single reader. It numbers every result (output
//! seq 1, 2, 3, ...) and hands it to each subscriber in turn.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use disruptor::Polling;

use super::entry::{OutMessage, OutboundEntry};
use super::wait::{Doorbell, RoomBell, WaitStrategy};
use super::{OutboundPoller, ThreadFailure, ThreadReport, panic_message};
use crate::result::OrderbookResult;
use crate::subscriber::{PublishedEvent, Subscriber};

/// The event manager thread's state.
pub(super) struct EventManager {
    outbound: OutboundPoller,
    subscribers: Vec<Box<dyn Subscriber>>,
    /// The events published before the engine started: the first is numbered one more.
    events_before: u64,
    /// Producers (the book consumers, or the sequencer when there is no book) that have not
    /// sent `Done` yet.
    producers: usize,
    wait: WaitStrategy,
    /// Rung by the producers after they publish.
    bell: Arc<Doorbell>,
    /// Rung after each batch it releases, for producers waiting on a full ring.
    room: Arc<RoomBell>,
}

/// The numbering and the subscribers, apart from the ring (so a batch can borrow the ring
/// while they change). The fused engine dispatches through it too, straight from the
/// books.
pub(super) struct Dispatch {
    subscribers: Vec<Box<dyn Subscriber>>,
    producers: usize,
    /// The last output seq given.
    seq: u64,
    failures: Vec<ThreadFailure>,
}

/// Polls `$poller` once and hands its batch to `$dispatch`. A macro rather than a function:
/// the crate's barrier trait, which `poll` needs, is not public, so the two kinds of
/// poller cannot share a generic function.
macro_rules! poll_into {
    ($poller:expr, $dispatch:expr, $idler:expr, $room:expr) => {
        match $poller.poll() {
            Ok(mut batch) => {
                $idler.reset();
                $dispatch.batch(&mut batch);
                drop(batch);
                $room.freed();
                $dispatch.batch_end();
                Polled::Batch
            }
            Err(Polling::NoEvents) => Polled::Empty,
            Err(Polling::Shutdown) => Polled::Shutdown,
        }
    };
}

/// What one poll of the outbound ring found.
enum Polled {
    Batch,
    Empty,
    Shutdown,
}

impl EventManager {
    pub(super) fn new(
        outbound: OutboundPoller,
        subscribers: Vec<Box<dyn Subscriber>>,
        events_before: u64,
        producers: usize,
        wait: WaitStrategy,
        bell: Arc<Doorbell>,
        room: Arc<RoomBell>,
    ) -> EventManager {
        EventManager {
            outbound,
            subscribers,
            events_before,
            producers,
            wait,
            bell,
            room,
        }
    }

    /// Runs until every producer is done, then finishes each subscriber. A subscriber
    /// that panics is dropped and reported; the others go on.
    pub(super) fn run(self) -> ThreadReport {
        let EventManager {
            mut outbound,
            subscribers,
            events_before,
            producers,
            wait,
            bell,
            room,
        } = self;
        bell.register_current();
        let mut idler = wait.idler();
        let mut dispatch = Dispatch::new(subscribers, producers, events_before);
        while dispatch.producers > 0 {
            // Polled straight away: `has_available` first would walk a multi-producer
            // ring's availability bits once more.
            let polled = match &mut outbound {
                OutboundPoller::Single(poller) => poll_into!(poller, dispatch, idler, room),
                OutboundPoller::Multi(poller) => poll_into!(poller, dispatch, idler, room),
            };
            match polled {
                Polled::Batch => {}
                Polled::Empty => idler.wait_for_work(&bell, || outbound.has_available()),
                Polled::Shutdown => break,
            }
        }
        dispatch.finish()
    }
}

impl Dispatch {
    /// Numbering on from `events_before`, for `producers` producers that each end with
    /// `Done`.
    pub(super) fn new(
        subscribers: Vec<Box<dyn Subscriber>>,
        producers: usize,
        events_before: u64,
    ) -> Dispatch {
        Dispatch {
            subscribers,
            producers,
            seq: events_before,
            failures: Vec::new(),
        }
    }

    /// Numbers each result of a batch and hands it to every subscriber; counts `Done`s.
    #[inline]
    fn batch<'a>(&mut self, batch: impl Iterator<Item = &'a OutboundEntry>) {
        for entry in batch {
            self.entry(entry);
        }
    }

    /// Numbers one result and hands it to every subscriber, or counts a `Done`.
    #[inline]
    pub(super) fn entry(&mut self, entry: &OutboundEntry) {
        match &entry.message {
            OutMessage::Event(result) => self.event(entry.seq, entry.timestamp_ns, result),
            OutMessage::Done => self.producers -= 1,
            OutMessage::Empty => {}
        }
    }

    /// Numbers `result`, of the command numbered `input_seq` stamped `timestamp_ns`, and
    /// hands it to every subscriber; one that panics is dropped and reported.
    #[inline]
    pub(super) fn event(&mut self, input_seq: u64, timestamp_ns: u64, result: &OrderbookResult) {
        self.seq += 1;
        let seq = self.seq;
        let event = PublishedEvent {
            seq,
            input_seq,
            timestamp_ns,
            result,
        };
        let mut i = 0;
        while i < self.subscribers.len() {
            let subscriber = &mut self.subscribers[i];
            match panic::catch_unwind(AssertUnwindSafe(|| subscriber.on_event(&event))) {
                Ok(()) => i += 1,
                Err(payload) => self.drop_panicked(i, seq, payload.as_ref()),
            }
        }
    }

    /// Drops subscriber `i`, which panicked at event `seq`, and reports it. Out of line,
    /// so that [`Self::event`] is small enough to inline into the book's result path.
    #[cold]
    #[inline(never)]
    fn drop_panicked(&mut self, i: usize, seq: u64, payload: &(dyn std::any::Any + Send)) {
        let name = self.subscribers[i].name().to_string();
        let message = format!("panicked at event {seq}: {}", panic_message(payload));
        self.failures.push(subscriber_failure(&name, &message));
        self.subscribers.remove(i);
    }

    /// Tells every subscriber a batch has ended.
    pub(super) fn batch_end(&mut self) {
        for subscriber in &mut self.subscribers {
            subscriber.on_batch_end();
        }
    }

    /// Finishes each subscriber and reports the failures.
    pub(super) fn finish(mut self) -> ThreadReport {
        for mut subscriber in self.subscribers.drain(..) {
            let name = subscriber.name().to_string();
            match panic::catch_unwind(AssertUnwindSafe(|| subscriber.finish())) {
                Ok(Ok(())) => {}
                Ok(Err(error)) => self
                    .failures
                    .push(subscriber_failure(&name, &error.to_string())),
                Err(payload) => self
                    .failures
                    .push(subscriber_failure(&name, &panic_message(payload.as_ref()))),
            }
        }
        tracing::debug!(events = self.seq, "event manager stopped");
        ThreadReport {
            failures: self.failures,
            books: Vec::new(),
        }
    }
}

fn subscriber_failure(name: &str, message: &str) -> ThreadFailure {
    tracing::error!(subscriber = name, message, "subscriber failed");
    ThreadFailure {
        instruments: Vec::new(),
        lost_commands: 0,
        message: format!("subscriber {name}: {message}"),
    }
}
