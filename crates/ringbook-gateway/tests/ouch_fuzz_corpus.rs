//! Replays the committed corpora of the `soup_frame` and `ouch_codec` fuzz targets
//! (`fuzz/corpus/<target>/`) through the same bodies cargo-fuzz runs, so that a normal
//! `cargo test` checks them without a fuzzer; and checks that the corpora still reach
//! both ends (inputs that decode and inputs that are refused).

#[path = "../../../fuzz/targets/soup_frame.rs"]
mod soup_frame;

#[path = "../../../fuzz/targets/ouch_codec.rs"]
mod ouch_codec;

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn run_all<O>(target: &str, run: fn(&[u8]) -> O) -> Vec<O> {
    corpus(target)
        .into_iter()
        .map(|(path, bytes)| {
            std::panic::catch_unwind(|| run(&bytes))
                .unwrap_or_else(|_| panic!("corpus input {} broke a property", path.display()))
        })
        .collect()
}

#[test]
fn the_soup_frame_corpus_holds_and_reaches_packets_and_errors() {
    let outcomes = run_all("soup_frame", soup_frame::run);
    assert!(outcomes.len() >= 20, "corpus shrank to {}", outcomes.len());
    assert!(outcomes.iter().any(|o| o.packets >= 2));
    assert!(outcomes.iter().any(|o| o.error));
}

#[test]
fn the_ouch_codec_corpus_holds_and_reaches_decoded_and_refused_messages() {
    let outcomes = run_all("ouch_codec", ouch_codec::run);
    assert!(outcomes.len() >= 20, "corpus shrank to {}", outcomes.len());
    assert!(outcomes.iter().any(|o| o.decoded));
    assert!(outcomes.iter().any(|o| !o.decoded));
}
