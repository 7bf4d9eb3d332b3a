//! The daemon's running state: tables, protocol instances (birdproto, one loop each), the active
//! configuration, and how a new configuration is applied.
//!
//! ```text
//!   configure ──► config::load ──► Err ──► keep running config, 8002 file:line:col msg
//!                      │
//!                      ▼ Ok
//!   Runtime::apply:  new tables created ─► removed protocols shut down ─► kept ones reconfigured
//!                    (birdproto: Same / Applied in place / NeedsRestart → shut down + spawn again)
//!                    ─► new ones spawned ─► removed tables dropped
//! ```
//!
//! `configure undo` goes back to the configuration before the active one (kept in [`Undo`]); a
//! `configure timeout N` arms [`Undo::deadline`], which the CLI server turns into a main-loop timer.
//!
//! Protocols spawned by a `neighbor range` (dynamic BGP, [`crate::dynamic`]) are entries with a
//! [`ProtoEntry::parent`], after the configured ones: [`Runtime::run_dynamic`] adds and removes them,
//! and `apply` keeps them only while their range protocol is unchanged.
//!
//! Everything here runs in the main loop, one command at a time; protocol state changes happen in the
//! protocols' loops and are read back through their published [`birdproto::published::ProtoState`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use birdcli::WallTime;
use birdconf::ast::Config;
use birdevent::{Callback, Event, EventList};
use birdloop::{ThreadGroup, Time};
use birdproto::{ProtoHandle, ProtoRegistry, Reconfigured, ReloadDir};
use birdtable::{Table, TableConfig};

use crate::config::{proto_fingerprint, Loaded};
use crate::dynamic::{DynQueue, Req};
use crate::protocols::{needs_krt, proto_config, Krt};

/// The current wall-clock time.
pub fn now() -> WallTime {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    WallTime::from_unix(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_micros())
}

/// The wall-clock time of a loop-clock instant.
pub fn wall_of(t: Time) -> WallTime {
    let back = Time::now_monotonic().saturating_since(t);
    let n = now();
    let us = i64::try_from(back.as_micros()).unwrap_or(i64::MAX);
    let total = n.secs() * 1_000_000 + i64::from(n.subsec_micros()) - us;
    WallTime::from_unix(total.div_euclid(1_000_000), total.rem_euclid(1_000_000) as u32)
}

/// Waits for protocols to reach DOWN after [`Runtime::begin_shutdown`].
#[derive(Debug)]
pub struct ShutdownWait(Arc<AtomicUsize>);

impl ShutdownWait {
    /// Waits up to `limit`; returns whether every protocol finished.
    pub fn wait(&self, limit: Duration) -> bool {
        let t = Instant::now();
        while self.0.load(Ordering::Acquire) > 0 {
            if t.elapsed() >= limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

/// What `configure undo`, `configure confirm` and the undo timer work with (BIRD's semantics: every
/// applied configuration makes the one before it available for one undo; a new configuration without
/// `timeout` cancels a pending automatic undo).
#[derive(Debug, Default)]
pub struct Undo {
    /// The configuration before the active one.
    pub previous: Option<Loaded>,
    /// Whether `configure undo` may go back to it (cleared by an undo).
    pub available: bool,
    /// When the active, unconfirmed configuration is undone automatically.
    pub deadline: Option<Instant>,
    /// Set whenever `deadline` changes; the CLI server then re-arms (or stops) its timer.
    pub timer_changed: bool,
}

impl Undo {
    /// Arms (`Some`) or cancels the automatic undo.
    pub fn set_deadline(&mut self, after: Option<Duration>) {
        self.deadline = after.map(|d| Instant::now() + d);
        self.timer_changed = true;
    }

    /// Time left before the automatic undo.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|t| t.saturating_duration_since(Instant::now()))
    }
}

/// A running protocol.
#[derive(Debug)]
pub struct ProtoEntry {
    /// Its configuration.
    pub cfg: birdconf::ast::ProtocolConfig,
    /// Fingerprint (see [`crate::config::proto_fingerprint`]).
    pub fingerprint: String,
    /// The instance.
    pub handle: ProtoHandle,
    /// `disable`/`enable` given on the CLI and not yet visible in the published state.
    pub want_disabled: Option<bool>,
    /// For a protocol spawned by a `neighbor range` protocol (dynamic BGP): that protocol's name.
    /// Such an entry is not in the configuration; `cfg` is the parent's with the peer as neighbour.
    pub parent: Option<String>,
}

/// Running state.
#[derive(Debug)]
pub struct Runtime {
    /// Group running the tables' and protocols' loops.
    pub group: ThreadGroup,
    /// Active configuration.
    pub config: Arc<Config>,
    /// Its compiled filters.
    pub program: Arc<birdfilter::Program>,
    /// Tables by name.
    pub tables: HashMap<String, Table>,
    /// Table names in configuration order.
    pub table_order: Vec<String>,
    /// Protocol instances.
    pub registry: ProtoRegistry,
    /// Protocols in configuration order.
    pub protos: Vec<ProtoEntry>,
    /// Start of the daemon.
    pub boot: WallTime,
    /// Last (re)configuration.
    pub last_reconfig: WallTime,
    /// Where shutdown callbacks are delivered (the main loop).
    pub events: Option<Arc<EventList>>,
    /// Protocols still shutting down.
    pending: Arc<AtomicUsize>,
    /// Handles of protocols shutting down (an instance must stay referenced until it is DOWN).
    dying: Vec<ProtoHandle>,
    /// Netlink and the interface list, once a configuration had a kernel, device or direct protocol.
    pub krt: Option<Krt>,
    /// The previous configuration and the undo timer.
    pub undo: Undo,
    /// Configured thread groups other than the default one (`thread group NAME { ... }`), by name.
    pub groups: HashMap<String, ThreadGroup>,
    /// Dynamic BGP requests for the main loop (see [`crate::dynamic`]).
    pub dynamic: Arc<DynQueue>,
    /// Number of the last spawned protocol (`dynbgpN`).
    dyn_counter: u64,
}

impl Runtime {
    /// Builds tables and starts protocols of a checked configuration.
    pub fn new(loaded: Loaded, group: ThreadGroup) -> Runtime {
        let t = now();
        let mut rt = Runtime {
            registry: ProtoRegistry::new(&group),
            group,
            config: Arc::new(Config::default()),
            program: Arc::clone(&loaded.program),
            tables: HashMap::new(),
            table_order: Vec::new(),
            protos: Vec::new(),
            boot: t,
            last_reconfig: t,
            events: None,
            pending: Arc::new(AtomicUsize::new(0)),
            dying: Vec::new(),
            krt: None,
            undo: Undo::default(),
            groups: HashMap::new(),
            dynamic: DynQueue::new(),
            dyn_counter: 0,
        };
        rt.apply(loaded);
        // Nothing to go back to from the first configuration.
        rt.undo = Undo::default();
        rt
    }

    fn done_callback(&self) -> Callback {
        let pending = Arc::clone(&self.pending);
        pending.fetch_add(1, Ordering::AcqRel);
        let ev = Event::new("protocol shut down", move || {
            pending.fetch_sub(1, Ordering::AcqRel);
        });
        let list = self.events.clone().unwrap_or_else(|| EventList::new("orphan callbacks"));
        Callback::new(ev, list)
    }

    fn remove(&mut self, handle: ProtoHandle) {
        self.dying.retain(|h| h.state().is_some());
        let cb = self.done_callback();
        if !self.registry.remove(handle.name(), cb) {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
        self.dying.push(handle);
    }

    /// Applies a checked configuration (see the module diagram).
    pub fn apply(&mut self, loaded: Loaded) {
        let new = loaded.config;
        let old_program = std::mem::replace(&mut self.program, loaded.program);
        self.undo.previous = Some(Loaded { config: Arc::clone(&self.config), program: old_program });
        self.undo.available = true;
        self.undo.set_deadline(None);
        for tc in &new.tables {
            let keep = self.tables.get(&tc.name).is_some_and(|x| x.net_type() == tc.net_type);
            if !keep {
                self.tables.insert(tc.name.clone(), Table::new(table_config(tc), &self.group));
            }
        }
        if self.krt.is_none() && new.protocols.iter().any(|p| needs_krt(p.kind)) {
            let rx = new
                .protocols
                .iter()
                .filter_map(|p| match &p.specific {
                    birdconf::ast::ProtoSpecific::Kernel(k) => k.netlink_rx_buffer,
                    _ => None,
                })
                .max();
            match Krt::start(rx) {
                Ok(k) => self.krt = Some(k),
                Err(e) => tracing::error!("Cannot open netlink: {e}"),
            }
        }
        self.apply_groups(&new);
        let (spawned, old): (Vec<ProtoEntry>, Vec<ProtoEntry>) =
            std::mem::take(&mut self.protos).into_iter().partition(|e| e.parent.is_some());
        let mut by_name: HashMap<String, ProtoEntry> = HashMap::new();
        for e in old {
            if new.protocol(&e.cfg.name).is_some_and(|n| n.kind == e.cfg.kind) {
                by_name.insert(e.cfg.name.clone(), e);
            } else {
                tracing::info!("{}: shutting down (removed from configuration)", e.cfg.name);
                self.remove(e.handle);
            }
        }
        // Spawned protocols stay while their range protocol stays as it was (and no configured protocol
        // takes their name); otherwise they go, and their peers connect again to the new one.
        let mut kept = Vec::new();
        for e in spawned {
            let parent = e.parent.as_deref().unwrap_or_default();
            let same = by_name.get(parent).zip(new.protocol(parent)).is_some_and(|(pe, pc)| {
                pe.cfg.kind == pc.kind && pe.fingerprint == proto_fingerprint(&new, pc)
            });
            if same && new.protocol(&e.cfg.name).is_none() {
                kept.push(e);
            } else {
                tracing::info!("{}: shutting down (neighbor range protocol {parent} changed)", e.cfg.name);
                self.remove(e.handle);
            }
        }
        for pc in &new.protocols {
            let fp = proto_fingerprint(&new, pc);
            let pcfg = match self.instance_config(pc, &new) {
                Ok(c) => c,
                Err(e) => {
                    // Checked by config::load; a failure here is a bug, logged and the protocol skipped.
                    tracing::error!("{e}");
                    continue;
                }
            };
            let entry = match by_name.remove(&pc.name) {
                Some(mut e) if e.fingerprint == fp => {
                    e.cfg = pc.clone();
                    e
                }
                other => {
                    let handle = match other {
                        Some(e) => match e.handle.reconfigure(pcfg.clone()) {
                            Ok(Reconfigured::Same) => {
                                // Same shape, same filter names, but something inside a filter changed.
                                tracing::info!("{}: reconfigured (filters reloaded)", pc.name);
                                e.handle.reload(ReloadDir::Both);
                                e.handle
                            }
                            Ok(Reconfigured::Applied) => {
                                tracing::info!("{}: reconfigured", pc.name);
                                e.handle
                            }
                            Ok(Reconfigured::NeedsRestart) | Err(_) => {
                                tracing::info!("{}: restarting after reconfiguration", pc.name);
                                self.remove(e.handle);
                                self.registry.spawn(pcfg)
                            }
                        },
                        None => {
                            tracing::info!("{}: starting", pc.name);
                            let handle = self.registry.spawn(pcfg);
                            if pc.kind == birdconf::ast::ProtoKind::Device && !pc.disabled {
                                self.wait_for_interfaces();
                            }
                            handle
                        }
                    };
                    ProtoEntry { cfg: pc.clone(), fingerprint: fp, handle, want_disabled: None, parent: None }
                }
            };
            self.place(&entry, pc);
            self.protos.push(entry);
        }
        self.protos.extend(kept);
        self.tables.retain(|name, _| new.table(name).is_some());
        self.table_order = new.tables.iter().map(|t| t.name.clone()).collect();
        self.config = new;
        self.last_reconfig = now();
    }

    /// The birdproto configuration of protocol `pc` of configuration `cfg` (its router id and debug
    /// defaults), on this runtime's program, tables and netlink.
    fn instance_config(
        &self,
        pc: &birdconf::ast::ProtocolConfig,
        cfg: &Config,
    ) -> Result<birdproto::ProtoConfig, birdconf::ConfigError> {
        let mut c =
            proto_config(pc, &self.program, &self.tables, self.krt.as_ref(), cfg.router_id, &self.dynamic)?;
        c.debug = crate::protocols::debug_flags(&pc.debug.unwrap_or(cfg.debug_protocols));
        Ok(c)
    }

    /// Carries out the queued dynamic BGP requests (in the main loop; see [`crate::dynamic`]).
    pub fn run_dynamic(&mut self) {
        for r in self.dynamic.take() {
            match r {
                Req::Spawn { parent, from, sock } => self.spawn_dynamic(&parent, from, sock),
                Req::Down { name } => self.dynamic_down(&name),
            }
        }
    }

    /// A connection for the range protocol `parent`: to the protocol spawned for that peer already, else
    /// to a new one.
    fn spawn_dynamic(&mut self, parent: &str, from: std::net::SocketAddr, sock: socket2::Socket) {
        let Some(pe) = self.protos.iter().find(|e| e.parent.is_none() && e.cfg.name == parent) else {
            return;
        };
        if let Some(e) = self.protos.iter().find(|e| {
            e.parent.as_deref() == Some(parent) && crate::bgp::spawned_remote(&e.cfg) == Some(from.ip())
        }) {
            bird_bgp::proto::hand_over(&e.handle, sock, from);
            return;
        }
        let parent_cfg = pe.cfg.clone();
        let name = self.dynamic_name(&parent_cfg);
        let pc = crate::bgp::spawned_ast(&parent_cfg, &name, from.ip());
        let pcfg = match self.instance_config(&pc, &self.config) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("{parent}: cannot spawn a protocol for {}: {e}", from.ip());
                return;
            }
        };
        tracing::info!("{name}: spawned by {parent} for {}", from.ip());
        let handle = self.registry.spawn(pcfg);
        bird_bgp::proto::hand_over(&handle, sock, from);
        let entry = ProtoEntry {
            cfg: pc.clone(),
            fingerprint: String::new(),
            handle,
            want_disabled: None,
            parent: Some(parent.to_owned()),
        };
        self.place(&entry, &pc);
        self.protos.push(entry);
    }

    /// The next free name for a protocol spawned by `parent`: `dynbgp1`, `dynbgp2`, ...
    fn dynamic_name(&mut self, parent: &birdconf::ast::ProtocolConfig) -> String {
        let (prefix, digits) = match &parent.specific {
            birdconf::ast::ProtoSpecific::Bgp(b) => {
                (b.dynamic_name.clone().unwrap_or_else(|| "dynbgp".to_owned()), b.dynamic_name_digits)
            }
            _ => ("dynbgp".to_owned(), 0),
        };
        loop {
            self.dyn_counter += 1;
            let name = format!("{prefix}{:0width$}", self.dyn_counter, width = usize::from(digits));
            if self.config.protocol(&name).is_none() && self.proto(&name).is_none() {
                return name;
            }
        }
    }

    /// The spawned protocol `name` lost its session: it goes.
    fn dynamic_down(&mut self, name: &str) {
        if let Some(i) = self.protos.iter().position(|e| e.parent.is_some() && e.cfg.name == name) {
            let e = self.protos.remove(i);
            tracing::info!("{name}: session closed, removing the dynamic protocol");
            self.remove(e.handle);
        }
    }

    /// Creates the configured thread groups that do not exist yet and resizes the others (a group that
    /// left the configuration keeps running the loops it has until they move or stop).
    fn apply_groups(&mut self, new: &Config) {
        for g in &new.threads.groups {
            if g.default || g.name == "express" {
                if g.default {
                    if let Err(e) = self.group.set_threads(crate::config::default_threads(new)) {
                        tracing::error!("thread group {}: {e:?}", g.name);
                    }
                }
                continue;
            }
            let n = usize::try_from(g.threads.max(1)).unwrap_or(1);
            match self.groups.get(&g.name) {
                Some(tg) => {
                    if let Err(e) = tg.set_threads(n) {
                        tracing::error!("thread group {}: {e:?}", g.name);
                    }
                }
                None => match ThreadGroup::new(
                    &g.name,
                    birdloop::GroupKind::Worker,
                    birdloop::ThreadParams::worker(),
                    n,
                ) {
                    Ok(tg) => {
                        self.groups.insert(g.name.clone(), tg);
                    }
                    Err(e) => tracing::error!("thread group {}: cannot start: {e:?}", g.name),
                },
            }
        }
    }

    /// Moves a protocol's loop to its configured `thread group` (the default group otherwise).
    fn place(&self, e: &ProtoEntry, pc: &birdconf::ast::ProtocolConfig) {
        let target = pc.thread_group.as_deref().and_then(|n| self.groups.get(n)).unwrap_or(&self.group);
        // A no-op (apart from a ping) when the loop is in that group already.
        e.handle.loop_handle().transfer(target);
    }

    /// After starting a device protocol: give its first interface dump a moment (at most 2 s), so that
    /// static routes spawned next resolve their next hops from the interface list.
    fn wait_for_interfaces(&self) {
        let Some(k) = &self.krt else { return };
        let t = Instant::now();
        while k.hub.is_empty() && t.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the running configuration has a device protocol (which keeps the interface list).
    pub fn has_device(&self) -> bool {
        self.config.protocols.iter().any(|p| p.kind == birdconf::ast::ProtoKind::Device)
    }

    /// The interface list, when a device protocol keeps it.
    pub fn interfaces(&self) -> Vec<birdkrt::InterfaceInfo> {
        match &self.krt {
            Some(k) if self.has_device() => k.hub.interfaces(),
            _ => Vec::new(),
        }
    }

    /// Router id: the configured one, else (with a device protocol) the lowest global IPv4 address of an
    /// up, non-loopback interface.
    pub fn router_id(&self) -> u32 {
        if let Some(r) = self.config.router_id {
            return r;
        }
        match &self.krt {
            Some(k) if self.has_device() => k.hub.router_id().map_or(0, u32::from),
            _ => 0,
        }
    }

    /// Graceful shutdown: every protocol is told to shut down (its routes flushed). Returns a waiter
    /// to call without holding the daemon's lock (the completions arrive through the main loop).
    pub fn begin_shutdown(&mut self) -> ShutdownWait {
        for e in std::mem::take(&mut self.protos).into_iter().rev() {
            self.remove(e.handle);
        }
        ShutdownWait(Arc::clone(&self.pending))
    }

    /// Tables in configuration order.
    pub fn ordered_tables(&self) -> impl Iterator<Item = (&str, &Table)> {
        self.table_order.iter().filter_map(|n| self.tables.get(n).map(|t| (n.as_str(), t)))
    }

    /// A protocol by name.
    pub fn proto(&self, name: &str) -> Option<&ProtoEntry> {
        self.protos.iter().find(|e| e.cfg.name == name)
    }
}

/// birdtable's settings for a configured table: `trie`, `cork threshold`, `export settle time`.
fn table_config(tc: &birdconf::ast::TableConfig) -> TableConfig {
    let mut c = TableConfig::new(tc.name.clone(), tc.net_type);
    c.trie = tc.trie;
    if let Some((low, high)) = tc.cork_threshold {
        c.cork_low = u64::from(low);
        c.cork_high = u64::from(high);
    }
    if let Some((min, max)) = tc.export_settle {
        c.settle_min = min;
        c.settle_max = max;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::ConfigSource;

    #[test]
    fn configs_without_kernel_protocols_never_open_netlink() {
        let group = ThreadGroup::worker(1).unwrap();
        let loaded = crate::config::load(&ConfigSource::Builtin).unwrap();
        let mut rt = Runtime::new(loaded, group);
        assert!(rt.krt.is_none());
        assert!(rt.interfaces().is_empty());
        assert_eq!(rt.router_id(), rt.config.router_id.unwrap_or(0));
        let cfg = birdconf::parse_str("x.conf", "protocol static { ipv4; route 198.18.1.0/24 blackhole; }\n")
            .unwrap();
        let program = crate::config::check(&cfg).unwrap();
        rt.apply(Loaded { config: Arc::new(cfg), program: Arc::new(program) });
        assert!(rt.krt.is_none());
    }

    #[test]
    fn spawned_protocols_follow_their_range_protocol() {
        let group = ThreadGroup::worker(1).unwrap();
        let text = |hold: u32| {
            format!(
                "router id 192.0.2.1;\nprotocol bgp peers {{ local 127.0.0.1 port 0 as 1; \
                 neighbor range 198.18.0.0/15 external; hold time {hold}; ipv4 {{ import all; export all; }}; }}\n"
            )
        };
        let load = |t: &str| {
            let cfg = birdconf::parse_str("x.conf", t).unwrap();
            let program = crate::config::check(&cfg).unwrap();
            Loaded { config: Arc::new(cfg), program: Arc::new(program) }
        };
        let mut rt = Runtime::new(load(&text(90)), group);
        // Connected sockets, their client ends kept open: the sessions wait for the peer's OPEN.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut clients = Vec::new();
        let mut sock = || {
            clients.push(std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap());
            let s = socket2::Socket::from(listener.accept().unwrap().0);
            s.set_nonblocking(true).unwrap();
            s
        };
        let from = |s: &str| std::net::SocketAddr::new(s.parse().unwrap(), 40000);
        rt.dynamic.push(Req::Spawn { parent: "peers".into(), from: from("198.18.0.2"), sock: sock() });
        rt.dynamic.push(Req::Spawn { parent: "peers".into(), from: from("198.18.0.3"), sock: sock() });
        rt.dynamic.push(Req::Spawn { parent: "gone".into(), from: from("198.18.0.4"), sock: sock() });
        rt.run_dynamic();
        let names = |rt: &Runtime| rt.protos.iter().map(|e| e.cfg.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&rt), ["peers", "dynbgp1", "dynbgp2"]);
        assert_eq!(rt.proto("dynbgp2").and_then(|e| e.parent.as_deref()), Some("peers"));
        assert_eq!(crate::bgp::spawned_remote(&rt.proto("dynbgp2").unwrap().cfg), "198.18.0.3".parse().ok());

        // An unchanged configuration keeps them; the second peer's session ends: its protocol goes.
        rt.apply(load(&text(90)));
        assert_eq!(names(&rt), ["peers", "dynbgp1", "dynbgp2"]);
        rt.dynamic.push(Req::Down { name: "dynbgp2".into() });
        rt.run_dynamic();
        assert_eq!(names(&rt), ["peers", "dynbgp1"]);

        // The range protocol changes: the spawned protocols go; the numbers go on.
        rt.apply(load(&text(60)));
        assert_eq!(names(&rt), ["peers"]);
        rt.dynamic.push(Req::Spawn { parent: "peers".into(), from: from("198.18.0.2"), sock: sock() });
        rt.run_dynamic();
        assert_eq!(names(&rt), ["peers", "dynbgp3"]);
    }

    #[test]
    fn table_options_reach_the_table() {
        let text = "ipv4 table t { trie yes; cork threshold 100 200; export settle time 5 ms 50 ms; };\n\
                    ipv4 table plain;\n";
        let cfg = birdconf::parse_str("x.conf", text).unwrap();
        let by_name = |n: &str| cfg.tables.iter().find(|t| t.name == n).unwrap();
        let c = table_config(by_name("t"));
        assert!(c.trie);
        assert_eq!((c.cork_low, c.cork_high), (100, 200));
        assert_eq!((c.settle_min, c.settle_max), (Duration::from_millis(5), Duration::from_millis(50)));
        let d = table_config(by_name("plain"));
        let defaults = TableConfig::new("plain", birdnet::NetType::Ipv4);
        assert!(!d.trie);
        assert_eq!(
            (d.cork_low, d.cork_high, d.settle_max),
            (defaults.cork_low, defaults.cork_high, defaults.settle_max)
        );
    }
}
