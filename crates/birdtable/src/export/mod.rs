//! Exports: subscriptions to a table's journal, with feeds, refeeds and exact collision handling.
//!
//! A subscriber (a channel's export side, the kernel sync, a pipe) calls [`Table::subscribe`] from its own
//! loop and gets an [`ExportSub`]. Its callback is activated when there is something to read (at
//! subscription, after the settle timer announced new items, on stop); the handler then drains
//! [`ExportSub::next`] until it returns `None` (or until its time budget is spent: then it re-activates
//! its own callback and returns). `next` yields:
//!
//! * [`Export::Feed`]: the current routes of one net, filtered by the mode. It *replaces* whatever the
//!   subscriber had for that net (an empty list means "nothing").
//! * [`Export::Update`]: one change on top of what the subscriber has: best mode `(old best, new best)`,
//!   all mode `(old, new)` of one source.
//! * [`Export::Fed`]: a (re)feed is complete.
//! * [`Export::Stop`]: the table stopped this export; drop the subscription and its state, and subscribe
//!   again to recover.
//!
//! # Exactness: the seen map
//!
//! The subscription registers at the journal's tail (position `p`) under the table lock and feeds by
//! walking net ids. Feeding net `n` loads its list `L` and records `seen[n] = (L.seq, feed generation)`
//! (the walk skips lists older than the position: they cover nothing pending). `L` reflects every item
//! for `n` up to `L.seq`. The writer stores a list *before* pushing its item, so an item read from the
//! journal is always covered by any list loaded after it. For a journal item `s` of net `n`:
//!
//! 1. outside the subscription's prefilter: skip;
//! 2. the initial feed is running, `n` is in its scope and neither walked nor fed yet: feed `n` now
//!    (*expedite*); the fresh list covers `s`;
//! 3. `seen[n].seq ≥ s`: already covered by a feed: skip;
//! 4. otherwise deliver it (merged mode: re-feed the net, with the routes `s` made obsolete).
//!
//! Every item is therefore either reflected by exactly one feed the subscriber got or delivered once,
//! never both, and never lost — whatever the interleaving of feeds, refeeds, pushes and restarts (the
//! bugs BIRD fixed in e6c699d29, 83d366e9b and 8e99b5176 were all breaches of this rule). The map is
//! dropped when no feed runs and the position passed its largest seq.
//!
//! # Refeeds
//!
//! A refeed ([`ExportSub::refeed`]) runs while the subscriber already has a complete view, which may hold
//! routes a pending journal item removes. Covering such an item by a feed would hide the removed route
//! from the subscriber (it could not withdraw what it exported). So a refeed never expedites nor covers:
//! items are delivered as usual, and the walk feeds a net only when its list is older than the position;
//! a newer one is *deferred* until the position passed it (normally as soon as the journal is drained).
//!
//! # Marks
//!
//! The subscription keeps the subscriber's accepted / rejected marks per route id ([`RouteBitmap`], BIRD's
//! `export_accepted_map` / `export_rejected_map`): [`ExportSub::mark_accepted`], `mark_rejected`,
//! `unmark`, `was_accepted`. Marks of a removed route are cleared when the subscription passes its removal
//! (after returning the export carrying it), before the id can be reused, so they stay exact. With the
//! refeed rule and merged mode's [`ExportSub::obsolete`] routes, every route a subscriber exported is
//! among the routes of the export that replaces or removes it.

mod marks;
mod state;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use birdevent::journal::Recipient;
use birdevent::Callback;
use birdnet::Net;

pub use marks::RouteBitmap;
pub use state::{ExportState, IllegalTransition};

use crate::list::ListRef;
use crate::netindex::FxBuild;
use crate::route::{ecmp_member, ecmp_set, ImporterId, NetId, Route, RouteId};
use crate::table::{Change, Table};

/// What a subscription receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportMode {
    /// Best-route changes (BIRD's `optimal`).
    Best,
    /// Every change of every source (BIRD's `any`).
    All,
    /// The multipath set of each net, re-sent whenever the net changes (BIRD's `merged`).
    Merged,
}

/// Which nets a subscription or a refeed covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prefilter {
    /// Every net.
    All,
    /// Exactly this net (the feed looks its id up under the table lock once).
    Net(Net),
    /// This net and every net inside it (`show route in ...`, ROA-triggered reloads).
    Subnet(Net),
}

impl Prefilter {
    /// Whether `net` passes.
    pub fn matches(&self, net: &Net) -> bool {
        match self {
            Prefilter::All => true,
            Prefilter::Net(n) => n == net,
            Prefilter::Subnet(n) => n.contains(net),
        }
    }
}

/// One thing a subscription reads. See the module docs.
#[derive(Debug, Clone)]
pub enum Export {
    /// The current routes of `net` (mode-filtered): replace what you have for it.
    Feed {
        /// The net.
        net: Net,
        /// Its id in the table.
        net_id: NetId,
        /// The journal seq the list reflects.
        seq: u64,
        /// Best mode: the best route (or none); all mode: every valid route; merged: the ECMP set.
        routes: Vec<Route>,
    },
    /// One change: best mode `(old best, new best)`, all mode `(old, new)` of one source.
    Update {
        /// The net.
        net: Net,
        /// Its id in the table.
        net_id: NetId,
        /// The journal seq of the change.
        seq: u64,
        /// The route replaced or removed.
        old: Option<Route>,
        /// The route added or replacing.
        new: Option<Route>,
    },
    /// A feed or refeed finished.
    Fed,
    /// The export was stopped by the table; the subscription is dead.
    Stop,
}

/// A subscription request.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// What to receive.
    pub mode: ExportMode,
    /// Which nets (applied to feeds and updates).
    pub prefilter: Prefilter,
    /// Activated (in the subscriber's loop) when there is something to read.
    pub callback: Callback,
}

/// The part of a subscription the table keeps, to stop it.
#[derive(Debug)]
pub(crate) struct SubShared {
    stop: AtomicBool,
    callback: Callback,
}

#[derive(Debug)]
struct FeedRun {
    gen: u32,
    scope: Prefilter,
    cursor: u32,
    /// For `Prefilter::Net`: the id looked up at the start (None: not in the table then).
    single: Option<NetId>,
    single_done: bool,
    /// A refeed (the subscriber already has a complete view): journal items are delivered as updates, never
    /// expedited nor covered, and a net whose list is newer than the position is fed only once the
    /// position passed it (`deferred`), so every removal reaches the subscriber with its route.
    refeed: bool,
    /// Net ids to walk instead of every id (a subnet scope walked through the table's net trie), ascending.
    ids: Option<Vec<u32>>,
}

impl FeedRun {
    fn walked(&self, id: NetId) -> bool {
        match self.scope {
            Prefilter::Net(_) => self.single_done,
            _ => id.0 < self.cursor,
        }
    }
}

/// Nets fed with a list newer than the position: `id → (list seq, feed generation)`.
#[derive(Debug, Default)]
struct Seen {
    map: HashMap<u32, (u64, u32), FxBuild>,
    max_seq: u64,
}

impl Seen {
    fn record(&mut self, id: NetId, seq: u64, gen: u32) {
        self.map.insert(id.0, (seq, gen));
        self.max_seq = self.max_seq.max(seq);
    }

    fn covers(&self, id: NetId, seq: u64) -> bool {
        self.map.get(&id.0).is_some_and(|&(s, _)| seq <= s)
    }

    fn fed_in(&self, id: NetId, gen: u32) -> bool {
        self.map.get(&id.0).is_some_and(|&(_, g)| g == gen)
    }
}

enum Act {
    Skip,
    /// Expedited feed (recorded in the seen map).
    Feed,
    /// Merged mode: re-feed the net, with the routes this change made obsolete.
    Merged(Vec<Route>),
    Update(Option<Route>, Option<Route>),
    /// A best- or all-mode update read in place ([`ExportSub::next_ref`]): the item stays unreleased until
    /// the next call.
    Held(Option<*const Route>, Option<*const Route>),
}

/// What [`ExportSub::next_inner`] found.
enum Step {
    Export(Export),
    /// A best- or all-mode update whose routes point into the held journal item.
    Held(Net, NetId, u64, Option<*const Route>, Option<*const Route>),
}

/// Subscription statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Feeds returned (walk, expedite and merged).
    pub feeds: u64,
    /// Of which expedited by a journal item for a net not fed yet.
    pub expedited: u64,
    /// Updates returned.
    pub updates: u64,
    /// Journal items skipped because a feed covered them.
    pub covered: u64,
    /// Completed (re)feeds.
    pub fed: u64,
    /// Refeed feeds deferred until the position passed the net's list.
    pub deferred: u64,
    /// Walk stretches cut short by the loop's time budget.
    pub yielded: u64,
    /// Net ids visited by (re)feed walks.
    pub walked: u64,
    /// Merged mode: changes skipped because they left the multipath set as it was.
    pub merged_skipped: u64,
}

/// A subscription to a table's exports, used from the subscriber's loop. See the module docs.
pub struct ExportSub {
    table: Table,
    rec: Option<Recipient<Change>>,
    mode: ExportMode,
    filter: Prefilter,
    state: ExportState,
    shared: Arc<SubShared>,
    feed: Option<FeedRun>,
    queued: VecDeque<Prefilter>,
    gen: u32,
    seen: Seen,
    stats: ExportStats,
    /// Routes the subscriber accepted / rejected (see [`RouteBitmap`]).
    accepted: RouteBitmap,
    rejected: RouteBitmap,
    /// Ids of routes removed by the changes last returned: their marks are cleared at the next `next`.
    to_clear: Vec<RouteId>,
    /// Routes made obsolete by the change behind the last merged-mode feed.
    obsolete: Vec<Route>,
    /// Refeed: nets to feed once the position passed their list's seq.
    deferred: Vec<(NetId, u64)>,
    /// The current journal item is held (read in place by the last [`next_ref`](Self::next_ref)): release
    /// it before reading on.
    held: bool,
    /// See [`ExportSub::skip_own`].
    skip_own: Option<ImporterId>,
    own_skipped: u64,
}

/// An export read by [`ExportSub::next_ref`]: best- and all-mode updates borrow their routes from the
/// journal item instead of cloning them (two reference counts per route, a large share of an export's
/// cost); everything else is as [`ExportSub::next`] returns it.
#[derive(Debug)]
pub enum ExportRef<'a> {
    /// Any other export, owned.
    Owned(Export),
    /// [`Export::Update`], borrowed: valid until the next call on the subscription.
    Update {
        /// The net.
        net: Net,
        /// Its id in the table.
        net_id: NetId,
        /// The journal seq of the change.
        seq: u64,
        /// The route replaced or removed.
        old: Option<&'a Route>,
        /// The route added or replacing.
        new: Option<&'a Route>,
    },
}

/// The accepted / rejected marks of a subscription, borrowable beside an [`ExportRef`] (see the marks
/// methods of [`ExportSub`], which these mirror).
#[derive(Debug)]
pub struct ExportMarks<'a> {
    accepted: &'a mut RouteBitmap,
    rejected: &'a mut RouteBitmap,
}

impl ExportMarks<'_> {
    /// See [`ExportSub::mark_accepted`].
    pub fn mark_accepted(&mut self, id: RouteId) -> bool {
        self.rejected.clear(id);
        self.accepted.set(id)
    }

    /// See [`ExportSub::mark_rejected`].
    pub fn mark_rejected(&mut self, id: RouteId) -> bool {
        self.rejected.set(id);
        self.accepted.clear(id)
    }

    /// See [`ExportSub::unmark`].
    pub fn unmark(&mut self, id: RouteId) -> bool {
        self.rejected.clear(id);
        self.accepted.clear(id)
    }

    /// See [`ExportSub::was_accepted`].
    pub fn was_accepted(&self, id: RouteId) -> bool {
        self.accepted.get(id)
    }

    /// See [`ExportSub::accepted_count`].
    pub fn accepted_count(&self) -> usize {
        self.accepted.len()
    }
}

impl fmt::Debug for ExportSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportSub")
            .field("table", &self.table.name())
            .field("mode", &self.mode)
            .field("state", &self.state)
            .field("seen", &self.seen.map.len())
            .finish_non_exhaustive()
    }
}

impl Table {
    /// Subscribe to this table's exports. The subscription starts in [`ExportState::Feeding`]: it feeds the
    /// nets the prefilter selects, then is [`ExportState::Ready`]. The callback is activated once now.
    pub fn subscribe(&self, req: ExportRequest) -> ExportSub {
        let shared = Arc::new(SubShared { stop: AtomicBool::new(false), callback: req.callback.clone() });
        let (rec, single) = {
            let mut st = self.0.state.lock();
            let rec = st.journal.register(req.callback.clone());
            st.subs.retain(|w| w.strong_count() > 0);
            st.subs.push(Arc::downgrade(&shared));
            let single = match &req.prefilter {
                Prefilter::Net(n) => st.index.get(n),
                _ => None,
            };
            let ids = match &req.prefilter {
                Prefilter::Subnet(n) => st.trie.as_ref().and_then(|t| t.subnet_ids(n)),
                _ => None,
            };
            (rec, (single, ids))
        };
        let (single, ids) = single;
        let state = ExportState::Down.transition(ExportState::Feeding).expect("down -> feeding is legal");
        let sub = ExportSub {
            table: self.clone(),
            rec: Some(rec),
            mode: req.mode,
            feed: Some(FeedRun {
                gen: 1,
                scope: req.prefilter.clone(),
                cursor: 0,
                single,
                single_done: false,
                refeed: false,
                ids,
            }),
            filter: req.prefilter,
            state,
            shared,
            queued: VecDeque::new(),
            gen: 1,
            seen: Seen::default(),
            stats: ExportStats::default(),
            accepted: RouteBitmap::new(),
            rejected: RouteBitmap::new(),
            to_clear: Vec::new(),
            obsolete: Vec::new(),
            deferred: Vec::new(),
            held: false,
            skip_own: None,
            own_skipped: 0,
        };
        req.callback.activate();
        sub
    }

    /// Stop every current subscription: each reads [`Export::Stop`] next and must resubscribe to recover
    /// (BIRD's exporter shutdown, `TES_STOP`).
    pub fn stop_exports(&self) {
        let subs = std::mem::take(&mut self.0.state.lock().subs);
        for s in subs.iter().filter_map(std::sync::Weak::upgrade) {
            s.stop.store(true, Ordering::Release);
            s.callback.activate();
        }
    }

    /// Current subscriptions.
    pub fn subscriptions(&self) -> usize {
        self.0.state.lock().journal.recipients()
    }
}

impl ExportSub {
    /// The state.
    pub fn state(&self) -> ExportState {
        self.state
    }

    /// The mode.
    pub fn mode(&self) -> ExportMode {
        self.mode
    }

    /// The table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Counters.
    pub fn stats(&self) -> ExportStats {
        self.stats
    }

    /// Journal items pushed and not yet read (0 once stopped).
    pub fn pending(&self) -> u64 {
        self.rec.as_ref().map_or(0, Recipient::pending)
    }

    /// Entries in the seen map (exposed for tests and `show` output).
    pub fn seen_entries(&self) -> usize {
        self.seen.map.len()
    }

    /// Whether a feed is running or queued.
    pub fn is_feeding(&self) -> bool {
        self.feed.is_some()
    }

    fn set_state(&mut self, to: ExportState) {
        self.state = self
            .state
            .transition(to)
            .unwrap_or_else(|e| panic!("export of table {}: {e}", self.table.name()));
    }

    /// Request a refeed of the nets `scope` selects (within the subscription's prefilter). When a feed is
    /// already running, the refeed is queued after it.
    ///
    /// # Errors
    /// When the subscription is stopped or down.
    pub fn refeed(&mut self, scope: Prefilter) -> Result<(), IllegalTransition> {
        match self.state {
            ExportState::Ready => {
                self.set_state(ExportState::Feeding);
                self.start_feed(scope);
            }
            ExportState::Feeding => self.queued.push_back(scope),
            s => return Err(IllegalTransition { from: s, to: ExportState::Feeding }),
        }
        self.shared.callback.activate();
        Ok(())
    }

    fn start_feed(&mut self, scope: Prefilter) {
        self.gen += 1;
        let single = match &scope {
            Prefilter::Net(n) => self.table.lookup(n),
            _ => None,
        };
        // A refeed of everything by a subnet subscription walks the subscription's subnet.
        let ids = match (&scope, &self.filter) {
            (Prefilter::Subnet(n), _) | (Prefilter::All, Prefilter::Subnet(n)) => self.table.subnet_ids(n),
            _ => None,
        };
        self.feed =
            Some(FeedRun { gen: self.gen, scope, cursor: 0, single, single_done: false, refeed: true, ids });
    }

    /// Mark `id` accepted by the subscriber's export filter (and not rejected). Returns whether it was
    /// accepted before.
    pub fn mark_accepted(&mut self, id: RouteId) -> bool {
        self.marks().mark_accepted(id)
    }

    /// The marks alone (see [`ExportMarks`]).
    pub fn marks(&mut self) -> ExportMarks<'_> {
        ExportMarks { accepted: &mut self.accepted, rejected: &mut self.rejected }
    }

    /// Mark `id` rejected (and not accepted). Returns whether it was accepted before.
    pub fn mark_rejected(&mut self, id: RouteId) -> bool {
        self.marks().mark_rejected(id)
    }

    /// Forget `id` (neither accepted nor rejected). Returns whether it was accepted: a second call returns
    /// false, so a duplicate withdrawal never counts twice.
    pub fn unmark(&mut self, id: RouteId) -> bool {
        self.marks().unmark(id)
    }

    /// Whether `id` is marked accepted.
    pub fn was_accepted(&self, id: RouteId) -> bool {
        self.accepted.get(id)
    }

    /// Routes imported by `own` are never exported to this subscriber (its protocol's preexport refuses
    /// them, as BGP and the kernel protocol do with their own routes). Best mode: an update whose new best
    /// is such a route, and whose old best the subscriber did not accept, changes nothing for it; the
    /// subscription marks the new best rejected and reads on instead of returning the update (counted by
    /// [`take_own_skipped`](Self::take_own_skipped), for the subscriber's statistics). A route server's
    /// session reads every change its own peer made; this keeps that cheap. Other modes are unaffected.
    pub fn skip_own(&mut self, own: ImporterId) {
        self.skip_own = Some(own);
    }

    /// Updates passed over by [`skip_own`](Self::skip_own) since the last call.
    pub fn take_own_skipped(&mut self) -> u64 {
        std::mem::take(&mut self.own_skipped)
    }

    /// Whether `id` is marked rejected.
    pub fn was_rejected(&self, id: RouteId) -> bool {
        self.rejected.get(id)
    }

    /// Routes marked accepted (the subscriber's exported count).
    pub fn accepted_count(&self) -> usize {
        self.accepted.len()
    }

    /// Routes marked rejected.
    pub fn rejected_count(&self) -> usize {
        self.rejected.len()
    }

    /// Forget every mark.
    pub fn clear_marks(&mut self) {
        self.accepted.clear_all();
        self.rejected.clear_all();
        self.to_clear.clear();
    }

    /// Heap bytes of the marks (both bitmaps).
    pub fn marks_heap_bytes(&self) -> usize {
        self.accepted.heap_bytes() + self.rejected.heap_bytes()
    }

    /// The routes made obsolete by the change behind the last [`Export::Feed`] of merged mode (removed, or no
    /// longer best), which the subscriber may have marked accepted: with the fed routes, they are every
    /// route of the net the subscriber can have exported. Empty after other exports.
    pub fn obsolete(&self) -> &[Route] {
        &self.obsolete
    }

    fn settle_marks(&mut self) {
        for id in self.to_clear.drain(..) {
            self.accepted.clear(id);
            self.rejected.clear(id);
        }
        self.obsolete.clear();
    }

    /// The next export, or `None` when there is nothing more right now (the callback is activated again
    /// when there is). See the module docs.
    ///
    /// Marks of routes removed by the changes returned before are cleared first: handle an export completely
    /// (including [`unmark`](Self::unmark) / [`mark_accepted`](Self::mark_accepted)) before calling again.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Export> {
        match self.next_inner(false)? {
            Step::Export(e) => Some(e),
            Step::Held(..) => unreachable!("next_inner(false) holds no item"),
        }
    }

    /// [`next`](Self::next), with best- and all-mode updates read in place (see [`ExportRef`]), and the
    /// marks to use beside them.
    #[allow(unsafe_code)]
    pub fn next_ref(&mut self) -> Option<(ExportRef<'_>, ExportMarks<'_>)> {
        let e = match self.next_inner(true)? {
            Step::Held(net, net_id, seq, old, new) => {
                // SAFETY: the pointers point into the current journal item, which `next_inner` left
                // unreleased (`held`): cleanup drops an item only after every recipient released it, and frees
                // a block only once every cursor left it. Only `next_inner` (through `release_held`) releases it,
                // which needs `&mut self`, so the item outlives the borrow of `self` these references carry.
                let (old, new) = unsafe { (old.map(|p| &*p), new.map(|p| &*p)) };
                ExportRef::Update { net, net_id, seq, old, new }
            }
            Step::Export(e) => ExportRef::Owned(e),
        };
        Some((e, ExportMarks { accepted: &mut self.accepted, rejected: &mut self.rejected }))
    }

    /// Release the item the last [`next_ref`](Self::next_ref) read in place.
    fn release_held(&mut self) {
        if std::mem::take(&mut self.held) {
            if let Some(item) = self.rec.as_mut().and_then(Recipient::get) {
                item.release();
            }
        }
    }

    /// The next export; with `borrow`, best- and all-mode updates are read in place (`Step::Held`).
    fn next_inner(&mut self, borrow: bool) -> Option<Step> {
        self.release_held();
        self.settle_marks();
        let mut idle = 0u32;
        loop {
            if matches!(self.state, ExportState::Down | ExportState::Stop) {
                return None;
            }
            let rec = self.rec.as_mut()?;
            if self.shared.stop.load(Ordering::Acquire) || rec.is_stopped() {
                self.set_state(ExportState::Stop);
                self.rec = None;
                self.feed = None;
                self.queued.clear();
                self.deferred.clear();
                self.seen = Seen::default();
                self.clear_marks();
                return Some(Step::Export(Export::Stop));
            }
            if let Some(item) = rec.get() {
                let seq = item.seq().0;
                let (net, id) = (item.net, item.net_id);
                let removed = item.old.as_ref().map(Route::id);
                let mut act = if !self.filter.matches(&net) {
                    Act::Skip
                } else if self.feed.as_ref().is_some_and(|f| {
                    !f.refeed && f.scope.matches(&net) && !f.walked(id) && !self.seen.fed_in(id, f.gen)
                }) {
                    self.stats.expedited += 1;
                    Act::Feed
                } else if self.seen.covers(id, seq) {
                    self.stats.covered += 1;
                    Act::Skip
                } else {
                    match self.mode {
                        ExportMode::Best => match item.best() {
                            Some((o, Some(n)))
                                if self.skip_own == Some(n.sender())
                                    && o.is_none_or(|o| !self.accepted.get(o.id())) =>
                            {
                                self.rejected.set(n.id());
                                self.accepted.clear(n.id());
                                self.own_skipped += 1;
                                Act::Skip
                            }
                            Some((o, n)) if borrow => Act::Held(o.map(ptr::from_ref), n.map(ptr::from_ref)),
                            Some((o, n)) => Act::Update(o.cloned(), n.cloned()),
                            None => Act::Skip,
                        },
                        ExportMode::All => {
                            let o = item.old.as_ref().filter(|r| r.is_valid());
                            let n = item.new.as_ref().filter(|r| r.is_valid());
                            if o.is_none() && n.is_none() {
                                Act::Skip
                            } else if borrow {
                                Act::Held(o.map(ptr::from_ref), n.map(ptr::from_ref))
                            } else {
                                Act::Update(o.cloned(), n.cloned())
                            }
                        }
                        ExportMode::Merged => {
                            let mut obs: Vec<Route> = Vec::new();
                            let old_best = item.best().and_then(|(o, _)| o);
                            for r in item.old.iter().chain(old_best).filter(|r| r.is_valid()) {
                                if !obs.iter().any(|o| o.id() == r.id()) {
                                    obs.push(r.clone());
                                }
                            }
                            Act::Merged(obs)
                        }
                    }
                };
                // A feed for this item is loaded before releasing it: the net (even emptied) stays indexed
                // until every recipient passed its last change.
                let mut fed = match &act {
                    Act::Feed | Act::Merged(_) => {
                        let _g = birdrcu::read();
                        self.table.0.load(id).map(|l| (l.net(), l.seq(), mode_routes(self.mode, l)))
                    }
                    _ => None,
                };
                // Merged mode: a change that neither moved the best nor touched a route of the multipath set
                // leaves the set as it is; skip it (changes after it that do are delivered themselves).
                if let (Act::Merged(_), Some((_, _, set))) = (&act, &fed) {
                    let relevant = item.best_changed()
                        || item.new.as_ref().is_some_and(|n| set.iter().any(|r| r.id() == n.id()))
                        || item.old.as_ref().is_some_and(|o| set.first().is_some_and(|b| ecmp_member(b, o)));
                    if !relevant {
                        self.stats.merged_skipped += 1;
                        act = Act::Skip;
                        fed = None;
                    }
                }
                if matches!(act, Act::Held(..)) {
                    // Read in place by the caller: released by the next call (`release_held`); `item`
                    // itself is only a view and ends here.
                    self.held = true;
                } else {
                    item.release();
                }
                match act {
                    Act::Skip => {
                        if let Some(r) = removed {
                            self.accepted.clear(r);
                            self.rejected.clear(r);
                        }
                        continue;
                    }
                    Act::Update(old, new) => {
                        self.to_clear.extend(removed);
                        self.stats.updates += 1;
                        return Some(Step::Export(Export::Update { net, net_id: id, seq, old, new }));
                    }
                    Act::Held(old, new) => {
                        self.to_clear.extend(removed);
                        self.stats.updates += 1;
                        return Some(Step::Held(net, id, seq, old, new));
                    }
                    Act::Feed | Act::Merged(_) => {
                        self.to_clear.extend(removed);
                        let Some((lnet, lseq, routes)) = fed else { continue };
                        if let Act::Merged(mut obs) = act {
                            obs.retain(|o| !routes.iter().any(|r| r.id() == o.id()));
                            self.obsolete = obs;
                        } else {
                            self.seen.record(id, lseq, self.gen);
                        }
                        self.stats.feeds += 1;
                        return Some(Step::Export(Export::Feed { net: lnet, net_id: id, seq: lseq, routes }));
                    }
                }
            }
            // The journal is drained: deferred refeeds first, then walk.
            if let Some(e) = self.feed_deferred() {
                return Some(Step::Export(e));
            }
            if self.feed.is_none() {
                let pos = self.rec.as_ref().map_or(0, |r| r.position().0);
                if !self.seen.map.is_empty() && pos > self.seen.max_seq {
                    self.seen = Seen::default();
                }
                return None;
            }
            if let Some(e) = self.walk_step() {
                return Some(Step::Export(e));
            }
            // A long stretch of nets giving nothing: yield when the loop's budget is spent (the callback
            // brings us back).
            idle += 1;
            if idle.is_multiple_of(256) && !birdloop::task_still_in_limit() {
                self.stats.yielded += 1;
                self.shared.callback.activate();
                return None;
            }
        }
    }

    /// Feed a deferred refeed net whose list the position passed (the journal is drained here, so normally
    /// all of them). One per call.
    fn feed_deferred(&mut self) -> Option<Export> {
        let pos = self.rec.as_ref().map_or(0, |r| r.position().0);
        while let Some(i) = self.deferred.iter().position(|&(_, s)| s < pos) {
            let (id, _) = self.deferred.swap_remove(i);
            let scope = self.feed.as_ref().map(|f| f.scope.clone());
            if let Some(e) = self.feed_net(id, self.gen, scope.as_ref(), false) {
                return Some(e);
            }
        }
        None
    }

    /// Advance the feed walk: a feed, `Fed` at the end, or `None` after a stretch of nets that gave nothing
    /// (the caller loops, looking at the journal in between).
    fn walk_step(&mut self) -> Option<Export> {
        let run = self.feed.as_mut().expect("walk without a feed");
        let gen = run.gen;
        let next = match (&run.scope, &run.ids) {
            (Prefilter::Net(_), _) => {
                if run.single_done {
                    None
                } else {
                    run.single_done = true;
                    Some(run.single)
                }
            }
            (_, Some(ids)) => {
                // `cursor` is the next id to walk; ids below it are walked.
                match ids.get(ids.partition_point(|&i| i < run.cursor)) {
                    Some(&id) => {
                        run.cursor = id + 1;
                        Some(Some(NetId(id)))
                    }
                    None => {
                        run.cursor = u32::MAX;
                        None
                    }
                }
            }
            _ => {
                if run.cursor < self.table.0.nets.len() {
                    let id = NetId(run.cursor);
                    run.cursor += 1;
                    Some(Some(id))
                } else {
                    None
                }
            }
        };
        match next {
            Some(Some(id)) => {
                self.stats.walked += 1;
                if self.seen.fed_in(id, gen) {
                    return None;
                }
                let scope = self.feed.as_ref().map(|f| f.scope.clone());
                self.feed_net(id, gen, scope.as_ref(), false)
            }
            Some(None) => None,
            None => {
                if !self.deferred.is_empty() {
                    // Wait for the journal to pass the deferred nets.
                    return None;
                }
                self.feed = None;
                self.stats.fed += 1;
                match self.queued.pop_front() {
                    Some(scope) => self.start_feed(scope),
                    None => self.set_state(ExportState::Ready),
                }
                Some(Export::Fed)
            }
        }
    }

    /// Feed net `id`: load its list, record it in the seen map, return it mode-filtered. `None` if the slot
    /// is empty or the net is outside the prefilter (or `scope`).
    ///
    /// A walk feed is recorded only when its list is newer than the position (older ones cover nothing
    /// the journal still holds, and the cursor tells the walk it was done). An out-of-walk feed (expedited)
    /// is always recorded: the walk must know this generation already fed the net. A refeed defers a net
    /// whose list is newer than the position instead (see [`FeedRun::refeed`]).
    fn feed_net(&mut self, id: NetId, gen: u32, scope: Option<&Prefilter>, always: bool) -> Option<Export> {
        let pos = self.rec.as_ref().map_or(0, |r| r.position().0);
        let refeed = self.feed.as_ref().is_some_and(|f| f.refeed);
        let _g = birdrcu::read();
        let l: ListRef<'_> = self.table.0.load(id)?;
        let net = l.net();
        if !self.filter.matches(&net) || scope.is_some_and(|s| !s.matches(&net)) {
            return None;
        }
        let seq = l.seq();
        if refeed && seq >= pos {
            self.stats.deferred += 1;
            self.deferred.push((id, seq));
            return None;
        }
        if always || seq >= pos {
            self.seen.record(id, seq, gen);
        }
        let routes = mode_routes(self.mode, l);
        self.stats.feeds += 1;
        Some(Export::Feed { net, net_id: id, seq, routes })
    }
}

/// The routes of a list a subscription of `mode` gets in a feed.
fn mode_routes(mode: ExportMode, l: ListRef<'_>) -> Vec<Route> {
    match mode {
        ExportMode::Best => l.best().cloned().into_iter().collect(),
        ExportMode::All => l.routes().iter().filter(|r| r.is_valid()).cloned().collect(),
        ExportMode::Merged => ecmp_set(l.routes()),
    }
}

impl Drop for ExportSub {
    fn drop(&mut self) {
        if self.state != ExportState::Down {
            self.state = self.state.transition(ExportState::Down).unwrap_or(ExportState::Down);
        }
    }
}

/// A feed-only walk (BIRD's feed-only request): every net the prefilter selects, mode-filtered, each net a
/// consistent snapshot, without subscribing to the journal. For `show route` and shutdown syncs.
#[derive(Debug)]
pub struct Feeder {
    table: Table,
    mode: ExportMode,
    filter: Prefilter,
    cursor: u32,
    single: Option<Option<NetId>>,
    /// Subnet scope walked through the net trie: the ids, and the next index.
    ids: Option<(Vec<u32>, usize)>,
}

impl Table {
    /// A feed-only walk. See [`Feeder`].
    pub fn feed(&self, mode: ExportMode, filter: Prefilter) -> Feeder {
        let single = match &filter {
            Prefilter::Net(n) => Some(self.lookup(n)),
            _ => None,
        };
        let ids = match &filter {
            Prefilter::Subnet(n) => self.subnet_ids(n).map(|v| (v, 0)),
            _ => None,
        };
        Feeder { table: self.clone(), mode, filter, cursor: 0, single, ids }
    }
}

impl Iterator for Feeder {
    type Item = (Net, Vec<Route>);

    fn next(&mut self) -> Option<(Net, Vec<Route>)> {
        loop {
            let id = match (&mut self.single, &mut self.ids) {
                (Some(s), _) => s.take()?,
                (None, Some((ids, k))) => {
                    let id = *ids.get(*k)?;
                    *k += 1;
                    NetId(id)
                }
                (None, None) => {
                    if self.cursor >= self.table.0.nets.len() {
                        return None;
                    }
                    self.cursor += 1;
                    NetId(self.cursor - 1)
                }
            };
            let _g = birdrcu::read();
            let Some(l) = self.table.0.load(id) else { continue };
            if !self.filter.matches(&l.net()) || l.routes().is_empty() {
                continue;
            }
            let routes: Vec<Route> = match self.mode {
                ExportMode::Best => l.best().cloned().into_iter().collect(),
                ExportMode::All => l.routes().iter().filter(|r| r.is_valid()).cloned().collect(),
                ExportMode::Merged => ecmp_set(l.routes()),
            };
            if !routes.is_empty() {
                return Some((l.net(), routes));
            }
        }
    }
}
