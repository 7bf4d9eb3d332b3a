#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use birdproto::filter::{FilterRoute, FnFilter, Verdict};
use birdproto::static_proto::{route_attrs, StaticConfig, StaticDest, StaticError, StaticHop, StaticRoute};
use birdproto::{PState, ProtoRegistry, Reconfigured};
use birdtable::attrs::{AttrId, AttrValue, Clist, Community, Dest, Iface, NextHop, RouteSource};
use common::*;

fn via(gws: &[&str]) -> StaticDest {
    StaticDest::Via(gws.iter().map(|g| StaticHop::via(ip(g))).collect())
}

#[test]
fn route_forms_give_the_right_attributes() {
    let r = ifaces();
    let a = |n: &str, d: StaticDest| route_attrs(&StaticRoute::new(net(n), d), &*r);
    let vetha = Iface::new("vethA", 2);
    let set = a("198.51.100.0/25", via(&["192.0.2.254"])).unwrap();
    assert_eq!(set.source, RouteSource::Static);
    assert_eq!(set.dest, Dest::one(NextHop::via(ip("192.0.2.254"), vetha.clone())));
    let set = a("192.0.2.128/26", StaticDest::Via(vec![StaticHop::dev("vethA")])).unwrap();
    assert_eq!(set.dest, Dest::one(NextHop::dev(vetha.clone())));
    // Multipath: next hops in canonical order whatever the configuration order.
    let set = a("100.64.0.0/24", via(&["192.0.2.254", "192.0.2.253"])).unwrap();
    let hops: Vec<_> = set.dest.next_hops().iter().map(|h| h.gw.unwrap().to_string()).collect();
    assert_eq!(hops, ["192.0.2.253", "192.0.2.254"]);
    let mut weighted = StaticHop::via(ip("192.0.2.254"));
    weighted.weight = 3;
    let set = a("100.64.1.0/24", StaticDest::Via(vec![StaticHop::via(ip("192.0.2.1")), weighted])).unwrap();
    assert_eq!(set.dest.next_hops()[0].weight, 2, "higher weight first");
    // IPv4 via IPv6.
    let set = a("203.0.113.0/24", via(&["2001:db8:1::1"])).unwrap();
    assert_eq!(set.dest, Dest::one(NextHop::via(ip("2001:db8:1::1"), Iface::new("vethB", 3))));
    assert_eq!(
        a("2001:db8:100::/48", via(&["192.0.2.254"])),
        Err(StaticError::Family(net("2001:db8:100::/48")))
    );
    assert_eq!(
        a("203.0.113.0/24", via(&["198.18.0.1"])),
        Err(StaticError::Unreachable(net("203.0.113.0/24")))
    );
    assert_eq!(a("203.0.113.0/24", StaticDest::Blackhole).unwrap().dest, Dest::Blackhole);
    assert_eq!(a("203.0.113.0/24", StaticDest::Unreachable).unwrap().dest, Dest::Unreachable);
    assert_eq!(a("203.0.113.0/24", StaticDest::Prohibit).unwrap().dest, Dest::Prohibit);
}

fn transcript_routes() -> Vec<StaticRoute> {
    let community = FnFilter::new("{ bgp_community.add((65535,666)); }", |r: &mut FilterRoute<'_>| {
        let c = Clist::from_values([Community::new(65535, 666)]);
        r.attrs_mut().set(AttrId::BGP_COMMUNITY, AttrValue::Clist(c)).unwrap();
        Verdict::Accept
    });
    vec![
        StaticRoute::new(net("198.51.100.0/25"), via(&["192.0.2.254"])),
        StaticRoute {
            attrs: Some(community),
            ..StaticRoute::new(net("198.51.100.128/25"), StaticDest::Blackhole)
        },
        StaticRoute::new(net("192.0.2.128/26"), StaticDest::Via(vec![StaticHop::dev("vethA")])),
        StaticRoute::new(net("100.64.99.0/24"), StaticDest::Unreachable),
    ]
}

#[test]
fn show_static_listing_and_table_contents() {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let h = reg.spawn(static_cfg("static4", &t, transcript_routes()));
    settle(&g);
    let (tx, rx) = std::sync::mpsc::channel();
    h.exec_as::<birdproto::static_proto::Static>(move |p, _| tx.send(p.show()).unwrap());
    g.run_until_idle();
    // `show static static4` (transcript 37), without the reply codes.
    assert_eq!(
        rx.recv().unwrap(),
        [
            "198.51.100.0/25",
            "\tvia 192.0.2.254",
            "198.51.100.128/25\tblackhole",
            "192.0.2.128/26",
            "\tdev vethA",
            "100.64.99.0/24\tunreachable",
        ]
    );
    assert_eq!(table_routes(&t), 4);
    let bh = t.best(&net("198.51.100.128/25")).unwrap();
    assert_eq!(bh.pref(), 200);
    assert_eq!(bh.attrs().dest, Dest::Blackhole);
    assert_eq!(
        bh.attrs().bgp_community().map(|c| c.to_string()),
        Some(Clist::from_values([Community::new(65535, 666)]).to_string())
    );
}

#[test]
fn reconfiguration_by_diff() {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let h = reg.spawn(static_cfg("static4", &t, transcript_routes()));
    settle(&g);
    let before = t.stats().changes;
    let untouched = t.best(&net("192.0.2.128/26")).unwrap();
    // Same config: nothing happens.
    assert_eq!(h.reconfigure(static_cfg("static4", &t, transcript_routes())).unwrap(), Reconfigured::Same);
    // One changed, one removed, one added, one left alone.
    let mut routes = transcript_routes();
    routes[0].dest = via(&["192.0.2.1"]);
    routes.remove(3);
    routes.push(StaticRoute::new(net("203.0.113.0/24"), StaticDest::Prohibit));
    assert_eq!(h.reconfigure(static_cfg("static4", &t, routes)).unwrap(), Reconfigured::Applied);
    settle(&g);
    assert_eq!(t.stats().changes - before, 3);
    assert_eq!(table_routes(&t), 4);
    assert!(t.best(&net("100.64.99.0/24")).is_none());
    assert_eq!(t.best(&net("203.0.113.0/24")).unwrap().attrs().dest, Dest::Prohibit);
    assert_eq!(
        t.best(&net("198.51.100.0/25")).unwrap().attrs().dest.next_hops()[0].gw,
        Some(ip("192.0.2.1"))
    );
    let still = t.best(&net("192.0.2.128/26")).unwrap();
    assert_eq!((still.id(), still.lastmod()), (untouched.id(), untouched.lastmod()));
    assert_eq!(h.state().unwrap().state, PState::Up);
    // Another channel table needs a restart.
    let t2 = table(&g, "other");
    assert_eq!(
        h.reconfigure(static_cfg("static4", &t2, transcript_routes())).unwrap(),
        Reconfigured::NeedsRestart
    );
    let _ = Arc::new(StaticConfig { routes: Vec::new(), resolver: ifaces() });
}
