//! A sequenced message stream: one [`MessageStore`] shared by the producers that append
//! to it (the application, an engine subscriber) and the session writer that sends it to
//! the logged-in client, with the wake-ups between them.
//!
//! Appending never waits for a client: the store takes the message and a waiting writer
//! is woken. A client that falls behind is the writer's problem (it is disconnected past
//! [`super::SessionConfig::max_lag`] and can log in again from its sequence number).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::{MessageStore, StoreError};

/// What [`Stream::wait_read`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `count` packets were copied; `lag` messages remain after them.
    Copied {
        /// Packets copied.
        count: u64,
        /// Messages still unsent after them.
        lag: u64,
    },
    /// Nothing new before the deadline.
    Idle,
    /// The reader is caught up and the stream (or the session) has ended.
    Ended,
    /// The session is stopping.
    Stopped,
}

struct Inner {
    store: Box<dyn MessageStore>,
    waiters: usize,
    ended: bool,
}

/// A sequenced message stream (see the module docs).
pub struct Stream {
    inner: Mutex<Inner>,
    cond: Condvar,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("len", &self.len()).finish()
    }
}

impl Stream {
    /// A stream over `store` (which may already hold messages, from a file).
    #[must_use]
    pub fn new(store: Box<dyn MessageStore>) -> Stream {
        Stream {
            inner: Mutex::new(Inner {
                store,
                waiters: 0,
                ended: false,
            }),
            cond: Condvar::new(),
        }
    }

    /// Appends one message and wakes a waiting writer; returns its sequence number.
    ///
    /// # Errors
    ///
    /// As [`MessageStore::append`].
    pub fn append(&self, message: &[u8]) -> Result<u64, StoreError> {
        let mut inner = self.inner.lock();
        let seq = inner.store.append(message)?;
        if inner.waiters > 0 {
            self.cond.notify_all();
        }
        Ok(seq)
    }

    /// Appends messages each written as a 2-byte big-endian length then its bytes, under
    /// one lock and with one wake-up.
    ///
    /// # Errors
    ///
    /// As [`MessageStore::append`], for the first message refused (the ones before it
    /// are in).
    pub fn append_framed(&self, framed: &[u8]) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        let mut at = 0;
        let mut result = Ok(());
        while at + 2 <= framed.len() {
            let len = usize::from(u16::from_be_bytes([framed[at], framed[at + 1]]));
            let Some(message) = framed.get(at + 2..at + 2 + len) else {
                break;
            };
            if let Err(e) = inner.store.append(message) {
                result = Err(e);
                break;
            }
            at += 2 + len;
        }
        if inner.waiters > 0 {
            self.cond.notify_all();
        }
        result
    }

    /// The number of messages (the last sequence number).
    #[must_use]
    pub fn len(&self) -> u64 {
        self.inner.lock().store.len()
    }

    /// Whether the stream holds no message.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes the messages durable (for a file store).
    ///
    /// # Errors
    ///
    /// As [`MessageStore::sync`].
    pub fn sync(&self) -> Result<(), StoreError> {
        self.inner.lock().store.sync()
    }

    /// Appends to `out` the packets from `seq` on, up to `max_bytes` (see
    /// [`MessageStore::read_packets`]), without waiting.
    pub fn read_packets(&self, seq: u64, out: &mut Vec<u8>, max_bytes: usize) -> u64 {
        self.inner.lock().store.read_packets(seq, out, max_bytes)
    }

    /// Marks the stream ended: writers send what is left, then End of Session.
    pub fn end(&self) {
        self.inner.lock().ended = true;
        self.cond.notify_all();
    }

    /// Wakes every waiting writer (to see a flag change).
    pub fn wake(&self) {
        let _guard = self.inner.lock();
        self.cond.notify_all();
    }

    /// Copies to `out` the packets from `next` on (up to `max_bytes`), waiting until
    /// `deadline` for one to arrive. `stop` ends the wait at once; `end` (like
    /// [`Stream::end`]) ends it once the reader is caught up.
    pub fn wait_read(
        &self,
        next: u64,
        out: &mut Vec<u8>,
        max_bytes: usize,
        deadline: Instant,
        stop: &AtomicBool,
        end: &AtomicBool,
    ) -> ReadOutcome {
        let mut inner = self.inner.lock();
        loop {
            if stop.load(Ordering::Acquire) {
                return ReadOutcome::Stopped;
            }
            let len = inner.store.len();
            if next <= len {
                let count = inner.store.read_packets(next, out, max_bytes);
                return ReadOutcome::Copied {
                    count,
                    lag: len + 1 - next - count,
                };
            }
            if inner.ended || end.load(Ordering::Acquire) {
                return ReadOutcome::Ended;
            }
            inner.waiters += 1;
            let timed_out = self.cond.wait_until(&mut inner, deadline).timed_out();
            inner.waiters -= 1;
            if timed_out && inner.store.len() < next {
                return if stop.load(Ordering::Acquire) {
                    ReadOutcome::Stopped
                } else {
                    ReadOutcome::Idle
                };
            }
        }
    }
}
