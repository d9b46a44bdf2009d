//! The feed receiver's socket: it asks the kernel for a large receive buffer, so a receiver
//! that falls behind loses nothing its buffer can hold (before, the kernel's default held
//! about 90 datagrams of 1,400 bytes, and a receiver descheduled during a burst lost the
//! rest and could spend its re-requests against the same flood).

mod feed_common;

use std::time::{Duration, Instant};

use feed_common::{assert_same_books, engine_with_feed, flow, local, submit_all};
use ringbook::OrderbookManagerService;
use ringbook_gateway::feed::{DEFAULT_RECEIVE_BUFFER, FeedReceiver, ReceiverConfig};

/// The largest receive buffer the kernel grants without privilege
/// (`net.core.rmem_max`), if this machine says.
fn rmem_max() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// What the kernel should report for the default request: it grants min(asked,
/// `rmem_max`) and reports twice that.
fn granted_by_this_kernel() -> usize {
    2 * rmem_max().map_or(DEFAULT_RECEIVE_BUFFER, |max| {
        max.min(DEFAULT_RECEIVE_BUFFER)
    })
}

#[test]
fn a_receiver_asks_the_kernel_for_a_large_receive_buffer() {
    let receiver = FeedReceiver::bind(ReceiverConfig::new(local())).unwrap();
    let granted = receiver.receive_buffer().unwrap();
    assert!(
        granted >= granted_by_this_kernel(),
        "receive buffer {granted} bytes, asked {DEFAULT_RECEIVE_BUFFER} (rmem_max {:?})",
        rmem_max()
    );
    let small = FeedReceiver::bind(ReceiverConfig {
        receive_buffer: 64 << 10,
        ..ReceiverConfig::new(local())
    })
    .unwrap();
    assert!(small.receive_buffer().unwrap() < granted);
}

#[test]
fn a_receiver_that_reads_nothing_during_a_burst_loses_none_of_it() {
    let mut receiver = FeedReceiver::bind(ReceiverConfig::new(local())).unwrap();
    // A burst the buffer holds: a 1,400-byte datagram takes at most 4 KiB of it as the
    // kernel accounts it, and this flow makes about 18 datagrams a thousand commands (two
    // commands an order). Sized by what the receiver should have been granted: about 2,000
    // datagrams where `rmem_max` allows 4 MiB, against the 52 the kernel's default buffer
    // (208 KiB) is sure to hold.
    let datagrams = granted_by_this_kernel() / 4096;
    let orders = (datagrams as u64 * 25).clamp(1_000, 50_000);
    let (ids, commands) = flow(21, 8, orders);
    // No re-request server, no snapshot: a datagram the socket drops is a gap the receiver
    // cannot recover, and `run_until_complete` fails.
    let (manager, feed) = engine_with_feed(&ids, receiver.local_addr(), |c| {
        c.rerequest = None;
        c.glimpse = None;
    });
    submit_all(&manager, &commands);
    manager.stop().unwrap();
    let stats = feed.shutdown();
    assert!(
        stats.packets > 1_000 || orders < 50_000,
        "the burst is {} datagrams",
        stats.packets
    );
    // Only now does the receiver read what waited in its socket.
    let complete = receiver
        .run_until_complete(Instant::now() + Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e} after {} datagrams sent", stats.packets));
    assert!(complete, "receiver incomplete: {:?}", receiver.stats());
    assert_eq!(receiver.next_seq(), stats.messages + 1);
    assert_eq!(receiver.stats().requests, 0);
    manager
        .with_final_books(|books| assert_same_books(&ids, receiver.books(), books))
        .unwrap();
}
