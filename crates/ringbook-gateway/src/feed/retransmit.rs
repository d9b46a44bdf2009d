//! The bounded buffer of the latest published messages, by sequence number, that the
//! re-request server answers from. Fixed-size slots in chunks of [`CHUNK`] allocated as
//! the buffer first fills (nothing allocated up front for a large capacity, nothing ever
//! copied to grow), then reused: no allocation per message, and storing one is an index
//! and the encoding straight into its slot.

use ringbook_wire::itch::ItchMessage;

/// One stored message: its bytes and length.
type Slot = ([u8; ItchMessage::MAX_LEN], u8);

/// Slots per chunk (a power of two).
const CHUNK: usize = 4096;

/// The latest `capacity` messages.
#[derive(Debug)]
pub(crate) struct RetransmitBuffer {
    /// Slot `i` is `chunks[i / CHUNK][i % CHUNK]`; chunks are added as the buffer first
    /// fills.
    chunks: Vec<Box<[Slot]>>,
    capacity: usize,
    /// The slot the next message goes to: `(next_seq - 1) % capacity`, kept as it
    /// advances (no division per message).
    head: usize,
    /// The sequence number of the next message pushed.
    next_seq: u64,
}

impl RetransmitBuffer {
    pub(crate) fn new(capacity: usize) -> RetransmitBuffer {
        RetransmitBuffer {
            chunks: Vec::new(),
            capacity,
            head: 0,
            next_seq: 1,
        }
    }

    /// Stores the message numbered `next_seq` (messages are at most
    /// [`ItchMessage::MAX_LEN`] bytes: the caller encodes only those).
    #[cfg(test)]
    pub(crate) fn push(&mut self, message: &[u8]) {
        let len = message.len().min(ItchMessage::MAX_LEN);
        self.push_with(|slot| {
            slot[..len].copy_from_slice(&message[..len]);
            len
        });
    }

    /// Stores the message numbered `next_seq`, which `encode` writes straight into its
    /// slot (returning its length, at most [`ItchMessage::MAX_LEN`]); returns the slot
    /// and the message's length.
    #[inline(always)]
    pub(crate) fn push_with(
        &mut self,
        encode: impl FnOnce(&mut [u8; ItchMessage::MAX_LEN]) -> usize,
    ) -> (&[u8; ItchMessage::MAX_LEN], usize) {
        let head = self.head;
        let chunk = head / CHUNK;
        if chunk == self.chunks.len() {
            self.add_chunk();
        }
        self.head += 1;
        if self.head >= self.capacity {
            self.head = 0;
        }
        self.next_seq += 1;
        let slot = &mut self.chunks[chunk][head % CHUNK];
        let len = encode(&mut slot.0).min(ItchMessage::MAX_LEN);
        // At most MAX_LEN (39): fits a byte.
        slot.1 = len as u8;
        (&slot.0, len)
    }

    /// One more chunk: [`CHUNK`] slots, fewer when the capacity is smaller.
    #[cold]
    #[inline(never)]
    fn add_chunk(&mut self) {
        let len = CHUNK.min(self.capacity - self.chunks.len() * CHUNK);
        self.chunks
            .push(vec![([0u8; ItchMessage::MAX_LEN], 0u8); len].into_boxed_slice());
    }

    /// How many messages are held.
    fn held(&self) -> u64 {
        (self.next_seq - 1).min(self.capacity as u64)
    }

    /// The oldest sequence number still held (`next_seq` when empty).
    pub(crate) fn first_seq(&self) -> u64 {
        self.next_seq - self.held()
    }

    /// The sequence number the next message will get.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The message numbered `seq`, if still held.
    pub(crate) fn get(&self, seq: u64) -> Option<&[u8]> {
        if seq < self.first_seq() || seq >= self.next_seq {
            return None;
        }
        let i = ((seq - 1) % self.capacity as u64) as usize;
        let (bytes, len) = &self.chunks[i / CHUNK][i % CHUNK];
        Some(&bytes[..usize::from(*len)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_capacity_messages() {
        let mut buffer = RetransmitBuffer::new(3);
        assert_eq!((buffer.first_seq(), buffer.next_seq()), (1, 1));
        for i in 1..=5u8 {
            buffer.push(&[i; 2]);
        }
        assert_eq!((buffer.first_seq(), buffer.next_seq()), (3, 6));
        assert_eq!(buffer.get(2), None);
        assert_eq!(buffer.get(3), Some(&[3u8, 3][..]));
        assert_eq!(buffer.get(5), Some(&[5u8, 5][..]));
        assert_eq!(buffer.get(6), None);
        assert_eq!(buffer.get(0), None);
    }

    #[test]
    fn keeps_the_latest_messages_across_chunks_and_their_wrap() {
        // A capacity that is not a multiple of the chunk: the last chunk is shorter, and
        // the buffer wraps into the first.
        let capacity = CHUNK * 2 + 5;
        let mut buffer = RetransmitBuffer::new(capacity);
        let total = capacity as u64 * 3 + 17;
        let bytes = |seq: u64| seq.to_be_bytes();
        for seq in 1..=total {
            buffer.push(&bytes(seq));
            if seq == CHUNK as u64 + 1 {
                assert_eq!(
                    buffer.first_seq(),
                    1,
                    "nothing dropped before the buffer fills"
                );
                assert_eq!(buffer.get(1), Some(&bytes(1)[..]));
                assert_eq!(buffer.get(seq), Some(&bytes(seq)[..]));
            }
        }
        assert_eq!(buffer.chunks.len(), 3);
        assert_eq!(buffer.chunks[2].len(), 5);
        let first = total - capacity as u64 + 1;
        assert_eq!((buffer.first_seq(), buffer.next_seq()), (first, total + 1));
        assert_eq!(buffer.get(first - 1), None);
        for seq in first..=total {
            assert_eq!(buffer.get(seq), Some(&bytes(seq)[..]), "seq {seq}");
        }
    }
}
