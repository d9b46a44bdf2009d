//! A SoupBinTCP 4.0 server session layer, generic over the application payload.
//!
//! [`SoupServer`] accepts TCP connections and runs each as a session: the Login Request
//! is checked against [`Users`] and handed to the [`Application`], which opens its side of
//! the session ([`AppSession`]) and names the sequenced [`Stream`] the client reads;
//! Login Accepted gives the client its next sequence number (the one it asked for, so a
//! client logging in again gets every message from it on, or the next new one for 0).
//! Unsequenced Data goes to [`AppSession::on_message`]; heartbeats go both ways (a
//! Server Heartbeat after a second without output; the session closes after the idle
//! timeout without input); Logout Request, a protocol error, a slow consumer or an
//! application error close the session, and [`AppSession::on_disconnect`] hears why.
//! [`SoupServer::shutdown`] sends every session what is left of its stream, then End of
//! Session.
//!
//! Threads: the listener's accept thread; a short-lived login thread per connection (a
//! client slow to log in holds up nobody); then ONE reactor thread for every logged-in
//! session, waiting on `epoll`, which reads each ready socket's whole input and calls the
//! application (one [`AppSession::on_read_end`] a read), and keeps the timers
//! (heartbeats, idle and write timeouts). Output: an append to a session's stream asks
//! its reactor to write (once until it has; the reactor is woken only if asleep, so at most
//! once per batch of appends, never per message), or with
//! [`SessionConfig::write_on_reactor`] off is written at once by the appending thread;
//! either way non-blocking, and what the kernel refuses waits in the session's outlet
//! until the reactor sees room. Producers never wait for a client.
//!
//! The OUCH order-entry application is in [`crate::order_entry`]; a GLIMPSE snapshot
//! server would be another application over the same layer (one stream per login, ended
//! after the snapshot).

mod auth;
mod client;
mod config;
mod error;
mod outlet;
mod poll;
pub use poll::monotonic_ns;
mod reactor;
mod server;
mod session;
mod store;
mod stream;

use std::sync::Arc;

pub use auth::{Users, UsersError, UsersProblem};
pub use client::{ClientError, ServerPacket, SoupClient};
pub use config::SessionConfig;
pub use error::{DisconnectReason, StoreError};
use ringbook_wire::soup::login::LoginRejectReason;
pub use server::SoupServer;
pub use store::{FileStore, MemoryStore, MessageStore};
pub use stream::Stream;

/// An application over SoupBinTCP: opens its side of each session at login.
pub trait Application: Send + Sync + 'static {
    /// The application's per-session state.
    type Session: AppSession;

    /// Opens a session for `username` (authenticated already) that asked for
    /// `requested_session` (without padding; empty for the current one).
    ///
    /// # Errors
    ///
    /// The Login Rejected reason to send instead (`S` when the user already has a
    /// session, say).
    fn open(
        &self,
        username: &str,
        requested_session: &[u8],
    ) -> Result<Self::Session, LoginRejectReason>;
}

/// The application's side of one logged-in session.
pub trait AppSession: Send + 'static {
    /// The stream of sequenced messages the client reads.
    fn stream(&self) -> &Arc<Stream>;

    /// One Unsequenced Data payload from the client.
    ///
    /// # Errors
    ///
    /// An error closes the session (it is logged with the reason).
    fn on_message(
        &mut self,
        payload: &[u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;

    /// Every complete message of one socket read has been given to
    /// [`on_message`](AppSession::on_message): the application may now act on them
    /// together (the OUCH session submits their commands as one batch). Called before the
    /// session reads again, or waits for the client; not after the message that ended
    /// the session (`on_disconnect` follows then). By default nothing.
    ///
    /// # Errors
    ///
    /// An error closes the session (it is logged with the reason).
    fn on_read_end(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(())
    }

    /// The session ended, for `reason`.
    fn on_disconnect(&mut self, reason: &DisconnectReason);
}
