//! An engine publishing an ITCH feed on 127.0.0.1 (feature `gateway`), for the tests
//! that receive it: in the gateway's tests and through `ringbook feed`.

use std::net::SocketAddr;
use std::time::Duration;

use ringbook::flow::{FlowGenerator, GenConfig};
use ringbook::{Command, OrderbookManagerService, OrderbookManagerServiceImpl, Uuid};
use ringbook_gateway::feed::{Feed, FeedConfig};

/// An ephemeral address on the loopback interface (port 0: the system picks one).
#[must_use]
pub fn local() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The feed tests' and measurements' flow: `orders` generated orders (about two commands
/// each) on `instruments` books, with halts, modifies and every order kind, 200 levels
/// deep and up to 100 ticks from the touch.
#[must_use]
pub fn flow(seed: u64, instruments: u32, orders: u64) -> (Vec<Uuid>, Vec<Command>) {
    let config = GenConfig::new(seed, instruments, orders)
        .with_halt_per_million(5_000)
        .with_modify_permille(150)
        .with_depth(200)
        .with_max_distance(100);
    let generator = FlowGenerator::new(config);
    let ids = generator.instruments().to_vec();
    (ids, generator.collect())
}

/// A started engine on `ids` publishing to `destination` as MoldUDP64 session `session`,
/// instrument `i` as symbol `{symbol_prefix}{i}` (locate `i + 1`), with a re-request and
/// a GLIMPSE server on ephemeral loopback ports and 100 ms heartbeats; `tune` may change
/// the configuration before the feed starts.
///
/// # Panics
/// If the feed or the engine cannot start.
pub fn engine_with_feed(
    session: &str,
    symbol_prefix: &str,
    ids: &[Uuid],
    destination: SocketAddr,
    tune: impl FnOnce(&mut FeedConfig),
) -> (OrderbookManagerServiceImpl, Feed) {
    let symbols = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, Some(format!("{symbol_prefix}{i}"))))
        .collect();
    let mut config = FeedConfig::new(session, destination, symbols);
    config.rerequest = Some(local());
    config.glimpse = Some(local());
    config.heartbeat = Duration::from_millis(100);
    tune(&mut config);
    let (feed, subscriber) = Feed::start(&config).unwrap();
    let manager = OrderbookManagerServiceImpl::builder(ids.iter().copied())
        .subscriber(subscriber)
        .build()
        .unwrap();
    manager.start().unwrap();
    (manager, feed)
}
