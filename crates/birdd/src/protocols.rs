//! Glue between the configuration and birdproto: turns `protocol static|pipe|kernel|device|direct` blocks into
//! [`ProtoConfig`]s, adapts birdfilter filters to birdproto's [`RouteFilter`] trait, and resolves static
//! next hops.
//!
//! ```text
//!   birdconf ProtocolConfig ──proto_config()──► birdproto ProtoConfig ──ProtoRegistry::spawn──► own loop
//!        channel import/export ──Filt (birdfilter)──► ChannelConfig filters
//!        static routes ──► StaticConfig { routes, resolver: HubResolver (IfaceHub, else procfs) }
//!        pipe ──► PipeConfig::proto_config(table, peer, import, export)
//!        kernel / device / direct ──► birdkrt configs over the daemon's one [`Krt`] (netlink + IfaceHub)
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use birdconf::ast::{ProtoKind, ProtoSpecific, ProtocolConfig};
use birdconf::ConfigError;
use birdfilter::Program;
use birdnet::NetType;
use birdproto::filter::{FilterRoute, RouteFilter as ProtoFilter, Verdict};
use birdproto::pipe::{PipeConfig, DEFAULT_MAX_GENERATION};
use birdproto::static_proto::{Resolver, StaticConfig, StaticDest, StaticHop, StaticRoute};
use birdproto::{ChannelConfig, ProtoConfig};
use birdtable::attrs::Iface;
use birdtable::Table;

use birdkrt::sys::Backend;
use birdkrt::{IfaceHub, IfacePatterns};

use crate::filter::RouteFilter;
use crate::netif;

/// A birdfilter filter as birdproto sees it.
#[derive(Debug)]
pub struct Filt(pub RouteFilter);

impl ProtoFilter for Filt {
    fn run(&self, route: &mut FilterRoute<'_>) -> Verdict {
        let net = route.net();
        let proto = route.proto().to_owned();
        match self.0.run(net, route.attrs(), route.pref, &proto) {
            Some(acc) => {
                if let Some(a) = acc.attrs {
                    *route.attrs_mut() = a;
                }
                route.pref = acc.pref;
                Verdict::Accept
            }
            None => Verdict::Reject,
        }
    }

    fn name(&self) -> &str {
        self.0.name()
    }

    fn rejects_all(&self) -> bool {
        self.0.is_none()
    }

    fn same_as(&self, other: &dyn ProtoFilter) -> bool {
        // birdproto hands over only the trait object, so compare names here; an edited filter body under
        // the same name changes the protocol's fingerprint, and the runtime then reloads the protocol.
        self.name() == other.name()
    }
}

/// Next-hop resolution from procfs (until the device protocol exists): a named interface is taken as
/// given, a gateway must be on a connected network.
#[derive(Debug, Default)]
pub struct ProcResolver;

impl Resolver for ProcResolver {
    fn iface(&self, name: &str) -> Option<Iface> {
        Some(Iface::new(name, netif::ifindex(name)))
    }

    fn neighbor(&self, gw: IpAddr, iface: Option<&Iface>, _onlink: bool) -> Option<Iface> {
        if let Some(i) = iface {
            return Some(i.clone());
        }
        netif::resolve_gateway(gw).map(|n| Iface::new(n.as_str(), netif::ifindex(&n)))
    }
}

/// The daemon's kernel interface: one netlink backend and one interface list, started when the first
/// configuration with a kernel, device or direct protocol is applied.
#[derive(Clone)]
pub struct Krt {
    /// The netlink backend (shared by every kernel protocol and the hub).
    pub backend: Arc<dyn Backend>,
    /// The interface list (kept by the device protocol).
    pub hub: IfaceHub,
}

impl std::fmt::Debug for Krt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Krt").field("hub", &self.hub).finish_non_exhaustive()
    }
}

impl Krt {
    /// Opens the netlink sockets in the current network namespace.
    ///
    /// # Errors
    /// When the netlink backend cannot be started.
    pub fn start(rx_buffer: Option<u32>) -> std::io::Result<Krt> {
        let nl = birdkrt::sys::netlink::Netlink::start(rx_buffer.and_then(|b| usize::try_from(b).ok()))?;
        let backend: Arc<dyn Backend> = nl;
        Ok(Krt { hub: IfaceHub::new(Arc::clone(&backend)), backend })
    }
}

/// Whether a protocol needs the kernel interface ([`Krt`]).
pub fn needs_krt(kind: ProtoKind) -> bool {
    matches!(kind, ProtoKind::Kernel | ProtoKind::Device | ProtoKind::Direct)
}

fn prefix_contains(ip: IpAddr, len: u8, gw: IpAddr) -> bool {
    match (ip, gw) {
        (IpAddr::V4(a), IpAddr::V4(g)) => {
            let m = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len.min(32))) };
            u32::from(a) & m == u32::from(g) & m
        }
        (IpAddr::V6(a), IpAddr::V6(g)) => {
            let m = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len.min(128))) };
            u128::from(a) & m == u128::from(g) & m
        }
        _ => false,
    }
}

/// Next-hop resolution from the interface list when a device protocol keeps it, else from procfs.
#[derive(Debug)]
pub struct HubResolver(pub Option<IfaceHub>);

impl HubResolver {
    fn hub(&self) -> Option<&IfaceHub> {
        self.0.as_ref().filter(|h| h.is_active() && !h.is_empty())
    }
}

impl Resolver for HubResolver {
    fn iface(&self, name: &str) -> Option<Iface> {
        match self.hub() {
            Some(h) => match h.link(name) {
                Some(l) => Some(Iface::new(name, l.index)),
                None => ProcResolver.iface(name),
            },
            None => ProcResolver.iface(name),
        }
    }

    fn neighbor(&self, gw: IpAddr, iface: Option<&Iface>, onlink: bool) -> Option<Iface> {
        if let Some(i) = iface {
            return Some(i.clone());
        }
        if let Some(h) = self.hub() {
            let found = h.interfaces().into_iter().find(|i| {
                i.up && i.addrs.iter().any(|a| {
                    a.peer.map_or_else(|| prefix_contains(a.ip, a.len, gw), |p| p == gw) && a.ip != gw
                })
            });
            if let Some(i) = found {
                return Some(Iface::new(i.name.as_str(), i.index));
            }
        }
        ProcResolver.neighbor(gw, None, onlink)
    }

    fn iface_addr(&self, iface: &Iface, v6: bool) -> Option<IpAddr> {
        if let Some(h) = self.hub() {
            let i =
                h.interfaces().into_iter().find(|i| i.index == iface.index() || i.name == iface.name())?;
            return if v6 { i.primary6 } else { i.primary4 }.map(|(a, _)| a);
        }
        if v6 {
            netif::global_ipv6(iface.name())
        } else {
            None
        }
    }
}

fn patterns(pats: &[birdconf::ast::IfacePattern], p: &ProtocolConfig) -> Result<IfacePatterns, ConfigError> {
    let mut v = Vec::new();
    for pat in pats {
        match pat {
            birdconf::ast::IfacePattern::Name { glob, negated } => v.push((glob.clone(), *negated)),
            birdconf::ast::IfacePattern::Prefix { .. } => {
                return Err(p.loc.error("Interface prefix patterns are not available in this build"))
            }
        }
    }
    Ok(IfacePatterns(v))
}

pub(crate) fn channel(
    ch: &birdconf::ast::ChannelConfig,
    default_pref: u32,
    program: &Program,
    table: &Table,
) -> Result<ChannelConfig, ConfigError> {
    let name = match ch.net_type {
        NetType::Ipv6 => "ipv6",
        _ => "ipv4",
    };
    let pref = u16::try_from(ch.preference.unwrap_or(default_pref)).unwrap_or(u16::MAX);
    let limit = |l: &Option<birdconf::ast::Limit>| {
        l.map(|l| {
            birdproto::limit::Limit::new(
                l.limit,
                match l.action {
                    birdconf::ast::LimitAction::Warn => birdproto::limit::LimitAction::Warn,
                    birdconf::ast::LimitAction::Block => birdproto::limit::LimitAction::Block,
                    birdconf::ast::LimitAction::Restart => birdproto::limit::LimitAction::Restart,
                    birdconf::ast::LimitAction::Disable => birdproto::limit::LimitAction::Disable,
                },
            )
        })
    };
    Ok(ChannelConfig {
        import_filter: filter(&ch.import, program)?,
        export_filter: filter(&ch.export, program)?,
        receive_limit: limit(&ch.receive_limit),
        import_limit: limit(&ch.import_limit),
        export_limit: limit(&ch.export_limit),
        keep_filtered: ch.import_keep_filtered,
        ..ChannelConfig::new(name, table, pref)
    })
}

fn filter(spec: &birdconf::ast::FilterSpec, program: &Program) -> Result<Arc<dyn ProtoFilter>, ConfigError> {
    Ok(Arc::new(Filt(RouteFilter::from_spec(spec, program)?)))
}

/// The birdproto form of a `protocol static` block's routes.
pub fn static_routes(
    s: &birdconf::ast::StaticConfig,
    program: &Program,
) -> Result<Vec<StaticRoute>, ConfigError> {
    let mut routes = Vec::new();
    for r in &s.routes {
        let dest = match &r.dest {
            birdconf::ast::StaticDest::Blackhole => StaticDest::Blackhole,
            birdconf::ast::StaticDest::Unreachable => StaticDest::Unreachable,
            birdconf::ast::StaticDest::Prohibit => StaticDest::Prohibit,
            birdconf::ast::StaticDest::Via(hops) => StaticDest::Via(
                hops.iter()
                    .map(|h| StaticHop {
                        gw: h.gw,
                        iface: h.iface.clone(),
                        weight: u16::try_from(h.weight.unwrap_or(1).saturating_sub(1)).unwrap_or(0),
                        onlink: h.onlink,
                    })
                    .collect(),
            ),
            birdconf::ast::StaticDest::Recursive(_) => {
                return Err(r.loc.error("Recursive static routes are not available in this build"))
            }
        };
        let mut sr = StaticRoute::new(r.net, dest);
        if let Some(stmts) = &r.attrs {
            sr.attrs = Some(Arc::new(Filt(RouteFilter::route_block(stmts, program)?)));
        }
        routes.push(sr);
    }
    Ok(routes)
}

/// The birdproto debug flags of a `debug { ... }` setting.
pub fn debug_flags(f: &birdconf::ast::DebugFlags) -> u32 {
    use birdproto::debug as d;
    [
        (f.states, d::STATES),
        (f.routes, d::ROUTES),
        (f.filters, d::FILTERS),
        (f.interfaces, d::INTERFACES),
        (f.events, d::EVENTS),
        (f.packets, d::PACKETS),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .fold(0, |a, (_, b)| a | b)
}

/// Refuses BGP options this build does not implement, naming the protocol.
pub fn check_bgp(p: &ProtocolConfig, b: &birdconf::ast::BgpConfig) -> Result<(), ConfigError> {
    crate::bgp::check(p, b)
}

/// Builds the birdproto configuration of a checked protocol.
pub fn proto_config(
    p: &ProtocolConfig,
    program: &Program,
    tables: &HashMap<String, Table>,
    krt: Option<&Krt>,
    router_id: Option<u32>,
    dynq: &Arc<crate::dynamic::DynQueue>,
) -> Result<ProtoConfig, ConfigError> {
    let table =
        |name: &str| tables.get(name).cloned().ok_or_else(|| p.loc.error(format!("Table {name} not found")));
    let mut cfg = match (&p.kind, &p.specific) {
        (ProtoKind::Static, ProtoSpecific::Static(s)) => {
            let ch = p.channels.first().ok_or_else(|| p.loc.error("Channel not specified"))?;
            let routes = static_routes(s, program)?;
            let resolver = Arc::new(HubResolver(krt.map(|k| k.hub.clone())));
            let kind = Arc::new(StaticConfig { routes, resolver });
            let c = channel(ch, 200, program, &table(&ch.table)?)?;
            ProtoConfig::new(p.name.as_str(), kind, vec![c])
        }
        (ProtoKind::Device | ProtoKind::Direct | ProtoKind::Kernel, _) if krt.is_none() => {
            return Err(p.loc.error(format!("Protocol {}: netlink is not available", p.name)))
        }
        (ProtoKind::Device, ProtoSpecific::Device(dc)) => {
            let hub = krt.map(|k| k.hub.clone()).ok_or_else(|| p.loc.error("netlink is not available"))?;
            let mut kind = birdkrt::DeviceConfig::new(hub);
            if let Some(t) = dc.scan_time {
                kind.scan_time = std::time::Duration::from_secs(u64::from(t));
            }
            kind.router_id = router_id.map(std::net::Ipv4Addr::from);
            ProtoConfig::new(p.name.as_str(), Arc::new(kind), Vec::new())
        }
        (ProtoKind::Direct, ProtoSpecific::Direct(dc)) => {
            let hub = krt.map(|k| k.hub.clone()).ok_or_else(|| p.loc.error("netlink is not available"))?;
            let kind = birdkrt::DirectConfig { hub, interfaces: patterns(&dc.interfaces, p)? };
            let mut chans = Vec::new();
            for ch in &p.channels {
                chans.push(channel(ch, 240, program, &table(&ch.table)?)?);
            }
            ProtoConfig::new(p.name.as_str(), Arc::new(kind), chans)
        }
        (ProtoKind::Kernel, ProtoSpecific::Kernel(kc)) => {
            let k = krt.ok_or_else(|| p.loc.error("netlink is not available"))?;
            let ch = p.channels.first().ok_or_else(|| p.loc.error("Channel not specified"))?;
            let mut kind = birdkrt::KernelConfig::new(Arc::clone(&k.backend));
            if let Some(t) = kc.kernel_table {
                kind.table = t;
            }
            if let Some(m) = kc.metric {
                kind.metric = m;
            }
            kind.learn = match kc.learn {
                birdconf::ast::Learn::Off => birdkrt::Learn::Off,
                birdconf::ast::Learn::On => birdkrt::Learn::On,
                birdconf::ast::Learn::All => birdkrt::Learn::All,
            };
            if let Some(t) = kc.scan_time {
                kind.scan_time = std::time::Duration::from_secs(u64::from(t));
            }
            kind.persist = kc.persist;
            kind.netlink_rx_buffer = kc.netlink_rx_buffer;
            kind.ifaces = Some(k.hub.clone());
            let mut c = channel(ch, 10, program, &table(&ch.table)?)?;
            if let Some(limit) = kc.merge_paths {
                kind.merge_paths = Some(limit.unwrap_or(0));
                c = c.merge_paths(limit.and_then(|l| usize::try_from(l).ok()));
            }
            ProtoConfig::new(p.name.as_str(), Arc::new(kind), vec![c])
        }
        (ProtoKind::Pipe, ProtoSpecific::Pipe(pc)) => {
            let ch = p.channels.first().ok_or_else(|| p.loc.error("Primary routing table not specified"))?;
            let peer = pc
                .peer_table
                .as_deref()
                .ok_or_else(|| p.loc.error("Secondary routing table not specified"))?;
            PipeConfig::proto_config(
                &p.name,
                &table(&ch.table)?,
                &table(peer)?,
                filter(&ch.import, program)?,
                filter(&ch.export, program)?,
                DEFAULT_MAX_GENERATION,
            )
        }
        (ProtoKind::Bgp, ProtoSpecific::Bgp(b)) => {
            crate::bgp::proto_config(p, b, program, tables, krt, router_id, dynq)?
        }
        _ => return Err(p.loc.error(format!("Protocol {}: inconsistent configuration", p.name))),
    };
    cfg.disabled = p.disabled;
    if let Some(t) = p.restart_time_limit {
        cfg.restart_time_limit = t;
    }
    Ok(cfg)
}
