//! Thread groups: a set of threads sharing a pickup list of unassigned loops.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use birdmem::IdMap;

use crate::params::{BalancerParams, ParamError, ThreadParams};
use crate::r#loop::LoopInner;
use crate::stats::{GroupSnapshot, ThreadSnapshot};
use crate::thread::{lock, loop_snapshot, thread_main, ThreadCore, ThreadShared};
use crate::time::{Clock, Time};

/// The two kinds of group BIRD knows. Loops of different groups never share a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKind {
    /// Ordinary loops (protocols, tables). Defaults: [`ThreadParams::worker`].
    Worker,
    /// Low-latency loops (BFD). Defaults: [`ThreadParams::express`].
    Express,
}

struct GroupState {
    threads: Vec<Arc<ThreadShared>>,
    pickup: VecDeque<Arc<LoopInner>>,
    live: usize,
}

pub(crate) struct GroupInner {
    pub(crate) name: Arc<str>,
    pub(crate) kind: GroupKind,
    params: Mutex<ThreadParams>,
    pub(crate) balancer: BalancerParams,
    pub(crate) clock: Clock,
    pub(crate) manual: bool,
    state: Mutex<GroupState>,
    pub(crate) unassigned: AtomicUsize,
    pub(crate) busy_threads: AtomicUsize,
    pub(crate) loop_count: AtomicUsize,
    /// Working and locking time of loops that stopped on threads of this group that have since exited (ns).
    pub(crate) stopped_ns: AtomicU64,
    live_threads: AtomicUsize,
    joins: Mutex<Vec<JoinHandle<()>>>,
    manual_core: Mutex<Option<ThreadCore>>,
}

impl fmt::Debug for GroupInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadGroup")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("threads", &self.thread_count())
            .field("loops", &self.loop_count.load(Ordering::Relaxed))
            .finish()
    }
}

static GROUPS: Mutex<Vec<Weak<GroupInner>>> = Mutex::new(Vec::new());
static THREAD_IDS: Mutex<IdMap> = Mutex::new(IdMap::new());

/// Dense thread ids, lowest free first; 0 is never used (BIRD numbers threads from 1).
fn alloc_thread_id() -> u32 {
    let mut ids = lock(&THREAD_IDS);
    ids.reserve(0);
    ids.alloc()
}

pub(crate) fn free_thread_id(id: u32) {
    lock(&THREAD_IDS).free(id);
}

/// All live groups, in creation order.
pub(crate) fn all_groups() -> Vec<Arc<GroupInner>> {
    let mut g = lock(&GROUPS);
    g.retain(|w| w.strong_count() > 0);
    g.iter().filter_map(Weak::upgrade).collect()
}

impl GroupInner {
    pub(crate) fn params(&self) -> ThreadParams {
        *lock(&self.params)
    }

    pub(crate) fn thread_count(&self) -> usize {
        self.live_threads.load(Ordering::Acquire)
    }

    /// A new loop joins the pickup list.
    pub(crate) fn add_new_loop(&self, lp: Arc<LoopInner>) {
        self.loop_count.fetch_add(1, Ordering::AcqRel);
        self.push_pickup(vec![lp], None);
    }

    /// Loops join the pickup list; `dropper` (a thread giving them up) rotates itself to the end of the thread
    /// list. The head thread is kicked (and its running loop's slice shortened).
    pub(crate) fn push_pickup(&self, loops: Vec<Arc<LoopInner>>, dropper: Option<&Arc<ThreadShared>>) {
        let mut st = lock(&self.state);
        let n = loops.len();
        st.pickup.extend(loops);
        self.unassigned.fetch_add(n, Ordering::AcqRel);
        if let Some(me) = dropper {
            if let Some(pos) = st.threads.iter().position(|t| Arc::ptr_eq(t, me)) {
                let t = st.threads.remove(pos);
                st.threads.push(t);
            }
        }
        if let Some(head) = st.threads.iter().find(|t| !t.exit.load(Ordering::Relaxed)) {
            // A loop waiting for pickup counts as waiting on the head thread: its running loop yields at
            // `min time`.
            head.waiting.store(true, Ordering::Release);
            head.kick();
        }
    }

    /// A loop that was transferred here from `from` joins this group's pickup list (loop counts follow it).
    pub(crate) fn adopt(&self, from: &GroupInner, lp: Arc<LoopInner>) {
        from.loop_count.fetch_sub(1, Ordering::AcqRel);
        self.loop_count.fetch_add(1, Ordering::AcqRel);
        self.push_pickup(vec![lp], None);
    }

    /// Take `lp` out of the pickup list; false if it is not there.
    pub(crate) fn remove_from_pickup(&self, lp: &Arc<LoopInner>) -> bool {
        let mut st = lock(&self.state);
        let Some(pos) = st.pickup.iter().position(|l| Arc::ptr_eq(l, lp)) else { return false };
        st.pickup.remove(pos);
        self.unassigned.fetch_sub(1, Ordering::AcqRel);
        true
    }

    pub(crate) fn take_loops(&self, n: usize) -> Vec<Arc<LoopInner>> {
        let mut st = lock(&self.state);
        let k = n.min(st.pickup.len());
        let taken: Vec<_> = st.pickup.drain(..k).collect();
        self.unassigned.fetch_sub(taken.len(), Ordering::AcqRel);
        taken
    }

    /// Whether the head of the pickup list moved within `hot` (`None`: empty list).
    pub(crate) fn pickup_head_hot(&self, now: Time, hot: Duration) -> Option<bool> {
        let st = lock(&self.state);
        st.pickup
            .front()
            .map(|l| now.saturating_since(Time::from_nanos(l.last_move.load(Ordering::Relaxed))) < hot)
    }

    pub(crate) fn remove_thread(&self, me: &Arc<ThreadShared>, was_busy: bool) {
        let mut st = lock(&self.state);
        st.threads.retain(|t| !Arc::ptr_eq(t, me));
        if was_busy {
            self.busy_threads.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Call `f` on every thread, under the group lock (so a thread cannot leave unnoticed meanwhile).
    pub(crate) fn for_each_thread(&self, mut f: impl FnMut(&Arc<ThreadShared>)) {
        let st = lock(&self.state);
        for t in &st.threads {
            f(t);
        }
    }

    pub(crate) fn unassigned_snapshot(&self) -> GroupSnapshot {
        let now = Time::now_monotonic();
        let st = lock(&self.state);
        GroupSnapshot {
            name: self.name.to_string(),
            threads: Vec::new(),
            unassigned: st.pickup.iter().map(|l| loop_snapshot(l, now)).collect(),
            stopped_loops: Duration::from_nanos(self.stopped_ns.load(Ordering::Relaxed)),
        }
    }

    fn set_threads(self: &Arc<Self>, n: usize) -> std::io::Result<()> {
        assert!(!self.manual, "birdloop: a deterministic group has no threads to resize");
        let mut st = lock(&self.state);
        while st.live < n {
            let id = alloc_thread_id();
            let shared = Arc::new(ThreadShared::new(id, Arc::clone(self))?);
            st.threads.push(Arc::clone(&shared));
            st.live += 1;
            self.live_threads.store(st.live, Ordering::Release);
            let h = std::thread::Builder::new()
                .name(format!("bird {} {id:04x}", self.name))
                .spawn(move || thread_main(shared))?;
            lock(&self.joins).push(h);
        }
        if st.live > n {
            let mut excess = st.live - n;
            for t in st.threads.iter().rev() {
                if excess == 0 {
                    break;
                }
                if !t.exit.swap(true, Ordering::AcqRel) {
                    t.kick();
                    excess -= 1;
                }
            }
            st.live = n;
            self.live_threads.store(n, Ordering::Release);
        }
        Ok(())
    }
}

/// A thread group: N threads running many loops each. Cheap to clone.
#[derive(Clone)]
pub struct ThreadGroup {
    pub(crate) inner: Arc<GroupInner>,
}

impl fmt::Debug for ThreadGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl ThreadGroup {
    fn build(
        name: &str,
        kind: GroupKind,
        params: ThreadParams,
        balancer: BalancerParams,
        clock: Clock,
        manual: bool,
    ) -> ThreadGroup {
        let inner = Arc::new(GroupInner {
            name: name.into(),
            kind,
            params: Mutex::new(params),
            balancer,
            clock,
            manual,
            state: Mutex::new(GroupState { threads: Vec::new(), pickup: VecDeque::new(), live: 0 }),
            unassigned: AtomicUsize::new(0),
            busy_threads: AtomicUsize::new(0),
            loop_count: AtomicUsize::new(0),
            stopped_ns: AtomicU64::new(0),
            live_threads: AtomicUsize::new(0),
            joins: Mutex::new(Vec::new()),
            manual_core: Mutex::new(None),
        });
        lock(&GROUPS).push(Arc::downgrade(&inner));
        ThreadGroup { inner }
    }

    /// A group with `threads` threads started now.
    ///
    /// # Errors
    /// Invalid parameters, or a thread or poller could not be created.
    pub fn new(
        name: &str,
        kind: GroupKind,
        params: ThreadParams,
        threads: usize,
    ) -> Result<ThreadGroup, GroupError> {
        Self::with_balancer(name, kind, params, BalancerParams::default(), threads)
    }

    /// Like [`new`](Self::new), with explicit balancer constants (tests shrink them).
    ///
    /// # Errors
    /// Invalid parameters, or a thread or poller could not be created.
    pub fn with_balancer(
        name: &str,
        kind: GroupKind,
        params: ThreadParams,
        balancer: BalancerParams,
        threads: usize,
    ) -> Result<ThreadGroup, GroupError> {
        params.validate().map_err(GroupError::Params)?;
        let g = Self::build(name, kind, params, balancer, Clock::monotonic(), false);
        g.inner.set_threads(threads).map_err(GroupError::Io)?;
        Ok(g)
    }

    /// The default `worker` group with `threads` threads.
    ///
    /// # Errors
    /// A thread or poller could not be created.
    pub fn worker(threads: usize) -> Result<ThreadGroup, GroupError> {
        Self::new("worker", GroupKind::Worker, ThreadParams::worker(), threads)
    }

    /// The `express` group with `threads` threads.
    ///
    /// # Errors
    /// A thread or poller could not be created.
    pub fn express(threads: usize) -> Result<ThreadGroup, GroupError> {
        Self::new("express", GroupKind::Express, ThreadParams::express(), threads)
    }

    /// A deterministic group without OS threads: its loops run on the thread calling
    /// [`run_until_idle`](Self::run_until_idle) or [`advance`](Self::advance), reading `clock` (use
    /// [`Clock::virtual_at`] for reproducible timer tests).
    ///
    /// # Errors
    /// The poller could not be created.
    pub fn deterministic(name: &str, clock: Clock) -> Result<ThreadGroup, GroupError> {
        let g = Self::build(
            name,
            GroupKind::Worker,
            ThreadParams::worker(),
            BalancerParams::default(),
            clock,
            true,
        );
        let shared =
            Arc::new(ThreadShared::new(alloc_thread_id(), Arc::clone(&g.inner)).map_err(GroupError::Io)?);
        {
            let mut st = lock(&g.inner.state);
            st.threads.push(Arc::clone(&shared));
            st.live = 1;
            g.inner.live_threads.store(1, Ordering::Release);
        }
        *lock(&g.inner.manual_core) = Some(ThreadCore::new(shared, true));
        Ok(g)
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Worker or express.
    pub fn kind(&self) -> GroupKind {
        self.inner.kind
    }

    /// The clock its loops read.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Current parameters.
    pub fn params(&self) -> ThreadParams {
        self.inner.params()
    }

    /// Number of threads (not counting threads that are shutting down).
    pub fn thread_count(&self) -> usize {
        self.inner.thread_count()
    }

    /// Loops in the group (assigned or not, not stopped).
    pub fn loop_count(&self) -> usize {
        self.inner.loop_count.load(Ordering::Acquire)
    }

    /// Loops waiting in the pickup list.
    pub fn unassigned_count(&self) -> usize {
        self.inner.unassigned.load(Ordering::Acquire)
    }

    /// Threads the balancer currently marks busy.
    pub fn busy_count(&self) -> usize {
        self.inner.busy_threads.load(Ordering::Acquire)
    }

    /// Change parameters and thread count at run time. Shrinking hands the leaving threads' loops (with
    /// their events, timers and sockets) to the remaining ones; nothing is lost.
    ///
    /// # Errors
    /// Invalid parameters, or a thread could not be started.
    pub fn reconfigure(&self, params: ThreadParams, threads: usize) -> Result<(), GroupError> {
        params.validate().map_err(GroupError::Params)?;
        *lock(&self.inner.params) = params;
        self.inner.set_threads(threads).map_err(GroupError::Io)
    }

    /// Change the scheduling parameters only (also for deterministic groups).
    ///
    /// # Errors
    /// Invalid parameters.
    pub fn set_params(&self, params: ThreadParams) -> Result<(), GroupError> {
        params.validate().map_err(GroupError::Params)?;
        *lock(&self.inner.params) = params;
        Ok(())
    }

    /// Change the thread count at run time.
    ///
    /// # Errors
    /// A thread could not be started.
    pub fn set_threads(&self, threads: usize) -> Result<(), GroupError> {
        self.inner.set_threads(threads).map_err(GroupError::Io)
    }

    /// Stop every thread and wait for them. Their loops go back to the pickup list (and run again if threads
    /// are added later). Do not call from one of the group's own threads.
    pub fn shutdown(&self) {
        if self.inner.manual {
            return;
        }
        if let Err(e) = self.inner.set_threads(0) {
            tracing::error!(target: "bird::loop::scheduling", "shutdown: {e}");
        }
        let joins = std::mem::take(&mut *lock(&self.inner.joins));
        for j in joins {
            if j.join().is_err() {
                tracing::error!(target: "bird::loop::scheduling", group = %self.inner.name, "a thread panicked");
            }
        }
    }

    /// Per-thread snapshots of this group, gathered without `sync_all` (only for deterministic groups, whose
    /// thread state is reachable from the caller).
    fn manual_snapshot(&self) -> Vec<ThreadSnapshot> {
        lock(&self.inner.manual_core).as_ref().map(|c| vec![c.snapshot()]).unwrap_or_default()
    }

    /// Deterministic mode: run loops on the calling thread until nothing is runnable at the current clock
    /// time. Returns false if still busy after `max_iterations` (a loop that never idles).
    ///
    /// # Panics
    /// On a group with OS threads.
    pub fn run_until_idle_max(&self, max_iterations: usize) -> bool {
        let mut core = lock(&self.inner.manual_core);
        let core = core.as_mut().expect("birdloop: run_until_idle on a group with OS threads");
        for _ in 0..max_iterations {
            let out = core.iterate(false);
            if !out.did_work && core.is_idle() && self.inner.unassigned.load(Ordering::Acquire) == 0 {
                return true;
            }
        }
        false
    }

    /// [`run_until_idle_max`](Self::run_until_idle_max) with a cap of a million iterations.
    ///
    /// # Panics
    /// On a group with OS threads, or when the group never becomes idle.
    pub fn run_until_idle(&self) {
        assert!(
            self.run_until_idle_max(1_000_000),
            "birdloop: group {:?} never became idle",
            self.inner.name
        );
    }

    /// Deterministic mode with a virtual clock: move time forward by `d`, firing every timer due on the way in
    /// deadline order, running loops until idle at each step.
    ///
    /// # Panics
    /// On a group with OS threads or a real clock.
    pub fn advance(&self, d: Duration) {
        let target = self.inner.clock.now() + d;
        self.run_until(target);
    }

    /// Deterministic mode with a virtual clock: advance to `target` (see [`advance`](Self::advance)).
    ///
    /// # Panics
    /// On a group with OS threads or a real clock.
    pub fn run_until(&self, target: Time) {
        assert!(self.inner.clock.is_virtual(), "birdloop: run_until needs a virtual clock");
        loop {
            self.run_until_idle();
            let next = lock(&self.inner.manual_core).as_ref().and_then(ThreadCore::next_timer);
            match next {
                Some(t) if t <= target => self.inner.clock.set(t.max(self.inner.clock.now())),
                _ => break,
            }
        }
        self.inner.clock.set(target);
        self.run_until_idle();
    }

    /// A snapshot of this group only (deterministic groups only; for threaded groups use
    /// [`crate::snapshot_threads`]).
    pub fn deterministic_snapshot(&self) -> GroupSnapshot {
        let mut g = self.inner.unassigned_snapshot();
        g.threads = self.manual_snapshot();
        g
    }
}

/// Why a group could not be created or changed.
#[derive(Debug)]
pub enum GroupError {
    /// Parameters out of range.
    Params(ParamError),
    /// A thread or poller could not be created.
    Io(std::io::Error),
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupError::Params(e) => write!(f, "invalid thread group parameters: {e}"),
            GroupError::Io(e) => write!(f, "thread group: {e}"),
        }
    }
}

impl std::error::Error for GroupError {}
