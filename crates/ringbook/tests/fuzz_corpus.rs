//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the same bodies the
//! `cargo fuzz` targets run (`fuzz/targets/<target>.rs`), so CI checks every corpus input
//! (the minimised corpus and the crash inputs kept as regressions) without a fuzzer.
//!
//! Each body panics if a property breaks (see its docs). The tests also check that the
//! corpus still reaches both the accepting and the refusing paths, so a corpus that
//! drifted into trivial inputs fails here rather than passing vacuously.

#[path = "../../../fuzz/targets/book.rs"]
mod book;
#[path = "../../../fuzz/targets/flow_parser.rs"]
mod flow_parser;
#[path = "../../../fuzz/targets/journal_reader.rs"]
mod journal_reader;
#[path = "../../../fuzz/targets/scratch.rs"]
mod scratch;
#[path = "../../../fuzz/targets/snapshot_reader.rs"]
mod snapshot_reader;

use ringbook_testkit::corpus::run_corpus;

#[test]
fn flow_parser_corpus_replays() {
    let outcomes = run_corpus("flow_parser", flow_parser::run);
    assert!(
        outcomes.iter().any(|o| !o.error && o.commands >= 10),
        "no corpus input is a whole valid flow"
    );
    assert!(
        outcomes.iter().any(|o| o.error && o.commands > 0),
        "no corpus input fails after some commands"
    );
}

#[test]
fn journal_reader_corpus_replays() {
    let outcomes = run_corpus("journal_reader", journal_reader::run);
    scratch::remove();
    assert!(
        outcomes
            .iter()
            .any(|o| !o.error && !o.torn_tail && o.sealed && o.entries >= 10),
        "no corpus input is a whole valid journal of sealed segments"
    );
    assert!(
        outcomes.iter().any(|o| o.torn_tail),
        "no corpus input has a torn tail"
    );
    assert!(
        outcomes.iter().any(|o| o.cut),
        "no corpus input is cut by a point-in-time recovery"
    );
    assert!(
        outcomes.iter().any(|o| o.error && o.entries > 0),
        "no corpus input is refused after some entries"
    );
}

#[test]
fn snapshot_reader_corpus_replays() {
    let outcomes = run_corpus("snapshot_reader", snapshot_reader::run);
    scratch::remove();
    assert!(
        outcomes.iter().any(|o| o.recovered && o.orders > 0),
        "no corpus input is a snapshot recovery uses"
    );
    assert!(
        outcomes.iter().any(|o| !o.read),
        "no corpus input is refused"
    );
}

#[test]
fn book_corpus_replays() {
    let outcomes = run_corpus("book", book::run);
    assert!(
        outcomes.iter().any(|o| o.trades > 0),
        "no corpus input trades"
    );
    assert!(
        outcomes.iter().any(|o| o.rejects > 0),
        "no corpus input is rejected"
    );
    assert!(
        outcomes.iter().any(|o| o.rebuilds > 0 && o.trades > 0),
        "no corpus input rebuilds a book from its image"
    );
    assert!(
        outcomes.iter().all(|o| o.commands <= book::MAX_COMMANDS),
        "an input ran more commands than the bound"
    );
}

/// A record at seq `u64::MAX` (after a snapshot at `u64::MAX - 2`): it would leave the
/// engine no seq for its next command, so the reader refuses it with a corrupt-record
/// error naming the file and offset. (The old reader overflowed on `expected + 1`; the
/// saturating one delivered the record and then a second record at `u64::MAX` again.)
#[test]
fn a_record_at_seq_u64_max_is_refused_not_delivered() {
    use ringbook::journal::{JournalError, JournalReader, RECORD_HEADER_LEN, SEGMENT_HEADER_LEN};

    // A status record: payload version 1, apply, no reject reason, op 5, instrument 1.
    let record = |seq: u64| {
        let mut payload = vec![1, 0, 0, 5];
        payload.extend_from_slice(&1u128.to_be_bytes());
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&seq.to_le_bytes());
        bytes.extend_from_slice(&[0; 12]); // timestamp and CRC (set by fix_framing)
        bytes.extend_from_slice(&payload);
        bytes
    };
    let first = u64::MAX - 1;
    let mut segment = vec![0; SEGMENT_HEADER_LEN];
    for seq in [first, u64::MAX, u64::MAX] {
        segment.extend(record(seq));
    }
    assert_eq!(
        journal_reader::fix_framing(&mut segment, first),
        (3, Some(u64::MAX))
    );
    let scratch = scratch::Scratch::new("u64-max");
    let file = scratch.path().join(format!("{first:020}.journal"));
    std::fs::write(&file, &segment).unwrap();

    let mut reader = JournalReader::open_read_only(scratch.path(), u64::MAX - 2).unwrap();
    let entry = reader
        .next_entry()
        .unwrap()
        .expect("the record at u64::MAX - 1");
    assert_eq!(entry.seq, first);
    match reader.next_entry() {
        Err(JournalError::Corrupt {
            file: named,
            offset,
            reason,
        }) => {
            assert_eq!(named, file);
            assert_eq!(offset, (SEGMENT_HEADER_LEN + RECORD_HEADER_LEN + 20) as u64);
            assert!(reason.contains("18446744073709551615"), "{reason}");
        }
        other => panic!("expected a corrupt-record error, got {other:?}"),
    }
    assert!(matches!(reader.next_entry(), Ok(None)));
    drop(scratch);
    scratch::remove();
}

/// The writer refuses to journal a record at seq `u64::MAX` with a clear error (it
/// panicked with an add overflow numbering the record after it, or wrapped to 0 in a
/// release build); the record before it is journaled and reads back.
#[test]
fn the_writer_refuses_seq_u64_max() {
    use ringbook::journal::{
        JournalConfig, JournalEntry, JournalError, JournalWriter, NextSeqProblem, read_journal,
    };
    use ringbook::{Command, Uuid};

    let scratch = scratch::Scratch::new("u64-max-writer");
    let status = |seq| {
        JournalEntry::apply(
            seq,
            0,
            Command::Status {
                instrument_id: Uuid::from_u128(1),
            },
        )
    };
    let mut writer = JournalWriter::open(scratch.path(), JournalConfig::default()).unwrap();
    writer.set_next_seq(u64::MAX - 1).unwrap();
    writer.append(&status(u64::MAX - 1)).unwrap();
    match writer.append(&status(u64::MAX)) {
        Err(JournalError::BadNextSeq {
            requested, reason, ..
        }) => {
            assert_eq!(requested, u64::MAX);
            assert_eq!(reason, NextSeqProblem::NoSeqAfter);
        }
        other => panic!("expected BadNextSeq, got {other:?}"),
    }
    writer.commit_batch().unwrap();
    assert_eq!(writer.last_seq(), u64::MAX - 1);
    drop(writer);
    let (entries, _) = read_journal(scratch.path(), u64::MAX - 2).unwrap();
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [u64::MAX - 1]);
    drop(scratch);
    scratch::remove();
}

/// End to end, an engine recovered next to the last seq: with a snapshot at
/// `u64::MAX - 2` it journals one command at `u64::MAX - 1`; the next would be numbered
/// `u64::MAX`, which the journal refuses, so the engine fails with that error and the
/// commands after it are lost (never numbered from 0, never a panic). With a snapshot at
/// `u64::MAX - 1` or `u64::MAX` no engine starts: the journal cannot continue after it.
#[test]
fn an_engine_at_the_end_of_the_seqs_stops_with_an_error() {
    use ringbook::journal::{EngineSnapshot, JournalError, NextSeqProblem, write_snapshot};
    use ringbook::{
        Command, JournalOptions, OrderBook, OrderbookManagerError, OrderbookManagerService,
        OrderbookManagerServiceImpl, Uuid,
    };

    let instrument_id = Uuid::from_u128(7);
    let status = Command::Status { instrument_id };
    let scratch = scratch::Scratch::new("u64-max-engine");
    let engine = |snapshot_seq: u64| {
        let dir = scratch.path().join(format!("at-{snapshot_seq}"));
        let snapshot =
            EngineSnapshot::new(snapshot_seq, vec![OrderBook::new(instrument_id).image()]);
        write_snapshot(&dir, &snapshot).unwrap();
        OrderbookManagerServiceImpl::builder([instrument_id])
            .journal(JournalOptions::new(&dir))
            .build()
    };

    let manager = engine(u64::MAX - 2).unwrap();
    manager.start().unwrap();
    for _ in 0..3 {
        // Taken or refused once the engine has failed: either way, no panic.
        let _ = manager.submit(status);
    }
    let stopped = manager.stop();
    let error = stopped.expect_err("the engine ran out of seqs");
    assert!(
        error.to_string().contains("18446744073709551615"),
        "names the seq: {error}"
    );

    for snapshot_seq in [u64::MAX - 1, u64::MAX] {
        match engine(snapshot_seq) {
            Err(OrderbookManagerError::Journal {
                source:
                    JournalError::BadNextSeq {
                        reason: NextSeqProblem::NoSeqAfter,
                        ..
                    },
                ..
            }) => {}
            other => panic!(
                "snapshot at {snapshot_seq}: expected BadNextSeq, got {:?}",
                other.map(|_| "an engine")
            ),
        }
    }
    drop(scratch);
    scratch::remove();
}
