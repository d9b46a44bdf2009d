//! The books with work, as the sequencer hands them to a book consumer: a bitset with a
//! summary word per 64 words, so a consumer finds its busy books without polling the ring
//! of every book it owns (at 10,000 books the polling was most of a command's cost).
//!
//! The protocol (one marker, the sequencer; one drainer, the book's consumer):
//! - the sequencer publishes into a book's ring, then [`DirtyBooks::mark`]s the book: an
//!   `AcqRel` `fetch_or` of its bit, then, if its word was empty, of the word's bit in the
//!   summary;
//! - the consumer [`DirtyBooks::drain`]s: swaps each non-empty summary word to 0, then
//!   each word it names to 0 (`AcqRel`), and only then polls the books found.
//!
//! Both sides update the same word with read-modify-writes, so they are ordered: a mark
//! ordered before the consumer's swap is seen by that swap, which acquires the publish
//! before it (the poll that follows sees the entries); a mark ordered after it leaves the
//! bit set for the next drain. A set word bit always has its summary bit set or its word
//! about to be swapped (the summary bit is only skipped when the word already held a bit,
//! whose mark set it and which no swap has taken yet). So a book with unread entries is
//! always marked or in the consumer's hands; `loom_a_marked_book_is_never_lost` checks
//! it in every interleaving.

use std::sync::atomic::Ordering;

use crate::sync::AtomicU64;

/// Books per word.
const BITS: usize = 64;

/// The books one consumer owns, by their index among its books, with a bit set for each
/// book the sequencer published into since the consumer last drained it.
pub(crate) struct DirtyBooks {
    /// A bit per word of `words`: the word may hold a set bit.
    summary: Box<[AtomicU64]>,
    /// A bit per book.
    words: Box<[AtomicU64]>,
}

impl DirtyBooks {
    /// A set for `books` books, none marked.
    pub(crate) fn new(books: usize) -> DirtyBooks {
        let words = books.div_ceil(BITS).max(1);
        let zeros = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        DirtyBooks {
            summary: zeros(words.div_ceil(BITS)),
            words: zeros(words),
        }
    }

    /// Marks `book` as having work, after its entries are published. Only the sequencer
    /// (the set's one marker) calls it.
    #[inline]
    pub(crate) fn mark(&self, book: usize) {
        let word = book / BITS;
        let before = self.words[word].fetch_or(1 << (book % BITS), Ordering::AcqRel);
        if before == 0 {
            self.summary[word / BITS].fetch_or(1 << (word % BITS), Ordering::AcqRel);
        }
    }

    /// Whether a book may be marked (for the consumer's idle check).
    pub(crate) fn any(&self) -> bool {
        self.summary
            .iter()
            .any(|word| word.load(Ordering::Acquire) != 0)
    }

    /// Unmarks every marked book and hands each to `found` (by index, ascending within a
    /// summary word). Only the set's consumer calls it, before polling the books found.
    #[inline]
    pub(crate) fn drain(&self, mut found: impl FnMut(usize)) {
        for (s, summary) in self.summary.iter().enumerate() {
            if summary.load(Ordering::Relaxed) == 0 {
                // A mark not seen yet is seen by a later drain.
                continue;
            }
            let mut names = summary.swap(0, Ordering::AcqRel);
            while names != 0 {
                let word = s * BITS + names.trailing_zeros() as usize;
                names &= names - 1;
                let mut bits = self.words[word].swap(0, Ordering::AcqRel);
                while bits != 0 {
                    found(word * BITS + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                }
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn drained(dirty: &DirtyBooks) -> Vec<usize> {
        let mut found = Vec::new();
        dirty.drain(|book| found.push(book));
        found
    }

    #[test]
    fn a_drain_hands_over_each_marked_book_once_and_unmarks_it() {
        let dirty = DirtyBooks::new(10_000);
        assert!(!dirty.any());
        for book in [9_999, 0, 64, 4_097, 64, 0] {
            dirty.mark(book);
        }
        assert!(dirty.any());
        assert_eq!(drained(&dirty), vec![0, 64, 4_097, 9_999]);
        assert!(!dirty.any());
        assert_eq!(drained(&dirty), Vec::<usize>::new());
        dirty.mark(4_097);
        assert_eq!(drained(&dirty), vec![4_097]);
    }

    #[test]
    fn a_set_of_no_book_drains_nothing() {
        let dirty = DirtyBooks::new(0);
        assert!(!dirty.any());
        assert_eq!(drained(&dirty), Vec::<usize>::new());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The handoff under loom: a book published into and marked is always found by the
    //! consumer, in any interleaving of the marker and the drains.

    use std::sync::atomic::Ordering;

    use loom::sync::Arc;

    use super::*;

    /// The sequencer publishes into two books (in different words, so the summary is
    /// exercised), marking each after its publish, while the consumer drains and reads
    /// what the books it found hold. After the sequencer is done, one more drain must
    /// bring the consumer level with every book: a lost mark leaves a book behind.
    #[test]
    fn loom_a_marked_book_is_never_lost() {
        loom::model(|| {
            const BOOKS: [usize; 2] = [3, 70];
            let dirty = Arc::new(DirtyBooks::new(128));
            // Each book's ring, reduced to its published count.
            let published = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
            let sequencer = {
                let (dirty, published) = (Arc::clone(&dirty), Arc::clone(&published));
                loom::thread::spawn(move || {
                    for (ring, book) in [(0, BOOKS[0]), (1, BOOKS[1]), (0, BOOKS[0])] {
                        published[ring].fetch_add(1, Ordering::Release);
                        dirty.mark(book);
                    }
                })
            };
            let mut seen = [0u64; 2];
            let mut poll = |dirty: &DirtyBooks, seen: &mut [u64; 2]| {
                dirty.drain(|book| {
                    let ring = BOOKS
                        .iter()
                        .position(|&b| b == book)
                        .expect("a marked book");
                    seen[ring] = published[ring].load(Ordering::Acquire);
                });
            };
            poll(&dirty, &mut seen);
            poll(&dirty, &mut seen);
            sequencer.join().unwrap();
            poll(&dirty, &mut seen);
            assert_eq!(seen, [2, 1], "a book with entries was left unmarked");
        });
    }
}
