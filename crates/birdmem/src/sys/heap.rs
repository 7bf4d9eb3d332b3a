//! The fake backend: page batches from `std::alloc`, for Miri, loom and `--features fake-mmap`.

use std::alloc::{alloc_zeroed, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;
use std::sync::{Mutex, PoisonError};

use super::Backend;
use crate::PAGE_SIZE;

/// The byte written over discarded pages, so code that wrongly relies on the contents of a cold page reads
/// garbage instead of plausible data.
pub(crate) const POISON: u8 = 0x5a;

/// A block handed out by `map`, remembered so that dropping the backend frees it.
#[derive(Debug)]
struct Block {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: `Block` is only an owning record of an allocation; the pointer is dereferenced by nobody through it
// (only passed to `dealloc` when the backend is dropped).
unsafe impl Send for Block {}

/// Heap-backed page source. Blocks are kept until the backend is dropped (the allocator owning it never
/// returns memory to the backend before that, like the mmap backend never unmaps).
#[derive(Debug)]
pub(crate) struct HeapBackend {
    // A std mutex even under loom: it is never held across a loom scheduling point, so it cannot block a
    // modelled thread.
    blocks: Mutex<Vec<Block>>,
}

impl HeapBackend {
    pub(crate) fn new() -> Self {
        HeapBackend { blocks: Mutex::new(Vec::new()) }
    }
}

impl Backend for HeapBackend {
    fn map(&self, pages: usize) -> NonNull<u8> {
        let layout = match Layout::from_size_align(pages.max(1) * PAGE_SIZE, PAGE_SIZE) {
            Ok(l) => l,
            Err(_) => handle_alloc_error(Layout::new::<u8>()),
        };
        // SAFETY: the layout has non-zero size.
        let raw = unsafe { alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else { handle_alloc_error(layout) };
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner).push(Block { ptr, layout });
        ptr
    }

    unsafe fn discard(&self, ptr: NonNull<u8>, pages: usize) {
        // SAFETY: the caller guarantees the range lies within one of our blocks and nobody relies on it.
        unsafe { ptr.as_ptr().write_bytes(POISON, pages * PAGE_SIZE) };
    }

    fn merges_across_batches(&self) -> bool {
        false
    }
}

impl Drop for HeapBackend {
    fn drop(&mut self) {
        let blocks = std::mem::take(self.blocks.get_mut().unwrap_or_else(PoisonError::into_inner));
        for b in blocks {
            // SAFETY: allocated in `map` with exactly this layout and freed only here, once. The allocator
            // owning this backend is being dropped, so no page of it is in use by anyone (it is only dropped
            // when its caches have been dropped, which borrow it).
            unsafe { dealloc(b.ptr.as_ptr(), b.layout) };
        }
    }
}
