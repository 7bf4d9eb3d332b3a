//! The `birdd` binary; see the library documentation.

/// Route churn is allocation-heavy (per-net route lists, journal blocks, attribute sets, UPDATE
/// buffers): mimalloc's size-class free lists beat glibc's malloc there. rsbench 1M routes x 4 peers,
/// same quiet machine: convergence 8.2 -> 7.1 s, full withdrawal 10.9 -> 6.5 s, 97 -> 101 bytes/route
/// (with immediate purging, below). mimalloc 2 rather than 3 (crate feature `v2`): after the same
/// rsbench runs it holds less memory per route (100k x 4: 117 vs 138 bytes/route, 1M x 1: 130 vs 134)
/// at the same speed.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: entry 15 of `mi_option_t` in mimalloc 2 and 3 (mimalloc.h);
/// libmimalloc-sys exports no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// No transparent huge pages: mimalloc asks for them on its eagerly committed arenas, so each
/// thread's first allocations fault in (and the kernel zeroes) whole 2 MiB pages. That was 10 of the
/// 12 MiB resident at idle and 16% of the CPU of a 1M-route import (`clear_page_erms`); without them
/// rsbench 100k x 1 converges in 0.12 s instead of 0.20 s and 1M x 1 in 1.25 s instead of 1.43 s,
/// with less memory. This runs from `.init_array`, before the Rust runtime's first allocation, so
/// that no page is faulted in as a huge one; it allocates nothing itself.
#[allow(unsafe_code)]
#[used]
#[link_section = ".init_array"]
static DISABLE_THP_EARLY: extern "C" fn() = {
    extern "C" fn early() {
        // Fails only on kernels without the prctl (before 3.15): huge pages stay allowed there.
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
    early
};

thread_local! {
    /// This thread's heap for route lists, made by its first list allocation (null until then).
    static LIST_HEAP: std::cell::Cell<*mut libmimalloc_sys::mi_heap_t> =
        const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// This thread's route-list heap, made now if it has none (null if mimalloc could not make one, or
/// during thread teardown).
#[allow(unsafe_code)]
fn list_heap() -> *mut libmimalloc_sys::mi_heap_t {
    LIST_HEAP
        .try_with(|h| {
            if h.get().is_null() {
                // SAFETY: `mi_heap_new` creates a heap owned by the calling thread; at thread exit
                // mimalloc moves the heap's live blocks to the thread's default heap, so they stay valid.
                h.set(unsafe { libmimalloc_sys::mi_heap_new() });
            }
            h.get()
        })
        .unwrap_or(std::ptr::null_mut())
}

/// Route lists come from a mimalloc heap of their own on each thread (`birdtable::set_list_allocator`):
/// while a route server converges every net's list is replaced once per arriving route, and freed lists
/// sharing pages with attribute sets and buffers of the same sizes kept those pages resident. rsbench
/// 100k routes x 4 peers, same binary otherwise: 99.5 -> 91 bytes/route (threads 1), 113 -> 100
/// (threads 2).
struct ListHeap;

#[allow(unsafe_code)]
// SAFETY: blocks come from mimalloc with the requested size and alignment, and go back to it through
// `mi_free`, which accepts a block of any heap from any thread.
unsafe impl std::alloc::GlobalAlloc for ListHeap {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        let h = list_heap();
        if h.is_null() {
            // During thread teardown, or if the heap could not be made: the default heap.
            // SAFETY: plain allocation with a valid size and power-of-two alignment.
            return unsafe { libmimalloc_sys::mi_malloc_aligned(size, align) }.cast();
        }
        // SAFETY: `h` is this thread's live heap (the only thread that allocates from it).
        unsafe { libmimalloc_sys::mi_heap_malloc_aligned(h, size, align) }.cast()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from `alloc` above (the caller's contract), i.e. from mimalloc.
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }
}

/// Run on every loop thread once route churn stops (`birdd::housekeeping`): take in the blocks other
/// threads freed into this thread's pages and give emptied pages back, for the default heap and the
/// route-list heap.
#[allow(unsafe_code)]
fn collect_thread_heaps() {
    // SAFETY: `mi_collect(false)` collects the calling thread's default heap; callable at any time.
    unsafe { libmimalloc_sys::mi_collect(false) };
    // Threads that never stored a route list have no list heap (and get none here).
    let h = LIST_HEAP.try_with(std::cell::Cell::get).unwrap_or(std::ptr::null_mut());
    if !h.is_null() {
        // SAFETY: `h` is this thread's own live heap.
        unsafe { libmimalloc_sys::mi_heap_collect(h, false) };
    }
}

fn tune_allocator() {
    // Before any table exists: the choice is fixed from the first route list on.
    let _ = birdtable::set_list_allocator(&ListHeap);
    birdd::housekeeping::set_thread_collector(collect_thread_heaps);
    // An operator's own settings (mimalloc reads MIMALLOC_* variables at start) win.
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some_and(|v| v != "0") {
        let _ = rustix::thread::disable_transparent_huge_pages(false);
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        set_purge_delay_zero();
    }
}

#[allow(unsafe_code)]
fn set_purge_delay_zero() {
    // Return freed pages to the OS at once rather than after 10 ms: after a mass withdrawal the
    // daemon's resident memory follows its routes (costs ~5% CPU on route churn).
    // SAFETY: `mi_option_set` only stores an integer option; it is thread-safe and may be called at
    // any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

fn main() {
    tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(birdd::main_with_args(&args));
}
