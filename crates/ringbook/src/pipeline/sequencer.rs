//! The sequencer: the single writer that numbers and timestamps every command and routes
//! it to its book's inbound ring.
//!
//! It takes the ingress ring in batches, sorts each batch by book (keeping each book's
//! order), and publishes every book's share with one batch publication: one cursor store
//! per book per batch instead of one per command, so the book consumers' cache lines move
//! once per batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use disruptor::Polling;

use super::backpressure::{BackpressureCounters, Ring};
use super::dirty::{DirtyBooks, PendingMarks};
use super::entry::{EntryView, Envelope, InboundEntry, IngressEntry, NO_SLOT, OutMessage};
use super::publish::{PublishFront, Room, publish_all, publish_outbound};
use super::routing::Routed;
use super::wait::{Doorbell, Idler, RoomBell, WaitStrategy};
use super::{
    InboundProducer, IngressPoller, OutboundSingle, ThreadFailure, ThreadReport, nanos_since,
};
use crate::journal::{JournalEntry, JournalError, JournalWriter};
use crate::registry::InstrumentRegistry;
use crate::result::OrderbookResult;

/// The most ingress entries taken at once: bounds how long the first of a batch waits for
/// the rest to be sorted.
const BATCH: u64 = 4096;

/// The bells the sequencer sleeps on and rings.
pub(super) struct Bells {
    /// Its own: callers ring it.
    pub(super) own: Arc<Doorbell>,
    /// Each book consumer's, by consumer index (a book's consumer is its slot modulo
    /// their count).
    pub(super) consumers: Vec<Arc<Doorbell>>,
    /// The event manager's.
    pub(super) events: Arc<Doorbell>,
}

/// The room bells of the rings the sequencer reads and writes.
pub(super) struct Rooms {
    /// The ingress ring's: rung after each batch taken, for callers waiting on a full ring.
    pub(super) ingress: Arc<RoomBell>,
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

/// The sequencer thread's state.
pub(super) struct Sequencer {
    /// Taken by `run`, so a batch can borrow it while the rest of `self` changes.
    ingress: Option<IngressPoller>,
    inbound: Vec<InboundProducer>,
    /// The outbound ring, only when there is no book: the sequencer is then its one
    /// producer (for the rejects). Otherwise rejects with no book go through the first
    /// book's ring, and the book consumers are the outbound ring's only producers.
    outbound: Option<OutboundSingle>,
    registry: Arc<InstrumentRegistry>,
    epoch: Instant,
    wait: WaitStrategy,
    next_seq: u64,
    /// The entries of the current batch, by book.
    routed: Routed,
    /// One book's entries as they are published.
    scratch: Vec<InboundEntry>,
    bells: Bells,
    rooms: Rooms,
    /// The books published into, to mark for their consumers. Declared after `inbound`,
    /// so it is dropped after the rings are closed (see its `Drop`).
    marks: Marks,
    /// The journal every sequenced command is appended to before any book sees it.
    journal: Option<JournalWriter>,
    /// Take a snapshot after this many commands.
    snapshot_every: Option<u64>,
    since_snapshot: u64,
    /// Set when the journal fails: callers are refused from then on.
    intake_failed: Arc<AtomicBool>,
    /// The journal error, once one happened: nothing is routed after it.
    failure: Option<String>,
    /// Commands sequenced after a journal failure: neither journaled nor applied.
    lost: u64,
    /// Rejects with no book, to publish once the batch is journaled (when there is no
    /// book at all).
    direct: Vec<(u64, OrderbookResult)>,
}

/// What the sequencer needs besides its rings.
pub(super) struct SequencerSetup {
    pub(super) rooms: Rooms,
    pub(super) registry: Arc<InstrumentRegistry>,
    pub(super) epoch: Instant,
    pub(super) wait: WaitStrategy,
    pub(super) bells: Bells,
    /// Each consumer's set of books with work, by consumer index.
    pub(super) dirty: Vec<Arc<DirtyBooks>>,
    /// The last sequence number already used (recovery continues after it).
    pub(super) last_seq: u64,
    pub(super) journal: Option<JournalWriter>,
    pub(super) snapshot_every: Option<u64>,
    pub(super) intake_failed: Arc<AtomicBool>,
}

impl Sequencer {
    pub(super) fn new(
        ingress: IngressPoller,
        inbound: Vec<InboundProducer>,
        outbound: Option<OutboundSingle>,
        setup: SequencerSetup,
    ) -> Sequencer {
        let books = inbound.len();
        let marks = Marks {
            pending: (setup.dirty.iter().enumerate())
                .map(|(c, _)| {
                    PendingMarks::new(books.saturating_sub(c).div_ceil(setup.dirty.len()))
                })
                .collect(),
            dirty: setup.dirty,
            bells: setup.bells.consumers.clone(),
        };
        Sequencer {
            ingress: Some(ingress),
            inbound,
            outbound,
            registry: setup.registry,
            epoch: setup.epoch,
            wait: setup.wait,
            next_seq: setup.last_seq,
            routed: Routed::new(books),
            scratch: Vec::new(),
            bells: setup.bells,
            rooms: setup.rooms,
            marks,
            journal: setup.journal,
            snapshot_every: setup.snapshot_every.filter(|&n| n > 0),
            since_snapshot: 0,
            intake_failed: setup.intake_failed,
            failure: None,
            lost: 0,
            direct: Vec::new(),
        }
    }

    /// Runs until the stop marker, then passes the marker to every book and tells the
    /// event manager it is done.
    pub(super) fn run(mut self) -> ThreadReport {
        tracing::debug!(books = self.inbound.len(), "sequencer running");
        self.bells.own.register_current();
        let mut ingress = self.ingress.take().expect("the sequencer runs once");
        let mut idler = self.wait.idler();
        let mut stopping = false;
        while !stopping {
            // No `has_available` first: on a multi-producer ring it walks the availability
            // bit of every published slot, and `take` walks them all again.
            let sequenced = match ingress.take(BATCH) {
                Ok(mut batch) => Some(self.sequence_batch(&mut batch)),
                Err(Polling::NoEvents) => None,
                Err(Polling::Shutdown) => break,
            };
            let Some((timestamp_ns, stop)) = sequenced else {
                idler.wait_for_work(&self.bells.own, || ingress.has_available());
                continue;
            };
            stopping = stop;
            idler.reset();
            self.rooms.ingress.freed();
            // The journal has the batch before any book or subscriber sees it.
            let committed = match &mut self.journal {
                Some(journal) if self.failure.is_none() => journal.commit_batch(),
                _ => Ok(()),
            };
            if let Err(error) = committed {
                let seq = self.next_seq;
                self.fail(error, seq);
            }
            if self.failure.is_some() {
                // Nothing of a batch the journal may not hold reaches a book.
                self.discard_pending();
            }
            if let Some(outbound) = &mut self.outbound {
                for (seq, result) in self.direct.drain(..) {
                    publish_outbound(
                        outbound,
                        &self.rooms.outbound(),
                        &mut idler,
                        seq,
                        timestamp_ns,
                        OutMessage::Event(result),
                    );
                    self.bells.events.ring();
                }
            }
            self.flush(&mut idler);
        }

        let timestamp_ns = nanos_since(self.epoch);
        for slot in 0..self.inbound.len() as u32 {
            self.route(
                slot,
                InboundEntry::new(self.next_seq, timestamp_ns, Envelope::Stop),
            );
        }
        self.flush(&mut idler);
        if let Some(outbound) = &mut self.outbound {
            publish_outbound(
                outbound,
                &self.rooms.outbound(),
                &mut idler,
                self.next_seq,
                timestamp_ns,
                OutMessage::Done,
            );
            self.bells.events.ring();
        }
        tracing::debug!(commands = self.next_seq, "sequencer stopped");
        if let Some(journal) = self.journal.take()
            && self.failure.is_none()
            && let Err(error) = journal.close()
        {
            self.failure = Some(format!("journal: {error}"));
        }
        let failures = self
            .failure
            .take()
            .map(|message| ThreadFailure {
                instruments: Vec::new(),
                lost_commands: self.lost,
                message,
            })
            .into_iter()
            .collect();
        ThreadReport {
            failures,
            books: Vec::new(),
        }
    }

    /// Numbers, stamps, journals and routes one ingress batch (into the pending buffers).
    /// Returns the batch's timestamp and whether it held the stop marker.
    fn sequence_batch<'a>(&mut self, batch: impl Iterator<Item = &'a IngressEntry>) -> (u64, bool) {
        let mut stopping = false;
        // One timestamp per batch: every command in it was waiting at the same moment.
        let timestamp_ns = nanos_since(self.epoch);
        // Without a journal, snapshots or a failure, and with books, a plain command needs
        // only its number and its book: the rest is decided once for the batch.
        let plain = self.journal.is_none()
            && self.snapshot_every.is_none()
            && self.failure.is_none()
            && self.outbound.is_none();
        for entry in batch {
            if plain && entry.is_plain_apply() {
                self.next_seq += 1;
                self.route(
                    entry.slot,
                    InboundEntry::routed(self.next_seq, timestamp_ns, entry),
                );
            } else {
                stopping |= self.sequence_one(entry, timestamp_ns);
            }
        }
        (timestamp_ns, stopping)
    }

    /// Numbers, journals and routes one ingress entry of any kind; true for the stop
    /// marker.
    fn sequence_one(&mut self, entry: &IngressEntry, timestamp_ns: u64) -> bool {
        if !entry.is_command() {
            match entry.envelope() {
                Envelope::Checkpoint => self.checkpoint(timestamp_ns),
                _ => return true,
            }
            return false;
        }
        // Saturates: the journal refuses seq u64::MAX (no seq would follow it), which
        // fails the engine; the commands after it are lost, not numbered from 0.
        self.next_seq = self.next_seq.saturating_add(1);
        let seq = self.next_seq;
        if self.failure.is_some() {
            self.lost += 1;
            return false;
        }
        if let Some(journal) = &mut self.journal {
            let (command, reject) = entry.command();
            let record = JournalEntry {
                seq,
                timestamp_ns,
                command,
                reject,
            };
            if let Err(error) = journal.append(&record) {
                self.lost += 1;
                self.fail(error, seq);
                return false;
            }
        }
        if entry.slot == NO_SLOT && self.outbound.is_some() {
            // No book at all: the reject goes straight out, in sequence.
            if let Envelope::Reject(command, reason) = entry.envelope() {
                self.direct
                    .push((seq, OrderbookResult::rejected(&command, reason)));
            }
        } else {
            // A reject with no book of its own goes through the first book's ring (its
            // consumer publishes it without touching the book).
            let slot = if entry.slot == NO_SLOT { 0 } else { entry.slot };
            if let Some((op, instrument_id)) = entry.control() {
                tracing::info!(%instrument_id, seq, "{op} sequenced");
            }
            self.route(slot, InboundEntry::routed(seq, timestamp_ns, entry));
        }
        if let Some(every) = self.snapshot_every {
            self.since_snapshot += 1;
            if self.since_snapshot >= every {
                self.checkpoint(timestamp_ns);
            }
        }
        false
    }

    /// Adds `entry` after book `slot`'s entries of this batch.
    #[inline]
    fn route(&mut self, slot: u32, entry: InboundEntry) {
        self.routed.route(slot, entry);
    }

    /// Marks a snapshot point after the last sequenced command: the journal is synced (so
    /// it never ends before a snapshot), then every book gets a checkpoint marker in
    /// sequence and sends its image to the snapshot writer.
    fn checkpoint(&mut self, timestamp_ns: u64) {
        self.since_snapshot = 0;
        if self.failure.is_some() || self.inbound.is_empty() {
            return;
        }
        let synced = match &mut self.journal {
            Some(journal) => journal.sync(),
            None => {
                tracing::warn!("snapshot requested without a journal: ignored");
                return;
            }
        };
        if let Err(error) = synced {
            let seq = self.next_seq;
            self.fail(error, seq);
            return;
        }
        tracing::info!(seq = self.next_seq, "snapshot point");
        for slot in 0..self.inbound.len() as u32 {
            self.route(
                slot,
                InboundEntry::new(self.next_seq, timestamp_ns, Envelope::Checkpoint),
            );
        }
    }

    /// A journal write failed: from now on nothing is routed (the books must never get
    /// ahead of the journal) and callers are refused; `stop` reports it.
    #[cold]
    fn fail(&mut self, error: JournalError, seq: u64) {
        tracing::error!(%error, seq, "journal failed: the engine takes no more commands");
        self.intake_failed.store(true, Ordering::SeqCst);
        self.failure = Some(format!("journal failed at seq {seq}: {error}"));
    }

    /// Drops the commands of the current batch that were waiting for their books, counting
    /// them lost (stop and checkpoint markers are kept).
    fn discard_pending(&mut self) {
        self.lost += self
            .routed
            .discard(|e| matches!(e.view(), EntryView::Stop | EntryView::Checkpoint));
        self.lost += self.direct.len() as u64;
        self.direct.clear();
    }

    /// Publishes every book's pending entries, each book's in one batch (or as many as its
    /// ring has room for at a time), waiting while a ring is full; warns of a stalled book.
    /// Then marks the books for their consumers and rings the consumers that have work.
    fn flush(&mut self, idler: &mut Idler) {
        let (inbound, marks, rooms) = (&mut self.inbound, &mut self.marks, &self.rooms);
        let registry = &self.registry;
        let scratch = &mut self.scratch;
        self.routed.drain(|slot, chain| {
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
