//! The MoldUDP64 re-request server: answers each request packet with downstream packets
//! of the requested messages, unicast to the requester, from the retransmission buffer.
//!
//! A request for another session, or for messages older than the buffer, is refused
//! (counted, logged once; the receiver falls back to a GLIMPSE snapshot). Each answer is
//! bounded: at most [`MAX_PACKETS_PER_REQUEST`] packets; the receiver asks again for the
//! rest.

use std::io;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
            if request.session != core.session
                || request.count == 0
                || request.seq < core.retransmit.first_seq()
                || request.seq >= core.retransmit.next_seq()
            {
                if core.stats.refused_rerequests == 0 {
                    tracing::warn!(
                        %from, session = %request.session, seq = request.seq,
                        held_from = core.retransmit.first_seq(),
                        "re-request refused: another session, or messages no longer held"
                    );
                }
                core.stats.refused_rerequests += 1;
                continue;
            }
            let end = request
                .seq
                .saturating_add(u64::from(request.count))
                .min(core.retransmit.next_seq());
            let mut builder = PacketBuilder::new(core.session, max_packet);
            let mut first = request.seq;
            let mut seq = request.seq;
            while seq < end && packets.len() < MAX_PACKETS_PER_REQUEST {
                let Some(message) = core.retransmit.get(seq) else {
                    break;
                };
                if !builder.push(message) {
                    packets.push(builder.finish(first).to_vec());
                    first = seq;
                    continue;
                }
                seq += 1;
            }
            if builder.count() > 0 && packets.len() < MAX_PACKETS_PER_REQUEST {
                packets.push(builder.finish(first).to_vec());
            } else {
                seq = first;
            }
            core.stats.rerequests += 1;
            core.stats.retransmitted += seq - request.seq;
        }
        for packet in &packets {
            if let Err(e) = socket.send_to(packet, from) {
                tracing::debug!(%from, error = %e, "re-request server: send failed");
                break;
            }
        }
    }
}
