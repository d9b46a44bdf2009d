//! What a feed publishes, where, and its bounds.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ringbook::Uuid;
use ringbook_wire::itch::{ItchMessage, Stock};
use ringbook_wire::mold::{DOWNSTREAM_HEADER_LEN, Session};
use thiserror::Error;

use super::publish_on::{DEFAULT_AUTO_BUSY_GAP, DEFAULT_AUTO_INLINE_EVENTS, PublishOn};
use super::translate::FeedInstrument;

/// The default largest packet: fits a 1,500-byte Ethernet MTU with IP and UDP headers.
pub const DEFAULT_MAX_PACKET: usize = 1400;

/// A feed's configuration.
#[derive(Clone, Debug)]
pub struct FeedConfig {
    /// The MoldUDP64 session name (1 to 10 printable characters).
    pub session: String,
    /// Where downstream packets go (a unicast address, or a multicast group).
    pub destination: SocketAddr,
    /// Where the re-request server listens (`None`: no server).
    pub rerequest: Option<SocketAddr>,
    /// Where the GLIMPSE snapshot server listens (`None`: no server).
    pub glimpse: Option<SocketAddr>,
    /// The instruments in instruments-file order (locate codes from 1), with their
    /// symbols; an instrument without one is published as `I<locate>`.
    pub instruments: Vec<(Uuid, Option<String>)>,
    /// Each instrument's tick size in ITCH price units of $0.0001 (the OUCH symbols file's
    /// tick), so ITCH prices are the prices OUCH clients use; an instrument not listed has
    /// tick 1 (a price of `n` ticks is sent as `n`).
    pub ticks: HashMap<Uuid, u64>,
    /// The largest downstream packet, in bytes (header included).
    pub max_packet: usize,
    /// How long the feed may stay silent before it sends a heartbeat.
    pub heartbeat: Duration,
    /// How many of the latest messages the re-request server can send again.
    pub retransmit_capacity: usize,
    /// The ITCH timestamp (nanoseconds since midnight) of the engine's timestamp 0;
    /// `None`: now, UTC, taken when the feed starts (start the feed just before the engine).
    pub origin_ns: Option<u64>,
    /// Which thread publishes.
    pub publish_on: PublishOn,
    /// With [`PublishOn::Auto`], what makes a batch long: at least this many events that
    /// make messages. A batch after a long one that followed its predecessor within
    /// `auto_busy_gap` publishes this many inline and hands its rest to the feed thread;
    /// any other batch is published inline whole (a long batch after an idle wait is a
    /// stall, not load). 0: every batch after a busy one is handed over.
    pub auto_inline_events: usize,
    /// With [`PublishOn::Auto`], the longest wait between two batches of an event manager
    /// that counts as busy (flat out).
    pub auto_busy_gap: Duration,
    /// Keep every message in `<dir>/<session>.itch` too, so re-requests older than the
    /// in-memory buffer are answered (`None`: memory only).
    pub store_dir: Option<PathBuf>,
}

impl FeedConfig {
    /// A configuration with the defaults: 1,400-byte packets, a heartbeat after 1 s of
    /// silence, the latest 1,048,576 messages kept for retransmission, no servers.
    #[must_use]
    pub fn new(
        session: impl Into<String>,
        destination: SocketAddr,
        instruments: Vec<(Uuid, Option<String>)>,
    ) -> FeedConfig {
        FeedConfig {
            session: session.into(),
            destination,
            rerequest: None,
            glimpse: None,
            instruments,
            ticks: HashMap::new(),
            max_packet: DEFAULT_MAX_PACKET,
            heartbeat: Duration::from_secs(1),
            retransmit_capacity: 1 << 20,
            origin_ns: None,
            publish_on: PublishOn::default(),
            auto_inline_events: DEFAULT_AUTO_INLINE_EVENTS,
            auto_busy_gap: DEFAULT_AUTO_BUSY_GAP,
            store_dir: None,
        }
    }

    /// Checks the configuration and resolves the session, symbols and clock origin.
    pub(crate) fn resolve(&self) -> Result<Resolved, FeedConfigError> {
        let session = Session::new(&self.session).ok_or_else(|| FeedConfigError::BadSession {
            session: self.session.clone(),
        })?;
        let smallest = DOWNSTREAM_HEADER_LEN + 2 + ItchMessage::MAX_LEN;
        if self.max_packet < smallest || self.max_packet > 65_507 {
            return Err(FeedConfigError::BadPacketSize {
                max_packet: self.max_packet,
                min: smallest,
                max: 65_507,
            });
        }
        if self.instruments.len() > usize::from(u16::MAX) {
            return Err(FeedConfigError::TooManyInstruments {
                count: self.instruments.len(),
            });
        }
        if self.retransmit_capacity == 0 {
            return Err(FeedConfigError::NoRetransmitBuffer);
        }
        if self.heartbeat.is_zero() {
            return Err(FeedConfigError::ZeroHeartbeat);
        }
        let mut instruments = Vec::with_capacity(self.instruments.len());
        for (i, (id, symbol)) in self.instruments.iter().enumerate() {
            let name = symbol.clone().unwrap_or_else(|| format!("I{}", i + 1));
            let stock = Stock::new(&name).ok_or_else(|| FeedConfigError::BadSymbol {
                instrument: *id,
                symbol: name.clone(),
            })?;
            if let Some(first) = instruments
                .iter()
                .position(|f: &FeedInstrument| f.stock == stock)
            {
                return Err(FeedConfigError::DuplicateSymbol {
                    symbol: name,
                    first_locate: first + 1,
                    locate: i + 1,
                });
            }
            let tick = self.ticks.get(id).copied().unwrap_or(1);
            if tick == 0 || tick > u64::from(u32::MAX) {
                return Err(FeedConfigError::BadTick {
                    instrument: *id,
                    tick,
                });
            }
            instruments.push(FeedInstrument {
                id: *id,
                stock,
                tick,
            });
        }
        let origin_ns = self.origin_ns.unwrap_or_else(now_since_midnight_ns);
        Ok(Resolved {
            session,
            instruments,
            origin_ns,
        })
    }
}

/// A checked configuration's derived values.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) session: Session,
    pub(crate) instruments: Vec<FeedInstrument>,
    pub(crate) origin_ns: u64,
}

/// Nanoseconds since the last UTC midnight.
#[must_use]
pub fn now_since_midnight_ns() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let day = 86_400u128 * 1_000_000_000;
    u64::try_from(since_epoch % day).unwrap_or(0)
}

/// A configuration the feed refuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FeedConfigError {
    /// The session name is empty, too long or not printable.
    #[error("MoldUDP64 session {session:?} must be 1 to 10 printable characters without spaces")]
    BadSession {
        /// The name given.
        session: String,
    },
    /// A symbol ITCH's 8-byte Stock field cannot carry.
    #[error(
        "instrument {instrument}: symbol {symbol:?} must be 1 to 8 printable characters without spaces for ITCH"
    )]
    BadSymbol {
        /// The instrument.
        instrument: Uuid,
        /// The symbol.
        symbol: String,
    },
    /// Two instruments with one symbol.
    #[error("symbol {symbol:?} is used by locate {first_locate} and locate {locate}")]
    DuplicateSymbol {
        /// The symbol.
        symbol: String,
        /// The first instrument's locate code.
        first_locate: usize,
        /// The second's.
        locate: usize,
    },
    /// A packet size that cannot hold one message, or a datagram larger than UDP allows.
    #[error("max packet {max_packet} bytes is outside {min}..={max}")]
    BadPacketSize {
        /// The size given.
        max_packet: usize,
        /// The smallest that holds the longest message.
        min: usize,
        /// The largest UDP payload.
        max: usize,
    },
    /// More instruments than 16-bit locate codes.
    #[error("{count} instruments exceed ITCH's 65,535 locate codes")]
    TooManyInstruments {
        /// How many were given.
        count: usize,
    },
    /// A tick size of 0, or one no ITCH price can be a multiple of.
    #[error(
        "instrument {instrument}: tick size {tick} must be 1 to 4,294,967,295 ITCH price units"
    )]
    BadTick {
        /// The instrument.
        instrument: Uuid,
        /// The tick size given.
        tick: u64,
    },
    /// A retransmission buffer of 0 messages.
    #[error("the retransmission buffer must hold at least one message")]
    NoRetransmitBuffer,
    /// A heartbeat interval of 0.
    #[error("the heartbeat interval must be more than 0")]
    ZeroHeartbeat,
}
