//! RCU read sections on top of crossbeam-epoch.
//!
//! A read section is a crossbeam-epoch pin plus one step of this thread's nesting counter. The counter
//! is what the lock-order checks and [`assert_quiescent`] look at; the pin is what grace periods wait
//! for.

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;

use crossbeam_epoch as epoch;

use crate::{defer, tls};

/// An RCU read section. While it lives, memory retired with [`defer`](crate::defer) (or through
/// [`epoch()`](ReadGuard::epoch)) after the section started is not reclaimed.
///
/// Sections nest; each guard is one level. `!Send`: a section belongs to its thread.
pub struct ReadGuard {
    // Dropped by hand in `Drop`, so that the thread is unpinned before deferred closures run there.
    pin: ManuallyDrop<epoch::Guard>,
    _not_send: PhantomData<*const ()>,
}

/// Enter an RCU read section.
///
/// The outermost section pins the thread in crossbeam-epoch, which publishes the pin and then issues a
/// `SeqCst` fence before any protected pointer can be loaded; nested sections only count.
#[inline]
pub fn read() -> ReadGuard {
    let pin = epoch::pin();
    tls::rcu_enter();
    ReadGuard { pin: ManuallyDrop::new(pin), _not_send: PhantomData }
}

impl ReadGuard {
    /// The crossbeam-epoch guard of this section, for loading `crossbeam_epoch::Atomic` pointers and
    /// for `defer_destroy`.
    ///
    /// Closures deferred through it run inside crossbeam's collector, possibly on a thread that holds
    /// domains or is inside a read section. Use it only for plain memory reclamation; anything that
    /// locks, allocates from a pool or has other side effects goes through [`defer`](crate::defer).
    #[inline]
    pub fn epoch(&self) -> &epoch::Guard {
        &self.pin
    }

    /// The calling thread's read-section nesting depth (at least 1 while this guard lives).
    pub fn depth(&self) -> usize {
        tls::rcu_depth()
    }
}

impl Drop for ReadGuard {
    #[inline]
    fn drop(&mut self) {
        let (depth, holds_locks) = tls::rcu_leave();
        // SAFETY: `self.pin` is not used after this point: `drop` runs once and nothing below reads it.
        unsafe { ManuallyDrop::drop(&mut self.pin) };
        if depth == 0 && !holds_locks {
            defer::run_ready_hint();
        }
    }
}

impl fmt::Debug for ReadGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadGuard").field("depth", &tls::rcu_depth()).finish()
    }
}

/// Whether the calling thread is inside an RCU read section.
#[inline]
pub fn in_read_section() -> bool {
    tls::rcu_depth() != 0
}

/// Panic if the calling thread is inside an RCU read section.
///
/// Called by the loop runtime after every event, timer and socket hook: a read section must never
/// outlive the task that opened it.
#[inline]
pub fn assert_quiescent() {
    let depth = tls::rcu_depth();
    if depth != 0 {
        leaked_section(depth);
    }
}

#[cold]
#[inline(never)]
fn leaked_section(depth: usize) -> ! {
    panic!("RCU violation: read section leaked: thread is inside an RCU read section (depth {depth}) at a quiescent point");
}
