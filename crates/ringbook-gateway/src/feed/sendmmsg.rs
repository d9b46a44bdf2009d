//! Sending a [`PacketBurst`] on a connected UDP socket with as few system calls as the
//! kernel allows: `sendmmsg(2)` on Linux (one call for the whole burst, each packet its
//! own datagram), one `send` per packet elsewhere or where `sendmmsg` is missing.

#![allow(unsafe_code)] // One libc call, with its preconditions checked below.

use std::io;
use std::net::UdpSocket;

use super::burst::PacketBurst;

/// What sending a burst did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BurstOutcome {
    /// System calls made.
    pub(crate) calls: u64,
}

/// Sends every packet of `burst`, in order, one datagram each, to the socket's connected
/// destination. A packet the kernel refuses is reported to `on_error` and skipped (as a
/// failed `send` of that packet would be); the others are still sent.
pub(crate) fn send_burst(
    socket: &UdpSocket,
    burst: &PacketBurst,
    on_error: &mut dyn FnMut(io::Error),
) -> BurstOutcome {
    let mut outcome = BurstOutcome::default();
    #[cfg(target_os = "linux")]
    let mut next = linux::send(socket, burst, &mut outcome, on_error);
    #[cfg(not(target_os = "linux"))]
    let mut next = 0;
    while next < burst.len() {
        outcome.calls += 1;
        if let Err(e) = socket.send(burst.packet(next)) {
            on_error(e);
        }
        next += 1;
    }
    outcome
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    use super::super::burst::{MAX_BURST, PacketBurst};
    use super::BurstOutcome;

    /// Sends with `sendmmsg`; returns how many packets were dealt with (all of them,
    /// unless the kernel has no `sendmmsg`: the caller sends the rest one by one).
    pub(super) fn send(
        socket: &UdpSocket,
        burst: &PacketBurst,
        outcome: &mut BurstOutcome,
        on_error: &mut dyn FnMut(io::Error),
    ) -> usize {
        let n = burst.len().min(MAX_BURST);
        // Built on the stack for each burst: the headers hold raw pointers into `burst`,
        // which outlives this call and is not changed during it.
        let mut iov = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; MAX_BURST];
        // SAFETY: mmsghdr is a plain C struct for which all-zero bytes are a valid value
        // (null name and control pointers, zero lengths and flags).
        let mut headers: [libc::mmsghdr; MAX_BURST] = unsafe { std::mem::zeroed() };
        for (i, (v, header)) in iov.iter_mut().zip(headers.iter_mut()).take(n).enumerate() {
            let packet = burst.packet(i);
            v.iov_base = packet.as_ptr().cast_mut().cast();
            v.iov_len = packet.len();
            header.msg_hdr.msg_iov = std::ptr::from_mut(v);
            header.msg_hdr.msg_iovlen = 1;
        }
        let fd = socket.as_raw_fd();
        let mut done = 0;
        while done < n {
            let left = u32::try_from(n - done).unwrap_or(u32::MAX);
            outcome.calls += 1;
            // SAFETY: `fd` is the open socket `socket` borrows; `headers[done..n]` are
            // `left` initialised headers, each with one iovec pointing into `burst`'s
            // bytes, which stay alive and unchanged for the call; the kernel only reads
            // them (and writes `msg_len`, a field of the headers we own mutably). No
            // destination address: the socket is connected.
            let sent = unsafe { libc::sendmmsg(fd, headers.as_mut_ptr().add(done), left, 0) };
            match usize::try_from(sent) {
                Ok(sent) if sent > 0 => done += sent,
                _ => {
                    let e = io::Error::last_os_error();
                    match e.raw_os_error() {
                        Some(libc::EINTR) => {}
                        Some(libc::ENOSYS) if done == 0 && outcome.calls == 1 => {
                            outcome.calls = 0;
                            return 0;
                        }
                        // The first packet left is refused: report it, skip it.
                        _ => {
                            on_error(e);
                            done += 1;
                        }
                    }
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::feed::burst::MAX_BURST;

    #[test]
    fn a_burst_arrives_as_the_same_datagrams_in_order_with_one_call() {
        let reader = UdpSocket::bind("127.0.0.1:0").unwrap();
        reader
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.connect(reader.local_addr().unwrap()).unwrap();
        let mut burst = PacketBurst::new(64);
        let packets: Vec<Vec<u8>> = (0..10u8)
            .map(|i| vec![i; 20 + usize::from(i) * 7])
            .collect();
        for p in &packets {
            burst.push(p);
        }
        let mut errors = Vec::new();
        let outcome = send_burst(&sender, &burst, &mut |e| errors.push(e));
        assert!(errors.is_empty(), "{errors:?}");
        if cfg!(target_os = "linux") {
            assert_eq!(outcome.calls, 1, "one sendmmsg for the burst");
        }
        let mut buf = [0u8; 2048];
        for p in &packets {
            let len = reader.recv(&mut buf).unwrap();
            assert_eq!(&buf[..len], p.as_slice());
        }
        assert!(MAX_BURST >= packets.len());
    }

    #[test]
    fn a_refused_destination_is_reported_and_the_burst_still_ends() {
        // A port nobody listens on: the kernel answers with ICMP, and a later send on
        // the connected socket reports the refusal.
        let gone = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = gone.local_addr().unwrap();
        drop(gone);
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.connect(addr).unwrap();
        let mut burst = PacketBurst::new(16);
        for _ in 0..3 {
            burst.push(b"packet");
        }
        let mut refused = 0;
        for _ in 0..3 {
            send_burst(&sender, &burst, &mut |e| {
                assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
                refused += 1;
            });
        }
        assert!(refused >= 1, "the refusal is reported, not lost");
    }
}
