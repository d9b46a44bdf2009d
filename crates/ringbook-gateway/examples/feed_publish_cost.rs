//! The cost of publishing, split: user-space and kernel CPU time of the thread that
//! publishes, per command, with nothing else running.
//!
//! ```sh
//! cargo run --release -p ringbook-gateway --example feed_publish_cost -- [ROUNDS] [MAX_PACKET]
//! ```
//!
//! 1. Records the event stream of a closed-loop run of the bench's flow (8 instruments,
//!    200,000 orders: `feed_bench`'s), with the engine's batch boundaries.
//! 2. Sends datagrams of `MAX_PACKET` bytes (1,400) alone, one by one through `send`
//!    (100,000) and in bursts of 64 through `sendmmsg` (400,000), to a socket nobody
//!    reads: the kernel's cost per datagram without any translation (this thread's CPU
//!    time, nearly all of it system time).
//! 3. Replays the events `ROUNDS` times (3) into a fresh feed publishing inline
//!    ([`PublishOn::EventManager`]) on this thread, to a socket nobody reads, and prints
//!    this thread's CPU time per command (`CLOCK_THREAD_CPUTIME_ID`; the tick-sampled
//!    user/system split of `getrusage` beside it), the datagrams per 1,000 commands, the
//!    kernel's part (datagrams times the cost of one from step 2), the rest (translation,
//!    packing, the retransmission buffer, page faults) and the page faults. The first
//!    rounds take page faults as the retransmission buffer grows into fresh memory; later
//!    ones usually reuse the memory the previous feed freed.
//!
//! For callgrind: `valgrind --tool=callgrind --toggle-collect='*FeedSubscriber*on_event*'
//! --toggle-collect='*FeedSubscriber*on_batch_end*'` on the example's binary.

#![allow(unsafe_code)] // getrusage and sendmmsg, below.

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ringbook::{
    Command, OrderbookManagerService, OrderbookManagerServiceImpl, OrderbookResult, PublishedEvent,
    Subscriber, Uuid,
};
use ringbook_gateway::feed::{Feed, FeedConfig, PublishOn};

/// One recorded event (or the end of a batch).
enum Recorded {
    /// An event: its sequence numbers, timestamp and result.
    Event(u64, u64, u64, OrderbookResult),
    /// The engine's batch ended here.
    BatchEnd,
}

/// Records every event and batch end.
struct Recorder(Vec<Recorded>, Arc<Mutex<Vec<Recorded>>>);

impl Subscriber for Recorder {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        self.0.push(Recorded::Event(
            event.seq,
            event.input_seq,
            event.timestamp_ns,
            event.result.clone(),
        ));
    }

    fn on_batch_end(&mut self) {
        self.0.push(Recorded::BatchEnd);
    }

    fn finish(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        *self.1.lock().unwrap() = std::mem::take(&mut self.0);
        Ok(())
    }
}

/// This thread's user and system CPU time so far, in nanoseconds, and its minor page
/// faults.
fn thread_times() -> (u64, u64, u64) {
    // SAFETY: rusage is a plain C struct; all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, owned rusage the call writes.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &raw mut usage) };
    assert_eq!(rc, 0, "getrusage");
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
    (
        ns(usage.ru_utime),
        ns(usage.ru_stime),
        usage.ru_minflt as u64,
    )
}

/// This thread's CPU time so far (user and system, exact), in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, owned timespec the call writes; the clock id is valid.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn record(ids: &[Uuid], commands: &[Command]) -> Vec<Recorded> {
    let out = Arc::new(Mutex::new(Vec::new()));
    let manager = OrderbookManagerServiceImpl::builder(ids.iter().copied())
        .subscriber(Recorder(Vec::new(), Arc::clone(&out)))
        .build()
        .unwrap();
    manager.start().unwrap();
    for command in commands {
        let _ = manager.submit(*command);
    }
    manager.stop().unwrap();
    std::mem::take(&mut *out.lock().unwrap())
}

/// Publishes the recorded events inline on this thread; prints the costs, the user-space
/// part estimated as the thread's CPU time less `datagram_ns` a datagram (the kernel's,
/// measured alone).
fn replay(ids: &[Uuid], events: &[Recorded], commands: usize, max_packet: usize, datagram_ns: f64) {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let symbols = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, Some(format!("B{i}"))))
        .collect();
    let mut config = FeedConfig::new("COST", sink.local_addr().unwrap(), symbols);
    config.publish_on = PublishOn::EventManager;
    config.max_packet = max_packet;
    let (feed, mut subscriber) = Feed::start(&config).unwrap();
    let (user0, sys0, faults0) = thread_times();
    let cpu0 = thread_cpu_ns();
    let started = Instant::now();
    for recorded in events {
        match recorded {
            Recorded::Event(seq, input_seq, timestamp_ns, result) => {
                subscriber.on_event(&PublishedEvent {
                    seq: *seq,
                    input_seq: *input_seq,
                    timestamp_ns: *timestamp_ns,
                    result,
                });
            }
            Recorded::BatchEnd => subscriber.on_batch_end(),
        }
    }
    let wall = started.elapsed();
    let cpu = thread_cpu_ns() - cpu0;
    let (user1, sys1, faults1) = thread_times();
    subscriber.finish().unwrap();
    let stats = feed.shutdown();
    let n = commands as f64;
    let kernel = stats.packets as f64 * datagram_ns / n;
    println!(
        "replay: {:.1} ns CPU a command ({:.1} wall; sampled {:.1} user + {:.1} system), \
         {:.2} datagrams per 1,000 commands: {kernel:.1} ns kernel at {datagram_ns:.0} ns a \
         datagram, so {:.1} ns the rest; {} messages, {} page faults",
        cpu as f64 / n,
        wall.as_nanos() as f64 / n,
        (user1 - user0) as f64 / n,
        (sys1 - sys0) as f64 / n,
        stats.packets as f64 * 1000.0 / n,
        cpu as f64 / n - kernel,
        stats.messages,
        faults1 - faults0
    );
}

/// Sends `datagrams` datagrams of `size` bytes in bursts of `burst`; prints and returns
/// the thread's CPU time a datagram.
fn send_alone(datagrams: u64, size: usize, burst: usize) -> f64 {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(sink.local_addr().unwrap()).unwrap();
    let bytes = vec![0x5a_u8; size * burst];
    let mut iov: Vec<libc::iovec> = (0..burst)
        .map(|i| libc::iovec {
            iov_base: bytes[i * size..].as_ptr().cast_mut().cast(),
            iov_len: size,
        })
        .collect();
    // SAFETY: mmsghdr is a plain C struct for which all-zero bytes are a valid value.
    let mut headers: Vec<libc::mmsghdr> =
        (0..burst).map(|_| unsafe { std::mem::zeroed() }).collect();
    for (h, v) in headers.iter_mut().zip(iov.iter_mut()) {
        h.msg_hdr.msg_iov = std::ptr::from_mut(v);
        h.msg_hdr.msg_iovlen = 1;
    }
    let (user0, sys0, _) = thread_times();
    let cpu0 = thread_cpu_ns();
    let mut sent = 0;
    while sent < datagrams {
        if burst == 1 {
            let _ = socket.send(&bytes[..size]);
            sent += 1;
        } else {
            // SAFETY: `headers` are `burst` initialised headers, each with one iovec into
            // `bytes`, alive and unchanged for the call; the socket is connected.
            let n = unsafe {
                libc::sendmmsg(socket.as_raw_fd(), headers.as_mut_ptr(), burst as u32, 0)
            };
            sent += u64::try_from(n).unwrap_or(1).max(1);
        }
    }
    let per = (thread_cpu_ns() - cpu0) as f64 / datagrams as f64;
    let (user1, sys1, _) = thread_times();
    println!(
        "alone: {datagrams} datagrams of {size} bytes, bursts of {burst}: {per:.0} ns CPU a datagram (sampled {:.0} user + {:.0} system)",
        (user1 - user0) as f64 / datagrams as f64,
        (sys1 - sys0) as f64 / datagrams as f64
    );
    per
}

/// The `at`th argument as a number, `default` when absent; a usage error otherwise.
fn number(args: &[String], at: usize, name: &str, default: usize) -> Result<usize, String> {
    args.get(at).map_or(Ok(default), |text| {
        text.parse().map_err(|e| {
            format!("{name} ({text:?}): {e}\nusage: feed_publish_cost [ROUNDS] [MAX_PACKET]")
        })
    })
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (rounds, max_packet) = match (
        number(&args, 0, "ROUNDS", 3),
        number(&args, 1, "MAX_PACKET", 1400),
    ) {
        (Ok(rounds), Ok(max_packet)) => (rounds, max_packet),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let (ids, commands) = ringbook_testkit::feed_engine::flow(42, 8, 200_000);
    let events = record(&ids, &commands);
    let batches = events
        .iter()
        .filter(|e| matches!(e, Recorded::BatchEnd))
        .count();
    println!(
        "{} commands, {} events in {batches} batches",
        commands.len(),
        events.len() - batches
    );
    send_alone(100_000, max_packet, 1);
    let datagram_ns = send_alone(400_000, max_packet, 64);
    for _ in 0..rounds {
        replay(&ids, &events, commands.len(), max_packet, datagram_ns);
    }
    std::process::ExitCode::SUCCESS
}
