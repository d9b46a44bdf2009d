//! The feed's message file: re-requests older than the in-memory buffer are answered from
//! it, `itchy` reads it as an ITCH file, and a session's file is never reused.

mod feed_common;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use feed_common::{assert_same_books, engine_with_feed, flow, local, submit_all};
use ringbook::OrderbookManagerService;
use ringbook_gateway::feed::{
    Feed, FeedConfig, FeedError, FeedReceiver, ReceiverConfig, ReceiverError,
};
use ringbook_testkit::scratch::TempDir;

/// Runs a flow into a feed whose packets go to a socket nobody reads; then a receiver
/// hears only the end-of-session packets (forwarded) and must re-request everything.
fn late_receiver(
    store: Option<&TempDir>,
) -> (
    Result<bool, ReceiverError>,
    FeedReceiver,
    u64,
    Vec<ringbook::OrderBook>,
    Vec<ringbook::Uuid>,
) {
    let (ids, commands) = flow(31, 2, 4_000);
    let sink = UdpSocket::bind(local()).unwrap();
    let (manager, feed) = engine_with_feed(&ids, sink.local_addr().unwrap(), |c| {
        c.retransmit_capacity = 200;
        c.glimpse = None;
        c.store_dir = store.map(|d| d.path().to_path_buf());
    });
    submit_all(&manager, &commands);
    manager.stop().unwrap();
    let mut receiver = FeedReceiver::bind(ReceiverConfig {
        max_request_tries: 20,
        ..ReceiverConfig::new(local())
    })
    .unwrap();
    receiver.set_rerequest(feed.rerequest_addr());
    let to = receiver.local_addr();
    let done = Arc::new(AtomicBool::new(false));
    let forwarder = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            sink.set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let mut buf = vec![0u8; 65_536];
            while !done.load(Ordering::Acquire) {
                if let Ok(len) = sink.recv(&mut buf)
                    && len == 20
                {
                    let _ = sink.send_to(&buf[..len], to);
                }
            }
        })
    };
    let result = receiver.run_until_complete(Instant::now() + Duration::from_secs(30));
    done.store(true, Ordering::Release);
    forwarder.join().unwrap();
    let stats = feed.shutdown();
    let books = manager.with_final_books(<[_]>::to_vec).unwrap();
    (result, receiver, stats.messages, books, ids)
}

#[test]
fn re_requests_older_than_the_buffer_are_answered_from_the_file() {
    let dir = TempDir::new("feed-store");
    let (result, receiver, messages, books, ids) = late_receiver(Some(&dir));
    assert!(result.unwrap(), "{:?}", receiver.stats());
    assert!(messages > 1_000, "{messages}");
    assert_eq!(receiver.next_seq(), messages + 1);
    assert_same_books(&ids, receiver.books(), &books);
    // The file is an ITCH file.
    let path = dir.path().join("TEST1.itch");
    let mut read = 0u64;
    for message in itchy::MessageStream::from_file(&path).unwrap() {
        message.unwrap();
        read += 1;
    }
    assert_eq!(read, messages);
}

#[test]
fn without_the_file_old_messages_are_a_gap_named_in_the_error() {
    let (result, _, _, _, _) = late_receiver(None);
    match result {
        Err(ReceiverError::Gap {
            from: 1, tries: 20, ..
        }) => {}
        other => panic!("expected a gap from 1 after 20 tries, got {other:?}"),
    }
}

#[test]
fn a_sessions_file_is_never_reused() {
    let dir = TempDir::new("feed-store-reuse");
    let mut config = FeedConfig::new("ONCE", local(), vec![(ringbook::Uuid::from_u128(1), None)]);
    config.store_dir = Some(dir.path().to_path_buf());
    let (feed, _subscriber) = Feed::start(&config).unwrap();
    let _ = feed.shutdown();
    match Feed::start(&config) {
        Err(FeedError::Store { source, .. }) => {
            assert!(source.to_string().contains("ONCE.itch exists"), "{source}");
        }
        other => panic!("expected a store error, got {:?}", other.map(|_| ())),
    }
}
