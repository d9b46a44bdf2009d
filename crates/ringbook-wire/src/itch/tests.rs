//! Round trips and byte layouts of every message type.

use super::*;

fn header() -> Header {
    Header {
        stock_locate: 0x0102,
        tracking_number: 0,
        timestamp: 0x0000_1234_5678_9abc,
    }
}

fn all() -> Vec<ItchMessage> {
    let stock = Stock::new("ABC").unwrap();
    vec![
        ItchMessage::SystemEvent(SystemEvent {
            header: header(),
            event: SystemEventCode::StartOfMessages,
        }),
        ItchMessage::StockDirectory(StockDirectory::ringbook(header(), stock)),
        ItchMessage::StockTradingAction(StockTradingAction::new(
            header(),
            stock,
            TradingState::Halted,
        )),
        ItchMessage::AddOrder(AddOrder {
            header: header(),
            order_ref: 7,
            side: ItchSide::Sell,
            shares: 100,
            stock,
            price: 1_000_000,
        }),
        ItchMessage::OrderExecuted(OrderExecuted {
            header: header(),
            order_ref: 7,
            executed_shares: 40,
            match_number: 9,
        }),
        ItchMessage::OrderCancel(OrderCancel {
            header: header(),
            order_ref: 7,
            cancelled_shares: 10,
        }),
        ItchMessage::OrderDelete(OrderDelete {
            header: header(),
            order_ref: 7,
        }),
        ItchMessage::OrderReplace(OrderReplace {
            header: header(),
            original_ref: 7,
            new_ref: 8,
            shares: 5,
            price: 99,
        }),
    ]
}

#[test]
fn every_message_round_trips_at_its_spec_length() {
    let lengths = [12, 39, 25, 36, 31, 23, 19, 35];
    for (message, len) in all().into_iter().zip(lengths) {
        let bytes = message.to_bytes();
        assert_eq!(bytes.len(), len, "{message:?}");
        assert_eq!(ItchMessage::len_of(bytes[0]), Some(len));
        assert_eq!(ItchMessage::decode(&bytes), Ok(message));
    }
}

#[test]
fn encode_writes_the_same_bytes_as_put_into_a_fixed_buffer() {
    let lengths = [12, 39, 25, 36, 31, 23, 19, 35];
    for (message, len) in all().into_iter().zip(lengths) {
        // A buffer dirty from a longer message: encode must not depend on its contents.
        let mut buf = [0xEEu8; ItchMessage::MAX_LEN];
        let n = message.encode(&mut buf);
        assert_eq!(n, len, "{message:?}");
        assert_eq!(message.len(), len, "{message:?}");
        assert_eq!(&buf[..n], message.to_bytes().as_slice(), "{message:?}");
        assert_eq!(ItchMessage::decode(&buf[..n]), Ok(message));
    }
}

#[test]
fn add_order_bytes_are_the_spec_layout() {
    let bytes = all()[3].to_bytes();
    let expected: Vec<u8> = [
        &b"A"[..],
        &[0x01, 0x02],                         // stock locate
        &[0x00, 0x00],                         // tracking number
        &[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc], // timestamp, 6 bytes
        &7u64.to_be_bytes(),
        b"S",
        &100u32.to_be_bytes(),
        b"ABC     ",
        &1_000_000u32.to_be_bytes(),
    ]
    .concat();
    assert_eq!(bytes, expected);
}

#[test]
fn timestamps_keep_48_bits() {
    let mut message = all()[0];
    if let ItchMessage::SystemEvent(m) = &mut message {
        m.header.timestamp = u64::MAX;
    }
    let decoded = ItchMessage::decode(&message.to_bytes()).unwrap();
    assert_eq!(decoded.header().timestamp, TIMESTAMP_MAX);
}

#[test]
fn bad_input_is_refused_with_its_position() {
    assert_eq!(ItchMessage::decode(&[]), Err(ItchDecodeError::Empty));
    assert_eq!(
        ItchMessage::decode(b"Z"),
        Err(ItchDecodeError::UnknownType { byte: b'Z' })
    );
    let mut add = all()[3].to_bytes();
    assert_eq!(
        ItchMessage::decode(&add[..35]),
        Err(ItchDecodeError::Length {
            kind: b'A',
            expected: 36,
            got: 35
        })
    );
    add[19] = b'X';
    assert_eq!(
        ItchMessage::decode(&add),
        Err(ItchDecodeError::BadCode {
            kind: b'A',
            field: "Buy/Sell Indicator",
            offset: 19,
            byte: b'X'
        })
    );
    add[19] = b'B';
    add[26] = 0x07;
    let err = ItchMessage::decode(&add).unwrap_err();
    assert_eq!(
        err,
        ItchDecodeError::BadAlpha {
            kind: b'A',
            field: "Stock",
            offset: 26,
            byte: 7
        }
    );
    assert!(err.to_string().contains("offset 26"), "{err}");
}

#[test]
fn stock_symbols_are_checked_and_padded() {
    assert_eq!(Stock::new("ABCDEFGH").unwrap().as_str(), "ABCDEFGH");
    assert_eq!(Stock::new("AB").unwrap().0, *b"AB      ");
    assert!(Stock::new("").is_none());
    assert!(Stock::new("ABCDEFGHI").is_none());
    assert!(Stock::new("A B").is_none());
    assert!(Stock::new("é").is_none());
}

#[test]
fn price_band_bounds() {
    assert!(PriceBand::new(-1, 5).is_err());
    assert!(PriceBand::new(5, 4).is_err());
    assert!(PriceBand::new(0, i64::from(u32::MAX) + 1).is_err());
    let band = PriceBand::default();
    assert_eq!(
        band.check(Some(i64::from(u32::MAX)), u64::from(u32::MAX)),
        Ok(())
    );
    assert_eq!(
        band.check(Some(-1), 1),
        Err(BandError::PriceOutside {
            price: -1,
            min: 0,
            max: i64::from(u32::MAX)
        })
    );
    assert_eq!(itch_price(-1), None);
    assert_eq!(itch_price(5), Some(5));
}

#[test]
fn price_bands_follow_the_tick_size() {
    assert_eq!(PriceBand::for_tick(100).unwrap().max(), 42_949_672);
    assert_eq!(PriceBand::for_tick(1), Some(PriceBand::default()));
    assert_eq!(PriceBand::for_tick(0), None);
    let band = PriceBand::new(10, 50_000_000)
        .unwrap()
        .within_tick(100)
        .unwrap();
    assert_eq!((band.min(), band.max()), (10, 42_949_672));
    assert!(
        PriceBand::new(50_000_000, 60_000_000)
            .unwrap()
            .within_tick(100)
            .is_err()
    );
    assert!(band.check(Some(42_949_673), 1).is_err());
}
