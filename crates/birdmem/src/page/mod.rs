//! Pages: the 4 KiB unit every page-backed structure of birdd is built from.
//!
//! Three tiers (see the crate documentation for the full protocol and its invariants):
//!
//! 1. [`LocalCache`]: per thread, an intrusive list through the free pages, no atomics on the fast path;
//! 2. the global hot stack of a [`PageAllocator`]: a mutex-protected vector (ABA-safe by construction);
//! 3. cold storage: pages whose contents went back to the OS, listed in index pages.
//!
//! The free functions of this module ([`alloc`], [`stats`], [`cleanup`], ...) act on the process-wide
//! allocator, [`PageAllocator::global`], whose per-thread caches live in a thread-local that is flushed to the
//! global stack when the thread exits.

use std::cell::RefCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::PAGE_SIZE;

mod allocator;
mod cold;
mod local;

pub use allocator::{PageAllocator, PageParams};
pub use local::LocalCache;

pub use crate::sys::BackendKind;

/// A free page as stored in the tiers: a `PAGE_SIZE`-aligned pointer into backend memory.
#[derive(Debug)]
pub(crate) struct RawPage(NonNull<u8>);

// SAFETY: a `RawPage` sits in exactly one tier (or in one caller's hands) at a time and stands for exclusive
// ownership of that free page; passing it to another thread passes the ownership.
unsafe impl Send for RawPage {}

impl RawPage {
    #[inline]
    pub(crate) fn new(p: NonNull<u8>) -> Self {
        debug_assert!(p.addr().get().is_multiple_of(PAGE_SIZE), "page pointer {p:p} is not page aligned");
        RawPage(p)
    }

    /// # Safety
    ///
    /// `p` must be non-null (a page pointer previously stored by a tier).
    #[inline]
    pub(crate) unsafe fn from_ptr(p: *mut u8) -> Self {
        // SAFETY: non-null by the caller's obligation.
        RawPage::new(unsafe { NonNull::new_unchecked(p) })
    }

    #[inline]
    pub(crate) fn ptr(&self) -> NonNull<u8> {
        self.0
    }

    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.0.as_ptr()
    }

    #[inline]
    pub(crate) fn addr(&self) -> usize {
        self.0.addr().get()
    }
}

/// Figures for `show memory`, in pages. Obtained with [`stats`] or [`PageAllocator::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageStats {
    /// Pages ever obtained from the backend (never decreases: pages are not unmapped).
    pub total: usize,
    /// Free pages in per-thread hot caches, summed over threads.
    pub hot_local: usize,
    /// Free pages on the global hot stack.
    pub hot_global: usize,
    /// Free pages whose contents were returned to the OS.
    pub cold: usize,
    /// Free pages used to index the cold ones.
    pub cold_index: usize,
    /// Allocations that found the local cache empty and had to lock while inside an RCU read section.
    pub depleted_in_rcu: u64,
}

impl PageStats {
    /// Free pages in all tiers.
    pub fn free(&self) -> usize {
        self.hot_local + self.hot_global + self.cold + self.cold_index
    }

    /// Pages handed out (derived: `total - free`; exact only in a quiescent state).
    pub fn in_use(&self) -> usize {
        self.total.saturating_sub(self.free())
    }

    /// Bytes of `total` pages.
    pub fn total_bytes(&self) -> usize {
        self.total * PAGE_SIZE
    }
}

/// An owned page: `PAGE_SIZE` bytes, `PAGE_SIZE`-aligned, returned to its allocator when dropped.
///
/// The contents are unspecified when allocated (possibly uninitialised memory), hence the
/// [`MaybeUninit`] view; [`Page::fill`] gives an initialised one.
pub struct Page {
    ptr: NonNull<u8>,
    alloc: &'static PageAllocator,
}

// SAFETY: a `Page` owns its memory exclusively (like a `Box<[u8; 4096]>`), and freeing it from any thread is
// allowed: every tier accepts pages from any thread.
unsafe impl Send for Page {}
// SAFETY: `&Page` only exposes the address; reads and writes of the memory need `&mut Page` or raw pointers.
unsafe impl Sync for Page {}

impl fmt::Debug for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Page({:p})", self.ptr)
    }
}

impl Page {
    /// The first byte of the page. The pointer carries provenance over the whole page (and the batch it came
    /// from), so [`page_head`] works on pointers derived from it.
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// [`Page::as_ptr`] as a `NonNull`.
    #[inline]
    pub fn as_non_null(&self) -> NonNull<u8> {
        self.ptr
    }

    /// The page's bytes, possibly uninitialised.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: the page is PAGE_SIZE bytes we own exclusively (`&mut self`); MaybeUninit has no validity
        // requirement.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().cast::<MaybeUninit<u8>>(), PAGE_SIZE) }
    }

    /// Fills the page with `byte` and returns it as initialised bytes.
    #[inline]
    pub fn fill(&mut self, byte: u8) -> &mut [u8] {
        // SAFETY: as in `as_mut_slice`; after `write_bytes` every byte is initialised.
        unsafe {
            self.ptr.as_ptr().write_bytes(byte, PAGE_SIZE);
            std::slice::from_raw_parts_mut(self.ptr.as_ptr(), PAGE_SIZE)
        }
    }

    /// The allocator the page returns to.
    pub fn allocator(&self) -> &'static PageAllocator {
        self.alloc
    }

    /// Gives up the handle without freeing; pair with [`Page::from_raw`].
    pub fn into_raw(self) -> NonNull<u8> {
        let p = self.ptr;
        std::mem::forget(self);
        p
    }

    /// Rebuilds a handle from [`Page::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from `into_raw` of a page of `alloc`, and only one handle may be rebuilt from it.
    pub unsafe fn from_raw(ptr: NonNull<u8>, alloc: &'static PageAllocator) -> Page {
        Page { ptr, alloc }
    }

    /// Frees the page after an RCU grace period, for pages that readers inside read sections may still see.
    pub fn free_after_rcu(self) {
        birdrcu::defer(move || drop(self));
    }
}

impl Drop for Page {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the handle owned the page, which came from `self.alloc`, and is gone after this.
        unsafe { self.alloc.free_tls(self.ptr) };
    }
}

/// The page containing `ptr`, by masking the address (strict provenance: the result keeps `ptr`'s
/// provenance, so it may only be dereferenced if `ptr` was derived from a pointer covering the page head, such
/// as [`Page::as_ptr`], not from a reference to a smaller object).
#[inline]
pub fn page_head<T>(ptr: *const T) -> *const u8 {
    ptr.cast::<u8>().map_addr(|a| a & !(PAGE_SIZE - 1))
}

/// [`page_head`] for mutable pointers.
#[inline]
pub fn page_head_mut<T>(ptr: *mut T) -> *mut u8 {
    ptr.cast::<u8>().map_addr(|a| a & !(PAGE_SIZE - 1))
}

/// This thread's caches, one per allocator used on the thread (the global one first in practice).
struct LocalSet {
    caches: Vec<LocalCache<'static>>,
}

thread_local! {
    static LOCAL: RefCell<LocalSet> = const { RefCell::new(LocalSet { caches: Vec::new() }) };
}

/// Runs `f` on this thread's cache for `alloc`; `None` when the thread-local is gone (thread exit) or already
/// in use (re-entry from the cleanup hook), in which case callers use the shared tiers directly.
#[inline]
fn with_local<R>(alloc: &'static PageAllocator, f: impl FnOnce(&mut LocalCache<'static>) -> R) -> Option<R> {
    LOCAL
        .try_with(|set| {
            let mut set = set.try_borrow_mut().ok()?;
            let i = match set.caches.iter().position(|c| std::ptr::eq(c.allocator(), alloc)) {
                Some(i) => i,
                None => {
                    set.caches.push(LocalCache::new(alloc));
                    set.caches.len() - 1
                }
            };
            Some(f(&mut set.caches[i]))
        })
        .ok()
        .flatten()
}

/// Every allocator made by `new_static`, so their memory stays reachable (and Miri does not call it a leak).
static STATICS: Mutex<Vec<&'static PageAllocator>> = Mutex::new(Vec::new());
static GLOBAL: OnceLock<PageAllocator> = OnceLock::new();

impl PageAllocator {
    /// The process-wide allocator (default [`PageParams`]).
    pub fn global() -> &'static PageAllocator {
        GLOBAL.get_or_init(|| PageAllocator::new(PageParams::default()))
    }

    /// A new allocator that lives for the rest of the process, so it can hand out [`Page`] handles.
    pub fn new_static(params: PageParams) -> &'static PageAllocator {
        let a: &'static PageAllocator = Box::leak(Box::new(PageAllocator::new(params)));
        STATICS.lock().unwrap_or_else(PoisonError::into_inner).push(a);
        a
    }

    /// Allocates a page through the calling thread's cache.
    #[inline]
    pub fn alloc(&'static self) -> Page {
        let ptr = match with_local(self, |c| c.alloc()) {
            Some(p) => p,
            None => self.alloc_slow(1, |_| unreachable!("refill 1 hands out no extra page")).ptr(),
        };
        Page { ptr, alloc: self }
    }

    /// Frees through the calling thread's cache, or straight to the global stack when there is none.
    ///
    /// # Safety
    ///
    /// `ptr` is a page of `self` owned by the caller, not used afterwards.
    #[inline]
    unsafe fn free_tls(&'static self, ptr: NonNull<u8>) {
        // SAFETY: forwarded caller obligations.
        if with_local(self, |c| unsafe { c.free(ptr) }).is_none() {
            self.push_hot([RawPage::new(ptr)]);
        }
    }

    /// Moves the calling thread's cache for this allocator to the global hot stack.
    pub fn flush_local(&'static self) {
        with_local(self, |c| c.flush());
    }
}

/// Allocates a page from the process-wide allocator.
#[inline]
pub fn alloc() -> Page {
    PageAllocator::global().alloc()
}

/// Statistics of the process-wide allocator.
pub fn stats() -> PageStats {
    PageAllocator::global().stats()
}

/// Moves this thread's hot cache to the global hot stack (done automatically at thread exit).
pub fn flush_local() {
    PageAllocator::global().flush_local()
}

/// Whether the global hot stack is above the high-water mark.
pub fn cleanup_needed() -> bool {
    PageAllocator::global().cleanup_needed()
}

/// Moves global hot pages to cold storage down to the low-water mark.
pub fn cleanup() {
    PageAllocator::global().cleanup()
}

/// Installs the hook called once each time cleanup becomes needed (the daemon schedules [`cleanup`] from it).
pub fn set_cleanup_hook(hook: Box<dyn Fn() + Send + Sync>) {
    PageAllocator::global().set_cleanup_hook(hook)
}
