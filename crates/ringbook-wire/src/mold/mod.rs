//! MoldUDP64 (NASDAQ MoldUDP64 Protocol Specification V1.00): downstream packets carrying
//! numbered message blocks, heartbeats, end of session, and retransmission requests.
//!
//! Sequence numbers count messages from 1 within a session; a packet's Sequence Number is
//! its first message's. The codec has no I/O and no policy: the publisher, re-request
//! server and receiver are in `ringbook-gateway`.

mod downstream;
mod error;
mod request;
mod session;

pub use downstream::{
    BLOCK_SLACK, DOWNSTREAM_HEADER_LEN, Downstream, END_OF_SESSION, PacketBuilder, PacketKind,
    control_packet,
};
pub use error::MoldDecodeError;
pub use request::{REQUEST_LEN, Request};
pub use session::{SESSION_LEN, Session};

#[cfg(test)]
mod tests;
