//! Parked stop orders (long form): outside the slab, the index and the ladders.
//!
//! A stop is kept under its acceptance number (activation goes earliest accepted first,
//! snapshots list stops in that order) and in its side's trigger set, ordered by trigger:
//! a buy stop fires when the last trade price reaches its trigger from below, so the buys
//! whose trigger is at or below the price are the candidates; sells mirror this. A book
//! without stops pays one length test after an op that traded.

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::HashMap;

use uuid::Uuid;

use crate::types::{Order, Price, Side};

/// The parked stops of one book.
#[derive(Clone, Debug)]
pub(super) struct Stops {
    /// Every parked stop by acceptance number.
    by_accept: BTreeMap<u64, Order>,
    /// Acceptance numbers by order id: duplicate checks, cancels and modifies.
    ids: HashMap<Uuid, u64, foldhash::fast::RandomState>,
    /// Buy stops by (trigger, acceptance number).
    buys: BTreeSet<(Price, u64)>,
    /// Sell stops by (trigger, acceptance number).
    sells: BTreeSet<(Price, u64)>,
    /// The lowest buy trigger and the highest sell trigger (the nearest to fire), so a
    /// trade far from every trigger costs two compares.
    nearest: (Price, Price),
}

impl Default for Stops {
    fn default() -> Stops {
        Stops {
            by_accept: BTreeMap::new(),
            ids: HashMap::default(),
            buys: BTreeSet::new(),
            sells: BTreeSet::new(),
            nearest: (Price::MAX, Price::MIN),
        }
    }
}

impl Stops {
    /// How many stops are parked.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.by_accept.len()
    }

    /// Whether none is parked.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.by_accept.is_empty()
    }

    /// The acceptance number of the parked stop `order_id`, if it is parked.
    #[inline]
    pub(super) fn find(&self, order_id: &Uuid) -> Option<u64> {
        if self.by_accept.is_empty() {
            return None;
        }
        self.find_parked(order_id)
    }

    /// [`Self::find`] with stops parked: the hash lookup, out of line so a plain add's
    /// inlined path does not carry it.
    #[inline(never)]
    fn find_parked(&self, order_id: &Uuid) -> Option<u64> {
        self.ids.get(order_id).copied()
    }

    /// Parks `order` (a stop kind, its trigger set) under acceptance number `accepted`.
    pub(super) fn park(&mut self, accepted: u64, order: Order) {
        let trigger = order.trigger().expect("a parked order is a stop");
        match order.side {
            Side::Buy => self.buys.insert((trigger, accepted)),
            Side::Sell => self.sells.insert((trigger, accepted)),
        };
        self.ids.insert(order.order_id, accepted);
        self.by_accept.insert(accepted, order);
        match order.side {
            Side::Buy => self.nearest.0 = self.nearest.0.min(trigger),
            Side::Sell => self.nearest.1 = self.nearest.1.max(trigger),
        }
    }

    /// Recomputes the nearest triggers.
    fn update_nearest(&mut self) {
        self.nearest = (
            self.buys.first().map_or(Price::MAX, |&(t, _)| t),
            self.sells.last().map_or(Price::MIN, |&(t, _)| t),
        );
    }

    /// Takes the stop with acceptance number `accepted` out.
    pub(super) fn remove(&mut self, accepted: u64) -> Order {
        let order = self
            .by_accept
            .remove(&accepted)
            .expect("a parked stop's acceptance number");
        let trigger = order.trigger().expect("a parked order is a stop");
        match order.side {
            Side::Buy => self.buys.remove(&(trigger, accepted)),
            Side::Sell => self.sells.remove(&(trigger, accepted)),
        };
        self.ids.remove(&order.order_id);
        // Only the removal of a nearest trigger moves it.
        if trigger == self.nearest.0 || trigger == self.nearest.1 {
            self.update_nearest();
        }
        order
    }

    /// The acceptance number of the earliest-accepted stop whose condition `last` holds:
    /// a buy stop with trigger <= `last`, or a sell stop with trigger >= `last`.
    pub(super) fn next_triggered(&self, last: Price) -> Option<u64> {
        if last < self.nearest.0 && last > self.nearest.1 {
            return None;
        }
        let buy = self
            .buys
            .range(..=(last, u64::MAX))
            .map(|&(_, accepted)| accepted)
            .min();
        let sell = self
            .sells
            .range((last, 0)..)
            .map(|&(_, accepted)| accepted)
            .min();
        match (buy, sell) {
            (Some(b), Some(s)) => Some(b.min(s)),
            (b, s) => b.or(s),
        }
    }

    /// Every parked stop with its acceptance number, in acceptance order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Order)> {
        self.by_accept
            .iter()
            .map(|(&accepted, order)| (accepted, order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(stops.next_triggered(98), None);
        assert_eq!(stops.next_triggered(99), Some(3));
        assert_eq!(stops.next_triggered(100), Some(3));
        assert_eq!(stops.next_triggered(97), Some(1));
        assert_eq!(stops.next_triggered(95), Some(1));
        let order = stops.remove(1);
        assert_eq!(order.order_id, Uuid::from_u128(4));
        assert_eq!(stops.next_triggered(95), Some(4));
        assert_eq!(stops.find(&Uuid::from_u128(4)), None);
        assert_eq!(stops.find(&Uuid::from_u128(1)), Some(5));
        assert_eq!(stops.len(), 3);
        assert_eq!(
            stops.iter().map(|(a, _)| a).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
    }
}
