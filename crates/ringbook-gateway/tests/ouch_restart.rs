//! With durable streams and a journaled engine, a restart loses nothing: a client logging
//! in again with its sequence number gets every message from it on, including those sent
//! before the restart; its resting orders are still in the book and still its own; its
//! UserRefNums stay used.

mod ouch_common;

use ouch_common::*;
use ringbook_gateway::order_entry::OrderEntryConfig;
use ringbook_wire::ouch::outbound::Outbound;

#[test]
fn a_relogin_after_a_restart_replays_from_its_sequence_number_and_the_orders_survive() {
    let dir = std::env::temp_dir().join(format!("rb-ouch-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = dir.join("ouch");
    let journal = dir.join("journal");

    let h = start_with(
        OrderEntryConfig::default(),
        Some(store.clone()),
        Some(journal.clone()),
    );
    let mut c = login(h.addr, "keep", 1);
    assert_eq!(c.next_kind(), (b'S', 0));
    c.send(&enter(5, b'B', 40, "AAPL", 100, b'0'));
    c.send(&enter(6, b'S', 10, "AAPL", 100, b'0')); // trades 10 against 5
    assert_eq!(c.next_kind(), (b'A', 5));
    assert_eq!(c.next_kind(), (b'A', 6));
    assert_eq!(c.next_kind(), (b'E', 6));
    assert_eq!(c.next_kind(), (b'E', 5));
    h.stop();

    let h = start_with(
        OrderEntryConfig::default(),
        Some(store.clone()),
        Some(journal.clone()),
    );
    // From 3: Accepted 6 and both executions, sent before the restart.
    let mut c = login(h.addr, "keep", 3);
    assert_eq!(c.next_kind(), (b'A', 6));
    assert_eq!(c.next_kind(), (b'E', 6));
    assert_eq!(c.next_kind(), (b'E', 5));
    // UserRefNums up to 6 are used: 6 again is ignored.
    c.send(&enter(6, b'B', 1, "AAPL", 1, b'0'));
    c.send(b"Q");
    expect_next!(
        c,
        Outbound::AccountQueryResponse {
            next_user_ref_num: 7,
            ..
        }
    );
    // Order 5 still rests with 30 open, and is still this user's to cancel.
    c.send(&cancel(5, 0));
    c.expect_canceled(5, 30, b'U');
    h.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}
