//! Blocks of item slots, the state every party shares, and the per-recipient published state.

use std::marker::PhantomData;
use std::mem::MaybeUninit;

use super::sync::{Arc, AtomicPtr, AtomicU64, AtomicUsize, Ordering, RwLock, UnsafeCell};
use crate::callback::Callback;

/// `RecipientState::block_seq` of an unregistered recipient.
pub(super) const GONE: u64 = u64::MAX;

/// A fixed number of slots, written once each by the writer in order, plus the link to the next block.
pub(super) struct Block<T> {
    /// Seq of slot 0. Blocks are created with `first_seq = next_seq` when the previous one is full, so it
    /// identifies the block: recipients publish it as their cursor.
    pub(super) first_seq: u64,
    /// Number of committed slots; stored (`Release`) by the writer after writing the slot.
    pub(super) end: AtomicUsize,
    /// The next block; stored (`Release`) by the writer only once this block is full.
    pub(super) next: AtomicPtr<Block<T>>,
    pub(super) slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

impl<T> Block<T> {
    /// A fresh empty block on the heap, owned by the caller as a raw pointer.
    pub(super) fn alloc(first_seq: u64, cap: usize) -> *mut Block<T> {
        let slots = (0..cap).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect();
        Box::into_raw(Box::new(Block {
            first_seq,
            end: AtomicUsize::new(0),
            next: AtomicPtr::new(std::ptr::null_mut()),
            slots,
        }))
    }

    /// Seq one past the last slot.
    pub(super) fn end_seq(&self) -> u64 {
        self.first_seq + self.slots.len() as u64
    }
}

/// What a recipient publishes for the writer (cleanup and announce).
pub(super) struct RecipientState {
    /// `first_seq` of the block the recipient reads (its cursor); [`GONE`] once unregistered. Stored with
    /// `Release` after the recipient's last access to the block it leaves.
    pub(super) block_seq: AtomicU64,
    /// Every item with a smaller seq is released by this recipient (`Release` store after the last read of
    /// the item).
    pub(super) released: AtomicU64,
    /// The trigger mark cleanup waits for this recipient to pass (`seq << 1 | block mode`, never 0), or 0.
    /// Set by cleanup, cleared by whichever of cleanup or the recipient swaps it back first.
    pub(super) marked: AtomicU64,
    /// Activated by `announce` when the recipient has unread items.
    pub(super) callback: Callback,
}

/// The part of a journal that outlives whichever of the writer and the recipients drops last.
pub(super) struct Shared<T> {
    pub(super) name: &'static str,
    pub(super) cap: usize,
    /// The writer's `next_seq` after each push, for `Recipient::pending` (`Release`/`Acquire`).
    pub(super) committed: AtomicU64,
    /// Registered recipients not yet dropped.
    pub(super) live: AtomicUsize,
    /// Set (`Release`) when the writer drops.
    pub(super) stopped: AtomicUsize,
    /// Oldest block and first item not yet dropped, stored by the writer when it drops, for `Drop` below.
    pub(super) head: AtomicPtr<Block<T>>,
    pub(super) first_live: AtomicU64,
    /// Cleanup trigger: the number of marked recipients that have not passed their mark, plus one while
    /// cleanup is still marking. Zero: no round outstanding.
    pub(super) waiting: AtomicUsize,
    pub(super) cleanup_cb: RwLock<Option<Callback>>,
    pub(super) _items: PhantomData<T>,
}

impl<T> Shared<T> {
    pub(super) fn new(name: &'static str, cap: usize) -> Arc<Shared<T>> {
        Arc::new(Shared {
            name,
            cap,
            committed: AtomicU64::new(1),
            live: AtomicUsize::new(0),
            stopped: AtomicUsize::new(0),
            head: AtomicPtr::new(std::ptr::null_mut()),
            first_live: AtomicU64::new(1),
            waiting: AtomicUsize::new(0),
            cleanup_cb: RwLock::new(None),
            _items: PhantomData,
        })
    }

    /// Count one marked recipient as having passed the mark; the last one activates the cleanup callback.
    pub(super) fn passed_mark(&self) {
        if self.waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            let cb = self.cleanup_cb.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(cb) = cb.as_ref() {
                cb.activate();
            }
        }
    }
}

/// Whether a recipient at `block_seq` (its cursor) having released everything below `released` has passed
/// `mark`: released up to the mark's seq and, in block mode, left the block that ends there.
pub(super) fn passed(mark: u64, block_seq: u64, released: u64) -> bool {
    if block_seq == GONE {
        return true;
    }
    let seq = mark >> 1;
    released >= seq && (mark & 1 == 0 || block_seq >= seq)
}

impl<T> Drop for Shared<T> {
    /// The last of the writer and the recipients is gone: drop the remaining items in seq order and free
    /// every block. The writer stored `head` and `first_live` before it dropped its reference, and `Arc`'s
    /// drop orders every other party's accesses before this.
    fn drop(&mut self) {
        let first_live = self.first_live.load(Ordering::Relaxed);
        let mut b = self.head.load(Ordering::Relaxed);
        while !b.is_null() {
            // SAFETY: blocks from `head` on are allocated by `Block::alloc` and freed only here or by the
            // writer's cleanup, which can no longer run; nobody else holds a reference any more.
            let block = unsafe { Box::from_raw(b) };
            let end = block.end.load(Ordering::Relaxed);
            for (i, slot) in block.slots[..end].iter().enumerate() {
                if block.first_seq + i as u64 >= first_live {
                    // SAFETY: slots below `end` were written, and those at or after `first_live` were not
                    // dropped by cleanup; each is dropped once here.
                    slot.with_mut(|p| unsafe { (*p).assume_init_drop() });
                }
            }
            b = block.next.load(Ordering::Relaxed);
        }
    }
}
