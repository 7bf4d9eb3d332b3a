//! The shared tiers of the page allocator: the global hot stack, the cold store, fresh batches, accounting and
//! the cleanup job. The per-thread tier lives in [`super::local`].

use std::fmt;
use std::sync::Arc;

use super::cold::ColdStore;
use super::{PageStats, RawPage};
use crate::sync::{self, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::sys::{Backend, BackendKind};
use crate::PAGE_SIZE;

/// Tunables of a [`PageAllocator`]. `Default` gives the production values.
#[derive(Clone, Debug)]
pub struct PageParams {
    /// Most pages a thread keeps in its local hot cache (BIRD: 128).
    pub local_limit: usize,
    /// Pages moved from the global hot stack (or cold store) to a local cache per lock acquisition.
    pub refill: usize,
    /// Global hot stack size above which cleanup is requested through the hook (BIRD: 16384).
    pub global_high: usize,
    /// Global hot stack size cleanup brings the stack down to (BIRD: 8192).
    pub global_low: usize,
    /// Hard bound of the global hot stack: a free that pushes it above this runs cleanup inline. Keeps the hot
    /// stack bounded when no hook is installed or the cleanup job is late.
    pub global_max: usize,
    /// Pages per `map` call (BIRD: 32).
    pub batch_pages: usize,
    /// Where fresh memory comes from.
    pub backend: BackendKind,
}

impl Default for PageParams {
    fn default() -> Self {
        PageParams {
            local_limit: 128,
            refill: 16,
            global_high: 16384,
            global_low: 8192,
            global_max: 4 * 16384,
            batch_pages: 32,
            backend: BackendKind::default_for_build(),
        }
    }
}

impl PageParams {
    fn validate(&self) {
        assert!(self.local_limit >= 2, "PageParams: local_limit must be at least 2");
        assert!(
            self.refill >= 1 && self.refill <= self.local_limit,
            "PageParams: refill must be in 1..=local_limit"
        );
        assert!(self.batch_pages >= 1, "PageParams: batch_pages must be at least 1");
        assert!(
            self.global_low <= self.global_high && self.global_high <= self.global_max,
            "PageParams: need global_low <= global_high <= global_max"
        );
    }
}

/// The per-thread counter of one local cache, written only by the owning thread (a plain store, never a
/// read-modify-write) and summed by [`PageAllocator::stats`].
#[derive(Debug)]
pub(crate) struct LocalCounter(pub(crate) AtomicUsize);

/// The cleanup hook.
type Hook = Arc<dyn Fn() + Send + Sync>;

/// A page allocator: shared tiers plus the registry of per-thread caches. See the crate documentation for the
/// tier protocol.
///
/// The process-wide instance is [`PageAllocator::global`]; others (with different [`PageParams`]) exist for
/// tests and special uses. Memory obtained from the backend is only returned when the allocator is dropped,
/// and with the mmap backend not even then.
pub struct PageAllocator {
    params: PageParams,
    backend: Box<dyn Backend>,
    /// Global hot stack: free pages with possibly-resident contents. A mutex-protected vector, so "read the top
    /// and replace it" is one critical section and the ABA problem of a CAS stack cannot arise.
    hot: Mutex<Vec<RawPage>>,
    /// Mirror of `hot.len()`, written under the `hot` lock, read without it by `cleanup_needed`.
    hot_len: AtomicUsize,
    cold: Mutex<ColdStore>,
    /// Pages obtained from the backend so far (written under the `hot` lock, which new batches take anyway).
    total: AtomicUsize,
    /// Counters of live local caches.
    locals: Mutex<Vec<Arc<LocalCounter>>>,
    depleted_in_rcu: AtomicU64,
    /// Set when the hook has been called and the cleanup it requested has not finished yet.
    cleanup_requested: AtomicBool,
    hook: Mutex<Option<Hook>>,
}

impl fmt::Debug for PageAllocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageAllocator").field("params", &self.params).field("stats", &self.stats()).finish()
    }
}

impl PageAllocator {
    /// A new allocator. Use it through [`super::LocalCache`], or leak it with [`PageAllocator::new_static`] to
    /// get owned [`super::Page`] handles.
    pub fn new(params: PageParams) -> Self {
        params.validate();
        PageAllocator {
            backend: params.backend.instantiate(),
            params,
            hot: Mutex::new(Vec::new()),
            hot_len: AtomicUsize::new(0),
            cold: Mutex::new(ColdStore::new()),
            total: AtomicUsize::new(0),
            locals: Mutex::new(Vec::new()),
            depleted_in_rcu: AtomicU64::new(0),
            cleanup_requested: AtomicBool::new(false),
            hook: Mutex::new(None),
        }
    }

    /// The parameters this allocator was built with.
    pub fn params(&self) -> &PageParams {
        &self.params
    }

    /// Snapshot of the accounting counters.
    ///
    /// Each tier is read separately, so while other threads allocate the sum can be off by the pages in
    /// flight; in a quiescent state `total == in_use + hot_local + hot_global + cold + cold_index` holds exactly.
    pub fn stats(&self) -> PageStats {
        let hot_local = sync::lock(&self.locals).iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
        let hot_global = sync::lock(&self.hot).len();
        let (cold, cold_index) = {
            let c = sync::lock(&self.cold);
            (c.pages(), c.index_pages())
        };
        PageStats {
            total: self.total.load(Ordering::Relaxed),
            hot_local,
            hot_global,
            cold,
            cold_index,
            depleted_in_rcu: self.depleted_in_rcu.load(Ordering::Relaxed),
        }
    }

    /// Whether the global hot stack is above the high-water mark.
    pub fn cleanup_needed(&self) -> bool {
        self.hot_len.load(Ordering::Relaxed) > self.params.global_high
    }

    /// Installs the hook called (once per episode) when the global hot stack grows above the high-water mark.
    /// The hook should schedule [`PageAllocator::cleanup`]; it runs on the freeing thread with no allocator lock
    /// held, may allocate and free pages, and must not block.
    pub fn set_cleanup_hook(&self, hook: Box<dyn Fn() + Send + Sync>) {
        *sync::lock(&self.hook) = Some(Arc::from(hook));
    }

    /// Moves pages from the global hot stack to cold storage (returning their contents to the OS) until the
    /// stack is at the low-water mark. Runs in chunks, so allocating threads are never blocked for long.
    pub fn cleanup(&self) {
        const CHUNK: usize = 64;
        let mut chunk: Vec<RawPage> = Vec::with_capacity(CHUNK);
        loop {
            {
                let mut hot = sync::lock(&self.hot);
                let excess = hot.len().saturating_sub(self.params.global_low);
                if excess == 0 {
                    break;
                }
                let keep = hot.len() - excess.min(CHUNK);
                chunk.extend(hot.drain(keep..));
                self.hot_len.store(hot.len(), Ordering::Relaxed);
            }
            self.discard(&mut chunk);
            let mut cold = sync::lock(&self.cold);
            for p in chunk.drain(..) {
                // SAFETY: `p` came off the global hot stack, so it is a free page of this allocator that only
                // we hold now, and `discard` was just called on it.
                unsafe { cold.push(p) };
            }
        }
        self.cleanup_requested.store(false, Ordering::Release);
        // A free may have pushed the stack over the mark again after our last look while the flag was still
        // set (and so not called the hook): re-arm for that case.
        self.maybe_request_cleanup();
    }

    /// Returns the contents of `pages` to the OS, merging address-adjacent pages into one call when the backend
    /// allows it.
    fn discard(&self, pages: &mut [RawPage]) {
        let merge = self.backend.merges_across_batches();
        if merge {
            pages.sort_unstable_by_key(|p| p.addr());
        }
        let mut i = 0;
        while i < pages.len() {
            let mut run = 1;
            while merge && i + run < pages.len() && pages[i + run].addr() == pages[i].addr() + run * PAGE_SIZE
            {
                run += 1;
            }
            // SAFETY: the pages are free pages of this allocator exclusively held by the caller (taken off the
            // hot stack), so nobody relies on their contents; a run is merged only when the backend accepts
            // ranges across its mappings, and the run is address-contiguous.
            unsafe { self.backend.discard(pages[i].ptr(), run) };
            i += run;
        }
    }

    /// Called after the hot stack grew to `len`: inline cleanup above the hard bound, otherwise the hook once.
    fn after_hot_grew(&self, len: usize) {
        if len > self.params.global_max {
            self.cleanup();
        } else if len > self.params.global_high {
            self.maybe_request_cleanup();
        }
    }

    fn maybe_request_cleanup(&self) {
        if self.cleanup_needed() && !self.cleanup_requested.swap(true, Ordering::AcqRel) {
            let hook = sync::lock(&self.hook).clone();
            match hook {
                Some(h) => h(),
                // Nobody to schedule the job: forget the request so a later hook installation still gets called.
                None => self.cleanup_requested.store(false, Ordering::Release),
            }
        }
    }

    /// Pushes pages onto the global hot stack.
    pub(crate) fn push_hot(&self, pages: impl IntoIterator<Item = RawPage>) {
        let len = {
            let mut hot = sync::lock(&self.hot);
            hot.extend(pages);
            self.hot_len.store(hot.len(), Ordering::Relaxed);
            hot.len()
        };
        self.after_hot_grew(len);
    }

    /// Slow path of allocation: one page for the caller; up to `refill - 1` more are passed to `extra` (for the
    /// caller's local cache, or pushed back when there is none). Falls back global hot -> cold -> new batch.
    pub(crate) fn alloc_slow(&self, refill: usize, mut extra: impl FnMut(RawPage)) -> RawPage {
        if sync::in_rcu() {
            self.depleted_in_rcu.fetch_add(1, Ordering::Relaxed);
        }
        // 1. Global hot stack.
        {
            let mut hot = sync::lock(&self.hot);
            if let Some(first) = hot.pop() {
                for _ in 1..refill {
                    match hot.pop() {
                        Some(p) => extra(p),
                        None => break,
                    }
                }
                self.hot_len.store(hot.len(), Ordering::Relaxed);
                return first;
            }
        }
        // 2. Cold store.
        {
            let mut first = None;
            let mut cold = sync::lock(&self.cold);
            cold.take(refill, |p| match first {
                None => first = Some(p),
                Some(_) => extra(p),
            });
            if let Some(p) = first {
                return p;
            }
        }
        // 3. A new batch from the backend: one page for the caller, some for its cache, the rest to the global
        // hot stack (pointers only: pages not handed out are never touched, so they cost no resident memory).
        let n = self.params.batch_pages;
        let base = self.backend.map(n);
        let page = |i: usize| {
            // SAFETY: `i < n` and the backend returned `n` contiguous pages starting at `base`; the pointer keeps
            // `base`'s provenance, which covers the whole batch.
            RawPage::new(unsafe { base.add(i * PAGE_SIZE) })
        };
        let to_cache = refill.min(n);
        for i in 1..to_cache {
            extra(page(i));
        }
        let len = {
            let mut hot = sync::lock(&self.hot);
            self.total.fetch_add(n, Ordering::Relaxed);
            hot.extend((to_cache..n).map(page));
            self.hot_len.store(hot.len(), Ordering::Relaxed);
            hot.len()
        };
        if n > to_cache {
            self.after_hot_grew(len);
        }
        page(0)
    }

    /// Registers the counter of a new local cache.
    pub(crate) fn register_local(&self) -> Arc<LocalCounter> {
        let c = Arc::new(LocalCounter(AtomicUsize::new(0)));
        sync::lock(&self.locals).push(Arc::clone(&c));
        c
    }

    /// Removes the counter of a dropped (and flushed) local cache.
    pub(crate) fn unregister_local(&self, c: &Arc<LocalCounter>) {
        sync::lock(&self.locals).retain(|x| !Arc::ptr_eq(x, c));
    }
}
