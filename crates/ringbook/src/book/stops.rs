//! Parked stop orders (long form): outside the slab, the index and the ladders.
//!
//! A parked stop lives in a slot of [`Stops`]' own slab (its order, its acceptance number),
//! found by id through a hash map. Its side keeps a heap on the trigger: the lowest buy
//! trigger and the highest sell trigger are at the top, so "does any stop fire at this
//! price?" is one compare per side. A buy stop fires when the last trade price reaches its
//! trigger from below (trigger <= price), a sell stop mirrors this.
//!
//! Activation goes earliest accepted first. A trigger check moves the stops whose
//! condition holds from the trigger heaps to a heap on the acceptance number (`ready`),
//! whose top is then the next to fire; a candidate whose condition no longer holds (the
//! price moved back while earlier stops fired) goes back to its trigger heap. A cancel
//! frees the slot and leaves its heap entry behind, to be dropped when it comes to a top
//! (an entry is live while its slot still holds its acceptance number); the heaps are
//! rebuilt when such entries outnumber the parked stops. So parking and cancelling are
//! O(log n) heap pushes and a hash insert or remove, with no ordered map.
//!
//! A book without stops pays one length test after an op that traded.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use hashbrown::HashMap;

use uuid::Uuid;

use crate::types::{Order, Price, Side};

/// A parked stop's place in [`Stops`] (from [`Stops::find`] or [`Stops::iter_refs`]).
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
    /// Its park number (see `Stops::next_gen`), which tells its trigger-heap entry from
    /// those of the stops parked in this slot before.
    generation: u32,
}

/// `Entry::accepted` of a free slot (no acceptance number reaches it).
const FREE: u64 = u64::MAX;

/// A trigger-heap entry packed in one integer, so a heap compare is one `u128` compare:
/// the trigger (sign bit flipped, so unsigned order is price order) above the stop's
/// generation and its slot.
type Keyed = u128;

/// The trigger-heap entry of the stop in `slot` with `trigger` and `generation`.
#[inline]
fn keyed(trigger: Price, generation: u32, slot: u32) -> Keyed {
    (u128::from(trigger as u64 ^ (1 << 63)) << 64)
        | (u128::from(generation) << 32)
        | u128::from(slot)
}

/// The generation and slot of a trigger-heap entry.
#[inline]
fn unkeyed(key: Keyed) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

/// The greatest trigger-heap entry with trigger `last`: a buy entry at or below it fires.
#[inline]
fn upper(last: Price) -> Keyed {
    keyed(last, u32::MAX, u32::MAX)
}

/// The least trigger-heap entry with trigger `last`: a sell entry at or above it fires.
#[inline]
fn lower(last: Price) -> Keyed {
    keyed(last, 0, 0)
}

/// A `ready` entry: the acceptance number above the slot.
#[inline]
fn ready_key(accepted: u64, slot: u32) -> u128 {
    (u128::from(accepted) << 32) | u128::from(slot)
}

/// The parked stops of one book.
#[derive(Clone, Debug, Default)]
pub(super) struct Stops {
    /// The slab of parked stops.
    entries: Vec<Entry>,
    /// Free slots of `entries`.
    free: Vec<u32>,
    /// Slots by order id: duplicate checks, cancels and modifies.
    ids: HashMap<Uuid, u32, foldhash::fast::RandomState>,
    /// Buy stops not yet found holding, lowest trigger on top.
    buys: BinaryHeap<Reverse<Keyed>>,
    /// Sell stops not yet found holding, highest trigger on top.
    sells: BinaryHeap<Keyed>,
    /// Stops found holding at a trigger check, earliest accepted on top ([`ready_key`]).
    ready: BinaryHeap<Reverse<u128>>,
    /// The generation of the next park; when it would wrap, the stops are renumbered.
    next_gen: u32,
    /// Heap entries whose stop has left (cancelled): dropped when they come to a top.
    stale: usize,
    /// One bit for each of [`FILTER`] buckets (by [`bucket`]), set while a parked id falls
    /// in it: an id whose bit is clear is not parked, which spares most adds the hash
    /// lookup. 2 KiB, so the test an add makes stays in the first-level cache (a byte of
    /// count a bucket was 16 KiB, and its random reads missed that cache on 0.4 of the long
    /// form's commands). Allocated on the first park.
    filter: Vec<u64>,
    /// How many parked ids fall in each bucket (saturating: a full bucket's bit stays
    /// set): read and written only by parks and releases, to know when a bit clears.
    counts: Vec<u8>,
}

/// The number of buckets of `Stops::filter` (2 KiB of bits): with 4,096 buckets the
/// long-form mix ran 3 instructions a command more, in the hash lookups of adds whose
/// bucket a parked id shared.
const FILTER: usize = 16384;

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

    /// The parked stop `order_id`, if it is parked.
    #[inline]
    pub(super) fn find(&self, order_id: &Uuid) -> Option<StopRef> {
        if self.ids.is_empty() {
            return None;
        }
        self.find_parked(order_id)
    }

    /// [`Self::find`] for the long form's out-of-line paths: the filter test inline, so
    /// an id in an empty bucket costs no call.
    #[inline]
    pub(super) fn find_long(&self, order_id: &Uuid) -> Option<StopRef> {
        if self.ids.is_empty() || !marked(&self.filter, order_id) {
            return None;
        }
        self.ids.get(order_id).copied().map(StopRef)
    }

    /// [`Self::find`] with stops parked: the filter test and the hash lookup, out of line
    /// so a plain add's inlined path does not carry them.
    #[inline(never)]
    fn find_parked(&self, order_id: &Uuid) -> Option<StopRef> {
        if !marked(&self.filter, order_id) {
            return None;
        }
        self.ids.get(order_id).copied().map(StopRef)
    }

    /// Whether the `ready` entry (`accepted`, `slot`) still stands for a parked stop.
    #[inline]
    fn live(&self, accepted: u64, slot: u32) -> bool {
        self.entries[slot as usize].accepted == accepted
    }

    /// Whether the trigger-heap entry (`generation`, `slot`) still stands for a parked
    /// stop: the slot holds a stop, parked with that generation.
    #[inline]
    fn live_gen(&self, generation: u32, slot: u32) -> bool {
        let e = &self.entries[slot as usize];
        e.accepted != FREE && e.generation == generation
    }

    /// Parks `order` (a stop kind, its trigger set) under acceptance number `accepted`.
    pub(super) fn park(&mut self, accepted: u64, order: Order) {
        let trigger = order.trigger().expect("a parked order is a stop");
        if self.next_gen == u32::MAX {
            self.renumber();
        }
        let generation = self.next_gen;
        self.next_gen += 1;
        let entry = Entry {
            order,
            accepted,
            trigger,
            generation,
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
        self.push_waiting(order.side, trigger, generation, slot);
    }

    /// Puts a parked stop in its side's trigger heap.
    #[inline]
    fn push_waiting(&mut self, side: Side, trigger: Price, generation: u32, slot: u32) {
        let key = keyed(trigger, generation, slot);
        match side {
            Side::Buy => self.buys.push(Reverse(key)),
            Side::Sell => self.sells.push(key),
        }
    }

    /// Gives the parked stops generations from 0 (before the counter wraps) and rebuilds
    /// the heaps with them.
    #[cold]
    fn renumber(&mut self) {
        let mut generation = 0;
        for e in &mut self.entries {
            if e.accepted != FREE {
                e.generation = generation;
                generation += 1;
            }
        }
        self.next_gen = generation;
        self.rebuild();
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
        let order = self.release(stop.0);
        // Its heap entry stays behind until it comes to a top or the heaps are rebuilt.
        self.stale += 1;
        if self.stale > 2 * self.ids.len() + 64 {
            self.rebuild();
        }
        order
    }

    /// Rebuilds the heaps from the parked stops, dropping the entries of stops that left.
    fn rebuild(&mut self) {
        self.buys.clear();
        self.sells.clear();
        self.ready.clear();
        self.stale = 0;
        for slot in 0..self.entries.len() as u32 {
            let e = self.entries[slot as usize];
            if e.accepted != FREE {
                self.push_waiting(e.order.side, e.trigger, e.generation, slot);
            }
        }
    }

    /// Whether a stop may fire at last trade price `last`: one is a candidate already,
    /// or a trigger heap's top holds (a cancelled stop's entry may answer yes; none that
    /// holds answers no).
    #[inline]
    pub(super) fn may_fire(&self, last: Option<Price>) -> bool {
        let Some(last) = last else {
            return false;
        };
        !self.ready.is_empty()
            || self.buys.peek().is_some_and(|&Reverse(k)| k <= upper(last))
            || self.sells.peek().is_some_and(|&k| k >= lower(last))
    }

    /// Takes out the earliest-accepted stop whose condition `last` holds (a buy stop with
    /// trigger <= `last`, a sell stop with trigger >= `last`) and returns it with its
    /// acceptance number.
    pub(super) fn pop_triggered(&mut self, last: Price) -> Option<(u64, Order)> {
        let buy_fires = self.buys.peek().is_some_and(|&Reverse(k)| k <= upper(last));
        let sell_fires = self.sells.peek().is_some_and(|&k| k >= lower(last));
        if !buy_fires && !sell_fires && self.ready.is_empty() {
            return None;
        }
        self.pop_triggered_slow(last)
    }

    /// [`Self::pop_triggered`] once a trigger heap's top fires or candidates wait.
    #[inline(never)]
    fn pop_triggered_slow(&mut self, last: Price) -> Option<(u64, Order)> {
        if self.ready.is_empty()
            && let Some(only) = self.only_candidate(last)
        {
            return Some(only);
        }
        while let Some(&Reverse(key)) = self.buys.peek() {
            if key > upper(last) {
                break;
            }
            self.buys.pop();
            let (generation, slot) = unkeyed(key);
            if self.live_gen(generation, slot) {
                let accepted = self.entries[slot as usize].accepted;
                self.ready.push(Reverse(ready_key(accepted, slot)));
            } else {
                self.stale -= 1;
            }
        }
        while let Some(&key) = self.sells.peek() {
            if key < lower(last) {
                break;
            }
            self.sells.pop();
            let (generation, slot) = unkeyed(key);
            if self.live_gen(generation, slot) {
                let accepted = self.entries[slot as usize].accepted;
                self.ready.push(Reverse(ready_key(accepted, slot)));
            } else {
                self.stale -= 1;
            }
        }
        while let Some(Reverse(key)) = self.ready.pop() {
            let (accepted, slot) = ((key >> 32) as u64, key as u32);
            if !self.live(accepted, slot) {
                self.stale -= 1;
                continue;
            }
            let e = self.entries[slot as usize];
            if holds(e.order.side, e.trigger, last) {
                return Some((accepted, self.release(slot)));
            }
            // The price moved back: it waits on its trigger again.
            self.push_waiting(e.order.side, e.trigger, e.generation, slot);
        }
        None
    }

    /// With no candidate waiting: when exactly one trigger heap's top holds and it is
    /// live, and the entry under it does not hold, that stop is the only candidate; it is
    /// taken out without passing through `ready`.
    fn only_candidate(&mut self, last: Price) -> Option<(u64, Order)> {
        let buy = self.buys.peek().is_some_and(|&Reverse(k)| k <= upper(last));
        let sell = self.sells.peek().is_some_and(|&k| k >= lower(last));
        let key = match (buy, sell) {
            (true, false) => {
                let Reverse(key) = self.buys.pop()?;
                if self.buys.peek().is_some_and(|&Reverse(k)| k <= upper(last)) {
                    self.buys.push(Reverse(key));
                    return None;
                }
                key
            }
            (false, true) => {
                let key = self.sells.pop()?;
                if self.sells.peek().is_some_and(|&k| k >= lower(last)) {
                    self.sells.push(key);
                    return None;
                }
                key
            }
            _ => return None,
        };
        let (generation, slot) = unkeyed(key);
        if self.live_gen(generation, slot) {
            let accepted = self.entries[slot as usize].accepted;
            Some((accepted, self.release(slot)))
        } else {
            // A cancelled stop's entry: dropped; the general path looks further.
            self.stale -= 1;
            None
        }
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
    fn cancels_leave_no_stale_entry_that_fires_and_the_heaps_stay_bounded() {
        let i = Uuid::from_u128(1);
        let mut stops = Stops::default();
        for n in 0..1_000u64 {
            let id = Uuid::from_u128(u128::from(n) + 10);
            stops.park(n, Order::stop(id, i, Side::Buy, 100 + n as i64, 1));
            let found = stops.find(&id).expect("parked");
            stops.remove(found);
        }
        stops.park(5_000, Order::stop(Uuid::from_u128(2), i, Side::Sell, 50, 1));
        assert!(stops.buys.len() + stops.sells.len() + stops.ready.len() <= 2 + 64 + 1);
        assert_eq!(fire(&mut stops, 2_000), None);
        assert_eq!(fire(&mut stops, 50), Some(5_000));
        // A slot reused by a new stop does not revive the old entry.
        assert_eq!(stops.entries.len(), 1);
    }
}
