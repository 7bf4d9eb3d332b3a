//! Channels: the connection of a protocol to a table, with filters, limits and statistics.
//!
//! A channel lives inside its protocol's loop. Its import side is a birdtable [`ImportHandle`]; its export
//! side is an [`ExportSub`] whose callback is an event on the protocol's loop. Both run the channel's
//! filters and limits and count what happened in the `show protocols all` statistics.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use birdnet::Net;
use birdtable::route::FLAG_FILTERED;
use birdtable::{
    ExportMarks, ExportMode, ExportSub, Import, ImportHandle, ImportOutcome, ImportResult, Route, RouteId,
    RouteSrc, Table,
};

use crate::filter::{accept_all, reject_all, FilterRoute, RouteFilter, Verdict};
use crate::limit::{Limit, LimitDir, LimitOutcome, LimitState};
use crate::published::{add, dec_one, inc, ChannelCounters, ChannelInfo, LimitInfo};
use crate::state::ChannelState;

/// A channel's configuration (`ipv4 { table master4; import all; export filter f; import limit 10; }`).
#[derive(Clone)]
pub struct ChannelConfig {
    /// Channel name (`ipv4`, `ipv6`, `pri`/`sec` inside a pipe).
    pub name: String,
    /// The table.
    pub table: Table,
    /// Preference of the routes this channel imports.
    pub preference: u16,
    /// Import filter.
    pub import_filter: Arc<dyn RouteFilter>,
    /// Export filter.
    pub export_filter: Arc<dyn RouteFilter>,
    /// `receive limit`.
    pub receive_limit: Option<Limit>,
    /// `import limit`.
    pub import_limit: Option<Limit>,
    /// `export limit`.
    pub export_limit: Option<Limit>,
    /// What the channel subscribes to; `None`: the protocol takes no exports. No subscription is made
    /// when the export filter rejects everything either.
    pub export_mode: Option<ExportMode>,
    /// `import keep filtered`: keep rejected routes in the table, flagged as filtered.
    pub keep_filtered: bool,
    /// `merge paths yes limit N` with [`ExportMode::Merged`]: at most this many routes merged into one
    /// multipath route (`None`: no limit).
    pub merge_limit: Option<usize>,
}

impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("name", &self.name)
            .field("table", &self.table.name())
            .field("preference", &self.preference)
            .field("import_filter", &self.import_filter.name())
            .field("export_filter", &self.export_filter.name())
            .finish_non_exhaustive()
    }
}

impl ChannelConfig {
    /// A channel named `name` on `table`: preference `preference`, `import all`, `export none`, no
    /// limits, best-route exports (when an export filter is set).
    pub fn new(name: impl Into<String>, table: &Table, preference: u16) -> ChannelConfig {
        ChannelConfig {
            name: name.into(),
            table: table.clone(),
            preference,
            import_filter: accept_all(),
            export_filter: reject_all(),
            receive_limit: None,
            import_limit: None,
            export_limit: None,
            export_mode: Some(ExportMode::Best),
            keep_filtered: false,
            merge_limit: None,
        }
    }

    /// `merge paths yes [limit N]`: export the ECMP set of each net merged into one multipath route (BIRD's
    /// merged export mode, for the kernel protocol).
    #[must_use]
    pub fn merge_paths(mut self, limit: Option<usize>) -> ChannelConfig {
        self.export_mode = Some(ExportMode::Merged);
        self.merge_limit = limit;
        self
    }

    /// Whether the channel subscribes to its table's exports.
    pub fn wants_exports(&self) -> bool {
        self.export_mode.is_some() && !self.export_filter.rejects_all()
    }
}

/// The route to export: the candidate itself, or what the export filter made of it.
pub(crate) enum Out<'r> {
    Same(&'r Route),
    Filtered(Route),
}

impl Out<'_> {
    pub(crate) fn route(&self) -> &Route {
        match self {
            Out::Same(r) => r,
            Out::Filtered(r) => r,
        }
    }
}

/// What the protocol must be told about an export: `(new, old)`.
pub(crate) type Change<'r> = (Option<Out<'r>>, Option<&'r Route>);

pub(crate) struct Channel {
    pub(crate) cfg: ChannelConfig,
    pub(crate) state: ChannelState,
    pub(crate) importer: Option<ImportHandle>,
    /// The export subscription; it also keeps the marks of what the export filter accepted and rejected
    /// (per route id: what the protocol has from this channel is exactly the accepted routes). Boxed: the
    /// export drain takes it out of the channel while it hands routes borrowed from it to the protocol.
    pub(crate) export: Option<Box<ExportSub>>,
    pub(crate) counters: Arc<ChannelCounters>,
    pub(crate) rx_limit: Option<LimitState>,
    pub(crate) in_limit: Option<LimitState>,
    pub(crate) out_limit: Option<LimitState>,
    pub(crate) peer_table: Option<String>,
    /// Imports waiting for one table call (see [`Channel::flush_imports`]), with what each one was.
    pending: Vec<Import>,
    pending_kind: Vec<Pending>,
    /// Reused buffer for the outcomes of a flush.
    outcomes: Vec<ImportOutcome>,
}

/// Imports queued before the table takes them under one lock: at most this many (bounds the lock hold
/// and the delay before the routes are visible).
const IMPORT_BATCH: usize = 256;

/// What a queued table operation was, for the counters once its outcome is known.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// A withdrawal received from the protocol.
    Withdraw,
    /// A route the import filter rejected: whatever the source had is withdrawn.
    Rejected,
    /// A route imported; `valid`: not flagged as filtered.
    Import { valid: bool },
}

/// What a channel asks of its protocol after an import or an export step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trip {
    None,
    Down { restart: bool, dir: LimitDir },
}

impl Channel {
    pub(crate) fn new(cfg: ChannelConfig) -> Channel {
        let mut c = Channel {
            state: ChannelState::Down,
            importer: None,
            export: None,
            counters: Arc::new(ChannelCounters::default()),
            rx_limit: None,
            in_limit: None,
            out_limit: None,
            peer_table: None,
            pending: Vec::new(),
            pending_kind: Vec::new(),
            outcomes: Vec::new(),
            cfg,
        };
        c.apply_limits();
        c
    }

    /// Take the limits of the (new) configuration, keeping the hit state of unchanged ones.
    pub(crate) fn apply_limits(&mut self) {
        fn upd(cur: &mut Option<LimitState>, want: Option<Limit>) {
            match (cur.as_mut(), want) {
                (Some(c), Some(w)) if c.limit == w => {}
                (_, w) => *cur = w.map(LimitState::new),
            }
        }
        upd(&mut self.rx_limit, self.cfg.receive_limit);
        upd(&mut self.in_limit, self.cfg.import_limit);
        upd(&mut self.out_limit, self.cfg.export_limit);
    }

    pub(crate) fn reset_limits(&mut self) {
        for l in [&mut self.rx_limit, &mut self.in_limit, &mut self.out_limit].into_iter().flatten() {
            l.reset();
        }
    }

    pub(crate) fn info(&self) -> ChannelInfo {
        ChannelInfo {
            name: self.cfg.name.clone(),
            state: self.state,
            table: self.cfg.table.name().to_owned(),
            peer_table: self.peer_table.clone(),
            preference: self.cfg.preference,
            input_filter: self.cfg.import_filter.name().to_owned(),
            output_filter: self.cfg.export_filter.name().to_owned(),
            receive_limit: self.rx_limit.as_ref().map(LimitInfo::from),
            import_limit: self.in_limit.as_ref().map(LimitInfo::from),
            export_limit: self.out_limit.as_ref().map(LimitInfo::from),
            counters: self.counters.clone(),
            extra: Vec::new(),
        }
    }

    /// Import (or withdraw, `route == None`) the route of `src` for `net`: receive limit, import filter,
    /// import limit, then the table. Runs in the protocol's loop.
    ///
    /// The table tells what the net had from this source ([`ImportOutcome`]), so the channel needs no lookup
    /// of its own: the receive and import limits are checked by the table's admission callback
    /// ([`ImportHandle::import_checked`]) only for routes that would add to their count, as BIRD checks them
    /// in `rte_recalculate`, and the counters follow the outcome.
    pub(crate) fn import(&mut self, proto: &str, net: Net, src: &RouteSrc, route: Option<Route>) -> Trip {
        if self.importer.is_none() {
            return Trip::None;
        }
        let Some(route) = route else {
            inc(&self.counters.import_withdraws.received);
            self.queue(Import::Withdraw(net, src.clone()), Pending::Withdraw);
            return Trip::None;
        };

        inc(&self.counters.import_updates.received);
        let mut fr = FilterRoute::new(net, route.attrs(), route.pref(), proto);
        let verdict = self.cfg.import_filter.run(&mut fr);
        let pref = fr.pref;
        let attrs = fr.is_modified().then(|| fr.into_attrs());
        let route = match attrs {
            Some(a) => Route::new(src.clone(), a, pref).with_generation(route.generation()),
            None if pref != route.pref() => {
                Route::new(src.clone(), route.attrs().clone(), pref).with_generation(route.generation())
            }
            None => route,
        };
        if verdict == Verdict::Reject {
            inc(&self.counters.import_updates.filtered);
            if self.cfg.keep_filtered {
                return self.import_limited(proto, net, route.with_flags(FLAG_FILTERED), false);
            }
            self.queue(Import::Withdraw(net, src.clone()), Pending::Rejected);
            return Trip::None;
        }
        self.import_limited(proto, net, route, true)
    }

    /// Queue a table operation whose outcome needs no decision now (no limit to check); the queue goes to
    /// the table in one call when it is full, before any operation that needs an answer at once, and at
    /// the end of the protocol hook that queued it ([`Channel::flush_imports`]).
    fn queue(&mut self, op: Import, kind: Pending) {
        self.pending.push(op);
        self.pending_kind.push(kind);
        if self.pending.len() >= IMPORT_BATCH {
            self.flush_imports();
        }
    }

    /// Hand the queued imports to the table (one lock for all of them) and count their outcomes.
    pub(crate) fn flush_imports(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut outcomes = std::mem::take(&mut self.outcomes);
        match self.importer.as_ref() {
            Some(imp) => imp.import_batch_detailed(self.pending.drain(..), |o| outcomes.push(o)),
            None => self.pending.clear(),
        }
        let kinds = std::mem::take(&mut self.pending_kind);
        for (kind, out) in kinds.iter().zip(outcomes.drain(..)) {
            match *kind {
                Pending::Withdraw => {
                    if out.result == ImportResult::Withdrawn {
                        inc(&self.counters.import_withdraws.accepted);
                        self.count_import(out, false);
                    } else {
                        inc(&self.counters.import_withdraws.ignored);
                    }
                }
                Pending::Rejected => {
                    if out.result == ImportResult::Withdrawn {
                        self.count_import(out, false);
                    }
                }
                Pending::Import { valid } => self.count_import(out, valid),
            }
        }
        self.pending_kind = kinds;
        self.pending_kind.clear();
        self.outcomes = outcomes;
    }

    /// Import `route` past the receive and import limits, checked by the table (under its lock, knowing what
    /// the net has from this source) only when the route would add to their count: a replacement is never
    /// blocked. `valid`: the route is not filtered.
    fn import_limited(&mut self, proto: &str, net: Net, route: Route, valid: bool) -> Trip {
        if self.rx_limit.is_none() && (self.in_limit.is_none() || !valid) {
            self.queue(Import::Update(net, route), Pending::Import { valid });
            return Trip::None;
        }
        // The limits are checked against the counters: they must include everything queued before.
        self.flush_imports();
        let Some(imp) = self.importer.as_ref() else { return Trip::None };
        let c = &self.counters;
        let (rx_limit, in_limit) = (&mut self.rx_limit, &mut self.in_limit);
        let mut tripped: Option<(LimitOutcome, LimitDir)> = None;
        let out = {
            imp.import_checked(net, route, |had_old, old_filtered| {
                if !had_old {
                    if let Some(l) = rx_limit.as_mut() {
                        match l.check_new(proto, LimitDir::Receive, c.received_routes.load(Ordering::Relaxed))
                        {
                            LimitOutcome::Pass => {}
                            o => {
                                tripped = Some((o, LimitDir::Receive));
                                return false;
                            }
                        }
                    }
                }
                if valid && (!had_old || old_filtered) {
                    if let Some(l) = in_limit.as_mut() {
                        match l.check_new(proto, LimitDir::Import, c.imported.load(Ordering::Relaxed)) {
                            LimitOutcome::Pass => {}
                            o => {
                                tripped = Some((o, LimitDir::Import));
                                return false;
                            }
                        }
                    }
                }
                true
            })
        };
        if let Some((o, dir)) = tripped {
            inc(match dir {
                LimitDir::Receive => &c.import_updates.rx_limit,
                _ => &c.import_updates.limit,
            });
            return match o {
                LimitOutcome::Down { restart } => Trip::Down { restart, dir },
                _ => Trip::None,
            };
        }
        self.count_import(out, valid);
        Trip::None
    }

    /// Account an import outcome: `valid` is whether the route imported (if any) is valid.
    fn count_import(&mut self, out: ImportOutcome, valid: bool) {
        let c = &self.counters;
        let dec = |valid: bool| {
            if valid {
                dec_one(&c.imported);
            } else {
                dec_one(&c.filtered);
            }
        };
        let add = |valid: bool| {
            if valid {
                inc(&c.imported);
            } else {
                inc(&c.filtered);
            }
        };
        let old = out.had_old.then_some(!out.old_filtered);
        match out.result {
            ImportResult::Added => {
                add(valid);
                inc(&c.received_routes);
                if valid {
                    inc(&c.import_updates.accepted);
                }
            }
            ImportResult::Updated => {
                if let Some(o) = old {
                    dec(o);
                }
                add(valid);
                if valid {
                    inc(&c.import_updates.accepted);
                }
            }
            ImportResult::Withdrawn => {
                if let Some(o) = old {
                    dec(o);
                }
                dec_one(&c.received_routes);
            }
            ImportResult::Refreshed | ImportResult::Ignored | ImportResult::NotFound => {
                if valid {
                    inc(&c.import_updates.ignored);
                }
            }
        }
        let (rx, imported) = (c.received_routes.load(Ordering::Relaxed), c.imported.load(Ordering::Relaxed));
        if matches!(out.result, ImportResult::Withdrawn | ImportResult::Updated) {
            if let Some(l) = self.rx_limit.as_mut() {
                l.count_changed(rx);
            }
            if let Some(l) = self.in_limit.as_mut() {
                l.count_changed(imported);
            }
        }
    }

    /// Drop the export subscription (and its marks): the protocol keeps what it got.
    /// Count the updates the subscription passed over as the protocol's own (see
    /// [`Protocol::rejects_own_routes`](crate::Protocol::rejects_own_routes)): received and rejected.
    fn count_own_skipped(&mut self) {
        let Some(sub) = self.export.as_mut() else { return };
        let n = sub.take_own_skipped();
        if n > 0 {
            let u = &self.counters.export_updates;
            add(&u.received, n);
            add(&u.rejected, n);
        }
    }

    pub(crate) fn drop_export(&mut self) {
        self.count_own_skipped();
        self.export = None;
        self.counters.exported.store(0, Ordering::Relaxed);
    }

    /// Offer the export of `cand` replacing `old` for `net` (BIRD's `rt_notify_basic`): `old` is the table's
    /// route this change replaces or removes, which counts only if the channel accepted it; `cand` goes
    /// through `preexport`, the export filter and the export limit. `mark` is the id to mark for `cand` (its
    /// own id, or the best route's for a merged route). `sub` holds the marks of the channel's export
    /// subscription. Returns what the protocol must be told, `(new, old)`, if anything, plus a limit trip.
    /// Routes are borrowed throughout: an export the filter leaves alone costs no route clone.
    pub(crate) fn offer<'r>(
        &mut self,
        sub: &mut ExportMarks<'_>,
        proto: &str,
        net: Net,
        cand: Option<(&'r Route, RouteId)>,
        old: Option<&'r Route>,
        preexport: impl FnOnce(&Route) -> bool,
    ) -> (Option<Change<'r>>, Trip) {
        let c = &*self.counters;
        let old = old.filter(|o| sub.was_accepted(o.id()));
        let mut trip = Trip::None;
        let new = match cand {
            None => {
                if old.is_some() {
                    inc(&c.export_withdraws.received);
                }
                None
            }
            Some((r, mark)) => {
                inc(&c.export_updates.received);
                if !preexport(r) {
                    inc(&c.export_updates.rejected);
                    sub.mark_rejected(mark);
                    None
                } else {
                    let mut fr = FilterRoute::new(net, r.attrs(), r.pref(), r.src().source().name());
                    if self.cfg.export_filter.run(&mut fr) == Verdict::Reject {
                        inc(&c.export_updates.filtered);
                        sub.mark_rejected(mark);
                        None
                    } else {
                        let pref = fr.pref;
                        let out = if fr.is_modified() || pref != r.pref() {
                            let a = fr.into_attrs();
                            Out::Filtered(
                                Route::new(r.src().clone(), a, pref).with_generation(r.generation()),
                            )
                        } else {
                            Out::Same(r)
                        };
                        // Only a route adding to the count asks the limit (a replacement never does).
                        let adds = old.is_none() && !sub.was_accepted(mark);
                        let pass = match self.out_limit.as_mut() {
                            Some(l) if adds => {
                                match l.check_new(proto, LimitDir::Export, sub.accepted_count() as u64) {
                                    LimitOutcome::Pass => true,
                                    LimitOutcome::Drop => false,
                                    LimitOutcome::Down { restart } => {
                                        trip = Trip::Down { restart, dir: LimitDir::Export };
                                        false
                                    }
                                }
                            }
                            _ => true,
                        };
                        if pass {
                            inc(&c.export_updates.accepted);
                            Some((out, mark))
                        } else {
                            inc(&c.export_updates.limit);
                            sub.mark_rejected(mark);
                            None
                        }
                    }
                }
            }
        };
        let before = sub.accepted_count();
        if let Some(o) = &old {
            // `unmark` returns false for a route already gone: a duplicate withdrawal never counts twice.
            sub.unmark(o.id());
        }
        if let Some((_, mark)) = &new {
            sub.mark_accepted(*mark);
        }
        let after = sub.accepted_count();
        c.exported.store(after as u64, Ordering::Relaxed);
        if after < before {
            if let Some(l) = self.out_limit.as_mut() {
                l.count_changed(after as u64);
            }
        }
        let change = match (new, old) {
            (None, None) => None,
            (None, Some(o)) => {
                inc(&c.export_withdraws.accepted);
                Some((None, Some(o)))
            }
            (Some((n, _)), o) => Some((Some(n), o)),
        };
        (change, trip)
    }

    /// After the subscription cleared marks by itself (routes removed), publish the count and let the limit
    /// see it.
    pub(crate) fn sync_export_count(&mut self) {
        self.count_own_skipped();
        let Some(sub) = self.export.as_ref() else { return };
        let n = sub.accepted_count() as u64;
        if self.counters.exported.swap(n, Ordering::Relaxed) > n {
            if let Some(l) = self.out_limit.as_mut() {
                l.count_changed(n);
            }
        }
    }
}
