//! Temporary bump arenas on pages.
//!
//! A [`TmpArena`] hands out memory for `Copy` values, slices and strings by bumping an offset in its current
//! page, taking a new page when it runs out. Requests larger than [`TmpArena::LARGE`] get their own heap
//! block. Nothing is freed individually; [`TmpArena::reset`] frees everything at once (keeping one page for
//! the next round). Only `Copy` types are accepted, so no destructor is ever skipped.
//!
//! Each thread has one, reached with [`with`]; birdloop calls [`reset`] after every task. Allocations are
//! borrowed from the `&TmpArena` given to the closure, so they cannot outlive it, and `reset` refuses to run
//! (panics) while any `with` closure is active on the thread: together these make a reset with live
//! allocations impossible.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use crate::page::{Page, PageAllocator};
use crate::pool::MemSize;
use crate::PAGE_SIZE;

/// A bump arena on pages. See the module documentation.
///
/// The allocation methods take `&self` and return `&mut` to fresh, disjoint memory (like any arena); clippy's
/// `mut_from_ref` is allowed on them for that reason.
pub struct TmpArena {
    alloc: &'static PageAllocator,
    /// Pages in use; the last one is current.
    pages: RefCell<Vec<Page>>,
    /// Offset of the first free byte in the current page.
    pos: Cell<usize>,
    /// Heap blocks of large requests.
    large: RefCell<Vec<(NonNull<u8>, Layout)>>,
    /// Bytes handed out since the last reset.
    used: Cell<usize>,
    /// Number of `tmp::with` closures running on this arena.
    active: Cell<usize>,
}

impl fmt::Debug for TmpArena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TmpArena").field("memsize", &self.memsize()).finish()
    }
}

impl Default for TmpArena {
    fn default() -> Self {
        Self::new()
    }
}

impl TmpArena {
    /// Requests above this many bytes get their own heap block instead of page space.
    pub const LARGE: usize = PAGE_SIZE / 4;

    /// An empty arena on the process-wide page allocator (it takes no page until the first allocation).
    pub fn new() -> Self {
        Self::new_in(PageAllocator::global())
    }

    /// An empty arena taking pages from `alloc`.
    pub fn new_in(alloc: &'static PageAllocator) -> Self {
        TmpArena {
            alloc,
            pages: RefCell::new(Vec::new()),
            pos: Cell::new(PAGE_SIZE),
            large: RefCell::new(Vec::new()),
            used: Cell::new(0),
            active: Cell::new(0),
        }
    }

    /// Raw allocation: `layout.size()` bytes at `layout.align()`, valid until the next reset. Contents are
    /// unspecified.
    pub fn alloc_layout(&self, layout: Layout) -> NonNull<u8> {
        self.used.set(self.used.get() + layout.size());
        if layout.size() == 0 {
            // A dangling, well-aligned pointer is a valid place for zero bytes.
            return NonNull::new(ptr::without_provenance_mut(layout.align())).unwrap_or(NonNull::dangling());
        }
        if layout.size() > Self::LARGE || layout.align() > PAGE_SIZE / 4 {
            // SAFETY: the layout has non-zero size.
            let p = unsafe { alloc(layout) };
            let Some(p) = NonNull::new(p) else { handle_alloc_error(layout) };
            self.large.borrow_mut().push((p, layout));
            return p;
        }
        let mut start = self.pos.get().next_multiple_of(layout.align());
        if start + layout.size() > PAGE_SIZE {
            self.pages.borrow_mut().push(self.alloc.alloc());
            start = 0;
        }
        self.pos.set(start + layout.size());
        let pages = self.pages.borrow();
        let Some(page) = pages.last() else { unreachable!("a page was just pushed") };
        // SAFETY: `start + size <= PAGE_SIZE`, so the result stays within the current page; the pointer keeps
        // the page's provenance and the page lives until the arena is reset.
        unsafe { page.as_non_null().add(start) }
    }

    /// Copies `value` into the arena.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc<T: Copy>(&self, value: T) -> &mut T {
        let p = self.alloc_layout(Layout::new::<T>()).cast::<T>();
        // SAFETY: fresh, suitably sized and aligned memory that nothing else refers to until the next reset,
        // which needs `&mut self` (or no active `tmp::with`), so it cannot happen while the borrow lives.
        unsafe {
            p.as_ptr().write(value);
            &mut *p.as_ptr()
        }
    }

    /// Copies a slice into the arena.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> &mut [T] {
        let layout = Layout::array::<T>(src.len()).unwrap_or_else(|_| handle_alloc_error(Layout::new::<T>()));
        let p = self.alloc_layout(layout).cast::<T>();
        // SAFETY: as in `alloc`, for `src.len()` elements; source and destination cannot overlap (the
        // destination is fresh).
        unsafe {
            ptr::copy_nonoverlapping(src.as_ptr(), p.as_ptr(), src.len());
            std::slice::from_raw_parts_mut(p.as_ptr(), src.len())
        }
    }

    /// A slice of `len` copies of `value`.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_fill<T: Copy>(&self, len: usize, value: T) -> &mut [T] {
        let layout = Layout::array::<T>(len).unwrap_or_else(|_| handle_alloc_error(Layout::new::<T>()));
        let p = self.alloc_layout(layout).cast::<MaybeUninit<T>>();
        // SAFETY: as in `alloc`; every element is written before the slice is viewed as initialised `T`.
        unsafe {
            let s = std::slice::from_raw_parts_mut(p.as_ptr(), len);
            for x in s.iter_mut() {
                x.write(value);
            }
            &mut *(ptr::from_mut(s) as *mut [T])
        }
    }

    /// Copies a string into the arena.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_str(&self, s: &str) -> &mut str {
        let bytes = self.alloc_slice_copy(s.as_bytes());
        // SAFETY: the bytes are a copy of a valid `str`.
        unsafe { std::str::from_utf8_unchecked_mut(bytes) }
    }

    /// Formats into the arena (for temporary strings such as log lines and CLI output).
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_fmt(&self, args: fmt::Arguments<'_>) -> &mut str {
        match args.as_str() {
            Some(s) => self.alloc_str(s),
            None => self.alloc_str(&fmt::format(args)),
        }
    }

    /// Bytes handed out since the last reset.
    pub fn used(&self) -> usize {
        self.used.get()
    }

    /// Memory held: bytes handed out are effective, the rest of the pages and blocks is overhead.
    pub fn memsize(&self) -> MemSize {
        let held = self.pages.borrow().len() * PAGE_SIZE
            + self.large.borrow().iter().map(|(_, l)| l.size()).sum::<usize>();
        let effective = self.used.get().min(held);
        MemSize { effective, overhead: held - effective }
    }

    /// Frees everything allocated, keeping one page.
    pub fn reset(&mut self) {
        self.reset_unchecked();
    }

    /// The body of `reset`, callable through `&self` once the caller has proved no allocation is borrowed.
    fn reset_unchecked(&self) {
        for (p, layout) in self.large.borrow_mut().drain(..) {
            // SAFETY: allocated in `alloc_layout` with this layout; no borrow of it is alive (see callers).
            unsafe { dealloc(p.as_ptr(), layout) };
        }
        let mut pages = self.pages.borrow_mut();
        pages.truncate(1);
        self.pos.set(if pages.is_empty() { PAGE_SIZE } else { 0 });
        self.used.set(0);
    }
}

impl Drop for TmpArena {
    fn drop(&mut self) {
        self.reset_unchecked();
    }
}

thread_local! {
    static TMP: TmpArena = TmpArena::new();
}

/// Decrements the active count when a `with` closure ends, also by unwinding.
struct Active<'a>(&'a TmpArena);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.active.set(self.0.active.get() - 1);
    }
}

/// Runs `f` with this thread's temporary arena. Allocations cannot leave `f`.
///
/// # Panics
///
/// When called during thread-local destruction, after the arena is gone.
pub fn with<R>(f: impl FnOnce(&TmpArena) -> R) -> R {
    TMP.with(|a| {
        a.active.set(a.active.get() + 1);
        let _active = Active(a);
        f(a)
    })
}

/// Frees everything in this thread's temporary arena. birdloop calls this after each task.
///
/// # Panics
///
/// If called inside [`with`] on this thread: allocations handed to that closure may still be in use.
pub fn reset() {
    // After thread-local destruction there is nothing to reset.
    let _ = TMP.try_with(|a| {
        assert!(
            a.active.get() == 0,
            "tmp::reset() called inside tmp::with(): arena allocations are still borrowed"
        );
        // No `with` closure is running, and allocations cannot escape one, so none is borrowed.
        a.reset_unchecked();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_and_reset() {
        let mut a = TmpArena::new();
        {
            let x = a.alloc(7u64);
            let s = a.alloc_str("hello");
            let v = a.alloc_slice_copy(&[1u16, 2, 3]);
            let big = a.alloc_slice_fill(5000, 9u8);
            let f = a.alloc_fmt(format_args!("{}-{}", 1, "x"));
            *x += 1;
            assert_eq!((*x, &*s, &*v, big.len(), &*f), (8, "hello", &[1u16, 2, 3][..], 5000, "1-x"));
            assert!(big.iter().all(|&b| b == 9));
            assert_eq!(ptr::from_mut(x).addr() % 8, 0);
        }
        // Many small allocations span pages and stay distinct.
        let xs: Vec<&mut u32> = (0..3000).map(|i| a.alloc(i)).collect();
        assert!(xs.iter().enumerate().all(|(i, x)| **x == i as u32));
        assert!(a.memsize().effective >= 3000 * 4 + 5000);
        a.reset();
        assert_eq!(a.used(), 0);
        assert_eq!(a.memsize().effective + a.memsize().overhead, PAGE_SIZE, "one page kept");
    }

    #[test]
    fn thread_arena_with_and_reset() {
        let n = with(|a| {
            let s = a.alloc_str("abc");
            let t = with(|b| b.alloc_str("def").len());
            s.len() + t
        });
        assert_eq!(n, 6);
        reset();
        with(|a| assert_eq!(a.used(), 0));
    }

    #[test]
    #[should_panic(expected = "inside tmp::with")]
    fn reset_inside_with_panics() {
        with(|a| {
            let _s = a.alloc_str("live");
            reset();
        });
    }

    #[test]
    fn active_count_survives_a_panic() {
        let r = std::panic::catch_unwind(|| with(|_| panic!("boom")));
        assert!(r.is_err());
        reset();
    }
}
