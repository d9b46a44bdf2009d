//! What recovery does with a damaged journal: the operator's choice, modelled on RocksDB's
//! WAL recovery modes.

use std::fmt;
use std::str::FromStr;

/// How recovery treats a journal that is not intact.
///
/// Whatever the mode, nothing is skipped silently: every record dropped or cut is named in
/// a [`RecoveryWarning`](super::RecoveryWarning), and records are never skipped in the
/// middle (the books would diverge).
///
/// | damage found                                       | tolerate-torn-tail | absolute-consistency | point-in-time |
/// |----------------------------------------------------|--------------------|----------------------|---------------|
/// | incomplete final record (a write cut by a crash)   | truncated, warning | error                | truncated, warning |
/// | complete record damaged, missing or extra segment, lost records, bad segment header | error | error | cut there, warning |
/// | journal ends before the newest snapshot            | warning            | error                | warning       |
///
/// # Examples
///
/// ```
/// use ringbook::journal::RecoveryMode;
///
/// assert_eq!("point-in-time".parse(), Ok(RecoveryMode::PointInTime));
/// assert_eq!(RecoveryMode::default().to_string(), "tolerate-torn-tail");
/// assert!("skip-any".parse::<RecoveryMode>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RecoveryMode {
    /// The default (RocksDB's `kTolerateCorruptedTailRecords`): an incomplete record at
    /// the very end of the last segment, what a crash mid-write leaves, is truncated and
    /// reported as [`RecoveryWarning::TornTail`](super::RecoveryWarning::TornTail).
    /// Anything else (a complete record that fails its checksum, a missing, empty or
    /// overlapping segment, a journal shorter than its clean-shutdown marker says) is an
    /// error naming the file, offset and seqs: complete records were lost, and recovery
    /// refuses to start rather than hide it.
    #[default]
    TolerateTornTail,
    /// RocksDB's `kAbsoluteConsistency`: the journal must be intact. A torn tail, or a
    /// journal that ends before the newest snapshot, is an error too; nothing is modified.
    AbsoluteConsistency,
    /// RocksDB's `kPointInTimeRecovery`: recover to the last good record before the first
    /// problem, whatever it is, and make the journal end there so the engine can continue
    /// it. The bytes cut from a segment are saved to `SEGMENT.journal.cut-at-OFFSET`, and
    /// the segments after the cut are renamed to `SEGMENT.journal.discarded` (nothing is
    /// deleted); a [`RecoveryWarning::PointInTimeCut`](super::RecoveryWarning::PointInTimeCut)
    /// names the problem, the last seq kept and every file set aside.
    PointInTime,
}

impl RecoveryMode {
    /// Every mode, in the order documented.
    pub const ALL: [RecoveryMode; 3] = [
        RecoveryMode::TolerateTornTail,
        RecoveryMode::AbsoluteConsistency,
        RecoveryMode::PointInTime,
    ];

    /// The mode's name on the command line.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            RecoveryMode::TolerateTornTail => "tolerate-torn-tail",
            RecoveryMode::AbsoluteConsistency => "absolute-consistency",
            RecoveryMode::PointInTime => "point-in-time",
        }
    }
}

impl fmt::Display for RecoveryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`RecoveryMode`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid recovery mode {0:?}: expected tolerate-torn-tail, absolute-consistency or point-in-time"
)]
pub struct ParseRecoveryModeError(String);

impl FromStr for RecoveryMode {
    type Err = ParseRecoveryModeError;

    /// Parses a mode's [`name`](RecoveryMode::name), exactly.
    fn from_str(s: &str) -> Result<RecoveryMode, ParseRecoveryModeError> {
        RecoveryMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| ParseRecoveryModeError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print() {
        for mode in RecoveryMode::ALL {
            assert_eq!(mode.to_string().parse(), Ok(mode));
        }
        let err = "Point-In-Time".parse::<RecoveryMode>().unwrap_err();
        assert!(err.to_string().contains("absolute-consistency"), "{err}");
    }
}
