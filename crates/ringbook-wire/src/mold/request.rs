//! MoldUDP64 request packets (specification "Request Packet"): Session (10 alpha),
//! Sequence Number (8, big-endian: the first message wanted), Requested Message Count (2,
//! big-endian), 20 bytes, sent to the re-request server, which answers with downstream
//! packets unicast to the requester. Checked against the NASDAQ MoldUDP64 Protocol
//! Specification V1.00 and paritytrading/nassau's MoldUDP64 codec.

use super::error::MoldDecodeError;
use super::session::{SESSION_LEN, Session};

/// The length of a request packet.
pub const REQUEST_LEN: usize = SESSION_LEN + 8 + 2;

/// A retransmission request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// The session.
    pub session: Session,
    /// The first message wanted.
    pub seq: u64,
    /// How many messages from there.
    pub count: u16,
}

impl Request {
    /// The packet's bytes.
    #[must_use]
    pub fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut out = [0u8; REQUEST_LEN];
        out[..SESSION_LEN].copy_from_slice(&self.session.0);
        out[SESSION_LEN..18].copy_from_slice(&self.seq.to_be_bytes());
        out[18..].copy_from_slice(&self.count.to_be_bytes());
        out
    }

    /// Decodes a datagram of exactly 20 bytes.
    ///
    /// # Errors
    ///
    /// [`MoldDecodeError::RequestLength`] or [`MoldDecodeError::BadSession`].
    pub fn decode(datagram: &[u8]) -> Result<Request, MoldDecodeError> {
        if datagram.len() != REQUEST_LEN {
            return Err(MoldDecodeError::RequestLength {
                got: datagram.len(),
            });
        }
        let session = Session::at(datagram)?;
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&datagram[SESSION_LEN..18]);
        Ok(Request {
            session,
            seq: u64::from_be_bytes(seq),
            count: u16::from_be_bytes([datagram[18], datagram[19]]),
        })
    }
}
