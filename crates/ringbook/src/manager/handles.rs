//! Callers' handles on the ingress ring: one producer per caller thread and manager,
//! cached in a thread-local, so the hot path takes no lock and no shared counter.
//!
//! Each handle has a busy flag its thread sets around a publish. `stop` first closes the
//! door (the manager's state), then waits until no flag is set: after that no caller can
//! publish, and the stop marker goes in behind everything callers sent.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, MutexGuard};

use super::busy::BusyFlag;
use crate::pipeline::IngressProducer;

/// Ids telling managers apart in the thread-local cache.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One thread's handle on one manager's ingress ring.
struct Handle {
    manager: u64,
    /// Dead once the manager is dropped: the handle is then purged.
    alive: Weak<()>,
    producer: IngressProducer,
    busy: Arc<BusyFlag>,
}

thread_local! {
    static HANDLES: RefCell<Vec<Handle>> = const { RefCell::new(Vec::new()) };
}

/// The handles of one manager.
pub(crate) struct Handles {
    id: u64,
    token: Arc<()>,
    /// The producer every handle is cloned from; `None` once retired.
    master: Mutex<Option<IngressProducer>>,
    /// Every handle's busy flag.
    callers: Mutex<Vec<Arc<BusyFlag>>>,
}

impl Handles {
    /// Handles cloned from `producer`.
    pub(crate) fn new(producer: IngressProducer) -> Handles {
        Handles {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            token: Arc::new(()),
            master: Mutex::new(Some(producer)),
            callers: Mutex::new(Vec::new()),
        }
    }

    /// Runs `publish` with this thread's producer, if `admitted()` (checked after the
    /// handle is marked busy) still holds. `None`: not admitted, or retired.
    #[inline]
    pub(crate) fn with_producer<R>(
        &self,
        admitted: impl Fn() -> bool,
        publish: impl FnOnce(&mut IngressProducer) -> R,
    ) -> Option<R> {
        let mut publish = Some(publish);
        let cached = HANDLES.try_with(|cell| {
            let mut handles = cell.try_borrow_mut().ok()?;
            let index = match handles.iter().position(|h| h.manager == self.id) {
                Some(index) => index,
                None => self.register_into(&mut handles)?,
            };
            let Handle { busy, producer, .. } = &mut handles[index];
            Some(
                busy.run_if(&admitted, || {
                    publish.take().map(|publish| publish(producer))
                })
                .flatten(),
            )
        });
        match cached {
            Ok(Some(result)) => result,
            // No cache on this thread (it is exiting, or re-entered): use the master under
            // its lock, which `retire` takes first.
            _ => {
                let mut master = self.master.lock();
                let producer = master.as_mut()?;
                let publish = publish.take()?;
                admitted().then(|| publish(producer))
            }
        }
    }

    /// Registers a handle for this thread in its cache (dropping those of managers gone)
    /// and returns its index; `None` once retired. Out of line: a thread does it once per
    /// manager, and inlined it grew every publish's stack frame.
    #[cold]
    #[inline(never)]
    fn register_into(&self, handles: &mut Vec<Handle>) -> Option<usize> {
        let handle = self.register()?;
        handles.retain(|h| h.alive.strong_count() > 0);
        handles.push(handle);
        Some(handles.len() - 1)
    }

    /// A new handle for this thread, or `None` once retired. Its flag is listed while the
    /// master lock is held, so `retire` (which takes that lock first) sees it.
    fn register(&self) -> Option<Handle> {
        let master = self.master.lock();
        let producer = master.as_ref()?.clone();
        let busy = Arc::new(BusyFlag::default());
        self.callers.lock().push(Arc::clone(&busy));
        Some(Handle {
            manager: self.id,
            alive: Arc::downgrade(&self.token),
            producer,
            busy,
        })
    }

    /// The master producer, for publishing while callers are not admitted yet.
    pub(crate) fn master(&self) -> MutexGuard<'_, Option<IngressProducer>> {
        self.master.lock()
    }

    /// Takes the master and waits until no caller is inside a publish. The caller must
    /// have closed admission first; afterwards nothing but the returned producer publishes.
    pub(crate) fn retire(&self) -> Option<IngressProducer> {
        let master = self.master.lock().take();
        for busy in self.callers.lock().iter() {
            busy.wait_idle();
        }
        master
    }
}
