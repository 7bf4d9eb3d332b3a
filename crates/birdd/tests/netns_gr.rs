//! Graceful restart, receiving side (root only, run by `cargo xtask netns-test`): a BIRD 2 peer that
//! restarts gracefully (killed without a NOTIFICATION, back within its restart time) keeps its routes at
//! the device under test as stale until its End-of-RIB; routes it no longer announces go then.
//!
//! Uses the namespace lab of `netns_bgp` (`BIRDD_NETNS_DUT=bird2` runs the same scenario against BIRD
//! 2). Addresses and prefixes from 198.18.0.0/15 only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_bgp/lab.rs"]
mod lab;
#[path = "netns_bgp/peers.rs"]
mod peers;

use std::process::Command;
use std::time::Duration;

use lab::{peer_v4, Lab, DUT_V4, WAIT};
use peers::{Bird, DutKind, BIRD2, BIRDC, BIRD_TIMERS};

fn dut_config() -> String {
    format!(
        "router id {DUT_V4};\nlog stderr all;\nprotocol device {{ scan time 1; }}\n\
         protocol bgp p1 {{\n  local {DUT_V4} as 65000;\n  neighbor {} as 65001;\n  {BIRD_TIMERS}\n  \
         graceful restart on;\n  ipv4 {{ import all; export none; }};\n}}\n",
        peer_v4(1)
    )
}

fn peer_config(routes: &[&str]) -> String {
    let mut s = format!("router id {};\nlog stderr all;\nprotocol device {{ scan time 1; }}\n", peer_v4(1));
    s.push_str("protocol static st {\n  ipv4;\n");
    for r in routes {
        s.push_str(&format!("  route {r} blackhole;\n"));
    }
    s.push_str("}\n");
    s.push_str(&format!(
        "protocol bgp dut4 {{\n  local {} as 65001;\n  neighbor {DUT_V4} as 65000;\n  {BIRD_TIMERS}\n  \
         graceful restart on;\n  graceful restart time 60;\n  ipv4 {{ import none; export all; }};\n}}\n",
        peer_v4(1)
    ));
    s
}

fn routes_at(dut: &Bird) -> Vec<String> {
    dut.prefixes("protocol p1").0
}

#[test]
#[ignore = "needs root and Debian's bird2: cargo xtask netns-test"]
fn restarting_peer_keeps_routes_stale_until_end_of_rib() {
    let kind = DutKind::from_env();
    if let Some(why) = lab::missing(&[BIRDC, BIRD2, kind.binary()]) {
        eprintln!("SKIP: graceful restart: {why}");
        return;
    }
    let _serial = lab::serial();
    let lab = Lab::new("gr", 1);
    let dut = Bird::start(&lab, &lab.dut_ns, "dut", kind.binary(), &dut_config());
    let peer =
        Bird::start(&lab, lab.ns(1), "peer", BIRD2, &peer_config(&["198.18.200.0/24", "198.18.201.0/24"]));
    lab.wait("session", WAIT, || dut.established("p1"));
    let both = vec!["198.18.200.0/24".to_owned(), "198.18.201.0/24".to_owned()];
    lab.wait("both routes at the DUT", WAIT, || {
        let r = routes_at(&dut);
        if r == both {
            Ok(())
        } else {
            Err(format!("{r:?}"))
        }
    });

    // The peer dies without a word (as in a crash or a restart of its control plane).
    let conf = peer.conf.display().to_string();
    let _ = Command::new("pkill").args(["-KILL", "-f", &conf]).status();
    lab.wait("the DUT sees the session go", WAIT, || match dut.established("p1") {
        Ok(()) => Err("still Established".into()),
        Err(_) => Ok(()),
    });
    // Its routes stay (stale) while it restarts.
    lab.hold("routes kept during the restart", Duration::from_secs(2), || {
        let r = routes_at(&dut);
        if r == both {
            Ok(())
        } else {
            Err(format!("{r:?}"))
        }
    });
    let (_, all) = dut.bgp_state("p1");
    assert!(all.contains("Neighbor graceful restart active"), "{all}");

    // Back, announcing one route only: after its End-of-RIB the other, stale one goes.
    let peer2 = Bird::start(&lab, lab.ns(1), "peer2", BIRD2, &peer_config(&["198.18.200.0/24"]));
    lab.wait("session back", WAIT, || dut.established("p1"));
    lab.wait("stale route removed after End-of-RIB", WAIT, || {
        let r = routes_at(&dut);
        if r == ["198.18.200.0/24".to_owned()] {
            Ok(())
        } else {
            Err(format!("{r:?}"))
        }
    });
    drop(peer2);
    drop(peer);
}
