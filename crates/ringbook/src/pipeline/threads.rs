//! The plumbing every pipeline thread shares: what it reports when it ends, and spawning
//! (pinned to a core or not) and joining the threads.

use std::thread::{self, JoinHandle};
use std::time::Instant;

use uuid::Uuid;

use super::affinity;
use super::error::PipelineError;
use crate::book::OrderBook;

/// A thread's failure, as it reports it when joined.
#[derive(Debug)]
pub(crate) struct ThreadFailure {
    pub(crate) instruments: Vec<Uuid>,
    pub(crate) lost_commands: u64,
    pub(crate) message: String,
}

/// What a pipeline thread returns when it ends: its failures, and (a book consumer) the
/// books it owned, by slot.
#[derive(Default)]
pub(crate) struct ThreadReport {
    pub(crate) failures: Vec<ThreadFailure>,
    pub(crate) books: Vec<(u32, OrderBook)>,
}

/// The running threads of a pipeline, by name, in the order they were spawned.
#[derive(Default)]
pub(crate) struct Threads {
    threads: Vec<(String, JoinHandle<ThreadReport>)>,
}

impl Threads {
    /// Spawns `body` on a thread named `name`, pinned to `core` (already validated).
    ///
    /// # Errors
    ///
    /// [`PipelineError::ThreadSpawn`] naming the thread.
    pub(crate) fn spawn(
        &mut self,
        name: String,
        core: Option<usize>,
        body: impl FnOnce() -> ThreadReport + Send + 'static,
    ) -> Result<(), PipelineError> {
        let handle = thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                if let Some(core) = core {
                    affinity::pin_current(core);
                }
                body()
            })
            .map_err(|source| PipelineError::ThreadSpawn {
                thread: name.clone(),
                source,
            })?;
        self.threads.push((name, handle));
        Ok(())
    }

    /// Waits for every thread to end; gathers their failures, in thread order, and the
    /// books, in slot order (a book whose thread panicked is missing).
    pub(crate) fn join(self) -> (Vec<PipelineError>, Vec<OrderBook>) {
        let mut errors = Vec::new();
        let mut books = Vec::new();
        for (thread, handle) in self.threads {
            match handle.join() {
                Ok(report) => {
                    errors.extend(report.failures.into_iter().map(|failure| {
                        PipelineError::ThreadFailed {
                            thread: thread.clone(),
                            instruments: failure.instruments,
                            lost_commands: failure.lost_commands,
                            message: failure.message,
                        }
                    }));
                    books.extend(report.books);
                }
                Err(payload) => errors.push(PipelineError::ThreadFailed {
                    thread,
                    instruments: Vec::new(),
                    lost_commands: 0,
                    message: panic_message(payload.as_ref()),
                }),
            }
        }
        books.sort_by_key(|(slot, _)| *slot);
        (errors, books.into_iter().map(|(_, book)| book).collect())
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked with a non-string payload".to_string()
    }
}

/// Nanoseconds since `epoch`, saturating.
#[inline]
pub(crate) fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
