//! The kernel protocol: keeps Linux routing table N in sync with the best routes of its birdd table, and
//! optionally learns alien kernel routes. See the crate docs for the state machine.

use std::any::Any;
use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use birdloop::TimerKey;
use birdnet::Net;
use birdproto::filter::{FilterRoute, Verdict};
use birdproto::{PState, Preexport, ProtoConfig, ProtoCtx, ProtoHandle, ProtoKind, Protocol, Reconfigured};
use birdtable::attrs::{AttrId, AttrSet, AttrValue, Dest, Iface, NextHop, RouteSource};
use birdtable::route::{ecmp_set, merge_ecmp};
use birdtable::Route;

use crate::ifaces::IfaceHub;
use crate::inbox::Inbox;
use crate::sys::{
    plan_write, Backend, KDest, KHop, KRoute, Reply, Request, Sink, Write, RTPROT_BIRD, RTPROT_KERNEL,
};

/// Writes handed to the backend at once while a prune is still planning the rest.
const FLUSH_EVERY: usize = 2048;

/// `learn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Learn {
    /// `learn off` (default).
    #[default]
    Off,
    /// `learn on`: alien routes except the kernel's own (`proto kernel`).
    On,
    /// `learn all`: also `proto kernel` routes.
    All,
}

/// Counters of one kernel protocol configuration (shared by its instances, readable from any thread).
#[derive(Debug, Default)]
pub struct KrtStats {
    /// Completed route scans.
    pub scans: AtomicU64,
    /// Route writes that succeeded.
    pub writes: AtomicU64,
    /// Route writes (and dumps) that failed.
    pub errors: AtomicU64,
    /// Notification overruns (ENOBUFS) seen.
    pub overruns: AtomicU64,
    /// Alien routes currently learned.
    pub learned: AtomicU64,
    /// The current [`SyncState`] (as its index in [`SyncState::ALL`]).
    sync: std::sync::atomic::AtomicU8,
}

impl KrtStats {
    /// The sync state of the running instance (`Init` when none runs).
    pub fn sync_state(&self) -> SyncState {
        SyncState::ALL[usize::from(self.sync.load(Ordering::Relaxed)).min(SyncState::ALL.len() - 1)]
    }

    fn set_sync(&self, s: SyncState) {
        let i = SyncState::ALL.iter().position(|x| *x == s).unwrap_or(0);
        self.sync.store(u8::try_from(i).unwrap_or(0), Ordering::Relaxed);
    }

    fn get(a: &AtomicU64) -> u64 {
        a.load(Ordering::Relaxed)
    }

    /// `(scans, writes, errors, overruns, learned)`.
    pub fn snapshot(&self) -> (u64, u64, u64, u64, u64) {
        (
            Self::get(&self.scans),
            Self::get(&self.writes),
            Self::get(&self.errors),
            Self::get(&self.overruns),
            Self::get(&self.learned),
        )
    }
}

/// `protocol kernel { ... }`.
#[derive(Clone)]
pub struct KernelConfig {
    /// The kernel (netlink or mock).
    pub backend: Arc<dyn Backend>,
    /// `kernel table` (default 254, main).
    pub table: u32,
    /// `metric` (default 32).
    pub metric: u32,
    /// `learn`.
    pub learn: Learn,
    /// `scan time` (default 60 s).
    pub scan_time: Duration,
    /// `persist`: leave exported routes in the kernel on shutdown.
    pub persist: bool,
    /// `merge paths [limit N]`: `Some(limit)` when on (the channel should then use
    /// [`birdtable::ExportMode::Merged`]); caps the number of next hops written.
    pub merge_paths: Option<u32>,
    /// `netlink rx buffer` (applied when the netlink backend is created; kept here for `show`).
    pub netlink_rx_buffer: Option<u32>,
    /// Interface names for learned routes.
    pub ifaces: Option<IfaceHub>,
    /// Counters.
    pub stats: Arc<KrtStats>,
}

impl std::fmt::Debug for KernelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelConfig")
            .field("table", &self.table)
            .field("metric", &self.metric)
            .field("learn", &self.learn)
            .field("scan_time", &self.scan_time)
            .field("persist", &self.persist)
            .field("merge_paths", &self.merge_paths)
            .finish_non_exhaustive()
    }
}

impl KernelConfig {
    /// Defaults: table 254, metric 32, no learning, scan time 60 s, not persistent.
    pub fn new(backend: Arc<dyn Backend>) -> KernelConfig {
        KernelConfig {
            backend,
            table: 254,
            metric: 32,
            learn: Learn::Off,
            scan_time: Duration::from_secs(60),
            persist: false,
            merge_paths: None,
            netlink_rx_buffer: None,
            ifaces: None,
            stats: Arc::new(KrtStats::default()),
        }
    }

    fn same(&self, o: &KernelConfig) -> bool {
        Arc::ptr_eq(&self.backend, &o.backend)
            && self.table == o.table
            && self.metric == o.metric
            && self.learn == o.learn
            && self.merge_paths == o.merge_paths
            && self.netlink_rx_buffer == o.netlink_rx_buffer
    }
}

impl ProtoKind for KernelConfig {
    fn type_name(&self) -> &'static str {
        "Kernel"
    }
    fn create(&self, _cfg: &ProtoConfig) -> Box<dyn Protocol> {
        Box::new(Kernel::new(self.clone()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The sync state (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// Started, no scan requested yet.
    Init,
    /// The first dump is running; nothing is written to the kernel.
    FirstScan,
    /// A later dump is running; updates still go to the kernel.
    Scanning,
    /// The dump is in; the writes that repair the divergence are in flight.
    Pruning,
    /// In sync; exports are written as they come.
    Idle,
}

impl SyncState {
    /// Every state.
    pub const ALL: [SyncState; 5] =
        [SyncState::Init, SyncState::FirstScan, SyncState::Scanning, SyncState::Pruning, SyncState::Idle];

    /// Lower-case name (`first scan`, `idle`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SyncState::Init => "init",
            SyncState::FirstScan => "first scan",
            SyncState::Scanning => "scanning",
            SyncState::Pruning => "pruning",
            SyncState::Idle => "idle",
        }
    }
}

/// The kernel protocol instance.
pub struct Kernel {
    cfg: KernelConfig,
    sync: SyncState,
    /// What the export wants in the kernel, by net (after filters).
    desired: HashMap<Net, KRoute>,
    /// What we believe the kernel holds of ours (the last dump plus our writes since).
    installed: HashMap<Net, KRoute>,
    /// Our own routes with another metric seen by the last dump (deleted when pruning).
    stray: Vec<KRoute>,
    /// Alien routes we imported.
    learned: HashMap<Net, KRoute>,
    inflight: HashMap<u64, Option<Net>>,
    /// Writes decided but not yet handed to the backend (sent as one batch by [`Kernel::flush`]).
    outbox: Vec<Request>,
    next_id: u64,
    rescan: bool,
    stopping: bool,
    inbox: Arc<Inbox<Reply>>,
    sink: Sink,
    /// Our notification subscription (overruns only); registered while the instance runs.
    overrun_sink: Sink,
    subscribed: bool,
    timer: Option<TimerKey>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel").field("sync", &self.sync).field("installed", &self.installed.len()).finish()
    }
}

fn kick(h: &ProtoHandle) {
    h.exec_as::<Kernel>(|p, ctx| p.drain(ctx));
}

impl Kernel {
    fn new(cfg: KernelConfig) -> Kernel {
        let inbox: Arc<Inbox<Reply>> = Arc::new(Inbox::new("krt", kick));
        let i = inbox.clone();
        let sink: Sink = Arc::new(move |r| i.push(r));
        // Notifications: only overruns matter here (links and addresses go to the interface hub).
        let i = inbox.clone();
        let overrun_sink: Sink = Arc::new(move |r| {
            if r == Reply::Overrun {
                i.push(r);
            }
        });
        Kernel {
            cfg,
            sync: SyncState::Init,
            desired: HashMap::new(),
            installed: HashMap::new(),
            stray: Vec::new(),
            learned: HashMap::new(),
            inflight: HashMap::new(),
            outbox: Vec::new(),
            next_id: 1,
            rescan: false,
            stopping: false,
            inbox,
            sink,
            overrun_sink,
            subscribed: false,
            timer: None,
        }
    }

    fn set_subscribed(&mut self, on: bool) {
        if on != std::mem::replace(&mut self.subscribed, on) {
            if on {
                self.cfg.backend.subscribe(self.overrun_sink.clone());
            } else {
                self.cfg.backend.unsubscribe(&self.overrun_sink);
            }
        }
    }

    fn set_sync(&mut self, s: SyncState) {
        self.sync = s;
        self.cfg.stats.set_sync(s);
    }

    /// The sync state.
    pub fn sync_state(&self) -> SyncState {
        self.sync
    }

    /// Routes of ours believed to be in the kernel.
    pub fn installed(&self) -> usize {
        self.installed.len()
    }

    /// Convert an exported route into the kernel route we want, or `None` when it cannot be installed
    /// (a unicast route without any usable next hop).
    pub fn kernel_route(&self, net: Net, attrs: &AttrSet) -> Option<KRoute> {
        let dest = match &attrs.dest {
            Dest::Unicast(hops) => {
                let limit = match self.cfg.merge_paths {
                    Some(0) => usize::MAX,
                    Some(l) => l as usize,
                    None => usize::MAX,
                };
                let v: Vec<KHop> = hops
                    .iter()
                    .filter(|h| h.gw.is_some() || h.iface.is_some())
                    .filter(|h| !(h.gw.is_some_and(|g| g.is_ipv4()) && net.addr().is_ipv6()))
                    .take(limit)
                    .map(|h| KHop {
                        gw: h.gw,
                        ifindex: h.iface.as_ref().map_or(0, Iface::index),
                        weight: if hops.len() > 1 { h.weight } else { 0 },
                        onlink: h.onlink,
                    })
                    .collect();
                if v.is_empty() {
                    return None;
                }
                KDest::unicast(v)
            }
            Dest::Blackhole => KDest::Blackhole,
            Dest::Unreachable => KDest::Unreachable,
            Dest::Prohibit => KDest::Prohibit,
        };
        Some(KRoute {
            net,
            table: self.cfg.table,
            metric: attrs.krt_metric().unwrap_or(self.cfg.metric),
            proto: RTPROT_BIRD,
            dest,
            prefsrc: attrs.krt_prefsrc(),
        })
    }

    fn writes_allowed(&self) -> bool {
        matches!(self.sync, SyncState::Idle | SyncState::Pruning) && !self.stopping
    }

    fn issue(&mut self, net: Net, w: Write) {
        let id = self.next_id;
        self.next_id += 1;
        match &w {
            Write::Add(r) | Write::Replace(r) | Write::DeleteAdd(_, r) => {
                self.installed.insert(net, r.clone());
            }
            Write::Delete(_) => {
                self.installed.remove(&net);
            }
        }
        self.inflight.insert(id, Some(net));
        self.outbox.push(Request::Write { id, write: w });
    }

    /// Hand the decided writes to the backend, as one batch.
    fn flush(&mut self) {
        if self.outbox.len() > 1 {
            self.cfg.backend.request_batch(std::mem::take(&mut self.outbox), self.sink.clone());
        } else if let Some(r) = self.outbox.pop() {
            self.cfg.backend.request(r, self.sink.clone());
        }
    }

    fn write_done(&mut self, ctx: &ProtoCtx<'_>, id: u64, result: Result<(), crate::sys::KrtError>) {
        let net = self.inflight.remove(&id).flatten();
        match result {
            Ok(()) => {
                self.cfg.stats.writes.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.cfg.stats.errors.fetch_add(1, Ordering::Relaxed);
                if let Some(net) = net {
                    tracing::warn!(target: "bird::krt", "{}: error writing {} to the kernel: {}", ctx.name(), net, e);
                    // Unknown kernel state: the next scan tells.
                    self.installed.remove(&net);
                }
            }
        }
    }

    fn sync_net(&mut self, net: Net) {
        if let Some(w) = plan_write(self.installed.get(&net), self.desired.get(&net)) {
            self.issue(net, w);
        }
    }

    fn start_scan(&mut self) {
        match self.sync {
            SyncState::Idle => self.set_sync(SyncState::Scanning),
            SyncState::Init => self.set_sync(SyncState::FirstScan),
            _ => {
                self.rescan = true;
                return;
            }
        }
        self.cfg.backend.request(Request::DumpRoutes { table: self.cfg.table }, self.sink.clone());
    }

    /// What the export of channel `ch` wants in the kernel for `net`, read from the table now: the best
    /// route (with `merge paths`, the merged ECMP set) through the export filter; never our own learned
    /// routes.
    fn export_candidate(&self, ctx: &mut ProtoCtx<'_>, ch: usize, net: Net, own: u64) -> Option<KRoute> {
        let filter = ctx.config().channels[ch].export_filter.clone();
        if filter.rejects_all() {
            return None;
        }
        let routes = ctx.table(ch).routes(&net);
        let set: Vec<Route> = if self.cfg.merge_paths.is_some() {
            ecmp_set(&routes)
        } else {
            routes.into_iter().take(1).filter(Route::is_valid).collect()
        };
        if set.first().is_none_or(|r| r.src().source().id() == own) {
            return None;
        }
        let name = ctx.name();
        let accepted: Vec<Route> = set
            .into_iter()
            .filter(|r| r.src().source().id() != own)
            .filter_map(|r| {
                let mut fr = FilterRoute::new(net, r.attrs(), r.pref(), name);
                if filter.run(&mut fr) == Verdict::Reject {
                    return None;
                }
                Some(if fr.is_modified() {
                    Route::new(r.src().clone(), fr.into_attrs(), r.pref())
                } else {
                    r
                })
            })
            .collect();
        let merged = merge_ecmp(&accepted)?;
        self.kernel_route(net, merged.attrs())
    }

    /// The synchronous refeed: what every channel's export wants in the kernel, read from the tables now.
    fn refeed_now(&self, ctx: &mut ProtoCtx<'_>) -> HashMap<Net, KRoute> {
        let Some(own) = ctx.src(0).map(|s| s.source().id()) else { return HashMap::new() };
        let mut out = HashMap::new();
        for ch in 0..ctx.config().channels.len() {
            if ctx.config().channels[ch].export_filter.rejects_all() {
                continue;
            }
            let mut nets: Vec<Net> = Vec::new();
            ctx.table(ch).walk(|_, l| {
                nets.push(l.net());
                ControlFlow::Continue(())
            });
            for net in nets {
                if let Some(k) = self.export_candidate(ctx, ch, net, own) {
                    out.insert(net, k);
                }
            }
        }
        out
    }

    /// The channel whose table holds nets like `net`.
    fn channel_for(ctx: &ProtoCtx<'_>, net: Net) -> Option<usize> {
        (0..ctx.config().channels.len()).find(|i| ctx.table(*i).net_type() == net.net_type())
    }

    fn drain(&mut self, ctx: &mut ProtoCtx<'_>) {
        for r in self.inbox.take() {
            match r {
                Reply::Routes(res) => self.dump_done(ctx, res),
                Reply::Done { id, result } => self.write_done(ctx, id, result),
                Reply::Written(v) => {
                    for (id, result) in v {
                        self.write_done(ctx, id, result);
                    }
                }
                Reply::Overrun => {
                    self.cfg.stats.overruns.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "bird::krt", "{}: kernel notifications lost (ENOBUFS), rescanning", ctx.name());
                    if !self.stopping {
                        self.start_scan();
                    }
                }
                Reply::Links(_) | Reply::Link(_) | Reply::LinkGone(_) | Reply::Addr(..) => {}
            }
        }
        self.flush();
        self.maybe_idle(ctx);
    }

    fn maybe_idle(&mut self, ctx: &mut ProtoCtx<'_>) {
        if !self.inflight.is_empty() {
            return;
        }
        if self.stopping {
            if ctx.state() == PState::Stop {
                ctx.notify_state(PState::Down);
            }
            return;
        }
        if self.sync == SyncState::Pruning {
            self.set_sync(SyncState::Idle);
            if std::mem::take(&mut self.rescan) {
                self.start_scan();
            }
        }
    }

    fn dump_done(&mut self, ctx: &mut ProtoCtx<'_>, res: Result<Vec<KRoute>, crate::sys::KrtError>) {
        if self.stopping {
            return;
        }
        let first = self.sync == SyncState::FirstScan;
        let routes = match res {
            Ok(r) => r,
            Err(e) => {
                self.cfg.stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(target: "bird::krt", "{}: kernel scan failed: {}", ctx.name(), e);
                self.set_sync(if first { SyncState::Init } else { SyncState::Idle });
                return;
            }
        };
        self.cfg.stats.scans.fetch_add(1, Ordering::Relaxed);
        // Every scan ends with a synchronous full refeed: the desired state is re-read from the tables
        // (before the dump is sorted out, so that the metrics we want are the current ones).
        self.desired = self.refeed_now(ctx);
        let mut own: HashMap<Net, KRoute> = HashMap::new();
        let mut alien: HashMap<Net, KRoute> = HashMap::new();
        self.stray.clear();
        // Only the families this protocol has channels for are its business (as in BIRD, which hands a
        // kernel protocol only the routes of its channel's family): with `kernel4 { ipv4; }` and
        // `kernel6 { ipv6; }` on one table, each must leave the other's routes alone.
        let families: Vec<birdnet::NetType> =
            (0..ctx.config().channels.len()).map(|i| ctx.table(i).net_type()).collect();
        for r in routes {
            if r.table != self.cfg.table || !families.contains(&r.net.net_type()) {
                continue;
            }
            if r.proto == RTPROT_BIRD {
                let want_metric = self.desired.get(&r.net).map_or(self.cfg.metric, |d| d.metric);
                if r.metric == want_metric && !own.contains_key(&r.net) {
                    own.insert(r.net, r);
                } else {
                    self.stray.push(r);
                }
            } else {
                let ok = match self.cfg.learn {
                    Learn::Off => false,
                    Learn::On => r.proto != RTPROT_KERNEL,
                    Learn::All => true,
                };
                if ok && !alien.contains_key(&r.net) {
                    alien.insert(r.net, r);
                }
            }
        }
        // The dump is the truth about what the kernel holds of ours, except for writes still in flight
        // (issued before the scan started, nothing is written while scanning): keep our view for those.
        let inflight: BTreeSet<Net> = self.inflight.values().flatten().copied().collect();
        for net in &inflight {
            if let Some(r) = self.installed.get(net) {
                own.insert(*net, r.clone());
            } else {
                own.remove(net);
            }
        }
        self.installed = own;
        self.set_sync(SyncState::Pruning);
        for r in std::mem::take(&mut self.stray) {
            self.issue_stray(r);
        }
        let nets: BTreeSet<Net> = self.installed.keys().chain(self.desired.keys()).copied().collect();
        for net in nets {
            if !inflight.contains(&net) {
                self.sync_net(net);
                // Stream big prunes: the backend writes the first batches while we plan the rest.
                if self.outbox.len() >= FLUSH_EVERY {
                    self.flush();
                }
            }
        }
        self.flush();
        self.learn(ctx, alien);
    }

    fn issue_stray(&mut self, r: KRoute) {
        let id = self.next_id;
        self.next_id += 1;
        self.inflight.insert(id, None);
        self.outbox.push(Request::Write { id, write: Write::Delete(r) });
    }

    fn learn(&mut self, ctx: &mut ProtoCtx<'_>, alien: HashMap<Net, KRoute>) {
        if self.cfg.learn == Learn::Off {
            return;
        }
        let gone: Vec<Net> = self.learned.keys().filter(|n| !alien.contains_key(n)).copied().collect();
        for net in gone {
            self.learned.remove(&net);
            if let Some(ch) = Self::channel_for(ctx, net) {
                ctx.withdraw(ch, net);
            }
        }
        for (net, r) in alien {
            if self.learned.get(&net) == Some(&r) {
                continue;
            }
            let Some(ch) = Self::channel_for(ctx, net) else { continue };
            if let Some(attrs) = self.learned_attrs(&r) {
                ctx.import(ch, net, attrs.intern());
                self.learned.insert(net, r);
            }
        }
        self.cfg.stats.learned.store(self.learned.len() as u64, Ordering::Relaxed);
    }

    fn iface(&self, index: u32) -> Iface {
        let name =
            self.cfg.ifaces.as_ref().and_then(|h| h.name_of(index)).unwrap_or_else(|| format!("if{index}"));
        Iface::new(name, index)
    }

    /// The attributes of a learned alien route: source `inherit`, `krt_source`, `krt_metric`.
    fn learned_attrs(&self, r: &KRoute) -> Option<AttrSet> {
        let dest = match &r.dest {
            KDest::Unicast(h) => Dest::unicast(h.iter().map(|h| NextHop {
                gw: h.gw,
                iface: (h.ifindex != 0).then(|| self.iface(h.ifindex)),
                weight: h.weight,
                onlink: h.onlink,
            })),
            KDest::Blackhole => Dest::Blackhole,
            KDest::Unreachable => Dest::Unreachable,
            KDest::Prohibit => Dest::Prohibit,
        };
        let mut a = AttrSet::new(RouteSource::Inherit, dest);
        a.set(AttrId::KRT_SOURCE, AttrValue::Int(u32::from(r.proto))).ok()?;
        a.set(AttrId::KRT_METRIC, AttrValue::Int(r.metric)).ok()?;
        if let Some(p) = r.prefsrc {
            a.set(AttrId::KRT_PREFSRC, AttrValue::Ip(p)).ok()?;
        }
        Some(a)
    }

    fn scan_tick(&mut self, _ctx: &mut ProtoCtx<'_>) {
        if !self.stopping {
            self.start_scan();
        }
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        self.set_subscribed(false);
    }
}

impl Protocol for Kernel {
    fn start(&mut self, ctx: &mut ProtoCtx<'_>) -> PState {
        self.set_sync(SyncState::Init);
        self.stopping = false;
        self.desired.clear();
        self.installed.clear();
        self.learned.clear();
        self.inflight.clear();
        self.outbox.clear();
        self.rescan = false;
        self.inbox.clear();
        self.inbox.set_target(Some(ctx.handle()));
        self.set_subscribed(true);
        let h = ctx.handle();
        let period = self.cfg.scan_time.max(Duration::from_millis(1));
        self.timer = birdloop::with_current(|g| {
            let key = g.timer("krt scan", move |_, _| h.exec_as::<Kernel>(|p, ctx| p.scan_tick(ctx)));
            g.set_recurrent(key, period, Duration::ZERO);
            key
        });
        // BIRD 2's kernel protocol has no status text: the info column stays empty in every sync state
        // (the state is in `KrtStats::sync_state`; a failed scan is logged and counted).
        ctx.set_info("");
        self.start_scan();
        PState::Up
    }

    fn rt_notify(
        &mut self,
        ctx: &mut ProtoCtx<'_>,
        ch: usize,
        net: Net,
        new: Option<&Route>,
        _old: Option<&Route>,
    ) {
        if matches!(self.sync, SyncState::Init | SyncState::FirstScan) {
            // Nothing is written before the first dump, and its prune starts from a synchronous refeed
            // that reads the tables then (newer than this notification): converting it now is wasted work.
            return;
        }
        let want = match new {
            None => None,
            // With `merge paths` the whole ECMP set of the net is read from the table.
            Some(_) if self.cfg.merge_paths.is_some() => {
                let own = ctx.src(0).map_or(0, |s| s.source().id());
                self.export_candidate(ctx, ch, net, own)
            }
            Some(r) => self.kernel_route(net, r.attrs()),
        };
        match want {
            Some(k) => {
                self.desired.insert(net, k);
            }
            None => {
                self.desired.remove(&net);
            }
        }
        if self.writes_allowed() {
            self.sync_net(net);
            self.flush();
        }
    }

    fn preexport(&self, pe: Preexport<'_>, route: &Route) -> bool {
        // Never send our own learned routes back to the kernel.
        !pe.from_self(route)
    }

    fn rejects_own_routes(&self) -> bool {
        true
    }

    fn shutdown(&mut self, _ctx: &mut ProtoCtx<'_>) -> PState {
        self.stopping = true;
        if let Some(k) = self.timer.take() {
            birdloop::with_current(|g| g.remove_timer(k));
        }
        if !self.cfg.persist {
            // Every route we exported, converted to a withdrawal: the installed map holds each route we
            // wrote (in flight or acknowledged) and each of ours the last dump found. Exports the channel
            // had not delivered yet were never written, so there is nothing to withdraw for them.
            let nets: BTreeSet<Net> = self.installed.keys().copied().collect();
            for net in nets {
                if let Some(r) = self.installed.get(&net).cloned() {
                    self.issue(net, Write::Delete(r));
                }
            }
        }
        self.desired.clear();
        self.flush();
        if self.inflight.is_empty() {
            PState::Down
        } else {
            PState::Stop
        }
    }

    fn reconfigure(&mut self, _ctx: &mut ProtoCtx<'_>, new: &ProtoConfig) -> Reconfigured {
        let Some(n) = new.kind.as_any().downcast_ref::<KernelConfig>() else {
            return Reconfigured::NeedsRestart;
        };
        if !self.cfg.same(n) {
            return Reconfigured::NeedsRestart;
        }
        if self.cfg.scan_time == n.scan_time && self.cfg.persist == n.persist {
            return Reconfigured::Same;
        }
        self.cfg.persist = n.persist;
        if self.cfg.scan_time != n.scan_time {
            self.cfg.scan_time = n.scan_time;
            if let Some(k) = self.timer {
                let p = n.scan_time.max(Duration::from_millis(1));
                birdloop::with_current(|g| g.set_recurrent(k, p, Duration::ZERO));
            }
        }
        Reconfigured::Applied
    }

    fn cleanup(&mut self, _ctx: &mut ProtoCtx<'_>) {
        self.set_sync(SyncState::Init);
        self.set_subscribed(false);
        self.inbox.set_target(None);
        self.inbox.clear();
        self.installed.clear();
        self.learned.clear();
        self.cfg.stats.learned.store(0, Ordering::Relaxed);
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
