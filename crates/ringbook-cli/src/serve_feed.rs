//! `ringbook serve`'s market-data flags: publish every book as an ITCH 5.0 feed in
//! MoldUDP64 packets, with a re-request server and a GLIMPSE 5.0 snapshot server.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use clap::Args;
use ringbook_gateway::feed::{FeedConfig, PublishOn};
use ringbook_gateway::order_entry::SymbolTable;

use crate::Failure;

/// The feed's flags.
#[derive(Args, Debug)]
pub(crate) struct FeedFlags {
    /// Publish every book as ITCH 5.0 in MoldUDP64 packets sent to this address (a
    /// multicast group is supported; tests use 127.0.0.1). Locate codes follow the
    /// instruments file's order from 1; orders whose price ITCH cannot carry (or outside the
    /// file's band) are rejected at entry with Invalid Price.
    #[arg(long, value_name = "ADDR")]
    itch: Option<SocketAddr>,
    /// The MoldUDP64 session name (1 to 10 printable characters); needed with --itch.
    /// With --journal every message is also kept in DIR/itch/NAME.itch, so re-requests
    /// older than the in-memory buffer are answered; a session is published once, so a
    /// restart needs a new name.
    #[arg(long, value_name = "NAME", requires = "itch")]
    mold_session: Option<String>,
    /// Answer MoldUDP64 re-requests here (port 0 picks a free port; a ready line
    /// `rerequest listening on ADDR` is printed).
    #[arg(long, value_name = "ADDR", requires = "itch")]
    rerequest: Option<SocketAddr>,
    /// Serve GLIMPSE 5.0 snapshots over SoupBinTCP here (port 0 picks a free port; a
    /// ready line `glimpse listening on ADDR` is printed).
    #[arg(long, value_name = "ADDR", requires = "itch")]
    glimpse: Option<SocketAddr>,
    /// The largest MoldUDP64 packet in bytes (default 1,400, within an Ethernet MTU).
    #[arg(long, value_name = "BYTES", requires = "itch")]
    max_packet: Option<usize>,
    /// Publish from the feed's own thread instead of the engine's event manager thread
    /// (the default): the engine matches faster flat out, but every batch wakes one more
    /// thread, so fills reach receivers later where cores are short (docs/ITCH.md,
    /// "Which thread publishes").
    #[arg(long, requires = "itch")]
    feed_thread: bool,
    /// How long the feed's servers stay up after the engine stops, for late re-requests
    /// and a last snapshot.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    feed_linger: f64,
}

impl FeedFlags {
    /// The feed's configuration (`None` without --itch), after narrowing every listing's
    /// price band to what ITCH can carry.
    pub(crate) fn config(
        &self,
        symbols: &mut SymbolTable,
        journal: Option<&Path>,
    ) -> Result<Option<FeedConfig>, Failure> {
        if !(self.feed_linger.is_finite() && self.feed_linger >= 0.0) {
            return Err(Failure::malformed(format!(
                "--feed-linger {}: expected a number of seconds, 0 or more",
                self.feed_linger
            )));
        }
        let Some(destination) = self.itch else {
            return Ok(None);
        };
        let Some(session) = self.mold_session.clone() else {
            return Err(Failure::malformed("--itch needs --mold-session NAME"));
        };
        symbols.publish_on_itch().map_err(Failure::malformed)?;
        let listings: Vec<_> = symbols.in_file_order().copied().collect();
        let instruments = listings
            .iter()
            .map(|l| {
                let symbol = String::from_utf8_lossy(&l.symbol).trim_end().to_string();
                (l.instrument, Some(symbol))
            })
            .collect();
        let mut config = FeedConfig::new(session, destination, instruments);
        config.ticks = listings
            .iter()
            .map(|l| (l.instrument, l.scale.tick()))
            .collect();
        config.rerequest = self.rerequest;
        config.glimpse = self.glimpse;
        if let Some(max_packet) = self.max_packet {
            config.max_packet = max_packet;
        }
        if self.feed_thread {
            config.publish_on = PublishOn::FeedThread;
        }
        config.store_dir = journal.map(|dir| dir.join("itch"));
        Ok(Some(config))
    }

    /// How long to keep the feed up after the engine stops.
    pub(crate) fn linger(&self) -> Duration {
        Duration::from_secs_f64(self.feed_linger)
    }
}
