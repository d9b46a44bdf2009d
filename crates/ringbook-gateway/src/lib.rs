//! Ringbook's network edge: the sessions over TCP and UDP that connect trading programs and
//! market-data readers to an engine.
//!
//! Gateway threads are ordinary callers of the manager API and ordinary subscribers to its
//! event stream: every check, reject and event stays where the engine puts it. The
//! protocols' byte layouts are in `ringbook-wire`; this crate owns the sockets, timers,
//! session state and output bounds.
//!
//! - [`soup`]: a SoupBinTCP 4.0 server session layer, generic over the application.
//! - [`order_entry`]: OUCH 5.0 order entry over it.
//! - [`feed`]: the ITCH 5.0 market-data feed over MoldUDP64, its re-request and GLIMPSE
//!   servers, and a receiver that rebuilds every book.

pub mod feed;
pub mod order_entry;
pub mod soup;
