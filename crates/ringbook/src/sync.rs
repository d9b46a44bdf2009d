//! The synchronisation primitives of Ringbook's hand-written protocols (the halt bits,
//! the callers' busy flags, the doorbells, a waiting thread's spins), from `std` and
//! `parking_lot`, or from `loom`'s models when built with `--cfg loom` (the model-checked
//! tests: see `docs/TESTING.md`). Nothing else in the crate changes under that configuration.
//!
//! The loom versions mirror the subset of the `parking_lot` API the protocols use, so the
//! code under test is the code that ships.

#[cfg(not(loom))]
pub(crate) use parking_lot::{Condvar, Mutex};
#[cfg(not(loom))]
pub(crate) use std::hint::spin_loop;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, fence};
#[cfg(not(loom))]
pub(crate) use std::thread::{Thread, current, yield_now};

#[cfg(loom)]
pub(crate) use loom::hint::spin_loop;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, fence};
#[cfg(loom)]
pub(crate) use loom::thread::{Thread, current, yield_now};
#[cfg(loom)]
pub(crate) use model::{Condvar, Mutex};

/// Marks the point between a sequentially consistent store and a sequentially consistent
/// load of another atomic (the store-load pattern of Dekker's algorithm), where the
/// protocol relies on the single total order of SeqCst accesses.
///
/// In a real build it does nothing: the SeqCst store and load already give that order
/// (on x86-64 the store is an `xchg`, a full barrier). Loom models SeqCst loads and stores
/// only as acquire and release (its documented limitation), but it does model SeqCst
/// fences, so under loom this is one: the model then sees the order the real build has.
#[inline(always)]
pub(crate) fn store_load_order() {
    #[cfg(loom)]
    fence(std::sync::atomic::Ordering::SeqCst);
}

/// Parks the calling thread for at most `pause`, or until unparked. Under loom the pause
/// is unbounded: a wake-up the protocol loses then shows as a deadlock.
#[inline]
pub(crate) fn park_timeout(pause: std::time::Duration) {
    #[cfg(not(loom))]
    std::thread::park_timeout(pause);
    #[cfg(loom)]
    {
        let _ = pause;
        loom::thread::park();
    }
}

#[cfg(loom)]
mod model {
    //! `parking_lot`-shaped wrappers over loom's `Mutex` and `Condvar`.

    use std::ops::{Deref, DerefMut};
    use std::time::Duration;

    /// A mutex whose `lock` returns the guard directly, as `parking_lot`'s does.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Mutex<T> {
            Mutex::new(T::default())
        }
    }

    /// The guard of a [`Mutex`]; `None` only while a [`Condvar`] waits with it.
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().expect("a loom mutex is never poisoned")))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("the guard is held")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("the guard is held")
        }
    }

    /// A condition variable whose timed wait is unbounded under the model.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Default for Condvar {
        fn default() -> Condvar {
            Condvar(loom::sync::Condvar::new())
        }
    }

    impl Condvar {
        pub(crate) fn wait_for<T>(&self, guard: &mut MutexGuard<'_, T>, _pause: Duration) {
            let inner = guard.0.take().expect("the guard is held");
            guard.0 = Some(self.0.wait(inner).expect("a loom mutex is never poisoned"));
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}
