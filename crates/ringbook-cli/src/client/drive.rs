//! The load's two threads. The pacer ([`pace`], the calling thread) writes every
//! session's planned messages when they are due (open loop: each at its intended time;
//! without a rate as fast as the sockets take them), all of a session's due messages in
//! one write, and waits for the next by yielding its core in a loop (any thread that
//! needs the core gets it, and the core never halts, which on a virtual machine makes
//! the next wake-up slow); `--pace sleep` sleeps until it with a 1 ns timer slack
//! instead, see [`Pacing`]. The
//! receiver ([`receive`], one thread for every session) sleeps in one `ppoll` on every
//! socket and reads whichever has input, timing each enter or replace from its intended
//! send time to its first response: one wake-up serves every session with responses,
//! where a thread per session woke once per response.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ringbook_gateway::soup::ClientError;

use super::session::{Incoming, Outgoing};
use super::sys::{self, Ready, Wait};

/// The receiver's longest wait (then it checks whether to stop).
const IDLE_WAIT: Duration = Duration::from_millis(200);

/// How long the receiver waits for the last responses once everything is sent and
/// nothing comes (replaces of orders already gone are ignored by the server).
const QUIET_END: Duration = Duration::from_secs(1);

/// How the pacer waits for the next message's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Pacing {
    /// Sleep until it (a timed `ppoll`, 1 ns timer slack): the core is free meanwhile.
    Sleep,
    /// Yield the core in a loop until it: the pacer's core never idles, which on a
    /// virtual machine whose idle cores halt keeps one core awake for whichever thread
    /// is woken next (a wake-up onto a halted core is slow there), at the price of that
    /// core.
    Yield,
}

/// Sends every session's messages, each when it is due; returns when all are sent.
///
/// # Errors
///
/// A failed write.
pub(crate) fn pace(
    outgoing: &mut [Outgoing],
    interval: Option<Duration>,
    epoch: Instant,
    pacing: Pacing,
) -> std::io::Result<()> {
    sys::fine_timer_slack();
    loop {
        let Some(due) = outgoing.iter().filter_map(|o| o.due(interval, epoch)).min() else {
            return Ok(());
        };
        match pacing {
            Pacing::Sleep => {
                let now = Instant::now();
                if due > now {
                    sys::sleep(due - now);
                }
            }
            Pacing::Yield => {
                while Instant::now() < due {
                    std::thread::yield_now();
                }
            }
        }
        let now = Instant::now();
        for o in outgoing.iter_mut() {
            o.send_due(now, interval, epoch)?;
        }
    }
}

/// Reads every session's responses until `sent` is set and every timed message is
/// answered (or nothing came for a second since, or the server ended every session),
/// then logs every session out.
///
/// # Errors
///
/// A failed read or a server breaking the framing.
pub(crate) fn receive(
    incoming: &mut [Incoming],
    sent: &AtomicBool,
    epoch: Instant,
) -> Result<(), ClientError> {
    for i in incoming.iter_mut() {
        i.take_unread(epoch)?;
    }
    let mut waits: Vec<Wait> = Vec::with_capacity(incoming.len());
    let mut fds = Vec::with_capacity(waits.len());
    let mut ready: Vec<Ready> = Vec::with_capacity(waits.len());
    let mut quiet_since: Option<Instant> = None;
    loop {
        if sent.load(Ordering::Acquire) {
            if incoming.iter().all(Incoming::finished) {
                break;
            }
            let since = *quiet_since.get_or_insert_with(Instant::now);
            if since.elapsed() > QUIET_END {
                break;
            }
        }
        waits.clear();
        // A closed session is left out (a negative descriptor is skipped by ppoll).
        waits.extend(incoming.iter().map(|i| Wait {
            fd: if i.closed { -1 } else { i.socket.as_raw_fd() },
            write: false,
        }));
        sys::wait(&waits, &mut fds, &mut ready, IDLE_WAIT).map_err(ClientError::Io)?;
        let mut any = false;
        for (i, r) in incoming.iter_mut().zip(&ready) {
            if r.read && !i.closed {
                let before = i.answered;
                i.read_ready(epoch)?;
                any |= i.answered > before;
            }
        }
        if any {
            quiet_since = None;
        }
        if incoming.iter().all(|i| i.closed) {
            break;
        }
    }
    for i in incoming.iter_mut() {
        i.logout();
    }
    Ok(())
}
