//! What travels in the rings.

use crate::command::Command;
use crate::result::{OrderbookResult, RejectReason};

/// The slot number of an instrument that is not registered.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// What a caller hands the pipeline.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Envelope {
    /// A command for its book.
    Apply(Command),
    /// A command the caller refused; it still travels in sequence so its `rejected` event
    /// sits where the book would have put it.
    Reject(Command, RejectReason),
    /// Shut down once everything before this has been handled.
    Stop,
}

/// A slot of the ingress ring: callers to the sequencer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IngressEntry {
    /// The instrument slot, looked up by the caller, or [`NO_SLOT`].
    pub(crate) slot: u32,
    /// What to do.
    pub(crate) envelope: Envelope,
}

impl Default for IngressEntry {
    fn default() -> IngressEntry {
        IngressEntry {
            slot: NO_SLOT,
            envelope: Envelope::Stop,
        }
    }
}

/// A slot of a book's inbound ring: the sequencer to the book.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InboundEntry {
    /// The global sequence number.
    pub(crate) seq: u64,
    /// Nanoseconds since the manager started, stamped by the sequencer.
    pub(crate) timestamp_ns: u64,
    /// What to do.
    pub(crate) envelope: Envelope,
}

impl Default for InboundEntry {
    fn default() -> InboundEntry {
        InboundEntry {
            seq: 0,
            timestamp_ns: 0,
            envelope: Envelope::Stop,
        }
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

/// A slot of the outbound ring: books (and the sequencer) to the event manager.
#[derive(Debug, Default)]
pub(crate) struct OutboundEntry {
    /// The sequence number of the command that caused it.
    pub(crate) seq: u64,
    /// The command's sequencer timestamp.
    pub(crate) timestamp_ns: u64,
    /// The payload.
    pub(crate) message: OutMessage,
}
