//! The single-instrument order book: price-time priority matching, single-threaded and
//! deterministic.
//!
//! Storage is laid out for the hot path (issue 17):
//!
//! - **Orders** live in a slab of 48-byte slots (`Slot`: id, open quantity, the price it
//!   rests at, FIFO links, side, a flag byte, acceptance number), linked into one
//!   intrusive FIFO per price level. Slots freed by one order are reused by the next;
//!   nothing is allocated per order or per event once the slab has grown to the book's
//!   peak size. Slot indices are trusted (see `slab.rs`): the accessors do not check
//!   bounds in release builds. The books of one consumer thread (a [`BookGroup`]) keep
//!   their slots in one slab (`shared_slots.rs`, issue 21), reached like the shared id
//!   index through the paths' context (`ids.rs`): a slot freed in one book is the next
//!   add's in any, still warm.
//! - **The id index** maps an order id to its slot: a direct window of slot numbers for the
//!   dense ids an order-entry session assigns (no hash), and a keyed hash table for every
//!   other id (see `index.rs`). An add probes once: the duplicate check returns the cell
//!   the insert then fills. The paths that use it take it as a type parameter (`ids.rs`):
//!   [`OrderBook::apply`] passes the book's own (`Own`, a zero-sized type: the calls go
//!   straight to it), while the books of one engine consumer thread share one index over
//!   all their ids (`shared_index.rs`, issue 21; `InShared`): the engine spreads one id
//!   sequence over its books, so one book's own window would see every Nth id, the
//!   thread's shared window sees them all. A shared cell holds (book, slot), so a book
//!   never finds another's order under the same id. A book's ids move there and back
//!   whole (`group.rs`: the consumer's books, and [`BookGroup`] for callers).
//! - **Each side's levels are held inline** in a dense window of ticks (`tick_window.rs`):
//!   the tick at a price's offset from the window's base holds that level's 24-byte
//!   `Level` (FIFO head and tail, order count, 96-bit total), so an add, cancel or fill
//!   finds its level with one subtraction and compare from the price (a slot stores its
//!   price); there is no level slab and no level handle. The window spans every level of
//!   the side when they fit in 65,536 ticks; a B-tree holds the `Level`s priced beyond
//!   (the fallback that keeps any `i64` price correct). Occupied bits, summary bits for
//!   wide empty stretches and the cached best price find the next best level (see
//!   `ladder.rs`). A side's window is allocated by its first level (an idle book holds
//!   none).
//! - The common path (a plain limit add that rests, cancel, a fill that leaves the level)
//!   is inlined; creating or emptying a level, B-tree traffic and re-placing the window
//!   are not.
//!
//! **Issue 22's order types** (stops, icebergs, self-trade prevention, mass cancel) are in
//! `long_form.rs` and `stops.rs`; a plain order reaches none of their code:
//!
//! - *Flags.* A slot's long-form bits are its order's flag byte (owner, mode, display),
//!   copied with a shift. Its iceberg bit is the only test on the plain paths: a filled
//!   iceberg maker leaves the inlined loop for `fill_extra`, a cancel of one reads its
//!   hidden quantity out of line. An owned order's owner is in a side table by slot, read
//!   only where its bit is set.
//! - *Icebergs.* The slot's `qty` is the shown slice (level totals, status and snapshots
//!   stay sums of shown quantities); the hidden rest and the display size are in side
//!   `Vec`s by slot. An emptied slice is refilled at once and requeued at its level's tail.
//! - *Self-trade prevention.* An owned taker with a mode matches in `take_stp`, which reads
//!   the owner of each maker whose bit is set from the side table; a plain taker never
//!   looks.
//! - *Mass cancel.* Every slot holds its acceptance number (in its tag); a mass
//!   cancel collects the matching resting orders and parked stops and sorts them by it.
//! - *Stops.* Parked stops are not in the slab, the index or the book's ladders: `Stops`
//!   keeps them in a slab of its own, found by id (behind a bit filter), hung by trigger in
//!   a ladder of their own per side, and the candidates that hold in a heap on the
//!   acceptance number. The
//!   book keeps the last trade price (set per level traded); after an add or modify that
//!   traded, one length test (and a compare per side) decides whether any stop fires.

mod group;
#[cfg(test)]
mod group_tests;
mod ids;
mod image;
mod index;
#[cfg(test)]
mod index_flow_tests;
mod integrity;
mod ladder;
#[cfg(test)]
mod layout_tests;
mod long_form;
mod matching;
mod prefetch;
#[cfg(test)]
mod prefetch_tests;
mod query;
mod shared_index;
mod shared_slots;
mod slab;
mod stops;
mod tick_window;
mod zeroed;

use uuid::Uuid;

pub use group::{BookGroup, NoSuchBook};
pub use image::{
    BookImage, ImageError, ParkedStopImage, RestingOrderImage, state_hash_of, state_hash_of_images,
};
pub(crate) use image::{extras_flags, stp_of_flags};
pub use integrity::IntegrityError;
pub(crate) use prefetch::{Fetch, PREFETCH_FROM_BOOKS, Staged, prefetch};
pub(crate) use shared_index::SharedIdIndex;

use crate::command::Command;
use crate::result::{EventSink, OrderbookResult};
use crate::types::{Price, Qty, Side};
use ids::{Ids, Own};
use index::{IdIndex, Vacancy};
use ladder::Ladder;
use slab::{NIL, Slab, Vacant};

/// An order id as a slot stores it: its 16 bytes as two native words, so it is copied in
/// and out with two 8-byte moves (a `Uuid` is a byte array, aligned to 1, and the compiler
/// copied one from a command into a slot in up to nine pieces).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RawId([u64; 2]);

impl RawId {
    /// The id as a `Uuid`.
    #[inline(always)]
    fn uuid(self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.0[0].to_ne_bytes());
        bytes[8..].copy_from_slice(&self.0[1].to_ne_bytes());
        Uuid::from_bytes(bytes)
    }
}

impl From<&Uuid> for RawId {
    #[inline(always)]
    fn from(id: &Uuid) -> RawId {
        let (high, low) = id.as_bytes().split_at(8);
        RawId([
            u64::from_ne_bytes(high.try_into().expect("8 bytes")),
            u64::from_ne_bytes(low.try_into().expect("8 bytes")),
        ])
    }
}

/// A resting order's slot. 48 bytes: the id, the open quantity, the price it rests at
/// (which, with the side, finds its level in the side's ladder), its neighbours in that
/// level's FIFO, and one word holding its 56-bit acceptance number (a mass cancel goes in
/// that order) above a byte of flags: its side, post-only, and the long form's bits (an
/// owner, its self-trade-prevention mode, an iceberg), whose owner and hidden quantity the
/// long form's side table holds. (Side and post-only had bytes of their own and the
/// acceptance number a word: 51 bytes made the slot 56, and a resting order more than 64
/// bytes with the id index's table. A 64-byte slot holding the owner and hidden quantity
/// too, tried on h-long3, broke that budget: 78 bytes a resting order.)
#[derive(Clone, Debug)]
struct Slot {
    order_id: RawId,
    /// Open quantity (an iceberg's shown slice); 0 marks a vacant slot.
    qty: Qty,
    /// The price of the level it rests at.
    price: i64,
    prev: u32,
    next: u32,
    /// Its acceptance number shifted left 8, set right after it rests, or'ed with the
    /// flags: [`SELL`], [`POST_ONLY`], and at [`EXTRAS_SHIFT`] the long form's four bits,
    /// laid out as an [`crate::Order`]'s flag byte so an add copies them with a shift:
    /// [`long_form::OWNED`], the self-trade-prevention mode's code, [`long_form::ICEBERG`]
    /// (a plain order's paths test only the two, [`EXTRAS`]).
    tag: u64,
}

/// A [`Slot`] flag: the order is a sell (bit 0, so the bit is the side's discriminant).
const SELL: u64 = 1;
/// A [`Slot`] flag: the order is post-only.
const POST_ONLY: u64 = 1 << 1;
/// Where a [`Slot`]'s flags hold the long form's four bits (owner, the stp mode's two,
/// display: an order's flag byte).
const EXTRAS_SHIFT: u32 = 2;
/// The [`Slot`] flags that tell an order with extras: owned and iceberg.
const EXTRAS: u64 = ((long_form::OWNED | long_form::ICEBERG) as u64) << EXTRAS_SHIFT;
/// A [`Slot`] flag: the slot is a parked stop's home (long form), indexed under the stop's
/// id, on no level, with no quantity; its `price` keeps the stop's place in `Stops`.
const PARKED: u64 = 1 << 6;
/// The [`Slot`] flags a cancel leaves its inlined path for: an iceberg (its hidden
/// quantity), a parked stop's home.
const LONG_CANCEL: u64 = (long_form::ICEBERG as u64) << EXTRAS_SHIFT | PARKED;
/// Bits of a [`Slot`]'s tag below its acceptance number.
const ACCEPTED_SHIFT: u32 = 8;
/// One past the largest acceptance number a slot holds (56 bits: at a billion acceptances
/// a second, more than two years of them).
const ACCEPTED_END: u64 = 1 << (64 - ACCEPTED_SHIFT);

impl Slot {
    /// A new slot for a resting order, linked behind `prev`, with no long-form extras.
    #[inline(always)]
    fn new(
        order_id: &Uuid,
        qty: Qty,
        price: i64,
        prev: u32,
        side: Side,
        post_only: bool,
        accepted: u64,
    ) -> Slot {
        debug_assert!(
            accepted < ACCEPTED_END,
            "acceptance number {accepted} past 56 bits"
        );
        Slot {
            order_id: RawId::from(order_id),
            qty,
            price,
            prev,
            next: NIL,
            tag: accepted << ACCEPTED_SHIFT | side as u64 | if post_only { POST_ONLY } else { 0 },
        }
    }

    /// The order's side.
    #[inline(always)]
    fn side(&self) -> Side {
        if self.tag & SELL != 0 {
            Side::Sell
        } else {
            Side::Buy
        }
    }

    /// Whether the order is post-only.
    #[inline(always)]
    fn post_only(&self) -> bool {
        self.tag & POST_ONLY != 0
    }

    /// The long form's [`long_form::OWNED`] and [`long_form::ICEBERG`] bits (or'ed, in
    /// their places of the flag byte); 0 for a plain order.
    #[inline(always)]
    fn extra(&self) -> u8 {
        ((self.tag & EXTRAS) >> EXTRAS_SHIFT) as u8
    }

    /// Sets the long form's bits.
    #[inline]
    fn set_extra(&mut self, extra: u8) {
        let bits = u64::from(extra) << EXTRAS_SHIFT;
        debug_assert_eq!(bits & !EXTRAS, 0);
        self.tag = self.tag & !EXTRAS | bits;
    }

    /// Its acceptance number.
    #[inline]
    fn accepted(&self) -> u64 {
        self.tag >> ACCEPTED_SHIFT
    }

    /// Sets its acceptance number.
    ///
    /// # Panics
    ///
    /// Panics if `accepted` does not fit 56 bits (a book hands out numbers one by one from
    /// 0, and an image's are renumbered from 0 when it is restored, so no book reaches
    /// it).
    #[inline]
    fn set_accepted(&mut self, accepted: u64) {
        assert!(
            accepted < ACCEPTED_END,
            "acceptance number {accepted} past 56 bits"
        );
        self.tag = accepted << ACCEPTED_SHIFT | self.tag & ((1 << ACCEPTED_SHIFT) - 1);
    }
}

/// A vacant slot links the slab's free list through its `next` (its quantity is 0).
impl Vacant for Slot {
    #[inline]
    fn vacant() -> Slot {
        Slot {
            order_id: RawId([0; 2]),
            qty: 0,
            price: 0,
            prev: NIL,
            next: NIL,
            tag: 0,
        }
    }

    #[inline(always)]
    fn next_vacant(&self) -> u32 {
        self.next
    }

    #[inline(always)]
    fn set_next_vacant(&mut self, next: u32) {
        self.next = next;
    }
}

/// One instrument's order book.
///
/// Apply [`Command`]s with [`OrderBook::apply`]; every command yields at least one
/// [`OrderbookResult`] to the sink, in the order the flow format defines.
///
/// # Examples
///
/// ```
/// use ringbook::{Command, Order, OrderBook, OrderbookResult, Side};
/// use uuid::Uuid;
///
/// let instrument = Uuid::from_u128(1);
/// let mut book = OrderBook::new(instrument);
/// let mut events = Vec::new();
/// let mut sink = |e| events.push(e);
/// book.apply(&Command::Add(Order::limit(Uuid::from_u128(10), instrument, Side::Sell, 101, 5)), &mut sink);
/// book.apply(&Command::Add(Order::limit(Uuid::from_u128(11), instrument, Side::Buy, 102, 3)), &mut sink);
/// assert!(matches!(events[2], OrderbookResult::Trade { price: 101, qty: 3, maker_remaining: 2, .. }));
/// assert_eq!(book.best_ask(), Some((101, 2)));
/// book.check_integrity().unwrap();
/// ```
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct OrderBook {
    // Hot and cold (issue 21): `repr(C)`, aligned to start a cache line, what a plain add,
    // cancel or modify of a grouped book reads first: the fields every command reads (the
    // first line), the ladders (88 bytes each: their outside stores boxed) and the head of
    // the long form (the stops' count, see `LongForm`), 4 lines
    // ([`prefetch::HOT_LINES`]; 7 before h-hdr), which the prefetch walk fetches; then the
    // cold state (the long form's tables, the book's own slab and id index: empty while
    // its orders are in its consumer's shared ones), 9 more lines no such command reads.
    // Inline, not boxed: boxing the long form and the index (h-hot, 512b90c) cost a
    // standalone book 2.4-2.8% more instructions a message (perf/LOG.md). The bids first
    // (so a bid's window shares the first line) cost `many_books 8` 5% more instructions
    // (the inlined replay's register allocation; perf/LOG.md, h-hdr).
    instrument_id: Uuid,
    halted: bool,
    /// The book's ids are in a shared index (see `group.rs`), not in `index`.
    ids_shared: bool,
    /// The next acceptance number.
    next_accepted: u64,
    /// Resting icebergs per side (buy, sell; the long form's): a fok looks for hidden
    /// quantity only when the opposite side has some. Written by every removal (with no
    /// branch: see `forget`), so it is here, in the line a cancel reads anyway.
    icebergs: [u32; 2],
    /// The price of the most recent trade (long form's `last_trade_price`).
    last_trade_price: Option<i64>,
    bids: Ladder,
    asks: Ladder,
    /// The long form's state: parked stops and the extras of owned orders and icebergs.
    long: long_form::LongForm,
    /// The book's own slab of order slots: empty while its slots are in a consumer's
    /// shared slab (a grouped book's command never reads it, so it is cold).
    orders: Slab<Slot>,
    /// The book's own id index: empty while its ids are in a consumer's shared index.
    index: IdIndex,
}

impl OrderBook {
    /// An empty, running book for `instrument_id`.
    #[must_use]
    pub fn new(instrument_id: Uuid) -> OrderBook {
        OrderBook::with_capacity(instrument_id, 0)
    }

    /// An empty book with room for `orders` resting orders before any slab grows.
    #[must_use]
    pub fn with_capacity(instrument_id: Uuid, orders: usize) -> OrderBook {
        OrderBook {
            instrument_id,
            halted: false,
            last_trade_price: None,
            next_accepted: 0,
            icebergs: [0; 2],
            long: long_form::LongForm::default(),
            orders: Slab::with_capacity(orders),
            index: IdIndex::with_capacity(orders),
            ids_shared: false,
            bids: Ladder::new(Side::Buy),
            asks: Ladder::new(Side::Sell),
        }
    }

    /// The instrument this book trades.
    #[inline]
    #[must_use]
    pub fn instrument_id(&self) -> Uuid {
        self.instrument_id
    }

    /// Whether the book is halted: adds and modifies are rejected, cancels still work.
    #[inline]
    #[must_use]
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// Applies one command and publishes its events to `sink`.
    ///
    /// The command's instrument is not checked against the book's: routing is the
    /// caller's job. Events name this book's instrument.
    #[inline]
    pub fn apply<S: EventSink + ?Sized>(&mut self, command: &Command, sink: &mut S) {
        self.apply_with(&mut Own, command, sink);
    }

    /// [`Self::apply`] with the id index `ix`: the book's own ([`Own`]) or its consumer's
    /// shared one ([`InShared`], for a book whose ids were moved there by
    /// [`Self::share_ids`]).
    #[inline(always)]
    fn apply_with<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        command: &Command,
        sink: &mut S,
    ) {
        // An add (half a market's flow) and a cancel (two fifths) are told by a compare of
        // the tag each before the jump table of the others: on every market regime about
        // 3 instructions a message fewer than one match (a modify tested so too: more).
        if let Command::Add(ref order) = *command {
            return self.add(ix, order, sink);
        }
        if let Command::Cancel { order_id, .. } = *command {
            return self.cancel(ix, order_id, sink);
        }
        match *command {
            // Applied above.
            Command::Add(_) | Command::Cancel { .. } => {}
            Command::Modify {
                order_id,
                price,
                qty,
                ..
            } => self.modify(ix, order_id, price, qty, sink),
            Command::Halt { .. } => {
                self.halted = true;
                sink.publish(OrderbookResult::Halted {
                    instrument_id: self.instrument_id,
                });
            }
            Command::Resume { .. } => {
                self.halted = false;
                sink.publish(OrderbookResult::Resumed {
                    instrument_id: self.instrument_id,
                });
            }
            Command::Status { .. } => sink.publish(OrderbookResult::Status {
                instrument_id: self.instrument_id,
                // Parked stops' ids are indexed with the resting orders'.
                status: Box::new(self.status_of(ix.count(&self.index) - self.long.stops.len())),
            }),
            Command::Snapshot { .. } => sink.publish(OrderbookResult::Snapshot {
                instrument_id: self.instrument_id,
                snapshot: Box::new(self.snapshot_with(ix)),
            }),
            Command::MassCancel { owner, side, .. } => self.mass_cancel(ix, owner, side, sink),
        }
    }

    /// The ladder of `side`.
    #[inline]
    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// Appends the new order `order_id` at the tail of `price`'s level on `side`, creating
    /// the level if needed, and indexes it. Returns its slot.
    fn rest<X: Ids>(
        &mut self,
        ix: &mut X,
        order_id: Uuid,
        side: Side,
        price: i64,
        qty: Qty,
        post_only: bool,
    ) -> u32 {
        let orders = &self.orders;
        let vacancy = ix
            .vacancy(&self.index, &order_id, |s| orders[s].order_id.uuid())
            .expect("a resting order's id is new");
        self.rest_at(ix, vacancy, order_id, side, price, qty, post_only)
    }

    /// The ladder of `side`, to change.
    #[inline(always)]
    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// [`Self::rest`] of an id the index found room for at `vacancy`. The slot is written
    /// once, already linked behind the level's tail, with the next acceptance number.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn rest_at<X: Ids>(
        &mut self,
        ix: &mut X,
        vacancy: Vacancy,
        order_id: Uuid,
        side: Side,
        price: i64,
        qty: Qty,
        post_only: bool,
    ) -> u32 {
        self.rest_with(ix, vacancy, order_id, side, price, qty, post_only, 0)
    }

    /// [`Self::rest_at`] of an order with the long form's flag byte `long_bits` (an
    /// order's, see `long_form`), written with the slot: a plain limit add passes its
    /// order's, 0 when it has none.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn rest_with<X: Ids>(
        &mut self,
        ix: &mut X,
        vacancy: Vacancy,
        order_id: Uuid,
        side: Side,
        price: i64,
        qty: Qty,
        post_only: bool,
        long_bits: u8,
    ) -> u32 {
        let lvl = match side {
            Side::Buy => self.bids.entry_on(Side::Buy, price),
            Side::Sell => self.asks.entry_on(Side::Sell, price),
        };
        let tail = lvl.tail;
        let plain = Slot::new(
            &order_id,
            qty,
            price,
            tail,
            side,
            post_only,
            self.next_accepted,
        );
        let slots = ix.slots_mut(&mut self.orders);
        let slot = slots.take_vacant();
        slots[slot] = Slot {
            tag: plain.tag | u64::from(long_bits) << EXTRAS_SHIFT,
            ..plain
        };
        self.next_accepted += 1;
        lvl.tail = slot;
        if tail == NIL {
            lvl.head = slot;
        } else {
            slots[tail].next = slot;
        }
        lvl.count += 1;
        lvl.add(qty);
        let orders = &self.orders;
        ix.insert_at(&mut self.index, vacancy, &order_id, slot, |s| {
            orders[s].order_id.uuid()
        });
        slot
    }

    /// Links the (unlinked) slot `slot` at the tail of `price`'s level on `side`.
    #[inline(always)]
    fn link_tail<X: Ids>(&mut self, ix: &mut X, slot: u32, side: Side, price: i64) {
        let lvl = match side {
            Side::Buy => self.bids.entry_on(Side::Buy, price),
            Side::Sell => self.asks.entry_on(Side::Sell, price),
        };
        let slots = ix.slots_mut(&mut self.orders);
        let tail = lvl.tail;
        lvl.tail = slot;
        if tail == NIL {
            lvl.head = slot;
        } else {
            slots[tail].next = slot;
        }
        lvl.count += 1;
        let order = &mut slots[slot];
        lvl.add(order.qty);
        order.price = price;
        order.prev = tail;
        order.next = NIL;
    }

    /// Unlinks `slot` from its level, removing the level if it empties. The slot stays
    /// allocated and indexed.
    #[inline(always)]
    fn unlink<X: Ids>(&mut self, ix: &mut X, slot: u32) {
        let slots = ix.slots_mut(&mut self.orders);
        let Slot {
            qty,
            price,
            prev,
            next,
            ..
        } = slots[slot];
        let side = slots[slot].side();
        unlink_neighbours_in(slots, prev, next);
        self.leave_level(side, price, qty, (prev, next));
    }

    /// The level's half of an unlink: the order of `qty` open lots between `prev` and
    /// `next` leaves its level at `price` on `side`, which is removed if it empties.
    #[inline(always)]
    fn leave_level(&mut self, side: Side, price: Price, qty: Qty, (prev, next): (u32, u32)) {
        let ladder = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let lvl = ladder.level_mut(price);
        if prev == NIL {
            lvl.head = next;
        }
        if next == NIL {
            lvl.tail = prev;
        }
        lvl.count -= 1;
        lvl.sub(qty);
        if lvl.count == 0 {
            ladder.remove(price);
        }
    }

    /// Forgets the unlinked slot `slot`: drops it from the index and frees it.
    #[inline]
    fn release<X: Ids>(&mut self, ix: &mut X, slot: u32) {
        let order_id = ix.slots(&self.orders)[slot].order_id.uuid();
        ix.remove(&mut self.index, &order_id, slot);
        self.free(ix, slot);
    }

    /// Frees the unlinked slot `slot`, already dropped from the index.
    #[inline]
    fn free<X: Ids>(&mut self, ix: &mut X, slot: u32) {
        free_in(ix.slots_mut(&mut self.orders), slot);
    }
}

/// Links an unlinked order's neighbours `prev` and `next` ([`NIL`]: none) to each other in
/// `slots`: the slab's half of an unlink (callers that free the slot do it between this
/// and [`OrderBook::leave_level`], so every slab write comes before the level's).
///
/// It takes the slab itself, which its callers get once into a local (issue 17: through
/// the context's accessor at each store the slab's buffer pointer was loaded again after
/// every store, 4 instructions a cancel).
#[inline(always)]
fn unlink_neighbours_in(slots: &mut Slab<Slot>, prev: u32, next: u32) {
    if prev != NIL {
        slots[prev].next = next;
    }
    if next != NIL {
        slots[next].prev = prev;
    }
}

/// [`OrderBook::free`] on the slab `slots` itself (see [`unlink_neighbours_in`]).
#[inline(always)]
fn free_in(slots: &mut Slab<Slot>, slot: u32) {
    slots[slot].qty = 0;
    slots.remove(slot);
}

#[cfg(test)]
mod tests;
