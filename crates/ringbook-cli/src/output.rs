//! Where a command writes: a file or stdout, buffered; a closed pipe ends the run quietly.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::Failure;

/// Opens `path` for writing (`None` or `-`: stdout), buffered.
pub(crate) fn open(path: Option<&Path>) -> Result<Box<dyn Write + Send>, Failure> {
    match path {
        None => Ok(Box::new(BufWriter::with_capacity(1 << 16, io::stdout()))),
        Some(p) if p.as_os_str() == "-" => {
            Ok(Box::new(BufWriter::with_capacity(1 << 16, io::stdout())))
        }
        Some(p) => File::create(p)
            .map(|f| Box::new(BufWriter::with_capacity(1 << 16, f)) as Box<dyn Write + Send>)
            .map_err(|e| Failure::other(format!("cannot create {}: {e}", p.display()))),
    }
}

/// Turns a write error into a failure; a reader that closed the pipe is not one.
pub(crate) fn write_failure(what: &str, error: io::Error) -> Result<(), Failure> {
    if error.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Failure::other(format!("cannot write {what}: {error}")))
    }
}
