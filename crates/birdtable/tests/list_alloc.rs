//! Route lists go through the allocator chosen with `set_list_allocator` (a process-wide choice: this
//! test binary holds only this test).
#![allow(clippy::unwrap_used)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use birdnet::NetType;
use birdtable::{Route, RouteSrc, Source, Table, TableConfig};
use common::*;

struct Counting {
    live: AtomicUsize,
    allocs: AtomicUsize,
}

#[allow(unsafe_code)]
// SAFETY: forwards to `System` unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.live.fetch_add(layout.size(), Ordering::Relaxed);
        self.allocs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

static COUNTING: Counting = Counting { live: AtomicUsize::new(0), allocs: AtomicUsize::new(0) };

#[test]
fn route_lists_use_the_chosen_allocator_and_return_everything() {
    assert!(birdtable::set_list_allocator(&COUNTING).is_ok());
    assert!(birdtable::set_list_allocator(&COUNTING).is_err(), "the choice is made once");
    {
        let g = det_group("lists");
        let t = Table::new(TableConfig::new("lists", NetType::Ipv4), &g);
        let imp = t.add_importer("p");
        let s = Source::new("s", metric_class());
        let src = RouteSrc::new(&s, 0);
        for i in 0..100u32 {
            imp.import(net(&format!("10.0.{i}.0/24")), Route::new(src.clone(), attrs(i), 100));
        }
        g.run_until_idle();
        assert!(COUNTING.allocs.load(Ordering::Relaxed) >= 100);
        // One IPv4 route per net: a 16-byte header and the route.
        assert!(COUNTING.live.load(Ordering::Relaxed) >= 100 * 48);
        drop(imp);
        drop(t);
        g.run_until_idle();
        g.shutdown();
    }
    birdrcu::synchronize();
    assert_eq!(COUNTING.live.load(Ordering::Relaxed), 0, "every list freed through the same allocator");
}
