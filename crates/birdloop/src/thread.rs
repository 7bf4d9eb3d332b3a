//! Threads: each runs many loops, sleeping in its own poller when none is active.
//!
//! Per iteration a thread (1) turns due mirrored timers into runnable loops, (2) balances (takes loops from its
//! group's pickup list, or drops some when busy), (3) moves remotely pinged loops onto its run list, (4) runs
//! every runnable loop once within its budget, (5) runs priority tasks (`sync_all`), (6) computes the poll
//! timeout, updates the busy hysteresis and sleeps in `poll`, then marks loops with ready sockets runnable.
//! Only loops that are runnable, due or have ready sockets are touched, so an iteration costs O(active loops).
//!
//! # Run queue and slices
//!
//! The run list has two parts: `fresh` (loops woken by a ping, a timer or a socket) and `run` (loops that ran
//! and still have work). A round runs every loop that was on the list when it started, fresh ones first.
//! Between two loop runs the thread looks at its remote run queue: a loop pinged meanwhile that has not run
//! in this round joins the round at the end of `fresh` (ahead of the loops that already ran), so every loop
//! runs at most once per round and a round stays finite. A loop alone on its thread runs for its whole budget;
//! while others wait (see [`Slice`](crate::r#loop::Slice)) it yields at `min time`, so a pinged loop waits
//! about `min time` behind busy loops instead of their whole budgets.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use polling::{Events, Poller};
use slab::Slab;

use crate::balance::{dropped_enough, should_drop, take_count, BusyChange, BusyState};
use crate::group::GroupInner;
use crate::params::ThreadParams;
use crate::r#loop::{hook_done, set_current, LoopGuard, LoopInner, Slice, NO_TIMER, WORK_PER_RUN};
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
    /// Raised when a loop other than the running one is queued here from outside, or a priority task is:
    /// the running loop's slice ends at `min time`. Cleared by the thread when it drains both queues.
    pub(crate) waiting: Arc<AtomicBool>,
    /// The loop this thread is running (null: none), so that pinging the running loop does not cut it short.
    running: AtomicPtr<LoopInner>,
    /// Working and locking time of loops that stopped on this thread (ns).
    pub(crate) stopped_ns: AtomicU64,
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
            waiting: Arc::new(AtomicBool::new(false)),
            running: AtomicPtr::new(std::ptr::null_mut()),
            stopped_ns: AtomicU64::new(0),
        })
    }

    /// A pinger (holding PING) puts the loop on this thread's remote run queue.
    pub(crate) fn schedule_remote(&self, lp: &Arc<LoopInner>) {
        if lp.sched.claim_queue() {
            lp.queued_at.store(Time::now_monotonic().as_nanos(), Ordering::Relaxed);
            lock(&self.runq).push(Arc::clone(lp));
            // After the push: a thread that clears the flag and then drains sees this loop, or the flag stays up.
            if !std::ptr::eq(self.running.load(Ordering::Relaxed), Arc::as_ptr(lp)) {
                self.waiting.store(true, Ordering::Release);
            }
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
        self.waiting.store(true, Ordering::Release);
        self.kick();
    }
}

struct LocalLoop {
    lp: Arc<LoopInner>,
    ready: Vec<(u32, Ready)>,
    stamp: u64,
    /// The last round in which the loop ran.
    ran_round: u64,
    /// Whether its last run ended with nothing left to do (it is interactive, not a hog).
    went_idle: bool,
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
    /// Woken loops (ping, timer, socket, pickup), run first.
    fresh: VecDeque<Arc<LoopInner>>,
    /// Loops that ran and still have work.
    run: VecDeque<Arc<LoopInner>>,
    round: u64,
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
            .field("runnable", &(self.fresh.len() + self.run.len()))
            .finish()
    }
}

impl ThreadCore {
    pub(crate) fn new(shared: Arc<ThreadShared>, manual: bool) -> ThreadCore {
        ThreadCore {
            shared,
            loops: Slab::new(),
            fresh: VecDeque::new(),
            run: VecDeque::new(),
            round: 0,
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

    /// Queue a woken loop (timer, socket, pickup).
    fn schedule_local(&mut self, lp: &Arc<LoopInner>) {
        if lp.sched.claim_queue() {
            lp.queued_at.store(Time::now_monotonic().as_nanos(), Ordering::Relaxed);
            self.fresh.push_back(Arc::clone(lp));
        }
    }

    /// Queue a loop that just ran and still has work, behind everything else.
    fn requeue(&mut self, lp: &Arc<LoopInner>, now: Time) {
        if lp.sched.claim_queue() {
            lp.queued_at.store(now.as_nanos(), Ordering::Relaxed);
            self.run.push_back(Arc::clone(lp));
        }
    }

    fn runnable(&self) -> usize {
        self.fresh.len() + self.run.len()
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
        self.runnable() == 0 && lock(&self.shared.runq).is_empty() && lock(&self.shared.priority).is_empty()
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
            stopped_loops: Duration::from_nanos(self.shared.stopped_ns.load(Ordering::Relaxed)),
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
        self.shared.waiting.store(false, Ordering::Release);
        did |= self.drain_runq(false, true) > 0;

        // One round: every loop queued now runs once, plus the loops pinged during the round that have not run
        // in it yet (they join at the end of `fresh`); loops re-queued after their run wait for the next round.
        let mut working = 0u64;
        self.round += 1;
        let mut left = self.runnable();
        let round_start = Time::now_monotonic();
        while left > 0 {
            if self.shared.waiting.swap(false, Ordering::AcqRel) {
                // Loops that ran in this round may join it again while it is within half the latency target.
                let rejoin = Time::now_monotonic().saturating_since(round_start) < params.max_latency / 2;
                left += self.drain_runq(true, rejoin);
                did |= self.run_priority();
            }
            let Some(lp) = self.fresh.pop_front().or_else(|| self.run.pop_front()) else { break };
            left -= 1;
            if !self.owns(&lp) {
                continue;
            }
            let now = Time::now_monotonic();
            let others = self.runnable();
            let budget = params.loop_budget(now.saturating_since(round_start), others + 1);
            let slot = lp.slot.load(Ordering::Relaxed);
            let contended_at = if others > 0 { 0 } else { self.other_timer_due(slot, &group) };
            if let Some(l) = self.loops.get_mut(slot) {
                l.ran_round = self.round;
            }
            working += self.run_loop(lp, budget, contended_at, &params);
            did = true;
        }

        did |= self.run_priority();

        // Poll timeout: zero with work pending, else the next mirrored timer, else the wakeup time.
        let pending = self.runnable() > 0 || !lock(&self.shared.runq).is_empty();
        let natural = if pending {
            Some(Duration::ZERO)
        } else if group.clock.is_virtual() {
            None
        } else {
            self.next_timer().map(|t| t.saturating_since(group.clock.now()))
        };
        let mut timeout = natural.map_or(params.wakeup_time, |t| t.min(params.wakeup_time));
        if !self.manual {
            match self.busy.update(natural, Time::now_monotonic(), &group.balancer) {
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

        // Worker threads flush between tasks, every iteration: a thread that never sleeps must still hand
        // its deferred frees (retired route lists, journal blocks) on and run the ready ones, or memory
        // grows with the load. The deterministic driver flushes only before it would sleep; its tests
        // let grace periods pass explicitly.
        if !self.manual || !timeout.is_zero() {
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

    /// When the earliest timer of another loop of this thread is due (real-clock ns; `u64::MAX`: none). Stale
    /// heap entries met on the way are dropped, so they cannot cut a lone loop's slice short.
    fn other_timer_due(&mut self, slot: usize, group: &GroupInner) -> u64 {
        if group.clock.is_virtual() {
            return u64::MAX;
        }
        let mut own = None;
        let mut due = u64::MAX;
        while let Some(&Reverse((t, s, stamp))) = self.timers.peek() {
            let live = self
                .loops
                .get(s)
                .is_some_and(|l| l.stamp == stamp && l.lp.mirror.load(Ordering::Relaxed) == t);
            if !live {
                self.timers.pop();
            } else if s == slot {
                // This loop's own entry (a duplicate of it, if any, goes).
                let e = self.timers.pop();
                own = own.or(e);
            } else {
                due = t;
                break;
            }
        }
        if let Some(e) = own {
            self.timers.push(e);
        }
        due
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

    /// Move remotely pinged loops to the run list: at the end of `fresh`, joining the current round. Between
    /// the runs of a round (`mid_round`), a loop that already ran in this round joins again only if its last
    /// run used up its work (it is interactive: pinged, ran briefly, went idle) and `rejoin` allows it (the
    /// round is young); otherwise it goes behind everything, to the next round. So a loop whose last run ended
    /// with work left runs once per round, and a round ends. Returns how many joined.
    fn drain_runq(&mut self, mid_round: bool, rejoin: bool) -> usize {
        std::mem::swap(&mut *lock(&self.shared.runq), &mut self.runq_buf);
        let mut joined = 0;
        let mut buf = std::mem::take(&mut self.runq_buf);
        for lp in buf.drain(..) {
            // Entries left behind by a move are stale; the mover scheduled the loop where it went.
            if !self.owns(&lp) {
                continue;
            }
            let again = self
                .loops
                .get(lp.slot.load(Ordering::Relaxed))
                .is_some_and(|l| l.ran_round == self.round && !(rejoin && l.went_idle));
            if mid_round && again {
                self.run.push_back(lp);
            } else {
                self.fresh.push_back(lp);
                joined += 1;
            }
        }
        self.runq_buf = buf;
        joined
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

    /// Run one loop for up to `budget` (cut to `min time` when others wait from `contended_at` on, see
    /// [`Slice`]). Returns the nanoseconds spent working in it.
    fn run_loop(
        &mut self,
        lp: Arc<LoopInner>,
        budget: Duration,
        contended_at: u64,
        params: &ThreadParams,
    ) -> u64 {
        let t0 = Time::now_monotonic();
        let waited = t0.saturating_since(Time::from_nanos(lp.queued_at.load(Ordering::Relaxed)));
        // A deterministic group runs its loops when its driver says so: waiting there is no latency.
        if !self.manual && waited > params.max_latency.saturating_add(params.latency_limit) {
            tracing::warn!(
                target: "bird::loop::scheduling",
                loop_name = %lp.name,
                thread = self.shared.id,
                "loop {} started {} us after it became runnable (max latency {} us, limit {} us)",
                lp.name,
                waited.as_micros(),
                params.max_latency.as_micros(),
                params.latency_limit.as_micros()
            );
        }
        let dg = lp.domain.lock();
        lp.sched.run_begin();
        let t1 = Time::now_monotonic();
        let locked = t1.saturating_since(t0);
        lp.locking.add(t1, locked.as_nanos().try_into().unwrap_or(u64::MAX));
        if locked > budget.saturating_add(params.latency_limit) {
            tracing::warn!(
                target: "bird::loop::scheduling",
                loop_name = %lp.name,
                thread = self.shared.id,
                "loop {} locked {} us after its scheduled start, past its budget of {} us (limit {} us)",
                lp.name,
                locked.as_micros(),
                budget.as_micros(),
                params.latency_limit.as_micros()
            );
        }
        let slot = lp.slot.load(Ordering::Relaxed);
        self.shared.running.store(Arc::as_ptr(&lp).cast_mut(), Ordering::Relaxed);
        let slice = Slice {
            deadline: t1 + budget,
            preempt: t1 + budget.min(params.min_time),
            contended_at,
            waiting: Arc::clone(&self.shared.waiting),
        };
        set_current(Some(&lp), Some(slice));
        let mut g = LoopGuard::inside(&lp);

        let target = lp.group_of(&g);
        if !Arc::ptr_eq(&target, &self.shared.group) {
            drop(g);
            self.leave_current();
            self.detach_locked(slot, &lp);
            drop(dg);
            target.adopt(&self.shared.group, lp);
            return 0;
        }
        if lp.stop_requested.load(Ordering::Acquire) {
            self.stop_loop(slot, &lp, g);
            self.leave_current();
            lp.stopped.store(true, Ordering::Release);
            drop(dg);
            let t2 = Time::now_monotonic();
            lp.working.add(t2, t2.as_nanos().saturating_sub(t1.as_nanos()));
            let total = lp.working.total_ns().saturating_add(lp.locking.total_ns());
            self.shared.stopped_ns.fetch_add(total, Ordering::Relaxed);
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
            // Every event hook is followed by `hook_done` (RCU check, temporary allocations reset).
            more = lp.events.run_with(EVENTS_PER_CHUNK, hook_done);
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
        self.leave_current();
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
        if let Some(l) = self.loops.get_mut(slot) {
            l.went_idle = !has_work;
        }
        if has_work {
            self.requeue(&lp, t2);
        }
        spent
    }

    fn leave_current(&self) {
        set_current(None, None);
        self.shared.running.store(std::ptr::null_mut(), Ordering::Relaxed);
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
        self.fresh.retain(|x| !Arc::ptr_eq(x, lp));
        self.run.retain(|x| !Arc::ptr_eq(x, lp));
        self.shared.loop_count.store(self.loops.len(), Ordering::Relaxed);
        self.shared.group.loop_count.fetch_sub(1, Ordering::AcqRel);
    }

    /// Take a loop from a pickup list onto this thread. A loop transferred to another group meanwhile goes to
    /// that group's pickup list instead; returns whether the loop stayed here.
    pub(crate) fn attach(&mut self, lp: Arc<LoopInner>) -> bool {
        let dg = lp.domain.lock();
        let target = lp.group_of(&LoopGuard::inside(&lp));
        if !Arc::ptr_eq(&target, &self.shared.group) {
            drop(dg);
            target.adopt(&self.shared.group, lp);
            return false;
        }
        lp.sched.move_begin();
        self.stamp += 1;
        let slot = self.loops.insert(LocalLoop {
            lp: Arc::clone(&lp),
            ready: Vec::new(),
            stamp: self.stamp,
            ran_round: 0,
            went_idle: true,
        });
        lp.slot.store(slot, Ordering::Relaxed);
        lp.mirror.store(NO_TIMER, Ordering::Relaxed);
        // The first placement is not a move (see `BalancerParams::hot_potato`); a detach stamps the loop.
        if lp.last_move.load(Ordering::Relaxed) != 0 {
            lp.last_move.store(Time::now_monotonic().as_nanos(), Ordering::Relaxed);
        }
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
        true
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
        self.fresh.retain(|x| !Arc::ptr_eq(x, lp));
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
        let candidates: Vec<Arc<LoopInner>> = self.fresh.iter().chain(self.run.iter()).cloned().collect();
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
        // The time of loops that stopped here stays in the group's account.
        group.stopped_ns.fetch_add(self.shared.stopped_ns.swap(0, Ordering::Relaxed), Ordering::Relaxed);
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
