//! Wait strategies: what a pipeline thread does when it finds no work.
//!
//! On a machine with fewer cores than busy threads, spinning starves the thread that would
//! produce the work, and the pipeline livelocks. The default therefore spins briefly, then
//! yields, then sleeps with a growing pause; busy-spin is for pinned, isolated cores.
//!
//! A thread waiting for work sleeps on its [`Doorbell`]: whoever publishes work for it
//! rings the bell, and a sleeping thread wakes at once instead of at the end of its pause.
//! The pause stays as an upper bound. Without the bell a thread sharing a core would sleep
//! through work that had already arrived, and tail latency would be the sleep granularity.
//!
//! A producer waiting for room in a full ring sleeps on the ring's [`RoomBell`], which the
//! ring's consumer rings after each batch it releases. A fixed pause there left cores idle:
//! Linux's timer slack stretches a 20 us sleep to about 70 us, while the consumer freed room
//! in a few.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Thread, fence};

/// The longest sleep while waiting for room in a full ring: a safety net, as the ring's
/// consumer wakes the sleeper when it frees room.
pub(crate) const ROOM_PAUSE: Duration = Duration::from_millis(1);

/// Sleeps in a row after which an idle thread's pause doubles (spin-yield-sleep).
const SLEEPS_PER_DOUBLING: u32 = 16;

/// The longest pause of a thread that has stayed idle (spin-yield-sleep): work wakes a
/// sleeping thread through its bell at once, so the pause is only a safety net, and an
/// idle engine need not wake 1,000 times a second per thread. From 1 ms it is reached
/// after about a second without work.
const IDLE_PAUSE: Duration = Duration::from_millis(64);

/// How pipeline threads (sequencer, book consumers, event manager) wait for work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Spin without pause. Lowest latency; needs a dedicated core per pipeline thread.
    BusySpin,
    /// Spin a little, then yield, then sleep with a growing pause up to `max_sleep`; a
    /// thread sleeping for work is woken as soon as work is published for it.
    /// The default: it holds up on an oversubscribed machine.
    SpinYieldSleep {
        /// Idle rounds spent spinning before the first yield.
        spins: u32,
        /// Idle rounds spent yielding before the first sleep.
        yields: u32,
        /// The pause once sleeping. A thread that stays idle lets it grow, doubling every
        /// 16 sleeps, to at most 64 ms (or this, if longer); work wakes it through its
        /// bell at once whatever the pause.
        max_sleep: Duration,
    },
    /// Sleep whenever idle, for at most this long (woken early when work is published).
    Sleep(Duration),
}

impl Default for WaitStrategy {
    fn default() -> WaitStrategy {
        // Measured on the 2-core development machine, three pipeline threads sharing one
        // core at 500 k commands/s: (64 spins, 16 yields, 100 us) gave p50 15-21 us and a
        // p99 up to 1 ms; (16, 4, 1 ms) gave p50 8-10 us and p99 33-102 us. Short spins
        // leave the core to the thread that has work; the bell makes a long pause free.
        WaitStrategy::SpinYieldSleep {
            spins: 16,
            yields: 4,
            max_sleep: Duration::from_millis(1),
        }
    }
}

impl WaitStrategy {
    /// The default sleeping strategy's pause.
    pub const DEFAULT_SLEEP: Duration = Duration::from_micros(10);

    /// A fresh idle counter for one thread.
    pub(crate) fn idler(self) -> Idler {
        Idler {
            strategy: self,
            rounds: 0,
        }
    }
}

impl fmt::Display for WaitStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitStrategy::BusySpin => f.write_str("busy-spin"),
            WaitStrategy::SpinYieldSleep { .. } => f.write_str("yield"),
            WaitStrategy::Sleep(d) => write!(f, "sleep({} us)", d.as_micros()),
        }
    }
}

/// The error of parsing a wait strategy name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown wait strategy {0:?}: expected busy-spin, yield or sleep")]
pub struct ParseWaitStrategyError(String);

impl FromStr for WaitStrategy {
    type Err = ParseWaitStrategyError;

    /// Parses `busy-spin`, `yield` (spin, yield, then sleep: the default) or `sleep`.
    fn from_str(s: &str) -> Result<WaitStrategy, ParseWaitStrategyError> {
        match s {
            "busy-spin" | "spin" => Ok(WaitStrategy::BusySpin),
            "yield" => Ok(WaitStrategy::default()),
            "sleep" => Ok(WaitStrategy::Sleep(WaitStrategy::DEFAULT_SLEEP)),
            other => Err(ParseWaitStrategyError(other.to_string())),
        }
    }
}

/// One thread's idle state under a strategy: call [`Idler::idle`] after each round that
/// found no work and [`Idler::reset`] after one that did.
#[derive(Debug)]
pub(crate) struct Idler {
    strategy: WaitStrategy,
    rounds: u32,
}

/// What one idle round does.
enum Round {
    Spin,
    Yield,
    /// Sleep on a bell for at most this long.
    Sleep(Duration),
}

impl Idler {
    /// The next idle round under the strategy: spins, then yields, then sleeps for at most
    /// the strategy's pause.
    #[inline]
    fn next_round(&mut self) -> Round {
        self.rounds = self.rounds.saturating_add(1);
        match self.strategy {
            WaitStrategy::BusySpin => Round::Spin,
            WaitStrategy::SpinYieldSleep {
                spins,
                yields,
                max_sleep,
            } => {
                if self.rounds <= spins {
                    Round::Spin
                } else if self.rounds <= spins.saturating_add(yields) {
                    Round::Yield
                } else {
                    let sleeps = self.rounds - spins.saturating_add(yields) - 1;
                    let doublings = (sleeps / SLEEPS_PER_DOUBLING).min(16);
                    Round::Sleep(
                        max_sleep
                            .saturating_mul(1 << doublings)
                            .min(IDLE_PAUSE.max(max_sleep)),
                    )
                }
            }
            WaitStrategy::Sleep(pause) => Round::Sleep(pause),
        }
    }

    /// Waits once for room in a full ring, after a publish attempt found it full.
    /// `ticket` carries the producer's [`RoomBell::ticket`] from one call to the next:
    /// the first call only takes one and returns `false` (try again at once, so room freed
    /// since the attempt is seen); the next waits on it (spinning, yielding, then sleeping
    /// on `bell` until its consumer frees room, [`ROOM_PAUSE`] at most) and returns `true`.
    #[inline]
    pub(crate) fn wait_for_room(&mut self, bell: &RoomBell, ticket: &mut Option<u64>) -> bool {
        let Some(taken) = ticket.take() else {
            *ticket = Some(bell.ticket());
            return false;
        };
        match self.next_round() {
            Round::Spin => std::hint::spin_loop(),
            Round::Yield => thread::yield_now(),
            Round::Sleep(pause) => bell.wait(taken, pause.min(ROOM_PAUSE)),
        }
        true
    }

    /// Waits once for work that `has_work` reports; in the sleeping phase the thread
    /// sleeps on `bell` (rung by whoever publishes its work) for at most the pause.
    #[inline]
    pub(crate) fn wait_for_work(&mut self, bell: &Doorbell, has_work: impl Fn() -> bool) {
        match self.next_round() {
            Round::Spin => std::hint::spin_loop(),
            Round::Yield => thread::yield_now(),
            Round::Sleep(pause) => bell.sleep(pause, has_work),
        }
    }

    /// Work was found: the next idle round starts from the cheapest wait again.
    #[inline]
    pub(crate) fn reset(&mut self) {
        self.rounds = 0;
    }
}

/// Wakes a pipeline thread sleeping for work. Producers [`Doorbell::ring`] it after they
/// publish; it costs a fence and a load while the thread is awake, and a wake-up only when
/// it sleeps.
#[derive(Debug, Default)]
pub(crate) struct Doorbell {
    sleeping: CachePadded<AtomicBool>,
    /// The thread to wake: set once, read only on the way to a wake-up (the cold path).
    thread: Mutex<Option<Thread>>,
}

impl Doorbell {
    /// Makes the calling thread the one this bell wakes.
    pub(crate) fn register_current(&self) {
        self.thread.lock().get_or_insert_with(crate::sync::current);
    }

    /// Tells the thread that work was published for it.
    #[inline]
    pub(crate) fn ring(&self) {
        // Orders the caller's publication before the load: with the sleeper's fence, either
        // it sees the work or this sees it sleeping.
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::Relaxed) {
            self.wake();
        }
    }

    #[cold]
    fn wake(&self) {
        if self.sleeping.swap(false, Ordering::AcqRel)
            && let Some(thread) = self.thread.lock().as_ref()
        {
            thread.unpark();
        }
    }

    /// Sleeps the calling (registered) thread for at most `pause`, or until rung, unless
    /// `has_work` says work arrived meanwhile.
    pub(crate) fn sleep(&self, pause: Duration, has_work: impl Fn() -> bool) {
        self.sleeping.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if !has_work() {
            crate::sync::park_timeout(pause);
        }
        self.sleeping.store(false, Ordering::Relaxed);
    }
}

/// Wakes producers waiting for room in a full ring. The ring's one consumer calls
/// [`RoomBell::freed`] after each batch it releases; a producer that found the ring full
/// takes a [`RoomBell::ticket`] first and sleeps only if nothing was freed since.
///
/// The consumer pays a store, a fence and a load per batch; producers pay nothing until a
/// ring is full.
#[derive(Debug, Default)]
pub(crate) struct RoomBell {
    /// Batches released so far (written by the one consumer only).
    freed: CachePadded<AtomicU64>,
    /// Producers asleep or about to be.
    waiters: CachePadded<AtomicUsize>,
    lock: Mutex<()>,
    room: Condvar,
}

impl RoomBell {
    /// How many batches the consumer has released: take it before the publish attempt
    /// that may find the ring full, and pass it to [`RoomBell::wait`].
    #[inline]
    pub(crate) fn ticket(&self) -> u64 {
        self.freed.load(Ordering::Acquire)
    }

    /// Tells waiting producers that room was freed. Only the ring's one consumer calls it.
    #[inline]
    pub(crate) fn freed(&self) {
        // A single writer: a plain store, not a locked add.
        let next = self.freed.load(Ordering::Relaxed).wrapping_add(1);
        self.freed.store(next, Ordering::Release);
        // With the waiter's fence: either it sees this batch freed or this sees it waiting.
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::Relaxed) > 0 {
            self.wake();
        }
    }

    #[cold]
    fn wake(&self) {
        // Taking the lock orders this after a waiter's check of `freed`, so a waiter that
        // saw no room is already asleep and gets the notification.
        drop(self.lock.lock());
        self.room.notify_all();
    }

    /// Sleeps for at most `pause` unless room was freed since `ticket`.
    pub(crate) fn wait(&self, ticket: u64, pause: Duration) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let mut guard = self.lock.lock();
        if self.freed.load(Ordering::Acquire) == ticket {
            self.room.wait_for(&mut guard, pause);
        }
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_command_line_names() {
        assert_eq!("busy-spin".parse(), Ok(WaitStrategy::BusySpin));
        assert_eq!("yield".parse(), Ok(WaitStrategy::default()));
        assert_eq!(
            "sleep".parse(),
            Ok(WaitStrategy::Sleep(WaitStrategy::DEFAULT_SLEEP))
        );
        assert!("fast".parse::<WaitStrategy>().is_err());
    }

    /// An idle thread's pause doubles every 16 sleeps up to 64 ms, so an idle engine
    /// hardly wakes; work resets it to the strategy's pause.
    #[test]
    fn an_idle_threads_pause_grows_to_the_idle_cap_and_work_resets_it() {
        let mut idler = WaitStrategy::default().idler();
        let pauses: Vec<Duration> = (0..20 + 16 * 8)
            .filter_map(|_| match idler.next_round() {
                Round::Sleep(pause) => Some(pause),
                _ => None,
            })
            .collect();
        assert_eq!(pauses.len(), 16 * 8, "16 spins and 4 yields come first");
        let ms = Duration::from_millis;
        assert_eq!(pauses[0], ms(1));
        assert_eq!(pauses[15], ms(1));
        assert_eq!(pauses[16], ms(2));
        assert_eq!(pauses[16 * 6], ms(64));
        assert_eq!(*pauses.last().unwrap(), IDLE_PAUSE, "capped");
        idler.reset();
        let first_sleep = (0..21).map(|_| idler.next_round()).last();
        assert!(matches!(first_sleep, Some(Round::Sleep(p)) if p == ms(1)));
        // A strategy whose own pause is longer keeps it.
        let mut slow = WaitStrategy::SpinYieldSleep {
            spins: 0,
            yields: 0,
            max_sleep: Duration::from_millis(500),
        }
        .idler();
        for _ in 0..200 {
            assert!(
                matches!(slow.next_round(), Round::Sleep(p) if p == Duration::from_millis(500))
            );
        }
    }

    #[test]
    fn a_rung_bell_wakes_a_sleeper_long_before_its_pause() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        use std::time::Instant;

        let bell = Arc::new(Doorbell::default());
        let work = Arc::new(AtomicBool::new(false));
        let (sleeper_bell, sleeper_work) = (Arc::clone(&bell), Arc::clone(&work));
        let sleeper = thread::spawn(move || {
            sleeper_bell.register_current();
            let started = Instant::now();
            while !sleeper_work.load(Ordering::Acquire) {
                sleeper_bell.sleep(Duration::from_secs(30), || {
                    sleeper_work.load(Ordering::Acquire)
                });
            }
            started.elapsed()
        });
        thread::sleep(Duration::from_millis(20));
        work.store(true, Ordering::Release);
        bell.ring();
        let slept = sleeper.join().unwrap();
        assert!(
            slept < Duration::from_secs(20),
            "woken by the bell, not the pause: {slept:?}"
        );
    }

    #[test]
    fn waiting_for_room_escalates_to_sleeps_that_a_freed_batch_ends() {
        use std::sync::Arc;
        use std::time::Instant;

        let bell = Arc::new(RoomBell::default());
        let mut idler = WaitStrategy::SpinYieldSleep {
            spins: 2,
            yields: 2,
            max_sleep: Duration::from_secs(10),
        }
        .idler();
        // A producer's first call only takes a ticket: no round is spent.
        let mut ticket = None;
        assert!(!idler.wait_for_room(&bell, &mut ticket));
        assert_eq!((ticket, idler.rounds), (Some(bell.ticket()), 0));
        for _ in 0..4 {
            assert!(idler.wait_for_room(&bell, &mut Some(bell.ticket()))); // spins, then yields
        }
        // Nothing freed: the sleep lasts its pause (the safety net), no longer.
        let started = Instant::now();
        idler.wait_for_room(&bell, &mut Some(bell.ticket()));
        let slept = started.elapsed();
        assert!(slept >= ROOM_PAUSE, "{slept:?}");
        assert!(slept < Duration::from_secs(1), "{slept:?}");
        // A batch freed since the ticket: no sleep at all.
        let ticket = bell.ticket();
        bell.freed();
        let started = Instant::now();
        for _ in 0..100 {
            idler.wait_for_room(&bell, &mut Some(ticket));
        }
        assert!(
            started.elapsed() < ROOM_PAUSE * 50,
            "{:?}",
            started.elapsed()
        );
        idler.reset();
        assert_eq!(idler.rounds, 0);
    }

    #[test]
    fn a_freed_batch_wakes_a_producer_sleeping_for_room() {
        use std::sync::Arc;
        use std::time::Instant;

        let bell = Arc::new(RoomBell::default());
        let sleeper_bell = Arc::clone(&bell);
        let ticket = bell.ticket();
        let sleeper = thread::spawn(move || {
            let started = Instant::now();
            sleeper_bell.wait(ticket, Duration::from_secs(30));
            started.elapsed()
        });
        while bell.waiters.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        thread::sleep(Duration::from_millis(20));
        bell.freed();
        let slept = sleeper.join().unwrap();
        assert!(
            slept < Duration::from_secs(20),
            "woken by the freed batch, not the pause: {slept:?}"
        );
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The bells under loom, with unbounded pauses: a lost wake-up is a deadlock, which
    //! loom reports, in any interleaving of the sleeper and the waker.

    use std::sync::atomic::Ordering;

    use loom::sync::Arc;

    use super::*;

    /// A consumer sleeping for work and a producer publishing it and ringing: the
    /// consumer always sees the work (no lost wake-up), however the two interleave.
    #[test]
    fn loom_a_doorbell_never_loses_a_wake_up() {
        loom::model(|| {
            let bell = Arc::new(Doorbell::default());
            let work = Arc::new(AtomicBool::new(false));
            bell.register_current();
            let producer = {
                let (bell, work) = (Arc::clone(&bell), Arc::clone(&work));
                loom::thread::spawn(move || {
                    work.store(true, Ordering::Release);
                    bell.ring();
                })
            };
            while !work.load(Ordering::Acquire) {
                bell.sleep(Duration::MAX, || work.load(Ordering::Acquire));
            }
            producer.join().unwrap();
        });
    }

    /// A producer waiting for room with a ticket taken before its failed attempt, and the
    /// ring's consumer freeing a batch: the producer never sleeps through the freed batch.
    #[test]
    fn loom_a_room_bell_never_loses_a_freed_batch() {
        loom::model(|| {
            let bell = Arc::new(RoomBell::default());
            let room = Arc::new(AtomicBool::new(false));
            let ticket = bell.ticket();
            let consumer = {
                let (bell, room) = (Arc::clone(&bell), Arc::clone(&room));
                loom::thread::spawn(move || {
                    room.store(true, Ordering::Release);
                    bell.freed();
                })
            };
            let mut ticket = ticket;
            while !room.load(Ordering::Acquire) {
                bell.wait(ticket, Duration::MAX);
                ticket = bell.ticket();
            }
            consumer.join().unwrap();
        });
    }
}
