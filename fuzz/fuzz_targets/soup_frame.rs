//! cargo-fuzz entry point; the body is shared with `crates/ringbook-gateway/tests/ouch_fuzz_corpus.rs`.
#![no_main]

#[path = "../targets/soup_frame.rs"]
#[allow(dead_code)] // the outcome is for the corpus replay
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    body::run(data);
});
