//! The OS boundary of the page allocator.
//!
//! The allocator needs exactly two services from below, described by [`Backend`]:
//!
//! * `map(n)`: `n` fresh, writable, `PAGE_SIZE`-aligned, contiguous pages that stay valid for the life of the
//!   backend (the mmap backend never unmaps them at all);
//! * `discard(ptr, n)`: tell the OS the contents of these pages are no longer needed (`madvise`). The pages
//!   stay mapped and usable; their contents become unspecified.
//!
//! Two implementations: [`mmap`] (Linux and other Unix systems, through rustix) and [`heap`], a fake that takes
//! memory from `std::alloc` with 4096-byte alignment and poisons discarded pages. The fake is what Miri,
//! loom models and the `fake-mmap` feature use, and it keeps the crate building where mmap is unavailable.

use std::fmt;
use std::ptr::NonNull;

pub(crate) mod heap;
#[cfg(unix)]
pub(crate) mod mmap;

/// Which [`Backend`] a page allocator takes its memory from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// Anonymous private mappings, never unmapped; cold pages are returned to the OS with
    /// `madvise(MADV_DONTNEED)`; transparent huge pages are disabled on every batch (`MADV_NOHUGEPAGE`).
    Mmap,
    /// `std::alloc` blocks aligned to `PAGE_SIZE`; discarding a page fills it with a poison byte. Freed when
    /// the allocator is dropped.
    Heap,
}

impl BackendKind {
    /// The default for this build: [`BackendKind::Heap`] under Miri, loom or the `fake-mmap` feature (and on
    /// non-Unix targets), [`BackendKind::Mmap`] otherwise.
    pub const fn default_for_build() -> Self {
        if cfg!(any(miri, loom, feature = "fake-mmap", not(unix))) {
            BackendKind::Heap
        } else {
            BackendKind::Mmap
        }
    }

    pub(crate) fn instantiate(self) -> Box<dyn Backend> {
        match self {
            #[cfg(unix)]
            BackendKind::Mmap => Box::new(mmap::MmapBackend),
            #[cfg(not(unix))]
            BackendKind::Mmap => Box::new(heap::HeapBackend::new()),
            BackendKind::Heap => Box::new(heap::HeapBackend::new()),
        }
    }
}

/// The services the page allocator needs from the OS (see the module documentation).
pub(crate) trait Backend: Send + Sync + fmt::Debug {
    /// Returns `pages` contiguous, writable, `PAGE_SIZE`-aligned pages. They stay valid at least as long as the
    /// backend. Never returns on failure: out of memory aborts through `handle_alloc_error`.
    fn map(&self, pages: usize) -> NonNull<u8>;

    /// Declares the contents of `pages` pages starting at `ptr` disposable.
    ///
    /// # Safety
    ///
    /// The range must lie within memory returned by [`Backend::map`] of this backend, and nothing may hold a
    /// reference into it or rely on its contents: afterwards the bytes are unspecified (zero with the mmap
    /// backend, a poison pattern with the heap backend).
    unsafe fn discard(&self, ptr: NonNull<u8>, pages: usize);

    /// Whether adjacent pages coming from different `map` calls may be discarded by one call. True for mmap
    /// (the kernel handles ranges over several mappings); false for the heap fake, where each block is a
    /// separate allocation and a pointer into one must not be used to reach the next.
    fn merges_across_batches(&self) -> bool;
}
