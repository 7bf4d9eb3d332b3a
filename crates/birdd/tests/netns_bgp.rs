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

    // Last (it masks nothing above): like BIRD 2, the DUT gives routes learned over eBGP its default
    // LOCAL_PREF (`default bgp_local_pref`, 100), shown by `show route all`.
    let r = dut.route("198.18.200.0/24").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.bird_attr("BGP.local_pref").as_deref(), Some("100"), "no BGP.local_pref 100:\n{}", r.raw);
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

// ---------------------------------------------------------------------------------------------------------
// Scenario 4: iBGP route reflector.

/// Two BIRD 2 clients in the DUT's AS: each client's route reaches the other with ORIGINATOR_ID (the
/// originating client) and CLUSTER_LIST (the DUT's router id) set, next hop and empty AS path kept.
#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn ibgp_route_reflector() {
    let Some(kind) = setup("rr", &[BIRD2]) else { return };
    let _serial = lab::serial();
    let lab = Lab::new("rr", 2);
    let opts = "rr client; direct;";
    let bgp = dut_bgp("ca", 1, DUT_AS, false, opts, "gateway direct;")
        + &dut_bgp("cb", 2, DUT_AS, false, opts, "gateway direct;");
    let dut = start_dut(&lab, kind, &dut_config(&[], &bgp));
    let a = Bird2Peer::start(&lab, spec(1, DUT_AS, &["198.18.200.0/24"], &[]));
    let b = Bird2Peer::start(&lab, spec(2, DUT_AS, &["198.18.202.0/24"], &[]));
    for proto in ["ca", "cb"] {
        lab.wait(&format!("DUT {proto} Established"), WAIT, || dut.established(proto));
    }
    for (to, from, prefix) in [(&b, &a, "198.18.200.0/24"), (&a, &b, "198.18.202.0/24")] {
        let who = to.label();
        let r = lab.wait(&format!("{who}: reflected {prefix}"), WAIT, || to.route(prefix));
        let origin = from.spec.v4();
        assert_eq!(r.bird_attr("BGP.originator_id").as_deref(), Some(origin.as_str()), "{who}: {}", r.raw);
        assert_eq!(r.bird_attr("BGP.cluster_list").as_deref(), Some(DUT_V4), "{who}: {}", r.raw);
        assert!(r.next_hop_is(&origin), "{who}: next hop {:?}, want {origin}: {}", r.next_hop, r.raw);
        assert_eq!(r.as_path, "", "{who}: {}", r.raw);
    }
    // The DUT holds both client routes without reflection attributes of its own.
    let r = dut.route("198.18.200.0/24").unwrap_or_else(|e| panic!("{e}"));
    assert!(r.next_hop_is(&peer_v4(1)), "{}", r.raw);
    assert_eq!(r.bird_attr("BGP.cluster_list"), None, "{}", r.raw);
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 5: route server.

/// Three eBGP peers (BIRD 2, FRR, GoBGP) as `rs client`s: each one's route reaches the other two with the
/// AS path unchanged (the DUT's AS not prepended) and the next hop unchanged (the originating peer).
#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn route_server_three_clients() {
    let Some(kind) = setup("rs", &[BIRD2, FRR_BGPD, FRR_ZEBRA, VTYSH, GOBGPD, GOBGP]) else { return };
    let _serial = lab::serial();
    let lab = Lab::new("rs", 3);
    let asn = |i: usize| 65000 + i as u32;
    let prefix = |i: usize| format!("198.18.21{i}.0/24");
    let mut bgp = String::new();
    for i in 1..=3 {
        bgp += &dut_bgp(&format!("rs{i}"), i, asn(i), false, "rs client;", "");
    }
    let dut = start_dut(&lab, kind, &dut_config(&[], &bgp));
    let s = |i: usize| spec(i, asn(i), &[&prefix(i)], &[]);
    let peers: Vec<Box<dyn Peer>> = vec![
        Box::new(Bird2Peer::start(&lab, s(1))),
        Box::new(FrrPeer::start(&lab, s(2))),
        Box::new(GobgpPeer::start(&lab, s(3))),
    ];
    for (i, p) in peers.iter().enumerate() {
        let proto = format!("rs{}", i + 1);
        lab.wait(&format!("DUT {proto} Established"), WAIT, || dut.established(&proto));
        lab.wait(&format!("{}: session Established", p.label()), WAIT, || p.session_up(false));
    }
    for j in 1..=3 {
        let r = lab.wait(&format!("DUT: {}", prefix(j)), WAIT, || dut.route(&prefix(j)));
        assert_eq!(r.as_path, asn(j).to_string(), "{}", r.raw);
    }
    for (i, p) in peers.iter().enumerate() {
        let i = i + 1;
        for j in (1..=3).filter(|&j| j != i) {
            let who = p.label();
            let r = lab.wait(&format!("{who}: {} from peer {j}", prefix(j)), WAIT, || p.route(&prefix(j)));
            assert_eq!(r.as_path, asn(j).to_string(), "{who}: AS path of {}: {}", prefix(j), r.raw);
            assert!(
                r.next_hop_is(&peer_v4(j)),
                "{who}: next hop of {}: {:?}, want {}: {}",
                prefix(j),
                r.next_hop,
                peer_v4(j),
                r.raw
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 6: RFC 7606 treat-as-withdraw.

/// ExaBGP sends a route with a 2-byte MED and one with ORIGIN 5 (both treat-as-withdraw under RFC 7606),
/// one with a 2-byte AGGREGATOR (attribute discard), then a good one: the session stays Established, the
/// good route is installed, the third one without its AGGREGATOR, the first two not at all.
#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn malformed_update_treat_as_withdraw() {
    let Some(kind) = setup("rfc7606", &[EXABGP]) else { return };
    let _serial = lab::serial();
    let lab = Lab::new("7606", 1);
    let bgp = dut_bgp("exa", 1, PEER_AS, false, "", "");
    let dut = start_dut(&lab, kind, &dut_config(&[], &bgp));
    let nh = peer_v4(1);
    let routes = [
        format!("198.18.221.0/24 next-hop {nh} attribute [ 0x04 0x80 0x0000 ]"),
        format!("198.18.222.0/24 next-hop {nh} attribute [ 0x01 0x40 0x05 ]"),
        format!("198.18.223.0/24 next-hop {nh} attribute [ 0x07 0xc0 0x0001 ]"),
        format!("198.18.220.0/24 next-hop {nh} med 20"),
    ];
    let mut exa = ExabgpPeer::start(&lab, spec(1, PEER_AS, &[], &[]), &routes);
    lab.wait("DUT exa Established", WAIT, || {
        exa.alive().map_err(|e| format!("{e}\n{}", exa.log_text()))?;
        dut.established("exa")
    });
    lab.wait("DUT: the good route 198.18.220.0/24", WAIT, || dut.route("198.18.220.0/24"));
    let r = lab.wait("DUT: 198.18.223.0/24 (attribute discard)", WAIT, || dut.route("198.18.223.0/24"));
    assert_eq!(r.bird_attr("BGP.aggregator"), None, "the malformed AGGREGATOR was kept:\n{}", r.raw);
    assert_eq!(r.as_path, PEER_AS.to_string(), "{}", r.raw);
    let since = dut.since("exa");
    lab.hold("session Established without the malformed routes", Duration::from_secs(3), || {
        dut.established("exa")?;
        let (got, raw) = dut.prefixes("protocol exa");
        if got != ["198.18.220.0/24", "198.18.223.0/24"] {
            return Err(format!("routes from exa: {got:?}\n{raw}"));
        }
        Ok(())
    });
    assert_eq!(dut.since("exa"), since, "the session flapped");
    // ExaBGP did send them: four UPDATEs (BIRD 2 as the DUT logs "Malformed MULTI_EXIT_DISC attribute -
    // invalid length (2)", "Malformed ORIGIN attribute - invalid value (5)" and "Malformed AGGREGATOR
    // attribute - invalid length (2)"), and got no NOTIFICATION back.
    let log = exa.log_text();
    assert!(log.contains(">> 4 UPDATE(s)"), "exabgp did not send the four updates:\n{log}");
    assert!(!log.to_ascii_lowercase().contains("notification"), "exabgp saw a notification:\n{log}");
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 7: import limit with `action restart`.

/// The DUT with one session (`p1`) whose ipv4 channel has `import limit <limit> action restart`, and a
/// BIRD 2 peer sending it 10 routes.
fn limit_lab(
    tag: &str,
    kind: DutKind,
    limit: &str,
    opts: &str,
) -> (Lab, Bird, Bird2Peer, impl Fn(&str, &str) -> String) {
    let lab = Lab::new(tag, 1);
    let conf = |limit: &str, opts: &str| {
        dut_config(
            &[],
            &dut_bgp("p1", 1, PEER_AS, false, opts, &format!("import limit {limit} action restart;")),
        )
    };
    let dut = start_dut(&lab, kind, &conf(limit, opts));
    let routes: Vec<String> = (0..10).map(|i| format!("198.18.23{i}.0/24")).collect();
    let refs: Vec<&str> = routes.iter().map(String::as_str).collect();
    let peer = Bird2Peer::start(&lab, spec(1, PEER_AS, &refs, &[]));
    (lab, dut, peer, conf)
}

/// The DUT's state column and since of protocol `proto`, from `show protocols all`.
fn state_since(all: &str, proto: &str) -> (String, String) {
    let row: Vec<&str> = all
        .lines()
        .find(|l| l.split_whitespace().next() == Some(proto))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    (row.get(3).unwrap_or(&"").to_string(), row.get(4).unwrap_or(&"").to_string())
}

/// A BIRD 2 peer sends 10 routes to a channel with `import limit 5 action restart`: the DUT never holds
/// more than 5, the session restarts again and again (`error wait time` between attempts: BIRD 2 has no
/// restart-frequency limit that would disable it), and the peer is told why (Cease, maximum number of
/// prefixes reached).
#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn import_limit_restart() {
    let Some(kind) = setup("limit", &[BIRD2]) else { return };
    let _serial = lab::serial();
    let (lab, dut, peer, _) = limit_lab("limit", kind, "5", "");

    // Every hit takes the protocol down and back to `start` (for at least the error wait time), each
    // time with a new "since": count those, and the most routes the DUT held.
    let mut starts = std::collections::BTreeSet::new();
    let mut most = 0;
    lab.wait("the DUT to restart the session twice on the import limit", Duration::from_secs(40), || {
        let all = dut.birdc("show protocols all p1");
        assert!(
            !all.contains("Too frequent restarts"),
            "the DUT disabled p1 (\"Too frequent restarts\") after {} restart(s); BIRD 2 keeps \
             restarting the session, `error wait time` apart, on every hit:\n{all}",
            starts.len().saturating_sub(1)
        );
        let (state, since) = state_since(&all, "p1");
        if state == "start" {
            starts.insert(since);
        }
        let (got, _) = dut.prefixes("protocol p1");
        most = most.max(got.len());
        if starts.len() >= 3 {
            Ok(())
        } else {
            Err(format!("{} restart(s) so far; last:\n{all}", starts.len().saturating_sub(1)))
        }
    });
    assert!(most <= 5, "the DUT held {most} routes from p1 with import limit 5");
    let all = dut.birdc("show protocols all p1");
    assert!(all.lines().any(|l| l.trim().starts_with("Import limit:") && l.contains(" 5")), "{all}");
    let seen = peer.bird.birdc("show protocols all dut4");
    assert!(
        seen.to_ascii_lowercase().contains("maximum number of prefixes reached"),
        "the peer was not told Cease/maximum number of prefixes reached:\n{seen}"
    );
}

/// The same limit with `disable after error`: the first hit leaves the protocol down ("Route limit
/// exceeded") for good; raising the limit by `configure` (and dropping the option) brings all 10 routes in.
#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn import_limit_disable_after_error_then_raise() {
    let Some(kind) = setup("limit2", &[BIRD2]) else { return };
    let _serial = lab::serial();
    let (lab, dut, _peer, conf) = limit_lab("limit2", kind, "5", "disable after error on;");
    lab.wait("the DUT to disable p1 on the import limit", WAIT, || {
        let all = dut.birdc("show protocols all p1");
        if state_since(&all, "p1").0 == "down" {
            Ok(())
        } else {
            Err(all)
        }
    });
    lab.hold("p1 staying down without routes", Duration::from_secs(4), || {
        let all = dut.birdc("show protocols all p1");
        let (got, raw) = dut.prefixes("protocol p1");
        if state_since(&all, "p1").0 == "down" && got.is_empty() {
            Ok(())
        } else {
            Err(format!("{all}\n{raw}"))
        }
    });
    let all = dut.birdc("show protocols all p1");
    assert!(all.contains("Route limit exceeded"), "{all}");

    // A higher limit: the session settles with all ten routes.
    let r = dut.reconfigure(&conf("20", ""));
    assert!(r.contains("Reconfigured") || r.contains("Reconfiguration"), "{r}");
    lab.wait("all 10 routes at the DUT", WAIT, || {
        dut.established("p1")?;
        let (got, raw) = dut.prefixes("protocol p1");
        if got.len() == 10 {
            Ok(())
        } else {
            Err(format!("{} routes\n{raw}", got.len()))
        }
    });
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 1b: one session, two channels.

/// One eBGP session over IPv4 carrying both the ipv4 and the ipv6 channel (IPv6 next hops taken from the
/// interface), against a BIRD 2 peer: both families flow both ways with the right next hops.
#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn ebgp_one_session_ipv4_ipv6_channels_with_bird2() {
    let Some(kind) = setup("mp", &[BIRD2]) else { return };
    let _serial = lab::serial();
    let lab = Lab::new("mp", 1);
    let session = |local: &str, las: u32, nb: &str, nas: u32| {
        format!(
            "protocol bgp p1 {{\n  local {local} as {las};\n  neighbor {nb} as {nas};\n  {BIRD_TIMERS}\n  \
             ipv4 {{ import all; export all; }};\n  ipv6 {{ import all; export all; }};\n}}\n"
        )
    };
    let all: Vec<&str> = DUT_V4_ROUTES.iter().chain(&DUT_V6_ROUTES).copied().collect();
    let dut = start_dut(&lab, kind, &dut_config(&all, &session(DUT_V4, DUT_AS, &peer_v4(1), PEER_AS)));
    let ps = spec(1, PEER_AS, &PEER_V4_ROUTES, &PEER_V6_ROUTES);
    let mut conf = Bird2Peer::config(&PeerSpec { v6_session: false, ..ps.clone() }, "");
    // The generated dut4 session carries ipv4 only: replace it by one with both channels.
    conf.truncate(conf.find("protocol bgp dut4").unwrap());
    conf += &session(&peer_v4(1), PEER_AS, DUT_V4, DUT_AS).replace("protocol bgp p1", "protocol bgp dut4");
    let peer = Bird2Peer::start_with(&lab, ps, &conf);

    lab.wait("DUT p1 Established", WAIT, || dut.established("p1"));
    for (table, want) in [("master4", &PEER_V4_ROUTES), ("master6", &PEER_V6_ROUTES)] {
        lab.wait(&format!("DUT: the peer's routes in {table}"), WAIT, || {
            let (got, raw) = dut.prefixes(&format!("table {table} protocol p1"));
            if got == want {
                Ok(())
            } else {
                let more = dut.birdc("show protocols all p1");
                let peer_side = peer.bird.birdc("show protocols all dut4");
                Err(format!("got {got:?}\n{raw}--- DUT\n{more}--- peer\n{peer_side}"))
            }
        });
    }
    let r = dut.route("2001:db8:200::/48").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.as_path, PEER_AS.to_string(), "{}", r.raw);
    assert!(r.next_hop_is(&peer_v6(1)), "IPv6 next hop over the IPv4 session: {}", r.raw);
    let r = dut.route("198.18.200.0/24").unwrap_or_else(|e| panic!("{e}"));
    assert!(r.next_hop_is(&peer_v4(1)), "{}", r.raw);
    for (p, nh) in [(DUT_V4_ROUTES[0], DUT_V4), (DUT_V6_ROUTES[0], DUT_V6)] {
        let r = lab.wait(&format!("peer: {p}"), WAIT, || peer.route(p));
        assert_eq!(r.as_path, DUT_AS.to_string(), "{}", r.raw);
        assert!(r.next_hop_is(nh), "{p}: next hop {:?}, want {nh}: {}", r.next_hop, r.raw);
    }

    // Last: `show route protocol p1` without a table lists the tables of all of p1's channels.
    let (got, raw) = dut.prefixes("protocol p1");
    let mut want: Vec<&str> = PEER_V4_ROUTES.iter().chain(&PEER_V6_ROUTES).copied().collect();
    want.sort();
    assert_eq!(got, want, "`show route protocol p1` should list both channels' tables:\n{raw}");
}

// ---------------------------------------------------------------------------------------------------------
// Extra: TCP-MD5.

/// An eBGP session protected by `password` (TCP-MD5, RFC 2385) against a BIRD 2 peer: up with the same
/// password, never up while the peer's differs, up again once it matches.
#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn ebgp_tcp_md5_with_bird2() {
    let Some(kind) = setup("md5", &[BIRD2]) else { return };
    let _serial = lab::serial();
    let lab = Lab::new("md5", 1);
    let bgp = dut_bgp("p1", 1, PEER_AS, false, "password \"birdd-md5\";", "");
    let dut = start_dut(&lab, kind, &dut_config(&DUT_V4_ROUTES, &bgp));
    let ps = spec(1, PEER_AS, &PEER_V4_ROUTES, &[]);
    let conf = |pw: &str| {
        Bird2Peer::config(&ps, "")
            .replace("protocol bgp dut4 {", &format!("protocol bgp dut4 {{\n  password \"{pw}\";"))
    };
    let peer = Bird2Peer::start_with(&lab, ps.clone(), &conf("birdd-md5"));
    lab.wait("DUT p1 Established with TCP-MD5", WAIT, || dut.established("p1"));
    lab.wait("DUT: the peer's routes", WAIT, || dut.route(PEER_V4_ROUTES[0]));
    lab.wait("peer: the DUT's routes", WAIT, || peer.route(DUT_V4_ROUTES[0]));

    // A different password on the peer: its reconfiguration restarts the session, which must not come up.
    let r = peer.bird.reconfigure(&conf("wrong-password"));
    assert!(r.contains("Reconfigur"), "{r}");
    lab.wait("DUT p1 down after the peer's password changed", WAIT, || match dut.established("p1") {
        Ok(()) => Err("still Established".into()),
        Err(_) => Ok(()),
    });
    lab.hold("p1 staying down with mismatching passwords", Duration::from_secs(5), || {
        match dut.established("p1") {
            Ok(()) => Err(dut.birdc("show protocols all p1")),
            Err(_) => Ok(()),
        }
    });
    let r = peer.bird.reconfigure(&conf("birdd-md5"));
    assert!(r.contains("Reconfigur"), "{r}");
    lab.wait("DUT p1 Established again", WAIT, || dut.established("p1"));
    lab.wait("DUT: the peer's routes again", WAIT, || dut.route(PEER_V4_ROUTES[0]));
}

/// `ttl security on` (GTSM, RFC 5082) on both ends against a BIRD 2 peer: the session only comes up when
/// the DUT sends with TTL 255 (the peer drops anything less), and routes flow.
#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn ebgp_ttl_security_with_bird2() {
    let Some(kind) = setup("gtsm", &[BIRD2]) else { return };
    let _serial = lab::serial();
    let lab = Lab::new("gtsm", 1);
    let bgp = dut_bgp("p1", 1, PEER_AS, false, "ttl security on;", "");
    let dut = start_dut(&lab, kind, &dut_config(&DUT_V4_ROUTES, &bgp));
    let ps = spec(1, PEER_AS, &PEER_V4_ROUTES, &[]);
    let conf =
        Bird2Peer::config(&ps, "").replace("protocol bgp dut4 {", "protocol bgp dut4 {\n  ttl security on;");
    let peer = Bird2Peer::start_with(&lab, ps, &conf);
    lab.wait("DUT p1 Established with TTL security", WAIT, || dut.established("p1"));
    lab.wait("peer dut4 Established with TTL security", WAIT, || peer.session_up(false));
    lab.wait("DUT: the peer's routes", WAIT, || dut.route(PEER_V4_ROUTES[0]));
    lab.wait("peer: the DUT's routes", WAIT, || peer.route(DUT_V4_ROUTES[0]));
}
