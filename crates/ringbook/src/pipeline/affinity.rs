//! Core pinning, validated against the cores this process may run on.

use std::sync::OnceLock;

use super::error::PipelineError;

/// The cores this process may run on, read once: `core_affinity` panics when asked to pin
/// to a core outside the thread's allowed set, so every request is checked against this.
fn allowed_cores() -> &'static [usize] {
    static CORES: OnceLock<Vec<usize>> = OnceLock::new();
    CORES.get_or_init(|| {
        core_affinity::get_core_ids()
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.id)
            .collect()
    })
}

/// The cores this process may run on, as read once at first use.
#[must_use]
pub fn available_cores() -> Vec<usize> {
    allowed_cores().to_vec()
}

/// Checks that every core in `cores` is one this process may run on.
///
/// # Errors
///
/// [`PipelineError::CoreNotAvailable`] naming the first core that is not, and the allowed
/// set.
pub(crate) fn validate_cores(cores: &[usize]) -> Result<(), PipelineError> {
    let allowed = allowed_cores();
    match cores.iter().find(|c| !allowed.contains(c)) {
        None => Ok(()),
        Some(&core) => Err(PipelineError::CoreNotAvailable {
            core,
            allowed: allowed.to_vec(),
        }),
    }
}

/// Pins the calling thread to `core` (already validated); logs if the OS refuses.
pub(crate) fn pin_current(core: usize) {
    if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        tracing::warn!(core, "could not pin thread to core");
    }
}

/// Why a core list (`0,2,3`, `0-3`) does not parse: the part that is wrong and where it
/// starts in the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseCoreListError {
    /// A part that is neither a core number nor a range of them.
    #[error("{part:?} (at byte {offset}) is not a core number or range")]
    NotACore {
        /// The part, trimmed.
        part: String,
        /// Its byte offset in the text.
        offset: usize,
    },
    /// A range whose start is past its end.
    #[error("{part:?} (at byte {offset}) is an empty range: {start} is greater than {end}")]
    EmptyRange {
        /// The part, trimmed.
        part: String,
        /// Its byte offset in the text.
        offset: usize,
        /// The range's first core.
        start: usize,
        /// The range's last core.
        end: usize,
    },
    /// The text names no core at all.
    #[error("the core list is empty")]
    Empty,
}

/// Parses a core list: `0,2,3` or ranges like `0-3`.
///
/// # Errors
///
/// [`ParseCoreListError`] naming the part that is not a core number or range, and its
/// byte offset; or saying the list is empty.
///
/// # Examples
///
/// ```
/// use ringbook::{ParseCoreListError, parse_core_list};
///
/// assert_eq!(parse_core_list("0, 2-4"), Ok(vec![0, 2, 3, 4]));
/// assert!(matches!(
///     parse_core_list("0,x"),
///     Err(ParseCoreListError::NotACore { offset: 2, .. })
/// ));
/// ```
pub fn parse_core_list(text: &str) -> Result<Vec<usize>, ParseCoreListError> {
    let mut cores = Vec::new();
    let mut start = 0;
    for raw in text.split(',') {
        let offset = start + (raw.len() - raw.trim_start().len());
        start += raw.len() + 1;
        let part = raw.trim();
        if part.is_empty() {
            continue;
        }
        let not_a_core = || ParseCoreListError::NotACore {
            part: part.to_string(),
            offset,
        };
        let number = |s: &str| s.trim().parse::<usize>().map_err(|_| not_a_core());
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi {
                    return Err(ParseCoreListError::EmptyRange {
                        part: part.to_string(),
                        offset,
                        start: lo,
                        end: hi,
                    });
                }
                cores.extend(lo..=hi);
            }
            None => cores.push(number(part)?),
        }
    }
    if cores.is_empty() {
        return Err(ParseCoreListError::Empty);
    }
    Ok(cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_lists_take_ranges() {
        assert_eq!(parse_core_list("0,2-4, 7"), Ok(vec![0, 2, 3, 4, 7]));
    }

    #[test]
    fn a_bad_core_list_names_the_part_and_its_offset() {
        let error = parse_core_list("0, a").unwrap_err();
        assert_eq!(
            error,
            ParseCoreListError::NotACore {
                part: "a".into(),
                offset: 3,
            }
        );
        assert_eq!(
            error.to_string(),
            "\"a\" (at byte 3) is not a core number or range"
        );
        assert_eq!(
            parse_core_list("1,,  3-1"),
            Err(ParseCoreListError::EmptyRange {
                part: "3-1".into(),
                offset: 5,
                start: 3,
                end: 1,
            })
        );
        assert!(matches!(
            parse_core_list("0-x"),
            Err(ParseCoreListError::NotACore { offset: 0, .. })
        ));
        assert_eq!(parse_core_list(""), Err(ParseCoreListError::Empty));
        assert_eq!(parse_core_list(" , "), Err(ParseCoreListError::Empty));
    }

    #[test]
    fn cores_outside_the_allowed_set_are_refused() {
        let allowed = allowed_cores();
        match validate_cores(&[usize::MAX]) {
            Err(PipelineError::CoreNotAvailable {
                core,
                allowed: listed,
            }) => {
                assert_eq!(core, usize::MAX);
                assert_eq!(listed, allowed);
            }
            other => panic!("expected CoreNotAvailable, got {other:?}"),
        }
        if let Some(&first) = allowed.first() {
            assert!(validate_cores(&[first]).is_ok());
        }
    }
}
