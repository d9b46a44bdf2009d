//! What travels in the rings.

use uuid::Uuid;

use super::spill;
use crate::command::{Command, Op};
use crate::result::{OrderbookResult, RejectReason};
use crate::types::{Order, OrderKind, Price, Qty, Side};

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

/// What an entry does with its command (or which marker it is), in one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Disposition {
    /// A command to apply.
    Apply,
    /// A halt or resume to apply: marked apart so the sequencer finds the ones it logs
    /// from the disposition alone, without decoding every command (9 instructions a
    /// command).
    Control,
    /// A command the caller refused, and why.
    Reject(RejectReason),
    /// The checkpoint marker.
    Checkpoint,
    /// The stop marker.
    Stop,
}

impl Disposition {
    /// The disposition of an entry that applies `command`: [`Disposition::Control`] for a
    /// halt or resume, [`Disposition::Apply`] for the rest.
    #[inline]
    fn to_apply(command: &Command) -> Disposition {
        match command {
            Command::Halt { .. } | Command::Resume { .. } => Disposition::Control,
            _ => Disposition::Apply,
        }
    }

    /// The disposition and command of `envelope` (a placeholder status command for a
    /// marker).
    #[inline]
    fn of(envelope: Envelope) -> (Disposition, Command) {
        let placeholder = Command::Status {
            instrument_id: uuid::Uuid::nil(),
        };
        match envelope {
            Envelope::Apply(command) => (Disposition::to_apply(&command), command),
            Envelope::Reject(command, reason) => (Disposition::Reject(reason), command),
            Envelope::Checkpoint => (Disposition::Checkpoint, placeholder),
            Envelope::Stop => (Disposition::Stop, placeholder),
        }
    }

    /// The envelope of this disposition with `command`.
    #[inline]
    fn envelope(self, command: Command) -> Envelope {
        match self {
            Disposition::Apply | Disposition::Control => Envelope::Apply(command),
            Disposition::Reject(reason) => Envelope::Reject(command, reason),
            Disposition::Checkpoint => Envelope::Checkpoint,
            Disposition::Stop => Envelope::Stop,
        }
    }
}

/// An envelope packed flat for a book's ring: the command and its disposition.
#[derive(Clone, Copy, Debug)]
struct Packed {
    command: Command,
    disposition: Disposition,
}

impl Packed {
    #[inline]
    fn pack(envelope: Envelope) -> Packed {
        let (disposition, command) = Disposition::of(envelope);
        Packed {
            command,
            disposition,
        }
    }
}

/// Which command an ingress entry carries, and so how its fields read, in one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// An add of this kind for the entry's slot.
    Add(OrderKind),
    /// An add for no slot, held aside whole: its token is in `price`.
    HeldAdd,
    /// A cancel.
    Cancel,
    /// A modify.
    Modify,
    /// A halt.
    Halt,
    /// A resume.
    Resume,
    /// A status request.
    Status,
    /// A snapshot request.
    Snapshot,
    /// A mass cancel.
    MassCancel,
}

/// `flags` of a mass cancel: an owner is given (in `qty`).
const MASS_OWNER: u8 = 1;
/// `flags` of a mass cancel: buys only.
const MASS_BUY: u8 = 2;
/// `flags` of a mass cancel: sells only.
const MASS_SELL: u8 = 4;

/// Two `u64`s as the 16 bytes of [`IngressEntry::wide`] (`low` first, native order).
#[inline]
const fn wide(low: u64, high: u64) -> [u8; 16] {
    (((high as u128) << 64) | low as u128).to_ne_bytes()
}

/// The two `u64`s of [`IngressEntry::wide`], `low` first.
#[inline]
const fn halves(wide: [u8; 16]) -> (u64, u64) {
    let value = u128::from_ne_bytes(wide);
    (value as u64, (value >> 64) as u64)
}

/// A slot of the ingress ring: callers to the sequencer. One cache line, so neighbouring
/// callers never write the same line: a command is laid out field by field without the
/// instrument of an add (its slot names it; the sequencer puts it back), which leaves
/// room for every `u64` of the long form. Which field holds what depends on the command
/// ([`Shape`]); the 56 bytes of fields, then the slot and four one-byte tags.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct IngressEntry {
    /// Add, cancel, modify: the order id; the other commands: the instrument.
    key: Uuid,
    /// Add, modify: the price; a held add: its token.
    price: Price,
    /// Add, modify: the quantity; mass cancel: the owner.
    qty: Qty,
    /// Add: the owner and the trigger ([`wide`]); cancel, modify: the instrument.
    wide: [u8; 16],
    /// Add: the display quantity.
    display: Qty,
    /// The instrument slot, looked up by the caller, or [`NO_SLOT`].
    pub(crate) slot: u32,
    disposition: Disposition,
    shape: Shape,
    /// Add: the side.
    side: Side,
    /// Add: the order's flags byte; mass cancel: [`MASS_OWNER`], [`MASS_BUY`],
    /// [`MASS_SELL`].
    flags: u8,
}

impl IngressEntry {
    /// An entry for `slot` carrying `envelope`.
    #[inline]
    pub(crate) fn new(slot: u32, envelope: Envelope) -> IngressEntry {
        let (disposition, command) = Disposition::of(envelope);
        let mut entry = IngressEntry {
            key: Uuid::nil(),
            price: 0,
            qty: 0,
            wide: [0; 16],
            display: 0,
            slot,
            disposition,
            shape: Shape::Status,
            side: Side::Buy,
            flags: 0,
        };
        entry.write(slot, disposition, &command);
        entry
    }

    /// Overwrites the entry in place with `command` for `slot`, to apply: the caller's
    /// fast path writes straight into the ring slot, without building the entry first.
    /// Not for halts and resumes (they go through [`IngressEntry::new`], which marks them).
    #[inline]
    pub(crate) fn set_apply(&mut self, slot: u32, command: &Command) {
        debug_assert_eq!(Disposition::to_apply(command), Disposition::Apply);
        self.write(slot, Disposition::Apply, command);
    }

    /// Lays `command` out in the entry's fields (the fields its shape does not read keep
    /// what they held).
    #[inline]
    fn write(&mut self, slot: u32, disposition: Disposition, command: &Command) {
        self.slot = slot;
        self.disposition = disposition;
        match *command {
            Command::Add(order) if slot != NO_SLOT => {
                let (owner, trigger, display, flags) = order.raw_extras();
                self.key = order.order_id;
                self.price = order.price;
                self.qty = order.quantity;
                self.wide = wide(owner, trigger as u64);
                self.display = display;
                self.shape = Shape::Add(order.kind);
                self.side = order.side;
                self.flags = flags;
            }
            Command::Add(order) => self.write_held(order),
            Command::Cancel {
                instrument_id,
                order_id,
            } => {
                self.key = order_id;
                self.wide = *instrument_id.as_bytes();
                self.shape = Shape::Cancel;
            }
            Command::Modify {
                instrument_id,
                order_id,
                price,
                qty,
            } => {
                self.key = order_id;
                self.price = price;
                self.qty = qty;
                self.wide = *instrument_id.as_bytes();
                self.shape = Shape::Modify;
            }
            Command::Halt { instrument_id } => self.write_bare(instrument_id, Shape::Halt),
            Command::Resume { instrument_id } => self.write_bare(instrument_id, Shape::Resume),
            Command::Status { instrument_id } => self.write_bare(instrument_id, Shape::Status),
            Command::Snapshot { instrument_id } => self.write_bare(instrument_id, Shape::Snapshot),
            Command::MassCancel {
                instrument_id,
                owner,
                side,
            } => {
                self.key = instrument_id;
                self.qty = owner.unwrap_or(0);
                self.flags = match side {
                    None => 0,
                    Some(Side::Buy) => MASS_BUY,
                    Some(Side::Sell) => MASS_SELL,
                } | if owner.is_some() { MASS_OWNER } else { 0 };
                self.shape = Shape::MassCancel;
            }
        }
    }

    /// Lays out a command that names only its instrument.
    #[inline]
    fn write_bare(&mut self, instrument_id: Uuid, shape: Shape) {
        self.key = instrument_id;
        self.shape = shape;
    }

    /// Holds aside an add with no slot (its instrument has nowhere to go in the entry).
    #[cold]
    #[inline(never)]
    fn write_held(&mut self, order: Order) {
        self.price = spill::hold(Command::Add(order)) as Price;
        self.shape = Shape::HeldAdd;
    }

    /// What the entry carries, the instrument of an add taken from `instruments` (the
    /// registry's, by slot). An add held aside is taken back: the sequencer reads each
    /// entry this way once.
    #[inline]
    pub(crate) fn envelope(&self, instruments: &[Uuid]) -> Envelope {
        match self.disposition {
            Disposition::Checkpoint => Envelope::Checkpoint,
            Disposition::Stop => Envelope::Stop,
            disposition => disposition.envelope(self.decode(instruments)),
        }
    }

    /// The command the entry's fields lay out (see [`IngressEntry::envelope`]).
    #[inline]
    fn decode(&self, instruments: &[Uuid]) -> Command {
        match self.shape {
            Shape::Add(kind) => {
                let (owner, trigger) = halves(self.wide);
                Command::Add(Order::from_raw(
                    instruments[self.slot as usize],
                    self.key,
                    self.side,
                    kind,
                    self.price,
                    self.qty,
                    (owner, trigger as Price, self.display, self.flags),
                ))
            }
            Shape::Cancel => Command::Cancel {
                instrument_id: Uuid::from_bytes(self.wide),
                order_id: self.key,
            },
            Shape::Modify => Command::Modify {
                instrument_id: Uuid::from_bytes(self.wide),
                order_id: self.key,
                price: self.price,
                qty: self.qty,
            },
            Shape::Halt => Command::Halt {
                instrument_id: self.key,
            },
            Shape::Resume => Command::Resume {
                instrument_id: self.key,
            },
            Shape::Status => Command::Status {
                instrument_id: self.key,
            },
            Shape::Snapshot => Command::Snapshot {
                instrument_id: self.key,
            },
            Shape::MassCancel => Command::MassCancel {
                instrument_id: self.key,
                owner: (self.flags & MASS_OWNER != 0).then_some(self.qty),
                side: match self.flags & (MASS_BUY | MASS_SELL) {
                    MASS_BUY => Some(Side::Buy),
                    MASS_SELL => Some(Side::Sell),
                    _ => None,
                },
            },
            Shape::HeldAdd => self.take_held(),
        }
    }

    /// Takes back the add held aside for this entry.
    #[cold]
    #[inline(never)]
    fn take_held(&self) -> Command {
        let token = self.price as u64;
        spill::take(token).unwrap_or_else(|| {
            // Only the sequencer reads entries, each once: a missing add is a bug here,
            // reported, and the entry turned into a harmless status request.
            tracing::error!(token, "an ingress entry's held add was taken twice");
            Command::Status {
                instrument_id: Uuid::nil(),
            }
        })
    }

    /// A halt or resume to apply, for the sequencer's log: its op and instrument.
    #[inline]
    pub(crate) fn control(&self) -> Option<(Op, uuid::Uuid)> {
        // The disposition alone rules out every other command.
        if self.disposition != Disposition::Control {
            return None;
        }
        match self.shape {
            Shape::Halt => Some((Op::Halt, self.key)),
            Shape::Resume => Some((Op::Resume, self.key)),
            _ => None,
        }
    }

    /// Whether the entry carries a command to apply that is not a halt or resume: one the
    /// sequencer only numbers and routes (its slot is a registered book's).
    #[inline]
    pub(crate) fn is_plain_apply(&self) -> bool {
        self.disposition == Disposition::Apply
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

    /// The command to apply of an ingress entry (not a held add: see
    /// [`IngressEntry::envelope`]), numbered `seq` and stamped `timestamp_ns`, the
    /// instrument of an add taken from `instruments` by slot.
    #[inline]
    pub(crate) fn routed(
        seq: u64,
        timestamp_ns: u64,
        entry: &IngressEntry,
        instruments: &[Uuid],
    ) -> InboundEntry {
        debug_assert!(entry.is_plain_apply() && entry.shape != Shape::HeldAdd);
        InboundEntry {
            seq,
            timestamp_ns,
            packed: Packed {
                command: entry.decode(instruments),
                disposition: entry.disposition,
            },
        }
    }

    /// What the entry carries, with its command borrowed where it lies in the ring: the
    /// book applies it from there, without copying it out first (17 instructions a
    /// command).
    #[inline]
    pub(crate) fn view(&self) -> EntryView<'_> {
        let Packed {
            command,
            disposition,
        } = &self.packed;
        match disposition {
            Disposition::Apply | Disposition::Control => EntryView::Apply(command),
            Disposition::Reject(reason) => EntryView::Reject(command, *reason),
            Disposition::Checkpoint => EntryView::Checkpoint,
            Disposition::Stop => EntryView::Stop,
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
    use crate::types::{Order, OrderKind, Side, StpMode};
    use uuid::Uuid;

    /// Every shape of command, the long form's at the edges of their `u64`s.
    fn commands(instrument_id: Uuid) -> Vec<Command> {
        let order_id = Uuid::from_u128(u128::MAX - 5);
        let order = |kind| Order::new(order_id, instrument_id, Side::Sell, kind, -3, 4);
        let mut commands: Vec<Command> = OrderKind::LONG_FORM
            .into_iter()
            .map(|kind| Command::Add(order(kind)))
            .collect();
        commands.extend([
            Command::Add(
                Order::stop_limit(
                    order_id,
                    instrument_id,
                    Side::Buy,
                    i64::MIN,
                    i64::MAX,
                    u64::MAX,
                )
                .with_display(u64::MAX - 1)
                .with_owner(u64::MAX, Some(StpMode::CancelBoth)),
            ),
            // A trigger set on a kind that does not read it still compares equal.
            Command::Add(order(OrderKind::Limit).with_trigger(-9).with_owner(0, None)),
            Command::Cancel {
                instrument_id,
                order_id,
            },
            Command::Modify {
                instrument_id,
                order_id,
                price: i64::MIN,
                qty: u64::MAX,
            },
            Command::Halt { instrument_id },
            Command::Resume { instrument_id },
            Command::Status { instrument_id },
            Command::Snapshot { instrument_id },
        ]);
        for owner in [None, Some(0), Some(u64::MAX)] {
            for side in [None, Some(Side::Buy), Some(Side::Sell)] {
                commands.push(Command::MassCancel {
                    instrument_id,
                    owner,
                    side,
                });
            }
        }
        commands
    }

    #[test]
    fn entries_keep_their_sizes() {
        // Issue 22: `Order` carries the long form's owner, trigger and display (80 bytes,
        // was 56); the ingress entry lays a command out without an add's instrument, so it
        // stays one cache line with every `u64` of the long form.
        assert_eq!(std::mem::size_of::<Command>(), 80);
        assert_eq!(std::mem::size_of::<IngressEntry>(), 64);
        assert_eq!(std::mem::size_of::<Disposition>(), 1);
        assert_eq!(std::mem::size_of::<Shape>(), 1);
        assert_eq!(std::mem::size_of::<InboundEntry>(), 104);
        assert_eq!(std::mem::size_of::<OrderbookResult>(), 88);
        assert_eq!(std::mem::size_of::<OutboundEntry>(), 104);
    }

    #[test]
    fn every_command_round_trips_through_an_ingress_entry() {
        let instruments = [Uuid::from_u128(11), Uuid::from_u128(u128::MAX)];
        for (slot, &instrument_id) in instruments.iter().enumerate() {
            let slot = slot as u32;
            for command in commands(instrument_id) {
                let entry = IngressEntry::new(slot, Envelope::Apply(command));
                assert_eq!(entry.slot, slot);
                assert!(
                    matches!(entry.envelope(&instruments), Envelope::Apply(c) if c == command),
                    "{command:?}"
                );
                for reason in RejectReason::ALL {
                    let entry = IngressEntry::new(slot, Envelope::Reject(command, reason));
                    assert!(
                        matches!(entry.envelope(&instruments), Envelope::Reject(c, r) if c == command && r == reason),
                        "{command:?} {reason:?}"
                    );
                }
                // Written over an entry that held something else, as a ring slot is.
                let mut reused =
                    IngressEntry::new(1 - slot, Envelope::Apply(commands(instruments[0])[8]));
                if !matches!(command, Command::Halt { .. } | Command::Resume { .. }) {
                    reused.set_apply(slot, &command);
                    assert!(reused.is_plain_apply());
                    assert!(
                        matches!(reused.envelope(&instruments), Envelope::Apply(c) if c == command),
                        "{command:?}"
                    );
                    let inbound = InboundEntry::routed(3, 4, &reused, &instruments);
                    assert!(matches!(inbound.view(), EntryView::Apply(c) if *c == command));
                }
            }
        }
    }

    #[test]
    fn a_command_with_no_slot_keeps_its_instrument() {
        // Refused as `instrument_not_registered`: an add is held aside whole, the other
        // commands carry their instrument in the entry.
        let unknown = Uuid::from_u128(77);
        for command in commands(unknown) {
            let reason = RejectReason::InstrumentNotRegistered;
            let entry = IngressEntry::new(NO_SLOT, Envelope::Reject(command, reason));
            assert!(!entry.is_plain_apply());
            assert!(
                matches!(entry.envelope(&[]), Envelope::Reject(c, r) if c == command && r == reason),
                "{command:?}"
            );
        }
    }

    #[test]
    fn halts_and_resumes_are_found_by_their_disposition() {
        let instrument_id = Uuid::from_u128(4);
        for (command, op) in [
            (Command::Halt { instrument_id }, Op::Halt),
            (Command::Resume { instrument_id }, Op::Resume),
        ] {
            let entry = IngressEntry::new(2, Envelope::Apply(command));
            assert_eq!(entry.control(), Some((op, instrument_id)));
            assert!(!entry.is_plain_apply());
            assert!(matches!(entry.envelope(&[]), Envelope::Apply(c) if c == command));
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
        assert_eq!(
            IngressEntry::new(0, Envelope::Apply(cancel)).control(),
            None
        );
        assert!(matches!(
            IngressEntry::default().envelope(&[]),
            Envelope::Stop
        ));
        let checkpoint = IngressEntry::new(NO_SLOT, Envelope::Checkpoint);
        assert!(matches!(checkpoint.envelope(&[]), Envelope::Checkpoint));
    }

    #[test]
    fn an_inbound_entry_is_viewed_as_what_it_carries() {
        let command = Command::Cancel {
            instrument_id: Uuid::from_u128(5),
            order_id: Uuid::from_u128(6),
        };
        let apply = InboundEntry::new(9, 10, Envelope::Apply(command));
        assert!(matches!(apply.view(), EntryView::Apply(c) if *c == command));
        assert_eq!((apply.seq, apply.timestamp_ns), (9, 10));
        let reject = InboundEntry::new(
            9,
            10,
            Envelope::Reject(command, RejectReason::OrderbookHalted),
        );
        assert!(
            matches!(reject.view(), EntryView::Reject(c, RejectReason::OrderbookHalted) if *c == command)
        );
        assert!(matches!(
            InboundEntry::new(1, 2, Envelope::Checkpoint).view(),
            EntryView::Checkpoint
        ));
        assert!(matches!(
            InboundEntry::new(1, 2, Envelope::Stop).view(),
            EntryView::Stop
        ));
    }
}
