//! CRC-32C (Castagnoli), the journal records' checksum: the SSE4.2 `crc32` instruction on
//! x86-64 processors that have it, the `crc32c` crate elsewhere.
//!
//! A record is about 60 to 80 bytes. The crate is built for long buffers (three streams in
//! parallel, then combined) and took about 300 instructions a record, more than the rest
//! of the sequencer's work on a command; eight bytes at a time through one instruction
//! take about 20 for each of a record's two parts.
//!
//! The crate denies `unsafe` code; this module is the one place that needs it: calling a
//! `#[target_feature]` function after checking at run time that the processor has the
//! feature. Each block says why it is sound.

#![allow(unsafe_code)]

/// The CRC-32C of `parts` laid end to end.
#[inline]
pub(crate) fn crc32c(parts: &[&[u8]]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("sse4.2") {
        let mut crc = !0u32;
        for part in parts {
            // SAFETY: `update` needs SSE4.2, and the processor has it (checked above).
            crc = unsafe { sse42::update(crc, part) };
        }
        return !crc;
    }
    parts
        .iter()
        .fold(0, |crc, part| ::crc32c::crc32c_append(crc, part))
}

#[cfg(target_arch = "x86_64")]
mod sse42 {
    use std::arch::x86_64::{_mm_crc32_u8, _mm_crc32_u16, _mm_crc32_u32, _mm_crc32_u64};

    /// Runs the (not inverted) CRC-32C state `crc` over `bytes`: eight at a time, then
    /// the rest four, two and one at a time.
    ///
    /// # Safety
    ///
    /// The processor must have SSE4.2.
    #[target_feature(enable = "sse4.2")]
    pub(super) unsafe fn update(crc: u32, bytes: &[u8]) -> u32 {
        let mut chunks = bytes.chunks_exact(8);
        let mut state = u64::from(crc);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            state = _mm_crc32_u64(state, word);
        }
        // The instruction leaves the 32-bit CRC in the low half.
        let mut crc = state as u32;
        let mut rest = chunks.remainder();
        if let Some((word, tail)) = rest.split_first_chunk::<4>() {
            crc = _mm_crc32_u32(crc, u32::from_le_bytes(*word));
            rest = tail;
        }
        if let Some((half, tail)) = rest.split_first_chunk::<2>() {
            crc = _mm_crc32_u16(crc, u16::from_le_bytes(*half));
            rest = tail;
        }
        if let Some(&byte) = rest.first() {
            crc = _mm_crc32_u8(crc, byte);
        }
        crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_value_and_the_empty_input() {
        // The standard check value of CRC-32C: the CRC of the ASCII digits 1 to 9.
        assert_eq!(crc32c(&[b"123456789"]), 0xE306_9283);
        assert_eq!(crc32c(&[b"1234", b"", b"56789"]), 0xE306_9283);
        assert_eq!(crc32c(&[]), 0);
        assert_eq!(crc32c(&[b""]), 0);
    }

    /// Every length from 0 to 200 bytes, split at every point into two parts, gives what
    /// the `crc32c` crate gives for the whole.
    #[test]
    fn agrees_with_the_crate_at_every_length_and_split() {
        let mut state = 0x853c_49e6_748f_ea9bu64;
        let bytes: Vec<u8> = (0..200)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        for len in 0..=bytes.len() {
            let whole = &bytes[..len];
            let expected = ::crc32c::crc32c(whole);
            for split in 0..=len {
                let (a, b) = whole.split_at(split);
                assert_eq!(crc32c(&[a, b]), expected, "length {len}, split at {split}");
            }
        }
    }
}
