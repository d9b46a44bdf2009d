//! The commands a book applies: the ops of the flow format.

use std::fmt;

use uuid::Uuid;

use crate::types::{Order, Price, Qty, Side};

/// The kind of a command, as written in the `op` column of a flow file and the `op` field
/// of a `rejected` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A new order.
    Add,
    /// Remove a resting order.
    Cancel,
    /// Change a resting order's price and open quantity.
    Modify,
    /// Stop accepting adds and modifies.
    Halt,
    /// Accept adds and modifies again.
    Resume,
    /// Publish the top of book and counts.
    Status,
    /// Publish every level and order.
    Snapshot,
    /// Remove every resting and parked order of an owner (or all), on one side or both
    /// (long form).
    MassCancel,
}

impl Op {
    /// The ops of the seven-column flow format, in the order it lists them.
    pub const ALL: [Op; 7] = [
        Op::Add,
        Op::Cancel,
        Op::Modify,
        Op::Halt,
        Op::Resume,
        Op::Status,
        Op::Snapshot,
    ];

    /// Every op, the long form's `mass_cancel` included ([`Op::ALL`] first).
    pub const LONG_FORM: [Op; 8] = [
        Op::Add,
        Op::Cancel,
        Op::Modify,
        Op::Halt,
        Op::Resume,
        Op::Status,
        Op::Snapshot,
        Op::MassCancel,
    ];

    /// The word for this op in flow files and event streams.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Cancel => "cancel",
            Op::Modify => "modify",
            Op::Halt => "halt",
            Op::Resume => "resume",
            Op::Status => "status",
            Op::Snapshot => "snapshot",
            Op::MassCancel => "mass_cancel",
        }
    }

    /// Parses an op word, `mass_cancel` included (a seven-column flow file refuses it:
    /// see the flow reader).
    #[must_use]
    pub fn parse(word: &str) -> Option<Op> {
        Op::LONG_FORM.into_iter().find(|op| op.as_str() == word)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One command for one instrument's book.
///
/// Every command names its instrument, so the same value is routed by the manager and
/// applied by the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Add a new order.
    Add(Order),
    /// Cancel a resting order.
    Cancel {
        /// The book.
        instrument_id: Uuid,
        /// The resting order to remove.
        order_id: Uuid,
    },
    /// Modify a resting order: `qty` is its new open quantity.
    Modify {
        /// The book.
        instrument_id: Uuid,
        /// The resting order to change.
        order_id: Uuid,
        /// The new limit price.
        price: Price,
        /// The new open quantity.
        qty: Qty,
    },
    /// Halt the book.
    Halt {
        /// The book.
        instrument_id: Uuid,
    },
    /// Resume the book.
    Resume {
        /// The book.
        instrument_id: Uuid,
    },
    /// Publish a `status` event.
    Status {
        /// The book.
        instrument_id: Uuid,
    },
    /// Publish a `snapshot` event.
    Snapshot {
        /// The book.
        instrument_id: Uuid,
    },
    /// Cancel every resting and parked order of `owner` (every order when `None`) on
    /// `side` (both when `None`), in acceptance order; works on a halted book too.
    MassCancel {
        /// The book.
        instrument_id: Uuid,
        /// The owning account, or `None` for every order.
        owner: Option<u64>,
        /// One side, or `None` for both.
        side: Option<Side>,
    },
}

impl Command {
    /// The instrument whose book this command is for.
    #[inline]
    #[must_use]
    pub const fn instrument_id(&self) -> Uuid {
        match self {
            Command::Add(order) => order.instrument_id,
            Command::Cancel { instrument_id, .. }
            | Command::Modify { instrument_id, .. }
            | Command::Halt { instrument_id }
            | Command::Resume { instrument_id }
            | Command::Status { instrument_id }
            | Command::Snapshot { instrument_id }
            | Command::MassCancel { instrument_id, .. } => *instrument_id,
        }
    }

    /// The op of this command.
    #[inline]
    #[must_use]
    pub const fn op(&self) -> Op {
        match self {
            Command::Add(_) => Op::Add,
            Command::Cancel { .. } => Op::Cancel,
            Command::Modify { .. } => Op::Modify,
            Command::Halt { .. } => Op::Halt,
            Command::Resume { .. } => Op::Resume,
            Command::Status { .. } => Op::Status,
            Command::Snapshot { .. } => Op::Snapshot,
            Command::MassCancel { .. } => Op::MassCancel,
        }
    }

    /// The order id the command concerns, if its op has one.
    #[inline]
    #[must_use]
    pub const fn order_id(&self) -> Option<Uuid> {
        match self {
            Command::Add(order) => Some(order.order_id),
            Command::Cancel { order_id, .. } | Command::Modify { order_id, .. } => Some(*order_id),
            _ => None,
        }
    }
}
