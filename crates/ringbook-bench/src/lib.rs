//! Ringbook's benchmark harness and the design it is measured against.
//!
//! - [`harness`]: a generated workload driven through an engine, closed loop or open
//!   loop, with every new order's latency in an HDR histogram from its intended send time
//!   (no coordinated omission), and each stage's CPU time per command. `ringbook bench`
//!   and the pipeline benches run it.
//! - [`baseline`]: the original channel-and-lock design, implementing the same
//!   [`OrderbookManagerService`](ringbook::OrderbookManagerService), so both engines are
//!   driven the same way.
//!
//! Kept out of the `ringbook` library so that a program embedding the engine pulls in none
//! of this (nor `hdrhistogram`).

pub mod baseline;
pub mod harness;

use std::time::Instant;

/// The message a thread panicked with.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload.downcast_ref::<&str>().map(|s| (*s).to_string());
    text.or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked with a non-string payload".to_string())
}

/// Nanoseconds since `epoch`, saturating.
#[inline]
pub(crate) fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
