//! A book consumer: one thread owning one or more books outright. It takes the books with
//! work from its [`DirtyBooks`] (marked by the sequencer as it publishes), polls only
//! their inbound rings, in turn, applies each command, and publishes the results to the
//! outbound ring. Its cost per command does not grow with the number of books it owns.
//!
//! Its books share one id index ([`SharedIdIndex`], issues 18 and 21): the engine's books
//! share one sequence of order ids, so one index over a thread's books stays dense where
//! one per book would see every Nth id. Each book's ids move there when the thread takes
//! it and back into an index of the book's own when it hands the book back.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crossbeam_channel::Sender;
use disruptor::{Polling, Producer};

use super::backpressure::{BackpressureCounters, Ring};
use super::dirty::DirtyBooks;
use super::entry::{EntryView, InboundEntry, OutMessage, OutboundEntry};
use super::publish::{Room, publish_all, publish_outbound};
use super::snapshot_writer::BookCheckpoint;
use super::wait::{Doorbell, Idler, RoomBell, WaitStrategy};
use super::{InboundPoller, SlotFlag, SlotFlags, ThreadFailure, ThreadReport, panic_message};
use crate::book::{BookImage, OrderBook, SharedIdIndex, prefetch};
use crate::command::Command;
use crate::result::OrderbookResult;

/// When the outbound ring is full, publish the buffered results once this many are waiting,
/// checked after every command (256 and 2,048 measured no better; 32 and 64 cost the event
/// manager more wake-ups).
const FLUSH_AT: usize = 1024;

/// One owned book and its ring.
pub(super) struct OwnedBook {
    state: BookState,
    inbound: InboundPoller,
    /// Rung after a batch taken from `inbound` while the sequencer waits for room in it.
    room: Arc<RoomBell>,
}

/// An owned book and what its consumer knows of it, apart from its ring (so a batch taken
/// from the ring can be applied to it).
pub(super) struct BookState {
    /// Its ids are in its thread's shared index (see [`BookState::share_ids`]) from the
    /// thread's start to [`books_report`].
    book: OrderBook,
    slot: u32,
    /// Its number in its thread's shared index.
    number: u32,
    /// The stop marker has arrived.
    stopped: bool,
    /// The book panicked: its later commands are drained and counted, not applied.
    failed: bool,
    lost: u64,
    /// Events published for this book's commands since the engine started (its part of
    /// the count a snapshot records, so numbering goes on after recovery).
    events: u64,
}

impl BookState {
    /// Starts loading what applying `command` to this book reads first (see
    /// `book::prefetch`, the header stage): this state and the book's hot lines.
    #[inline(always)]
    pub(super) fn prefetch_header(&self, ids: &SharedIdIndex, command: &Command) {
        prefetch(&self.failed);
        prefetch(&self.events);
        self.book.prefetch_header(ids, command);
    }

    /// The contents stage: what the book's fields point to; a cancelled or modified
    /// order's slot, for [`Self::prefetch_order`].
    #[inline(always)]
    pub(super) fn prefetch_contents(&self, ids: &SharedIdIndex, command: &Command) -> Option<u32> {
        self.book.prefetch_contents(ids, self.number, command)
    }

    /// The order stage: what the order at `slot` points to.
    #[inline(always)]
    pub(super) fn prefetch_order(&self, ids: &SharedIdIndex, command: &Command, slot: u32) {
        self.book.prefetch_order(ids, command, slot);
    }
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
            state: BookState::new(book, slot),
            inbound,
            room,
        }
    }
}

impl BookState {
    /// `book`, in slot `slot`, live.
    pub(super) fn new(book: OrderBook, slot: u32) -> BookState {
        BookState {
            book,
            slot,
            number: 0,
            stopped: false,
            failed: false,
            lost: 0,
            events: 0,
        }
    }

    /// Moves the book's ids into its thread's shared index `ids`, as book number
    /// `number` (each of the thread's books its own).
    pub(super) fn share_ids(&mut self, ids: &mut SharedIdIndex, number: u32) {
        self.number = number;
        self.book.share_ids(ids, number);
    }

    /// Marks the book failed after a panic (`message`) on consumer `consumer`: callers
    /// are refused from now on (its slot's failed flag), its later commands are drained
    /// and counted as lost, and its ids leave the thread's shared index `ids` (the book
    /// is never applied again nor handed back). Returns the failure to report.
    pub(super) fn fail(
        &mut self,
        flags: &SlotFlags,
        ids: &mut SharedIdIndex,
        consumer: usize,
        message: String,
    ) -> ThreadFailure {
        self.failed = true;
        ids.forget_book(self.number);
        flags.set(self.slot, SlotFlag::FAILED);
        let instrument = self.book.instrument_id();
        tracing::error!(%instrument, consumer, %message, "order book panicked; its book is closed");
        ThreadFailure {
            instruments: vec![instrument],
            lost_commands: 0,
            message,
        }
    }
}

/// What a thread owning `books` reports when it ends: `failures` (the failed books' lost
/// commands filled in) and every live book, by slot, each with its ids back from the
/// thread's shared index `ids` in an index of its own (a whole book).
pub(super) fn books_report(
    books: impl Iterator<Item = BookState>,
    ids: &mut SharedIdIndex,
    mut failures: Vec<ThreadFailure>,
) -> ThreadReport {
    let mut live = Vec::new();
    for mut owned in books {
        if !owned.failed {
            owned.book.own_ids(ids, owned.number);
            live.push((owned.slot, owned.book));
            continue;
        }
        let instrument = owned.book.instrument_id();
        if let Some(f) = failures.iter_mut().find(|f| f.instruments == [instrument]) {
            f.lost_commands = owned.lost;
        }
        tracing::error!(%instrument, lost = owned.lost, "commands to a failed book got no result");
    }
    ThreadReport {
        failures,
        books: live,
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
    /// Its books with work, marked by the sequencer (by index among its books).
    pub(super) dirty: Arc<DirtyBooks>,
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
    /// The ids of all its books, each book numbered by its place in `books`.
    ids: SharedIdIndex,
    /// Its books with work, marked by the sequencer.
    dirty: Arc<DirtyBooks>,
    /// The books to poll this round, in order: drained from `dirty`, and the ones whose
    /// last batch was full (they may hold more).
    ready: Vec<usize>,
    /// Per book: in `ready`.
    queued: Vec<bool>,
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
        mut books: Vec<OwnedBook>,
        outbound: P,
        setup: ConsumerSetup,
    ) -> BookConsumer<P> {
        let ConsumerSetup {
            flags,
            wait,
            batch_size,
            outbound_size,
            bell,
            dirty,
            events_bell,
            outbound_room,
            backpressure,
            checkpoints,
        } = setup;
        let count = books.len();
        let mut ids = SharedIdIndex::default();
        for (owned, number) in books.iter_mut().zip(0..) {
            owned.state.share_ids(&mut ids, number);
        }
        BookConsumer {
            index,
            books,
            ids,
            dirty,
            ready: Vec::new(),
            queued: vec![false; count],
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
    ///
    /// Each round takes the books the sequencer marked since the last, then takes up to a
    /// batch from each ready book in turn; a book whose batch was full stays ready for the
    /// next round (so a busy book never starves the others), the rest wait for their next
    /// mark. A book leaves `ready` only after a poll that emptied its ring, after the
    /// drain that unmarked it: entries published since were marked again.
    pub(super) fn run(mut self) -> ThreadReport {
        tracing::debug!(
            consumer = self.index,
            books = self.books.len(),
            "book consumer running"
        );
        self.bell.register_current();
        let mut idler = self.wait.idler();
        let mut live = self.books.len();
        loop {
            let (ready, queued) = (&mut self.ready, &mut self.queued);
            self.dirty.drain(|book| {
                if !std::mem::replace(&mut queued[book], true) {
                    ready.push(book);
                }
            });
            if self.ready.is_empty() {
                if live == 0 {
                    break;
                }
                let dirty = &self.dirty;
                idler.wait_for_work(&self.bell, || dirty.any());
                continue;
            }
            idler.reset();
            let mut kept = 0;
            for at in 0..self.ready.len() {
                let i = self.ready[at];
                if self.books[i].state.stopped {
                    self.queued[i] = false;
                    continue;
                }
                let (more, panicked) = self.drain_batch(i, &mut idler);
                if let Some(message) = panicked {
                    self.fail_book(i, message);
                }
                if self.books[i].state.stopped {
                    live -= 1;
                    self.queued[i] = false;
                } else if more {
                    self.ready[kept] = i;
                    kept += 1;
                } else {
                    self.queued[i] = false;
                }
            }
            self.ready.truncate(kept);
            if std::mem::take(&mut self.published) {
                self.events_bell.ring();
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
        tracing::debug!(consumer = self.index, "book consumer stopped");
        books_report(
            self.books.into_iter().map(|b| b.state),
            &mut self.ids,
            self.failures,
        )
    }

    /// Takes up to a batch from book `i`'s ring and applies it. Returns whether the ring
    /// still holds entries after it (a full batch, or one that ended with a segment), and the panic message if the book panicked on a
    /// command (the rest of the batch is then drained as lost, so a stop marker in it is
    /// still seen).
    ///
    /// The results go straight into the outbound ring: as many slots are claimed as the
    /// batch has commands (each has at least one result; at most `claim_limit`), the
    /// results fill them in order, and the ones past them (trades) go to the buffer,
    /// published right after. Slots left over (a stop marker, a checkpoint, a failed book's
    /// lost commands) are published empty. When the ring lacks the room, the results are
    /// buffered and published as room frees.
    fn drain_batch(&mut self, i: usize, idler: &mut Idler) -> (bool, Option<String>) {
        let OwnedBook {
            state: owned,
            inbound,
            room,
        } = &mut self.books[i];
        let mut batch = match inbound.take(self.batch_size) {
            Ok(batch) => batch,
            Err(Polling::NoEvents) => return (false, None),
            Err(Polling::Shutdown) => {
                owned.stopped = true;
                return (false, None);
            }
        };
        let claim = ExactSizeIterator::len(&&mut batch).min(self.claim_limit);
        let buffer = &mut self.buffer;
        let ids = &mut self.ids;
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
                panicked = apply_batch(owned, ids, &mut &mut batch, checkpoints, &mut sink);
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
        if let Some(mut batch) = batch.take() {
            // The ring lacked the room: buffered, published each time `FLUSH_AT` wait.
            let mut sink = Buffered {
                buffer,
                outbound: &mut outbound,
                idler,
            };
            panicked = apply_batch(owned, ids, &mut &mut batch, checkpoints, &mut sink);
        }
        if !buffer.is_empty() {
            outbound.flush(buffer, idler);
        }
        // Released (dropped) by now, in the closure or above.
        drop(batch);
        if inbound.producer_waits() {
            room.freed();
        }
        (inbound.has_available(), panicked)
    }

    /// Marks book `index` failed after a panic: callers are refused from now on, and the
    /// commands still in its ring are drained and counted as lost.
    fn fail_book(&mut self, index: usize, message: String) {
        let failure = self.books[index]
            .state
            .fail(&self.flags, &mut self.ids, self.index, message);
        self.failures.push(failure);
    }
}

/// Applies every command of `batch` to `owned`'s book (its ids in `ids`), in order,
/// handing each result to `sink`. Returns the panic message if the book panicked (the commands after it are
/// counted as lost, not applied; markers are still seen).
///
/// One `catch_unwind` around the whole batch rather than one per command: the batch
/// iterator has moved past the command that panicked, so the rest is drained after it.
pub(super) fn apply_batch<'b, I: Iterator<Item = &'b InboundEntry>>(
    owned: &mut BookState,
    ids: &mut SharedIdIndex,
    batch: &mut I,
    checkpoints: &Option<Sender<BookCheckpoint>>,
    sink: &mut impl ResultSink,
) -> Option<String> {
    let mut panicked = None;
    if !owned.failed {
        let applied = panic::catch_unwind(AssertUnwindSafe(|| {
            apply_all(owned, ids, &mut *batch, checkpoints, sink)
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
                sink.put(
                    entry.seq,
                    entry.timestamp_ns,
                    OrderbookResult::rejected(command, reason),
                )
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
    ids: &mut SharedIdIndex,
    batch: impl Iterator<Item = &'b InboundEntry>,
    checkpoints: &Option<Sender<BookCheckpoint>>,
    sink: &mut impl ResultSink,
) {
    for entry in batch {
        let (seq, timestamp_ns) = (entry.seq, entry.timestamp_ns);
        match entry.view() {
            EntryView::Apply(command) => {
                apply_command(owned, ids, seq, timestamp_ns, command, sink)
            }
            EntryView::Stop => owned.stopped = true,
            EntryView::Checkpoint => {
                if checkpoints.is_some() {
                    let image = owned.book.image_shared(ids);
                    send_checkpoint(checkpoints, seq, owned.slot, owned.events, Some(image));
                }
            }
            EntryView::Reject(command, reason) => {
                owned.events += 1;
                sink.put(
                    seq,
                    timestamp_ns,
                    OrderbookResult::rejected(command, reason),
                )
            }
        }
        sink.command_done();
    }
}

/// Applies `command`, numbered `seq` and stamped `timestamp_ns`, to `owned`'s live book
/// (its ids in `ids`), each result to `sink`.
#[inline(always)]
fn apply_command(
    owned: &mut BookState,
    ids: &mut SharedIdIndex,
    seq: u64,
    timestamp_ns: u64,
    command: &Command,
    sink: &mut impl ResultSink,
) {
    #[cfg(test)]
    tests_hook::maybe_panic(command);
    let events = &mut owned.events;
    owned
        .book
        .apply_shared(ids, owned.number, command, &mut |result| {
            *events += 1;
            sink.put(seq, timestamp_ns, result)
        });
}

/// [`apply_batch`] of one command to apply, given as it lies in the ingress ring (no
/// entry built for it): a failed book counts it lost, a panic fails the book and is
/// returned.
#[inline]
pub(super) fn apply_one(
    owned: &mut BookState,
    ids: &mut SharedIdIndex,
    seq: u64,
    timestamp_ns: u64,
    command: &Command,
    sink: &mut impl ResultSink,
) -> Option<String> {
    if owned.failed {
        owned.lost += 1;
        return None;
    }
    let applied = panic::catch_unwind(AssertUnwindSafe(|| {
        apply_command(owned, ids, seq, timestamp_ns, command, sink)
    }));
    applied.err().map(|payload| {
        owned.lost += 1;
        panic_message(payload.as_ref())
    })
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
pub(super) trait ResultSink {
    /// Takes the next result, in order.
    fn put(&mut self, seq: u64, timestamp_ns: u64, result: OrderbookResult);
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
    fn put(&mut self, seq: u64, timestamp_ns: u64, result: OrderbookResult) {
        let entry = OutboundEntry::event(seq, timestamp_ns, result);
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
    fn put(&mut self, seq: u64, timestamp_ns: u64, result: OrderbookResult) {
        self.buffer
            .push(OutboundEntry::event(seq, timestamp_ns, result));
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

#[cfg(test)]
mod tests {
    //! The consumer's books share one id index: what it hands back is whole.
    use uuid::Uuid;

    use super::*;
    use crate::types::{Order, Side};

    /// Results, collected.
    struct Collect(Vec<OrderbookResult>);

    impl ResultSink for Collect {
        fn put(&mut self, _seq: u64, _timestamp_ns: u64, result: OrderbookResult) {
            self.0.push(result);
        }
    }

    fn instrument(n: u32) -> Uuid {
        Uuid::from_u128(0xB00C_0000 + u128::from(n))
    }

    fn add(book: u32, id: u128, price: i64) -> Command {
        Command::Add(Order::limit(
            Uuid::from_u128(id),
            instrument(book),
            Side::Buy,
            price,
            5,
        ))
    }

    #[test]
    fn books_share_one_index_and_are_handed_back_whole_and_a_failed_books_ids_leave_it() {
        let flags = SlotFlags::new(3);
        let mut ids = SharedIdIndex::default();
        let mut books: Vec<BookState> = (0..3)
            .map(|n| {
                let mut owned = BookState::new(OrderBook::new(instrument(n)), n);
                owned.share_ids(&mut ids, n);
                owned
            })
            .collect();
        let mut sink = Collect(Vec::new());
        // Ids 1..=30 spread over the three books, and id 7 in every book.
        for id in 1..=30u128 {
            let book = (id % 3) as u32;
            let command = add(book, id, 90 + id as i64);
            let panicked = apply_one(
                &mut books[book as usize],
                &mut ids,
                id as u64,
                0,
                &command,
                &mut sink,
            );
            assert_eq!(panicked, None);
        }
        for book in [0, 2] {
            let command = add(book, 7, 80);
            assert_eq!(
                apply_one(
                    &mut books[book as usize],
                    &mut ids,
                    0,
                    0,
                    &command,
                    &mut sink
                ),
                None
            );
        }
        assert_eq!(ids.len(), 32);
        // Book 2 fails: its ids leave the shared index, the others' stay.
        let failure = books[2].fail(&flags, &mut ids, 0, "test".into());
        assert_eq!(failure.instruments, vec![instrument(2)]);
        assert_eq!(ids.len(), 32 - 11);
        let report = books_report(books.into_iter(), &mut ids, Vec::new());
        assert_eq!(ids.len(), 0, "every live book took its ids back");
        assert_eq!(report.books.len(), 2);
        for (slot, book) in &report.books {
            book.check_integrity()
                .unwrap_or_else(|e| panic!("book {slot} handed back: {e}"));
            let expect = if *slot == 0 { 11 } else { 10 };
            assert_eq!(book.len(), expect, "book {slot}");
            assert_eq!(
                book.order_qty(&Uuid::from_u128(7)),
                Some(5),
                "book {slot}'s id 7"
            );
        }
        // A handed-back book finds its orders through its own index again.
        let (_, mut book) = report.books.into_iter().next().expect("book 0");
        let mut events = Vec::new();
        book.apply(
            &Command::Cancel {
                order_id: Uuid::from_u128(3),
                instrument_id: instrument(0),
            },
            &mut |e| events.push(e),
        );
        assert!(
            matches!(
                events[0],
                OrderbookResult::Cancelled {
                    remaining_qty: 5,
                    ..
                }
            ),
            "{events:?}"
        );
    }
}
