//! Published protocol state: lock-free snapshots per protocol plus a journal of changes.
//!
//! ```text
//!   StateTable (Arc)
//!    ├─ slots: ArcSwap<Vec<Arc<ArcSwapOption<ProtoState>>>>   lock-free readers: get(id), all()
//!    └─ Domain<Rtable, Writer>                                 publishers (protocol loops), registry
//!         ids: IdMap (dense protocol ids, lowest free first)
//!         journal: Journal<StateUpdate { id, old, new }>       subscribers read without locks
//!         pending_free: ids released once every subscriber passed their removal
//! ```
//!
//! A protocol publishes by building a new immutable [`ProtoState`] and calling [`StateTable::publish`]:
//! under the writer lock the slot is swapped and `{old, new}` is pushed, so the journal order is the slot
//! order. A reader of a slot gets one whole snapshot (one atomic load of an `Arc`): no torn state, no lock,
//! no retry. Route counters change too often to be snapshotted: [`ChannelInfo::counters`] points to the
//! channel's live atomics.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use birdevent::journal::{Journal, Recipient};
use birdevent::Callback;
use birdloop::Time;
use birdmem::IdMap;
use birdrcu::level::Rtable;
use birdrcu::Domain;

use crate::limit::{Limit, LimitState};
use crate::state::{ChannelState, PState};

/// Dense protocol id (lowest free first, reused after removal once every subscriber passed it).
pub type ProtoId = u32;

/// One row of route change statistics, as `show protocols all` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatRow {
    /// `received`.
    pub received: u64,
    /// `rejected` (invalid, or refused by the receiving side: preexport).
    pub rejected: u64,
    /// `filtered` (by the filter).
    pub filtered: u64,
    /// `ignored` (no change, or a withdrawal of a route not there).
    pub ignored: u64,
    /// Dropped by a receive limit (BIRD 3 column).
    pub rx_limit: u64,
    /// Dropped by an import or export limit (BIRD 3 column).
    pub limit: u64,
    /// `accepted`.
    pub accepted: u64,
}

/// [`StatRow`] as atomics: written by the channel's protocol loop only, read by anyone.
#[derive(Debug, Default)]
pub struct StatCounters {
    /// `received`.
    pub received: AtomicU64,
    /// `rejected`.
    pub rejected: AtomicU64,
    /// `filtered`.
    pub filtered: AtomicU64,
    /// `ignored`.
    pub ignored: AtomicU64,
    /// receive-limit drops.
    pub rx_limit: AtomicU64,
    /// limit drops.
    pub limit: AtomicU64,
    /// `accepted`.
    pub accepted: AtomicU64,
}

/// Count one on a counter with a single writer (the channel's loop): a plain load and store, not a
/// locked read-modify-write. Readers see every value in order, possibly a moment late.
pub(crate) fn inc(a: &AtomicU64) {
    add(a, 1);
}

/// Add `n` to a single-writer counter (see [`inc`]).
pub(crate) fn add(a: &AtomicU64, n: u64) {
    a.store(a.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

/// Take one off a single-writer counter (see [`inc`]).
pub(crate) fn dec_one(a: &AtomicU64) {
    a.store(a.load(Ordering::Relaxed).saturating_sub(1), Ordering::Relaxed);
}

impl StatCounters {
    /// The current values.
    pub fn snapshot(&self) -> StatRow {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatRow {
            received: l(&self.received),
            rejected: l(&self.rejected),
            filtered: l(&self.filtered),
            ignored: l(&self.ignored),
            rx_limit: l(&self.rx_limit),
            limit: l(&self.limit),
            accepted: l(&self.accepted),
        }
    }

    fn reset(&self) {
        for a in [
            &self.received,
            &self.rejected,
            &self.filtered,
            &self.ignored,
            &self.rx_limit,
            &self.limit,
            &self.accepted,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// Route counts of a channel (`Routes:` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RouteCounts {
    /// Routes of this channel accepted into the table.
    pub imported: u64,
    /// Routes kept as filtered (`import keep filtered`).
    pub filtered: u64,
    /// Routes exported to the protocol.
    pub exported: u64,
    /// Imported routes that are the best of their net (computed on demand; see
    /// [`crate::ProtoHandle::preferred_routes`]).
    pub preferred: u64,
}

/// Route change statistics of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelStats {
    /// Import updates.
    pub import_updates: StatRow,
    /// Import withdraws.
    pub import_withdraws: StatRow,
    /// Export updates.
    pub export_updates: StatRow,
    /// Export withdraws.
    pub export_withdraws: StatRow,
}

/// The live counters of a channel, updated by its protocol's loop and read lock-free by anyone.
#[derive(Debug, Default)]
pub struct ChannelCounters {
    /// Routes in the table from this channel (accepted).
    pub imported: AtomicU64,
    /// Routes received from the protocol and held (accepted or kept filtered): the receive limit count.
    pub received_routes: AtomicU64,
    /// Filtered routes kept.
    pub filtered: AtomicU64,
    /// Routes exported to the protocol.
    pub exported: AtomicU64,
    /// Import updates.
    pub import_updates: StatCounters,
    /// Import withdraws.
    pub import_withdraws: StatCounters,
    /// Export updates.
    pub export_updates: StatCounters,
    /// Export withdraws.
    pub export_withdraws: StatCounters,
}

impl ChannelCounters {
    /// The statistics now.
    pub fn stats(&self) -> ChannelStats {
        ChannelStats {
            import_updates: self.import_updates.snapshot(),
            import_withdraws: self.import_withdraws.snapshot(),
            export_updates: self.export_updates.snapshot(),
            export_withdraws: self.export_withdraws.snapshot(),
        }
    }

    /// The route counts now (`preferred` left 0).
    pub fn routes(&self) -> RouteCounts {
        RouteCounts {
            imported: self.imported.load(Ordering::Relaxed),
            filtered: self.filtered.load(Ordering::Relaxed),
            exported: self.exported.load(Ordering::Relaxed),
            preferred: 0,
        }
    }

    /// Zero everything (the channel went down).
    pub(crate) fn reset(&self) {
        for a in [&self.imported, &self.received_routes, &self.filtered, &self.exported] {
            a.store(0, Ordering::Relaxed);
        }
        self.import_updates.reset();
        self.import_withdraws.reset();
        self.export_updates.reset();
        self.export_withdraws.reset();
    }
}

/// A limit as `show protocols all` prints it (`Import limit: 1000` / `Action: restart`, ` [HIT]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitInfo {
    /// The limit.
    pub limit: Limit,
    /// Whether it is hit.
    pub hit: bool,
}

impl From<&LimitState> for LimitInfo {
    fn from(l: &LimitState) -> LimitInfo {
        LimitInfo { limit: l.limit, hit: l.hit || l.tripped }
    }
}

/// A channel's published state.
#[derive(Debug, Clone)]
pub struct ChannelInfo {
    /// Channel name (`ipv4`, `ipv6`, `main` for pipes).
    pub name: String,
    /// State.
    pub state: ChannelState,
    /// Table name.
    pub table: String,
    /// Pipe: the peer table (`Peer table:` line).
    pub peer_table: Option<String>,
    /// Preference of imported routes.
    pub preference: u16,
    /// Import filter name.
    pub input_filter: String,
    /// Export filter name.
    pub output_filter: String,
    /// `receive limit`.
    pub receive_limit: Option<LimitInfo>,
    /// `import limit`.
    pub import_limit: Option<LimitInfo>,
    /// `export limit`.
    pub export_limit: Option<LimitInfo>,
    /// Live counters (lock-free reads).
    pub counters: Arc<ChannelCounters>,
    /// Protocol-specific lines after the counters (BGP: `BGP Next hop:`, `IGP IPv4 table:`), filled by
    /// [`crate::Protocol::init_state`], with their indentation.
    pub extra: Vec<String>,
}

/// A protocol's published state: one immutable snapshot per change.
#[derive(Debug, Clone)]
pub struct ProtoState {
    /// Dense id.
    pub id: ProtoId,
    /// Name.
    pub name: Arc<str>,
    /// Protocol type as BIRD spells it (`Static`, `Pipe`, `BGP`, ...).
    pub proto: &'static str,
    /// The table column: the table of the main channel, or `---`.
    pub table: String,
    /// State.
    pub state: PState,
    /// When the state last changed (the protocol loop's clock).
    pub since: Time,
    /// The info column (`Established`, `master4 <=> lg4`, ...).
    pub info: String,
    /// The last error (`Socket: Connection refused`); appended to the info column by BGP-like protocols.
    pub last_error: Option<String>,
    /// The message given with `disable`/`restart`, or why the protocol went down on its own.
    pub message: Option<String>,
    /// Whether the protocol is disabled (administratively or by a limit).
    pub disabled: bool,
    /// Last automatic restart (or creation).
    pub last_restart: Time,
    /// Channels, in configuration order.
    pub channels: Vec<ChannelInfo>,
    /// Protocol-specific `show protocols all` lines, with their indentation (filled by
    /// [`crate::Protocol::init_state`]).
    pub details: Vec<String>,
    /// Detail lines showing a running timer as `remaining/total` (BGP's `Hold timer:       12.345/90`):
    /// `(line index, deadline)`. The value between column 22 and the `/` is recomputed from the deadline
    /// when the state is shown, so a snapshot published long ago still shows the time left now.
    pub live_timers: Vec<(usize, Time)>,
    /// Heap bytes the instance holds beyond its routes (buffers, pending exports, caches), as its
    /// [`crate::Protocol::init_state`] estimates them (`show memory` "Protocols").
    pub mem_bytes: u64,
    /// Increases with every published change of this protocol instance.
    pub version: u64,
}

impl ProtoState {
    /// The state column (`up`, `down`, `start`, `stop`, `flush`).
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }
}

/// A journal item: protocol `id` changed from `old` to `new` (`None`: did not exist / removed).
#[derive(Debug)]
pub struct StateUpdate {
    /// Protocol id.
    pub id: ProtoId,
    /// The previous snapshot.
    pub old: Option<Arc<ProtoState>>,
    /// The new snapshot.
    pub new: Option<Arc<ProtoState>>,
}

struct Writer {
    ids: IdMap,
    journal: Journal<StateUpdate>,
    pending_free: VecDeque<(u64, ProtoId)>,
}

struct Inner {
    slots: ArcSwap<Vec<Arc<ArcSwapOption<ProtoState>>>>,
    w: Domain<Rtable, Writer>,
}

/// The protocol state table (BIRD's PST). Cheap to clone.
#[derive(Clone)]
pub struct StateTable(Arc<Inner>);

impl fmt::Debug for StateTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateTable").field("slots", &self.0.slots.load().len()).finish()
    }
}

impl Default for StateTable {
    fn default() -> StateTable {
        StateTable::new()
    }
}

impl StateTable {
    /// An empty table.
    pub fn new() -> StateTable {
        StateTable(Arc::new(Inner {
            slots: ArcSwap::from_pointee(Vec::new()),
            w: Domain::new(
                "protocol states",
                Writer {
                    ids: IdMap::new(),
                    journal: Journal::new("protocol states", 64),
                    pending_free: VecDeque::new(),
                },
            ),
        }))
    }

    /// Allocate a dense id (lowest free). Its slot is empty until the first [`publish`](Self::publish).
    pub fn register(&self) -> ProtoId {
        let mut w = self.0.w.lock();
        Self::free_passed(&mut w);
        let id = w.ids.alloc();
        let slots = self.0.slots.load();
        if slots.len() <= id as usize {
            let mut v: Vec<_> = slots.iter().cloned().collect();
            v.resize_with((id as usize + 1).max(v.len() * 2), || Arc::new(ArcSwapOption::empty()));
            self.0.slots.store(Arc::new(v));
        }
        id
    }

    /// Replace the state of `id` and journal the change.
    pub fn publish(&self, id: ProtoId, new: Arc<ProtoState>) {
        let mut w = self.0.w.lock();
        let old = self.0.slots.load()[id as usize].swap(Some(new.clone()));
        let _ = w.journal.push(StateUpdate { id, old, new: Some(new) });
        w.journal.cleanup();
        Self::free_passed(&mut w);
    }

    /// Remove `id`: its slot empties, subscribers get `{old, None}`, and the id is reused once every
    /// subscriber passed that item.
    pub fn remove(&self, id: ProtoId) {
        let mut w = self.0.w.lock();
        let old = self.0.slots.load()[id as usize].swap(None);
        match w.journal.push(StateUpdate { id, old, new: None }) {
            Ok(seq) => w.pending_free.push_back((seq.0, id)),
            Err(_) => w.ids.free(id),
        }
        w.journal.cleanup();
        Self::free_passed(&mut w);
    }

    fn free_passed(w: &mut Writer) {
        w.journal.cleanup();
        let first_live = w.journal.first_live().0;
        while let Some(&(seq, id)) = w.pending_free.front() {
            if seq >= first_live && w.journal.recipients() > 0 {
                break;
            }
            w.pending_free.pop_front();
            w.ids.free(id);
        }
    }

    /// The current state of `id`: lock-free, one consistent snapshot.
    pub fn get(&self, id: ProtoId) -> Option<Arc<ProtoState>> {
        self.0.slots.load().get(id as usize)?.load_full()
    }

    /// Every published protocol, by id.
    pub fn all(&self) -> Vec<Arc<ProtoState>> {
        self.0.slots.load().iter().filter_map(|s| s.load_full()).collect()
    }

    /// The state of the protocol called `name`.
    pub fn by_name(&self, name: &str) -> Option<Arc<ProtoState>> {
        self.0.slots.load().iter().filter_map(|s| s.load_full()).find(|s| &*s.name == name)
    }

    /// Subscribe to changes from now on; `callback` is activated when changes are pushed. Read the
    /// current states with [`all`](Self::all) after subscribing (a change may then be seen twice, never
    /// missed).
    pub fn subscribe(&self, callback: Callback) -> Recipient<StateUpdate> {
        let r = self.0.w.lock().journal.register(callback);
        r
    }

    /// Announce pending changes to subscribers (activate their callbacks) and free what every subscriber
    /// released.
    pub fn announce(&self) {
        let mut w = self.0.w.lock();
        w.journal.announce();
        Self::free_passed(&mut w);
    }

    /// Ids in use.
    pub fn len(&self) -> usize {
        self.0.w.lock().ids.len()
    }

    /// Whether no id is in use.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use birdevent::{Event, EventList};

    fn st(id: ProtoId, name: &str, state: PState, version: u64) -> Arc<ProtoState> {
        Arc::new(ProtoState {
            id,
            name: name.into(),
            proto: "Static",
            table: "---".into(),
            state,
            since: Time::ZERO,
            info: String::new(),
            last_error: None,
            message: None,
            disabled: false,
            last_restart: Time::ZERO,
            channels: Vec::new(),
            details: Vec::new(),
            live_timers: Vec::new(),
            mem_bytes: 0,
            version,
        })
    }

    #[test]
    fn dense_ids_journal_and_reuse() {
        let t = StateTable::new();
        let a = t.register();
        let b = t.register();
        assert_eq!((a, b), (0, 1));
        t.publish(a, st(a, "a", PState::Down, 1));
        let mut r = t.subscribe(Callback::new(Event::new("sub", || {}), EventList::new("sub")));
        t.publish(a, st(a, "a", PState::Start, 2));
        t.publish(b, st(b, "b", PState::Down, 1));
        t.remove(a);
        // `a` is not reused while the subscriber has not passed its removal.
        assert_eq!(t.register(), 2);
        let mut seen = Vec::new();
        while let Some(it) = r.get() {
            seen.push((it.id, it.old.as_ref().map(|s| s.state), it.new.as_ref().map(|s| s.state)));
            it.release();
        }
        assert_eq!(
            seen,
            [
                (0, Some(PState::Down), Some(PState::Start)),
                (1, None, Some(PState::Down)),
                (0, Some(PState::Start), None)
            ]
        );
        assert!(t.get(a).is_none());
        assert_eq!(t.by_name("b").unwrap().state, PState::Down);
        t.announce();
        assert_eq!(t.register(), 0);
        drop(r);
        t.remove(b);
        assert_eq!(t.register(), 1);
    }
}
