//! Root-only BGP interop scenarios in private network namespaces (run by `cargo xtask netns-test`).
//!
//! The device under test is chosen by `BIRDD_NETNS_DUT`: unset or `birdd` runs the birdd binary built by
//! cargo, `bird2` runs Debian's BIRD 2 (`/usr/sbin/bird`), against which every scenario was developed.
//! Both read the same configuration and are queried with Debian's `birdc`. The peers are real BGP
//! speakers (BIRD 2, FRR's bgpd, GoBGP, ExaBGP), each in its own namespace on a LAN bridged in the DUT's
//! namespace. Only 198.18.0.0/15 and 2001:db8::/32 are used, and only inside those namespaces; every
//! scenario is bounded in time, kills its daemons by PID and deletes its namespaces, also on failure.
//!
//! `cargo test -p birdd --test netns_bgp -- --ignored` (as root).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_bgp/lab.rs"]
mod lab;
#[path = "netns_bgp/peers.rs"]
mod peers;

use std::fmt::Write as _;
use std::time::Duration;

use lab::{peer_v4, peer_v6, Lab, DUT_V4, DUT_V6, WAIT};
use peers::{
    Bird, Bird2Peer, DutKind, ExabgpPeer, FrrPeer, GobgpPeer, Peer, PeerSpec, BIRD2, BIRDC, BIRD_TIMERS,
    EXABGP, FRR_BGPD, FRR_ZEBRA, GOBGP, GOBGPD, VTYSH,
};

const DUT_AS: u32 = 65000;

/// Skips (with a message) when the scenario cannot run here; else the DUT kind.
fn setup(name: &str, tools: &[&str]) -> Option<DutKind> {
    let kind = DutKind::from_env();
    let mut all = vec![BIRDC, kind.binary()];
    all.extend_from_slice(tools);
    if let Some(why) = lab::missing(&all) {
        eprintln!("SKIP: {name}: {why}");
        return None;
    }
    eprintln!("{name}: DUT is {kind:?} ({})", kind.binary());
    Some(kind)
}

/// The DUT's configuration: a router id, two static protocols (`s4`, `s6`) originating `routes`, and
/// `bgp` (protocol blocks).
fn dut_config(routes: &[&str], bgp: &str) -> String {
    let mut s = format!("router id {DUT_V4};\nlog stderr all;\nprotocol device {{ scan time 1; }}\n");
    for (af, name) in [("ipv4", "s4"), ("ipv6", "s6")] {
        let mine: Vec<&&str> = routes.iter().filter(|r| r.contains(':') == (af == "ipv6")).collect();
        if !mine.is_empty() {
            let _ = write!(s, "protocol static {name} {{\n  {af};\n");
            for r in mine {
                let _ = writeln!(s, "  route {r} blackhole;");
            }
            s.push_str("}\n");
        }
    }
    s.push_str(bgp);
    s
}

/// A BGP protocol block of the DUT towards peer `idx`; `v6` picks the transport and channel.
fn dut_bgp(name: &str, idx: usize, asn: u32, v6: bool, options: &str, channel: &str) -> String {
    let (local, nb, af) = if v6 { (DUT_V6, peer_v6(idx), "ipv6") } else { (DUT_V4, peer_v4(idx), "ipv4") };
    format!(
        "protocol bgp {name} {{\n  local {local} as {DUT_AS};\n  neighbor {nb} as {asn};\n  {BIRD_TIMERS}\n  \
         {options}\n  {af} {{ import all; export all; {channel} }};\n}}\n"
    )
}

fn start_dut(lab: &Lab, kind: DutKind, conf: &str) -> Bird {
    Bird::start(lab, &lab.dut_ns, "dut", kind.binary(), conf)
}

fn spec(idx: usize, asn: u32, v4: &[&str], v6: &[&str]) -> PeerSpec {
    PeerSpec {
        idx,
        asn,
        dut_asn: DUT_AS,
        v4_routes: v4.iter().map(|s| s.to_string()).collect(),
        v6_routes: v6.iter().map(|s| s.to_string()).collect(),
        v6_session: !v6.is_empty(),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios 1-3: eBGP over IPv4 and IPv6 with one peer of each implementation.

const DUT_V4_ROUTES: [&str; 2] = ["198.18.100.0/24", "198.18.101.0/24"];
const DUT_V6_ROUTES: [&str; 2] = ["2001:db8:100::/48", "2001:db8:101::/48"];
const PEER_V4_ROUTES: [&str; 2] = ["198.18.200.0/24", "198.18.201.0/24"];
const PEER_V6_ROUTES: [&str; 2] = ["2001:db8:200::/48", "2001:db8:201::/48"];
const PEER_AS: u32 = 65001;

/// Sessions up on both families, routes both ways with the right AS path and next hop, a withdrawal, a
/// session reset by the peer and the routes back afterwards.
fn ebgp_scenario(tag: &str, start_peer: impl FnOnce(&Lab, PeerSpec) -> Box<dyn Peer>, tools: &[&str]) {
    let Some(kind) = setup(tag, tools) else { return };
    let _serial = lab::serial();
    let lab = Lab::new(tag, 1);
    let all: Vec<&str> = DUT_V4_ROUTES.iter().chain(&DUT_V6_ROUTES).copied().collect();
    let bgp = dut_bgp("p1v4", 1, PEER_AS, false, "", "") + &dut_bgp("p1v6", 1, PEER_AS, true, "", "");
    let dut = start_dut(&lab, kind, &dut_config(&all, &bgp));
    let peer = start_peer(&lab, spec(1, PEER_AS, &PEER_V4_ROUTES, &PEER_V6_ROUTES));
    let who = peer.label();

    // Sessions up, seen from both ends.
    for (proto, v6) in [("p1v4", false), ("p1v6", true)] {
        lab.wait(&format!("DUT {proto} Established"), WAIT, || dut.established(proto));
        lab.wait(&format!("{who}: session (v6={v6}) Established"), WAIT, || peer.session_up(v6));
    }

    // The peer's routes at the DUT: all of them, from the right protocol, AS path and next hop.
    let dut_has = |proto: &str, want: &[&str]| {
        lab.wait(&format!("DUT routes {want:?} from {proto}"), WAIT, || {
            let (got, raw) = dut.prefixes(&format!("protocol {proto}"));
            if got == want {
                Ok(())
            } else {
                Err(format!("got {got:?}\n{raw}"))
            }
        })
    };
    dut_has("p1v4", &PEER_V4_ROUTES);
    dut_has("p1v6", &PEER_V6_ROUTES);
    let r = dut.route("198.18.200.0/24").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.as_path, PEER_AS.to_string(), "{}", r.raw);
    assert!(r.next_hop_is(&peer_v4(1)), "next hop: {}", r.raw);
    let r = dut.route("2001:db8:200::/48").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.as_path, PEER_AS.to_string(), "{}", r.raw);
    assert!(r.next_hop_is(&peer_v6(1)), "next hop: {}", r.raw);

    // The DUT's routes at the peer: AS path 65000, next hop the DUT (eBGP).
    let peer_has = |prefix: &str, nh: &str| {
        let r = lab.wait(&format!("{who}: route {prefix}"), WAIT, || peer.route(prefix));
        assert_eq!(r.as_path, DUT_AS.to_string(), "{who}: {prefix}: {}", r.raw);
        assert!(r.next_hop_is(nh), "{who}: {prefix}: next hop {:?}, want {nh}: {}", r.next_hop, r.raw);
    };
    for p in DUT_V4_ROUTES {
        peer_has(p, DUT_V4);
    }
    for p in DUT_V6_ROUTES {
        peer_has(p, DUT_V6);
    }

    // Withdrawal: the peer stops originating one route per family; the DUT drops exactly those.
    peer.withdraw(PEER_V4_ROUTES[1]);
    peer.withdraw(PEER_V6_ROUTES[1]);
    dut_has("p1v4", &PEER_V4_ROUTES[..1]);
    dut_has("p1v6", &PEER_V6_ROUTES[..1]);

    // Session reset by the peer: the DUT sees the sessions go down and come back, routes return.
    let since = (dut.since("p1v4"), dut.since("p1v6"));
    std::thread::sleep(Duration::from_millis(1100));
    peer.reset();
    for (proto, before) in [("p1v4", &since.0), ("p1v6", &since.1)] {
        lab.wait(&format!("DUT {proto} re-established after the reset"), WAIT, || {
            dut.established(proto)?;
            let now = dut.since(proto);
            if &now != before {
                Ok(())
            } else {
                Err(format!("still up since {now} (no restart seen)"))
            }
        });
    }
    dut_has("p1v4", &PEER_V4_ROUTES[..1]);
    dut_has("p1v6", &PEER_V6_ROUTES[..1]);
    for p in DUT_V4_ROUTES {
        peer_has(p, DUT_V4);
    }
    for p in DUT_V6_ROUTES {
        peer_has(p, DUT_V6);
    }
    drop(peer);
}

#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn ebgp_v4_v6_with_bird2() {
    ebgp_scenario("bird2", |lab, s| Box::new(Bird2Peer::start(lab, s)), &[BIRD2]);
}

#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn ebgp_v4_v6_with_frr() {
    ebgp_scenario("frr", |lab, s| Box::new(FrrPeer::start(lab, s)), &[FRR_BGPD, FRR_ZEBRA, VTYSH]);
}

#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn ebgp_v4_v6_with_gobgp() {
    ebgp_scenario("gobgp", |lab, s| Box::new(GobgpPeer::start(lab, s)), &[GOBGPD, GOBGP]);
}
