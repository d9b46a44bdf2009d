//! The long form's order types in the book: stops, icebergs, self-trade prevention and
//! mass cancel (`docs/FLOW-FORMAT.md`, "Order types beyond the basics").
//!
//! A plain order never comes here: [`OrderBook::add`] sends an order with an owner, a
//! display or a stop kind to [`OrderBook::add_long`], and the plain paths pay one flag test
//! where a long-form maker may stand (a slot's `extra` byte when a maker is filled out or
//! met by a self-trade-prevention taker) and one length test for parked stops after an op
//! that traded.
//!
//! - A resting order's flags (owner, self-trade-prevention mode, iceberg) are in its slot,
//!   laid out as the order's flag byte; its owner is in a side table keyed by its slot
//!   ([`LongForm::owners`], read only where the slot's bits say so), an iceberg's display
//!   size and hidden quantity in another ([`Ice`]). Its slot's `qty` is the shown slice, so level
//!   totals, status and snapshots are sums of shown quantities.
//! - Parked stops are in [`Stops`], off the ladders; each holds a home slot in the slab,
//!   marked [`PARKED`] with no quantity, indexed under its id (the duplicate checks,
//!   cancels and modifies find it with the lookup they make anyway); a triggered stop that
//!   rests rests in it.
//! - Every resting order has an acceptance number (in its slot), which orders a mass
//!   cancel.

use std::ops::ControlFlow;

use uuid::Uuid;

use super::ids::{Ids, Own};
use super::index::Vacancy;
use super::slab::{NIL, Slab};
use super::stops::{StopRef, Stops};
use super::{OrderBook, PARKED, Slot, extras_flags, stp_of_flags};
use crate::command::Op;
use crate::result::{EndReason, EventSink, OrderbookResult, RejectReason};
use crate::types::{Order, OrderKind, Price, Qty, Side, StpMode};

/// `Slot::extra` bit: the slot's `owner` is set (bit 0 of an order's long-form flag
/// byte, [`Order::long_bits`]).
pub(super) const OWNED: u8 = 1;
/// `Slot::extra` bit: the slot is an iceberg (bit 3 of the flag byte; its display size
/// and hidden quantity are in [`LongForm::ices`], its shown slice in the slot).
pub(super) const ICEBERG: u8 = 8;
/// The four bits of the flag byte a slot keeps (owner, the mode's two, display).
const LONG_BITS: u64 = 0b1111 << super::EXTRAS_SHIFT;

impl Slot {
    /// The long form's flag byte as the order had it ([`Order::long_bits`]).
    #[inline]
    fn long_bits(&self) -> u8 {
        ((self.tag & LONG_BITS) >> super::EXTRAS_SHIFT) as u8
    }

    /// Or's the long form's flag byte `bits` into the slot's flags.
    #[inline(always)]
    fn add_long_bits(&mut self, bits: u8) {
        self.tag |= u64::from(bits) << super::EXTRAS_SHIFT;
    }

    /// The self-trade-prevention mode stored with the order.
    #[inline]
    fn stp(&self) -> Option<StpMode> {
        stp_of_flags(self.long_bits())
    }
}

/// The display size and hidden quantity of a resting iceberg, kept at its slot's index
/// (meaningful where the slot's `ICEBERG` bit is set). 16 bytes, aligned to 16: four to a
/// cache line, none across two; a refill reads both from one line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub(super) struct Ice {
    /// The size of each shown slice.
    display: Qty,
    /// The quantity beyond its shown slice.
    hidden: Qty,
}

/// The book's long-form state.
///
/// `repr(C)`, what a plain command of a grouped book reads first (issue 21): the stops'
/// count (read after a trade), so it is in the book's hot lines
/// ([`LongForm::HOT_BYTES`]); then the owners' table (a standalone book's rest reads its
/// length, [`OrderBook::note_owner`]; a grouped book's is its consumer's) and the
/// icebergs' table. The iceberg counts, written by every removal, are the book's own
/// ([`OrderBook`]'s `icebergs`, in its first lines).
#[derive(Clone, Debug, Default)]
#[repr(C)]
pub(super) struct LongForm {
    /// Parked stop orders.
    pub(super) stops: Stops,
    /// Owners of resting orders, indexed by slot (valid where the slot's `OWNED` bit is
    /// set; grown on the first owned order or iceberg). 8 bytes a slot, apart from the
    /// icebergs' quantities: a rested order's owner is written without a branch, and an
    /// entry of 16 (owner and hidden quantity) made that write a D1 miss twice as often.
    /// A grouped book's owners are its consumer's (`shared_slots.rs`): this table, past
    /// the hot bytes, is read only by a standalone book's rest.
    pub(super) owners: Vec<u64>,
    /// Display sizes and hidden quantities of resting icebergs, indexed by slot (valid
    /// where the slot's `ICEBERG` bit is set; grown on the first iceberg).
    pub(super) ices: Vec<Ice>,
}

impl LongForm {
    /// The bytes at the start of a long form that a plain command reads: up to the end
    /// of the stops' count.
    pub(super) const HOT_BYTES: usize =
        std::mem::offset_of!(LongForm, stops) + super::stops::HOT_BYTES;
}

impl OrderBook {
    /// Takes a resting order with the long form's bits `extra` (0 for a plain order) on
    /// `side` out of the iceberg counts, with no branch on them.
    #[inline(always)]
    fn forget(&mut self, side: Side, extra: u8) {
        self.icebergs[side as usize] -= u32::from(extra >> 3);
    }
}

/// A taker about to match: an add, an activated stop, or a modified order re-entering.
/// It borrows its order (id, side, quantity and the long form's extras, read where they
/// are needed): building a taker with the extras copied out as options cost 26
/// instructions a long-form add.
#[derive(Clone, Copy, Debug)]
pub(super) struct Taker<'o> {
    pub(super) order: &'o Order,
    /// The kind it matches as: an activated stop as market or limit.
    pub(super) kind: OrderKind,
    /// Its limit; `None` for a market order.
    pub(super) limit: Option<Price>,
    /// Its acceptance number (kept by an activated stop and a modified order).
    pub(super) accepted: u64,
    /// A modified order: self-trade prevention ends it with `cancelled`.
    pub(super) modified: bool,
    /// Where it rests if it does.
    pub(super) place: Place,
}

/// Where a taker that rests goes in the slab and the index.
#[derive(Clone, Copy, Debug)]
pub(super) enum Place {
    /// A new add: where the index has room for its id (found by its duplicate check).
    At(Vacancy),
    /// A triggered stop: its home slot, indexed under its id.
    Home(u32),
    /// A modified order re-entering: a new slot, its id indexed again.
    Anew,
}

impl Taker<'_> {
    /// The owner and mode of a taker that self-trade prevention applies to.
    #[inline]
    fn stp(&self) -> Option<(u64, StpMode)> {
        // A mode is set only with an owner: one test, not one for each.
        self.order
            .stp()
            .map(|mode| (self.order.owner_or_zero(), mode))
    }

    /// The taker's order id.
    #[inline]
    fn order_id(&self) -> Uuid {
        self.order.order_id
    }

    /// The taker's side.
    #[inline]
    fn side(&self) -> Side {
        self.order.side
    }

    /// The taker's open quantity.
    #[inline]
    fn qty(&self) -> Qty {
        self.order.quantity
    }
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

/// Whether a taker on `side` with `limit` reaches a maker at `price`.
fn reaches(side: Side, limit: Option<Price>, price: Price) -> bool {
    match (side, limit) {
        (_, None) => true,
        (Side::Buy, Some(limit)) => price <= limit,
        (Side::Sell, Some(limit)) => price >= limit,
    }
}

impl OrderBook {
    /// Hands out the next acceptance number.
    #[inline]
    pub(super) fn next_accepted(&mut self) -> u64 {
        let n = self.next_accepted;
        self.next_accepted += 1;
        n
    }

    /// Records acceptance number `accepted` for the resting `slot`.
    #[inline]
    pub(super) fn set_accepted<X: Ids>(&mut self, ix: &mut X, slot: u32, accepted: u64) {
        ix.slots_mut(&mut self.orders)[slot].set_accepted(accepted);
    }

    /// The owners' entry of `slot`, grown to it if needed.
    #[inline]
    fn owner_at<'a, X: Ids>(&'a mut self, ix: &'a mut X, slot: u32) -> &'a mut u64 {
        let owners = ix.owners_mut(&mut self.long.owners);
        grow_to(owners, slot as usize);
        &mut owners[slot as usize]
    }

    /// The icebergs' entry of `slot`, grown to it if needed.
    #[inline]
    fn ice_at<'a, X: Ids>(&'a mut self, ix: &'a mut X, slot: u32) -> &'a mut Ice {
        let ices = ix.ices_mut(&mut self.long.ices);
        grow_to(ices, slot as usize);
        &mut ices[slot as usize]
    }

    /// The owner of the resting `slot`, if it has one.
    #[inline]
    fn owner_of<X: Ids>(&self, ix: &X, slot: u32) -> Option<u64> {
        (ix.slots(&self.orders)[slot].extra() & OWNED != 0)
            .then(|| ix.owners(&self.long.owners)[slot as usize])
    }

    /// Whether the resting `slot` has an owner and it is `owner`.
    #[inline]
    fn owned_by<X: Ids>(&self, ix: &X, slot: u32, owner: u64) -> bool {
        owned_in(
            ix.slots(&self.orders),
            ix.owners(&self.long.owners),
            slot,
            owner,
        )
    }

    /// The hidden quantity of the resting `slot` (0 unless an iceberg).
    #[inline]
    fn hidden_of<X: Ids>(&self, ix: &X, slot: u32) -> Qty {
        hidden_in(ix.slots(&self.orders), ix.ices(&self.long.ices), slot)
    }

    /// The whole open quantity of the resting `slot`: its shown slice plus any hidden
    /// quantity.
    #[inline]
    pub(super) fn whole_qty<X: Ids>(&self, ix: &X, slot: u32) -> Qty {
        ix.slots(&self.orders)[slot].qty + self.hidden_of(ix, slot)
    }

    /// The long-form extras of the resting `slot`: its owner, mode, display and hidden
    /// quantity.
    pub(super) fn extras_of<X: Ids>(
        &self,
        ix: &X,
        slot: u32,
    ) -> (Option<u64>, Option<StpMode>, Option<Qty>, Qty) {
        let s = &ix.slots(&self.orders)[slot];
        let display =
            (s.extra() & ICEBERG != 0).then(|| ix.ices(&self.long.ices)[slot as usize].display);
        (
            self.owner_of(ix, slot),
            s.stp(),
            display,
            self.hidden_of(ix, slot),
        )
    }

    /// Gives the resting `slot` (just rested from an image, showing its slice) its
    /// long-form extras.
    pub(super) fn restore_extra<X: Ids>(
        &mut self,
        ix: &mut X,
        slot: u32,
        owner: Option<u64>,
        stp: Option<StpMode>,
        display: Option<Qty>,
        hidden: Qty,
    ) {
        self.set_extras(
            ix,
            slot,
            extras_flags(owner, stp, display),
            owner.unwrap_or(0),
            display.unwrap_or(0),
            hidden,
        );
    }

    /// Whether any resting order has extras (an owner or a display): a walk of the
    /// book's levels, for the state hash (which walks the book anyway).
    pub(super) fn any_resting_extras(&self) -> bool {
        let mut any = false;
        for side in [Side::Buy, Side::Sell] {
            self.for_each_slot(&Own, side, |_, s| any |= s.extra() != 0);
        }
        any
    }

    /// The whole open quantity of the resting iceberg `slot` (a cancel), out of the
    /// plain cancel's inlined path; takes it out of the count of icebergs.
    #[cold]
    #[inline(never)]
    pub(super) fn take_iceberg<X: Ids>(&mut self, ix: &mut X, slot: u32) -> Qty {
        let s = &ix.slots(&self.orders)[slot];
        let side = side_index(s.side());
        let whole = s.qty + ix.ices(&self.long.ices)[slot as usize].hidden;
        self.icebergs[side] -= 1;
        whole
    }

    /// Gives the just rested `slot` of the limit order `order` (no display: the plain path
    /// rested it, its flag byte in the slot) its owner in the side table. Without a branch
    /// on whether it has one once the table reaches the slot, as in a book where owned
    /// orders rest (half the long-form mix's, at random: the test mispredicted 0.19 times
    /// a command): a plain order's entry is written too, meaning nothing (its slot's bits
    /// say it has no owner). A book without owned orders has no table and pays one length
    /// test and the order's flag test, both always false.
    #[inline(always)]
    pub(super) fn note_owner<X: Ids>(&mut self, ix: &mut X, slot: u32, order: &Order) {
        if let Some(owner) = ix.owners_mut(&mut self.long.owners).get_mut(slot as usize) {
            *owner = order.owner_or_zero();
        } else if order.has_extras() {
            self.put_owner(ix, slot, order.owner_or_zero());
        }
    }

    /// [`Self::note_owner`] of an owned order whose slot the side table does not reach
    /// yet: grows the table.
    #[cold]
    #[inline(never)]
    pub(super) fn put_owner<X: Ids>(&mut self, ix: &mut X, slot: u32, owner: u64) {
        *self.owner_at(ix, slot) = owner;
    }

    /// A limit add with an owner (no display) that crosses the opposite side, `accepted`
    /// already published by the plain path: it matches as the long form's taker (self-trade
    /// prevention), its rest rests with its owner, then stops activate.
    #[inline(never)]
    pub(super) fn add_owned_crossing<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        vacancy: Vacancy,
        sink: &mut S,
    ) {
        let taker = Taker {
            order,
            kind: OrderKind::Limit,
            limit: Some(order.price),
            accepted: self.next_accepted(),
            modified: false,
            place: Place::At(vacancy),
        };
        self.execute(ix, &taker, sink);
        if self.long.stops.may_fire(self.last_trade_price) {
            self.activate_stops(ix, sink);
        }
    }

    /// Gives the just rested `slot` the long form's state: its flag byte `bits` (an
    /// order's, [`Order::long_bits`]), its owner (0 if none), display size (0: not an
    /// iceberg) and hidden quantity. Flags and counts without a branch on which are set.
    #[inline]
    fn set_extras<X: Ids>(
        &mut self,
        ix: &mut X,
        slot: u32,
        bits: u8,
        owner: u64,
        display: Qty,
        hidden: Qty,
    ) {
        if bits == 0 {
            // An activated stop-limit with neither.
            return;
        }
        let iceberg = bits & ICEBERG != 0;
        let s = &mut ix.slots_mut(&mut self.orders)[slot];
        s.add_long_bits(bits);
        let side = s.side();
        *self.owner_at(ix, slot) = owner;
        self.icebergs[side as usize] += u32::from(iceberg);
        if iceberg {
            *self.ice_at(ix, slot) = Ice { display, hidden };
        }
    }

    /// Forgets the extras of `slot` (being removed from the book).
    #[inline]
    pub(super) fn drop_extra<X: Ids>(&mut self, ix: &mut X, slot: u32) {
        let s = &mut ix.slots_mut(&mut self.orders)[slot];
        let (side, extra) = (s.side(), s.extra());
        s.set_extra(0);
        self.forget(side, extra);
    }

    /// An add with any long-form feature (an owner, a display, a stop kind): the checks
    /// in the contract's order, `accepted`, then parking or matching, then the stops it
    /// triggers.
    #[cold]
    #[inline(never)]
    pub(super) fn add_long<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        sink: &mut S,
    ) {
        let reject = |book: &OrderBook, sink: &mut S, reason| {
            sink.publish(OrderbookResult::Rejected {
                instrument_id: book.instrument_id,
                op: Op::Add,
                order_id: Some(order.order_id),
                reason,
            })
        };
        if self.halted {
            return reject(self, sink, RejectReason::OrderbookHalted);
        }
        // One test: a display set to 0 is `invalid_quantity` like a quantity of 0.
        if (order.quantity == 0) | (order.display().is_some() & (order.display_or_zero() == 0)) {
            return reject(self, sink, RejectReason::InvalidQuantity);
        }
        let orders = &self.orders;
        let Ok(vacancy) = ix.vacancy(&self.index, &order.order_id, |s| orders[s].order_id.uuid())
        else {
            return reject(self, sink, RejectReason::DuplicateOrderId);
        };
        let limit = order.limit_price();
        if order.kind == OrderKind::PostOnly && self.ladder(order.side.opposite()).crossed_by(limit)
        {
            return reject(self, sink, RejectReason::PostOnlyWouldCross);
        }
        self.accept(ix, order, vacancy, limit, sink);
    }

    /// The rest of [`Self::add_long`] once `order` passed the checks (its id free at
    /// `vacancy`, its limit `limit`): `accepted`, then it parks (a stop) or matches, then
    /// stops activate. Plain adds of a stop kind come here after their own checks.
    #[inline(never)]
    pub(super) fn accept_long<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        vacancy: Vacancy,
        limit: Option<Price>,
        sink: &mut S,
    ) {
        self.accept(ix, order, vacancy, limit, sink);
    }

    /// [`Self::accept_long`], inlined into [`Self::add_long`]: one call and one
    /// prologue fewer a long-form add.
    #[inline(always)]
    fn accept<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        order: &Order,
        vacancy: Vacancy,
        limit: Option<Price>,
        sink: &mut S,
    ) {
        sink.publish(OrderbookResult::Accepted {
            instrument_id: self.instrument_id,
            order_id: order.order_id,
            side: order.side,
            kind: order.kind,
            price: limit,
            qty: order.quantity,
            trigger: order.trigger(),
            display: std::num::NonZeroU64::new(order.display_or_zero()),
        });
        let accepted = self.next_accepted();
        if order.kind.is_stop() {
            self.park_stop(ix, vacancy, accepted, order);
        } else {
            let taker = Taker {
                order,
                kind: order.kind,
                limit,
                accepted,
                modified: false,
                place: Place::At(vacancy),
            };
            if order.kind.rests() && !self.ladder(order.side.opposite()).crossed_by(limit) {
                // It meets nothing: it rests whole, as `execute` would rest it, and with
                // no trade no stop can fire (each op ends with none holding).
                return self.rest_long(ix, &taker, order.price, order.quantity);
            }
            self.execute(ix, &taker, sink);
        }
        if self.long.stops.may_fire(self.last_trade_price) {
            self.activate_stops(ix, sink);
        }
    }

    /// Matches an accepted (or triggered, or modified) taker and settles its rest: it
    /// rests (with its extras), expires, or ends by self-trade prevention.
    #[inline(never)]
    pub(super) fn execute<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        t: &Taker,
        sink: &mut S,
    ) {
        if t.kind == OrderKind::Fok && !self.fok_covers(ix, t) {
            return sink.publish(OrderbookResult::Expired {
                instrument_id: self.instrument_id,
                order_id: t.order_id(),
                side: t.side(),
                price: t.limit,
                remaining_qty: t.qty(),
                reason: EndReason::Plain,
            });
        }
        let (remaining, stopped) = match t.stp() {
            Some((owner, mode)) => self.take_stp(ix, t, owner, mode, sink),
            None => (
                self.take(ix, t.order_id(), t.side(), t.limit, t.qty(), sink),
                false,
            ),
        };
        if remaining == 0 {
            return;
        }
        if stopped {
            let instrument_id = self.instrument_id;
            return sink.publish(if t.modified {
                OrderbookResult::Cancelled {
                    instrument_id,
                    order_id: t.order_id(),
                    side: t.side(),
                    price: t.limit,
                    remaining_qty: remaining,
                    reason: EndReason::SelfTradePrevention,
                }
            } else {
                OrderbookResult::Expired {
                    instrument_id,
                    order_id: t.order_id(),
                    side: t.side(),
                    price: t.limit,
                    remaining_qty: remaining,
                    reason: EndReason::SelfTradePrevention,
                }
            });
        }
        if t.kind.rests() {
            let price = t.limit.expect("a resting kind has a price");
            self.rest_long(ix, t, price, remaining);
        } else {
            sink.publish(OrderbookResult::Expired {
                instrument_id: self.instrument_id,
                order_id: t.order_id(),
                side: t.side(),
                price: t.limit,
                remaining_qty: remaining,
                reason: EndReason::Plain,
            });
        }
    }

    /// Rests the rest `remaining` of taker `t` at `price`: an iceberg shows its first
    /// slice, and its owner, mode and hidden quantity go in the side table. The flags and
    /// counts are worked out without a branch on the order's features (whether it has an
    /// owner, a display: half the long-form orders do, at random).
    fn rest_long<X: Ids>(&mut self, ix: &mut X, t: &Taker, price: Price, remaining: Qty) {
        // An order that reaches the book has no display of 0 (it is rejected).
        let display = t.order.display_or_zero();
        let shown = if display == 0 {
            remaining
        } else {
            remaining.min(display)
        };
        let post_only = t.kind == OrderKind::PostOnly;
        let slot = match t.place {
            Place::At(vacancy) => {
                self.rest_at(ix, vacancy, t.order_id(), t.side(), price, shown, post_only)
            }
            Place::Home(home) => {
                // Written whole (the home mark goes), then linked at its level's tail.
                ix.slots_mut(&mut self.orders)[home] = Slot::new(
                    &t.order.order_id,
                    shown,
                    price,
                    NIL,
                    t.side(),
                    post_only,
                    t.accepted,
                );
                self.link_tail(ix, home, t.side(), price);
                home
            }
            Place::Anew => self.rest(ix, t.order_id(), t.side(), price, shown, post_only),
        };
        self.set_accepted(ix, slot, t.accepted);
        self.set_extras(
            ix,
            slot,
            t.order.long_bits(),
            t.order.owner_or_zero(),
            display,
            remaining - shown,
        );
    }

    /// While any parked stop's condition holds, activates the one accepted earliest: a
    /// `triggered` event, then it matches as an add of market (stop) or limit
    /// (stop-limit) would, without `accepted`.
    #[cold]
    #[inline(never)]
    pub(super) fn activate_stops<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        sink: &mut S,
    ) {
        while !self.long.stops.is_empty() {
            let Some(last) = self.last_trade_price else {
                return;
            };
            let Some((accepted, stop, home)) = self.long.stops.pop_triggered(last) else {
                return;
            };
            sink.publish(OrderbookResult::Triggered {
                instrument_id: self.instrument_id,
                order_id: stop.order_id,
                side: stop.side,
                kind: stop.kind,
                trigger: stop.trigger().expect("a parked order is a stop"),
            });
            let taker = Taker {
                order: &stop,
                kind: stop.kind.activated(),
                limit: stop.limit_price(),
                accepted,
                modified: false,
                place: Place::Home(home),
            };
            self.execute(ix, &taker, sink);
            if ix.slots(&self.orders)[home].tag & PARKED != 0 {
                // It did not rest: its home goes.
                ix.remove(&mut self.index, &stop.order_id, home);
                self.free(ix, home);
            }
        }
    }

    /// Parks the accepted stop `order` (acceptance number `accepted`): its home slot,
    /// indexed at `vacancy`, and its entry in [`Stops`].
    pub(super) fn park_stop<X: Ids>(
        &mut self,
        ix: &mut X,
        vacancy: Vacancy,
        accepted: u64,
        order: &Order,
    ) {
        let mut home = Slot::new(&order.order_id, 0, 0, NIL, order.side, false, accepted);
        home.tag |= PARKED;
        let slot = ix.slots_mut(&mut self.orders).take_vacant();
        ix.slots_mut(&mut self.orders)[slot] = home;
        let orders = &self.orders;
        ix.insert_at(&mut self.index, vacancy, &order.order_id, slot, |s| {
            orders[s].order_id.uuid()
        });
        let stop = self.long.stops.park(accepted, *order, slot);
        ix.slots_mut(&mut self.orders)[slot].price = i64::from(stop.raw());
        // Parked stops come and go beside the resting orders, and the id table's erases
        // leave tombstones that the duplicate check of every add probes past: the long
        // form keeps the table half empty here, the plain path never looks.
        let orders = &self.orders;
        ix.keep_room(&mut self.index, |s| orders[s].order_id.uuid());
    }

    /// [`Self::park_stop`] of a stop restored from an image, whose id is neither resting
    /// nor parked (the caller checked).
    pub(super) fn park_restored<X: Ids>(&mut self, ix: &mut X, accepted: u64, order: &Order) {
        let orders = &self.orders;
        let vacancy = ix
            .vacancy(&self.index, &order.order_id, |s| orders[s].order_id.uuid())
            .expect("a restored stop's id is new");
        self.park_stop(ix, vacancy, accepted, order);
    }

    /// Whether `slot` is a parked stop's home: marked [`PARKED`], and the stop it names
    /// is parked there under the same id (for the integrity check).
    pub(super) fn is_home<X: Ids>(&self, ix: &X, slot: u32) -> bool {
        let Some(s) = ix.slots(&self.orders).get(slot) else {
            return false;
        };
        s.tag & PARKED != 0
            && s.qty == 0
            && u32::try_from(s.price).is_ok_and(|raw| {
                self.long
                    .stops
                    .parked_at(StopRef::from_raw(raw))
                    .is_some_and(|(order, home)| {
                        home == slot && order.order_id == s.order_id.uuid()
                    })
            })
    }

    /// The parked stop whose home is `slot` (a slot marked [`PARKED`]).
    #[inline]
    fn stop_at_home<X: Ids>(&self, ix: &X, slot: u32) -> StopRef {
        debug_assert_ne!(ix.slots(&self.orders)[slot].tag & PARKED, 0);
        StopRef::from_raw(ix.slots(&self.orders)[slot].price as u32)
    }

    /// One fill of the iceberg `maker` at the head of the level at `price`: the trade
    /// reports its whole remaining quantity; an emptied slice is refilled at once at the
    /// back of the level, and a finished iceberg leaves the book. Returns the taker's open
    /// quantity.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fill_iceberg<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        price: Price,
        maker: u32,
        taker_order_id: Uuid,
        taker_side: Side,
        mut remaining: Qty,
        sink: &mut S,
    ) -> Qty {
        let shown = ix.slots(&self.orders)[maker].qty;
        let fill = remaining.min(shown);
        remaining -= fill;
        ix.slots_mut(&mut self.orders)[maker].qty = shown - fill;
        self.ladder_mut(taker_side.opposite())
            .level_mut(price)
            .sub(fill);
        let Ice { display, hidden } = ix.ices(&self.long.ices)[maker as usize];
        let maker_order_id = ix.slots(&self.orders)[maker].order_id.uuid();
        sink.publish(OrderbookResult::Trade {
            instrument_id: self.instrument_id,
            taker_order_id,
            maker_order_id,
            taker_side,
            price,
            qty: fill,
            taker_remaining: remaining,
            maker_remaining: shown - fill + hidden,
        });
        if shown - fill > 0 {
            return remaining;
        }
        if hidden == 0 {
            self.drop_extra(ix, maker);
            self.unlink(ix, maker);
            ix.remove(&mut self.index, &maker_order_id, maker);
            self.free(ix, maker);
        } else {
            let slice = display.min(hidden);
            ix.ices_mut(&mut self.long.ices)[maker as usize].hidden = hidden - slice;
            self.requeue(ix, maker, slice);
        }
        remaining
    }

    /// [`OrderBook::take`] for a taker with an owner and a self-trade-prevention mode:
    /// a maker of the same owner is cancelled (`cancel_oldest`, `cancel_both`) and/or
    /// stops the taker (`cancel_newest`, `cancel_both`). Returns the taker's open quantity
    /// and whether self-trade prevention stopped it.
    fn take_stp<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        t: &Taker,
        owner: u64,
        mode: StpMode,
        sink: &mut S,
    ) -> (Qty, bool) {
        let mut remaining = t.qty();
        while remaining > 0 {
            let opposite = self.ladder(t.side().opposite());
            if !opposite.crossed_by(t.limit) {
                break;
            }
            let price = opposite.top_price();
            let maker = opposite.get(price).map_or(NIL, |level| level.head);
            debug_assert_ne!(maker, NIL, "a live level has a head");
            let same_owner = self.owned_by(ix, maker, owner);
            if same_owner {
                if mode.cancels_maker() {
                    self.remove_resting(ix, maker, EndReason::SelfTradePrevention, sink);
                }
                if mode.cancels_taker() {
                    return (remaining, true);
                }
                continue;
            }
            self.last_trade_price = Some(price);
            remaining = self.fill_one(ix, price, maker, t.order_id(), t.side(), remaining, sink);
        }
        (remaining, false)
    }

    /// One fill of `maker` (the head of the level at `price`, an iceberg), out of the plain
    /// matching loop. Returns the taker's open quantity.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fill_extra<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        price: Price,
        maker: u32,
        taker_order_id: Uuid,
        taker_side: Side,
        remaining: Qty,
        sink: &mut S,
    ) -> Qty {
        self.fill_one(
            ix,
            price,
            maker,
            taker_order_id,
            taker_side,
            remaining,
            sink,
        )
    }

    /// Whether a plain fok's quantity is covered once the hidden quantity of the icebergs
    /// it reaches is counted (only when the opposite side has icebergs; the shown
    /// liquidity alone fell short).
    #[cold]
    #[inline(never)]
    pub(super) fn hidden_covers<X: Ids>(
        &self,
        ix: &X,
        side: Side,
        limit: Option<Price>,
        qty: Qty,
    ) -> bool {
        if self.icebergs[side_index(side.opposite())] == 0 {
            return false;
        }
        let order = Order::new(
            Uuid::nil(),
            self.instrument_id,
            side,
            OrderKind::Fok,
            limit.unwrap_or(0),
            qty,
        );
        let taker = Taker {
            order: &order,
            kind: OrderKind::Fok,
            limit,
            accepted: 0,
            modified: false,
            place: Place::Anew,
        };
        self.fok_covers(ix, &taker)
    }

    /// One fill of `maker`, the head of the level at `price`, plain or iceberg. Returns
    /// the taker's open quantity.
    #[allow(clippy::too_many_arguments)]
    fn fill_one<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        price: Price,
        maker: u32,
        taker_order_id: Uuid,
        taker_side: Side,
        mut remaining: Qty,
        sink: &mut S,
    ) -> Qty {
        if ix.slots(&self.orders)[maker].extra() & ICEBERG != 0 {
            return self.fill_iceberg(
                ix,
                price,
                maker,
                taker_order_id,
                taker_side,
                remaining,
                sink,
            );
        }
        let open = ix.slots(&self.orders)[maker].qty;
        let fill = remaining.min(open);
        remaining -= fill;
        let maker_order_id = ix.slots(&self.orders)[maker].order_id.uuid();
        sink.publish(OrderbookResult::Trade {
            instrument_id: self.instrument_id,
            taker_order_id,
            maker_order_id,
            taker_side,
            price,
            qty: fill,
            taker_remaining: remaining,
            maker_remaining: open - fill,
        });
        if open > fill {
            ix.slots_mut(&mut self.orders)[maker].qty = open - fill;
            self.ladder_mut(taker_side.opposite())
                .level_mut(price)
                .sub(fill);
        } else {
            self.drop_extra(ix, maker);
            self.unlink(ix, maker);
            ix.remove(&mut self.index, &maker_order_id, maker);
            self.free(ix, maker);
        }
        remaining
    }

    /// Removes the resting `slot` with a `cancelled` event giving `reason` and its whole
    /// remaining quantity.
    fn remove_resting<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        slot: u32,
        reason: EndReason,
        sink: &mut S,
    ) {
        let remaining_qty = self.whole_qty(ix, slot);
        let (order_id, side, price) = {
            let s = &ix.slots(&self.orders)[slot];
            (s.order_id.uuid(), s.side(), s.price)
        };
        self.drop_extra(ix, slot);
        self.unlink(ix, slot);
        ix.remove(&mut self.index, &order_id, slot);
        self.free(ix, slot);
        sink.publish(OrderbookResult::Cancelled {
            instrument_id: self.instrument_id,
            order_id,
            side,
            price: Some(price),
            remaining_qty,
            reason,
        });
    }

    /// Whether a fok taker's quantity is covered: the liquidity it reaches, hidden
    /// quantity included (refills reach it); with a self-trade-prevention mode, the makers
    /// it would meet in matching order, refills included: with `cancel_oldest` its owner's
    /// makers are skipped, with `cancel_newest` or `cancel_both` the walk stops at the
    /// first one (an iceberg's refill goes behind it, so only the slices ahead count).
    fn fok_covers<X: Ids>(&self, ix: &X, t: &Taker) -> bool {
        // The slab and side tables are taken before the walks, whose closures then hold
        // them and not the context: a closure holding `ix` (passed to a walk out of line)
        // kept the context's pointer alive through the whole call graph of the book's
        // own paths (`activate_stops`, `add_crossing`...: a register and a spill more on
        // the regimes, issue 17). A side table is taken only where it is read.
        let slots = ix.slots(&self.orders);
        let need = u128::from(t.qty());
        let opposite = t.side().opposite();
        let Some((owner, mode)) = t.stp() else {
            let mut have = 0u128;
            self.ladder(opposite).walk_best_first(|price, level| {
                if !reaches(t.side(), t.limit, price) {
                    return ControlFlow::Break(());
                }
                have += level.total();
                if have >= need {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            if have < need && self.icebergs[side_index(opposite)] > 0 {
                // The hidden quantity of the icebergs it reaches.
                let ices = ix.ices(&self.long.ices);
                self.ladder(opposite).walk_best_first(|price, level| {
                    if !reaches(t.side(), t.limit, price) || have >= need {
                        return ControlFlow::Break(());
                    }
                    let mut slot = level.head;
                    while slot != NIL {
                        have += u128::from(hidden_in(slots, ices, slot));
                        slot = slots[slot].next;
                    }
                    ControlFlow::Continue(())
                });
            }
            return have >= need;
        };
        let (owners, ices) = (ix.owners(&self.long.owners), ix.ices(&self.long.ices));
        let mut have = 0u128;
        self.ladder(opposite).walk_best_first(|price, level| {
            if !reaches(t.side(), t.limit, price) {
                return ControlFlow::Break(());
            }
            let mut slot = level.head;
            let mut hidden = 0u128;
            while slot != NIL {
                let s = &slots[slot];
                if owned_in(slots, owners, slot, owner) {
                    if mode.cancels_taker() {
                        // The walk stops here: the refills of the icebergs ahead go
                        // behind this order.
                        return ControlFlow::Break(());
                    }
                } else {
                    have += u128::from(s.qty);
                    if have >= need {
                        // The shown slices so far fill it, in matching order, before any
                        // order further back (or any refill) is reached.
                        return ControlFlow::Break(());
                    }
                    hidden += u128::from(hidden_in(slots, ices, slot));
                }
                slot = s.next;
            }
            have += hidden;
            if have >= need {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        have >= need
    }

    /// A modify of a resting order with extras (an owner or a display): Q is the new whole
    /// open quantity. Kept in place (same price, Q <= open) it shows min(shown, Q);
    /// otherwise it leaves the book and re-enters as a taker with its extras, keeping its
    /// acceptance number, showing min(D, Q) when it rests. A parked stop's home (its id
    /// found by the index) is rejected: a stop is not modifiable.
    #[cold]
    #[inline(never)]
    pub(super) fn modify_long<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        slot: u32,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) {
        let (order_id, side, post_only, shown, old_price) = {
            let s = &ix.slots(&self.orders)[slot];
            (s.order_id.uuid(), s.side(), s.post_only(), s.qty, s.price)
        };
        if ix.slots(&self.orders)[slot].tag & PARKED != 0 {
            return sink.publish(OrderbookResult::Rejected {
                instrument_id: self.instrument_id,
                op: Op::Modify,
                order_id: Some(order_id),
                reason: RejectReason::NotModifiable,
            });
        }
        if post_only && self.ladder(side.opposite()).crossed_by(Some(price)) {
            return sink.publish(OrderbookResult::Rejected {
                instrument_id: self.instrument_id,
                op: Op::Modify,
                order_id: Some(order_id),
                reason: RejectReason::PostOnlyWouldCross,
            });
        }
        let (owner, stp, display, hidden) = self.extras_of(ix, slot);
        let open = shown + hidden;
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
            display: display.and_then(std::num::NonZeroU64::new),
        });
        if priority_kept {
            let now = shown.min(qty);
            ix.slots_mut(&mut self.orders)[slot].qty = now;
            self.ladder_mut(side).level_mut(price).sub(shown - now);
            // One that is not an iceberg shows all it has: no hidden quantity to keep.
            if ix.slots(&self.orders)[slot].extra() & ICEBERG != 0 {
                ix.ices_mut(&mut self.long.ices)[slot as usize].hidden = qty - now;
            }
            return;
        }
        let accepted = ix.slots(&self.orders)[slot].accepted();
        self.drop_extra(ix, slot);
        self.unlink(ix, slot);
        ix.remove(&mut self.index, &order_id, slot);
        self.free(ix, slot);
        let kind = if post_only {
            OrderKind::PostOnly
        } else {
            OrderKind::Limit
        };
        let mut order = Order::new(order_id, self.instrument_id, side, kind, price, qty);
        if let Some(owner) = owner {
            order = order.with_owner(owner, stp);
        }
        if let Some(display) = display {
            order = order.with_display(display);
        }
        let taker = Taker {
            order: &order,
            kind,
            limit: Some(price),
            accepted,
            modified: true,
            place: Place::Anew,
        };
        self.execute(ix, &taker, sink);
        if self.long.stops.may_fire(self.last_trade_price) {
            self.activate_stops(ix, sink);
        }
    }

    /// A cancel of an id the index does not hold: neither resting nor parked.
    #[cold]
    #[inline(never)]
    pub(super) fn cancel_unknown<S: EventSink + ?Sized>(&mut self, order_id: Uuid, sink: &mut S) {
        sink.publish(OrderbookResult::Rejected {
            instrument_id: self.instrument_id,
            op: Op::Cancel,
            order_id: Some(order_id),
            reason: RejectReason::UnknownOrder,
        });
    }

    /// A cancel of the slot `slot`, already taken out of the index, that is a resting
    /// iceberg (its whole open quantity goes) or a parked stop's home (the stop goes).
    #[cold]
    #[inline(never)]
    pub(super) fn cancel_long<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        slot: u32,
        sink: &mut S,
    ) {
        let (order_id, side, price) = {
            let s = &ix.slots(&self.orders)[slot];
            (s.order_id.uuid(), s.side(), s.price)
        };
        let (price, remaining_qty) = if ix.slots(&self.orders)[slot].tag & PARKED != 0 {
            let (stop, _) = self.long.stops.remove(self.stop_at_home(ix, slot));
            (stop.limit_price(), stop.quantity)
        } else {
            let whole = self.take_iceberg(ix, slot);
            self.unlink(ix, slot);
            (Some(price), whole)
        };
        self.free(ix, slot);
        sink.publish(OrderbookResult::Cancelled {
            instrument_id: self.instrument_id,
            order_id,
            side,
            price,
            remaining_qty,
            reason: EndReason::Plain,
        });
    }

    /// A mass cancel: every resting and parked order of `owner` (all when `None`) on
    /// `side` (both when `None`), in acceptance order, then `mass_cancelled`. Halted or
    /// not.
    #[cold]
    #[inline(never)]
    pub(super) fn mass_cancel<X: Ids, S: EventSink + ?Sized>(
        &mut self,
        ix: &mut X,
        owner: Option<u64>,
        side: Option<Side>,
        sink: &mut S,
    ) {
        // (acceptance number, resting slot or parked stop)
        let mut chosen: Vec<(u64, Result<u32, StopRef>)> = Vec::new();
        let on_side = |s: Side| side.is_none_or(|only| only == s);
        // The book's resting orders, walked along its levels (the slab may hold other
        // books' orders: see `shared_slots.rs`): an owner's are those whose owned bit is
        // set and whose side table entry names it.
        for s in [Side::Buy, Side::Sell].into_iter().filter(|&s| on_side(s)) {
            self.for_each_slot(&*ix, s, |slot, o| {
                if owner.is_none_or(|owner| {
                    o.extra() & OWNED != 0 && ix.owners(&self.long.owners)[slot as usize] == owner
                }) {
                    chosen.push((o.accepted(), Ok(slot)));
                }
            });
        }
        match owner {
            // One owner's stops, through the stops' owners (8 bytes a stop).
            Some(owner) => {
                for (accepted, parked, stop_side) in self.long.stops.iter_owned(owner) {
                    if on_side(stop_side) {
                        chosen.push((accepted, Err(parked)));
                    }
                }
            }
            // Every parked stop.
            None => {
                for (accepted, parked, stop) in self.long.stops.iter_unordered() {
                    if on_side(stop.side) {
                        chosen.push((accepted, Err(parked)));
                    }
                }
            }
        }
        // `chosen` is in no order: sorted here (the levels' links need not be followed).
        chosen.sort_unstable_by_key(|&(accepted, _)| accepted);
        let count = chosen.len() as u64;
        for (_, slot) in chosen {
            match slot {
                Ok(slot) => self.remove_resting(ix, slot, EndReason::MassCancel, sink),
                Err(parked) => {
                    let (stop, home) = self.long.stops.remove(parked);
                    ix.remove(&mut self.index, &stop.order_id, home);
                    self.free(ix, home);
                    sink.publish(OrderbookResult::Cancelled {
                        instrument_id: self.instrument_id,
                        order_id: stop.order_id,
                        side: stop.side,
                        price: stop.limit_price(),
                        remaining_qty: stop.quantity,
                        reason: EndReason::MassCancel,
                    });
                }
            }
        }
        sink.publish(OrderbookResult::MassCancelled {
            instrument_id: self.instrument_id,
            owner,
            count,
        });
    }
}

/// Grows `table` (a side table by slot: the owners' or the icebergs') to hold entry `at`,
/// doubling its length at least, new entries at their default.
pub(super) fn grow_to<T: Clone + Default>(table: &mut Vec<T>, at: usize) {
    if at >= table.len() {
        let len = (at + 1).max(table.len() * 2);
        table.resize(len, T::default());
    }
}

/// Whether the resting `slot` of `slots` has an owner and it is `owner` (`owners`: the
/// owners' side table of `slots`).
#[inline(always)]
fn owned_in(slots: &Slab<Slot>, owners: &[u64], slot: u32, owner: u64) -> bool {
    slots[slot].extra() & OWNED != 0 && owners[slot as usize] == owner
}

/// The hidden quantity of the resting `slot` of `slots` (0 unless an iceberg; `ices`: the
/// icebergs' side table of `slots`).
#[inline(always)]
fn hidden_in(slots: &Slab<Slot>, ices: &[Ice], slot: u32) -> Qty {
    if slots[slot].extra() & ICEBERG != 0 {
        ices[slot as usize].hidden
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;

    fn apply(book: &mut OrderBook, command: Command) -> Vec<OrderbookResult> {
        let mut events = Vec::new();
        book.apply(&command, &mut |e| events.push(e));
        events
    }

    fn add(book: &mut OrderBook, order: Order) -> Vec<OrderbookResult> {
        apply(book, Command::Add(order))
    }

    /// A trade at `price` between two plain orders (ids `id`, `id + 1`).
    fn trade_at(book: &mut OrderBook, id: u128, price: Price) {
        let i = book.instrument_id();
        add(
            book,
            Order::limit(Uuid::from_u128(id), i, Side::Sell, price, 1),
        );
        let events = add(
            book,
            Order::limit(Uuid::from_u128(id + 1), i, Side::Buy, price, 1),
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, OrderbookResult::Trade { .. })),
            "{events:?}"
        );
    }

    #[test]
    fn a_parked_stops_id_is_indexed_at_its_home_and_it_rests_there_when_triggered() {
        let i = Uuid::from_u128(1);
        let mut book = OrderBook::new(i);
        let stop = Uuid::from_u128(10);
        add(
            &mut book,
            Order::stop_limit(stop, i, Side::Buy, 105, 100, 3),
        );
        let home = book.find(&stop).expect("a parked stop's id is indexed");
        assert_ne!(book.orders[home].tag & PARKED, 0);
        assert_eq!(book.len(), 0, "a parked stop does not rest");
        book.check_integrity().unwrap();
        // The lookups every op makes find it: a duplicate, not modifiable.
        let events = add(&mut book, Order::limit(stop, i, Side::Sell, 120, 1));
        assert!(matches!(
            events[..],
            [OrderbookResult::Rejected {
                reason: RejectReason::DuplicateOrderId,
                ..
            }]
        ));
        let events = apply(
            &mut book,
            Command::Modify {
                instrument_id: i,
                order_id: stop,
                price: 99,
                qty: 3,
            },
        );
        assert!(matches!(
            events[..],
            [OrderbookResult::Rejected {
                reason: RejectReason::NotModifiable,
                ..
            }]
        ));
        // A trade at 100 triggers it; with no ask left it rests at 105 in its home.
        trade_at(&mut book, 20, 100);
        assert_eq!(book.find(&stop), Some(home));
        assert_eq!(book.orders[home].tag & PARKED, 0);
        assert_eq!((book.len(), book.best_bid()), (1, Some((105, 3))));
        book.check_integrity().unwrap();
        let events = apply(
            &mut book,
            Command::Cancel {
                instrument_id: i,
                order_id: stop,
            },
        );
        assert!(matches!(
            events[..],
            [OrderbookResult::Cancelled {
                price: Some(105),
                remaining_qty: 3,
                ..
            }]
        ));
        assert_eq!((book.find(&stop), book.len()), (None, 0));
        book.check_integrity().unwrap();
    }

    #[test]
    fn a_triggered_stop_that_does_not_rest_leaves_its_home_and_a_cancelled_one_too() {
        let i = Uuid::from_u128(1);
        let mut book = OrderBook::new(i);
        let (market, cancelled) = (Uuid::from_u128(10), Uuid::from_u128(11));
        add(&mut book, Order::stop(market, i, Side::Sell, 100, 4));
        add(&mut book, Order::stop(cancelled, i, Side::Buy, 200, 4));
        assert!(book.find(&market).is_some() && book.find(&cancelled).is_some());
        let events = apply(
            &mut book,
            Command::Cancel {
                instrument_id: i,
                order_id: cancelled,
            },
        );
        assert!(matches!(
            events[..],
            [OrderbookResult::Cancelled {
                price: None,
                remaining_qty: 4,
                side: Side::Buy,
                ..
            }]
        ));
        assert_eq!(book.find(&cancelled), None);
        book.check_integrity().unwrap();
        // Triggered with no bid to sell to, the market stop expires: its home goes.
        trade_at(&mut book, 20, 100);
        assert_eq!(book.find(&market), None);
        assert_eq!((book.len(), book.orders.live()), (0, 0));
        book.check_integrity().unwrap();
        // Its id is free again.
        let events = add(&mut book, Order::limit(market, i, Side::Buy, 90, 1));
        assert!(matches!(events[..], [OrderbookResult::Accepted { .. }]));
    }

    #[test]
    fn a_slot_keeps_an_orders_flag_byte_beside_its_own_flags() {
        assert_eq!(std::mem::size_of::<Ice>(), 16);
        assert_eq!(std::mem::align_of::<Ice>(), 16);
        let id = Uuid::from_u128(5);
        let i = Uuid::from_u128(1);
        for side in [Side::Buy, Side::Sell] {
            for mode in [None].into_iter().chain(StpMode::ALL.map(Some)) {
                for display in [None, Some(4)] {
                    let mut order = Order::limit(id, i, side, 100, 9).with_owner(0, mode);
                    if let Some(d) = display {
                        order = order.with_display(d);
                    }
                    let mut slot = Slot::new(&id, 3, 100, NIL, side, true, 41);
                    assert_eq!((slot.stp(), slot.extra()), (None, 0));
                    assert_eq!(order.long_bits(), extras_flags(Some(0), mode, display));
                    slot.add_long_bits(order.long_bits());
                    assert_eq!(slot.long_bits(), order.long_bits());
                    assert_eq!(slot.stp(), mode);
                    let iceberg = if display.is_some() { ICEBERG } else { 0 };
                    assert_eq!(
                        (slot.side(), slot.post_only(), slot.accepted(), slot.extra()),
                        (side, true, 41, OWNED | iceberg)
                    );
                    slot.set_accepted(7);
                    assert_eq!((slot.stp(), slot.accepted()), (mode, 7));
                }
            }
        }
    }

    /// The ids a mass cancel's events name, in order, and its count.
    fn mass_cancelled(events: &[OrderbookResult]) -> (Vec<u128>, u64) {
        let ids = events
            .iter()
            .filter_map(|e| match e {
                OrderbookResult::Cancelled {
                    order_id,
                    reason: EndReason::MassCancel,
                    ..
                } => Some(order_id.as_u128()),
                _ => None,
            })
            .collect();
        let Some(OrderbookResult::MassCancelled { count, .. }) = events.last() else {
            panic!("no mass_cancelled: {events:?}");
        };
        (ids, *count)
    }

    #[test]
    fn a_mass_cancel_of_one_owner_skips_slots_whose_side_table_entry_is_stale_or_unowned() {
        let i = Uuid::from_u128(1);
        let mut book = OrderBook::new(i);
        let id = Uuid::from_u128;
        // Owner 7's order rests, is cancelled; a post-only order with no owner (rested
        // without writing the side table) takes its slot, whose entry still says 7.
        add(
            &mut book,
            Order::limit(id(10), i, Side::Buy, 90, 1).with_owner(7, None),
        );
        let slot = book.find(&id(10)).expect("rests");
        apply(
            &mut book,
            Command::Cancel {
                instrument_id: i,
                order_id: id(10),
            },
        );
        add(
            &mut book,
            Order::new(id(11), i, Side::Buy, OrderKind::PostOnly, 91, 1),
        );
        assert_eq!(book.find(&id(11)), Some(slot), "the freed slot is reused");
        assert_eq!(book.long.owners[slot as usize], 7, "a stale entry");
        // Owner 0 is an owner: its order and stop go, the unowned order and stop stay.
        add(&mut book, Order::limit(id(12), i, Side::Sell, 120, 1));
        add(
            &mut book,
            Order::limit(id(13), i, Side::Sell, 121, 1).with_owner(0, None),
        );
        add(&mut book, Order::stop(id(14), i, Side::Sell, 50, 1));
        add(
            &mut book,
            Order::stop(id(15), i, Side::Sell, 51, 1).with_owner(0, None),
        );
        let cancel = |owner| Command::MassCancel {
            instrument_id: i,
            owner: Some(owner),
            side: None,
        };
        assert_eq!(mass_cancelled(&apply(&mut book, cancel(7))), (vec![], 0));
        assert_eq!(
            mass_cancelled(&apply(&mut book, cancel(0))),
            (vec![13, 15], 2)
        );
        assert_eq!(book.len(), 2);
        assert!(book.find(&id(14)).is_some(), "the unowned stop is parked");
        book.check_integrity().unwrap();
    }
}
