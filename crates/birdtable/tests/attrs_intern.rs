//! Interning: identity, sweeps, stats, concurrency.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::IpAddr;

use birdtable::attrs::{
    sweep_all, AsPath, AttrCache, AttrId, AttrSet, AttrValue, Attrs, Clist, Community, Dest, Iface, NextHop,
    Origin, RouteSource,
};

fn bgp_set(i: u32) -> AttrSet {
    let gw: IpAddr = "192.0.2.1".parse().unwrap();
    let mut s = AttrSet::new(RouteSource::Bgp, Dest::one(NextHop::via(gw, Iface::new("eth0", 2))));
    s.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
    s.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&[65001, 64512 + i % 1000, i]))).unwrap();
    s.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(100)).unwrap();
    if i.is_multiple_of(3) {
        s.set(AttrId::BGP_COMMUNITY, AttrValue::Clist(Clist::from_values([Community::new(65001, i as u16)])))
            .unwrap();
    }
    s
}

#[test]
fn identical_sets_share_one_allocation() {
    let cache = AttrCache::new(8);
    let a = cache.intern(bgp_set(1));
    let b = cache.intern(bgp_set(1));
    let c = cache.intern(bgp_set(2));
    assert!(Attrs::ptr_eq(&a, &b));
    assert_eq!(a, b);
    assert!(!Attrs::ptr_eq(&a, &c));
    assert_ne!(a, c);
    assert_eq!(cache.len(), 2);

    // Differences in any field make a different set.
    let mut d = bgp_set(1);
    d.igp_metric = Some(10);
    let mut e = bgp_set(1);
    e.from = Some("10.0.0.1".parse().unwrap());
    let mut f = bgp_set(1);
    f.set_with_flags(AttrId::BGP_LOCAL_PREF, 0x40 | 0x20, AttrValue::Int(100)).unwrap();
    let mut g = bgp_set(1);
    g.dest = Dest::Blackhole;
    let mut h = bgp_set(1);
    h.dest = Dest::one(NextHop::via("192.0.2.1".parse().unwrap(), Iface::new("eth0", 3)));
    let others: Vec<Attrs> = [d, e, f, g, h].into_iter().map(|s| cache.intern(s)).collect();
    for (i, x) in others.iter().enumerate() {
        assert!(!Attrs::ptr_eq(x, &a), "variant {i}");
    }
    assert_eq!(cache.len(), 7);

    // A modified copy of an interned set interns separately; the unmodified copy back to the original.
    let copy = a.to_set();
    assert!(Attrs::ptr_eq(&cache.intern(copy), &a));
    assert_eq!(a.hash_value(), b.hash_value());

    // Handles hash and compare by identity, so they work as map keys.
    let mut m = HashMap::new();
    m.insert(a.clone(), 1);
    assert_eq!(m.get(&b), Some(&1));
    assert_eq!(m.get(&c), None);
}

#[test]
fn global_intern_and_sweep_keep_referenced_sets() {
    let a = bgp_set(900_001).intern();
    let b = bgp_set(900_002).intern();
    drop(b);
    sweep_all();
    // `a` is referenced: the sweep kept it, re-interning finds the same allocation.
    assert!(Attrs::ptr_eq(&bgp_set(900_001).intern(), &a));
    assert_eq!(a.bgp_path().unwrap().to_string(), format!("65001 {} 900001", 64512 + 1));
    let st = birdtable::attrs::stats();
    assert!(st.count >= 1 && st.effective_bytes > 0 && st.overhead_bytes > 0);
}

#[test]
fn sweep_reclaims_exactly_the_unreferenced_sets() {
    let cache = AttrCache::new(16);
    let n = 3000u32;
    let handles: Vec<Attrs> = (0..n).map(|i| cache.intern(bgp_set(i))).collect();
    // Amortized sweeps may have run, but nothing was unreferenced yet.
    let st = cache.stats();
    assert_eq!(st.count, n as usize);
    let per_set = std::mem::size_of::<AttrSet>();
    assert!(st.effective_bytes >= n as usize * per_set);
    let expected_bytes: usize = handles.iter().map(|h| per_set + h.heap_size()).sum();
    assert_eq!(st.effective_bytes, expected_bytes);

    // Keep every third handle (plus a clone of one of them), drop the rest.
    let mut kept = Vec::new();
    let mut kept_ptrs = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        if i.is_multiple_of(3) {
            kept_ptrs.push((i as u32, h.as_ptr()));
            kept.push(h);
        }
    }
    let extra = kept[5].clone();
    let kept_count = kept.len();
    let removed = cache.sweep();
    assert_eq!(removed, n as usize - kept_count);
    let st = cache.stats();
    assert_eq!(st.count, kept_count);
    assert_eq!(st.effective_bytes, kept.iter().map(|h| per_set + h.heap_size()).sum::<usize>());
    // A second sweep finds nothing more.
    assert_eq!(cache.sweep(), 0);

    // Every kept set is still the cached one.
    for (i, p) in &kept_ptrs {
        assert_eq!(cache.intern(bgp_set(*i)).as_ptr(), *p);
    }
    // Dropped sets come back as new allocations (the count grows by one each).
    let again = cache.intern(bgp_set(1));
    assert_eq!(cache.len(), kept_count + 1);
    drop(again);

    drop(kept);
    // `extra` still refers to one set.
    cache.sweep();
    assert_eq!(cache.len(), 1);
    assert!(Attrs::ptr_eq(&cache.intern(bgp_set(15)), &extra));
    drop(extra);
    cache.sweep();
    assert_eq!(cache.stats().count, 0);
    assert_eq!(cache.stats().effective_bytes, 0);
}

#[test]
fn amortized_sweeps_bound_the_garbage() {
    let cache = AttrCache::new(1);
    let keep: Vec<Attrs> = (0..100).map(|i| cache.intern(bgp_set(i))).collect();
    // Intern and drop many distinct sets: shards sweep when grown by half, so garbage stays bounded.
    for i in 100..20_000 {
        drop(cache.intern(bgp_set(i)));
    }
    let len = cache.len();
    assert!(len < 1000, "cache holds {len} sets");
    for (i, h) in keep.iter().enumerate() {
        assert!(Attrs::ptr_eq(&cache.intern(bgp_set(i as u32)), h));
    }
}

#[test]
fn concurrent_interning_ends_with_one_copy_each() {
    let cache = AttrCache::new(8);
    let n = 2000u32;
    // Threads return their handles, so every set stays referenced until all pointers are compared.
    let results: Vec<Vec<(u32, Attrs)>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4u32)
            .map(|t| {
                let cache = &cache;
                sc.spawn(move || {
                    // Overlapping ranges, different orders.
                    let mut ids: Vec<u32> = (t * n / 8..t * n / 8 + n * 5 / 8).collect();
                    if t % 2 == 1 {
                        ids.reverse();
                    }
                    let handles: Vec<(u32, Attrs)> =
                        ids.iter().map(|&i| (i, cache.intern(bgp_set(i)))).collect();
                    // Intern again while other threads are busy: same handles.
                    for (i, h) in &handles {
                        assert!(Attrs::ptr_eq(&cache.intern(bgp_set(*i)), h));
                    }
                    handles
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut by_id: HashMap<u32, usize> = HashMap::new();
    for r in &results {
        for (i, h) in r {
            let (i, p) = (*i, h.as_ptr() as usize);
            let prev = *by_id.entry(i).or_insert(p);
            assert_eq!(prev, p, "set {i} interned twice");
        }
    }
    let distinct = by_id.len();
    assert_eq!(cache.len(), distinct);
    let mut ptrs: Vec<usize> = by_id.values().copied().collect();
    ptrs.sort_unstable();
    ptrs.dedup();
    assert_eq!(ptrs.len(), distinct);
}

#[test]
fn intern_inside_an_rcu_read_section_and_under_a_table_lock() {
    use birdrcu::level::Rtable;
    use birdrcu::Domain;
    let table: Domain<Rtable, u32> = Domain::new("table test", 0);
    let cache = AttrCache::new(4);
    let a = {
        let _t = table.lock();
        cache.intern(bgp_set(5))
    };
    let r = birdrcu::read();
    let b = cache.intern(bgp_set(5));
    drop(r);
    assert!(Attrs::ptr_eq(&a, &b));
}

#[test]
fn modified_copies_intern_by_their_new_content() {
    use std::collections::HashSet;
    let cache = AttrCache::new(4);
    let a = cache.intern(bgp_set(7));
    let mut m = a.to_set();
    m.igp_metric = Some(5);
    let b = cache.intern(m.clone());
    assert!(!Attrs::ptr_eq(&a, &b));
    assert_eq!(b.igp_metric, Some(5));
    // A clone taken through the handle is equal in content and hashes like it.
    let mut hs = HashSet::new();
    hs.insert((*a).clone());
    assert!(hs.contains(&bgp_set(7)));
    assert!(!hs.contains(&m));
}
