//! Synchronisation shim: the page allocator's shared state uses these types, so the same code compiles
//! against `loom` (under `--cfg loom`, for model checking) and against `std` (everywhere else).
//!
//! Only the state that crosses threads in the tier protocol goes through the shim: the global hot stack, the
//! cold store, the accounting counters and the registry of per-thread counters. Thread-local state (the local
//! hot cache's list, the temporary arena) is never shared and uses plain `Cell`/`RefCell`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poisoning.
///
/// Every critical section in this crate only moves page pointers between containers and cannot panic half
/// way (no user code runs under these locks), so a poisoned lock still guards consistent data.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Whether the calling thread is inside an RCU read section (for the "depleted while in RCU" counter).
///
/// Under loom the models run outside birdrcu's world, so this is always false there.
#[cfg(not(loom))]
pub(crate) fn in_rcu() -> bool {
    birdrcu::in_read_section()
}

#[cfg(loom)]
pub(crate) fn in_rcu() -> bool {
    false
}
