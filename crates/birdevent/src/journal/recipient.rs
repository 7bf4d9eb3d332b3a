//! [`Recipient`]: one reader of a journal, and [`JournalItem`], the item it holds.

use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Deref;

use super::block::{passed, Block, RecipientState, Shared, GONE};
use super::sync::{fence, Arc, ConstPtr, Ordering};
use super::Seq;

/// One reader of a [`Journal`](super::Journal), at its own position. Created by
/// [`Journal::register`](super::Journal::register) at the journal's tail; dropping it unregisters it.
///
/// Used by one loop at a time (`&mut self`); it may move between threads. Read with
/// `while let Some(item) = r.get() { ...; item.release() }`: draining until `get` returns `None` is what lets
/// the journal's cleanup trigger see that this recipient has passed (see the module docs).
pub struct Recipient<T> {
    pub(super) shared: Arc<Shared<T>>,
    pub(super) state: Arc<RecipientState>,
    /// The block read: pinned by `state.block_seq` (its `first_seq`).
    pub(super) block: *const Block<T>,
    /// Index in `block` of the next unreleased item (`cap` once the block is done).
    pub(super) pos: usize,
    /// Committed slots of `block` last seen.
    pub(super) end: usize,
    /// Seq of the next unreleased item; the published `state.released`.
    pub(super) released: u64,
}

// SAFETY: the recipient reads items by shared reference (T: Sync) from any thread and may, as the last owner
// of the shared part, drop them (T: Send). Its raw block pointer is valid from any thread (pinned by the
// published cursor, see the module docs).
unsafe impl<T: Send + Sync> Send for Recipient<T> {}
// SAFETY: `&self` methods only read atomics.
unsafe impl<T: Send + Sync> Sync for Recipient<T> {}

impl<T> Recipient<T> {
    /// The next unreleased item, or `None` when this recipient has released everything committed so far.
    /// Returns the same item again until it is released.
    pub fn get(&mut self) -> Option<JournalItem<'_, T>> {
        let cap = self.shared.cap;
        loop {
            // SAFETY: `block` is pinned: cleanup frees no block at or after a published cursor, and our cursor
            // is `block`'s first_seq (or the block is kept by the shared part after the writer dropped).
            let block = unsafe { &*self.block };
            if self.pos < self.end {
                let ptr = block.slots[self.pos].get();
                return Some(JournalItem { rec: self, ptr });
            }
            if self.pos < cap {
                // Acquire: pairs with the writer's Release store of `end` after writing the slot.
                let end = block.end.load(Ordering::Acquire);
                if end > self.pos {
                    self.end = end;
                    continue;
                }
                self.checkpoint();
                return None;
            }
            // Every slot of the block is released. A block is linked only once full, so a non-null `next`
            // means there is nothing more to read here.
            let next = block.next.load(Ordering::Acquire);
            if next.is_null() {
                self.checkpoint();
                return None;
            }
            self.block = next;
            self.pos = 0;
            self.end = 0;
            // SAFETY: `next` follows our pinned block, and cleanup frees only blocks before every cursor.
            let first_seq = unsafe { (*next).first_seq };
            // Release: our last access to the old block happens before cleanup sees the cursor off it.
            self.state.block_seq.store(first_seq, Ordering::Release);
            self.checkpoint();
        }
    }

    /// Items pushed and not yet released by this recipient.
    pub fn pending(&self) -> u64 {
        self.shared.committed.load(Ordering::Acquire) - self.released
    }

    /// Seq of the next item this recipient will get (everything before it is released).
    pub fn position(&self) -> Seq {
        Seq(self.released)
    }

    /// Whether the writer dropped: the remaining items stay readable, then `get` returns `None` for ever.
    pub fn is_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::Acquire) != 0
    }

    /// The journal's name.
    pub fn journal_name(&self) -> &'static str {
        self.shared.name
    }

    /// After publishing progress (a release or a cursor move), see whether cleanup marked us and we passed its
    /// mark. The SeqCst fence pairs with the one cleanup issues between marking us and re-reading our state:
    /// either it sees our progress, or we see its mark.
    fn checkpoint(&mut self) {
        fence(Ordering::SeqCst);
        // Acquire: pairs with cleanup's marking swap, so the round's count is set up before we decrement it.
        let mark = self.state.marked.load(Ordering::Acquire);
        if mark == 0 {
            return;
        }
        // SAFETY: `block` is pinned (see `get`).
        let block_seq = unsafe { (*self.block).first_seq };
        if passed(mark, block_seq, self.released)
            && self.state.marked.compare_exchange(mark, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
            self.shared.passed_mark();
        }
    }

    fn release_current(&mut self) {
        self.pos += 1;
        self.released += 1;
        // Release: our reads of the item happen before cleanup, which loads this with Acquire, drops it.
        self.state.released.store(self.released, Ordering::Release);
    }
}

impl<T> Drop for Recipient<T> {
    /// Unregister: cleanup ignores this recipient from now on. If cleanup was waiting for it, count it as
    /// passed (the SeqCst fence pairs with cleanup's, as in `checkpoint`).
    fn drop(&mut self) {
        // Release: our last block access happens before cleanup sees us gone.
        self.state.block_seq.store(GONE, Ordering::Release);
        self.shared.live.fetch_sub(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if self.state.marked.swap(0, Ordering::AcqRel) != 0 {
            self.shared.passed_mark();
        }
    }
}

impl<T> fmt::Debug for Recipient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient")
            .field("journal", &self.shared.name)
            .field("position", &self.released)
            .field("pending", &self.pending())
            .finish()
    }
}

/// The item a [`Recipient`] holds: read it through `Deref`, then [`release`](Self::release) it. Dropping it
/// without releasing leaves it the recipient's next item.
pub struct JournalItem<'a, T> {
    rec: &'a mut Recipient<T>,
    ptr: ConstPtr<MaybeUninit<T>>,
}

impl<T> JournalItem<'_, T> {
    /// The item's seq.
    pub fn seq(&self) -> Seq {
        Seq(self.rec.released)
    }

    /// Done with this item: the recipient moves to the next one, and once every recipient released it,
    /// cleanup may drop it.
    pub fn release(self) {
        let rec = {
            let JournalItem { rec, ptr } = self;
            // End the (loom-tracked) shared access to the slot before releasing it.
            let _slot = ptr;
            rec
        };
        rec.release_current();
    }
}

impl<T> Deref for JournalItem<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the slot was written before the writer's Release store of `end` that `get` acquired, it is
        // never written again, and cleanup drops it only after this recipient released it, which needs `self`
        // by value (the reference cannot outlive `self`).
        unsafe { self.ptr.deref().assume_init_ref() }
    }
}

impl<T: fmt::Debug> fmt::Debug for JournalItem<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalItem").field("seq", &self.seq()).field("item", &**self).finish()
    }
}
