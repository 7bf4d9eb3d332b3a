//! The writer side: importers and the one function that changes a net.

// Raw route-list and slot pointers; every block carries its SAFETY argument.
#![allow(unsafe_code)]

use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use birdevent::Callback;
use birdnet::Net;

use super::{Change, Pending, Table, TableInner, TableState};
use crate::list::{self, ListRef, RetiredList};
use crate::route::{route_cmp, ImporterId, NetId, Route, RouteSrc, Source};

/// How many items ahead a batch import prefetches the net index (a DRAM miss is worth a few imports).
const PREFETCH_AHEAD: usize = 4;

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportResult {
    /// A route from a source new to this net was added.
    Added,
    /// The route of this source was replaced.
    Updated,
    /// The same route was imported again: only its stale cycle was refreshed, nothing exported.
    Refreshed,
    /// The route of this source was removed.
    Withdrawn,
    /// Withdrawal of a route that is not there.
    NotFound,
    /// Ignored: the importer is stopping, the net type is wrong, or the net already has a route of this
    /// source from another importer (a pipe loop: BIRD 1acec6a5e, ignore rather than replace).
    Ignored,
}

/// What an import did, in detail: [`ImportHandle::import_detailed`], `withdraw_detailed` and
/// `import_batch_detailed` return it, so a channel keeps its counters and limits without looking the net
/// up again (no index lock, no read section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOutcome {
    /// What happened.
    pub result: ImportResult,
    /// The net had a route of this source (from this importer) before the call.
    pub had_old: bool,
    /// ... and that route was flagged [`FLAG_FILTERED`](crate::route::FLAG_FILTERED) (kept by
    /// `import keep filtered`).
    pub old_filtered: bool,
    /// The best route of the net changed.
    pub best_changed: bool,
    /// The admission check of [`ImportHandle::import_checked`] refused the route (`result` is `Ignored`,
    /// nothing changed).
    pub refused: bool,
}

impl ImportOutcome {
    pub(crate) fn nothing(result: ImportResult) -> ImportOutcome {
        ImportOutcome { result, had_old: false, old_filtered: false, best_changed: false, refused: false }
    }

    /// The net had a valid (not filtered) route of this source before the call.
    pub fn had_valid_old(&self) -> bool {
        self.had_old && !self.old_filtered
    }

    /// Whether the table changed (added, updated or withdrawn).
    pub fn changed(&self) -> bool {
        matches!(self.result, ImportResult::Added | ImportResult::Updated | ImportResult::Withdrawn)
    }
}

impl PartialEq<ImportResult> for ImportOutcome {
    fn eq(&self, other: &ImportResult) -> bool {
        self.result == *other
    }
}

/// One item of [`ImportHandle::import_batch`].
#[derive(Debug, Clone)]
pub enum Import {
    /// Add or replace the route of the route's source.
    Update(Net, Route),
    /// Remove the route of this source.
    Withdraw(Net, RouteSrc),
}

impl Import {
    /// The net it is about.
    pub fn net(&self) -> &Net {
        match self {
            Import::Update(n, _) | Import::Withdraw(n, _) => n,
        }
    }
}

/// Per-importer counters.
#[derive(Debug, Default)]
pub(crate) struct ImporterShared {
    pub(crate) name: String,
    pub(crate) routes: AtomicU64,
    pub(crate) added: AtomicU64,
    pub(crate) updated: AtomicU64,
    pub(crate) withdrawn: AtomicU64,
    pub(crate) refreshed: AtomicU64,
    pub(crate) ignored: AtomicU64,
}

/// Importer statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportStats {
    /// Routes of this importer stored in the table.
    pub routes: u64,
    /// Imports that added a route.
    pub added: u64,
    /// Imports that replaced a route.
    pub updated: u64,
    /// Withdrawals that removed a route (including prune and flush).
    pub withdrawn: u64,
    /// Identical re-imports.
    pub refreshed: u64,
    /// Ignored imports.
    pub ignored: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImpState {
    Up,
    /// Stop requested; a prune pass will withdraw everything.
    Flushing,
    /// Everything withdrawn up to this seq; waiting for every recipient to pass it.
    Waiting(u64),
}

pub(crate) struct ImporterSlot {
    pub(crate) shared: Arc<ImporterShared>,
    pub(crate) stale_set: u8,
    pub(crate) state: ImpState,
    /// `refresh_end` asked to prune routes outside `[cycle, stale_set]`.
    pub(crate) refresh_end: Option<u8>,
    pub(crate) done: Option<Callback>,
}

/// A writer into one table (BIRD's channel import request). Import from one loop at a time.
///
/// Dropping it without [`stop`](Self::stop) flushes its routes anyway.
pub struct ImportHandle {
    table: Table,
    id: u16,
    shared: Arc<ImporterShared>,
    stopped: bool,
}

impl std::fmt::Debug for ImportHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportHandle").field("table", &self.table.name()).field("id", &self.id).finish()
    }
}

impl Table {
    /// Register an importer.
    pub fn add_importer(&self, name: impl Into<String>) -> ImportHandle {
        let shared = Arc::new(ImporterShared { name: name.into(), ..ImporterShared::default() });
        let mut st = self.0.state.lock();
        let id = st.importer_ids.alloc();
        let id16 = u16::try_from(id).expect("too many importers in one table");
        let idx = usize::from(id16);
        if st.importers.len() <= idx {
            st.importers.resize_with(idx + 1, || None);
        }
        st.importers[idx] = Some(ImporterSlot {
            shared: shared.clone(),
            stale_set: 0,
            state: ImpState::Up,
            refresh_end: None,
            done: None,
        });
        ImportHandle { table: self.clone(), id: id16, shared, stopped: false }
    }

    /// Importers registered (including stopping ones).
    pub fn importers(&self) -> usize {
        self.0.state.lock().importer_ids.len()
    }
}

impl ImportHandle {
    /// This importer's id in its table.
    pub fn id(&self) -> ImporterId {
        ImporterId(self.id)
    }

    /// The table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Add or replace the route of `route.src()` in `net`.
    pub fn import(&self, net: Net, route: Route) -> ImportResult {
        self.import_detailed(net, route).result
    }

    /// Remove the route of `src` from `net`.
    pub fn withdraw(&self, net: Net, src: &RouteSrc) -> ImportResult {
        self.withdraw_detailed(net, src).result
    }

    /// [`import`](Self::import), telling also what the net had from this source before and whether the
    /// best route changed.
    pub fn import_detailed(&self, net: Net, route: Route) -> ImportOutcome {
        let inner = &*self.table.0;
        let now = inner.now_secs();
        let mut acc = SourceDelta::default();
        let res = {
            let mut st = inner.state.lock();
            apply(inner, &mut st, self.id, net, Op::Update(route), now, false, &mut acc, None)
        };
        acc.flush();
        inner.kick();
        res
    }

    /// [`import_detailed`](Self::import_detailed) with an admission check (BIRD's import and receive limits,
    /// checked in `rte_recalculate`): when the import would add or replace a route, `admit(had_old,
    /// old_filtered)` is called with what the net has from this source, and returning false leaves the
    /// table unchanged ([`ImportOutcome::refused`]). Identical re-imports skip the check. `admit` runs under
    /// the table lock: keep it short and do not call into the table.
    pub fn import_checked(
        &self,
        net: Net,
        route: Route,
        mut admit: impl FnMut(bool, bool) -> bool,
    ) -> ImportOutcome {
        let inner = &*self.table.0;
        let now = inner.now_secs();
        let mut acc = SourceDelta::default();
        let res = {
            let mut st = inner.state.lock();
            apply(inner, &mut st, self.id, net, Op::Update(route), now, false, &mut acc, Some(&mut admit))
        };
        acc.flush();
        inner.kick();
        res
    }

    /// [`withdraw`](Self::withdraw), telling also whether the removed route was filtered and whether the
    /// best route changed.
    pub fn withdraw_detailed(&self, net: Net, src: &RouteSrc) -> ImportOutcome {
        let inner = &*self.table.0;
        let mut acc = SourceDelta::default();
        let res = {
            let mut st = inner.state.lock();
            apply(inner, &mut st, self.id, net, Op::Withdraw(src), 0, false, &mut acc, None)
        };
        acc.flush();
        inner.kick();
        res
    }

    /// Apply many changes under one lock (a BGP UPDATE's worth). Returns how many changed the table.
    pub fn import_batch(&self, items: impl IntoIterator<Item = Import>) -> usize {
        let mut changed = 0;
        self.import_batch_detailed(items, |o| changed += usize::from(o.changed()));
        changed
    }

    /// [`import_batch`](Self::import_batch), calling `each` with the outcome of every item, in order (under
    /// the table lock: keep it short, and do not call into the table from it).
    pub fn import_batch_detailed(
        &self,
        items: impl IntoIterator<Item = Import>,
        mut each: impl FnMut(ImportOutcome),
    ) {
        let inner = &*self.table.0;
        let now = inner.now_secs();
        let mut acc = SourceDelta::default();
        {
            let mut st = inner.state.lock();
            // Each net's index slot is prefetched PREFETCH_AHEAD items before its turn. The items in
            // between wait in a ring on the stack (a batch is one UPDATE's worth: no allocation for it).
            let mut src = items.into_iter().fuse();
            let mut ring: [Option<Import>; PREFETCH_AHEAD] = [const { None }; PREFETCH_AHEAD];
            let mut fetch = |slot: &mut Option<Import>, st: &TableState| {
                *slot = src.next();
                if let Some(it) = slot {
                    st.index.prefetch(it.net());
                }
            };
            for slot in &mut ring {
                fetch(slot, &st);
            }
            let mut i = 0;
            while let Some(it) = ring[i].take() {
                fetch(&mut ring[i], &st);
                i = (i + 1) % PREFETCH_AHEAD;
                let r = match it {
                    Import::Update(net, route) => {
                        apply(inner, &mut st, self.id, net, Op::Update(route), now, false, &mut acc, None)
                    }
                    Import::Withdraw(net, src) => {
                        apply(inner, &mut st, self.id, net, Op::Withdraw(&src), now, false, &mut acc, None)
                    }
                };
                each(r);
            }
        }
        acc.flush();
        inner.kick();
    }

    /// Start a refresh (BIRD's `rt_refresh_begin`, BGP's BoRR): routes imported from now on get a new
    /// stale cycle. A second `begin` before `end` restarts the refresh.
    pub fn refresh_begin(&self) {
        let mut st = self.table.0.state.lock();
        if let Some(s) = st.importers[usize::from(self.id)].as_mut() {
            s.stale_set = s.stale_set.wrapping_add(1);
        }
    }

    /// End a refresh: the service loop withdraws this importer's routes not imported (nor re-imported)
    /// since the last [`refresh_begin`](Self::refresh_begin).
    pub fn refresh_end(&self) {
        {
            let mut st = self.table.0.state.lock();
            if let Some(s) = st.importers[usize::from(self.id)].as_mut() {
                s.refresh_end = Some(s.stale_set);
            }
        }
        self.table.0.service.events().send(&self.table.0.ev_prune);
    }

    /// The cork check for this importer's table (see [`crate::cork`]): true means "pause, `resume` will
    /// be activated".
    pub fn cork_check(&self, resume: &Callback) -> bool {
        self.table.0.cork.check(resume)
    }

    /// Counters.
    pub fn stats(&self) -> ImportStats {
        let s = &self.shared;
        ImportStats {
            routes: s.routes.load(Ordering::Relaxed),
            added: s.added.load(Ordering::Relaxed),
            updated: s.updated.load(Ordering::Relaxed),
            withdrawn: s.withdrawn.load(Ordering::Relaxed),
            refreshed: s.refreshed.load(Ordering::Relaxed),
            ignored: s.ignored.load(Ordering::Relaxed),
        }
    }

    /// Stop importing: the service loop withdraws every route of this importer, and `done` is activated
    /// (in its target loop) once every recipient of the journal passed the last withdrawal. Imports
    /// racing with the stop are ignored.
    pub fn stop(mut self, done: Callback) {
        self.request_stop(Some(done));
    }

    fn request_stop(&mut self, done: Option<Callback>) {
        self.stopped = true;
        {
            let mut st = self.table.0.state.lock();
            if let Some(s) = st.importers[usize::from(self.id)].as_mut() {
                s.state = ImpState::Flushing;
                s.done = done;
            }
        }
        self.table.0.service.events().send(&self.table.0.ev_prune);
    }
}

impl Drop for ImportHandle {
    fn drop(&mut self) {
        if !self.stopped {
            self.request_stop(None);
        }
    }
}

/// Per-source route count changes, applied once per call instead of once per route (the source is
/// shared between tables, so its counter is a contended atomic).
#[derive(Default)]
pub(crate) struct SourceDelta {
    src: Option<Source>,
    delta: i64,
}

impl SourceDelta {
    fn add(&mut self, s: &Source, d: i64) {
        if self.src.as_ref() != Some(s) {
            self.flush();
            self.src = Some(s.clone());
        }
        self.delta += d;
    }

    pub(crate) fn flush(&mut self) {
        if let Some(s) = self.src.take() {
            if self.delta != 0 {
                s.add_routes(self.delta);
            }
        }
        self.delta = 0;
    }
}

/// Increment a counter only the table-lock holder writes: a plain load and store, no locked RMW.
#[inline]
fn bump(c: &AtomicU64, d: i64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add_signed(d), Ordering::Relaxed);
}

/// The counters of importer `sender`, which `apply` checked exists.
fn counters(st: &TableState, sender: u16) -> &ImporterShared {
    &st.importers[usize::from(sender)].as_ref().expect("importer checked by apply").shared
}

/// What [`apply`] does to the route of one source.
pub(crate) enum Op<'a> {
    Update(Route),
    Withdraw(&'a RouteSrc),
}

/// Change the route of one source in `net`: the only writer of route lists. Runs under the table lock.
///
/// `force` bypasses the importer state check (prune and flush withdraw for stopping importers).
/// Counters written only under the lock use plain stores (see `bump`): a locked RMW costs as much as the
/// rest of a small import.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply(
    inner: &TableInner,
    st: &mut TableState,
    sender: u16,
    net: Net,
    op: Op<'_>,
    now: u32,
    force: bool,
    acc: &mut SourceDelta,
    admit: Option<&mut dyn FnMut(bool, bool) -> bool>,
) -> ImportOutcome {
    let Some(Some(imp)) = st.importers.get(usize::from(sender)) else {
        return ImportOutcome::nothing(ImportResult::Ignored);
    };
    if (imp.state != ImpState::Up && !force) || net.net_type() != inner.config.net_type {
        bump(&imp.shared.ignored, 1);
        return ImportOutcome::nothing(ImportResult::Ignored);
    }
    let stale = imp.stale_set;
    let (key, new) = match op {
        Op::Update(r) => (r.src().key(), Some(r)),
        Op::Withdraw(s) => (s.key(), None),
    };

    let id = match &new {
        Some(_) => st.index_insert(net),
        None => match st.index.get(&net) {
            Some(id) => id,
            None => return ImportOutcome::nothing(ImportResult::NotFound),
        },
    };
    let slot = inner.nets.slot(id.0);
    let old_ptr = NonNull::new(slot.load(Ordering::Relaxed));
    // SAFETY: we hold the table lock, and only the lock holder unlinks lists, so the current list stays
    // allocated (and owns its routes) until we retire it below.
    let old_list = old_ptr.map(|p| unsafe { ListRef::from_raw(p) });
    let old: &[Route] = old_list.as_ref().map_or(&[], ListRef::routes);

    let old_pos = old.iter().position(|r| r.src().key() == key);
    if let Some(i) = old_pos {
        if old[i].sender().0 != sender {
            tracing::debug!(
                target: "bird::table",
                table = %inner.name, %net, src = ?old[i].src(),
                "route of this source already imported by another importer (pipe loop?), ignored"
            );
            bump(&counters(st, sender).ignored, 1);
            return ImportOutcome::nothing(ImportResult::Ignored);
        }
    }
    let old_filtered = old_pos.is_some_and(|i| !old[i].is_valid());
    match (&new, old_pos) {
        (None, None) => return ImportOutcome::nothing(ImportResult::NotFound),
        (Some(r), Some(i)) if old[i].same_as(r) => {
            old[i].set_stale(stale);
            bump(&counters(st, sender).refreshed, 1);
            return ImportOutcome {
                result: ImportResult::Refreshed,
                had_old: true,
                old_filtered,
                best_changed: false,
                refused: false,
            };
        }
        (Some(_), _) => {
            if let Some(admit) = admit {
                if !admit(old_pos.is_some(), old_filtered) {
                    bump(&counters(st, sender).ignored, 1);
                    return ImportOutcome {
                        result: ImportResult::Ignored,
                        had_old: old_pos.is_some(),
                        old_filtered,
                        best_changed: false,
                        refused: true,
                    };
                }
            }
        }
        _ => {}
    }
    let new_present = new.is_some();

    let new = new.map(|mut r| {
        r.stamp(st.route_ids.alloc(), sender, now, stale);
        r
    });
    // Position of the new route among the kept ones: after every route it is not strictly better than.
    let ins = new.as_ref().map(|r| {
        old.iter()
            .enumerate()
            .filter(|&(i, _)| Some(i) != old_pos)
            .take_while(|(_, o)| route_cmp(r, o).is_ge())
            .count()
    });
    let new_len = old.len() - usize::from(old_pos.is_some()) + usize::from(new.is_some());
    let old_best = old.first().filter(|r| r.is_valid()).map(|r| r.id());

    let has_rcpt = st.journal.recipients() > 0;
    let next = st.journal.next_seq().0;
    let seq = if has_rcpt { next } else { next - 1 };

    // Take the removed route out of the old list (its bitwise copy there is never dropped: the old list is
    // retired without dropping routes).
    // SAFETY: `old[i]` is initialised; ownership moves to `removed`, and the old list is freed with
    // `free_keep_routes` (through the retire bag), so it is dropped exactly once.
    let removed: Option<Route> = old_pos.map(|i| unsafe { ptr::read(&old[i]) });
    let mut new_for_item = None;
    let new_ptr = if new_len == 0 && !has_rcpt {
        None
    } else {
        let mut new = new;
        if has_rcpt {
            new_for_item = new.clone();
        }
        let mut kept = old.iter().enumerate().filter(|&(i, _)| Some(i) != old_pos).map(|(_, r)| {
            // SAFETY: moves a kept route bitwise into the new list; see `removed` and the `list` module
            // docs: the old list no longer owns it.
            unsafe { ptr::read(r) }
        });
        let ins = ins.unwrap_or(usize::MAX);
        let mut out = 0usize;
        let fill = std::iter::from_fn(|| {
            let r = if out == ins { new.take() } else { kept.next().or_else(|| new.take()) };
            out += 1;
            r
        });
        let reuse = st.pool.take(new_len);
        Some(list::build(net, seq, new_len, fill, reuse))
    };
    // SAFETY: just built, not yet retired.
    let new_list = new_ptr.map(|p| unsafe { ListRef::from_raw(p) });
    let new_routes: &[Route] = new_list.as_ref().map_or(&[], ListRef::routes);
    let new_best = new_routes.first().filter(|r| r.is_valid());
    let best_changed = old_best != new_best.map(Route::id);

    slot.store(new_ptr.map_or(ptr::null_mut(), NonNull::as_ptr), Ordering::Release);
    if let Some(p) = old_ptr {
        st.retired.lists.push(RetiredList(p));
    }

    // Journal.
    let mut pushed = false;
    if has_rcpt {
        let best = best_changed.then(|| {
            let ob = old_list.and_then(|l| l.routes().first().filter(|r| r.is_valid()));
            (ob, new_best)
        });
        let item = Change::new(id, net, removed.clone(), new_for_item, best);
        match st.journal.push(item) {
            Ok(s) => {
                debug_assert_eq!(s.0, seq);
                pushed = true;
                st.pushes += 1;
                bump(&inner.counters.pushed, 1);
            }
            Err(item) => {
                // The last recipient left since we looked: the list must not claim a seq nobody got.
                if let Some(l) = &new_list {
                    l.set_seq(next - 1);
                }
                drop(item);
            }
        }
    }

    // Ids and the net itself: released now, or once every recipient passed this change.
    if let Some(r) = &removed {
        if pushed {
            st.pending.push_back((seq, Pending::RouteId(r.id().0)));
        } else {
            st.route_ids.free(r.id().0);
        }
    }
    if new_len == 0 {
        if new_ptr.is_some() {
            // A tombstone: keeps the seq for feeds until every recipient passed it.
            st.pending.push_back((seq, Pending::Net(id)));
        } else {
            st.index_remove(&net);
        }
    }

    // Counters.
    let c = &inner.counters;
    let shared = counters(st, sender);
    bump(&c.changes, 1);
    let old_len = old.len();
    if old_len == 0 && new_len > 0 {
        bump(&c.nets, 1);
    } else if old_len > 0 && new_len == 0 {
        bump(&c.nets, -1);
    }
    let result = match (&removed, new_present) {
        (None, _) => {
            bump(&c.routes, 1);
            bump(&shared.routes, 1);
            bump(&shared.added, 1);
            // The new route sits at its insertion point (`ins`, at most the number of kept routes).
            if let Some(r) = ins.and_then(|i| new_routes.get(i)) {
                debug_assert_eq!(r.src().key(), key);
                acc.add(r.src().source(), 1);
            }
            ImportResult::Added
        }
        (Some(_), true) => {
            bump(&shared.updated, 1);
            ImportResult::Updated
        }
        (Some(r), false) => {
            bump(&c.routes, -1);
            bump(&shared.routes, -1);
            bump(&shared.withdrawn, 1);
            acc.add(r.src().source(), -1);
            ImportResult::Withdrawn
        }
    };
    if let Some(r) = removed {
        st.retired.routes.push(r);
    }
    if st.retired.lists.len() >= 1024 {
        super::service::flush_retired(st);
    }
    if pushed && !st.corked && st.journal.len() > inner.config.cork_high {
        st.corked = true;
        inner.cork.acquire();
    }
    ImportOutcome { result, had_old: old_pos.is_some(), old_filtered, best_changed, refused: false }
}

/// Withdraw every route of `net_id` matching `pred` (prune and flush). Returns routes withdrawn.
pub(crate) fn withdraw_matching(
    inner: &TableInner,
    st: &mut TableState,
    net_id: NetId,
    mut pred: impl FnMut(&Route) -> bool,
) -> usize {
    let Some(l) = inner.load(net_id) else { return 0 };
    let net = l.net();
    let victims: Vec<(u16, RouteSrc)> =
        l.routes().iter().filter(|r| pred(r)).map(|r| (r.sender().0, r.src().clone())).collect();
    if victims.is_empty() {
        return 0;
    }
    let now = inner.now_secs();
    let mut acc = SourceDelta::default();
    let n = victims
        .iter()
        .filter(|(sender, src)| {
            apply(inner, st, *sender, net, Op::Withdraw(src), now, true, &mut acc, None).result
                == ImportResult::Withdrawn
        })
        .count();
    acc.flush();
    n
}
