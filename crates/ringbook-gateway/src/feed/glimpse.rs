//! The GLIMPSE 5.0 snapshot server over SoupBinTCP: a client logs in (any username and
//! password: the feed is public), receives every book as sequenced ITCH messages (Stock
//! Directory, Stock Trading Action, Add Order per resting order in time priority), then
//! End of Snapshot with the live feed's next sequence number, then End of Session.
//!
//! The snapshot is taken under the publisher's lock, between two events, so it reflects
//! exactly the messages numbered below the sequence number it names: a joiner applies the
//! live feed from there without gap or overlap.

use std::io::{self, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringbook_wire::glimpse::EndOfSnapshot;
use ringbook_wire::itch::ItchMessage;

use super::core::{FeedCore, lock};
use super::soup::{LOGIN_REQUEST_LEN, alpha, numeric, read_packet, write_packet};

/// How long a client may take to log in or to read.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves snapshots until `stop` is set, one client at a time.
pub(crate) fn serve(listener: TcpListener, core: Arc<Mutex<FeedCore>>, stop: Arc<AtomicBool>) {
    if let Err(e) = listener.set_nonblocking(true) {
        tracing::warn!(error = %e, "glimpse server: cannot poll its listener; not serving");
        return;
    }
    while !stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((stream, from)) => {
                if let Err(e) = session(stream, &core) {
                    tracing::info!(%from, error = %e, "glimpse session ended with an error");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                tracing::warn!(error = %e, "glimpse server: accept failed");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// One client: login, snapshot, end of session.
fn session(stream: TcpStream, core: &Mutex<FeedCore>) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let mut reader = stream.try_clone()?;
    let (kind, payload) = read_packet(&mut reader, 64)?;
    if kind != b'L' || payload.len() != LOGIN_REQUEST_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "expected a Login Request ('L', {LOGIN_REQUEST_LEN} bytes), got type {:?} with {} bytes",
                kind as char,
                payload.len()
            ),
        ));
    }
    let mut messages = Vec::new();
    let (session, next_seq) = {
        let mut core = lock(core);
        core.translator.snapshot(core.last_engine_ns, &mut messages);
        core.stats.snapshots += 1;
        (core.session, core.next_seq())
    };
    let mut out = BufWriter::new(stream);
    let mut accepted = alpha(session.as_str(), 10);
    accepted.extend_from_slice(&numeric(1, 20));
    write_packet(&mut out, b'A', &accepted)?;
    let mut buf = Vec::with_capacity(ItchMessage::MAX_LEN);
    for message in &messages {
        buf.clear();
        message.put(&mut buf);
        write_packet(&mut out, b'S', &buf)?;
    }
    buf.clear();
    EndOfSnapshot { next_seq }.put(&mut buf);
    write_packet(&mut out, b'S', &buf)?;
    write_packet(&mut out, b'Z', &[])?;
    out.flush()
}
