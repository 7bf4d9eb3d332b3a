//! Table figures: import rate and memory per route, feed and streaming export rates, `show route for`.
//!
//! ```text
//! cargo run -p birdtable --release --example table_bench -- [nets] [sources]
//! ```
//!
//! Defaults: 1,000,000 IPv4 nets, 1 and 10 sources, one attribute set per 10 routes (BGP-like sets:
//! origin, AS path, local pref, communities, next hop). `BENCH_IMPORT_ONLY=1` stops after the first
//! import (for profiling). Memory is the RSS delta from /proc/self/statm
//! around the import, with the attribute sets and the prefixes created *before* the baseline (so excluded).
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use birdevent::{Callback, Event, EventList};
use birdloop::{Clock, ThreadGroup};
use birdnet::{Net, NetType};
use birdtable::attrs::{
    AsPath, AttrId, AttrSet, AttrValue, Attrs, Clist, Community, Dest, Iface, NextHop, Origin, RouteSource,
};
use birdtable::{
    Export, ExportMode, ExportRequest, Import, PlainClass, Prefilter, Route, RouteSrc, Source, Table,
    TableConfig,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    s.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 4096
}

/// CPU time of the calling thread (ns on CPU, from the scheduler): rates per CPU second are what "per
/// core" means on a shared machine.
fn cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

fn settle_memory() {
    for _ in 0..4 {
        birdrcu::synchronize();
    }
}

fn nets(n: usize) -> Vec<Net> {
    (0..n as u32)
        .map(|i| Net::new_masked(IpAddr::V4(Ipv4Addr::from(0x0100_0000 + (i << 8))), 24).unwrap())
        .collect()
}

fn attr_set(peer: u32, k: u32) -> Attrs {
    let gw = IpAddr::V4(Ipv4Addr::from(0xc000_0200 + peer));
    let mut s = AttrSet::new(RouteSource::Bgp, Dest::one(NextHop::via(gw, Iface::new("eth0", 2))));
    s.from = Some(gw);
    s.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
    let path = [64500 + peer, 3356, 1299 + (k % 50), 10_000 + k];
    s.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&path))).unwrap();
    s.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(100)).unwrap();
    let c = Clist::from_values([
        Community::new(64500 + peer as u16, 100),
        Community::new(65000, (k % 1000) as u16),
    ]);
    s.set(AttrId::BGP_COMMUNITY, AttrValue::Clist(c)).unwrap();
    s.intern()
}

fn group() -> ThreadGroup {
    ThreadGroup::deterministic("bench", Clock::monotonic()).unwrap()
}

fn table(g: &ThreadGroup, name: &str) -> Table {
    let mut cfg = TableConfig::new(name, NetType::Ipv4);
    cfg.cork_high = u64::MAX;
    Table::new(cfg, g)
}

fn mrate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64() / 1e6
}

/// Import `sources` full tables over `nets`, one source after the other, in batches of 100 (an UPDATE's
/// worth). Returns (routes, wall time, CPU time, bytes per route).
fn import(
    g: &ThreadGroup,
    t: &Table,
    nets: &[Net],
    sources: usize,
    attrs: &[Vec<Attrs>],
) -> (u64, Duration, Duration, f64) {
    let before = rss();
    let start = Instant::now();
    let cpu0 = cpu_ns();
    let class: Arc<dyn birdtable::RouteClass> = Arc::new(PlainClass);
    for (k, sets) in attrs.iter().enumerate().take(sources) {
        let imp = t.add_importer(format!("peer{k}"));
        let src = RouteSrc::new(&Source::new(format!("peer{k}"), class.clone()), 0);
        for (c, chunk) in nets.chunks(100).enumerate() {
            let batch: Vec<Import> = chunk
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    Import::Update(*n, Route::new(src.clone(), sets[(c * 100 + i) / 10].clone(), 100))
                })
                .collect();
            imp.import_batch(batch);
            if c % 256 == 0 {
                birdrcu::flush();
            }
        }
        std::mem::forget(imp); // keep the routes: dropping the handle would flush them
    }
    let took = start.elapsed();
    let cpu = Duration::from_nanos(cpu_ns() - cpu0);
    g.run_until_idle();
    settle_memory();
    let routes = t.stats().routes;
    (routes, took, cpu, (rss().saturating_sub(before)) as f64 / routes as f64)
}

/// `readers` threads subscribe and read the whole feed. Returns (exports per reader, seconds).
fn feed(t: &Table, readers: usize, mode: ExportMode) -> (u64, Duration) {
    let barrier = Arc::new(Barrier::new(readers + 1));
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (t, barrier) = (t.clone(), barrier.clone());
            std::thread::spawn(move || {
                let cb = Callback::new(Event::new("bench reader", || {}), EventList::new("bench reader"));
                let mut sub = t.subscribe(ExportRequest { mode, prefilter: Prefilter::All, callback: cb });
                barrier.wait();
                let mut routes = 0u64;
                while let Some(e) = sub.next() {
                    match e {
                        Export::Feed { routes: r, .. } => routes += r.len() as u64,
                        Export::Fed => break,
                        _ => {}
                    }
                }
                routes
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let per: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    (per[0], start.elapsed())
}

/// Re-import every route of one source with other attributes while `readers` threads stream the updates
/// (best mode; `pref` above every stored route, so each import changes the best). Returns (updates per reader, seconds until every reader read everything).
fn stream(
    g: &ThreadGroup,
    t: &Table,
    nets: &[Net],
    readers: usize,
    sets: &[Attrs],
    pref: u16,
) -> (u64, Duration) {
    let done = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(readers + 1));
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (t, done, barrier) = (t.clone(), done.clone(), barrier.clone());
            std::thread::spawn(move || {
                let cb = Callback::new(Event::new("bench reader", || {}), EventList::new("bench reader"));
                let mut sub = t.subscribe(ExportRequest {
                    mode: ExportMode::Best,
                    prefilter: Prefilter::All,
                    callback: cb,
                });
                while !matches!(sub.next(), Some(Export::Fed)) {}
                barrier.wait();
                let mut updates = 0u64;
                loop {
                    match sub.next() {
                        Some(Export::Update { .. }) => updates += 1,
                        Some(_) => {}
                        None if done.load(Ordering::Acquire) && sub.pending() == 0 => return updates,
                        None => std::thread::sleep(Duration::from_micros(50)),
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    let class: Arc<dyn birdtable::RouteClass> = Arc::new(PlainClass);
    let imp = t.add_importer("streamer");
    let src = RouteSrc::new(&Source::new("streamer", class), 0);
    let start = Instant::now();
    for (c, chunk) in nets.chunks(100).enumerate() {
        let batch: Vec<Import> = chunk
            .iter()
            .enumerate()
            .map(|(i, n)| Import::Update(*n, Route::new(src.clone(), sets[(c * 100 + i) / 10].clone(), pref)))
            .collect();
        imp.import_batch(batch);
        if c % 256 == 0 {
            t.flush_announcements();
            birdrcu::flush();
        }
    }
    done.store(true, Ordering::Release);
    let per: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let took = start.elapsed();
    t.flush_announcements();
    g.run_until_idle();
    std::mem::forget(imp);
    (per[0], took)
}

fn lookups(t: &Table, n: usize) -> Duration {
    let mut rng = SmallRng::seed_from_u64(7);
    let addrs: Vec<IpAddr> =
        (0..n).map(|_| IpAddr::V4(Ipv4Addr::from(0x0100_0000 + rng.gen_range(0..(n as u32) << 8)))).collect();
    let found = AtomicU64::new(0);
    let start = Instant::now();
    for a in &addrs {
        if t.route_for(*a).is_some() {
            found.fetch_add(1, Ordering::Relaxed);
        }
    }
    let took = start.elapsed();
    assert!(found.load(Ordering::Relaxed) > 0);
    took / n as u32
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(1_000_000, |s| s.parse().unwrap());
    let max_sources: usize = args.get(2).map_or(10, |s| s.parse().unwrap());
    println!("birdtable bench: {n} nets, 1 attribute set per 10 routes");
    let nets = nets(n);
    let base = rss();
    let attrs: Vec<Vec<Attrs>> = (0..max_sources as u32)
        .map(|p| (0..n.div_ceil(10) as u32).map(|k| attr_set(p, k)).collect())
        .collect();
    println!(
        "attribute sets: {} ({:.0} bytes each incl. cache, excluded below)",
        attrs.len() * attrs[0].len(),
        (rss() - base) as f64 / (attrs.len() * attrs[0].len()) as f64
    );

    let g = group();
    let t1 = table(&g, "one");
    let (routes, took, cpu, bpr) = import(&g, &t1, &nets, 1, &attrs);
    println!(
        "import 1 source:   {routes} routes in {took:.2?} ({cpu:.2?} CPU): {:.2} M routes/s, {:.2} M routes/CPU-s, \
         {bpr:.1} bytes/route",
        mrate(routes, took),
        mrate(routes, cpu)
    );
    if std::env::var_os("BENCH_IMPORT_ONLY").is_some() {
        return;
    }
    let per = lookups(&t1, 1_000_000.min(n));
    println!(
        "show route for:    {per:.0?} per lookup (hash probes over present lengths, under the table lock)"
    );
    for readers in [1, 10] {
        let (r, took) = feed(&t1, readers, ExportMode::Best);
        println!(
            "feed best to {readers:>2}:   {r} routes each in {took:.2?}: {:.2} M routes/s per reader, {:.2} M/s total",
            mrate(r, took),
            mrate(r * readers as u64, took)
        );
    }
    for readers in [1, 10] {
        let pref = if readers == 1 { 200 } else { 300 };
        let (u, took) = stream(&g, &t1, &nets, readers, &attrs[max_sources - 1], pref);
        println!(
            "stream to {readers:>2}:      {n} imports, {u} best updates each, in {took:.2?}: {:.2} M imports/s with readers",
            mrate(n as u64, took)
        );
    }
    drop(t1);
    g.run_until_idle();
    settle_memory();

    if max_sources > 1 {
        let t10 = table(&g, "ten");
        let (routes, took, cpu, bpr) = import(&g, &t10, &nets, max_sources, &attrs);
        println!(
            "import {max_sources} sources: {routes} routes in {took:.2?} ({cpu:.2?} CPU): {:.2} M routes/s, \
             {:.2} M routes/CPU-s, {bpr:.1} bytes/route",
            mrate(routes, took),
            mrate(routes, cpu)
        );
        println!("  (index {} MB, slot chunks included)", t10.index_heap_bytes() >> 20);
        for readers in [1, 10] {
            let (r, took) = feed(&t10, readers, ExportMode::Best);
            println!(
                "feed best to {readers:>2}:   {r} routes each in {took:.2?}: {:.2} M routes/s per reader",
                mrate(r, took)
            );
        }
        let (r, took) = feed(&t10, 1, ExportMode::All);
        println!("feed all to 1:     {r} routes in {took:.2?}: {:.2} M routes/s", mrate(r, took));
    }
}
