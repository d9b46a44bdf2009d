//! An engine event as the translator needs it: [`FeedEvent`], a small `Copy` value made by
//! one match on the engine's result. Events that can make no ITCH message (rejects,
//! statuses, the acceptance of an order that never rests, a mass cancel's summary) make
//! none, so they are dropped before the publisher's lock or the hand-off to the feed
//! thread. A book snapshot (heap data) is the one event that takes the slow path.

use ringbook::{OrderKind, OrderbookResult, Qty, Uuid};

use super::mirror::{Parked, Taker};

/// What one engine event means to the feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FeedEvent {
    /// A limit or post-only order was accepted: it rests, or trades first.
    Incoming(Taker),
    /// A stop-limit order was parked (unpublished until it rests).
    Parked(Taker),
    /// A parked stop order was activated.
    Triggered {
        /// The stop order.
        order_id: Uuid,
    },
    /// One fill.
    Trade {
        /// The incoming order.
        taker_order_id: Uuid,
        /// The resting order.
        maker_order_id: Uuid,
        /// The fill quantity.
        qty: Qty,
        /// The taker's open quantity after the fill.
        taker_remaining: Qty,
        /// The maker's open quantity after the fill.
        maker_remaining: Qty,
    },
    /// An order was removed (a cancel, a mass cancel, self-trade prevention).
    Cancelled {
        /// The order.
        order_id: Uuid,
    },
    /// The unfilled rest of a taker expired.
    Expired {
        /// The order.
        order_id: Uuid,
    },
    /// A modify took effect: the order as it now is.
    Modified {
        /// The order (new price, whole open quantity, display).
        order: Taker,
        /// Whether it kept its place in the queue.
        priority_kept: bool,
    },
    /// The book was halted.
    Halted,
    /// The book resumed.
    Resumed,
}

/// A [`FeedEvent`] with its book and the sequencer's timestamp: what the feed thread is
/// handed per event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FeedItem {
    /// The engine's timestamp of the command behind the event.
    pub(crate) timestamp_ns: u64,
    /// The book's instrument id (a `Uuid`, not a `u128`: byte-aligned, so the item is
    /// 8-aligned and moved without padding).
    pub(crate) book: Uuid,
    /// The event.
    pub(crate) event: FeedEvent,
}

impl FeedEvent {
    /// The event `result` makes, with its book (the instrument id); `None`
    /// when it can make no message (or is a [`OrderbookResult::Snapshot`], which the
    /// caller handles itself). Always inlined: the match then writes its result in
    /// place.
    #[inline(always)]
    pub(crate) fn of(result: &OrderbookResult) -> Option<(Uuid, FeedEvent)> {
        let event = match *result {
            OrderbookResult::Accepted {
                instrument_id,
                order_id,
                side,
                kind,
                price: Some(price),
                qty,
                display,
                ..
            } => {
                let taker = Taker {
                    order_id,
                    side,
                    price,
                    qty,
                    display,
                };
                let event = match kind {
                    OrderKind::Limit | OrderKind::PostOnly => FeedEvent::Incoming(taker),
                    OrderKind::StopLimit => FeedEvent::Parked(taker),
                    _ => return None,
                };
                (instrument_id, event)
            }
            OrderbookResult::Triggered {
                instrument_id,
                order_id,
                ..
            } => (instrument_id, FeedEvent::Triggered { order_id }),
            OrderbookResult::Trade {
                instrument_id,
                taker_order_id,
                maker_order_id,
                qty,
                taker_remaining,
                maker_remaining,
                ..
            } => (
                instrument_id,
                FeedEvent::Trade {
                    taker_order_id,
                    maker_order_id,
                    qty,
                    taker_remaining,
                    maker_remaining,
                },
            ),
            OrderbookResult::Cancelled {
                instrument_id,
                order_id,
                ..
            } => (instrument_id, FeedEvent::Cancelled { order_id }),
            OrderbookResult::Expired {
                instrument_id,
                order_id,
                ..
            } => (instrument_id, FeedEvent::Expired { order_id }),
            OrderbookResult::Modified {
                instrument_id,
                order_id,
                side,
                price,
                qty,
                priority_kept,
                display,
                ..
            } => (
                instrument_id,
                FeedEvent::Modified {
                    order: Taker {
                        order_id,
                        side,
                        price,
                        qty,
                        display,
                    },
                    priority_kept,
                },
            ),
            OrderbookResult::Halted { instrument_id } => (instrument_id, FeedEvent::Halted),
            OrderbookResult::Resumed { instrument_id } => (instrument_id, FeedEvent::Resumed),
            OrderbookResult::Accepted { .. }
            | OrderbookResult::Rejected { .. }
            | OrderbookResult::Status { .. }
            | OrderbookResult::Snapshot { .. }
            | OrderbookResult::MassCancelled { .. } => return None,
        };
        Some(event)
    }
}

impl Taker {
    /// A parked stop-limit order's fields as its activation rests them.
    pub(crate) fn parked(&self) -> Parked {
        Parked {
            side: self.side,
            price: self.price,
            qty: self.qty,
            display: self.display,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use ringbook::{EndReason, Op, RejectReason, Side};

    use super::*;

    const BOOK: Uuid = Uuid::from_u128(7);
    const ORDER: Uuid = Uuid::from_u128(9);

    fn accepted(kind: OrderKind, price: Option<i64>) -> OrderbookResult {
        OrderbookResult::Accepted {
            instrument_id: BOOK,
            order_id: ORDER,
            side: Side::Sell,
            kind,
            price,
            qty: 30,
            trigger: None,
            display: NonZeroU64::new(10),
        }
    }

    #[test]
    fn only_events_that_can_make_a_message_make_a_feed_event() {
        let taker = Taker {
            order_id: ORDER,
            side: Side::Sell,
            price: 101,
            qty: 30,
            display: NonZeroU64::new(10),
        };
        assert_eq!(
            FeedEvent::of(&accepted(OrderKind::Limit, Some(101))),
            Some((BOOK, FeedEvent::Incoming(taker)))
        );
        assert_eq!(
            FeedEvent::of(&accepted(OrderKind::PostOnly, Some(101))),
            Some((BOOK, FeedEvent::Incoming(taker)))
        );
        assert_eq!(
            FeedEvent::of(&accepted(OrderKind::StopLimit, Some(101))),
            Some((BOOK, FeedEvent::Parked(taker)))
        );
        for kind in [
            OrderKind::Ioc,
            OrderKind::Fok,
            OrderKind::Market,
            OrderKind::Stop,
        ] {
            let price = (kind != OrderKind::Market && kind != OrderKind::Stop).then_some(101);
            assert_eq!(FeedEvent::of(&accepted(kind, price)), None, "{kind}");
        }
        let rejected = OrderbookResult::Rejected {
            instrument_id: BOOK,
            op: Op::Cancel,
            order_id: Some(ORDER),
            reason: RejectReason::UnknownOrder,
        };
        assert_eq!(FeedEvent::of(&rejected), None);
        let trade = OrderbookResult::Trade {
            instrument_id: BOOK,
            taker_order_id: ORDER,
            maker_order_id: Uuid::from_u128(3),
            taker_side: Side::Buy,
            price: 100,
            qty: 4,
            taker_remaining: 5,
            maker_remaining: 6,
        };
        assert_eq!(
            FeedEvent::of(&trade),
            Some((
                BOOK,
                FeedEvent::Trade {
                    taker_order_id: ORDER,
                    maker_order_id: Uuid::from_u128(3),
                    qty: 4,
                    taker_remaining: 5,
                    maker_remaining: 6,
                }
            ))
        );
        let cancelled = OrderbookResult::Cancelled {
            instrument_id: BOOK,
            order_id: ORDER,
            side: Side::Buy,
            price: Some(100),
            remaining_qty: 3,
            reason: EndReason::Plain,
        };
        assert_eq!(
            FeedEvent::of(&cancelled),
            Some((BOOK, FeedEvent::Cancelled { order_id: ORDER }))
        );
        assert_eq!(
            FeedEvent::of(&OrderbookResult::Halted {
                instrument_id: BOOK
            }),
            Some((BOOK, FeedEvent::Halted))
        );
    }
}
