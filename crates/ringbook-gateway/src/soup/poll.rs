//! The readiness poller of the session reactor: one Linux `epoll` instance, level
//! triggered for the sockets, with an `eventfd` to wake its waiter from other threads.
//! The eventfd is registered edge triggered: every write to it is a new edge, so a
//! wake-up is seen once without reading the counter back (one syscall less per wake).

#![allow(unsafe_code)] // libc calls, each with its preconditions stated below.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Nanoseconds on the monotonic clock (the clock of `Instant`, shared by every process of
/// the machine), as one integer: the reactor's timers compare and subtract these without
/// `Duration` arithmetic per round, and the server's `--ouch-hops` stamps and the client's
/// `--hops` times join on it.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// Milliseconds to wait for `nanos`, rounded up (a wait never ends before its deadline).
pub(crate) fn millis_for(nanos: u64) -> libc::c_int {
    libc::c_int::try_from(nanos.div_ceil(1_000_000)).unwrap_or(libc::c_int::MAX)
}

/// The token of the poller's own wake-up `eventfd`.
pub(crate) const WAKE_TOKEN: u64 = u64::MAX;

/// Ready events returned by one wait, at most.
pub(crate) const MAX_EVENTS: usize = 64;

/// What a registration waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interest {
    /// Input (and hang-up, always reported).
    Read,
    /// Input and room to write.
    ReadWrite,
    /// Each new input, edge triggered (the wake-up eventfd).
    ReadEdge,
}

impl Interest {
    fn bits(self) -> u32 {
        match self {
            Interest::Read => libc::EPOLLIN as u32,
            Interest::ReadWrite => (libc::EPOLLIN | libc::EPOLLOUT) as u32,
            Interest::ReadEdge => (libc::EPOLLIN | libc::EPOLLET) as u32,
        }
    }
}

/// The buffer one wait fills (kept by the waiter: nothing is zeroed or allocated per
/// wait).
pub(crate) struct Events {
    events: [libc::epoll_event; MAX_EVENTS],
    len: usize,
}

impl Default for Events {
    fn default() -> Events {
        Events {
            events: [libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS],
            len: 0,
        }
    }
}

impl Events {
    /// The ready registrations of the last wait: token, readable (input, end of input
    /// or an error pending), writable (room, or an error pending).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, bool, bool)> + '_ {
        let error_bits = (libc::EPOLLERR | libc::EPOLLHUP | libc::EPOLLRDHUP) as u32;
        self.events[..self.len].iter().map(move |event| {
            let bits = event.events;
            (
                event.u64,
                bits & (libc::EPOLLIN as u32 | error_bits) != 0,
                bits & (libc::EPOLLOUT as u32 | libc::EPOLLERR as u32) != 0,
            )
        })
    }

    /// Whether the last wait found nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// An epoll instance and its wake-up eventfd (see the module docs).
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    wake: OwnedFd,
    /// Registrations with output for the waiter to write ([`Poller::ask_write`]).
    writes: parking_lot::Mutex<Vec<u64>>,
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

impl Poller {
    /// A new poller.
    ///
    /// # Errors
    ///
    /// When the kernel refuses an epoll instance or an eventfd (out of descriptors).
    pub(crate) fn new() -> io::Result<Poller> {
        // SAFETY: epoll_create1 takes no pointer; a non-negative result is a new
        // descriptor that nothing else owns.
        let epoll =
            unsafe { OwnedFd::from_raw_fd(check(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: as above, for eventfd.
        let wake = unsafe {
            OwnedFd::from_raw_fd(check(libc::eventfd(
                0,
                libc::EFD_CLOEXEC | libc::EFD_NONBLOCK,
            ))?)
        };
        let poller = Poller {
            epoll,
            wake,
            writes: parking_lot::Mutex::new(Vec::new()),
        };
        poller.ctl(
            libc::EPOLL_CTL_ADD,
            poller.wake.as_raw_fd(),
            WAKE_TOKEN,
            Interest::ReadEdge,
        )?;
        Ok(poller)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: interest.bits(),
            u64: token,
        };
        // SAFETY: both descriptors are open (the epoll one is owned by self, `fd` is
        // borrowed from a live socket by the caller); `event` is a valid epoll_event
        // that the kernel only reads.
        check(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &raw mut event) })?;
        Ok(())
    }

    /// Registers `fd` under `token`.
    ///
    /// # Errors
    ///
    /// The error of `epoll_ctl` (the descriptor is closed, say).
    pub(crate) fn add(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, interest)
    }

    /// Changes what `fd` waits for.
    ///
    /// # Errors
    ///
    /// The error of `epoll_ctl`.
    pub(crate) fn modify(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, interest)
    }

    /// Unregisters `fd` (before it is closed).
    ///
    /// # Errors
    ///
    /// The error of `epoll_ctl`.
    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, Interest::Read)
    }

    /// Wakes the thread in [`Poller::wait`] (it sees [`WAKE_TOKEN`]). The counter is
    /// never read back (the registration is edge triggered); should it ever fill
    /// (2^64 - 2 wake-ups), it is emptied and written again.
    pub(crate) fn wake(&self) {
        if self.write_wake() {
            return;
        }
        self.clear_wake();
        self.write_wake();
    }

    /// Adds one to the eventfd's counter; false when the counter is full.
    fn write_wake(&self) -> bool {
        let one: u64 = 1;
        // SAFETY: the eventfd is owned by self; the buffer is 8 readable bytes. EAGAIN
        // means the counter is full (the caller empties it).
        let rc = unsafe {
            libc::write(
                self.wake.as_raw_fd(),
                (&raw const one).cast::<libc::c_void>(),
                8,
            )
        };
        rc == 8
    }

    /// Asks the waiter to write the output of `token`; true when nothing was asked since
    /// it last looked, and the caller must then [`Poller::wake`] it.
    #[must_use]
    pub(crate) fn ask_write(&self, token: u64) -> bool {
        let mut writes = self.writes.lock();
        writes.push(token);
        writes.len() == 1
    }

    /// Moves the tokens asked by [`Poller::ask_write`] into `into` (emptied first).
    pub(crate) fn take_writes(&self, into: &mut Vec<u64>) {
        into.clear();
        std::mem::swap(&mut *self.writes.lock(), into);
    }

    /// Empties the wake-up counter (only when it is full: see [`Poller::wake`]).
    fn clear_wake(&self) {
        let mut count: u64 = 0;
        // SAFETY: the eventfd is owned by self; the buffer is 8 writable bytes. EAGAIN
        // (nothing pending) is fine.
        let _ = unsafe {
            libc::read(
                self.wake.as_raw_fd(),
                (&raw mut count).cast::<libc::c_void>(),
                8,
            )
        };
    }

    /// Waits up to `millis` milliseconds (zero: return at once) for ready registrations,
    /// which replace the contents of `events`.
    ///
    /// # Errors
    ///
    /// The error of `epoll_wait` other than an interruption (which returns nothing).
    pub(crate) fn wait(&self, events: &mut Events, millis: libc::c_int) -> io::Result<()> {
        events.len = 0;
        // SAFETY: the epoll descriptor is owned by self; `events.events` has room for
        // MAX_EVENTS entries, the bound passed, and the kernel writes at most that many.
        let rc = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                events.events.as_mut_ptr(),
                MAX_EVENTS as libc::c_int,
                millis,
            )
        };
        match check(rc) {
            Ok(n) => events.len = n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }
}
