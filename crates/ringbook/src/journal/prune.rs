//! Pruning: deleting the snapshots and journal segments recovery can no longer need.
//!
//! Recovery starts from the newest snapshot that reads back valid and replays the journal
//! after it; if that snapshot is damaged it falls back to the one before. Pruning keeps the
//! `keep` newest valid snapshots and every segment holding a record after the oldest of
//! them, so each kept snapshot can still be the starting point: with `keep` at least 2, a
//! damaged newest snapshot leaves recovery a fallback with its whole journal. Everything
//! older goes. The last segment (the one being written) is never deleted.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::JournalError;
use super::lock::DirLock;
use super::reader::list_segments;
use super::snapshot::{list_snapshots, read_snapshot};
use super::writer::sync_dir;

/// What [`prune`] deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// The oldest snapshot kept, by seq; `None` when there were too few valid snapshots
    /// to delete anything.
    pub oldest_kept: Option<u64>,
    /// The snapshot files deleted, oldest first.
    pub snapshots_removed: Vec<PathBuf>,
    /// The segment files deleted, oldest first.
    pub segments_removed: Vec<PathBuf>,
}

/// Deletes from the journal in `dir` the snapshots older than the `keep` newest valid
/// ones, and the segments whose records all come before the oldest snapshot kept. With
/// fewer than `keep` valid snapshots it deletes nothing. It takes the directory's lock:
/// it cannot run while another process writes the journal.
///
/// # Errors
///
/// [`JournalError::Config`] for `keep` 0; [`JournalError::Locked`] if another writer holds
/// the directory; [`JournalError::Io`] if a file cannot be listed or deleted (what was
/// deleted before stays deleted, and recovery still works: files go oldest first).
///
/// # Examples
///
/// ```
/// use ringbook::journal::{EngineSnapshot, JournalConfig, JournalEntry, JournalWriter, prune, write_snapshot};
/// use ringbook::{Command, Uuid};
///
/// let dir = std::env::temp_dir().join(format!("ringbook-doc-prune-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let config = JournalConfig::default().with_segment_bytes(100);
/// let mut journal = JournalWriter::open(&dir, config)?;
/// let status = Command::Status { instrument_id: Uuid::from_u128(1) };
/// for seq in 1..=30 {
///     journal.append(&JournalEntry { seq, timestamp_ns: seq, command: status, reject: None })?;
///     journal.commit_batch()?;
///     if seq % 10 == 0 {
///         write_snapshot(&dir, &EngineSnapshot::new(seq, Vec::new()))?;
///     }
/// }
/// drop(journal);
/// let report = prune(&dir, 2)?;
/// assert_eq!(report.oldest_kept, Some(20));
/// assert_eq!(report.snapshots_removed.len(), 1); // the one at seq 10
/// assert!(!report.segments_removed.is_empty()); // segments of records 1..=20 only
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), ringbook::journal::JournalError>(())
/// ```
pub fn prune(dir: &Path, keep: usize) -> Result<PruneReport, JournalError> {
    if !super::holds_journal(dir)? {
        // Nothing to prune, and no lock file to leave in a directory that is no journal.
        return prune_held(dir, keep).map(|_| PruneReport::default());
    }
    let _lock = DirLock::acquire(dir)?;
    prune_held(dir, keep)
}

/// [`prune`] for a caller that already holds the directory's lock (the engine, whose
/// journal writer holds it).
pub(crate) fn prune_held(dir: &Path, keep: usize) -> Result<PruneReport, JournalError> {
    if keep == 0 {
        return Err(JournalError::Config {
            setting: "keep",
            value: 0,
            min: 1,
        });
    }
    let mut report = PruneReport::default();
    let (snapshots, _) = list_snapshots(dir)?; // newest first
    let mut valid = 0;
    let mut oldest_kept = None;
    for (seq, path) in &snapshots {
        if read_snapshot(path).is_ok() {
            valid += 1;
            if valid == keep {
                oldest_kept = Some(*seq);
                break;
            }
        }
    }
    let Some(oldest_kept) = oldest_kept else {
        return Ok(report);
    };
    report.oldest_kept = Some(oldest_kept);
    // Segments first, oldest first: a crash part-way leaves a journal that still starts
    // at or before every snapshot kept.
    let (segments, _) = list_segments(dir)?;
    for pair in segments.windows(2) {
        // Every record of pair[0] comes before pair[1]'s first.
        if pair[1].first_seq > oldest_kept + 1 {
            break;
        }
        fs::remove_file(&pair[0].path).map_err(JournalError::io("remove", &pair[0].path))?;
        report.segments_removed.push(pair[0].path.clone());
    }
    for (seq, path) in snapshots.iter().rev() {
        if *seq >= oldest_kept {
            break;
        }
        fs::remove_file(path).map_err(JournalError::io("remove", path))?;
        report.snapshots_removed.push(path.clone());
    }
    if !report.segments_removed.is_empty() || !report.snapshots_removed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(report)
}
