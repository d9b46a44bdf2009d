//! The pipeline's own errors: a thread that cannot be spawned or that failed, and a core
//! it may not pin to. The manager maps them to its public errors.

use uuid::Uuid;

/// Why the pipeline could not start, or what a thread reported when it was joined.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PipelineError {
    /// A pipeline thread could not be spawned.
    #[error("cannot spawn thread {thread}: {source}")]
    ThreadSpawn {
        /// The thread's name.
        thread: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A pipeline thread failed: it panicked, or a book or subscriber it ran did.
    #[error("{thread} failed{}: {message}", instruments_note(.instruments, *.lost_commands))]
    ThreadFailed {
        /// The thread's name (`rb-book-0`, `rb-events`, ...).
        thread: String,
        /// The instruments whose books that thread owned.
        instruments: Vec<Uuid>,
        /// Commands that reached those books after the failure and got no result.
        lost_commands: u64,
        /// The panic message or error.
        message: String,
    },
    /// A core asked for is not one this process may run on.
    #[error("core {core} is not available to this process (allowed: {allowed:?})")]
    CoreNotAvailable {
        /// The core asked for.
        core: usize,
        /// The cores this process may run on.
        allowed: Vec<usize>,
    },
}

/// The books a failed thread owned and the commands they lost, for its message: empty
/// when it owned none.
pub(crate) fn instruments_note(instruments: &[Uuid], lost: u64) -> String {
    match instruments.len() {
        0 => String::new(),
        1 => format!(" (orderbook {}, {lost} commands lost)", instruments[0]),
        n => format!(
            " (orderbooks {}, ... {n} in all, {lost} commands lost)",
            instruments[0]
        ),
    }
}
