//! Message stores: where a session's sequenced messages are kept, so that a client that
//! logs in again with a sequence number gets every message from it on (SoupBinTCP 4.0
//! section 1.4 and 2.3.1). Messages are kept already framed as Sequenced Data packets,
//! so that replaying a range is one copy.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ringbook_wire::soup::MAX_PAYLOAD;

use super::StoreError;

/// A session's sequenced messages, numbered from 1.
pub trait MessageStore: Send {
    /// Appends one message; returns its sequence number.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the message is too large for a packet or a durable store
    /// fails to write.
    fn append(&mut self, message: &[u8]) -> Result<u64, StoreError>;

    /// How many messages the store holds (the last sequence number).
    fn len(&self) -> u64;

    /// Whether the store holds no message.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends to `out`, framed as Sequenced Data packets, the messages from `seq` on,
    /// stopping before the first that would take `out` past `max_bytes` (at least one
    /// is copied if any is there); returns how many were copied.
    fn read_packets(&self, seq: u64, out: &mut Vec<u8>, max_bytes: usize) -> u64;

    /// Makes every message appended so far durable (a no-op in memory).
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when flushing or syncing fails.
    fn sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The messages in memory: one buffer of packets and the offset of each.
#[derive(Debug, Default)]
pub struct MemoryStore {
    packets: Vec<u8>,
    offsets: Vec<usize>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store with room for `messages` messages of about `bytes` bytes in all.
    #[must_use]
    pub fn with_capacity(messages: usize, bytes: usize) -> MemoryStore {
        MemoryStore {
            packets: Vec::with_capacity(bytes),
            offsets: Vec::with_capacity(messages),
        }
    }

    /// Appends an already framed packet (from a file being loaded).
    fn push_packet(&mut self, packet: &[u8]) {
        self.offsets.push(self.packets.len());
        self.packets.extend_from_slice(packet);
    }

    /// The framed packet of the last message appended.
    fn last_packet(&self) -> &[u8] {
        let start = self.offsets.last().copied().unwrap_or(0);
        &self.packets[start..]
    }
}

impl MessageStore for MemoryStore {
    fn append(&mut self, message: &[u8]) -> Result<u64, StoreError> {
        if message.len() > MAX_PAYLOAD {
            return Err(StoreError::TooLarge {
                length: message.len(),
                bound: MAX_PAYLOAD,
            });
        }
        self.offsets.push(self.packets.len());
        let length = (message.len() + 1) as u16;
        self.packets.extend_from_slice(&length.to_be_bytes());
        self.packets.push(b'S');
        self.packets.extend_from_slice(message);
        Ok(self.offsets.len() as u64)
    }

    fn len(&self) -> u64 {
        self.offsets.len() as u64
    }

    fn read_packets(&self, seq: u64, out: &mut Vec<u8>, max_bytes: usize) -> u64 {
        let n = self.offsets.len();
        let Some(first) = seq.checked_sub(1).and_then(|i| usize::try_from(i).ok()) else {
            return 0;
        };
        if first >= n {
            return 0;
        }
        let start = self.offsets[first];
        // The ends of messages first..n-1 are the starts of the ones after them.
        let ends = &self.offsets[first + 1..];
        let mut count = ends.partition_point(|&end| end - start <= max_bytes);
        if count == ends.len() && self.packets.len() - start <= max_bytes {
            count += 1;
        }
        let count = count.max(1);
        let end = self
            .offsets
            .get(first + count)
            .copied()
            .unwrap_or(self.packets.len());
        out.extend_from_slice(&self.packets[start..end]);
        count as u64
    }
}

/// A durable store: the messages in memory and appended to a file of the same framed
/// packets, which [`FileStore::open`] reads back after a restart. A torn last packet (a
/// crash mid-write) is cut off with a warning; anything else malformed is an error.
#[derive(Debug)]
pub struct FileStore {
    memory: MemoryStore,
    file: BufWriter<File>,
    path: PathBuf,
}

impl FileStore {
    /// Opens (or creates) the store file at `path` and loads its messages.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] naming the file, or [`StoreError::Corrupt`] with the offset of
    /// a packet that is not Sequenced Data.
    pub fn open(path: &Path) -> Result<FileStore, StoreError> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let mut memory = MemoryStore::with_capacity(1024, bytes.len());
        let mut at = 0;
        while at + 2 <= bytes.len() {
            let length = usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
            if at + 2 + length > bytes.len() {
                break;
            }
            if length == 0 || bytes[at + 2] != b'S' {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    offset: at as u64,
                });
            }
            memory.push_packet(&bytes[at..at + 2 + length]);
            at += 2 + length;
        }
        if at < bytes.len() {
            tracing::warn!(path = %path.display(), offset = at, torn = bytes.len() - at, "message store: cutting off a torn last packet");
            file.set_len(at as u64).map_err(io)?;
        }
        Ok(FileStore {
            memory,
            file: BufWriter::with_capacity(1 << 16, file),
            path: path.to_path_buf(),
        })
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl MessageStore for FileStore {
    fn append(&mut self, message: &[u8]) -> Result<u64, StoreError> {
        let seq = self.memory.append(message)?;
        let packet = self.memory.last_packet();
        self.file
            .write_all(packet)
            .map_err(|source| StoreError::Io {
                path: self.path.clone(),
                source,
            })?;
        Ok(seq)
    }

    fn len(&self) -> u64 {
        self.memory.len()
    }

    fn read_packets(&self, seq: u64, out: &mut Vec<u8>, max_bytes: usize) -> u64 {
        self.memory.read_packets(seq, out, max_bytes)
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        let io = |source: io::Error| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.flush().map_err(io)?;
        self.file.get_ref().sync_data().map_err(io)
    }
}

#[cfg(test)]
mod tests;
