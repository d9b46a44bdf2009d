//! The caller's path for one command, read top to bottom: check it, then publish it, or
//! refuse it.
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
//! The fast-path rule ([`FAST_PATH`] and [`checked_qty`]) is written once: the fast path
//! tests it without branching on the command's kind, and [`refused`] reads the same rule
//! to tell why a command did not pass.
//!
//! [`refused`]: OrderbookManagerServiceImpl::refused

use std::hint::{black_box, select_unpredictable};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_utils::Backoff;
use disruptor::Producer;
use uuid::Uuid;

use super::error::OrderbookManagerError;
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
}

/// The fast-path rule for each op, indexed by `Op as usize`: adds and modifies are
/// refused on a halted or failed book, cancels, status and snapshots on a failed one;
/// halts and resumes flip the halt bit, so they never take the fast path. Besides, an op
/// with a quantity is refused when it is zero ([`checked_qty`]).
const FAST_PATH: [FastRule; Op::ALL.len()] = {
    let mut rules = [FastRule {
        open: true,
        refused_on: SlotFlag::FAILED,
    }; Op::ALL.len()];
    rules[Op::Add as usize].refused_on = SlotFlag::HALTED_OR_FAILED;
    rules[Op::Modify as usize].refused_on = SlotFlag::HALTED_OR_FAILED;
    rules[Op::Halt as usize].open = false;
    rules[Op::Resume as usize].open = false;
    rules
};

/// The quantity the rule checks is not zero: an add's or a modify's (`op` is the
/// command's), 1 for any other op.
///
/// Worked out with no branch on the kind of command: a `match` on it compiled to a jump
/// table whose target followed the random mix of adds, cancels and modifies, and so was
/// mispredicted about every other command (callgrind's branch simulation). Each `match`
/// below is a two-way select on its own; `black_box` on the command keeps the compiler
/// from merging them back into one multi-way branch on its kind.
#[inline]
fn checked_qty(command: &Command, op: Op) -> Qty {
    let add_qty: &Qty = match command {
        Command::Add(Order { quantity, .. }) => quantity,
        _ => &1,
    };
    let modify_qty: &Qty = match black_box(command) {
        Command::Modify { qty, .. } => qty,
        _ => &1,
    };
    *select_unpredictable(op == Op::Modify, modify_qty, add_qty)
}

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
    /// checked quantity is not zero. One table lookup by op and one load of the slot's
    /// flags.
    #[inline]
    fn passes_fast_checks(&self, slot: u32, command: &Command) -> bool {
        let op = black_box(command).op();
        let rule = FAST_PATH[op as usize];
        rule.open & (checked_qty(command, op) != 0) & !self.flags.any(slot, rule.refused_on)
    }

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
        let op = command.op();
        let rule = FAST_PATH[op as usize];
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
                reason: "the book panicked and is closed".into(),
            });
        }
        if rule.refused_on == SlotFlag::HALTED_OR_FAILED && self.flags.any(slot, SlotFlag::HALTED) {
            return self.reject(slot, command, RejectReason::OrderbookHalted);
        }
        if checked_qty(&command, op) == 0 {
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
        Err(match (reason, command) {
            (RejectReason::OrderbookHalted, Command::Add(Order { order_id, .. }))
            | (RejectReason::OrderbookHalted, Command::Modify { order_id, .. }) => {
                OrderbookManagerError::OrderbookHalted {
                    instrument_id,
                    order_id,
                }
            }
            _ => OrderbookManagerError::OrderbookError {
                instrument_id,
                order_id: command.order_id(),
                reason,
            },
        })
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
                reason: "the journal failed: the engine takes no more commands".into(),
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
                state: "not started",
            },
            _ => OrderbookManagerError::NotRunning {
                instrument_id,
                state: "stopped",
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
