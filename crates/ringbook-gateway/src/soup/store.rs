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

/// The bytes of one chunk of a [`MemoryStore`]: a packet (at most 65,537 bytes) never
/// spans two chunks.
const CHUNK: usize = 1 << 20;

/// The messages in memory, as packets in chunks of 1 MiB, and where each starts. Growing
/// never copies what is stored (a doubling buffer would copy it all, under the stream's
/// lock, while the engine's event thread waits to append).
#[derive(Debug, Default)]
pub struct MemoryStore {
    chunks: Vec<Vec<u8>>,
    /// Per message: its chunk and its offset in the chunk.
    index: Vec<(u32, u32)>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store with room for `messages` messages (the packets' chunks are
    /// allocated as they fill).
    #[must_use]
    pub fn with_capacity(messages: usize) -> MemoryStore {
        MemoryStore {
            chunks: Vec::new(),
            index: Vec::with_capacity(messages),
        }
    }

    /// Appends an already framed packet (at most 65,537 bytes).
    fn push_packet(&mut self, packet: &[u8]) {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.len() + packet.len() <= CHUNK);
        if !fits {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let chunk = self.chunks.len() - 1;
        let bytes = &mut self.chunks[chunk];
        self.index.push((chunk as u32, bytes.len() as u32));
        bytes.extend_from_slice(packet);
    }

    /// The framed packet of the last message appended.
    fn last_packet(&self) -> &[u8] {
        match (self.index.last(), self.chunks.last()) {
            (Some(&(_, start)), Some(chunk)) => &chunk[start as usize..],
            _ => &[],
        }
    }

    /// Where message `i` (0-based) ends in its chunk.
    fn end_of(&self, i: usize) -> usize {
        let (chunk, _) = self.index[i];
        match self.index.get(i + 1) {
            Some(&(next_chunk, start)) if next_chunk == chunk => start as usize,
            _ => self.chunks[chunk as usize].len(),
        }
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
        let length = (message.len() + 1) as u16;
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.len() + 3 + message.len() <= CHUNK);
        if !fits {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let chunk = self.chunks.len() - 1;
        let bytes = &mut self.chunks[chunk];
        self.index.push((chunk as u32, bytes.len() as u32));
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.push(b'S');
        bytes.extend_from_slice(message);
        Ok(self.index.len() as u64)
    }

    fn len(&self) -> u64 {
        self.index.len() as u64
    }

    fn read_packets(&self, seq: u64, out: &mut Vec<u8>, max_bytes: usize) -> u64 {
        let n = self.index.len();
        let Some(first) = seq.checked_sub(1).and_then(|i| usize::try_from(i).ok()) else {
            return 0;
        };
        if first >= n {
            return 0;
        }
        // The common case, a client keeping up: everything from `first` on is at the end
        // of the last chunk and within the bound, one copy with no walk of the index.
        let (chunk, start) = self.index[first];
        if chunk == self.index[n - 1].0 {
            let bytes = &self.chunks[chunk as usize][start as usize..];
            if bytes.len() <= max_bytes {
                out.extend_from_slice(bytes);
                return (n - first) as u64;
            }
        }
        let mut i = first;
        let mut copied = 0usize;
        // Whole runs of messages in one chunk are copied at once.
        while i < n {
            let (chunk, start) = self.index[i];
            let mut j = i;
            let mut end = start as usize;
            while j < n && self.index[j].0 == chunk {
                let next_end = self.end_of(j);
                let first_of_all = i == first && j == i;
                if copied + (next_end - start as usize) > max_bytes && !first_of_all {
                    break;
                }
                end = next_end;
                j += 1;
            }
            if j == i {
                break;
            }
            out.extend_from_slice(&self.chunks[chunk as usize][start as usize..end]);
            copied += end - start as usize;
            let stopped_by_bound = j < n && self.index[j].0 == chunk;
            i = j;
            if stopped_by_bound {
                break;
            }
        }
        (i.max(first) - first) as u64
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
        let mut memory = MemoryStore::with_capacity(bytes.len() / 16);
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
