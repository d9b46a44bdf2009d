//! The window's cells a block at a time: the window slides, grows and is emptied by blocks
//! of [`BLOCK`] cells (64 bytes, one cache line), tested and moved with vector loads and
//! stores, never with `memset`/`memcpy`: glibc's large copies and fills use `rep movsb` and
//! `rep stosb`, which count one instruction a byte under callgrind (a doubling's copy of a
//! 128 Ki-cell window cost about 500,000 on the `normal` market regime).

use super::NIL;

/// Cells in a block. The window's base and length are multiples of it, so a block of cells
/// never wraps around the window's end.
pub(crate) const BLOCK: usize = 16;

/// A block of cells.
pub(super) type Block = [u32; BLOCK];

/// A block of empty cells.
pub(super) const EMPTY: Block = [NIL; BLOCK];

/// Whether no cell of `block` holds a slot (the AND of its cells is [`NIL`]), ANDed as
/// four lanes of four cells, then across the lanes: four vector loads, three ANDs and a
/// compare (a fold over the 16 cells in a row took about 30 instructions, shuffling the
/// first cell apart from the others).
#[inline(always)]
pub(super) fn is_empty(block: &Block) -> bool {
    let (quads, _) = block.as_chunks::<4>();
    let mut all = [NIL; 4];
    for quad in quads {
        for (all, &slot) in all.iter_mut().zip(quad) {
            *all &= slot;
        }
    }
    all[0] & all[1] & all[2] & all[3] == NIL
}

/// The cells of `block` that hold a slot, as bits (bit `i` for cell `i`).
#[inline(always)]
pub(super) fn live(block: &Block) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        live_sse2(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        live_portable(block)
    }
}

/// [`live`] in SSE2: compare the four lanes of four cells with [`NIL`], narrow the masks
/// to a byte a cell and gather their top bits (14 instructions; the compiler made about 45
/// of [`live_portable`], a compare and a shift a cell).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn live_sse2(block: &Block) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi32, _mm_loadu_si128, _mm_movemask_epi8, _mm_packs_epi16,
        _mm_packs_epi32, _mm_set1_epi32,
    };
    let lanes = block.as_ptr().cast::<__m128i>();
    // SAFETY: SSE2 is in every x86_64 target's baseline, so its intrinsics run on any
    // x86_64 CPU; the four unaligned loads read the block's 64 bytes (16 cells of 4), all
    // within the borrowed array.
    let nil_bytes = unsafe {
        let nil = _mm_set1_epi32(NIL as i32);
        let lane = |k: usize| _mm_cmpeq_epi32(_mm_loadu_si128(lanes.add(k)), nil);
        let low = _mm_packs_epi32(lane(0), lane(1));
        let high = _mm_packs_epi32(lane(2), lane(3));
        _mm_movemask_epi8(_mm_packs_epi16(low, high))
    };
    !(nil_bytes as u32) & 0xFFFF
}

/// [`live`] with one compare and shift a cell.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn live_portable(block: &Block) -> u32 {
    block
        .iter()
        .enumerate()
        .fold(0u32, |bits, (i, &slot)| bits | u32::from(slot != NIL) << i)
}

/// `cap` (a multiple of a block) empty cells, written a block at a time: four vector
/// stores a block and the loop's step (a `Vec<u32>` extended a block at a time checked its
/// capacity and stored its length at each block: 12 instructions a block, half a doubling's
/// cost on the market regimes).
pub(super) fn empty_cells(cap: usize) -> Vec<u32> {
    // Opaque to the compiler: with the constant block it would make the loop a `memset`,
    // whose `rep stosb` counts an instruction a byte under callgrind.
    let empty = std::hint::black_box(EMPTY);
    vec![empty; cap / BLOCK].into_flattened()
}

/// Copies the blocks of `from` that hold a slot over the same blocks of `to` (whose cells
/// there are empty): a block with no slot (most of a window that grew for orders that
/// outlive it) costs one test, not a copy.
///
/// # Panics
///
/// If the two runs differ in length or are not whole blocks (a bug of the caller).
pub(super) fn copy_live(to: &mut [u32], from: &[u32]) {
    assert!(
        to.len() == from.len() && from.len().is_multiple_of(BLOCK),
        "runs of {} and {} cells",
        to.len(),
        from.len()
    );
    let (to, _) = to.as_chunks_mut::<BLOCK>();
    let (from, _) = from.as_chunks::<BLOCK>();
    for (to, from) in to.iter_mut().zip(from) {
        if !is_empty(from) {
            *to = *from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_empty_only_when_every_cell_is() {
        assert!(is_empty(&EMPTY));
        assert_eq!(live(&EMPTY), 0);
        for i in 0..BLOCK {
            let mut block = EMPTY;
            // Slot 0 and a slot with every bit but one set are both live.
            block[i] = if i % 2 == 0 { 0 } else { NIL ^ (1 << i) };
            assert!(!is_empty(&block), "cell {i}");
            assert_eq!(live(&block), 1 << i, "cell {i}");
        }
        let mut block = EMPTY;
        block[3] = 7;
        block[15] = 9;
        assert_eq!(live(&block), 1 << 3 | 1 << 15);
        assert_eq!(live_portable(&block), 1 << 3 | 1 << 15);
    }

    /// The vector and the portable count agree on every pattern of live cells, with slots
    /// that look like NIL in part (the narrowing saturates: a lane's mask must survive it).
    #[test]
    fn live_cells_agree_with_the_portable_count_on_every_pattern() {
        for pattern in 0..=0xFFFFu32 {
            let mut block = EMPTY;
            for (i, cell) in block.iter_mut().enumerate() {
                if pattern >> i & 1 == 1 {
                    // Slots sharing all but one bit with NIL, or its low or high half.
                    *cell = match (pattern as usize + i) % 4 {
                        0 => NIL - 1,
                        1 => 0xFFFF,
                        2 => 0xFFFF_0000,
                        _ => i as u32,
                    };
                }
            }
            assert_eq!(live(&block), pattern, "{pattern:#x}");
            assert_eq!(live_portable(&block), pattern, "{pattern:#x}");
        }
    }

    #[test]
    fn empty_cells_are_all_nil() {
        let cells = empty_cells(4 * BLOCK);
        assert_eq!(cells.len(), 4 * BLOCK);
        assert!(cells.iter().all(|&c| c == NIL));
    }

    #[test]
    fn copy_live_copies_every_block_that_holds_a_slot() {
        let mut from = empty_cells(4 * BLOCK);
        from[BLOCK + 5] = 11;
        from[3 * BLOCK] = 0;
        from[3 * BLOCK + 15] = 12;
        let mut to = empty_cells(4 * BLOCK);
        copy_live(&mut to, &from);
        assert_eq!(to, from);
    }

    #[test]
    #[should_panic(expected = "runs of 32 and 16 cells")]
    fn copy_live_refuses_runs_of_different_lengths() {
        copy_live(&mut empty_cells(2 * BLOCK), &empty_cells(BLOCK));
    }
}
