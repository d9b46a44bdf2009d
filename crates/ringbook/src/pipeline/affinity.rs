//! Core pinning, validated against the cores this process may run on.

use std::sync::OnceLock;

use crate::manager::OrderbookManagerError;

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
pub fn available_cores() -> Vec<usize> {
    allowed_cores().to_vec()
}

/// Checks that every core in `cores` is one this process may run on.
///
/// # Errors
///
/// [`OrderbookManagerError::InvalidConfig`] naming the first core that is not, and the
/// allowed set.
pub(crate) fn validate_cores(cores: &[usize]) -> Result<(), OrderbookManagerError> {
    let allowed = allowed_cores();
    match cores.iter().find(|c| !allowed.contains(c)) {
        None => Ok(()),
        Some(core) => Err(OrderbookManagerError::InvalidConfig(format!(
            "core {core} is not available to this process (allowed: {allowed:?})"
        ))),
    }
}

/// Pins the calling thread to `core` (already validated); logs if the OS refuses.
pub(crate) fn pin_current(core: usize) {
    if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        tracing::warn!(core, "could not pin thread to core");
    }
}

/// Parses a core list: `0,2,3` or ranges like `0-3`.
///
/// # Errors
///
/// A message naming the part that is not a core number or range.
pub fn parse_core_list(text: &str) -> Result<Vec<usize>, String> {
    let mut cores = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("{part:?} is not a core number or range"))
        };
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi {
                    return Err(format!("{part:?} is an empty range"));
                }
                cores.extend(lo..=hi);
            }
            None => cores.push(number(part)?),
        }
    }
    if cores.is_empty() {
        return Err("the core list is empty".into());
    }
    Ok(cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_lists_take_ranges() {
        assert_eq!(parse_core_list("0,2-4, 7"), Ok(vec![0, 2, 3, 4, 7]));
        assert!(parse_core_list("a").is_err());
        assert!(parse_core_list("3-1").is_err());
        assert!(parse_core_list("").is_err());
    }

    #[test]
    fn cores_outside_the_allowed_set_are_refused() {
        assert!(validate_cores(&[usize::MAX]).is_err());
        let allowed = allowed_cores();
        if let Some(&first) = allowed.first() {
            assert!(validate_cores(&[first]).is_ok());
        }
    }
}
