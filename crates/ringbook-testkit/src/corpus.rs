//! The committed fuzz corpora (`fuzz/corpus/<target>/`), read in a normal `cargo test`
//! and run through the same bodies cargo-fuzz runs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

/// The fewest inputs a corpus may hold: fewer means it was lost or never committed, and a
/// replay over it would pass vacuously.
pub const MIN_INPUTS: usize = 10;

/// Every file of the corpus of `target`, with its bytes, sorted by path.
///
/// # Panics
/// If the corpus directory or one of its files cannot be read, or it holds fewer than
/// [`MIN_INPUTS`] files (the panic names the directory or file).
pub fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("list the corpus").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= MIN_INPUTS,
        "{}: {} inputs, expected a corpus",
        dir.display(),
        files.len()
    );
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect()
}

/// Runs `run` on every input of the corpus of `target`: the outcomes, in path order.
///
/// # Panics
/// If `run` panics on an input (a broken property); the panic names the input's path and
/// repeats the body's message.
pub fn run_corpus<O>(target: &str, run: impl Fn(&[u8]) -> O) -> Vec<O> {
    corpus(target)
        .into_iter()
        .map(|(path, bytes)| {
            catch_unwind(AssertUnwindSafe(|| run(&bytes))).unwrap_or_else(|panic| {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                panic!(
                    "corpus input {} broke a property: {message}",
                    path.display()
                )
            })
        })
        .collect()
}
