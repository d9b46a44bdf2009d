//! HdrHistogram percentile-distribution files (`.hgrm`): the text format HdrHistogram's
//! `outputPercentileDistribution` writes and its plotters read. Values in microseconds.

use std::fmt::Write;

use hdrhistogram::Histogram;

/// Ticks per half distance to 100%: HdrHistogram's customary 5.
const TICKS: u32 = 5;

/// The percentile distribution of `histogram` (values in ns) in microseconds.
pub(crate) fn render(histogram: &Histogram<u64>) -> String {
    let scale = 1000.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    for v in histogram.iter_quantiles(TICKS) {
        total += v.count_since_last_iteration();
        let value = v.value_iterated_to() as f64 / scale;
        let q = v.quantile_iterated_to();
        if q < 1.0 {
            let _ = writeln!(
                out,
                "{value:12.3} {q:2.12} {total:10} {:14.2}",
                1.0 / (1.0 - q)
            );
        } else {
            let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
        }
    }
    let sub_buckets = (2.0 * 10f64.powi(i32::from(histogram.sigfig())))
        .log2()
        .ceil()
        .exp2() as u64;
    let _ = writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        histogram.mean() / scale,
        histogram.stdev() / scale
    );
    let _ = writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        histogram.max() as f64 / scale,
        histogram.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        histogram.buckets(),
        sub_buckets
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_hdrhistogram_layout() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 100_000_000_000, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let text = render(&h);
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
            ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
        );
        assert_eq!(lines.next(), Some(""));
        let first: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        assert_eq!(first[0], "1.000", "values are in microseconds");
        assert_eq!(first[2], "1");
        let data: Vec<&str> = text
            .lines()
            .filter(|l| {
                !l.starts_with('#') && l.trim_start().starts_with(|c: char| c.is_ascii_digit())
            })
            .collect();
        let last: Vec<&str> = data.last().unwrap().split_whitespace().collect();
        assert_eq!(last.len(), 3, "the 100% line has no 1/(1-p) column");
        assert_eq!(last[2], "1000");
        assert!(
            text.contains("#[Max     =     1000.447, Total count    =         1000]")
                || text.contains("Total count    =         1000]")
        );
        assert!(text.contains("SubBuckets     =         2048]"));
    }
}
