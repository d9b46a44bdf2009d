//! The protocols of Ringbook's network edge, as pure codecs: encode, decode and validate
//! byte buffers, with no I/O and no policy of their own. The sessions, sockets, timers and
//! output bounds live in `ringbook-gateway`, which is built on these codecs; the fuzz
//! targets `soup_frame`, `ouch_codec`, `itch_decode` and `mold_packet` run them
//! (docs/FUZZING.md).
//!
//! Every layout follows its public specification to the byte; each module names the
//! specification and the section it implements. Decoding never panics: malformed bytes
//! are an error that says what is wrong.
//!
//! - [`soup`]: SoupBinTCP 4.0, the session layer over TCP: the packet types
//!   ([`soup::PacketType`]), cutting a byte stream into packets ([`soup::frame`]), writing
//!   packets ([`soup::encode`]) and the login payloads ([`soup::login`]).
//! - [`ouch`]: OUCH 5.0, the order-entry messages carried by SoupBinTCP: what a client
//!   sends ([`ouch::inbound`]), what it receives ([`ouch::outbound`]), the Optional
//!   Appendage ([`ouch::Appendage`]) and the reason codes ([`ouch::reasons`]).
//! - [`itch`]: TotalView-ITCH 5.0, the market-by-order messages of the feed, a type per
//!   message, decoded by [`itch::ItchMessage::decode`]; [`itch::PriceBand`] is the range
//!   of prices the feed can carry, which order entry checks.
//! - [`mold`]: MoldUDP64, the feed's downstream packets ([`mold::Downstream`], built with
//!   [`mold::PacketBuilder`]) and retransmission requests ([`mold::Request`]).
//! - [`glimpse`]: GLIMPSE 5.0, the snapshot that joins a late reader to the feed: ITCH
//!   messages, then [`glimpse::EndOfSnapshot`] naming the feed's next sequence number;
//!   [`glimpse::GlimpseMessage::decode`] reads either.
//!
//! Each module re-exports its main types at its root (`ringbook_wire::itch::AddOrder`,
//! `ringbook_wire::mold::Request`, `ringbook_wire::soup::PacketType`, ...); `soup` and
//! `ouch` also make public the submodules a codec user reads by name (`soup::frame`,
//! `ouch::inbound`, ...).

pub mod glimpse;
pub mod itch;
pub mod mold;
pub mod ouch;
pub mod soup;
