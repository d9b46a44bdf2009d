//! Replays the committed corpora of the `soup_frame` and `ouch_codec` fuzz targets
//! (`fuzz/corpus/<target>/`) through the same bodies cargo-fuzz runs, so that a normal
//! `cargo test` checks them without a fuzzer; and checks that the corpora still reach
//! both ends (inputs that decode and inputs that are refused).

#[path = "../../../fuzz/targets/soup_frame.rs"]
mod soup_frame;

#[path = "../../../fuzz/targets/ouch_codec.rs"]
mod ouch_codec;

use ringbook_testkit::corpus::run_corpus;

#[test]
fn the_soup_frame_corpus_holds_and_reaches_packets_and_errors() {
    let outcomes = run_corpus("soup_frame", soup_frame::run);
    assert!(outcomes.len() >= 20, "corpus shrank to {}", outcomes.len());
    assert!(outcomes.iter().any(|o| o.packets >= 2));
    assert!(outcomes.iter().any(|o| o.error));
}

#[test]
fn the_ouch_codec_corpus_holds_and_reaches_decoded_and_refused_messages() {
    let outcomes = run_corpus("ouch_codec", ouch_codec::run);
    assert!(outcomes.len() >= 20, "corpus shrank to {}", outcomes.len());
    assert!(outcomes.iter().any(|o| o.decoded));
    assert!(outcomes.iter().any(|o| !o.decoded));
}
