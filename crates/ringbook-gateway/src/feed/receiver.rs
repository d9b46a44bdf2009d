//! A feed receiver: joins the MoldUDP64 stream, optionally starts from a GLIMPSE snapshot,
//! applies every message in sequence to [`RebuiltBooks`], and recovers gaps by re-requests
//! sent from its own socket (answers come back to it, as the MoldUDP64 specification
//! intends). Messages that arrive ahead of a gap wait in a bounded buffer.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use ringbook_wire::itch::{ItchDecodeError, ItchMessage};
use ringbook_wire::mold::{Downstream, PacketKind, Request, Session};
use thiserror::Error;

use super::books::{ApplyError, RebuiltBooks};
use super::glimpse_client::{GlimpseError, take_snapshot};
use super::socket_buffer::{ask_receive_buffer, receive_buffer};

/// The socket receive buffer a receiver asks for by default: 8 MiB, some 3,600 datagrams
/// of 1,400 bytes as the kernel accounts them (the kernel's own default holds about 90).
pub const DEFAULT_RECEIVE_BUFFER: usize = 8 << 20;

/// How a receiver joins and recovers.
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// The address to receive the feed on (a multicast group's address and port joins it).
    pub bind: SocketAddr,
    /// The re-request server, if any.
    pub rerequest: Option<SocketAddr>,
    /// The GLIMPSE server, if any.
    pub glimpse: Option<SocketAddr>,
    /// How long to wait for an answer before asking again.
    pub request_timeout: Duration,
    /// How many unanswered requests for one gap before giving up on it (then a snapshot,
    /// if there is a GLIMPSE server, else an error).
    pub max_request_tries: u32,
    /// The most messages held ahead of a gap.
    pub max_buffered: usize,
    /// Drops every n-th datagram received (a test of recovery; `None` in real use).
    pub drop_every: Option<u64>,
    /// The socket's receive buffer to ask the kernel for, in bytes: what the receiver can
    /// fall behind by without losing datagrams (the kernel grants at most its
    /// `net.core.rmem_max`; see [`FeedReceiver::receive_buffer`]).
    pub receive_buffer: usize,
    /// Keeps every applied message's bytes as received, in sequence order, each behind a
    /// 2-byte big-endian length (the layout of an ITCH file), for [`FeedReceiver::raw`].
    pub record_raw: bool,
}

impl ReceiverConfig {
    /// Defaults: 20 ms request timeout, 50 tries, 4,194,304 buffered messages, no drops,
    /// an 8 MiB socket receive buffer asked for.
    #[must_use]
    pub fn new(bind: SocketAddr) -> ReceiverConfig {
        ReceiverConfig {
            bind,
            rerequest: None,
            glimpse: None,
            request_timeout: Duration::from_millis(20),
            max_request_tries: 50,
            max_buffered: 1 << 22,
            drop_every: None,
            receive_buffer: DEFAULT_RECEIVE_BUFFER,
            record_raw: false,
        }
    }
}

/// Why a receiver stopped.
#[derive(Debug, Error)]
pub enum ReceiverError {
    /// The socket could not be opened or read.
    #[error("feed receiver socket {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// A message in a well-formed packet does not decode.
    #[error("feed message {seq}: {source}")]
    Decode {
        /// The message's sequence number.
        seq: u64,
        /// Why.
        source: ItchDecodeError,
    },
    /// A message contradicts the books.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// A GLIMPSE snapshot failed.
    #[error(transparent)]
    Glimpse(#[from] GlimpseError),
    /// A snapshot message contradicts the books it builds.
    #[error("glimpse snapshot message {index}: {source}")]
    SnapshotApply {
        /// Its index in the snapshot.
        index: usize,
        /// Why.
        source: ApplyError,
    },
    /// A gap that cannot be filled: no re-request server or no answer, and no snapshot.
    #[error(
        "feed gap {from}..{to} cannot be recovered ({tries} re-requests unanswered; rerequest server: {rerequest:?})"
    )]
    Gap {
        /// The first missing message.
        from: u64,
        /// One past the last known message.
        to: u64,
        /// Requests sent for it.
        tries: u32,
        /// The server asked.
        rerequest: Option<SocketAddr>,
    },
    /// More messages waiting behind a gap than the bound.
    #[error("{held} feed messages wait behind the gap at {next_seq}, more than the bound {bound}")]
    Backlog {
        /// The first missing message.
        next_seq: u64,
        /// Messages held.
        held: usize,
        /// The bound.
        bound: usize,
    },
}

/// What a receiver has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Datagrams received (dropped ones included).
    pub datagrams: u64,
    /// Datagrams dropped on purpose (`drop_every`).
    pub dropped: u64,
    /// Datagrams that are not MoldUDP64 packets, or of another session.
    pub bad_packets: u64,
    /// Messages applied.
    pub applied: u64,
    /// Messages received twice (or before the snapshot's sequence number).
    pub duplicates: u64,
    /// Re-requests sent.
    pub requests: u64,
    /// Snapshots taken.
    pub snapshots: u64,
}

/// A feed receiver and the books it rebuilds.
#[derive(Debug)]
pub struct FeedReceiver {
    socket: UdpSocket,
    addr: SocketAddr,
    config: ReceiverConfig,
    session: Option<Session>,
    next_seq: u64,
    /// One past the highest sequence number known to exist.
    known_end: u64,
    end_seq: Option<u64>,
    held: BTreeMap<u64, (ItchMessage, Option<Vec<u8>>)>,
    books: RebuiltBooks,
    raw: Vec<u8>,
    request: Option<(u64, Instant, u32)>,
    stats: ReceiverStats,
    datagram: Vec<u8>,
}

impl FeedReceiver {
    /// Opens the socket (joining a multicast group if `bind` is one).
    ///
    /// # Errors
    ///
    /// [`ReceiverError::Io`].
    pub fn bind(config: ReceiverConfig) -> Result<FeedReceiver, ReceiverError> {
        let io_err = |source| ReceiverError::Io {
            addr: config.bind,
            source,
        };
        let socket = match config.bind.ip() {
            IpAddr::V4(group) if group.is_multicast() => {
                let socket =
                    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, config.bind.port())).map_err(io_err)?;
                socket
                    .join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)
                    .map_err(io_err)?;
                socket
            }
            _ => UdpSocket::bind(config.bind).map_err(io_err)?,
        };
        ask_receive_buffer(&socket, config.receive_buffer).map_err(io_err)?;
        let addr = socket.local_addr().map_err(io_err)?;
        Ok(FeedReceiver {
            socket,
            addr,
            config,
            session: None,
            next_seq: 1,
            known_end: 1,
            end_seq: None,
            held: BTreeMap::new(),
            books: RebuiltBooks::new(),
            raw: Vec::new(),
            request: None,
            stats: ReceiverStats::default(),
            datagram: vec![0u8; 65_536],
        })
    }

    /// The socket's receive buffer in bytes, as the kernel reports it (twice what it
    /// granted of [`ReceiverConfig::receive_buffer`], its bookkeeping included).
    ///
    /// # Errors
    ///
    /// [`ReceiverError::Io`] if the kernel does not say.
    pub fn receive_buffer(&self) -> Result<usize, ReceiverError> {
        receive_buffer(&self.socket).map_err(|source| ReceiverError::Io {
            addr: self.addr,
            source,
        })
    }

    /// Sets the re-request server (known once the feed, which needs this receiver's
    /// address, has started).
    pub fn set_rerequest(&mut self, server: Option<SocketAddr>) {
        self.config.rerequest = server;
    }

    /// Sets the GLIMPSE server.
    pub fn set_glimpse(&mut self, server: Option<SocketAddr>) {
        self.config.glimpse = server;
    }

    /// Gives up the receiver, keeping its socket.
    #[must_use]
    pub fn into_socket(self) -> UdpSocket {
        self.socket
    }

    /// The address the feed is received on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The books so far.
    #[must_use]
    pub fn books(&self) -> &RebuiltBooks {
        &self.books
    }

    /// The bytes of every message applied from the live feed (not from a snapshot), each
    /// behind its 2-byte length, when `record_raw` is set.
    #[must_use]
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The next message to apply.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// What the receiver has seen.
    #[must_use]
    pub fn stats(&self) -> ReceiverStats {
        self.stats
    }

    /// The session's name, once a packet named it.
    #[must_use]
    pub fn session(&self) -> Option<Session> {
        self.session
    }

    /// Whether the session ended and every message up to its end was applied.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.end_seq.is_some_and(|end| self.next_seq >= end)
    }

    /// Replaces the books with a GLIMPSE snapshot and continues from its sequence number
    /// (messages held before it are discarded).
    ///
    /// # Errors
    ///
    /// No GLIMPSE server configured is a no-op; otherwise [`ReceiverError::Glimpse`] or
    /// [`ReceiverError::SnapshotApply`].
    pub fn snapshot(&mut self) -> Result<(), ReceiverError> {
        let Some(addr) = self.config.glimpse else {
            return Ok(());
        };
        let snapshot = take_snapshot(addr, Duration::from_secs(10))?;
        let mut books = RebuiltBooks::new();
        for (index, message) in snapshot.messages.iter().enumerate() {
            books
                .apply(0, message)
                .map_err(|source| ReceiverError::SnapshotApply { index, source })?;
        }
        self.books = books;
        self.next_seq = snapshot.next_seq;
        self.known_end = self.known_end.max(snapshot.next_seq);
        self.held = self.held.split_off(&snapshot.next_seq);
        self.request = None;
        self.stats.snapshots += 1;
        self.drain()?;
        Ok(())
    }

    /// Waits up to `timeout` for one datagram and applies what it makes ready; asks for
    /// missing messages when a gap is open. Returns whether a datagram arrived.
    ///
    /// # Errors
    ///
    /// [`ReceiverError`]: a socket failure, a message that does not decode or apply, an
    /// unrecoverable gap, a backlog past its bound.
    pub fn poll(&mut self, timeout: Duration) -> Result<bool, ReceiverError> {
        let io_err = |addr, source| ReceiverError::Io { addr, source };
        self.socket
            .set_read_timeout(Some(timeout.max(Duration::from_micros(1))))
            .map_err(|e| io_err(self.addr, e))?;
        let got = match self.socket.recv_from(&mut self.datagram) {
            Ok((len, _)) => Some(len),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => None,
            Err(e) => return Err(io_err(self.addr, e)),
        };
        if let Some(len) = got {
            self.stats.datagrams += 1;
            let dropped = self
                .config
                .drop_every
                .is_some_and(|n| n > 0 && self.stats.datagrams.is_multiple_of(n));
            if dropped {
                self.stats.dropped += 1;
            } else {
                self.datagram_in(len)?;
            }
        }
        self.recover()?;
        Ok(got.is_some())
    }

    /// Polls until the session is complete or `deadline` passes; returns whether it is
    /// complete.
    ///
    /// # Errors
    ///
    /// As [`FeedReceiver::poll`].
    pub fn run_until_complete(&mut self, deadline: Instant) -> Result<bool, ReceiverError> {
        while !self.is_complete() {
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            self.poll((deadline - now).min(Duration::from_millis(10)))?;
        }
        Ok(true)
    }

    fn datagram_in(&mut self, len: usize) -> Result<(), ReceiverError> {
        let datagram = std::mem::take(&mut self.datagram);
        let result = self.packet_in(&datagram[..len]);
        self.datagram = datagram;
        result
    }

    fn packet_in(&mut self, datagram: &[u8]) -> Result<(), ReceiverError> {
        let packet = match Downstream::decode(datagram) {
            Ok(packet) => packet,
            Err(e) => {
                self.stats.bad_packets += 1;
                tracing::debug!(error = %e, "feed receiver: not a MoldUDP64 packet");
                return Ok(());
            }
        };
        match self.session {
            None => self.session = Some(packet.session),
            Some(session) if session != packet.session => {
                self.stats.bad_packets += 1;
                return Ok(());
            }
            Some(_) => {}
        }
        match packet.kind {
            PacketKind::Heartbeat => self.known_end = self.known_end.max(packet.seq),
            PacketKind::EndOfSession => {
                self.known_end = self.known_end.max(packet.seq);
                self.end_seq = Some(packet.seq);
            }
            PacketKind::Data => {
                self.known_end = self
                    .known_end
                    .max(packet.seq.saturating_add(u64::from(packet.count)));
                for (seq, bytes) in packet.messages() {
                    if seq < self.next_seq || self.held.contains_key(&seq) {
                        self.stats.duplicates += 1;
                        continue;
                    }
                    let message = ItchMessage::decode(bytes)
                        .map_err(|source| ReceiverError::Decode { seq, source })?;
                    let raw = self.config.record_raw.then(|| bytes.to_vec());
                    self.held.insert(seq, (message, raw));
                }
            }
        }
        self.drain()
    }

    /// Applies held messages from `next_seq` on while they are consecutive.
    fn drain(&mut self) -> Result<(), ReceiverError> {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.next_seq {
                break;
            }
            let (message, raw) = entry.remove();
            self.books.apply(self.next_seq, &message)?;
            if let Some(raw) = raw {
                // Messages are at most ItchMessage::MAX_LEN bytes: decoding checked.
                self.raw
                    .extend_from_slice(&(raw.len() as u16).to_be_bytes());
                self.raw.extend_from_slice(&raw);
            }
            self.next_seq += 1;
            self.stats.applied += 1;
        }
        if self.held.len() > self.config.max_buffered {
            return Err(ReceiverError::Backlog {
                next_seq: self.next_seq,
                held: self.held.len(),
                bound: self.config.max_buffered,
            });
        }
        Ok(())
    }

    /// Asks for the missing messages of an open gap (again, once the last request timed
    /// out); after too many tries, a snapshot if possible, else an error.
    fn recover(&mut self) -> Result<(), ReceiverError> {
        let gap_end = self
            .held
            .keys()
            .next()
            .copied()
            .unwrap_or(self.known_end)
            .min(self.known_end.max(self.next_seq));
        if gap_end <= self.next_seq {
            self.request = None;
            return Ok(());
        }
        let tries = match self.request {
            Some((seq, at, tries)) if seq == self.next_seq => {
                if at.elapsed() < self.config.request_timeout {
                    return Ok(());
                }
                tries
            }
            _ => 0,
        };
        let Some(server) = self.config.rerequest else {
            return self.give_up(gap_end, tries);
        };
        if tries >= self.config.max_request_tries {
            return self.give_up(gap_end, tries);
        }
        let Some(session) = self.session else {
            return Ok(());
        };
        let count = u16::try_from(gap_end - self.next_seq).unwrap_or(u16::MAX - 1);
        let request = Request {
            session,
            seq: self.next_seq,
            count,
        };
        if let Err(e) = self.socket.send_to(&request.encode(), server) {
            tracing::debug!(%server, error = %e, "feed receiver: re-request send failed");
        }
        self.stats.requests += 1;
        self.request = Some((self.next_seq, Instant::now(), tries + 1));
        Ok(())
    }

    fn give_up(&mut self, gap_end: u64, tries: u32) -> Result<(), ReceiverError> {
        if self.config.glimpse.is_some() {
            tracing::info!(
                from = self.next_seq,
                to = gap_end,
                "feed gap not recovered by re-requests; taking a snapshot"
            );
            return self.snapshot();
        }
        Err(ReceiverError::Gap {
            from: self.next_seq,
            to: gap_end,
            tries,
            rerequest: self.config.rerequest,
        })
    }
}
