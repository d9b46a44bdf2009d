//! The event stream: one JSON object per line, written by hand so integers stay exact
//! (quantity totals may exceed 2^64) and nothing is allocated per event.

use std::io::{self, Write};

use uuid::Uuid;

use crate::result::{EndReason, OrderbookResult, SnapshotLevel, SnapshotStop};
use crate::types::Price;

/// Writes numbered events as JSON Lines, in the field order of the flow-format table.
///
/// # Examples
///
/// ```
/// use ringbook::flow::JsonlWriter;
/// use ringbook::{OrderbookResult, Uuid};
///
/// let mut writer = JsonlWriter::new(Vec::new());
/// writer.write_event(1, &OrderbookResult::Halted { instrument_id: Uuid::from_u128(1) }).unwrap();
/// let text = String::from_utf8(writer.into_inner()).unwrap();
/// assert_eq!(text, "{\"seq\":1,\"instrument\":\"00000000-0000-0000-0000-000000000001\",\"type\":\"halted\"}\n");
/// ```
///
/// For a long-form run ([`JsonlWriter::long_form`]) `status` also carries `stops` and
/// `last_trade_price`, and `snapshot` its `stops`; the other long-form fields (`trigger`,
/// `display`, `reason`) are written whenever an event has them, in either form.
#[derive(Debug)]
pub struct JsonlWriter<W: Write> {
    out: W,
    line: Vec<u8>,
    long_form: bool,
}

impl<W: Write> JsonlWriter<W> {
    /// A writer into `out`. Wrap files in a `BufWriter`: one `write_all` per event.
    pub fn new(out: W) -> JsonlWriter<W> {
        JsonlWriter {
            out,
            line: Vec::with_capacity(512),
            long_form: false,
        }
    }

    /// This writer, writing the long form's `status` and `snapshot` fields when
    /// `long_form` is true (the flow file had the eleven-column header).
    #[must_use]
    pub fn long_form(mut self, long_form: bool) -> JsonlWriter<W> {
        self.long_form = long_form;
        self
    }

    /// Switches the long form's `status` and `snapshot` fields on or off for the events
    /// written from now on (see [`JsonlWriter::long_form`]).
    pub fn set_long_form(&mut self, long_form: bool) {
        self.long_form = long_form;
    }

    /// Writes `event` numbered `seq` as one line.
    ///
    /// # Errors
    ///
    /// Any error of the underlying writer.
    pub fn write_event(&mut self, seq: u64, event: &OrderbookResult) -> io::Result<()> {
        self.line.clear();
        encode_event(&mut self.line, seq, event, self.long_form);
        self.out.write_all(&self.line)
    }

    /// Flushes the underlying writer.
    ///
    /// # Errors
    ///
    /// Any error of the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The underlying writer, borrowed.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

/// Appends `event`, numbered `seq`, as one JSON line to `out`; with the long form's
/// `status` and `snapshot` fields when `long_form`.
pub(crate) fn encode_event(out: &mut Vec<u8>, seq: u64, event: &OrderbookResult, long_form: bool) {
    let mut j = Json(out);
    j.raw("{\"seq\":");
    j.int(seq);
    j.raw(",\"instrument\":");
    j.uuid(event.instrument_id());
    j.raw(",\"type\":\"");
    j.raw(event.type_name());
    j.raw("\"");
    match event {
        OrderbookResult::Accepted {
            order_id,
            side,
            kind,
            price,
            qty,
            trigger,
            display,
            ..
        } => {
            j.key("order_id");
            j.uuid(*order_id);
            j.key("side");
            j.string(side.as_str());
            j.key("kind");
            j.string(kind.as_str());
            j.key("price");
            j.opt_int(*price);
            j.key("qty");
            j.int(*qty);
            if let Some(trigger) = trigger {
                j.key("trigger");
                j.int(*trigger);
            }
            if let Some(display) = display {
                j.key("display");
                j.int(display.get());
            }
        }
        OrderbookResult::Rejected {
            op,
            order_id,
            reason,
            ..
        } => {
            j.key("op");
            j.string(op.as_str());
            j.key("order_id");
            match order_id {
                Some(id) => j.uuid(*id),
                None => j.raw("null"),
            }
            j.key("reason");
            j.string(reason.as_str());
        }
        OrderbookResult::Trade {
            taker_order_id,
            maker_order_id,
            taker_side,
            price,
            qty,
            taker_remaining,
            maker_remaining,
            ..
        } => {
            j.key("taker_order_id");
            j.uuid(*taker_order_id);
            j.key("maker_order_id");
            j.uuid(*maker_order_id);
            j.key("taker_side");
            j.string(taker_side.as_str());
            j.key("price");
            j.int(*price);
            j.key("qty");
            j.int(*qty);
            j.key("taker_remaining");
            j.int(*taker_remaining);
            j.key("maker_remaining");
            j.int(*maker_remaining);
        }
        OrderbookResult::Cancelled {
            order_id,
            side,
            price,
            remaining_qty,
            reason,
            ..
        } => {
            j.key("order_id");
            j.uuid(*order_id);
            j.key("side");
            j.string(side.as_str());
            j.key("price");
            j.opt_int(*price);
            j.key("remaining_qty");
            j.int(*remaining_qty);
            j.reason(*reason);
        }
        OrderbookResult::Expired {
            order_id,
            side,
            price,
            remaining_qty,
            reason,
            ..
        } => {
            j.key("order_id");
            j.uuid(*order_id);
            j.key("side");
            j.string(side.as_str());
            j.key("price");
            j.opt_int(*price);
            j.key("remaining_qty");
            j.int(*remaining_qty);
            j.reason(*reason);
        }
        OrderbookResult::Modified {
            order_id,
            side,
            price,
            qty,
            old_price,
            old_qty,
            priority_kept,
            display,
            ..
        } => {
            j.key("order_id");
            j.uuid(*order_id);
            j.key("side");
            j.string(side.as_str());
            j.key("price");
            j.int(*price);
            j.key("qty");
            j.int(*qty);
            j.key("old_price");
            j.int(*old_price);
            j.key("old_qty");
            j.int(*old_qty);
            j.key("priority_kept");
            j.bool(*priority_kept);
            if let Some(display) = display {
                j.key("display");
                j.int(display.get());
            }
        }
        OrderbookResult::Halted { .. } | OrderbookResult::Resumed { .. } => {}
        OrderbookResult::Status { status, .. } => {
            j.key("halted");
            j.bool(status.halted);
            j.key("best_bid");
            j.opt_int(status.best_bid);
            j.key("best_bid_qty");
            j.int(status.best_bid_qty);
            j.key("best_ask");
            j.opt_int(status.best_ask);
            j.key("best_ask_qty");
            j.int(status.best_ask_qty);
            j.key("bid_levels");
            j.int(status.bid_levels);
            j.key("ask_levels");
            j.int(status.ask_levels);
            j.key("orders");
            j.int(status.orders);
            if long_form {
                j.key("stops");
                j.int(status.stops);
                j.key("last_trade_price");
                j.opt_int(status.last_trade_price);
            }
        }
        OrderbookResult::Snapshot { snapshot, .. } => {
            j.key("halted");
            j.bool(snapshot.halted);
            j.key("bids");
            j.levels(&snapshot.bids);
            j.key("asks");
            j.levels(&snapshot.asks);
            if long_form {
                j.key("stops");
                j.stops(&snapshot.stops);
            }
        }
        OrderbookResult::Triggered {
            order_id,
            side,
            kind,
            trigger,
            ..
        } => {
            j.key("order_id");
            j.uuid(*order_id);
            j.key("side");
            j.string(side.as_str());
            j.key("kind");
            j.string(kind.as_str());
            j.key("trigger");
            j.int(*trigger);
        }
        OrderbookResult::MassCancelled { owner, count, .. } => {
            j.key("owner");
            match owner {
                Some(owner) => j.int(*owner),
                None => j.raw("null"),
            }
            j.key("count");
            j.int(*count);
        }
    }
    j.raw("}\n");
}

/// A tiny JSON emitter over a byte buffer: only what the event stream needs.
struct Json<'a>(&'a mut Vec<u8>);

impl Json<'_> {
    #[inline]
    fn raw(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    /// `,"name":` — every key follows the fixed `seq`, `instrument`, `type` prefix, so it
    /// always needs the comma.
    #[inline]
    fn key(&mut self, name: &str) {
        self.raw(",\"");
        self.raw(name);
        self.raw("\":");
    }

    /// A string known to need no escaping (the stream's words are fixed ASCII).
    #[inline]
    fn string(&mut self, s: &str) {
        self.raw("\"");
        self.raw(s);
        self.raw("\"");
    }

    #[inline]
    fn uuid(&mut self, id: Uuid) {
        let mut buf = Uuid::encode_buffer();
        self.raw("\"");
        self.raw(id.hyphenated().encode_lower(&mut buf));
        self.raw("\"");
    }

    #[inline]
    fn int<I: itoa::Integer>(&mut self, value: I) {
        self.raw(itoa::Buffer::new().format(value));
    }

    #[inline]
    fn opt_int(&mut self, value: Option<Price>) {
        match value {
            Some(v) => self.int(v),
            None => self.raw("null"),
        }
    }

    /// `,"reason":"..."` when `reason` is not the plain one; nothing otherwise.
    #[inline]
    fn reason(&mut self, reason: EndReason) {
        if let Some(word) = reason.as_str() {
            self.key("reason");
            self.string(word);
        }
    }

    /// A snapshot's parked stops, in acceptance order.
    fn stops(&mut self, stops: &[SnapshotStop]) {
        self.raw("[");
        for (i, stop) in stops.iter().enumerate() {
            if i > 0 {
                self.raw(",");
            }
            self.raw("{\"order_id\":");
            self.uuid(stop.order_id);
            self.raw(",\"side\":");
            self.string(stop.side.as_str());
            self.raw(",\"kind\":");
            self.string(stop.kind.as_str());
            self.raw(",\"trigger\":");
            self.int(stop.trigger);
            self.raw(",\"price\":");
            self.opt_int(stop.price);
            self.raw(",\"qty\":");
            self.int(stop.qty);
            self.raw("}");
        }
        self.raw("]");
    }

    #[inline]
    fn bool(&mut self, value: bool) {
        self.raw(if value { "true" } else { "false" });
    }

    fn levels(&mut self, levels: &[SnapshotLevel]) {
        self.raw("[");
        for (i, level) in levels.iter().enumerate() {
            if i > 0 {
                self.raw(",");
            }
            self.raw("{\"price\":");
            self.int(level.price);
            self.raw(",\"orders\":[");
            for (k, order) in level.orders.iter().enumerate() {
                if k > 0 {
                    self.raw(",");
                }
                self.raw("{\"order_id\":");
                self.uuid(order.order_id);
                self.raw(",\"qty\":");
                self.int(order.qty);
                self.raw("}");
            }
            self.raw("]}");
        }
        self.raw("]");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Op;
    use crate::result::{BookSnapshot, BookStatus, RejectReason, SnapshotOrder};
    use crate::types::{OrderKind, Side};

    fn line(event: OrderbookResult) -> String {
        let mut out = Vec::new();
        encode_event(&mut out, 7, &event, false);
        String::from_utf8(out).unwrap()
    }

    const I: &str = "\"instrument\":\"ffffffff-ffff-ffff-ffff-ffffffffffff\"";

    fn inst() -> Uuid {
        Uuid::from_u128(u128::MAX)
    }

    #[test]
    fn every_type_has_its_fields() {
        let o = Uuid::from_u128(0xab);
        let oid = "\"00000000-0000-0000-0000-0000000000ab\"";
        let cases = [
            (
                OrderbookResult::Accepted {
                    instrument_id: inst(),
                    order_id: o,
                    side: Side::Buy,
                    kind: OrderKind::Market,
                    price: None,
                    qty: u64::MAX,
                    display: None,
                    trigger: None,
                },
                format!(
                    "{{\"seq\":7,{I},\"type\":\"accepted\",\"order_id\":{oid},\"side\":\"buy\",\"kind\":\"market\",\"price\":null,\"qty\":18446744073709551615}}\n"
                ),
            ),
            (
                OrderbookResult::Rejected {
                    instrument_id: inst(),
                    op: Op::Status,
                    order_id: None,
                    reason: RejectReason::InstrumentNotRegistered,
                },
                format!(
                    "{{\"seq\":7,{I},\"type\":\"rejected\",\"op\":\"status\",\"order_id\":null,\"reason\":\"instrument_not_registered\"}}\n"
                ),
            ),
            (
                OrderbookResult::Trade {
                    instrument_id: inst(),
                    taker_order_id: o,
                    maker_order_id: o,
                    taker_side: Side::Sell,
                    price: i64::MIN,
                    qty: 1,
                    taker_remaining: 2,
                    maker_remaining: 3,
                },
                format!(
                    "{{\"seq\":7,{I},\"type\":\"trade\",\"taker_order_id\":{oid},\"maker_order_id\":{oid},\"taker_side\":\"sell\",\"price\":-9223372036854775808,\"qty\":1,\"taker_remaining\":2,\"maker_remaining\":3}}\n"
                ),
            ),
            (
                OrderbookResult::Resumed {
                    instrument_id: inst(),
                },
                format!("{{\"seq\":7,{I},\"type\":\"resumed\"}}\n"),
            ),
            (
                OrderbookResult::Status {
                    instrument_id: inst(),
                    status: Box::new(BookStatus {
                        halted: true,
                        best_bid: Some(3),
                        best_bid_qty: u128::from(u64::MAX) * 3,
                        best_ask: None,
                        best_ask_qty: 0,
                        bid_levels: 1,
                        ask_levels: 0,
                        orders: 3,
                        last_trade_price: None,
                        stops: Default::default(),
                    }),
                },
                format!(
                    "{{\"seq\":7,{I},\"type\":\"status\",\"halted\":true,\"best_bid\":3,\"best_bid_qty\":55340232221128654845,\"best_ask\":null,\"best_ask_qty\":0,\"bid_levels\":1,\"ask_levels\":0,\"orders\":3}}\n"
                ),
            ),
            (
                OrderbookResult::Snapshot {
                    instrument_id: inst(),
                    snapshot: Box::new(BookSnapshot {
                        halted: false,
                        bids: vec![
                            SnapshotLevel {
                                price: 5,
                                orders: vec![
                                    SnapshotOrder {
                                        order_id: o,
                                        qty: 1,
                                    },
                                    SnapshotOrder {
                                        order_id: o,
                                        qty: 2,
                                    },
                                ],
                            },
                            SnapshotLevel {
                                price: 4,
                                orders: vec![SnapshotOrder {
                                    order_id: o,
                                    qty: 3,
                                }],
                            },
                        ],
                        asks: vec![],
                        stops: Default::default(),
                    }),
                },
                format!(
                    "{{\"seq\":7,{I},\"type\":\"snapshot\",\"halted\":false,\"bids\":[{{\"price\":5,\"orders\":[{{\"order_id\":{oid},\"qty\":1}},{{\"order_id\":{oid},\"qty\":2}}]}},{{\"price\":4,\"orders\":[{{\"order_id\":{oid},\"qty\":3}}]}}],\"asks\":[]}}\n"
                ),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(line(event), expected);
        }
    }

    const OID: &str = "\"00000000-0000-0000-0000-0000000000ab\"";

    fn o() -> Uuid {
        Uuid::from_u128(0xab)
    }

    #[test]
    fn cancelled_has_side_and_price_before_remaining_qty() {
        let event = OrderbookResult::Cancelled {
            instrument_id: inst(),
            order_id: o(),
            side: Side::Sell,
            price: Some(i64::MIN),
            remaining_qty: u64::MAX,
            reason: crate::result::EndReason::Plain,
        };
        assert_eq!(
            line(event),
            format!(
                "{{\"seq\":7,{I},\"type\":\"cancelled\",\"order_id\":{OID},\"side\":\"sell\",\"price\":-9223372036854775808,\"remaining_qty\":18446744073709551615}}\n"
            )
        );
    }

    #[test]
    fn expired_has_side_and_its_limit_or_null_for_a_market_order() {
        let limit = OrderbookResult::Expired {
            instrument_id: inst(),
            order_id: o(),
            side: Side::Buy,
            price: Some(-3),
            remaining_qty: 5,
            reason: crate::result::EndReason::Plain,
        };
        assert_eq!(
            line(limit),
            format!(
                "{{\"seq\":7,{I},\"type\":\"expired\",\"order_id\":{OID},\"side\":\"buy\",\"price\":-3,\"remaining_qty\":5}}\n"
            )
        );
        let market = OrderbookResult::Expired {
            instrument_id: inst(),
            order_id: o(),
            side: Side::Sell,
            price: None,
            remaining_qty: 1,
            reason: crate::result::EndReason::Plain,
        };
        assert_eq!(
            line(market),
            format!(
                "{{\"seq\":7,{I},\"type\":\"expired\",\"order_id\":{OID},\"side\":\"sell\",\"price\":null,\"remaining_qty\":1}}\n"
            )
        );
    }

    #[test]
    fn modified_has_side_new_and_old_price_and_qty_then_priority_kept() {
        let kept = OrderbookResult::Modified {
            instrument_id: inst(),
            order_id: o(),
            side: Side::Sell,
            price: -2,
            qty: 6,
            old_price: -2,
            old_qty: u64::MAX,
            priority_kept: true,
            display: None,
        };
        assert_eq!(
            line(kept),
            format!(
                "{{\"seq\":7,{I},\"type\":\"modified\",\"order_id\":{OID},\"side\":\"sell\",\"price\":-2,\"qty\":6,\"old_price\":-2,\"old_qty\":18446744073709551615,\"priority_kept\":true}}\n"
            )
        );
        let moved = OrderbookResult::Modified {
            instrument_id: inst(),
            order_id: o(),
            side: Side::Buy,
            price: 10,
            qty: 7,
            old_price: i64::MAX,
            old_qty: 3,
            priority_kept: false,
            display: None,
        };
        assert_eq!(
            line(moved),
            format!(
                "{{\"seq\":7,{I},\"type\":\"modified\",\"order_id\":{OID},\"side\":\"buy\",\"price\":10,\"qty\":7,\"old_price\":9223372036854775807,\"old_qty\":3,\"priority_kept\":false}}\n"
            )
        );
    }
}
