//! A scratch directory for the file-reading fuzz bodies: one per process and thread, kept
//! between inputs and emptied after each (on ext4, creating and removing a directory per
//! input costs milliseconds; unlinking a few files costs microseconds).

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};

thread_local! {
    static DIR: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// The scratch directory of this thread, empty, for one input; emptied again when dropped.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// The (empty) scratch directory of this thread; `name` tells the fuzz bodies' apart.
    pub(crate) fn new(name: &str) -> Scratch {
        let dir = DIR.with(|dir| {
            dir.borrow_mut()
                .get_or_insert_with(|| {
                    std::env::temp_dir().join(format!(
                        "ringbook-fuzz-{name}-{}-{:?}",
                        std::process::id(),
                        std::thread::current().id()
                    ))
                })
                .clone()
        });
        fs::create_dir_all(&dir).expect("create the scratch directory");
        empty(&dir);
        Scratch(dir)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        empty(&self.0);
    }
}

/// Removes every file in `dir`.
fn empty(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Removes this thread's scratch directory (the corpus replay calls it when done).
pub(crate) fn remove() {
    DIR.with(|dir| {
        if let Some(dir) = dir.borrow_mut().take() {
            let _ = fs::remove_dir_all(dir);
        }
    });
}
