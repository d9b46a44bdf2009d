//! The committed fuzz corpora (`fuzz/corpus/<target>/`), read in a normal `cargo test`
//! and run through the same bodies cargo-fuzz runs.

use std::panic::{UnwindSafe, catch_unwind};
use std::path::PathBuf;

/// Every input of the corpus of `target`, with its path, sorted by path.
///
/// # Panics
/// If the corpus directory or one of its files cannot be read (the panic names it).
pub fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
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
/// If `run` panics on an input (a broken property); the panic names the input's path.
pub fn run_corpus<O>(target: &str, run: impl Fn(&[u8]) -> O + Copy + UnwindSafe) -> Vec<O> {
    corpus(target)
        .into_iter()
        .map(|(path, bytes)| {
            catch_unwind(move || run(&bytes))
                .unwrap_or_else(|_| panic!("corpus input {} broke a property", path.display()))
        })
        .collect()
}
