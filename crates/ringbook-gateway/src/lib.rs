//! Ringbook's network edge: the sessions over TCP and UDP that connect trading programs and
//! market-data readers to an engine.
//!
//! Gateway threads are ordinary callers of the manager API and ordinary subscribers to its
//! event stream: every check, reject and event stays where the engine puts it. The
//! protocols' byte layouts are in `ringbook-wire`; this crate owns the sockets, threads,
//! timers, session state and output bounds. Slow clients never stall the engine: appending
//! to a session's stream never waits, and a client too far behind is disconnected and logs
//! in again from its sequence number.
//!
//! - [`soup`]: a SoupBinTCP 4.0 server session layer, generic over the application
//!   ([`soup::Application`]): the server ([`soup::SoupServer`]), the users file
//!   ([`soup::Users`]), each session's sequenced [`soup::Stream`] kept in a
//!   [`soup::MessageStore`], and a blocking client ([`soup::SoupClient`]).
//! - [`order_entry`]: OUCH 5.0 order entry over it: the session application
//!   ([`order_entry::OuchApp`]), the engine subscriber that answers each user
//!   ([`order_entry::OuchResponder`]), the per-user state they share
//!   ([`order_entry::Registry`]) and the symbols file ([`order_entry::SymbolTable`]).
//! - [`feed`]: the ITCH 5.0 market-data feed over MoldUDP64 ([`feed::Feed`], started from
//!   a [`feed::FeedConfig`], publishing through the engine subscriber
//!   [`feed::FeedSubscriber`]), its re-request and GLIMPSE 5.0 snapshot servers, and a
//!   receiver that rebuilds every book ([`feed::FeedReceiver`]).
//!
//! `ringbook serve` wires the three together (`crates/ringbook-cli/src/serve.rs`);
//! docs/OUCH.md and docs/ITCH.md describe the protocols as served, and
//! docs/ARCHITECTURE.md ("The network edge") the threads. The tests send only to
//! 127.0.0.1.

pub mod feed;
pub mod order_entry;
pub mod soup;
