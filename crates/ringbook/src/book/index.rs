//! The id index: order id to slot, O(1), storing only the 4-byte slot number.
//!
//! Two parts:
//!
//! - **A direct window** for the ids an order-entry session assigns (1, 2, 3, ...): a
//!   power-of-two array of slot numbers covering the ids `base..base + (cap << shift)`,
//!   the ids `(c << shift)..((c + 1) << shift)` at `window[c & (cap - 1)]`. A book that
//!   sees every id of a session has `shift` 0: a lookup is a subtraction, a compare and a
//!   load, with no hash, no probe and no id compare. A book that sees only some of them
//!   (the engine spreads one session's ids over its books, so each of N books sees about
//!   every Nth) learns how far apart its ids are and widens its cells to match: `shift` is
//!   chosen so that a cell spans about an eighth of the book's mean gap, so that its ids
//!   rarely share a cell (an id whose cell is taken goes to the table), and a lookup adds
//!   a shift and a compare of the id stored in the slot. The window slides forward as
//!   ids grow, a sixteenth of its length or more at a time (the ids it leaves behind that
//!   still rest move to a sorted list of old ids, appended in increasing order and
//!   searched by bisection: no hash, see `old_ids`); it doubles while more than half of
//!   it rests, or when
//!   orders taken from the table show that they outlive it;
//!   and after a run of ids that missed it but fell near one another (a session that
//!   started elsewhere) it is placed at them again.
//! - **A keyed hash table** for every other id (random UUIDs, ids far ahead of the
//!   window, ids whose cell was taken, ids a re-placed window left behind). It holds slot numbers, not
//!   ids: a lookup compares the id stored in the slot, about 5 bytes per order instead of
//!   the 20 to 32 a `HashMap<Uuid, u32>` entry costs.
//!
//! Every id sits in exactly one part. The table's largest id bounds where it may overlap
//! the window's range (a far id the window later slid over stays in the table): a window
//! id above that bound is decided by its cell alone, so a session's adds, cancels and late
//! cancels never hash.
//!
//! Order ids come from callers, so the table's hash is keyed per process ([`IdHasher`]):
//! with the fixed seed it had, 40,000 ids sharing their low 64 bits all hashed to 0 and a
//! book took about a thousand times longer to rest and cancel them than ids 1..40,000 (see
//! `benches/hash_flood.rs`); now both take the same time. The window's cells are found by
//! arithmetic on the id, not by a keyed hash, but a cell holds one id: ids crafted to share
//! cells go to the table, where the keyed hash spreads them. The window's work is bounded
//! per insert: a slide visits at most the window's cells, a block of 16 at a time (an id
//! more than [`SLIDE`] window lengths ahead goes to the table), and doubling, re-placing or
//! re-striding it (O(cap)) comes only after O(cap) inserts or a change of the ids'
//! spacing. The keys and the stride decide only where ids
//! sit; the index is never iterated to produce output, so events and state hashes do not
//! depend on them or on the window.

use hashbrown::HashTable;
use uuid::Uuid;

use super::slab::NIL;
use crate::id_hash::IdHasher;
use blocks::{BLOCK, EMPTY, empty_cells};
use old_ids::OldIds;

mod blocks;
mod old_ids;

/// Cells in the smallest window (256 bytes): 10,000 books that each see a few dozen ids
/// hold 2.5 MB of windows, not 40.
const MIN_CAP: usize = 1 << 7;
/// Cells in the smallest window of wide cells (2 KiB): a book that sees few of the ids
/// sees them over a long stretch, and its orders live long in its own ids.
const WIDE_CAP: usize = 1 << 9;
/// Cells a window may grow to for orders that outlive it however few ids it holds (4 KiB);
/// past it, only while it has 32 cells or fewer an indexed order.
const SMALL_CAP: usize = 1 << 10;
/// Cells in the largest window (16 MiB): past it, a dense book's oldest ids go to the table.
const MAX_CAP: usize = 1 << 22;
/// How many window lengths past its end an insert may be and still slide the window
/// (further: the table).
pub(crate) const SLIDE: u128 = 64;
/// The widest cell: `1 << MAX_SHIFT` ids (with [`MAX_CAP`] cells the window's cells are
/// then still the id's low 64 bits, shifted).
const MAX_SHIFT: u32 = 40;
/// A cell spans about the mean gap between a book's ids over `1 << GAP_CELLS` (8 cells a
/// gap: one id in about 16 shares its cell with the next, for random gaps).
const GAP_CELLS: u32 = 3;
/// Ids at or above this are never placed in the window (a window spans at most 2^62 ids,
/// so one placed below it never reaches `u128::MAX`).
const TOP: u128 = u128::MAX - (1 << 63);
/// Gaps longer than `1 << FAR_GAP` ids are not learnt from (another session's ids).
const FAR_GAP: u32 = 40;

/// An id taken from the table less than this many spans behind the window counts as an
/// order that outlived it (enough of them double it).
const LATE_SPANS: u128 = 16;

/// The [`Vacancy`] of an id outside the window.
pub(super) const OUTSIDE: usize = usize::MAX;

/// What the window's exact cells say of an id (see [`IdIndex::take_in_window`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The id's slot.
    Hit(u32),
    /// The id is not indexed.
    Absent,
    /// The window cannot tell: wide cells, an id outside it, or one the table may hold.
    Elsewhere,
}

/// Where an absent id will be indexed: its window cell, or [`OUTSIDE`]. Valid until the
/// index next inserts (removals do not move the window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Vacancy(pub(super) usize);

/// Whether a window of `span` ids at `base` lies within one multiple of 2^64.
#[inline]
fn one_half(base: u128, span: u64) -> bool {
    (base as u64).checked_add(span).is_some() || (base as u64).wrapping_add(span) == 0
}

/// `base`, moved down if need be so that a window of `span` ids there lies within one
/// multiple of 2^64 (`span` a multiple of 64 cells: the result stays aligned).
#[inline]
fn in_one_half(base: u128, span: u64) -> u128 {
    if one_half(base, span) {
        base
    } else {
        (base >> 64 << 64) + u128::from(span.wrapping_neg())
    }
}

/// An id's first 8 bytes as they are (see [`IdIndex::base_hi`]) and its low 64 bits.
#[inline(always)]
fn halves(id: &Uuid) -> (u64, u64) {
    let (halves, _) = id.as_bytes().as_chunks::<8>();
    (u64::from_ne_bytes(halves[0]), u64::from_be_bytes(halves[1]))
}

/// Maps order ids to slot numbers.
#[derive(Clone, Debug)]
pub(crate) struct IdIndex {
    /// The slot of an id of cell `c` (the ids `c << shift` up to the next cell's) at
    /// `c & (cap - 1)`, or [`NIL`]; `cap` is the length, a power of two.
    window: Vec<u32>,
    /// The window's first id, a multiple of `64 << shift`. `base + span <= u128::MAX`.
    base: u128,
    /// `span` while a cell is one id, else 0: the inlined paths test it alone, so a book
    /// that sees every id pays nothing for wider cells (a book with wider cells takes the
    /// out-of-line path, which reads `shift`).
    exact_span: u64,
    /// `window.len() - 1` (0 while the window is empty): a cell's number is an id's low
    /// bits masked with it, always below the window's length, so the inlined paths read
    /// and write cells without a bounds check (see [`Self::at`]).
    mask: usize,
    /// Where the table's bound (`shadow_end`) falls in the window, as an offset from its
    /// base: an id the window spans is at or above the bound exactly when its offset is at
    /// or above this (0: every id of the window; `u64::MAX`: none). The inlined paths
    /// compare the offset they computed anyway, not the 128-bit id.
    shadow_off: u64,
    /// The window's ids' high 64 bits as an id's first 8 bytes read in native order (a
    /// [`Uuid`] stores its id big-endian): the inlined paths compare an id's first 8
    /// bytes with it as they are, without reordering them.
    base_hi: u64,
    /// Where the window's exact cells that an add may take at once begin, as an id's low
    /// 64 bits: `base`'s plus `shadow_off` (see `vacant_span`).
    vacant_lo: u64,
    /// How many ids from `vacant_lo` an add may take the cell of at once: the window's
    /// exact ids at or above the table's bound (`exact_span - shadow_off`, 0 while cells
    /// are wide). One unsigned compare of the id's offset from `vacant_lo` tells that it
    /// is in the window and past the table: an empty cell is then its vacancy.
    vacant_span: u64,
    /// Each cell spans `1 << shift` ids (0: one id a cell, no id compare).
    pub(crate) shift: u32,
    /// Ids put in the window since it was created (with `left`, how many it holds; one
    /// counter per operation, as one count was).
    entered: usize,
    /// Ids taken, removed, or moved out of the window since then.
    left: usize,
    /// Ids a slide moved out of the window, in increasing order (see [`OldIds`]).
    old: OldIds,
    /// Every other id.
    table: HashTable<u32>,
    /// One past the largest id the table and `old` have held since they were last empty
    /// (0: none). Window ids at or above it are in neither.
    shadow_end: u128,
    /// The last id an insert sent to the table as far from the window.
    last_miss: u128,
    /// Inserts sent to the table in a row, each near the one before.
    near_misses: u32,
    /// Cells the window has slid past since it last grew or was placed (saturating).
    slid: u64,
    /// Takes and removes from the table, since then, of ids the window had left less
    /// than four times its span before: orders that outlived the window, not by much.
    late: u32,
    /// The largest id learnt from (0: none yet).
    last_new: u128,
    /// `entered` when `last_new` was learnt.
    entered_then: usize,
    /// Four times the mean log2 of the gaps between the book's ids (moving average;
    /// `u32::MAX`: no gap seen yet).
    gap_log4: u32,
    /// Gaps learnt since the window was last placed: a window larger than [`WIDE_CAP`]
    /// is re-strided only after a sixteenth of its length of them, so re-striding costs
    /// O(1) cells a gap amortized whatever the ids (a caller alternating spacings cannot
    /// make every insert rebuild a large window; a small one costs at most its length).
    gaps_since_placed: u32,
    hasher: IdHasher,
    /// Lookups, takes, inserts and removes that reached the table (tests measure it).
    #[cfg(test)]
    pub(crate) table_ops: std::cell::Cell<u64>,
}

impl IdIndex {
    /// An empty index with room for `capacity` ids, hashing with the process's keys.
    pub(crate) fn with_capacity(capacity: usize) -> IdIndex {
        IdIndex::with_hasher(capacity, IdHasher::per_process())
    }

    /// An empty index with room for `capacity` ids in its table, hashing with `hasher`.
    /// The window is placed by the first insert and grows with the ids it sees.
    pub(crate) fn with_hasher(capacity: usize, hasher: IdHasher) -> IdIndex {
        IdIndex {
            // Allocated by the first insert: a registered book that never trades costs no
            // window.
            window: Vec::new(),
            base: 0,
            exact_span: 0,
            mask: 0,
            shadow_off: 0,
            base_hi: 0,
            vacant_lo: 0,
            vacant_span: 0,
            shift: 0,
            entered: 0,
            left: 0,
            old: OldIds::default(),
            table: HashTable::with_capacity(capacity),
            shadow_end: 0,
            last_miss: 0,
            near_misses: 0,
            slid: 0,
            late: 0,
            last_new: 0,
            entered_then: 0,
            gap_log4: u32::MAX,
            gaps_since_placed: 0,
            hasher,
            #[cfg(test)]
            table_ops: std::cell::Cell::new(0),
        }
    }

    /// The table's hash of `id`.
    #[cfg(test)]
    pub(crate) fn hash(&self, id: &Uuid) -> u64 {
        self.hasher.hash(id)
    }

    /// Counts an operation that reached the table (tests only).
    #[inline(always)]
    fn count_table_op(&self) {
        #[cfg(test)]
        self.table_ops.set(self.table_ops.get() + 1);
    }

    /// Ids the window spans: its cells times their width, `cap << shift` (at most 2^62).
    /// The window never straddles a multiple of 2^64: its ids share their high 64 bits, so
    /// finding a cell takes 64-bit arithmetic only. (Computed, not stored: a field more
    /// took the book past a cache line.)
    #[inline]
    fn span(&self) -> u64 {
        (self.window.len() as u64) << self.shift
    }

    /// How many ids the window holds.
    #[inline]
    fn in_window(&self) -> usize {
        self.entered - self.left
    }

    /// Whether the table cannot hold `raw`: it is at or above the table's bound, unless
    /// the bound is `u128::MAX` (the table held that id: one past it does not fit).
    #[inline(always)]
    fn past_table(&self, raw: u128) -> bool {
        raw >= self.shadow_end && self.shadow_end != u128::MAX
    }

    /// The window cell of `id` while a cell is one id, if the window spans it (never
    /// while cells are wider: see [`Self::wide_cell`]), and whether the id is at or above
    /// the table's bound (then it is in no table: its cell alone decides).
    #[inline(always)]
    fn cell(&self, id: &Uuid) -> Option<(usize, bool)> {
        let (hi, low) = halves(id);
        let off = low.wrapping_sub(self.base as u64);
        (hi == self.base_hi && off < self.exact_span).then(|| {
            debug_assert_eq!(off >= self.shadow_off, id.as_u128() >= self.shadow_end);
            (low as usize & self.mask, off >= self.shadow_off)
        })
    }

    /// Cell `cell`'s slot, for a cell number masked with `mask` (so below the window's
    /// length while it has cells; [`Self::cell`] finds one only then).
    #[inline(always)]
    #[allow(unsafe_code)]
    fn at(&self, cell: usize) -> u32 {
        debug_assert!(cell < self.window.len(), "cell {cell} past the window");
        // SAFETY: `cell` is an id's bits masked with `mask`, which is `window.len() - 1`
        // for a power-of-two length (`reshaped` keeps it so), found by `cell` only while
        // `exact_span` is non-zero, that is while the window has cells: it is in bounds.
        unsafe { *self.window.get_unchecked(cell) }
    }

    /// Sets cell `cell` (as for [`Self::at`]) to `slot`.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn set_at(&mut self, cell: usize, slot: u32) {
        debug_assert!(cell < self.window.len(), "cell {cell} past the window");
        // SAFETY: as for `at`: `cell` is masked with `window.len() - 1` of a window that
        // has cells, so it is in bounds.
        unsafe {
            *self.window.get_unchecked_mut(cell) = slot;
        }
    }

    /// The window cell of `id`, if the window spans it, whatever its cells' width.
    #[inline]
    fn any_cell(&self, id: u128) -> Option<usize> {
        let low = id as u64;
        let off = low.wrapping_sub(self.base as u64);
        ((id >> 64) as u64 == (self.base >> 64) as u64 && off < self.span())
            .then(|| (low >> self.shift) as usize & (self.window.len() - 1))
    }

    /// The window cell of `id` while cells are wider than one id, if the window spans it
    /// (a cell found there may hold another id of the same cell).
    #[inline]
    fn wide_cell(&self, id: u128) -> Option<usize> {
        if self.shift == 0 {
            return None;
        }
        self.any_cell(id)
    }

    /// Records the window's new geometry (`span`, `shift`, the base or the cells
    /// changed).
    fn reshaped(&mut self) {
        self.exact_span = if self.shift == 0 { self.span() } else { 0 };
        self.mask = self.window.len().saturating_sub(1);
        self.reshadow();
    }

    /// Records where the table's bound falls in the window (the bound or the window's
    /// base moved).
    #[inline]
    fn reshadow(&mut self) {
        self.shadow_off =
            u64::try_from(self.shadow_end.saturating_sub(self.base)).unwrap_or(u64::MAX);
        self.base_hi = ((self.base >> 64) as u64).to_be();
        self.vacant_lo = (self.base as u64).wrapping_add(self.shadow_off);
        self.vacant_span = self.exact_span.saturating_sub(self.shadow_off);
    }

    /// The slot holding `id`; `id_of` reads the id stored in a slot.
    #[inline]
    pub(crate) fn find(&self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        if let Some((cell, beyond)) = self.cell(id) {
            let slot = self.at(cell);
            if slot != NIL {
                return Some(slot);
            }
            if beyond {
                return None;
            }
        }
        self.find_outside(id, id_of)
    }

    /// [`Self::find`] in the window's exact cells only, as [`Self::take_in_window`].
    #[inline(always)]
    pub(crate) fn find_in_window(&self, id: &Uuid) -> Probe {
        if let Some((cell, beyond)) = self.cell(id) {
            let slot = self.at(cell);
            if slot != NIL {
                return Probe::Hit(slot);
            }
            if beyond {
                return Probe::Absent;
            }
        }
        Probe::Elsewhere
    }

    /// [`Self::find`] in a window of wide cells, then the table.
    #[inline(never)]
    pub(crate) fn find_outside(&self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        let raw = id.as_u128();
        if let Some(cell) = self.wide_cell(raw) {
            let slot = self.window[cell];
            if slot != NIL && id_of(slot).as_u128() == raw {
                return Some(slot);
            }
            if raw >= self.shadow_end {
                return None;
            }
        }
        self.find_in_table(id, id_of)
    }

    /// [`Self::find`] in the table.
    #[inline]
    fn find_in_table(&self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        // No table id is at or above its bound (the window's ids just past its end, an
        // add's new id, never hash).
        let raw = id.as_u128();
        if self.past_table(raw) {
            return None;
        }
        if let Some(slot) = self.old.find(raw) {
            return Some(slot);
        }
        if self.table.is_empty() {
            return None;
        }
        self.count_table_op();
        self.table
            .find(self.hasher.hash(id), |&slot| id_of(slot) == *id)
            .copied()
    }

    /// Looks `id` up for an insert: `Err` with its slot if it is indexed, else where it
    /// will go, for [`Self::insert_at`] (one window computation for the duplicate check and
    /// the insert of an add).
    #[inline]
    pub(crate) fn vacancy(&self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Result<Vacancy, u32> {
        let (hi, low) = halves(id);
        if hi == self.base_hi && low.wrapping_sub(self.vacant_lo) < self.vacant_span {
            debug_assert_eq!(self.cell(id).map(|(_, beyond)| beyond), Some(true));
            let cell = low as usize & self.mask;
            let slot = self.at(cell);
            return if slot == NIL {
                Ok(Vacancy(cell))
            } else {
                Err(slot)
            };
        }
        self.vacancy_outside(id, id_of)
    }

    /// [`Self::vacancy`] of an id its inlined path did not decide: one in a window of wide
    /// cells, one of exact cells below the table's bound, or one outside the window (then
    /// the table).
    #[inline(never)]
    fn vacancy_outside(&self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Result<Vacancy, u32> {
        let raw = id.as_u128();
        if let Some(cell) = self.any_cell(raw) {
            let slot = self.window[cell];
            if slot == NIL {
                if raw >= self.shadow_end {
                    return Ok(Vacancy(cell));
                }
            } else if id_of(slot).as_u128() == raw {
                return Err(slot);
            } else if raw >= self.shadow_end {
                // Another id has the cell: this one goes to the table.
                return Ok(Vacancy(OUTSIDE));
            }
        }
        match self.find_in_table(id, id_of) {
            Some(slot) => Err(slot),
            None => Ok(Vacancy(OUTSIDE)),
        }
    }

    /// Indexes `slot` for `id`, which is not present yet; `id_of` reads the id stored in
    /// a slot.
    #[cfg(test)]
    pub(crate) fn insert(&mut self, id: &Uuid, slot: u32, id_of: impl Fn(u32) -> Uuid) {
        let raw = id.as_u128();
        if let Some(cell) = self.any_cell(raw)
            && self.window[cell] == NIL
        {
            self.window[cell] = slot;
            self.entered += 1;
            return;
        }
        self.insert_outside(raw, slot, id_of);
    }

    /// Indexes `slot` for `id` where [`Self::vacancy`] found room, with no index change
    /// since but removals.
    #[inline]
    pub(crate) fn insert_at(
        &mut self,
        vacancy: Vacancy,
        id: &Uuid,
        slot: u32,
        id_of: impl Fn(u32) -> Uuid,
    ) {
        if vacancy.0 != OUTSIDE {
            debug_assert_eq!(self.any_cell(id.as_u128()), Some(vacancy.0));
            // A vacancy's cell was masked with `mask`, and only removals (which move no
            // window) happened since: in bounds.
            self.set_at(vacancy.0, slot);
            self.entered += 1;
            return;
        }
        self.insert_outside(id.as_u128(), slot, id_of);
    }

    /// [`Self::insert`] of an id with no free cell: learn the spacing of the book's ids
    /// from it, then put it in the window if it is in the window's span (or just past its
    /// end: slide or grow the window to it), else in the table (and re-place the window
    /// after a run of such ids near one another).
    #[inline(never)]
    fn insert_outside(&mut self, raw: u128, slot: u32, id_of: impl Fn(u32) -> Uuid) {
        self.learn(raw, &id_of);
        if let Some(cell) = self.any_cell(raw) {
            if self.window[cell] == NIL {
                self.window[cell] = slot;
                self.entered += 1;
            } else {
                self.spill(raw, slot, &id_of);
            }
            return;
        }
        let end = self.base + u128::from(self.span());
        if raw >= end && raw - end < self.reach() && raw < TOP {
            if self.in_window() * 2 > self.window.len() && self.window.len() < MAX_CAP {
                self.grow();
            }
            let end = self.base + u128::from(self.span());
            // A sixteenth of the window at least: a slide every few ids would cost more
            // than the window's oldest sixteenth going to the table a little early.
            let step = if raw >= end {
                (((raw - end) >> self.shift) + 1)
                    .max(self.window.len() as u128 / 16)
                    .next_multiple_of(BLOCK as u128)
            } else {
                0
            };
            let base = self.base + (step << self.shift);
            if one_half(base, self.span()) {
                if step > 0 {
                    self.slide(step, &id_of);
                }
                let cell = self.any_cell(raw).expect("the window now spans the id");
                debug_assert_eq!(
                    self.window[cell], NIL,
                    "a slide empties the cells it enters"
                );
                self.window[cell] = slot;
                self.entered += 1;
                return;
            }
        }
        if raw.abs_diff(self.last_miss) < u128::from(self.span()) {
            self.near_misses = self.near_misses.saturating_add(1);
        } else {
            self.near_misses = 0;
        }
        self.last_miss = raw;
        self.spill(raw, slot, &id_of);
        if self.near_misses as usize >= self.window.len() / 4 && raw < TOP {
            let base = self.aligned(raw.saturating_sub(u128::from(self.span() / 2)));
            self.place(base, self.shift, &id_of);
        }
    }

    /// How many ids past its end an insert may be and still slide the window: [`SLIDE`]
    /// times its span (a book that wakes after a quiet spell moves its window to its new
    /// ids; a slide's work is at most the window's length whatever its distance). Ids
    /// further away (another session, random ids) go to the table.
    #[inline]
    fn reach(&self) -> u128 {
        SLIDE * u128::from(self.span())
    }

    /// `id` rounded down to a multiple of 64 cells.
    #[inline]
    fn aligned(&self, id: u128) -> u128 {
        id & !(((BLOCK as u128) << self.shift) - 1)
    }

    /// Learns the spacing of the book's ids from `raw`, an id an insert could not put in a
    /// free cell: if it is the largest yet, the mean gap since the last one learnt (over
    /// the ids the window took in between) joins a moving average of gaps' log2. When the
    /// cell width that average asks for is off by more than one and a half doublings, the
    /// window is rebuilt with that width (allocated at the first insert).
    fn learn(&mut self, raw: u128, id_of: &impl Fn(u32) -> Uuid) {
        let mut learnt = false;
        if raw > self.last_new {
            let ids = (self.entered - self.entered_then + 1) as u64;
            let span = raw - self.last_new;
            self.last_new = raw;
            self.entered_then = self.entered;
            if span < ids as u128 * (1 << FAR_GAP) {
                let gap = span as u64 / ids;
                let log = 63 - gap.max(1).leading_zeros();
                // One gap moves the average by half a doubling at most: a few close or
                // far ids do not re-stride the window, a change of spacing does.
                self.gap_log4 = match self.gap_log4 {
                    u32::MAX => 4 * log,
                    avg => avg - avg / 4 + (4 * log).clamp(avg.saturating_sub(8), avg + 8) / 4,
                };
                learnt = true;
                self.gaps_since_placed = self.gaps_since_placed.saturating_add(1);
            }
        }
        // Random ids, ids of another session far away, and ids below the largest teach
        // nothing: they cost this one test.
        if !learnt && !self.window.is_empty() {
            return;
        }
        let want4 = match self.gap_log4 {
            u32::MAX => 0,
            avg => avg.saturating_sub(4 * GAP_CELLS).min(4 * MAX_SHIFT),
        };
        // Cells of two ids are not worth the out-of-line path: one id a cell until four.
        let shift = if want4 < 8 { 0 } else { want4 / 4 };
        if raw >= TOP {
            return;
        }
        if self.window.is_empty() {
            let cap = if shift == 0 { MIN_CAP } else { WIDE_CAP };
            self.window = empty_cells(cap);
            self.shift = shift;
            // The window ends less than 64 cells past `raw`: later ids come after it.
            let base = self
                .aligned(raw)
                .saturating_sub(u128::from(self.span()) - ((BLOCK as u128) << shift));
            self.base = in_one_half(base, self.span());
            self.reshaped();
        } else if want4.abs_diff(4 * self.shift) >= 8
            && (self.window.len() <= WIDE_CAP
                || self.gaps_since_placed as usize * 16 >= self.window.len())
        {
            let span = (self.window.len() as u128) << shift;
            let base = raw.saturating_sub(span - ((BLOCK as u128) << shift))
                & !(((BLOCK as u128) << shift) - 1);
            self.place(base, shift, id_of);
        }
    }

    /// Puts `raw` (at `slot`) in the table.
    fn spill(&mut self, raw: u128, slot: u32, id_of: &impl Fn(u32) -> Uuid) {
        self.count_table_op();
        let hasher = self.hasher;
        self.table
            .insert_unique(hasher.hash(&Uuid::from_u128(raw)), slot, |&s| {
                hasher.hash(&id_of(s))
            });
        // Saturating: the id `u128::MAX` leaves the bound at `u128::MAX`, which bounds
        // nothing (see `Self::past_table`).
        self.shadow_end = self.shadow_end.max(raw.saturating_add(1));
        self.reshadow();
    }

    /// Keeps the table at most about half taken, tombstones included: once what it may
    /// still take is less than it holds, it is rebuilt without its tombstones (in place,
    /// if that leaves room enough) or at twice the size. Called by the long form as it
    /// parks a stop, never on the plain path, whose tables stay as hashbrown grows them
    /// (at 7/8 of their buckets): a book of plain orders pays neither the test nor the
    /// memory.
    ///
    /// Why: an id erased from a full run of buckets leaves a tombstone, which every lookup
    /// passing there probes past as if taken, and hashbrown clears them only once they
    /// have used up the table's room. The long form's book, whose parked stops are half
    /// its indexed ids and come and go beside its orders, had its table 65% taken, half of
    /// it tombstones: the lookups of absent ids (every add's duplicate check) went on to a
    /// second group of buckets, a mispredicted branch and often a cache line more.
    #[inline]
    pub(crate) fn keep_room(&mut self, id_of: impl Fn(u32) -> Uuid) {
        let held = self.table.len();
        if self.table.capacity() < 2 * held {
            self.make_room(held, &id_of);
        }
    }

    /// [`Self::keep_room`]'s rebuild: room for `held` more ids than the table holds.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, held: usize, id_of: &impl Fn(u32) -> Uuid) {
        let hasher = self.hasher;
        self.table.reserve(held, |&s| hasher.hash(&id_of(s)));
    }

    /// Doubles the window, keeping its base and its cells' width (unless it would then
    /// straddle a multiple of 2^64).
    #[cold]
    fn grow(&mut self) {
        if !one_half(self.base, self.span() * 2) {
            return;
        }
        let cap = self.window.len();
        let mut window = empty_cells(cap * 2);
        // In at most three runs: each ends where the old or the new ring wraps. Runs are
        // whole blocks (the base and both lengths are multiples of a block), copied a
        // block at a time, the empty ones skipped.
        let mut cell = (self.base >> self.shift) as usize;
        let mut left = cap;
        while left > 0 {
            let (from, to) = (cell & (cap - 1), cell & (2 * cap - 1));
            let run = left.min(cap - from).min(2 * cap - to);
            blocks::copy_live(&mut window[to..to + run], &self.window[from..from + run]);
            cell = cell.wrapping_add(run);
            left -= run;
        }
        self.window = window;
        self.reshaped();
        self.slid = 0;
        self.late = 0;
    }

    /// Moves the window `step` cells (a multiple of a block) forward: the ids it leaves
    /// that still rest go to the table. The base stays a multiple of a block, so the cells
    /// left are blocks that never wrap, and a block with no resting id (the common case:
    /// most orders are gone before the window leaves them) costs one vector AND. Each time
    /// the window has slid a quarter of its length, it doubles if more than 1 in 4,096 of
    /// its length (1 in 16,384 for cells of 4 ids or more) were taken from the table or the
    /// old ids soon after it left them: orders live longer than it spans (1 in 256 cost
    /// more on the market regimes: each late take bisects the old ids, where a doubling is
    /// paid once). It grows so up to [`SMALL_CAP`]
    /// cells, and past that while it has 32 cells or fewer an indexed order. (Orders that
    /// rest for good never count: counting what a slide moves would double the window up
    /// to its largest for a book whose every 20th order stays.)
    #[inline(never)]
    fn slide(&mut self, step: u128, id_of: &impl Fn(u32) -> Uuid) {
        debug_assert!(step.is_multiple_of(BLOCK as u128) && self.aligned(self.base) == self.base);
        let cap = self.window.len();
        let first = (self.base >> self.shift) as usize & (cap - 1);
        let blocks = (step.min(cap as u128) / BLOCK as u128) as usize;
        // Exact cells hold consecutive ids: when the old ids can take all the ids the
        // slide leaves (the usual case), its live blocks go there with no check an id.
        let run = if self.shift == 0 {
            let last = self.base + (blocks * BLOCK) as u128 - 1;
            self.old.open_run(self.base, last)
        } else {
            None
        };
        if let Some(lo) = run {
            // The cells left, in at most two contiguous runs (the second from the ring's
            // start): walked as slices of blocks, no mask or bounds check a block.
            let cells = blocks * BLOCK;
            let head = cells.min(cap - first);
            let (window, old) = (&mut self.window, &mut self.old);
            let (mut left, mut last, mut key) = (0, None, lo);
            let (wrapped, from_first) = window.split_at_mut(first);
            for run in [&mut from_first[..head], &mut wrapped[..cells - head]] {
                let (run, _) = run.as_chunks_mut::<BLOCK>();
                for block in run {
                    let live = blocks::live(block);
                    if live != 0 {
                        let cells = std::mem::replace(block, EMPTY);
                        let (n, at) = old.append_block(key, live, &cells);
                        left += n;
                        last = Some(at);
                    }
                    key += BLOCK as u64;
                }
            }
            self.left += left;
            if let Some(at) = last {
                self.old.close_run(at);
            }
        }
        for k in 0..if run.is_some() { 0 } else { blocks } {
            // A block of cells: contiguous, as the base and the window's length are
            // multiples of a block, tested in place (copying it out first cost about 20
            // instructions a block). Its live cells as bits (14 instructions in SSE2, see
            // `blocks::live`), then only those visited: a block of a deep book holds a few
            // orders that rest on among cells long vacated.
            let block = (first + k * BLOCK) & (cap - 1);
            let (cells, _) = self.window[block..].as_chunks::<BLOCK>();
            let live = blocks::live(&cells[0]);
            if live != 0 {
                self.leave_block(block, live, self.base + (k * BLOCK) as u128, id_of);
            }
        }
        // The table's bound covers the old ids (raised once, not for each id moved).
        self.shadow_end = self.shadow_end.max(self.old.end());
        self.base += step << self.shift;
        self.reshadow();
        self.slid = self
            .slid
            .saturating_add(u64::try_from(step).unwrap_or(u64::MAX));
        if self.slid.saturating_mul(4) >= cap as u64 {
            let outlived = self.late as usize * 4096 > cap >> self.shift.min(2);
            if outlived && cap < MAX_CAP && (cap < SMALL_CAP || cap < 32 * self.len()) {
                self.grow();
            }
            self.slid = 0;
            self.late = 0;
        }
    }

    /// Empties the block of cells at `block`, whose cells `live` (as bits, not 0) hold a
    /// slot (a slide leaves it; its first cell is of the ids from `first_id`): those ids
    /// move to the old ids (or, out of order, to the table).
    #[inline(always)]
    fn leave_block(
        &mut self,
        block: usize,
        mut live: u32,
        first_id: u128,
        id_of: &impl Fn(u32) -> Uuid,
    ) {
        let (cells, _) = self.window[block..].as_chunks_mut::<BLOCK>();
        let cells = std::mem::replace(&mut cells[0], EMPTY);
        while live != 0 {
            let i = live.trailing_zeros() as usize;
            live &= live - 1;
            let slot = cells[i];
            self.left += 1;
            let id = if self.shift == 0 {
                first_id + i as u128
            } else {
                id_of(slot).as_u128()
            };
            // In increasing order: `old` takes them but for the first after a re-placing
            // moved the window back.
            if !self.old.push(id, slot) {
                self.spill(id, slot, id_of);
            }
        }
    }

    /// Places the window at `base` (a multiple of `64 << shift`) with cells `1 << shift`
    /// ids wide: every id it holds moves to its new cell if the window still spans it and
    /// the cell is free, else to the table.
    #[cold]
    fn place(&mut self, base: u128, shift: u32, id_of: &impl Fn(u32) -> Uuid) {
        let mut held = Vec::with_capacity(self.in_window());
        held.extend(self.window.iter().copied().filter(|&s| s != NIL));
        let cap = if shift > 0 {
            self.window.len().max(WIDE_CAP)
        } else {
            self.window.len()
        };
        self.window = empty_cells(cap);
        self.shift = shift;
        self.base = in_one_half(base, self.span());
        self.reshaped();
        self.entered = 0;
        self.left = 0;
        self.entered_then = 0;
        for slot in held {
            let raw = id_of(slot).as_u128();
            match self.any_cell(raw) {
                Some(cell) if self.window[cell] == NIL => {
                    self.window[cell] = slot;
                    self.entered += 1;
                }
                _ => self.spill(raw, slot, id_of),
            }
        }
        self.entered_then = self.entered;
        self.gaps_since_placed = 0;
        self.near_misses = 0;
        self.slid = 0;
        self.late = 0;
    }

    /// [`Self::take`] in the window's exact cells only: the slot, the id's absence, or
    /// [`Probe::Elsewhere`] (then [`Self::take_outside`] decides). A caller branches on
    /// the answer with its own out-of-line path for the rest, so the inlined path does
    /// not merge a found slot with a call's result (an `Option` built and tested again).
    #[inline(always)]
    pub(crate) fn take_in_window(&mut self, id: &Uuid) -> Probe {
        if let Some((cell, beyond)) = self.cell(id) {
            let slot = self.at(cell);
            if slot != NIL {
                self.set_at(cell, NIL);
                self.left += 1;
                return Probe::Hit(slot);
            }
            if beyond {
                return Probe::Absent;
            }
        }
        Probe::Elsewhere
    }

    /// Finds `id` and drops it from the index, returning its slot; `id_of` reads the id
    /// stored in a slot. (The book takes in two steps, [`Self::take_in_window`] then
    /// [`Self::take_outside`].)
    #[cfg(test)]
    pub(crate) fn take(&mut self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        if let Some((cell, beyond)) = self.cell(id) {
            let slot = self.at(cell);
            if slot != NIL {
                self.set_at(cell, NIL);
                self.left += 1;
                return Some(slot);
            }
            if beyond {
                return None;
            }
        }
        self.take_outside(id, id_of)
    }

    /// [`Self::take`] from a window of wide cells, then the table.
    #[inline(never)]
    pub(crate) fn take_outside(&mut self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        let raw = id.as_u128();
        if let Some(cell) = self.wide_cell(raw) {
            let slot = self.window[cell];
            if slot != NIL && id_of(slot).as_u128() == raw {
                self.window[cell] = NIL;
                self.left += 1;
                return Some(slot);
            }
            if raw >= self.shadow_end {
                return None;
            }
        }
        self.take_from_table(id, id_of)
    }

    /// [`Self::take`] from the table.
    #[inline]
    fn take_from_table(&mut self, id: &Uuid, id_of: impl Fn(u32) -> Uuid) -> Option<u32> {
        let raw = id.as_u128();
        if self.past_table(raw) {
            return None;
        }
        if let Some(slot) = self.old.take(raw) {
            self.count_late(raw);
            self.outside_left();
            return Some(slot);
        }
        if self.table.is_empty() {
            return None;
        }
        self.count_table_op();
        let entry = self
            .table
            .find_entry(self.hasher.hash(id), |&slot| id_of(slot) == *id)
            .ok()?;
        let (slot, _) = entry.remove();
        self.count_late(raw);
        self.outside_left();
        Some(slot)
    }

    /// Tightens the table's bound after an id left the table or `old`: 0 once both are
    /// empty, `old`'s end while the table is.
    #[inline]
    fn outside_left(&mut self) {
        // Most often the bound is `old`'s end already (a slide raised it so, the table
        // being empty): then nothing moves, and the window's bounds are not recomputed
        // (about 20 instructions a filled maker's removal from the old ids).
        if self.table.is_empty() && self.shadow_end != self.old.end() {
            self.shadow_end = self.old.end();
            self.reshadow();
        }
    }

    /// Drops `slot`, indexed for `id`, from the index.
    #[inline]
    pub(crate) fn remove(&mut self, id: &Uuid, slot: u32) {
        if let Some((cell, _)) = self.cell(id)
            && self.at(cell) == slot
        {
            self.set_at(cell, NIL);
            self.left += 1;
            return;
        }
        self.remove_outside(id, slot);
    }

    /// [`Self::remove`] from a window of wide cells, else from the table.
    #[inline(never)]
    fn remove_outside(&mut self, id: &Uuid, slot: u32) {
        if let Some(cell) = self.wide_cell(id.as_u128())
            && self.window[cell] == slot
        {
            self.window[cell] = NIL;
            self.left += 1;
            return;
        }
        self.remove_from_table(id, slot);
    }

    /// [`Self::remove`] from the table.
    #[inline]
    fn remove_from_table(&mut self, id: &Uuid, slot: u32) {
        let raw = id.as_u128();
        if self.old.remove(raw, slot) {
            self.count_late(raw);
            self.outside_left();
            return;
        }
        self.count_table_op();
        match self.table.find_entry(self.hasher.hash(id), |&s| s == slot) {
            Ok(entry) => {
                entry.remove();
                self.count_late(raw);
                self.outside_left();
            }
            Err(_) => debug_assert!(false, "slot {slot} was not indexed"),
        }
    }

    /// Counts a table id the window left less than four times its span ago.
    #[inline]
    fn count_late(&mut self, raw: u128) {
        if raw < self.base && self.base - raw <= LATE_SPANS * u128::from(self.span()) {
            self.late = self.late.saturating_add(1);
        }
    }

    /// How many ids are indexed.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.in_window() + self.old.len() + self.table.len()
    }

    /// Every indexed slot, window first, then the ids the window left, then in table
    /// order: that order depends on the process's hash keys, so it must never be used to
    /// produce output.
    pub(crate) fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.window
            .iter()
            .copied()
            .filter(|&s| s != NIL)
            .chain(self.old.slots())
            .chain(self.table.iter().copied())
    }

    /// Checks the window's own bookkeeping: its count, that each id it holds is the id
    /// stored in its slot, and that no table id lies at or above the table's bound.
    /// Returns what disagrees.
    pub(crate) fn check(&self, id_of: impl Fn(u32) -> Uuid) -> Result<(), String> {
        let cap = self.window.len();
        if cap != 0
            && (!cap.is_power_of_two()
                || self.exact_span != if self.shift == 0 { self.span() } else { 0 }
                || self.mask != cap - 1
                || self.aligned(self.base) != self.base
                || !one_half(self.base, self.span()))
        {
            return Err(format!(
                "window of {cap} cells of 2^{} ids at id {}",
                self.shift, self.base
            ));
        }
        let mut held = 0;
        for (cell, &slot) in self.window.iter().enumerate() {
            if slot == NIL {
                continue;
            }
            held += 1;
            let stored = id_of(slot).as_u128();
            if self.any_cell(stored) != Some(cell) {
                return Err(format!(
                    "window cell {cell} holds slot {slot}, whose id {stored} has no cell there"
                ));
            }
        }
        if held != self.in_window() {
            return Err(format!(
                "window counts {} ids, holds {held}",
                self.in_window()
            ));
        }
        self.old.check()?;
        if let Some((raw, slot)) = self.old.ids().find(|&(raw, s)| id_of(s).as_u128() != raw) {
            return Err(format!(
                "old id {raw} is indexed at slot {slot}, which holds id {}",
                id_of(slot).as_u128()
            ));
        }
        if self.old.len() > 0 && self.past_table(self.old.end() - 1) {
            return Err(format!(
                "old ids end at {}, past the table's bound {}",
                self.old.end(),
                self.shadow_end
            ));
        }
        if let Some(&slot) = self
            .table
            .iter()
            .find(|&&s| self.past_table(id_of(s).as_u128()))
        {
            return Err(format!(
                "table id {} of slot {slot} is at or above the table's bound {}",
                id_of(slot).as_u128(),
                self.shadow_end
            ));
        }
        Ok(())
    }

    /// Bytes held by the window and the table.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.window.capacity() * std::mem::size_of::<u32>()
            + self.old.heap_bytes()
            + self.table.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The old index's per-hasher seed (`b"RINGBOOK"` xor foldhash's `ARBITRARY3`): ids
    /// whose low 64 bits are this all hashed to 0.
    const OLD_SEED: u64 = 0x5a67_b4df_ae01_23c2;
    /// foldhash's fixed shared seed `ARBITRARY6`, xored into the high half under the old
    /// seed.
    const OLD_SHARED: u64 = 0xc0ac_29b7_c97c_50dd;
    /// Ids per adversarial set: the old code took quadratic time on them.
    const IDS: u64 = 4_096;

    /// Ids sharing the low 64 bits that zeroed the old hash.
    fn sharing_the_old_seed() -> Vec<Uuid> {
        (1..=IDS)
            .map(|n| Uuid::from_u64_pair(n, OLD_SEED))
            .collect()
    }

    /// Ids the old hash mapped to exactly `n << 20`: the same low 20 bits (one home group
    /// in any table of up to a million buckets) and the same top 7 (hashbrown's tag).
    fn crafted_against_the_old_seed() -> Vec<Uuid> {
        (1..=IDS)
            .map(|n| Uuid::from_u64_pair(OLD_SHARED ^ (n << 20), OLD_SEED ^ 1))
            .collect()
    }

    /// The most ids of `ids` whose hashes share the low `bits` bits (a home bucket in a
    /// table of 2^bits buckets), and how many distinct hashes there are.
    fn crowding(index: &IdIndex, ids: &[Uuid], bits: u32) -> (usize, usize) {
        let mut homes: HashMap<u64, usize> = HashMap::new();
        let mut hashes: HashMap<u64, usize> = HashMap::new();
        for id in ids {
            let hash = index.hash(id);
            *homes.entry(hash & ((1 << bits) - 1)).or_default() += 1;
            *hashes.entry(hash).or_default() += 1;
        }
        (homes.values().copied().max().unwrap_or(0), hashes.len())
    }

    /// Indexes `ids` (slot n holds `ids[n]`), checks each is found, then takes each.
    fn index_find_and_take(mut index: IdIndex, ids: &[Uuid]) {
        for slot in 0..ids.len() as u32 {
            index.insert(&ids[slot as usize], slot, |s| ids[s as usize]);
        }
        assert_eq!(index.len(), ids.len());
        for (slot, id) in ids.iter().enumerate() {
            let found = index.find(id, |s| ids[s as usize]);
            assert_eq!(found, Some(slot as u32), "{id}");
        }
        for (slot, id) in ids.iter().enumerate() {
            assert_eq!(index.take(id, |s| ids[s as usize]), Some(slot as u32));
        }
        assert_eq!(index.len(), 0);
    }

    /// A book's slots as the index sees them: slot n holds `ids[n]`.
    struct Slots(Vec<Uuid>);

    impl Slots {
        /// Rests `id` in a new slot and indexes it.
        fn add(&mut self, index: &mut IdIndex, id: u128) -> u32 {
            let slot = self.0.len() as u32;
            self.0.push(Uuid::from_u128(id));
            let ids = &self.0;
            assert_eq!(index.find(&ids[slot as usize], |s| ids[s as usize]), None);
            index.insert(&ids[slot as usize], slot, |s| ids[s as usize]);
            slot
        }

        /// Looks `id` up.
        fn find(&self, index: &IdIndex, id: u128) -> Option<u32> {
            index.find(&Uuid::from_u128(id), |s| self.0[s as usize])
        }

        /// Takes `id` out.
        fn take(&self, index: &mut IdIndex, id: u128) -> Option<u32> {
            index.take(&Uuid::from_u128(id), |s| self.0[s as usize])
        }
    }

    /// A new index holds no window (an idle book costs none), and the first dense id
    /// still lands in the window the insert allocates, not in the table.
    #[test]
    fn the_window_is_allocated_by_the_first_insert() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        assert_eq!(index.window.capacity(), 0);
        assert_eq!(slots.find(&index, 7), None);
        assert_eq!(slots.take(&mut index, 7), None);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
        let slot = slots.add(&mut index, 7);
        assert_eq!(index.window.len(), MIN_CAP);
        assert_eq!((index.in_window(), index.table.len()), (1, 0));
        assert_eq!(slots.find(&index, 7), Some(slot));
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// A session's dense ids, each cancelled 300 ids later except every 50th (which rests
    /// on): the window follows the ids, the ones it leaves behind move to the sorted list
    /// of old ids (not the table: no hash), and every id is found where it is.
    #[test]
    fn dense_ids_are_held_by_the_window_and_stragglers_move_to_the_old_ids() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let mut slot_of = HashMap::new();
        for id in 1..=20_000u128 {
            slot_of.insert(id, slots.add(&mut index, id));
            if id > 300 && (id - 300) % 50 != 0 {
                assert_eq!(slots.take(&mut index, id - 300), Some(slot_of[&(id - 300)]));
            }
        }
        // 300 in flight at the end, and the 394 stragglers before them.
        assert_eq!(index.len(), 300 + 19_700 / 50);
        let behind = (1..=19_700u128)
            .filter(|&id| id % 50 == 0 && id < index.base)
            .count();
        assert!(behind >= 370, "the window left {behind} stragglers behind");
        assert_eq!(index.old.len(), behind, "only the stragglers behind it");
        assert_eq!(index.table.len(), 0, "no straggler hashed");
        let table_ops = index.table_ops.get();
        assert!(
            index.window.len() <= 1_024,
            "{} cells for never more than 300 in flight",
            index.window.len()
        );
        for id in 1..=20_000u128 {
            let rests = id > 19_700 || id % 50 == 0;
            assert_eq!(slots.find(&index, id), rests.then(|| slot_of[&id]), "{id}");
        }
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
        // A late cancel of a gone id finds nothing, in the window or behind it.
        assert_eq!(slots.take(&mut index, 19_699), None);
        assert_eq!(slots.take(&mut index, 1), None);
        assert_eq!(slots.take(&mut index, 100), Some(slot_of[&100]));
        assert_eq!(index.old.len(), behind - 1);
        assert_eq!(index.table_ops.get(), table_ops, "found without the table");
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// Dense ids of which every third rests on: the blocks a slide leaves hold several
    /// live cells each, and go to the old ids a block at a time; every id is found, taken
    /// and absent where it should be, none hashed, after a re-placing too.
    #[test]
    fn a_slide_moves_blocks_of_resting_ids_to_the_old_ids_at_once() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let mut slot_of = HashMap::new();
        for id in 1..=30_000u128 {
            slot_of.insert(id, slots.add(&mut index, id));
            if id > 200 && (id - 200) % 3 != 0 {
                assert_eq!(slots.take(&mut index, id - 200), Some(slot_of[&(id - 200)]));
            }
        }
        assert!(index.old.len() > 9_000, "{} old ids", index.old.len());
        assert_eq!(index.table.len(), 0, "no resting id hashed");
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
        for id in 1..=30_000u128 {
            let rests = id > 29_800 || id % 3 == 0;
            assert_eq!(slots.find(&index, id), rests.then(|| slot_of[&id]), "{id}");
        }
        // Half the old ones taken (the list compacts), the rest still found.
        for id in (3..=15_000u128).step_by(3) {
            assert_eq!(slots.take(&mut index, id), Some(slot_of[&id]), "{id}");
        }
        for id in (15_003..=29_700u128).step_by(3) {
            assert_eq!(slots.find(&index, id), Some(slot_of[&id]), "{id}");
        }
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
        assert_eq!(index.table_ops.get(), 0, "never the table");
    }

    /// An add's one-compare vacancy takes only cells at or above the table's bound: an id
    /// the table holds inside the window (it went there while far ahead) is refused as a
    /// duplicate with its slot, a new id below the bound is given its own cell after the
    /// table is asked, and a new id above it is given its cell at once.
    #[test]
    fn vacancy_refuses_a_table_id_the_window_spans_and_places_new_ids_around_it() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        slots.add(&mut index, 1);
        // Too far past the small window to slide it: the table.
        let far = slots.add(&mut index, 10_000);
        assert_eq!(index.table.len(), 1);
        // Dense ids up to it and past it, each taken 100 ids later (but 9,990, kept).
        for id in 2..=10_050u128 {
            if id != 10_000 {
                slots.add(&mut index, id);
            }
            if id > 100 && id - 100 != 9_990 {
                slots.take(&mut index, id - 100);
            }
        }
        assert!(index.any_cell(9_950).is_some(), "the window spans 9,950");
        assert_eq!(
            index.table.len(),
            1,
            "10,000 is in the table, not in its cell"
        );
        let ids = &slots.0;
        let vacancy =
            |index: &IdIndex, id: u128| index.vacancy(&Uuid::from_u128(id), |s| ids[s as usize]);
        assert_eq!(
            vacancy(&index, 10_000),
            Err(far),
            "a duplicate of a table id"
        );
        let kept = slots.find(&index, 9_990).expect("9,990 rests");
        assert_eq!(vacancy(&index, 9_990), Err(kept));
        // Free below the table's bound (9,900, taken: after asking the table, which leaves where
        // to the insert) and above it (its cell).
        assert!(vacancy(&index, 9_900).is_ok());
        for id in [10_051, 10_060] {
            let cell = index.any_cell(id).expect("in the window");
            assert_eq!(vacancy(&index, id), Ok(Vacancy(cell)), "{id}");
        }
        // Every id the window spans: an indexed one is refused with its slot, a free one
        // at or above the bound gets its cell.
        let end = index.base + u128::from(index.span());
        for id in index.base..end {
            match (slots.find(&index, id), vacancy(&index, id)) {
                (Some(slot), answer) => assert_eq!(answer, Err(slot), "{id}"),
                (None, Ok(Vacancy(cell))) if id > 10_000 => {
                    assert_eq!(Some(cell), index.any_cell(id), "{id}")
                }
                (None, answer) => assert!(answer.is_ok(), "{id}: {answer:?}"),
            }
        }
        // Past the window's end: no cell yet (the insert slides the window to it).
        assert_eq!(vacancy(&index, end), Ok(Vacancy(OUTSIDE)));
        assert_eq!(vacancy(&index, end + 5), Ok(Vacancy(OUTSIDE)));
        let before = slots.0.len() as u32;
        assert_eq!(slots.add(&mut index, 9_900), before);
        assert_eq!(slots.find(&index, 9_900), Some(before));
        assert_eq!(slots.find(&index, 10_000), Some(far));
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// Ids above 2^64 are held and found by the inlined paths (the window's high half is
    /// compared with the id's first 8 bytes as stored), not sent out of line.
    #[test]
    fn ids_above_two_to_the_64_are_decided_by_their_cells() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let start = (0x0123_4567_89ab_cdef_u128 << 64) + 1_000;
        for id in start..start + 300 {
            let slot = slots.add(&mut index, id);
            let uuid = Uuid::from_u128(id);
            assert_eq!(index.find_in_window(&uuid), Probe::Hit(slot), "{id}");
            let vacancy = index.vacancy(&uuid, |s| slots.0[s as usize]);
            assert_eq!(vacancy, Err(slot), "{id}");
        }
        let next = Uuid::from_u128(start + 300);
        assert!(index.cell(&next).is_some(), "decided by its cell");
        assert_eq!(index.find_in_window(&next), Probe::Absent);
        assert_eq!(index.take_in_window(&Uuid::from_u128(start)), Probe::Hit(1));
        assert_eq!(index.find_in_window(&Uuid::from_u128(start)), Probe::Absent);
        assert_eq!(index.table_ops.get(), 0);
    }

    /// An id far ahead of the window goes to the table; when the window later slides over
    /// it, it is still found (and still refused as a duplicate), and taking it works.
    #[test]
    fn an_id_the_window_slides_over_is_still_found_in_the_table() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        slots.add(&mut index, 1);
        let far = slots.add(&mut index, 5_000);
        assert_eq!(index.table.len() + index.old.len(), 1);
        for id in 2..=6_000u128 {
            if id != 5_000 {
                slots.add(&mut index, id);
            }
        }
        assert!(
            index.any_cell(5_000).is_some(),
            "the window spans 5,000 now"
        );
        assert_eq!(slots.find(&index, 5_000), Some(far));
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
        assert_eq!(slots.take(&mut index, 5_000), Some(far));
        assert_eq!(slots.find(&index, 5_000), None);
        assert_eq!(index.len(), 5_999);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// More than half the window resting makes it double instead of sliding: a deep book of
    /// dense ids stays out of the table.
    #[test]
    fn the_window_doubles_while_more_than_half_of_it_rests() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for id in 1..=100_000u128 {
            slots.add(&mut index, id);
        }
        assert_eq!(index.table.len(), 0);
        assert_eq!(index.window.len(), 1 << 17);
        assert_eq!(slots.find(&index, 1), Some(1));
        assert_eq!(slots.find(&index, 100_000), Some(100_000));
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// Every 10th order living 3,000 ids, longer than the smallest window spans (the
    /// others 100): the window is far from half full, but the long ones go to the table
    /// and are taken from it soon after, so the window doubles until it spans their lives,
    /// and the table empties.
    #[test]
    fn the_window_doubles_when_orders_outlive_it() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for id in 1..=40_000u128 {
            slots.add(&mut index, id);
            if id > 100 && (id - 100) % 10 != 0 {
                assert!(slots.take(&mut index, id - 100).is_some());
            }
            if id > 3_000 && (id - 3_000) % 10 == 0 {
                assert!(slots.take(&mut index, id - 3_000).is_some());
            }
        }
        assert!(index.window.len() >= 4_096, "{} cells", index.window.len());
        assert_eq!(index.table.len(), 0);
        assert_eq!(index.len(), 100 - 10 + 300);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// One order in 500 living 3,000 ids, the others 100 (a market's long tail of
    /// lifetimes): the window doubles until it spans the long ones' lives, so that they
    /// are cancelled from their cells, not from behind it.
    #[test]
    fn the_window_doubles_when_a_few_orders_in_a_thousand_outlive_it() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for id in 1..=40_000u128 {
            slots.add(&mut index, id);
            if id > 100 && (id - 100) % 500 != 0 {
                assert!(slots.take(&mut index, id - 100).is_some());
            }
            if id > 3_000 && (id - 3_000) % 500 == 0 {
                assert!(slots.take(&mut index, id - 3_000).is_some());
            }
        }
        assert!(index.window.len() >= 4_096, "{} cells", index.window.len());
        assert_eq!(index.old.len() + index.table.len(), 0);
        assert_eq!(index.len(), 100 - 1 + 6);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// Every 20th order resting for good (a static book's orders that are never
    /// cancelled) does not grow the window: they move to the old ids and stay there.
    #[test]
    fn orders_that_rest_for_good_do_not_grow_the_window() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for id in 1..=100_000u128 {
            slots.add(&mut index, id);
            if id > 200 && (id - 200) % 20 != 0 {
                assert!(slots.take(&mut index, id - 200).is_some());
            }
        }
        assert!(index.window.len() <= 1_024, "{} cells", index.window.len());
        assert!(
            index.old.len() >= 4_900,
            "{} in the old ids",
            index.old.len()
        );
        assert_eq!(index.table.len(), 0);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// An add probes once: `vacancy` refuses an indexed id with its slot, and `insert_at`
    /// puts a new one where `vacancy` found room, in the window or (outside it) the table.
    #[test]
    fn vacancy_then_insert_at_indexes_in_one_probe() {
        let mut index = IdIndex::with_capacity(0);
        let ids = [Uuid::from_u128(7), Uuid::from_u128(1 << 90)];
        let id_of = |s: u32| ids[s as usize];
        for (slot, id) in ids.iter().enumerate() {
            let vacancy = index.vacancy(id, id_of).expect("new");
            index.insert_at(vacancy, id, slot as u32, id_of);
            assert_eq!(index.vacancy(id, id_of), Err(slot as u32));
            assert_eq!(index.find(id, id_of), Some(slot as u32));
        }
        assert_eq!((index.in_window(), index.table.len()), (1, 1));
        assert_eq!(index.check(id_of), Ok(()));
    }

    /// A session whose ids start far from the window (here above 2^100) goes to the table
    /// at first; after a run of ids near one another the window is placed at them, and
    /// later ids of the session are held by it.
    #[test]
    fn the_window_moves_to_a_session_that_started_elsewhere() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let start = 1u128 << 100;
        for k in 0..2_000u128 {
            slots.add(&mut index, start + k);
            if k >= 100 {
                assert!(slots.take(&mut index, start + k - 100).is_some());
            }
        }
        assert!(index.any_cell(start + 1_999).is_some(), "the window moved");
        assert!(
            index.in_window() >= 90,
            "{} in the window",
            index.in_window()
        );
        assert!(
            index.table.len() <= 10,
            "{} in the table",
            index.table.len()
        );
        for k in 1_900..2_000u128 {
            assert!(slots.find(&index, start + k).is_some());
        }
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// A book that sees about every 1,000th id of a session (one of 1,000 books sharing
    /// it), each order cancelled 20 of the book's orders later: its cells widen to the
    /// spacing, and its ids stay out of the table (before, every id was too far past the
    /// window to slide it, and all of them hashed).
    #[test]
    fn a_book_that_sees_every_thousandth_id_keeps_them_in_wide_cells() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let ids: Vec<u128> = (1..=5_000u128)
            .map(|k| k * 1_000 + (k * 7_919) % 500)
            .collect();
        for (k, &id) in ids.iter().enumerate() {
            slots.add(&mut index, id);
            if k >= 20 {
                assert!(
                    slots.take(&mut index, ids[k - 20]).is_some(),
                    "{}",
                    ids[k - 20]
                );
            }
        }
        assert!(index.shift >= 5, "cells of 2^{} ids", index.shift);
        assert!(
            index.table_ops.get() < 250,
            "{} of 15,000 operations reached the table",
            index.table_ops.get()
        );
        for &id in &ids[ids.len() - 20..] {
            assert!(slots.find(&index, id).is_some(), "{id}");
        }
        assert_eq!(slots.find(&index, ids[100]), None);
        assert_eq!(index.len(), 20);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// Ids that share a wide cell: the first takes the cell, the others go to the table,
    /// and each is found, refused as a duplicate, and taken, wherever it is.
    #[test]
    fn ids_sharing_a_wide_cell_are_found_in_the_table() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for k in 1..=200u128 {
            slots.add(&mut index, k * 4_096);
        }
        let shift = index.shift;
        assert!(shift >= 5, "cells of 2^{shift} ids");
        // Four ids of the next cell past the last one added.
        let cell = ((200 * 4_096) >> shift) + 1;
        let shared: Vec<u128> = (0..4).map(|k| (cell << shift) + k).collect();
        let placed: Vec<u32> = shared.iter().map(|&id| slots.add(&mut index, id)).collect();
        assert_eq!(index.shift, shift);
        assert!(index.table.len() >= 3, "{} in the table", index.table.len());
        for (&id, &slot) in shared.iter().zip(&placed) {
            assert_eq!(slots.find(&index, id), Some(slot), "{id}");
            let ids = &slots.0;
            let vacancy = index.vacancy(&Uuid::from_u128(id), |s| ids[s as usize]);
            assert_eq!(vacancy, Err(slot), "{id} is a duplicate");
        }
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
        for (&id, &slot) in shared.iter().zip(&placed).rev() {
            assert_eq!(slots.take(&mut index, id), Some(slot), "{id}");
            assert_eq!(slots.find(&index, id), None, "{id}");
        }
        assert_eq!(index.len(), 200);
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// A session whose ids cross a multiple of 2^64: the window never spans both sides
    /// (its cells are found with 64-bit arithmetic), and every id is found on either side.
    #[test]
    fn ids_crossing_a_multiple_of_two_to_the_64_are_all_found() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        let start = (5u128 << 64) - 3_000;
        let mut slot_of = HashMap::new();
        for id in start..start + 6_000 {
            slot_of.insert(id, slots.add(&mut index, id));
            if id >= start + 100 && id % 7 != 0 {
                assert_eq!(slots.take(&mut index, id - 100), Some(slot_of[&(id - 100)]));
            }
            assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()), "at {id}");
        }
        for id in start..start + 6_000 {
            // Taken when the id 100 later was added, unless that id is a multiple of 7.
            let rests = id + 100 >= start + 6_000 || (id + 100) % 7 == 0;
            assert_eq!(slots.find(&index, id), rests.then(|| slot_of[&id]), "{id}");
        }
    }

    /// Random ids never move the window (they are not near one another) and all but the
    /// first (which placed it) live in the table.
    #[test]
    fn random_ids_live_in_the_table() {
        let mut index = IdIndex::with_capacity(0);
        let mut slots = Slots(vec![Uuid::nil()]);
        for n in 1..=5_000u128 {
            slots.add(
                &mut index,
                n.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
            );
        }
        assert_eq!((index.in_window(), index.table.len()), (1, 4_999));
        assert_eq!(index.shift, 0, "random gaps teach nothing");
        assert_eq!(index.check(|s| slots.0[s as usize]), Ok(()));
    }

    /// The attack: ids sharing the low 64 bits `0x5a67b4dfae0123c2` all hashed to
    /// 0 under the fixed seed. Under the process's keys they hash apart and spread over
    /// 4,096 homes like random ids (the most in one home is about 7; the bound is 16).
    #[test]
    fn ids_sharing_the_old_seed_as_low_half_spread_over_the_table() {
        let ids = sharing_the_old_seed();
        let index = IdIndex::with_capacity(ids.len());
        let (crowded, distinct) = crowding(&index, &ids, 12);
        assert_eq!(distinct, ids.len(), "every id has a hash of its own");
        assert!(crowded <= 16, "{crowded} ids share one home of 4,096");
        index_find_and_take(index, &ids);
    }

    /// Ids whose old hashes shared their low 20 bits and their tag spread too.
    #[test]
    fn ids_crafted_against_the_old_fixed_seed_spread_over_the_table() {
        let ids = crafted_against_the_old_seed();
        let index = IdIndex::with_capacity(ids.len());
        let (crowded, distinct) = crowding(&index, &ids, 12);
        assert_eq!(distinct, ids.len(), "every id has a hash of its own");
        assert!(crowded <= 16, "{crowded} ids share one home of 4,096");
        index_find_and_take(index, &ids);
    }

    /// An attack needs the keys: ids built against known keys all collide under them
    /// (the index still finds each, slowly), and spread under another index's keys.
    #[test]
    fn an_id_set_built_against_known_keys_does_not_carry_over() {
        let known = IdHasher::with_keys(0x0123_4567_89ab_cdef, 0xfeed_f00d, 0xc0ff_ee11);
        let ids: Vec<Uuid> = (1..=IDS)
            .map(|n| Uuid::from_u64_pair(n, 0x0123_4567_89ab_cdef))
            .collect();
        let attacked = IdIndex::with_hasher(ids.len(), known);
        assert_eq!(
            crowding(&attacked, &ids, 12),
            (ids.len(), 1),
            "all hash to 0"
        );
        index_find_and_take(attacked, &ids[..256]);

        let other = IdIndex::with_hasher(ids.len(), IdHasher::random());
        let (crowded, distinct) = crowding(&other, &ids, 12);
        assert_eq!(distinct, ids.len());
        assert!(crowded <= 16, "{crowded} ids share one home of 4,096");
    }

    #[test]
    fn keep_room_clears_the_tables_tombstones_and_keeps_every_id() {
        // Ids whose low half is the low key all hash alike: erasing from their run of
        // buckets leaves tombstones.
        const LOW_KEY: u64 = 0x1234_5678_9abc_def0;
        let mut index = IdIndex::with_hasher(0, IdHasher::with_keys(LOW_KEY, 7, 9));
        let ids: Vec<Uuid> = (0..600u64)
            .map(|n| Uuid::from_u64_pair(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1 << 63, LOW_KEY))
            .collect();
        let id_of = |s: u32| ids[s as usize];
        for (slot, id) in ids.iter().enumerate() {
            index.insert(id, slot as u32, id_of);
        }
        // The first places the window; far apart from it, the others go to the table.
        assert_eq!(index.table.len(), 599);
        // Room for 896 (1,024 buckets): 297 more.
        assert_eq!(index.table.capacity(), 896);
        for slot in (0..600u32).filter(|s| s % 2 == 0) {
            index.remove(&ids[slot as usize], slot);
        }
        // 300 ids left, and the run's erased buckets are tombstones: room for 297 more.
        assert_eq!((index.table.len(), index.table.capacity()), (300, 597));
        index.keep_room(id_of);
        // Rebuilt without them, at twice the size (hashbrown rebuilds in place only
        // while what it then holds fits in half its room).
        assert_eq!(index.table.capacity(), 1_792);
        for (slot, id) in ids.iter().enumerate() {
            let kept = (slot % 2 == 1).then_some(slot as u32);
            assert_eq!(index.find(id, id_of), kept, "id {slot}");
        }
        // Room enough: a second call reads no id and leaves the table as it is.
        index.keep_room(|_| unreachable!("no id is read"));
        assert_eq!(index.table.capacity(), 1_792);
        // Fuller than half: it grows.
        let more: Vec<Uuid> = (600..1_400u64)
            .map(|n| Uuid::from_u64_pair(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1 << 63, 5))
            .collect();
        let all = |s: u32| {
            if s < 600 {
                ids[s as usize]
            } else {
                more[s as usize - 600]
            }
        };
        for (n, id) in more.iter().enumerate() {
            index.insert(id, 600 + n as u32, all);
        }
        assert!(index.table.capacity() < 2 * index.table.len());
        index.keep_room(all);
        assert!(index.table.capacity() >= 2 * index.table.len());
        assert_eq!(index.find(&more[799], all), Some(1_399));
    }
}
