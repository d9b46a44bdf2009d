//! The JSON Lines subscriber: writes the event stream.

use std::error::Error;
use std::io::{self, Write};

use super::{PublishedEvent, Subscriber};
use crate::flow::JsonlWriter;

/// Writes every event as one JSON line, numbered by the event manager.
///
/// A write error stops further writes; [`Subscriber::finish`] (and so `stop()`) reports it.
#[derive(Debug)]
pub struct JsonlSubscriber<W: Write + Send> {
    writer: JsonlWriter<W>,
    error: Option<io::Error>,
}

impl<W: Write + Send> JsonlSubscriber<W> {
    /// A subscriber writing into `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> JsonlSubscriber<W> {
        JsonlSubscriber {
            writer: JsonlWriter::new(out),
            error: None,
        }
    }

    /// This subscriber, writing the long form's `status` and `snapshot` fields when
    /// `long_form` (see [`JsonlWriter::long_form`]).
    #[must_use]
    pub fn long_form(mut self, long_form: bool) -> JsonlSubscriber<W> {
        self.writer = self.writer.long_form(long_form);
        self
    }
}

impl<W: Write + Send> Subscriber for JsonlSubscriber<W> {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        if self.error.is_none()
            && let Err(e) = self.writer.write_event(event.seq, event.result)
        {
            self.error = Some(e);
        }
    }

    fn finish(&mut self) -> Result<(), Box<dyn Error + Send + Sync>> {
        if let Some(e) = self.error.take() {
            return Err(Box::new(e));
        }
        self.writer.flush().map_err(|e| Box::new(e) as _)
    }

    fn name(&self) -> &str {
        "jsonl"
    }
}
