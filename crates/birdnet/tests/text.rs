//! Parsing and printing against BIRD's formats and messages.

use std::net::{IpAddr, Ipv6Addr};

use birdnet::{DisplayIp, Net, NetError, NetType, Prefix4, Prefix6};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn bird6(s: &str) -> String {
    DisplayIp(IpAddr::V6(s.parse().expect("test address"))).to_string()
}

#[test]
fn ipv6_printing_matches_bird() {
    let cases = [
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("::ffff:0:0", "::ffff:0.0.0.0"),
        ("::ffff:0.0.0.1", "::ffff:0.0.0.1"),
        // IPv4-compatible form: BIRD prints a dotted tail where std does not.
        ("::c000:201", "::192.0.2.1"),
        ("::1:0", "::0.1.0.0"),
        ("::1:0:0", "::1:0:0"),
        ("::2:ffff:c000:201", "::2:ffff:c000:201"),
        ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),
        ("2001:DB8::", "2001:db8::"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:0db8:0001:0000:0000:0000:0000:00fe", "2001:db8:1::fe"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("fe80::1:0:0:0", "fe80::1:0:0:0"),
        ("fe80:0:0:1:0:0:0:0", "fe80:0:0:1::"),
    ];
    for (input, want) in cases {
        assert_eq!(bird6(input), want, "printing {input}");
    }
}

#[test]
fn ipv6_printing_agrees_with_std_outside_the_compat_quirk() {
    let mut rng = StdRng::seed_from_u64(6);
    for _ in 0..20_000 {
        let mut g = [0u16; 8];
        for w in &mut g {
            *w = match rng.gen_range(0..4) {
                0 | 1 => 0,
                2 => rng.gen_range(1..16),
                _ => rng.gen(),
            };
        }
        let a = Ipv6Addr::from(g);
        let quirk = g[..6].iter().all(|&w| w == 0) && g[6] != 0;
        let ours = DisplayIp(a.into()).to_string();
        if quirk {
            let [.., a0, b0, c0, d0] = a.octets();
            assert_eq!(ours, format!("::{a0}.{b0}.{c0}.{d0}"));
        } else {
            assert_eq!(ours, a.to_string(), "{g:x?}");
        }
        assert_eq!(ours.parse::<Ipv6Addr>().expect("reparse"), a);
    }
}

#[test]
fn round_trips() {
    for s in [
        "0.0.0.0/0",
        "192.0.2.0/24",
        "198.51.100.128/25",
        "255.255.255.255/32",
        "10.0.0.0/8",
        "::/0",
        "::/128",
        "::1/128",
        "2001:db8::/32",
        "2001:db8:dead::/48",
        "2001:db8:1::fe/128",
        "::ffff:192.0.2.0/120",
        "ff00::/8",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
    ] {
        let n: Net = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(n.to_string(), s);
        assert_eq!(format!("{n:?}"), s);
        match n {
            Net::Ip4(p) => assert_eq!(p.to_string().parse::<Prefix4>(), Ok(p)),
            Net::Ip6(p) => assert_eq!(p.to_string().parse::<Prefix6>(), Ok(p)),
            _ => unreachable!(),
        }
    }
}

#[test]
fn lenient_ipv4_and_uppercase_ipv6() {
    assert_eq!("010.001.0.0/16".parse::<Net>().map(|n| n.to_string()), Ok("10.1.0.0/16".into()));
    assert_eq!("2001:DB8::/32".parse::<Net>().map(|n| n.to_string()), Ok("2001:db8::/32".into()));
    assert_eq!("192.0.2.0/024".parse::<Net>().map(|n| n.len()), Ok(24));
}

#[test]
fn errors_name_the_problem() {
    let e = |s: &str| s.parse::<Net>().unwrap_err();
    assert_eq!(
        e("192.0.2.1/24").to_string(),
        "Invalid IPv4 prefix 192.0.2.1/24, maybe you wanted 192.0.2.0/24"
    );
    assert!(matches!(e("192.0.2.1/24"), NetError::HostBitsSet { len: 24, .. }));
    assert_eq!(
        e("2001:db8::1/32").to_string(),
        "Invalid IPv6 prefix 2001:db8::1/32, maybe you wanted 2001:db8::/32"
    );
    assert_eq!(e("10.0.0.0/33").to_string(), "Invalid prefix length 33");
    assert!(matches!(e("10.0.0.0/33"), NetError::LengthOutOfRange { len: 33, max: 32 }));
    assert_eq!(e("::/129").to_string(), "Invalid prefix length 129");
    assert_eq!(e("::/99999999999"), NetError::InvalidLength { text: "99999999999".into() });
    assert!(matches!(e("10.0.0.0/"), NetError::InvalidLength { .. }));
    assert!(matches!(e("10.0.0.0/+8"), NetError::InvalidLength { .. }));
    assert!(matches!(e("10.0.0.0"), NetError::MissingLength { .. }));
    assert_eq!(e("256.0.0.0/8").to_string(), "Invalid IPv4 address 256.0.0.0");
    assert_eq!(e("1.2.3/8").to_string(), "Invalid IPv4 address 1.2.3");
    assert_eq!(e("1.2.3.4.5/8").to_string(), "Invalid IPv4 address 1.2.3.4.5");
    assert_eq!(e("2001:db8:::/32").to_string(), "Invalid IPv6 address 2001:db8:::");
    assert_eq!(e("garbage/8").to_string(), "Invalid IP address garbage");
    assert!(matches!(e(""), NetError::MissingLength { .. }));
    assert!(matches!(e("/8"), NetError::InvalidAddress { .. }));
    assert_eq!(
        "2001:db8::/32".parse::<Prefix4>().unwrap_err(),
        NetError::InvalidAddress { family: "IPv4", text: "2001:db8::".into() }
    );
    assert_eq!(
        Net::parse_typed("2001:db8::/32", NetType::Ipv4).unwrap_err().to_string(),
        "IPv4 network expected"
    );
    assert!(birdnet::parse_ipv4(" 1.2.3.4").is_err());
    assert!(birdnet::parse_ipv4("1.2.3.0256").is_err());
}

#[test]
fn constructors_enforce_invariants() {
    let a = "192.0.2.1".parse().expect("addr");
    assert!(Prefix4::new(a, 24).is_err());
    let m = Prefix4::new_masked(a, 24).expect("masked");
    assert_eq!(m.to_string(), "192.0.2.0/24");
    assert_eq!(Prefix4::new(a, 32).map(|p| p.to_string()), Ok("192.0.2.1/32".into()));
    assert!(Prefix4::new_masked(a, 33).is_err());
    assert!(Prefix6::new_masked(Ipv6Addr::LOCALHOST, 129).is_err());
    assert_eq!(Prefix4::host(a).len(), 32);
    assert_eq!(
        Net::new_masked("2001:db8::1".parse().expect("addr"), 0).map(|n| n.to_string()),
        Ok("::/0".into())
    );
}

#[test]
fn prefix_operations() {
    let p: Prefix4 = "192.0.2.0/24".parse().expect("p");
    assert_eq!(p.mask().to_string(), "255.255.255.0");
    assert_eq!(p.first().to_string(), "192.0.2.0");
    assert_eq!(p.last().to_string(), "192.0.2.255");
    assert!(p.contains_addr("192.0.2.255".parse().expect("a")));
    assert!(!p.contains_addr("192.0.3.0".parse().expect("a")));
    let sub: Prefix4 = "192.0.2.128/25".parse().expect("p");
    assert!(p.contains(&sub) && sub.is_subnet_of(&p) && p.contains(&p));
    assert!(!sub.contains(&p));
    assert_eq!(sub.common_prefix(&"192.0.3.0/24".parse().expect("p")).to_string(), "192.0.2.0/23");
    assert!(p.bit(0) && p.bit(1) && !p.bit(2) && p.bit(22) && !p.bit(23));
    assert_eq!(p.child(true).map(|c| c.to_string()), Some("192.0.2.128/25".into()));
    assert_eq!(sub.parent(), Some(p));
    assert_eq!(Prefix4::DEFAULT.parent(), None);
    assert_eq!(Prefix4::host(p.addr()).child(false), None);
    assert_eq!(p.truncate(8).to_string(), "192.0.0.0/8");
    assert_eq!(Prefix4::DEFAULT.last().to_string(), "255.255.255.255");

    let q: Prefix6 = "2001:db8::/32".parse().expect("p");
    assert_eq!(q.mask().to_string(), "ffff:ffff::");
    assert_eq!(q.last().to_string(), "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
    assert!(q.bit(2) && !q.bit(0));
    assert_eq!("::/0".parse::<Prefix6>().expect("p").last(), Ipv6Addr::from(u128::MAX));

    let n4: Net = p.into();
    let n6: Net = q.into();
    assert!(!n4.contains(&n6) && !n6.contains_addr(p.addr().into()));
    assert_eq!(n4.common_prefix(&n6), None);
    assert_eq!(n6.net_type().to_string(), "ipv6");
    assert_eq!(Prefix4::try_from(n6), Err(NetError::WrongFamily { expected: NetType::Ipv4 }));
    assert_eq!(Net::default_route(NetType::Ipv6).to_string(), "::/0");
}

#[test]
fn display_pads_like_bird_columns() {
    let n: Net = "192.0.2.0/24".parse().expect("n");
    assert_eq!(format!(" {n:<20} unicast"), " 192.0.2.0/24         unicast");
    let a = DisplayIp("2001:db8:1::fe".parse().expect("a"));
    assert_eq!(format!("[{a:>16}]"), "[  2001:db8:1::fe]");
}

#[test]
fn ordering_is_type_address_length() {
    let mut v: Vec<Net> = [
        "2001:db8::/32",
        "10.0.0.0/16",
        "10.0.0.0/8",
        "::/0",
        "9.255.0.0/16",
        "10.1.0.0/16",
        "0.0.0.0/0",
        "2001:db8::/48",
    ]
    .iter()
    .map(|s| s.parse().expect("net"))
    .collect();
    v.sort();
    let got: Vec<String> = v.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "0.0.0.0/0",
            "9.255.0.0/16",
            "10.0.0.0/8",
            "10.0.0.0/16",
            "10.1.0.0/16",
            "::/0",
            "2001:db8::/32",
            "2001:db8::/48"
        ]
    );
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..10_000 {
        let a = Prefix4::new_masked(rng.gen::<u32>().into(), rng.gen_range(0..=32)).expect("p");
        let b = Prefix4::new_masked(rng.gen::<u32>().into(), rng.gen_range(0..=32)).expect("p");
        assert_eq!(a.cmp(&b), (a.addr(), a.len()).cmp(&(b.addr(), b.len())));
    }
}

#[test]
fn sizes_are_compact() {
    assert_eq!(std::mem::size_of::<Prefix4>(), 5);
    assert_eq!(std::mem::size_of::<Prefix6>(), 17);
    assert_eq!(std::mem::size_of::<Net>(), 18);
    assert_eq!(std::mem::size_of::<Option<Net>>(), 18);
}

#[test]
fn net_type_keywords() {
    assert_eq!("ipv4".parse::<NetType>(), Ok(NetType::Ipv4));
    assert!("ipv5".parse::<NetType>().is_err());
    assert_eq!(NetType::Ipv6.filter_constant(), "NET_IP6");
    assert_eq!(NetType::Ipv4.max_len(), 32);
}
