//! What the gateway knows of each user: the orders it entered and the UserRefNums it has
//! used, and the user's stream of outbound messages. The session thread (inbound) and the
//! responder (engine events) share it under one lock per user; the responder never waits
//! on a session and a session never holds the lock while it submits to the engine.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use ringbook::{Command, OrderKind, Price, Side, Uuid};
use ringbook_wire::ouch::codes::event_code;
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::ouch::{ClOrdId, PriceScale, Symbol};

use super::deferred::DeferredQueue;
use super::hops::{Hop, HopLog};
use super::order_id::{UserKey, user_key};
use super::symbols::SymbolTable;
use crate::soup::{FileStore, MemoryStore, MessageStore, StoreError, Stream};

/// A change the gateway asked of a live order, to tell the client how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Nothing.
    None,
    /// A Cancel Order with a quantity: answered by Order Canceled for the decrement.
    PartialCancel,
    /// A Modify Order: answered by Order Modified.
    Modify,
    /// The gateway's own modify back to the size a stale partial cancel or modify grew
    /// the order from: answered by nothing.
    Restore,
}

/// One order of a user.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrderInfo {
    pub(crate) symbol: Symbol,
    pub(crate) instrument: Uuid,
    pub(crate) scale: PriceScale,
    pub(crate) side: u8,
    pub(crate) price: Price,
    /// Shares open, as the engine last reported.
    pub(crate) open: u32,
    pub(crate) time_in_force: u8,
    pub(crate) display: u8,
    pub(crate) capacity: u8,
    pub(crate) intermarket_sweep: u8,
    pub(crate) cross_type: u8,
    pub(crate) cl_ord_id: ClOrdId,
    /// The reason byte of the Order Canceled the engine's cancel will cause.
    pub(crate) cancel_reason: u8,
    pub(crate) pending: Pending,
    /// The order this one replaces (its Accepted is sent as Order Replaced).
    pub(crate) replaces: Option<u32>,
    /// The order replacing this one (its cancel is not reported).
    pub(crate) replaced_by: Option<u32>,
    /// Shares executed on the order's whole replace chain (a replace's Quantity is the
    /// chain's total liability, executions included).
    pub(crate) executed: u32,
    /// For a replacement whose add is not yet accepted: its side and kind (the add is
    /// submitted once the old order's cancel is confirmed; `open` holds the Quantity the
    /// client asked for until then).
    pub(crate) deferred: Option<(Side, OrderKind)>,
    /// A full cancel (or a cancel on disconnect) came for a replacement before it was
    /// live: it is canceled as soon as it is.
    pub(crate) cancel_when_live: bool,
    /// Its MaxFloor (0: none): the engine's display quantity of a reserve order.
    pub(crate) max_floor: u32,
    /// The options it was accepted with (echoed in Order Accepted / Order Replaced).
    pub(crate) options: super::echo::Echo,
}

impl OrderInfo {
    /// Whether requests may act on the order now (not replaced, not awaiting its add).
    pub(crate) fn is_live(&self) -> bool {
        self.replaced_by.is_none() && self.deferred.is_none()
    }
}

/// A user's orders and UserRefNums.
#[derive(Debug)]
pub(crate) struct UserState {
    /// The highest UserRefNum taken for an order.
    pub(crate) last_ref: u32,
    /// Orders entered and not known to be done, by UserRefNum (foldhash: SipHash was a
    /// tenth of the gateway's time in a profile).
    pub(crate) orders: HashMap<u32, OrderInfo, foldhash::fast::RandomState>,
    /// Order entry disabled by a Disable Order Entry request.
    pub(crate) entry_disabled: bool,
}

impl Default for UserState {
    fn default() -> UserState {
        UserState {
            last_ref: 0,
            orders: HashMap::with_capacity_and_hasher(
                1 << 12,
                foldhash::fast::RandomState::default(),
            ),
            entry_disabled: false,
        }
    }
}

/// One user: state, stream, and whether a session is logged in.
#[derive(Debug)]
pub struct UserEntry {
    pub(crate) key: UserKey,
    pub(crate) name: String,
    pub(crate) state: Mutex<UserState>,
    pub(crate) stream: Arc<Stream>,
    pub(crate) active: AtomicBool,
}

impl UserEntry {
    /// The user's stream of outbound messages.
    #[must_use]
    pub fn stream(&self) -> &Arc<Stream> {
        &self.stream
    }

    /// The username.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Nanoseconds since midnight UTC now: the OUCH Timestamp.
#[must_use]
pub fn now_since_midnight() -> u64 {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (ns % 86_400_000_000_000) as u64
}

/// Every user of a server, their stores, and the symbols.
#[derive(Debug)]
pub struct Registry {
    users: RwLock<HashMap<UserKey, Arc<UserEntry>>>,
    store_dir: Option<PathBuf>,
    symbols: SymbolTable,
    /// Commands the responder hands back to be submitted off the event thread (a
    /// replacement's add once the old order's cancel is confirmed).
    deferred: Arc<DeferredQueue>,
    /// Whether an [`super::OuchApp`] took the queue (the first one submits them).
    deferred_taken: AtomicBool,
    /// The diagnostic stamps of each new order's hops, when asked for.
    hops: Option<Arc<HopLog>>,
}

/// The suffix of a user's stream file in the store directory.
const STREAM_SUFFIX: &str = ".ouch";

impl Registry {
    /// A registry keeping streams in memory, or in `store_dir` (one `<hex username>.ouch`
    /// file per user, read back here: every user found gets its orders and UserRefNums back
    /// from its stream).
    ///
    /// # Errors
    ///
    /// [`StoreError`] for a store file that cannot be read.
    pub fn new(symbols: SymbolTable, store_dir: Option<PathBuf>) -> Result<Registry, StoreError> {
        let registry = Registry {
            users: RwLock::new(HashMap::new()),
            store_dir,
            symbols,
            deferred: Arc::new(DeferredQueue::default()),
            deferred_taken: AtomicBool::new(false),
            hops: None,
        };
        if let Some(dir) = &registry.store_dir {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.clone(),
                source,
            })?;
            let entries = std::fs::read_dir(dir).map_err(|source| StoreError::Io {
                path: dir.clone(),
                source,
            })?;
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(user) = name
                    .to_str()
                    .and_then(|n| n.strip_suffix(STREAM_SUFFIX))
                    .and_then(unhex)
                else {
                    continue;
                };
                let user = user.as_str();
                let entry = registry.create(user)?;
                let state = super::restore::restore(&entry.stream, &registry.symbols);
                tracing::info!(
                    user,
                    messages = entry.stream.len(),
                    orders = state.orders.len(),
                    last_ref = state.last_ref,
                    "restored an OUCH stream"
                );
                *entry.state.lock() = state;
            }
        }
        Ok(registry)
    }

    /// The registry with each new order's hops stamped into `log` (a diagnostic: see
    /// [`HopLog`]).
    #[must_use]
    pub fn with_hops(mut self, log: Arc<HopLog>) -> Registry {
        self.hops = Some(log);
        self
    }

    /// Stamps `hop` of `user`'s order `urn`, when hops are logged.
    pub(crate) fn stamp(&self, user: UserKey, urn: u32, hop: Hop) {
        if let Some(log) = &self.hops {
            log.stamp(user, urn, hop);
        }
    }

    /// Hands `command` to the application's submitter (never blocks); it is woken at
    /// [`Registry::ring_deferred`].
    pub(crate) fn defer(&self, command: Command) {
        self.deferred.push(command);
    }

    /// Wakes the submitter for the commands deferred so far (once per event batch).
    pub(crate) fn ring_deferred(&self) {
        self.deferred.ring();
    }

    /// The queue of deferred commands, once (for the submitter).
    pub(crate) fn take_deferred(&self) -> Option<Arc<DeferredQueue>> {
        (!self.deferred_taken.swap(true, Ordering::AcqRel)).then(|| Arc::clone(&self.deferred))
    }

    /// The symbols.
    #[must_use]
    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    /// The user with `key`, if known.
    #[must_use]
    pub fn get(&self, key: UserKey) -> Option<Arc<UserEntry>> {
        self.users.read().get(&key).cloned()
    }

    /// The user named `name`, created (with a new stream starting with System Event
    /// Start of Day) if new.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the user's store cannot be opened.
    pub fn get_or_create(&self, name: &str) -> Result<Arc<UserEntry>, StoreError> {
        if let Some(entry) = self.get(user_key(name.as_bytes())) {
            return Ok(entry);
        }
        self.create(name)
    }

    fn create(&self, name: &str) -> Result<Arc<UserEntry>, StoreError> {
        let key = user_key(name.as_bytes());
        let mut users = self.users.write();
        if let Some(entry) = users.get(&key) {
            return Ok(Arc::clone(entry));
        }
        let store: Box<dyn MessageStore> = match &self.store_dir {
            Some(dir) => Box::new(FileStore::open(&stream_path(dir, name))?),
            None => Box::new(MemoryStore::with_capacity(1 << 16)),
        };
        let stream = Arc::new(Stream::new(store));
        if stream.is_empty() {
            let mut msg = Vec::with_capacity(10);
            Outbound::SystemEvent {
                timestamp: now_since_midnight(),
                event_code: event_code::START_OF_DAY,
            }
            .encode(&mut msg);
            stream.append(&msg)?;
        }
        let entry = Arc::new(UserEntry {
            key,
            name: name.to_string(),
            state: Mutex::new(UserState::default()),
            stream,
            active: AtomicBool::new(false),
        });
        users.insert(key, Arc::clone(&entry));
        Ok(entry)
    }

    /// Every user.
    #[must_use]
    pub fn users(&self) -> Vec<Arc<UserEntry>> {
        self.users.read().values().cloned().collect()
    }

    /// Appends System Event End of Day to every stream.
    ///
    /// # Errors
    ///
    /// The first store that fails.
    pub fn end_of_day(&self) -> Result<(), StoreError> {
        let mut msg = Vec::with_capacity(10);
        Outbound::SystemEvent {
            timestamp: now_since_midnight(),
            event_code: event_code::END_OF_DAY,
        }
        .encode(&mut msg);
        for user in self.users() {
            user.stream.append(&msg)?;
        }
        Ok(())
    }

    /// Makes every stream durable.
    ///
    /// # Errors
    ///
    /// The first store that fails.
    pub fn sync_all(&self) -> Result<(), StoreError> {
        for user in self.users() {
            user.stream.sync()?;
        }
        Ok(())
    }
}

/// A user's stream file: the username in hex (a username may hold any printable byte,
/// `/` too), then `.ouch`.
fn stream_path(dir: &Path, user: &str) -> PathBuf {
    let hex: String = user.bytes().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}{STREAM_SUFFIX}"))
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) || text.len() > 12 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}
