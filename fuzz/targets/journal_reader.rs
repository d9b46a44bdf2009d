//! Fuzz body: the journal reader ([`ringbook::journal::JournalReader`], format 2: segment
//! headers, seals, the clean-shutdown marker), in every [`RecoveryMode`], with
//! [`ringbook::journal::verify`] and [`ringbook::journal::dump`] on the same directory.
//!
//! The input is a 16-byte header and the bytes of one or two segment files:
//!
//! ```text
//! 0      flags: bit 0 read with repair instead of read-only; bit 1 fix the framing
//!        before writing (a valid segment header naming the file's seq, the CRC-32C of
//!        every whole record and seal), so mutations reach the decoders behind the
//!        checksums; bit 2 split the bytes into two segments; bit 3 write a
//!        clean-shutdown marker
//! 1      the recovery mode: RecoveryMode::ALL[byte % 3]
//! 2      after_seq (the snapshot seq the reader starts after): the byte itself below
//!        0xf0, else one of the sixteen seqs up to u64::MAX
//! 3      i8: the second segment's seq, relative to the seq after the first segment's
//!        last whole record (with bit 1) or to the first segment's seq (without)
//! 4..6   u16 LE: where the split falls (modulo the length)
//! 6..14  u64 LE: the first segment's seq (its file name)
//! 14     i8: the marker's last seq, relative to the last whole record's
//! 15     i8: the marker's byte count, relative to the last segment's length
//! 16..   segment bytes
//! ```
//!
//! Nothing may panic, hang or allocate beyond the files. `verify` (read-only) must agree
//! with a read-only read in the default mode: it calls the journal recoverable exactly
//! when that read succeeds, with as many entries. The entries a reader delivers carry
//! consecutive seqs after `after_seq`. [`RecoveryMode::AbsoluteConsistency`] never
//! reports a torn tail (it refuses one). A repairing read that succeeds leaves a journal
//! that reads back, read-only in the same mode, to the same entries with nothing left to
//! repair after `after_seq`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::scratch::Scratch;

use ringbook::journal::{
    CLOSED_FILE, JOURNAL_FORMAT_VERSION, JournalEntry, JournalError, JournalReader,
    MAX_PAYLOAD_LEN, RECORD_HEADER_LEN, RecoveryMode, RecoveryReport, RecoveryWarning,
    SEGMENT_HEADER_LEN, SEGMENT_MAGIC, dump, verify,
};

/// The length of the input header.
const HEADER: usize = 16;

/// The first four bytes of a seal (a length no record has).
const SEAL_MARKER: u32 = u32::MAX;

/// What one input did: for the corpus replay to check that the corpus reaches the paths.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Entries delivered before the end or the error.
    pub(crate) entries: usize,
    /// Whether reading stopped at an error.
    pub(crate) error: bool,
    /// Whether a torn tail was reported.
    pub(crate) torn_tail: bool,
    /// Whether a point-in-time recovery cut the journal.
    pub(crate) cut: bool,
    /// Whether a segment ended in a seal the reader went past.
    pub(crate) sealed: bool,
}

/// The file name of the segment starting at `first_seq` (the journal's naming rule).
fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.journal"))
}

/// The CRC-32C of `bytes[..20]` written into `bytes[20..24]`.
fn seal_crc(bytes: &mut [u8]) {
    let crc = crc32c::crc32c(&bytes[..20]);
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
}

/// Makes the framing of `segment` (named `first_seq`) valid: the header, then the CRC of
/// every whole record with a plausible length, up to a seal (whose CRC is fixed too) or
/// the first record that is not whole. Returns the number of whole records and the seq
/// of the last.
pub(crate) fn fix_framing(segment: &mut [u8], first_seq: u64) -> (u64, Option<u64>) {
    if segment.len() < SEGMENT_HEADER_LEN {
        return (0, None);
    }
    segment[0..8].copy_from_slice(SEGMENT_MAGIC);
    segment[8..12].copy_from_slice(&JOURNAL_FORMAT_VERSION.to_le_bytes());
    segment[12..20].copy_from_slice(&first_seq.to_le_bytes());
    seal_crc(&mut segment[..SEGMENT_HEADER_LEN]);
    let mut at = SEGMENT_HEADER_LEN;
    let (mut records, mut last) = (0, None);
    while segment.len() - at >= RECORD_HEADER_LEN {
        let len = u32::from_le_bytes(segment[at..at + 4].try_into().expect("4 bytes"));
        if len == SEAL_MARKER {
            seal_crc(&mut segment[at..at + 24]);
            break;
        }
        if !(1..=MAX_PAYLOAD_LEN).contains(&len) {
            break;
        }
        let end = at + RECORD_HEADER_LEN + len as usize;
        if end > segment.len() {
            break;
        }
        let crc = crc32c::crc32c_append(
            crc32c::crc32c(&segment[at..at + 20]),
            &segment[at + RECORD_HEADER_LEN..end],
        );
        segment[at + 20..at + 24].copy_from_slice(&crc.to_le_bytes());
        records += 1;
        last = Some(u64::from_le_bytes(
            segment[at + 4..at + 12].try_into().expect("8 bytes"),
        ));
        at = end;
    }
    (records, last)
}

/// `base` moved by the signed byte `delta`, wrapping.
fn shifted(base: u64, delta: u8) -> u64 {
    base.wrapping_add_signed(i64::from(delta as i8))
}

/// Reads the journal in `dir` to its end or first error.
fn read_all(
    dir: &Path,
    after_seq: u64,
    mode: RecoveryMode,
    repair: bool,
) -> (Vec<JournalEntry>, Result<RecoveryReport, JournalError>) {
    let mut reader = match JournalReader::open_in_mode(dir, after_seq, mode, repair) {
        Ok(reader) => reader,
        Err(e) => return (Vec::new(), Err(e)),
    };
    let mut entries = Vec::new();
    loop {
        match reader.next_entry() {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => return (entries, Ok(reader.into_report())),
            Err(e) => {
                // After an error the reader delivers nothing more.
                assert!(matches!(reader.next_entry(), Ok(None)), "{e}");
                return (entries, Err(e));
            }
        }
    }
}

/// Whether `report`, of a read after a repairing one that skipped the first `skipped`
/// segments, holds something a repairing read would change in the entries after
/// `after_seq`. Repairs of what lies before the reader's start do not count: setting
/// aside a damaged last segment can bring a segment the reader skipped to the end of the
/// journal, where a second read finds its torn tail or damage; no entry after
/// `after_seq` is lost by it.
fn has_repair(dir: &Path, report: &RecoveryReport, skipped: usize, after_seq: u64) -> bool {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .expect("list the scratch directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "journal"))
        .collect();
    names.sort();
    names.truncate(skipped);
    report.warnings.iter().any(|w| match w {
        RecoveryWarning::TornTail { file, .. } => !names.contains(file),
        RecoveryWarning::PointInTimeCut { last_seq, .. } => *last_seq > after_seq,
        _ => false,
    })
}

/// Writes the files the input describes into `dir`.
fn write_files(dir: &Path, data: &[u8]) {
    let flags = data[0];
    let (fix, split, marker) = (flags & 2 != 0, flags & 4 != 0, flags & 8 != 0);
    let split_at = usize::from(u16::from_le_bytes([data[4], data[5]]));
    let first_seq = u64::from_le_bytes(data[6..14].try_into().expect("8 bytes"));
    let bytes = &data[HEADER..];

    let mut parts = if split {
        let at = split_at % (bytes.len() + 1);
        vec![bytes[..at].to_vec(), bytes[at..].to_vec()]
    } else {
        vec![bytes.to_vec()]
    };
    let mut seq = first_seq;
    let mut last_seq = first_seq.wrapping_sub(1);
    let mut last = (PathBuf::new(), 0u64);
    for (i, part) in parts.iter_mut().enumerate() {
        if i == 1 {
            seq = shifted(
                if fix {
                    last_seq.wrapping_add(1)
                } else {
                    first_seq
                },
                data[3],
            );
        }
        if fix {
            let (records, last_record) = fix_framing(part, seq);
            if records > 0 {
                last_seq = last_record.unwrap_or(last_seq);
            }
        }
        let path = segment_path(dir, seq);
        fs::write(&path, &part).expect("write a segment");
        last = (path, part.len() as u64);
    }
    if marker {
        let name = last.0.file_name().expect("a file name").to_string_lossy();
        let text = format!(
            "ringbook journal closed cleanly\nlast_seq {}\nsegment {name}\nbytes {}\n",
            shifted(last_seq, data[14]),
            shifted(last.1, data[15]),
        );
        fs::write(dir.join(CLOSED_FILE), text).expect("write the marker");
    }
}

/// Runs one input; panics (a finding) if a property breaks.
pub(crate) fn run(data: &[u8]) -> Outcome {
    if data.len() < HEADER {
        return Outcome::default();
    }
    let repair = data[0] & 1 != 0;
    let mode = RecoveryMode::ALL[usize::from(data[1]) % RecoveryMode::ALL.len()];
    let after_seq = match data[2] {
        b @ 0..0xf0 => u64::from(b),
        b => u64::MAX - u64::from(0xff - b),
    };
    let scratch = Scratch::new("journal");
    let dir = scratch.path();
    write_files(dir, data);

    // Read-only looks first: verify and dump never panic, and verify agrees with a
    // read-only read in the default mode (there is no snapshot: from seq 0).
    let mut listing = Vec::new();
    let _ = dump(dir, &mut listing);
    let verified = verify(dir).unwrap_or_else(|e| panic!("verify fails on a directory: {e}"));
    assert_eq!(
        verified.start_seq, 0,
        "no snapshot, yet verify starts later"
    );
    let (plain, plain_result) = read_all(dir, 0, RecoveryMode::TolerateTornTail, false);
    match (&verified.default_mode, &plain_result) {
        (Ok(report), Ok(_)) => {
            assert!(verified.recoverable());
            assert!(verified.point_in_time.is_none());
            assert_eq!(report.entries_delivered, plain.len() as u64);
        }
        (Err(verify_error), Err(read_error)) => {
            assert!(!verified.recoverable());
            assert!(verified.point_in_time.is_some(), "no point-in-time dry run");
            assert_eq!(verify_error.to_string(), read_error.to_string());
        }
        (verify_result, read_result) => panic!(
            "verify says {verify_result:?}, a read-only read says {read_result:?}",
            verify_result = verify_result.as_ref().map(|r| r.entries_delivered),
            read_result = read_result.as_ref().map(|r| r.entries_delivered),
        ),
    }
    for segment in &verified.segments {
        assert!(segment.file.starts_with(dir));
        let _ = segment.problem.as_ref().map(ToString::to_string);
    }

    let (entries, result) = read_all(dir, after_seq, mode, repair);
    for pair in entries.windows(2) {
        assert_eq!(
            pair[1].seq,
            pair[0].seq.wrapping_add(1),
            "seqs are consecutive"
        );
    }
    if let Some(first) = entries.first() {
        assert!(
            first.seq > after_seq,
            "seq {} delivered after {after_seq}",
            first.seq
        );
    }
    let mut outcome = Outcome {
        entries: entries.len(),
        sealed: verified.segments.iter().any(|s| s.sealed_next.is_some()),
        ..Outcome::default()
    };
    match result {
        Ok(report) => {
            assert_eq!(report.entries_delivered, entries.len() as u64);
            for warning in &report.warnings {
                let _ = warning.to_string();
                match warning {
                    RecoveryWarning::TornTail { truncated, .. } => {
                        assert_ne!(mode, RecoveryMode::AbsoluteConsistency, "{warning}");
                        assert_eq!(*truncated, repair);
                        outcome.torn_tail = true;
                    }
                    RecoveryWarning::PointInTimeCut { applied, .. } => {
                        assert_eq!(mode, RecoveryMode::PointInTime, "{warning}");
                        assert_eq!(*applied, repair);
                        outcome.cut = true;
                    }
                    _ => {}
                }
            }
            let skipped = report.segments_skipped;
            if repair {
                // The repaired journal reads back the same, with nothing left to repair.
                let (again, result) = read_all(dir, after_seq, mode, false);
                let report = result.unwrap_or_else(|e| panic!("a repaired journal fails: {e}"));
                assert_eq!(again, entries, "a repaired journal reads back differently");
                assert!(
                    !has_repair(dir, &report, skipped, after_seq),
                    "a repaired journal still needs repair: {:?}",
                    report.warnings
                );
            }
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            outcome.error = true;
        }
    }
    outcome
}
