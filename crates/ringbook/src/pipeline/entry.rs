//! What travels in the rings.

use crate::command::{Command, Op};
use crate::result::{OrderbookResult, RejectReason};

/// The slot number of an instrument that is not registered.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// What a caller hands the pipeline, decoded from a ring entry.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Envelope {
    /// A command for its book.
    Apply(Command),
    /// A command the caller refused; it still travels in sequence so its `rejected` event
    /// sits where the book would have put it.
    Reject(Command, RejectReason),
    /// Image every book after everything before this (a snapshot at that point).
    Checkpoint,
    /// Shut down once everything before this has been handled.
    Stop,
}

/// The kind of an entry, stored beside its command so an entry packs into one cache line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    /// A command to apply.
    Apply,
    /// A halt or resume to apply: marked apart so the sequencer finds the ones it logs
    /// from the kind alone, without decoding every command (9 instructions a command).
    Control,
    Reject,
    Checkpoint,
    Stop,
}

impl Kind {
    /// The kind of an entry that applies `command`: [`Kind::Control`] for a halt or
    /// resume, [`Kind::Apply`] for the rest.
    #[inline]
    fn to_apply(command: &Command) -> Kind {
        match command {
            Command::Halt { .. } | Command::Resume { .. } => Kind::Control,
            _ => Kind::Apply,
        }
    }
}

/// An envelope packed flat: the command, its kind and the reason (read for rejects only).
#[derive(Clone, Copy, Debug)]
struct Packed {
    command: Command,
    kind: Kind,
    reason: RejectReason,
}

impl Packed {
    #[inline]
    fn pack(envelope: Envelope) -> Packed {
        let placeholder = Command::Status {
            instrument_id: uuid::Uuid::nil(),
        };
        match envelope {
            Envelope::Apply(command) => Packed {
                command,
                kind: Kind::to_apply(&command),
                reason: RejectReason::UnknownOrder,
            },
            Envelope::Reject(command, reason) => Packed {
                command,
                kind: Kind::Reject,
                reason,
            },
            Envelope::Checkpoint => Packed {
                command: placeholder,
                kind: Kind::Checkpoint,
                reason: RejectReason::UnknownOrder,
            },
            Envelope::Stop => Packed {
                command: placeholder,
                kind: Kind::Stop,
                reason: RejectReason::UnknownOrder,
            },
        }
    }

    #[inline]
    fn unpack(&self) -> Envelope {
        match self.kind {
            Kind::Apply | Kind::Control => Envelope::Apply(self.command),
            Kind::Reject => Envelope::Reject(self.command, self.reason),
            Kind::Checkpoint => Envelope::Checkpoint,
            Kind::Stop => Envelope::Stop,
        }
    }
}

/// A slot of the ingress ring: callers to the sequencer. Two cache lines (the fields laid
/// flat: 80 + 4 + 1 + 1 bytes, aligned to 64; one line before issue 22's long-form fields
/// made a command 80 bytes): neighbouring callers never write the same line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct IngressEntry {
    command: Command,
    /// The instrument slot, looked up by the caller, or [`NO_SLOT`].
    pub(crate) slot: u32,
    kind: Kind,
    reason: RejectReason,
}

impl IngressEntry {
    /// An entry for `slot` carrying `envelope`.
    #[inline]
    pub(crate) fn new(slot: u32, envelope: Envelope) -> IngressEntry {
        let Packed {
            command,
            kind,
            reason,
        } = Packed::pack(envelope);
        IngressEntry {
            command,
            slot,
            kind,
            reason,
        }
    }

    /// Overwrites the entry in place with `command` for `slot`, to apply: the caller's
    /// fast path writes straight into the ring slot, without building the entry first.
    /// Not for halts and resumes (they go through [`IngressEntry::new`], which marks them).
    #[inline]
    pub(crate) fn set_apply(&mut self, slot: u32, command: &Command) {
        debug_assert_eq!(Kind::to_apply(command), Kind::Apply);
        self.command = *command;
        self.slot = slot;
        self.kind = Kind::Apply;
    }

    /// What the entry carries.
    #[inline]
    pub(crate) fn envelope(&self) -> Envelope {
        self.packed().unpack()
    }

    /// A halt or resume to apply, for the sequencer's log: its op and instrument.
    #[inline]
    pub(crate) fn control(&self) -> Option<(Op, uuid::Uuid)> {
        // By reference: matching a `(kind, command)` tuple copied the whole command on
        // every sequenced entry (28 instructions). The kind alone rules out every other
        // command.
        if self.kind != Kind::Control {
            return None;
        }
        match &self.command {
            Command::Halt { instrument_id } => Some((Op::Halt, *instrument_id)),
            Command::Resume { instrument_id } => Some((Op::Resume, *instrument_id)),
            _ => None,
        }
    }

    /// The command of an entry [`IngressEntry::is_plain_apply`] says is one to apply,
    /// borrowed where it lies.
    #[inline]
    pub(crate) fn applied(&self) -> &Command {
        debug_assert!(self.is_plain_apply());
        &self.command
    }

    /// Whether the entry carries a command to apply that is not a halt or resume: one the
    /// sequencer only numbers and routes (its slot is a registered book's).
    #[inline]
    pub(crate) fn is_plain_apply(&self) -> bool {
        self.kind == Kind::Apply
    }

    /// Whether the entry carries a command (to apply or to reject), rather than a marker.
    #[inline]
    pub(crate) fn is_command(&self) -> bool {
        matches!(self.kind, Kind::Apply | Kind::Control | Kind::Reject)
    }

    /// The command the entry carries, with the caller's reject reason if it is a reject
    /// (for a marker: a placeholder status command).
    #[inline]
    pub(crate) fn command(&self) -> (Command, Option<RejectReason>) {
        let reject = (self.kind == Kind::Reject).then_some(self.reason);
        (self.command, reject)
    }

    #[inline]
    fn packed(&self) -> Packed {
        Packed {
            command: self.command,
            kind: self.kind,
            reason: self.reason,
        }
    }
}

impl Default for IngressEntry {
    fn default() -> IngressEntry {
        IngressEntry::new(NO_SLOT, Envelope::Stop)
    }
}

/// A slot of a book's inbound ring: the sequencer to the book.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InboundEntry {
    /// The global sequence number.
    pub(crate) seq: u64,
    /// Nanoseconds since the manager started, stamped by the sequencer.
    pub(crate) timestamp_ns: u64,
    packed: Packed,
}

impl InboundEntry {
    /// An entry numbered `seq`, stamped `timestamp_ns`, carrying `envelope`.
    #[inline]
    pub(crate) fn new(seq: u64, timestamp_ns: u64, envelope: Envelope) -> InboundEntry {
        InboundEntry {
            seq,
            timestamp_ns,
            packed: Packed::pack(envelope),
        }
    }

    /// The command or marker of an ingress entry, numbered `seq` and stamped
    /// `timestamp_ns`: copied as it lies, with no unpacking and repacking.
    #[inline]
    pub(crate) fn routed(seq: u64, timestamp_ns: u64, entry: &IngressEntry) -> InboundEntry {
        InboundEntry {
            seq,
            timestamp_ns,
            packed: entry.packed(),
        }
    }

    /// What the entry carries, with its command borrowed where it lies in the ring: the
    /// book applies it from there, without copying it out first (17 instructions a
    /// command).
    #[inline]
    pub(crate) fn view(&self) -> EntryView<'_> {
        let Packed {
            command,
            kind,
            reason,
        } = &self.packed;
        match kind {
            Kind::Apply | Kind::Control => EntryView::Apply(command),
            Kind::Reject => EntryView::Reject(command, *reason),
            Kind::Checkpoint => EntryView::Checkpoint,
            Kind::Stop => EntryView::Stop,
        }
    }
}

/// [`Envelope`], borrowed from an inbound entry.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EntryView<'a> {
    /// A command for the book.
    Apply(&'a Command),
    /// A command refused before it reached the book.
    Reject(&'a Command, RejectReason),
    /// Image the book here.
    Checkpoint,
    /// Shut down.
    Stop,
}

impl Default for InboundEntry {
    fn default() -> InboundEntry {
        InboundEntry::new(0, 0, Envelope::Stop)
    }
}

/// What a slot of the outbound ring carries.
#[derive(Debug, Default)]
pub(crate) enum OutMessage {
    /// A result to number and publish.
    Event(OrderbookResult),
    /// A producer (the sequencer or a book consumer) has finished for good.
    Done,
    /// An empty slot (never published).
    #[default]
    Empty,
}

/// A slot of the outbound ring: books (and the sequencer) to the event manager. 104 bytes,
/// not padded to two cache lines: the results are written and read in batches, so
/// neighbours sharing a line cost nothing, and the ring and every copy into it are a fifth
/// smaller than at 128.
#[derive(Debug, Default)]
pub(crate) struct OutboundEntry {
    /// The sequence number of the command that caused it.
    pub(crate) seq: u64,
    /// The command's sequencer timestamp.
    pub(crate) timestamp_ns: u64,
    /// The payload.
    pub(crate) message: OutMessage,
}

impl OutboundEntry {
    /// The result `result` of the command numbered `seq`, stamped `timestamp_ns`.
    #[inline]
    pub(crate) fn event(seq: u64, timestamp_ns: u64, result: OrderbookResult) -> OutboundEntry {
        OutboundEntry {
            seq,
            timestamp_ns,
            message: OutMessage::Event(result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Order, Side};
    use uuid::Uuid;

    #[test]
    fn entries_keep_their_sizes() {
        // Issue 22: `Order` carries the long form's owner, trigger and display (80 bytes,
        // was 56), so an ingress entry takes two cache lines (was one) and an inbound
        // entry 104 bytes (was 80).
        assert_eq!(std::mem::size_of::<Command>(), 80);
        assert_eq!(std::mem::size_of::<IngressEntry>(), 128);
        assert_eq!(std::mem::size_of::<InboundEntry>(), 104);
        assert_eq!(std::mem::size_of::<OrderbookResult>(), 88);
        assert_eq!(std::mem::size_of::<OutboundEntry>(), 104);
    }

    #[test]
    fn envelopes_round_trip() {
        let command = Command::Add(Order::limit(
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Side::Buy,
            -3,
            4,
        ));
        let entry = IngressEntry::new(7, Envelope::Reject(command, RejectReason::InvalidQuantity));
        assert_eq!(entry.slot, 7);
        assert!(
            matches!(entry.envelope(), Envelope::Reject(c, RejectReason::InvalidQuantity) if c == command)
        );
        assert!(
            matches!(InboundEntry::new(1, 2, Envelope::Apply(command)).view(), EntryView::Apply(c) if *c == command)
        );
        assert!(matches!(IngressEntry::default().envelope(), Envelope::Stop));
    }

    #[test]
    fn halts_and_resumes_are_found_by_their_kind() {
        let instrument_id = Uuid::from_u128(4);
        for (command, op) in [
            (Command::Halt { instrument_id }, Op::Halt),
            (Command::Resume { instrument_id }, Op::Resume),
        ] {
            let entry = IngressEntry::new(2, Envelope::Apply(command));
            assert_eq!(entry.control(), Some((op, instrument_id)));
            assert!(entry.is_command());
            assert!(matches!(entry.envelope(), Envelope::Apply(c) if c == command));
            let routed = InboundEntry::routed(1, 2, &entry);
            assert!(matches!(routed.view(), EntryView::Apply(c) if *c == command));
            // Refused by the caller, it is a reject, not a halt or resume to log.
            let reject =
                IngressEntry::new(2, Envelope::Reject(command, RejectReason::OrderbookHalted));
            assert_eq!(reject.control(), None);
        }
        let cancel = Command::Cancel {
            instrument_id,
            order_id: Uuid::from_u128(5),
        };
        let mut entry = IngressEntry::default();
        entry.set_apply(0, &cancel);
        assert_eq!(entry.control(), None);
        assert!(entry.is_command());
        assert_eq!(
            IngressEntry::new(0, Envelope::Apply(cancel)).control(),
            None
        );
        assert!(!IngressEntry::default().is_command());
    }

    #[test]
    fn an_inbound_entry_is_viewed_as_what_it_carries() {
        let command = Command::Cancel {
            instrument_id: Uuid::from_u128(5),
            order_id: Uuid::from_u128(6),
        };
        let routed = |envelope| InboundEntry::routed(9, 10, &IngressEntry::new(3, envelope));
        let apply = routed(Envelope::Apply(command));
        assert!(matches!(apply.view(), EntryView::Apply(c) if *c == command));
        assert_eq!((apply.seq, apply.timestamp_ns), (9, 10));
        let reject = routed(Envelope::Reject(command, RejectReason::OrderbookHalted));
        assert!(
            matches!(reject.view(), EntryView::Reject(c, RejectReason::OrderbookHalted) if *c == command)
        );
        assert!(matches!(
            routed(Envelope::Checkpoint).view(),
            EntryView::Checkpoint
        ));
        assert!(matches!(routed(Envelope::Stop).view(), EntryView::Stop));
    }
}
