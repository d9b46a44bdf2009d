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
use std::time::{Duration, Instant};

use super::error::JournalError;

/// The lock file's name in a journal directory.
pub const LOCK_FILE: &str = "LOCK";

/// How long a lock held by someone else is waited for before the directory is reported in
/// use. A writer in another process holds the lock for as long as it runs, so this only
/// waits out a lock that is being let go: when a thread of this process forks to spawn a
/// program, the child shares every open file description, the lock file's too, until it
/// execs (where close-on-exec closes it), so a lock released in that moment lingers
/// briefly. Under load that moment has been seen to outlast an immediate retry.
const LOCK_PATIENCE: Duration = Duration::from_secs(2);

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
    /// Locks `dir` (which must exist) for this process, waiting up to [`LOCK_PATIENCE`]
    /// for a lock that is being released.
    ///
    /// # Errors
    ///
    /// [`JournalError::Locked`] if another writer still holds it after that;
    /// [`JournalError::Io`] if the lock file cannot be created or locked.
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
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(DirLock {
                        file,
                        path,
                        created,
                    });
                }
                Err(TryLockError::WouldBlock) if started.elapsed() < LOCK_PATIENCE => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(JournalError::Locked {
                        dir: PathBuf::from(dir),
                    });
                }
                Err(TryLockError::Error(source)) => {
                    return Err(JournalError::io("lock", &path)(source));
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ringbook-lock-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A lock let go shortly after (as one shared with a child that has not exec'd yet
    /// is) is waited for and taken; one that stays held is refused once the patience is
    /// spent. The old code refused the first at once.
    #[test]
    fn a_lock_being_released_is_waited_for_and_a_held_one_refused() {
        let dir = scratch("patience");
        let held = DirLock::acquire(&dir).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        let taken = DirLock::acquire(&dir).expect("taken once released");
        releaser.join().unwrap();
        let started = Instant::now();
        let refused = DirLock::acquire(&dir).unwrap_err();
        assert!(matches!(refused, JournalError::Locked { .. }), "{refused}");
        assert!(started.elapsed() >= LOCK_PATIENCE);
        drop(taken);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
