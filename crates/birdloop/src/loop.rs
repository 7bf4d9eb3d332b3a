//! Loops: a domain, two event lists, a timer heap and a socket table, run by one thread at a time.

use std::any::Any;
use std::cell::{Cell, RefCell, RefMut};
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use birdevent::{Callback, Event, EventList, Wake};
use birdrcu::{DomainGuard, DomainRef, DynDomain, LevelId};
use slab::Slab;

use crate::group::{GroupInner, ThreadGroup};
use crate::ping::{PingOutcome, SchedWord};
use crate::socket::{poll_key, ErasedSock, Interest, Ready, SockKey, SockSlot, Typed};
use crate::stats::SpentTimeCell;
use crate::thread::ThreadShared;
use crate::time::{Clock, Time};
use crate::timer::{TimerHeap, TimerKey};

/// Work events run per loop run (each may re-send itself).
pub(crate) const WORK_PER_RUN: usize = 16;

pub(crate) type TimerHook = Box<dyn FnMut(&mut LoopGuard<'_>, TimerKey) + Send>;

/// Value of `mirror` meaning "no timer armed".
pub(crate) const NO_TIMER: u64 = u64::MAX;

/// The state only the holder of the loop's domain touches.
pub(crate) struct LoopState {
    pub(crate) timers: TimerHeap<TimerHook>,
    pub(crate) sockets: Slab<SockSlot>,
    sock_gen: u32,
    pub(crate) group: Arc<GroupInner>,
    /// The first timer changed while entered from outside the run: the owning thread must re-mirror it.
    pub(crate) timers_dirty: bool,
}

/// A cell whose content is reachable only through a [`LoopGuard`] of its loop.
struct Locked<T>(RefCell<T>);

// SAFETY: the RefCell is only borrowed through `LoopGuard::st`, and a `LoopGuard` exists only on a thread that
// holds the loop's domain (it is `!Send`, and built only by `enter()`, which locks the domain, or by the
// scheduler while it holds the domain). The domain's mutex serializes those threads and orders their accesses;
// borrows never outlive the method that took them. `T: Send` because the value moves between those threads.
unsafe impl<T: Send> Sync for Locked<T> {}

pub(crate) struct LoopInner {
    pub(crate) name: Arc<str>,
    pub(crate) domain: DynDomain<()>,
    state: Locked<LoopState>,
    pub(crate) events: Arc<EventList>,
    pub(crate) work: Arc<EventList>,
    pub(crate) sched: SchedWord,
    /// The thread running this loop (null: in a pickup list, or stopped). Written only by a mover holding
    /// `MOVE` and the domain; read by pingers holding `PING` (see `ping`).
    pub(crate) thread: AtomicPtr<ThreadShared>,
    pub(crate) clock: Clock,
    pub(crate) stop_requested: AtomicBool,
    pub(crate) stopped: AtomicBool,
    stop_cb: Mutex<Option<Callback>>,
    /// Pinged from inside its own run: run again.
    pub(crate) self_ping: AtomicBool,
    /// Owner-thread bookkeeping: slot in the owner's loop table, mirrored first timer, last move.
    pub(crate) slot: AtomicUsize,
    pub(crate) mirror: AtomicU64,
    pub(crate) last_move: AtomicU64,
    /// When the loop was last put on a run queue (real-clock ns), for the latency warning.
    pub(crate) queued_at: AtomicU64,
    pub(crate) working: SpentTimeCell,
    pub(crate) locking: SpentTimeCell,
}

impl fmt::Debug for LoopInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loop").field("name", &self.name).field("level", &self.domain.level()).finish()
    }
}

struct LoopWaker(Weak<LoopInner>);

impl Wake for LoopWaker {
    fn wake(&self) {
        if let Some(lp) = self.0.upgrade() {
            lp.ping();
        }
    }
}

thread_local! {
    /// The loop this thread's scheduler is running (null: none).
    static CURRENT_PTR: Cell<*const LoopInner> = const { Cell::new(std::ptr::null()) };
    static CURRENT: RefCell<Option<Arc<LoopInner>>> = const { RefCell::new(None) };
    /// The current task's slice: (deadline, preempt, contended_at), real-clock ns; `u64::MAX` deadline = none.
    static TASK_SLICE: Cell<(u64, u64, u64)> = const { Cell::new((u64::MAX, u64::MAX, u64::MAX)) };
    /// The running thread's "something was queued here from outside" flag.
    static TASK_WAITING: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// The time slice of one loop run.
///
/// The run may last until `deadline` (its budget) while it is alone; once other loops wait in the same
/// thread's run queue it ends at `preempt` (start + `min time`) or at once if that is already past. Other loops
/// are known to wait from `contended_at` on (0: from the start; a due timer of another loop: its time), or as
/// soon as `waiting` is raised (a loop queued on the thread from outside, or a priority task).
#[derive(Clone, Debug)]
pub(crate) struct Slice {
    pub(crate) deadline: Time,
    pub(crate) preempt: Time,
    pub(crate) contended_at: u64,
    pub(crate) waiting: Arc<AtomicBool>,
}

/// Mark `lp` as the loop this thread runs (within `slice`), or clear it.
pub(crate) fn set_current(lp: Option<&Arc<LoopInner>>, slice: Option<Slice>) {
    CURRENT_PTR.with(|c| c.set(lp.map_or(std::ptr::null(), Arc::as_ptr)));
    CURRENT.with(|c| *c.borrow_mut() = lp.cloned());
    match slice {
        Some(s) => {
            TASK_SLICE.with(|d| d.set((s.deadline.as_nanos(), s.preempt.as_nanos(), s.contended_at)));
            TASK_WAITING.with(|w| *w.borrow_mut() = Some(s.waiting));
        }
        None => {
            TASK_SLICE.with(|d| d.set((u64::MAX, u64::MAX, u64::MAX)));
            TASK_WAITING.with(|w| *w.borrow_mut() = None);
        }
    }
}

/// Whether the current task is still within its time budget. Outside a loop run: always true.
///
/// A loop alone on its thread may use its whole budget (the round's share of `max latency / 2`, clamped to
/// `[min time, max time]`). As soon as another loop waits on the same thread (pinged, timer due, or left over
/// from this round), the budget shrinks to `min time` from the start of the run: a task that checks this and
/// yields (see [`maybe_defer`]) lets the waiting loop run within about `min time`.
pub fn task_still_in_limit() -> bool {
    let (deadline, preempt, contended_at) = TASK_SLICE.with(Cell::get);
    if deadline == u64::MAX {
        return true;
    }
    let now = Time::now_monotonic().as_nanos();
    if now >= deadline {
        return false;
    }
    if now < preempt {
        return true;
    }
    if now >= contended_at {
        return false;
    }
    !TASK_WAITING.with(|w| w.borrow().as_ref().is_some_and(|f| f.load(Ordering::Acquire)))
}

/// Cooperative yield for long tasks: when the budget is spent, re-send `ev` to the current loop's event list
/// and return true (the caller then returns); otherwise return false and let the caller continue.
///
/// # Panics
/// If the budget is spent and the calling thread is not running a loop.
pub fn maybe_defer(ev: &Event) -> bool {
    if task_still_in_limit() {
        return false;
    }
    let lp = CURRENT.with(|c| c.borrow().clone()).expect("birdloop: maybe_defer outside a loop");
    lp.events.send(ev);
    true
}

/// Run `f` with the loop this thread is currently running (from inside an event hook, which gets no guard).
/// Returns `None` when the thread is not running a loop's hooks.
pub fn with_current<R>(f: impl FnOnce(&mut LoopGuard<'_>) -> R) -> Option<R> {
    let lp = CURRENT.with(|c| c.borrow().clone())?;
    let mut g = LoopGuard::inside(&lp);
    Some(f(&mut g))
}

/// The loop this thread is running, if any.
pub fn current() -> Option<Loop> {
    CURRENT.with(|c| c.borrow().clone()).map(|inner| Loop { inner })
}

fn is_current(lp: &LoopInner) -> bool {
    CURRENT_PTR.with(|c| std::ptr::eq(c.get(), lp))
}

/// Call after every hook: no RCU section may leak out of a task, and the task's temporary allocations die.
pub(crate) fn hook_done() {
    birdrcu::assert_quiescent();
    birdmem::tmp::reset();
}

impl LoopInner {
    /// Wake the loop so its thread runs it soon. Coalesces with concurrent pings.
    pub(crate) fn ping(self: &Arc<Self>) {
        if is_current(self) {
            self.self_ping.store(true, Ordering::Relaxed);
            return;
        }
        let out = self.sched.ping(|| {
            let t = self.thread.load(Ordering::Acquire);
            if t.is_null() {
                return false;
            }
            // SAFETY: we hold PING and MOVE was clear when we took it. A thread changes `thread` only under
            // MOVE (which waits for PING to clear), and a thread is freed only after it moved every loop away
            // (or the loop stopped, which also takes PING for good), so `t` is alive until we release PING.
            let t = unsafe { &*t };
            t.schedule_remote(self);
            true
        });
        if let PingOutcome::Delivered(false) | PingOutcome::Moving | PingOutcome::Coalesced = out {
            tracing::trace!(target: "bird::loop::ping", name = %self.name, ?out, "ping not delivered here");
        }
    }

    pub(crate) fn take_stop_callback(&self) -> Option<Callback> {
        self.stop_cb.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }

    pub(crate) fn group_of(&self, g: &LoopGuard<'_>) -> Arc<GroupInner> {
        debug_assert!(std::ptr::eq(Arc::as_ptr(g.lp), self));
        Arc::clone(&g.st().group)
    }
}

/// A handle to a loop. Cheap to clone; the loop lives until it is stopped (its thread keeps it).
#[derive(Clone)]
pub struct Loop {
    pub(crate) inner: Arc<LoopInner>,
}

impl fmt::Debug for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl PartialEq for Loop {
    fn eq(&self, other: &Loop) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
impl Eq for Loop {}

impl Loop {
    /// A new loop with its own domain of `level`, assigned to `group` (it waits in the group's pickup list
    /// until a thread takes it).
    pub fn new(name: impl Into<Arc<str>>, level: LevelId, group: &ThreadGroup) -> Loop {
        let name = name.into();
        let g = Arc::clone(&group.inner);
        let inner = Arc::new_cyclic(|weak: &Weak<LoopInner>| {
            let events = EventList::new("loop events");
            let work = EventList::new("loop work");
            events.set_waker(Arc::new(LoopWaker(weak.clone())));
            work.set_waker(Arc::new(LoopWaker(weak.clone())));
            LoopInner {
                domain: DynDomain::new(Arc::clone(&name), level, ()),
                name,
                state: Locked(RefCell::new(LoopState {
                    timers: TimerHeap::new(),
                    sockets: Slab::new(),
                    sock_gen: 0,
                    group: Arc::clone(&g),
                    timers_dirty: false,
                })),
                events,
                work,
                sched: SchedWord::new(),
                thread: AtomicPtr::new(std::ptr::null_mut()),
                clock: g.clock.clone(),
                stop_requested: AtomicBool::new(false),
                stopped: AtomicBool::new(false),
                stop_cb: Mutex::new(None),
                self_ping: AtomicBool::new(false),
                slot: AtomicUsize::new(usize::MAX),
                mirror: AtomicU64::new(NO_TIMER),
                last_move: AtomicU64::new(0),
                queued_at: AtomicU64::new(0),
                working: SpentTimeCell::default(),
                locking: SpentTimeCell::default(),
            }
        });
        g.add_new_loop(Arc::clone(&inner));
        Loop { inner }
    }

    /// The loop's name (its domain's name).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The loop's domain, for diagnostics and pools.
    pub fn domain(&self) -> DomainRef {
        self.inner.domain.handle()
    }

    /// The loop's event list: send events here to have them run in this loop.
    pub fn events(&self) -> &Arc<EventList> {
        &self.inner.events
    }

    /// The loop's work-event list: long jobs, at most a few per run.
    pub fn work_events(&self) -> &Arc<EventList> {
        &self.inner.work
    }

    /// Wake the loop (rarely needed: sending an event does it).
    pub fn ping(&self) {
        self.inner.ping();
    }

    /// Enter the loop from outside: lock its domain (lock order checked by birdrcu) and get direct access.
    /// Mark the call site `// ENTER:` with a reason; cross-loop work is normally an event.
    ///
    /// # Panics
    /// If the lock order forbids it (including entering a loop this thread already holds or runs).
    pub fn enter(&self) -> LoopGuard<'_> {
        let dg = self.inner.domain.lock();
        LoopGuard { lp: &self.inner, dg: Some(dg), _not_send: PhantomData }
    }

    /// Ask the loop to stop. Asynchronous: the loop runs the events still queued, drops its timers and sockets,
    /// leaves its thread, and then `done` is activated (exactly once). Events sent after that are never run.
    pub fn stop(&self, done: Callback) {
        {
            let mut cb = self.inner.stop_cb.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            assert!(
                cb.is_none() && !self.inner.stop_requested.load(Ordering::Acquire),
                "birdloop: loop {:?} stopped twice",
                self.inner.name
            );
            *cb = Some(done);
        }
        self.inner.stop_requested.store(true, Ordering::Release);
        self.inner.ping();
    }

    /// Whether the loop has completed its stop.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::Acquire)
    }

    /// Move the loop to another thread group. Takes effect at its next run; a loop still waiting in its old
    /// group's pickup list moves to the new group's pickup list at once.
    pub fn transfer(&self, group: &ThreadGroup) {
        if is_current(&self.inner) {
            let g = LoopGuard::inside(&self.inner);
            g.st().group = Arc::clone(&group.inner);
            self.inner.self_ping.store(true, Ordering::Relaxed);
        } else {
            let g = self.enter();
            let old = std::mem::replace(&mut g.st().group, Arc::clone(&group.inner));
            // The thread pointer changes only under the domain, which we hold: a null pointer means the loop
            // is unassigned (or stopped, and then in no pickup list).
            if !Arc::ptr_eq(&old, &group.inner)
                && self.inner.thread.load(Ordering::Acquire).is_null()
                && old.remove_from_pickup(&self.inner)
            {
                group.inner.adopt(&old, Arc::clone(&self.inner));
            }
            drop(g);
            self.inner.ping();
        }
    }

    /// Time accounting of this loop: (working, locking) totals.
    pub fn spent(&self) -> (Duration, Duration) {
        (
            Duration::from_nanos(self.inner.working.total_ns()),
            Duration::from_nanos(self.inner.locking.total_ns()),
        )
    }
}

/// Proof that the calling thread holds a loop's domain, and the way to reach the loop's timers and sockets.
/// Obtained from [`Loop::enter`], handed to timer and socket hooks, or from [`with_current`] in event hooks.
pub struct LoopGuard<'a> {
    lp: &'a Arc<LoopInner>,
    dg: Option<DomainGuard<'a, ()>>,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for LoopGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopGuard").field("loop", &self.lp.name).field("entered", &self.dg.is_some()).finish()
    }
}

impl Drop for LoopGuard<'_> {
    fn drop(&mut self) {
        if self.dg.is_some() {
            let dirty = std::mem::take(&mut self.st().timers_dirty);
            self.dg = None;
            if dirty {
                self.lp.ping();
            }
        }
    }
}

impl<'a> LoopGuard<'a> {
    /// A guard for the scheduler, which holds the domain itself.
    pub(crate) fn inside(lp: &'a Arc<LoopInner>) -> LoopGuard<'a> {
        debug_assert!(lp.domain.is_held());
        LoopGuard { lp, dg: None, _not_send: PhantomData }
    }

    pub(crate) fn st(&self) -> RefMut<'_, LoopState> {
        self.lp.state.0.borrow_mut()
    }

    /// The loop's name.
    pub fn name(&self) -> &str {
        &self.lp.name
    }

    /// A handle to this loop.
    pub fn handle(&self) -> Loop {
        Loop { inner: Arc::clone(self.lp) }
    }

    /// The current time on this loop's clock.
    pub fn now(&self) -> Time {
        self.lp.clock.now()
    }

    /// This loop's event list.
    pub fn events(&self) -> &Arc<EventList> {
        &self.lp.events
    }

    /// This loop's work-event list.
    pub fn work_events(&self) -> &Arc<EventList> {
        &self.lp.work
    }

    /// Run `ev` in this loop after the current task.
    pub fn defer(&self, ev: &Event) {
        self.lp.events.send(ev);
    }

    fn timers_changed(&mut self, before: Option<Time>) {
        let mut st = self.st();
        if st.timers.first() != before {
            if is_current(self.lp) {
                // The scheduler re-mirrors after the run.
            } else {
                st.timers_dirty = true;
            }
        }
    }

    /// The thread group this loop runs in (for creating companion loops, e.g. a protocol's listener).
    pub fn group(&self) -> crate::ThreadGroup {
        crate::ThreadGroup { inner: self.lp.group_of(self) }
    }

    /// Create a disarmed timer.
    pub fn timer(
        &mut self,
        name: &'static str,
        hook: impl FnMut(&mut LoopGuard<'_>, TimerKey) + Send + 'static,
    ) -> TimerKey {
        self.st().timers.insert(name, Box::new(hook))
    }

    /// Arm (or re-arm) a timer at `at`. Returns false for a stale key.
    pub fn set_timer(&mut self, key: TimerKey, at: Time) -> bool {
        let before = self.st().timers.first();
        let ok = self.st().timers.arm(key, at);
        self.timers_changed(before);
        ok
    }

    /// Arm a timer `after` from now.
    pub fn set_timer_in(&mut self, key: TimerKey, after: Duration) -> bool {
        let at = self.now() + after;
        self.set_timer(key, at)
    }

    /// Make a timer recurrent with `period` plus a random `[0, jitter]` each time, and arm it one period
    /// (plus jitter) from now. A zero `period` makes it one-shot and disarms it.
    pub fn set_recurrent(&mut self, key: TimerKey, period: Duration, jitter: Duration) -> bool {
        if !self.st().timers.set_recurrent(key, period, jitter) {
            return false;
        }
        if period.is_zero() {
            return self.stop_timer(key);
        }
        self.set_timer_in(key, period)
    }

    /// Disarm a timer. Returns false for a stale key.
    pub fn stop_timer(&mut self, key: TimerKey) -> bool {
        let before = self.st().timers.first();
        let ok = self.st().timers.disarm(key);
        self.timers_changed(before);
        ok
    }

    /// Remove a timer for good.
    pub fn remove_timer(&mut self, key: TimerKey) -> bool {
        let before = self.st().timers.first();
        let ok = self.st().timers.contains(key);
        let hook = self.st().timers.remove(key);
        drop(hook);
        self.timers_changed(before);
        ok
    }

    /// When the timer fires next, if armed.
    pub fn timer_expires(&self, key: TimerKey) -> Option<Time> {
        self.st().timers.expires(key)
    }

    /// The timer's name (`None` for a stale key).
    pub fn timer_name(&self, key: TimerKey) -> Option<&'static str> {
        self.st().timers.name(key)
    }

    /// The number of timers (armed or not).
    pub fn timer_count(&self) -> usize {
        self.st().timers.len()
    }

    fn poll_key(&self, idx: usize) -> usize {
        poll_key(self.lp.slot.load(Ordering::Relaxed), u32::try_from(idx).unwrap_or(u32::MAX))
    }

    fn poller(&self) -> Option<Arc<polling::Poller>> {
        let t = self.lp.thread.load(Ordering::Acquire);
        if t.is_null() {
            None
        } else {
            // SAFETY: the thread pointer changes only under the loop's domain (movers lock it), which this
            // guard holds, and a thread stays alive while a loop points at it.
            Some(Arc::clone(unsafe { &(*t).poller }))
        }
    }

    /// Add a socket to this loop, with a handler called with its readiness (TX first, then RX). The socket
    /// must be non-blocking. It is registered with the poller of the loop's thread (or when a thread picks
    /// the loop up).
    pub fn add_socket<S, H>(&mut self, sock: S, interest: Interest, handler: H) -> io::Result<SockKey>
    where
        S: AsFd + Send + 'static,
        H: FnMut(&mut LoopGuard<'_>, SockKey, &mut S, Ready) + Send + 'static,
    {
        let obj: Box<dyn ErasedSock> = Box::new(Typed { sock, handler });
        self.insert_socket(obj, interest, false)
    }

    pub(crate) fn insert_socket(
        &mut self,
        obj: Box<dyn ErasedSock>,
        interest: Interest,
        paused: bool,
    ) -> io::Result<SockKey> {
        let poller = self.poller();
        let mut st = self.st();
        st.sock_gen = st.sock_gen.wrapping_add(1);
        let gen = st.sock_gen;
        let mut slot = SockSlot::new(gen, obj, interest);
        slot.paused = paused;
        let entry = st.sockets.vacant_entry();
        let idx = entry.key();
        let key = poll_key(self.lp.slot.load(Ordering::Relaxed), u32::try_from(idx).unwrap_or(u32::MAX));
        slot.sync_registration(poller.as_ref(), key)?;
        entry.insert(slot);
        Ok(SockKey { idx: u32::try_from(idx).unwrap_or(u32::MAX), gen })
    }

    fn with_slot<R>(&self, key: SockKey, f: impl FnOnce(&mut SockSlot) -> R) -> Option<R> {
        let mut st = self.st();
        st.sockets.get_mut(key.idx as usize).filter(|s| s.gen == key.gen).map(f)
    }

    fn resync(&mut self, key: SockKey) -> io::Result<()> {
        let poller = self.poller();
        let pk = self.poll_key(key.idx as usize);
        self.with_slot(key, |s| s.sync_registration(poller.as_ref(), pk)).unwrap_or(Ok(()))
    }

    /// Change what the socket is woken for.
    pub fn set_interest(&mut self, key: SockKey, interest: Interest) -> io::Result<()> {
        if self.with_slot(key, |s| s.interest = interest).is_none() {
            return Ok(());
        }
        self.resync(key)
    }

    /// Stop reading: the socket leaves the poller's read set; data stays in the kernel buffer.
    pub fn pause_rx(&mut self, key: SockKey) -> io::Result<()> {
        if self.with_slot(key, |s| s.paused = true).is_none() {
            return Ok(());
        }
        self.resync(key)
    }

    /// Resume reading; already buffered bytes are reported at the next poll.
    pub fn resume_rx(&mut self, key: SockKey) -> io::Result<()> {
        if self.with_slot(key, |s| s.paused = false).is_none() {
            return Ok(());
        }
        self.resync(key)?;
        // Make the thread poll again soon rather than sleep on an old timeout.
        if is_current(self.lp) {
            self.lp.self_ping.store(true, Ordering::Relaxed);
        } else {
            self.lp.ping();
        }
        Ok(())
    }

    /// Whether RX is paused (false for a stale key).
    pub fn rx_paused(&self, key: SockKey) -> bool {
        self.with_slot(key, |s| s.paused).unwrap_or(false)
    }

    /// Access the socket (of type `S`, as added). `None` for a stale key, a wrong type, or from inside the
    /// socket's own handler (which already has it).
    pub fn with_socket<S: 'static, R>(&self, key: SockKey, f: impl FnOnce(&mut S) -> R) -> Option<R> {
        let mut st = self.st();
        let slot = st.sockets.get_mut(key.idx as usize).filter(|s| s.gen == key.gen)?;
        let obj = slot.obj.as_mut()?;
        obj.sock_any().downcast_mut::<S>().map(f)
    }

    /// Remove a socket from the loop (deregistering it) and give it back. `None` for a stale key, a wrong type
    /// (the socket is then closed), or from inside its own handler (it is closed after the handler returns).
    pub fn remove_socket<S: 'static>(&mut self, key: SockKey) -> Option<S> {
        let mut slot = {
            let mut st = self.st();
            if st.sockets.get(key.idx as usize).is_none_or(|s| s.gen != key.gen) {
                return None;
            }
            st.sockets.remove(key.idx as usize)
        };
        let obj = slot.take_obj()?;
        drop(slot);
        let any: Box<dyn Any> = obj.into_sock();
        any.downcast::<S>().ok().map(|b| *b)
    }

    /// Number of sockets in the loop.
    pub fn socket_count(&self) -> usize {
        self.st().sockets.len()
    }

    /// Move a socket (with its handler, interest and pause state) to the loop `to`, synchronously, with both
    /// loops held by the caller. The socket leaves this loop's thread's poller before it joins the other's, and
    /// no buffered byte is lost. Returns its key in `to`.
    ///
    /// # Panics
    /// From inside the socket's own handler.
    pub fn reloop_socket(&mut self, key: SockKey, to: &mut LoopGuard<'_>) -> io::Result<Option<SockKey>> {
        let slot = {
            let mut st = self.st();
            if st.sockets.get(key.idx as usize).is_none_or(|s| s.gen != key.gen) {
                return Ok(None);
            }
            st.sockets.remove(key.idx as usize)
        };
        let mut slot = slot;
        let (interest, paused) = (slot.interest, slot.paused);
        let obj = slot.take_obj().expect("birdloop: reloop_socket from inside the socket's own handler");
        drop(slot);
        let k = to.insert_socket(obj, interest, paused)?;
        if !is_current(to.lp) {
            to.lp.ping();
        }
        Ok(Some(k))
    }

    /// Dispatch readiness to one socket (scheduler side).
    pub(crate) fn dispatch_socket(&mut self, idx: u32, ready: Ready) {
        let taken = {
            let mut st = self.st();
            match st.sockets.get_mut(idx as usize) {
                Some(s) => {
                    let eff = s.effective();
                    let r =
                        Ready { readable: ready.readable && eff.read, writable: ready.writable && eff.write };
                    if !r.readable && !r.writable {
                        None
                    } else {
                        s.obj.take().map(|o| (o, s.gen, r))
                    }
                }
                None => None,
            }
        };
        let Some((mut obj, gen, r)) = taken else { return };
        let key = SockKey { idx, gen };
        if r.writable {
            obj.dispatch(self, key, Ready { readable: false, writable: true });
            hook_done();
        }
        if r.readable && !self.rx_paused(key) && self.with_slot(key, |_| ()).is_some() {
            obj.dispatch(self, key, Ready { readable: true, writable: false });
            hook_done();
        }
        let back = {
            let mut st = self.st();
            match st.sockets.get_mut(idx as usize).filter(|s| s.gen == gen) {
                Some(s) => {
                    s.obj = Some(obj);
                    None
                }
                None => Some(obj),
            }
        };
        drop(back);
    }

    /// Fire due timers until none is due or the budget is spent (scheduler side). Returns how many fired.
    pub(crate) fn fire_timers(&mut self, now: Time) -> usize {
        let mut n = 0;
        loop {
            let due = self.st().timers.pop_due(now);
            let Some((key, mut hook)) = due else { break };
            hook(self, key);
            hook_done();
            self.st().timers.put_back(key, hook);
            n += 1;
            if !task_still_in_limit() {
                break;
            }
        }
        n
    }

    /// Register every socket with `poller` under `loop_slot` (pickup), or deregister all (`None`, drop).
    pub(crate) fn sync_all_sockets(&mut self, poller: Option<&Arc<polling::Poller>>, loop_slot: usize) {
        let mut st = self.st();
        for (idx, s) in st.sockets.iter_mut() {
            let key = poll_key(loop_slot, u32::try_from(idx).unwrap_or(u32::MAX));
            if let Err(e) = s.sync_registration(poller, key) {
                tracing::warn!(target: "bird::loop::sockets", loop_name = %self.lp.name, "socket registration failed: {e}");
            }
        }
    }

    /// Drop every timer and socket (stop).
    pub(crate) fn clear_all(&mut self) {
        let (timers, sockets) = {
            let mut st = self.st();
            let timers = std::mem::replace(&mut st.timers, TimerHeap::new());
            let sockets = std::mem::take(&mut st.sockets);
            (timers, sockets)
        };
        drop(timers);
        drop(sockets);
    }
}

/// A value owned by a loop: reachable only while its loop is held (through a [`LoopGuard`] of that loop), so it
/// needs no lock of its own. Protocols keep their state here.
pub struct LoopCell<T> {
    owner: Weak<LoopInner>,
    cell: RefCell<T>,
}

// SAFETY: the RefCell is borrowed only through `borrow_mut`, which requires a `LoopGuard` of the owning loop;
// such a guard exists only on a thread holding that loop's domain, whose mutex serializes and orders all
// borrows (see `Locked`). The returned `RefMut` cannot outlive the guard borrow. `T: Send` because the value is
// used from whichever thread holds the domain.
unsafe impl<T: Send> Sync for LoopCell<T> {}

impl<T> fmt::Debug for LoopCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopCell").finish_non_exhaustive()
    }
}

impl<T> LoopCell<T> {
    /// A value owned by `lp`.
    pub fn new(lp: &Loop, value: T) -> Self {
        LoopCell { owner: Arc::downgrade(&lp.inner), cell: RefCell::new(value) }
    }

    /// Borrow the value, proving with `g` that its loop is held.
    ///
    /// # Panics
    /// If `g` is a guard of another loop, or the value is already borrowed.
    pub fn borrow_mut<'g>(&'g self, g: &'g LoopGuard<'_>) -> RefMut<'g, T> {
        assert!(
            std::ptr::eq(Weak::as_ptr(&self.owner), Arc::as_ptr(g.lp)),
            "birdloop: LoopCell of another loop borrowed with a guard of loop {:?}",
            g.lp.name
        );
        self.cell.borrow_mut()
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> T {
        self.cell.into_inner()
    }
}
