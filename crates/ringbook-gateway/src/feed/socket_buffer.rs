//! A UDP socket's receive buffer: what a feed receiver asks the kernel for, and what it got.
//!
//! A receiver that falls behind (descheduled on a busy machine, or while it applies a
//! burst) loses every datagram past the socket's buffer, and the re-requests that recover
//! them arrive while the live feed is still flooding it. The kernel's default (about
//! 208 KiB here, some 90 datagrams of 1,400 bytes as the kernel accounts them) is soon
//! full at millions of messages a second; a receiver asks for more (the kernel caps the
//! request at `net.core.rmem_max` and doubles it for its own bookkeeping).

#![allow(unsafe_code)] // setsockopt and getsockopt, with their preconditions stated below.

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

/// Asks for a receive buffer of `bytes` (capped at `i32::MAX`). The kernel may grant
/// less (its `rmem_max`); [`receive_buffer`] tells what it granted.
pub(crate) fn ask_receive_buffer(socket: &UdpSocket, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: the descriptor is the socket's, open while `socket` is borrowed; the option
    // value points at a live c_int and the length given is its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The receive buffer the kernel holds for `socket`, in bytes (as `getsockopt` reports
/// it: twice what was granted, the kernel's bookkeeping included).
pub(crate) fn receive_buffer(socket: &UdpSocket) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the descriptor is the socket's, open while `socket` is borrowed; the kernel
    // writes at most `len` bytes into the live c_int `value` and the new length into `len`.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw mut value).cast(),
            &raw mut len,
        )
    };
    if rc == 0 {
        Ok(usize::try_from(value).unwrap_or(0))
    } else {
        Err(io::Error::last_os_error())
    }
}
