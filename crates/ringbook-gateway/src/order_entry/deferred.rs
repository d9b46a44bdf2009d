//! The hand-off from the responder (the engine's event thread) to the submitter thread:
//! commands pushed during an event batch are only collected, and the submitter is woken
//! once, at the batch's end ([`DeferredQueue::ring`]), if it sleeps. The submitter takes
//! every waiting command at once by swapping buffers, so neither side allocates or
//! makes a system call per command (a channel woke the submitter once per replace).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use ringbook::Command;

#[derive(Debug, Default)]
struct Inner {
    commands: Vec<Command>,
    /// The submitter sleeps on the condition variable.
    waiting: bool,
}

/// Commands waiting for the submitter (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct DeferredQueue {
    inner: Mutex<Inner>,
    cond: Condvar,
    /// Set by a push, cleared by a take: [`DeferredQueue::ring`] of a batch that
    /// deferred nothing (most batches) takes no lock.
    pushed: AtomicBool,
}

impl DeferredQueue {
    /// Adds a command without waking the submitter (see [`DeferredQueue::ring`]).
    pub(crate) fn push(&self, command: Command) {
        self.inner.lock().commands.push(command);
        self.pushed.store(true, Ordering::Release);
    }

    /// Wakes the submitter if it sleeps and a command waits; returns whether it woke it.
    pub(crate) fn ring(&self) -> bool {
        if !self.pushed.load(Ordering::Acquire) {
            return false;
        }
        let inner = self.inner.lock();
        if inner.waiting && !inner.commands.is_empty() {
            self.cond.notify_one();
            return true;
        }
        false
    }

    /// Moves every waiting command into `out` (which must be empty: its buffer is given
    /// to the queue in exchange), sleeping up to `timeout` for one to be rung in.
    pub(crate) fn take(&self, out: &mut Vec<Command>, timeout: Duration) {
        debug_assert!(out.is_empty());
        let mut inner = self.inner.lock();
        if inner.commands.is_empty() {
            inner.waiting = true;
            let _ = self.cond.wait_for(&mut inner, timeout);
            inner.waiting = false;
        }
        self.pushed.store(false, Ordering::Release);
        std::mem::swap(out, &mut inner.commands);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::thread;
    use std::time::Instant;

    use ringbook::Uuid;

    use super::*;

    fn cancel(n: u128) -> Command {
        Command::Cancel {
            instrument_id: Uuid::from_u128(1),
            order_id: Uuid::from_u128(n),
        }
    }

    #[test]
    fn take_returns_every_pushed_command_in_order_without_waiting() {
        let queue = DeferredQueue::default();
        queue.push(cancel(1));
        queue.push(cancel(2));
        let mut out = Vec::new();
        let start = Instant::now();
        queue.take(&mut out, Duration::from_secs(5));
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(out, vec![cancel(1), cancel(2)]);
        out.clear();
        queue.take(&mut out, Duration::from_millis(1));
        assert!(out.is_empty(), "the queue was emptied by the first take");
    }

    #[test]
    fn push_alone_does_not_wake_a_sleeping_submitter_but_ring_does() {
        let queue = Arc::new(DeferredQueue::default());
        let taker = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                let mut out = Vec::new();
                queue.take(&mut out, Duration::from_secs(10));
                out
            })
        };
        while !queue.inner.lock().waiting {
            thread::yield_now();
        }
        queue.push(cancel(7));
        thread::sleep(Duration::from_millis(50));
        assert!(!taker.is_finished(), "a push woke the submitter");
        assert!(queue.ring(), "ring found the submitter asleep");
        assert_eq!(taker.join().unwrap(), vec![cancel(7)]);
    }

    #[test]
    fn ring_with_nothing_pushed_wakes_nobody() {
        let queue = DeferredQueue::default();
        queue.inner.lock().waiting = true;
        assert!(!queue.ring());
    }
}
