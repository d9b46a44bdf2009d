//! The event manager: the outbound ring's single reader. It numbers every result (output
//! seq 1, 2, 3, ...) and hands it to each subscriber in turn.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use disruptor::Polling;

use super::entry::OutMessage;
use super::wait::{Doorbell, RoomBell, WaitStrategy};
use super::{OutboundPoller, ThreadFailure, ThreadReport, panic_message};
use crate::subscriber::{PublishedEvent, Subscriber};

/// The event manager thread's state.
pub(super) struct EventManager {
    outbound: OutboundPoller,
    subscribers: Vec<Box<dyn Subscriber>>,
    /// Producers (sequencer and book consumers) that have not sent `Done` yet.
    producers: usize,
    wait: WaitStrategy,
    /// Rung by the book consumers (and the sequencer) after they publish.
    bell: Arc<Doorbell>,
    /// Rung after each batch it releases, for producers waiting on a full ring.
    room: Arc<RoomBell>,
}

impl EventManager {
    pub(super) fn new(
        outbound: OutboundPoller,
        subscribers: Vec<Box<dyn Subscriber>>,
        producers: usize,
        wait: WaitStrategy,
        bell: Arc<Doorbell>,
        room: Arc<RoomBell>,
    ) -> EventManager {
        EventManager {
            outbound,
            subscribers,
            producers,
            wait,
            bell,
            room,
        }
    }

    /// Runs until every producer is done, then finishes each subscriber. A subscriber
    /// that panics is dropped and reported; the others go on.
    pub(super) fn run(mut self) -> ThreadReport {
        let mut failures = Vec::new();
        self.bell.register_current();
        let mut idler = self.wait.idler();
        let mut seq = 0u64;
        while self.producers > 0 {
            if !self.outbound.has_available() {
                let outbound = &self.outbound;
                idler.wait_for_work(&self.bell, || outbound.has_available());
                continue;
            }
            let mut batch = match self.outbound.poll() {
                Ok(batch) => batch,
                Err(Polling::NoEvents) => continue,
                Err(Polling::Shutdown) => break,
            };
            idler.reset();
            for entry in &mut batch {
                match &entry.message {
                    OutMessage::Event(result) => {
                        seq += 1;
                        let event = PublishedEvent {
                            seq,
                            input_seq: entry.seq,
                            timestamp_ns: entry.timestamp_ns,
                            result,
                        };
                        let mut i = 0;
                        while i < self.subscribers.len() {
                            let subscriber = &mut self.subscribers[i];
                            match panic::catch_unwind(AssertUnwindSafe(|| {
                                subscriber.on_event(&event)
                            })) {
                                Ok(()) => i += 1,
                                Err(payload) => {
                                    let name = subscriber.name().to_string();
                                    let message = format!(
                                        "panicked at event {seq}: {}",
                                        panic_message(payload.as_ref())
                                    );
                                    failures.push(subscriber_failure(&name, &message));
                                    self.subscribers.remove(i);
                                }
                            }
                        }
                    }
                    OutMessage::Done => self.producers -= 1,
                    OutMessage::Empty => {}
                }
            }
            drop(batch);
            self.room.freed();
            for subscriber in &mut self.subscribers {
                subscriber.on_batch_end();
            }
        }
        for mut subscriber in self.subscribers.drain(..) {
            let name = subscriber.name().to_string();
            match panic::catch_unwind(AssertUnwindSafe(|| subscriber.finish())) {
                Ok(Ok(())) => {}
                Ok(Err(error)) => failures.push(subscriber_failure(&name, &error.to_string())),
                Err(payload) => {
                    failures.push(subscriber_failure(&name, &panic_message(payload.as_ref())))
                }
            }
        }
        tracing::debug!(events = seq, "event manager stopped");
        ThreadReport {
            failures,
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
