//! Shared by the OUCH integration tests: an engine behind an OUCH server on 127.0.0.1,
//! and a small OUCH client.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ringbook::{JournalOptions, OrderbookManagerService, OrderbookManagerServiceImpl, Uuid};
use ringbook_gateway::order_entry::{
    OrderEntryConfig, OuchApp, OuchResponder, Registry, SymbolTable,
};
use ringbook_gateway::soup::{
    ClientError, ServerPacket, SessionConfig, SoupClient, SoupServer, Users,
};
use ringbook_testkit::ouch_client::{encode, enter_order, login_retrying, next_sequenced};
use ringbook_wire::ouch::appendage::write_option;
use ringbook_wire::ouch::inbound::{CancelOrder, EnterOrder, Inbound, ModifyOrder, ReplaceOrder};
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::ouch::{Appendage, OptionTag, cl_ord_id};
use ringbook_wire::soup::login::LoginRequest;

/// Asserts that the next message of an [`Ouch`] matches a pattern (the message shown if
/// not).
#[allow(unused_macros)] // not every test file that shares this module uses it
macro_rules! expect_next {
    ($client:expr, $($pattern:tt)+) => {
        $client.next(|m| assert!(matches!(m, $($pattern)+), "{m:?}"))
    };
}
#[allow(unused_imports)]
pub(crate) use expect_next;

/// AAPL is instrument 1 (tick 1), MSFT instrument 2 (tick $0.01 = 100 units).
pub(crate) const SYMBOLS: &str = "symbol,instrument,tick\nAAPL,1,1\nMSFT,2,100\n";

pub(crate) fn instruments() -> Vec<Uuid> {
    vec![Uuid::from_u128(1), Uuid::from_u128(2)]
}

pub(crate) struct Harness {
    pub(crate) engine: Arc<OrderbookManagerServiceImpl>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) server: Option<SoupServer>,
    pub(crate) addr: SocketAddr,
}

pub(crate) fn session_config() -> SessionConfig {
    SessionConfig {
        idle_timeout: Duration::from_secs(30),
        ..SessionConfig::default()
    }
}

pub(crate) fn start(config: OrderEntryConfig, store: Option<PathBuf>) -> Harness {
    start_with(config, store, None)
}

/// As [`start`], with the engine journaled into `journal` (recovered first if there).
pub(crate) fn start_with(
    config: OrderEntryConfig,
    store: Option<PathBuf>,
    journal: Option<PathBuf>,
) -> Harness {
    let symbols = SymbolTable::parse(SYMBOLS, "symbols").unwrap();
    let registry = Arc::new(Registry::new(symbols, store).unwrap());
    let engine = Arc::new({
        let mut builder = OrderbookManagerServiceImpl::builder(instruments())
            .subscriber(OuchResponder::new(Arc::clone(&registry)));
        if let Some(dir) = journal {
            builder = builder.journal(JournalOptions::new(dir));
        }
        builder.build().unwrap()
    });
    engine.start().unwrap();
    let app = OuchApp::new(
        Arc::clone(&engine) as Arc<dyn OrderbookManagerService>,
        Arc::clone(&registry),
        config,
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = SoupServer::start(
        listener,
        Arc::new(app),
        Arc::new(Users::AnyLogin),
        session_config(),
    )
    .unwrap();
    let addr = server.local_addr();
    Harness {
        engine,
        registry,
        server: Some(server),
        addr,
    }
}

impl Harness {
    /// Stops the engine (its events all delivered), then the server; the state hash.
    pub(crate) fn stop(mut self) -> u64 {
        self.engine.stop().unwrap();
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        self.engine.state_hash().unwrap()
    }
}

pub(crate) struct Ouch {
    pub(crate) soup: SoupClient,
    pub(crate) buf: Vec<u8>,
}

/// Logs `user` in from `seq` (retrying while its previous session closes), with a 10 s
/// read timeout.
pub(crate) fn login(addr: SocketAddr, user: &str, seq: u64) -> Ouch {
    let request = LoginRequest::new(user, "pw", "", seq).unwrap();
    let (soup, _) = login_retrying(addr, &request, Duration::from_secs(5)).unwrap();
    soup.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    Ouch {
        soup,
        buf: Vec::new(),
    }
}

pub(crate) fn enter(urn: u32, side: u8, qty: u32, sym: &str, price: u64, tif: u8) -> Vec<u8> {
    enter_with(urn, side, qty, sym, price, tif, &[])
}

pub(crate) fn enter_with(
    urn: u32,
    side: u8,
    qty: u32,
    sym: &str,
    price: u64,
    tif: u8,
    appendage: &[u8],
) -> Vec<u8> {
    encode(&Inbound::EnterOrder(EnterOrder {
        appendage: Appendage::parse(appendage).unwrap(),
        ..enter_order(urn, side, qty, sym, price, tif, &format!("c{urn}"))
    }))
}

pub(crate) fn min_qty(q: u32) -> Vec<u8> {
    let mut v = Vec::new();
    write_option(&mut v, OptionTag::MinQty as u8, &q.to_be_bytes());
    v
}

pub(crate) fn cancel(urn: u32, qty: u32) -> Vec<u8> {
    encode(&Inbound::CancelOrder(CancelOrder {
        user_ref_num: urn,
        quantity: qty,
        appendage: Appendage::EMPTY,
    }))
}

pub(crate) fn modify(urn: u32, side: u8, qty: u32) -> Vec<u8> {
    encode(&Inbound::ModifyOrder(ModifyOrder {
        user_ref_num: urn,
        side,
        quantity: qty,
        appendage: Appendage::EMPTY,
    }))
}

pub(crate) fn replace(orig: u32, urn: u32, qty: u32, price: u64) -> Vec<u8> {
    encode(&Inbound::ReplaceOrder(ReplaceOrder {
        orig_user_ref_num: orig,
        user_ref_num: urn,
        quantity: qty,
        price,
        time_in_force: b'0',
        display: b'Y',
        intermarket_sweep: b'N',
        cl_ord_id: cl_ord_id(&format!("r{urn}")).unwrap(),
        appendage: Appendage::EMPTY,
    }))
}

impl Ouch {
    pub(crate) fn send(&mut self, message: &[u8]) {
        self.soup.send(message).unwrap();
    }

    /// The next sequenced message's bytes (heartbeats skipped).
    pub(crate) fn next_bytes(&mut self) -> Vec<u8> {
        next_sequenced(&mut self.soup)
    }

    /// The next message, checked and passed to `f`.
    pub(crate) fn next<R>(&mut self, f: impl FnOnce(Outbound<'_>) -> R) -> R {
        let bytes = self.next_bytes();
        f(Outbound::decode(&bytes).unwrap())
    }

    /// The type byte and UserRefNum-ish summary of the next message.
    pub(crate) fn next_kind(&mut self) -> (u8, u32) {
        self.next(|m| {
            let urn = match m {
                Outbound::OrderAccepted { user_ref_num, .. }
                | Outbound::OrderReplaced { user_ref_num, .. }
                | Outbound::OrderCanceled { user_ref_num, .. }
                | Outbound::OrderExecuted { user_ref_num, .. }
                | Outbound::Rejected { user_ref_num, .. }
                | Outbound::CancelPending { user_ref_num, .. }
                | Outbound::CancelReject { user_ref_num, .. }
                | Outbound::OrderModified { user_ref_num, .. }
                | Outbound::MassCancelResponse { user_ref_num, .. }
                | Outbound::OrderEntryResponse { user_ref_num, .. }
                | Outbound::BrokenTrade { user_ref_num, .. }
                | Outbound::PriorityUpdate { user_ref_num, .. }
                | Outbound::OrderRestated { user_ref_num, .. }
                | Outbound::AiqCanceled { user_ref_num, .. } => user_ref_num,
                Outbound::AccountQueryResponse {
                    next_user_ref_num, ..
                } => next_user_ref_num,
                Outbound::SystemEvent { .. } => 0,
            };
            (m.message_type(), urn)
        })
    }

    /// Asserts that the next message is Order Canceled for `user_ref_num`, `quantity`
    /// cancelled, for `reason`.
    pub(crate) fn expect_canceled(&mut self, user_ref_num: u32, quantity: u32, reason: u8) {
        self.next(|m| match m {
            Outbound::OrderCanceled {
                user_ref_num: u,
                quantity: q,
                reason: r,
                ..
            } => assert_eq!((u, q, r), (user_ref_num, quantity, reason), "{m:?}"),
            other => panic!("expected Order Canceled, got {other:?}"),
        });
    }

    /// Asserts that nothing arrives within `wait` (heartbeats aside).
    pub(crate) fn expect_silence(&mut self, wait: Duration) {
        self.soup.set_read_timeout(Some(wait)).unwrap();
        loop {
            match self.soup.recv() {
                Ok(ServerPacket::Heartbeat) => {}
                Ok(ServerPacket::Sequenced(m)) => {
                    panic!("unexpected message {:?}", Outbound::decode(m))
                }
                Ok(other) => panic!("unexpected {other:?}"),
                Err(ClientError::Io(_)) => break,
                Err(e) => panic!("{e}"),
            }
        }
        self.soup
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
    }
}
