//! Filter run time per route.
//!
//! * `rsb_import/*`: the bench template's import filter (shared/bench/templates/bird.conf), on the
//!   hot path of the route-server benchmark: an accepted route (one attribute write, so one
//!   attribute-set copy), a route rejected by the prefix set, and one rejected by the community.
//! * `prefix_set_1000`: `net ~ <1000-prefix set>` on matching and non-matching nets.
//! * `bgp_import`: birdA's import filter (function call, masks, case, community updates).
//!
//! Run: `CARGO_TARGET_DIR=target-filter cargo bench -p birdfilter --bench filters`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use birdfilter::{Filter, Program, RouteCtx};
use birdnet::Net;
use birdtable::attrs::{
    AsPath, AttrId, AttrSet, AttrValue, Community, Dest, Iface, List, NextHop, Origin, RouteSource,
};
use criterion::{criterion_group, criterion_main, Criterion};

const RSB: &str = r#"
filter rsb_import {
  if net.len > 24 then reject;
  if net ~ [ 0.0.0.0/8+, 10.0.0.0/8+, 127.0.0.0/8+, 224.0.0.0/3+ ] then reject;
  if bgp_path.len > 32 then reject;
  if (65535, 666) ~ bgp_community then reject;
  bgp_local_pref = 100;
  accept;
}
"#;

fn bgp(path: &[u32], comms: &[(u16, u16)]) -> AttrSet {
    let gw = "127.0.0.10".parse().unwrap();
    let mut a = AttrSet::new(RouteSource::Bgp, Dest::one(NextHop::via(gw, Iface::new("lo", 1))));
    a.from = Some(gw);
    a.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
    a.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(path))).unwrap();
    a.set(AttrId::BGP_NEXT_HOP, AttrValue::Ip(gw)).unwrap();
    let l = List::from_values(comms.iter().map(|&(x, y)| Community::new(x, y)));
    a.set(AttrId::BGP_COMMUNITY, AttrValue::Clist(l)).unwrap();
    a
}

fn bench_one(c: &mut Criterion, name: &str, f: &Filter, net: Net, attrs: &AttrSet) {
    c.bench_function(name, |b| {
        b.iter(|| {
            let mut ctx = RouteCtx::new(black_box(net), black_box(attrs), "feeder1", 100);
            let v = f.run(&mut ctx);
            black_box((v, ctx.into_attrs()))
        })
    });
}

fn rsb(c: &mut Criterion) {
    let p = Program::compile(&birdconf::parse_str("b.conf", RSB).unwrap()).unwrap();
    let f = p.filter("rsb_import").unwrap();
    let a = bgp(&[65010, 3356, 174, 64496], &[(65010, 100), (65010, 200), (3356, 3)]);
    bench_one(c, "rsb_import/accept", f, "203.0.113.0/24".parse().unwrap(), &a);
    bench_one(c, "rsb_import/reject_prefix_set", f, "10.20.0.0/16".parse().unwrap(), &a);
    c.bench_function("rsb_import/accept_owned", |b| {
        b.iter(|| {
            let mut ctx = RouteCtx::owned("203.0.113.0/24".parse().unwrap(), a.clone(), "feeder1", 100);
            let v = f.run(&mut ctx);
            black_box((v, ctx.finish()))
        })
    });
    c.bench_function("attrset_clone_baseline", |b| b.iter(|| black_box(black_box(&a).clone())));
    let bh = bgp(&[65010, 3356], &[(65010, 100), (65535, 666)]);
    bench_one(c, "rsb_import/reject_community", f, "203.0.113.0/24".parse().unwrap(), &bh);
}

fn prefix_set(c: &mut Criterion) {
    let mut items = Vec::new();
    for i in 0..1000u32 {
        let a = 0x6400_0000 + (i << 10); // 100.0.0.0 + i * 1024, /22s
        items.push(format!("{}/22{{22,24}}", std::net::Ipv4Addr::from(a)));
    }
    let text = format!("filter big {{ if net ~ [ {} ] then accept; reject; }}", items.join(", "));
    let p = Program::compile(&birdconf::parse_str("b.conf", &text).unwrap()).unwrap();
    let f = p.filter("big").unwrap();
    let a = bgp(&[65010], &[]);
    bench_one(c, "prefix_set_1000/match", f, "100.0.200.0/24".parse().unwrap(), &a);
    bench_one(c, "prefix_set_1000/miss", f, "198.51.100.0/24".parse().unwrap(), &a);
}

fn bird_a(c: &mut Criterion) {
    let path = format!("{}/tests/data/birdA.conf", env!("CARGO_MANIFEST_DIR"));
    let p = Program::compile(&birdconf::parse_file(&path).unwrap()).unwrap();
    let f = p.filter("bgp_import").unwrap();
    let a = bgp(&[65002, 65002], &[(65002, 100), (65001, 5)]);
    bench_one(c, "bgp_import/accept", f, "203.0.113.0/24".parse().unwrap(), &a);
}

criterion_group!(benches, rsb, prefix_set, bird_a);
criterion_main!(benches);
