//! Tier 1: the per-thread hot cache.
//!
//! A singly linked list threaded through the free pages themselves (the first word of a free page points to
//! the next one), at most `local_limit` long. Only the owning thread touches it, so the fast path is a pointer
//! pop or push plus one relaxed store of the length into the thread's counter; no read-modify-write atomics and
//! no locks.

use std::ptr::{self, NonNull};
use std::sync::Arc;

use super::allocator::{LocalCounter, PageAllocator};
use super::RawPage;
use crate::sync::Ordering;

/// A free page as seen by the local list.
#[repr(C)]
struct FreePage {
    next: *mut FreePage,
}

/// One thread's hot cache for one [`PageAllocator`].
///
/// The process-wide allocator keeps one in a thread-local (used by [`super::alloc`] and by dropping
/// [`super::Page`]); explicit caches are for other allocator instances, loom models and tests. Dropping the
/// cache flushes it to the global hot stack. Not `Send`: the list belongs to the thread that built it.
#[derive(Debug)]
pub struct LocalCache<'a> {
    alloc: &'a PageAllocator,
    head: *mut FreePage,
    len: usize,
    counter: Arc<LocalCounter>,
}

impl<'a> LocalCache<'a> {
    /// An empty cache for `alloc`, registered for the `hot_local` statistic.
    pub fn new(alloc: &'a PageAllocator) -> Self {
        LocalCache { alloc, head: ptr::null_mut(), len: 0, counter: alloc.register_local() }
    }

    /// The allocator this cache belongs to.
    pub fn allocator(&self) -> &'a PageAllocator {
        self.alloc
    }

    /// Pages currently cached.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the cache holds no page.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Allocates a page: from this cache if possible, else through the shared tiers.
    ///
    /// The returned page is `PAGE_SIZE`-aligned, exclusively the caller's and valid while the allocator lives;
    /// its contents are unspecified (possibly uninitialised). Return it with [`LocalCache::free`] (on any
    /// cache of the same allocator).
    #[inline]
    pub fn alloc(&mut self) -> NonNull<u8> {
        if let Some(head) = NonNull::new(self.head) {
            // SAFETY: pages on the list are free pages owned by this cache whose first word was written by
            // `push` (the list is private to this thread, so nobody overwrote it).
            self.head = unsafe { head.as_ptr().read() }.next;
            self.set_len(self.len - 1);
            return head.cast();
        }
        self.alloc_slow()
    }

    #[cold]
    fn alloc_slow(&mut self) -> NonNull<u8> {
        let alloc = self.alloc;
        // Extra pages go straight onto our list (written while the shared tier's lock is held: a few stores).
        // SAFETY: pages handed out by the shared tiers are free, owned by us now, and come from this allocator;
        // `refill <= local_limit` and the list is empty here, so it stays within its bound.
        let page = alloc.alloc_slow(alloc.params().refill, |p| unsafe { self.push(p) });
        page.ptr()
    }

    /// Returns a page to this cache; beyond the local limit half of the cache moves to the global hot stack.
    ///
    /// # Safety
    ///
    /// `page` must have been allocated from this cache's allocator (through any cache, or a [`super::Page`]),
    /// must not be freed twice, and nothing may use it afterwards.
    #[inline]
    pub unsafe fn free(&mut self, page: NonNull<u8>) {
        if self.len >= self.alloc.params().local_limit {
            self.spill(self.len / 2);
        }
        // SAFETY: forwarded caller obligations.
        unsafe { self.push(RawPage::new(page)) };
    }

    /// Pushes a page onto the list without checking the limit.
    ///
    /// # Safety
    ///
    /// `page` is a free page of our allocator, exclusively owned by the caller.
    #[inline]
    unsafe fn push(&mut self, page: RawPage) {
        let p = page.ptr().as_ptr().cast::<FreePage>();
        // SAFETY: the page is ours and at least a word long and aligned; writing the link is the only use.
        unsafe { p.write(FreePage { next: self.head }) };
        self.head = p;
        self.set_len(self.len + 1);
    }

    /// Moves every cached page to the global hot stack.
    pub fn flush(&mut self) {
        self.spill(self.len);
    }

    /// Moves `n` pages from the top of the list to the global hot stack, in one critical section.
    fn spill(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let mut head = self.head;
        let pages = std::iter::from_fn(|| {
            let p = NonNull::new(head)?;
            // SAFETY: as in `alloc`: a listed page whose first word is our link.
            head = unsafe { p.as_ptr().read() }.next;
            Some(RawPage::new(p.cast()))
        })
        .take(n);
        // Collect first: the global lock is taken once, and no page is touched while holding it.
        let batch: Vec<RawPage> = pages.collect();
        self.head = head;
        self.set_len(self.len - batch.len());
        self.alloc.push_hot(batch);
    }

    #[inline]
    fn set_len(&mut self, len: usize) {
        self.len = len;
        // Owner-written: a plain store; readers only sum these for statistics.
        self.counter.0.store(len, Ordering::Relaxed);
    }
}

impl Drop for LocalCache<'_> {
    fn drop(&mut self) {
        self.flush();
        self.alloc.unregister_local(&self.counter);
    }
}
