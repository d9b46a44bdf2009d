use super::*;
use crate::ouch::appendage::{OptionTag, write_option};
use crate::ouch::{AppendageError, cl_ord_id, symbol};

/// An Enter Order written by hand at the spec's offsets.
fn enter_bytes(appendage: &[u8]) -> Vec<u8> {
    let mut m = vec![b'O'];
    m.extend_from_slice(&0x0102_0304u32.to_be_bytes()); // 1 UserRefNum
    m.push(b'B'); // 5 Side
    m.extend_from_slice(&500u32.to_be_bytes()); // 6 Quantity
    m.extend_from_slice(b"AAPL    "); // 10 Symbol
    m.extend_from_slice(&1_502_500u64.to_be_bytes()); // 18 Price $150.25
    m.extend_from_slice(b"0YANN"); // 26 TIF, Display, Capacity, ISO, CrossType
    m.extend_from_slice(b"my-order-1    "); // 31 ClOrdID
    m.extend_from_slice(&(appendage.len() as u16).to_be_bytes()); // 45 Appendage Length
    m.extend_from_slice(appendage);
    m
}

#[test]
fn enter_order_decodes_from_the_spec_offsets_and_encodes_back_to_the_same_bytes() {
    let mut app = Vec::new();
    write_option(&mut app, OptionTag::MinQty as u8, &500u32.to_be_bytes());
    let bytes = enter_bytes(&app);
    assert_eq!(bytes.len(), 47 + 6);
    let Inbound::EnterOrder(m) = Inbound::decode(&bytes).unwrap() else {
        panic!("not an enter order");
    };
    assert_eq!(m.user_ref_num, 0x0102_0304);
    assert_eq!(m.side, b'B');
    assert_eq!(m.quantity, 500);
    assert_eq!(m.symbol, symbol("AAPL").unwrap());
    assert_eq!(m.price, 1_502_500);
    assert_eq!(
        (
            m.time_in_force,
            m.display,
            m.capacity,
            m.intermarket_sweep,
            m.cross_type
        ),
        (b'0', b'Y', b'A', b'N', b'N')
    );
    assert_eq!(m.cl_ord_id, cl_ord_id("my-order-1").unwrap());
    assert_eq!(
        m.appendage.find(OptionTag::MinQty),
        Some(&500u32.to_be_bytes()[..])
    );
    let mut out = Vec::new();
    Inbound::EnterOrder(m).encode(&mut out);
    assert_eq!(out, bytes);
}

#[test]
fn replace_cancel_modify_and_mass_cancel_have_the_spec_lengths() {
    let cases: Vec<(Inbound<'_>, usize)> = vec![
        (
            Inbound::ReplaceOrder(ReplaceOrder {
                orig_user_ref_num: 1,
                user_ref_num: 2,
                quantity: 3,
                price: 4,
                time_in_force: b'0',
                display: b'Y',
                intermarket_sweep: b'N',
                cl_ord_id: [b' '; 14],
                appendage: Appendage::EMPTY,
            }),
            40,
        ),
        (
            Inbound::CancelOrder(CancelOrder {
                user_ref_num: 7,
                quantity: 0,
                appendage: Appendage::EMPTY,
            }),
            11,
        ),
        (
            Inbound::ModifyOrder(ModifyOrder {
                user_ref_num: 7,
                side: b'S',
                quantity: 5,
                appendage: Appendage::EMPTY,
            }),
            12,
        ),
        (
            Inbound::MassCancel(MassCancel {
                user_ref_num: 9,
                firm: *b"    ",
                symbol: [b' '; 8],
                appendage: Appendage::EMPTY,
            }),
            19,
        ),
        (
            Inbound::DisableOrderEntry(OrderEntryControl {
                user_ref_num: 9,
                firm: *b"FIRM",
                appendage: Appendage::EMPTY,
            }),
            11,
        ),
        (Inbound::AccountQuery(Appendage::EMPTY), 3),
    ];
    for (message, len) in cases {
        let mut out = Vec::new();
        message.encode(&mut out);
        assert_eq!(out.len(), len, "{message:?}");
        assert_eq!(Inbound::decode(&out), Ok(message));
    }
    // Replace: OrigUserRefNum at 1, UserRefNum at 5, Quantity at 9, Price at 13.
    let mut out = Vec::new();
    Inbound::ReplaceOrder(ReplaceOrder {
        orig_user_ref_num: 0xAA,
        user_ref_num: 0xBB,
        quantity: 0xCC,
        price: 0xDD,
        time_in_force: b'3',
        display: b'Y',
        intermarket_sweep: b'N',
        cl_ord_id: [b'x'; 14],
        appendage: Appendage::EMPTY,
    })
    .encode(&mut out);
    assert_eq!(
        (out[4], out[8], out[12], out[20], out[21]),
        (0xAA, 0xBB, 0xCC, 0xDD, b'3')
    );
}

#[test]
fn the_shorter_messages_decode_with_or_without_the_appendage_length() {
    let old = [b'X', 0, 0, 0, 7, 0, 0, 0, 3];
    let new = [b'X', 0, 0, 0, 7, 0, 0, 0, 3, 0, 0];
    let expected = Inbound::CancelOrder(CancelOrder {
        user_ref_num: 7,
        quantity: 3,
        appendage: Appendage::EMPTY,
    });
    assert_eq!(Inbound::decode(&old), Ok(expected));
    assert_eq!(Inbound::decode(&new), Ok(expected));
    assert_eq!(
        Inbound::decode(&old[..8]),
        Err(OuchError::BadLength {
            message_type: b'X',
            expected: 11,
            actual: 8
        })
    );
    assert_eq!(
        Inbound::decode(&[b'X', 0, 0, 0, 7, 0, 0, 0, 3, 0]),
        Err(OuchError::BadLength {
            message_type: b'X',
            expected: 11,
            actual: 10
        })
    );
}

#[test]
fn malformed_inbound_messages_are_errors_that_say_what_is_wrong() {
    assert_eq!(Inbound::decode(&[]), Err(OuchError::Empty));
    assert_eq!(
        Inbound::decode(b"Z"),
        Err(OuchError::UnknownType {
            byte: b'Z',
            direction: "inbound"
        })
    );
    let full = enter_bytes(&[]);
    assert_eq!(
        Inbound::decode(&full[..46]),
        Err(OuchError::BadLength {
            message_type: b'O',
            expected: 47,
            actual: 46
        })
    );
    let mut past = full.clone();
    past[46] = 4;
    assert_eq!(
        Inbound::decode(&past),
        Err(OuchError::Appendage {
            message_type: b'O',
            source: AppendageError::LengthPastMessage {
                stated: 4,
                available: 0
            }
        })
    );
    let mut trailing = full.clone();
    trailing.push(0);
    assert!(matches!(
        Inbound::decode(&trailing),
        Err(OuchError::Appendage {
            source: AppendageError::TrailingBytes {
                stated: 0,
                extra: 1
            },
            ..
        })
    ));
    let bad_option = enter_bytes(&[2, OptionTag::MinQty as u8, 1]);
    assert!(matches!(
        Inbound::decode(&bad_option),
        Err(OuchError::Appendage {
            source: AppendageError::BadWidth { tag: 3, .. },
            ..
        })
    ));
}
