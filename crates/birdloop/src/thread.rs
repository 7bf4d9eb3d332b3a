//! Threads: each runs many loops, sleeping in its own poller when none is active.
//!
//! Per iteration a thread (1) turns due mirrored timers into runnable loops, (2) balances (takes loops from its
//! group's pickup list, or drops some when busy), (3) moves remotely pinged loops onto its run list, (4) runs
//! every runnable loop once within its budget, (5) runs priority tasks (`sync_all`), (6) computes the poll
//! timeout, updates the busy hysteresis and sleeps in `poll`, then marks loops with ready sockets runnable.
//! Only loops that are runnable, due or have ready sockets are touched, so an iteration costs O(active loops).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use polling::{Events, Poller};
use slab::Slab;

use crate::balance::{dropped_enough, should_drop, take_count, BusyChange, BusyState};
use crate::group::GroupInner;
use crate::r#loop::{hook_done, set_current, LoopGuard, LoopInner, NO_TIMER, WORK_PER_RUN};
use crate::socket::{split_key, Ready};
use crate::stats::{LoopSnapshot, SpentTimeCell, ThreadSnapshot};
use crate::time::Time;

/// Events run per chunk before the loop re-checks timers and its budget.
const EVENTS_PER_CHUNK: usize = 64;

pub(crate) type PriorityTask = Box<dyn FnOnce(&mut ThreadCore) + Send>;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The part of a thread other threads see.
pub(crate) struct ThreadShared {
    pub(crate) id: u32,
    pub(crate) poller: Arc<Poller>,
    runq: Mutex<Vec<Arc<LoopInner>>>,
    priority: Mutex<Vec<PriorityTask>>,
    pub(crate) exit: AtomicBool,
    pub(crate) group: Arc<GroupInner>,
    pub(crate) busy: AtomicBool,
    pub(crate) busy_counter: AtomicU32,
    pub(crate) overhead: SpentTimeCell,
    pub(crate) idle: SpentTimeCell,
    pub(crate) last_transition: AtomicU64,
    pub(crate) loop_count: AtomicUsize,
}

impl fmt::Debug for ThreadShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread").field("id", &self.id).field("group", &self.group.name).finish()
    }
}

impl ThreadShared {
    pub(crate) fn new(id: u32, group: Arc<GroupInner>) -> std::io::Result<ThreadShared> {
        Ok(ThreadShared {
            id,
            poller: Arc::new(Poller::new()?),
            runq: Mutex::new(Vec::new()),
            priority: Mutex::new(Vec::new()),
            exit: AtomicBool::new(false),
            group,
            busy: AtomicBool::new(false),
            busy_counter: AtomicU32::new(0),
            overhead: SpentTimeCell::default(),
            idle: SpentTimeCell::default(),
            last_transition: AtomicU64::new(Time::now_monotonic().as_nanos()),
            loop_count: AtomicUsize::new(0),
        })
    }

    /// A pinger (holding PING) puts the loop on this thread's remote run queue.
    pub(crate) fn schedule_remote(&self, lp: &Arc<LoopInner>) {
        if lp.sched.claim_queue() {
            lock(&self.runq).push(Arc::clone(lp));
            self.kick();
        }
    }

    /// Wake the thread from `poll`.
    pub(crate) fn kick(&self) {
        if let Err(e) = self.poller.notify() {
            tracing::error!(target: "bird::loop::wakeup", thread = self.id, "poller notify failed: {e}");
        }
    }

    /// Queue a task to run on this thread between loop runs.
    pub(crate) fn push_priority(&self, task: PriorityTask) {
        lock(&self.priority).push(task);
        self.kick();
    }
}

struct LocalLoop {
    lp: Arc<LoopInner>,
    ready: Vec<(u32, Ready)>,
    stamp: u64,
}

/// What one iteration did.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IterOutcome {
    pub(crate) did_work: bool,
    pub(crate) exited: bool,
}

/// The thread-private part: its loops, run list, mirrored timers and poll buffer.
pub(crate) struct ThreadCore {
    pub(crate) shared: Arc<ThreadShared>,
    loops: Slab<LocalLoop>,
    run: VecDeque<Arc<LoopInner>>,
    timers: BinaryHeap<Reverse<(u64, usize, u64)>>,
    events: Events,
    busy: BusyState,
    last_iter: Time,
    stamp: u64,
    runq_buf: Vec<Arc<LoopInner>>,
    manual: bool,
}

impl fmt::Debug for ThreadCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadCore")
            .field("id", &self.shared.id)
            .field("loops", &self.loops.len())
            .field("runnable", &self.run.len())
            .finish()
    }
}

impl ThreadCore {
    pub(crate) fn new(shared: Arc<ThreadShared>, manual: bool) -> ThreadCore {
        ThreadCore {
            shared,
            loops: Slab::new(),
            run: VecDeque::new(),
            timers: BinaryHeap::new(),
            events: Events::new(),
            busy: BusyState::default(),
            last_iter: Time::ZERO,
            stamp: 0,
            runq_buf: Vec::new(),
            manual,
        }
    }

    fn me(&self) -> *mut ThreadShared {
        Arc::as_ptr(&self.shared).cast_mut()
    }

    fn owns(&self, lp: &LoopInner) -> bool {
        lp.thread.load(Ordering::Acquire) == self.me()
    }

    fn schedule_local(&mut self, lp: &Arc<LoopInner>) {
        if lp.sched.claim_queue() {
            self.run.push_back(Arc::clone(lp));
        }
    }

    /// Number of loops on this thread.
    pub(crate) fn loop_count(&self) -> usize {
        self.loops.len()
    }

    /// Whether the thread is marked busy.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.active
    }

    /// The earliest mirrored timer (may be stale: then it only causes an early wakeup).
    pub(crate) fn next_timer(&self) -> Option<Time> {
        self.timers.peek().map(|Reverse((t, _, _))| Time::from_nanos(*t))
    }

    /// Whether nothing is runnable or pending on this thread right now.
    pub(crate) fn is_idle(&self) -> bool {
        self.run.is_empty() && lock(&self.shared.runq).is_empty() && lock(&self.shared.priority).is_empty()
    }

    pub(crate) fn snapshot(&self) -> ThreadSnapshot {
        let now = Time::now_monotonic();
        ThreadSnapshot {
            id: self.shared.id,
            busy: self.busy.active,
            busy_counter: self.busy.counter,
            loops: self.loops.iter().map(|(_, l)| loop_snapshot(&l.lp, now)).collect(),
            overhead: self.shared.overhead.snapshot(now),
            idle: self.shared.idle.snapshot(now),
            since_pickup_drop: now
                .saturating_since(Time::from_nanos(self.shared.last_transition.load(Ordering::Relaxed))),
        }
    }

    /// One iteration. `block`: whether `poll` may sleep (false in deterministic mode).
    pub(crate) fn iterate(&mut self, block: bool) -> IterOutcome {
        let t_start = Time::now_monotonic();
        let group = Arc::clone(&self.shared.group);
        if self.shared.exit.load(Ordering::Acquire) {
            self.exit_thread();
            return IterOutcome { did_work: true, exited: true };
        }
        let params = group.params();
        let mut did = false;

        did |= self.fire_thread_timers(group.clock.now());
        did |= self.balance(&group, t_start);
        self.last_iter = t_start;
        did |= self.drain_runq();

        let mut working = 0u64;
        let n = self.run.len();
        let round_start = Time::now_monotonic();
        for _ in 0..n {
            let Some(lp) = self.run.pop_front() else { break };
            if !self.owns(&lp) {
                continue;
            }
            let spent = Time::now_monotonic().saturating_since(round_start);
            let budget = params.loop_budget(spent, self.run.len() + 1);
            working += self.run_loop(lp, budget);
            did = true;
        }

        did |= self.run_priority();

        // Poll timeout: zero with work pending, else the next mirrored timer, else the wakeup time.
        let pending = !self.run.is_empty() || !lock(&self.shared.runq).is_empty();
        let natural = if pending {
            Some(Duration::ZERO)
        } else if group.clock.is_virtual() {
            None
        } else {
            self.next_timer().map(|t| t.saturating_since(group.clock.now()))
        };
        let mut timeout = natural.map_or(params.wakeup_time, |t| t.min(params.wakeup_time));
        if !self.manual {
            match self.busy.update(natural, &group.balancer) {
                BusyChange::BecameBusy => {
                    group.busy_threads.fetch_add(1, Ordering::AcqRel);
                }
                BusyChange::BecameIdle => {
                    group.busy_threads.fetch_sub(1, Ordering::AcqRel);
                }
                BusyChange::None => {}
            }
            self.shared.busy.store(self.busy.active, Ordering::Relaxed);
            self.shared.busy_counter.store(self.busy.counter, Ordering::Relaxed);
            if group.unassigned.load(Ordering::Acquire) > 0 && !self.busy.active {
                timeout = Duration::ZERO;
            }
        }
        if !block {
            timeout = Duration::ZERO;
        }

        if !timeout.is_zero() {
            birdrcu::flush();
        }
        let t_poll = Time::now_monotonic();
        if let Err(e) = self.shared.poller.wait(&mut self.events, Some(timeout)) {
            tracing::error!(target: "bird::loop::wakeup", thread = self.shared.id, "poll failed: {e}");
        }
        let t_woke = Time::now_monotonic();
        let idle = t_woke.as_nanos().saturating_sub(t_poll.as_nanos());
        self.shared.idle.add(t_woke, idle);
        let mut ready_slots = Vec::new();
        for ev in self.events.iter() {
            let (slot, idx) = split_key(ev.key);
            if let Some(ll) = self.loops.get_mut(slot) {
                ll.ready.push((idx, Ready { readable: ev.readable, writable: ev.writable }));
                ready_slots.push(slot);
            }
        }
        self.events.clear();
        for slot in ready_slots {
            let lp = Arc::clone(&self.loops[slot].lp);
            self.schedule_local(&lp);
            did = true;
        }
        let t_end = Time::now_monotonic();
        let total = t_end.as_nanos().saturating_sub(t_start.as_nanos());
        self.shared.overhead.add(t_end, total.saturating_sub(working).saturating_sub(idle));
        IterOutcome { did_work: did, exited: false }
    }

    fn fire_thread_timers(&mut self, now: Time) -> bool {
        let mut did = false;
        while let Some(&Reverse((t, slot, stamp))) = self.timers.peek() {
            if t > now.as_nanos() {
                break;
            }
            self.timers.pop();
            let due = self
                .loops
                .get(slot)
                .filter(|l| l.stamp == stamp && l.lp.mirror.load(Ordering::Relaxed) == t)
                .map(|l| Arc::clone(&l.lp));
            if let Some(lp) = due {
                self.schedule_local(&lp);
                did = true;
            }
        }
        // Stale entries pile up when loops re-arm earlier timers; rebuild from the live mirrors now and then.
        if self.timers.len() > 2 * self.loops.len() + 1024 {
            let live = self.loops.iter().filter_map(|(slot, l)| {
                let t = l.lp.mirror.load(Ordering::Relaxed);
                (t != NO_TIMER).then_some(Reverse((t, slot, l.stamp)))
            });
            self.timers = live.collect();
        }
        did
    }

    fn mirror(&mut self, slot: usize, lp: &LoopInner, first: Option<Time>) {
        let new = first.map_or(NO_TIMER, Time::as_nanos);
        let old = lp.mirror.swap(new, Ordering::Relaxed);
        if new != old && new != NO_TIMER {
            if let Some(l) = self.loops.get(slot) {
                self.timers.push(Reverse((new, slot, l.stamp)));
            }
        }
    }

    fn drain_runq(&mut self) -> bool {
        std::mem::swap(&mut *lock(&self.shared.runq), &mut self.runq_buf);
        let did = !self.runq_buf.is_empty();
        let mut buf = std::mem::take(&mut self.runq_buf);
        for lp in buf.drain(..) {
            // Entries left behind by a move are stale; the mover scheduled the loop where it went.
            if self.owns(&lp) {
                self.run.push_back(lp);
            }
        }
        self.runq_buf = buf;
        did
    }

    fn run_priority(&mut self) -> bool {
        let tasks = std::mem::take(&mut *lock(&self.shared.priority));
        let did = !tasks.is_empty();
        for t in tasks {
            t(self);
            hook_done();
        }
        did
    }

    /// Run one loop for up to `budget`. Returns the nanoseconds spent working in it.
    fn run_loop(&mut self, lp: Arc<LoopInner>, budget: Duration) -> u64 {
        let t0 = Time::now_monotonic();
        let dg = lp.domain.lock();
        let t1 = Time::now_monotonic();
        lp.locking.add(t1, t1.as_nanos().saturating_sub(t0.as_nanos()));
        lp.sched.run_begin();
        let slot = lp.slot.load(Ordering::Relaxed);
        set_current(Some(&lp), Some(t1 + budget));
        let mut g = LoopGuard::inside(&lp);

        let target = lp.group_of(&g);
        if !Arc::ptr_eq(&target, &self.shared.group) {
            drop(g);
            set_current(None, None);
            self.detach_locked(slot, &lp);
            drop(dg);
            target.push_pickup(vec![lp], None);
            return 0;
        }
        if lp.stop_requested.load(Ordering::Acquire) {
            self.stop_loop(slot, &lp, g);
            set_current(None, None);
            lp.stopped.store(true, Ordering::Release);
            drop(dg);
            let t2 = Time::now_monotonic();
            lp.working.add(t2, t2.as_nanos().saturating_sub(t1.as_nanos()));
            if let Some(cb) = lp.take_stop_callback() {
                cb.activate();
            }
            return t2.as_nanos().saturating_sub(t1.as_nanos());
        }

        let ready = self.loops.get_mut(slot).map(|l| std::mem::take(&mut l.ready)).unwrap_or_default();
        for (idx, r) in ready {
            g.dispatch_socket(idx, r);
        }
        let mut more;
        loop {
            g.fire_timers(lp.clock.now());
            // One event per `run` call, so every event hook is followed by `hook_done` (RCU check, tmp reset).
            let mut n = 0;
            loop {
                more = lp.events.run(1);
                hook_done();
                n += 1;
                if !more || n >= EVENTS_PER_CHUNK {
                    break;
                }
            }
            if !more || !crate::r#loop::task_still_in_limit() {
                break;
            }
        }
        let mut work_more = false;
        for _ in 0..WORK_PER_RUN {
            if !crate::r#loop::task_still_in_limit() {
                work_more = !lp.work.is_empty();
                break;
            }
            work_more = lp.work.run(1);
            hook_done();
            if !work_more {
                break;
            }
        }
        let first = {
            let mut st = g.st();
            st.timers_dirty = false;
            st.timers.first()
        };
        drop(g);
        set_current(None, None);
        let self_ping = lp.self_ping.swap(false, Ordering::Relaxed);
        let has_work = self_ping
            || more
            || work_more
            || !lp.events.is_empty()
            || !lp.work.is_empty()
            || first.is_some_and(|t| t <= lp.clock.now());
        drop(dg);
        let t2 = Time::now_monotonic();
        let spent = t2.as_nanos().saturating_sub(t1.as_nanos());
        lp.working.add(t2, spent);
        self.mirror(slot, &lp, first);
        if has_work {
            self.schedule_local(&lp);
        }
        spent
    }

    /// Stop a loop (its domain held): block pings, run what is queued, drop timers and sockets, leave.
    fn stop_loop(&mut self, slot: usize, lp: &Arc<LoopInner>, mut g: LoopGuard<'_>) {
        lp.sched.block();
        let mut rounds = 0;
        while (lp.events.run(birdevent::EventList::UNLIMITED) | lp.work.run(birdevent::EventList::UNLIMITED))
            && rounds < 1000
        {
            rounds += 1;
        }
        g.clear_all();
        drop(g);
        lp.thread.store(std::ptr::null_mut(), Ordering::Release);
        lp.mirror.store(NO_TIMER, Ordering::Relaxed);
        lp.slot.store(usize::MAX, Ordering::Relaxed);
        if self.loops.get(slot).is_some_and(|l| Arc::ptr_eq(&l.lp, lp)) {
            self.loops.remove(slot);
        }
        self.run.retain(|x| !Arc::ptr_eq(x, lp));
        self.shared.loop_count.store(self.loops.len(), Ordering::Relaxed);
        self.shared.group.loop_count.fetch_sub(1, Ordering::AcqRel);
    }

    /// Take a loop from a pickup list onto this thread.
    pub(crate) fn attach(&mut self, lp: Arc<LoopInner>) {
        let dg = lp.domain.lock();
        lp.sched.move_begin();
        self.stamp += 1;
        let slot = self.loops.insert(LocalLoop { lp: Arc::clone(&lp), ready: Vec::new(), stamp: self.stamp });
        lp.slot.store(slot, Ordering::Relaxed);
        lp.mirror.store(NO_TIMER, Ordering::Relaxed);
        lp.last_move.store(Time::now_monotonic().as_nanos(), Ordering::Relaxed);
        lp.thread.store(self.me(), Ordering::Release);
        {
            let mut g = LoopGuard::inside(&lp);
            g.sync_all_sockets(Some(&self.shared.poller), slot);
        }
        lp.sched.reset_queued();
        lp.sched.move_end();
        drop(dg);
        self.shared.loop_count.store(self.loops.len(), Ordering::Relaxed);
        // Pingers that backed off during the move rely on this run.
        self.schedule_local(&lp);
    }

    /// Release a loop from this thread (its domain held by the caller).
    fn detach_locked(&mut self, slot: usize, lp: &Arc<LoopInner>) {
        lp.sched.move_begin();
        {
            let mut g = LoopGuard::inside(lp);
            g.sync_all_sockets(None, slot);
        }
        lp.thread.store(std::ptr::null_mut(), Ordering::Release);
        lp.sched.reset_queued();
        lp.mirror.store(NO_TIMER, Ordering::Relaxed);
        lp.slot.store(usize::MAX, Ordering::Relaxed);
        lp.last_move.store(Time::now_monotonic().as_nanos(), Ordering::Relaxed);
        if self.loops.get(slot).is_some_and(|l| Arc::ptr_eq(&l.lp, lp)) {
            let ready = self.loops.remove(slot).ready;
            drop(ready);
        }
        lp.sched.move_end();
        self.run.retain(|x| !Arc::ptr_eq(x, lp));
        self.shared.loop_count.store(self.loops.len(), Ordering::Relaxed);
    }

    fn detach(&mut self, slot: usize) -> Arc<LoopInner> {
        let lp = Arc::clone(&self.loops[slot].lp);
        let dg = lp.domain.lock();
        self.detach_locked(slot, &lp);
        drop(dg);
        lp
    }

    fn balance(&mut self, group: &Arc<GroupInner>, now: Time) -> bool {
        let mut did = false;
        let bp = group.balancer;
        let unassigned = group.unassigned.load(Ordering::Acquire);
        if unassigned > 0 {
            let threads = group.thread_count();
            let busy = group.busy_threads.load(Ordering::Acquire);
            if self.manual || !self.busy.active || busy >= threads {
                let recent = now.saturating_since(self.last_iter) < bp.recent_iteration;
                let n = if self.manual { unassigned } else { take_count(unassigned, threads, busy, recent) };
                for lp in group.take_loops(n) {
                    self.attach(lp);
                    did = true;
                }
                if did {
                    self.shared.last_transition.store(now.as_nanos(), Ordering::Relaxed);
                }
            }
        }
        if self.manual || !self.busy.active {
            return did;
        }
        let threads = group.thread_count();
        let busy = group.busy_threads.load(Ordering::Acquire);
        let head_hot = group.pickup_head_hot(now, bp.hot_potato);
        if !should_drop(true, threads, busy, self.loops.len(), head_hot) {
            return did;
        }
        let mut remaining = self.loops.len();
        let candidates: Vec<Arc<LoopInner>> = self.run.iter().cloned().collect();
        let mut dropped = Vec::new();
        for lp in candidates {
            if dropped_enough(dropped.len(), remaining) {
                break;
            }
            let moved = Time::from_nanos(lp.last_move.load(Ordering::Relaxed));
            if !self.owns(&lp)
                || lp.stop_requested.load(Ordering::Acquire)
                || now.saturating_since(moved) < bp.hot_potato
            {
                continue;
            }
            let slot = lp.slot.load(Ordering::Relaxed);
            dropped.push(self.detach(slot));
            remaining -= 1;
        }
        if dropped.is_empty() {
            self.busy = BusyState::default();
            self.shared.busy.store(false, Ordering::Relaxed);
            group.busy_threads.fetch_sub(1, Ordering::AcqRel);
        } else {
            tracing::debug!(target: "bird::loop::scheduling", thread = self.shared.id, n = dropped.len(), "dropping loops");
            group.push_pickup(dropped, Some(&self.shared));
            self.shared.last_transition.store(now.as_nanos(), Ordering::Relaxed);
            did = true;
        }
        did
    }

    fn exit_thread(&mut self) {
        let group = Arc::clone(&self.shared.group);
        group.remove_thread(&self.shared, self.busy.active);
        self.run_priority();
        let slots: Vec<usize> = self.loops.iter().map(|(k, _)| k).collect();
        let dropped: Vec<_> = slots.into_iter().map(|s| self.detach(s)).collect();
        lock(&self.shared.runq).clear();
        if !dropped.is_empty() {
            group.push_pickup(dropped, None);
        }
        birdrcu::flush();
    }
}

pub(crate) fn loop_snapshot(lp: &LoopInner, now: Time) -> LoopSnapshot {
    LoopSnapshot {
        name: lp.name.to_string(),
        working: lp.working.snapshot(now),
        locking: lp.locking.snapshot(now),
    }
}

/// What a [`sync_all`](crate::sync_all) hook learns about the thread it runs on.
pub struct ThreadInfo<'a> {
    pub(crate) core: &'a ThreadCore,
}

impl fmt::Debug for ThreadInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}

impl ThreadInfo<'_> {
    /// The thread's dense id.
    pub fn id(&self) -> u32 {
        self.core.shared.id
    }
    /// Its group's name.
    pub fn group(&self) -> &str {
        &self.core.shared.group.name
    }
    pub(crate) fn group_id(&self) -> usize {
        Arc::as_ptr(&self.core.shared.group) as usize
    }
    /// Whether the balancer marked it busy.
    pub fn is_busy(&self) -> bool {
        self.core.is_busy()
    }
    /// Loops assigned to it.
    pub fn loop_count(&self) -> usize {
        self.core.loop_count()
    }
    /// Its `show threads` entry.
    pub fn snapshot(&self) -> ThreadSnapshot {
        self.core.snapshot()
    }
}

/// The main function of a group's OS thread.
pub(crate) fn thread_main(shared: Arc<ThreadShared>) {
    let mut core = ThreadCore::new(shared, false);
    tracing::debug!(target: "bird::loop::scheduling", thread = core.shared.id, group = %core.shared.group.name, "thread started");
    while !core.iterate(true).exited {}
    tracing::debug!(target: "bird::loop::scheduling", thread = core.shared.id, "thread exited");
    crate::group::free_thread_id(core.shared.id);
}
