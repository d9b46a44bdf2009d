//! `ringbook client`: a load generator over OUCH 5.0. It logs in N sessions, sends a
//! generated flow (the `gen` flow, or a market regime) open loop at a rate, and measures
//! wire-to-wire latency: from each enter's (or replace's) intended send time to its Order
//! Accepted (Order Replaced, Rejected) read by the client, in an HdrHistogram with the
//! percentile table, `.hgrm` and plot options of `bench`.

mod drive;
mod plan;
mod session;
mod sys;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use hdrhistogram::Histogram;
use ringbook::Command;
use ringbook::flow::{
    FlowGenerator, FlowReader, GenConfig, MarketConfig, MarketGenerator, MarketRegime,
};
use ringbook_gateway::order_entry::SymbolTable;

use crate::Failure;
use crate::bench::report::{PERCENTILES, latency, si};
use crate::bench::{hgrm, plot};

/// `ringbook client` flags.
#[derive(Args, Debug)]
pub(crate) struct ClientArgs {
    /// The OUCH server (`ringbook serve --ouch`).
    #[arg(long, value_name = "ADDR")]
    ouch: SocketAddr,
    /// The server's symbols file: the flow's instruments are mapped onto its symbols.
    #[arg(long, value_name = "FILE")]
    instruments_file: PathBuf,
    /// Sessions (logins `<user>1` ... `<user>N`); every op on one order goes through the
    /// same session.
    #[arg(long, default_value_t = 1, value_name = "N")]
    sessions: usize,
    /// The username prefix (at most 4 characters, so that `<user>N` fits the 6 of
    /// SoupBinTCP up to 99 sessions).
    #[arg(long, default_value = "load", value_name = "NAME")]
    user: String,
    /// The password of every session.
    #[arg(long, default_value = "", value_name = "TEXT")]
    password: String,
    /// New orders in the flow.
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    orders: u64,
    /// Instruments of the `gen` flow.
    #[arg(long, default_value_t = 4, value_name = "N")]
    instruments: u32,
    /// A market regime's flow instead of the `gen` flow: static, normal, swing-25,
    /// swing-40, flash-crash.
    #[arg(long, value_name = "REGIME", conflicts_with = "flow")]
    market: Option<MarketRegime>,
    /// Send this flow file (any `ringbook gen` output, see docs/FLOW-FORMAT.md) instead
    /// of generating one.
    #[arg(long, value_name = "PATH")]
    flow: Option<PathBuf>,
    /// The flow's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Messages per second over all sessions, open loop (each sent at its intended
    /// time); without it, as fast as the sessions can write.
    #[arg(long, value_name = "R")]
    rate: Option<f64>,
    /// How the sender waits for each message's time: `yield` (the default: yields the
    /// core in a loop, so it is never idle and a wake-up never lands on a halted core;
    /// any thread that needs the core gets it) or `sleep` (the core is free meanwhile).
    /// BENCHMARKS.md, "Order entry", has both measured.
    #[arg(long, value_enum, default_value = "yield", value_name = "HOW")]
    pace: drive::Pacing,
    /// Write the latency distribution as an HdrHistogram .hgrm file here.
    #[arg(long, value_name = "DIR")]
    hgrm_dir: Option<PathBuf>,
    /// Write an SVG plot of latency by percentile here.
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
    /// Diagnostic: write each answered order's times here as CSV (user, UserRefNum,
    /// intended send, sent, first response read; ns of the machine's monotonic clock, so
    /// they join `ringbook serve --ouch-hops` order by order).
    #[arg(long, value_name = "FILE")]
    hops: Option<PathBuf>,
}

fn commands(args: &ClientArgs) -> Result<Box<dyn Iterator<Item = Command>>, Failure> {
    if let Some(path) = &args.flow {
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::other(format!("{}: {e}", path.display())))?;
        let mut reader = FlowReader::new(std::io::BufReader::new(file));
        let mut commands = Vec::new();
        while let Some((_, command)) = reader
            .next_command()
            .map_err(|e| Failure::malformed(format!("{}: {e}", path.display())))?
        {
            commands.push(command);
        }
        return Ok(Box::new(commands.into_iter()));
    }
    Ok(match args.market {
        Some(regime) => Box::new(MarketGenerator::new(MarketConfig {
            seed: args.seed,
            regime,
            orders: args.orders,
            ..MarketConfig::default()
        })),
        None => Box::new(FlowGenerator::new(GenConfig::new(
            args.seed,
            args.instruments.max(1),
            args.orders,
        ))),
    })
}

/// Runs the load and prints the table.
pub(crate) fn run(args: ClientArgs) -> Result<(), Failure> {
    if args.sessions == 0 || args.sessions > 99 {
        return Err(Failure::malformed("--sessions: expected 1 to 99"));
    }
    if args.user.is_empty() || args.user.len() > 4 {
        return Err(Failure::malformed("--user: expected 1 to 4 characters"));
    }
    if let Some(rate) = args.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(Failure::malformed(format!(
            "--rate: {rate} is not a positive number"
        )));
    }
    let symbols = SymbolTable::from_file(&args.instruments_file)
        .map_err(|e| Failure::malformed(e.to_string()))?;
    let plan = plan::plan(commands(&args)?, args.sessions, &symbols);
    let mut connected = Vec::with_capacity(args.sessions);
    for i in 0..args.sessions {
        let user = format!("{}{}", args.user, i + 1);
        connected.push(
            session::connect(args.ouch, &user, &args.password)
                .map_err(|e| Failure::other(format!("session {user}: {e}")))?,
        );
    }
    let interval = args
        .rate
        .map(|r| Duration::from_secs_f64(args.sessions as f64 / r));
    let mut outgoing = Vec::with_capacity(args.sessions);
    let mut incoming = Vec::with_capacity(args.sessions);
    for (c, p) in connected.into_iter().zip(plan.sessions) {
        let (o, i) =
            session::split(c, p, args.hops.is_some()).map_err(|e| Failure::other(e.to_string()))?;
        outgoing.push(o);
        incoming.push(i);
    }
    let start = Instant::now();
    let start_ns = ringbook_gateway::soup::monotonic_ns();
    let epoch = start + Duration::from_millis(20);
    let epoch_ns = start_ns + 20_000_000;
    let sent_all = AtomicBool::new(false);
    let (paced, received) = std::thread::scope(|scope| {
        let receiver = std::thread::Builder::new()
            .name("client-recv".into())
            .spawn_scoped(scope, || drive::receive(&mut incoming, &sent_all, epoch));
        let paced = drive::pace(&mut outgoing, interval, epoch, args.pace);
        sent_all.store(true, Ordering::Release);
        let received = match receiver {
            Ok(handle) => handle
                .join()
                .map_err(|_| Failure::other("the receiver thread panicked"))
                .and_then(|r| r.map_err(|e| Failure::other(format!("receiving: {e}")))),
            Err(e) => Err(Failure::other(format!("cannot start the receiver: {e}"))),
        };
        (paced, received)
    });
    paced.map_err(|e| Failure::other(format!("sending: {e}")))?;
    received?;
    let sent: u64 = outgoing.iter().map(session::Outgoing::sent).sum();
    let enters: u64 = outgoing.iter().map(session::Outgoing::enters).sum();
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    let mut lateness =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    let (mut answered, mut rejected) = (0, 0);
    let mut last = epoch;
    for i in &incoming {
        histogram
            .add(&i.histogram)
            .map_err(|e| Failure::other(e.to_string()))?;
        answered += i.answered;
        rejected += i.rejected;
        last = last.max(i.last_response.unwrap_or(epoch));
    }
    for o in &outgoing {
        lateness
            .add(&o.lateness)
            .map_err(|e| Failure::other(e.to_string()))?;
    }
    // From the first intended send to the last response read.
    let elapsed = last.saturating_duration_since(epoch).as_secs_f64();
    let offered = args.rate.map_or_else(
        || "as fast as possible".to_string(),
        |r| format!("{}/s offered", si(r)),
    );
    println!(
        "ringbook client: {} session(s), {sent} messages sent ({enters} new orders; {} flow ops skipped: not expressible in OUCH), {offered}",
        args.sessions, plan.skipped
    );
    println!(
        "latency: each enter or replace, from its intended send time to its Accepted, Replaced or Rejected read by the client"
    );
    print!(
        "{:<10} {:>12} {:>12} {:>10}",
        "sessions", "orders/s", "messages/s", "answered"
    );
    for (label, _) in PERCENTILES {
        print!(" {label:>10}");
    }
    println!(" {:>10}", "max");
    print!(
        "{:<10} {:>12} {:>12} {:>10}",
        args.sessions,
        si(enters as f64 / elapsed).replace(' ', ""),
        si(sent as f64 / elapsed).replace(' ', ""),
        answered
    );
    for (_, q) in PERCENTILES {
        print!(" {:>10}", latency(histogram.value_at_quantile(q)));
    }
    println!(" {:>10}", latency(histogram.max()));
    if rejected > 0 {
        println!("{rejected} orders rejected");
    }
    if !lateness.is_empty() {
        // The client's own share: how late its sends left after their intended times.
        println!(
            "send lateness: p50 {}, p99 {}, p99.9 {}, max {}",
            latency(lateness.value_at_quantile(0.5)),
            latency(lateness.value_at_quantile(0.99)),
            latency(lateness.value_at_quantile(0.999)),
            latency(lateness.max())
        );
    }
    if let Some(path) = &args.hops {
        write_hops(path, &args.user, &incoming, epoch_ns)
            .map_err(|e| Failure::other(format!("--hops {}: {e}", path.display())))?;
    }
    if let Some(dir) = &args.hgrm_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(format!("client-{}s.hgrm", args.sessions));
        std::fs::write(&path, hgrm::render(&histogram))
            .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(path) = &args.plot {
        let series = [plot::Series {
            label: format!("{} session(s)", args.sessions),
            histogram: &histogram,
        }];
        let title = format!("ringbook client: wire-to-wire latency, {offered}");
        std::fs::write(path, plot::render(&title, &series))
            .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// Writes every session's answered orders' times (see `--hops`).
fn write_hops(
    path: &std::path::Path,
    user: &str,
    incoming: &[session::Incoming],
    epoch_ns: u64,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "user,user_ref_num,intended_ns,sent_ns,read_ns")?;
    for (i, session) in incoming.iter().enumerate() {
        for [urn, intended, sent, read] in session.hops.iter().flatten() {
            writeln!(
                out,
                "{user}{},{urn},{},{},{}",
                i + 1,
                epoch_ns + intended,
                epoch_ns + sent,
                epoch_ns + read
            )?;
        }
    }
    out.flush()
}
