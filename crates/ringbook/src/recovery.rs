//! Crash recovery: the newest valid snapshot, then the journal after it, rebuilt into
//! books that are exactly the books that crashed.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::book::{OrderBook, state_hash_of};
use crate::journal::{
    DirLock, JournalError, JournalReader, RecoveryMode, RecoveryWarning, SnapshotProblem,
    holds_journal, load_latest_snapshot,
};
use crate::registry::InstrumentRegistry;
use crate::result::{EventSink, OrderbookResult};

/// The state recovery rebuilt.
#[derive(Debug)]
pub struct Recovered {
    /// The instruments: the snapshot's, then those the caller named, then any the
    /// journal applied commands to, in that order of first appearance.
    pub registry: InstrumentRegistry,
    /// One book per registered instrument, in slot order.
    pub books: Vec<OrderBook>,
    /// The last sequence number applied (the snapshot's, or the journal's last record):
    /// the engine goes on numbering from the next.
    pub last_seq: u64,
    /// The snapshot recovery started from: its seq and file.
    pub snapshot: Option<(u64, PathBuf)>,
    /// Journal records replayed after the snapshot.
    pub replayed: u64,
    /// How many events the engine published for the commands up to `last_seq`: the
    /// snapshot's count plus the events of the records replayed after it. An engine
    /// started on this numbers its first event one more, so the event stream's numbering
    /// goes on across restarts without a gap or a repeat.
    pub events: u64,
    /// Everything recovery worked around (a torn tail truncated, a damaged snapshot
    /// skipped, ...), in the order found. Never empty when something was repaired.
    pub warnings: Vec<RecoveryWarning>,
}

impl Recovered {
    /// The state hash of every book ([`state_hash_of`]).
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        state_hash_of(&self.books.iter().collect::<Vec<_>>())
    }
}

/// Rebuilds the engine from the journal directory `dir`: loads the newest snapshot whose
/// checksum verifies (skipping damaged ones with a warning), rebuilds its books, and
/// replays every journal record after it through the books, publishing each record's
/// events to `sink` (in journal order; rejected records publish their `rejected` event).
/// A torn final record is truncated and reported as a warning. This is
/// [`recover_in_mode`] in the default mode, [`RecoveryMode::TolerateTornTail`].
///
/// `instruments` are registered too (after the snapshot's); an instrument the journal
/// applies a command to is registered when first met.
///
/// # Errors
///
/// A corrupt record in the middle of the journal, a missing segment, an unreadable
/// directory, or a snapshot whose books cannot be rebuilt: each names the file and what
/// is wrong. Recovery never skips a record silently. [`JournalError::Locked`] if another
/// process writes the journal (recovery may repair its tail, so it takes the directory's
/// lock while it runs).
///
/// A directory that holds no journal (no segment, snapshot, clean-shutdown marker or
/// `LOCK` file; or no directory at all) is recovered as empty, and nothing is created in
/// it: not even the `LOCK` file.
///
/// # Examples
///
/// ```
/// use ringbook::recover;
///
/// let dir = std::env::temp_dir().join(format!("ringbook-doc-recover-{}", std::process::id()));
/// let recovered = recover(&dir, [], &mut |_| {})?; // an empty directory: nothing to rebuild
/// assert_eq!(recovered.last_seq, 0);
/// assert!(recovered.books.is_empty());
/// # let _ = std::fs::remove_dir_all(&dir);
/// # Ok::<(), ringbook::journal::JournalError>(())
/// ```
pub fn recover<S: EventSink + ?Sized>(
    dir: &Path,
    instruments: impl IntoIterator<Item = Uuid>,
    sink: &mut S,
) -> Result<Recovered, JournalError> {
    recover_in_mode(dir, instruments, RecoveryMode::default(), sink)
}

/// [`recover`], treating damage as `mode` says: see [`RecoveryMode`] for what each mode
/// tolerates, refuses and cuts.
///
/// # Errors
///
/// As [`recover`]; which damage is an error depends on `mode`.
///
/// # Examples
///
/// ```
/// use ringbook::journal::RecoveryMode;
/// use ringbook::recover_in_mode;
///
/// let dir = std::env::temp_dir().join(format!("ringbook-doc-recover-mode-{}", std::process::id()));
/// let recovered = recover_in_mode(&dir, [], RecoveryMode::AbsoluteConsistency, &mut |_| {})?;
/// assert_eq!(recovered.last_seq, 0);
/// assert!(!dir.exists(), "nothing is created for a directory that holds no journal");
/// # Ok::<(), ringbook::journal::JournalError>(())
/// ```
pub fn recover_in_mode<S: EventSink + ?Sized>(
    dir: &Path,
    instruments: impl IntoIterator<Item = Uuid>,
    mode: RecoveryMode,
    sink: &mut S,
) -> Result<Recovered, JournalError> {
    // Recovery may repair the journal (a torn tail, a point-in-time cut): it must not run
    // while another process writes. Where there is no journal there is nothing to repair,
    // and nothing is created.
    let _lock = if holds_journal(dir)? {
        Some(DirLock::acquire(dir)?)
    } else {
        None
    };
    let loaded = load_latest_snapshot(dir)?;
    let mut warnings = loaded.warnings;
    let mut registry = InstrumentRegistry::default();
    let mut books = Vec::new();
    let mut last_seq = 0;
    let mut snapshot = None;
    let mut loaded_events = 0;
    if let Some((snap, path)) = loaded.found {
        for image in &snap.books {
            let book = OrderBook::from_image(image).map_err(|e| JournalError::Snapshot {
                file: path.clone(),
                problem: SnapshotProblem::Image(Box::new(e)),
            })?;
            if registry.slot(&image.instrument_id).is_some() {
                return Err(JournalError::Snapshot {
                    file: path.clone(),
                    problem: SnapshotProblem::DuplicateBook {
                        instrument_id: image.instrument_id,
                    },
                });
            }
            registry.register(image.instrument_id);
            books.push(book);
        }
        last_seq = snap.last_seq;
        loaded_events = snap.events;
        snapshot = Some((snap.last_seq, path));
    }
    for instrument in instruments {
        if registry.slot(&instrument).is_none() {
            registry.register(instrument);
            books.push(OrderBook::new(instrument));
        }
    }
    let mut events = loaded_events;
    let mut sink = |result: OrderbookResult| {
        events += 1;
        sink.publish(result);
    };
    let sink = &mut sink;
    let mut reader = JournalReader::open_in_mode(dir, last_seq, mode, true)?;
    let mut replayed = 0u64;
    while let Some(entry) = reader.next_entry()? {
        replayed += 1;
        last_seq = entry.seq;
        let command = entry.command;
        if let Some(reason) = entry.reject {
            sink.publish(OrderbookResult::rejected(&command, reason));
            continue;
        }
        let instrument = command.instrument_id();
        let slot = match registry.slot(&instrument) {
            Some(slot) => slot,
            None => {
                books.push(OrderBook::new(instrument));
                registry.register(instrument)
            }
        };
        books[slot as usize].apply(&command, sink);
    }
    let report = reader.into_report();
    warnings.extend(report.warnings);
    last_seq = last_seq.max(report.last_seq);
    for warning in &warnings {
        tracing::warn!(%warning, dir = %dir.display(), "recovery");
    }
    Ok(Recovered {
        registry,
        books,
        last_seq,
        snapshot,
        replayed,
        events,
        warnings,
    })
}
