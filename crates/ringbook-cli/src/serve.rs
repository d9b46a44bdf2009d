//! `ringbook serve`: the engine behind OUCH 5.0 order entry over SoupBinTCP 4.0.
//!
//! Prints `ouch listening on ADDR` when the listener is ready; SIGINT or SIGTERM stops it
//! gracefully: the engine drains (every event reaches its user's stream), every stream
//! gets System Event End of Day, every session what is left of its stream then End of
//! Session, and the streams (and the journal) are synced. The state hash of the books is
//! printed on stderr at the end. With `--itch` every book is also published as an ITCH
//! 5.0 feed (see `serve_feed.rs` and docs/ITCH.md).

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use ringbook::{OrderbookManagerService, OrderbookManagerServiceImpl};
use ringbook_gateway::feed::{Feed, FeedError, now_since_midnight_ns};
use ringbook_gateway::order_entry::{
    HopLog, OrderEntryConfig, OuchApp, OuchResponder, Registry, SymbolTable,
};
use ringbook_gateway::soup::{SessionConfig, SoupServer, Users};

use crate::Failure;
use crate::engine_args::EngineArgs;
use crate::journal_args::JournalArgs;
use crate::serve_feed::FeedFlags;
use crate::serve_signals;

/// Stamps kept by `--ouch-hops`, at most (two a new order: 2 M orders, 96 MiB).
const HOPS_BOUND: usize = 4 << 20;

/// `ringbook serve` flags.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// The symbols OUCH clients trade: `symbol,instrument[,tick]` a line (symbol up to 8
    /// characters; instrument a UUID or decimal integer; tick size in OUCH price units of
    /// $0.0001, default 1).
    #[arg(long, value_name = "FILE")]
    instruments_file: PathBuf,
    /// Listen for OUCH 5.0 over SoupBinTCP 4.0 here (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    ouch: SocketAddr,
    /// Check SoupBinTCP logins against this `username,password` file. Without it any
    /// login is accepted, and only a loopback address may be bound.
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// Leave a user's orders in the book when its session ends (by default they are
    /// canceled, Order Canceled reason `Z`).
    #[arg(long)]
    no_cancel_on_disconnect: bool,
    /// Close a session after this many seconds without a packet from the client.
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    idle_timeout: f64,
    /// Disconnect a client more than this many sequenced messages behind (it can log in
    /// again from its sequence number).
    #[arg(long, default_value_t = 1 << 20, value_name = "N")]
    max_lag: u64,
    /// The session reactor polls its sockets without blocking for this many microseconds
    /// after the last input before it blocks (0, the default: it blocks at once; spinning
    /// pays only with a core to spare).
    #[arg(long, default_value_t = 0, value_name = "MICROSECONDS")]
    ouch_spin_us: u64,
    /// Reactor threads serving the OUCH sessions (each session on one, in turn).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64), value_name = "N")]
    ouch_reactors: u16,
    /// Write a session's responses at once on the engine's event thread, instead of
    /// leaving them to the session's reactor (asked once per batch of engine events, the
    /// default).
    #[arg(long)]
    ouch_write_on_appender: bool,
    /// Diagnostic: stamp each new order's hops (read by its session, its engine event)
    /// on the monotonic clock and write them to this CSV file at the stop (joins with
    /// `ringbook client --hops`). Costs a lock and a clock read per stamp.
    #[arg(long, value_name = "FILE")]
    ouch_hops: Option<PathBuf>,
    #[command(flatten)]
    journal: JournalArgs,
    #[command(flatten)]
    feed: FeedFlags,
}

fn seconds(value: f64, flag: &str) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Failure::malformed(format!(
                "{flag}: {value} is not a positive number of seconds"
            ))
        })
}

/// Runs the server until SIGINT or SIGTERM.
pub(crate) fn run(args: ServeArgs, engine_args: &EngineArgs) -> Result<(), Failure> {
    serve_signals::block()
        .map_err(|e| Failure::other(format!("cannot block SIGINT/SIGTERM: {e}")))?;
    let symbols = SymbolTable::from_file(&args.instruments_file)
        .map_err(|e| Failure::malformed(e.to_string()))?;
    let users = match &args.users {
        Some(path) => Users::from_file(path).map_err(|e| Failure::malformed(e.to_string()))?,
        None => {
            if !args.ouch.ip().is_loopback() {
                return Err(Failure::other(format!(
                    "--ouch {}: without --users any login is accepted, so only a loopback address may be bound",
                    args.ouch
                )));
            }
            tracing::warn!("no --users file: any SoupBinTCP login is accepted");
            eprintln!("warning: no --users file: any login is accepted (loopback only)");
            Users::AnyLogin
        }
    };
    let session = SessionConfig {
        idle_timeout: seconds(args.idle_timeout, "--idle-timeout")?,
        max_lag: args.max_lag,
        poll_spin: Duration::from_micros(args.ouch_spin_us),
        reactors: usize::from(args.ouch_reactors),
        write_on_reactor: !args.ouch_write_on_appender,
        ..SessionConfig::default()
    };
    let mut symbols = symbols;
    let feed_config = args
        .feed
        .config(&mut symbols, args.journal.journal.as_deref())?;
    let store_dir = args.journal.journal.as_ref().map(|dir| dir.join("ouch"));
    let mut instruments: Vec<_> = symbols.instruments().collect();
    instruments.sort_unstable();
    let mut registry =
        Registry::new(symbols, store_dir).map_err(|e| Failure::other(e.to_string()))?;
    let hops = args
        .ouch_hops
        .as_ref()
        .map(|_| Arc::new(HopLog::new(HOPS_BOUND)));
    if let Some(log) = &hops {
        registry = registry.with_hops(Arc::clone(log));
    }
    let registry = Arc::new(registry);
    let mut config = engine_args.config();
    config.journal = args.journal.options();
    let feed = feed_config
        .as_ref()
        .map(Feed::start)
        .transpose()
        .map_err(|e| match e {
            FeedError::Config(_) | FeedError::Store { .. } => Failure::malformed(e.to_string()),
            _ => Failure::other(e.to_string()),
        })?;
    let mut builder = OrderbookManagerServiceImpl::builder(instruments)
        .config(config)
        .subscriber(OuchResponder::new(Arc::clone(&registry)));
    let feed = match feed {
        Some((feed, subscriber)) => {
            builder = builder.subscriber(subscriber);
            Some(feed)
        }
        None => None,
    };
    let engine = Arc::new(builder.build().map_err(|e| Failure::other(e.to_string()))?);
    if let Some(feed) = &feed {
        // The engine's clock starts at the end of build: ITCH timestamps from here.
        feed.set_origin_ns(now_since_midnight_ns());
    }
    if let Some(info) = engine.recovery().filter(|info| info.last_seq > 0) {
        eprintln!(
            "recovered: last seq {}, {} journal records replayed, state hash {:016x}",
            info.last_seq, info.replayed, info.state_hash
        );
    }
    engine.start().map_err(|e| Failure::other(e.to_string()))?;
    if feed.is_some() && engine.recovery().is_some_and(|info| info.last_seq > 0) {
        // The recovered books rest already: their snapshots, taken in sequence, seed the
        // feed (every resting order as an Add Order) before any new order is accepted.
        for instrument in registry.symbols().instruments() {
            engine
                .publish_orderbook_snapshot(instrument)
                .map_err(|e| Failure::other(e.to_string()))?;
        }
    }
    let listener = TcpListener::bind(args.ouch)
        .map_err(|e| Failure::other(format!("--ouch {}: {e}", args.ouch)))?;
    let app = OuchApp::new(
        Arc::clone(&engine) as Arc<dyn OrderbookManagerService>,
        Arc::clone(&registry),
        OrderEntryConfig {
            cancel_on_disconnect: !args.no_cancel_on_disconnect,
        },
    );
    let server = SoupServer::start(listener, Arc::new(app), Arc::new(users), session)
        .map_err(|e| Failure::other(format!("cannot start the OUCH server: {e}")))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ouch listening on {}", server.local_addr());
        if let Some(feed) = &feed {
            if let Some(addr) = feed.rerequest_addr() {
                let _ = writeln!(out, "rerequest listening on {addr}");
            }
            if let Some(addr) = feed.glimpse_addr() {
                let _ = writeln!(out, "glimpse listening on {addr}");
            }
        }
        let _ = out.flush();
    }
    let signal =
        serve_signals::wait().map_err(|e| Failure::other(format!("waiting for a signal: {e}")))?;
    tracing::info!(signal, "stopping");
    let stopped = engine.stop();
    let end_of_day = registry.end_of_day();
    server.shutdown();
    let synced = registry.sync_all();
    if let (Some(log), Some(path)) = (&hops, &args.ouch_hops) {
        log.write_csv(path)
            .map_err(|e| Failure::other(format!("--ouch-hops {}: {e}", path.display())))?;
        eprintln!("ouch hops: {} stamps in {}", log.len(), path.display());
    }
    if let Some(feed) = feed {
        // Receivers may still re-request the tail or take a last snapshot.
        std::thread::sleep(args.feed.linger());
        let stats = feed.shutdown();
        eprintln!(
            "feed: {} messages in {} packets, {} re-requests answered ({} messages), {} snapshots, {} orders not publishable",
            stats.messages,
            stats.packets,
            stats.rerequests,
            stats.retransmitted,
            stats.snapshots,
            stats.unpublishable
        );
    }
    stopped.map_err(|e| Failure::other(e.to_string()))?;
    end_of_day.map_err(|e| Failure::other(e.to_string()))?;
    synced.map_err(|e| Failure::other(e.to_string()))?;
    if let Some(hash) = engine.state_hash() {
        eprintln!("state hash: {hash:016x}");
    }
    Ok(())
}
