//! The snapshot writer: gathers every book's image at a checkpoint and writes the engine
//! snapshot atomically, off the matching threads.

use std::collections::BTreeMap;
use std::path::Path;

use crossbeam_channel::Receiver;

use super::{ThreadFailure, ThreadReport};
use crate::book::BookImage;
use crate::journal::{EngineSnapshot, prune_held, write_snapshot};

/// One book's part of a snapshot: its image after command `seq`, or `None` when the book
/// failed and cannot give one.
pub(crate) struct BookCheckpoint {
    pub(crate) seq: u64,
    pub(crate) slot: u32,
    pub(crate) image: Option<BookImage>,
}

/// Runs until every book consumer has gone: each snapshot is written once all `books`
/// images for its seq have arrived, then (with `keep`) what recovery no longer needs is
/// pruned.
pub(super) fn run(
    rx: Receiver<BookCheckpoint>,
    books: usize,
    dir: &Path,
    keep: Option<usize>,
) -> ThreadReport {
    let mut gathering: BTreeMap<u64, Vec<Option<Option<BookImage>>>> = BTreeMap::new();
    let mut report = ThreadReport::default();
    for part in rx {
        let parts = gathering
            .entry(part.seq)
            .or_insert_with(|| (0..books).map(|_| None).collect());
        parts[part.slot as usize] = Some(part.image);
        if parts.iter().any(Option::is_none) {
            continue;
        }
        let parts = gathering.remove(&part.seq).unwrap_or_default();
        let images: Option<Vec<BookImage>> = parts.into_iter().flatten().collect();
        let Some(images) = images else {
            tracing::error!(seq = part.seq, "snapshot abandoned: a book has failed");
            continue;
        };
        match write_snapshot(dir, &EngineSnapshot::new(part.seq, images)) {
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
