//! The sequencer: the single writer that numbers and timestamps every command and routes
//! it to its book.
//!
//! It takes the ingress ring in batches, journals them, sorts each batch by book (keeping
//! each book's order) and hands the batch to its [`Downstream`]: the per-book inbound rings
//! when every stage has a thread of its own ([`FanOut`](super::fan_out::FanOut)), or the
//! books themselves when the stages run on one thread ([`Inline`](super::fused::Inline)).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use disruptor::Polling;

use super::entry::{EntryView, Envelope, InboundEntry, IngressEntry, NO_SLOT};
use super::routing::Routed;
use super::wait::{Doorbell, Idler, RoomBell, WaitStrategy};
use super::{IngressPoller, ThreadFailure, ThreadReport, nanos_since};
use crate::book::{Fetch, Staged};
use crate::command::Command;
use crate::journal::{JournalEntry, JournalError, JournalWriter};
use crate::result::OrderbookResult;

/// The most ingress entries taken at once: bounds how long the first of a batch waits for
/// the rest to be sorted.
const BATCH: u64 = 4096;

/// Where the sequencer's batches go once numbered and journaled.
pub(super) trait Downstream {
    /// How many books there are (slots `0..books`).
    fn books(&self) -> usize;

    /// Whether the sequencer should call [`Downstream::prefetch`] for the commands it
    /// will hand on [`Downstream::apply_now`] (a downstream with many books: see
    /// `book::prefetch`). A constant of the type, so a downstream that does not prefetch
    /// keeps the sequencer's loop as it was.
    #[inline]
    fn prefetches(&self) -> bool {
        false
    }

    /// Starts loading the book state `command` will read first in book `slot` (a hint:
    /// changes nothing), a few commands before it is applied: `book::prefetch`'s header
    /// stage.
    #[inline]
    fn prefetch_header(&self, slot: u32, command: &Command) {
        let _ = (slot, command);
    }

    /// The contents stage: what the book state points to. Returns what the order stage
    /// reads (a cancelled or modified order's slot), or `None`: then it is skipped.
    #[inline]
    fn prefetch_contents(&self, slot: u32, command: &Command) -> Option<u32> {
        let _ = (slot, command);
        None
    }

    /// The order stage: what the order at `found` (from [`Self::prefetch_contents`])
    /// points to.
    #[inline]
    fn prefetch_order(&self, slot: u32, command: &Command, found: u32) {
        let _ = (slot, command, found);
    }

    /// Applies `command` (a plain command to apply, numbered `seq`, stamped
    /// `timestamp_ns`) to book `slot` at once, when the downstream can and nothing of the
    /// batch waits for the journal; returns whether it did (if not, the sequencer builds an
    /// entry and [`Downstream::accept`]s it).
    #[inline]
    fn apply_now(&mut self, slot: u32, seq: u64, timestamp_ns: u64, command: &Command) -> bool {
        let _ = (slot, seq, timestamp_ns, command);
        false
    }

    /// Takes `entry`, numbered, for book `slot`: into `routed`, after the book's entries
    /// of this batch, to be delivered with it; or, when `now` (nothing of the batch waits
    /// for the journal) and the downstream can, straight away.
    #[inline]
    fn accept(&mut self, routed: &mut Routed, slot: u32, entry: InboundEntry, now: bool) {
        let _ = now;
        routed.route(slot, entry);
    }

    /// Hands one batch on: `direct` (rejects with no book to go through, only when there
    /// is no book at all), then every book's entries in `routed`, each book's in order.
    /// Leaves both empty.
    fn deliver(
        &mut self,
        routed: &mut Routed,
        direct: &mut Vec<(u64, OrderbookResult)>,
        timestamp_ns: u64,
        idler: &mut Idler,
    );

    /// The sequencer has stopped after command `seq`: passes the end on, finishes, and
    /// returns what the stages downstream report (their failures and books).
    fn close(
        self,
        routed: &mut Routed,
        seq: u64,
        timestamp_ns: u64,
        idler: &mut Idler,
    ) -> ThreadReport;
}

/// The sequencer thread's state.
pub(super) struct Sequencer<D> {
    /// Taken by `run`, so a batch can borrow it while the rest of `self` changes.
    ingress: Option<IngressPoller>,
    epoch: Instant,
    wait: WaitStrategy,
    next_seq: u64,
    /// The entries of the current batch, by book.
    routed: Routed,
    /// Its own bell: callers ring it.
    bell: Arc<Doorbell>,
    /// The ingress ring's room bell: rung after each batch taken, for callers waiting on a
    /// full ring.
    ingress_room: Arc<RoomBell>,
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
    /// Rejects with no book, to hand on once the batch is journaled (when there is no
    /// book at all).
    direct: Vec<(u64, OrderbookResult)>,
    /// The current batch waits for nothing (no journal, no snapshots, no failure): its
    /// entries may go downstream as they are numbered.
    immediate: bool,
    /// The books, or the rings to them.
    downstream: D,
}

/// What the sequencer needs besides its rings.
pub(super) struct SequencerSetup {
    pub(super) epoch: Instant,
    pub(super) wait: WaitStrategy,
    /// Its own bell (callers ring it).
    pub(super) bell: Arc<Doorbell>,
    /// The ingress ring's room bell.
    pub(super) ingress_room: Arc<RoomBell>,
    /// The last sequence number already used (recovery continues after it).
    pub(super) last_seq: u64,
    pub(super) journal: Option<JournalWriter>,
    pub(super) snapshot_every: Option<u64>,
    pub(super) intake_failed: Arc<AtomicBool>,
}

impl<D: Downstream> Sequencer<D> {
    pub(super) fn new(
        ingress: IngressPoller,
        downstream: D,
        setup: SequencerSetup,
    ) -> Sequencer<D> {
        Sequencer {
            ingress: Some(ingress),
            epoch: setup.epoch,
            wait: setup.wait,
            next_seq: setup.last_seq,
            routed: Routed::new(downstream.books()),
            bell: setup.bell,
            ingress_room: setup.ingress_room,
            journal: setup.journal,
            snapshot_every: setup.snapshot_every.filter(|&n| n > 0),
            since_snapshot: 0,
            intake_failed: setup.intake_failed,
            failure: None,
            lost: 0,
            direct: Vec::new(),
            immediate: false,
            downstream,
        }
    }

    /// Runs until the stop marker, then closes its downstream (every book gets the marker,
    /// the event manager is told it is done) and the journal.
    pub(super) fn run(mut self) -> ThreadReport {
        tracing::debug!(books = self.downstream.books(), "sequencer running");
        self.bell.register_current();
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
                idler.wait_for_work(&self.bell, || ingress.has_available());
                continue;
            };
            stopping = stop;
            idler.reset();
            self.ingress_room.freed();
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
            self.downstream
                .deliver(&mut self.routed, &mut self.direct, timestamp_ns, &mut idler);
        }

        let timestamp_ns = nanos_since(self.epoch);
        let Sequencer {
            mut routed,
            next_seq,
            journal,
            mut failure,
            lost,
            downstream,
            ..
        } = self;
        let downstream = downstream.close(&mut routed, next_seq, timestamp_ns, &mut idler);
        tracing::debug!(commands = next_seq, "sequencer stopped");
        if let Some(journal) = journal
            && failure.is_none()
            && let Err(error) = journal.close()
        {
            failure = Some(format!("journal: {error}"));
        }
        let mut failures: Vec<ThreadFailure> = failure
            .map(|message| ThreadFailure {
                instruments: Vec::new(),
                lost_commands: lost,
                message,
            })
            .into_iter()
            .collect();
        failures.extend(downstream.failures);
        ThreadReport {
            failures,
            books: downstream.books,
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
            && self.downstream.books() > 0;
        self.immediate = plain;
        // `prefetches` is a constant of the downstream's type: without prefetching this is
        // the one loop, its command path inlined as it was.
        if plain && self.downstream.prefetches() {
            stopping = self.sequence_staged(batch, timestamp_ns);
        } else {
            // `sequence_entry` written out: called here, it cost the 8-book engine 1.3%
            // more instructions (callgrind), the loop compiled differently.
            for entry in batch {
                if plain && entry.is_plain_apply() {
                    self.next_seq += 1;
                    let seq = self.next_seq;
                    if !self
                        .downstream
                        .apply_now(entry.slot, seq, timestamp_ns, entry.applied())
                    {
                        self.route(entry.slot, InboundEntry::routed(seq, timestamp_ns, entry));
                    }
                } else {
                    stopping |= self.sequence_one(entry, timestamp_ns);
                }
            }
        }
        (timestamp_ns, stopping)
    }

    /// [`Self::sequence_batch`] of a plain batch to a downstream that prefetches: each
    /// command's book fetched a few commands before it is applied (see `book::prefetch`).
    /// True if the batch held the stop marker.
    #[inline(never)]
    fn sequence_staged<'a>(
        &mut self,
        batch: impl Iterator<Item = &'a IngressEntry>,
        timestamp_ns: u64,
    ) -> bool {
        let mut stopping = false;
        let mut entries = Staged::new(batch, true);
        loop {
            let next = entries.next_with(Ahead(&self.downstream));
            let Some(entry) = next else {
                return stopping;
            };
            stopping |= self.sequence_entry(entry, timestamp_ns, true);
        }
    }

    /// Numbers and hands on one ingress entry of a batch: a plain command straight to its
    /// book when the batch is `plain` (see [`Self::sequence_batch`]). True for the stop
    /// marker.
    #[inline(always)]
    fn sequence_entry(&mut self, entry: &IngressEntry, timestamp_ns: u64, plain: bool) -> bool {
        if plain && entry.is_plain_apply() {
            self.next_seq += 1;
            let seq = self.next_seq;
            if !self
                .downstream
                .apply_now(entry.slot, seq, timestamp_ns, entry.applied())
            {
                self.route(entry.slot, InboundEntry::routed(seq, timestamp_ns, entry));
            }
            false
        } else {
            self.sequence_one(entry, timestamp_ns)
        }
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
        if entry.slot == NO_SLOT && self.downstream.books() == 0 {
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

    /// Hands `entry` to the downstream for book `slot` (after the book's entries of this
    /// batch).
    #[inline]
    fn route(&mut self, slot: u32, entry: InboundEntry) {
        self.downstream
            .accept(&mut self.routed, slot, entry, self.immediate);
    }

    /// Marks a snapshot point after the last sequenced command: the journal is synced (so
    /// it never ends before a snapshot), then every book gets a checkpoint marker in
    /// sequence and sends its image to the snapshot writer.
    fn checkpoint(&mut self, timestamp_ns: u64) {
        self.since_snapshot = 0;
        if self.failure.is_some() || self.downstream.books() == 0 {
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
        for slot in 0..self.downstream.books() as u32 {
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
}

/// A downstream's prefetching stages as a [`Fetch`] of ingress entries: only a plain
/// command to apply is fetched (a halt, a resume or a marker reads nothing ahead).
struct Ahead<'d, D>(&'d D);

impl<'a, D: Downstream> Fetch<&'a IngressEntry> for Ahead<'_, D> {
    #[inline(always)]
    fn header(&mut self, entry: &'a IngressEntry) {
        if entry.is_plain_apply() {
            self.0.prefetch_header(entry.slot, entry.applied());
        }
    }

    #[inline(always)]
    fn contents(&mut self, entry: &'a IngressEntry) -> Option<u32> {
        if entry.is_plain_apply() {
            self.0.prefetch_contents(entry.slot, entry.applied())
        } else {
            None
        }
    }

    #[inline(always)]
    fn order(&mut self, entry: &'a IngressEntry, found: u32) {
        self.0.prefetch_order(entry.slot, entry.applied(), found);
    }
}
