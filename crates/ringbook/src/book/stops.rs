//! Parked stop orders (long form): outside the slab, the index and the ladders.
//!
//! A parked stop lives in a slot of [`Stops`]' own slab (its order, its acceptance number),
//! found by id through a hash map. Each side's stops hang by their trigger in a ladder of
//! their own ([`Ladder`], the structure of the book's sides: a dense window of ticks with a
//! B-tree beyond), linked through their slots: buy stops in a ladder ordered lowest trigger
//! first, sell stops highest first. So "does any stop fire at this price?" is the cached
//! best trigger's compare, and parking or cancelling one is a link or an unlink. A buy stop
//! fires when the last trade price reaches its trigger from below (trigger <= price), a
//! sell stop mirrors this.
//!
//! Activation goes earliest accepted first. A trigger check unlinks the levels whose
//! condition holds and moves their stops to a heap on the acceptance number (`ready`),
//! whose top is then the next to fire; a candidate whose condition no longer holds (the
//! price moved back while earlier stops fired) is linked back at its trigger. (The
//! triggers were in binary heaps, with a cancelled stop's entry left behind: popping the
//! top of a heap of thousands was a tenth of the long-form mix's time.)
//!
//! A book without stops pays one length test after an op that traded.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use hashbrown::HashMap;

use uuid::Uuid;

use super::ladder::{Ladder, Level};
use super::slab::NIL;
use crate::types::{Order, Price, Side};

/// A parked stop's place in [`Stops`] (from [`Stops::find`] or [`Stops::iter_unordered`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StopRef(u32);

/// One slot of the stops' slab.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The stop parked here (meaningless when the slot is free).
    order: Order,
    /// Its acceptance number; [`FREE`] when the slot is free.
    accepted: u64,
    /// Its trigger, copied out of `order`.
    trigger: Price,
    /// Its neighbours among the stops of its side at its trigger ([`NIL`] at the ends, and
    /// while it waits in `ready`).
    prev: u32,
    next: u32,
}

/// `Entry::accepted` of a free slot (no acceptance number reaches it).
const FREE: u64 = u64::MAX;

/// A `ready` entry: the acceptance number above the slot.
#[inline]
fn ready_key(accepted: u64, slot: u32) -> u128 {
    (u128::from(accepted) << 32) | u128::from(slot)
}

/// The parked stops of one book.
#[derive(Clone, Debug)]
pub(super) struct Stops {
    /// The slab of parked stops.
    entries: Vec<Entry>,
    /// Free slots of `entries`.
    free: Vec<u32>,
    /// Slots by order id: duplicate checks, cancels and modifies.
    ids: HashMap<Uuid, u32, foldhash::fast::RandomState>,
    /// Buy stops by trigger, lowest first (a ladder ordered as a sell side's), except the
    /// candidates in `ready`. Boxed, like `sells`: inline, the two ladders made every
    /// book's struct 240 bytes larger, most books parking no stop.
    buys: Box<Ladder>,
    /// Sell stops by trigger, highest first (ordered as a buy side's), except the
    /// candidates in `ready`.
    sells: Box<Ladder>,
    /// Stops found holding at a trigger check, earliest accepted on top ([`ready_key`]);
    /// empty between ops.
    ready: BinaryHeap<Reverse<u128>>,
    /// One bit for each of [`FILTER`] buckets (by [`bucket`]), set while a parked id falls
    /// in it: an id whose bit is clear is not parked, which spares most adds the hash
    /// lookup. 4 KiB, so the test an add makes stays in the first-level cache (a byte of
    /// count a bucket was 16 KiB, and its random reads missed that cache on 0.4 of the long
    /// form's commands). Allocated on the first park.
    filter: Vec<u64>,
    /// How many parked ids fall in each bucket (saturating: a full bucket's bit stays
    /// set): read and written only by parks and releases, to know when a bit clears.
    counts: Vec<u8>,
}

/// The number of buckets of `Stops::filter` (4 KiB of bits): with 4,096 buckets the
/// long-form mix ran 3 instructions a command more, in the hash lookups of adds whose
/// bucket a parked id shared; with 16,384, about 1,500 parked stops set one bit in 11 and
/// the filter's answer was mispredicted as often.
const FILTER: usize = 32768;

/// The filter bucket of `order_id`.
#[inline]
fn bucket(order_id: &Uuid) -> usize {
    let raw = order_id.as_u128();
    ((raw ^ (raw >> 64)) as usize) & (FILTER - 1)
}

/// Whether `filter`'s bit for `order_id`'s bucket is set.
#[inline(always)]
fn marked(filter: &[u64], order_id: &Uuid) -> bool {
    let b = bucket(order_id);
    filter[b / 64] & (1 << (b % 64)) != 0
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
            free: Vec::new(),
            ids: HashMap::default(),
            buys: Box::new(Ladder::new(Side::Sell)),
            sells: Box::new(Ladder::new(Side::Buy)),
            ready: BinaryHeap::new(),
            filter: Vec::new(),
            counts: Vec::new(),
        }
    }
}

impl Stops {
    /// How many stops are parked.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether none is parked.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The parked stop `order_id`, if it is parked: with none parked one length test;
    /// else the filter's bit, inline, and the hash lookup only when it is set, out of line.
    #[inline]
    pub(super) fn find(&self, order_id: &Uuid) -> Option<StopRef> {
        if self.ids.is_empty() || !marked(&self.filter, order_id) {
            return None;
        }
        self.find_parked(order_id)
    }

    /// [`Self::find`] for the long form's out-of-line paths.
    #[inline]
    pub(super) fn find_long(&self, order_id: &Uuid) -> Option<StopRef> {
        self.find(order_id)
    }

    /// [`Self::find`] of an id whose filter bit is set: the hash lookup, out of line so a
    /// plain add's inlined path does not carry it.
    #[inline(never)]
    fn find_parked(&self, order_id: &Uuid) -> Option<StopRef> {
        self.ids.get(order_id).copied().map(StopRef)
    }

    /// Parks `order` (a stop kind, its trigger set) under acceptance number `accepted`.
    pub(super) fn park(&mut self, accepted: u64, order: Order) {
        let trigger = order.trigger().expect("a parked order is a stop");
        let entry = Entry {
            order,
            accepted,
            trigger,
            prev: NIL,
            next: NIL,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = entry;
                slot
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.ids.insert(order.order_id, slot);
        if self.filter.is_empty() {
            self.filter = vec![0; FILTER / 64];
            self.counts = vec![0; FILTER];
        }
        let b = bucket(&order.order_id);
        // Saturates: a full bucket stays non-empty (its ids go to the hash lookup).
        self.counts[b] = self.counts[b].saturating_add(1);
        self.filter[b / 64] |= 1 << (b % 64);
        self.link(slot);
    }

    /// Links the parked stop in `slot` at the tail of its trigger's level on its side.
    #[inline]
    fn link(&mut self, slot: u32) {
        let (side, trigger) = {
            let e = &self.entries[slot as usize];
            (e.order.side, e.trigger)
        };
        // Buy stops sit in a ladder of the sell side's order, sell stops the reverse.
        let lvl = match side {
            Side::Buy => self.buys.entry_on(Side::Sell, trigger),
            Side::Sell => self.sells.entry_on(Side::Buy, trigger),
        };
        let tail = lvl.tail;
        lvl.tail = slot;
        if tail == NIL {
            lvl.head = slot;
        } else {
            self.entries[tail as usize].next = slot;
        }
        lvl.count += 1;
        let e = &mut self.entries[slot as usize];
        e.prev = tail;
        e.next = NIL;
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

    /// Frees `slot` and forgets its id; returns its stop.
    fn release(&mut self, slot: u32) -> Order {
        let entry = &mut self.entries[slot as usize];
        entry.accepted = FREE;
        let order = entry.order;
        self.ids.remove(&order.order_id);
        let b = bucket(&order.order_id);
        let count = &mut self.counts[b];
        if *count != u8::MAX {
            *count -= 1;
            if *count == 0 {
                self.filter[b / 64] &= !(1 << (b % 64));
            }
        }
        self.free.push(slot);
        order
    }

    /// Takes the parked stop `stop` out (a cancel); returns it.
    pub(super) fn remove(&mut self, stop: StopRef) -> Order {
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
        !self.ready.is_empty() || self.buy_fires(last) || self.sell_fires(last)
    }

    /// Takes out the earliest-accepted stop whose condition `last` holds (a buy stop with
    /// trigger <= `last`, a sell stop with trigger >= `last`) and returns it with its
    /// acceptance number.
    pub(super) fn pop_triggered(&mut self, last: Price) -> Option<(u64, Order)> {
        if self.ready.is_empty() && !self.buy_fires(last) && !self.sell_fires(last) {
            return None;
        }
        self.pop_triggered_slow(last)
    }

    /// [`Self::pop_triggered`] once a side's best trigger is reached or candidates wait.
    #[inline(never)]
    fn pop_triggered_slow(&mut self, last: Price) -> Option<(u64, Order)> {
        if self.ready.is_empty()
            && let Some(only) = self.only_candidate(last)
        {
            return Some(only);
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
            if holds(e.order.side, e.trigger, last) {
                return Some((accepted, self.release(slot)));
            }
            // The price moved back: it waits on its trigger again.
            self.link(slot);
        }
        None
    }

    /// Moves the stops of an unlinked level, from `head` on, to `ready`.
    fn make_ready(&mut self, mut slot: u32) {
        while slot != NIL {
            let e = &self.entries[slot as usize];
            let next = e.next;
            self.ready.push(Reverse(ready_key(e.accepted, slot)));
            slot = next;
        }
    }

    /// With no candidate waiting: when exactly one side's best trigger is reached, by one
    /// stop, and no other trigger of that side is, that stop is the only candidate; it is
    /// taken out without passing through `ready`.
    fn only_candidate(&mut self, last: Price) -> Option<(u64, Order)> {
        let (buy, sell) = (self.buy_fires(last), self.sell_fires(last));
        let lvl = match (buy, sell) {
            (true, false) => self.buys.best_mut(),
            (false, true) => self.sells.best_mut(),
            _ => return None,
        };
        if lvl.count != 1 {
            return None;
        }
        let slot = lvl.head;
        self.unlink(slot);
        if self.buy_fires(last) || self.sell_fires(last) {
            // Another level holds too: the general path orders them.
            self.link(slot);
            return None;
        }
        let accepted = self.entries[slot as usize].accepted;
        Some((accepted, self.release(slot)))
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

    /// Every parked stop with its acceptance number, in acceptance order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Order)> {
        self.iter_refs()
            .map(|(accepted, _, order)| (accepted, order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire(stops: &mut Stops, last: Price) -> Option<u64> {
        stops.pop_triggered(last).map(|(accepted, _)| accepted)
    }

    #[test]
    fn the_earliest_accepted_stop_whose_condition_holds_comes_first() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        stops.park(5, Order::stop(Uuid::from_u128(1), i, Side::Buy, 100, 1));
        stops.park(3, Order::stop(Uuid::from_u128(2), i, Side::Buy, 99, 1));
        stops.park(4, Order::stop(Uuid::from_u128(3), i, Side::Sell, 95, 1));
        stops.park(
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
        // stop 1 does.
        assert_eq!(fire(&mut stops, 97), Some(1));
        assert_eq!(fire(&mut stops, 97), None);
        assert_eq!(stops.find(&Uuid::from_u128(4)), None);
        let five = stops.find(&Uuid::from_u128(1)).expect("parked");
        assert_eq!(stops.len(), 2);
        assert_eq!(stops.iter().map(|(a, _)| a).collect::<Vec<_>>(), vec![4, 5]);
        // A cancelled stop never fires, though its heap entry is left behind.
        assert_eq!(stops.remove(five).order_id, Uuid::from_u128(1));
        assert_eq!(fire(&mut stops, 100), None);
        assert_eq!(fire(&mut stops, 95), Some(4));
        assert!(stops.is_empty());
    }

    #[test]
    fn ids_sharing_a_filter_bucket_are_found_until_each_leaves() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        let a = Uuid::from_u128(7);
        let b = Uuid::from_u128(7 + FILTER as u128);
        assert_eq!(bucket(&a), bucket(&b));
        stops.park(1, Order::stop(a, i, Side::Buy, 100, 1));
        stops.park(2, Order::stop(b, i, Side::Buy, 100, 1));
        assert_eq!(stops.find(&Uuid::from_u128(7 + 2 * FILTER as u128)), None);
        let found = stops.find(&a).expect("parked");
        stops.remove(found);
        assert_eq!(stops.find(&a), None);
        assert!(stops.find(&b).is_some());
        assert_eq!(fire(&mut stops, 100), Some(2));
        assert_eq!(stops.find(&b), None);
    }

    #[test]
    fn a_filter_bit_is_set_while_a_parked_id_falls_in_its_bucket() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        let a = Uuid::from_u128(9);
        let b = Uuid::from_u128(9 + FILTER as u128);
        stops.park(1, Order::stop(a, i, Side::Buy, 100, 1));
        stops.park(2, Order::stop(b, i, Side::Sell, 90, 1));
        assert_eq!(stops.filter.len() * 64, FILTER, "one bit a bucket");
        assert!(marked(&stops.filter, &a));
        let found = stops.find(&a).expect("parked");
        stops.remove(found);
        assert!(marked(&stops.filter, &a), "b still falls in the bucket");
        assert!(stops.find(&b).is_some());
        assert_eq!(fire(&mut stops, 90), Some(2));
        assert!(!marked(&stops.filter, &b), "the bucket's last id left");
        assert_eq!(stops.filter.iter().map(|w| w.count_ones()).sum::<u32>(), 0);
    }

    #[test]
    fn a_cancel_unlinks_its_stop_at_once_and_a_reused_slot_fires_as_its_new_stop() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        for n in 0..1_000u64 {
            let id = Uuid::from_u128(u128::from(n) + 10);
            stops.park(n, Order::stop(id, i, Side::Buy, 100 + n as i64, 1));
            let found = stops.find(&id).expect("parked");
            stops.remove(found);
        }
        stops.park(5_000, Order::stop(Uuid::from_u128(2), i, Side::Sell, 50, 1));
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
        stops.park(7, Order::stop(Uuid::from_u128(1), i, Side::Buy, far, 1));
        stops.park(2, Order::stop(Uuid::from_u128(2), i, Side::Buy, -far, 1));
        stops.park(9, Order::stop(Uuid::from_u128(3), i, Side::Buy, 0, 1));
        stops.park(4, Order::stop(Uuid::from_u128(4), i, Side::Buy, 0, 1));
        stops.park(3, Order::stop(Uuid::from_u128(5), i, Side::Buy, 0, 1));
        stops.park(
            1,
            Order::stop(Uuid::from_u128(6), i, Side::Sell, i64::MIN, 1),
        );
        let cancelled = stops.find(&Uuid::from_u128(4)).expect("parked");
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
}
