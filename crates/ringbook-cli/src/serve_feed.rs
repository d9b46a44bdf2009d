//! `ringbook serve`'s market-data flags: publish every book as an ITCH 5.0 feed in
//! MoldUDP64 packets, with a re-request server and a GLIMPSE 5.0 snapshot server.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use clap::{Args, ValueEnum};
use ringbook_gateway::feed::{FeedConfig, PublishOn};
use ringbook_gateway::order_entry::SymbolTable;

use crate::Failure;

/// `--feed-publish`: which thread publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FeedPublish {
    /// Batch by batch: small ones inline, large ones on the feed's thread.
    Auto,
    /// Always inline, on the engine's event manager thread.
    Inline,
    /// Always on the feed's own thread.
    Thread,
}

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
    /// Which thread publishes: `auto` (the default) publishes small batches inline on
    /// the engine's event manager thread (the lowest latency) and hands large ones to the
    /// feed's own thread (the engine's top rate); `inline` and `thread` always do one or
    /// the other (docs/ITCH.md, "Which thread publishes").
    #[arg(long, value_enum, value_name = "WHERE", requires = "itch")]
    feed_publish: Option<FeedPublish>,
    /// The same as `--feed-publish thread` (kept for scripts that use it).
    #[arg(long, requires = "itch", conflicts_with = "feed_publish")]
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
        config.publish_on = self.publish_on();
        config.store_dir = journal.map(|dir| dir.join("itch"));
        Ok(Some(config))
    }

    /// Which thread publishes, from `--feed-publish` (or `--feed-thread`).
    fn publish_on(&self) -> PublishOn {
        match (self.feed_publish, self.feed_thread) {
            (Some(FeedPublish::Thread), _) | (None, true) => PublishOn::FeedThread,
            (Some(FeedPublish::Inline), _) => PublishOn::EventManager,
            (Some(FeedPublish::Auto), _) | (None, false) => PublishOn::Auto,
        }
    }

    /// How long to keep the feed up after the engine stops.
    pub(crate) fn linger(&self) -> Duration {
        Duration::from_secs_f64(self.feed_linger)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        feed: FeedFlags,
    }

    fn publish_on(args: &[&str]) -> Result<PublishOn, clap::Error> {
        let mut argv = vec!["serve", "--itch", "127.0.0.1:9"];
        argv.extend_from_slice(args);
        Flags::try_parse_from(argv).map(|f| f.feed.publish_on())
    }

    #[test]
    fn feed_publish_chooses_the_thread_and_defaults_to_auto() {
        assert_eq!(publish_on(&[]).unwrap(), PublishOn::Auto);
        let cases = [
            ("auto", PublishOn::Auto),
            ("inline", PublishOn::EventManager),
            ("thread", PublishOn::FeedThread),
        ];
        for (value, expected) in cases {
            assert_eq!(publish_on(&["--feed-publish", value]).unwrap(), expected);
        }
        assert_eq!(
            publish_on(&["--feed-thread"]).unwrap(),
            PublishOn::FeedThread
        );
    }

    #[test]
    fn feed_publish_refuses_an_unknown_value_and_a_second_choice() {
        let unknown = publish_on(&["--feed-publish", "both"])
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("both") && unknown.contains("auto"),
            "{unknown}"
        );
        let twice = publish_on(&["--feed-publish", "inline", "--feed-thread"])
            .unwrap_err()
            .to_string();
        assert!(twice.contains("--feed-thread"), "{twice}");
    }
}
