//! The latency-by-percentile plot: an SVG with both axes log-scaled, one line per run, in
//! the style of HdrHistogram's plotter (x: 0%, 90%, 99%, 99.9%, ...).

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

/// One line: a label and its histogram (ns).
pub(crate) struct Series<'a> {
    pub(crate) label: String,
    pub(crate) histogram: &'a Histogram<u64>,
}

/// Renders the runs' latency distributions as an SVG document.
pub(crate) fn render(title: &str, series: &[Series<'_>]) -> String {
    // x = log10(1 / (1 - q)): 0 at 0%, 1 at 90%, 2 at 99%, ...
    let x_of = |q: f64| (1.0 / (1.0 - q.min(0.999_999_9))).log10();
    let mut points: Vec<Vec<(f64, f64)>> = Vec::new();
    let (mut max_x, mut min_y, mut max_y) = (1.0f64, f64::MAX, f64::MIN);
    for s in series {
        let mut line = Vec::new();
        for v in s.histogram.iter_quantiles(5) {
            let x = x_of(v.quantile_iterated_to());
            let micros = (v.value_iterated_to().max(1) as f64) / 1000.0;
            let y = micros.log10();
            max_x = max_x.max(x);
            min_y = min_y.min(y);
            max_y = max_y.max(y);
            line.push((x, y));
        }
        points.push(line);
    }
    if min_y > max_y {
        (min_y, max_y) = (0.0, 1.0);
    }
    let (min_y, max_y) = (min_y.floor(), max_y.ceil().max(min_y.floor() + 1.0));
    let max_x = max_x.ceil().clamp(2.0, 7.0);
    let px = |x: f64| LEFT + (x / max_x) * (W - LEFT - RIGHT);
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
    for decade in 0..=(max_x as i32) {
        let x = px(f64::from(decade));
        let label = match decade {
            0 => "0%".to_string(),
            d => format!("{}%", 100.0 - 100.0 / 10f64.powi(d)),
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 18.0
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
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"#,
        (W - RIGHT + LEFT) / 2.0,
        H - 14.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">latency (log scale)</text>"#,
        (H - BOTTOM + TOP) / 2.0
    );
    for (i, (s, line)) in series.iter().zip(&points).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = line
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x.min(max_x)), py(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        let ly = TOP + 20.0 + 20.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            W - RIGHT + 12.0,
            W - RIGHT + 36.0,
            W - RIGHT + 42.0,
            ly + 4.0,
            escape(&s.label)
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
