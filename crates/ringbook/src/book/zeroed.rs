//! The levels of a tick window in memory that starts zeroed, and the spare buffers a
//! thread's windows leave behind, so a new window costs only the pages its levels are
//! written to (issue 21).
//!
//! An empty level is all zero bytes ([`Level::EMPTY`]). A window spans its side's levels
//! with room on both sides, and most of its ticks stay empty: at 1,000 books a side's
//! window is often 4,096 ticks (96 KiB) for at most a few hundred levels.
//! Filled with empty levels by a store loop, every page of it was written, and a fresh
//! page is a page fault (on this project's VM 1.5 to 6 microseconds): at 1,000 books the
//! windows' fills took 33,600 of the engine's 42,000 faults in `ringbook bench
//! --instruments 1000`. A large buffer here is its own anonymous mapping instead: the
//! kernel hands out zeroed pages when they are first touched, and a page never written is
//! never mapped. A small one comes from the allocator's zeroed memory (`calloc`).
//!
//! A window that changes length gives its old buffer back ([`ZeroedLevels::recycle`]) once
//! it has emptied the ticks that held levels: a window needs of its empty ticks only a
//! count and a total of 0, which every tick then has (links left by a level that emptied
//! do not matter: a level is opened with fresh ones). The thread keeps such buffers by
//! length, up to [`SPARE_BYTES`], and the next window of that length takes one: no
//! system call, no fill, and its pages are mapped already (unmapping and mapping a busy
//! book's window at each re-placement faulted its pages in again).

#![allow(unsafe_code)]

use std::alloc::Layout;
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use super::ladder::Level;

/// Bytes from which a buffer is a mapping of its own (Linux): 32 KiB, windows of 2,048
/// ticks and more. Below it, a mapping's two system calls cost more than the pages saved.
const MAP_FROM: usize = 32 << 10;

/// `len` levels of no orders: a boxed slice whose memory starts zeroed. A large one is an
/// anonymous mapping of its own (see the module docs).
pub(super) struct ZeroedLevels {
    /// The first level; dangling when `len` is 0.
    ptr: NonNull<Level>,
    len: usize,
}

// SAFETY: the buffer is owned as a `Box<[Level]>` is (no other pointer to it exists) and
// `Level` is plain data, so it may move to and be shared with another thread as one may.
unsafe impl Send for ZeroedLevels {}
// SAFETY: as for `Send`: `&ZeroedLevels` gives only `&[Level]`.
unsafe impl Sync for ZeroedLevels {}

impl ZeroedLevels {
    /// `len` levels of no orders (count and total 0): a spare buffer of this length from
    /// this thread's, or a new one (all zero bytes).
    pub(super) fn take(len: usize) -> ZeroedLevels {
        let spare = SPARE
            .try_with(|spare| spare.borrow_mut().take(len))
            .ok()
            .flatten();
        spare.unwrap_or_else(|| ZeroedLevels::new(len))
    }

    /// Gives the buffer to this thread's spares for [`Self::take`] (or frees it when they
    /// are full). Every level must have count and total 0 (a window's caller empties the
    /// ticks that held levels first): a buffer taken holds no orders.
    pub(super) fn recycle(self) {
        debug_assert!(
            self.iter().all(Level::holds_nothing),
            "a recycled window holds orders"
        );
        let _ = SPARE.try_with(|spare| spare.borrow_mut().keep(self));
    }

    /// `len` empty levels, all zero bytes.
    fn new(len: usize) -> ZeroedLevels {
        let layout = Layout::array::<Level>(len).expect("a window's levels fit in memory");
        if layout.size() == 0 {
            return ZeroedLevels {
                ptr: NonNull::dangling(),
                len: 0,
            };
        }
        let ptr = if layout.size() >= MAP_FROM {
            map(layout)
        } else {
            // SAFETY: the layout's size is not 0 (tested above).
            unsafe { std::alloc::alloc_zeroed(layout) }
        };
        let Some(ptr) = NonNull::new(ptr.cast::<Level>()) else {
            std::alloc::handle_alloc_error(layout);
        };
        ZeroedLevels { ptr, len }
    }
}

impl Deref for ZeroedLevels {
    type Target = [Level];

    #[inline(always)]
    fn deref(&self) -> &[Level] {
        // SAFETY: `ptr` points to `len` levels this buffer owns, all initialised (zero
        // bytes are `Level::EMPTY`, and every write since stored a level), or dangles
        // with `len` 0, which a slice allows.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for ZeroedLevels {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [Level] {
        // SAFETY: as for `deref`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for ZeroedLevels {
    fn drop(&mut self) {
        let layout = Layout::array::<Level>(self.len).expect("checked when made");
        if layout.size() == 0 {
            return;
        }
        if layout.size() >= MAP_FROM {
            unmap(self.ptr.as_ptr().cast(), layout);
        } else {
            // SAFETY: allocated by `alloc_zeroed` with this layout (the size decides,
            // and `len` never changes).
            unsafe { std::alloc::dealloc(self.ptr.as_ptr().cast(), layout) };
        }
    }
}

/// The most bytes of spare buffers a thread keeps: 32 MiB (enough for 340 windows of
/// 4,096 ticks, or 21 of the largest).
const SPARE_BYTES: usize = 32 << 20;

thread_local! {
    /// This thread's spare buffers.
    static SPARE: RefCell<Spare> = const { RefCell::new(Spare { by_length: Vec::new(), bytes: 0 }) };
}

/// Spare buffers by length, each holding no orders.
struct Spare {
    /// The buffers of each length met so far (few: window lengths are powers of two).
    by_length: Vec<(usize, Vec<ZeroedLevels>)>,
    /// Their bytes in all.
    bytes: usize,
}

impl Spare {
    /// A spare buffer of `len` levels, if there is one.
    fn take(&mut self, len: usize) -> Option<ZeroedLevels> {
        let (_, buffers) = self.by_length.iter_mut().find(|(l, _)| *l == len)?;
        let buffer = buffers.pop()?;
        self.bytes -= buffer.len() * size_of::<Level>();
        Some(buffer)
    }

    /// Keeps `buffer` if there is room (else it is freed).
    fn keep(&mut self, buffer: ZeroedLevels) {
        let bytes = buffer.len() * size_of::<Level>();
        if bytes == 0 || self.bytes + bytes > SPARE_BYTES {
            return;
        }
        self.bytes += bytes;
        match self.by_length.iter_mut().find(|(l, _)| *l == buffer.len()) {
            Some((_, buffers)) => buffers.push(buffer),
            None => self.by_length.push((buffer.len(), vec![buffer])),
        }
    }
}

impl Default for ZeroedLevels {
    fn default() -> ZeroedLevels {
        ZeroedLevels::new(0)
    }
}

impl Clone for ZeroedLevels {
    fn clone(&self) -> ZeroedLevels {
        let mut copy = ZeroedLevels::new(self.len);
        copy.copy_from_slice(self);
        copy
    }
}

impl std::fmt::Debug for ZeroedLevels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A fresh anonymous mapping of `layout`'s size, zeroed and not yet backed by pages
/// (null if the system refuses it). Page-aligned, so any level's alignment holds.
#[cfg(target_os = "linux")]
fn map(layout: Layout) -> *mut u8 {
    // SAFETY: a new private anonymous mapping at an address of the kernel's choosing:
    // it overlaps nothing the program holds. Its result is checked against MAP_FAILED.
    let address = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            layout.size(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if address == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        address.cast()
    }
}

/// Releases a mapping made by [`map`] with the same `layout`.
#[cfg(target_os = "linux")]
fn unmap(address: *mut u8, layout: Layout) {
    // SAFETY: `address` is a mapping `map` made of this size, owned by the buffer being
    // dropped: nothing reads it after this.
    let released = unsafe { libc::munmap(address.cast(), layout.size()) };
    debug_assert_eq!(released, 0, "munmap of a window's levels");
}

/// Elsewhere the allocator's zeroed memory, whatever the size.
#[cfg(not(target_os = "linux"))]
fn map(layout: Layout) -> *mut u8 {
    // SAFETY: the caller's layout is not of size 0.
    unsafe { std::alloc::alloc_zeroed(layout) }
}

/// Releases what [`map`] allocated.
#[cfg(not(target_os = "linux"))]
fn unmap(address: *mut u8, layout: Layout) {
    // SAFETY: allocated by `alloc_zeroed` with this layout in `map`.
    unsafe { std::alloc::dealloc(address, layout) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every level of a new buffer is empty, small or mapped; what is written stays, and
    /// a clone holds the same levels in memory of its own.
    #[test]
    fn new_buffers_hold_empty_levels_and_keep_what_is_written() {
        for len in [0, 2, 64, MAP_FROM / size_of::<Level>() - 1, 4096, 1 << 16] {
            let mut levels = ZeroedLevels::new(len);
            assert_eq!(levels.len(), len);
            assert!(levels.iter().all(|level| *level == Level::EMPTY), "{len}");
            if len == 0 {
                continue;
            }
            levels[len - 1] = Level::holding(7);
            levels[0] = Level::holding(3);
            let copy = levels.clone();
            levels[0] = Level::EMPTY;
            assert_eq!(copy[0], Level::holding(3), "{len}");
            assert_eq!(copy[len - 1], Level::holding(7), "{len}");
            assert_eq!(levels[len - 1], Level::holding(7), "{len}");
            assert_eq!(levels[0], Level::EMPTY, "{len}");
        }
    }

    /// A recycled buffer is what the next take of its length gets, with its levels as
    /// they were (no orders: stale links of emptied levels stay); other lengths get new
    /// ones, and the spares stop at their byte limit.
    #[test]
    fn a_recycled_buffer_is_taken_again_by_length() {
        let mut levels = ZeroedLevels::take(4096);
        levels[9] = Level::OPENED;
        let address = levels.as_ptr();
        levels.recycle();
        let other = ZeroedLevels::take(2048);
        assert_ne!(other.as_ptr().cast::<Level>(), address);
        let again = ZeroedLevels::take(4096);
        assert_eq!(again.as_ptr(), address);
        assert_eq!(again[9], Level::OPENED);
        let fresh = ZeroedLevels::take(4096);
        assert_ne!(fresh.as_ptr(), address);
        assert!(fresh.iter().all(|level| *level == Level::EMPTY));
        // Past the limit, buffers are freed, not kept.
        let big = 1 << 16;
        let count = SPARE_BYTES / (big * size_of::<Level>()) + 2;
        let buffers: Vec<ZeroedLevels> = (0..count).map(|_| ZeroedLevels::take(big)).collect();
        buffers.into_iter().for_each(ZeroedLevels::recycle);
        let kept = SPARE.with(|spare| spare.borrow().bytes);
        assert!(kept <= SPARE_BYTES && kept + big * size_of::<Level>() > SPARE_BYTES);
    }

    /// The empty level is all zero bytes: what makes zeroed memory a window of empty
    /// levels.
    #[test]
    fn the_empty_level_is_zero_bytes() {
        // SAFETY: `Level` is integers only, for which zero bytes are a value.
        let zeroed: Level = unsafe { std::mem::zeroed() };
        assert_eq!(zeroed, Level::EMPTY);
        assert_eq!(Level::EMPTY.count, 0);
        assert_eq!(Level::EMPTY.total(), 0);
    }
}
