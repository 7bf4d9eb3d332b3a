//! The per-thread locking stack and RCU nesting counter, and the checks that use them.
//!
//! Each thread keeps, without any atomics:
//!
//! * one slot per level holding a pointer to the [`DomainInfo`] of the domain it holds at that level
//!   (null when none);
//! * `held`, a bit mask of the occupied slots: bit `i` is set iff slot `i` is non-null. The "last locked
//!   level" is the highest set bit, so the stack stays exact when guards are dropped out of LIFO order;
//! * `rcu_lockable`, the subset of `held` whose domains may be locked inside a read section (these must
//!   not be held across `synchronize()`);
//! * `rcu_depth`, the nesting depth of RCU read sections.
//!
//! All of it is `const`-initialised and has no destructor, so accessing it never fails, even while the
//! thread's other thread-locals are being torn down.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::levels::LevelId;

/// The shared, immutable description of a domain, plus the flag that keeps it alive if a guard leaks.
///
/// Lives in an `Arc` owned by the domain (and cloned into every [`DomainRef`](crate::DomainRef)). The
/// locking stack stores raw pointers to it.
#[derive(Debug)]
pub(crate) struct DomainInfo {
    pub(crate) name: Arc<str>,
    pub(crate) level: LevelId,
    pub(crate) rcu_lockable: bool,
    /// Set while some thread holds the domain. Used only by the domain's destructor to detect a guard
    /// that was leaked (`mem::forget`), in which case a thread's slot still points here and the info
    /// must never be freed.
    pub(crate) held: AtomicBool,
}

struct ThreadState {
    slots: [Cell<*const DomainInfo>; LevelId::COUNT],
    held: Cell<u16>,
    rcu_lockable: Cell<u16>,
    rcu_depth: Cell<usize>,
}

impl ThreadState {
    const fn new() -> Self {
        ThreadState {
            slots: [const { Cell::new(ptr::null()) }; LevelId::COUNT],
            held: Cell::new(0),
            rcu_lockable: Cell::new(0),
            rcu_depth: Cell::new(0),
        }
    }

    /// The info of the domain held at `level`.
    ///
    /// Must only be called for a level whose bit is set in `held`.
    fn held_info(&self, level: usize) -> &DomainInfo {
        let p = self.slots[level].get();
        assert!(!p.is_null(), "birdrcu: locking stack corrupted (empty slot {level} marked held)");
        // SAFETY: a slot is non-null only between a successful lock and the drop of its guard. The guard
        // borrows the domain, which owns an `Arc<DomainInfo>`, so the info is alive while the guard is.
        // If the guard is leaked instead of dropped, the slot is never cleared, the domain's `held` flag
        // stays set, and the domain's destructor moves a strong count of the `Arc` to a
        // never-emptied static list (`domain::InfoOwner::drop`), so the pointee outlives the slot in every case. The info is only
        // read through shared references (its only mutable part is an atomic).
        unsafe { &*p }
    }
}

thread_local! {
    static STATE: ThreadState = const { ThreadState::new() };
}

#[inline]
fn bit(level: LevelId) -> u16 {
    1u16 << level.index()
}

/// Highest level whose bit is set in `mask` (which must be non-zero).
#[inline]
fn highest(mask: u16) -> usize {
    debug_assert!(mask != 0);
    15 - mask.leading_zeros() as usize
}

/// Check that the calling thread may lock the domain described by `info`, run `acquire` (which takes the
/// mutex) and record the domain on the locking stack. Panics, before acquiring anything, on a violation.
#[inline]
pub(crate) fn lock_with<R>(info: &DomainInfo, acquire: impl FnOnce() -> R) -> R {
    STATE.with(|s| {
        let held = s.held.get();
        let b = bit(info.level);
        // Any held level at or after ours is a violation: same slot (relock or two domains of one
        // level) or a later level (out of order).
        if held & !(b - 1) != 0 {
            order_violation(s, info, held);
        }
        if !info.rcu_lockable && s.rcu_depth.get() != 0 {
            rcu_lock_violation(info, s.rcu_depth.get());
        }
        let r = acquire();
        s.slots[info.level.index()].set(info);
        s.held.set(held | b);
        if info.rcu_lockable {
            s.rcu_lockable.set(s.rcu_lockable.get() | b);
        }
        r
    })
}

/// Remove the domain described by `info` from the locking stack. Guards may be dropped in any order:
/// the "last locked" level is recomputed from the mask, so the remaining domains keep their meaning.
#[inline]
pub(crate) fn unlocked(info: &DomainInfo) {
    STATE.with(|s| {
        let i = info.level.index();
        debug_assert!(ptr::eq(s.slots[i].get(), info), "birdrcu: unlocking a domain not on the stack");
        s.slots[i].set(ptr::null());
        s.held.set(s.held.get() & !bit(info.level));
        s.rcu_lockable.set(s.rcu_lockable.get() & !bit(info.level));
    })
}

/// Whether the calling thread holds the domain described by `info`.
#[inline]
pub(crate) fn is_held(info: &DomainInfo) -> bool {
    STATE.with(|s| ptr::eq(s.slots[info.level.index()].get(), info))
}

/// Number of domains the calling thread holds.
#[inline]
pub(crate) fn lock_depth() -> usize {
    STATE.with(|s| s.held.get().count_ones() as usize)
}

/// Current RCU read-section nesting depth of the calling thread.
#[inline]
pub(crate) fn rcu_depth() -> usize {
    STATE.with(|s| s.rcu_depth.get())
}

/// Enter one level of read section; returns the new depth.
#[inline]
pub(crate) fn rcu_enter() -> usize {
    STATE.with(|s| {
        let d = s.rcu_depth.get() + 1;
        s.rcu_depth.set(d);
        d
    })
}

/// Leave one level of read section; returns the new depth. `held` tells whether any domain is held.
#[inline]
pub(crate) fn rcu_leave() -> (usize, bool) {
    STATE.with(|s| {
        let d = s.rcu_depth.get();
        debug_assert!(d > 0, "birdrcu: read section depth underflow");
        let d = d - 1;
        s.rcu_depth.set(d);
        (d, s.held.get() != 0)
    })
}

/// Whether deferred closures may run on this thread now: no read section and no domain held.
#[inline]
pub(crate) fn at_safe_point() -> bool {
    STATE.with(|s| s.rcu_depth.get() == 0 && s.held.get() == 0)
}

/// Panic unless the calling thread may wait for a grace period (`what` names the caller for the
/// message): it must not be inside a read section, and must not hold a domain that readers may lock.
pub(crate) fn check_can_wait(what: &str) {
    STATE.with(|s| {
        let depth = s.rcu_depth.get();
        if depth != 0 {
            wait_in_read_violation(what, depth);
        }
        let lockable = s.rcu_lockable.get();
        if lockable != 0 {
            wait_holding_lockable_violation(s, what, lockable);
        }
    })
}

#[cold]
#[inline(never)]
fn order_violation(s: &ThreadState, info: &DomainInfo, held: u16) -> ! {
    let level = info.level.index();
    if held & bit(info.level) != 0 {
        let other = s.held_info(level);
        if ptr::eq(other, info) {
            panic!(
                "lock order violation: relocking domain \"{}\" ({}) while holding \"{}\" ({}): the same domain",
                info.name, info.level, other.name, other.level
            );
        }
        panic!(
            "lock order violation: locking domain \"{}\" ({}) while holding \"{}\" ({}): two domains of one level",
            info.name, info.level, other.name, other.level
        );
    }
    let other = s.held_info(highest(held));
    panic!(
        "lock order violation: locking domain \"{}\" ({}) while holding \"{}\" ({})",
        info.name, info.level, other.name, other.level
    );
}

#[cold]
#[inline(never)]
fn rcu_lock_violation(info: &DomainInfo, depth: usize) -> ! {
    panic!(
        "RCU violation: locking RCU-waited domain \"{}\" ({}) inside an RCU read section (depth {depth})",
        info.name, info.level
    );
}

#[cold]
#[inline(never)]
fn wait_in_read_violation(what: &str, depth: usize) -> ! {
    panic!("RCU violation: {what} inside an RCU read section (depth {depth})");
}

#[cold]
#[inline(never)]
fn wait_holding_lockable_violation(s: &ThreadState, what: &str, lockable: u16) -> ! {
    let other = s.held_info(highest(lockable));
    panic!(
        "RCU violation: {what} while holding RCU-lockable domain \"{}\" ({}), which readers may wait on",
        other.name, other.level
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_bit() {
        assert_eq!(highest(1), 0);
        assert_eq!(highest(0b1010), 3);
        assert_eq!(highest(1 << 9), 9);
    }

    #[test]
    fn fresh_thread_is_quiescent() {
        std::thread::spawn(|| {
            assert_eq!(lock_depth(), 0);
            assert_eq!(rcu_depth(), 0);
            assert!(at_safe_point());
        })
        .join()
        .unwrap();
    }
}
