//! Deferred calls: closures that run after a grace period, at a safe point of some thread.
//!
//! `defer(f)` boxes `f` and hands crossbeam-epoch a tiny forwarding closure. When crossbeam decides the
//! grace period is over, the forwarder (running wherever crossbeam collects, perhaps inside another
//! thread's read section or under its locks) only moves the box to the global *ready* queue. Ready
//! closures are then run by the first thread that reaches a safe point, i.e. holds no domain and is in
//! no read section:
//!
//! * [`flush`], which the loop runtime calls between tasks and before sleeping;
//! * [`synchronize`](crate::synchronize) and [`GracePeriod::wait`](crate::GracePeriod::wait) when the
//!   caller holds no domain;
//! * the drop of an outermost [`ReadGuard`](crate::ReadGuard) when no domain is held.
//!
//! So a deferred closure may lock any domain and may itself call `defer` or `synchronize`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crossbeam_epoch as epoch;

use crate::tls;

type Deferred = Box<dyn FnOnce() + Send + 'static>;

/// Closures whose grace period has passed, waiting for a safe point. A leaf lock: never held while user
/// code runs.
static READY: Mutex<Vec<Deferred>> = Mutex::new(Vec::new());

/// Length of `READY`, readable without the lock. Only a hint for skipping the lock; `READY` itself is
/// the truth.
static READY_LEN: AtomicUsize = AtomicUsize::new(0);

/// Run `f` after a grace period: after every read section that was active when `defer` was called has
/// ended.
///
/// `f` runs on an arbitrary thread at a safe point (no domain held, no read section), so it may lock
/// domains. May be called anywhere, including inside read sections and under locks.
///
/// The closure waits in this thread's crossbeam bag until the bag fills, the thread pins often enough,
/// or the thread calls [`flush`]; threads that go idle should call `flush` first.
pub fn defer(f: impl FnOnce() + Send + 'static) {
    // One box, so the forwarder is two words and fits crossbeam's inline storage.
    let f: Deferred = Box::new(f);
    let pin = epoch::pin();
    pin.defer(move || push_ready(f));
}

fn push_ready(f: Deferred) {
    let mut ready = READY.lock().unwrap_or_else(PoisonError::into_inner);
    ready.push(f);
    READY_LEN.store(ready.len(), Ordering::Release);
}

/// Push this thread's pending deferred calls to crossbeam's global queue, try to advance the epoch and
/// collect, and, if the thread is at a safe point, run the deferred closures that are ready.
///
/// Returns the number of closures run by this call.
pub fn flush() -> usize {
    epoch::pin().flush();
    run_ready_if_safe()
}

/// Run ready closures if the calling thread is at a safe point.
pub(crate) fn run_ready_if_safe() -> usize {
    if tls::at_safe_point() && !std::thread::panicking() {
        run_ready()
    } else {
        0
    }
}

/// Called when a thread reaches a safe point on a hot path: run ready closures if there are any.
#[inline]
pub(crate) fn run_ready_hint() {
    if READY_LEN.load(Ordering::Relaxed) != 0 && !std::thread::panicking() {
        run_ready();
    }
}

/// Run one batch of ready closures. Closures that become ready meanwhile wait for the next safe point, so
/// a thread is never stuck here while others keep deferring.
fn run_ready() -> usize {
    let batch = {
        let mut ready = READY.lock().unwrap_or_else(PoisonError::into_inner);
        READY_LEN.store(0, Ordering::Relaxed);
        std::mem::take(&mut *ready)
    };
    let n = batch.len();
    let mut batch = Batch(batch.into_iter());
    for f in batch.0.by_ref() {
        f();
    }
    n
}

/// Puts closures back on the ready queue if one of them panics, so that the others still run.
struct Batch(std::vec::IntoIter<Deferred>);

impl Drop for Batch {
    fn drop(&mut self) {
        for f in self.0.by_ref() {
            push_ready(f);
        }
    }
}

/// Number of closures whose grace period has passed and that wait for a safe point (a hint).
pub fn pending_ready() -> usize {
    READY_LEN.load(Ordering::Relaxed)
}
