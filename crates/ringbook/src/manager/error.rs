//! The manager's errors: each names the instrument, order or thread it concerns.

use std::time::Duration;

use uuid::Uuid;

use super::config::ConfigError;
use crate::command::Command;
use crate::pipeline::{PipelineError, instruments_note};
use crate::result::RejectReason;
use crate::types::Order;

/// Why the manager refused or failed an operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrderbookManagerError {
    /// The instrument has no book. A `rejected` event was published too.
    #[error("instrument {instrument_id} is not registered (order {order_id:?})")]
    InstrumentNotRegistered {
        /// The instrument named.
        instrument_id: Uuid,
        /// The order, if the op had one.
        order_id: Option<Uuid>,
    },
    /// The book is halted: adds and modifies are refused. A `rejected` event was
    /// published too.
    #[error("orderbook {instrument_id} is halted (order {order_id})")]
    OrderbookHalted {
        /// The halted instrument.
        instrument_id: Uuid,
        /// The refused order.
        order_id: Uuid,
    },
    /// The book would refuse the op for `reason` (a quantity of zero, say); the caller's
    /// check caught it first. A `rejected` event was published too.
    #[error("orderbook {instrument_id} refuses order {order_id:?}: {reason}")]
    OrderbookError {
        /// The instrument.
        instrument_id: Uuid,
        /// The order, if the op had one.
        order_id: Option<Uuid>,
        /// The reject reason.
        reason: RejectReason,
    },
    /// The pipeline no longer takes commands (it is stopping or stopped, or the book's
    /// thread died).
    #[error("cannot send to orderbook {instrument_id}: {reason}")]
    ChannelSendError {
        /// The instrument.
        instrument_id: Uuid,
        /// Why.
        reason: SendFailure,
    },
    /// The ingress ring stayed full for the whole publish timeout: the pipeline is
    /// saturated or a subscriber is stalled. The command was not accepted.
    #[error(
        "timed out after {waited:?} publishing to orderbook {instrument_id}: the ingress ring is full"
    )]
    Timeout {
        /// The instrument.
        instrument_id: Uuid,
        /// How long the caller waited.
        waited: Duration,
    },
    /// A pipeline thread failed: it panicked (a book thread names its instruments) or a
    /// subscriber failed to finish. Reported by `stop()`.
    #[error("{thread} failed{}: {message}", instruments_note(.instruments, *.lost_commands))]
    CloseOrderbookError {
        /// The thread's name (`rb-book-0`, `rb-events`, ...).
        thread: String,
        /// The instruments whose books that thread owned.
        instruments: Vec<Uuid>,
        /// Commands that reached those books after the failure and got no result.
        lost_commands: u64,
        /// The panic message or error.
        message: String,
    },
    /// The operation needs a running manager; it is not started yet, or stopped.
    #[error("the orderbook manager is {state} (instrument {instrument_id:?})")]
    NotRunning {
        /// The instrument the refused call named, if any.
        instrument_id: Option<Uuid>,
        /// Which of not started or stopped.
        state: ManagerState,
    },
    /// `start()` was called on a manager that was already started.
    #[error("the orderbook manager was already started")]
    AlreadyStarted,
    /// The configuration cannot work: a value out of its bound (the field, the value and
    /// the bound), a core this process may not use, or an operation the configuration
    /// does not provide for (a snapshot without a journal).
    #[error("invalid orderbook manager configuration: {0}")]
    Config(#[from] ConfigError),
    /// The journal could not be recovered or opened (a corrupt record, a missing segment,
    /// an unusable snapshot, an I/O error): the manager refuses to start on it.
    #[error("journal {}: {source}", dir.display())]
    Journal {
        /// The journal directory.
        dir: std::path::PathBuf,
        /// What is wrong, with the file and offset concerned.
        #[source]
        source: crate::journal::JournalError,
    },
    /// A pipeline thread could not be spawned.
    #[error("cannot spawn thread {thread}: {source}")]
    ThreadSpawn {
        /// The thread's name.
        thread: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl OrderbookManagerError {
    /// The error a caller gets when its own checks refuse `command` with `reason`
    /// (the `rejected` event goes into the stream too): [`Self::OrderbookHalted`] for an
    /// add or modify on a halted book, [`Self::OrderbookError`] otherwise. Every engine
    /// implementing the service (the pipeline, and the baseline it is measured against)
    /// answers a refusal the same way through this.
    #[must_use]
    pub fn refused(command: &Command, reason: RejectReason) -> OrderbookManagerError {
        let instrument_id = command.instrument_id();
        match (reason, *command) {
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
        }
    }

    /// Whether the caller's own checks refused the command (an unregistered instrument, a
    /// halted book, an op the book would refuse): its `rejected` event is in the stream
    /// too, so for a caller replaying a flow it is an outcome like any other, not a
    /// failure of the engine.
    #[must_use]
    pub fn is_rejected_command(&self) -> bool {
        matches!(
            self,
            OrderbookManagerError::InstrumentNotRegistered { .. }
                | OrderbookManagerError::OrderbookHalted { .. }
                | OrderbookManagerError::OrderbookError { .. }
        )
    }
}

impl From<PipelineError> for OrderbookManagerError {
    fn from(error: PipelineError) -> OrderbookManagerError {
        match error {
            PipelineError::ThreadSpawn { thread, source } => {
                OrderbookManagerError::ThreadSpawn { thread, source }
            }
            PipelineError::ThreadFailed {
                thread,
                instruments,
                lost_commands,
                message,
            } => OrderbookManagerError::CloseOrderbookError {
                thread,
                instruments,
                lost_commands,
                message,
            },
            PipelineError::CoreNotAvailable { core, allowed } => {
                OrderbookManagerError::Config(ConfigError::CoreNotAvailable { core, allowed })
            }
        }
    }
}

/// Where a manager that refused an operation with [`OrderbookManagerError::NotRunning`]
/// is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ManagerState {
    /// Built but not started yet.
    NotStarted,
    /// Stopping or stopped: it takes no more commands.
    Stopped,
    /// Not running, without saying which of the two (a manager that does not tell them
    /// apart).
    NotRunning,
}

impl std::fmt::Display for ManagerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ManagerState::NotStarted => "not started",
            ManagerState::Stopped => "stopped",
            ManagerState::NotRunning => "not running",
        })
    }
}

/// Why the pipeline no longer takes a book's commands
/// ([`OrderbookManagerError::ChannelSendError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SendFailure {
    /// The book's thread panicked: the book is closed.
    #[error("the book panicked and is closed")]
    BookFailed,
    /// The journal failed: the engine takes no more commands.
    #[error("the journal failed: the engine takes no more commands")]
    JournalFailed,
    /// The book's thread is gone (its channel is closed).
    #[error("book thread gone")]
    BookThreadGone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_callers_own_refusals_are_rejected_commands() {
        let instrument_id = Uuid::from_u128(1);
        let rejected = [
            OrderbookManagerError::InstrumentNotRegistered {
                instrument_id,
                order_id: None,
            },
            OrderbookManagerError::OrderbookHalted {
                instrument_id,
                order_id: Uuid::from_u128(2),
            },
            OrderbookManagerError::OrderbookError {
                instrument_id,
                order_id: None,
                reason: RejectReason::InvalidQuantity,
            },
        ];
        for error in &rejected {
            assert!(error.is_rejected_command(), "{error}");
        }
        let failures = [
            OrderbookManagerError::ChannelSendError {
                instrument_id,
                reason: SendFailure::BookFailed,
            },
            OrderbookManagerError::Timeout {
                instrument_id,
                waited: Duration::from_millis(5),
            },
            OrderbookManagerError::CloseOrderbookError {
                thread: "rb-book-0".into(),
                instruments: vec![instrument_id],
                lost_commands: 3,
                message: "panicked".into(),
            },
            OrderbookManagerError::NotRunning {
                instrument_id: Some(instrument_id),
                state: ManagerState::Stopped,
            },
            OrderbookManagerError::AlreadyStarted,
            OrderbookManagerError::Config(ConfigError::SnapshotsNeedJournal),
            OrderbookManagerError::Config(ConfigError::NoCores),
        ];
        for error in &failures {
            assert!(!error.is_rejected_command(), "{error}");
        }
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    #[test]
    fn pipeline_errors_map_to_the_managers_with_every_fact() {
        let failed = OrderbookManagerError::from(PipelineError::ThreadFailed {
            thread: "rb-book-1".into(),
            instruments: vec![Uuid::from_u128(9)],
            lost_commands: 4,
            message: "boom".into(),
        });
        assert!(
            matches!(&failed, OrderbookManagerError::CloseOrderbookError { thread, instruments, lost_commands: 4, message }
                if thread == "rb-book-1" && instruments == &[Uuid::from_u128(9)] && message == "boom"),
            "{failed:?}"
        );
        assert_eq!(
            failed.to_string(),
            format!(
                "rb-book-1 failed (orderbook {}, 4 commands lost): boom",
                Uuid::from_u128(9)
            )
        );
        let core = OrderbookManagerError::from(PipelineError::CoreNotAvailable {
            core: 7,
            allowed: vec![0, 1],
        });
        assert!(matches!(
            &core,
            OrderbookManagerError::Config(ConfigError::CoreNotAvailable { core: 7, allowed }) if allowed == &[0, 1]
        ));
        assert_eq!(
            core.to_string(),
            "invalid orderbook manager configuration: core 7 is not available to this process (allowed: [0, 1])"
        );
    }

    #[test]
    fn states_and_send_failures_read_as_before() {
        let not_running = OrderbookManagerError::NotRunning {
            instrument_id: None,
            state: ManagerState::NotStarted,
        };
        assert_eq!(
            not_running.to_string(),
            "the orderbook manager is not started (instrument None)"
        );
        let send = OrderbookManagerError::ChannelSendError {
            instrument_id: Uuid::nil(),
            reason: SendFailure::JournalFailed,
        };
        assert_eq!(
            send.to_string(),
            format!(
                "cannot send to orderbook {}: the journal failed: the engine takes no more commands",
                Uuid::nil()
            )
        );
    }
}
