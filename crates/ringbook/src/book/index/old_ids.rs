//! The ids the window left behind while their orders still rested, in increasing order.
//!
//! A slide visits the cells it leaves in id order, so the ids it moves out arrive each
//! larger than the last: appending them to a sorted list costs a store, where a hash
//! table insert hashed the id, probed, and now and then rehashed the whole table (on a
//! deep book whose orders rest for good, about 6 instructions a message at 1,000,000
//! orders). They are looked up rarely (an order the window left is seldom cancelled), by
//! bisection. An entry packs the id's offset from the list's first id (32 bits) with its
//! slot (32 bits): 8 bytes, no hash, no control byte. A taken id leaves its offset with
//! the slot [`NIL`], so the list stays sorted; it is compacted once half of it is taken.
//! Ids that do not fit (below the last one appended, or more than 2^32 past the first)
//! are refused and go to the table.

use super::NIL;
use super::blocks::Block;

/// Entries a list holds before it compacts at all (a few taken entries are cheaper kept
/// than copied over).
const MIN_COMPACT: usize = 64;

/// Sorted ids and their slots (see the module doc).
#[derive(Clone, Debug, Default)]
pub(super) struct OldIds {
    /// `(id - base) << 32 | slot`, increasing; a taken entry's slot is [`NIL`].
    entries: Vec<u64>,
    /// The id entries count from: the first entry's, or below it after a slide's run
    /// (see [`Self::open_run`]; meaningful while `entries` is not empty).
    base: u128,
    /// One past the largest id appended (0: none since the list was last empty).
    end: u128,
    /// Entries not taken.
    live: usize,
    /// Where the last take was (a sweep's makers, and a level's cancels, come in id
    /// order: the next is usually a few entries on).
    finger: usize,
}

impl OldIds {
    /// One past the largest id the list holds or held since it was last empty (0: none):
    /// no id at or above it is in the list.
    #[inline]
    pub(super) fn end(&self) -> u128 {
        self.end
    }

    /// How many ids the list holds.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.live
    }

    /// Appends `raw` at `slot` if it is larger than every id appended since the list was
    /// last empty and within 2^32 of its first id; `false` (nothing changed) otherwise.
    #[inline]
    pub(super) fn push(&mut self, raw: u128, slot: u32) -> bool {
        if raw == u128::MAX {
            // One past it does not fit in `end`.
            return false;
        }
        if self.entries.is_empty() {
            self.base = raw;
        } else if raw < self.end {
            return false;
        }
        let Ok(key) = u32::try_from(raw - self.base) else {
            return false;
        };
        self.entries.push(u64::from(key) << 32 | u64::from(slot));
        self.end = raw + 1;
        self.live += 1;
        true
    }

    /// Readies the list for a slide's run of consecutive ids `first..=last` (a window of
    /// exact cells leaving them): if every one of them may be appended (each past the last
    /// appended, the run's last within 2^32 of the entries' base, which is `first` on an
    /// empty list), the key of `first`, for [`Self::append_block`]; else `None` (nothing
    /// changed), and the slide pushes its ids one at a time. The checks are made once a
    /// slide, not once an id (about 35 instructions an id on the static regime, whose deep
    /// book leaves many behind).
    #[inline]
    pub(super) fn open_run(&mut self, first: u128, last: u128) -> Option<u64> {
        debug_assert!(first <= last && last != u128::MAX);
        if self.entries.is_empty() {
            self.base = first;
        } else if first < self.end {
            return None;
        }
        u32::try_from(last - self.base).ok()?;
        Some((first - self.base) as u64)
    }

    /// Appends the ids of keys `lo + i` for the bits `i` of `live` (not 0) at the slots
    /// `cells[i]`, within a run [`Self::open_run`] allowed; returns how many and the last
    /// one's key, for [`Self::close_run`].
    #[inline(always)]
    pub(super) fn append_block(&mut self, lo: u64, mut live: u32, cells: &Block) -> (usize, u64) {
        debug_assert_ne!(live, 0, "a block with no id to append");
        let mut n = 0;
        let mut key = lo;
        while live != 0 {
            let i = live.trailing_zeros();
            live &= live - 1;
            key = lo + u64::from(i);
            self.entries.push(key << 32 | u64::from(cells[i as usize]));
            n += 1;
        }
        self.live += n;
        (n, key)
    }

    /// Ends a run whose last id appended had the key `last`.
    #[inline]
    pub(super) fn close_run(&mut self, last: u64) {
        self.end = self.base + u128::from(last) + 1;
    }

    /// The position of `raw`'s entry, if the list has one (taken or not), by bisection.
    /// (A search starting where `raw` would be if the ids were evenly spread, galloping
    /// from there, took more instructions on the market regimes: they are not.)
    #[inline]
    fn position(&self, raw: u128) -> Option<usize> {
        if raw >= self.end || raw < self.base || self.entries.is_empty() {
            return None;
        }
        let key = u64::from(u32::try_from(raw - self.base).ok()?);
        let at = self.entries.partition_point(|&e| (e >> 32) < key);
        (self.entries.get(at).is_some_and(|&e| e >> 32 == key)).then_some(at)
    }

    /// [`Self::position`], galloping from the last take's position to a bisection of
    /// the stretch it brackets.
    #[inline]
    fn position_near(&self, raw: u128) -> Option<usize> {
        if raw >= self.end || raw < self.base {
            return None;
        }
        let key = u64::from(u32::try_from(raw - self.base).ok()?);
        let entries = &self.entries;
        let last = entries.len().checked_sub(1)?;
        let guess = self.finger.min(last);
        let at_guess = entries[guess] >> 32;
        if at_guess == key {
            // The entry after the last take (a sweep's next maker, a level's next cancel).
            return Some(guess);
        }
        let (lo, hi) = if at_guess < key {
            // Forward: every entry before `lo` is below `key`.
            let mut step = 1;
            let mut lo = guess + 1;
            while lo + step <= last && (entries[lo + step - 1] >> 32) < key {
                lo += step;
                step *= 2;
            }
            (lo, (lo + step).min(last + 1))
        } else {
            // Backward: the entry at `hi` is at or above `key`.
            let mut step = 1;
            let mut hi = guess;
            while hi >= step && (entries[hi - step] >> 32) >= key {
                hi -= step;
                step *= 2;
            }
            (hi.saturating_sub(step), hi + 1)
        };
        let at = lo + entries[lo..hi].partition_point(|&e| (e >> 32) < key);
        (entries.get(at).is_some_and(|&e| e >> 32 == key)).then_some(at)
    }

    /// The slot of `raw`, if the list holds it.
    #[inline]
    pub(super) fn find(&self, raw: u128) -> Option<u32> {
        let slot = self.entries[self.position(raw)?] as u32;
        (slot != NIL).then_some(slot)
    }

    /// Drops `raw` from the list and returns its slot, if the list holds it.
    #[inline]
    pub(super) fn take(&mut self, raw: u128) -> Option<u32> {
        let at = self.position_near(raw)?;
        let slot = self.entries[at] as u32;
        if slot == NIL {
            return None;
        }
        self.take_at(at);
        Some(slot)
    }

    /// Drops `raw` from the list if the list holds it at `slot`; whether it did.
    #[inline]
    pub(super) fn remove(&mut self, raw: u128, slot: u32) -> bool {
        match self.position_near(raw) {
            Some(at) if self.entries[at] as u32 == slot => {
                self.take_at(at);
                true
            }
            _ => false,
        }
    }

    /// Marks the live entry at `at` taken (compacting the list once half of it is).
    #[inline]
    fn take_at(&mut self, at: usize) {
        self.entries[at] |= u64::from(NIL);
        self.finger = at + 1;
        self.live -= 1;
        if self.live * 2 < self.entries.len() && self.entries.len() >= MIN_COMPACT || self.live == 0
        {
            self.compact();
        }
    }

    /// Drops the taken entries, and counts offsets from the first id left (so the list
    /// takes ids up to 2^32 past it). Empties the list, `end` included, when none is left.
    #[cold]
    fn compact(&mut self) {
        self.entries.retain(|&e| e as u32 != NIL);
        self.finger = 0;
        let Some(&first) = self.entries.first() else {
            self.base = 0;
            self.end = 0;
            return;
        };
        let shift = first >> 32;
        self.base += u128::from(shift);
        for entry in &mut self.entries {
            *entry -= shift << 32;
        }
    }

    /// The slots the list holds, in id order.
    pub(super) fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries
            .iter()
            .map(|&e| e as u32)
            .filter(|&slot| slot != NIL)
    }

    /// The ids the list holds with their slots, in id order.
    pub(super) fn ids(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        self.entries
            .iter()
            .filter(|&&e| e as u32 != NIL)
            .map(|&e| (self.base + u128::from(e >> 32), e as u32))
    }

    /// Checks that the entries are increasing, below `end`, and counted: returns what
    /// disagrees.
    pub(super) fn check(&self) -> Result<(), String> {
        let keys = self.entries.iter().map(|&e| e >> 32);
        if keys.clone().zip(keys.skip(1)).any(|(a, b)| a >= b) {
            return Err("the old ids are not increasing".to_owned());
        }
        if let Some(&last) = self.entries.last()
            && self.base + u128::from(last >> 32) >= self.end
        {
            return Err(format!(
                "old id {} at or past the list's end {}",
                self.base + u128::from(last >> 32),
                self.end
            ));
        }
        let live = self.slots().count();
        if live != self.live {
            return Err(format!(
                "the old ids count {} entries, hold {live}",
                self.live
            ));
        }
        Ok(())
    }

    /// Bytes the list holds on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increasing_ids_are_found_taken_once_and_compacted() {
        let mut old = OldIds::default();
        for k in 0..200u32 {
            assert!(old.push(1_000 + 3 * u128::from(k), k));
        }
        assert_eq!(old.len(), 200);
        assert_eq!(old.find(1_003), Some(1));
        assert_eq!(old.find(1_004), None, "between two ids");
        assert_eq!(old.find(999), None, "below the first");
        assert_eq!(old.find(1_600), None, "past the last");
        for k in 0..150u32 {
            assert_eq!(old.take(1_000 + 3 * u128::from(k)), Some(k));
            assert_eq!(old.take(1_000 + 3 * u128::from(k)), None, "taken twice");
        }
        old.check().unwrap();
        assert_eq!(old.len(), 50);
        // Compacted: the 150 taken entries are gone, the rest are found as before.
        assert!(
            old.entries.len() < 100,
            "{} entries kept",
            old.entries.len()
        );
        for k in 150..200u32 {
            assert_eq!(old.find(1_000 + 3 * u128::from(k)), Some(k));
        }
        assert_eq!(
            old.slots().collect::<Vec<_>>(),
            (150..200).collect::<Vec<_>>()
        );
    }

    /// Ids far from evenly spread (squares: dense at the start, sparse at the end) are
    /// all found, and the ids between them are not: the search's first guess is off, by
    /// many entries either way.
    #[test]
    fn unevenly_spread_ids_are_found_from_a_wrong_guess() {
        let mut old = OldIds::default();
        for k in 0..600u32 {
            assert!(old.push(7 + u128::from(k) * u128::from(k), k));
        }
        for k in 0..600u32 {
            let id = 7 + u128::from(k) * u128::from(k);
            assert_eq!(old.find(id), Some(k), "id {id}");
            if k > 1 {
                assert_eq!(old.find(id - 1), None, "id {}", id - 1);
                assert_eq!(old.find(id + 1), None, "id {}", id + 1);
            }
        }
        assert_eq!(old.find(6), None);
        for k in (0..600u32).step_by(3) {
            assert!(old.remove(7 + u128::from(k) * u128::from(k), k));
        }
        assert!(!old.remove(7 + 4, 9), "the right id at another slot");
        for k in 0..600u32 {
            let found = old.find(7 + u128::from(k) * u128::from(k));
            assert_eq!(found, (k % 3 != 0).then_some(k), "id of {k}");
        }
        old.check().unwrap();
        // Taken from the last down (each search starts past the one before: backwards),
        // with a live id below them still found.
        for k in (0..600u32).rev().filter(|k| k % 3 != 0) {
            let id = 7 + u128::from(k) * u128::from(k);
            assert_eq!(old.take(id), Some(k), "id {id}");
            assert_eq!(old.take(id), None, "id {id} taken twice");
            if k > 301 {
                assert_eq!(old.find(7 + 301 * 301), Some(301), "after taking {id}");
            }
        }
        assert_eq!(old.len(), 0);
        assert_eq!(old.take(7 + 301 * 301), None);
        old.check().unwrap();
    }

    /// A slide's run: blocks appended with one check for the run, counted from the run's
    /// first id (below the first entry's), found, taken and compacted like pushed ids; a
    /// run that starts below the last id appended, or ends 2^32 or more past the base, is
    /// refused whole.
    #[test]
    fn a_run_of_blocks_is_appended_at_once_and_found_as_pushed_ids() {
        let mut old = OldIds::default();
        let lo = old
            .open_run(1_000, 1_063)
            .expect("an empty list takes any run");
        assert_eq!(lo, 0);
        let mut cells = [NIL; 16];
        cells[3] = 30;
        cells[15] = 31;
        assert_eq!(old.append_block(lo, 1 << 3 | 1 << 15, &cells), (2, 15));
        let mut cells = [NIL; 16];
        cells[0] = 40;
        cells[9] = 41;
        assert_eq!(old.append_block(lo + 32, 1 | 1 << 9, &cells), (2, 41));
        old.close_run(41);
        assert_eq!((old.len(), old.end()), (4, 1_042));
        old.check().unwrap();
        let found = [1_003, 1_015, 1_032, 1_041].map(|id| old.find(id));
        assert_eq!(found, [Some(30), Some(31), Some(40), Some(41)]);
        assert_eq!(old.find(1_000), None, "the run's first id, empty");
        assert_eq!(old.find(1_016), None);
        assert_eq!(
            old.open_run(1_040, 1_103),
            None,
            "below the last id appended"
        );
        assert_eq!(
            old.open_run(1_000 + (1 << 32), 1_063 + (1 << 32)),
            None,
            "past 2^32"
        );
        assert_eq!(old.len(), 4, "a refused run changes nothing");
        assert!(old.push(1_050, 50), "one at a time after the run");
        let lo = old.open_run(1_064, 1_127).expect("past the last id");
        assert_eq!(lo, 64);
        let mut cells = [NIL; 16];
        cells[1] = 65;
        assert_eq!(old.append_block(lo, 1 << 1, &cells), (1, 65));
        old.close_run(65);
        old.check().unwrap();
        assert_eq!(old.take(1_003), Some(30));
        assert_eq!(old.take(1_015), Some(31));
        assert_eq!(old.take(1_032), Some(40));
        // The ids left are found among the taken entries (a list this small compacts
        // only once emptied).
        assert_eq!(old.find(1_041), Some(41));
        assert_eq!(old.find(1_050), Some(50));
        assert_eq!(old.find(1_065), Some(65));
        assert_eq!(old.take(1_041), Some(41));
        assert_eq!(old.take(1_050), Some(50));
        assert_eq!(old.take(1_065), Some(65));
        assert_eq!((old.len(), old.end()), (0, 0));
        old.check().unwrap();
    }

    #[test]
    fn ids_out_of_order_or_too_far_are_refused() {
        let mut old = OldIds::default();
        assert!(old.push(10, 0));
        assert!(!old.push(10, 1), "the same id again");
        assert!(!old.push(5, 1), "below the last");
        assert!(!old.push(10 + (1 << 32), 1), "past 2^32 from the first");
        assert!(old.push(11 + u128::from(u32::MAX) - 1, 1));
        assert_eq!(old.len(), 2);
        assert_eq!(old.end(), 10 + (1 << 32));
        old.check().unwrap();
    }

    #[test]
    fn an_emptied_list_starts_again_anywhere() {
        let mut old = OldIds::default();
        assert!(old.push(u128::MAX - 10, 7));
        assert_eq!(old.take(u128::MAX - 10), Some(7));
        assert_eq!(old.end(), 0);
        assert_eq!(old.len(), 0);
        assert!(old.push(3, 8), "below the emptied list's old ids");
        assert_eq!(old.find(3), Some(8));
        assert_eq!(old.find(u128::MAX - 10), None);
        old.check().unwrap();
    }
}
