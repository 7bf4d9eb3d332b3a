//! Slabs: fixed-size objects packed into pages from the page allocator.
//!
//! Each slab page starts with a usage bitmap (one bit per slot, set = occupied), followed by the slots at the
//! object's alignment. The slab keeps its pages in a vector (an id is page index plus slot) and a list of
//! pages with free slots. A page that becomes empty goes back to the page allocator unless it is the slab's
//! last page (which avoids page churn around a single object).

use std::fmt;
use std::marker::PhantomData;

use crate::page::{Page, PageAllocator};
use crate::pool::{MemSize, Resource};
use crate::PAGE_SIZE;

/// Position of an object in a [`Slab`]. Ids of removed objects are reused, like `slab::Slab` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlabId {
    page: u32,
    slot: u32,
}

impl SlabId {
    /// The id as one integer (page index in the high half, slot in the low half).
    pub fn as_u64(self) -> u64 {
        (u64::from(self.page) << 32) | u64::from(self.slot)
    }
}

/// Where things are in a slab page of `T`.
struct Layout {
    /// Slot stride: the object size (at least 1) rounded up to its alignment.
    stride: usize,
    /// Slots per page.
    slots: usize,
    /// Bitmap words at the page start.
    words: usize,
    /// Offset of slot 0.
    first: usize,
}

const fn round_up(x: usize, align: usize) -> usize {
    (x + align - 1) & !(align - 1)
}

const fn layout_for(size: usize, align: usize) -> Layout {
    let stride = round_up(if size == 0 { 1 } else { size }, align);
    let mut slots = PAGE_SIZE / stride;
    loop {
        let words = slots.div_ceil(64);
        let first = round_up(words * 8, align);
        if slots == 0 || first + slots * stride <= PAGE_SIZE {
            return Layout { stride, slots, words, first };
        }
        slots -= 1;
    }
}

/// One page of a slab.
struct SlabPage {
    page: Page,
    used: usize,
}

/// A typed object store on pages. See the module documentation.
///
/// `T` must fit at least once in a page after the bitmap (checked at compile time).
pub struct Slab<T> {
    pages: Vec<Option<SlabPage>>,
    /// Indices of pages with a free slot (exact: every listed page exists and is not full).
    partial: Vec<u32>,
    /// Indices of `None` entries of `pages`.
    vacant: Vec<u32>,
    len: usize,
    alloc: &'static PageAllocator,
    _owns: PhantomData<T>,
}

impl<T> Slab<T> {
    const LAYOUT: Layout = layout_for(size_of::<T>(), align_of::<T>());

    /// An empty slab on the process-wide page allocator.
    pub fn new() -> Self {
        Self::new_in(PageAllocator::global())
    }

    /// An empty slab taking pages from `alloc`.
    pub fn new_in(alloc: &'static PageAllocator) -> Self {
        const { assert!(Self::LAYOUT.slots >= 1, "Slab: the type does not fit in a page") };
        Slab { pages: Vec::new(), partial: Vec::new(), vacant: Vec::new(), len: 0, alloc, _owns: PhantomData }
    }

    /// Objects per page.
    pub const fn slots_per_page() -> usize {
        Self::LAYOUT.slots
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the slab holds no object.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pages held.
    pub fn page_count(&self) -> usize {
        self.pages.len() - self.vacant.len()
    }

    /// Memory held: the objects are effective, the rest of the pages is overhead.
    pub fn memsize(&self) -> MemSize {
        let effective = self.len * size_of::<T>();
        MemSize { effective, overhead: self.page_count() * PAGE_SIZE - effective }
    }

    fn bitmap(p: &Page) -> *mut u64 {
        p.as_ptr().cast::<u64>()
    }

    fn slot_ptr(p: &Page, slot: usize) -> *mut T {
        debug_assert!(slot < Self::LAYOUT.slots);
        p.as_ptr().wrapping_add(Self::LAYOUT.first + slot * Self::LAYOUT.stride).cast::<T>()
    }

    fn is_set(p: &Page, slot: usize) -> bool {
        // SAFETY: the bitmap occupies the first `words` words of the page, `slot / 64 < words`, and the page is
        // initialised there (zeroed when the page joined the slab). Only `&self`/`&mut self` methods touch it.
        unsafe { Self::bitmap(p).add(slot / 64).read() & (1u64 << (slot % 64)) != 0 }
    }

    fn flip(p: &mut Page, slot: usize) {
        // SAFETY: as in `is_set`, with `&mut` access to the page.
        unsafe { *Self::bitmap(p).add(slot / 64) ^= 1u64 << (slot % 64) };
    }

    /// Inserts `value` and returns its id.
    pub fn insert(&mut self, value: T) -> SlabId {
        let pi = match self.partial.last() {
            Some(&i) => i as usize,
            None => self.add_page(),
        };
        let Some(sp) = self.pages[pi].as_mut() else { unreachable!("partial lists a missing page") };
        let slot = (0..Self::LAYOUT.words)
            .find_map(|w| {
                // SAFETY: `w < words`, see `is_set`.
                let bits = unsafe { Self::bitmap(&sp.page).add(w).read() };
                (bits != u64::MAX).then(|| w * 64 + (!bits).trailing_zeros() as usize)
            })
            .filter(|&s| s < Self::LAYOUT.slots)
            .unwrap_or_else(|| unreachable!("a partial page without a free slot"));
        Self::flip(&mut sp.page, slot);
        // SAFETY: the slot lies within the page, is aligned for T (page aligned base, `first` and `stride`
        // multiples of the alignment) and was free (its bit was clear), so nothing is overwritten.
        unsafe { Self::slot_ptr(&sp.page, slot).write(value) };
        sp.used += 1;
        if sp.used == Self::LAYOUT.slots {
            self.partial.pop();
        }
        self.len += 1;
        // Page indices fit in u32: `add_page` checks.
        SlabId { page: pi as u32, slot: slot as u32 }
    }

    fn add_page(&mut self) -> usize {
        let page = self.alloc.alloc();
        // Zero the bitmap (the rest of the page stays as it is).
        // SAFETY: the bitmap words are within the fresh page, which we own.
        unsafe { Self::bitmap(&page).write_bytes(0, Self::LAYOUT.words) };
        let sp = Some(SlabPage { page, used: 0 });
        let i = match self.vacant.pop() {
            Some(i) => {
                self.pages[i as usize] = sp;
                i as usize
            }
            None => {
                self.pages.push(sp);
                self.pages.len() - 1
            }
        };
        let i32 = u32::try_from(i).expect("Slab: more than 2^32 pages");
        self.partial.push(i32);
        i
    }

    fn locate(&self, id: SlabId) -> Option<&SlabPage> {
        let sp = self.pages.get(id.page as usize)?.as_ref()?;
        ((id.slot as usize) < Self::LAYOUT.slots && Self::is_set(&sp.page, id.slot as usize)).then_some(sp)
    }

    /// The object at `id`, if present.
    pub fn get(&self, id: SlabId) -> Option<&T> {
        let sp = self.locate(id)?;
        // SAFETY: the bit is set, so the slot holds an initialised T owned by the slab; the shared borrow of
        // `self` keeps it alive and unmodified.
        Some(unsafe { &*Self::slot_ptr(&sp.page, id.slot as usize) })
    }

    /// The object at `id` mutably, if present.
    pub fn get_mut(&mut self, id: SlabId) -> Option<&mut T> {
        let p = Self::slot_ptr(&self.locate(id)?.page, id.slot as usize);
        // SAFETY: as in `get`, and `&mut self` makes the access exclusive.
        Some(unsafe { &mut *p })
    }

    /// Whether `id` holds an object.
    pub fn contains(&self, id: SlabId) -> bool {
        self.locate(id).is_some()
    }

    /// Removes and returns the object at `id`.
    ///
    /// # Panics
    ///
    /// If `id` holds no object.
    pub fn remove(&mut self, id: SlabId) -> T {
        match self.try_remove(id) {
            Some(v) => v,
            None => panic!("Slab::remove: no object at {id:?}"),
        }
    }

    /// Removes and returns the object at `id`, if present.
    pub fn try_remove(&mut self, id: SlabId) -> Option<T> {
        self.locate(id)?;
        let pi = id.page as usize;
        let slot = id.slot as usize;
        let sp = self.pages[pi].as_mut()?;
        Self::flip(&mut sp.page, slot);
        // SAFETY: the bit was set, so the slot held an initialised T; clearing the bit first hands ownership
        // of the value to us, read exactly once.
        let value = unsafe { Self::slot_ptr(&sp.page, slot).read() };
        let was_full = sp.used == Self::LAYOUT.slots;
        sp.used -= 1;
        let now_empty = sp.used == 0;
        self.len -= 1;
        if was_full {
            self.partial.push(id.page);
        }
        if now_empty && self.page_count() > 1 {
            if let Some(k) = self.partial.iter().rposition(|&i| i == id.page) {
                self.partial.swap_remove(k);
            }
            self.pages[pi] = None;
            self.vacant.push(id.page);
        }
        Some(value)
    }

    /// Iterates over `(id, &object)` in page and slot order.
    pub fn iter(&self) -> impl Iterator<Item = (SlabId, &T)> + '_ {
        self.pages.iter().enumerate().flat_map(|(pi, sp)| {
            sp.iter().flat_map(move |sp| {
                (0..Self::LAYOUT.slots).filter(move |&s| Self::is_set(&sp.page, s)).map(move |s| {
                    // SAFETY: as in `get`: the bit is set and `self` is borrowed for the iterator's life.
                    (SlabId { page: pi as u32, slot: s as u32 }, unsafe { &*Self::slot_ptr(&sp.page, s) })
                })
            })
        })
    }
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for Slab<T> {
    fn drop(&mut self) {
        if !std::mem::needs_drop::<T>() {
            return;
        }
        for sp in self.pages.iter_mut().flatten() {
            for s in 0..Self::LAYOUT.slots {
                if Self::is_set(&sp.page, s) {
                    Self::flip(&mut sp.page, s);
                    // SAFETY: the slot holds an initialised T that nothing else will touch again.
                    unsafe { Self::slot_ptr(&sp.page, s).drop_in_place() };
                }
            }
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Slab<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T: Send + 'static> Resource for Slab<T> {
    fn name(&self) -> &str {
        "slab"
    }

    fn memsize(&self) -> MemSize {
        Slab::memsize(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use std::collections::HashMap;
    use std::rc::Rc;

    #[test]
    fn layout_fits() {
        for (size, align) in [(1, 1), (8, 8), (24, 8), (100, 4), (2000, 8), (4000, 8), (0, 1), (64, 64)] {
            let l = layout_for(size, align);
            assert!(l.slots >= 1, "{size}/{align}");
            assert!(l.first >= l.words * 8 && l.first.is_multiple_of(align));
            assert!(l.first + l.slots * l.stride <= PAGE_SIZE);
            assert!(l.words * 64 >= l.slots);
        }
        assert_eq!(layout_for(8, 8).slots, 504);
    }

    #[test]
    fn matches_model_and_returns_pages() {
        let mut rng = SmallRng::seed_from_u64(11);
        let mut s: Slab<(u64, u32)> = Slab::new();
        let mut model: HashMap<SlabId, (u64, u32)> = HashMap::new();
        let steps = if cfg!(miri) { 600 } else { 30_000 };
        for k in 0..steps {
            if model.is_empty() || rng.gen_bool(0.6) {
                let v = (rng.gen(), k);
                let id = s.insert(v);
                assert!(model.insert(id, v).is_none(), "id {id:?} handed out twice");
            } else {
                let id = *model.keys().next().expect("non-empty");
                let v = model.remove(&id).expect("present");
                assert_eq!(s.remove(id), v);
                assert!(s.get(id).is_none());
            }
        }
        assert_eq!(s.len(), model.len());
        for (id, v) in &model {
            assert_eq!(s.get(*id), Some(v));
        }
        assert_eq!(s.iter().count(), model.len());
        let per = Slab::<(u64, u32)>::slots_per_page();
        assert!(s.page_count() >= model.len().div_ceil(per));
        assert_eq!(s.memsize().effective + s.memsize().overhead, s.page_count() * PAGE_SIZE);
        let ids: Vec<SlabId> = model.keys().copied().collect();
        for id in ids {
            *s.get_mut(id).expect("present") = (0, 0);
            s.remove(id);
        }
        assert!(s.is_empty());
        assert_eq!(s.page_count(), 1, "an empty slab keeps one page");
    }

    #[test]
    fn drop_runs_destructors() {
        let rc = Rc::new(());
        {
            let mut s = Slab::new();
            let ids: Vec<_> = (0..1000).map(|_| s.insert(Rc::clone(&rc))).collect();
            assert_eq!(Rc::strong_count(&rc), 1001);
            drop(s.remove(ids[10]));
            assert_eq!(Rc::strong_count(&rc), 1000);
        }
        assert_eq!(Rc::strong_count(&rc), 1);
    }

    #[test]
    #[should_panic(expected = "no object")]
    fn remove_vacant_panics() {
        let mut s = Slab::new();
        let id = s.insert(1u8);
        s.remove(id);
        s.remove(id);
    }
}
