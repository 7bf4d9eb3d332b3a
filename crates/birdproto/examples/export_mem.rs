//! Memory per exporter with 1M routes: the per-channel map of exported routes the channels kept before
//! (`BTreeMap<(Net, source, path), Route>`, best mode) against the subscription's accepted/rejected marks
//! they use now. Counts live heap bytes with a counting allocator.
//!
//! `cargo run -p birdproto --example export_mem [routes]`

// The counting allocator only.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use birdevent::{Callback, Event, EventList};
use birdloop::{Clock, ThreadGroup, Time};
use birdnet::{Net, NetType};
use birdtable::attrs::{AttrSet, Dest, RouteSource};
use birdtable::{
    Export, ExportMode, ExportRequest, Import, PlainClass, Prefilter, Route, RouteSrc, Source, Table,
    TableConfig,
};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let group = ThreadGroup::deterministic("mem", Clock::virtual_at(Time::ZERO)).expect("group");
    let table = Table::new(TableConfig::new("master4", NetType::Ipv4), &group);
    let imp = table.add_importer("feeder");
    let src = RouteSrc::new(&Source::new("feeder", Arc::new(PlainClass)), 0);
    let attrs = AttrSet::new(RouteSource::Static, Dest::Blackhole).intern();
    let net =
        |i: u32| Net::new_masked(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)).into(), 24).expect("net");
    for chunk in (0..n).collect::<Vec<_>>().chunks(4096) {
        imp.import_batch(
            chunk.iter().map(|&i| Import::Update(net(i), Route::new(src.clone(), attrs.clone(), 100))),
        );
    }

    // Before: the channel's map of what it exported, one entry per exported route (best mode).
    let base = live();
    let mut map: BTreeMap<(Net, u64, u32), Route> = BTreeMap::new();
    for (net, routes) in table.feed(ExportMode::Best, Prefilter::All) {
        map.insert((net, 0, 0), routes[0].clone());
    }
    let before = live() - base;
    drop(map);

    // After: a subscription, fed, every route marked accepted by the channel.
    let base = live();
    let cb = Callback::new(Event::new("export", || {}), EventList::new("exporter"));
    let mut sub =
        table.subscribe(ExportRequest { mode: ExportMode::Best, prefilter: Prefilter::All, callback: cb });
    let mut fed = 0u64;
    while let Some(e) = sub.next() {
        if let Export::Feed { routes, .. } = e {
            for r in &routes {
                sub.mark_accepted(r.id());
                fed += 1;
            }
        }
    }
    let after = live() - base;
    assert_eq!(sub.accepted_count() as u64, fed);

    // Subnet feeds: every net id walked without a trie, only the matching ones with it.
    let scope = Prefilter::Subnet("10.7.0.0/16".parse().expect("net"));
    let t0 = std::time::Instant::now();
    let without = table.feed(ExportMode::Best, scope.clone()).count();
    let t_without = t0.elapsed();
    let base = live();
    table.enable_net_trie();
    let trie_bytes = live() - base;
    let t0 = std::time::Instant::now();
    let with = table.feed(ExportMode::Best, scope).count();
    let t_with = t0.elapsed();
    assert_eq!(with, without);

    println!("routes exported: {fed}");
    println!(
        "before (per-channel BTreeMap of exported routes): {} bytes = {:.1} MiB, {:.1} B/route",
        before,
        before as f64 / 1048576.0,
        before as f64 / f64::from(n)
    );
    println!(
        "after (subscription incl. accepted/rejected marks): {} bytes = {:.1} MiB, {:.2} B/route (marks {} bytes)",
        after,
        after as f64 / 1048576.0,
        after as f64 / f64::from(n),
        sub.marks_heap_bytes()
    );
    println!(
        "net trie: {} bytes = {:.1} B/net; subnet feed of {with} nets: {t_without:?} walking every id, {t_with:?} with the trie",
        trie_bytes,
        trie_bytes as f64 / f64::from(n)
    );
}
