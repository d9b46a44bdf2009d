//! The SoupBinTCP server layer over 127.0.0.1 with a small echo application: login
//! checks, sequenced delivery and re-login replay, heartbeats and timeouts, protocol
//! errors, slow consumers and End of Session.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ringbook_gateway::soup::{
    AppSession, Application, ClientError, DisconnectReason, MemoryStore, ServerPacket,
    SessionConfig, SoupClient, SoupServer, Stream, Users,
};
use ringbook_testkit::ouch_client::{login_retrying, next_sequenced};
use ringbook_wire::soup::login::{LoginRejectReason, LoginRequest};

/// Echoes every unsequenced message into the user's stream; a message `flood N` appends
/// N messages instead; a message `fail` is an application error; `hold X` is held and
/// echoed as `X` at the end of its socket read (`hold fail` fails there). One session per
/// user.
#[derive(Default)]
struct Echo {
    streams: Mutex<HashMap<String, Arc<Stream>>>,
    active: Mutex<Vec<String>>,
    ended: Mutex<Vec<(String, String)>>,
}

struct EchoSession {
    user: String,
    stream: Arc<Stream>,
    app: Arc<Echo>,
    held: Vec<Vec<u8>>,
}

struct EchoApp(Arc<Echo>);

impl Application for EchoApp {
    type Session = EchoSession;

    fn open(&self, username: &str, _requested: &[u8]) -> Result<EchoSession, LoginRejectReason> {
        let app = &self.0;
        let mut active = app.active.lock();
        if active.iter().any(|u| u == username) {
            return Err(LoginRejectReason::SessionNotAvailable);
        }
        active.push(username.to_string());
        let stream = Arc::clone(
            app.streams
                .lock()
                .entry(username.to_string())
                .or_insert_with(|| Arc::new(Stream::new(Box::new(MemoryStore::new())))),
        );
        Ok(EchoSession {
            user: username.to_string(),
            stream,
            app: Arc::clone(app),
            held: Vec::new(),
        })
    }
}

impl AppSession for EchoSession {
    fn stream(&self) -> &Arc<Stream> {
        &self.stream
    }

    fn on_message(
        &mut self,
        payload: &[u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if payload == b"fail" {
            return Err("the application refused the message".into());
        }
        if let Some(held) = payload.strip_prefix(b"hold ") {
            self.held.push(held.to_vec());
            return Ok(());
        }
        if let Some(n) = payload.strip_prefix(b"flood ") {
            let n: usize = std::str::from_utf8(n)?.parse()?;
            let big = [b'f'; 1000];
            for _ in 0..n {
                self.stream.append(&big)?;
            }
            return Ok(());
        }
        self.stream.append(payload)?;
        Ok(())
    }

    fn on_read_end(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        for held in self.held.drain(..) {
            if held == b"fail" {
                return Err("the application refused the read".into());
            }
            self.stream.append(&held)?;
        }
        Ok(())
    }

    fn on_disconnect(&mut self, reason: &DisconnectReason) {
        self.app.active.lock().retain(|u| *u != self.user);
        let kind = match reason {
            DisconnectReason::Logout => "logout",
            DisconnectReason::ClientClosed => "closed",
            DisconnectReason::IdleTimeout { .. } => "idle",
            DisconnectReason::Protocol(_) => "protocol",
            DisconnectReason::Unexpected { .. } => "unexpected",
            DisconnectReason::SlowConsumer { .. } => "slow",
            DisconnectReason::Io(_) => "io",
            DisconnectReason::WriteTimeout { .. } => "write-timeout",
            DisconnectReason::Application(_) => "application",
            DisconnectReason::EndOfSession => "end",
        };
        self.app
            .ended
            .lock()
            .push((self.user.clone(), kind.to_string()));
    }
}

fn config() -> SessionConfig {
    SessionConfig {
        heartbeat_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(600),
        login_timeout: Duration::from_millis(600),
        write_timeout: Duration::from_millis(500),
        max_lag: 50_000,
        ..SessionConfig::default()
    }
}

fn start(config: SessionConfig, users: Users) -> (SoupServer, Arc<Echo>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Arc::new(Echo::default());
    let server = SoupServer::start(
        listener,
        Arc::new(EchoApp(Arc::clone(&app))),
        Arc::new(users),
        config,
    )
    .unwrap();
    (server, app)
}

fn login(addr: SocketAddr, user: &str, seq: u64) -> Result<SoupClient, ClientError> {
    let request = LoginRequest::new(user, "pw", "", seq).unwrap();
    // The previous session of the user may still be closing: retry a little.
    let (client, accepted) = login_retrying(addr, &request, Duration::from_secs(3))?;
    assert_eq!(&accepted.session, b"  RINGBOOK");
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    Ok(client)
}

/// How the `nth` (from 1) session of `user` ended, once it has.
fn wait_for_nth_end(app: &Echo, user: &str, nth: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some((_, kind)) = app
            .ended
            .lock()
            .iter()
            .filter(|(u, _)| u == user)
            .nth(nth - 1)
        {
            return kind.clone();
        }
        assert!(Instant::now() < deadline, "session of {user} never ended");
        thread::sleep(Duration::from_millis(10));
    }
}

fn wait_for_end(app: &Echo, user: &str) -> String {
    wait_for_nth_end(app, user, 1)
}

#[test]
fn a_wrong_password_gets_login_rejected_and_never_a_session() {
    let dir = std::env::temp_dir().join(format!("rb-soup-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.csv");
    std::fs::write(&path, "alice,pw\n").unwrap();
    let (server, app) = start(config(), Users::from_file(&path).unwrap());
    let addr = server.local_addr();
    let bad = LoginRequest::new("alice", "nope", "", 1).unwrap();
    assert!(matches!(
        SoupClient::connect(addr, &bad),
        Err(ClientError::LoginRejected(LoginRejectReason::NotAuthorized))
    ));
    let unknown = LoginRequest::new("bob", "pw", "", 1).unwrap();
    assert!(matches!(
        SoupClient::connect(addr, &unknown),
        Err(ClientError::LoginRejected(LoginRejectReason::NotAuthorized))
    ));
    let wrong_session = LoginRequest::new("alice", "pw", "OTHER", 1).unwrap();
    assert!(matches!(
        SoupClient::connect(addr, &wrong_session),
        Err(ClientError::LoginRejected(
            LoginRejectReason::SessionNotAvailable
        ))
    ));
    assert!(app.active.lock().is_empty());
    let mut ok = login(addr, "alice", 1).unwrap();
    ok.send(b"hi").unwrap();
    assert_eq!(next_sequenced(&mut ok), b"hi");
    server.shutdown();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sequenced_messages_are_delivered_in_order_and_replayed_from_the_requested_number() {
    let (server, app) = start(config(), Users::AnyLogin);
    let addr = server.local_addr();
    let mut c = login(addr, "u1", 1).unwrap();
    for m in [&b"one"[..], b"two", b"three"] {
        c.queue(m).unwrap();
    }
    c.flush().unwrap();
    assert_eq!(next_sequenced(&mut c), b"one");
    assert_eq!(next_sequenced(&mut c), b"two");
    assert_eq!(next_sequenced(&mut c), b"three");
    c.queue_logout();
    c.flush().unwrap();
    assert_eq!(wait_for_end(&app, "u1"), "logout");

    // Logging in again from 2 replays two and three, then new messages follow.
    let mut c = login(addr, "u1", 2).unwrap();
    assert_eq!(next_sequenced(&mut c), b"two");
    assert_eq!(next_sequenced(&mut c), b"three");
    c.send(b"four").unwrap();
    assert_eq!(next_sequenced(&mut c), b"four");
    drop(c);
    assert_eq!(wait_for_nth_end(&app, "u1", 2), "closed");

    // 0 asks for new messages only; a number past the end starts at the next one.
    let request = LoginRequest::new("u1", "pw", "", 0).unwrap();
    let (mut c, accepted) = loop {
        match SoupClient::connect(addr, &request) {
            Ok(x) => break x,
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    };
    assert_eq!(accepted.sequence, 5);
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.send(b"five").unwrap();
    assert_eq!(next_sequenced(&mut c), b"five");
    server.shutdown();
}

#[test]
fn a_second_login_of_a_user_in_session_is_refused_by_the_application() {
    let (server, _app) = start(config(), Users::AnyLogin);
    let addr = server.local_addr();
    let _first = login(addr, "dup", 1).unwrap();
    let request = LoginRequest::new("dup", "pw", "", 1).unwrap();
    assert!(matches!(
        SoupClient::connect(addr, &request),
        Err(ClientError::LoginRejected(
            LoginRejectReason::SessionNotAvailable
        ))
    ));
    server.shutdown();
}

#[test]
fn an_idle_client_gets_heartbeats_and_a_silent_one_is_closed_after_the_idle_timeout() {
    let (server, app) = start(config(), Users::AnyLogin);
    let mut c = login(server.local_addr(), "idle", 1).unwrap();
    let started = Instant::now();
    assert_eq!(c.recv().unwrap(), ServerPacket::Heartbeat);
    assert!(started.elapsed() < Duration::from_millis(400));
    // The client sends nothing: the server closes after the idle timeout.
    let closed = loop {
        match c.recv() {
            Ok(ServerPacket::Heartbeat) => {}
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(closed, ClientError::Closed | ClientError::Io(_)),
        "{closed}"
    );
    assert!(started.elapsed() >= Duration::from_millis(550));
    assert_eq!(wait_for_end(&app, "idle"), "idle");

    // A client that heartbeats stays.
    let mut c = login(server.local_addr(), "beats", 1).unwrap();
    let until = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < until {
        c.queue_heartbeat();
        c.flush().unwrap();
        thread::sleep(Duration::from_millis(100));
    }
    c.send(b"still here").unwrap();
    assert_eq!(next_sequenced(&mut c), b"still here");
    server.shutdown();
}

#[test]
fn protocol_errors_close_the_session_without_disturbing_another() {
    let mut cfg = config();
    cfg.idle_timeout = Duration::from_secs(10);
    let (server, app) = start(cfg, Users::AnyLogin);
    let addr = server.local_addr();
    let mut other = login(addr, "other", 1).unwrap();

    // An oversized length prefix: refused from the prefix alone.
    let mut c = login(addr, "big", 1).unwrap();
    c.queue_raw(&[0xff, 0xff, b'U']);
    c.flush().unwrap();
    assert_eq!(wait_for_end(&app, "big"), "protocol");
    assert!(matches!(
        c.recv(),
        Err(ClientError::Closed | ClientError::Io(_))
    ));

    // A zero length, an unknown type, a server-only type, a second login.
    for (user, bytes, kind) in [
        ("zero", vec![0, 0], "protocol"),
        ("unkn", vec![0, 1, b'x'], "protocol"),
        ("wrong", vec![0, 1, b'H'], "protocol"),
        (
            "again",
            {
                let mut v = Vec::new();
                ringbook_wire::soup::encode::login_request(
                    &mut v,
                    &LoginRequest::new("again", "pw", "", 1).unwrap(),
                );
                v
            },
            "unexpected",
        ),
    ] {
        let mut c = login(addr, user, 1).unwrap();
        c.queue_raw(&bytes);
        c.flush().unwrap();
        assert_eq!(wait_for_end(&app, user), kind, "{user}");
    }
    // An application error closes its session too.
    let mut c = login(addr, "apperr", 1).unwrap();
    c.send(b"fail").unwrap();
    assert_eq!(wait_for_end(&app, "apperr"), "application");

    // A connection that never logs in is closed after the login timeout.
    let silent = TcpStream::connect(addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 8];
    let n = std::io::Read::read(&mut &silent, &mut buf).unwrap_or(0);
    assert_eq!(n, 0);
    assert!(started.elapsed() >= Duration::from_millis(500));

    other.send(b"unaffected").unwrap();
    assert_eq!(next_sequenced(&mut other), b"unaffected");
    server.shutdown();
}

#[test]
fn a_client_that_never_reads_is_disconnected_and_recovers_by_logging_in_again() {
    let mut cfg = config();
    cfg.max_lag = 2_000;
    cfg.idle_timeout = Duration::from_secs(10);
    let (server, app) = start(cfg, Users::AnyLogin);
    let addr = server.local_addr();
    let mut lazy = login(addr, "lazy", 1).unwrap();
    // 20,000 messages of 1,000 bytes: far more than the socket buffers hold.
    lazy.send(b"flood 20000").unwrap();
    let kind = wait_for_end(&app, "lazy");
    assert!(kind == "slow" || kind == "io", "{kind}");
    // Another session is served meanwhile.
    let mut other = login(addr, "busy", 1).unwrap();
    other.send(b"ping").unwrap();
    assert_eq!(next_sequenced(&mut other), b"ping");
    // The slow client logs in again from 1 and reads everything, in order.
    drop(lazy);
    let mut again = login(addr, "lazy", 1).unwrap();
    for _ in 0..20_000 {
        assert_eq!(next_sequenced(&mut again).len(), 1000);
    }
    again.send(b"done").unwrap();
    assert_eq!(next_sequenced(&mut again), b"done");
    server.shutdown();
}

#[test]
fn shutdown_sends_the_rest_of_the_stream_then_end_of_session() {
    let (server, app) = start(config(), Users::AnyLogin);
    let mut c = login(server.local_addr(), "last", 1).unwrap();
    c.send(b"before").unwrap();
    assert_eq!(next_sequenced(&mut c), b"before");
    server.shutdown();
    loop {
        match c.recv().unwrap() {
            ServerPacket::EndOfSession => break,
            ServerPacket::Heartbeat => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wait_for_end(&app, "last"), "end");
}

#[test]
fn the_application_hears_the_end_of_every_read_before_the_next_wait() {
    let (server, app) = start(config(), Users::AnyLogin);
    let mut c = login(server.local_addr(), "u1", 1).unwrap();
    // Held until the end of its read: echoed only if the read's end is signalled
    // before the session waits for more input.
    c.send(b"hold x").unwrap();
    assert_eq!(next_sequenced(&mut c), b"x");
    // Several reads or one: each held message comes out, in order, after the end of the
    // read it was in.
    for m in [&b"hold a"[..], b"hold b", b"c"] {
        c.queue(m).unwrap();
    }
    c.flush().unwrap();
    let got: Vec<Vec<u8>> = (0..3).map(|_| next_sequenced(&mut c)).collect();
    let position = |m: &[u8]| got.iter().position(|g| g == m).unwrap();
    assert!(position(b"a") < position(b"b"), "{got:?}");
    assert!(got.iter().any(|g| g == b"c"), "{got:?}");
    // An error at the end of a read closes the session as an application error.
    c.send(b"hold fail").unwrap();
    assert_eq!(wait_for_end(&app, "u1"), "application");
    server.shutdown();
}
