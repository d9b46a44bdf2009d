//! Helpers shared by Ringbook's tests, benches and fuzz targets.
//!
//! - [`reference`](mod@reference): a deliberately naive order book written from the flow-format contract
//!   (`docs/FLOW-FORMAT.md`), sharing no code with the real book, to test it against.
//! - [`jsonl`]: a strict decoder of the JSON Lines event stream, for tests that run the
//!   binary.
//! - [`rng`]: a small seeded generator, so every test's input repeats.
//! - [`scratch`]: scratch directories, removed on drop.
//! - [`serve_process`]: `ringbook serve` as a child process, its ready lines parsed.
//! - [`corpus`](mod@corpus): the committed fuzz corpora, replayed in a normal test.
//! - `feed_engine` (feature `gateway`): an engine publishing an ITCH feed on 127.0.0.1.
//! - `ouch_client` (feature `gateway`): login, next message and Enter Order helpers for
//!   OUCH sessions.

pub mod corpus;
#[cfg(feature = "gateway")]
pub mod feed_engine;
pub mod jsonl;
#[cfg(feature = "gateway")]
pub mod ouch_client;
pub mod reference;
pub mod rng;
pub mod scratch;
pub mod serve_process;
