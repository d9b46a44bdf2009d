//! Order-flow files in, event streams out: the formats of the flow-format contract.
//!
//! - [`FlowReader`] parses a flow file (CSV) strictly, line by line, streaming.
//! - [`write_flow_header`] and [`write_flow_line`] write one.
//! - [`JsonlWriter`] writes an event stream (JSON Lines) with exact integers.
//! - [`FlowGenerator`] makes a seeded, realistic synthetic flow.
//! - [`MarketGenerator`] makes one instrument's market-shaped flow in a [`MarketRegime`].
//! - [`IdRenumbering`] numbers a flow's orders 1, 2, 3, ... as an order-entry session does.
//! - [`read_instruments`] and [`read_instruments_file`] read an instruments file (one id
//!   per line, optionally `id,symbol`).

mod activity;
mod csv;
mod gen_config;
mod generator;
mod instruments;
mod market;

mod jsonl;
mod lines;
mod quote;
mod renumber;
mod rng;

pub use activity::{Activity, ParseActivityError};
pub use csv::{
    FLOW_HEADER, FlowError, FlowReader, LONG_FLOW_HEADER, MAX_LINE_BYTES, UTF8_BOM, parse_id,
    write_flow_header, write_flow_line, write_long_flow_header, write_long_flow_line,
};
pub use gen_config::{GenConfig, LongFormMix};
pub use generator::FlowGenerator;
pub use instruments::{
    InstrumentEntry, InstrumentsError, InstrumentsFileError, read_instruments,
    read_instruments_file, with_instrument,
};

pub use jsonl::JsonlWriter;
pub use market::{
    MARKET_INSTRUMENT, MarketConfig, MarketGenerator, MarketRegime, MarketStats,
    ParseMarketRegimeError, START_MID,
};
pub use quote::{QUOTE_LIMIT, quoted};
pub use renumber::IdRenumbering;
