//! Reconfiguration under load (root only, run by `cargo xtask netns-test`): while 100k routes flow from
//! one BGP peer through the device under test to two others, a `configure` changes the export filter of
//! one session only. That protocol reloads (its peer gets the newly filtered set) and no session
//! restarts: the peers see all three sessions Established throughout.
//!
//! Uses the namespace lab and BIRD 2 peers of `netns_bgp` (`BIRDD_NETNS_DUT=bird2` runs the same
//! scenario against BIRD 2). Addresses and prefixes come from 198.18.0.0/15 only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_bgp/lab.rs"]
mod lab;
#[path = "netns_bgp/peers.rs"]
mod peers;

use std::fmt::Write as _;
use std::time::Duration;

use lab::{peer_v4, Lab, DUT_V4};
use peers::{Bird, Bird2Peer, DutKind, PeerSpec, BIRD2, BIRDC, BIRD_TIMERS};

const DUT_AS: u32 = 65000;
const ROUTES: usize = 100_000;

/// 100k host routes: all of 198.19.0.0/16 and 198.18.128.0/17, then the start of 198.18.64.0/18.
fn feed_routes() -> Vec<String> {
    let mut v = Vec::with_capacity(ROUTES);
    for i in 0..ROUTES {
        if i < 65_536 {
            v.push(format!("198.19.{}.{}/32", i / 256, i % 256));
        } else if i < 65_536 + 32_768 {
            let j = i - 65_536;
            v.push(format!("198.18.{}.{}/32", 128 + j / 256, j % 256));
        } else {
            let j = i - 65_536 - 32_768;
            v.push(format!("198.18.{}.{}/32", 64 + j / 256, j % 256));
        }
    }
    v
}

fn dut_config(to_b: &str) -> String {
    let mut s = format!("router id {DUT_V4};\nlog stderr all;\nprotocol device {{ scan time 1; }}\n");
    let _ = writeln!(s, "filter from_a {{ accept; }}\nfilter to_b {{ {to_b} }}\nfilter to_c {{ accept; }}");
    for (name, idx, asn, chan) in [
        ("pa", 1, 65001, "import filter from_a; export none;"),
        ("pb", 2, 65002, "import all; export filter to_b;"),
        ("pc", 3, 65003, "import all; export filter to_c;"),
    ] {
        let _ = writeln!(
            s,
            "protocol bgp {name} {{\n  local {DUT_V4} as {DUT_AS};\n  neighbor {} as {asn};\n  {BIRD_TIMERS}\n  \
             ipv4 {{ {chan} }};\n}}",
            peer_v4(idx)
        );
    }
    s
}

/// The feeding peer: one static protocol with every route, exported to the DUT.
fn feeder_config(spec: &PeerSpec, routes: &[String]) -> String {
    let mut s = format!(
        "router id {};\nlog stderr all;\nprotocol device {{ scan time 1; }}\nprotocol static feed {{\n  ipv4;\n",
        spec.v4()
    );
    for r in routes {
        let _ = writeln!(s, "  route {r} blackhole;");
    }
    s.push_str("}\n");
    let _ = writeln!(
        s,
        "protocol bgp dut4 {{\n  local {} as {};\n  neighbor {DUT_V4} as {DUT_AS};\n  {BIRD_TIMERS}\n  \
         ipv4 {{ import none; export all; }};\n}}",
        spec.v4(),
        spec.asn
    );
    s
}

fn spec(idx: usize, asn: u32) -> PeerSpec {
    PeerSpec { idx, asn, dut_asn: DUT_AS, v4_routes: Vec::new(), v6_routes: Vec::new(), v6_session: false }
}

/// Routes in the peer's master4 (`show route count`).
/// Whether two readings of `since` columns ("HH:MM:SS.mmm State") show the same sessions: same state,
/// same time give or take 100 ms. BIRD 2 prints its monotonic `since` converted to wall-clock time at
/// each `show protocols`, so the same session can read a millisecond apart; a restarted session reads
/// seconds later (a dropped BGP session waits before it connects again).
fn same_sessions(before: &[String], after: &[String]) -> bool {
    fn ms(s: &str) -> Option<(i64, &str)> {
        let (time, state) = s.split_once(' ')?;
        let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
        let mut t = 0i64;
        for part in hms.split(':') {
            t = t * 60 + part.parse::<i64>().ok()?;
        }
        Some((t * 1000 + frac.parse::<i64>().ok()?, state))
    }
    before.len() == after.len()
        && before.iter().zip(after).all(|(b, a)| match (ms(b), ms(a)) {
            (Some((tb, sb)), Some((ta, sa))) => sb == sa && (ta - tb).abs() <= 100,
            _ => b == a,
        })
}

fn count(b: &Bird) -> Result<usize, String> {
    let r = b.birdc("show route count");
    r.lines()
        .find_map(|l| {
            l.split_whitespace().next().filter(|_| l.contains("routes for")).and_then(|n| n.parse().ok())
        })
        .ok_or(r)
}

#[test]
#[ignore = "needs root and Debian's bird2: cargo xtask netns-test"]
fn filter_change_under_load_reloads_one_protocol_and_keeps_every_session() {
    let kind = DutKind::from_env();
    if let Some(why) = lab::missing(&[BIRDC, BIRD2, kind.binary()]) {
        eprintln!("SKIP: reconfigure under load: {why}");
        return;
    }
    let _serial = lab::serial();
    let lab = Lab::new("rcfg", 3);
    let dut = Bird::start(&lab, &lab.dut_ns, "dut", kind.binary(), &dut_config("accept;"));
    let b = Bird2Peer::start(&lab, spec(2, 65002));
    let c = Bird2Peer::start(&lab, spec(3, 65003));
    for p in ["pb", "pc"] {
        lab.wait(&format!("DUT {p} Established"), lab::WAIT, || dut.established(p));
    }
    let routes = feed_routes();
    let a_spec = spec(1, 65001);
    let a = Bird2Peer::start_with(&lab, a_spec.clone(), &feeder_config(&a_spec, &routes));
    lab.wait("DUT pa Established", lab::WAIT, || dut.established("pa"));
    let since = |bird: &Bird, p: &str| bird.since(p);
    let before = [since(&a.bird, "dut4"), since(&b.bird, "dut4"), since(&c.bird, "dut4")];
    let dut_before = [since(&dut, "pa"), since(&dut, "pb"), since(&dut, "pc")];

    // While the routes are still on their way: pb's export filter now keeps 198.19.0.0/16 back.
    let r = dut.reconfigure(&dut_config("if net ~ [ 198.19.0.0/16+ ] then reject; accept;"));
    assert!(r.contains("Reconfigured"), "configure: {r}");

    lab.wait("all routes at C", Duration::from_secs(60), || match count(&c.bird) {
        Ok(n) if n == ROUTES => Ok(()),
        Ok(n) => Err(format!("{n} of {ROUTES}")),
        Err(r) => Err(r),
    });
    lab.wait("B holds only the routes outside 198.19.0.0/16", Duration::from_secs(60), || {
        match count(&b.bird) {
            Ok(n) if n == ROUTES - 65_536 => Ok(()),
            Ok(n) => Err(format!("{n}, want {}", ROUTES - 65_536)),
            Err(r) => Err(r),
        }
    });
    assert!(b.bird.route("198.19.1.1/32").is_err(), "B still has a filtered route");

    // No session restarted: the peers' and the DUT's `since` columns did not move, all Established.
    let after = [since(&a.bird, "dut4"), since(&b.bird, "dut4"), since(&c.bird, "dut4")];
    assert!(same_sessions(&before, &after), "a peer's session restarted: {before:?} -> {after:?}");
    let dut_after = [since(&dut, "pa"), since(&dut, "pb"), since(&dut, "pc")];
    assert!(
        same_sessions(&dut_before, &dut_after),
        "a DUT protocol restarted: {dut_before:?} -> {dut_after:?}"
    );
    for (peer, who) in [(&a.bird, "A"), (&b.bird, "B"), (&c.bird, "C")] {
        peer.established("dut4").unwrap_or_else(|r| panic!("peer {who}: {r}"));
    }
    if kind == DutKind::Birdd {
        let log = std::fs::read_to_string(lab.path("dut.log")).unwrap_or_default();
        assert!(log.contains("pb: reconfigured"), "pb was not reloaded:\n{log}");
        assert!(
            !log.contains("pa: reconfigured") && !log.contains("pc: reconfigured"),
            "others touched:\n{log}"
        );
        assert!(!log.contains("restarting after reconfiguration"), "{log}");
    }
}
