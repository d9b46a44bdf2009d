//! OUCH 5.0 order entry over the SoupBinTCP server: the session application
//! ([`OuchApp`]), the engine subscriber that routes events back to their users
//! ([`OuchResponder`]), the per-user state they share ([`Registry`]), the mapping of OUCH
//! fields to Ringbook's orders ([`validate`]) and the symbols file ([`SymbolTable`]).
//! docs/OUCH.md describes what is supported and how it maps.
//!
//! Wiring: build a [`Registry`], add an [`OuchResponder`] of it to the engine's
//! subscribers, start the engine, then serve an [`OuchApp`] with
//! [`crate::soup::SoupServer`].

mod app;
mod deferred;
mod echo;
pub mod engine_order;
mod hops;
pub mod order_id;
mod responder;
mod restore;
mod state;
mod submitter;
mod symbols;
pub mod validate;

pub use app::{OrderEntryConfig, OuchApp, OuchSession, engine_order_id};
pub use hops::{Hop, HopLog};
pub use responder::{OuchResponder, reject_code};
pub use state::{Registry, UserEntry, now_since_midnight};
pub use symbols::{Listing, SymbolTable, SymbolsError, SymbolsProblem};
