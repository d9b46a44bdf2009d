//! The market-data feed: every book published as NASDAQ TotalView-ITCH 5.0 market-by-order
//! messages in MoldUDP64 packets, with a re-request server for lost packets and a GLIMPSE
//! 5.0 snapshot server for late joiners; and a receiver that rebuilds every book.
//!
//! ```text
//! engine event manager -> FeedSubscriber -> (inline, or through the feed's thread, or
//!                       batch by batch either way: PublishOn)
//!   Translator: events -> ITCH; packets; retransmission buffer
//!                              |-> UDP downstream packets to the destination, heartbeats when idle
//!   re-request server (UDP) <- | -> answers from the retransmission buffer
//!   GLIMPSE server (TCP)    <- | -> snapshot from the publisher's mirror, in sequence
//! ```
//!
//! Start a [`Feed`] with a [`FeedConfig`], register its [`FeedSubscriber`] with the
//! engine's builder, start the engine. After the engine stops (which ends the session),
//! [`Feed::shutdown`]. See `docs/ITCH.md` for the mapping of events to messages.

mod books;
mod burst;
mod config;
mod core;
mod event;
mod far_levels;
mod glimpse;
mod glimpse_client;
mod handoff;
mod levels;
mod mirror;
mod publish_on;
mod publisher;
mod receiver;
mod rerequest;
mod retransmit;
mod send_clock;
mod sendmmsg;
mod slots;
mod socket_buffer;
mod soup;
mod stats;
mod store;
mod translate;

pub use books::{ApplyError, Level, RebuiltBook, RebuiltBooks, snapshot_levels};
pub use config::{DEFAULT_MAX_PACKET, FeedConfig, FeedConfigError, now_since_midnight_ns};
pub use glimpse_client::{GlimpseError, Snapshot, take_snapshot};
pub use handoff::FeedSubscriber;
pub use publish_on::{DEFAULT_AUTO_BUSY_GAP, DEFAULT_AUTO_INLINE_EVENTS, PublishOn};
pub use publisher::{Feed, FeedError};
pub use receiver::{
    DEFAULT_RECEIVE_BUFFER, FeedReceiver, ReceiverConfig, ReceiverError, ReceiverStats,
};
pub use rerequest::MAX_PACKETS_PER_REQUEST;
pub use stats::FeedStats;
pub use translate::{FeedInstrument, MessageSink, Translator};
