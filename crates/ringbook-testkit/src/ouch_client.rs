//! A test's side of an OUCH session over SoupBinTCP (feature `gateway`): logging in
//! while the user's previous session closes, reading the next sequenced message, and
//! building an Enter Order.

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use ringbook_gateway::soup::{ClientError, ServerPacket, SoupClient};
use ringbook_wire::ouch::inbound::{EnterOrder, Inbound};
use ringbook_wire::ouch::{Appendage, cl_ord_id, symbol};
use ringbook_wire::soup::login::{LoginAccepted, LoginRejectReason, LoginRequest};

/// Logs `user` in with `password` from sequence number `seq` (no retry), with a 10 s read
/// timeout.
///
/// # Errors
/// What [`SoupClient::connect`] returns (a login rejected, an I/O error).
///
/// # Panics
/// If `user` or `password` does not fit its SoupBinTCP field.
pub fn login(
    addr: SocketAddr,
    user: &str,
    password: &str,
    seq: u64,
) -> Result<SoupClient, ClientError> {
    let request = LoginRequest::new(user, password, "", seq).unwrap();
    let (client, _) = SoupClient::connect(addr, &request)?;
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(client)
}

/// Logs in with `request`, retrying for up to `retry_for` while the server answers
/// Session Not Available (the user's previous session may still be closing); any other
/// outcome is returned as it came.
pub fn login_retrying(
    addr: SocketAddr,
    request: &LoginRequest,
    retry_for: Duration,
) -> Result<(SoupClient, LoginAccepted), ClientError> {
    let deadline = Instant::now() + retry_for;
    loop {
        match SoupClient::connect(addr, request) {
            Err(ClientError::LoginRejected(LoginRejectReason::SessionNotAvailable))
                if Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The next sequenced message's bytes, heartbeats skipped.
///
/// # Panics
/// On a receive error or any other packet (the panic shows it).
pub fn next_sequenced(client: &mut SoupClient) -> Vec<u8> {
    loop {
        match client.recv().unwrap() {
            ServerPacket::Sequenced(m) => return m.to_vec(),
            ServerPacket::Heartbeat => {}
            other => panic!("expected a sequenced message, got {other:?}"),
        }
    }
}

/// An Enter Order for a displayed agency order (no sweep, no cross, no appendage).
///
/// # Panics
/// If `sym` or `client_id` does not fit its OUCH field.
pub fn enter_order(
    user_ref_num: u32,
    side: u8,
    quantity: u32,
    sym: &str,
    price: u64,
    time_in_force: u8,
    client_id: &str,
) -> EnterOrder<'static> {
    EnterOrder {
        user_ref_num,
        side,
        quantity,
        symbol: symbol(sym).unwrap(),
        price,
        time_in_force,
        display: b'Y',
        capacity: b'A',
        intermarket_sweep: b'N',
        cross_type: b'N',
        cl_ord_id: cl_ord_id(client_id).unwrap(),
        appendage: Appendage::EMPTY,
    }
}

/// The wire bytes of `message`.
pub fn encode(message: &Inbound<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    message.encode(&mut out);
    out
}
