//! The snapshot writer: gathers every book's image at a checkpoint and writes the engine
//! snapshot atomically, off the matching threads.

use std::collections::BTreeMap;
use std::path::Path;

use crossbeam_channel::Receiver;

use super::{ThreadFailure, ThreadReport};
use crate::book::BookImage;
use crate::journal::{EngineSnapshot, prune_held, write_snapshot};

/// One book's part of a snapshot: its image after command `seq`, or `None` when the book
/// failed and cannot give one, and the events published for its commands since the engine
/// started.
pub(crate) struct BookCheckpoint {
    pub(crate) seq: u64,
    pub(crate) slot: u32,
    pub(crate) events: u64,
    pub(crate) image: Option<BookImage>,
}

/// One book's part of a snapshot being gathered.
enum Part {
    /// Not arrived yet.
    Awaited,
    /// The book failed: the snapshot is abandoned.
    Failed,
    /// Its image and its count of events.
    Imaged(BookImage, u64),
}

/// Runs until every book consumer has gone: each snapshot is written once all `books`
/// images for its seq have arrived, then (with `keep`) what recovery no longer needs is
/// pruned. `events_before` is the count of events published before the engine started
/// (recovered from the journal): each snapshot records it plus what every book has
/// published since.
pub(super) fn run(
    rx: Receiver<BookCheckpoint>,
    books: usize,
    events_before: u64,
    dir: &Path,
    keep: Option<usize>,
) -> ThreadReport {
    let mut gathering: BTreeMap<u64, Vec<Part>> = BTreeMap::new();
    let mut report = ThreadReport::default();
    for part in rx {
        let parts = gathering
            .entry(part.seq)
            .or_insert_with(|| (0..books).map(|_| Part::Awaited).collect());
        parts[part.slot as usize] = match part.image {
            Some(image) => Part::Imaged(image, part.events),
            None => Part::Failed,
        };
        if parts.iter().any(|p| matches!(p, Part::Awaited)) {
            continue;
        }
        let parts = gathering.remove(&part.seq).unwrap_or_default();
        let mut images = Vec::with_capacity(parts.len());
        let mut events = events_before;
        for part in parts {
            if let Part::Imaged(image, book_events) = part {
                images.push(image);
                events += book_events;
            }
        }
        if images.len() < books {
            tracing::error!(seq = part.seq, "snapshot abandoned: a book has failed");
            continue;
        }
        let snapshot = EngineSnapshot::new(part.seq, images).with_events(events);
        match write_snapshot(dir, &snapshot) {
            Ok(path) => {
                tracing::info!(seq = part.seq, file = %path.display(), "snapshot written");
                // The engine's journal writer holds the directory's lock.
                match keep.map(|keep| prune_held(dir, keep)) {
                    Some(Ok(pruned)) => tracing::info!(
                        seq = part.seq,
                        snapshots = pruned.snapshots_removed.len(),
                        segments = pruned.segments_removed.len(),
                        "journal pruned"
                    ),
                    // Disk use grows, nothing is lost: the engine goes on.
                    Some(Err(error)) => {
                        tracing::warn!(seq = part.seq, %error, "journal not pruned")
                    }
                    None => {}
                }
            }
            Err(error) => {
                tracing::error!(seq = part.seq, %error, "snapshot not written");
                report.failures.push(ThreadFailure {
                    instruments: Vec::new(),
                    lost_commands: 0,
                    message: format!("snapshot at seq {}: {error}", part.seq),
                });
            }
        }
    }
    for seq in gathering.keys() {
        tracing::warn!(seq, "snapshot incomplete at shutdown: not written");
    }
    report
}
