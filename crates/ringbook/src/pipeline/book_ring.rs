//! A book's inbound ring, sized by activity: one producer (the sequencer), one consumer
//! (the book's consumer).
//!
//! A registered book that never trades costs no slot at all: the ring's storage is
//! allocated by the producer on the first publication, [`FIRST_SEGMENT`] slots, and
//! doubled whenever a publication finds it full, up to the configured size; only then does
//! the producer wait for room. Growing never moves an entry: the producer links a new,
//! larger segment after the current one and writes on there; the consumer reads the old
//! segment to its end, follows the link and frees it.
//!
//! Positions are counted from 0 for the ring's whole life: `tail` (published, written by
//! the producer) and `head` (released, written by the consumer). A segment holds the
//! positions from its `start` up to the next segment's `start`, at `position & mask`.
//!
//! The sequencer marks a book in its consumer's [`DirtyBooks`](super::dirty::DirtyBooks)
//! after publishing into its ring, so the consumer polls only the books that have work.
//!
//! The protocol: the producer writes slots, then stores `tail` (release); the consumer
//! loads `tail` (acquire) and reads the slots below it. A link is stored (release) before
//! any `tail` past the new segment's start, so a consumer that sees such a `tail` sees the
//! link. The producer reuses a slot only after loading a `head` (acquire) past it.
//!
//! A producer that finds the ring full at its largest announces it ([`BookProducer::
//! announce_wait`]: a flag beside `head`, then a SeqCst fence, then `head` loaded again
//! before it sleeps); the consumer, after storing `head`, fences and reads the flag
//! ([`BookPoller::producer_waits`]) and rings the ring's room bell only then. Either the
//! consumer sees the flag or the producer sees the new `head` (the store-load pattern, by
//! the fences' total order), so no wait outlasts the room; and the consumer no longer
//! touches the bell's cache lines on every batch.
//!
//! The one module of the pipeline with `unsafe` code (as `journal::crc` for its SIMD): a
//! ring's slots are shared memory handed between two threads by the protocol above, which
//! the `disruptor` rings it replaces implemented the same way. Each block states why it
//! holds; the tests below run it across threads while it grows.
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering, fence};

use disruptor::{MissingFreeSlots, Polling};

use super::entry::InboundEntry;

/// Slots in a ring's first segment (or the ring's size, if smaller): 1,280 bytes.
pub(super) const FIRST_SEGMENT: usize = 16;

/// A value alone on its cache line, so the producer's and the consumer's writes never
/// share one.
#[derive(Default)]
#[repr(align(64))]
struct Line<T>(T);

/// One segment of a ring's storage.
struct Segment {
    /// The first position stored here.
    start: u64,
    /// Slots minus one (a power of two minus one).
    mask: u64,
    slots: Box<[UnsafeCell<MaybeUninit<InboundEntry>>]>,
    /// The segment the producer went on to, once this one was too small; null until then.
    next: AtomicPtr<Segment>,
}

impl Segment {
    /// A segment of `size` slots (a power of two) from position `start`, leaked: the ring
    /// frees it (the consumer as it moves past it, [`Shared`]'s drop for the rest).
    fn leak(start: u64, size: usize) -> *mut Segment {
        debug_assert!(size.is_power_of_two());
        let slots = (0..size)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect();
        Box::into_raw(Box::new(Segment {
            start,
            mask: size as u64 - 1,
            slots,
            next: AtomicPtr::new(ptr::null_mut()),
        }))
    }
}

/// The producer's position, and how many segments it has made (on the same line, so the
/// consumer learns of a new segment without reading its current one).
#[derive(Default)]
struct Tail {
    position: AtomicU64,
    /// Segments made so far; stored (release) after a segment is linked, before any
    /// `position` past its start.
    segments: AtomicU64,
}

/// The consumer's position, and the producer's flag beside it.
#[derive(Default)]
struct Head {
    position: AtomicU64,
    /// The producer found the ring full at its largest and may sleep until room frees.
    producer_waits: AtomicBool,
}

/// What both ends of a ring share.
#[derive(Default)]
struct Shared {
    /// Positions published (the producer's), and how many segments it made.
    tail: Line<Tail>,
    /// Positions released (the consumer's), and whether the producer waits for room.
    head: Line<Head>,
    /// The first segment, null until the first publication.
    first: AtomicPtr<Segment>,
    /// The consumer's current segment (null: `first`), for the drop.
    reading: AtomicPtr<Segment>,
    /// The producer is gone: once the ring is empty, the consumer gets `Shutdown`.
    closed: AtomicBool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Both ends are gone (the last `Arc` synchronised with the other): every segment
        // from the consumer's on is still allocated, the ones before it were freed.
        let mut segment = *self.reading.get_mut();
        if segment.is_null() {
            segment = *self.first.get_mut();
        }
        while !segment.is_null() {
            // SAFETY: leaked by `Segment::leak`, freed nowhere else (see above).
            let owned = unsafe { Box::from_raw(segment) };
            segment = owned.next.load(Ordering::Relaxed);
        }
    }
}

/// A new ring that grows up to `max_size` slots (a power of two): its producer and its
/// consumer.
pub(super) fn book_ring(max_size: usize) -> (BookProducer, BookPoller) {
    debug_assert!(max_size.is_power_of_two());
    let shared = Arc::new(Shared::default());
    (
        BookProducer {
            shared: Arc::clone(&shared),
            segment: ptr::null_mut(),
            slots: ptr::null(),
            mask: 0,
            tail: 0,
            head: 0,
            size: 0,
            max_size: max_size as u64,
            waiting: false,
            segments: 0,
        },
        BookPoller {
            shared,
            segment: ptr::null_mut(),
            slots: ptr::null(),
            mask: 0,
            head: 0,
            entered: 0,
        },
    )
}

/// The producer's end of a book's ring (the sequencer's).
pub(super) struct BookProducer {
    shared: Arc<Shared>,
    /// The segment being written (null before the first publication).
    segment: *mut Segment,
    /// Its slots and mask, kept here so a publication does not read the segment.
    slots: *const UnsafeCell<MaybeUninit<InboundEntry>>,
    mask: u64,
    /// Positions published (mirrors `shared.tail`).
    tail: u64,
    /// The consumer's `head` as last loaded.
    head: u64,
    /// The current segment's slots (0 before the first publication).
    size: u64,
    max_size: u64,
    /// A wait was announced and not ended.
    waiting: bool,
    /// Segments made so far (mirrors `shared.tail.segments`).
    segments: u64,
}

// SAFETY: the raw segment pointer is only dereferenced by the producer that owns it; the
// segments are shared with the consumer through the protocol above.
unsafe impl Send for BookProducer {}

impl BookProducer {
    /// Publishes `entries` as one batch, growing the ring if it lacks the room and may
    /// grow; leaves the ring as it was if it still lacks the room
    /// (`MissingFreeSlots(how many)`).
    #[inline]
    pub(super) fn try_publish(&mut self, entries: &[InboundEntry]) -> Result<(), MissingFreeSlots> {
        self.try_publish_from(entries.iter())
    }

    /// [`BookProducer::try_publish`] from an iterator of known length.
    #[inline]
    pub(super) fn try_publish_from<'e>(
        &mut self,
        entries: impl ExactSizeIterator<Item = &'e InboundEntry>,
    ) -> Result<(), MissingFreeSlots> {
        let n = entries.len() as u64;
        if n == 0 {
            return Ok(());
        }
        if self.tail + n - self.head > self.size {
            self.make_room(n)?;
        }
        for (position, entry) in (self.tail..).zip(entries) {
            // SAFETY: `make_room` left the segment of `slots` with room for `n` past
            // `tail` (`position & mask` is within it): the consumer released every
            // position those slots held before, and a slot is the producer's until `tail`
            // passes it.
            unsafe { (*(*self.slots.add((position & self.mask) as usize)).get()).write(*entry) };
        }
        self.tail += n;
        self.shared
            .tail
            .0
            .position
            .store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Finds room for `n` more entries: the consumer's latest `head`, then a larger
    /// segment if the ring may still grow.
    #[cold]
    fn make_room(&mut self, n: u64) -> Result<(), MissingFreeSlots> {
        self.head = self.shared.head.0.position.load(Ordering::Acquire);
        let needed = self.tail - self.head + n;
        if needed <= self.size {
            return Ok(());
        }
        if self.size < self.max_size {
            let size = needed
                .next_power_of_two()
                .max(self.size * 2)
                .max(FIRST_SEGMENT as u64)
                .min(self.max_size);
            self.grow(size as usize);
            if needed <= self.size {
                return Ok(());
            }
        }
        Err(MissingFreeSlots(needed - self.size))
    }

    /// Links a new segment of `size` slots from `tail` on and writes there from now on.
    fn grow(&mut self, size: usize) {
        let segment = Segment::leak(self.tail, size);
        if self.segment.is_null() {
            self.shared.first.store(segment, Ordering::Release);
        } else {
            // SAFETY: the current segment is alive: the consumer frees a segment only
            // after following its link, which is stored here, after which the producer
            // never touches it again.
            unsafe { (*self.segment).next.store(segment, Ordering::Release) };
        }
        self.segment = segment;
        // SAFETY: just leaked, alive until the consumer moves past it.
        self.slots = unsafe { (*segment).slots.as_ptr() };
        self.mask = size as u64 - 1;
        self.size = size as u64;
        self.segments += 1;
        self.shared
            .tail
            .0
            .segments
            .store(self.segments, Ordering::Release);
    }

    /// Tells the consumer the producer is about to wait for room (the ring is full at its
    /// largest): from now until [`BookProducer::end_wait`] the consumer rings the room
    /// bell after every batch. Call it before each wait; `head` is loaded after it.
    pub(super) fn announce_wait(&mut self) {
        if !self.waiting {
            self.waiting = true;
            self.shared
                .head
                .0
                .producer_waits
                .store(true, Ordering::SeqCst);
            // Orders the flag before the next load of `head` (see the module's protocol).
            fence(Ordering::SeqCst);
        }
    }

    /// The wait announced is over.
    #[inline]
    pub(super) fn end_wait(&mut self) {
        if self.waiting {
            self.waiting = false;
            self.shared
                .head
                .0
                .producer_waits
                .store(false, Ordering::Relaxed);
        }
    }

    /// Slots allocated for this ring now (0 for a ring never published to).
    #[cfg(test)]
    pub(super) fn allocated(&self) -> usize {
        self.size as usize
    }
}

impl Drop for BookProducer {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
    }
}

/// The consumer's end of a book's ring.
pub(super) struct BookPoller {
    shared: Arc<Shared>,
    /// The segment being read (null until the first entry is read).
    segment: *mut Segment,
    /// Its slots and mask, kept here so reading an entry does not read the segment.
    slots: *const UnsafeCell<MaybeUninit<InboundEntry>>,
    mask: u64,
    /// Positions released (mirrors `shared.head`).
    head: u64,
    /// Segments entered so far: while the producer made no more, the current segment is
    /// its last and has no link to read.
    entered: u64,
}

// SAFETY: the raw segment pointer is only dereferenced by the consumer that owns it.
unsafe impl Send for BookPoller {}

impl BookPoller {
    /// Whether an entry waits to be taken (a batch may stop short of them: at the end
    /// of a segment, or at its `max`).
    #[inline]
    pub(super) fn has_available(&self) -> bool {
        self.shared.tail.0.position.load(Ordering::Acquire) > self.head
    }

    /// Whether the producer announced a wait for room: after a batch is released, ring the
    /// room bell only then.
    #[inline]
    pub(super) fn producer_waits(&self) -> bool {
        // Orders the `head` just stored before the flag's load (see the module's protocol).
        fence(Ordering::SeqCst);
        self.shared.head.0.producer_waits.load(Ordering::Relaxed)
    }

    /// Up to `max` waiting entries, in order, released when the batch is dropped.
    /// `NoEvents` when none waits; `Shutdown` when none waits and the producer is gone.
    #[inline]
    pub(super) fn take(&mut self, max: u64) -> Result<Batch<'_>, Polling> {
        let tail = self.shared.tail.0.position.load(Ordering::Acquire);
        if tail == self.head {
            if self.shared.closed.load(Ordering::Acquire)
                && self.shared.tail.0.position.load(Ordering::Acquire) == self.head
            {
                return Err(Polling::Shutdown);
            }
            return Err(Polling::NoEvents);
        }
        if self.segment.is_null() {
            // `tail` > 0: the first segment was stored before it.
            self.enter(self.shared.first.load(Ordering::Acquire));
        }
        let end = loop {
            if self.entered == self.shared.tail.0.segments.load(Ordering::Acquire) {
                // The producer's last segment: everything below `tail` is in it.
                break tail;
            }
            // SAFETY: the consumer's segment is alive until the consumer frees it.
            let next = unsafe { (*self.segment).next.load(Ordering::Acquire) };
            if next.is_null() {
                break tail;
            }
            // SAFETY: a linked segment is alive: only this consumer frees segments.
            let start = unsafe { (*next).start };
            if self.head < start {
                break tail.min(start);
            }
            // Every position of the current segment is released: move on and free it.
            let done = self.segment;
            self.enter(next);
            self.shared.reading.store(next, Ordering::Relaxed);
            // SAFETY: leaked by `Segment::leak`; the producer never touches a segment
            // after linking the next, and `Shared`'s drop starts from `reading`.
            drop(unsafe { Box::from_raw(done) });
        };
        let n = (end - self.head).min(max);
        let from = self.head;
        Ok(Batch {
            poller: self,
            next: from,
            end: from + n,
        })
    }
}

impl BookPoller {
    /// Reads from `segment` (alive, not null) from now on.
    fn enter(&mut self, segment: *mut Segment) {
        self.segment = segment;
        self.entered += 1;
        // SAFETY: alive until this consumer frees it.
        let segment = unsafe { &*segment };
        self.slots = segment.slots.as_ptr();
        self.mask = segment.mask;
    }
}

/// Entries taken from a book's ring: iterate `&mut batch`; dropping it releases them all
/// to the producer.
pub(super) struct Batch<'p> {
    poller: &'p mut BookPoller,
    next: u64,
    end: u64,
}

impl<'g> Iterator for &'g mut Batch<'_> {
    type Item = &'g InboundEntry;

    #[inline]
    fn next(&mut self) -> Option<&'g InboundEntry> {
        if self.next == self.end {
            return None;
        }
        let position = self.next;
        self.next += 1;
        let poller = &*self.poller;
        // SAFETY: below `tail` and not released, in the current segment (`take` ended the
        // batch with it): written by the producer (the acquire of `tail` saw it), not
        // overwritten until the batch is dropped, which no item (borrowing `'g` of the
        // batch) outlives.
        Some(unsafe {
            (*(*poller.slots.add((position & poller.mask) as usize)).get()).assume_init_ref()
        })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.end - self.next) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for &mut Batch<'_> {}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.poller.head = self.end;
        self.poller
            .shared
            .head
            .0
            .position
            .store(self.end, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::entry::Envelope;

    fn ring(max_size: usize) -> (BookProducer, BookPoller) {
        book_ring(max_size)
    }

    fn entry(seq: u64) -> InboundEntry {
        InboundEntry::new(seq, seq * 10, Envelope::Checkpoint)
    }

    fn take_all(poller: &mut BookPoller, max: u64) -> Vec<u64> {
        match poller.take(max) {
            Ok(mut batch) => (&mut batch).map(|e| e.seq).collect(),
            Err(_) => Vec::new(),
        }
    }

    #[test]
    fn a_ring_never_published_to_allocates_nothing() {
        let (producer, mut poller) = ring(256);
        assert_eq!(producer.allocated(), 0);
        assert!(poller.shared.first.load(Ordering::Relaxed).is_null());
        assert!(matches!(poller.take(8), Err(Polling::NoEvents)));
    }

    #[test]
    fn the_first_publication_allocates_a_small_segment() {
        let (mut producer, mut poller) = ring(256);
        producer.try_publish(&[entry(1)]).unwrap();
        assert_eq!(producer.allocated(), FIRST_SEGMENT);
        assert_eq!(take_all(&mut poller, 8), vec![1]);
    }

    #[test]
    fn a_full_ring_grows_without_losing_or_reordering_entries() {
        let (mut producer, mut poller) = ring(256);
        let first: Vec<_> = (0..10).map(entry).collect();
        producer.try_publish(&first).unwrap();
        // Nothing consumed: 10 + 20 entries need a larger segment.
        let second: Vec<_> = (10..30).map(entry).collect();
        producer.try_publish(&second).unwrap();
        assert_eq!(producer.allocated(), 32);
        assert_eq!(take_all(&mut poller, 4), vec![0, 1, 2, 3]);
        // A batch ends with its segment: the poller still reports the rest.
        assert_eq!(take_all(&mut poller, 100), (4..10).collect::<Vec<_>>());
        assert!(poller.has_available());
        assert_eq!(take_all(&mut poller, 100), (10..30).collect::<Vec<_>>());
        assert!(!poller.has_available());
        assert!(matches!(poller.take(8), Err(Polling::NoEvents)));
    }

    #[test]
    fn a_ring_at_its_size_refuses_with_the_missing_count_and_keeps_its_entries() {
        let (mut producer, mut poller) = ring(32);
        let entries: Vec<_> = (0..30).map(entry).collect();
        producer.try_publish(&entries).unwrap();
        let more: Vec<_> = (30..35).map(entry).collect();
        assert_eq!(producer.try_publish(&more), Err(MissingFreeSlots(3)));
        assert_eq!(producer.allocated(), 32);
        assert_eq!(take_all(&mut poller, 100), (0..30).collect::<Vec<_>>());
        producer.try_publish(&more).unwrap();
        assert_eq!(take_all(&mut poller, 100), (30..35).collect::<Vec<_>>());
    }

    #[test]
    fn the_consumer_sees_shutdown_only_after_the_last_entry() {
        let (mut producer, mut poller) = ring(64);
        producer.try_publish(&[entry(7)]).unwrap();
        drop(producer);
        assert_eq!(take_all(&mut poller, 8), vec![7]);
        assert!(matches!(poller.take(8), Err(Polling::Shutdown)));
    }

    /// A producer that sleeps on the room bell whenever the ring is full, for up to 20 s
    /// each time, and a consumer that rings it only when the producer announced a wait: a
    /// wake-up lost by the protocol shows as a 20 s sleep, and fails the test.
    #[test]
    fn a_producer_waiting_for_room_is_always_woken() {
        use crate::pipeline::wait::RoomBell;
        use std::time::{Duration, Instant};
        const COUNT: u64 = 20_000;
        let bell = Arc::new(RoomBell::default());
        let (mut producer, mut poller) = ring(64);
        let reader = {
            let bell = Arc::clone(&bell);
            std::thread::spawn(move || {
                let mut rang = 0;
                // Nothing is taken before the producer first waits for room, so the ring
                // fills at least once however the threads are scheduled.
                while !poller.producer_waits() {
                    std::thread::yield_now();
                }
                loop {
                    match poller.take(7) {
                        Ok(mut batch) => assert!((&mut batch).count() > 0),
                        Err(Polling::NoEvents) => std::thread::yield_now(),
                        Err(Polling::Shutdown) => return rang,
                    }
                    if poller.producer_waits() {
                        rang += 1;
                        bell.freed();
                    }
                }
            })
        };
        let started = Instant::now();
        let mut waits = 0;
        for chunk in (0..COUNT).collect::<Vec<_>>().chunks(50) {
            let entries: Vec<_> = chunk.iter().map(|&seq| entry(seq)).collect();
            while producer.try_publish(&entries).is_err() {
                producer.announce_wait();
                let ticket = bell.ticket();
                if producer.try_publish(&entries).is_ok() {
                    break;
                }
                waits += 1;
                bell.wait(ticket, Duration::from_secs(20));
            }
            producer.end_wait();
        }
        drop(producer);
        let rang = reader.join().unwrap();
        assert!(
            waits > 0 && rang > 0,
            "the ring never filled: {waits} waits"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "a wait outlasted the room: {:?} for {waits} waits",
            started.elapsed()
        );
    }

    #[test]
    fn entries_cross_threads_in_order_while_the_ring_grows() {
        const COUNT: u64 = 200_000;
        let (mut producer, mut poller) = ring(1024);
        // Nothing is taken before the ring has grown to its largest size, so it grows
        // however the threads are scheduled (a reader that kept up left it at 512).
        let grown = Arc::new(AtomicBool::new(false));
        let reader_may_take = Arc::clone(&grown);
        let reader = std::thread::spawn(move || {
            while !reader_may_take.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
            let mut expected = 0;
            loop {
                match poller.take(37) {
                    Ok(mut batch) => {
                        for e in &mut batch {
                            assert_eq!(e.seq, expected);
                            assert_eq!(e.timestamp_ns, expected * 10);
                            expected += 1;
                        }
                    }
                    Err(Polling::NoEvents) => std::hint::spin_loop(),
                    Err(Polling::Shutdown) => return expected,
                }
            }
        });
        let mut seq = 0;
        let mut chunk = 1;
        while seq < COUNT {
            let entries: Vec<_> = (seq..(seq + chunk).min(COUNT)).map(entry).collect();
            while producer.try_publish(&entries).is_err() {
                std::hint::spin_loop();
            }
            if producer.allocated() == 1024 {
                grown.store(true, Ordering::Release);
            }
            seq += entries.len() as u64;
            chunk = chunk % 300 + 7;
        }
        assert_eq!(producer.allocated(), 1024);
        drop(producer);
        assert_eq!(reader.join().unwrap(), COUNT);
    }
}
