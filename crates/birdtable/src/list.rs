//! Per-net route lists: one allocation holding a header and the sorted routes, immutable once published.
//!
//! ```text
//!   ┌──────────── header ─────────────┬──────── routes (32 B each, best first) ────────┐
//!   │ seq: AtomicU64 │ len: u32 │ net │ Route │ Route │ ...                               │
//!   └─────────────────────────────────┴─────────────────────────────────────────────────┘
//! ```
//!
//! **Ownership of routes.** When the writer derives a new list from an old one it *moves* the routes it
//! keeps (a bitwise copy) instead of cloning them: no reference-count traffic on the import path. Each
//! route value therefore has exactly one owner: the newest list containing it, or, once removed, the
//! table's retire bag. Retired lists are freed *without* dropping their routes. Both retired lists and
//! removed routes are dropped only after a grace period that began after they were unlinked, so a reader
//! who loaded any list containing a bitwise copy (under a read section) finishes before the owner drops
//! it. A reader may clone a route it sees: the clone is an independent reference.
//!
//! **seq** is the journal seq of the last change stored in this list (or of the last item pushed before
//! it, when nobody subscribes). It is atomic only so the writer can correct it, under the table lock,
//! when a push it predicted fails because the last recipient left meanwhile.

// Raw route-list and slot pointers; every block carries its SAFETY argument.
#![allow(unsafe_code)]

use std::alloc::{self, Layout};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};

use birdnet::Net;

use crate::route::Route;

#[repr(C)]
pub(crate) struct ListHeader {
    seq: AtomicU64,
    len: u32,
    net: Net,
}

/// The first route of the list at `p` (raw: keeps the allocation's provenance).
fn routes_ptr(p: NonNull<ListHeader>) -> *mut Route {
    p.as_ptr().cast::<u8>().wrapping_add(ROUTES_OFFSET).cast::<Route>()
}

fn layout(len: usize) -> (Layout, usize) {
    let (l, off) = Layout::new::<ListHeader>()
        .extend(Layout::array::<Route>(len).expect("route list size"))
        .expect("route list size");
    (l.pad_to_align(), off)
}

const ROUTES_OFFSET: usize = {
    let h = std::mem::size_of::<ListHeader>();
    let a = std::mem::align_of::<Route>();
    h.div_ceil(a) * a
};

/// A borrowed route list, valid for `'a` (a read section, or the table lock for the writer).
#[derive(Clone, Copy)]
pub struct ListRef<'a> {
    ptr: NonNull<ListHeader>,
    _life: PhantomData<&'a ListHeader>,
}

impl std::fmt::Debug for ListRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteList")
            .field("net", &self.net())
            .field("seq", &self.seq())
            .field("routes", &self.routes())
            .finish()
    }
}

impl<'a> ListRef<'a> {
    /// # Safety
    /// `p` must point to a live list that stays allocated (and its routes undropped) for `'a`.
    pub(crate) unsafe fn from_raw(p: NonNull<ListHeader>) -> ListRef<'a> {
        ListRef { ptr: p, _life: PhantomData }
    }

    fn header(&self) -> &'a ListHeader {
        // SAFETY: valid for 'a (constructor contract).
        unsafe { self.ptr.as_ref() }
    }

    /// The net.
    pub fn net(&self) -> Net {
        self.header().net
    }

    /// Journal seq of the last change this list reflects.
    pub fn seq(&self) -> u64 {
        self.header().seq.load(Ordering::Acquire)
    }

    /// The routes, best first.
    pub fn routes(&self) -> &'a [Route] {
        // SAFETY: the allocation holds `len` initialised routes at ROUTES_OFFSET (see `build`), and the raw
        // pointer carries the provenance of the whole allocation.
        unsafe { std::slice::from_raw_parts(routes_ptr(self.ptr), self.header().len as usize) }
    }

    /// The best route, if there is a valid one.
    pub fn best(&self) -> Option<&'a Route> {
        self.routes().first().filter(|r| r.is_valid())
    }

    pub(crate) fn set_seq(&self, seq: u64) {
        self.header().seq.store(seq, Ordering::Release);
    }
}

/// Allocate a list for `net` with `seq`, filled from `fill`, which must yield exactly `len` routes. `reuse`,
/// if given, is the memory of a retired list of the same length (from the [`ListPool`]), used instead of a
/// fresh allocation.
///
/// # Panics
/// If `fill` yields a different number of routes (the allocation is leaked, never read uninitialised), or
/// `reuse` has another length.
pub(crate) fn build(
    net: Net,
    seq: u64,
    len: usize,
    fill: impl IntoIterator<Item = Route>,
    reuse: Option<RetiredList>,
) -> NonNull<ListHeader> {
    let (layout, off) = layout(len);
    debug_assert_eq!(off, ROUTES_OFFSET);
    let p = match reuse {
        Some(r) => {
            assert_eq!(r.len(), len, "route list: reused memory of another length");
            r.into_raw().cast::<u8>()
        }
        None => {
            // SAFETY: the layout has non-zero size (the header).
            let p = unsafe { alloc::alloc(layout) };
            let Some(p) = NonNull::new(p) else { alloc::handle_alloc_error(layout) };
            p
        }
    };
    let hdr = p.cast::<ListHeader>();
    let u32len = u32::try_from(len).expect("route list length");
    // SAFETY: freshly allocated with room and alignment for the header.
    unsafe { hdr.as_ptr().write(ListHeader { seq: AtomicU64::new(seq), len: u32len, net }) };
    // SAFETY: routes start at `off` within the allocation.
    let base = unsafe { p.as_ptr().add(off).cast::<Route>() };
    let mut n = 0;
    for r in fill {
        assert!(n < len, "route list: more routes than announced");
        // SAFETY: slot `n < len` is inside the allocation and uninitialised.
        unsafe { base.add(n).write(r) };
        n += 1;
    }
    assert_eq!(n, len, "route list: fewer routes than announced");
    hdr
}

/// Free a list's memory without dropping its routes (they were moved to a newer list or the retire bag).
///
/// # Safety
/// `p` came from [`build`], is no longer reachable by any reader, and is not used again.
pub(crate) unsafe fn free_keep_routes(p: NonNull<ListHeader>) {
    // SAFETY: caller contract: the header is live.
    let len = unsafe { p.as_ref() }.len as usize;
    // SAFETY: allocated in `build` with this layout.
    unsafe { alloc::dealloc(p.as_ptr().cast(), layout(len).0) };
}

/// Drop a list's routes and free it.
///
/// # Safety
/// As for [`free_keep_routes`], and the list owns its routes (it is the newest list containing them).
pub(crate) unsafe fn free_drop_routes(p: NonNull<ListHeader>) {
    // SAFETY: caller contract: the header is live.
    let len = unsafe { p.as_ref() }.len as usize;
    // SAFETY: the list owns these `len` initialised routes and nothing reads them any more.
    unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(routes_ptr(p), len)) };
    // SAFETY: caller contract.
    unsafe { free_keep_routes(p) };
}

/// A list unlinked from its slot, waiting in the retire bag for its grace period. Frees the memory
/// without dropping routes.
pub(crate) struct RetiredList(pub(crate) NonNull<ListHeader>);

// SAFETY: the retired list is only freed (plain memory), never read, from the thread that drops it.
unsafe impl Send for RetiredList {}

impl RetiredList {
    /// Routes the list held (its memory's size class).
    pub(crate) fn len(&self) -> usize {
        // SAFETY: a retired list stays allocated until dropped, and its header is never written meanwhile.
        unsafe { self.0.as_ref() }.len as usize
    }

    /// Bytes of its allocation.
    pub(crate) fn bytes(&self) -> usize {
        layout(self.len()).0.size()
    }

    /// The memory, no longer freed on drop.
    fn into_raw(self) -> NonNull<ListHeader> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
}

/// Lists of 1 to this many routes are pooled.
pub(crate) const POOL_CLASSES: usize = 8;

/// At most this many lists are kept per length.
const POOL_CAP: usize = 4096;

/// Memory of retired lists past their grace period, by length, for [`build`] to reuse: an import retires
/// one list and builds one, and a net typically grows one route at a time, so the lengths freed and
/// needed match. Spares glibc's malloc the bulk frees of whole retire bags (every list a fastbin chunk,
/// consolidated again at the next large allocation: a tenth of a 1M x 4 profile).
#[derive(Default)]
pub(crate) struct ListPool {
    free: [Vec<RetiredList>; POOL_CLASSES],
}

impl ListPool {
    /// Memory for a list of `len` routes, if pooled.
    pub(crate) fn take(&mut self, len: usize) -> Option<RetiredList> {
        self.free.get_mut(len.checked_sub(1)?)?.pop()
    }

    /// Bytes of the pooled lists.
    pub(crate) fn bytes(&self) -> usize {
        self.free.iter().flatten().map(RetiredList::bytes).sum()
    }

    /// Free every pooled list.
    pub(crate) fn clear(&mut self) {
        self.free.iter_mut().for_each(|v| *v = Vec::new());
    }

    /// Keep `l` for reuse (or free it when its class is full or not pooled). `l` must be past its grace
    /// period: nothing may read it any more.
    pub(crate) fn put(&mut self, l: RetiredList) {
        if let Some(v) = l.len().checked_sub(1).and_then(|i| self.free.get_mut(i)) {
            if v.len() < POOL_CAP {
                v.push(l);
            }
        }
    }
}

impl Drop for RetiredList {
    fn drop(&mut self) {
        // SAFETY: retired lists are unreachable (the grace period passed before the bag is dropped) and
        // their routes were moved out.
        unsafe { free_keep_routes(self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_reuses_memory_of_the_same_length() {
        let net: Net = "10.0.0.0/8".parse().unwrap();
        let mut pool = ListPool::default();
        let a = build(net, 1, 0, std::iter::empty(), None);
        let b = build(net, 1, 0, std::iter::empty(), None);
        // Zero-length lists (tombstones) are not pooled: freed at once. (Pooled lengths are exercised by
        // every table test that imports.)
        pool.put(RetiredList(a));
        assert!(pool.take(0).is_none());
        drop(RetiredList(b));
    }

    #[test]
    fn header_fits_before_routes() {
        assert!(ROUTES_OFFSET >= std::mem::size_of::<ListHeader>());
        assert_eq!(ROUTES_OFFSET, 32);
        assert_eq!(layout(1).0.size(), 64);
    }
}
