//! [`UseCount`]: a lock-free use count whose last unlock activates a prune callback.

use std::fmt;

use crate::callback::Callback;
use crate::sync::{AtomicU64, Ordering};

/// Bits of the word holding the count of references.
const COUNT_BITS: u32 = 44;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
/// One unlock in progress (the high 20 bits count them).
const UNLOCKING_ONE: u64 = 1 << COUNT_BITS;
const UNLOCKING_MAX: u64 = u64::MAX >> COUNT_BITS;

/// A use count for objects that are found through a shared index and pruned by their owner's loop.
///
/// One `u64`: the low 44 bits count references, the high 20 bits count unlocks in progress. An unlock first
/// announces itself in the high bits, decides from the value it saw whether it is the last reference, fires
/// the prune callback if so, and only then removes its reference and its announcement in one subtraction.
///
/// * The effective count seen by the `k`-th announcing unlocker is `count - in_progress`, the references not
///   already being dropped by an earlier unlocker. Announcements are totally ordered (they are RMWs on one
///   word) and each lowers the effective count by one, so exactly one unlocker of a group sees it reach zero.
/// * A reference taken meanwhile (`lock`, or `revive` by a reader that found the object) raises the count; the
///   pruner then sees `count() > 0` and keeps the object. If it raced with the last unlock the callback has
///   already fired, so the pruner runs, finds the object alive, and does nothing.
/// * The callback fires before the last reference is removed, so the pruner may run while that unlock is
///   still in progress: it must treat `pending_unlocks() > 0` as "look again later" (re-activate itself) and
///   prune only when [`finished`](Self::finished).
///
/// Orderings: RMWs are `AcqRel` and loads `Acquire`, so a pruner that sees `finished()` has seen every write
/// the users made before their unlocks, as with `Arc`'s last drop.
pub struct UseCount {
    word: AtomicU64,
}

impl UseCount {
    /// A use count holding one reference (the creator's).
    pub fn new() -> UseCount {
        UseCount::with_count(1)
    }

    /// A use count holding `count` references; 0 makes sense only for an object its pruner may revive.
    ///
    /// # Panics
    /// If `count` does not fit in 44 bits.
    pub fn with_count(count: u64) -> UseCount {
        assert!(count <= COUNT_MASK, "use count {count} out of range");
        UseCount { word: AtomicU64::new(count) }
    }

    /// Take another reference. The caller must already hold one.
    ///
    /// # Panics
    /// If the count was zero (use [`revive`](Self::revive)) or would overflow.
    pub fn lock(&self) {
        let old = self.word.fetch_add(1, Ordering::AcqRel);
        let count = old & COUNT_MASK;
        assert!(count != 0, "UseCount::lock() on a zero count; only the pruner may revive()");
        assert!(count != COUNT_MASK, "UseCount overflow");
    }

    /// Take a reference even if the count is zero: for a reader that found the object in its index (under RCU)
    /// after the last unlock, or for the pruner itself. The pruner must check [`finished`](Self::finished)
    /// again after a grace period before it frees anything.
    ///
    /// # Panics
    /// If the count would overflow.
    pub fn revive(&self) {
        let old = self.word.fetch_add(1, Ordering::AcqRel);
        assert!(old & COUNT_MASK != COUNT_MASK, "UseCount overflow");
    }

    /// Drop a reference. If it was the last one, activate `prune` (send its event) and return true.
    ///
    /// # Panics
    /// If there was no reference to drop, or more than 2^20 - 1 unlocks are in progress at once.
    pub fn unlock(&self, prune: &Callback) -> bool {
        let old = self.word.fetch_add(UNLOCKING_ONE, Ordering::AcqRel);
        let count = old & COUNT_MASK;
        let unlocking = old >> COUNT_BITS;
        assert!(unlocking < UNLOCKING_MAX, "too many concurrent UseCount unlocks");
        assert!(count > unlocking, "UseCount::unlock() without a reference");
        let last = count == unlocking + 1;
        if last {
            prune.activate();
        }
        self.word.fetch_sub(UNLOCKING_ONE + 1, Ordering::AcqRel);
        last
    }

    /// The number of references (including those whose unlock is in progress).
    pub fn count(&self) -> u64 {
        self.word.load(Ordering::Acquire) & COUNT_MASK
    }

    /// The number of unlocks in progress.
    pub fn pending_unlocks(&self) -> u64 {
        self.word.load(Ordering::Acquire) >> COUNT_BITS
    }

    /// For the pruner: no references and no unlock in progress.
    pub fn finished(&self) -> bool {
        self.word.load(Ordering::Acquire) == 0
    }
}

impl Default for UseCount {
    fn default() -> Self {
        UseCount::new()
    }
}

impl fmt::Debug for UseCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.word.load(Ordering::Acquire);
        f.debug_struct("UseCount")
            .field("count", &(v & COUNT_MASK))
            .field("pending_unlocks", &(v >> COUNT_BITS))
            .finish()
    }
}
