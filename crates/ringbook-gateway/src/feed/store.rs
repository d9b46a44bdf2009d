//! The feed's messages on disk, for re-requests older than the in-memory buffer: one file
//! per session, `<dir>/<session>.itch`, every message behind its 2-byte big-endian length
//! (the layout of an ITCH 5.0 file, so ITCH tools read it), with an in-memory index of
//! the offset of every [`INDEX_EVERY`]-th message.
//!
//! A session's file is never reused: starting a feed whose file exists is refused (a
//! restarted server publishes a new session; MoldUDP64 numbers messages per session).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ringbook_wire::itch::ItchMessage;

/// One index entry per this many messages.
pub(crate) const INDEX_EVERY: u64 = 1024;

/// The append-only message file of one session.
#[derive(Debug)]
pub(crate) struct MessageFile {
    path: PathBuf,
    writer: BufWriter<File>,
    reader: File,
    /// The offset of messages 1, 1 + INDEX_EVERY, 1 + 2 * INDEX_EVERY, ...
    index: Vec<u64>,
    /// The offset where the next message goes.
    end: u64,
    /// How many messages the file holds.
    count: u64,
    /// The first write or read error, after which the file is no longer used.
    pub(crate) failed: Option<io::Error>,
}

impl MessageFile {
    /// Creates `<dir>/<session>.itch` (and `dir`); an existing file is an error.
    pub(crate) fn create(dir: &Path, session: &str) -> io::Result<MessageFile> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{session}.itch"));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "{} exists: a MoldUDP64 session is published once; choose a new session name",
                            path.display()
                        ),
                    )
                } else {
                    e
                }
            })?;
        let reader = File::open(&path)?;
        Ok(MessageFile {
            path,
            writer: BufWriter::with_capacity(1 << 16, file),
            reader,
            index: Vec::new(),
            end: 0,
            count: 0,
            failed: None,
        })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the next message (numbered `count + 1`).
    pub(crate) fn push(&mut self, message: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.count.is_multiple_of(INDEX_EVERY) {
            self.index.push(self.end);
        }
        // Messages are at most ItchMessage::MAX_LEN bytes.
        let len = u16::try_from(message.len()).unwrap_or(u16::MAX);
        let result = self
            .writer
            .write_all(&len.to_be_bytes())
            .and_then(|()| self.writer.write_all(message));
        if let Err(e) = result {
            self.fail(e);
            return;
        }
        self.end += 2 + message.len() as u64;
        self.count += 1;
    }

    /// Makes every pushed message readable.
    pub(crate) fn flush(&mut self) {
        if self.failed.is_none()
            && let Err(e) = self.writer.flush()
        {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: io::Error) {
        tracing::error!(path = %self.path.display(), error = %e, "feed message file failed; older re-requests will not be answered");
        self.failed = Some(e);
    }

    /// Calls `each` with messages `first..first + count` (those the file holds), in order,
    /// until it returns `false`.
    pub(crate) fn read(
        &mut self,
        first: u64,
        count: u64,
        mut each: impl FnMut(u64, &[u8]) -> bool,
    ) -> io::Result<()> {
        if self.failed.is_some() || first == 0 || first > self.count {
            return Ok(());
        }
        self.flush();
        let slot = (first - 1) / INDEX_EVERY;
        let mut seq = slot * INDEX_EVERY + 1;
        self.reader
            .seek(SeekFrom::Start(self.index[slot as usize]))?;
        let mut reader = io::BufReader::with_capacity(1 << 16, &mut self.reader);
        let last = first.saturating_add(count).min(self.count + 1);
        let mut buf = [0u8; 2 + ItchMessage::MAX_LEN];
        while seq < last {
            reader.read_exact(&mut buf[..2])?;
            let len = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
            if len > ItchMessage::MAX_LEN {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "message {seq} in {} is {len} bytes long",
                        self.path.display()
                    ),
                ));
            }
            reader.read_exact(&mut buf[2..2 + len])?;
            if seq >= first && !each(seq, &buf[2..2 + len]) {
                break;
            }
            seq += 1;
        }
        Ok(())
    }
}
