//! The journal flags of `replay`, and the `journal` subcommands.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ringbook::JournalOptions;
use ringbook::journal::{
    JournalConfig, JournalError, RecoveryMode, RecoveryWarning, SyncPolicy, VerifyReport, dump,
    holds_journal, prune, verify,
};

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
    /// Needs `--journal`.
    #[arg(long, value_name = "N", requires = "journal")]
    pub(crate) snapshot_every: Option<u64>,
    /// After each snapshot, keep only this many (at least 2) and delete the journal
    /// segments recovery no longer needs. Without it nothing is deleted. Needs `--journal`.
    #[arg(long, value_name = "N", requires = "journal")]
    pub(crate) keep_snapshots: Option<usize>,
    /// How recovering the journal treats damage: `tolerate-torn-tail` (truncate an
    /// incomplete final record, refuse anything else), `absolute-consistency` (refuse any
    /// damage), `point-in-time` (keep the records before the first problem, set the rest
    /// aside). Needs `--journal`.
    #[arg(
        long,
        default_value = "tolerate-torn-tail",
        value_name = "MODE",
        requires = "journal"
    )]
    pub(crate) journal_recovery: RecoveryMode,
    /// Start a new journal segment file past this many bytes.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub(crate) segment_bytes: u64,
}

impl JournalArgs {
    /// The journal options these flags describe, if `--journal` was given.
    pub(crate) fn options(&self) -> Option<JournalOptions> {
        self.journal.as_ref().map(|dir| {
            JournalOptions::new(dir.clone())
                .with_config(
                    JournalConfig::default()
                        .with_segment_bytes(self.segment_bytes)
                        .with_sync(self.journal_sync),
                )
                .with_snapshot_every(self.snapshot_every)
                .with_keep_snapshots(self.keep_snapshots)
                .with_recovery(self.journal_recovery)
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
    /// Check a journal directory without changing anything (no lock, no file created):
    /// print its segments, record range, snapshots and every problem (file, offset, seq).
    /// Exit status 0: recovery in the default mode would lose nothing; 1: it would refuse
    /// to start (complete records lost or damaged); 3: it would truncate a torn tail (an
    /// incomplete final record, what a crash mid-write leaves).
    Verify {
        /// The journal directory.
        dir: PathBuf,
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
        JournalCommand::Verify { dir } => {
            journal_dir(&dir)?;
            match holds_journal(&dir) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Failure::other(format!(
                        "{} is not a journal directory: it holds no segment, snapshot, \
                         clean-shutdown marker or LOCK file",
                        dir.display()
                    )));
                }
                Err(e) => {
                    return Err(Failure::other(format!(
                        "cannot read {}: {e}",
                        dir.display()
                    )));
                }
            }
            let report = verify(&dir)
                .map_err(|e| Failure::other(format!("cannot verify {}: {e}", dir.display())))?;
            let mut out = io::stdout().lock();
            print_verify(&mut out, &report)
                .and_then(|()| out.flush())
                .or_else(|e| output::write_failure("the report", e))?;
            match &report.default_mode {
                Err(e) => Err(Failure::other(format!(
                    "recovery of {} in the default mode would refuse to start: {e}",
                    dir.display()
                ))),
                Ok(recovery) => match recovery
                    .warnings
                    .iter()
                    .find(|w| matches!(w, RecoveryWarning::TornTail { .. }))
                {
                    Some(torn) => Err(Failure {
                        message: format!(
                            "recovery of {} in the default mode would drop bytes: {torn}",
                            dir.display()
                        ),
                        status: 3,
                    }),
                    None => Ok(()),
                },
            }
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

/// Writes what `journal verify` found.
fn print_verify(out: &mut impl Write, report: &VerifyReport) -> io::Result<()> {
    let first = report.segments.first().map(|s| s.first_seq);
    let last = report.segments.iter().rev().find_map(|s| s.last_seq);
    match (first, last) {
        (Some(first), Some(last)) => writeln!(
            out,
            "journal: {} segment(s), records {first}..={last}",
            report.segments.len()
        )?,
        _ => writeln!(
            out,
            "journal: {} segment(s), no records",
            report.segments.len()
        )?,
    }
    for segment in &report.segments {
        write!(
            out,
            "segment {}: {} bytes, first seq {}, {} record(s)",
            segment.file.display(),
            segment.bytes,
            segment.first_seq,
            segment.records
        )?;
        if let Some(last) = segment.last_seq {
            write!(out, " {}..={last}", segment.first_seq)?;
        }
        if let Some(next) = segment.sealed_next {
            write!(out, ", sealed (next segment starts at seq {next})")?;
        }
        writeln!(out)?;
        if let Some(problem) = &segment.problem {
            writeln!(out, "PROBLEM {}: {problem}", segment.file.display())?;
        }
    }
    match &report.clean_shutdown {
        Ok(Some(marker)) => writeln!(
            out,
            "clean shutdown: at seq {}, last segment {} ({} bytes)",
            marker.last_seq, marker.segment, marker.bytes
        )?,
        Ok(None) => writeln!(out, "clean shutdown: none (open, or stopped by a crash)")?,
        Err(e) => writeln!(out, "PROBLEM {e}")?,
    }
    for snapshot in &report.snapshots {
        match &snapshot.problem {
            None => writeln!(
                out,
                "snapshot {}: seq {}",
                snapshot.file.display(),
                snapshot.last_seq
            )?,
            Some(problem) => writeln!(
                out,
                "PROBLEM snapshot {}: invalid: {problem}",
                snapshot.file.display()
            )?,
        }
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    writeln!(out, "recovery starts after seq {}", report.start_seq)?;
    match &report.default_mode {
        Ok(recovery) => {
            writeln!(
                out,
                "default mode (tolerate-torn-tail): OK, would replay {} record(s), last seq {}",
                recovery.entries_delivered, recovery.last_seq
            )?;
            for warning in &recovery.warnings {
                writeln!(out, "default mode would warn: {warning}")?;
            }
        }
        Err(e) => writeln!(out, "default mode (tolerate-torn-tail): REFUSES: {e}")?,
    }
    match &report.point_in_time {
        Some(Ok(recovery)) => {
            writeln!(
                out,
                "point-in-time mode: would keep records up to seq {}",
                recovery.last_seq
            )?;
            for warning in &recovery.warnings {
                writeln!(out, "point-in-time mode would warn: {warning}")?;
            }
        }
        Some(Err(e)) => writeln!(out, "point-in-time mode: fails: {e}")?,
        None => {}
    }
    Ok(())
}
