//! The protocols of Ringbook's network edge, as pure codecs: encode, decode and validate
//! byte buffers, with no I/O and no policy of their own (the sessions, sockets and timers
//! live in `ringbook-gateway`).
//!
//! Every layout follows its public specification to the byte; each module names the
//! specification and the section it implements.
//!
//! - [`soup`]: SoupBinTCP 4.0, the session layer (framing, login, heartbeats).
//! - [`ouch`]: OUCH 5.0, the order-entry messages carried by SoupBinTCP.
//! - [`itch`]: ITCH 5.0, the market-by-order messages of the market-data feed.
//! - [`mold`]: MoldUDP64, the feed's packets and retransmission requests.
//! - [`glimpse`]: GLIMPSE 5.0, the snapshot's End of Snapshot message.

pub mod glimpse;
pub mod itch;
pub mod mold;
pub mod ouch;
pub mod soup;
