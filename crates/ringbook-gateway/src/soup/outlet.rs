//! A logged-in session's output: the client's place in its stream and the bytes taken
//! from the stream that the kernel has not accepted yet. It lives inside the stream, under
//! the stream's lock. After an append it asks the session's reactor to write (once until
//! the reactor has: [`super::SessionConfig::write_on_reactor`], the default), or writes
//! the new packets at once on the appending thread; either way non-blocking. What the
//! kernel refuses stays here, and the stream holds the rest; the reactor finishes the
//! write when the socket has room again.
//!
//! A client falling more than `max_lag` messages behind (not counting the replay it asked
//! for at login), a write that failed, or a write blocked for the write timeout ends the
//! session: the failure is recorded here and the socket shut down, which the reactor sees.

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringbook_wire::soup::encode;

use super::poll::{Interest, Poller};
use super::{DisconnectReason, MessageStore, SessionConfig};

/// What the reactor finds when it looks at an outlet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutletState {
    /// Sending, or waiting for messages.
    Open,
    /// A failure is recorded (the socket is shut down).
    Failed,
    /// End of Session has been written: the session is over.
    Ended,
}

/// One session's output (see the module docs).
#[derive(Debug)]
pub(crate) struct Outlet {
    socket: Arc<TcpStream>,
    poller: Arc<Poller>,
    token: u64,
    /// The next sequence number to take from the stream.
    next: u64,
    /// Packets taken from the stream (or a heartbeat, or End of Session) ...
    out: Vec<u8>,
    /// ... of which the kernel has accepted this many bytes.
    pos: usize,
    /// The stream's length at login: a replay up to it is not lag.
    at_login: u64,
    max_lag: u64,
    write_batch: usize,
    /// When the heartbeat timer last found something sent (the reactor's tick clock:
    /// no clock is read per write).
    last_send: Instant,
    /// Bytes were written since the last tick.
    sent: bool,
    blocked_since: Option<Instant>,
    failed: Option<DisconnectReason>,
    /// Send the rest of the stream, then End of Session.
    ending: bool,
    end_queued: bool,
    /// Appends leave the writing to the reactor ([`SessionConfig::write_on_reactor`]).
    deferred: bool,
    /// A write is asked of the reactor already.
    write_asked: bool,
    /// The reactor is writing packets taken from the stream outside the stream's lock
    /// ([`Outlet::lend`]): nothing else is written until they are back.
    lent: bool,
}

/// Writes `bytes` to `socket` until done, refused or failed, outside any lock; how many
/// bytes went out, and the error that stopped it (`WouldBlock` when the kernel's buffer
/// is full).
pub(crate) fn write_out(socket: &TcpStream, bytes: &[u8]) -> (usize, Option<io::Error>) {
    let mut at = 0;
    let mut writer = socket;
    while at < bytes.len() {
        match writer.write(&bytes[at..]) {
            Ok(0) => return (at, Some(io::ErrorKind::WriteZero.into())),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (at, Some(e)),
        }
    }
    (at, None)
}

impl Outlet {
    /// The output of a session registered with `poller` under `token`, sending from
    /// `next` on; `at_login` is the stream's length at login.
    pub(crate) fn new(
        socket: Arc<TcpStream>,
        poller: Arc<Poller>,
        token: u64,
        next: u64,
        at_login: u64,
        config: &SessionConfig,
    ) -> Outlet {
        Outlet {
            socket,
            poller,
            token,
            next,
            out: Vec::with_capacity(config.write_batch + (1 << 16)),
            pos: 0,
            at_login,
            max_lag: config.max_lag,
            write_batch: config.write_batch,
            last_send: Instant::now(),
            sent: false,
            blocked_since: None,
            failed: None,
            ending: false,
            end_queued: false,
            deferred: config.write_on_reactor,
            write_asked: false,
            lent: false,
        }
    }

    /// Records why the session ends (the first reason only) and shuts the socket down.
    fn fail(&mut self, reason: DisconnectReason) {
        if self.failed.is_none() {
            self.failed = Some(reason);
        }
        let _ = self.socket.shutdown(Shutdown::Both);
    }

    fn interest(&mut self, interest: Interest) {
        if let Err(e) = self
            .poller
            .modify(self.socket.as_raw_fd(), self.token, interest)
        {
            self.fail(DisconnectReason::Io(e));
        }
    }

    fn check_lag(&mut self, store: &dyn MessageStore) {
        let len = store.len();
        let sent = self.next.saturating_sub(1);
        let lag = (len - sent.min(len)).saturating_sub(self.at_login.saturating_sub(sent));
        if lag > self.max_lag {
            self.fail(DisconnectReason::SlowConsumer {
                lag,
                bound: self.max_lag,
            });
        }
    }

    /// Messages were appended: written now ([`Outlet::pump`]), or, when writing is left
    /// to the reactor, the reactor is asked to (once until it has). Returns the poller to
    /// wake when the reactor has to be woken for it: the caller wakes it after letting
    /// go of the stream's lock, so that the woken reactor does not find it held.
    #[must_use]
    pub(crate) fn appended(&mut self, store: &dyn MessageStore) -> Option<Arc<Poller>> {
        if !self.deferred {
            self.pump(store);
            None
        } else if !self.write_asked && self.failed.is_none() {
            self.write_asked = true;
            self.poller
                .ask_write(self.token)
                .then(|| Arc::clone(&self.poller))
        } else {
            None
        }
    }

    /// The reactor's write asked by [`Outlet::appended`], first half (under the stream's
    /// lock): when everything before was written, the stream's new packets are copied
    /// into `batch` for the reactor to write without holding the lock (an appender then
    /// never waits for a send), and true is returned; [`Outlet::returned`] takes the
    /// result. Otherwise (output pending, blocked, failed or ending) it writes on as
    /// [`Outlet::pump`] does and returns false.
    pub(crate) fn lend(&mut self, store: &dyn MessageStore, batch: &mut Vec<u8>) -> bool {
        self.write_asked = false;
        if self.failed.is_some()
            || self.blocked_since.is_some()
            || self.ending
            || self.pos != self.out.len()
        {
            self.pump(store);
            return false;
        }
        batch.clear();
        let count = store.read_packets(self.next, batch, self.write_batch);
        if count == 0 {
            return false;
        }
        self.next += count;
        self.lent = true;
        true
    }

    /// The second half of [`Outlet::lend`]: `written` bytes of `batch` went out, then
    /// `error` (if any) stopped the write. The rest is kept (swapped with the outlet's
    /// buffer); a refusal waits for room, a failure ends the session. Returns whether
    /// the reactor should write again (more packets were appended meanwhile).
    pub(crate) fn returned(
        &mut self,
        store: &dyn MessageStore,
        batch: &mut Vec<u8>,
        written: usize,
        error: Option<io::Error>,
    ) -> bool {
        self.lent = false;
        if written > 0 {
            self.sent = true;
        }
        if written < batch.len() {
            std::mem::swap(&mut self.out, batch);
            self.pos = written;
        }
        match error {
            None => {}
            Some(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.blocked_since = Some(Instant::now());
                self.interest(Interest::ReadWrite);
                self.check_lag(store);
                return false;
            }
            Some(e) => {
                self.fail(DisconnectReason::Io(e));
                return false;
            }
        }
        if self.ending {
            // Stream::end came meanwhile: the rest, then End of Session.
            self.pump(store);
            return false;
        }
        store.len() >= self.next
    }

    /// Writes what is pending and then the stream's new packets, until the client has
    /// everything or the kernel refuses more (then the reactor is asked to wait for
    /// room).
    pub(crate) fn pump(&mut self, store: &dyn MessageStore) {
        if self.failed.is_some() || self.lent {
            return;
        }
        if self.blocked_since.is_some() {
            self.check_lag(store);
            return;
        }
        loop {
            if self.pos == self.out.len() {
                if self.end_queued {
                    return;
                }
                self.out.clear();
                self.pos = 0;
                let count = store.read_packets(self.next, &mut self.out, self.write_batch);
                if count == 0 {
                    if !self.ending {
                        return;
                    }
                    encode::end_of_session(&mut self.out);
                    self.end_queued = true;
                }
                self.next += count;
            }
            match (&*self.socket).write(&self.out[self.pos..]) {
                Ok(0) => {
                    self.fail(DisconnectReason::Io(io::ErrorKind::WriteZero.into()));
                    return;
                }
                Ok(n) => {
                    self.pos += n;
                    self.sent = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.blocked_since = Some(Instant::now());
                    self.interest(Interest::ReadWrite);
                    self.check_lag(store);
                    return;
                }
                Err(e) => {
                    self.fail(DisconnectReason::Io(e));
                    return;
                }
            }
        }
    }

    /// The socket has room again: stop waiting for it and write on.
    pub(crate) fn writable(&mut self, store: &dyn MessageStore) {
        if self.blocked_since.take().is_some() {
            self.interest(Interest::Read);
        }
        self.pump(store);
    }

    /// The periodic checks: a write blocked past `write_timeout` fails the session; a
    /// session that sent nothing for `heartbeat` gets a Server Heartbeat.
    pub(crate) fn tick(
        &mut self,
        store: &dyn MessageStore,
        now: Instant,
        heartbeat: Duration,
        write_timeout: Duration,
    ) {
        if std::mem::take(&mut self.sent) {
            self.last_send = now;
        }
        if self.failed.is_some() || self.end_queued {
            return;
        }
        if let Some(since) = self.blocked_since {
            if now.saturating_duration_since(since) >= write_timeout {
                self.fail(DisconnectReason::WriteTimeout {
                    seconds: write_timeout.as_secs_f64(),
                });
            }
            return;
        }
        if self.pos == self.out.len() && now.saturating_duration_since(self.last_send) >= heartbeat
        {
            self.out.clear();
            self.pos = 0;
            encode::server_heartbeat(&mut self.out);
            self.pump(store);
            self.last_send = now;
            self.sent = false;
        }
    }

    /// Sends the rest of the stream, then End of Session.
    pub(crate) fn end(&mut self, store: &dyn MessageStore) {
        self.ending = true;
        self.pump(store);
    }

    /// Whether the session goes on, failed, or has sent End of Session.
    pub(crate) fn state(&self) -> OutletState {
        if self.failed.is_some() {
            OutletState::Failed
        } else if self.end_queued && self.pos == self.out.len() {
            OutletState::Ended
        } else {
            OutletState::Open
        }
    }

    /// Why the session ended, as far as its output knows: the recorded failure, or End
    /// of Session once that was written.
    pub(crate) fn into_reason(mut self) -> Option<DisconnectReason> {
        match self.state() {
            OutletState::Ended => Some(DisconnectReason::EndOfSession),
            _ => self.failed.take(),
        }
    }
}
