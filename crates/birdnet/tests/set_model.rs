//! Prefix-set semantics against a brute-force model and BIRD's documented examples.

use birdnet::{Net, NetError, Prefix4, Prefix6, PrefixPattern, PrefixSet};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn n(s: &str) -> Net {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn bird_examples() {
    let set: PrefixSet = [
        PrefixPattern::new(n("192.0.2.0/24"), 24, 28).expect("range"),
        PrefixPattern::or_longer(n("10.0.0.0/8")),
        PrefixPattern::or_shorter(n("2001:db8::/32")),
        PrefixPattern::exact(n("198.51.100.0/24")),
    ]
    .into_iter()
    .collect();
    for (s, want) in [
        ("192.0.2.0/24", true),
        ("192.0.2.0/28", true),
        ("192.0.2.240/28", true),
        ("192.0.2.0/29", false),
        ("192.0.0.0/16", false),
        ("192.0.3.0/24", false),
        ("10.0.0.0/8", true),
        ("10.255.255.255/32", true),
        ("10.0.0.0/7", false),
        ("11.0.0.0/8", false),
        ("2001:db8::/32", true),
        ("2001:d00::/24", true),
        ("::/0", true),
        ("2001:db8::/33", false),
        ("2001:db9::/32", false),
        ("198.51.100.0/24", true),
        ("198.51.100.0/25", false),
        ("198.51.0.0/16", false),
        ("0.0.0.0/0", false),
    ] {
        assert_eq!(set.matches(&n(s)), want, "{s}");
    }
    assert_eq!(set.len(), 4);
    assert!(set.has_ipv4() && set.has_ipv6());
    assert!(!PrefixSet::new().matches(&n("0.0.0.0/0")));
}

#[test]
fn pattern_range_checks_and_display() {
    assert_eq!(
        PrefixPattern::new(n("192.0.2.0/24"), 20, 28),
        Err(NetError::InvalidPatternRange { low: 20, high: 28 })
    );
    assert!(PrefixPattern::new(n("192.0.2.0/24"), 24, 33).is_err());
    assert!(PrefixPattern::new(n("192.0.2.0/24"), 28, 25).is_err());
    assert!(PrefixPattern::new(n("::/0"), 0, 128).is_ok());
    assert!(PrefixPattern::with_range(n("192.0.2.0/24"), 20, 22).is_ok());
    assert!(PrefixPattern::with_range(n("192.0.2.0/24"), 20, 33).is_err());
    let show = |p: PrefixPattern| p.to_string();
    assert_eq!(show(PrefixPattern::or_longer(n("10.0.0.0/8"))), "10.0.0.0/8+");
    assert_eq!(show(PrefixPattern::or_shorter(n("2001:db8::/32"))), "2001:db8::/32-");
    assert_eq!(show(PrefixPattern::exact(n("10.0.0.0/8"))), "10.0.0.0/8");
    assert_eq!(show(PrefixPattern::new(n("0.0.0.0/0"), 25, 32).expect("ok")), "0.0.0.0/0{25,32}");
    assert_eq!(show(PrefixPattern::or_longer(n("1.2.3.4/32"))), "1.2.3.4/32");
}

fn rand_net(rng: &mut StdRng, v6: bool) -> Net {
    // Few distinct top bits, so patterns and queries overlap often.
    if v6 {
        let bits =
            (u128::from(rng.gen_range(0u8..4)) << 124) | (u128::from(rng.gen::<u16>() & 0x0f0f) << 100);
        let len = rng.gen_range(0..=128);
        Prefix6::new_masked(bits.into(), len).expect("len").into()
    } else {
        let bits = (u32::from(rng.gen_range(0u8..4)) << 28)
            | (u32::from(rng.gen::<u16>() & 0x0f0f) << 8)
            | rng.gen_range(0..4);
        let len = rng.gen_range(0..=32);
        Prefix4::new_masked(bits.into(), len).expect("len").into()
    }
}

fn rand_pattern(rng: &mut StdRng, v6: bool) -> PrefixPattern {
    let net = rand_net(rng, v6);
    let (d, max) = (net.len(), net.max_len());
    match rng.gen_range(0..5) {
        0 => PrefixPattern::exact(net),
        1 => PrefixPattern::or_longer(net),
        2 => PrefixPattern::or_shorter(net),
        3 => {
            let a = rng.gen_range(d..=max);
            let b = rng.gen_range(a..=max);
            PrefixPattern::new(net, a, b).expect("valid range")
        }
        _ => {
            let a = rng.gen_range(0..=max);
            let b = rng.gen_range(a..=max);
            PrefixPattern::with_range(net, a, b).expect("valid range")
        }
    }
}

#[test]
fn set_matches_model() {
    let mut rng = StdRng::seed_from_u64(77);
    for round in 0..40 {
        let mut pats = Vec::new();
        let mut set = PrefixSet::new();
        for _ in 0..(1 + round * 2) {
            let v6 = rng.gen_bool(0.5);
            let p = rand_pattern(&mut rng, v6);
            pats.push(p);
            set.insert(p);
        }
        for _ in 0..1500 {
            let v6 = rng.gen_bool(0.5);
            let q = rand_net(&mut rng, v6);
            let want = pats.iter().any(|p| p.matches(&q));
            assert_eq!(set.matches(&q), want, "{q} against {pats:?}");
        }
        // Each pattern's own net and its endpoints of the range behave as the model says.
        for p in &pats {
            for l in [p.low(), p.high()] {
                let q = p.net().truncate(l);
                assert_eq!(set.matches(&q), pats.iter().any(|p| p.matches(&q)), "{q}");
            }
        }
    }
}

#[test]
fn single_pattern_semantics() {
    // The model itself, pinned on hand-checked cases.
    let p = PrefixPattern::with_range(n("10.20.0.0/16"), 8, 20).expect("range");
    assert!(p.matches(&n("10.0.0.0/8")));
    assert!(p.matches(&n("10.20.0.0/16")));
    assert!(p.matches(&n("10.20.240.0/20")));
    assert!(!p.matches(&n("10.20.0.0/21")));
    assert!(!p.matches(&n("10.21.0.0/16")));
    assert!(!p.matches(&n("0.0.0.0/0")));
    assert!(!p.matches(&n("::/8")));
}
