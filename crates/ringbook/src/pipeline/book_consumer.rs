//! A book consumer: one thread owning one or more books outright. It polls their inbound
//! rings in turn, applies each command, and publishes the results to the outbound ring.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crossbeam_channel::Sender;
use disruptor::{Polling, Producer};

use super::backpressure::{BackpressureCounters, Ring};
use super::entry::{EntryView, InboundEntry, OutMessage, OutboundEntry};
use super::publish::{Room, publish_all, publish_outbound};
use super::snapshot_writer::BookCheckpoint;
use super::wait::{Doorbell, Idler, RoomBell, WaitStrategy};
use super::{InboundPoller, SlotFlag, SlotFlags, ThreadFailure, ThreadReport, panic_message};
use crate::book::{BookImage, OrderBook};
use crate::result::OrderbookResult;

/// When the outbound ring is full, publish the buffered results once this many are waiting,
/// checked after every command (256 and 2,048 measured no better; 32 and 64 cost the event
/// manager more wake-ups).
const FLUSH_AT: usize = 1024;

/// One owned book and its ring.
pub(super) struct OwnedBook {
    state: BookState,
    inbound: InboundPoller,
    /// Rung after each batch taken from `inbound`, for the sequencer waiting on it.
    room: Arc<RoomBell>,
}

/// An owned book and what its consumer knows of it, apart from its ring (so a batch taken
/// from the ring can be applied to it).
struct BookState {
    book: OrderBook,
    slot: u32,
    /// The stop marker has arrived.
    stopped: bool,
    /// The book panicked: its later commands are drained and counted, not applied.
    failed: bool,
    lost: u64,
    /// Events published for this book's commands since the engine started (its part of
    /// the count a snapshot records, so numbering goes on after recovery).
    events: u64,
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
            state: BookState {
                book,
                slot,
                stopped: false,
                failed: false,
                lost: 0,
                events: 0,
            },
            inbound,
            room,
        }
    }
}

/// What a book consumer needs besides its books and the outbound ring.
pub(super) struct ConsumerSetup {
    /// Where a book that panics is marked, so callers refuse its commands.
    pub(super) flags: Arc<SlotFlags>,
    pub(super) wait: WaitStrategy,
    /// The most commands taken from one book's ring at a time.
    pub(super) batch_size: usize,
    /// Slots in the outbound ring.
    pub(super) outbound_size: usize,
    /// Its own bell (the sequencer rings it).
    pub(super) bell: Arc<Doorbell>,
    /// The event manager's bell, rung after a flush.
    pub(super) events_bell: Arc<Doorbell>,
    /// The outbound ring's room bell, waited on while it is full.
    pub(super) outbound_room: Arc<RoomBell>,
    /// Where waits on a full outbound ring are counted.
    pub(super) backpressure: Arc<BackpressureCounters>,
    /// Where a book's image goes at a checkpoint (when the engine takes snapshots).
    pub(super) checkpoints: Option<Sender<BookCheckpoint>>,
}

/// A book consumer thread's state. `P`: its producer on the outbound ring (a single
/// producer when it is the ring's only one).
pub(super) struct BookConsumer<P> {
    index: usize,
    books: Vec<OwnedBook>,
    outbound: P,
    flags: Arc<SlotFlags>,
    wait: WaitStrategy,
    batch_size: u64,
    /// The most outbound slots claimed for one batch's results (a quarter of the ring, so a
    /// claim never waits for the whole ring to drain).
    claim_limit: usize,
    /// Results waiting for outbound room (only between a batch and its publication).
    buffer: Vec<OutboundEntry>,
    /// Results went into the outbound ring since the event manager was last rung.
    published: bool,
    failures: Vec<ThreadFailure>,
    /// Its own bell (the sequencer rings it) and the event manager's (rung after a flush).
    bell: Arc<Doorbell>,
    events_bell: Arc<Doorbell>,
    /// The outbound ring's room bell, waited on while it is full.
    outbound_room: Arc<RoomBell>,
    /// Where waits on a full outbound ring are counted.
    backpressure: Arc<BackpressureCounters>,
    /// Where a book's image goes at a checkpoint (when the engine takes snapshots).
    checkpoints: Option<Sender<BookCheckpoint>>,
}

impl<P: Producer<OutboundEntry>> BookConsumer<P> {
    pub(super) fn new(
        index: usize,
        books: Vec<OwnedBook>,
        outbound: P,
        setup: ConsumerSetup,
    ) -> BookConsumer<P> {
        let ConsumerSetup {
            flags,
            wait,
            batch_size,
            outbound_size,
            bell,
            events_bell,
            outbound_room,
            backpressure,
            checkpoints,
        } = setup;
        BookConsumer {
            index,
            books,
            outbound,
            flags,
            wait,
            batch_size: batch_size as u64,
            claim_limit: (outbound_size / 4).max(1),
            buffer: Vec::with_capacity(FLUSH_AT * 2),
            published: false,
            failures: Vec::new(),
            bell,
            events_bell,
            outbound_room,
            backpressure,
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
                if self.books[i].state.stopped {
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
            if std::mem::take(&mut self.published) {
                self.events_bell.ring();
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
                        .any(|b| !b.state.stopped && b.inbound.has_available())
                });
            }
        }
        publish_outbound(
            &mut self.outbound,
            &Room {
                bell: &self.outbound_room,
                ring: Ring::Outbound,
                counters: &self.backpressure,
            },
            &mut idler,
            0,
            0,
            OutMessage::Done,
        );
        self.events_bell.ring();
        for owned in self.books.iter().map(|b| &b.state).filter(|b| b.failed) {
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
                .filter(|b| !b.state.failed)
                .map(|b| (b.state.slot, b.state.book))
                .collect(),
        }
    }

    /// Takes up to a batch from book `i`'s ring and applies it. `Ok(false)`: the ring was
    /// empty. `Err`: the book panicked on a command (the rest of the batch is drained as
    /// lost, so a stop marker in it is still seen).
    ///
    /// The results go straight into the outbound ring: as many slots are claimed as the
    /// batch has commands (each has at least one result; at most `claim_limit`), the
    /// results fill them in order, and the ones past them (trades) go to the buffer,
    /// published right after. Slots left over (a stop marker, a checkpoint, a failed book's
    /// lost commands) are published empty. When the ring lacks the room, the results are
    /// buffered and published as room frees.
    fn drain_batch(&mut self, i: usize, idler: &mut Idler) -> Result<bool, String> {
        let OwnedBook {
            state: owned,
            inbound,
            room,
        } = &mut self.books[i];
        let mut batch = match inbound.take(self.batch_size) {
            Ok(batch) => batch,
            Err(Polling::NoEvents) => return Ok(false),
            Err(Polling::Shutdown) => {
                owned.stopped = true;
                return Ok(true);
            }
        };
        let claim = ExactSizeIterator::len(&&mut batch).min(self.claim_limit);
        let buffer = &mut self.buffer;
        let checkpoints = &self.checkpoints;
        let mut panicked = None;
        let mut batch = Some(batch);
        debug_assert!(buffer.is_empty(), "results left from an earlier batch");
        let direct = self.outbound.try_batch_publish(claim, |slots| {
            let mut sink = Direct {
                slots,
                overflow: &mut *buffer,
            };
            if let Some(mut batch) = batch.take() {
                panicked = apply_batch(owned, &mut &mut batch, checkpoints, &mut sink);
            }
            for slot in sink.slots {
                *slot = OutboundEntry::default();
            }
        });
        let mut outbound = Outbound {
            producer: &mut self.outbound,
            room: Room {
                bell: &self.outbound_room,
                ring: Ring::Outbound,
                counters: &self.backpressure,
            },
            events_bell: &self.events_bell,
            consumer: self.index,
        };
        if direct.is_ok() {
            self.published = true;
        }
        if let Some(mut batch) = batch {
            // The ring lacked the room: buffered, published each time `FLUSH_AT` wait.
            let mut sink = Buffered {
                buffer,
                outbound: &mut outbound,
                idler,
            };
            panicked = apply_batch(owned, &mut &mut batch, checkpoints, &mut sink);
        }
        if !buffer.is_empty() {
            outbound.flush(buffer, idler);
        }
        room.freed();
        panicked.map_or(Ok(true), Err)
    }

    /// Marks book `index` failed after a panic: callers are refused from now on, and the
    /// commands still in its ring are drained and counted as lost.
    fn fail_book(&mut self, index: usize, message: String) {
        let owned = &mut self.books[index].state;
        owned.failed = true;
        self.flags.set(owned.slot, SlotFlag::FAILED);
        let instrument = owned.book.instrument_id();
        tracing::error!(%instrument, consumer = self.index, %message, "order book panicked; its book is closed");
        self.failures.push(ThreadFailure {
            instruments: vec![instrument],
            lost_commands: 0,
            message,
        });
    }
}

/// Applies every command of `batch` to `owned`'s book, in order, handing each result to
/// `sink`. Returns the panic message if the book panicked (the commands after it are
/// counted as lost, not applied; markers are still seen).
///
/// One `catch_unwind` around the whole batch rather than one per command: the batch
/// iterator has moved past the command that panicked, so the rest is drained after it.
fn apply_batch<'b, I: Iterator<Item = &'b InboundEntry>>(
    owned: &mut BookState,
    batch: &mut I,
    checkpoints: &Option<Sender<BookCheckpoint>>,
    sink: &mut impl ResultSink,
) -> Option<String> {
    let mut panicked = None;
    if !owned.failed {
        let applied = panic::catch_unwind(AssertUnwindSafe(|| {
            apply_all(owned, &mut *batch, checkpoints, sink)
        }));
        match applied {
            Ok(()) => return None,
            Err(payload) => {
                owned.lost += 1;
                panicked = Some(panic_message(payload.as_ref()));
            }
        }
    }
    // A failed book: its commands are lost, its markers still honoured, and rejects (which
    // never touch the book, and include the sequencer's for unregistered instruments)
    // still published.
    for entry in batch {
        match entry.view() {
            EntryView::Stop => owned.stopped = true,
            EntryView::Checkpoint => {
                send_checkpoint(checkpoints, entry.seq, owned.slot, owned.events, None)
            }
            EntryView::Reject(command, reason) => {
                owned.events += 1;
                sink.put(OutboundEntry::event(
                    entry.seq,
                    entry.timestamp_ns,
                    OrderbookResult::rejected(command, reason),
                ))
            }
            EntryView::Apply(_) => owned.lost += 1,
        }
    }
    panicked
}

/// [`apply_batch`] for a live book, until the batch ends or the book panics.
#[inline]
fn apply_all<'b>(
    owned: &mut BookState,
    batch: impl Iterator<Item = &'b InboundEntry>,
    checkpoints: &Option<Sender<BookCheckpoint>>,
    sink: &mut impl ResultSink,
) {
    for entry in batch {
        let (seq, timestamp_ns) = (entry.seq, entry.timestamp_ns);
        match entry.view() {
            EntryView::Apply(command) => {
                #[cfg(test)]
                tests_hook::maybe_panic(command);
                let events = &mut owned.events;
                owned.book.apply(command, &mut |result| {
                    *events += 1;
                    sink.put(OutboundEntry::event(seq, timestamp_ns, result))
                });
            }
            EntryView::Stop => owned.stopped = true,
            EntryView::Checkpoint => {
                if checkpoints.is_some() {
                    let image = owned.book.image();
                    send_checkpoint(checkpoints, seq, owned.slot, owned.events, Some(image));
                }
            }
            EntryView::Reject(command, reason) => {
                owned.events += 1;
                sink.put(OutboundEntry::event(
                    seq,
                    timestamp_ns,
                    OrderbookResult::rejected(command, reason),
                ))
            }
        }
        sink.command_done();
    }
}

/// Sends a book's image (`None`: the book failed) and its count of events at the
/// checkpoint `seq` to the snapshot writer, if the engine takes snapshots.
fn send_checkpoint(
    checkpoints: &Option<Sender<BookCheckpoint>>,
    seq: u64,
    slot: u32,
    events: u64,
    image: Option<BookImage>,
) {
    if let Some(tx) = checkpoints {
        // The writer only goes away at shutdown, after every consumer.
        let _ = tx.send(BookCheckpoint {
            seq,
            slot,
            events,
            image,
        });
    }
}

/// Where a book consumer puts the results of the commands it applies.
trait ResultSink {
    /// Takes the next result, in order.
    fn put(&mut self, entry: OutboundEntry);
    /// Called after each command's results.
    fn command_done(&mut self) {}
}

/// Claimed outbound slots, filled in order; the results past them go to `overflow`.
struct Direct<'s, I> {
    slots: I,
    overflow: &'s mut Vec<OutboundEntry>,
}

impl<'r, I: Iterator<Item = &'r mut OutboundEntry>> ResultSink for Direct<'_, I> {
    #[inline]
    fn put(&mut self, entry: OutboundEntry) {
        match self.slots.next() {
            Some(slot) => *slot = entry,
            None => self.overflow.push(entry),
        }
    }
}

/// The buffer, published whenever it reaches [`FLUSH_AT`] (used when the ring is full).
struct Buffered<'s, 'o, 'i, P> {
    buffer: &'s mut Vec<OutboundEntry>,
    outbound: &'s mut Outbound<'o, P>,
    idler: &'i mut Idler,
}

impl<P: Producer<OutboundEntry>> ResultSink for Buffered<'_, '_, '_, P> {
    #[inline]
    fn put(&mut self, entry: OutboundEntry) {
        self.buffer.push(entry);
    }

    fn command_done(&mut self) {
        if self.buffer.len() >= FLUSH_AT {
            self.outbound.flush(self.buffer, self.idler);
        }
    }
}

/// The consumer's side of the outbound ring, borrowed apart from its books.
struct Outbound<'a, P> {
    producer: &'a mut P,
    room: Room<'a>,
    events_bell: &'a Doorbell,
    consumer: usize,
}

impl<P: Producer<OutboundEntry>> Outbound<'_, P> {
    /// Publishes every buffered result, in order, as batches of whatever room the ring has
    /// (waiting while it is full), and rings the event manager.
    fn flush(&mut self, buffer: &mut Vec<OutboundEntry>, idler: &mut Idler) {
        let consumer = self.consumer;
        publish_all(
            self.producer,
            &self.room,
            buffer,
            idler,
            |_, waiting, waited| {
                tracing::warn!(
                    consumer,
                    waiting,
                    ?waited,
                    "outbound ring full for over a second: the event manager is stalled"
                );
            },
        );
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
