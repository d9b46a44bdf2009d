//! The sequencer: the single writer that numbers and timestamps every command and routes
//! it to its book's inbound ring.

use std::sync::Arc;
use std::time::{Duration, Instant};

use disruptor::{Polling, Producer};

use super::entry::{Envelope, InboundEntry, NO_SLOT, OutMessage, OutboundEntry};
use super::wait::{Idler, WaitStrategy};
use super::{InboundProducer, IngressPoller, OutboundProducer, ThreadReport, nanos_since};
use crate::command::Command;
use crate::registry::InstrumentRegistry;
use crate::result::OrderbookResult;

/// How long a publish may wait on a full ring before it is logged as a slow consumer.
const SLOW: Duration = Duration::from_millis(10);

/// The sequencer thread's state.
pub(super) struct Sequencer {
    ingress: IngressPoller,
    inbound: Vec<InboundProducer>,
    outbound: OutboundProducer,
    registry: Arc<InstrumentRegistry>,
    epoch: Instant,
    wait: WaitStrategy,
    next_seq: u64,
}

impl Sequencer {
    pub(super) fn new(
        ingress: IngressPoller,
        inbound: Vec<InboundProducer>,
        outbound: OutboundProducer,
        registry: Arc<InstrumentRegistry>,
        epoch: Instant,
        wait: WaitStrategy,
    ) -> Sequencer {
        Sequencer {
            ingress,
            inbound,
            outbound,
            registry,
            epoch,
            wait,
            next_seq: 0,
        }
    }

    /// Runs until the stop marker, then passes the marker to every book and tells the
    /// event manager it is done.
    pub(super) fn run(mut self) -> ThreadReport {
        tracing::debug!(books = self.inbound.len(), "sequencer running");
        let mut idler = self.wait.idler();
        let mut stopping = false;
        while !stopping {
            let mut batch = match self.ingress.poll() {
                Ok(batch) => batch,
                Err(Polling::NoEvents) => {
                    idler.idle();
                    continue;
                }
                Err(Polling::Shutdown) => break,
            };
            idler.reset();
            // One timestamp per batch: every command in it was waiting at the same moment.
            let timestamp_ns = nanos_since(self.epoch);
            for entry in &mut batch {
                let envelope = entry.envelope;
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
                if let Envelope::Apply(
                    Command::Halt { instrument_id } | Command::Resume { instrument_id },
                ) = envelope
                {
                    let op = match envelope {
                        Envelope::Apply(Command::Halt { .. }) => "halt",
                        _ => "resume",
                    };
                    tracing::info!(%instrument_id, seq, op, "sequenced");
                }
                let inbound = InboundEntry {
                    seq,
                    timestamp_ns,
                    envelope,
                };
                publish_inbound(
                    &mut self.inbound[entry.slot as usize],
                    &mut idler,
                    inbound,
                    || self.registry.instrument(entry.slot),
                );
            }
        }
        drop(self.ingress);
        let timestamp_ns = nanos_since(self.epoch);
        for (slot, producer) in self.inbound.iter_mut().enumerate() {
            let stop = InboundEntry {
                seq: self.next_seq,
                timestamp_ns,
                envelope: Envelope::Stop,
            };
            publish_inbound(producer, &mut idler, stop, || {
                self.registry.instrument(slot as u32)
            });
        }
        publish_outbound(
            &mut self.outbound,
            &mut idler,
            self.next_seq,
            timestamp_ns,
            OutMessage::Done,
        );
        tracing::debug!(commands = self.next_seq, "sequencer stopped");
        Vec::new()
    }
}

/// Publishes into a book's inbound ring, waiting while it is full; logs a slow book.
fn publish_inbound(
    producer: &mut InboundProducer,
    idler: &mut Idler,
    entry: InboundEntry,
    instrument: impl Fn() -> uuid::Uuid,
) {
    if producer.try_publish(|slot| *slot = entry).is_ok() {
        return;
    }
    let started = Instant::now();
    let mut warned = false;
    while producer.try_publish(|slot| *slot = entry).is_err() {
        idler.idle();
        if !warned && started.elapsed() > SLOW {
            warned = true;
            tracing::warn!(instrument = %instrument(), seq = entry.seq, "slow book consumer: inbound ring full");
        }
    }
    idler.reset();
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
        idler.idle();
        if !warned && started.elapsed() > SLOW {
            warned = true;
            tracing::warn!(seq, "slow event manager: outbound ring full");
        }
    }
    idler.reset();
}
