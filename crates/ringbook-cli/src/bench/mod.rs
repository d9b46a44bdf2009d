//! `ringbook bench`: the main job. Runs an embedded, generated workload through the full
//! pipeline (and, with `--baseline`, through the original channel-and-lock design in the
//! same process) and reports throughput and latency percentiles.

pub(crate) mod hgrm;
pub(crate) mod plot;
pub(crate) mod report;
mod sweep;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use clap::builder::RangedU64ValueParser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ringbook::flow::{Activity, MarketRegime};
use ringbook::journal::{JournalConfig, SyncPolicy};
use ringbook::{JournalOptions, Stages, WaitStrategy};
use ringbook_bench::harness::{
    EngineKind, MAX_INSTRUMENTS, MAX_ORDERS, MAX_RATE, RunOptions, RunReport, Workload,
    check_workload, run,
};

use crate::Failure;
use crate::engine_args::EngineArgs;

/// Arguments of `ringbook bench`.
#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// Instruments (one book each) in the generated workload, 1 to 65,536.
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_INSTRUMENTS)))]
    instruments: u32,
    /// Trade the instruments listed in this file instead (one id per line, optionally
    /// `id,symbol`; see `replay --instruments-file`), at most 65,536. Not with
    /// --instruments.
    #[arg(long, value_name = "PATH", conflicts_with = "instruments")]
    instruments_file: Option<PathBuf>,
    /// New orders in the workload; cancels, modifies and the rest come on top (about
    /// two commands per order). 1 to 10,000,000 (the workload is held in memory).
    #[arg(long, default_value_t = 500_000, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=MAX_ORDERS))]
    orders: u64,
    /// Offered load in commands per second, sent on a fixed schedule (open loop; each
    /// latency counts from the command's intended send time). Without it: closed loop,
    /// as fast as the engine takes commands. At most 100,000,000.
    #[arg(long, value_name = "R", value_parser = parse_rate)]
    rate: Option<f64>,
    /// Commands sent and fully answered before measuring; must be fewer than the
    /// workload's commands (about 1.9 per order), so something is measured.
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    warmup: usize,
    /// Closed loop: commands handed to the engine at a time (`submit_batch`, which claims
    /// the pipeline's ring slots for a batch at once and rings the sequencer once). 1
    /// (the default): one `submit` per command. 1 to 65,536; not with --rate or --sweep.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=65_536),
          conflicts_with_all = ["rate", "sweep"])]
    batch: u32,
    /// How the generated workload spreads its commands over the instruments: uniform
    /// (every instrument alike) or zipf (Zipf's law, exponent 1: the k-th instrument gets
    /// a share proportional to 1/k; of 10,000 the first carries about 10%, the first 100
    /// about half). Not with --market.
    #[arg(long, default_value_t = Activity::Uniform, value_name = "PROFILE",
          conflicts_with = "market")]
    activity: Activity,
    /// Run one instrument's market-shaped flow instead, in this regime: static, normal,
    /// swing-25, swing-40 or flash-crash (--orders new orders, about two commands each).
    /// Not with --instruments or --instruments-file.
    #[arg(long, value_name = "REGIME", conflicts_with_all = ["instruments", "instruments_file"])]
    market: Option<MarketRegime>,
    /// Mix the long form's order types into the generated workload (issue 22): 10% stops,
    /// 10% icebergs, owners with self-trade prevention on half the orders, rare mass
    /// cancels (see `ringbook gen --long-form`). Not with --market, --instruments-file or
    /// --baseline (the original design has none of them).
    #[arg(long, conflicts_with_all = ["market", "instruments_file", "baseline"])]
    long_form: bool,
    /// Seed of the generated workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also run the original design (a thread and channel per book, locks for routing
    /// and halts) on the same workload, and print the ratios.
    #[arg(long)]
    baseline: bool,
    /// Runs per engine, alternating engines (reported one by one and as the median), 1 to
    /// 1,000.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_REPEAT))]
    repeat: usize,
    /// Write a machine-readable summary here.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Also run the pipeline journaling every command (sync policy `none`, a scratch
    /// directory per run) on the same workload, and print its throughput against the
    /// pipeline without a journal.
    #[arg(long)]
    journal_compare: bool,
    /// Write one HdrHistogram percentile-distribution file (.hgrm) per run here.
    #[arg(long, value_name = "DIR")]
    hgrm_dir: Option<PathBuf>,
    /// Write an SVG plot of latency by percentile (log-scaled, one line per run).
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
    /// Pin the sending thread to this core. By default, an open-loop run on a machine with
    /// two or more cores pins the sender to the first core the engine threads do not use
    /// and gives both engines the other cores (a sender spinning on its schedule must not
    /// share a core with engine threads); a closed-loop run pins nothing.
    #[arg(long, value_name = "CORE")]
    sender_core: Option<usize>,
    /// Never pin the sender or the engines' threads unless asked (--cores, --sender-core).
    #[arg(long)]
    no_isolate: bool,
    /// Where the baseline's threads run: a core list (pinned round-robin, event manager
    /// first, then each book), or `os` to leave them to the scheduler as the original
    /// design does. Default: the same cores as ringbook's (--cores, or the open loop's
    /// isolation), for a like-for-like comparison.
    #[arg(long, value_name = "LIST|os", value_parser = parse_baseline_cores)]
    baseline_cores: Option<BaselineCores>,
    /// The latency-throughput curve: find the baseline's closed-loop capacity (the median
    /// of --repeat runs, placed as the open-loop runs: the sender on its core, the
    /// baseline on the others), then run both engines open loop (isolated as with --rate) at
    /// these percentages of it, --repeat times each, and print each engine's median
    /// percentiles by rate. Default 10,25,50,75,90; each above 0 and at most 100, at most
    /// 10 of them. Needs --baseline; not with --rate, --journal-compare, --plot or
    /// --hgrm-dir.
    #[arg(long, value_name = "PERCENTS", num_args = 0..=1,
          default_missing_value = sweep::DEFAULT_FRACTIONS, value_parser = sweep::fractions_arg,
          requires = "baseline",
          conflicts_with_all = ["rate", "journal_compare", "plot", "hgrm_dir"])]
    sweep: Option<sweep::Fractions>,
    /// Write the sweep's latency-throughput curve here as an SVG (x: offered rate, y:
    /// latency on a log scale, a line per engine and percentile: p50, p99, p99.9).
    #[arg(long, value_name = "PATH", requires = "sweep")]
    sweep_plot: Option<PathBuf>,
}

/// The most runs per engine `--repeat` takes.
const MAX_REPEAT: u64 = 1_000;

/// `--rate`: a positive, finite number of commands per second up to [`MAX_RATE`].
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= MAX_RATE => Ok(rate),
        _ => Err(format!(
            "expected a positive number of commands per second, at most {MAX_RATE}",
        )),
    }
}

/// `--baseline-cores`: pinned to a list, or left to the scheduler.
#[derive(Clone, Debug)]
enum BaselineCores {
    Pinned(Vec<usize>),
    Os,
}

fn parse_baseline_cores(text: &str) -> Result<BaselineCores, String> {
    match text.trim() {
        "os" => Ok(BaselineCores::Os),
        list => ringbook::parse_core_list(list)
            .map(BaselineCores::Pinned)
            .map_err(|e| e.to_string()),
    }
}

/// Where the sender and each engine's threads run: `(sender core, ringbook cores,
/// baseline cores)`.
fn placement(
    args: &BenchArgs,
    cores: Option<&Vec<usize>>,
    open_loop: bool,
) -> (Option<usize>, Option<Vec<usize>>, Vec<usize>) {
    let available = ringbook::available_cores();
    let engine = cores.cloned();
    let auto = !args.no_isolate && open_loop && available.len() >= 2;
    let sender = args.sender_core.or_else(|| {
        auto.then(|| {
            available
                .iter()
                .copied()
                .find(|c| engine.as_ref().is_none_or(|e| !e.contains(c)))
                .unwrap_or(available[0])
        })
    });
    let engine = engine.or_else(|| {
        let rest: Vec<usize> = available
            .iter()
            .copied()
            .filter(|&c| Some(c) != sender)
            .collect();
        (auto && !rest.is_empty()).then_some(rest)
    });
    let baseline = match &args.baseline_cores {
        Some(BaselineCores::Pinned(cores)) => cores.clone(),
        Some(BaselineCores::Os) => Vec::new(),
        None => engine.clone().unwrap_or_default(),
    };
    (sender, engine, baseline)
}

/// For a closed-loop comparison with nothing pinned, on a machine with two or more cores:
/// how to run the deployment the design draws (the book consumer on a core of its own),
/// whose throughput against the baseline differs from the default's.
fn pinning_hint(
    args: &BenchArgs,
    cores: Option<&Vec<usize>>,
    available: &[usize],
) -> Option<String> {
    let [first, second, ..] = available[..] else {
        return None;
    };
    let unpinned = cores.is_none() && args.sender_core.is_none();
    (args.baseline && args.rate.is_none() && unpinned).then(|| {
        format!(
            "note: nothing was pinned (the engine's default). The design's deployment gives the \
             book consumer a core of its own: add --cores {first},{second} --sender-core {first} \
             --baseline-cores os (BENCHMARKS.md reports both)"
        )
    })
}

/// A progress bar on stderr that appears only for a run longer than a second, and never
/// when stderr is not a terminal.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
}

impl Progress {
    fn new(label: &str, total: u64) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} commands ({eta})")
                .expect("a valid progress template")
                .progress_chars("=> "),
        );
        bar.set_message(label.to_string());
        Progress {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    fn update(&mut self, sent: u64) {
        if !self.shown
            && self.started.elapsed() > Duration::from_secs(1)
            && std::io::stderr().is_terminal()
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        self.bar.set_position(sent);
    }

    fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// A scratch journal directory for one journaled run, removed when dropped.
struct Scratch(Option<PathBuf>);

impl Scratch {
    fn for_engine(kind: &EngineKind, round: usize) -> Result<Scratch, Failure> {
        let EngineKind::Ringbook(config) = kind else {
            return Ok(Scratch(None));
        };
        if config.journal.is_none() {
            return Ok(Scratch(None));
        }
        let dir = std::env::temp_dir().join(format!(
            "ringbook-bench-journal-{}-{round}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Scratch(Some(dir)))
    }

    /// `kind` with its journal in this scratch directory.
    fn engine(&self, kind: &EngineKind) -> EngineKind {
        match (kind, &self.0) {
            (EngineKind::Ringbook(config), Some(dir)) => {
                let mut config = config.clone();
                if let Some(journal) = config.journal.as_mut() {
                    journal.dir = dir.clone();
                }
                EngineKind::Ringbook(config)
            }
            _ => kind.clone(),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Runs `kind` once on `workload` (`round` names its scratch journal), with a progress
/// bar labelled `label`.
fn measure(
    workload: &Workload,
    kind: &EngineKind,
    options: &RunOptions,
    label: &str,
    round: usize,
) -> Result<RunReport, Failure> {
    let mut progress = Progress::new(label, workload.commands.len() as u64);
    let scratch = Scratch::for_engine(kind, round)?;
    let kind = scratch.engine(kind);
    let report = run(workload, &kind, options, &mut |sent| progress.update(sent))
        .map_err(|e| Failure::other(format!("{label}: {e}")))?;
    progress.finish();
    drop(scratch);
    Ok(report)
}

pub(crate) fn run_bench(mut args: BenchArgs, engine: &EngineArgs) -> Result<(), Failure> {
    let named = match &args.instruments_file {
        Some(path) => {
            let ids = crate::replay::instruments_of_file(path)?;
            args.instruments = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            Some(ids)
        }
        None => None,
    };
    if args.market.is_some() {
        args.instruments = 1;
    }
    // The flags' parsers check these too; the library's checks are the rule.
    check_workload(args.instruments, args.orders).map_err(|e| {
        let from = args.instruments_file.as_ref();
        let source = from.map_or(String::new(), |p| format!(" (listed in {})", p.display()));
        Failure::other(format!("--{e}{source}"))
    })?;
    let mut options = RunOptions::default()
        .with_rate(args.rate)
        .with_warmup(args.warmup)
        .with_batch(args.batch as usize);
    options
        .check(usize::MAX)
        .map_err(|e| Failure::other(format!("--{e}")))?;
    let mut config = engine.config();
    let open_loop = args.rate.is_some() || args.sweep.is_some();
    let (sender_core, engine_cores, baseline_cores) =
        placement(&args, config.cores.as_ref(), open_loop);
    config.cores = engine_cores;
    config
        .validate(args.instruments as usize)
        .map_err(|e| Failure::other(e.to_string()))?;
    // The engine's cores are checked by `validate`; the sender's and the baseline's here.
    let available = ringbook::available_cores();
    let unavailable = |what: String| {
        Failure::other(format!(
            "{what} is not available to this process (allowed: {available:?})"
        ))
    };
    if let Some(core) = baseline_cores.iter().find(|c| !available.contains(c)) {
        return Err(unavailable(format!("--baseline-cores: core {core}")));
    }
    if let Some(core) = sender_core.filter(|c| !available.contains(c)) {
        return Err(unavailable(format!("--sender-core {core}")));
    }
    let generating = Instant::now();
    let workload = match (&named, args.market) {
        (_, Some(regime)) => Workload::market(args.seed, regime, args.orders),
        (Some(ids), None) => {
            Workload::generate_on_active(args.seed, ids, args.orders, args.activity)
        }
        (None, None) if args.long_form => Workload::generate_long_form(
            args.seed,
            args.instruments,
            args.orders,
            args.activity,
            ringbook::flow::LongFormMix::standard(),
        ),
        (None, None) => {
            Workload::generate_active(args.seed, args.instruments, args.orders, args.activity)
        }
    };
    let shape = match args.market {
        Some(regime) => format!(" (market regime {regime})"),
        None => format!(" ({} activity)", args.activity),
    };
    eprintln!(
        "workload{shape}: {} commands ({} orders) on {} instruments, seed {}, generated in {:.2} s",
        workload.commands.len(),
        args.orders,
        workload.instruments.len(),
        args.seed,
        generating.elapsed().as_secs_f64()
    );
    options.check(workload.commands.len()).map_err(|e| {
        Failure::other(format!(
            "--warmup {}: {e}; lower --warmup or raise --orders (now {})",
            args.warmup, args.orders
        ))
    })?;
    options.sender_core = sender_core;
    options.baseline_cores = baseline_cores;
    let mut engines = vec![EngineKind::Ringbook(config.clone())];
    if args.journal_compare {
        let mut journaled = config.clone();
        // A scratch directory per run, below.
        journaled.journal = Some(
            JournalOptions::new(PathBuf::new())
                .with_config(JournalConfig::default().with_sync(SyncPolicy::None)),
        );
        engines.push(EngineKind::Ringbook(journaled));
    }
    if args.baseline {
        engines.push(EngineKind::Baseline);
    }
    let setup = report::Setup {
        instruments: workload.instruments.len(),
        commands: workload.commands.len(),
        orders: args.orders,
        warmup: options.warmup,
        rate: args.rate,
        consumers: config.consumers.min(workload.instruments.len()),
        stages: {
            let layout = if config.fuses_stages(workload.instruments.len()) {
                Stages::Fused
            } else {
                Stages::Pipelined
            };
            match config.stages {
                Stages::Auto => format!("auto: {layout}"),
                _ => layout.to_string(),
            }
        },
        wait: match config.wait_strategy {
            WaitStrategy::Auto => {
                let used = config.effective_wait_strategies(workload.instruments.len());
                if used.windows(2).all(|pair| pair[0] == pair[1]) {
                    format!("auto: {}", used[0])
                } else {
                    let each: Vec<String> = used.iter().map(ToString::to_string).collect();
                    format!(
                        "auto: {} (sequencer, consumers, event manager)",
                        each.join(" / ")
                    )
                }
            }
            chosen => chosen.to_string(),
        },
        cores: config.cores.clone(),
        baseline_cores: args.baseline.then(|| options.baseline_cores.clone()),
        sender_core,
        seed: args.seed,
        activity: args.market.is_none().then(|| args.activity.to_string()),
        sweep: args.sweep.is_some(),
    };
    if let Some(fractions) = &args.sweep {
        let header = format!(
            "{}capacity runs: the baseline closed loop, placed as the sweep's open-loop runs above\n",
            report::header(&setup)
        );
        let mut round = 0;
        let mut measure = |kind: &EngineKind, options: &RunOptions, label: String| {
            round += 1;
            measure(&workload, kind, options, &label, round)
        };
        let result = sweep::run(fractions, args.repeat, &engines, &options, &mut measure)?;
        print!("{}", sweep::table(&header, &result, args.repeat));
        if let Some(path) = &args.json {
            std::fs::write(
                path,
                report::json_with(&setup, &[], Some(&sweep::json(&result))),
            )
            .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
        }
        if let Some(path) = &args.sweep_plot {
            let title = format!(
                "ringbook bench: latency by offered rate, {} instruments",
                setup.instruments
            );
            std::fs::write(path, sweep::plot(&title, &result))
                .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
        }
        return Ok(());
    }
    let mut runs: Vec<RunReport> = Vec::new();
    for round in 0..args.repeat {
        for kind in &engines {
            let label = if args.repeat > 1 {
                format!("{} #{}", kind.name(), round + 1)
            } else {
                kind.name().to_string()
            };
            runs.push(measure(&workload, kind, &options, &label, round)?);
        }
    }
    print!("{}", report::table(&setup, &runs));
    if let Some(hint) = pinning_hint(&args, config.cores.as_ref(), &available) {
        eprintln!("{hint}");
    }
    if let Some(path) = &args.json {
        std::fs::write(path, report::json(&setup, &runs))
            .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(dir) = &args.hgrm_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
        for (i, r) in runs.iter().enumerate() {
            let path = dir.join(format!("{}-{}.hgrm", i + 1, r.engine));
            std::fs::write(&path, hgrm::render(&r.histogram))
                .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    if let Some(path) = &args.plot {
        let series: Vec<plot::Series<'_>> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| plot::Series {
                label: if args.repeat > 1 {
                    format!("{} #{}", r.engine, i / engines.len() + 1)
                } else {
                    r.engine.to_string()
                },
                histogram: &r.histogram,
            })
            .collect();
        let title = format!(
            "ringbook bench: {} instruments, {}",
            setup.instruments,
            setup.load()
        );
        std::fs::write(path, plot::render(&title, &series))
            .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `ringbook bench`'s arguments alone.
    #[derive(Parser, Debug)]
    struct Bench {
        #[command(flatten)]
        args: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, String> {
        Bench::try_parse_from(std::iter::once("bench").chain(args.iter().copied()))
            .map(|b| b.args)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn activity_is_uniform_unless_asked_and_zipf_when_asked() {
        assert_eq!(parse(&[]).unwrap().activity, Activity::Uniform);
        let args = parse(&["--activity", "zipf", "--instruments", "10000"]).unwrap();
        assert_eq!((args.activity, args.instruments), (Activity::Zipf, 10_000));
    }

    #[test]
    fn an_unknown_activity_or_one_with_a_market_flow_is_refused() {
        let unknown = parse(&["--activity", "pareto"]).unwrap_err();
        assert!(
            unknown.contains("\"pareto\"") && unknown.contains("uniform or zipf"),
            "{unknown}"
        );
        let market = parse(&["--activity", "zipf", "--market", "normal"]).unwrap_err();
        assert!(market.contains("--market"), "{market}");
    }

    #[test]
    fn batch_is_one_unless_asked_and_refused_at_zero_or_with_a_rate() {
        assert_eq!(parse(&[]).unwrap().batch, 1);
        assert_eq!(parse(&["--batch", "32"]).unwrap().batch, 32);
        let zero = parse(&["--batch", "0"]).unwrap_err();
        assert!(zero.contains("--batch") && zero.contains('0'), "{zero}");
        let big = parse(&["--batch", "65537"]).unwrap_err();
        assert!(big.contains("65537"), "{big}");
        let rate = parse(&["--batch", "8", "--rate", "1000"]).unwrap_err();
        assert!(rate.contains("--rate"), "{rate}");
    }
}
