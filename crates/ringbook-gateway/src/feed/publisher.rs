//! The feed: its [`FeedSubscriber`] (registered with the engine, on the event manager
//! thread), its publisher thread (which also sends the heartbeats), and its re-request
//! and GLIMPSE servers.

use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use parking_lot::Mutex;
use thiserror::Error;

use super::config::{FeedConfig, FeedConfigError};
use super::core::{FeedCore, lock};
use super::handoff::{self, FeedSubscriber, Work};
use super::stats::FeedStats;
use super::store::MessageFile;
use super::translate::Translator;
use super::{glimpse, rerequest};
use crate::soup::SoupServer;

/// Why a feed could not start.
#[derive(Debug, Error)]
pub enum FeedError {
    /// The configuration is refused.
    #[error(transparent)]
    Config(#[from] FeedConfigError),
    /// A socket could not be opened.
    #[error("cannot open the {what} socket on {addr}: {source}")]
    Bind {
        /// Which socket: `feed`, `rerequest` or `glimpse`.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The message file could not be created.
    #[error("cannot create the feed's message file in {dir}: {source}")]
    Store {
        /// The store directory.
        dir: std::path::PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A thread could not be started.
    #[error("cannot start the feed's {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
}

/// A running feed. Register its [`FeedSubscriber`] with the engine; [`Feed::shutdown`]
/// stops the timer and servers (after the engine stopped, so the end of session is sent).
#[derive(Debug)]
pub struct Feed {
    core: Arc<Mutex<FeedCore>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    rerequest: Option<SocketAddr>,
    glimpse: Option<SocketAddr>,
    glimpse_server: Option<SoupServer>,
    work: Option<Sender<Work>>,
}

fn bind_err(what: &'static str, addr: SocketAddr) -> impl FnOnce(io::Error) -> FeedError {
    move |source| FeedError::Bind { what, addr, source }
}

impl Feed {
    /// Opens the sockets, publishes the opening messages (Start of Messages, every Stock
    /// Directory and trading state) and starts the heartbeat timer and the servers.
    ///
    /// # Errors
    ///
    /// [`FeedError`]: a refused configuration, a socket that cannot be bound, a thread
    /// that cannot start.
    pub fn start(config: &FeedConfig) -> Result<(Feed, FeedSubscriber), FeedError> {
        let resolved = config.resolve()?;
        let any: SocketAddr = if config.destination.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(any).map_err(bind_err("feed", any))?;
        if config.destination.ip().is_multicast() {
            let _ = socket.set_multicast_loop_v4(true);
        }
        // Connected: each send skips the route lookup of an unconnected send_to.
        socket
            .connect(config.destination)
            .map_err(bind_err("feed", config.destination))?;
        let rerequest_socket = config
            .rerequest
            .map(|addr| UdpSocket::bind(addr).map_err(bind_err("rerequest", addr)))
            .transpose()?;
        let glimpse_listener = config
            .glimpse
            .map(|addr| TcpListener::bind(addr).map_err(bind_err("glimpse", addr)))
            .transpose()?;
        let rerequest = rerequest_socket.as_ref().and_then(|s| s.local_addr().ok());
        let glimpse = glimpse_listener.as_ref().and_then(|l| l.local_addr().ok());

        let translator = Translator::new(resolved.instruments, resolved.origin_ns);
        let mut core = FeedCore::new(
            translator,
            resolved.session,
            config.max_packet,
            config.retransmit_capacity,
            socket,
            config.destination,
        );
        if let Some(dir) = &config.store_dir {
            let file = MessageFile::create(dir, &resolved_session_name(&config.session)).map_err(
                |source| FeedError::Store {
                    dir: dir.clone(),
                    source,
                },
            )?;
            tracing::info!(path = %file.path().display(), "feed messages kept on disk");
            core.out.file = Some(file);
        }
        core.open();
        let core = Arc::new(Mutex::new(core));
        let stop = Arc::new(AtomicBool::new(false));
        let mut feed = Feed {
            core: Arc::clone(&core),
            stop: Arc::clone(&stop),
            threads: Vec::new(),
            rerequest,
            glimpse,
            glimpse_server: None,
            work: None,
        };
        let ends = handoff::channel(
            Arc::clone(&core),
            config.publish_on,
            config.auto_inline_events,
            config.auto_busy_gap,
        );
        let subscriber = ends.subscriber;
        feed.work = Some(ends.work);
        let heartbeat = config.heartbeat;
        feed.spawn("publisher", {
            let (core, stop) = (Arc::clone(&core), Arc::clone(&stop));
            let (work_rx, spare, pending) = (ends.work_rx, ends.spare, ends.pending);
            move || handoff::run(&core, &work_rx, &spare, &pending, &stop, heartbeat)
        })?;
        if let Some(socket) = rerequest_socket {
            let (core, stop) = (Arc::clone(&core), Arc::clone(&stop));
            let max_packet = config.max_packet;
            feed.spawn("rerequest", move || {
                rerequest::serve(socket, core, stop, max_packet);
            })?;
        }
        if let Some(listener) = glimpse_listener {
            let server = glimpse::start(listener, Arc::clone(&core)).map_err(|source| {
                FeedError::Thread {
                    what: "glimpse",
                    source,
                }
            })?;
            feed.glimpse_server = Some(server);
        }
        Ok((feed, subscriber))
    }

    fn spawn(
        &mut self,
        what: &'static str,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), FeedError> {
        let handle = std::thread::Builder::new()
            .name(format!("feed-{what}"))
            .spawn(f)
            .map_err(|source| FeedError::Thread { what, source })?;
        self.threads.push(handle);
        Ok(())
    }

    /// Where the re-request server listens.
    #[must_use]
    pub fn rerequest_addr(&self) -> Option<SocketAddr> {
        self.rerequest
    }

    /// Where the GLIMPSE server listens.
    #[must_use]
    pub fn glimpse_addr(&self) -> Option<SocketAddr> {
        self.glimpse
    }

    /// The counts so far.
    #[must_use]
    pub fn stats(&self) -> FeedStats {
        let core = lock(&self.core);
        FeedStats {
            unpublishable: core.translator.unpublishable(),
            ..core.out.stats
        }
    }

    /// Sets the ITCH timestamp of the engine's timestamp 0 for every later message: call
    /// it with [`now_since_midnight_ns`](super::now_since_midnight_ns) right after the
    /// engine is built (its clock starts at the end of `build`), so that timestamps are
    /// the time of day of the sequencer's stamps.
    pub fn set_origin_ns(&self, origin_ns: u64) {
        lock(&self.core).translator.set_origin_ns(origin_ns);
    }

    /// The sequence number the next message will get.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        lock(&self.core).next_seq()
    }

    /// Ends the session if the engine did not (End of Messages, end-of-session packet),
    /// stops the timer and the servers and joins their threads.
    pub fn shutdown(mut self) -> FeedStats {
        // Through the feed thread, after whatever it still has to publish.
        let (ack, done) = crossbeam_channel::bounded(1);
        let work = self.work.take();
        if let Some(work) = &work
            && work.send(Work::End(ack)).is_ok()
        {
            let _ = done.recv_timeout(Duration::from_secs(10));
        }
        lock(&self.core).end();
        self.stop.store(true, Ordering::Release);
        if let Some(work) = work {
            // The thread may be asleep until the next heartbeat is due; it has taken
            // `End`, so the queue has room.
            let _ = work.try_send(Work::Stop);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        if let Some(server) = self.glimpse_server.take() {
            server.shutdown();
        }
        self.stats()
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(work) = &self.work {
            // Never blocks a drop: a full queue wakes the thread anyway.
            let _ = work.try_send(Work::Stop);
        }
    }
}

/// The session name as a file name: characters other than ASCII letters, digits, `-`
/// and `_` become `_`.
fn resolved_session_name(session: &str) -> String {
    session
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
