//! Ringbook's events as ITCH 5.0 messages: a pure function of the event stream (no I/O),
//! keeping a [`BookMirror`] per instrument.
//!
//! | event | messages |
//! |---|---|
//! | `accepted` (limit, post-only) | Add Order once its rest no longer crosses (at once if it never did); an iceberg's of its slice, min(display, quantity) |
//! | `accepted` (market, ioc, fok, stop, stop-limit), `expired`, `rejected`, `status`, `mass_cancelled` | none (a parked stop is never published) |
//! | `triggered` (stop-limit) | its rest as for an `accepted` limit (a stop-market never rests) |
//! | `snapshot` | for a book the feed mirrors nothing of (a recovered engine): its orders as Add Orders and its trading state; else none |
//! | `trade` | Order Executed for the resting (maker) order, with a new match number; the taker's rest is then added if it no longer crosses |
//! | `trade` emptying an iceberg's slice with hidden quantity left | after its Order Executed, an Add Order of the next slice under a new reference number (the back of the level) |
//! | `cancelled` (a cancel, a mass cancel, self-trade prevention) | Order Delete of the shown slice (none for a parked stop) |
//! | `modified`, priority kept | Order Cancel of the shown reduction (an iceberg shows min(shown, new quantity); none when unchanged) |
//! | `modified`, priority lost, not crossing | Order Replace (new reference number, new price and quantity) |
//! | `modified`, priority lost, crossing | Order Delete, then the order is an incoming one: its trades and its rest as above |
//! | `halted` / `resumed` | Stock Trading Action `H` / `T` |
//!
//! An order whose price or quantity ITCH cannot carry (outside `0..=u32::MAX`) is never
//! published: it is counted in [`Translator::unpublishable`] and its later events are
//! skipped.
//!
//! Only the displayed quantity is public, as on NASDAQ: an iceberg's hidden quantity never
//! appears in any message or GLIMPSE snapshot. The order-entry path refuses such orders first (`ringbook_wire::itch::PriceBand`).

use std::num::NonZeroU64;

use ringbook::{BookSnapshot, OrderbookResult, PublishedEvent, Side, Uuid};
use ringbook_wire::itch::{
    AddOrder, Header, ItchMessage, ItchSide, OrderCancel, OrderDelete, OrderExecuted, OrderReplace,
    Stock, StockDirectory, StockTradingAction, SystemEvent, SystemEventCode, TIMESTAMP_MAX,
    TradingState,
};

use super::event::FeedEvent;
use super::mirror::{BookMirror, Fill, Resting, Taker};
use super::slots::SlotTable;

/// An instrument as the feed publishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedInstrument {
    /// The engine's instrument id.
    pub id: Uuid,
    /// Its ITCH symbol.
    pub stock: Stock,
    /// ITCH price units per tick (1 or more).
    pub tick: u64,
}

impl FeedInstrument {
    /// The ITCH Price (4) of a price in ticks: `ticks * tick`, `None` when it is negative
    /// or past `u32::MAX`.
    #[must_use]
    pub fn itch_price(&self, ticks: i64) -> Option<u32> {
        u64::try_from(ticks)
            .ok()
            .and_then(|t| t.checked_mul(self.tick))
            .and_then(|p| u32::try_from(p).ok())
    }
}

/// Where [`Translator::translate`] puts the messages one event makes, in order: a
/// `Vec<ItchMessage>`, or the publisher, which numbers and packs each as it comes (no
/// list in between).
pub trait MessageSink {
    /// Takes the next message.
    fn push(&mut self, message: ItchMessage);
}

impl MessageSink for Vec<ItchMessage> {
    fn push(&mut self, message: ItchMessage) {
        Vec::push(self, message);
    }
}

/// Turns events into ITCH messages. Locate codes are the instruments' positions from 1.
#[derive(Debug)]
pub struct Translator {
    instruments: Vec<FeedInstrument>,
    /// Each instrument's position, by id as a `u128`.
    slots: SlotTable,
    books: Vec<BookMirror>,
    next_ref: u64,
    next_match: u64,
    origin_ns: u64,
    unpublishable: u64,
}

fn itch_side(side: Side) -> ItchSide {
    match side {
        Side::Buy => ItchSide::Buy,
        Side::Sell => ItchSide::Sell,
    }
}

impl Translator {
    /// A translator for `instruments` (locate codes 1, 2, ... in this order; at most
    /// 65,535, checked by the feed's configuration). `origin_ns` is the ITCH timestamp
    /// (nanoseconds since midnight) of the engine's timestamp 0.
    #[must_use]
    pub fn new(instruments: Vec<FeedInstrument>, origin_ns: u64) -> Translator {
        let ids: Vec<u128> = instruments.iter().map(|i| i.id.as_u128()).collect();
        let slots = SlotTable::new(&ids);
        let books = instruments.iter().map(|_| BookMirror::default()).collect();
        Translator {
            instruments,
            slots,
            books,
            next_ref: 1,
            next_match: 1,
            origin_ns,
            unpublishable: 0,
        }
    }

    /// The instruments, in locate order.
    #[must_use]
    pub fn instruments(&self) -> &[FeedInstrument] {
        &self.instruments
    }

    /// How many orders could not be published (price or quantity beyond ITCH's fields).
    #[must_use]
    pub fn unpublishable(&self) -> u64 {
        self.unpublishable
    }

    /// Sets the ITCH timestamp of the engine's timestamp 0.
    pub fn set_origin_ns(&mut self, origin_ns: u64) {
        self.origin_ns = origin_ns;
    }

    /// The ITCH timestamp of an engine timestamp.
    #[must_use]
    pub fn timestamp(&self, engine_ns: u64) -> u64 {
        self.origin_ns.wrapping_add(engine_ns) & TIMESTAMP_MAX
    }

    fn header(&self, slot: usize, timestamp: u64) -> Header {
        Header {
            // `FeedConfig` allows at most 65,535 instruments.
            stock_locate: u16::try_from(slot + 1).unwrap_or(u16::MAX),
            tracking_number: 0,
            timestamp,
        }
    }

    /// The messages that open the feed: Start of Messages, then a Stock Directory and a
    /// Stock Trading Action (trading) for every instrument.
    pub fn start(&self, engine_ns: u64, out: &mut Vec<ItchMessage>) {
        let timestamp = self.timestamp(engine_ns);
        out.push(ItchMessage::SystemEvent(SystemEvent {
            header: Header {
                timestamp,
                ..Header::default()
            },
            event: SystemEventCode::StartOfMessages,
        }));
        for slot in 0..self.instruments.len() {
            self.directory(slot, timestamp, out);
        }
    }

    /// The message that closes the feed: End of Messages.
    pub fn end(&self, engine_ns: u64, out: &mut Vec<ItchMessage>) {
        out.push(ItchMessage::SystemEvent(SystemEvent {
            header: Header {
                timestamp: self.timestamp(engine_ns),
                ..Header::default()
            },
            event: SystemEventCode::EndOfMessages,
        }));
    }

    fn directory(&self, slot: usize, timestamp: u64, out: &mut Vec<ItchMessage>) {
        let header = self.header(slot, timestamp);
        let stock = self.instruments[slot].stock;
        out.push(ItchMessage::StockDirectory(StockDirectory::ringbook(
            header, stock,
        )));
        let state = if self.books[slot].halted {
            TradingState::Halted
        } else {
            TradingState::Trading
        };
        out.push(ItchMessage::StockTradingAction(StockTradingAction::new(
            header, stock, state,
        )));
    }

    /// Every book as a GLIMPSE snapshot body: per instrument its Stock Directory, its
    /// trading state, then its resting orders as Add Orders in time priority (reference
    /// numbers are given in the order orders join their queues).
    pub fn snapshot(&self, engine_ns: u64, out: &mut Vec<ItchMessage>) {
        let timestamp = self.timestamp(engine_ns);
        for (slot, book) in self.books.iter().enumerate() {
            self.directory(slot, timestamp, out);
            let mut resting: Vec<&Resting> = book.resting().filter(|r| r.order_ref != 0).collect();
            resting.sort_unstable_by_key(|r| r.order_ref);
            for r in resting {
                // Published orders fit: `rest` checked.
                out.push(ItchMessage::AddOrder(AddOrder {
                    header: self.header(slot, timestamp),
                    order_ref: r.order_ref,
                    side: itch_side(r.side),
                    shares: u32::try_from(r.shown).unwrap_or(u32::MAX),
                    stock: self.instruments[slot].stock,
                    price: self.instruments[slot]
                        .itch_price(r.price)
                        .unwrap_or(u32::MAX),
                }));
            }
        }
    }

    /// Appends the messages one event makes.
    #[inline]
    pub fn translate(&mut self, event: &PublishedEvent<'_>, out: &mut impl MessageSink) {
        if let Some((book, feed_event)) = FeedEvent::of(event.result) {
            self.apply(event.timestamp_ns, book.as_u128(), &feed_event, out);
        } else if let OrderbookResult::Snapshot {
            instrument_id,
            snapshot,
        } = event.result
        {
            self.seed_book(event.timestamp_ns, instrument_id.as_u128(), snapshot, out);
        }
    }

    /// The position of the instrument `id`.
    #[inline]
    fn slot_of(&self, id: u128) -> Option<usize> {
        self.slots.get(id)
    }

    /// Appends the messages a book snapshot makes (see [`Self::seed`]).
    pub(crate) fn seed_book(
        &mut self,
        timestamp_ns: u64,
        book: u128,
        snapshot: &BookSnapshot,
        out: &mut impl MessageSink,
    ) {
        let Some(slot) = self.slot_of(book) else {
            return;
        };
        let header = self.header(slot, self.timestamp(timestamp_ns));
        self.seed(slot, snapshot, header, out);
    }

    /// Appends the messages one event of book `book` (an instrument id) makes.
    #[inline]
    pub(crate) fn apply(
        &mut self,
        timestamp_ns: u64,
        book: u128,
        event: &FeedEvent,
        out: &mut impl MessageSink,
    ) {
        let Some(slot) = self.slot_of(book) else {
            return;
        };
        let header = self.header(slot, self.timestamp(timestamp_ns));
        match *event {
            FeedEvent::Incoming(taker) => self.incoming(slot, taker, header, out),
            FeedEvent::Parked(taker) => self.books[slot].park(taker.order_id, taker.parked()),
            FeedEvent::Triggered { order_id } => {
                // A stop-market order never rests: only its makers' executions show.
                if let Some(parked) = self.books[slot].unpark(&order_id) {
                    let taker = Taker {
                        order_id,
                        side: parked.side,
                        price: parked.price,
                        qty: parked.qty,
                        display: parked.display,
                    };
                    self.incoming(slot, taker, header, out);
                }
            }
            FeedEvent::Trade {
                taker_order_id,
                maker_order_id,
                qty,
                taker_remaining,
                maker_remaining,
            } => {
                if let Some(Fill { order_ref, refill }) =
                    self.books[slot].fill(&maker_order_id, qty, maker_remaining)
                {
                    if order_ref != 0 {
                        let match_number = self.next_match;
                        self.next_match += 1;
                        out.push(ItchMessage::OrderExecuted(OrderExecuted {
                            header,
                            order_ref,
                            executed_shares: u32::try_from(qty).unwrap_or(u32::MAX),
                            match_number,
                        }));
                    }
                    if let Some(maker) = refill {
                        // An exhausted slice with hidden quantity left: the next slice
                        // joins the back of the level as a new order.
                        let next = Taker {
                            order_id: maker_order_id,
                            side: maker.side,
                            price: maker.price,
                            qty: maker_remaining,
                            display: maker.display,
                        };
                        self.rest(slot, next, header, out);
                    }
                }
                let book = &mut self.books[slot];
                let pending = book.taker.filter(|t| t.order_id == taker_order_id);
                if let Some(taker) = pending {
                    book.taker = None;
                    let taker = Taker {
                        qty: taker_remaining,
                        ..taker
                    };
                    if taker.qty > 0 {
                        self.incoming(slot, taker, header, out);
                    }
                }
            }
            FeedEvent::Cancelled { order_id } => {
                self.books[slot].unpark(&order_id);
                if let Some(resting) = self.books[slot].remove(&order_id)
                    && resting.order_ref != 0
                {
                    out.push(ItchMessage::OrderDelete(OrderDelete {
                        header,
                        order_ref: resting.order_ref,
                    }));
                }
            }
            FeedEvent::Expired { order_id } => {
                let book = &mut self.books[slot];
                if book.taker.is_some_and(|t| t.order_id == order_id) {
                    book.taker = None;
                }
            }
            FeedEvent::Modified {
                order,
                priority_kept,
            } => self.modified(slot, order, priority_kept, header, out),
            FeedEvent::Halted | FeedEvent::Resumed => {
                let halted = matches!(event, FeedEvent::Halted);
                self.books[slot].halted = halted;
                let state = if halted {
                    TradingState::Halted
                } else {
                    TradingState::Trading
                };
                out.push(ItchMessage::StockTradingAction(StockTradingAction::new(
                    header,
                    self.instruments[slot].stock,
                    state,
                )));
            }
        }
    }

    /// A modify: `taker` is the order as it now is (new price, whole open quantity).
    fn modified(
        &mut self,
        slot: usize,
        taker: Taker,
        priority_kept: bool,
        header: Header,
        out: &mut impl MessageSink,
    ) {
        let Taker {
            order_id,
            side,
            price,
            qty,
            ..
        } = taker;
        let book = &mut self.books[slot];
        if priority_kept {
            if let Some(resting) = book.get_mut(&order_id) {
                // It shows min(shown, Q): only the shown slice's reduction is public.
                let shown = resting.shown.min(qty);
                let reduced = resting.shown - shown;
                resting.shown = shown;
                if reduced > 0 && resting.order_ref != 0 {
                    out.push(ItchMessage::OrderCancel(OrderCancel {
                        header,
                        order_ref: resting.order_ref,
                        cancelled_shares: u32::try_from(reduced).unwrap_or(u32::MAX),
                    }));
                }
            }
            return;
        }
        let old = book.remove(&order_id);
        let old_ref = old.map_or(0, |o| o.order_ref);
        if book.crosses(side, price) || old_ref == 0 {
            if old_ref != 0 {
                out.push(ItchMessage::OrderDelete(OrderDelete {
                    header,
                    order_ref: old_ref,
                }));
            }
            self.incoming(slot, taker, header, out);
            return;
        }
        let shown = Resting::slice(taker.display, qty);
        match (
            self.instruments[slot].itch_price(price),
            u32::try_from(shown),
        ) {
            (Some(itch_price), Ok(shares)) => {
                let new_ref = self.next_ref;
                self.next_ref += 1;
                self.books[slot].insert(
                    order_id,
                    Resting {
                        order_ref: new_ref,
                        side,
                        price,
                        shown,
                        display: taker.display,
                    },
                );
                out.push(ItchMessage::OrderReplace(OrderReplace {
                    header,
                    original_ref: old_ref,
                    new_ref,
                    shares,
                    price: itch_price,
                }));
            }
            _ => {
                out.push(ItchMessage::OrderDelete(OrderDelete {
                    header,
                    order_ref: old_ref,
                }));
                self.unpublished(slot, taker);
            }
        }
    }

    /// An order that may trade: it rests now if it no longer crosses, else it waits for
    /// its trades.
    #[inline]
    fn incoming(&mut self, slot: usize, taker: Taker, header: Header, out: &mut impl MessageSink) {
        let book = &mut self.books[slot];
        if book.crosses(taker.side, taker.price) {
            book.taker = Some(taker);
            return;
        }
        self.rest(slot, taker, header, out);
    }

    /// Rests an order that does not cross: an Add Order of its shown slice (its whole
    /// quantity, or min(display, quantity) for an iceberg).
    #[inline]
    fn rest(&mut self, slot: usize, taker: Taker, header: Header, out: &mut impl MessageSink) {
        let shown = Resting::slice(taker.display, taker.qty);
        let (Some(price), Ok(shares)) = (
            self.instruments[slot].itch_price(taker.price),
            u32::try_from(shown),
        ) else {
            self.unpublished(slot, taker);
            return;
        };
        let order_ref = self.next_ref;
        self.next_ref += 1;
        self.books[slot].insert(
            taker.order_id,
            Resting {
                order_ref,
                side: taker.side,
                price: taker.price,
                shown,
                display: taker.display,
            },
        );
        out.push(ItchMessage::AddOrder(AddOrder {
            header,
            order_ref,
            side: itch_side(taker.side),
            shares,
            stock: self.instruments[slot].stock,
            price,
        }));
    }

    /// A snapshot of a book the feed has published nothing of (an engine recovered from
    /// its journal starts with resting orders): every order is published as an Add Order,
    /// level by level in time priority, and the trading state if it differs. A snapshot of
    /// a book the feed already mirrors changes nothing.
    fn seed(
        &mut self,
        slot: usize,
        snapshot: &BookSnapshot,
        header: Header,
        out: &mut impl MessageSink,
    ) {
        if snapshot.halted != self.books[slot].halted {
            self.books[slot].halted = snapshot.halted;
            let state = if snapshot.halted {
                TradingState::Halted
            } else {
                TradingState::Trading
            };
            out.push(ItchMessage::StockTradingAction(StockTradingAction::new(
                header,
                self.instruments[slot].stock,
                state,
            )));
        }
        if !self.books[slot].is_empty() || self.books[slot].taker.is_some() {
            return;
        }
        for (side, levels) in [(Side::Buy, &snapshot.bids), (Side::Sell, &snapshot.asks)] {
            for level in levels {
                for order in &level.orders {
                    // A snapshot shows slices only: an iceberg's hidden quantity and
                    // display are unknown, so its slice size is taken as its display.
                    let taker = Taker {
                        order_id: order.order_id,
                        side,
                        price: level.price,
                        qty: order.qty,
                        display: NonZeroU64::new(order.qty),
                    };
                    // A resting order never crosses the other side: it rests at once.
                    self.incoming(slot, taker, header, out);
                }
            }
        }
    }

    /// Rests an order ITCH cannot carry, unpublished (reference number 0).
    fn unpublished(&mut self, slot: usize, taker: Taker) {
        self.unpublishable += 1;
        tracing::warn!(
            order = %taker.order_id,
            price = taker.price,
            qty = taker.qty,
            "order does not fit ITCH's price or shares field; not published"
        );
        self.books[slot].insert(
            taker.order_id,
            Resting {
                order_ref: 0,
                side: taker.side,
                price: taker.price,
                shown: Resting::slice(taker.display, taker.qty),
                display: taker.display,
            },
        );
    }
}
