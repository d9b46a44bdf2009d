//! `ringbook feed`: join an ITCH 5.0 / MoldUDP64 feed, optionally start from a GLIMPSE
//! snapshot, apply the stream (recovering gaps through the re-request server), show every
//! book's top of book, and with `--verify` compare the rebuilt books with a fresh GLIMPSE
//! snapshot at the end of the session.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Args;
use ringbook_gateway::feed::{FeedReceiver, ReceiverConfig, take_snapshot};

use crate::Failure;
use crate::feed_view::{render_tops, verify_against_snapshot};

/// Arguments of `ringbook feed`.
#[derive(Args, Debug)]
pub(crate) struct FeedArgs {
    /// Where to receive the MoldUDP64 packets (`127.0.0.1:0` picks a free port; a
    /// multicast group's address joins the group). A ready line `feed listening on ADDR`
    /// is printed once the socket is open.
    #[arg(long, value_name = "ADDR")]
    itch: SocketAddr,
    /// The GLIMPSE snapshot server: take a snapshot first, and join the live feed from it.
    #[arg(long, value_name = "ADDR")]
    glimpse: Option<SocketAddr>,
    /// The MoldUDP64 re-request server, asked for every missing message.
    #[arg(long, value_name = "ADDR")]
    rerequest: Option<SocketAddr>,
    /// At the end of the session, take a GLIMPSE snapshot (needs --glimpse) and compare it
    /// with the rebuilt books level by level and order by order; exit 1 on a difference.
    #[arg(long)]
    verify: bool,
    /// Give up (exit 1) if the session has not ended after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Redraw the top of book every this many milliseconds while the feed runs (default:
    /// 500 when stdout is a terminal, otherwise only the final view).
    #[arg(long, value_name = "MS")]
    refresh: Option<u64>,
    /// Drop every n-th datagram received, to exercise recovery.
    #[arg(long, value_name = "N")]
    drop_every: Option<u64>,
}

pub(crate) fn run(args: FeedArgs) -> Result<(), Failure> {
    if args.verify && args.glimpse.is_none() {
        return Err(Failure::malformed(
            "--verify needs --glimpse (the snapshot to compare with)",
        ));
    }
    let timeout = match args.timeout {
        Some(s) if !(s.is_finite() && s > 0.0) => {
            return Err(Failure::malformed(format!(
                "--timeout {s}: expected a positive number of seconds"
            )));
        }
        Some(s) => Some(Duration::from_secs_f64(s)),
        None => None,
    };
    if args.drop_every == Some(0) {
        return Err(Failure::malformed("--drop-every 0: expected at least 1"));
    }
    let mut config = ReceiverConfig::new(args.itch);
    config.rerequest = args.rerequest;
    config.glimpse = args.glimpse;
    config.drop_every = args.drop_every;
    let mut receiver = FeedReceiver::bind(config).map_err(|e| Failure::other(e.to_string()))?;
    println!("feed listening on {}", receiver.local_addr());
    let _ = std::io::stdout().flush();
    if args.glimpse.is_some() {
        receiver
            .snapshot()
            .map_err(|e| Failure::other(e.to_string()))?;
    }
    let refresh = args.refresh.map(Duration::from_millis).or_else(|| {
        std::io::stdout()
            .is_terminal()
            .then_some(Duration::from_millis(500))
    });
    let started = Instant::now();
    let mut drawn = Instant::now();
    while !receiver.is_complete() {
        if let Some(limit) = timeout
            && started.elapsed() >= limit
        {
            return Err(Failure::other(format!(
                "the feed session did not end within {:.3} s (next message {}, {:?})",
                limit.as_secs_f64(),
                receiver.next_seq(),
                receiver.stats()
            )));
        }
        receiver
            .poll(Duration::from_millis(10))
            .map_err(|e| Failure::other(e.to_string()))?;
        if let Some(every) = refresh
            && drawn.elapsed() >= every
        {
            drawn = Instant::now();
            print!("\x1b[2J\x1b[H{}", render_tops(receiver.books()));
            let _ = std::io::stdout().flush();
        }
    }
    print!("{}", render_tops(receiver.books()));
    let stats = receiver.stats();
    println!(
        "session {} ended: {} messages applied, {} datagrams ({} dropped on purpose), {} re-requests, {} snapshots",
        receiver
            .session()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        stats.applied,
        stats.datagrams,
        stats.dropped,
        stats.requests,
        stats.snapshots
    );
    if args.verify
        && let Some(addr) = args.glimpse
    {
        let snapshot = take_snapshot(addr, Duration::from_secs(10))
            .map_err(|e| Failure::other(e.to_string()))?;
        verify_against_snapshot(receiver.books(), receiver.next_seq(), &snapshot)
            .map_err(Failure::other)?;
        println!(
            "verify: every book equals the GLIMPSE snapshot at message {}",
            snapshot.next_seq
        );
    }
    Ok(())
}
