//! Tries against brute-force models on seeded random data.

use std::collections::BTreeMap;

use birdnet::{AddrBits, IpPrefix, Net, Prefix4, Prefix6, PrefixTrie, Trie};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Clustered random IPv4 prefixes: few top bits, so prefixes nest and collide.
fn gen4(rng: &mut StdRng) -> Prefix4 {
    let top = [10u32, 192, 198, 203][rng.gen_range(0..4)] << 24;
    let bits = top | (rng.gen::<u32>() & 0x00ff_ffff & if rng.gen_bool(0.5) { 0x0000_ff00 } else { !0 });
    let len = match rng.gen_range(0..10) {
        0 => rng.gen_range(0..=8),
        1..=6 => rng.gen_range(16..=24),
        _ => rng.gen_range(8..=32),
    };
    Prefix4::from_bits(bits, len)
}

fn gen6(rng: &mut StdRng) -> Prefix6 {
    let top = [0x2001_0db8u128, 0x2a00_1450, 0][rng.gen_range(0..3)] << 96;
    let low = if rng.gen_bool(0.5) { u128::from(rng.gen::<u16>()) << 80 } else { rng.gen::<u128>() >> 32 };
    let len = match rng.gen_range(0..10) {
        0 => rng.gen_range(0..=32),
        1..=6 => rng.gen_range(32..=64),
        _ => rng.gen_range(0..=128),
    };
    Prefix6::from_bits(top | low, len)
}

/// Sets the low 8 bits of an address from `b`.
fn low_bits<P: IpPrefix>(b: u8) -> P::Bits {
    let mut out = <P::Bits as AddrBits>::ZERO;
    for i in 0..8u8 {
        if b >> i & 1 == 1 {
            out = out | P::Bits::single(P::MAX_LEN - 1 - i);
        }
    }
    out
}

fn model_lpm<P: IpPrefix>(m: &BTreeMap<P, u32>, q: &P) -> Option<(P, u32)> {
    m.iter()
        .filter(|(p, _)| p.len() <= q.len() && P::from_bits(q.bits(), p.len()) == **p)
        .max_by_key(|(p, _)| p.len())
        .map(|(p, v)| (*p, *v))
}

fn check<P: IpPrefix>(seed: u64, gen: fn(&mut StdRng) -> P) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut t: Trie<P, u32> = Trie::new();
    let mut m: BTreeMap<P, u32> = BTreeMap::new();
    for round in 0..3 {
        // Grow, then shrink, so removal and node reuse are exercised.
        for i in 0..1500u32 {
            let p = gen(&mut rng);
            assert_eq!(t.insert(p, i), m.insert(p, i), "insert {p}");
        }
        let victims: Vec<P> = (0..700).map(|_| gen(&mut rng)).collect();
        for p in &victims {
            assert_eq!(t.remove(p), m.remove(p), "remove {p}");
        }
        let existing: Vec<P> = m.keys().copied().step_by(3).collect();
        for p in existing.iter().take(200 + round * 50) {
            assert_eq!(t.remove(p), m.remove(p), "remove existing {p}");
            assert_eq!(t.remove(p), None);
        }
        assert_eq!(t.len(), m.len());
        assert!(
            t.node_count() <= (2 * t.len()).saturating_sub(1),
            "{} nodes for {}",
            t.node_count(),
            t.len()
        );

        // Exact lookups, ordered iteration.
        let all: Vec<(P, u32)> = t.iter().map(|(p, v)| (p, *v)).collect();
        let want: Vec<(P, u32)> = m.iter().map(|(p, v)| (*p, *v)).collect();
        assert_eq!(all, want);
        for (p, v) in &m {
            assert_eq!(t.get(p), Some(v));
        }

        for _ in 0..500 {
            // LPM for addresses (host prefixes) and for prefixes.
            let q = gen(&mut rng);
            // A host probe: a clustered address with random low bits kept.
            let host = P::from_bits(gen(&mut rng).bits() | low_bits::<P>(rng.gen()), P::MAX_LEN);
            for probe in [q, host] {
                let got = t.longest_match_prefix(&probe).map(|(p, v)| (p, *v));
                assert_eq!(got, model_lpm(&m, &probe), "lpm {probe}");
                if probe.len() == P::MAX_LEN {
                    let got = t.longest_match(P::bits_to_addr(probe.bits())).map(|(p, v)| (p, *v));
                    assert_eq!(got, model_lpm(&m, &probe), "lpm addr {probe}");
                }
                // Covering list: every stored prefix containing probe, shortest first.
                let cov: Vec<P> = t.covering(&probe).map(|(p, _)| p).collect();
                let want: Vec<P> = {
                    let mut v: Vec<P> = m
                        .keys()
                        .filter(|p| p.len() <= probe.len() && P::from_bits(probe.bits(), p.len()) == **p)
                        .copied()
                        .collect();
                    v.sort_by_key(|p| p.len());
                    v
                };
                assert_eq!(cov, want, "covering {probe}");
            }
            // Subnets in order.
            let sub: Vec<(P, u32)> = t.subnets(&q).map(|(p, v)| (p, *v)).collect();
            let want: Vec<(P, u32)> = m
                .iter()
                .filter(|(p, _)| p.len() >= q.len() && P::from_bits(p.bits(), q.len()) == q)
                .map(|(p, v)| (*p, *v))
                .collect();
            assert_eq!(sub, want, "subnets {q}");
        }
    }
    let before: Vec<(P, u32)> = t.iter().map(|(p, v)| (p, *v)).collect();
    t.compact();
    let after: Vec<(P, u32)> = t.iter().map(|(p, v)| (p, *v)).collect();
    assert_eq!(before, after);
    for (p, v) in &m {
        assert_eq!(t.get(p), Some(v));
        assert_eq!(t.longest_match_prefix(p).map(|(q, v)| (q, *v)), Some((*p, *v)));
    }
    let keys: Vec<P> = m.keys().copied().collect();
    for p in keys {
        assert_eq!(t.remove(&p), m.remove(&p));
        *t.get_or_insert_with(p, || 7) += 1;
        assert_eq!(t.get(&p), Some(&8));
        assert_eq!(t.remove(&p), Some(8));
    }
    assert!(t.is_empty());
    assert_eq!(t.node_count(), 0);
    assert_eq!(t.iter().count(), 0);
}

#[test]
fn ipv4_trie_matches_model() {
    check::<Prefix4>(4, gen4);
}

#[test]
fn ipv6_trie_matches_model() {
    check::<Prefix6>(6, gen6);
}

#[test]
fn default_route_and_hosts() {
    let mut t = Trie::<Prefix4, &str>::new();
    assert!(t.longest_match("1.2.3.4".parse().expect("a")).is_none());
    t.insert("0.0.0.0/0".parse().expect("p"), "default");
    t.insert("1.2.3.4/32".parse().expect("p"), "host");
    assert_eq!(t.longest_match("1.2.3.4".parse().expect("a")).map(|(_, v)| *v), Some("host"));
    assert_eq!(t.longest_match("1.2.3.5".parse().expect("a")).map(|(_, v)| *v), Some("default"));
    assert_eq!(t.subnets(&"0.0.0.0/0".parse().expect("p")).count(), 2);
    assert_eq!(t.subnets(&"1.2.3.4/32".parse().expect("p")).count(), 1);
    assert_eq!(t.subnets(&"1.2.3.5/32".parse().expect("p")).count(), 0);
    assert_eq!(t.remove(&"0.0.0.0/0".parse().expect("p")), Some("default"));
    assert_eq!(t.longest_match("1.2.3.5".parse().expect("a")), None);
    assert_eq!(format!("{t:?}"), r#"{1.2.3.4/32: "host"}"#);
}

#[test]
fn dual_family_trie_matches_model() {
    let mut rng = StdRng::seed_from_u64(46);
    let mut t: PrefixTrie<u32> = PrefixTrie::new();
    let mut m: BTreeMap<Net, u32> = BTreeMap::new();
    for i in 0..3000u32 {
        let n: Net = if rng.gen_bool(0.5) { gen4(&mut rng).into() } else { gen6(&mut rng).into() };
        if rng.gen_bool(0.2) {
            assert_eq!(t.remove(&n), m.remove(&n));
        } else {
            assert_eq!(t.insert(n, i), m.insert(n, i));
        }
    }
    assert_eq!(t.len(), m.len());
    let got: Vec<(Net, u32)> = t.iter().map(|(n, v)| (n, *v)).collect();
    let want: Vec<(Net, u32)> = m.iter().map(|(n, v)| (*n, *v)).collect();
    assert_eq!(got, want, "iteration follows Net's Ord");
    for _ in 0..1000 {
        let q: Net = if rng.gen_bool(0.5) { gen4(&mut rng).into() } else { gen6(&mut rng).into() };
        let lpm =
            m.iter().filter(|(n, _)| n.contains(&q)).max_by_key(|(n, _)| n.len()).map(|(n, v)| (*n, *v));
        assert_eq!(t.longest_match_net(&q).map(|(n, v)| (n, *v)), lpm);
        let host = Net::host(q.addr());
        let lpm = m
            .iter()
            .filter(|(n, _)| n.contains_addr(q.addr()))
            .max_by_key(|(n, _)| n.len())
            .map(|(n, v)| (*n, *v));
        assert_eq!(t.longest_match(host.addr()).map(|(n, v)| (n, *v)), lpm);
        let sub: Vec<Net> = t.subnets(&q).map(|(n, _)| n).collect();
        let want: Vec<Net> = m.keys().filter(|n| q.contains(n)).copied().collect();
        assert_eq!(sub, want);
    }
}
