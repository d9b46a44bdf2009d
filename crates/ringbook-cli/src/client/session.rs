//! One load-generating session: a sender thread writes its planned messages open loop
//! (each at its intended time, or as fast as it can without a rate), and this thread
//! reads every response, timing each enter or replace from its intended send time to
//! its first response (Order Accepted, Order Replaced or Rejected).

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

/// What one session measured.
pub(crate) struct SessionResult {
    pub(crate) histogram: Histogram<u64>,
    pub(crate) sent: u64,
    pub(crate) answered: u64,
    pub(crate) rejected: u64,
    pub(crate) first_send: Instant,
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

/// Runs `plan` on `connected` (its UserRefNums count from `connected.base_urn`), the
/// message `i` due at `epoch + i * interval` (`None`: as fast as possible).
pub(crate) fn run(
    connected: Connected,
    plan: SessionPlan,
    interval: Option<Duration>,
    epoch: Instant,
) -> Result<SessionResult, ClientError> {
    let Connected {
        mut client,
        base_urn,
    } = connected;
    let timed = plan.last_urn as usize + 1;
    let intended: Arc<Vec<AtomicU64>> = Arc::new((0..timed).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));
    let mut writer = client.socket().try_clone()?;
    let sender = {
        let intended = Arc::clone(&intended);
        let done = Arc::clone(&done);
        thread::Builder::new().name("client-send".into()).spawn(
            move || -> std::io::Result<(u64, Instant)> {
                let mut out = Vec::with_capacity(1 << 16);
                let mut start = 0;
                let mut sent = 0u64;
                let first = Instant::now();
                let n = plan.messages.len();
                let mut i = 0;
                while i < n {
                    let due = interval.map(|d| epoch + d * i as u32);
                    if let Some(due) = due {
                        // Wait for the next message's time (sleep while far, then spin).
                        loop {
                            let now = Instant::now();
                            if now >= due {
                                break;
                            }
                            if due - now > Duration::from_micros(200) {
                                thread::sleep(due - now - Duration::from_micros(100));
                            } else {
                                std::hint::spin_loop();
                            }
                        }
                    }
                    // Everything due now goes in one write.
                    let now = Instant::now();
                    out.clear();
                    while i < n && out.len() < (1 << 16) {
                        let due = interval.map(|d| epoch + d * i as u32);
                        if due.is_some_and(|d| d > now) {
                            break;
                        }
                        let (end, urn) = plan.messages[i];
                        let msg = &plan.bytes[start..end];
                        start = end;
                        out.extend_from_slice(&((msg.len() + 1) as u16).to_be_bytes());
                        out.push(b'U');
                        let urn_at = out.len();
                        out.extend_from_slice(msg);
                        if urn > 0 {
                            // Shift the planned UserRefNums past the account's last one.
                            let wire = urn + base_urn;
                            let off = if msg[0] == b'U' { 5 } else { 1 };
                            out[urn_at + off..urn_at + off + 4]
                                .copy_from_slice(&wire.to_be_bytes());
                            let t = due
                                .unwrap_or(now)
                                .saturating_duration_since(epoch)
                                .as_nanos() as u64;
                            intended[urn as usize].store(t.max(1), Ordering::Release);
                        }
                        if msg[0] == b'U' || msg[0] == b'X' {
                            // The order named (OrigUserRefNum, or the cancel's UserRefNum).
                            let orig =
                                u32::from_be_bytes([msg[1], msg[2], msg[3], msg[4]]) + base_urn;
                            out[urn_at + 1..urn_at + 5].copy_from_slice(&orig.to_be_bytes());
                        }
                        i += 1;
                        sent += 1;
                    }
                    writer.write_all(&out)?;
                }
                done.store(true, Ordering::Release);
                Ok((sent, first))
            },
        )?
    };
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    let mut answered = 0u64;
    let mut rejected = 0u64;
    let mut last_response = Instant::now();
    let expected = plan.timed;
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
    let (sent, first_send) = sender.join().map_err(|_| ClientError::Closed)??;
    client.queue_logout();
    let _ = client.flush();
    Ok(SessionResult {
        histogram,
        sent,
        answered,
        rejected,
        first_send,
        last_response,
    })
}
