//! Waiting for SIGINT or SIGTERM without a handler: both are blocked in every thread
//! (the mask is inherited by threads spawned afterwards, so [`block`] runs before the
//! engine starts any), and the main thread takes them with `sigwait`.

#![allow(unsafe_code)] // libc calls with the preconditions checked below.

use std::io;

/// The signal set {SIGINT, SIGTERM}.
fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset and sigaddset only write the set they are given, which is a
    // valid, owned sigset_t; the signal numbers are valid.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        set
    }
}

/// Blocks SIGINT and SIGTERM in this thread and the threads it starts from now on.
///
/// # Errors
///
/// The error `pthread_sigmask` returns.
pub(crate) fn block() -> io::Result<()> {
    let set = stop_signals();
    // SAFETY: a valid set; the old mask is not asked for (null).
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Waits for SIGINT or SIGTERM (blocked by [`block`]); returns its name.
///
/// # Errors
///
/// The error `sigwait` returns.
pub(crate) fn wait() -> io::Result<&'static str> {
    let set = stop_signals();
    let mut signal: libc::c_int = 0;
    // SAFETY: a valid set and a valid out pointer to a c_int.
    let rc = unsafe { libc::sigwait(&set, &mut signal) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(if signal == libc::SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    })
}
