//! Replays the committed corpora of the `itch_decode` and `mold_packet` fuzz targets
//! (`fuzz/corpus/<target>/`) through the same bodies, in a normal `cargo test`, and checks
//! the corpora still reach the interesting paths.

#[path = "../../../fuzz/targets/itch_decode.rs"]
mod itch_decode;
#[path = "../../../fuzz/targets/mold_packet.rs"]
mod mold_packet;

use ringbook_testkit::corpus::run_corpus;

#[test]
fn itch_decode_corpus_replays_and_reaches_applies_and_refusals() {
    let (mut decoded, mut applied, mut refused) = (0, 0, 0);
    for outcome in run_corpus("itch_decode", itch_decode::run) {
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
    for outcome in run_corpus("mold_packet", mold_packet::run) {
        data |= outcome.data;
        control |= outcome.control;
        request |= outcome.request;
    }
    assert!(data && control && request);
}
