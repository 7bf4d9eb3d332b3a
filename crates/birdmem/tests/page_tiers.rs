//! The shared tiers of the page allocator with small thresholds: spilling to the global hot stack, the cleanup
//! hook, cleanup to cold storage and allocation back from cold, the hard bound, thread-exit flushing, and the
//! accounting identity `total == in_use + hot_local + hot_global + cold + cold_index`.

// One test frees raw pages through an explicit `LocalCache`, which is an unsafe API.
#![allow(unsafe_code)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use birdmem::page::{self, LocalCache, Page, PageAllocator, PageParams};
use birdmem::PAGE_SIZE;

fn small() -> PageParams {
    PageParams {
        local_limit: 4,
        refill: 2,
        global_high: 16,
        global_low: 8,
        global_max: 1000,
        batch_pages: 8,
        ..PageParams::default()
    }
}

#[track_caller]
fn assert_identity(a: &PageAllocator, in_use: usize) {
    let st = a.stats();
    assert_eq!(
        st.total,
        in_use + st.hot_local + st.hot_global + st.cold + st.cold_index,
        "accounting: {st:?}"
    );
    assert_eq!(st.in_use(), in_use, "{st:?}");
}

#[test]
fn cold_roundtrip_and_hook() {
    let a = PageAllocator::new_static(small());
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    a.set_cleanup_hook(Box::new(move || {
        c.fetch_add(1, Ordering::SeqCst);
    }));

    let pages: Vec<Page> = (0..64).map(|_| a.alloc()).collect();
    assert_identity(a, 64);
    let total = a.stats().total;
    assert_eq!(total % 8, 0, "pages come in batches of 8");
    let addrs: HashSet<usize> = pages.iter().map(|p| p.as_ptr().addr()).collect();
    assert_eq!(addrs.len(), 64);

    drop(pages);
    assert_identity(a, 0);
    let st = a.stats();
    assert!(st.hot_local <= 4, "local cache above its limit: {st:?}");
    assert!(st.hot_global > 16 && a.cleanup_needed(), "{st:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "hook must be called exactly once per episode");

    a.cleanup();
    let st = a.stats();
    assert_eq!(st.hot_global, 8, "cleanup stops at the low-water mark: {st:?}");
    assert!(!a.cleanup_needed());
    assert!(st.cold + st.cold_index >= 64 - 4 - 8, "{st:?}");
    assert!(st.cold_index >= 1, "cold pages are listed in index pages: {st:?}");
    assert_identity(a, 0);

    // Everything comes back without a new batch: from local, global hot, then cold.
    let mut again: Vec<Page> = (0..64).map(|_| a.alloc()).collect();
    let st = a.stats();
    assert_eq!(st.total, total, "no new memory may be mapped while cold pages exist: {st:?}");
    assert_eq!(st.cold + st.cold_index, 0, "{st:?}");
    assert_identity(a, 64);
    for p in &mut again {
        assert!(addrs.contains(&p.as_ptr().addr()));
        // Cold pages are writable again.
        assert!(p.fill(0xee).iter().all(|&b| b == 0xee));
    }

    // A new episode calls the hook again.
    drop(again);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    a.cleanup();
    assert_identity(a, 0);
}

#[test]
fn hard_bound_cleans_inline() {
    let a = PageAllocator::new_static(PageParams { global_max: 24, ..small() });
    let pages: Vec<Page> = (0..100).map(|_| a.alloc()).collect();
    drop(pages);
    let st = a.stats();
    assert!(st.hot_global <= 24, "global hot stack above its hard bound without a hook: {st:?}");
    assert!(st.cold > 0, "{st:?}");
    assert_identity(a, 0);
}

#[test]
fn thread_exit_flushes_local_cache() {
    let a = PageAllocator::new_static(small());
    std::thread::spawn(move || {
        let pages: Vec<Page> = (0..3).map(|_| a.alloc()).collect();
        drop(pages);
        assert!(a.stats().hot_local >= 3);
    })
    .join()
    .expect("thread");
    let st = a.stats();
    assert_eq!(st.hot_local, 0, "the exiting thread's cache must be flushed: {st:?}");
    assert_identity(a, 0);
}

#[test]
fn explicit_cache_spills_half_beyond_limit() {
    let a = PageAllocator::new(small());
    let mut c = LocalCache::new(&a);
    let pages: Vec<_> = (0..5).map(|_| c.alloc()).collect();
    for p in pages {
        // SAFETY: allocated from `a` just above, freed once.
        unsafe { c.free(p) };
    }
    assert!(c.len() <= 4);
    assert_eq!(a.stats().hot_local, c.len());
    c.flush();
    assert!(c.is_empty());
    let st = a.stats();
    assert_eq!(st.hot_local, 0);
    assert_eq!(st.total, st.hot_global + st.cold + st.cold_index);
    drop(c);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "birdrcu::read pins crossbeam-epoch, which violates Stacked Borrows (known upstream issue)"
)]
fn depleted_in_rcu_counts_locking_allocations() {
    let a = PageAllocator::new_static(small());
    let before = a.stats().depleted_in_rcu;
    {
        let _g = birdrcu::read();
        // The thread's cache for `a` is empty: this allocation locks a shared tier inside a read section.
        let p = a.alloc();
        drop(p);
    }
    assert_eq!(a.stats().depleted_in_rcu, before + 1);
    let p = a.alloc();
    drop(p);
    assert_eq!(a.stats().depleted_in_rcu, before + 1, "outside a read section nothing is counted");
}

#[test]
fn page_head_masks_to_the_page() {
    let p = page::alloc();
    let inner = p.as_ptr().wrapping_add(1234);
    assert_eq!(page::page_head(inner), p.as_ptr().cast_const());
    assert_eq!(page::page_head_mut(p.as_ptr().wrapping_add(PAGE_SIZE - 1)), p.as_ptr());
}
