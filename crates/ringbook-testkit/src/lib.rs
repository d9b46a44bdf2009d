//! Helpers shared by Ringbook's tests, benches and fuzz targets.
//!
//! - [`reference`](mod@reference): a deliberately naive order book written from the flow-format contract
//!   (`docs/FLOW-FORMAT.md`), sharing no code with the real book, to test it against.
//! - [`jsonl`]: a strict decoder of the JSON Lines event stream, for tests that run the
//!   binary.
//! - [`rng`]: a small seeded generator, so every test's input repeats.
//! - [`scratch`]: scratch directories, removed on drop.

pub mod jsonl;
pub mod reference;
pub mod rng;
pub mod scratch;
