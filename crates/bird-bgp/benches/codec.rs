//! Codec throughput on a realistic UPDATE stream: groups of about 12 IPv4 prefixes sharing one
//! attribute set, AS paths of 1 to 8 ASNs, communities on about 35% of the groups.
//!
//! `cargo bench -p bird-bgp --bench codec`; throughput is reported in prefixes per second.

use std::net::{IpAddr, Ipv4Addr};

use bird_bgp::wire::{AfiSafi, Message, Nlri, SessionCtx, UpdatePacker};
use birdnet::{Net, Prefix4};
use birdtable::attrs::{AsPath, AttrId, AttrValue, Community, EAttr, List, Origin};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const GROUPS: usize = 2000;

struct Group {
    attrs: Vec<EAttr>,
    nets: Vec<Nlri>,
}

fn stream() -> Vec<Group> {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut next = 0x0b00_0000u32;
    (0..GROUPS)
        .map(|_| {
            let plen = rng.gen_range(1..=8);
            let asns: Vec<u32> = (0..plen).map(|_| rng.gen_range(1..400_000)).collect();
            let mut attrs = vec![
                EAttr { id: AttrId::BGP_ORIGIN, flags: 0x40, value: AttrValue::Origin(Origin::Igp) },
                EAttr {
                    id: AttrId::BGP_PATH,
                    flags: 0x40,
                    value: AttrValue::Path(AsPath::from_sequence(&asns)),
                },
                EAttr {
                    id: AttrId::BGP_NEXT_HOP,
                    flags: 0x40,
                    value: AttrValue::Ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, rng.gen_range(1..250)))),
                },
                EAttr { id: AttrId::BGP_MED, flags: 0x80, value: AttrValue::Int(rng.gen_range(0..100)) },
            ];
            if rng.gen_bool(0.35) {
                let n = rng.gen_range(1..6);
                let l = List::from_values((0..n).map(|_| Community::new(rng.gen(), rng.gen())));
                attrs.push(EAttr { id: AttrId::BGP_COMMUNITY, flags: 0xc0, value: AttrValue::Clist(l) });
            }
            let count = rng.gen_range(8..=16);
            let nets = (0..count)
                .map(|_| {
                    let len = rng.gen_range(19..=24);
                    next = next.wrapping_add(1 << (32 - len));
                    Nlri::new(Net::Ip4(Prefix4::new_masked(Ipv4Addr::from(next), len).expect("prefix")))
                })
                .collect();
            Group { attrs, nets }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ctx = SessionCtx { as4: true, ..SessionCtx::default() };
    let groups = stream();
    let prefixes: usize = groups.iter().map(|g| g.nets.len()).sum();
    let packer = UpdatePacker::new(&ctx);
    let mut msgs = Vec::new();
    for g in &groups {
        packer.announce(AfiSafi::IPV4_UNICAST, &g.attrs, &g.nets, &mut msgs).expect("pack");
    }
    let mut grp = c.benchmark_group("codec");
    grp.throughput(Throughput::Elements(prefixes as u64));
    grp.bench_function("encode_updates", |b| {
        let mut out = Vec::with_capacity(GROUPS);
        b.iter(|| {
            out.clear();
            for g in &groups {
                packer.announce(AfiSafi::IPV4_UNICAST, &g.attrs, &g.nets, &mut out).expect("pack");
            }
            out.len()
        })
    });
    grp.bench_function("decode_updates", |b| {
        b.iter(|| {
            let mut n = 0;
            for m in &msgs {
                if let Ok(Message::Update(u)) = Message::decode(m, &ctx) {
                    for f in u.families() {
                        n += f.announced.len();
                    }
                }
            }
            assert_eq!(n, prefixes);
            n
        })
    });
    grp.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
