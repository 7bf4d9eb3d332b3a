//! The lab: private network namespaces on one shared LAN, processes killed by PID, commands bounded in
//! time, waits bounded by the scenario's deadline, logs printed when a scenario fails.
//!
//! Topology: the DUT's namespace holds a bridge `br0` (198.18.0.1/24, 2001:db8::1/64); peer `i` (1-based)
//! lives in its own namespace, linked to the bridge by a veth pair, as 198.18.0.(i+1)/24 and
//! 2001:db8::(i+1)/64. Only 198.18.0.0/15 and 2001:db8::/32 are used, and only inside these namespaces.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest a single scenario may run.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(90);
/// Default bound for one wait inside a scenario.
pub const WAIT: Duration = Duration::from_secs(30);
/// Bound for one helper command (birdc, vtysh, gobgp, ip).
pub const CMD_LIMIT: Duration = Duration::from_secs(10);

/// Scenarios run one at a time: they share the CPU and their timing matters.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Why a scenario cannot run here (not root, a tool missing), or None.
pub fn missing(tools: &[&str]) -> Option<String> {
    if !is_root() {
        return Some("needs root (network namespaces)".into());
    }
    for t in tools {
        if !Path::new(t).exists() {
            return Some(format!("{t} is not installed"));
        }
    }
    None
}

/// Runs a program with a time limit; returns (success, stdout + stderr).
pub fn run_bounded(mut cmd: Command, limit: Duration) -> (bool, String) {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let desc = format!("{cmd:?}");
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (false, format!("cannot start {desc}: {e}")),
    };
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let to = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let te = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let t = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if t.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let mut text = String::from_utf8_lossy(&to.join().unwrap_or_default()).into_owned();
    text.push_str(&String::from_utf8_lossy(&te.join().unwrap_or_default()));
    match status {
        Some(st) => (st.success(), text),
        None => (false, format!("TIMEOUT after {limit:?}: {desc}\n{text}")),
    }
}

/// `ip <args>`, which must succeed.
pub fn ip(args: &[&str]) -> String {
    let mut c = Command::new("ip");
    c.args(args);
    let (ok, out) = run_bounded(c, CMD_LIMIT);
    assert!(ok, "ip {args:?}: {out}");
    out
}

/// A command run inside namespace `ns`.
pub fn in_ns(ns: &str, prog: &str) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, prog]);
    c
}

/// A long-running process, killed by PID on drop. `ip netns exec` execs the program, so the PID is the
/// daemon's own.
pub struct Proc {
    pub name: String,
    pub child: Child,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Proc {
        let f = std::fs::File::create(log).unwrap();
        let f2 = f.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(f)
            .stderr(f2)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {cmd:?}: {e}"));
        Proc { name: name.to_owned(), child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// None while running, else how it ended.
    pub fn exited(&mut self) -> Option<String> {
        self.child.try_wait().ok().flatten().map(|s| s.to_string())
    }

    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(3) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The namespaces, the LAN and the scenario's working directory. Declare it before the daemons so that
/// they are killed (dropped) before the namespaces go.
pub struct Lab {
    pub tag: String,
    pub dir: PathBuf,
    pub dut_ns: String,
    pub peer_ns: Vec<String>,
    start: Instant,
}

pub const DUT_V4: &str = "198.18.0.1";
pub const DUT_V6: &str = "2001:db8::1";

/// Peer `i`'s (1-based) IPv4 address on the LAN.
pub fn peer_v4(i: usize) -> String {
    format!("198.18.0.{}", i + 1)
}

/// Peer `i`'s (1-based) IPv6 address on the LAN.
pub fn peer_v6(i: usize) -> String {
    format!("2001:db8::{}", i + 1)
}

impl Lab {
    /// The DUT's namespace and `peers` peer namespaces on one LAN.
    pub fn new(tag: &str, peers: usize) -> Lab {
        static N: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        // Not `/tmp/birdd-*`: birdd treats the directory of such a socket as its private default one and
        // makes it 0700, and the FRR daemons, which run as `frr`, need to reach their subdirectory.
        let dir =
            std::env::temp_dir().join(format!("netns-bgp-{tag}-{pid}-{}", N.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let base = format!("nbgp-{pid}-{tag}");
        let mut lab = Lab {
            tag: tag.to_owned(),
            dir,
            dut_ns: format!("{base}-dut"),
            peer_ns: (1..=peers).map(|i| format!("{base}-p{i}")).collect(),
            start: Instant::now(),
        };
        for ns in std::iter::once(&lab.dut_ns).chain(&lab.peer_ns) {
            let mut c = Command::new("ip");
            c.args(["netns", "del", ns]);
            let _ = run_bounded(c, CMD_LIMIT);
            ip(&["netns", "add", ns]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            let mut c = in_ns(ns, "sysctl");
            c.args(["-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"]);
            let _ = run_bounded(c, CMD_LIMIT);
        }
        let d = lab.dut_ns.clone();
        ip(&["-n", &d, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &d, "addr", "add", &format!("{DUT_V4}/24"), "dev", "br0"]);
        ip(&["-n", &d, "addr", "add", &format!("{DUT_V6}/64"), "dev", "br0", "nodad"]);
        ip(&["-n", &d, "link", "set", "br0", "up"]);
        for (i, ns) in lab.peer_ns.iter().enumerate() {
            let i = i + 1;
            let v = format!("v{i}");
            ip(&["-n", &d, "link", "add", &v, "type", "veth", "peer", "name", "eth0", "netns", ns]);
            ip(&["-n", &d, "link", "set", &v, "master", "br0"]);
            ip(&["-n", &d, "link", "set", &v, "up"]);
            ip(&["-n", ns, "addr", "add", &format!("{}/24", peer_v4(i)), "dev", "eth0"]);
            ip(&["-n", ns, "addr", "add", &format!("{}/64", peer_v6(i)), "dev", "eth0", "nodad"]);
            ip(&["-n", ns, "link", "set", "eth0", "up"]);
        }
        lab.start = Instant::now();
        lab
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Peer `i`'s (1-based) namespace.
    pub fn ns(&self, i: usize) -> &str {
        &self.peer_ns[i - 1]
    }

    fn remaining(&self) -> Duration {
        SCENARIO_LIMIT.saturating_sub(self.start.elapsed())
    }

    /// Polls `f` until it returns Ok (bounded by `limit` and by the scenario's deadline); the last Err
    /// describes what was seen when it times out.
    pub fn wait<T>(&self, what: &str, limit: Duration, mut f: impl FnMut() -> Result<T, String>) -> T {
        let t = Instant::now();
        let limit = limit.min(self.remaining());
        loop {
            match f() {
                Ok(v) => return v,
                Err(last) => {
                    if t.elapsed() >= limit {
                        panic!(
                            "[{}] timed out after {:?} waiting for {what}; last seen:\n{last}",
                            self.tag,
                            t.elapsed()
                        );
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Checks that `f` keeps returning Ok for `span`.
    pub fn hold(&self, what: &str, span: Duration, mut f: impl FnMut() -> Result<(), String>) {
        let t = Instant::now();
        while t.elapsed() < span {
            if let Err(e) = f() {
                panic!("[{}] {what} stopped holding after {:?}:\n{e}", self.tag, t.elapsed());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.peer_ns.iter().chain(std::iter::once(&self.dut_ns)) {
            let mut c = Command::new("ip");
            c.args(["netns", "del", ns]);
            let _ = run_bounded(c, CMD_LIMIT);
        }
        if std::thread::panicking() {
            // Show what the daemons said; keep the directory for a closer look.
            let mut s = String::new();
            if let Ok(rd) = std::fs::read_dir(&self.dir) {
                let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
                files.sort();
                for p in files {
                    if p.extension().is_some_and(|e| e == "log") {
                        let text = std::fs::read_to_string(&p).unwrap_or_default();
                        let lines: Vec<&str> = text.lines().collect();
                        let from = lines.len().saturating_sub(60);
                        let _ = writeln!(s, "----- {} (last {} lines)", p.display(), lines.len() - from);
                        for l in &lines[from..] {
                            let _ = writeln!(s, "{l}");
                        }
                    }
                }
            }
            eprintln!("[{}] scenario failed; files kept in {}\n{s}", self.tag, self.dir.display());
        } else if std::env::var_os("BIRDD_NETNS_KEEP").is_some() {
            eprintln!("[{}] files kept in {} (BIRDD_NETNS_KEEP)", self.tag, self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
