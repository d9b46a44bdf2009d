//! Wait strategies: what a pipeline thread does when it finds no work.
//!
//! On a machine with fewer cores than busy threads, spinning starves the thread that would
//! produce the work, and the pipeline livelocks. A thread that shares its core must give the
//! core up: [`WaitStrategy::Block`] spins for a few rounds, yields the core twice (to a
//! thread on the same core that may be about to publish), then parks until work is
//! published for it. Busy-spin is for threads that each have a core of their own. The
//! default, [`WaitStrategy::Auto`], picks one of the two when the engine starts (see
//! [`WaitStrategy::resolve`]).
//!
//! A thread waiting for work parks on its [`Doorbell`]: whoever publishes work for it
//! rings the bell, and a parked thread wakes at once. The protocol is LMAX's
//! `LiteBlockingWaitStrategy`: the consumer raises a flag before its last look for work,
//! the producer looks at the flag after it publishes, and only a raised flag costs the
//! producer a wake-up (a syscall). While the consumer is awake, ringing costs a fence and
//! one load of the flag. The loom tests below check, for every interleaving, that no
//! wake-up is lost. The park still has a pause, as a safety net only: it grows while the
//! thread stays idle, to 64 ms, so an idle engine hardly wakes.
//!
//! A producer waiting for room in a full ring sleeps on the ring's [`RoomBell`], which the
//! ring's consumer rings after each batch it releases. A fixed pause there left cores idle:
//! Linux's timer slack stretches a 20 us sleep to about 70 us, while the consumer freed room
//! in a few.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Thread, fence};

/// The longest sleep while waiting for room in a full ring: a safety net, as the ring's
/// consumer wakes the sleeper when it frees room.
pub(crate) const ROOM_PAUSE: Duration = Duration::from_millis(1);

/// Sleeps in a row after which an idle thread's pause doubles.
const SLEEPS_PER_DOUBLING: u32 = 16;

/// The longest pause of a thread that has stayed idle: work wakes a parked thread through
/// its bell at once, so the pause is only a safety net, and an idle engine need not wake
/// 1,000 times a second per thread. From 1 ms it is reached after about a second without
/// work.
const IDLE_PAUSE: Duration = Duration::from_millis(64);

/// The first pause of a blocking thread's park (a safety net: the bell wakes it).
const BLOCK_PAUSE: Duration = Duration::from_millis(1);

/// How pipeline threads (sequencer, book consumers, event manager) wait for work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Chosen when the engine starts: [`WaitStrategy::Block`] when the engine's busy
    /// threads outnumber the cores it may use, [`WaitStrategy::BusySpin`] when each has a
    /// core of its own (see [`WaitStrategy::resolve`]). The default.
    Auto,
    /// Spin without pause. Lowest latency; needs a dedicated core per pipeline thread.
    BusySpin,
    /// Spin for `spins` idle rounds, yield for `yields`, then park until work is
    /// published for the thread: the producer wakes it only when it is parked. For
    /// threads that share cores.
    Block {
        /// Idle rounds spent spinning (a poll and a pause instruction each).
        spins: u32,
        /// Idle rounds spent yielding the core, after the spins, before parking. A yield
        /// hands the core to a thread on the same core that has work (often the producer
        /// about to publish) without the futex round trip of a park and a wake-up.
        yields: u32,
    },
    /// Spin a little, then yield, then sleep with a growing pause up to `max_sleep`; a
    /// thread sleeping for work is woken as soon as work is published for it.
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
    /// [`WaitStrategy::Auto`]: block or spin, whichever suits the cores.
    fn default() -> WaitStrategy {
        WaitStrategy::Auto
    }
}

impl WaitStrategy {
    /// The default sleeping strategy's pause.
    pub const DEFAULT_SLEEP: Duration = Duration::from_micros(10);

    /// The blocking strategy `block` names: a few spins, two yields, then park.
    ///
    /// Few, because a thread blocks when it shares a core, and while it spins the thread
    /// it just handed work to cannot run. Measured on the 2-core development machine
    /// (`ringbook bench --baseline --rate R --wait block:N --repeat 3..5`, the three
    /// pipeline threads on one core, load average 5 to 7 from other builds), p99 against
    /// the baseline's: at 1.5 M commands/s 0.28x (0 spins), 0.36x (16), 0.92x (64), 2.43x
    /// (256); at 3 M/s 0.18x (0), 0.69x (16), 0.60x (64), 1.03x (256); 0 and 8 spins
    /// within noise of each other (0.10x and 0.16x at 3 M/s, 0.55x and 0.50x at 1.5 M/s).
    ///
    /// Two yields before the park: in closed loop, without them, the sequencer parked
    /// and was woken 5.7 to 6.6 times per 1,000 commands and the pipeline took 127 to 144
    /// ns of CPU per command; with them, 0.1 to 0.2 times and 82 to 84 ns (`ringbook bench
    /// --baseline --repeat 5`, two batches each, load average 12). At 3 M commands/s open
    /// loop they cost nothing measurable (189 to 207 ns per command against 207 to 237).
    pub const BLOCK: WaitStrategy = WaitStrategy::Block {
        spins: 8,
        yields: 2,
    };

    /// The spin-yield-sleep strategy `yield` names (the default before `auto`).
    ///
    /// Measured on the 2-core development machine, three pipeline threads sharing one
    /// core at 500 k commands/s: (64 spins, 16 yields, 100 us) gave p50 15-21 us and a
    /// p99 up to 1 ms; (16, 4, 1 ms) gave p50 8-10 us and p99 33-102 us.
    pub const YIELD: WaitStrategy = WaitStrategy::SpinYieldSleep {
        spins: 16,
        yields: 4,
        max_sleep: Duration::from_millis(1),
    };

    /// The strategy threads use when `busy_threads` threads that run flat out under load
    /// share `cores` cores: [`WaitStrategy::Auto`] becomes [`WaitStrategy::Block`] when
    /// the threads outnumber the cores (a spinning thread would take the core from the
    /// one that has the work) and [`WaitStrategy::BusySpin`] when each has a core of its
    /// own; any other strategy is kept as chosen.
    #[must_use]
    pub fn resolve(self, busy_threads: usize, cores: usize) -> WaitStrategy {
        match self {
            WaitStrategy::Auto if busy_threads > cores => WaitStrategy::BLOCK,
            WaitStrategy::Auto => WaitStrategy::BusySpin,
            chosen => chosen,
        }
    }

    /// A fresh idle counter for one thread. An unresolved [`WaitStrategy::Auto`] blocks
    /// (the safe choice when the cores are unknown).
    pub(crate) fn idler(self) -> Idler {
        let strategy = match self {
            WaitStrategy::Auto => WaitStrategy::BLOCK,
            chosen => chosen,
        };
        Idler {
            strategy,
            rounds: 0,
        }
    }
}

impl fmt::Display for WaitStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitStrategy::Auto => f.write_str("auto"),
            WaitStrategy::BusySpin => f.write_str("busy-spin"),
            WaitStrategy::Block { spins, yields } => {
                write!(f, "block({spins} spins, {yields} yields)")
            }
            WaitStrategy::SpinYieldSleep { .. } => f.write_str("yield"),
            WaitStrategy::Sleep(d) => write!(f, "sleep({} us)", d.as_micros()),
        }
    }
}

/// The error of parsing a wait strategy name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown wait strategy {0:?}: expected auto, block, block:SPINS:YIELDS (counts of idle rounds), busy-spin, yield or sleep"
)]
pub struct ParseWaitStrategyError(String);

impl FromStr for WaitStrategy {
    type Err = ParseWaitStrategyError;

    /// Parses `auto` (the default), `block` (or `block:SPINS:YIELDS`, that many idle
    /// rounds spinning, then yielding, before parking), `busy-spin`, `yield` (spin, yield,
    /// then sleep) or `sleep`.
    fn from_str(s: &str) -> Result<WaitStrategy, ParseWaitStrategyError> {
        match s {
            "auto" => Ok(WaitStrategy::Auto),
            "block" => Ok(WaitStrategy::BLOCK),
            tuned if tuned.starts_with("block:") => {
                let refused = || ParseWaitStrategyError(tuned.to_string());
                let (spins, yields) = tuned["block:".len()..]
                    .split_once(':')
                    .ok_or_else(refused)?;
                Ok(WaitStrategy::Block {
                    spins: spins.parse().map_err(|_| refused())?,
                    yields: yields.parse().map_err(|_| refused())?,
                })
            }
            "busy-spin" | "spin" => Ok(WaitStrategy::BusySpin),
            "yield" => Ok(WaitStrategy::YIELD),
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
            WaitStrategy::Auto => Round::Sleep(self.growing_pause(0, BLOCK_PAUSE)),
            WaitStrategy::Block { spins, yields } => {
                if self.rounds <= spins {
                    Round::Spin
                } else if self.rounds <= spins.saturating_add(yields) {
                    Round::Yield
                } else {
                    Round::Sleep(self.growing_pause(spins.saturating_add(yields), BLOCK_PAUSE))
                }
            }
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
                    Round::Sleep(self.growing_pause(spins.saturating_add(yields), max_sleep))
                }
            }
            WaitStrategy::Sleep(pause) => Round::Sleep(pause),
        }
    }

    /// The pause of the current round, the first `before` rounds having spun or yielded:
    /// `first`, doubling every [`SLEEPS_PER_DOUBLING`] sleeps up to [`IDLE_PAUSE`] (or
    /// `first`, if longer).
    fn growing_pause(&self, before: u32, first: Duration) -> Duration {
        let sleeps = self.rounds - before - 1;
        let doublings = (sleeps / SLEEPS_PER_DOUBLING).min(16);
        first
            .saturating_mul(1 << doublings)
            .min(IDLE_PAUSE.max(first))
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
            Round::Spin => spin(self.rounds),
            Round::Yield => crate::sync::yield_now(),
            Round::Sleep(pause) => bell.wait(taken, pause.min(ROOM_PAUSE)),
        }
        true
    }

    /// Waits once for work that `has_work` reports; in the sleeping phase the thread
    /// sleeps on `bell` (rung by whoever publishes its work) for at most the pause.
    #[inline]
    pub(crate) fn wait_for_work(&mut self, bell: &Doorbell, has_work: impl Fn() -> bool) {
        match self.next_round() {
            Round::Spin => spin(self.rounds),
            Round::Yield => crate::sync::yield_now(),
            Round::Sleep(pause) => bell.sleep(pause, has_work),
        }
    }

    /// Work was found: the next idle round starts from the cheapest wait again.
    #[inline]
    pub(crate) fn reset(&mut self) {
        self.rounds = 0;
    }
}

/// One idle spin round, the `rounds`-th in a row: a pause, doubled each round up to 64, so
/// a thread that keeps finding nothing polls less often. Each poll reads the cache lines
/// the producer is writing (the ring's cursor and availability words), and a producer
/// whose lines are taken between two publications pays a transfer for each: on the
/// 2-core machine an engine polling its ingress ring flat out held an open-loop sender to
/// about 4.7 M commands/s, the sender's `lock xor` on the availability word 75% of its
/// time (`ringbook bench --rate 8000000 --wait busy-spin`).
#[inline]
fn spin(rounds: u32) {
    // Under loom a pause is a scheduling point: one is enough for the models.
    let pauses = if cfg!(loom) {
        1
    } else {
        1u32 << rounds.saturating_sub(1).min(6)
    };
    for _ in 0..pauses {
        crate::sync::spin_loop();
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
    ///
    /// The flag is raised and lowered by swaps, not stores: a waker that found it raised
    /// lowers it by a swap too, so every change of the flag reads the one before it and
    /// the flag's history is one sequence. With plain stores, loom lets the sleeper's
    /// raise slip between the waker's swap and the value that swap read (its model of the
    /// modification order is partial), and the waker's next look, after its fence, then
    /// misses a raised flag: a lost wake-up in the model, found by
    /// `loom_a_blocking_consumer_never_parks_through_published_work`. The swaps cost the
    /// sleeper a locked instruction on its way to a park; the producer's side is
    /// unchanged.
    pub(crate) fn sleep(&self, pause: Duration, has_work: impl Fn() -> bool) {
        self.sleeping.swap(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if !has_work() {
            crate::sync::park_timeout(pause);
        }
        self.sleeping.swap(false, Ordering::Relaxed);
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
    use std::thread;

    use super::*;

    #[test]
    fn parses_the_command_line_names() {
        assert_eq!("auto".parse(), Ok(WaitStrategy::Auto));
        assert_eq!(WaitStrategy::default(), WaitStrategy::Auto);
        assert_eq!("block".parse(), Ok(WaitStrategy::BLOCK));
        assert_eq!("busy-spin".parse(), Ok(WaitStrategy::BusySpin));
        assert_eq!("yield".parse(), Ok(WaitStrategy::YIELD));
        assert_eq!(
            "sleep".parse(),
            Ok(WaitStrategy::Sleep(WaitStrategy::DEFAULT_SLEEP))
        );
        let error = "fast".parse::<WaitStrategy>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown wait strategy \"fast\": expected auto, block, block:SPINS:YIELDS (counts of idle rounds), busy-spin, yield or sleep"
        );
        assert_eq!(
            "block:0:0".parse(),
            Ok(WaitStrategy::Block {
                spins: 0,
                yields: 0
            })
        );
        assert_eq!(
            "block:300:7".parse(),
            Ok(WaitStrategy::Block {
                spins: 300,
                yields: 7
            })
        );
        let bad = [
            "block:",
            "block:8",
            "block:-1:2",
            "block:x:2",
            "block:8:y",
            "block:8:2:1",
            "block:99999999999:2",
        ];
        for bad in bad {
            let error = bad.parse::<WaitStrategy>().unwrap_err();
            assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
        }
        for name in ["auto", "busy-spin", "yield"] {
            assert_eq!(name.parse::<WaitStrategy>().unwrap().to_string(), name);
        }
        assert_eq!(WaitStrategy::BLOCK.to_string(), "block(8 spins, 2 yields)");
    }

    #[test]
    fn auto_blocks_when_busy_threads_outnumber_cores_and_spins_otherwise() {
        assert_eq!(WaitStrategy::Auto.resolve(3, 2), WaitStrategy::BLOCK);
        assert_eq!(WaitStrategy::Auto.resolve(4, 1), WaitStrategy::BLOCK);
        assert_eq!(WaitStrategy::Auto.resolve(3, 3), WaitStrategy::BusySpin);
        assert_eq!(WaitStrategy::Auto.resolve(3, 64), WaitStrategy::BusySpin);
        for chosen in [
            WaitStrategy::BusySpin,
            WaitStrategy::BLOCK,
            WaitStrategy::YIELD,
            WaitStrategy::Sleep(WaitStrategy::DEFAULT_SLEEP),
        ] {
            assert_eq!(chosen.resolve(3, 2), chosen, "{chosen}");
            assert_eq!(chosen.resolve(3, 8), chosen, "{chosen}");
        }
    }

    /// Blocking spins its rounds, yields its rounds, then parks, with a pause that only
    /// grows while the thread stays idle; work starts it over with spins.
    #[test]
    fn blocking_spins_then_parks_and_work_starts_it_over() {
        let mut idler = WaitStrategy::Block {
            spins: 3,
            yields: 2,
        }
        .idler();
        let rounds: Vec<Round> = (0..5 + 16 * 8).map(|_| idler.next_round()).collect();
        assert!(rounds[..3].iter().all(|r| matches!(r, Round::Spin)));
        assert!(rounds[3..5].iter().all(|r| matches!(r, Round::Yield)));
        let pauses: Vec<Duration> = rounds[5..]
            .iter()
            .map(|r| match r {
                Round::Sleep(pause) => *pause,
                Round::Spin | Round::Yield => panic!("a spin or yield after the park began"),
            })
            .collect();
        let ms = Duration::from_millis;
        assert_eq!((pauses[0], pauses[15], pauses[16]), (ms(1), ms(1), ms(2)));
        assert_eq!(*pauses.last().unwrap(), IDLE_PAUSE, "capped");
        idler.reset();
        assert!(matches!(idler.next_round(), Round::Spin));
        // An unresolved auto blocks.
        let mut auto = WaitStrategy::Auto.idler();
        assert_eq!(auto.strategy, WaitStrategy::BLOCK);
        assert!(matches!(auto.next_round(), Round::Spin));
        // No spins or yields: parks at once.
        let mut eager = WaitStrategy::Block {
            spins: 0,
            yields: 0,
        }
        .idler();
        assert!(matches!(eager.next_round(), Round::Sleep(p) if p == ms(1)));
    }

    /// An idle thread's pause doubles every 16 sleeps up to 64 ms, so an idle engine
    /// hardly wakes; work resets it to the strategy's pause.
    #[test]
    fn an_idle_threads_pause_grows_to_the_idle_cap_and_work_resets_it() {
        let mut idler = WaitStrategy::YIELD.idler();
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

    /// The blocking strategy as a pipeline thread runs it: a consumer that takes what is
    /// published and otherwise waits through its idler (a spin, then a park on its bell),
    /// and a producer that publishes two commands, ringing after each. Whatever the
    /// interleaving, the consumer takes both: it never parks through a publication (a lost
    /// wake-up, with the unbounded park, would be a deadlock loom reports), including on
    /// its second park, after the first wake-up reset its state.
    #[test]
    fn loom_a_blocking_consumer_never_parks_through_published_work() {
        loom::model(|| {
            let bell = Arc::new(Doorbell::default());
            let published = Arc::new(AtomicU64::new(0));
            bell.register_current();
            let producer = {
                let (bell, published) = (Arc::clone(&bell), Arc::clone(&published));
                loom::thread::spawn(move || {
                    for _ in 0..2 {
                        published.fetch_add(1, Ordering::Release);
                        bell.ring();
                    }
                })
            };
            let mut idler = WaitStrategy::Block {
                spins: 1,
                yields: 1,
            }
            .idler();
            let mut taken = 0;
            while taken < 2 {
                let now = published.load(Ordering::Acquire);
                if now > taken {
                    taken = now;
                    idler.reset();
                } else {
                    idler.wait_for_work(&bell, || published.load(Ordering::Acquire) > taken);
                }
            }
            producer.join().unwrap();
            assert_eq!(taken, 2);
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
