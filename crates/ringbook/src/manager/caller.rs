//! The caller's path for one command, in the order it runs: check it against the
//! fast-path rule, then publish it; or, refused, find out why and publish the reject (or
//! the halt or resume, in sequence), or return the error.
//!
//! ```text
//! submit ── registered, and passes the fast-path rule ──> publish_apply ──> done
//!   │                                     (ring full, or not admitted: publish, waiting)
//!   └─ otherwise ──> refused: not registered       ──> reject (a halt or resume: no error)
//!                             a halt or resume     ──> published in sequence, bit flipped
//!                             the book failed      ──> error
//!                             halted, quantity 0   ──> reject
//!                             nothing any more     ──> publish (a resume raced the check)
//! ```
//!
//! The fast-path rule ([`FAST_PATH`]) is written once: the fast path tests it without
//! branching on the command's kind, and [`refused`] reads the same rule to tell why a
//! command did not pass.
//!
//! [`refused`]: OrderbookManagerServiceImpl::refused

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_utils::Backoff;
use disruptor::{MissingFreeSlots, Producer};
use uuid::Uuid;

use super::error::{ManagerState, OrderbookManagerError, SendFailure};
use super::halt::halt_in_sequence;
use super::service::{CREATED, Lifecycle, OrderbookManagerServiceImpl, RUNNING};
use crate::command::{Command, Op};
use crate::pipeline::{
    BackpressureCounters, Envelope, FullRingWait, IngressEntry, IngressProducer, NO_SLOT,
    ROOM_PAUSE, Ring, RoomBell, SlotFlag,
};
use crate::result::RejectReason;
use crate::types::{Order, Qty};

/// What the fast path checks for one op.
#[derive(Clone, Copy)]
struct FastRule {
    /// Whether the op may take the fast path at all.
    open: bool,
    /// The slot flags that refuse it: [`SlotFlag::HALTED_OR_FAILED`] or
    /// [`SlotFlag::FAILED`].
    refused_on: SlotFlag,
    /// Whether it carries a quantity, which must not be zero ([`quantity`]).
    has_qty: bool,
}

/// The fast-path rule for each op, indexed by `Op as usize`: adds and modifies are
/// refused on a halted or failed book and on a zero quantity, cancels, status and
/// snapshots and mass cancels on a failed book (a mass cancel works on a halted book);
/// halts and resumes flip the halt bit, so they never take the fast path.
const FAST_PATH: [FastRule; Op::LONG_FORM.len()] = {
    let mut rules = [FastRule {
        open: true,
        refused_on: SlotFlag::FAILED,
        has_qty: false,
    }; Op::LONG_FORM.len()];
    let with_qty = FastRule {
        open: true,
        refused_on: SlotFlag::HALTED_OR_FAILED,
        has_qty: true,
    };
    rules[Op::Add as usize] = with_qty;
    rules[Op::Modify as usize] = with_qty;
    rules[Op::Halt as usize].open = false;
    rules[Op::Resume as usize].open = false;
    rules
};

impl FastRule {
    /// Whether `command` (of this rule's op) passes, given whether its slot has one of
    /// the flags in [`Self::refused_on`]. Computed with no branch on the kind of
    /// command: a `match` on it compiled to a jump table whose target followed the random
    /// mix of adds, cancels and modifies, and so was mispredicted about every other
    /// command (callgrind's branch simulation).
    #[inline]
    fn passes(self, command: &Command, refused_flag: bool) -> bool {
        let qty_ok = !self.has_qty | (quantity(command) != 0);
        self.open & qty_ok & !refused_flag
    }
}

/// An add's or a modify's quantity, 0 for any other command. The two variants are
/// exclusive, so their quantities (each 0 when the command is not of that kind) are
/// combined with an `or`, not a select on the kind.
#[inline]
fn quantity(command: &Command) -> Qty {
    let add_qty = match command {
        Command::Add(Order { quantity, .. }) => *quantity,
        _ => 0,
    };
    let modify_qty = match command {
        Command::Modify { qty, .. } => *qty,
        _ => 0,
    };
    add_qty | modify_qty
}

/// The command's way in: the check, then the publication.
impl OrderbookManagerServiceImpl {
    /// Submits any command: the general form of the trait's operations, as a replay
    /// drives the engine. Halts and resumes wait for ring space as long as it takes.
    ///
    /// # Errors
    ///
    /// As the matching trait operation.
    #[inline]
    pub fn submit(&self, command: Command) -> Result<(), OrderbookManagerError> {
        if let Some(slot) = self.registry.slot(&command.instrument_id())
            && self.passes_fast_checks(slot, &command)
        {
            return self.publish_apply(slot, &command);
        }
        self.refused(command)
    }

    /// Whether `command` for `slot` passes the fast-path rule as it stands: its op may
    /// take the fast path, none of the slot flags its op is refused on is set, and its
    /// quantity, if it has one, is not zero. One table lookup by op and one load of the
    /// slot's flags.
    #[inline]
    fn passes_fast_checks(&self, slot: u32, command: &Command) -> bool {
        let rule = FAST_PATH[command.op() as usize];
        rule.passes(command, self.flags.any(slot, rule.refused_on))
    }

    /// Publishes a command that passed the fast-path rule: written straight into this
    /// thread's next ingress slot when the ring has room, through [`Self::publish`]
    /// (which waits for room, up to the timeout) when it has none or the caller is not
    /// admitted.
    #[inline]
    fn publish_apply(&self, slot: u32, command: &Command) -> Result<(), OrderbookManagerError> {
        let published = self.handles.with_producer(
            || self.admitted(),
            |producer| {
                producer
                    .try_publish(|entry| entry.set_apply(slot, command))
                    .is_ok()
            },
        );
        if published == Some(true) {
            if let Some(bell) = self.sequencer_bell.get() {
                bell.ring();
            }
            return Ok(());
        }
        self.publish_apply_waiting(slot, command)
    }

    /// [`Self::publish_apply`] when the ring had no room or the caller was not admitted.
    /// Out of line: the entry it builds on the stack is cache-line aligned, and inlined it
    /// gave the fast path an aligned frame and more registers to save (20 instructions a
    /// command of prologue and epilogue).
    #[cold]
    #[inline(never)]
    fn publish_apply_waiting(
        &self,
        slot: u32,
        command: &Command,
    ) -> Result<(), OrderbookManagerError> {
        self.publish(
            IngressEntry::new(slot, Envelope::Apply(*command)),
            command.instrument_id(),
            self.config.publish_timeout,
        )
    }

    /// Whether callers may publish: running, and the journal has not failed.
    #[inline]
    fn admitted(&self) -> bool {
        self.state.load(Ordering::SeqCst) == RUNNING && !self.intake_failed.load(Ordering::Acquire)
    }

    /// Publishes into the ingress ring through this thread's handle, waiting at most
    /// `timeout` for room.
    #[inline(never)]
    pub(super) fn publish(
        &self,
        entry: IngressEntry,
        instrument_id: Uuid,
        timeout: Option<Duration>,
    ) -> Result<(), OrderbookManagerError> {
        // `stop` closes admission, then waits for every busy handle: a caller admitted here
        // publishes before the stop marker.
        if self.intake_failed.load(Ordering::Acquire) {
            return Err(OrderbookManagerError::ChannelSendError {
                instrument_id,
                reason: SendFailure::JournalFailed,
            });
        }
        let published = self
            .handles
            .with_producer(
                || self.state.load(Ordering::SeqCst) == RUNNING,
                |producer| {
                    let ingress = Ingress {
                        room: &self.ingress_room,
                        counters: &self.backpressure,
                    };
                    publish_with(producer, &ingress, entry, instrument_id, timeout)
                },
            )
            .unwrap_or_else(|| Err(self.not_running(Some(instrument_id))));
        if published.is_ok()
            && let Some(bell) = self.sequencer_bell.get()
        {
            bell.ring();
        }
        published
    }

    fn not_running(&self, instrument_id: Option<Uuid>) -> OrderbookManagerError {
        match self.state.load(Ordering::Acquire) {
            CREATED => OrderbookManagerError::NotRunning {
                instrument_id,
                state: ManagerState::NotStarted,
            },
            _ => OrderbookManagerError::NotRunning {
                instrument_id,
                state: ManagerState::Stopped,
            },
        }
    }
}

/// The ingress ring as a publisher waits on it: the bell the sequencer rings as it frees
/// slots, and where waits on it are counted.
pub(super) struct Ingress<'a> {
    pub(super) room: &'a RoomBell,
    pub(super) counters: &'a BackpressureCounters,
}

/// Publishes `entry` with `producer`, backing off while the ring is full, for at most
/// `timeout` (`None`: until it fits). A wait is counted; one past a second is a warning.
pub(super) fn publish_with(
    producer: &mut IngressProducer,
    ingress: &Ingress<'_>,
    entry: IngressEntry,
    instrument_id: Uuid,
    timeout: Option<Duration>,
) -> Result<(), OrderbookManagerError> {
    if producer.try_publish(|slot| *slot = entry).is_ok() {
        return Ok(());
    }
    let mut wait = FullRingWait::begin(ingress.counters, Ring::Ingress);
    let started = Instant::now();
    let backoff = Backoff::new();
    let mut ticket = None;
    loop {
        if !backoff.is_completed() {
            backoff.snooze();
        } else if let Some(taken) = ticket.take() {
            // Sleep until the sequencer frees slots (or the timeout is near).
            let left = timeout.map_or(ROOM_PAUSE, |t| t.saturating_sub(started.elapsed()));
            ingress.room.wait(taken, left.min(ROOM_PAUSE));
        } else {
            // Take a ticket before the next attempt, so room freed after it wakes us.
            ticket = Some(ingress.room.ticket());
        }
        if producer.try_publish(|slot| *slot = entry).is_ok() {
            wait.end();
            return Ok(());
        }
        if let Some(waited) = wait.stalled() {
            tracing::warn!(%instrument_id, ?waited, "ingress ring full for over a second: the sequencer is stalled");
        }
        let waited = started.elapsed();
        if timeout.is_some_and(|t| waited >= t) {
            wait.end();
            tracing::warn!(%instrument_id, ?waited, "publish timed out: ingress ring full");
            return Err(OrderbookManagerError::Timeout {
                instrument_id,
                waited,
            });
        }
    }
}

/// The longest run of fast-path commands a batch claims ingress slots for in one go (the
/// slots of a run are kept on the stack: 4 bytes each).
pub(super) const MAX_RUN: usize = 64;

/// A batch of commands: runs of fast-path commands claimed and published together.
impl OrderbookManagerServiceImpl {
    /// Submits `commands` in order, with the same checks, rejects, events and errors as
    /// [`Self::submit`] called for each, but claiming the ingress slots of each run of
    /// commands that pass the fast-path rule (up to 64) in one go and ringing the
    /// sequencer once a run. `refused` is called with the index and error of each command
    /// `submit` would have returned an error for. Allocates nothing. A ring without room
    /// for the whole run takes what fits; the rest waits as `submit` does (up to the
    /// publish timeout).
    pub fn submit_batch(
        &self,
        commands: &[Command],
        refused: &mut dyn FnMut(usize, OrderbookManagerError),
    ) {
        let mut slots = [0_u32; MAX_RUN];
        let mut next = 0;
        while next < commands.len() {
            let window = &commands[next..commands.len().min(next + MAX_RUN)];
            let mut len = 0;
            for command in window {
                match self.registry.slot(&command.instrument_id()) {
                    Some(slot) if self.passes_fast_checks(slot, command) => {
                        slots[len] = slot;
                        len += 1;
                    }
                    _ => break,
                }
            }
            if len == 0 {
                if let Err(error) = self.refused(commands[next]) {
                    refused(next, error);
                }
                next += 1;
                continue;
            }
            let published = self.publish_run(&slots[..len], &commands[next..next + len]);
            next += published;
            if published < len {
                // No room for it (or not admitted): this one waits as `submit` would, and
                // the rest of the run is checked again after it.
                if let Err(error) = self.publish_apply_waiting(slots[published], &commands[next]) {
                    refused(next, error);
                }
                next += 1;
            }
        }
    }

    /// Publishes a run of commands that passed the fast-path rule (`slots[i]` is the book
    /// slot of `commands[i]`) into as many ingress slots as the ring has free, claimed in
    /// one go, and rings the sequencer once. Returns how many of the run, from its start,
    /// were published: 0 when the ring is full or the caller is not admitted.
    fn publish_run(&self, slots: &[u32], commands: &[Command]) -> usize {
        let published = self
            .handles
            .with_producer(
                || self.admitted(),
                |producer| {
                    let all = commands.len();
                    match producer
                        .try_batch_publish(all, |entries| write_run(entries, slots, commands))
                    {
                        Ok(_) => all,
                        Err(MissingFreeSlots(missing)) => {
                            let fits = all.saturating_sub(usize::try_from(missing).unwrap_or(all));
                            if fits > 0
                                && producer
                                    .try_batch_publish(fits, |entries| {
                                        write_run(entries, slots, commands)
                                    })
                                    .is_ok()
                            {
                                fits
                            } else {
                                0
                            }
                        }
                    }
                },
            )
            .unwrap_or(0);
        if published > 0
            && let Some(bell) = self.sequencer_bell.get()
        {
            bell.ring();
        }
        published
    }
}

/// Writes the run's commands, as applies to their slots, into the claimed `entries` (as
/// many as were claimed: the run's first ones).
#[inline]
fn write_run<'a>(
    entries: impl Iterator<Item = &'a mut IngressEntry>,
    slots: &[u32],
    commands: &[Command],
) {
    for ((entry, slot), command) in entries.zip(slots).zip(commands) {
        entry.set_apply(*slot, command);
    }
}

/// The refused path: why the rule refused a command, and what the caller gets for it.
impl OrderbookManagerServiceImpl {
    /// `submit` for a command the fast path did not take: the same rule, read again to
    /// tell why, with its rejects and errors. If nothing refuses it any more (the check
    /// raced a resume), it is published as the fast path would have.
    #[cold]
    #[inline(never)]
    fn refused(&self, command: Command) -> Result<(), OrderbookManagerError> {
        let instrument_id = command.instrument_id();
        let Some(slot) = self.registry.slot(&instrument_id) else {
            let entry = IngressEntry::new(
                NO_SLOT,
                Envelope::Reject(command, RejectReason::InstrumentNotRegistered),
            );
            if matches!(command, Command::Halt { .. } | Command::Resume { .. }) {
                tracing::debug!(%instrument_id, op = %command.op(), "halt or resume of an unregistered instrument");
                self.control(entry, instrument_id);
                return Ok(());
            }
            self.publish(entry, instrument_id, self.config.publish_timeout)?;
            return Err(OrderbookManagerError::InstrumentNotRegistered {
                instrument_id,
                order_id: command.order_id(),
            });
        };
        let rule = FAST_PATH[command.op() as usize];
        let entry = IngressEntry::new(slot, Envelope::Apply(command));
        if !rule.open {
            let halt = matches!(command, Command::Halt { .. });
            halt_in_sequence(&self.lifecycle, &self.flags, slot, halt, |lifecycle| {
                self.control_locked(lifecycle, entry, instrument_id)
            });
            return Ok(());
        }
        if self.flags.any(slot, SlotFlag::FAILED) {
            return Err(OrderbookManagerError::ChannelSendError {
                instrument_id,
                reason: SendFailure::BookFailed,
            });
        }
        if rule.refused_on == SlotFlag::HALTED_OR_FAILED && self.flags.any(slot, SlotFlag::HALTED) {
            return self.reject(slot, command, RejectReason::OrderbookHalted);
        }
        if rule.has_qty && quantity(&command) == 0 {
            return self.reject(slot, command, RejectReason::InvalidQuantity);
        }
        self.publish(entry, instrument_id, self.config.publish_timeout)
    }

    /// Publishes the caller's reject in sequence (so it sits where the book would have
    /// put it) and returns the matching error.
    fn reject(
        &self,
        slot: u32,
        command: Command,
        reason: RejectReason,
    ) -> Result<(), OrderbookManagerError> {
        let instrument_id = command.instrument_id();
        let entry = IngressEntry::new(slot, Envelope::Reject(command, reason));
        self.publish(entry, instrument_id, self.config.publish_timeout)?;
        Err(OrderbookManagerError::refused(&command, reason))
    }

    /// Publishes the reject of a halt or resume of an unregistered instrument, as
    /// [`Self::control_locked`] does.
    fn control(&self, entry: IngressEntry, instrument_id: Uuid) {
        self.control_locked(&mut self.lifecycle.lock(), entry, instrument_id);
    }

    /// Publishes a halt or resume (or their reject), under the lifecycle lock: queued until
    /// `start` if not started yet, waiting for ring space as long as it takes while
    /// running, logged and dropped after `stop` (there is no stream left to publish to).
    /// Returns whether it was taken (queued or published).
    fn control_locked(
        &self,
        lifecycle: &mut Lifecycle,
        entry: IngressEntry,
        instrument_id: Uuid,
    ) -> bool {
        match self.state.load(Ordering::Acquire) {
            CREATED => {
                lifecycle.pending.push((entry, instrument_id));
                true
            }
            RUNNING => match self.publish(entry, instrument_id, None) {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(%instrument_id, error = %e, "halt or resume not published");
                    false
                }
            },
            _ => {
                tracing::warn!(%instrument_id, "halt or resume after stop ignored: the halt bit is unchanged");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::SlotFlags;
    use crate::types::Side;

    /// The rule, op by op: which commands pass on a live, halted and failed book.
    #[test]
    fn the_fast_path_rule_by_op_and_flags() {
        let instrument_id = Uuid::from_u128(1);
        let order_id = Uuid::from_u128(2);
        let add = |qty| Command::Add(Order::limit(order_id, instrument_id, Side::Buy, 100, qty));
        let modify = |qty| Command::Modify {
            instrument_id,
            order_id,
            price: 101,
            qty,
        };
        let flags = SlotFlags::new(1);
        let passes = |command: &Command| {
            let rule = FAST_PATH[command.op() as usize];
            rule.passes(command, flags.any(0, rule.refused_on))
        };
        // (command, live, halted, failed)
        let table = [
            (add(5), true, false, false),
            (add(0), false, false, false),
            (modify(3), true, false, false),
            (modify(0), false, false, false),
            (
                Command::Cancel {
                    instrument_id,
                    order_id,
                },
                true,
                true,
                false,
            ),
            (Command::Status { instrument_id }, true, true, false),
            (Command::Snapshot { instrument_id }, true, true, false),
            (Command::Halt { instrument_id }, false, false, false),
            (Command::Resume { instrument_id }, false, false, false),
        ];
        for (command, live, halted, failed) in table {
            assert_eq!(passes(&command), live, "live: {command:?}");
            flags.set(0, SlotFlag::HALTED);
            assert_eq!(passes(&command), halted, "halted: {command:?}");
            flags.clear(0, SlotFlag::HALTED);
            flags.set(0, SlotFlag::FAILED);
            assert_eq!(passes(&command), failed, "failed: {command:?}");
            flags.clear(0, SlotFlag::FAILED);
        }
    }
}
