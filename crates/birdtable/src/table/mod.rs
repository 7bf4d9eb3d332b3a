//! The routing table: net index, per-net route lists, journal, service loop.
//!
//! See the crate documentation for the concurrency protocol. This module holds the shared structure and
//! the lock-free readers; `import` the writer side, `service` the table's own loop.

// Raw route-list and slot pointers; every block carries its SAFETY argument.
#![allow(unsafe_code)]

pub(crate) mod import;
pub(crate) mod service;

use std::collections::VecDeque;
use std::fmt;
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use birdevent::journal::Journal;
use birdevent::{Callback, Event, EventList};
use birdloop::{Clock, Loop, ThreadGroup, Time, TimerKey};
use birdmem::IdMap;
use birdnet::{Net, NetType, Trie4, Trie6};
use birdrcu::level::Rtable;
use birdrcu::{Domain, LevelId};

use crate::chunks::ChunkDir;
use crate::cork::Cork;
use crate::list::{self, ListHeader, ListRef, RetiredList};
use crate::netindex::NetIndex;
use crate::route::{NetId, Route};

pub use import::{Import, ImportHandle, ImportOutcome, ImportResult, ImportStats};

/// Table configuration (the `ipv4 table master4 { ... }` block).
#[derive(Clone)]
pub struct TableConfig {
    /// Table name.
    pub name: String,
    /// The net type; imports of other types are ignored.
    pub net_type: NetType,
    /// `export settle time` minimum: announcements wait until no push happened for this long...
    pub settle_min: Duration,
    /// ... but no longer than this after the first unannounced push. Zero `settle_min` announces at once.
    pub settle_max: Duration,
    /// Unannounced items at which the table announces without waiting for the settle timer: during a
    /// long import burst (a full feed), recipients read the journal in chunks of about this many items
    /// while it is still in cache, instead of all of it once the burst is over. Zero disables it.
    pub announce_batch: u64,
    /// Unreleased journal items above which the table corks its importers.
    pub cork_high: u64,
    /// Unreleased journal items below which it uncorks.
    pub cork_low: u64,
    /// The cork group (default: [`Cork::global`]).
    pub cork: Option<Arc<Cork>>,
    /// Journal block size (items).
    pub journal_block: usize,
    /// `trie yes`: keep a trie of the nets present (maintained under the table lock), so subnet feeds and
    /// refeeds ([`Prefilter::Subnet`](crate::Prefilter::Subnet)) walk only the nets inside their prefix
    /// instead of every net id. Off by default, as in BIRD: it costs memory per net.
    pub trie: bool,
}

impl fmt::Debug for TableConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableConfig")
            .field("name", &self.name)
            .field("net_type", &self.net_type)
            .field("settle", &(self.settle_min, self.settle_max))
            .field("announce_batch", &self.announce_batch)
            .field("cork", &(self.cork_low, self.cork_high))
            .finish_non_exhaustive()
    }
}

impl TableConfig {
    /// Defaults: settle 1 ms / 100 ms (BIRD's), announce batch 4096 items, cork 32768 / 98304 items
    /// (BIRD's code defaults), blocks of 512 items.
    pub fn new(name: impl Into<String>, net_type: NetType) -> TableConfig {
        TableConfig {
            name: name.into(),
            net_type,
            settle_min: Duration::from_millis(1),
            settle_max: Duration::from_millis(100),
            announce_batch: 4096,
            cork_high: 98_304,
            cork_low: 32_768,
            cork: None,
            journal_block: 512,
            trie: false,
        }
    }
}

/// A journal item: one change of one net.
///
/// The best-route change is stored compactly: one change replaces the route of one source, so when the
/// best route changed, either the old best was `old` (removed) or the new best is `new` (inserted in front
/// of the old best); at most one of the two is another route of the net, kept in `other`. 128 bytes
/// instead of 160 with two more route copies, and one or two fewer route clones per best change.
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) net_id: NetId,
    best: u8,
    pub(crate) net: Net,
    pub(crate) old: Option<Route>,
    pub(crate) new: Option<Route>,
    other: Option<Route>,
}

/// `Change::best` bits.
const BEST_CHANGED: u8 = 1;
const OLD_BEST_OLD: u8 = 2;
const OLD_BEST_OTHER: u8 = 4;
const NEW_BEST_NEW: u8 = 8;
const NEW_BEST_OTHER: u8 = 16;

impl Change {
    /// An item; `best` is `(old best, new best)` when the best route changed, which (see the type docs)
    /// is `old` or `new` or another route, at most one of them another.
    pub(crate) fn new(
        net_id: NetId,
        net: Net,
        old: Option<Route>,
        new: Option<Route>,
        best: Option<(Option<&Route>, Option<&Route>)>,
    ) -> Change {
        let mut bits = 0;
        let mut other = None;
        if let Some((ob, nb)) = best {
            bits |= BEST_CHANGED;
            // Route ids are unique among the routes of a table (a removed route keeps its id until every
            // recipient passed its removal).
            let is = |a: Option<&Route>, b: &Option<Route>| matches!((a, b), (Some(a), Some(b)) if a.id() == b.id());
            if let Some(r) = ob {
                if is(ob, &old) {
                    bits |= OLD_BEST_OLD;
                } else {
                    bits |= OLD_BEST_OTHER;
                    other = Some(r.clone());
                }
            }
            if let Some(r) = nb {
                if is(nb, &new) {
                    bits |= NEW_BEST_NEW;
                } else if other.is_none() {
                    bits |= NEW_BEST_OTHER;
                    other = Some(r.clone());
                } else {
                    // Unreachable (see the type docs): keep the new best, which is what exporters send.
                    debug_assert!(false, "best change between two other routes");
                    bits = BEST_CHANGED | NEW_BEST_OTHER;
                    other = Some(r.clone());
                }
            }
        }
        Change { net_id, best: bits, net, old, new, other }
    }

    /// `(old best, new best)` when the best route changed.
    pub(crate) fn best(&self) -> Option<(Option<&Route>, Option<&Route>)> {
        let b = self.best;
        if b & BEST_CHANGED == 0 {
            return None;
        }
        let ob = if b & OLD_BEST_OLD != 0 {
            self.old.as_ref()
        } else if b & OLD_BEST_OTHER != 0 {
            self.other.as_ref()
        } else {
            None
        };
        let nb = if b & NEW_BEST_NEW != 0 {
            self.new.as_ref()
        } else if b & NEW_BEST_OTHER != 0 {
            self.other.as_ref()
        } else {
            None
        };
        Some((ob, nb))
    }

    /// Whether the best route changed.
    pub(crate) fn best_changed(&self) -> bool {
        self.best & BEST_CHANGED != 0
    }
}

/// Work the service loop must do once every recipient passed a seq.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pending {
    RouteId(u32),
    Net(NetId),
}

/// Lists and routes unlinked by the writer, dropped after a grace period (see [`crate::list`]).
#[derive(Default)]
pub(crate) struct RetireBag {
    pub(crate) lists: Vec<RetiredList>,
    pub(crate) routes: Vec<Route>,
}

impl RetireBag {
    pub(crate) fn is_empty(&self) -> bool {
        self.lists.is_empty() && self.routes.is_empty()
    }
}

/// The writer state: everything behind the table's lock domain.
pub(crate) struct TableState {
    pub(crate) index: NetIndex,
    pub(crate) journal: Journal<Change>,
    pub(crate) route_ids: IdMap,
    pub(crate) importers: Vec<Option<import::ImporterSlot>>,
    pub(crate) importer_ids: IdMap,
    pub(crate) retired: RetireBag,
    /// Memory of retired lists past their grace period, for reuse by imports.
    pub(crate) pool: list::ListPool,
    /// Lists whose grace period ended since the last [`service::flush_retired`], moved into `pool` there.
    pub(crate) graced: Arc<service::Graced>,
    pub(crate) pending: VecDeque<(u64, Pending)>,
    pub(crate) corked: bool,
    pub(crate) subs: Vec<Weak<crate::export::SubShared>>,
    pub(crate) pushes: u64,
    pub(crate) announced: u64,
    pub(crate) settle: service::Settle,
    pub(crate) prune: Option<service::PrunePass>,
    /// Nets present, by prefix (`trie yes`): net → id.
    pub(crate) trie: Option<NetTrie>,
}

/// The tries of nets present, one per address family.
#[derive(Default)]
pub(crate) struct NetTrie {
    v4: Trie4<u32>,
    v6: Trie6<u32>,
}

impl NetTrie {
    fn insert(&mut self, net: Net, id: NetId) {
        match net {
            Net::Ip4(p) => {
                self.v4.insert(p, id.0);
            }
            Net::Ip6(p) => {
                self.v6.insert(p, id.0);
            }
            _ => {}
        }
    }

    fn remove(&mut self, net: &Net) {
        match net {
            Net::Ip4(p) => {
                self.v4.remove(p);
            }
            Net::Ip6(p) => {
                self.v6.remove(p);
            }
            _ => {}
        }
    }

    /// Ids of the nets equal to or inside `net`, ascending (`None`: not an IP net, walk everything).
    pub(crate) fn subnet_ids(&self, net: &Net) -> Option<Vec<u32>> {
        let mut v: Vec<u32> = match net {
            Net::Ip4(p) => self.v4.subnets(p).map(|(_, &id)| id).collect(),
            Net::Ip6(p) => self.v6.subnets(p).map(|(_, &id)| id).collect(),
            _ => return None,
        };
        v.sort_unstable();
        Some(v)
    }

    fn heap_bytes(&self) -> usize {
        self.v4.heap_bytes() + self.v6.heap_bytes()
    }
}

impl TableState {
    /// The id of `net`, added to the index (and the trie) if new.
    pub(crate) fn index_insert(&mut self, net: Net) -> NetId {
        let (id, added) = self.index.get_or_insert(net);
        if added {
            if let Some(t) = self.trie.as_mut() {
                t.insert(net, id);
            }
        }
        id
    }

    /// Drop `net` from the index (and the trie).
    pub(crate) fn index_remove(&mut self, net: &Net) {
        if self.index.remove(net).is_some() {
            if let Some(t) = self.trie.as_mut() {
                t.remove(net);
            }
        }
    }
}

/// Counters readable without the lock.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) routes: AtomicU64,
    pub(crate) nets: AtomicU64,
    pub(crate) changes: AtomicU64,
    pub(crate) pushed: AtomicU64,
}

/// Table statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Nets with at least one route.
    pub nets: u64,
    /// Routes stored.
    pub routes: u64,
    /// Changes (route added, replaced or removed) since creation.
    pub changes: u64,
    /// Journal items pushed since creation (changes made while someone subscribed).
    pub pushed: u64,
}

pub(crate) struct TableInner {
    pub(crate) name: Arc<str>,
    pub(crate) config: TableConfig,
    pub(crate) state: Domain<Rtable, TableState>,
    pub(crate) nets: ChunkDir<ListHeader>,
    pub(crate) counters: Counters,
    pub(crate) service: Loop,
    pub(crate) cork: Arc<Cork>,
    pub(crate) clock: Clock,
    pub(crate) ev_kick: Event,
    pub(crate) ev_prune: Event,
    pub(crate) settle_timer: OnceLock<TimerKey>,
    /// Frees the list pool once the table has been quiet for [`service::IDLE_TRIM`].
    pub(crate) trim_timer: OnceLock<TimerKey>,
    pub(crate) kick_pending: AtomicBool,
}

impl Drop for TableInner {
    fn drop(&mut self) {
        // Nothing can read the lists any more: every reader borrows or holds the table.
        for id in 0..self.nets.len() {
            if let Some(slot) = self.nets.get(id) {
                if let Some(p) = NonNull::new(slot.load(Ordering::Acquire)) {
                    // SAFETY: the slot's list owns its routes and no reader is left.
                    unsafe { list::free_drop_routes(p) };
                }
            }
        }
        self.service.stop(Callback::new(Event::new("table gone", || {}), EventList::new("table gone")));
    }
}

/// A routing table. Cheap to clone (an `Arc`).
///
/// Writers are [`ImportHandle`]s; readers use [`best`](Self::best), [`routes`](Self::routes),
/// [`route_for`](Self::route_for) (these take the table lock briefly for the net index),
/// [`walk`](Self::walk) (lock-free) and export subscriptions ([`subscribe`](Self::subscribe)).
#[derive(Clone)]
pub struct Table(pub(crate) Arc<TableInner>);

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table").field("name", &self.0.name).field("stats", &self.stats()).finish()
    }
}

impl Table {
    /// A new table whose service loop (level `service`) runs in `group`.
    ///
    /// Enters the new service loop once to create its settle timer, so call it from a context that may
    /// lock a `service` domain (not from inside a table or a later level).
    pub fn new(config: TableConfig, group: &ThreadGroup) -> Table {
        let name: Arc<str> = config.name.as_str().into();
        let service = Loop::new(format!("table {name}"), LevelId::Service, group);
        let cork = config.cork.clone().unwrap_or_else(|| Cork::global().clone());
        let inner = Arc::new_cyclic(|weak: &Weak<TableInner>| {
            let ev_kick = service::event(weak, "table kick", service::kick);
            let ev_cleanup = service::event(weak, "table cleanup", service::cleanup_event);
            let ev_prune = service::event(weak, "table prune", service::prune_event);
            let mut journal = Journal::new("table journal", config.journal_block.max(1));
            journal.set_cleanup_callback(Callback::new(ev_cleanup.clone(), service.events().clone()));
            let state = TableState {
                index: NetIndex::new(),
                journal,
                route_ids: IdMap::new(),
                importers: Vec::new(),
                importer_ids: IdMap::new(),
                retired: RetireBag::default(),
                pool: list::ListPool::default(),
                graced: Arc::default(),
                pending: VecDeque::new(),
                corked: false,
                subs: Vec::new(),
                pushes: 0,
                announced: 0,
                settle: service::Settle::default(),
                prune: None,
                trie: config.trie.then(NetTrie::default),
            };
            TableInner {
                name: name.clone(),
                state: Domain::new(format!("table {name}"), state),
                nets: ChunkDir::new(),
                counters: Counters::default(),
                clock: group.clock().clone(),
                service: service.clone(),
                cork,
                ev_kick,
                ev_prune,
                settle_timer: OnceLock::new(),
                trim_timer: OnceLock::new(),
                kick_pending: AtomicBool::new(false),
                config,
            }
        });
        {
            // ENTER: once at creation, to create the service timers (timers are created inside their loop).
            let mut g = service.enter();
            let weak = Arc::downgrade(&inner);
            let key = g.timer("table settle", move |g, _| {
                if let Some(t) = weak.upgrade() {
                    service::settle_fired(&t, g);
                }
            });
            let _ = inner.settle_timer.set(key);
            let weak = Arc::downgrade(&inner);
            let key = g.timer("table idle trim", move |g, _| {
                if let Some(t) = weak.upgrade() {
                    service::trim_fired(&t, g);
                }
            });
            let _ = inner.trim_timer.set(key);
        }
        Table(inner)
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The net type.
    pub fn net_type(&self) -> NetType {
        self.0.config.net_type
    }

    /// The service loop (prune, cleanup, announcements).
    pub fn service_loop(&self) -> &Loop {
        &self.0.service
    }

    /// The cork group this table corks.
    pub fn cork(&self) -> &Arc<Cork> {
        &self.0.cork
    }

    /// Counters (lock-free, each exact, not a consistent snapshot of all).
    pub fn stats(&self) -> TableStats {
        let c = &self.0.counters;
        TableStats {
            nets: c.nets.load(Ordering::Relaxed),
            routes: c.routes.load(Ordering::Relaxed),
            changes: c.changes.load(Ordering::Relaxed),
            pushed: c.pushed.load(Ordering::Relaxed),
        }
    }

    /// Bytes of route-list memory kept for reuse: lists replaced during a burst of imports, past their
    /// grace period. Freed once the table has been quiet for half a second.
    pub fn list_pool_bytes(&self) -> usize {
        let st = self.0.state.lock();
        st.pool.bytes() + st.graced.bytes()
    }

    /// Journal items not yet freed (the cork measure).
    pub fn journal_len(&self) -> u64 {
        self.0.state.lock().journal.len()
    }

    /// Whether this table currently corks its group.
    pub fn is_corked(&self) -> bool {
        self.0.state.lock().corked
    }

    /// Route ids in use (stored routes plus removed ones some recipient has not passed).
    pub fn route_ids_in_use(&self) -> usize {
        self.0.state.lock().route_ids.len()
    }

    /// Nets indexed (with routes, or empty and not yet passed by every recipient).
    pub fn indexed_nets(&self) -> usize {
        self.0.state.lock().index.len()
    }

    /// Approximate heap bytes of the table's own structures (index, slot chunks), not counting route lists
    /// and attributes.
    pub fn index_heap_bytes(&self) -> usize {
        self.0.state.lock().index.heap_bytes() + self.0.nets.heap_bytes()
    }

    /// Start keeping the trie of nets present (`trie yes`, see [`TableConfig::trie`]), built now from the
    /// nets indexed (under the table lock: one pass over the net ids). No-op if kept already.
    pub fn enable_net_trie(&self) {
        let mut st = self.0.state.lock();
        if st.trie.is_some() {
            return;
        }
        let mut t = NetTrie::default();
        let _g = birdrcu::read();
        for id in 0..self.0.nets.len() {
            if let Some(l) = self.0.load(NetId(id)) {
                t.insert(l.net(), NetId(id));
            }
        }
        st.trie = Some(t);
    }

    /// Whether the table keeps a trie of its nets.
    pub fn has_net_trie(&self) -> bool {
        self.0.state.lock().trie.is_some()
    }

    /// Heap bytes of the net trie (0 without one).
    pub fn net_trie_heap_bytes(&self) -> usize {
        self.0.state.lock().trie.as_ref().map_or(0, NetTrie::heap_bytes)
    }

    /// Ids of the indexed nets equal to or inside `net`, ascending, when the table keeps a net trie
    /// (`None` otherwise). Takes the table lock for the trie walk.
    pub fn subnet_ids(&self, net: &Net) -> Option<Vec<u32>> {
        self.0.state.lock().trie.as_ref().and_then(|t| t.subnet_ids(net))
    }

    /// The id of `net`, if indexed. Takes the table lock.
    pub fn lookup(&self, net: &Net) -> Option<NetId> {
        self.0.state.lock().index.get(net)
    }

    /// Read the list of `id` inside a read section and pass it to `f` (`None`: no routes).
    pub fn with_net<R>(&self, id: NetId, f: impl FnOnce(Option<ListRef<'_>>) -> R) -> R {
        let _g = birdrcu::read();
        f(self.0.load(id))
    }

    /// The best route of `net` (a clone). Takes the table lock for the index, reads without it.
    pub fn best(&self, net: &Net) -> Option<Route> {
        let id = self.lookup(net)?;
        self.with_net(id, |l| l.and_then(|l| if l.net() == *net { l.best().cloned() } else { None }))
    }

    /// Every route of `net`, best first (clones).
    pub fn routes(&self, net: &Net) -> Vec<Route> {
        let Some(id) = self.lookup(net) else { return Vec::new() };
        self.with_net(id, |l| l.filter(|l| l.net() == *net).map(|l| l.routes().to_vec()).unwrap_or_default())
    }

    /// `show route for <addr>`: the longest net containing `addr` that has a route, with its routes.
    /// One hash probe per prefix length present, under the table lock.
    pub fn route_for(&self, addr: IpAddr) -> Option<(Net, Vec<Route>)> {
        let st = self.0.state.lock();
        let _g = birdrcu::read();
        let found = st.index.covering(addr).find_map(|(net, id)| {
            let l = self.0.load(id)?;
            (!l.routes().is_empty()).then(|| (net, l.routes().to_vec()))
        });
        found
    }

    /// Walk every net with routes, in net-id order, without locks. `f` sees each net's list as one
    /// consistent snapshot; the walk as a whole is not a snapshot (use an export subscription for exact
    /// tracking). The read section is renewed every 1024 nets, so a long walk does not hold back grace
    /// periods.
    pub fn walk(&self, mut f: impl FnMut(NetId, ListRef<'_>) -> ControlFlow<()>) {
        let mut id = 0;
        while id < self.0.nets.len() {
            let _g = birdrcu::read();
            let end = (id + 1024).min(self.0.nets.len());
            while id < end {
                if let Some(l) = self.0.load(NetId(id)) {
                    if !l.routes().is_empty() && f(NetId(id), l).is_break() {
                        return;
                    }
                }
                id += 1;
            }
        }
    }

    /// Make the service loop announce and clean up now (tests and shutdown).
    pub fn flush_announcements(&self) {
        let mut st = self.0.state.lock();
        service::announce(&self.0, &mut st);
        service::cleanup(&self.0, &mut st);
    }
}

impl TableInner {
    /// The list of `id`, if any. The caller must be in a read section (or hold the table lock) for `'a`.
    pub(crate) fn load(&self, id: NetId) -> Option<ListRef<'_>> {
        let p = NonNull::new(self.nets.get(id.0)?.load(Ordering::Acquire))?;
        // SAFETY: a list reachable from a slot is freed only after a grace period that starts after it was
        // unlinked; the caller's read section (or the writer's lock, under which nothing is unlinked by
        // others) keeps it alive while borrowed.
        Some(unsafe { ListRef::from_raw(p) })
    }

    pub(crate) fn now_secs(&self) -> u32 {
        (self.clock.now().as_nanos() / 1_000_000_000) as u32
    }

    pub(crate) fn now(&self) -> Time {
        self.clock.now()
    }

    /// Make sure the service loop looks at announcements and the retire bag soon (idempotent, cheap).
    pub(crate) fn kick(&self) {
        if !self.kick_pending.swap(true, Ordering::AcqRel) {
            self.service.events().send(&self.ev_kick);
        }
    }
}
