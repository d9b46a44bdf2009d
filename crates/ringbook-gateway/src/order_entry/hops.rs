//! A diagnostic: when an order's hops through the gateway happened, for a run that asks
//! for it (`ringbook serve --ouch-hops FILE`). Each new order (Enter Order) is stamped
//! on the monotonic clock when its session handles it (right after the socket read that
//! brought it) and when the engine's Accepted (or Rejected) event for it reaches the
//! responder. The times are the same clock as a client's on the same machine, so a
//! client's own stamps (`ringbook client --hops FILE`) join them order by order.
//!
//! Off (no log) nothing is recorded and no clock is read; on, each stamp takes a lock
//! and a clock read, so the figures of such a run are a diagnostic, not a benchmark.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use parking_lot::Mutex;

use super::order_id::{UserKey, username_of};

/// Where a stamp was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hop {
    /// The session handled the Enter Order (just after the read that brought it).
    Read,
    /// The engine's first event for the order (Accepted or Rejected) reached the
    /// responder.
    Event,
}

impl Hop {
    fn label(self) -> &'static str {
        match self {
            Hop::Read => "read",
            Hop::Event => "event",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Stamp {
    user: UserKey,
    urn: u32,
    hop: Hop,
    ns: u64,
}

/// The stamps of a diagnostic run (see the module docs), up to a bound.
#[derive(Debug)]
pub struct HopLog {
    stamps: Mutex<Vec<Stamp>>,
    bound: usize,
}

impl HopLog {
    /// A log keeping at most `bound` stamps (allocated up front: recording never
    /// allocates; stamps past the bound are dropped).
    #[must_use]
    pub fn new(bound: usize) -> HopLog {
        HopLog {
            stamps: Mutex::new(Vec::with_capacity(bound)),
            bound,
        }
    }

    /// Records that `hop` of `user`'s order `urn` happened now.
    pub(crate) fn stamp(&self, user: UserKey, urn: u32, hop: Hop) {
        let ns = crate::soup::monotonic_ns();
        let mut stamps = self.stamps.lock();
        if stamps.len() < self.bound {
            stamps.push(Stamp { user, urn, hop, ns });
        }
    }

    /// How many stamps are recorded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.stamps.lock().len()
    }

    /// Whether nothing is recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the stamps to `path` as CSV: `hop,user,user_ref_num,monotonic_ns`.
    ///
    /// # Errors
    ///
    /// When the file cannot be created or written.
    pub fn write_csv(&self, path: &Path) -> io::Result<()> {
        let stamps = self.stamps.lock();
        let mut out = BufWriter::new(std::fs::File::create(path)?);
        writeln!(out, "hop,user,user_ref_num,monotonic_ns")?;
        for s in stamps.iter() {
            writeln!(
                out,
                "{},{},{},{}",
                s.hop.label(),
                username_of(s.user),
                s.urn,
                s.ns
            )?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_entry::order_id::user_key;

    #[test]
    fn stamps_are_kept_in_order_up_to_the_bound_and_written_as_csv() {
        let log = HopLog::new(2);
        let alice = user_key(b"alice");
        log.stamp(alice, 7, Hop::Read);
        log.stamp(alice, 7, Hop::Event);
        log.stamp(alice, 8, Hop::Read);
        assert_eq!(log.len(), 2);
        let dir = std::env::temp_dir().join(format!("hops-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hops.csv");
        log.write_csv(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "hop,user,user_ref_num,monotonic_ns");
        assert!(lines[1].starts_with("read,alice,7,"), "{text}");
        assert!(lines[2].starts_with("event,alice,7,"), "{text}");
        let t = |l: &str| l.rsplit(',').next().unwrap().parse::<u64>().unwrap();
        assert!(t(lines[1]) <= t(lines[2]));
        assert_eq!(lines.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
