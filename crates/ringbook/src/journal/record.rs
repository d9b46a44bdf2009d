//! The binary journal record: one sequenced command.
//!
//! ```text
//! offset size  field
//!      0    4  len           u32 LE: payload length in bytes (20..=1024)
//!      4    8  seq           u64 LE: the global sequence number
//!     12    8  timestamp_ns  u64 LE: the sequencer's timestamp
//!     20    4  crc32         u32 LE: CRC-32C (Castagnoli) of bytes 0..20 followed by the payload
//!     24  len  payload
//! ```
//!
//! The CRC covers the length, the seq, the timestamp and the payload: every byte of the
//! record but the CRC itself.
//!
//! Payload, version 1 (integers little-endian, ids 16 bytes in RFC 4122 byte order):
//!
//! ```text
//!  0  u8   payload version (1)
//!  1  u8   disposition: 0 apply, 1 reject
//!  2  u8   reject reason: 0 for apply; 1 instrument_not_registered, 2 orderbook_halted,
//!          3 invalid_quantity, 4 duplicate_order_id, 5 unknown_order, 6 post_only_would_cross,
//!          7 not_modifiable
//!  3  u8   op: 0 add, 1 cancel, 2 modify, 3 halt, 4 resume, 5 status, 6 snapshot,
//!          7 mass_cancel
//!  4  16   instrument id
//! 20       then, by op:
//!          add:    order id (16), side u8 (0 buy, 1 sell),
//!                  kind u8 (0 limit, 1 market, 2 ioc, 3 fok, 4 post_only, 5 stop,
//!                  6 stop_limit), price i64, qty u64                (payload 54 bytes)
//!                  an add with any long-form extra (an owner, a display, a stop kind)
//!                  adds owner u64, trigger i64, display u64 and a flags byte (bit 0: has
//!                  owner, bits 1-2: stp 0 none 1 cancel_newest 2 cancel_oldest
//!                  3 cancel_both, bit 3: has display)              (payload 79 bytes)
//!          cancel: order id (16)                                   (payload 36 bytes)
//!          modify: order id (16), price i64, qty u64               (payload 52 bytes)
//!          halt, resume, status, snapshot: nothing                 (payload 20 bytes)
//!          mass_cancel: flags u8 (bit 0: has owner, bit 1: has side), side u8,
//!                  owner u64                                       (payload 30 bytes)
//! ```
//!
//! A market order's price field is stored as given (the book ignores it), so a command
//! reads back exactly equal.

use uuid::Uuid;

use crate::command::{Command, Op};
use crate::result::RejectReason;
use crate::types::{Order, OrderKind, Side, StpMode};

/// The size of a record header: length, seq, timestamp and CRC.
pub const RECORD_HEADER_LEN: usize = 24;

/// The largest payload a reader accepts. Version 1 payloads are at most 54 bytes; the
/// bound keeps a corrupt length from being believed.
pub const MAX_PAYLOAD_LEN: u32 = 1024;

/// The payload length of a plain add; a long-form add's is [`LONG_ADD_PAYLOAD_LEN`].
const ADD_PAYLOAD_LEN: usize = 54;
/// The payload length of an add with long-form extras.
const LONG_ADD_PAYLOAD_LEN: usize = ADD_PAYLOAD_LEN + 25;
/// The payload length of a mass cancel.
const MASS_CANCEL_PAYLOAD_LEN: usize = 30;

/// The smallest payload of version 1 (an op with no fields beyond its instrument).
pub(super) const MIN_PAYLOAD_LEN: u32 = 20;

/// The payload format version written by this build (long-form records are told apart
/// by their op code and length, so version 1 files read unchanged).
pub const PAYLOAD_VERSION: u8 = 1;

/// The largest record this build writes.
pub(crate) const MAX_RECORD_LEN: usize = RECORD_HEADER_LEN + LONG_ADD_PAYLOAD_LEN;

/// One journaled command: what the sequencer sequenced, with its number and timestamp.
///
/// `reject: None` is an `Apply` envelope (the book applies the command); `Some(reason)` is
/// a `Reject` envelope (the caller refused the command, and its `rejected` event travels in
/// sequence). The stop marker is never journaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JournalEntry {
    /// The global sequence number: 1 for the first command ever, then +1 each.
    pub seq: u64,
    /// The sequencer's timestamp, in nanoseconds since its epoch.
    pub timestamp_ns: u64,
    /// The command.
    pub command: Command,
    /// `None` to apply the command; the reason when it was rejected before its book.
    pub reject: Option<RejectReason>,
}

impl JournalEntry {
    /// An entry that applies `command`.
    #[must_use]
    pub const fn apply(seq: u64, timestamp_ns: u64, command: Command) -> JournalEntry {
        JournalEntry {
            seq,
            timestamp_ns,
            command,
            reject: None,
        }
    }

    /// An entry for `command`, rejected with `reason` before its book.
    #[must_use]
    pub const fn rejected(
        seq: u64,
        timestamp_ns: u64,
        command: Command,
        reason: RejectReason,
    ) -> JournalEntry {
        JournalEntry {
            seq,
            timestamp_ns,
            command,
            reject: Some(reason),
        }
    }

    /// The size of this entry's record on disk, header included.
    #[inline]
    #[must_use]
    pub fn record_len(&self) -> usize {
        RECORD_HEADER_LEN + payload_len(&self.command)
    }
}

/// The payload length of `command`'s record.
#[inline]
pub(crate) const fn payload_len(command: &Command) -> usize {
    match command {
        Command::Add(order) if order.is_plain() => ADD_PAYLOAD_LEN,
        Command::Add(_) => LONG_ADD_PAYLOAD_LEN,
        Command::Cancel { .. } => 36,
        Command::Modify { .. } => 52,
        Command::MassCancel { .. } => MASS_CANCEL_PAYLOAD_LEN,
        _ => 20,
    }
}

#[inline]
const fn reason_code(reason: RejectReason) -> u8 {
    match reason {
        RejectReason::InstrumentNotRegistered => 1,
        RejectReason::OrderbookHalted => 2,
        RejectReason::InvalidQuantity => 3,
        RejectReason::DuplicateOrderId => 4,
        RejectReason::UnknownOrder => 5,
        RejectReason::PostOnlyWouldCross => 6,
        RejectReason::NotModifiable => 7,
    }
}

#[inline]
const fn op_code(op: Op) -> u8 {
    match op {
        Op::Add => 0,
        Op::Cancel => 1,
        Op::Modify => 2,
        Op::Halt => 3,
        Op::Resume => 4,
        Op::Status => 5,
        Op::Snapshot => 6,
        Op::MassCancel => 7,
    }
}

#[inline]
const fn kind_code(kind: OrderKind) -> u8 {
    match kind {
        OrderKind::Limit => 0,
        OrderKind::Market => 1,
        OrderKind::Ioc => 2,
        OrderKind::Fok => 3,
        OrderKind::PostOnly => 4,
        OrderKind::Stop => 5,
        OrderKind::StopLimit => 6,
    }
}

/// The flags byte of a long-form add: bit 0 has owner, bits 1-2 the stp mode, bit 3 has
/// display.
fn extras_flags(order: &Order) -> u8 {
    let stp = match order.stp() {
        None => 0,
        Some(StpMode::CancelNewest) => 1,
        Some(StpMode::CancelOldest) => 2,
        Some(StpMode::CancelBoth) => 3,
    };
    u8::from(order.owner().is_some()) | (stp << 1) | (u8::from(order.display().is_some()) << 3)
}

/// A long-form add's extras applied to `order`, from the 25 bytes after a plain add.
fn with_extras(order: Order, extras: &[u8]) -> Result<Order, String> {
    let u64_at = |i: usize| u64::from_le_bytes(extras[i..i + 8].try_into().expect("8 bytes"));
    let flags = extras[24];
    if flags & !0b1111 != 0 {
        return Err(format!("unknown add flags {flags:#04x}"));
    }
    let stp = match (flags >> 1) & 0b11 {
        0 => None,
        1 => Some(StpMode::CancelNewest),
        2 => Some(StpMode::CancelOldest),
        _ => Some(StpMode::CancelBoth),
    };
    let mut order = order.with_trigger(u64_at(8) as i64);
    match (flags & 1 != 0, stp) {
        (true, stp) => order = order.with_owner(u64_at(0), stp),
        (false, None) => {}
        (false, Some(_)) => return Err("an stp mode without an owner".to_string()),
    }
    if flags & 0b1000 != 0 {
        order = order.with_display(u64_at(16));
    }
    if order.is_plain() {
        return Err("a long-form add without any long-form field".to_string());
    }
    Ok(order)
}

#[inline]
pub(crate) const fn side_code(side: Side) -> u8 {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

/// The side of code `code` (0 buy, 1 sell).
pub(crate) fn side_of(code: u8) -> Option<Side> {
    match code {
        0 => Some(Side::Buy),
        1 => Some(Side::Sell),
        _ => None,
    }
}

/// The CRC of a record: CRC-32C (Castagnoli) of bytes 0..20 of its header, then its
/// payload. CRC-32C because x86-64 and AArch64 compute it in hardware: on the 2-core
/// development machine the IEEE CRC took 18 ns of a record's 93 ns (the sequencer's hot
/// path), the hardware CRC-32C a few.
#[inline]
pub(crate) fn record_crc(header: &[u8], payload: &[u8]) -> u32 {
    super::crc::crc32c(&[&header[..20], payload])
}

/// Appends `entry`'s record to `out`. Allocates nothing when `out` has room: the record is
/// built on the stack and copied in once.
#[inline]
pub(crate) fn encode_record(entry: &JournalEntry, out: &mut Vec<u8>) {
    let mut rec = [0u8; MAX_RECORD_LEN];
    let payload = payload_len(&entry.command);
    let total = RECORD_HEADER_LEN + payload;
    rec[0..4].copy_from_slice(&(payload as u32).to_le_bytes());
    rec[4..12].copy_from_slice(&entry.seq.to_le_bytes());
    rec[12..20].copy_from_slice(&entry.timestamp_ns.to_le_bytes());
    let command = &entry.command;
    let (disposition, reason) = match entry.reject {
        None => (0, 0),
        Some(reason) => (1, reason_code(reason)),
    };
    rec[24..28].copy_from_slice(&[PAYLOAD_VERSION, disposition, reason, op_code(command.op())]);
    rec[28..44].copy_from_slice(command.instrument_id().as_bytes());
    match *command {
        Command::Add(ref order) => {
            rec[44..60].copy_from_slice(order.order_id.as_bytes());
            rec[60] = side_code(order.side);
            rec[61] = kind_code(order.kind);
            rec[62..70].copy_from_slice(&order.price.to_le_bytes());
            rec[70..78].copy_from_slice(&order.quantity.to_le_bytes());
            if !order.is_plain() {
                rec[78..86].copy_from_slice(&order.owner().unwrap_or(0).to_le_bytes());
                rec[86..94].copy_from_slice(&order.trigger().unwrap_or(0).to_le_bytes());
                rec[94..102].copy_from_slice(&order.display().unwrap_or(0).to_le_bytes());
                rec[102] = extras_flags(order);
            }
        }
        Command::MassCancel { owner, side, .. } => {
            rec[44] = u8::from(owner.is_some()) | (u8::from(side.is_some()) << 1);
            rec[45] = side.map_or(0, side_code);
            rec[46..54].copy_from_slice(&owner.unwrap_or(0).to_le_bytes());
        }
        Command::Cancel { order_id, .. } => rec[44..60].copy_from_slice(order_id.as_bytes()),
        Command::Modify {
            order_id,
            price,
            qty,
            ..
        } => {
            rec[44..60].copy_from_slice(order_id.as_bytes());
            rec[60..68].copy_from_slice(&price.to_le_bytes());
            rec[68..76].copy_from_slice(&qty.to_le_bytes());
        }
        Command::Halt { .. }
        | Command::Resume { .. }
        | Command::Status { .. }
        | Command::Snapshot { .. } => {}
    }
    let crc = record_crc(&rec[..RECORD_HEADER_LEN], &rec[RECORD_HEADER_LEN..total]);
    rec[20..24].copy_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&rec[..total]);
}

/// A record header, decoded but not yet checked against its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub(crate) len: u32,
    pub(crate) seq: u64,
    pub(crate) timestamp_ns: u64,
    pub(crate) crc: u32,
}

impl RecordHeader {
    /// Decodes the first [`RECORD_HEADER_LEN`] bytes of `bytes`.
    pub(crate) fn parse(bytes: &[u8]) -> RecordHeader {
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        RecordHeader {
            len: u32_at(0),
            seq: u64_at(4),
            timestamp_ns: u64_at(12),
            crc: u32_at(20),
        }
    }

    /// Whether the length is one a reader believes.
    #[inline]
    pub(crate) fn plausible_len(&self) -> bool {
        (MIN_PAYLOAD_LEN..=MAX_PAYLOAD_LEN).contains(&self.len)
    }
}

/// Decodes a payload whose CRC has been verified.
///
/// # Errors
///
/// What is wrong with it: an unknown version or code, a length that does not fit its op.
pub(crate) fn decode_payload(
    seq: u64,
    timestamp_ns: u64,
    payload: &[u8],
) -> Result<JournalEntry, String> {
    if payload.len() < MIN_PAYLOAD_LEN as usize {
        return Err(format!("payload of {} bytes is too short", payload.len()));
    }
    if payload[0] != PAYLOAD_VERSION {
        return Err(format!(
            "unknown payload version {} (this build reads {PAYLOAD_VERSION})",
            payload[0]
        ));
    }
    let reject = match (payload[1], payload[2]) {
        (0, 0) => None,
        (0, code) => return Err(format!("apply record with reject reason code {code}")),
        (1, code) => match RejectReason::ALL
            .into_iter()
            .find(|&reason| reason_code(reason) == code)
        {
            Some(reason) => Some(reason),
            None => return Err(format!("unknown reject reason code {code}")),
        },
        (d, _) => return Err(format!("unknown disposition {d}")),
    };
    let op = *Op::LONG_FORM
        .get(usize::from(payload[3]))
        .ok_or_else(|| format!("unknown op code {}", payload[3]))?;
    let id_at = |i: usize| Uuid::from_bytes(payload[i..i + 16].try_into().expect("16 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(payload[i..i + 8].try_into().expect("8 bytes"));
    let instrument_id = id_at(4);
    let expected = match op {
        Op::Add if payload.len() == LONG_ADD_PAYLOAD_LEN => LONG_ADD_PAYLOAD_LEN,
        Op::Add => ADD_PAYLOAD_LEN,
        Op::Cancel => 36,
        Op::Modify => 52,
        Op::MassCancel => MASS_CANCEL_PAYLOAD_LEN,
        _ => 20,
    };
    if payload.len() != expected {
        return Err(format!(
            "{op} payload is {} bytes, expected {expected}",
            payload.len()
        ));
    }
    let command = match op {
        Op::Add => {
            let side =
                side_of(payload[36]).ok_or_else(|| format!("unknown side code {}", payload[36]))?;
            let kind = *OrderKind::LONG_FORM
                .get(usize::from(payload[37]))
                .ok_or_else(|| format!("unknown order kind code {}", payload[37]))?;
            let order = Order::new(
                id_at(20),
                instrument_id,
                side,
                kind,
                u64_at(38) as i64,
                u64_at(46),
            );
            if payload.len() == LONG_ADD_PAYLOAD_LEN {
                Command::Add(with_extras(order, &payload[ADD_PAYLOAD_LEN..])?)
            } else if kind.is_stop() {
                return Err(format!(
                    "a {kind} add without its trigger (a plain add's length)"
                ));
            } else {
                Command::Add(order)
            }
        }
        Op::MassCancel => {
            let flags = payload[20];
            if flags & !0b11 != 0 {
                return Err(format!("unknown mass_cancel flags {flags:#04x}"));
            }
            let side = if flags & 0b10 != 0 {
                Some(
                    side_of(payload[21])
                        .ok_or_else(|| format!("unknown side code {}", payload[21]))?,
                )
            } else {
                None
            };
            Command::MassCancel {
                instrument_id,
                owner: (flags & 1 != 0).then(|| u64_at(22)),
                side,
            }
        }
        Op::Cancel => Command::Cancel {
            instrument_id,
            order_id: id_at(20),
        },
        Op::Modify => Command::Modify {
            instrument_id,
            order_id: id_at(20),
            price: u64_at(36) as i64,
            qty: u64_at(44),
        },
        Op::Halt => Command::Halt { instrument_id },
        Op::Resume => Command::Resume { instrument_id },
        Op::Status => Command::Status { instrument_id },
        Op::Snapshot => Command::Snapshot { instrument_id },
    };
    Ok(JournalEntry {
        seq,
        timestamp_ns,
        command,
        reject,
    })
}

/// Why bytes are not a valid record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RecordError {
    /// The bytes end before the record does: what a write cut short leaves.
    Truncated(String),
    /// An implausible length or a CRC mismatch: a torn write, or damage.
    Damaged(String),
    /// The CRC is right but the content is not a record this build reads: never a torn
    /// write.
    Invalid(String),
}

impl RecordError {
    /// What is wrong.
    pub(crate) fn reason(&self) -> &str {
        match self {
            RecordError::Truncated(r) | RecordError::Damaged(r) | RecordError::Invalid(r) => r,
        }
    }
}

/// Decodes and verifies one whole record at the start of `bytes`: its entry and length.
///
/// # Errors
///
/// What is wrong: too short, an implausible length, a CRC mismatch, a bad payload.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<(JournalEntry, usize), RecordError> {
    if bytes.len() < RECORD_HEADER_LEN {
        return Err(RecordError::Truncated(format!(
            "truncated record header: {} bytes left, a header is {RECORD_HEADER_LEN}",
            bytes.len()
        )));
    }
    let header = RecordHeader::parse(bytes);
    if !header.plausible_len() {
        return Err(RecordError::Damaged(format!(
            "payload length {} outside {MIN_PAYLOAD_LEN}..={MAX_PAYLOAD_LEN}",
            header.len
        )));
    }
    let total = RECORD_HEADER_LEN + header.len as usize;
    if bytes.len() < total {
        return Err(RecordError::Truncated(format!(
            "truncated record: {total} bytes long, {} bytes left",
            bytes.len()
        )));
    }
    let payload = &bytes[RECORD_HEADER_LEN..total];
    let crc = record_crc(bytes, payload);
    if crc != header.crc {
        return Err(RecordError::Damaged(format!(
            "CRC mismatch: stored {:#010x}, computed {crc:#010x}",
            header.crc
        )));
    }
    let entry = decode_payload(header.seq, header.timestamp_ns, payload)
        .map_err(|reason| RecordError::Invalid(format!("seq {}: {reason}", header.seq)))?;
    Ok((entry, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One command of every op and every order kind, with extreme values.
    fn every_command() -> Vec<Command> {
        let i = Uuid::from_u128(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        let o = Uuid::from_u128(u128::MAX - 5);
        let mut commands: Vec<Command> = OrderKind::ALL
            .into_iter()
            .zip([i64::MIN, 0, -1, i64::MAX, 42])
            .enumerate()
            .map(|(n, (kind, price))| {
                let side = if n % 2 == 0 { Side::Buy } else { Side::Sell };
                Command::Add(Order::new(o, i, side, kind, price, u64::MAX - n as u64))
            })
            .collect();
        commands.extend([
            Command::Add(Order::limit(Uuid::nil(), i, Side::Buy, 1, 0)),
            Command::Cancel {
                instrument_id: i,
                order_id: o,
            },
            Command::Modify {
                instrument_id: i,
                order_id: o,
                price: -7,
                qty: 0,
            },
            Command::Halt { instrument_id: i },
            Command::Resume { instrument_id: i },
            Command::Status { instrument_id: i },
            Command::Snapshot { instrument_id: i },
        ]);
        commands
    }

    fn entries() -> Vec<JournalEntry> {
        let mut out = Vec::new();
        let mut seq = 1;
        for command in every_command() {
            for reject in std::iter::once(None).chain(RejectReason::ALL.map(Some)) {
                out.push(JournalEntry {
                    seq,
                    timestamp_ns: seq.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    command,
                    reject,
                });
                seq += 1;
            }
        }
        out
    }

    #[test]
    fn every_command_and_reason_round_trips() {
        let mut buf = Vec::new();
        for entry in entries() {
            buf.clear();
            encode_record(&entry, &mut buf);
            assert_eq!(buf.len(), entry.record_len());
            assert!(buf.len() <= MAX_RECORD_LEN);
            let (decoded, len) = decode_record(&buf).unwrap();
            assert_eq!(decoded, entry);
            assert_eq!(len, buf.len());
        }
    }

    #[test]
    fn encoding_reuses_the_buffer() {
        let entries = entries();
        let mut buf = Vec::with_capacity(MAX_RECORD_LEN * entries.len());
        let capacity = buf.capacity();
        let pointer = buf.as_ptr();
        for entry in &entries {
            encode_record(entry, &mut buf);
        }
        assert_eq!(buf.capacity(), capacity);
        assert_eq!(buf.as_ptr(), pointer, "no reallocation");
        let mut at = 0;
        for entry in &entries {
            let (decoded, len) = decode_record(&buf[at..]).unwrap();
            assert_eq!(&decoded, entry);
            at += len;
        }
        assert_eq!(at, buf.len());
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        for entry in entries().into_iter().step_by(7) {
            let mut buf = Vec::new();
            encode_record(&entry, &mut buf);
            for byte in 0..buf.len() {
                for bit in 0..8 {
                    let mut bad = buf.clone();
                    bad[byte] ^= 1 << bit;
                    assert!(
                        decode_record(&bad).is_err(),
                        "flip of bit {bit} in byte {byte} of {entry:?} went unnoticed"
                    );
                }
            }
        }
    }

    #[test]
    fn truncated_records_are_reported() {
        let mut buf = Vec::new();
        encode_record(&entries()[0], &mut buf);
        for cut in 0..buf.len() {
            let err = decode_record(&buf[..cut]).unwrap_err();
            assert!(matches!(err, RecordError::Truncated(_)), "{err:?}");
            assert!(err.reason().contains("truncated"), "{err:?}");
        }
    }

    #[test]
    fn bad_payloads_with_good_crcs_are_named() {
        let entry = entries()[0];
        let cases: [(usize, u8, &str); 5] = [
            (24, 2, "unknown payload version 2"),
            (25, 7, "unknown disposition 7"),
            (26, 3, "apply record with reject reason code 3"),
            (27, 9, "unknown op code 9"),
            (24 + 36, 5, "unknown side code 5"),
        ];
        for (at, value, want) in cases {
            let mut buf = Vec::new();
            encode_record(&entry, &mut buf);
            buf[at] = value;
            let crc = record_crc(&buf[..24], &buf[24..]);
            buf[20..24].copy_from_slice(&crc.to_le_bytes());
            let err = decode_record(&buf).unwrap_err();
            assert!(matches!(err, RecordError::Invalid(_)), "{err:?}");
            assert!(err.reason().contains(want), "{err:?} (wanted {want})");
        }
    }
}
