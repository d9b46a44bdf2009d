//! The loopback floor: the latency this machine gives a message that does nothing but
//! cross its kernel, paced as issues 19 and 20 pace their orders. It bounds from below
//! what any server could reach here: `ringbook serve` does strictly more on every path.
//!
//! ```text
//! cargo run --release -p ringbook-cli --example loopback_floor -- MODE [RATE] [SECONDS]
//! ```
//!
//! - `udp`: a pacer thread spins to each due time and sends a 64-byte datagram carrying
//!   it (a feed's packet, written at the moment the book fills); a receiver thread blocked
//!   in `recv` reads it. Latency: due time to the read (issue 20's fill-to-receiver).
//! - `udp-hop`: as `udp`, but the pacer hands each due time to a worker thread (blocked
//!   on a channel, as an engine waits for its next command) that sends the datagram: the
//!   one hop every engine has between the order's arrival and its fill. With
//!   `STAMP=worker` the worker stamps the datagram when it takes the message (as the
//!   engine's sequencer stamps a command), so the latency starts after the hop.
//! - `udp-poll`: as `udp-hop` with `STAMP=worker`, but nothing waits: the worker spins
//!   for its next message (an engine with `--wait spin`), and the pacer thread is also
//!   the receiver, polling its socket between messages (a feed handler that never
//!   sleeps): two busy threads for two cores, no wake-up on the path.
//! - `tcp`: 4 TCP sessions; the pacer writes 49-byte messages (an OUCH Enter Order's
//!   size) round robin over them, a server thread waits in `epoll` and answers each with
//!   64 bytes (an Order Accepted's size), a client receiver thread waits in `epoll` and
//!   reads the answers. Latency: due time to the answer's read (issue 19's wire to
//!   wire), with no engine, no decoding and no thread hop in the server. Batching as
//!   `ringbook client` and `serve` do: a pacer behind its schedule writes all of a
//!   session's due messages in one write, and the server answers all it read from a
//!   session in one write.
//! - `tcp-hop`: as `tcp`, but the server's reader hands each message to a worker thread
//!   (the engine) that answers everything handed over so far, one write a session: one
//!   hop, where `ringbook serve` has three.
//! - `tcp-poll`: as `tcp`, but no thread ever waits: the client is one thread that
//!   writes what is due and polls its sessions for answers in between, and the server
//!   polls its sessions (two threads for two cores, no wake-up anywhere); with
//!   `SERVER=wait` the server waits in `epoll` as in `tcp` (only the client polls).
//!
//! The pacer spins to each due time; `PACE=yield` yields its core in a loop instead (the
//! client's default), `PACE=sleep` sleeps to 2 us before it. `SERVER=spin` makes the
//! `tcp` server poll its sessions instead of waiting in `epoll`.
//!
//! RATE is messages per second over all sessions (default 100000); the run lasts SECONDS
//! (default 5) after a second of warm-up, which is not counted. Prints the percentiles in
//! microseconds.

#![allow(unsafe_code)] // epoll and recv through libc, each call's preconditions stated.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

const SESSIONS: usize = 4;
const REQUEST: usize = 49;
const ANSWER: usize = 64;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("udp", String::as_str).to_string();
    let rate: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let pacing = match std::env::var("PACE").as_deref() {
        Ok("sleep") => {
            // The pacer is this thread: its timed waits may end at most 1 ns late.
            // SAFETY: PR_SET_TIMERSLACK takes one integer argument and no pointer.
            let _ = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
            Pacing::Sleep
        }
        Ok("yield") => Pacing::Yield,
        _ => Pacing::Spin,
    };
    let plan = Plan {
        gap: Duration::from_nanos(1_000_000_000 / rate.max(1)),
        warmup: rate,
        total: rate * (seconds + 1),
        pacing,
    };
    let origin = Instant::now();
    let histogram = match mode.as_str() {
        "udp" => udp(&plan, origin, false),
        "udp-hop" => udp(&plan, origin, true),
        "udp-poll" => udp_poll(&plan, origin),
        "tcp" => tcp(&plan, origin, false),
        "tcp-hop" => tcp(&plan, origin, true),
        "tcp-poll" => tcp_poll(&plan, origin),
        other => {
            eprintln!("unknown mode {other:?}: udp, udp-hop, udp-poll, tcp, tcp-hop or tcp-poll");
            std::process::exit(2);
        }
    };
    println!(
        "{mode} at {rate}/s, {} messages timed: p50 {:.1} us, p90 {:.1}, p99 {:.1}, p99.9 {:.1}, max {:.1}",
        histogram.len(),
        us(&histogram, 50.0),
        us(&histogram, 90.0),
        us(&histogram, 99.0),
        us(&histogram, 99.9),
        histogram.max() as f64 / 1000.0
    );
}

/// How many messages, how far apart, how many of the first are not timed, and how the
/// pacer waits.
struct Plan {
    gap: Duration,
    warmup: u64,
    total: u64,
    pacing: Pacing,
}

impl Plan {
    /// When message `i` is due, in ns since the origin (the first a millisecond in).
    fn due(&self, i: u64) -> u64 {
        self.gap.as_nanos() as u64 * i + 1_000_000
    }
}

/// How the pacer waits for each message's due time (`PACE`, read once at start).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pacing {
    /// Spins (the default).
    Spin,
    /// `PACE=sleep`: sleeps (1 ns timer slack) until 2 us before it and spins the rest.
    Sleep,
    /// `PACE=yield`: yields its core in a loop (as `ringbook client` does by default).
    Yield,
}

fn us(h: &Histogram<u64>, p: f64) -> f64 {
    h.value_at_percentile(p) as f64 / 1000.0
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

/// Waits until message `i` is due, as `plan.pacing` says; returns its due time in ns
/// since `origin`.
fn pace(plan: &Plan, origin: Instant, i: u64) -> u64 {
    let due = plan.due(i);
    if plan.pacing == Pacing::Sleep {
        let now = origin.elapsed().as_nanos() as u64;
        if now + 2_000 < due {
            thread::sleep(Duration::from_nanos(due - now - 2_000));
        }
    }
    while (origin.elapsed().as_nanos() as u64) < due {
        if plan.pacing == Pacing::Yield {
            thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
    due
}

/// `SERVER=spin`: the server polls its sessions without waiting in epoll.
fn spinning_server() -> bool {
    std::env::var("SERVER").is_ok_and(|v| v == "spin")
}

fn stamp(buf: &mut [u8], i: u64, due: u64) {
    buf[..8].copy_from_slice(&i.to_le_bytes());
    buf[8..16].copy_from_slice(&due.to_le_bytes());
}

fn unstamp(buf: &[u8]) -> (u64, u64) {
    let i = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
    let due = u64::from_le_bytes(buf[8..16].try_into().expect("8 bytes"));
    (i, due)
}

fn udp(plan: &Plan, origin: Instant, hop: bool) -> Histogram<u64> {
    let reader = UdpSocket::bind("127.0.0.1:0").expect("bind the reader");
    reader
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let to = reader.local_addr().expect("address");
    let writer = UdpSocket::bind("127.0.0.1:0").expect("bind the writer");
    writer.connect(to).expect("connect");
    let (warmup, total) = (plan.warmup, plan.total);
    let reading = thread::spawn(move || {
        let mut h = histogram();
        let mut buf = [0u8; 256];
        while let Ok(len) = reader.recv(&mut buf) {
            let now = origin.elapsed().as_nanos() as u64;
            let (i, due) = unstamp(&buf[..len]);
            if i >= warmup {
                h.saturating_record(now.saturating_sub(due));
            }
            if i + 1 == total {
                break;
            }
        }
        h
    });
    let send = move |i: u64, due: u64| {
        let mut buf = [0u8; ANSWER];
        stamp(&mut buf, i, due);
        writer.send(&buf).expect("send");
    };
    if hop {
        let (tx, rx) = std::sync::mpsc::channel::<(u64, u64)>();
        let restamp = std::env::var("STAMP").is_ok_and(|v| v == "worker");
        let worker = thread::spawn(move || {
            while let Ok((i, due)) = rx.recv() {
                let stamp = if restamp {
                    origin.elapsed().as_nanos() as u64
                } else {
                    due
                };
                send(i, stamp);
            }
        });
        for i in 0..total {
            let due = pace(plan, origin, i);
            tx.send((i, due)).expect("worker alive");
        }
        drop(tx);
        worker.join().expect("worker");
    } else {
        for i in 0..total {
            let due = pace(plan, origin, i);
            send(i, due);
        }
    }
    reading.join().expect("reader")
}

fn udp_poll(plan: &Plan, origin: Instant) -> Histogram<u64> {
    let reader = UdpSocket::bind("127.0.0.1:0").expect("bind the reader");
    reader.set_nonblocking(true).expect("non-blocking");
    let writer = UdpSocket::bind("127.0.0.1:0").expect("bind the writer");
    writer
        .connect(reader.local_addr().expect("address"))
        .expect("connect");
    // The pacer publishes how many messages are due; the worker spins until it sees more
    // than it has sent, and sends each stamped when it takes it.
    let published = Arc::new(AtomicU64::new(0));
    let total = plan.total;
    let size = std::env::var("SIZE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(ANSWER)
        .clamp(16, 1472);
    let worker = {
        let published = Arc::clone(&published);
        thread::spawn(move || {
            let mut buf = vec![0u8; size];
            let mut sent = 0;
            while sent < total {
                if published.load(Ordering::Acquire) > sent {
                    stamp(&mut buf, sent, origin.elapsed().as_nanos() as u64);
                    writer.send(&buf).expect("send");
                    sent += 1;
                } else {
                    std::hint::spin_loop();
                }
            }
        })
    };
    let mut h = histogram();
    let mut buf = [0u8; 2048];
    let mut drain = |h: &mut Histogram<u64>| {
        while let Ok(len) = reader.recv(&mut buf) {
            let now = origin.elapsed().as_nanos() as u64;
            let (i, at) = unstamp(&buf[..len]);
            if i >= plan.warmup {
                h.saturating_record(now.saturating_sub(at));
            }
        }
    };
    for i in 0..total {
        let due = plan.due(i);
        while (origin.elapsed().as_nanos() as u64) < due {
            drain(&mut h);
        }
        published.store(i + 1, Ordering::Release);
    }
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_millis(200) {
        drain(&mut h);
    }
    worker.join().expect("worker");
    h
}

/// An epoll instance watching `fds` for input.
struct Epoll(i32);

impl Epoll {
    fn new(fds: &[i32]) -> Epoll {
        // SAFETY: epoll_create1 takes a flag and returns a new descriptor or -1.
        let ep = unsafe { libc::epoll_create1(0) };
        assert!(
            ep >= 0,
            "epoll_create1: {}",
            std::io::Error::last_os_error()
        );
        for (n, &fd) in fds.iter().enumerate() {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: n as u64,
            };
            // SAFETY: `ep` and `fd` are open descriptors; `ev` is a valid event the
            // kernel only reads.
            let rc = unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &raw mut ev) };
            assert_eq!(rc, 0, "epoll_ctl: {}", std::io::Error::last_os_error());
        }
        Epoll(ep)
    }

    /// Waits up to 200 ms; returns the indices (into the `fds` given to `new`) ready.
    fn wait(&self, ready: &mut Vec<usize>) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 16];
        // SAFETY: `events` is a writable array of 16 events; the count passed is its
        // length.
        let n = unsafe { libc::epoll_wait(self.0, events.as_mut_ptr(), 16, 200) };
        ready.clear();
        for ev in events.iter().take(usize::try_from(n).unwrap_or(0)) {
            ready.push(ev.u64 as usize);
        }
    }
}

/// Reads what `stream` holds now into `buf` (appending); false at end of input.
fn read_now(stream: &mut TcpStream, pending: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    // SAFETY: `chunk` is a writable buffer of its length; the socket is open.
    let rc = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            chunk.as_mut_ptr().cast(),
            chunk.len(),
            libc::MSG_DONTWAIT,
        )
    };
    match rc {
        0 => false,
        n if n > 0 => {
            pending.extend_from_slice(&chunk[..n as usize]);
            true
        }
        _ => true,
    }
}

/// `SESSIONS` connected pairs on loopback: the clients' ends and the server's.
fn sessions() -> (Vec<TcpStream>, Vec<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let at = listener.local_addr().expect("address");
    let clients: Vec<TcpStream> = (0..SESSIONS)
        .map(|_| {
            let s = TcpStream::connect(at).expect("connect");
            s.set_nodelay(true).expect("nodelay");
            s
        })
        .collect();
    let servers: Vec<TcpStream> = (0..SESSIONS)
        .map(|_| {
            let (s, _) = listener.accept().expect("accept");
            s.set_nodelay(true).expect("nodelay");
            s
        })
        .collect();
    (clients, servers)
}

/// Takes every whole answer in `pending`, timing those past the warm-up; returns how many.
fn take_answers(pending: &mut Vec<u8>, now: u64, warmup: u64, h: &mut Histogram<u64>) -> u64 {
    let mut seen = 0;
    for answer in pending.chunks_exact(ANSWER) {
        let (i, due) = unstamp(answer);
        if i >= warmup {
            h.saturating_record(now.saturating_sub(due));
        }
        seen += 1;
    }
    pending.drain(..pending.len() / ANSWER * ANSWER);
    seen
}

/// `tcp-poll`: no thread waits anywhere. The client is one thread that writes what is
/// due and otherwise polls its sessions for answers; the server polls its sessions.
fn tcp_poll(plan: &Plan, origin: Instant) -> Histogram<u64> {
    let (mut clients, servers) = sessions();
    let done = Arc::new(AtomicBool::new(false));
    let server = {
        let done = Arc::clone(&done);
        if std::env::var("SERVER").is_ok_and(|v| v == "wait") {
            thread::spawn(move || serve(servers, false, &done))
        } else {
            thread::spawn(move || serve_polling(servers, &done))
        }
    };
    let mut due_now = vec![Vec::new(); SESSIONS];
    let mut pending = vec![Vec::new(); SESSIONS];
    let mut h = histogram();
    let (mut next, mut seen) = (0u64, 0u64);
    while seen < plan.total {
        let now = origin.elapsed().as_nanos() as u64;
        while next < plan.total && plan.due(next) <= now {
            let mut buf = [0u8; REQUEST];
            stamp(&mut buf, next, plan.due(next));
            due_now[(next as usize) % SESSIONS].extend_from_slice(&buf);
            next += 1;
        }
        flush(&mut clients, &mut due_now);
        for (c, p) in clients.iter_mut().zip(&mut pending) {
            read_now(c, p);
            let now = origin.elapsed().as_nanos() as u64;
            seen += take_answers(p, now, plan.warmup, &mut h);
        }
    }
    done.store(true, Ordering::Release);
    drop(clients);
    server.join().expect("server");
    h
}

fn serve_polling(mut sessions: Vec<TcpStream>, done: &AtomicBool) {
    let mut pending = vec![Vec::new(); SESSIONS];
    let mut answers = Vec::new();
    while !done.load(Ordering::Acquire) {
        for (s, p) in sessions.iter_mut().zip(&mut pending) {
            read_now(s, p);
            while p.len() >= REQUEST {
                let mut head = [0u8; 16];
                head.copy_from_slice(&p[..16]);
                p.drain(..REQUEST);
                answer_into(&mut answers, &head);
            }
            if !answers.is_empty() {
                let _ = s.write_all(&answers);
                answers.clear();
            }
        }
    }
}

fn tcp(plan: &Plan, origin: Instant, hop: bool) -> Histogram<u64> {
    let (clients, servers) = sessions();
    let done = Arc::new(AtomicBool::new(false));
    let server = {
        let done = Arc::clone(&done);
        thread::spawn(move || serve(servers, hop, &done))
    };
    let (warmup, total) = (plan.warmup, plan.total);
    let mut readers: Vec<TcpStream> = clients
        .iter()
        .map(|c| c.try_clone().expect("clone"))
        .collect();
    let reading = thread::spawn(move || {
        let fds: Vec<i32> = readers.iter().map(AsRawFd::as_raw_fd).collect();
        let ep = Epoll::new(&fds);
        let mut pending = vec![Vec::new(); SESSIONS];
        let mut ready = Vec::new();
        let mut h = histogram();
        let mut seen = 0u64;
        while seen < total {
            ep.wait(&mut ready);
            let now = origin.elapsed().as_nanos() as u64;
            for &n in &ready {
                read_now(&mut readers[n], &mut pending[n]);
                seen += take_answers(&mut pending[n], now, warmup, &mut h);
            }
        }
        h
    });
    // A pacer behind its schedule writes all of a session's due messages in one write
    // (as `ringbook client` does); on time, one message a write.
    let mut writers = clients;
    let mut due_now = vec![Vec::new(); SESSIONS];
    for i in 0..total {
        let mut due = plan.due(i);
        if (origin.elapsed().as_nanos() as u64) < due {
            flush(&mut writers, &mut due_now);
            due = pace(plan, origin, i);
        }
        let mut buf = [0u8; REQUEST];
        stamp(&mut buf, i, due);
        due_now[(i as usize) % SESSIONS].extend_from_slice(&buf);
    }
    flush(&mut writers, &mut due_now);
    let h = reading.join().expect("reader");
    done.store(true, Ordering::Release);
    drop(writers);
    server.join().expect("server");
    h
}

/// Writes each session's due messages, one write a session.
fn flush(writers: &mut [TcpStream], due_now: &mut [Vec<u8>]) {
    for (w, buf) in writers.iter_mut().zip(due_now) {
        if !buf.is_empty() {
            w.write_all(buf).expect("write");
            buf.clear();
        }
    }
}

/// Appends the answer to a message whose first 16 bytes are `head`.
fn answer_into(answers: &mut Vec<u8>, head: &[u8; 16]) {
    let mut answer = [0u8; ANSWER];
    answer[..16].copy_from_slice(head);
    answers.extend_from_slice(&answer);
}

/// The server: one thread waiting in epoll on every session, answering each message
/// itself, or (`hop`) handing it to a worker thread that writes the answer. Whatever is
/// ready together is answered with one write a session (as `ringbook serve` batches).
fn serve(mut sessions: Vec<TcpStream>, hop: bool, done: &AtomicBool) {
    let fds: Vec<i32> = sessions.iter().map(AsRawFd::as_raw_fd).collect();
    let ep = Epoll::new(&fds);
    let mut pending = vec![Vec::new(); SESSIONS];
    let mut ready = Vec::new();
    let (tx, rx) = std::sync::mpsc::channel::<(usize, [u8; 16])>();
    let worker = hop.then(|| {
        let mut outs: Vec<TcpStream> = sessions
            .iter()
            .map(|s| s.try_clone().expect("clone"))
            .collect();
        thread::spawn(move || {
            let mut answers = vec![Vec::new(); SESSIONS];
            while let Ok(first) = rx.recv() {
                // Everything already handed over is answered with one write a session.
                for (n, head) in std::iter::once(first).chain(rx.try_iter()) {
                    answer_into(&mut answers[n], &head);
                }
                for (out, answer) in outs.iter_mut().zip(&mut answers) {
                    if !answer.is_empty() {
                        let _ = out.write_all(answer);
                        answer.clear();
                    }
                }
            }
        })
    });
    let spin = spinning_server();
    while !done.load(Ordering::Acquire) {
        if spin {
            ready.clear();
            ready.extend(0..SESSIONS);
        } else {
            ep.wait(&mut ready);
        }
        for &n in &ready {
            if !read_now(&mut sessions[n], &mut pending[n]) {
                continue;
            }
            // Every whole message read is answered, with one write for all of them.
            let mut answers = Vec::new();
            while pending[n].len() >= REQUEST {
                let mut head = [0u8; 16];
                head.copy_from_slice(&pending[n][..16]);
                pending[n].drain(..REQUEST);
                if hop {
                    tx.send((n, head)).expect("worker alive");
                } else {
                    answer_into(&mut answers, &head);
                }
            }
            if !answers.is_empty() {
                let _ = sessions[n].write_all(&answers);
            }
        }
    }
    drop(tx);
    if let Some(w) = worker {
        w.join().expect("worker");
    }
    let mut rest = Vec::new();
    for s in &mut sessions {
        let _ = s.set_nonblocking(true);
        let _ = s.read_to_end(&mut rest);
    }
}
