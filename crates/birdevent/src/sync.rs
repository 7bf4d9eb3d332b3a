//! The atomics this crate uses, from `std` normally and from `loom` under `--cfg loom`.
//!
//! Everything shared between threads goes through this module so the loom models in `tests/loom.rs` can explore
//! every interleaving of the real code. Spin-waits call [`spin_wait`], which is a scheduling point under loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::RwLock;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::RwLock;

pub(crate) use std::sync::atomic::Ordering;

/// Back off while waiting for another thread to finish a short step (a sender between its claim and its push,
/// a canceller or a panicking sender holding a pin). Each of those steps is a handful of instructions, so
/// yielding the time slice is enough; under loom it lets the model schedule the other thread.
#[inline]
pub(crate) fn spin_wait() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}

#[cfg(not(loom))]
std::thread_local! {
    static TOKEN: u8 = const { 0 };
}
#[cfg(loom)]
loom::thread_local! {
    static TOKEN: u8 = 0;
}

/// A nonzero number that identifies the calling thread while it is alive: the address of a thread-local byte.
/// Used as the owner value of an event list's consumer flag, never dereferenced.
#[inline]
pub(crate) fn thread_token() -> usize {
    TOKEN.with(|t| std::ptr::from_ref(t).addr())
}
