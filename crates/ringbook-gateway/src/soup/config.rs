//! The session layer's timers and bounds.

use std::time::Duration;

/// Timers and bounds of every session a server runs.
#[derive(Clone, Copy, Debug)]
pub struct SessionConfig {
    /// The session name sent in Login Accepted (at most 10 characters).
    pub session_name: [u8; 10],
    /// A Server Heartbeat is sent when nothing else was sent for this long (the spec:
    /// one second).
    pub heartbeat_interval: Duration,
    /// The session is closed when nothing arrives from the client for this long (the
    /// spec: typically 15 seconds).
    pub idle_timeout: Duration,
    /// A connection that sends no Login Request within this long is closed.
    pub login_timeout: Duration,
    /// A write that blocks this long (the client stopped reading) closes the session.
    pub write_timeout: Duration,
    /// The most sequenced messages a client may be behind before it is disconnected
    /// (counting only messages generated since it logged in: a replay is not lag).
    pub max_lag: u64,
    /// The largest Unsequenced Data payload accepted.
    pub max_payload: usize,
    /// The most bytes one write to the socket carries.
    pub write_batch: usize,
    /// After the last ready socket, the session reactor polls without blocking for this
    /// long before it blocks in `epoll_wait` (zero, the default: it blocks at once).
    /// Spinning saves the wake-up only when the reactor has a core of its own.
    pub poll_spin: Duration,
    /// Reactor threads serving the logged-in sessions (each session on one, given in
    /// turn; at least 1, the default).
    pub reactors: usize,
    /// Whether a session's new messages are written by its reactor (asked once per batch
    /// of appends, woken only if asleep; the default) instead of at once by whoever
    /// appends them (the engine's event thread, for the OUCH responder).
    pub write_on_reactor: bool,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            session_name: *b"  RINGBOOK",
            heartbeat_interval: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(15),
            login_timeout: Duration::from_secs(15),
            write_timeout: Duration::from_secs(5),
            max_lag: 1 << 20,
            max_payload: 1024,
            write_batch: 1 << 16,
            poll_spin: Duration::ZERO,
            reactors: 1,
            write_on_reactor: true,
        }
    }
}
