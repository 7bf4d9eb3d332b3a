//! Root-only end-to-end scenario in a private network namespace (run by `cargo xtask netns-test`):
//! device, direct, static and kernel protocols against the real kernel. Only 198.18.0.0/15 and
//! 2001:db8::/32 are used, and only inside the namespace; the host's routes are never touched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, BIN};
use rustix::process::{kill_process, Pid, Signal};

const LIMIT: Duration = Duration::from_secs(20);

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn run(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("birdd-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).stderr(Stdio::null()).status();
        run(&["netns", "add", &name]);
        let ns = Netns(name);
        let n = ns.0.as_str();
        run(&["-n", n, "link", "set", "lo", "up"]);
        run(&["-n", n, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1"]);
        run(&["-n", n, "addr", "add", "198.18.0.1/24", "dev", "veth0"]);
        run(&["-n", n, "addr", "add", "2001:db8:1::1/64", "dev", "veth0", "nodad"]);
        run(&["-n", n, "link", "set", "veth0", "up"]);
        run(&["-n", n, "link", "set", "veth1", "up"]);
        ns
    }

    /// `ip route show table 100` (empty while the table does not exist).
    fn table100(&self) -> String {
        let out = Command::new("ip").args(["-n", &self.0, "route", "show", "table", "100"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// birdd inside the namespace, killed by PID on drop.
struct Birdd(Child);

impl Drop for Birdd {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> Option<String>) -> String {
    let t = Instant::now();
    loop {
        if let Some(s) = f() {
            return s;
        }
        assert!(t.elapsed() < LIMIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ctl(sock: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(BIN).arg("ctl").arg("-s").arg(sock).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs root; run by cargo xtask netns-test"]
fn kernel_device_direct_static_in_netns() {
    if !is_root() {
        eprintln!("SKIP: kernel_device_direct_static_in_netns needs root");
        return;
    }
    let dir = TempDir::new("netns");
    let text = |extra_route: &str, kernel_extra: &str| {
        format!(
            "log stderr all;\n\
             protocol device {{ scan time 1; }}\n\
             protocol direct {{ interface \"veth0\"; ipv4; ipv6; }}\n\
             protocol static {{ ipv4;\n\
               route 198.18.10.0/24 via 198.18.0.2;\n\
               route 198.18.11.0/24 via 198.18.0.2;\n\
               route 198.18.12.0/24 via 2001:db8:1::2;\n\
               {extra_route}\n\
             }}\n\
             protocol kernel {{ kernel table 100; {kernel_extra} ipv4 {{ export all; }}; }}\n"
        )
    };
    let conf = dir.write("bird.conf", &text("", ""));
    let sock = dir.path("bird.ctl");
    let ns = Netns::new();
    let mut d = Birdd(
        Command::new("ip")
            .args(["netns", "exec", &ns.0, BIN, "-f", "-c"])
            .arg(&conf)
            .arg("-s")
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path("birdd.log")).unwrap())
            .spawn()
            .unwrap(),
    );

    // The static routes (and the direct one, also exported) reach kernel table 100.
    let routes = wait_for("routes in table 100", || {
        let t = ns.table100();
        (t.contains("198.18.10.0/24 via 198.18.0.2 dev veth0")
            && t.contains("198.18.11.0/24 via 198.18.0.2 dev veth0")
            && t.contains("198.18.12.0/24 via inet6 2001:db8:1::2 dev veth0"))
        .then_some(t)
    });
    assert!(routes.contains("proto bird"), "{routes}");

    let ifs = wait_for("show interfaces", || {
        let s = ctl(&sock, &["show", "interfaces"]);
        (s.contains("veth0 up") && s.contains("2001:db8:1::1/64")).then_some(s)
    });
    assert!(ifs.contains("198.18.0.1/24 (Preferred, scope univ)"), "{ifs}");
    assert!(ifs.contains("2001:db8:1::1/64 (Preferred, scope univ)"), "{ifs}");
    let summary = ctl(&sock, &["show", "interfaces", "summary"]);
    assert!(summary.contains("veth0") && summary.contains("198.18.0.1/24"), "{summary}");

    let rt = wait_for("direct routes", || {
        let s = ctl(&sock, &["show", "route"]);
        (s.contains("198.18.0.0/24") && s.contains("2001:db8:1::/64")).then_some(s)
    });
    assert!(rt.contains("198.18.10.0/24"), "{rt}");
    // No router id configured: taken from the interfaces.
    let st = ctl(&sock, &["show", "status"]);
    assert!(st.contains("Router ID is 198.18.0.1"), "{st}");

    // Reconfiguration: unchanged protocols stay untouched; a new static route reaches the kernel; a changed
    // kernel metric rewrites the routes.
    let since = |name: &str| {
        let s = ctl(&sock, &["show", "protocols", name]);
        s.lines().find(|l| l.contains(name)).map(|l| l.split_whitespace().nth(4).unwrap_or("").to_owned())
    };
    let (k0, dev0) = (since("kernel1"), since("device1"));
    assert!(k0.is_some() && dev0.is_some());
    std::thread::sleep(Duration::from_millis(1100));
    dir.write("bird.conf", &text("route 198.18.13.0/24 via 198.18.0.2;", ""));
    let r = ctl(&sock, &["configure"]);
    assert!(r.contains("Reconfigured"), "{r}");
    wait_for("new static route in table 100", || {
        let t = ns.table100();
        t.contains("198.18.13.0/24 via 198.18.0.2 dev veth0").then_some(t)
    });
    assert_eq!(since("kernel1"), k0);
    assert_eq!(since("device1"), dev0);
    dir.write("bird.conf", &text("route 198.18.13.0/24 via 198.18.0.2;", "metric 64;"));
    let r = ctl(&sock, &["configure"]);
    assert!(r.contains("Reconfigured"), "{r}");
    wait_for("metric 64 in table 100", || {
        let t = ns.table100();
        (t.contains("198.18.10.0/24 via 198.18.0.2 dev veth0 proto bird metric 64")
            && t.contains("198.18.13.0/24 via 198.18.0.2 dev veth0 proto bird metric 64")
            && !t.contains("metric 32"))
        .then_some(t)
    });
    assert_eq!(since("device1"), dev0);

    let pid = Pid::from_child(&d.0);
    kill_process(pid, Signal::TERM).unwrap();
    wait_for("birdd to exit", || d.0.try_wait().unwrap().map(|s| format!("{s}")));
    let t = ns.table100();
    assert!(
        !t.contains("198.18.10.0/24") && !t.contains("198.18.12.0/24") && !t.contains("198.18.13.0/24"),
        "left in table 100: {t}"
    );
}
