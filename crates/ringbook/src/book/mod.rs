//! The single-instrument order book: price-time priority matching, single-threaded and
//! deterministic.
//!
//! Storage is laid out for the hot path: resting orders live in a slab of fixed-size slots
//! linked into one intrusive FIFO per price level; an id index maps order ids to slots;
//! each side's levels sit in a dense window of ticks around the touch (a B-tree holds the
//! few priced outside it), with the best level cached. Nothing is allocated per order or
//! per event once the slabs have grown to the book's peak size.

mod image;
mod index;
mod integrity;
mod ladder;
mod matching;
mod query;
mod slab;
mod tick_window;

use uuid::Uuid;

pub use image::{
    BookImage, ImageError, ParkedStopImage, RestingOrderImage, state_hash_of, state_hash_of_images,
};
pub(crate) use image::{extras_flags, stp_of_flags};
pub use integrity::IntegrityError;

use crate::command::Command;
use crate::result::{EventSink, OrderbookResult};
use crate::types::{Qty, Side};
use index::IdIndex;
use ladder::{Ladder, Level};
use slab::{NIL, Slab};

/// A resting order's slot. 40 bytes: the id, the open quantity, the level it rests at and
/// its neighbours in that level's FIFO.
#[derive(Clone, Debug)]
struct Slot {
    order_id: Uuid,
    /// Open quantity; 0 marks a vacant slot.
    qty: Qty,
    level: u32,
    prev: u32,
    next: u32,
    side: Side,
    post_only: bool,
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
pub struct OrderBook {
    instrument_id: Uuid,
    halted: bool,
    /// The price of the most recent trade (long form's `last_trade_price`).
    last_trade_price: Option<i64>,
    orders: Slab<Slot>,
    index: IdIndex,
    levels: Slab<Level>,
    bids: Ladder,
    asks: Ladder,
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
            orders: Slab::with_capacity(orders),
            index: IdIndex::with_capacity(orders),
            levels: Slab::with_capacity(orders.min(1 << 16)),
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
        match *command {
            Command::Add(ref order) => self.add(order, sink),
            Command::Cancel { order_id, .. } => self.cancel(order_id, sink),
            Command::Modify {
                order_id,
                price,
                qty,
                ..
            } => self.modify(order_id, price, qty, sink),
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
                status: Box::new(self.status()),
            }),
            Command::Snapshot { .. } => sink.publish(OrderbookResult::Snapshot {
                instrument_id: self.instrument_id,
                snapshot: Box::new(self.snapshot()),
            }),
            // Not applied by this book yet (issue 22, phase 2): refused.
            Command::MassCancel { .. } => sink.publish(OrderbookResult::rejected(
                command,
                crate::result::RejectReason::UnknownOrder,
            )),
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
    /// the level if needed, and indexes it. `hash` is the id's index hash.
    fn rest(
        &mut self,
        order_id: Uuid,
        hash: u64,
        side: Side,
        price: i64,
        qty: Qty,
        post_only: bool,
    ) {
        let slot = self.orders.insert(Slot {
            order_id,
            qty,
            level: NIL,
            prev: NIL,
            next: NIL,
            side,
            post_only,
        });
        self.link_tail(slot, side, price);
        let orders = &self.orders;
        self.index.insert(hash, slot, |s| orders[s].order_id);
    }

    /// Links the (unlinked) slot `slot` at the tail of `price`'s level on `side`.
    #[inline]
    fn link_tail(&mut self, slot: u32, side: Side, price: i64) {
        let ladder = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let level = match ladder.get(price) {
            Some(level) => level,
            None => {
                let level = self.levels.insert(Level::new(price));
                ladder.insert(price, level);
                level
            }
        };
        let lvl = &mut self.levels[level];
        let tail = lvl.tail;
        lvl.tail = slot;
        if tail == NIL {
            lvl.head = slot;
        }
        lvl.count += 1;
        let qty = self.orders[slot].qty;
        lvl.total += u128::from(qty);
        if tail != NIL {
            self.orders[tail].next = slot;
        }
        let order = &mut self.orders[slot];
        order.level = level;
        order.prev = tail;
        order.next = NIL;
    }

    /// Unlinks `slot` from its level, removing the level if it empties. The slot stays
    /// allocated and indexed.
    #[inline]
    fn unlink(&mut self, slot: u32) {
        let Slot {
            qty,
            level,
            prev,
            next,
            side,
            ..
        } = self.orders[slot];
        if prev != NIL {
            self.orders[prev].next = next;
        }
        if next != NIL {
            self.orders[next].prev = prev;
        }
        let lvl = &mut self.levels[level];
        if lvl.head == slot {
            lvl.head = next;
        }
        if lvl.tail == slot {
            lvl.tail = prev;
        }
        lvl.count -= 1;
        lvl.total -= u128::from(qty);
        if lvl.count == 0 {
            let price = lvl.price;
            match side {
                Side::Buy => self.bids.remove(price),
                Side::Sell => self.asks.remove(price),
            }
            self.levels.remove(level);
        }
    }

    /// Forgets the unlinked slot `slot`, whose id hashes to `hash`: drops it from the
    /// index and frees it.
    #[inline]
    fn release(&mut self, slot: u32, hash: u64) {
        self.index.remove(hash, slot);
        self.free(slot);
    }

    /// Frees the unlinked slot `slot`, already dropped from the index.
    #[inline]
    fn free(&mut self, slot: u32) {
        self.orders[slot].qty = 0;
        self.orders.remove(slot);
    }
}

#[cfg(test)]
mod tests;
