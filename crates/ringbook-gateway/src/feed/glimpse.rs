//! The GLIMPSE 5.0 snapshot server: an application over the gateway's SoupBinTCP session
//! layer ([`crate::soup`]). Any username and password log in (the feed is public data on
//! the listener's network); each login gets its own sequenced stream: every book (Stock
//! Directory, Stock Trading Action, then an Add Order per resting order in time priority),
//! then End of Snapshot with the live feed's next sequence number; the stream then ends,
//! so the client receives End of Session.
//!
//! The snapshot is taken under the publisher's lock, between two events, so it reflects
//! exactly the messages numbered below the sequence number it names: a joiner applies the
//! live feed from there without gap or overlap.

use std::net::TcpListener;
use std::sync::Arc;

use parking_lot::Mutex;
use ringbook_wire::glimpse::EndOfSnapshot;
use ringbook_wire::itch::ItchMessage;
use ringbook_wire::soup::login::LoginRejectReason;

use super::core::{FeedCore, lock};
use crate::soup::{
    AppSession, Application, DisconnectReason, MemoryStore, SessionConfig, SoupServer, Stream,
    Users,
};

/// The snapshot application.
#[derive(Debug)]
struct Glimpse {
    core: Arc<Mutex<FeedCore>>,
}

/// One client's snapshot stream.
#[derive(Debug)]
struct GlimpseSession {
    stream: Arc<Stream>,
}

impl Application for Glimpse {
    type Session = GlimpseSession;

    fn open(&self, _username: &str, _session: &[u8]) -> Result<GlimpseSession, LoginRejectReason> {
        let mut messages = Vec::new();
        let next_seq = {
            let mut core = lock(&self.core);
            core.translator.snapshot(core.last_engine_ns, &mut messages);
            core.out.stats.snapshots += 1;
            core.next_seq()
        };
        let stream = Arc::new(Stream::new(Box::new(MemoryStore::with_capacity(
            messages.len() + 1,
        ))));
        let mut buf = Vec::with_capacity(ItchMessage::MAX_LEN);
        for message in &messages {
            buf.clear();
            message.put(&mut buf);
            if stream.append(&buf).is_err() {
                return Err(LoginRejectReason::SessionNotAvailable);
            }
        }
        buf.clear();
        EndOfSnapshot { next_seq }.put(&mut buf);
        if stream.append(&buf).is_err() {
            return Err(LoginRejectReason::SessionNotAvailable);
        }
        stream.end();
        Ok(GlimpseSession { stream })
    }
}

impl AppSession for GlimpseSession {
    fn stream(&self) -> &Arc<Stream> {
        &self.stream
    }

    fn on_message(
        &mut self,
        _payload: &[u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        // GLIMPSE defines no client messages; anything sent is ignored.
        Ok(())
    }

    fn on_disconnect(&mut self, reason: &DisconnectReason) {
        tracing::debug!(%reason, "glimpse session ended");
    }
}

/// Starts the snapshot server on `listener`; its session name is the feed's.
pub(crate) fn start(
    listener: TcpListener,
    core: Arc<Mutex<FeedCore>>,
) -> std::io::Result<SoupServer> {
    let session = lock(&core).session;
    let config = SessionConfig {
        session_name: session.0,
        ..SessionConfig::default()
    };
    SoupServer::start(
        listener,
        Arc::new(Glimpse { core }),
        Arc::new(Users::AnyLogin),
        config,
    )
}
