//! The device under test (birdd or BIRD 2, both driven through Debian's `birdc`) and the peers: BIRD 2,
//! FRR (zebra + bgpd), GoBGP and ExaBGP, each in its own namespace of the lab.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::lab::{in_ns, peer_v4, peer_v6, run_bounded, Lab, Proc, CMD_LIMIT, DUT_V4, DUT_V6};

pub const BIRD2: &str = "/usr/sbin/bird";
pub const BIRDC: &str = "/usr/sbin/birdc";
pub const FRR_BGPD: &str = "/usr/lib/frr/bgpd";
pub const FRR_ZEBRA: &str = "/usr/lib/frr/zebra";
pub const VTYSH: &str = "/usr/bin/vtysh";
pub const GOBGPD: &str = "/usr/bin/gobgpd";
pub const GOBGP: &str = "/usr/bin/gobgp";
pub const EXABGP: &str = "/usr/sbin/exabgp";

/// Timers that keep (re)connections fast, shared by the DUT's and the BIRD peers' BGP protocols.
pub const BIRD_TIMERS: &str = "connect delay time 1; connect retry time 2; error wait time 1, 4;";

/// Which daemon is under test: `BIRDD_NETNS_DUT` = `birdd` (default) or `bird2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DutKind {
    Birdd,
    Bird2,
}

impl DutKind {
    pub fn from_env() -> DutKind {
        match std::env::var("BIRDD_NETNS_DUT").as_deref() {
            Err(_) | Ok("") | Ok("birdd") => DutKind::Birdd,
            Ok("bird2") => DutKind::Bird2,
            Ok(other) => panic!("BIRDD_NETNS_DUT={other}: expected `birdd` or `bird2`"),
        }
    }

    pub fn binary(self) -> &'static str {
        match self {
            DutKind::Birdd => env!("CARGO_BIN_EXE_birdd"),
            DutKind::Bird2 => BIRD2,
        }
    }
}

/// One route as a router holds it: its AS path (ASNs separated by single spaces) and next hop(s).
#[derive(Clone, Debug, Default)]
pub struct RouteInfo {
    pub as_path: String,
    pub next_hop: String,
    /// The implementation's own text, for assertion messages.
    pub raw: String,
}

impl RouteInfo {
    /// A BIRD attribute line of `show route all` (`BGP.originator_id`, ...): its value.
    pub fn bird_attr(&self, name: &str) -> Option<String> {
        let key = format!("{name}:");
        self.raw.lines().find_map(|l| l.trim().strip_prefix(key.as_str())).map(|s| s.trim().to_owned())
    }

    /// One of the listed next hops is `addr`.
    pub fn next_hop_is(&self, addr: &str) -> bool {
        self.next_hop.split_whitespace().any(|a| a == addr)
    }
}

/// A BIRD process (the DUT, or a BIRD 2 peer) with its control socket.
pub struct Bird {
    pub name: String,
    pub conf: PathBuf,
    pub sock: PathBuf,
    proc: Proc,
}

impl Bird {
    pub fn start(lab: &Lab, ns: &str, name: &str, bin: &str, conf: &str) -> Bird {
        let conf_path = lab.write(&format!("{name}.conf"), conf);
        let sock = lab.path(&format!("{name}.ctl"));
        let mut cmd = in_ns(ns, bin);
        cmd.arg("-f").arg("-c").arg(&conf_path).arg("-s").arg(&sock);
        let proc = Proc::spawn(name, cmd, &lab.path(&format!("{name}.log")));
        let mut b = Bird { name: name.to_owned(), conf: conf_path, sock, proc };
        lab.wait(&format!("{name} to answer on its socket"), Duration::from_secs(15), || {
            if let Some(st) = b.proc.exited() {
                panic!("{name} ({bin}) exited early: {st}; see {}/{name}.log", lab.dir.display());
            }
            let r = b.birdc("show status");
            if r.contains("Daemon is up") || r.contains("Router ID") {
                Ok(())
            } else {
                Err(r)
            }
        });
        b
    }

    pub fn alive(&mut self) -> Result<(), String> {
        match self.proc.exited() {
            None => Ok(()),
            Some(st) => Err(format!("{} exited: {st}", self.name)),
        }
    }

    /// `birdc -s <sock> <command>`: the reply text.
    pub fn birdc(&self, command: &str) -> String {
        let mut c = Command::new(BIRDC);
        c.arg("-s").arg(&self.sock).args(command.split_whitespace());
        run_bounded(c, CMD_LIMIT).1
    }

    /// Rewrites the configuration file and runs `configure`.
    pub fn reconfigure(&self, conf: &str) -> String {
        std::fs::write(&self.conf, conf).unwrap();
        self.birdc("configure")
    }

    /// The `BGP state:` of protocol `proto` (`show protocols all`).
    pub fn bgp_state(&self, proto: &str) -> (String, String) {
        let r = self.birdc(&format!("show protocols all {proto}"));
        let st = r
            .lines()
            .find_map(|l| l.trim().strip_prefix("BGP state:"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        (st, r)
    }

    pub fn established(&self, proto: &str) -> Result<(), String> {
        let (st, r) = self.bgp_state(proto);
        if st == "Established" {
            Ok(())
        } else {
            Err(r)
        }
    }

    /// The "since" column of `show protocols <proto>`.
    pub fn since(&self, proto: &str) -> String {
        let r = self.birdc(&format!("show protocols {proto}"));
        r.lines()
            .find(|l| l.split_whitespace().next() == Some(proto))
            .map(|l| l.split_whitespace().skip(4).take(2).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    /// The prefixes `show route <filter>` lists.
    pub fn prefixes(&self, filter: &str) -> (Vec<String>, String) {
        let r = self.birdc(&format!("show route {filter}"));
        let mut v: Vec<String> = r
            .lines()
            .filter(|l| !l.starts_with(char::is_whitespace))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.contains('/') && (w.contains('.') || w.contains(':')))
            .map(str::to_owned)
            .collect();
        v.sort();
        v.dedup();
        (v, r)
    }

    /// `show route all <prefix>`: Ok with the best route's attributes, Err(reply) when absent.
    pub fn route(&self, prefix: &str) -> Result<RouteInfo, String> {
        let r = self.birdc(&format!("show route all {prefix}"));
        if !r.lines().any(|l| l.starts_with(prefix)) {
            return Err(r);
        }
        let attr = |name: &str| {
            r.lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let mut next_hop = attr("BGP.next_hop:");
        if next_hop.is_empty() {
            next_hop = r
                .lines()
                .find_map(|l| l.trim().strip_prefix("via "))
                .and_then(|s| s.split_whitespace().next())
                .unwrap_or_default()
                .to_owned();
        }
        Ok(RouteInfo { as_path: attr("BGP.as_path:"), next_hop, raw: r })
    }
}

/// What a peer is: where it sits on the LAN, its AS, and what it originates.
#[derive(Clone, Debug)]
pub struct PeerSpec {
    /// 1-based LAN index: the peer is 198.18.0.(idx+1) and 2001:db8::(idx+1).
    pub idx: usize,
    pub asn: u32,
    pub dut_asn: u32,
    pub v4_routes: Vec<String>,
    pub v6_routes: Vec<String>,
    /// Also a session over IPv6 carrying the ipv6 channel.
    pub v6_session: bool,
}

impl PeerSpec {
    pub fn v4(&self) -> String {
        peer_v4(self.idx)
    }
    pub fn v6(&self) -> String {
        peer_v6(self.idx)
    }
    pub fn ibgp(&self) -> bool {
        self.asn == self.dut_asn
    }
}

/// What the scenarios need from any peer implementation.
pub trait Peer {
    fn label(&self) -> String;
    /// Its session to the DUT (over IPv6 when `v6`) is Established.
    fn session_up(&self, v6: bool) -> Result<(), String>;
    /// The route for `prefix` in its RIB, or Err(what it shows).
    fn route(&self, prefix: &str) -> Result<RouteInfo, String>;
    /// Stops originating `prefix`.
    fn withdraw(&self, prefix: &str);
    /// Resets its session(s) to the DUT.
    fn reset(&self);
    /// The daemon is still running.
    fn alive(&mut self) -> Result<(), String>;
}

fn is_v6(prefix: &str) -> bool {
    prefix.contains(':')
}

// ---------------------------------------------------------------------------------------------------------
// BIRD 2

pub struct Bird2Peer {
    pub spec: PeerSpec,
    pub bird: Bird,
}

impl Bird2Peer {
    /// Protocol names: `dut4` / `dut6` for the sessions, `r<n>` for the static route number n (one
    /// static protocol per route, so that `disable r<n>` withdraws it).
    pub fn config(spec: &PeerSpec, extra_channel: &str) -> String {
        let mut s =
            format!("router id {};\nlog stderr all;\nprotocol device {{ scan time 1; }}\n", spec.v4());
        for (n, p) in spec.v4_routes.iter().chain(&spec.v6_routes).enumerate() {
            let af = if is_v6(p) { "ipv6" } else { "ipv4" };
            let _ = writeln!(s, "protocol static r{n} {{ {af}; route {p} blackhole; }}");
        }
        // iBGP on the LAN: a direct session, next hops resolved on the interface (no IGP here).
        let (ibgp, gw) = if spec.ibgp() { ("direct;", "gateway direct;") } else { ("", "") };
        let _ = writeln!(
            s,
            "protocol bgp dut4 {{\n  local {} as {};\n  neighbor {DUT_V4} as {};\n  {BIRD_TIMERS}\n  {ibgp}\n  \
             ipv4 {{ import all; export all; {gw} {extra_channel} }};\n}}",
            spec.v4(),
            spec.asn,
            spec.dut_asn
        );
        if spec.v6_session {
            let _ = writeln!(
                s,
                "protocol bgp dut6 {{\n  local {} as {};\n  neighbor {DUT_V6} as {};\n  {BIRD_TIMERS}\n  {ibgp}\n  \
                 ipv6 {{ import all; export all; {gw} {extra_channel} }};\n}}",
                spec.v6(),
                spec.asn,
                spec.dut_asn
            );
        }
        s
    }

    pub fn start(lab: &Lab, spec: PeerSpec) -> Bird2Peer {
        let conf = Self::config(&spec, "");
        Self::start_with(lab, spec, &conf)
    }

    pub fn start_with(lab: &Lab, spec: PeerSpec, conf: &str) -> Bird2Peer {
        let bird = Bird::start(lab, lab.ns(spec.idx), &format!("bird2-p{}", spec.idx), BIRD2, conf);
        Bird2Peer { spec, bird }
    }

    fn static_of(&self, prefix: &str) -> String {
        let n = self.spec.v4_routes.iter().chain(&self.spec.v6_routes).position(|p| p == prefix);
        format!("r{}", n.unwrap_or_else(|| panic!("{prefix} is not one of this peer's routes")))
    }
}

impl Peer for Bird2Peer {
    fn label(&self) -> String {
        format!("BIRD 2 peer p{} (AS{})", self.spec.idx, self.spec.asn)
    }
    fn session_up(&self, v6: bool) -> Result<(), String> {
        self.bird.established(if v6 { "dut6" } else { "dut4" })
    }
    fn route(&self, prefix: &str) -> Result<RouteInfo, String> {
        self.bird.route(prefix)
    }
    fn withdraw(&self, prefix: &str) {
        let r = self.bird.birdc(&format!("disable {}", self.static_of(prefix)));
        assert!(r.contains("disabled"), "{}: disable: {r}", self.label());
    }
    fn reset(&self) {
        let mut protos = vec!["dut4"];
        if self.spec.v6_session {
            protos.push("dut6");
        }
        for p in protos {
            let r = self.bird.birdc(&format!("restart {p}"));
            assert!(r.contains("restarted"), "{}: restart {p}: {r}", self.label());
        }
    }
    fn alive(&mut self) -> Result<(), String> {
        self.bird.alive()
    }
}

// ---------------------------------------------------------------------------------------------------------
// FRR: zebra (for the interfaces: bgpd needs them to accept IPv6 link-local next hops) and bgpd with
// `-n` (nothing reaches the namespace's kernel tables).

pub struct FrrPeer {
    pub spec: PeerSpec,
    vty: PathBuf,
    proc: Proc,
    zebra: Proc,
}

impl FrrPeer {
    pub fn config(spec: &PeerSpec) -> String {
        let mut s = format!(
            "hostname frr-p{idx}\n!\nrouter bgp {asn}\n bgp router-id {id}\n no bgp ebgp-requires-policy\n \
             no bgp default ipv4-unicast\n no bgp network import-check\n \
             neighbor {DUT_V4} remote-as {dut}\n neighbor {DUT_V4} timers connect 2\n \
             no neighbor {DUT_V4} enforce-first-as\n",
            idx = spec.idx,
            asn = spec.asn,
            id = spec.v4(),
            dut = spec.dut_asn
        );
        if spec.v6_session {
            let _ = writeln!(
                s,
                " neighbor {DUT_V6} remote-as {}\n neighbor {DUT_V6} timers connect 2\n \
                 no neighbor {DUT_V6} enforce-first-as",
                spec.dut_asn
            );
        }
        s.push_str(" address-family ipv4 unicast\n");
        for p in &spec.v4_routes {
            let _ = writeln!(s, "  network {p}");
        }
        let _ = writeln!(s, "  neighbor {DUT_V4} activate\n exit-address-family");
        if spec.v6_session {
            s.push_str(" address-family ipv6 unicast\n");
            for p in &spec.v6_routes {
                let _ = writeln!(s, "  network {p}");
            }
            let _ = writeln!(s, "  neighbor {DUT_V6} activate\n exit-address-family");
        }
        s.push_str("!\n");
        s
    }

    pub fn start(lab: &Lab, spec: PeerSpec) -> FrrPeer {
        let name = format!("frr-p{}", spec.idx);
        // The daemons drop to the `frr` user: their sockets and pid files live in a directory it owns.
        let dir = lab.path(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = Command::new("chown");
        c.arg("frr:frr").arg(&dir);
        let (ok, out) = run_bounded(c, CMD_LIMIT);
        assert!(ok, "chown frr:frr {}: {out}", dir.display());
        let conf = lab.write(&format!("{name}.conf"), &Self::config(&spec));
        let zconf = lab.write(&format!("{name}-zebra.conf"), &format!("hostname frr-p{}\n", spec.idx));
        let vty = dir.clone();
        let zserv = dir.join("zserv.api");
        let daemon = |prog: &str, conf: &std::path::Path, tag: &str, extra: &[&str]| {
            let mut cmd = in_ns(lab.ns(spec.idx), prog);
            cmd.arg("-f")
                .arg(conf)
                .arg("-i")
                .arg(dir.join(format!("{tag}.pid")))
                .arg("-z")
                .arg(&zserv)
                .arg("--vty_socket")
                .arg(&vty)
                .args(["-P", "0", "--log", "stdout"])
                .args(extra);
            Proc::spawn(&format!("{name}-{tag}"), cmd, &lab.path(&format!("{name}-{tag}.log")))
        };
        let zebra = daemon(FRR_ZEBRA, &zconf, "zebra", &[]);
        lab.wait("zebra's socket", Duration::from_secs(15), || {
            if zserv.exists() {
                Ok(())
            } else {
                Err(format!("no {}", zserv.display()))
            }
        });
        let proc = daemon(FRR_BGPD, &conf, "bgpd", &["-n", "--log-level", "debug"]);
        let mut p = FrrPeer { spec, vty, proc, zebra };
        lab.wait(&format!("{name} to answer vtysh"), Duration::from_secs(15), || {
            p.alive()?;
            let r = p.vtysh(&["show bgp summary"]);
            if r.contains("BGP router identifier") || r.contains("IPv4 Unicast Summary") {
                Ok(())
            } else {
                Err(r)
            }
        });
        p
    }

    pub fn vtysh(&self, cmds: &[&str]) -> String {
        let mut c = Command::new(VTYSH);
        c.arg("--vty_socket").arg(&self.vty).args(["-d", "bgpd"]);
        for x in cmds {
            c.args(["-c", x]);
        }
        run_bounded(c, CMD_LIMIT).1
    }

    fn neighbors(&self) -> Vec<&'static str> {
        if self.spec.v6_session {
            vec![DUT_V4, DUT_V6]
        } else {
            vec![DUT_V4]
        }
    }
}

/// The string value of the first `"key":"..."` after `after` in a JSON text.
fn json_str_after(text: &str, after: &str, key: &str) -> Option<String> {
    let at = text.find(after)?;
    let rest = &text[at..];
    let k = format!("\"{key}\":\"");
    let i = rest.find(&k)? + k.len();
    let end = rest[i..].find('"')?;
    Some(rest[i..i + end].to_owned())
}

impl Peer for FrrPeer {
    fn label(&self) -> String {
        format!("FRR peer p{} (AS{})", self.spec.idx, self.spec.asn)
    }
    fn session_up(&self, v6: bool) -> Result<(), String> {
        let n = if v6 { DUT_V6 } else { DUT_V4 };
        let r = self.vtysh(&[&format!("show bgp neighbors {n} json")]);
        if r.contains("\"bgpState\":\"Established\"") {
            Ok(())
        } else {
            Err(r)
        }
    }
    fn route(&self, prefix: &str) -> Result<RouteInfo, String> {
        let af = if is_v6(prefix) { "ipv6" } else { "ipv4" };
        let r = self.vtysh(&[&format!("show bgp {af} unicast {prefix} json")]);
        let r: String = r.chars().filter(|c| !c.is_whitespace()).collect();
        if !r.contains("\"paths\":[{") {
            return Err(r);
        }
        let as_path = json_str_after(&r, "\"aspath\"", "string").unwrap_or_default();
        let mut next_hop = String::new();
        let mut rest = &r[r.find("\"nexthops\"").unwrap_or(r.len())..];
        while let Some(i) = rest.find("\"ip\":\"") {
            let s = &rest[i + 6..];
            let end = s.find('"').unwrap_or(0);
            next_hop.push_str(&s[..end]);
            next_hop.push(' ');
            rest = &s[end..];
        }
        Ok(RouteInfo { as_path: as_path.replace("Local", "").trim().to_owned(), next_hop, raw: r })
    }
    fn withdraw(&self, prefix: &str) {
        let af = if is_v6(prefix) { "ipv6" } else { "ipv4" };
        let asn = format!("router bgp {}", self.spec.asn);
        let afc = format!("address-family {af} unicast");
        let no = format!("no network {prefix}");
        let r = self.vtysh(&["configure terminal", &asn, &afc, &no]);
        assert!(!r.contains('%'), "{}: {no}: {r}", self.label());
    }
    fn reset(&self) {
        for n in self.neighbors() {
            let r = self.vtysh(&[&format!("clear bgp {n}")]);
            assert!(!r.contains('%'), "{}: clear bgp {n}: {r}", self.label());
        }
    }
    fn alive(&mut self) -> Result<(), String> {
        if let Some(st) = self.zebra.exited() {
            return Err(format!("{}: zebra exited: {st}", self.label()));
        }
        match self.proc.exited() {
            None => Ok(()),
            Some(st) => Err(format!("{} exited: {st}", self.label())),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// GoBGP

pub struct GobgpPeer {
    pub spec: PeerSpec,
    ns: String,
    proc: Proc,
}

const GOBGP_API: &str = "127.0.0.1";
const GOBGP_PORT: &str = "50051";

impl GobgpPeer {
    pub fn config(spec: &PeerSpec) -> String {
        let mut s = format!(
            "[global.config]\n  as = {}\n  router-id = \"{}\"\n  local-address-list = [\"{}\", \"{}\"]\n",
            spec.asn,
            spec.v4(),
            spec.v4(),
            spec.v6()
        );
        let mut nb = |addr: &str, local: &str, afi: &str| {
            let _ = write!(
                s,
                "\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{addr}\"\n    peer-as = {}\n  \
                 [neighbors.transport.config]\n    local-address = \"{local}\"\n  [neighbors.timers.config]\n    \
                 connect-retry = 2\n  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      \
                 afi-safi-name = \"{afi}\"\n",
                spec.dut_asn
            );
        };
        nb(DUT_V4, &spec.v4(), "ipv4-unicast");
        if spec.v6_session {
            nb(DUT_V6, &spec.v6(), "ipv6-unicast");
        }
        s
    }

    pub fn start(lab: &Lab, spec: PeerSpec) -> GobgpPeer {
        let name = format!("gobgp-p{}", spec.idx);
        let conf = lab.write(&format!("{name}.toml"), &Self::config(&spec));
        let ns = lab.ns(spec.idx).to_owned();
        let mut cmd = in_ns(&ns, GOBGPD);
        cmd.arg("-f").arg(&conf).args([
            "-t",
            "toml",
            "-p",
            "--pprof-disable",
            &format!("--api-hosts={GOBGP_API}:{GOBGP_PORT}"),
        ]);
        let proc = Proc::spawn(&name, cmd, &lab.path(&format!("{name}.log")));
        let mut p = GobgpPeer { spec, ns, proc };
        lab.wait(&format!("{name} to answer gobgp"), Duration::from_secs(15), || {
            p.alive()?;
            let (ok, r) = p.gobgp(&["global"]);
            if ok && r.contains("AS:") {
                Ok(())
            } else {
                Err(r)
            }
        });
        let routes: Vec<String> = p.spec.v4_routes.iter().chain(&p.spec.v6_routes).cloned().collect();
        for r in routes {
            let af = if is_v6(&r) { "ipv6" } else { "ipv4" };
            let (ok, out) = p.gobgp(&["global", "rib", "add", "-a", af, &r]);
            assert!(ok, "gobgp global rib add {r}: {out}");
        }
        p
    }

    pub fn gobgp(&self, args: &[&str]) -> (bool, String) {
        let mut c = in_ns(&self.ns, GOBGP);
        c.args(["-u", GOBGP_API, "-p", GOBGP_PORT]).args(args);
        run_bounded(c, CMD_LIMIT)
    }
}

impl Peer for GobgpPeer {
    fn label(&self) -> String {
        format!("GoBGP peer p{} (AS{})", self.spec.idx, self.spec.asn)
    }
    fn session_up(&self, v6: bool) -> Result<(), String> {
        let (_, r) = self.gobgp(&["neighbor", if v6 { DUT_V6 } else { DUT_V4 }]);
        if r.to_ascii_lowercase().contains("bgp state = established") {
            Ok(())
        } else {
            Err(r)
        }
    }
    fn route(&self, prefix: &str) -> Result<RouteInfo, String> {
        let af = if is_v6(prefix) { "ipv6" } else { "ipv4" };
        let (_, r) = self.gobgp(&["global", "rib", "-a", af, prefix, "-j"]);
        let r: String = r.chars().filter(|c| !c.is_whitespace()).collect();
        if !r.contains(&format!("\"{prefix}\"")) || !r.contains("\"nlri\"") {
            return Err(r);
        }
        let as_path = r
            .find("\"asns\":[")
            .map(|i| {
                let s = &r[i + 8..];
                s[..s.find(']').unwrap_or(0)].replace(',', " ")
            })
            .unwrap_or_default();
        let next_hop = json_str_after(&r, "\"attrs\"", "nexthop").unwrap_or_default();
        Ok(RouteInfo { as_path, next_hop, raw: r })
    }
    fn withdraw(&self, prefix: &str) {
        let af = if is_v6(prefix) { "ipv6" } else { "ipv4" };
        let (ok, r) = self.gobgp(&["global", "rib", "del", "-a", af, prefix]);
        assert!(ok, "{}: rib del {prefix}: {r}", self.label());
    }
    fn reset(&self) {
        let mut ns = vec![DUT_V4];
        if self.spec.v6_session {
            ns.push(DUT_V6);
        }
        // `neighbor reset` waits 30 s (idle hold after reset) before reconnecting: disable and enable.
        for op in ["disable", "enable"] {
            for n in &ns {
                let (ok, r) = self.gobgp(&["neighbor", n, op]);
                assert!(ok, "{}: neighbor {n} {op}: {r}", self.label());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    fn alive(&mut self) -> Result<(), String> {
        match self.proc.exited() {
            None => Ok(()),
            Some(st) => Err(format!("{} exited: {st}", self.label())),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// ExaBGP: announces the static routes of its configuration (raw attributes included) and otherwise
// only logs; used to send what well-behaved speakers never send.

pub struct ExabgpPeer {
    pub spec: PeerSpec,
    proc: Proc,
    pub log: PathBuf,
}

impl ExabgpPeer {
    /// `routes`: exabgp `static` route lines (without `route` and the final `;`).
    pub fn start(lab: &Lab, spec: PeerSpec, routes: &[String]) -> ExabgpPeer {
        let name = format!("exabgp-p{}", spec.idx);
        let mut conf = format!(
            "neighbor {DUT_V4} {{\n  router-id {id};\n  local-address {id};\n  local-as {asn};\n  peer-as {dut};\n  \
             hold-time 30;\n  family {{ ipv4 unicast; }}\n  static {{\n",
            id = spec.v4(),
            asn = spec.asn,
            dut = spec.dut_asn
        );
        for r in routes {
            let _ = writeln!(conf, "    route {r};");
        }
        conf.push_str("  }\n}\n");
        let conf = lab.write(&format!("{name}.conf"), &conf);
        let mut cmd = in_ns(lab.ns(spec.idx), EXABGP);
        cmd.arg(&conf)
            .env("exabgp_daemon_user", "root")
            .env("exabgp_daemon_daemonize", "false")
            .env("exabgp_daemon_pid", "")
            .env("exabgp_api_cli", "false")
            .env("exabgp_log_destination", "stdout")
            .env("exabgp_log_level", "DEBUG")
            .env("exabgp_log_packets", "true")
            .env("exabgp_log_routes", "true")
            .env("exabgp_log_message", "true")
            .env("exabgp_tcp_bind", "")
            .env("exabgp_bgp_openwait", "10");
        let log = lab.path(&format!("{name}.log"));
        let proc = Proc::spawn(&name, cmd, &log);
        ExabgpPeer { spec, proc, log }
    }

    pub fn alive(&mut self) -> Result<(), String> {
        match self.proc.exited() {
            None => Ok(()),
            Some(st) => Err(format!("exabgp exited: {st}")),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
