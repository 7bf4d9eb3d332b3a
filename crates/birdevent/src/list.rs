//! [`EventList`]: many senders, one consumer. Sending pushes onto an intrusive inbox with one CAS; the
//! consumer takes the whole inbox with one swap, reverses it to FIFO and runs it.

use std::fmt;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use crate::event::{is_pinned, pinned, unpinned, Event, EventInner, Wake};
use crate::ring::{self, RingOp};
use crate::sync::{spin_wait, thread_token, AtomicPtr, AtomicUsize, Ordering, RwLock};

/// Value of [`Core::consumer`] while [`EventList`]'s destructor releases the queued events. Thread tokens are
/// addresses of thread-local bytes and are never `usize::MAX`.
const DRAINING: usize = usize::MAX;

/// Keeps the senders' inbox head off the consumer's cache line.
#[repr(align(128))]
struct CachePadded<T>(T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The shared state of a list. It lives in its own allocation, reached through a raw pointer, so that the list's
/// destructor never holds a `&mut` to memory that a pinning thread may still read (see [`EventList`]'s `Drop`).
pub(crate) struct Core {
    /// Inbox: a LIFO chain of claimed events. Senders push with a CAS; the consumer swaps it out or unlinks
    /// from it (cancel).
    receiver: CachePadded<AtomicPtr<EventInner>>,
    /// FIFO chain of events taken from the inbox and not yet run. Consumer only.
    executor: AtomicPtr<EventInner>,
    /// 0, the token of the thread inside `run` or `cancel`, or [`DRAINING`].
    consumer: AtomicUsize,
    waker: RwLock<Option<Arc<dyn Wake>>>,
    pub(crate) name: &'static str,
}

/// Proof that the calling thread is the list's consumer for a while; released on drop (also when a hook
/// panics).
pub(crate) struct Consumer<'a> {
    flag: &'a AtomicUsize,
    held: bool,
}

impl Drop for Consumer<'_> {
    fn drop(&mut self) {
        if self.held {
            // Release: the next consumer (maybe on another thread) sees the executor chain as we left it.
            self.flag.store(0, Ordering::Release);
        }
    }
}

impl Core {
    /// Become the consumer for a `run`. Panics if another thread is the consumer, or if this thread already is
    /// (a hook calling `run` on its own list).
    fn consume_for_run(&self) -> Consumer<'_> {
        let me = thread_token();
        match self
            .consumer
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => Consumer {
                flag: &self.consumer,
                held: true,
            },
            Err(cur) if cur == me => {
                panic!("event list {:?}: run() called from one of its own hooks", self.name)
            }
            Err(_) => panic!(
                "event list {:?}: run() while another thread is running or cancelling on it (one consumer at a time)",
                self.name
            ),
        }
    }

    /// Become the consumer for a `cancel`, or find that this thread already is (cancel from inside a hook run by
    /// this list). Waits while the list's destructor is busy; `None` if another thread is the consumer.
    pub(crate) fn consume_for_cancel(&self) -> Option<Consumer<'_>> {
        let me = thread_token();
        loop {
            match self.consumer.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(Consumer { flag: &self.consumer, held: true }),
                Err(cur) if cur == me => return Some(Consumer { flag: &self.consumer, held: false }),
                Err(DRAINING) => spin_wait(),
                Err(_) => return None,
            }
        }
    }

    /// Unlink `ev` from the executor chain; false if it is not there. Consumer only.
    pub(crate) fn unlink_executor(&self, ev: *mut EventInner) -> bool {
        let mut pred: *mut EventInner = ptr::null_mut();
        let mut cur = self.executor.load(Ordering::Relaxed);
        while !cur.is_null() {
            // SAFETY: `cur` is linked on this list, which holds a reference to it; only the consumer (us)
            // unlinks, so it stays alive.
            let next = unsafe { (*cur).next.load(Ordering::Relaxed) };
            if cur == ev {
                if pred.is_null() {
                    self.executor.store(next, Ordering::Relaxed);
                } else {
                    // SAFETY: `pred` is linked on this list, as above.
                    unsafe { (*pred).next.store(next, Ordering::Relaxed) };
                }
                return true;
            }
            pred = cur;
            cur = next;
        }
        false
    }

    /// Unlink `ev` from the inbox; false if it is not there (yet). Consumer only; senders may push meanwhile.
    pub(crate) fn unlink_receiver(&self, ev: *mut EventInner) -> bool {
        'restart: loop {
            // Acquire: the `next` fields of the chain were written before the pushes that published them.
            let head = self.receiver.load(Ordering::Acquire);
            if head == ev {
                // SAFETY: `ev` is linked on this list, which holds a reference to it.
                let next = unsafe { (*ev).next.load(Ordering::Relaxed) };
                // Only the consumer removes from the inbox and `ev` stays claimed, so the head cannot become
                // `ev` again with another `next` (no ABA). Failure means a push collided: start over.
                if self.receiver.compare_exchange(head, next, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    return true;
                }
                continue 'restart;
            }
            let mut pred = head;
            while !pred.is_null() {
                // SAFETY: `pred` is linked on this list, which holds a reference to it; senders never write the
                // `next` of a linked event, only the consumer does.
                let cur = unsafe { (*pred).next.load(Ordering::Relaxed) };
                if cur == ev {
                    // SAFETY: as above, for `ev` and `pred`.
                    unsafe { (*pred).next.store((*ev).next.load(Ordering::Relaxed), Ordering::Relaxed) };
                    return true;
                }
                pred = cur;
            }
            return false;
        }
    }

    fn wake(&self) {
        let waker = self.waker.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A multi-producer, single-consumer list of [`Event`]s. See the crate documentation for the protocol.
///
/// Any thread may [`send`](EventList::send); one thread at a time (the list's loop) may [`run`](EventList::run)
/// it and [`cancel`](Event::cancel) events on it. Dropping the list releases the events still queued on it
/// without running them; they can then be sent elsewhere.
pub struct EventList {
    core: NonNull<Core>,
}

// SAFETY: `core` is an owned allocation whose fields are all atomics, a lock, and a `&'static str`; every
// access goes through `&Core` and follows the protocol in the crate documentation.
unsafe impl Send for EventList {}
// SAFETY: as above; `&EventList` only hands out `&Core`.
unsafe impl Sync for EventList {}

impl EventList {
    /// `run(EventList::UNLIMITED)` runs every event taken from the inbox in that call.
    pub const UNLIMITED: usize = usize::MAX;

    /// A new, empty list without a waker.
    pub fn new(name: &'static str) -> Arc<EventList> {
        let core = Box::new(Core {
            receiver: CachePadded(AtomicPtr::new(ptr::null_mut())),
            executor: AtomicPtr::new(ptr::null_mut()),
            consumer: AtomicUsize::new(0),
            waker: RwLock::new(None),
            name,
        });
        Arc::new(EventList { core: NonNull::from(Box::leak(core)) })
    }

    #[inline]
    fn core(&self) -> &Core {
        // SAFETY: `core` was leaked from a Box in `new` and is freed only in `drop`, which has `&mut self`.
        unsafe { self.core.as_ref() }
    }

    /// The name given to [`EventList::new`].
    pub fn name(&self) -> &'static str {
        self.core().name
    }

    /// Set (or replace) what to call when a send makes the inbox non-empty. If the list already holds events,
    /// the new waker is called at once so none of them is stranded.
    pub fn set_waker(&self, waker: Arc<dyn Wake>) {
        *self.core().waker.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(waker);
        if !self.is_empty() {
            self.core().wake();
        }
    }

    /// Queue `ev` to run once on this list. Returns true if this call queued it, false if it was already queued
    /// here (sending is idempotent: the event still runs once, after this call). Either way, everything the
    /// caller wrote before `send` is visible to that run of the hook.
    ///
    /// Calls the waker if the inbox was empty.
    ///
    /// # Panics
    /// If `ev` is queued on another list: an event belongs to one list. The message names the event and both
    /// lists.
    pub fn send(&self, ev: &Event) -> bool {
        let me = self.core.as_ptr();
        let inner = &*ev.0;
        loop {
            // AcqRel on the claim: acquire whatever the previous owner did with `next` before it released the
            // claim; release is not needed by anyone but keeps the claim a full handover point.
            match inner.list.compare_exchange(ptr::null_mut(), me, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(cur) if unpinned(cur) == me => {
                    // Already queued here. Write the claim back unchanged (an RMW with Release): the consumer
                    // releases the claim with an acquiring RMW before running the hook, so it reads this write
                    // or a later one and therefore sees everything this thread did before the send. A plain
                    // load here would allow the store-buffer race where the hook misses our data.
                    if inner.list.compare_exchange(cur, cur, Ordering::Release, Ordering::Relaxed).is_ok() {
                        ring::record(RingOp::SendQueued, inner.name, self.core().name);
                        return false;
                    }
                }
                Err(cur) if is_pinned(cur) => spin_wait(),
                Err(cur) => self.claimed_elsewhere(inner, cur),
            }
        }
        ring::record(RingOp::Send, inner.name, self.core().name);
        let core = self.core();
        // The list's own reference, given back by `run`, `cancel` or `drop`.
        let raw = Arc::into_raw(Arc::clone(&ev.0)).cast_mut();
        let mut head = core.receiver.load(Ordering::Relaxed);
        loop {
            inner.next.store(head, Ordering::Relaxed);
            // Release: publishes `next` (and the hook's data) to the consumer's acquiring swap.
            match core.receiver.compare_exchange_weak(head, raw, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(h) => head = h,
            }
        }
        if head.is_null() {
            core.wake();
        }
        true
    }

    /// `ev` is claimed by `other`. Pin that claim so `other` cannot be freed while its name is read, then panic.
    /// Returns (and the send retries) if the claim changed meanwhile.
    #[cold]
    fn claimed_elsewhere(&self, ev: &EventInner, other: *mut Core) {
        if ev.list.compare_exchange(other, pinned(other), Ordering::Acquire, Ordering::Relaxed).is_err() {
            return;
        }
        // SAFETY: the claim is pinned, and a list is not freed while one of its events is pinned.
        let other_name = unsafe { (*other).name };
        // Unpin with an RMW so concurrent idempotent senders to `other` stay in the release sequence.
        while ev.list.compare_exchange(pinned(other), other, Ordering::Release, Ordering::Relaxed).is_err() {}
        panic!(
            "event {:?} sent to event list {:?} while queued on event list {:?}: an event belongs to one list",
            ev.name,
            self.core().name,
            other_name
        );
    }

    /// Run at most `limit` events, in the order they were sent, and return whether events are still pending.
    ///
    /// Semantics: if no events are left over from an earlier call, the whole inbox is taken (one swap) and
    /// reversed into FIFO order. Then up to `limit` of the taken events run; the rest stay for the next call,
    /// ahead of anything sent later. The inbox is taken at most once per call, so an event sent (or re-sent by
    /// its own hook) during this call runs in a later call, never twice in one call. `limit == 0` runs nothing
    /// and takes nothing; [`EventList::UNLIMITED`] runs everything taken. The result is true if taken events
    /// are left or the inbox is non-empty: the caller must call again (the waker is not called for those).
    ///
    /// After each hook, `birdrcu::assert_quiescent()` checks that the hook left no RCU read section open.
    ///
    /// # Panics
    /// If another thread is running or cancelling on this list, or if a hook of this list calls `run` on it.
    /// A panicking hook propagates; the list stays consistent (that event is no longer queued).
    pub fn run(&self, limit: usize) -> bool {
        self.run_with(limit, || {})
    }

    /// [`run`](EventList::run), calling `after_each` after every hook (after the RCU check), still as the
    /// list's consumer. A scheduler uses it to do per-hook bookkeeping (resetting temporary allocations, say)
    /// without one `run(1)` call per event. `after_each` must not call `run` on this list; it is not called
    /// for a hook that panics.
    ///
    /// # Panics
    /// As [`run`](EventList::run); a panic in `after_each` propagates the same way.
    pub fn run_with(&self, limit: usize, mut after_each: impl FnMut()) -> bool {
        let core = self.core();
        let me = self.core.as_ptr();
        let _consumer = core.consume_for_run();
        if limit == 0 {
            return !self.is_empty();
        }
        if core.executor.load(Ordering::Relaxed).is_null() {
            // Acquire: see the `next` fields written by every sender whose push is in the chain (each push is
            // a release, and the later pushes are RMWs continuing the release sequence).
            let mut cur = core.receiver.swap(ptr::null_mut(), Ordering::Acquire);
            let mut fifo = ptr::null_mut();
            while !cur.is_null() {
                // SAFETY: `cur` is linked on this list, which holds a reference to it.
                let e = unsafe { &*cur };
                let next = e.next.load(Ordering::Relaxed);
                e.next.store(fifo, Ordering::Relaxed);
                fifo = cur;
                cur = next;
            }
            core.executor.store(fifo, Ordering::Relaxed);
        }
        let mut ran = 0;
        while ran < limit {
            let head = core.executor.load(Ordering::Relaxed);
            if head.is_null() {
                break;
            }
            // SAFETY: `head` came from `Arc::into_raw` in `send`; the list's reference moves to `ev` and is
            // dropped after the hook (or during unwinding).
            let ev = unsafe { Arc::from_raw(head) };
            core.executor.store(ev.next.load(Ordering::Relaxed), Ordering::Relaxed);
            ev.next.store(ptr::null_mut(), Ordering::Relaxed);
            // Release the claim so the hook (or anyone) may send the event again. AcqRel: acquire pairs with
            // idempotent senders' release; release hands our writes of `next` to the next claimer.
            loop {
                match ev.list.compare_exchange(me, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed) {
                    Ok(_) => break,
                    Err(cur) if cur == pinned(me) => spin_wait(),
                    Err(cur) => panic!(
                        "event {:?} on event list {:?} has a foreign claim {cur:p}",
                        ev.name, core.name
                    ),
                }
            }
            ring::record(RingOp::Run, ev.name, core.name);
            (ev.hook)();
            #[cfg(not(loom))]
            birdrcu::assert_quiescent();
            after_each();
            ran += 1;
        }
        !self.is_empty()
    }

    /// Whether nothing is queued. Exact on the consumer thread between runs; a snapshot elsewhere.
    pub fn is_empty(&self) -> bool {
        let core = self.core();
        core.executor.load(Ordering::Relaxed).is_null() && core.receiver.load(Ordering::Acquire).is_null()
    }
}

impl Drop for EventList {
    fn drop(&mut self) {
        let me = self.core.as_ptr();
        {
            let core = self.core();
            'outer: loop {
                // No sender can be active (they borrow the list), but a thread may be cancelling one of our
                // events (it pinned the claim and wants the consumer flag) or naming us in a panic (pinned).
                while core
                    .consumer
                    .compare_exchange(0, DRAINING, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
                {
                    spin_wait();
                }
                loop {
                    let (slot, head) = match core.executor.load(Ordering::Relaxed) {
                        h if !h.is_null() => (&core.executor, h),
                        _ => (&*core.receiver, core.receiver.load(Ordering::Acquire)),
                    };
                    if head.is_null() {
                        break 'outer;
                    }
                    // SAFETY: `head` is linked on this list, which holds a reference to it.
                    let ev = unsafe { &*head };
                    let next = ev.next.load(Ordering::Relaxed);
                    ev.next.store(ptr::null_mut(), Ordering::Relaxed);
                    match ev.list.compare_exchange(me, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed) {
                        Ok(_) => {
                            slot.store(next, Ordering::Relaxed);
                            ring::record(RingOp::Release, ev.name, core.name);
                            // SAFETY: the list's reference from `send`; the event is unlinked and unclaimed.
                            unsafe { drop(Arc::from_raw(head)) };
                        }
                        Err(_) => {
                            // Pinned: let the pinning thread finish (a canceller needs the consumer flag and
                            // will unlink the event), then look at the heads again.
                            ev.next.store(next, Ordering::Relaxed);
                            core.consumer.store(0, Ordering::Release);
                            spin_wait();
                            continue 'outer;
                        }
                    }
                }
            }
        }
        // SAFETY: allocated by `Box` in `new`; no event refers to this list any more and no thread holds a pin
        // on it, so nothing can reach it.
        unsafe { drop(Box::from_raw(me)) };
    }
}

impl fmt::Debug for EventList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventList").field("name", &self.name()).field("empty", &self.is_empty()).finish()
    }
}
