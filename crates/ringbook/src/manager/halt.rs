//! Halts and resumes in one order for the callers' halt bit and for the books.
//!
//! A halt or resume does two things: it flips the slot's halt bit (the callers' fast
//! check) and it publishes the command that the book applies in sequence (the
//! authoritative state). Done as two separate steps, two threads halting and resuming the
//! same book at once could interleave them (A sets the bit, B clears it, B publishes its
//! resume, A publishes its halt), leaving the bit clear on a halted book until the next
//! halt or resume. Both steps therefore happen under one lock, so the last command
//! published for a book is always the last one whose bit stands.

use crate::pipeline::{SlotFlag, SlotFlags};
use crate::sync::Mutex;

/// Publishes a halt (`halt`) or resume for `slot` and sets its halt bit to match, as one
/// step under `lock`. `publish` returns whether the command was taken (published, or
/// queued for `start`); when it was not (the manager has stopped), the bit is left as it
/// is, so `is_halted` keeps agreeing with the books. Returns what `publish` returned.
///
/// The bit is flipped after the publish: an add that reads the bit in between is
/// sequenced before the halt or is rejected by the halted book, which is the authority.
pub(crate) fn halt_in_sequence<T>(
    lock: &Mutex<T>,
    flags: &SlotFlags,
    slot: u32,
    halt: bool,
    publish: impl FnOnce(&mut T) -> bool,
) -> bool {
    let mut guard = lock.lock();
    let taken = publish(&mut guard);
    if taken {
        if halt {
            flags.set(slot, SlotFlag::HALTED);
        } else {
            flags.clear(slot, SlotFlag::HALTED);
        }
    }
    taken
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The protocol under loom: every interleaving of two threads, one halting and one
    //! resuming the same book, ends with the bit equal to the last command published.

    use std::sync::atomic::Ordering;

    use loom::sync::Arc;

    use super::*;
    use crate::sync::AtomicBool;

    #[test]
    fn loom_the_halt_bit_ends_as_the_last_command_published() {
        loom::model(|| {
            let flags = Arc::new(SlotFlags::new(1));
            // The ring, as far as order goes: the commands published, in sequence.
            let ring = Arc::new(Mutex::new(Vec::<bool>::new()));
            let threads: Vec<_> = [true, false]
                .into_iter()
                .map(|halt| {
                    let (flags, ring) = (Arc::clone(&flags), Arc::clone(&ring));
                    loom::thread::spawn(move || {
                        halt_in_sequence(&ring, &flags, 0, halt, |ring| {
                            ring.push(halt);
                            true
                        })
                    })
                })
                .collect();
            for thread in threads {
                assert!(thread.join().unwrap());
            }
            let last = *ring.lock().last().unwrap();
            assert_eq!(flags.any(0, SlotFlag::HALTED), last);
        });
    }

    #[test]
    fn loom_a_command_not_taken_leaves_the_bit_alone() {
        loom::model(|| {
            let flags = Arc::new(SlotFlags::new(1));
            let stopped = Arc::new(AtomicBool::new(false));
            let lock = Arc::new(Mutex::new(Vec::<bool>::new()));
            let stopper = {
                let (lock, stopped) = (Arc::clone(&lock), Arc::clone(&stopped));
                loom::thread::spawn(move || {
                    let _guard = lock.lock();
                    stopped.store(true, Ordering::SeqCst);
                })
            };
            let taken = halt_in_sequence(&lock, &flags, 0, true, |ring| {
                let taken = !stopped.load(Ordering::SeqCst);
                if taken {
                    ring.push(true);
                }
                taken
            });
            stopper.join().unwrap();
            assert_eq!(flags.any(0, SlotFlag::HALTED), taken);
            assert_eq!(lock.lock().last().copied().unwrap_or(false), taken);
        });
    }
}
