//! One session of a load, split in two after its login: its sending side
//! ([`Outgoing`]: the planned messages, stamped with their intended send times as they
//! are taken) and its receiving side ([`Incoming`]: what was read, and the latencies
//! measured). The connection stays blocking for the sender's writes; the receiver
//! reads it without blocking (`MSG_DONTWAIT`) after a `ppoll`. [`super::drive`] runs
//! every session's sending side on one thread and every receiving side on another.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ringbook_gateway::soup::{ClientError, ServerPacket, SoupClient};
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::soup::frame::{Sender, next_packet};
use ringbook_wire::soup::login::LoginRequest;
use ringbook_wire::soup::{MAX_PAYLOAD, PacketType, encode};

use super::plan::SessionPlan;
use super::sys;

/// Bytes of planned messages taken into a session's output at once, at most.
const TAKE_BYTES: usize = 1 << 16;

/// A logged-in session before its run, and its first free UserRefNum.
pub(crate) struct Connected {
    pub(crate) client: SoupClient,
    pub(crate) base_urn: u32,
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

/// The UserRefNum of the first response a message can be (Accepted, Replaced, Rejected),
/// and whether it is a Rejected.
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

/// Splits a connected session into its sending and receiving sides (sharing its
/// socket); with `hops`, the receiving side keeps every timed
/// order's times ([`Incoming::hops`]).
///
/// # Errors
///
/// When the socket cannot be cloned or its read timeout cleared.
pub(crate) fn split(
    connected: Connected,
    plan: SessionPlan,
    hops: bool,
) -> io::Result<(Outgoing, Incoming)> {
    let base_urn = connected.base_urn;
    let (socket, unread, offset) = connected.client.into_parts();
    socket.set_read_timeout(None)?;
    let writer = socket.try_clone()?;
    let intended: Arc<[AtomicU64]> = (0..=plan.last_urn).map(|_| AtomicU64::new(0)).collect();
    let sent_at: Arc<[AtomicU64]> = (0..=plan.last_urn).map(|_| AtomicU64::new(0)).collect();
    let mut input = vec![0; 1 << 20];
    input[..unread.len()].copy_from_slice(&unread);
    let incoming = Incoming {
        socket,
        base_urn,
        intended: Arc::clone(&intended),
        sent_at: Arc::clone(&sent_at),
        hops: hops.then(|| Vec::with_capacity(plan.timed as usize)),
        timed: plan.timed,
        in_start: 0,
        in_end: unread.len(),
        input,
        in_offset: offset,
        closed: false,
        histogram: histogram(),
        answered: 0,
        rejected: 0,
        last_response: None,
    };
    let outgoing = Outgoing {
        writer,
        base_urn,
        intended,
        sent_at,
        plan,
        next: 0,
        start: 0,
        sent: 0,
        out: Vec::with_capacity(TAKE_BYTES * 2),
        lateness: histogram(),
    };
    Ok((outgoing, incoming))
}

fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// A session's sending side (see the module docs).
pub(crate) struct Outgoing {
    writer: TcpStream,
    plan: SessionPlan,
    base_urn: u32,
    /// Per planned UserRefNum: its intended send time (ns after the epoch; 0 when not
    /// sent yet or answered already), shared with the receiving side.
    intended: Arc<[AtomicU64]>,
    /// Per planned UserRefNum: when it was taken for writing (ns after the epoch).
    sent_at: Arc<[AtomicU64]>,
    /// The next planned message, and where its bytes start.
    next: usize,
    start: usize,
    sent: u64,
    out: Vec<u8>,
    /// How late each timed message was taken for writing after its intended time (the
    /// client's own share of the latency).
    pub(crate) lateness: Histogram<u64>,
}

impl Outgoing {
    /// When the next planned message is due (`epoch` without a rate); `None` when all
    /// are sent.
    pub(crate) fn due(&self, interval: Option<Duration>, epoch: Instant) -> Option<Instant> {
        (self.next < self.plan.messages.len())
            .then(|| interval.map_or(epoch, |d| epoch + d * self.next as u32))
    }

    /// Messages sent.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Enter Orders planned.
    pub(crate) fn enters(&self) -> u64 {
        self.plan.enters
    }

    /// Takes every message due by `now` (up to 64 KiB), stamping the timed ones'
    /// intended send times, and writes them (blocking while the kernel has no room).
    ///
    /// # Errors
    ///
    /// A failed write.
    pub(crate) fn send_due(
        &mut self,
        now: Instant,
        interval: Option<Duration>,
        epoch: Instant,
    ) -> io::Result<()> {
        self.out.clear();
        self.take_due(now, interval, epoch);
        (&self.writer).write_all(&self.out)
    }

    fn take_due(&mut self, now: Instant, interval: Option<Duration>, epoch: Instant) {
        let n = self.plan.messages.len();
        while self.next < n && self.out.len() < TAKE_BYTES {
            let due = interval.map(|d| epoch + d * self.next as u32);
            if due.is_some_and(|d| d > now) {
                break;
            }
            let (end, urn) = self.plan.messages[self.next];
            let msg = &self.plan.bytes[self.start..end];
            self.start = end;
            let out = &mut self.out;
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
                let sent = now.saturating_duration_since(epoch).as_nanos() as u64;
                self.sent_at[urn as usize].store(sent, Ordering::Relaxed);
                self.intended[urn as usize].store(t.max(1), Ordering::Release);
                if let Some(due) = due {
                    let late = now.saturating_duration_since(due).as_nanos() as u64;
                    self.lateness.saturating_record(late.max(1));
                }
            }
            self.next += 1;
            self.sent += 1;
        }
    }
}

/// A session's receiving side (see the module docs).
pub(crate) struct Incoming {
    pub(crate) socket: TcpStream,
    base_urn: u32,
    intended: Arc<[AtomicU64]>,
    sent_at: Arc<[AtomicU64]>,
    /// With `--hops`: per answered order, its UserRefNum (as sent) and its intended,
    /// sent and read times (ns after the epoch).
    pub(crate) hops: Option<Vec<[u64; 4]>>,
    /// Timed messages planned (each answered once).
    timed: u64,
    /// Bytes read and not yet taken as packets: `input[in_start..in_end]`, the first at
    /// stream offset `in_offset`.
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    in_offset: u64,
    /// The server ended the session (End of Session, or closed the connection).
    pub(crate) closed: bool,
    pub(crate) histogram: Histogram<u64>,
    pub(crate) answered: u64,
    pub(crate) rejected: u64,
    pub(crate) last_response: Option<Instant>,
}

impl Incoming {
    /// Whether every timed message is answered (or the server ended the session).
    pub(crate) fn finished(&self) -> bool {
        self.closed || self.answered >= self.timed
    }

    /// Reads once what the socket holds and times every first response in it, all read
    /// at the same instant (`epoch` is the intended times' origin).
    ///
    /// # Errors
    ///
    /// A failed read or a server breaking the framing.
    pub(crate) fn read_ready(&mut self, epoch: Instant) -> Result<(), ClientError> {
        if self.in_start > 0 {
            self.input.copy_within(self.in_start..self.in_end, 0);
            self.in_end -= self.in_start;
            self.in_start = 0;
        }
        let n = match sys::recv_now(self.socket.as_raw_fd(), &mut self.input[self.in_end..]) {
            Ok(0) => {
                self.closed = true;
                return Ok(());
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        self.in_end += n;
        let now = Instant::now();
        self.take_packets(now, epoch)
    }

    /// Takes every whole packet read (the responses read at `now`).
    fn take_packets(&mut self, now: Instant, epoch: Instant) -> Result<(), ClientError> {
        let t = now.saturating_duration_since(epoch).as_nanos() as u64;
        while let Some(packet) = next_packet(
            &self.input[self.in_start..self.in_end],
            self.in_offset,
            MAX_PAYLOAD,
            Sender::Server,
        )? {
            match packet.packet_type {
                PacketType::SequencedData => {
                    if let Some((urn, reject)) = first_response_urn(packet.payload) {
                        let local = urn.wrapping_sub(self.base_urn) as usize;
                        if let Some(slot) = self.intended.get(local) {
                            let t0 = slot.swap(0, Ordering::AcqRel);
                            if t0 > 0 {
                                if let Some(hops) = &mut self.hops {
                                    let sent = self.sent_at[local].load(Ordering::Relaxed);
                                    hops.push([u64::from(urn), t0, sent, t]);
                                }
                                self.histogram
                                    .saturating_record(t.saturating_sub(t0).max(1));
                                self.answered += 1;
                                self.rejected += u64::from(reject);
                                self.last_response = Some(now);
                            }
                        }
                    }
                }
                PacketType::EndOfSession => self.closed = true,
                _ => {}
            }
            self.in_start += packet.wire_len;
            self.in_offset += packet.wire_len as u64;
        }
        Ok(())
    }

    /// Takes the packets read with the login already (before the run).
    ///
    /// # Errors
    ///
    /// A server breaking the framing.
    pub(crate) fn take_unread(&mut self, epoch: Instant) -> Result<(), ClientError> {
        self.take_packets(Instant::now(), epoch)
    }

    /// Sends a Logout Request (after the run).
    pub(crate) fn logout(&mut self) {
        let mut out = Vec::with_capacity(3);
        encode::logout_request(&mut out);
        let _ = (&self.socket).write_all(&out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_responses_name_their_user_ref_num() {
        let mut accepted = vec![b'A'];
        accepted.extend_from_slice(&[0; 8]);
        accepted.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(first_response_urn(&accepted), Some((7, false)));
        accepted[0] = b'J';
        assert_eq!(first_response_urn(&accepted), Some((7, true)));
        assert_eq!(first_response_urn(b"C"), None);
        assert_eq!(first_response_urn(b"A123"), None);
    }
}
