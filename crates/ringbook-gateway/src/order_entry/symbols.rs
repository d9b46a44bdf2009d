//! The symbols file of `ringbook serve`: which OUCH Symbol names which instrument, and
//! at what tick size.
//!
//! One instrument a line: `symbol,instrument[,tick]`: a symbol of 1 to 8 printable ASCII
//! characters without spaces or commas (as OUCH carries it), an instrument id (a UUID or
//! a decimal integer, as in flow files), and optionally the tick size in OUCH price units
//! (1 = $0.0001; default 1, so one tick is one price unit), then optionally a price band
//! `min_price,max_price` in ticks that order entry enforces. A `symbol,instrument` or
//! `symbol,instrument,tick` header is skipped; blank lines and `#` comments are ignored.

use std::collections::HashMap;
use std::path::Path;

use ringbook::Uuid;
use ringbook::flow::parse_id;
use ringbook_wire::itch::PriceBand;
use ringbook_wire::ouch::{PriceScale, Symbol, symbol};
use thiserror::Error;

/// One instrument traded over OUCH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The Symbol field as on the wire.
    pub symbol: Symbol,
    /// The engine's instrument.
    pub instrument: Uuid,
    /// Its tick size.
    pub scale: PriceScale,
    /// The prices (in ticks) order entry accepts, when the file gives a band or the
    /// instrument is published on the ITCH feed (see [`SymbolTable::publish_on_itch`]);
    /// an order outside it is rejected with Invalid Price.
    pub band: Option<PriceBand>,
}

/// The symbols of a server.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    /// Looked up for every Enter Order on the session thread: foldhash, not SipHash
    /// (SipHash was a tenth of the session thread's instructions).
    by_symbol: HashMap<Symbol, Listing, foldhash::fast::RandomState>,
    by_instrument: HashMap<Uuid, Listing, foldhash::fast::RandomState>,
    /// The instruments in file order.
    order: Vec<Uuid>,
}

/// A symbols file that cannot be used.
#[derive(Debug, Error)]
pub enum SymbolsError {
    /// The file could not be read.
    #[error("symbols file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A line that breaks the format.
    #[error("symbols file {path} line {line}: {problem}")]
    Malformed {
        /// The file.
        path: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        problem: SymbolsProblem,
    },
    /// No instrument listed.
    #[error("symbols file {path} lists no instrument")]
    Empty {
        /// The file.
        path: String,
    },
}

/// What is wrong with a symbols file line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SymbolsProblem {
    /// Not two, three or five comma-separated fields.
    #[error("expected symbol,instrument[,tick[,min_price,max_price]]")]
    Fields,
    /// A price band that is not two integers (ticks) with 0 <= min <= max <= u32::MAX.
    #[error(
        "price band {0:?},{1:?} is not two integer prices in ticks with 0 <= min <= max <= 4294967295"
    )]
    Band(String, String),
    /// A symbol that OUCH cannot carry.
    #[error("symbol {0:?} is not 1 to 8 printable ASCII characters without spaces")]
    Symbol(String),
    /// An instrument that is not a UUID or decimal integer.
    #[error("instrument {0:?}: {1}")]
    Instrument(String, String),
    /// A tick size that is not a positive integer.
    #[error("tick size {0:?} is not a positive integer (OUCH price units of $0.0001)")]
    Tick(String),
    /// A symbol listed twice.
    #[error("symbol {0:?} is listed twice")]
    DuplicateSymbol(String),
    /// An instrument listed twice.
    #[error("instrument {0} is listed twice")]
    DuplicateInstrument(Uuid),
}

impl SymbolTable {
    /// Reads a symbols file (see the module docs).
    ///
    /// # Errors
    ///
    /// [`SymbolsError`] naming the file and line.
    pub fn from_file(path: &Path) -> Result<SymbolTable, SymbolsError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SymbolsError::Io {
            path: name.clone(),
            source,
        })?;
        SymbolTable::parse(&text, &name)
    }

    /// Parses the text of a symbols file; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// [`SymbolsError::Malformed`] for the first bad line, [`SymbolsError::Empty`].
    pub fn parse(text: &str, path: &str) -> Result<SymbolTable, SymbolsError> {
        let mut table = SymbolTable::default();
        let mut first = true;
        for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if std::mem::take(&mut first)
                && fields
                    .first()
                    .is_some_and(|f| f.eq_ignore_ascii_case("symbol"))
            {
                continue;
            }
            let bad = |problem| {
                Err(SymbolsError::Malformed {
                    path: path.to_string(),
                    line: i + 1,
                    problem,
                })
            };
            if ![2, 3, 5].contains(&fields.len()) {
                return bad(SymbolsProblem::Fields);
            }
            let text_symbol = fields[0];
            let Some(wire) = symbol(text_symbol)
                .filter(|_| !text_symbol.is_empty() && !text_symbol.contains(' '))
            else {
                return bad(SymbolsProblem::Symbol(text_symbol.to_string()));
            };
            let instrument = match parse_id(fields[1]) {
                Ok(id) => id,
                Err(e) => return bad(SymbolsProblem::Instrument(fields[1].to_string(), e)),
            };
            let scale = match fields.get(2) {
                None => PriceScale::default(),
                Some(t) => match t.parse::<u64>().ok().and_then(PriceScale::new) {
                    Some(s) => s,
                    None => return bad(SymbolsProblem::Tick((*t).to_string())),
                },
            };
            let band = match (fields.get(3), fields.get(4)) {
                (Some(lo), Some(hi)) => match (lo.parse::<i64>(), hi.parse::<i64>()) {
                    (Ok(min), Ok(max)) => match PriceBand::new(min, max) {
                        Ok(band) => Some(band),
                        Err(_) => {
                            return bad(SymbolsProblem::Band((*lo).to_string(), (*hi).to_string()));
                        }
                    },
                    _ => return bad(SymbolsProblem::Band((*lo).to_string(), (*hi).to_string())),
                },
                _ => None,
            };
            let listing = Listing {
                symbol: wire,
                instrument,
                scale,
                band,
            };
            if table.by_symbol.insert(wire, listing).is_some() {
                return bad(SymbolsProblem::DuplicateSymbol(text_symbol.to_string()));
            }
            if table.by_instrument.insert(instrument, listing).is_some() {
                return bad(SymbolsProblem::DuplicateInstrument(instrument));
            }
            table.order.push(instrument);
        }
        if table.by_symbol.is_empty() {
            return Err(SymbolsError::Empty {
                path: path.to_string(),
            });
        }
        Ok(table)
    }

    /// The listing of a Symbol field.
    #[must_use]
    pub fn by_symbol(&self, symbol: &Symbol) -> Option<&Listing> {
        self.by_symbol.get(symbol)
    }

    /// The listing of an instrument.
    #[must_use]
    pub fn by_instrument(&self, instrument: &Uuid) -> Option<&Listing> {
        self.by_instrument.get(instrument)
    }

    /// Every instrument.
    pub fn instruments(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.by_instrument.keys().copied()
    }

    /// Every listing, in file order (the ITCH feed's locate codes follow it).
    pub fn in_file_order(&self) -> impl Iterator<Item = &Listing> + '_ {
        self.order
            .iter()
            .filter_map(|id| self.by_instrument.get(id))
    }

    /// Narrows every listing's band to the prices the ITCH feed can carry at its tick
    /// size (the whole of that range where the file gives no band), so order entry
    /// refuses what the feed could not publish.
    ///
    /// # Errors
    ///
    /// The symbol whose file band has no price ITCH can carry.
    pub fn publish_on_itch(&mut self) -> Result<(), String> {
        for listing in self.by_instrument.values_mut() {
            let tick = listing.scale.tick();
            let itch = PriceBand::for_tick(tick).unwrap_or_default();
            let band = match listing.band {
                Some(band) => band.within_tick(tick).map_err(|e| {
                    format!(
                        "symbol {}: {e} at tick {tick}",
                        String::from_utf8_lossy(&listing.symbol).trim_end()
                    )
                })?,
                None => itch,
            };
            listing.band = Some(band);
            if let Some(by_symbol) = self.by_symbol.get_mut(&listing.symbol) {
                by_symbol.band = Some(band);
            }
        }
        Ok(())
    }

    /// How many instruments.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_symbol.len()
    }

    /// Whether none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_symbol.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_files_are_read_with_ticks_and_bad_lines_are_named() {
        let table = SymbolTable::parse(
            "symbol,instrument\nAAPL,1\n# x\nMSFT,00000000-0000-0000-0000-000000000002,100\n",
            "s.csv",
        )
        .unwrap();
        let aapl = table.by_symbol(&symbol("AAPL").unwrap()).unwrap();
        assert_eq!(
            (aapl.instrument, aapl.scale.tick()),
            (Uuid::from_u128(1), 1)
        );
        assert_eq!(
            table
                .by_instrument(&Uuid::from_u128(2))
                .unwrap()
                .scale
                .tick(),
            100
        );
        assert_eq!(table.len(), 2);
        let err = |t: &str| match SymbolTable::parse(t, "s.csv").unwrap_err() {
            SymbolsError::Malformed { line, problem, .. } => Some((line, problem)),
            SymbolsError::Empty { .. } => None,
            SymbolsError::Io { .. } => unreachable!(),
        };
        assert_eq!(
            err("TOOLONGSYM,1\n"),
            Some((1, SymbolsProblem::Symbol("TOOLONGSYM".into())))
        );
        assert_eq!(
            err("A,1\nA,2\n"),
            Some((2, SymbolsProblem::DuplicateSymbol("A".into())))
        );
        assert_eq!(
            err("A,1\nB,1\n"),
            Some((2, SymbolsProblem::DuplicateInstrument(Uuid::from_u128(1))))
        );
        assert_eq!(err("A,1,0\n"), Some((1, SymbolsProblem::Tick("0".into()))));
        assert_eq!(err("A\n"), Some((1, SymbolsProblem::Fields)));
        assert!(matches!(
            err("A,x\n"),
            Some((1, SymbolsProblem::Instrument(..)))
        ));
        assert_eq!(err("# nothing\n"), None);
        let text = SymbolTable::parse("A,1\nA,2\n", "s.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(
            text,
            "symbols file s.csv line 2: symbol \"A\" is listed twice"
        );
    }
}
