//! What can go wrong in the SoupBinTCP server layer.

use std::io;
use std::path::PathBuf;

use ringbook_wire::soup::SoupError;
use thiserror::Error;

/// A message store failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A message larger than a SoupBinTCP packet can carry.
    #[error("a {length}-byte message exceeds the {bound}-byte payload a packet can carry")]
    TooLarge {
        /// The message's length.
        length: usize,
        /// The bound.
        bound: usize,
    },
    /// Reading or writing the store's file failed.
    #[error("message store {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: io::Error,
    },
    /// The store's file holds a packet that is not Sequenced Data.
    #[error("message store {}: packet at offset {offset} is not a sequenced data packet", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the packet starts.
        offset: u64,
    },
}

/// Why a session ended.
#[derive(Debug, Error)]
pub enum DisconnectReason {
    /// The client sent Logout Request.
    #[error("the client logged out")]
    Logout,
    /// The client closed the connection.
    #[error("the client closed the connection")]
    ClientClosed,
    /// Nothing arrived from the client for the idle timeout (no data, no heartbeat).
    #[error("no packet from the client for {seconds:.1} s (the idle timeout)")]
    IdleTimeout {
        /// The timeout.
        seconds: f64,
    },
    /// The client broke SoupBinTCP framing.
    #[error("protocol error: {0}")]
    Protocol(#[from] SoupError),
    /// A client packet that is valid but not allowed now (a second Login Request).
    #[error("unexpected '{}' packet after login", char::from(*.packet_type))]
    Unexpected {
        /// The packet type byte.
        packet_type: u8,
    },
    /// The client fell more than the bound behind the stream (it reads too slowly).
    #[error("the client is {lag} messages behind (bound {bound}): slow consumer")]
    SlowConsumer {
        /// Messages not yet sent.
        lag: u64,
        /// The bound.
        bound: u64,
    },
    /// A write to the client stayed blocked for the write timeout (it stopped reading).
    #[error("a write to the client was blocked for {seconds:.1} s (the write timeout)")]
    WriteTimeout {
        /// The timeout.
        seconds: f64,
    },
    /// A socket read or write failed.
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
    /// The application refused a message and closed the session.
    #[error("application: {0}")]
    Application(Box<dyn std::error::Error + Send + Sync>),
    /// The server is shutting down (End of Session was sent).
    #[error("end of session")]
    EndOfSession,
}
