//! One connection: login, then a reader (this thread) and a writer thread.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Instant;

use parking_lot::Mutex;
use ringbook_wire::soup::frame::{Sender, next_packet};
use ringbook_wire::soup::login::{LoginAccepted, LoginRejectReason, LoginRequest};
use ringbook_wire::soup::text::trim;
use ringbook_wire::soup::{PacketType, encode};

use super::stream::ReadOutcome;
use super::{AppSession, Application, DisconnectReason, SessionConfig, Stream, Users};

/// The flags a connection shares with its writer and with the server.
#[derive(Debug, Default)]
pub(crate) struct ConnFlags {
    /// Stop at once (the reader ended).
    pub(crate) stop: AtomicBool,
    /// Send what is left, then End of Session (the server is shutting down).
    pub(crate) end: AtomicBool,
    /// The stream the writer reads, once logged in (to wake it).
    pub(crate) stream: Mutex<Option<Arc<Stream>>>,
    /// The writer's reason for ending, if it ended first.
    reason: Mutex<Option<DisconnectReason>>,
}

impl ConnFlags {
    /// Asks the session to end with End of Session.
    pub(crate) fn end_session(&self) {
        self.end.store(true, Ordering::Release);
        if let Some(stream) = self.stream.lock().as_ref() {
            stream.wake();
        }
    }
}

/// A growing read buffer with the stream offset of its first byte.
struct Input {
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
    fn fill(&mut self, socket: &mut TcpStream) -> io::Result<bool> {
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

/// Runs one connection to its end.
pub(crate) fn run<A: Application>(
    mut socket: TcpStream,
    app: &A,
    users: &Users,
    config: &SessionConfig,
    flags: &Arc<ConnFlags>,
) {
    let peer = socket
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    if let Err(e) = socket.set_nodelay(true) {
        tracing::debug!(%peer, error = %e, "set_nodelay failed");
    }
    // The buffer holds the largest packet the framing accepts, and then some.
    let mut input = Input::new((config.max_payload + 3).max(64).max(1 << 16));
    let login = match read_login(&mut socket, &mut input, config) {
        Ok(Some(login)) => login,
        Ok(None) => return,
        Err(reason) => {
            tracing::info!(%peer, %reason, "connection closed before login");
            return;
        }
    };
    let Some((mut session, next)) = accept_login(&mut socket, app, users, config, &login, &peer)
    else {
        return;
    };
    let stream = Arc::clone(session.stream());
    *flags.stream.lock() = Some(Arc::clone(&stream));
    let username = String::from_utf8_lossy(login.username_trimmed()).into_owned();
    tracing::info!(%peer, user = %username, next, "session logged in");

    let writer = match socket.try_clone() {
        Ok(w) => {
            let flags = Arc::clone(flags);
            let config = *config;
            let stream = Arc::clone(&stream);
            thread::Builder::new()
                .name(format!("soup-w-{username}"))
                .spawn(move || write_loop(w, &stream, next, &config, &flags))
        }
        Err(e) => Err(e),
    };
    let writer = match writer {
        Ok(handle) => handle,
        Err(e) => {
            let reason = DisconnectReason::Io(e);
            session.on_disconnect(&reason);
            return;
        }
    };
    let reason = read_loop(&mut socket, &mut input, &mut session, config, flags);
    flags.stop.store(true, Ordering::Release);
    stream.wake();
    let _ = socket.shutdown(Shutdown::Both);
    let _ = writer.join();
    let reason = flags.reason.lock().take().unwrap_or(reason);
    match &reason {
        DisconnectReason::Logout
        | DisconnectReason::EndOfSession
        | DisconnectReason::ClientClosed => {
            tracing::info!(%peer, user = %username, %reason, "session ended");
        }
        _ => tracing::warn!(%peer, user = %username, %reason, "session closed"),
    }
    session.on_disconnect(&reason);
}

/// Waits for the Login Request; `Ok(None)` when the client left without one.
fn read_login(
    socket: &mut TcpStream,
    input: &mut Input,
    config: &SessionConfig,
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
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(DisconnectReason::IdleTimeout {
                        seconds: config.login_timeout.as_secs_f64(),
                    });
                }
                socket.set_read_timeout(Some(left))?;
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

fn read_loop<S: AppSession>(
    socket: &mut TcpStream,
    input: &mut Input,
    session: &mut S,
    config: &SessionConfig,
    flags: &ConnFlags,
) -> DisconnectReason {
    if let Err(e) = socket.set_read_timeout(Some(config.idle_timeout)) {
        return e.into();
    }
    loop {
        loop {
            let packet = match next_packet(
                input.pending(),
                input.offset,
                config.max_payload,
                Sender::Client,
            ) {
                Ok(Some(packet)) => packet,
                Ok(None) => break,
                Err(e) => return e.into(),
            };
            let wire_len = packet.wire_len;
            match packet.packet_type {
                PacketType::UnsequencedData => {
                    if let Err(e) = session.on_message(packet.payload) {
                        return DisconnectReason::Application(e);
                    }
                }
                PacketType::ClientHeartbeat | PacketType::Debug => {}
                PacketType::LogoutRequest => return DisconnectReason::Logout,
                other => {
                    return DisconnectReason::Unexpected {
                        packet_type: other.byte(),
                    };
                }
            }
            input.consume(wire_len);
        }
        if let Err(e) = session.on_read_end() {
            return DisconnectReason::Application(e);
        }
        match input.fill(socket) {
            Ok(true) => {}
            Ok(false) => {
                return if flags.end.load(Ordering::Acquire) {
                    DisconnectReason::EndOfSession
                } else {
                    DisconnectReason::ClientClosed
                };
            }
            Err(e) if is_timeout(&e) => {
                return DisconnectReason::IdleTimeout {
                    seconds: config.idle_timeout.as_secs_f64(),
                };
            }
            Err(e) => {
                if flags.stop.load(Ordering::Acquire) || flags.end.load(Ordering::Acquire) {
                    return DisconnectReason::EndOfSession;
                }
                return e.into();
            }
        }
    }
}

fn write_loop(
    mut socket: TcpStream,
    stream: &Stream,
    mut next: u64,
    config: &SessionConfig,
    flags: &ConnFlags,
) {
    let finish = |reason: DisconnectReason, socket: &TcpStream| {
        let mut slot = flags.reason.lock();
        if slot.is_none() {
            *slot = Some(reason);
        }
        flags.stop.store(true, Ordering::Release);
        let _ = socket.shutdown(Shutdown::Both);
    };
    if let Err(e) = socket.set_write_timeout(Some(config.write_timeout)) {
        finish(e.into(), &socket);
        return;
    }
    let mut out = Vec::with_capacity(config.write_batch + (1 << 16));
    let mut last_send = Instant::now();
    // A replay of what was there at login does not count as falling behind.
    let at_login = stream.len();
    loop {
        out.clear();
        let deadline = last_send + config.heartbeat_interval;
        match stream.wait_read(
            next,
            &mut out,
            config.write_batch,
            deadline,
            &flags.stop,
            &flags.end,
        ) {
            ReadOutcome::Copied { count, lag } => {
                let sent = next + count - 1;
                let lag = lag - at_login.saturating_sub(sent);
                if lag > config.max_lag {
                    finish(
                        DisconnectReason::SlowConsumer {
                            lag,
                            bound: config.max_lag,
                        },
                        &socket,
                    );
                    return;
                }
                next += count;
            }
            ReadOutcome::Idle => encode::server_heartbeat(&mut out),
            ReadOutcome::Ended => {
                encode::end_of_session(&mut out);
                let _ = socket.write_all(&out);
                finish(DisconnectReason::EndOfSession, &socket);
                return;
            }
            ReadOutcome::Stopped => return,
        }
        if let Err(e) = socket.write_all(&out) {
            if !flags.stop.load(Ordering::Acquire) {
                finish(e.into(), &socket);
            }
            return;
        }
        last_send = Instant::now();
    }
}
