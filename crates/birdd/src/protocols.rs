//! Static and pipe protocols, run by the daemon on birdtable tables.
//!
//! birdproto (the protocol framework with its own static and pipe) is still being written; until it
//! lands these two protocols live here, driven from the main loop:
//!
//! ```text
//!   static4 ──import (filter)──► master4 ──pipe p_lg4 (export filter)──► lg4
//!                                   ▲                                      │
//!                                   └──────── (import filter, reverse) ────┘
//! ```
//!
//! * Static: each configured route becomes one [`Route`] of the protocol's [`Source`]; reconfiguration
//!   diffs old and new routes, so unchanged routes keep their time.
//! * Pipe: copies every route (not only the best) between its two tables keeping the route's source, so
//!   the copy shows the originating protocol, as in BIRD. Pipes resynchronise after every change the
//!   daemon makes ([`crate::runtime::Runtime::sync_pipes`]); this is exact because static routes, changed
//!   only by the daemon, are the only routes in this build.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::sync::Arc;

use birdcli::WallTime;
use birdconf::ast::{ProtocolConfig, StaticDest, StaticRoute};
use birdnet::Net;
use birdproto::state::PState;
use birdtable::attrs::{AttrSet, Dest, Iface, NextHop, RouteSource};
use birdtable::{ImportHandle, Route, RouteClass, RouteSrc, Source, Table};

use crate::filter::RouteFilter;
use crate::netif;
use birdfilter::Program;

/// Route class of static routes.
#[derive(Debug)]
pub struct StaticClass;

impl RouteClass for StaticClass {
    fn name(&self) -> &'static str {
        "static"
    }
}

/// Channel counters (`Route change stats`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// Import updates received.
    pub imp_received: u64,
    /// Import updates filtered.
    pub imp_filtered: u64,
    /// Import updates accepted.
    pub imp_accepted: u64,
    /// Import withdraws received.
    pub imp_withdraw_received: u64,
    /// Import withdraws accepted.
    pub imp_withdraw_accepted: u64,
    /// Export updates received.
    pub exp_received: u64,
    /// Export updates filtered.
    pub exp_filtered: u64,
    /// Export updates accepted.
    pub exp_accepted: u64,
    /// Export withdraws received/accepted.
    pub exp_withdraws: u64,
}

/// A static protocol's running part.
#[derive(Debug)]
pub struct StaticRt {
    /// The protocol's route source.
    pub source: Source,
    /// Importer into its table.
    pub handle: Option<ImportHandle>,
    /// Routes currently in the table.
    pub installed: HashMap<Net, Route>,
    /// Configured routes not installed (unreachable gateway), with the reason.
    pub inactive: Vec<(Net, String)>,
    /// The attributes each installed route was built from (before the import filter).
    pub configured: HashMap<Net, AttrSet>,
}

/// One direction of a pipe.
#[derive(Debug)]
pub struct PipeDir {
    /// Importer into the destination table.
    pub handle: ImportHandle,
    /// What this direction put there: `(net, source key)` → the source route.
    pub exported: HashMap<(Net, (u64, u32)), Route>,
    /// Source routes the filter rejected (not counted again until they change).
    pub rejected: HashMap<(Net, (u64, u32)), Route>,
}

/// A pipe's running part.
#[derive(Debug, Default)]
pub struct PipeRt {
    /// `table` → `peer table` (the export direction).
    pub fwd: Option<PipeDir>,
    /// `peer table` → `table` (the import direction).
    pub rev: Option<PipeDir>,
}

/// Protocol-specific runtime.
#[derive(Debug)]
pub enum ProtoImpl {
    /// `protocol static`.
    Static(StaticRt),
    /// `protocol pipe`.
    Pipe(PipeRt),
}

/// A protocol instance.
#[derive(Debug)]
pub struct ProtoRt {
    /// Its configuration.
    pub cfg: ProtocolConfig,
    /// Fingerprint of the configuration (see [`crate::config::proto_fingerprint`]).
    pub fingerprint: String,
    /// State.
    pub state: PState,
    /// Time of the last state change.
    pub since: WallTime,
    /// Disabled by `disable` (until `enable` or a config change).
    pub admin_disabled: bool,
    /// Last state message (`disable "msg"`).
    pub message: Option<String>,
    /// Channel import filter.
    pub import: RouteFilter,
    /// Channel export filter.
    pub export: RouteFilter,
    /// Counters.
    pub counters: Counters,
    /// Running part.
    pub imp: ProtoImpl,
}

/// Display name of a protocol type (`show protocols`).
pub fn type_name(p: &ProtocolConfig) -> &'static str {
    match p.kind {
        birdconf::ast::ProtoKind::Static => "Static",
        birdconf::ast::ProtoKind::Pipe => "Pipe",
        birdconf::ast::ProtoKind::Device => "Device",
        birdconf::ast::ProtoKind::Direct => "Direct",
        birdconf::ast::ProtoKind::Kernel => "Kernel",
        birdconf::ast::ProtoKind::Bgp => "BGP",
    }
}

/// Times routes were last changed, by `(source id, net)`.
pub type RouteTimes = HashMap<(u64, Net), WallTime>;

fn static_attrs(r: &StaticRoute) -> Result<AttrSet, String> {
    let dest = match &r.dest {
        StaticDest::Blackhole => Dest::Blackhole,
        StaticDest::Unreachable => Dest::Unreachable,
        StaticDest::Prohibit => Dest::Prohibit,
        StaticDest::Via(hops) => {
            let mut v = Vec::new();
            for h in hops {
                let ifname = match (&h.iface, h.gw) {
                    (Some(i), _) => i.clone(),
                    (None, Some(gw)) => netif::resolve_gateway(gw)
                        .ok_or_else(|| format!("gateway {gw} is not on a connected network"))?,
                    (None, None) => return Err("next hop without gateway or interface".into()),
                };
                let iface = Iface::new(ifname.as_str(), netif::ifindex(&ifname));
                let mut nh = match h.gw {
                    Some(gw) => NextHop::via(gw, iface),
                    None => NextHop::dev(iface),
                };
                nh.onlink = h.onlink;
                v.push(nh);
            }
            Dest::unicast(v)
        }
        StaticDest::Recursive(gw) => return Err(format!("recursive route via {gw} is not available")),
    };
    Ok(AttrSet::new(RouteSource::Static, dest))
}

impl ProtoRt {
    /// The channel's table name (static: its channel; pipe: the primary table).
    pub fn table_name(&self) -> &str {
        self.cfg.channels.first().map(|c| c.table.as_str()).unwrap_or("")
    }

    /// The pipe's peer table.
    pub fn peer_table(&self) -> Option<&str> {
        match &self.cfg.specific {
            birdconf::ast::ProtoSpecific::Pipe(p) => p.peer_table.as_deref(),
            _ => None,
        }
    }

    /// Channel preference.
    pub fn preference(&self) -> u16 {
        let p = self.cfg.channels.first().and_then(|c| c.preference).unwrap_or(200);
        u16::try_from(p).unwrap_or(u16::MAX)
    }

    /// Brings the protocol up on its table(s).
    pub fn start(
        &mut self,
        tables: &HashMap<String, Table>,
        times: &mut RouteTimes,
        program: &Program,
        now: WallTime,
    ) {
        let name = self.cfg.name.clone();
        let table = tables.get(self.table_name()).cloned();
        let peer = self.peer_table().and_then(|t| tables.get(t)).cloned();
        match &mut self.imp {
            ProtoImpl::Static(s) => {
                let Some(t) = table else { return };
                s.handle = Some(t.add_importer(name.as_str()));
            }
            ProtoImpl::Pipe(p) => {
                let (Some(t), Some(pt)) = (table, peer) else { return };
                p.fwd = Some(PipeDir {
                    handle: pt.add_importer(format!("{name}.fwd")),
                    exported: HashMap::new(),
                    rejected: HashMap::new(),
                });
                p.rev = Some(PipeDir {
                    handle: t.add_importer(format!("{name}.rev")),
                    exported: HashMap::new(),
                    rejected: HashMap::new(),
                });
            }
        }
        self.state = PState::Up;
        self.since = now;
        self.sync_static(times, program, now);
    }

    /// Withdraws everything the protocol put into tables and brings it down.
    pub fn stop(&mut self, times: &mut RouteTimes, now: WallTime) {
        match &mut self.imp {
            ProtoImpl::Static(s) => {
                if let Some(h) = s.handle.take() {
                    let src = RouteSrc::new(&s.source, 0);
                    for net in s.installed.keys() {
                        h.withdraw(*net, &src);
                        times.remove(&(s.source.id(), *net));
                        self.counters.imp_withdraw_received += 1;
                        self.counters.imp_withdraw_accepted += 1;
                    }
                    drop(h);
                }
                s.installed.clear();
                s.inactive.clear();
                s.configured.clear();
            }
            ProtoImpl::Pipe(p) => {
                for d in [p.fwd.take(), p.rev.take()].into_iter().flatten() {
                    for ((net, _), r) in &d.exported {
                        d.handle.withdraw(*net, r.src());
                    }
                    drop(d);
                }
            }
        }
        if self.state != PState::Down {
            self.state = PState::Down;
            self.since = now;
        }
    }

    /// Static: makes the table hold exactly the configured routes (new and changed ones imported,
    /// removed ones withdrawn, unchanged ones untouched).
    pub fn sync_static(&mut self, times: &mut RouteTimes, program: &Program, now: WallTime) {
        let pref = self.preference();
        let name = self.cfg.name.clone();
        let ProtoImpl::Static(s) = &mut self.imp else { return };
        let Some(h) = &s.handle else { return };
        let birdconf::ast::ProtoSpecific::Static(sc) = &self.cfg.specific else { return };
        let src = RouteSrc::new(&s.source, 0);
        let mut want: HashMap<Net, AttrSet> = HashMap::new();
        let mut order: Vec<Net> = Vec::new();
        s.inactive.clear();
        for r in &sc.routes {
            let attrs = static_attrs(r).and_then(|a| match &r.attrs {
                None => Ok(a),
                Some(stmts) => {
                    let block = RouteFilter::route_block(stmts, program).map_err(|e| e.message)?;
                    match block.run(r.net, &a, pref, &name) {
                        Some(acc) => Ok(acc.attrs.unwrap_or(a)),
                        None => Err("rejected by its attribute block".into()),
                    }
                }
            });
            match attrs {
                Ok(a) => {
                    if want.insert(r.net, a).is_none() {
                        order.push(r.net);
                    }
                }
                Err(e) => {
                    tracing::warn!("{name}: route {} not installed: {e}", r.net);
                    s.inactive.push((r.net, e));
                }
            }
        }
        let gone: Vec<Net> = s.installed.keys().filter(|n| !want.contains_key(n)).copied().collect();
        for net in gone {
            h.withdraw(net, &src);
            s.installed.remove(&net);
            s.configured.remove(&net);
            times.remove(&(s.source.id(), net));
            self.counters.imp_withdraw_received += 1;
            self.counters.imp_withdraw_accepted += 1;
        }
        for net in order {
            let attrs =
                want.remove(&net).unwrap_or_else(|| AttrSet::new(RouteSource::Static, Dest::Blackhole));
            if s.configured.get(&net).is_some_and(|old| *old == attrs) && s.installed.contains_key(&net) {
                continue;
            }
            s.configured.insert(net, attrs.clone());
            self.counters.imp_received += 1;
            let Some(acc) = self.import.run(net, &attrs, pref, &name) else {
                self.counters.imp_filtered += 1;
                if s.installed.remove(&net).is_some() {
                    h.withdraw(net, &src);
                    times.remove(&(s.source.id(), net));
                }
                continue;
            };
            let route = Route::new(src.clone(), acc.attrs.unwrap_or(attrs).intern(), acc.pref);
            h.import(net, route.clone());
            self.counters.imp_accepted += 1;
            s.installed.insert(net, route);
            times.insert((s.source.id(), net), now);
        }
    }

    /// Pipe: one synchronisation round in both directions. Returns whether a table changed.
    pub fn sync_pipe(&mut self) -> bool {
        let name = self.cfg.name.clone();
        let ProtoImpl::Pipe(p) = &mut self.imp else { return false };
        let (Some(fwd), Some(rev)) = (&mut p.fwd, &mut p.rev) else { return false };
        let mut changed = false;
        let fwd_src_table = rev.handle.table().clone();
        let rev_src_table = fwd.handle.table().clone();
        let (fwd_skip, rev_skip) = (rev.handle.id(), fwd.handle.id());
        changed |= sync_dir(&name, &fwd_src_table, fwd, fwd_skip, &self.export, &mut self.counters, true);
        changed |= sync_dir(&name, &rev_src_table, rev, rev_skip, &self.import, &mut self.counters, false);
        changed
    }
}

fn sync_dir(
    _name: &str,
    src: &Table,
    dir: &mut PipeDir,
    skip: birdtable::ImporterId,
    filter: &RouteFilter,
    c: &mut Counters,
    export: bool,
) -> bool {
    let mut want: HashMap<(Net, (u64, u32)), Route> = HashMap::new();
    let mut order: Vec<(Net, (u64, u32))> = Vec::new();
    let mut rejected: HashMap<(Net, (u64, u32)), Route> = HashMap::new();
    let mut modified: HashMap<(Net, (u64, u32)), Route> = HashMap::new();
    src.walk(|_, l| {
        let net = l.net();
        for r in l.routes() {
            if r.sender() == skip {
                continue;
            }
            let key = (net, r.src().key());
            if dir.exported.get(&key).is_some_and(|old| old.same_as(r)) {
                want.insert(key, r.clone());
                order.push(key);
                continue;
            }
            if dir.rejected.get(&key).is_some_and(|old| old.same_as(r)) {
                rejected.insert(key, r.clone());
                continue;
            }
            if export {
                c.exp_received += 1;
            } else {
                c.imp_received += 1;
            }
            match filter.run(net, r.attrs(), r.pref(), r.src().source().name()) {
                Some(acc) => {
                    if acc.attrs.is_some() || acc.pref != r.pref() {
                        let attrs = acc.attrs.map(AttrSet::intern).unwrap_or_else(|| r.attrs().clone());
                        modified.insert(key, Route::new(r.src().clone(), attrs, acc.pref));
                    }
                    want.insert(key, r.clone());
                    order.push(key);
                }
                None => {
                    rejected.insert(key, r.clone());
                    if export {
                        c.exp_filtered += 1;
                    } else {
                        c.imp_filtered += 1;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    });
    dir.rejected = rejected;
    let mut changed = false;
    let gone: Vec<_> = dir.exported.keys().filter(|k| !want.contains_key(k)).copied().collect();
    for k in gone {
        if let Some(r) = dir.exported.remove(&k) {
            dir.handle.withdraw(k.0, r.src());
            if export {
                c.exp_withdraws += 1;
            } else {
                c.imp_withdraw_received += 1;
                c.imp_withdraw_accepted += 1;
            }
            changed = true;
        }
    }
    for k in order {
        let r = &want[&k];
        if dir.exported.get(&k).is_some_and(|old| old.same_as(r)) {
            continue;
        }
        let out =
            modified.remove(&k).unwrap_or_else(|| Route::new(r.src().clone(), r.attrs().clone(), r.pref()));
        dir.handle.import(k.0, out);
        if export {
            c.exp_accepted += 1;
        } else {
            c.imp_accepted += 1;
        }
        dir.exported.insert(k, r.clone());
        changed = true;
    }
    changed
}

/// A new, stopped protocol instance for a checked configuration.
pub fn new_proto(program: &Program, p: &ProtocolConfig, fingerprint: String, now: WallTime) -> ProtoRt {
    let ch = p.channels.first();
    let import =
        ch.and_then(|c| RouteFilter::from_spec(&c.import, program).ok()).unwrap_or_else(RouteFilter::all);
    let export =
        ch.and_then(|c| RouteFilter::from_spec(&c.export, program).ok()).unwrap_or_else(RouteFilter::none);
    let imp = match p.kind {
        birdconf::ast::ProtoKind::Pipe => ProtoImpl::Pipe(PipeRt::default()),
        _ => ProtoImpl::Static(StaticRt {
            source: Source::new(Arc::<str>::from(p.name.as_str()), Arc::new(StaticClass)),
            handle: None,
            installed: HashMap::new(),
            inactive: Vec::new(),
            configured: HashMap::new(),
        }),
    };
    ProtoRt {
        cfg: p.clone(),
        fingerprint,
        state: PState::Down,
        since: now,
        admin_disabled: false,
        message: None,
        import,
        export,
        counters: Counters::default(),
        imp,
    }
}

/// Whether `gw` is the first gateway of `d` (`from` is shown only when it differs).
pub fn first_gateway(d: &Dest) -> Option<IpAddr> {
    match d {
        Dest::Unicast(h) => h.first().and_then(|h| h.gw),
        _ => None,
    }
}
