//! Lock domains with a fixed level order, and RCU read sections, for birdd.
//!
//! Every mutex in the daemon is a *domain*: a [`Domain<L, T>`] (level fixed at compile time) or a
//! [`DynDomain<T>`] (level chosen at run time). Lock-free readers use RCU: [`read`] opens a read
//! section, [`defer`] runs a closure after a grace period, [`synchronize`] and [`begin_sync`] wait for
//! one. The two halves are one crate because their rules interlock.
//!
//! # Lock order
//!
//! The levels, first to last, are
//!
//! ```text
//! the_bird < meta < control < proto < subproto < service < rtable < attrs < logging < resource
//! ```
//!
//! A thread may lock a domain only if every domain it already holds has a strictly *earlier* level.
//! That forbids, in one rule, locking out of order, holding two domains of one level and relocking a
//! domain the thread already holds. Since every thread acquires in the same global order, no cycle of
//! waiters, hence no deadlock, can form between domains.
//!
//! The rule is checked on every `lock()`, in release builds too, against a per-thread *locking stack*:
//! one slot per level holding a pointer to the held domain's identity, and a bit mask of the occupied
//! slots. The check is a mask test (`held & (bit(level) | later bits) == 0`) before the mutex is taken, so
//! a violation panics before anything is acquired, with a message naming both domains and their levels:
//!
//! ```text
//! lock order violation: locking domain "table master4" (rtable) while holding "attrs cache" (attrs)
//! ```
//!
//! Guards may be dropped in any order. The "last locked level" is the highest occupied slot, recomputed
//! from the mask, so after an out-of-LIFO-order unlock the thread may lock exactly the levels after every
//! domain it still holds. Releasing in any order cannot create a deadlock; only the acquisition order
//! matters.
//!
//! Guards are `!Send`: the stack that records a domain belongs to the thread that locked it.
//!
//! # RCU
//!
//! A read section is a crossbeam-epoch pin plus a per-thread nesting counter. Sections nest; guards are
//! `!Send`. [`ReadGuard::epoch`] exposes the crossbeam guard, so data structures can use
//! `crossbeam_epoch::Atomic` pointers directly.
//!
//! * [`defer`]`(f)` runs `f` after a grace period, i.e. after every read section active at the call has
//!   ended. Ready closures run at a *safe point* of some thread (no domain held, no read section):
//!   [`flush`], the end of [`synchronize`], or the drop of an outermost [`ReadGuard`] on a thread holding
//!   no domain. So `f` may lock domains.
//! * [`synchronize`] blocks until a grace period has passed; [`begin_sync`] starts one and returns a
//!   [`GracePeriod`] to poll ([`GracePeriod::is_done`], never blocks) or wait for
//!   ([`GracePeriod::wait`]).
//! * [`assert_quiescent`] panics if the calling thread is in a read section; the loop runtime calls it
//!   after every hook, so a section never outlives the task that opened it.
//! * Threads that go idle call [`flush`] first, so their deferred closures are not stranded in a
//!   thread-local bag.
//!
//! # What the loop runtime must do
//!
//! * Call [`assert_quiescent`] after every event, timer and socket hook.
//! * Call [`flush`] when the thread holds no domain (between loop iterations) and always before it
//!   sleeps in `poll`; otherwise closures it deferred may wait in its thread-local bag until it wakes.
//! * Deferred closures run on whichever thread reaches a safe point first; they must be `Send` and must
//!   not assume a particular loop. A panicking closure propagates on the thread that ran it; the rest of
//!   its batch is put back and runs later.
//!
//! # How locks and RCU interact
//!
//! A domain is either *RCU-waited* (the default for every level but `resource`) or *RCU-lockable*
//! (`resource` domains, and any domain built with `new_rcu_lockable`):
//!
//! * Locking an RCU-waited domain inside a read section panics. A writer may hold that domain while it
//!   waits in `synchronize()` for the reader, and the reader would wait for the domain: a deadlock.
//! * Calling `synchronize()` (or `GracePeriod::wait`) while holding an RCU-lockable domain panics, for the
//!   mirror reason: readers may be blocked on it.
//! * Calling `synchronize()` inside a read section panics: the caller's own section would never end.
//!
//! # Invariants
//!
//! 1. A thread's slot for level `l` is non-null iff bit `l` of its mask is set iff it holds a domain of
//!    level `l`, and then the slot points at that domain's identity.
//! 2. A slot pointer is always dereferenceable: the guard borrows the domain that owns the identity; if
//!    a guard is leaked with `mem::forget`, the domain's destructor sees its `held` flag still set and
//!    parks the identity in a static list for good, so the stale slot stays valid (and the domain stays "held" by that thread).
//! 3. The RCU depth counter is non-zero iff the thread is pinned through this crate.
//! 4. Deferred closures run only at safe points, never inside crossbeam's collector.
//!
//! # Memory orderings
//!
//! The locking stack is thread-local and needs none. The mutexes give the usual acquire/release.
//!
//! The RCU side inherits crossbeam-epoch's: the outermost pin publishes the thread's epoch and then
//! issues a `SeqCst` fence before any protected load, so a writer's epoch scan (itself behind a `SeqCst`
//! fence) cannot miss a reader that has started loading pointers. A writer unlinks with a `Release`
//! store (or stronger) and then calls `defer`; the closure runs only after the global epoch has moved
//! twice past the epoch in which it was sealed, which implies every section pinned before it has
//! unpinned, and the unpins happen-before the run. A [`GracePeriod`] flag is set with `Release` by such
//! a closure and read with `Acquire`, extending that chain to the waiter. The ready queue is a mutex.
//!
//! Never pin through `crossbeam_epoch::pin()` directly: such sections are invisible to the checks here.
//!
//! # Examples
//!
//! Lock order:
//!
//! ```
//! use birdrcu::level::{Attrs, Rtable};
//! use birdrcu::Domain;
//!
//! let table: Domain<Rtable, Vec<u32>> = Domain::new("table master4", Vec::new());
//! let cache: Domain<Attrs, u64> = Domain::new("attrs cache", 0);
//!
//! // In order: rtable, then attrs.
//! {
//!     let mut t = table.lock();
//!     let mut c = cache.lock();
//!     t.push(1);
//!     *c += 1;
//!     assert_eq!(birdrcu::lock_depth(), 2);
//! }
//!
//! // Out of order: the panic names both domains, and nothing stays locked.
//! let err = std::panic::catch_unwind(|| {
//!     let _c = cache.lock();
//!     let _t = table.lock();
//! })
//! .unwrap_err();
//! let msg = err.downcast_ref::<String>().unwrap();
//! assert!(msg.contains("\"table master4\" (rtable) while holding \"attrs cache\" (attrs)"));
//! assert_eq!(birdrcu::lock_depth(), 0);
//! ```
//!
//! RCU: publish a new value, read it without locks, free the old one after a grace period.
//!
//! ```
//! # if cfg!(miri) { return; } // crossbeam-epoch needs special miri flags, see "Testing"
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//!
//! use crossbeam_epoch::{Atomic, Owned};
//!
//! let shared = Atomic::new(1u64);
//! {
//!     let r = birdrcu::read();
//!     // SAFETY: the pointer is non-null and only freed after a grace period, which `r` holds off.
//!     assert_eq!(unsafe { shared.load(Ordering::Acquire, r.epoch()).deref() }, &1);
//! }
//! let freed = Arc::new(AtomicBool::new(false));
//! {
//!     let r = birdrcu::read();
//!     let old = shared.swap(Owned::new(2u64), Ordering::AcqRel, r.epoch());
//!     let old = old.as_raw() as usize;
//!     let f = Arc::clone(&freed);
//!     birdrcu::defer(move || {
//!         // SAFETY: `old` came from `Owned::new` and was unlinked by the swap; every reader that could
//!         // see it has finished, and nobody else frees it.
//!         drop(unsafe { Box::from_raw(old as *mut u64) });
//!         f.store(true, Ordering::Release);
//!     });
//! }
//! // Waits for the grace period, then (no domain held) runs the closures that became ready.
//! birdrcu::synchronize();
//! assert!(freed.load(Ordering::Acquire));
//! # // SAFETY: no reader is left; the current value was never freed.
//! # drop(unsafe { shared.into_owned() });
//! ```
//!
//! # Testing
//!
//! `cargo test -p birdrcu` runs everything except the long RCU stress run
//! (`cargo test -p birdrcu --release -- --ignored`). Under miri, the lock-order tests run with the
//! strictest settings (`-Zmiri-strict-provenance`, Stacked Borrows, leak check). crossbeam-epoch itself
//! needs permissive provenance, Tree Borrows and no leak check (its global collector outlives `main`), so
//! the tests that pin are ignored under miri by default and run with
//! `MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-ignore-leaks" cargo +nightly miri test -p birdrcu -- --include-ignored`.
//!
//! # Unsafe
//!
//! The crate allows `unsafe_code` for two things only: dereferencing the raw domain-identity pointers
//! kept in the thread-local locking stack (storing a pointer instead of an `Arc` keeps `lock()` free of
//! reference-count traffic), and dropping the crossbeam pin by hand in `ReadGuard::drop` (so the thread
//! is unpinned before deferred closures run there). Each block carries its `SAFETY:` argument.

#![allow(unsafe_code)]

mod defer;
mod domain;
mod levels;
mod rcu;
mod sync;
mod tls;

pub use defer::{defer, flush, pending_ready};
pub use domain::{lock_depth, Domain, DomainGuard, DomainRef, DynDomain};
pub use levels::{level, Level, LevelId};
pub use rcu::{assert_quiescent, in_read_section, read, ReadGuard};
pub use sync::{begin_sync, synchronize, GracePeriod};
