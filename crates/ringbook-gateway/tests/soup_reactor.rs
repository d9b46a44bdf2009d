//! The SoupBinTCP server's threading over 127.0.0.1: logged-in sessions share the
//! reactor threads (no reader or writer thread per session), a connection that never logs
//! in does not hold up shutdown, and a client that stops reading is closed after the
//! write timeout with that reason. (Its own test binary: it counts this process's
//! threads.)

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ringbook_gateway::soup::{
    AppSession, Application, DisconnectReason, MemoryStore, SessionConfig, SoupClient, SoupServer,
    Stream, Users,
};
use ringbook_testkit::ouch_client::{login_retrying, next_sequenced};
use ringbook_wire::soup::login::{LoginRejectReason, LoginRequest};

/// The tests run one at a time: each counts this process's threads or times a shutdown.
static SERIAL: Mutex<()> = Mutex::new(());

/// Echoes each message into the user's stream (`flood N`: N messages of 1,000 bytes);
/// records how each session ended.
#[derive(Default)]
struct Echo {
    ended: Mutex<Vec<(String, String)>>,
}

struct EchoSession {
    user: String,
    stream: Arc<Stream>,
    app: Arc<Echo>,
}

struct EchoApp(Arc<Echo>);

impl Application for EchoApp {
    type Session = EchoSession;

    fn open(&self, username: &str, _requested: &[u8]) -> Result<EchoSession, LoginRejectReason> {
        Ok(EchoSession {
            user: username.to_string(),
            stream: Arc::new(Stream::new(Box::new(MemoryStore::new()))),
            app: Arc::clone(&self.0),
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
        if let Some(n) = payload.strip_prefix(b"flood ") {
            let n: usize = std::str::from_utf8(n)?.parse()?;
            for _ in 0..n {
                self.stream.append(&[b'f'; 1000])?;
            }
            return Ok(());
        }
        self.stream.append(payload)?;
        Ok(())
    }

    fn on_disconnect(&mut self, reason: &DisconnectReason) {
        self.app
            .ended
            .lock()
            .push((self.user.clone(), reason.to_string()));
    }
}

fn start(config: SessionConfig) -> (SoupServer, Arc<Echo>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Arc::new(Echo::default());
    let server = SoupServer::start(
        listener,
        Arc::new(EchoApp(Arc::clone(&app))),
        Arc::new(Users::AnyLogin),
        config,
    )
    .unwrap();
    (server, app)
}

fn login(addr: SocketAddr, user: &str) -> SoupClient {
    let request = LoginRequest::new(user, "pw", "", 1).unwrap();
    let (client, _) = login_retrying(addr, &request, Duration::from_secs(3)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client
}

/// The names of this process's threads that start with `prefix`.
fn threads_named(prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let comm = task.unwrap().path().join("comm");
        if let Ok(name) = std::fs::read_to_string(comm)
            && name.starts_with(prefix)
        {
            names.push(name.trim_end().to_string());
        }
    }
    names.sort();
    names
}

/// Logs in 8 sessions on a server with `reactors` reactor threads, checks each gets its
/// own answer, and returns the names of the server's threads once the logins are done.
fn threads_serving_eight_sessions(reactors: usize) -> Vec<String> {
    let (server, _app) = start(SessionConfig {
        reactors,
        ..SessionConfig::default()
    });
    let addr = server.local_addr();
    let mut clients: Vec<SoupClient> = (0..8).map(|i| login(addr, &format!("u{i}"))).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.send(format!("hello {i}").as_bytes()).unwrap();
    }
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(next_sequenced(c), format!("hello {i}").as_bytes());
    }
    // The login threads end once their session is handed over.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut names = threads_named("soup-");
    while names.len() > reactors + 1 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
        names = threads_named("soup-");
    }
    assert_eq!(server.connections(), 8);
    server.shutdown();
    names
}

#[test]
fn logged_in_sessions_share_the_reactor_threads_and_keep_their_own_streams() {
    let _serial = SERIAL.lock();
    assert_eq!(
        threads_serving_eight_sessions(1),
        ["soup-accept", "soup-reactor-0"],
        "8 sessions logged in, one reactor"
    );
    assert_eq!(
        threads_serving_eight_sessions(2),
        ["soup-accept", "soup-reactor-0", "soup-reactor-1"],
        "8 sessions logged in, two reactors"
    );
}

#[test]
fn shutdown_does_not_wait_for_a_connection_that_never_logs_in() {
    let _serial = SERIAL.lock();
    let config = SessionConfig {
        login_timeout: Duration::from_secs(30),
        ..SessionConfig::default()
    };
    let (server, _app) = start(config);
    let addr = server.local_addr();
    let mut logged_in = login(addr, "in");
    logged_in.send(b"x").unwrap();
    assert_eq!(next_sequenced(&mut logged_in), b"x");
    let _silent = TcpStream::connect(addr).unwrap();
    thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "shutdown took {took:?} (login timeout 30 s)"
    );
}

#[test]
fn a_client_that_stops_reading_is_closed_after_the_write_timeout_with_that_reason() {
    let _serial = SERIAL.lock();
    let config = SessionConfig {
        write_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(30),
        max_lag: u64::MAX,
        ..SessionConfig::default()
    };
    let (server, app) = start(config);
    let mut lazy = login(server.local_addr(), "lazy");
    // 20 MB: far more than the socket buffers hold, never read.
    lazy.send(b"flood 20000").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let reason = loop {
        if let Some((_, reason)) = app.ended.lock().iter().find(|(u, _)| u == "lazy") {
            break reason.clone();
        }
        assert!(Instant::now() < deadline, "the session never ended");
        thread::sleep(Duration::from_millis(10));
    };
    assert!(reason.contains("write timeout"), "{reason}");
    assert!(reason.contains("0.3 s"), "{reason}");
    server.shutdown();
}

#[test]
fn written_by_the_reactor_or_by_the_appender_every_message_arrives_in_order() {
    let _serial = SERIAL.lock();
    for write_on_reactor in [true, false] {
        flood_three_sessions(SessionConfig {
            write_on_reactor,
            reactors: 2,
            ..SessionConfig::default()
        });
    }
}

/// Three sessions each get a message, 2,000 messages of 1,000 bytes and a last one, in
/// order, then End of Session.
fn flood_three_sessions(config: SessionConfig) {
    let (server, app) = start(config);
    let addr = server.local_addr();
    let mut clients: Vec<SoupClient> = (0..3).map(|i| login(addr, &format!("w{i}"))).collect();
    for c in &mut clients {
        c.send(b"first").unwrap();
        // 2 MB: more than the socket buffers take at once, so the writes wait for room.
        c.send(b"flood 2000").unwrap();
        c.send(b"last").unwrap();
    }
    for c in &mut clients {
        assert_eq!(next_sequenced(c), b"first");
        for _ in 0..2000 {
            assert_eq!(next_sequenced(c), [b'f'; 1000]);
        }
        assert_eq!(next_sequenced(c), b"last");
    }
    server.shutdown();
    let ended = app.ended.lock();
    assert_eq!(ended.len(), 3, "{ended:?}");
    assert!(
        ended.iter().all(|(_, r)| r == "end of session"),
        "{ended:?}"
    );
}
