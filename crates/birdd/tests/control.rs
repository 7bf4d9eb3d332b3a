//! Control-socket behaviour: restricted sockets and sessions, long commands, configure (broken, changed,
//! check), SIGHUP, SIGTERM, `down`, `-p`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{transcript, Daemon, TempDir, BIN};
use rustix::process::Signal;

fn conf(extra_route: &str, cli: &str) -> String {
    format!(
        r#"router id 192.0.2.1;
timeformat protocol iso long ms;
{cli}
ipv4 table t2;
protocol static s1 {{
  ipv4;
  route 10.1.0.0/16 blackhole;
{extra_route}
}}
protocol static s2 {{
  ipv4;
  route 10.2.0.0/16 unreachable;
}}
protocol pipe p1 {{
  table master4;
  peer table t2;
  export where net.len >= 16;
  import none;
}}
"#
    )
}

/// The `Since` column of a protocol's row.
fn since(d: &Daemon, proto: &str) -> String {
    let r = d.cmd(&format!("show protocols {proto}"));
    let row = r.lines().nth(1).unwrap();
    row[5 + 44..].trim().to_owned()
}

#[test]
fn restricted_socket_and_session() {
    let dir = TempDir::new("rs");
    let lg = dir.path("lg.ctl");
    let c = dir.write("a.conf", &conf("", &format!("cli \"{}\" {{ restrict; }};", lg.display())));
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    let mode = |p: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode(&d.socket), 0o660);
    assert_eq!(mode(&lg), 0o660);

    let mut s = common::Session::connect(&lg);
    for cmd in ["configure", "configure check", "disable s1", "enable s1", "restart s1", "down"] {
        assert_eq!(s.cmd(cmd), "8007 Access denied\n", "{cmd}");
    }
    assert!(s.cmd("show protocols").starts_with("2002-Name"));
    assert!(s.cmd("show route").contains("10.1.0.0/16"));
    assert_eq!(s.cmd("restrict"), "0016 Access restricted\n");

    // The main socket: `restrict` turns a session into a restricted one (BIRD 90-restrict-session).
    let mut m = d.session();
    assert_eq!(m.cmd("restrict"), transcript("90-restrict-session.01"));
    assert_eq!(m.cmd("configure"), transcript("90-restrict-session.05"));
    assert_eq!(m.cmd("configure check"), transcript("90-restrict-session.06"));
    assert_eq!(m.cmd("restart s1"), transcript("90-restrict-session.08"));
    assert_eq!(m.cmd("down"), transcript("90-restrict-session.09"));
    // Still running, other sessions unaffected.
    assert!(d.cmd("show status").ends_with("0013 Daemon is up and running\n"));
}

/// Restricted sessions (`cli { restrict; }` or `restrict`) are safe to expose: a command's filters
/// share one step budget over all routes, and a reply is cut at `RESTRICTED_REPLY_LIMIT` bytes.
#[test]
fn restricted_commands_have_a_step_budget_and_a_reply_cap() {
    const N: usize = 50_000;
    let dir = TempDir::new("rb");
    let lg = dir.path("lg.ctl");
    let mut routes = String::with_capacity(N * 40);
    for i in 0..N {
        routes.push_str(&format!("  route 10.{}.{}.0/24 blackhole;\n", i / 256, i % 256));
    }
    let cfg = conf(&routes, &format!("cli \"{}\" {{ restrict; }};", lg.display()));
    // burn(n) makes 2^(n+1) - 1 calls.
    let cfg = format!(
        "{cfg}\nfunction burn(int n) {{ if n = 0 then return true; return burn(n - 1) && burn(n - 1); }}\n"
    );
    let d = Daemon::start(&dir.write("a.conf", &cfg), &dir.path("a.ctl"));
    // With s1's and s2's own routes.
    let total = N + 2;
    let count_line = format!("1007-{total} of {total} routes for {total} networks in table master4\n0000 \n");

    let mut r = common::Session::connect(&lg);
    // Cheap per route: the whole table fits the budget.
    assert_eq!(r.cmd("show route count table master4 where burn(2)"), count_line);
    // Each route's run stops at the per-run limit (20,000 steps), and about 500 of them use up the
    // command's budget: the command ends with 8008 instead of scanning every route.
    let t = std::time::Instant::now();
    let reply = r.cmd("show route count table master4 where burn(14)");
    assert_eq!(
        reply,
        "8008 Filter steps of a restricted session exhausted (10000000 per command); narrow the query\n"
    );
    eprintln!("budget exhausted after {:?}", t.elapsed());
    // Sessions of the main socket have no reply cap.
    let mut m = d.session();
    // The whole table is longer than the cap; a restricted session gets the first 4 MiB and 8000.
    let full = m.cmd("show route all table master4");
    assert!(full.len() > birdcli::RESTRICTED_REPLY_LIMIT, "{} bytes", full.len());
    for s in [&mut r, &mut {
        let mut s = d.session();
        assert_eq!(s.cmd("restrict"), "0016 Access restricted\n");
        s
    }] {
        let cut = s.cmd("show route all table master4");
        assert!(cut.ends_with("8000 Reply too long (over 4194304 bytes)\n"), "{}", &cut[cut.len() - 200..]);
        assert!(cut.len() <= birdcli::RESTRICTED_REPLY_LIMIT + 100, "{} bytes", cut.len());
        // (Times compared without their digits: a route's time is rebuilt from the monotonic clock at
        // each listing, so its milliseconds may move.)
        let (full, cut) = (common::norm_times(&full), common::norm_times(&cut));
        assert!(full.starts_with(&cut[..cut.len() - 100]), "the cut reply is a prefix of the whole one");
        // The session goes on; short replies are whole.
        assert!(s.cmd("show status").ends_with("0013 Daemon is up and running\n"));
        assert!(s.cmd("show route 10.100.0.0/24").contains("10.100.0.0/24"));
    }
}

#[test]
fn long_command_and_slow_client() {
    let dir = TempDir::new("lc");
    let c = dir.write("a.conf", &conf("", ""));
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    let mut s = d.session();
    let long = format!("show route where net ~ [ {} ]\n", "10.0.0.0/8, ".repeat(900));
    assert!(long.len() > 10_000);
    s.send(long.as_bytes());
    assert_eq!(s.read_reply(), "9000 Command too long\n");
    assert!(s.cmd("show status").ends_with("0013 Daemon is up and running\n"));
    // A 4094-byte command is still accepted (here: a syntax error, not "too long").
    let max = format!("show route where {}", " ".repeat(4094 - 17 - 4) + "true");
    assert_eq!(max.len(), 4094);
    assert!(s.cmd(&max).starts_with("1007-Table master4:"));

    // A client that sends many commands and never reads does not block others.
    let mut slow = d.session();
    for _ in 0..2000 {
        slow.send(b"show route all\n");
    }
    for _ in 0..3 {
        assert!(d.cmd("show status").ends_with("0013 Daemon is up and running\n"));
    }
}

/// Many clients at once, mixed with ones that stall: an idle connection, one stuck in the middle of a
/// command line, and one that asks for long replies and never reads. Every other client is answered, in
/// order, on each of its sessions.
#[test]
fn many_clients_at_once_beside_stalled_ones() {
    let dir = TempDir::new("mc");
    let mut routes = String::new();
    for i in 0..2000 {
        routes.push_str(&format!("  route 10.{}.{}.0/24 blackhole;\n", 100 + i / 256, i % 256));
    }
    let d = Daemon::start(&dir.write("a.conf", &conf(&routes, "")), &dir.path("a.ctl"));
    let _idle = d.session();
    let mut half = d.session();
    half.send(b"show rou");
    let mut hog = d.session();
    for _ in 0..200 {
        hog.send(b"show route all\n");
    }
    let mut clients: Vec<common::Session> = (0..100).map(|_| d.session()).collect();
    for round in 0..3 {
        // Every client sends first, then every one reads: the daemon holds 100 pending commands.
        for (i, c) in clients.iter_mut().enumerate() {
            c.send(format!("show route 10.100.{}.0/24\neval {i} + {round}\n", i % 200).as_bytes());
        }
        for (i, c) in clients.iter_mut().enumerate() {
            let r = c.read_reply();
            assert!(r.contains(&format!("10.100.{}.0/24", i % 200)), "client {i}: {r}");
            assert_eq!(c.read_reply(), format!("0023 {}\n", i + round), "client {i}");
        }
    }
    // The half-sent command completes and is answered; the hog's backlog is still there.
    half.send(b"te count\n");
    let r = half.read_reply();
    assert!(r.contains("2002 of 2002 routes"), "{r}");
    assert!(hog.read_reply().starts_with("1007-Table master4:"));
}

#[test]
fn configure_broken_changed_and_check() {
    let dir = TempDir::new("cf");
    let path = dir.write("a.conf", &conf("", ""));
    let d = Daemon::start(&path, &dir.path("a.ctl"));
    let p = path.display().to_string();
    assert_eq!(
        d.cmd("configure check"),
        format!("0002-Reading configuration from {p}\n0020 Configuration OK\n")
    );
    let s2_since = since(&d, "s2");
    let s1_since = since(&d, "s1");

    // Broken: the running config stays, the reply says where the error is.
    std::fs::write(&path, conf("  route 10.3.0.0/16 via 192.0.2.300;", "")).unwrap();
    assert_eq!(
        d.cmd("configure"),
        format!("0002-Reading configuration from {p}\n8002 {p}:8:25 Invalid IPv4 address 192.0.2.300\n")
    );
    assert!(d.cmd("show route").contains("10.1.0.0/16"));
    // BIRD's own broken file gives BIRD's own message (58-configure-check-syntax-error).
    let broken = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/broken-syntax.conf");
    let want = transcript("58-configure-check-syntax-error").replace("/etc/bird/broken-syntax.conf", broken);
    assert_eq!(d.cmd(&format!("configure check \"{broken}\"")), want);

    // Changed: a new route appears, a removed one disappears, the unchanged protocol keeps its time.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        &path,
        conf("  route 10.3.0.0/16 blackhole;", "").replace("route 10.1.0.0/16 blackhole;", ""),
    )
    .unwrap();
    assert_eq!(d.cmd("configure"), format!("0002-Reading configuration from {p}\n0003 Reconfigured\n"));
    let routes = d.wait_for("show route", |r| r.contains("10.3.0.0/16") && !r.contains("10.1.0.0/16"));
    assert!(routes.contains("10.2.0.0/16"), "{routes}");
    assert_eq!(since(&d, "s2"), s2_since);
    assert_eq!(since(&d, "s1"), s1_since, "a reconfigured static protocol is not restarted");
    // ... and the pipe followed.
    d.wait_for("show route table t2", |t2| t2.contains("10.3.0.0/16") && !t2.contains("10.1.0.0/16"));

    // A removed protocol shuts down, a new one starts.
    std::fs::write(&path, conf("", "").replace("protocol static s2", "protocol static s3")).unwrap();
    assert!(d.cmd("configure").ends_with("0003 Reconfigured\n"));
    d.wait_for("show protocols", |p| p.contains("s3 ") && p.contains(" up ") && !p.contains("s2 "));
    d.wait_for("show route", |r| r.contains("10.2.0.0/16") && r.contains("[s3 "));

    // An edited filter under the same name (here the pipe's inline `where`) refeeds the pipe.
    std::fs::write(&path, conf("", "").replace("net.len >= 16", "net.len >= 17")).unwrap();
    assert!(d.cmd("configure").ends_with("0003 Reconfigured\n"));
    d.wait_for("show route table t2 count", |r| r.contains("0 of 0 routes"));
}

#[test]
fn sighup_reconfigures_and_sigterm_exits() {
    let dir = TempDir::new("sg");
    let path = dir.write("a.conf", &conf("", ""));
    let pidfile = dir.path("a.pid");
    let mut d = Daemon::start_with(&path, &dir.path("a.ctl"), &["-P", pidfile.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap().trim(), d.pid().to_string());
    std::fs::write(&path, conf("  route 10.9.0.0/16 blackhole;", "")).unwrap();
    d.signal(Signal::HUP);
    let t = std::time::Instant::now();
    while !d.cmd("show route").contains("10.9.0.0/16") {
        assert!(t.elapsed() < common::WAIT, "SIGHUP did not reconfigure");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    d.signal(Signal::TERM);
    let st = d.wait_exit();
    assert!(st.success(), "{st}");
    assert!(!d.socket.exists(), "socket removed");
    assert!(!pidfile.exists(), "pidfile removed");
}

#[test]
fn down_shuts_down() {
    let dir = TempDir::new("dn");
    let path = dir.write("a.conf", &conf("", ""));
    let mut d = Daemon::start(&path, &dir.path("a.ctl"));
    let mut s = d.session();
    assert_eq!(s.cmd("down"), transcript("b-99-down"));
    assert!(d.wait_exit().success());
    assert!(!d.socket.exists());
}

#[test]
fn parse_only_errors() {
    let dir = TempDir::new("po");
    let bad = dir.write(
        "bad.conf",
        "router id 1.2.3.4;\nprotocol static {\n  ipv4;\n  route 192.0.2.0/24 via 192.0.2.300;\n}\n",
    );
    let out = Command::new(BIN).args(["-p", "-c"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err, format!("birdd: {}:4:26 Invalid IPv4 address 192.0.2.300\n", bad.display()));

    // A BGP option this build does not run is refused with the protocol named.
    let bgp = dir.write(
        "bgp.conf",
        "router id 1.2.3.4;\nprotocol bgp up1 {\n  local as 1; neighbor 192.0.2.2 as 2; confederation 65000;\n  ipv4 { import all; export none; };\n}\n",
    );
    let out = Command::new(BIN).args(["-p", "-c"]).arg(&bgp).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "birdd: {}:2:1 Protocol bgp (up1): confederation is not available",
            bgp.display()
        )),
        "{err}"
    );

    let good = dir.write("good.conf", &conf("", ""));
    let out = Command::new(BIN).args(["-p", "-c"]).arg(&good).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(BIN).args(["-p", "-c"]).arg(dir.path("missing.conf")).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.conf: No such file or directory"));
}

/// Without a device protocol the interface list is empty, as in BIRD (and netlink is never opened).
#[test]
fn show_interfaces_without_device() {
    let dir = TempDir::new("sinodev");
    let c = dir.write("a.conf", &conf("", ""));
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    let mut s = d.session();
    assert_eq!(s.cmd("show interfaces"), "0000 \n");
    assert_eq!(
        s.cmd("show interfaces summary"),
        "2005-Interface  State  IPv4 address       IPv6 address\n0000 \n"
    );
}

#[test]
fn parse_only_accepts_kernel_device_direct() {
    let dir = TempDir::new("pokdd");
    let text = "router id 1.2.3.4;\nprotocol device { scan time 10; }\n\
                protocol direct { interface \"-lo\", \"veth*\"; ipv4; ipv6; }\n\
                protocol kernel k4 { kernel table 100; metric 64; learn; scan time 20; merge paths on limit 4;\n\
                netlink rx buffer 1048576; ipv4 { export all; }; }\n\
                protocol kernel k6 { persist; ipv6 { import none; export all; }; }\n\
                protocol static { ipv4; route 198.18.5.0/24 via 198.18.0.2; }\n";
    let conf = dir.write("krt.conf", text);
    let out = Command::new(BIN).args(["-p", "-c"]).arg(&conf).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // One channel only, for the kernel protocol.
    let two = dir.write("two.conf", "protocol kernel { ipv4 { export all; }; ipv6 { export all; }; }\n");
    let out = Command::new(BIN).args(["-p", "-c"]).arg(&two).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("two.conf:1:") && err.contains("channel"), "{err}");
}

/// `-u`/`-g` as root: the daemon runs as the user with exactly the router capabilities, and the control
/// socket (bound before dropping root, as BIRD does) belongs to the user.
#[test]
fn drops_root_keeping_network_capabilities() {
    if !rustix::process::getuid().is_root() {
        println!("SKIP drops_root_keeping_network_capabilities: needs root");
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let dir = TempDir::new("pr");
    let c = dir.write("a.conf", &conf("", ""));
    let d = Daemon::start_with(&c, &dir.path("a.ctl"), &["-u", "65534", "-g", "65534"]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name)).unwrap().split_whitespace().nth(1).unwrap().to_owned()
    };
    assert_eq!(field("Uid:"), "65534");
    assert_eq!(field("Gid:"), "65534");
    // CAP_NET_BIND_SERVICE (10), CAP_NET_BROADCAST (11), CAP_NET_ADMIN (12), CAP_NET_RAW (13).
    assert_eq!(u64::from_str_radix(&field("CapEff:"), 16).unwrap(), 0x3c00);
    assert_eq!(u64::from_str_radix(&field("CapPrm:"), 16).unwrap(), 0x3c00);
    assert_eq!(std::fs::metadata(&d.socket).unwrap().uid(), 65534);
    assert!(d.cmd("show status").ends_with("0013 Daemon is up and running\n"));
}

/// `echo all`: log messages reach the session as `+text` lines (BIRD 94-echo-async), never inside a reply.
#[test]
fn echo_delivers_log_messages() {
    let dir = TempDir::new("ec");
    let c = dir.write("a.conf", &conf("", ""));
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    let mut a = d.session();
    assert_eq!(a.cmd("echo all"), "0000 \n");
    assert_eq!(d.cmd("disable s2"), "0009-s2: disabled\n0000 \n");
    let t = std::time::Instant::now();
    let mut seen = String::new();
    while !seen.contains("+Disabling protocol s2\n") {
        assert!(t.elapsed() < common::WAIT, "no echo; got {seen:?}");
        let r = a.cmd("show status");
        // Async lines come before the reply's first line or after its final line, never inside.
        let first = r.lines().position(|l| l.starts_with("1000-")).unwrap();
        assert!(r.lines().skip(first).all(|l| !l.starts_with('+')), "{r}");
        seen.push_str(&r);
    }
    // Messages queued before `echo off` may still precede its reply.
    let off = a.cmd("echo off");
    assert!(off.ends_with("0000 \n") && off.lines().all(|l| l.starts_with('+') || l == "0000 "), "{off}");
}

/// `cli` sockets follow `configure`; `log "file"` statements are honoured.
#[test]
fn cli_sockets_and_log_file_follow_configuration() {
    let dir = TempDir::new("cl");
    let lg = dir.path("lg.ctl");
    let log = dir.path("birdd.log");
    let path = dir.write("a.conf", &format!("log \"{}\" all;\n{}", log.display(), conf("", "")));
    let d = Daemon::start(&path, &dir.path("a.ctl"));
    assert!(!lg.exists());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("<INFO> Started"), "{text}");

    std::fs::write(
        &path,
        format!(
            "log \"{}\" all;\n{}",
            log.display(),
            conf("", &format!("cli \"{}\" {{ restrict; }};", lg.display()))
        ),
    )
    .unwrap();
    assert!(d.cmd("configure").ends_with("0003 Reconfigured\n"));
    let mut s = common::Session::connect(&lg);
    assert_eq!(s.cmd("disable s1"), "8007 Access denied\n");
    std::fs::write(&path, conf("", "")).unwrap();
    assert!(d.cmd("configure").ends_with("0003 Reconfigured\n"));
    assert!(!lg.exists(), "removed cli socket unlinked");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("<INFO> Reconfigured"), "{text}");
}

#[test]
fn thread_groups_place_protocols() {
    let dir = TempDir::new("tg");
    let c = dir.write(
        "tg.conf",
        "thread group worker { threads 1; default yes; }\nthread group fast { threads 1; }\nrouter id 198.18.0.1;\n\
         protocol static s1 { thread group fast; ipv4; route 198.18.5.0/24 blackhole; }\n\
         protocol static s2 { ipv4; route 198.18.6.0/24 blackhole; }\n",
    );
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    // The loop of s1 runs on the thread of group `fast`: a thread of its own, without s2 or the tables.
    let thread_of = |r: &str, lp: &str| {
        let mut cur = "";
        for l in r.lines() {
            let l = l.trim_start_matches(|ch: char| ch.is_ascii_digit() || ch == '-' || ch == ' ');
            if let Some(t) = l.strip_prefix("Thread ") {
                cur = t.split_whitespace().next().unwrap_or("");
            }
            if l.trim() == format!("Loop {lp}") {
                return cur.to_owned();
            }
        }
        String::new()
    };
    let mut last = String::new();
    for _ in 0..50 {
        last = d.cmd("show threads all");
        let (t1, t2, tt) =
            (thread_of(&last, "proto s1"), thread_of(&last, "proto s2"), thread_of(&last, "table master4"));
        if !t1.is_empty() && !t2.is_empty() && t1 != t2 && t2 == tt {
            assert!(last.contains("group fast"), "{last}");
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("s1 is not on a thread of its own:\n{last}");
}

#[test]
fn debug_command_turns_protocol_traces_on_and_off() {
    let dir = TempDir::new("dbg");
    let log = dir.path("birdd.log");
    let c = dir.write(
        "d.conf",
        &format!(
            "log \"{}\" all;\nrouter id 198.18.0.1;\nprotocol static s1 {{ ipv4; route 198.18.5.0/24 blackhole; }}\n",
            log.display()
        ),
    );
    let d = Daemon::start(&c, &dir.path("a.ctl"));
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    let wait_for = |what: &str| {
        for _ in 0..100 {
            if text().contains(what) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("no {what:?} in the log:\n{}", text());
    };
    // Off by default: a restart writes no trace of the state changes.
    assert!(d.cmd("restart s1").contains("s1: restarted"));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!text().contains("s1: State changed to"), "{}", text());
    // `debug s1 { states, routes }`: the next restart is traced, with the routes it imports.
    assert_eq!(d.cmd("debug s1 { states, routes }"), "0000 \n");
    assert!(d.cmd("restart s1").contains("s1: restarted"));
    wait_for("s1: State changed to up");
    wait_for("s1 > added [ipv4] 198.18.5.0/24");
    // An unknown protocol is refused as for the other protocol commands (BIRD's syntax error).
    assert!(d.cmd("debug nosuch all").starts_with("9001"), "{}", d.cmd("debug nosuch all"));
    assert_eq!(d.cmd("debug s1 off"), "0000 \n");
}
