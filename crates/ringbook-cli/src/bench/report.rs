//! The bench's outputs: the table on stdout and the JSON summary.

use std::fmt::Write;

use ringbook_bench::harness::{RunReport, StageCpu};

/// What was run, for the headers.
pub(crate) struct Setup {
    pub(crate) instruments: usize,
    pub(crate) commands: usize,
    pub(crate) orders: u64,
    pub(crate) warmup: usize,
    pub(crate) rate: Option<f64>,
    pub(crate) consumers: usize,
    /// `fused` or `pipelined`, as the engine resolved its stages.
    pub(crate) stages: String,
    pub(crate) wait: String,
    pub(crate) cores: Option<Vec<usize>>,
    /// The baseline's cores when it runs (empty: left to the scheduler).
    pub(crate) baseline_cores: Option<Vec<usize>>,
    pub(crate) sender_core: Option<usize>,
    pub(crate) seed: u64,
    /// The workload's activity profile (`uniform` or `zipf`; `null` in the JSON for a
    /// market flow).
    pub(crate) activity: Option<String>,
    /// A `--sweep`: open loop at several rates.
    pub(crate) sweep: bool,
}

impl Setup {
    /// `closed loop`, `open loop at R commands/s` or `open-loop sweep`.
    pub(crate) fn load(&self) -> String {
        match self.rate {
            None if self.sweep => "open-loop sweep".into(),
            None => "closed loop".into(),
            Some(r) => format!("open loop at {} commands/s", si(r)),
        }
    }
}

/// The percentiles every report shows, as (label, quantile).
pub(crate) const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("p99.99", 0.9999),
];

/// `1.23 M`, `456 k`.
pub(crate) fn si(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.1} k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// A latency in ns as `850 ns`, `12.3 us`, `4.56 ms`.
pub(crate) fn latency(ns: u64) -> String {
    let ns = ns as f64;
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} us", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The median of `values` (the mean of the middle two for an even count); `values` must
/// not be empty.
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The table's first line: the workload, the load and where the threads run.
pub(crate) fn header(setup: &Setup) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ringbook bench: {} instruments, {} commands ({} orders, {} warm-up), {}, {} consumer(s), {} stages, wait {}{}",
        setup.instruments,
        setup.commands,
        setup.orders,
        setup.warmup,
        setup.load(),
        setup.consumers,
        setup.stages,
        setup.wait,
        setup
            .cores
            .as_ref()
            .map(|c| format!(", engine cores {c:?}"))
            .unwrap_or_default()
            + &setup
                .sender_core
                .map(|c| format!(", sender on core {c}"))
                .unwrap_or_default()
            + &match setup.baseline_cores.as_deref() {
                Some([]) if setup.cores.is_some() => ", baseline cores left to the OS".into(),
                Some(c) if !c.is_empty() && setup.cores.as_deref() != Some(c) => {
                    format!(", baseline cores {c:?}")
                }
                _ => String::new(),
            }
    );
    out
}

/// The stdout table: one row per run, then the ratios against the baseline.
pub(crate) fn table(setup: &Setup, runs: &[RunReport]) -> String {
    let mut out = header(setup);
    let _ = writeln!(
        out,
        "latency: each new order, from its intended send time to its first event at the event manager"
    );
    let _ = write!(out, "{:<16} {:>14}", "engine", "commands/s");
    for (label, _) in PERCENTILES {
        let _ = write!(out, " {label:>10}");
    }
    let _ = writeln!(out, " {:>10}", "max");
    for r in runs {
        let _ = write!(out, "{:<16} {:>14}", r.engine, si(r.throughput_per_s));
        for (_, q) in PERCENTILES {
            let _ = write!(out, " {:>10}", latency(r.histogram.value_at_quantile(q)));
        }
        let _ = writeln!(out, " {:>10}", latency(r.histogram.max()));
    }
    let of = |engine: &str, f: &dyn Fn(&RunReport) -> f64| -> Option<f64> {
        let v: Vec<f64> = runs.iter().filter(|r| r.engine == engine).map(f).collect();
        (!v.is_empty()).then(|| median(v))
    };
    let throughput = |r: &RunReport| r.throughput_per_s;
    let p99 = |r: &RunReport| r.histogram.value_at_quantile(0.99) as f64;
    let cpu = |r: &RunReport| r.cpu_per_command();
    let medians = if runs.len() > 2 { " (medians)" } else { "" };
    for (a, b) in [("ringbook", "baseline"), ("ringbook+journal", "ringbook")] {
        if let (Some(at), Some(bt), Some(ap), Some(bp)) = (
            of(a, &throughput),
            of(b, &throughput),
            of(a, &p99),
            of(b, &p99),
        ) {
            let cpu_ratio = match (of(a, &cpu), of(b, &cpu)) {
                // Open loop, the CPU time is mostly waiting (the sender's pacing, the
                // threads' spins): no measure of the engines' costs.
                (Some(ac), Some(bc)) if setup.rate.is_none() && ac > 0.0 && bc > 0.0 => {
                    format!(", cpu per command {:.2}x", ac / bc)
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{a} / {b}{medians}: throughput {:.2}x, p99 latency {:.2}x{cpu_ratio}",
                at / bt,
                ap / bp.max(1.0)
            );
        }
    }
    out.push_str(&cpu_table(runs, setup.rate.is_some()));
    out.push_str(&backpressure_table(runs));
    out
}

/// Each pipeline run's full-ring waits (expected backpressure, not an error), one line a
/// run; nothing when no run has rings (the baseline alone).
fn backpressure_table(runs: &[RunReport]) -> String {
    let mut out = String::new();
    for r in runs {
        if let Some(backpressure) = &r.backpressure {
            let _ = writeln!(out, "{:<16} {backpressure}", r.engine);
        }
    }
    out
}

/// A run's full-ring waits as a JSON object (`null` for the baseline).
fn backpressure_json(run: &RunReport) -> String {
    let Some(b) = &run.backpressure else {
        return "null".into();
    };
    let ring = |name: &str, waits: &ringbook::RingWaits| {
        format!(
            "\"{name}\": {{\"waits\": {}, \"longest_ns\": {}}}",
            waits.waits,
            waits.longest.as_nanos()
        )
    };
    format!(
        "{{{}, {}, {}}}",
        ring("ingress", &b.ingress),
        ring("inbound", &b.inbound),
        ring("outbound", &b.outbound)
    )
}

/// A figure of one stage in one run.
type StageFigure = fn(&RunReport, &StageCpu) -> f64;

/// The stage's CPU time per command, ns.
fn cpu_ns(run: &RunReport, stage: &StageCpu) -> f64 {
    run.per_command(stage.cpu)
}

/// How many times the stage's threads were put on a CPU, per 1,000 commands.
fn scheduled_per_1000(run: &RunReport, stage: &StageCpu) -> f64 {
    stage.slices as f64 * 1000.0 / run.commands.max(1) as f64
}

/// The stage's minor page faults (first touches of memory), per 1,000 commands.
fn faults_per_1000(run: &RunReport, stage: &StageCpu) -> f64 {
    stage.faults as f64 * 1000.0 / run.commands.max(1) as f64
}

/// The stage's time runnable but waiting for a core, ns per command.
fn waiting_ns(run: &RunReport, stage: &StageCpu) -> f64 {
    run.per_command(stage.runqueue)
}

/// One run's figure for each stage, as the body of a JSON object.
fn stage_map(run: &RunReport, figure: StageFigure, decimals: usize) -> String {
    run.stages
        .iter()
        .map(|s| format!("\"{}\": {:.decimals$}", s.stage, figure(run, s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// CPU time per command by stage, the median of each engine's runs: which stage
/// saturates, and the engines' costs without the machine's noise in them. Under each
/// engine's row: how often each stage was put on a CPU (per 1,000 commands: a stage that
/// sleeps and wakes for every few commands spends its time switching), and how long it was
/// runnable but waited for a CPU (per command: threads queued on one core while the other
/// idles, or the machine is oversubscribed), and its page faults (per 1,000 commands: memory
/// touched for the first time in the measured part, which the kernel maps and zeroes).
/// Empty where the system does not report thread CPU time.
fn cpu_table(runs: &[RunReport], open_loop: bool) -> String {
    let mut out = String::new();
    let mut engines: Vec<&str> = Vec::new();
    for r in runs.iter().filter(|r| !r.stages.is_empty()) {
        if !engines.contains(&r.engine) {
            engines.push(r.engine);
        }
    }
    if engines.is_empty() {
        return out;
    }
    let repeated = runs.iter().filter(|r| r.engine == engines[0]).count() > 1;
    let _ = writeln!(
        out,
        "cpu per command, ns (thread CPU time over the measured part / commands{}{}):",
        if repeated { "; runs' medians" } else { "" },
        if open_loop {
            "; open loop, this counts the sender's pacing and threads spinning for work"
        } else {
            ""
        }
    );
    for engine in engines {
        let mine: Vec<&RunReport> = runs.iter().filter(|r| r.engine == engine).collect();
        let mut stages: Vec<&str> = Vec::new();
        for r in &mine {
            for s in &r.stages {
                if !stages.contains(&s.stage.as_str()) {
                    stages.push(&s.stage);
                }
            }
        }
        // One row: each stage's figure, the median over the engine's runs.
        let row = |out: &mut String, label: &str, figure: StageFigure, decimals: usize| {
            let _ = write!(out, "{label:<16}");
            for stage in &stages {
                let value = median(
                    mine.iter()
                        .map(|r| {
                            r.stages
                                .iter()
                                .find(|s| s.stage == *stage)
                                .map_or(0.0, |s| figure(r, s))
                        })
                        .collect(),
                );
                let _ = write!(out, " {stage} {value:.decimals$}");
            }
        };
        row(&mut out, engine, cpu_ns, 0);
        let total = median(mine.iter().map(|r| r.cpu_per_command()).collect());
        let busy = median(
            mine.iter()
                .map(|r| {
                    r.stages.iter().map(|s| s.cpu.as_secs_f64()).sum::<f64>()
                        / r.elapsed.as_secs_f64()
                })
                .collect(),
        );
        let _ = writeln!(out, " | total {total:.0} ({busy:.2} cores busy)");
        row(&mut out, "  scheduled in", scheduled_per_1000, 1);
        let _ = writeln!(out, " | per 1,000 commands");
        row(&mut out, "  cpu wait", waiting_ns, 0);
        let _ = writeln!(out, " | ns per command runnable but waiting for a core");
        row(&mut out, "  page faults", faults_per_1000, 1);
        let _ = writeln!(
            out,
            " | per 1,000 commands (first touches of memory the kernel maps and zeroes)"
        );
    }
    out
}

/// The JSON summary: `{"runs": [{"engine", "orders", "throughput_per_s", "p50_ns", ...}]}`
/// plus the setup.
pub(crate) fn json(setup: &Setup, runs: &[RunReport]) -> String {
    json_with(setup, runs, None)
}

/// [`json`], with `"sweep": SWEEP` after the runs when given (and no `"runs"` then if
/// there are none: a sweep's figures are its own).
pub(crate) fn json_with(setup: &Setup, runs: &[RunReport], sweep: Option<&str>) -> String {
    let mut out = String::from("{\n");
    let _ = write!(
        out,
        "  \"setup\": {{\"instruments\": {}, \"commands\": {}, \"orders\": {}, \"warmup\": {}, \"rate\": {}, \"consumers\": {}, \"stages\": \"{}\", \"wait\": \"{}\", \"cores\": {}, \"baseline_cores\": {}, \"sender_core\": {}, \"seed\": {}, \"activity\": {}}}",
        setup.instruments,
        setup.commands,
        setup.orders,
        setup.warmup,
        setup.rate.map_or("null".to_string(), |r| format!("{r}")),
        setup.consumers,
        setup.stages,
        setup.wait,
        setup
            .cores
            .as_ref()
            .map_or("null".to_string(), |c| format!("{c:?}")),
        setup
            .baseline_cores
            .as_ref()
            .map_or("null".to_string(), |c| format!("{c:?}")),
        setup
            .sender_core
            .map_or("null".to_string(), |c| c.to_string()),
        setup.seed,
        setup
            .activity
            .as_ref()
            .map_or("null".to_string(), |a| format!("\"{a}\""))
    );
    if !(runs.is_empty() && sweep.is_some()) {
        out.push_str(",\n  \"runs\": [\n");
        for (i, r) in runs.iter().enumerate() {
            let h = &r.histogram;
            let _ = write!(
                out,
                "    {{\"engine\": \"{}\", \"orders\": {}, \"commands\": {}, \"elapsed_s\": {:.6}, \"throughput_per_s\": {:.1}, \"mean_ns\": {:.1}, \"p50_ns\": {}, \"p90_ns\": {}, \"p99_ns\": {}, \"p999_ns\": {}, \"p9999_ns\": {}, \"max_ns\": {}, \"cpu_ns_per_command\": {{{}}}, \"scheduled_in_per_1000_commands\": {{{}}}, \"waiting_for_cpu_ns_per_command\": {{{}}}, \"page_faults_per_1000_commands\": {{{}}}, \"full_ring_waits\": {}}}",
                r.engine,
                r.orders,
                r.commands,
                r.elapsed.as_secs_f64(),
                r.throughput_per_s,
                h.mean(),
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.9),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.value_at_quantile(0.9999),
                h.max(),
                stage_map(r, cpu_ns, 1),
                stage_map(r, scheduled_per_1000, 2),
                stage_map(r, waiting_ns, 1),
                stage_map(r, faults_per_1000, 1),
                backpressure_json(r),
            );
            out.push_str(if i + 1 < runs.len() { ",\n" } else { "\n" });
        }
        out.push_str("  ]");
    }
    if let Some(sweep) = sweep {
        let _ = write!(out, ",\n  \"sweep\": {sweep}");
    }
    out.push_str("\n}\n");
    out
}
