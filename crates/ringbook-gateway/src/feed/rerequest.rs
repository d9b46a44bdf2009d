//! The MoldUDP64 re-request server: answers each request packet with downstream packets
//! of the requested messages, unicast to the requester, from the retransmission buffer.
//!
//! A request for another session, or for messages older than the buffer, is refused
//! (counted, logged once; the receiver falls back to a GLIMPSE snapshot). Each answer is
//! bounded: at most [`MAX_PACKETS_PER_REQUEST`] packets; the receiver asks again for the
//! rest.

use std::io;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use ringbook_wire::mold::{PacketBuilder, Request};

use super::core::{FeedCore, lock};

/// The most packets one request is answered with.
pub const MAX_PACKETS_PER_REQUEST: usize = 64;

/// Serves re-requests until `stop` is set.
pub(crate) fn serve(
    socket: UdpSocket,
    core: Arc<Mutex<FeedCore>>,
    stop: Arc<AtomicBool>,
    max_packet: usize,
) {
    let _ = socket.set_read_timeout(Some(Duration::from_millis(20)));
    let mut datagram = [0u8; 2048];
    let mut packets: Vec<Vec<u8>> = Vec::new();
    while !stop.load(Ordering::Acquire) {
        let (len, from) = match socket.recv_from(&mut datagram) {
            Ok(got) => got,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "re-request server: receive failed");
                continue;
            }
        };
        let request = match Request::decode(&datagram[..len]) {
            Ok(request) => request,
            Err(e) => {
                tracing::debug!(%from, error = %e, "re-request server: bad request packet");
                continue;
            }
        };
        packets.clear();
        {
            let mut core = lock(&core);
            let held_from = core.out.retransmit.first_seq();
            let oldest = if core.out.file.as_ref().is_some_and(|f| f.failed.is_none()) {
                1
            } else {
                held_from
            };
            if request.session != core.session
                || request.count == 0
                || request.seq < oldest
                || request.seq >= core.out.retransmit.next_seq()
            {
                if core.out.stats.refused_rerequests == 0 {
                    tracing::warn!(
                        %from, session = %request.session, seq = request.seq,
                        held_from = oldest,
                        "re-request refused: another session, or messages no longer held"
                    );
                }
                core.out.stats.refused_rerequests += 1;
                continue;
            }
            let end = request
                .seq
                .saturating_add(u64::from(request.count))
                .min(core.out.retransmit.next_seq());
            let mut packer = Packer::new(core.session, max_packet, request.seq, &mut packets);
            if request.seq < held_from
                && let Some(file) = core.out.file.as_mut()
            {
                let wanted = held_from.min(end) - request.seq;
                if let Err(e) = file.read(request.seq, wanted, |seq, m| packer.add(seq, m)) {
                    tracing::warn!(error = %e, "re-request: reading the feed's message file failed");
                }
            }
            let mut seq = packer.next.max(held_from);
            while seq < end && packer.next == seq {
                let Some(message) = core.out.retransmit.get(seq) else {
                    break;
                };
                if !packer.add(seq, message) {
                    break;
                }
                seq += 1;
            }
            let sent = packer.finish() - request.seq;
            core.out.stats.rerequests += 1;
            core.out.stats.retransmitted += sent;
        }
        for packet in &packets {
            if let Err(e) = socket.send_to(packet, from) {
                tracing::debug!(%from, error = %e, "re-request server: send failed");
                break;
            }
        }
    }
}

/// Packs consecutive messages into at most [`MAX_PACKETS_PER_REQUEST`] packets.
struct Packer<'a> {
    builder: PacketBuilder,
    packets: &'a mut Vec<Vec<u8>>,
    /// The first message of the packet being built.
    first: u64,
    /// The next message expected.
    next: u64,
}

impl<'a> Packer<'a> {
    fn new(
        session: ringbook_wire::mold::Session,
        max_packet: usize,
        first: u64,
        packets: &'a mut Vec<Vec<u8>>,
    ) -> Packer<'a> {
        Packer {
            builder: PacketBuilder::new(session, max_packet),
            packets,
            first,
            next: first,
        }
    }

    /// Adds message `seq` (the next one); `false` when it did not fit the bound.
    fn add(&mut self, seq: u64, message: &[u8]) -> bool {
        if seq != self.next {
            return false;
        }
        if !self.builder.push(message) {
            if self.packets.len() + 1 >= MAX_PACKETS_PER_REQUEST {
                return false;
            }
            self.packets.push(self.builder.finish(self.first).to_vec());
            self.first = seq;
            if !self.builder.push(message) {
                return false;
            }
        }
        self.next += 1;
        true
    }

    /// Seals the last packet; returns one past the last message packed.
    fn finish(mut self) -> u64 {
        if self.builder.count() > 0 {
            self.packets.push(self.builder.finish(self.first).to_vec());
        }
        self.next
    }
}
