//! The bounded buffer of the latest published messages, by sequence number, that the
//! re-request server answers from. Fixed-size slots: no allocation per message.

use ringbook_wire::itch::ItchMessage;

/// One stored message: its bytes and length.
type Slot = ([u8; ItchMessage::MAX_LEN], u8);

/// The latest `capacity` messages.
#[derive(Debug)]
pub(crate) struct RetransmitBuffer {
    slots: Vec<Slot>,
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
            // Reserved whole (address space only: pages are mapped as messages fill
            // them), so the buffer never grows by a reallocation on the publishing path.
            slots: Vec::with_capacity(capacity),
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
        if self.head == self.slots.len() {
            self.slots.push(([0u8; ItchMessage::MAX_LEN], 0));
        }
        let head = self.head;
        self.head += 1;
        if self.head >= self.capacity {
            self.head = 0;
        }
        self.next_seq += 1;
        let slot = &mut self.slots[head];
        let len = encode(&mut slot.0).min(ItchMessage::MAX_LEN);
        // At most MAX_LEN (39): fits a byte.
        slot.1 = len as u8;
        (&slot.0, len)
    }

    /// The oldest sequence number still held (`next_seq` when empty).
    pub(crate) fn first_seq(&self) -> u64 {
        self.next_seq - self.slots.len() as u64
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
        let (bytes, len) = &self.slots[((seq - 1) % self.capacity as u64) as usize];
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
}
