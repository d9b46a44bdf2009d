//! Parked stop orders (long form): off the book's ladders, indexed with its orders.
//!
//! A parked stop lives in a slot of [`Stops`]' own slab (its order, its acceptance number)
//! and holds a *home*: a slot of the book's slab marked parked, with no quantity, indexed
//! under the stop's id in the book's id index like a resting order. So a parked id is found
//! by the lookup every add, cancel and modify makes anyway (no second map, no filter in
//! front of one), and a triggered stop that rests takes its home slot with its index entry
//! as it is. Each side's stops hang by their trigger in a ladder of
//! their own ([`Ladder`], the structure of the book's sides: a dense window of ticks with a
//! B-tree beyond), linked through their slots: buy stops in a ladder ordered lowest trigger
//! first, sell stops highest first. So "does any stop fire at this price?" is the cached
//! best trigger's compare, and parking or cancelling one is a link or an unlink. A buy stop
//! fires when the last trade price reaches its trigger from below (trigger <= price), a
//! sell stop mirrors this.
//!
//! Activation goes earliest accepted first. A trigger check unlinks the levels whose
//! condition holds; each level's stops are in acceptance order, so the first of each goes
//! in a heap on the acceptance number (`ready`), whose top is then the next to fire, and
//! the one behind a fired stop takes its place (a merge of the levels: no walk of them); a
//! candidate whose condition no longer holds (the price moved back while earlier stops
//! fired) is linked back at its trigger with the rest of its level. (The
//! triggers were in binary heaps, with a cancelled stop's entry left behind: popping the
//! top of a heap of thousands was a tenth of the long-form mix's time.)
//!
//! A book without stops pays one length test after an op that traded.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::ladder::{Ladder, Level};
use super::slab::NIL;
use crate::types::{Order, Price, Side};

/// A parked stop's place in [`Stops`] (from [`Stops::park`], [`StopRef::from_home`] or
/// [`Stops::iter_unordered`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StopRef(u32);

impl StopRef {
    /// The place of the stop whose home slot keeps `raw` (what [`StopRef::raw`] gave).
    #[inline]
    pub(super) fn from_raw(raw: u32) -> StopRef {
        StopRef(raw)
    }

    /// The number a home slot keeps to find its stop again.
    #[inline]
    pub(super) fn raw(self) -> u32 {
        self.0
    }
}

/// One slot of the stops' slab.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The stop parked here (meaningless when the slot is free).
    order: Order,
    /// Its acceptance number; [`FREE`] when the slot is free.
    accepted: u64,
    /// Its trigger, copied out of `order`.
    trigger: Price,
    /// Its neighbours among the stops of its side at its trigger ([`NIL`] at the ends);
    /// while it waits as a candidate, among the rest of its level, taken out whole.
    prev: u32,
    next: u32,
    /// Its home: the book's slot indexed under its id.
    home: u32,
}

/// `Entry::accepted` of a free slot (no acceptance number reaches it).
const FREE: u64 = u64::MAX;

/// The bytes at the start of a [`Stops`] that a plain command reads (`live`).
pub(super) const HOT_BYTES: usize =
    std::mem::offset_of!(Stops, live) + std::mem::size_of::<usize>();

/// A `ready` entry: the acceptance number above the slot.
#[inline]
fn ready_key(accepted: u64, slot: u32) -> u128 {
    (u128::from(accepted) << 32) | u128::from(slot)
}

/// The parked stops of one book.
///
/// `repr(C)`, `live` first: a plain add that trades reads it ([`Stops::is_empty`]), and
/// it is in the book's hot lines (issue 21: see [`HOT_BYTES`]).
#[derive(Clone, Debug)]
#[repr(C)]
pub(super) struct Stops {
    /// How many stops are parked.
    live: usize,
    /// The slab of parked stops.
    entries: Vec<Entry>,
    /// The owner at each slot of `entries` (0 without one; meaningless where the slot is
    /// free): a mass cancel of one owner reads 8 bytes a stop to find its stops, not
    /// every entry (112 bytes each). Entries split into their links and their orders
    /// (32 and 80 bytes) made a firing stop's order a cache miss of its own: firing cost
    /// more than the mass cancels saved.
    owners: Vec<u64>,
    /// Free slots of `entries`.
    free: Vec<u32>,
    /// Buy stops by trigger, lowest first (a ladder ordered as a sell side's), except the
    /// candidates in `ready`. Boxed, like `sells`: inline, the two ladders made every
    /// book's struct 240 bytes larger, most books parking no stop.
    buys: Box<Ladder>,
    /// Sell stops by trigger, highest first (ordered as a buy side's), except the
    /// candidates in `ready`.
    sells: Box<Ladder>,
    /// The candidates at a trigger check: the first stop of each level found holding,
    /// earliest accepted on top ([`ready_key`]), the rest of its level linked behind it in
    /// acceptance order (pushed as it fires: the heap holds one stop a level, and a level is
    /// not walked to fill it); empty between ops.
    ready: BinaryHeap<Reverse<u128>>,
    /// The head of a *run* ([`NIL`]: none): the stops of a level taken out of its ladder
    /// when it was the only one holding, linked in acceptance order as they were (every
    /// level is), so they fire from the head without passing through `ready` (no walk of
    /// the level, no heap). Only while `ready` is empty; empty between ops.
    run: u32,
    /// The largest acceptance number parked so far: a park above it (every park but a
    /// restore's) goes at its level's tail without reading the tail's.
    newest: u64,
}

/// Whether a stop on `side` with `trigger` fires at last trade price `last`.
#[inline]
fn holds(side: Side, trigger: Price, last: Price) -> bool {
    match side {
        Side::Buy => trigger <= last,
        Side::Sell => trigger >= last,
    }
}

impl Default for Stops {
    fn default() -> Stops {
        Stops {
            entries: Vec::new(),
            owners: Vec::new(),
            free: Vec::new(),
            live: 0,
            buys: Box::new(Ladder::new(Side::Sell)),
            sells: Box::new(Ladder::new(Side::Buy)),
            ready: BinaryHeap::new(),
            run: NIL,
            newest: 0,
        }
    }
}

impl Stops {
    /// How many stops are parked.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.live
    }

    /// Whether none is parked.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Parks `order` (a stop kind, its trigger set) under acceptance number `accepted`, at
    /// home in the book's slot `home`; returns its place.
    pub(super) fn park(&mut self, accepted: u64, order: Order, home: u32) -> StopRef {
        let trigger = order.trigger().expect("a parked order is a stop");
        let entry = Entry {
            order,
            accepted,
            trigger,
            prev: NIL,
            next: NIL,
            home,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = entry;
                self.owners[slot as usize] = order.owner_or_zero();
                slot
            }
            None => {
                self.entries.push(entry);
                self.owners.push(order.owner_or_zero());
                (self.entries.len() - 1) as u32
            }
        };
        self.live += 1;
        let newest = accepted > self.newest;
        self.newest = self.newest.max(accepted);
        self.link_at(slot, order.side, trigger, newest);
        StopRef(slot)
    }

    /// Links the parked stop in `slot` at the tail of its trigger's level on its side.
    #[inline]
    fn link(&mut self, slot: u32) {
        let e = &self.entries[slot as usize];
        let (side, trigger) = (e.order.side, e.trigger);
        self.link_at(slot, side, trigger, false);
    }

    /// [`Self::link`] of a stop on `side` with `trigger`, as a park has them at hand: not
    /// read back from the entry it has just written (that load waited on the store, 38% of
    /// `link`'s samples), and the ladder picked without a branch on the side (the mix parks
    /// buys and sells at random: that branch was another 22%). A level's stops stay in
    /// acceptance order: a `newest` stop (a park's) goes at the tail, with no read of the
    /// tail's entry (that load missed the cache: `link_at`'s samples went 109 -> 430); an
    /// older one (a candidate the price left, a stop restored out of order) is walked back
    /// to its place.
    #[inline]
    fn link_at(&mut self, slot: u32, side: Side, trigger: Price, newest: bool) {
        let accepted = self.entries[slot as usize].accepted;
        // Buy stops sit in a ladder of the sell side's order, sell stops the reverse.
        let ladder = if side == Side::Buy {
            &mut self.buys
        } else {
            &mut self.sells
        };
        let lvl = ladder.entry_on(side.opposite(), trigger);
        let mut after = lvl.tail;
        while !newest && after != NIL && self.entries[after as usize].accepted > accepted {
            after = self.entries[after as usize].prev;
        }
        let before = if after == NIL {
            std::mem::replace(&mut lvl.head, slot)
        } else {
            std::mem::replace(&mut self.entries[after as usize].next, slot)
        };
        if before == NIL {
            lvl.tail = slot;
        } else {
            self.entries[before as usize].prev = slot;
        }
        lvl.count += 1;
        let e = &mut self.entries[slot as usize];
        e.prev = after;
        e.next = before;
    }

    /// Unlinks the parked stop in `slot` from its trigger's level, removing the level if
    /// it empties.
    fn unlink(&mut self, slot: u32) {
        let Entry {
            order,
            trigger,
            prev,
            next,
            ..
        } = self.entries[slot as usize];
        if prev != NIL {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        let ladder = match order.side {
            Side::Buy => &mut self.buys,
            Side::Sell => &mut self.sells,
        };
        let lvl = ladder.level_mut(trigger);
        if prev == NIL {
            lvl.head = next;
        }
        if next == NIL {
            lvl.tail = prev;
        }
        lvl.count -= 1;
        if lvl.count == 0 {
            ladder.remove(trigger);
        }
    }

    /// Frees `slot`; returns its stop and its home.
    fn release(&mut self, slot: u32) -> (Order, u32) {
        let entry = &mut self.entries[slot as usize];
        entry.accepted = FREE;
        let (order, home) = (entry.order, entry.home);
        self.live -= 1;
        self.free.push(slot);
        (order, home)
    }

    /// The stop parked at `stop` and its home, if `stop` is a place in use.
    pub(super) fn parked_at(&self, stop: StopRef) -> Option<(&Order, u32)> {
        self.entries
            .get(stop.0 as usize)
            .filter(|e| e.accepted != FREE)
            .map(|e| (&e.order, e.home))
    }

    /// Moves the parked stop `stop`'s home to `home` (its book's orders moved to other
    /// slots: see `OrderBook::move_orders`).
    pub(super) fn set_home(&mut self, stop: StopRef, home: u32) {
        if let Some(entry) = self.entries.get_mut(stop.0 as usize)
            && entry.accepted != FREE
        {
            entry.home = home;
        }
    }

    /// Takes the parked stop `stop` out (a cancel); returns it and its home.
    pub(super) fn remove(&mut self, stop: StopRef) -> (Order, u32) {
        self.unlink(stop.0);
        self.release(stop.0)
    }

    /// Whether a buy stop's trigger is reached at last trade price `last`.
    #[inline]
    fn buy_fires(&self, last: Price) -> bool {
        self.buys.crossed_at(Side::Buy, last)
    }

    /// Whether a sell stop's trigger is reached at last trade price `last`.
    #[inline]
    fn sell_fires(&self, last: Price) -> bool {
        self.sells.crossed_at(Side::Sell, last)
    }

    /// Whether a stop may fire at last trade price `last`: one is a candidate already,
    /// or a side's best trigger is reached.
    #[inline]
    pub(super) fn may_fire(&self, last: Option<Price>) -> bool {
        let Some(last) = last else {
            return false;
        };
        !self.ready.is_empty() || self.run != NIL || self.buy_fires(last) || self.sell_fires(last)
    }

    /// Takes out the earliest-accepted stop whose condition `last` holds (a buy stop with
    /// trigger <= `last`, a sell stop with trigger >= `last`) and returns it with its
    /// acceptance number and its home slot.
    pub(super) fn pop_triggered(&mut self, last: Price) -> Option<(u64, Order, u32)> {
        if self.ready.is_empty()
            && self.run == NIL
            && !self.buy_fires(last)
            && !self.sell_fires(last)
        {
            return None;
        }
        self.pop_triggered_slow(last)
    }

    /// [`Self::pop_triggered`] once a side's best trigger is reached or candidates wait.
    #[inline(never)]
    fn pop_triggered_slow(&mut self, last: Price) -> Option<(u64, Order, u32)> {
        if self.run != NIL {
            if !self.buy_fires(last) && !self.sell_fires(last) {
                return self.pop_run(last);
            }
            // Other levels hold too: the run's stops join them in `ready`.
            let head = std::mem::replace(&mut self.run, NIL);
            self.make_ready(head);
        } else if self.ready.is_empty() && self.lone_level(last) {
            return self.pop_run(last);
        }
        while self.buy_fires(last) {
            let trigger = self.buys.top_price();
            let level = std::mem::replace(self.buys.best_mut(), Level::EMPTY);
            self.buys.remove(trigger);
            self.make_ready(level.head);
        }
        while self.sell_fires(last) {
            let trigger = self.sells.top_price();
            let level = std::mem::replace(self.sells.best_mut(), Level::EMPTY);
            self.sells.remove(trigger);
            self.make_ready(level.head);
        }
        while let Some(Reverse(key)) = self.ready.pop() {
            let (accepted, slot) = ((key >> 32) as u64, key as u32);
            let e = &self.entries[slot as usize];
            let next = e.next;
            if holds(e.order.side, e.trigger, last) {
                // The next of its level (accepted later) becomes a candidate.
                self.make_ready(next);
                let (order, home) = self.release(slot);
                return Some((accepted, order, home));
            }
            // The price moved back: it and the rest of its level (the same side and
            // trigger) wait on their trigger again.
            self.relink_from(slot);
        }
        None
    }

    /// Makes the stops of an unlinked level, from `head` on (none if [`NIL`]), candidates:
    /// `head` goes in `ready`, the others stay linked behind it.
    fn make_ready(&mut self, head: u32) {
        if head != NIL {
            let accepted = self.entries[head as usize].accepted;
            self.ready.push(Reverse(ready_key(accepted, head)));
        }
    }

    /// Links the stops of an unlinked level, from `slot` on, back into their ladder.
    fn relink_from(&mut self, mut slot: u32) {
        while slot != NIL {
            let next = self.entries[slot as usize].next;
            self.link(slot);
            slot = next;
        }
    }

    /// With no candidate waiting: when exactly one side's best trigger is reached and,
    /// that level taken out, no other trigger is, that level is the only one holding: it
    /// becomes the run (its stops already in acceptance order). Otherwise the level taken
    /// out goes to `ready` for the general path.
    fn lone_level(&mut self, last: Price) -> bool {
        let ladder = match (self.buy_fires(last), self.sell_fires(last)) {
            (true, false) => &mut self.buys,
            (false, true) => &mut self.sells,
            _ => return false,
        };
        let trigger = ladder.top_price();
        let level = std::mem::replace(ladder.best_mut(), Level::EMPTY);
        ladder.remove(trigger);
        if self.buy_fires(last) || self.sell_fires(last) {
            self.make_ready(level.head);
            return false;
        }
        self.run = level.head;
        true
    }

    /// Fires the run's head if its trigger still holds at `last`; else the price moved
    /// back, and the run's stops wait on their trigger again.
    fn pop_run(&mut self, last: Price) -> Option<(u64, Order, u32)> {
        let slot = self.run;
        let e = &self.entries[slot as usize];
        if holds(e.order.side, e.trigger, last) {
            self.run = e.next;
            let accepted = e.accepted;
            let (order, home) = self.release(slot);
            return Some((accepted, order, home));
        }
        let slot = std::mem::replace(&mut self.run, NIL);
        self.relink_from(slot);
        None
    }

    /// Every parked stop with its acceptance number and place, in acceptance order.
    pub(super) fn iter_refs(&self) -> impl Iterator<Item = (u64, StopRef, &Order)> {
        let mut all: Vec<(u64, u32)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.accepted != FREE)
            .map(|(slot, e)| (e.accepted, slot as u32))
            .collect();
        all.sort_unstable();
        all.into_iter()
            .map(|(accepted, slot)| (accepted, StopRef(slot), &self.entries[slot as usize].order))
    }

    /// Every parked stop with its acceptance number and place, in no order (a mass cancel
    /// sorts what it picks).
    pub(super) fn iter_unordered(&self) -> impl Iterator<Item = (u64, StopRef, &Order)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.accepted != FREE)
            .map(|(slot, e)| (e.accepted, StopRef(slot as u32), &e.order))
    }

    /// The parked stops of `owner` with their acceptance numbers, places and sides, in no
    /// order: the owners' array read at 8 bytes a stop, an entry only where the owner
    /// matches.
    pub(super) fn iter_owned(&self, owner: u64) -> impl Iterator<Item = (u64, StopRef, Side)> {
        self.owners
            .iter()
            .enumerate()
            .filter(move |&(_, &o)| o == owner)
            .filter_map(move |(slot, _)| {
                let e = &self.entries[slot];
                (e.accepted != FREE && e.order.owner() == Some(owner)).then_some((
                    e.accepted,
                    StopRef(slot as u32),
                    e.order.side,
                ))
            })
    }

    /// Every parked stop with its acceptance number, in acceptance order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Order)> {
        self.iter_refs()
            .map(|(accepted, _, order)| (accepted, order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn fire(stops: &mut Stops, last: Price) -> Option<u64> {
        stops.pop_triggered(last).map(|(accepted, _, _)| accepted)
    }

    /// Parks `order` with a home slot numbered after its acceptance number.
    fn park(stops: &mut Stops, accepted: u64, order: Order) -> StopRef {
        stops.park(accepted, order, 1_000 + accepted as u32)
    }

    #[test]
    fn the_earliest_accepted_stop_whose_condition_holds_comes_first() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        let five = park(
            &mut stops,
            5,
            Order::stop(Uuid::from_u128(1), i, Side::Buy, 100, 1),
        );
        park(
            &mut stops,
            3,
            Order::stop(Uuid::from_u128(2), i, Side::Buy, 99, 1),
        );
        park(
            &mut stops,
            4,
            Order::stop(Uuid::from_u128(3), i, Side::Sell, 95, 1),
        );
        park(
            &mut stops,
            1,
            Order::stop_limit(Uuid::from_u128(4), i, Side::Sell, 90, 97, 1),
        );
        assert_eq!(fire(&mut stops, 98), None);
        assert_eq!(
            stops.iter().map(|(a, _)| a).collect::<Vec<_>>(),
            vec![1, 3, 4, 5]
        );
        // At 100 both buys hold: 3 first, and 5 is still there after it.
        assert_eq!(fire(&mut stops, 100), Some(3));
        // The price moves back: 5 (found holding at 100) no longer fires at 97, the sell
        // stop 1 does, with its home.
        let (accepted, order, home) = stops.pop_triggered(97).expect("the sell stop fires");
        assert_eq!(
            (accepted, order.order_id, home),
            (1, Uuid::from_u128(4), 1_001)
        );
        assert_eq!(fire(&mut stops, 97), None);
        assert_eq!(stops.len(), 2);
        assert_eq!(stops.iter().map(|(a, _)| a).collect::<Vec<_>>(), vec![4, 5]);
        // A cancelled stop never fires.
        let (order, home) = stops.remove(five);
        assert_eq!((order.order_id, home), (Uuid::from_u128(1), 1_005));
        assert_eq!(fire(&mut stops, 100), None);
        assert_eq!(fire(&mut stops, 95), Some(4));
        assert!(stops.is_empty());
    }

    #[test]
    fn a_place_goes_through_its_home_slots_number_and_back() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        let a = park(
            &mut stops,
            1,
            Order::stop(Uuid::from_u128(7), i, Side::Buy, 100, 1),
        );
        let b = park(
            &mut stops,
            2,
            Order::stop(Uuid::from_u128(8), i, Side::Sell, 90, 1),
        );
        assert_ne!(a, b);
        assert_eq!(StopRef::from_raw(b.raw()), b);
        let (order, home) = stops.remove(StopRef::from_raw(a.raw()));
        assert_eq!((order.order_id, home), (Uuid::from_u128(7), 1_001));
        assert_eq!(stops.len(), 1);
        assert_eq!(
            fire(&mut stops, 100),
            None,
            "the cancelled buy stop is gone"
        );
        assert_eq!(fire(&mut stops, 90), Some(2));
    }

    #[test]
    fn a_cancel_unlinks_its_stop_at_once_and_a_reused_slot_fires_as_its_new_stop() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        for n in 0..1_000u64 {
            let id = Uuid::from_u128(u128::from(n) + 10);
            let found = park(
                &mut stops,
                n,
                Order::stop(id, i, Side::Buy, 100 + n as i64, 1),
            );
            stops.remove(found);
        }
        park(
            &mut stops,
            5_000,
            Order::stop(Uuid::from_u128(2), i, Side::Sell, 50, 1),
        );
        assert_eq!(
            (stops.buys.len(), stops.sells.len(), stops.ready.len()),
            (0, 1, 0)
        );
        assert_eq!(fire(&mut stops, 2_000), None);
        assert_eq!(fire(&mut stops, 50), Some(5_000));
        assert_eq!(stops.entries.len(), 1, "the one slot was reused");
        assert_eq!((stops.buys.len(), stops.sells.len()), (0, 0));
    }

    #[test]
    fn triggers_far_apart_fire_in_acceptance_order_and_stops_at_one_trigger_too() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        let far = 1_000_000_000_000_000i64;
        // Triggers beyond any tick window, and three stops sharing one trigger.
        park(
            &mut stops,
            7,
            Order::stop(Uuid::from_u128(1), i, Side::Buy, far, 1),
        );
        park(
            &mut stops,
            2,
            Order::stop(Uuid::from_u128(2), i, Side::Buy, -far, 1),
        );
        park(
            &mut stops,
            9,
            Order::stop(Uuid::from_u128(3), i, Side::Buy, 0, 1),
        );
        let cancelled = park(
            &mut stops,
            4,
            Order::stop(Uuid::from_u128(4), i, Side::Buy, 0, 1),
        );
        park(
            &mut stops,
            3,
            Order::stop(Uuid::from_u128(5), i, Side::Buy, 0, 1),
        );
        park(
            &mut stops,
            1,
            Order::stop(Uuid::from_u128(6), i, Side::Sell, i64::MIN, 1),
        );
        stops.remove(cancelled);
        assert_eq!(fire(&mut stops, -far - 1), None);
        assert_eq!(fire(&mut stops, 0), Some(2));
        assert_eq!(fire(&mut stops, 0), Some(3));
        assert_eq!(fire(&mut stops, 0), Some(9));
        assert_eq!(fire(&mut stops, 0), None);
        assert_eq!(fire(&mut stops, i64::MAX), Some(7));
        assert_eq!(fire(&mut stops, i64::MIN), Some(1));
        assert!(stops.is_empty());
        assert_eq!((stops.buys.len(), stops.sells.len()), (0, 0));
    }

    #[test]
    fn iter_owned_finds_the_parked_stops_of_one_owner_and_no_others() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        let owned = |n: u128, owner| {
            Order::stop(Uuid::from_u128(n), i, Side::Buy, 100, 1).with_owner(owner, None)
        };
        let seven = park(&mut stops, 1, owned(1, 7));
        park(&mut stops, 2, owned(2, 0));
        park(
            &mut stops,
            3,
            Order::stop(Uuid::from_u128(3), i, Side::Sell, 90, 1),
        );
        let later = park(&mut stops, 4, owned(4, 7));
        let owners = |stops: &Stops, owner| {
            let mut found: Vec<_> = stops.iter_owned(owner).collect();
            found.sort_unstable_by_key(|&(a, _, _)| a);
            found
        };
        assert_eq!(
            owners(&stops, 7),
            vec![(1, seven, Side::Buy), (4, later, Side::Buy)]
        );
        // Owner 0 is an owner; a stop without one is nobody's.
        assert_eq!(
            owners(&stops, 0)
                .iter()
                .map(|&(a, _, _)| a)
                .collect::<Vec<_>>(),
            vec![2]
        );
        // A stop that left is not found, though its slot's owner stays behind.
        stops.remove(seven);
        assert_eq!(owners(&stops, 7), vec![(4, later, Side::Buy)]);
        assert_eq!(fire(&mut stops, 100), Some(2));
        assert_eq!(owners(&stops, 0), vec![]);
    }

    #[test]
    fn a_lone_level_fires_in_acceptance_order_through_relinks_restores_and_new_levels() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        let buy = |n: u128, trigger| Order::stop(Uuid::from_u128(n), i, Side::Buy, trigger, 1);
        for accepted in [1, 2, 3] {
            park(&mut stops, accepted, buy(u128::from(accepted), 100));
        }
        park(&mut stops, 4, buy(4, 101));
        // At 100 the level alone holds: it fires from its head.
        assert_eq!(fire(&mut stops, 100), Some(1));
        assert_ne!(stops.run, NIL, "the rest of the level is the run");
        assert!(stops.buys.get(100).is_none(), "out of the ladder");
        // The price moves back: the rest wait on 100 again, in order.
        assert_eq!(fire(&mut stops, 99), None);
        assert_eq!(stops.run, NIL);
        // A stop restored older than the level's stops goes ahead of them.
        park(&mut stops, 0, buy(10, 100));
        let level: Vec<u64> = {
            let mut slot = stops.buys.get(100).expect("the level is back").head;
            let mut order = Vec::new();
            while slot != NIL {
                order.push(stops.entries[slot as usize].accepted);
                slot = stops.entries[slot as usize].next;
            }
            order
        };
        assert_eq!(level, vec![0, 2, 3]);
        // At 100 again a run; at 101 mid-run, the next level joins: acceptance order.
        assert_eq!(fire(&mut stops, 100), Some(0));
        assert_ne!(stops.run, NIL);
        assert_eq!(fire(&mut stops, 101), Some(2));
        assert_eq!(
            stops.run, NIL,
            "the run went to `ready` with the other level"
        );
        assert_eq!(fire(&mut stops, 101), Some(3));
        assert_eq!(fire(&mut stops, 101), Some(4));
        assert_eq!(fire(&mut stops, 101), None);
        assert!(stops.is_empty());
    }

    #[test]
    fn levels_holding_together_merge_in_acceptance_order_with_one_candidate_each() {
        let i = Uuid::from_u128(1);
        let buy =
            |id: u128, trigger: Price| Order::stop(Uuid::from_u128(id), i, Side::Buy, trigger, 1);
        let sell =
            |id: u128, trigger: Price| Order::stop(Uuid::from_u128(id), i, Side::Sell, trigger, 1);
        let mut stops = Stops::default();
        // Buys at 100 (1, 4, 6) and 101 (2, 5, 7), sells at 99 (3, 8): at 101 both buy
        // levels hold and fire merged.
        for (accepted, order) in [
            (1, buy(1, 100)),
            (2, buy(2, 101)),
            (3, sell(3, 99)),
            (4, buy(4, 100)),
            (5, buy(5, 101)),
            (6, buy(6, 100)),
            (7, buy(7, 101)),
            (8, sell(8, 99)),
        ] {
            park(&mut stops, accepted, order);
        }
        assert_eq!(fire(&mut stops, 101), Some(1));
        assert_eq!(
            stops.ready.len(),
            2,
            "one candidate a level, the rest behind it"
        );
        assert_eq!(fire(&mut stops, 101), Some(2));
        assert_eq!(fire(&mut stops, 101), Some(4));
        // The price moves to 100: the level at 101 (5, 7) no longer holds and goes back
        // whole, in order; the one at 100 goes on.
        assert_eq!(fire(&mut stops, 100), Some(6));
        assert_eq!(stops.ready.len(), 0);
        let level: Vec<u64> = {
            let mut slot = stops.buys.get(101).expect("the level is back").head;
            let mut order = Vec::new();
            while slot != NIL {
                order.push(stops.entries[slot as usize].accepted);
                slot = stops.entries[slot as usize].next;
            }
            order
        };
        assert_eq!(level, vec![5, 7]);
        assert_eq!(fire(&mut stops, 100), None);
        let fired: Vec<u64> = std::iter::from_fn(|| fire(&mut stops, 101)).collect();
        assert_eq!(fired, vec![5, 7]);
        let fired: Vec<u64> = std::iter::from_fn(|| fire(&mut stops, 99)).collect();
        assert_eq!(fired, vec![3, 8]);
        assert!(stops.is_empty());
    }
}
