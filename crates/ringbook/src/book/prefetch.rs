//! Software prefetch of what a command will read in a book, a few commands before it is
//! applied (issue 21).
//!
//! With thousands of books every book is cold when its next command comes, and its misses
//! come one after another: the book's fields, then what they point to (the price level,
//! the free slot, the order's slot), then what that points to (a cancelled order's level
//! and queue neighbours). A caller that knows the next commands starts each stage's loads
//! for a command further ahead than the next stage's, so the misses of several commands are
//! in flight at once ([`Stage`]). Prefetching reads only what the earlier stages loaded,
//! through checked accesses, and changes nothing: events do not depend on it.

use super::OrderBook;
use super::shared_index::SharedIdIndex;
use super::slab::NIL;
use crate::command::Command;

/// Books per id index from which prefetching pays: with fewer, a thread's books stay in
/// its caches and the prefetches are only instructions (the first attempt cost 80 a
/// command at 8 books).
pub(crate) const PREFETCH_FROM_BOOKS: usize = 64;

/// The end of what a plain command reads of its book: the fields before the long form
/// and the long form's head (the book is `repr(C)`, see [`OrderBook`]).
const HOT_END: usize =
    std::mem::offset_of!(OrderBook, long) + super::long_form::LongForm::HOT_BYTES;

/// The cache lines of a book a plain command reads, which the [`Stage::Header`] stage
/// fetches: the first `HOT_LINES` (a book starts a line: it is aligned to 64).
pub(crate) const HOT_LINES: usize = {
    assert!(std::mem::align_of::<OrderBook>() == 64);
    HOT_END.div_ceil(64)
};

/// How far ahead of the command being applied each [`Stage`] runs, in commands.
pub(crate) const AHEAD: [usize; 3] = [12, 6, 3];

/// What to fetch of a command's book, in the order a command's misses depend on each
/// other: the stages a walk runs as [`Fetch`]'s methods, named here for the docs and for
/// the tests' record of a walk (`Staged::next`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Stage {
    /// The book's own fields and the id's cell in the shared index ([`AHEAD`]`[0]`
    /// commands ahead).
    Header,
    /// What the book's fields and the id cell point to: an add's level, its occupied
    /// word and the free slot; a cancel's or modify's slot ([`AHEAD`]`[1]` ahead).
    Contents,
    /// What a cancelled or modified order's slot points to: its level and its neighbours
    /// in the level's queue, and a modify's new level; an add's level's tail (the order
    /// it would rest behind) ([`AHEAD`]`[2]` ahead).
    Order,
}

impl Stage {
    /// The stages, furthest ahead first.
    #[cfg(test)]
    pub(crate) const ALL: [Stage; 3] = [Stage::Header, Stage::Contents, Stage::Order];
}

/// Starts loading the cache lines that hold `item`: the line of its first byte and, for an
/// item larger than its alignment (which may straddle two lines: a 48-byte order slot
/// does at every other index, a 24-byte level at two ticks in eight), the line of its last
/// (a hint: it never faults and changes nothing the program can see). An item of up to 64
/// bytes is then fetched whole; a larger one at its two ends.
#[inline(always)]
pub(crate) fn prefetch<T>(item: &T) {
    let first = std::ptr::from_ref(item).cast::<u8>();
    prefetch_address(first);
    if size_of::<T>() > align_of::<T>() {
        prefetch_address(first.wrapping_add(size_of::<T>() - 1));
    }
}

/// Starts loading the cache line of `address`, which is never read through.
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch_address(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing into the program, never faults (not
    // even on an unmapped address) and changes no state the program can see.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// The ring of items handed out next: longer than the furthest stage's distance.
const RING: usize = 16;

/// What a [`Staged`] walk fetches of an item at each [`Stage`], each stage a method of
/// its own (no stage to dispatch on at run time).
pub(crate) trait Fetch<T> {
    /// [`Stage::Header`] of `item`.
    fn header(&mut self, item: T);
    /// [`Stage::Contents`] of `item`: what it found that the item's [`Stage::Order`]
    /// needs (a cancel's slot), or `None`: then the item's order stage is skipped.
    fn contents(&mut self, item: T) -> Option<u32>;
    /// [`Stage::Order`] of `item`, with what its contents stage `found`.
    fn order(&mut self, item: T, found: u32);
}

/// A closure of an item and its stage as a [`Fetch`]: every stage of every item (the
/// tests' record of a walk).
#[cfg(test)]
struct ByStage<F>(F);

#[cfg(test)]
impl<T, F: FnMut(T, Stage)> Fetch<T> for ByStage<F> {
    #[inline(always)]
    fn header(&mut self, item: T) {
        (self.0)(item, Stage::Header);
    }

    #[inline(always)]
    fn contents(&mut self, item: T) -> Option<u32> {
        (self.0)(item, Stage::Contents);
        Some(0)
    }

    #[inline(always)]
    fn order(&mut self, item: T, _found: u32) {
        (self.0)(item, Stage::Order);
    }
}

/// `found` of an item whose contents stage found nothing (its order stage is skipped).
const NOTHING: u32 = u32::MAX;

/// The items pulled and not handed out yet, item `n` at `n % RING` (the other cells hold
/// stale copies), and what each item's contents stage found ([`NOTHING`]: none, its order
/// stage skipped).
struct Ring<T> {
    items: [T; RING],
    found: [u32; RING],
}

/// A walk over items in order that, as it hands out each item, starts each [`Stage`] of
/// the item [`AHEAD`]`[stage]` places further on ([`Staged::next_with`]): each stage of
/// each item once, furthest ahead first, before the item is handed out (the first items'
/// stages all come at the first call).
///
/// Switched off, it is the plain iterator: the caller keeps one loop, one call site for
/// what it does with each item (a second loop for the prefetching walk made the inliner
/// take the 8-book engine's command path out of line: 7% more instructions).
pub(crate) struct Staged<T, I> {
    items: I,
    /// Made at the first call when switched on, filled with the first item (not at every
    /// batch: at 8 books a batch is a few commands, and clearing the ring cost more than
    /// they do).
    ring: Option<Ring<T>>,
    /// The number of the next item to hand out.
    at: usize,
    /// How many items have been pulled: the ring holds the items `at..end`. Written at
    /// the first call and when `items` ends: until then it is `at` + [`AHEAD`]`[0]`.
    end: usize,
    on: bool,
    /// `items` has ended: it is not asked again.
    ended: bool,
}

impl<T: Copy, I: Iterator<Item = T>> Staged<T, I> {
    /// A walk over `items`, prefetching if `on`.
    #[inline(always)]
    pub(crate) fn new(items: I, on: bool) -> Staged<T, I> {
        Staged {
            items,
            ring: None,
            at: 0,
            end: 0,
            on,
            ended: false,
        }
    }

    /// The next item, if any (when switched on, the walk ends at the first item missing),
    /// after `fetch(item, stage)` for the items ahead: [`Self::next_with`] with every
    /// stage of every item.
    #[cfg(test)]
    pub(crate) fn next(&mut self, fetch: impl FnMut(T, Stage)) -> Option<T> {
        self.next_with(ByStage(fetch))
    }

    /// The next item, if any (when switched on, the walk ends at the first item missing),
    /// after `fetch`'s stages for the items ahead.
    ///
    /// While `items` goes on, the items ahead are all there (`end` is `at` +
    /// [`AHEAD`]`[0]`): the three stages come without a test; the tests are for the
    /// walk's last items. An item is known present by its number (below `end`), not by an
    /// `Option` in the ring: a loop over the stages and a ring of options cost about 20
    /// instructions a command (issue 21, callgrind, `many_books 10000`).
    #[inline(always)]
    pub(crate) fn next_with(&mut self, mut fetch: impl Fetch<T>) -> Option<T> {
        const { assert!(AHEAD[0] < RING && AHEAD[1] < AHEAD[0] && AHEAD[2] < AHEAD[1]) };
        if !self.on {
            return self.items.next();
        }
        let ring = match &mut self.ring {
            Some(ring) => ring,
            None => {
                let (ring, end) = prime(&mut self.items, &mut self.ended, &mut fetch)?;
                self.end = end;
                self.ring.insert(ring)
            }
        };
        let at = self.at;
        if !self.ended {
            if let Some(ahead) = self.items.next() {
                let item = ring.items[at % RING];
                ring.items[(at + AHEAD[0]) % RING] = ahead;
                self.at = at + 1;
                fetch.header(ahead);
                contents(ring, at + AHEAD[1], &mut fetch);
                order(ring, at + AHEAD[2], &mut fetch);
                return Some(item);
            }
            // Until `items` ends, `end` is `at` + AHEAD[0] (the ring full), not written.
            self.ended = true;
            self.end = at + AHEAD[0];
        }
        if at == self.end {
            return None;
        }
        self.at = at + 1;
        if at + AHEAD[1] < self.end {
            contents(ring, at + AHEAD[1], &mut fetch);
        }
        if at + AHEAD[2] < self.end {
            order(ring, at + AHEAD[2], &mut fetch);
        }
        Some(ring.items[at % RING])
    }
}

/// The contents stage of the ring's item number `n`, noting what it found.
#[inline(always)]
fn contents<T: Copy>(ring: &mut Ring<T>, n: usize, fetch: &mut impl Fetch<T>) {
    let at = n % RING;
    ring.found[at] = fetch.contents(ring.items[at]).unwrap_or(NOTHING);
}

/// The order stage of the ring's item number `n`, if its contents stage found something.
#[inline(always)]
fn order<T: Copy>(ring: &Ring<T>, n: usize, fetch: &mut impl Fetch<T>) {
    let at = n % RING;
    let found = ring.found[at];
    if found != NOTHING {
        fetch.order(ring.items[at], found);
    }
}

/// The ring of a [`Staged`] walk's first items and how many there are, each fetched at
/// the stages it will not get as the walk moves on; `None` if `items` has none.
#[inline(never)]
fn prime<T: Copy>(
    items: &mut impl Iterator<Item = T>,
    ended: &mut bool,
    fetch: &mut impl Fetch<T>,
) -> Option<(Ring<T>, usize)> {
    if *ended {
        return None;
    }
    let Some(first) = items.next() else {
        *ended = true;
        return None;
    };
    let mut ring = Ring {
        items: [first; RING],
        found: [NOTHING; RING],
    };
    let mut end = 1;
    while end < AHEAD[0] {
        match items.next() {
            Some(item) => ring.items[end] = item,
            None => {
                *ended = true;
                break;
            }
        }
        end += 1;
    }
    for at in 0..end {
        // Each item's stages in their order: the contents stage notes what the order
        // stage reads.
        fetch.header(ring.items[at]);
        if at < AHEAD[1] {
            contents(&mut ring, at, fetch);
        }
        if at < AHEAD[2] {
            order(&ring, at, fetch);
        }
    }
    Some((ring, end))
}

impl OrderBook {
    /// [`Stage::Header`]: the book's hot lines (4 of its 13; 7 of 14 before h-hdr boxed
    /// the ladders' outside stores, 10 before issue 21's hot and cold split: all but its
    /// own id index), not the long form's tables nor the own slab and id index; and the
    /// id's cell in the shared index.
    #[inline(always)]
    pub(crate) fn prefetch_header(&self, ids: &SharedIdIndex, command: &Command) {
        let first = std::ptr::from_ref(self).cast::<u8>();
        for line in 0..HOT_LINES {
            prefetch_address(first.wrapping_add(line * 64));
        }
        if let Some(id) = id_of(command) {
            ids.prefetch_cell(id);
        }
    }

    /// [`Stage::Contents`]: what the book's fields and the id's cell point to: an add's
    /// level, its occupied word and the free slot (or, for a price beyond the window, the
    /// box of the levels there); a cancel's or modify's slot, which it returns for
    /// [`Self::prefetch_order`]. `Some` (of no slot) for every add, whose order stage
    /// fetches the order it would rest behind; `None` for an id the cell does not hold.
    #[inline(always)]
    pub(crate) fn prefetch_contents(
        &self,
        ids: &SharedIdIndex,
        book: u32,
        command: &Command,
    ) -> Option<u32> {
        match command {
            Command::Add(order) => {
                self.ladder(order.side).prefetch_level(order.price);
                ids.slots.prefetch_free();
                Some(0)
            }
            Command::Cancel { order_id, .. } | Command::Modify { order_id, .. } => {
                let slot = ids.in_cell(book, order_id)?;
                ids.slots.prefetch_slot(slot);
                Some(slot)
            }
            _ => None,
        }
    }

    /// [`Stage::Order`]: what a cancelled or modified order's `slot` in `ids`' shared
    /// slots (found by [`Self::prefetch_contents`], a hint: the access is checked) points
    /// to: its level, its neighbours in the level's queue, and a modify's new level. For
    /// an add: the slot of the order it would rest behind (its level's tail, whose `next`
    /// it writes: at 10,000 books that slot is cold, and the miss came after the level's),
    /// or, priced beyond its side's window, the first lines a lookup among the levels
    /// there reads (their box was fetched a stage before).
    #[inline(never)]
    pub(crate) fn prefetch_order(&self, ids: &SharedIdIndex, command: &Command, slot: u32) {
        if let Command::Add(order) = command {
            if let Some(tail) = self.ladder(order.side).prefetch_behind(order.price) {
                ids.slots.prefetch_slot(tail);
            }
            return;
        }
        let Some(order) = ids.slots.get(slot) else {
            return;
        };
        let ladder = self.ladder(order.side());
        ladder.prefetch_level(order.price);
        if let Command::Modify { price, .. } = command {
            // A modify that moves the order re-enters it at its new price.
            ladder.prefetch_level(*price);
        }
        for neighbour in [order.prev, order.next] {
            if neighbour != NIL {
                ids.slots.prefetch_slot(neighbour);
            }
        }
    }
}

/// The order id a command looks up in its book's index, if any.
#[inline(always)]
fn id_of(command: &Command) -> Option<&uuid::Uuid> {
    match command {
        Command::Add(order) => Some(&order.order_id),
        Command::Cancel { order_id, .. } | Command::Modify { order_id, .. } => Some(order_id),
        _ => None,
    }
}
