//! `ringbook bench --baseline --sweep`: the latency-throughput curve. A closed-loop run of
//! the baseline finds its capacity; then both engines run open loop at fractions of it,
//! and each engine's latency percentiles are reported by offered rate (medians over the
//! repeats), as a table, a JSON object and an SVG chart.

use std::fmt::Write;

use ringbook_bench::harness::{EngineKind, MAX_RATE, RunOptions, RunReport};

use super::plot;
use super::report::{latency, median, si};
use crate::Failure;

/// The fractions `--sweep` runs at without a list, in percent of the baseline's capacity.
pub(crate) const DEFAULT_FRACTIONS: &str = "10,25,50,75,90";

/// The most fractions one sweep takes.
pub(crate) const MAX_FRACTIONS: usize = 10;

/// Why a `--sweep` list was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum FractionError {
    /// The list is empty.
    #[error("expected a comma-separated list of percentages, e.g. {DEFAULT_FRACTIONS}")]
    Empty,
    /// A token that is not a number.
    #[error(
        "`{token}` (item {position}) is not a number: expected a percentage of the baseline's capacity"
    )]
    NotANumber {
        /// The token as given.
        token: String,
        /// Its position in the list, from 1.
        position: usize,
    },
    /// A fraction outside (0, 100].
    #[error(
        "`{token}` (item {position}) is out of range: a fraction must be above 0 and at most 100 percent"
    )]
    OutOfRange {
        /// The token as given.
        token: String,
        /// Its position in the list, from 1.
        position: usize,
    },
    /// A fraction given twice.
    #[error("`{token}` (item {position}) is given twice")]
    Duplicate {
        /// The token as given.
        token: String,
        /// Its position in the list, from 1.
        position: usize,
    },
    /// More fractions than [`MAX_FRACTIONS`].
    #[error("{count} fractions given, at most {max} are taken")]
    TooMany {
        /// Fractions in the list.
        count: usize,
        /// [`MAX_FRACTIONS`].
        max: usize,
    },
}

/// A sweep's fractions of the baseline's capacity, in percent, ascending.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fractions(pub(crate) Vec<f64>);

/// Parses `10,25,50` (percent; an optional `%` after each): each above 0 and at most 100,
/// none twice, at most [`MAX_FRACTIONS`]; sorted ascending.
pub(crate) fn parse_fractions(text: &str) -> Result<Fractions, FractionError> {
    let tokens: Vec<&str> = text.split(',').map(str::trim).collect();
    if text.trim().is_empty() {
        return Err(FractionError::Empty);
    }
    if tokens.len() > MAX_FRACTIONS {
        return Err(FractionError::TooMany {
            count: tokens.len(),
            max: MAX_FRACTIONS,
        });
    }
    let mut fractions: Vec<f64> = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        let (token, position) = ((*token).to_string(), i + 1);
        let number = token.strip_suffix('%').unwrap_or(&token).trim();
        let value: f64 = number.parse().map_err(|_| FractionError::NotANumber {
            token: token.clone(),
            position,
        })?;
        if !(value > 0.0 && value <= 100.0) {
            return Err(FractionError::OutOfRange { token, position });
        }
        if fractions.contains(&value) {
            return Err(FractionError::Duplicate { token, position });
        }
        fractions.push(value);
    }
    fractions.sort_by(f64::total_cmp);
    Ok(Fractions(fractions))
}

/// `--sweep`'s clap parser: [`parse_fractions`] with its message.
pub(crate) fn fractions_arg(text: &str) -> Result<Fractions, String> {
    parse_fractions(text).map_err(|e| e.to_string())
}

/// One engine at one rate: the medians over its runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Summary {
    pub(crate) engine: &'static str,
    pub(crate) runs: usize,
    /// Achieved commands per second.
    pub(crate) throughput_per_s: f64,
    /// p50, p90, p99, p99.9 and max, ns.
    pub(crate) latency_ns: [f64; 5],
}

/// The quantiles of [`Summary::latency_ns`] (the last, 1.0, is the max).
const QUANTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("max", 1.0),
];

impl Summary {
    /// The medians of `engine`'s runs among `runs`; `None` if it has none.
    pub(crate) fn of(engine: &'static str, runs: &[RunReport]) -> Option<Summary> {
        let mine: Vec<&RunReport> = runs.iter().filter(|r| r.engine == engine).collect();
        if mine.is_empty() {
            return None;
        }
        let at = |q: f64| {
            median(
                mine.iter()
                    .map(|r| {
                        if q >= 1.0 {
                            r.histogram.max() as f64
                        } else {
                            r.histogram.value_at_quantile(q) as f64
                        }
                    })
                    .collect(),
            )
        };
        Some(Summary {
            engine,
            runs: mine.len(),
            throughput_per_s: median(mine.iter().map(|r| r.throughput_per_s).collect()),
            latency_ns: QUANTILES.map(|(_, q)| at(q)),
        })
    }

    fn p99(&self) -> f64 {
        self.latency_ns[2]
    }

    fn p999(&self) -> f64 {
        self.latency_ns[3]
    }
}

/// One offered rate and what each engine did at it.
#[derive(Clone, Debug)]
pub(crate) struct Point {
    /// Percent of the capacity.
    pub(crate) percent: f64,
    /// Offered commands per second.
    pub(crate) rate: f64,
    pub(crate) engines: Vec<Summary>,
}

impl Point {
    fn engine(&self, name: &str) -> Option<&Summary> {
        self.engines.iter().find(|s| s.engine == name)
    }

    /// ringbook's p99 and p99.9 over the baseline's.
    fn ratios(&self) -> Option<(f64, f64)> {
        let (r, b) = (self.engine("ringbook")?, self.engine("baseline")?);
        Some((r.p99() / b.p99().max(1.0), r.p999() / b.p999().max(1.0)))
    }
}

/// A whole sweep.
#[derive(Clone, Debug)]
pub(crate) struct Sweep {
    /// The baseline's closed-loop throughput: the median of `capacity_runs`.
    pub(crate) capacity: f64,
    /// Each closed-loop run's throughput.
    pub(crate) capacity_runs: Vec<f64>,
    pub(crate) points: Vec<Point>,
}

/// Runs a sweep: `repeat` closed-loop runs of the baseline, then at each fraction
/// `repeat` open-loop rounds of `engines` (interleaved), all placed by `open` (its
/// sender core and baseline cores; its rate is replaced). The capacity is measured on the
/// cores the open-loop runs get: measured on all cores, it overstated what the engines
/// carry once the sender has a core to itself, and the top fractions overloaded both.
/// `measure` runs one engine with the options given and a label for its progress.
pub(crate) fn run(
    fractions: &Fractions,
    repeat: usize,
    engines: &[EngineKind],
    open: &RunOptions,
    measure: &mut dyn FnMut(&EngineKind, &RunOptions, String) -> Result<RunReport, Failure>,
) -> Result<Sweep, Failure> {
    let closed = open.clone().with_rate(None);
    let mut capacity_runs = Vec::with_capacity(repeat);
    for round in 0..repeat {
        let label = format!("capacity #{}", round + 1);
        capacity_runs.push(measure(&EngineKind::Baseline, &closed, label)?.throughput_per_s);
    }
    let capacity = median(capacity_runs.clone());
    eprintln!(
        "sweep: the baseline's closed-loop capacity is {} commands/s (median of {repeat})",
        si(capacity)
    );
    let mut points = Vec::with_capacity(fractions.0.len());
    for &percent in &fractions.0 {
        let rate = (capacity * percent / 100.0).clamp(1.0, MAX_RATE);
        let options = open.clone().with_rate(Some(rate));
        let mut runs = Vec::with_capacity(repeat * engines.len());
        for round in 0..repeat {
            for kind in engines {
                let label = format!("{} {percent}% #{}", kind.name(), round + 1);
                runs.push(measure(kind, &options, label)?);
            }
        }
        let engines = engines
            .iter()
            .filter_map(|k| Summary::of(k.name(), &runs))
            .collect();
        points.push(Point {
            percent,
            rate,
            engines,
        });
    }
    Ok(Sweep {
        capacity,
        capacity_runs,
        points,
    })
}

/// An engine that achieves less than this share of the offered rate did not keep up: its
/// row is marked.
const SATURATED: f64 = 0.95;

/// The stdout table: a row per rate and engine (`*` after an engine that did not keep up),
/// then the ratios per rate.
pub(crate) fn table(header: &str, sweep: &Sweep, repeat: usize) -> String {
    let mut out = String::new();
    out.push_str(header);
    let _ = writeln!(
        out,
        "latency: each new order, from its intended send time to its first event at the event manager"
    );
    let _ = writeln!(
        out,
        "sweep: open loop at fractions of the baseline's closed-loop capacity, {} commands/s (median of {repeat}); each figure the median of {repeat} run(s)",
        si(sweep.capacity)
    );
    let _ = write!(
        out,
        "{:>14} {:>5} {:<10} {:>14}",
        "rate/s", "%", "engine", "achieved/s"
    );
    for (label, _) in QUANTILES {
        let _ = write!(out, " {label:>10}");
    }
    out.push('\n');
    let mut saturated = false;
    for point in &sweep.points {
        for s in &point.engines {
            let behind = s.throughput_per_s < point.rate * SATURATED;
            saturated |= behind;
            let _ = write!(
                out,
                "{:>14} {:>5} {:<10} {:>14}",
                si(point.rate),
                format!("{}%", point.percent),
                s.engine,
                si(s.throughput_per_s) + if behind { " *" } else { "  " }
            );
            for ns in s.latency_ns {
                let _ = write!(out, " {:>10}", latency(ns as u64));
            }
            out.push('\n');
        }
    }
    if saturated {
        let _ = writeln!(
            out,
            "* achieved under {:.0}% of the offered rate: the engine did not keep up (saturated here; its latency is its backlog)",
            SATURATED * 100.0
        );
    }
    if sweep.points.iter().any(|p| p.ratios().is_some()) {
        let _ = writeln!(out, "ringbook / baseline by rate:");
        for point in &sweep.points {
            if let Some((p99, p999)) = point.ratios() {
                let _ = writeln!(
                    out,
                    "{:>14} {:>5} p99 {p99:.2}x, p99.9 {p999:.2}x",
                    si(point.rate),
                    format!("{}%", point.percent)
                );
            }
        }
    }
    out
}

/// The sweep as a JSON object: `{"capacity_per_s", "capacity_runs_per_s", "points": [{
/// "percent", "rate_per_s", "engines": {"ringbook": {...}, "baseline": {...}}}]}`.
pub(crate) fn json(sweep: &Sweep) -> String {
    let mut out = String::new();
    let runs: Vec<String> = sweep
        .capacity_runs
        .iter()
        .map(|t| format!("{t:.1}"))
        .collect();
    let _ = write!(
        out,
        "{{\"capacity_per_s\": {:.1}, \"capacity_runs_per_s\": [{}], \"points\": [",
        sweep.capacity,
        runs.join(", ")
    );
    for (i, point) in sweep.points.iter().enumerate() {
        let engines: Vec<String> = point
            .engines
            .iter()
            .map(|s| {
                let [p50, p90, p99, p999, max] = s.latency_ns;
                format!(
                    "\"{}\": {{\"runs\": {}, \"throughput_per_s\": {:.1}, \"p50_ns\": {p50:.1}, \"p90_ns\": {p90:.1}, \"p99_ns\": {p99:.1}, \"p999_ns\": {p999:.1}, \"max_ns\": {max:.1}}}",
                    s.engine, s.runs, s.throughput_per_s
                )
            })
            .collect();
        let ratios = point.ratios().map_or(String::new(), |(p99, p999)| {
            format!(", \"ringbook_over_baseline\": {{\"p99\": {p99:.4}, \"p999\": {p999:.4}}}")
        });
        let _ = write!(
            out,
            "{}\n    {{\"percent\": {}, \"rate_per_s\": {:.1}, \"engines\": {{{}}}{ratios}}}",
            if i == 0 { "" } else { "," },
            point.percent,
            point.rate,
            engines.join(", ")
        );
    }
    out.push_str("\n  ]}");
    out
}

/// The percentiles the curve draws, as (label, index in [`Summary::latency_ns`], dash).
const CURVES: [(&str, usize, Option<&str>); 3] = [
    ("p50", 0, None),
    ("p99", 2, Some("7 4")),
    ("p99.9", 3, Some("2 3")),
];

/// The latency-throughput curve: x the offered rate, y the latency (log scale), a line
/// per engine and percentile (one colour per engine, one dash per percentile).
pub(crate) fn plot(title: &str, sweep: &Sweep) -> String {
    let mut names: Vec<&'static str> = Vec::new();
    for s in sweep.points.iter().flat_map(|p| &p.engines) {
        if !names.contains(&s.engine) {
            names.push(s.engine);
        }
    }
    let mut lines = Vec::new();
    for (e, name) in names.iter().enumerate() {
        for (label, index, dash) in CURVES {
            lines.push(plot::Line {
                label: format!("{name} {label}"),
                colour: plot::colour(e),
                dash,
                dots: true,
                points: sweep
                    .points
                    .iter()
                    .filter_map(|p| p.engine(name).map(|s| (p.rate, s.latency_ns[index] as u64)))
                    .collect(),
            });
        }
    }
    let top = sweep.points.iter().map(|p| p.rate).fold(0.0, f64::max);
    let (max, step) = nice_scale(top);
    let ticks = (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|&x| x <= max * (1.0 + 1e-9))
        .map(|x| (x, if x == 0.0 { "0".into() } else { si(x) }))
        .collect();
    let x = plot::XAxis {
        label: "offered rate (commands/s)".into(),
        max,
        ticks,
    };
    plot::chart(title, &x, &lines)
}

/// An axis from 0 to at least `top`, in steps of 1, 2 or 5 times a power of ten (4 to 10
/// of them): `(max, step)`.
fn nice_scale(top: f64) -> (f64, f64) {
    if top.is_nan() || top <= 0.0 {
        return (1.0, 0.2);
    }
    let raw = top / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    ((top / step).ceil() * step, step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use std::time::Duration;

    #[test]
    fn fractions_parse_sorted_with_or_without_percent_signs() {
        assert_eq!(
            parse_fractions("50, 10%,100,0.5"),
            Ok(Fractions(vec![0.5, 10.0, 50.0, 100.0]))
        );
        assert_eq!(
            parse_fractions(DEFAULT_FRACTIONS),
            Ok(Fractions(vec![10.0, 25.0, 50.0, 75.0, 90.0]))
        );
    }

    #[test]
    fn bad_fractions_are_refused_naming_the_token() {
        let err = |text: &str| parse_fractions(text).unwrap_err();
        assert_eq!(err(""), FractionError::Empty);
        assert_eq!(
            err("10,fifty"),
            FractionError::NotANumber {
                token: "fifty".into(),
                position: 2
            }
        );
        assert_eq!(
            err("10,,20"),
            FractionError::NotANumber {
                token: String::new(),
                position: 2
            }
        );
        for bad in ["0", "-5", "100.5", "NaN", "inf"] {
            assert_eq!(
                err(&format!("10,{bad}")),
                FractionError::OutOfRange {
                    token: bad.into(),
                    position: 2
                },
                "{bad}"
            );
        }
        assert_eq!(
            err("10,20,10%"),
            FractionError::Duplicate {
                token: "10%".into(),
                position: 3
            }
        );
        assert_eq!(
            err("1,2,3,4,5,6,7,8,9,10,11"),
            FractionError::TooMany { count: 11, max: 10 }
        );
        assert!(parse_fractions("1,2,3,4,5,6,7,8,9,10").is_ok());
        assert!(err("10,fifty").to_string().contains("`fifty`"));
    }

    fn report(engine: &'static str, throughput: f64, latencies: &[u64]) -> RunReport {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).unwrap();
        for &ns in latencies {
            histogram.record(ns).unwrap();
        }
        RunReport {
            engine,
            commands: 1000,
            orders: latencies.len() as u64,
            elapsed: Duration::from_millis(1),
            throughput_per_s: throughput,
            histogram,
            stages: Vec::new(),
            backpressure: None,
        }
    }

    /// The capacity runs are closed loop on the open-loop runs' placement (the sender's
    /// core and the baseline's cores), and the rates are fractions of their median.
    #[test]
    fn the_capacity_is_measured_where_the_open_loop_runs_are_placed() {
        let open = RunOptions::default()
            .with_rate(Some(1.0))
            .with_warmup(10)
            .with_sender_core(Some(0))
            .with_baseline_cores(vec![1]);
        let mut seen: Vec<(&'static str, RunOptions)> = Vec::new();
        let mut capacities = [400.0, 100.0, 200.0].into_iter();
        let mut measure = |kind: &EngineKind, options: &RunOptions, _: String| {
            seen.push((kind.name(), options.clone()));
            let throughput = match options.rate {
                None => capacities.next().unwrap(),
                Some(rate) => rate,
            };
            Ok(report(kind.name(), throughput, &[1000]))
        };
        let fractions = parse_fractions("50").unwrap();
        let sweep = run(&fractions, 3, &[EngineKind::Baseline], &open, &mut measure).unwrap();
        assert_eq!(sweep.capacity, 200.0);
        assert_eq!(seen.len(), 6);
        for (i, (engine, options)) in seen.iter().enumerate() {
            assert_eq!(*engine, "baseline");
            assert_eq!(options.sender_core, Some(0), "run {i}");
            assert_eq!(options.baseline_cores, [1], "run {i}");
            assert_eq!(options.warmup, 10, "run {i}");
            let rate = if i < 3 { None } else { Some(100.0) };
            assert_eq!(options.rate, rate, "run {i}");
        }
    }

    #[test]
    fn a_summary_takes_each_figure_median_over_the_engines_runs_only() {
        let runs = [
            report("ringbook", 300.0, &[1000; 10]),
            report("baseline", 9.0, &[1; 10]),
            report("ringbook", 100.0, &[1500; 10]),
            report("ringbook", 200.0, &[500, 500, 500, 500, 500, 90_000]),
        ];
        let s = Summary::of("ringbook", &runs).unwrap();
        assert_eq!(s.runs, 3);
        assert_eq!(s.throughput_per_s, 200.0);
        // p50: 1000, 1500, 500 -> 1000; p90 and up: 1000, 1500, ~90000 -> 1500 (a
        // median, not a mean, so one run's outlier does not move it).
        assert_eq!(s.latency_ns, [1000.0, 1500.0, 1500.0, 1500.0, 1500.0]);
        // An even count takes the mean of the middle two.
        let two = Summary::of("ringbook", &runs[..3]).unwrap();
        assert_eq!(two.runs, 2);
        assert_eq!(two.throughput_per_s, 200.0);
        assert_eq!(two.latency_ns[0], 1250.0);
        assert_eq!(Summary::of("ringbook+journal", &runs), None);
    }

    #[test]
    fn nice_scales_cover_the_top_in_round_steps() {
        assert_eq!(nice_scale(7_300_000.0), (8_000_000.0, 2_000_000.0));
        assert_eq!(nice_scale(450.0), (500.0, 100.0));
        assert_eq!(nice_scale(0.0), (1.0, 0.2));
    }

    #[test]
    fn the_curve_has_a_line_per_engine_and_percentile_with_its_legend() {
        let summary = |engine, ns: f64| Summary {
            engine,
            runs: 1,
            throughput_per_s: 1.0,
            latency_ns: [ns, 2.0 * ns, 3.0 * ns, 4.0 * ns, 5.0 * ns],
        };
        let sweep = Sweep {
            capacity: 1e6,
            capacity_runs: vec![1e6],
            points: [10.0, 50.0]
                .map(|percent| Point {
                    percent,
                    rate: percent * 1e4,
                    engines: vec![summary("ringbook", 1000.0), summary("baseline", 5000.0)],
                })
                .to_vec(),
        };
        let svg = plot("sweep", &sweep);
        assert_eq!(svg.matches("<polyline").count(), 6);
        for name in ["ringbook", "baseline"] {
            for p in ["p50", "p99", "p99.9"] {
                assert!(svg.contains(&format!(">{name} {p}</text>")), "{name} {p}");
            }
        }
        assert!(svg.contains("offered rate (commands/s)"));
        let table = table("head", &sweep, 1);
        assert!(table.contains("p99 0.20x, p99.9 0.20x"), "{table}");
        // 1 command/s achieved of 100,000 offered: marked, with the footnote.
        assert!(table.contains("1 *"), "{table}");
        assert!(
            table.contains("* achieved under 95% of the offered rate"),
            "{table}"
        );
    }
}
