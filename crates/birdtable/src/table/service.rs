//! The table's service loop: settle timer and announcements, journal cleanup (and what waits for it:
//! ids, empty nets, stopping importers, uncork), the retire bag, and prune passes (refresh end, flush).
//!
//! ```text
//!   importer ──kick (once until run)──► [kick]  flush retire bag; arm settle timer (or announce at once
//!                                               when `announce_batch` items wait)
//!   settle timer ─────────────────────► announce (recipients' callbacks) + cleanup
//!   last recipient passing a mark ────► [cleanup] journal.cleanup(); free ids/nets; stop waiters; uncork
//!   refresh_end / stop ───────────────► [prune]  budgeted walk withdrawing stale / stopping routes
//!   idle trim (500 ms after the last kick or prune pass) ► free the pool of retired lists
//! ```

use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use birdevent::Event;
use birdloop::{LoopGuard, Time};

use super::import::{withdraw_matching, ImpState};
use super::{Pending, RetireBag, TableInner, TableState};
use crate::list::RetiredList;
use crate::route::NetId;

/// Settle timer state.
#[derive(Debug, Default)]
pub(crate) struct Settle {
    armed: bool,
    first: Option<Time>,
    pushes_at_arm: u64,
}

/// A prune pass in progress: a walk over every net id.
#[derive(Debug)]
pub(crate) struct PrunePass {
    cursor: u32,
    /// Importers whose every route goes.
    flush: Vec<u16>,
    /// Importers whose routes with a stale cycle outside `[cycle, stale_set]` go.
    refresh: Vec<(u16, u8)>,
}

/// An event on the service loop calling `f` with the table, if it still exists.
pub(crate) fn event(weak: &Weak<TableInner>, name: &'static str, f: fn(&Arc<TableInner>)) -> Event {
    let weak = weak.clone();
    Event::new(name, move || {
        if let Some(t) = weak.upgrade() {
            f(&t);
        }
    })
}

/// How long a table must see no import before it frees its pool of retired lists.
pub(crate) const IDLE_TRIM: Duration = Duration::from_millis(500);

/// Retired lists past their grace period, on their way to the table's pool; filled by RCU callbacks on
/// any thread, emptied by the table's writer.
#[derive(Default)]
pub(crate) struct Graced {
    lists: Mutex<Vec<RetiredList>>,
    /// Retire bags handed to RCU whose callback has not run yet.
    in_flight: AtomicUsize,
}

impl Graced {
    pub(crate) fn bytes(&self) -> usize {
        self.lists.lock().unwrap_or_else(PoisonError::into_inner).iter().map(RetiredList::bytes).sum()
    }

    fn take(&self) -> Vec<RetiredList> {
        std::mem::take(&mut *self.lists.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Hand the retire bag to RCU: dropped after a grace period, at a safe point.
///
/// The routes are dropped then; the lists' memory goes to the `graced` stash, which the next flush moves
/// into the table's [`ListPool`](crate::list::ListPool) for imports to reuse. The pool serves bursts (a
/// net going from k to k+1 routes reuses the list another net left at k); once the table is quiet,
/// [`trim_fired`] frees it.
pub(crate) fn flush_retired(st: &mut TableState) {
    for l in st.graced.take() {
        st.pool.put(l);
    }
    if st.retired.is_empty() {
        return;
    }
    let RetireBag { lists, routes } = std::mem::take(&mut st.retired);
    let stash = st.graced.clone();
    stash.in_flight.fetch_add(1, Ordering::Relaxed);
    birdrcu::defer(move || {
        drop(routes);
        stash.lists.lock().unwrap_or_else(PoisonError::into_inner).extend(lists);
        stash.in_flight.fetch_sub(1, Ordering::Release);
        // The dropped routes may have been the last users of their attribute sets.
        crate::attrs::maybe_sweep();
    });
}

/// (Re)arm the idle trim: it fires [`IDLE_TRIM`] after the last kick (every import burst kicks), and
/// re-arms itself while the burst is not yet announced.
fn arm_trim(t: &TableInner, g: &mut LoopGuard<'_>) {
    if let Some(&key) = t.trim_timer.get() {
        g.set_timer_in(key, IDLE_TRIM);
    }
}

/// The table has been quiet for [`IDLE_TRIM`]: free the pooled lists and those past their grace period
/// (a pool sized for convergence would otherwise be kept for good, in size classes no net needs any
/// more). Waits for retire bags still in their grace period, and for imports that came meanwhile.
pub(crate) fn trim_fired(t: &Arc<TableInner>, g: &mut LoopGuard<'_>) {
    let mut st = t.state.lock();
    if st.pushes != st.announced || !st.retired.is_empty() || st.graced.in_flight.load(Ordering::Acquire) > 0
    {
        drop(st);
        arm_trim(t, g);
        return;
    }
    drop(st.graced.take());
    st.pool.clear();
}

pub(crate) fn kick(t: &Arc<TableInner>) {
    t.kick_pending.store(false, Ordering::Release);
    let mut st = t.state.lock();
    flush_retired(&mut st);
    let _ = birdloop::with_current(|g| arm_trim(t, g));
    if st.pushes == st.announced {
        return;
    }
    let batch = t.config.announce_batch;
    if t.config.settle_min.is_zero() || (batch > 0 && st.pushes - st.announced >= batch) {
        // A settle timer still armed finds nothing new, or what came since.
        announce(t, &mut st);
        cleanup(t, &mut st);
        return;
    }
    if st.settle.armed {
        return;
    }
    let now = t.now();
    st.settle = Settle { armed: true, first: Some(now), pushes_at_arm: st.pushes };
    let key = *t.settle_timer.get().expect("settle timer created with the table");
    let min = t.config.settle_min;
    birdloop::with_current(|g| g.set_timer_in(key, min)).expect("table kick runs in the service loop");
}

pub(crate) fn settle_fired(t: &Arc<TableInner>, g: &mut LoopGuard<'_>) {
    let mut st = t.state.lock();
    let now = g.now();
    let first = st.settle.first.unwrap_or(now);
    let deadline = first + t.config.settle_max;
    if st.pushes != st.settle.pushes_at_arm && now < deadline {
        // Still busy: wait for `settle_min` of quiet, but no longer than `settle_max` in total.
        st.settle.pushes_at_arm = st.pushes;
        let at = (now + t.config.settle_min).min(deadline);
        let key = *t.settle_timer.get().expect("settle timer created with the table");
        g.set_timer(key, at);
        return;
    }
    st.settle = Settle::default();
    announce(t, &mut st);
    cleanup(t, &mut st);
}

/// Activate every recipient with unread items.
pub(crate) fn announce(_t: &TableInner, st: &mut TableState) {
    st.announced = st.pushes;
    st.journal.announce();
}

pub(crate) fn cleanup_event(t: &Arc<TableInner>) {
    let mut st = t.state.lock();
    cleanup(t, &mut st);
}

/// Free what every recipient passed, and everything waiting for that.
pub(crate) fn cleanup(t: &TableInner, st: &mut TableState) {
    st.journal.cleanup();
    let first_live = st.journal.first_live().0;
    while let Some(&(seq, what)) = st.pending.front() {
        if seq >= first_live {
            break;
        }
        st.pending.pop_front();
        match what {
            Pending::RouteId(id) => st.route_ids.free(id),
            Pending::Net(id) => free_net_if_empty(t, st, id, first_live),
        }
    }
    // Importers whose last withdrawal every recipient passed.
    for i in 0..st.importers.len() {
        let done =
            matches!(&st.importers[i], Some(s) if matches!(s.state, ImpState::Waiting(f) if f < first_live));
        if done {
            let slot = st.importers[i].take().expect("checked above");
            st.importer_ids.free(i as u32);
            tracing::debug!(target: "bird::table", table = %t.name, importer = %slot.shared.name, "importer flushed");
            if let Some(cb) = slot.done {
                cb.activate();
            }
        }
    }
    if st.corked && st.journal.len() < t.config.cork_low {
        st.corked = false;
        t.cork.release();
    }
}

/// Drop an empty net (tombstone) whose last change every recipient passed.
fn free_net_if_empty(t: &TableInner, st: &mut TableState, id: NetId, first_live: u64) {
    let Some(slot) = t.nets.get(id.0) else { return };
    let Some(p) = NonNull::new(slot.load(Ordering::Relaxed)) else { return };
    let Some(l) = t.load(id) else { return };
    if !l.routes().is_empty() || l.seq() >= first_live {
        return;
    }
    let net = l.net();
    slot.store(std::ptr::null_mut(), Ordering::Release);
    st.retired.lists.push(RetiredList(p));
    st.index_remove(&net);
}

pub(crate) fn prune_event(t: &Arc<TableInner>) {
    loop {
        let mut st = t.state.lock();
        if st.prune.is_none() {
            let mut pass = PrunePass { cursor: 0, flush: Vec::new(), refresh: Vec::new() };
            for (i, s) in st.importers.iter_mut().enumerate() {
                let Some(s) = s else { continue };
                if s.state == ImpState::Flushing {
                    pass.flush.push(i as u16);
                } else if let Some(cycle) = s.refresh_end.take() {
                    pass.refresh.push((i as u16, cycle));
                }
            }
            if pass.flush.is_empty() && pass.refresh.is_empty() {
                return;
            }
            st.prune = Some(pass);
        }
        let Some(mut pass) = st.prune.take() else { return };
        let end = t.nets.len();
        let stop_at = pass.cursor.saturating_add(256).min(end);
        while pass.cursor < stop_at {
            let id = NetId(pass.cursor);
            pass.cursor += 1;
            let stale_sets: Vec<(u16, u8, u8)> = pass
                .refresh
                .iter()
                .filter_map(|&(i, c)| st.importers[usize::from(i)].as_ref().map(|s| (i, c, s.stale_set)))
                .collect();
            withdraw_matching(t, &mut st, id, |r| {
                let sender = r.sender().0;
                pass.flush.contains(&sender)
                    || stale_sets.iter().any(|&(i, cycle, set)| {
                        i == sender && r.stale_cycle().wrapping_sub(cycle) > set.wrapping_sub(cycle)
                    })
            });
        }
        if pass.cursor >= t.nets.len() {
            // Pass complete.
            let last = st.journal.next_seq().0 - 1;
            for &i in &pass.flush {
                if let Some(s) = st.importers[usize::from(i)].as_mut() {
                    s.state = ImpState::Waiting(last);
                }
            }
            announce(t, &mut st);
            cleanup(t, &mut st);
            flush_retired(&mut st);
            drop(st);
            let _ = birdloop::with_current(|g| arm_trim(t, g));
            continue;
        }
        st.prune = Some(pass);
        drop(st);
        t.kick();
        if birdloop::maybe_defer(&t.ev_prune) {
            return;
        }
    }
}
