//! MoldUDP64 downstream packets (specification "Downstream Packet Header" and "Message
//! Blocks"): Session (10 alpha), Sequence Number (8, big-endian: the sequence number of the
//! first message in the packet, or the next expected one in a heartbeat), Message Count (2,
//! big-endian; 0 for a heartbeat, 0xFFFF for end of session), then Message Count message
//! blocks of Message Length (2, big-endian) and that many bytes. Checked against the NASDAQ
//! MoldUDP64 Protocol Specification V1.00 and paritytrading/nassau's MoldUDP64 codec.

use super::error::MoldDecodeError;
use super::session::{SESSION_LEN, Session};

/// The length of the downstream packet header.
pub const DOWNSTREAM_HEADER_LEN: usize = SESSION_LEN + 8 + 2;

/// The Message Count of an end-of-session packet.
pub const END_OF_SESSION: u16 = 0xFFFF;

/// What a downstream packet is, by its Message Count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// Count 1..=0xFFFE: that many messages, the first numbered `seq`.
    Data,
    /// Count 0: no messages; `seq` is the next message's number.
    Heartbeat,
    /// Count 0xFFFF: the session is over; `seq` is one past its last message.
    EndOfSession,
}

/// A decoded downstream packet, borrowing its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Downstream<'a> {
    /// The session.
    pub session: Session,
    /// The Sequence Number field.
    pub seq: u64,
    /// The kind, from the Message Count field.
    pub kind: PacketKind,
    /// How many messages the packet carries (0 for heartbeat and end of session).
    pub count: u16,
    blocks: &'a [u8],
}

impl<'a> Downstream<'a> {
    /// Decodes a datagram, checking that exactly `count` whole message blocks follow.
    ///
    /// # Errors
    ///
    /// [`MoldDecodeError`] naming the offset that is wrong.
    pub fn decode(datagram: &'a [u8]) -> Result<Downstream<'a>, MoldDecodeError> {
        if datagram.len() < DOWNSTREAM_HEADER_LEN {
            return Err(MoldDecodeError::ShortHeader {
                needed: DOWNSTREAM_HEADER_LEN,
                got: datagram.len(),
            });
        }
        let session = Session::at(datagram)?;
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&datagram[SESSION_LEN..SESSION_LEN + 8]);
        let seq = u64::from_be_bytes(seq);
        let raw = u16::from_be_bytes([datagram[18], datagram[19]]);
        let blocks = &datagram[DOWNSTREAM_HEADER_LEN..];
        let (kind, count) = match raw {
            0 => (PacketKind::Heartbeat, 0),
            END_OF_SESSION => (PacketKind::EndOfSession, 0),
            n => (PacketKind::Data, n),
        };
        if kind != PacketKind::Data && !blocks.is_empty() {
            return Err(MoldDecodeError::ControlWithData {
                kind: if kind == PacketKind::Heartbeat {
                    "heartbeat"
                } else {
                    "end of session"
                },
                extra: blocks.len(),
            });
        }
        let mut at = 0usize;
        for index in 0..count {
            let left = blocks.len() - at;
            let len = if left >= 2 {
                usize::from(u16::from_be_bytes([blocks[at], blocks[at + 1]]))
            } else {
                0
            };
            if left < 2 || left - 2 < len {
                return Err(MoldDecodeError::TruncatedBlock {
                    index,
                    offset: DOWNSTREAM_HEADER_LEN + at,
                    needed: 2 + len,
                    left,
                });
            }
            at += 2 + len;
        }
        if at != blocks.len() {
            return Err(MoldDecodeError::TrailingBytes {
                count,
                offset: DOWNSTREAM_HEADER_LEN + at,
                extra: blocks.len() - at,
            });
        }
        Ok(Downstream {
            session,
            seq,
            kind,
            count,
            blocks,
        })
    }

    /// The packet's messages with their sequence numbers, in order.
    pub fn messages(&self) -> impl Iterator<Item = (u64, &'a [u8])> + 'a {
        let blocks = self.blocks;
        let seq = self.seq;
        let mut at = 0usize;
        (0..u64::from(self.count)).map(move |i| {
            // `decode` checked every block's length.
            let len = usize::from(u16::from_be_bytes([blocks[at], blocks[at + 1]]));
            let message = &blocks[at + 2..at + 2 + len];
            at += 2 + len;
            (seq.wrapping_add(i), message)
        })
    }

    /// The message blocks as sent (length-prefixed), the layout of an ITCH file.
    #[must_use]
    pub fn blocks(&self) -> &'a [u8] {
        self.blocks
    }
}

/// The bytes a [`PacketBuilder`] keeps past its largest packet, the longest block
/// [`PacketBuilder::push_block`] copies whole.
pub const BLOCK_SLACK: usize = 64;

/// Builds downstream packets of at most a configured size.
#[derive(Debug, Clone)]
pub struct PacketBuilder {
    session: Session,
    max_len: usize,
    /// `max_len` bytes (at least a header) and [`BLOCK_SLACK`] more, allocated once: the
    /// packet being built is `buf[..len]`, written in place (no capacity check per
    /// message); the slack lets [`Self::push_block`] copy a whole fixed-size block.
    buf: Vec<u8>,
    /// The bytes of `buf` the packet being built uses (at least the header).
    len: usize,
    count: u16,
}

impl PacketBuilder {
    /// A builder for packets of at most `max_len` bytes (at least the header and one
    /// block of the longest message the caller will push; [`Self::push`] refuses a message
    /// that does not fit an empty packet).
    #[must_use]
    pub fn new(session: Session, max_len: usize) -> PacketBuilder {
        let mut buf = vec![0; max_len.max(DOWNSTREAM_HEADER_LEN) + BLOCK_SLACK];
        buf[..SESSION_LEN].copy_from_slice(&session.0);
        PacketBuilder {
            session,
            max_len,
            buf,
            len: DOWNSTREAM_HEADER_LEN,
            count: 0,
        }
    }

    /// The session.
    #[must_use]
    pub fn session(&self) -> Session {
        self.session
    }

    /// How many messages the packet being built holds.
    #[must_use]
    pub fn count(&self) -> u16 {
        self.count
    }

    /// Whether a message of `len` bytes fits the packet being built.
    #[inline(always)]
    #[must_use]
    pub fn fits(&self, len: usize) -> bool {
        self.count < END_OF_SESSION - 1 && self.len + 2 + len <= self.max_len
    }

    /// Appends one message block; `false` (and nothing appended) when it does not fit.
    #[inline]
    pub fn push(&mut self, message: &[u8]) -> bool {
        let Ok(len) = u16::try_from(message.len()) else {
            return false;
        };
        if !self.fits(message.len()) {
            return false;
        }
        let at = self.len;
        let end = at + 2 + message.len();
        let block = &mut self.buf[at..end];
        block[..2].copy_from_slice(&len.to_be_bytes());
        block[2..].copy_from_slice(message);
        self.len = end;
        self.count += 1;
        true
    }

    /// Appends the first `len` bytes of `block` as one message block, like
    /// [`Self::push`], copying all `N` bytes at once (a fixed-size copy, no `memcpy`
    /// call): the bytes past `len` land in the slack past the packet and are never sent.
    /// `false` (and nothing appended) when `len` exceeds `N` or does not fit.
    #[inline(always)]
    pub fn push_block<const N: usize>(&mut self, block: &[u8; N], len: usize) -> bool {
        const { assert!(N <= BLOCK_SLACK, "a block longer than the builder's slack") };
        let Ok(prefix) = u16::try_from(len) else {
            return false;
        };
        if len > N || !self.fits(len) {
            return false;
        }
        let at = self.len;
        // `at + 2 + len <= max_len` (it fits), so `at + 2 + N <= max_len + BLOCK_SLACK`.
        self.buf[at..at + 2].copy_from_slice(&prefix.to_be_bytes());
        self.buf[at + 2..at + 2 + N].copy_from_slice(block);
        self.len = at + 2 + len;
        self.count += 1;
        true
    }

    /// The packet of the messages pushed since the last `finish`, the first numbered
    /// `first_seq`. The slice lives until the next call; the next `push` starts a new,
    /// empty packet.
    pub fn finish(&mut self, first_seq: u64) -> &[u8] {
        self.buf[SESSION_LEN..SESSION_LEN + 8].copy_from_slice(&first_seq.to_be_bytes());
        self.buf[18..20].copy_from_slice(&self.count.to_be_bytes());
        self.count = 0;
        let end = std::mem::replace(&mut self.len, DOWNSTREAM_HEADER_LEN);
        &self.buf[..end]
    }
}

/// A heartbeat (count 0) or end-of-session (count 0xFFFF) packet: `seq` is the next
/// message's sequence number.
#[must_use]
pub fn control_packet(session: Session, seq: u64, kind: PacketKind) -> [u8; DOWNSTREAM_HEADER_LEN] {
    let mut out = [0u8; DOWNSTREAM_HEADER_LEN];
    out[..SESSION_LEN].copy_from_slice(&session.0);
    out[SESSION_LEN..18].copy_from_slice(&seq.to_be_bytes());
    let count = match kind {
        PacketKind::EndOfSession => END_OF_SESSION,
        PacketKind::Heartbeat | PacketKind::Data => 0,
    };
    out[18..].copy_from_slice(&count.to_be_bytes());
    out
}
