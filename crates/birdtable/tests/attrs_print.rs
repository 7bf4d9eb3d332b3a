//! `show route all` attribute lines against the BIRD 2.0.12 and 3.3.2 transcripts
//! (`/work/shared/compat/bird{2,3}-transcripts/`, `11-show-route-all.out`, `16-*`, `97-*`, `b-05-*`).
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::Arc;

use birdtable::attrs::{
    AsPath, AttrId, AttrSet, AttrStyle, AttrValue, Clist, Community, Dest, EcKind, EcList, ExtCommunity,
    HostEntry, Iface, LargeCommunity, LcList, NextHop, Origin, RouteSource, IGP_METRIC_UNKNOWN,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn via(gw: &str, ifname: &str, idx: u32) -> Dest {
    Dest::one(NextHop::via(ip(gw), Iface::new(ifname, idx)))
}

fn lines(set: &AttrSet, style: AttrStyle, pref: u16) -> Vec<String> {
    set.detail_text(style, pref)
}

/// The BGP route 203.0.113.0/24 from peer_b4 (transcripts 11 and 16).
fn bgp_203() -> AttrSet {
    let mut s = AttrSet::new(RouteSource::Bgp, via("192.0.2.254", "vethA", 2));
    s.from = Some(ip("127.0.0.3"));
    s.igp_metric = Some(IGP_METRIC_UNKNOWN);
    s.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
    s.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&[65002, 65002]))).unwrap();
    s.set(AttrId::BGP_NEXT_HOP, AttrValue::Ip(ip("198.51.100.2"))).unwrap();
    s.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(300)).unwrap();
    // Set out of id order on purpose: the set keeps them sorted.
    s.set(
        AttrId::BGP_LARGE_COMMUNITY,
        AttrValue::Lclist(LcList::from_values([
            LargeCommunity::new(65002, 5, 5),
            LargeCommunity::new(65001, 1, 7),
        ])),
    )
    .unwrap();
    s.set(
        AttrId::BGP_COMMUNITY,
        AttrValue::Clist(Clist::from_values([Community::new(65002, 100), Community::new(65001, 1007)])),
    )
    .unwrap();
    s.set(
        AttrId::BGP_EXT_COMMUNITY,
        AttrValue::Eclist(EcList::from_values([ExtCommunity::as2(EcKind::Rt, 65001, 7)])),
    )
    .unwrap();
    s
}

#[test]
fn bgp_route_bird2() {
    // bird2-transcripts/16-show-route-prefix-all.out and bird3 97-cli-v2-attributes-show-route-all.out
    let expected = [
        "\tType: BGP univ",
        "\tBGP.origin: IGP",
        "\tBGP.as_path: 65002 65002",
        "\tBGP.next_hop: 198.51.100.2",
        "\tBGP.local_pref: 300",
        "\tBGP.community: (65002,100) (65001,1007)",
        "\tBGP.ext_community: (rt, 65001, 7)",
        "\tBGP.large_community: (65002, 5, 5) (65001, 1, 7)",
    ];
    let set = bgp_203();
    assert_eq!(lines(&set, AttrStyle::Bird2, 100), expected);
    let mut out = Vec::new();
    set.detail_lines(AttrStyle::Bird2, 100, &mut out);
    let codes: Vec<u16> = out.iter().map(|l| l.code).collect();
    assert_eq!(codes, [1008, 1012, 1012, 1012, 1012, 1012, 1012, 1012]);
    assert_eq!(set.bgp_summary().as_deref(), Some("[AS65002i]"));
    assert_eq!(set.dest.show_lines().collect::<Vec<_>>(), ["\tvia 192.0.2.254 on vethA"]);
}

#[test]
fn bgp_route_bird3_with_hostentry() {
    // bird3-transcripts/16-show-route-prefix-all.out
    let expected = [
        "\thostentry: via 198.51.100.2 table master4",
        "\tpreference: 100",
        "\tlocal_metric: unknown",
        "\tfrom: 127.0.0.3",
        "\tsource: BGP",
        "\tbgp_origin: IGP",
        "\tbgp_path: 65002 65002",
        "\tbgp_next_hop: 198.51.100.2",
        "\tbgp_local_pref: 300",
        "\tbgp_community: (65002,100) (65001,1007)",
        "\tbgp_ext_community: (rt, 65001, 7)",
        "\tbgp_large_community: (65002, 5, 5) (65001, 1, 7)",
    ];
    let mut set = bgp_203();
    let he = HostEntry { addr: ip("198.51.100.2"), link: None, table: Arc::from("master4") };
    set.set(AttrId::HOSTENTRY, AttrValue::HostEntry(Box::new(he))).unwrap();
    assert_eq!(lines(&set, AttrStyle::Bird3, 100), expected);
    let mut out = Vec::new();
    set.detail_lines(AttrStyle::Bird3, 100, &mut out);
    assert!(out.iter().all(|l| l.code == 1012));
    // The hostentry is BIRD 3 only.
    assert_eq!(lines(&set, AttrStyle::Bird2, 100)[..2], ["\tType: BGP univ", "\tBGP.origin: IGP"]);
}

#[test]
fn bgp_blackhole_both_styles() {
    // 198.18.0.0/24: bird2 11-show-route-all.out, bird3 11-show-route-all.out
    let mut s = AttrSet::new(RouteSource::Bgp, Dest::Blackhole);
    s.from = Some(ip("127.0.0.3"));
    s.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
    s.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&[65002, 65002]))).unwrap();
    s.set(AttrId::BGP_NEXT_HOP, AttrValue::Ip(ip("198.51.100.2"))).unwrap();
    s.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(200)).unwrap();
    s.set(
        AttrId::BGP_COMMUNITY,
        AttrValue::Clist(Clist::from_values([Community::BLACKHOLE, Community::new(65001, 1007)])),
    )
    .unwrap();
    s.set(
        AttrId::BGP_EXT_COMMUNITY,
        AttrValue::Eclist(EcList::from_values([ExtCommunity::as2(EcKind::Rt, 65001, 7)])),
    )
    .unwrap();
    s.set(
        AttrId::BGP_LARGE_COMMUNITY,
        AttrValue::Lclist(LcList::from_values([LargeCommunity::new(65001, 1, 7)])),
    )
    .unwrap();
    assert_eq!(
        lines(&s, AttrStyle::Bird2, 100),
        [
            "\tType: BGP univ",
            "\tBGP.origin: IGP",
            "\tBGP.as_path: 65002 65002",
            "\tBGP.next_hop: 198.51.100.2",
            "\tBGP.local_pref: 200",
            "\tBGP.community: (65535,666) (65001,1007)",
            "\tBGP.ext_community: (rt, 65001, 7)",
            "\tBGP.large_community: (65001, 1, 7)",
        ]
    );
    assert_eq!(
        lines(&s, AttrStyle::Bird3, 100),
        [
            "\tpreference: 100",
            "\tfrom: 127.0.0.3",
            "\tsource: BGP",
            "\tbgp_origin: IGP",
            "\tbgp_path: 65002 65002",
            "\tbgp_next_hop: 198.51.100.2",
            "\tbgp_local_pref: 200",
            "\tbgp_community: (65535,666) (65001,1007)",
            "\tbgp_ext_community: (rt, 65001, 7)",
            "\tbgp_large_community: (65001, 1, 7)",
        ]
    );
    assert_eq!(s.dest.name(), "blackhole");
    assert_eq!(s.dest.show_lines().count(), 0);
}

#[test]
fn bgp_ipv6_route() {
    // 2001:db8:200::/48: bird2 11-show-route-all.out (with MP next hop stored as global + unset link-local)
    let mut s = AttrSet::new(RouteSource::Bgp, via("2001:db8:2::2", "vethB", 3));
    s.from = Some(ip("2001:db8:2::1"));
    s.igp_metric = Some(0);
    s.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
    s.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&[65002, 65002, 64999]))).unwrap();
    s.set(AttrId::BGP_NEXT_HOP, AttrValue::IpPair(Box::new([ip("2001:db8:2::2"), ip("::")]))).unwrap();
    s.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(200)).unwrap();
    let v2 = lines(&s, AttrStyle::Bird2, 100);
    assert_eq!(
        v2,
        [
            "\tType: BGP univ",
            "\tBGP.origin: IGP",
            "\tBGP.as_path: 65002 65002 64999",
            "\tBGP.next_hop: 2001:db8:2::2",
            "\tBGP.local_pref: 200",
        ]
    );
    assert_eq!(s.bgp_summary().as_deref(), Some("[AS64999i]"));
    let v3 = lines(&s, AttrStyle::Bird3, 100);
    assert_eq!(v3[..4], ["\tpreference: 100", "\tlocal_metric: 0", "\tfrom: 2001:db8:2::1", "\tsource: BGP"]);
    assert_eq!(v3[5], "\tbgp_path: 65002 65002 64999");
    assert_eq!(s.dest.show_lines().collect::<Vec<_>>(), ["\tvia 2001:db8:2::2 on vethB"]);

    // Two next-hop addresses print both.
    s.set(AttrId::BGP_NEXT_HOP, AttrValue::IpPair(Box::new([ip("2001:db8:2::2"), ip("fe80::2")]))).unwrap();
    assert_eq!(lines(&s, AttrStyle::Bird2, 100)[3], "\tBGP.next_hop: 2001:db8:2::2 fe80::2");
}

#[test]
fn med_line() {
    // bird2-transcripts/b-05-show-route-all.out, 198.51.100.0/25
    let mut s = AttrSet::new(RouteSource::Bgp, via("192.0.2.2", "vethA", 2));
    s.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
    s.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&[65001, 65001]))).unwrap();
    s.set(AttrId::BGP_NEXT_HOP, AttrValue::Ip(ip("192.0.2.2"))).unwrap();
    s.set(AttrId::BGP_MED, AttrValue::Int(10)).unwrap();
    s.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(100)).unwrap();
    s.set(
        AttrId::BGP_COMMUNITY,
        AttrValue::Clist(Clist::from_values([Community::new(65001, 100), Community::BLACKHOLE])),
    )
    .unwrap();
    s.set(
        AttrId::BGP_LARGE_COMMUNITY,
        AttrValue::Lclist(LcList::from_values([LargeCommunity::new(65001, 0, 1)])),
    )
    .unwrap();
    assert_eq!(
        lines(&s, AttrStyle::Bird2, 100),
        [
            "\tType: BGP univ",
            "\tBGP.origin: IGP",
            "\tBGP.as_path: 65001 65001",
            "\tBGP.next_hop: 192.0.2.2",
            "\tBGP.med: 10",
            "\tBGP.local_pref: 100",
            "\tBGP.community: (65001,100) (65535,666)",
            "\tBGP.large_community: (65001, 0, 1)",
        ]
    );
}

#[test]
fn static_and_device_routes() {
    // bird2 20-show-route-protocol-static-all.out / bird3 11-show-route-all.out
    let s = AttrSet::new(RouteSource::Static, via("192.0.2.254", "vethA", 2));
    assert_eq!(lines(&s, AttrStyle::Bird2, 200), ["\tType: static univ"]);
    assert_eq!(lines(&s, AttrStyle::Bird3, 200), ["\tpreference: 200", "\tsource: static"]);

    let mut bh = AttrSet::new(RouteSource::Static, Dest::Blackhole);
    bh.set(AttrId::BGP_COMMUNITY, AttrValue::Clist(Clist::from_values([Community::BLACKHOLE]))).unwrap();
    assert_eq!(lines(&bh, AttrStyle::Bird2, 200), ["\tType: static univ", "\tBGP.community: (65535,666)"]);
    assert_eq!(
        lines(&bh, AttrStyle::Bird3, 200),
        ["\tpreference: 200", "\tsource: static", "\tbgp_community: (65535,666)"]
    );
    assert_eq!(bh.bgp_summary(), None);

    // b-05: a static route with a path only
    let mut p = AttrSet::new(RouteSource::Static, via("2001:db8:2::fe", "vethB", 3));
    p.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&[64999]))).unwrap();
    assert_eq!(lines(&p, AttrStyle::Bird2, 200), ["\tType: static univ", "\tBGP.as_path: 64999"]);

    let d = AttrSet::new(RouteSource::Device, Dest::one(NextHop::dev(Iface::new("vethB", 3))));
    assert_eq!(lines(&d, AttrStyle::Bird2, 240), ["\tType: device univ"]);
    assert_eq!(lines(&d, AttrStyle::Bird3, 240), ["\tpreference: 240", "\tsource: device"]);
    assert_eq!(d.dest.show_lines().collect::<Vec<_>>(), ["\tdev vethB"]);
    assert_eq!(AttrSet::new(RouteSource::Static, Dest::Unreachable).dest.name(), "unreachable");
}

#[test]
fn kernel_routes() {
    // bird2 11-show-route-all.out, bird3 11-show-route-all.out (203.0.113.0/24 from kernel4)
    let mut k = AttrSet::new(RouteSource::Inherit, via("192.0.2.253", "vethA", 2));
    k.set(AttrId::KRT_METRIC, AttrValue::Int(500)).unwrap();
    k.set(AttrId::KRT_SOURCE, AttrValue::Int(4)).unwrap();
    assert_eq!(
        lines(&k, AttrStyle::Bird2, 10),
        ["\tType: inherit univ", "\tKernel.source: 4", "\tKernel.metric: 500"]
    );
    assert_eq!(
        lines(&k, AttrStyle::Bird3, 10),
        ["\tpreference: 10", "\tsource: inherit", "\tkrt_source: 4", "\tkrt_metric: 500"]
    );
    k.set(AttrId::KRT_PREFSRC, AttrValue::Ip(ip("192.0.2.1"))).unwrap();
    assert_eq!(lines(&k, AttrStyle::Bird2, 10)[3], "\tKernel.prefsrc: 192.0.2.1");
    assert_eq!(lines(&k, AttrStyle::Bird3, 10)[4], "\tkrt_prefsrc: 192.0.2.1");
}

#[test]
fn other_bgp_attributes() {
    use birdtable::attrs::Aggregator;
    let mut s = AttrSet::new(RouteSource::Bgp, Dest::Unreachable);
    s.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Incomplete)).unwrap();
    s.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::empty())).unwrap();
    s.set(AttrId::BGP_ATOMIC_AGGR, AttrValue::Flag).unwrap();
    s.set(
        AttrId::BGP_AGGREGATOR,
        AttrValue::Aggregator(Aggregator { asn: 65010, id: "192.0.2.9".parse().unwrap() }),
    )
    .unwrap();
    s.set(AttrId::BGP_ORIGINATOR_ID, AttrValue::Quad(0x0a00_0001)).unwrap();
    s.set(AttrId::BGP_CLUSTER_LIST, AttrValue::QuadList(Box::new([0x0a00_0002, 0x0a00_0003]))).unwrap();
    s.set(AttrId::BGP_OTC, AttrValue::Int(65020)).unwrap();
    s.set_with_flags(AttrId::bgp(0x63), 0xc0, AttrValue::Bytes(Box::new([1, 0xab]))).unwrap();
    s.set_with_flags(AttrId::bgp(0x64), 0x80, AttrValue::Bytes(Box::new([]))).unwrap();
    assert_eq!(
        lines(&s, AttrStyle::Bird2, 100),
        [
            "\tType: BGP univ",
            "\tBGP.origin: Incomplete",
            "\tBGP.as_path: ",
            "\tBGP.atomic_aggr: ",
            "\tBGP.aggregator: 192.0.2.9 AS65010",
            "\tBGP.originator_id: 10.0.0.1",
            "\tBGP.cluster_list: 10.0.0.2 10.0.0.3",
            "\tBGP.otc: 65020",
            "\tBGP.63 [t]: 01 ab",
            "\tBGP.64: ",
        ]
    );
    assert_eq!(
        lines(&s, AttrStyle::Bird3, 100)[2..],
        [
            "\tbgp_origin: Incomplete",
            "\tbgp_path: ",
            "\tbgp_atomic_aggr: ",
            "\tbgp_aggregator: 192.0.2.9 AS65010",
            "\tbgp_originator_id: 10.0.0.1",
            "\tbgp_cluster_list: 10.0.0.2 10.0.0.3",
            "\totc: 65020",
            "\tbgp_unknown_0x63: (transitive)",
            "\tbgp_unknown_0x64: ",
        ]
    );
    assert_eq!(s.bgp_summary().as_deref(), Some("[?]"));
    let passed: Vec<_> = s.bgp_unknown_transitive().collect();
    assert_eq!(passed, [(0xe0, 0x63, &[1u8, 0xab][..])]);
}

#[test]
fn custom_attribute_lines() {
    let id = birdtable::attrs::register_custom("print_tag", birdtable::attrs::AttrType::Int).unwrap();
    let mut s = AttrSet::new(RouteSource::Static, Dest::Blackhole);
    s.set(id, AttrValue::Int(42)).unwrap();
    assert_eq!(lines(&s, AttrStyle::Bird2, 200), ["\tType: static univ", "\tprint_tag: 42"]);
    assert_eq!(
        lines(&s, AttrStyle::Bird3, 200),
        ["\tpreference: 200", "\tsource: static", "\tprint_tag: 42"]
    );
}

#[test]
fn long_community_lists_wrap() {
    let comms: Vec<Community> = (0..100).map(|i| Community::new(65001, 1000 + i)).collect();
    let mut s = AttrSet::new(RouteSource::Static, Dest::Blackhole);
    s.set(AttrId::BGP_COMMUNITY, AttrValue::Clist(Clist::from_values(comms.iter().copied()))).unwrap();
    let v2 = lines(&s, AttrStyle::Bird2, 200);
    // Each `(65001,1xxx)` is 12 bytes: 36 fit the first 485-byte buffer (24 kept spare), 37 the next.
    assert_eq!(v2.len(), 4);
    assert!(v2[1].starts_with("\tBGP.community: (65001,1000) "));
    let counts: Vec<usize> = v2[1..].iter().map(|l| l.matches('(').count()).collect();
    assert_eq!(counts, [36, 37, 27]);
    assert!(v2[2].starts_with("\t\t(65001,1036) "));
    assert!(v2[3].ends_with(" (65001,1099)"));
    assert!(v2.iter().all(|l| l.len() < 500));
    let joined: String = v2[1..]
        .iter()
        .map(|l| l.trim_start_matches('\t').trim_start_matches("BGP.community: "))
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(joined, Clist::from_values(comms.iter().copied()).to_string());

    let lcs: Vec<LargeCommunity> =
        (0..60).map(|i| LargeCommunity::new(4_200_000_000, i, 4_000_000_000)).collect();
    s.set(AttrId::BGP_LARGE_COMMUNITY, AttrValue::Lclist(LcList::from_values(lcs))).unwrap();
    let v3 = lines(&s, AttrStyle::Bird3, 200);
    let lc_lines: Vec<&String> = v3.iter().skip_while(|l| !l.starts_with("\tbgp_large_community")).collect();
    assert!(lc_lines.len() >= 2);
    assert!(lc_lines[1..].iter().all(|l| l.starts_with("\t\t(")));
    assert!(lc_lines.iter().all(|l| !l.ends_with(' ') && l.len() < 500));
    let total: usize = lc_lines.iter().map(|l| l.matches('(').count()).sum();
    assert_eq!(total, 60);
}

#[test]
fn ecmp_next_hop_lines_are_sorted() {
    let a = NextHop::via(ip("192.0.2.2"), Iface::new("eth0", 2));
    let b = NextHop::via(ip("192.0.2.1"), Iface::new("eth1", 3));
    let d1 = Dest::unicast([a.clone(), b.clone()]);
    let d2 = Dest::unicast([b, a.clone(), a]);
    assert_eq!(d1, d2);
    assert_eq!(
        d1.show_lines().collect::<Vec<_>>(),
        ["\tvia 192.0.2.1 on eth1 weight 1", "\tvia 192.0.2.2 on eth0 weight 1"]
    );
}
