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

/// How far ahead of the command being applied each [`Stage`] runs, in commands.
pub(crate) const AHEAD: [usize; 3] = [12, 6, 3];

/// What to fetch of a command's book, in the order a command's misses depend on each
/// other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The book's own fields and the id's cell in the shared index ([`AHEAD`]`[0]`
    /// commands ahead).
    Header,
    /// What the book's fields and the id cell point to: an add's level, its occupied
    /// word and the free slot; a cancel's or modify's slot ([`AHEAD`]`[1]` ahead).
    Contents,
    /// What a cancelled or modified order's slot points to: its level and its neighbours
    /// in the level's queue ([`AHEAD`]`[2]` ahead).
    Order,
}

impl Stage {
    /// The stages, furthest ahead first.
    pub(crate) const ALL: [Stage; 3] = [Stage::Header, Stage::Contents, Stage::Order];
}

/// Starts loading the cache line that holds `item` (a hint: it never faults and changes
/// nothing the program can see).
#[inline(always)]
pub(crate) fn prefetch<T>(item: &T) {
    prefetch_address(std::ptr::from_ref(item).cast::<u8>());
}

/// Starts loading every cache line `item` spans.
#[inline(always)]
pub(crate) fn prefetch_all<T>(item: &T) {
    let first = std::ptr::from_ref(item).cast::<u8>();
    let mut offset = 0;
    while offset < std::mem::size_of::<T>() {
        prefetch_address(first.wrapping_add(offset));
        offset += 64;
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

/// Walks `items` in order, calling `step(item, None)` for each, and before that
/// `step(item, Some(stage))` for the item [`AHEAD`]`[stage]` places further on, each stage
/// of each item once, furthest ahead first (the last items' stages come as the walk nears
/// them).
#[inline(always)]
pub(crate) fn staged<T: Copy>(
    items: impl Iterator<Item = T>,
    mut step: impl FnMut(T, Option<Stage>),
) {
    // Fused: the walk ends at the first item missing.
    let mut items = items.fuse();
    const RING: usize = 16;
    const { assert!(AHEAD[0] < RING && AHEAD[1] < AHEAD[0] && AHEAD[2] < AHEAD[1]) };
    let mut ring: [Option<T>; RING] = [None; RING];
    // The first items' stages all come before the first is applied, each item's
    // furthest-ahead stage first.
    for (at, cell) in ring.iter_mut().enumerate().take(AHEAD[0]) {
        *cell = items.next();
        for (stage, ahead) in Stage::ALL.into_iter().zip(AHEAD) {
            if let (true, Some(item)) = (at < ahead, *cell) {
                step(item, Some(stage));
            }
        }
    }
    let mut at = 0;
    while let Some(item) = ring[at % RING].take() {
        let next = items.next();
        ring[(at + AHEAD[0]) % RING] = next;
        if let Some(ahead) = next {
            step(ahead, Some(Stage::Header));
        }
        for (stage, ahead) in Stage::ALL.into_iter().zip(AHEAD).skip(1) {
            if let Some(ahead) = ring[(at + ahead) % RING] {
                step(ahead, Some(stage));
            }
        }
        step(item, None);
        at += 1;
    }
}

impl OrderBook {
    /// Starts loading, for `command` to book number `book` of `ids`, what [`Stage`]
    /// `stage` fetches. Reads only what earlier stages loaded; changes nothing.
    #[inline]
    pub(crate) fn prefetch(&self, ids: &SharedIdIndex, book: u32, command: &Command, stage: Stage) {
        match (stage, command) {
            (Stage::Header, _) => {
                prefetch_all(self);
                if let Some(id) = id_of(command) {
                    ids.prefetch_cell(id);
                }
            }
            (Stage::Contents, Command::Add(order)) => {
                self.ladder(order.side).prefetch_level(order.price);
                self.orders.prefetch_free();
            }
            (Stage::Contents, _) => {
                if let Some(slot) = id_of(command).and_then(|id| ids.in_cell(book, id)) {
                    self.orders.prefetch_slot(slot);
                }
            }
            (Stage::Order, Command::Cancel { order_id, .. } | Command::Modify { order_id, .. }) => {
                let Some(slot) = ids.in_cell(book, order_id) else {
                    return;
                };
                let Some(order) = self.orders.get(slot) else {
                    return;
                };
                self.ladder(order.side()).prefetch_level(order.price);
                for neighbour in [order.prev, order.next] {
                    if neighbour != NIL {
                        self.orders.prefetch_slot(neighbour);
                    }
                }
            }
            (Stage::Order, _) => {}
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
