//! A book consumer: one thread owning one or more books outright. It polls their inbound
//! rings in turn, applies each command, and publishes the results to the outbound ring.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crossbeam_channel::Sender;
use disruptor::Polling;

use super::entry::{Envelope, OutMessage, OutboundEntry};
use super::publish::{publish_all, publish_outbound};
use super::snapshot_writer::BookCheckpoint;
use super::wait::{Doorbell, Idler, RoomBell, WaitStrategy};
use super::{
    InboundPoller, OutboundProducer, SlotBits, ThreadFailure, ThreadReport, panic_message,
};
use crate::book::OrderBook;
use crate::result::OrderbookResult;

/// Publish the buffered results once this many are waiting, checked after every command
/// (256 and 2,048 measured no better; 32 and 64 cost the event manager more wake-ups).
const FLUSH_AT: usize = 1024;

/// One owned book and its ring.
pub(super) struct OwnedBook {
    book: OrderBook,
    inbound: InboundPoller,
    /// Rung after each batch taken from `inbound`, for the sequencer waiting on it.
    room: Arc<RoomBell>,
    slot: u32,
    /// The stop marker has arrived.
    stopped: bool,
    /// The book panicked: its later commands are drained and counted, not applied.
    failed: bool,
    lost: u64,
}

impl OwnedBook {
    /// `book`, handed to a consumer with its inbound ring, its slot and the ring's room
    /// bell.
    pub(super) fn new(
        book: OrderBook,
        inbound: InboundPoller,
        slot: u32,
        room: Arc<RoomBell>,
    ) -> OwnedBook {
        OwnedBook {
            book,
            inbound,
            room,
            slot,
            stopped: false,
            failed: false,
            lost: 0,
        }
    }
}

/// What a book consumer needs besides its books and the outbound ring.
pub(super) struct ConsumerSetup {
    /// Where a book that panics is marked, so callers refuse its commands.
    pub(super) failed_slots: Arc<SlotBits>,
    pub(super) wait: WaitStrategy,
    /// The most commands taken from one book's ring at a time.
    pub(super) batch_size: usize,
    /// Its own bell (the sequencer rings it).
    pub(super) bell: Arc<Doorbell>,
    /// The event manager's bell, rung after a flush.
    pub(super) events_bell: Arc<Doorbell>,
    /// The outbound ring's room bell, waited on while it is full.
    pub(super) outbound_room: Arc<RoomBell>,
    /// Where a book's image goes at a checkpoint (when the engine takes snapshots).
    pub(super) checkpoints: Option<Sender<BookCheckpoint>>,
}

/// A book consumer thread's state.
pub(super) struct BookConsumer {
    index: usize,
    books: Vec<OwnedBook>,
    outbound: OutboundProducer,
    failed_slots: Arc<SlotBits>,
    wait: WaitStrategy,
    batch_size: u64,
    buffer: Vec<OutboundEntry>,
    failures: Vec<ThreadFailure>,
    /// Its own bell (the sequencer rings it) and the event manager's (rung after a flush).
    bell: Arc<Doorbell>,
    events_bell: Arc<Doorbell>,
    /// The outbound ring's room bell, waited on while it is full.
    outbound_room: Arc<RoomBell>,
    /// Where a book's image goes at a checkpoint (when the engine takes snapshots).
    checkpoints: Option<Sender<BookCheckpoint>>,
}

impl BookConsumer {
    pub(super) fn new(
        index: usize,
        books: Vec<OwnedBook>,
        outbound: OutboundProducer,
        setup: ConsumerSetup,
    ) -> BookConsumer {
        let ConsumerSetup {
            failed_slots,
            wait,
            batch_size,
            bell,
            events_bell,
            outbound_room,
            checkpoints,
        } = setup;
        BookConsumer {
            index,
            books,
            outbound,
            failed_slots,
            wait,
            batch_size: batch_size as u64,
            buffer: Vec::with_capacity(FLUSH_AT * 2),
            failures: Vec::new(),
            bell,
            events_bell,
            outbound_room,
            checkpoints,
        }
    }

    /// Runs until every owned book has received its stop marker. A panic inside a book
    /// fails that book alone; the thread goes on with the others.
    pub(super) fn run(mut self) -> ThreadReport {
        tracing::debug!(
            consumer = self.index,
            books = self.books.len(),
            "book consumer running"
        );
        self.bell.register_current();
        let mut idler = self.wait.idler();
        loop {
            let mut worked = false;
            let mut live = 0usize;
            for i in 0..self.books.len() {
                if self.books[i].stopped {
                    continue;
                }
                live += 1;
                match self.drain_batch(i, &mut idler) {
                    Ok(true) => worked = true,
                    Ok(false) => {}
                    Err(message) => {
                        worked = true;
                        self.fail_book(i, message);
                    }
                }
            }
            if !self.buffer.is_empty() {
                self.flush(&mut idler);
            }
            if live == 0 {
                break;
            }
            if worked {
                idler.reset();
            } else {
                let books = &self.books;
                idler.wait_for_work(&self.bell, || {
                    books
                        .iter()
                        .any(|b| !b.stopped && b.inbound.has_available())
                });
            }
        }
        publish_outbound(
            &mut self.outbound,
            &self.outbound_room,
            &mut idler,
            0,
            0,
            OutMessage::Done,
        );
        self.events_bell.ring();
        for owned in self.books.iter().filter(|b| b.failed) {
            let instrument = owned.book.instrument_id();
            if let Some(f) = self
                .failures
                .iter_mut()
                .find(|f| f.instruments == [instrument])
            {
                f.lost_commands = owned.lost;
            }
            tracing::error!(%instrument, lost = owned.lost, "commands to a failed book got no result");
        }
        tracing::debug!(consumer = self.index, "book consumer stopped");
        ThreadReport {
            failures: self.failures,
            books: self
                .books
                .into_iter()
                .filter(|b| !b.failed)
                .map(|b| (b.slot, b.book))
                .collect(),
        }
    }

    /// Takes up to a batch from book `i`'s ring and applies it. `Ok(false)`: the ring was
    /// empty. `Err`: the book panicked on a command (the rest of the batch is drained as
    /// lost, so a stop marker in it is still seen).
    fn drain_batch(&mut self, i: usize, idler: &mut Idler) -> Result<bool, String> {
        let owned = &mut self.books[i];
        let mut outbound = Outbound {
            producer: &mut self.outbound,
            room: &self.outbound_room,
            events_bell: &self.events_bell,
            consumer: self.index,
        };
        let mut batch = match owned.inbound.take(self.batch_size) {
            Ok(batch) => batch,
            Err(Polling::NoEvents) => return Ok(false),
            Err(Polling::Shutdown) => {
                owned.stopped = true;
                return Ok(true);
            }
        };
        let buffer = &mut self.buffer;
        let checkpoints = &self.checkpoints;
        let mut panicked = None;
        for entry in &mut batch {
            let (seq, timestamp_ns) = (entry.seq, entry.timestamp_ns);
            match entry.envelope() {
                Envelope::Stop => owned.stopped = true,
                Envelope::Checkpoint => {
                    if let Some(tx) = checkpoints {
                        let image =
                            (!owned.failed && panicked.is_none()).then(|| owned.book.image());
                        // The writer only goes away at shutdown, after every consumer.
                        let _ = tx.send(BookCheckpoint {
                            seq,
                            slot: owned.slot,
                            image,
                        });
                    }
                }
                _ if owned.failed || panicked.is_some() => owned.lost += 1,
                Envelope::Apply(command) => {
                    let book = &mut owned.book;
                    let applied = panic::catch_unwind(AssertUnwindSafe(|| {
                        #[cfg(test)]
                        tests_hook::maybe_panic(&command);
                        book.apply(&command, &mut |result| {
                            buffer.push(OutboundEntry {
                                seq,
                                timestamp_ns,
                                message: OutMessage::Event(result),
                            })
                        })
                    }));
                    if let Err(payload) = applied {
                        owned.lost += 1;
                        panicked = Some(panic_message(payload.as_ref()));
                    }
                }
                Envelope::Reject(command, reason) => buffer.push(OutboundEntry {
                    seq,
                    timestamp_ns,
                    message: OutMessage::Event(OrderbookResult::rejected(&command, reason)),
                }),
            }
            if buffer.len() >= FLUSH_AT {
                outbound.flush(buffer, idler);
            }
        }
        drop(batch);
        owned.room.freed();
        panicked.map_or(Ok(true), Err)
    }

    /// Marks book `index` failed after a panic: callers are refused from now on, and the
    /// commands still in its ring are drained and counted as lost.
    fn fail_book(&mut self, index: usize, message: String) {
        let owned = &mut self.books[index];
        owned.failed = true;
        self.failed_slots.set(owned.slot);
        let instrument = owned.book.instrument_id();
        tracing::error!(%instrument, consumer = self.index, %message, "order book panicked; its book is closed");
        self.failures.push(ThreadFailure {
            instruments: vec![instrument],
            lost_commands: 0,
            message,
        });
    }

    /// Publishes every buffered result to the outbound ring and rings the event manager.
    fn flush(&mut self, idler: &mut Idler) {
        Outbound {
            producer: &mut self.outbound,
            room: &self.outbound_room,
            events_bell: &self.events_bell,
            consumer: self.index,
        }
        .flush(&mut self.buffer, idler);
    }
}

/// The consumer's side of the outbound ring, borrowed apart from its books.
struct Outbound<'a> {
    producer: &'a mut OutboundProducer,
    room: &'a RoomBell,
    events_bell: &'a Doorbell,
    consumer: usize,
}

impl Outbound<'_> {
    /// Publishes every buffered result, in order, as batches of whatever room the ring has
    /// (waiting while it is full), and rings the event manager.
    fn flush(&mut self, buffer: &mut Vec<OutboundEntry>, idler: &mut Idler) {
        let consumer = self.consumer;
        publish_all(self.producer, self.room, buffer, idler, |_, waiting| {
            tracing::warn!(consumer, waiting, "slow event manager: outbound ring full");
        });
        self.events_bell.ring();
    }
}

#[cfg(test)]
pub(crate) mod tests_hook {
    //! Test-only fault injection: an add with this order id panics inside the consumer.
    use crate::command::Command;

    /// The order id that makes a book consumer panic (tests only).
    pub(crate) const PANIC_ORDER_ID: u128 = 0xdead_beef_dead_beef;

    pub(crate) fn maybe_panic(command: &Command) {
        if let Command::Add(order) = command
            && order.order_id.as_u128() == PANIC_ORDER_ID
        {
            panic!("injected book panic");
        }
    }
}
