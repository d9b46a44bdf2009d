//! The direct engine: every book driven on the caller's thread, strictly in input order.
//!
//! It has no threads and no rings, so its output is the plain definition of what a flow
//! produces: the pipeline must give each instrument exactly the events this engine gives.

use uuid::Uuid;

use crate::book::{OrderBook, state_hash_of};
use crate::command::Command;
use crate::registry::InstrumentRegistry;
use crate::result::{EventSink, OrderbookResult, RejectReason};

/// Many books, one thread, input order.
///
/// # Examples
///
/// ```
/// use ringbook::{Command, DirectEngine, OrderbookResult, RejectReason};
/// use uuid::Uuid;
///
/// let mut engine = DirectEngine::new([Uuid::from_u128(1)]);
/// let mut events = Vec::new();
/// engine.apply(&Command::Halt { instrument_id: Uuid::from_u128(2) }, &mut |e| events.push(e));
/// assert!(matches!(
///     events[0],
///     OrderbookResult::Rejected { reason: RejectReason::InstrumentNotRegistered, .. }
/// ));
/// ```
#[derive(Clone, Debug, Default)]
pub struct DirectEngine {
    registry: InstrumentRegistry,
    books: Vec<OrderBook>,
    auto_register: bool,
}

impl DirectEngine {
    /// An engine with exactly these instruments; ops on others are rejected with
    /// `instrument_not_registered`.
    pub fn new(instruments: impl IntoIterator<Item = Uuid>) -> DirectEngine {
        let registry = InstrumentRegistry::new(instruments);
        let books = registry
            .instruments()
            .iter()
            .map(|&id| OrderBook::new(id))
            .collect();
        DirectEngine {
            registry,
            books,
            auto_register: false,
        }
    }

    /// An engine that registers every instrument the first time a command names it: the
    /// flow format's default, where every instrument named in the file is registered.
    #[must_use]
    pub fn auto_registering() -> DirectEngine {
        DirectEngine {
            auto_register: true,
            ..DirectEngine::default()
        }
    }

    /// Applies `command` to its instrument's book, or rejects it if the instrument is not
    /// registered.
    pub fn apply<S: EventSink + ?Sized>(&mut self, command: &Command, sink: &mut S) {
        let instrument = command.instrument_id();
        let slot = match self.registry.slot(&instrument) {
            Some(slot) => slot,
            None if self.auto_register => {
                self.books.push(OrderBook::new(instrument));
                self.registry.register(instrument)
            }
            None => {
                return sink.publish(OrderbookResult::rejected(
                    command,
                    RejectReason::InstrumentNotRegistered,
                ));
            }
        };
        self.books[slot as usize].apply(command, sink);
    }

    /// The book of `instrument`, if registered.
    #[must_use]
    pub fn book(&self, instrument: &Uuid) -> Option<&OrderBook> {
        self.registry
            .slot(instrument)
            .map(|slot| &self.books[slot as usize])
    }

    /// The registered instruments.
    #[must_use]
    pub fn registry(&self) -> &InstrumentRegistry {
        &self.registry
    }

    /// Every book, in slot order.
    #[must_use]
    pub fn books(&self) -> &[OrderBook] {
        &self.books
    }

    /// The state hash of every book ([`state_hash_of`]).
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        state_hash_of(&self.books.iter().collect::<Vec<_>>())
    }
}
