//! The real backend: anonymous mappings through rustix.

use std::alloc::{handle_alloc_error, Layout};
use std::ffi::c_void;
use std::ptr::{self, NonNull};

use rustix::mm::{madvise, mmap_anonymous, Advice, MapFlags, ProtFlags};

use super::Backend;
use crate::PAGE_SIZE;

/// Maps batches with `mmap` and never unmaps them: unmapping scattered single pages fragments the address space
/// into many small VMAs, so freed pages are only ever `madvise`d.
#[derive(Debug)]
pub(crate) struct MmapBackend;

impl Backend for MmapBackend {
    fn map(&self, pages: usize) -> NonNull<u8> {
        let len = pages * PAGE_SIZE;
        // SAFETY: a fresh anonymous private mapping at an address of the kernel's choice (null hint) cannot
        // alias any existing Rust object.
        let res = unsafe {
            mmap_anonymous(ptr::null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::PRIVATE)
        };
        let Ok(addr) = res else {
            // Layout only describes the failed request; it is valid because PAGE_SIZE is a power of two.
            handle_alloc_error(Layout::from_size_align(len, PAGE_SIZE).unwrap_or(Layout::new::<u8>()));
        };
        // Transparent huge pages would defeat per-page madvise (a 4 KiB MADV_DONTNEED does not split a huge
        // page), so turn them off for every batch. Failure (kernel without THP) is harmless and ignored.
        // SAFETY: the range is exactly the mapping just created; NOHUGEPAGE does not change its contents.
        let _ = unsafe { madvise(addr, len, Advice::LinuxNoHugepage) };
        match NonNull::new(addr.cast::<u8>()) {
            Some(p) => p,
            None => handle_alloc_error(Layout::new::<u8>()),
        }
    }

    unsafe fn discard(&self, ptr: NonNull<u8>, pages: usize) {
        // MADV_DONTNEED frees the physical pages at once (RSS drops, which is what `show memory` and the
        // operator expect); the next touch maps a zero page. Errors cannot happen for a valid private anonymous
        // range, and if they did the only consequence is that memory is not returned, so they are ignored.
        // SAFETY: the caller guarantees the range is ours and holds nothing anyone relies on.
        let _ = unsafe { madvise(ptr.as_ptr().cast::<c_void>(), pages * PAGE_SIZE, Advice::LinuxDontNeed) };
    }

    fn merges_across_batches(&self) -> bool {
        true
    }
}
