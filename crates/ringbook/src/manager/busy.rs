//! The busy flag of one caller's handle: the handshake that lets `stop` close intake
//! without a lock on the callers' path.
//!
//! A caller sets its flag, then checks that the manager still admits callers, publishes,
//! and clears the flag. `stop` first closes admission, then waits until the flag is clear.
//! Both sides store, then load, with sequentially consistent ordering (the store-load
//! pattern of Dekker's algorithm): either the caller sees admission closed, or `stop` sees
//! the flag set and waits for the publish to end. So once `stop` has waited on every flag,
//! no caller publishes again, and the stop marker goes in behind everything callers sent.

use std::sync::atomic::Ordering;

use crossbeam_utils::{Backoff, CachePadded};

use crate::sync::{AtomicBool, store_load_order, yield_now};

/// Whether a caller is inside a publish.
#[derive(Debug, Default)]
pub(crate) struct BusyFlag(CachePadded<AtomicBool>);

impl BusyFlag {
    /// Runs `publish` if `admitted()`, checked once the flag is set, holds; `None` if not.
    #[inline]
    pub(crate) fn run_if<R>(
        &self,
        admitted: impl FnOnce() -> bool,
        publish: impl FnOnce() -> R,
    ) -> Option<R> {
        self.0.store(true, Ordering::SeqCst);
        store_load_order();
        let result = admitted().then(publish);
        self.0.store(false, Ordering::Release);
        result
    }

    /// Waits until no publish is in progress. Call it after closing admission (with a
    /// sequentially consistent store): no publish starts after it returns.
    pub(crate) fn wait_idle(&self) {
        store_load_order();
        let backoff = Backoff::new();
        while self.0.load(Ordering::SeqCst) {
            if backoff.is_completed() || cfg!(loom) {
                yield_now();
            } else {
                backoff.snooze();
            }
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicU8;

    use super::*;

    const RUNNING: u8 = 1;
    const STOPPING: u8 = 2;

    /// Every interleaving of a caller publishing and `stop` closing intake: nothing is
    /// published once `stop` has closed admission and waited on the flag.
    #[test]
    fn loom_no_publish_after_stop_has_waited() {
        loom::model(|| {
            let flag = Arc::new(BusyFlag::default());
            let state = Arc::new(AtomicU8::new(RUNNING));
            let published = Arc::new(AtomicU8::new(0));
            let caller = {
                let (flag, state, published) = (
                    Arc::clone(&flag),
                    Arc::clone(&state),
                    Arc::clone(&published),
                );
                loom::thread::spawn(move || {
                    flag.run_if(
                        || state.load(Ordering::SeqCst) == RUNNING,
                        || published.fetch_add(1, Ordering::Relaxed),
                    )
                })
            };
            state.store(STOPPING, Ordering::SeqCst);
            flag.wait_idle();
            let seen_by_stop = published.load(Ordering::Relaxed);
            let outcome = caller.join().unwrap();
            assert_eq!(
                published.load(Ordering::Relaxed),
                seen_by_stop,
                "a publish landed after stop waited"
            );
            assert_eq!(outcome.is_some(), seen_by_stop == 1);
        });
    }
}
