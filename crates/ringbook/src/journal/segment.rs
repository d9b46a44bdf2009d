//! A segment file's own framing: the header every segment starts with, and the seal the
//! writer appends when it moves on to the next segment.
//!
//! ```text
//! header (24 bytes, at offset 0; integers little-endian):
//!      0    8  magic         "RINGJRNL"
//!      8    4  version       u32: the journal format, 2
//!     12    8  first_seq     u64: the seq of the segment's first record (its file name)
//!     20    4  crc32         u32: CRC-32C of bytes 0..20
//!
//! seal (24 bytes, after the segment's last record):
//!      0    4  marker        u32: 0xFFFF_FFFF (never a record's payload length)
//!      4    8  next_seq      u64: the first seq of the next segment
//!     12    8  last_seq      u64: the seq of this segment's last record (next_seq - 1
//!                                 unless the writer skipped ahead after a snapshot)
//!     20    4  crc32         u32: CRC-32C of bytes 0..20
//! ```
//!
//! A segment is created under a temporary name, its header written and `fdatasync`ed, then
//! renamed into place: a segment file with a missing or short header was damaged after it
//! was created, never cut short by a crash. A sealed segment names the segment that must
//! follow it, so losing the last segment whole is detected.

use std::fmt;

use super::crc::crc32c;

/// The bytes a segment file starts with.
pub const SEGMENT_MAGIC: &[u8; 8] = b"RINGJRNL";

/// The journal format this build writes and reads: 2 (segment headers and seals).
/// Format 1 segments (records from offset 0, no header) are refused with
/// [`SegmentHeaderProblem::FormatOne`].
pub const JOURNAL_FORMAT_VERSION: u32 = 2;

/// The size of a segment header, and of a seal.
pub const SEGMENT_HEADER_LEN: usize = 24;

/// The first four bytes of a seal: a length no record has.
pub(crate) const SEAL_MARKER: u32 = u32::MAX;

/// The size of a seal.
pub(crate) const SEAL_LEN: usize = 24;

/// The header of a segment whose first record is `first_seq`.
pub(crate) fn encode_header(first_seq: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    header[0..8].copy_from_slice(SEGMENT_MAGIC);
    header[8..12].copy_from_slice(&JOURNAL_FORMAT_VERSION.to_le_bytes());
    header[12..20].copy_from_slice(&first_seq.to_le_bytes());
    let crc = crc32c(&[&header[..20]]);
    header[20..24].copy_from_slice(&crc.to_le_bytes());
    header
}

/// What is wrong with a segment file's header.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentHeaderProblem {
    /// The file is empty: its header (written and synced before the file got its name)
    /// is gone, and with it whatever records it held.
    Empty,
    /// The file is shorter than a header.
    Short {
        /// The file's length in bytes.
        len: u64,
    },
    /// The file starts with a record, not a header: a journal of format 1, which this
    /// build does not read.
    FormatOne,
    /// The file does not start with [`SEGMENT_MAGIC`].
    BadMagic,
    /// The header's checksum does not match.
    BadCrc,
    /// A format version this build does not read.
    Version {
        /// The version found.
        found: u32,
    },
    /// The header's first seq is not the one in the file name.
    FirstSeq {
        /// The seq the file name stands for.
        expected: u64,
        /// The seq in the header.
        found: u64,
    },
}

impl fmt::Display for SegmentHeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SegmentHeaderProblem::Empty => f.write_str(
                "the file is empty (0 bytes): its header and every record it held are gone",
            ),
            SegmentHeaderProblem::Short { len } => write!(
                f,
                "the file is {len} bytes long, shorter than the {SEGMENT_HEADER_LEN}-byte \
                 segment header"
            ),
            SegmentHeaderProblem::FormatOne => write!(
                f,
                "no segment header: a format-1 journal (this build reads format \
                 {JOURNAL_FORMAT_VERSION}); recover it with the ringbook release that wrote \
                 it and start a new journal from a snapshot"
            ),
            SegmentHeaderProblem::BadMagic => f.write_str("bad magic: not a ringbook segment"),
            SegmentHeaderProblem::BadCrc => f.write_str("segment header CRC mismatch"),
            SegmentHeaderProblem::Version { found } => write!(
                f,
                "journal format version {found}, this build reads {JOURNAL_FORMAT_VERSION}"
            ),
            SegmentHeaderProblem::FirstSeq { expected, found } => write!(
                f,
                "the header says the first seq is {found}, the file name says {expected}"
            ),
        }
    }
}

/// Checks the header at the start of `bytes` (which holds the whole file if it is shorter
/// than a header) for a segment named `first_seq`; `looks_like_record` tells whether the
/// bytes parse as a format-1 record instead.
pub(crate) fn check_header(
    bytes: &[u8],
    first_seq: u64,
    looks_like_record: bool,
) -> Result<(), SegmentHeaderProblem> {
    if bytes.is_empty() {
        return Err(SegmentHeaderProblem::Empty);
    }
    if bytes.len() < 8 || bytes[..8] != SEGMENT_MAGIC[..] {
        if looks_like_record {
            return Err(SegmentHeaderProblem::FormatOne);
        }
        if bytes.len() >= SEGMENT_HEADER_LEN {
            return Err(SegmentHeaderProblem::BadMagic);
        }
    }
    if bytes.len() < SEGMENT_HEADER_LEN {
        return Err(SegmentHeaderProblem::Short {
            len: bytes.len() as u64,
        });
    }
    let crc = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
    if crc != crc32c(&[&bytes[..20]]) {
        return Err(SegmentHeaderProblem::BadCrc);
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != JOURNAL_FORMAT_VERSION {
        return Err(SegmentHeaderProblem::Version { found: version });
    }
    let found = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    if found != first_seq {
        return Err(SegmentHeaderProblem::FirstSeq {
            expected: first_seq,
            found,
        });
    }
    Ok(())
}

/// A seal: the segment ends after record `last_seq`, and the next one starts at
/// `next_seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seal {
    pub(crate) next_seq: u64,
    pub(crate) last_seq: u64,
}

/// The seal of a segment whose last record is `last_seq`, followed by the segment
/// starting at `next_seq`.
pub(crate) fn encode_seal(seal: Seal) -> [u8; SEAL_LEN] {
    let mut bytes = [0u8; SEAL_LEN];
    bytes[0..4].copy_from_slice(&SEAL_MARKER.to_le_bytes());
    bytes[4..12].copy_from_slice(&seal.next_seq.to_le_bytes());
    bytes[12..20].copy_from_slice(&seal.last_seq.to_le_bytes());
    let crc = crc32c(&[&bytes[..20]]);
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// Whether `bytes` start with the seal marker.
pub(crate) fn is_seal(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[0..4] == SEAL_MARKER.to_le_bytes()
}

/// Decodes a whole seal at the start of `bytes`; `None` if it is short or its CRC fails.
pub(crate) fn decode_seal(bytes: &[u8]) -> Option<Seal> {
    if bytes.len() < SEAL_LEN || !is_seal(bytes) {
        return None;
    }
    let crc = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
    if crc != crc32c(&[&bytes[..20]]) {
        return None;
    }
    Some(Seal {
        next_seq: u64::from_le_bytes(bytes[4..12].try_into().expect("8 bytes")),
        last_seq: u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_seals_round_trip_and_damage_is_named() {
        let header = encode_header(42);
        assert_eq!(check_header(&header, 42, false), Ok(()));
        assert_eq!(
            check_header(&header, 43, false),
            Err(SegmentHeaderProblem::FirstSeq {
                expected: 43,
                found: 42
            })
        );
        assert_eq!(
            check_header(&[], 42, false),
            Err(SegmentHeaderProblem::Empty)
        );
        assert_eq!(
            check_header(&header[..10], 42, false),
            Err(SegmentHeaderProblem::Short { len: 10 })
        );
        let mut bad = header;
        bad[13] ^= 1;
        assert_eq!(
            check_header(&bad, 42, false),
            Err(SegmentHeaderProblem::BadCrc)
        );
        assert_eq!(
            check_header(&[7u8; 30], 42, true),
            Err(SegmentHeaderProblem::FormatOne)
        );
        let seal = Seal {
            next_seq: 9,
            last_seq: 8,
        };
        assert_eq!(decode_seal(&encode_seal(seal)), Some(seal));
        let mut bad = encode_seal(seal);
        bad[5] ^= 1;
        assert_eq!(decode_seal(&bad), None);
        assert!(is_seal(&bad));
    }
}
