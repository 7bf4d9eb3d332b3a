//! Glue between the configuration and birdproto: turns `protocol static|pipe` blocks into
//! [`ProtoConfig`]s, adapts birdfilter filters to birdproto's [`RouteFilter`] trait, and resolves static
//! next hops.
//!
//! ```text
//!   birdconf ProtocolConfig ──proto_config()──► birdproto ProtoConfig ──ProtoRegistry::spawn──► own loop
//!        channel import/export ──Filt (birdfilter)──► ChannelConfig filters
//!        static routes ──► StaticConfig { routes, resolver: ProcResolver (procfs) }
//!        pipe ──► PipeConfig::proto_config(table, peer, import, export)
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

/// Builds the birdproto configuration of a checked protocol.
pub fn proto_config(
    p: &ProtocolConfig,
    program: &Program,
    tables: &HashMap<String, Table>,
) -> Result<ProtoConfig, ConfigError> {
    let table =
        |name: &str| tables.get(name).cloned().ok_or_else(|| p.loc.error(format!("Table {name} not found")));
    let mut cfg = match (&p.kind, &p.specific) {
        (ProtoKind::Static, ProtoSpecific::Static(s)) => {
            let ch = p.channels.first().ok_or_else(|| p.loc.error("Channel not specified"))?;
            let routes = static_routes(s, program)?;
            let kind = Arc::new(StaticConfig { routes, resolver: Arc::new(ProcResolver) });
            let name = match ch.net_type {
                NetType::Ipv6 => "ipv6",
                _ => "ipv4",
            };
            let pref = u16::try_from(ch.preference.unwrap_or(200)).unwrap_or(u16::MAX);
            let c = ChannelConfig {
                import_filter: filter(&ch.import, program)?,
                export_filter: filter(&ch.export, program)?,
                ..ChannelConfig::new(name, &table(&ch.table)?, pref)
            };
            ProtoConfig::new(p.name.as_str(), kind, vec![c])
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
        _ => {
            return Err(p.loc.error(format!(
                "Protocol {} ({}) is not available in this build (only static and pipe are)",
                p.kind.keyword(),
                p.name
            )))
        }
    };
    cfg.disabled = p.disabled;
    if let Some(t) = p.restart_time_limit {
        cfg.restart_time_limit = t;
    }
    Ok(cfg)
}
