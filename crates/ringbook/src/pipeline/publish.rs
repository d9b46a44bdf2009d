//! Publishing into a ring that may be full: wait for room, never drop. Each wait is
//! counted ([`FullRingWait`]); one that lasts past [`STALL`](super::backpressure::STALL) is
//! reported to the caller's `on_stall` (or, for the outbound ring, warned about) once.

use std::time::Duration;

use disruptor::{MissingFreeSlots, Producer};

use super::backpressure::{BackpressureCounters, FullRingWait, Ring};
use super::book_ring::BookProducer;
use super::entry::{InboundEntry, OutMessage, OutboundEntry};
use super::wait::{Idler, RoomBell};

/// A ring a producer publishes into: how it waits for room, and where its waits are
/// counted.
pub(super) struct Room<'a> {
    /// Rung by the ring's consumer as it frees slots.
    pub(super) bell: &'a RoomBell,
    /// Which ring it is, in the counters.
    pub(super) ring: Ring,
    pub(super) counters: &'a BackpressureCounters,
}

/// Moves every entry of `buffer` into the ring, in order, as batch publications of
/// whatever room the ring has, waiting on the ring's bell while it is full. `on_stall` is
/// called once (with the first entry still waiting, how many wait, and for how long) if
/// the wait lasts past [`STALL`](super::backpressure::STALL).
pub(super) fn publish_all<E: Pending, P: PublishFront<E>>(
    producer: &mut P,
    room: &Room<'_>,
    buffer: &mut Vec<E>,
    idler: &mut Idler,
    on_stall: impl FnOnce(&E, usize, Duration),
) {
    let mut wait: Option<FullRingWait<'_>> = None;
    let mut on_stall = Some(on_stall);
    let mut ticket = None;
    while !buffer.is_empty() {
        let want = buffer.len();
        let free = match producer.publish_front(buffer, want) {
            Ok(()) => continue,
            Err(MissingFreeSlots(missing)) => want.saturating_sub(missing as usize),
        };
        if free > 0 && producer.publish_front(buffer, free).is_ok() {
            continue;
        }
        // Full: the first time a ticket is taken and the attempt made again at once.
        producer.before_wait();
        let wait = wait.get_or_insert_with(|| FullRingWait::begin(room.counters, room.ring));
        if !idler.wait_for_room(room.bell, &mut ticket) {
            continue;
        }
        if let Some(waited) = wait.stalled()
            && let Some(on_stall) = on_stall.take()
        {
            on_stall(&buffer[0], buffer.len(), waited);
        }
    }
    if let Some(wait) = wait {
        wait.end();
    }
}

/// A ring's producer as [`publish_all`] uses it.
pub(super) trait PublishFront<E> {
    /// Moves the first `n` entries of `buffer` into the ring as one batch publication, or
    /// leaves the buffer as it was if the ring lacks room.
    fn publish_front(&mut self, buffer: &mut Vec<E>, n: usize) -> Result<(), MissingFreeSlots>;

    /// Called before each wait for room: whatever the ring's consumer needs to know of
    /// the entries published so far must reach it now (it frees the room).
    #[inline]
    fn before_wait(&mut self) {}
}

impl<E: Pending, P: Producer<E>> PublishFront<E> for P {
    #[inline]
    fn publish_front(&mut self, buffer: &mut Vec<E>, n: usize) -> Result<(), MissingFreeSlots> {
        self.try_batch_publish(n, |slots| E::move_into(slots, buffer, n))
            .map(|_| ())
    }
}

impl PublishFront<InboundEntry> for BookProducer {
    #[inline]
    fn publish_front(
        &mut self,
        buffer: &mut Vec<InboundEntry>,
        n: usize,
    ) -> Result<(), MissingFreeSlots> {
        self.try_publish(&buffer[..n])?;
        buffer.drain(..n);
        Ok(())
    }
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

/// Publishes one message into the outbound ring, waiting on its bell while it is full.
pub(super) fn publish_outbound<P: Producer<OutboundEntry>>(
    producer: &mut P,
    room: &Room<'_>,
    idler: &mut Idler,
    seq: u64,
    timestamp_ns: u64,
    message: OutMessage,
) {
    let mut message = Some(message);
    let mut wait: Option<FullRingWait<'_>> = None;
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
        let wait = wait.get_or_insert_with(|| FullRingWait::begin(room.counters, room.ring));
        if !idler.wait_for_room(room.bell, &mut ticket) {
            continue;
        }
        if let Some(waited) = wait.stalled() {
            tracing::warn!(
                seq,
                ring = room.ring.name(),
                ?waited,
                "ring full for over a second: its consumer is stalled"
            );
        }
    }
    if let Some(wait) = wait {
        wait.end();
    }
    idler.reset();
}
