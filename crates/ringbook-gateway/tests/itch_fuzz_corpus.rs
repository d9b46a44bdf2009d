//! Replays the committed corpora of the `itch_decode` and `mold_packet` fuzz targets
//! (`fuzz/corpus/<target>/`) through the same bodies, in a normal `cargo test`, and checks
//! the corpora still reach the interesting paths.

#[path = "../../../fuzz/targets/itch_decode.rs"]
mod itch_decode;
#[path = "../../../fuzz/targets/mold_packet.rs"]
mod mold_packet;

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
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
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

#[test]
fn itch_decode_corpus_replays_and_reaches_applies_and_refusals() {
    let (mut decoded, mut applied, mut refused) = (0, 0, 0);
    for (path, bytes) in corpus("itch_decode") {
        let outcome = std::panic::catch_unwind(|| itch_decode::run(&bytes))
            .unwrap_or_else(|_| panic!("{} fails", path.display()));
        decoded += outcome.decoded;
        applied += outcome.applied;
        refused += outcome.refused;
    }
    assert!(
        decoded >= 10 && applied >= 8 && refused >= 2,
        "{decoded} {applied} {refused}"
    );
}

#[test]
fn mold_packet_corpus_replays_and_reaches_every_kind() {
    let (mut data, mut control, mut request) = (false, false, false);
    for (path, bytes) in corpus("mold_packet") {
        let outcome = std::panic::catch_unwind(|| mold_packet::run(&bytes))
            .unwrap_or_else(|_| panic!("{} fails", path.display()));
        data |= outcome.data;
        control |= outcome.control;
        request |= outcome.request;
    }
    assert!(data && control && request);
}
