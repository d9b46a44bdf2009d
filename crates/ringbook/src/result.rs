//! The results a book publishes: one variant per event type of the flow format.

use std::fmt;
use std::num::NonZeroU64;

use uuid::Uuid;

use crate::command::Op;
use crate::types::{OrderKind, Price, Qty, Side};

/// Why an order ended other than by a plain cancel or expiry: written as the `reason` of a
/// `cancelled` or `expired` event when it is not [`EndReason::Plain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum EndReason {
    /// A cancel op, or the unfilled rest of a market, ioc or fok order: no `reason` field.
    #[default]
    Plain,
    /// Self-trade prevention stopped the taker or removed the maker.
    SelfTradePrevention,
    /// A mass cancel op removed it.
    MassCancel,
}

impl EndReason {
    /// The `reason` word, or `None` for [`EndReason::Plain`] (which writes none).
    #[must_use]
    pub const fn as_str(self) -> Option<&'static str> {
        match self {
            EndReason::Plain => None,
            EndReason::SelfTradePrevention => Some("self_trade_prevention"),
            EndReason::MassCancel => Some("mass_cancel"),
        }
    }
}

/// Why an op was refused. When several apply, the first in this list is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The instrument has no book.
    InstrumentNotRegistered,
    /// An add or modify reached a halted book.
    OrderbookHalted,
    /// An add or modify with quantity zero.
    InvalidQuantity,
    /// An add whose id rests in the book now.
    DuplicateOrderId,
    /// A cancel or modify of an id that neither rests nor is parked in the book now.
    UnknownOrder,
    /// A modify of a parked stop order (long form).
    NotModifiable,
    /// A post-only order (new, or modified) would match on arrival.
    PostOnlyWouldCross,
}

impl RejectReason {
    /// Every reason, in the order the flow format checks them.
    pub const ALL: [RejectReason; 7] = [
        RejectReason::InstrumentNotRegistered,
        RejectReason::OrderbookHalted,
        RejectReason::InvalidQuantity,
        RejectReason::DuplicateOrderId,
        RejectReason::UnknownOrder,
        RejectReason::NotModifiable,
        RejectReason::PostOnlyWouldCross,
    ];

    /// The reason as written in the event stream.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::InstrumentNotRegistered => "instrument_not_registered",
            RejectReason::OrderbookHalted => "orderbook_halted",
            RejectReason::InvalidQuantity => "invalid_quantity",
            RejectReason::DuplicateOrderId => "duplicate_order_id",
            RejectReason::UnknownOrder => "unknown_order",
            RejectReason::NotModifiable => "not_modifiable",
            RejectReason::PostOnlyWouldCross => "post_only_would_cross",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A book's top of book and counts, as published by a `status` op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct BookStatus {
    /// Whether the book is halted.
    pub halted: bool,
    /// The best bid price, `None` on an empty bid side.
    pub best_bid: Option<Price>,
    /// The total quantity at the best bid (0 on an empty side). May exceed `u64::MAX`.
    pub best_bid_qty: u128,
    /// The best ask price, `None` on an empty ask side.
    pub best_ask: Option<Price>,
    /// The total quantity at the best ask (0 on an empty side). May exceed `u64::MAX`.
    pub best_ask_qty: u128,
    /// How many bid price levels are non-empty.
    pub bid_levels: u64,
    /// How many ask price levels are non-empty.
    pub ask_levels: u64,
    /// How many orders rest in the book, both sides.
    pub orders: u64,
    /// How many stop orders are parked (long form; written only for long-form runs).
    pub stops: u64,
    /// The price of the book's most recent trade, `None` before the first (long form;
    /// written only for long-form runs).
    pub last_trade_price: Option<Price>,
}

/// One resting order in a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SnapshotOrder {
    /// The order's id.
    pub order_id: Uuid,
    /// Its shown quantity: the open quantity, or an iceberg's current slice.
    pub qty: Qty,
}

/// One parked stop order in a snapshot (long form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SnapshotStop {
    /// The order's id.
    pub order_id: Uuid,
    /// Its side.
    pub side: Side,
    /// [`OrderKind::Stop`] or [`OrderKind::StopLimit`].
    pub kind: OrderKind,
    /// The last trade price that activates it.
    pub trigger: Price,
    /// Its limit price; `None` for a stop-market order.
    pub price: Option<Price>,
    /// Its quantity.
    pub qty: Qty,
}

/// One price level in a snapshot: its orders in time priority.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SnapshotLevel {
    /// The level's price.
    pub price: Price,
    /// The orders resting at this price, earliest first.
    pub orders: Vec<SnapshotOrder>,
}

/// An L3 snapshot of one book: every level, best first, every order in time priority.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct BookSnapshot {
    /// Whether the book is halted.
    pub halted: bool,
    /// Bid levels, highest price first.
    pub bids: Vec<SnapshotLevel>,
    /// Ask levels, lowest price first.
    pub asks: Vec<SnapshotLevel>,
    /// Parked stop orders in acceptance order (long form; written only for long-form
    /// runs).
    pub stops: Vec<SnapshotStop>,
}

/// One event a book (or the manager, for rejects it decides itself) publishes.
///
/// Variants match the `type` values of the flow format's event stream one to one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OrderbookResult {
    /// An add passed every check.
    Accepted {
        /// The book.
        instrument_id: Uuid,
        /// The new order.
        order_id: Uuid,
        /// Its side.
        side: Side,
        /// Its kind.
        kind: OrderKind,
        /// Its limit price; `None` for a market or stop-market order.
        price: Option<Price>,
        /// Its quantity.
        qty: Qty,
        /// A stop order's trigger (long form); `None` for other kinds.
        trigger: Option<Price>,
        /// An iceberg's display quantity (long form); `None` for other orders. Never zero
        /// (a display of 0 is rejected), which keeps the event as small as a trade.
        display: Option<NonZeroU64>,
    },
    /// An op was refused.
    Rejected {
        /// The book the op named.
        instrument_id: Uuid,
        /// The op refused.
        op: Op,
        /// The order id of the op, `None` when the op has none.
        order_id: Option<Uuid>,
        /// Why.
        reason: RejectReason,
    },
    /// One fill between an incoming (taker) order and a resting (maker) order.
    Trade {
        /// The book.
        instrument_id: Uuid,
        /// The incoming order.
        taker_order_id: Uuid,
        /// The resting order.
        maker_order_id: Uuid,
        /// The incoming order's side.
        taker_side: Side,
        /// The fill price: always the resting order's price.
        price: Price,
        /// The fill quantity.
        qty: Qty,
        /// The taker's open quantity after this fill.
        taker_remaining: Qty,
        /// The maker's open quantity after this fill.
        maker_remaining: Qty,
    },
    /// A cancel removed a resting or parked order; or (long form) self-trade prevention
    /// or a mass cancel did.
    Cancelled {
        /// The book.
        instrument_id: Uuid,
        /// The removed order.
        order_id: Uuid,
        /// Its side.
        side: Side,
        /// The price it rested at; `None` only for a parked stop-market order.
        price: Option<Price>,
        /// Its whole open quantity when removed (an iceberg's hidden part included).
        remaining_qty: Qty,
        /// Why, when not a plain cancel.
        reason: EndReason,
    },
    /// The unfilled rest of a market, ioc or fok order, or (long form) of a taker that
    /// self-trade prevention stopped.
    Expired {
        /// The book.
        instrument_id: Uuid,
        /// The order.
        order_id: Uuid,
        /// Its side.
        side: Side,
        /// Its limit price; `None` for a market order.
        price: Option<Price>,
        /// The quantity that did not trade.
        remaining_qty: Qty,
        /// Why, when not a plain expiry.
        reason: EndReason,
    },
    /// A modify took effect.
    Modified {
        /// The book.
        instrument_id: Uuid,
        /// The order.
        order_id: Uuid,
        /// Its side.
        side: Side,
        /// Its new price.
        price: Price,
        /// Its new open quantity.
        qty: Qty,
        /// The price it rested at before the modify.
        old_price: Price,
        /// Its open quantity before the modify (an iceberg's whole open quantity).
        old_qty: Qty,
        /// Whether it kept its place in the queue.
        priority_kept: bool,
        /// An iceberg's display quantity (long form); `None` for other orders.
        display: Option<NonZeroU64>,
    },
    /// A halt op on a registered instrument.
    Halted {
        /// The book.
        instrument_id: Uuid,
    },
    /// A resume op on a registered instrument.
    Resumed {
        /// The book.
        instrument_id: Uuid,
    },
    /// A status op.
    Status {
        /// The book.
        instrument_id: Uuid,
        /// Its top of book and counts. Boxed: its 128-bit totals would otherwise make
        /// every event 112 bytes, where the largest others (a trade, a modify) are 88.
        status: Box<BookStatus>,
    },
    /// A snapshot op. Boxed: snapshots are rare and large, other events small.
    Snapshot {
        /// The book.
        instrument_id: Uuid,
        /// Every level and order.
        snapshot: Box<BookSnapshot>,
    },
    /// A parked stop order was activated (long form); its matching events follow.
    Triggered {
        /// The book.
        instrument_id: Uuid,
        /// The stop order.
        order_id: Uuid,
        /// Its side.
        side: Side,
        /// [`OrderKind::Stop`] or [`OrderKind::StopLimit`].
        kind: OrderKind,
        /// Its trigger.
        trigger: Price,
    },
    /// A mass cancel op finished (long form), after one `cancelled` per order removed.
    MassCancelled {
        /// The book.
        instrument_id: Uuid,
        /// The owner whose orders were cancelled; `None` for every order.
        owner: Option<u64>,
        /// How many orders were cancelled (0 when none matched).
        count: u64,
    },
}

impl OrderbookResult {
    /// The instrument this event concerns.
    #[inline]
    #[must_use]
    pub const fn instrument_id(&self) -> Uuid {
        match self {
            OrderbookResult::Accepted { instrument_id, .. }
            | OrderbookResult::Rejected { instrument_id, .. }
            | OrderbookResult::Trade { instrument_id, .. }
            | OrderbookResult::Cancelled { instrument_id, .. }
            | OrderbookResult::Expired { instrument_id, .. }
            | OrderbookResult::Modified { instrument_id, .. }
            | OrderbookResult::Halted { instrument_id }
            | OrderbookResult::Resumed { instrument_id }
            | OrderbookResult::Status { instrument_id, .. }
            | OrderbookResult::Snapshot { instrument_id, .. }
            | OrderbookResult::Triggered { instrument_id, .. }
            | OrderbookResult::MassCancelled { instrument_id, .. } => *instrument_id,
        }
    }

    /// The event's `type` as written in the event stream.
    #[must_use]
    pub const fn type_name(&self) -> &'static str {
        match self {
            OrderbookResult::Accepted { .. } => "accepted",
            OrderbookResult::Rejected { .. } => "rejected",
            OrderbookResult::Trade { .. } => "trade",
            OrderbookResult::Cancelled { .. } => "cancelled",
            OrderbookResult::Expired { .. } => "expired",
            OrderbookResult::Modified { .. } => "modified",
            OrderbookResult::Halted { .. } => "halted",
            OrderbookResult::Resumed { .. } => "resumed",
            OrderbookResult::Status { .. } => "status",
            OrderbookResult::Snapshot { .. } => "snapshot",
            OrderbookResult::Triggered { .. } => "triggered",
            OrderbookResult::MassCancelled { .. } => "mass_cancelled",
        }
    }

    /// A `rejected` event for `command`.
    #[must_use]
    pub fn rejected(command: &crate::command::Command, reason: RejectReason) -> OrderbookResult {
        OrderbookResult::Rejected {
            instrument_id: command.instrument_id(),
            op: command.op(),
            order_id: command.order_id(),
            reason,
        }
    }
}

/// Where a book sends its events.
///
/// Any `FnMut(OrderbookResult)` closure is a sink, so a caller can push into a reused
/// buffer, count, or forward into a ring without the book allocating per event.
///
/// # Examples
///
/// ```
/// use ringbook::{Command, OrderBook, OrderbookResult};
/// use uuid::Uuid;
///
/// let instrument = Uuid::from_u128(1);
/// let mut book = OrderBook::new(instrument);
/// let mut events = Vec::new();
/// book.apply(&Command::Status { instrument_id: instrument }, &mut |e| events.push(e));
/// assert!(matches!(events[0], OrderbookResult::Status { .. }));
/// ```
pub trait EventSink {
    /// Receives one event.
    fn publish(&mut self, result: OrderbookResult);
}

impl<F: FnMut(OrderbookResult)> EventSink for F {
    #[inline]
    fn publish(&mut self, result: OrderbookResult) {
        self(result)
    }
}
