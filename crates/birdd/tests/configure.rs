//! `configure timeout`, `configure confirm`, `configure undo` and `configure status` through the control
//! socket: an unconfirmed configuration is undone when its timeout expires, a confirmed one stays, an
//! undo goes back once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{transcript, Daemon, TempDir};

/// Configuration with `extra` routes in static s1 (and, when `t2`, a second table the pipe feeds).
fn conf(extra: &str) -> String {
    format!(
        "router id 192.0.2.1;\nprotocol static s1 {{\n  ipv4;\n  route 10.1.0.0/16 blackhole;\n{extra}}}\n"
    )
}

const NEW_ROUTE: &str = "  route 10.9.0.0/16 unreachable;\n";

fn has_new_route(d: &Daemon) -> bool {
    d.cmd("show route").contains("10.9.0.0/16")
}

fn reading(path: &std::path::Path) -> String {
    format!("0002-Reading configuration from {}\n", path.display())
}

#[test]
fn timeout_expires_and_undoes() {
    let dir = TempDir::new("cfto");
    let c = dir.write("a.conf", &conf(""));
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    let mut s = d.session();

    dir.write("a.conf", &conf(NEW_ROUTE));
    let t0 = Instant::now();
    assert_eq!(
        s.cmd("configure timeout 2"),
        format!("{}0022-Undo scheduled in 2 s\n0003 Reconfigured\n", reading(&c))
    );
    d.wait_for("show route", |r| r.contains("10.9.0.0/16"));
    let st = d.cmd("configure status");
    let rest = st
        .strip_prefix("0003-Daemon is up and running\n0022-Configuration unconfirmed, undo in ")
        .unwrap_or_else(|| panic!("{st:?}"));
    let (secs, tail) = rest.split_once(" s\n").unwrap();
    assert_eq!(tail, "0000 \n");
    let left: f64 = secs.parse().unwrap();
    assert!(secs.len() == 5 && left > 0.0 && left <= 2.0, "{secs}");

    // The session that gave the timed configure is told when the undo starts.
    assert_eq!(s.read_async(), "+Config timeout expired, starting undo\n");
    assert!(t0.elapsed() >= Duration::from_millis(1900), "{:?}", t0.elapsed());
    d.wait_for("show route", |r| !r.contains("10.9.0.0/16"));
    assert_eq!(d.cmd("configure status"), transcript("54-configure-status"));
    // The undo cannot be undone, and nothing is left to confirm.
    assert_eq!(s.cmd("configure undo"), "0021-Undo requested\n0019 Nothing to do\n");
    assert_eq!(s.cmd("configure confirm"), transcript("57-configure-confirm-nothing"));
    assert!(!has_new_route(&d));
}

#[test]
fn confirmed_configuration_stays() {
    let dir = TempDir::new("cfcf");
    let c = dir.write("a.conf", &conf(""));
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    let mut s = d.session();
    assert_eq!(s.cmd("configure confirm"), transcript("57-configure-confirm-nothing"));

    dir.write("a.conf", &conf(NEW_ROUTE));
    assert_eq!(
        s.cmd("configure soft timeout 2"),
        format!("{}0022-Undo scheduled in 2 s\n0003 Reconfigured\n", reading(&c))
    );
    // Confirmed from another session.
    assert_eq!(d.cmd("configure confirm"), transcript("56-configure-confirm"));
    assert_eq!(d.cmd("configure confirm"), transcript("57-configure-confirm-nothing"));
    assert_eq!(d.cmd("configure status"), transcript("54-configure-status"));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(has_new_route(&d));
    // No notice came.
    assert_eq!(s.cmd("show status").lines().last(), Some("0013 Daemon is up and running"));

    // `timeout` alone: BIRD's default of 300 s.
    assert_eq!(
        s.cmd("configure timeout"),
        format!("{}0022-Undo scheduled in 300 s\n0003 Reconfigured\n", reading(&c))
    );
    assert!(d.cmd("configure status").contains("\n0022-Configuration unconfirmed, undo in 29"));
    assert_eq!(d.cmd("configure confirm"), transcript("56-configure-confirm"));

    // A new configure without timeout cancels a pending undo as well.
    dir.write("a.conf", &conf(""));
    assert!(s.cmd("configure timeout 1").ends_with("0003 Reconfigured\n"));
    dir.write("a.conf", &conf(NEW_ROUTE));
    assert_eq!(s.cmd("configure"), format!("{}0003 Reconfigured\n", reading(&c)));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(has_new_route(&d));
    assert_eq!(s.cmd("configure confirm"), transcript("57-configure-confirm-nothing"));
}

#[test]
fn undo_goes_back_once() {
    let dir = TempDir::new("cfun");
    let c = dir.write("a.conf", &conf(""));
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    let mut s = d.session();
    // Nothing before the first configuration.
    assert_eq!(s.cmd("configure undo"), "0021-Undo requested\n0019 Nothing to do\n");

    dir.write("a.conf", &conf(NEW_ROUTE));
    assert!(s.cmd("configure").ends_with("0003 Reconfigured\n"));
    d.wait_for("show route", |r| r.contains("10.9.0.0/16"));
    assert_eq!(s.cmd("configure undo"), "0021-Undo requested\n0003 Reconfigured\n");
    d.wait_for("show route", |r| !r.contains("10.9.0.0/16"));
    assert_eq!(s.cmd("configure undo"), "0021-Undo requested\n0019 Nothing to do\n");

    // A failed configure changes nothing: the undo still has nothing to do.
    dir.write("a.conf", "protocol static { ipv4; route 192.0.2.300/32 blackhole; }\n");
    assert!(s.cmd("configure timeout 1").starts_with(&format!("{}8002 ", reading(&c))));
    assert_eq!(s.cmd("configure status"), transcript("54-configure-status"));
    assert_eq!(s.cmd("configure undo"), "0021-Undo requested\n0019 Nothing to do\n");

    // Undo of a timed configuration stops its timer.
    dir.write("a.conf", &conf(NEW_ROUTE));
    assert!(s.cmd("configure timeout 1").ends_with("0003 Reconfigured\n"));
    assert_eq!(s.cmd("configure undo"), "0021-Undo requested\n0003 Reconfigured\n");
    assert_eq!(s.cmd("configure confirm"), transcript("57-configure-confirm-nothing"));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(s.cmd("configure status"), transcript("54-configure-status"));

    // Restricted sessions may not.
    assert_eq!(s.cmd("restrict"), "0016 Access restricted\n");
    for cmd in ["configure undo", "configure confirm", "configure timeout 5"] {
        assert_eq!(s.cmd(cmd), "8007 Access denied\n", "{cmd}");
    }
    assert_eq!(s.cmd("configure status"), transcript("54-configure-status"));
}
