use super::*;
use crate::ouch::{cl_ord_id, symbol};

fn fields() -> OrderFields {
    OrderFields {
        side: b'S',
        quantity: 300,
        symbol: symbol("MSFT").unwrap(),
        price: 4_200_000,
        time_in_force: b'0',
        display: b'Y',
        order_reference_number: 0x1122_3344_5566_7788,
        capacity: b'P',
        intermarket_sweep: b'N',
        cross_type: b'N',
        order_state: b'L',
        cl_ord_id: cl_ord_id("abc").unwrap(),
    }
}

#[test]
fn order_accepted_is_laid_out_at_the_spec_offsets() {
    let mut out = Vec::new();
    Outbound::OrderAccepted {
        timestamp: 0x0102_0304_0506_0708,
        user_ref_num: 0x0A0B_0C0D,
        order: fields(),
        appendage: Appendage::EMPTY,
    }
    .encode(&mut out);
    assert_eq!(out.len(), 64);
    assert_eq!(out[0], b'A');
    assert_eq!(&out[1..9], &[1, 2, 3, 4, 5, 6, 7, 8]); // Timestamp
    assert_eq!(&out[9..13], &[0x0A, 0x0B, 0x0C, 0x0D]); // UserRefNum
    assert_eq!(out[13], b'S'); // Side
    assert_eq!(&out[14..18], &300u32.to_be_bytes()); // Quantity
    assert_eq!(&out[18..26], b"MSFT    "); // Symbol
    assert_eq!(&out[26..34], &4_200_000u64.to_be_bytes()); // Price
    assert_eq!((out[34], out[35]), (b'0', b'Y')); // TIF, Display
    assert_eq!(&out[36..44], &0x1122_3344_5566_7788u64.to_be_bytes()); // Order Reference Number
    assert_eq!(&out[44..48], b"PNNL"); // Capacity, ISO, CrossType, Order State
    assert_eq!(&out[48..62], b"abc           "); // ClOrdID
    assert_eq!(&out[62..64], &[0, 0]); // Appendage Length
}

#[test]
fn every_outbound_message_has_its_spec_length_and_round_trips() {
    let a = Appendage::EMPTY;
    let cases: Vec<(Outbound<'_>, usize)> = vec![
        (
            Outbound::SystemEvent {
                timestamp: 1,
                event_code: b'S',
            },
            10,
        ),
        (
            Outbound::OrderReplaced {
                timestamp: 1,
                orig_user_ref_num: 2,
                user_ref_num: 3,
                order: fields(),
                appendage: a,
            },
            68,
        ),
        (
            Outbound::OrderCanceled {
                timestamp: 1,
                user_ref_num: 2,
                quantity: 3,
                reason: b'U',
                appendage: a,
            },
            20,
        ),
        (
            Outbound::OrderExecuted {
                timestamp: 1,
                user_ref_num: 2,
                quantity: 3,
                price: 4,
                liquidity_flag: b'A',
                match_number: 5,
                appendage: a,
            },
            36,
        ),
        (
            Outbound::Rejected {
                timestamp: 1,
                user_ref_num: 2,
                reason: 0x17,
                cl_ord_id: [b' '; 14],
                appendage: a,
            },
            31,
        ),
        (
            Outbound::CancelPending {
                timestamp: 1,
                user_ref_num: 2,
                appendage: a,
            },
            15,
        ),
        (
            Outbound::CancelReject {
                timestamp: 1,
                user_ref_num: 2,
                appendage: a,
            },
            15,
        ),
        (
            Outbound::OrderModified {
                timestamp: 1,
                user_ref_num: 2,
                side: b'B',
                quantity: 9,
                appendage: a,
            },
            20,
        ),
        (
            Outbound::MassCancelResponse {
                timestamp: 1,
                user_ref_num: 2,
                firm: *b"    ",
                symbol: [b' '; 8],
                appendage: a,
            },
            27,
        ),
        (
            Outbound::OrderEntryResponse {
                disable: true,
                timestamp: 1,
                user_ref_num: 2,
                firm: *b"ABCD",
                appendage: a,
            },
            19,
        ),
        (
            Outbound::OrderEntryResponse {
                disable: false,
                timestamp: 1,
                user_ref_num: 2,
                firm: *b"ABCD",
                appendage: a,
            },
            19,
        ),
        (
            Outbound::AccountQueryResponse {
                timestamp: 1,
                next_user_ref_num: 2,
                appendage: a,
            },
            15,
        ),
    ];
    for (message, len) in cases {
        let mut out = Vec::new();
        message.encode(&mut out);
        assert_eq!(out.len(), len, "{message:?}");
        assert_eq!(Outbound::decode(&out), Ok(message));
        // Without the Appendage Length (older revisions), where it is optional.
        if !matches!(
            message,
            Outbound::SystemEvent { .. }
                | Outbound::OrderReplaced { .. }
                | Outbound::OrderExecuted { .. }
        ) {
            assert_eq!(
                Outbound::decode(&out[..len - 2]),
                Ok(message),
                "{message:?} without the appendage length"
            );
        }
    }
}

#[test]
fn executed_rejected_and_canceled_put_their_fields_where_the_spec_does() {
    let mut out = Vec::new();
    Outbound::OrderExecuted {
        timestamp: 0,
        user_ref_num: 7,
        quantity: 100,
        price: 1_000_000,
        liquidity_flag: b'R',
        match_number: 99,
        appendage: Appendage::EMPTY,
    }
    .encode(&mut out);
    assert_eq!(&out[13..17], &100u32.to_be_bytes());
    assert_eq!(&out[17..25], &1_000_000u64.to_be_bytes());
    assert_eq!(out[25], b'R');
    assert_eq!(&out[26..34], &99u64.to_be_bytes());
    out.clear();
    Outbound::Rejected {
        timestamp: 0,
        user_ref_num: 7,
        reason: 0x0007,
        cl_ord_id: [b'c'; 14],
        appendage: Appendage::EMPTY,
    }
    .encode(&mut out);
    assert_eq!(&out[13..15], &[0, 7]);
    assert_eq!(&out[15..29], &[b'c'; 14]);
    out.clear();
    Outbound::OrderCanceled {
        timestamp: 0,
        user_ref_num: 7,
        quantity: 5,
        reason: b'I',
        appendage: Appendage::EMPTY,
    }
    .encode(&mut out);
    assert_eq!((&out[13..17], out[17]), (&5u32.to_be_bytes()[..], b'I'));
}

#[test]
fn malformed_outbound_messages_are_errors() {
    assert_eq!(Outbound::decode(&[]), Err(OuchError::Empty));
    assert_eq!(
        Outbound::decode(b"O"),
        Err(OuchError::UnknownType {
            byte: b'O',
            direction: "outbound"
        })
    );
    assert_eq!(
        Outbound::decode(&[b'S'; 11]),
        Err(OuchError::BadLength {
            message_type: b'S',
            expected: 10,
            actual: 11
        })
    );
    assert!(matches!(
        Outbound::decode(&[b'A'; 63]),
        Err(OuchError::BadLength { expected: 64, .. })
    ));
}

#[test]
fn restated_requires_its_appendage_and_the_older_aiq_canceled_has_no_strategy() {
    let mut app = Vec::new();
    crate::ouch::appendage::write_option(&mut app, 22, &500u32.to_be_bytes());
    let appendage = Appendage::parse(&app).unwrap();
    let mut out = Vec::new();
    Outbound::OrderRestated {
        timestamp: 1,
        user_ref_num: 2,
        reason: b'R',
        appendage,
    }
    .encode(&mut out);
    assert_eq!(out.len(), 16 + 6);
    assert_eq!(out[13], b'R');
    assert_eq!(&out[14..16], &[0, 6]);
    assert!(matches!(
        Outbound::decode(&out),
        Ok(Outbound::OrderRestated { reason: b'R', .. })
    ));
    assert!(matches!(
        Outbound::decode(&out[..14]),
        Err(OuchError::BadLength { expected: 16, .. })
    ));
    // AIQ Canceled before the AIQ Strategy field: 31 bytes.
    let mut aiq = Vec::new();
    Outbound::AiqCanceled {
        timestamp: 1,
        user_ref_num: 2,
        decrement: 3,
        reason: b'Q',
        quantity_prevented: 4,
        execution_price: 5,
        liquidity_flag: b'A',
        aiq_strategy: b'N',
        appendage: Appendage::EMPTY,
    }
    .encode(&mut aiq);
    assert_eq!(aiq.len(), 34);
    assert!(matches!(
        Outbound::decode(&aiq[..31]),
        Ok(Outbound::AiqCanceled {
            aiq_strategy: b' ',
            liquidity_flag: b'A',
            execution_price: 5,
            ..
        })
    ));
    assert!(matches!(
        Outbound::decode(&aiq[..32]),
        Ok(Outbound::AiqCanceled {
            aiq_strategy: b'N',
            ..
        })
    ));
}
