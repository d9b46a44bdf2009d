//! OUCH order entry end to end on 127.0.0.1: an engine behind the OUCH server, clients
//! speaking OUCH 5.0 over SoupBinTCP.

mod ouch_common;

use std::time::Duration;

use ouch_common::*;
use ringbook::{OrderbookManagerService, Uuid};
use ringbook_gateway::order_entry::OrderEntryConfig;
use ringbook_wire::ouch::outbound::Outbound;

fn first_is_start_of_day(c: &mut Ouch) {
    expect_next!(
        c,
        Outbound::SystemEvent {
            event_code: b'S',
            ..
        }
    );
}

#[test]
fn an_order_is_accepted_with_its_fields_and_a_cross_executes_both_sides_with_one_match_number() {
    let h = start(OrderEntryConfig::default(), None);
    let mut a = login(h.addr, "alice", 1);
    let mut b = login(h.addr, "bob", 1);
    first_is_start_of_day(&mut a);
    first_is_start_of_day(&mut b);
    // MSFT's tick is $0.01: 420.00 is 4,200,000 units.
    a.send(&enter(1, b'S', 300, "MSFT", 4_200_000, b'0'));
    a.next(|m| match m {
        Outbound::OrderAccepted {
            user_ref_num: 1,
            order,
            ..
        } => {
            assert_eq!(
                (order.side, order.quantity, order.price),
                (b'S', 300, 4_200_000)
            );
            assert_eq!(&order.symbol, b"MSFT    ");
            assert_eq!(
                (order.time_in_force, order.display, order.order_state),
                (b'0', b'Y', b'L')
            );
            assert_eq!(&order.cl_ord_id[..3], b"c1 ");
        }
        other => panic!("{other:?}"),
    });
    b.send(&enter(1, b'B', 100, "MSFT", 4_210_000, b'0'));
    assert_eq!(b.next_kind(), (b'A', 1));
    let taker = b.next(|m| match m {
        Outbound::OrderExecuted {
            user_ref_num: 1,
            quantity: 100,
            price: 4_200_000,
            liquidity_flag: b'R',
            match_number,
            ..
        } => match_number,
        other => panic!("{other:?}"),
    });
    let maker = a.next(|m| match m {
        Outbound::OrderExecuted {
            user_ref_num: 1,
            quantity: 100,
            price: 4_200_000,
            liquidity_flag: b'A',
            match_number,
            ..
        } => match_number,
        other => panic!("{other:?}"),
    });
    assert_eq!(taker, maker);
    h.stop();
}

#[test]
fn what_ringbook_cannot_do_or_a_halted_book_is_rejected_with_the_spec_reason_code() {
    let h = start(OrderEntryConfig::default(), None);
    let mut c = login(h.addr, "rej", 1);
    first_is_start_of_day(&mut c);
    let expect_reject = |c: &mut Ouch, urn: u32, code: u16| {
        c.next(|m| match m {
            Outbound::Rejected {
                user_ref_num,
                reason,
                ..
            } => assert_eq!((user_ref_num, reason), (urn, code)),
            other => panic!("{other:?}"),
        });
    };
    c.send(&enter(1, b'B', 10, "NOPE", 100, b'0'));
    expect_reject(&mut c, 1, 0x17);
    c.send(&enter(2, b'T', 10, "AAPL", 100, b'0'));
    expect_reject(&mut c, 2, 0x09);
    c.send(&enter(3, b'B', 10, "MSFT", 150, b'0')); // not a whole cent
    expect_reject(&mut c, 3, 0x1D);
    c.send(&enter(4, b'B', 0, "AAPL", 100, b'0'));
    expect_reject(&mut c, 4, 0x13);
    c.send(&enter(5, b'B', 10, "AAPL", 100, b'6')); // GTT
    expect_reject(&mut c, 5, 0x0F);
    h.engine.halt_orderbooks(vec![Uuid::from_u128(1)]);
    c.send(&enter(6, b'B', 10, "AAPL", 100, b'0'));
    expect_reject(&mut c, 6, 0x07);
    h.engine.resume_orderbooks(vec![Uuid::from_u128(1)]);
    c.send(&enter(7, b'B', 10, "AAPL", 100, b'0'));
    assert_eq!(c.next_kind(), (b'A', 7));
    h.stop();
}

#[test]
fn a_reused_or_lower_user_ref_num_is_ignored_never_taken_as_a_new_order() {
    let h = start(OrderEntryConfig::default(), None);
    let mut c = login(h.addr, "urn", 1);
    first_is_start_of_day(&mut c);
    c.send(&enter(10, b'B', 5, "AAPL", 100, b'0'));
    assert_eq!(c.next_kind(), (b'A', 10));
    c.send(&enter(10, b'B', 7, "AAPL", 101, b'0')); // repeat
    c.send(&enter(9, b'B', 7, "AAPL", 101, b'0')); // lower
    c.expect_silence(Duration::from_millis(300));
    c.send(b"Q");
    expect_next!(
        c,
        Outbound::AccountQueryResponse {
            next_user_ref_num: 11,
            ..
        }
    );
    c.send(&enter(11, b'B', 7, "AAPL", 101, b'0'));
    assert_eq!(c.next_kind(), (b'A', 11));
    h.stop();
}

#[test]
fn cancel_partial_cancel_modify_replace_and_ioc_get_their_responses() {
    let h = start(OrderEntryConfig::default(), None);
    let mut c = login(h.addr, "life", 1);
    first_is_start_of_day(&mut c);
    c.send(&enter(1, b'B', 100, "AAPL", 500, b'0'));
    assert_eq!(c.next_kind(), (b'A', 1));
    // Partial cancel down to 60: 40 decremented.
    c.send(&cancel(1, 60));
    c.expect_canceled(1, 40, b'U');
    // Modify down to 50.
    c.send(&modify(1, b'B', 50));
    expect_next!(
        c,
        Outbound::OrderModified {
            user_ref_num: 1,
            side: b'B',
            quantity: 50,
            ..
        }
    );
    // A modify that changes the side is refused.
    c.send(&modify(1, b'S', 50));
    expect_next!(
        c,
        Outbound::Rejected {
            user_ref_num: 1,
            reason: 0x09,
            ..
        }
    );
    // Replace 1 by 2 at a new price.
    c.send(&replace(1, 2, 80, 510));
    c.next(|m| match m {
        Outbound::OrderReplaced {
            orig_user_ref_num: 1,
            user_ref_num: 2,
            order,
            ..
        } => {
            assert_eq!((order.quantity, order.price), (80, 510));
        }
        other => panic!("{other:?}"),
    });
    // The old order is gone: cancelling it is ignored; the new one cancels.
    c.send(&cancel(1, 0));
    c.send(&cancel(2, 0));
    c.expect_canceled(2, 80, b'U');
    // An IOC with nothing to match: accepted, then canceled 'I'.
    c.send(&enter(3, b'S', 10, "AAPL", 500, b'3'));
    assert_eq!(c.next_kind(), (b'A', 3));
    c.expect_canceled(3, 10, b'I');
    // A fill-or-kill (IOC + MinQty = Quantity) that cannot fill whole.
    c.send(&enter(4, b'S', 20, "AAPL", 400, b'0'));
    assert_eq!(c.next_kind(), (b'A', 4));
    c.send(&enter_with(5, b'B', 30, "AAPL", 400, b'3', &min_qty(30)));
    assert_eq!(c.next_kind(), (b'A', 5));
    c.expect_canceled(5, 30, b'I');
    // Mass cancel takes order 4 off.
    let mut mass = vec![b'C'];
    mass.extend_from_slice(&6u32.to_be_bytes());
    mass.extend_from_slice(b"    ");
    mass.extend_from_slice(b"        ");
    c.send(&mass);
    assert_eq!(c.next_kind(), (b'X', 6));
    c.expect_canceled(4, 20, b'U');
    h.stop();
}

#[test]
fn a_dropped_connection_cancels_its_orders_and_a_relogin_replays_from_its_sequence_number() {
    let h = start(OrderEntryConfig::default(), None);
    let mut c = login(h.addr, "drop", 1);
    first_is_start_of_day(&mut c);
    c.send(&enter(1, b'B', 10, "AAPL", 100, b'0'));
    c.send(&enter(2, b'S', 10, "AAPL", 200, b'0'));
    assert_eq!(c.next_kind(), (b'A', 1));
    assert_eq!(c.next_kind(), (b'A', 2));
    drop(c);
    // Another user's sell at 100 finds no bid: the bid was canceled on disconnect.
    let mut other = login(h.addr, "other", 1);
    first_is_start_of_day(&mut other);
    // Give the cancels time to go through before crossing.
    let mut again = login(h.addr, "drop", 4);
    let mut reasons = vec![again.next(|m| match m {
        Outbound::OrderCanceled {
            user_ref_num,
            reason: b'Z',
            quantity: 10,
            ..
        } => user_ref_num,
        other => panic!("{other:?}"),
    })];
    reasons.push(again.next(|m| match m {
        Outbound::OrderCanceled {
            user_ref_num,
            reason: b'Z',
            quantity: 10,
            ..
        } => user_ref_num,
        other => panic!("{other:?}"),
    }));
    reasons.sort_unstable();
    assert_eq!(reasons, [1, 2]);
    other.send(&enter(1, b'S', 10, "AAPL", 100, b'3'));
    assert_eq!(other.next_kind(), (b'A', 1));
    expect_next!(
        other,
        Outbound::OrderCanceled {
            reason: b'I',
            quantity: 10,
            ..
        }
    );
    // A relogin from 1 replays everything, start of day first.
    drop(again);
    let mut replay = login(h.addr, "drop", 1);
    first_is_start_of_day(&mut replay);
    assert_eq!(replay.next_kind(), (b'A', 1));
    assert_eq!(replay.next_kind(), (b'A', 2));
    h.stop();
}

#[test]
fn without_cancel_on_disconnect_orders_stay_and_trade_while_the_owner_is_away() {
    let h = start(
        OrderEntryConfig {
            cancel_on_disconnect: false,
        },
        None,
    );
    let mut c = login(h.addr, "stay", 1);
    first_is_start_of_day(&mut c);
    c.send(&enter(1, b'B', 10, "AAPL", 100, b'0'));
    assert_eq!(c.next_kind(), (b'A', 1));
    drop(c);
    let mut other = login(h.addr, "hit", 1);
    first_is_start_of_day(&mut other);
    other.send(&enter(1, b'S', 10, "AAPL", 100, b'0'));
    assert_eq!(other.next_kind(), (b'A', 1));
    assert_eq!(other.next_kind(), (b'E', 1));
    let mut back = login(h.addr, "stay", 3);
    expect_next!(
        back,
        Outbound::OrderExecuted {
            user_ref_num: 1,
            quantity: 10,
            liquidity_flag: b'A',
            ..
        }
    );
    h.stop();
}

#[test]
fn a_malformed_message_closes_only_its_own_session() {
    let h = start(OrderEntryConfig::default(), None);
    let mut good = login(h.addr, "good", 1);
    first_is_start_of_day(&mut good);
    let mut bad = login(h.addr, "bad", 1);
    first_is_start_of_day(&mut bad);
    bad.send(&[b'O', 1, 2, 3]); // a truncated Enter Order
    loop {
        match bad.soup.recv() {
            Ok(ringbook_gateway::soup::ServerPacket::Heartbeat) => {}
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }
    let mut unknown = login(h.addr, "unkn", 1);
    first_is_start_of_day(&mut unknown);
    unknown.send(b"?");
    assert!(unknown.soup.recv().is_err());
    good.send(&enter(1, b'B', 1, "AAPL", 1, b'0'));
    assert_eq!(good.next_kind(), (b'A', 1));
    h.stop();
}

#[test]
fn a_client_flooding_orders_and_never_reading_stalls_neither_the_engine_nor_another_session() {
    let h = start(OrderEntryConfig::default(), None);
    let mut flood = login(h.addr, "flood", 1);
    // 100,000 resting orders in batches, responses never read.
    for batch in 0..100u32 {
        for i in 0..1_000u32 {
            let urn = batch * 1_000 + i + 1;
            flood
                .soup
                .queue(&enter(urn, b'B', 1, "AAPL", 1 + u64::from(urn % 50), b'0'))
                .unwrap();
        }
        flood.soup.flush().unwrap();
    }
    let mut calm = login(h.addr, "calm", 1);
    first_is_start_of_day(&mut calm);
    let started = std::time::Instant::now();
    calm.send(&enter(1, b'S', 1, "MSFT", 100, b'0'));
    assert_eq!(calm.next_kind(), (b'A', 1));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    h.stop();
}

#[test]
fn orders_of_one_read_the_engine_refuses_are_each_rejected_in_order() {
    let h = start(OrderEntryConfig::default(), None);
    let mut c = login(h.addr, "batch", 1);
    first_is_start_of_day(&mut c);
    h.engine.stop().unwrap();
    // One write: the session submits the three as one batch at the end of the read.
    for urn in 1..=3 {
        c.soup
            .queue(&enter(urn, b'B', 10, "AAPL", 100, b'0'))
            .unwrap();
    }
    c.soup.flush().unwrap();
    for urn in 1..=3 {
        c.next(|m| match m {
            Outbound::Rejected {
                user_ref_num,
                reason,
                ..
            } => assert_eq!((user_ref_num, reason), (urn, 0x02), "destination closed"),
            other => panic!("{other:?}"),
        });
    }
    h.stop();
}

#[test]
fn orders_read_with_the_logout_are_submitted_before_the_session_ends() {
    let h = start(
        OrderEntryConfig {
            cancel_on_disconnect: false,
        },
        None,
    );
    let mut c = login(h.addr, "last", 1);
    first_is_start_of_day(&mut c);
    // One write: two orders, then the logout, which ends the session before the end
    // of the read.
    c.soup
        .queue(&enter(1, b'B', 10, "AAPL", 100, b'0'))
        .unwrap();
    c.soup.queue(&enter(2, b'B', 10, "AAPL", 99, b'0')).unwrap();
    c.soup.queue_logout();
    c.soup.flush().unwrap();
    drop(c);
    // Both were taken: a re-login replays their acceptances after the start of day.
    let mut back = login(h.addr, "last", 2);
    assert_eq!(back.next_kind(), (b'A', 1));
    assert_eq!(back.next_kind(), (b'A', 2));
    h.stop();
}
