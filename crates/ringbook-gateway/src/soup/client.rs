//! A blocking SoupBinTCP client: log in, send Unsequenced Data, read what the server
//! sends. Used by `ringbook client` and the tests.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ringbook_wire::soup::frame::{Sender, next_packet};
use ringbook_wire::soup::login::{LoginAccepted, LoginRejectReason, LoginRequest};
use ringbook_wire::soup::{MAX_PAYLOAD, PacketType, SoupError, encode};
use thiserror::Error;

/// A client failure.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] io::Error),
    /// The server broke framing.
    #[error("protocol: {0}")]
    Protocol(#[from] SoupError),
    /// The server refused the login.
    #[error("login rejected: {0:?}")]
    LoginRejected(LoginRejectReason),
    /// The server answered the login with something else.
    #[error("unexpected '{}' packet in answer to the login", char::from(*.0))]
    UnexpectedLoginAnswer(u8),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
}

/// One packet from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerPacket<'a> {
    /// Sequenced Data: one application message.
    Sequenced(&'a [u8]),
    /// Server Heartbeat.
    Heartbeat,
    /// End of Session.
    EndOfSession,
    /// Debug text.
    Debug(&'a [u8]),
}

/// A logged-in SoupBinTCP client connection.
#[derive(Debug)]
pub struct SoupClient {
    socket: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    offset: u64,
    out: Vec<u8>,
}

impl SoupClient {
    /// Connects and logs in; returns the client and the server's Login Accepted.
    ///
    /// # Errors
    ///
    /// [`ClientError`] when connecting fails or the login is refused.
    pub fn connect(
        addr: SocketAddr,
        request: &LoginRequest,
    ) -> Result<(SoupClient, LoginAccepted), ClientError> {
        let socket = TcpStream::connect(addr)?;
        socket.set_nodelay(true)?;
        let mut client = SoupClient {
            socket,
            buf: vec![0; 1 << 20],
            start: 0,
            end: 0,
            offset: 0,
            out: Vec::with_capacity(1 << 16),
        };
        encode::login_request(&mut client.out, request);
        client.flush()?;
        let (packet_type, payload) = client.next_raw()?;
        match packet_type {
            PacketType::LoginAccepted => {
                let accepted = LoginAccepted::decode(&client.buf[payload.0..payload.1])?;
                Ok((client, accepted))
            }
            PacketType::LoginRejected => {
                let byte = client.buf[payload.0];
                Err(match LoginRejectReason::from_byte(byte) {
                    Some(reason) => ClientError::LoginRejected(reason),
                    None => ClientError::UnexpectedLoginAnswer(byte),
                })
            }
            other => Err(ClientError::UnexpectedLoginAnswer(other.byte())),
        }
    }

    /// The socket (to set timeouts).
    #[must_use]
    pub fn socket(&self) -> &TcpStream {
        &self.socket
    }

    /// The socket and the bytes read from it but not yet taken as packets (for a caller
    /// that goes on reading the connection itself, non-blocking say), and the stream
    /// offset of the first of them.
    #[must_use]
    pub fn into_parts(self) -> (TcpStream, Vec<u8>, u64) {
        let unread = self.buf[self.start..self.end].to_vec();
        (self.socket, unread, self.offset)
    }

    /// Sets the read timeout of [`SoupClient::recv`].
    ///
    /// # Errors
    ///
    /// When the socket refuses it.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.socket.set_read_timeout(timeout)
    }

    /// Queues an Unsequenced Data packet (sent by [`SoupClient::flush`]).
    ///
    /// # Errors
    ///
    /// [`SoupError::TooLong`] for a message past a packet's payload.
    pub fn queue(&mut self, message: &[u8]) -> Result<(), SoupError> {
        encode::unsequenced(&mut self.out, message)
    }

    /// Queues raw bytes (for tests of malformed input).
    pub fn queue_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Queues a Client Heartbeat.
    pub fn queue_heartbeat(&mut self) {
        encode::client_heartbeat(&mut self.out);
    }

    /// Queues a Logout Request.
    pub fn queue_logout(&mut self) {
        encode::logout_request(&mut self.out);
    }

    /// How many bytes are queued.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.out.len()
    }

    /// Sends everything queued.
    ///
    /// # Errors
    ///
    /// When the socket write fails.
    pub fn flush(&mut self) -> io::Result<()> {
        self.socket.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Sends one message at once.
    ///
    /// # Errors
    ///
    /// When it does not fit a packet or the write fails.
    pub fn send(&mut self, message: &[u8]) -> Result<(), ClientError> {
        self.queue(message)?;
        Ok(self.flush()?)
    }

    fn next_raw(&mut self) -> Result<(PacketType, (usize, usize)), ClientError> {
        loop {
            if let Some(p) = next_packet(
                &self.buf[self.start..self.end],
                self.offset,
                MAX_PAYLOAD,
                Sender::Server,
            )? {
                let payload_start = self.start + 3;
                let payload_end = self.start + p.wire_len;
                let packet_type = p.packet_type;
                self.start += p.wire_len;
                self.offset += p.wire_len as u64;
                return Ok((packet_type, (payload_start, payload_end)));
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            let n = self.socket.read(&mut self.buf[self.end..])?;
            if n == 0 {
                return Err(ClientError::Closed);
            }
            self.end += n;
        }
    }

    /// Reads the next packet from the server.
    ///
    /// # Errors
    ///
    /// [`ClientError::Closed`] at end of stream; a read timeout as [`ClientError::Io`].
    pub fn recv(&mut self) -> Result<ServerPacket<'_>, ClientError> {
        let (packet_type, (a, b)) = self.next_raw()?;
        let payload = &self.buf[a..b];
        Ok(match packet_type {
            PacketType::SequencedData => ServerPacket::Sequenced(payload),
            PacketType::ServerHeartbeat => ServerPacket::Heartbeat,
            PacketType::EndOfSession => ServerPacket::EndOfSession,
            PacketType::Debug => ServerPacket::Debug(payload),
            other => return Err(ClientError::UnexpectedLoginAnswer(other.byte())),
        })
    }
}
