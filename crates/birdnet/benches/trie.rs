//! Trie benchmarks: bulk insert of 1M prefixes and longest-prefix-match lookups.
//!
//! Run: `cargo bench -p birdnet --bench trie -- --warm-up-time 1 --measurement-time 3`
//!
//! Prefix mix (seeded, uniform over the address space):
//! IPv4 — 60% /24, 35% /16../23, 5% /8../15; IPv6 — 55% /48, 35% /32../47, 10% /29../31 or /49../64.
//! Lookups take batches of 1024 addresses: uniformly random ones ("random",
//! mostly misses or short matches) and addresses inside stored prefixes ("hit").
//!
//! First run (release, one core of a shared 2-core VM, load ~3, medians):
//! ipv4 insert_1M 663 ms; lpm per lookup: random 219 ns / hit 232 ns as built,
//! 165 ns / 174 ns after `compact()`. ipv6 insert_1M 1.21 s; lpm random 310 ns /
//! hit 407 ns as built, 339 ns / 400 ns compacted. Heap after the 1M inserts:
//! IPv4 936k distinct prefixes, 1.54M nodes, 50 MB; IPv6 1.0M prefixes, 2.0M nodes, 76 MB
//! (Vec capacity, not just the used part).

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

use birdnet::{IpPrefix, Prefix4, Prefix6, Trie};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const N: usize = 1_000_000;
const BATCH: usize = 1024;

fn prefixes4(rng: &mut StdRng) -> Vec<Prefix4> {
    (0..N)
        .map(|_| {
            let len = match rng.gen_range(0..100) {
                0..=59 => 24,
                60..=94 => rng.gen_range(16..=23),
                _ => rng.gen_range(8..=15),
            };
            Prefix4::from_bits(rng.gen(), len)
        })
        .collect()
}

fn prefixes6(rng: &mut StdRng) -> Vec<Prefix6> {
    (0..N)
        .map(|_| {
            let len = match rng.gen_range(0..100) {
                0..=54 => 48,
                55..=89 => rng.gen_range(32..=47),
                90..=94 => rng.gen_range(29..=31),
                _ => rng.gen_range(49..=64),
            };
            // Global unicast 2000::/3, as in the real table.
            Prefix6::from_bits((rng.gen::<u128>() >> 3) | (1 << 125), len)
        })
        .collect()
}

fn bench_family<P: IpPrefix>(
    c: &mut Criterion,
    name: &str,
    prefixes: &[P],
    random_addr: impl Fn(&mut StdRng) -> P::Addr,
    inside: impl Fn(&mut StdRng, &P) -> P::Addr,
) {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.throughput(Throughput::Elements(prefixes.len() as u64));
    g.bench_function("insert_1M", |b| {
        b.iter_with_large_drop(|| {
            let mut t: Trie<P, u32> = Trie::new();
            for (i, p) in prefixes.iter().enumerate() {
                t.insert(*p, i as u32);
            }
            t
        })
    });
    g.finish();

    let mut t: Trie<P, u32> = Trie::new();
    for (i, p) in prefixes.iter().enumerate() {
        t.insert(*p, i as u32);
    }
    eprintln!(
        "{name}: {} prefixes, {} nodes, {:.1} MB heap",
        t.len(),
        t.node_count(),
        t.heap_bytes() as f64 / 1e6
    );
    let mut rng = StdRng::seed_from_u64(99);
    let random: Vec<P::Addr> = (0..BATCH).map(|_| random_addr(&mut rng)).collect();
    let hits: Vec<P::Addr> = (0..BATCH)
        .map(|_| {
            let p = prefixes[rng.gen_range(0..prefixes.len())];
            inside(&mut rng, &p)
        })
        .collect();

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(BATCH as u64));
    for compacted in [false, true] {
        if compacted {
            t.compact();
        }
        let tag = if compacted { "compacted" } else { "as_built" };
        for (kind, addrs) in [("random", &random), ("hit", &hits)] {
            g.bench_function(format!("lpm_{kind}_{tag}"), |b| {
                b.iter_batched_ref(
                    || (),
                    |_| {
                        let mut found = 0u32;
                        for a in addrs.iter() {
                            if let Some((_, v)) = t.longest_match(*a) {
                                found = found.wrapping_add(*v);
                            }
                        }
                        black_box(found)
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(2024);
    let p4 = prefixes4(&mut rng);
    bench_family(
        c,
        "ipv4",
        &p4,
        |r| Ipv4Addr::from_bits(r.gen()),
        |r, p| {
            Ipv4Addr::from_bits(
                p.bits() | (r.gen::<u32>() & !u32::MAX.checked_shl(32 - u32::from(p.len())).unwrap_or(0)),
            )
        },
    );
    drop(p4);
    let p6 = prefixes6(&mut rng);
    bench_family(
        c,
        "ipv6",
        &p6,
        |r| Ipv6Addr::from_bits((r.gen::<u128>() >> 3) | (1 << 125)),
        |r, p| {
            Ipv6Addr::from_bits(
                p.bits() | (r.gen::<u128>() & !u128::MAX.checked_shl(128 - u32::from(p.len())).unwrap_or(0)),
            )
        },
    );
}

criterion_group!(trie, benches);
criterion_main!(trie);
