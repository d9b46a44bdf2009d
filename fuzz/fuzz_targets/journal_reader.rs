//! cargo-fuzz entry point; the body is shared with `crates/ringbook/tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../targets/scratch.rs"]
#[allow(dead_code)] // `remove` is for the corpus replay
mod scratch;

#[path = "../targets/journal_reader.rs"]
#[allow(dead_code)] // the outcome is for the corpus replay
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    body::run(data);
});
