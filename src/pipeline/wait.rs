//! Wait strategies: what a pipeline thread does when it finds no work.
//!
//! On a machine with fewer cores than busy threads, spinning starves the thread that would
//! produce the work, and the pipeline livelocks. The default therefore spins briefly, then
//! yields, then sleeps with a growing pause; busy-spin is for pinned, isolated cores.

use std::fmt;
use std::str::FromStr;
use std::thread;
use std::time::Duration;

/// How pipeline threads (sequencer, book consumers, event manager) wait for work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Spin without pause. Lowest latency; needs a dedicated core per pipeline thread.
    BusySpin,
    /// Spin a little, then yield, then sleep with a growing pause up to `max_sleep`.
    /// The default: it holds up on an oversubscribed machine.
    SpinYieldSleep {
        /// Idle rounds spent spinning before the first yield.
        spins: u32,
        /// Idle rounds spent yielding before the first sleep.
        yields: u32,
        /// The longest pause once sleeping.
        max_sleep: Duration,
    },
    /// Sleep a fixed time whenever idle.
    Sleep(Duration),
}

impl Default for WaitStrategy {
    fn default() -> WaitStrategy {
        WaitStrategy::SpinYieldSleep {
            spins: 64,
            yields: 16,
            max_sleep: Duration::from_micros(100),
        }
    }
}

impl WaitStrategy {
    /// The default sleeping strategy's pause.
    pub const DEFAULT_SLEEP: Duration = Duration::from_micros(10);

    /// A fresh idle counter for one thread.
    pub(crate) fn idler(self) -> Idler {
        Idler {
            strategy: self,
            rounds: 0,
        }
    }
}

impl fmt::Display for WaitStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitStrategy::BusySpin => f.write_str("busy-spin"),
            WaitStrategy::SpinYieldSleep { .. } => f.write_str("yield"),
            WaitStrategy::Sleep(d) => write!(f, "sleep({} us)", d.as_micros()),
        }
    }
}

/// The error of parsing a wait strategy name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown wait strategy {0:?}: expected busy-spin, yield or sleep")]
pub struct ParseWaitStrategyError(String);

impl FromStr for WaitStrategy {
    type Err = ParseWaitStrategyError;

    /// Parses `busy-spin`, `yield` (spin, yield, then sleep: the default) or `sleep`.
    fn from_str(s: &str) -> Result<WaitStrategy, ParseWaitStrategyError> {
        match s {
            "busy-spin" | "spin" => Ok(WaitStrategy::BusySpin),
            "yield" => Ok(WaitStrategy::default()),
            "sleep" => Ok(WaitStrategy::Sleep(WaitStrategy::DEFAULT_SLEEP)),
            other => Err(ParseWaitStrategyError(other.to_string())),
        }
    }
}

/// One thread's idle state under a strategy: call [`Idler::idle`] after each round that
/// found no work and [`Idler::reset`] after one that did.
#[derive(Debug)]
pub(crate) struct Idler {
    strategy: WaitStrategy,
    rounds: u32,
}

impl Idler {
    /// Waits once, longer the longer the thread has been idle.
    #[inline]
    pub(crate) fn idle(&mut self) {
        self.rounds = self.rounds.saturating_add(1);
        match self.strategy {
            WaitStrategy::BusySpin => std::hint::spin_loop(),
            WaitStrategy::SpinYieldSleep {
                spins,
                yields,
                max_sleep,
            } => {
                if self.rounds <= spins {
                    std::hint::spin_loop();
                } else if self.rounds <= spins.saturating_add(yields) {
                    thread::yield_now();
                } else {
                    // Double the pause each round from 1 us up to max_sleep.
                    let sleeping = self.rounds - spins.saturating_add(yields);
                    let micros = 1u64 << sleeping.min(20);
                    thread::sleep(Duration::from_micros(micros).min(max_sleep));
                }
            }
            WaitStrategy::Sleep(pause) => thread::sleep(pause),
        }
    }

    /// Work was found: the next idle round starts from the cheapest wait again.
    #[inline]
    pub(crate) fn reset(&mut self) {
        self.rounds = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_command_line_names() {
        assert_eq!("busy-spin".parse(), Ok(WaitStrategy::BusySpin));
        assert_eq!("yield".parse(), Ok(WaitStrategy::default()));
        assert_eq!(
            "sleep".parse(),
            Ok(WaitStrategy::Sleep(WaitStrategy::DEFAULT_SLEEP))
        );
        assert!("fast".parse::<WaitStrategy>().is_err());
    }

    #[test]
    fn the_default_escalates_to_sleeping() {
        let mut idler = WaitStrategy::SpinYieldSleep {
            spins: 2,
            yields: 2,
            max_sleep: Duration::from_millis(2),
        }
        .idler();
        for _ in 0..4 {
            idler.idle();
        }
        let started = std::time::Instant::now();
        for _ in 0..3 {
            idler.idle(); // sleeps of 2, 4, 8 us
        }
        assert!(started.elapsed() >= Duration::from_micros(14));
        idler.reset();
        assert_eq!(idler.rounds, 0);
    }
}
