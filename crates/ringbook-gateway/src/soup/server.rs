//! The listener: accepts connections and runs each as a session on its own thread.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use parking_lot::Mutex;

use super::session::{self, ConnFlags};
use super::{Application, SessionConfig, Users};

/// The most connections served at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 1024;

struct Conn {
    flags: Arc<ConnFlags>,
    thread: JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    conns: Mutex<Vec<Conn>>,
}

/// A running SoupBinTCP server (see the module docs).
pub struct SoupServer {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

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
    /// When the listener's address cannot be read or the accept thread cannot start.
    pub fn start<A: Application>(
        listener: TcpListener,
        app: Arc<A>,
        users: Arc<Users>,
        config: SessionConfig,
    ) -> io::Result<SoupServer> {
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let accept = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("soup-accept".into())
                .spawn(move || accept_loop(&listener, &app, &users, config, &shared))?
        };
        Ok(SoupServer {
            local_addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many sessions are connected now.
    #[must_use]
    pub fn connections(&self) -> usize {
        let mut conns = self.shared.conns.lock();
        conns.retain(|c| !c.thread.is_finished());
        conns.len()
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
        let conns = std::mem::take(&mut *self.shared.conns.lock());
        for conn in &conns {
            conn.flags.end_session();
        }
        for conn in conns {
            let _ = conn.thread.join();
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
    shared: &Shared,
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
        let mut conns = shared.conns.lock();
        conns.retain(|c| !c.thread.is_finished());
        if conns.len() >= MAX_CONNECTIONS {
            tracing::warn!(
                bound = MAX_CONNECTIONS,
                "too many connections: closing a new one"
            );
            continue;
        }
        next_id += 1;
        let flags = Arc::new(ConnFlags::default());
        let thread = {
            let flags = Arc::clone(&flags);
            let app = Arc::clone(app);
            let users = Arc::clone(users);
            thread::Builder::new()
                .name(format!("soup-conn-{next_id}"))
                .spawn(move || session::run(socket, &*app, &users, &config, &flags))
        };
        match thread {
            Ok(thread) => conns.push(Conn { flags, thread }),
            Err(e) => tracing::warn!(error = %e, "cannot start a session thread"),
        }
    }
}
