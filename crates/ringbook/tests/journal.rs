//! The journal and snapshot store, through the public API only: round trips, batching,
//! segment rotation, sync policies, and every kind of damage a crash or a disk can do,
//! each with the stated behaviour and a message that names the file and offset.

use ringbook_testkit::scratch::TempDir;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ringbook::flow::{FlowGenerator, GenConfig};
use ringbook::journal::{
    CLOSED_FILE, EngineSnapshot, JournalConfig, JournalEntry, JournalError, JournalReader,
    JournalWriter, NextSeqProblem, RecoveryMode, RecoveryWarning, SEGMENT_HEADER_LEN,
    SegmentHeaderProblem, SnapshotProblem, SyncPolicy, dump, for_each_entry, load_latest_snapshot,
    read_journal, read_snapshot, snapshot_file_name, write_snapshot,
};
use ringbook::{
    BookImage, Command, Order, OrderBook, OrderKind, RejectReason, Side, Uuid, state_hash_of,
};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const INSTRUMENT: Uuid = Uuid::from_u128(0xA1);

/// The size of the seal that ends every segment but the last.
const SEAL_LEN: u64 = 24;

/// A varied, deterministic entry for `seq`: every op, kind and reason comes round.
fn entry(seq: u64) -> JournalEntry {
    let order_id = Uuid::from_u128(u128::from(seq) * 0x1_0000_0001);
    let side = if seq.is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    };
    let command = match seq % 7 {
        0..=2 => Command::Add(Order::new(
            order_id,
            INSTRUMENT,
            side,
            OrderKind::ALL[(seq % 5) as usize],
            1_000 - (seq % 50) as i64,
            seq,
        )),
        3 => Command::Cancel {
            instrument_id: INSTRUMENT,
            order_id,
        },
        4 => Command::Modify {
            instrument_id: INSTRUMENT,
            order_id,
            price: -(seq as i64),
            qty: u64::MAX - seq,
        },
        5 => Command::Status {
            instrument_id: INSTRUMENT,
        },
        _ => Command::Halt {
            instrument_id: INSTRUMENT,
        },
    };
    let reject = seq
        .is_multiple_of(4)
        .then(|| RejectReason::ALL[(seq / 4 % 6) as usize]);
    JournalEntry {
        seq,
        timestamp_ns: seq * 1_000 + 7,
        command,
        reject,
    }
}

fn config(segment_bytes: u64, sync: SyncPolicy) -> JournalConfig {
    JournalConfig::default()
        .with_segment_bytes(segment_bytes)
        .with_sync(sync)
}

/// Writes entries `from..=to` in batches of `batch`.
fn write_entries(writer: &mut JournalWriter, from: u64, to: u64, batch: u64) {
    for seq in from..=to {
        writer.append(&entry(seq)).unwrap();
        if (seq - from + 1).is_multiple_of(batch) {
            writer.commit_batch().unwrap();
        }
    }
    writer.commit_batch().unwrap();
}

/// A journal of entries `1..=n` in `dir`; returns its segment files in order.
fn journal_of(dir: &Path, n: u64, segment_bytes: u64) -> Vec<PathBuf> {
    let mut writer = JournalWriter::open(dir, config(segment_bytes, SyncPolicy::None)).unwrap();
    write_entries(&mut writer, 1, n, 5);
    writer.close().unwrap();
    segments(dir)
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "journal"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The byte offset of record `seq` in a segment whose first record is `first`: after
/// the segment header.
fn offset_of(first: u64, seq: u64) -> u64 {
    SEGMENT_HEADER_LEN as u64
        + (first..seq)
            .map(|s| entry(s).record_len() as u64)
            .sum::<u64>()
}

fn first_seq_of(path: &Path) -> u64 {
    file_name(path)
        .trim_end_matches(".journal")
        .parse()
        .unwrap()
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x40;
    fs::write(path, bytes).unwrap();
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut file = OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
}

/// What a crash leaves: the writer never closed, so no clean-shutdown marker.
fn crash(dir: &Path) {
    fs::remove_file(dir.join(CLOSED_FILE)).unwrap();
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

fn seqs(entries: &[JournalEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

// ---------------------------------------------------------------------------------------
// Round trips, batching, rotation, sync policies
// ---------------------------------------------------------------------------------------

#[test]
fn every_command_kind_and_reject_reason_round_trips() {
    let dir = TempDir::new("round-trip");
    let i = INSTRUMENT;
    let o = Uuid::from_u128(u128::MAX);
    let mut commands: Vec<Command> = OrderKind::ALL
        .into_iter()
        .map(|kind| Command::Add(Order::new(o, i, Side::Sell, kind, i64::MIN, u64::MAX)))
        .collect();
    commands.extend([
        Command::Add(Order::limit(o, i, Side::Buy, i64::MAX, 0)),
        Command::Cancel {
            instrument_id: i,
            order_id: o,
        },
        Command::Modify {
            instrument_id: i,
            order_id: o,
            price: -1,
            qty: 3,
        },
        Command::Halt { instrument_id: i },
        Command::Resume { instrument_id: i },
        Command::Status { instrument_id: i },
        Command::Snapshot { instrument_id: i },
    ]);
    let mut written = Vec::new();
    let mut writer = JournalWriter::open(dir.path(), JournalConfig::default()).unwrap();
    for command in commands {
        for reject in std::iter::once(None).chain(RejectReason::ALL.map(Some)) {
            let seq = written.len() as u64 + 1;
            let e = JournalEntry {
                seq,
                timestamp_ns: u64::MAX - seq,
                command,
                reject,
            };
            writer.append(&e).unwrap();
            written.push(e);
        }
        writer.commit_batch().unwrap();
    }
    drop(writer);
    let (read, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(read, written);
    assert_eq!(report.last_seq, written.len() as u64);
    assert_eq!(report.records_read, written.len() as u64);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn commit_batch_writes_each_batch_with_one_write() {
    let dir = TempDir::new("batch");
    let mut writer = JournalWriter::open(dir.path(), JournalConfig::default()).unwrap();
    for seq in 1..=50 {
        writer.append(&entry(seq)).unwrap();
    }
    assert_eq!(writer.stats().write_calls, 0);
    assert_eq!(writer.committed_seq(), 0);
    assert_eq!(writer.last_seq(), 50);
    let (on_disk, _) = read_journal(dir.path(), 0).unwrap();
    assert!(on_disk.is_empty(), "nothing reaches the file before commit");

    writer.commit_batch().unwrap();
    let stats = writer.stats();
    assert_eq!(
        (stats.batches, stats.write_calls, stats.records),
        (1, 1, 50)
    );
    assert_eq!(writer.committed_seq(), 50);
    let (on_disk, _) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(on_disk.len(), 50);

    for seq in 51..=80 {
        writer.append(&entry(seq)).unwrap();
    }
    writer.commit_batch().unwrap();
    assert_eq!(writer.stats().write_calls, 2);
    writer.commit_batch().unwrap(); // nothing buffered: no write
    assert_eq!(writer.stats().write_calls, 2);
    assert_eq!(writer.stats().batches, 2);
    let (on_disk, _) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(seqs(&on_disk), (1..=80).collect::<Vec<_>>());
}

#[test]
fn a_batch_across_a_segment_boundary_writes_once_per_segment() {
    let dir = TempDir::new("batch-rotate");
    // A header, ten records and a seal.
    let bytes: u64 = offset_of(1, 11) + SEAL_LEN;
    let mut writer = JournalWriter::open(dir.path(), config(bytes, SyncPolicy::None)).unwrap();
    for seq in 1..=25 {
        writer.append(&entry(seq)).unwrap();
    }
    writer.commit_batch().unwrap();
    let stats = writer.stats();
    assert_eq!(stats.segments_created, 3);
    assert_eq!(stats.write_calls, 3);
    let files = segments(dir.path());
    assert_eq!(
        files.iter().map(|f| first_seq_of(f)).collect::<Vec<_>>(),
        [1, 11, 21]
    );
    assert_eq!(file_len(&files[0]), bytes);
}

#[test]
fn segments_rotate_and_read_back_across_segments() {
    let dir = TempDir::new("rotate");
    let files = journal_of(dir.path(), 200, 400);
    assert!(files.len() >= 20, "{} segments", files.len());
    let mut expected_first = 1;
    for (n, file) in files.iter().enumerate() {
        let len = file_len(file);
        assert!(len <= 400, "{} is {len} bytes", file.display());
        if n + 1 < files.len() {
            // Finished segments are full: the next record would not have fitted.
            assert!(len > 400 - 78, "{} is only {len} bytes", file.display());
        }
        let first = first_seq_of(file);
        assert_eq!(
            first, expected_first,
            "segments are named by their first seq"
        );
        let (entries, _) = read_journal(dir.path(), first - 1).unwrap();
        assert_eq!(entries[0].seq, first);
        let mut in_file = 0;
        let mut at = SEGMENT_HEADER_LEN as u64;
        let end = if n + 1 < files.len() {
            len - SEAL_LEN
        } else {
            len
        };
        while at < end {
            at += entry(first + in_file).record_len() as u64;
            in_file += 1;
        }
        assert_eq!(at, end, "records fill the segment exactly: none straddles");
        expected_first = first + in_file;
    }
    assert_eq!(expected_first, 201);

    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(entries, (1..=200).map(entry).collect::<Vec<_>>());
    assert_eq!(report.segments_read, files.len());
    assert_eq!(report.segments_skipped, 0);

    // From the middle: the segments before are not read at all.
    let (entries, report) = read_journal(dir.path(), 150).unwrap();
    assert_eq!(seqs(&entries), (151..=200).collect::<Vec<_>>());
    assert!(report.segments_skipped > 10, "{report:?}");
    assert_eq!(report.segments_skipped + report.segments_read, files.len());
    assert_eq!(report.entries_delivered, 50);

    // A reopened writer continues in the last segment, then rotates as before.
    let mut writer = JournalWriter::open(dir.path(), config(400, SyncPolicy::None)).unwrap();
    assert_eq!(writer.last_seq(), 200);
    write_entries(&mut writer, 201, 260, 9);
    drop(writer);
    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(seqs(&entries), (1..=260).collect::<Vec<_>>());
    assert!(report.warnings.is_empty());
    for file in segments(dir.path()) {
        assert!(file_len(&file) <= 400);
    }
}

#[test]
fn reading_streams_through_the_iterator() {
    let dir = TempDir::new("iterator");
    journal_of(dir.path(), 40, 300);
    let mut reader = JournalReader::open(dir.path(), 10).unwrap();
    let first: Vec<u64> = reader.by_ref().take(5).map(|e| e.unwrap().seq).collect();
    assert_eq!(first, [11, 12, 13, 14, 15]);
    let rest: Vec<u64> = reader.by_ref().map(|e| e.unwrap().seq).collect();
    assert_eq!(rest, (16..=40).collect::<Vec<_>>());
    assert_eq!(reader.report().last_seq, 40);
    let mut count = 0;
    let report = for_each_entry(dir.path(), 0, |e| {
        count += 1;
        assert_eq!(e, entry(count));
    })
    .unwrap();
    assert_eq!(report.entries_delivered, 40);
}

#[test]
fn sync_policies_sync_as_documented() {
    let dir = TempDir::new("sync-every");
    let mut writer =
        JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::EveryBatch)).unwrap();
    write_entries(&mut writer, 1, 30, 10);
    // The new segment's header, then each batch.
    assert_eq!(writer.stats().syncs, 4);
    assert_eq!(writer.synced_seq(), 30);
    drop(writer);

    let dir = TempDir::new("sync-none");
    let mut writer = JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::None)).unwrap();
    write_entries(&mut writer, 1, 30, 10);
    assert_eq!(writer.stats().syncs, 1, "only the new segment's header");
    assert_eq!(writer.synced_seq(), 0);
    assert_eq!(writer.committed_seq(), 30);
    writer.sync().unwrap();
    assert_eq!(writer.stats().syncs, 2);
    assert_eq!(writer.synced_seq(), 30);
    drop(writer);

    let dir = TempDir::new("sync-interval-long");
    let hour = SyncPolicy::Interval(Duration::from_secs(3600));
    let mut writer = JournalWriter::open(dir.path(), config(1 << 20, hour)).unwrap();
    write_entries(&mut writer, 1, 30, 3);
    assert_eq!(
        writer.stats().syncs,
        1,
        "the header, then at most once per interval"
    );
    writer.sync().unwrap();
    assert_eq!(writer.stats().syncs, 2);
    drop(writer);

    let dir = TempDir::new("sync-interval-short");
    let short = SyncPolicy::Interval(Duration::from_millis(1));
    let mut writer = JournalWriter::open(dir.path(), config(1 << 20, short)).unwrap();
    writer.append(&entry(1)).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    writer.commit_batch().unwrap();
    assert_eq!(writer.stats().syncs, 2);
    assert_eq!(writer.synced_seq(), 1);
    writer.append(&entry(2)).unwrap();
    writer.commit_batch().unwrap();
    std::thread::sleep(Duration::from_millis(5));
    writer.commit_batch().unwrap(); // idle commit: the interval has passed
    assert_eq!(writer.synced_seq(), 2);
}

#[test]
fn the_writer_refuses_seqs_out_of_order() {
    let dir = TempDir::new("order");
    let mut writer = JournalWriter::open(dir.path(), JournalConfig::default()).unwrap();
    let err = writer.append(&entry(2)).unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::OutOfOrder {
                expected: 1,
                found: 2
            }
        ),
        "{err:?}"
    );
    writer.append(&entry(1)).unwrap();
    let err = writer.append(&entry(1)).unwrap_err();
    assert!(err.to_string().contains("expected seq 2, got 1"), "{err}");
    writer.commit_batch().unwrap();
    assert_eq!(read_journal(dir.path(), 0).unwrap().0.len(), 1);
    assert!(JournalWriter::open(dir.path(), config(0, SyncPolicy::None)).is_err());
}

#[test]
fn skipping_ahead_seals_the_segment_and_a_header_only_segment_is_continued() {
    let dir = TempDir::new("skip-ahead");
    journal_of(dir.path(), 10, 1 << 20);
    let mut writer = JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::None)).unwrap();
    writer.set_next_seq(21).unwrap();
    let next = dir.path().join("00000000000000000021.journal");
    assert_eq!(writer.current_segment(), Some(next.as_path()));
    drop(writer);
    // The new segment holds only its header, and the old one's seal names it.
    assert_eq!(file_len(&next), SEGMENT_HEADER_LEN as u64);
    let (entries, report) = read_journal(dir.path(), 20).unwrap();
    assert!(entries.is_empty());
    assert_eq!(report.last_seq, 20);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let mut writer = JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::None)).unwrap();
    assert_eq!(writer.last_seq(), 20);
    assert_eq!(writer.current_segment(), Some(next.as_path()));
    write_entries(&mut writer, 21, 22, 2);
    drop(writer);
    assert_eq!(file_len(&next), offset_of(21, 23));
    let (entries, _) = read_journal(dir.path(), 20).unwrap();
    assert_eq!(seqs(&entries), [21, 22]);
    // Read from the start, the records only a snapshot holds are a gap, written one way.
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(
            &err,
            JournalError::SeqGap {
                expected: 11,
                found: 21,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("records 11..=20 are missing"),
        "{err}"
    );
}

#[test]
fn the_journal_continues_after_a_snapshot_it_ends_before() {
    let dir = TempDir::new("behind");
    journal_of(dir.path(), 10, 1 << 20);
    // The snapshot is at 15: records 11..=15 never reached the disk.
    let (entries, report) = read_journal(dir.path(), 15).unwrap();
    assert!(entries.is_empty());
    assert_eq!(
        report.warnings,
        [RecoveryWarning::JournalBehindSnapshot {
            journal_last_seq: 10,
            snapshot_seq: 15
        }]
    );
    assert!(report.warnings[0].to_string().contains("11..=15"));

    let mut writer = JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::None)).unwrap();
    assert_eq!(writer.last_seq(), 10);
    let err = writer.set_next_seq(5).unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::BadNextSeq {
                requested: 5,
                reason: NextSeqProblem::AlreadyHeld { last_seq: 10 },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("cannot continue at seq 5: the journal already holds seqs up to 10"),
        "{err}"
    );
    let err = writer.set_next_seq(u64::MAX).unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::BadNextSeq {
                reason: NextSeqProblem::NoSeqAfter,
                ..
            }
        ),
        "{err:?}"
    );
    writer.set_next_seq(16).unwrap();
    write_entries(&mut writer, 16, 20, 2);
    drop(writer);
    assert_eq!(segments(dir.path()).len(), 2);

    let (entries, report) = read_journal(dir.path(), 15).unwrap();
    assert_eq!(seqs(&entries), [16, 17, 18, 19, 20]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Without the snapshot the missing records are a gap.
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::SeqGap {
                expected: 11,
                found: 16,
                ..
            }
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Damage: torn tails, flipped bytes, missing segments
// ---------------------------------------------------------------------------------------

#[test]
fn a_torn_tail_is_truncated_with_a_warning_and_writing_continues() {
    let dir = TempDir::new("torn");
    let files = journal_of(dir.path(), 20, 1 << 20);
    crash(dir.path());
    let segment = &files[0];
    let full = file_len(segment);
    let last_offset = offset_of(1, 20);
    OpenOptions::new()
        .write(true)
        .open(segment)
        .unwrap()
        .set_len(full - 5)
        .unwrap();

    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(seqs(&entries), (1..=19).collect::<Vec<_>>());
    assert_eq!(report.last_seq, 19);
    let [
        RecoveryWarning::TornTail {
            file,
            offset,
            dropped_bytes,
            reason,
            truncated,
        },
    ] = report.warnings.as_slice()
    else {
        panic!("one torn-tail warning expected: {:?}", report.warnings);
    };
    assert_eq!(file, segment);
    assert_eq!(*offset, last_offset);
    assert_eq!(*dropped_bytes, full - 5 - last_offset);
    assert!(reason.contains("truncated record"), "{reason}");
    assert!(truncated);
    let message = report.warnings[0].to_string();
    assert!(
        message.contains(&file_name(segment)) && message.contains(&format!("offset {last_offset}")),
        "{message}"
    );
    assert_eq!(file_len(segment), last_offset, "the torn record is cut off");

    // The writer continues after seq 19.
    let mut writer =
        JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::EveryBatch)).unwrap();
    assert_eq!(writer.last_seq(), 19);
    assert!(writer.opening_report().warnings.is_empty());
    write_entries(&mut writer, 20, 30, 4);
    drop(writer);
    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(entries, (1..=30).map(entry).collect::<Vec<_>>());
    assert!(report.warnings.is_empty());
}

#[test]
fn the_writer_repairs_a_torn_tail_itself() {
    let dir = TempDir::new("torn-writer");
    let files = journal_of(dir.path(), 12, 1 << 20);
    crash(dir.path());
    append_bytes(&files[0], &[0x4e, 0, 0]); // a header cut after 3 bytes
    let mut writer = JournalWriter::open(dir.path(), JournalConfig::default()).unwrap();
    assert_eq!(writer.last_seq(), 12);
    let warnings = &writer.opening_report().warnings;
    assert!(
        matches!(
            warnings.as_slice(),
            [RecoveryWarning::TornTail {
                dropped_bytes: 3,
                truncated: true,
                ..
            }]
        ),
        "{warnings:?}"
    );
    write_entries(&mut writer, 13, 14, 1);
    drop(writer);
    assert_eq!(read_journal(dir.path(), 0).unwrap().0.len(), 14);
}

#[test]
fn garbage_or_zeros_after_the_last_record_are_a_torn_tail() {
    let mut noise = Vec::new();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..700 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    for (name, tail) in [("garbage", noise), ("zeros", vec![0u8; 4096])] {
        let dir = TempDir::new(name);
        let files = journal_of(dir.path(), 30, 1 << 20);
        crash(dir.path());
        let good = file_len(&files[0]);
        append_bytes(&files[0], &tail);
        // Read-only: reported, not repaired.
        let mut reader = JournalReader::open_read_only(dir.path(), 0).unwrap();
        assert_eq!(reader.by_ref().count(), 30);
        assert!(
            matches!(
                reader.report().warnings.as_slice(),
                [RecoveryWarning::TornTail {
                    truncated: false,
                    ..
                }]
            ),
            "{name}: {:?}",
            reader.report().warnings
        );
        assert_eq!(file_len(&files[0]), good + tail.len() as u64);
        let (entries, report) = read_journal(dir.path(), 0).unwrap();
        assert_eq!(entries.len(), 30, "{name}");
        assert!(
            matches!(
                report.warnings.as_slice(),
                [RecoveryWarning::TornTail { offset, dropped_bytes, .. }]
                    if *offset == good && *dropped_bytes == tail.len() as u64
            ),
            "{name}: {:?}",
            report.warnings
        );
        assert_eq!(file_len(&files[0]), good, "{name}");
    }
}

#[test]
fn a_flipped_bit_in_the_last_complete_record_is_corruption_not_a_torn_tail() {
    // Issue 15: this record was complete; a crash mid-write cannot damage it, so dropping
    // it as a torn tail would lose a committed record silently. Even with no clean
    // shutdown marker (a crash), the default mode refuses and changes nothing.
    let dir = TempDir::new("torn-crc");
    let files = journal_of(dir.path(), 100, 500);
    crash(dir.path());
    let last = files.last().unwrap();
    let first = first_seq_of(last);
    let last_offset = offset_of(first, 100);
    flip_byte(last, last_offset + 30);
    let len = file_len(last);
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(&err, JournalError::Corrupt { file, offset, reason }
            if file == last && *offset == last_offset && reason.contains("CRC mismatch")
                && reason.contains("seq 100")),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("--mode point-in-time"),
        "names the salvage: {message}"
    );
    assert_eq!(file_len(last), len, "nothing truncated");
    // Point-in-time recovery keeps seqs 1..=99 and saves the cut bytes aside.
    let mut reader =
        JournalReader::open_in_mode(dir.path(), 0, RecoveryMode::PointInTime, true).unwrap();
    assert_eq!(reader.by_ref().count(), 99);
    let report = reader.into_report();
    assert_eq!(report.last_seq, 99);
    assert!(
        matches!(report.warnings.as_slice(), [RecoveryWarning::PointInTimeCut {
            last_seq: 99, cut: Some((file, offset)), set_aside, applied: true, ..
        }] if file == last && *offset == last_offset && set_aside.len() == 1),
        "{:?}",
        report.warnings
    );
    assert_eq!(file_len(last), last_offset);
    let saved = dir
        .path()
        .join(format!("{}.cut-at-{last_offset}", file_name(last)));
    assert_eq!(
        file_len(&saved),
        len - last_offset,
        "the cut bytes are kept"
    );
    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(entries.len(), 99);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn a_flipped_byte_in_a_middle_record_refuses_to_start() {
    for (what, delta) in [("payload", 30), ("length", 0), ("seq", 5)] {
        let dir = TempDir::new("flip");
        let files = journal_of(dir.path(), 20, 1 << 20);
        let segment = &files[0];
        let len = file_len(segment);
        let bad = offset_of(1, 10);
        flip_byte(segment, bad + delta);

        let err = read_journal(dir.path(), 0).unwrap_err();
        match &err {
            JournalError::Corrupt {
                file,
                offset,
                reason,
            } => {
                assert_eq!(file, segment, "{what}");
                assert_eq!(*offset, bad, "{what}");
                assert!(reason.contains("not a torn tail"), "{what}: {reason}");
            }
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains(&file_name(segment)) && message.contains(&format!("offset {bad}")),
            "{what}: {message}"
        );
        assert_eq!(file_len(segment), len, "{what}: nothing is truncated");
        // The writer refuses too.
        let err = JournalWriter::open(dir.path(), JournalConfig::default()).unwrap_err();
        assert!(
            matches!(err, JournalError::Corrupt { .. }),
            "{what}: {err:?}"
        );
        assert_eq!(file_len(segment), len);
    }
}

#[test]
fn a_bad_record_in_an_earlier_segment_is_corrupt_even_at_its_end() {
    let dir = TempDir::new("flip-early");
    let files = journal_of(dir.path(), 100, 500);
    let first = &files[0];
    let next_first = first_seq_of(&files[1]);
    let bad = offset_of(1, next_first - 1);
    flip_byte(first, bad + 30);
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(&err, JournalError::Corrupt { file, offset, .. } if file == first && *offset == bad),
        "{err:?}"
    );
    assert!(err.to_string().contains("not the last"), "{err}");
    // A snapshot past that segment does not need it: it is not read.
    let (entries, report) = read_journal(dir.path(), next_first).unwrap();
    assert_eq!(entries.len() as u64, 100 - next_first);
    assert_eq!(report.segments_skipped, 1);
}

#[test]
fn a_missing_middle_segment_is_a_gap_naming_both_neighbours() {
    let dir = TempDir::new("gap");
    let files = journal_of(dir.path(), 100, 500);
    assert!(files.len() >= 4);
    fs::remove_file(&files[2]).unwrap();
    let err = read_journal(dir.path(), 0).unwrap_err();
    let expected = first_seq_of(&files[2]);
    let found = first_seq_of(&files[3]);
    match &err {
        JournalError::SeqGap {
            before,
            after,
            expected: e,
            found: f,
        } => {
            assert_eq!(before.as_ref(), Some(&files[1]));
            assert_eq!(after, &files[3]);
            assert_eq!((*e, *f), (expected, found));
        }
        other => panic!("expected SeqGap, got {other:?}"),
    }
    let message = err.to_string();
    for needle in [
        file_name(&files[1]),
        file_name(&files[3]),
        format!("expected seq {expected}"),
        format!("starts at seq {found}"),
    ] {
        assert!(message.contains(&needle), "{message} lacks {needle}");
    }
    let err = JournalWriter::open(dir.path(), JournalConfig::default());
    assert!(err.is_ok(), "the writer reads only the last segment");
}

#[test]
fn a_missing_first_segment_needs_a_snapshot() {
    let dir = TempDir::new("gap-first");
    let files = journal_of(dir.path(), 60, 500);
    fs::remove_file(&files[0]).unwrap();
    let second = first_seq_of(&files[1]);
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(&err, JournalError::SeqGap { before: None, expected: 1, found, .. } if *found == second),
        "{err:?}"
    );
    let (entries, _) = read_journal(dir.path(), second - 1).unwrap();
    assert_eq!(entries[0].seq, second);
}

#[test]
fn a_record_with_the_wrong_seq_is_named() {
    let dir = TempDir::new("seq");
    let files = journal_of(dir.path(), 10, 1 << 20);
    // A second journal's segment, renamed as if it continued the first one.
    let other = TempDir::new("seq-other");
    journal_of(other.path(), 3, 1 << 20);
    fs::copy(
        &segments(other.path())[0],
        dir.path().join("00000000000000000011.journal"),
    )
    .unwrap();
    // Its header names its real first seq.
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(
            &err,
            JournalError::BadSegmentHeader {
                file,
                problem: SegmentHeaderProblem::FirstSeq { expected: 11, found: 1 },
            } if file_name(file) == "00000000000000000011.journal"
        ),
        "{err:?} ({files:?})"
    );
    assert!(
        err.to_string()
            .contains("the header says the first seq is 1, the file name says 11"),
        "{err}"
    );
}

#[test]
fn dump_prints_records_and_snapshots_without_modifying_anything() {
    let dir = TempDir::new("dump");
    let files = journal_of(dir.path(), 12, 1 << 20);
    append_bytes(&files[0], &[1, 2, 3]);
    let mut book = OrderBook::new(INSTRUMENT);
    book.apply(
        &Command::Add(Order::limit(
            Uuid::from_u128(5),
            INSTRUMENT,
            Side::Buy,
            10,
            2,
        )),
        &mut |_| {},
    );
    write_snapshot(dir.path(), &EngineSnapshot::new(12, vec![book.image()])).unwrap();
    let len = file_len(&files[0]);
    let mut out = Vec::new();
    dump(dir.path(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let name = file_name(&files[0]);
    assert!(
        text.contains(&format!("segment {name}: {len} bytes, first seq 1")),
        "{text}"
    );
    let first = entry(1);
    let Command::Add(order) = first.command else {
        panic!()
    };
    assert!(
        text.contains(&format!(
            "{name}:24 seq=1 ts=1007 apply add,161,{},sell,market,,1\n",
            order.order_id.as_u128()
        )),
        "{text}"
    );
    assert!(
        text.contains("seq=4 ts=4007 reject=orderbook_halted "),
        "{text}"
    );
    assert!(
        text.contains(&format!("{name}:{} BAD truncated record header", len - 3)),
        "{text}"
    );
    assert!(
        text.contains(
            "snapshot snapshot-00000000000000000012.snap: version 3, last seq 12, 0 events before, 1 books, 1 orders"
        ),
        "{text}"
    );
    assert_eq!(text.lines().filter(|l| l.contains(" seq=")).count(), 12);
    assert_eq!(file_len(&files[0]), len, "dump repairs nothing");
}

// ---------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------

/// Books with resting orders on both sides, one of them halted.
fn sample_books(seed: u64) -> Vec<OrderBook> {
    let generator =
        FlowGenerator::new(GenConfig::new(seed, 3, 100_000).with_halt_per_million(2_000));
    let instruments = generator.instruments().to_vec();
    let mut books: Vec<OrderBook> = instruments.iter().map(|&i| OrderBook::new(i)).collect();
    // The flow's start: a flow run to its end cancels every order.
    for command in generator.take(2_000) {
        let book = books
            .iter_mut()
            .find(|b| b.instrument_id() == command.instrument_id())
            .unwrap();
        book.apply(&command, &mut |_| {});
    }
    books[1].apply(
        &Command::Halt {
            instrument_id: instruments[1],
        },
        &mut |_| {},
    );
    books
}

fn images(books: &[OrderBook]) -> Vec<BookImage> {
    books.iter().map(OrderBook::image).collect()
}

#[test]
fn a_snapshot_round_trips_every_book() {
    let dir = TempDir::new("snap");
    let books = sample_books(3);
    let snapshot = EngineSnapshot::new(2_000, images(&books));
    assert!(snapshot.order_count() > 50, "{}", snapshot.order_count());
    let path = write_snapshot(dir.path(), &snapshot).unwrap();
    assert_eq!(path, dir.path().join("snapshot-00000000000000002000.snap"));
    assert_eq!(file_name(&path), snapshot_file_name(2_000));
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [snapshot_file_name(2_000)],
        "no temporary file is left"
    );

    let loaded = load_latest_snapshot(dir.path()).unwrap();
    assert!(loaded.warnings.is_empty());
    let (read, from) = loaded.found.unwrap();
    assert_eq!(from, path);
    assert_eq!(read, snapshot);
    let rebuilt: Vec<OrderBook> = read
        .books
        .iter()
        .map(|i| OrderBook::from_image(i).unwrap())
        .collect();
    let refs: Vec<&OrderBook> = rebuilt.iter().collect();
    let original: Vec<&OrderBook> = books.iter().collect();
    assert_eq!(state_hash_of(&refs), state_hash_of(&original));
    assert_eq!(read.state_hash(), state_hash_of(&original));
    assert!(rebuilt[1].is_halted());
}

#[test]
fn a_snapshot_with_a_flipped_byte_is_skipped_for_an_older_one() {
    let dir = TempDir::new("snap-flip");
    let books = sample_books(4);
    let older = EngineSnapshot::new(100, images(&books[..1]));
    let newer = EngineSnapshot::new(200, images(&books));
    write_snapshot(dir.path(), &older).unwrap();
    let bad = write_snapshot(dir.path(), &newer).unwrap();
    let len = file_len(&bad);
    flip_byte(&bad, len / 2);

    let err = read_snapshot(&bad).unwrap_err();
    assert!(
        matches!(
            &err,
            JournalError::Snapshot {
                file,
                problem: SnapshotProblem::Checksum { stored, computed },
            } if file == &bad && stored != computed
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("checksum mismatch") && message.contains(&file_name(&bad)),
        "{message}"
    );
    let loaded = load_latest_snapshot(dir.path()).unwrap();
    let (snapshot, path) = loaded.found.unwrap();
    assert_eq!(snapshot, older);
    assert_eq!(file_name(&path), snapshot_file_name(100));
    match loaded.warnings.as_slice() {
        [RecoveryWarning::SnapshotSkipped { file, reason }] => {
            assert_eq!(file, &bad);
            assert!(reason.contains("checksum mismatch"), "{reason}");
        }
        other => panic!("one skipped-snapshot warning expected: {other:?}"),
    }
    assert!(loaded.warnings[0].to_string().contains(&file_name(&bad)));

    // Every kind of damage is skipped the same way: header, truncation, magic.
    for (what, damage) in [
        ("version", 12usize),
        ("length", 16),
        ("magic", 0),
        ("crc", 9),
    ] {
        let path = write_snapshot(dir.path(), &newer).unwrap();
        flip_byte(&path, damage as u64);
        let loaded = load_latest_snapshot(dir.path()).unwrap();
        assert_eq!(loaded.found.unwrap().0, older, "{what}");
        assert_eq!(loaded.warnings.len(), 1, "{what}");
    }
    let path = write_snapshot(dir.path(), &newer).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let loaded = load_latest_snapshot(dir.path()).unwrap();
    assert_eq!(loaded.found.unwrap().0, older);
    assert!(
        loaded.warnings[0]
            .to_string()
            .contains("the header gives a body")
    );
}

#[test]
fn with_no_valid_snapshot_none_is_found_and_every_one_is_reported() {
    let dir = TempDir::new("snap-none");
    assert_eq!(load_latest_snapshot(dir.path()).unwrap().found, None);
    for seq in [5, 6] {
        let path = write_snapshot(dir.path(), &EngineSnapshot::new(seq, vec![])).unwrap();
        flip_byte(&path, 30);
    }
    let loaded = load_latest_snapshot(dir.path()).unwrap();
    assert_eq!(loaded.found, None);
    assert_eq!(loaded.warnings.len(), 2);
    let missing = load_latest_snapshot(&dir.path().join("nope")).unwrap();
    assert_eq!(missing.found, None);
}

#[test]
fn an_interrupted_snapshot_write_is_never_taken_for_a_snapshot() {
    let dir = TempDir::new("snap-tmp");
    let good = EngineSnapshot::new(10, images(&sample_books(5)));
    write_snapshot(dir.path(), &good).unwrap();
    // What a crash mid-write leaves: the temporary file, not the final name.
    let temp = dir.path().join(format!("{}.tmp", snapshot_file_name(20)));
    fs::write(&temp, b"RINGSNAP partial").unwrap();
    let loaded = load_latest_snapshot(dir.path()).unwrap();
    assert_eq!(loaded.found.unwrap().0, good);
    assert!(
        matches!(
            loaded.warnings.as_slice(),
            [RecoveryWarning::IgnoredFile { file, .. }] if file == &temp
        ),
        "{:?}",
        loaded.warnings
    );
    // Writing that snapshot again replaces the leftover.
    write_snapshot(dir.path(), &EngineSnapshot::new(20, vec![])).unwrap();
    assert!(!temp.exists());
    let loaded = load_latest_snapshot(dir.path()).unwrap();
    assert_eq!(loaded.found.unwrap().0.last_seq, 20);
    assert!(loaded.warnings.is_empty());
    let mut bad = EngineSnapshot::new(30, vec![]);
    bad.version = 9;
    assert!(write_snapshot(dir.path(), &bad).is_err());
}

// ---------------------------------------------------------------------------------------
// Recovery end to end
// ---------------------------------------------------------------------------------------

/// Journal, books and snapshots as the engine will run them; a crash that tears the last
/// record; recovery from the newest snapshot (the newest one damaged, so the one before)
/// gives the books exactly as they were after the last intact record.
#[test]
fn recovery_rebuilds_the_books_exactly() {
    let dir = TempDir::new("recover");
    let generator = FlowGenerator::new(GenConfig::new(11, 3, 100_000).with_halt_per_million(3_000));
    let instruments = generator.instruments().to_vec();
    let mut books: Vec<OrderBook> = instruments.iter().map(|&i| OrderBook::new(i)).collect();
    let mut hashes = vec![state_hash_of(&books.iter().collect::<Vec<_>>())];
    let mut writer = JournalWriter::open(dir.path(), config(16 * 1024, SyncPolicy::None)).unwrap();
    let commands: Vec<Command> = generator.take(3_000).collect();
    let mut seq = 0;
    for batch in commands.chunks(37) {
        let mut entries = Vec::new();
        for &command in batch {
            seq += 1;
            // Every 13th command is refused before its book and still journaled.
            let e = if seq % 13 == 0 {
                JournalEntry::rejected(seq, seq, command, RejectReason::InvalidQuantity)
            } else {
                JournalEntry::apply(seq, seq, command)
            };
            writer.append(&e).unwrap();
            entries.push(e);
        }
        writer.commit_batch().unwrap();
        for e in entries {
            if e.reject.is_none() {
                let book = books
                    .iter_mut()
                    .find(|b| b.instrument_id() == e.command.instrument_id())
                    .unwrap();
                book.apply(&e.command, &mut |_| {});
            }
            hashes.push(state_hash_of(&books.iter().collect::<Vec<_>>()));
        }
        if seq % 1000 < 37 {
            writer.sync().unwrap();
            write_snapshot(dir.path(), &EngineSnapshot::new(seq, images(&books))).unwrap();
        }
    }
    drop(writer);
    crash(dir.path());
    let total = seq;
    assert!(segments(dir.path()).len() > 5);

    // The crash: the last record torn, the newest snapshot damaged.
    let last_segment = segments(dir.path()).pop().unwrap();
    let len = file_len(&last_segment);
    OpenOptions::new()
        .write(true)
        .open(&last_segment)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let loaded = load_latest_snapshot(dir.path()).unwrap();
    let newest = loaded.found.as_ref().unwrap().0.last_seq;
    flip_byte(&loaded.found.unwrap().1, 40);

    // Recovery.
    let loaded = load_latest_snapshot(dir.path()).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let (snapshot, _) = loaded.found.unwrap();
    assert!(snapshot.last_seq < newest);
    assert_eq!(snapshot.state_hash(), hashes[snapshot.last_seq as usize]);
    let mut recovered: Vec<OrderBook> = snapshot
        .books
        .iter()
        .map(|i| OrderBook::from_image(i).unwrap())
        .collect();
    let mut last = snapshot.last_seq;
    let report = for_each_entry(dir.path(), snapshot.last_seq, |e| {
        assert_eq!(e.seq, last + 1);
        last = e.seq;
        if e.reject.is_none() {
            let book = recovered
                .iter_mut()
                .find(|b| b.instrument_id() == e.command.instrument_id())
                .unwrap();
            book.apply(&e.command, &mut |_| {});
        }
    })
    .unwrap();
    assert_eq!(last, total - 1, "everything but the torn record");
    assert!(matches!(
        report.warnings.as_slice(),
        [RecoveryWarning::TornTail { .. }]
    ));
    for book in &recovered {
        book.check_integrity().unwrap();
    }
    assert!(recovered.iter().map(OrderBook::len).sum::<usize>() > 20);
    assert_eq!(
        state_hash_of(&recovered.iter().collect::<Vec<_>>()),
        hashes[last as usize]
    );

    // Numbering continues after the last intact record.
    let mut writer = JournalWriter::open(dir.path(), JournalConfig::default()).unwrap();
    writer
        .set_next_seq(writer.last_seq().max(snapshot.last_seq) + 1)
        .unwrap();
    assert_eq!(writer.last_seq(), total - 1);
    writer
        .append(&JournalEntry::apply(total, 0, commands[0]))
        .unwrap();
    writer.close().unwrap();
    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(entries.len() as u64, total);
    assert!(report.warnings.is_empty());
}

// ---------------------------------------------------------------------------------------
// One writer at a time
// ---------------------------------------------------------------------------------------

#[test]
fn a_journal_directory_has_one_writer_at_a_time() {
    let dir = TempDir::new("journal-lock");
    let mut first = JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::None)).unwrap();
    write_entries(&mut first, 1, 10, 4);
    assert!(dir.path().join(ringbook::journal::LOCK_FILE).exists());

    // A second writer, and a recovery (which may truncate a torn tail), are refused.
    match JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::None)) {
        Err(JournalError::Locked { dir: locked }) => assert_eq!(locked, dir.path()),
        other => panic!("a second writer opened: {other:?}"),
    }
    let refused = ringbook::recover(dir.path(), [], &mut |_| {}).unwrap_err();
    assert!(matches!(refused, JournalError::Locked { .. }), "{refused}");
    assert!(refused.to_string().contains("in use"), "{refused}");

    // Reading without repair takes no lock, and the lock file is not a segment.
    let mut reader = JournalReader::open_read_only(dir.path(), 0).unwrap();
    let mut seen = 0;
    while reader.next_entry().unwrap().is_some() {
        seen += 1;
    }
    assert_eq!(seen, 10);
    assert!(reader.into_report().warnings.is_empty());

    // The lock goes with its writer.
    drop(first);
    let mut second = JournalWriter::open(dir.path(), config(1 << 20, SyncPolicy::None)).unwrap();
    assert_eq!(second.last_seq(), 10);
    write_entries(&mut second, 11, 12, 2);
    drop(second);
    let recovered = ringbook::recover(dir.path(), [], &mut |_| {}).unwrap();
    assert_eq!(recovered.last_seq, 12);
}

// ---------------------------------------------------------------------------------------
// Lost or damaged complete records (issue 15): never dropped silently
// ---------------------------------------------------------------------------------------

/// A closed journal of `1..=n` in segments of about `segment_bytes`, with at least three
/// segments.
fn segmented(dir: &Path, n: u64, segment_bytes: u64) -> Vec<PathBuf> {
    let files = journal_of(dir, n, segment_bytes);
    assert!(files.len() >= 3, "{files:?}");
    files
}

fn cut(path: &Path, len: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// The files of `dir` and their bytes.
fn snapshot_of_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (file_name(&path), fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_deleted_last_segment_is_named_with_the_records_it_held() {
    for crashed in [false, true] {
        let dir = TempDir::new("lost-last");
        let files = segmented(dir.path(), 100, 500);
        if crashed {
            crash(dir.path());
        }
        let last = files.last().unwrap();
        let first = first_seq_of(last);
        fs::remove_file(last).unwrap();
        let err = read_journal(dir.path(), 0).unwrap_err();
        let before = &files[files.len() - 2];
        match &err {
            JournalError::MissingSegment {
                sealed,
                next_seq,
                closed_last_seq,
                ..
            } => {
                assert_eq!(sealed, before, "crashed {crashed}");
                assert_eq!(*next_seq, first);
                assert_eq!(*closed_last_seq, (!crashed).then_some(100));
            }
            other => panic!("crashed {crashed}: expected MissingSegment, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains(&file_name(last)), "{message}");
        if !crashed {
            assert!(
                message.contains(&format!("records {first}..=100")),
                "{message}"
            );
        }
        // The writer refuses to continue such a journal.
        assert!(JournalWriter::open(dir.path(), JournalConfig::default()).is_err());
    }
}

#[test]
fn a_last_segment_cut_at_a_record_boundary_after_a_clean_close_is_missing_records() {
    let dir = TempDir::new("cut-boundary");
    let files = segmented(dir.path(), 100, 500);
    let last = files.last().unwrap();
    let first = first_seq_of(last);
    let keep = 97;
    cut(last, offset_of(first, keep + 1));
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(
            &err,
            JournalError::RecordsMissing {
                closed_last_seq: 100,
                journal_last_seq: 97,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("records 98..=100 are missing") && message.contains(CLOSED_FILE),
        "{message}"
    );
    assert!(message.contains("--mode point-in-time"), "{message}");
    assert_eq!(
        file_len(last),
        offset_of(first, keep + 1),
        "nothing changed"
    );
}

#[test]
fn a_zero_length_last_segment_is_lost_records_not_a_crash() {
    for crashed in [false, true] {
        let dir = TempDir::new("zero-length");
        let files = segmented(dir.path(), 100, 500);
        if crashed {
            crash(dir.path());
        }
        let last = files.last().unwrap();
        cut(last, 0);
        let err = read_journal(dir.path(), 0).unwrap_err();
        assert!(
            matches!(
                &err,
                JournalError::BadSegmentHeader {
                    file,
                    problem: SegmentHeaderProblem::Empty,
                } if file == last
            ),
            "crashed {crashed}: {err:?}"
        );
        assert!(err.to_string().contains("empty (0 bytes)"), "{err}");
        assert!(JournalWriter::open(dir.path(), JournalConfig::default()).is_err());
        assert_eq!(file_len(last), 0, "nothing changed");
    }
}

#[test]
fn overlapping_segments_are_named_as_such_with_one_range_syntax() {
    let dir = TempDir::new("overlap");
    let files = journal_of(dir.path(), 60, 600);
    let last_first = first_seq_of(files.last().unwrap());
    // Another journal of the same records, cut into segments elsewhere: one of its
    // segments starts inside the first journal's last one.
    let other = TempDir::new("overlap-other");
    let foreign = journal_of(other.path(), 60, 450)
        .into_iter()
        .find(|f| {
            let s = first_seq_of(f);
            s > last_first && s <= 60
        })
        .expect("a segment starting inside the last one");
    let start = first_seq_of(&foreign);
    fs::copy(&foreign, dir.path().join(file_name(&foreign))).unwrap();
    crash(dir.path());
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(
            &err,
            JournalError::SegmentOverlap { expected: 61, found, .. } if *found == start
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("seqs {start}..=60 appear twice")),
        "{message}"
    );
    assert!(!message.contains("are missing"), "{message}");
}

#[test]
fn each_recovery_mode_treats_a_torn_tail_as_documented() {
    for mode in RecoveryMode::ALL {
        let dir = TempDir::new("mode-torn");
        let files = journal_of(dir.path(), 20, 1 << 20);
        crash(dir.path());
        let segment = &files[0];
        let full = file_len(segment);
        cut(segment, full - 5);
        let mut reader = JournalReader::open_in_mode(dir.path(), 0, mode, true).unwrap();
        let read: Result<Vec<_>, _> = reader.by_ref().collect();
        match mode {
            RecoveryMode::AbsoluteConsistency => {
                let err = read.unwrap_err();
                assert!(
                    matches!(&err, JournalError::TornTail { file, offset, .. }
                        if file == segment && *offset == offset_of(1, 20)),
                    "{err:?}"
                );
                assert_eq!(file_len(segment), full - 5, "nothing changed");
            }
            _ => {
                assert_eq!(read.unwrap().len(), 19, "{mode}");
                assert!(
                    matches!(
                        reader.report().warnings.as_slice(),
                        [RecoveryWarning::TornTail {
                            truncated: true,
                            ..
                        }]
                    ),
                    "{mode}: {:?}",
                    reader.report().warnings
                );
                assert_eq!(file_len(segment), offset_of(1, 20), "{mode}");
            }
        }
    }
}

#[test]
fn each_recovery_mode_treats_a_lost_last_segment_as_documented() {
    for mode in RecoveryMode::ALL {
        let dir = TempDir::new("mode-lost");
        let files = segmented(dir.path(), 100, 500);
        let last = files.last().unwrap();
        let first = first_seq_of(last);
        fs::remove_file(last).unwrap();
        let before = snapshot_of_dir(dir.path());
        let mut reader = JournalReader::open_in_mode(dir.path(), 0, mode, true).unwrap();
        let read: Result<Vec<_>, _> = reader.by_ref().collect();
        if mode != RecoveryMode::PointInTime {
            assert!(
                matches!(read, Err(JournalError::MissingSegment { .. })),
                "{mode}: {read:?}"
            );
            assert_eq!(
                snapshot_of_dir(dir.path()),
                before,
                "{mode}: nothing changed"
            );
            continue;
        }
        // Point-in-time: everything before the lost segment, the seal cut, the marker
        // (which named seq 100) removed, and every cut reported.
        assert_eq!(read.unwrap().len() as u64, first - 1);
        let report = reader.into_report();
        assert_eq!(report.last_seq, first - 1);
        let [
            RecoveryWarning::PointInTimeCut {
                problem,
                last_seq,
                cut: Some((file, _)),
                set_aside,
                applied: true,
            },
        ] = report.warnings.as_slice()
        else {
            panic!("{:?}", report.warnings);
        };
        assert_eq!(*last_seq, first - 1);
        assert_eq!(file, &files[files.len() - 2]);
        assert!(problem.contains("is missing"), "{problem}");
        assert_eq!(set_aside.len(), 1, "the seal, saved: {set_aside:?}");
        assert!(!dir.path().join(CLOSED_FILE).exists());
        // The journal is whole again: the default mode reads it, and a writer continues it.
        let (entries, report) = read_journal(dir.path(), 0).unwrap();
        assert_eq!(entries.len() as u64, first - 1);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        let mut writer = JournalWriter::open(dir.path(), config(500, SyncPolicy::None)).unwrap();
        assert_eq!(writer.last_seq(), first - 1);
        write_entries(&mut writer, first, 120, 7);
        writer.close().unwrap();
        let (entries, _) = read_journal(dir.path(), 0).unwrap();
        assert_eq!(entries, (1..=120).map(entry).collect::<Vec<_>>());
    }
}

#[test]
fn absolute_consistency_refuses_a_journal_that_ends_before_the_snapshot() {
    let dir = TempDir::new("mode-behind");
    journal_of(dir.path(), 10, 1 << 20);
    let mut reader =
        JournalReader::open_in_mode(dir.path(), 15, RecoveryMode::AbsoluteConsistency, true)
            .unwrap();
    let err = reader.next_entry().unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::JournalBehindSnapshot {
                journal_last_seq: 10,
                snapshot_seq: 15
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("records 11..=15"), "{err}");
}

#[test]
fn verify_reports_every_problem_and_changes_nothing() {
    let dir = TempDir::new("verify");
    let files = segmented(dir.path(), 100, 500);
    // Damage: a flipped byte in the middle of the second segment, the last one deleted.
    let second = &files[1];
    let bad = offset_of(first_seq_of(second), first_seq_of(second) + 2);
    flip_byte(second, bad + 30);
    fs::remove_file(files.last().unwrap()).unwrap();
    // Without the writer's lock file, to see that verify creates none.
    fs::remove_file(dir.path().join(ringbook::journal::LOCK_FILE)).unwrap();
    let before = snapshot_of_dir(dir.path());
    let report = ringbook::journal::verify(dir.path()).unwrap();
    assert_eq!(
        snapshot_of_dir(dir.path()),
        before,
        "verify changes nothing"
    );
    assert!(!dir.path().join(ringbook::journal::LOCK_FILE).exists());
    assert!(!report.recoverable());
    assert_eq!(report.segments.len(), files.len() - 1);
    let summary = &report.segments[1];
    assert!(
        matches!(
            &summary.problem,
            Some(ringbook::journal::SegmentProblem::BadRecord { offset, expected_seq, .. })
                if *offset == bad && *expected_seq == first_seq_of(second) + 2
        ),
        "{summary:?}"
    );
    assert!(report.segments[0].problem.is_none());
    assert!(report.segments[0].sealed_next.is_some());
    assert!(
        matches!(&report.default_mode, Err(JournalError::Corrupt { file, offset, .. })
            if file == second && *offset == bad),
        "{:?}",
        report.default_mode
    );
    let point_in_time = report.point_in_time.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(point_in_time.last_seq, first_seq_of(second) + 1);
    assert!(
        matches!(
            point_in_time.warnings.as_slice(),
            [RecoveryWarning::PointInTimeCut { applied: false, .. }]
        ),
        "{:?}",
        point_in_time.warnings
    );
}

#[test]
fn recovery_creates_nothing_where_there_is_no_journal() {
    let tmp = TempDir::new("not-a-journal");
    let missing = tmp.path().join("missing");
    let other = tmp.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), b"not a journal").unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    for dir in [&missing, &other, &empty] {
        let recovered = ringbook::recover(dir, [], &mut |_| {}).unwrap();
        assert_eq!(recovered.last_seq, 0);
        assert!(!dir.join(ringbook::journal::LOCK_FILE).exists(), "{dir:?}");
    }
    assert!(!missing.exists());
    assert_eq!(
        fs::read_dir(&other).unwrap().count(),
        1,
        "only notes.txt is there"
    );
}

#[test]
fn a_crash_while_rotating_leaves_a_torn_seal_that_is_repaired() {
    // The writer creates the next segment (header only), then seals the one before: a
    // crash between the two leaves that seal cut short. Nothing committed is lost.
    let dir = TempDir::new("torn-seal");
    let files = segmented(dir.path(), 100, 500);
    crash(dir.path());
    let last = files.last().unwrap();
    let first = first_seq_of(last);
    cut(last, SEGMENT_HEADER_LEN as u64);
    let before = &files[files.len() - 2];
    let sealed_len = file_len(before);
    cut(before, sealed_len - 10);
    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(entries.len() as u64, first - 1);
    assert!(
        matches!(report.warnings.as_slice(), [RecoveryWarning::TornTail { file, offset, dropped_bytes: 14, .. }]
            if file == before && *offset == sealed_len - SEAL_LEN),
        "{:?}",
        report.warnings
    );
    assert_eq!(file_len(before), sealed_len - SEAL_LEN);
    let mut writer = JournalWriter::open(dir.path(), config(500, SyncPolicy::None)).unwrap();
    assert_eq!(writer.last_seq(), first - 1);
    write_entries(&mut writer, first, 110, 3);
    writer.close().unwrap();
    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(entries, (1..=110).map(entry).collect::<Vec<_>>());
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn a_format_one_segment_and_a_bad_marker_are_refused_with_a_clear_error() {
    // Format 1 had no segment header: its records start at offset 0.
    let dir = TempDir::new("format-one");
    let files = journal_of(dir.path(), 10, 1 << 20);
    let bytes = fs::read(&files[0]).unwrap();
    fs::write(&files[0], &bytes[SEGMENT_HEADER_LEN..]).unwrap();
    crash(dir.path());
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(
            &err,
            JournalError::BadSegmentHeader {
                problem: SegmentHeaderProblem::FormatOne,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("a format-1 journal"), "{err}");

    // A clean-shutdown marker that does not parse is named, line and all.
    let dir = TempDir::new("bad-marker");
    journal_of(dir.path(), 10, 1 << 20);
    let marker = dir.path().join(CLOSED_FILE);
    let text = fs::read_to_string(&marker).unwrap();
    fs::write(&marker, text.replace("last_seq 10", "last_seq ten")).unwrap();
    let err = read_journal(dir.path(), 0).unwrap_err();
    assert!(
        matches!(&err, JournalError::BadCleanShutdownMarker { file, line: 2 } if file == &marker),
        "{err:?}"
    );
}

#[test]
fn a_lost_only_segment_of_a_cleanly_closed_journal_is_named_by_its_marker() {
    let dir = TempDir::new("lost-only");
    let files = journal_of(dir.path(), 10, 1 << 20);
    assert_eq!(files.len(), 1);
    fs::remove_file(&files[0]).unwrap();
    let err = ringbook::recover(dir.path(), [], &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::RecordsMissing {
                closed_last_seq: 10,
                journal_last_seq: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("records 1..=10 are missing"),
        "{err}"
    );
}

#[test]
fn point_in_time_from_a_snapshot_cuts_the_seal_of_a_segment_it_did_not_read() {
    let dir = TempDir::new("pit-after-snapshot");
    let files = segmented(dir.path(), 100, 500);
    let last = files.last().unwrap();
    let first = first_seq_of(last);
    cut(last, 0);
    // Recovery starts after a snapshot at `first - 1`: only the emptied segment is read.
    let mut reader =
        JournalReader::open_in_mode(dir.path(), first - 1, RecoveryMode::PointInTime, true)
            .unwrap();
    assert_eq!(reader.by_ref().count(), 0);
    let report = reader.into_report();
    assert_eq!(report.last_seq, first - 1);
    let before = &files[files.len() - 2];
    assert!(
        matches!(report.warnings.as_slice(), [RecoveryWarning::PointInTimeCut {
            last_seq, cut: Some((file, _)), set_aside, ..
        }] if *last_seq == first - 1 && file == before && set_aside.len() == 2),
        "{:?}",
        report.warnings
    );
    assert!(!last.exists());
    // The seal is gone with the segment it named: the writer continues the journal.
    let mut writer = JournalWriter::open(dir.path(), config(500, SyncPolicy::None)).unwrap();
    assert_eq!(writer.last_seq(), first - 1);
    write_entries(&mut writer, first, 110, 4);
    writer.close().unwrap();
    let (entries, report) = read_journal(dir.path(), 0).unwrap();
    assert_eq!(entries, (1..=110).map(entry).collect::<Vec<_>>());
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn arbitrary_bytes_in_segment_files_are_errors_never_panics() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..40 {
        let dir = TempDir::new("fuzz");
        let files = journal_of(dir.path(), 30, 400);
        if round % 2 == 0 {
            crash(dir.path());
        }
        // Damage: flip bytes here and there, cut a file, add segments with extreme names.
        for _ in 0..(next() % 4) {
            let file = &files[(next() % files.len() as u64) as usize];
            let len = file_len(file);
            if len > 0 {
                flip_byte(file, next() % len);
            }
        }
        if round % 3 == 0 {
            let file = &files[(next() % files.len() as u64) as usize];
            cut(file, next() % (file_len(file) + 1));
        }
        if round % 5 == 0 {
            let bytes: Vec<u8> = (0..next() % 200).map(|_| next() as u8).collect();
            let name = ["00000000000000000000", "18446744073709551615"][round % 2];
            fs::write(dir.path().join(format!("{name}.journal")), bytes).unwrap();
        }
        let _ = read_journal(dir.path(), 0);
        let _ = ringbook::journal::verify(dir.path()).unwrap();
        let mut out = Vec::new();
        dump(dir.path(), &mut out).unwrap();
        for mode in RecoveryMode::ALL {
            let _ = ringbook::recover_in_mode(dir.path(), [], mode, &mut |_| {});
        }
        let _ = JournalWriter::open(dir.path(), config(400, SyncPolicy::None));
    }
}

#[test]
fn a_journal_setting_below_its_least_is_refused_naming_it() {
    let dir = TempDir::new("config-bounds");
    let err = JournalWriter::open(dir.path(), config(0, SyncPolicy::None)).unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::Config {
                setting: "segment_bytes",
                value: 0,
                min: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid journal configuration: segment_bytes 0 is less than 1"
    );
    let err = ringbook::journal::prune(dir.path(), 0).unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::Config {
                setting: "keep",
                value: 0,
                min: 1
            }
        ),
        "{err:?}"
    );
}
