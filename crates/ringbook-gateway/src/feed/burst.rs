//! The finished packets of one event-manager batch, waiting to be sent together with one
//! system call ([`super::sendmmsg::send_burst`]) at the batch's end, or when
//! [`MAX_BURST`] packets wait. Each packet keeps its exact bytes and its place: a
//! receiver sees the same datagrams, in the same order, as with one send per packet.

/// The most packets sent by one system call (well under the kernel's `UIO_MAXIOV`).
pub(crate) const MAX_BURST: usize = 64;

/// Packets in send order, back to back in one buffer that is reused (no allocation in
/// the steady state).
#[derive(Debug)]
pub(crate) struct PacketBurst {
    bytes: Vec<u8>,
    /// The end offset of each packet in `bytes`.
    ends: Vec<usize>,
}

impl PacketBurst {
    /// An empty burst with room for [`MAX_BURST`] packets of `max_packet` bytes.
    pub(crate) fn new(max_packet: usize) -> PacketBurst {
        PacketBurst {
            bytes: Vec::with_capacity(max_packet.saturating_mul(MAX_BURST)),
            ends: Vec::with_capacity(MAX_BURST),
        }
    }

    /// Appends a copy of one packet; `true` when the burst is now full (send it).
    pub(crate) fn push(&mut self, packet: &[u8]) -> bool {
        self.bytes.extend_from_slice(packet);
        self.ends.push(self.bytes.len());
        self.ends.len() >= MAX_BURST
    }

    /// How many packets wait.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no packet waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Packet `i` (in send order).
    pub(crate) fn packet(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// Forgets every packet, keeping the buffers.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_keep_their_bytes_and_order_and_the_burst_says_when_it_is_full() {
        let mut burst = PacketBurst::new(8);
        assert!(burst.is_empty());
        assert!(!burst.push(b"first"));
        assert!(!burst.push(b""));
        assert!(!burst.push(b"third packet"));
        assert_eq!(burst.len(), 3);
        assert_eq!(burst.packet(0), b"first");
        assert_eq!(burst.packet(1), b"");
        assert_eq!(burst.packet(2), b"third packet");
        for _ in 3..MAX_BURST - 1 {
            assert!(!burst.push(b"x"));
        }
        assert!(
            burst.push(b"last"),
            "the burst is full at MAX_BURST packets"
        );
        assert_eq!(burst.packet(MAX_BURST - 1), b"last");
        let capacity = burst.bytes.capacity();
        burst.clear();
        assert!(burst.is_empty());
        assert_eq!(burst.bytes.capacity(), capacity, "the buffer is kept");
    }
}
