//! Ringbook: a multi-instrument order-book manager for latency-critical engines.
//!
//! One price-time-priority [`OrderBook`] per instrument, each driven by a single writer.
//! The book is usable on its own, without threads: construct it, [`OrderBook::apply`] a
//! [`Command`], and receive [`OrderbookResult`]s in an [`EventSink`].
//!
//! The [`flow`] module reads order-flow files and writes event streams in the formats of
//! the flow-format contract, and generates synthetic flows.

#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod baseline;
mod book;
mod command;
mod direct;
pub mod flow;
pub mod harness;
pub mod journal;
mod manager;
mod pipeline;
mod recovery;

mod registry;
mod result;
mod subscriber;
mod types;

pub use book::{
    BookImage, ImageError, IntegrityError, OrderBook, RestingOrderImage, state_hash_of,
    state_hash_of_images,
};
pub use command::{Command, Op};
pub use direct::DirectEngine;
pub use manager::{
    JournalOptions, ManagerConfig, OrderbookManagerBuilder, OrderbookManagerError,
    OrderbookManagerService, OrderbookManagerServiceImpl, RecoveryInfo,
};
pub use pipeline::{ParseWaitStrategyError, WaitStrategy, available_cores, parse_core_list};
pub use recovery::{Recovered, recover};
pub use registry::InstrumentRegistry;
pub use result::{
    BookSnapshot, BookStatus, EventSink, OrderbookResult, RejectReason, SnapshotLevel,
    SnapshotOrder,
};
pub use subscriber::{
    CounterSnapshot, CountingSubscriber, DepthLevel, EventCounters, JsonlSubscriber,
    MarketDataSubscriber, MarketDataView, PublishedEvent, Subscriber, TopOfBook,
};
pub use types::{Order, OrderKind, Price, Qty, Side};
pub use uuid::Uuid;

/// The README's examples, compiled and run as doc tests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
