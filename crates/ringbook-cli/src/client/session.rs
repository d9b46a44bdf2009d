//! The sessions of a load: one pacer thread writes every session's planned messages open
//! loop (each at its intended time, or as fast as it can without a rate; one pacing
//! thread for all sessions, not one each), and a receiver thread per session reads every
//! response, timing each enter or replace from its intended send time to its first
//! response (Order Accepted, Order Replaced or Rejected).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ringbook_gateway::soup::{ClientError, ServerPacket, SoupClient};
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::soup::login::LoginRequest;

use super::plan::SessionPlan;

/// A logged-in session before its run, and its first free UserRefNum.
pub(crate) struct Connected {
    pub(crate) client: SoupClient,
    pub(crate) base_urn: u32,
}

/// What one session's receiver measured.
pub(crate) struct SessionResult {
    pub(crate) histogram: Histogram<u64>,
    pub(crate) answered: u64,
    pub(crate) rejected: u64,
    pub(crate) last_response: Instant,
}

/// Logs in and asks the account's next UserRefNum (Account Query), so that runs against
/// the same server never reuse one.
pub(crate) fn connect(
    addr: SocketAddr,
    user: &str,
    password: &str,
) -> Result<Connected, ClientError> {
    let (mut client, _) = SoupClient::connect(
        addr,
        &LoginRequest::new(user, password, "", 0).map_err(ClientError::Protocol)?,
    )?;
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    client.send(b"Q\0\0")?;
    loop {
        if let ServerPacket::Sequenced(m) = client.recv()?
            && let Ok(Outbound::AccountQueryResponse {
                next_user_ref_num, ..
            }) = Outbound::decode(m)
        {
            return Ok(Connected {
                client,
                base_urn: next_user_ref_num.saturating_sub(1),
            });
        }
    }
}

/// The UserRefNum of the first response a message can be (Accepted, Replaced, Rejected).
fn first_response_urn(m: &[u8]) -> Option<(u32, bool)> {
    let at = |i: usize| {
        m.get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    match m.first()? {
        b'A' => Some((at(9)?, false)),
        b'U' => Some((at(13)?, false)),
        b'J' => Some((at(9)?, true)),
        _ => None,
    }
}

/// One session's sending side, for [`pace`].
pub(crate) struct Outgoing {
    writer: std::net::TcpStream,
    plan: SessionPlan,
    base_urn: u32,
    intended: Arc<Vec<AtomicU64>>,
    next: usize,
    start: usize,
    sent: u64,
}

impl Outgoing {
    fn due(&self, interval: Option<Duration>, epoch: Instant) -> Option<Instant> {
        (self.next < self.plan.messages.len())
            .then(|| interval.map_or(epoch, |d| epoch + d * self.next as u32))
    }

    /// Appends to `out` every message due by `now` (at most 64 KiB), stamping the timed
    /// ones' intended send times; returns whether any was taken.
    fn take_due(
        &mut self,
        out: &mut Vec<u8>,
        now: Instant,
        interval: Option<Duration>,
        epoch: Instant,
    ) -> bool {
        let n = self.plan.messages.len();
        let before = self.next;
        while self.next < n && out.len() < (1 << 16) {
            let due = interval.map(|d| epoch + d * self.next as u32);
            if due.is_some_and(|d| d > now) {
                break;
            }
            let (end, urn) = self.plan.messages[self.next];
            let msg = &self.plan.bytes[self.start..end];
            self.start = end;
            out.extend_from_slice(&((msg.len() + 1) as u16).to_be_bytes());
            out.push(b'U');
            let at = out.len();
            out.extend_from_slice(msg);
            if msg[0] == b'U' || msg[0] == b'X' {
                // The order named (OrigUserRefNum, or the cancel's UserRefNum).
                let orig = u32::from_be_bytes([msg[1], msg[2], msg[3], msg[4]]) + self.base_urn;
                out[at + 1..at + 5].copy_from_slice(&orig.to_be_bytes());
            }
            if urn > 0 {
                // Shift the planned UserRefNums past the account's last one.
                let off = if msg[0] == b'U' { 5 } else { 1 };
                out[at + off..at + off + 4].copy_from_slice(&(urn + self.base_urn).to_be_bytes());
                let t = due
                    .unwrap_or(now)
                    .saturating_duration_since(epoch)
                    .as_nanos() as u64;
                self.intended[urn as usize].store(t.max(1), Ordering::Release);
            }
            self.next += 1;
            self.sent += 1;
        }
        self.next > before
    }

    /// Messages sent.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Enter Orders planned (all sent once [`pace`] returns).
    pub(crate) fn enters(&self) -> u64 {
        self.plan.enters
    }
}

/// Sends every session's messages from this thread, each when it is due (sleeping while
/// the next is far, yielding the core when it is near), all of a session's due messages in one
/// write; returns when all are sent.
///
/// # Errors
///
/// A failed write.
pub(crate) fn pace(
    outgoing: &mut [Outgoing],
    interval: Option<Duration>,
    epoch: Instant,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(1 << 17);
    loop {
        let Some(due) = outgoing.iter().filter_map(|o| o.due(interval, epoch)).min() else {
            return Ok(());
        };
        loop {
            let now = Instant::now();
            if now >= due {
                break;
            }
            if due - now > Duration::from_micros(200) {
                thread::sleep(due - now - Duration::from_micros(100));
            } else {
                // Yield, not spin: the client shares the cores with the server it
                // measures, and at 100 k orders/s the next message is always near, so a
                // spinning pacer took a whole core from the server's threads.
                thread::yield_now();
            }
        }
        let now = Instant::now();
        for o in outgoing.iter_mut() {
            out.clear();
            if o.take_due(&mut out, now, interval, epoch) {
                o.writer.write_all(&out)?;
            }
        }
    }
}

/// A session's receiver thread.
pub(crate) type Receiver = thread::JoinHandle<Result<SessionResult, ClientError>>;

/// Splits a connected session into its sending side (for [`pace`]) and a receiver
/// thread that times the responses; the receiver stops once `done` is set and every
/// timed message is answered (or nothing came for a second).
///
/// # Errors
///
/// When the socket cannot be cloned or the thread cannot start.
pub(crate) fn start(
    connected: Connected,
    plan: SessionPlan,
    done: Arc<AtomicBool>,
    epoch: Instant,
) -> Result<(Outgoing, Receiver), ClientError> {
    let Connected {
        mut client,
        base_urn,
    } = connected;
    let intended: Arc<Vec<AtomicU64>> = Arc::new(
        (0..plan.last_urn as usize + 1)
            .map(|_| AtomicU64::new(0))
            .collect(),
    );
    let writer = client.socket().try_clone()?;
    let expected = plan.timed;
    let receiver = {
        let intended = Arc::clone(&intended);
        thread::Builder::new()
            .name("client-recv".into())
            .spawn(move || receive(&mut client, base_urn, &intended, expected, &done, epoch))?
    };
    Ok((
        Outgoing {
            writer,
            plan,
            base_urn,
            intended,
            next: 0,
            start: 0,
            sent: 0,
        },
        receiver,
    ))
}

fn receive(
    client: &mut SoupClient,
    base_urn: u32,
    intended: &[AtomicU64],
    expected: u64,
    done: &AtomicBool,
    epoch: Instant,
) -> Result<SessionResult, ClientError> {
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    let mut answered = 0u64;
    let mut rejected = 0u64;
    let mut last_response = Instant::now();
    client.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut idle_since: Option<Instant> = None;
    loop {
        match client.recv() {
            Ok(ServerPacket::Sequenced(m)) => {
                idle_since = None;
                if let Some((urn, reject)) = first_response_urn(m) {
                    let local = urn.wrapping_sub(base_urn) as usize;
                    if let Some(slot) = intended.get(local) {
                        let t0 = slot.swap(0, Ordering::AcqRel);
                        if t0 > 0 {
                            let now = Instant::now();
                            let t = now.saturating_duration_since(epoch).as_nanos() as u64;
                            histogram.saturating_record(t.saturating_sub(t0).max(1));
                            answered += 1;
                            rejected += u64::from(reject);
                            last_response = now;
                        }
                    }
                }
                if done.load(Ordering::Acquire) && answered >= expected {
                    break;
                }
            }
            Ok(ServerPacket::EndOfSession) => break,
            Ok(_) => {}
            Err(ClientError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if done.load(Ordering::Acquire) {
                    if answered >= expected {
                        break;
                    }
                    // Replaces of orders already gone are ignored by the server: stop
                    // after a second without responses.
                    let since = *idle_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_secs(1) {
                        break;
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    client.queue_logout();
    let _ = client.flush();
    Ok(SessionResult {
        histogram,
        answered,
        rejected,
        last_response,
    })
}
