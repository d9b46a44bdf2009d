//! The ops that change the book: add (with matching), cancel and modify.

use std::ops::ControlFlow;

use uuid::Uuid;

use super::ids::Ids;
use super::index::{Probe, Vacancy};
use super::long_form::ICEBERG;
use super::slab::NIL;
use super::{EXTRAS, LONG_CANCEL, OrderBook, PARKED, Slot, free_in, unlink_neighbours_in};
use crate::command::Op;
use crate::result::{EndReason, EventSink, OrderbookResult, RejectReason};
use crate::types::{Order, OrderKind, Price, Qty, Side};

impl OrderBook {
    /// An add: the checks in the flow format's order, then `accepted`, the fok check,
    /// matching, and the rest either rests or expires. An order with any long-form feature
    /// (an owner, a display, a stop kind) goes to [`OrderBook::add_long`].
    ///
    /// Inlined into `apply` always: with the index a type parameter the compiler kept the
    /// consumer's (shared index) instance out of line, a call and its spills a command.
    #[inline(always)]
    pub(super) fn add<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        sink: &mut S,
    ) {
        // A limit order takes the plain path, owned or not (half the long form's adds:
        // testing for extras first sent them the long way at random); an iceberg leaves it
        // first thing. Any other with an owner or a display: the long form's checks from
        // the start. A stop kind passes the same checks as a plain order and goes to the
        // long form after them, where the kind is tested anyway. The extras are tested
        // before the IOC kind: with the two kind compares adjacent, they were made one
        // switch that tested the IOC kind first, two instructions more a limit add (about
        // 1% of every market regime's instructions).
        if order.kind == OrderKind::Limit {
            return self.add_limit(ix, order, sink);
        }
        if order.has_extras() {
            return self.add_long(ix, order, sink);
        }
        if order.kind == OrderKind::Ioc {
            return self.add_ioc(ix, order, sink);
        }
        let Some(vacancy) = self.admit(ix, order, sink) else {
            return;
        };
        let limit = order.limit_price();
        let opposite = self.ladder(order.side.opposite());
        if order.kind == OrderKind::PostOnly && opposite.crossed_by(limit) {
            return sink.publish(OrderbookResult::Rejected {
                instrument_id: self.instrument_id,
                op: Op::Add,
                order_id: Some(order.order_id),
                reason: RejectReason::PostOnlyWouldCross,
            });
        }
        if order.kind.is_stop() {
            return self.accept_long(ix, order, vacancy, limit, sink);
        }
        sink.publish(OrderbookResult::Accepted {
            instrument_id: self.instrument_id,
            order_id: order.order_id,
            side: order.side,
            kind: order.kind,
            price: limit,
            qty: order.quantity,
            trigger: None,
            display: None,
        });
        let fillable = order.kind != OrderKind::Fok
            || self.liquidity_covers(order.side, order.price, order.quantity)
            || self.hidden_covers(ix, order.side, limit, order.quantity);
        if fillable && self.ladder(order.side.opposite()).crossed_by(limit) {
            return self.add_crossing(ix, order, vacancy, limit, sink);
        }
        // No trade: the whole order rests or expires, and no stop can fire.
        self.settle(ix, order, vacancy, limit, order.quantity, sink);
    }

    /// The checks every plain add passes first, in the flow format's order: the book is
    /// not halted, the quantity is not zero, the id is neither resting nor parked. Returns
    /// where the id will be indexed, or publishes the reject and returns `None`.
    #[inline(always)]
    fn admit<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        sink: &mut S,
    ) -> Option<Vacancy> {
        let reject = |sink: &mut S, reason| {
            sink.publish(OrderbookResult::Rejected {
                instrument_id: self.instrument_id,
                op: Op::Add,
                order_id: Some(order.order_id),
                reason,
            })
        };
        if self.halted {
            reject(sink, RejectReason::OrderbookHalted);
            return None;
        }
        if order.quantity == 0 {
            reject(sink, RejectReason::InvalidQuantity);
            return None;
        }
        let orders = &self.orders;
        let Ok(vacancy) = ix.vacancy(&self.index, &order.order_id, |s| orders[s].order_id.uuid())
        else {
            reject(sink, RejectReason::DuplicateOrderId);
            return None;
        };
        Some(vacancy)
    }

    /// [`Self::add`] of a limit order with no display, the most common add: the same
    /// checks in the same order, with the tests of the other kinds (post-only, stop, fok,
    /// a kind that does not rest) left out. An owner costs no test unless it crosses (then
    /// it matches with self-trade prevention); resting, its owner and mode are copied into
    /// its slot whether set or not.
    #[inline(always)]
    fn add_limit<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        sink: &mut S,
    ) {
        if order.has_display() {
            return self.add_long(ix, order, sink);
        }
        let Some(vacancy) = self.admit(ix, order, sink) else {
            return;
        };
        let limit = Some(order.price);
        let crossed = self.accept_priced(order, OrderKind::Limit, sink);
        if crossed {
            if order.has_extras() {
                return self.add_owned_crossing(ix, order, vacancy, sink);
            }
            return self.add_crossing(ix, order, vacancy, limit, sink);
        }
        // No trade: the whole order rests, and no stop can fire. Its flag byte (0 for a
        // plain order) goes in its slot as it is written; an owner, in the side table.
        let slot = self.rest_with(
            ix,
            vacancy,
            order.order_id,
            order.side,
            order.price,
            order.quantity,
            false,
            order.long_bits(),
        );
        self.note_owner(ix, slot, order);
    }

    /// Publishes `accepted` for the priced plain add `order` of `kind` and tells whether
    /// its price crosses the opposite side's best (the step the limit and IOC paths
    /// share).
    #[inline(always)]
    fn accept_priced<S: EventSink + ?Sized>(
        &mut self,
        order: &Order,
        kind: OrderKind,
        sink: &mut S,
    ) -> bool {
        sink.publish(OrderbookResult::Accepted {
            instrument_id: self.instrument_id,
            order_id: order.order_id,
            side: order.side,
            kind,
            price: Some(order.price),
            qty: order.quantity,
            trigger: None,
            display: None,
        });
        match order.side {
            Side::Buy => self.asks.crossed_at(Side::Buy, order.price),
            Side::Sell => self.bids.crossed_at(Side::Sell, order.price),
        }
    }

    /// [`Self::add`] of an IOC order with no long-form extras (a sixth of a market's adds):
    /// the checks in the same order, `accepted`, then matching if it crosses and the rest
    /// expires, with the tests of the other kinds left out.
    #[inline(always)]
    fn add_ioc<X: Ids, S: EventSink + ?Sized>(&mut self, ix: &mut X, order: &Order, sink: &mut S) {
        let Some(vacancy) = self.admit(ix, order, sink) else {
            return;
        };
        let limit = Some(order.price);
        let crossed = self.accept_priced(order, OrderKind::Ioc, sink);
        if crossed {
            return self.add_crossing(ix, order, vacancy, limit, sink);
        }
        // No trade: the whole order expires, and no stop can fire.
        sink.publish(OrderbookResult::Expired {
            instrument_id: self.instrument_id,
            order_id: order.order_id,
            side: order.side,
            price: limit,
            remaining_qty: order.quantity,
            reason: EndReason::Plain,
        });
    }

    /// The rest of a plain add that crosses the opposite side: matching, then its rest
    /// rests or expires, then parked stops (it traded). Out of line, like the matching
    /// loop it calls, so the inlined path of an add that only rests stays short.
    #[inline(never)]
    fn add_crossing<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        vacancy: Vacancy,
        limit: Option<Price>,
        sink: &mut S,
    ) {
        let remaining =
            self.take_crossing(ix, order.order_id, order.side, limit, order.quantity, sink);
        if remaining > 0 {
            self.settle(ix, order, vacancy, limit, remaining, sink);
        }
        if !self.long.stops.is_empty() {
            self.activate_stops(ix, sink);
        }
    }

    /// The unfilled `remaining` of the plain add `order` (at `limit`): a resting kind
    /// rests at `vacancy` with the next acceptance number, any other expires.
    #[inline(always)]
    fn settle<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        vacancy: Vacancy,
        limit: Option<Price>,
        remaining: Qty,
        sink: &mut S,
    ) {
        if order.kind.rests() {
            let post_only = order.kind == OrderKind::PostOnly;
            self.rest_at(
                ix,
                vacancy,
                order.order_id,
                order.side,
                order.price,
                remaining,
                post_only,
            );
        } else {
            sink.publish(OrderbookResult::Expired {
                instrument_id: self.instrument_id,
                order_id: order.order_id,
                side: order.side,
                price: limit,
                remaining_qty: remaining,
                reason: EndReason::Plain,
            });
        }
    }

    /// A cancel: removes the resting order, halted or not. Inlined always, as
    /// [`Self::add`].
    #[inline(always)]
    pub(super) fn cancel<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order_id: Uuid,
        sink: &mut S,
    ) {
        match ix.take_in_window(&mut self.index, &order_id) {
            Probe::Hit(slot) => self.cancel_slot(ix, slot, order_id, sink),
            Probe::Absent => self.cancel_unknown(order_id, sink),
            Probe::Elsewhere => self.cancel_elsewhere(ix, order_id, sink),
        }
    }

    /// [`Self::cancel`] of an id the window's exact cells do not hold: the index's other
    /// parts, then the parked stops.
    #[inline(never)]
    fn cancel_elsewhere<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order_id: Uuid,
        sink: &mut S,
    ) {
        let orders = &self.orders;
        match ix.take_outside(&mut self.index, &order_id, |s| orders[s].order_id.uuid()) {
            Some(slot) => self.cancel_slot(ix, slot, order_id, sink),
            None => self.cancel_unknown(order_id, sink),
        }
    }

    /// [`Self::cancel`] of the order at `slot`, already dropped from the index.
    ///
    /// The unlink is fused in: the slot's fields are read once, its neighbours relinked
    /// and the slot freed (its writes all to the slab) before the level is found and
    /// written, so the slab's buffer is not loaded again after the level's stores.
    #[inline(always)]
    fn cancel_slot<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        slot: u32,
        order_id: Uuid,
        sink: &mut S,
    ) {
        // The slab is taken once: through the context's accessor at each use, its buffer
        // pointer was loaded again after the neighbours' stores (issue 17).
        let slots = ix.slots_mut(&mut self.orders);
        let (side, remaining_qty, price, prev, next, tag) = {
            let s = &slots[slot];
            (s.side(), s.qty, s.price, s.prev, s.next, s.tag)
        };
        // Only an iceberg (its hidden quantity, its count) or a parked stop's home needs
        // more: an owned order's extras are in its slot, freed with it.
        if tag & LONG_CANCEL != 0 {
            return self.cancel_long(ix, slot, sink);
        }
        unlink_neighbours_in(slots, prev, next);
        free_in(slots, slot);
        self.leave_level(side, price, remaining_qty, (prev, next));
        sink.publish(OrderbookResult::Cancelled {
            instrument_id: self.instrument_id,
            order_id,
            side,
            price: Some(price),
            remaining_qty,
            reason: EndReason::Plain,
        });
    }

    /// A modify: reduce in place keeps priority; anything else re-enters at the tail of
    /// the new price, trading first if it crosses.
    pub(super) fn modify<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order_id: Uuid,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let reject = |sink: &mut S, reason| {
            sink.publish(OrderbookResult::Rejected {
                instrument_id: self.instrument_id,
                op: Op::Modify,
                order_id: Some(order_id),
                reason,
            })
        };
        if self.halted {
            return reject(sink, RejectReason::OrderbookHalted);
        }
        if qty == 0 {
            return reject(sink, RejectReason::InvalidQuantity);
        }
        match ix.find_in_window(&self.index, &order_id) {
            Probe::Hit(slot) => self.modify_slot(ix, slot, order_id, price, qty, sink),
            Probe::Absent => self.modify_absent(order_id, sink),
            Probe::Elsewhere => self.modify_elsewhere(ix, order_id, price, qty, sink),
        }
    }

    /// [`Self::modify`] of an id the window's exact cells do not hold: the index's other
    /// parts decide.
    #[inline(never)]
    fn modify_elsewhere<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order_id: Uuid,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let orders = &self.orders;
        match ix.find_outside(&self.index, &order_id, |s| orders[s].order_id.uuid()) {
            Some(slot) => self.modify_slot(ix, slot, order_id, price, qty, sink),
            None => self.modify_absent(order_id, sink),
        }
    }

    /// The reject of a modify of an id that is not in the book (a parked stop is: it has
    /// a slot and an index entry, and [`Self::modify_long`] refuses it).
    #[inline(never)]
    fn modify_absent<S: EventSink + ?Sized>(&mut self, order_id: Uuid, sink: &mut S) {
        sink.publish(OrderbookResult::Rejected {
            instrument_id: self.instrument_id,
            op: Op::Modify,
            order_id: Some(order_id),
            reason: RejectReason::UnknownOrder,
        });
    }

    /// [`Self::modify`] of the resting or parked order at `slot`, once the book is known
    /// to run and the quantity not to be zero.
    #[inline(always)]
    fn modify_slot<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        slot: u32,
        order_id: Uuid,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        if ix.slots(&self.orders)[slot].tag & (EXTRAS | PARKED) != 0 {
            return self.modify_long(ix, slot, price, qty, sink);
        }
        let (side, post_only, open, old_price) = {
            let s = &ix.slots(&self.orders)[slot];
            (s.side(), s.post_only(), s.qty, s.price)
        };
        if post_only && self.ladder(side.opposite()).crossed_by(Some(price)) {
            return sink.publish(OrderbookResult::Rejected {
                instrument_id: self.instrument_id,
                op: Op::Modify,
                order_id: Some(order_id),
                reason: RejectReason::PostOnlyWouldCross,
            });
        }
        let priority_kept = old_price == price && qty <= open;
        sink.publish(OrderbookResult::Modified {
            instrument_id: self.instrument_id,
            order_id,
            side,
            price,
            qty,
            old_price,
            old_qty: open,
            priority_kept,
            display: None,
        });
        if priority_kept {
            ix.slots_mut(&mut self.orders)[slot].qty = qty;
            self.ladder_mut(side).level_mut(price).sub(open - qty);
            return;
        }
        if old_price == price {
            // A larger quantity at the same price: the order rests on a book that is not
            // crossed, so it cannot trade; it moves to the back of its own level, which
            // stays (unlinking would empty a one-order level only to create it again).
            self.requeue(ix, slot, qty);
            return;
        }
        // Whether it crosses depends on the opposite side only: the same before it leaves
        // its level as after.
        let crossed = match side {
            Side::Buy => self.asks.crossed_at(Side::Buy, price),
            Side::Sell => self.bids.crossed_at(Side::Sell, price),
        };
        if crossed {
            self.unlink(ix, slot);
            return self.modify_crossing(ix, slot, order_id, side, price, qty, sink);
        }
        // No trade: it rests at its new price, and no stop can fire.
        let (prev, next) = {
            let s = &ix.slots(&self.orders)[slot];
            (s.prev, s.next)
        };
        if prev == NIL && next == NIL {
            // Alone at its level: the level moves with it when it can.
            let moved = match side {
                Side::Buy => self.bids.move_lone_on(Side::Buy, old_price, price),
                Side::Sell => self.asks.move_lone_on(Side::Sell, old_price, price),
            };
            if let Some(level) = moved {
                level.sub(open);
                level.add(qty);
                let order = &mut ix.slots_mut(&mut self.orders)[slot];
                order.qty = qty;
                order.price = price;
                return;
            }
        }
        self.relink(ix, slot, side, old_price, open, (prev, next), price, qty);
    }

    /// Moves the resting plain `slot` on `side`, of open quantity `open`, from its level
    /// at `old_price` to the tail of `price`'s with the open quantity `qty`: the unlink
    /// and the link of a repricing modify that does not cross, with the side, old price,
    /// open quantity and links the caller read (not read again). (Instantiated per side,
    /// a constant side, the replay of every regime cost 0.5% more: the larger inlined
    /// `apply` kept fewer values in registers. Its link written out beside the unlink
    /// rather than through `link_tail` saved 0.1%: not worth a second copy.)
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn relink<X: Ids>(
        &mut self,
        ix: &mut X,
        slot: u32,
        side: Side,
        old_price: Price,
        open: Qty,
        (prev, next): (u32, u32),
        price: Price,
        qty: Qty,
    ) {
        let slots = ix.slots_mut(&mut self.orders);
        unlink_neighbours_in(slots, prev, next);
        slots[slot].qty = qty;
        self.leave_level(side, old_price, open, (prev, next));
        self.link_tail(ix, slot, side, price);
    }

    /// The rest of a plain modify (its order unlinked) whose new price crosses the
    /// opposite side: matching (at least one fill), then its rest rests at `price` or its
    /// slot is released, then parked stops. Out of line, like [`Self::add_crossing`].
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn modify_crossing<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        slot: u32,
        order_id: Uuid,
        side: Side,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let remaining = self.take_crossing(ix, order_id, side, Some(price), qty, sink);
        if remaining == 0 {
            self.release(ix, slot);
        } else {
            ix.slots_mut(&mut self.orders)[slot].qty = remaining;
            self.link_tail(ix, slot, side, price);
        }
        if !self.long.stops.is_empty() {
            self.activate_stops(ix, sink);
        }
    }

    /// Moves the resting `slot` to the back of its level's FIFO with the new open
    /// quantity `qty`. Inlined: on a market's flow one modify in five raises the quantity
    /// at the same price, and out of line the replay of normal cost 0.9 instructions a
    /// message more (about 45 a requeue, with the registers saved around the call).
    #[inline(always)]
    pub(super) fn requeue<X: Ids>(&mut self, ix: &mut X, slot: u32, qty: Qty) {
        let slots = ix.slots_mut(&mut self.orders);
        let Slot {
            qty: open,
            price,
            prev,
            next,
            ..
        } = slots[slot];
        let side = slots[slot].side();
        let ladder = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let lvl = ladder.level_mut(price);
        lvl.sub(open);
        lvl.add(qty);
        if next != NIL {
            // Not the tail yet: take it out of its place and append it.
            if prev == NIL {
                lvl.head = next;
            } else {
                slots[prev].next = next;
            }
            slots[next].prev = prev;
            let tail = lvl.tail;
            lvl.tail = slot;
            slots[tail].next = slot;
            let order = &mut slots[slot];
            order.prev = tail;
            order.next = NIL;
        }
        slots[slot].qty = qty;
    }

    /// Whether the liquidity on the side opposite `side`, at `limit` or better, covers
    /// `qty`. Sums in `u128`, so it never overflows.
    fn liquidity_covers(&self, side: Side, limit: Price, qty: Qty) -> bool {
        let opposite = self.ladder(side.opposite());
        let need = u128::from(qty);
        let mut have = 0u128;
        opposite.walk_best_first(|price, level| {
            let reachable = match side {
                Side::Buy => price <= limit,
                Side::Sell => price >= limit,
            };
            if !reachable {
                return ControlFlow::Break(());
            }
            have += level.total();
            if have >= need {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        have >= need
    }

    /// Matches a taker against the opposite side, best price first and time priority
    /// within a price, at the makers' prices, until it is filled or no longer crosses.
    /// Publishes one `trade` per fill and returns the taker's open quantity.
    ///
    /// The check that it crosses at all is inlined into the callers: most adds do not
    /// cross, and they skip the matching loop's call (saving its register spills).
    #[inline]
    pub(super) fn take<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        taker_order_id: Uuid,
        taker_side: Side,
        limit: Option<Price>,
        remaining: Qty,
        sink: &mut S,
    ) -> Qty {
        if remaining == 0 || !self.ladder(taker_side.opposite()).crossed_by(limit) {
            return remaining;
        }
        self.take_crossing(ix, taker_order_id, taker_side, limit, remaining, sink)
    }

    /// [`Self::take`] for a taker that crosses the opposite side's best level. Inlined
    /// into its out-of-line callers ([`Self::add_crossing`], [`Self::modify_crossing`],
    /// the long form's `take`), so a crossing plain add makes one call, not two.
    ///
    /// The loop is instantiated per side ([`Self::take_from`]): the opposite ladder and
    /// the comparison of its best with the limit are then fixed, not tested at each level.
    #[inline(always)]
    fn take_crossing<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        taker_order_id: Uuid,
        taker_side: Side,
        limit: Option<Price>,
        remaining: Qty,
        sink: &mut S,
    ) -> Qty {
        // A market taker's bound: every price crosses it.
        match taker_side {
            Side::Buy => {
                let bound = limit.unwrap_or(Price::MAX);
                self.take_from::<true, X, S>(ix, taker_order_id, bound, remaining, sink)
            }
            Side::Sell => {
                let bound = limit.unwrap_or(Price::MIN);
                self.take_from::<false, X, S>(ix, taker_order_id, bound, remaining, sink)
            }
        }
    }

    /// [`Self::take_crossing`] for a buy taker (`BUY`) or a sell taker, matching while the
    /// opposite side's best is at `bound` or better for it.
    #[inline(always)]
    fn take_from<const BUY: bool, X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        taker_order_id: Uuid,
        bound: Price,
        mut remaining: Qty,
        sink: &mut S,
    ) -> Qty {
        let instrument_id = self.instrument_id;
        let taker_side = if BUY { Side::Buy } else { Side::Sell };
        while remaining > 0 {
            let opposite = if BUY { &mut self.asks } else { &mut self.bids };
            if !opposite.crossed_at(taker_side, bound) {
                break;
            }
            let price = opposite.top_price();
            // At least one fill happens at this level.
            self.last_trade_price = Some(price);
            let level = opposite.best_mut();
            // Fill makers from the head of the level's FIFO.
            while remaining > 0 {
                let maker = level.head;
                debug_assert_ne!(maker, NIL, "a live level has a head");
                let maker_slot = &mut ix.slots_mut(&mut self.orders)[maker];
                if maker_slot.extra() & ICEBERG != 0 {
                    // An iceberg: its fill (a refill at the level's tail) is out of line;
                    // the level is looked up again. An owned maker fills here like any
                    // other (its owner is in its slot, which is freed with it).
                    remaining = self.fill_extra(
                        ix,
                        price,
                        maker,
                        taker_order_id,
                        taker_side,
                        remaining,
                        sink,
                    );
                    break;
                }
                let fill = remaining.min(maker_slot.qty);
                maker_slot.qty -= fill;
                let maker_remaining = maker_slot.qty;
                let maker_order_id = maker_slot.order_id.uuid();
                let next = maker_slot.next;
                remaining -= fill;
                sink.publish(OrderbookResult::Trade {
                    instrument_id,
                    taker_order_id,
                    maker_order_id,
                    taker_side,
                    price,
                    qty: fill,
                    taker_remaining: remaining,
                    maker_remaining,
                });
                level.sub(fill);
                if maker_remaining > 0 {
                    break;
                }
                // The maker is done: it leaves the head of the level, and its slot (its
                // open quantity 0 now, the mark of a vacant slot) is freed.
                level.head = next;
                level.count -= 1;
                ix.remove(&mut self.index, &maker_order_id, maker);
                ix.slots_mut(&mut self.orders).remove(maker);
                if next == NIL {
                    level.tail = NIL;
                    opposite.remove(price);
                    break;
                }
                ix.slots_mut(&mut self.orders)[next].prev = NIL;
            }
        }
        remaining
    }
}
