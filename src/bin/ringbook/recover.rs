//! `ringbook recover`: rebuild the engine from a journal directory and report it.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use ringbook::flow::{JsonlWriter, parse_id};
use ringbook::journal::{RecoveryMode, holds_journal};
use ringbook::{OrderbookResult, Uuid, recover_in_mode};

use crate::{Failure, output};

/// Arguments of `ringbook recover`.
#[derive(Args, Debug)]
pub(crate) struct RecoverArgs {
    /// The journal directory.
    #[arg(long, value_name = "DIR")]
    journal: PathBuf,
    /// Write the events of the replayed journal records (those after the snapshot) here,
    /// as JSON Lines numbered from 1.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Register these instruments too (comma-separated UUIDs or decimal integers).
    #[arg(long, value_delimiter = ',', value_parser = parse_id)]
    instruments: Option<Vec<Uuid>>,
    /// How to treat damage: `tolerate-torn-tail` (truncate an incomplete final record,
    /// refuse anything else), `absolute-consistency` (refuse any damage, change nothing),
    /// `point-in-time` (keep the records before the first problem; the bytes and segments
    /// after it are renamed aside, never deleted).
    #[arg(long, default_value = "tolerate-torn-tail", value_name = "MODE")]
    mode: RecoveryMode,
}

pub(crate) fn run(args: RecoverArgs) -> Result<(), Failure> {
    if !args.journal.is_dir() {
        return Err(Failure::other(format!(
            "{} is not a journal directory",
            args.journal.display()
        )));
    }
    match holds_journal(&args.journal) {
        Ok(true) => {}
        Ok(false) => {
            return Err(Failure::other(format!(
                "{} is not a journal directory: it holds no segment (*.journal), snapshot \
                 (snapshot-*.snap), clean-shutdown marker (CLOSED) or LOCK file",
                args.journal.display()
            )));
        }
        Err(e) => {
            return Err(Failure::other(format!(
                "cannot read {}: {e}",
                args.journal.display()
            )));
        }
    }
    let mut events = match &args.output {
        Some(path) => Some(JsonlWriter::new(output::open(Some(path))?)),
        None => None,
    };
    let mut seq = 0u64;
    let mut write_error = None;
    let mut sink = |event: OrderbookResult| {
        if let Some(writer) = events.as_mut() {
            seq += 1;
            if write_error.is_none()
                && let Err(e) = writer.write_event(seq, &event)
            {
                write_error = Some(e);
            }
        }
    };
    let recovered = recover_in_mode(
        &args.journal,
        args.instruments.unwrap_or_default(),
        args.mode,
        &mut sink,
    )
    .map_err(|e| Failure::other(format!("cannot recover {}: {e}", args.journal.display())))?;
    if let Some(writer) = events.as_mut()
        && let Err(e) = writer.flush()
    {
        write_error.get_or_insert(e);
    }
    if let Some(e) = write_error {
        output::write_failure("events", e)?;
    }
    let mut out = std::io::stdout().lock();
    let report = (|| -> std::io::Result<()> {
        match &recovered.snapshot {
            Some((seq, file)) => writeln!(out, "snapshot: seq {seq} ({})", file.display())?,
            None => writeln!(out, "snapshot: none")?,
        }
        writeln!(out, "replayed: {} journal records", recovered.replayed)?;
        writeln!(out, "mode: {}", args.mode)?;
        writeln!(out, "last seq: {}", recovered.last_seq)?;
        for warning in &recovered.warnings {
            writeln!(out, "warning: {warning}")?;
        }
        writeln!(out, "state hash: {:016x}", recovered.state_hash())?;
        writeln!(out, "books: {}", recovered.books.len())?;
        for book in &recovered.books {
            let status = book.status();
            let side = |price: Option<i64>, qty: u128| {
                price.map_or("-".to_string(), |p| format!("{qty}@{p}"))
            };
            writeln!(
                out,
                "{} halted={} bid={} ask={} bid_levels={} ask_levels={} orders={}",
                book.instrument_id(),
                status.halted,
                side(status.best_bid, status.best_bid_qty),
                side(status.best_ask, status.best_ask_qty),
                status.bid_levels,
                status.ask_levels,
                status.orders
            )?;
        }
        out.flush()
    })();
    report.or_else(|e| output::write_failure("the report", e))
}
