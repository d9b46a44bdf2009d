//! A GLIMPSE 5.0 client: logs in over SoupBinTCP and reads the snapshot up to its End of
//! Snapshot.

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ringbook_wire::glimpse::{GlimpseDecodeError, GlimpseMessage};
use ringbook_wire::itch::ItchMessage;
use thiserror::Error;

use super::soup::{alpha, numeric, read_packet, write_packet};

/// A snapshot as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Its ITCH messages, in order.
    pub messages: Vec<ItchMessage>,
    /// The live feed's sequence number to continue from.
    pub next_seq: u64,
}

/// Why a snapshot could not be taken.
#[derive(Debug, Error)]
pub enum GlimpseError {
    /// Connecting, reading or writing failed.
    #[error("glimpse {addr}: {source}")]
    Io {
        /// The server.
        addr: SocketAddr,
        /// The failure.
        source: io::Error,
    },
    /// The server refused the login.
    #[error("glimpse {addr}: login rejected (reason {reason:?})")]
    Rejected {
        /// The server.
        addr: SocketAddr,
        /// The reject reason code.
        reason: char,
    },
    /// A packet of an unexpected type.
    #[error("glimpse {addr}: unexpected SoupBinTCP packet type {kind:?} after {messages} messages")]
    Unexpected {
        /// The server.
        addr: SocketAddr,
        /// The type.
        kind: char,
        /// How many snapshot messages came before it.
        messages: usize,
    },
    /// A snapshot message that does not decode.
    #[error("glimpse {addr}: snapshot message {index}: {source}")]
    Decode {
        /// The server.
        addr: SocketAddr,
        /// Its index in the snapshot, from 0.
        index: usize,
        /// Why.
        source: GlimpseDecodeError,
    },
}

/// Takes a snapshot from the server at `addr`.
///
/// # Errors
///
/// [`GlimpseError`] naming the server and what went wrong.
pub fn take_snapshot(addr: SocketAddr, timeout: Duration) -> Result<Snapshot, GlimpseError> {
    let io_err = |source| GlimpseError::Io { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(io_err)?;
    stream.set_read_timeout(Some(timeout)).map_err(io_err)?;
    stream.set_write_timeout(Some(timeout)).map_err(io_err)?;
    let mut login = alpha("feed", 6);
    login.extend_from_slice(&alpha("", 10));
    login.extend_from_slice(&alpha("", 10));
    login.extend_from_slice(&numeric(1, 20));
    write_packet(&mut stream, b'L', &login).map_err(io_err)?;
    stream.flush().map_err(io_err)?;
    let mut reader = BufReader::new(stream);
    let mut messages = Vec::new();
    loop {
        let (kind, payload) = read_packet(&mut reader, 1024).map_err(io_err)?;
        match kind {
            b'A' | b'H' | b'+' => {}
            b'J' => {
                return Err(GlimpseError::Rejected {
                    addr,
                    reason: payload.first().map_or('?', |&b| b as char),
                });
            }
            b'S' => match GlimpseMessage::decode(&payload) {
                Ok(GlimpseMessage::Itch(message)) => messages.push(message),
                Ok(GlimpseMessage::EndOfSnapshot(end)) => {
                    return Ok(Snapshot {
                        messages,
                        next_seq: end.next_seq,
                    });
                }
                Err(source) => {
                    return Err(GlimpseError::Decode {
                        addr,
                        index: messages.len(),
                        source,
                    });
                }
            },
            other => {
                return Err(GlimpseError::Unexpected {
                    addr,
                    kind: other as char,
                    messages: messages.len(),
                });
            }
        }
    }
}
