//! Per-net route lists: one allocation holding a header and the sorted routes, immutable once published.
//!
//! ```text
//!   IPv4:  │ seq: AtomicU64 │ meta: u32 │ addr: u32 │ Route │ Route │ ...      (header 16 B)
//!   IPv6:  │ seq: AtomicU64 │ meta: u32 │ -         │ addr: [u8; 16] │ Route │ ...   (32 B)
//!   other: │ seq: AtomicU64 │ meta: u32 │ -         │ net: Net (padded to 24) │ Route │ ...  (40 B)
//!   meta = prefix length << 24 | kind << 22 | route count (22 bits); routes 32 B each, best first
//! ```
//!
//! IP nets are packed into the header rather than stored as a [`Net`] (18 bytes): an IPv4 net with one
//! route takes 48 bytes instead of 64, and most nets of a full table have one to three routes. Net kinds
//! without a packing (`Net` is non-exhaustive) keep the whole value after the header.
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

use std::alloc::{self, GlobalAlloc, Layout};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use birdnet::{IpPrefix, Net, Prefix4, Prefix6};

use crate::route::Route;

#[repr(C)]
pub(crate) struct ListHeader {
    seq: AtomicU64,
    /// `prefix length << 24 | kind << 22 | route count`.
    meta: u32,
    /// IPv4: the address. Otherwise unused (the address or net follows the header).
    addr4: u32,
}

const LEN_BITS: u32 = 22;
const LEN_MASK: u32 = (1 << LEN_BITS) - 1;

/// Most routes one net can hold (4 Mi).
pub(crate) const MAX_LIST_LEN: usize = LEN_MASK as usize;

/// How a list stores its net (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// IPv4 address in the header.
    V4 = 0,
    /// IPv6 address in the 16 bytes after the header.
    V6 = 1,
    /// The whole `Net` after the header.
    Stored = 2,
}

impl Kind {
    fn of(net: &Net) -> Kind {
        match net {
            Net::Ip4(_) => Kind::V4,
            Net::Ip6(_) => Kind::V6,
            _ => Kind::Stored,
        }
    }

    /// Where the routes start.
    const fn routes_offset(self) -> usize {
        let header = std::mem::size_of::<ListHeader>();
        match self {
            Kind::V4 => header,
            Kind::V6 => header + 16,
            Kind::Stored => {
                header + std::mem::size_of::<Net>().next_multiple_of(std::mem::align_of::<Route>())
            }
        }
    }
}

impl ListHeader {
    fn len(&self) -> usize {
        (self.meta & LEN_MASK) as usize
    }

    fn kind(&self) -> Kind {
        match (self.meta >> LEN_BITS) & 3 {
            0 => Kind::V4,
            1 => Kind::V6,
            _ => Kind::Stored,
        }
    }
}

/// Where route lists get their memory: the global allocator unless the embedder chose another with
/// [`set_list_allocator`].
static LIST_ALLOC: OnceLock<&'static (dyn GlobalAlloc + Sync)> = OnceLock::new();

/// The global allocator, as a `GlobalAlloc` value.
struct Global;

// SAFETY: forwards to the global allocator, which upholds the contract.
unsafe impl GlobalAlloc for Global {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract (non-zero size).
        unsafe { alloc::alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract; `ptr` came from `alloc` above.
        unsafe { alloc::dealloc(ptr, layout) }
    }
}

fn list_alloc() -> &'static (dyn GlobalAlloc + Sync) {
    *LIST_ALLOC.get_or_init(|| &Global)
}

/// The allocator for every table's route lists, instead of the global one.
///
/// Route lists are the largest and most churned allocation of a table: each change of a net replaces its
/// list by one a route longer or shorter, so while a route server converges, lists of every length are
/// allocated and freed interleaved with attribute sets and buffers of the same sizes. An allocator that
/// keeps them apart (birdd gives them a heap of their own) hands the freed memory back instead of keeping
/// pages that one long-lived neighbour pins.
///
/// Call it before the first table stores a route: the choice is fixed from the first list on.
///
/// # Errors
/// Returns the allocator back if lists were already allocated, or another allocator was set.
pub fn set_list_allocator(
    a: &'static (dyn GlobalAlloc + Sync),
) -> Result<(), &'static (dyn GlobalAlloc + Sync)> {
    LIST_ALLOC.set(a)
}

/// The first route of the list at `p` (raw: keeps the allocation's provenance).
fn routes_ptr(p: NonNull<ListHeader>) -> *mut Route {
    // SAFETY: `p` points to a live list (every caller's contract), whose header is never written after
    // `build` except for the atomic `seq`.
    let kind = unsafe { p.as_ref() }.kind();
    p.as_ptr().cast::<u8>().wrapping_add(kind.routes_offset()).cast::<Route>()
}

/// The bytes right after the header of the list at `p`: the IPv6 address or the stored net.
fn tail_ptr(p: NonNull<ListHeader>) -> *mut u8 {
    p.as_ptr().cast::<u8>().wrapping_add(std::mem::size_of::<ListHeader>())
}

fn layout(len: usize, kind: Kind) -> Layout {
    let size = Layout::array::<Route>(len).expect("route list size").size() + kind.routes_offset();
    Layout::from_size_align(size, std::mem::align_of::<Route>().max(std::mem::align_of::<ListHeader>()))
        .expect("route list size")
}

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
        let h = self.header();
        let plen = (h.meta >> 24) as u8;
        match h.kind() {
            Kind::V4 => Net::Ip4(Prefix4::from_bits(h.addr4, plen)),
            Kind::V6 => {
                // SAFETY: an IPv6 list holds the address bytes right after its header (see `build`),
                // written before publication and never changed; `[u8; 16]` has alignment 1.
                let bytes = unsafe { *tail_ptr(self.ptr).cast::<[u8; 16]>() };
                Net::Ip6(Prefix6::from_bits(u128::from_be_bytes(bytes), plen))
            }
            // SAFETY: a `Stored` list holds a `Net` right after its header (see `build`), written before
            // publication and never changed; read unaligned as it was written.
            Kind::Stored => unsafe { tail_ptr(self.ptr).cast::<Net>().read_unaligned() },
        }
    }

    /// Journal seq of the last change this list reflects.
    pub fn seq(&self) -> u64 {
        self.header().seq.load(Ordering::Acquire)
    }

    /// The routes, best first.
    pub fn routes(&self) -> &'a [Route] {
        // SAFETY: the allocation holds `len` initialised routes at the kind's offset (see `build`), and the raw
        // pointer carries the provenance of the whole allocation.
        unsafe { std::slice::from_raw_parts(routes_ptr(self.ptr), self.header().len()) }
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
/// If `fill` yields a different number of routes (the allocation is leaked, never read uninitialised),
/// or `len` exceeds [`MAX_LIST_LEN`].
pub(crate) fn build(
    net: Net,
    seq: u64,
    len: usize,
    fill: impl IntoIterator<Item = Route>,
    reuse: Option<RetiredList>,
) -> NonNull<ListHeader> {
    build_as(Kind::of(&net), net, seq, len, fill, reuse)
}

/// [`build`] with the net stored as `kind` (any net can be `Stored`; the packed kinds need their family).
fn build_as(
    kind: Kind,
    net: Net,
    seq: u64,
    len: usize,
    fill: impl IntoIterator<Item = Route>,
    reuse: Option<RetiredList>,
) -> NonNull<ListHeader> {
    assert!(len <= MAX_LIST_LEN, "route list: {len} routes for one net");
    let (plen, addr4) = match (kind, net) {
        (Kind::V4, Net::Ip4(p)) => (p.len(), p.addr().to_bits()),
        (Kind::V6, Net::Ip6(p)) => (p.len(), 0),
        (Kind::Stored, _) => (0, 0),
        _ => unreachable!("route list: {net} stored as {kind:?}"),
    };
    let layout = layout(len, kind);
    // Pooled memory of another size (a list of another kind) is freed instead.
    let p = match reuse.filter(|r| r.bytes() == layout.size()) {
        Some(r) => r.into_raw().cast::<u8>(),
        None => {
            // SAFETY: the layout has non-zero size (the header).
            let p = unsafe { list_alloc().alloc(layout) };
            let Some(p) = NonNull::new(p) else { alloc::handle_alloc_error(layout) };
            p
        }
    };
    let hdr = p.cast::<ListHeader>();
    let meta = (u32::from(plen) << 24) | ((kind as u32) << LEN_BITS) | len as u32;
    // SAFETY: allocated (or reused) with `layout`: room and alignment for the header.
    unsafe { hdr.as_ptr().write(ListHeader { seq: AtomicU64::new(seq), meta, addr4 }) };
    match (kind, net) {
        // SAFETY: IPv6 layouts have 16 bytes after the header, before the routes; alignment 1.
        (Kind::V6, Net::Ip6(p6)) => unsafe {
            tail_ptr(hdr).cast::<[u8; 16]>().write(p6.addr().to_bits().to_be_bytes())
        },
        // SAFETY: `Stored` layouts have room for a `Net` after the header, before the routes; written
        // unaligned, read back the same way.
        (Kind::Stored, _) => unsafe { tail_ptr(hdr).cast::<Net>().write_unaligned(net) },
        _ => {}
    }
    let base = routes_ptr(hdr);
    let mut n = 0;
    for r in fill {
        assert!(n < len, "route list: more routes than announced");
        // SAFETY: slot `n < len` is inside the allocation (`layout` has room for `len` routes after
        // the kind's routes offset) and uninitialised.
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
    let h = unsafe { p.as_ref() };
    let layout = layout(h.len(), h.kind());
    // SAFETY: allocated in `build` with this layout.
    unsafe { list_alloc().dealloc(p.as_ptr().cast(), layout) };
}

/// Drop a list's routes and free it.
///
/// # Safety
/// As for [`free_keep_routes`], and the list owns its routes (it is the newest list containing them).
pub(crate) unsafe fn free_drop_routes(p: NonNull<ListHeader>) {
    // SAFETY: caller contract: the header is live.
    let len = unsafe { p.as_ref() }.len();
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
        unsafe { self.0.as_ref() }.len()
    }

    /// Bytes of its allocation.
    pub(crate) fn bytes(&self) -> usize {
        // SAFETY: as in `len`.
        let h = unsafe { self.0.as_ref() };
        layout(h.len(), h.kind()).size()
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
        assert_eq!(std::mem::size_of::<ListHeader>(), Kind::V4.routes_offset());
        assert_eq!(std::mem::size_of::<ListHeader>() + 16, Kind::V6.routes_offset());
        assert!(
            Kind::Stored.routes_offset() >= std::mem::size_of::<ListHeader>() + std::mem::size_of::<Net>()
        );
        for k in [Kind::V4, Kind::V6, Kind::Stored] {
            assert_eq!(k.routes_offset() % std::mem::align_of::<Route>(), 0);
        }
        assert_eq!(layout(1, Kind::V4).size(), 48);
        assert_eq!(layout(1, Kind::V6).size(), 64);
    }

    #[test]
    fn any_net_survives_the_stored_form() {
        // The form new net kinds get; any net can take it.
        for s in ["192.0.2.0/24", "2001:db8:ffff::/48"] {
            let net: Net = s.parse().unwrap();
            let p = build_as(Kind::Stored, net, 9, 0, std::iter::empty(), None);
            // SAFETY: just built, not shared.
            let l = unsafe { ListRef::from_raw(p) };
            assert_eq!(l.net(), net);
            assert_eq!(l.seq(), 9);
            assert!(l.routes().is_empty());
            // SAFETY: never published.
            unsafe { free_drop_routes(p) };
        }
    }

    #[test]
    fn nets_of_both_families_survive_packing() {
        for s in [
            "0.0.0.0/0",
            "192.0.2.0/24",
            "198.18.255.255/32",
            "::/0",
            "2001:db8:ffff::/48",
            "2001:db8::1/128",
        ] {
            let net: Net = s.parse().unwrap();
            let p = build(net, 7, 0, std::iter::empty(), None);
            // SAFETY: just built, not shared.
            let l = unsafe { ListRef::from_raw(p) };
            assert_eq!(l.net(), net);
            assert_eq!(l.seq(), 7);
            assert!(l.routes().is_empty());
            // SAFETY: never published.
            unsafe { free_drop_routes(p) };
        }
    }
}
