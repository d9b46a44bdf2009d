//! How a generated flow spreads its activity over its instruments ([`Activity`]), and the
//! draw that picks each op's instrument.

use std::fmt;
use std::str::FromStr;

use super::rng::Rng;

/// How a generated flow spreads its ops over its instruments.
///
/// # Examples
///
/// ```
/// use ringbook::flow::Activity;
///
/// assert_eq!("zipf".parse::<Activity>(), Ok(Activity::Zipf));
/// assert_eq!(Activity::default(), Activity::Uniform);
/// assert!("pareto".parse::<Activity>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Activity {
    /// Every instrument equally likely (the default).
    #[default]
    Uniform,
    /// Zipf's law with exponent 1, as on a real venue: the `k`-th instrument (from 1)
    /// draws an op with weight `1/k`. Of 10,000 instruments the first carries about 10%
    /// of the flow, the first 100 about half, and the last 5,000 about 7%.
    Zipf,
}

impl Activity {
    /// Both profiles.
    pub const ALL: [Activity; 2] = [Activity::Uniform, Activity::Zipf];

    /// Its name on the command line: `uniform` or `zipf`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Uniform => "uniform",
            Activity::Zipf => "zipf",
        }
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An activity profile name that is neither `uniform` nor `zipf`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown activity {word:?}: expected uniform or zipf")]
pub struct ParseActivityError {
    /// The text given.
    pub word: String,
}

impl FromStr for Activity {
    type Err = ParseActivityError;

    fn from_str(word: &str) -> Result<Activity, ParseActivityError> {
        Activity::ALL
            .into_iter()
            .find(|activity| activity.as_str() == word)
            .ok_or_else(|| ParseActivityError {
                word: word.to_string(),
            })
    }
}

/// Weight of the first instrument under [`Activity::Zipf`]: the `k`-th has `2^40 / k`
/// (at most 65,536 instruments: the total stays below 2^44).
const ZIPF_TOP: u64 = 1 << 40;

/// Picks each op's instrument under an [`Activity`].
#[derive(Clone, Debug)]
pub(super) enum InstrumentPicker {
    /// Uniform over this many instruments: one `below` draw, as flows always had.
    Uniform(u64),
    /// Cumulative Zipf weights, by instrument: a draw below the total, found by bisection.
    Zipf(Vec<u64>),
}

impl InstrumentPicker {
    /// The picker for `instruments` instruments (at least 1) under `activity`.
    pub(super) fn new(activity: Activity, instruments: u32) -> InstrumentPicker {
        match activity {
            Activity::Uniform => InstrumentPicker::Uniform(u64::from(instruments)),
            Activity::Zipf => {
                let mut total = 0;
                let cumulative = (1..=u64::from(instruments))
                    .map(|k| {
                        total += ZIPF_TOP / k;
                        total
                    })
                    .collect();
                InstrumentPicker::Zipf(cumulative)
            }
        }
    }

    /// The next op's instrument, by index.
    #[inline]
    pub(super) fn pick(&self, rng: &mut Rng) -> u32 {
        match self {
            InstrumentPicker::Uniform(n) => rng.below(*n) as u32,
            InstrumentPicker::Zipf(cumulative) => {
                let total = *cumulative.last().expect("at least one instrument");
                let draw = rng.below(total);
                cumulative.partition_point(|&upto| upto <= draw) as u32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(activity: Activity, instruments: u32, draws: usize) -> Vec<usize> {
        let picker = InstrumentPicker::new(activity, instruments);
        let mut rng = Rng::new(5);
        let mut counts = vec![0; instruments as usize];
        for _ in 0..draws {
            counts[picker.pick(&mut rng) as usize] += 1;
        }
        counts
    }

    #[test]
    fn zipf_gives_the_kth_instrument_a_share_near_one_over_k() {
        let draws = 1_000_000;
        let counts = counts(Activity::Zipf, 10_000, draws);
        let harmonic: f64 = (1..=10_000).map(|k| 1.0 / f64::from(k)).sum();
        for k in [1u32, 2, 10, 100] {
            let expected = draws as f64 / (f64::from(k) * harmonic);
            let got = counts[k as usize - 1] as f64;
            assert!(
                (got - expected).abs() < expected * 0.05 + 30.0,
                "instrument {k}: {got} draws, expected about {expected:.0}"
            );
        }
        let top_hundred: usize = counts[..100].iter().sum();
        assert!((480_000..560_000).contains(&top_hundred), "{top_hundred}");
        assert!(counts[1..].iter().all(|&c| c < counts[0]));
    }

    #[test]
    fn a_zipf_flow_sends_most_commands_to_its_first_instruments() {
        use crate::flow::{FlowGenerator, GenConfig};
        let config = GenConfig::new(3, 1_000, 20_000).with_activity(Activity::Zipf);
        let generator = FlowGenerator::new(config);
        let ids = generator.instruments().to_vec();
        let mut per_instrument = vec![0usize; ids.len()];
        for command in generator {
            let at = ids.iter().position(|id| *id == command.instrument_id());
            per_instrument[at.expect("a flow instrument")] += 1;
        }
        let total: usize = per_instrument.iter().sum();
        let first_ten: usize = per_instrument[..10].iter().sum();
        // 1/H(1000) = 13% for the first, H(10)/H(1000) = 39% for the first ten.
        assert!(per_instrument[0] * 100 > total * 11, "{per_instrument:?}");
        assert!(first_ten * 100 > total * 35, "{first_ten} of {total}");
        assert!(per_instrument[999] * 200 < total, "{per_instrument:?}");
    }

    #[test]
    fn uniform_draws_as_flows_always_did() {
        let picker = InstrumentPicker::new(Activity::Uniform, 7);
        let (mut a, mut b) = (Rng::new(9), Rng::new(9));
        for _ in 0..1_000 {
            assert_eq!(u64::from(picker.pick(&mut a)), b.below(7));
        }
    }

    #[test]
    fn one_instrument_takes_every_draw_under_either_profile() {
        for activity in Activity::ALL {
            assert_eq!(counts(activity, 1, 100), vec![100]);
        }
    }

    #[test]
    fn names_round_trip_and_an_unknown_one_is_refused_with_its_text() {
        for activity in Activity::ALL {
            assert_eq!(activity.to_string().parse::<Activity>(), Ok(activity));
        }
        let error = "Zipf2".parse::<Activity>().unwrap_err();
        assert_eq!(error.word, "Zipf2");
        assert!(error.to_string().contains("uniform or zipf"));
    }
}
