//! Ringbook: a multi-instrument order-book manager for latency-critical engines.
//!
//! One price-time-priority [`OrderBook`] per instrument, each driven by a single writer.
//! The book is usable on its own, without threads: construct it, [`OrderBook::apply`] a
//! [`Command`], and receive [`OrderbookResult`]s in an [`EventSink`].
//!
//! [`OrderbookManagerServiceImpl`] runs many books behind LMAX-style rings: callers publish
//! into an ingress ring, a sequencer numbers every command and routes it to its book's
//! inbound ring, book consumer threads match, and an event manager numbers every result
//! and hands it to [`Subscriber`]s. [`DirectEngine`] runs the same books on the caller's
//! thread, in input order: the definition of what the pipeline must produce per
//! instrument. With a journal ([`JournalOptions`]) every command is recorded before any
//! book sees it, and [`recover`] rebuilds the books after a crash.
//!
//! - [`flow`]: order-flow files (CSV) in, event streams (JSON Lines) out, and a seeded
//!   flow generator.
//! - [`journal`]: the input journal and snapshots on disk.
//!
//! The benchmark harness and the original design it is measured against live in the
//! `ringbook-bench` crate, and the `ringbook` command in `ringbook-cli`, so that a program
//! embedding the engine pulls in none of their dependencies.

mod book;
mod command;
mod direct;
pub mod flow;
mod id_hash;
pub mod journal;
mod manager;
mod pipeline;
mod prefault;
mod recovery;
mod registry;
mod result;
mod subscriber;
mod sync;
mod types;

pub use book::{
    BookGroup, BookImage, ImageError, IntegrityError, NoSuchBook, OrderBook, ParkedStopImage,
    RestingOrderImage, state_hash_of, state_hash_of_images,
};
pub use command::{Command, Op};
pub use direct::DirectEngine;
pub use manager::{
    ConfigError, JournalOptions, ManagerConfig, ManagerState, OrderbookManagerBuilder,
    OrderbookManagerError, OrderbookManagerService, OrderbookManagerServiceImpl, RecoveryInfo,
    SendFailure,
};
pub use pipeline::{
    Backpressure, ParseCoreListError, ParseStagesError, ParseWaitStrategyError, RingWaits, Stages,
    WaitStrategy, available_cores, parse_core_list,
};
pub use recovery::{Recovered, recover, recover_in_mode};
pub use registry::InstrumentRegistry;
pub use result::{
    BookSnapshot, BookStatus, EndReason, EventSink, OrderbookResult, RejectReason, SnapshotLevel,
    SnapshotOrder, SnapshotStop,
};
pub use subscriber::{
    CounterSnapshot, CountingSubscriber, DepthLevel, EventCounters, JsonlSubscriber,
    MarketDataSubscriber, MarketDataView, PublishedEvent, Subscriber, TopOfBook,
};
pub use types::{Order, OrderKind, Price, Qty, Side, StpMode};
pub use uuid::Uuid;

/// The README's examples, compiled and run as doc tests so they stay true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
