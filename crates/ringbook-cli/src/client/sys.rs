//! The system calls the client's threads need beyond std: a sleep and a wait on several
//! sockets with a nanosecond timeout (`ppoll`), and a fine timer slack for the thread
//! (Linux lets a normal thread's timed wait end up to 50 us late by default, which the
//! open loop would count as latency).

#![allow(unsafe_code)] // libc calls with the preconditions stated below.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// One socket to wait on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wait {
    pub(crate) fd: RawFd,
    /// Wait for room to write as well as for input.
    pub(crate) write: bool,
}

/// What a wait found on one socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ready {
    /// Input, end of input or an error is pending: a read will not block.
    pub(crate) read: bool,
    /// Room to write (or an error pending).
    pub(crate) write: bool,
}

/// Reads what `fd` holds into `buf` without blocking (`recv` with `MSG_DONTWAIT`: the
/// socket itself stays blocking for the sender's writes); `WouldBlock` when it holds
/// nothing.
///
/// # Errors
///
/// The error of `recv`.
pub(crate) fn recv_now(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a valid, writable buffer of `buf.len()` bytes; `fd` is an open
    // socket borrowed from the caller.
    let rc = unsafe {
        libc::recv(
            fd,
            buf.as_mut_ptr().cast::<libc::c_void>(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    usize::try_from(rc).map_err(|_| io::Error::last_os_error())
}

/// Sets this thread's timer slack to 1 ns (best effort: a refusal only makes timed
/// waits end a little later).
pub(crate) fn fine_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and no pointer.
    let _ = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
}

/// Sleeps for `duration` (a `ppoll` on no socket: nanosecond resolution, ending as
/// late as the timer slack lets it; see [`fine_timer_slack`]).
pub(crate) fn sleep(duration: Duration) {
    let ts = timespec(duration);
    // SAFETY: no descriptors are passed (a null array of length 0); `ts` is a valid
    // timespec the kernel only reads; no signal mask is given.
    let _ = unsafe { libc::ppoll(std::ptr::null_mut(), 0, &raw const ts, std::ptr::null()) };
}

fn timespec(duration: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: libc::time_t::try_from(duration.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(duration.subsec_nanos()),
    }
}

/// Waits up to `timeout` for input on any of `waits` (or room, where asked); fills
/// `ready` (one per wait, in order). Kept buffers: `fds` is reused between calls.
///
/// # Errors
///
/// The error of `ppoll` other than an interruption (which returns nothing ready).
pub(crate) fn wait(
    waits: &[Wait],
    fds: &mut Vec<libc::pollfd>,
    ready: &mut Vec<Ready>,
    timeout: Duration,
) -> io::Result<()> {
    fds.clear();
    fds.extend(waits.iter().map(|w| libc::pollfd {
        fd: w.fd,
        events: if w.write {
            libc::POLLIN | libc::POLLOUT
        } else {
            libc::POLLIN
        },
        revents: 0,
    }));
    let ts = timespec(timeout);
    // SAFETY: `fds` holds `fds.len()` initialised pollfd entries that the kernel may
    // write (revents); `ts` is a valid timespec it only reads; no signal mask is given.
    let rc = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            &raw const ts,
            std::ptr::null(),
        )
    };
    ready.clear();
    if rc < 0 {
        let e = io::Error::last_os_error();
        ready.resize(waits.len(), Ready::default());
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(())
        } else {
            Err(e)
        };
    }
    let error = libc::POLLERR | libc::POLLHUP;
    ready.extend(fds.iter().map(|f| Ready {
        read: f.revents & (libc::POLLIN | error) != 0,
        write: f.revents & (libc::POLLOUT | error) != 0,
    }));
    Ok(())
}
