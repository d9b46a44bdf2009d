//! The journal flags of `replay`, and the `journal` subcommands.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ringbook::JournalOptions;
use ringbook::journal::{JournalConfig, JournalError, SyncPolicy, dump, prune};

use crate::{Failure, output};

/// Journaling while an engine runs.
#[derive(Args, Debug, Clone)]
pub(crate) struct JournalArgs {
    /// Journal every sequenced command into this directory before any book sees it; a
    /// journal already there is recovered first and continued.
    #[arg(long, value_name = "DIR")]
    pub(crate) journal: Option<PathBuf>,
    /// When the journal is synced to disk: `none`, `every-batch`, or `interval:MS`.
    #[arg(long, default_value = "every-batch", value_name = "POLICY")]
    pub(crate) journal_sync: SyncPolicy,
    /// Take a snapshot of every book after this many commands (into the journal directory).
    #[arg(long, value_name = "N")]
    pub(crate) snapshot_every: Option<u64>,
    /// After each snapshot, keep only this many (at least 2) and delete the journal
    /// segments recovery no longer needs. Without it nothing is deleted.
    #[arg(long, value_name = "N")]
    pub(crate) keep_snapshots: Option<usize>,
    /// Start a new journal segment file past this many bytes.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub(crate) segment_bytes: u64,
}

impl JournalArgs {
    /// The journal options these flags describe, if `--journal` was given.
    pub(crate) fn options(&self) -> Option<JournalOptions> {
        self.journal.as_ref().map(|dir| JournalOptions {
            dir: dir.clone(),
            config: JournalConfig {
                segment_bytes: self.segment_bytes,
                sync: self.journal_sync,
            },
            snapshot_every: self.snapshot_every,
            keep_snapshots: self.keep_snapshots,
        })
    }
}

/// `ringbook journal ...`
#[derive(Subcommand, Debug)]
pub(crate) enum JournalCommand {
    /// Print every record of a journal directory, one per line (and each snapshot's
    /// header); damaged records are described, nothing is changed.
    Dump {
        /// The journal directory.
        dir: PathBuf,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Delete the snapshots older than the N newest valid ones, and the segments whose
    /// records all come before the oldest snapshot kept (refused while a writer holds the
    /// directory).
    Prune {
        /// The journal directory.
        dir: PathBuf,
        /// How many of the newest valid snapshots to keep (at least 1; 2 or more leaves a
        /// fallback if the newest is damaged).
        #[arg(long, value_name = "N")]
        keep: usize,
    },
}

pub(crate) fn run(command: JournalCommand) -> Result<(), Failure> {
    match command {
        JournalCommand::Prune { dir, keep } => {
            journal_dir(&dir)?;
            let report = prune(&dir, keep)
                .map_err(|e| Failure::other(format!("cannot prune {}: {e}", dir.display())))?;
            match report.oldest_kept {
                None => println!("fewer than {keep} valid snapshots: nothing deleted"),
                Some(seq) => println!(
                    "oldest snapshot kept: seq {seq}; deleted {} snapshot(s) and {} segment(s)",
                    report.snapshots_removed.len(),
                    report.segments_removed.len()
                ),
            }
            for path in report
                .snapshots_removed
                .iter()
                .chain(&report.segments_removed)
            {
                println!("deleted {}", path.display());
            }
            Ok(())
        }
        JournalCommand::Dump { dir, output: path } => {
            journal_dir(&dir)?;
            let mut out = BufWriter::new(output::open(path.as_deref())?);
            let dumped = dump(&dir, &mut out).map_err(|e| match e {
                JournalError::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe => {
                    source
                }
                other => io::Error::other(other),
            });
            match dumped.and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) => output::write_failure("the dump", e),
            }
        }
    }
}

/// Refuses a path that is not a directory, before a journal command reads it.
fn journal_dir(dir: &Path) -> Result<(), Failure> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Failure::other(format!(
            "{} is not a journal directory",
            dir.display()
        )))
    }
}
