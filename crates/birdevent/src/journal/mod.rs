//! The export journal: a single-writer, many-reader log of changes, each reader at its own position.
//!
//! A table pushes one item per route change; every export [`Recipient`] reads the items in order, releases
//! them, and once every recipient released an item, the writer's [`Journal::cleanup`] drops it. Reading and
//! releasing are lock-free and never wait for the writer or for other recipients.
//!
//! ```
//! use birdevent::journal::Journal;
//! use birdevent::{Callback, Event, EventList};
//!
//! let mut journal = Journal::new("example", 4);
//! assert_eq!(journal.push("nobody listens"), Err("nobody listens"));
//! let mut r = journal.register(Callback::new(Event::new("export", || {}), EventList::new("exporter")));
//! journal.push("a").unwrap();
//! journal.push("b").unwrap();
//! let mut seen = Vec::new();
//! while let Some(item) = r.get() {
//!     seen.push(*item);
//!     item.release();
//! }
//! assert_eq!(seen, ["a", "b"]);
//! assert_eq!(journal.cleanup().items_freed, 2);
//! ```
//!
//! # Data
//!
//! ```text
//!   Journal (writer, &mut self: lives in its owner's lock domain)
//!     head ──> Block ──next──> Block ──next──> Block <── tail      (tail_end slots committed)
//!              first_seq        ...            first_seq
//!              end: AtomicUsize                end
//!              slots: [MaybeUninit<T>; cap]    slots
//!     drop cursor (block, pos) = first_live      next_seq
//!     recipients: [Arc<RecipientState { block_seq, released, marked, callback }>]
//!     shared: Arc<Shared { committed, live, stopped, waiting, cleanup callback, ... }>
//!
//!   Recipient (one loop at a time, Send)
//!     block, pos, end (cached), released      + Arc<RecipientState>, Arc<Shared>
//! ```
//!
//! Items get a [`Seq`]: 1, 2, 3, ... strictly increasing, never reset (BIRD resets it when the journal
//! empties, which forces every recipient to reset its seq bitmaps; with 64 bits there is no need). Blocks
//! hold `cap` slots (the constructor's `block_size`); a block is created with `first_seq = next_seq` only
//! when the previous one is full, so `first_seq` identifies a block and block `k + 1` starts where block `k`
//! ends.
//!
//! # Protocol: who writes what, in which order
//!
//! **Push** (writer): if no recipient is registered, hand the item back (`Err`): nobody would read it, and
//! no seq is consumed. Otherwise, if the tail is full, allocate a block and link it from the tail's `next`
//! (`Release`); since the old tail is full, its last `end` store precedes the link. Write the slot, then
//! store the tail's `end` (`Release`), then `committed = next_seq` (`Release`, for `pending`).
//!
//! **Read** (recipient, [`Recipient::get`]): the next item is slot `pos` of the cursor block. If `pos` is
//! below the cached `end`, return it; else reload `end` (`Acquire`, pairs with the push). If the block is
//! done (`pos == cap`, every slot released), load `next` (`Acquire`): null means nothing more yet; otherwise
//! move there and publish the new cursor `block_seq = next.first_seq` (`Release`). Because blocks are linked
//! only once full, a reader never has to re-read the old block's `end` after seeing `next`.
//!
//! **Release** (recipient, [`JournalItem::release`]): `pos += 1`, `released += 1`, publish `released`
//! (`Release`, after the last read of the item). `get` returns the same item until it is released.
//!
//! **Register** (writer, `&mut self`): the recipient starts at the tail (`block = tail`, `pos = tail_end`,
//! `released = next_seq`): it sees only items pushed after registration. If there is no block yet, an empty
//! one is allocated so every recipient always has a cursor block. Since register and cleanup both take
//! `&mut self`, the cursor is published before any cleanup can look.
//!
//! **Unregister** (dropping the recipient): store `block_seq = GONE` (`Release`); cleanup forgets it.
//!
//! **Cleanup** (writer, [`Journal::cleanup`]): scan the recipients (`Acquire` loads), forgetting the gone
//! ones; `min_released` = the smallest `released` (or `next_seq` if none), `min_block` = the smallest
//! `block_seq`. Drop every item below `min_released`, in seq order. Then free blocks from the head while the
//! head is not the tail, all its items are dropped, and `head.end_seq() <= min_block` (no cursor on it).
//!
//! # Why blocks can be freed without RCU
//!
//! A recipient dereferences only its cursor block and the block its cursor block's `next` points to, which
//! it then publishes as its new cursor.
//! * Cursors only move forward, each time from the block the recipient holds to that block's `next`.
//! * Cleanup frees only a prefix of the chain, and only blocks that end at or before every published cursor.
//! * So while a recipient's published cursor is block `B`, neither `B` nor any block after it is freed: the
//!   block it loads from `B.next` is safe to use even before it publishes it, and when cleanup reads an old
//!   cursor it keeps more than needed, never less.
//! * When cleanup sees a cursor past `B` (or `GONE`), it read a `Release` store that the recipient issued
//!   after its last access to `B`, through an `Acquire` load: every access happens before the free.
//! * The tail is never freed, so `push` and `register` always have a block once one exists.
//!
//! Items: cleanup drops item `s` only after loading (`Acquire`) every recipient's `released > s`, which
//! each recipient stored (`Release`) after its last read of `s`; a recipient never reads below its
//! `released`, and a new one starts at `next_seq`. So each item is dropped exactly once, after every
//! recipient released it, in seq order. When the writer drops, it records its drop cursor in the shared
//! part and sets `stopped`; recipients keep reading what is committed, then `get` returns `None` for ever.
//! The last of the writer and the recipients to drop its `Arc` drops the remaining items (in seq order)
//! and frees every block.
//!
//! # Notification
//!
//! [`Journal::announce`] activates the [`Callback`] of every recipient whose `released < next_seq`
//! (unread or unreleased items). The owner calls it after pushes (from its settle timer). A callback is
//! idempotent, and an event hook sees everything its sender did before the send, so every pushed item is
//! eventually read by a recipient that drains (`get` until `None`) each time its callback runs. This
//! contract — every push is eventually followed by an announce, and recipients drain — is also what makes
//! the cleanup trigger below live.
//!
//! # Cleanup trigger: O(recipients) per block
//!
//! Running cleanup after every release would cost O(recipients) per item. Instead, after freeing what it can,
//! cleanup *arms a round*: it picks a mark — the end seq of the head block while the head is not the tail
//! ("block mode": wait until every recipient's cursor left the head), else `next_seq` if items are held
//! ("item mode": wait until every recipient released everything pushed so far; so a quiet journal still
//! empties, which the table's flush relies on). A recipient has *passed* a mark when its `released` reached
//! the mark's seq and, in block mode, its cursor is at or past it. Cleanup then:
//!
//! 1. `waiting = 1` (its own bias, so the count cannot reach zero while it is still marking);
//! 2. for each recipient not yet passed: `waiting += 1`, `marked = mark` (swap, `AcqRel`), SeqCst fence,
//!    re-read the recipient's state; if it has passed meanwhile, try to take the mark back (swap to 0): if
//!    the swap returns the mark, the recipient never consumed it, and `waiting -= 1`;
//! 3. remove the bias: if that brings `waiting` to 0, every recipient passed during marking, and cleanup
//!    loops (this run makes progress: the head block or the held items are now freeable).
//!
//! A recipient checks its mark at *checkpoints*, each after it published progress: after moving its cursor,
//! when `get` returns `None`, and when it unregisters. A checkpoint is a SeqCst fence, then an `Acquire`
//! load of `marked`; if it holds a mark the recipient has passed, it CASes it to 0 and decrements `waiting`;
//! the decrement that brings it to 0 activates the cleanup callback.
//!
//! The race this closes: a recipient passes the mark while cleanup is deciding to mark it. The SeqCst fences
//! order the two sides: either cleanup's fence comes first, and the recipient's checkpoint sees the mark;
//! or the recipient's comes first, and cleanup's re-read sees its progress. Exactly one party takes the mark
//! back (both use an RMW to clear it), so `waiting` counts each marked recipient exactly once. Progress that
//! makes a recipient pass is a release or a cursor move, and a draining recipient reaches a checkpoint after
//! each (its next `get` returns `None` or moves on), so every marked recipient eventually passes; the last
//! one activates cleanup. Unregistering counts as passing, so dropping the slowest recipient triggers it.
//!
//! Only one round is outstanding at a time: cleanup arms a new round only when `waiting` is 0, which
//! implies every mark of the previous round was cleared (a recipient clears its mark before decrementing).
//! A recipient that read an old mark and CASes a new, identical one is harmless: the same mark means the
//! same condition. An untriggered cleanup (the owner's periodic call) still frees what it can. Between two
//! rounds the cost is one round of marking: O(recipients) per block in block mode.
//!
//! Compared with BIRD's `lfjour`: no RCU (cursors pin blocks instead), no seq reset, and marks with an exact
//! count instead of a pool of twenty cleanup tokens.
//!
//! # Memory orderings, and why
//!
//! * Slot write, then `end` store `Release`; reader `Acquire` load of `end` before reading the slot.
//! * `next` store `Release` after the block's last `end` store; reader `Acquire` load of `next`.
//! * `released` and `block_seq` stores `Release`, cleanup's loads `Acquire`: recipient accesses happen
//!   before the drop or free they permit.
//! * Marks: SeqCst fences on both sides of the store/load (Dekker) pattern; `marked` RMWs `AcqRel`.
//!   `waiting` is incremented before the mark is set, and decremented by a recipient only after its CAS read
//!   that mark, so the count never drops below the marked recipients still pending.
//! * Final drop: `Arc`'s drop orders every party's accesses before the last owner frees the blocks.

mod block;
mod recipient;
mod sync;

use std::fmt;

use self::block::{passed, Block, RecipientState, Shared, GONE};
use self::sync::{fence, Arc, AtomicU64, Ordering};
use crate::callback::Callback;

pub use self::recipient::{JournalItem, Recipient};

/// The journal position of an item: 1, 2, 3, ... in push order, never reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Seq(pub u64);

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What one [`Journal::cleanup`] call freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CleanupStats {
    /// Items dropped.
    pub items_freed: u64,
    /// Blocks freed.
    pub blocks_freed: u64,
}

/// The writing side of a journal. Single writer: every method that changes it takes `&mut self`, so its
/// owner keeps it inside its lock domain. See the module docs for the protocol.
pub struct Journal<T> {
    shared: Arc<Shared<T>>,
    cap: usize,
    /// Oldest block still allocated (null before the first block).
    head: *mut Block<T>,
    /// Block being filled, and its committed slots.
    tail: *mut Block<T>,
    tail_end: usize,
    /// Where the first item not yet dropped is (or `pos == cap` of the block before it).
    drop_block: *mut Block<T>,
    drop_pos: usize,
    first_live: u64,
    next_seq: u64,
    blocks: usize,
    has_cleanup_cb: bool,
    recipients: Vec<Arc<RecipientState>>,
}

// SAFETY: the journal owns its blocks and items; items are read by shared reference from recipient threads
// (T: Sync) and dropped by whichever thread runs cleanup or drops last (T: Send).
unsafe impl<T: Send + Sync> Send for Journal<T> {}
// SAFETY: `&self` methods only read writer-local fields and atomics.
unsafe impl<T: Send + Sync> Sync for Journal<T> {}

impl<T> Journal<T> {
    /// An empty journal whose blocks hold `block_size` items.
    ///
    /// # Panics
    /// If `block_size` is 0.
    pub fn new(name: &'static str, block_size: usize) -> Journal<T> {
        assert!(block_size > 0, "journal {name}: block size must be at least 1");
        Journal {
            shared: Shared::new(name, block_size),
            cap: block_size,
            head: std::ptr::null_mut(),
            tail: std::ptr::null_mut(),
            tail_end: 0,
            drop_block: std::ptr::null_mut(),
            drop_pos: 0,
            first_live: 1,
            next_seq: 1,
            blocks: 0,
            has_cleanup_cb: false,
            recipients: Vec::new(),
        }
    }

    /// The journal's name.
    pub fn name(&self) -> &'static str {
        self.shared.name
    }

    /// Append `item` and return its seq, or hand it back if no recipient is registered (no seq is used).
    pub fn push(&mut self, item: T) -> Result<Seq, T> {
        if self.shared.live.load(Ordering::Relaxed) == 0 {
            return Err(item);
        }
        // A recipient was registered, so a block exists (the tail is never freed).
        if self.tail_end == self.cap {
            let block = Block::alloc(self.next_seq, self.cap);
            // SAFETY: the tail is allocated (never freed while it is the tail). Release: the block's fields
            // and the old tail's last `end` store happen before a reader that follows the link.
            unsafe { (*self.tail).next.store(block, Ordering::Release) };
            self.tail = block;
            self.tail_end = 0;
            self.blocks += 1;
        }
        // SAFETY: the tail is allocated, and its slot `tail_end` is not committed: no reader looks at it until
        // the `end` store below, and nothing else writes it.
        let tail = unsafe { &*self.tail };
        // SAFETY: as above; the slot is uninitialized, so nothing is overwritten without being dropped.
        tail.slots[self.tail_end].with_mut(|p| unsafe { (*p).write(item) });
        self.tail_end += 1;
        tail.end.store(self.tail_end, Ordering::Release);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.shared.committed.store(self.next_seq, Ordering::Release);
        Ok(Seq(seq))
    }

    /// Add a recipient at the tail: it gets the items pushed from now on. `callback` is activated by
    /// [`announce`](Self::announce) while it has unread items.
    pub fn register(&mut self, callback: Callback) -> Recipient<T> {
        if self.tail.is_null() {
            let block = Block::alloc(self.next_seq, self.cap);
            self.head = block;
            self.tail = block;
            self.drop_block = block;
            self.tail_end = 0;
            self.drop_pos = 0;
            self.blocks += 1;
        }
        // SAFETY: the tail is allocated.
        let first_seq = unsafe { (*self.tail).first_seq };
        let state = Arc::new(RecipientState {
            block_seq: AtomicU64::new(first_seq),
            released: AtomicU64::new(self.next_seq),
            marked: AtomicU64::new(0),
            callback,
        });
        self.recipients.push(state.clone());
        self.shared.live.fetch_add(1, Ordering::Relaxed);
        Recipient {
            shared: self.shared.clone(),
            state,
            block: self.tail,
            pos: self.tail_end,
            end: self.tail_end,
            released: self.next_seq,
        }
    }

    /// The callback a recipient activates when cleanup became useful (see the module docs). Without one,
    /// cleanup runs only when the owner calls it.
    pub fn set_cleanup_callback(&mut self, callback: Callback) {
        *self.shared.cleanup_cb.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(callback);
        self.has_cleanup_cb = true;
    }

    /// Activate the callback of every recipient with unread items. Returns how many this call queued.
    pub fn announce(&self) -> usize {
        let mut queued = 0;
        for r in &self.recipients {
            // Relaxed: a stale `released` only makes the activation spurious.
            if r.block_seq.load(Ordering::Relaxed) != GONE
                && r.released.load(Ordering::Relaxed) < self.next_seq
                && r.callback.activate()
            {
                queued += 1;
            }
        }
        queued
    }

    /// Drop the items every recipient released and free the blocks every cursor left, then arm the cleanup
    /// trigger (if a callback is set).
    pub fn cleanup(&mut self) -> CleanupStats {
        let mut stats = CleanupStats::default();
        loop {
            self.free(&mut stats);
            if !self.arm_trigger() {
                return stats;
            }
        }
    }

    fn free(&mut self, stats: &mut CleanupStats) {
        let mut min_released = self.next_seq;
        let mut min_block = u64::MAX;
        self.recipients.retain(|r| {
            // Acquire: the recipient's accesses to the blocks and items it left happen before our frees.
            let block_seq = r.block_seq.load(Ordering::Acquire);
            if block_seq == GONE {
                return false;
            }
            min_block = min_block.min(block_seq);
            min_released = min_released.min(r.released.load(Ordering::Acquire));
            true
        });
        while self.first_live < min_released {
            if self.drop_pos == self.cap {
                // SAFETY: `drop_block` is allocated (blocks are freed only once the drop cursor passed them),
                // and its successor exists because item `first_live < next_seq` is in it.
                self.drop_block = unsafe { (*self.drop_block).next.load(Ordering::Relaxed) };
                self.drop_pos = 0;
            }
            // SAFETY: `drop_block` is allocated; the slot holds item `first_live`, which was committed
            // (`< next_seq`), not dropped yet, and released by every recipient (loaded above with Acquire); no
            // recipient reads below its `released`, and new ones start at `next_seq`.
            let block = unsafe { &*self.drop_block };
            // SAFETY: as above; the item is dropped exactly once, here.
            block.slots[self.drop_pos].with_mut(|p| unsafe { (*p).assume_init_drop() });
            self.drop_pos += 1;
            self.first_live += 1;
            stats.items_freed += 1;
        }
        while self.head != self.tail {
            // SAFETY: `head` is allocated.
            let head = unsafe { &*self.head };
            let end = head.end_seq();
            if end > min_block || end > self.first_live {
                break;
            }
            let next = head.next.load(Ordering::Relaxed);
            if self.drop_block == self.head {
                self.drop_block = next;
                self.drop_pos = 0;
            }
            // SAFETY: every item of the block is dropped, no cursor is on it or before it (cursors only move
            // forward, and a recipient uses a block only while its published cursor is at or before it), and
            // it is not the tail: nothing references it any more.
            drop(unsafe { Box::from_raw(self.head) });
            self.head = next;
            self.blocks -= 1;
            stats.blocks_freed += 1;
        }
    }

    /// Arm a trigger round (see the module docs). Returns true if every recipient had already passed the
    /// mark, so the caller should free again.
    fn arm_trigger(&mut self) -> bool {
        if !self.has_cleanup_cb || self.shared.waiting.load(Ordering::Acquire) != 0 {
            return false;
        }
        let mark = if self.head != self.tail {
            // SAFETY: `head` is allocated.
            unsafe { (*self.head).end_seq() << 1 | 1 }
        } else if self.first_live < self.next_seq {
            self.next_seq << 1
        } else {
            return false;
        };
        let waiting = &self.shared.waiting;
        waiting.store(1, Ordering::Relaxed);
        let state = |r: &RecipientState| {
            passed(mark, r.block_seq.load(Ordering::Acquire), r.released.load(Ordering::Acquire))
        };
        for r in &self.recipients {
            if state(r) {
                continue;
            }
            waiting.fetch_add(1, Ordering::Relaxed);
            let old = r.marked.swap(mark, Ordering::AcqRel);
            debug_assert_eq!(old, 0, "journal {}: mark left from an earlier round", self.shared.name);
            fence(Ordering::SeqCst);
            if state(r) && r.marked.compare_exchange(mark, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                waiting.fetch_sub(1, Ordering::Relaxed);
            }
        }
        waiting.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Items held (pushed and not dropped by cleanup): the backpressure measure.
    pub fn len(&self) -> u64 {
        self.next_seq - self.first_live
    }

    /// Whether no item is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Blocks allocated.
    pub fn blocks(&self) -> usize {
        self.blocks
    }

    /// Registered recipients not yet dropped.
    pub fn recipients(&self) -> usize {
        self.shared.live.load(Ordering::Relaxed)
    }

    /// The seq the next pushed item will get.
    pub fn next_seq(&self) -> Seq {
        Seq(self.next_seq)
    }

    /// Seq of the oldest item not yet dropped (`next_seq` when empty).
    pub fn first_live(&self) -> Seq {
        Seq(self.first_live)
    }
}

impl<T> Drop for Journal<T> {
    /// Stop: recipients read what is committed, then see the end. The last owner of the shared part drops
    /// the remaining items.
    fn drop(&mut self) {
        self.shared.head.store(self.head, Ordering::Relaxed);
        self.shared.first_live.store(self.first_live, Ordering::Relaxed);
        self.shared.stopped.store(1, Ordering::Release);
    }
}

impl<T> fmt::Debug for Journal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("name", &self.shared.name)
            .field("next_seq", &self.next_seq)
            .field("len", &self.len())
            .field("blocks", &self.blocks)
            .field("recipients", &self.recipients())
            .finish()
    }
}
