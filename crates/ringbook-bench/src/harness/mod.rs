//! The benchmark harness: a generated workload driven through an engine, closed loop (as
//! fast as it goes) or open loop (on a fixed schedule), with every new order's latency
//! recorded in an HDR histogram from its *intended* send time, so a stall is never hidden
//! (no coordinated omission).
//!
//! Both engines are driven through [`OrderbookManagerService`], the same way: the ring
//! pipeline ([`OrderbookManagerServiceImpl`]) and the original design
//! ([`BaselineManager`](crate::baseline::BaselineManager)).
//!
//! [`OrderbookManagerService`]: ringbook::OrderbookManagerService
//! [`OrderbookManagerServiceImpl`]: ringbook::OrderbookManagerServiceImpl

mod limits;
mod probe;
mod run;
mod threads;
mod workload;

pub use limits::{BenchSettingsError, MAX_INSTRUMENTS, MAX_ORDERS, MAX_RATE, check_workload};
pub use run::{CLOSED_LOOP_SAMPLE, EngineKind, RunOptions, RunReport, run};
pub use threads::{StageCpu, ThreadSample};
pub use workload::Workload;
