//! AS paths against a model, community formats and ordering, the attribute registry.
#![allow(clippy::unwrap_used)]

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use birdtable::attrs::registry::{self, BAF_OPTIONAL, BAF_TRANSITIVE};
use birdtable::attrs::{
    lookup, lookup_attr, register_custom, AsPath, AsPathBuilder, AsPathError, AttrError, AttrId, AttrRef,
    AttrSet, AttrType, AttrValue, Clist, Community, Dest, EcKind, EcList, ExtCommunity, LargeCommunity,
    LcList, RegistryError, RouteField, RouteSource, Scope, SegmentKind,
};

// ---------------------------------------------------------------- AS paths

type Model = Vec<(SegmentKind, Vec<u32>)>;

fn build(model: &Model) -> AsPath {
    let mut b = AsPathBuilder::new();
    for (k, asns) in model {
        b.push_segment(*k, asns);
    }
    b.finish()
}

fn model_len(m: &Model) -> u32 {
    m.iter()
        .map(|(k, a)| match k {
            SegmentKind::Sequence => a.len() as u32,
            SegmentKind::Set => 1,
            _ => 0,
        })
        .sum()
}

fn model_first(m: &Model) -> Option<u32> {
    match m.iter().find(|(k, _)| !matches!(k, SegmentKind::ConfedSequence | SegmentKind::ConfedSet))? {
        (SegmentKind::Sequence, a) => a.first().copied(),
        _ => None,
    }
}

fn model_last(m: &Model) -> Option<u32> {
    match m.iter().rev().find(|(k, _)| !matches!(k, SegmentKind::ConfedSequence | SegmentKind::ConfedSet))? {
        (SegmentKind::Sequence, a) => a.last().copied(),
        _ => None,
    }
}

fn model_text(m: &Model) -> String {
    m.iter()
        .map(|(k, a)| {
            let inner = a.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(" ");
            match k {
                SegmentKind::Sequence => inner,
                SegmentKind::Set => format!("{{{inner}}}"),
                SegmentKind::ConfedSequence => format!("({inner})"),
                SegmentKind::ConfedSet => format!("({{{inner}}})"),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn random_model(rng: &mut SmallRng) -> Model {
    let kinds =
        [SegmentKind::Sequence, SegmentKind::Set, SegmentKind::ConfedSequence, SegmentKind::ConfedSet];
    (0..rng.gen_range(0..5))
        .map(|_| {
            let k = kinds[rng.gen_range(0..4)];
            let n = rng.gen_range(1..6);
            (k, (0..n).map(|_| rng.gen_range(1..20u32) * 1000 + rng.gen_range(0..3)).collect())
        })
        .collect()
}

#[test]
fn as_path_matches_model() {
    let mut rng = SmallRng::seed_from_u64(7);
    for _ in 0..2000 {
        let m = random_model(&mut rng);
        let p = build(&m);
        assert_eq!(p.len(), model_len(&m), "{m:?}");
        assert_eq!(p.is_empty(), m.is_empty());
        assert_eq!(p.first(), model_first(&m), "{m:?}");
        assert_eq!(p.last(), model_last(&m), "{m:?}");
        assert_eq!(p.to_string(), model_text(&m));
        let all: Vec<u32> = m.iter().flat_map(|(_, a)| a.iter().copied()).collect();
        assert_eq!(p.asns().collect::<Vec<_>>(), all);
        for probe in [1000, 2001, 5002, 19000] {
            assert_eq!(p.contains(probe), all.contains(&probe));
            assert_eq!(p.count(probe), all.iter().filter(|&&x| x == probe).count());
        }
        let segs: Model = p.segments().map(|s| (s.kind(), s.asns().collect())).collect();
        assert_eq!(segs, m);
        // Wire form round-trips.
        assert_eq!(AsPath::from_wire(p.as_wire()).unwrap(), p);

        // Prepend: into a leading sequence, else a new one.
        let asn = rng.gen_range(64512..65535);
        let q = p.prepend(asn);
        let mut m2 = m.clone();
        match m2.first_mut() {
            Some((SegmentKind::Sequence, a)) if a.len() < 255 => a.insert(0, asn),
            _ => m2.insert(0, (SegmentKind::Sequence, vec![asn])),
        }
        assert_eq!(q, build(&m2));
        assert_eq!(q.len(), p.len() + 1);
        assert_eq!(q.first(), Some(asn));
        assert_eq!(q.last(), model_last(&m2));

        // Stripping confederation segments keeps the length.
        let s = p.strip_confed();
        assert_eq!(s.len(), p.len());
        assert!(s.segments().all(|x| !x.kind().is_confed()));
    }
}

#[test]
fn as_path_examples() {
    let p = build(&vec![
        (SegmentKind::ConfedSequence, vec![65100, 65101]),
        (SegmentKind::Sequence, vec![65001, 65002]),
        (SegmentKind::Set, vec![64512, 64513]),
    ]);
    assert_eq!(p.to_string(), "(65100 65101) 65001 65002 {64512 64513}");
    assert_eq!(p.len(), 3);
    assert_eq!(p.first(), Some(65001));
    assert_eq!(p.last(), None);
    assert_eq!(p.last_nonaggregated(), Some(65002));
    assert_eq!(build(&vec![(SegmentKind::ConfedSet, vec![1, 2])]).to_string(), "({1 2})");
    assert_eq!(AsPath::from_sequence(&[65002, 65002]).to_string(), "65002 65002");
    assert_eq!(AsPath::empty().to_string(), "");
    assert_eq!(AsPath::empty().len(), 0);
    assert_eq!(AsPath::empty().last(), None);
    assert_eq!(AsPath::from_sequence(&[4_200_000_000]).to_string(), "4200000000");

    // Prepending to a full segment opens a new one.
    let full = AsPath::from_sequence(&[7; 255]);
    assert_eq!(full.segments().count(), 1);
    let more = full.prepend(8);
    assert_eq!(more.segments().count(), 2);
    assert_eq!(more.len(), 256);
    // Long sequences are split into 255-ASN segments.
    assert_eq!(
        AsPath::from_sequence(&[1; 600]).segments().map(|s| s.len()).collect::<Vec<_>>(),
        [255, 255, 90]
    );
    assert_eq!(AsPath::from_sequence(&[65001]).prepend_n(65000, 3).to_string(), "65000 65000 65000 65001");
    assert_eq!(AsPath::from_sequence(&[65001]).prepend_confed(65100).to_string(), "(65100) 65001");
    assert_eq!(AsPath::from_sequence(&[65001]).prepend_confed(65100).len(), 1);

    // Wire validation.
    assert_eq!(AsPath::from_wire(&[2, 1, 0, 0]), Err(AsPathError::Truncated(0)));
    assert_eq!(AsPath::from_wire(&[9, 1, 0, 0, 0, 1]), Err(AsPathError::BadType { code: 9, offset: 0 }));
    assert_eq!(AsPath::from_wire(&[2, 0]), Err(AsPathError::EmptySegment(0)));
    assert_eq!(AsPath::from_wire(&[2, 1, 0, 0, 0xfd, 0xe9]).unwrap().to_string(), "65001");
}

// ---------------------------------------------------------------- communities

#[test]
fn community_formats() {
    assert_eq!(Community::new(65001, 7).to_string(), "(65001,7)");
    assert_eq!(Community::BLACKHOLE.to_string(), "(65535,666)");
    assert_eq!(Community::NO_EXPORT.to_string(), "(65535,65281)");
    assert_eq!(Community::NO_EXPORT.well_known_name(), Some("NO_EXPORT"));
    assert_eq!(Community::new(65001, 7).well_known_name(), None);

    assert_eq!(ExtCommunity::as2(EcKind::Rt, 65001, 7).to_string(), "(rt, 65001, 7)");
    assert_eq!(ExtCommunity::as2(EcKind::Ro, 65001, 4_000_000_000).to_string(), "(ro, 65001, 4000000000)");
    assert_eq!(ExtCommunity::as4(EcKind::Rt, 4_200_000_000, 7).to_string(), "(rt, 4200000000, 7)");
    assert_eq!(
        ExtCommunity::ip4(EcKind::Ro, "192.0.2.1".parse().unwrap(), 7).to_string(),
        "(ro, 192.0.2.1, 7)"
    );
    assert_eq!(ExtCommunity::generic(0x0300_0000, 1).to_string(), "(generic, 0x3000000, 0x1)");
    // Known families with unknown sub-types (here RFC 7153 source AS, 0x0009).
    assert_eq!(ExtCommunity(0x0009_fde9_0000_0000).to_string(), "(unknown 0x9, 65001, 0)");
    // Non-transitive route targets have no name in BIRD either.
    assert_eq!(ExtCommunity(0x4002_fde9_0000_0007).to_string(), "(unknown 0x4002, 65001, 7)");
    assert!(!ExtCommunity(0x4002_fde9_0000_0007).is_transitive());
    assert!(ExtCommunity::as2(EcKind::Rt, 1, 1).is_transitive());
    assert_eq!(ExtCommunity::from_asn(EcKind::Rt, 65001, 7), Some(ExtCommunity::as2(EcKind::Rt, 65001, 7)));
    assert_eq!(ExtCommunity::from_asn(EcKind::Rt, 70000, 7), Some(ExtCommunity::as4(EcKind::Rt, 70000, 7)));
    assert_eq!(ExtCommunity::from_asn(EcKind::Rt, 70000, 70000), None);
    assert_eq!(ExtCommunity::as2(EcKind::Rt, 65001, 7).to_bytes(), [0, 2, 0xfd, 0xe9, 0, 0, 0, 7]);

    assert_eq!(LargeCommunity::new(65001, 1, 2).to_string(), "(65001, 1, 2)");
    let l = LcList::from_values([LargeCommunity::new(65002, 5, 5), LargeCommunity::new(65001, 1, 7)]);
    assert_eq!(l.to_string(), "(65002, 5, 5) (65001, 1, 7)");
    assert_eq!(EcList::empty().to_string(), "");
}

#[test]
fn community_ordering_is_numeric() {
    // (9,1) < (10,0) numerically, although "(10,0)" < "(9,1)" as text.
    let a = Community::new(9, 1);
    let b = Community::new(10, 0);
    assert!(a < b);
    assert!(a.to_string() > b.to_string());
    let l1 = Clist::from_values([b, a, Community::new(9, 0)]);
    let l2 = Clist::from_values([Community::new(9, 0), a, b]);
    assert_ne!(l1, l2); // stored order is kept ...
    assert_eq!(l1.sorted(), l2.sorted()); // ... and the canonical order is the same
    assert_eq!(l1.sorted().to_string(), "(9,0) (9,1) (10,0)");

    // Extended communities sort by wire bytes: type first.
    let rt = ExtCommunity::as2(EcKind::Rt, 65001, 7);
    let ro = ExtCommunity::as2(EcKind::Ro, 1, 1);
    let ip = ExtCommunity::ip4(EcKind::Rt, "10.0.0.1".parse().unwrap(), 1);
    assert_eq!(EcList::from_values([ip, ro, rt]).sorted().as_slice(), [rt, ro, ip]);

    let x = LargeCommunity::new(2, 0, 0);
    let y = LargeCommunity::new(10, 0, 0);
    let z = LargeCommunity::new(10, 0, 1);
    assert_eq!(LcList::from_values([z, y, x]).sorted().as_slice(), [x, y, z]);

    // Lists drop duplicates; add/remove.
    let l = Clist::from_values([a, b, a]);
    assert_eq!(l.len(), 2);
    assert_eq!(l.add(a), l);
    assert_eq!(l.add(Community::NO_EXPORT).len(), 3);
    assert!(!l.remove(a).contains(a));
    assert!(l.contains(b));
}

// ---------------------------------------------------------------- registry

#[test]
fn registry_lookups() {
    let cases: [(&str, AttrId, &str, &str, AttrType); 14] = [
        ("bgp_origin", AttrId::BGP_ORIGIN, "BGP.origin", "bgp_origin", AttrType::Origin),
        ("bgp_path", AttrId::BGP_PATH, "BGP.as_path", "bgp_path", AttrType::Path),
        ("bgp_next_hop", AttrId::BGP_NEXT_HOP, "BGP.next_hop", "bgp_next_hop", AttrType::BgpNextHop),
        ("bgp_med", AttrId::BGP_MED, "BGP.med", "bgp_med", AttrType::Int),
        ("bgp_local_pref", AttrId::BGP_LOCAL_PREF, "BGP.local_pref", "bgp_local_pref", AttrType::Int),
        ("bgp_atomic_aggr", AttrId::BGP_ATOMIC_AGGR, "BGP.atomic_aggr", "bgp_atomic_aggr", AttrType::Flag),
        ("bgp_aggregator", AttrId::BGP_AGGREGATOR, "BGP.aggregator", "bgp_aggregator", AttrType::Aggregator),
        ("bgp_community", AttrId::BGP_COMMUNITY, "BGP.community", "bgp_community", AttrType::Clist),
        (
            "bgp_ext_community",
            AttrId::BGP_EXT_COMMUNITY,
            "BGP.ext_community",
            "bgp_ext_community",
            AttrType::Eclist,
        ),
        (
            "bgp_large_community",
            AttrId::BGP_LARGE_COMMUNITY,
            "BGP.large_community",
            "bgp_large_community",
            AttrType::Lclist,
        ),
        (
            "bgp_originator_id",
            AttrId::BGP_ORIGINATOR_ID,
            "BGP.originator_id",
            "bgp_originator_id",
            AttrType::Quad,
        ),
        (
            "bgp_cluster_list",
            AttrId::BGP_CLUSTER_LIST,
            "BGP.cluster_list",
            "bgp_cluster_list",
            AttrType::QuadList,
        ),
        ("bgp_otc", AttrId::BGP_OTC, "BGP.otc", "otc", AttrType::Int),
        ("krt_metric", AttrId::KRT_METRIC, "Kernel.metric", "krt_metric", AttrType::Int),
    ];
    for (name, id, v2, v3, ty) in cases {
        let d = lookup_attr(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!((d.id, &*d.v2_name, &*d.v3_name, d.ty), (id, v2, v3, ty), "{name}");
        assert_eq!(&*registry::def(id).unwrap().filter_name, name);
    }
    assert_eq!(lookup_attr("bgp_path").unwrap().bgp, Some((2, BAF_TRANSITIVE)));
    assert_eq!(lookup_attr("bgp_community").unwrap().bgp, Some((8, BAF_OPTIONAL | BAF_TRANSITIVE)));
    assert_eq!(lookup_attr("krt_prefsrc").unwrap().ty, AttrType::Ip);
    assert_eq!(lookup_attr("krt_source").unwrap().id, AttrId::KRT_SOURCE);
    assert!(lookup_attr("krt_realm").is_some() && lookup_attr("krt_scope").is_some());
    assert!(lookup_attr("nonexistent").is_none());

    // Route fields.
    for (name, f) in [
        ("source", RouteField::Source),
        ("scope", RouteField::Scope),
        ("dest", RouteField::Dest),
        ("gw", RouteField::Gw),
        ("ifname", RouteField::IfName),
        ("ifindex", RouteField::IfIndex),
        ("igp_metric", RouteField::IgpMetric),
        ("preference", RouteField::Preference),
        ("from", RouteField::From),
        ("net", RouteField::Net),
    ] {
        assert_eq!(lookup(name), Some(AttrRef::Field(f)));
        assert_eq!(f.name(), name);
    }
    assert!(RouteField::Source.is_readonly() && !RouteField::Gw.is_readonly());
    assert!(matches!(lookup("bgp_med"), Some(AttrRef::Ext(d)) if d.id == AttrId::BGP_MED));

    // Unknown BGP attributes by code; known codes are not "unknown".
    let u = lookup_attr("bgp_unknown_0x63").unwrap();
    assert_eq!((u.id, u.ty, &*u.v2_name), (AttrId::bgp(0x63), AttrType::Bytes, "BGP.63"));
    assert!(lookup_attr("bgp_unknown_0x02").is_none());

    // Constants.
    assert_eq!(RouteSource::from_filter_name("RTS_BGP"), Some(RouteSource::Bgp));
    assert_eq!(RouteSource::Bgp as u8, 11);
    assert_eq!(RouteSource::from_code(17), Some(RouteSource::Aggregated));
    assert_eq!(RouteSource::StaticDevice.name(), "static-device");
    assert_eq!(RouteSource::OspfExt2.name(), "OSPF-E2");
    assert_eq!(Scope::from_filter_name("SCOPE_LINK"), Some(Scope::Link));
    assert_eq!(Scope::default().name(), "univ");
    assert_eq!(Dest::Prohibit.filter_name(), "RTD_PROHIBIT");
}

#[test]
fn custom_registration() {
    let id = register_custom("my_tag", AttrType::Int).unwrap();
    assert!(id.is_custom());
    // Idempotent for the same type; a conflict otherwise.
    assert_eq!(register_custom("my_tag", AttrType::Int), Ok(id));
    assert!(matches!(register_custom("my_tag", AttrType::Ip), Err(RegistryError::TypeConflict { .. })));
    assert!(matches!(register_custom("bgp_path", AttrType::Int), Err(RegistryError::BuiltIn(_))));
    assert!(matches!(register_custom("gw", AttrType::Ip), Err(RegistryError::BuiltIn(_))));
    assert!(matches!(register_custom("x", AttrType::BgpNextHop), Err(RegistryError::BadType(_))));
    let other = register_custom("my_path", AttrType::from_keyword("bgppath").unwrap()).unwrap();
    assert_ne!(other, id);
    let d = lookup_attr("my_tag").unwrap();
    assert_eq!((d.id, d.ty, &*d.v2_name, &*d.v3_name), (id, AttrType::Int, "my_tag", "my_tag"));
    assert!(registry::customs().iter().any(|d| d.id == other));

    // Values are type-checked against the registry.
    let mut s = AttrSet::new(RouteSource::Static, Dest::Blackhole);
    assert_eq!(s.set(id, AttrValue::Int(5)), Ok(()));
    assert_eq!(s.set(id, AttrValue::Bool(true)), Err(AttrError::WrongType { id, expected: AttrType::Int }));
    assert_eq!(s.set(AttrId(0xfff0), AttrValue::Int(1)), Err(AttrError::Undefined(AttrId(0xfff0))));
    assert!(s.set(AttrId::BGP_MED, AttrValue::Ip("::1".parse().unwrap())).is_err());
    assert_eq!(s.value(id), Some(&AttrValue::Int(5)));

    // Concurrent registration of distinct names yields distinct ids, same names the same id.
    let ids: Vec<Vec<AttrId>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                sc.spawn(|| {
                    (0..20).map(|i| register_custom(&format!("conc_{i}"), AttrType::Int).unwrap()).collect()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    let mut uniq = ids[0].clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 20);
}

#[test]
fn set_keeps_attributes_sorted() {
    let mut s = AttrSet::new(RouteSource::Bgp, Dest::Blackhole);
    s.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(100)).unwrap();
    s.set(AttrId::BGP_ORIGIN, AttrValue::Origin(birdtable::attrs::Origin::Igp)).unwrap();
    s.set(AttrId::KRT_METRIC, AttrValue::Int(1)).unwrap();
    s.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(200)).unwrap();
    let ids: Vec<AttrId> = s.eattrs().iter().map(|e| e.id).collect();
    assert_eq!(ids, [AttrId::BGP_ORIGIN, AttrId::BGP_LOCAL_PREF, AttrId::KRT_METRIC]);
    assert_eq!(s.bgp_local_pref(), Some(200));
    assert_eq!(s.get(AttrId::BGP_LOCAL_PREF).unwrap().flags, BAF_TRANSITIVE);
    assert_eq!(s.remove(AttrId::BGP_ORIGIN).map(|e| e.id), Some(AttrId::BGP_ORIGIN));
    assert_eq!(s.bgp_origin(), None);

    let mut t = AttrSet::new(RouteSource::Bgp, Dest::Blackhole);
    t.set_all(vec![
        birdtable::attrs::EAttr { id: AttrId::KRT_METRIC, flags: 0, value: AttrValue::Int(1) },
        birdtable::attrs::EAttr { id: AttrId::BGP_LOCAL_PREF, flags: 0x40, value: AttrValue::Int(100) },
        birdtable::attrs::EAttr { id: AttrId::BGP_LOCAL_PREF, flags: 0x40, value: AttrValue::Int(200) },
    ])
    .unwrap();
    assert_eq!(s, t);
}

/// `List::from_values` keeps the first occurrence of each value in stored order, for short lists (linear
/// scan) and long ones (sorted positions) alike.
#[test]
fn list_from_values_dedups_in_stored_order() {
    use birdtable::attrs::{Clist, Community};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    for len in [0usize, 1, 5, 16, 17, 100, 16_000] {
        let vals: Vec<Community> =
            (0..len).map(|_| Community(rng.gen_range(0..(len as u32 / 2 + 1)))).collect();
        let mut model: Vec<Community> = Vec::new();
        for v in &vals {
            if !model.contains(v) {
                model.push(*v);
            }
        }
        let list = Clist::from_values(vals.iter().copied());
        assert_eq!(list.as_slice(), &model[..], "len {len}");
    }
}
