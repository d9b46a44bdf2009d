//! A sequenced message stream: one [`MessageStore`] shared by the producers that append
//! to it (the application, an engine subscriber) and, while its client is logged in, the
//! session's [`Outlet`], which gets each append's new packets to the socket (asking the
//! session's reactor to write them, or writing them at once; non-blocking either way).
//!
//! Appending never waits for a client: the store takes the message and the outlet writes
//! what the kernel accepts. A client that falls behind is the outlet's problem (it is
//! disconnected past [`super::SessionConfig::max_lag`] and can log in again from its
//! sequence number).

use parking_lot::Mutex;

use std::net::TcpStream;
use std::sync::Arc;

use super::outlet::{Outlet, OutletState, write_out};
use super::poll::Poller;
use super::{DisconnectReason, MessageStore, StoreError};

struct Inner {
    store: Box<dyn MessageStore>,
    outlet: Option<Outlet>,
    ended: bool,
}

/// A sequenced message stream (see the module docs).
pub struct Stream {
    inner: Mutex<Inner>,
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
                outlet: None,
                ended: false,
            }),
        }
    }

    /// Appends one message and hands it to the logged-in client's outlet; returns its
    /// sequence number.
    ///
    /// # Errors
    ///
    /// As [`MessageStore::append`].
    pub fn append(&self, message: &[u8]) -> Result<u64, StoreError> {
        let mut inner = self.inner.lock();
        let seq = inner.store.append(message)?;
        let wake = inner.pump();
        drop(inner);
        if let Some(poller) = wake {
            poller.wake();
        }
        Ok(seq)
    }

    /// Appends messages each written as a 2-byte big-endian length then its bytes, under
    /// one lock and handed to the client's outlet once.
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
        let wake = inner.pump();
        drop(inner);
        if let Some(poller) = wake {
            poller.wake();
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

    /// Marks the stream ended: the logged-in client gets what is left, then End of
    /// Session.
    pub fn end(&self) {
        let mut inner = self.inner.lock();
        inner.ended = true;
        let Inner { store, outlet, .. } = &mut *inner;
        if let Some(outlet) = outlet {
            outlet.end(&**store);
        }
    }

    /// Attaches a logged-in session's output and sends it what it asked for.
    pub(crate) fn attach(&self, outlet: Outlet) {
        let mut inner = self.inner.lock();
        let ended = inner.ended;
        let Inner {
            store,
            outlet: slot,
            ..
        } = &mut *inner;
        let outlet = slot.insert(outlet);
        if ended {
            outlet.end(&**store);
        } else {
            outlet.pump(&**store);
        }
    }

    /// The reactor's write asked by an append: the new packets copied into `batch`
    /// under the lock, written to `socket` without it (an appender never waits for a
    /// send), the result handed back under the lock; again while more came meanwhile.
    /// The output's state after.
    pub(crate) fn asked_write(&self, socket: &TcpStream, batch: &mut Vec<u8>) -> OutletState {
        loop {
            {
                let mut inner = self.inner.lock();
                let Inner { store, outlet, .. } = &mut *inner;
                let Some(outlet) = outlet else {
                    return OutletState::Failed;
                };
                if !outlet.lend(&**store, batch) {
                    return outlet.state();
                }
            }
            let (written, error) = write_out(socket, batch);
            let mut inner = self.inner.lock();
            let Inner { store, outlet, .. } = &mut *inner;
            let Some(outlet) = outlet else {
                return OutletState::Failed;
            };
            if !outlet.returned(&**store, batch, written, error) {
                return outlet.state();
            }
        }
    }

    /// Detaches the session's output; the failure it recorded, or End of Session if it
    /// sent that.
    pub(crate) fn detach(&self) -> Option<DisconnectReason> {
        self.inner.lock().outlet.take()?.into_reason()
    }

    /// Runs `f` on the attached output (if any) with the store; its state after.
    pub(crate) fn with_outlet(
        &self,
        f: impl FnOnce(&mut Outlet, &dyn MessageStore),
    ) -> OutletState {
        let mut inner = self.inner.lock();
        let Inner { store, outlet, .. } = &mut *inner;
        match outlet {
            Some(outlet) => {
                f(outlet, &**store);
                outlet.state()
            }
            None => OutletState::Failed,
        }
    }
}

impl Inner {
    /// Hands the new packets to the attached output, if any; the poller to wake once the
    /// lock is let go (see [`Outlet::appended`]).
    fn pump(&mut self) -> Option<Arc<Poller>> {
        self.outlet
            .as_mut()
            .and_then(|outlet| outlet.appended(&*self.store))
    }
}
