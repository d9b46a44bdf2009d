//! Publishing into a ring that may be full: wait for room, never drop, warn once when a
//! consumer falls behind.

use std::time::{Duration, Instant};

use disruptor::{MissingFreeSlots, Producer};

use super::entry::{InboundEntry, OutMessage, OutboundEntry};
use super::wait::{Idler, RoomBell};

/// How long a publish may wait on a full ring before it is logged as a slow consumer.
const SLOW: Duration = Duration::from_millis(10);

/// A wait on a full ring: says once when it has gone on past [`SLOW`].
struct Stall {
    started: Instant,
    warned: bool,
}

impl Stall {
    fn new() -> Stall {
        Stall {
            started: Instant::now(),
            warned: false,
        }
    }

    /// True the first time the wait has lasted past [`SLOW`], false otherwise.
    fn overdue(&mut self) -> bool {
        let overdue = !self.warned && self.started.elapsed() > SLOW;
        self.warned |= overdue;
        overdue
    }
}

/// Moves every entry of `buffer` into the ring, in order, as batch publications of
/// whatever room the ring has, waiting on the ring's `bell` while it is full. `on_slow` is
/// called once (with the first entry still waiting and how many wait) if the wait lasts
/// past [`SLOW`].
pub(super) fn publish_all<E: Pending, P: Producer<E>>(
    producer: &mut P,
    bell: &RoomBell,
    buffer: &mut Vec<E>,
    idler: &mut Idler,
    on_slow: impl FnOnce(&E, usize),
) {
    let mut stall = Stall::new();
    let mut on_slow = Some(on_slow);
    let mut ticket = None;
    while !buffer.is_empty() {
        let want = buffer.len();
        let room = match publish_front(producer, buffer, want) {
            Ok(()) => continue,
            Err(MissingFreeSlots(missing)) => want.saturating_sub(missing as usize),
        };
        if room > 0 && publish_front(producer, buffer, room).is_ok() {
            continue;
        }
        // Full: the first time a ticket is taken and the attempt made again at once.
        if !idler.wait_for_room(bell, &mut ticket) {
            continue;
        }
        if stall.overdue()
            && let Some(on_slow) = on_slow.take()
        {
            on_slow(&buffer[0], buffer.len());
        }
    }
}

/// Moves the first `n` entries of `buffer` into the ring as one batch publication, or
/// leaves the buffer as it was if the ring lacks room.
#[inline]
fn publish_front<E: Pending, P: Producer<E>>(
    producer: &mut P,
    buffer: &mut Vec<E>,
    n: usize,
) -> Result<(), MissingFreeSlots> {
    producer
        .try_batch_publish(n, |slots| E::move_into(slots, buffer, n))
        .map(|_| ())
}

/// How a buffered entry moves into ring slots.
pub(super) trait Pending: Sized {
    /// Moves the first `n` entries of `buffer` into `slots`, and out of the buffer.
    fn move_into<'a>(slots: impl Iterator<Item = &'a mut Self>, buffer: &mut Vec<Self>, n: usize)
    where
        Self: 'a;
}

impl Pending for InboundEntry {
    /// Copied, then the buffer truncated: no `Option` per entry as a drain would give.
    #[inline]
    fn move_into<'a>(slots: impl Iterator<Item = &'a mut Self>, buffer: &mut Vec<Self>, n: usize) {
        for (slot, entry) in slots.zip(&buffer[..n]) {
            *slot = *entry;
        }
        buffer.drain(..n);
    }
}

impl Pending for OutboundEntry {
    /// Moved out of a drain (the results own heap data: a snapshot's levels).
    #[inline]
    fn move_into<'a>(slots: impl Iterator<Item = &'a mut Self>, buffer: &mut Vec<Self>, n: usize) {
        for (slot, entry) in slots.zip(buffer.drain(..n)) {
            *slot = entry;
        }
    }
}

/// Publishes one message into the outbound ring, waiting on its `bell` while it is full.
pub(super) fn publish_outbound<P: Producer<OutboundEntry>>(
    producer: &mut P,
    bell: &RoomBell,
    idler: &mut Idler,
    seq: u64,
    timestamp_ns: u64,
    message: OutMessage,
) {
    let mut message = Some(message);
    let mut stall = Stall::new();
    let mut ticket = None;
    loop {
        let published = producer.try_publish(|slot| {
            *slot = OutboundEntry {
                seq,
                timestamp_ns,
                message: message.take().unwrap_or_default(),
            }
        });
        if published.is_ok() {
            break;
        }
        if !idler.wait_for_room(bell, &mut ticket) {
            continue;
        }
        if stall.overdue() {
            tracing::warn!(seq, "slow event manager: outbound ring full");
        }
    }
    idler.reset();
}
