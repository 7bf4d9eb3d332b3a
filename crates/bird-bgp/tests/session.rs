//! BGP instances talking to each other over loopback TCP in one process: sessions, routes both ways,
//! withdrawals, resets, route reflection, route-server clients and import limits. Real sockets on
//! 127.0.0.x high ports (no root needed), worker threads, bounded waits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bird_bgp::fsm::{FsmConfig, PeerAs};
use bird_bgp::proto::{BgpConfig, Listeners};
use birdloop::ThreadGroup;
use birdnet::{Net, NetType};
use birdproto::limit::{Limit, LimitAction};
use birdproto::static_proto::{ConnectedIfaces, StaticConfig, StaticDest, StaticRoute};
use birdproto::{ChannelConfig, PState, ProtoConfig, ProtoHandle, ProtoRegistry};
use birdtable::attrs::{AsPath, AttrId, AttrValue, Iface};
use birdtable::{Table, TableConfig};

static PORT: AtomicU16 = AtomicU16::new(0);

/// A port range per test process run, so parallel test binaries rarely collide.
fn port() -> u16 {
    let base = 20000 + (std::process::id() % 20000) as u16;
    PORT.fetch_add(1, Ordering::Relaxed).wrapping_add(base)
}

fn wait(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Router {
    table: Table,
    reg: ProtoRegistry,
    ip: Ipv4Addr,
    asn: u32,
    port: u16,
    listeners: Listeners,
}

impl Router {
    fn new(group: &ThreadGroup, ip: [u8; 4], asn: u32) -> Router {
        Router {
            table: Table::new(TableConfig::new(format!("t{}", ip[3]), NetType::Ipv4), group),
            reg: ProtoRegistry::new(group),
            ip: Ipv4Addr::from(ip),
            asn,
            port: port(),
            listeners: Listeners::new(),
        }
    }

    fn statics(&self, nets: &[&str]) -> ProtoHandle {
        let routes =
            nets.iter().map(|n| StaticRoute::new(n.parse().unwrap(), StaticDest::Blackhole)).collect();
        let kind = Arc::new(StaticConfig { routes, resolver: Arc::new(lo()) });
        self.reg.spawn(ProtoConfig::new(
            format!("s{}", self.ip.octets()[3]),
            kind,
            vec![ChannelConfig::new("ipv4", &self.table, 200)],
        ))
    }

    fn bgp(
        &self,
        name: &str,
        peer: &Router,
        tweak: impl FnOnce(&mut BgpConfig, &mut ChannelConfig),
    ) -> ProtoHandle {
        let mut fsm = FsmConfig::new(self.asn, PeerAs::Exact(peer.asn), self.ip);
        fsm.connect_delay_time = 0;
        fsm.connect_retry_time = 1;
        fsm.error_wait_min = 1;
        fsm.error_wait_max = 2;
        fsm.hold_time = 30;
        let mut cfg = BgpConfig::new(fsm, IpAddr::V4(peer.ip), self.listeners.clone(), Arc::new(lo()));
        cfg.local_ip = Some(IpAddr::V4(self.ip));
        cfg.local_port = self.port;
        cfg.neighbor_port = peer.port;
        // Only the lower address connects: no collisions to resolve in tests.
        cfg.fsm.passive = self.ip > peer.ip;
        let mut ch = ChannelConfig::new("ipv4", &self.table, 100);
        tweak(&mut cfg, &mut ch);
        self.reg.spawn(ProtoConfig::new(name, Arc::new(cfg), vec![ch]))
    }

    fn path_of(&self, net: &str) -> Option<Vec<u32>> {
        let r = self.table.best(&net.parse::<Net>().unwrap())?;
        match r.attrs().value(AttrId::BGP_PATH) {
            Some(AttrValue::Path(p)) => Some(p.asns().collect()),
            _ => Some(Vec::new()),
        }
    }
}

fn lo() -> ConnectedIfaces {
    ConnectedIfaces(vec![(Iface::new("lo", 1), vec!["127.0.0.0/8".parse().unwrap()])])
}

fn up(h: &ProtoHandle) -> bool {
    h.state().is_some_and(|s| s.state == PState::Up)
}

fn count(t: &Table) -> u64 {
    t.stats().routes
}

#[test]
fn ebgp_session_routes_both_ways_withdrawals_and_reset() {
    let group = ThreadGroup::worker(2).unwrap();
    let a = Router::new(&group, [127, 0, 0, 11], 65001);
    let b = Router::new(&group, [127, 0, 0, 12], 65002);
    let sa = a.statics(&["198.51.100.0/24", "203.0.113.0/24"]);
    b.statics(&["192.0.2.0/24"]);
    let pa = a.bgp("pa", &b, |_, ch| ch.export_filter = birdproto::filter::accept_all());
    let pb = b.bgp("pb", &a, |_, ch| ch.export_filter = birdproto::filter::accept_all());
    wait("session up", || up(&pa) && up(&pb));
    wait("routes at b", || count(&b.table) == 3);
    wait("routes at a", || count(&a.table) == 3);
    assert_eq!(b.path_of("198.51.100.0/24"), Some(vec![65001]));
    assert_eq!(a.path_of("192.0.2.0/24"), Some(vec![65002]));
    let state = pb.state().unwrap();
    assert!(state.info.starts_with("Established"), "{}", state.info);
    assert!(state.details.iter().any(|l| l.contains("Neighbor AS:      65001")), "{:?}", state.details);

    // Withdrawal: the static protocol at A goes away.
    sa.disable(None);
    wait("withdrawals at b", || count(&b.table) == 1);

    // Reset from A's side: B sees the session drop (its routes from A flushed) and come back.
    sa.enable();
    wait("routes back at b", || count(&b.table) == 3);
    pa.restart(None);
    wait("session re-established", || up(&pa) && up(&pb) && count(&b.table) == 3 && count(&a.table) == 3);
}

#[test]
fn route_reflector_sets_originator_and_cluster_list() {
    let group = ThreadGroup::worker(2).unwrap();
    let rr = Router::new(&group, [127, 0, 0, 21], 65000);
    let c1 = Router::new(&group, [127, 0, 0, 22], 65000);
    let c2 = Router::new(&group, [127, 0, 0, 23], 65000);
    c1.statics(&["198.51.100.0/24"]);
    let all = |_: &mut BgpConfig, ch: &mut ChannelConfig| ch.export_filter = birdproto::filter::accept_all();
    let r1 = rr.bgp("c1", &c1, |c, ch| {
        c.rr_client = true;
        all(c, ch)
    });
    let r2 = rr.bgp("c2", &c2, |c, ch| {
        c.rr_client = true;
        all(c, ch)
    });
    let p1 = c1.bgp("rr", &rr, all);
    let p2 = c2.bgp("rr", &rr, all);
    wait("sessions", || [&r1, &r2, &p1, &p2].iter().all(|h| up(h)));
    wait("reflected route", || count(&c2.table) == 1);
    let r = c2.table.best(&"198.51.100.0/24".parse().unwrap()).unwrap();
    assert_eq!(r.attrs().bgp_originator_id(), Some(u32::from(c1.ip)));
    assert_eq!(r.attrs().bgp_cluster_list(), Some(&[u32::from(rr.ip)][..]));
    assert_eq!(r.attrs().bgp_path().map(AsPath::len), Some(0));
    // The originating client does not get its own route back (originator id check).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(&c1.table), 1);
}

#[test]
fn route_server_client_keeps_path_and_next_hop() {
    let group = ThreadGroup::worker(2).unwrap();
    let rs = Router::new(&group, [127, 0, 0, 31], 65000);
    let x = Router::new(&group, [127, 0, 0, 32], 65010);
    let y = Router::new(&group, [127, 0, 0, 33], 65020);
    x.statics(&["198.51.100.0/24"]);
    let all = |_: &mut BgpConfig, ch: &mut ChannelConfig| ch.export_filter = birdproto::filter::accept_all();
    let sx = rs.bgp("x", &x, |c, ch| {
        c.rs_client = true;
        all(c, ch)
    });
    let sy = rs.bgp("y", &y, |c, ch| {
        c.rs_client = true;
        all(c, ch)
    });
    let px = x.bgp("rs", &rs, all);
    // A route-server client does not insist on its neighbour's AS leading the path.
    let py = y.bgp("rs", &rs, all);
    wait("sessions", || [&sx, &sy, &px, &py].iter().all(|h| up(h)));
    wait("route at y", || count(&y.table) == 1);
    assert_eq!(y.path_of("198.51.100.0/24"), Some(vec![65010]));
    let r = y.table.best(&"198.51.100.0/24".parse().unwrap()).unwrap();
    assert_eq!(r.attrs().bgp_next_hop().map(|n| n.0), Some(IpAddr::V4(x.ip)));
}

#[test]
fn import_limit_restart_closes_the_session_and_reconnects_after_the_error_wait() {
    let group = ThreadGroup::worker(2).unwrap();
    let a = Router::new(&group, [127, 0, 0, 41], 65001);
    let b = Router::new(&group, [127, 0, 0, 42], 65002);
    let nets: Vec<String> = (0..10).map(|i| format!("198.51.{i}.0/24")).collect();
    a.statics(&nets.iter().map(String::as_str).collect::<Vec<_>>());
    let pa = a.bgp("pa", &b, |_, ch| ch.export_filter = birdproto::filter::accept_all());
    let pb = b.bgp("pb", &a, |_, ch| ch.import_limit = Some(Limit::new(5, LimitAction::Restart)));
    // The limit closes the session (BGP's own restart: Cease, error wait, reconnect), never more
    // than 5 routes stay, and the instance is not disabled for restarting too often.
    wait("limit hit", || pb.state().is_some_and(|s| s.info.contains("Route limit exceeded")));
    wait("peer saw the Cease", || pa.state().is_some_and(|s| s.info.contains("Maximum number of prefixes")));
    std::thread::sleep(Duration::from_millis(2500));
    let s = pb.state().unwrap();
    assert!(!s.disabled, "{:?} {:?}", s.message, s.info);
    assert!(count(&b.table) <= 5);
}

#[test]
fn import_limit_disable_keeps_the_session_down() {
    let group = ThreadGroup::worker(2).unwrap();
    let a = Router::new(&group, [127, 0, 0, 43], 65001);
    let b = Router::new(&group, [127, 0, 0, 44], 65002);
    let nets: Vec<String> = (0..10).map(|i| format!("198.51.{i}.0/24")).collect();
    a.statics(&nets.iter().map(String::as_str).collect::<Vec<_>>());
    let _pa = a.bgp("pa", &b, |_, ch| ch.export_filter = birdproto::filter::accept_all());
    let pb = b.bgp("pb", &a, |_, ch| ch.import_limit = Some(Limit::new(5, LimitAction::Disable)));
    wait("disabled by the limit", || pb.state().is_some_and(|s| s.disabled && s.state == PState::Down));
    let s = pb.state().unwrap();
    assert!(s.info.contains("Automatic shutdown: Route limit exceeded"), "{}", s.info);
    wait("routes flushed", || count(&b.table) == 0);
}

#[test]
fn tcp_md5_signed_sessions_need_the_same_password() {
    let group = ThreadGroup::worker(2).unwrap();
    let a = Router::new(&group, [127, 0, 0, 51], 65001);
    let b = Router::new(&group, [127, 0, 0, 52], 65002);
    let c = Router::new(&group, [127, 0, 0, 53], 65003);
    let pa = a.bgp("pa", &b, |c, _| c.password = Some("s3cret".into()));
    let pb = b.bgp("pb", &a, |c, _| c.password = Some("s3cret".into()));
    wait("signed session up", || up(&pa) && up(&pb));
    // A wrong key: the SYNs are dropped, the session never comes up.
    let pc = c.bgp("pc", &a, |c, _| c.password = Some("other".into()));
    let pa2 = a.bgp("pa2", &c, |c, _| c.password = Some("s3cret".into()));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!up(&pc) && !up(&pa2));
}
