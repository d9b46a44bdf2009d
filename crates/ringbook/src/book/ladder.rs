//! One side of a book: its price levels in price order, with the best one cached.

mod outside;

use std::ops::ControlFlow;

use self::outside::Outside;
use super::slab::NIL;
use super::tick_window::TickWindow;
use crate::types::{Price, Side};

/// One price level: a FIFO of resting orders linked through their slots, held inline in
/// its side's tick window (or, for a price outside it, in the side's outside store), so
/// the level of a price is found by its offset in the window with no handle to follow.
/// 24 bytes.
///
/// A tick where no level rests holds a level of count 0 and total 0: all zero bytes
/// ([`Level::EMPTY`]) in a new window, so a window's levels come from zeroed memory that
/// the kernel maps only where a level is written (see `book::zeroed`), not from a fill
/// that touches every page; or, where a level emptied, its last links ([`NIL`]). The count
/// tells an occupied tick. A level is opened with [`NIL`] links ([`Level::OPENED`]) when
/// its first order comes, so the paths that link an order in test the tail as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    /// The low 64 bits of the sum of the open quantities at this level.
    total_low: u64,
    /// The bits above those: a level may hold more than `u64::MAX` lots in total, and the
    /// 96-bit sum never overflows (fewer than 2^32 orders of fewer than 2^64 lots).
    total_high: u32,
    /// The earliest order (next to match), or [`NIL`].
    pub(crate) head: u32,
    /// The latest order, or [`NIL`].
    pub(crate) tail: u32,
    /// How many orders rest here.
    pub(crate) count: u32,
}

impl Level {
    /// What a tick of a new window holds where no level rests: all zero bytes.
    pub(crate) const EMPTY: Level = Level {
        total_low: 0,
        total_high: 0,
        head: 0,
        tail: 0,
        count: 0,
    };

    /// A level opened for its first order: no orders, [`NIL`] links.
    pub(crate) const OPENED: Level = Level {
        total_low: 0,
        total_high: 0,
        head: NIL,
        tail: NIL,
        count: 0,
    };

    /// Whether the level holds no order and no quantity: what every tick of a window
    /// where no level rests holds, whatever its links (see [`Level`]).
    #[inline]
    pub(crate) fn holds_nothing(&self) -> bool {
        self.count == 0 && self.total() == 0
    }

    /// The sum of the open quantities at this level.
    #[inline]
    pub(crate) fn total(&self) -> u128 {
        u128::from(self.total_high) << 64 | u128::from(self.total_low)
    }

    /// Adds `qty` lots to the total.
    #[inline(always)]
    pub(crate) fn add(&mut self, qty: u64) {
        let (low, carry) = self.total_low.overflowing_add(qty);
        self.total_low = low;
        self.total_high += u32::from(carry);
    }

    /// Takes `qty` lots (no more than it holds) from the total.
    #[inline(always)]
    pub(crate) fn sub(&mut self, qty: u64) {
        let (low, borrow) = self.total_low.overflowing_sub(qty);
        self.total_low = low;
        self.total_high -= u32::from(borrow);
    }

    /// Sets the total (tests corrupt it with this).
    #[cfg(test)]
    pub(crate) fn set_total(&mut self, total: u128) {
        self.total_low = total as u64;
        self.total_high = (total >> 64) as u32;
    }

    /// A one-order level whose head and tail are `slot` (for tests of the structures).
    #[cfg(test)]
    pub(crate) fn holding(slot: u32) -> Level {
        Level {
            total_low: 1,
            total_high: 0,
            head: slot,
            tail: slot,
            count: 1,
        }
    }
}

/// Ticks in the smallest window (1.5 KiB with its bits: a book with few levels stays small).
const MIN_TICKS: usize = 64;
/// Ticks in an empty side's first window (see [`Ladder::place_first`]).
const FIRST_TICKS: usize = 64;
/// Ticks in the largest window: 1.5 MiB of levels.
const MAX_TICKS: usize = 1 << 16;
/// The fewest inserts and removes outside the window that re-place it.
const MIN_REPLACE_AT: usize = 32;

/// The ticks of a window covering `span` ticks of `levels` levels with room on both sides:
/// the span again, plus 16 ticks a level up to 1,024 a side, so a busy side's moving market
/// misses the window less often while a side of a few levels keeps a small window. `None`
/// if that does not fit the largest window.
fn covering_for(span: u128, levels: usize) -> Option<usize> {
    let room = (levels.min(64) * 32) as u128;
    let wanted = span.saturating_mul(2).saturating_add(room);
    (wanted <= MAX_TICKS as u128).then(|| {
        (wanted as usize)
            .next_power_of_two()
            .clamp(MIN_TICKS, MAX_TICKS)
    })
}

/// The price levels of one side, ordered by price, with the best level cached so the top
/// of book is O(1).
///
/// Most levels sit in a dense window of ticks around the touch, where finding, adding and
/// removing a level is an index and the next best level a few word scans away. Levels
/// priced outside it wait in the outside store ("the tree" below: a sorted array while
/// they are few, a B-tree once they are many; see `ladder::outside`). The window is
/// re-placed around the best price once enough inserts and removes have had to go to the
/// tree (the market moved or the book widened), or when the side has shrunk to a small
/// share of what the window was sized for.
///
/// The trigger counts the tree's traffic, not its size, and a re-placement touches only
/// the window's levels and the tree's levels the new window spans: after a swing, levels
/// the market left far behind rest in the tree untouched and cost nothing, while the
/// window follows the activity. The window is sized for the active levels (those in the
/// window and the tree's traffic since it was placed). A re-placement costs O(active
/// levels + ticks) and comes only after enough tree operations to pay for it: a share of
/// the window's levels, or a few once the best level has left the window. (Counting
/// the tree's size, and moving every level at each re-placement, let stale levels put off
/// and then inflate the re-placement: on a 60% swing a fifth of the book's instructions
/// went to B-tree searches.)
///
/// What a plain command reads (the side, the cached best, the window) is the ladder's own
/// 88 bytes, so both sides fit a book's hot lines (issue 21: `book::prefetch::HOT_LINES`);
/// what only the paths beyond the window read (the outside store and the re-placement
/// trigger) is boxed ([`Far`]). The compiler's field order (the window first): `repr(C)`
/// with the cached best first saved a last-level miss a command in eight at 10,000 books
/// but cost the market regimes 0.7-1.1% more instructions (perf/LOG.md, h-hdr).
#[derive(Clone, Debug)]
pub(crate) struct Ladder {
    side: Side,
    window: TickWindow,
    /// The cold part: levels outside the window and the re-placement trigger.
    far: Box<Far>,
    /// Whether the side has a level (then `best_price` is its best price).
    has_best: bool,
    best_price: Price,
}

/// The part of a [`Ladder`] that only the paths beyond its window read: the levels
/// priced outside it and the trigger that re-places it (issue 21: out of the book's hot
/// lines, one pointer in them instead of 64 bytes).
#[derive(Clone, Debug)]
struct Far {
    /// Levels priced outside the window.
    outside: Outside,
    /// Inserts and removes that went to `outside` since the window was placed.
    misses: usize,
    /// Re-place the window when `misses` reaches this.
    replace_at: usize,
}

impl Ladder {
    /// An empty ladder for `side` (the window is allocated by the first insert).
    pub(crate) fn new(side: Side) -> Ladder {
        Ladder {
            side,
            window: TickWindow::default(),
            far: Box::new(Far {
                outside: Outside::default(),
                misses: 0,
                replace_at: MIN_REPLACE_AT,
            }),
            has_best: false,
            best_price: 0,
        }
    }

    /// Whether price `a` is strictly better than `b` on this side.
    #[inline]
    pub(crate) fn better(&self, a: Price, b: Price) -> bool {
        match self.side {
            Side::Buy => a > b,
            Side::Sell => a < b,
        }
    }

    /// Starts loading the level at `price` and its occupied word, if the window spans it;
    /// else the box of what lies beyond the window ([`Self::prefetch_behind`], a stage
    /// later, fetches what a lookup there reads; see `book::prefetch`).
    ///
    /// The box is fetched, not read: reading it here made the walk wait for it (at 10,000
    /// books 10% of the engine's samples, on the array's length).
    #[inline(always)]
    pub(crate) fn prefetch_level(&self, price: Price) {
        if let Some(tick) = self.window.offset(price) {
            self.window.prefetch(tick);
        } else {
            // The whole box, fetched at both ends: at most 64 bytes, it spans two lines at
            // most.
            const { assert!(size_of::<Far>() <= 64) };
            super::prefetch::prefetch(&*self.far);
        }
    }

    /// For an add at `price`, a stage after [`Self::prefetch_level`]: the order it would
    /// rest behind (the tail of the level at `price`, whose slot the add writes), if the
    /// window spans `price` and a level rests there; for a price beyond the window, starts
    /// loading the first lines a lookup there reads (their box was fetched) and returns
    /// `None`.
    #[inline(always)]
    pub(crate) fn prefetch_behind(&self, price: Price) -> Option<u32> {
        match self.window.offset(price) {
            Some(tick) => {
                let level = self.window.get(tick);
                (level.count != 0).then_some(level.tail)
            }
            None => {
                self.far.outside.prefetch();
                None
            }
        }
    }

    /// The best price, if the side has one.
    #[inline]
    pub(crate) fn best_price(&self) -> Option<Price> {
        self.has_best.then_some(self.best_price)
    }

    /// Whether a limit taker of `taker_side` at `limit` would match this (opposite) side's
    /// best level: [`Self::crossed_by`] with the comparison picked by the taker's side,
    /// which the caller knows, instead of the ladder's own side field.
    #[inline(always)]
    pub(crate) fn crossed_at(&self, taker_side: Side, limit: Price) -> bool {
        debug_assert_eq!(taker_side, self.side.opposite());
        self.has_best
            && match taker_side {
                Side::Buy => self.best_price <= limit,
                Side::Sell => self.best_price >= limit,
            }
    }

    /// The best price of a side that is not empty (unspecified for an empty side): for
    /// callers that have just seen [`Self::crossed_by`] hold.
    #[inline(always)]
    pub(crate) fn top_price(&self) -> Price {
        debug_assert!(self.has_best, "the best price of an empty side");
        self.best_price
    }

    /// The best level, to change. The side must not be empty.
    #[inline(always)]
    pub(crate) fn best_mut(&mut self) -> &mut Level {
        debug_assert!(self.has_best, "the best level of an empty side");
        self.level_mut(self.best_price)
    }

    /// Whether a taker of the opposite side with this limit (`None`: market) would match
    /// the best level here.
    #[inline]
    pub(crate) fn crossed_by(&self, limit: Option<Price>) -> bool {
        self.has_best
            && match limit {
                None => true,
                Some(limit) => match self.side {
                    // Resting asks: a buy limit matches asks priced at or below it.
                    Side::Sell => self.best_price <= limit,
                    // Resting bids: a sell limit matches bids priced at or above it.
                    Side::Buy => self.best_price >= limit,
                },
            }
    }

    /// The level at `price`, if the side has one. Reads the window or the tree, never the
    /// cached best (integrity checks compare the two).
    #[inline(always)]
    pub(crate) fn get(&self, price: Price) -> Option<&Level> {
        match self.window.offset(price) {
            Some(tick) => {
                let level = self.window.get(tick);
                (level.count != 0).then_some(level)
            }
            None => self.far.outside.get(price),
        }
    }

    /// The level at `price`, which the side has, to change.
    #[inline(always)]
    pub(crate) fn level_mut(&mut self, price: Price) -> &mut Level {
        match self.window.offset(price) {
            Some(tick) => self.window.get_mut(tick),
            None => self.outside_mut(price),
        }
    }

    /// [`Self::level_mut`] in the tree.
    #[inline(never)]
    fn outside_mut(&mut self, price: Price) -> &mut Level {
        self.far
            .outside
            .get_mut(price)
            .expect("a level the book holds is in the window or the tree")
    }

    /// The level at `price`, created empty if the side has none: the caller links an
    /// order into it at once (a level the ladder lists holds at least one order). The
    /// book calls [`Self::entry_on`]; tests of the ladder alone call this.
    #[cfg(test)]
    pub(crate) fn entry(&mut self, price: Price) -> &mut Level {
        self.entry_on(self.side, price)
    }

    /// [`Self::entry`] on a ladder the caller knows is of `side`: callers that have
    /// matched on the side pass it as a constant, and the best price's comparison needs
    /// no test of the ladder's own side field.
    #[inline(always)]
    pub(crate) fn entry_on(&mut self, side: Side, price: Price) -> &mut Level {
        debug_assert_eq!(side, self.side);
        match self.window.offset(price) {
            Some(tick) => {
                if self.window.get(tick).count == 0 {
                    self.window.open(tick);
                    let better = match side {
                        Side::Buy => price > self.best_price,
                        Side::Sell => price < self.best_price,
                    };
                    if !self.has_best || better {
                        self.has_best = true;
                        self.best_price = price;
                    }
                }
                self.window.get_mut(tick)
            }
            None => self.entry_outside(price),
        }
    }

    /// Moves the level at `from`, which holds one order, to the price `to`, which has no
    /// level, when both are in the window and the best price stays known without a scan:
    /// `from` is not the best, or `to` is better than it or one tick away (nothing lies
    /// between). A modify that moves a lone order (the commonest on a market's flow: one
    /// tick away) then moves its level's 24 bytes and two bits, instead of removing a
    /// level and creating another. Returns the moved level, or `None`, with nothing
    /// changed, for the general path. The caller knows the ladder is of `side`.
    #[inline(always)]
    pub(crate) fn move_lone_on(
        &mut self,
        side: Side,
        from: Price,
        to: Price,
    ) -> Option<&mut Level> {
        debug_assert_eq!(side, self.side);
        let old = self.window.offset(from)?;
        let new = self.window.offset(to)?;
        if self.window.get(new).count != 0 {
            return None;
        }
        debug_assert_eq!(self.window.get(old).count, 1, "a lone order's level");
        let beats = |a: Price, b: Price| match side {
            Side::Buy => a > b,
            Side::Sell => a < b,
        };
        if self.best_price == from {
            if !beats(to, from) && from.abs_diff(to) != 1 {
                return None;
            }
            self.best_price = to;
        } else if beats(to, self.best_price) {
            self.best_price = to;
        }
        let level = std::mem::replace(self.window.get_mut(old), Level::EMPTY);
        self.window.clear(old);
        *self.window.get_mut(new) = level;
        self.window.occupy(new);
        Some(self.window.get_mut(new))
    }

    /// Whether the window's slots, bits and count agree and the tree holds no price the
    /// window spans (for integrity checks).
    pub(crate) fn window_consistent(&self) -> bool {
        let (low, high) = self.window.bounds();
        self.window.consistent() && !self.far.outside.any_in(low, high)
    }

    /// Points the cached best at another price (tests corrupt the cache with it).
    #[cfg(test)]
    pub(crate) fn corrupt_cached_best(&mut self, price: Price) {
        self.best_price = price;
    }

    /// [`Self::entry`] of a price outside the window: an empty side places the window on
    /// it; otherwise a new level goes to the tree, which may call for a re-placement.
    #[inline(never)]
    fn entry_outside(&mut self, price: Price) -> &mut Level {
        if self.far.outside.get(price).is_some() {
            return self.outside_mut(price);
        }
        if self.len() == 0 {
            // An empty side (or the first level ever): a window from just better than it
            // to well worse.
            self.place_first(price);
            if let Some(tick) = self.window.offset(price) {
                self.window.open(tick);
                self.has_best = true;
                self.best_price = price;
                return self.window.get_mut(tick);
            }
        }
        if !self.has_best || self.better(price, self.best_price) {
            self.has_best = true;
            self.best_price = price;
        }
        self.far.misses += 1;
        if self.should_replace() {
            // The new level, empty, is moved like the others.
            self.far.outside.insert(price, Level::OPENED);
            self.place(self.best_price);
            return self.level_mut(price);
        }
        self.far.outside.insert(price, Level::OPENED)
    }

    /// Removes the level at `price`, which must be present and has just emptied.
    #[inline(always)]
    pub(crate) fn remove(&mut self, price: Price) {
        let Some(tick) = self.window.offset(price) else {
            return self.remove_outside(price);
        };
        self.window.clear(tick);
        if self.best_price == price {
            self.after_best_removed(Some(tick));
        } else {
            // The side's count (the outside store's, through the box) is read only for a
            // sparse window: [`Self::should_shrink`] needs `levels * 32 < ticks`, and the
            // window's own levels are some of them.
            let ticks = self.window.ticks();
            if ticks > MIN_TICKS && self.window.len() * 32 < ticks {
                let levels = self.len();
                if levels.is_power_of_two() && self.should_shrink(levels) {
                    self.place(self.best_price);
                }
            }
        }
    }

    /// Places the window of an empty side around its first price `price`: [`FIRST_TICKS`]
    /// ticks, a quarter of them better than `price` and the rest from it to worse, since
    /// a side's later orders mostly rest behind its first (a book's first orders come
    /// near the touch; its later ones spread away from it). Measured against a window
    /// centred on `price` and one of 128 ticks: perf/LOG.md, issue 21 (h-cold).
    #[cold]
    fn place_first(&mut self, price: Price) {
        let ticks = FIRST_TICKS;
        let low = match self.side {
            Side::Buy => price.saturating_sub((ticks - ticks / 4 - 1) as i64),
            Side::Sell => price.saturating_sub((ticks / 4) as i64),
        };
        self.window.reset(low, ticks);
        self.far.misses = 0;
        self.far.replace_at = MIN_REPLACE_AT;
    }

    /// [`Self::remove`] of a price in the tree.
    #[inline(never)]
    fn remove_outside(&mut self, price: Price) {
        let removed = self.far.outside.remove(price);
        debug_assert!(
            removed.is_some_and(|level| level.holds_nothing()),
            "level {price} removed busy or absent: {removed:?}"
        );
        self.far.misses += 1;
        if self.best_price == price {
            self.after_best_removed(None);
        } else {
            let levels = self.len();
            if levels > 0 && (self.should_replace() || self.should_shrink(levels)) {
                self.place(self.best_price);
            }
        }
    }

    /// Finds the new best once the best level (at tick `removed`, if it was in the
    /// window) has gone, then re-places the window if the trigger now calls for it.
    #[inline(never)]
    fn after_best_removed(&mut self, removed: Option<usize>) {
        self.find_best(removed);
        let levels = self.len();
        if levels > 0 && (self.should_replace() || self.should_shrink(levels)) {
            self.place(self.best_price);
        }
    }

    /// Whether the tree's traffic calls for re-placing the window: a share of the window's
    /// levels' worth of tree operations, or a few once the best level itself has left
    /// the window (the market has moved on, and its activity follows the best).
    #[inline]
    fn should_replace(&self) -> bool {
        self.far.misses >= self.far.replace_at
            || (self.far.misses >= MIN_REPLACE_AT
                && self.has_best
                && self.window.offset(self.best_price).is_none())
    }

    /// Whether a side shrunk to `levels` levels should get a smaller window: checked when
    /// the count falls to a power of two (so a count going up and down pays for the check
    /// only there), and true when the window is much sparser than the levels need and a
    /// re-placement would make it at least 4 times smaller.
    #[inline]
    fn should_shrink(&self, levels: usize) -> bool {
        let ticks = self.window.ticks();
        levels.is_power_of_two()
            && ticks > MIN_TICKS
            && levels * 32 < ticks
            && self
                .covering_ticks()
                .is_none_or(|covering| covering * 4 <= ticks)
    }

    /// The ticks of a window spanning every level of the side, the best price and room on
    /// both sides, if that fits the largest window.
    fn covering_ticks(&self) -> Option<usize> {
        let (lowest, highest) = self.price_range(self.best_price);
        let span = (i128::from(highest) - i128::from(lowest) + 1) as u128;
        covering_for(span, self.len())
    }

    /// The lowest and highest prices of the side's levels and `anchor`.
    fn price_range(&self, anchor: Price) -> (Price, Price) {
        let lowest = [
            self.window.lowest().map(|tick| self.window.price(tick)),
            self.far.outside.lowest(),
        ]
        .into_iter()
        .flatten()
        .fold(anchor, Price::min);
        let highest = [
            self.window.highest().map(|tick| self.window.price(tick)),
            self.far.outside.highest(),
        ]
        .into_iter()
        .flatten()
        .fold(anchor, Price::max);
        (lowest, highest)
    }

    /// Finds the new best level once the old best has gone (from tick `removed`, if it was
    /// in the window).
    #[inline]
    fn find_best(&mut self, removed: Option<usize>) {
        let in_window = match (self.side, removed) {
            // The old best was the side's best: nothing in the window beats its tick, and
            // everything in the tree is beyond the window on the worse side.
            (Side::Buy, Some(tick)) => self.window.highest_at_or_below(tick),
            (Side::Sell, Some(tick)) => self.window.lowest_at_or_above(tick),
            (Side::Buy, None) => self.window.highest(),
            (Side::Sell, None) => self.window.lowest(),
        }
        .map(|tick| self.window.price(tick));
        let outside = if removed.is_some() && in_window.is_some() {
            None
        } else {
            match self.side {
                Side::Buy => self.far.outside.highest(),
                Side::Sell => self.far.outside.lowest(),
            }
        };
        let next = match (in_window, outside) {
            (Some(a), Some(b)) => Some(if self.better(b, a) { b } else { a }),
            (a, b) => a.or(b),
        };
        match next {
            Some(price) => self.best_price = price,
            None => self.has_best = false,
        }
    }

    /// Re-places the window. When every level of the side fits in half of the largest
    /// window, the window spans them all with room on both sides (the tree empties, and
    /// the market can move a while before an insert misses). Otherwise it is placed around
    /// `anchor`, sized for the active levels: the window's levels move into the new window
    /// or the tree, and the tree's levels the new window spans move into it; the tree's
    /// other levels stay where they are.
    #[cold]
    fn place(&mut self, anchor: Price) {
        let (lowest, highest) = self.price_range(anchor);
        let span = (i128::from(highest) - i128::from(lowest) + 1) as u128;
        let mut moving: Vec<(Price, Level)> = Vec::with_capacity(self.window.len());
        moving.extend(
            self.window
                .ascending()
                .map(|(price, &level)| (price, level)),
        );
        if let Some(ticks) = covering_for(span, self.len()) {
            let margin = (ticks - span as usize) / 2;
            self.window
                .reset(lowest.saturating_sub(margin as i64), ticks);
        } else {
            let active = (moving.len() + self.far.misses).min(self.len());
            let ticks = (active.max(1) * 4)
                .next_power_of_two()
                .clamp(MIN_TICKS, MAX_TICKS);
            // Room on the side prices improve into, more on the side the book rests on.
            let below = match self.side {
                Side::Buy => ticks / 4 * 3,
                Side::Sell => ticks / 4,
            };
            self.window
                .reset(anchor.saturating_sub(below as i64), ticks);
        }
        let (low, high) = self.window.bounds();
        self.far.outside.take_in(low, high, &mut moving);
        for (price, level) in moving {
            match self.window.offset(price) {
                Some(tick) => self.window.put(tick, level),
                None => {
                    self.far.outside.insert(price, level);
                }
            }
        }
        self.far.misses = 0;
        self.far.replace_at = (self.window.len() / 4).max(MIN_REPLACE_AT);
    }

    /// How many levels the side has.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.window.len() + self.far.outside.len()
    }

    /// Calls `f` with each level and its price, best first, until it breaks.
    #[inline]
    pub(crate) fn walk_best_first(&self, mut f: impl FnMut(Price, &Level) -> ControlFlow<()>) {
        let (low, high) = self.window.bounds();
        let mut visit = |(price, level): (Price, &Level)| f(price, level);
        let _ = match self.side {
            Side::Buy => self
                .far
                .outside
                .at_or_above(high)
                .rev()
                .chain(self.window.descending())
                .chain(self.far.outside.below(low).rev())
                .try_for_each(&mut visit),
            Side::Sell => self.iter_ascending().try_for_each(&mut visit),
        };
    }

    /// Bytes held by the window, the boxed [`Far`] and the outside store (its B-tree
    /// estimated at a node per eight entries).
    pub(crate) fn heap_bytes(&self) -> usize {
        size_of::<Far>() + self.window.heap_bytes() + self.far.outside.heap_bytes()
    }

    /// Every level with its price, in ascending price order.
    pub(crate) fn iter_ascending(&self) -> impl Iterator<Item = (Price, &Level)> + '_ {
        let (low, high) = self.window.bounds();
        self.far
            .outside
            .below(low)
            .chain(self.window.ascending())
            .chain(self.far.outside.at_or_above(high))
    }
    /// Adds a one-order level at `price`, which must not be present, whose order is the
    /// slot `slot` (for tests of the ladder alone).
    #[cfg(test)]
    pub(crate) fn insert(&mut self, price: Price, slot: u32) {
        let level = self.entry(price);
        assert_eq!(*level, Level::OPENED, "level {price} inserted twice");
        *level = Level::holding(slot);
    }

    /// Empties and removes the level at `price` (for tests of the ladder alone).
    #[cfg(test)]
    pub(crate) fn drop_level(&mut self, price: Price) {
        *self.level_mut(price) = Level::OPENED;
        self.remove(price);
    }

    /// The head slot of the best level, or [`NIL`] (for tests of the ladder alone).
    #[cfg(test)]
    pub(crate) fn best_head(&self) -> u32 {
        self.best_price()
            .and_then(|price| self.get(price))
            .map_or(NIL, |level| level.head)
    }

    /// The head slot of the level at `price` (for tests of the ladder alone).
    #[cfg(test)]
    pub(crate) fn head_at(&self, price: Price) -> Option<u32> {
        self.get(price).map(|level| level.head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `price` sits in the window (not the tree).
    fn in_window(ladder: &Ladder, price: Price) -> bool {
        ladder.window.offset(price).is_some()
    }

    /// A market that swings twice leaves thousands of levels behind; the window must
    /// still follow the new activity within a bounded number of operations, and a
    /// re-placement must not move the levels left behind. (The old trigger, the tree's
    /// size, was raised by the stale levels each time: after the second swing the window
    /// stayed where the market had been.)
    #[test]
    fn the_window_follows_the_market_past_levels_it_left_behind() {
        let mut ladder = Ladder::new(Side::Sell);
        let mut next_level = 0u32;
        let mut add = |ladder: &mut Ladder, price: Price| {
            ladder.insert(price, next_level);
            next_level += 1;
        };
        // The market rests at 100,000..102,000, then falls to 50,000, then to 20,000:
        // each time 300 new levels improve the best one tick at a time.
        for price in 100_000..102_000 {
            add(&mut ladder, price);
        }
        for start in [50_300, 20_300] {
            for price in (start - 300..start).rev() {
                add(&mut ladder, price);
            }
            let best = ladder.best_price().unwrap();
            assert_eq!(best, start - 300);
            assert!(
                in_window(&ladder, best),
                "the window follows the best ({best})"
            );
            assert!(
                in_window(&ladder, best + 100),
                "and the levels just behind it"
            );
            assert!(ladder.window_consistent());
        }
        assert_eq!(ladder.len(), 2_600);
        assert!(
            !in_window(&ladder, 100_000),
            "levels left behind stay in the tree"
        );
        let ascending: Vec<Price> = ladder.iter_ascending().map(|(p, _)| p).collect();
        assert!(ascending.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ascending.len(), 2_600);
    }

    /// A side whose levels are spread over 20,000 ticks (a market that moved, leaving
    /// orders behind) fits in the largest window: after a re-placement the window spans
    /// every level and the tree is empty, so inserts and removes there never search it.
    /// (The window used to be sized for the count of levels around the best, leaving most
    /// of such a side in the tree.)
    #[test]
    fn a_side_spread_over_a_moved_market_fits_in_one_window() {
        let mut ladder = Ladder::new(Side::Buy);
        let prices: Vec<Price> = (0..200).map(|n| 33_500 - n * 100).collect();
        for (level, &price) in prices.iter().enumerate() {
            ladder.insert(price, level as u32);
        }
        assert!(
            ladder.far.outside.is_empty(),
            "{} in the tree",
            ladder.far.outside.len()
        );
        for &price in &prices {
            assert!(in_window(&ladder, price), "{price}");
        }
        assert_eq!(ladder.best_price(), Some(33_500));
        // Emptying the best levels finds the next through the wide empty stretches.
        for &price in &prices[..199] {
            ladder.drop_level(price);
        }
        assert_eq!(ladder.best_price(), Some(prices[199]));
        assert!(ladder.window_consistent());
    }

    /// A busy side's window leaves room beyond its levels (16 ticks a level, up to 1,024
    /// a side), so a market moving on from 100 levels lands in the window rather than the
    /// tree; a one-level side keeps the smallest window. (The room used to be the span
    /// again: 65 levels one tick apart got 256 ticks when the window was placed, and the
    /// next 900 ticks of a move went to the tree.)
    #[test]
    fn a_busy_side_leaves_room_for_the_market_to_move() {
        let mut ladder = Ladder::new(Side::Sell);
        for (level, price) in (10_000..10_100).enumerate() {
            ladder.insert(price, level as u32);
        }
        for price in [10_100 + 900, 10_000 - 900] {
            assert!(in_window(&ladder, price), "{price} is in the window");
        }
        assert!(ladder.far.outside.is_empty());
        assert!(ladder.window_consistent());

        let mut single = Ladder::new(Side::Buy);
        single.insert(500, 0);
        assert_eq!(single.window.ticks(), MIN_TICKS);
    }

    /// A side emptied from behind (its worst levels removed, never the best, all in the
    /// window) gets a smaller window once few levels are left, as one emptied from the
    /// best does: `remove` reads the side's count (the outside store's, through the box)
    /// only when the window is sparse, and must still see it shrink.
    #[test]
    fn a_side_emptied_from_behind_gets_a_smaller_window() {
        let mut ladder = Ladder::new(Side::Sell);
        let prices: Vec<Price> = (0..2_000).map(|n| 1_000 + n * 3).collect();
        for (level, &price) in prices.iter().enumerate() {
            ladder.insert(price, level as u32);
        }
        assert!(ladder.far.outside.is_empty());
        let wide = ladder.window.ticks();
        assert!(wide >= 8_192, "{wide} ticks");
        for &price in prices[2..].iter().rev() {
            ladder.drop_level(price);
            assert!(ladder.window_consistent());
        }
        assert_eq!(ladder.len(), 2);
        assert_eq!(ladder.best_price(), Some(1_000));
        assert!(
            ladder.window.ticks() <= 256,
            "{} ticks left for 2 levels (was {wide})",
            ladder.window.ticks()
        );
        assert!(in_window(&ladder, 1_000) && in_window(&ladder, 1_003));
    }

    /// Levels at the ends of the price scale wait outside the window, and move into it
    /// when a re-placement spans them (the window clamps at `i64::MAX`) and back out
    /// when the window moves away; every step keeps the order, the best and the count.
    #[test]
    fn levels_at_the_scale_ends_move_between_the_outside_store_and_the_window() {
        let mut ladder = Ladder::new(Side::Sell);
        let mut model = std::collections::BTreeMap::new();
        let check = |ladder: &Ladder, model: &std::collections::BTreeMap<Price, u32>| {
            let levels: Vec<(Price, u32)> =
                ladder.iter_ascending().map(|(p, l)| (p, l.head)).collect();
            let want: Vec<(Price, u32)> = model.iter().map(|(&p, &h)| (p, h)).collect();
            assert_eq!(levels, want);
            assert_eq!(ladder.best_price(), model.keys().next().copied());
            assert_eq!(ladder.len(), model.len());
            assert!(ladder.window_consistent());
            let mut best_first = Vec::new();
            ladder.walk_best_first(|p, _| {
                best_first.push(p);
                ControlFlow::Continue(())
            });
            assert_eq!(best_first, model.keys().copied().collect::<Vec<_>>());
        };
        let mut slot = 0;
        let mut add = |ladder: &mut Ladder, model: &mut std::collections::BTreeMap<_, _>, price| {
            slot += 1;
            ladder.insert(price, slot);
            model.insert(price, slot);
        };
        add(&mut ladder, &mut model, 0);
        for price in [i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1] {
            add(&mut ladder, &mut model, price);
            assert!(!in_window(&ladder, price), "{price} waits outside");
            check(&ladder, &model);
        }
        assert_eq!(ladder.best_price(), Some(i64::MIN));
        // Activity near the top of the scale: enough misses re-place the window there,
        // and it takes in the levels at i64::MAX - 1 and i64::MAX it now spans.
        for price in (i64::MAX - 200..i64::MAX - 100).step_by(2) {
            add(&mut ladder, &mut model, price);
            check(&ladder, &model);
        }
        ladder.drop_level(i64::MIN);
        model.remove(&i64::MIN);
        ladder.drop_level(i64::MIN + 1);
        model.remove(&(i64::MIN + 1));
        ladder.drop_level(0);
        model.remove(&0);
        check(&ladder, &model);
        for price in (i64::MAX - 300..i64::MAX - 200).step_by(2) {
            add(&mut ladder, &mut model, price);
        }
        check(&ladder, &model);
        assert!(
            in_window(&ladder, i64::MAX - 1),
            "the window reaches the top"
        );
        assert!(!in_window(&ladder, i64::MAX), "but never holds i64::MAX");
        assert!(ladder.get(i64::MAX).is_some());
        // Emptying the side level by level, best first, finds each next best.
        while let Some(&best) = model.keys().next() {
            ladder.drop_level(best);
            model.remove(&best);
            check(&ladder, &model);
        }
        assert_eq!(ladder.best_price(), None);
    }

    /// An empty side's first window reaches three quarters of its ticks behind the first
    /// price (where the side's later orders mostly rest) and a quarter ahead of it, on
    /// either side, so a new book's first orders land in the window rather than outside.
    /// (It used to be centred on the first price: an ask 40 ticks behind the first one
    /// went outside.)
    #[test]
    fn a_first_window_reaches_behind_the_first_price() {
        let mut asks = Ladder::new(Side::Sell);
        asks.insert(1_000, 0);
        let mut bids = Ladder::new(Side::Buy);
        bids.insert(1_000, 0);
        let quarter = MIN_TICKS as i64 / 4;
        for (ladder, behind, ahead) in [(&asks, 1, -1), (&bids, -1, 1)] {
            assert!(in_window(ladder, 1_000 + behind * (3 * quarter - 1)));
            assert!(!in_window(ladder, 1_000 + behind * 3 * quarter));
            assert!(in_window(ladder, 1_000 + ahead * quarter));
            assert!(!in_window(ladder, 1_000 + ahead * (quarter + 1)));
        }
        // A first price at either end of the scale keeps the window inside it.
        let mut top = Ladder::new(Side::Sell);
        top.insert(i64::MAX - 1, 0);
        assert!(in_window(&top, i64::MAX - 1));
        let mut bottom = Ladder::new(Side::Buy);
        bottom.insert(i64::MIN, 0);
        assert!(in_window(&bottom, i64::MIN));
        assert!(bottom.window_consistent() && top.window_consistent());
    }
}
