//! The sequencer: the single writer that numbers and timestamps every command and routes
//! it to its book's inbound ring.
//!
//! It takes the ingress ring in batches, sorts each batch by book (keeping each book's
//! order), and publishes every book's share with one batch publication: one cursor store
//! per book per batch instead of one per command, so the book consumers' cache lines move
//! once per batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use disruptor::{MissingFreeSlots, Polling, Producer};

use super::entry::{Envelope, InboundEntry, NO_SLOT, OutMessage, OutboundEntry};
use super::wait::{Doorbell, Idler, WaitStrategy};
use super::{InboundProducer, IngressPoller, OutboundProducer, ThreadReport, nanos_since};
use crate::command::Command;
use crate::registry::InstrumentRegistry;
use crate::result::OrderbookResult;

/// How long a publish may wait on a full ring before it is logged as a slow consumer.
const SLOW: Duration = Duration::from_millis(10);

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

/// The sequencer thread's state.
pub(super) struct Sequencer {
    ingress: IngressPoller,
    inbound: Vec<InboundProducer>,
    outbound: OutboundProducer,
    registry: Arc<InstrumentRegistry>,
    epoch: Instant,
    wait: WaitStrategy,
    next_seq: u64,
    /// Per book: the entries of the current batch, in order.
    pending: Vec<Vec<InboundEntry>>,
    /// The books with pending entries, in first-touched order.
    touched: Vec<u32>,
    bells: Bells,
    /// Consumers with newly published entries, to ring once per batch.
    to_ring: Vec<bool>,
}

impl Sequencer {
    pub(super) fn new(
        ingress: IngressPoller,
        inbound: Vec<InboundProducer>,
        outbound: OutboundProducer,
        registry: Arc<InstrumentRegistry>,
        epoch: Instant,
        wait: WaitStrategy,
        bells: Bells,
    ) -> Sequencer {
        let books = inbound.len();
        let consumers = bells.consumers.len();
        Sequencer {
            ingress,
            inbound,
            outbound,
            registry,
            epoch,
            wait,
            next_seq: 0,
            pending: (0..books).map(|_| Vec::new()).collect(),
            touched: Vec::with_capacity(books.min(BATCH as usize)),
            bells,
            to_ring: vec![false; consumers],
        }
    }

    /// Runs until the stop marker, then passes the marker to every book and tells the
    /// event manager it is done.
    pub(super) fn run(mut self) -> ThreadReport {
        tracing::debug!(books = self.inbound.len(), "sequencer running");
        self.bells.own.register_current();
        let mut idler = self.wait.idler();
        let mut stopping = false;
        while !stopping {
            if !self.ingress.has_available() {
                let ingress = &self.ingress;
                idler.wait_for_work(&self.bells.own, || ingress.has_available());
                continue;
            }
            let mut batch = match self.ingress.take(BATCH) {
                Ok(batch) => batch,
                Err(Polling::NoEvents) => continue,
                Err(Polling::Shutdown) => break,
            };
            idler.reset();
            // One timestamp per batch: every command in it was waiting at the same moment.
            let timestamp_ns = nanos_since(self.epoch);
            for entry in &mut batch {
                let envelope = entry.envelope();
                if let Envelope::Stop = envelope {
                    stopping = true;
                    continue;
                }
                self.next_seq += 1;
                let seq = self.next_seq;
                if entry.slot == NO_SLOT {
                    // No book to keep order with: the reject goes straight out, in sequence.
                    if let Envelope::Reject(command, reason) = envelope {
                        let message =
                            OutMessage::Event(OrderbookResult::rejected(&command, reason));
                        publish_outbound(
                            &mut self.outbound,
                            &mut idler,
                            seq,
                            timestamp_ns,
                            message,
                        );
                    }
                    continue;
                }
                if let Envelope::Apply(Command::Halt { instrument_id }) = envelope {
                    tracing::info!(%instrument_id, seq, "halt sequenced");
                } else if let Envelope::Apply(Command::Resume { instrument_id }) = envelope {
                    tracing::info!(%instrument_id, seq, "resume sequenced");
                }
                let pending = &mut self.pending[entry.slot as usize];
                if pending.is_empty() {
                    self.touched.push(entry.slot);
                }
                pending.push(InboundEntry::new(seq, timestamp_ns, envelope));
            }
            drop(batch);
            self.flush(&mut idler);
        }

        let timestamp_ns = nanos_since(self.epoch);
        for slot in 0..self.inbound.len() {
            self.pending[slot].push(InboundEntry::new(
                self.next_seq,
                timestamp_ns,
                Envelope::Stop,
            ));
            self.touched.push(slot as u32);
        }
        self.flush(&mut idler);
        publish_outbound(
            &mut self.outbound,
            &mut idler,
            self.next_seq,
            timestamp_ns,
            OutMessage::Done,
        );
        self.bells.events.ring();
        tracing::debug!(commands = self.next_seq, "sequencer stopped");
        Vec::new()
    }

    /// Publishes every book's pending entries, each book's in one batch (or as many as its
    /// ring has room for at a time), waiting while a ring is full; logs a slow book.
    fn flush(&mut self, idler: &mut Idler) {
        for slot in self.touched.drain(..) {
            let pending = &mut self.pending[slot as usize];
            let producer = &mut self.inbound[slot as usize];
            let mut start = 0;
            let started = Instant::now();
            let mut warned = false;
            while start < pending.len() {
                let want = pending.len() - start;
                let room = match producer.try_batch_publish(want, |slots| {
                    for (slot, entry) in slots.zip(&pending[start..]) {
                        *slot = *entry;
                    }
                }) {
                    Ok(_) => {
                        start += want;
                        continue;
                    }
                    Err(MissingFreeSlots(missing)) => want.saturating_sub(missing as usize),
                };
                if room > 0 {
                    let published = producer.try_batch_publish(room, |slots| {
                        for (slot, entry) in slots.zip(&pending[start..start + room]) {
                            *slot = *entry;
                        }
                    });
                    if published.is_ok() {
                        start += room;
                        continue;
                    }
                }
                idler.wait_for_space();
                if !warned && started.elapsed() > SLOW {
                    warned = true;
                    tracing::warn!(
                        instrument = %self.registry.instrument(slot),
                        seq = pending[start].seq,
                        "slow book consumer: inbound ring full"
                    );
                }
            }
            pending.clear();
            let consumers = self.to_ring.len();
            if consumers > 0 {
                self.to_ring[slot as usize % consumers] = true;
            }
        }
        for (consumer, ring) in self.to_ring.iter_mut().enumerate() {
            if std::mem::take(ring) {
                self.bells.consumers[consumer].ring();
            }
        }
        idler.reset();
    }
}

/// Publishes one message into the outbound ring, waiting while it is full.
pub(super) fn publish_outbound(
    producer: &mut OutboundProducer,
    idler: &mut Idler,
    seq: u64,
    timestamp_ns: u64,
    message: OutMessage,
) {
    let mut message = Some(message);
    let started = Instant::now();
    let mut warned = false;
    loop {
        let published = producer.try_publish(|slot| {
            *slot = OutboundEntry {
                seq,
                timestamp_ns,
                message: message.take().unwrap_or_default(),
            }
        });
        if published.is_ok() {
            break;
        }
        idler.wait_for_space();
        if !warned && started.elapsed() > SLOW {
            warned = true;
            tracing::warn!(seq, "slow event manager: outbound ring full");
        }
    }
    idler.reset();
}
