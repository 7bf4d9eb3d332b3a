//! Attribute interning throughput.
//!
//! `cargo bench -p birdtable --bench attrs -- --warm-up-time 1 --measurement-time 3`
//!
//! A realistic mix: 1M routes, about one distinct attribute set per 10 routes (100k sets), AS paths of
//! 1-8 ASNs, communities on ~35% of the sets, 4 peers (next hop, from). Before Criterion runs, a fill
//! of the 1M routes into a fresh cache prints `size_of::<AttrSet>()`, the average bytes per set and
//! the ns per intern. The Criterion cases then re-intern into the filled table:
//!
//! * `hit`: a route takes the set of its group again (the set exists, held by the other routes);
//! * `miss`: a route gets a new distinct set (a unique MED), which is dropped at once, so the cost
//!   includes allocation and the amortized sweeps;
//! * `clone_template`: the baseline cost of building the set (a clone), included in both.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use birdtable::attrs::{
    AsPath, AttrCache, AttrId, AttrSet, AttrValue, Attrs, Clist, Community, Dest, EAttr, Iface, NextHop,
    Origin, RouteSource,
};

const ROUTES: usize = 1_000_000;
const PER_SET: usize = 10;
const SETS: usize = ROUTES / PER_SET;

fn templates() -> Vec<AttrSet> {
    let mut rng = SmallRng::seed_from_u64(42);
    let peers: Vec<(IpAddr, Iface)> = (0..4u8)
        .map(|i| {
            (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + i)), Iface::new(format!("eth{i}"), u32::from(i) + 2))
        })
        .collect();
    (0..SETS)
        .map(|i| {
            let (gw, ifc) = &peers[i % 4];
            let mut s = AttrSet::new(RouteSource::Bgp, Dest::one(NextHop::via(*gw, ifc.clone())));
            s.from = Some(*gw);
            let len = rng.gen_range(1..=8);
            let mut path: Vec<u32> = vec![65000 + (i % 4) as u32];
            path.extend((1..len).map(|_| rng.gen_range(1000..400_000u32)));
            let mut attrs = vec![
                EAttr { id: AttrId::BGP_ORIGIN, flags: 0x40, value: AttrValue::Origin(Origin::Igp) },
                EAttr {
                    id: AttrId::BGP_PATH,
                    flags: 0x40,
                    value: AttrValue::Path(AsPath::from_sequence(&path)),
                },
                EAttr { id: AttrId::BGP_NEXT_HOP, flags: 0x40, value: AttrValue::Ip(*gw) },
                EAttr { id: AttrId::BGP_LOCAL_PREF, flags: 0x40, value: AttrValue::Int(100) },
            ];
            if rng.gen_bool(0.35) {
                let n = rng.gen_range(1..=4);
                let c = Clist::from_values(
                    (0..n).map(|_| Community::new(rng.gen_range(64512..65535), rng.gen())),
                );
                attrs.push(EAttr { id: AttrId::BGP_COMMUNITY, flags: 0xc0, value: AttrValue::Clist(c) });
            }
            s.set_all(attrs).unwrap();
            s
        })
        .collect()
}

fn fill(cache: &AttrCache, tpl: &[AttrSet]) -> (Vec<Attrs>, Duration) {
    let mut routes = Vec::with_capacity(ROUTES);
    let t = Instant::now();
    for i in 0..ROUTES {
        routes.push(cache.intern(tpl[i / PER_SET].clone()));
    }
    (routes, t.elapsed())
}

fn report(tpl: &[AttrSet]) {
    let cache = AttrCache::new(64);
    let (routes, took) = fill(&cache, tpl);
    let st = cache.stats();
    let heap: usize = tpl.iter().map(|s| s.heap_size()).sum();
    println!("size_of::<AttrSet>() = {} B, size_of::<Attrs>() = {} B, size_of::<EAttr>() = {} B, size_of::<AttrValue>() = {} B",
        std::mem::size_of::<AttrSet>(), std::mem::size_of::<Attrs>(), std::mem::size_of::<EAttr>(), std::mem::size_of::<AttrValue>());
    println!(
        "fill {ROUTES} routes / {} sets: {:.1} ns per intern (1 thread, clone included)",
        st.count,
        took.as_nanos() as f64 / ROUTES as f64
    );
    println!(
        "per set: {:.1} B heap, {:.1} B effective (struct + heap), {:.1} B overhead (Arc header + table slots); total {:.1} MB",
        heap as f64 / tpl.len() as f64,
        st.effective_bytes as f64 / st.count as f64,
        st.overhead_bytes as f64 / st.count as f64,
        (st.effective_bytes + st.overhead_bytes) as f64 / 1e6
    );
    drop(routes);
}

fn bench(c: &mut Criterion) {
    let tpl = templates();
    report(&tpl);

    let cache = AttrCache::new(64);
    let (mut routes, _) = fill(&cache, &tpl);
    let mut g = c.benchmark_group("intern");
    g.throughput(Throughput::Elements(1));

    g.bench_function("clone_template", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) % SETS;
            black_box(tpl[i].clone())
        })
    });

    let mut pos = 0usize;
    g.bench_function("hit/1", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                pos = (pos + 1) % ROUTES;
                routes[pos] = cache.intern(tpl[pos / PER_SET].clone());
            }
            t.elapsed()
        })
    });

    g.bench_function("hit/2", |b| {
        b.iter_custom(|iters| {
            let (lo, hi) = routes.split_at_mut(ROUTES / 2);
            let (cache, tpl) = (&cache, &tpl);
            let t = Instant::now();
            std::thread::scope(|sc| {
                for (half, base) in [(lo, 0usize), (hi, ROUTES / 2)] {
                    sc.spawn(move || {
                        let n = half.len();
                        for k in 0..(iters as usize).div_ceil(2) {
                            let j = k % n;
                            half[j] = cache.intern(tpl[(base + j) / PER_SET].clone());
                        }
                    });
                }
            });
            t.elapsed()
        })
    });

    let mut med = 1_000_000u32;
    g.bench_function("miss/1", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for k in 0..iters as usize {
                let mut s = tpl[k % SETS].clone();
                med = med.wrapping_add(1);
                s.set(AttrId::BGP_MED, AttrValue::Int(med)).unwrap();
                black_box(cache.intern(s));
            }
            t.elapsed()
        })
    });

    g.bench_function("miss/2", |b| {
        b.iter_custom(|iters| {
            let (cache, tpl) = (&cache, &tpl);
            let t = Instant::now();
            std::thread::scope(|sc| {
                for th in 0..2u32 {
                    sc.spawn(move || {
                        for k in 0..(iters as usize).div_ceil(2) {
                            let mut s = tpl[k % SETS].clone();
                            let m = (th << 31) | (k as u32 & 0x7fff_ffff);
                            s.set(AttrId::BGP_MED, AttrValue::Int(m)).unwrap();
                            black_box(cache.intern(s));
                        }
                    });
                }
            });
            t.elapsed()
        })
    });
    g.finish();
    drop(routes);
}

criterion_group!(benches, bench);
criterion_main!(benches);
