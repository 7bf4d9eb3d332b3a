//! Cold storage: free pages whose contents were returned to the OS.
//!
//! Cold pages are remembered in *index pages*: free pages reused as arrays of page pointers, chained into a
//! stack. Tracking therefore costs one page per [`INDEX_CAP`] cold pages and never calls `malloc`. An index
//! page is itself a free page (counted as `cold_index`, not as `cold`); it is handed out again when the last
//! entry has been taken from it.
//!
//! Everything here runs under the allocator's cold mutex, which is why the raw accesses below are exclusive.

use std::ptr;

use super::RawPage;
use crate::PAGE_SIZE;

/// Page pointers one index page can hold (its first two words are the header).
pub(crate) const INDEX_CAP: usize = PAGE_SIZE / size_of::<usize>() - 2;

/// The layout of an index page.
#[repr(C)]
struct IndexPage {
    /// The next index page (older), or null.
    next: *mut IndexPage,
    /// Number of initialised entries.
    len: usize,
    entries: [*mut u8; INDEX_CAP],
}

const _: () = assert!(size_of::<IndexPage>() == PAGE_SIZE);

/// The cold tier. Not `Sync` by itself; the allocator keeps it in a mutex.
#[derive(Debug)]
pub(crate) struct ColdStore {
    /// Top of the stack of index pages, or null.
    head: *mut IndexPage,
    /// Cold pages listed in index pages.
    pages: usize,
    /// Index pages.
    index_pages: usize,
}

// SAFETY: the store exclusively owns the free pages it links (they are no longer reachable from any other
// tier), so moving it to another thread moves that ownership along.
unsafe impl Send for ColdStore {}

impl ColdStore {
    pub(crate) const fn new() -> Self {
        ColdStore { head: ptr::null_mut(), pages: 0, index_pages: 0 }
    }

    /// Cold pages (not counting index pages).
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }

    /// Index pages.
    pub(crate) fn index_pages(&self) -> usize {
        self.index_pages
    }

    /// Adds a free page whose contents have already been discarded.
    ///
    /// # Safety
    ///
    /// `page` must be a free page of the allocator owning this store, exclusively owned by the caller (no other
    /// tier links it, nobody uses it), already discarded by the backend.
    pub(crate) unsafe fn push(&mut self, page: RawPage) {
        let head = self.head;
        // SAFETY: `head`, when non-null, is an index page owned by this store; we have `&mut self`, so nobody
        // else touches it. `page` is exclusively ours (caller obligation). Accesses are raw (`&raw mut`) so no
        // reference to the partially initialised entry array is ever created.
        unsafe {
            if !head.is_null() && (*head).len < INDEX_CAP {
                let len = (*head).len;
                (&raw mut (*head).entries).cast::<*mut u8>().add(len).write(page.as_ptr());
                (*head).len = len + 1;
                self.pages += 1;
            } else {
                // The page becomes a new index page. Writing to a discarded page just faults it back in.
                let idx = page.as_ptr().cast::<IndexPage>();
                (&raw mut (*idx).next).write(head);
                (&raw mut (*idx).len).write(0);
                self.head = idx;
                self.index_pages += 1;
            }
        }
    }

    /// Takes up to `max` pages (at least one if the store is not empty) and passes each to `out`. When an index
    /// page runs empty it is handed out as well.
    pub(crate) fn take(&mut self, max: usize, mut out: impl FnMut(RawPage)) -> usize {
        let mut taken = 0;
        while taken < max.max(1) {
            let head = self.head;
            if head.is_null() {
                break;
            }
            // SAFETY: `head` is an index page owned by this store and we hold `&mut self`. Entries below `len`
            // were written by `push` and are owned free pages.
            unsafe {
                let len = (*head).len;
                if len > 0 {
                    let p = (&raw const (*head).entries).cast::<*mut u8>().add(len - 1).read();
                    (*head).len = len - 1;
                    self.pages -= 1;
                    out(RawPage::from_ptr(p));
                } else {
                    self.head = (*head).next;
                    self.index_pages -= 1;
                    out(RawPage::from_ptr(head.cast::<u8>()));
                }
            }
            taken += 1;
        }
        taken
    }
}
