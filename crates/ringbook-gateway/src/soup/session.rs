//! One connection: its login (on a thread of its own, [`login`]), then its input as the
//! reactor drives it ([`Live`]).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ringbook_wire::soup::frame::{Sender, next_packet};
use ringbook_wire::soup::login::{LoginAccepted, LoginRejectReason, LoginRequest};
use ringbook_wire::soup::text::trim;
use ringbook_wire::soup::{PacketType, encode};

use super::{AppSession, Application, DisconnectReason, SessionConfig, Stream, Users};

/// How often a login thread checks whether the server is stopping.
const LOGIN_POLL: Duration = Duration::from_millis(100);

/// A growing read buffer with the stream offset of its first byte.
pub(crate) struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    offset: u64,
}

impl Input {
    fn new(capacity: usize) -> Input {
        Input {
            buf: vec![0; capacity],
            start: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Reads more bytes; `Ok(false)` at end of stream.
    fn fill(&mut self, mut socket: &TcpStream) -> io::Result<bool> {
        if self.start > 0 && (self.end == self.buf.len() || self.start == self.end) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = socket.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n > 0)
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A logged-in connection, ready for the reactor.
pub(crate) struct Handoff<S> {
    pub(crate) socket: TcpStream,
    pub(crate) input: Input,
    pub(crate) session: S,
    pub(crate) next: u64,
    pub(crate) peer: String,
    pub(crate) username: String,
}

/// Runs one connection's login: the logged-in session to hand to the reactor, or `None`
/// (the client left, was refused, or the server is stopping).
pub(crate) fn login<A: Application>(
    mut socket: TcpStream,
    app: &A,
    users: &Users,
    config: &SessionConfig,
    stopping: &AtomicBool,
) -> Option<Handoff<A::Session>> {
    let peer = socket
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    if let Err(e) = socket.set_nodelay(true) {
        tracing::debug!(%peer, error = %e, "set_nodelay failed");
    }
    // The buffer holds the largest packet the framing accepts, and then some.
    let mut input = Input::new((config.max_payload + 3).max(64).max(1 << 16));
    let login = match read_login(&socket, &mut input, config, stopping) {
        Ok(Some(login)) => login,
        Ok(None) => return None,
        Err(reason) => {
            tracing::info!(%peer, %reason, "connection closed before login");
            return None;
        }
    };
    let (session, next) = accept_login(&mut socket, app, users, config, &login, &peer)?;
    let username = String::from_utf8_lossy(login.username_trimmed()).into_owned();
    tracing::info!(%peer, user = %username, next, "session logged in");
    Some(Handoff {
        socket,
        input,
        session,
        next,
        peer,
        username,
    })
}

/// Waits for the Login Request; `Ok(None)` when the client left without one.
fn read_login(
    socket: &TcpStream,
    input: &mut Input,
    config: &SessionConfig,
    stopping: &AtomicBool,
) -> Result<Option<LoginRequest>, DisconnectReason> {
    let deadline = Instant::now() + config.login_timeout;
    loop {
        match next_packet(
            input.pending(),
            input.offset,
            config.max_payload,
            Sender::Client,
        )? {
            Some(packet) => {
                let wire_len = packet.wire_len;
                match packet.packet_type {
                    PacketType::LoginRequest => {
                        let login = LoginRequest::decode(packet.payload)?;
                        input.consume(wire_len);
                        return Ok(Some(login));
                    }
                    PacketType::Debug | PacketType::ClientHeartbeat => input.consume(wire_len),
                    PacketType::LogoutRequest => return Ok(None),
                    other => {
                        return Err(DisconnectReason::Unexpected {
                            packet_type: other.byte(),
                        });
                    }
                }
            }
            None => {
                if stopping.load(Ordering::Acquire) {
                    return Ok(None);
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(DisconnectReason::IdleTimeout {
                        seconds: config.login_timeout.as_secs_f64(),
                    });
                }
                socket.set_read_timeout(Some(left.min(LOGIN_POLL)))?;
                match input.fill(socket) {
                    Ok(true) => {}
                    Ok(false) => return Ok(None),
                    Err(e) if is_timeout(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
}

/// Checks the login and answers it; the session and its next sequence number, or
/// `None` after Login Rejected.
fn accept_login<A: Application>(
    socket: &mut TcpStream,
    app: &A,
    users: &Users,
    config: &SessionConfig,
    login: &LoginRequest,
    peer: &str,
) -> Option<(A::Session, u64)> {
    let reject = |socket: &mut TcpStream, reason: LoginRejectReason| {
        tracing::warn!(%peer, user = %String::from_utf8_lossy(login.username_trimmed()), ?reason, "login rejected");
        let mut out = Vec::with_capacity(4);
        encode::login_rejected(&mut out, reason);
        let _ = socket.write_all(&out);
        let _ = socket.shutdown(Shutdown::Both);
        None
    };
    if !users.check(login.username_trimmed(), login.password_trimmed()) {
        return reject(socket, LoginRejectReason::NotAuthorized);
    }
    let requested = login.session_trimmed();
    if !requested.is_empty() && requested != trim(&config.session_name) {
        return reject(socket, LoginRejectReason::SessionNotAvailable);
    }
    let Ok(username) = std::str::from_utf8(login.username_trimmed()) else {
        return reject(socket, LoginRejectReason::NotAuthorized);
    };
    let session = match app.open(username, requested) {
        Ok(session) => session,
        Err(reason) => return reject(socket, reason),
    };
    let len = session.stream().len();
    let next = match login.requested_sequence {
        0 => len + 1,
        n => n.min(len + 1),
    };
    let mut out = Vec::with_capacity(40);
    encode::login_accepted(
        &mut out,
        &LoginAccepted {
            session: config.session_name,
            sequence: next,
        },
    );
    if let Err(e) = socket.write_all(&out) {
        let mut session = session;
        session.on_disconnect(&DisconnectReason::Io(e));
        return None;
    }
    Some((session, next))
}

/// A logged-in session as the reactor holds it.
pub(crate) struct Live<S> {
    pub(crate) socket: Arc<TcpStream>,
    input: Input,
    pub(crate) session: S,
    pub(crate) stream: Arc<Stream>,
    pub(crate) peer: String,
    pub(crate) username: String,
    /// When the client last sent anything (ns of the monotonic clock).
    pub(crate) last_input: u64,
    /// Shutting down: sending the rest of the stream, then End of Session.
    pub(crate) ending: bool,
}

impl<S: AppSession> Live<S> {
    /// The session of `handoff` (its socket to be shared with its outlet).
    pub(crate) fn new(handoff: Handoff<S>, now: u64) -> Live<S> {
        let stream = Arc::clone(handoff.session.stream());
        Live {
            socket: Arc::new(handoff.socket),
            input: handoff.input,
            session: handoff.session,
            stream,
            peer: handoff.peer,
            username: handoff.username,
            last_input: now,
            ending: false,
        }
    }

    /// Handles the messages already read, then reads once what the socket holds (up to
    /// the buffer's room; level-triggered readiness brings the reactor back for more)
    /// and handles them; the reason to end the session, if it must end. `now` is the
    /// reactor's clock of this round (ns of the monotonic clock).
    pub(crate) fn on_readable(
        &mut self,
        config: &SessionConfig,
        now: u64,
    ) -> Option<DisconnectReason> {
        if let Some(reason) = self.handle_input(config) {
            return Some(reason);
        }
        match self.input.fill(&self.socket) {
            Ok(true) => self.last_input = now,
            Ok(false) => return Some(DisconnectReason::ClientClosed),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return None;
            }
            Err(e) => return Some(e.into()),
        }
        self.handle_input(config)
    }

    /// Gives every complete packet read to the application, then ends the read.
    fn handle_input(&mut self, config: &SessionConfig) -> Option<DisconnectReason> {
        let input = &mut self.input;
        if input.pending().is_empty() {
            return None;
        }
        loop {
            let packet = match next_packet(
                input.pending(),
                input.offset,
                config.max_payload,
                Sender::Client,
            ) {
                Ok(Some(packet)) => packet,
                Ok(None) => break,
                Err(e) => return Some(e.into()),
            };
            let wire_len = packet.wire_len;
            match packet.packet_type {
                PacketType::UnsequencedData => {
                    if let Err(e) = self.session.on_message(packet.payload) {
                        return Some(DisconnectReason::Application(e));
                    }
                }
                PacketType::ClientHeartbeat | PacketType::Debug => {}
                PacketType::LogoutRequest => return Some(DisconnectReason::Logout),
                other => {
                    return Some(DisconnectReason::Unexpected {
                        packet_type: other.byte(),
                    });
                }
            }
            input.consume(wire_len);
        }
        if let Err(e) = self.session.on_read_end() {
            return Some(DisconnectReason::Application(e));
        }
        None
    }

    /// Ends the session (its output detached already): the socket shut down, the
    /// application told.
    pub(crate) fn close(mut self, mut reason: DisconnectReason) {
        if self.ending
            && matches!(
                reason,
                DisconnectReason::ClientClosed | DisconnectReason::Io(_)
            )
        {
            reason = DisconnectReason::EndOfSession;
        }
        let _ = self.socket.shutdown(Shutdown::Both);
        let (peer, user) = (&self.peer, &self.username);
        match &reason {
            DisconnectReason::Logout
            | DisconnectReason::EndOfSession
            | DisconnectReason::ClientClosed => {
                tracing::info!(%peer, %user, %reason, "session ended");
            }
            _ => tracing::warn!(%peer, %user, %reason, "session closed"),
        }
        self.session.on_disconnect(&reason);
    }
}
