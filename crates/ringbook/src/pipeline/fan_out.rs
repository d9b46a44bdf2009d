//! The sequencer's downstream when every stage has a thread of its own: one inbound ring
//! per book, each book marked for its consumer as it is published into, and the consumers
//! rung.
//!
//! Each book's share of a batch goes out with one batch publication: one cursor store per
//! book per batch instead of one per command, so the book consumers' cache lines move once
//! per batch.

use std::sync::Arc;

use super::backpressure::{BackpressureCounters, Ring};
use super::dirty::{DirtyBooks, PendingMarks};
use super::entry::{Envelope, InboundEntry, OutMessage};
use super::publish::{PublishFront, Room, publish_all, publish_outbound};
use super::routing::Routed;
use super::sequencer::Downstream;
use super::wait::{Doorbell, Idler, RoomBell};
use super::{InboundProducer, OutboundSingle, ThreadReport};
use crate::registry::InstrumentRegistry;
use crate::result::OrderbookResult;

/// The room bells of the rings the sequencer writes.
pub(super) struct Rooms {
    /// Each inbound ring's, by slot: waited on while that ring is full.
    pub(super) inbound: Vec<Arc<RoomBell>>,
    /// The outbound ring's: waited on while it is full.
    pub(super) outbound: Arc<RoomBell>,
    /// Where waits on a full inbound or outbound ring are counted.
    pub(super) backpressure: Arc<BackpressureCounters>,
}

impl Rooms {
    /// The outbound ring, as [`publish_outbound`] waits on it.
    fn outbound(&self) -> Room<'_> {
        Room {
            bell: &self.outbound,
            ring: Ring::Outbound,
            counters: &self.backpressure,
        }
    }

    /// The inbound ring of `slot`, as [`publish_all`] waits on it.
    fn inbound(&self, slot: u32) -> Room<'_> {
        Room {
            bell: &self.inbound[slot as usize],
            ring: Ring::Inbound,
            counters: &self.backpressure,
        }
    }
}

/// The per-book inbound rings and what the sequencer tells their consumers.
pub(super) struct FanOut {
    inbound: Vec<InboundProducer>,
    /// The outbound ring, only when there is no book: the sequencer is then its one
    /// producer (for the rejects). Otherwise rejects with no book go through the first
    /// book's ring, and the book consumers are the outbound ring's only producers.
    outbound: Option<OutboundSingle>,
    /// One book's entries as they are published, when its ring lacks the room.
    scratch: Vec<InboundEntry>,
    /// For the stalled-book warning.
    registry: Arc<InstrumentRegistry>,
    rooms: Rooms,
    /// The event manager's bell, rung after the sequencer publishes to it.
    events: Arc<Doorbell>,
    /// The books published into, to mark for their consumers. Declared after `inbound`,
    /// so it is dropped after the rings are closed (see its `Drop`).
    marks: Marks,
}

impl FanOut {
    /// The sequencer's side of `inbound` (by slot) and, with no book, of the outbound ring;
    /// `dirty` and `consumer_bells` are each consumer's set of books with work and bell.
    pub(super) fn new(
        inbound: Vec<InboundProducer>,
        outbound: Option<OutboundSingle>,
        registry: Arc<InstrumentRegistry>,
        rooms: Rooms,
        events: Arc<Doorbell>,
        dirty: Vec<Arc<DirtyBooks>>,
        consumer_bells: Vec<Arc<Doorbell>>,
    ) -> FanOut {
        let books = inbound.len();
        let consumers = dirty.len();
        let marks = Marks {
            pending: (0..consumers)
                .map(|c| PendingMarks::new(books.saturating_sub(c).div_ceil(consumers)))
                .collect(),
            dirty,
            bells: consumer_bells,
        };
        FanOut {
            inbound,
            outbound,
            scratch: Vec::new(),
            registry,
            rooms,
            events,
            marks,
        }
    }

    /// Publishes `message` on the outbound ring and rings the event manager, when the
    /// sequencer is that ring's producer (with no book at all); otherwise does nothing.
    fn publish_event(
        &mut self,
        idler: &mut Idler,
        seq: u64,
        timestamp_ns: u64,
        message: OutMessage,
    ) {
        if let Some(outbound) = &mut self.outbound {
            publish_outbound(
                outbound,
                &self.rooms.outbound(),
                idler,
                seq,
                timestamp_ns,
                message,
            );
            self.events.ring();
        }
    }

    /// Publishes every book's pending entries, each book's in one batch (or as many as its
    /// ring has room for at a time), waiting while a ring is full; warns of a stalled book.
    /// Then marks the books for their consumers and rings the consumers that have work.
    fn flush(&mut self, routed: &mut Routed, idler: &mut Idler) {
        let (inbound, marks, rooms) = (&mut self.inbound, &mut self.marks, &self.rooms);
        let registry = &self.registry;
        let scratch = &mut self.scratch;
        routed.drain(|slot, chain| {
            // Straight from the batch when the ring has the room (or can grow to it).
            if inbound[slot as usize]
                .try_publish_from(chain.clone())
                .is_ok()
            {
                marks.note(slot);
                return;
            }
            scratch.clear();
            scratch.extend(chain.copied());
            publish_all(
                &mut MarkedRing {
                    producer: &mut inbound[slot as usize],
                    marks: &mut *marks,
                    slot,
                },
                &rooms.inbound(slot),
                scratch,
                &mut *idler,
                |first, waiting, waited| {
                    tracing::warn!(
                        instrument = %registry.instrument(slot),
                        seq = first.seq,
                        waiting,
                        ?waited,
                        "inbound ring full for over a second: the book consumer is stalled"
                    );
                },
            );
            inbound[slot as usize].end_wait();
        });
        self.marks.set();
        idler.reset();
    }
}

impl Downstream for FanOut {
    fn books(&self) -> usize {
        self.inbound.len()
    }

    fn deliver(
        &mut self,
        routed: &mut Routed,
        direct: &mut Vec<(u64, OrderbookResult)>,
        timestamp_ns: u64,
        idler: &mut Idler,
    ) {
        for (seq, result) in direct.drain(..) {
            self.publish_event(idler, seq, timestamp_ns, OutMessage::Event(result));
        }
        self.flush(routed, idler);
    }

    /// Sends every book its stop marker and, when the sequencer is the outbound ring's
    /// producer, the event manager its `Done`.
    fn close(
        mut self,
        routed: &mut Routed,
        seq: u64,
        timestamp_ns: u64,
        idler: &mut Idler,
    ) -> ThreadReport {
        for slot in 0..self.inbound.len() as u32 {
            routed.route(slot, InboundEntry::new(seq, timestamp_ns, Envelope::Stop));
        }
        self.flush(routed, idler);
        self.publish_event(idler, seq, timestamp_ns, OutMessage::Done);
        ThreadReport::default()
    }
}

/// The books the sequencer published into and has not marked yet, by consumer, and
/// where they are marked.
pub(super) struct Marks {
    /// Each consumer's set of books with work (its books: slots `c`, `c + consumers`...).
    dirty: Vec<Arc<DirtyBooks>>,
    /// Each consumer's marks not yet set.
    pending: Vec<PendingMarks>,
    /// Each consumer's bell, rung when books were marked for it.
    bells: Vec<Arc<Doorbell>>,
}

impl Marks {
    /// Notes book `slot` as published into.
    #[inline]
    fn note(&mut self, slot: u32) {
        let consumers = self.pending.len();
        self.pending[slot as usize % consumers].note(slot as usize / consumers);
    }

    /// Sets every noted mark (a read-modify-write per word of books) and rings the
    /// consumers that got any.
    fn set(&mut self) {
        for ((pending, dirty), bell) in self.pending.iter_mut().zip(&self.dirty).zip(&self.bells) {
            if pending.set(dirty) {
                bell.ring();
            }
        }
    }
}

impl Drop for Marks {
    /// The sequencer is going away (its rings are already closed: they are dropped
    /// first): every consumer polls each of its books once more, so it sees the rings
    /// shut down even if the sequencer ended without sending the stop markers (a panic).
    fn drop(&mut self) {
        for (dirty, bell) in self.dirty.iter().zip(&self.bells) {
            dirty.mark_all();
            bell.ring();
        }
    }
}

/// A book's ring as the sequencer publishes into it: each publication noted for the
/// book's consumer, and every mark set before a wait for room (the consumer must know of
/// the entries to free it).
struct MarkedRing<'a> {
    producer: &'a mut InboundProducer,
    marks: &'a mut Marks,
    slot: u32,
}

impl PublishFront<InboundEntry> for MarkedRing<'_> {
    #[inline]
    fn publish_front(
        &mut self,
        buffer: &mut Vec<InboundEntry>,
        n: usize,
    ) -> Result<(), disruptor::MissingFreeSlots> {
        self.producer.publish_front(buffer, n)?;
        self.marks.note(self.slot);
        Ok(())
    }

    fn before_wait(&mut self) {
        self.marks.set();
        self.producer.announce_wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sequencer that goes away (normally or unwinding) leaves every book of every
    /// consumer marked and the consumers rung, so each polls its closed rings once more.
    #[test]
    fn dropping_the_marks_marks_every_book_of_every_consumer() {
        let dirty: Vec<_> = [3, 2]
            .into_iter()
            .map(|n| Arc::new(DirtyBooks::new(n)))
            .collect();
        let marks = Marks {
            pending: vec![PendingMarks::new(3), PendingMarks::new(2)],
            dirty: dirty.clone(),
            bells: vec![Arc::new(Doorbell::default()), Arc::new(Doorbell::default())],
        };
        assert!(dirty.iter().all(|d| !d.any()));
        drop(marks);
        for (set, books) in dirty.iter().zip([3, 2]) {
            let mut found = Vec::new();
            set.drain(|book| found.push(book));
            assert_eq!(found, (0..books).collect::<Vec<_>>());
        }
    }
}
