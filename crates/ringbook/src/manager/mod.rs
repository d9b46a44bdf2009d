//! The order-book manager: the service trait users of the original module know, and its
//! implementation over the ring pipeline.

mod busy;
mod caller;
mod config;
mod error;
#[cfg(test)]
mod failure_tests;
mod halt;
mod handles;
mod service;

use uuid::Uuid;

pub use config::{ConfigError, JournalOptions, ManagerConfig};
pub use error::{ManagerState, OrderbookManagerError, SendFailure};
pub use service::{OrderbookManagerBuilder, OrderbookManagerServiceImpl, RecoveryInfo};

use crate::command::Command;
use crate::types::{Order, Price, Qty, Side};

/// A thread-safe order-book manager: routes commands to each instrument's book, halts and
/// resumes books, and publishes status and snapshots. Every command has an outcome in the
/// event stream; the `Result`s only say whether the caller's call was taken.
///
/// An implementation provides [`submit`](OrderbookManagerService::submit), `start` and
/// `stop`; the named operations users of the original module know are built on `submit`.
pub trait OrderbookManagerService: Send + Sync {
    /// Submits any command (the general form of the operations below).
    ///
    /// # Errors
    ///
    /// As the operation for the command's op.
    fn submit(&self, command: Command) -> Result<(), OrderbookManagerError>;

    /// Submits `commands` in order, as [`submit`](OrderbookManagerService::submit) for
    /// each: the same checks, rejects, events and errors. `refused` is called, in order,
    /// with the index and the error of each command `submit` would have refused. An
    /// implementation may take the batch in fewer steps (the pipeline claims ring slots
    /// for runs of commands at once); this default loops.
    fn submit_batch(
        &self,
        commands: &[Command],
        refused: &mut dyn FnMut(usize, OrderbookManagerError),
    ) {
        for (index, &command) in commands.iter().enumerate() {
            if let Err(error) = self.submit(command) {
                refused(index, error);
            }
        }
    }

    /// Sends a new order to its instrument's book.
    ///
    /// # Errors
    ///
    /// [`OrderbookManagerError::InstrumentNotRegistered`], [`OrderbookManagerError::OrderbookHalted`]
    /// or [`OrderbookManagerError::OrderbookError`] (quantity zero) when the caller's fast
    /// check refuses it (a `rejected` event is published as well);
    /// [`OrderbookManagerError::Timeout`] when the ingress ring stays full;
    /// [`OrderbookManagerError::NotRunning`] before `start` or after `stop`.
    fn add_order(&self, order: Order) -> Result<(), OrderbookManagerError> {
        self.submit(Command::Add(order))
    }

    /// Cancels a resting order. Works on halted books.
    ///
    /// # Errors
    ///
    /// As [`OrderbookManagerService::add_order`], less the halted and quantity checks.
    fn cancel_order(
        &self,
        instrument_id: &Uuid,
        order_id: Uuid,
    ) -> Result<(), OrderbookManagerError> {
        self.submit(Command::Cancel {
            instrument_id: *instrument_id,
            order_id,
        })
    }

    /// Changes a resting order's price and open quantity (see the flow format for the
    /// priority rule).
    ///
    /// # Errors
    ///
    /// As [`OrderbookManagerService::add_order`].
    fn modify_order(
        &self,
        instrument_id: &Uuid,
        order_id: Uuid,
        price: Price,
        qty: Qty,
    ) -> Result<(), OrderbookManagerError> {
        self.submit(Command::Modify {
            instrument_id: *instrument_id,
            order_id,
            price,
            qty,
        })
    }

    /// Cancels every resting and parked order of `owner` (every order when `None`) on
    /// `side` (both when `None`) in the instrument's book, in the order their adds were
    /// accepted: one `cancelled` each (`"reason": "mass_cancel"`), then one
    /// `mass_cancelled` with the count. Works on halted books.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringbook::{Order, OrderbookManagerService, OrderbookManagerServiceImpl, Side};
    /// use uuid::Uuid;
    ///
    /// let instrument = Uuid::from_u128(1);
    /// let manager = OrderbookManagerServiceImpl::new([instrument]);
    /// manager.start().unwrap();
    /// let bid = Order::limit(Uuid::from_u128(10), instrument, Side::Buy, 99, 5).with_owner(7, None);
    /// manager.add_order(bid).unwrap();
    /// // Every order of account 7 on the buy side.
    /// manager.mass_cancel(&instrument, Some(7), Some(Side::Buy)).unwrap();
    /// manager.stop().unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// As [`OrderbookManagerService::cancel_order`].
    fn mass_cancel(
        &self,
        instrument_id: &Uuid,
        owner: Option<u64>,
        side: Option<Side>,
    ) -> Result<(), OrderbookManagerError> {
        self.submit(Command::MassCancel {
            instrument_id: *instrument_id,
            owner,
            side,
        })
    }

    /// Halts these books: a halt command is sequenced for each book and its halt bit set
    /// (callers' adds are refused from the return on), as one step, so that concurrent
    /// halts and resumes of a book leave the bit agreeing with the book. An unregistered
    /// instrument gets a `rejected` event. Waits for ring space as long as it takes: a
    /// halt is never dropped while the manager runs. Called before `start`, the halt is
    /// published first when it starts; after `stop` there is no stream to publish to, so
    /// it is logged and ignored, and the halt bit is left as it is.
    fn halt_orderbooks(&self, instruments: Vec<Uuid>) {
        for instrument_id in instruments {
            // Halts never fail for the caller: unregistered ones are rejected in the stream.
            let _ = self.submit(Command::Halt { instrument_id });
        }
    }

    /// Resumes these books: the reverse of [`OrderbookManagerService::halt_orderbooks`].
    fn resume_orderbooks(&self, instruments: Vec<Uuid>) {
        for instrument_id in instruments {
            let _ = self.submit(Command::Resume { instrument_id });
        }
    }

    /// Asks the book to publish a `status` event.
    ///
    /// # Errors
    ///
    /// As [`OrderbookManagerService::cancel_order`].
    fn publish_orderbook_status(&self, instrument_id: Uuid) -> Result<(), OrderbookManagerError> {
        self.submit(Command::Status { instrument_id })
    }

    /// Asks the book to publish a `snapshot` event.
    ///
    /// # Errors
    ///
    /// As [`OrderbookManagerService::cancel_order`].
    fn publish_orderbook_snapshot(&self, instrument_id: Uuid) -> Result<(), OrderbookManagerError> {
        self.submit(Command::Snapshot { instrument_id })
    }

    /// Starts the pipeline's threads.
    ///
    /// # Errors
    ///
    /// [`OrderbookManagerError::AlreadyStarted`], or a thread that cannot be spawned.
    fn start(&self) -> Result<(), OrderbookManagerError>;

    /// Stops intake, drains every ring, publishes the results of every command taken
    /// before, joins every thread, and reports a thread or subscriber that failed.
    ///
    /// # Errors
    ///
    /// [`OrderbookManagerError::CloseOrderbookError`] for the first failure (all are
    /// logged).
    fn stop(&self) -> Result<(), OrderbookManagerError>;
}
