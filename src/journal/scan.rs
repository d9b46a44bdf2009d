//! Finding a journal's segment files and scanning one record by record.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::error::JournalError;
use super::reader::RecoveryWarning;
use super::record::JournalEntry;
use super::record::{MIN_PAYLOAD_LEN, RECORD_HEADER_LEN, RecordError, RecordHeader, decode_record};
use super::segment::{
    SEAL_LEN, SEGMENT_HEADER_LEN, Seal, SegmentHeaderProblem, check_header, decode_seal, is_seal,
};

/// The suffix of segment files.
pub(crate) const SEGMENT_SUFFIX: &str = ".journal";

/// How many bytes the scanner reads at a time.
const CHUNK: usize = 256 * 1024;

/// The file name of the segment whose first record is `first_seq`: 20 zero-padded
/// digits, so names sort in seq order.
pub(crate) fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}{SEGMENT_SUFFIX}")
}

/// The first seq a segment file name stands for, if it is a segment name.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One segment file of a journal directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentFile {
    pub(crate) path: PathBuf,
    pub(crate) first_seq: u64,
}

/// The segments of `dir`, in seq order, and warnings about `*.journal` files whose names
/// are not segment names. A missing directory is an empty journal.
pub(crate) fn list_segments(
    dir: &Path,
) -> Result<(Vec<SegmentFile>, Vec<RecoveryWarning>), JournalError> {
    let mut segments = Vec::new();
    let mut warnings = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((segments, warnings)),
        Err(e) => return Err(JournalError::io("list", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(JournalError::io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.ends_with(SEGMENT_SUFFIX) {
            continue;
        }
        match parse_segment_name(name) {
            Some(first_seq) => segments.push(SegmentFile {
                path: entry.path(),
                first_seq,
            }),
            None => warnings.push(RecoveryWarning::IgnoredFile {
                file: entry.path(),
                reason: "not a segment name (20 digits, then .journal)".into(),
            }),
        }
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok((segments, warnings))
}

/// The offset of the seal `path` ends with, if it ends with one.
pub(crate) fn trailing_seal(path: &Path) -> Result<Option<u64>, JournalError> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).map_err(JournalError::io("open", path))?;
    let len = file
        .metadata()
        .map_err(JournalError::io("stat", path))?
        .len();
    if len < (SEGMENT_HEADER_LEN + SEAL_LEN) as u64 {
        return Ok(None);
    }
    let offset = len - SEAL_LEN as u64;
    let mut bytes = [0u8; SEAL_LEN];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(JournalError::io("read", path))?;
    Ok(decode_seal(&bytes).map(|_| offset))
}

/// A record scanned from a segment.
pub(crate) enum Scan {
    /// A valid record at `offset`.
    Record(JournalEntry, u64),
    /// The clean end of the file.
    End,
    /// A valid seal at `offset`: the scanner is past it.
    Seal(Seal, u64),
    /// A bad record at `offset`; the scanner stays there.
    Bad(u64, RecordError),
}

/// What the bytes from a bad record's offset to the end of the last segment are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tail {
    /// What a write cut short by a crash leaves: a record whose bytes run out before its
    /// end, a header cut short, or bytes that are not a record at all (zeros, or stale
    /// data a filesystem exposed past the last write). `seq`: the seq the incomplete
    /// record's header names, if it is the one expected.
    Torn {
        /// The seq of the incomplete record, when its header is intact.
        seq: Option<u64>,
    },
    /// A complete record (its header whole with a plausible length, every byte it claims
    /// present, or its header naming the seq expected) that fails its check: damaged
    /// after it was written, never what a crash mid-write leaves.
    Damaged,
}

/// Reads one segment record by record through a bounded window.
pub(crate) struct SegmentScanner {
    pub(crate) path: PathBuf,
    file: File,
    pub(crate) file_len: u64,
    buf: Vec<u8>,
    /// The index in `buf` of the current position.
    start: usize,
    /// The file offset of the current position.
    pub(crate) pos: u64,
    eof: bool,
}

impl SegmentScanner {
    pub(crate) fn open(path: &Path) -> Result<SegmentScanner, JournalError> {
        let file = File::open(path).map_err(JournalError::io("open", path))?;
        let file_len = file
            .metadata()
            .map_err(JournalError::io("stat", path))?
            .len();
        Ok(SegmentScanner {
            path: path.to_path_buf(),
            file,
            file_len,
            buf: Vec::with_capacity(CHUNK.min(file_len as usize + 1)),
            start: 0,
            pos: 0,
            eof: false,
        })
    }

    /// Checks the segment header of a segment named `first_seq` and moves past it.
    ///
    /// # Errors
    ///
    /// The outer error for I/O; the inner one names what is wrong with the header.
    pub(crate) fn read_header(
        &mut self,
        first_seq: u64,
    ) -> Result<Result<(), SegmentHeaderProblem>, JournalError> {
        let available = self.fill(SEGMENT_HEADER_LEN.max(RECORD_HEADER_LEN + 80))?;
        let bytes = &self.buf[self.start..self.start + available];
        let looks_like_record = decode_record(bytes).is_ok_and(|(e, _)| e.seq == first_seq);
        let checked = check_header(
            &bytes[..available.min(SEGMENT_HEADER_LEN)],
            first_seq,
            looks_like_record,
        );
        if checked.is_ok() {
            self.advance(SEGMENT_HEADER_LEN);
        }
        Ok(checked)
    }

    /// Classifies the bytes from the current position (a bad record) to the end of the
    /// file, `expected` being the seq the record there should carry. Moves the scanner.
    pub(crate) fn classify_tail(&mut self, expected: u64) -> Result<Tail, JournalError> {
        let available = self.fill(RECORD_HEADER_LEN)?;
        if available >= RECORD_HEADER_LEN {
            let header = RecordHeader::parse(&self.buf[self.start..]);
            let complete = header.plausible_len()
                && self.file_len - self.pos >= (RECORD_HEADER_LEN + header.len as usize) as u64;
            if complete || header.seq == expected && !header.plausible_len() {
                return Ok(Tail::Damaged);
            }
            if header.seq == expected {
                return Ok(Tail::Torn {
                    seq: Some(expected),
                });
            }
        }
        Ok(Tail::Torn { seq: None })
    }

    /// Makes at least `n` bytes available from the current position, unless the file ends
    /// first; returns how many are available.
    fn fill(&mut self, n: usize) -> Result<usize, JournalError> {
        while self.buf.len() - self.start < n && !self.eof {
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let len = self.buf.len();
            self.buf.resize(len + CHUNK.max(n), 0);
            let read = loop {
                match self.file.read(&mut self.buf[len..]) {
                    Ok(read) => break read,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(len);
                        return Err(JournalError::io("read", &self.path)(e));
                    }
                }
            };
            self.buf.truncate(len + read);
            self.eof = read == 0;
        }
        Ok(self.buf.len() - self.start)
    }

    fn advance(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    /// The record at the current position; moves past it if it is valid.
    pub(crate) fn next(&mut self) -> Result<Scan, JournalError> {
        let offset = self.pos;
        let available = self.fill(RECORD_HEADER_LEN)?;
        if available == 0 {
            return Ok(Scan::End);
        }
        if is_seal(&self.buf[self.start..]) {
            return Ok(match decode_seal(&self.buf[self.start..]) {
                Some(seal) => {
                    self.advance(SEAL_LEN);
                    Scan::Seal(seal, offset)
                }
                None if available < SEAL_LEN => Scan::Bad(
                    offset,
                    RecordError::Truncated(format!(
                        "truncated segment seal: {available} bytes left, a seal is {SEAL_LEN}"
                    )),
                ),
                None => Scan::Bad(
                    offset,
                    RecordError::Damaged("segment seal CRC mismatch".into()),
                ),
            });
        }
        if available >= RECORD_HEADER_LEN {
            let header = RecordHeader::parse(&self.buf[self.start..]);
            if header.plausible_len() {
                self.fill(RECORD_HEADER_LEN + header.len as usize)?;
            }
        }
        match decode_record(&self.buf[self.start..]) {
            Ok((entry, len)) => {
                self.advance(len);
                Ok(Scan::Record(entry, offset))
            }
            Err(e) => Ok(Scan::Bad(offset, e)),
        }
    }

    /// Looks for a record with a valid CRC that starts after the current position (at a
    /// bad record): its offset and seq. Moves the scanner.
    pub(crate) fn find_valid_after(&mut self) -> Result<Option<(u64, u64)>, JournalError> {
        let min = RECORD_HEADER_LEN + MIN_PAYLOAD_LEN as usize;
        loop {
            if self.fill(1)? == 0 {
                return Ok(None);
            }
            self.advance(1);
            if self.fill(min)? < min {
                return Ok(None);
            }
            let header = RecordHeader::parse(&self.buf[self.start..]);
            if !header.plausible_len() {
                continue;
            }
            self.fill(RECORD_HEADER_LEN + header.len as usize)?;
            match decode_record(&self.buf[self.start..]) {
                Ok((entry, _)) => return Ok(Some((self.pos, entry.seq))),
                Err(RecordError::Invalid(_)) => return Ok(Some((self.pos, header.seq))),
                Err(_) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_sort_and_parse() {
        assert_eq!(segment_name(1), "00000000000000000001.journal");
        assert_eq!(segment_name(u64::MAX), "18446744073709551615.journal");
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        assert_eq!(parse_segment_name("1.journal"), None);
        assert_eq!(parse_segment_name("0000000000000000000x.journal"), None);
        assert_eq!(parse_segment_name("00000000000000000001.snap"), None);
        assert_eq!(parse_segment_name("99999999999999999999.journal"), None);
        assert!(segment_name(9) < segment_name(10));
    }
}
