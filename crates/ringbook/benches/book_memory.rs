//! Heap bytes per resting order: one book resting 1,000,000 non-crossing limit orders.
//!
//! A counting global allocator wraps the system allocator and tracks the live heap bytes.
//! The orders are spread over a few thousand price levels on both sides with
//! random-looking UUID ids, as a deep book would hold them. Each variant
//! (`OrderBook::new`, grown on demand, and `OrderBook::with_capacity`) prints one line;
//! the run exits with status 1 if either needs more than the target.

// A global allocator is an unsafe trait: this bench is one of the two places in the
// workspace that needs `unsafe` (each block says why it is sound).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use ringbook::{Command, Order, OrderBook, OrderbookResult, Side, Uuid};

/// Orders to rest.
const ORDERS: usize = 1_000_000;

/// The most heap a resting order may cost, in bytes.
const TARGET_BYTES: f64 = 160.0;

/// Live heap bytes.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes.
struct Counting;

// SAFETY: every method forwards its arguments unchanged to `System`, which implements
// `GlobalAlloc` soundly, and returns `System`'s result; the counting only updates an
// atomic and never touches the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: our caller upholds `alloc`'s contract for `layout`, which is System's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with
        // `layout`, as our caller guarantees.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout` and `new_size` is valid,
        // as our caller guarantees.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// splitmix64: a random-looking, well-spread sequence from a counter.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `i`th order: alternating sides, a random-looking id, a price 1 to 2,500 ticks
/// from the mid on its own side (denser near the mid), 1 to 100 lots. Never crosses.
fn order(instrument: Uuid, i: u64) -> Order {
    let (a, b, c) = (mix(3 * i), mix(3 * i + 1), mix(3 * i + 2));
    let id = Uuid::from_u64_pair(a, b);
    let depth = 1 + (((c >> 32) % 2_500) * ((c & 0xffff_ffff) % 2_500)) / 2_500;
    let (side, price) = if i.is_multiple_of(2) {
        (Side::Buy, 1_000_000 - depth as i64)
    } else {
        (Side::Sell, 1_000_000 + depth as i64)
    };
    Order::limit(id, instrument, side, price, 1 + (a % 100))
}

/// Rests the orders in the book `make` builds and reports the bytes per order; `false`
/// if over the target.
fn measure(variant: &str, make: impl FnOnce() -> OrderBook) -> bool {
    let instrument = Uuid::from_u128(0x5249_4e47);
    let before = LIVE.load(Ordering::Relaxed);
    let mut book = make();
    let mut accepted = 0u64;
    let mut other = 0u64;
    let mut sink = |event: OrderbookResult| match event {
        OrderbookResult::Accepted { .. } => accepted += 1,
        _ => other += 1,
    };
    for i in 0..ORDERS as u64 {
        book.apply(&Command::Add(order(instrument, i)), &mut sink);
    }
    let after = LIVE.load(Ordering::Relaxed);
    assert_eq!(book.len(), ORDERS, "every order rests");
    assert_eq!(
        (accepted, other),
        (ORDERS as u64, 0),
        "no trades, no rejects"
    );
    let bytes = after - before;
    let per_order = bytes as f64 / ORDERS as f64;
    let ok = per_order <= TARGET_BYTES;
    println!(
        "book_memory {variant}: {per_order:.1} heap bytes per resting order ({bytes} bytes \
         for {ORDERS} orders on {} + {} levels; the book's own estimate {:.1}); \
         target <= {TARGET_BYTES}: {}",
        book.levels(Side::Buy),
        book.levels(Side::Sell),
        book.heap_bytes() as f64 / ORDERS as f64,
        if ok { "ok" } else { "EXCEEDED" },
    );
    drop(book);
    ok
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too. Both measure.
    let grown = measure("OrderBook::new (grown on demand)", || {
        OrderBook::new(Uuid::from_u128(0x5249_4e47))
    });
    let sized = measure("OrderBook::with_capacity(_, 1_000_000)", || {
        OrderBook::with_capacity(Uuid::from_u128(0x5249_4e47), ORDERS)
    });
    if grown && sized {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
