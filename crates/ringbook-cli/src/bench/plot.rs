//! The SVG charts, one writer for all: latency (log-scaled) against an x axis. The
//! latency-by-percentile plot, one line per run, is in the style of HdrHistogram's
//! plotter (x: 0%, 90%, 99%, 99.9%, ...); the sweep's latency-throughput curve uses the
//! same writer (see `sweep.rs`).

use std::fmt::Write;

use hdrhistogram::Histogram;

const W: f64 = 900.0;
const H: f64 = 520.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// One line of the latency-by-percentile plot: a label and its histogram (ns).
pub(crate) struct Series<'a> {
    pub(crate) label: String,
    pub(crate) histogram: &'a Histogram<u64>,
}

/// One line of a chart: its legend label, style and points as (x in the chart's units,
/// latency in ns).
pub(crate) struct Line {
    pub(crate) label: String,
    pub(crate) colour: &'static str,
    /// An SVG `stroke-dasharray` (`None`: solid).
    pub(crate) dash: Option<&'static str>,
    /// Draw a dot at each point (a curve of few points).
    pub(crate) dots: bool,
    pub(crate) points: Vec<(f64, u64)>,
}

/// A chart's x axis: from 0 to `max`, in the lines' x units, with its ticks and label.
pub(crate) struct XAxis {
    pub(crate) label: String,
    pub(crate) max: f64,
    pub(crate) ticks: Vec<(f64, String)>,
}

/// The colour of the `i`-th line.
pub(crate) fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

/// Renders the runs' latency distributions as an SVG document.
pub(crate) fn render(title: &str, series: &[Series<'_>]) -> String {
    // x = log10(1 / (1 - q)): 0 at 0%, 1 at 90%, 2 at 99%, ...
    let x_of = |q: f64| (1.0 / (1.0 - q.min(0.999_999_9))).log10();
    let lines: Vec<Line> = series
        .iter()
        .enumerate()
        .map(|(i, s)| Line {
            label: s.label.clone(),
            colour: colour(i),
            dash: None,
            dots: false,
            points: s
                .histogram
                .iter_quantiles(5)
                .map(|v| (x_of(v.quantile_iterated_to()), v.value_iterated_to()))
                .collect(),
        })
        .collect();
    let max_x = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(1.0f64, f64::max)
        .ceil()
        .clamp(2.0, 7.0);
    let ticks = (0..=(max_x as i32))
        .map(|decade| {
            let label = match decade {
                0 => "0%".to_string(),
                d => format!("{}%", 100.0 - 100.0 / 10f64.powi(d)),
            };
            (f64::from(decade), label)
        })
        .collect();
    let x = XAxis {
        label: "percentile".into(),
        max: max_x,
        ticks,
    };
    chart(title, &x, &lines)
}

/// The one SVG writer: `lines` over `x`, latency on a log-scaled y axis, a legend on
/// the right.
pub(crate) fn chart(title: &str, x_axis: &XAxis, lines: &[Line]) -> String {
    let log_micros = |ns: u64| ((ns.max(1) as f64) / 1000.0).log10();
    let (mut min_y, mut max_y) = (f64::MAX, f64::MIN);
    for &(_, ns) in lines.iter().flat_map(|l| &l.points) {
        min_y = min_y.min(log_micros(ns));
        max_y = max_y.max(log_micros(ns));
    }
    if min_y > max_y {
        (min_y, max_y) = (0.0, 1.0);
    }
    let (min_y, max_y) = (min_y.floor(), max_y.ceil().max(min_y.floor() + 1.0));
    let max_x = if x_axis.max > 0.0 { x_axis.max } else { 1.0 };
    let px = |x: f64| LEFT + (x.clamp(0.0, max_x) / max_x) * (W - LEFT - RIGHT);
    let py = |y: f64| H - BOTTOM - (y - min_y) / (max_y - min_y) * (H - TOP - BOTTOM);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        (W - RIGHT + LEFT) / 2.0,
        escape(title)
    );
    // Grid and axes.
    for (tick, label) in &x_axis.ticks {
        let x = px(*tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 18.0,
            escape(label)
        );
    }
    for decade in (min_y as i32)..=(max_y as i32) {
        let y = py(f64::from(decade));
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            micros_label(10f64.powi(decade))
        );
    }
    let _ = writeln!(
        svg,
        r#"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="black"/>"#,
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (W - RIGHT + LEFT) / 2.0,
        H - 14.0,
        escape(&x_axis.label)
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">latency (log scale)</text>"#,
        (H - BOTTOM + TOP) / 2.0
    );
    for (i, line) in lines.iter().enumerate() {
        let colour = line.colour;
        let dash = line
            .dash
            .map_or(String::new(), |d| format!(r#" stroke-dasharray="{d}""#));
        let points: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|&(x, ns)| (px(x), py(log_micros(ns))))
            .collect();
        let path: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"/>"#,
            path.join(" ")
        );
        if line.dots {
            for (x, y) in &points {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"/>"#
                );
            }
        }
        let ly = TOP + 20.0 + 20.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="3"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
            W - RIGHT + 12.0,
            W - RIGHT + 36.0,
            W - RIGHT + 42.0,
            ly + 4.0,
            escape(&line.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn micros_label(micros: f64) -> String {
    if micros >= 1_000_000.0 {
        format!("{} s", micros / 1_000_000.0)
    } else if micros >= 1000.0 {
        format!("{} ms", micros / 1000.0)
    } else if micros >= 1.0 {
        format!("{micros} us")
    } else {
        format!("{} ns", micros * 1000.0)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_polyline_per_run_with_labels() {
        let mut a = Histogram::<u64>::new_with_bounds(1, 100_000_000_000, 3).unwrap();
        let mut b = a.clone();
        for v in 1..10_000u64 {
            a.record(v * 100).unwrap();
            b.record(v * 300).unwrap();
        }
        let svg = render(
            "t <1>",
            &[
                Series {
                    label: "ringbook".into(),
                    histogram: &a,
                },
                Series {
                    label: "baseline".into(),
                    histogram: &b,
                },
            ],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(">ringbook</text>") && svg.contains(">baseline</text>"));
        assert!(svg.contains("t &lt;1&gt;"));
        assert!(svg.contains(">99%</text>") && svg.contains(">99.9%</text>"));
    }
}
