//! The books with work, as the sequencer hands them to a book consumer: a bitset with a
//! summary word per 64 words, so a consumer finds its busy books without polling the ring
//! of every book it owns (at 10,000 books the polling was most of a command's cost).
//!
//! The protocol (one marker, the sequencer; one drainer, the book's consumer):
//! - the sequencer publishes into a book's ring, then marks the book: an `AcqRel`
//!   `fetch_or` of its bit, then, if its word was empty, of the word's bit in the summary.
//!   It gathers a batch's marks in a [`PendingMarks`] first and sets each word once
//!   ([`DirtyBooks::mark_word`]), before it waits for anything and at the batch's end: a
//!   read-modify-write on a word the consumer also swaps costs a cache miss, one per
//!   command at 10,000 books when each book was marked on its own;
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
    /// How many books.
    books: usize,
}

impl DirtyBooks {
    /// A set for `books` books, none marked.
    pub(crate) fn new(books: usize) -> DirtyBooks {
        let words = books.div_ceil(BITS).max(1);
        let zeros = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        DirtyBooks {
            summary: zeros(words.div_ceil(BITS)),
            words: zeros(words),
            books,
        }
    }

    /// Marks `book` as having work, after its entries are published. Only the sequencer
    /// (the set's one marker) calls it.
    #[cfg(test)]
    pub(crate) fn mark(&self, book: usize) {
        self.mark_word(book / BITS, 1 << (book % BITS));
    }

    /// Marks the books of word `word` whose bits are set in `bits` (not 0), after their
    /// entries are published. Only the sequencer (the set's one marker) calls it.
    #[inline]
    pub(crate) fn mark_word(&self, word: usize, bits: u64) {
        debug_assert_ne!(bits, 0);
        let before = self.words[word].fetch_or(bits, Ordering::AcqRel);
        if before == 0 {
            self.summary[word / BITS].fetch_or(1 << (word % BITS), Ordering::AcqRel);
        }
    }

    /// Marks every book: when the sequencer goes away (at the end, or unwinding from a
    /// panic), so the consumer polls each ring once more and finds it shut down rather
    /// than waiting for a mark that will never come.
    pub(crate) fn mark_all(&self) {
        for word in 0..self.books.div_ceil(BITS) {
            let left = self.books - word * BITS;
            let bits = if left >= BITS {
                u64::MAX
            } else {
                (1 << left) - 1
            };
            self.mark_word(word, bits);
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

/// The marks of a batch not yet set in a [`DirtyBooks`]: the sequencer's, one per
/// consumer.
pub(crate) struct PendingMarks {
    /// A bit per book, as in the set.
    words: Vec<u64>,
    /// The words with a bit set, in first-marked order.
    touched: Vec<u32>,
}

impl PendingMarks {
    /// Room for the marks of `books` books.
    pub(crate) fn new(books: usize) -> PendingMarks {
        PendingMarks {
            words: vec![0; books.div_ceil(BITS).max(1)],
            touched: Vec::new(),
        }
    }

    /// Notes `book` for the next [`PendingMarks::set`].
    #[inline]
    pub(crate) fn note(&mut self, book: usize) {
        let word = &mut self.words[book / BITS];
        if *word == 0 {
            self.touched.push((book / BITS) as u32);
        }
        *word |= 1 << (book % BITS);
    }

    /// Sets every noted mark in `dirty` (one read-modify-write per word) and forgets them.
    /// Returns whether there was any.
    #[inline]
    pub(crate) fn set(&mut self, dirty: &DirtyBooks) -> bool {
        let any = !self.touched.is_empty();
        for word in self.touched.drain(..) {
            let bits = std::mem::take(&mut self.words[word as usize]);
            dirty.mark_word(word as usize, bits);
        }
        any
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
    fn pending_marks_reach_the_set_only_when_set_and_only_once() {
        let dirty = DirtyBooks::new(300);
        let mut pending = PendingMarks::new(300);
        for book in [299, 5, 70, 5, 6] {
            pending.note(book);
        }
        assert!(!dirty.any(), "noted, not yet set");
        assert!(pending.set(&dirty));
        assert_eq!(drained(&dirty), vec![5, 6, 70, 299]);
        assert!(!pending.set(&dirty), "nothing left to set");
        assert!(!dirty.any());
    }

    #[test]
    fn marking_all_hands_over_every_book_and_no_other_index() {
        for books in [1, 63, 64, 65, 130] {
            let dirty = DirtyBooks::new(books);
            dirty.mark_all();
            assert_eq!(drained(&dirty), (0..books).collect::<Vec<_>>());
        }
        let none = DirtyBooks::new(0);
        none.mark_all();
        assert!(!none.any());
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
            let poll = |dirty: &DirtyBooks, seen: &mut [u64; 2]| {
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
