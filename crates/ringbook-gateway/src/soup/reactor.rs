//! The reactor: one thread for every logged-in session. It waits on the [`Poller`] for
//! sockets with input (read once per readiness, the whole of what the buffer takes, and
//! handed to the application, which submits one batch a read), for sockets with room
//! again (their outlet writes on), and for new sessions from the login threads; on each
//! tick it keeps the timers (Server Heartbeat, idle timeout, write timeout).
//!
//! Shutdown: every session is sent the rest of its stream and End of Session; the thread
//! ends once every session has.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use super::outlet::{Outlet, OutletState};
use super::poll::{Events, Interest, Poller, WAKE_TOKEN, millis_for, monotonic_ns};
use super::session::{Handoff, Live};
use super::{AppSession, DisconnectReason, SessionConfig};

/// What the server and its reactors share.
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// Send every session the rest of its stream, End of Session, and stop.
    pub(crate) end: AtomicBool,
    /// Connections open: logging in or logged in.
    pub(crate) live: AtomicUsize,
}

/// The longest wait between ticks.
const MAX_TICK: Duration = Duration::from_millis(100);

/// The tick while shutting down (sessions are draining).
const END_TICK: Duration = Duration::from_millis(5);

struct Slot<S> {
    generation: u32,
    live: Option<Live<S>>,
}

struct Reactor<S> {
    control: Arc<Control>,
    poller: Arc<Poller>,
    config: SessionConfig,
    slots: Vec<Slot<S>>,
    free: Vec<usize>,
    count: usize,
    ending: bool,
    /// The tokens of the writes asked of this reactor (kept for its capacity).
    asked: Vec<u64>,
    /// The packets of an asked write, written outside the stream's lock (kept for its
    /// capacity).
    batch: Vec<u8>,
}

fn token(index: usize, generation: u32) -> u64 {
    (u64::from(generation) << 32) | index as u64
}

/// Runs a reactor waiting on `poller` until shutdown; new sessions arrive on `handoffs`
/// (with a wake-up of `poller`).
pub(crate) fn run<S: AppSession>(
    control: &Arc<Control>,
    poller: &Arc<Poller>,
    config: SessionConfig,
    handoffs: &Receiver<Handoff<S>>,
) {
    let mut reactor = Reactor {
        control: Arc::clone(control),
        poller: Arc::clone(poller),
        config,
        slots: Vec::new(),
        free: Vec::new(),
        count: 0,
        ending: false,
        asked: Vec::new(),
        batch: Vec::with_capacity(config.write_batch + (1 << 16)),
    };
    let tick = (config.heartbeat_interval.min(config.idle_timeout) / 4)
        .clamp(Duration::from_millis(1), MAX_TICK);
    // The round's timers in nanoseconds of the monotonic clock: one clock read and
    // integer compares a round, no Duration arithmetic.
    let tick_ns = duration_ns(tick);
    let spin_ns = duration_ns(config.poll_spin);
    let end_tick_ms = millis_for(duration_ns(END_TICK));
    let mut events = Events::default();
    let mut now = monotonic_ns();
    let mut next_tick = now + tick_ns;
    let mut last_busy = now;
    let mut handoffs_open = true;
    loop {
        let wait_ms = if reactor.ending {
            end_tick_ms
        } else if now >= next_tick || (spin_ns > 0 && now < last_busy + spin_ns) {
            0
        } else {
            millis_for(next_tick - now)
        };
        if let Err(e) = poller.wait(&mut events, wait_ms) {
            tracing::error!(error = %e, "epoll_wait failed: the sessions are closed");
            reactor.close_all(|| DisconnectReason::Io(std::io::Error::from(e.kind())));
            return;
        }
        // One clock read a round: the idle timers and the spin use it.
        now = monotonic_ns();
        if !events.is_empty() {
            last_busy = now;
        }
        let mut woken = false;
        for (token, readable, writable) in events.iter() {
            if token == WAKE_TOKEN {
                // Edge triggered: nothing to read back.
                woken = true;
            } else {
                reactor.on_ready(token, readable, writable, now);
            }
        }
        if woken {
            reactor.asked_writes();
        }
        if woken || reactor.ending {
            while handoffs_open {
                match handoffs.try_recv() {
                    Ok(handoff) => reactor.register(handoff, now),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => handoffs_open = false,
                }
            }
            if !reactor.ending && control.end.load(Ordering::Acquire) {
                reactor.begin_end();
            }
        }
        if reactor.ending || now >= next_tick {
            reactor.tick(now);
            next_tick = now + tick_ns;
        }
        if reactor.ending && reactor.count == 0 && !handoffs_open {
            return;
        }
    }
}

/// A duration in nanoseconds (saturating).
fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX / 2)
}

impl<S: AppSession> Reactor<S> {
    fn register(&mut self, handoff: Handoff<S>, now: u64) {
        if let Err(e) = handoff.socket.set_nonblocking(true) {
            self.refuse(handoff, e);
            return;
        }
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                generation: 0,
                live: None,
            });
            self.slots.len() - 1
        });
        let slot = &mut self.slots[index];
        slot.generation = slot.generation.wrapping_add(1);
        let token = token(index, slot.generation);
        if let Err(e) = self
            .poller
            .add(handoff.socket.as_raw_fd(), token, Interest::Read)
        {
            self.free.push(index);
            self.refuse(handoff, e);
            return;
        }
        let next = handoff.next;
        let live = Live::new(handoff, now);
        let socket = Arc::clone(&live.socket);
        let at_login = live.stream.len();
        live.stream.attach(Outlet::new(
            socket,
            Arc::clone(&self.poller),
            token,
            next,
            at_login,
            &self.config,
        ));
        self.slots[index].live = Some(live);
        self.count += 1;
        if self.ending {
            self.end_one(index);
        }
        // A stream ended already (a snapshot server's) may have been sent whole.
        if let Some(live) = &self.slots[index].live
            && live.stream.with_outlet(|_, _| {}) == OutletState::Ended
        {
            self.close(index, DisconnectReason::EndOfSession);
        }
    }

    fn refuse(&mut self, handoff: Handoff<S>, e: std::io::Error) {
        tracing::warn!(peer = %handoff.peer, error = %e, "cannot serve a logged-in session");
        let mut session = handoff.session;
        session.on_disconnect(&DisconnectReason::Io(e));
        self.control.live.fetch_sub(1, Ordering::AcqRel);
    }

    fn on_ready(&mut self, token: u64, readable: bool, writable: bool, now: u64) {
        let index = (token & u64::from(u32::MAX)) as usize;
        let generation = (token >> 32) as u32;
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        if slot.generation != generation {
            return;
        }
        let Some(live) = slot.live.as_mut() else {
            return;
        };
        if writable
            && live
                .stream
                .with_outlet(|outlet, store| outlet.writable(store))
                == OutletState::Ended
        {
            self.close(index, DisconnectReason::EndOfSession);
            return;
        }
        if readable && let Some(reason) = live.on_readable(&self.config, now) {
            self.close(index, reason);
        }
    }

    /// Writes the output the appenders left to this reactor.
    fn asked_writes(&mut self) {
        let mut tokens = std::mem::take(&mut self.asked);
        self.poller.take_writes(&mut tokens);
        for &token in &tokens {
            let Some(index) = self.index_of(token) else {
                continue;
            };
            if let Some(live) = &self.slots[index].live
                && live.stream.asked_write(&live.socket, &mut self.batch) == OutletState::Ended
            {
                self.close(index, DisconnectReason::EndOfSession);
            }
        }
        self.asked = tokens;
    }

    /// The slot of a live registration's token (none for a stale one).
    fn index_of(&self, token: u64) -> Option<usize> {
        let index = (token & u64::from(u32::MAX)) as usize;
        let generation = (token >> 32) as u32;
        let slot = self.slots.get(index)?;
        (slot.generation == generation && slot.live.is_some()).then_some(index)
    }

    fn close(&mut self, index: usize, reason: DisconnectReason) {
        let Some(live) = self.slots[index].live.take() else {
            return;
        };
        // Detached first: an append racing with the close then finds no outlet (it
        // would otherwise find the socket gone from epoll, and record that as a failure).
        let failure = live.stream.detach();
        let _ = self.poller.delete(live.socket.as_raw_fd());
        live.close(failure.unwrap_or(reason));
        self.free.push(index);
        self.count -= 1;
        self.control.live.fetch_sub(1, Ordering::AcqRel);
    }

    fn close_all(&mut self, reason: impl Fn() -> DisconnectReason) {
        for index in 0..self.slots.len() {
            self.close(index, reason());
        }
    }

    fn begin_end(&mut self) {
        self.ending = true;
        for index in 0..self.slots.len() {
            self.end_one(index);
        }
    }

    fn end_one(&mut self, index: usize) {
        let Some(live) = self.slots[index].live.as_mut() else {
            return;
        };
        live.ending = true;
        live.stream.with_outlet(|outlet, store| outlet.end(store));
    }

    /// The timers: idle timeout, write timeout, heartbeats; and the sessions whose
    /// outlet failed or sent End of Session.
    fn tick(&mut self, now: u64) {
        let config = self.config;
        let idle_ns = duration_ns(config.idle_timeout);
        // The outlets' timers keep Instants: one clock read a tick, not a round.
        let instant = Instant::now();
        for index in 0..self.slots.len() {
            let Some(live) = self.slots[index].live.as_mut() else {
                continue;
            };
            if now.saturating_sub(live.last_input) >= idle_ns {
                self.close(
                    index,
                    DisconnectReason::IdleTimeout {
                        seconds: config.idle_timeout.as_secs_f64(),
                    },
                );
                continue;
            }
            let state = live.stream.with_outlet(|outlet, store| {
                outlet.tick(
                    store,
                    instant,
                    config.heartbeat_interval,
                    config.write_timeout,
                );
            });
            match state {
                OutletState::Open => {}
                // The socket is shut down: the reason is the outlet's.
                OutletState::Failed => self.close(index, DisconnectReason::ClientClosed),
                OutletState::Ended => self.close(index, DisconnectReason::EndOfSession),
            }
        }
    }
}
