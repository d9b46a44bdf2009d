//! An independent conformance check of `ringbook serve`'s OUCH 5.0 over SoupBinTCP 4.0,
//! written from the public specifications as an outside client would: every packet and
//! message below is encoded and decoded by hand from the layout tables in docs/OUCH.md
//! ("Conformance: the layouts checked"), never with ringbook-wire's codecs. Traffic goes
//! to 127.0.0.1 only.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ringbook::{Command, OrderbookManagerService, OrderbookManagerServiceImpl, Uuid};
use ringbook_gateway::order_entry::{
    OrderEntryConfig, OuchApp, OuchResponder, Registry, SymbolTable,
};
use ringbook_gateway::soup::{SessionConfig, SoupServer, Users};

/// AAPL is instrument 1 (tick 1).
const SYMBOLS: &str = "symbol,instrument,tick\nAAPL,1,1\nMSFT,2,1\n";

struct Server {
    engine: Arc<OrderbookManagerServiceImpl>,
    registry: Arc<Registry>,
    server: Option<SoupServer>,
    addr: SocketAddr,
}

fn serve(users: Users, config: SessionConfig) -> Server {
    let symbols = SymbolTable::parse(SYMBOLS, "symbols").unwrap();
    let registry = Arc::new(Registry::new(symbols, None).unwrap());
    let engine = Arc::new(
        OrderbookManagerServiceImpl::builder(vec![Uuid::from_u128(1), Uuid::from_u128(2)])
            .subscriber(OuchResponder::new(Arc::clone(&registry)))
            .build()
            .unwrap(),
    );
    engine.start().unwrap();
    let app = OuchApp::new(
        Arc::clone(&engine) as Arc<dyn OrderbookManagerService>,
        Arc::clone(&registry),
        OrderEntryConfig::default(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = SoupServer::start(listener, Arc::new(app), Arc::new(users), config).unwrap();
    let addr = server.local_addr();
    Server {
        engine,
        registry,
        server: Some(server),
        addr,
    }
}

fn any_login() -> Server {
    serve(
        Users::AnyLogin,
        SessionConfig {
            idle_timeout: Duration::from_secs(30),
            ..SessionConfig::default()
        },
    )
}

impl Server {
    /// As `ringbook serve` stops: the engine, End of Day, then End of Session.
    fn stop(mut self) {
        self.engine.stop().unwrap();
        self.registry.end_of_day().unwrap();
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
    }
}

// ---- SoupBinTCP 4.0, by hand -------------------------------------------------------------

/// `text` left-justified in `n` bytes, padded on the right with spaces (Alpha fields).
fn right_pad(text: &str, n: usize) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.resize(n, b' ');
    v
}

/// `text` right-justified in `n` bytes, padded on the left with spaces (SoupBinTCP
/// Session and Sequence Number).
fn left_pad(text: &str, n: usize) -> Vec<u8> {
    let mut v = vec![b' '; n - text.len()];
    v.extend_from_slice(text.as_bytes());
    v
}

/// Login Request: Packet Length 2 = 47 | 'L' | Username 6 | Password 10 | Requested
/// Session 10 | Requested Sequence Number 20.
fn login_request(user: &str, password: &str, session: &str, seq: u64) -> Vec<u8> {
    let mut p = vec![0, 47, b'L'];
    p.extend(right_pad(user, 6));
    p.extend(right_pad(password, 10));
    p.extend(left_pad(session, 10));
    p.extend(left_pad(&seq.to_string(), 20));
    assert_eq!(p.len(), 49);
    p
}

struct Client {
    socket: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let socket = TcpStream::connect(addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        socket.set_nodelay(true).unwrap();
        Client { socket }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.socket.write_all(bytes).unwrap();
    }

    /// One whole packet: (type, payload after the type byte). None at end of stream.
    fn packet(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut len = [0u8; 2];
        match self.socket.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return None,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("reading a packet length: {e}"),
        }
        let len = usize::from(u16::from_be_bytes(len));
        assert!(len >= 1, "a packet of length 0");
        let mut body = vec![0u8; len];
        self.socket.read_exact(&mut body).unwrap();
        let kind = body.remove(0);
        Some((kind, body))
    }

    /// The next Sequenced Data payload (an OUCH message), skipping Server Heartbeats.
    fn message(&mut self) -> Vec<u8> {
        loop {
            let (kind, payload) = self.packet().expect("the server closed the session");
            match kind {
                b'H' => assert!(payload.is_empty(), "Server Heartbeat has no payload"),
                b'S' => return payload,
                other => panic!(
                    "expected Sequenced Data, got packet type {:?}",
                    other as char
                ),
            }
        }
    }

    /// Unsequenced Data: Packet Length | 'U' | the OUCH message.
    fn send_ouch(&mut self, message: &[u8]) {
        let mut p = Vec::with_capacity(message.len() + 3);
        p.extend_from_slice(&u16::try_from(message.len() + 1).unwrap().to_be_bytes());
        p.push(b'U');
        p.extend_from_slice(message);
        self.send(&p);
    }

    /// Logs in (any password) and checks Login Accepted byte for byte: Session
    /// "  RINGBOOK", the sequence number right-aligned in 20 ASCII bytes.
    fn login(addr: SocketAddr, user: &str, seq: u64, expected_next: u64) -> Client {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut c = Client::connect(addr);
            c.send(&login_request(user, "pw", "", seq));
            let (kind, payload) = c.packet().expect("no answer to the Login Request");
            if kind == b'J' && payload == b"S" && Instant::now() < deadline {
                // The previous session of this user is still being torn down.
                thread::sleep(Duration::from_millis(20));
                continue;
            }
            assert_eq!(kind, b'A', "Login Accepted expected, got {payload:?}");
            let mut expected = b"  RINGBOOK".to_vec();
            expected.extend(left_pad(&expected_next.to_string(), 20));
            assert_eq!(payload, expected, "Login Accepted payload");
            return c;
        }
    }

    fn first_is_start_of_day(&mut self) {
        let m = self.message();
        assert_eq!(m.len(), 10, "System Event is 10 bytes: {m:?}");
        assert_eq!(m[0], b'S');
        assert!(ts(&m) < 86_400_000_000_000);
        assert_eq!(m[9], b'S', "Start of Day");
    }

    /// Account Query Request ('Q', Appendage Length 0): its response comes after
    /// everything the earlier requests caused that is already known, so a request the
    /// server ignored shows as nothing before it. Returns NextUserRefNum.
    fn account_query(&mut self) -> u32 {
        self.send_ouch(&[b'Q', 0, 0]);
        let m = self.message();
        assert_eq!(m[0], b'Q', "expected Account Query Response, got {m:?}");
        assert_eq!(m.len(), 15, "Account Query Response: 13 + Appendage Length");
        assert_eq!(&m[13..15], &[0, 0]);
        u32_at(&m, 9)
    }
}

// ---- OUCH 5.0, by hand -------------------------------------------------------------------

fn u16_at(m: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(m[at..at + 2].try_into().unwrap())
}
fn u32_at(m: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(m[at..at + 4].try_into().unwrap())
}
fn u64_at(m: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(m[at..at + 8].try_into().unwrap())
}
fn ts(m: &[u8]) -> u64 {
    u64_at(m, 1)
}

/// Enter Order 'O': UserRefNum 4 @1 | Side 1 @5 | Quantity 4 @6 | Symbol 8 @10 | Price 8
/// @18 | Time In Force @26 | Display @27 | Capacity @28 | ISO @29 | CrossType @30 |
/// ClOrdID 14 @31 | Appendage Length 2 @45 = 47.
#[allow(clippy::too_many_arguments)]
fn enter_order(urn: u32, side: u8, qty: u32, sym: &str, price: u64, tif: u8, cl: &str) -> Vec<u8> {
    let mut m = vec![b'O'];
    m.extend(urn.to_be_bytes());
    m.push(side);
    m.extend(qty.to_be_bytes());
    m.extend(right_pad(sym, 8));
    m.extend(price.to_be_bytes());
    m.extend([tif, b'Y', b'A', b'N', b'N']);
    m.extend(right_pad(cl, 14));
    m.extend([0, 0]);
    assert_eq!(m.len(), 47);
    m
}

/// Replace Order 'U': Orig UserRefNum 4 @1 | UserRefNum 4 @5 | Quantity 4 @9 | Price 8 @13
/// | TIF @21 | Display @22 | ISO @23 | ClOrdID 14 @24 | Appendage Length @38 = 40.
fn replace_order(orig: u32, urn: u32, qty: u32, price: u64, tif: u8, cl: &str) -> Vec<u8> {
    let mut m = vec![b'U'];
    m.extend(orig.to_be_bytes());
    m.extend(urn.to_be_bytes());
    m.extend(qty.to_be_bytes());
    m.extend(price.to_be_bytes());
    m.extend([tif, b'Y', b'N']);
    m.extend(right_pad(cl, 14));
    m.extend([0, 0]);
    assert_eq!(m.len(), 40);
    m
}

/// Cancel Order 'X': UserRefNum 4 @1 | Quantity 4 @5 | Appendage Length @9 = 11.
fn cancel_order(urn: u32, qty: u32) -> Vec<u8> {
    let mut m = vec![b'X'];
    m.extend(urn.to_be_bytes());
    m.extend(qty.to_be_bytes());
    m.extend([0, 0]);
    m
}

/// Modify Order 'M': UserRefNum 4 @1 | Side @5 | Quantity 4 @6 | Appendage Length @10 = 12.
fn modify_order(urn: u32, side: u8, qty: u32) -> Vec<u8> {
    let mut m = vec![b'M'];
    m.extend(urn.to_be_bytes());
    m.push(side);
    m.extend(qty.to_be_bytes());
    m.extend([0, 0]);
    m
}

/// Checks an Order Accepted ('A', 64 bytes with Appendage Length 0) field by field;
/// returns its Order Reference Number.
#[allow(clippy::too_many_arguments)]
fn check_accepted(
    m: &[u8],
    urn: u32,
    side: u8,
    qty: u32,
    sym: &str,
    price: u64,
    tif: u8,
    cl: &str,
) -> u64 {
    assert_eq!(m[0], b'A', "Order Accepted expected: {m:?}");
    assert_eq!(m.len(), 64, "Order Accepted: 62 + Appendage Length");
    assert!(ts(m) < 86_400_000_000_000);
    assert_eq!(u32_at(m, 9), urn, "UserRefNum");
    assert_eq!(m[13], side, "Side");
    assert_eq!(u32_at(m, 14), qty, "Quantity");
    assert_eq!(&m[18..26], right_pad(sym, 8).as_slice(), "Symbol");
    assert_eq!(u64_at(m, 26), price, "Price");
    assert_eq!(m[34], tif, "Time In Force");
    assert_eq!(m[35], b'Y', "Display");
    let reference = u64_at(m, 36);
    assert_ne!(reference, 0, "Order Reference Number");
    assert_eq!(m[44], b'A', "Capacity");
    assert_eq!(m[45], b'N', "InterMarket Sweep Eligibility");
    assert_eq!(m[46], b'N', "CrossType");
    assert_eq!(m[47], b'L', "Order State live");
    assert_eq!(&m[48..62], right_pad(cl, 14).as_slice(), "ClOrdID");
    assert_eq!(u16_at(m, 62), 0, "Appendage Length");
    reference
}

/// Checks an Order Executed ('E', 36 bytes): returns the Match Number.
fn check_executed(m: &[u8], urn: u32, qty: u32, price: u64, flag: u8) -> u64 {
    assert_eq!(m[0], b'E', "Order Executed expected: {m:?}");
    assert_eq!(m.len(), 36, "Order Executed: 34 + Appendage Length");
    assert_eq!(u32_at(m, 9), urn, "UserRefNum");
    assert_eq!(u32_at(m, 13), qty, "Quantity");
    assert_eq!(u64_at(m, 17), price, "Price");
    assert_eq!(m[25], flag, "Liquidity Flag");
    assert_eq!(u16_at(m, 34), 0, "Appendage Length");
    u64_at(m, 26)
}

/// Checks an Order Canceled ('C', 20 bytes).
fn check_canceled(m: &[u8], urn: u32, decrement: u32, reason: u8) {
    assert_eq!(m[0], b'C', "Order Canceled expected: {m:?}");
    assert_eq!(m.len(), 20, "Order Canceled: 18 + Appendage Length");
    assert_eq!(u32_at(m, 9), urn, "UserRefNum");
    assert_eq!(u32_at(m, 13), decrement, "Quantity (decrement)");
    assert_eq!(m[17], reason, "Reason");
    assert_eq!(u16_at(m, 18), 0, "Appendage Length");
}

/// Checks a Rejected ('J', 31 bytes).
fn check_rejected(m: &[u8], urn: u32, reason: u16, cl: &str) {
    assert_eq!(m[0], b'J', "Rejected expected: {m:?}");
    assert_eq!(m.len(), 31, "Rejected: 29 + Appendage Length");
    assert_eq!(u32_at(m, 9), urn, "UserRefNum");
    assert_eq!(u16_at(m, 13), reason, "Reason");
    assert_eq!(&m[15..29], right_pad(cl, 14).as_slice(), "ClOrdID");
    assert_eq!(u16_at(m, 29), 0, "Appendage Length");
}

/// Checks an Order Replaced ('U', 68 bytes).
#[allow(clippy::too_many_arguments)]
fn check_replaced(
    m: &[u8],
    orig: u32,
    urn: u32,
    side: u8,
    qty: u32,
    price: u64,
    state: u8,
    cl: &str,
) {
    assert_eq!(m[0], b'U', "Order Replaced expected: {m:?}");
    assert_eq!(m.len(), 68, "Order Replaced: 66 + Appendage Length");
    assert_eq!(u32_at(m, 9), orig, "Orig UserRefNum");
    assert_eq!(u32_at(m, 13), urn, "UserRefNum");
    assert_eq!(m[17], side, "Side");
    assert_eq!(u32_at(m, 18), qty, "Quantity");
    assert_eq!(&m[22..30], right_pad("AAPL", 8).as_slice(), "Symbol");
    assert_eq!(u64_at(m, 30), price, "Price");
    assert_eq!(m[38], b'0', "Time In Force");
    assert_eq!(m[39], b'Y', "Display");
    assert_ne!(u64_at(m, 40), 0, "Order Reference Number");
    assert_eq!(m[48], b'A', "Capacity");
    assert_eq!(m[49], b'N', "ISO");
    assert_eq!(m[50], b'N', "CrossType");
    assert_eq!(m[51], state, "Order State");
    assert_eq!(&m[52..66], right_pad(cl, 14).as_slice(), "ClOrdID");
    assert_eq!(u16_at(m, 66), 0, "Appendage Length");
}

const DAY: u8 = b'0';

// ---- the checks --------------------------------------------------------------------------

#[test]
fn login_accepted_pads_the_session_and_right_aligns_the_sequence_number_and_bad_logins_are_rejected()
 {
    let users = Users::List(HashMap::from([("alice".to_string(), "secret".to_string())]));
    let server = serve(users, SessionConfig::default());

    // Wrong password: Login Rejected 'A' (Not Authorized), the connection then closed.
    let mut c = Client::connect(server.addr);
    c.send(&login_request("alice", "wrong", "", 1));
    assert_eq!(c.packet(), Some((b'J', b"A".to_vec())));
    assert_eq!(c.packet(), None);
    // Unknown user: 'A' too.
    let mut c = Client::connect(server.addr);
    c.send(&login_request("bob", "secret", "", 1));
    assert_eq!(c.packet(), Some((b'J', b"A".to_vec())));

    // A session name that is not the server's: 'S' (Session not available).
    let mut c = Client::connect(server.addr);
    c.send(&login_request("alice", "secret", "OTHER", 1));
    assert_eq!(c.packet(), Some((b'J', b"S".to_vec())));

    // Accepted: the session named in full ("  RINGBOOK", left-padded) and sequence 1.
    let mut alice = Client::connect(server.addr);
    alice.send(&login_request("alice", "secret", "RINGBOOK", 1));
    let mut expected = b"  RINGBOOK".to_vec();
    expected.extend(left_pad("1", 20));
    assert_eq!(alice.packet(), Some((b'A', expected)));
    alice.first_is_start_of_day();

    // The same user again while logged in: 'S'.
    let mut c = Client::connect(server.addr);
    c.send(&login_request("alice", "secret", "", 1));
    assert_eq!(c.packet(), Some((b'J', b"S".to_vec())));
    server.stop();
}

#[test]
fn heartbeats_go_both_ways_and_a_silent_client_is_timed_out() {
    let server = serve(
        Users::AnyLogin,
        SessionConfig {
            idle_timeout: Duration::from_millis(1500),
            ..SessionConfig::default()
        },
    );
    let mut c = Client::login(server.addr, "hb", 1, 1);
    c.first_is_start_of_day();
    // Client Heartbeats ('R', length 1) keep the session past the idle timeout; the
    // server sends Server Heartbeats ('H', length 1) while it has nothing else.
    let start = Instant::now();
    let mut server_heartbeats = 0;
    c.socket
        .set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    while start.elapsed() < Duration::from_millis(3500) {
        c.send(&[0, 1, b'R']);
        let mut head = [0u8; 3];
        match c.socket.read_exact(&mut head) {
            Ok(()) => {
                assert_eq!(head, [0, 1, b'H'], "only Server Heartbeats are expected");
                server_heartbeats += 1;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("the session ended while the client sent heartbeats: {e}"),
        }
    }
    assert!(
        server_heartbeats >= 2,
        "{server_heartbeats} Server Heartbeats in 3.5 s"
    );
    // Still alive: an order is accepted.
    c.socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    c.send_ouch(&enter_order(1, b'B', 5, "AAPL", 100, DAY, "hb1"));
    check_accepted(&c.message(), 1, b'B', 5, "AAPL", 100, DAY, "hb1");
    // Silent from now on: closed after the idle timeout (heartbeats until then).
    let silent = Instant::now();
    while c.packet().is_some() {}
    let waited = silent.elapsed();
    assert!(
        waited >= Duration::from_millis(1200) && waited < Duration::from_secs(6),
        "closed after {waited:?}"
    );
    server.stop();
}

#[test]
fn enter_order_is_accepted_with_every_field_and_a_cross_executes_both_sides_with_one_match_number()
{
    let server = any_login();
    let mut maker = Client::login(server.addr, "maker", 1, 1);
    maker.first_is_start_of_day();
    let mut taker = Client::login(server.addr, "taker", 1, 1);
    taker.first_is_start_of_day();

    maker.send_ouch(&enter_order(7, b'S', 100, "AAPL", 1_2345, DAY, "sell-7"));
    let r1 = check_accepted(
        &maker.message(),
        7,
        b'S',
        100,
        "AAPL",
        1_2345,
        DAY,
        "sell-7",
    );
    taker.send_ouch(&enter_order(3, b'B', 40, "AAPL", 1_3000, b'3', "buy-3"));
    let r2 = check_accepted(&taker.message(), 3, b'B', 40, "AAPL", 1_3000, b'3', "buy-3");
    assert_ne!(r1, r2, "Order Reference Numbers are day-unique");
    let taker_match = check_executed(&taker.message(), 3, 40, 1_2345, b'R');
    let maker_match = check_executed(&maker.message(), 7, 40, 1_2345, b'A');
    assert_eq!(taker_match, maker_match, "one Match Number for both sides");
    server.stop();
}

#[test]
fn replace_cancel_modify_and_mass_cancel_are_answered_as_the_spec_lays_them_out() {
    let server = any_login();
    let mut c = Client::login(server.addr, "rcm", 1, 1);
    c.first_is_start_of_day();

    c.send_ouch(&enter_order(1, b'S', 100, "AAPL", 5_0000, DAY, "o1"));
    check_accepted(&c.message(), 1, b'S', 100, "AAPL", 5_0000, DAY, "o1");
    // Replace 1 -> 2 at a new price and size.
    c.send_ouch(&replace_order(1, 2, 80, 5_1000, DAY, "o2"));
    check_replaced(&c.message(), 1, 2, b'S', 80, 5_1000, b'L', "o2");
    // The old UserRefNum is no longer live: a cancel of it is silently ignored.
    c.send_ouch(&cancel_order(1, 0));
    // Partial cancel: the intended order size is 30, so 50 come off.
    c.send_ouch(&cancel_order(2, 30));
    check_canceled(&c.message(), 2, 50, b'U');
    // A cancel to a size at or above the open quantity is superfluous: ignored.
    c.send_ouch(&cancel_order(2, 30));
    // Modify the quantity down to 10 (same side).
    c.send_ouch(&modify_order(2, b'S', 10));
    let m = c.message();
    assert_eq!(m[0], b'M', "Order Modified expected: {m:?}");
    assert_eq!(m.len(), 20, "Order Modified: 18 + Appendage Length");
    assert_eq!(u32_at(&m, 9), 2);
    assert_eq!(m[13], b'S', "Side");
    assert_eq!(u32_at(&m, 14), 10, "Quantity");
    assert_eq!(u16_at(&m, 18), 0);
    // Full cancel.
    c.send_ouch(&cancel_order(2, 0));
    check_canceled(&c.message(), 2, 10, b'U');
    assert_eq!(c.account_query(), 3, "nothing else was sent, and 3 is next");

    // Mass Cancel 'C': UserRefNum @1 | Firm 4 @5 | Symbol 8 @9 | Appendage Length @17.
    c.send_ouch(&enter_order(3, b'B', 10, "AAPL", 1_0000, DAY, "o3"));
    check_accepted(&c.message(), 3, b'B', 10, "AAPL", 1_0000, DAY, "o3");
    c.send_ouch(&enter_order(4, b'B', 20, "MSFT", 1_0000, DAY, "o4"));
    check_accepted(&c.message(), 4, b'B', 20, "MSFT", 1_0000, DAY, "o4");
    let mut mass = vec![b'C'];
    mass.extend(5u32.to_be_bytes());
    mass.extend(b"FIRM");
    mass.extend(right_pad("AAPL", 8));
    mass.extend([0, 0]);
    c.send_ouch(&mass);
    let m = c.message();
    assert_eq!(m[0], b'X', "Mass Cancel Response expected: {m:?}");
    assert_eq!(m.len(), 27, "Mass Cancel Response: 25 + Appendage Length");
    assert_eq!(u32_at(&m, 9), 5);
    assert_eq!(&m[13..17], b"FIRM");
    assert_eq!(&m[17..25], right_pad("AAPL", 8).as_slice());
    assert_eq!(u16_at(&m, 25), 0);
    check_canceled(&c.message(), 3, 10, b'U');
    // MSFT's order stays: a full cancel of it shows its whole size.
    c.send_ouch(&cancel_order(4, 0));
    check_canceled(&c.message(), 4, 20, b'U');
    server.stop();
}

#[test]
fn rejected_carries_the_spec_reason_code_and_a_refused_modify_gets_cancel_reject() {
    let server = any_login();
    let mut c = Client::login(server.addr, "rej", 1, 1);
    c.first_is_start_of_day();
    c.send_ouch(&enter_order(1, b'B', 10, "NOPE", 1_0000, DAY, "r1"));
    check_rejected(&c.message(), 1, 0x17, "r1"); // Invalid symbol
    c.send_ouch(&enter_order(2, b'B', 0, "AAPL", 1_0000, DAY, "r2"));
    check_rejected(&c.message(), 2, 0x13, "r2"); // Invalid quantity: zero
    // "Total number of shares. Must be greater than zero and less than 1,000,000."
    c.send_ouch(&enter_order(3, b'B', 1_000_000, "AAPL", 1_0000, DAY, "r3"));
    check_rejected(&c.message(), 3, 0x13, "r3");
    c.send_ouch(&enter_order(4, b'Q', 10, "AAPL", 1_0000, DAY, "r4"));
    check_rejected(&c.message(), 4, 0x09, "r4"); // Invalid side

    // A halted book: new orders get Halted (0x07); a modify is refused: Cancel Reject.
    c.send_ouch(&enter_order(5, b'B', 10, "AAPL", 1_0000, DAY, "r5"));
    check_accepted(&c.message(), 5, b'B', 10, "AAPL", 1_0000, DAY, "r5");
    server
        .engine
        .submit(Command::Halt {
            instrument_id: Uuid::from_u128(1),
        })
        .unwrap();
    c.send_ouch(&enter_order(6, b'B', 10, "AAPL", 1_0000, DAY, "r6"));
    check_rejected(&c.message(), 6, 0x07, "r6");
    c.send_ouch(&modify_order(5, b'B', 5));
    let m = c.message();
    assert_eq!(m[0], b'I', "Cancel Reject expected: {m:?}");
    assert_eq!(m.len(), 15, "Cancel Reject: 13 + Appendage Length");
    assert_eq!(u32_at(&m, 9), 5);
    assert_eq!(u16_at(&m, 13), 0);
    server.stop();
}

#[test]
fn user_ref_nums_reused_or_lower_are_ignored_and_never_make_an_order() {
    let server = any_login();
    let mut c = Client::login(server.addr, "urn", 1, 1);
    c.first_is_start_of_day();
    c.send_ouch(&enter_order(10, b'B', 10, "AAPL", 1_0000, DAY, "u10"));
    check_accepted(&c.message(), 10, b'B', 10, "AAPL", 1_0000, DAY, "u10");
    c.send_ouch(&enter_order(10, b'B', 99, "AAPL", 1_0000, DAY, "again"));
    c.send_ouch(&enter_order(9, b'B', 99, "AAPL", 1_0000, DAY, "lower"));
    // A replace to a used UserRefNum is ignored too (and the original stays).
    c.send_ouch(&replace_order(10, 10, 50, 1_0000, DAY, "self"));
    assert_eq!(c.account_query(), 11);
    c.send_ouch(&cancel_order(10, 0));
    check_canceled(&c.message(), 10, 10, b'U');
    server.stop();
}

#[test]
fn logout_then_relogin_replays_from_the_requested_sequence_number_and_shutdown_ends_the_session() {
    let server = any_login();
    let mut c = Client::login(server.addr, "replay", 1, 1);
    let mut seen = vec![c.message()];
    c.send_ouch(&enter_order(1, b'B', 10, "AAPL", 1_0000, DAY, "p1"));
    seen.push(c.message());
    c.send_ouch(&enter_order(2, b'B', 20, "AAPL", 1_0000, DAY, "p2"));
    seen.push(c.message());
    // Logout Request ('O', length 1): the server ends the session.
    c.send(&[0, 1, b'O']);
    while c.packet().is_some() {}

    // Cancel on disconnect (the default) canceled both orders: messages 4 and 5.
    let mut again = Client::login(server.addr, "replay", 2, 2);
    assert_eq!(again.message(), seen[1], "message 2 replayed byte for byte");
    assert_eq!(again.message(), seen[2], "message 3 replayed byte for byte");
    let (m4, m5) = (again.message(), again.message());
    let (first, second) = if u32_at(&m4, 9) == 1 {
        (m4, m5)
    } else {
        (m5, m4)
    };
    check_canceled(&first, 1, 10, b'Z');
    check_canceled(&second, 2, 20, b'Z');
    drop(again);
    // Sequence number 0: from the next new message on (6).
    let mut fresh = Client::login(server.addr, "replay", 0, 6);
    // Shutdown: System Event End of Day ('E'), then End of Session ('Z', length 1).
    server.stop();
    let m = fresh.message();
    assert_eq!((m.len(), m[0], m[9]), (10, b'S', b'E'), "End of Day: {m:?}");
    assert_eq!(fresh.packet(), Some((b'Z', Vec::new())));
}

#[test]
fn a_replace_counts_the_shares_already_executed_on_the_order_against_its_quantity() {
    // "The Shares on the replace denote the total number of shares liable for the whole
    // chain": 100 entered, 30 executed, a replace to 100 leaves 70 open.
    let server = any_login();
    let mut c = Client::login(server.addr, "chain", 1, 1);
    c.first_is_start_of_day();
    let mut t = Client::login(server.addr, "hitter", 1, 1);
    t.first_is_start_of_day();
    c.send_ouch(&enter_order(1, b'S', 100, "AAPL", 2_0000, DAY, "c1"));
    check_accepted(&c.message(), 1, b'S', 100, "AAPL", 2_0000, DAY, "c1");
    t.send_ouch(&enter_order(1, b'B', 30, "AAPL", 2_0000, b'3', "t1"));
    check_accepted(&t.message(), 1, b'B', 30, "AAPL", 2_0000, b'3', "t1");
    check_executed(&t.message(), 1, 30, 2_0000, b'R');
    check_executed(&c.message(), 1, 30, 2_0000, b'A');
    c.send_ouch(&replace_order(1, 2, 100, 2_1000, DAY, "c2"));
    check_replaced(&c.message(), 1, 2, b'S', 70, 2_1000, b'L', "c2");
    // A replace to no more than was executed leaves nothing: Order Replaced, state dead.
    t.send_ouch(&enter_order(2, b'B', 20, "AAPL", 2_1000, b'3', "t2"));
    check_accepted(&t.message(), 2, b'B', 20, "AAPL", 2_1000, b'3', "t2");
    check_executed(&t.message(), 2, 20, 2_1000, b'R');
    check_executed(&c.message(), 2, 20, 2_1000, b'A');
    c.send_ouch(&replace_order(2, 3, 50, 2_2000, DAY, "c3"));
    check_replaced(&c.message(), 2, 3, b'S', 0, 2_2000, b'D', "c3");
    assert_eq!(c.account_query(), 4);
    server.stop();
}

#[test]
fn an_invalid_replace_cancels_the_original_and_does_not_consume_its_user_ref_num() {
    // Spec, Replace Order: "If the order for the existing Order UserRefNum is live but the
    // details of the replace are invalid ..., a Cancel Order Message will take the existing
    // order out of the book. The replacement Order UserRefNum will not be consumed".
    let server = any_login();
    let mut c = Client::login(server.addr, "badrep", 1, 1);
    c.first_is_start_of_day();
    c.send_ouch(&enter_order(1, b'B', 10, "AAPL", 1_0000, DAY, "b1"));
    check_accepted(&c.message(), 1, b'B', 10, "AAPL", 1_0000, DAY, "b1");
    // Time in force 5 (GTX) is one Ringbook cannot honour.
    c.send_ouch(&replace_order(1, 2, 10, 1_0000, b'5', "b2"));
    check_canceled(&c.message(), 1, 10, b'U');
    // UserRefNum 2 was not consumed: a new order may use it.
    c.send_ouch(&enter_order(2, b'B', 5, "AAPL", 1_0000, DAY, "b2"));
    check_accepted(&c.message(), 2, b'B', 5, "AAPL", 1_0000, DAY, "b2");
    server.stop();
}

#[test]
fn a_replace_of_an_order_that_filled_in_the_meantime_is_ignored() {
    // Spec, Replace Order: "If the order for the existing Order UserRefNum is no longer
    // live ..., the replacement will be silently ignored." The fill and the replace race:
    // the crossing order and the replace go out in one write, so the gateway may still
    // hold the old order as live when the replace arrives. Repeated to meet the race.
    let server = any_login();
    let mut c = Client::login(server.addr, "race", 1, 1);
    c.first_is_start_of_day();
    for round in 0..40u32 {
        let base = round * 10 + 1;
        let (sell, buy, repl) = (base, base + 1, base + 2);
        c.send_ouch(&enter_order(sell, b'S', 10, "AAPL", 3_0000, DAY, "s"));
        check_accepted(&c.message(), sell, b'S', 10, "AAPL", 3_0000, DAY, "s");
        let mut burst = Vec::new();
        for m in [
            enter_order(buy, b'B', 10, "AAPL", 3_0000, b'3', "b"),
            replace_order(sell, repl, 10, 3_0000, DAY, "r"),
        ] {
            burst.extend(u16::try_from(m.len() + 1).unwrap().to_be_bytes());
            burst.push(b'U');
            burst.extend(m);
        }
        c.send(&burst);
        check_accepted(&c.message(), buy, b'B', 10, "AAPL", 3_0000, b'3', "b");
        // The cross: both sides are this user's (no self-match prevention).
        let e1 = c.message();
        let e2 = c.message();
        assert_eq!((e1[0], e2[0]), (b'E', b'E'), "round {round}: {e1:?} {e2:?}");
        // Nothing else: no Order Replaced, no order left; the replacement's UserRefNum is
        // not consumed (the next is still repl).
        let next = c.account_query();
        assert!(
            next == repl || next == repl + 1,
            "round {round}: next UserRefNum {next}"
        );
        // A full cancel of the replacement finds nothing live (Account Query next).
        c.send_ouch(&cancel_order(repl, 0));
        c.account_query();
    }
    server.stop();
}

/// Sends several OUCH messages in one TCP write (so the server reads them back to back).
fn burst(c: &mut Client, messages: &[Vec<u8>]) {
    let mut bytes = Vec::new();
    for m in messages {
        bytes.extend(u16::try_from(m.len() + 1).unwrap().to_be_bytes());
        bytes.push(b'U');
        bytes.extend(m);
    }
    c.send(&bytes);
}

#[test]
fn a_partial_cancel_never_grows_an_order_that_fills_left_below_the_intended_size() {
    // Spec, Cancel Order: the Quantity is the new intended order size; a cancel that
    // would not reduce the order is superfluous and ignored. A fill still in flight when
    // the gateway reads the cancel must not let the cancel grow the order back. The fill
    // and the cancel go out in one write; repeated to meet the race.
    let server = any_login();
    let mut c = Client::login(server.addr, "stale", 1, 1);
    c.first_is_start_of_day();
    for round in 0..25u32 {
        let base = round * 10 + 1;
        let (sell, buy) = (base, base + 1);
        c.send_ouch(&enter_order(sell, b'S', 100, "AAPL", 4_0000, DAY, "s"));
        check_accepted(&c.message(), sell, b'S', 100, "AAPL", 4_0000, DAY, "s");
        burst(
            &mut c,
            &[
                enter_order(buy, b'B', 70, "AAPL", 4_0000, b'3', "b"),
                cancel_order(sell, 50),
            ],
        );
        check_accepted(&c.message(), buy, b'B', 70, "AAPL", 4_0000, b'3', "b");
        let e1 = c.message();
        let e2 = c.message();
        assert_eq!((e1[0], e2[0]), (b'E', b'E'), "round {round}: {e1:?} {e2:?}");
        // The 70 executed first, so 30 are left and the cancel to 50 is superfluous:
        // nothing more is said, and a full cancel takes 30 off.
        thread::sleep(Duration::from_millis(100));
        c.send_ouch(&cancel_order(sell, 0));
        let m = c.message();
        check_canceled(&m, sell, 30, b'U');
        assert_eq!(c.account_query(), buy + 1, "round {round}");
    }
    server.stop();
}

#[test]
fn a_replacement_canceled_or_disconnected_before_it_is_live_leaves_no_order() {
    // A full cancel of the replacement, or a dropped connection, right behind the
    // replace: whichever the gateway sees first, no order is left on the book.
    let server = any_login();
    let mut c = Client::login(server.addr, "early", 1, 1);
    c.first_is_start_of_day();
    c.send_ouch(&enter_order(1, b'S', 10, "AAPL", 6_0000, DAY, "e1"));
    check_accepted(&c.message(), 1, b'S', 10, "AAPL", 6_0000, DAY, "e1");
    burst(
        &mut c,
        &[
            replace_order(1, 2, 10, 6_0000, DAY, "e2"),
            cancel_order(2, 0),
        ],
    );
    // Either the old order's cancel (the replacement never lived), or Order Replaced
    // then the replacement's cancel.
    let m = c.message();
    if m[0] == b'C' {
        check_canceled(&m, 1, 10, b'U');
    } else {
        check_replaced(&m, 1, 2, b'S', 10, 6_0000, b'L', "e2");
        check_canceled(&c.message(), 2, 10, b'U');
    }
    // The same with the connection dropped right behind the replace.
    c.send_ouch(&enter_order(3, b'S', 10, "AAPL", 6_0000, DAY, "e3"));
    check_accepted(&c.message(), 3, b'S', 10, "AAPL", 6_0000, DAY, "e3");
    burst(&mut c, &[replace_order(3, 4, 10, 6_0000, DAY, "e4")]);
    drop(c);
    // Nothing rests: a crossing IOC from another user expires whole.
    let mut t = Client::login(server.addr, "taker2", 1, 1);
    t.first_is_start_of_day();
    thread::sleep(Duration::from_millis(200));
    t.send_ouch(&enter_order(1, b'B', 50, "AAPL", 6_0000, b'3', "t"));
    check_accepted(&t.message(), 1, b'B', 50, "AAPL", 6_0000, b'3', "t");
    check_canceled(&t.message(), 1, 50, b'I');
    server.stop();
}

#[test]
fn order_accepted_echoes_the_options_the_order_was_accepted_with() {
    // Spec, Order Accepted: "The data fields from the Enter Order Message are echoed back
    // in this message"; its Optional Appendage carries the accepted options. Here Firm
    // (tag 2, 4 bytes) and MinQty (tag 3, 4 bytes) on an IOC (fill or kill).
    let server = any_login();
    let mut c = Client::login(server.addr, "echo", 1, 1);
    c.first_is_start_of_day();
    let mut m = enter_order(1, b'B', 10, "AAPL", 1_0000, b'3', "x1");
    m.truncate(45);
    let options: [u8; 12] = [5, 2, b'F', b'I', b'R', b'M', 5, 3, 0, 0, 0, 10];
    m.extend(12u16.to_be_bytes());
    m.extend(options);
    c.send_ouch(&m);
    let a = c.message();
    assert_eq!(a[0], b'A', "{a:?}");
    assert_eq!(a.len(), 64 + 12, "Order Accepted with a 12-byte appendage");
    assert_eq!(u16_at(&a, 62), 12, "Appendage Length");
    assert_eq!(&a[64..], &options, "the accepted options, echoed");
    // Nothing to fill against: the fill-or-kill order is canceled whole.
    check_canceled(&c.message(), 1, 10, b'I');
    server.stop();
}

#[test]
fn debug_packets_are_ignored_and_a_sequence_number_past_the_stream_starts_at_the_next_new_one() {
    // SoupBinTCP 4.0: a Debug Packet ('+', free text) may be sent by either side at any
    // time and is ignored by the receiver.
    let server = any_login();
    let mut c = Client::connect(server.addr);
    c.send(&[0, 6, b'+', b'h', b'e', b'l', b'l', b'o']);
    c.send(&login_request("dbg", "pw", "", 1));
    let (kind, _) = c.packet().unwrap();
    assert_eq!(kind, b'A', "Login Accepted after a Debug Packet");
    c.first_is_start_of_day();
    c.send(&[0, 3, b'+', b'h', b'i']);
    assert_eq!(
        c.account_query(),
        1,
        "the session goes on after a Debug Packet"
    );
    c.send(&[0, 1, b'O']);
    while c.packet().is_some() {}
    // Messages 1 and 2 exist; asking for 50 starts at 3, the next new one.
    let mut again = Client::login(server.addr, "dbg", 50, 3);
    assert_eq!(again.account_query(), 1);
    server.stop();
}

#[test]
fn a_modify_never_increases_the_order_and_a_modify_to_zero_cancels_it() {
    // Spec, Modify Order Request: "Increasing share amount is not allowed and requests to
    // do so will be ignored"; Quantity: "Entering a zero here will cancel any remaining
    // open shares on this order."
    let server = any_login();
    let mut c = Client::login(server.addr, "modz", 1, 1);
    c.first_is_start_of_day();
    c.send_ouch(&enter_order(1, b'S', 20, "AAPL", 7_0000, DAY, "m1"));
    check_accepted(&c.message(), 1, b'S', 20, "AAPL", 7_0000, DAY, "m1");
    c.send_ouch(&modify_order(1, b'S', 50));
    assert_eq!(
        c.account_query(),
        2,
        "the increase is ignored: nothing sent"
    );
    c.send_ouch(&modify_order(1, b'S', 0));
    check_canceled(&c.message(), 1, 20, b'U');
    assert_eq!(c.account_query(), 2, "nothing left to say");
    server.stop();
}
