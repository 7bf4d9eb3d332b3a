//! Clients: Debian's `birdc` (when installed) and the bundled `birdd ctl`; the README's quick start
//! (built-in config, default socket, daemonizing without `-f`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Daemon, TempDir, BIN};

const CONF: &str = "router id 192.0.2.1;\nprotocol static s1 {\n  ipv4;\n  route 10.1.0.0/16 blackhole;\n  route 10.2.0.0/16 unreachable;\n}\n";

/// `prog` in `PATH`, or in the sbin directories where Debian installs `birdc` (not always in a
/// non-login `PATH`).
fn find_in_path(prog: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"])
        .map(|d| std::path::Path::new(d).join(prog))
        .find(|p| p.is_file());
    found
}

#[test]
fn real_birdc() {
    let Some(birdc) = find_in_path("birdc") else {
        println!(
            "SKIP real_birdc: birdc not found in PATH (install Debian's bird2 package to run this test)"
        );
        return;
    };
    let dir = TempDir::new("bc");
    let d = Daemon::start(&dir.write("a.conf", CONF), &dir.path("a.ctl"));
    let out = Command::new(&birdc).arg("-s").arg(&d.socket).args(["show", "protocols"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Name       Proto      Table      State  Since         Info"), "{text}");
    assert!(text.contains("s1         Static     master4    up"), "{text}");
    let out =
        Command::new(&birdc).arg("-s").arg(&d.socket).args(["show", "route", "count"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("2 of 2 routes for 2 networks in table master4"), "{text}");
    // birdc -r: restricted, refusals exit non-zero.
    let out =
        Command::new(&birdc).arg("-r").arg("-s").arg(&d.socket).args(["disable", "s1"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Access denied"));
    assert!(!out.status.success());

    // Interactive, on a terminal (`script` gives birdc a pty, so it runs its readline prompt).
    if let Some(script) = find_in_path("script") {
        use std::io::Write as _;
        let cmd = format!("{} -s {}", birdc.display(), d.socket.display());
        // Bounded: `timeout` ends it if birdc ever waits for an answer that does not come.
        let mut child = Command::new("timeout")
            .arg("20")
            .arg(script)
            .args(["-qec", &cmd, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"show protocols\nshow route count\nquit\n").unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("bird> "), "no prompt: {text}");
        assert!(text.contains("s1         Static     master4    up"), "{text}");
        assert!(text.contains("2 of 2 routes for 2 networks in table master4"), "{text}");
    } else {
        println!("SKIP interactive birdc: `script` (util-linux) not found");
    }
}

#[test]
fn bundled_ctl() {
    let dir = TempDir::new("ctl");
    let d = Daemon::start(&dir.write("a.conf", CONF), &dir.path("a.ctl"));
    let ctl = |args: &[&str]| {
        let out = Command::new(BIN).arg("ctl").arg("-s").arg(&d.socket).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (st, text) = ctl(&["show", "route", "count"]);
    assert_eq!(st, Some(0));
    assert_eq!(
        text,
        format!(
            "BIRD {} ready.\n2 of 2 routes for 2 networks in table master4\n0 of 0 routes for 0 networks in table master6\nTotal: 2 of 2 routes for 2 networks in 2 tables\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let (st, text) = ctl(&["show", "route", "for", "8.8.8.8"]);
    assert_eq!(st, Some(1));
    assert!(text.ends_with("Network not found\n"), "{text}");
    let (st, text) = ctl(&["-r", "disable", "s1"]);
    assert_eq!(st, Some(1));
    assert!(text.ends_with("Access denied\n"), "{text}");

    // Interactive: commands from stdin.
    let mut child = Command::new(BIN)
        .arg("ctl")
        .arg("-s")
        .arg(&d.socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"show protocols\nshow route\nquit\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("s1         Static     master4    up"), "{text}");
    assert!(text.contains("10.2.0.0/16          unreachable [s1 "), "{text}");
}

/// The README's quick start: no `-c` (the built-in example config unless /etc/birdd/birdd.conf exists),
/// no `-s` (the per-user default socket), no `-f` (daemonizes), then `birdd ctl show protocols|route`.
#[test]
fn readme_quick_start() {
    if std::path::Path::new("/etc/birdd/birdd.conf").exists() {
        println!("SKIP readme_quick_start: /etc/birdd/birdd.conf exists (the built-in config is not used)");
        return;
    }
    let dir = TempDir::new("qs");
    let pidfile = dir.path("birdd.pid");
    // As root the default socket is /run/birdd/birdd.ctl: name the same path explicitly instead of
    // touching the system's.
    let root = rustix::process::getuid().is_root();
    let sock = dir.path("birdd.ctl");
    let run = |args: &[&str]| {
        let mut c = Command::new(BIN);
        c.env("XDG_RUNTIME_DIR", &dir.0);
        match (root, args.first()) {
            (true, Some(&"ctl")) => c.arg("ctl").arg("-s").arg(&sock).args(&args[1..]),
            (true, _) => c.arg("-s").arg(&sock).args(args),
            _ => c.args(args),
        };
        c.output().unwrap()
    };
    let out = run(&["-P", pidfile.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    struct Kill(i32);
    impl Drop for Kill {
        fn drop(&mut self) {
            if let Some(p) = rustix::process::Pid::from_raw(self.0) {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
            }
        }
    }
    let guard = Kill(pid);
    assert!(dir.path("birdd.ctl").exists());
    // Protocols start in their own loops: poll until the pipe is up and has fed lg4.
    let t = std::time::Instant::now();
    loop {
        let out = run(&["ctl", "show", "route", "table", "lg4", "count"]);
        if String::from_utf8_lossy(&out.stdout).contains("4 of 4 routes") {
            break;
        }
        assert!(t.elapsed() < common::WAIT, "lg4 never filled");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = run(&["ctl", "show", "protocols"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for p in ["static4", "static6", "p_lg4      Pipe       ---        up"] {
        assert!(text.contains(p), "{text}");
    }
    let out = run(&["ctl", "show", "route"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Table master4:") && text.contains("2001:db8:dead::/48   blackhole [static6"),
        "{text}"
    );
    let out = run(&["ctl", "show", "route", "table", "lg4"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("198.51.100.0/25") && !text.contains("unreachable"), "{text}");
    let out = run(&["ctl", "down"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Shutdown requested"));
    let t = std::time::Instant::now();
    while dir.path("birdd.ctl").exists() {
        assert!(t.elapsed() < common::WAIT, "daemon did not stop");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(guard);
}

#[test]
fn help_and_version() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Usage: birdd"));
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = Command::new(BIN).arg("-z").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}
