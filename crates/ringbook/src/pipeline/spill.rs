//! Commands too large for an ingress entry, held aside until the sequencer reads them.
//!
//! An ingress entry carries an add without its instrument (its slot names it). An add
//! for an instrument with no slot (refused as `instrument_not_registered`) has no slot to
//! name its instrument with, so it is held here whole, under a token its entry carries:
//! only that refused path pays for a lock and a copy.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::command::Command;

/// The commands held aside, with their tokens, oldest first.
static HELD: Mutex<Vec<(u64, Command)>> = Mutex::new(Vec::new());

/// The next token: unique across every manager of the process.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(0);

/// Holds `command` aside and returns its token.
pub(super) fn hold(command: Command) -> u64 {
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    held().push((token, command));
    token
}

/// Takes back the command held under `token` (`None` if none is: taken already).
pub(super) fn take(token: u64) -> Option<Command> {
    let mut held = held();
    // Taken in about the order they were held: the search ends near the front.
    let at = held.iter().position(|(t, _)| *t == token)?;
    Some(held.remove(at).1)
}

/// The held commands, locked. A panic while the lock was held left the list whole (every
/// change is one push or one remove), so a poisoned lock is used as it is.
fn held() -> std::sync::MutexGuard<'static, Vec<(u64, Command)>> {
    HELD.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_held_command_is_taken_back_once() {
        let status = |n| Command::Status {
            instrument_id: Uuid::from_u128(n),
        };
        let first = hold(status(1));
        let second = hold(status(2));
        assert_ne!(first, second);
        assert_eq!(take(second), Some(status(2)));
        assert_eq!(take(second), None);
        assert_eq!(take(first), Some(status(1)));
        assert_eq!(take(first), None);
    }
}
