//! What of an Enter Order (or Replace Order) Ringbook can do, and the Rejected reason
//! for what it cannot (docs/OUCH.md has the table).
//!
//! | OUCH field or option | Ringbook | refused with |
//! |---|---|---|
//! | Side `B` / `S` | buy / sell | `T`, `E` (short sales) and others: 0x09 Invalid side |
//! | Time In Force `0` day | `limit` (rests) | `5`, `6`, `E` and others: 0x0F Other |
//! | Time In Force `3` IOC | `ioc` | |
//! | IOC with MinQty = Quantity | `fok` | MinQty on a day order or below the quantity: 0x0D Invalid min quantity |
//! | PostOnly option `P` on a day order | `post_only` | post only on IOC: 0x0F Other |
//! | Display `Y` | every order is displayed | `N`, `A`, `Z`: 0x03 Invalid display |
//! | InterMarket Sweep `N` | | `Y`: 0x08 ISO not allowed |
//! | CrossType `N` | continuous market | any cross: 0x14 Invalid cross order |
//! | Capacity `A` `P` `R` `O` | not used by matching | others: 0x0F Other |
//! | Quantity 1 to 999,999 | | 0 or 1,000,000 and above: 0x13 Invalid quantity |
//! | Price a whole number of ticks | price in ticks | otherwise, or the market price 0x7FFFFFFF: 0x1D Invalid price |
//! | Symbol in the symbols file | the instrument | otherwise: 0x17 Invalid symbol |
//! | Firm, CustomerType options | accepted, not used | |
//! | MaxFloor N on a day order (a reserve order) | an iceberg with `display` N (0: no reserve, every share shown) | MaxFloor on an IOC order: 0x04 Invalid max floor |
//! | PriceType other than `L`, PegOffset, Discretion options | | 0x05 Invalid peg type / 0x11 Pegging not allowed |
//! | Route | | 0x16 Routing not allowed |
//! | any other option (ExpireTime, RandomReserves, ...) | | 0x0F Other |

use ringbook::{OrderKind, Price, Side};
use ringbook_wire::ouch::codes::{
    capacity, cross_type, display, intermarket_sweep, side, time_in_force,
};
use ringbook_wire::ouch::reasons::RejectCode;
use ringbook_wire::ouch::{Appendage, OptionTag, PriceScale};

/// The price OUCH reserves for a market order in a cross ($214,748.3647).
pub const MARKET_PRICE: u64 = 0x7FFF_FFFF;

/// The engine's view of an order's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// Its side.
    pub side: Side,
    /// Its kind.
    pub kind: OrderKind,
    /// Its limit price in ticks.
    pub price: Price,
    /// Its MaxFloor, the engine's display quantity of a reserve (iceberg) order; 0 for
    /// none.
    pub max_floor: u32,
}

/// The largest Quantity of an order (OUCH 5.0, Enter Order: "Must be greater than zero
/// and less than 1,000,000"; on a replace, the chain's total).
pub const MAX_QUANTITY: u32 = 999_999;

/// The side byte as the engine's side.
///
/// # Errors
///
/// [`RejectCode::InvalidSide`] for anything but `B` and `S`.
pub fn map_side(byte: u8) -> Result<Side, RejectCode> {
    match byte {
        side::BUY => Ok(Side::Buy),
        side::SELL => Ok(Side::Sell),
        _ => Err(RejectCode::InvalidSide),
    }
}

/// Checks the fields an Enter Order and a Replace Order share, and the options; the
/// engine's kind and price.
///
/// # Errors
///
/// The reject reason of the first field Ringbook cannot honour (module docs).
#[allow(clippy::too_many_arguments)]
pub fn map_order(
    side_byte: u8,
    quantity: u32,
    price: u64,
    tif: u8,
    display_byte: u8,
    capacity_byte: u8,
    iso: u8,
    cross: u8,
    appendage: &Appendage<'_>,
    scale: PriceScale,
) -> Result<Mapped, RejectCode> {
    let side = map_side(side_byte)?;
    if quantity == 0 || quantity > MAX_QUANTITY {
        return Err(RejectCode::InvalidQuantity);
    }
    if display_byte != display::VISIBLE {
        return Err(RejectCode::InvalidDisplay);
    }
    if iso != intermarket_sweep::NOT_ELIGIBLE {
        return Err(RejectCode::IsoNotAllowed);
    }
    if cross != cross_type::CONTINUOUS {
        return Err(RejectCode::InvalidCrossOrder);
    }
    if !capacity::ALL.contains(&capacity_byte) {
        return Err(RejectCode::Other);
    }
    let mut min_qty = None;
    let mut post_only = false;
    let mut max_floor = 0u32;
    for (tag, value) in appendage.options() {
        match OptionTag::from_byte(tag) {
            Some(OptionTag::Firm | OptionTag::CustomerType) => {}
            Some(OptionTag::MinQty) => {
                min_qty = Some(u32::from_be_bytes(
                    value
                        .try_into()
                        .map_err(|_| RejectCode::InvalidMinQuantity)?,
                ));
            }
            Some(OptionTag::PostOnly) => match value {
                b"P" => post_only = true,
                b"N" => post_only = false,
                _ => return Err(RejectCode::Other),
            },
            Some(OptionTag::PriceType) if value == b"L" => {}
            Some(OptionTag::PriceType) => return Err(RejectCode::InvalidPegType),
            Some(OptionTag::MaxFloor) => {
                max_floor =
                    u32::from_be_bytes(value.try_into().map_err(|_| RejectCode::InvalidMaxFloor)?);
            }
            Some(
                OptionTag::PegOffset
                | OptionTag::DiscretionPrice
                | OptionTag::DiscretionPriceType
                | OptionTag::DiscretionPegOffset,
            ) => return Err(RejectCode::PeggingNotAllowed),
            Some(OptionTag::Route) => return Err(RejectCode::RoutingNotAllowed),
            _ => return Err(RejectCode::Other),
        }
    }
    let kind = match tif {
        time_in_force::DAY => {
            if min_qty.is_some_and(|m| m > 0) {
                return Err(RejectCode::InvalidMinQuantity);
            }
            if post_only {
                OrderKind::PostOnly
            } else {
                OrderKind::Limit
            }
        }
        time_in_force::IOC => {
            // Nothing of an IOC order rests, so it has nothing to hold in reserve.
            if max_floor > 0 {
                return Err(RejectCode::InvalidMaxFloor);
            }
            if post_only {
                return Err(RejectCode::Other);
            }
            match min_qty {
                None | Some(0) => OrderKind::Ioc,
                Some(m) if m == quantity => OrderKind::Fok,
                Some(_) => return Err(RejectCode::InvalidMinQuantity),
            }
        }
        _ => return Err(RejectCode::Other),
    };
    if price == MARKET_PRICE {
        return Err(RejectCode::InvalidPrice);
    }
    let price = scale.to_ticks(price).ok_or(RejectCode::InvalidPrice)?;
    Ok(Mapped {
        side,
        kind,
        price,
        max_floor,
    })
}

/// The side a Mass Cancel Request's options name (its Side option `B` or `S`), `None`
/// for both sides.
///
/// # Errors
///
/// [`RejectCode::InvalidSide`] for another Side value; [`RejectCode::Other`] for the
/// GroupID and UserRefIdx criteria (Ringbook has no order groups) and any option the
/// spec does not list for Mass Cancel.
pub fn map_mass_cancel(appendage: &Appendage<'_>) -> Result<Option<Side>, RejectCode> {
    let mut side = None;
    for (tag, value) in appendage.options() {
        match OptionTag::from_byte(tag) {
            Some(OptionTag::Side) => match value {
                [byte] => side = Some(map_side(*byte)?),
                _ => return Err(RejectCode::InvalidSide),
            },
            _ => return Err(RejectCode::Other),
        }
    }
    Ok(side)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringbook_wire::ouch::appendage::write_option;

    fn map(side: u8, qty: u32, price: u64, tif: u8, app: &[u8]) -> Result<Mapped, RejectCode> {
        let appendage = Appendage::parse(app).unwrap();
        map_order(
            side,
            qty,
            price,
            tif,
            b'Y',
            b'A',
            b'N',
            b'N',
            &appendage,
            PriceScale::new(100).unwrap(),
        )
    }

    fn option(tag: OptionTag, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        write_option(&mut v, tag as u8, value);
        v
    }

    #[test]
    fn supported_orders_map_to_the_engine_kinds() {
        assert_eq!(
            map(b'B', 10, 12_300, b'0', &[]),
            Ok(Mapped {
                side: Side::Buy,
                kind: OrderKind::Limit,
                price: 123,
                max_floor: 0,
            })
        );
        // A reserve order: MaxFloor is the engine's display quantity.
        assert_eq!(
            map(
                b'B',
                500,
                100,
                b'0',
                &option(OptionTag::MaxFloor, &100u32.to_be_bytes())
            )
            .map(|m| (m.kind, m.max_floor)),
            Ok((OrderKind::Limit, 100))
        );
        assert_eq!(map(b'S', 10, 100, b'3', &[]).unwrap().kind, OrderKind::Ioc);
        assert_eq!(
            map(
                b'S',
                10,
                100,
                b'3',
                &option(OptionTag::MinQty, &10u32.to_be_bytes())
            )
            .unwrap()
            .kind,
            OrderKind::Fok
        );
        assert_eq!(
            map(b'S', 10, 100, b'0', &option(OptionTag::PostOnly, b"P"))
                .unwrap()
                .kind,
            OrderKind::PostOnly
        );
        assert!(map(b'B', 1, 100, b'0', &option(OptionTag::Firm, b"ABCD")).is_ok());
    }

    #[test]
    fn a_mass_cancel_may_name_a_side_and_nothing_else() {
        let parse = |app: &[u8]| map_mass_cancel(&Appendage::parse(app).unwrap());
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&option(OptionTag::Side, b"B")), Ok(Some(Side::Buy)));
        assert_eq!(parse(&option(OptionTag::Side, b"S")), Ok(Some(Side::Sell)));
        assert_eq!(
            parse(&option(OptionTag::Side, b"T")),
            Err(RejectCode::InvalidSide)
        );
        assert_eq!(
            parse(&option(OptionTag::GroupId, &3u16.to_be_bytes())),
            Err(RejectCode::Other)
        );
    }

    #[test]
    fn what_ringbook_cannot_do_is_rejected_with_the_spec_reason() {
        assert_eq!(map(b'T', 10, 100, b'0', &[]), Err(RejectCode::InvalidSide));
        assert_eq!(
            map(b'B', 0, 100, b'0', &[]),
            Err(RejectCode::InvalidQuantity)
        );
        assert_eq!(map(b'B', 10, 150, b'0', &[]), Err(RejectCode::InvalidPrice));
        assert_eq!(
            map(b'B', 10, MARKET_PRICE, b'3', &[]),
            Err(RejectCode::InvalidPrice)
        );
        assert_eq!(map(b'B', 10, 100, b'5', &[]), Err(RejectCode::Other));
        assert_eq!(
            map(
                b'B',
                10,
                100,
                b'3',
                &option(OptionTag::MinQty, &5u32.to_be_bytes())
            ),
            Err(RejectCode::InvalidMinQuantity)
        );
        assert_eq!(
            map(
                b'B',
                10,
                100,
                b'0',
                &option(OptionTag::MinQty, &5u32.to_be_bytes())
            ),
            Err(RejectCode::InvalidMinQuantity)
        );
        assert_eq!(
            map(
                b'B',
                10,
                100,
                b'3',
                &option(OptionTag::MaxFloor, &5u32.to_be_bytes())
            ),
            Err(RejectCode::InvalidMaxFloor),
            "an IOC order has no reserve"
        );
        assert_eq!(
            map(b'B', 10, 100, b'0', &option(OptionTag::PriceType, b"M")),
            Err(RejectCode::InvalidPegType)
        );
        assert_eq!(
            map(b'B', 10, 100, b'0', &option(OptionTag::Route, b"XYZ ")),
            Err(RejectCode::RoutingNotAllowed)
        );
        assert_eq!(
            map(
                b'B',
                10,
                100,
                b'0',
                &option(OptionTag::ExpireTime, &5u32.to_be_bytes())
            ),
            Err(RejectCode::Other)
        );
        let a = Appendage::EMPTY;
        let s = PriceScale::default();
        assert_eq!(
            map_order(b'B', 1, 1, b'0', b'N', b'A', b'N', b'N', &a, s),
            Err(RejectCode::InvalidDisplay)
        );
        assert_eq!(
            map_order(b'B', 1, 1, b'0', b'Y', b'A', b'Y', b'N', &a, s),
            Err(RejectCode::IsoNotAllowed)
        );
        assert_eq!(
            map_order(b'B', 1, 1, b'0', b'Y', b'A', b'N', b'O', &a, s),
            Err(RejectCode::InvalidCrossOrder)
        );
        assert_eq!(
            map_order(b'B', 1, 1, b'0', b'Y', b'x', b'N', b'N', &a, s),
            Err(RejectCode::Other)
        );
    }
}
