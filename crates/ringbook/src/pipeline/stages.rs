//! How the pipeline's stages map onto threads: a thread per stage, or every stage on one.

use std::fmt;
use std::str::FromStr;

/// How the sequencer, the book consumers and the event manager map onto threads.
///
/// A thread per stage ([`Stages::Pipelined`]) is the LMAX shape: each stage runs flat out
/// on a core of its own, and the rings between them carry a batch at a time. When the
/// stages share cores, every hand-off costs a thread switch, and at a sustained rate the
/// engine spends more on waking its stages than on matching. [`Stages::Fused`] then runs
/// them on one thread, stage after stage on each batch: the sequencer numbers and
/// journals a batch, applies each book's share of it, and hands every result to the
/// subscribers, with no wake-up between them. The events are the same either way.
///
/// # Examples
///
/// ```
/// use ringbook::{ManagerConfig, Stages};
///
/// let config = ManagerConfig::default().with_stages(Stages::Fused);
/// assert_eq!(config.stages, Stages::Fused);
/// assert_eq!("pipelined".parse::<Stages>(), Ok(Stages::Pipelined));
/// assert_eq!(Stages::Auto.to_string(), "auto");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Stages {
    /// [`Stages::Fused`] when the pipeline's threads would share cores with one book
    /// consumer, [`Stages::Pipelined`] otherwise (see
    /// [`ManagerConfig::fuses_stages`](crate::ManagerConfig::fuses_stages)). The default.
    #[default]
    Auto,
    /// A thread per stage: the sequencer, each book consumer, the event manager.
    Pipelined,
    /// One engine thread runs every stage, batch by batch; every book is on it, so it
    /// takes one book consumer.
    Fused,
}

impl Stages {
    /// Whether the stages run on one thread for `consumers` book consumers, given the
    /// cores the pipeline is pinned to (`None`: not pinned) and the cores the process has.
    ///
    /// [`Stages::Auto`] fuses when there is one consumer and its three threads would share
    /// cores: pinned, when the list puts two of them on one core; unpinned, when they and
    /// the caller that feeds them outnumber `available` cores.
    #[must_use]
    pub fn fuses(self, consumers: usize, pinned: Option<&[usize]>, available: usize) -> bool {
        match self {
            Stages::Fused => true,
            Stages::Pipelined => false,
            Stages::Auto if consumers != 1 => false,
            Stages::Auto => match pinned {
                Some(cores) if !cores.is_empty() => {
                    let core = |thread: usize| cores[thread % cores.len()];
                    core(0) == core(1) || core(1) == core(2) || core(0) == core(2)
                }
                _ => 2 + consumers + 1 > available,
            },
        }
    }
}

impl fmt::Display for Stages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stages::Auto => "auto",
            Stages::Pipelined => "pipelined",
            Stages::Fused => "fused",
        })
    }
}

/// A name that is not one of `auto`, `pipelined`, `fused`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage layout {0:?}: expected auto, pipelined or fused")]
pub struct ParseStagesError(String);

impl FromStr for Stages {
    type Err = ParseStagesError;

    fn from_str(s: &str) -> Result<Stages, ParseStagesError> {
        match s {
            "auto" => Ok(Stages::Auto),
            "pipelined" => Ok(Stages::Pipelined),
            "fused" => Ok(Stages::Fused),
            other => Err(ParseStagesError(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_back() {
        for stages in [Stages::Auto, Stages::Pipelined, Stages::Fused] {
            assert_eq!(stages.to_string().parse::<Stages>(), Ok(stages));
        }
        let error = "one".parse::<Stages>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown stage layout \"one\": expected auto, pipelined or fused"
        );
    }

    #[test]
    fn auto_fuses_when_one_consumers_threads_would_share_cores() {
        // Unpinned: the three stages and the caller against the cores.
        assert!(Stages::Auto.fuses(1, None, 2));
        assert!(Stages::Auto.fuses(1, None, 3));
        assert!(!Stages::Auto.fuses(1, None, 4));
        // Pinned: the list as the threads take it (sequencer, consumer, event manager).
        assert!(Stages::Auto.fuses(1, Some(&[1]), 2));
        assert!(Stages::Auto.fuses(1, Some(&[0, 1]), 2));
        assert!(!Stages::Auto.fuses(1, Some(&[0, 1, 2]), 4));
        // Several consumers are asked for parallel books: never fused by itself.
        assert!(!Stages::Auto.fuses(2, None, 2));
        assert!(!Stages::Auto.fuses(0, None, 2));
        // Chosen layouts are kept.
        assert!(Stages::Fused.fuses(4, Some(&[0, 1, 2, 3, 4, 5]), 8));
        assert!(!Stages::Pipelined.fuses(1, None, 1));
    }
}
