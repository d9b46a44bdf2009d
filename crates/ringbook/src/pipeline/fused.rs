//! The sequencer's downstream when every stage runs on one thread: the books and the
//! subscribers themselves.
//!
//! When the engine's threads would outnumber its cores, a thread per stage pays a thread
//! switch at every hand-off: each batch wakes the book consumer, which wakes the event
//! manager, and all three share a core (on 2 cores, at 2.5 M commands/s, 60 wake-ups per
//! 1,000 commands and 389 ns of CPU a command, against about 100 flat out). Fused, the
//! thread that sequences a batch applies each book's share of it and hands every result to
//! the subscribers, stage after stage: the hand-offs are function calls, and only the
//! callers wake the engine. The order of work is the pipeline's (a batch is numbered and
//! journaled before any book sees it; each book's commands in order), so the events are
//! the same.

use std::sync::Arc;

use crossbeam_channel::Sender;

use super::book_consumer::{BookState, ResultSink, apply_batch, apply_one, books_report};
use super::entry::InboundEntry;
use super::event_manager::Dispatch;
use super::routing::Routed;
use super::sequencer::Downstream;
use super::snapshot_writer::BookCheckpoint;
use super::wait::Idler;
use super::{SlotFlags, ThreadFailure, ThreadReport};
use crate::book::{OrderBook, PREFETCH_FROM_BOOKS, SharedIdIndex};
use crate::command::Command;
use crate::result::OrderbookResult;

/// Every book and every subscriber, on the sequencer's thread.
pub(super) struct Inline {
    /// By slot.
    books: Vec<BookState>,
    /// The ids of all the books, each book numbered by its slot (see `book_consumer`).
    ids: SharedIdIndex,
    /// Where a book that panics is marked, so callers refuse its commands.
    flags: Arc<SlotFlags>,
    /// Where a book's image goes at a checkpoint (when the engine takes snapshots).
    checkpoints: Option<Sender<BookCheckpoint>>,
    /// The numbering and the subscribers.
    dispatch: Dispatch,
    /// The books that panicked.
    failures: Vec<ThreadFailure>,
}

impl Inline {
    /// `books` (in slot order) and `dispatch`, to be run by the sequencer.
    pub(super) fn new(
        books: Vec<OrderBook>,
        flags: Arc<SlotFlags>,
        checkpoints: Option<Sender<BookCheckpoint>>,
        dispatch: Dispatch,
    ) -> Inline {
        let mut ids = SharedIdIndex::default();
        Inline {
            books: (0..)
                .zip(books)
                .map(|(slot, book)| {
                    let mut owned = BookState::new(book, slot);
                    owned.share_ids(&mut ids, slot);
                    owned
                })
                .collect(),
            ids,
            flags,
            checkpoints,
            dispatch,
            failures: Vec::new(),
        }
    }

    /// Applies `entries` to book `slot`, each result straight to the subscribers; a panic
    /// fails the book.
    #[inline]
    fn apply<'e>(&mut self, slot: u32, entries: &mut impl Iterator<Item = &'e InboundEntry>) {
        let owned = &mut self.books[slot as usize];
        let panicked = apply_batch(
            owned,
            &mut self.ids,
            entries,
            &self.checkpoints,
            &mut Dispatching(&mut self.dispatch),
        );
        self.fail_on_panic(slot, panicked);
    }

    /// Fails book `slot` if it panicked with `panicked`: callers refuse it from now on.
    #[inline]
    fn fail_on_panic(&mut self, slot: u32, panicked: Option<String>) {
        if let Some(message) = panicked {
            let failure = self.books[slot as usize].fail(&self.flags, &mut self.ids, 0, message);
            self.failures.push(failure);
        }
    }
}

/// Every result straight to the subscribers.
struct Dispatching<'a>(&'a mut Dispatch);

impl ResultSink for Dispatching<'_> {
    #[inline]
    fn put(&mut self, seq: u64, timestamp_ns: u64, result: OrderbookResult) {
        self.0.event(seq, timestamp_ns, &result);
    }
}

impl Downstream for Inline {
    fn books(&self) -> usize {
        self.books.len()
    }

    /// A plain command straight from the ingress ring to its book (the batch waits for
    /// nothing: `plain` in the sequencer), without an entry built for it.
    #[inline]
    fn apply_now(&mut self, slot: u32, seq: u64, timestamp_ns: u64, command: &Command) -> bool {
        let owned = &mut self.books[slot as usize];
        let mut sink = Dispatching(&mut self.dispatch);
        let panicked = apply_one(owned, &mut self.ids, seq, timestamp_ns, command, &mut sink);
        self.fail_on_panic(slot, panicked);
        true
    }

    /// Straight to the book when the batch waits for nothing: no copy into the batch's
    /// buffer, no sort by book (the order of each book's commands is the order they are
    /// numbered in either way).
    #[inline]
    fn accept(&mut self, routed: &mut Routed, slot: u32, entry: InboundEntry, now: bool) {
        if now {
            self.apply(slot, &mut std::iter::once(&entry));
        } else {
            routed.route(slot, entry);
        }
    }

    fn deliver(
        &mut self,
        routed: &mut Routed,
        direct: &mut Vec<(u64, OrderbookResult)>,
        timestamp_ns: u64,
        _idler: &mut Idler,
    ) {
        let mut sink = Dispatching(&mut self.dispatch);
        for (seq, result) in direct.drain(..) {
            sink.put(seq, timestamp_ns, result);
        }
        routed.drain(|slot, mut chain| self.apply(slot, &mut chain));
        self.dispatch.batch_end();
    }

    /// Finishes every subscriber; returns the failures (books', then subscribers') and
    /// the live books.
    fn close(
        mut self,
        _routed: &mut Routed,
        _seq: u64,
        _timestamp_ns: u64,
        _idler: &mut Idler,
    ) -> ThreadReport {
        let mut report = books_report(self.books.into_iter(), &mut self.ids, self.failures);
        report.failures.extend(self.dispatch.finish().failures);
        report
    }
}

/// [`Dispatching`] for [`Prefetching`] (a type of its own: see its `apply_now`).
struct Ahead<'a>(Dispatching<'a>);

impl ResultSink for Ahead<'_> {
    #[inline]
    fn put(&mut self, seq: u64, timestamp_ns: u64, result: OrderbookResult) {
        self.0.put(seq, timestamp_ns, result);
    }
}

/// [`Inline`] for many books: the sequencer prefetches each plain command's book ahead
/// (see `book::prefetch`).
pub(super) struct Prefetching(Inline);

impl Prefetching {
    /// Whether `inline` has enough books for prefetching to pay.
    pub(super) fn pays(inline: &Inline) -> bool {
        inline.books.len() >= PREFETCH_FROM_BOOKS
    }

    /// `inline`, its commands' books prefetched.
    pub(super) fn new(inline: Inline) -> Prefetching {
        Prefetching(inline)
    }
}

impl Downstream for Prefetching {
    #[inline]
    fn books(&self) -> usize {
        self.0.books()
    }

    #[inline]
    fn prefetches(&self) -> bool {
        true
    }

    #[inline(always)]
    fn prefetch_header(&self, slot: u32, command: &Command) {
        if let Some(owned) = self.0.books.get(slot as usize) {
            owned.prefetch_header(&self.0.ids, command);
        }
    }

    #[inline(always)]
    fn prefetch_contents(&self, slot: u32, command: &Command) -> Option<u32> {
        self.0
            .books
            .get(slot as usize)?
            .prefetch_contents(&self.0.ids, command)
    }

    #[inline(always)]
    fn prefetch_order(&self, slot: u32, command: &Command, found: u32) {
        if let Some(owned) = self.0.books.get(slot as usize) {
            owned.prefetch_order(&self.0.ids, command, found);
        }
    }

    /// As [`Inline`]'s, written out with a sink type of its own: `apply_one` (and the
    /// panic guard in it) is then a function of its own for each, called from one place
    /// and inlined there (sharing `Inline`'s took the 8-book command path out of line: 7%
    /// more instructions).
    #[inline(always)]
    fn apply_now(&mut self, slot: u32, seq: u64, timestamp_ns: u64, command: &Command) -> bool {
        let inline = &mut self.0;
        let owned = &mut inline.books[slot as usize];
        let mut sink = Ahead(Dispatching(&mut inline.dispatch));
        let panicked = apply_one(
            owned,
            &mut inline.ids,
            seq,
            timestamp_ns,
            command,
            &mut sink,
        );
        inline.fail_on_panic(slot, panicked);
        true
    }

    #[inline]
    fn accept(&mut self, routed: &mut Routed, slot: u32, entry: InboundEntry, now: bool) {
        self.0.accept(routed, slot, entry, now);
    }

    fn deliver(
        &mut self,
        routed: &mut Routed,
        direct: &mut Vec<(u64, OrderbookResult)>,
        timestamp_ns: u64,
        idler: &mut Idler,
    ) {
        self.0.deliver(routed, direct, timestamp_ns, idler);
    }

    fn close(
        self,
        routed: &mut Routed,
        seq: u64,
        timestamp_ns: u64,
        idler: &mut Idler,
    ) -> ThreadReport {
        self.0.close(routed, seq, timestamp_ns, idler)
    }
}
