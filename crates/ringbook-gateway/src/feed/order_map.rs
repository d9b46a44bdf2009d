//! The mirror's resting orders by id: an open-addressed table with linear probing, at
//! most half full, keyed by the order id as a `u128` and hashed by one seeded folded
//! multiply of its two halves (seeds drawn per table, so ids cannot be chosen to collide
//! without knowing them). A removal shifts the following cells of its run back (no
//! tombstones), so lookups stay short however many orders come and go. A lookup is a
//! multiply and usually one compare on one cache line; a general hash map spent about
//! three times the instructions on its hashing and group probing.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use ringbook::Side;

use super::mirror::Resting;

/// The smallest table, in cells.
const MIN_CELLS: usize = 16;

/// One cell: a key, its value and its home cell, or [`EMPTY`] as the home.
#[derive(Clone, Copy, Debug)]
struct Cell {
    key: u128,
    value: Resting,
    /// The cell the key hashes to (kept, so a removal's shift reads it, not the hash).
    home: u32,
}

/// The home of an empty cell.
const EMPTY: u32 = u32::MAX;

/// Resting orders by id.
#[derive(Debug)]
pub(crate) struct OrderMap {
    /// A power of two of cells (none until the first insert).
    cells: Vec<Cell>,
    /// How many cells are used.
    len: usize,
    /// `64 - log2(cells.len())`: the hash's top bits index the table.
    shift: u32,
    /// The hash's seeds.
    seeds: [u64; 2],
}

impl Default for OrderMap {
    fn default() -> OrderMap {
        let state = RandomState::new();
        OrderMap {
            cells: Vec::new(),
            len: 0,
            shift: 64,
            seeds: [state.hash_one(0x5eed_u64), state.hash_one(0xfeed_u64) | 1],
        }
    }
}

/// The 64-bit fold of a full product.
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

impl OrderMap {
    /// The home cell of `key`.
    #[inline(always)]
    fn home(&self, key: u128) -> usize {
        let h = folded_multiply(
            key as u64 ^ self.seeds[0],
            (key >> 64) as u64 ^ self.seeds[1],
        );
        // Fibonacci hashing: the product's top bits are well mixed.
        (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The cell holding `key`, if any.
    #[inline]
    pub(crate) fn find(&self, key: u128) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.cells.len() - 1;
        let mut i = self.home(key);
        loop {
            let cell = &self.cells[i];
            if cell.home == EMPTY {
                return None;
            }
            if cell.key == key {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The value in cell `index` (from [`Self::find`]).
    #[inline]
    pub(crate) fn at_mut(&mut self, index: usize) -> &mut Resting {
        &mut self.cells[index].value
    }

    /// The value of `key`, to update in place.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: u128) -> Option<&mut Resting> {
        let i = self.find(key)?;
        Some(&mut self.cells[i].value)
    }

    /// Sets the value of `key` (replacing any), returning the old one.
    #[inline]
    pub(crate) fn insert(&mut self, key: u128, value: Resting) -> Option<Resting> {
        if (self.len + 1) * 2 > self.cells.len() {
            self.grow();
        }
        let mask = self.cells.len() - 1;
        let home = self.home(key);
        let mut i = home;
        loop {
            let cell = &mut self.cells[i];
            if cell.home == EMPTY {
                *cell = Cell {
                    key,
                    value,
                    // At most 2^31 cells: the table doubles from 16 and stays half empty.
                    home: home as u32,
                };
                self.len += 1;
                return None;
            }
            if cell.key == key {
                return Some(std::mem::replace(&mut cell.value, value));
            }
            i = (i + 1) & mask;
        }
    }

    /// Takes the value of `key` out.
    #[inline]
    pub(crate) fn remove(&mut self, key: u128) -> Option<Resting> {
        let i = self.find(key)?;
        Some(self.remove_at(i))
    }

    /// Takes the value in cell `index` (from [`Self::find`]) out, shifting back the cells
    /// after it in its run that may sit at or before it.
    #[inline]
    pub(crate) fn remove_at(&mut self, index: usize) -> Resting {
        let mask = self.cells.len() - 1;
        let value = self.cells[index].value;
        self.cells[index].home = EMPTY;
        self.len -= 1;
        let mut hole = index;
        let mut j = index;
        loop {
            j = (j + 1) & mask;
            let home = self.cells[j].home;
            if home == EMPTY {
                return value;
            }
            let home = home as usize;
            // The cell may fill the hole when its home is not in (hole, j], cyclically.
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.cells[hole] = self.cells[j];
                self.cells[j].home = EMPTY;
                hole = j;
            }
        }
    }

    /// Doubles the table (or makes the first), placing every entry again.
    #[cold]
    fn grow(&mut self) {
        let size = (self.cells.len() * 2).max(MIN_CELLS);
        let empty = Cell {
            key: 0,
            value: Resting {
                order_ref: 0,
                side: Side::Buy,
                price: 0,
                shown: 0,
                display: None,
            },
            home: EMPTY,
        };
        let old = std::mem::replace(&mut self.cells, vec![empty; size]);
        self.shift = 64 - size.trailing_zeros();
        self.len = 0;
        for cell in old.into_iter().filter(|c| c.home != EMPTY) {
            self.insert(cell.key, cell.value);
        }
    }

    /// How many entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every value, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Resting> {
        self.cells
            .iter()
            .filter(|c| c.home != EMPTY)
            .map(|c| &c.value)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn value(order_ref: u64) -> Resting {
        Resting {
            order_ref,
            side: Side::Buy,
            price: 1,
            shown: 1,
            display: None,
        }
    }

    /// Keys of several shapes: sequential, differing only in the high half, equal halves,
    /// zero, and pseudo-random.
    fn key(x: u64, shape: u64) -> u128 {
        match shape % 5 {
            0 => u128::from(x % 512),
            1 => u128::from(x % 512) << 64,
            2 => (u128::from(x % 512) << 64) | u128::from(x % 512),
            3 => 0,
            _ => u128::from(x).wrapping_mul(0x2545_F491_4F6C_DD1D_0000_0000_0000_0001),
        }
    }

    #[test]
    fn follows_a_reference_map_through_inserts_replacements_and_removals() {
        let mut map = OrderMap::default();
        let mut model: HashMap<u128, Resting> = HashMap::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for step in 0..60_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = key(x >> 8, x);
            // Mostly inserts early, mostly removals late: the table grows and empties.
            let insert = (x >> 40) % 100 < if step < 30_000 { 65 } else { 35 };
            if insert {
                assert_eq!(map.insert(k, value(step)), model.insert(k, value(step)));
            } else {
                assert_eq!(map.remove(k), model.remove(&k), "step {step}");
            }
            assert_eq!(map.len(), model.len());
            let probe = key(x >> 16, x >> 3);
            assert_eq!(map.get_mut(probe).copied(), model.get(&probe).copied());
        }
        for (k, v) in &model {
            assert_eq!(map.get_mut(*k).copied(), Some(*v));
        }
        let mut refs: Vec<u64> = map.values().map(|v| v.order_ref).collect();
        let mut expected: Vec<u64> = model.values().map(|v| v.order_ref).collect();
        refs.sort_unstable();
        expected.sort_unstable();
        assert_eq!(refs, expected);
        for k in model.keys() {
            assert!(map.remove(*k).is_some());
        }
        assert_eq!((map.len(), map.values().count()), (0, 0));
    }

    #[test]
    fn a_removal_keeps_every_other_key_of_a_wrapping_run_reachable() {
        let mut map = OrderMap::default();
        // Fill past the first growth, then remove from the middle of runs, every key
        // checked after each removal.
        let keys: Vec<u128> = (0..200u128).map(|i| i << 64 | i).collect();
        for (i, &k) in keys.iter().enumerate() {
            map.insert(k, value(i as u64));
        }
        for (i, &k) in keys.iter().enumerate().step_by(3) {
            assert_eq!(map.remove(k).map(|v| v.order_ref), Some(i as u64));
            assert_eq!(map.remove(k), None, "removed once");
            for (j, &other) in keys.iter().enumerate() {
                let gone = j % 3 == 0 && j <= i;
                assert_eq!(
                    map.find(other).is_none(),
                    gone,
                    "key {j} after removing {i}"
                );
            }
        }
    }
}
