//! The journal directory's lock: one writer at a time.
//!
//! A second writer appending to the same segments, or a recovery truncating the torn tail
//! of a segment another process is still writing, would corrupt the journal. Whoever
//! writes or repairs a journal directory first takes an exclusive lock on its `LOCK` file.
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows), so it
//! goes away with its process, even one killed mid-write: nothing stale is left to clean.
//! Readers that never modify a file (`journal dump`, [`JournalReader::open_read_only`])
//! take no lock.
//!
//! [`JournalReader::open_read_only`]: super::JournalReader::open_read_only

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use super::error::JournalError;

/// The lock file's name in a journal directory.
pub const LOCK_FILE: &str = "LOCK";

/// An exclusive lock on a journal directory, held until dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    /// Held open: closing it releases the lock.
    file: File,
    /// The lock file.
    path: PathBuf,
    /// Whether this lock created the lock file (the directory had none).
    created: bool,
}

impl DirLock {
    /// Locks `dir` (which must exist) for this process.
    ///
    /// # Errors
    ///
    /// [`JournalError::Locked`] if another writer holds it; [`JournalError::Io`] if the
    /// lock file cannot be created or locked.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, JournalError> {
        let path = dir.join(LOCK_FILE);
        let (file, created) = match OpenOptions::new().create_new(true).write(true).open(&path) {
            Ok(file) => (file, true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(JournalError::io("open", &path))?;
                (file, false)
            }
            Err(e) => return Err(JournalError::io("create", &path)(e)),
        };
        match file.try_lock() {
            Ok(()) => Ok(DirLock {
                file,
                path,
                created,
            }),
            Err(TryLockError::WouldBlock) => Err(JournalError::Locked {
                dir: PathBuf::from(dir),
            }),
            Err(TryLockError::Error(source)) => Err(JournalError::io("lock", &path)(source)),
        }
    }

    /// Releases the lock and removes the lock file if this lock created it: for a
    /// directory left without a journal in it (a writer that wrote nothing), so that
    /// nothing is left behind. (Another process that opened the file in the meantime
    /// finds it locked, and fails as it would have.)
    pub(crate) fn release_and_remove_if_created(self) {
        if self.created
            && let Err(e) = std::fs::remove_file(&self.path)
        {
            tracing::warn!(error = %e, file = %self.path.display(), "journal: removing the lock file failed");
        }
        drop(self.file);
    }
}
