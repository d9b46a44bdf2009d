//! The listener: accepts connections, logs each in on a thread of its own, and hands the
//! logged-in sessions to the one reactor thread ([`super::reactor`]).

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use parking_lot::Mutex;

use super::poll::Poller;
use super::reactor::{self, Control};
use super::session::{self, Handoff};
use super::{AppSession, Application, DisconnectReason, SessionConfig, Users};

/// The most connections served at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 1024;

#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    logins: Mutex<Vec<JoinHandle<()>>>,
}

/// A running SoupBinTCP server (see the module docs).
pub struct SoupServer {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    control: Arc<Control>,
    accept: Option<JoinHandle<()>>,
    /// Each reactor's poller and thread.
    reactors: Vec<(Arc<Poller>, JoinHandle<()>)>,
}

/// Where the login threads hand a session: a reactor's poller (to wake it) and queue.
type Route<S> = (Arc<Poller>, Sender<Handoff<S>>);

impl std::fmt::Debug for SoupServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoupServer")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl SoupServer {
    /// Starts serving `listener` with `app`.
    ///
    /// # Errors
    ///
    /// When the listener's address cannot be read, the poller cannot be made, or a
    /// thread cannot start.
    pub fn start<A: Application>(
        listener: TcpListener,
        app: Arc<A>,
        users: Arc<Users>,
        config: SessionConfig,
    ) -> io::Result<SoupServer> {
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let control = Arc::new(Control::default());
        let mut routes: Vec<Route<A::Session>> = Vec::new();
        let mut reactors = Vec::new();
        let started = (0..config.reactors.max(1)).try_for_each(|i| {
            let poller = Arc::new(Poller::new()?);
            let (handoffs, receiver) = mpsc::channel::<Handoff<A::Session>>();
            let thread = {
                let control = Arc::clone(&control);
                let poller = Arc::clone(&poller);
                thread::Builder::new()
                    .name(format!("soup-reactor-{i}"))
                    .spawn(move || reactor::run(&control, &poller, config, &receiver))?
            };
            routes.push((Arc::clone(&poller), handoffs));
            reactors.push((poller, thread));
            io::Result::Ok(())
        });
        let accept = started.and_then(|()| {
            let shared = Arc::clone(&shared);
            let control = Arc::clone(&control);
            thread::Builder::new()
                .name("soup-accept".into())
                .spawn(move || {
                    accept_loop(&listener, &app, &users, config, &shared, &control, &routes);
                })
        });
        let mut server = SoupServer {
            local_addr,
            shared,
            control,
            accept: None,
            reactors,
        };
        match accept {
            Ok(accept) => {
                server.accept = Some(accept);
                Ok(server)
            }
            Err(e) => {
                server.stop_reactors();
                Err(e)
            }
        }
    }

    /// The address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many connections are open now (logging in or logged in).
    #[must_use]
    pub fn connections(&self) -> usize {
        self.control.live.load(Ordering::Acquire)
    }

    /// Stops accepting, sends every session the rest of its stream and End of Session,
    /// and waits for every session to end.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        // Wake the accept call.
        let _ = TcpStream::connect_timeout(&self.local_addr, Duration::from_millis(200));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        // Connections still logging in give up within a poll of their read.
        let logins = std::mem::take(&mut *self.shared.logins.lock());
        for login in logins {
            let _ = login.join();
        }
        self.stop_reactors();
    }

    fn stop_reactors(&mut self) {
        self.control.end.store(true, Ordering::Release);
        for (poller, _) in &self.reactors {
            poller.wake();
        }
        for (_, thread) in self.reactors.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for SoupServer {
    fn drop(&mut self) {
        if self.accept.is_some() {
            self.stop();
        }
    }
}

fn accept_loop<A: Application>(
    listener: &TcpListener,
    app: &Arc<A>,
    users: &Arc<Users>,
    config: SessionConfig,
    shared: &Arc<Shared>,
    control: &Arc<Control>,
    routes: &[Route<A::Session>],
) {
    let mut next_id = 0u64;
    for incoming in listener.incoming() {
        if shared.stopping.load(Ordering::Acquire) {
            return;
        }
        let socket = match incoming {
            Ok(socket) => socket,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if control.live.load(Ordering::Acquire) >= MAX_CONNECTIONS {
            tracing::warn!(
                bound = MAX_CONNECTIONS,
                "too many connections: closing a new one"
            );
            continue;
        }
        control.live.fetch_add(1, Ordering::AcqRel);
        next_id += 1;
        let thread = {
            let app = Arc::clone(app);
            let users = Arc::clone(users);
            let shared = Arc::clone(shared);
            let control = Arc::clone(control);
            let (poller, handoffs) = &routes[(next_id as usize) % routes.len()];
            let (poller, handoffs) = (Arc::clone(poller), handoffs.clone());
            thread::Builder::new()
                .name(format!("soup-login-{next_id}"))
                .spawn(move || {
                    match session::login(socket, &*app, &users, &config, &shared.stopping) {
                        Some(handoff) => hand_over(&control, &poller, &handoffs, handoff),
                        None => {
                            control.live.fetch_sub(1, Ordering::AcqRel);
                        }
                    }
                })
        };
        let mut logins = shared.logins.lock();
        logins.retain(|t| !t.is_finished());
        match thread {
            Ok(thread) => logins.push(thread),
            Err(e) => {
                control.live.fetch_sub(1, Ordering::AcqRel);
                tracing::warn!(error = %e, "cannot start a login thread");
            }
        }
    }
}

/// Gives a logged-in session to the reactor.
fn hand_over<S: AppSession>(
    control: &Control,
    poller: &Poller,
    handoffs: &Sender<Handoff<S>>,
    handoff: Handoff<S>,
) {
    match handoffs.send(handoff) {
        Ok(()) => poller.wake(),
        Err(mpsc::SendError(handoff)) => {
            // The reactor is gone (it failed): the session cannot be served.
            tracing::warn!(peer = %handoff.peer, "the session reactor is gone: closing a new session");
            let mut session = handoff.session;
            session.on_disconnect(&DisconnectReason::EndOfSession);
            control.live.fetch_sub(1, Ordering::AcqRel);
        }
    }
}
